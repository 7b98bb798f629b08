/**
 * Activities are idempotent: a retried activity (same workflow, run and
 * activity id) never writes twice. Driven on the real PostgreSQL through the
 * SDK's activity environment, which supplies only the activity's identity.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import { useHarness } from '../support/harness';

const h = useHarness('idempotency');

function environment(workflowId: string, activityId: string, attempt: number) {
  return new MockActivityEnvironment({
    activityId,
    attempt,
    workflowExecution: { workflowId, runId: 'run-1' },
  } as never);
}

describe('activity idempotency', () => {
  it('a retried write appends one audit event and leaves one row', async () => {
    const activities = createActivities({ db: h.database.db });
    const caseId = h.unique('case');
    const input = {
      caseId,
      process: 'approval_request',
      businessKey: caseId,
      title: 'Retried',
      stage: 'awaiting_approval',
      probability: 1,
      impact: 2,
      initiatorId: 'mgr',
    };
    for (const attempt of [1, 2, 3]) await environment(caseId, '1', attempt).run(activities.openCase, input);
    const taskInput = {
      taskId: `${caseId}:approval`,
      caseId,
      kind: 'approval' as const,
      title: 't',
      candidateRoles: ['risk' as const],
      actorId: 'system',
    };
    for (const attempt of [1, 2]) await environment(caseId, '2', attempt).run(activities.openTask, taskInput);
    const notify = {
      caseId,
      taskId: taskInput.taskId,
      kind: 'reminder' as const,
      recipientRole: 'risk' as const,
      message: 'm',
    };
    for (const attempt of [1, 2]) await environment(caseId, '3', attempt).run(activities.notify, notify);
    // A different activity call (another activity id) is a new write.
    await environment(caseId, '4', 1).run(activities.notify, notify);

    expect(await h.sql('select id from cases where id = $1', [caseId])).toHaveLength(1);
    expect(await h.sql('select id from tasks where case_id = $1', [caseId])).toHaveLength(1);
    expect(await h.sql('select id from notifications where case_id = $1', [caseId])).toHaveLength(2);
    const events = await h.sql('select action from audit_events where case_id = $1 order by seq', [caseId]);
    expect(events.map((e) => e.action)).toEqual([
      'case.opened',
      'approval.opened',
      'notification.reminder',
      'notification.reminder',
    ]);
  });

  it('a write that fails part-way leaves neither the change nor its audit event', async () => {
    const activities = createActivities({ db: h.database.db });
    const caseId = h.unique('atomic');
    const before = await h.sql('select count(*)::int as n from audit_events');
    // A task for a case that does not exist violates the foreign key.
    await expect(
      environment(caseId, '1', 1).run(activities.openTask, {
        taskId: `${caseId}:approval`,
        caseId,
        kind: 'approval' as const,
        title: 't',
        candidateRoles: ['risk' as const],
        actorId: 'system',
      }),
    ).rejects.toThrow();
    const after = await h.sql('select count(*)::int as n from audit_events');
    expect(after[0].n).toBe(before[0].n);
  });
});
