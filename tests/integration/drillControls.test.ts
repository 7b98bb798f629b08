/**
 * Controls nobody can bypass (issue 11) on emergency plans and drills, on the
 * real Temporal dev server and PostgreSQL: the clocks and pass marks come from
 * the compliance-owned policy and each case records its version; per-case
 * timings are refused unless the deployment allows them; and whoever
 * planned, conducted, scored, drafted, reviewed or opened a piece of work
 * never approves it.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, type PolicyValues } from '../../domain/policy';
import type { Role } from '../../domain/roles';
import { writePolicyVersion } from '../../platform/policy';
import type { drillWorkflow } from '../../workflows/drill';
import {
  createDriver,
  creditCodes,
  databaseSnapshot,
  DRILL_CONDUCT,
  DRILL_PLAN,
  DRILL_SUMMARY,
  expectNotStarted,
  fileForm,
  quiet,
  snapshot,
} from '../support/drive';
import { addUser as addUserOf, asCaller, type Caller } from '../support/callers';
import { eventually, useHarness } from '../support/harness';
import { saveHistoryFixture } from '../support/histories';
import { SHORT_STEP } from '../support/steps';

const h = useHarness('drill-controls');
const drive = createDriver(h, { label: 'Drill controls', creditCode: creditCodes('91440300MD1') });
const enc = encodeURIComponent;

const as = asCaller;
const addUser = (prefix: string, roles: Role[]) => addUserOf(h, prefix, roles);

const caseRow = async (caseId: string) => (await h.sql('select * from cases where id = $1', [caseId]))[0];
const taskRow = async (taskId: string) => (await h.sql('select * from tasks where id = $1', [taskId]))[0];
const decide = (taskId: string, caller: Caller, decision = 'approve') =>
  h.api('POST', `/api/tasks/${enc(taskId)}/decision`, { ...as(caller), json: { decision, comment: 'checked' } });
const step = (caseId: string, name: string, caller: Caller, json: unknown) =>
  h.api('POST', `/api/drills/${enc(caseId)}/${name}`, { ...as(caller), json });
const ok = async (res: Promise<{ status: number; body: any }>, status = 200) => {
  const done = await res;
  expect(done.status, JSON.stringify(done.body)).toBe(status);
  return done.body;
};
/** The audit payload of the case's `action` events, oldest first. */
const payloadsOf = async (caseId: string, action: string) =>
  (
    await h.sql('select payload from audit_events where case_id = $1 and action = $2 order by seq', [caseId, action])
  ).map((r) => r.payload);

/**
 * A refused decision: the status and reason, and nothing changed: no event
 * in the workflow's history, no row of the case written (case, tasks, audit,
 * notifications), nothing global either.
 */
async function expectRefused(caseId: string, taskId: string, caller: Caller, status: number, reason: string) {
  await quiet(h, caseId);
  const before = await snapshot(h, caseId);
  const res = await decide(taskId, caller);
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.error.reason).toBe(reason);
  expect(await snapshot(h, caseId)).toEqual(before);
  return res.body.error;
}

/** Makes `change` the policy in force (a new version) until `restore` is called. */
async function policyInForce(change: (values: PolicyValues) => PolicyValues) {
  const values = change(structuredClone(DEFAULT_POLICY));
  const version = await writePolicyVersion(h.database.db, {
    changeCaseId: `policy-change:test-${randomUUID().slice(0, 8)}`,
    values,
    changed: ['test'],
    summary: 'test policy',
    requestedBy: 'approver2',
    approvedBy: ['approver', 'legal'],
  });
  return { version, restore: () => h.sql('delete from policy_versions where version >= $1', [version]) };
}

const DAY = 86_400_000;
/**
 * The task escalates `ms` after it opened: its due date, set by the workflow,
 * less its creation, stamped by the activity that wrote it a moment later.
 */
function expectEscalatesAfter(task: { due_at: Date; created_at: Date } | undefined, ms: number) {
  const after = task!.due_at.getTime() - task!.created_at.getTime();
  expect(after).toBeLessThanOrEqual(ms);
  expect(after).toBeGreaterThan(ms - Math.min(ms / 2, 60_000));
}

