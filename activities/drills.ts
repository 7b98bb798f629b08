/**
 * Emergency plan and drill I/O: publishing a plan version, the three-year
 * revision clock, opening revision and drill cases (shared by the API, the
 * drill summary and the annual programme), and the programme's Schedule.
 */
import { activityKey } from './context';
import { ScheduleAlreadyRunning, type Client } from '@temporalio/client';
import { eq } from 'drizzle-orm';
import { withAuditedWrite } from '../db/audit';
import { startCaseWorkflow } from './startCase';
import type { Database } from '../db/client';
import { emergencyPlans, planVersions } from '../db/schema';
import { drillDueAt, nextPlanVersion, revisionDueAt, revisionReminderAt } from '../domain/drills';
import { parseDuration } from '../domain/durations';
import type { drillWorkflow, DrillInput } from '../workflows/drill';
import type { planRevisionClockWorkflow, planRevisionWorkflow, PlanRevisionInput } from '../workflows/planRevision';
import { GovProcess } from '../workflows/searchAttributes';

export const planRevisionId = (planId: string, version: number) => `plan-revision:${planId}:v${version}`;
export const drillId = (planId: string, year: number) => `drill:${planId}:${year}`;
export const DRILL_PROGRAMME_SCHEDULE = 'drill-programme';

interface StartDeps {
  db: Database;
  temporal: Client;
  taskQueue: string;
}

export type StartOutcome =
  | { started: true; caseId: string }
  | { started: false; caseId: string; reason: 'already_exists' | 'not_found' | 'not_active'; message: string };

/** Opens the next revision of a plan (draft → review → approval → published), once. */
export async function startPlanRevisionCase(
  deps: StartDeps,
  params: {
    planId: string;
    reason: string;
    initiatorId: string;
    sourceCaseId?: string;
    timings?: PlanRevisionInput['timings'];
  },
): Promise<StartOutcome> {
  const [plan] = await deps.db.select().from(emergencyPlans).where(eq(emergencyPlans.id, params.planId));
  if (!plan) return { started: false, caseId: '', reason: 'not_found', message: `no emergency plan ${params.planId}` };
  const version = nextPlanVersion(plan.currentVersion);
  const caseId = planRevisionId(plan.id, version);
  const started = await startCaseWorkflow<typeof planRevisionWorkflow>(deps.temporal, {
    workflowType: 'planRevisionWorkflow',
    caseId,
    taskQueue: deps.taskQueue,
    process: 'plan_revision',
    stage: 'draft',
    args: [
      {
        caseId,
        planId: plan.id,
        planTitle: plan.title,
        version,
        ownerId: plan.ownerId,
        initiatorId: params.initiatorId,
        reason: params.reason,
        sourceCaseId: params.sourceCaseId,
        timings: params.timings,
      },
    ],
  });
  if (!started) {
    return {
      started: false,
      caseId,
      reason: 'already_exists',
      message: `revision v${version} of ${plan.id} is already open`,
    };
  }
  return { started: true, caseId };
}

/** Opens a plan's drill for a year, once. Only active plans are drilled. */
export async function startDrillCase(
  deps: StartDeps,
  params: { planId: string; year: number; initiatorId: string; timings?: DrillInput['timings'] },
): Promise<StartOutcome> {
  const caseId = drillId(params.planId, params.year);
  const [plan] = await deps.db.select().from(emergencyPlans).where(eq(emergencyPlans.id, params.planId));
  if (!plan) return { started: false, caseId, reason: 'not_found', message: `no emergency plan ${params.planId}` };
  if (plan.status !== 'active') {
    return {
      started: false,
      caseId,
      reason: 'not_active',
      message: `plan ${plan.id} is ${plan.status}; only active plans are drilled`,
    };
  }
  const started = await startCaseWorkflow<typeof drillWorkflow>(deps.temporal, {
    workflowType: 'drillWorkflow',
    caseId,
    taskQueue: deps.taskQueue,
    process: 'drill',
    stage: 'planning',
    args: [
      {
        caseId,
        planId: plan.id,
        planTitle: plan.title,
        year: params.year,
        ownerId: plan.ownerId,
        initiatorId: params.initiatorId,
        dueAt: params.timings?.dueIn
          ? new Date(Date.now() + parseDuration(params.timings.dueIn)).toISOString()
          : drillDueAt(params.year).toISOString(),
        timings: params.timings,
      },
    ],
  });
  if (!started) {
    return {
      started: false,
      caseId,
      reason: 'already_exists',
      message: `the ${params.year} drill of ${plan.id} already exists`,
    };
  }
  return { started: true, caseId };
}

