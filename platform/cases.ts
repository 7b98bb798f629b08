/**
 * Client-side Temporal helpers: starting governance cases under their
 * business-key ids, and the Schedules that start them later. The API calls
 * these, and so do the activities that start cases (a drill's revision, the
 * supplier campaign, the annual programme): one module, so a case is
 * started the same way whoever starts it. Nothing here runs in a workflow.
 *
 * A business key names one case for ever, so a second start (even after the
 * first case closed) is refused; callers turn that into their own 409 or
 * "skipped".
 */
import type { SearchAttributePair } from '@temporalio/common';
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowStartOptions,
} from '@temporalio/client';
import type { ApplicationFailure, Workflow } from '@temporalio/common';
import { eq } from 'drizzle-orm';
import { drillContract, drillKey } from '../contracts/drill';
import { planRevisionContract, planRevisionKey } from '../contracts/planRevision';
import {
  campaignProgress,
  campaignStartedUpdate,
  supplierCampaignId,
  SUPPLIER_CAMPAIGN_PROCESS,
  type CampaignProgress,
  type CampaignRecord,
} from '../contracts/supplierCampaign';
import { supplierReviewContract, supplierReviewKey } from '../contracts/supplierReview';
import type { Database } from '../db/client';
import { emergencyPlans, suppliers } from '../db/schema';
import { drillDueAt, nextPlanVersion, type PlanTimings, type PlanType } from '../domain/drills';
import { parseDuration } from '../domain/durations';
import { reviewStatusProblem, type SupplierStatus } from '../domain/supplierReview';
import { settledUpdate, type SettledResult } from '../workflows/definitions';
import { idempotentUpdateId } from './idempotentCalls';
import type { drillWorkflow, DrillInput } from '../workflows/drill';
import type { planRevisionClockWorkflow, planRevisionWorkflow, PlanRevisionInput } from '../workflows/planRevision';
import type { supplierCampaignWorkflow, SupplierCampaignInput } from '../workflows/supplierCampaign';
import type { SupplierReviewInput, supplierReviewWorkflow } from '../workflows/supplierReview';
import { GovGrade, GovOwnerRole, GovProcess, GovRiskLevel, GovStage } from '../workflows/searchAttributes';

/** What starting a case needs: the read model (to look up what the case is about) and Temporal. */
export interface CaseStarter {
  db: Database;
  temporal: Client;
  taskQueue: string;
}

export interface CaseStart<W extends Workflow> {
  workflowType: string;
  caseId: string;
  taskQueue: string;
  process: string;
  stage: string;
  riskLevel?: string;
  grade?: string;
  /** Further attributes the process sets from its first moment (GovAuditType, GovWarningLevel…). */
  searchAttributes?: SearchAttributePair[];
  args: Parameters<W>;
}

/** The search attributes a case carries from its first moment, before its first activation. */
export function caseSearchAttributes(
  start: Pick<CaseStart<Workflow>, 'process' | 'stage' | 'riskLevel' | 'grade' | 'searchAttributes'>,
) {
  return [
    { key: GovProcess, value: start.process },
    { key: GovStage, value: start.stage },
    { key: GovOwnerRole, value: 'manager' },
    ...(start.riskLevel ? [{ key: GovRiskLevel, value: start.riskLevel }] : []),
    ...(start.grade ? [{ key: GovGrade, value: start.grade }] : []),
    ...(start.searchAttributes ?? []),
  ];
}

/**
 * Starts the case and returns once it has settled: its read-model row and
 * the tasks it opened first exist, so the caller's next step can be sent at
 * once. One call to Temporal (update-with-start), not a start and a poll.
 * Null when a case with that id already exists.
 *
 * In an API request sent with an Idempotency-Key, the start's Update ID
 * derives from the request (platform/idempotentCalls.ts). A case that exists
 * already and holds that Update is this request's own earlier start (the API
 * died before answering): its first answer is returned, not null.
 */
