/**
 * The audit programme (issue 12 §4), on the real Temporal dev server and
 * PostgreSQL: an audit case from its checklist to closure (fieldwork with
 * evidence, findings, management responses on a deadline ladder, the report
 * approved by someone who took no step, accepted findings rectified and
 * verified by internal audit), a third-party audit, and the annual plan that
 * must hold the data-security compliance check (e-commerce §2.1), opened each
 * year by a Schedule when internal audit has not recorded it.
 */
import { GovAuditType, GovPeriod } from '../../workflows/searchAttributes';
import { describe, expect, it } from 'vitest';
import { fileForm } from '../support/drive';
import { eventually, TEST_USERS, useHarness, type TestUser } from '../support/harness';
import { acceptedSteps, saveHistoryFixture } from '../support/histories';

const h = useHarness('auditprogramme');
const enc = encodeURIComponent;

const audit = (over: Record<string, unknown> = {}) => ({
  auditKey: h.unique('AUD'),
  type: 'data_security',
  title: 'Data-security compliance check',
  scope: 'Payment and customer data systems',
  auditeeOwnerId: 'owner',
  ...over,
});

async function start(body: Record<string, unknown>, as: TestUser = 'internalAudit') {
  const res = await h.api('POST', '/api/audits', { as, json: body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { caseId: string; stage: string; checklist: Array<{ id: string }> };
}

const step = (key: string, path: string, json: unknown, as: TestUser = 'internalAudit') =>
  h.api('POST', `/api/audits/${enc(key)}/${path}`, { as, json });

async function upload(caseId: string, content: string, as: TestUser = 'internalAudit'): Promise<string> {
  const res = await h.api('POST', `/api/cases/${enc(caseId)}/evidence`, { as, body: fileForm(content) });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

const caseRow = async (caseId: string) =>
  (await h.sql('select stage, status, outcome, data from cases where id = $1', [caseId]))[0];

/** A refused step: its status and reason, no new step in history, the case's row unchanged. */
async function refused(
  caseId: string,
  call: () => ReturnType<typeof step>,
  status: number,
  reason?: string,
): Promise<{ message: string }> {
  const steps = (await acceptedSteps(h, caseId)).length;
  const before = await caseRow(caseId);
  const res = await call();
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  if (reason) expect(res.body.error.reason).toBe(reason);
  expect((await acceptedSteps(h, caseId)).length).toBe(steps);
  expect(await caseRow(caseId)).toEqual(before);
  return res.body.error;
}

describe('audit cases', () => {
  it('only internal audit starts an audit; refusals start nothing', async () => {
    for (const as of ['manager', 'approver', 'approver2', 'owner', 'auditor', 'admin'] as const) {
      const body = audit();
      const res = await h.api('POST', '/api/audits', { as, json: body });
      expect(res.status, as).toBe(403);
      expect(await h.sql('select 1 from cases where id = $1', [`audit:${body.auditKey}`])).toEqual([]);
    }
    const readOnly = await h.api('POST', '/api/audits', {
      as: 'internalAudit',
      json: audit({ auditeeOwnerId: 'auditor' }),
    });
    expect(readOnly.status).toBe(400);
    expect(readOnly.body.error.message).toMatch(/auditeeOwnerId/);
    const badType = await h.api('POST', '/api/audits', { as: 'internalAudit', json: audit({ type: 'financial' }) });
    expect(badType.status).toBe(400);
    expect(await h.sql("select 1 from cases where process = 'audit'")).toEqual([]);

    const body = audit({ type: 'security' });
    const started = await start(body);
    expect(started.checklist.map((i) => i.id)).toEqual(['access_logs', 'operation_records', 'incident_response']);
    const again = await h.api('POST', '/api/audits', { as: 'internalAudit', json: body });
    expect(again.status).toBe(409);
  });

  it('runs checklist → fieldwork → findings → responses → approved report → rectification verified by internal audit → closed', async () => {
    const body = audit();
    const { caseId, stage, checklist } = await start(body);
    const key = body.auditKey;
    expect(stage).toBe('fieldwork');
    // The data-security checklist as e-commerce §2.1–§2.4 lists it.
    expect(checklist.map((i) => i.id)).toEqual([
      'classification',
      'access_control',
      'encryption',
      'backup',
      'logging',
      'incident_response',
    ]);
    const [row] = await h.sql(
      'select process, stage, initiator_id, owner_id, policy_version, data from cases where id = $1',
      [caseId],
    );
    expect(row).toMatchObject({
      process: 'audit',
      stage: 'fieldwork',
      initiator_id: 'ia1',
      owner_id: 'owner',
      policy_version: 1,
    });
    // Auditors filter audits by type in Temporal UI.
    const described = await h.temporal.workflow.getHandle(caseId).describe();
    expect(described.typedSearchAttributes.get(GovAuditType)).toBe('data_security');
    expect(row.data.checklist[2]).toMatchObject({ id: 'encryption', source: 'e-commerce manual §2.3' });

    const proof = await upload(caseId, 'access review export');
    const results = checklist.map((i) => ({
      itemId: i.id,
      result: i.id === 'encryption' ? 'fail' : 'pass',
      evidenceIds: [proof],
    }));

    // Fieldwork refusals: who, an incomplete checklist, a conclusion without evidence, evidence of another case.
    const notIa = await refused(
      caseId,
      () => step(key, 'fieldwork', { results }, 'manager'),
      403,
      'ROLE_NOT_PERMITTED',
    );
    expect(notIa.message).toBe('internal audit records the fieldwork');
    await refused(caseId, () => step(key, 'fieldwork', { results: results.slice(1) }), 422, 'CHECKLIST_INCOMPLETE');
    await refused(
      caseId,
      () => step(key, 'fieldwork', { results: results.map((r, i) => (i === 0 ? { ...r, evidenceIds: [] } : r)) }),
      422,
      'EVIDENCE_REQUIRED',
    );
    const other = await start(audit({ type: 'security' }));
    const foreign = await upload(other.caseId, 'not this audit');
    await refused(
      caseId,
      () =>
        step(key, 'fieldwork', { results: results.map((r, i) => (i === 0 ? { ...r, evidenceIds: [foreign] } : r)) }),
      422,
      'EVIDENCE_NOT_ON_CASE',
    );
    // The findings step is not taken in fieldwork.
    await refused(caseId, () => step(key, 'findings', { findings: [] }), 409, 'WRONG_STAGE');

    const done = await step(key, 'fieldwork', { results });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.stage).toBe('findings');
    const afterFieldwork = await caseRow(caseId);
    expect(afterFieldwork.data.checklist.find((i: { id: string }) => i.id === 'encryption')).toMatchObject({
      result: 'fail',
      evidenceIds: [proof],
    });

    const f1 = {
      findingKey: 'F1',
      title: 'Customer data at rest is not encrypted',
      severity: 'critical',
      criterion: 'e-commerce manual §2.3: data encrypted in storage and in transit',
      rootCause: 'Legacy database created before the encryption standard',
      ownerId: 'owner',
      checklistItemId: 'encryption',
    };
    const f2 = {
      findingKey: 'F2',
      title: 'Backup restore not tested this year',
      severity: 'medium',
      criterion: 'e-commerce manual §2.1: backup and recovery',
      rootCause: 'No owner for the restore test',
      ownerId: 'mgr',
    };
    // A failed checklist item needs its finding; the recording auditor owns no finding.
    await refused(caseId, () => step(key, 'findings', { findings: [f2] }), 422, 'FAILED_ITEM_WITHOUT_FINDING');
    await refused(
      caseId,
      () => step(key, 'findings', { findings: [f1, { ...f2, ownerId: 'ia1' }] }),
      422,
      'SEGREGATION_OF_DUTIES',
    );
    const recorded = await step(key, 'findings', { findings: [f1, f2] });
    expect(recorded.status, JSON.stringify(recorded.body)).toBe(200);
    expect(recorded.body.stage).toBe('responses');

    // Each owner's response is owed, in their inbox as soon as the call answered.
    const inbox = await h.api('GET', '/api/tasks/inbox', { as: 'owner' });
    expect(inbox.body.toDo.map((t: { id: string }) => t.id)).toContain(`${caseId}:response:F1`);

    const due = new Date(Date.now() + 30 * 86_400_000).toISOString();
    // Only the finding's owner answers it; an accept needs a plan and a date in the future.
    const notOwner = await refused(
      caseId,
      () =>
        step(key, 'responses', { findingKey: 'F1', response: 'accept', actionPlan: 'Encrypt', dueAt: due }, 'manager'),
      403,
      'ROLE_NOT_PERMITTED',
    );
    expect(notOwner.message).toBe('the finding’s owner responds to it');
    const noPlan = await step(key, 'responses', { findingKey: 'F1', response: 'accept' }, 'owner');
    expect(noPlan.status).toBe(400);
    await refused(
      caseId,
      () =>
        step(
          key,
          'responses',
          { findingKey: 'F1', response: 'accept', actionPlan: 'Encrypt', dueAt: '2020-01-01T00:00:00Z' },
          'owner',
        ),
      422,
      'DUE_DATE_PAST',
    );
    await refused(
      caseId,
      () => step(key, 'responses', { findingKey: 'F9', response: 'dispute', reason: 'no' }, 'owner'),
      422,
      'UNKNOWN_FINDING',
    );
    const accepted = await step(
      key,
      'responses',
      { findingKey: 'F1', response: 'accept', actionPlan: 'Enable TDE on the customer database', dueAt: due },
      'owner',
    );
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    await refused(
      caseId,
      () => step(key, 'responses', { findingKey: 'F1', response: 'dispute', reason: 'changed my mind' }, 'owner'),
      409,
      'WRONG_STAGE',
    );
    const disputed = await step(
      key,
      'responses',
      { findingKey: 'F2', response: 'dispute', reason: 'Restore tested in March; log attached to the IT ticket' },
      'manager',
    );
    expect(disputed.status, JSON.stringify(disputed.body)).toBe(200);
    expect(disputed.body.stage).toBe('awaiting_approval');
    const [responseTask] = await h.sql('select status, decided_by from tasks where id = $1', [`${caseId}:response:F1`]);
    expect(responseTask).toEqual({ status: 'done', decided_by: 'owner' });

    // The report: never released by the auditor who did the fieldwork and recorded the findings.
    const taskId = `${caseId}:report-approval`;
    const history = async () => (await h.temporal.workflow.getHandle(caseId).fetchHistory()).events?.length;
    const before = await history();
    const own = await h.api('POST', `/api/tasks/${enc(taskId)}/decision`, {
      as: 'internalAudit',
      json: { decision: 'approve' },
    });
    expect(own.status).toBe(422);
    expect(own.body.error.reason).toBe('SEGREGATION_OF_DUTIES');
    expect(own.body.error.details.reasons).toContain('took a step of this case');
    const risk = await h.api('POST', `/api/tasks/${enc(taskId)}/decision`, {
      as: 'approver',
      json: { decision: 'approve' },
    });
    expect(risk.status).toBe(403);
    expect(await history()).toBe(before);
    expect((await caseRow(caseId)).stage).toBe('awaiting_approval');

    const released = await h.api('POST', `/api/tasks/${enc(taskId)}/decision`, {
      as: 'approver2',
      json: { decision: 'approve' },
    });
    expect(released.status, JSON.stringify(released.body)).toBe(200);
    const rect = await caseRow(caseId);
    expect(rect.stage).toBe('rectification');
    expect(rect.data.report).toEqual({ outcome: 'approved', decidedBy: ['appr2'] });
    // Only the accepted finding becomes an item; the disputed one stays on the record.
    const itemId = `${caseId}:finding:F1`;
    const items = await h.sql("select id, assignee_id from tasks where case_id = $1 and kind = 'rectification'", [
      caseId,
    ]);
    expect(items).toEqual([{ id: itemId, assignee_id: 'owner' }]);

    const fixed = await upload(caseId, 'TDE enabled: screenshot', 'owner');
    const submitted = await h.api('POST', `/api/tasks/${enc(itemId)}/submission`, {
      as: 'owner',
      json: { evidenceIds: [fixed] },
    });
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(200);
    // Verified by internal audit only: not by compliance, who released the report.
    const byCompliance = await h.api('POST', `/api/tasks/${enc(itemId)}/verification`, {
      as: 'approver2',
      json: { verdict: 'accept' },
    });
    expect(byCompliance.status).toBe(422);
    expect((await caseRow(caseId)).status).toBe('open');
    const verified = await h.api('POST', `/api/tasks/${enc(itemId)}/verification`, {
      as: 'internalAudit',
      json: { verdict: 'accept' },
    });
    expect(verified.status, JSON.stringify(verified.body)).toBe(200);
    expect(await h.temporal.workflow.getHandle(caseId).result()).toEqual({ outcome: 'resolved', itemIds: [itemId] });
    await saveHistoryFixture(h, caseId, 'audit-data-security-resolved');
    const closed = await caseRow(caseId);
    expect(closed).toMatchObject({ stage: 'closed', status: 'closed', outcome: 'resolved' });

    // The report as JSON and as a printable page, for management and regulators (e-commerce §6.4).
    const report = await h.api('GET', `/api/audits/${enc(key)}/report`, { as: 'auditor' });
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({ caseId, status: 'closed', outcome: 'resolved' });
    expect(
      report.body.data.findings.map((f: { findingKey: string; response: { response: string } }) => [
        f.findingKey,
        f.response.response,
      ]),
    ).toEqual([
      ['F1', 'accept'],
      ['F2', 'dispute'],
    ]);
    expect(report.body.rectificationItems).toEqual([expect.objectContaining({ id: itemId, decidedBy: 'ia1' })]);
    const html = await h.api('GET', `/api/audits/${enc(key)}/report.html`, { as: 'auditor' });
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toMatch(/text\/html/);
    expect(String(html.body)).toContain('审计报告');
    expect(String(html.body)).toContain('Customer data at rest is not encrypted');
    // Read by the oversight functions and those with a part in the audit; to everyone else it does not exist.
    const readers: Record<string, number> = {};
    for (const as of Object.keys(TEST_USERS) as TestUser[])
      readers[as] = (await h.api('GET', `/api/audits/${enc(key)}/report`, { as })).status;
    expect(readers).toEqual({
      manager: 200, // answered finding F2
      lead: 200,
      approver: 200,
      approver2: 200,
      legal: 404,
      risk2: 200,
      internalAudit: 200,
      owner: 200,
      auditor: 200,
      admin: 404,
    });
  });

  it('a third-party audit needs its report attached; the lead auditor never releases the report', async () => {
    const body = audit({ type: 'compliance', thirdParty: { firm: 'Acme Assurance LLP' }, leadAuditorId: 'appr2' });
    const { caseId, checklist } = await start(body);
    const key = body.auditKey;
    const results = checklist.map((i) => ({ itemId: i.id, result: 'not_applicable' }));
    const missing = await refused(
      caseId,
      () => step(key, 'fieldwork', { results }),
      422,
      'THIRD_PARTY_REPORT_REQUIRED',
    );
    expect(missing.message).toMatch(/Acme Assurance LLP/);
    const report = await upload(caseId, 'Acme audit report 2026');
    const done = await step(key, 'fieldwork', { results, thirdPartyReportEvidenceId: report });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    const none = await step(key, 'findings', { findings: [] });
    expect(none.body.stage).toBe('awaiting_approval');
    expect((await caseRow(caseId)).data.thirdParty).toEqual({ firm: 'Acme Assurance LLP', reportEvidenceId: report });

    const taskId = `${caseId}:report-approval`;
    const lead = await h.api('POST', `/api/tasks/${enc(taskId)}/decision`, {
      as: 'approver2',
      json: { decision: 'approve' },
    });
    expect(lead.status).toBe(422);
    expect(lead.body.error).toMatchObject({ reason: 'SEGREGATION_OF_DUTIES', details: { reasons: ['led the audit'] } });
    const [task] = await h.sql('select status, excluded_user_ids from tasks where id = $1', [taskId]);
    expect(task.status).toBe('open');
    expect(task.excluded_user_ids).toEqual(expect.arrayContaining(['appr2', 'ia1']));
  });

  it('a rejected report goes back to internal audit, whose revised findings are answered and decided again', async () => {
    const body = audit({ type: 'internal' });
    const { caseId, checklist } = await start(body);
    const key = body.auditKey;
    const results = checklist.map((i) => ({ itemId: i.id, result: 'not_applicable' }));
    expect((await step(key, 'fieldwork', { results })).status).toBe(200);
    expect((await step(key, 'findings', { findings: [] })).body.stage).toBe('awaiting_approval');
    const taskId = `${caseId}:report-approval`;
    const noReason = await h.api('POST', `/api/tasks/${enc(taskId)}/decision`, {
      as: 'approver2',
      json: { decision: 'reject' },
    });
    expect(noReason.status).toBe(422);
    expect((await caseRow(caseId)).stage).toBe('awaiting_approval');
    const rejected = await h.api('POST', `/api/tasks/${enc(taskId)}/decision`, {
      as: 'approver2',
      json: { decision: 'reject', comment: 'Records were not sampled: add the finding' },
    });
    expect(rejected.status, JSON.stringify(rejected.body)).toBe(200);
    expect(await caseRow(caseId)).toMatchObject({ status: 'open', stage: 'findings' });
    const [returned] = await h.sql(
      "select actor_id, reason from audit_events where case_id = $1 and action = 'audit.report_returned'",
      [caseId],
    );
    expect(returned).toEqual({ actor_id: 'appr2', reason: 'Records were not sampled: add the finding' });

    // Revised: one finding, answered again, then the report decided afresh (round 2).
    const revised = await step(key, 'findings', {
      findings: [
        {
          findingKey: 'R1',
          title: 'Decision records incomplete',
          severity: 'low',
          criterion: 'policy default: decisions recorded with who, when, what and why',
          rootCause: 'Manual approvals outside the platform',
          ownerId: 'owner',
        },
      ],
    });
    expect(revised.body.stage).toBe('responses');
    const answered = await step(
      key,
      'responses',
      { findingKey: 'R1', response: 'dispute', reason: 'All approvals now run on the platform' },
      'owner',
    );
    expect(answered.body.stage).toBe('awaiting_approval');
    const second = await h.api('POST', `/api/tasks/${enc(`${taskId}-2`)}/decision`, {
      as: 'approver2',
      json: { decision: 'approve' },
    });
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    expect(await h.temporal.workflow.getHandle(caseId).result()).toEqual({ outcome: 'approved', itemIds: [] });
    expect(await caseRow(caseId)).toMatchObject({ status: 'closed', outcome: 'approved' });
    expect(await h.sql("select 1 from tasks where case_id = $1 and kind = 'rectification'", [caseId])).toEqual([]);
  });

  it('a finding whose owner chooses an improvement cycle opens a PDCA cycle, linked, and the audit stays open until it ends', async () => {
    const body = audit({ type: 'compliance' });
    const { caseId, checklist } = await start(body);
    const key = body.auditKey;
    const results = checklist.map((i) => ({ itemId: i.id, result: 'not_applicable' }));
    expect((await step(key, 'fieldwork', { results })).status).toBe(200);
    const recorded = await step(key, 'findings', {
      findings: [
        {
          findingKey: 'S1',
          title: 'Complaint handling misses the 48 h result again and again',
          severity: 'high',
          criterion: 'e-commerce manual §5.2: result within 48 hours',
          rootCause: 'Queue staffed for average, not peak, volume',
          ownerId: 'owner',
        },
      ],
    });
    expect(recorded.body.stage).toBe('responses');
    const plan = {
      objective: 'Every complaint answered within 48 h at peak',
      kpis: [
        {
          key: 'late_share',
          name: 'Results later than 48 h',
          unit: '%',
          baseline: 12,
          target: 2,
          direction: 'decrease',
        },
      ],
      checkIn: '60d',
    };
    // An improvement remedy needs its plan; a dispute or a rectification takes none.
    const noPlan = await step(
      key,
      'responses',
      { findingKey: 'S1', response: 'accept', actionPlan: 'PDCA', remedy: 'improvement' },
      'owner',
    );
    expect(noPlan.status).toBe(400);
    expect(noPlan.body.error.message).toMatch(/improvement/);
    const stray = await step(
      key,
      'responses',
      { findingKey: 'S1', response: 'dispute', reason: 'no', improvement: plan },
      'owner',
    );
    expect(stray.status).toBe(400);
    const badKpi = await step(
      key,
      'responses',
      {
        findingKey: 'S1',
        response: 'accept',
        actionPlan: 'PDCA',
        remedy: 'improvement',
        improvement: { ...plan, kpis: [{ ...plan.kpis[0], target: 20 }] },
      },
      'owner',
    );
    expect(badKpi.status).toBe(400);
    const accepted = await step(
      key,
      'responses',
      {
        findingKey: 'S1',
        response: 'accept',
        actionPlan: 'Staff for peak; measure the late share',
        remedy: 'improvement',
        improvement: plan,
      },
      'owner',
    );
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    const released = await h.api('POST', `/api/tasks/${enc(`${caseId}:report-approval`)}/decision`, {
      as: 'approver2',
      json: { decision: 'approve' },
    });
    expect(released.status, JSON.stringify(released.body)).toBe(200);

    // The cycle is a case of its own, planned by the finding's owner, its origin the audit.
    const cycleId = `pdca:${key}.S1`;
    const [cycle] = await eventually(async () => {
      const rows = await h.sql('select process, stage, owner_id, initiator_id, data from cases where id = $1', [
        cycleId,
      ]);
      return rows.length ? rows : undefined;
    });
    expect(cycle).toMatchObject({ process: 'pdca', stage: 'plan', owner_id: 'owner', initiator_id: 'appr2' });
    expect(cycle.data).toMatchObject({ source: 'audit_finding', sourceCaseId: caseId, kpis: plan.kpis });
    const open = await caseRow(caseId);
    expect(open).toMatchObject({ status: 'open', stage: 'rectification' });
    expect(open.data.findings[0]).toMatchObject({ findingKey: 'S1', cycleCaseId: cycleId });
    expect(open.data.findings[0].itemId).toBeUndefined();
    expect(await h.sql("select 1 from tasks where case_id = $1 and kind = 'rectification'", [caseId])).toEqual([]);

    // The audit ends when its cycle does, however it ends (here: stopped by an operator, recorded on the audit).
    await h.temporal.workflow.getHandle(cycleId).terminate('test: the cycle ends');
    expect(await h.temporal.workflow.getHandle(caseId).result()).toEqual({ outcome: 'resolved', itemIds: [] });
    const closed = await caseRow(caseId);
    expect(closed).toMatchObject({ status: 'closed', outcome: 'resolved' });
    const [event] = await h.sql("select payload from audit_events where case_id = $1 and action = 'case.closed'", [
      caseId,
    ]);
    expect(event.payload.cycles).toEqual([cycleId]);
  });

  it('an unanswered finding is reminded, escalated and marked overdue, and stays owed', async () => {
    const body = audit({
      type: 'security',
      timings: { response: { remindAfter: '1s', escalateAfter: '2s', expireAfter: '3s' } },
    });
    const { caseId, checklist } = await start(body);
    const key = body.auditKey;
    const proof = await upload(caseId, 'log review');
    const results = checklist.map((i) => ({ itemId: i.id, result: 'fail', evidenceIds: [proof] }));
    expect((await step(key, 'fieldwork', { results })).status).toBe(200);
    const findings = checklist.map((i, n) => ({
      findingKey: `L${n}`,
      title: `Gap in ${i.id}`,
      severity: 'low',
      criterion: 'e-commerce manual §2.4',
      rootCause: 'No review routine',
      ownerId: 'owner',
      checklistItemId: i.id,
    }));
    expect((await step(key, 'findings', { findings })).status).toBe(200);
    const taskId = `${caseId}:response:L0`;
    await eventually(
      async () => (await h.sql('select status from tasks where id = $1', [taskId]))[0]?.status === 'overdue',
    );
    const actions = (await h.sql('select action from audit_events where task_id = $1 order by seq', [taskId])).map(
      (r) => r.action,
    );
    expect(actions).toEqual(expect.arrayContaining(['task.reminded', 'task.escalated', 'task.overdue']));
    const [escalated] = await h.sql('select escalated_to from tasks where id = $1', [taskId]);
    expect(escalated.escalated_to).toBe('manager');
    // Overdue, still owed: the owner can still answer.
    const late = await step(
      key,
      'responses',
      { findingKey: 'L0', response: 'dispute', reason: 'Reviewed weekly' },
      'owner',
    );
    expect(late.status, JSON.stringify(late.body)).toBe(200);
    await eventually(
      async () => (await h.sql('select status from tasks where id = $1', [taskId]))[0]?.status === 'done',
    );
  });
});

it('documents every audit route in the OpenAPI document', async () => {
  const doc = await h.api('GET', '/openapi.json');
  expect(doc.status).toBe(200);
  expect(Object.keys(doc.body.paths)).toEqual(
    expect.arrayContaining([
      '/api/audits',
      '/api/audits/{auditKey}/fieldwork',
      '/api/audits/{auditKey}/findings',
      '/api/audits/{auditKey}/responses',
      '/api/audit-plans',
      '/api/audit-plans/{year}',
      '/api/audit-plans/{year}/audits',
    ]),
  );
});

describe('annual audit plan', () => {
  const plan = (year: number, over: Array<Record<string, unknown>> = []) => ({
    year,
    audits: [
      {
        auditKey: `DS-${year}`,
        type: 'data_security',
        title: 'Data-security compliance check',
        plannedFor: `${year}-06`,
      },
      { auditKey: `CA-${year}`, type: 'compliance', title: 'Compliance audit', plannedFor: `${year}-09` },
      ...over,
    ],
  });
  const planEvents = async () => h.sql("select 1 from audit_events where action = 'audit_plan.created'");

  it('refuses a plan without the data-security compliance check, and anyone but internal audit', async () => {
    const events = (await planEvents()).length;
    const res = await h.api('POST', '/api/audit-plans', {
      as: 'internalAudit',
      json: {
        year: 2031,
        audits: [{ auditKey: 'IA-2031', type: 'internal', title: 'Internal audit', plannedFor: '2031-03' }],
      },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.reason).toBe('DATA_SECURITY_CHECK_REQUIRED');
    expect(res.body.error.message).toMatch(/e-commerce manual §2\.1/);
    for (const as of ['manager', 'approver2', 'auditor', 'admin'] as const) {
      const r = await h.api('POST', '/api/audit-plans', { as, json: plan(2031) });
      expect(r.status, as).toBe(403);
    }
    const outside = await h.api('POST', '/api/audit-plans', {
      as: 'internalAudit',
      json: plan(2031, [{ auditKey: 'X-2031', type: 'internal', title: 'Late', plannedFor: '2032-01' }]),
    });
    expect(outside.status).toBe(400);
    expect(await h.sql('select 1 from audit_plan_entries where year = 2031')).toEqual([]);
    expect((await planEvents()).length).toBe(events);
    expect((await h.api('GET', '/api/audit-plans/2031', { as: 'internalAudit' })).status).toBe(404);
  });

  it('records the plan once and shows each planned audit with its case status', async () => {
    const created = await h.api('POST', '/api/audit-plans', { as: 'internalAudit', json: plan(2030) });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toEqual({ year: 2030, audits: 2 });
    const again = await h.api('POST', '/api/audit-plans', { as: 'internalAudit', json: plan(2030) });
    expect(again.status).toBe(409);
    expect(again.body.error.reason).toBe('AUDIT_PLAN_EXISTS');
    expect((await h.sql('select 1 from audit_plan_entries where year = 2030')).length).toBe(2);

    await start(audit({ auditKey: 'DS-2030' }));
    const view = await h.api('GET', '/api/audit-plans/2030', { as: 'auditor' });
    expect(view.status).toBe(200);
    expect(view.body.audits).toEqual([
      expect.objectContaining({ auditKey: 'DS-2030', caseId: 'audit:DS-2030', status: 'open', stage: 'fieldwork' }),
      expect.objectContaining({ auditKey: 'CA-2030', status: 'not_started', stage: null }),
    ]);
    expect(view.body.dataSecurityCheck.planned).toEqual(['DS-2030']);
    expect((await h.api('GET', '/api/audit-plans/2030', { as: 'owner' })).status).toBe(403);
  });

  it('a Schedule opens each coming year’s plan with the data-security check, unless internal audit planned it', async () => {
    // Made by the first audit case (above): each 1 December, a policy default.
    const schedule = await h.temporal.schedule.getHandle('audit-plan-annual').describe();
    expect(schedule.action).toMatchObject({ type: 'startWorkflow', workflowType: 'auditPlanLauncherWorkflow' });
    expect(schedule.spec.calendars?.[0]).toMatchObject({ dayOfMonth: [{ start: 1, end: 1, step: 1 }] });
    expect(JSON.stringify(schedule.spec.calendars?.[0]?.month)).toMatch(/DECEMBER/);
    const launch = (year: number) =>
      h.temporal.workflow.execute('auditPlanLauncherWorkflow', {
        taskQueue: h.taskQueue,
        workflowId: h.unique('audit-plan-launcher-test'),
        args: [{ year }],
      });
    const opened = await launch(2034);
    expect(opened).toEqual({
      opened: true,
      year: 2034,
      audits: [
        {
          auditKey: 'DS-2034',
          type: 'data_security',
          title: 'Data-security compliance check (数据安全合规性检查) 2034',
          plannedFor: '2034-01',
        },
      ],
    });
    const view = await h.api('GET', '/api/audit-plans/2034', { as: 'auditor' });
    expect(view.status, JSON.stringify(view.body)).toBe(200);
    expect(view.body.dataSecurityCheck.planned).toEqual(['DS-2034']);
    expect(view.body.audits).toEqual([expect.objectContaining({ auditKey: 'DS-2034', status: 'not_started' })]);
    const [event] = await h.sql(
      "select actor_id, reason from audit_events where action = 'audit_plan.created' and payload->>'year' = '2034'",
    );
    expect(event.actor_id).toBe('system');
    expect(event.reason).toMatch(/e-commerce manual §2\.1/);
    // Once: a second run, and a year internal audit planned, are left as they are.
    expect(await launch(2034)).toEqual({ opened: false, year: 2034, reason: 'already_planned', audits: 1 });
    expect(await launch(2030)).toEqual({ opened: false, year: 2030, reason: 'already_planned', audits: 2 });
    expect((await h.sql('select 1 from audit_plan_entries where year = 2030')).length).toBe(2);
    // Internal audit records no second plan over the one the Schedule opened: it adds its audits to it
    // (tests/integration/auditPlanAdd.test.ts), and the Schedule's check stays planned.
    const second = await h.api('POST', '/api/audit-plans', { as: 'internalAudit', json: plan(2034) });
    expect(second.status).toBe(409);
    expect(second.body.error.reason).toBe('AUDIT_PLAN_EXISTS');
    expect(second.body.error.message).toContain('POST /api/audit-plans/2034/audits');
    const added = await h.api('POST', '/api/audit-plans/2034/audits', {
      as: 'internalAudit',
      json: { audits: plan(2034).audits },
    });
    expect(added.status, JSON.stringify(added.body)).toBe(200);
    expect(added.body).toEqual({ year: 2034, added: ['CA-2034'], alreadyPlanned: ['DS-2034'], audits: 2 });
    expect(await launch(2034)).toEqual({ opened: false, year: 2034, reason: 'already_planned', audits: 2 });
    // Auditors find the launcher's run by the year in Temporal UI.
    const query = `WorkflowType = 'auditPlanLauncherWorkflow' AND ${GovPeriod.name} = '2034'`;
    await eventually(async () => {
      const found: string[] = [];
      for await (const run of h.temporal.workflow.list({ query })) found.push(run.workflowId);
      return found.length === 3;
    });
  });
});

describe('the audit programme under a changed policy', () => {
  it('a plan holds as many data-security checks as audit.dataSecurityCheckMonths asks, and responses fall due within audit.findingResponseWithin', async () => {
    const requested = await h.api('POST', '/api/policy/changes', {
      as: 'approver2',
      json: {
        changeKey: h.unique('POL'),
        summary: 'Data-security check every six months; findings answered within a week',
        change: { audit: { dataSecurityCheckMonths: 6, findingResponseWithin: '7d' } },
      },
    });
    expect(requested.status, JSON.stringify(requested.body)).toBe(201);
    const taskId = `${requested.body.caseId}:approval`;
    for (const as of ['approver', 'legal'] as const) {
      const res = await h.api('POST', `/api/tasks/${enc(taskId)}/decision`, { as, json: { decision: 'approve' } });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
    expect(await h.temporal.workflow.getHandle(requested.body.caseId).result()).toMatchObject({ outcome: 'approved' });

    const ds = (n: number) => ({
      auditKey: `DS${n}-2029`,
      type: 'data_security',
      title: `Data-security check ${n}`,
      plannedFor: n === 1 ? '2029-03' : '2029-09',
    });
    const one = await h.api('POST', '/api/audit-plans', { as: 'internalAudit', json: { year: 2029, audits: [ds(1)] } });
    expect(one.status).toBe(422);
    expect(one.body.error).toMatchObject({ reason: 'DATA_SECURITY_CHECK_REQUIRED' });
    expect(one.body.error.message).toMatch(/2 data-security compliance checks.*every 6 months/);
    expect(await h.sql('select 1 from audit_plan_entries where year = 2029')).toEqual([]);
    const two = await h.api('POST', '/api/audit-plans', {
      as: 'internalAudit',
      json: { year: 2029, audits: [ds(1), ds(2)] },
    });
    expect(two.status, JSON.stringify(two.body)).toBe(201);
    // The Schedule's plan follows the policy too: a check in each half-year.
    const scheduled = await h.temporal.workflow.execute('auditPlanLauncherWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: h.unique('audit-plan-launcher-test'),
      args: [{ year: 2033 }],
    });
    expect(scheduled).toMatchObject({ opened: true, year: 2033 });
    expect(
      (scheduled as { audits: Array<{ auditKey: string; plannedFor: string }> }).audits.map((a) => [
        a.auditKey,
        a.plannedFor,
      ]),
    ).toEqual([
      ['DS-2033-1', '2033-01'],
      ['DS-2033-2', '2033-07'],
    ]);

    const body = audit({ type: 'security' });
    const { caseId, checklist } = await start(body);
    const [row] = await h.sql('select policy_version from cases where id = $1', [caseId]);
    expect(row.policy_version).toBe(2);
    const results = checklist.map((i) => ({ itemId: i.id, result: 'not_applicable' }));
    expect((await step(body.auditKey, 'fieldwork', { results })).status).toBe(200);
    const finding = {
      findingKey: 'W1',
      title: 'Operation records incomplete',
      severity: 'high',
      criterion: 'e-commerce manual §2.4',
      rootCause: 'Logging disabled on one cluster',
      ownerId: 'owner',
    };
    expect((await step(body.auditKey, 'findings', { findings: [finding] })).status).toBe(200);
    const [task] = await h.sql('select due_at, created_at from tasks where id = $1', [`${caseId}:response:W1`]);
    const dueIn = task.due_at.getTime() - task.created_at.getTime();
    expect(dueIn).toBeGreaterThan(7 * 86_400_000 - 60_000);
    expect(dueIn).toBeLessThan(7 * 86_400_000 + 60_000);
  });
});
