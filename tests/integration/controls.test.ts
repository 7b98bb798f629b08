/**
 * Controls nobody can bypass (issue 11), on the real Temporal dev server and
 * PostgreSQL: risk is scored, never declared; clocks are locked to the
 * compliance-owned policy; four-eyes takes two functions; the policy itself
 * changes only through an approval case. Each refusal is checked for its
 * status and reason, for leaving no history event and for writing nothing.
 */
import { describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { mergeCaseData } from '../../activities';
import { cases } from '../../db/schema';
import { DEFAULT_POLICY } from '../../domain/policy';
import { useHarness, type TestUser } from '../support/harness';
import { saveHistoryFixture } from '../support/histories';

const h = useHarness('controls');
const enc = encodeURIComponent;

const historyLength = async (workflowId: string) =>
  (await h.temporal.workflow.getHandle(workflowId).fetchHistory()).events?.length ?? 0;

async function startRequest(json: Record<string, unknown>, as: TestUser = 'manager') {
  const requestKey = h.unique('CTRL');
  const res = await h.api('POST', '/api/cases/approval-requests', {
    as,
    json: { requestKey, title: `Controls ${requestKey}`, ...json },
  });
  return { res, requestKey, caseId: `approval-request:${requestKey}` };
}

const decide = (taskId: string, as: TestUser, json: Record<string, unknown>) =>
  h.api('POST', `/api/tasks/${enc(taskId)}/decision`, { as, json });

async function withLockedTimings<T>(run: () => Promise<T>): Promise<T> {
  h.settings.caseTimings = 'locked';
  try {
    return await run();
  } finally {
    h.settings.caseTimings = 'allow';
  }
}

describe('risk is scored, never declared', () => {
  it('refuses a declared riskLevel, naming it, and starts nothing', async () => {
    const { res, caseId } = await startRequest({ riskLevel: 'low' });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/body\.riskLevel/);
    expect(await h.sql('select 1 from cases where id = $1', [caseId])).toEqual([]);
    await expect(h.temporal.workflow.getHandle(caseId).describe()).rejects.toThrow(/not found/i);
  });

  it('takes the level from probability × impact and the policy, and records the assessment and policy version', async () => {
    // 3 × 5 = 15: high under the default cut-offs (high from 15), so two approvers.
    const { res, caseId } = await startRequest({ probability: 3, impact: 5 });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ riskLevel: 'high', approvalsRequired: 2 });
    const [row] = await h.sql('select risk_level, policy_version, data from cases where id = $1', [caseId]);
    expect(row).toMatchObject({ risk_level: 'high', policy_version: 1 });
    expect(row.data.assessment).toEqual({ probability: 3, impact: 5, score: 15 });

    // 2 × 7 is no cell of the matrix.
    const bad = await startRequest({ probability: 2, impact: 7 });
    expect(bad.res.status).toBe(400);
    expect(bad.res.body.error.message).toMatch(/body\.impact/);
  });
});

describe('clocks are locked to the policy', () => {
  it('refuses per-case timings with 403 CASE_TIMINGS_LOCKED unless the deployment allows them', async () => {
    const locked = await withLockedTimings(() =>
      startRequest({
        probability: 1,
        impact: 2,
        approvalTimings: { remindAfter: '1s', escalateAfter: '1s', expireAfter: '1s' },
      }),
    );
    expect(locked.res.status).toBe(403);
    expect(locked.res.body.error).toMatchObject({ code: 'FORBIDDEN', reason: 'CASE_TIMINGS_LOCKED' });
    expect(locked.res.body.error.message).toMatch(/approvalTimings/);
    expect(locked.res.body.error.details).toEqual({ fields: ['approvalTimings'] });
    expect(await h.sql('select 1 from cases where id = $1', [locked.caseId])).toEqual([]);
    await expect(h.temporal.workflow.getHandle(locked.caseId).describe()).rejects.toThrow(/not found/i);

    // Without timings the policy's ladder runs the case: escalation due 48 h after it opened.
    const ok = await withLockedTimings(() => startRequest({ probability: 1, impact: 2 }));
    expect(ok.res.status).toBe(201);
    const [task] = await h.sql('select due_at, created_at from tasks where id = $1', [`${ok.caseId}:approval`]);
    const hours = (new Date(task.due_at).getTime() - new Date(task.created_at).getTime()) / 3_600_000;
    expect(hours).toBeCloseTo(48, 1);
    expect(DEFAULT_POLICY.approval.escalateAfter).toBe('48h');

    // Where the deployment allows them (tests, demos), per-case timings override the policy.
    const allowed = await startRequest({
      probability: 1,
      impact: 2,
      approvalTimings: { escalateAfter: '72h', expireAfter: '7d' },
    });
    expect(allowed.res.status).toBe(201);
    const [allowedTask] = await h.sql('select due_at, created_at from tasks where id = $1', [
      `${allowed.caseId}:approval`,
    ]);
    expect(
      (new Date(allowedTask.due_at).getTime() - new Date(allowedTask.created_at).getTime()) / 3_600_000,
    ).toBeCloseTo(72, 1);
  });
});

