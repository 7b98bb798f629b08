/**
 * Controls nobody can bypass (issue 11) on PDCA improvement cycles, on the
 * real Temporal dev server and PostgreSQL: the independent verification of
 * the Check is by internal audit or the second line, never by whoever
 * planned the cycle, did its actions or entered its KPI values; the plan's
 * approval is by an approving function, never by its planner; the clocks and
 * the escalation threshold come from the policy in force (each next cycle
 * reads it again); per-case timings are refused unless allowed.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, type PolicyValues } from '../../domain/policy';
import type { Role } from '../../domain/roles';
import { writePolicyVersion } from '../../platform/policy';
import {
  createDriver,
  creditCodes,
  databaseSnapshot,
  expectNotStarted,
  fileForm,
  PDCA_KPI,
  quiet,
  snapshot,
} from '../support/drive';
import { addUser as addUserOf, asCaller, type Caller } from '../support/callers';
import { eventually, useHarness } from '../support/harness';
import { saveHistoryFixture } from '../support/histories';
import { SHORT_STEP } from '../support/steps';

const h = useHarness('pdca-controls');
const drive = createDriver(h, { label: 'PDCA controls', creditCode: creditCodes('91440300MD2') });
const enc = encodeURIComponent;

const as = asCaller;
const addUser = (prefix: string, roles: Role[]) => addUserOf(h, prefix, roles);

const caseRow = async (caseId: string) => (await h.sql('select * from cases where id = $1', [caseId]))[0];
const taskRow = async (taskId: string) => (await h.sql('select * from tasks where id = $1', [taskId]))[0];
const ok = async (res: Promise<{ status: number; body: any }>, status = 200) => {
  const done = await res;
  expect(done.status, JSON.stringify(done.body)).toBe(status);
  return done.body;
};
const decide = (taskId: string, caller: Caller) =>
  h.api('POST', `/api/tasks/${enc(taskId)}/decision`, { ...as(caller), json: { decision: 'approve' } });
const cycleStep = (cycleKey: string, name: string, caller: Caller, json: unknown) =>
  h.api('POST', `/api/improvement-cycles/${cycleKey}/${name}`, { ...as(caller), json });
const payloadsOf = async (caseId: string, action: string) =>
  (
    await h.sql('select payload from audit_events where case_id = $1 and action = $2 order by seq', [caseId, action])
  ).map((r) => r.payload);

/** A refused decision: its status and reason, no history event, nothing written. */
async function expectRefused(caseId: string, taskId: string, caller: Caller, status: number, reason: string) {
  await quiet(h, caseId);
  const before = await snapshot(h, caseId);
  const res = await decide(taskId, caller);
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.error.reason).toBe(reason);
  expect(await snapshot(h, caseId)).toEqual(before);
  return res.body.error;
}

/** The action (owned by `actionOwner`) done with evidence and verified by risk2, who has no other part. */
async function doAction(caseId: string, cycle: number, actionOwner: Caller) {
  const item = `${caseId}:c${cycle}:action:1`;
  await eventually(() => taskRow(item), 20_000);
  const evidence = await ok(
    h.api('POST', `/api/cases/${enc(caseId)}/evidence`, { ...as(actionOwner), body: fileForm('queue live') }),
    201,
  );
  await ok(
    h.api('POST', `/api/tasks/${enc(item)}/submission`, { ...as(actionOwner), json: { evidenceIds: [evidence.id] } }),
  );
  await ok(h.api('POST', `/api/tasks/${enc(item)}/verification`, { as: 'risk2', json: { verdict: 'accept' } }));
}

/** Enters the KPI value once the check date (checkIn 1s) has come. */
async function enterActual(cycleKey: string, caller: Caller, actual: number) {
  await eventually(async () => {
    const res = await cycleStep(cycleKey, 'actuals', caller, { actuals: { [PDCA_KPI.key]: actual } });
    return res.status === 200;
  }, 20_000);
}

async function policyInForce(change: (values: PolicyValues) => PolicyValues) {
  const version = await writePolicyVersion(h.database.db, {
    changeCaseId: `policy-change:test-${randomUUID().slice(0, 8)}`,
    values: change(structuredClone(DEFAULT_POLICY)),
    changed: ['test'],
    summary: 'test policy',
    requestedBy: 'approver2',
    approvedBy: ['approver', 'legal'],
  });
  return version;
}
const restorePolicy = () => h.sql('delete from policy_versions');

const DAY = 86_400_000;
function expectEscalatesAfter(task: { due_at: Date; created_at: Date } | undefined, ms: number) {
  const after = task!.due_at.getTime() - task!.created_at.getTime();
  expect(after).toBeLessThanOrEqual(ms);
  expect(after).toBeGreaterThan(ms - Math.min(ms / 2, 60_000));
}

