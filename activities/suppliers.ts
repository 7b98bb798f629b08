/**
 * Supplier review I/O: performance records, the pluggable check provider,
 * the decision applied to the supplier, and the Temporal calls a review and
 * the annual campaign make (starting reviews, the review Schedules), through
 * the one client-side module platform/cases.ts.
 */
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { and, asc, eq, gt, lte } from 'drizzle-orm';
import { CAMPAIGN_BATCH_SIZE, type CampaignSkipReason } from '../contracts/supplierCampaign';
import { appendLocked, findAuditEvent, lockAuditChain, withAuditedWrite } from '../db/audit';
import type { Database } from '../db/client';
import { supplierPerformance, suppliers } from '../db/schema';
import type { RiskLevel } from '../domain/risk';
import {
  addCalendarMonthsUtc,
  statusAfterDecision,
  statusAfterReview,
  statusChangeProblem,
  supplierAfterChange,
  type PerformanceRecord,
  type ReviewCondition,
  type SupplierDecision,
  type SupplierStatus,
  type SupplierConditionRecord,
  type SupplierStatusChange,
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

    /**
     * Applies a review's decision to the supplier, with its audit event, and
     * answers with the status it left (domain/supplierReview.ts
     * statusAfterReview: a suspension or an end approved meanwhile stands).
     */
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
    }): Promise<{ status: SupplierStatus }> {
      const now = clock();
      const key = activityKey();
      return db.transaction(async (tx) => {
        await lockAuditChain(tx);
        const done = await findAuditEvent(tx, key);
        // A retry of an attempt that committed: answer what it did.
        if (done) return { status: done.payload.status as SupplierStatus };
        const [current] = await tx
          .select({ status: suppliers.status })
          .from(suppliers)
          .where(eq(suppliers.id, input.supplierId))
          .for('update');
        const decided = statusAfterDecision(input.decision, input.conditions);
        const status = current
          ? statusAfterReview(current.status as SupplierStatus, input.decision, input.conditions)
          : decided;
        await tx
          .update(suppliers)
          .set({
            status,
            ...(input.tier && (input.decision === 'approve' || input.decision === 'approve_with_conditions')
              ? { tier: input.tier }
              : {}),
            conditions: input.conditions.map((c) => ({ ...c, since: now.toISOString(), caseId: input.caseId })),
            lastReviewCaseId: input.caseId,
            lastRiskGrade: input.riskGrade,
            // Cooperation that ended, now or before, is not reviewed again.
            nextReviewDue:
              input.nextReviewDue && status !== 'terminated' && status !== 'blacklisted'
                ? new Date(input.nextReviewDue)
                : null,
            // A decided review clears the flag an earlier lapsed one left.
            reviewOverdueCaseId: null,
            reviewOverdueSince: null,
            updatedAt: now,
          })
          .where(eq(suppliers.id, input.supplierId));
        await appendLocked(tx, {
          idempotencyKey: key,
          actorId: input.decidedBy,
          action: 'supplier.review_applied',
          caseId: input.caseId,
          occurredAt: now,
          payload: {
            supplierId: input.supplierId,
            decision: input.decision,
            status,
            ...(status !== decided ? { statusKept: `${status}, not ${decided}: changed while the review ran` } : {}),
            riskGrade: input.riskGrade,
            conditions: input.conditions,
            nextReviewDue: input.nextReviewDue,
          },
        });
        return { status };
      });
    },

    /**
     * A review lapsed undecided: the supplier is flagged review-overdue
     * (GET /api/suppliers/{id} shows it) and its status stays as it was (a
     * pending supplier stays pending). Its next review stays scheduled: the
     * due date it had if that is still ahead, else the policy's interval from
     * now. Answers with that date, for the Schedule.
     */
    async flagSupplierReviewOverdue(input: {
      caseId: string;
      supplierId: string;
      intervalMonths: number;
    }): Promise<{ nextReviewDue: string | null; status: SupplierStatus | null }> {
      const now = clock();
      const { result } = await withAuditedWrite(
        db,
        {
          idempotencyKey: activityKey(),
          actorId: 'system',
          action: 'supplier.review_overdue',
          caseId: input.caseId,
          occurredAt: now,
          reason: 'the review lapsed with no decision by its final deadline',
          payload: { supplierId: input.supplierId },
        },
        async (tx) => {
          const [supplier] = await tx
            .select({ status: suppliers.status, nextReviewDue: suppliers.nextReviewDue })
            .from(suppliers)
            .where(eq(suppliers.id, input.supplierId))
            .for('update');
          if (!supplier) return { nextReviewDue: null, status: null };
          const status = supplier.status as SupplierStatus;
          // Cooperation that ended has no next review.
          const ended = status === 'terminated' || status === 'blacklisted';
          const due = ended
            ? null
            : supplier.nextReviewDue && supplier.nextReviewDue > now
              ? supplier.nextReviewDue
              : addCalendarMonthsUtc(now, input.intervalMonths);
          await tx
            .update(suppliers)
            .set({ reviewOverdueCaseId: input.caseId, reviewOverdueSince: now, nextReviewDue: due, updatedAt: now })
            .where(eq(suppliers.id, input.supplierId));
          return { nextReviewDue: due?.toISOString() ?? null, status };
        },
      );
      if (result) return result;
      // A retry whose write was already made: read what it wrote.
      const [row] = await db
        .select({ status: suppliers.status, nextReviewDue: suppliers.nextReviewDue })
        .from(suppliers)
        .where(eq(suppliers.id, input.supplierId));
      return {
        nextReviewDue: row?.nextReviewDue?.toISOString() ?? null,
        status: (row?.status as SupplierStatus) ?? null,
      };
    },

    /**
     * Applies an approved status change to the supplier as it is now, with
     * its audit event (supplier.<new status>). Refused, not thrown, when the
     * supplier has meanwhile moved to a status the change does not apply to.
     */
    async applySupplierStatusChange(input: {
      caseId: string;
      supplierId: string;
      change: SupplierStatusChange;
      reason: string;
      requestedBy: string;
      approvedBy: string[];
    }): Promise<
      | { applied: true; from: SupplierStatus; to: SupplierStatus }
      | { applied: false; from: SupplierStatus; problem: string }
    > {
      const now = clock();
      const key = activityKey();
      type Outcome =
        | { applied: true; from: SupplierStatus; to: SupplierStatus }
        | { applied: false; from: SupplierStatus; problem: string };
      // The audit event names the new status, known only once the supplier is
      // read under lock: the check, the write and the event in one transaction.
      return db.transaction(async (tx): Promise<Outcome> => {
        await lockAuditChain(tx);
        const done = await findAuditEvent(tx, key);
        if (done) {
          // A retry of an attempt that committed: answer what it did.
          const { from, to } = done.payload as { from: SupplierStatus; to: SupplierStatus };
          return { applied: true, from, to };
        }
        const [supplier] = await tx.select().from(suppliers).where(eq(suppliers.id, input.supplierId)).for('update');
        if (!supplier) return { applied: false, from: 'pending', problem: `no supplier ${input.supplierId}` };
        const from = supplier.status as SupplierStatus;
        const problem = statusChangeProblem(from, input.change);
        if (problem) return { applied: false, from, problem };
        const next = supplierAfterChange(
          {
            status: from,
            conditions: supplier.conditions as SupplierConditionRecord[],
            reviewed: !!supplier.lastReviewCaseId,
          },
          input.change,
          { caseId: input.caseId, reason: input.reason, at: now.toISOString() },
        );
        await tx
          .update(suppliers)
          .set({
            status: next.status,
            conditions: next.conditions,
            // Cooperation that ends is not reviewed again.
            ...(next.status === 'terminated' || next.status === 'blacklisted' ? { nextReviewDue: null } : {}),
            updatedAt: now,
          })
          .where(eq(suppliers.id, input.supplierId));
        await appendLocked(tx, {
          idempotencyKey: key,
          actorId: input.approvedBy.at(-1) ?? 'system',
          action: `supplier.${next.status}`,
          caseId: input.caseId,
          occurredAt: now,
          reason: input.reason,
          payload: {
            supplierId: input.supplierId,
            change: input.change,
            from,
            to: next.status,
            requestedBy: input.requestedBy,
            approvedBy: input.approvedBy,
          },
        });
        return { applied: true, from, to: next.status };
      });
    },

    /** The review Schedule follows the status: paused while suspended, deleted once cooperation ends. */
    async syncSupplierReviewSchedule(input: { supplierId: string; status: SupplierStatus }): Promise<void> {
      const { temporal } = requireTemporal(deps);
      await whileHeartbeating(syncSupplierSchedule(temporal, input.supplierId, input.status));
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

    /**
     * Every supplier with its status, by id, in one result: kept for campaigns that started before the
     * listing was paged (listCampaignSuppliersPage), which still call it when they resume.
     */
    async listCampaignSuppliers(): Promise<Array<{ supplierId: string; status: SupplierStatus }>> {
      const rows = await db
        .select({ id: suppliers.id, status: suppliers.status })
        .from(suppliers)
        .orderBy(asc(suppliers.id));
      return rows.map((r) => ({ supplierId: r.id, status: r.status as SupplierStatus }));
    },

    /**
     * One page of the suppliers with their status, by id after `after` (keyset): the campaign reads the
     * list a page at a time, so no activity result grows with the number of suppliers. `next` is the last
     * id of a full page (there may be more), null after the last.
     */
    async listCampaignSuppliersPage(input: {
      after: string | null;
      limit: number;
    }): Promise<{ suppliers: Array<{ supplierId: string; status: SupplierStatus }>; next: string | null }> {
      const rows = await db
        .select({ id: suppliers.id, status: suppliers.status })
        .from(suppliers)
        .where(input.after === null ? undefined : gt(suppliers.id, input.after))
        .orderBy(asc(suppliers.id))
        .limit(input.limit);
      return {
        suppliers: rows.map((r) => ({ supplierId: r.id, status: r.status as SupplierStatus })),
        next: rows.length === input.limit ? rows.at(-1)!.id : null,
      };
    },

    /**
     * Starts one batch of a campaign's reviews, all at once. Idempotent per
     * review id: a review that already exists is skipped ('already_exists').
     * Each start is reported in the heartbeat, so a retried batch reports
     * what its first attempt started as started, not as skipped. Heartbeats
     * are throttled, though: a worker that dies takes the last ones with it.
     * So a retry also counts as its own a review that exists but was started
     * after the batch was first scheduled (Temporal's start time against the
     * activity's first scheduling, both server clocks). Only a review started
     * by someone else in those seconds would be miscounted, and it exists
     * either way.
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
      const { attempt, scheduledTimestampMs } = Context.current().info;
      const startedByEarlierAttempt = async (caseId: string): Promise<boolean> => {
        if (attempt <= 1) return false;
        const { startTime } = await starter.temporal.workflow.getHandle(caseId).describe();
        return startTime.getTime() >= scheduledTimestampMs;
      };
      const start = async (supplierId: string): Promise<void> => {
        if (done.has(supplierId)) return;
        let outcome: StartReviewOutcome = await startSupplierReviewCase(starter, {
          supplierId,
          year: input.year,
          initiatorId: input.initiatorId,
          timings: input.timings,
        });
        if (!outcome.started && outcome.reason === 'already_exists' && (await startedByEarlierAttempt(outcome.caseId)))
          outcome = { started: true, caseId: outcome.caseId, runId: '' };
        done.set(
          supplierId,
          outcome.started
            ? { supplierId, caseId: outcome.caseId, started: true }
            : { supplierId, caseId: outcome.caseId, started: false, reason: outcome.reason, message: outcome.message },
        );
        Context.current().heartbeat([...done.values()]);
      };
      // At most CAMPAIGN_BATCH_SIZE starts in flight, however many suppliers the slice holds: each
      // lane takes the next supplier as soon as its start has answered (no wait for the slowest).
      let next = 0;
      const lane = async (): Promise<void> => {
        while (next < input.supplierIds.length) await start(input.supplierIds[next++]!);
      };
      const lanes = Math.min(CAMPAIGN_BATCH_SIZE, input.supplierIds.length);
      await whileHeartbeating(Promise.all(Array.from({ length: lanes }, lane)), () => [...done.values()]);
      return input.supplierIds.map((id) => done.get(id)!);
    },
  };
}
