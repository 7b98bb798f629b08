/**
 * Adding audits to a year's audit plan (issue 12 §4), on the real Temporal
 * dev server and PostgreSQL: internal audit plans its audits into the plan
 * the annual Schedule opened with the data-security compliance check
 * (e-commerce §2.1), idempotent by audit key and audited with its actor; a
 * key planned in another year is the only conflict. A planned audit carries
 * its plan's year (GovPeriod) for auditors in Temporal UI.
 */
import { describe, expect, it } from 'vitest';
import { GovAuditType, GovPeriod } from '../../workflows/searchAttributes';
import { eventually, useHarness, type TestUser } from '../support/harness';

const h = useHarness('auditplanadd');
const enc = encodeURIComponent;

const launch = (year: number) =>
  h.temporal.workflow.execute('auditPlanLauncherWorkflow', {
    taskQueue: h.taskQueue,
    workflowId: h.unique('audit-plan-launcher-add'),
    args: [{ year }],
  });

const planned = (auditKey: string, type: string, plannedFor: string, title = `Planned ${auditKey}`) => ({
  auditKey,
  type,
  title,
  plannedFor,
});

const add = (year: number, json: unknown, as: TestUser = 'internalAudit') =>
  h.api('POST', `/api/audit-plans/${year}/audits`, { as, json });

const entries = async (year: number) =>
  (
    await h.sql('select audit_key, type, planned_for, created_by from audit_plan_entries where year = $1 order by 1', [
      year,
    ])
  ).map((r) => [r.audit_key, r.type, r.planned_for, r.created_by]);

const additionEvents = (year: number) =>
  h.sql(
    "select actor_id, reason, payload from audit_events where action = 'audit_plan.audits_added' and payload->>'year' = $1 order by seq",
    [String(year)],
  );

