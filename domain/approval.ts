/**
 * Rules for a human approval (审批): who may decide, what a decision must
 * carry, and when the votes amount to an outcome. Workflows run these inside
 * Update validators, so a decision that breaks a rule is refused before the
 * case history records it. Each process states its decisions in a policy.
 */
import type { Actor, Role } from './roles';
import { hasAnyRole } from './roles';

export const APPROVAL_DECISIONS = ['approve', 'approve_with_conditions', 'reject'] as const;
export type ApprovalDecision = (typeof APPROVAL_DECISIONS)[number];

/** What a decision means once it stands, as the case records it. */
export const DECISION_OUTCOME: Record<string, string> = {
  approve: 'approved',
  approve_with_conditions: 'approved_with_conditions',
  reject: 'rejected',
  terminate: 'terminated',
  blacklist: 'blacklisted',
};

export interface ApprovalPolicy {
  decisions: string[];
  /** Ends the approval at once, whoever else voted (a rejection is a veto). */
  vetoes: string[];
  /** Need two distinct approvers whatever the risk (termination, blacklisting). */
  fourEyes: string[];
  needsReason: string[];
  needsConditions: string[];
  /** When set, every condition must start with one of these types and a colon. */
  conditionTypes?: string[];
  /** Decisions that go against the rules' recommendation: each must give its reason. */
  againstRecommendation?: { recommendation: string; decisions: string[] };
}

/** The general approval: approve, approve with conditions, or reject (a veto). */
export const STANDARD_APPROVAL_POLICY: ApprovalPolicy = {
  decisions: [...APPROVAL_DECISIONS],
  vetoes: ['reject'],
  fourEyes: [],
  needsReason: ['reject'],
  needsConditions: ['approve_with_conditions'],
};

export type ApprovalStatus = 'open' | 'expired' | string;

export interface ApprovalVote {
  userId: string;
  /** The function the approver decided for (risk, compliance, legal…); absent in votes cast before functions existed. */
  function?: Role;
  decision: string;
  comment?: string;
  conditions?: string[];
  at: string;
}

/** Someone who may not decide an approval, and why: what they did or own (segregation of duties). */
export interface BarredApprover {
  userId: string;
  reasons: string[];
}

/**
 * Whoever prepared, submitted, requested, evaluated or owns a piece of work
 * never approves or verifies it: who did what, merged into one entry per
 * person in the order first named ('system' and blanks are no one).
 */
export function barredFrom(parts: Array<[string | null | undefined, string]>): BarredApprover[] {
  const byUser = new Map<string, string[]>();
  for (const [userId, reason] of parts) {
    if (!userId || userId === 'system') continue;
    const reasons = byUser.get(userId) ?? [];
    if (!reasons.includes(reason)) reasons.push(reason);
    byUser.set(userId, reasons);
  }
  return [...byUser].map(([userId, reasons]) => ({ userId, reasons }));
}

/** What a validator needs to know about a pending approval. */
export interface ApprovalTaskState {
  taskId: string;
  status: ApprovalStatus;
  candidateRoles: Role[];
  /** Whoever started, owns or prepared the case: segregation of duties bars them. */
  excludedUserIds: string[];
  /** Why each of them is barred, for the refusal; absent in approvals opened before it was kept. */
  barredFor?: Record<string, string[]>;
  /** From the case's risk: two on high risk (four-eyes). */
  approvalsRequired: number;
  votes: ApprovalVote[];
  /** Absent in cases started before policies existed: the standard policy. */
  policy?: ApprovalPolicy;
}

export interface DecisionRequest {
  decision: string;
  comment?: string;
  conditions?: string[];
}

/** Codes the API maps to HTTP statuses; messages are shown to the caller. */
export type RefusalCode =
  | 'NOT_AWAITING_DECISION'
  | 'ROLE_NOT_PERMITTED'
  | 'SEGREGATION_OF_DUTIES'
  | 'FOUR_EYES'
  | 'INVALID_DECISION'
  | 'REASON_AGAINST_RECOMMENDATION';

export interface Refusal {
  code: RefusalCode;
  message: string;
  /** What blocks, for the caller: e.g. who is barred and why. */
  details?: Record<string, unknown>;
}

const policyOf = (task: Pick<ApprovalTaskState, 'policy'>) => task.policy ?? STANDARD_APPROVAL_POLICY;

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
    const reasons = task.barredFor?.[actor.userId] ?? [];
    return {
      code: 'SEGREGATION_OF_DUTIES',
      message: reasons.length
        ? `${actor.userId} may not decide this (segregation of duties): they ${reasons.join(', ')}`
        : 'whoever started, owns or prepared a case may not approve it (segregation of duties)',
      details: { userId: actor.userId, reasons },
    };
  }
  if (task.votes.some((v) => v.userId === actor.userId)) {
    return {
      code: 'FOUR_EYES',
      message: 'this decision needs two distinct approvers; you have already decided',
    };
  }
  const content = checkDecisionContent(request, policyOf(task));
  if (content) return content;
  if (votingFunction(task, actor, request.decision) === null) {
    const used = task.votes.filter((v) => familyOf(v.decision) === familyOf(request.decision)).map((v) => v.function);
    return {
      code: 'FOUR_EYES',
      message: `this decision needs approvers from two different functions; ${used.join(', ')} has already decided and you decide only for ${actorFunctions(task, actor).join(', ')}`,
    };
  }
  return null;
}

