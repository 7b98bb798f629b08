/**
 * case_parts (migration 0024, platform/access.ts) follows the writes it is
 * derived from, in the same transaction: a task handed to someone gives them
 * a part and takes it from the one it was handed from, unless something else
 * still names them; an audit event gives its actor a part; the people of a
 * case opened from another (linked at once or later) take a part in that
 * other; a manager reads what a report has a part in, through
 * users.manager_id. After every write the table equals what the rows give,
 * computed from scratch. The triggers write case_parts only: the audit chain
 * still verifies. And a part ended and given again at the same moment, by two
 * transactions, is kept whichever of them writes first.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../../api/auth';
import { verifyAuditChain } from '../../db/audit';
import { canReadCase, hasPartInCase, type Reader } from '../../platform/access';
import { casePartsProbes } from '../support/caseParts';
import { useHarness } from '../support/harness';

const h = useHarness('case_parts');

/** cp-u1 and cp-u2 report to cp-boss; cp-x has no part in anything until a test gives one. */
const PEOPLE = ['cp-boss', 'cp-u1', 'cp-u2', 'cp-x', 'cp-y'];
const reader = (id: string): Reader => ({ id, roles: ['action_owner'] });

async function newCase(id: string, initiator: string, parent: string | null = null) {
  await h.sql(
    `insert into cases (id, process, business_key, title, stage, status, initiator_id, parent_case_id, workflow_id, run_id)
     values ($1, 'cp', $1, 'Case parts', 'open', 'open', $2, $3, $1, 'none')`,
    [id, initiator, parent],
  );
}

async function newTask(id: string, caseId: string, assignee: string | null) {
  await h.sql(
    `insert into tasks (id, case_id, workflow_id, kind, title, candidate_roles, assignee_id, status)
     values ($1, $2, $2, 'step', 'Case parts', '{}', $3, 'open')`,
    [id, caseId, assignee],
  );
}

const { act, partsOf, expectTableToFollowTheRows } = casePartsProbes(h, 'case_parts');

beforeAll(async () => {
  await h.sql(
    `insert into users (id, name, email, roles) select p, p, p || '@parts.example', '{action_owner}' from unnest($1::text[]) p`,
    [PEOPLE],
  );
  await h.sql(`update users set manager_id = 'cp-boss' where id in ('cp-u1', 'cp-u2')`);
});

describe('case_parts follows the writes', () => {
  it('a task handed to someone gives them a part and ends the part of the one it was handed from', async () => {
    await newCase('cp:A', 'cp-y');
    await newTask('cp:A:t1', 'cp:A', 'cp-u1');
    expect(await partsOf('cp:A')).toEqual(['cp-u1', 'cp-y']);
    expect(await hasPartInCase(h.database.db, reader('cp-u1'), 'cp:A')).toBe(true);

    await h.sql(`update tasks set assignee_id = 'cp-x' where id = 'cp:A:t1'`);
    expect(await partsOf('cp:A')).toEqual(['cp-x', 'cp-y']);
    expect(await hasPartInCase(h.database.db, reader('cp-u1'), 'cp:A')).toBe(false);
    expect(await canReadCase(h.database.db, reader('cp-u1'), 'cp:A')).toBe(false);
    expect(await hasPartInCase(h.database.db, reader('cp-x'), 'cp:A')).toBe(true);

    // A status change or a second task of the same person changes nothing; handing one of two away keeps the part.
    await newTask('cp:A:t2', 'cp:A', 'cp-x');
    await h.sql(`update tasks set status = 'done' where id = 'cp:A:t1'`);
    await h.sql(`update tasks set assignee_id = null where id = 'cp:A:t1'`);
    expect(await partsOf('cp:A')).toEqual(['cp-x', 'cp-y']);
    await h.sql(`delete from tasks where id = 'cp:A:t2'`);
    expect(await partsOf('cp:A')).toEqual(['cp-y']);
    await expectTableToFollowTheRows();
  });

  it('an audit event gives its actor a part, and the chain still verifies', async () => {
    await newCase('cp:B', 'cp-y');
    expect(await hasPartInCase(h.database.db, reader('cp-x'), 'cp:B')).toBe(false);
    await act('cp-x', 'cp:B');
    expect(await partsOf('cp:B')).toEqual(['cp-x', 'cp-y']);
    expect(await hasPartInCase(h.database.db, reader('cp-x'), 'cp:B')).toBe(true);

    // An owner who acted keeps the part when the case changes owner.
    await h.sql(`update cases set owner_id = 'cp-x' where id = 'cp:B'`);
    await h.sql(`update cases set owner_id = 'cp-u2' where id = 'cp:B'`);
    expect(await partsOf('cp:B')).toEqual(['cp-u2', 'cp-x', 'cp-y']);
    await h.sql(`update cases set owner_id = null where id = 'cp:B'`);
    expect(await partsOf('cp:B')).toEqual(['cp-x', 'cp-y']);
    expect(await verifyAuditChain(h.database.db)).toMatchObject({ ok: true });
    await expectTableToFollowTheRows();
  });

  it('a case opened from another gives its people a part in that other, linked at once or later, one level up', async () => {
    await newCase('cp:P', 'cp-y');
    await newCase('cp:Q', 'cp-y');
    await newCase('cp:C1', 'cp-u1', 'cp:P');
    expect(await hasPartInCase(h.database.db, reader('cp-u1'), 'cp:P')).toBe(true);

    // Linked later (as an incident to the warning that opened it): its assignee and actors follow.
    await newCase('cp:C2', 'cp-y');
    await newTask('cp:C2:t', 'cp:C2', 'cp-u2');
    await act('cp-x', 'cp:C2');
    expect(await hasPartInCase(h.database.db, reader('cp-u2'), 'cp:P')).toBe(false);
    await h.sql(`update cases set parent_case_id = 'cp:P' where id = 'cp:C2'`);
    expect(await partsOf('cp:P')).toEqual(['cp-u1', 'cp-u2', 'cp-x', 'cp-y']);
    expect(await canReadCase(h.database.db, reader('cp-u2'), 'cp:P')).toBe(true);

    // Moved to another parent: the people it brought leave the old one, unless named there of their own.
    await h.sql(`update cases set parent_case_id = 'cp:Q' where id = 'cp:C2'`);
    expect(await partsOf('cp:P')).toEqual(['cp-u1', 'cp-y']);
    expect(await partsOf('cp:Q')).toEqual(['cp-u2', 'cp-x', 'cp-y']);

    // One level: a case opened from C1 gives a part in C1, not in P.
    await newCase('cp:G', 'cp-x', 'cp:C1');
    expect(await partsOf('cp:C1')).toEqual(['cp-u1', 'cp-x']);
    expect(await partsOf('cp:P')).toEqual(['cp-u1', 'cp-y']);

    // A child case's row written after its first audit event: the actor reaches the parent all the same.
    await act('cp-u1', 'cp:L');
    await newCase('cp:L', 'cp-y', 'cp:Q');
    expect(await partsOf('cp:Q')).toEqual(['cp-u1', 'cp-u2', 'cp-x', 'cp-y']);
    await expectTableToFollowTheRows();

    // Unlinked, or deleted: the child's people leave the parent.
    await h.sql(`update cases set parent_case_id = null where id = 'cp:C2'`);
    expect(await partsOf('cp:Q')).toEqual(['cp-u1', 'cp-y']);
    await h.sql(`delete from cases where id = 'cp:G'`);
    expect(await partsOf('cp:C1')).toEqual(['cp-u1']);
    await expectTableToFollowTheRows();
  });

  it('a manager reads what a report has a part in, through users.manager_id, by the list and by the case', async () => {
    await newCase('cp:M', 'cp-y');
    await newTask('cp:M:t', 'cp:M', 'cp-u1');
    const boss = reader('cp-boss');
    expect(await canReadCase(h.database.db, boss, 'cp:M')).toBe(true);
    expect(await hasPartInCase(h.database.db, boss, 'cp:M')).toBe(false);
    const token = await issueToken(h.database.db, 'cp-boss', 'test');
    const listed = async () =>
      (await h.api('GET', '/api/cases?process=cp&pageSize=100', { token })).body.items.map((c: { id: string }) => c.id);
    expect(await listed()).toContain('cp:M');
    expect((await h.api('GET', `/api/cases/${encodeURIComponent('cp:M')}`, { token })).status).toBe(200);

    // No longer their report: no longer theirs to read (nothing is kept per manager).
    await h.sql(`update users set manager_id = null where id = 'cp-u1'`);
    expect(await canReadCase(h.database.db, boss, 'cp:M')).toBe(false);
    expect(await listed()).not.toContain('cp:M');
    await h.sql(`update users set manager_id = 'cp-boss' where id = 'cp-u1'`);
  });
});