describe('adding audits to a year’s plan', () => {
  it('internal audit plans its audits into the plan the Schedule opened, once per audit key, audited', async () => {
    expect(await launch(2036)).toMatchObject({ opened: true, year: 2036 });
    // Setting a second plan over it is refused, and says how to add to it.
    const second = await h.api('POST', '/api/audit-plans', {
      as: 'internalAudit',
      json: {
        year: 2036,
        audits: [planned('CA-2036', 'compliance', '2036-09'), planned('DSX-2036', 'data_security', '2036-06')],
      },
    });
    expect(second.status).toBe(409);
    expect(second.body.error.reason).toBe('AUDIT_PLAN_EXISTS');
    expect(second.body.error.message).toMatch(/annual audit plan Schedule/);
    expect(second.body.error.message).toContain('POST /api/audit-plans/2036/audits');
    expect(await entries(2036)).toEqual([['DS-2036', 'data_security', '2036-01', 'system']]);

    const audits = [planned('CA-2036', 'compliance', '2036-09'), planned('IA-2036', 'internal', '2036-04')];
    const added = await add(2036, { audits, reason: 'The year’s compliance and internal audits' });
    expect(added.status, JSON.stringify(added.body)).toBe(200);
    expect(added.body).toEqual({ year: 2036, added: ['CA-2036', 'IA-2036'], alreadyPlanned: [], audits: 3 });
    expect(await entries(2036)).toEqual([
      ['CA-2036', 'compliance', '2036-09', 'ia1'],
      ['DS-2036', 'data_security', '2036-01', 'system'],
      ['IA-2036', 'internal', '2036-04', 'ia1'],
    ]);
    const [event, ...more] = await additionEvents(2036);
    expect(more).toEqual([]);
    expect(event).toMatchObject({
      actor_id: 'ia1',
      reason: 'The year’s compliance and internal audits',
      payload: { year: 2036, audits },
    });

    // The same call again, or with the Schedule's own check, plans nothing twice and records nothing.
    const again = await add(2036, { audits });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ year: 2036, added: [], alreadyPlanned: ['CA-2036', 'IA-2036'], audits: 3 });
    const withCheck = await add(2036, {
      audits: [planned('DS-2036', 'data_security', '2036-01'), planned('SA-2036', 'security', '2036-11')],
    });
    expect(withCheck.body).toEqual({ year: 2036, added: ['SA-2036'], alreadyPlanned: ['DS-2036'], audits: 4 });
    expect(
      (await additionEvents(2036)).map((e) => e.payload.audits.map((a: { auditKey: string }) => a.auditKey)),
    ).toEqual([['CA-2036', 'IA-2036'], ['SA-2036']]);

    // The plan stays the Schedule's with internal audit's additions: its check, who planned each audit.
    const view = await h.api('GET', '/api/audit-plans/2036', { as: 'auditor' });
    expect(view.status).toBe(200);
    expect(view.body.dataSecurityCheck.planned).toEqual(['DS-2036']);
    expect(view.body.audits.map((a: { auditKey: string; plannedBy: string }) => [a.auditKey, a.plannedBy])).toEqual([
      ['DS-2036', 'system'],
      ['IA-2036', 'ia1'],
      ['CA-2036', 'ia1'],
      ['SA-2036', 'ia1'],
    ]);
    // A later run of the Schedule leaves the year as it is.
    expect(await launch(2036)).toEqual({ opened: false, year: 2036, reason: 'already_planned', audits: 4 });
    expect((await entries(2036)).length).toBe(4);
  });

  it('adds to a plan internal audit set, too', async () => {
    const set = await h.api('POST', '/api/audit-plans', {
      as: 'internalAudit',
      json: { year: 2037, audits: [planned('DSC-2037', 'data_security', '2037-05')] },
    });
    expect(set.status).toBe(201);
    const again = await h.api('POST', '/api/audit-plans', {
      as: 'internalAudit',
      json: { year: 2037, audits: [planned('DSC-2037', 'data_security', '2037-05')] },
    });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({
      reason: 'AUDIT_PLAN_EXISTS',
      message: expect.stringMatching(/set by ia1/),
    });
    const added = await add(2037, { audits: [planned('CA-2037', 'compliance', '2037-10')] });
    expect(added.body).toEqual({ year: 2037, added: ['CA-2037'], alreadyPlanned: [], audits: 2 });
    const [event] = await additionEvents(2037);
    expect(event).toMatchObject({ actor_id: 'ia1', reason: null });
  });

  it('refuses anyone but internal audit, a year with no plan, a key planned in another year and bad audits, writing nothing', async () => {
    await launch(2038);
    const before = await entries(2038);
    const events = (await additionEvents(2038)).length;
    const audits = [planned('CA-2038', 'compliance', '2038-09')];
    for (const as of ['manager', 'approver', 'approver2', 'owner', 'auditor', 'admin'] as const) {
      const res = await add(2038, { audits }, as);
      expect(res.status, as).toBe(403);
    }
    const none = await add(2039, { audits: [planned('CA-2039', 'compliance', '2039-09')] });
    expect(none.status).toBe(404);
    expect(none.body.error.message).toMatch(/no audit plan for 2039: set it with POST \/api\/audit-plans/);
    expect(await entries(2039)).toEqual([]);

    // DS-2036 is the 2036 plan's (first test): the whole request is refused, its other audit too.
    const elsewhere = await add(2038, { audits: [...audits, planned('DS-2036', 'data_security', '2038-02')] });
    expect(elsewhere.status).toBe(409);
    expect(elsewhere.body.error).toMatchObject({
      reason: 'AUDIT_PLANNED_IN_ANOTHER_YEAR',
      message: 'already planned in another year: DS-2036 (2036)',
      details: { audits: [{ auditKey: 'DS-2036', year: 2036 }] },
    });
    const outside = await add(2038, { audits: [...audits, planned('LATE-2038', 'internal', '2039-01')] });
    expect(outside.status).toBe(400);
    expect(outside.body.error.message).toMatch(/LATE-2038 is planned outside 2038/);
    const twice = await add(2038, { audits: [...audits, planned('CA-2038', 'internal', '2038-10')] });
    expect(twice.status).toBe(400);
    expect(twice.body.error.message).toMatch(/CA-2038 is planned twice/);
    for (const json of [{ audits: [] }, { audits, extra: 1 }, { audits: [{ ...audits[0], type: 'financial' }] }]) {
      expect((await add(2038, json)).status, JSON.stringify(json)).toBe(400);
    }
    expect(
      (await h.api('POST', '/api/audit-plans/twenty/audits', { as: 'internalAudit', json: { audits } })).status,
    ).toBe(400);
    expect(await entries(2038)).toEqual(before);
    expect((await additionEvents(2038)).length).toBe(events);
  });

  it('the Schedule plans its check under a free key when internal audit used the key in another year', async () => {
    // Internal audit named an audit of 2036 DS-2040: the Schedule's 2040 check may not take that key.
    expect((await add(2036, { audits: [planned('DS-2040', 'internal', '2036-12')] })).status).toBe(200);
    const opened = await launch(2040);
    expect(opened).toMatchObject({
      opened: true,
      year: 2040,
      audits: [{ auditKey: 'DS-2040-S', plannedFor: '2040-01' }],
    });
    expect(await entries(2040)).toEqual([['DS-2040-S', 'data_security', '2040-01', 'system']]);
    const [event] = await h.sql(
      "select payload from audit_events where action = 'audit_plan.created' and payload->>'year' = '2040'",
    );
    expect(event.payload.audits.map((a: { auditKey: string }) => a.auditKey)).toEqual(['DS-2040-S']);
    const view = await h.api('GET', '/api/audit-plans/2040', { as: 'auditor' });
    expect(view.body.dataSecurityCheck.planned).toEqual(['DS-2040-S']);
  });

  it('a planned audit carries its plan’s year as GovPeriod; an unplanned one carries none', async () => {
    const auditKey = h.unique('CA');
    expect((await add(2036, { audits: [planned(auditKey, 'compliance', '2036-07')] })).status).toBe(200);
    const start = async (key: string) => {
      const res = await h.api('POST', '/api/audits', {
        as: 'internalAudit',
        json: {
          auditKey: key,
          type: 'compliance',
          title: 'Compliance audit',
          scope: 'Payments',
          auditeeOwnerId: 'owner',
        },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return (await h.temporal.workflow.getHandle(res.body.caseId).describe()).typedSearchAttributes;
    };
    const plannedAudit = await start(auditKey);
    expect(plannedAudit.get(GovPeriod)).toBe('2036');
    expect(plannedAudit.get(GovAuditType)).toBe('compliance');
    expect((await start(h.unique('CA'))).get(GovPeriod)).toBeUndefined();
    // What an auditor types in Temporal UI to list the year's audit programme.
    const query = `${GovPeriod.name} = '2036' AND WorkflowType = 'auditWorkflow' AND WorkflowId = 'audit:${auditKey}'`;
    await eventually(async () => {
      const found: string[] = [];
      for await (const run of h.temporal.workflow.list({ query })) found.push(run.workflowId);
      return found.length === 1;
    });
    const view = await h.api('GET', `/api/audit-plans/2036`, { as: 'auditor' });
    expect(view.body.audits).toEqual(
      expect.arrayContaining([expect.objectContaining({ auditKey, status: 'open', stage: 'fieldwork' })]),
    );
  });
});

