/**
 * Customer complaints (客户投诉, finance §4.4; DOMAIN.md §3) through the API,
 * on the real Temporal dev server and PostgreSQL: classified by type, clocks
 * from the policy in force (per-case timings only where the deployment allows
 * them), and a serious or repeated complaint fed back only once its root-cause
 * analysis (根因分析) is accepted by someone who prepared none of the work.
 *
 * Every refusal is shown with its status and reason, no new event in the
 * workflow's history, and nothing written to the read model.
 */
import { Worker } from '@temporalio/worker';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { complaintWorkflow } from '../../workflows/complaint';
import { DEFAULT_POLICY } from '../../domain/policy';
import { eventually, useHarness, type TestUser } from '../support/harness';
import { saveHistoryFixture } from '../support/histories';
import { replayDataConverter } from '../support/codecKeys';

const h = useHarness('complaint');

const post = (path: string, as: TestUser, json: unknown) => h.api('POST', path, { as, json });
const get = (path: string, as: TestUser = 'manager') => h.api('GET', path, { as });
const caseRow = async (caseId: string) => (await h.sql('select * from cases where id = $1', [caseId]))[0];
const step = (complaintId: string, path: string, as: TestUser, json: unknown) =>
  post(`/api/complaints/${complaintId}/${path}`, as, json);

/** Every complaint (and incident) a test started: ended after the file, whatever the tests found. */
const started = new Set<string>();
afterAll(async () => {
  for (const id of started) {
    await h.temporal.workflow
      .getHandle(id)
      .terminate('test file done')
      .catch(() => undefined);
  }
});

