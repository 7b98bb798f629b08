/**
 * GET /api/dashboards/overview: real cases driven through the API (real
 * Temporal, real PostgreSQL), then every chart's figures checked against what
 * was done, as deltas from the figures before, and against the lists the
 * charts link to.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDriver, creditCodes, DRILL_SCORES, endWorkflows } from '../support/drive';
import { eventually, useHarness, type TestUser } from '../support/harness';

const h = useHarness('dashboards');
const enc = encodeURIComponent;

const running = new Set<string>();
const drive = createDriver(h, {
  label: 'Dashboards',
  creditCode: creditCodes('91440300MD8'),
  started: (_kind, id) => running.add(id),
  ended: (_kind, id) => running.delete(id),
});
afterAll(() => endWorkflows(h, [...running], 'dashboards test: done'));

type Overview = {
  openCases: Array<{ process: string; stage: string; count: number }>;
  overdueByOwner: Array<{
    assigneeId: string | null;
    assigneeName: string | null;
    candidateRoles: string[] | null;
    count: number;
    oldestDueAt: string;
  }>;
  heatMap: Array<{ probability: number; impact: number; level: string; risks: number; cases: number }>;
  supplierGrades: Array<{ tier: string; grade: string; count: number }>;
  complaintSla: {
    timeZone: string;
    initialInvestigationWithin: string;
    resultWithin: string;
    weeks: Array<{
      week: string;
      weekStart: string;
      complaints: number;
      initialInvestigation: { met: number; breached: number; pending: number; compliance: number | null };
      result: { met: number; breached: number; pending: number; compliance: number | null };
    }>;
  };
  incidentsByGrade: Array<{ grade: string; open: number; closed: number }>;
  drills: {
    overallPassMark: number;
    modules: Array<{
      module: string;
      passMark: number;
      drills: number;
      average: number | null;
      min: number | null;
      max: number | null;
      belowPassMark: number;
    }>;
  };
};

async function overview(as: TestUser = 'lead', query = ''): Promise<Overview> {
  const res = await h.api('GET', `/api/dashboards/overview${query}`, { as });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

const openCount = (o: Overview, process: string, stage: string) =>
  o.openCases.find((r) => r.process === process && r.stage === stage)?.count ?? 0;
const cell = (o: Overview, probability: number, impact: number) =>
  o.heatMap.find((c) => c.probability === probability && c.impact === impact)!;
const overdueOf = (o: Overview, assigneeId: string) => o.overdueByOwner.find((r) => r.assigneeId === assigneeId);
const grades = (o: Overview, tier: string, grade: string) =>
  o.supplierGrades.find((r) => r.tier === tier && r.grade === grade)?.count ?? 0;
const incidents = (o: Overview, grade: string) => o.incidentsByGrade.find((r) => r.grade === grade)!;

/** ISO 8601 week of a UTC instant, e.g. 2026-W48 (the Thursday of its week decides the year). */
function isoWeek(at: Date): string {
  const d = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
  const day = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((d.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

let before: Overview;
let after: Overview;
const made = {} as {
  highApprovals: string[];
  rectification: { caseId: string; taskId: string };
  riskKey: string;
  graded: string;
  ungraded: string;
  gradedAs: string;
  complaintOnTime: { caseId: string };
  complaintLate: { caseId: string; complaintId: string };
  incidentIII: { caseId: string };
  incidentIV: { caseId: string };
  drill: { caseId: string };
};

beforeAll(async () => {
  before = await overview();
  // Two high-risk approval requests rated 4 × 4, open and awaiting their two approvers.
  made.highApprovals = [
    (await drive.startApproval({ probability: 4, impact: 4 })).caseId,
    (await drive.startApproval({ probability: 4, impact: 4 })).caseId,
  ];
  // Approved with a condition (rated 1 × 2): its item, owed by 'owner', falls due in two seconds.
  made.rectification = await drive.openRectification({
    rectificationTimings: { dueIn: '2s', remindBefore: '1s', escalateAgainAfter: '1h' },
  });
  // A register risk at residual 2 × 3.
  made.riskKey = `RISK-DASH-${h
    .unique('R')
    .toUpperCase()
    .replace(/[^A-Z0-9]/g, '')}`.slice(0, 45);
  const risk = await h.api('POST', '/api/risks', {
    as: 'lead',
    json: {
      riskKey: made.riskKey,
      title: 'Payment gateway outage',
      category: 'technical',
      description: 'Single gateway, no failover.',
      cause: 'No second provider',
      consequence: 'Lost orders',
      ownerId: 'owner',
      lineOfDefence: 'first',
      inherent: { probability: 4, impact: 5 },
      residual: { probability: 2, impact: 3 },
    },
  });
  expect(risk.status, JSON.stringify(risk.body)).toBe(201);
  // Two core suppliers: one graded by its approved first review, one pending its first.
  made.graded = await drive.registerSupplier();
  made.ungraded = await drive.registerSupplier({ status: 'pending' });
  const [graded] = await h.sql('select last_risk_grade from suppliers where id = $1', [made.graded]);
  made.gradedAs = graded.last_risk_grade;
  // Complaints: one investigated at once (24 h met, 48 h pending), one whose 1-second investigation clock ran out.
  made.complaintOnTime = await drive.complaintAt('handling');
  const complaintId = h.unique('CMP');
  const late = await h.api('POST', '/api/complaints', {
    as: 'manager',
    json: {
      complaintId,
      customerRef: h.unique('CUST'),
      channel: 'email',
      type: 'logistics',
      subject: 'Parcel lost',
      handlerId: 'owner',
      timings: { initialInvestigationWithin: '1s', resultWithin: '1h' },
    },
  });
  expect(late.status, JSON.stringify(late.body)).toBe(201);
  made.complaintLate = { complaintId, caseId: `complaint:${complaintId}` };
  running.add(made.complaintLate.caseId);
  // Incidents: one of grade III being handled, one of grade IV just reported.
  made.incidentIII = await drive.incidentAt('handling', 'III');
  made.incidentIV = await drive.incidentAt('reported', 'IV');
  // A drill evaluated with the fixture's scores, on a published plan.
  const planId = await drive.publishPlan();
  made.drill = await drive.drillAt('summary', planId, 2031);

  // What the timers cause: the late complaint's breach recorded, the item past its due date.
  await eventually(
    async () =>
      (
        await h.sql(`select jsonb_array_length(data->'breaches') as n from cases where id = $1`, [
          made.complaintLate.caseId,
        ])
      )[0]?.n === 1,
    20_000,
  );
  await eventually(
    async () =>
      (await h.sql('select due_at < now() as past from tasks where id = $1', [made.rectification.taskId]))[0]?.past ===
      true,
    20_000,
  );
  after = await overview();
}, 300_000);

describe('the dashboard overview', () => {
  it('counts open cases by process and stage, as the list each bar links to does', async () => {
    expect(openCount(after, 'approval_request', 'awaiting_approval')).toBe(
      openCount(before, 'approval_request', 'awaiting_approval') + 2,
    );
    expect(openCount(after, 'approval_request', 'rectification')).toBe(
      openCount(before, 'approval_request', 'rectification') + 1,
    );
    expect(openCount(after, 'incident', 'handling')).toBe(openCount(before, 'incident', 'handling') + 1);
    expect(openCount(after, 'incident', 'reported')).toBe(openCount(before, 'incident', 'reported') + 1);
    expect(openCount(after, 'complaint', 'handling')).toBe(openCount(before, 'complaint', 'handling') + 1);
    expect(openCount(after, 'complaint', 'investigating')).toBe(openCount(before, 'complaint', 'investigating') + 1);
    expect(openCount(after, 'drill', 'summary')).toBe(openCount(before, 'drill', 'summary') + 1);
    // Every bar is the total of the list it opens (/console/cases?process=…&stage=…&status=open).
    for (const bar of after.openCases) {
      const list = await h.api(
        'GET',
        `/api/cases?process=${enc(bar.process)}&stage=${enc(bar.stage)}&status=open&pageSize=1`,
        { as: 'lead' },
      );
      expect(list.body.total, `${bar.process}/${bar.stage}`).toBe(bar.count);
    }
    const sorted = [...after.openCases].sort(
      (a, b) => a.process.localeCompare(b.process) || a.stage.localeCompare(b.stage),
    );
    expect(after.openCases).toEqual(sorted);
  });

  it('counts only the cases the caller may read, as GET /api/cases does', async () => {
    for (const as of ['lead', 'owner', 'legal', 'auditor'] as const) {
      const o = await overview(as);
      const total = o.openCases.reduce((n, r) => n + r.count, 0);
      const list = await h.api('GET', '/api/cases?status=open&pageSize=1', { as });
      expect(total, as).toBe(list.body.total);
    }
    // The action owner has no part in the incidents mgr reported and owns; risk (lead) and auditors read them all.
    const owner = await overview('owner');
    expect(incidents(owner, 'III').open + incidents(owner, 'IV').open).toBe(0);
    expect((await overview('auditor')).incidentsByGrade).toEqual(after.incidentsByGrade);
    // The register and the suppliers are everyone's to read, and so are their charts.
    expect(owner.supplierGrades).toEqual(after.supplierGrades);
    expect(owner.heatMap.map((c) => c.risks)).toEqual(after.heatMap.map((c) => c.risks));
  });

  it('lists an overdue item under its owner, by name', () => {
    const mine = overdueOf(after, 'owner');
    expect(mine).toMatchObject({ assigneeName: 'owner', candidateRoles: null });
    expect(mine!.count).toBe((overdueOf(before, 'owner')?.count ?? 0) + 1);
    expect(Date.parse(mine!.oldestDueAt)).toBeLessThan(Date.now());
    // Most overdue first.
    const counts = after.overdueByOwner.map((r) => r.count);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
  });

  it('puts register risks and rated open cases in the cells of the 5 × 5 matrix, with each cell’s level', () => {
    expect(after.heatMap).toHaveLength(25);
    expect(cell(after, 4, 4).cases).toBe(cell(before, 4, 4).cases + 2);
    expect(cell(after, 1, 2).cases).toBe(cell(before, 1, 2).cases + 1);
    expect(cell(after, 2, 3).risks).toBe(cell(before, 2, 3).risks + 1);
    // Inherent ratings are not residual ones: 4 × 5 gained no risk.
    expect(cell(after, 4, 5).risks).toBe(cell(before, 4, 5).risks);
    // The policy's cut-offs (policy default: medium from 5, high from 15).
    expect([cell(after, 1, 4).level, cell(after, 1, 5).level, cell(after, 3, 5).level]).toEqual([
      'low',
      'medium',
      'high',
    ]);
  });

  it('counts suppliers by tier and grade, ungraded until their first review is approved', () => {
    expect(['low', 'medium', 'high']).toContain(made.gradedAs);
    expect(grades(after, 'core', made.gradedAs)).toBe(grades(before, 'core', made.gradedAs) + 1);
    expect(grades(after, 'core', 'ungraded')).toBe(grades(before, 'core', 'ungraded') + 1);
  });

  it('measures complaint SLA compliance (24 h / 48 h) in the ISO week of acceptance', async () => {
    expect(after.complaintSla).toMatchObject({ initialInvestigationWithin: '24h', resultWithin: '48h' });
    const accepted = await h.sql(`select data->>'acceptedAt' as at from cases where id = any($1)`, [
      [made.complaintOnTime.caseId, made.complaintLate.caseId],
    ]);
    const weeks = new Set(accepted.map((r) => isoWeek(new Date(r.at))));
    expect(weeks.size).toBe(1);
    const [week] = [...weeks];
    const zero = { met: 0, breached: 0, pending: 0 };
    const of = (o: Overview) => o.complaintSla.weeks.find((w) => w.week === week);
    const was = of(before);
    const now = of(after)!;
    expect(now.complaints).toBe((was?.complaints ?? 0) + 2);
    const inv = was?.initialInvestigation ?? zero;
    expect(now.initialInvestigation).toMatchObject({
      met: inv.met + 1,
      breached: inv.breached + 1,
      pending: inv.pending,
    });
    const res = was?.result ?? zero;
    expect(now.result).toMatchObject({ met: res.met, breached: res.breached, pending: res.pending + 2 });
    // Each complaint is in exactly one state for each SLA.
    for (const w of after.complaintSla.weeks)
      for (const f of [w.initialInvestigation, w.result]) expect(f.met + f.breached + f.pending).toBe(w.complaints);
    const { met, breached } = now.initialInvestigation;
    expect(now.initialInvestigation.compliance).toBe(Math.round((met / (met + breached)) * 1000) / 1000);
    if (!was) expect(now.initialInvestigation.compliance).toBe(0.5);
    expect(now.weekStart).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(new Date(`${now.weekStart}T00:00:00Z`).getUTCDay()).toBe(1);
  });

  it('counts incidents by their grade, every grade listed', () => {
    expect(after.incidentsByGrade.map((r) => r.grade)).toEqual(['I', 'II', 'III', 'IV']);
    expect(incidents(after, 'III').open).toBe(incidents(before, 'III').open + 1);
    expect(incidents(after, 'IV').open).toBe(incidents(before, 'IV').open + 1);
    expect(incidents(after, 'I')).toEqual(incidents(before, 'I'));
  });

  it('shows drill module scores against their pass marks', () => {
    expect(after.drills.overallPassMark).toBe(70);
    expect(after.drills.modules.map((m) => m.module)).toEqual([
      'command',
      'information_reporting',
      'resource_dispatch',
      'public_opinion_response',
    ]);
    for (const m of after.drills.modules) {
      const was = before.drills.modules.find((b) => b.module === m.module)!;
      expect(m.drills, m.module).toBe(was.drills + 1);
      const score = DRILL_SCORES[m.module as keyof typeof DRILL_SCORES];
      if (was.drills === 0) expect(m).toMatchObject({ average: score, min: score, max: score, belowPassMark: 0 });
    }
    // The policy's pass marks (policy version 1: command and reporting 70, the others 60).
    expect(Object.fromEntries(after.drills.modules.map((m) => [m.module, m.passMark]))).toEqual({
      command: 70,
      information_reporting: 70,
      resource_dispatch: 60,
      public_opinion_response: 60,
    });
  });

  it('counts complaint weeks in the reader’s time zone: Monday to Monday there', async () => {
    // Sunday 20:00 UTC, two UTC weeks back: in Shanghai (UTC+8) already Monday 04:00 of the next week.
    const thisMonday = new Date();
    thisMonday.setUTCHours(0, 0, 0, 0);
    thisMonday.setUTCDate(thisMonday.getUTCDate() - ((thisMonday.getUTCDay() + 6) % 7));
    const accepted = new Date(thisMonday.getTime() - 7 * 86_400_000 - 4 * 3_600_000);
    const day = (d: Date) => d.toISOString().slice(0, 10);
    const utcWeekStart = day(new Date(thisMonday.getTime() - 14 * 86_400_000));
    const shanghaiWeekStart = day(new Date(thisMonday.getTime() - 7 * 86_400_000));
    const shanghaiMonday = new Date(accepted.getTime() + 8 * 3_600_000);
    const weekOf = (o: Overview, start: string) => o.complaintSla.weeks.find((w) => w.weekStart === start);
    const complaintsIn = (o: Overview, start: string) => weekOf(o, start)?.complaints ?? 0;

    const utcBefore = await overview('lead');
    const shanghaiBefore = await overview('lead', '?tz=Asia/Shanghai');
    expect(utcBefore.complaintSla.timeZone).toBe('UTC');
    expect(shanghaiBefore.complaintSla.timeZone).toBe('Asia/Shanghai');
    // A closed complaint case in the read model, investigated within the hour, its result never sent.
    const caseId = `complaint:${h.unique('TZ')}`;
    const iso = (ms: number) => new Date(accepted.getTime() + ms).toISOString();
    await h.sql(
      `insert into cases (id, process, business_key, title, stage, status, initiator_id, workflow_id, run_id, data)
       values ($1, 'complaint', $1, 'Week boundary', 'closed', 'closed', 'mgr', $1, 'none', $2::jsonb)`,
      [
        caseId,
        JSON.stringify({
          acceptedAt: accepted.toISOString(),
          initialInvestigationDueAt: iso(24 * 3_600_000),
          resultDueAt: iso(48 * 3_600_000),
          initialInvestigation: { at: iso(3_600_000) },
        }),
      ],
    );
    const utc = await overview('lead', '?tz=UTC');
    const shanghai = await overview('lead', '?tz=Asia/Shanghai');
    // UTC: the week of Sunday; Shanghai: the week its Monday starts.
    expect(complaintsIn(utc, utcWeekStart)).toBe(complaintsIn(utcBefore, utcWeekStart) + 1);
    expect(complaintsIn(utc, shanghaiWeekStart)).toBe(complaintsIn(utcBefore, shanghaiWeekStart));
    expect(complaintsIn(shanghai, shanghaiWeekStart)).toBe(complaintsIn(shanghaiBefore, shanghaiWeekStart) + 1);
    expect(complaintsIn(shanghai, utcWeekStart)).toBe(complaintsIn(shanghaiBefore, utcWeekStart));
    expect(weekOf(utc, utcWeekStart)!.week).toBe(isoWeek(accepted));
    expect(weekOf(shanghai, shanghaiWeekStart)!.week).toBe(isoWeek(shanghaiMonday));
    const figures = weekOf(shanghai, shanghaiWeekStart)!;
    const was = weekOf(shanghaiBefore, shanghaiWeekStart);
    expect(figures.initialInvestigation.met).toBe((was?.initialInvestigation.met ?? 0) + 1);
    expect(figures.result.breached).toBe((was?.result.breached ?? 0) + 1);
    // No tz: UTC, as before.
    expect((await overview('lead')).complaintSla.weeks).toEqual(utc.complaintSla.weeks);
  });

  it('refuses a time zone that is not an IANA name with a 400 naming query.tz', async () => {
    for (const tz of ['Mars/Olympus_Mons', '+08:00', 'UTC+8', "Asia/Shanghai'; --", '', `Asia/${'x'.repeat(70)}`]) {
      const res = await h.api('GET', `/api/dashboards/overview?tz=${enc(tz)}`, { as: 'lead' });
      expect(res.status, `${tz}: ${JSON.stringify(res.body)}`).toBe(400);
      expect(res.body.error.details.map((d: { field: string }) => d.field)).toEqual(['query.tz']);
    }
  });

  it('is for anyone signed in: no token gets 401', async () => {
    expect((await h.api('GET', '/api/dashboards/overview', { token: null })).status).toBe(401);
    expect((await h.api('GET', '/api/dashboards/overview', { as: 'admin' })).status).toBe(200);
    const doc = await h.api('GET', '/openapi.json');
    expect(doc.body.paths['/api/dashboards/overview'].get.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.body.components.schemas.DashboardOverview).toBeDefined();
  });
});
