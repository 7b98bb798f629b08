/**
 * The periodic risk assessment (issue 12 §2) on the real Temporal dev server
 * and PostgreSQL: one case per period of policy riskRegister.assessmentPeriodMonths;
 * each risk owner owes one re-rating step whose ratings become register
 * versions; the risk function reviews and compliance signs off under
 * segregation of duties; a risk that rose opens a rectification item linked to
 * it; the report shows the heat map, movements, top risks and treatments.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { expectNotStarted, fileForm, historyLength } from '../support/drive';
import { eventually, useHarness, type TestUser } from '../support/harness';
import { saveHistoryFixture } from '../support/histories';

const h = useHarness('riskassessment');
const enc = encodeURIComponent;
const running = new Set<string>();
afterAll(async () => {
  for (const id of running) {
    await h.temporal.workflow
      .getHandle(id)
      .terminate('risk assessment tests done')
      .catch(() => undefined);
  }
});

const newKey = () => `RISK-T${randomUUID().slice(0, 8).toUpperCase()}`;

async function raise(ownerId: string, residual: { probability: number; impact: number }) {
  const res = await h.api('POST', '/api/risks', {
    as: 'lead',
    json: {
      riskKey: newKey(),
      title: `Risk of ${ownerId}`,
      category: 'technical',
      description: 'The single payment gateway fails under peak load.',
      cause: 'No failover provider',
      consequence: 'Orders lost',
      ownerId,
      lineOfDefence: 'first',
      inherent: { probability: 4, impact: 5 },
      residual,
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.key as string;
}

const start = (json: Record<string, unknown>, as: TestUser = 'lead') =>
  h.api('POST', '/api/risk-assessments', { as, json });
const rate = (period: string, as: TestUser, json: Record<string, unknown>) =>
  h.api('POST', `/api/risk-assessments/${period}/ratings`, { as, json });
const decide = (taskId: string, as: TestUser, json: Record<string, unknown>) =>
  h.api('POST', `/api/tasks/${enc(taskId)}/decision`, { as, json });
const rating = (riskKey: string, probability: number, impact: number, evaluation = 'treat') => ({
  riskKey,
  causes: 'Peak load doubled; one gateway',
  analysis: 'Failover drill passed, capacity short at peak',
  residual: { probability, impact },
  evaluation,
});

async function registerState() {
  const [row] = await h.sql(`
    select (select count(*) from risks)::int as risks,
           (select count(*) from risk_versions)::int as versions,
           (select count(*) from risk_links)::int as links,
           (select count(*) from cases where process = 'risk_assessment')::int as assessments`);
  return row;
}

/** A refusal: its status and reason, no new history event, nothing written. */
async function expectRefused(
  call: () => Promise<{ status: number; body: any }>,
  status: number,
  reason?: string,
  workflowId?: string,
) {
  const before = await registerState();
  const events = workflowId ? await historyLength(h, workflowId) : 0;
  const res = await call();
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  if (reason) expect(res.body.error.reason).toBe(reason);
  expect(await registerState()).toEqual(before);
  if (workflowId) expect(await historyLength(h, workflowId)).toBe(events);
  return res.body;
}