describe('a part ended and given at the same moment', () => {
  let a: pg.Client;
  let b: pg.Client;
  beforeAll(async () => {
    a = new pg.Client({ connectionString: h.databaseUrl });
    b = new pg.Client({ connectionString: h.databaseUrl });
    await Promise.all([a.connect(), b.connect()]);
  });
  afterAll(async () => {
    await Promise.all([a.end(), b.end()]);
  });

  /** Whether `promise` is still waiting after a moment (on a lock of the other transaction). */
  const waits = async (promise: Promise<unknown>) =>
    (await Promise.race([promise.then(() => false), new Promise((r) => setTimeout(() => r(true), 300))])) as boolean;

  const actSql = (client: pg.Client, caseId: string, actor: string, key: string) =>
    client.query(
      `insert into audit_events (seq, idempotency_key, occurred_at, actor_id, action, case_id, payload, evidence_hashes, prev_hash, hash)
       values (nextval('audit_events_seq_seq'), $1, now(), $2, 'case_parts.raced', $3, '{}', '[]', '', '')`,
      [key, actor, caseId],
    );

  for (const first of ['the handover', 'the act'] as const) {
    it(`keeps the part when ${first} writes first`, async () => {
      const caseId = `cp:R-${first === 'the handover' ? 1 : 2}`;
      await newCase(caseId, 'cp-y');
      await newTask(`${caseId}:t`, caseId, 'cp-u2');
      await Promise.all([a.query('begin'), b.query('begin')]);
      let pending: Promise<unknown>;
      if (first === 'the handover') {
        await a.query(`update tasks set assignee_id = 'cp-y' where id = $1`, [`${caseId}:t`]);
        pending = actSql(b, caseId, 'cp-u2', `cp-race:${caseId}`);
        expect(await waits(pending)).toBe(true);
        await a.query('commit');
        await pending;
        await b.query('commit');
      } else {
        await actSql(b, caseId, 'cp-u2', `cp-race:${caseId}`);
        pending = a.query(`update tasks set assignee_id = 'cp-y' where id = $1`, [`${caseId}:t`]);
        expect(await waits(pending)).toBe(true);
        await b.query('commit');
        await pending;
        await a.query('commit');
      }
      expect(await partsOf(caseId)).toEqual(['cp-u2', 'cp-y']);
      await expectTableToFollowTheRows();
    });
  }
});
