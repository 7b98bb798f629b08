/**
 * Issue 11 §5, controls on incidents nobody can bypass, on the real Temporal
 * dev server and PostgreSQL: a downgrade is a request someone else approves;
 * the notices a grade made due stay due; every grade ends with a follow-up
 * evaluation (short at grade IV); a missed regulator notice escalates and
 * stays on record; close-out approvers exclude everyone who prepared the
 * work; the policy sets the thresholds and clocks, and per-case timings are
 * refused unless the deployment allows them.
 *
 * Every refusal is checked three ways: the status and reason, no new event in
 * the workflow's history, and nothing written to PostgreSQL.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { DEFAULT_POLICY, type PolicyValues } from '../../domain/policy';
import type { incidentWorkflow } from '../../workflows/incident';
import { GovGrade } from '../../workflows/searchAttributes';
import { createDriver, creditCodes } from '../support/drive';
import { eventually, useHarness, type TestUser } from '../support/harness';
import { saveHistoryFixture } from '../support/histories';
import { replayDataConverter } from '../support/codecKeys';

const h = useHarness('incident_controls');

const running = new Set<string>();
afterAll(async () => {
  for (const caseId of running)
    await h.temporal.workflow
      .getHandle(caseId)
      .terminate('test done')
      .catch(() => undefined);
});

const IMPACT = {
  II: { affectedUsers: 150_000, amountCny: 0 },
  III: { affectedUsers: 20_000, amountCny: 0 },
  IV: { affectedUsers: 50, amountCny: 0 },
} as const;

const post = (path: string, as: TestUser, json: unknown) => h.api('POST', path, { as, json });
const caseRow = async (caseId: string) => (await h.sql('select * from cases where id = $1', [caseId]))[0];
const taskRow = async (taskId: string) => (await h.sql('select * from tasks where id = $1', [taskId]))[0];
const step = (incidentId: string, path: string, as: TestUser, json: unknown = {}) =>
  post(`/api/incidents/${incidentId}/${path}`, as, json);
const decide = (taskId: string, as: TestUser, json: unknown) =>
  post(`/api/tasks/${encodeURIComponent(taskId)}/decision`, as, json);

async function report(json: Record<string, unknown>, as: TestUser = 'manager') {
  const incidentId = h.unique('INC');
  const res = await post('/api/incidents', as, {
    incidentId,
    title: 'Settlement service degraded',
    category: 'system_failure',
    system: h.unique('settlement'),
    occurredAt: new Date(Date.now() - 60_000).toISOString(),
    ...json,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  running.add(res.body.caseId);
  return { incidentId, caseId: res.body.caseId as string, grade: res.body.grade as string };
}

async function ok(res: Promise<{ status: number; body: any }>) {
  const answer = await res;
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body;
}

async function notify(incidentId: string, audiences: readonly string[], as: TestUser = 'manager') {
  for (const audience of audiences) {
    await ok(
      step(incidentId, 'notifications', as, {
        audience,
        notifiedAt: new Date().toISOString(),
        summary: `told ${audience}`,
      }),
    );
  }
}

/**
 * What a refusal must leave as it was: the workflow's history, the case row,
 * its audit trail and its tasks.
 */
async function footprint(caseId: string) {
  const history = await h.temporal.workflow.getHandle(caseId).fetchHistory();
  const [row] = await h.sql('select stage, status, data, risk_level, updated_at from cases where id = $1', [caseId]);
  const audits = await h.sql('select seq from audit_events where case_id = $1 order by seq', [caseId]);
  const taskRows = await h.sql(
    'select id, status, votes, decided_by, excluded_user_ids from tasks where case_id = $1 order by id',
    [caseId],
  );
  return { events: history.events?.length ?? 0, row, audits: audits.length, tasks: taskRows };
}

/** Sends a call that must be refused, and checks it left no trace. */
async function expectRefused(
  caseId: string,
  call: () => Promise<{ status: number; body: any }>,
  expected: { status: number; reason: string },
) {
  const before = await footprint(caseId);
  const res = await call();
  expect(res.status, JSON.stringify(res.body)).toBe(expected.status);
  expect(res.body.error.reason).toBe(expected.reason);
  expect(await footprint(caseId)).toEqual(before);
  return res.body.error;
}

