/**
 * PDCA improvement cycles (DOMAIN.md §2) through the API, on the real Temporal
 * dev server and PostgreSQL: a cycle meeting its targets, one missing them and
 * continuing as new, a regression reopening the cycle after its effectiveness
 * window, and a cycle opened from an incident (the closed loop).
 */
import { PDCA_KPI } from '../support/drive';
import { describe, expect, it } from 'vitest';
import { eventually, useHarness, type TestUser } from '../support/harness';
import { saveHistoryFixture } from '../support/histories';
import { expectOverdueStep, expectOwedStep, expectStepDone, SHORT_STEP } from '../support/steps';

const h = useHarness('pdca');

const caseRow = async (caseId: string) => (await h.sql('select * from cases where id = $1', [caseId]))[0];
const waitForTask = (taskId: string) =>
  eventually(async () => (await h.sql('select * from tasks where id = $1', [taskId]))[0], 20_000);
/** Who the audit log says took each `action` on the case, oldest first. */
const actorsOf = async (caseId: string, action: string) =>
  (
    await h.sql('select actor_id from audit_events where case_id = $1 and action = $2 order by seq', [caseId, action])
  ).map((r) => r.actor_id);
const decide = (taskId: string, as: TestUser) =>
  h.api('POST', `/api/tasks/${encodeURIComponent(taskId)}/decision`, { as, json: { decision: 'approve' } });
const KPI = PDCA_KPI;

