/**
 * The risk register (issue 12 §1) on the real Temporal dev server and
 * PostgreSQL: levels and appetite computed, never given; every change a
 * version with its audit event, readable as of any instant; controls tested
 * by the second or third line, never their owner; links to real cases; and
 * risk acceptance as an approved case that turns stale when the residual
 * rating changes or the acceptance expires.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { useHarness, type TestUser } from '../support/harness';
import { saveHistoryFixture } from '../support/histories';

const h = useHarness('riskregister');
const enc = encodeURIComponent;
const running = new Set<string>();
afterAll(async () => {
  for (const id of running) {
    await h.temporal.workflow
      .getHandle(id)
      .terminate('risk register tests done')
      .catch(() => undefined);
  }
});

const newKey = () => `RISK-T${randomUUID().slice(0, 8).toUpperCase()}`;
const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();

function riskBody(overrides: Record<string, unknown> = {}) {
  return {
    riskKey: newKey(),
    title: 'Payment gateway outage during peak sales',
    category: 'technical',
    description: 'The single payment gateway fails under peak load.',
    cause: 'No failover provider',
    consequence: 'Orders lost, customer complaints',
    ownerId: 'owner',
    lineOfDefence: 'first',
    inherent: { probability: 4, impact: 5 },
    residual: { probability: 2, impact: 3 },
    ...overrides,
  };
}

async function raise(overrides: Record<string, unknown> = {}, as: TestUser = 'lead') {
  const res = await h.api('POST', '/api/risks', { as, json: riskBody(overrides) });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

/** What a refused call must leave untouched. */
async function registerState() {
  const [row] = await h.sql(`
    select
      (select count(*) from risks)::int as risks,
      (select count(*) from risk_versions)::int as versions,
      (select count(*) from risk_controls)::int as controls,
      (select count(*) from risk_control_tests)::int as tests,
      (select count(*) from risk_links)::int as links,
      (select count(*) from risk_acceptances)::int as acceptances,
      (select count(*) from cases)::int as cases,
      (select coalesce(max(seq), 0)::int from audit_events) as last_audit_seq,
      (select max(updated_at)::text from risks) as risks_updated_at,
      (select string_agg(last_result, ',' order by id) from risk_controls) as control_results`);
  return row;
}

async function expectRefused(
  call: () => Promise<{ status: number; body: any }>,
  status: number,
  reason?: string,
): Promise<any> {
  const before = await registerState();
  const res = await call();
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  if (reason) expect(res.body.error.reason).toBe(reason);
  expect(await registerState()).toEqual(before);
  return res.body;
}

async function askAcceptance(riskKey: string, json: Record<string, unknown>, as: TestUser) {
  const res = await h.api('POST', `/api/risks/${riskKey}/acceptances`, { as, json });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  running.add(res.body.caseId);
  return res.body as { caseId: string; approvalTaskId: string; approvalsRequired: number };
}

const decide = (taskId: string, as: TestUser, json: Record<string, unknown>) =>
  h.api('POST', `/api/tasks/${enc(taskId)}/decision`, { as, json });

