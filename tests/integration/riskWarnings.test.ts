/**
 * Risk warnings at three levels (三级预警, e-commerce §6.2, finance §5.4;
 * issue 12 §3), on the real Temporal dev server and PostgreSQL: key risk
 * indicators, observations idempotent by alert key, the level's response as
 * a durable case (acknowledgement, response plan with escalation, an
 * incident), a repeat raising the level, and a review by someone who took
 * no part in the response.
 */
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { endWorkflows, historyLength, quiet, snapshot } from '../support/drive';
import { eventually, useHarness, type TestUser } from '../support/harness';
import { saveHistoryFixture } from '../support/histories';

const h = useHarness('riskWarnings');
const enc = encodeURIComponent;
const running = new Set<string>();
afterAll(() => endWorkflows(h, [...running], 'risk warnings test: done'));

const THRESHOLDS = { general: 10, elevated: 20, major: 30 };

const kriBody = (over: Record<string, unknown> = {}) => ({
  kriKey: h.unique('KRI'),
  name: 'Refund requests per hour',
  unit: 'per hour',
  direction: 'above',
  thresholds: THRESHOLDS,
  ownerId: 'mgr',
  ...over,
});

async function defineKri(over: Record<string, unknown> = {}, as: TestUser = 'lead') {
  const body = kriBody(over);
  const res = await h.api('POST', '/api/kris', { as, json: body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return body.kriKey as string;
}

const observe = (kriKey: string, json: Record<string, unknown>, as: TestUser = 'approver') =>
  h.api('POST', `/api/kris/${enc(kriKey)}/observations`, { as, json });

async function raise(kriKey: string, value: number, over: Record<string, unknown> = {}) {
  const alertKey = h.unique('ALERT');
  const res = await observe(kriKey, { alertKey, value, observedAt: new Date().toISOString(), ...over });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const caseId = res.body.warning?.caseId as string;
  if (caseId) running.add(caseId);
  return { alertKey, caseId, body: res.body, warningKey: `${kriKey}:${alertKey}` };
}

const step = (warningKey: string, path: string, as: TestUser, json: Record<string, unknown> = {}) =>
  h.api('POST', `/api/warnings/${enc(warningKey)}/${path}`, { as, json });

const caseOf = async (caseId: string) =>
  (
    await h.sql('select stage, status, outcome, owner_id, initiator_id, risk_level, data from cases where id = $1', [
      caseId,
    ])
  )[0];

/** A refused step: its status and reason, and nothing written nor recorded in the case's history. */
async function expectRefused(
  caseId: string,
  call: () => Promise<{ status: number; body: any }>,
  status: number,
  reason: string,
) {
  await quiet(h, caseId);
  const before = await snapshot(h, caseId);
  const res = await call();
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.error.reason).toBe(reason);
  expect(await snapshot(h, caseId)).toEqual(before);
  return res;
}

describe('key risk indicators', () => {
  it('managers and risk define them; thresholds ordered by direction; refusals write nothing', async () => {
    const count = async () =>
      (
        await h.sql(
          "select (select count(*) from key_risk_indicators)::int as kris, (select count(*) from audit_events where action = 'kri.defined')::int as events",
        )
      )[0];
    const before = await count();
    for (const as of ['owner', 'auditor', 'approver2', 'admin'] as const) {
      const res = await h.api('POST', '/api/kris', { as, json: kriBody() });
      expect(res.status, as).toBe(403);
    }
    const unordered = await h.api('POST', '/api/kris', {
      as: 'lead',
      json: kriBody({ thresholds: { general: 10, elevated: 5, major: 30 } }),
    });
    expect(unordered.status).toBe(400);
    expect(unordered.body.error.message).toMatch(/thresholds\.elevated/);
    const wrongWay = await h.api('POST', '/api/kris', { as: 'lead', json: kriBody({ direction: 'below' }) });
    expect(wrongWay.status).toBe(400);
    expect(wrongWay.body.error.message).toMatch(/thresholds\.elevated/);
    const notManager = await h.api('POST', '/api/kris', { as: 'lead', json: kriBody({ ownerId: 'owner' }) });
    expect(notManager.status).toBe(400);
    expect(notManager.body.error.message).toMatch(/ownerId/);
    const noRisk = await h.api('POST', '/api/kris', { as: 'lead', json: kriBody({ riskKey: 'RISK-NOPE' }) });
    expect(noRisk.status).toBe(404);
    expect(await count()).toEqual(before);

    // Allowed: a risk officer defines a falling indicator (a credit score).
    const below = kriBody({
      direction: 'below',
      thresholds: { general: 600, elevated: 550, major: 500 },
      unit: undefined,
    });
    const created = await h.api('POST', '/api/kris', { as: 'approver', json: below });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({
      kriKey: below.kriKey,
      direction: 'below',
      ownerId: 'mgr',
      riskKey: null,
      createdBy: 'appr1',
    });
    expect(await count()).toEqual({ kris: before.kris + 1, events: before.events + 1 });
    const again = await h.api('POST', '/api/kris', { as: 'approver', json: below });
    expect(again.status).toBe(409);
    expect(await count()).toEqual({ kris: before.kris + 1, events: before.events + 1 });

    const one = await h.api('GET', `/api/kris/${enc(below.kriKey)}`, { as: 'auditor' });
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ thresholds: { general: 600, elevated: 550, major: 500 }, observations: [] });
    const page = await h.api('GET', '/api/kris?page=1&pageSize=1', { as: 'auditor' });
    expect(page.status).toBe(200);
    expect(page.body.items).toHaveLength(1);
    expect(page.body.total).toBeGreaterThanOrEqual(1);
    expect((await h.api('GET', '/api/kris/KRI-NOPE', { as: 'auditor' })).status).toBe(404);
    const doc = await h.api('GET', '/openapi.json');
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/api/kris',
        '/api/kris/{kriKey}',
        '/api/kris/{kriKey}/observations',
        '/api/warnings/{warningKey}/acknowledgement',
        '/api/warnings/{warningKey}/response-plan',
        '/api/warnings/{warningKey}/review',
      ]),
    );
  });

  it('links to a risk of the register by its key', async () => {
    const riskKey = h.unique('RISK');
    await h.sql(
      `insert into risks (key, title, category, description, cause, consequence, owner_id, line_of_defence,
        inherent_probability, inherent_impact, residual_probability, residual_impact, version, created_by)
       values ($1, 'Refund fraud', 'operational', 'd', 'c', 'q', 'mgr', 'first', 3, 3, 2, 2, 1, 'lead')`,
      [riskKey],
    );
    const kriKey = await defineKri({ riskKey });
    expect((await h.api('GET', `/api/kris/${enc(kriKey)}`, { as: 'manager' })).body.riskKey).toBe(riskKey);
  });
});

