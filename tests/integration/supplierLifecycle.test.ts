/**
 * The supplier lifecycle (issue 11 §6) on the real Temporal dev server and
 * PostgreSQL: a supplier is pending until its first review is approved; a
 * review that lapses escalates, flags the supplier and keeps its next review
 * scheduled; a reassessment within the year has its own id and needs a
 * reason; a decision against the rules' recommendation gives its reason; a
 * review runs under the policy in force, and per-case timings are refused
 * unless the deployment allows them. Each rule: the refusal (status, reason,
 * no history event, nothing written) and the allowed path.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, mergePolicy, type PolicyValues } from '../../domain/policy';
import {
  createDriver,
  creditCodes,
  databaseSnapshot,
  endWorkflows,
  expectNotStarted,
  PERFORMANCE,
  quiet,
  REVIEW_DOCUMENTS,
  snapshot,
} from '../support/drive';
import { eventually, useHarness, type TestUser } from '../support/harness';
import { saveHistoryFixture } from '../support/histories';

const h = useHarness('supplierlifecycle');
const enc = encodeURIComponent;
/** Codes of this file (prefix 91310000MA4): review workflow ids are global on the shared dev server. */
const running = new Set<string>();
const drive = createDriver(h, {
  label: 'Lifecycle',
  creditCode: creditCodes('91310000MA4'),
  started: (_kind, id) => running.add(id),
  ended: (_kind, id) => running.delete(id),
});
afterAll(() => endWorkflows(h, running, 'supplier lifecycle tests done'));

const THIS_YEAR = new Date().getUTCFullYear();
/** A decision ladder the tests can watch lapse: reminded after 1 s, escalated after 2 s, expired after 3 s. */
const SHORT_APPROVAL = { remindAfter: '1s', escalateAfter: '2s', expireAfter: '3s' };
const scoresOf = (n: number) => ({
  legal_compliance: n,
  financial_stability: n,
  technical_capability: n,
  market_reputation: n,
  cooperation_history: n,
});

const supplierRow = async (id: string) => (await h.sql('select * from suppliers where id = $1', [id]))[0];
const caseRow = async (id: string) =>
  (
    await h.sql(
      'select status, stage, outcome, risk_level, policy_version, title, description, data from cases where id = $1',
      [id],
    )
  )[0];
const decide = (taskId: string, as: TestUser, json: Record<string, unknown>) =>
  h.api('POST', `/api/tasks/${enc(taskId)}/decision`, { as, json });
const scheduleOf = (supplierId: string) => h.temporal.schedule.getHandle(`supplier-review-schedule:${supplierId}`);

