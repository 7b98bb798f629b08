/**
 * The periodic risk assessment's gaps (issue 12 §2) on the real Temporal dev
 * server and PostgreSQL: a rejected review or sign-off sends the ratings back
 * to every owner, with its reason, and the case comes back for review; the
 * report's movements are measured against the previous period's assessment,
 * not against the register as this one opened. Its periods (2023) are its
 * own: workflow ids are per namespace, shared with the other test files.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, useHarness, type TestUser } from '../support/harness';
import { saveHistoryFixture } from '../support/histories';
import { GovPeriod } from '../../workflows/searchAttributes';

const h = useHarness('riskassessmentgaps');
const enc = encodeURIComponent;
const running = new Set<string>();
afterAll(async () => {
  for (const id of running) {
    await h.temporal.workflow
      .getHandle(id)
      .terminate('risk assessment gap tests done')
      .catch(() => undefined);
  }
});

async function raise(ownerId: string, residual: { probability: number; impact: number }) {
  const res = await h.api('POST', '/api/risks', {
    as: 'lead',
    json: {
      riskKey: `RISK-G${randomUUID().slice(0, 8).toUpperCase()}`,
      title: `Risk of ${ownerId}`,
      category: 'technical',
      description: 'The single payment gateway fails under peak load.',
      cause: 'No failover provider',
      consequence: 'Orders lost',
      ownerId,
      lineOfDefence: 'first',
      inherent: { probability: 4, impact: 5 },
      residual,
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.key as string;
}

const rate = (period: string, as: TestUser, json: Record<string, unknown>) =>
  h.api('POST', `/api/risk-assessments/${period}/ratings`, { as, json });
const decide = (taskId: string, as: TestUser, json: Record<string, unknown>) =>
  h.api('POST', `/api/tasks/${enc(taskId)}/decision`, { as, json });
const rating = (riskKey: string, probability: number, impact: number) => ({
  riskKey,
  causes: 'Peak load doubled; one gateway',
  analysis: 'Failover drill passed, capacity short at peak',
  residual: { probability, impact },
  evaluation: 'accept',
});
const caseOf = async (caseId: string) =>
  (await h.sql('select status, stage, outcome, data from cases where id = $1', [caseId]))[0];
const taskOf = async (taskId: string) =>
  (await h.sql('select status, decision, assignee_id, title from tasks where id = $1', [taskId]))[0];
const keys = (list: Array<{ riskKey: string }>) => list.map((m) => m.riskKey).sort();

async function expectOk(res: Promise<{ status: number; body: any }>) {
  const done = await res;
  expect(done.status, JSON.stringify(done.body)).toBe(200);
  return done.body;
}

describe('the periodic risk assessment: rejection and movements since the last period', () => {
  let ownerRisk = '';
  let mgrRisk = '';

  it('a rejected review, then a rejected sign-off, each send the ratings back to the owners with the reason', async () => {
    ownerRisk = await raise('owner', { probability: 2, impact: 2 });
    mgrRisk = await raise('mgr', { probability: 2, impact: 2 });
    const period = '2023-Q3';
    const caseId = `risk-assessment:${period}`;
    const started = await h.api('POST', '/api/risk-assessments', { as: 'lead', json: { period } });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    running.add(caseId);

    await expectOk(rate(period, 'owner', { ratings: [rating(ownerRisk, 2, 3)] }));
    await expectOk(rate(period, 'manager', { ratings: [rating(mgrRisk, 2, 2)] }));
    await eventually(async () => (await caseOf(caseId)).stage === 'awaiting_approval');

    // The risk function rejects: not the end of the case, the ratings go back to both owners.
    const reviewReason = 'The gateway analysis cites no load-test evidence';
    await expectOk(decide(`${caseId}:review`, 'risk2', { decision: 'reject', comment: reviewReason }));
    await eventually(async () => (await taskOf(`${caseId}:rating:mgr:2`))?.status === 'open');
    const back = await caseOf(caseId);
    expect(back).toMatchObject({ status: 'open', stage: 'rating', outcome: null });
    expect(back.data.returns).toEqual([
      expect.objectContaining({ step: 'review', by: 'risk2', reason: reviewReason, round: 1 }),
    ]);
    expect(await taskOf(`${caseId}:review`)).toMatchObject({ status: 'done', decision: 'rejected' });
    const step = await taskOf(`${caseId}:rating:owner:2`);
    expect(step).toMatchObject({ status: 'open', assignee_id: 'owner' });
    expect(step.title).toContain(reviewReason);
    const inbox = await h.api('GET', '/api/tasks/inbox', { as: 'owner' });
    const owed = inbox.body.toDo.find((t: { id: string }) => t.id === `${caseId}:rating:owner:2`);
    expect(owed?.title).toContain(reviewReason);
    // Nothing is reviewed until every owner has re-rated again.
    expect(await h.sql(`select id from tasks where id = $1`, [`${caseId}:review-2`])).toEqual([]);

    await expectOk(rate(period, 'owner', { ratings: [rating(ownerRisk, 2, 2)] }));
    const twice = await rate(period, 'owner', { ratings: [rating(ownerRisk, 2, 2)] });
    expect(twice.status).toBe(409);
    expect(twice.body.error.reason).toBe('ALREADY_RATED');
    await expectOk(rate(period, 'manager', { ratings: [rating(mgrRisk, 2, 2)] }));
    await eventually(async () => (await taskOf(`${caseId}:review-2`))?.status === 'open');
    // An owner who re-rated is still barred from the review.
    const [review2] = await h.sql('select excluded_user_ids from tasks where id = $1', [`${caseId}:review-2`]);
    expect(review2.excluded_user_ids).toEqual(expect.arrayContaining(['owner', 'mgr']));
    await expectOk(decide(`${caseId}:review-2`, 'risk2', { decision: 'approve' }));

    // Compliance rejects the sign-off: back to the owners once more, then review again.
    await eventually(async () => (await taskOf(`${caseId}:sign-off-2`))?.status === 'open');
    const signOffReason = 'Treatments are not budgeted';
    await expectOk(decide(`${caseId}:sign-off-2`, 'approver2', { decision: 'reject', comment: signOffReason }));
    await eventually(async () => (await taskOf(`${caseId}:rating:owner:3`))?.status === 'open');
    expect((await taskOf(`${caseId}:rating:owner:3`)).title).toContain(signOffReason);
    expect((await caseOf(caseId)).data.returns).toEqual([
      expect.objectContaining({ step: 'review', reason: reviewReason, round: 1 }),
      expect.objectContaining({ step: 'sign-off', by: 'appr2', reason: signOffReason, round: 2 }),
    ]);
    await expectOk(rate(period, 'owner', { ratings: [rating(ownerRisk, 1, 2)] }));
    await expectOk(rate(period, 'manager', { ratings: [rating(mgrRisk, 2, 2)] }));
    await eventually(async () => (await taskOf(`${caseId}:review-3`))?.status === 'open');
    await expectOk(decide(`${caseId}:review-3`, 'risk2', { decision: 'approve' }));
    await eventually(async () => (await taskOf(`${caseId}:sign-off-3`))?.status === 'open');
    await expectOk(decide(`${caseId}:sign-off-3`, 'approver2', { decision: 'approve' }));

    expect(await h.temporal.workflow.getHandle(caseId).result()).toEqual({
      outcome: 'closed_out',
      rectificationItems: [],
    });
    // Recorded only with RECORD_HISTORIES=1 (npm run test:record), for the replay test.
    await saveHistoryFixture(h, caseId, 'risk-assessment-returned-twice');
    running.delete(caseId);
    // Three rounds, each a register version of the owner's risk.
    expect(
      (await h.sql('select version from risk_versions where risk_key = $1 order by version', [ownerRisk])).map(
        (r: { version: number }) => r.version,
      ),
    ).toEqual([1, 2, 3, 4]);
    const report = await h.api('GET', `/api/risk-assessments/${period}/report`, { as: 'auditor' });
    expect(report.status, JSON.stringify(report.body)).toBe(200);
    // No earlier assessment: movements from the register as this one opened.
    expect(report.body.comparedWith).toBeNull();
    expect(keys(report.body.movements.fell)).toEqual([ownerRisk]);
    expect(keys(report.body.movements.unchanged)).toEqual([mgrRisk]);
  });

  it('the report’s movements compare with the previous period’s assessment', async () => {
    // Between the periods the register moves: the owner's risk is re-rated up, a risk is raised.
    const patched = await h.api('PATCH', `/api/risks/${ownerRisk}`, {
      as: 'lead',
      json: { residual: { probability: 3, impact: 3 }, reason: 'gateway incident in September' },
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    const raisedBetween = await raise('owner', { probability: 2, impact: 2 });

    const period = '2023-Q4';
    const caseId = `risk-assessment:${period}`;
    const started = await h.api('POST', '/api/risk-assessments', { as: 'lead', json: { period } });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    running.add(caseId);
    await expectOk(rate(period, 'owner', { ratings: [rating(ownerRisk, 2, 2), rating(raisedBetween, 2, 2)] }));
    await expectOk(rate(period, 'manager', { ratings: [rating(mgrRisk, 2, 2)] }));

    const report = await h.api('GET', `/api/risk-assessments/${period}/report`, { as: 'auditor' });
    expect(report.status, JSON.stringify(report.body)).toBe(200);
    expect(report.body.comparedWith).toEqual({
      caseId: 'risk-assessment:2023-Q3',
      period: '2023-Q3',
      status: 'closed',
    });
    // 1×2 last period → 2×2 now: it rose, though it fell from the 3×3 the register held when this one opened.
    expect(keys(report.body.movements.rose)).toEqual([ownerRisk]);
    expect(report.body.movements.rose[0]).toMatchObject({
      before: { probability: 1, impact: 2 },
      after: { probability: 2, impact: 2 },
      atOpening: { probability: 3, impact: 3 },
    });
    expect(keys(report.body.movements.fell)).toEqual([]);
    // Not in last period's assessment: new, though it was in the register when this one opened.
    expect(keys(report.body.movements.new)).toEqual([raisedBetween]);
    expect(keys(report.body.movements.unchanged)).toEqual([mgrRisk]);
    const html = await h.api('GET', `/api/risk-assessments/${period}/report.html`, { as: 'auditor' });
    expect(html.status).toBe(200);
    expect(String(html.body)).toContain('较上期（2023-Q3）变动');
  });

  it('signed off, a risk that rose since the previous period is treated, though it fell since this one opened', async () => {
    const period = '2023-Q4';
    const caseId = `risk-assessment:${period}`;
    // Auditors filter periodic cases by their period in Temporal UI.
    const described = await h.temporal.workflow.getHandle(caseId).describe();
    expect(described.typedSearchAttributes.get(GovPeriod)).toBe(period);
    await eventually(async () => (await taskOf(`${caseId}:review`))?.status === 'open');
    await expectOk(decide(`${caseId}:review`, 'risk2', { decision: 'approve' }));
    await eventually(async () => (await taskOf(`${caseId}:sign-off`))?.status === 'open');
    await expectOk(decide(`${caseId}:sign-off`, 'approver2', { decision: 'approve' }));
    const itemId = `${caseId}:rectification:${ownerRisk}`;
    running.add(itemId);
    const treating = await eventually(async () => {
      const row = await caseOf(caseId);
      return row.stage === 'rectification' ? row : null;
    });
    // Measured from the previous period's assessment, as the report's movements are.
    expect(treating.data.comparedWith).toEqual({
      caseId: 'risk-assessment:2023-Q3',
      period: '2023-Q3',
      status: 'closed',
    });
    const entry = (key: string) => treating.data.entries.find((e: { riskKey: string }) => e.riskKey === key);
    // 1×2 in 2023-Q3 → 2×2 now: it rose, though the register held 3×3 when this assessment opened.
    expect(entry(ownerRisk)).toMatchObject({
      before: { probability: 3, impact: 3 },
      baseline: { probability: 1, impact: 2 },
      after: { probability: 2, impact: 2 },
      treatedFor: ['rose'],
      rectificationItemId: itemId,
    });
    // Unchanged since 2023-Q3 (2×2), and within the technical appetite (9): not treated.
    expect(entry(mgrRisk)).toMatchObject({ baseline: { probability: 2, impact: 2 }, treatedFor: [] });
    expect(entry(mgrRisk).rectificationItemId).toBeUndefined();
    // Not in 2023-Q3's assessment: compared with the register as this one opened (2×2), so it did not rise.
    const raisedBetween = treating.data.entries.find(
      (e: { riskKey: string }) => ![ownerRisk, mgrRisk].includes(e.riskKey),
    );
    expect(raisedBetween).toMatchObject({ baseline: { probability: 2, impact: 2 }, treatedFor: [] });
    // One rectification item, owned by the risk's owner, and the risk linked to the assessment in the register.
    expect(await taskOf(itemId)).toMatchObject({ status: 'open', assignee_id: 'owner' });
    expect(
      await h.sql('select case_id from risk_links where risk_key = $1 and case_id = $2', [ownerRisk, caseId]),
    ).toHaveLength(1);
    expect(await h.sql(`select id from tasks where case_id = $1 and kind = 'rectification'`, [caseId])).toEqual([
      { id: itemId },
    ]);
  });
});
