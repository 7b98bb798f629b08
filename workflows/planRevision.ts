/**
 * Emergency plan revision (预案修订), DOMAIN.md §4: draft → review →
 * approval (segregation of duties) → published, with the version history kept.
 * Its steps, stages and id: contracts/planRevision.ts; review and approval
 * both show the stage awaiting_approval.
 * A published version starts the plan's revision clock: it falls due after
 * the policy's interval (at most three years, e-commerce manual §7.3), with a
 * reminder before and escalation at the due date.
 */
import { condition, patched, setHandler } from '@temporalio/workflow';
import { SHARED_STAGES } from '../contracts/core';
import { planRevisionContract, planRevisionKey, type PlanRevisionStage } from '../contracts/planRevision';
import { STANDARD_APPROVAL_POLICY, type ApprovalPolicy } from '../domain/approval';
import type { ApprovalTimings, StepTimings } from '../domain/deadlines';
import { revisionApprovalBarred, type PlanTimings, type PlanType } from '../domain/drills';
import { DEFAULT_POLICY, type PolicySnapshot } from '../domain/policy';
import { caseSnapshotQuery } from './definitions';
import { acts } from './shared/activities';
import { ApprovalDesk } from './shared/approvals';
import { CaseRuntime } from './shared/caseRuntime';
import { awaitStep } from './shared/humanSteps';
import { APPROVER_ROLES } from '../domain/roles';

export interface PlanRevisionInput {
  caseId: string;
  planId: string;
  planTitle: string;
  version: number;
  /** Drafts the revision: the plan owner. */
  ownerId: string;
  initiatorId: string;
  reason: string;
  sourceCaseId?: string;
  /**
   * The first revision registers its plan, as its first step: registering a
   * plan and opening its first revision are then one start, which no crash
   * can leave half done (platform/cases.ts `registerEmergencyPlan`).
   */
  register?: { type: PlanType; timings: PlanTimings };
  /**
   * The policy the revision runs under (the draft's and the approvals'
   * ladders, the revision interval). Absent in revisions started before
   * policies existed (the defaults) and in those started without it: those
   * read the policy in force as they open.
   */
  policy?: PolicySnapshot;
  /** Per-case overrides of the policy's ladders (the plan's timings.draft), where the deployment allows them. */
  timings?: { approval?: Partial<ApprovalTimings>; draft?: Partial<StepTimings> };
}

/** patched() id: a revision started without a policy reads the one in force as it opens. */
export const PLAN_REVISION_READS_POLICY = 'plan-revision-reads-policy';

/** Review and approval: approve, or return to draft with the reason. */
const REVISION_POLICY: ApprovalPolicy = {
  ...STANDARD_APPROVAL_POLICY,
  decisions: ['approve', 'reject'],
  needsConditions: [],
};

