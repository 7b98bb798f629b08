/**
 * A major (重大) risk warning and the incident it opens (issue 12 §3), on the
 * real Temporal dev server and PostgreSQL: linked both ways in the case links
 * (the warning is the incident's parent case, each case's detail shows the
 * other), and the warning's review waits for the incident's close-out, then
 * proceeds. When an incident is already open for the warning's risk or
 * alert, the warning joins it (the incident is then the warning's parent
 * case) and no second incident opens.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { endWorkflows } from '../support/drive';
import { eventually, useHarness, type TestUser } from '../support/harness';
import { saveHistoryFixture } from '../support/histories';

const h = useHarness('riskWarningGaps');
const enc = encodeURIComponent;
const running = new Set<string>();
afterAll(() => endWorkflows(h, [...running], 'risk warning gap tests: done'));

const caseOf = async (caseId: string) =>
  (await h.sql('select stage, status, outcome, parent_case_id, data from cases where id = $1', [caseId]))[0];

describe('a major warning and its incident', () => {
  it('are linked both ways in the case links; closing the incident lets the warning be reviewed', async () => {
    const kriKey = h.unique('KRI');
    const kri = await h.api('POST', '/api/kris', {
      as: 'lead',
      json: {
        kriKey,
        name: 'Refund requests per hour',
        unit: 'per hour',
        direction: 'above',
        thresholds: { general: 10, elevated: 20, major: 30 },
        ownerId: 'mgr',
      },
    });
    expect(kri.status, JSON.stringify(kri.body)).toBe(201);
    const alertKey = h.unique('ALERT');
    const observed = await h.api('POST', `/api/kris/${enc(kriKey)}/observations`, {
      as: 'approver',
      json: { alertKey, value: 31, observedAt: new Date().toISOString() },
    });
    expect(observed.status, JSON.stringify(observed.body)).toBe(201);
    const warningCaseId = observed.body.warning.caseId as string;
    const warningKey = `${kriKey}:${alertKey}`;
    const incidentId = `WARN-${alertKey}`;
    const incidentCaseId = `incident:${incidentId}`;
    running.add(warningCaseId);
    running.add(incidentCaseId);

    // The incident names the warning as its parent case, in the read model and in its detail.
    const incident = await eventually(async () => {
      const row = await caseOf(incidentCaseId);
      return row?.parent_case_id ? row : null;
    });
    expect(incident).toMatchObject({ parent_case_id: warningCaseId, status: 'open' });
    expect(incident.data).toMatchObject({ sourceWarningCaseId: warningCaseId });
    for (const as of ['auditor', 'manager'] as const) {
      const incidentDetail = await h.api('GET', `/api/cases/${enc(incidentCaseId)}`, { as });
      expect(incidentDetail.status, JSON.stringify(incidentDetail.body)).toBe(200);
      expect(incidentDetail.body.case.parentCaseId).toBe(warningCaseId);
      expect(incidentDetail.body.timeline.map((e: { action: string }) => e.action)).toContain(
        'incident.linked_warning',
      );
      // The warning's detail lists the incident among its linked cases.
      const warningDetail = await h.api('GET', `/api/cases/${enc(warningCaseId)}`, { as });
      expect(warningDetail.status, JSON.stringify(warningDetail.body)).toBe(200);
      expect(warningDetail.body.case.stage).toBe('incident');
      expect(warningDetail.body.linked.map((c: { id: string }) => c.id)).toEqual([incidentCaseId]);
    }

    // The review is not open while the incident runs.
    const early = await h.api('POST', `/api/warnings/${enc(warningKey)}/review`, {
      as: 'lead',
      json: { conclusion: 'too early' },
    });
    expect(early.status).toBe(409);

    // The incident's whole response, by its owner; its close-out approved by two who took no part.
    const inc = (path: string, as: TestUser, json: unknown = {}) =>
      h.api('POST', `/api/incidents/${enc(incidentId)}/${path}`, { as, json });
    const ok = async (res: Promise<{ status: number; body: any }>) => {
      const done = await res;
      expect(done.status, JSON.stringify(done.body)).toBe(200);
    };
    await ok(inc('acknowledge', 'manager'));
    for (const audience of incident.data.plan.mustNotify as string[]) {
      await ok(
        inc('notifications', 'manager', {
          audience,
          notifiedAt: new Date().toISOString(),
          summary: `informed ${audience}`,
        }),
      );
    }
    await ok(inc('stabilise', 'manager', { summary: 'Refunds throttled' }));
    await eventually(async () => (await caseOf(incidentCaseId))?.stage === 'evaluation');
    await ok(
      inc('evaluation', 'manager', {
        rootCause: 'A refund rule let duplicates through',
        summary: 'Duplicate refunds until throttled',
        lessons: 'Alert on refund rate per merchant',
      }),
    );
    await ok(inc('close-out', 'manager'));
    const taskId = `${incidentCaseId}:close-out-1`;
    await eventually(async () => (await h.sql('select 1 from tasks where id = $1', [taskId])).length === 1);
    for (const as of ['risk2', 'approver2'] as const) {
      const [t] = await h.sql('select status from tasks where id = $1', [taskId]);
      if (t.status !== 'open') break;
      await ok(h.api('POST', `/api/tasks/${enc(taskId)}/decision`, { as, json: { decision: 'approve' } }));
    }

    // Closed out: the warning moves on to its review, and the review closes it.
    await eventually(async () => (await caseOf(warningCaseId))?.stage === 'review', 20_000);
    expect(await caseOf(incidentCaseId)).toMatchObject({ status: 'closed', outcome: 'closed_out' });
    await eventually(
      async () =>
        (await h.sql('select status from tasks where id = $1', [`${warningCaseId}:review`]))[0]?.status === 'open',
    );
    await ok(
      h.api('POST', `/api/warnings/${enc(warningKey)}/review`, {
        as: 'lead',
        json: { conclusion: 'Incident closed out; refund rule fixed' },
      }),
    );
    expect(await caseOf(warningCaseId)).toMatchObject({ status: 'closed', outcome: 'resolved' });
    expect(await h.temporal.workflow.getHandle(warningCaseId).result()).toEqual({ outcome: 'resolved' });
    // Recorded only with RECORD_HISTORIES=1 (npm run test:record), for the replay test.
    await saveHistoryFixture(h, warningCaseId, 'risk-warning-major-incident-parent');
    // Closed, the pair stays linked.
    const after = await h.api('GET', `/api/cases/${enc(warningCaseId)}`, { as: 'auditor' });
    expect(after.body.linked).toEqual([expect.objectContaining({ id: incidentCaseId, status: 'closed' })]);
    running.clear();
  });
});

describe('a major warning when an incident is already open', () => {
  const kri = async (riskKey?: string) => {
    const kriKey = h.unique('KRI');
    const res = await h.api('POST', '/api/kris', {
      as: 'lead',
      json: {
        kriKey,
        name: 'Failed payments per minute',
        direction: 'above',
        thresholds: { general: 10, elevated: 20, major: 30 },
        ownerId: 'mgr',
        ...(riskKey ? { riskKey } : {}),
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return kriKey;
  };
  const observe = async (kriKey: string, alertKey: string) => {
    const res = await h.api('POST', `/api/kris/${enc(kriKey)}/observations`, {
      as: 'approver',
      json: { alertKey, value: 35, observedAt: new Date().toISOString() },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.warning.level).toBe('major');
    running.add(res.body.warning.caseId);
    return res.body.warning.caseId as string;
  };
  const incidentCases = async () =>
    (await h.sql(`select id from cases where process = 'incident' order by id`)).map((r: { id: string }) => r.id);

  it('joins the open incident of its risk: linked as its child case, no second incident, the review waits', async () => {
    const riskKey = `RISK-W${randomUUID().slice(0, 8).toUpperCase()}`;
    const risk = await h.api('POST', '/api/risks', {
      as: 'lead',
      json: {
        riskKey,
        title: 'Payment gateway failure',
        category: 'technical',
        description: 'The single payment gateway fails under peak load.',
        cause: 'No failover provider',
        consequence: 'Orders lost',
        ownerId: 'mgr',
        lineOfDefence: 'first',
        inherent: { probability: 4, impact: 5 },
        residual: { probability: 3, impact: 4 },
      },
    });
    expect(risk.status, JSON.stringify(risk.body)).toBe(201);
    // An incident reported by hand, then linked to the risk in the register.
    const incidentId = h.unique('INC');
    const reported = await h.api('POST', '/api/incidents', {
      as: 'manager',
      json: {
        incidentId,
        title: 'Payment gateway outage',
        category: 'system_failure',
        system: 'payment-gateway',
        occurredAt: new Date(Date.now() - 60_000).toISOString(),
        impact: { affectedUsers: 500, amountCny: 0 },
      },
    });
    expect(reported.status, JSON.stringify(reported.body)).toBe(201);
    const incidentCaseId = reported.body.caseId as string;
    running.add(incidentCaseId);
    await eventually(async () => (await caseOf(incidentCaseId))?.status === 'open');
    const linked = await h.api('POST', `/api/risks/${riskKey}/links`, { as: 'lead', json: { caseId: incidentCaseId } });
    expect(linked.status, JSON.stringify(linked.body)).toBe(201);
    const before = await incidentCases();

    const kriKey = await kri(riskKey);
    const alertKey = h.unique('ALERT');
    const warningCaseId = await observe(kriKey, alertKey);
    const warning = await eventually(async () => {
      const row = await caseOf(warningCaseId);
      return row?.parent_case_id ? row : null;
    });
    // The pre-existing incident is the warning's parent case; the warning names it in its data.
    expect(warning).toMatchObject({ parent_case_id: incidentCaseId, stage: 'incident', status: 'open' });
    expect(warning.data).toMatchObject({
      incidentId,
      incidentCaseId,
      joinedIncident: { caseId: incidentCaseId, matchedBy: 'risk' },
    });
    // No second incident: WARN-<alertKey> was never opened.
    expect(await incidentCases()).toEqual(before);
    expect(await h.sql('select id from cases where id = $1', [`incident:WARN-${alertKey}`])).toEqual([]);
    const incident = await caseOf(incidentCaseId);
    expect(incident.data.joinedWarningCaseIds).toEqual([warningCaseId]);
    // Each case's detail shows the other; the incident's timeline says the warning joined it.
    const incidentDetail = await h.api('GET', `/api/cases/${enc(incidentCaseId)}`, { as: 'auditor' });
    expect(incidentDetail.body.linked.map((c: { id: string }) => c.id)).toEqual([warningCaseId]);
    expect(incidentDetail.body.timeline.map((e: { action: string }) => e.action)).toContain(
      'incident.joined_by_warning',
    );
    const warningDetail = await h.api('GET', `/api/cases/${enc(warningCaseId)}`, { as: 'auditor' });
    expect(warningDetail.body.case.parentCaseId).toBe(incidentCaseId);
    expect(warningDetail.body.timeline.map((e: { action: string }) => e.action)).toContain('warning.incident_joined');
    // The review waits for the incident it joined, as for one it opened.
    const early = await h.api('POST', `/api/warnings/${enc(`${kriKey}:${alertKey}`)}/review`, {
      as: 'lead',
      json: { conclusion: 'too early' },
    });
    expect(early.status).toBe(409);
  });

  it('a second major warning on the same risk joins the incident the first one opened', async () => {
    const riskKey = `RISK-W${randomUUID().slice(0, 8).toUpperCase()}`;
    const risk = await h.api('POST', '/api/risks', {
      as: 'lead',
      json: {
        riskKey,
        title: 'Refund fraud',
        category: 'operational',
        description: 'Duplicate refunds drain merchant balances.',
        cause: 'A refund rule lets duplicates through',
        consequence: 'Losses',
        ownerId: 'mgr',
        lineOfDefence: 'first',
        inherent: { probability: 4, impact: 4 },
        residual: { probability: 3, impact: 3 },
      },
    });
    expect(risk.status, JSON.stringify(risk.body)).toBe(201);
    // Two indicators of the same risk, each reaching major.
    const [first, second] = [await kri(riskKey), await kri(riskKey)];
    const firstAlert = h.unique('ALERT');
    const firstWarning = await observe(first, firstAlert);
    const opened = `incident:WARN-${firstAlert}`;
    running.add(opened);
    await eventually(async () => (await caseOf(opened))?.parent_case_id === firstWarning);
    const secondAlert = h.unique('ALERT');
    const secondWarning = await observe(second, secondAlert);
    const joined = await eventually(async () => {
      const row = await caseOf(secondWarning);
      return row?.parent_case_id ? row : null;
    });
    expect(joined).toMatchObject({ parent_case_id: opened, stage: 'incident' });
    expect(joined.data.joinedIncident).toMatchObject({ caseId: opened, matchedBy: 'risk', grade: 'II' });
    expect(await h.sql('select id from cases where id = $1', [`incident:WARN-${secondAlert}`])).toEqual([]);
    // The incident lists both: the warning that opened it (its parent) and the one that joined it (its child).
    const incident = await caseOf(opened);
    expect(incident).toMatchObject({ parent_case_id: firstWarning });
    expect(incident.data).toMatchObject({ sourceWarningCaseId: firstWarning, joinedWarningCaseIds: [secondWarning] });
  });
});
