/**
 * The annual supplier review (DOMAIN.md §1) through the API, on the real
 * Temporal dev server and PostgreSQL: grading by the matrix and the
 * handbook's rules, one or two approvers, blacklisting, missing documents at
 * the deadline, the annual campaign, Schedules, and the appraisal report.
 */
import { createHash } from 'node:crypto';
import { ScheduleNotFoundError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { campaignProgressQuery } from '../../contracts/supplierCampaign';
import { startSupplierCampaign } from '../../platform/cases';
import { creditCodeCheckChar } from '../../domain/uscc';
import type { supplierReviewWorkflow } from '../../workflows/supplierReview';
import { GovProcess, GovRiskLevel, GovStage } from '../../workflows/searchAttributes';
import { eventually, useHarness, type TestUser } from '../support/harness';
import { acceptedSteps, saveHistoryFixture } from '../support/histories';
import { expectOverdueStep, expectOwedStep, expectStepDone, SHORT_STEP } from '../support/steps';

const h = useHarness('supplier');
let serial = 0;

function newCreditCode(): string {
  serial += 1;
  const first17 = `91310000MA1${String(process.pid % 1000).padStart(3, '0')}${String(serial).padStart(3, '0')}`;
  return first17 + creditCodeCheckChar(first17);
}

async function registerSupplier(extra: Record<string, unknown> = {}) {
  const creditCode = newCreditCode();
  const res = await h.api('POST', '/api/suppliers', {
    as: 'manager',
    json: {
      creditCode,
      name: `Supplier ${creditCode.slice(-6)}`,
      category: 'logistics',
      tier: 'core',
      ownerId: 'mgr',
      ...extra,
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return creditCode;
}

const task = (caseId: string, name: string) => `${caseId}:${name}`;
const taskRow = async (taskId: string) => (await h.sql('select * from tasks where id = $1', [taskId]))[0];
const waitForTask = (taskId: string) => eventually(async () => taskRow(taskId), 20_000);

async function uploadDocument(caseId: string, documentType: string, as: TestUser = 'manager') {
  const form = new FormData();
  const content = `${documentType} of ${caseId}`;
  form.append('file', new File([Buffer.from(content)], `${documentType}.pdf`, { type: 'application/pdf' }));
  form.append('documentType', documentType);
  const res = await h.api('POST', `/api/supplier-reviews/${encodeURIComponent(caseId)}/documents`, { as, body: form });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.sha256).toBe(createHash('sha256').update(content).digest('hex'));
  return res.body;
}

const ALL_DOCUMENTS = ['business_licence', 'operating_permit', 'financial_statements', 'product_certificates'];
const scoresOf = (n: number) => ({
  legal_compliance: n,
  financial_stability: n,
  technical_capability: n,
  market_reputation: n,
  cooperation_history: n,
});

/** Start → documents → checks → scores: returns when the decision task is open. */
async function reviewToDecision(
  supplierId: string,
  options: {
    year?: number;
    score?: number;
    impact?: number;
    creditRating?: string;
    timings?: Record<string, unknown>;
  } = {},
) {
  const year = options.year ?? 2026;
  const start = await h.api('POST', '/api/supplier-reviews', {
    as: 'lead',
    json: { supplierId, year, timings: options.timings },
  });
  expect(start.status, JSON.stringify(start.body)).toBe(201);
  const caseId: string = start.body.caseId;
  expect(caseId).toBe(`supplier-review:${supplierId}:${year}`);
  await waitForTask(task(caseId, 'documents'));
  for (const doc of ALL_DOCUMENTS) await uploadDocument(caseId, doc);
  await waitForTask(task(caseId, 'checks'));
  const checks = await h.api('POST', `/api/supplier-reviews/${encodeURIComponent(caseId)}/checks`, {
    as: 'manager',
    json: { creditRating: options.creditRating ?? 'AA', creditAgency: 'China Chengxin', backgroundCheck: 'clear' },
  });
  expect(checks.status, JSON.stringify(checks.body)).toBe(200);
  await waitForTask(task(caseId, 'scoring'));
  const scored = await h.api('POST', `/api/supplier-reviews/${encodeURIComponent(caseId)}/scores`, {
    as: 'manager',
    json: {
      scores: scoresOf(options.score ?? 5),
      impact: options.impact ?? 2,
      proposedTier: 'strategic',
      comment: 'annual review',
    },
  });
  expect(scored.status, JSON.stringify(scored.body)).toBe(200);
  const decisionTaskId = task(caseId, 'decision');
  await waitForTask(decisionTaskId);
  return { caseId, decisionTaskId };
}

const decide = (taskId: string, as: TestUser, json: Record<string, unknown>) =>
  h.api('POST', `/api/tasks/${encodeURIComponent(taskId)}/decision`, { as, json });

/** A status change asked for by mgr and approved by `approvers` (contracts/supplierStatusChange.ts). */
async function changeStatus(supplierId: string, change: string, approvers: TestUser[]) {
  const asked = await h.api('POST', `/api/suppliers/${supplierId}/status-changes`, {
    as: 'manager',
    json: { change, reason: `${change} for the test` },
  });
  expect(asked.status, JSON.stringify(asked.body)).toBe(201);
  for (const as of approvers) {
    const res = await decide(asked.body.approvalTaskId, as, { decision: 'approve' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }
  return (await h.sql('select status from suppliers where id = $1', [supplierId]))[0].status as string;
}
const result = (caseId: string) => h.temporal.workflow.getHandle<typeof supplierReviewWorkflow>(caseId).result();
const supplierRow = async (id: string) => (await h.sql('select * from suppliers where id = $1', [id]))[0];
const scheduleOf = (supplierId: string) => h.temporal.schedule.getHandle(`supplier-review-schedule:${supplierId}`);

describe('supplier registry', () => {
  it('validates the credit code with its check character and refuses duplicates', async () => {
    const code = newCreditCode();
    const wrongCheck = code.slice(0, 17) + (code[17] === '0' ? '1' : '0');
    const bad = await h.api('POST', '/api/suppliers', {
      as: 'manager',
      json: { creditCode: wrongCheck, name: 'X', category: 'c', tier: 'general' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].field).toBe('body.creditCode');
    expect(bad.body.error.message).toMatch(/check character/);
    const ok = await h.api('POST', '/api/suppliers', {
      as: 'manager',
      json: { creditCode: code.toLowerCase(), name: 'X', category: 'c', tier: 'general' },
    });
    expect(ok.status).toBe(201);
    // Assessed before cooperation: pending until its first review is approved.
    expect(ok.body).toMatchObject({ id: code, status: 'pending', ownerId: 'mgr', reviewOverdue: null });
    const dup = await h.api('POST', '/api/suppliers', {
      as: 'manager',
      json: { creditCode: code, name: 'Y', category: 'c', tier: 'general' },
    });
    expect(dup.status).toBe(409);
    expect((await supplierRow(code)).name).toBe('X');
    const list = await h.api('GET', `/api/suppliers?q=${encodeURIComponent('X')}&status=pending`, { as: 'auditor' });
    expect(list.body.items.map((s: { id: string }) => s.id)).toContain(code);
  });
});

describe('supplier review', () => {
  it('a low-risk review is approved by one approver; supplier, schedule, search attributes and report follow', async () => {
    const supplierId = await registerSupplier();
    // Reviewed for last year, so the Schedule's launcher opens this year's review.
    const { caseId, decisionTaskId } = await reviewToDecision(supplierId, { year: 2025, score: 5, impact: 2 });
    const graded = (await h.sql('select risk_level, data from cases where id = $1', [caseId]))[0];
    expect(graded.risk_level).toBe('low');
    expect(graded.data.grade).toMatchObject({ probability: 1, impact: 2, riskGrade: 'low', recommendation: 'approve' });
    expect((await taskRow(decisionTaskId)).approvals_required).toBe(1);

    const refused = await decide(decisionTaskId, 'lead', { decision: 'approve' });
    expect(refused.status).toBe(422);
    expect(refused.body.error.reason).toBe('SEGREGATION_OF_DUTIES');
    const approved = await decide(decisionTaskId, 'approver', {
      decision: 'approve',
      comment: 'documents and checks in order',
    });
    expect(approved.body.status).toBe('approved');
    const outcome = await result(caseId);
    expect(outcome).toMatchObject({ outcome: 'approved', riskGrade: 'low', recommendation: 'approve' });

    const supplier = await supplierRow(supplierId);
    expect(supplier).toMatchObject({
      status: 'active',
      tier: 'strategic',
      last_risk_grade: 'low',
      last_review_case_id: caseId,
    });
    const dueIn = supplier.next_review_due.getTime() - Date.now();
    expect(dueIn).toBeGreaterThan(360 * 86_400_000);
    expect(dueIn).toBeLessThan(367 * 86_400_000);

    const description = await h.temporal.workflow.getHandle(caseId).describe();
    expect(description.typedSearchAttributes.get(GovProcess)).toBe('supplier_review');
    expect(description.typedSearchAttributes.get(GovRiskLevel)).toBe('low');
    expect(description.typedSearchAttributes.get(GovStage)).toBe('closed');

    // Next year's review is started by a Schedule, due on the next review date.
    const schedule = await scheduleOf(supplierId).describe();
    const calendar = schedule.spec.calendars?.[0];
    expect(calendar?.year).toEqual([
      { start: supplier.next_review_due.getUTCFullYear(), end: supplier.next_review_due.getUTCFullYear(), step: 1 },
    ]);
    expect(schedule.action).toMatchObject({ type: 'startWorkflow', workflowType: 'supplierReviewLauncherWorkflow' });
    await scheduleOf(supplierId).trigger();
    const launched = `supplier-review:${supplierId}:${new Date().getUTCFullYear()}`;
    await eventually(async () => (await h.sql('select 1 from cases where id = $1', [launched])).length === 1, 20_000);
    const [launchedCase] = await h.sql('select initiator_id, owner_id, stage from cases where id = $1', [launched]);
    expect(launchedCase).toEqual({ initiator_id: 'system', owner_id: 'mgr', stage: 'documents' });
    if (process.env.RECORD_HISTORIES === '1') {
      // The launcher's run has an id the Schedule chose: find it to record it.
      const query = `WorkflowType = "supplierReviewLauncherWorkflow" AND TaskQueue = "${h.taskQueue}"`;
      const [launcher] = await eventually(async () => {
        const found = [];
        for await (const wf of h.temporal.workflow.list({ query })) found.push(wf.workflowId);
        return found.length ? found : undefined;
      });
      await h.temporal.workflow.getHandle(launcher!).result();
      await saveHistoryFixture(h, launcher!, 'supplier-review-launcher');
    }

    // An approved suspension pauses the Schedule; lifting it resumes it; ending cooperation deletes it.
    expect(await changeStatus(supplierId, 'suspend', ['approver'])).toBe('suspended');
    expect((await scheduleOf(supplierId).describe()).state.paused).toBe(true);
    expect(await changeStatus(supplierId, 'lift_suspension', ['approver'])).toBe('active');
    expect((await scheduleOf(supplierId).describe()).state.paused).toBe(false);

    // The appraisal report matches what history and the read model hold.
    const report = await h.api('GET', `/api/supplier-reviews/${encodeURIComponent(caseId)}/report`, { as: 'auditor' });
    expect(report.status).toBe(200);
    const uploads = await h.sql('select document_type, sha256 from evidence where case_id = $1', [caseId]);
    expect(report.body.documents.map((d: { type: string; sha256: string }) => [d.type, d.sha256]).sort()).toEqual(
      uploads.map((u) => [u.document_type, u.sha256]).sort(),
    );
    expect(report.body.missingDocuments).toEqual([]);
    expect(report.body.checks).toMatchObject({
      creditRating: 'AA',
      backgroundCheck: 'clear',
      provider: 'reviewer',
      by: 'mgr',
    });
    expect(report.body.scores).toMatchObject({ impact: 2, by: 'mgr' });
    expect(report.body.decisionChain).toEqual([
      expect.objectContaining({ userId: 'appr1', decision: 'approve', comment: 'documents and checks in order' }),
    ]);
    const accepted = await acceptedSteps(h, caseId);
    // 4 documents, checks, scores, one decision: each an accepted Update in history.
    expect(accepted).toHaveLength(7);
    const auditRows = await h.sql('select seq, hash from audit_events where case_id = $1 order by seq', [caseId]);
    expect(report.body.timeline.map((e: { seq: number; hash: string }) => [e.seq, e.hash])).toEqual(
      auditRows.map((r) => [Number(r.seq), r.hash]),
    );
    const html = await h.app.request(`/api/supplier-reviews/${encodeURIComponent(caseId)}/report.html`, {
      headers: { authorization: `Bearer ${h.tokens.auditor}` },
    });
    const page = await html.text();
    expect(html.headers.get('content-type')).toMatch(/text\/html/);
    expect(page).toContain('供应商考评报告');
    expect(page).toContain(uploads[0]!.sha256);
    expect(page).toContain('appr1');
    await saveHistoryFixture(h, caseId, 'supplier-review-approved');

    await h.temporal.workflow.getHandle(launched).terminate('test done');
    expect(await changeStatus(supplierId, 'terminate', ['approver', 'approver2'])).toBe('terminated');
    await expect(scheduleOf(supplierId).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
  });

  it('a high-risk review needs two approvers; its guarantee condition is tracked to closure', async () => {
    const supplierId = await registerSupplier();
    const { caseId, decisionTaskId } = await reviewToDecision(supplierId, { score: 2, impact: 5 });
    expect((await taskRow(decisionTaskId)).approvals_required).toBe(2);
    const condition = 'guarantee: bank guarantee of CNY 1,000,000';
    const first = await decide(decisionTaskId, 'approver', {
      decision: 'approve_with_conditions',
      conditions: [condition],
      comment: 'only with a guarantee',
    });
    expect(first.body.status).toBe('open');
    expect((await decide(decisionTaskId, 'approver', { decision: 'approve' })).body.error.reason).toBe('FOUR_EYES');
    const untyped = await decide(decisionTaskId, 'approver2', {
      decision: 'approve_with_conditions',
      conditions: ['get a guarantee'],
    });
    expect(untyped.status).toBe(422);
    expect(untyped.body.error.message).toMatch(/restricted_scope, guarantee, supplementary_agreement/);
    const second = await decide(decisionTaskId, 'approver2', {
      decision: 'approve_with_conditions',
      conditions: [condition],
    });
    expect(second.body.status).toBe('approved_with_conditions');

    const itemId = `${caseId}:rectification:1`;
    const item = await waitForTask(itemId);
    expect(item).toMatchObject({ assignee_id: 'mgr', kind: 'rectification' });
    expect(item.title).toMatch(/担保\): bank guarantee of CNY 1,000,000$/);
    expect((await supplierRow(supplierId)).conditions).toEqual([
      expect.objectContaining({ type: 'guarantee', detail: 'bank guarantee of CNY 1,000,000', caseId }),
    ]);
    const form = new FormData();
    form.append('file', new File([Buffer.from('guarantee letter')], 'guarantee.pdf'));
    const proof = await h.api('POST', `/api/cases/${encodeURIComponent(caseId)}/evidence`, {
      as: 'manager',
      body: form,
    });
    await h.api('POST', `/api/tasks/${encodeURIComponent(itemId)}/submission`, {
      as: 'manager',
      json: { evidenceIds: [proof.body.id] },
    });
    expect(
      (
        await h.api('POST', `/api/tasks/${encodeURIComponent(itemId)}/verification`, {
          as: 'approver',
          json: { verdict: 'accept' },
        })
      ).body.status,
    ).toBe('verified');

    const outcome = await result(caseId);
    expect(outcome).toMatchObject({ outcome: 'approved_with_conditions', riskGrade: 'high' });
    expect(outcome.rectifications).toHaveLength(1);
    expect(await supplierRow(supplierId)).toMatchObject({ status: 'active', last_risk_grade: 'high' });
    const [closed] = await h.sql('select status, outcome from cases where id = $1', [caseId]);
    expect(closed).toEqual({ status: 'closed', outcome: 'approved_with_conditions' });
  });

  it('financial statements abnormal three years running → blacklist recommended, decided by two, Schedule removed', async () => {
    const supplierId = await registerSupplier();
    for (const year of [2024, 2025, 2026]) {
      const put = await h.api('PUT', `/api/suppliers/${supplierId}/performance/${year}`, {
        as: 'manager',
        json: {
          samplingResult: 'pass',
          complaints: 3,
          logisticsDelayRate: 0.05,
          financialStatementsAbnormal: true,
          qualityScore: 80,
        },
      });
      expect(put.status, JSON.stringify(put.body)).toBe(200);
    }
    const { caseId, decisionTaskId } = await reviewToDecision(supplierId, { score: 4, impact: 2 });
    const [graded] = await h.sql('select data from cases where id = $1', [caseId]);
    expect(graded.data.findings.map((f: { rule: string }) => f.rule)).toEqual(['financial_abnormal_3_years']);
    expect(graded.data.grade).toMatchObject({ riskGrade: 'high', recommendation: 'blacklist' });

    expect((await decide(decisionTaskId, 'approver', { decision: 'blacklist' })).body.error.reason).toBe(
      'INVALID_DECISION',
    );
    const first = await decide(decisionTaskId, 'approver', {
      decision: 'blacklist',
      comment: 'three years of abnormal statements',
    });
    expect(first.body.status).toBe('open');
    const second = await decide(decisionTaskId, 'approver2', { decision: 'blacklist', comment: 'agreed' });
    expect(second.body.status).toBe('blacklisted');
    expect((await result(caseId)).outcome).toBe('blacklisted');
    // Cooperation that ends keeps its last tier: the proposal applies only to an approval.
    expect(await supplierRow(supplierId)).toMatchObject({ status: 'blacklisted', tier: 'core', next_review_due: null });
    await expect(scheduleOf(supplierId).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
    const again = await h.api('POST', '/api/supplier-reviews', { as: 'lead', json: { supplierId, year: 2027 } });
    expect(again.status).toBe(409);
    expect(again.body.error.message).toMatch(/blacklisted/);
    await saveHistoryFixture(h, caseId, 'supplier-review-blacklisted');
  });

  it('refuses a second review of the same supplier and year', async () => {
    const supplierId = await registerSupplier();
    const first = await h.api('POST', '/api/supplier-reviews', { as: 'lead', json: { supplierId, year: 2026 } });
    expect(first.status).toBe(201);
    const second = await h.api('POST', '/api/supplier-reviews', { as: 'lead', json: { supplierId, year: 2026 } });
    expect(second.status).toBe(409);
    expect(second.body.error.message).toMatch(/2026 review .* already exists/);
    await eventually(async () => (await h.sql('select 1 from cases where id = $1', [first.body.caseId])).length === 1);
    expect(await h.sql('select id from cases where subject_id = $1', [supplierId])).toHaveLength(1);
    await h.temporal.workflow.getHandle(first.body.caseId).terminate('test done');
  });

  it('escalates documents still missing at the deadline and records them as a finding', async () => {
    const supplierId = await registerSupplier();
    const start = await h.api('POST', '/api/supplier-reviews', {
      as: 'lead',
      json: {
        supplierId,
        year: 2026,
        timings: { documents: { remindAfter: '1s', escalateAfter: '3s', expireAfter: '3s' } },
      },
    });
    const caseId: string = start.body.caseId;
    await waitForTask(task(caseId, 'documents'));
    await uploadDocument(caseId, 'business_licence');
    await uploadDocument(caseId, 'financial_statements', 'owner');
    await waitForTask(task(caseId, 'checks'));
    const [row] = await h.sql('select stage, data from cases where id = $1', [caseId]);
    expect(row.stage).toBe('checks');
    expect(row.data.missingDocuments).toEqual(['operating_permit', 'product_certificates']);
    const notes = await h.sql(
      'select kind, recipient_role, recipient_id from notifications where task_id = $1 order by created_at',
      [task(caseId, 'documents')],
    );
    expect(notes).toEqual([
      { kind: 'reminder', recipient_role: null, recipient_id: 'mgr' },
      { kind: 'escalation', recipient_role: 'manager', recipient_id: null },
    ]);
    // One role up from the managers who may supply documents.
    expect(await taskRow(task(caseId, 'documents'))).toMatchObject({ status: 'expired', escalated_to: 'manager' });
    const late = new FormData();
    late.append('file', new File([Buffer.from('late permit')], 'permit.pdf'));
    late.append('documentType', 'operating_permit');
    const refused = await h.api('POST', `/api/supplier-reviews/${encodeURIComponent(caseId)}/documents`, {
      as: 'manager',
      body: late,
    });
    expect(refused.status).toBe(409);
    // Missing documents raise the grade to at least medium.
    await h.api('POST', `/api/supplier-reviews/${encodeURIComponent(caseId)}/checks`, {
      as: 'manager',
      json: { creditRating: 'A', backgroundCheck: 'clear' },
    });
    await waitForTask(task(caseId, 'scoring'));
    const notReviewer = await h.api('POST', `/api/supplier-reviews/${encodeURIComponent(caseId)}/scores`, {
      as: 'lead',
      json: { scores: scoresOf(5), impact: 1 },
    });
    expect(notReviewer.status).toBe(403);
    expect(notReviewer.body.error.reason).toBe('ROLE_NOT_PERMITTED');
    expect(notReviewer.body.error.message).toMatch(/reviewer scores it/);
    await h.api('POST', `/api/supplier-reviews/${encodeURIComponent(caseId)}/scores`, {
      as: 'manager',
      json: { scores: scoresOf(5), impact: 1 },
    });
    await waitForTask(task(caseId, 'decision'));
    const [graded] = await h.sql('select stage, risk_level, data from cases where id = $1', [caseId]);
    expect(graded.stage).toBe('awaiting_approval');
    expect(graded.risk_level).toBe('medium');
    expect(graded.data.grade.recommendation).toBe('approve_with_conditions');
    await h.temporal.workflow.getHandle(caseId).terminate('test done');
  });

  it('the checks the reviewer owes have a deadline: reminded, escalated, overdue and still owed', async () => {
    const supplierId = await registerSupplier();
    const start = await h.api('POST', '/api/supplier-reviews', {
      as: 'lead',
      json: { supplierId, year: 2026, timings: { step: SHORT_STEP } },
    });
    expect(start.status, JSON.stringify(start.body)).toBe(201);
    const caseId: string = start.body.caseId;
    for (const doc of ALL_DOCUMENTS) await uploadDocument(caseId, doc);
    await expectStepDone(h, 'manager', task(caseId, 'documents'), 'mgr');
    // The last document's upload returns with the checks owed by the reviewer (mgr), who alone may enter them.
    const checksTask = task(caseId, 'checks');
    await expectOwedStep(h, 'manager', checksTask, 'mgr');
    await expectOverdueStep(h, 'manager', checksTask, { assigneeId: 'mgr', escalatedTo: 'manager' });
    expect((await taskRow(checksTask)).candidate_roles).toEqual([]);
    expect((await h.sql('select stage from cases where id = $1', [caseId]))[0].stage).toBe('checks');
    const checks = await h.api('POST', `/api/supplier-reviews/${encodeURIComponent(caseId)}/checks`, {
      as: 'manager',
      json: { creditRating: 'AA', backgroundCheck: 'clear' },
    });
    expect(checks.status, JSON.stringify(checks.body)).toBe(200);
    await expectStepDone(h, 'manager', checksTask, 'mgr');
    await h.temporal.workflow.getHandle(caseId).terminate('test done');
  });

  it('the annual campaign starts each reviewable supplier once, however often it runs', async () => {
    // Newly registered, so pending: the campaign starts their first review.
    const pending = [await registerSupplier(), await registerSupplier()];
    const suspended = await registerSupplier();
    // Put on hold before its first review: the campaign skips it.
    expect(await changeStatus(suspended, 'suspend', ['approver'])).toBe('suspended');
    const first = await h.api('POST', '/api/supplier-reviews/campaigns', { as: 'lead', json: { year: 2031 } });
    expect(first.status).toBe(200);
    const startedIds = first.body.started.map((s: { supplierId: string }) => s.supplierId);
    expect(startedIds).toEqual(expect.arrayContaining(pending));
    expect(first.body.skipped).toContainEqual(
      expect.objectContaining({ supplierId: suspended, reason: 'not_reviewable' }),
    );

    // The campaign is a workflow, supplier-campaign:<year>; it answered once its reviews were open and
    // its read-model row showed them. A second call for the year returns the same campaign.
    expect(first.body).toMatchObject({
      year: 2031,
      status: 'done',
      total: startedIds.length + first.body.skipped.length,
    });
    for (const id of startedIds)
      expect(
        await h.sql('select 1 from tasks where id = $1', [task(`supplier-review:${id}:2031`, 'documents')]),
      ).toHaveLength(1);
    const [campaign] = await h.sql('select process, status, data from cases where id = $1', ['supplier-campaign:2031']);
    expect(campaign.process).toBe('supplier_campaign');
    expect(campaign.data).toMatchObject({ status: 'done', started: first.body.started, skipped: first.body.skipped });
    const { links, ...progress } = first.body;
    expect(links).toEqual({
      self: '/api/supplier-reviews/campaigns/2031',
      started: '/api/supplier-reviews/campaigns/2031/suppliers?outcome=started',
      skipped: '/api/supplier-reviews/campaigns/2031/suppliers?outcome=skipped',
    });
    expect(progress).toMatchObject({ startedCount: startedIds.length, skippedCount: first.body.skipped.length });
    expect(await h.temporal.workflow.getHandle('supplier-campaign:2031').query(campaignProgressQuery)).toEqual(
      progress,
    );
    expect((await h.api('GET', links.self, { as: 'lead' })).body).toEqual(first.body);
    const second = await h.api('POST', '/api/supplier-reviews/campaigns', { as: 'lead', json: { year: 2031 } });
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
    await saveHistoryFixture(h, 'supplier-campaign:2031', 'supplier-campaign-done');
    await eventually(
      async () =>
        (await h.sql(`select 1 from cases where id like 'supplier-review:%:2031'`)).length === startedIds.length,
    );
    const running: string[] = [];
    for await (const wf of h.temporal.workflow.list({
      query: `GovProcess = "supplier_review" AND WorkflowId STARTS_WITH "supplier-review:" AND TaskQueue = "${h.taskQueue}"`,
    })) {
      if (wf.workflowId.endsWith(':2031')) running.push(wf.workflowId);
    }
    await eventually(async () => running.length === startedIds.length || false, 1);
    expect(new Set(running).size).toBe(startedIds.length);
    for (const id of startedIds)
      await h.temporal.workflow.getHandle(`supplier-review:${id}:2031`).terminate('test done');
  });

  it('the campaign reads the suppliers a page at a time: each once, none left out, whatever the page size', async () => {
    // Two more than a page of two can hold, so the listing takes several pages and ends on a short one or an empty one.
    await registerSupplier();
    await registerSupplier();
    // Two on hold: the skipped list spans pages too.
    for (const onHold of [await registerSupplier(), await registerSupplier()])
      expect(await changeStatus(onHold, 'suspend', ['approver'])).toBe('suspended');
    const all = (await h.sql<{ id: string }>('select id from suppliers')).map((r) => r.id);
    expect(all.length).toBeGreaterThan(4);
    // The progress lists the first two of each list (a hundred by default); the API pages through the rest.
    const progress = await startSupplierCampaign(
      { db: h.database.db, temporal: h.temporal, taskQueue: h.taskQueue },
      { year: 2033, initiatorId: 'lead', listingPageSize: 2, progressList: 2 },
    );
    expect(progress).toMatchObject({ status: 'done', total: all.length });
    expect(progress!.startedCount + progress!.skippedCount).toBe(all.length);
    expect(progress!.startedCount).toBeGreaterThan(2);
    expect(progress!.started).toHaveLength(2);
    expect(progress!.skippedCount).toBeGreaterThanOrEqual(2);
    expect(progress!.skipped).toHaveLength(2);
    expect(Object.values(progress!.skippedByReason).reduce((a, b) => a + b, 0)).toBe(progress!.skippedCount);
    // The workflow's result is the same bounded progress, not every supplier it went through.
    expect(await h.temporal.workflow.getHandle('supplier-campaign:2033').result()).toEqual(progress);

    const walk = async (query: string) => {
      const items: Array<{ supplierId: string; reason?: string }> = [];
      let cursor: string | null = null;
      let pages = 0;
      const totals = new Set<number>();
      do {
        const path = `/api/supplier-reviews/campaigns/2033/suppliers?${query}&limit=3${cursor ? `&cursor=${cursor}` : ''}`;
        const page = await h.api('GET', path, { as: 'lead' });
        expect(page.status, JSON.stringify(page.body)).toBe(200);
        expect(page.body.items.length).toBeLessThanOrEqual(3);
        items.push(...page.body.items);
        cursor = page.body.nextCursor;
        pages += 1;
        totals.add(page.body.total);
      } while (cursor);
      // Every page counts the whole list (of the reason asked), not its own rows.
      expect([...totals]).toEqual([items.length]);
      return { items, pages };
    };
    const started = await walk('outcome=started');
    expect(started.items).toHaveLength(progress!.startedCount);
    expect(started.pages).toBe(Math.ceil(progress!.startedCount / 3));
    expect(started.items.slice(0, 2)).toEqual(progress!.started);
    const skipped = await walk('outcome=skipped');
    expect(skipped.items).toHaveLength(progress!.skippedCount);
    const seen = [...started.items, ...skipped.items].map((s) => s.supplierId);
    expect(seen).toHaveLength(all.length);
    expect(new Set(seen)).toEqual(new Set(all));
    for (const [reason, n] of Object.entries(progress!.skippedByReason)) {
      const only = await walk(`outcome=skipped&reason=${reason}`);
      expect(only.items).toHaveLength(n);
      expect(only.items.every((s) => s.reason === reason)).toBe(true);
    }
    // Bad paging and unknown campaigns are refused, each naming what is wrong.
    const refused = async (path: string, status: number, field?: string) => {
      const res = await h.api('GET', path, { as: 'lead' });
      expect(res.status, JSON.stringify(res.body)).toBe(status);
      if (field) expect(JSON.stringify(res.body)).toContain(field);
    };
    const list = '/api/supplier-reviews/campaigns/2033/suppliers';
    await refused(`${list}?outcome=started&reason=not_found`, 400, 'query.reason');
    await refused(`${list}?outcome=everything`, 400, 'outcome');
    await refused(`${list}?outcome=started&limit=0`, 400, 'limit');
    await refused(`${list}?outcome=started&cursor=bm90LWEtY3Vyc29y`, 400, 'query.cursor');
    const firstSkippedPage = await h.api('GET', `${list}?outcome=skipped&limit=1`, { as: 'lead' });
    expect(firstSkippedPage.body.nextCursor).toEqual(expect.any(String));
    await refused(`${list}?outcome=started&cursor=${firstSkippedPage.body.nextCursor}`, 400, 'query.cursor');
    await refused('/api/supplier-reviews/campaigns/2099/suppliers?outcome=started', 404);
    await refused('/api/supplier-reviews/campaigns/2099', 404);
    await refused('/api/supplier-reviews/campaigns/1999', 400, 'year');
    // Managers and the oversight roles read a campaign; an action owner does not.
    expect((await h.api('GET', `${list}?outcome=started`, { as: 'auditor' })).status).toBe(200);
    const owner = await h.api('GET', `${list}?outcome=started`, { as: 'owner' });
    expect(owner.status).toBe(403);
    // In the history: one listing read per page of two (and an empty one after a full last page), none of the whole list.
    const history = await h.temporal.workflow.getHandle('supplier-campaign:2033').fetchHistory();
    const activities = (history.events ?? [])
      .map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name)
      .filter((name): name is string => !!name);
    expect(activities.filter((a) => a === 'listCampaignSuppliersPage')).toHaveLength(Math.floor(all.length / 2) + 1);
    expect(activities).not.toContain('listCampaignSuppliers');
    await saveHistoryFixture(h, 'supplier-campaign:2033', 'supplier-campaign-paged');
    for (const { supplierId } of progress!.started)
      await h.temporal.workflow.getHandle(`supplier-review:${supplierId}:2033`).terminate('test done');
  });
});
