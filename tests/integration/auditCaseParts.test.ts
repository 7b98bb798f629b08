/**
 * What an audited write costs case_parts (migrations 0024 and 0025), on the
 * real PostgreSQL: an actor's first event on a case gives them a part there,
 * under the case's lock; a later event of the same actor on the same case
 * adds nothing and takes no lock (an audit event is never changed or
 * deleted, so the first one keeps the part for good), so it does not wait for
 * a write that is ending other parts of the case. Whatever the order, the
 * table equals what the rows give, computed from scratch, parents included.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../db/audit';
import { casePartsProbes } from '../support/caseParts';
import { useHarness } from '../support/harness';

const h = useHarness('auditCaseParts');

async function newCase(id: string, initiator: string, parent: string | null = null) {
  await h.sql(
    `insert into cases (id, process, business_key, title, stage, status, initiator_id, parent_case_id, workflow_id, run_id)
     values ($1, 'acp', $1, 'Audit case parts', 'open', 'open', $2, $3, $1, 'none')`,
    [id, initiator, parent],
  );
}

const { act, partsOf, expectTableToFollowTheRows } = casePartsProbes(h, 'audit_case_parts');

/** Whether `promise` is still waiting after a moment (on a lock of another transaction). */
const waits = async (promise: Promise<unknown>) =>
  (await Promise.race([promise.then(() => false), new Promise((r) => setTimeout(() => r(true), 700))])) as boolean;

describe('case_parts and audited writes', () => {
  let handover: pg.Client;
  beforeAll(async () => {
    handover = new pg.Client({ connectionString: h.databaseUrl });
    await handover.connect();
  });
  afterAll(async () => {
    await handover.end();
  });

  it("an actor's later event on a case waits for no write ending parts of it; a first event does", async () => {
    await newCase('acp:A', 'acp-y');
    await h.sql(
      `insert into tasks (id, case_id, workflow_id, kind, title, candidate_roles, assignee_id, status)
       values ('acp:A:t', 'acp:A', 'acp:A', 'step', 'Audit case parts', '{}', 'acp-u', 'open')`,
    );
    await act('acp-u', 'acp:A');
    expect(await partsOf('acp:A')).toEqual(['acp-u', 'acp-y']);

    // A handover holds the case's lock (exclusive: it may end a part) until it commits.
    await handover.query('begin');
    try {
      await handover.query(`update tasks set assignee_id = 'acp-y' where id = 'acp:A:t'`);
      // acp-u acted before: their part cannot end, so their next event goes through at once.
      expect(await waits(act('acp-u', 'acp:A'))).toBe(false);
      // acp-x never acted on the case: their first event gives a part, so it waits for the handover.
      const first = act('acp-x', 'acp:A');
      expect(await waits(first)).toBe(true);
      await handover.query('commit');
      await first;
    } catch (err) {
      await handover.query('rollback');
      throw err;
    }
    // The handover kept acp-u's part (they acted), and acp-x has one.
    expect(await partsOf('acp:A')).toEqual(['acp-u', 'acp-x', 'acp-y']);
    await expectTableToFollowTheRows();
    expect(await verifyAuditChain(h.database.db)).toMatchObject({ ok: true });
  });

  it('a first event gives a part at the case and at the case it was opened from, and later ones follow moves', async () => {
    await newCase('acp:P', 'acp-y');
    await newCase('acp:Q', 'acp-y');
    await newCase('acp:C', 'acp-y', 'acp:P');
    await act('acp-z', 'acp:C');
    await act('acp-z', 'acp:C');
    expect(await partsOf('acp:C')).toEqual(['acp-y', 'acp-z']);
    expect(await partsOf('acp:P')).toEqual(['acp-y', 'acp-z']);
    // Moved to another parent: the actor's part moves with it; a later event adds nothing.
    await h.sql(`update cases set parent_case_id = 'acp:Q' where id = 'acp:C'`);
    await act('acp-z', 'acp:C');
    expect(await partsOf('acp:P')).toEqual(['acp-y']);
    expect(await partsOf('acp:Q')).toEqual(['acp-y', 'acp-z']);
    await expectTableToFollowTheRows();
  });

  it('two events of a new actor in one statement give the part once', async () => {
    await newCase('acp:B', 'acp-y', 'acp:P');
    // Straight into the table, as a bulk load would (outside the chain: this file verifies no chain after it).
    await h.sql(
      `insert into audit_events (seq, idempotency_key, occurred_at, actor_id, action, case_id, payload, evidence_hashes, prev_hash, hash)
       select nextval('audit_events_seq_seq'), 'acp-bulk:' || g, now(), 'acp-w', 'audit_case_parts.bulk', 'acp:B', '{}', '[]', '', ''
         from generate_series(1, 2) g`,
    );
    expect(await partsOf('acp:B')).toEqual(['acp-w', 'acp-y']);
    expect(await partsOf('acp:P')).toEqual(['acp-w', 'acp-y']);
    await expectTableToFollowTheRows();
  });
});
