/**
 * Supplier review I/O: performance records, the pluggable check provider,
 * the decision applied to the supplier, and the Temporal calls a review and
 * the annual campaign make (starting reviews, the review Schedules), through
 * the one client-side module platform/cases.ts.
 */
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { and, asc, eq, lte } from 'drizzle-orm';
import type { CampaignSkipReason } from '../contracts/supplierCampaign';
import { withAuditedWrite } from '../db/audit';
import type { Database } from '../db/client';
import { supplierPerformance, suppliers } from '../db/schema';
import type { RiskLevel } from '../domain/risk';
import {
  statusAfterDecision,
  type PerformanceRecord,
  type ReviewCondition,
  type SupplierDecision,
  type SupplierStatus,
} from '../domain/supplierReview';
import {
  scheduleSupplierReview,
  startSupplierReviewCase,
  syncSupplierSchedule,
  type CaseStarter,
  type StartReviewOutcome,
} from '../platform/cases';
import type { SupplierReviewInput } from '../workflows/supplierReview';
import { activityKey, whileHeartbeating } from './context';

export interface SupplierCheckResult {
  creditRating?: string;
  backgroundCheck?: 'clear' | 'concerns';
  notes?: string;
}

/**
 * Where credit ratings and background checks come from. A platform with a
 * credit bureau feed plugs in a provider that returns them; the default asks
 * the reviewer, through a task, to enter what they found.
 */
export interface SupplierCheckProvider {
  name: string;
  check(supplier: { supplierId: string; supplierName: string }): Promise<SupplierCheckResult>;
}

export const reviewerEntersChecks: SupplierCheckProvider = {
  name: 'reviewer',
  check: async () => ({}),
};

export interface SupplierDeps {
  db: Database;
  temporal?: Client;
  taskQueue?: string;
  checkProvider?: SupplierCheckProvider;
  clock?: () => Date;
}

function requireTemporal(deps: SupplierDeps): CaseStarter {
  if (!deps.temporal || !deps.taskQueue) throw new Error('supplier activities need a Temporal client and task queue');
  return { db: deps.db, temporal: deps.temporal, taskQueue: deps.taskQueue };
}

/** What a campaign's batch did for one supplier. */
export type CampaignOutcome =
  | { supplierId: string; caseId: string; started: true }
  | { supplierId: string; caseId: string; started: false; reason: CampaignSkipReason; message: string };