export async function startCaseWorkflow<W extends Workflow>(
  temporal: Client,
  start: CaseStart<W>,
): Promise<SettledResult | null> {
  const options = {
    taskQueue: start.taskQueue,
    workflowId: start.caseId,
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    workflowIdConflictPolicy: 'FAIL',
    typedSearchAttributes: caseSearchAttributes(start),
    args: start.args,
  } as unknown as WorkflowStartOptions<W> & { workflowIdConflictPolicy: 'FAIL' };
  const updateId = idempotentUpdateId(start.caseId, settledUpdate.name);
  // A keyed request marks its start, so its retry can tell its own case from another's (ownEarlierStart).
  if (updateId) options.memo = { [IDEMPOTENT_START_MEMO]: updateId };
  const startWorkflowOperation = new WithStartWorkflowOperation<W>(start.workflowType, options);
  try {
    return await temporal.workflow.executeUpdateWithStart(settledUpdate, { startWorkflowOperation, updateId });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return updateId ? ownEarlierStart(temporal, start.caseId, updateId) : null;
  }
}

/**
 * The first outcome of this request's start Update on an existing case, or
 * null when the case holds no such Update (someone else's case). Only an
 * update-with-start of this very request can have put it there.
 */
const IDEMPOTENT_START_MEMO = 'idempotentStart';

/**
 * The first answer to a keyed start that was retried: its settled Update's
 * outcome. Temporal may not hold that Update (the call timed out while no
 * worker ran, and the admitted Update was lost with it): if the case carries
 * this request's mark, it is ours, and the settled Update is sent again under
 * the same id. Null when the case is someone else's: a real conflict.
 */
