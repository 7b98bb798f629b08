/**
 * Checks shared by the tests of every human wait (workflows/shared/humanSteps.ts
 * `awaitStep`): the task in the inbox, the ladder it climbs, and who closed it.
 */
import { expect } from 'vitest';
import { eventually, type Harness, type TestUser } from './harness';

/** A ladder the tests can watch: reminded after 1 s, escalated after 2 s, overdue after 3 s. */
export const SHORT_STEP = { remindAfter: '1s', escalateAfter: '2s', expireAfter: '3s' };

const inboxTask = async (h: Harness, as: TestUser, taskId: string) =>
  (await h.api('GET', '/api/tasks/inbox', { as })).body.toDo.find((t: { id: string }) => t.id === taskId);

/**
 * The step is owed at once, with no polling: the task is in `as`'s inbox
 * (`toDo`), assigned to `assigneeId`, due at its escalation (SHORT_STEP).
 */
export async function expectOwedStep(h: Harness, as: TestUser, taskId: string, assigneeId: string) {
  const task = await inboxTask(h, as, taskId);
  expect(task, `${taskId} in the inbox of ${as}`).toMatchObject({ kind: 'step', assigneeId, status: 'open' });
  const dueIn = Date.parse(task.dueAt) - Date.parse(task.createdAt);
  expect(dueIn).toBeGreaterThan(1_000);
  expect(dueIn).toBeLessThanOrEqual(2_000);
}

/**
 * Past its final deadline the step's task is overdue and still in the inbox;
 * the assignee was reminded, `escalatedTo` told, then admin.
 */
export async function expectOverdueStep(
  h: Harness,
  as: TestUser,
  taskId: string,
  { assigneeId, escalatedTo }: { assigneeId: string; escalatedTo: string },
) {
  const task = await eventually(async () => {
    const [row] = await h.sql('select * from tasks where id = $1', [taskId]);
    return row?.status === 'overdue' ? row : null;
  }, 20_000);
  expect(task.reminded_at).toBeInstanceOf(Date);
  expect(task.escalated_at).toBeInstanceOf(Date);
  expect(task.escalated_to).toBe(escalatedTo);
  const notes = await h.sql(
    'select kind, recipient_role, recipient_id from notifications where task_id = $1 order by created_at',
    [taskId],
  );
  expect(notes).toEqual([
    { kind: 'reminder', recipient_role: null, recipient_id: assigneeId },
    { kind: 'escalation', recipient_role: escalatedTo, recipient_id: null },
    { kind: 'overdue', recipient_role: 'admin', recipient_id: null },
  ]);
  expect(await inboxTask(h, as, taskId)).toMatchObject({ status: 'overdue', overdue: true });
}

/** Once taken, the step's task is done, as the taker's, and no longer in the inbox. */
export async function expectStepDone(h: Harness, as: TestUser, taskId: string, takenBy: string) {
  const [row] = await h.sql('select status, decided_by, decided_at from tasks where id = $1', [taskId]);
  expect(row).toMatchObject({ status: 'done', decided_by: takenBy });
  expect(row.decided_at).toBeInstanceOf(Date);
  expect(await inboxTask(h, as, taskId)).toBeUndefined();
}
