/**
 * A supplier status change outside a review (contracts/supplierStatusChange.ts):
 * one approval under segregation of duties (neither the requester nor the
 * supplier's owner decides), four-eyes from two functions to end cooperation
 * or blacklist. Approved, the change is applied to the supplier (audited) and
 * its review Schedule follows; rejected or expired, the supplier is unchanged.
 */
import { setHandler } from '@temporalio/workflow';
import {
  STATUS_CHANGE_STAGES,
  SUPPLIER_STATUS_CHANGE_PROCESS,
  supplierStatusChangeKey,
} from '../contracts/supplierStatusChange';
import type { ApprovalPolicy } from '../domain/approval';
import type { ApprovalTimings } from '../domain/deadlines';
import { parseDuration } from '../domain/durations';
import { DEFAULT_POLICY, type PolicySnapshot } from '../domain/policy';
import { APPROVER_ROLES } from '../domain/roles';
import {
  LABELS,
  STATUS_CHANGE_LABELS,
  statusChangeNeedsFourEyes,
  type SupplierStatus,
  type SupplierStatusChange,
} from '../domain/supplierReview';
import { caseSnapshotQuery } from './definitions';
import { acts } from './shared/activities';
import { ApprovalDesk, type ApprovalOutcome } from './shared/approvals';
import { CaseRuntime } from './shared/caseRuntime';

export interface SupplierStatusChangeInput {
  caseId: string;
  supplierId: string;
  supplierName: string;
  /** Its sequence among the supplier's status changes: the business key's <n>. */
  sequence: number;
  change: SupplierStatusChange;
  reason: string;
  /** The supplier's status when the change was asked for, as approvers see it. */
  fromStatus: SupplierStatus;
  requesterId: string;
  /** The supplier's owner: never approves a change to the supplier they look after. */
  ownerId: string;
  /** The policy the case runs under (its approval ladder). */
  policy?: PolicySnapshot;
  /** Per-case timings, only where the deployment allows them (api/caseTimings.ts). */
  timings?: { approval?: Partial<ApprovalTimings> };
}

export interface SupplierStatusChangeData extends Record<string, unknown> {
  supplierId: string;
  supplierName: string;
  change: SupplierStatusChange;
  reason: string;
  fromStatus: SupplierStatus;
  requestedBy: string;
  decision?: { outcome: string; votes: ApprovalOutcome['votes'] };
  /** Once approved: the status the supplier moved to, or why it could not be applied. */
  applied?: { from: string; to: string } | { problem: string };
}

export interface SupplierStatusChangeResult {
  outcome: string;
  applied: boolean;
  from: string;
  to?: string;
}

/** Approve or reject; a rejection ends it at once and gives its reason. */
export const STATUS_CHANGE_APPROVAL_POLICY: ApprovalPolicy = {
  decisions: ['approve', 'reject'],
  vetoes: ['reject'],
  fourEyes: [],
  needsReason: ['reject'],
  needsConditions: [],
};

export async function supplierStatusChangeWorkflow(
  input: SupplierStatusChangeInput,
): Promise<SupplierStatusChangeResult> {
  const policy = input.policy?.values ?? DEFAULT_POLICY;
  const approvalTimings: ApprovalTimings = { ...policy.approval, ...input.timings?.approval };
  const fourEyes = statusChangeNeedsFourEyes(input.change);
  const label = STATUS_CHANGE_LABELS[input.change];
  const data: SupplierStatusChangeData = {
    supplierId: input.supplierId,
    supplierName: input.supplierName,
    change: input.change,
    reason: input.reason,
    fromStatus: input.fromStatus,
    requestedBy: input.requesterId,
  };
  const caseRuntime = new CaseRuntime({
    caseId: input.caseId,
    process: SUPPLIER_STATUS_CHANGE_PROCESS,
    businessKey: supplierStatusChangeKey(input.supplierId, input.sequence),
    title: `${label.en} (${label.zh}): ${input.supplierName}`,
    description: input.reason,
    stage: STATUS_CHANGE_STAGES[0],
    // The process's own rule: what ends a cooperation is high risk and takes four eyes.
    riskLevel: fourEyes ? 'high' : 'medium',
    initiatorId: input.requesterId,
    ownerId: input.ownerId,
    ownerRole: 'manager',
    dueAt: new Date(Date.now() + parseDuration(approvalTimings.escalateAfter)).toISOString(),
    subjectType: 'supplier',
    subjectId: input.supplierId,
    data,
    ...(input.policy ? { policyVersion: input.policy.version } : {}),
  });
  setHandler(caseSnapshotQuery, () => caseRuntime.snapshot());
  const desk = new ApprovalDesk(caseRuntime);
  await caseRuntime.open();

  const approval = await desk.request({
    name: 'approval',
    title: `Approve: ${label.en} — ${input.supplierName} (now ${LABELS.status[input.fromStatus].en.toLowerCase()})`,
    candidateRoles: [...APPROVER_ROLES],
    approvalsRequired: fourEyes ? 2 : 1,
    excludedUserIds: [...new Set([input.requesterId, input.ownerId])],
    timings: approvalTimings,
    policy: STATUS_CHANGE_APPROVAL_POLICY,
  });
  data.decision = { outcome: approval.status, votes: approval.votes };

  if (approval.status !== 'approved') {
    await caseRuntime.close(approval.status, {
      actorId: 'system',
      reason:
        approval.status === 'expired'
          ? 'no decision by the final deadline; the supplier is unchanged'
          : 'the supplier is unchanged',
      data,
    });
    return { outcome: approval.status, applied: false, from: input.fromStatus };
  }

  // Applied against the supplier as it is now: a review may have decided in the meantime.
  const applied = await acts.applySupplierStatusChange({
    caseId: input.caseId,
    supplierId: input.supplierId,
    change: input.change,
    reason: input.reason,
    requestedBy: input.requesterId,
    approvedBy: approval.votes.map((v) => v.userId),
  });
  if (!applied.applied) {
    data.applied = { problem: applied.problem };
    await caseRuntime.close('cancelled', {
      actorId: 'system',
      reason: `approved, but no longer applicable: ${applied.problem}`,
      data,
    });
    return { outcome: 'cancelled', applied: false, from: applied.from };
  }
  data.applied = { from: applied.from, to: applied.to };
  await acts.syncSupplierReviewSchedule({ supplierId: input.supplierId, status: applied.to });
  await caseRuntime.close('approved', {
    actorId: 'system',
    reason: `${applied.from} → ${applied.to}`,
    data,
    payload: { from: applied.from, to: applied.to },
  });
  return { outcome: 'approved', applied: true, from: applied.from, to: applied.to };
}
