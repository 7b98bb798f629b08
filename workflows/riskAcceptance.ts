/**
 * A risk acceptance (contracts/riskAcceptance.ts): one approval under
 * segregation of duties (risk control or compliance; never the requester or
 * the risk's owner; two functions when the residual level is high).
 * Approved, the acceptance is in force with the residual rating of that
 * moment until it expires (a durable timer) or the register reports that the
 * residual rating changed (residualChangedUpdate, sent by PATCH
 * /api/risks/{key}); then it turns stale: audited, due for review within
 * ACCEPTANCE_REVIEW_WITHIN_DAYS, and the risk's owner is notified.
 */
import { condition } from '@temporalio/workflow';
import { setHandler } from '@temporalio/workflow';
import {
  RISK_ACCEPTANCE_PROCESS,
  RISK_ACCEPTANCE_STAGE,
  residualChangedUpdate,
  riskAcceptanceKey,
  type ResidualChange,
} from '../contracts/riskAcceptance';
import type { ApprovalPolicy } from '../domain/approval';
import type { ApprovalTimings } from '../domain/deadlines';
import { DEFAULT_POLICY, type PolicySnapshot } from '../domain/policy';
import type { RiskLevel } from '../domain/risk';
import {
  ACCEPTANCE_APPROVER_ROLES,
  acceptanceApprovalsRequired,
  type MatrixRating,
  type StaleReason,
} from '../domain/riskRegister';
import { caseSnapshotQuery } from './definitions';
import { acts } from './shared/activities';
import { ApprovalDesk } from './shared/approvals';
import { CaseRuntime, refuse } from './shared/caseRuntime';
import { setStep } from './shared/settle';

export interface RiskAcceptanceInput {
  caseId: string;
  riskKey: string;
  riskTitle: string;
  /** Its sequence among the risk's acceptances: the business key's <n>. */
  sequence: number;
  reason: string;
  expiresAt: string;
  /** The residual rating when it was asked for, as the approvers see it. */
  residual: MatrixRating;
  residualLevel: RiskLevel;
  requesterId: string;
  /** The risk's owner: never approves the acceptance of their own risk. */
  ownerId: string;
  policy: PolicySnapshot;
  timings?: { approval?: Partial<ApprovalTimings> };
}

export interface RiskAcceptanceResult {
  outcome: 'stale' | 'rejected' | 'lapsed' | 'cancelled';
  staleReason?: StaleReason;
}

export const RISK_ACCEPTANCE_APPROVAL_POLICY: ApprovalPolicy = {
  decisions: ['approve', 'reject'],
  vetoes: ['reject'],
  fourEyes: [],
  needsReason: ['reject'],
  needsConditions: [],
};

export const ACCEPTANCE_NOT_IN_FORCE = 'ACCEPTANCE_NOT_IN_FORCE';

