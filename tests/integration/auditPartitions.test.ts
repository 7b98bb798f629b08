/**
 * The audit chain in partitions (issue 15 §2, migration 0022, db/audit.ts), on
 * the real PostgreSQL:
 * - a write waits only for writes to its own partition, never for another's;
 *   `lockAuditChain` still holds every audited write off;
 * - two writes of one idempotency key at the same moment append it once;
 * - checkpoints record every partition head under a Merkle root, chained;
 *   a forged one is named;
 * - one case's trail verifies on its own, and names an edit in it;
 * - an existing single chain, migrated, verifies as the legacy segment, and
 *   new events go to the partitions.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import {
  appendAuditEvent,
  auditHashV2,
  auditPartitionHeads,
  checkpointAuditChain,
  checkpointRoot,
  CHECKPOINT_PART,
  computeAuditHash,
  GENESIS_HASH,
  lockAuditChain,
  partitionOf,
  verifyAuditCase,
  verifyAuditChain,
  withAuditedWrite,
  type CheckpointPayload,
} from '../../db/audit';
import { openDatabase } from '../../db/client';
import { migrate, MIGRATIONS_FOLDER } from '../../db/migrate';
import { databaseUrl } from '../support/globalSetup';
import { useHarness } from '../support/harness';

const h = useHarness('auditPartitions');
const PARTITIONS = 16;

/** Case ids in the partitions asked for: [a in p, b in another, c in p again]. */
function caseIds(): { a: string; b: string; c: string } {
  const a = h.unique('PA');
  const pa = partitionOf(a, PARTITIONS);
  let b = h.unique('PB');
  while (partitionOf(b, PARTITIONS) === pa) b = h.unique('PB');
  let c = h.unique('PC');
  while (partitionOf(c, PARTITIONS) !== pa) c = h.unique('PC');
  return { a, b, c };
}

const event = (caseId: string, action = 'test.appended') => ({
  idempotencyKey: `test:${randomUUID()}`,
  actorId: 'tester',
  action,
  caseId,
  payload: { note: 'ünïcode ✓', n: 1.5, nested: { z: 1, a: [true, null] } },
});

/** Resolves to 'pending' if p has not settled within ms. */
const within = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), ms))]);

/** With the guard off, as a superuser would. */
async function unguarded(statement: string, params: unknown[]): Promise<void> {
  await h.sql('alter table audit_events disable trigger user');
  try {
    await h.sql(statement, params);
  } finally {
    await h.sql('alter table audit_events enable trigger user');
  }
}

