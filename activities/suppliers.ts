/**
 * Supplier review I/O: performance records, the pluggable check provider,
 * the decision applied to the supplier, the review Schedules, and starting a
 * review (shared by the API, the annual campaign and the Schedule).
 */
import { activityKey } from './context';
import { ScheduleAlreadyRunning, ScheduleNotFoundError, type Client } from '@temporalio/client';
import { and, asc, eq, lte } from 'drizzle-orm';
import { withAuditedWrite } from '../db/audit';
import { startCaseWorkflow } from './startCase';
import type { Database } from '../db/client';
import { supplierPerformance, suppliers } from '../db/schema';
import type { RiskLevel } from '../domain/risk';
import {
  reviewStatusProblem,
  statusAfterDecision,
  type PerformanceRecord,
  type ReviewCondition,
  type SupplierDecision,
  type SupplierStatus,
} from '../domain/supplierReview';
import type { SupplierReviewInput, supplierReviewWorkflow } from '../workflows/supplierReview';

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

export const supplierReviewId = (supplierId: string, year: number) => `supplier-review:${supplierId}:${year}`;
export const supplierScheduleId = (supplierId: string) => `supplier-review-schedule:${supplierId}`;

const MONTHS = [
  'JANUARY',
  'FEBRUARY',
  'MARCH',
  'APRIL',
  'MAY',
  'JUNE',
  'JULY',
  'AUGUST',
  'SEPTEMBER',
  'OCTOBER',
  'NOVEMBER',
  'DECEMBER',
] as const;

export type StartReviewOutcome =
  | { started: true; caseId: string; runId: string }
  | { started: false; caseId: string; reason: 'already_exists' | 'not_reviewable' | 'not_found'; message: string };

/** Starts one supplier's review for a year, or says why not. Idempotent per supplier and year. */
export async function startSupplierReviewCase(
  deps: { db: Database; temporal: Client; taskQueue: string },
  params: {
    supplierId: string;
    year: number;
    initiatorId: string;
    reviewerId?: string;
    timings?: SupplierReviewInput['timings'];
  },
): Promise<StartReviewOutcome> {
  const caseId = supplierReviewId(params.supplierId, params.year);
  const [supplier] = await deps.db.select().from(suppliers).where(eq(suppliers.id, params.supplierId));
  if (!supplier) return { started: false, caseId, reason: 'not_found', message: `no supplier ${params.supplierId}` };
  const problem = reviewStatusProblem(supplier.status as SupplierStatus);
  if (problem) return { started: false, caseId, reason: 'not_reviewable', message: problem };
  const started = await startCaseWorkflow<typeof supplierReviewWorkflow>(deps.temporal, {
    workflowType: 'supplierReviewWorkflow',
    caseId,
    taskQueue: deps.taskQueue,
    process: 'supplier_review',
    stage: 'documents',
    args: [
      {
        caseId,
        supplierId: supplier.id,
        supplierName: supplier.name,
        reviewYear: params.year,
        initiatorId: params.initiatorId,
        reviewerId: params.reviewerId ?? supplier.ownerId,
        timings: params.timings,
      },
    ],
  });
  if (!started) {
    return {
      started: false,
      caseId,
      reason: 'already_exists',
      message: `the ${params.year} review of ${supplier.id} already exists`,
    };
  }
  return { started: true, caseId, runId: started.runId };
}

/** Suspending pauses a supplier's review Schedule; ending cooperation deletes it. */
export async function syncSupplierSchedule(
  temporal: Client,
  supplierId: string,
  status: SupplierStatus,
): Promise<void> {
  const handle = temporal.schedule.getHandle(supplierScheduleId(supplierId));
  try {
    if (status === 'suspended') await handle.pause(`supplier ${supplierId} suspended`);
    else if (status === 'terminated' || status === 'blacklisted') await handle.delete();
    else await handle.unpause(`supplier ${supplierId} is ${status}`);
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
  }
}

function requireTemporal(deps: SupplierDeps): { temporal: Client; taskQueue: string } {
  if (!deps.temporal || !deps.taskQueue) throw new Error('supplier activities need a Temporal client and task queue');
  return { temporal: deps.temporal, taskQueue: deps.taskQueue };
}

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

    async runSupplierChecks(input: {
      supplierId: string;
      supplierName: string;
    }): Promise<SupplierCheckResult & { provider: string }> {
      return { ...(await checkProvider.check(input)), provider: checkProvider.name };
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
      const due = new Date(input.dueAt);
      const spec = {
        calendars: [
          { year: due.getUTCFullYear(), month: MONTHS[due.getUTCMonth()]!, dayOfMonth: due.getUTCDate(), hour: 1 },
        ],
      };
      const scheduleId = supplierScheduleId(input.supplierId);
      try {
        await temporal.schedule.create({
          scheduleId,
          spec,
          action: {
            type: 'startWorkflow',
            workflowType: 'supplierReviewLauncherWorkflow',
            args: [{ supplierId: input.supplierId }],
            taskQueue,
            workflowId: `supplier-review-launch:${input.supplierId}`,
          },
          // A review missed while the worker was down still starts within a week.
          policies: { overlap: 'SKIP', catchupWindow: '7 days' },
          state: { note: `next review of supplier ${input.supplierId} due ${input.dueAt}` },
        });
      } catch (err) {
        if (!(err instanceof ScheduleAlreadyRunning)) throw err;
        await temporal.schedule.getHandle(scheduleId).update((previous) => ({
          ...previous,
          spec,
          state: {
            ...previous.state,
            paused: false,
            note: `next review of supplier ${input.supplierId} due ${input.dueAt}`,
          },
        }));
      }
    },

    async removeSupplierReviewSchedule(input: { supplierId: string }): Promise<void> {
      const { temporal } = requireTemporal(deps);
      await syncSupplierSchedule(temporal, input.supplierId, 'terminated');
    },

    async startSupplierReview(input: { supplierId: string; year: number; initiatorId: string }) {
      const { temporal, taskQueue } = requireTemporal(deps);
      const outcome = await startSupplierReviewCase({ db, temporal, taskQueue }, input);
      return outcome.started
        ? { started: true, caseId: outcome.caseId }
        : { started: false, caseId: outcome.caseId, reason: outcome.message };
    },
  };
}
