/**
 * Internal audit findings (issue 11 §2), on the real Temporal dev server and
 * PostgreSQL: only internal audit records them; each opens its remedy at once,
 * a rectification item verified by someone other than its owner or an
 * improvement cycle the owner plans; the finding closes with its remedy.
 */
import { describe, expect, it } from 'vitest';
import { fileForm } from '../support/drive';
import { useHarness, type TestUser } from '../support/harness';
import { saveHistoryFixture } from '../support/histories';

const h = useHarness('findings');
const enc = encodeURIComponent;

const finding = (over: Record<string, unknown> = {}) => ({
  findingKey: h.unique('AF'),
  title: 'Access reviews of the payment console are not recorded',
  description: 'Q3 compliance audit: no evidence of quarterly access reviews.',
  severity: 'high',
  area: 'data_security',
  remedy: 'rectification',
  ownerId: 'owner',
  ...over,
});

const record = (json: Record<string, unknown>, as: TestUser = 'internalAudit') =>
  h.api('POST', '/api/audit-findings', { as, json });

describe('internal audit findings', () => {
  it('only internal audit records a finding, never owning its remedy; refusals start nothing', async () => {
    for (const as of ['manager', 'approver', 'auditor', 'admin'] as const) {
      const body = finding();
      const res = await record(body, as);
      expect(res.status, as).toBe(403);
      expect(await h.sql('select 1 from cases where id = $1', [`audit-finding:${body.findingKey}`])).toEqual([]);
    }
    const self = await record(finding({ ownerId: 'ia1' }));
    expect(self.status).toBe(400);
    expect(self.body.error.message).toMatch(/ownerId/);

    const noPlan = await record(finding({ remedy: 'improvement' }));
    expect(noPlan.status).toBe(400);
    expect(noPlan.body.error.message).toMatch(/body\.improvement/);

    const unknownCase = await record(finding({ relatedCaseId: 'approval-request:NOPE' }));
    expect(unknownCase.status).toBe(404);
    expect(await h.sql("select 1 from cases where process = 'audit_finding'")).toEqual([]);
  });

  it('a rectification remedy is carried out by its owner, verified by another, and closes the finding', async () => {
    const body = finding();
    const res = await record(body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const caseId = `audit-finding:${body.findingKey}`;
    const itemId = `${caseId}:rectification:1`;
    expect(res.body).toMatchObject({ caseId, remedyCaseId: itemId, stage: 'rectification' });

    const [row] = await h.sql(
      'select process, stage, risk_level, initiator_id, owner_id, policy_version, data from cases where id = $1',
      [caseId],
    );
    expect(row).toMatchObject({
      process: 'audit_finding',
      stage: 'rectification',
      risk_level: 'high',
      initiator_id: 'ia1',
      owner_id: 'owner',
      policy_version: 1,
    });
    expect(row.data).toMatchObject({ area: 'data_security', remedy: 'rectification', remedyCaseId: itemId });

    // The item is in its owner's inbox as soon as the call answered.
    const inbox = await h.api('GET', '/api/tasks/inbox', { as: 'owner' });
    expect(inbox.body.toDo.map((t: { id: string }) => t.id)).toContain(itemId);

    const evidence = await h.api('POST', `/api/cases/${enc(caseId)}/evidence`, {
      as: 'owner',
      body: fileForm('access review log'),
    });
    expect(evidence.status).toBe(201);
    const submitted = await h.api('POST', `/api/tasks/${enc(itemId)}/submission`, {
      as: 'owner',
      json: { evidenceIds: [evidence.body.id] },
    });
    expect(submitted.status).toBe(200);
    const own = await h.api('POST', `/api/tasks/${enc(itemId)}/verification`, {
      as: 'owner',
      json: { verdict: 'accept' },
    });
    expect(own.status).toBe(422);
    expect(own.body.error.reason).toBe('SEGREGATION_OF_DUTIES');

    // The auditor who asked for the work does not verify it either; the refusal says why.
    const history = async () => (await h.temporal.workflow.getHandle(itemId).fetchHistory()).events?.length;
    const before = await history();
    const asker = await h.api('POST', `/api/tasks/${enc(itemId)}/verification`, {
      as: 'internalAudit',
      json: { verdict: 'accept' },
    });
    expect(asker.status).toBe(422);
    expect(asker.body.error).toMatchObject({
      reason: 'SEGREGATION_OF_DUTIES',
      details: { userId: 'ia1', reasons: ['asked for this item'] },
    });
    expect(await history()).toBe(before);
    const [still] = await h.sql('select status, excluded_user_ids from tasks where id = $1', [itemId]);
    expect(still).toEqual({ status: 'submitted', excluded_user_ids: ['ia1'] });
    const riskInbox = await h.api('GET', '/api/tasks/inbox', { as: 'internalAudit' });
    expect(riskInbox.body.toVerify.map((t: { id: string }) => t.id)).not.toContain(itemId);

    const verified = await h.api('POST', `/api/tasks/${enc(itemId)}/verification`, {
      as: 'approver',
      json: { verdict: 'accept' },
    });
    expect(verified.status, JSON.stringify(verified.body)).toBe(200);
    expect(await h.temporal.workflow.getHandle(caseId).result()).toEqual({ outcome: 'resolved', remedyCaseId: itemId });
    const [closed] = await h.sql('select status, outcome from cases where id = $1', [caseId]);
    expect(closed).toEqual({ status: 'closed', outcome: 'resolved' });
    await saveHistoryFixture(h, caseId, 'audit-finding-rectified');
  });

  it('an improvement remedy opens a PDCA cycle the owner plans, linked to the finding, which stays open', async () => {
    const body = finding({
      remedy: 'improvement',
      ownerId: 'mgr',
      severity: 'medium',
      improvement: {
        objective: 'Every privileged account reviewed each quarter',
        kpis: [
          {
            key: 'reviewed_share',
            name: 'Accounts reviewed',
            unit: '%',
            baseline: 40,
            target: 100,
            direction: 'increase',
          },
        ],
        checkIn: '90d',
      },
    });
    const res = await record(body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const caseId = `audit-finding:${body.findingKey}`;
    const cycleId = `pdca:AF-${body.findingKey}`;
    expect(res.body).toMatchObject({ caseId, remedyCaseId: cycleId, stage: 'improvement' });

    const [cycle] = await h.sql('select process, stage, owner_id, initiator_id, data from cases where id = $1', [
      cycleId,
    ]);
    expect(cycle).toMatchObject({ process: 'pdca', stage: 'plan', owner_id: 'mgr', initiator_id: 'ia1' });
    expect(cycle.data).toMatchObject({ source: 'audit_finding', sourceCaseId: caseId });
    const [open] = await h.sql('select status, stage from cases where id = $1', [caseId]);
    expect(open).toEqual({ status: 'open', stage: 'improvement' });

    // Recording the same finding again is refused and starts nothing new.
    const again = await record(body);
    expect(again.status).toBe(409);
  });
});