describe('the audit chain in partitions', () => {
  it('a write waits for an open write of its own partition only', async () => {
    const { a, b, c } = caseIds();
    const client = new pg.Client({ connectionString: h.databaseUrl });
    await client.connect();
    try {
      await client.query('begin');
      const [held] = (
        await client.query(
          `select * from audit_append(null, $1, $2, now(), 'tester', 'test.held', $1, null, null, '{}'::jsonb, '[]'::jsonb)`,
          [a, `test:${randomUUID()}`],
        )
      ).rows;
      expect(held.chain_part).toBe(partitionOf(a, PARTITIONS));
      // Another partition: appends at once, while that transaction stays open.
      const other = await within(appendAuditEvent(h.database.db, event(b)), 5000);
      expect(other).not.toBe('pending');
      // The same partition: waits for it.
      const same = appendAuditEvent(h.database.db, event(c));
      expect(await within(same, 700)).toBe('pending');
      await client.query('commit');
      const appended = await same;
      expect(appended).toMatchObject({ chainPart: held.chain_part, partSeq: Number(held.part_seq) + 1 });
      expect(appended.prevHash).toBe(held.hash);
    } finally {
      await client.end();
    }
    expect(await verifyAuditChain(h.database.db)).toMatchObject({ ok: true });
  });

  it('lockAuditChain still holds every audited write off until it commits', async () => {
    const { b } = caseIds();
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const exclusive = h.database.db.transaction(async (tx) => {
      await lockAuditChain(tx);
      locked();
      await released;
    });
    await isLocked;
    const write = appendAuditEvent(h.database.db, event(b));
    expect(await within(write, 700)).toBe('pending');
    // It waits before its append (one statement: the shared lock, then audit_append), so it holds no
    // partition's lock (audit_append's, 727002) meanwhile: writes of that partition inside the lock's holder go on.
    expect(
      await h.sql(
        `select 1 from pg_locks where locktype = 'advisory' and classid = 727002 and objsubid = 2 and granted`,
        [],
      ),
    ).toEqual([]);
    release();
    await exclusive;
    expect((await write).caseId).toBe(b);
  });

  it('an event alone is appended once per key: a second append answers the recorded one', async () => {
    const { a } = caseIds();
    const e = event(a);
    const first = await appendAuditEvent(h.database.db, e);
    const again = await appendAuditEvent(h.database.db, { ...e, action: 'test.retried', payload: { other: true } });
    expect(again).toMatchObject({ seq: first.seq, hash: first.hash, action: first.action });
    expect(await h.sql('select 1 from audit_events where idempotency_key = $1', [e.idempotencyKey])).toHaveLength(1);
    // The same key twice at once: one appends, the other answers it.
    const twin = event(a);
    const both = await Promise.all([appendAuditEvent(h.database.db, twin), appendAuditEvent(h.database.db, twin)]);
    expect(both[0]!.seq).toBe(both[1]!.seq);
    expect(await h.sql('select 1 from audit_events where idempotency_key = $1', [twin.idempotencyKey])).toHaveLength(1);
    expect(await verifyAuditChain(h.database.db)).toMatchObject({ ok: true });
  });

  it('two writes of one key at the same moment: one appends and applies, the other is told and its write rolled back', async () => {
    const { b } = caseIds();
    const e = event(b);
    const marker = `dup-${randomUUID()}`;
    await h.sql('create table if not exists dup_writes (marker text)');
    const write = () =>
      withAuditedWrite(h.database.db, e, async (tx) => {
        await tx.execute(sql`insert into dup_writes (marker) values (${marker})`);
        // Both find no event before either appends.
        await tx.execute(sql`select pg_sleep(0.3)`);
        return 'written';
      });
    const outcomes = await Promise.all([write(), write()]);
    expect(outcomes.map((o) => o.applied).sort()).toEqual([false, true]);
    expect(outcomes[0]!.event.seq).toBe(outcomes[1]!.event.seq);
    expect(await h.sql('select 1 from audit_events where idempotency_key = $1', [e.idempotencyKey])).toHaveLength(1);
    expect(await h.sql('select 1 from dup_writes where marker = $1', [marker])).toHaveLength(1);
  });

  it('checkpoints chain every partition head under a Merkle root; a forged one is named', async () => {
    const first = (await checkpointAuditChain(h.database.db))!;
    expect(first).toMatchObject({ chainPart: CHECKPOINT_PART, action: 'audit.checkpoint' });
    const payload = first.payload as unknown as CheckpointPayload;
    expect(payload.heads).toEqual(await auditPartitionHeads(h.database.db, PARTITIONS));
    expect(payload.heads.filter(([s]) => s > 0).length).toBeGreaterThan(1);
    expect(payload.root).toBe(checkpointRoot(payload.legacy, payload.heads));
    // Nothing moved: no new checkpoint.
    expect((await checkpointAuditChain(h.database.db))!.seq).toBe(first.seq);

    const { a, b } = caseIds();
    const added = [await appendAuditEvent(h.database.db, event(a)), await appendAuditEvent(h.database.db, event(b))];
    const second = (await checkpointAuditChain(h.database.db))!;
    expect(second).toMatchObject({ partSeq: first.partSeq! + 1, prevHash: first.hash });
    const heads = (second.payload as unknown as CheckpointPayload).heads;
    for (const e of added) expect(heads[e.chainPart!]).toEqual([e.partSeq, e.hash]);
    // The segment between the two: the two events and the second checkpoint.
    expect(await verifyAuditChain(h.database.db, { from: first, toSeq: second.seq })).toMatchObject({
      ok: true,
      eventsChecked: 3,
      lastSeq: second.seq,
      lastHash: second.hash,
    });

    // A superuser records another head under the checkpoint and recomputes its hash: the root no longer holds.
    const forged = { ...(second.payload as unknown as CheckpointPayload) };
    forged.heads = forged.heads.map(([s, hash], p) => (p === added[0]!.chainPart ? [s, 'f'.repeat(64)] : [s, hash]));
    const [row] = await h.sql(
      `select ((extract(epoch from occurred_at) * 1000)::bigint)::text as ms, $2::jsonb::text as payload
         from audit_events where seq = $1`,
      [second.seq, JSON.stringify(forged)],
    );
    const hash = auditHashV2({
      prevHash: second.prevHash,
      chainPart: CHECKPOINT_PART,
      partSeq: second.partSeq!,
      seq: second.seq,
      occurredMs: row.ms,
      actorId: 'system',
      action: 'audit.checkpoint',
      caseId: null,
      taskId: null,
      reason: null,
      payloadText: row.payload,
      evidenceText: '[]',
    });
    await unguarded('update audit_events set payload = $1::jsonb, hash = $2 where seq = $3', [
      JSON.stringify(forged),
      hash,
      second.seq,
    ]);
    try {
      expect(await verifyAuditChain(h.database.db)).toMatchObject({
        ok: false,
        firstBroken: { seq: second.seq, problem: 'hash_mismatch', partition: CHECKPOINT_PART },
      });
    } finally {
      await unguarded('update audit_events set payload = $1::jsonb, hash = $2 where seq = $3', [
        JSON.stringify(second.payload),
        second.hash,
        second.seq,
      ]);
    }
    expect(await verifyAuditChain(h.database.db)).toMatchObject({ ok: true });
  });

  it("one case's trail verifies on its own, up to the checkpoint that covers it, and names an edit in it", async () => {
    const { a, b } = caseIds();
    const mine = [];
    for (let i = 0; i < 4; i++) {
      mine.push(await appendAuditEvent(h.database.db, event(a, `test.step${i}`)));
      await appendAuditEvent(h.database.db, event(b));
    }
    const checkpoint = (await checkpointAuditChain(h.database.db))!;
    const ok = await verifyAuditCase(h.database.db, a);
    expect(ok).toMatchObject({
      ok: true,
      caseId: a,
      partition: partitionOf(a, PARTITIONS),
      events: 4,
      checkpoint: { seq: checkpoint.seq, hash: checkpoint.hash },
    });
    expect(ok.rowsChecked).toBeGreaterThanOrEqual(5);

    await unguarded(`update audit_events set reason = 'edited' where seq = $1`, [mine[2]!.seq]);
    try {
      expect(await verifyAuditCase(h.database.db, a)).toMatchObject({
        ok: false,
        firstBroken: { seq: mine[2]!.seq, problem: 'hash_mismatch' },
      });
      // The same through the API, for an auditor: the edited row is named.
      const viaApi = await h.api('GET', `/api/audit/cases/${encodeURIComponent(a)}/verify`, { as: 'auditor' });
      expect(viaApi.status).toBe(200);
      expect(viaApi.body).toMatchObject({
        ok: false,
        caseId: a,
        firstBroken: { seq: mine[2]!.seq, problem: 'hash_mismatch' },
      });
      // Another case, in another partition, is not touched by it.
      expect(await verifyAuditCase(h.database.db, b)).toMatchObject({ ok: true, events: 4 });
    } finally {
      await unguarded('update audit_events set reason = null where seq = $1', [mine[2]!.seq]);
    }
    expect((await verifyAuditCase(h.database.db, a)).ok).toBe(true);
    const again = await h.api('GET', `/api/audit/cases/${encodeURIComponent(a)}/verify`, { as: 'auditor' });
    expect(again.body).toMatchObject({ ok: true, caseId: a, events: 4, checkpoint: { seq: checkpoint.seq } });
    // Only the oversight functions verify; a case with no trail is 404, naming it.
    expect((await h.api('GET', `/api/audit/cases/${encodeURIComponent(a)}/verify`, { as: 'owner' })).status).toBe(403);
    const none = await h.api('GET', `/api/audit/cases/${h.unique('NONE')}/verify`, { as: 'auditor' });
    expect(none.status).toBe(404);
    expect(none.body.error.message).toMatch(/no audit event for case NONE/);
  });

  it('the SQL functions and db/audit.ts agree on partitions and hashes', async () => {
    for (const key of ['case-1', 'approval-request:X', 'ünï ✓ 𝄞', '']) {
      const [r] = await h.sql('select audit_partition_of($1, 16::smallint) as p', [key]);
      expect(r.p, key).toBe(partitionOf(key, PARTITIONS));
    }
    const e = await appendAuditEvent(h.database.db, {
      ...event(caseIds().a),
      reason: 'line\nbreak "quoted" \\ ünï',
      taskId: 't-1',
      evidenceHashes: ['ab'.repeat(32)],
    });
    const [r] = await h.sql(
      `select ((extract(epoch from occurred_at) * 1000)::bigint)::text as ms, payload::text as payload,
              evidence_hashes::text as evidence from audit_events where seq = $1`,
      [e.seq],
    );
    expect(
      auditHashV2({
        prevHash: e.prevHash,
        chainPart: e.chainPart!,
        partSeq: e.partSeq!,
        seq: e.seq,
        occurredMs: r.ms,
        actorId: e.actorId,
        action: e.action,
        caseId: e.caseId,
        taskId: e.taskId,
        reason: e.reason,
        payloadText: r.payload,
        evidenceText: r.evidence,
      }),
    ).toBe(e.hash);
  });

  it('an existing single chain, migrated: verifies as the legacy segment, and new events go to the partitions', async () => {
    const name = `${h.databaseName}_legacy`;
    const adminUrl = inject('pgAdminUrl');
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`create database "${name}"`);
    const url = databaseUrl(adminUrl, name);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const handle = await openDatabase({ url, poolSize: 4 });
    try {
      // The database as it was before migration 0022, with a chain written the old way.
      const migrations = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER });
      const before = migrations.slice(0, 22);
      for (const m of before) for (const statement of m.sql) if (statement.trim()) await client.query(statement);
      await client.query(
        'create schema drizzle; create table drizzle.__drizzle_migrations (id serial primary key, hash text not null, created_at bigint)',
      );
      await client.query('insert into drizzle.__drizzle_migrations (hash, created_at) values ($1, $2)', [
        before.at(-1)!.hash,
        before.at(-1)!.folderMillis,
      ]);
      let prevHash = GENESIS_HASH;
      for (let seq = 1; seq <= 5; seq++) {
        const row = {
          seq,
          occurredAt: new Date(Date.UTC(2026, 10, 1, 10, 0, seq)),
          actorId: 'old',
          action: 'case.opened',
          caseId: `old-${seq % 2}`,
          taskId: null,
          reason: null,
          payload: { b: 1, a: 'x' },
          evidenceHashes: [],
          prevHash,
        };
        const hash = computeAuditHash(row);
        await client.query(
          `insert into audit_events (seq, idempotency_key, occurred_at, actor_id, action, case_id, payload, evidence_hashes, prev_hash, hash)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
          [seq, `old:${seq}`, row.occurredAt, 'old', 'case.opened', row.caseId, row.payload, '[]', prevHash, hash],
        );
        prevHash = hash;
      }

      expect(await migrate(handle, {})).toBe('migrated');
      const [config] = (await client.query('select * from audit_chain_config')).rows;
      expect(config).toMatchObject({ partitions: 16, legacy_last_seq: '5', legacy_last_hash: prevHash });
      expect(await verifyAuditChain(handle.db)).toMatchObject({ ok: true, eventsChecked: 5, lastSeq: 5 });

      // New events: in partitions, numbered on from the legacy seq, the old case included.
      const added = [
        await appendAuditEvent(handle.db, event('old-1')),
        await appendAuditEvent(handle.db, event('new-1')),
      ];
      expect(added.map((e) => e.seq)).toEqual([6, 7]);
      expect(added[0]).toMatchObject({
        chainPart: partitionOf('old-1', PARTITIONS),
        partSeq: 1,
        prevHash: GENESIS_HASH,
      });
      const cp = (await checkpointAuditChain(handle.db))!;
      expect((cp.payload as unknown as CheckpointPayload).legacy).toEqual([5, prevHash]);
      expect(await verifyAuditChain(handle.db)).toMatchObject({ ok: true, eventsChecked: 8, lastSeq: cp.seq });
      // Three legacy events (seq 1, 3, 5) and one in its partition.
      expect(await verifyAuditCase(handle.db, 'old-1')).toMatchObject({ ok: true, events: 4 });

      // An edit in the legacy segment is named there.
      await client.query('alter table audit_events disable trigger user');
      await client.query(`update audit_events set actor_id = 'intruder' where seq = 3`);
      await client.query('alter table audit_events enable trigger user');
      expect(await verifyAuditChain(handle.db)).toMatchObject({
        ok: false,
        firstBroken: { seq: 3, problem: 'hash_mismatch', partition: null },
      });
      await client.query('alter table audit_events disable trigger user');
      await client.query(`update audit_events set actor_id = 'old' where seq = 3`);
      await client.query('alter table audit_events enable trigger user');

      // A row appended the old way after the migration belongs to no chain: named.
      const [{ next }] = (await client.query('select last_value + 1 as next from audit_events_seq_seq')).rows;
      const stray = Number(next);
      for (const seq of [stray, stray + 1])
        await client.query(
          `insert into audit_events (seq, idempotency_key, occurred_at, actor_id, action, payload, evidence_hashes, prev_hash, hash)
           values ($1, $2, now(), 'old', 'case.opened', '{}', '[]', $3, $3)`,
          [seq, `late:${seq}`, cp.hash],
        );
      expect(await verifyAuditChain(handle.db)).toMatchObject({
        ok: false,
        firstBroken: { seq: stray, problem: 'hash_mismatch', expected: 'an event in a partition' },
      });
      // And the next append, meeting the seq it would take, moves the sequence past the table's end rather than failing.
      expect((await appendAuditEvent(handle.db, event('new-2'))).seq).toBe(stray + 2);
    } finally {
      await handle.close();
      await client.end();
      await admin.query(`drop database if exists "${name}" with (force)`);
      await admin.end();
    }
  });
});