/** The case's history so far replays with the current code: the new paths are deterministic. */
async function expectReplays(caseId: string) {
  const history = await h.temporal.workflow.getHandle(caseId).fetchHistory();
  await Worker.runReplayHistory(
    { workflowBundle: { codePath: inject('workflowBundlePath') }, dataConverter: replayDataConverter },
    history,
    caseId,
  );
}

const actions = async (caseId: string, action: string) =>
  h.sql('select actor_id, reason, payload from audit_events where case_id = $1 and action = $2 order by seq', [
    caseId,
    action,
  ]);

describe('downgrades', () => {
  it('are requests: the grade changes only once approvers other than the owner, reporter and requester agree', async () => {
    // Reported by mgr, owned by lead (a manager who is also a risk officer).
    const { incidentId, caseId } = await report({ impact: IMPACT.II, ownerId: 'lead' });
    await ok(step(incidentId, 'acknowledge', 'lead'));

    const requested = await ok(
      step(incidentId, 'regrade', 'manager', { grade: 'IV', reason: 'Recount: 900 users affected, not 150,000' }),
    );
    const taskId = `${caseId}:downgrade-1`;
    expect(requested).toEqual({ stage: 'handling', grade: 'II', downgradeTaskId: taskId });
    // Nothing lowered yet: the grade, its risk and its plan stand until the decision.
    const pending = await caseRow(caseId);
    expect(pending).toMatchObject({ risk_level: 'high' });
    expect(pending.data).toMatchObject({
      grade: 'II',
      pendingDowngrade: { taskId, from: 'II', to: 'IV', requestedBy: 'mgr' },
    });
    expect(pending.data.gradeHistory).toHaveLength(1);
    const [audit] = await actions(caseId, 'incident.downgrade_requested');
    expect(audit).toMatchObject({ actor_id: 'mgr', reason: 'Recount: 900 users affected, not 150,000' });
    // The approval task can be acted on the moment the regrade answers.
    const task = await taskRow(taskId);
    expect(task).toMatchObject({ kind: 'approval', status: 'open', approvals_required: 2 });
    expect(task.candidate_roles).toEqual(['risk', 'compliance', 'legal']);
    expect(task.excluded_user_ids).toEqual(expect.arrayContaining(['lead', 'mgr']));
    expect(task.allowed_decisions).toEqual(['approve', 'reject']);

    // The owner, a risk officer, may not approve it.
    const sod = await expectRefused(caseId, () => decide(taskId, 'lead', { decision: 'approve' }), {
      status: 422,
      reason: 'SEGREGATION_OF_DUTIES',
    });
    expect(sod.message).toMatch(/segregation of duties/);
    // One downgrade at a time.
    const second = await expectRefused(
      caseId,
      () => step(incidentId, 'regrade', 'lead', { grade: 'III', reason: 'Maybe III after all' }),
      { status: 409, reason: 'DOWNGRADE_PENDING' },
    );
    expect(second.details).toMatchObject({ taskId, from: 'II', to: 'IV', requestedBy: 'mgr' });

    // Grade II is high risk: two approvers of two functions.
    expect((await decide(taskId, 'approver', { decision: 'approve' })).body.status).toBe('open');
    expect((await caseRow(caseId)).data.grade).toBe('II');
    expect((await decide(taskId, 'approver2', { decision: 'approve' })).body.status).toBe('approved');

    const after = await caseRow(caseId);
    expect(after.risk_level).toBe('low');
    expect(after.data.grade).toBe('IV');
    expect(after.data.pendingDowngrade).toBeNull();
    expect(after.data.downgrades).toEqual([
      expect.objectContaining({ taskId, outcome: 'approved', decidedBy: ['appr1', 'appr2'] }),
    ]);
    expect(after.data.gradeHistory.at(-1)).toMatchObject({
      grade: 'IV',
      by: 'mgr',
      reason: 'Recount: 900 users affected, not 150,000',
      approvedBy: ['appr1', 'appr2'],
    });
    const [regraded] = await actions(caseId, 'incident.regraded');
    expect(regraded).toMatchObject({ actor_id: 'appr2' });
    expect((await h.temporal.workflow.getHandle(caseId).describe()).typedSearchAttributes.get(GovGrade)).toBe('IV');

    // The notices grade II made due stay due, and are shown as such.
    expect(after.data.highestGrade).toBe('II');
    expect(after.data.plan).toMatchObject({
      grade: 'IV',
      mustNotify: ['management', 'regulator', 'affected_users'],
      noticesKeptFrom: 'II',
      notifyRegulatorWithin: '4h',
      evaluation: 'short',
      closeOutApprovers: 1,
    });
    expect(after.data.regulatorNotice).toMatchObject({ grade: 'II', within: '4h', notifiedAt: null, missedAt: null });
    const early = await expectRefused(caseId, () => step(incidentId, 'stabilise', 'lead', { summary: 'Recovered' }), {
      status: 422,
      reason: 'NOTIFICATION_MISSING',
    });
    expect(early.message).toBe('a grade IV incident must first notify: management, regulator, affected_users');
    await notify(incidentId, ['management', 'regulator', 'affected_users'], 'lead');
    await ok(step(incidentId, 'stabilise', 'lead', { summary: 'Recovered' }));

    const shown = await h.api('GET', `/api/incidents/${incidentId}/report`, { as: 'auditor' });
    expect(shown.body.data.plan.noticesKeptFrom).toBe('II');
    expect(shown.body.data.downgrades[0]).toMatchObject({ from: 'II', to: 'IV', outcome: 'approved' });
    expect(shown.body.approvals.map((t: { id: string }) => t.id)).toContain(taskId);
    const page = await (
      await h.app.request(`/api/incidents/${incidentId}/report.html`, {
        headers: { authorization: `Bearer ${h.tokens.auditor}` },
      })
    ).text();
    expect(page).toContain('Notices due since grade II stay due');
    expect(page).toContain('降级申请');
    await expectReplays(caseId);
    await saveHistoryFixture(h, caseId, 'incident-downgrade-approved');
  });

  it('the requester may not approve it; a rejection needs its reason and keeps the grade; an upgrade is immediate', async () => {
    const { incidentId, caseId } = await report({ impact: IMPACT.III });
    await ok(step(incidentId, 'acknowledge', 'manager'));
    // lead (manager and risk officer) asks: it is neither owner nor reporter, but it requested.
    const { downgradeTaskId: taskId } = await ok(
      step(incidentId, 'regrade', 'lead', { grade: 'IV', reason: 'Fewer users than reported' }),
    );
    expect((await taskRow(taskId)).approvals_required).toBe(1);
    await expectRefused(caseId, () => decide(taskId, 'lead', { decision: 'approve' }), {
      status: 422,
      reason: 'SEGREGATION_OF_DUTIES',
    });
    await expectRefused(caseId, () => decide(taskId, 'risk2', { decision: 'reject' }), {
      status: 422,
      reason: 'INVALID_DECISION',
    });
    const rejected = await decide(taskId, 'risk2', { decision: 'reject', comment: 'The count is not verified yet' });
    expect(rejected.body.status).toBe('rejected');
    const row = await caseRow(caseId);
    expect(row.data).toMatchObject({ grade: 'III', pendingDowngrade: null });
    expect(row.data.downgrades).toEqual([expect.objectContaining({ outcome: 'rejected', decidedBy: ['risk2'] })]);
    expect(row.data.gradeHistory).toHaveLength(1);
    expect(await actions(caseId, 'incident.downgrade_refused')).toEqual([
      expect.objectContaining({ actor_id: 'risk2', reason: 'The count is not verified yet' }),
    ]);

    // Upwards is at once: no task, the plan follows.
    const tasksBefore = await h.sql('select id from tasks where case_id = $1', [caseId]);
    const up = await ok(step(incidentId, 'regrade', 'lead', { grade: 'II', reason: 'Regulator enquiry received' }));
    expect(up).toEqual({ stage: 'handling', grade: 'II' });
    expect(await h.sql('select id from tasks where case_id = $1', [caseId])).toEqual(tasksBefore);
    expect((await caseRow(caseId)).data.plan).toMatchObject({ grade: 'II', closeOutApprovers: 2 });

    // An upgrade is not held up by a pending downgrade, and makes it moot: approved later, it changes nothing.
    const { downgradeTaskId: second } = await ok(
      step(incidentId, 'regrade', 'lead', { grade: 'IV', reason: 'Enquiry withdrawn' }),
    );
    expect(second).toBe(`${caseId}:downgrade-2`);
    expect(await ok(step(incidentId, 'regrade', 'manager', { grade: 'I', reason: 'Two million users now' }))).toEqual({
      stage: 'handling',
      grade: 'I',
    });
    expect((await decide(second, 'approver', { decision: 'approve' })).body.status).toBe('open');
    expect((await decide(second, 'approver2', { decision: 'approve' })).body.status).toBe('approved');
    const moot = await caseRow(caseId);
    expect(moot.data.grade).toBe('I');
    expect(moot.data.downgrades.at(-1)).toMatchObject({ from: 'II', to: 'IV', outcome: 'superseded' });
    expect(await actions(caseId, 'incident.downgrade_superseded')).toEqual([
      expect.objectContaining({ actor_id: 'appr2', reason: expect.stringMatching(/grade changed to I/) }),
    ]);
    await expectReplays(caseId);
  });
});

