/**
 * Messages every governance workflow understands, defined once so the API and
 * the workflows share names and types. Human decisions are Updates: their
 * validators refuse a decision that breaks a rule before history records it,
 * and the caller learns the outcome at once.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { CaseOutcome, CaseStatus } from '../domain/cases';
import { taskContract } from '../contracts/tasks';
import type { RectificationResult } from '../contracts/tasks';
import type { Actor } from '../domain/roles';

// The shared task steps (approval decisions, rectification items) are defined in their contract.
export type { DecideInput, DecideResult, EvidenceRef, RectificationResult } from '../contracts/tasks';

export interface CaseSnapshot {
  caseId: string;
  stage: string;
  status: CaseStatus;
  outcome?: CaseOutcome;
  openTaskIds: string[];
}

export const decideUpdate = taskContract.steps.decision.update;
export const submitRectificationUpdate = taskContract.steps.submission.update;
export const verifyRectificationUpdate = taskContract.steps.verification.update;
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

/**
 * A case started as the child of another case (an incident raised from a
 * complaint) tells its parent once it has first settled: its read-model row
 * and first tasks exist, so the parent's call that started it may answer.
 */
export const childCaseSettledSignal = defineSignal<[{ workflowId: string }]>('childCaseSettled');