async function startReview(supplierId: string, year: number, timings?: Record<string, unknown>) {
  const res = await h.api('POST', '/api/supplier-reviews', { as: 'lead', json: { supplierId, year, timings } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  running.add(res.body.caseId);
  return res.body.caseId as string;
}

/** Documents, checks and scores by the reviewer (mgr): answers with the decision task open. */
async function toDecision(caseId: string, score = 5, impact = 2) {
  for (const documentType of REVIEW_DOCUMENTS) {
    const form = new FormData();
    form.append('file', new File([Buffer.from(`${documentType} of ${caseId}`)], 'doc.pdf'));
    form.append('documentType', documentType);
    const up = await h.api('POST', `/api/supplier-reviews/${enc(caseId)}/documents`, { as: 'manager', body: form });
    expect(up.status, JSON.stringify(up.body)).toBe(200);
  }
  const checks = await h.api('POST', `/api/supplier-reviews/${enc(caseId)}/checks`, {
    as: 'manager',
    json: { creditRating: 'AA', backgroundCheck: 'clear' },
  });
  expect(checks.status, JSON.stringify(checks.body)).toBe(200);
  const scored = await h.api('POST', `/api/supplier-reviews/${enc(caseId)}/scores`, {
    as: 'manager',
    json: { scores: scoresOf(score), impact },
  });
  expect(scored.status, JSON.stringify(scored.body)).toBe(200);
  const taskId = `${caseId}:decision`;
  expect(await h.sql('select 1 from tasks where id = $1', [taskId])).toHaveLength(1);
  return taskId;
}

async function closed(caseId: string) {
  await h.temporal.workflow.getHandle(caseId).result();
  running.delete(caseId);
  return caseRow(caseId);
}

describe('a new supplier is pending until its first review is approved', () => {
  it('registers pending; PATCH may not make it active; its approved first review does', async () => {
    const supplierId = await drive.registerSupplier({ status: 'pending' });
    const detail = await h.api('GET', `/api/suppliers/${supplierId}`, { as: 'auditor' });
    expect(detail.body.supplier).toMatchObject({ status: 'pending', reviewOverdue: null, nextReviewDue: null });

    // Refused: a status is never edited, whoever asks.
    const before = await databaseSnapshot(h);
    const patched = await h.api('PATCH', `/api/suppliers/${supplierId}`, {
      as: 'admin',
      json: { status: 'active', reason: 'we know them well' },
    });
    expect(patched.status).toBe(422);
    expect(patched.body.error).toMatchObject({ code: 'UNPROCESSABLE', reason: 'STATUS_BY_DECISION_ONLY' });
    expect(patched.body.error.message).toMatch(/body\.status.*POST \/api\/suppliers\/\w+\/status-changes/);
    expect(patched.body.error.details).toEqual([
      { field: 'body.status', message: expect.stringMatching(/status-changes/) },
    ]);
    expect(await databaseSnapshot(h)).toEqual(before);

    // Allowed: the first review, approved at low risk, starts the cooperation.
    const caseId = await startReview(supplierId, 2025);
    expect((await caseRow(caseId)).policy_version).toBe(1);
    const taskId = await toDecision(caseId, 5, 2);
    expect((await supplierRow(supplierId)).status).toBe('pending');
    expect((await decide(taskId, 'approver', { decision: 'approve' })).body.status).toBe('approved');
    expect(await closed(caseId)).toMatchObject({ outcome: 'approved' });
    expect(await supplierRow(supplierId)).toMatchObject({ status: 'active', last_review_case_id: caseId });
    const applied = await h.sql(
      `select actor_id, payload from audit_events where action = 'supplier.review_applied' and case_id = $1`,
      [caseId],
    );
    expect(applied).toEqual([{ actor_id: 'appr1', payload: expect.objectContaining({ status: 'active' }) }]);
  });

  it('approved with a restricted scope it becomes restricted; ended by its first review, terminated', async () => {
    const restrictedId = await drive.registerSupplier({ status: 'pending' });
    const caseId = await startReview(restrictedId, 2025);
    // Score 4, impact 3: 2 × 3 = 6, medium, so conditions are recommended.
    const taskId = await toDecision(caseId, 4, 3);
    expect((await caseRow(caseId)).data.grade.recommendation).toBe('approve_with_conditions');
    const res = await decide(taskId, 'approver', {
      decision: 'approve_with_conditions',
      conditions: ['restricted_scope: no cold-chain goods'],
    });
    expect(res.body.status).toBe('approved_with_conditions');
    await closed(caseId);
    expect(await supplierRow(restrictedId)).toMatchObject({
      status: 'restricted',
      conditions: [expect.objectContaining({ type: 'restricted_scope', detail: 'no cold-chain goods', caseId })],
    });

    const endedId = await drive.registerSupplier({ status: 'pending' });
    const second = await startReview(endedId, 2025);
    const endTask = await toDecision(second, 5, 2);
    await decide(endTask, 'approver', { decision: 'terminate', comment: 'found a better partner' });
    expect((await decide(endTask, 'approver2', { decision: 'terminate', comment: 'agreed' })).body.status).toBe(
      'terminated',
    );
    await closed(second);
    expect(await supplierRow(endedId)).toMatchObject({ status: 'terminated', next_review_due: null });
  });
});

describe('a review that lapses undecided', () => {
  it('escalates, flags the supplier and keeps its yearly Schedule; a late decision changes nothing', async () => {
    // Active, with its next review scheduled by its first review (FIRST_REVIEW_YEAR).
    const supplierId = await drive.registerSupplier();
    const scheduledDue: Date = (await supplierRow(supplierId)).next_review_due;
    expect(scheduledDue.getTime()).toBeGreaterThan(Date.now() + 300 * 86_400_000);

    const caseId = await startReview(supplierId, 2025, { approval: SHORT_APPROVAL });
    const taskId = await toDecision(caseId);
    const row = await eventually(async () => {
      const r = await caseRow(caseId);
      return r?.status === 'closed' ? r : null;
    }, 20_000);
    running.delete(caseId);
    expect(row).toMatchObject({ outcome: 'expired' });
    expect(row.data.lapsed).toEqual({ supplierFlagged: true, escalatedTo: 'manager' });

    // Escalated: at the escalation rung and again when it lapsed, to the managers (one role up from risk).
    const notes = await h.sql('select kind, recipient_role, message from notifications where task_id = $1', [taskId]);
    expect(notes).toContainEqual(expect.objectContaining({ kind: 'escalation', recipient_role: 'manager' }));
    expect(notes).toContainEqual({
      kind: 'expiry',
      recipient_role: 'manager',
      message: expect.stringMatching(/had no decision by its final deadline; the supplier is flagged review-overdue/),
    });

    // Flagged, visibly; its status is what it was; its next review is still due, and scheduled.
    const detail = await h.api('GET', `/api/suppliers/${supplierId}`, { as: 'auditor' });
    expect(detail.body.supplier).toMatchObject({
      status: 'active',
      reviewOverdue: { caseId, since: expect.any(String) },
      nextReviewDue: scheduledDue.toISOString(),
    });
    const schedule = await scheduleOf(supplierId).describe();
    expect(schedule.state.paused).toBe(false);
    expect(schedule.spec.calendars?.[0]?.year).toEqual([
      { start: scheduledDue.getUTCFullYear(), end: scheduledDue.getUTCFullYear(), step: 1 },
    ]);
    expect(
      await h.sql(`select actor_id from audit_events where action = 'supplier.review_overdue' and case_id = $1`, [
        caseId,
      ]),
    ).toEqual([{ actor_id: 'system' }]);

    // A decision after the lapse is refused, and changes nothing.
    const before = await databaseSnapshot(h);
    const late = await decide(taskId, 'approver', { decision: 'approve' });
    expect(late.status).toBe(409);
    expect(await databaseSnapshot(h)).toEqual(before);
    expect((await supplierRow(supplierId)).status).toBe('active');
    await saveHistoryFixture(h, caseId, 'supplier-review-lapsed');
  });

  it('a pending supplier’s lapsed first review leaves it pending and schedules the next; a decided review clears the flag', async () => {
    const supplierId = await drive.registerSupplier({ status: 'pending' });
    await expect(scheduleOf(supplierId).describe()).rejects.toThrow();
    const caseId = await startReview(supplierId, 2025, { approval: SHORT_APPROVAL });
    await toDecision(caseId);
    await eventually(async () => (await caseRow(caseId))?.status === 'closed', 20_000);
    running.delete(caseId);

    const supplier = await supplierRow(supplierId);
    expect(supplier).toMatchObject({ status: 'pending', review_overdue_case_id: caseId });
    // The policy's interval (12 months) from the lapse.
    const dueIn = supplier.next_review_due.getTime() - Date.now();
    expect(dueIn).toBeGreaterThan(360 * 86_400_000);
    expect(dueIn).toBeLessThan(367 * 86_400_000);
    const schedule = await scheduleOf(supplierId).describe();
    expect(schedule.action).toMatchObject({ type: 'startWorkflow', workflowType: 'supplierReviewLauncherWorkflow' });
    const due: Date = supplier.next_review_due;
    expect(schedule.spec.calendars?.[0]).toMatchObject({
      year: [{ start: due.getUTCFullYear(), end: due.getUTCFullYear(), step: 1 }],
      dayOfMonth: [{ start: due.getUTCDate(), end: due.getUTCDate(), step: 1 }],
    });

    // The next review, decided, starts the cooperation and clears the flag.
    const next = await startReview(supplierId, 2026);
    await decide(await toDecision(next), 'approver', { decision: 'approve' });
    await closed(next);
    const detail = await h.api('GET', `/api/suppliers/${supplierId}`, { as: 'auditor' });
    expect(detail.body.supplier).toMatchObject({ status: 'active', reviewOverdue: null, lastReviewCaseId: next });
  });
});

describe('a reassessment on a material change', () => {
  it('needs a reason, waits for the open review, and runs under its own id', async () => {
    const supplierId = await drive.registerSupplier();
    const path = `/api/suppliers/${supplierId}/reassessments`;
    const r1 = `supplier-review:${supplierId}:${THIS_YEAR}-r1`;

    // Refused: no reason.
    const before = await databaseSnapshot(h);
    const noReason = await h.api('POST', path, { as: 'lead', json: { trigger: 'performance' } });
    expect(noReason.status).toBe(400);
    expect(noReason.body.error.details).toContainEqual(expect.objectContaining({ field: 'body.reason' }));
    expect(await databaseSnapshot(h)).toEqual(before);
    await expectNotStarted(h, r1);

    // Refused: the year's review is still open; it is where the change is weighed.
    const annual = await startReview(supplierId, THIS_YEAR);
    await quiet(h, annual);
    const whileOpen = await snapshot(h, annual);
    const busy = await h.api('POST', path, {
      as: 'lead',
      json: { trigger: 'market', reason: 'A competitor bought the supplier' },
    });
    expect(busy.status).toBe(409);
    expect(busy.body.error).toMatchObject({ reason: 'REVIEW_OPEN', details: { openCaseId: annual } });
    expect(await snapshot(h, annual)).toEqual(whileOpen);
    await expectNotStarted(h, r1);
    await decide(await toDecision(annual), 'approver', { decision: 'approve' });
    await closed(annual);

    // Allowed: the first reassessment this year, beside the year's review.
    const opened = await h.api('POST', path, {
      as: 'lead',
      json: { trigger: 'performance', reason: 'Two quality incidents in May' },
    });
    expect(opened.status, JSON.stringify(opened.body)).toBe(201);
    expect(opened.body).toMatchObject({ caseId: r1, round: 1 });
    running.add(r1);
    const row = await caseRow(r1);
    expect(row).toMatchObject({ stage: 'documents', policy_version: 1, description: 'Two quality incidents in May' });
    expect(row.title).toMatch(new RegExp(`^Supplier reassessment ${THIS_YEAR} \\(r1, partner performance\\)`));
    expect(row.data.reassessment).toEqual({
      round: 1,
      trigger: 'performance',
      reason: 'Two quality incidents in May',
      requestedBy: 'lead',
    });
    // Its steps, decision and report take the -r1 id like any review's.
    const taskId = await toDecision(r1);
    const self = await decide(taskId, 'lead', { decision: 'approve' });
    expect(self.body.error.reason).toBe('SEGREGATION_OF_DUTIES');
    await decide(taskId, 'approver', { decision: 'approve', comment: 'incidents closed out' });
    await closed(r1);
    const report = await h.api('GET', `/api/supplier-reviews/${enc(r1)}/report`, { as: 'auditor' });
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({ caseId: r1, reviewYear: THIS_YEAR });
    expect((await supplierRow(supplierId)).last_review_case_id).toBe(r1);
    await saveHistoryFixture(h, r1, 'supplier-reassessment-approved');

    // The next one is r2.
    const again = await h.api('POST', path, { as: 'lead', json: { trigger: 'policy', reason: 'New import rules' } });
    expect(again.status, JSON.stringify(again.body)).toBe(201);
    expect(again.body).toMatchObject({ caseId: `supplier-review:${supplierId}:${THIS_YEAR}-r2`, round: 2 });
    running.add(again.body.caseId);
    // Documented in the OpenAPI registry /openapi.json is generated from.
    const documented = h.app.openAPIRegistry.definitions.find(
      (d) => d.type === 'route' && d.route.path === '/api/suppliers/{supplierId}/reassessments',
    );
    expect(documented?.type === 'route' && documented.route.description).toMatch(/§4\.1/);
  });

  it('is refused for a supplier that may not be reviewed', async () => {
    const supplierId = await drive.registerSupplier({ status: 'suspended' });
    const before = await databaseSnapshot(h);
    const res = await h.api('POST', `/api/suppliers/${supplierId}/reassessments`, {
      as: 'lead',
      json: { trigger: 'market', reason: 'Market collapse' },
    });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ reason: 'SUPPLIER_NOT_REVIEWABLE' });
    expect(res.body.error.message).toMatch(/suspended/);
    expect(await databaseSnapshot(h)).toEqual(before);
    await expectNotStarted(h, `supplier-review:${supplierId}:${THIS_YEAR}-r1`);
  });
});

