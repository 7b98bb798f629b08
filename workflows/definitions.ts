/**
 * Messages every governance workflow understands, defined once so the API and
 * the workflows share names and types. Human decisions are Updates: their
 * validators refuse a decision that breaks a rule before history records it,
 * and the caller learns the outcome at once.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ApprovalDecision, ApprovalStatus, ApprovalVote } from '../domain/approval';
import type { CaseOutcome, CaseStatus } from '../domain/cases';
import type { RectificationStatus, Verdict } from '../domain/rectification';
import type { Actor } from '../domain/roles';

export interface DecideInput {
  taskId: string;
  actor: Actor;
  /** One of the decisions the task's policy offers (see tasks.allowedDecisions). */
  decision: ApprovalDecision | (string & {});
  comment?: string;
  conditions?: string[];
  /** Lets the API key its audit entry on the HTTP request. */
  requestId?: string;
}

export interface DecideResult {
  taskId: string;
  /** The approval's status after this vote: still open when a second approver is needed. */
  status: ApprovalStatus;
  votes: ApprovalVote[];
}

export interface EvidenceRef {
  id: string;
  sha256: string;
}

export interface SubmitRectificationInput {
  actor: Actor;
  evidence: EvidenceRef[];
  comment?: string;
}

export interface VerifyRectificationInput {
  actor: Actor;
  verdict: Verdict;
  reason?: string;
}

export interface RectificationResult {
  status: RectificationStatus;
  submissions: number;
}

export interface CaseSnapshot {
  caseId: string;
  stage: string;
  status: CaseStatus;
  outcome?: CaseOutcome;
  openTaskIds: string[];
}

export const decideUpdate = defineUpdate<DecideResult, [DecideInput]>('decide');
export const submitRectificationUpdate = defineUpdate<RectificationResult, [SubmitRectificationInput]>(
  'submitRectification',
);
export const verifyRectificationUpdate = defineUpdate<RectificationResult, [VerifyRectificationInput]>(
  'verifyRectification',
);
export const caseSnapshotQuery = defineQuery<CaseSnapshot>('caseSnapshot');

/** The case as the read model shows it once everything in flight has landed. */
export type SettledResult = Pick<CaseSnapshot, 'stage' | 'status' | 'openTaskIds'> & {
  /** The workflow run that answered. */
  runId: string;
};
/**
 * Returns once the case has settled (see workflows/shared/settle.ts). Sent
 * with a case's start (update-with-start), and to the parent case after a
 * step taken on one of its rectification items.
 */
export const settledUpdate = defineUpdate<SettledResult, []>('settled');

/** A rectification item tells its parent case: its task row is open, or it is verified and closed. */
export interface RectificationItemEvent {
  taskId: string;
  event: 'opened' | 'closed';
  result?: RectificationResult & { taskId: string; verifiedBy: string };
}
export const rectificationItemSignal = defineSignal<[RectificationItemEvent]>('rectificationItem');

// ---- Supplier review (合作方风险评估)

export interface ReviewDocumentInput {
  actor: Actor;
  documentType: string;
  evidence: EvidenceRef & { fileName: string };
}

export interface ReviewChecksInput {
  actor: Actor;
  /** Credit rating (信用评级) as the agency states it, e.g. AAA … C. */
  creditRating: string;
  creditAgency?: string;
  /** Background check (背景调查). */
  backgroundCheck: 'clear' | 'concerns';
  notes?: string;
}

export interface ReviewScoresInput {
  actor: Actor;
  /** Each dimension 1 (poor) … 5 (excellent). */
  scores: Record<string, number>;
  /** Impact on the platform if this supplier fails, 1 … 5 (the matrix's other axis). */
  impact: number;
  /** Tiered management (分级管理): the tier the supplier should hold if approved. */
  proposedTier?: string;
  comment?: string;
}

export interface ReviewStepResult {
  stage: string;
  received?: string[];
  missing?: string[];
}

export const submitReviewDocumentUpdate = defineUpdate<ReviewStepResult, [ReviewDocumentInput]>('submitReviewDocument');
export const recordReviewChecksUpdate = defineUpdate<ReviewStepResult, [ReviewChecksInput]>('recordReviewChecks');
export const scoreReviewUpdate = defineUpdate<ReviewStepResult, [ReviewScoresInput]>('scoreReview');