async function ownEarlierStart(temporal: Client, caseId: string, updateId: string): Promise<SettledResult | null> {
  const handle = temporal.workflow.getHandle(caseId);
  try {
    return await handle.getUpdateHandle<SettledResult>(updateId).result();
  } catch (err) {
    // Polling an Update the workflow does not hold answers "not found".
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  const { memo } = await handle.describe();
  if (memo?.[IDEMPOTENT_START_MEMO] !== updateId) return null;
  return await handle.executeUpdate(settledUpdate, { updateId });
}

export type StartOutcome =
  | { started: true; caseId: string }
  | { started: false; caseId: string; reason: 'already_exists' | 'not_found' | 'not_active'; message: string };

// ---------------------------------------------------------------- emergency plans and drills

export const planRevisionId = (planId: string, version: number) =>
  planRevisionContract.caseId(planRevisionKey(planId, version));
export const DRILL_PROGRAMME_SCHEDULE = 'drill-programme';

function startRevision(starter: CaseStarter, input: PlanRevisionInput) {
  return startCaseWorkflow<typeof planRevisionWorkflow>(starter.temporal, {
    workflowType: 'planRevisionWorkflow',
    caseId: input.caseId,
    taskQueue: starter.taskQueue,
    process: planRevisionContract.process,
    stage: 'draft',
    args: [input],
  });
}

/**
 * Registers a plan and opens its first revision, in one start: the revision
 * workflow registers the plan as its first step (workflows/planRevision.ts),
 * so no crash can leave a plan without its first revision. Null when the
 * plan's first revision already exists.
 */
export async function registerEmergencyPlan(
  starter: CaseStarter,
  plan: { planId: string; title: string; type: PlanType; ownerId: string; timings: PlanTimings; initiatorId: string },
): Promise<{ caseId: string } | null> {
  const caseId = planRevisionId(plan.planId, 1);
  const started = await startRevision(starter, {
    caseId,
    planId: plan.planId,
    planTitle: plan.title,
    version: 1,
    ownerId: plan.ownerId,
    initiatorId: plan.initiatorId,
    reason: 'first version',
    register: { type: plan.type, timings: plan.timings },
    timings: { draft: plan.timings.draft },
  });
  return started ? { caseId } : null;
}

/** Opens the next revision of a registered plan (draft → review → approval → published), once. */
export async function startPlanRevisionCase(
  starter: CaseStarter,
  params: {
    planId: string;
    reason: string;
    initiatorId: string;
    sourceCaseId?: string;
    timings?: PlanRevisionInput['timings'];
  },
): Promise<StartOutcome> {
  const [plan] = await starter.db.select().from(emergencyPlans).where(eq(emergencyPlans.id, params.planId));
  if (!plan) return { started: false, caseId: '', reason: 'not_found', message: `no emergency plan ${params.planId}` };
  const version = nextPlanVersion(plan.currentVersion);
  const caseId = planRevisionId(plan.id, version);
  const started = await startRevision(starter, {
    caseId,
    planId: plan.id,
    planTitle: plan.title,
    version,
    ownerId: plan.ownerId,
    initiatorId: params.initiatorId,
    reason: params.reason,
    sourceCaseId: params.sourceCaseId,
    // The plan's own draft ladder, unless the caller names one.
    timings: { draft: plan.timings.draft, ...params.timings },
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

/** Starts (or restarts, for a newer version) a plan's revision clock: due three years after approval. */
export async function startPlanRevisionClock(
  temporal: Client,
  taskQueue: string,
  input: Parameters<typeof planRevisionClockWorkflow>[0],
): Promise<void> {
  await temporal.workflow.start<typeof planRevisionClockWorkflow>('planRevisionClockWorkflow', {
    taskQueue,
    workflowId: `plan-revision-clock:${input.planId}`,
    // A newer version restarts the clock from its own approval.
    workflowIdConflictPolicy: 'TERMINATE_EXISTING',
    typedSearchAttributes: [{ key: GovProcess, value: 'plan_revision_clock' }],
    args: [input],
  });
}

/** Opens a plan's drill for a year, once. Only active plans are drilled. */
export async function startDrillCase(
  starter: CaseStarter,
  params: { planId: string; year: number; initiatorId: string; timings?: DrillInput['timings'] },
): Promise<StartOutcome> {
  const caseId = drillContract.caseId(drillKey(params.planId, params.year));
  const [plan] = await starter.db.select().from(emergencyPlans).where(eq(emergencyPlans.id, params.planId));
  if (!plan) return { started: false, caseId, reason: 'not_found', message: `no emergency plan ${params.planId}` };
  if (plan.status !== 'active') {
    return {
      started: false,
      caseId,
      reason: 'not_active',
      message: `plan ${plan.id} is ${plan.status}; only active plans are drilled`,
    };
  }
  const started = await startCaseWorkflow<typeof drillWorkflow>(starter.temporal, {
    workflowType: 'drillWorkflow',
    caseId,
    taskQueue: starter.taskQueue,
    process: drillContract.process,
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
/**
 * Creates a Schedule unless one with its id exists already (API and worker may
 * both get here; a redeploy runs it again). True when this call created it.
 */
export async function createScheduleOnce(
  temporal: Client,
  options: Parameters<Client['schedule']['create']>[0],
): Promise<boolean> {
  try {
    await temporal.schedule.create(options);
    return true;
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) return false;
    throw err;
  }
}

export async function ensureDrillProgramme(temporal: Client, taskQueue: string): Promise<void> {
  await createScheduleOnce(temporal, {
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
}

/** Opens every plan's drill for the year, once each; plans that are not active are skipped with the reason. */
export async function openAnnualDrills(
  starter: CaseStarter,
  params: { year: number; initiatorId: string; timings?: DrillInput['timings'] },
) {
  const plans = await starter.db.select({ id: emergencyPlans.id, status: emergencyPlans.status }).from(emergencyPlans);
  const started: Array<{ planId: string; caseId: string }> = [];
  const skipped: Array<{ planId: string; caseId: string; reason: string; message: string }> = [];
  for (const plan of plans) {
    const outcome = await startDrillCase(starter, {
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

// ---------------------------------------------------------------- supplier reviews

export const supplierReviewId = (supplierId: string, year: number) =>
  supplierReviewContract.caseId(supplierReviewKey(supplierId, year));
export const supplierScheduleId = (supplierId: string) => `supplier-review-schedule:${supplierId}`;

/** Month names as Schedule calendars take them. */
export const MONTHS = [
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
  starter: CaseStarter,
  params: {
    supplierId: string;
    year: number;
    initiatorId: string;
    reviewerId?: string;
    timings?: SupplierReviewInput['timings'];
  },
): Promise<StartReviewOutcome> {
  const caseId = supplierReviewId(params.supplierId, params.year);
  const [supplier] = await starter.db.select().from(suppliers).where(eq(suppliers.id, params.supplierId));
  if (!supplier) return { started: false, caseId, reason: 'not_found', message: `no supplier ${params.supplierId}` };
  const problem = reviewStatusProblem(supplier.status as SupplierStatus);
  if (problem) return { started: false, caseId, reason: 'not_reviewable', message: problem };
  const started = await startCaseWorkflow<typeof supplierReviewWorkflow>(starter.temporal, {
    workflowType: 'supplierReviewWorkflow',
    caseId,
    taskQueue: starter.taskQueue,
    process: supplierReviewContract.process,
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

/**
 * Starts the year's campaign, or joins it while it runs, and answers with its
 * progress once the read model shows it (contracts/supplierCampaign.ts).
 * Null when the year's campaign has already finished: its read-model row
 * holds what it did. A campaign that failed or was terminated runs again.
 */
export async function startSupplierCampaign(
  starter: CaseStarter,
  input: SupplierCampaignInput,
): Promise<CampaignProgress | null> {
  const options = {
    taskQueue: starter.taskQueue,
    workflowId: supplierCampaignId(input.year),
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
    typedSearchAttributes: [
      { key: GovProcess, value: SUPPLIER_CAMPAIGN_PROCESS },
      { key: GovStage, value: 'running' },
    ],
    args: [input],
  } as unknown as WorkflowStartOptions<typeof supplierCampaignWorkflow> & { workflowIdConflictPolicy: 'USE_EXISTING' };
  const startWorkflowOperation = new WithStartWorkflowOperation<typeof supplierCampaignWorkflow>(
    'supplierCampaignWorkflow',
    options,
  );
  try {
    const answer = await starter.temporal.workflow.executeUpdateWithStart(campaignStartedUpdate, {
      startWorkflowOperation,
      updateId: idempotentUpdateId(supplierCampaignId(input.year), campaignStartedUpdate.name),
    });
    // A campaign that answered before the progress was bounded keeps that answer under its update id:
    // the whole record, which is summarised as the progress is now.
    return 'startedCount' in answer ? answer : campaignProgress(answer as unknown as CampaignRecord);
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return null;
    // Joined in the very workflow task in which the campaign completed: it is finished.
    if (
      err instanceof WorkflowUpdateFailedError &&
      (err.cause as ApplicationFailure)?.type === 'AcceptedUpdateCompletedWorkflow'
    )
      return null;
    throw err;
  }
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

/** Creates or moves the supplier's Schedule to fire once, on the next review's due date. */
export async function scheduleSupplierReview(
  temporal: Client,
  taskQueue: string,
  input: { supplierId: string; dueAt: string },
): Promise<void> {
  const due = new Date(input.dueAt);
  const spec = {
    calendars: [
      { year: due.getUTCFullYear(), month: MONTHS[due.getUTCMonth()]!, dayOfMonth: due.getUTCDate(), hour: 1 },
    ],
  };
  const scheduleId = supplierScheduleId(input.supplierId);
  const note = `next review of supplier ${input.supplierId} due ${input.dueAt}`;
  const created = await createScheduleOnce(temporal, {
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
    state: { note },
  });
  if (!created) {
    await temporal.schedule.getHandle(scheduleId).update((previous) => ({
      ...previous,
      spec,
      state: { ...previous.state, paused: false, note },
    }));
  }
}
