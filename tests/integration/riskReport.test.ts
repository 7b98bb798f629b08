/**
 * Risk information reporting (风险信息报告, finance §5.5; control
 * effectiveness, e-commerce §8.1; issue 12 §5) on the real server and
 * PostgreSQL: the control-effectiveness figures computed from a seeded risk
 * register, its controls' tests and the incidents opened in the period, in
 * JSON, HTML and CSV, and the refusals of bad periods.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson, previousPeriod } from '../../contracts/riskReport';
import { databaseSnapshot, endWorkflows, expectNotStarted, snapshot } from '../support/drive';
import { useHarness, type TestUser } from '../support/harness';
import { saveHistoryFixture } from '../support/histories';

const h = useHarness('riskReport');
const enc = encodeURIComponent;
const running = new Set<string>();
afterAll(async () => {
  await endWorkflows(h, [...running], 'risk report test: done');
  for (const audience of ['management', 'regulator'])
    await h.temporal.schedule
      .getHandle(`risk-report-${audience}`)
      .delete()
      .catch(() => undefined);
});
const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();

// Default policy: matrix cut-offs medium ≥ 5, high ≥ 15; appetite technical 9, operational 9, legal 4, liquidity 6.
const RISKS: Array<[key: string, category: string, p: number, i: number]> = [
  ['R1', 'technical', 2, 2], // 4: low, within appetite 9
  ['R2', 'technical', 3, 3], // 9: medium, at appetite 9 (not above)
  ['R3', 'legal', 1, 5], // 5: medium, above appetite 4
  ['R4', 'liquidity', 4, 4], // 16: high, above appetite 6
  ['R5', 'operational', 1, 1], // 1: low
];
// Each control's tests, oldest first: only the latest counts.
const CONTROLS: Array<[id: string, risk: string, tests: string[]]> = [
  ['C1', 'R1', ['ineffective', 'effective']], // effective
  ['C2', 'R2', ['effective', 'ineffective']], // ineffective now
  ['C3', 'R3', []], // never tested
  ['C4', 'R4', ['effective']], // effective
  ['C5', 'R4', ['partially_effective']], // does not count
  ['C6', 'R5', ['effective']], // effective
];
// Incidents opened 1, 10 and 29 days ago fall in a 30-day period; 40 days ago only in a 60-day one.
const INCIDENT_AGES = [1, 10, 29, 40];

beforeAll(async () => {
  for (const [key, category, p, i] of RISKS) {
    await h.sql(
      `insert into risks (key, title, category, description, cause, consequence, owner_id, line_of_defence,
         inherent_probability, inherent_impact, residual_probability, residual_impact, version, created_by)
       values ($1, $1, $2, 'd', 'c', 'q', 'mgr', 'first', 5, 5, $3, $4, 1, 'lead')`,
      [key, category, p, i],
    );
  }
  for (const [id, risk, tests] of CONTROLS) {
    await h.sql(
      `insert into risk_controls (id, risk_key, title, owner_id, frequency, created_by) values ($1, $2, $1, 'owner', 'monthly', 'lead')`,
      [id, risk],
    );
    for (const [n, result] of tests.entries()) {
      await h.sql(
        `insert into risk_control_tests (id, control_id, result, tested_by, tested_at) values ($1, $2, $3, 'appr1', $4)`,
        [`${id}-t${n}`, id, result, ago(20 - n)],
      );
    }
  }
  for (const age of INCIDENT_AGES) {
    await h.sql(
      `insert into cases (id, process, business_key, title, stage, initiator_id, workflow_id, run_id, created_at)
       values ($1, 'incident', $2, 'seeded incident', 'closed', 'mgr', $1, 'seed', $3)`,
      [`incident:SEED-${age}`, `SEED-${age}`, ago(age)],
    );
  }
  // The period 2025-Q3 for the periodic reports: fixed dates, far outside the rolling windows above.
  const seedCase = (id: string, process: string, at: string, data: object, status = 'open') =>
    h.sql(
      `insert into cases (id, process, business_key, title, stage, status, initiator_id, workflow_id, run_id, created_at, data)
       values ($1, $2, $1, 'seeded', 'seeded', $5, 'mgr', $1, 'seed', $3, $4)`,
      [id, process, at, JSON.stringify(data), status],
    );
  await seedCase('incident:Q3-A', 'incident', '2025-07-03T08:00:00Z', { grade: 'I' });
  await seedCase('incident:Q3-B', 'incident', '2025-08-14T08:00:00Z', { grade: 'III' });
  await seedCase('incident:Q3-C', 'incident', '2025-09-30T23:59:00Z', { grade: 'III' });
  await seedCase('incident:Q4-A', 'incident', '2025-10-01T00:00:00Z', { grade: 'II' }); // the next quarter
  await seedCase('risk-warning:Q3-A', 'risk_warning', '2025-07-20T08:00:00Z', { level: 'general' });
  await seedCase('risk-warning:Q3-B', 'risk_warning', '2025-08-20T08:00:00Z', { level: 'general' });
  await seedCase('risk-warning:Q3-C', 'risk_warning', '2025-09-20T08:00:00Z', { level: 'major' });
  await seedCase('risk-warning:Q2-A', 'risk_warning', '2025-06-30T23:59:00Z', { level: 'elevated' }); // before
  await seedCase('audit-finding:Q3-A', 'audit_finding', '2025-09-10T08:00:00Z', {}, 'open');
  await seedCase('audit-finding:Q3-B', 'audit_finding', '2025-09-11T08:00:00Z', {}, 'closed');
  await seedCase('audit-finding:Q3-C', 'audit_finding', '2025-09-12T08:00:00Z', {}, 'closed');
  // Rectification items: two open past due (overdue), one open not yet due, one done past due.
  const seedItem = (id: string, status: string, dueAt: string) =>
    h.sql(
      `insert into tasks (id, case_id, workflow_id, kind, title, candidate_roles, status, due_at)
       values ($1, 'audit-finding:Q3-A', $1, 'rectification', $1, '{action_owner}', $2, $3)`,
      [id, status, dueAt],
    );
  await seedItem('item-overdue-1', 'open', '2025-10-15T00:00:00Z');
  await seedItem('item-overdue-2', 'open', ago(2));
  await seedItem('item-not-due', 'open', new Date(Date.now() + 30 * DAY).toISOString());
  await seedItem('item-done', 'done', '2025-10-01T00:00:00Z');
});

describe('control-effectiveness report from the register', () => {
  it('computes risk level, share above appetite, control coverage and incidence rate, each with its method', async () => {
    const res = await h.api('GET', '/api/reports/control-effectiveness?periodDays=30', { as: 'auditor' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const f = res.body.figures;
    expect(f.riskLevel).toMatchObject({
      value: 'high',
      total: 5,
      distribution: { low: 2, medium: 2, high: 1 },
      label: { en: 'Risk level', zh: '风险水平' },
    });
    expect(f.aboveAppetite).toMatchObject({ value: 0.4, count: 2, total: 5 });
    expect(f.controlCoverage).toMatchObject({
      value: 0.5,
      effective: 3,
      required: 6,
      byResult: { effective: 3, partially_effective: 1, ineffective: 1, not_tested: 1 },
      label: { en: 'Control coverage', zh: '控制覆盖率' },
    });
    expect(f.incidenceRate).toMatchObject({ value: 3, periodDays: 30, per30Days: 3 });
    for (const key of ['riskLevel', 'aboveAppetite', 'controlCoverage', 'incidenceRate']) {
      expect(f[key].method.length, key).toBeGreaterThan(60);
      expect(f[key].label.zh, key).toMatch(/[\u4e00-\u9fff]/);
    }
    expect(f.controlCoverage.method).toContain('latest test');
    expect(f.byCategory).toEqual([
      {
        category: 'technical',
        risks: 2,
        low: 1,
        medium: 1,
        high: 0,
        aboveAppetite: 0,
        appetite: 9,
        controlsRequired: 2,
        controlsEffective: 1,
      },
      {
        category: 'operational',
        risks: 1,
        low: 1,
        medium: 0,
        high: 0,
        aboveAppetite: 0,
        appetite: 9,
        controlsRequired: 1,
        controlsEffective: 1,
      },
      {
        category: 'legal',
        risks: 1,
        low: 0,
        medium: 1,
        high: 0,
        aboveAppetite: 1,
        appetite: 4,
        controlsRequired: 1,
        controlsEffective: 0,
      },
      {
        category: 'liquidity',
        risks: 1,
        low: 0,
        medium: 0,
        high: 1,
        aboveAppetite: 1,
        appetite: 6,
        controlsRequired: 2,
        controlsEffective: 1,
      },
    ]);
    // The flat headline figures the report always had, now from the register.
    expect(res.body).toMatchObject({
      periodDays: 30,
      riskLevel: 'high',
      highRisks: 1,
      coverage: 0.5,
      incidenceRate: 3,
    });
    expect(res.body.policyVersion).toBe(1);
  });

  it('counts incidents opened in the period only', async () => {
    const res = await h.api('GET', '/api/reports/control-effectiveness?periodDays=60', { as: 'owner' });
    expect(res.status).toBe(200);
    expect(res.body.figures.incidenceRate).toMatchObject({ value: 4, periodDays: 60, per30Days: 2 });
    const short = await h.api('GET', '/api/reports/control-effectiveness?periodDays=5', { as: 'owner' });
    expect(short.body.figures.incidenceRate).toMatchObject({ value: 1, periodDays: 5, per30Days: 6 });
  });

  it('prints the figures as a page and as CSV', async () => {
    const html = await h.api('GET', '/api/reports/control-effectiveness.html?periodDays=30', { as: 'auditor' });
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toContain('text/html');
    expect(html.body).toContain('控制覆盖率');
    expect(html.body).toContain('50% (3 / 6)');
    expect(html.body).toContain('3 in 30 days');
    const csv = await h.api('GET', '/api/reports/control-effectiveness.csv?periodDays=30', { as: 'auditor' });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const lines = (csv.body as string).trim().split('\r\n');
    expect(lines[0]).toBe('figure,label_en,label_zh,value,numerator,denominator,method');
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 6).join(','))).toEqual([
      'riskLevel,Risk level,风险水平,high,low 2 / medium 2 / high 1,5',
      'aboveAppetite,Share of risks above appetite,超出风险偏好的风险占比,0.4,2,5',
      'controlCoverage,Control coverage,控制覆盖率,0.5,3,6',
      'incidenceRate,Incidence rate,事件发生率,3,3,30 days',
    ]);
  });

  it('refuses a bad period and an anonymous caller', async () => {
    for (const path of [
      '/api/reports/control-effectiveness?periodDays=0',
      '/api/reports/control-effectiveness.csv?periodDays=3661',
      '/api/reports/control-effectiveness.html?periodDays=7.5',
    ]) {
      const res = await h.api('GET', path, { as: 'auditor' });
      expect(res.status, path).toBe(400);
      expect(res.body.error.code, path).toBe('BAD_REQUEST');
    }
    const anonymous = await h.api('GET', '/api/reports/control-effectiveness.csv', { token: null });
    expect(anonymous.status).toBe(401);
  });
});

const decide = (taskId: string, as: TestUser, json: Record<string, unknown>) =>
  h.api('POST', `/api/tasks/${enc(taskId)}/decision`, { as, json });

async function prepare(audience: string, period: string, as: TestUser = 'approver') {
  const res = await h.api('POST', '/api/risk-reports', { as, json: { audience, period } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  running.add(res.body.caseId);
  return res.body as { caseId: string; status: string; sha256: string };
}

const releaseTask = async (caseId: string) =>
  (await h.sql("select id from tasks where case_id = $1 and kind = 'approval'", [caseId]))[0]?.id as string;

describe('periodic risk reports: prepared by risk, released by compliance, then immutable', () => {
  it('refuses a caller outside the risk function, a bad body and a period not begun, writing nothing', async () => {
    const before = await databaseSnapshot(h);
    const refusals: Array<[TestUser, unknown, number, string]> = [
      ['approver2', { audience: 'management', period: '2025-Q3' }, 403, 'FORBIDDEN'],
      ['owner', { audience: 'management', period: '2025-Q3' }, 403, 'FORBIDDEN'],
      ['approver', { audience: 'board', period: '2025-Q3' }, 400, 'BAD_REQUEST'],
      ['approver', { audience: 'management', period: '2025-13' }, 400, 'BAD_REQUEST'],
      ['approver', { audience: 'management', period: '2025-Q3', content: {} }, 400, 'BAD_REQUEST'],
      ['approver', { audience: 'regulator', period: '2099-Q1' }, 422, 'UNPROCESSABLE'],
    ];
    for (const [as, json, status, code] of refusals) {
      const res = await h.api('POST', '/api/risk-reports', { as, json });
      expect(res.status, JSON.stringify(json)).toBe(status);
      expect(res.body.error.code).toBe(code);
    }
    const future = await h.api('POST', '/api/risk-reports', {
      as: 'approver',
      json: { audience: 'regulator', period: '2099-Q1' },
    });
    expect(future.body.error.reason).toBe('PERIOD_NOT_STARTED');
    expect(await databaseSnapshot(h)).toEqual(before);
    expect(await h.sql('select 1 from risk_reports')).toEqual([]);
    await expectNotStarted(h, 'risk-report:regulator:2099-Q1');
    await expectNotStarted(h, 'risk-report:management:2025-Q3');
  });

  it('builds the content from the register and the period, releases it on approval with its hash audited', async () => {
    const started = await prepare('management', '2025-Q3');
    expect(started).toMatchObject({ caseId: 'risk-report:management:2025-Q3', status: 'awaiting_approval' });
    expect(started.sha256).toMatch(/^[0-9a-f]{64}$/);
    const caseId = started.caseId;

    const draft = await h.api('GET', '/api/risk-reports/management/2025-Q3', { as: 'auditor' });
    expect(draft.status).toBe(200);
    expect(draft.body).toMatchObject({ status: 'awaiting_approval', preparedBy: 'appr1', sha256: started.sha256 });
    const c = draft.body.content;
    expect(c).toMatchObject({
      audience: 'management',
      period: '2025-Q3',
      periodStart: '2025-07-01T00:00:00.000Z',
      periodEnd: '2025-10-01T00:00:00.000Z',
      policyVersion: 1,
      warnings: { byLevel: { general: 2, elevated: 0, major: 1 }, total: 3 },
      incidents: { byGrade: { I: 1, III: 2 }, total: 3, incidenceRate: { value: 3, periodDays: 92 } },
      auditFindings: { open: 1, closed: 2 },
      controlCoverage: { effective: 3, required: 6, value: 0.5 },
    });
    expect(c.riskProfile.levels.distribution).toEqual({ low: 2, medium: 2, high: 1 });
    expect(c.riskProfile.aboveAppetite).toMatchObject({ count: 2, total: 5, value: 0.4 });
    expect(c.riskProfile.byCategory.map((x: { category: string }) => x.category)).toEqual([
      'technical',
      'operational',
      'legal',
      'liquidity',
    ]);
    expect(c.overdueTreatments.count).toBe(2);
    expect(c.overdueTreatments.items.map((i: { taskId: string }) => i.taskId)).toEqual([
      'item-overdue-1',
      'item-overdue-2',
    ]);
    expect(c.kpis).toHaveProperty('incidents_total');
    // The hash is over the canonical JSON of the stored content, recomputable by anyone who reads it.
    expect(createHash('sha256').update(canonicalJson(c)).digest('hex')).toBe(started.sha256);
    const prepared = await h.sql(
      "select actor_id, payload from audit_events where case_id = $1 and action = 'risk_report.prepared'",
      [caseId],
    );
    expect(prepared).toEqual([{ actor_id: 'appr1', payload: expect.objectContaining({ sha256: started.sha256 }) }]);

    // A second start of the same report: refused, nothing written, no history event.
    const before = await snapshot(h, caseId);
    const again = await h.api('POST', '/api/risk-reports', {
      as: 'risk2',
      json: { audience: 'management', period: '2025-Q3' },
    });
    expect(again.status).toBe(409);
    expect(again.body.error.reason).toBe('REPORT_EXISTS');
    expect(await snapshot(h, caseId)).toEqual(before);

    // Release: compliance only, never the preparer.
    const taskId = await releaseTask(caseId);
    expect(taskId).toBe(`${caseId}:release`);
    const [task] = await h.sql('select candidate_roles, excluded_user_ids, status from tasks where id = $1', [taskId]);
    expect(task).toEqual({ candidate_roles: ['compliance'], excluded_user_ids: ['appr1'], status: 'open' });
    const byPreparer = await decide(taskId, 'approver', { decision: 'approve' });
    expect([byPreparer.status, byPreparer.body.error?.code, byPreparer.body.error?.reason]).toEqual([
      403,
      'FORBIDDEN',
      'ROLE_NOT_PERMITTED',
    ]);
    expect(await snapshot(h, caseId)).toEqual(before);
    const released = await decide(taskId, 'approver2', { decision: 'approve' });
    expect(released.status, JSON.stringify(released.body)).toBe(200);

    const doc = await h.api('GET', '/api/risk-reports/management/2025-Q3', { as: 'legal' });
    expect(doc.body).toMatchObject({ status: 'released', releasedBy: ['appr2'], sha256: started.sha256 });
    expect(doc.body.content).toEqual(c);
    const audited = await h.sql(
      "select actor_id, payload from audit_events where case_id = $1 and action = 'risk_report.released'",
      [caseId],
    );
    expect(audited).toEqual([
      { actor_id: 'appr2', payload: expect.objectContaining({ sha256: started.sha256, approvedBy: ['appr2'] }) },
    ]);
    const [row] = await h.sql('select status, outcome from cases where id = $1', [caseId]);
    expect(row).toEqual({ status: 'closed', outcome: 'approved' });
    await saveHistoryFixture(h, caseId, 'risk-report-released');

    // Immutable: the database refuses any edit or deletion of a released report.
    await expect(h.sql(`update risk_reports set content = '{}'::jsonb where case_id = $1`, [caseId])).rejects.toThrow(
      /cannot change/,
    );
    await expect(h.sql(`update risk_reports set status = 'rejected' where case_id = $1`, [caseId])).rejects.toThrow(
      /cannot change/,
    );
    await expect(h.sql('delete from risk_reports where case_id = $1', [caseId])).rejects.toThrow(/never deleted/);
    const [kept] = await h.sql('select content_sha256, status from risk_reports where case_id = $1', [caseId]);
    expect(kept).toEqual({ content_sha256: started.sha256, status: 'released' });

    const html = await h.api('GET', '/api/risk-reports/management/2025-Q3.html', { as: 'auditor' });
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toContain('text/html');
    expect(html.body).toContain(`Released by appr2`);
    expect(html.body).toContain(started.sha256);
    expect(html.body).toContain('向管理层的风险报告');
    const csv = await h.api('GET', '/api/risk-reports/management/2025-Q3.csv', { as: 'auditor' });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const lines = (csv.body as string).trim().split('\r\n');
    expect(lines[0]).toBe('section,item,measure,value');
    expect(lines).toEqual(
      expect.arrayContaining([
        'risk_profile,all,high,1',
        'risk_profile,all,above_appetite,2',
        'risk_profile,liquidity,aboveAppetite,1',
        'control_coverage,all,coverage,0.5',
        'warnings,general,count,2',
        'warnings,major,count,1',
        'incidents,III,count,2',
        'audit_findings,closed,count,2',
        'overdue_treatments,all,count,2',
      ]),
    );
  });

  it('a rejected report is never released, and its period cannot be reported again', async () => {
    const { caseId, sha256 } = await prepare('regulator', '2025-Q3');
    const rejected = await decide(await releaseTask(caseId), 'approver2', {
      decision: 'reject',
      comment: 'the incident grades need checking first',
    });
    expect(rejected.status, JSON.stringify(rejected.body)).toBe(200);
    const doc = await h.api('GET', '/api/risk-reports/regulator/2025-Q3', { as: 'auditor' });
    expect(doc.body).toMatchObject({ status: 'rejected', releasedBy: [], releasedAt: null, sha256 });
    expect(
      await h.sql("select 1 from audit_events where case_id = $1 and action = 'risk_report.released'", [caseId]),
    ).toEqual([]);
    const again = await h.api('POST', '/api/risk-reports', {
      as: 'approver',
      json: { audience: 'regulator', period: '2025-Q3' },
    });
    expect(again.status).toBe(409);
    expect(again.body.error.reason).toBe('REPORT_EXISTS');
  });

  it('a preparer who is also in compliance may not release their own report (segregation of duties)', async () => {
    const created = await h.api('POST', '/api/users', {
      as: 'admin',
      json: { id: 'dual', name: 'Dual role', email: 'dual@test.example', roles: ['risk', 'compliance'] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const issued = await h.api('POST', '/api/users/dual/tokens', { as: 'admin', json: { label: 'work' } });
    const token = issued.body.token as string;
    const res = await h.api('POST', '/api/risk-reports', {
      token,
      json: { audience: 'management', period: '2025-10' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    running.add(res.body.caseId);
    const taskId = await releaseTask(res.body.caseId);
    const before = await snapshot(h, res.body.caseId);
    const own = await h.api('POST', `/api/tasks/${enc(taskId)}/decision`, { token, json: { decision: 'approve' } });
    expect(own.status).toBe(422);
    expect(own.body.error.reason).toBe('SEGREGATION_OF_DUTIES');
    expect(await snapshot(h, res.body.caseId)).toEqual(before);
    const [row] = await h.sql('select status, released_by from risk_reports where case_id = $1', [res.body.caseId]);
    expect(row).toEqual({ status: 'awaiting_approval', released_by: null });
    expect((await decide(taskId, 'approver2', { decision: 'approve' })).status).toBe(200);
    const doc = await h.api('GET', '/api/risk-reports/management/2025-10', { as: 'auditor' });
    expect(doc.body).toMatchObject({ status: 'released', preparedBy: 'dual', releasedBy: ['appr2'] });
  });

  it('a Schedule per audience generates the report of the period just ended, prepared by the platform', async () => {
    // Created with the first report the risk function prepared (above).
    const monthly = await h.temporal.schedule.getHandle('risk-report-management').describe();
    expect(monthly.action).toMatchObject({
      type: 'startWorkflow',
      workflowType: 'riskReportLauncherWorkflow',
      args: [{ audience: 'management' }],
      // Schedules are per namespace: the test file that made it first named its own task queue.
      taskQueue: expect.any(String),
    });
    expect(monthly.spec.calendars).toEqual([
      expect.objectContaining({ dayOfMonth: [{ start: 1, end: 1, step: 1 }], hour: [{ start: 3, end: 3, step: 1 }] }),
    ]);
    const quarterly = await h.temporal.schedule.getHandle('risk-report-regulator').describe();
    expect(quarterly.action).toMatchObject({ args: [{ audience: 'regulator' }] });
    // Monthly too: the launcher opens the period of policy riskReports.frequency.regulator that ended last.
    expect(quarterly.spec.calendars?.[0]?.month).toEqual([{ start: 'JANUARY', end: 'DECEMBER', step: 1 }]);

    expect(previousPeriod('management', new Date('2026-01-01T03:00:00Z'))).toBe('2025-12');
    expect(previousPeriod('management', new Date('2026-11-01T03:00:00Z'))).toBe('2026-10');
    expect(previousPeriod('regulator', new Date('2026-01-01T03:00:00Z'))).toBe('2025-Q4');
    expect(previousPeriod('regulator', new Date('2026-10-01T03:00:00Z'))).toBe('2026-Q3');

    // What the Schedule starts, run here at once: the period just ended, by default.
    const launch = (args: Record<string, unknown>) =>
      h.temporal.workflow.execute('riskReportLauncherWorkflow', {
        taskQueue: h.taskQueue,
        workflowId: h.unique('risk-report-launcher'),
        args: [args],
      });
    const expected = previousPeriod('regulator', new Date());
    const opened = await launch({ audience: 'regulator' });
    expect(opened).toEqual({ started: true, caseId: `risk-report:regulator:${expected}`, period: expected });
    running.add(opened.caseId);
    const [row] = await h.sql('select prepared_by, status from risk_reports where case_id = $1', [opened.caseId]);
    expect(row).toEqual({ prepared_by: 'system', status: 'awaiting_approval' });
    const [task] = await h.sql("select candidate_roles, status from tasks where case_id = $1 and kind = 'approval'", [
      opened.caseId,
    ]);
    expect(task).toEqual({ candidate_roles: ['compliance'], status: 'open' });
    // A period already reported is skipped: nothing new is opened.
    const before = await snapshot(h, opened.caseId);
    expect(await launch({ audience: 'regulator' })).toEqual({
      started: false,
      caseId: opened.caseId,
      period: expected,
      reason: 'already_exists',
    });
    expect(await snapshot(h, opened.caseId)).toEqual(before);
  });

  it('documents its operations', async () => {
    const doc = await h.api('GET', '/openapi.json', { token: null });
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths['/api/risk-reports'])).toEqual(['post']);
    const read = doc.body.paths['/api/risk-reports/{audience}/{period}'].get;
    expect(Object.keys(read.responses['200'].content)).toEqual(['application/json', 'text/html', 'text/csv']);
    expect(doc.body.paths['/api/reports/control-effectiveness.csv'].get).toBeDefined();
  });

  it('reads: action owners may not; unknown and malformed periods are refused', async () => {
    expect((await h.api('GET', '/api/risk-reports/management/2025-Q3', { as: 'owner' })).status).toBe(403);
    const missing = await h.api('GET', '/api/risk-reports/management/2024-Q1', { as: 'auditor' });
    expect(missing.status).toBe(404);
    for (const path of [
      '/api/risk-reports/management/2025-Q5',
      '/api/risk-reports/board/2025-Q3',
      '/api/risk-reports/management/2025-Q3.pdf',
    ]) {
      const res = await h.api('GET', path, { as: 'auditor' });
      expect(res.status, path).toBe(400);
    }
  });
});
