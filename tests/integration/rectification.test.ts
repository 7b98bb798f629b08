/**
 * Rectification items (整改项) as child workflows, through the API: conditions
 * on an approval become items; the owner submits with evidence; someone else
 * verifies or returns; the parent closes only when every item is verified.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { approvalRequestWorkflow } from '../../workflows/approvalRequest';
import { GovProcess, GovStage } from '../../workflows/searchAttributes';
import { eventually, useHarness, type TestUser } from '../support/harness';
import { saveHistoryFixture } from '../support/histories';

const h = useHarness('rectification');

async function approvedWithConditions(conditions: string[], extra: Record<string, unknown> = {}) {
  const start = await h.api('POST', '/api/cases/approval-requests', {
    as: 'lead',
    json: {
      requestKey: h.unique('RECT'),
      title: 'Launch instalment product',
      probability: 2,
      impact: 3,
      ownerId: 'owner',
      ...extra,
    },
  });
  expect(start.status, JSON.stringify(start.body)).toBe(201);
  const caseId: string = start.body.caseId;
  await eventually(async () => (await h.sql('select 1 from tasks where id = $1', [`${caseId}:approval`])).length);
  const decided = await h.api('POST', `/api/tasks/${encodeURIComponent(`${caseId}:approval`)}/decision`, {
    as: 'approver',
    json: { decision: 'approve_with_conditions', conditions, comment: 'approve once these are done' },
  });
  expect(decided.body.status, JSON.stringify(decided.body)).toBe('approved_with_conditions');
  const itemIds = conditions.map((_, i) => `${caseId}:rectification:${i + 1}`);
  await eventually(
    async () => (await h.sql('select 1 from tasks where id = any($1)', [itemIds])).length === itemIds.length,
  );
  return { caseId, itemIds };
}

async function upload(caseId: string, as: TestUser, text: string, taskId?: string) {
  const form = new FormData();
  form.append('file', new File([Buffer.from(text)], 'evidence.txt', { type: 'text/plain' }));
  if (taskId) form.append('taskId', taskId);
  const res = await h.api('POST', `/api/cases/${encodeURIComponent(caseId)}/evidence`, { as, body: form });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; sha256: string; sizeBytes: number };
}

const submit = (itemId: string, as: TestUser, evidenceIds: string[]) =>
  h.api('POST', `/api/tasks/${encodeURIComponent(itemId)}/submission`, { as, json: { evidenceIds, comment: 'done' } });
const verify = (itemId: string, as: TestUser, json: Record<string, unknown>) =>
  h.api('POST', `/api/tasks/${encodeURIComponent(itemId)}/verification`, { as, json });

describe('rectification items', () => {
  it('are returned with a reason, resubmitted, verified by someone else, and only then close the case', async () => {
    const { caseId, itemIds } = await approvedWithConditions(['Add velocity limits', 'Update the risk disclosure']);
    const [first, second] = itemIds as [string, string];

    const [caseRow] = await h.sql('select stage, status from cases where id = $1', [caseId]);
    expect(caseRow).toEqual({ stage: 'rectification', status: 'open' });
    const ownerInbox = await h.api('GET', '/api/tasks/inbox', { as: 'owner' });
    expect(ownerInbox.body.toDo.map((t: { id: string }) => t.id).sort()).toEqual([...itemIds].sort());

    const proof = await upload(caseId, 'owner', 'velocity limits v1', first);
    expect(proof.sha256).toBe(createHash('sha256').update('velocity limits v1').digest('hex'));
    const download = await h.app.request(`/api/evidence/${proof.id}/content`, {
      headers: { authorization: `Bearer ${h.tokens.auditor}` },
    });
    expect(await download.text()).toBe('velocity limits v1');
    expect(download.headers.get('x-content-sha256')).toBe(proof.sha256);

    // Only the owner submits; the owner never verifies their own work.
    expect((await submit(first, 'approver', [proof.id])).body.error.reason).toBe('NOT_THE_OWNER');
    expect((await verify(first, 'approver', { verdict: 'accept' })).status).toBe(409); // not submitted yet
    expect((await submit(first, 'owner', [proof.id])).body).toMatchObject({ status: 'submitted', submissions: 1 });
    const selfVerify = await verify(first, 'owner', { verdict: 'accept' });
    expect(selfVerify.status).toBe(422);
    expect(selfVerify.body.error.reason).toBe('SEGREGATION_OF_DUTIES');
    const noReason = await verify(first, 'approver', { verdict: 'return' });
    expect(noReason.body.error.reason).toBe('REASON_REQUIRED');

    const approverInbox = await h.api('GET', '/api/tasks/inbox', { as: 'approver' });
    expect(approverInbox.body.toVerify.map((t: { id: string }) => t.id)).toContain(first);

    const returned = await verify(first, 'approver', {
      verdict: 'return',
      reason: 'limits not applied to new accounts',
    });
    expect(returned.body).toMatchObject({ status: 'returned' });
    const [afterReturn] = await h.sql('select status, comment from tasks where id = $1', [first]);
    expect(afterReturn).toEqual({ status: 'returned', comment: 'limits not applied to new accounts' });

    const proof2 = await upload(caseId, 'owner', 'velocity limits v2, new accounts too', first);
    expect((await submit(first, 'owner', [proof2.id])).body).toMatchObject({ status: 'submitted', submissions: 2 });
    expect((await verify(first, 'manager', { verdict: 'accept' })).body).toMatchObject({ status: 'verified' });

    // One item verified is not enough: the case stays open.
    const [stillOpen] = await h.sql('select status from cases where id = $1', [caseId]);
    expect(stillOpen.status).toBe('open');

    const proof3 = await upload(caseId, 'owner', 'disclosure v3');
    await submit(second, 'owner', [proof3.id]);
    await verify(second, 'approver2', { verdict: 'accept' });

    const result = await h.temporal.workflow.getHandle<typeof approvalRequestWorkflow>(caseId).result();
    expect(result.outcome).toBe('approved_with_conditions');
    expect(result.rectifications.map((r) => [r.status, r.submissions, r.verifiedBy])).toEqual([
      ['verified', 2, 'mgr'],
      ['verified', 1, 'appr2'],
    ]);
    const [closed] = await h.sql('select status, outcome from cases where id = $1', [caseId]);
    expect(closed).toEqual({ status: 'closed', outcome: 'approved_with_conditions' });

    const timeline = await h.sql<{
      action: string;
      task_id: string | null;
      evidence_hashes: string[];
      actor_id: string;
    }>('select action, task_id, evidence_hashes, actor_id from audit_events where case_id = $1 order by seq', [caseId]);
    const firstItem = timeline.filter((e) => e.task_id === first).map((e) => e.action);
    expect(firstItem).toEqual([
      'rectification.opened',
      'evidence.uploaded',
      'rectification.submitted',
      'rectification.returned',
      'notification.reminder',
      'evidence.uploaded',
      'rectification.submitted',
      'rectification.verified',
    ]);
    const submissions = timeline.filter((e) => e.action === 'rectification.submitted');
    expect(submissions.map((e) => e.evidence_hashes)).toEqual([[proof.sha256], [proof2.sha256], [proof3.sha256]]);
    expect(timeline.at(-1)).toMatchObject({ action: 'case.closed' });

    const child = await h.temporal.workflow.getHandle(first).describe();
    expect(child.typedSearchAttributes.get(GovProcess)).toBe('rectification');
    expect(child.typedSearchAttributes.get(GovStage)).toBe('closed');
    await saveHistoryFixture(h, caseId, 'approval-with-conditions');
    await saveHistoryFixture(h, first, 'rectification-returned-resubmitted');
  });

  it('an overdue item also reaches its owner’s line manager, by name, who may then open the case', async () => {
    const { caseId, itemIds } = await approvedWithConditions(['Rotate signing keys'], {
      rectificationTimings: { dueIn: '4s', remindBefore: '1s', escalateAgainAfter: '1s' },
    });
    const [item] = itemIds as [string];
    const read = async () => (await h.api('GET', `/api/cases/${encodeURIComponent(caseId)}`, { as: 'manager' })).status;
    // mgr takes no part in the case…
    expect(await read()).toBe(404);
    await h.sql(`update users set manager_id = 'mgr' where id = 'owner'`);
    try {
      // …but reads it as the line manager of its item's owner,
      expect(await read()).toBe(200);
      await eventually(
        async () => (await h.sql('select escalated_to from tasks where id = $1', [item]))[0]?.escalated_to === 'admin',
        20_000,
      );
      // and hears by name when the item is overdue and when it escalates.
      const personal = await h.sql(
        'select kind from notifications where task_id = $1 and recipient_id = $2 order by created_at, kind',
        [item, 'mgr'],
      );
      expect(personal.map((n) => n.kind)).toEqual(['overdue', 'escalation']);
      const [escalated] = await h.sql(
        "select payload from audit_events where task_id = $1 and action = 'notification.escalation'",
        [item],
      );
      expect(escalated.payload).toMatchObject({ recipientRole: 'admin', lineManagerId: 'mgr' });
    } finally {
      await h.sql(`update users set manager_id = null where id = 'owner'`);
    }
  });

  it('remind the owner before the due date and escalate up the ladder when overdue', async () => {
    const { caseId, itemIds } = await approvedWithConditions(['Rotate API keys'], {
      rectificationTimings: { dueIn: '3s', remindBefore: '2s', escalateAgainAfter: '1s' },
    });
    const [item] = itemIds as [string];
    await eventually(
      async () => (await h.sql('select escalated_to from tasks where id = $1', [item]))[0]?.escalated_to === 'admin',
      20_000,
    );
    const notes = await h.sql(
      'select kind, recipient_role, recipient_id from notifications where task_id = $1 order by created_at',
      [item],
    );
    expect(notes).toEqual([
      { kind: 'reminder', recipient_role: null, recipient_id: 'owner' },
      { kind: 'overdue', recipient_role: 'manager', recipient_id: null },
      { kind: 'escalation', recipient_role: 'admin', recipient_id: null },
    ]);
    const overdueList = await h.api('GET', '/api/cases?overdue=true&process=approval_request', { as: 'lead' });
    expect(overdueList.body.items.map((c: { id: string }) => c.id)).toContain(caseId);
    const task = await h.api('GET', `/api/tasks/${encodeURIComponent(item)}`, { as: 'owner' });
    expect(task.body).toMatchObject({ overdue: true, escalatedTo: 'admin', status: 'open' });

    // Overdue never closes an item: it still has to be done and verified.
    const proof = await upload(caseId, 'owner', 'keys rotated');
    await submit(item, 'owner', [proof.id]);
    await verify(item, 'manager', { verdict: 'accept' });
    expect((await h.temporal.workflow.getHandle(caseId).result()).outcome).toBe('approved_with_conditions');
  });
});
