/**
 * Emergency plan and drill I/O: registering a plan, publishing a plan
 * version, and the Temporal calls a plan's cases make (the three-year
 * revision clock, the next revision, the annual programme), through the one
 * client-side module platform/cases.ts.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { eq } from 'drizzle-orm';
import { withAuditedWrite } from '../db/audit';
import type { Database } from '../db/client';
import { emergencyPlans, planVersions } from '../db/schema';
import { revisionDueAt, revisionReminderAt, type PlanTimings, type PlanType } from '../domain/drills';
import { parseDuration } from '../domain/durations';
import {
  ensureDrillProgramme,
  openAnnualDrills,
  startPlanRevisionCase,
  startPlanRevisionClock,
  type CaseStarter,
} from '../platform/cases';
import { activityKey, whileHeartbeating } from './context';

export function createDrillActivities(deps: {
  db: Database;
  temporal?: Client;
  taskQueue?: string;
  clock?: () => Date;
}) {
  const { db, clock = () => new Date() } = deps;
  const starter = (): CaseStarter => {
    if (!deps.temporal || !deps.taskQueue) throw new Error('drill activities need a Temporal client and task queue');
    return { db, temporal: deps.temporal, taskQueue: deps.taskQueue };
  };
  return {
    /**
     * Registers a plan in the register: the first step of its first
     * revision, so registering and opening the revision are one start.
     * Idempotent on the plan id: a retry whose first attempt committed finds
     * its audit event and writes nothing; a plan already in the register
     * with the same owner is left as it is. The API refuses a plan id that is
     * already registered before it starts anything; one registered to
     * someone else meanwhile is a business failure, never retried.
     */
    async registerPlan(input: {
      planId: string;
      title: string;
      type: PlanType;
      ownerId: string;
      timings: PlanTimings;
      registeredBy: string;
      revisionCaseId: string;
    }): Promise<void> {
      await withAuditedWrite(
        db,
        {
          idempotencyKey: `plan:${input.planId}:registered`,
          actorId: input.registeredBy,
          action: 'plan.registered',
          caseId: input.revisionCaseId,
          occurredAt: clock(),
          payload: { planId: input.planId, type: input.type, ownerId: input.ownerId },
        },
        async (tx) => {
          const inserted = await tx
            .insert(emergencyPlans)
            .values({
              id: input.planId,
              title: input.title,
              type: input.type,
              ownerId: input.ownerId,
              timings: input.timings,
            })
            .onConflictDoNothing()
            .returning({ id: emergencyPlans.id });
          if (inserted.length) return;
          const [plan] = await tx.select().from(emergencyPlans).where(eq(emergencyPlans.id, input.planId));
          if (plan?.ownerId !== input.ownerId) {
            throw ApplicationFailure.nonRetryable(
              `emergency plan ${input.planId} is already registered to ${plan?.ownerId}`,
              'PLAN_EXISTS',
            );
          }
        },
      );
    },

    /**
     * Publishes an approved version; the revision clock restarts from its
     * approval, due after the policy's interval (the revision's), or the
     * plan's own where the deployment allowed per-case timings.
     */
    async publishPlanVersion(input: {
      planId: string;
      version: number;
      summary: string;
      evidenceId: string;
      sha256: string;
      approvedBy: string[];
      revisionCaseId: string;
      /** The policy's `plan.revisionIntervalYears`; absent from revisions recorded before policies (3 years). */
      revisionIntervalYears?: number;
    }): Promise<{ revisionDueAt: string; remindAt: string }> {
      const now = clock();
      const [plan] = await db.select().from(emergencyPlans).where(eq(emergencyPlans.id, input.planId));
      if (!plan) throw ApplicationFailure.nonRetryable(`no emergency plan ${input.planId}`, 'PLAN_NOT_FOUND');
      const due = plan.timings.revisionInterval
        ? new Date(now.getTime() + parseDuration(plan.timings.revisionInterval))
        : revisionDueAt(now, input.revisionIntervalYears);
      const remind = revisionReminderAt(due, now, parseDuration(plan.timings.revisionRemindBefore ?? '90d'));
      await withAuditedWrite(
        db,
        {
          idempotencyKey: activityKey(),
          actorId: input.approvedBy.at(-1) ?? 'system',
          action: 'plan.version_published',
          caseId: input.revisionCaseId,
          occurredAt: now,
          evidenceHashes: [input.sha256],
          payload: {
            planId: input.planId,
            version: input.version,
            revisionDueAt: due.toISOString(),
            ...(input.revisionIntervalYears ? { revisionIntervalYears: input.revisionIntervalYears } : {}),
          },
        },
        async (tx) => {
          await tx
            .insert(planVersions)
            .values({
              planId: input.planId,
              version: input.version,
              summary: input.summary,
              documentEvidenceId: input.evidenceId,
              documentSha256: input.sha256,
              approvedBy: input.approvedBy,
              approvedAt: now,
              revisionCaseId: input.revisionCaseId,
            })
            .onConflictDoNothing();
          await tx
            .update(emergencyPlans)
            .set({
              status: 'active',
              currentVersion: input.version,
              lastApprovedAt: now,
              revisionDueAt: due,
              updatedAt: now,
            })
            .where(eq(emergencyPlans.id, input.planId));
        },
      );
      const { temporal, taskQueue } = starter();
      await whileHeartbeating(
        (async () => {
          await startPlanRevisionClock(temporal, taskQueue, {
            planId: input.planId,
            planTitle: plan.title,
            ownerId: plan.ownerId,
            dueAt: due.toISOString(),
            remindAt: remind.toISOString(),
          });
          await ensureDrillProgramme(temporal, taskQueue);
        })(),
      );
      return { revisionDueAt: due.toISOString(), remindAt: remind.toISOString() };
    },

    async openPlanRevision(input: { planId: string; reason: string; initiatorId: string; sourceCaseId?: string }) {
      const outcome = await whileHeartbeating(startPlanRevisionCase(starter(), input));
      return outcome.started
        ? { started: true, caseId: outcome.caseId }
        : { started: false, caseId: outcome.caseId, reason: outcome.message };
    },

    async openAnnualDrills(input: { year: number; initiatorId?: string }) {
      return whileHeartbeating(
        openAnnualDrills(starter(), { year: input.year, initiatorId: input.initiatorId ?? 'system' }),
      );
    },
  };
}
