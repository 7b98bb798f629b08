/**
 * Rules for a human approval (审批): who may decide, and what a decision must
 * carry. Workflows run these inside Update validators, so a decision that
 * breaks a rule is refused before the case history records it.
 */
import type { Actor, Role } from './roles';
import { hasAnyRole } from './roles';

export const APPROVAL_DECISIONS = ['approve', 'approve_with_conditions', 'reject'] as const;
export type ApprovalDecision = (typeof APPROVAL_DECISIONS)[number];

export type ApprovalStatus = 'open' | 'approved' | 'approved_with_conditions' | 'rejected' | 'expired';

export interface ApprovalVote {
  userId: string;
  decision: ApprovalDecision;
  comment?: string;
  conditions?: string[];
  at: string;
}

/** What a validator needs to know about a pending approval. */
export interface ApprovalTaskState {
  taskId: string;
  status: ApprovalStatus;
  candidateRoles: Role[];
  /** Initiator and owner of the case: segregation of duties bars them. */
  excludedUserIds: string[];
  approvalsRequired: number;
  votes: ApprovalVote[];
}

export interface DecisionRequest {
  decision: ApprovalDecision;
  comment?: string;
  conditions?: string[];
}

/** Codes the API maps to HTTP statuses; messages are shown to the caller. */
export type RefusalCode =
  'NOT_AWAITING_DECISION' | 'ROLE_NOT_PERMITTED' | 'SEGREGATION_OF_DUTIES' | 'FOUR_EYES' | 'INVALID_DECISION';

export interface Refusal {
  code: RefusalCode;
  message: string;
}

export function checkDecision(
  task: ApprovalTaskState | undefined,
  actor: Actor,
  request: DecisionRequest,
): Refusal | null {
  if (!task || task.status !== 'open') {
    return { code: 'NOT_AWAITING_DECISION', message: 'this task is not awaiting a decision' };
  }
  if (!hasAnyRole(actor, task.candidateRoles)) {
    return {
      code: 'ROLE_NOT_PERMITTED',
      message: `deciding this task needs the role ${task.candidateRoles.join(' or ')}`,
    };
  }
  if (task.excludedUserIds.includes(actor.userId)) {
    return {
      code: 'SEGREGATION_OF_DUTIES',
      message: 'whoever started or owns a case may not approve it (segregation of duties)',
    };
  }
  if (task.votes.some((v) => v.userId === actor.userId)) {
    return {
      code: 'FOUR_EYES',
      message: `this decision needs ${task.approvalsRequired} distinct approvers; you have already decided`,
    };
  }
  return checkDecisionContent(request);
}

export function checkDecisionContent(request: DecisionRequest): Refusal | null {
  if (!(APPROVAL_DECISIONS as readonly string[]).includes(request.decision)) {
    return { code: 'INVALID_DECISION', message: `decision must be one of ${APPROVAL_DECISIONS.join(', ')}` };
  }
  if (request.decision === 'reject' && !request.comment?.trim()) {
    return { code: 'INVALID_DECISION', message: 'a rejection must give its reason in comment' };
  }
  if (request.decision === 'approve_with_conditions' && !request.conditions?.some((c) => c.trim())) {
    return { code: 'INVALID_DECISION', message: 'approve_with_conditions needs at least one condition' };
  }
  return null;
}

/**
 * The outcome once a valid vote is counted. A rejection by any approver ends
 * the approval; approvals count until the required number is reached, and the
 * outcome carries every condition any approver attached.
 */
export function tally(task: ApprovalTaskState): ApprovalStatus {
  if (task.votes.some((v) => v.decision === 'reject')) return 'rejected';
  if (task.votes.length < task.approvalsRequired) return 'open';
  return task.votes.some((v) => v.decision === 'approve_with_conditions') ? 'approved_with_conditions' : 'approved';
}

export function conditionsOf(task: ApprovalTaskState): string[] {
  return task.votes.flatMap((v) => (v.conditions ?? []).map((c) => c.trim()).filter(Boolean));
}