type Accepted = { caseId: string; complaintId: string };
async function accept(json: Record<string, unknown>, as: TestUser = 'manager'): Promise<Accepted> {
  const res = await post('/api/complaints', as, {
    customerRef: h.unique('CUST'),
    channel: 'hotline',
    type: 'transaction_dispute',
    subject: 'Refund not received',
    ...json,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  started.add(res.body.caseId);
  return { caseId: res.body.caseId, complaintId: res.body.complaintId };
}

/** What a refused call must leave as it was: the workflow's history, the audit trail, the case row, its tasks. */
async function footprint(caseId: string) {
  const history = await h.temporal.workflow.getHandle(caseId).fetchHistory();
  const [audit] = await h.sql('select count(*)::int as n from audit_events where case_id = $1', [caseId]);
  const row = await caseRow(caseId);
  const tasks = await h.sql('select id, status, decided_by from tasks where case_id = $1 order by id', [caseId]);
  return {
    events: history.events?.length ?? 0,
    audit: audit.n,
    stage: row.stage,
    status: row.status,
    data: row.data,
    updatedAt: row.updated_at.toISOString(),
    tasks,
  };
}

async function expectRefusal(
  caseId: string,
  call: () => Promise<{ status: number; body: any }>,
  expected: { status: number; reason: string; message?: RegExp | string; details?: Record<string, unknown> },
) {
  const before = await footprint(caseId);
  const res = await call();
  expect(res.status, JSON.stringify(res.body)).toBe(expected.status);
  expect(res.body.error.reason).toBe(expected.reason);
  if (expected.message instanceof RegExp) expect(res.body.error.message).toMatch(expected.message);
  else if (expected.message) expect(res.body.error.message).toBe(expected.message);
  if (expected.details) expect(res.body.error.details).toMatchObject(expected.details);
  expect(await footprint(caseId), 'a refusal leaves no history event and writes nothing').toEqual(before);
  return res;
}

const ROOT_CAUSE = {
  rootCause: 'Card network retried the capture after a timeout',
  contributingFactors: ['no idempotency key on capture'],
  correctiveActions: ['Refund the second capture'],
  preventiveActions: ['Send an idempotency key with every capture'],
};
const FEEDBACK = { cause: 'A retried capture', measures: 'Refunded', followUpPlan: 'Call back in 3 days' };

const inbox = async (as: TestUser) => (await get('/api/tasks/inbox', as)).body.toDo as Array<Record<string, any>>;

describe('classified by type', () => {
  it('is refused without a type, or with one not on the list, and nothing starts', async () => {
    for (const [json, field] of [
      [{}, 'body.type'],
      [{ type: 'weather' }, 'body.type'],
    ] as const) {
      const complaintId = h.unique('CMP');
      const res = await post('/api/complaints', 'manager', {
        complaintId,
        customerRef: h.unique('CUST'),
        channel: 'app',
        subject: 'Parcel late',
        ...json,
      });
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error.details.map((d: { field: string }) => d.field)).toEqual([field]);
      expect(await caseRow(`complaint:${complaintId}`)).toBeUndefined();
      await expect(h.temporal.workflow.getHandle(`complaint:${complaintId}`).describe()).rejects.toThrow(/not found/i);
    }
  });

  it('shows the type in reads and lists, and lists filter by it', async () => {
    const parcel = await accept({ type: 'logistics', subject: 'Parcel three days late', channel: 'app' });
    const leak = await accept({ type: 'privacy_data', subject: 'My address was shown to another buyer' });

    const read = await get(`/api/complaints/${parcel.complaintId}`);
    expect(read.status, JSON.stringify(read.body)).toBe(200);
    expect(read.body).toMatchObject({
      complaintId: parcel.complaintId,
      caseId: parcel.caseId,
      type: 'logistics',
      typeLabel: { en: 'Logistics and delivery', zh: '物流配送' },
      subject: 'Parcel three days late',
      stage: 'investigating',
      status: 'open',
      repeated: false,
      rootCauseRequired: [],
      rootCauseStatus: 'missing',
      policyVersion: 1,
      acceptedBy: 'mgr',
      handlerId: 'mgr',
    });
    expect((await caseRow(parcel.caseId)).data.type).toBe('logistics');

    const listed = async (query: string) => {
      const res = await get(`/api/complaints?pageSize=100&${query}`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body as { items: Array<{ complaintId: string; type: string }>; total: number };
    };
    const logistics = await listed('type=logistics');
    expect(logistics.items.map((c) => c.complaintId)).toContain(parcel.complaintId);
    expect(logistics.items.map((c) => c.complaintId)).not.toContain(leak.complaintId);
    expect(logistics.items.every((c) => c.type === 'logistics')).toBe(true);
    expect(logistics.total).toBe(logistics.items.length);
    const privacy = await listed('type=privacy_data&status=open');
    expect(privacy.items.map((c) => c.complaintId)).toEqual([leak.complaintId]);
    expect(privacy.items[0]).toMatchObject({ typeLabel: { zh: '隐私与个人信息' }, stage: 'investigating' });
    const all = await listed('');
    expect(all.items.map((c) => c.complaintId)).toEqual(expect.arrayContaining([parcel.complaintId, leak.complaintId]));

    const bad = await get('/api/complaints?type=weather&severity=urgent');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/query\.type .*query\.severity/);
    expect(bad.body.error.details.map((d: { field: string }) => d.field)).toEqual(['query.type', 'query.severity']);
    const badId = await get('/api/complaints/not%20an%20id');
    expect(badId.status).toBe(400);
    expect(badId.body.error.details.map((d: { field: string }) => d.field)).toEqual(['path.complaintId']);

    // Reads are scoped as for any case: legal has no part in these, and is told they do not exist.
    expect((await get(`/api/complaints/${parcel.complaintId}`, 'legal')).status).toBe(404);
    expect((await get('/api/complaints?type=logistics', 'legal')).body.items).toEqual([]);
    expect((await get(`/api/complaints/${parcel.complaintId}`, 'auditor')).body.type).toBe('logistics');
    expect((await get('/api/complaints/CMP-NEVER-ACCEPTED')).status).toBe(404);
  });
});

describe('clocks from the policy', () => {
  it('refuses per-case timings where the deployment locks them, and starts nothing', async () => {
    h.settings.caseTimings = 'locked';
    try {
      const complaintId = h.unique('CMP');
      const caseCount = async () => (await h.sql('select count(*)::int as n from cases'))[0].n;
      const auditCount = async () => (await h.sql('select count(*)::int as n from audit_events'))[0].n;
      const [casesBefore, auditBefore] = [await caseCount(), await auditCount()];
      const res = await post('/api/complaints', 'manager', {
        complaintId,
        customerRef: h.unique('CUST'),
        channel: 'hotline',
        type: 'service',
        subject: 'Rude agent',
        timings: { resultWithin: '1s' },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(403);
      expect(res.body.error).toMatchObject({ reason: 'CASE_TIMINGS_LOCKED', details: { fields: ['timings'] } });
      expect(res.body.error.message).toMatch(/per-case timings are not allowed here/);
      await expect(h.temporal.workflow.getHandle(`complaint:${complaintId}`).describe()).rejects.toThrow(/not found/i);
      expect([await caseCount(), await auditCount()]).toEqual([casesBefore, auditBefore]);

      // Without timings the complaint runs on the policy's clocks, locked or not.
      const locked = await accept({ complaintId });
      const row = await caseRow(locked.caseId);
      expect(Date.parse(row.data.resultDueAt) - Date.parse(row.data.acceptedAt)).toBe(48 * 3_600_000);

      // Raising it to an incident cannot bring the incident's own clocks either: nothing is started or linked.
      const incidentId = h.unique('INC');
      await expectRefusal(
        locked.caseId,
        () =>
          step(locked.complaintId, 'raise-incident', 'manager', {
            incidentId,
            category: 'transaction_fraud',
            system: 'billing',
            occurredAt: new Date(Date.now() - 60_000).toISOString(),
            impact: { affectedUsers: 2, amountCny: 300 },
            timings: { acknowledgeWithin: '1s' },
          }),
        { status: 403, reason: 'CASE_TIMINGS_LOCKED', details: { fields: ['timings.acknowledgeWithin'] } },
      );
      expect(await caseRow(`incident:${incidentId}`)).toBeUndefined();
    } finally {
      h.settings.caseTimings = 'allow';
    }
  });

  it('escalates and records 24 h and 48 h breaches on shortened clocks, then closes on feedback', async () => {
    const { caseId, complaintId } = await accept({
      channel: 'hotline',
      timings: { initialInvestigationWithin: '1s', resultWithin: '2s' },
    });
    await eventually(async () => ((await caseRow(caseId))?.data.breaches ?? []).length === 2, 20_000);
    const row = await caseRow(caseId);
    expect(row.data.breaches.map((b: { sla: string }) => b.sla)).toEqual(['initial_investigation_24h', 'result_48h']);
    const notes = await h.sql(`select message from notifications where case_id = $1 and kind = 'escalation'`, [caseId]);
    expect(notes.map((n) => n.message).join('\n')).toMatch(/initial_investigation_24h[\s\S]*result_48h/);

    const c = (path: string, json: unknown) => step(complaintId, path, 'manager', json);
    expect((await c('feedback', FEEDBACK)).status).toBe(409);
    expect((await c('investigation', { findings: 'Refund stuck at the bank' })).body.stage).toBe('handling');
    expect((await c('feedback', { cause: 'bank', measures: 'resent' })).status).toBe(400);
    expect((await c('feedback', FEEDBACK)).status).toBe(200);
    const result = await h.temporal.workflow.getHandle<typeof complaintWorkflow>(caseId).result();
    expect(result.breaches).toEqual(['initial_investigation_24h', 'result_48h']);
    expect(await caseRow(caseId)).toMatchObject({ status: 'closed', outcome: 'resolved' });
    expect((await get(`/api/complaints/${complaintId}`)).body).toMatchObject({
      status: 'closed',
      breaches: ['initial_investigation_24h', 'result_48h'],
    });
  });
});

describe('root-cause analysis before the feedback of a serious or repeated complaint', () => {
  it('a serious complaint: refused until an independent reviewer accepts the analysis, then closes', async () => {
    // Accepted by mgr, handled by owner (an action owner).
    const { caseId, complaintId } = await accept({ severity: 'serious', handlerId: 'owner', type: 'fraud_security' });
    expect((await caseRow(caseId)).data).toMatchObject({ rootCauseRequired: ['serious'], rootCause: null });
    expect((await step(complaintId, 'investigation', 'owner', { findings: 'Two captures' })).status).toBe(200);

    await expectRefusal(caseId, () => step(complaintId, 'feedback', 'owner', FEEDBACK), {
      status: 422,
      reason: 'ROOT_CAUSE_REQUIRED',
      message:
        /^a serious complaint needs its root-cause analysis \(根因分析\) accepted before the feedback; none is recorded/,
      details: { requiredBecause: ['serious'], rootCause: 'missing' },
    });

    // An analysis names corrective and preventive actions.
    const { correctiveActions: _c, ...withoutActions } = ROOT_CAUSE;
    const incomplete = await step(complaintId, 'root-cause', 'owner', withoutActions);
    expect(incomplete.status).toBe(400);
    expect(incomplete.body.error.details.map((d: { field: string }) => d.field)).toEqual(['body.correctiveActions']);

    // The handler records it; it goes to review by risk, compliance or internal audit.
    const recorded = await step(complaintId, 'root-cause', 'owner', ROOT_CAUSE);
    expect(recorded.status, JSON.stringify(recorded.body)).toBe(200);
    expect(recorded.body).toEqual({ stage: 'handling' });
    expect((await caseRow(caseId)).data.rootCause).toMatchObject({
      ...ROOT_CAUSE,
      by: 'owner',
      version: 1,
      status: 'submitted',
    });
    const [audit] = await h.sql(
      `select actor_id, payload from audit_events where case_id = $1 and action = 'complaint.root_cause_recorded'`,
      [caseId],
    );
    expect(audit).toMatchObject({ actor_id: 'owner' });
    expect(audit.payload.dataDelta.set.rootCause.rootCause).toBe(ROOT_CAUSE.rootCause);
    const reviewTask = `${caseId}:root-cause-review:1`;
    const [task] = await h.sql('select * from tasks where id = $1', [reviewTask]);
    expect(task).toMatchObject({
      kind: 'step',
      status: 'open',
      candidate_roles: ['risk', 'compliance', 'internal_audit'],
      excluded_user_ids: ['mgr', 'owner'],
    });
    expect(task.due_at.toISOString()).toBe((await caseRow(caseId)).data.resultDueAt);
    expect((await inbox('approver')).map((t) => t.id)).toContain(reviewTask);

    await expectRefusal(caseId, () => step(complaintId, 'feedback', 'owner', FEEDBACK), {
      status: 422,
      reason: 'ROOT_CAUSE_REQUIRED',
      message: /the analysis owner recorded awaits review by risk, compliance, internal_audit/,
      details: { rootCause: 'submitted' },
    });

    // Who may not review: a manager (no reviewing role); lead, who is risk too but recorded handling.
    await expectRefusal(caseId, () => step(complaintId, 'root-cause-review', 'manager', { verdict: 'accept' }), {
      status: 403,
      reason: 'ROLE_NOT_PERMITTED',
      message: 'reviewing a root-cause analysis needs the role risk or compliance or internal_audit',
    });
    expect((await step(complaintId, 'handling', 'lead', { action: 'Called the card network' })).status).toBe(200);
    await expectRefusal(caseId, () => step(complaintId, 'root-cause-review', 'lead', { verdict: 'accept' }), {
      status: 422,
      reason: 'SEGREGATION_OF_DUTIES',
      message: 'segregation of duties: lead recorded handling, so may not review its root-cause analysis',
      details: { reviewerId: 'lead', parts: ['recorded handling'] },
    });
    await expectRefusal(caseId, () => step(complaintId, 'root-cause-review', 'approver', { verdict: 'return' }), {
      status: 422,
      reason: 'REASON_REQUIRED',
    });

    // Returned with a reason: the feedback still waits, and the handler revises.
    const returned = await step(complaintId, 'root-cause-review', 'approver', {
      verdict: 'return',
      reason: 'Why did the retry not reuse the key?',
    });
    expect(returned.status, JSON.stringify(returned.body)).toBe(200);
    expect((await h.sql('select status, decision, decided_by from tasks where id = $1', [reviewTask]))[0]).toEqual({
      status: 'done',
      decision: 'return',
      decided_by: 'appr1',
    });
    await expectRefusal(caseId, () => step(complaintId, 'feedback', 'owner', FEEDBACK), {
      status: 422,
      reason: 'ROOT_CAUSE_REQUIRED',
      message: /appr1 returned the analysis \(Why did the retry not reuse the key\?\): revise it/,
      details: { rootCause: 'returned' },
    });
    await expectRefusal(caseId, () => step(complaintId, 'root-cause-review', 'approver2', { verdict: 'accept' }), {
      status: 409,
      reason: 'NOT_AWAITING_REVIEW',
    });
    const revised = await step(complaintId, 'root-cause', 'owner', {
      ...ROOT_CAUSE,
      contributingFactors: [...ROOT_CAUSE.contributingFactors, 'the retry built a new request'],
    });
    expect(revised.status, JSON.stringify(revised.body)).toBe(200);
    expect((await caseRow(caseId)).data.rootCause).toMatchObject({ version: 2, status: 'submitted', review: null });
    const secondTask = `${caseId}:root-cause-review:2`;
    expect((await inbox('approver2')).map((t) => t.id)).toContain(secondTask);

    // Someone from another function, who prepared nothing, accepts it.
    const accepted = await step(complaintId, 'root-cause-review', 'approver2', { verdict: 'accept' });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    expect((await h.sql('select status, decided_by from tasks where id = $1', [secondTask]))[0]).toEqual({
      status: 'done',
      decided_by: 'appr2',
    });
    expect((await inbox('approver2')).map((t) => t.id)).not.toContain(secondTask);
    await expectRefusal(caseId, () => step(complaintId, 'root-cause', 'owner', ROOT_CAUSE), {
      status: 409,
      reason: 'ROOT_CAUSE_ACCEPTED',
      message: /accepted by appr2/,
    });
    const actions = await h.sql(
      `select action, actor_id from audit_events where case_id = $1 and action like 'complaint.root_cause_%' order by seq`,
      [caseId],
    );
    expect(actions).toEqual([
      { action: 'complaint.root_cause_recorded', actor_id: 'owner' },
      { action: 'complaint.root_cause_returned', actor_id: 'appr1' },
      { action: 'complaint.root_cause_recorded', actor_id: 'owner' },
      { action: 'complaint.root_cause_accepted', actor_id: 'appr2' },
    ]);

    const fed = await step(complaintId, 'feedback', 'owner', FEEDBACK);
    expect(fed.status, JSON.stringify(fed.body)).toBe(200);
    expect(fed.body).toEqual({ stage: 'closed' });
    expect(await caseRow(caseId)).toMatchObject({ status: 'closed', outcome: 'resolved' });
    const read = await get(`/api/complaints/${complaintId}`, 'internalAudit');
    expect(read.body).toMatchObject({
      type: 'fraud_security',
      rootCauseStatus: 'accepted',
      rootCause: { version: 2, by: 'owner', review: { verdict: 'accept', by: 'appr2' } },
      rootCauseReviews: [
        { version: 1, verdict: 'return', by: 'appr1' },
        { version: 2, verdict: 'accept', by: 'appr2' },
      ],
      feedback: { ...FEEDBACK, by: 'owner' },
    });
    // The whole case, review task and its patch marker included, replays on the current code.
    const history = await h.temporal.workflow.getHandle(caseId).fetchHistory();
    await Worker.runReplayHistory(
      { workflowBundle: { codePath: inject('workflowBundlePath') }, dataConverter: replayDataConverter },
      history,
      caseId,
    );
    await saveHistoryFixture(h, caseId, 'complaint-root-cause-reviewed');
  });

  it('a repeat (same customer, same type) needs one too; a first complaint of a normal kind does not', async () => {
    const customerRef = h.unique('CUST');
    const first = await accept({ customerRef, type: 'logistics', subject: 'Parcel late' }, 'owner');
    const second = await accept({ customerRef, type: 'logistics', subject: 'Courier never came' }, 'owner');
    const other = await accept({ customerRef, type: 'service', subject: 'Agent hung up' }, 'owner');
    expect((await caseRow(first.caseId)).data).toMatchObject({ repeated: false, rootCauseRequired: [] });
    expect((await caseRow(second.caseId)).data).toMatchObject({
      repeated: true,
      repeatOf: [first.complaintId],
      rootCauseRequired: ['repeated'],
    });
    expect((await caseRow(second.caseId)).data.raiseSuggested).toMatch(/same matter within 30 days/);
    expect((await caseRow(other.caseId)).data).toMatchObject({ repeated: false, rootCauseRequired: [] });
    expect((await get('/api/complaints?type=logistics&pageSize=100', 'approver')).body.items).toEqual(
      expect.arrayContaining([expect.objectContaining({ complaintId: second.complaintId, repeated: true })]),
    );

    for (const c of [first, second]) {
      expect((await step(c.complaintId, 'investigation', 'owner', { findings: 'Depot closed' })).status).toBe(200);
    }
    await expectRefusal(second.caseId, () => step(second.complaintId, 'feedback', 'owner', FEEDBACK), {
      status: 422,
      reason: 'ROOT_CAUSE_REQUIRED',
      message: /^a repeated complaint needs its root-cause analysis/,
      details: { requiredBecause: ['repeated'], rootCause: 'missing' },
    });
    // The first complaint needs no analysis: its feedback closes it.
    const fed = await step(first.complaintId, 'feedback', 'owner', FEEDBACK);
    expect(fed.status, JSON.stringify(fed.body)).toBe(200);
    expect((await caseRow(first.caseId)).status).toBe('closed');

    // The handler (owner, who accepted it) records the analysis; internal audit accepts it; the feedback goes.
    expect((await step(second.complaintId, 'root-cause', 'owner', ROOT_CAUSE)).status).toBe(200);
    const before = await footprint(second.caseId);
    const unknownVerdict = await step(second.complaintId, 'root-cause-review', 'internalAudit', { verdict: 'maybe' });
    expect(unknownVerdict.status).toBe(400);
    expect(await footprint(second.caseId)).toEqual(before);
    const reviewed = await step(second.complaintId, 'root-cause-review', 'internalAudit', { verdict: 'accept' });
    expect(reviewed.status, JSON.stringify(reviewed.body)).toBe(200);
    expect((await step(second.complaintId, 'feedback', 'owner', FEEDBACK)).body).toEqual({ stage: 'closed' });
    expect((await caseRow(second.caseId)).data.rootCause).toMatchObject({ status: 'accepted', review: { by: 'ia1' } });
  });

  it('a repeated complaint is raised to an incident, linked both ways', async () => {
    const customerRef = h.unique('CUST');
    const json = { customerRef, channel: 'app', subject: 'Double charge' };
    const first = await accept(json, 'owner');
    const second = await accept(json, 'owner');
    expect((await caseRow(second.caseId)).data).toMatchObject({ repeated: true, raiseSuggested: expect.any(String) });
    expect((await caseRow(first.caseId)).data.repeated).toBe(false);

    const notHandler = await step(second.complaintId, 'root-cause', 'approver', ROOT_CAUSE);
    expect(notHandler.status).toBe(403);
    expect(notHandler.body.error.message).toBe('the complaint handler or a manager records the root cause');

    expect((await step(second.complaintId, 'raise-incident', 'owner', {})).status).toBe(403);
    const report = {
      category: 'transaction_fraud',
      system: 'billing',
      occurredAt: new Date(Date.now() - 3_600_000).toISOString(),
      impact: { affectedUsers: 2, amountCny: 300 },
    };
    const raised = await step(second.complaintId, 'raise-incident', 'manager', report);
    expect(raised.status, JSON.stringify(raised.body)).toBe(201);
    started.add(raised.body.incidentCaseId);
    // One Update on the complaint: it answers once the incident's case and the link can both be read.
    const incidentCase = await caseRow(raised.body.incidentCaseId);
    expect(incidentCase).toMatchObject({ stage: 'reported', initiator_id: 'mgr', owner_id: 'mgr' });
    expect(incidentCase.data.sourceComplaintId).toBe(second.caseId);
    expect((await caseRow(second.caseId)).data.linkedIncidentCaseId).toBe(raised.body.incidentCaseId);
    expect((await get(`/api/complaints/${second.complaintId}`)).body.linkedIncidentCaseId).toBe(
      raised.body.incidentCaseId,
    );
    // The incident is the complaint's child, and outlives it.
    const incidentRun = await h.temporal.workflow.getHandle(raised.body.incidentCaseId).describe();
    expect(incidentRun.parentExecution?.workflowId).toBe(second.caseId);
    const again = await step(second.complaintId, 'raise-incident', 'manager', report);
    expect(again.status).toBe(409);
  });

  it('a raised incident or an item ended from outside is recorded on the complaint, which goes on to close', async () => {
    const { caseId, complaintId } = await accept({ subject: 'Card charged twice' });
    const incidentId = h.unique('INC');
    const report = {
      incidentId,
      category: 'transaction_fraud',
      system: 'cards',
      occurredAt: new Date(Date.now() - 3_600_000).toISOString(),
      impact: { affectedUsers: 2, amountCny: 300 },
    };
    // An incident id already taken is refused by the complaint's workflow, and nothing is linked.
    const other = await post('/api/incidents', 'manager', { ...report, title: 'Reported first' });
    expect(other.status, JSON.stringify(other.body)).toBe(201);
    started.add(other.body.caseId);
    const taken = await step(complaintId, 'raise-incident', 'manager', report);
    expect(taken.status, JSON.stringify(taken.body)).toBe(409);
    expect(taken.body.error).toMatchObject({ reason: 'INCIDENT_EXISTS' });
    expect((await caseRow(caseId)).data.linkedIncidentCaseId).toBeNull();
    await h.temporal.workflow.getHandle(other.body.caseId).terminate('test done');

    const raised = await step(complaintId, 'raise-incident', 'manager', { ...report, incidentId: h.unique('INC') });
    expect(raised.status, JSON.stringify(raised.body)).toBe(201);
    started.add(raised.body.incidentCaseId);
    const item = await step(complaintId, 'rectifications', 'manager', {
      title: 'Refund the second charge',
      ownerId: 'owner',
    });
    expect(item.status, JSON.stringify(item.body)).toBe(200);
    const itemId: string = item.body.rectificationTaskId;
    await h.temporal.workflow.getHandle(raised.body.incidentCaseId).terminate('opened by mistake');
    await h.temporal.workflow.getHandle(itemId).terminate('duplicate item');
    const failed = await eventually(async () => {
      const rows = (await caseRow(caseId)).data.failedChildren;
      return rows?.length === 2 ? rows : null;
    });
    expect(failed).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ workflowId: raised.body.incidentCaseId, kind: 'incident', reason: 'terminated' }),
        expect.objectContaining({ workflowId: itemId, kind: 'rectification', reason: 'terminated' }),
      ]),
    );
    const audit = await h.sql(
      `select action, task_id from audit_events where case_id = $1 and action in ('case.child_failed', 'rectification.failed') order by seq`,
      [caseId],
    );
    expect(audit).toHaveLength(3);
    expect((await h.sql('select status from tasks where id = $1', [itemId]))[0].status).toBe('failed');
    // Nothing waits for them: the complaint closes on its feedback.
    for (const [path, json] of [
      ['investigation', { findings: 'Charged twice by a retry' }],
      ['feedback', FEEDBACK],
    ] as const) {
      const res = await step(complaintId, path, 'manager', json);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
    await h.temporal.workflow.getHandle<typeof complaintWorkflow>(caseId).result();
    expect(await caseRow(caseId)).toMatchObject({ status: 'closed', outcome: 'resolved' });
  });
});