export async function riskAcceptanceWorkflow(input: RiskAcceptanceInput): Promise<RiskAcceptanceResult> {
  const policy = input.policy.values ?? DEFAULT_POLICY;
  const approvalTimings: ApprovalTimings = { ...policy.approval, ...input.timings?.approval };
  const approvalsRequired = acceptanceApprovalsRequired(input.residualLevel);
  // The case data, whole: each write passes it and the runtime sends only what changed.
  const data: Record<string, unknown> = {
    label: { en: 'Risk acceptance', zh: '风险接受' },
    riskKey: input.riskKey,
    expiresAt: input.expiresAt,
    residual: input.residual,
    residualLevel: input.residualLevel,
    approvalsRequired,
  };
  const caseRuntime = new CaseRuntime({
    caseId: input.caseId,
    process: RISK_ACCEPTANCE_PROCESS,
    businessKey: riskAcceptanceKey(input.riskKey, input.sequence),
    title: `Risk acceptance (风险接受): ${input.riskKey} ${input.riskTitle}`,
    description: input.reason,
    stage: RISK_ACCEPTANCE_STAGE.awaitingApproval,
    riskLevel: input.residualLevel,
    initiatorId: input.requesterId,
    ownerId: input.ownerId,
    ownerRole: 'manager',
    subjectType: 'risk',
    subjectId: input.riskKey,
    data,
    policyVersion: input.policy.version,
  });
  setHandler(caseSnapshotQuery, () => caseRuntime.snapshot());

  // Accepted from the start: the register may report a change in the moment
  // between the approval being written and this case moving to in_force.
  let change: ResidualChange | undefined;
  let stale = false;
  setStep(
    residualChangedUpdate,
    async (reported: ResidualChange) => {
      change ??= reported;
      return { stale: true };
    },
    {
      validator: (_reported: ResidualChange) => {
        if (stale || caseRuntime.status === 'closed') {
          refuse(ACCEPTANCE_NOT_IN_FORCE, `acceptance ${input.caseId} is no longer in force`);
        }
      },
    },
  );

  const desk = new ApprovalDesk(caseRuntime);
  await caseRuntime.open();
  await acts.recordRiskAcceptanceRequested({
    caseId: input.caseId,
    riskKey: input.riskKey,
    sequence: input.sequence,
    reason: input.reason,
    requestedBy: input.requesterId,
    expiresAt: input.expiresAt,
    residual: input.residual,
    residualLevel: input.residualLevel,
  });

  const approval = await desk.request({
    name: 'approval',
    title: `Accept risk ${input.riskKey} at residual ${input.residual.probability}×${input.residual.impact} (${input.residualLevel}) until ${input.expiresAt.slice(0, 10)}`,
    candidateRoles: [...ACCEPTANCE_APPROVER_ROLES],
    approvalsRequired,
    excludedUserIds: [...new Set([input.requesterId, input.ownerId])],
    barred: [
      { userId: input.requesterId, reasons: ['asked for this acceptance'] },
      ...(input.ownerId !== input.requesterId ? [{ userId: input.ownerId, reasons: ['owns the risk'] }] : []),
    ],
    timings: approvalTimings,
    policy: RISK_ACCEPTANCE_APPROVAL_POLICY,
  });

  if (approval.status !== 'approved') {
    const status = approval.status === 'expired' ? 'lapsed' : 'rejected';
    const reason =
      status === 'lapsed'
        ? 'no decision by the final deadline; nothing was accepted'
        : 'rejected; nothing was accepted';
    await acts.recordRiskAcceptanceEnded({ caseId: input.caseId, riskKey: input.riskKey, status, reason });
    stale = true;
    await caseRuntime.close(approval.status, {
      actorId: 'system',
      reason,
      data: Object.assign(data, { decision: approval.votes }),
    });
    return { outcome: status };
  }

  const recorded = await acts.recordRiskAcceptanceApproved({
    caseId: input.caseId,
    riskKey: input.riskKey,
    requestedResidual: input.residual,
    approvedBy: approval.votes.map((v) => v.userId),
    cutoffs: policy.risk,
  });
  if (!recorded.recorded) {
    stale = true;
    await caseRuntime.close('cancelled', {
      actorId: 'system',
      reason: `approved, but ${recorded.problem}`,
      data: Object.assign(data, { decision: approval.votes }),
    });
    return { outcome: 'cancelled' };
  }
  await caseRuntime.moveTo(RISK_ACCEPTANCE_STAGE.inForce, {
    actorId: 'system',
    action: 'risk.acceptance_in_force',
    reason: `accepted at residual ${recorded.residual.probability}×${recorded.residual.impact} (${recorded.residualLevel}) until ${input.expiresAt}`,
    dueAt: input.expiresAt,
    data: Object.assign(data, {
      decision: approval.votes,
      acceptedResidual: recorded.residual,
      acceptedLevel: recorded.residualLevel,
    }),
  });

  // In force until the rating changes or the expiry passes (a durable timer).
  const untilExpiry = Math.max(0, new Date(input.expiresAt).getTime() - Date.now());
  const changed = untilExpiry > 0 ? await condition(() => change !== undefined, untilExpiry) : change !== undefined;
  const staleReason: StaleReason = changed ? 'rating_changed' : 'expired';
  const reason = change
    ? `the residual rating changed (${change.from.probability}×${change.from.impact} → ${change.to.probability}×${change.to.impact}, version ${change.version}): ${change.reason}`
    : `the acceptance expired at ${input.expiresAt}`;
  stale = true;
  const { reviewDue } = await acts.markRiskAcceptanceStale({
    caseId: input.caseId,
    riskKey: input.riskKey,
    staleReason,
    reason,
    actorId: change?.actorId ?? 'system',
  });
  await acts.notify({
    caseId: input.caseId,
    kind: 'expiry',
    recipientId: input.ownerId,
    message: `The acceptance of risk ${input.riskKey} is stale (${reason}); review it by ${reviewDue.slice(0, 10)}.`,
  });
  await caseRuntime.close('closed_out', {
    actorId: change?.actorId ?? 'system',
    action: 'risk.acceptance_closed',
    reason: `stale: ${reason}`,
    data: Object.assign(data, { staleReason, reviewDue }),
  });
  return { outcome: 'stale', staleReason };
}