export function createSupplierActivities(deps: SupplierDeps) {
  const { db, clock = () => new Date() } = deps;
  const checkProvider = deps.checkProvider ?? reviewerEntersChecks;
  return {
    async loadSupplierPerformance(input: { supplierId: string; upToYear: number }): Promise<PerformanceRecord[]> {
      const rows = await db
        .select()
        .from(supplierPerformance)
        .where(and(eq(supplierPerformance.supplierId, input.supplierId), lte(supplierPerformance.year, input.upToYear)))
        .orderBy(asc(supplierPerformance.year));
      return rows.map((r) => ({
        year: r.year,
        samplingResult: r.samplingResult as PerformanceRecord['samplingResult'],
        complaints: r.complaints,
        logisticsDelayRate: r.logisticsDelayRate,
        financialStatementsAbnormal: r.financialStatementsAbnormal,
        qualityScore: r.qualityScore,
      }));
    },

    /**
     * Asks the check provider, an outside system: bounded retries and
     * heartbeats (workflows/shared/activities.ts). When its last attempt
     * fails too, the review does not fail with it: the answer has no
     * ratings, and the reviewer enters them through a task, as with the
     * default provider.
     */
    async runSupplierChecks(input: {
      supplierId: string;
      supplierName: string;
    }): Promise<SupplierCheckResult & { provider: string }> {
      try {
        return { ...(await whileHeartbeating(checkProvider.check(input))), provider: checkProvider.name };
      } catch (err) {
        const { attempt, retryPolicy } = Context.current().info;
        if (!retryPolicy?.maximumAttempts || attempt < retryPolicy.maximumAttempts) throw err;
        return {
          provider: checkProvider.name,
          notes: `${checkProvider.name} did not answer after ${attempt} attempts (${String(err)}); the reviewer enters the checks`,
        };
      }
    },

    async applySupplierDecision(input: {
      caseId: string;
      supplierId: string;
      decision: SupplierDecision;
      conditions: ReviewCondition[];
      riskGrade: RiskLevel;
      /** Applied when the review approves; cooperation that ends keeps its last tier. */
      tier?: string;
      nextReviewDue: string | null;
      decidedBy: string;
    }): Promise<void> {
      const now = clock();
      const status = statusAfterDecision(input.decision, input.conditions);
      await withAuditedWrite(
        db,
        {
          idempotencyKey: activityKey(),
          actorId: input.decidedBy,
          action: 'supplier.review_applied',
          caseId: input.caseId,
          occurredAt: now,
          payload: {
            supplierId: input.supplierId,
            decision: input.decision,
            status,
            riskGrade: input.riskGrade,
            conditions: input.conditions,
            nextReviewDue: input.nextReviewDue,
          },
        },
        (tx) =>
          tx
            .update(suppliers)
            .set({
              status,
              ...(input.tier && (input.decision === 'approve' || input.decision === 'approve_with_conditions')
                ? { tier: input.tier }
                : {}),
              conditions: input.conditions.map((c) => ({ ...c, since: now.toISOString(), caseId: input.caseId })),
              lastReviewCaseId: input.caseId,
              lastRiskGrade: input.riskGrade,
              nextReviewDue: input.nextReviewDue ? new Date(input.nextReviewDue) : null,
              updatedAt: now,
            })
            .where(eq(suppliers.id, input.supplierId)),
      );
    },

    /** Creates or moves the supplier's Schedule to fire once, on the next review's due date. */
    async scheduleNextSupplierReview(input: { supplierId: string; dueAt: string }): Promise<void> {
      const { temporal, taskQueue } = requireTemporal(deps);
      await whileHeartbeating(scheduleSupplierReview(temporal, taskQueue, input));
    },

    async removeSupplierReviewSchedule(input: { supplierId: string }): Promise<void> {
      const { temporal } = requireTemporal(deps);
      await whileHeartbeating(syncSupplierSchedule(temporal, input.supplierId, 'terminated'));
    },

    async startSupplierReview(input: { supplierId: string; year: number; initiatorId: string }) {
      const outcome = await whileHeartbeating(startSupplierReviewCase(requireTemporal(deps), input));
      return outcome.started
        ? { started: true, caseId: outcome.caseId }
        : { started: false, caseId: outcome.caseId, reason: outcome.message };
    },

    /** Every supplier with its status, by id: the campaign decides from the status which it reviews. */
    async listCampaignSuppliers(): Promise<Array<{ supplierId: string; status: SupplierStatus }>> {
      const rows = await db
        .select({ id: suppliers.id, status: suppliers.status })
        .from(suppliers)
        .orderBy(asc(suppliers.id));
      return rows.map((r) => ({ supplierId: r.id, status: r.status as SupplierStatus }));
    },

    /**
     * Starts one batch of a campaign's reviews, all at once. Idempotent per
     * review id: a review that already exists is skipped ('already_exists').
     * Each start is reported in the heartbeat, so a retried batch reports
     * what its first attempt started as started, not as skipped.
     */
    async startCampaignReviews(input: {
      year: number;
      initiatorId: string;
      timings?: SupplierReviewInput['timings'];
      supplierIds: string[];
    }): Promise<CampaignOutcome[]> {
      const starter = requireTemporal(deps);
      const done = new Map<string, CampaignOutcome>(
        ((Context.current().info.heartbeatDetails as CampaignOutcome[] | undefined) ?? []).map((o) => [
          o.supplierId,
          o,
        ]),
      );
      const start = async (supplierId: string): Promise<void> => {
        if (done.has(supplierId)) return;
        const outcome: StartReviewOutcome = await startSupplierReviewCase(starter, {
          supplierId,
          year: input.year,
          initiatorId: input.initiatorId,
          timings: input.timings,
        });
        done.set(
          supplierId,
          outcome.started
            ? { supplierId, caseId: outcome.caseId, started: true }
            : { supplierId, caseId: outcome.caseId, started: false, reason: outcome.reason, message: outcome.message },
        );
        Context.current().heartbeat([...done.values()]);
      };
      await whileHeartbeating(Promise.all(input.supplierIds.map(start)), () => [...done.values()]);
      return input.supplierIds.map((id) => done.get(id)!);
    },
  };
}
