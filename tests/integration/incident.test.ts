/**
 * Incident close-out and complaints (DOMAIN.md §3) through the API, on the
 * real Temporal dev server and PostgreSQL, with deadlines shortened by
 * configuration.
 */
import { describe, expect, it } from 'vitest';
import type { incidentWorkflow } from '../../workflows/incident';
import { GovGrade, GovProcess, GovStage } from '../../workflows/searchAttributes';
import { eventually, useHarness, type TestUser } from '../support/harness';
import { saveHistoryFixture } from '../support/histories';
import { expectOverdueStep, expectOwedStep, expectStepDone, SHORT_STEP } from '../support/steps';

const h = useHarness('incident');

const post = (path: string, as: TestUser, json: unknown) => h.api('POST', path, { as, json });
const caseRow = async (caseId: string) => (await h.sql('select * from cases where id = $1', [caseId]))[0];
const waitForCase = (caseId: string) => eventually(async () => caseRow(caseId));
const waitForStage = (caseId: string, stage: string) =>
  eventually(async () => (await caseRow(caseId))?.stage === stage, 20_000);

const GRADE_I_IMPACT = { affectedUsers: 2_000_000, amountCny: 5_000_000 };

async function reportIncident(json: Record<string, unknown>, as: TestUser = 'manager') {
  const res = await post('/api/incidents', as, {
    title: 'Payment gateway outage',
    category: 'system_failure',
    system: 'payment-gateway',
    occurredAt: new Date(Date.now() - 60_000).toISOString(),
    impact: { affectedUsers: 500, amountCny: 0 },
    ...json,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  await waitForCase(res.body.caseId);
  return res.body as { caseId: string; incidentId: string; grade: string; suggestedGrade: string };
}
const step = (incidentId: string, path: string, as: TestUser, json: unknown = {}) =>
  post(`/api/incidents/${incidentId}/${path}`, as, json);

async function notifyAll(incidentId: string, audiences: string[]) {
  for (const audience of audiences) {
    const res = await step(incidentId, 'notifications', 'manager', {
      audience,
      notifiedAt: new Date().toISOString(),
      summary: `informed ${audience}`,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }
}

describe('incidents', () => {
  it('a grade I incident runs end to end and needs two close-out approvers, neither the owner', async () => {
    const incidentId = h.unique('INC');
    const reported = await reportIncident({ incidentId, impact: GRADE_I_IMPACT, ownerId: 'lead' });
    expect(reported).toMatchObject({ grade: 'I', suggestedGrade: 'I', caseId: `incident:${incidentId}` });
    const { caseId } = reported;

    expect((await step(incidentId, 'acknowledge', 'owner')).status).toBe(403);
    expect((await step(incidentId, 'acknowledge', 'lead')).body).toMatchObject({ stage: 'handling', grade: 'I' });
    expect((await step(incidentId, 'acknowledge', 'lead')).status).toBe(409);
    await step(incidentId, 'timeline', 'lead', { entry: 'Failed over to the standby gateway' });

    // Stabilising before the required audiences are informed is refused, naming them.
    const early = await step(incidentId, 'stabilise', 'lead', { summary: 'traffic restored' });
    expect(early.status).toBe(422);
    expect(early.body.error.reason).toBe('NOTIFICATION_MISSING');
    expect(early.body.error.message).toMatch(/regulator/);
    const [row] = await h.sql('select data from cases where id = $1', [caseId]);
    await notifyAll(incidentId, row.data.plan.mustNotify);
    expect((await step(incidentId, 'stabilise', 'lead', { summary: 'traffic restored' })).status).toBe(200);
    await waitForStage(caseId, 'evaluation').catch(async (err) => {
      const stack = await h.temporal.workflow.getHandle(caseId).query('__stack_trace');
      throw new Error(`${err.message}; workflow is at ${String(stack)}`);
    });

    // Closing before the required review is refused with the reason.
    const noReview = await step(incidentId, 'close-out', 'lead');
    expect(noReview.status).toBe(422);
    expect(noReview.body.error.reason).toBe('CLOSE_OUT_REFUSED');
    expect(noReview.body.error.message).toMatch(/evaluation/i);

    const evaluated = await step(incidentId, 'evaluation', 'lead', {
      rootCause: 'Certificate expired on the primary gateway',
      contributingFactors: ['no expiry monitoring'],
      lessons: 'Monitor certificate expiry',
    });
    expect(evaluated.body.stage).toBe('evaluation');
    expect((await step(incidentId, 'close-out', 'lead')).body.stage).toBe('awaiting_approval');

    const taskId = `${caseId}:close-out-1`;
    await eventually(async () => (await h.sql('select 1 from tasks where id = $1', [taskId])).length === 1);
    const decide = (as: TestUser, json: unknown) =>
      h.api('POST', `/api/tasks/${encodeURIComponent(taskId)}/decision`, { as, json });
    expect((await decide('lead', { decision: 'approve' })).body.error.reason).toBe('SEGREGATION_OF_DUTIES');
    expect((await decide('approver', { decision: 'approve' })).body.status).toBe('open');
    expect((await decide('approver2', { decision: 'approve' })).body.status).toBe('approved');

    const result = await h.temporal.workflow.getHandle<typeof incidentWorkflow>(caseId).result();
    expect(result).toMatchObject({ grade: 'I', repeatOf: null, closeOutAttempts: 1 });
    expect(await caseRow(caseId)).toMatchObject({ status: 'closed', outcome: 'closed_out' });
    const description = await h.temporal.workflow.getHandle(caseId).describe();
    expect(description.typedSearchAttributes.get(GovProcess)).toBe('incident');
    expect(description.typedSearchAttributes.get(GovGrade)).toBe('I');
    expect(description.typedSearchAttributes.get(GovStage)).toBe('closed');

    const report = await h.api('GET', `/api/incidents/${incidentId}/report`, { as: 'auditor' });
    expect(report.body.data.gradeHistory).toHaveLength(1);
    expect(report.body.data.notifications.map((n: { audience: string }) => n.audience).sort()).toEqual(
      [...row.data.plan.mustNotify].sort(),
    );
    expect(report.body.data.evaluation.rootCause).toBe('Certificate expired on the primary gateway');
    expect(report.body.approvals[0].votes.map((v: { userId: string }) => v.userId)).toEqual(['appr1', 'appr2']);
    const html = await h.app.request(`/api/incidents/${incidentId}/report.html`, {
      headers: { authorization: `Bearer ${h.tokens.auditor}` },
    });
    const page = await html.text();
    expect(page).toContain('事件复盘报告');
    expect(page).toContain('Certificate expired on the primary gateway');
    await saveHistoryFixture(h, caseId, 'incident-grade-I');
  });

  it('whoever took a step of the incident may not approve its close-out', async () => {
    const incidentId = h.unique('INC');
    const { caseId } = await reportIncident({
      incidentId,
      system: h.unique('system'),
      impact: { affectedUsers: 50, amountCny: 0 },
    });
    // lead is a manager and an approver: it acknowledges, so it prepared what the close-out approves.
    expect((await step(incidentId, 'acknowledge', 'lead')).status).toBe(200);
    expect((await step(incidentId, 'stabilise', 'manager', { summary: 'rolled back' })).status).toBe(200);
    // Grade IV ends with a short follow-up evaluation: what happened and the lessons.
    const evaluated = await step(incidentId, 'evaluation', 'manager', {
      summary: 'A config push broke logins for 50 users for ten minutes',
      lessons: 'Stage config pushes',
    });
    expect(evaluated.status, JSON.stringify(evaluated.body)).toBe(200);
    expect((await step(incidentId, 'close-out', 'manager')).status).toBe(200);
    const taskId = `${caseId}:close-out-1`;
    const [task] = await h.sql('select excluded_user_ids from tasks where id = $1', [taskId]);
    expect(task.excluded_user_ids).toEqual(expect.arrayContaining(['mgr', 'lead']));
    const decide = (as: TestUser) =>
      h.api('POST', `/api/tasks/${encodeURIComponent(taskId)}/decision`, { as, json: { decision: 'approve' } });
    const refused = await decide('lead');
    expect(refused.status).toBe(422);
    expect(refused.body.error.reason).toBe('SEGREGATION_OF_DUTIES');
    expect((await decide('approver')).body.status).toBe('approved');
    expect((await caseRow(caseId)).status).toBe('closed');
    // The close is read as the decision answers (the patch 'close-before-answer').
    await saveHistoryFixture(h, caseId, 'incident-closed-by-last-decision');
  });

  it('refuses to close while a rectification item is open, then closes once it is verified', async () => {
    const incidentId = h.unique('INC');
    const { caseId } = await reportIncident({ incidentId, impact: { affectedUsers: 20_000, amountCny: 0 } });
    await step(incidentId, 'acknowledge', 'manager');
    const [row] = await h.sql('select data from cases where id = $1', [caseId]);
    expect(row.data.grade).toBe('III');
    await notifyAll(incidentId, row.data.plan.mustNotify);
    await step(incidentId, 'stabilise', 'manager', { summary: 'rolled back' });
    await waitForStage(caseId, 'evaluation');
    const evaluated = await step(incidentId, 'evaluation', 'manager', {
      rootCause: 'Bad deploy',
      lessons: 'Canary first',
      rectificationItems: [{ title: 'Add canary stage', ownerId: 'owner' }],
    });
    expect(evaluated.body.stage).toBe('rectification');
    const itemId = `${caseId}:rectification:1`;
    await eventually(async () => (await h.sql('select 1 from tasks where id = $1', [itemId])).length === 1);

    const refused = await step(incidentId, 'close-out', 'manager');
    expect(refused.status).toBe(422);
    // The refusal names the item that is still open.
    expect(refused.body.error.message).toContain(
      `1 rectification item is still open: ${caseId}:rectification:1 "Add canary stage"`,
    );
    expect((await caseRow(caseId)).stage).toBe('rectification');

    const form = new FormData();
    form.append('file', new File([Buffer.from('canary pipeline')], 'pipeline.yml'));
    const proof = await h.api('POST', `/api/cases/${encodeURIComponent(caseId)}/evidence`, { as: 'owner', body: form });
    await h.api('POST', `/api/tasks/${encodeURIComponent(itemId)}/submission`, {
      as: 'owner',
      json: { evidenceIds: [proof.body.id] },
    });
    await h.api('POST', `/api/tasks/${encodeURIComponent(itemId)}/verification`, {
      as: 'approver',
      json: { verdict: 'accept' },
    });
    await eventually(async () => (await step(incidentId, 'close-out', 'manager')).status === 200, 10_000);
    const taskId = `${caseId}:close-out-1`;
    await eventually(async () => (await h.sql('select 1 from tasks where id = $1', [taskId])).length === 1);
    // Grade III: one approver closes it out.
    const decided = await h.api('POST', `/api/tasks/${encodeURIComponent(taskId)}/decision`, {
      as: 'approver',
      json: { decision: 'approve' },
    });
    expect(decided.body.status).toBe('approved');
    expect((await h.temporal.workflow.getHandle<typeof incidentWorkflow>(caseId).result()).rectifications).toBe(1);
  });

  it('after stabilisation the owner owes the close-out request, with a deadline; it stays owed when overdue', async () => {
    const incidentId = h.unique('INC');
    const { caseId } = await reportIncident({
      incidentId,
      system: h.unique('ledger'),
      impact: { affectedUsers: 10, amountCny: 0 },
      timings: { step: SHORT_STEP },
    });
    await step(incidentId, 'acknowledge', 'manager');
    const [row] = await h.sql('select data from cases where id = $1', [caseId]);
    await notifyAll(incidentId, row.data.plan.mustNotify);
    expect((await step(incidentId, 'stabilise', 'manager', { summary: 'rolled back' })).status).toBe(200);
    // The owner (mgr, who reported it) owes the request from the moment the incident is stabilised.
    const requestTask = `${caseId}:close-out-request-1`;
    await expectOwedStep(h, 'manager', requestTask, 'mgr');
    await expectOverdueStep(h, 'manager', requestTask, { assigneeId: 'mgr', escalatedTo: 'admin' });
    expect((await caseRow(caseId)).stage).toBe('evaluation');
    // The evaluation comes first (a short one at grade IV); the request stays owed until it is made.
    expect((await step(incidentId, 'evaluation', 'lead', { rootCause: 'Bad deploy', lessons: 'Canary' })).status).toBe(
      200,
    );
    expect((await h.sql('select status from tasks where id = $1', [requestTask]))[0].status).toBe('overdue');
    expect((await step(incidentId, 'close-out', 'lead')).body.stage).toBe('awaiting_approval');
    await expectStepDone(h, 'manager', requestTask, 'lead');
    await h.temporal.workflow.getHandle(caseId).terminate('test done');
  });

  it('escalates an unacknowledged incident to the next level, and again', async () => {
    const incidentId = h.unique('INC');
    const { caseId } = await reportIncident({
      incidentId,
      impact: { affectedUsers: 10, amountCny: 0 },
      timings: { acknowledgeWithin: '1s' },
    });
    await eventually(async () => ((await caseRow(caseId)).data.escalations ?? []).length >= 2, 20_000);
    const [row] = await h.sql('select data from cases where id = $1', [caseId]);
    expect(row.data.grade).toBe('IV');
    expect(row.data.escalations.slice(0, 2).map((e: { toLevel: string }) => e.toLevel)).toEqual(['III', 'II']);
    const notes = await h.sql(
      `select recipient_role, message from notifications where case_id = $1 and kind = 'escalation' order by created_at`,
      [caseId],
    );
    expect(notes.some((n) => /escalated to level III/.test(n.message))).toBe(true);
    expect(notes.some((n) => /escalated to level II/.test(n.message) && n.recipient_role === 'admin')).toBe(true);
    expect((await step(incidentId, 'acknowledge', 'manager')).body.stage).toBe('handling');
    await h.temporal.workflow.getHandle(caseId).terminate('test done');
  });

  it('regrading changes what is required from then on, and needs a reason', async () => {
    const incidentId = h.unique('INC');
    const { caseId } = await reportIncident({
      incidentId,
      system: h.unique('wallet'),
      impact: { affectedUsers: 50, amountCny: 0 },
    });
    await step(incidentId, 'acknowledge', 'manager');
    expect((await caseRow(caseId)).data.plan).toMatchObject({ evaluation: 'short', closeOutApprovers: 1 });
    expect((await step(incidentId, 'regrade', 'manager', { grade: 'II', reason: ' ' })).status).toBe(400);
    expect((await step(incidentId, 'regrade', 'owner', { grade: 'II', reason: 'more users' })).status).toBe(403);
    const up = await step(incidentId, 'regrade', 'manager', { grade: 'II', reason: '120k users affected after all' });
    expect(up.body).toMatchObject({ grade: 'II' });
    const after = await caseRow(caseId);
    expect(after.data.plan).toMatchObject({ grade: 'II', evaluation: 'full', closeOutApprovers: 2 });
    expect(after.data.plan.mustNotify).toContain('regulator');
    expect(after.risk_level).toBe('high');
    expect(after.data.gradeHistory.map((g: { grade: string }) => g.grade)).toEqual(['IV', 'II']);
    expect((await h.temporal.workflow.getHandle(caseId).describe()).typedSearchAttributes.get(GovGrade)).toBe('II');
    // Now the regulator must be informed before the incident is stabilised.
    const early = await step(incidentId, 'stabilise', 'manager', { summary: 'done' });
    expect(early.body.error.message).toMatch(/regulator/);
    await h.temporal.workflow.getHandle(caseId).terminate('test done');
  });

  it('flags a repeat (same category and system within 90 days) and makes its full review required', async () => {
    const system = h.unique('ledger');
    const first = await reportIncident({
      incidentId: h.unique('INC'),
      system,
      impact: { affectedUsers: 5, amountCny: 0 },
    });
    const second = await reportIncident({
      incidentId: h.unique('INC'),
      system: system.toUpperCase(),
      impact: { affectedUsers: 5, amountCny: 0 },
    });
    await eventually(async () => (await caseRow(second.caseId)).data.repeatOf === first.incidentId);
    const [row] = await h.sql('select data from cases where id = $1', [second.caseId]);
    expect(row.data.plan.evaluation).toBe('full');
    expect((await caseRow(first.caseId)).data.plan.evaluation).toBe('short');
    expect((await caseRow(first.caseId)).data.repeatOf).toBeNull();
    const otherCategory = await reportIncident({
      incidentId: h.unique('INC'),
      system,
      category: 'network_security',
      impact: { affectedUsers: 5, amountCny: 0 },
    });
    await eventually(
      async () =>
        (
          await h.sql(`select 1 from audit_events where case_id = $1 and action = 'incident.opened'`, [
            otherCategory.caseId,
          ])
        ).length === 0 || true,
    );
    expect((await caseRow(otherCategory.caseId)).data.repeatOf).toBeNull();
    for (const c of [first, second, otherCategory])
      await h.temporal.workflow.getHandle(c.caseId).terminate('test done');
  });

  it('an override of the suggested grade needs its reason, which is recorded', async () => {
    const refused = await post('/api/incidents', 'manager', {
      title: 'x',
      category: 'system_failure',
      system: 's',
      occurredAt: new Date().toISOString(),
      impact: { affectedUsers: 5, amountCny: 0 },
      grade: 'II',
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toMatch(/gradeReason/);
    const { caseId } = await reportIncident({
      incidentId: h.unique('INC'),
      grade: 'II',
      gradeReason: 'regulator already asking',
    });
    const [row] = await h.sql('select data from cases where id = $1', [caseId]);
    expect(row.data.gradeHistory[0].reason).toMatch(/overrides the suggested grade IV: regulator already asking/);
    await h.temporal.workflow.getHandle(caseId).terminate('test done');
  });
});
