/**
 * A rectification item (整改项) as a child workflow: the owner carries it out
 * and submits completion with evidence; someone other than the owner verifies
 * it (accept, or return with a reason); it closes only when verified. It is
 * reminded before its due date and escalated when overdue, and it never
 * lapses: an open item stays open until it is done.
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  getExternalWorkflowHandle,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { RectificationTimings } from '../domain/deadlines';
import { rectificationReminderAt } from '../domain/deadlines';
import { parseDuration } from '../domain/durations';
import { checkSubmission, checkVerification, type RectificationState } from '../domain/rectification';
import { ESCALATION_ROLE, type Role } from '../domain/roles';
import {
  caseSnapshotQuery,
  rectificationItemSignal,
  submitRectificationUpdate,
  verifyRectificationUpdate,
  type RectificationResult,
} from './definitions';
import { GovDueAt, GovOutcome, GovOwnerRole, GovProcess, GovRiskLevel, GovStage } from './searchAttributes';
import { inputRefusal } from '../contracts/core';
import { taskContract } from '../contracts/tasks';
import { acts } from './shared/activities';
import { barredFrom } from '../domain/approval';

export interface RectificationItemInput {
  /** The parent case this item belongs to (its read-model row and audit trail). */
  parentCaseId: string;
  title: string;
  ownerId: string;
  verifierRoles: Role[];
  dueAt: string;
  timings: Pick<RectificationTimings, 'remindBefore' | 'escalateAgainAfter'>;
  riskLevel?: string;
  openedBy: string;
}

export interface RectificationItemResult extends Omit<RectificationResult, 'status'> {
  /** 'failed': the item's workflow failed or was terminated; its case recorded it (shared/items.ts). */
  status: RectificationResult['status'] | 'failed';
  taskId: string;
  verifiedBy: string;
}

function refuse(refusal: { code: string; message: string; details?: Record<string, unknown> } | null): void {
  if (refusal)
    throw ApplicationFailure.create({
      type: refusal.code,
      message: refusal.message,
      nonRetryable: true,
      ...(refusal.details ? { details: [refusal.details] } : {}),
    });
}