describe('follow-up evaluation', () => {
  it('ends every grade: short at grade IV, with the root cause from grade III', async () => {
    const { incidentId, caseId } = await report({ impact: IMPACT.IV });
    await ok(step(incidentId, 'acknowledge', 'manager'));
    await ok(step(incidentId, 'stabilise', 'manager', { summary: 'Rolled back' }));
    await eventually(async () => (await caseRow(caseId)).stage === 'evaluation');

    const refused = await expectRefused(caseId, () => step(incidentId, 'close-out', 'manager'), {
      status: 422,
      reason: 'CLOSE_OUT_REFUSED',
    });
    expect(refused.message).toBe(
      'closing is refused: A grade IV incident requires a short follow-up evaluation (a summary and the lessons), and none is recorded.',
    );
    expect(refused.details).toEqual({ problems: [refused.message.replace('closing is refused: ', '')], openItems: [] });

    const empty = await expectRefused(
      caseId,
      () => step(incidentId, 'evaluation', 'manager', { lessons: 'Stage config pushes' }),
      { status: 422, reason: 'EVALUATION_INCOMPLETE' },
    );
    expect(empty.details).toEqual({ missing: ['summary'], evaluation: 'short', grade: 'IV' });

    await ok(
      step(incidentId, 'evaluation', 'manager', {
        summary: 'A config push broke logins for ten minutes',
        lessons: 'Stage config pushes',
      }),
    );
    expect((await caseRow(caseId)).data.evaluation).toMatchObject({
      depth: 'short',
      summary: 'A config push broke logins for ten minutes',
      rootCause: null,
      by: 'mgr',
    });
    expect((await ok(step(incidentId, 'close-out', 'manager'))).stage).toBe('awaiting_approval');
    expect((await decide(`${caseId}:close-out-1`, 'approver', { decision: 'approve' })).body.status).toBe('approved');
    expect(await caseRow(caseId)).toMatchObject({ status: 'closed', outcome: 'closed_out' });
    running.delete(caseId);

    // Grade III: a summary is not a root cause.
    const serious = await report({ impact: IMPACT.III });
    await ok(step(serious.incidentId, 'acknowledge', 'manager'));
    await notify(serious.incidentId, ['management']);
    await ok(step(serious.incidentId, 'stabilise', 'manager', { summary: 'Rolled back' }));
    const shallow = await expectRefused(
      serious.caseId,
      () => step(serious.incidentId, 'evaluation', 'manager', { summary: 'It broke', lessons: 'Test more' }),
      { status: 422, reason: 'EVALUATION_INCOMPLETE' },
    );
    expect(shallow.message).toMatch(/grade III incident needs a full follow-up evaluation.*rootCause is missing/);
    expect(shallow.details.missing).toEqual(['rootCause']);
    await ok(step(serious.incidentId, 'evaluation', 'manager', { rootCause: 'Pool exhausted', lessons: 'Load-test' }));
    expect((await caseRow(serious.caseId)).data.evaluation).toMatchObject({
      depth: 'full',
      rootCause: 'Pool exhausted',
    });
  });

  it('the shared builder takes an incident to evaluated, from which its close-out may be requested', async () => {
    const drive = createDriver(h, {
      label: 'Incident controls',
      creditCode: creditCodes('91440300MA4'),
      started: (_kind, id) => running.add(id),
    });
    for (const grade of ['IV', 'III'] as const) {
      const target = await drive.incidentAt('evaluated', grade);
      expect((await caseRow(target.caseId)).data.evaluation).toMatchObject({
        depth: grade === 'IV' ? 'short' : 'full',
        by: 'mgr',
      });
      expect(await ok(step(target.incidentId, 'close-out', 'manager'))).toEqual({
        stage: 'awaiting_approval',
        grade,
      });
    }
  });
});

