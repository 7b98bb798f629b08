/**
 * What the case_parts tests share (tests/integration/caseParts.test.ts,
 * auditCaseParts.test.ts): an audited act on a case, the parts the table
 * holds for a case, and the check that the table equals what the rows give.
 */
import { expect } from 'vitest';
import { appendAuditEvent } from '../../db/audit';
import type { Harness } from './harness';

export function casePartsProbes(h: Harness, prefix: string) {
  let eventNo = 0;
  return {
    /** An audit event of `actorId` on `caseId`, as every audited act writes one. */
    act: (actorId: string, caseId: string) =>
      appendAuditEvent(h.database.db, {
        idempotencyKey: `${prefix}:${caseId}:${++eventNo}`,
        actorId,
        action: `${prefix}.acted`,
        caseId,
      }),
    /** The people case_parts holds for the case, sorted. */
    partsOf: async (caseId: string) =>
      (await h.sql('select user_id from case_parts where case_id = $1 order by user_id', [caseId])).map(
        (r: { user_id: string }) => r.user_id,
      ),
    /** What the rows give, from scratch (migration 0024's case_parts_derived): the table must hold exactly that. */
    expectTableToFollowTheRows: async () => {
      const drift = await h.sql(`
        (select 'missing' as drift, * from case_parts_derived() except select 'missing', case_id, user_id from case_parts)
        union all
        (select 'extra', case_id, user_id from case_parts except select 'extra', * from case_parts_derived())`);
      expect(drift).toEqual([]);
    },
  };
}
