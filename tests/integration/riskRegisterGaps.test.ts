/**
 * The register as of a past instant (issue 12 §1) on the real Temporal dev
 * server and PostgreSQL: not only the risk's version then, but its controls
 * as linked and tested by then, its links made by then, and its acceptance
 * with the status it had then.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, useHarness } from '../support/harness';

const h = useHarness('riskregistergaps');
const enc = encodeURIComponent;
const running = new Set<string>();
afterAll(async () => {
  for (const id of running) {
    await h.temporal.workflow
      .getHandle(id)
      .terminate('risk register gap tests done')
      .catch(() => undefined);
  }
});

/** An instant strictly between what was written before and what is written after it. */
async function instant(): Promise<string> {
  await new Promise((r) => setTimeout(r, 20));
  const at = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 20));
  return at;
}

describe('the register as of a past instant', () => {
  it('gives the controls, their last tests, the links and the acceptance as they stood then', async () => {
    const raised = await h.api('POST', '/api/risks', {
      as: 'lead',
      json: {
        riskKey: `RISK-A${randomUUID().slice(0, 8).toUpperCase()}`,
        title: 'Payment gateway outage',
        category: 'technical',
        description: 'The single payment gateway fails under peak load.',
        cause: 'No failover provider',
        consequence: 'Orders lost',
        ownerId: 'owner',
        lineOfDefence: 'first',
        inherent: { probability: 4, impact: 5 },
        residual: { probability: 2, impact: 3 },
      },
    });
    expect(raised.status, JSON.stringify(raised.body)).toBe(201);
    const key = raised.body.key as string;
    const control = async (title: string) => {
      const added = await h.api('POST', `/api/risks/${key}/controls`, {
        as: 'lead',
        json: { title, ownerId: 'owner', frequency: 'daily' },
      });
      expect(added.status, JSON.stringify(added.body)).toBe(201);
      return added.body.id as string;
    };
    const test = async (controlId: string, result: string) => {
      const tested = await h.api('POST', `/api/risks/${key}/controls/${controlId}/tests`, {
        as: 'approver',
        json: { result, note: `${result} in the drill` },
      });
      expect(tested.status, JSON.stringify(tested.body)).toBe(201);
    };

    const failover = await control('Daily failover check');
    const untested = await instant();
    await test(failover, 'effective');

    const asked = await h.api('POST', `/api/risks/${key}/acceptances`, {
      as: 'owner',
      json: { reason: 'tolerable this quarter', expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString() },
    });
    expect(asked.status, JSON.stringify(asked.body)).toBe(201);
    running.add(asked.body.caseId);
    const requested = await instant();
    const approved = await h.api('POST', `/api/tasks/${enc(asked.body.approvalTaskId)}/decision`, {
      as: 'approver2',
      json: { decision: 'approve' },
    });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    await eventually(
      async () =>
        (await h.sql('select status from risk_acceptances where case_id = $1', [asked.body.caseId]))[0]?.status ===
        'active',
    );
    const inForce = await instant();

    // Afterwards: the control fails its next test, a second one is linked, a case is linked, the
    // rating changes and the acceptance turns stale.
    await test(failover, 'ineffective');
    const limits = await control('Per-merchant refund limit');
    const [someCase] = await h.sql<{ id: string }>('select id from cases where id = $1', [asked.body.caseId]);
    const linked = await h.api('POST', `/api/risks/${key}/links`, { as: 'lead', json: { caseId: someCase!.id } });
    expect([201, 409]).toContain(linked.status);
    const changed = await h.api('PATCH', `/api/risks/${key}`, {
      as: 'lead',
      json: { residual: { probability: 2, impact: 2 }, reason: 'second gateway live' },
    });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);

    const now = await h.api('GET', `/api/risks/${key}`, { as: 'auditor' });
    expect(now.body).toMatchObject({ version: 2, acceptance: { status: 'stale', staleReason: 'rating_changed' } });
    expect(now.body.controls.map((c: any) => [c.id, c.lastTest.result])).toEqual([
      [failover, 'ineffective'],
      [limits, 'not_tested'],
    ]);
    expect(now.body.links.length).toBeGreaterThan(0);

    const at = async (asOf: string) => {
      const res = await h.api('GET', `/api/risks/${key}?asOf=${enc(asOf)}`, { as: 'auditor' });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body;
    };
    const then = await at(inForce);
    expect(then).toMatchObject({ version: 1, residual: { probability: 2, impact: 3 } });
    expect(then.controls).toEqual([
      expect.objectContaining({
        id: failover,
        lastTest: expect.objectContaining({ result: 'effective', testedBy: 'appr1', note: 'effective in the drill' }),
      }),
    ]);
    expect(then.links).toEqual([]);
    expect(then.acceptance).toMatchObject({
      caseId: asked.body.caseId,
      status: 'active',
      approvedBy: ['appr2'],
      staleReason: null,
      staleAt: null,
      reviewDue: null,
    });

    const earlier = await at(requested);
    expect(earlier.acceptance).toMatchObject({ status: 'requested', approvedBy: null, approvedAt: null });
    expect(earlier.controls.map((c: any) => c.lastTest.result)).toEqual(['effective']);

    const first = await at(untested);
    expect(first.acceptance).toBeNull();
    expect(first.controls).toEqual([
      expect.objectContaining({
        id: failover,
        lastTest: { result: 'not_tested', testedBy: null, testedAt: null, note: null },
      }),
    ]);

    // The list as of then carries the acceptance as it stood, too.
    const list = await h.api('GET', `/api/risks?owner=owner&asOf=${enc(inForce)}&pageSize=100`, { as: 'auditor' });
    expect(list.status, JSON.stringify(list.body)).toBe(200);
    expect(list.body.items.find((r: any) => r.key === key)).toMatchObject({
      version: 1,
      acceptance: { status: 'active', staleAt: null },
    });
  });
});
