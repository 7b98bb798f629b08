/**
 * A governance approval request (审批申请): a manager asks for a decision
 * (a policy exception, a new partner onboarding, a control change); approvers
 * decide under segregation of duties and, for high risk, four-eyes; any
 * conditions attached to the approval become rectification items that must be
 * done and verified before the case closes (闭环).
 */
import { setHandler } from '@temporalio/workflow';
import { PROCESS_LABELS } from '../domain/cases';
import type { ApprovalTimings, RectificationTimings } from '../domain/deadlines';
import { DEFAULT_APPROVAL_TIMINGS, DEFAULT_RECTIFICATION_TIMINGS } from '../domain/deadlines';
import { parseDuration } from '../domain/durations';
import { DEFAULT_VERIFIER_ROLES } from '../domain/rectification';
import { DEFAULT_POLICY, type PolicySnapshot } from '../domain/policy';
import { approvalsRequiredFor, riskLevelFromMatrix, type RiskLevel } from '../domain/risk';
import { APPROVER_ROLES, type Role } from '../domain/roles';
import { caseSnapshotQuery } from './definitions';
import type { RectificationItemResult } from './rectificationItem';
import { executeItem } from './shared/items';
import { ApprovalDesk, type ApprovalOutcome } from './shared/approvals';
import { CaseRuntime } from './shared/caseRuntime';

export interface ApprovalRequestInput {
  caseId: string;
  requestKey: string;
  title: string;
  description?: string;
  /** Declared by the caller in cases started before risk was scored; now the matrix decides (`assessment`). */
  riskLevel?: RiskLevel;
  /** The risk matrix cell (1–5 each): the level follows from it and the policy's cut-offs. */
  assessment?: { probability: number; impact: number };
  /** The policy the case runs under; absent in cases started before policies existed. */
  policy?: PolicySnapshot;
  initiatorId: string;
  /** Carries out any conditions; defaults to the initiator. */
  ownerId?: string;
  approverRoles?: Role[];
  approvalTimings?: Partial<ApprovalTimings>;
  rectificationTimings?: Partial<RectificationTimings>;
}

export interface ApprovalRequestResult {
  outcome: ApprovalOutcome['status'];
  approval: ApprovalOutcome;
  rectifications: RectificationItemResult[];
}

export async function approvalRequestWorkflow(input: ApprovalRequestInput): Promise<ApprovalRequestResult> {
  const ownerId = input.ownerId ?? input.initiatorId;
  const policy = input.policy?.values;
  // The level always comes from the matrix (probability × impact), never from the caller.
  const riskLevel: RiskLevel = input.assessment
    ? riskLevelFromMatrix(input.assessment.probability, input.assessment.impact, policy?.risk ?? DEFAULT_POLICY.risk)
    : input.riskLevel!;
  const approvalTimings = { ...(policy?.approval ?? DEFAULT_APPROVAL_TIMINGS), ...input.approvalTimings };
  const caseRuntime = new CaseRuntime({
    caseId: input.caseId,
    process: 'approval_request',
    businessKey: input.requestKey,
    title: input.title,
    description: input.description,
    stage: 'awaiting_approval',
    riskLevel,
    initiatorId: input.initiatorId,
    ownerId,
    ownerRole: 'manager',
    // The decision is due when the approval would escalate: past it, the case is overdue.
    dueAt: new Date(Date.now() + parseDuration(approvalTimings.escalateAfter)).toISOString(),
    data: {
      label: PROCESS_LABELS.approval_request,
      ...(input.assessment
        ? { assessment: { ...input.assessment, score: input.assessment.probability * input.assessment.impact } }
        : {}),
    },
    ...(input.policy ? { policyVersion: input.policy.version } : {}),
  });
  setHandler(caseSnapshotQuery, () => caseRuntime.snapshot());
  const desk = new ApprovalDesk(caseRuntime);
  await caseRuntime.open();

  const approval = await desk.request({
    name: 'approval',
    title: `Approve: ${input.title}`,
    candidateRoles: input.approverRoles ?? [...APPROVER_ROLES],
    approvalsRequired: approvalsRequiredFor(riskLevel),
    excludedUserIds: [...new Set([input.initiatorId, ownerId])],
    timings: approvalTimings,
  });

  const rectifications: RectificationItemResult[] = [];
  if (approval.status === 'approved_with_conditions') {
    const timings = { ...(policy?.rectification ?? DEFAULT_RECTIFICATION_TIMINGS), ...input.rectificationTimings };
    const dueAt = new Date(Date.now() + parseDuration(timings.dueIn)).toISOString();
    await caseRuntime.moveTo('rectification', {
      actorId: 'system',
      reason: `${approval.conditions.length} condition(s) to carry out`,
      dueAt,
      payload: { conditions: approval.conditions },
    });
    const results = await Promise.all(
      approval.conditions.map((condition, index) =>
        executeItem({
          workflowId: `${input.caseId}:rectification:${index + 1}`,
          args: [
            {
              parentCaseId: input.caseId,
              title: condition,
              ownerId,
              verifierRoles: DEFAULT_VERIFIER_ROLES,
              dueAt,
              timings,
              riskLevel,
              openedBy: 'system',
            },
          ],
        }),
      ),
    );
    rectifications.push(...results);
  }

  await caseRuntime.close(approval.status, {
    actorId: 'system',
    reason:
      approval.status === 'expired'
        ? 'no decision by the final deadline'
        : rectifications.length
          ? 'every condition carried out and verified'
          : undefined,
    payload: { votes: approval.votes.length, rectifications: rectifications.length },
  });
  return { outcome: approval.status, approval, rectifications };
}