describe('the regulator notice', () => {
  it('missed, escalates one role up and stays on record with how late, even once made', async () => {
    const { incidentId, caseId } = await report({ impact: IMPACT.II, timings: { notifyRegulatorWithin: '2s' } });
    await ok(step(incidentId, 'acknowledge', 'manager'));
    const missed = await eventually(async () => {
      const notice = (await caseRow(caseId)).data.regulatorNotice;
      return notice?.missedAt ? notice : null;
    }, 20_000);
    expect(missed).toMatchObject({ grade: 'II', within: '2s', escalatedTo: 'admin', notifiedAt: null });
    const notes = await h.sql(
      `select recipient_role, message from notifications where case_id = $1 and message like 'Regulator notice missed%'`,
      [caseId],
    );
    expect(notes).toEqual([
      { recipient_role: 'admin', message: expect.stringContaining(`within 2s, by ${missed.dueAt}`) },
    ]);
    expect(await actions(caseId, 'incident.regulator_notice_missed')).toEqual([
      expect.objectContaining({ actor_id: 'system', payload: expect.objectContaining({ escalatedTo: 'admin' }) }),
    ]);

    // Made late: the miss stays, with how late.
    await new Promise((r) => setTimeout(r, 1_100));
    const notifiedAt = new Date().toISOString();
    await ok(step(incidentId, 'notifications', 'manager', { audience: 'regulator', notifiedAt, summary: 'Filed' }));
    const notice = (await caseRow(caseId)).data.regulatorNotice;
    const late = Math.ceil((Date.parse(notifiedAt) - Date.parse(missed.dueAt)) / 60_000);
    expect(late).toBeGreaterThanOrEqual(1);
    expect(notice).toMatchObject({ missedAt: missed.missedAt, notifiedAt, lateMinutes: late });
    const [notified] = await actions(caseId, 'incident.notified');
    expect(notified.payload).toMatchObject({ audience: 'regulator', lateMinutes: late });

    const shown = await h.api('GET', `/api/incidents/${incidentId}/report`, { as: 'auditor' });
    expect(shown.body.responseTimes.find((t: { step: string }) => t.step === 'notify_regulator')).toEqual({
      step: 'notify_regulator',
      deadline: '2s',
      dueAt: missed.dueAt,
      doneAt: notifiedAt,
      minutes: expect.any(Number),
      met: false,
      missedAt: missed.missedAt,
      lateMinutes: late,
      escalatedTo: 'admin',
    });
    const page = await (
      await h.app.request(`/api/incidents/${incidentId}/report.html`, {
        headers: { authorization: `Bearer ${h.tokens.auditor}` },
      })
    ).text();
    expect(page).toContain(
      `MISSED · 超时 (deadline passed ${missed.missedAt}, escalated to admin; made ${late} min late)`,
    );
    await expectReplays(caseId);
    await saveHistoryFixture(h, caseId, 'incident-regulator-notice-missed');
  });

  it('made in time, nothing escalates and the report shows it met', async () => {
    const { incidentId, caseId } = await report({ impact: IMPACT.II, timings: { notifyRegulatorWithin: '3s' } });
    await ok(step(incidentId, 'acknowledge', 'manager'));
    await notify(incidentId, ['regulator']);
    // Past the deadline: the clock stopped at the notice.
    await new Promise((r) => setTimeout(r, 4_000));
    const notice = (await caseRow(caseId)).data.regulatorNotice;
    expect(notice).toMatchObject({ missedAt: null, escalatedTo: null, lateMinutes: 0 });
    expect(await actions(caseId, 'incident.regulator_notice_missed')).toEqual([]);
    expect(
      await h.sql(`select 1 from notifications where case_id = $1 and message like 'Regulator notice missed%'`, [
        caseId,
      ]),
    ).toEqual([]);
    const shown = await h.api('GET', `/api/incidents/${incidentId}/report`, { as: 'auditor' });
    expect(shown.body.responseTimes.find((t: { step: string }) => t.step === 'notify_regulator')).toMatchObject({
      met: true,
      missedAt: null,
      lateMinutes: 0,
    });
  });
});