describe('the periodic risk assessment', () => {
  it('refuses an empty register, who may not open one, and periods that are not the policy’s', async () => {
    await expectRefused(() => start({ period: '2026-Q1' }), 422, 'EMPTY_REGISTER');
    await expectNotStarted(h, 'risk-assessment:2026-Q1');
    await raise('owner', { probability: 1, impact: 1 });
    for (const as of ['owner', 'approver2', 'auditor', 'admin'] as const) {
      await expectRefused(() => start({ period: '2026-Q1' }, as), 403);
    }
    // Policy riskRegister.assessmentPeriodMonths is 3: quarters only, already begun.
    for (const period of ['2026-M01', '2026-H1', '2026', '2099-Q1']) {
      const body = await expectRefused(() => start({ period }), 400);
      expect(body.error.message).toMatch(/period/);
    }
    await expectRefused(() => start({ period: '2026-Q5' }), 400);
    await expectNotStarted(h, 'risk-assessment:2026-Q1');
  });

  it('owners re-rate through one owed step each, reviewed and signed off; a risk that rose is treated; the report', async () => {
    // Every risk in the register is in scope, including the one raised above (owner's).
    const [existing] = await h.sql(`select key from risks where owner_id = 'owner'`);
    const rose = await raise('owner', { probability: 2, impact: 3 });
    const fell = await raise('owner', { probability: 2, impact: 2 });
    const mgrRisk = await raise('mgr', { probability: 2, impact: 2 });
    const riskOfficerRisk = await raise('appr1', { probability: 2, impact: 2 });
    const period = '2026-Q3';
    const caseId = `risk-assessment:${period}`;
    const started = await start({ period });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    running.add(caseId);
    expect(started.body).toMatchObject({ caseId, period, stage: 'rating', owners: ['appr1', 'mgr', 'owner'] });
    expect(started.body.scope).toHaveLength(5);
    const [row] = await h.sql('select process, stage, initiator_id, policy_version from cases where id = $1', [caseId]);
    expect(row).toEqual({ process: 'risk_assessment', stage: 'rating', initiator_id: 'lead', policy_version: 1 });
    await expectRefused(() => start({ period }), 409, undefined, caseId);

    // One owed step per owner, assigned to them.
    const steps = await h.sql(
      `select id, assignee_id, status from tasks where case_id = $1 and kind = 'step' order by id`,
      [caseId],
    );
    expect(steps).toEqual([
      { id: `${caseId}:rating:appr1`, assignee_id: 'appr1', status: 'open' },
      { id: `${caseId}:rating:mgr`, assignee_id: 'mgr', status: 'open' },
      { id: `${caseId}:rating:owner`, assignee_id: 'owner', status: 'open' },
    ]);

    const inbox = await h.api('GET', '/api/tasks/inbox', { as: 'owner' });
    expect(inbox.body.toDo.map((t: { id: string }) => t.id)).toContain(`${caseId}:rating:owner`);

    const mine = [rating(existing.key, 1, 1, 'accept'), rating(rose, 3, 3), rating(fell, 1, 2, 'accept')];
    await expectRefused(() => rate(period, 'auditor', { ratings: mine }), 403, undefined, caseId);
    await expectRefused(() => rate(period, 'approver2', { ratings: mine }), 409, 'NO_RATING_OWED', caseId);
    const missing = await expectRefused(
      () => rate(period, 'owner', { ratings: mine.slice(0, 2) }),
      422,
      'INVALID_RATINGS',
      caseId,
    );
    expect(missing.error.message).toContain(fell);
    await expectRefused(
      () => rate(period, 'owner', { ratings: [...mine, rating(mgrRisk, 1, 1)] }),
      422,
      'INVALID_RATINGS',
      caseId,
    );
    await expectRefused(
      () => rate(period, 'owner', { ratings: [mine[0], rating(rose, 5, 5), mine[2]] }),
      422,
      'INVALID_RATINGS',
      caseId,
    );
    await expectRefused(
      () => rate(period, 'owner', { ratings: mine.map((r) => ({ ...r, evaluation: 'ignore' })) }),
      400,
      undefined,
      caseId,
    );

    const newRisk = {
      title: 'Chargeback fraud via new wallet',
      category: 'technical',
      description: 'Fraud rings use the new wallet to charge back.',
      cause: 'No device fingerprinting',
      consequence: 'Losses',
      lineOfDefence: 'first',
      inherent: { probability: 3, impact: 3 },
      residual: { probability: 1, impact: 2 },
      evaluation: 'accept',
    };
    const done = await rate(period, 'owner', { ratings: mine, newRisks: [newRisk] });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    const raisedKey = 'RISK-RA2026Q3-1';
    // Applied to the register as versions, with their audit events on the case.
    expect(
      await h.sql('select version, actor_id, reason, changed from risk_versions where risk_key = $1 order by version', [
        rose,
      ]),
    ).toEqual([
      expect.objectContaining({ version: 1 }),
      {
        version: 2,
        actor_id: 'owner',
        reason: expect.stringContaining('risk assessment 2026-Q3 (treat)'),
        changed: ['cause', 'residual'],
      },
    ]);
    expect(
      await h.sql('select residual_probability, residual_impact, version from risks where key = $1', [rose]),
    ).toEqual([{ residual_probability: 3, residual_impact: 3, version: 2 }]);
    expect(
      await h.sql(
        `select actor_id, case_id from audit_events where action = 'risk.updated' and payload->>'riskKey' = $1`,
        [rose],
      ),
    ).toEqual([{ actor_id: 'owner', case_id: caseId }]);
    expect(await h.sql('select owner_id, version from risks where key = $1', [raisedKey])).toEqual([
      { owner_id: 'owner', version: 1 },
    ]);
    await expectRefused(() => rate(period, 'owner', { ratings: mine }), 409, 'ALREADY_RATED', caseId);
    expect((await h.sql('select status from tasks where id = $1', [`${caseId}:rating:owner`]))[0].status).toBe('done');
    expect((await h.sql('select stage from cases where id = $1', [caseId]))[0].stage).toBe('rating');

    expect((await rate(period, 'manager', { ratings: [rating(mgrRisk, 2, 2, 'accept')] })).status).toBe(200);
    const last = await rate(period, 'approver', { ratings: [rating(riskOfficerRisk, 2, 2, 'accept')] });
    expect(last.status, JSON.stringify(last.body)).toBe(200);
    expect((await h.sql('select stage from cases where id = $1', [caseId]))[0].stage).toBe('awaiting_approval');

    // The risk function reviews; an owner who re-rated may not.
    const reviewId = `${caseId}:review`;
    const [review] = await h.sql('select candidate_roles, excluded_user_ids from tasks where id = $1', [reviewId]);
    expect(review.candidate_roles).toEqual(['risk']);
    expect(review.excluded_user_ids).toEqual(expect.arrayContaining(['owner', 'mgr', 'appr1']));
    const barred = await decide(reviewId, 'approver', { decision: 'approve' });
    expect(barred.status).toBe(422);
    expect(barred.body.error).toMatchObject({
      reason: 'SEGREGATION_OF_DUTIES',
      details: { userId: 'appr1', reasons: ['re-rated risks in this assessment'] },
    });
    expect((await decide(reviewId, 'approver2', { decision: 'approve' })).status).toBe(403);
    const reviewed = await decide(reviewId, 'risk2', { decision: 'approve' });
    expect(reviewed.status, JSON.stringify(reviewed.body)).toBe(200);

    // Compliance signs off; neither the raters nor the reviewer may.
    const signOffId = `${caseId}:sign-off`;
    const [signOff] = await h.sql('select candidate_roles, excluded_user_ids from tasks where id = $1', [signOffId]);
    expect(signOff.candidate_roles).toEqual(['compliance']);
    expect(signOff.excluded_user_ids).toEqual(expect.arrayContaining(['owner', 'mgr', 'appr1', 'risk2']));
    expect((await decide(signOffId, 'risk2', { decision: 'approve' })).status).toBe(403);
    const signed = await decide(signOffId, 'approver2', { decision: 'approve' });
    expect(signed.status, JSON.stringify(signed.body)).toBe(200);

    // Only the risk that rose is treated: an item owned by its owner, linked in the register.
    const itemId = `${caseId}:rectification:${rose}`;
    expect((await h.sql('select stage from cases where id = $1', [caseId]))[0].stage).toBe('rectification');
    expect(
      await h.sql(`select id, assignee_id from tasks where case_id = $1 and kind = 'rectification'`, [caseId]),
    ).toEqual([{ id: itemId, assignee_id: 'owner' }]);
    expect(await h.sql('select risk_key, linked_by from risk_links where case_id = $1', [caseId])).toEqual([
      { risk_key: rose, linked_by: 'appr2' },
    ]);
    const shown = await h.api('GET', `/api/risks/${rose}`, { as: 'auditor' });
    expect(shown.body.links).toEqual([expect.objectContaining({ caseId, process: 'risk_assessment' })]);

    const report = await h.api('GET', `/api/risk-assessments/${period}/report`, { as: 'auditor' });
    expect(report.status, JSON.stringify(report.body)).toBe(200);
    const keys = (list: Array<{ riskKey: string }>) => list.map((m) => m.riskKey).sort();
    expect(keys(report.body.movements.rose)).toEqual([rose]);
    expect(keys(report.body.movements.fell)).toEqual([fell]);
    expect(keys(report.body.movements.new)).toEqual([raisedKey]);
    expect(keys(report.body.movements.unchanged)).toEqual([existing.key, mgrRisk, riskOfficerRisk].sort());
    const cell = (p: number, i: number) =>
      report.body.heatMap.find((c: { probability: number; impact: number }) => c.probability === p && c.impact === i)
        .count;
    expect(report.body.heatMap).toHaveLength(25);
    expect([cell(3, 3), cell(2, 2), cell(1, 2), cell(1, 1)]).toEqual([1, 2, 2, 1]);
    expect(report.body.topRisks[0]).toMatchObject({ riskKey: rose, score: 9, level: 'medium', evaluation: 'treat' });
    expect(report.body.treatments).toEqual([expect.objectContaining({ itemId, riskKey: rose, status: 'open' })]);
    expect(report.body.overdueTreatments).toEqual([]);

    // The owner treats it; someone else verifies; the case closes (闭环).
    const evidence = await h.api('POST', `/api/cases/${enc(caseId)}/evidence`, {
      as: 'owner',
      body: fileForm('second gateway contract'),
    });
    expect(evidence.status, JSON.stringify(evidence.body)).toBe(201);
    const submitted = await h.api('POST', `/api/tasks/${enc(itemId)}/submission`, {
      as: 'owner',
      json: { evidenceIds: [evidence.body.id] },
    });
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(200);
    const verified = await h.api('POST', `/api/tasks/${enc(itemId)}/verification`, {
      as: 'approver',
      json: { verdict: 'accept' },
    });
    expect(verified.status, JSON.stringify(verified.body)).toBe(200);
    expect(await h.temporal.workflow.getHandle(caseId).result()).toEqual({
      outcome: 'closed_out',
      rectificationItems: [itemId],
    });
    expect(await h.sql('select status, outcome from cases where id = $1', [caseId])).toEqual([
      { status: 'closed', outcome: 'closed_out' },
    ]);
    await saveHistoryFixture(h, caseId, 'risk-assessment-closed-out');
    const html = await h.api('GET', `/api/risk-assessments/${period}/report.html`, { as: 'auditor' });
    expect(html.status).toBe(200);
    expect(String(html.body)).toContain('Risk assessment 2026-Q3');
    expect(String(html.body)).toContain('风险评估报告');
    expect((await h.api('GET', '/api/risk-assessments/2025-Q1/report', { as: 'auditor' })).status).toBe(404);
    // The report follows its case: legal has no part in it and reads it as absent.
    const hidden = await h.api('GET', `/api/risk-assessments/${period}/report`, { as: 'legal' });
    expect(hidden.status).toBe(404);
    expect(hidden.body.error.message).toBe(`no risk assessment for ${period}`);
  });

  it('an owner’s step is reminded, escalated, overdue and still owed; a re-rating makes an acceptance in force stale', async () => {
    const accepted = await raise('owner', { probability: 2, impact: 3 });
    const asked = await h.api('POST', `/api/risks/${accepted}/acceptances`, {
      as: 'owner',
      json: { reason: 'tolerable this quarter', expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString() },
    });
    expect(asked.status, JSON.stringify(asked.body)).toBe(201);
    running.add(asked.body.caseId);
    expect((await decide(asked.body.approvalTaskId, 'approver2', { decision: 'approve' })).status).toBe(200);
    expect(await h.sql('select status from risk_acceptances where case_id = $1', [asked.body.caseId])).toEqual([
      { status: 'active' },
    ]);

    const period = '2026-Q2';
    const caseId = `risk-assessment:${period}`;
    const started = await start({
      period,
      timings: { step: { remindAfter: '1s', escalateAfter: '2s', expireAfter: '3s' } },
    });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    running.add(caseId);
    const stepId = `${caseId}:rating:owner`;
    await eventually(
      async () => (await h.sql('select status from tasks where id = $1', [stepId]))[0]?.status === 'overdue',
      20_000,
    );
    const actions = await h.sql(
      `select action from audit_events where task_id = $1 and action like 'task.%' order by seq`,
      [stepId],
    );
    expect(actions.map((a: { action: string }) => a.action)).toEqual([
      'task.reminded',
      'task.escalated',
      'task.overdue',
    ]);

    // Still owed: the owner rates late, and the acceptance of the re-rated risk turns stale.
    const risksOf = async (ownerId: string) =>
      h.sql<{ key: string; p: number; i: number }>(
        'select key, residual_probability as p, residual_impact as i from risks where owner_id = $1 order by key',
        [ownerId],
      );
    const keep = (r: { key: string; p: number; i: number }) => rating(r.key, r.p, r.i, 'accept');
    const ownerRatings = (await risksOf('owner')).map((r) => (r.key === accepted ? rating(r.key, 2, 2) : keep(r)));
    const late = await rate(period, 'owner', { ratings: ownerRatings });
    expect(late.status, JSON.stringify(late.body)).toBe(200);
    expect((await h.sql('select status from tasks where id = $1', [stepId]))[0].status).toBe('done');
    expect(
      await h.sql('select status, stale_reason from risk_acceptances where case_id = $1', [asked.body.caseId]),
    ).toEqual([{ status: 'stale', stale_reason: 'rating_changed' }]);
  });

  it('a Schedule opens each period’s assessment through its launcher, once', async () => {
    // Made when the first assessment opened (above): monthly, the launcher picks the policy's period.
    const schedule = await h.temporal.schedule.getHandle('risk-assessment-programme').describe();
    expect(schedule.action).toMatchObject({ type: 'startWorkflow', workflowType: 'riskAssessmentLauncherWorkflow' });
    expect(schedule.spec.calendars?.[0]).toMatchObject({ dayOfMonth: [{ start: 1, end: 1, step: 1 }] });

    const launch = (id: string) =>
      h.temporal.workflow.execute('riskAssessmentLauncherWorkflow', {
        taskQueue: h.taskQueue,
        workflowId: `risk-assessment-launcher-test-${id}`,
        args: [{ period: '2025-Q4' }],
      });
    const first = await launch('1');
    running.add('risk-assessment:2025-Q4');
    expect(first).toMatchObject({ started: true, caseId: 'risk-assessment:2025-Q4', period: '2025-Q4' });
    const [row] = await h.sql('select process, stage, initiator_id from cases where id = $1', [
      'risk-assessment:2025-Q4',
    ]);
    expect(row).toEqual({ process: 'risk_assessment', stage: 'rating', initiator_id: 'system' });
    const second = await launch('2');
    expect(second).toMatchObject({ started: false, reason: 'already_exists' });
    const wrong = await h.temporal.workflow.execute('riskAssessmentLauncherWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: 'risk-assessment-launcher-test-3',
      args: [{ period: '2025-M01' }],
    });
    expect(wrong).toMatchObject({ started: false, reason: 'invalid_period' });
  });
});