describe('a decision against the rules’ recommendation', () => {
  it('approving what the rules would blacklist is refused without a reason, and stands with one', async () => {
    const supplierId = await drive.registerSupplier({ status: 'pending' });
    for (const year of [2023, 2024, 2025]) {
      const put = await h.api('PUT', `/api/suppliers/${supplierId}/performance/${year}`, {
        as: 'manager',
        json: { ...PERFORMANCE, financialStatementsAbnormal: true },
      });
      expect(put.status).toBe(200);
    }
    const caseId = await startReview(supplierId, 2025);
    const taskId = await toDecision(caseId, 5, 2);
    expect((await caseRow(caseId)).data.grade).toMatchObject({ recommendation: 'blacklist', riskGrade: 'high' });

    for (const decision of ['approve', 'approve_with_conditions']) {
      const before = await snapshot(h, caseId);
      const res = await decide(taskId, 'approver', {
        decision,
        ...(decision === 'approve_with_conditions' ? { conditions: ['guarantee: a bank guarantee'] } : {}),
      });
      expect(res.status).toBe(422);
      expect(res.body.error).toMatchObject({ code: 'UNPROCESSABLE', reason: 'REASON_AGAINST_RECOMMENDATION' });
      expect(res.body.error.message).toBe(
        `${decision} goes against the recommendation (blacklist): give the reason in comment`,
      );
      expect(res.body.error.details).toEqual({ recommendation: 'blacklist', decision });
      expect(await snapshot(h, caseId)).toEqual(before);
    }

    const reason = 'Statements restated after the 2025 audit; the auditor’s letter is on file';
    const first = await decide(taskId, 'approver', {
      decision: 'approve_with_conditions',
      conditions: ['restricted_scope: orders under CNY 100,000'],
      comment: reason,
    });
    expect(first.body.status).toBe('open');
    // High risk: a second approver of another function, who gives a reason too.
    const bare = await decide(taskId, 'approver2', { decision: 'approve' });
    expect(bare.body.error.reason).toBe('REASON_AGAINST_RECOMMENDATION');
    const second = await decide(taskId, 'approver2', { decision: 'approve', comment: 'letter checked' });
    expect(second.body.status).toBe('approved_with_conditions');
    await closed(caseId);
    expect((await supplierRow(supplierId)).status).toBe('restricted');
    const [task] = await h.sql('select votes from tasks where id = $1', [taskId]);
    expect(task.votes.map((v: { comment: string }) => v.comment)).toEqual([reason, 'letter checked']);
  });

  it('ending a cooperation the rules would keep is refused without a reason', async () => {
    const supplierId = await drive.registerSupplier({ status: 'pending' });
    const caseId = await startReview(supplierId, 2025);
    const taskId = await toDecision(caseId, 5, 2);
    expect((await caseRow(caseId)).data.grade.recommendation).toBe('approve');
    const before = await snapshot(h, caseId);
    const res = await decide(taskId, 'approver', { decision: 'terminate' });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({
      reason: 'REASON_AGAINST_RECOMMENDATION',
      message: 'terminate goes against the recommendation (approve): give the reason in comment',
    });
    expect(await snapshot(h, caseId)).toEqual(before);
    // As recommended, approval needs no reason.
    expect((await decide(taskId, 'approver', { decision: 'approve' })).body.status).toBe('approved');
    await closed(caseId);
  });
});