export async function rectificationItemWorkflow(input: RectificationItemInput): Promise<RectificationItemResult> {
  const { workflowId: taskId } = workflowInfo();
  const caseId = input.parentCaseId;
  // Whoever asked for the item (an evaluator, a handler, an auditor) does not verify it either.
  const barred = barredFrom([[input.openedBy === input.ownerId ? null : input.openedBy, 'asked for this item']]);
  const item: RectificationState = {
    status: 'open',
    ownerId: input.ownerId,
    verifierRoles: input.verifierRoles,
    barredFor: Object.fromEntries(barred.map((b) => [b.userId, b.reasons])),
  };
  let submissions = 0;
  /** The task row exists; Update handlers write to it only then. */
  let opened = false;
  let verifiedBy = '';
  /** The parent case learns of this item's row and of its verification (see shared/items.ts). */
  const parentId = workflowInfo().parent?.workflowId;
  const tellParent = async (event: 'opened' | 'closed') => {
    if (!parentId) return;
    await getExternalWorkflowHandle(parentId).signal(rectificationItemSignal, {
      taskId,
      event,
      ...(event === 'closed' ? { result: { taskId, status: item.status, submissions, verifiedBy } } : {}),
    });
  };

  const mirror = () =>
    upsertSearchAttributes([
      { key: GovProcess, value: 'rectification' },
      { key: GovStage, value: item.status === 'verified' ? 'closed' : item.status },
      { key: GovOwnerRole, value: 'action_owner' },
      { key: GovRiskLevel, value: input.riskLevel ?? null },
      { key: GovDueAt, value: item.status === 'verified' ? null : new Date(input.dueAt) },
      { key: GovOutcome, value: item.status === 'verified' ? 'verified' : null },
    ]);
  mirror();

  setHandler(
    submitRectificationUpdate,
    async ({ actor, evidence, comment }) => {
      item.status = 'submitted';
      submissions += 1;
      mirror();
      // The write finishes before the Update returns, so the caller's next
      // read of the case already shows it.
      await condition(() => opened);
      await acts.changeTask({
        taskId,
        caseId,
        actorId: actor.userId,
        action: 'rectification.submitted',
        reason: comment,
        patch: { status: 'submitted', evidenceIds: evidence.map((e) => e.id), comment },
        evidenceHashes: evidence.map((e) => e.sha256),
        payload: { submission: submissions },
      });
      return { status: item.status, submissions };
    },
    {
      validator: ({ actor, ...input }) =>
        refuse(
          checkSubmission(item, actor, input.evidence?.length ?? 0) ??
            inputRefusal(taskContract.steps.submission, input),
        ),
    },
  );

  setHandler(
    verifyRectificationUpdate,
    async ({ actor, verdict, reason }) => {
      const accepted = verdict === 'accept';
      item.status = accepted ? 'verified' : 'returned';
      if (accepted) verifiedBy = actor.userId;
      mirror();
      await acts.changeTask({
        taskId,
        caseId,
        actorId: actor.userId,
        action: accepted ? 'rectification.verified' : 'rectification.returned',
        reason,
        patch: accepted
          ? { status: 'done', decision: 'verified', decidedBy: actor.userId, decidedAt: new Date().toISOString() }
          : { status: 'returned', decision: 'returned', comment: reason },
      });
      // Before this Update answers, the parent knows: a close-out sent right
      // after it must not find this item still open.
      if (accepted) await tellParent('closed');
      if (!accepted) {
        await acts.notify({
          caseId,
          taskId,
          kind: 'reminder',
          recipientId: input.ownerId,
          message: `"${input.title}" was returned: ${reason}`,
        });
      }
      return { status: item.status, submissions };
    },
    {
      validator: ({ actor, ...input }) =>
        refuse(
          checkVerification(item, actor, input.verdict, input.reason) ??
            inputRefusal(taskContract.steps.verification, input),
        ),
    },
  );

  setHandler(caseSnapshotQuery, () => ({
    caseId: taskId,
    stage: item.status,
    status: item.status === 'verified' ? 'closed' : 'open',
    outcome: item.status === 'verified' ? 'verified' : undefined,
    openTaskIds: item.status === 'verified' ? [] : [taskId],
  }));

  await acts.openTask({
    taskId,
    caseId,
    kind: 'rectification',
    title: input.title,
    candidateRoles: ['action_owner'],
    assigneeId: input.ownerId,
    excludedUserIds: barred.map((b) => b.userId),
    dueAt: input.dueAt,
    actorId: input.openedBy,
  });
  opened = true;
  await tellParent('opened');

  const verified = () => item.status === 'verified';
  const dueMs = Date.parse(input.dueAt);
  const remindAt = rectificationReminderAt(Date.now(), dueMs, input.timings.remindBefore);

  if (!(await condition(verified, Math.max(0, remindAt - Date.now())))) {
    if (item.status === 'open' || item.status === 'returned') {
      await acts.notify({
        caseId,
        taskId,
        kind: 'reminder',
        recipientId: input.ownerId,
        message: `Reminder: rectification "${input.title}" is due ${input.dueAt}`,
      });
    }
  }
  // Overdue means not closed (verified) by the due date, whoever holds it now.
  const ladder: Array<{ at: number; role: Role }> = [
    { at: dueMs, role: ESCALATION_ROLE.action_owner },
    { at: dueMs + parseDuration(input.timings.escalateAgainAfter), role: ESCALATION_ROLE.manager },
  ];
  for (const [level, step] of ladder.entries()) {
    if (await condition(verified, Math.max(0, step.at - Date.now()))) break;
    await acts.notify({
      caseId,
      taskId,
      kind: level === 0 ? 'overdue' : 'escalation',
      recipientRole: step.role,
      message: `Overdue: rectification "${input.title}" was due ${input.dueAt} and is ${item.status}`,
    });
    await acts.changeTask({
      taskId,
      caseId,
      actorId: 'system',
      action: 'rectification.escalated',
      reason: level === 0 ? 'overdue' : 'still overdue',
      patch: { escalatedAt: new Date().toISOString(), escalatedTo: step.role },
    });
  }
  await condition(verified);
  await condition(allHandlersFinished);
  return { taskId, status: item.status, submissions, verifiedBy };
}
