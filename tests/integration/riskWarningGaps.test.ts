/**
 * A major (重大) risk warning and the incident it opens (issue 12 §3), on the
 * real Temporal dev server and PostgreSQL: linked both ways in the case links
 * (the warning is the incident's parent case, each case's detail shows the
 * other), and the warning's review waits for the incident's close-out, then
 * proceeds.
 */
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