const actorFunctions = (task: Pick<ApprovalTaskState, 'candidateRoles'>, actor: Pick<Actor, 'roles'>) =>
  task.candidateRoles.filter((r) => actor.roles.includes(r));

/**
 * The function a vote counts for: the first of the caller's candidate roles
 * that no earlier vote for the same view used. Null when a second approver is
 * needed and every function the caller holds has already voted: four-eyes on
 * high risk takes two functions, not two people of one (finance §5.2).
 */
export function votingFunction(
  task: Pick<ApprovalTaskState, 'candidateRoles' | 'votes' | 'approvalsRequired' | 'policy'>,
  actor: Pick<Actor, 'roles'>,
  decision: string,
): Role | null {
  const mine = actorFunctions(task, actor);
  const used = new Set(task.votes.filter((v) => familyOf(v.decision) === familyOf(decision)).map((v) => v.function));
  const fresh = mine.find((r) => !used.has(r));
  if (fresh) return fresh;
  const vetoes = policyOf(task).vetoes.includes(decision);
  if (vetoes || approversNeeded(task, decision) < 2 || used.size === 0) return mine[0] ?? null;
  return null;
}

export function checkDecisionContent(
  request: DecisionRequest,
  policy: ApprovalPolicy = STANDARD_APPROVAL_POLICY,
): Refusal | null {
  const invalid = (message: string): Refusal => ({ code: 'INVALID_DECISION', message });
  if (!policy.decisions.includes(request.decision)) {
    return invalid(`decision must be one of ${policy.decisions.join(', ')}`);
  }
  const against = policy.againstRecommendation;
  if (against?.decisions.includes(request.decision) && !request.comment?.trim()) {
    return {
      code: 'REASON_AGAINST_RECOMMENDATION',
      message: `${request.decision} goes against the recommendation (${against.recommendation}): give the reason in comment`,
      details: { recommendation: against.recommendation, decision: request.decision },
    };
  }
  if (policy.needsReason.includes(request.decision) && !request.comment?.trim()) {
    return invalid(`${request.decision} must give its reason in comment`);
  }
  const conditions = (request.conditions ?? []).filter((c) => c.trim());
  if (policy.needsConditions.includes(request.decision) && conditions.length === 0) {
    return invalid(`${request.decision} needs at least one condition`);
  }
  if (policy.conditionTypes) {
    const types = policy.conditionTypes;
    const untyped = conditions.find((c) => !types.some((t) => c.startsWith(`${t}:`) && c.slice(t.length + 1).trim()));
    if (untyped !== undefined) {
      return invalid(`condition "${untyped}" must be "<type>: <detail>" with a type from ${types.join(', ')}`);
    }
  }
  return null;
}

/** Approving with or without conditions counts as the same view of the case. */
const familyOf = (decision: string) => (decision === 'approve_with_conditions' ? 'approve' : decision);

/** How many distinct approvers a decision needs to stand. */
export function approversNeeded(task: Pick<ApprovalTaskState, 'approvalsRequired' | 'policy'>, decision: string) {
  const policy = policyOf(task);
  const family = familyOf(decision);
  const fourEyes = policy.fourEyes.some((d) => familyOf(d) === family);
  return Math.max(task.approvalsRequired, fourEyes ? 2 : 1);
}

/**
 * The outcome once a valid vote is counted. A veto ends the approval; any
 * other decision stands once enough distinct approvers chose it (approving
 * with or without conditions counting together). A severe proposal that a
 * second approver does not confirm does not stand.
 */
export function tally(task: ApprovalTaskState): ApprovalStatus {
  const policy = policyOf(task);
  const counts = new Map<string, number>();
  for (const vote of task.votes) {
    if (policy.vetoes.includes(vote.decision)) return DECISION_OUTCOME[vote.decision] ?? vote.decision;
    const family = familyOf(vote.decision);
    const count = (counts.get(family) ?? 0) + 1;
    counts.set(family, count);
    if (count >= approversNeeded(task, vote.decision)) {
      if (family !== 'approve') return DECISION_OUTCOME[family] ?? family;
      const conditional = task.votes.some((v) => familyOf(v.decision) === 'approve' && v.conditions?.length);
      return conditional ? 'approved_with_conditions' : 'approved';
    }
  }
  return 'open';
}

/**
 * Conditions attached by the approvers whose view prevailed, each once: two
 * approvers naming the same condition ask for one piece of work, not two.
 */
export function conditionsOf(task: ApprovalTaskState): string[] {
  const all = task.votes
    .filter((v) => familyOf(v.decision) === 'approve')
    .flatMap((v) => (v.conditions ?? []).map((c) => c.trim()).filter(Boolean));
  return [...new Set(all)];
}