/** The annual programme: a Schedule that opens every active plan's drill each January. */
export async function ensureDrillProgramme(temporal: Client, taskQueue: string): Promise<void> {
  try {
    await temporal.schedule.create({
      scheduleId: DRILL_PROGRAMME_SCHEDULE,
      spec: { calendars: [{ month: 'JANUARY', dayOfMonth: 5, hour: 2 }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'drillProgrammeWorkflow',
        args: [],
        taskQueue,
        workflowId: 'drill-programme-run',
      },
      policies: { overlap: 'SKIP', catchupWindow: '7 days' },
      state: { note: 'opens each active emergency plan’s drill for the year (DOMAIN.md §4)' },
    });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
}

export async function openAnnualDrills(
  deps: StartDeps,
  params: { year: number; initiatorId: string; timings?: DrillInput['timings'] },
) {
  const plans = await deps.db.select({ id: emergencyPlans.id, status: emergencyPlans.status }).from(emergencyPlans);
  const started: Array<{ planId: string; caseId: string }> = [];
  const skipped: Array<{ planId: string; caseId: string; reason: string; message: string }> = [];
  for (const plan of plans) {
    const outcome = await startDrillCase(deps, {
      planId: plan.id,
      year: params.year,
      initiatorId: params.initiatorId,
      timings: params.timings,
    });
    if (outcome.started) started.push({ planId: plan.id, caseId: outcome.caseId });
    else skipped.push({ planId: plan.id, caseId: outcome.caseId, reason: outcome.reason, message: outcome.message });
  }
  return { year: params.year, started, skipped };
}

export function createDrillActivities(deps: {
  db: Database;
  temporal?: Client;
  taskQueue?: string;
  clock?: () => Date;
}) {
  const { db, clock = () => new Date() } = deps;
  const startDeps = (): StartDeps => {
    if (!deps.temporal || !deps.taskQueue) throw new Error('drill activities need a Temporal client and task queue');
    return { db, temporal: deps.temporal, taskQueue: deps.taskQueue };
  };
  return {
    /** Publishes an approved version; the revision clock restarts from its approval. */
    async publishPlanVersion(input: {
      planId: string;
      version: number;
      summary: string;
      evidenceId: string;
      sha256: string;
      approvedBy: string[];
      revisionCaseId: string;
    }): Promise<{ revisionDueAt: string; remindAt: string }> {
      const now = clock();
      const [plan] = await db.select().from(emergencyPlans).where(eq(emergencyPlans.id, input.planId));
      if (!plan) throw new Error(`no emergency plan ${input.planId}`);
      const due = plan.timings.revisionInterval
        ? new Date(now.getTime() + parseDuration(plan.timings.revisionInterval))
        : revisionDueAt(now);
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
          payload: { planId: input.planId, version: input.version, revisionDueAt: due.toISOString() },
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
      const { temporal, taskQueue } = startDeps();
      await temporal.workflow.start<typeof planRevisionClockWorkflow>('planRevisionClockWorkflow', {
        taskQueue,
        workflowId: `plan-revision-clock:${input.planId}`,
        // A newer version restarts the clock from its own approval.
        workflowIdConflictPolicy: 'TERMINATE_EXISTING',
        typedSearchAttributes: [{ key: GovProcess, value: 'plan_revision_clock' }],
        args: [
          {
            planId: input.planId,
            planTitle: plan.title,
            ownerId: plan.ownerId,
            dueAt: due.toISOString(),
            remindAt: remind.toISOString(),
          },
        ],
      });
      await ensureDrillProgramme(temporal, taskQueue);
      return { revisionDueAt: due.toISOString(), remindAt: remind.toISOString() };
    },

    async openPlanRevision(input: { planId: string; reason: string; initiatorId: string; sourceCaseId?: string }) {
      const outcome = await startPlanRevisionCase(startDeps(), input);
      return outcome.started
        ? { started: true, caseId: outcome.caseId }
        : { started: false, caseId: outcome.caseId, reason: outcome.message };
    },

    async openAnnualDrills(input: { year: number }) {
      return openAnnualDrills(startDeps(), { year: input.year, initiatorId: 'system' });
    },
  };
}