describe('the policy in force and locked clocks', () => {
  it('refuses per-case timings on review, reassessment and campaign starts unless the deployment allows them', async () => {
    const supplierId = await drive.registerSupplier();
    const timings = { approval: { expireAfter: '1s' } };
    h.settings.caseTimings = 'locked';
    try {
      const starts: Array<[string, Record<string, unknown>, string]> = [
        ['/api/supplier-reviews', { supplierId, year: 2025, timings }, `supplier-review:${supplierId}:2025`],
        [
          `/api/suppliers/${supplierId}/reassessments`,
          { trigger: 'market', reason: 'Prices doubled', timings },
          `supplier-review:${supplierId}:${THIS_YEAR}-r1`,
        ],
        ['/api/supplier-reviews/campaigns', { year: 2045, timings }, 'supplier-campaign:2045'],
      ];
      for (const [path, json, caseId] of starts) {
        const before = await databaseSnapshot(h);
        const res = await h.api('POST', path, { as: 'lead', json });
        expect(res.status, path).toBe(403);
        expect(res.body.error).toMatchObject({ reason: 'CASE_TIMINGS_LOCKED', details: { fields: ['timings'] } });
        expect(await databaseSnapshot(h)).toEqual(before);
        await expectNotStarted(h, caseId);
      }
      // Without timings the start is allowed, on the policy's clocks.
      const caseId = await startReview(supplierId, 2025);
      const [task] = await h.sql('select due_at, created_at from tasks where id = $1', [`${caseId}:documents`]);
      // The documents' ladder of the policy: escalated after 14 days (SUPPLIER_DOCUMENTS_TIMINGS).
      expect(task.due_at.getTime() - task.created_at.getTime()).toBeGreaterThan(13 * 86_400_000);
    } finally {
      h.settings.caseTimings = 'allow';
    }
  });

  it('takes clocks, weights, the logistics threshold and the review interval from the policy; Schedule-started reviews too', async () => {
    const supplierId = await drive.registerSupplier({ status: 'pending' });
    // 12% late deliveries: under the handbook's 15%, over this policy's 10%.
    const put = await h.api('PUT', `/api/suppliers/${supplierId}/performance/2025`, {
      as: 'manager',
      json: { ...PERFORMANCE, logisticsDelayRate: 0.12 },
    });
    expect(put.status).toBe(200);
    const values = mergePolicy(DEFAULT_POLICY, {
      supplier: {
        reviewIntervalMonths: 6,
        logisticsDelayThreshold: 0.1,
        documents: { remindAfter: '1s', escalateAfter: '2s', expireAfter: '2s' },
        dimensionWeights: {
          legal_compliance: 1,
          financial_stability: 0,
          technical_capability: 0,
          market_reputation: 0,
          cooperation_history: 0,
        },
      },
    }) as PolicyValues;
    await h.sql(
      `insert into policy_versions (version, values, changed, summary, requested_by, approved_by, change_case_id, effective_at)
       values (2, $1, $2, 'supplier test policy', 'appr2', '{appr1,legal1}', 'policy-change:supplier-test', now())`,
      [JSON.stringify(values), ['supplier.reviewIntervalMonths']],
    );
    try {
      // No per-case timings: the policy's documents ladder lapses in 2 s, and what is missing is a finding.
      const caseId = await startReview(supplierId, 2025);
      expect((await caseRow(caseId)).policy_version).toBe(2);
      await eventually(async () => (await caseRow(caseId))?.stage === 'checks', 20_000);
      await h.api('POST', `/api/supplier-reviews/${enc(caseId)}/checks`, {
        as: 'manager',
        json: { creditRating: 'AA', backgroundCheck: 'clear' },
      });
      const scored = await h.api('POST', `/api/supplier-reviews/${enc(caseId)}/scores`, {
        as: 'manager',
        json: { scores: { ...scoresOf(1), legal_compliance: 5 }, impact: 2 },
      });
      expect(scored.status, JSON.stringify(scored.body)).toBe(200);
      const graded = await caseRow(caseId);
      // Legal compliance is the whole score here (the defaults would give 2.2, probability 4).
      expect(graded.data.grade).toMatchObject({ weightedScore: 5, probability: 1, matrixLevel: 'low' });
      expect(graded.data.missingDocuments).toEqual(REVIEW_DOCUMENTS);
      expect(graded.data.findings.map((f: { rule: string }) => f.rule)).toEqual(['logistics_delay_15_percent']);
      const decided = await decide(`${caseId}:decision`, 'approver', {
        decision: 'approve_with_conditions',
        conditions: ['restricted_scope: local deliveries only'],
      });
      expect(decided.body.status).toBe('approved_with_conditions');
      await closed(caseId);
      const supplier = await supplierRow(supplierId);
      const dueIn = supplier.next_review_due.getTime() - Date.now();
      expect(dueIn).toBeGreaterThan(180 * 86_400_000);
      expect(dueIn).toBeLessThan(185 * 86_400_000);

      // The Schedule's review reads the policy in force itself.
      await scheduleOf(supplierId).trigger();
      const launched = `supplier-review:${supplierId}:${THIS_YEAR}`;
      running.add(launched);
      await eventually(async () => (await caseRow(launched))?.policy_version === 2, 20_000);
      await quiet(h, launched);
      const [documents] = await h.sql('select due_at, created_at from tasks where id = $1', [`${launched}:documents`]);
      expect(documents.due_at.getTime() - documents.created_at.getTime()).toBeLessThanOrEqual(2_000);
    } finally {
      await h.sql(`delete from policy_versions where version = 2`);
    }
  });
});
