/**
 * The console's forms in a real browser (Debian's Chromium, playwright-core)
 * against the product as `npm start` runs it (issue 13 §4): a manager starts
 * processes from "Start a case" and each lands as its case row in
 * PostgreSQL; a refused field shows the API's message under that field; an
 * action owner drops evidence on a rectification item, sees the SHA-256 the
 * browser computed equal to the one stored, and submits it; the supplier page
 * shows the grade its review gave; an auditor verifies the audit chain.
 * axe-core finds no serious violation on the new pages.
 */
import { createHash, randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { auditPlanEntries, cases, evidence, keyRiskIndicators, risks, suppliers, tasks } from '../../db/schema';
import { screenshot, seriousAxeViolations } from '../support/browser';
import { useConsole } from '../support/console';
import { creditCodes, fileForm, REVIEW_DOCUMENTS, SCORES } from '../support/drive';

const { product, api, signedIn, choose: pick, started } = useConsole('consoleforms');
const tag = `FRM${randomUUID().slice(0, 6)}`;
const nextCreditCode = creditCodes('91440300FM3');

const db = () => product.database.db;
const caseRow = async (id: string) => (await db().select().from(cases).where(eq(cases.id, id)))[0];

/** Opens a process's form from the menu of "Start a case". */
async function openForm(page: Page, processName: string, formId: string): Promise<Locator> {
  await page.getByRole('menuitem', { name: 'Start a case' }).click();
  await page.waitForURL(/\/console\/start/);
  await page.getByTestId('start-processes').getByRole('menuitem', { name: processName, exact: true }).click();
  const form = page.getByTestId(`start-form-${formId}`);
  await form.waitFor();
  return form;
}

/** Picks an option of the Select labelled `label`. */
const choose = (page: Page, form: Locator, label: string, option: string) =>
  pick(page, form.getByLabel(label, { exact: true }), option);

/** Submits the form and returns the id of the case page it opened. */
async function submitToCase(page: Page, form: Locator): Promise<string> {
  await form.getByRole('button', { name: 'Start' }).click();
  await page.waitForURL(/\/console\/cases\/[^/]+$/);
  const caseId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
  await page.getByTestId('stages').waitFor();
  started.push(caseId);
  return caseId;
}

/** The error shown under the form field whose control has this id. */
const fieldError = (form: Locator, controlId: string) =>
  form.locator('.ant-form-item', { has: form.page().locator(`#${controlId}`) }).locator('.ant-form-item-explain-error');

async function until<T>(what: string, read: () => Promise<T | undefined | null | false>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

let reviewCaseId = '';
let supplierId = '';

describe('the console forms', () => {
  it('a manager starts an approval request, an incident and a complaint from their forms; each is its case row', async () => {
    const page = await signedIn('li.manager');

    const approval = await openForm(page, 'Approval request', 'approval-request');
    await approval.getByLabel('Title', { exact: true }).fill(`${tag} new payment vendor`);
    await approval.getByLabel('Probability (1–5)').fill('2');
    await approval.getByLabel('Impact (1–5)').fill('3');
    await screenshot(page, 'start-approval-request');
    expect(await seriousAxeViolations(page)).toEqual([]);
    const posted = page.waitForRequest(
      (r) => r.method() === 'POST' && r.url().endsWith('/api/cases/approval-requests'),
    );
    const approvalCase = await submitToCase(page, approval);
    // Sent with an Idempotency-Key, a fresh one per body.
    expect((await posted).headers()['idempotency-key']).toMatch(/^[0-9a-f-]{32,36}$/);
    expect(await caseRow(approvalCase)).toMatchObject({
      process: 'approval_request',
      title: `${tag} new payment vendor`,
      initiatorId: 'li.manager',
      status: 'open',
      riskLevel: 'medium',
    });

    const incident = await openForm(page, 'Incident report', 'incident');
    await incident.getByLabel('Title', { exact: true }).fill(`${tag} checkout errors`);
    await choose(page, incident, 'Category', 'System failure');
    await incident.getByLabel('Affected system').fill(`${tag}-checkout`);
    const occurred = new Date(Date.now() - 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
    const picker = incident.getByLabel('Occurred at');
    await picker.click();
    await picker.fill(occurred);
    // Confirmed with the picker's OK button (Enter would also submit the form).
    await page.locator('.ant-picker-dropdown:not(.ant-picker-dropdown-hidden) .ant-picker-ok button').click();
    expect(await picker.inputValue()).toBe(occurred);
    await incident.getByLabel('Affected users').fill('50');
    const incidentCase = await submitToCase(page, incident);
    const incidentRow = await caseRow(incidentCase);
    expect(incidentRow).toMatchObject({
      process: 'incident',
      title: `${tag} checkout errors`,
      initiatorId: 'li.manager',
    });

    const complaint = await openForm(page, 'Customer complaint', 'complaint');
    await complaint.getByLabel('Subject').fill(`${tag} refund not received`);
    await complaint.getByLabel('Customer reference').fill('CUST-88120');
    await choose(page, complaint, 'Channel', 'Hotline');
    await choose(page, complaint, 'Complaint type', 'Transaction dispute');
    const complaintCase = await submitToCase(page, complaint);
    expect(await caseRow(complaintCase)).toMatchObject({
      process: 'complaint',
      title: expect.stringContaining(`${tag} refund not received`),
      status: 'open',
    });
  }, 240_000);

  it('the improvement-cycle form takes lists of KPIs and actions; the plan and risk forms open their records; a drill on a draft plan is refused', async () => {
    const page = await signedIn('li.manager');

    const cycle = await openForm(page, 'Improvement cycle (PDCA)', 'improvement-cycle');
    await cycle.getByLabel('Title', { exact: true }).fill(`${tag} fewer SLA breaches`);
    await cycle.getByLabel('Objective').fill('Halve the complaint SLA breaches within a quarter');
    await choose(page, cycle, 'Source', 'KPI gap');
    const id = (path: string) => cycle.locator(`#start-improvement-cycle_${path}`);
    await id('kpis_0_key').fill('sla_breaches');
    await id('kpis_0_name').fill('SLA breaches a month');
    await id('kpis_0_baseline').fill('10');
    await id('kpis_0_target').fill('4');
    await id('kpis_0_direction').click();
    await page
      .locator('.ant-select-dropdown:not(.ant-select-dropdown-hidden) .ant-select-item-option[title="Decrease"]')
      .click();
    // A second action, added with the list's own button.
    await cycle.getByRole('button', { name: 'Add Action' }).click();
    await id('actions_0_title').fill('Add a second-line queue');
    await id('actions_0_ownerId').fill('chen.owner');
    await id('actions_1_title').fill('Publish the weekly SLA report');
    await id('actions_1_ownerId').fill('li.manager');
    await screenshot(page, 'start-improvement-cycle');
    expect(await seriousAxeViolations(page)).toEqual([]);
    const cycleCase = await submitToCase(page, cycle);
    const cycleRow = await caseRow(cycleCase);
    expect(cycleRow).toMatchObject({
      process: 'pdca',
      title: `${tag} fewer SLA breaches (cycle 1)`,
      stage: 'awaiting_approval',
    });
    expect(JSON.stringify(cycleRow!.data)).toContain('Publish the weekly SLA report');

    const plan = await openForm(page, 'Emergency plan', 'emergency-plan');
    await plan.getByLabel('Plan id').fill(`${tag}-EP`);
    await plan.getByLabel('Title', { exact: true }).fill(`${tag} data-leak response plan`);
    await choose(page, plan, 'Plan type', 'Data leak');
    const revisionCase = await submitToCase(page, plan);
    expect(await caseRow(revisionCase)).toMatchObject({ process: 'plan_revision', stage: 'draft' });

    // A drill needs a plan in force; this one is still a draft: the refusal (no field named) is shown above the button.
    const drill = await openForm(page, 'Emergency drill', 'drill');
    await drill.getByLabel('Emergency plan id').fill(`${tag}-EP`);
    await drill.getByRole('button', { name: 'Start' }).click();
    const refusal = drill.getByTestId('refusal');
    await refusal.waitFor();
    const direct = await api('POST', '/api/drills', 'gov_demo_manager', {
      planId: `${tag}-EP`,
      year: new Date().getFullYear(),
    });
    expect(direct.status).toBeGreaterThanOrEqual(400);
    expect(await refusal.innerText()).toContain(direct.body.error.message);
    expect(page.url()).toMatch(/\/console\/start\/drill$/);

    // A risk is a register entry, not a case: the form says it is recorded, with its key.
    const risk = await openForm(page, 'Risk (register)', 'risk');
    await risk.getByLabel('Title', { exact: true }).fill(`${tag} payment gateway outage`);
    await choose(page, risk, 'Risk category', 'Operational');
    await risk.getByLabel('Description').fill('The gateway fails during peak sales');
    await risk.getByLabel('Cause').fill('Single provider');
    await risk.getByLabel('Consequence').fill('Lost orders');
    await risk.getByLabel('Owner').fill('li.manager');
    await choose(page, risk, 'Line of defence', 'First line');
    await risk.getByLabel('Inherent probability (1–5)').fill('4');
    await risk.getByLabel('Inherent impact (1–5)').fill('4');
    await risk.getByLabel('Residual probability (1–5)').fill('2');
    await risk.getByLabel('Residual impact (1–5)').fill('3');
    await risk.getByRole('button', { name: 'Start' }).click();
    const done = page.getByTestId('start-done');
    await done.waitFor();
    const riskKey = (await done.locator('code').innerText()).trim();
    const [row] = await db().select().from(risks).where(eq(risks.key, riskKey));
    expect(row).toMatchObject({
      title: `${tag} payment gateway outage`,
      category: 'operational',
      ownerId: 'li.manager',
    });
  }, 240_000);

  it('the start page speaks zh-CN: process names and field labels in Chinese', async () => {
    const page = await signedIn('li.manager');
    await page.getByText('中文', { exact: true }).click();
    await page.goto(`${product.url}/console/start/complaint`);
    await page.getByRole('heading', { name: '发起流程' }).waitFor();
    const form = page.getByTestId('start-form-complaint');
    await form.getByLabel('投诉主题').waitFor();
    await form.getByLabel('受理渠道').waitFor();
    expect(await page.getByTestId('start-processes').innerText()).toContain('事件报告');
    await screenshot(page, 'start-complaint-zh');
  }, 120_000);

  it('a refused field shows the API’s message under it; corrected, the supplier is registered and its review starts', async () => {
    const page = await signedIn('li.manager');
    const form = await openForm(page, 'Register a supplier and start its review', 'supplier');
    const good = nextCreditCode();
    // The same code with another check character: the API refuses it (GB 32100-2015).
    const bad = good.slice(0, 17) + (good[17] === '0' ? '1' : '0');
    const body = { creditCode: bad, name: `${tag} 华南物流`, category: 'logistics', tier: 'core' };
    const refusal = await api('POST', '/api/suppliers', 'gov_demo_manager', body);
    expect(refusal.status).toBe(400);
    const expected = refusal.body.error.details.find((d: { field: string }) => d.field === 'body.creditCode').message;

    await form.getByLabel('Unified social credit code').fill(bad);
    await form.getByLabel('Supplier name').fill(body.name);
    await form.getByLabel('Supplier category').fill(body.category);
    await choose(page, form, 'Tier', 'Core');
    await form.getByRole('button', { name: 'Start' }).click();
    await expect
      .poll(() => fieldError(form, 'start-supplier_creditCode').innerText(), { timeout: 30_000 })
      .toBe(expected);
    await page.getByTestId('refusal').waitFor();
    await screenshot(page, 'start-supplier-refused');
    expect(await seriousAxeViolations(page)).toEqual([]);
    expect(await db().select().from(suppliers).where(eq(suppliers.id, bad))).toEqual([]);

    await form.getByLabel('Unified social credit code').fill(good);
    await expect.poll(() => fieldError(form, 'start-supplier_creditCode').count()).toBe(0);
    reviewCaseId = await submitToCase(page, form);
    supplierId = good;
    expect(await caseRow(reviewCaseId)).toMatchObject({ process: 'supplier_review', stage: 'documents' });
    expect(reviewCaseId).toBe(`supplier-review:${good}:${new Date().getFullYear()}`);
    const [supplier] = await db().select().from(suppliers).where(eq(suppliers.id, good));
    expect(supplier).toMatchObject({ name: body.name, tier: 'core', status: 'pending', ownerId: 'li.manager' });
  }, 240_000);

  it('an owner drops evidence on a rectification item, sees its SHA-256 equal to the stored one, and submits it', async () => {
    // Internal audit starts an audit, and records a finding from its form; its rectification item is chen.owner's.
    const audit = await signedIn('qian.audit');
    const auditForm = await openForm(audit, 'Audit', 'audit');
    await auditForm.getByLabel('Audit key').fill(`${tag}-AUD`);
    await choose(audit, auditForm, 'Audit type', 'Data security');
    await auditForm.getByLabel('Title', { exact: true }).fill(`${tag} data-security compliance check`);
    await auditForm.getByLabel('Scope').fill('Payment and customer data systems');
    await auditForm.getByLabel('Owner of the audited function').fill('chen.owner');
    const auditCase = await submitToCase(audit, auditForm);
    expect(await caseRow(auditCase)).toMatchObject({
      id: `audit:${tag}-AUD`,
      process: 'audit',
      stage: 'fieldwork',
      initiatorId: 'qian.audit',
    });

    const form = await openForm(audit, 'Audit finding', 'audit-finding');
    await form.getByLabel('Title', { exact: true }).fill(`${tag} access reviews not recorded`);
    await form.getByLabel('Description').fill('Q3 compliance audit: no evidence of quarterly access reviews.');
    await choose(audit, form, 'Severity', 'Medium');
    await choose(audit, form, 'Area', 'Data security');
    await form.getByLabel('Owner').fill('chen.owner');
    const findingCase = await submitToCase(audit, form);
    expect(await caseRow(findingCase)).toMatchObject({ process: 'audit_finding', initiatorId: 'qian.audit' });
    // The item is a task of the finding's case, run by a child workflow.
    const task = await until('its rectification item', async () => {
      const [row] = await db()
        .select()
        .from(tasks)
        .where(and(eq(tasks.caseId, findingCase), eq(tasks.kind, 'rectification')));
      return row;
    });
    started.push(task.workflowId);
    expect(task).toMatchObject({ assigneeId: 'chen.owner', status: 'open' });

    const page = await signedIn('chen.owner');
    await page.goto(`${product.url}/console/cases/${encodeURIComponent(findingCase)}`);
    const card = page.getByTestId('evidence-submit');
    await card.waitFor();
    const content = Buffer.from(`${tag} access review log, Q3\n签字：张三\n`.repeat(2000));
    const expected = createHash('sha256').update(content).digest('hex');
    // The drop zone is a labelled button reached by keyboard: Enter opens the file chooser.
    const dropZone = card.getByRole('button', { name: /Drop evidence files here/ });
    // Listen first, and let the listener reach the browser: Playwright turns file-chooser
    // interception on without waiting, and on a loaded machine the Enter arrived before it.
    const chooser = page.waitForEvent('filechooser');
    await page.evaluate(() => 0);
    await dropZone.focus();
    await page.keyboard.press('Enter');
    await (await chooser).setFiles({ name: 'access-review.txt', mimeType: 'text/plain', buffer: content });
    await card.getByTestId('sha-match').waitFor();
    expect(await card.getByTestId('local-sha256').innerText()).toBe(expected);
    expect(await card.getByTestId('server-sha256').innerText()).toBe(expected);
    const [stored] = await db().select().from(evidence).where(eq(evidence.caseId, findingCase));
    expect(stored).toMatchObject({
      sha256: expected,
      taskId: task.id,
      uploadedBy: 'chen.owner',
      sizeBytes: content.length,
    });
    await screenshot(page, 'evidence-upload');
    expect(await seriousAxeViolations(page)).toEqual([]);

    await card.getByLabel('Comment').fill('Access reviews now recorded each quarter');
    await card.getByRole('button', { name: 'Submit the item' }).click();
    const submitted = await until('the submission', async () => {
      const [row] = await db().select().from(tasks).where(eq(tasks.id, task.id));
      return row?.status === 'submitted' ? row : undefined;
    });
    expect(submitted.evidenceIds).toEqual([stored!.id]);
    // Submitted, the item is no longer the owner's to submit: the card goes.
    await card.waitFor({ state: 'detached' });

    // Returned by a verifier, the item is the owner's again, with the reason shown (the page polls).
    const reason = `${tag}: the log has no reviewer signatures`;
    const returned = await api('POST', `/api/tasks/${encodeURIComponent(task.id)}/verification`, 'gov_demo_approver', {
      verdict: 'return',
      reason,
    });
    expect(returned.status, JSON.stringify(returned.body)).toBeLessThan(300);
    await expect.poll(() => card.getByTestId('returned-reason').innerText(), { timeout: 30_000 }).toContain(reason);
  }, 240_000);

  it('the supplier page shows the grade its review gave, with the review and the grade history', async () => {
    expect(reviewCaseId, 'the supplier test ran first').not.toBe('');
    const enc = encodeURIComponent(reviewCaseId);
    for (const documentType of REVIEW_DOCUMENTS) {
      const res = await api(
        'POST',
        `/api/supplier-reviews/${enc}/documents`,
        'gov_demo_manager',
        fileForm(`${documentType} of ${reviewCaseId}`, { documentType }, 'doc.pdf'),
      );
      expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
    }
    const checks = await api('POST', `/api/supplier-reviews/${enc}/checks`, 'gov_demo_manager', {
      creditRating: 'AA',
      backgroundCheck: 'clear',
    });
    expect(checks.status, JSON.stringify(checks.body)).toBeLessThan(300);
    const scores = await api('POST', `/api/supplier-reviews/${enc}/scores`, 'gov_demo_manager', {
      scores: SCORES,
      impact: 1,
    });
    expect(scores.status, JSON.stringify(scores.body)).toBeLessThan(300);
    const decided = await api(
      'POST',
      `/api/tasks/${encodeURIComponent(`${reviewCaseId}:decision`)}/decision`,
      'gov_demo_approver',
      {
        decision: 'approve',
      },
    );
    expect(decided.status, JSON.stringify(decided.body)).toBeLessThan(300);
    const grade = await until('the supplier’s grade', async () => {
      const [row] = await db().select().from(suppliers).where(eq(suppliers.id, supplierId));
      return row?.lastRiskGrade;
    });

    const page = await signedIn('li.manager');
    // From the review's case page, its supplier's page.
    await page.goto(`${product.url}/console/cases/${enc}`);
    await page.getByRole('link', { name: supplierId }).click();
    await page.waitForURL(/\/console\/suppliers\//);
    const label = { low: 'Low risk', medium: 'Medium risk', high: 'High risk' }[grade]!;
    await expect.poll(() => page.getByTestId('supplier-grade').innerText()).toBe(label);
    expect(await page.getByTestId('grade-history').innerText()).toContain(label);
    expect(await page.getByTestId('supplier-reviews').innerText()).toContain(String(new Date().getFullYear()));
    await screenshot(page, 'supplier-page');
    expect(await seriousAxeViolations(page)).toEqual([]);
  }, 240_000);

  it('the risk forms: an indicator and its observation (a warning case), a supplier status change, an assessment refused under its period then opened, a report', async () => {
    const page = await signedIn('li.manager');
    const year = new Date().getUTCFullYear();
    const month = new Date().getUTCMonth() + 1;

    // An indicator is a record, not a case: the form says it is recorded, with its key.
    const kri = await openForm(page, 'Key risk indicator', 'kri');
    const kriKey = `${tag}-REFUNDS`;
    await kri.getByLabel('Indicator key').fill(kriKey);
    await kri.getByLabel('Indicator name').fill('Refund requests per hour');
    await choose(page, kri, 'Warns when the value is', 'Above a threshold');
    await kri.getByLabel('General warning threshold').fill('10');
    await kri.getByLabel('Elevated warning threshold').fill('20');
    await kri.getByLabel('Major warning threshold').fill('30');
    await kri.getByLabel('Owner').fill('li.manager');
    await screenshot(page, 'start-kri');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await kri.getByRole('button', { name: 'Start' }).click();
    const done = page.getByTestId('start-done');
    await done.waitFor();
    expect((await done.locator('code').innerText()).trim()).toBe(kriKey);
    const [indicator] = await db().select().from(keyRiskIndicators).where(eq(keyRiskIndicators.key, kriKey));
    expect(indicator).toMatchObject({ direction: 'above', thresholdElevated: 20, ownerId: 'li.manager' });

    // An observation past the elevated threshold opens its warning case, which the form opens.
    const observation = await openForm(page, 'Key risk indicator observation', 'kri-observation');
    await observation.getByLabel('Indicator key').fill(kriKey);
    await observation.getByLabel('Alert key').fill(`${tag}-A1`);
    await observation.getByLabel('Observed value').fill('25');
    const observed = new Date(Date.now() - 600_000).toISOString().slice(0, 19).replace('T', ' ');
    const picker = observation.getByLabel('Observed at');
    await picker.click();
    await picker.fill(observed);
    await page.locator('.ant-picker-dropdown:not(.ant-picker-dropdown-hidden) .ant-picker-ok button').click();
    const posted = page.waitForRequest((r) => r.method() === 'POST' && r.url().includes('/observations'));
    const warningCase = await submitToCase(page, observation);
    expect((await posted).headers()['idempotency-key']).toMatch(/^[0-9a-f-]{32,36}$/);
    expect(await caseRow(warningCase)).toMatchObject({ process: 'risk_warning', status: 'open' });
    expect(warningCase).toContain(kriKey);

    // A status change of an active supplier (seeded as one): an approval case.
    const creditCode = nextCreditCode();
    const name = `${tag} 冷链物流`;
    await db()
      .insert(suppliers)
      .values({ id: creditCode, name, category: 'logistics', tier: 'core', status: 'active', ownerId: 'chen.owner' });
    const change = await openForm(page, 'Supplier status change', 'supplier-status-change');
    await change.getByLabel('Supplier', { exact: true }).click();
    await page.keyboard.type(tag);
    await page
      .locator(
        `.ant-select-dropdown:not(.ant-select-dropdown-hidden) .ant-select-item-option[title="${name} (${creditCode})"]`,
      )
      .click();
    await choose(page, change, 'Change', 'Restrict');
    await change.getByLabel('Reason').fill('Two late deliveries this quarter');
    await screenshot(page, 'start-supplier-status-change');
    const changeCase = await submitToCase(page, change);
    expect(await caseRow(changeCase)).toMatchObject({
      process: 'supplier_status_change',
      stage: 'awaiting_approval',
      initiatorId: 'li.manager',
    });
    expect(changeCase).toContain(creditCode);

    // An assessment needs a risk in the register; a period of another length is refused under the field.
    const risk = await api('POST', '/api/risks', 'gov_demo_manager', {
      title: `${tag} carrier insolvency`,
      category: 'operational',
      description: 'A carrier fails',
      cause: 'Thin margins',
      consequence: 'Late orders',
      ownerId: 'li.manager',
      lineOfDefence: 'first',
      inherent: { probability: 3, impact: 3 },
      residual: { probability: 2, impact: 2 },
    });
    expect(risk.status, JSON.stringify(risk.body)).toBe(201);
    const assessment = await openForm(page, 'Periodic risk assessment', 'risk-assessment');
    const half = `${year}-H${month <= 6 ? 1 : 2}`;
    const refused = await api('POST', '/api/risk-assessments', 'gov_demo_manager', { period: half });
    expect(refused.status).toBe(400);
    const expected = refused.body.error.details.find((d: { field: string }) => d.field === 'body.period').message;
    await assessment.getByLabel('Assessment period').fill(half);
    await assessment.getByRole('button', { name: 'Start' }).click();
    await expect
      .poll(() => fieldError(assessment, 'start-risk-assessment_period').innerText(), { timeout: 30_000 })
      .toBe(expected);
    // A quarter no other test or README walkthrough opens: case ids are workflow ids, unique in the
    // dev server's namespace that every test file shares (the README's walkthrough opens the current one).
    await assessment.getByLabel('Assessment period').fill('2024-Q2');
    const assessmentCase = await submitToCase(page, assessment);
    expect(await caseRow(assessmentCase)).toMatchObject({ process: 'risk_assessment', initiatorId: 'li.manager' });

    const report = await openForm(page, 'Risk report', 'risk-report');
    await choose(page, report, 'Audience', 'Management');
    const period = '2024-05'; // likewise a month no other test reports on
    await report.getByLabel('Report period').fill(period);
    const reportCase = await submitToCase(page, report);
    expect(await caseRow(reportCase)).toMatchObject({ process: 'risk_report' });
    expect(reportCase).toContain(period);
  }, 300_000);

  it('compliance asks for a policy change (JSON checked in the form), internal audit sets the annual plan', async () => {
    const year = new Date().getUTCFullYear();
    const compliance = await signedIn('zhang.compliance');
    const policy = await openForm(compliance, 'Policy change', 'policy-change');
    await policy.getByLabel('Summary').fill(`${tag} complaint result within 36 hours`);
    await policy.getByLabel('Change (JSON)').fill('{"complaint": ');
    await policy.getByRole('button', { name: 'Start' }).click();
    await expect
      .poll(() => fieldError(policy, 'start-policy-change_change').innerText())
      .toContain('An object in JSON');
    await policy.getByLabel('Change (JSON)').fill('{"complaint": {"resultWithin": "36h"}}');
    await screenshot(compliance, 'start-policy-change');
    expect(await seriousAxeViolations(compliance)).toEqual([]);
    const changeCase = await submitToCase(compliance, policy);
    const row = await caseRow(changeCase);
    expect(row).toMatchObject({ process: 'policy_change', initiatorId: 'zhang.compliance' });
    expect(JSON.stringify(row!.data)).toContain('36h');

    // The plan is a record of the year: the form says it is recorded, with the year.
    const audit = await signedIn('qian.audit');
    const plan = await openForm(audit, 'Annual audit plan', 'audit-plan');
    const id = (path: string) => plan.locator(`#start-audit-plan_${path}`);
    await id('audits_0_auditKey').fill(`${tag}-DS`);
    await id('audits_0_type').click();
    await audit
      .locator('.ant-select-dropdown:not(.ant-select-dropdown-hidden) .ant-select-item-option[title="Data security"]')
      .click();
    await id('audits_0_title').fill('Data-security compliance check');
    await id('audits_0_plannedFor').fill(`${year}-12`);
    await screenshot(audit, 'start-audit-plan');
    await plan.getByRole('button', { name: 'Start' }).click();
    const done = audit.getByTestId('start-done');
    await done.waitFor();
    expect((await done.locator('code').innerText()).trim()).toBe(String(year));
    expect(
      await db()
        .select()
        .from(auditPlanEntries)
        .where(eq(auditPlanEntries.auditKey, `${tag}-DS`)),
    ).toEqual([
      expect.objectContaining({ year, type: 'data_security', plannedFor: `${year}-12`, createdBy: 'qian.audit' }),
    ]);

    // Internal audit adds an audit to the year's plan that exists; the answer names the year again.
    const more = await openForm(audit, 'Add audits to a year’s audit plan', 'audit-plan-additions');
    const add = (path: string) => more.locator(`#start-audit-plan-additions_${path}`);
    await add('audits_0_auditKey').fill(`${tag}-CA`);
    await add('audits_0_type').click();
    await audit
      .locator('.ant-select-dropdown:not(.ant-select-dropdown-hidden) .ant-select-item-option[title="Compliance"]')
      .click();
    await add('audits_0_title').fill('Compliance audit');
    await add('audits_0_plannedFor').fill(`${year}-11`);
    await add('reason').fill('Regulator asked for a compliance review');
    await more.getByRole('button', { name: 'Start' }).click();
    await expect
      .poll(
        () =>
          db()
            .select()
            .from(auditPlanEntries)
            .where(eq(auditPlanEntries.auditKey, `${tag}-CA`)),
        {
          timeout: 30_000,
        },
      )
      .toEqual([
        expect.objectContaining({ year, type: 'compliance', plannedFor: `${year}-11`, createdBy: 'qian.audit' }),
      ]);
    expect((await audit.getByTestId('start-done').locator('code').innerText()).trim()).toBe(String(year));
  }, 240_000);

  it('an auditor verifies the audit chain and sees it intact; no start form is offered', async () => {
    const page = await signedIn('zhao.auditor');
    expect(await page.getByRole('menuitem', { name: 'Start a case' }).count()).toBe(0);
    await page.getByRole('menuitem', { name: 'Audit chain' }).click();
    await page.waitForURL(/\/console\/audit$/);
    const verdict = page.getByTestId('audit-verdict');
    await verdict.waitFor();
    expect(await verdict.getAttribute('data-ok')).toBe('true');
    expect(await verdict.innerText()).toContain('The audit chain is intact');
    const direct = await api('GET', '/api/audit/verify', 'gov_demo_auditor');
    expect(direct.body.ok).toBe(true);
    expect(Number(await page.getByTestId('events-checked').innerText())).toBeGreaterThan(0);
    expect(Number(await page.getByTestId('events-checked').innerText())).toBeLessThanOrEqual(direct.body.eventsChecked);
    // One case's trail: the case id typed in, kept in the URL, verified against the API's own answer.
    const cases = await api('GET', '/api/cases?pageSize=1', 'gov_demo_auditor');
    const caseId = cases.body.items[0].id as string;
    await page.getByLabel('Case id').fill(caseId);
    await page.getByLabel('Case id').press('Enter');
    await page.waitForURL((url) => url.searchParams.get('caseId') === caseId);
    const caseVerdict = page.getByTestId('case-verdict');
    await caseVerdict.waitFor();
    const one = await api('GET', `/api/audit/cases/${encodeURIComponent(caseId)}/verify`, 'gov_demo_auditor');
    expect(one.body.ok).toBe(true);
    expect(await caseVerdict.getAttribute('data-ok')).toBe('true');
    expect(await caseVerdict.innerText()).toContain(`Intact: ${one.body.events} events of the case`);
    await screenshot(page, 'audit-chain');
    expect(await seriousAxeViolations(page)).toEqual([]);
    // The start page offers an auditor nothing either.
    await page.goto(`${product.url}/console/start`);
    await page.getByText('Your roles start no process here.').waitFor();
  }, 120_000);
});