describe('four-eyes takes two functions', () => {
  it('refuses a second approver of the same function, records nothing, and accepts another function', async () => {
    const { res, caseId } = await startRequest({ probability: 4, impact: 4 });
    expect(res.body).toMatchObject({ riskLevel: 'high', approvalsRequired: 2 });
    const taskId = `${caseId}:approval`;

    const first = await decide(taskId, 'approver', { decision: 'approve', comment: 'risk view: acceptable' });
    expect(first.status).toBe(200);
    expect(first.body.status).toBe('open');

    const before = await historyLength(caseId);
    const same = await decide(taskId, 'risk2', { decision: 'approve', comment: 'also fine' });
    expect(same.status).toBe(422);
    expect(same.body.error.reason).toBe('FOUR_EYES');
    expect(same.body.error.message).toMatch(/two different functions; risk has already decided/);
    expect(await historyLength(caseId)).toBe(before);
    const [unchanged] = await h.sql('select status, votes from tasks where id = $1', [taskId]);
    expect(unchanged.status).toBe('open');
    expect(unchanged.votes).toHaveLength(1);

    const second = await decide(taskId, 'approver2', { decision: 'approve', comment: 'compliance view: acceptable' });
    expect(second.status).toBe(200);
    expect(second.body.status).toBe('approved');
    const [task] = await h.sql('select votes from tasks where id = $1', [taskId]);
    expect(task.votes.map((v: { userId: string; function: string }) => [v.userId, v.function])).toEqual([
      ['appr1', 'risk'],
      ['appr2', 'compliance'],
    ]);
  });
});