describe('the register: levels and appetite are computed', () => {
  it('raises a risk with computed levels, version 1 and its audit event', async () => {
    const body = riskBody();
    const res = await h.api('POST', '/api/risks', { as: 'manager', json: body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({
      key: body.riskKey,
      category: 'technical',
      categoryLabel: { zh: '技术风险' },
      lineOfDefence: 'first',
      inherent: { probability: 4, impact: 5, score: 20, level: 'high' },
      residual: { probability: 2, impact: 3, score: 6, level: 'medium' },
      appetite: 9,
      aboveAppetite: false,
      version: 1,
      acceptance: null,
      controls: [],
      links: [],
    });
    expect(
      await h.sql('select version, changed, actor_id, reason from risk_versions where risk_key = $1', [body.riskKey]),
    ).toEqual([
      {
        version: 1,
        changed: expect.arrayContaining(['title', 'residual', 'ownerId']),
        actor_id: 'mgr',
        reason: 'raised in the register',
      },
    ]);
    expect(
      await h.sql(`select actor_id from audit_events where action = 'risk.created' and payload->>'riskKey' = $1`, [
        body.riskKey,
      ]),
    ).toEqual([{ actor_id: 'mgr' }]);
  });

  it('compliance above appetite (4): a residual of 2×3 is above it', async () => {
    const risk = await raise({ category: 'compliance', residual: { probability: 2, impact: 3 } });
    expect(risk).toMatchObject({ appetite: 4, aboveAppetite: true, residual: { level: 'medium' } });
  });

  it('refuses a given level, a residual above the inherent, a bad owner, a duplicate key, and who may not raise', async () => {
    await expectRefused(
      () =>
        h.api('POST', '/api/risks', {
          as: 'lead',
          json: { ...riskBody(), residual: { probability: 2, impact: 3, level: 'low' } },
        }),
      400,
    );
    await expectRefused(
      () => h.api('POST', '/api/risks', { as: 'lead', json: { ...riskBody(), aboveAppetite: false } }),
      400,
    );
    const worse = await expectRefused(
      () => h.api('POST', '/api/risks', { as: 'lead', json: riskBody({ residual: { probability: 5, impact: 5 } }) }),
      400,
    );
    expect(worse.error.details[0].field).toBe('body.residual');
    await expectRefused(() => h.api('POST', '/api/risks', { as: 'lead', json: riskBody({ ownerId: 'auditor' }) }), 400);
    await expectRefused(
      () => h.api('POST', '/api/risks', { as: 'lead', json: riskBody({ inherent: { probability: 6, impact: 1 } }) }),
      400,
    );
    await expectRefused(
      () => h.api('POST', '/api/risks', { as: 'lead', json: riskBody({ category: 'weather' }) }),
      400,
    );
    for (const as of ['owner', 'approver2', 'auditor', 'internalAudit'] as const) {
      await expectRefused(() => h.api('POST', '/api/risks', { as, json: riskBody() }), 403);
    }
    const existing = await raise();
    await expectRefused(
      () => h.api('POST', '/api/risks', { as: 'lead', json: riskBody({ riskKey: existing.key }) }),
      409,
    );
  });
});

describe('changes are versioned and audited; the register reads as of any instant', () => {
  it('PATCH by the risk function or the owner’s line manager, with a reason; never by another manager', async () => {
    const risk = await raise({ ownerId: 'legal1' });
    await expectRefused(
      () => h.api('PATCH', `/api/risks/${risk.key}`, { as: 'manager', json: { title: 'x', reason: 'try' } }),
      403,
      'NOT_RISK_EDITOR',
    );
    await expectRefused(() => h.api('PATCH', `/api/risks/${risk.key}`, { as: 'approver', json: { title: 'x' } }), 400);
    await expectRefused(
      () =>
        h.api('PATCH', `/api/risks/${risk.key}`, {
          as: 'approver',
          json: { residual: { probability: 1, impact: 1 }, reason: 'r', level: 'low' },
        }),
      400,
    );
    await expectRefused(
      () => h.api('PATCH', `/api/risks/${risk.key}`, { as: 'approver', json: { title: risk.title, reason: 'same' } }),
      422,
      'NO_CHANGE',
    );
    await expectRefused(
      () => h.api('PATCH', `/api/risks/RISK-NOPE`, { as: 'approver', json: { title: 'x', reason: 'r' } }),
      404,
    );
    await expectRefused(
      () => h.api('PATCH', `/api/risks/${risk.key}`, { as: 'auditor', json: { title: 'x', reason: 'r' } }),
      403,
    );

    // The owner's line manager may change it.
    await h.sql(`update users set manager_id = 'mgr' where id = 'legal1'`);
    try {
      const byManager = await h.api('PATCH', `/api/risks/${risk.key}`, {
        as: 'manager',
        json: { residual: { probability: 1, impact: 3 }, reason: 'failover provider contracted' },
      });
      expect(byManager.status, JSON.stringify(byManager.body)).toBe(200);
      expect(byManager.body).toMatchObject({ version: 2, residual: { score: 3, level: 'low' } });
    } finally {
      await h.sql(`update users set manager_id = null where id = 'legal1'`);
    }
    const byRisk = await h.api('PATCH', `/api/risks/${risk.key}`, {
      as: 'approver',
      json: { title: 'Payment gateway outage', cause: 'Single provider', reason: 'reworded after the Q3 review' },
    });
    expect(byRisk.status).toBe(200);
    expect(byRisk.body.version).toBe(3);

    const versions = await h.api('GET', `/api/risks/${risk.key}/versions`, { as: 'auditor' });
    expect(versions.status).toBe(200);
    expect(versions.body.versions.map((v: any) => [v.version, v.changed, v.actorId, v.reason])).toEqual([
      [1, expect.any(Array), 'lead', 'raised in the register'],
      [2, ['residual'], 'mgr', 'failover provider contracted'],
      [3, ['title', 'cause'], 'appr1', 'reworded after the Q3 review'],
    ]);
    expect(
      await h.sql(
        `select actor_id, reason, payload->'changed' as changed from audit_events where action = 'risk.updated' and payload->>'riskKey' = $1 order by seq`,
        [risk.key],
      ),
    ).toEqual([
      { actor_id: 'mgr', reason: 'failover provider contracted', changed: ['residual'] },
      { actor_id: 'appr1', reason: 'reworded after the Q3 review', changed: ['title', 'cause'] },
    ]);
  });

  it('reads the register and one risk as of a past instant', async () => {
    const before = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
    const risk = await raise({ category: 'market' });
    const [{ valid_from: v1 }] = await h.sql(
      `select valid_from::text from risk_versions where risk_key = $1 and version = 1`,
      [risk.key],
    );
    const afterV1 = new Date(new Date(v1).getTime() + 1).toISOString();
    await new Promise((r) => setTimeout(r, 20));
    expect(
      (
        await h.api('PATCH', `/api/risks/${risk.key}`, {
          as: 'approver',
          json: {
            residual: { probability: 4, impact: 4 },
            inherent: { probability: 5, impact: 5 },
            reason: 'volatility',
          },
        })
      ).status,
    ).toBe(200);

    const then = await h.api('GET', `/api/risks/${risk.key}?asOf=${enc(afterV1)}`, { as: 'auditor' });
    expect(then.status).toBe(200);
    expect(then.body).toMatchObject({ version: 1, residual: { score: 6, level: 'medium' }, aboveAppetite: false });
    const now = await h.api('GET', `/api/risks/${risk.key}`, { as: 'auditor' });
    expect(now.body).toMatchObject({ version: 2, residual: { score: 16, level: 'high' }, aboveAppetite: true });

    const notYet = await h.api('GET', `/api/risks/${risk.key}?asOf=${enc(before)}`, { as: 'auditor' });
    expect(notYet.status).toBe(404);
    const listThen = await h.api('GET', `/api/risks?category=market&asOf=${enc(afterV1)}&pageSize=100`, {
      as: 'auditor',
    });
    expect(listThen.body.items.find((r: any) => r.key === risk.key)).toMatchObject({ version: 1 });
    const listBefore = await h.api('GET', `/api/risks?category=market&asOf=${enc(before)}&pageSize=100`, {
      as: 'auditor',
    });
    expect(listBefore.body.items.find((r: any) => r.key === risk.key)).toBeUndefined();
    expect((await h.api('GET', `/api/risks?asOf=yesterday`, { as: 'auditor' })).status).toBe(400);
  });

  it('lists with filters (category, level, owner, aboveAppetite) and paging', async () => {
    const a = await raise({ category: 'liquidity', ownerId: 'ia1', residual: { probability: 3, impact: 3 } });
    const b = await raise({ category: 'liquidity', ownerId: 'ia1', residual: { probability: 1, impact: 2 } });
    const keys = (res: any) => res.body.items.map((r: any) => r.key);
    const above = await h.api('GET', '/api/risks?category=liquidity&aboveAppetite=true', { as: 'auditor' });
    expect(keys(above)).toEqual([a.key]);
    const within = await h.api('GET', '/api/risks?category=liquidity&aboveAppetite=false', { as: 'auditor' });
    expect(keys(within)).toEqual([b.key]);
    const low = await h.api('GET', '/api/risks?owner=ia1&level=low', { as: 'auditor' });
    expect(keys(low)).toEqual([b.key]);
    const page1 = await h.api('GET', '/api/risks?owner=ia1&pageSize=1', { as: 'owner' });
    const page2 = await h.api('GET', '/api/risks?owner=ia1&pageSize=1&page=2', { as: 'owner' });
    expect(page1.body.total).toBe(2);
    expect([...keys(page1), ...keys(page2)].sort()).toEqual([a.key, b.key].sort());
    expect((await h.api('GET', '/api/risks?level=extreme', { as: 'auditor' })).status).toBe(400);
  });
});

describe('controls: tested by the second or third line, never their owner', () => {
  it('adds a control and records its test; the owner and the business line may not test it', async () => {
    const risk = await raise();
    await expectRefused(
      () =>
        h.api('POST', `/api/risks/${risk.key}/controls`, {
          as: 'lead',
          json: { title: 'Daily failover check', ownerId: 'appr1', frequency: 'hourly' },
        }),
      400,
    );
    await expectRefused(
      () =>
        h.api('POST', `/api/risks/${risk.key}/controls`, {
          as: 'manager',
          json: { title: 'Daily failover check', ownerId: 'appr1', frequency: 'daily' },
        }),
      403,
      'NOT_RISK_EDITOR',
    );
    const added = await h.api('POST', `/api/risks/${risk.key}/controls`, {
      as: 'lead',
      json: { title: 'Daily failover check', ownerId: 'appr1', frequency: 'daily' },
    });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    expect(added.body).toMatchObject({ ownerId: 'appr1', frequency: 'daily', lastTest: { result: 'not_tested' } });
    const testPath = `/api/risks/${risk.key}/controls/${added.body.id}/tests`;

    await expectRefused(
      () => h.api('POST', testPath, { as: 'approver', json: { result: 'effective' } }),
      422,
      'SEGREGATION_OF_DUTIES',
    );
    await expectRefused(() => h.api('POST', testPath, { as: 'manager', json: { result: 'effective' } }), 403);
    await expectRefused(() => h.api('POST', testPath, { as: 'risk2', json: { result: 'not_tested' } }), 400);
    await expectRefused(
      () =>
        h.api('POST', `/api/risks/${risk.key}/controls/CTL-NOPE/tests`, { as: 'risk2', json: { result: 'effective' } }),
      404,
    );

    const tested = await h.api('POST', testPath, {
      as: 'internalAudit',
      json: { result: 'partially_effective', note: 'failover ran, took 14 minutes' },
    });
    expect(tested.status, JSON.stringify(tested.body)).toBe(201);
    const shown = await h.api('GET', `/api/risks/${risk.key}`, { as: 'auditor' });
    expect(shown.body.controls).toEqual([
      expect.objectContaining({
        id: added.body.id,
        lastTest: expect.objectContaining({ result: 'partially_effective', testedBy: 'ia1' }),
      }),
    ]);
    expect(
      await h.sql(
        `select actor_id, payload->>'result' as result from audit_events where action = 'risk.control_tested'`,
      ),
    ).toEqual([{ actor_id: 'ia1', result: 'partially_effective' }]);
  });
});

describe('links to the cases that touch a risk', () => {
  it('links an existing case, shows its process and status; refuses an unknown case and a second link', async () => {
    const risk = await raise();
    const finding = await h.api('POST', '/api/audit-findings', {
      as: 'internalAudit',
      json: {
        title: 'Failover never exercised',
        description: 'No record of a failover test in 2026.',
        severity: 'medium',
        area: 'operations',
        remedy: 'rectification',
        ownerId: 'owner',
      },
    });
    expect(finding.status, JSON.stringify(finding.body)).toBe(201);
    running.add(finding.body.caseId);
    running.add(finding.body.remedyCaseId);

    await expectRefused(
      () => h.api('POST', `/api/risks/${risk.key}/links`, { as: 'lead', json: { caseId: 'incident:NOPE' } }),
      404,
    );
    await expectRefused(
      () => h.api('POST', `/api/risks/${risk.key}/links`, { as: 'owner', json: { caseId: finding.body.caseId } }),
      403,
    );
    const linked = await h.api('POST', `/api/risks/${risk.key}/links`, {
      as: 'internalAudit',
      json: { caseId: finding.body.caseId },
    });
    expect(linked.status, JSON.stringify(linked.body)).toBe(201);
    await expectRefused(
      () => h.api('POST', `/api/risks/${risk.key}/links`, { as: 'lead', json: { caseId: finding.body.caseId } }),
      409,
    );
    const shown = await h.api('GET', `/api/risks/${risk.key}`, { as: 'auditor' });
    expect(shown.body.links).toEqual([
      expect.objectContaining({
        caseId: finding.body.caseId,
        process: 'audit_finding',
        status: 'open',
        linkedBy: 'ia1',
      }),
    ]);
  });
});

describe('risk acceptance: an approved decision that turns stale', () => {
  it('refuses who may not ask, a bad expiry, and a second open acceptance', async () => {
    const risk = await raise({ ownerId: 'owner' });
    const ask = (as: TestUser, json: Record<string, unknown>) =>
      h.api('POST', `/api/risks/${risk.key}/acceptances`, { as, json });
    await expectRefused(
      () => ask('approver', { reason: 'tolerable', expiresAt: inDays(30) }),
      403,
      'NOT_OWNER_OR_MANAGER',
    );
    await expectRefused(() => ask('auditor', { reason: 'tolerable', expiresAt: inDays(30) }), 403);
    const tooFar = await expectRefused(() => ask('owner', { reason: 'tolerable', expiresAt: inDays(400) }), 400);
    expect(tooFar.error.message).toContain('365 days');
    await expectRefused(() => ask('owner', { reason: 'tolerable', expiresAt: inDays(-1) }), 400);
    await expectRefused(() => ask('owner', { expiresAt: inDays(30) }), 400);

    const first = await askAcceptance(
      risk.key,
      { reason: 'tolerable until the second provider', expiresAt: inDays(90) },
      'owner',
    );
    expect(first).toMatchObject({ caseId: `risk-acceptance:${risk.key}:1`, approvalsRequired: 1 });
    const [task] = await h.sql('select candidate_roles, excluded_user_ids from tasks where id = $1', [
      first.approvalTaskId,
    ]);
    expect(task).toEqual({ candidate_roles: ['risk', 'compliance'], excluded_user_ids: ['owner'] });
    await expectRefused(() => ask('manager', { reason: 'again', expiresAt: inDays(30) }), 409, 'ACCEPTANCE_OPEN');
    const shown = await h.api('GET', `/api/risks/${risk.key}`, { as: 'auditor' });
    expect(shown.body.acceptance).toMatchObject({ caseId: first.caseId, status: 'requested' });

    // Rejected: nothing is accepted, and a new request may be made.
    const rejected = await decide(first.approvalTaskId, 'approver2', {
      decision: 'reject',
      comment: 'treat it instead',
    });
    expect(rejected.status, JSON.stringify(rejected.body)).toBe(200);
    const after = await h.api('GET', `/api/risks/${risk.key}`, { as: 'auditor' });
    expect(after.body.acceptance).toMatchObject({ caseId: first.caseId, status: 'rejected' });
    const second = await askAcceptance(risk.key, { reason: 'second try', expiresAt: inDays(30) }, 'manager');
    expect(second.caseId).toBe(`risk-acceptance:${risk.key}:2`);
  });

  it('approved by another function than requester and owner; a residual change makes it stale, audited, due for review', async () => {
    // The owner is a risk officer: an approver, but not for their own risk.
    const risk = await raise({ ownerId: 'appr1' });
    const { caseId, approvalTaskId } = await askAcceptance(
      risk.key,
      { reason: 'within tolerance for Q4', expiresAt: inDays(60) },
      'manager',
    );
    const [task] = await h.sql('select excluded_user_ids from tasks where id = $1', [approvalTaskId]);
    expect(task.excluded_user_ids).toEqual(expect.arrayContaining(['mgr', 'appr1']));
    const barred = await decide(approvalTaskId, 'approver', { decision: 'approve' });
    expect(barred.status).toBe(422);
    expect(barred.body.error.reason).toBe('SEGREGATION_OF_DUTIES');
    const legal = await decide(approvalTaskId, 'legal', { decision: 'approve' });
    expect(legal.status).toBe(403);

    const approved = await decide(approvalTaskId, 'approver2', { decision: 'approve' });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    const inForce = await h.api('GET', `/api/risks/${risk.key}`, { as: 'auditor' });
    expect(inForce.body.acceptance).toMatchObject({
      caseId,
      status: 'active',
      residual: { probability: 2, impact: 3, level: 'medium' },
      approvedBy: ['appr2'],
      staleReason: null,
    });
    expect((await h.sql('select stage, status from cases where id = $1', [caseId]))[0]).toEqual({
      stage: 'in_force',
      status: 'open',
    });

    // A change that leaves the residual rating alone keeps it in force.
    expect(
      (await h.api('PATCH', `/api/risks/${risk.key}`, { as: 'risk2', json: { title: 'Renamed', reason: 'wording' } }))
        .status,
    ).toBe(200);
    expect((await h.api('GET', `/api/risks/${risk.key}`, { as: 'auditor' })).body.acceptance.status).toBe('active');

    const changed = await h.api('PATCH', `/api/risks/${risk.key}`, {
      as: 'risk2',
      json: { residual: { probability: 3, impact: 3 }, reason: 'provider incident in November' },
    });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(changed.body.acceptance).toMatchObject({ status: 'stale', staleReason: 'rating_changed' });
    const reviewDue = new Date(changed.body.acceptance.reviewDue).getTime();
    expect(Math.abs(reviewDue - Date.now() - 30 * 86_400_000)).toBeLessThan(60_000);
    expect(
      await h.sql(`select actor_id, reason from audit_events where action = 'risk.acceptance_stale' and case_id = $1`, [
        caseId,
      ]),
    ).toEqual([{ actor_id: 'risk2', reason: expect.stringContaining('2×3 → 3×3') }]);
    expect((await h.sql('select status, outcome from cases where id = $1', [caseId]))[0]).toEqual({
      status: 'closed',
      outcome: 'closed_out',
    });
    expect(
      await h.sql(`select recipient_id from notifications where case_id = $1 and kind = 'expiry'`, [caseId]),
    ).toEqual([{ recipient_id: 'appr1' }]);
    expect(await h.temporal.workflow.getHandle(caseId).result()).toEqual({
      outcome: 'stale',
      staleReason: 'rating_changed',
    });
    await saveHistoryFixture(h, caseId, 'risk-acceptance-stale-rating-changed');
    running.delete(caseId);
  });

  it('a high residual needs two approvers of two functions', async () => {
    const risk = await raise({ ownerId: 'owner', residual: { probability: 4, impact: 4 } });
    const { caseId, approvalTaskId, approvalsRequired } = await askAcceptance(
      risk.key,
      { reason: 'no treatment available this year', expiresAt: inDays(30) },
      'owner',
    );
    expect(approvalsRequired).toBe(2);
    expect((await decide(approvalTaskId, 'approver', { decision: 'approve' })).body.status).toBe('open');
    const same = await decide(approvalTaskId, 'risk2', { decision: 'approve' });
    expect(same.status).toBe(422);
    expect(same.body.error.reason).toBe('FOUR_EYES');
    expect((await h.api('GET', `/api/risks/${risk.key}`, { as: 'auditor' })).body.acceptance.status).toBe('requested');
    expect((await decide(approvalTaskId, 'approver2', { decision: 'approve' })).body.status).toBe('approved');
    const shown = await h.api('GET', `/api/risks/${risk.key}`, { as: 'auditor' });
    expect(shown.body.acceptance).toMatchObject({
      caseId,
      status: 'active',
      residual: { level: 'high' },
      approvedBy: ['appr1', 'appr2'],
    });
  });

  it('approved after the residual rating moved: nothing is accepted (approvers saw another rating)', async () => {
    const risk = await raise({ ownerId: 'owner' });
    const { caseId, approvalTaskId } = await askAcceptance(
      risk.key,
      { reason: 'tolerable', expiresAt: inDays(30) },
      'owner',
    );
    const moved = await h.api('PATCH', `/api/risks/${risk.key}`, {
      as: 'approver',
      json: { residual: { probability: 3, impact: 3 }, reason: 'new exposure' },
    });
    expect(moved.status).toBe(200);
    expect(moved.body.acceptance).toMatchObject({ caseId, status: 'requested' });
    expect((await decide(approvalTaskId, 'approver2', { decision: 'approve' })).status).toBe(200);
    const shown = await h.api('GET', `/api/risks/${risk.key}`, { as: 'auditor' });
    expect(shown.body.acceptance).toMatchObject({ caseId, status: 'cancelled', approvedAt: null });
    expect((await h.sql('select outcome from cases where id = $1', [caseId]))[0].outcome).toBe('cancelled');
    expect(
      await h.sql(`select reason from audit_events where action = 'risk.acceptance_cancelled' and case_id = $1`, [
        caseId,
      ]),
    ).toEqual([{ reason: expect.stringContaining('2×3 → 3×3') }]);
    running.delete(caseId);
  });

  it('nobody decides by the final deadline: the request lapses and nothing is accepted', async () => {
    const risk = await raise({ ownerId: 'owner' });
    const { caseId } = await askAcceptance(
      risk.key,
      {
        reason: 'tolerable',
        expiresAt: inDays(30),
        timings: { approval: { remindAfter: '1s', escalateAfter: '2s', expireAfter: '3s' } },
      },
      'owner',
    );
    expect(await h.temporal.workflow.getHandle(caseId).result()).toEqual({ outcome: 'lapsed' });
    running.delete(caseId);
    const shown = await h.api('GET', `/api/risks/${risk.key}`, { as: 'auditor' });
    expect(shown.body.acceptance).toMatchObject({ caseId, status: 'lapsed', approvedAt: null });
    expect((await h.sql('select outcome from cases where id = $1', [caseId]))[0].outcome).toBe('expired');
  });

  it('expires on its durable timer and turns stale', async () => {
    const risk = await raise({ ownerId: 'owner' });
    const expiresAt = new Date(Date.now() + 6_000).toISOString();
    const { caseId, approvalTaskId } = await askAcceptance(
      risk.key,
      { reason: 'short acceptance', expiresAt },
      'owner',
    );
    expect((await decide(approvalTaskId, 'approver', { decision: 'approve' })).status).toBe(200);
    expect((await h.api('GET', `/api/risks/${risk.key}`, { as: 'auditor' })).body.acceptance.status).toBe('active');
    expect(await h.temporal.workflow.getHandle(caseId).result()).toEqual({ outcome: 'stale', staleReason: 'expired' });
    await saveHistoryFixture(h, caseId, 'risk-acceptance-stale-expired');
    running.delete(caseId);
    const shown = await h.api('GET', `/api/risks/${risk.key}`, { as: 'auditor' });
    expect(shown.body.acceptance).toMatchObject({ status: 'stale', staleReason: 'expired' });
    expect(new Date(shown.body.acceptance.staleAt).getTime()).toBeGreaterThanOrEqual(new Date(expiresAt).getTime());
    expect(
      await h.sql(`select actor_id from audit_events where action = 'risk.acceptance_stale' and case_id = $1`, [
        caseId,
      ]),
    ).toEqual([{ actor_id: 'system' }]);
    // A later residual change finds nothing in force and tells nobody.
    const later = await h.api('PATCH', `/api/risks/${risk.key}`, {
      as: 'approver',
      json: { residual: { probability: 1, impact: 1 }, reason: 'treated' },
    });
    expect(later.status).toBe(200);
    expect(later.body.acceptance.staleReason).toBe('expired');
  });
});
