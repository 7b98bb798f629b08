/**
 * A supplier's status changes only through an approval case (issue 11 §6),
 * on the real Temporal dev server and PostgreSQL: PATCH refuses a status or
 * conditions and points at POST /api/suppliers/{id}/status-changes; that case
 * is decided by risk, compliance or legal, never by its requester or the
 * supplier's owner; ending cooperation takes two functions; approved, the
 * status changes (audited) and the review Schedule follows; rejected or
 * expired, nothing changes.
 */
import { ScheduleNotFoundError } from '@temporalio/client';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createDriver,
  creditCodes,
  databaseSnapshot,
  endWorkflows,
  expectNotStarted,
  snapshot,
} from '../support/drive';
import { eventually, useHarness, type TestUser } from '../support/harness';
import { saveHistoryFixture } from '../support/histories';

const h = useHarness('supplierstatus');
const enc = encodeURIComponent;
const running = new Set<string>();
/** Codes of this file (prefix 91310000MA5): review workflow ids are global on the shared dev server. */
const drive = createDriver(h, {
  label: 'Status',
  creditCode: creditCodes('91310000MA5'),
  started: (_kind, id) => running.add(id),
  ended: (_kind, id) => running.delete(id),
});
afterAll(() => endWorkflows(h, running, 'supplier status tests done'));

const supplierRow = async (id: string) =>
  (await h.sql('select status, conditions, tier, owner_id, next_review_due from suppliers where id = $1', [id]))[0];
const decide = (taskId: string, as: TestUser, json: Record<string, unknown>) =>
  h.api('POST', `/api/tasks/${enc(taskId)}/decision`, { as, json });
const scheduleOf = (supplierId: string) => h.temporal.schedule.getHandle(`supplier-review-schedule:${supplierId}`);

async function ask(supplierId: string, json: Record<string, unknown>, as: TestUser = 'manager') {
  const res = await h.api('POST', `/api/suppliers/${supplierId}/status-changes`, { as, json });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  running.add(res.body.caseId);
  return res.body as { caseId: string; approvalTaskId: string; approvalsRequired: number };
}

async function finished(caseId: string) {
  const result = await h.temporal.workflow.getHandle(caseId).result();
  running.delete(caseId);
  return result;
}

describe('PATCH edits the registry, never the status', () => {
  it('refuses status and conditions, naming each field and the route; other fields still change', async () => {
    const supplierId = await drive.registerSupplier();
    for (const [json, fields] of [
      [{ status: 'suspended', reason: 'quality hold' }, ['body.status']],
      [{ status: 'active', conditions: [], tier: 'general' }, ['body.status', 'body.conditions']],
      [{ conditions: [{ type: 'restricted_scope', detail: 'x' }] }, ['body.conditions']],
    ] as const) {
      const before = await databaseSnapshot(h);
      const res = await h.api('PATCH', `/api/suppliers/${supplierId}`, { as: 'manager', json });
      expect(res.status, JSON.stringify(json)).toBe(422);
      expect(res.body.error).toMatchObject({ code: 'UNPROCESSABLE', reason: 'STATUS_BY_DECISION_ONLY' });
      expect(res.body.error.message).toContain(`POST /api/suppliers/${supplierId}/status-changes`);
      expect(res.body.error.details.map((d: { field: string }) => d.field)).toEqual(fields);
      expect(await databaseSnapshot(h)).toEqual(before);
    }
    const renamed = await h.api('PATCH', `/api/suppliers/${supplierId}`, {
      as: 'manager',
      json: { tier: 'general', reason: 'smaller volumes' },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ status: 'active', tier: 'general' });
    expect(
      await h.sql(`select reason from audit_events where action = 'supplier.updated' and payload->>'supplierId' = $1`, [
        supplierId,
      ]),
    ).toEqual([{ reason: 'smaller volumes' }]);
  });
});