describe('the policy changes only through an approval case by compliance', () => {
  it('shows every parameter with its source', async () => {
    const res = await h.api('GET', '/api/policy', { as: 'owner' });
    expect(res.status).toBe(200);
    expect(res.body.version).toBe(1);
    const byPath = new Map(res.body.parameters.map((p: { path: string; source: string }) => [p.path, p]));
    expect(byPath.get('complaint.resultWithin')).toMatchObject({
      value: '48h',
      source: expect.stringMatching(/§4\.4/),
    });
    expect(byPath.get('risk.highFrom')).toMatchObject({
      value: 15,
      source: expect.stringMatching(/not in the handbooks/),
    });
    for (const p of res.body.parameters) expect(p.source, p.path).not.toBe('');

    const doc = await h.api('GET', '/openapi.json');
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/api/policy', '/api/policy/versions/{version}', '/api/policy/changes']),
    );
  });

  it('refuses requests from other roles and changes that break the policy, starting nothing', async () => {
    const change = { risk: { highFrom: 12 } };
    const manager = await h.api('POST', '/api/policy/changes', { as: 'manager', json: { summary: 'x', change } });
    expect(manager.status).toBe(403);
    const risk = await h.api('POST', '/api/policy/changes', { as: 'approver', json: { summary: 'x', change } });
    expect(risk.status).toBe(403);

    const unknown = await h.api('POST', '/api/policy/changes', {
      as: 'approver2',
      json: { summary: 'typo', change: { complaint: { resultWithn: '36h' } } },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toMatch(/change\.complaint\.resultWithn is not a policy parameter/);

    const inverted = await h.api('POST', '/api/policy/changes', {
      as: 'approver2',
      json: { summary: 'inverted', change: { risk: { mediumFrom: 16 } } },
    });
    expect(inverted.status).toBe(400);
    expect(inverted.body.error.message).toMatch(/mediumFrom must be below highFrom/);

    const noop = await h.api('POST', '/api/policy/changes', {
      as: 'approver2',
      json: { summary: 'same', change: { risk: { highFrom: 15 } } },
    });
    expect(noop.status).toBe(400);
    expect(noop.body.error.message).toMatch(/leaves the policy as it is/);
    expect(await h.sql("select 1 from cases where process = 'policy_change'")).toEqual([]);
  });

  it('needs two other functions; the next version then governs new cases, and running ones keep theirs', async () => {
    const before = await startRequest({ probability: 3, impact: 4 });
    expect(before.res.body.riskLevel).toBe('medium');

    const changeKey = h.unique('POL');
    const requested = await h.api('POST', '/api/policy/changes', {
      as: 'approver2',
      json: { changeKey, summary: 'High risk from a score of 12', change: { risk: { highFrom: 12 } } },
    });
    expect(requested.status, JSON.stringify(requested.body)).toBe(201);
    expect(requested.body).toMatchObject({ basedOnVersion: 1, changed: ['risk.highFrom'], stage: 'awaiting_approval' });
    const caseId = requested.body.caseId as string;
    const taskId = `${caseId}:approval`;

    // The requester may not approve their own change (segregation of duties).
    const own = await decide(taskId, 'approver2', { decision: 'approve' });
    expect(own.status).toBe(422);
    expect(own.body.error.reason).toBe('SEGREGATION_OF_DUTIES');

    expect((await decide(taskId, 'approver', { decision: 'approve' })).body.status).toBe('open');
    const length = await historyLength(caseId);
    const sameFunction = await decide(taskId, 'risk2', { decision: 'approve' });
    expect(sameFunction.status).toBe(422);
    expect(sameFunction.body.error.reason).toBe('FOUR_EYES');
    expect(await historyLength(caseId)).toBe(length);
    expect((await h.api('GET', '/api/policy', { as: 'owner' })).body.version).toBe(1);

    const last = await decide(taskId, 'legal', { decision: 'approve' });
    expect(last.status).toBe(200);
    expect(last.body.status).toBe('approved');
    const result = await h.temporal.workflow.getHandle(caseId).result();
    expect(result).toEqual({ outcome: 'approved', version: 2 });
    await saveHistoryFixture(h, caseId, 'policy-change-approved');

    const policy = await h.api('GET', '/api/policy', { as: 'auditor' });
    expect(policy.body).toMatchObject({
      version: 2,
      requestedBy: 'appr2',
      approvedBy: ['appr1', 'legal1'],
      changeCaseId: caseId,
      summary: 'High risk from a score of 12',
    });
    expect(policy.body.values.risk).toEqual({ mediumFrom: 5, highFrom: 12 });
    const v1 = await h.api('GET', '/api/policy/versions/1', { as: 'auditor' });
    expect(v1.body.values.risk).toEqual({ mediumFrom: 5, highFrom: 15 });
    expect((await h.api('GET', '/api/policy/versions/9', { as: 'auditor' })).status).toBe(404);

    const [published] = await h.sql(
      "select actor_id, payload from audit_events where case_id = $1 and action = 'policy.version_published'",
      [caseId],
    );
    expect(published.payload).toMatchObject({ basedOnVersion: 1, changed: ['risk.highFrom'] });

    // A new case runs under version 2: 3 × 4 = 12 is high now.
    const after = await startRequest({ probability: 3, impact: 4 });
    expect(after.res.body).toMatchObject({ riskLevel: 'high', approvalsRequired: 2 });
    const rows = await h.sql(
      'select id, policy_version, risk_level from cases where id = any($1) order by policy_version',
      [[before.caseId, after.caseId]],
    );
    expect(rows).toEqual([
      { id: before.caseId, policy_version: 1, risk_level: 'medium' },
      { id: after.caseId, policy_version: 2, risk_level: 'high' },
    ]);
  });
});

describe('the read model merges a step’s delta', () => {
  it('sets, appends and unsets keys of the case data in one statement', async () => {
    const caseId = `merge-test:${h.unique('M')}`;
    await h.sql(
      `insert into cases (id, process, business_key, title, stage, status, initiator_id, workflow_id, run_id, data)
       values ($1, 'approval_request', $1, 'merge', 'open', 'open', 'mgr', $1, 'r', $2)`,
      [caseId, JSON.stringify({ keep: 1, drop: 2, alsoDrop: 3, list: ['a'] })],
    );
    await h.database.db
      .update(cases)
      .set({ data: mergeCaseData({ set: { added: true }, append: { list: ['b'] }, unset: ['drop', 'alsoDrop'] }) })
      .where(eq(cases.id, caseId));
    const [row] = await h.sql('select data from cases where id = $1', [caseId]);
    expect(row.data).toEqual({ keep: 1, added: true, list: ['a', 'b'] });
    await h.sql('delete from cases where id = $1', [caseId]);
  });
});
