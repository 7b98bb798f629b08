/**
 * Idempotency-Key on POSTs (api/idempotency.ts), on the real dev server and
 * PostgreSQL: a request sent again gets the first answer and writes nothing
 * new; a key reused for another request is refused; a retry after the API
 * died between Temporal's effect and storing the answer (simulated by
 * deleting the stored answer, or leaving it in flight with a lapsed lease)
 * applies the effect once and answers as the first time; concurrent
 * duplicates apply once.
 */
import { Client, Connection } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createApp } from '../../api/app';
import { eventually, useHarness, type TestUser } from '../support/harness';

const h = useHarness('idemkey');

const keyed = (key: string) => ({ 'Idempotency-Key': key });

async function startApproval(impact: number, extra: Record<string, unknown> = {}) {
  const res = await h.api('POST', '/api/cases/approval-requests', {
    as: 'lead',
    json: {
      requestKey: h.unique('REQ'),
      title: 'Idempotent decision',
      probability: impact === 5 ? 5 : 2,
      impact,
      ...extra,
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const caseId: string = res.body.caseId;
  const taskId = `${caseId}:approval`;
  await eventually(async () => (await h.sql('select 1 from tasks where id = $1', [taskId])).length === 1);
  return { caseId, taskId };
}

const decide = (taskId: string, key: string | undefined, json: unknown, as: TestUser = 'approver') =>
  h.api('POST', `/api/tasks/${encodeURIComponent(taskId)}/decision`, {
    as,
    json,
    headers: key === undefined ? {} : keyed(key),
  });

/** What a decision writes, counted in SQL and in Temporal's history. */
async function footprint(caseId: string, taskId: string) {
  const [audit] = await h.sql('select count(*)::int as n from audit_events where case_id = $1', [caseId]);
  const [tasks] = await h.sql('select count(*)::int as n from tasks where case_id = $1', [caseId]);
  const [task] = await h.sql('select jsonb_array_length(votes) as votes from tasks where id = $1', [taskId]);
  const history = await h.temporal.workflow.getHandle(caseId).fetchHistory();
  return { audit: audit.n, tasks: tasks.n, votes: task?.votes, historyEvents: history.events?.length };
}

const storedRow = (key: string) =>
  h.sql('select state, response_status, user_id from idempotent_requests where idempotency_key = $1', [key]);

describe('Idempotency-Key', () => {
  it('a decision sent again gets the first answer and writes nothing new', async () => {
    const { caseId, taskId } = await startApproval(3);
    const key = h.unique('decide');
    const first = await decide(taskId, key, { decision: 'approve', comment: 'fine' });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    await h.temporal.workflow.getHandle(caseId).result();
    const before = await footprint(caseId, taskId);
    expect(before.votes).toBe(1);

    const again = await decide(taskId, key, { decision: 'approve', comment: 'fine' });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await footprint(caseId, taskId)).toEqual(before);
    expect(await storedRow(key)).toEqual([{ state: 'completed', response_status: 200, user_id: 'appr1' }]);

    // Without a key, the same decision is refused as it always was: the case has closed.
    const unkeyed = await decide(taskId, undefined, { decision: 'approve', comment: 'fine' });
    expect(unkeyed.status).toBe(409);
  });

  it('the same key for another body, path or user: refused for another request, separate per user', async () => {
    const { caseId, taskId } = await startApproval(3);
    const key = h.unique('reuse');
    const first = await decide(taskId, key, { decision: 'reject', comment: 'no budget' });
    expect(first.status).toBe(200);
    const before = await footprint(caseId, taskId);

    const otherBody = await decide(taskId, key, { decision: 'approve', comment: 'fine' });
    expect(otherBody.status).toBe(422);
    expect(otherBody.body.error).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    expect(otherBody.body.error.message).toContain('Idempotency-Key');

    const otherPath = await h.api('POST', '/api/incidents/grade-suggestion', {
      as: 'approver',
      json: {},
      headers: keyed(key),
    });
    expect(otherPath.status).toBe(422);
    expect(otherPath.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');

    // The same body in another key order and spacing is the same request.
    const reordered = await h.api('POST', `/api/tasks/${encodeURIComponent(taskId)}/decision`, {
      as: 'approver',
      body: '{ "comment": "no budget",  "decision": "reject" }',
      headers: { ...keyed(key), 'content-type': 'application/json' },
    });
    expect(reordered.status).toBe(200);
    expect(reordered.headers.get('idempotent-replayed')).toBe('true');
    expect(reordered.body).toEqual(first.body);

    // Keys belong to their user: another approver's identical key is their own request, refused by the case.
    const otherUser = await decide(taskId, key, { decision: 'reject', comment: 'no budget' }, 'approver2');
    expect(otherUser.status).toBe(409);
    expect(otherUser.headers.get('idempotent-replayed')).toBeNull();
    expect(await footprint(caseId, taskId)).toEqual(before);
  });

  it('a key that is not 1-255 visible ASCII characters is refused, naming the header', async () => {
    const { caseId, taskId } = await startApproval(3);
    for (const bad of ['', 'has space', 'x'.repeat(256), 'naïve']) {
      const res = await h.api('POST', `/api/tasks/${encodeURIComponent(taskId)}/decision`, {
        as: 'approver',
        json: { decision: 'approve', comment: 'fine' },
        headers: { 'Idempotency-Key': bad },
      });
      expect(res.status, bad).toBe(400);
      expect(res.body.error.details).toEqual([expect.objectContaining({ field: 'header.Idempotency-Key' })]);
    }
    expect((await footprint(caseId, taskId)).votes).toBe(0);
    expect(await decide(taskId, 'x'.repeat(255), { decision: 'approve', comment: 'fine' })).toMatchObject({
      status: 200,
    });
  });

  it('the API died after Temporal took the decision but before the answer was stored: applied once, same answer', async () => {
    // High risk: two votes needed, so the case stays open after the first.
    const open = await startApproval(5);
    const key = h.unique('crash-open');
    const first = await decide(open.taskId, key, { decision: 'approve', comment: 'first of two' });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const before = await footprint(open.caseId, open.taskId);
    expect(before.votes).toBe(1);
    await h.sql('delete from idempotent_requests where idempotency_key = $1', [key]);

    const retry = await decide(open.taskId, key, { decision: 'approve', comment: 'first of two' });
    expect(retry.status, JSON.stringify(retry.body)).toBe(200);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    expect(await footprint(open.caseId, open.taskId)).toEqual(before);

    // Medium risk: the decision closes the case; Temporal still answers the Update ID it has seen.
    const closing = await startApproval(3);
    const closingKey = h.unique('crash-closed');
    const decided = await decide(closing.taskId, closingKey, { decision: 'approve', comment: 'closes it' });
    expect(decided.status).toBe(200);
    await h.temporal.workflow.getHandle(closing.caseId).result();
    const closed = await footprint(closing.caseId, closing.taskId);
    // Killed mid-request: the row is still in flight and its lease has lapsed.
    await h.sql(
      `update idempotent_requests set state = 'in_flight', lease_until = now() - interval '1 second',
              response_status = null, response_body = null where idempotency_key = $1`,
      [closingKey],
    );
    const taken = await decide(closing.taskId, closingKey, { decision: 'approve', comment: 'closes it' });
    expect(taken.status, JSON.stringify(taken.body)).toBe(200);
    expect(taken.body).toEqual(decided.body);
    expect(await footprint(closing.caseId, closing.taskId)).toEqual(closed);
    expect(await storedRow(closingKey)).toEqual([{ state: 'completed', response_status: 200, user_id: 'appr1' }]);
  });

  it('a request still in flight (its lease held) answers 409 IDEMPOTENCY_IN_FLIGHT with Retry-After', async () => {
    const { caseId, taskId } = await startApproval(3);
    const key = h.unique('inflight');
    const first = await decide(taskId, key, { decision: 'approve', comment: 'fine' });
    expect(first.status).toBe(200);
    await h.sql(
      `update idempotent_requests set state = 'in_flight', lease_until = now() + interval '8 seconds',
              response_status = null, response_body = null where idempotency_key = $1`,
      [key],
    );
    const during = await decide(taskId, key, { decision: 'approve', comment: 'fine' });
    expect(during.status).toBe(409);
    expect(during.body.error.code).toBe('IDEMPOTENCY_IN_FLIGHT');
    const retryAfter = Number(during.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(10);
    expect((await footprint(caseId, taskId)).votes).toBe(1);
  });

  it('concurrent duplicates: the decision is taken once; the others wait their turn or get the first answer', async () => {
    const { caseId, taskId } = await startApproval(5);
    const key = h.unique('concurrent');
    const json = { decision: 'approve', comment: 'at once' };
    const answers = await Promise.all(Array.from({ length: 6 }, () => decide(taskId, key, json)));
    const firsts = answers.filter((a) => a.status === 200 && a.headers.get('idempotent-replayed') === null);
    expect(firsts).toHaveLength(1);
    for (const a of answers) {
      if (a.status === 200) expect(a.body).toEqual(firsts[0]!.body);
      else {
        expect(a.status).toBe(409);
        expect(a.body.error.code).toBe('IDEMPOTENCY_IN_FLIGHT');
        expect(a.headers.get('retry-after')).toMatch(/^\d+$/);
      }
    }
    const later = await decide(taskId, key, json);
    expect(later).toMatchObject({ status: 200, body: firsts[0]!.body });
    const votes = await h.sql('select votes from tasks where id = $1', [taskId]);
    expect(votes[0].votes).toHaveLength(1);
    const recorded = await h.sql(
      `select count(*)::int as n from audit_events where case_id = $1 and action in ('approval.vote_recorded', 'approval.decided')`,
      [caseId],
    );
    expect(recorded[0].n).toBe(1);
  });

  it('a creation with no business key, sent again after the API died: the same case, started once', async () => {
    const key = h.unique('create');
    const json = { title: 'Created once', probability: 2, impact: 3 };
    const first = await h.api('POST', '/api/cases/approval-requests', { as: 'lead', json, headers: keyed(key) });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const caseId: string = first.body.caseId;
    const history = async () => (await h.temporal.workflow.getHandle(caseId).fetchHistory()).events?.length;
    const before = {
      history: await history(),
      audit: await h.sql('select seq from audit_events where case_id = $1', [caseId]),
    };

    const replayed = await h.api('POST', '/api/cases/approval-requests', { as: 'lead', json, headers: keyed(key) });
    expect(replayed).toMatchObject({ status: 201, body: first.body });
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');

    await h.sql('delete from idempotent_requests where idempotency_key = $1', [key]);
    const retry = await h.api('POST', '/api/cases/approval-requests', { as: 'lead', json, headers: keyed(key) });
    expect(retry.status, JSON.stringify(retry.body)).toBe(201);
    expect(retry.body).toEqual(first.body);
    expect(await history()).toBe(before.history);
    expect(await h.sql('select seq from audit_events where case_id = $1', [caseId])).toEqual(before.audit);
    expect(await h.sql(`select id from cases where title = 'Created once'`)).toHaveLength(1);

    // Another key is another request: another case.
    const second = await h.api('POST', '/api/cases/approval-requests', {
      as: 'lead',
      json,
      headers: keyed(h.unique('create')),
    });
    expect(second.status).toBe(201);
    expect(second.body.caseId).not.toBe(caseId);

    // Someone else's case under a business key is still theirs: 409, not this request's answer.
    await h.sql('delete from idempotent_requests where idempotency_key = $1', [key]);
    const requestKey = caseId.replace(/^approval-request:/, '');
    const clash = await h.api('POST', '/api/cases/approval-requests', {
      as: 'lead',
      json: { ...json, requestKey },
      headers: keyed(key),
    });
    expect(clash.status).toBe(409);
  });

  it('a complaint with a default id, retried after the answer was lost: one each', async () => {
    const complaintKey = h.unique('complaint');
    const complaint = {
      customerRef: h.unique('CUST'),
      channel: 'hotline',
      type: 'transaction_dispute',
      subject: 'Refund not received',
    };
    const first = await h.api('POST', '/api/complaints', {
      as: 'manager',
      json: complaint,
      headers: keyed(complaintKey),
    });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    await h.sql('delete from idempotent_requests where idempotency_key = $1', [complaintKey]);
    const retry = await h.api('POST', '/api/complaints', {
      as: 'manager',
      json: complaint,
      headers: keyed(complaintKey),
    });
    expect(retry).toMatchObject({ status: 201, body: first.body });
    expect(await h.sql('select id from cases where id = $1', [first.body.caseId])).toHaveLength(1);
  });

  it('a 5xx stores nothing: the retry runs the request', async () => {
    const { caseId, taskId } = await startApproval(3);
    const key = h.unique('fails');
    // The same app on a Temporal connection that is closed: the decision cannot be sent.
    const connection = await Connection.connect({ address: inject('temporalAddress') });
    const broken = createApp(
      { db: h.database.db, temporal: new Client({ connection, namespace: 'default' }), settings: h.settings },
      { log: () => undefined },
    );
    await connection.close();
    const failed = await broken.request(`/api/tasks/${encodeURIComponent(taskId)}/decision`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.tokens.approver}`, 'content-type': 'application/json', ...keyed(key) },
      body: JSON.stringify({ decision: 'approve', comment: 'fine' }),
    });
    expect(failed.status).toBe(500);
    expect(await storedRow(key)).toEqual([]);
    expect((await footprint(caseId, taskId)).votes).toBe(0);

    const retry = await decide(taskId, key, { decision: 'approve', comment: 'fine' });
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    expect((await footprint(caseId, taskId)).votes).toBe(1);
  });

  it('an evidence upload sent again (a new multipart boundary) is replayed, not stored twice', async () => {
    const { caseId } = await startApproval(3);
    const key = h.unique('upload');
    const upload = () => {
      const form = new FormData();
      form.set('file', new File(['signed contract'], 'contract.txt', { type: 'text/plain' }));
      return h.api('POST', `/api/cases/${encodeURIComponent(caseId)}/evidence`, {
        as: 'lead',
        body: form,
        headers: keyed(key),
      });
    };
    const first = await upload();
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const again = await upload();
    expect(again).toMatchObject({ status: 201, body: first.body });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await h.sql('select id from evidence where case_id = $1', [caseId])).toHaveLength(1);
  });

  it('token issuance refuses the key: its answer holds a secret that is never stored', async () => {
    const key = h.unique('token');
    const res = await h.api('POST', '/api/users/owner/tokens', {
      as: 'admin',
      json: { label: 'ci' },
      headers: keyed(key),
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([expect.objectContaining({ field: 'header.Idempotency-Key' })]);
    expect(await storedRow(key)).toEqual([]);
    expect(await h.sql(`select id from api_tokens where user_id = 'owner' and label = 'ci'`)).toEqual([]);
  });

  it('the OpenAPI document offers the header on every POST under /api but token issuance', async () => {
    const doc = await h.api('GET', '/openapi.json');
    const posts = Object.entries(doc.body.paths as Record<string, Record<string, { parameters?: unknown[] }>>).filter(
      ([path, ops]) => path.startsWith('/api/') && ops.post,
    );
    expect(posts.length).toBeGreaterThan(20);
    for (const [path, ops] of posts) {
      const offered = { $ref: '#/components/parameters/IdempotencyKey' };
      if (path === '/api/users/{userId}/tokens') expect(ops.post!.parameters ?? [], path).not.toContainEqual(offered);
      else expect(ops.post!.parameters, path).toContainEqual(offered);
    }
    expect(doc.body.components.parameters.IdempotencyKey).toMatchObject({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
    });
  });
});