describe('a status change is an approval case', () => {
  it('restrict: neither the requester nor the owner decides; approved, the supplier is restricted and audited', async () => {
    const supplierId = await drive.registerSupplier();
    // The owner is a compliance officer: an approver, but not for their own supplier.
    expect(
      (await h.api('PATCH', `/api/suppliers/${supplierId}`, { as: 'admin', json: { ownerId: 'appr2' } })).status,
    ).toBe(200);
    const started = await ask(
      supplierId,
      { change: 'restrict', reason: 'Late deliveries in the south region' },
      'lead',
    );
    expect(started).toMatchObject({
      caseId: `supplier-status-change:${supplierId}:1`,
      approvalTaskId: `supplier-status-change:${supplierId}:1:approval`,
      approvalsRequired: 1,
    });
    const { caseId, approvalTaskId } = started;
    const [task] = await h.sql('select candidate_roles, excluded_user_ids, status from tasks where id = $1', [
      approvalTaskId,
    ]);
    expect(task).toEqual({
      candidate_roles: ['risk', 'compliance', 'legal'],
      excluded_user_ids: expect.arrayContaining(['lead', 'appr2']),
      status: 'open',
    });
    const [row] = await h.sql(
      'select process, stage, initiator_id, subject_id, policy_version from cases where id = $1',
      [caseId],
    );
    expect(row).toEqual({
      process: 'supplier_status_change',
      stage: 'awaiting_approval',
      initiator_id: 'lead',
      subject_id: supplierId,
      policy_version: 1,
    });

    // Refused: the requester and the owner, before history records anything; nothing changes.
    for (const as of ['lead', 'approver2'] as const) {
      const before = await snapshot(h, caseId);
      const res = await decide(approvalTaskId, as, { decision: 'approve' });
      expect(res.status, as).toBe(422);
      expect(res.body.error.reason).toBe('SEGREGATION_OF_DUTIES');
      expect(await snapshot(h, caseId)).toEqual(before);
    }
    expect((await supplierRow(supplierId)).status).toBe('active');

    // Refused: a second change while this one is open.
    const before = await databaseSnapshot(h);
    const second = await h.api('POST', `/api/suppliers/${supplierId}/status-changes`, {
      as: 'manager',
      json: { change: 'suspend', reason: 'also suspend' },
    });
    expect(second.status).toBe(409);
    expect(second.body.error).toMatchObject({ reason: 'STATUS_CHANGE_OPEN', details: { openCaseId: caseId } });
    expect(await databaseSnapshot(h)).toEqual(before);
    await expectNotStarted(h, `supplier-status-change:${supplierId}:2`);

    // Allowed: a risk officer approves; the change is applied as it answers.
    const approved = await decide(approvalTaskId, 'approver', { decision: 'approve' });
    expect(approved.body.status).toBe('approved');
    expect(await supplierRow(supplierId)).toMatchObject({
      status: 'restricted',
      conditions: [
        expect.objectContaining({ type: 'restricted_scope', detail: 'Late deliveries in the south region', caseId }),
      ],
    });
    expect(await finished(caseId)).toEqual({ outcome: 'approved', applied: true, from: 'active', to: 'restricted' });
    expect(
      await h.sql(
        `select actor_id, reason, payload from audit_events where action = 'supplier.restricted' and case_id = $1`,
        [caseId],
      ),
    ).toEqual([
      {
        actor_id: 'appr1',
        reason: 'Late deliveries in the south region',
        payload: expect.objectContaining({
          from: 'active',
          to: 'restricted',
          requestedBy: 'lead',
          approvedBy: ['appr1'],
        }),
      },
    ]);
    const detail = await h.api('GET', `/api/suppliers/${supplierId}`, { as: 'auditor' });
    expect(detail.body.statusChanges.map((c: { id: string; outcome: string }) => [c.id, c.outcome])).toEqual([
      [caseId, 'approved'],
    ]);
    expect(detail.body.reviews.map((c: { id: string }) => c.id)).not.toContain(caseId);

    // A change that does not apply to the status is refused; lifting the restriction applies.
    const wrong = await h.api('POST', `/api/suppliers/${supplierId}/status-changes`, {
      as: 'manager',
      json: { change: 'restrict', reason: 'again' },
    });
    expect(wrong.status).toBe(409);
    expect(wrong.body.error).toMatchObject({ reason: 'STATUS_CHANGE_NOT_ALLOWED', details: { status: 'restricted' } });
    const lift = await ask(supplierId, { change: 'lift_restriction', reason: 'Deliveries back on time' });
    expect(lift.caseId).toBe(`supplier-status-change:${supplierId}:2`);
    await decide(lift.approvalTaskId, 'legal', { decision: 'approve' });
    expect(await supplierRow(supplierId)).toMatchObject({ status: 'active', conditions: [] });
  });

  it('end cooperation: two approvers of two functions; the Schedule is deleted', async () => {
    const supplierId = await drive.registerSupplier();
    await scheduleOf(supplierId).describe();
    const { caseId, approvalTaskId, approvalsRequired } = await ask(supplierId, {
      change: 'terminate',
      reason: 'Contract ends at the year end',
    });
    expect(approvalsRequired).toBe(2);
    expect((await decide(approvalTaskId, 'approver', { decision: 'approve' })).body.status).toBe('open');
    expect((await supplierRow(supplierId)).status).toBe('active');
    // A second risk officer is the same function: no second pair of eyes.
    const before = await snapshot(h, caseId);
    const sameFunction = await decide(approvalTaskId, 'risk2', { decision: 'approve' });
    expect(sameFunction.status).toBe(422);
    expect(sameFunction.body.error.reason).toBe('FOUR_EYES');
    expect(await snapshot(h, caseId)).toEqual(before);
    expect((await decide(approvalTaskId, 'approver2', { decision: 'approve' })).body.status).toBe('approved');
    expect(await supplierRow(supplierId)).toMatchObject({ status: 'terminated', next_review_due: null });
    await expect(scheduleOf(supplierId).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
    await finished(caseId);
    await saveHistoryFixture(h, caseId, 'supplier-status-change-terminated');
    // What ended stays ended: only blacklisting still applies.
    const reopen = await h.api('POST', `/api/suppliers/${supplierId}/status-changes`, {
      as: 'manager',
      json: { change: 'lift_suspension', reason: 'changed our minds' },
    });
    expect(reopen.status).toBe(409);
    expect(reopen.body.error.message).toMatch(/ended; that is final/);
  });

  it('suspend pauses the Schedule and lifting resumes it; a rejection or a lapse changes nothing', async () => {
    const supplierId = await drive.registerSupplier();

    // Rejected: a rejection gives its reason; the supplier and its Schedule are unchanged.
    const rejected = await ask(supplierId, { change: 'suspend', reason: 'Pending an audit' });
    const noReason = await decide(rejected.approvalTaskId, 'approver', { decision: 'reject' });
    expect(noReason.body.error.reason).toBe('INVALID_DECISION');
    expect(
      (await decide(rejected.approvalTaskId, 'approver', { decision: 'reject', comment: 'no evidence' })).body.status,
    ).toBe('rejected');
    expect(await finished(rejected.caseId)).toMatchObject({ outcome: 'rejected', applied: false });
    expect((await supplierRow(supplierId)).status).toBe('active');
    expect((await scheduleOf(supplierId).describe()).state.paused).toBe(false);

    // Expired: nobody decided by the final deadline.
    const lapsed = await ask(supplierId, {
      change: 'suspend',
      reason: 'Pending an audit',
      timings: { approval: { remindAfter: '1s', escalateAfter: '1s', expireAfter: '2s' } },
    });
    expect(await finished(lapsed.caseId)).toMatchObject({ outcome: 'expired', applied: false });
    expect((await supplierRow(supplierId)).status).toBe('active');
    expect(
      await h.sql(`select 1 from audit_events where action = 'supplier.suspended' and payload->>'supplierId' = $1`, [
        supplierId,
      ]),
    ).toHaveLength(0);

    // Approved: suspended, the Schedule paused; lifted, active and resumed.
    const suspend = await ask(supplierId, { change: 'suspend', reason: 'Quality hold' });
    await decide(suspend.approvalTaskId, 'approver2', { decision: 'approve' });
    expect((await supplierRow(supplierId)).status).toBe('suspended');
    expect((await scheduleOf(supplierId).describe()).state.paused).toBe(true);
    const review = await h.api('POST', '/api/supplier-reviews', { as: 'lead', json: { supplierId, year: 2026 } });
    expect(review.status).toBe(409);
    const lift = await ask(supplierId, { change: 'lift_suspension', reason: 'Hold lifted' });
    await decide(lift.approvalTaskId, 'approver', { decision: 'approve' });
    expect((await supplierRow(supplierId)).status).toBe('active');
    expect((await scheduleOf(supplierId).describe()).state.paused).toBe(false);
    await eventually(
      async () => (await h.sql('select status from cases where id = $1', [lift.caseId]))[0]?.status === 'closed',
    );
  });

  it('a suspension approved while a review runs stands when the review approves', async () => {
    const supplierId = await drive.registerSupplier();
    const { caseId: reviewId } = await drive.reviewAt('scoring', supplierId, 2026);
    const scored = await h.api('POST', `/api/supplier-reviews/${enc(reviewId)}/scores`, {
      as: 'manager',
      json: {
        scores: {
          legal_compliance: 5,
          financial_stability: 5,
          technical_capability: 5,
          market_reputation: 5,
          cooperation_history: 5,
        },
        impact: 1,
      },
    });
    expect(scored.status, JSON.stringify(scored.body)).toBe(200);
    const suspend = await ask(supplierId, { change: 'suspend', reason: 'Customs investigation' });
    await decide(suspend.approvalTaskId, 'approver', { decision: 'approve' });
    expect((await supplierRow(supplierId)).status).toBe('suspended');

    expect((await decide(`${reviewId}:decision`, 'approver2', { decision: 'approve' })).body.status).toBe('approved');
    await finished(reviewId);
    const supplier = await supplierRow(supplierId);
    expect(supplier.status).toBe('suspended');
    expect(supplier.next_review_due.getTime()).toBeGreaterThan(Date.now() + 300 * 86_400_000);
    expect((await scheduleOf(supplierId).describe()).state.paused).toBe(true);
    const [applied] = await h.sql(
      `select payload from audit_events where action = 'supplier.review_applied' and case_id = $1`,
      [reviewId],
    );
    expect(applied.payload).toMatchObject({ decision: 'approve', status: 'suspended' });
    expect(applied.payload.statusKept).toMatch(/suspended, not active/);
  });

  it('who may ask, and per-case timings only where the deployment allows them', async () => {
    const supplierId = await drive.registerSupplier();
    const path = `/api/suppliers/${supplierId}/status-changes`;
    const json = { change: 'suspend', reason: 'Quality hold' };
    for (const as of ['owner', 'auditor', 'admin'] as const) {
      const before = await databaseSnapshot(h);
      const res = await h.api('POST', path, { as, json });
      expect(res.status, as).toBe(403);
      expect(await databaseSnapshot(h)).toEqual(before);
    }
    h.settings.caseTimings = 'locked';
    try {
      const before = await databaseSnapshot(h);
      const res = await h.api('POST', path, {
        as: 'manager',
        json: { ...json, timings: { approval: { expireAfter: '1s' } } },
      });
      expect(res.status).toBe(403);
      expect(res.body.error).toMatchObject({
        reason: 'CASE_TIMINGS_LOCKED',
        details: { fields: ['timings.approval'] },
      });
      expect(await databaseSnapshot(h)).toEqual(before);
      await expectNotStarted(h, `supplier-status-change:${supplierId}:1`);
      // Without timings, the policy's approval ladder: escalated after 48 hours.
      const { approvalTaskId } = await ask(supplierId, json, 'approver');
      const [task] = await h.sql('select due_at, created_at from tasks where id = $1', [approvalTaskId]);
      expect(task.due_at.getTime() - task.created_at.getTime()).toBeGreaterThan(47 * 3_600_000);
    } finally {
      h.settings.caseTimings = 'allow';
    }
  });
});