describe('drill and plan-revision controls', () => {
  it('drill approvals bar whoever planned, conducted, scored or wrote the summary; approvers come from risk, compliance or legal', async () => {
    const planner = await addUser('planner', ['manager', 'compliance']);
    const scorer = await addUser('scorer', ['manager', 'legal']);
    const writer = await addUser('writer', ['manager', 'risk']);
    const planId = await drive.publishPlan();
    // Opened by mgr, the plan's owner: everyone else below is barred only by what they did.
    const { caseId } = await ok(h.api('POST', '/api/drills', { as: 'manager', json: { planId, year: 2031 } }), 201);

    await ok(step(caseId, 'plan', planner, DRILL_PLAN));
    const planApproval = `${caseId}:plan-approval-1`;
    const barredPlanner = await expectRefused(caseId, planApproval, planner, 422, 'SEGREGATION_OF_DUTIES');
    expect(barredPlanner.message).toMatch(/segregation of duties/);
    // Internal audit is no approving function (it verifies results, DOMAIN.md §2).
    await expectRefused(caseId, planApproval, 'internalAudit', 403, 'ROLE_NOT_PERMITTED');
    expect((await ok(decide(planApproval, 'approver'))).status).toBe('approved');
    expect((await taskRow(planApproval)).excluded_user_ids).toEqual(expect.arrayContaining(['mgr', planner.id]));

    await ok(step(caseId, 'conduct', 'lead', DRILL_CONDUCT));
    await ok(
      step(caseId, 'evaluation', scorer, {
        scores: { command: 85, information_reporting: 80, resource_dispatch: 75, public_opinion_response: 70 },
        findings: [],
      }),
    );
    await ok(step(caseId, 'summary', writer, DRILL_SUMMARY));
    // Each step is recorded as whoever took it.
    const data = (await caseRow(caseId)).data;
    expect([data.plan.by, data.conduct.by, data.evaluatedBy, data.summary.by]).toEqual([
      planner.id,
      'lead',
      scorer.id,
      writer.id,
    ]);

    const summaryApproval = `${caseId}:summary-approval-1`;
    // Each of them holds an approving function, and each is refused for their own part alone.
    for (const barred of [planner, 'lead' as const, scorer, writer])
      await expectRefused(caseId, summaryApproval, barred, 422, 'SEGREGATION_OF_DUTIES');
    // Who is barred and why is on record, as the summary went for approval.
    const [submitted] = await payloadsOf(caseId, 'drill.summary_submitted_for_approval');
    expect(submitted.barred).toEqual([
      { userId: 'mgr', reasons: ['owns the emergency plan', 'opened the drill'] },
      { userId: planner.id, reasons: ['planned the drill'] },
      { userId: 'lead', reasons: ['recorded its conduct'] },
      { userId: scorer.id, reasons: ['scored it'] },
      { userId: writer.id, reasons: ['wrote the summary report'] },
    ]);
    expect((await taskRow(summaryApproval)).excluded_user_ids).toEqual(
      expect.arrayContaining(['mgr', planner.id, 'lead', scorer.id, writer.id]),
    );
    // Someone who took no part approves.
    expect((await ok(decide(summaryApproval, 'approver2'))).status).toBe('approved');
    expect(await h.temporal.workflow.getHandle<typeof drillWorkflow>(caseId).result()).toEqual({
      passed: true,
      findings: 0,
      revisionCaseId: null,
    });
    // Run under the policy in force (version 1: nothing approved yet) and scored against its pass marks.
    expect(await caseRow(caseId)).toMatchObject({ status: 'closed', outcome: 'approved', policy_version: 1 });
    expect((await caseRow(caseId)).data.evaluation).toMatchObject({ overallPassMark: 70, passed: true });
  });

  it('a revision’s reviewer and approver are neither its drafter, its opener, nor each other', async () => {
    const drafter = await addUser('drafter', ['manager', 'compliance']);
    const planId = h.unique('EP');
    await ok(
      h.api('POST', '/api/emergency-plans', {
        as: 'admin',
        json: { planId, title: `Data leak plan ${planId}`, type: 'data_leak', ownerId: drafter.id },
      }),
      201,
    );
    const v1 = `plan-revision:${planId}:v1`;
    const draft = (revisionId: string, text: string) =>
      ok(
        h.api('POST', `/api/plan-revisions/${enc(revisionId)}/draft`, {
          token: drafter.token,
          body: fileForm(text, { summary: text }, 'plan.pdf', 'application/pdf'),
        }),
      );
    await draft(v1, 'plan v1');
    // The drafter is a manager (a reviewing role) and a compliance officer (an approving one): barred from both.
    await expectRefused(v1, `${v1}:review-1`, drafter, 422, 'SEGREGATION_OF_DUTIES');
    expect((await ok(decide(`${v1}:review-1`, 'lead'))).status).toBe('approved');
    await expectRefused(v1, `${v1}:approval-1`, drafter, 422, 'SEGREGATION_OF_DUTIES');
    // The reviewer (lead is also a risk officer) does not approve what they reviewed.
    await expectRefused(v1, `${v1}:approval-1`, 'lead', 422, 'SEGREGATION_OF_DUTIES');
    await expectRefused(v1, `${v1}:approval-1`, 'internalAudit', 403, 'ROLE_NOT_PERMITTED');
    const [reviewed] = await payloadsOf(v1, 'plan.reviewed');
    expect(reviewed.barred).toEqual([
      { userId: drafter.id, reasons: ['owns the emergency plan', 'drafted the revision'] },
      { userId: 'admin', reasons: ['opened the revision'] },
      { userId: 'lead', reasons: ['reviewed the draft'] },
    ]);
    expect((await ok(decide(`${v1}:approval-1`, 'approver'))).status).toBe('approved');
    await h.temporal.workflow.getHandle(v1).result();
    expect(await h.sql('select approved_by from plan_versions where plan_id = $1', [planId])).toEqual([
      { approved_by: ['lead', 'appr1'] },
    ]);

    // Whoever opens a revision neither reviews nor approves it.
    const opened = await ok(
      h.api('POST', `/api/emergency-plans/${planId}/revisions`, { as: 'lead', json: { reason: 'new regulator' } }),
      201,
    );
    const v2 = opened.caseId as string;
    await draft(v2, 'plan v2');
    await expectRefused(v2, `${v2}:review-1`, 'lead', 422, 'SEGREGATION_OF_DUTIES');
    expect((await ok(decide(`${v2}:review-1`, 'manager'))).status).toBe('approved');
    await expectRefused(v2, `${v2}:approval-1`, 'lead', 422, 'SEGREGATION_OF_DUTIES');
    expect((await payloadsOf(v2, 'plan.reviewed'))[0].barred).toEqual([
      { userId: drafter.id, reasons: ['owns the emergency plan', 'drafted the revision'] },
      { userId: 'lead', reasons: ['opened the revision'] },
      { userId: 'mgr', reasons: ['reviewed the draft'] },
    ]);
    expect((await ok(decide(`${v2}:approval-1`, 'approver2'))).status).toBe('approved');
    await h.temporal.workflow.getHandle(v2).result();
    await h.temporal.workflow.getHandle(`plan-revision-clock:${planId}`).terminate('test done');
  });

  it('per-case timings are refused unless the deployment allows them: nothing registered, nothing started', async () => {
    const planId = await drive.publishPlan();
    const newPlanId = h.unique('EP');
    const register = (timings?: unknown) =>
      h.api('POST', '/api/emergency-plans', {
        as: 'admin',
        json: { planId: newPlanId, title: 'Locked clocks', type: 'system_failure', ownerId: 'mgr', timings },
      });
    h.settings.caseTimings = 'locked';
    try {
      for (const [call, workflowId] of [
        [() => register({ revisionInterval: '4s' }), `plan-revision:${newPlanId}:v1`],
        [() => register({ draft: SHORT_STEP }), `plan-revision:${newPlanId}:v1`],
        [
          () => h.api('POST', '/api/drills', { as: 'lead', json: { planId, year: 2032, timings: { dueIn: '1d' } } }),
          `drill:${planId}:2032`,
        ],
        [
          () =>
            h.api('POST', '/api/drills', {
              as: 'lead',
              json: { planId, year: 2032, timings: { approval: { expireAfter: '1s' } } },
            }),
          `drill:${planId}:2032`,
        ],
      ] as const) {
        const before = await databaseSnapshot(h);
        const res = await call();
        expect(res.status, JSON.stringify(res.body)).toBe(403);
        expect(res.body.error).toMatchObject({
          code: 'FORBIDDEN',
          reason: 'CASE_TIMINGS_LOCKED',
          details: { fields: ['timings'] },
        });
        expect(res.body.error.message).toMatch(/policy that compliance owns/);
        expect(await databaseSnapshot(h)).toEqual(before);
        await expectNotStarted(h, workflowId);
      }
      expect(await h.sql('select 1 from emergency_plans where id = $1', [newPlanId])).toEqual([]);

      // Without timings the same calls go ahead, on the policy's clocks.
      await ok(register(), 201);
      const draftTask = await eventually(() => taskRow(`plan-revision:${newPlanId}:v1:draft-1`));
      expectEscalatesAfter(draftTask, 30 * DAY);
      const drill = await ok(h.api('POST', '/api/drills', { as: 'lead', json: { planId, year: 2032 } }), 201);
      expect(drill.caseId).toBe(`drill:${planId}:2032`);
      expect((await caseRow(drill.caseId)).data.dueAt).toBe('2032-12-31T23:59:59.999Z');
      expectEscalatesAfter(await taskRow(`${drill.caseId}:plan-1`), 30 * DAY);
      for (const id of [drill.caseId, `plan-revision:${newPlanId}:v1`])
        await h.temporal.workflow.getHandle(id).terminate('test done');
    } finally {
      h.settings.caseTimings = 'allow';
    }
  });

  it('the policy in force sets the ladders, the pass marks and the revision interval; allowed per-case timings override it', async () => {
    const planId = await drive.publishPlan();
    const ladder = { remindAfter: '1d', escalateAfter: '2d', expireAfter: '3d' };
    const policy = await policyInForce((v) => ({
      ...v,
      drill: { ...v.drill, planning: ladder, modulePassMarks: { ...v.drill.modulePassMarks, command: 90 } },
      plan: { revisionIntervalYears: 1, draft: ladder },
    }));
    try {
      // A drill opened through the API runs under the new version: the plan is owed on its ladder.
      const drill = await ok(h.api('POST', '/api/drills', { as: 'lead', json: { planId, year: 2034 } }), 201);
      const caseId = drill.caseId as string;
      expect((await caseRow(caseId)).policy_version).toBe(policy.version);
      expectEscalatesAfter(await taskRow(`${caseId}:plan-1`), 2 * DAY);
      // Per-case timings, where allowed, override the policy's ladder.
      const short = await ok(
        h.api('POST', '/api/drills', { as: 'lead', json: { planId, year: 2035, timings: { step: SHORT_STEP } } }),
        201,
      );
      expectEscalatesAfter(await taskRow(`${short.caseId}:plan-1`), 2_000);
      await h.temporal.workflow.getHandle(short.caseId).terminate('test done');

      // Scored against the policy's pass marks: 85 for command passes the defaults (70), not this policy (90).
      await ok(step(caseId, 'plan', 'manager', DRILL_PLAN));
      await ok(decide(`${caseId}:plan-approval-1`, 'approver'));
      await ok(step(caseId, 'conduct', 'manager', DRILL_CONDUCT));
      await ok(
        step(caseId, 'evaluation', 'manager', {
          scores: { command: 85, information_reporting: 80, resource_dispatch: 75, public_opinion_response: 70 },
          findings: [],
        }),
      );
      const { evaluation } = (await caseRow(caseId)).data;
      expect(evaluation).toMatchObject({ passed: false, failedModules: ['command'], overallPassMark: 70 });
      expect(evaluation.modules[0]).toEqual({ module: 'command', score: 85, passMark: 90, passed: false });
      await ok(step(caseId, 'summary', 'manager', DRILL_SUMMARY));
      await ok(decide(`${caseId}:summary-approval-1`, 'approver2'));
      const result = await h.temporal.workflow.getHandle<typeof drillWorkflow>(caseId).result();
      expect(result).toMatchObject({ passed: false, revisionCaseId: `plan-revision:${planId}:v2` });
      // A drill that read the policy as it opened (patched: drill-reads-policy), for the replay test.
      await saveHistoryFixture(h, caseId, 'drill-under-policy');

      // The revision the drill opened reads the policy itself: its draft is owed on the policy's ladder.
      const v2 = result.revisionCaseId!;
      const revision = await eventually(() => caseRow(v2));
      expect(revision).toMatchObject({ policy_version: policy.version, initiator_id: 'system' });
      const draftTask = await eventually(() => taskRow(`${v2}:draft-1`));
      expectEscalatesAfter(draftTask, 2 * DAY);
      // Published under it, the next revision falls due after the policy's one year, not three.
      await ok(
        h.api('POST', `/api/plan-revisions/${enc(v2)}/draft`, {
          as: 'manager',
          body: fileForm('plan v2', { summary: 'Command drills monthly' }, 'plan.pdf', 'application/pdf'),
        }),
      );
      await ok(decide(`${v2}:review-1`, 'lead'));
      await ok(decide(`${v2}:approval-1`, 'approver'));
      await h.temporal.workflow.getHandle(v2).result();
      await saveHistoryFixture(h, v2, 'plan-revision-under-policy');
      const [plan] = await h.sql('select last_approved_at, revision_due_at from emergency_plans where id = $1', [
        planId,
      ]);
      const due = new Date(plan.last_approved_at);
      due.setUTCFullYear(due.getUTCFullYear() + 1);
      expect(plan.revision_due_at.toISOString()).toBe(due.toISOString());

      // The annual programme (the Schedule's workflow) opens drills under the policy in force too.
      const programme = await ok(h.api('POST', '/api/drills/programme', { as: 'lead', json: { year: 2036 } }));
      const opened = programme.started.find((s: { planId: string }) => s.planId === planId);
      expect((await caseRow(opened.caseId)).policy_version).toBe(policy.version);
      for (const s of programme.started) await h.temporal.workflow.getHandle(s.caseId).terminate('test done');
    } finally {
      await policy.restore();
    }
    // Back on version 1, the defaults apply again.
    const again = await ok(h.api('POST', '/api/drills', { as: 'lead', json: { planId, year: 2037 } }), 201);
    expect((await caseRow(again.caseId)).policy_version).toBe(1);
    expectEscalatesAfter(await taskRow(`${again.caseId}:plan-1`), 30 * DAY);
    await h.temporal.workflow.getHandle(again.caseId).terminate('test done');
  });
});