// ---- Incidents (突发事件, 事件闭环)

export interface IncidentActorInput {
  actor: Actor;
}
export interface IncidentTimelineInput extends IncidentActorInput {
  entry: string;
  /** When it happened; defaults to now. */
  at?: string;
}
export interface IncidentNotificationInput extends IncidentActorInput {
  audience: string;
  notifiedAt: string;
  summary: string;
}
export interface IncidentStabiliseInput extends IncidentActorInput {
  summary: string;
}
export interface IncidentRegradeInput extends IncidentActorInput {
  grade: string;
  reason: string;
}
export interface IncidentEvaluationInput extends IncidentActorInput {
  rootCause: string;
  contributingFactors: string[];
  lessons: string;
  rectificationItems: Array<{ title: string; ownerId: string; dueIn?: string }>;
}
export interface IncidentStepResult {
  stage: string;
  grade: string;
}

export const acknowledgeIncidentUpdate = defineUpdate<IncidentStepResult, [IncidentActorInput]>('acknowledgeIncident');
export const addIncidentTimelineUpdate = defineUpdate<IncidentStepResult, [IncidentTimelineInput]>(
  'addIncidentTimeline',
);
export const recordIncidentNotificationUpdate = defineUpdate<IncidentStepResult, [IncidentNotificationInput]>(
  'recordIncidentNotification',
);
export const stabiliseIncidentUpdate = defineUpdate<IncidentStepResult, [IncidentStabiliseInput]>('stabiliseIncident');
export const regradeIncidentUpdate = defineUpdate<IncidentStepResult, [IncidentRegradeInput]>('regradeIncident');
export const submitIncidentEvaluationUpdate = defineUpdate<IncidentStepResult, [IncidentEvaluationInput]>(
  'submitIncidentEvaluation',
);
export const requestIncidentCloseOutUpdate = defineUpdate<IncidentStepResult, [IncidentActorInput]>(
  'requestIncidentCloseOut',
);

// ---- Emergency plans and drills (应急预案, 应急演练)

export interface PlanDraftInput {
  actor: Actor;
  summary: string;
  document: EvidenceRef;
}
export interface DrillPlanInput {
  actor: Actor;
  scenario: string;
  scheduledAt: string;
  participants: string[];
}
export interface DrillConductInput {
  actor: Actor;
  startedAt: string;
  endedAt: string;
  observations: string;
}
export interface DrillEvaluationInput {
  actor: Actor;
  scores: Record<string, number>;
  findings: Array<{ title: string; ownerId: string; dueIn?: string }>;
}
export interface DrillSummaryInput {
  actor: Actor;
  problems: string;
  lessons: string;
  planChanges: string;
  revisionNeeded: boolean;
}
export interface StepResult {
  stage: string;
}

export const submitPlanDraftUpdate = defineUpdate<StepResult, [PlanDraftInput]>('submitPlanDraft');
export const planDrillUpdate = defineUpdate<StepResult, [DrillPlanInput]>('planDrill');
export const recordDrillConductUpdate = defineUpdate<StepResult, [DrillConductInput]>('recordDrillConduct');
export const evaluateDrillUpdate = defineUpdate<StepResult, [DrillEvaluationInput]>('evaluateDrill');
export const submitDrillSummaryUpdate = defineUpdate<StepResult, [DrillSummaryInput]>('submitDrillSummary');

// ---- PDCA improvement cycles (持续改进, 计划-执行-检查-处理)

export interface PdcaPlanInput {
  actor: Actor;
  actions: Array<{ title: string; ownerId: string; dueIn?: string }>;
}
export interface PdcaActualsInput {
  actor: Actor;
  actuals: Record<string, number>;
}
export interface PdcaStandardiseInput {
  actor: Actor;
  adopted: string;
}

export const revisePdcaPlanUpdate = defineUpdate<StepResult, [PdcaPlanInput]>('revisePdcaPlan');
export const recordPdcaActualsUpdate = defineUpdate<StepResult, [PdcaActualsInput]>('recordPdcaActuals');
export const standardisePdcaUpdate = defineUpdate<StepResult, [PdcaStandardiseInput]>('standardisePdca');
