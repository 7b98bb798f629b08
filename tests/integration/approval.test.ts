/**
 * The shared approval step, driven through the API against the real Temporal
 * dev server and the real PostgreSQL: happy path, segregation of duties,
 * four-eyes, reminders/escalation/expiry at deadlines, duplicate starts.
 */
import { describe, expect, it } from 'vitest';
import { GovDueAt, GovOutcome, GovProcess, GovRiskLevel, GovStage } from '../../workflows/searchAttributes';
import { eventually, useHarness } from '../support/harness';
import { acceptedSteps, saveHistoryFixture } from '../support/histories';

const h = useHarness('approval');

async function startCase(body: Record<string, unknown>) {
  const res = await h.api('POST', '/api/cases/approval-requests', { as: 'lead', json: body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const caseId: string = res.body.caseId;
  const taskId = `${caseId}:approval`;
  // The approval task appears in the read model once the workflow opened it.
  await eventually(async () => (await h.sql('select 1 from tasks where id = $1', [taskId])).length === 1);
  return { caseId, taskId, started: res.body };
}

const decide = (taskId: string, as: 'lead' | 'approver' | 'approver2' | 'manager' | 'owner', json: unknown) =>
  h.api('POST', `/api/tasks/${encodeURIComponent(taskId)}/decision`, { as, json });

const updateEvents = (workflowId: string) => acceptedSteps(h, workflowId);

describe('approval step', () => {
  it('a medium-risk request is approved by one approver; Postgres, audit and search attributes follow', async () => {
    const key = h.unique('REQ');
    const { caseId, taskId, started } = await startCase({
      requestKey: key,
      title: 'Onboard courier partner',
      probability: 2,
      impact: 3,
    });
    expect(started).toMatchObject({ riskLevel: 'medium', approvalsRequired: 1, caseId: `approval-request:${key}` });
    expect(started.links.temporalUi).toBe(
      `http://localhost:8233/namespaces/default/workflows/${encodeURIComponent(caseId)}`,
    );

    const inbox = await h.api('GET', '/api/tasks/inbox', { as: 'approver' });
    expect(inbox.body.toDecide.map((t: { id: string }) => t.id)).toContain(taskId);
    // The initiator's inbox does not offer their own case.
    const leadInbox = await h.api('GET', '/api/tasks/inbox', { as: 'lead' });
    expect(leadInbox.body.toDecide.map((t: { id: string }) => t.id)).not.toContain(taskId);

    const res = await decide(taskId, 'approver', { decision: 'approve', comment: 'documents complete' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ taskId, status: 'approved' });

    const result = await h.temporal.workflow.getHandle(caseId).result();
    expect(result.outcome).toBe('approved');

    const detail = await h.api('GET', `/api/cases/${encodeURIComponent(caseId)}`, { as: 'auditor' });
    expect(detail.status).toBe(200);
    expect(detail.body.case).toMatchObject({
      status: 'closed',
      stage: 'closed',
      outcome: 'approved',
      riskLevel: 'medium',
      initiatorId: 'lead',
    });
    expect(detail.body.tasks[0]).toMatchObject({
      status: 'done',
      decision: 'approved',
      decidedBy: 'appr1',
      comment: 'documents complete',
    });
    expect(detail.body.timeline.map((e: { action: string }) => e.action)).toEqual([
      'case.opened',
      'approval.opened',
      'approval.decided',
      'case.closed',
    ]);
    expect(detail.body.timeline[2]).toMatchObject({ actorId: 'appr1', reason: 'documents complete' });

    const description = await h.temporal.workflow.getHandle(caseId).describe();
    expect(description.typedSearchAttributes.get(GovProcess)).toBe('approval_request');
    expect(description.typedSearchAttributes.get(GovStage)).toBe('closed');
    expect(description.typedSearchAttributes.get(GovRiskLevel)).toBe('medium');
    expect(description.typedSearchAttributes.get(GovOutcome)).toBe('approved');
    expect(description.typedSearchAttributes.get(GovDueAt)).toBeUndefined();
    // Auditors can filter on them in Temporal UI (visibility is eventually consistent).
    await eventually(async () => {
      for await (const wf of h.temporal.workflow.list({
        query: `GovProcess = "approval_request" AND GovOutcome = "approved" AND WorkflowId = "${caseId}"`,
      })) {
        return wf.workflowId === caseId;
      }
      return false;
    });

    expect(await updateEvents(caseId)).toHaveLength(1);
    await saveHistoryFixture(h, caseId, 'approval-approved');
  });

  it('refuses the initiator (segregation of duties) before history records anything', async () => {
    const { caseId, taskId } = await startCase({
      requestKey: h.unique('SOD'),
      title: 'Raise refund limit',
      probability: 1,
      impact: 2,
    });
    const refused = await decide(taskId, 'lead', { decision: 'approve' });
    expect(refused.status).toBe(422);
    expect(refused.body.error).toMatchObject({ code: 'UNPROCESSABLE', reason: 'SEGREGATION_OF_DUTIES' });
    expect(refused.body.error.message).toMatch(/segregation of duties/);

    const wrongRole = await decide(taskId, 'owner', { decision: 'approve' });
    expect(wrongRole.status).toBe(403);
    expect(wrongRole.body.error.reason).toBe('ROLE_NOT_PERMITTED');

    expect(await updateEvents(caseId)).toHaveLength(0);
    const [task] = await h.sql('select status, votes from tasks where id = $1', [taskId]);
    expect(task).toMatchObject({ status: 'open', votes: [] });

    const approved = await decide(taskId, 'approver', { decision: 'approve' });
    expect(approved.body.status).toBe('approved');
    expect(await updateEvents(caseId)).toHaveLength(1);
  });

  it('high risk needs two distinct approvers (four-eyes)', async () => {
    const { caseId, taskId, started } = await startCase({
      requestKey: h.unique('4EYES'),
      title: 'Open crypto channel',
      probability: 4,
      impact: 5,
    });
    expect(started).toMatchObject({ riskLevel: 'high', approvalsRequired: 2 });

    const first = await decide(taskId, 'approver', { decision: 'approve', comment: 'limits agreed' });
    expect(first.body).toMatchObject({ status: 'open' });
    expect(first.body.votes).toHaveLength(1);
    const [afterFirst] = await h.sql('select status, votes from tasks where id = $1', [taskId]);
    expect(afterFirst.status).toBe('open');
    expect(afterFirst.votes).toHaveLength(1);

    const again = await decide(taskId, 'approver', { decision: 'approve' });
    expect(again.status).toBe(422);
    expect(again.body.error.reason).toBe('FOUR_EYES');

    const second = await decide(taskId, 'approver2', { decision: 'approve' });
    expect(second.body).toMatchObject({ status: 'approved' });
    expect((await h.temporal.workflow.getHandle(caseId).result()).outcome).toBe('approved');
    const [task] = await h.sql('select status, decision, decided_by from tasks where id = $1', [taskId]);
    expect(task).toMatchObject({ status: 'done', decision: 'approved', decided_by: 'appr2' });

    // A decision on a closed case is refused, not lost.
    const late = await decide(taskId, 'approver2', { decision: 'reject', comment: 'too late' });
    expect(late.status).toBe(409);
    await saveHistoryFixture(h, caseId, 'approval-four-eyes');
  });

  it('a rejection needs its reason and ends the case rejected', async () => {
    const { caseId, taskId } = await startCase({
      requestKey: h.unique('REJ'),
      title: 'Waive KYC',
      probability: 2,
      impact: 3,
    });
    const noReason = await decide(taskId, 'approver', { decision: 'reject' });
    expect(noReason.status).toBe(422);
    expect(noReason.body.error.reason).toBe('INVALID_DECISION');
    const res = await decide(taskId, 'approver', { decision: 'reject', comment: 'KYC is a licence condition' });
    expect(res.body.status).toBe('rejected');
    expect((await h.temporal.workflow.getHandle(caseId).result()).outcome).toBe('rejected');
    const [row] = await h.sql('select outcome, status from cases where id = $1', [caseId]);
    expect(row).toEqual({ outcome: 'rejected', status: 'closed' });
  });

  it('reminds, escalates to the next role up, and expires explicitly when nobody decides', async () => {
    const { caseId, taskId } = await startCase({
      requestKey: h.unique('LATE'),
      title: 'Quarterly limit review',
      probability: 1,
      impact: 2,
      approvalTimings: { remindAfter: '1s', escalateAfter: '2s', expireAfter: '3s' },
    });
    const result = await h.temporal.workflow.getHandle(caseId).result();
    expect(result.outcome).toBe('expired');

    const notes = await h.sql(
      'select kind, recipient_role from notifications where task_id = $1 order by created_at, recipient_role',
      [taskId],
    );
    // The reminder reaches every approving function at once; the escalation goes one role up.
    expect(notes).toEqual([
      { kind: 'reminder', recipient_role: 'compliance' },
      { kind: 'reminder', recipient_role: 'legal' },
      { kind: 'reminder', recipient_role: 'risk' },
      { kind: 'escalation', recipient_role: 'manager' },
    ]);
    const reminders = await h.sql(
      "select count(*)::int as n from audit_events where task_id = $1 and action = 'notification.reminder'",
      [taskId],
    );
    expect(reminders).toEqual([{ n: 1 }]);
    const [task] = await h.sql('select status, reminded_at, escalated_at, escalated_to from tasks where id = $1', [
      taskId,
    ]);
    expect(task.status).toBe('expired');
    expect(task.reminded_at).toBeInstanceOf(Date);
    expect(task.escalated_at.getTime()).toBeGreaterThan(task.reminded_at.getTime());
    expect(task.escalated_to).toBe('manager');

    const timeline = await h.sql('select action from audit_events where case_id = $1 order by seq', [caseId]);
    expect(timeline.map((e) => e.action)).toEqual([
      'case.opened',
      'approval.opened',
      'notification.reminder',
      'approval.reminded',
      'notification.escalation',
      'approval.escalated',
      'approval.expired',
      'case.closed',
    ]);
    const managerNotes = await h.api('GET', '/api/notifications', { as: 'manager' });
    expect(
      managerNotes.body.items.some(
        (n: { taskId: string; kind: string }) => n.taskId === taskId && n.kind === 'escalation',
      ),
    ).toBe(true);

    const late = await decide(taskId, 'approver', { decision: 'approve' });
    expect(late.status).toBe(409);
    await saveHistoryFixture(h, caseId, 'approval-expired');
  });

  it('lists a request past its decision deadline as overdue, and stops once decided', async () => {
    const { caseId, taskId } = await startCase({
      requestKey: h.unique('OVERDUE'),
      title: 'Chargeback policy exception',
      probability: 1,
      impact: 2,
      approvalTimings: { remindAfter: '1s', escalateAfter: '1s', expireAfter: '1h' },
    });
    // Due when the approval would escalate: 1s after the workflow started.
    const [row] = await h.sql('select due_at from cases where id = $1', [caseId]);
    const { startTime } = await h.temporal.workflow.getHandle(caseId).describe();
    expect(row.due_at.getTime() - startTime.getTime()).toBeGreaterThanOrEqual(1000);
    expect(row.due_at.getTime() - startTime.getTime()).toBeLessThan(2000);
    const overdueIds = async () =>
      (await h.api('GET', '/api/cases?overdue=true&pageSize=100', { as: 'auditor' })).body.items.map(
        (c: { id: string }) => c.id,
      );
    await eventually(async () => (await overdueIds()).includes(caseId));
    const notOverdue = await h.api('GET', '/api/cases?overdue=false&pageSize=100', { as: 'auditor' });
    expect(notOverdue.body.items.map((c: { id: string }) => c.id)).not.toContain(caseId);

    await decide(taskId, 'approver', { decision: 'approve' });
    await h.temporal.workflow.getHandle(caseId).result();
    expect(await overdueIds()).not.toContain(caseId);
  });

  it('refuses a second start of the same business key with 409, even after the case closed', async () => {
    const key = h.unique('DUP');
    const { caseId, taskId } = await startCase({ requestKey: key, title: 'First', probability: 1, impact: 2 });
    const again = await h.api('POST', '/api/cases/approval-requests', {
      as: 'lead',
      json: { requestKey: key, title: 'Second', probability: 1, impact: 2 },
    });
    expect(again.status).toBe(409);
    await decide(taskId, 'approver', { decision: 'approve' });
    await h.temporal.workflow.getHandle(caseId).result();
    const afterClose = await h.api('POST', '/api/cases/approval-requests', {
      as: 'lead',
      json: { requestKey: key, title: 'Third', probability: 1, impact: 2 },
    });
    expect(afterClose.status).toBe(409);
    const [row] = await h.sql('select title from cases where id = $1', [caseId]);
    expect(row.title).toBe('First');
  });
});