export async function planRevisionWorkflow(input: PlanRevisionInput): Promise<{ version: number; rounds: number }> {
  const draft: { summary?: string; document?: { id: string; sha256: string }; by?: string; rounds: number } = {
    rounds: 0,
  };
  let awaitingDraft = true;
  const caseRuntime = new CaseRuntime({
    caseId: input.caseId,
    process: 'plan_revision',
    businessKey: planRevisionKey(input.planId, input.version),
    title: `Revise ${input.planTitle} to v${input.version}`,
    description: input.reason,
    stage: 'draft' satisfies PlanRevisionStage,
    initiatorId: input.initiatorId,
    ownerId: input.ownerId,
    ownerRole: 'manager',
    subjectType: 'emergency_plan',
    subjectId: input.planId,
    parentCaseId: input.sourceCaseId,
    data: {
      planId: input.planId,
      version: input.version,
      reason: input.reason,
      sourceCaseId: input.sourceCaseId ?? null,
    },
  });
  setHandler(caseSnapshotQuery, () => caseRuntime.snapshot());
  const desk = new ApprovalDesk(caseRuntime);

  // Typed by the contract's stages, so a stage the contract does not name is a compile error.
  const moveTo = (stage: PlanRevisionStage, options: Parameters<CaseRuntime['moveTo']>[1]) =>
    caseRuntime.moveTo(stage, options);

  // The plan owner drafts (who and when: the contract); the route has stored the document.
  caseRuntime.step(planRevisionContract.steps.draft, async ({ actor, summary, document }) => {
    draft.summary = summary.trim();
    draft.document = document;
    draft.by = actor.userId;
    awaitingDraft = false;
    await moveTo(SHARED_STAGES.awaitingApproval, {
      actorId: actor.userId,
      action: 'plan.draft_submitted',
      data: { ...caseRuntime.record.data, draft },
      payload: { summary: draft.summary, sha256: document.sha256 },
    });
    return { stage: caseRuntime.stage };
  });

  // The API passes the policy in force; a revision a drill or the revision
  // clock opens reads it here (revisions recorded before policies keep the defaults).
  const snapshot = input.policy ?? (patched(PLAN_REVISION_READS_POLICY) ? await acts.currentPolicy() : undefined);
  const policy = snapshot?.values ?? DEFAULT_POLICY;
  if (snapshot) caseRuntime.record.policyVersion = snapshot.version;
  const timings = { ...policy.approval, ...input.timings?.approval };
  const draftTimings = { ...policy.plan.draft, ...input.timings?.draft };

  if (input.register) {
    await acts.registerPlan({
      planId: input.planId,
      title: input.planTitle,
      type: input.register.type,
      ownerId: input.ownerId,
      timings: input.register.timings,
      registeredBy: input.initiatorId,
      revisionCaseId: input.caseId,
    });
  }
  await caseRuntime.open();
  for (;;) {
    draft.rounds += 1;
    // The owner owes the draft: a task in their inbox, reminded, escalated, overdue (still owed) at the end.
    await awaitStep(caseRuntime, {
      name: `draft-${draft.rounds}`,
      title: `Draft ${input.planTitle} v${input.version}`,
      assigneeId: input.ownerId,
      candidateRoles: [],
      timings: draftTimings,
      done: () => !awaitingDraft,
    });
    // Review by a manager, then approval by an approver: neither the drafter
    // nor whoever opened it, and not one person twice.
    const reviewBarred = revisionApprovalBarred({
      ownerId: input.ownerId,
      initiatorId: input.initiatorId,
      draftedBy: draft.by,
    });
    const review = await desk.request({
      name: `review-${draft.rounds}`,
      title: `Review the draft of ${input.planTitle} v${input.version}`,
      candidateRoles: ['manager'],
      approvalsRequired: 1,
      excludedUserIds: reviewBarred.map((b) => b.userId),
      barred: reviewBarred,
      timings,
      policy: REVISION_POLICY,
    });
    const approval =
      review.status === 'approved'
        ? await (async () => {
            const approvalBarred = revisionApprovalBarred({
              ownerId: input.ownerId,
              initiatorId: input.initiatorId,
              draftedBy: draft.by,
              reviewedBy: review.votes.map((v) => v.userId),
            });
            // Still awaiting approval: the stage stays, the audit trail records the review.
            await moveTo(SHARED_STAGES.awaitingApproval, {
              actorId: review.votes.at(-1)?.userId ?? 'system',
              action: 'plan.reviewed',
              payload: { barred: approvalBarred },
            });
            return desk.request({
              name: `approval-${draft.rounds}`,
              title: `Approve ${input.planTitle} v${input.version}`,
              candidateRoles: [...APPROVER_ROLES],
              approvalsRequired: 1,
              excludedUserIds: approvalBarred.map((b) => b.userId),
              barred: approvalBarred,
              timings,
              policy: REVISION_POLICY,
            });
          })()
        : review;
    if (approval.status === 'approved') {
      await moveTo('published', {
        actorId: approval.votes.at(-1)?.userId ?? 'system',
        action: 'plan.approved',
      });
      const published = await acts.publishPlanVersion({
        planId: input.planId,
        version: input.version,
        summary: draft.summary!,
        evidenceId: draft.document!.id,
        sha256: draft.document!.sha256,
        approvedBy: [...review.votes, ...approval.votes].map((v) => v.userId),
        revisionCaseId: input.caseId,
        revisionIntervalYears: policy.plan.revisionIntervalYears,
      });
      await caseRuntime.close('approved', {
        actorId: 'system',
        reason: `v${input.version} published; next revision due ${published.revisionDueAt}`,
        data: { ...caseRuntime.record.data, draft, revisionDueAt: published.revisionDueAt },
      });
      return { version: input.version, rounds: draft.rounds };
    }
    // Returned (or lapsed): back to the owner for another draft.
    awaitingDraft = true;
    await moveTo('draft', {
      actorId: approval.votes.at(-1)?.userId ?? 'system',
      action: 'plan.returned_to_draft',
      reason: approval.votes.at(-1)?.comment ?? approval.status,
    });
  }
}

/**
 * The revision clock of one plan (due the policy's interval after approval,
 * at most three years): reminder to the owner, then escalation and a
 * revision case, which reads the policy in force as it opens.
 */
export async function planRevisionClockWorkflow(input: {
  planId: string;
  planTitle: string;
  ownerId: string;
  dueAt: string;
  remindAt: string;
}): Promise<void> {
  const wait = (iso: string) => condition(() => false, Math.max(1, Date.parse(iso) - Date.now()));
  await wait(input.remindAt);
  await acts.notify({
    caseId: `plan-revision-clock:${input.planId}`,
    kind: 'reminder',
    recipientId: input.ownerId,
    message: `Reminder: ${input.planTitle} falls due for revision on ${input.dueAt}`,
  });
  await wait(input.dueAt);
  await acts.notify({
    caseId: `plan-revision-clock:${input.planId}`,
    kind: 'escalation',
    recipientRole: 'manager',
    message: `${input.planTitle} is due for its periodic revision (${input.dueAt}); a revision case is opened`,
  });
  await acts.openPlanRevision({
    planId: input.planId,
    reason: `periodic revision due ${input.dueAt}`,
    initiatorId: 'system',
  });
}