describe('a new policy version', () => {
  it('runs on the SLAs and repeat window of the policy in force, and records its version', async () => {
    const values = {
      ...DEFAULT_POLICY,
      complaint: { initialInvestigationWithin: '12h', resultWithin: '36h', repeatWindowDays: 7 },
    };
    // Version 2, as an approved policy change writes it (platform/policy.ts). Last in this file: every
    // complaint accepted from now on runs under it.
    await h.sql(
      `insert into policy_versions (version, values, changed, summary, requested_by, approved_by, change_case_id, effective_at)
       values (2, $1, $2, 'complaint clocks', 'appr2', $3, $4, now())`,
      [
        JSON.stringify(values),
        ['complaint.initialInvestigationWithin', 'complaint.resultWithin', 'complaint.repeatWindowDays'],
        ['appr1', 'legal1'],
        h.unique('policy-change'),
      ],
    );
    const customerRef = h.unique('CUST');
    const first = await accept({ customerRef, type: 'logistics', subject: 'Parcel late' });
    const row = await caseRow(first.caseId);
    expect(row.policy_version).toBe(2);
    const accepted = Date.parse(row.data.acceptedAt);
    expect(Date.parse(row.data.initialInvestigationDueAt) - accepted).toBe(12 * 3_600_000);
    expect(Date.parse(row.data.resultDueAt) - accepted).toBe(36 * 3_600_000);
    expect((await get(`/api/complaints/${first.complaintId}`)).body.policyVersion).toBe(2);

    // The repeat is judged on the policy's window, which the escalation names.
    const second = await accept({ customerRef, type: 'logistics', subject: 'Courier never came' });
    const repeat = await caseRow(second.caseId);
    expect(repeat.data).toMatchObject({ repeated: true, repeatOf: [first.complaintId] });
    expect(repeat.data.raiseSuggested).toMatch(/same matter within 7 days/);
  });
});