async function openCycle(extra: Record<string, unknown> = {}, path = '/api/improvement-cycles') {
  const cycleKey = h.unique('PDCA');
  const res = await h.api('POST', path, {
    as: 'lead',
    json: {
      cycleKey,
      ...(path === '/api/improvement-cycles' ? { source: 'kpi_gap' } : {}),
      title: 'Faster complaint resolution',
      objective: 'Resolve complaints within a day',
      ownerId: 'mgr',
      kpis: [KPI],
      actions: [{ title: 'Add a second-line queue', ownerId: 'owner' }],
      checkIn: '1s',
      ...extra,
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { cycleKey, caseId: `pdca:${cycleKey}` };
}

/** Plan approved, the action done and verified, the KPI value entered (`as`) and verified. */
async function throughCheck(caseId: string, cycleKey: string, actual: number, as: TestUser = 'manager', cycle = 1) {
  const planTask = `${caseId}:c${cycle}-plan-approval-1`;
  await waitForTask(planTask);
  expect((await decide(planTask, 'lead')).body.error.reason).toBe('SEGREGATION_OF_DUTIES');
  expect((await decide(planTask, 'approver')).body.status).toBe('approved');
  const item = `${caseId}:c${cycle}:action:1`;
  await waitForTask(item);
  const form = new FormData();
  form.append('file', new File([Buffer.from('queue live')], 'queue.txt'));
  const evidence = await h.api('POST', `/api/cases/${encodeURIComponent(caseId)}/evidence`, {
    as: 'owner',
    body: form,
  });
  await h.api('POST', `/api/tasks/${encodeURIComponent(item)}/submission`, {
    as: 'owner',
    json: { evidenceIds: [evidence.body.id] },
  });
  await h.api('POST', `/api/tasks/${encodeURIComponent(item)}/verification`, {
    as: 'approver',
    json: { verdict: 'accept' },
  });
  await eventually(async () => (await caseRow(caseId))?.stage === 'check', 20_000);
  await eventually(async () => {
    const res = await h.api('POST', `/api/improvement-cycles/${cycleKey}/actuals`, {
      as,
      json: { actuals: { [KPI.key]: actual } },
    });
    return res.status === 200;
  }, 20_000);
  const verification = `${caseId}:c${cycle}-verification-1`;
  await waitForTask(verification);
  expect((await decide(verification, 'approver2')).body.status).toBe('approved');
}

describe('PDCA improvement cycles', () => {
  it('a cycle meeting its targets is standardised and closed', async () => {
    const { caseId, cycleKey } = await openCycle();
    // The plan waits for its approval in the stage every approval wait shows.
    expect((await caseRow(caseId)).stage).toBe('awaiting_approval');
    // Values entered and the standard recorded by lead, a manager who is not the cycle's owner (mgr).
    await throughCheck(caseId, cycleKey, 20, 'lead');
    await eventually(async () => (await caseRow(caseId))?.stage === 'act');
    expect((await caseRow(caseId)).data.results[0]).toMatchObject({ key: KPI.key, actual: 20, met: true, gap: 0 });
    const std = await h.api('POST', `/api/improvement-cycles/${cycleKey}/standardise`, {
      as: 'lead',
      json: { adopted: 'Second-line queue is standard' },
    });
    expect(std.status).toBe(200);
    expect(await h.temporal.workflow.getHandle(caseId).result()).toEqual({ cycle: 1, outcome: 'standardised' });
    expect(await caseRow(caseId)).toMatchObject({ status: 'closed', outcome: 'standardised' });
    // Each step is recorded as whoever took it, not as the cycle owner: lead opened the
    // cycle with its plan, entered the values, and standardised (which closes it at once).
    expect(await actorsOf(caseId, 'pdca.plan_submitted')).toEqual(['lead']);
    expect(await actorsOf(caseId, 'pdca.checked')).toEqual(['lead']);
    expect(await actorsOf(caseId, 'case.closed')).toEqual(['lead']);
    await saveHistoryFixture(h, caseId, 'pdca-standardised');
  });

  it('each step the owner owes has a deadline: the standard, reminded, escalated, overdue and still owed', async () => {
    const { caseId, cycleKey } = await openCycle({ timings: { step: SHORT_STEP } });
    await throughCheck(caseId, cycleKey, 20, 'lead');
    // The values were owed by the owner (mgr) and entered by lead: their task is lead's.
    await expectStepDone(h, 'manager', `${caseId}:c1-actuals-1`, 'lead');
    // Verified as met: the owner owes the standard from the moment the verification returns.
    const standardTask = `${caseId}:c1-standardise`;
    await expectOwedStep(h, 'manager', standardTask, 'mgr');
    await expectOverdueStep(h, 'manager', standardTask, { assigneeId: 'mgr', escalatedTo: 'admin' });
    expect(await caseRow(caseId)).toMatchObject({ stage: 'act', status: 'open' });
    const std = await h.api('POST', `/api/improvement-cycles/${cycleKey}/standardise`, {
      as: 'lead',
      json: { adopted: 'Second-line queue is standard' },
    });
    expect(std.status, JSON.stringify(std.body)).toBe(200);
    await expectStepDone(h, 'manager', standardTask, 'lead');
    expect(await h.temporal.workflow.getHandle(caseId).result()).toEqual({ cycle: 1, outcome: 'standardised' });
    // The whole ladder of a step, overdue included, in a replayed history.
    await saveHistoryFixture(h, caseId, 'pdca-standard-overdue');
  });

  it('missing its targets continues as a new cycle carrying the gap, and escalates after N cycles', async () => {
    const { caseId, cycleKey } = await openCycle({ escalateAfterCycles: 1 });
    const firstRun = (await h.temporal.workflow.getHandle(caseId).describe()).runId;
    await throughCheck(caseId, cycleKey, 40);
    await eventually(async () => (await caseRow(caseId))?.data.cycle === 2, 20_000);
    const row = await caseRow(caseId);
    expect(row.stage).toBe('plan');
    expect(row.data.kpis).toEqual([expect.objectContaining({ key: KPI.key, baseline: 40, target: 24 })]);
    expect(row.data.history).toEqual([
      expect.objectContaining({ cycle: 1, outcome: expect.stringMatching(/targets missed/) }),
    ]);
    expect(row.run_id).not.toBe(firstRun);
    // The new run escalates right after it reopens the case.
    const escalation = await eventually(async () => {
      const rows = await h.sql(`select recipient_role from notifications where case_id = $1 and kind = 'escalation'`, [
        caseId,
      ]);
      return rows.length ? rows : null;
    });
    expect(escalation).toEqual([{ recipient_role: 'admin' }]);
    // The new cycle is re-planned, here by lead: a manager, not its owner (mgr).
    const plan = await h.api('POST', `/api/improvement-cycles/${cycleKey}/plan`, {
      as: 'lead',
      json: { actions: [{ title: 'Hire two agents', ownerId: 'owner' }] },
    });
    expect(plan.status, JSON.stringify(plan.body)).toBe(200);
    expect(plan.body).toEqual({ stage: 'awaiting_approval' });
    await waitForTask(`${caseId}:c2-plan-approval-1`);
    // The re-plan is recorded as lead's (as is cycle 1's plan, which lead opened the cycle with); the values as mgr's.
    expect(await actorsOf(caseId, 'pdca.plan_submitted')).toEqual(['lead', 'lead']);
    expect(await actorsOf(caseId, 'pdca.checked')).toEqual(['mgr']);
    await h.temporal.workflow.getHandle(caseId).terminate('test done');
  });

  it('a KPI slipping back within the effectiveness window reopens the cycle', async () => {
    const { caseId, cycleKey } = await openCycle({ effectivenessWindow: '2s' });
    await throughCheck(caseId, cycleKey, 20);
    await eventually(async () => (await caseRow(caseId))?.stage === 'act');
    await h.api('POST', `/api/improvement-cycles/${cycleKey}/standardise`, {
      as: 'lead',
      json: { adopted: 'Second-line queue' },
    });
    await eventually(
      async () =>
        (await caseRow(caseId))?.data.recheck !== null && (await caseRow(caseId))?.stage === 'effectiveness_watch',
      20_000,
    );
    await eventually(async () => {
      const res = await h.api('POST', `/api/improvement-cycles/${cycleKey}/actuals`, {
        as: 'lead',
        json: { actuals: { [KPI.key]: 30 } },
      });
      return res.status === 200;
    }, 20_000);
    await eventually(async () => (await caseRow(caseId))?.data.cycle === 2, 20_000);
    const row = await caseRow(caseId);
    expect(row.data.kpis).toEqual([expect.objectContaining({ key: KPI.key, baseline: 30, target: 24 })]);
    expect(row.data.history[0].outcome).toMatch(/slipped back/);
    // The standard and the recheck's values are recorded as lead's, who took those steps.
    expect(await actorsOf(caseId, 'pdca.standardised')).toEqual(['lead']);
    expect(await actorsOf(caseId, 'pdca.rechecked')).toEqual(['lead']);
    await h.temporal.workflow.getHandle(caseId).terminate('test done');
  });

  it('an incident review opens a linked cycle, and the incident shows its status', async () => {
    const incidentId = h.unique('INC');
    const reported = await h.api('POST', '/api/incidents', {
      as: 'manager',
      json: {
        incidentId,
        title: 'Refund delays',
        category: 'system_failure',
        system: h.unique('refunds'),
        occurredAt: new Date().toISOString(),
        impact: { affectedUsers: 10, amountCny: 0 },
      },
    });
    expect(reported.status).toBe(201);
    const incidentCase = `incident:${incidentId}`;
    await eventually(async () => caseRow(incidentCase));
    const { caseId } = await openCycle({}, `/api/cases/${encodeURIComponent(incidentCase)}/improvement-cycles`);
    const cycle = await eventually(async () => caseRow(caseId));
    expect(cycle).toMatchObject({ parent_case_id: incidentCase, process: 'pdca' });
    expect(cycle.data.source).toBe('incident_review');
    const origin = await h.api('GET', `/api/cases/${encodeURIComponent(incidentCase)}`, { as: 'auditor' });
    expect(origin.body.linked).toEqual([expect.objectContaining({ id: caseId, process: 'pdca', status: 'open' })]);
    const report = await h.api('GET', '/api/reports/control-effectiveness?periodDays=30', { as: 'auditor' });
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({ periodDays: 30, riskLevel: expect.any(String) });
    expect(report.body.platformKpis).toHaveProperty('incidents_total');
    expect(report.body.platformKpis.incidents_total).toBeGreaterThanOrEqual(1);
    for (const id of [caseId, incidentCase]) await h.temporal.workflow.getHandle(id).terminate('test done');
  });
});
