/**
 * A policy change case (政策变更): compliance proposes new values for some of
 * the handbook parameters; approvers of two different functions, neither of
 * them the requester, approve it; then the next policy version is published
 * with the change applied to the version in force at that moment, so two
 * changes approved one after the other both stand. Cases already running
 * keep the version they started under.
 */
import { setHandler } from '@temporalio/workflow';
import { policyChangeContract } from '../contracts/policyChange';
import type { ApprovalPolicy } from '../domain/approval';
import { DEFAULT_APPROVAL_TIMINGS, type ApprovalTimings } from '../domain/deadlines';
import { parseDuration } from '../domain/durations';
import type { PolicySnapshot } from '../domain/policy';
import { APPROVER_ROLES } from '../domain/roles';
import { caseSnapshotQuery } from './definitions';
import { acts } from './shared/activities';
import { ApprovalDesk } from './shared/approvals';
import { CaseRuntime } from './shared/caseRuntime';

export interface PolicyChangeInput {
  caseId: string;
  changeKey: string;
  summary: string;
  /** The parameters to change, as a deep partial of the policy's values. */
  change: Record<string, unknown>;
  /** The parameters the change touches against the version it was requested under. */
  changed: string[];
  requestedBy: string;
  /** The policy in force when requested: its approval ladder runs this case. */
  policy: PolicySnapshot;
  approvalTimings?: Partial<ApprovalTimings>;
}

export interface PolicyChangeResult {
  outcome: string;
  version?: number;
}

/** Approve or reject; a policy is not changed "with conditions". */
const POLICY_CHANGE_APPROVAL: ApprovalPolicy = {
  decisions: ['approve', 'reject'],
  vetoes: ['reject'],
  fourEyes: ['approve'],
  needsReason: ['reject'],
  needsConditions: [],
};

export async function policyChangeWorkflow(input: PolicyChangeInput): Promise<PolicyChangeResult> {
  const timings = { ...(input.policy.values.approval ?? DEFAULT_APPROVAL_TIMINGS), ...input.approvalTimings };
  const caseRuntime = new CaseRuntime({
    caseId: input.caseId,
    process: policyChangeContract.process,
    businessKey: input.changeKey,
    title: `Policy change: ${input.summary}`,
    stage: 'awaiting_approval',
    riskLevel: 'high',
    initiatorId: input.requestedBy,
    ownerId: input.requestedBy,
    ownerRole: 'compliance',
    dueAt: new Date(Date.now() + parseDuration(timings.escalateAfter)).toISOString(),
    data: {
      label: { en: 'Policy change', zh: '政策变更' },
      change: input.change,
      changed: input.changed,
      basedOnVersion: input.policy.version,
    },
    policyVersion: input.policy.version,
  });
  setHandler(caseSnapshotQuery, () => caseRuntime.snapshot());
  const desk = new ApprovalDesk(caseRuntime);
  await caseRuntime.open();

  const approval = await desk.request({
    name: 'approval',
    title: `Approve the policy change: ${input.summary}`,
    candidateRoles: [...APPROVER_ROLES],
    approvalsRequired: 2,
    excludedUserIds: [input.requestedBy],
    timings,
    policy: POLICY_CHANGE_APPROVAL,
  });

  if (approval.status !== 'approved') {
    await caseRuntime.close(approval.status, {
      actorId: 'system',
      reason: approval.status === 'expired' ? 'no decision by the final deadline' : 'the change was rejected',
    });
    return { outcome: approval.status };
  }
  const published = await acts.publishPolicyVersion({
    changeCaseId: input.caseId,
    change: input.change,
    summary: input.summary,
    requestedBy: input.requestedBy,
    approvedBy: approval.votes.map((v) => v.userId),
  });
  if (!published.ok) {
    // Another change published since made this one invalid: nothing is changed.
    await caseRuntime.close('rejected', { actorId: 'system', reason: published.problem });
    return { outcome: 'rejected' };
  }
  await caseRuntime.close('approved', {
    actorId: 'system',
    reason: `policy version ${published.version} published`,
    payload: { version: published.version, changed: published.changed },
  });
  return { outcome: 'approved', version: published.version };
}