describe('observations', () => {
  it('below every threshold: recorded, no warning; refusals write nothing', async () => {
    const kriKey = await defineKri();
    const quietObs = await observe(kriKey, {
      alertKey: h.unique('ALERT'),
      value: 9,
      observedAt: new Date().toISOString(),
    });
    expect(quietObs.status, JSON.stringify(quietObs.body)).toBe(201);
    expect(quietObs.body.warning).toBeNull();
    expect(quietObs.body.observation).toMatchObject({
      level: null,
      levelReached: null,
      warningCaseId: null,
      recordedBy: 'appr1',
    });
    expect(await h.sql("select 1 from cases where process = 'risk_warning' and subject_id = $1", [kriKey])).toEqual([]);

    const count = async () =>
      (
        await h.sql(
          'select (select count(*) from kri_observations)::int as obs, (select count(*) from cases)::int as cases, (select count(*) from audit_events)::int as events',
        )
      )[0];
    const before = await count();
    for (const as of ['owner', 'auditor', 'approver2'] as const) {
      expect(
        (await observe(kriKey, { alertKey: h.unique('ALERT'), value: 35, observedAt: new Date().toISOString() }, as))
          .status,
        as,
      ).toBe(403);
    }
    expect(
      (await observe('KRI-NOPE', { alertKey: h.unique('ALERT'), value: 35, observedAt: new Date().toISOString() }))
        .status,
    ).toBe(404);
    const future = await observe(kriKey, {
      alertKey: h.unique('ALERT'),
      value: 35,
      observedAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(future.status).toBe(400);
    expect(future.body.error.message).toMatch(/observedAt/);
    const saved = h.settings.caseTimings;
    h.settings.caseTimings = 'policy' as typeof saved;
    try {
      const locked = await observe(kriKey, {
        alertKey: h.unique('ALERT'),
        value: 35,
        observedAt: new Date().toISOString(),
        timings: { response: { escalateAfter: '2s' } },
      });
      expect(locked.status).toBe(403);
      expect(locked.body.error.reason).toBe('CASE_TIMINGS_LOCKED');
    } finally {
      h.settings.caseTimings = saved;
    }
    expect(await count()).toEqual(before);
  });

  it('idempotent by alert key: the same post answers as the first and starts nothing; another body is refused', async () => {
    const kriKey = await defineKri();
    const body = { alertKey: h.unique('ALERT'), value: 12, observedAt: new Date().toISOString() };
    const first = await observe(kriKey, body);
    expect(first.status).toBe(201);
    const caseId = first.body.warning.caseId as string;
    running.add(caseId);
    expect(caseId).toBe(`warning:${kriKey}:${body.alertKey}`);
    await quiet(h, caseId);
    const before = await snapshot(h, caseId);
    const obsBefore = await h.sql('select count(*)::int as n from kri_observations');

    const again = await observe(kriKey, body, 'lead');
    expect(again.status).toBe(200);
    expect(again.body.observation).toEqual(first.body.observation);
    expect(again.body.warning).toEqual(first.body.warning);
    const conflict = await observe(kriKey, { ...body, value: 13 });
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.reason).toBe('ALERT_KEY_REUSED');
    const otherKri = await defineKri();
    const elsewhere = await observe(otherKri, body);
    expect(elsewhere.status).toBe(409);
    expect(await snapshot(h, caseId)).toEqual(before);
    expect(await h.sql('select count(*)::int as n from kri_observations')).toEqual(obsBefore);
    expect(await h.sql('select 1 from cases where id = $1', [`warning:${otherKri}:${body.alertKey}`])).toEqual([]);
  });

  it('a warning recorded by a post that died before starting it is started by the retry', async () => {
    const kriKey = await defineKri();
    const body = { alertKey: h.unique('ALERT'), value: 12, observedAt: new Date().toISOString() };
    const caseId = `warning:${kriKey}:${body.alertKey}`;
    const hash = createHash('sha256')
      .update(JSON.stringify([kriKey, body.value, body.observedAt, null, null]))
      .digest('hex');
    // What the first post wrote before it died: the observation, no case.
    await h.sql(
      `insert into kri_observations (alert_key, kri_key, value, observed_at, request_hash, level_reached, level, warning_case_id, recorded_by)
       values ($1, $2, $3, $4, $5, 'general', 'general', $6, 'appr1')`,
      [body.alertKey, kriKey, body.value, body.observedAt, hash, caseId],
    );
    const retry = await observe(kriKey, body);
    expect(retry.status, JSON.stringify(retry.body)).toBe(200);
    running.add(caseId);
    expect(retry.body.warning).toMatchObject({ caseId, level: 'general', stage: 'acknowledgement' });
    expect(await caseOf(caseId)).toMatchObject({ stage: 'acknowledgement', initiator_id: 'appr1' });
    expect(
      await h.sql('select count(*)::int as n from kri_observations where alert_key = $1', [body.alertKey]),
    ).toEqual([{ n: 1 }]);
  });

  it('a repeat of the indicator within the window raises the level one step; outside it, not', async () => {
    const kriKey = await defineKri();
    const day = 86_400_000;
    const first = await raise(kriKey, 12, { observedAt: new Date(Date.now() - 2 * day).toISOString() });
    expect(first.body.warning.level).toBe('general');
    const repeat = await raise(kriKey, 12);
    expect(repeat.body.observation).toMatchObject({
      levelReached: 'general',
      level: 'elevated',
      repeatOf: [first.alertKey],
    });
    expect(repeat.body.warning).toMatchObject({ level: 'elevated', stage: 'response_plan' });
    const data = (await caseOf(repeat.caseId)).data;
    expect(data).toMatchObject({ level: 'elevated', levelReached: 'general', repeatOf: [first.alertKey] });
    // 40 days before: the window (30 days by policy) looks back from the observation, and nothing came before it.
    const old = await raise(kriKey, 12, { observedAt: new Date(Date.now() - 40 * day).toISOString() });
    expect(old.body.warning.level).toBe('general');
    expect(old.body.observation.repeatOf).toEqual([]);
    // A repeat of an elevated one is major.
    const major = await raise(kriKey, 25);
    expect(major.body.observation).toMatchObject({ levelReached: 'elevated', level: 'major' });
  });
});

describe('the response by level, closed by a review', () => {
  it('general: the owner acknowledges, and risk reviews; others are refused with nothing recorded', async () => {
    const kriKey = await defineKri();
    const w = await raise(kriKey, 12);
    expect(w.body.warning).toMatchObject({ level: 'general', stage: 'acknowledgement' });
    const row = await caseOf(w.caseId);
    expect(row).toMatchObject({ stage: 'acknowledgement', owner_id: 'mgr', initiator_id: 'appr1', risk_level: 'low' });
    expect(row.data).toMatchObject({
      kriKey,
      alertKey: w.alertKey,
      value: 12,
      level: 'general',
      levelLabel: { zh: '一般' },
    });
    // Auditors filter warnings by level in Temporal UI.
    const described = await h.temporal.workflow.getHandle(w.caseId).describe();
    expect(described.searchAttributes.GovWarningLevel).toEqual(['general']);
    expect(described.searchAttributes.GovProcess).toEqual(['risk_warning']);
    const [task] = await h.sql('select assignee_id, status from tasks where id = $1', [`${w.caseId}:acknowledgement`]);
    expect(task).toEqual({ assignee_id: 'mgr', status: 'open' });

    await expectRefused(w.caseId, () => step(w.warningKey, 'acknowledgement', 'lead'), 403, 'ROLE_NOT_PERMITTED');
    await expectRefused(
      w.caseId,
      () => step(w.warningKey, 'review', 'approver', { conclusion: 'fine' }),
      409,
      'WRONG_STAGE',
    );
    await expectRefused(
      w.caseId,
      () => step(w.warningKey, 'response-plan', 'manager', { plan: 'x' }),
      409,
      'WRONG_STAGE',
    );

    const ack = await step(w.warningKey, 'acknowledgement', 'manager', { note: 'Seen; checking the gateway' });
    expect(ack.status, JSON.stringify(ack.body)).toBe(200);
    expect(ack.body.stage).toBe('review');
    expect((await h.sql('select status from tasks where id = $1', [`${w.caseId}:acknowledgement`]))[0].status).toBe(
      'done',
    );
    expect(await h.sql('select candidate_roles from tasks where id = $1', [`${w.caseId}:review`])).toEqual([
      { candidate_roles: ['risk', 'compliance'] },
    ]);

    await expectRefused(
      w.caseId,
      () => step(w.warningKey, 'review', 'manager', { conclusion: 'fine' }),
      403,
      'ROLE_NOT_PERMITTED',
    );
    const review = await step(w.warningKey, 'review', 'approver', { conclusion: 'A promotion spike; threshold stays' });
    expect(review.status, JSON.stringify(review.body)).toBe(200);
    const closed = await caseOf(w.caseId);
    expect(closed).toMatchObject({ stage: 'closed', status: 'closed', outcome: 'resolved' });
    expect(closed.data.acknowledgement).toMatchObject({ by: 'mgr', note: 'Seen; checking the gateway' });
    expect(closed.data.review).toMatchObject({ by: 'appr1', conclusion: 'A promotion spike; threshold stays' });
    running.delete(w.caseId);
  });

  it('general: past the final deadline the acknowledgement is overdue and still owed', async () => {
    const kriKey = await defineKri();
    const w = await raise(kriKey, 15, {
      timings: { response: { remindAfter: '1s', escalateAfter: '2s', expireAfter: '3s' } },
    });
    const taskId = `${w.caseId}:acknowledgement`;
    const overdue = await eventually(async () => {
      const [t] = await h.sql('select status, escalated_to from tasks where id = $1', [taskId]);
      return t?.status === 'overdue' ? t : null;
    });
    expect(overdue.escalated_to).toBe('manager');
    const kinds = (await h.sql('select kind from notifications where case_id = $1', [w.caseId])).map((n) => n.kind);
    expect(kinds).toEqual(expect.arrayContaining(['reminder', 'escalation', 'overdue']));
    expect((await caseOf(w.caseId)).stage).toBe('acknowledgement');
    const ack = await step(w.warningKey, 'acknowledgement', 'manager', {});
    expect(ack.status, JSON.stringify(ack.body)).toBe(200);
    expect((await h.sql('select status, decided_by from tasks where id = $1', [taskId]))[0]).toEqual({
      status: 'done',
      decided_by: 'mgr',
    });
  });

  it('elevated: escalated when the plan is not in by the deadline; the planner may not review', async () => {
    const kriKey = await defineKri({ ownerId: 'lead' });
    const w = await raise(kriKey, 25, {
      timings: { response: { remindAfter: '1s', escalateAfter: '2s', expireAfter: '1h' } },
    });
    expect(w.body.warning).toMatchObject({ level: 'elevated', stage: 'response_plan' });
    const taskId = `${w.caseId}:response-plan`;
    const escalated = await eventually(async () => {
      const [t] = await h.sql('select reminded_at, escalated_at, escalated_to, status from tasks where id = $1', [
        taskId,
      ]);
      return t?.escalated_at ? t : null;
    });
    expect(escalated).toMatchObject({ status: 'open', escalated_to: 'admin' });
    expect(escalated.reminded_at).not.toBeNull();
    const notices = await h.sql('select kind from notifications where case_id = $1 order by id', [w.caseId]);
    expect(notices.map((n) => n.kind)).toEqual(expect.arrayContaining(['reminder', 'escalation']));

    await expectRefused(
      w.caseId,
      () => step(w.warningKey, 'response-plan', 'approver', { plan: 'x' }),
      403,
      'ROLE_NOT_PERMITTED',
    );
    const beforeEmpty = await snapshot(h, w.caseId);
    const empty = await step(w.warningKey, 'response-plan', 'lead', { plan: '' });
    expect(empty.status).toBe(400);
    expect(empty.body.error.message).toMatch(/plan/);
    expect(await snapshot(h, w.caseId)).toEqual(beforeEmpty);
    const plan = await step(w.warningKey, 'response-plan', 'lead', {
      plan: 'Throttle refunds over 5 000 CNY; rule review Friday',
    });
    expect(plan.status, JSON.stringify(plan.body)).toBe(200);
    expect(plan.body.stage).toBe('review');

    const sod = await expectRefused(
      w.caseId,
      () => step(w.warningKey, 'review', 'lead', { conclusion: 'Handled' }),
      422,
      'SEGREGATION_OF_DUTIES',
    );
    expect(sod.body.error.message).toMatch(/segregation of duties/);
    const review = await step(w.warningKey, 'review', 'approver2', {
      conclusion: 'Plan adequate',
      modelAdjustment: 'raise general to 12',
    });
    expect(review.status, JSON.stringify(review.body)).toBe(200);
    const closed = await caseOf(w.caseId);
    expect(closed).toMatchObject({ stage: 'closed', outcome: 'resolved' });
    expect(closed.data.responsePlan).toMatchObject({ by: 'lead' });
    expect(closed.data.review).toMatchObject({ by: 'appr2', modelAdjustment: 'raise general to 12' });
    running.delete(w.caseId);
  });

  it('major: opens an incident at the policy grade, linked both ways; reviewed once the incident is closed out', async () => {
    const kriKey = await defineKri();
    const w = await raise(kriKey, 31);
    expect(w.body.warning).toMatchObject({ level: 'major', stage: 'incident' });
    const incidentCaseId = `incident:WARN-${w.alertKey}`;
    running.add(incidentCaseId);
    const warning = await caseOf(w.caseId);
    expect(warning).toMatchObject({ stage: 'incident', risk_level: 'high' });
    expect(warning.data).toMatchObject({ incidentId: `WARN-${w.alertKey}`, incidentCaseId });
    const incident = await eventually(async () => {
      const row = await caseOf(incidentCaseId);
      return row?.data?.sourceWarningCaseId ? row : null;
    });
    expect(incident).toMatchObject({ status: 'open', owner_id: 'mgr', initiator_id: 'appr1' });
    expect(incident.data).toMatchObject({ grade: 'II', sourceWarningCaseId: w.caseId, system: `kri:${kriKey}` });
    const desc = await h.temporal.workflow.getHandle(incidentCaseId).describe();
    expect(desc.raw.workflowExecutionInfo?.parentExecution?.workflowId).toBe(w.caseId);
    // The review waits for the incident's whole response.
    await expectRefused(
      w.caseId,
      () => step(w.warningKey, 'review', 'approver', { conclusion: 'x' }),
      409,
      'WRONG_STAGE',
    );

    // The incident's whole response, as its owner (mgr) runs it: then the warning is reviewed.
    const incidentId = `WARN-${w.alertKey}`;
    const inc = (path: string, as: TestUser, json: unknown = {}) =>
      h.api('POST', `/api/incidents/${enc(incidentId)}/${path}`, { as, json });
    const acked = await inc('acknowledge', 'manager');
    expect(acked.status, JSON.stringify(acked.body)).toBe(200);
    for (const audience of incident.data.plan.mustNotify as string[]) {
      const told = await inc('notifications', 'manager', {
        audience,
        notifiedAt: new Date().toISOString(),
        summary: `informed ${audience}`,
      });
      expect(told.status, JSON.stringify(told.body)).toBe(200);
    }
    const stabilised = await inc('stabilise', 'manager', { summary: 'Refunds throttled' });
    expect(stabilised.status, JSON.stringify(stabilised.body)).toBe(200);
    await eventually(async () => (await caseOf(incidentCaseId))?.stage === 'evaluation');
    const evaluated = await inc('evaluation', 'manager', {
      rootCause: 'A refund rule let duplicates through',
      summary: 'Duplicate refunds until throttled',
      lessons: 'Alert on refund rate per merchant',
    });
    expect(evaluated.status, JSON.stringify(evaluated.body)).toBe(200);
    const closeOut = await inc('close-out', 'manager');
    expect(closeOut.status, JSON.stringify(closeOut.body)).toBe(200);
    const taskId = `${incidentCaseId}:close-out-1`;
    await eventually(async () => (await h.sql('select 1 from tasks where id = $1', [taskId])).length === 1);
    // appr1 posted the observation, so it reported the incident: it may not approve the close-out.
    for (const as of ['risk2', 'approver2'] as const) {
      const [t] = await h.sql('select status from tasks where id = $1', [taskId]);
      if (t.status !== 'open') break;
      const decided = await h.api('POST', `/api/tasks/${enc(taskId)}/decision`, { as, json: { decision: 'approve' } });
      expect(decided.status, JSON.stringify(decided.body)).toBe(200);
    }
    await eventually(async () => (await caseOf(w.caseId))?.stage === 'review', 20_000);
    expect(await caseOf(incidentCaseId)).toMatchObject({ status: 'closed', outcome: 'closed_out' });
    const review = await step(w.warningKey, 'review', 'lead', { conclusion: 'Incident closed out; rule fixed' });
    expect(review.status, JSON.stringify(review.body)).toBe(200);
    expect(await caseOf(w.caseId)).toMatchObject({ status: 'closed', outcome: 'resolved' });
    await h.temporal.workflow.getHandle(w.caseId).result();
    await saveHistoryFixture(h, w.caseId, 'risk-warning-major-incident');
    running.delete(w.caseId);
    running.delete(incidentCaseId);
    expect(await historyLength(h, w.caseId)).toBeGreaterThan(0);
  });
});
