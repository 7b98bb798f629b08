/**
 * The one engine for every human wait. A wait is a task row (who is
 * expected, by when) with a ladder of deadlines: a reminder, an escalation
 * one role up, and an explicit outcome at the final deadline. Approvals
 * (./approvals.ts) climb the same ladder; so does every other step a case
 * waits for (a draft, a drill plan, an evaluation, KPI values…).
 *
 * At the final deadline an approval lapses ('expired', never approved by
 * default). An obligation does not lapse: the wait is marked overdue,
 * management is told, and the step stays open to whoever owes it.
 */
import { condition, patched } from '@temporalio/workflow';
import type { ApprovalTimings } from '../../domain/deadlines';
import { parseDuration } from '../../domain/durations';
import { ESCALATION_ROLE, type Role } from '../../domain/roles';
import { acts } from './activities';
import type { CaseRuntime } from './caseRuntime';

/** patched() id: a reminder is one notify activity for all candidate roles. */
const ONE_NOTICE_PER_RUNG = 'one-notice-per-rung';

/**
 * The roles a case recorded before functional roles existed notified: where
 * the code now names several functions (risk, compliance, legal, internal
 * audit), it named the one role 'approver'. Replay must issue as many notices.
 */
function rolesBeforeFunctions(roles: Role[]): Role[] {
  const functions: Role[] = ['risk', 'compliance', 'legal', 'internal_audit'];
  let seen = false;
  return roles.filter((r) => !functions.includes(r) || (!seen && (seen = true)));
}

export interface Ladder {
  taskId: string;
  title: string;
  /** Who is reminded: these roles, or the assignee. */
  recipientRoles: Role[];
  assigneeId?: string;
  timings: ApprovalTimings;
  done: () => boolean;
  /** What the reminder and escalation say is awaited, e.g. "your decision". */
  awaiting: string;
  /** Who hears of it at the escalation; one role up from the first recipient role when not said. */
  escalateTo?: Role;
  /** Names the audit actions: approval.reminded, task.escalated… */
  kind: 'approval' | 'task';
}

/**
 * Climbs the ladder until `done` holds or the final deadline passes.
 * Returns 'done', or 'expired' at the final deadline (the caller records
 * the outcome that fits: lapse or overdue).
 */
export async function climbLadder(caseRuntime: CaseRuntime, ladder: Ladder): Promise<'done' | 'expired'> {
  const { caseId } = caseRuntime;
  const openedAt = Date.now();
  const [remindAt, escalateAt, expireAt] = [
    ladder.timings.remindAfter,
    ladder.timings.escalateAfter,
    ladder.timings.expireAfter,
  ].map((d) => openedAt + parseDuration(d)) as [number, number, number];
  caseRuntime.trackDeadline(new Date(escalateAt).toISOString());

  if (!(await condition(ladder.done, remindAt - Date.now()))) {
    // One notice per rung, to every candidate role at once: approvals now
    // go to three functions, and a rung must stay one activity whatever the
    // roles (cases recorded earlier notified role by role).
    const recipients = ladder.assigneeId
      ? [{ recipientId: ladder.assigneeId }]
      : patched(ONE_NOTICE_PER_RUNG)
        ? [{ recipientRoles: ladder.recipientRoles }]
        : rolesBeforeFunctions(ladder.recipientRoles).map((role) => ({ recipientRole: role }));
    for (const recipient of recipients) {
      await acts.notify({
        caseId,
        taskId: ladder.taskId,
        kind: 'reminder',
        ...recipient,
        message: `Reminder: "${ladder.title}" awaits ${ladder.awaiting} by ${new Date(escalateAt).toISOString()}`,
      });
    }
    await acts.changeTask({
      taskId: ladder.taskId,
      caseId,
      actorId: 'system',
      action: `${ladder.kind}.reminded`,
      patch: { remindedAt: new Date().toISOString() },
    });
  }
  if (!(await condition(ladder.done, escalateAt - Date.now()))) {
    const escalatedTo = ladder.escalateTo ?? ESCALATION_ROLE[ladder.recipientRoles[0] ?? 'risk'];
    await acts.notify({
      caseId,
      taskId: ladder.taskId,
      kind: 'escalation',
      recipientRole: escalatedTo,
      message: `Escalation: "${ladder.title}" was not done by its deadline; final deadline ${new Date(expireAt).toISOString()}`,
    });
    await acts.changeTask({
      taskId: ladder.taskId,
      caseId,
      actorId: 'system',
      action: `${ladder.kind}.escalated`,
      patch: { escalatedAt: new Date().toISOString(), escalatedTo, dueAt: new Date(expireAt).toISOString() },
    });
    caseRuntime.trackDeadline(new Date(expireAt).toISOString());
  }
  return (await condition(ladder.done, expireAt - Date.now())) ? 'done' : 'expired';
}

export interface StepWait {
  /** Unique within the case, e.g. "drill-plan"; the task id is "<caseId>:<name>". */
  name: string;
  title: string;
  /** The person who owes the step; the roles that may also take it. */
  assigneeId?: string;
  candidateRoles: Role[];
  timings: ApprovalTimings;
  /** True once the step has been taken (the step's handler makes it so). */
  done: () => boolean;
}

/**
 * Waits for a human step with a task row and the deadline ladder. Past the
 * final deadline the task is marked overdue, management is told, and the
 * wait goes on: the step stays owed. Returns who took it.
 */
export async function awaitStep(caseRuntime: CaseRuntime, wait: StepWait): Promise<{ takenBy: string }> {
  const taskId = `${caseRuntime.caseId}:${wait.name}`;
  caseRuntime.openTaskIds.add(taskId);
  await acts.openTask({
    taskId,
    caseId: caseRuntime.caseId,
    kind: 'step',
    title: wait.title,
    candidateRoles: wait.candidateRoles,
    assigneeId: wait.assigneeId,
    dueAt: new Date(Date.now() + parseDuration(wait.timings.escalateAfter)).toISOString(),
    actorId: 'system',
  });
  const outcome = await climbLadder(caseRuntime, {
    taskId,
    title: wait.title,
    recipientRoles: wait.candidateRoles,
    assigneeId: wait.assigneeId,
    timings: wait.timings,
    done: wait.done,
    awaiting: 'this step',
    kind: 'task',
  });
  if (outcome === 'expired') {
    await acts.notify({
      caseId: caseRuntime.caseId,
      taskId,
      kind: 'overdue',
      recipientRole: 'admin',
      message: `Overdue: "${wait.title}" is past its final deadline and still owed`,
    });
    await acts.changeTask({
      taskId,
      caseId: caseRuntime.caseId,
      actorId: 'system',
      action: 'task.overdue',
      reason: 'not done by the final deadline; still owed',
      patch: { status: 'overdue' },
    });
    await condition(wait.done);
  }
  const takenBy = caseRuntime.lastStepBy ?? 'system';
  await acts.changeTask({
    taskId,
    caseId: caseRuntime.caseId,
    actorId: takenBy,
    action: 'task.done',
    patch: { status: 'done', decidedBy: takenBy, decidedAt: new Date().toISOString() },
  });
  caseRuntime.openTaskIds.delete(taskId);
  return { takenBy };
}
