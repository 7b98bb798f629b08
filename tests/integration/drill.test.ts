/**
 * Emergency plans and drills (DOMAIN.md §4) through the API, on the real
 * Temporal dev server and PostgreSQL: plan revision with segregation of
 * duties, the three-year revision clock, a full drill with findings tracked
 * to closure, a failing module forcing a revision, and the annual programme.
 */
import { describe, expect, it } from 'vitest';
import type { drillWorkflow } from '../../workflows/drill';
import { eventually, useHarness, type TestUser } from '../support/harness';
import { saveHistoryFixture } from '../support/histories';
import { expectOverdueStep, expectOwedStep, expectStepDone, SHORT_STEP } from '../support/steps';

const h = useHarness('drill');

const caseRow = async (caseId: string) => (await h.sql('select * from cases where id = $1', [caseId]))[0];
const waitForTask = (taskId: string) =>
  eventually(async () => (await h.sql('select * from tasks where id = $1', [taskId]))[0], 20_000);
const decide = (taskId: string, as: TestUser, json: unknown) =>
  h.api('POST', `/api/tasks/${encodeURIComponent(taskId)}/decision`, { as, json });

async function upload(caseId: string, as: TestUser, content: string) {
  const form = new FormData();
  form.append('file', new File([Buffer.from(content)], 'evidence.txt'));
  const res = await h.api('POST', `/api/cases/${encodeURIComponent(caseId)}/evidence`, { as, body: form });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

/** Registers a plan (by admin, owned by mgr) and publishes v1: draft → review (lead) → approval (approver). */
async function publishedPlan(timings?: Record<string, string>) {
  const planId = h.unique('EP');
  const reg = await h.api('POST', '/api/emergency-plans', {
    as: 'admin',
    json: { planId, title: `Network security plan ${planId}`, type: 'network_security', ownerId: 'mgr', timings },
  });
  expect(reg.status, JSON.stringify(reg.body)).toBe(201);
  const revisionId: string = reg.body.revisionCaseId;
  expect(revisionId).toBe(`plan-revision:${planId}:v1`);
  await eventually(async () => (await caseRow(revisionId))?.stage === 'draft');
  const form = new FormData();
  form.append('file', new File([Buffer.from('plan v1')], 'plan-v1.pdf'));
  form.append('summary', 'First version');
  const notOwner = await h.api('POST', `/api/plan-revisions/${encodeURIComponent(revisionId)}/draft`, {
    as: 'lead',
    body: form,
  });
  expect(notOwner.status).toBe(403);
  const draft = await h.api('POST', `/api/plan-revisions/${encodeURIComponent(revisionId)}/draft`, {
    as: 'manager',
    body: form,
  });
  expect(draft.status, JSON.stringify(draft.body)).toBe(200);
  const review = `${revisionId}:review-1`;
  await waitForTask(review);
  expect((await decide(review, 'manager', { decision: 'approve' })).body.error.reason).toBe('SEGREGATION_OF_DUTIES');
  expect((await decide(review, 'lead', { decision: 'approve' })).body.status).toBe('approved');
  const approval = `${revisionId}:approval-1`;
  await waitForTask(approval);
  expect((await decide(approval, 'approver', { decision: 'approve' })).body.status).toBe('approved');
  await h.temporal.workflow.getHandle(revisionId).result();
  const [plan] = await h.sql('select * from emergency_plans where id = $1', [planId]);
  expect(plan).toMatchObject({ status: 'active', current_version: 1 });
  return { planId, plan };
}

/** Opens the drill and takes it through plan, approval and conduct. */
async function drillToEvaluation(planId: string, year = 2026) {
  const opened = await h.api('POST', '/api/drills', { as: 'lead', json: { planId, year } });
  expect(opened.status, JSON.stringify(opened.body)).toBe(201);
  const caseId: string = opened.body.caseId;
  const path = (step: string) => `/api/drills/${encodeURIComponent(caseId)}/${step}`;
  await eventually(async () => (await caseRow(caseId))?.stage === 'planning');
  expect(
    (
      await h.api('POST', path('plan'), {
        as: 'manager',
        json: {
          scenario: 'Ransomware on the payment cluster',
          scheduledAt: new Date(Date.now() - 3 * 3_600_000).toISOString(),
          participants: ['ops', 'security', 'PR'],
        },
      })
    ).status,
  ).toBe(200);
  const approvalTask = `${caseId}:plan-approval-1`;
  await waitForTask(approvalTask);
  expect((await decide(approvalTask, 'approver', { decision: 'approve' })).body.status).toBe('approved');
  await eventually(async () => (await caseRow(caseId))?.stage === 'conduct');
  expect(
    (
      await h.api('POST', path('conduct'), {
        as: 'manager',
        json: {
          startedAt: new Date(Date.now() - 3 * 3_600_000).toISOString(),
          endedAt: new Date(Date.now() - 3_600_000).toISOString(),
          observations: 'Failover took 40 minutes',
        },
      })
    ).status,
  ).toBe(200);
  await eventually(async () => (await caseRow(caseId))?.stage === 'evaluation');
  return { caseId, path };
}

async function summarise(caseId: string, path: (s: string) => string, revisionNeeded: boolean) {
  await eventually(async () => (await caseRow(caseId))?.stage === 'summary', 20_000);
  const res = await h.api('POST', path('summary'), {
    as: 'manager',
    json: {
      problems: 'Slow failover',
      lessons: 'Automate DNS switch',
      planChanges: 'Add the DNS runbook',
      revisionNeeded,
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const task = `${caseId}:summary-approval-1`;
  await waitForTask(task);
  expect((await decide(task, 'approver2', { decision: 'approve' })).body.status).toBe('approved');
  return h.temporal.workflow.getHandle<typeof drillWorkflow>(caseId).result();
}

describe('emergency plans and drills', () => {
  it('a full drill: two findings tracked to closure, the summary approved, no revision needed', async () => {
    const { planId } = await publishedPlan();
    const { caseId, path } = await drillToEvaluation(planId);
    const evaluated = await h.api('POST', path('evaluation'), {
      as: 'manager',
      json: {
        scores: { command: 85, information_reporting: 80, resource_dispatch: 75, public_opinion_response: 70 },
        findings: [
          { title: 'Automate the DNS switch', ownerId: 'owner' },
          { title: 'Update the press contact list', ownerId: 'owner' },
        ],
      },
    });
    expect(evaluated.status, JSON.stringify(evaluated.body)).toBe(200);
    const items = [`${caseId}:rectification:1`, `${caseId}:rectification:2`];
    for (const item of items) {
      await waitForTask(item);
      const evidenceId = await upload(caseId, 'owner', `done: ${item}`);
      await h.api('POST', `/api/tasks/${encodeURIComponent(item)}/submission`, {
        as: 'owner',
        json: { evidenceIds: [evidenceId] },
      });
      expect(
        (
          await h.api('POST', `/api/tasks/${encodeURIComponent(item)}/verification`, {
            as: 'approver',
            json: { verdict: 'accept' },
          })
        ).body.status,
      ).toBe('verified');
    }
    const result = await summarise(caseId, path, false);
    expect(result).toEqual({ passed: true, findings: 2, revisionCaseId: null });
    const row = await caseRow(caseId);
    expect(row).toMatchObject({ status: 'closed', outcome: 'approved' });
    expect(row.data.evaluation).toMatchObject({ passed: true, failedModules: [] });
    const report = await h.api('GET', `/api/drills/${encodeURIComponent(caseId)}/report`, { as: 'auditor' });
    expect(report.body.rectificationItems.map((t: { status: string }) => t.status)).toEqual(['done', 'done']);
    expect(report.body.data.summary).toMatchObject({ problems: 'Slow failover', revisionNeeded: false });
    const html = await h.app.request(`/api/drills/${encodeURIComponent(caseId)}/report.html`, {
      headers: { authorization: `Bearer ${h.tokens.auditor}` },
    });
    expect(await html.text()).toContain('应急演练总结报告');
    expect((await h.api('POST', '/api/drills', { as: 'lead', json: { planId, year: 2026 } })).status).toBe(409);
    await saveHistoryFixture(h, caseId, 'drill-with-findings');
    await saveHistoryFixture(h, `plan-revision:${planId}:v1`, 'plan-revision-published');
  });

  it('each step the organisers owe has a deadline: the plan, reminded, escalated, overdue and still owed', async () => {
    const { planId } = await publishedPlan();
    const opened = await h.api('POST', '/api/drills', {
      as: 'lead',
      json: { planId, year: 2028, timings: { step: SHORT_STEP } },
    });
    expect(opened.status, JSON.stringify(opened.body)).toBe(201);
    const caseId: string = opened.body.caseId;
    const planTask = `${caseId}:plan-1`;
    // The plan owner (mgr) owes the plan from the moment the drill opens.
    await expectOwedStep(h, 'manager', planTask, 'mgr');
    // Unplanned past its final deadline: overdue, admin told, and the drill still waits for its plan.
    await expectOverdueStep(h, 'manager', planTask, { assigneeId: 'mgr', escalatedTo: 'admin' });
    expect((await caseRow(caseId)).stage).toBe('planning');
    // Another manager plans it: the task closes as theirs when the call returns.
    const planned = await h.api('POST', `/api/drills/${encodeURIComponent(caseId)}/plan`, {
      as: 'lead',
      json: { scenario: 'Data centre power loss', scheduledAt: new Date().toISOString(), participants: ['ops'] },
    });
    expect(planned.status, JSON.stringify(planned.body)).toBe(200);
    await expectStepDone(h, 'manager', planTask, 'lead');
    await h.temporal.workflow.getHandle(caseId).terminate('test done');
  });

  it('a module below its pass mark forces a plan revision, linked to the drill', async () => {
    const { planId } = await publishedPlan();
    const { caseId, path } = await drillToEvaluation(planId, 2027);
    await h.api('POST', path('evaluation'), {
      as: 'manager',
      json: {
        scores: { command: 50, information_reporting: 90, resource_dispatch: 90, public_opinion_response: 90 },
        findings: [],
      },
    });
    const result = await summarise(caseId, path, false);
    expect(result.passed).toBe(false);
    expect(result.revisionCaseId).toBe(`plan-revision:${planId}:v2`);
    const revision = await eventually(async () => caseRow(`plan-revision:${planId}:v2`));
    expect(revision).toMatchObject({ stage: 'draft', parent_case_id: caseId, initiator_id: 'system' });
    expect(revision.data.reason).toMatch(/command/);
    expect((await caseRow(caseId)).data.revision).toMatchObject({
      required: true,
      caseId: `plan-revision:${planId}:v2`,
    });
    await h.temporal.workflow.getHandle(`plan-revision:${planId}:v2`).terminate('test done');
  });

  it('the revision falls due after its interval: reminder to the owner, escalation, and a revision case', async () => {
    const { planId } = await publishedPlan({ revisionInterval: '4s', revisionRemindBefore: '2s' });
    const v2 = `plan-revision:${planId}:v2`;
    await eventually(async () => caseRow(v2), 20_000);
    const notes = await h.sql(
      `select kind, recipient_role, recipient_id from notifications where case_id = $1 order by created_at`,
      [`plan-revision-clock:${planId}`],
    );
    expect(notes).toEqual([
      { kind: 'reminder', recipient_role: null, recipient_id: 'mgr' },
      { kind: 'escalation', recipient_role: 'manager', recipient_id: null },
    ]);
    expect((await caseRow(v2)).data.reason).toMatch(/periodic revision due/);
    // Opened by the clock, the revision reads the policy in force (version 1: none approved in this file).
    expect((await caseRow(v2)).policy_version).toBe(1);
    await saveHistoryFixture(h, `plan-revision-clock:${planId}`, 'plan-revision-clock-due');
    await h.temporal.workflow.getHandle(v2).terminate('test done');
  });

  it('registering a plan is one start: the first revision registers it, and its owner owes the draft at once', async () => {
    const planId = h.unique('EP');
    const reg = await h.api('POST', '/api/emergency-plans', {
      as: 'admin',
      json: {
        planId,
        title: `Data leak plan ${planId}`,
        type: 'data_leak',
        ownerId: 'mgr',
        timings: { draft: SHORT_STEP },
      },
    });
    expect(reg.status, JSON.stringify(reg.body)).toBe(201);
    const revisionId = `plan-revision:${planId}:v1`;
    // When the call returns, the plan is registered, by the caller, within its first revision.
    const [plan] = await h.sql('select status, owner_id, timings from emergency_plans where id = $1', [planId]);
    expect(plan).toEqual({ status: 'draft', owner_id: 'mgr', timings: { draft: SHORT_STEP } });
    expect(
      await h.sql(
        `select actor_id, case_id from audit_events where action = 'plan.registered' and payload->>'planId' = $1`,
        [planId],
      ),
    ).toEqual([{ actor_id: 'admin', case_id: revisionId }]);
    // The draft is owed by the plan owner from the first moment, with the plan's own ladder.
    const draftTask = `${revisionId}:draft-1`;
    await expectOwedStep(h, 'manager', draftTask, 'mgr');
    await expectOverdueStep(h, 'manager', draftTask, { assigneeId: 'mgr', escalatedTo: 'manager' });
    expect((await caseRow(revisionId)).stage).toBe('draft');
    const form = new FormData();
    form.append('file', new File([Buffer.from('plan v1, late')], 'plan-v1.pdf'));
    form.append('summary', 'First version, late');
    const draft = await h.api('POST', `/api/plan-revisions/${encodeURIComponent(revisionId)}/draft`, {
      as: 'manager',
      body: form,
    });
    expect(draft.status, JSON.stringify(draft.body)).toBe(200);
    await expectStepDone(h, 'manager', draftTask, 'mgr');
    // A second registration of the same plan is refused, and starts nothing.
    const again = await h.api('POST', '/api/emergency-plans', {
      as: 'admin',
      json: { planId, title: 'Again', type: 'data_leak', ownerId: 'mgr' },
    });
    expect(again.status).toBe(409);
    await h.temporal.workflow.getHandle(revisionId).terminate('test done');
  });

  it('the annual programme is a Schedule, and running it opens each active plan once', async () => {
    const { planId } = await publishedPlan();
    const schedule = await h.temporal.schedule.getHandle('drill-programme').describe();
    expect(schedule.action).toMatchObject({ type: 'startWorkflow', workflowType: 'drillProgrammeWorkflow' });
    const first = await h.api('POST', '/api/drills/programme', { as: 'lead', json: { year: 2033 } });
    expect(first.status).toBe(200);
    expect(first.body.started.map((s: { planId: string }) => s.planId)).toContain(planId);
    if (process.env.RECORD_HISTORIES === '1') {
      const query = `WorkflowType = "drillProgrammeWorkflow" AND TaskQueue = "${h.taskQueue}"`;
      const [programme] = await eventually(async () => {
        const found = [];
        for await (const wf of h.temporal.workflow.list({ query })) found.push(wf.workflowId);
        return found.length ? found : undefined;
      });
      await saveHistoryFixture(h, programme!, 'drill-programme');
    }
    const second = await h.api('POST', '/api/drills/programme', { as: 'lead', json: { year: 2033 } });
    expect(second.body.started).toEqual([]);
    expect(second.body.skipped).toContainEqual(expect.objectContaining({ planId, reason: 'already_exists' }));
    for (const s of first.body.started) await h.temporal.workflow.getHandle(s.caseId).terminate('test done');
  });
});