describe('close-out', () => {
  it('excludes the owner, the reporter, the requester, every step-taker and the items’ owners; a refusal names the open items', async () => {
    const { incidentId, caseId } = await report({ impact: IMPACT.III });
    await ok(step(incidentId, 'acknowledge', 'manager'));
    await notify(incidentId, ['management']);
    await ok(step(incidentId, 'stabilise', 'manager', { summary: 'Rolled back' }));
    await eventually(async () => (await caseRow(caseId)).stage === 'evaluation');
    // The compliance officer appr2 owns the rectification item.
    await ok(
      step(incidentId, 'evaluation', 'manager', {
        rootCause: 'A release skipped the canary stage',
        lessons: 'Canary every release',
        rectificationItems: [{ title: 'Add canary stage', ownerId: 'appr2' }],
      }),
    );
    const itemId = `${caseId}:rectification:1`;

    const refused = await expectRefused(caseId, () => step(incidentId, 'close-out', 'lead'), {
      status: 422,
      reason: 'CLOSE_OUT_REFUSED',
    });
    expect(refused.details).toEqual({
      problems: [`1 rectification item is still open: ${itemId} "Add canary stage".`],
      openItems: [{ id: itemId, title: 'Add canary stage' }],
    });

    const form = new FormData();
    form.append('file', new File([Buffer.from('canary stage in the pipeline')], 'pipeline.yml'));
    const proof = await h.api('POST', `/api/cases/${encodeURIComponent(caseId)}/evidence`, {
      as: 'approver2',
      body: form,
    });
    expect(proof.status, JSON.stringify(proof.body)).toBe(201);
    await ok(
      post(`/api/tasks/${encodeURIComponent(itemId)}/submission`, 'approver2', { evidenceIds: [proof.body.id] }),
    );
    await ok(post(`/api/tasks/${encodeURIComponent(itemId)}/verification`, 'internalAudit', { verdict: 'accept' }));

    // lead (manager and risk officer) requests it, so may not approve it.
    await eventually(async () => (await step(incidentId, 'close-out', 'lead')).status === 200, 10_000);
    const taskId = `${caseId}:close-out-1`;
    const task = await eventually(async () => taskRow(taskId));
    expect(task.excluded_user_ids).toEqual(expect.arrayContaining(['mgr', 'lead', 'appr2']));
    for (const who of ['approver2', 'lead'] as const) {
      await expectRefused(caseId, () => decide(taskId, who, { decision: 'approve' }), {
        status: 422,
        reason: 'SEGREGATION_OF_DUTIES',
      });
    }
    expect((await decide(taskId, 'approver', { decision: 'approve' })).body.status).toBe('approved');
    const result = await h.temporal.workflow.getHandle<typeof incidentWorkflow>(caseId).result();
    expect(result).toMatchObject({ grade: 'III', rectifications: 1, closeOutAttempts: 1 });
    running.delete(caseId);
    await expectReplays(caseId);
    await saveHistoryFixture(h, caseId, 'incident-close-out-items-owner-excluded');
  });
});