describe('adding audits under a changed policy', () => {
  it('the plan with its additions must hold the data-security checks the policy asks now', async () => {
    await launch(2041);
    const requested = await h.api('POST', '/api/policy/changes', {
      as: 'approver2',
      json: {
        changeKey: h.unique('POL'),
        summary: 'Data-security check every six months',
        change: { audit: { dataSecurityCheckMonths: 6 } },
      },
    });
    expect(requested.status, JSON.stringify(requested.body)).toBe(201);
    const taskId = `${requested.body.caseId}:approval`;
    for (const as of ['approver', 'legal'] as const) {
      const res = await h.api('POST', `/api/tasks/${enc(taskId)}/decision`, { as, json: { decision: 'approve' } });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
    expect(await h.temporal.workflow.getHandle(requested.body.caseId).result()).toMatchObject({ outcome: 'approved' });

    const compliance = planned('CA-2041', 'compliance', '2041-09');
    const short = await add(2041, { audits: [compliance] });
    expect(short.status).toBe(422);
    expect(short.body.error).toMatchObject({ reason: 'DATA_SECURITY_CHECK_REQUIRED' });
    expect(short.body.error.message).toMatch(/2 data-security compliance checks.*it has 1/);
    expect(await entries(2041)).toEqual([['DS-2041', 'data_security', '2041-01', 'system']]);
    const complete = await add(2041, { audits: [compliance, planned('DS-2041-H2', 'data_security', '2041-07')] });
    expect(complete.status, JSON.stringify(complete.body)).toBe(200);
    expect(complete.body).toEqual({ year: 2041, added: ['CA-2041', 'DS-2041-H2'], alreadyPlanned: [], audits: 3 });
  });
});
