/**
 * One open case of each process, started through the API as a user would:
 * what tests that walk every process (the derived contract rows) start from.
 * Every call answers once its effect can be read, so nothing here polls.
 */
import { expect } from 'vitest';
import { creditCodeCheckChar } from '../../domain/uscc';
import type { Harness } from './harness';

export interface OpenCase {
  /** The id the routes take: a business key or the case id. */
  key: string;
  caseId: string;
}

const ok = async (res: Promise<{ status: number; body: any }>, status = 200) => {
  const done = await res;
  expect(done.status, JSON.stringify(done.body)).toBe(status);
  return done.body;
};

let supplierSerial = 0;
/** Credit codes of this module (organisation code prefix MA3); other files use MA1 and MA2. */
function newCreditCode(): string {
  supplierSerial += 1;
  const first17 = `91440300MA3${String(process.pid % 1000).padStart(3, '0')}${String(supplierSerial).padStart(3, '0')}`;
  return first17 + creditCodeCheckChar(first17);
}

const decide = (h: Harness, taskId: string, as: 'manager' | 'lead' | 'approver') =>
  ok(h.api('POST', `/api/tasks/${encodeURIComponent(taskId)}/decision`, { as, json: { decision: 'approve' } }));

/** Each process's first stage, its case owned by `mgr` (or handled by `owner` for complaints). */
export const openCaseOf: Record<string, (h: Harness) => Promise<OpenCase>> = {
  complaint: async (h) => {
    const body = await ok(
      h.api('POST', '/api/complaints', {
        as: 'manager',
        json: { customerRef: h.unique('CUST'), channel: 'email', subject: 'Refund not received', handlerId: 'owner' },
      }),
      201,
    );
    return { key: body.complaintId, caseId: body.caseId };
  },
  incident: async (h) => {
    const body = await ok(
      h.api('POST', '/api/incidents', {
        as: 'manager',
        json: {
          title: 'Payments API outage',
          category: 'system_failure',
          system: h.unique('system'),
          occurredAt: new Date(Date.now() - 60_000).toISOString(),
          impact: { affectedUsers: 50, amountCny: 0 },
        },
      }),
      201,
    );
    return { key: body.incidentId, caseId: body.caseId };
  },
  pdca: async (h) => {
    const cycleKey = h.unique('PDCA');
    const body = await ok(
      h.api('POST', '/api/improvement-cycles', {
        as: 'lead',
        json: {
          cycleKey,
          source: 'kpi_gap',
          title: 'Faster complaint resolution',
          objective: 'Resolve complaints within a day',
          ownerId: 'mgr',
          kpis: [
            {
              key: 'complaint_resolution_hours',
              name: 'Resolution time',
              unit: 'h',
              baseline: 48,
              target: 24,
              direction: 'decrease',
            },
          ],
          actions: [{ title: 'Add a second-line queue', ownerId: 'owner' }],
        },
      }),
      201,
    );
    return { key: cycleKey, caseId: body.caseId };
  },
  supplier_review: async (h) => {
    const creditCode = newCreditCode();
    await ok(
      h.api('POST', '/api/suppliers', {
        as: 'manager',
        json: {
          creditCode,
          name: `Supplier ${creditCode.slice(-6)}`,
          category: 'logistics',
          tier: 'core',
          ownerId: 'mgr',
        },
      }),
      201,
    );
    const body = await ok(
      h.api('POST', '/api/supplier-reviews', { as: 'lead', json: { supplierId: creditCode, year: 2026 } }),
      201,
    );
    return { key: body.caseId, caseId: body.caseId };
  },
  drill: async (h) => {
    const planId = h.unique('EP');
    const { revisionCaseId } = await ok(
      h.api('POST', '/api/emergency-plans', {
        as: 'admin',
        json: { planId, title: `Plan ${planId}`, type: 'network_security', ownerId: 'mgr' },
      }),
      201,
    );
    const form = new FormData();
    form.append('file', new File([Buffer.from('plan v1')], 'plan.txt'));
    form.append('summary', 'First version');
    await ok(
      h.api('POST', `/api/plan-revisions/${encodeURIComponent(revisionCaseId)}/draft`, { as: 'manager', body: form }),
    );
    await decide(h, `${revisionCaseId}:review-1`, 'lead');
    await decide(h, `${revisionCaseId}:approval-1`, 'approver');
    const body = await ok(h.api('POST', '/api/drills', { as: 'lead', json: { planId, year: 2026 } }), 201);
    return { key: body.caseId, caseId: body.caseId };
  },
};