describe('PDCA controls', () => {
  it('the independent verification bars whoever planned, did the actions or entered the values; it is for internal audit or the second line', async () => {
    const cycleKey = h.unique('PDCA');
    const caseId = `pdca:${cycleKey}`;
    // mgr opens, owns and plans the cycle; a compliance officer owns its one action.
    await ok(
      h.api('POST', '/api/improvement-cycles', {
        as: 'manager',
        json: drive.cycleBody(cycleKey, {
          source: 'audit_finding',
          actions: [{ title: 'Add a second-line queue', ownerId: 'appr2' }],
        }),
      }),
      201,
    );
    const planApproval = `${caseId}:c1-plan-approval-1`;
    // The plan is approved by risk, compliance or legal: internal audit verifies results, it does not approve plans.
    await expectRefused(caseId, planApproval, 'internalAudit', 403, 'ROLE_NOT_PERMITTED');
    expect((await ok(decide(planApproval, 'legal'))).status).toBe('approved');
    await doAction(caseId, 1, 'approver2');
    // lead (a manager and a risk officer) enters the value.
    await enterActual(cycleKey, 'lead', 20);
    const verification = `${caseId}:c1-verification-1`;
    await eventually(() => taskRow(verification), 20_000);
    expect((await taskRow(verification)).candidate_roles).toEqual(['risk', 'compliance', 'internal_audit']);
    // Legal approves, but verifying results is for internal audit or the second line.
    await expectRefused(caseId, verification, 'legal', 403, 'ROLE_NOT_PERMITTED');
    // Whoever entered the values, and whoever did the actions, may not verify them.
    const lead = await expectRefused(caseId, verification, 'lead', 422, 'SEGREGATION_OF_DUTIES');
    // The refusal names who is barred and why.
    expect(lead.details).toEqual({ userId: 'lead', reasons: ['entered the KPI values'] });
    expect(lead.message).toMatch(/lead may not decide this \(segregation of duties\): they entered the KPI values/);
    const actionOwner = await expectRefused(caseId, verification, 'approver2', 422, 'SEGREGATION_OF_DUTIES');
    expect(actionOwner.details).toEqual({ userId: 'appr2', reasons: ['owns one of its actions'] });
    const [checked] = await payloadsOf(caseId, 'pdca.checked');
    expect(checked.barred).toEqual([
      { userId: 'mgr', reasons: ['owns the cycle', 'opened the cycle', 'planned it'] },
      { userId: 'appr2', reasons: ['owns one of its actions'] },
      { userId: 'lead', reasons: ['entered the KPI values'] },
    ]);
    expect((await taskRow(verification)).excluded_user_ids).toEqual(expect.arrayContaining(['mgr', 'appr2', 'lead']));
    // Internal audit, with no part in the cycle, verifies.
    expect((await ok(decide(verification, 'internalAudit'))).status).toBe('approved');
    // Every step is recorded as its real actor.
    expect(
      (
        await h.sql(
          `select action, actor_id from audit_events where case_id = $1
            and action in ('pdca.plan_submitted', 'approval.decided', 'pdca.checked') order by seq`,
          [caseId],
        )
      ).map((r) => `${r.action}:${r.actor_id}`),
    ).toEqual(['pdca.plan_submitted:mgr', 'approval.decided:legal1', 'pdca.checked:lead', 'approval.decided:ia1']);
    await h.temporal.workflow.getHandle(caseId).terminate('test done');
  });

  it('the next cycle runs under the policy in force: its ladders and escalation threshold; its planner approves and verifies nothing', async () => {
    const planner = await addUser('planner', ['manager', 'compliance']);
    const v2 = await policyInForce((v) => ({ ...v, pdca: { escalateAfterCycles: 1 } }));
    try {
      const cycleKey = h.unique('PDCA');
      const caseId = `pdca:${cycleKey}`;
      // No escalateAfterCycles of its own: the policy's (1) applies, not the default 3.
      await ok(
        h.api('POST', '/api/improvement-cycles', {
          as: 'lead',
          json: drive.cycleBody(cycleKey, { source: 'kpi_gap' }),
        }),
        201,
      );
      expect((await caseRow(caseId)).policy_version).toBe(v2);
      await ok(decide(`${caseId}:c1-plan-approval-1`, 'approver'));
      await doAction(caseId, 1, 'owner');
      // A new version while cycle 1 runs: its step ladder is what the next cycle's plan is owed on.
      const ladder = { remindAfter: '1d', escalateAfter: '2d', expireAfter: '3d' };
      const v3 = await policyInForce((v) => ({ ...v, step: ladder, pdca: { escalateAfterCycles: 1 } }));
      await enterActual(cycleKey, 'manager', 40);
      await ok(decide(`${caseId}:c1-verification-1`, 'approver2'));
      // Targets missed: cycle 2, under the version in force now, escalated after one cycle.
      const row = await eventually(async () => {
        const r = await caseRow(caseId);
        return r?.data.cycle === 2 && r.stage === 'plan' ? r : null;
      }, 20_000);
      expect(row.policy_version).toBe(v3);
      const escalations = await eventually(async () => {
        const rows = await h.sql(`select 1 from notifications where case_id = $1 and kind = 'escalation'`, [caseId]);
        return rows.length ? rows : null;
      });
      expect(escalations).toHaveLength(1);
      const planTask = await eventually(() => taskRow(`${caseId}:c2-plan-1`));
      expectEscalatesAfter(planTask, 2 * DAY);

      // The re-planner holds an approving and a verifying function, and may use neither on this cycle.
      await ok(cycleStep(cycleKey, 'plan', planner, { actions: [{ title: 'Hire two agents', ownerId: 'owner' }] }));
      await expectRefused(caseId, `${caseId}:c2-plan-approval-1`, planner, 422, 'SEGREGATION_OF_DUTIES');
      expect((await payloadsOf(caseId, 'pdca.plan_submitted')).at(-1).barred).toEqual([
        { userId: 'mgr', reasons: ['owns the cycle'] },
        { userId: 'lead', reasons: ['opened the cycle'] },
        { userId: planner.id, reasons: ['planned it'] },
      ]);
      await ok(decide(`${caseId}:c2-plan-approval-1`, 'approver'));
      await doAction(caseId, 2, 'owner');
      await enterActual(cycleKey, 'manager', 20);
      const verification = `${caseId}:c2-verification-1`;
      await eventually(() => taskRow(verification), 20_000);
      await expectRefused(caseId, verification, planner, 422, 'SEGREGATION_OF_DUTIES');
      expect((await payloadsOf(caseId, 'pdca.checked')).at(-1).barred).toEqual([
        { userId: 'mgr', reasons: ['owns the cycle', 'entered the KPI values'] },
        { userId: 'lead', reasons: ['opened the cycle'] },
        { userId: planner.id, reasons: ['planned it'] },
        { userId: 'owner', reasons: ['owns one of its actions'] },
      ]);
      expect((await ok(decide(verification, 'internalAudit'))).status).toBe('approved');
      await eventually(async () => (await caseRow(caseId))?.stage === 'act');
      await ok(cycleStep(cycleKey, 'standardise', 'manager', { adopted: 'Two more agents on the queue' }));
      expect(await h.temporal.workflow.getHandle(caseId).result()).toEqual({ cycle: 2, outcome: 'standardised' });
      // The second cycle's run, under the policy the first read for it (patched: pdca-next-cycle-reads-policy).
      await saveHistoryFixture(h, caseId, 'pdca-next-cycle-under-policy');
    } finally {
      await restorePolicy();
    }
  });

  it('per-case timings and escalation are refused unless the deployment allows them; nothing is started', async () => {
    h.settings.caseTimings = 'locked';
    try {
      for (const [extra, fields] of [
        [{ timings: { step: SHORT_STEP } }, ['timings']],
        [{ escalateAfterCycles: 1 }, ['escalateAfterCycles']],
        [{ timings: { approval: { expireAfter: '1s' } }, escalateAfterCycles: 5 }, ['timings', 'escalateAfterCycles']],
      ] as const) {
        const cycleKey = h.unique('PDCA');
        const before = await databaseSnapshot(h);
        const res = await h.api('POST', '/api/improvement-cycles', {
          as: 'lead',
          json: drive.cycleBody(cycleKey, { source: 'kpi_gap', ...extra }),
        });
        expect(res.status, JSON.stringify(res.body)).toBe(403);
        expect(res.body.error).toMatchObject({ code: 'FORBIDDEN', reason: 'CASE_TIMINGS_LOCKED', details: { fields } });
        expect(await databaseSnapshot(h)).toEqual(before);
        await expectNotStarted(h, `pdca:${cycleKey}`);
      }
      // The same cycle without them opens on the policy's clocks.
      const cycleKey = h.unique('PDCA');
      await ok(
        h.api('POST', '/api/improvement-cycles', {
          as: 'lead',
          json: drive.cycleBody(cycleKey, { source: 'kpi_gap' }),
        }),
        201,
      );
      const caseId = `pdca:${cycleKey}`;
      expect((await caseRow(caseId)).policy_version).toBe(1);
      expectEscalatesAfter(await taskRow(`${caseId}:c1-plan-approval-1`), 48 * 3_600_000);
      await h.temporal.workflow.getHandle(caseId).terminate('test done');
    } finally {
      h.settings.caseTimings = 'allow';
    }
  });
});