describe('policy', () => {
  it('sets the grade thresholds, the clocks and the repeat window; the case records its version', async () => {
    const values: PolicyValues = structuredClone(DEFAULT_POLICY);
    values.incident.gradeThresholds.affectedUsers = { I: 100_000, II: 10_000, III: 1_000 };
    values.incident.acknowledgeWithin.III = '90m';
    values.incident.stabiliseWithin.III = '36h';
    values.incident.repeatWindowDays = 1;
    const changeCaseId = h.unique('policy-change');
    await h.sql(
      `insert into policy_versions (version, values, changed, summary, requested_by, approved_by, change_case_id, effective_at)
       values (2, $1, $2, 'Stricter incident grading', 'compliance1', '{risk1,legal1}', $3, now())`,
      [
        JSON.stringify(values),
        [
          'incident.gradeThresholds.affectedUsers',
          'incident.acknowledgeWithin.III',
          'incident.stabiliseWithin.III',
          'incident.repeatWindowDays',
        ],
        changeCaseId,
      ],
    );
    try {
      const suggestion = await post('/api/incidents/grade-suggestion', 'manager', {
        category: 'system_failure',
        impact: { affectedUsers: 5_000, amountCny: 0 },
      });
      expect(suggestion.body).toEqual({
        grade: 'III',
        reasons: ['5,000 users affected reaches the grade III threshold of 1,000.'],
      });

      const system = h.unique('ledger');
      const earlier = await report({
        system,
        impact: { affectedUsers: 5, amountCny: 0 },
        occurredAt: new Date(Date.now() - 3 * 86_400_000).toISOString(),
      });
      const reported = await report({ system, impact: { affectedUsers: 5_000, amountCny: 0 } });
      expect(reported.grade).toBe('III');
      const row = await caseRow(reported.caseId);
      expect(row.policy_version).toBe(2);
      expect(row.data.policyVersion).toBe(2);
      expect(row.data.plan).toMatchObject({ acknowledgeWithin: '90m', stabiliseWithin: '36h' });
      expect(Date.parse(row.due_at) - Date.parse(row.created_at)).toBeGreaterThan(89 * 60_000);
      expect(Date.parse(row.due_at) - Date.parse(row.created_at)).toBeLessThan(91 * 60_000);
      // Three days apart is no repeat in a one-day window (it would be in the default 90 days).
      expect(row.data.repeatOf).toBeNull();
      const again = await report({ system, impact: { affectedUsers: 5, amountCny: 0 } });
      await eventually(async () => (await caseRow(again.caseId)).data.repeatOf === reported.incidentId);
      expect((await caseRow(earlier.caseId)).policy_version).toBe(2);
    } finally {
      await h.sql('delete from policy_versions where version = 2');
    }
    const underDefaults = await report({ impact: { affectedUsers: 5_000, amountCny: 0 } });
    expect(underDefaults.grade).toBe('IV');
    expect((await caseRow(underDefaults.caseId)).policy_version).toBe(1);
  });

  it('refuses per-case timings unless the deployment allows them, starting nothing', async () => {
    const incidentId = h.unique('INC');
    const body = {
      incidentId,
      title: 'Checkout errors',
      category: 'system_failure',
      system: h.unique('checkout'),
      occurredAt: new Date(Date.now() - 60_000).toISOString(),
      impact: IMPACT.II,
      timings: { acknowledgeWithin: '1s', notifyRegulatorWithin: '1s', approval: { expireAfter: '1s' } },
    };
    h.settings.caseTimings = 'locked';
    try {
      const refused = await post('/api/incidents', 'manager', body);
      expect(refused.status).toBe(403);
      expect(refused.body.error.reason).toBe('CASE_TIMINGS_LOCKED');
      expect(refused.body.error.details).toEqual({
        fields: ['timings.acknowledgeWithin', 'timings.notifyRegulatorWithin', 'timings.approval'],
      });
      expect(await caseRow(`incident:${incidentId}`)).toBeUndefined();
      expect(await h.sql('select 1 from audit_events where case_id = $1', [`incident:${incidentId}`])).toEqual([]);
      await expect(h.temporal.workflow.getHandle(`incident:${incidentId}`).describe()).rejects.toBeInstanceOf(
        WorkflowNotFoundError,
      );
      // Without timings the report goes ahead on the policy's clocks.
      const { timings: _timings, ...onPolicy } = body;
      const accepted = await post('/api/incidents', 'manager', onPolicy);
      expect(accepted.status, JSON.stringify(accepted.body)).toBe(201);
      running.add(accepted.body.caseId);
      expect((await caseRow(accepted.body.caseId)).data.plan.acknowledgeWithin).toBe('30m');
    } finally {
      h.settings.caseTimings = 'allow';
    }
    // Where the deployment allows them, they apply.
    const allowed = await report({ impact: IMPACT.II, timings: { notifyRegulatorWithin: '1h' } });
    expect((await caseRow(allowed.caseId)).data.regulatorNotice.within).toBe('1h');
  });
});
