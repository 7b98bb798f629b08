/**
 * The hash-chained audit log (DOMAIN.md §6: who, when, what, why, evidence),
 * in partitions (issue 15 §2, migration 0022).
 *
 * Each event's hash covers the previous event's hash in its chain, so editing
 * or removing any row breaks every link after it. There is not one chain but
 * `partitions` of them (audit_chain_config, policy default 16): an event goes
 * to the partition of a stable hash of its case id (or, outside any case, of
 * its subject), so a case's events are one ordered run within one partition.
 * Each partition has its own counter (`part_seq`) and its own lock, taken only
 * for the single statement that appends (the SQL function `audit_append`)
 * and until the transaction commits: writes to different partitions never
 * wait for each other.
 *
 * Checkpoints chain the partitions together: partition -1 holds
 * `audit.checkpoint` events, each recording every partition head and the
 * legacy head, and their Merkle root. The anchoring workflow signs those
 * (db/auditAnchors.ts): one signed checkpoint pins every event under it.
 *
 * The rows written before the chain was partitioned (chain_part NULL) are the
 * legacy segment: one chain, hashed the old way (v1, `computeAuditHash`), up
 * to the head migration 0022 recorded. New events are hashed v2
 * (`auditHashV2`): over the row's stored text, jsonb as PostgreSQL prints it,
 * so verify hashes what it reads without parsing or re-serialising payloads.
 */
import { createHash } from 'node:crypto';
import { and, asc, desc, eq, gt, isNull, lte, sql } from 'drizzle-orm';
import { wellFormedText, wellFormedValue } from '../domain/text';
import type { Database } from './client';
import { auditChainConfig, auditEvents, type AuditEventRow } from './schema';

export const GENESIS_HASH = '0'.repeat(64);
/**
 * Arbitrary constant naming the chain-wide advisory lock: held exclusively by
 * `lockAuditChain` (changes that must see no concurrent audited write), and
 * shared by every `withAuditedWrite`, which therefore never wait for each other.
 */
const CHAIN_LOCK_KEY = 727_001;
/** The checkpoints' chain. */
export const CHECKPOINT_PART = -1;
export const CHECKPOINT_ACTION = 'audit.checkpoint';

export interface AuditEventInput {
  /** Retries of the same write carry the same key and append nothing new. */
  idempotencyKey: string;
  actorId: string;
  action: string;
  caseId?: string | null;
  taskId?: string | null;
  reason?: string | null;
  payload?: Record<string, unknown>;
  evidenceHashes?: string[];
  occurredAt?: Date;
  /**
   * What the event is about outside any case (`user:u1`), for its partition.
   * Default: the first two `:`-separated parts of the idempotency key.
   */
  subject?: string;
}

type Tx = Parameters<Parameters<Database['transaction']>[0]>[0];
export type DbOrTx = Database | Tx;

/** JSON with sorted keys, so the hash does not depend on jsonb's key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The v1 hash: the legacy segment's (rows with chain_part NULL). */
export function computeAuditHash(
  event: Pick<
    AuditEventRow,
    | 'seq'
    | 'occurredAt'
    | 'actorId'
    | 'action'
    | 'caseId'
    | 'taskId'
    | 'reason'
    | 'payload'
    | 'evidenceHashes'
    | 'prevHash'
  >,
): string {
  const body = canonicalJson({
    seq: event.seq,
    occurredAt: event.occurredAt.toISOString(),
    actorId: event.actorId,
    action: event.action,
    caseId: event.caseId ?? null,
    taskId: event.taskId ?? null,
    reason: event.reason ?? null,
    payload: event.payload,
    evidenceHashes: event.evidenceHashes,
  });
  return createHash('sha256').update(event.prevHash).update('\n').update(body).digest('hex');
}

/** An event of a partition as the v2 hash sees it: the stored text of each column. */
export interface StoredEventText {
  prevHash: string;
  chainPart: number | string;
  partSeq: number | string;
  seq: number | string;
  /** occurred_at in Unix milliseconds. */
  occurredMs: number | string;
  actorId: string;
  action: string;
  caseId: string | null;
  taskId: string | null;
  reason: string | null;
  /** payload::text, jsonb's canonical text. */
  payloadText: string;
  /** evidence_hashes::text. */
  evidenceText: string;
}

const field = (v: string | null): string => (v === null ? '-' : `${Buffer.byteLength(v)}:${v}`);

/** The v2 hash; the SQL function audit_hash_v2 (migration 0022) computes the same bytes. */
export function auditHashV2(e: StoredEventText): string {
  const body =
    `audit/v2\n${e.prevHash}\n` +
    field(String(e.chainPart)) +
    field(String(e.partSeq)) +
    field(String(e.seq)) +
    field(String(e.occurredMs)) +
    field(e.actorId) +
    field(e.action) +
    field(e.caseId) +
    field(e.taskId) +
    field(e.reason) +
    field(e.payloadText) +
    field(e.evidenceText);
  return createHash('sha256').update(body).digest('hex');
}

/** The partition of a case id or subject; the SQL function audit_partition_of computes the same. */
export function partitionOf(partitionKey: string, partitions: number): number {
  return createHash('sha256').update(partitionKey).digest().readUInt32BE(0) % partitions;
}

/** What an event's partition is keyed by: its case, else its subject. */
export function partitionKeyOf(input: Pick<AuditEventInput, 'caseId' | 'subject' | 'idempotencyKey'>): string {
  if (input.caseId) return input.caseId;
  if (input.subject) return input.subject;
  return input.idempotencyKey.split(':').slice(0, 2).join(':');
}

export interface AuditChainConfig {
  partitions: number;
  hashVersion: number;
  legacy: { seq: number; hash: string };
}

/** The chain's shape (migration 0022). Never changes once written, so kept per handle. */
const configs = new WeakMap<object, Promise<AuditChainConfig>>();
export async function auditChainConfigOf(db: DbOrTx): Promise<AuditChainConfig> {
  let config = configs.get(db);
  if (!config) {
    config = (async () => {
      const [row] = await db.select().from(auditChainConfig).limit(1);
      if (!row) throw new Error('audit_chain_config is empty: migration 0022 did not run');
      return {
        partitions: row.partitions,
        hashVersion: row.hashVersion,
        legacy: { seq: Number(row.legacyLastSeq), hash: row.legacyLastHash },
      };
    })();
    configs.set(db, config);
    config.catch(() => configs.delete(db));
  }
  return config;
}

/** Takes the chain-wide lock exclusively for the rest of the transaction: no audited write runs meanwhile. */
export async function lockAuditChain(tx: DbOrTx): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${CHAIN_LOCK_KEY})`);
}

export async function findAuditEvent(tx: DbOrTx, idempotencyKey: string): Promise<AuditEventRow | undefined> {
  // Keys are stored well-formed (see `appendLocked`), so they are looked up so.
  const [row] = await tx
    .select()
    .from(auditEvents)
    .where(eq(auditEvents.idempotencyKey, wellFormedText(idempotencyKey)))
    .limit(1);
  return row;
}

type RawRow = Record<string, unknown>;

/** A row as `select *` returns it through `execute` (snake_case, int8 as text). */
function fromRaw(r: RawRow): AuditEventRow {
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);
  return {
    seq: Number(r.seq),
    idempotencyKey: r.idempotency_key as string,
    occurredAt: r.occurred_at instanceof Date ? r.occurred_at : new Date(r.occurred_at as string),
    actorId: r.actor_id as string,
    action: r.action as string,
    caseId: (r.case_id as string | null) ?? null,
    taskId: (r.task_id as string | null) ?? null,
    reason: (r.reason as string | null) ?? null,
    payload: json(r.payload) as Record<string, unknown>,
    evidenceHashes: json(r.evidence_hashes) as string[],
    prevHash: r.prev_hash as string,
    hash: r.hash as string,
    chainPart: num(r.chain_part),
    partSeq: num(r.part_seq),
  };
}

const rowsOf = (result: unknown): RawRow[] => (result as { rows: RawRow[] }).rows;

/** Thrown inside the transaction when a concurrent write of the same key appended first. */
export class AuditEventExists extends Error {
  constructor(readonly idempotencyKey: string) {
    super(`an audit event with idempotency key ${idempotencyKey} exists already`);
  }
}

/**
 * The JSON text of a payload, with every string and key storable (see
 * `appendToPartition`). JSON.stringify escapes NUL as \u0000 and a lone
 * surrogate as \ud800–\udfff, so a text without such an escape needs no
 * change; only one with it (or with a backslash that looks like one) is
 * walked and rewritten.
 */
const SUSPECT_ESCAPE = /\\u(?:0000|d[89a-f])/i;
export function storableJson(value: unknown): string {
  const json = JSON.stringify(value);
  return SUSPECT_ESCAPE.test(json) ? JSON.stringify(wellFormedValue(value)) : json;
}

async function appendToPartition(
  tx: DbOrTx,
  part: number | null,
  input: AuditEventInput,
  shareChainLock = false,
): Promise<AuditEventRow> {
  // Millisecond precision, as stored, so the recomputed hash matches.
  const occurredAt = new Date(Math.floor((input.occurredAt ?? new Date()).getTime()));
  // Text is made storable (NUL and lone surrogates become U+FFFD) before it is
  // hashed, so what is stored is what was hashed: PostgreSQL refuses NUL, and
  // the driver would silently store U+FFFD for a lone surrogate that the hash
  // covered, leaving the chain unverifiable for good. The API refuses such
  // text; this holds for anything that reaches the chain by another way.
  const text = (v: string | null | undefined) => (v === null || v === undefined ? null : wellFormedText(v));
  const e = {
    partitionKey: wellFormedText(partitionKeyOf(input)),
    idempotencyKey: wellFormedText(input.idempotencyKey),
    actorId: wellFormedText(input.actorId),
    action: wellFormedText(input.action),
    caseId: text(input.caseId),
    taskId: text(input.taskId),
    reason: text(input.reason),
    payloadJson: storableJson(input.payload ?? {}),
    evidenceJson: storableJson(input.evidenceHashes ?? []),
  };
  // Only what the database decided comes back: the payload is the caller's (read back as jsonb, it cost
  // the server a second print of it and the driver a parse, per append).
  const args = sql`${e.partitionKey}::text, ${e.idempotencyKey}::text,
          ${occurredAt.toISOString()}::timestamptz, ${e.actorId}::text, ${e.action}::text, ${e.caseId}::text,
          ${e.taskId}::text, ${e.reason}::text, ${e.payloadJson}::jsonb, ${e.evidenceJson}::jsonb`;
  const result = await tx.execute(
    shareChainLock
      ? // The chain-wide lock shared first, then the append: the append's partition argument names the
        // lock's row (a lateral reference), so PostgreSQL cannot call it before taking the lock.
        sql`select a.seq::text as seq, a.prev_hash, a.hash, a.chain_part, a.part_seq::text as part_seq
              from (select 0 as locked from pg_advisory_xact_lock_shared(${CHAIN_LOCK_KEY})) l
              cross join lateral audit_append(case when l.locked = 0 then ${part}::smallint end, ${args}) a`
      : sql`select seq::text as seq, prev_hash, hash, chain_part, part_seq::text as part_seq
              from audit_append(${part}::smallint, ${args})`,
  );
  const [row] = rowsOf(result);
  if (!row) throw new AuditEventExists(e.idempotencyKey);
  return {
    seq: Number(row.seq),
    idempotencyKey: e.idempotencyKey,
    occurredAt,
    actorId: e.actorId,
    action: e.action,
    caseId: e.caseId,
    taskId: e.taskId,
    reason: e.reason,
    payload: JSON.parse(e.payloadJson) as Record<string, unknown>,
    evidenceHashes: JSON.parse(e.evidenceJson) as string[],
    prevHash: row.prev_hash as string,
    hash: row.hash as string,
    chainPart: Number(row.chain_part),
    partSeq: Number(row.part_seq),
  };
}

/**
 * Appends one event to its partition, in one statement that takes the
 * partition's lock until the transaction ends. The name is kept from the
 * single chain: callers need not hold `lockAuditChain` any more, though they
 * may. A transaction that appends several events to different partitions
 * should hold `lockAuditChain` (partition locks are then never waited for in
 * two orders at once).
 */
export async function appendLocked(tx: DbOrTx, input: AuditEventInput): Promise<AuditEventRow> {
  return appendToPartition(tx, null, input);
}

/** Shares the chain-wide lock (see CHAIN_LOCK_KEY) and looks the key up, in one statement. */
async function shareLockAndFind(tx: DbOrTx, idempotencyKey: string): Promise<AuditEventRow | undefined> {
  const result = await tx.execute(
    sql`select e.* from (select pg_advisory_xact_lock_shared(${CHAIN_LOCK_KEY})) l
          left join audit_events e on e.idempotency_key = ${wellFormedText(idempotencyKey)}`,
  );
  const [row] = rowsOf(result);
  return row && row.seq !== null && row.seq !== undefined ? fromRaw(row) : undefined;
}

/**
 * After an append that found its key taken by a concurrent write of the same
 * key (AuditEventExists): the event that write recorded. Any other error, or
 * a key that is somehow not there, is thrown on.
 */
async function recordedInstead(db: Database, err: unknown, idempotencyKey: string): Promise<AuditEventRow> {
  if (!(err instanceof AuditEventExists)) throw err;
  const existing = await findAuditEvent(db, idempotencyKey);
  if (!existing) throw err;
  return existing;
}

/**
 * Runs a state change and its audit event in one transaction, exactly once per
 * idempotency key: a retried activity whose first attempt committed finds its
 * event and does nothing; one that runs at the same moment as its first
 * attempt is rolled back when that one appends first. Returns whether this
 * call performed the write.
 */
export async function withAuditedWrite<T>(
  db: Database,
  event: AuditEventInput,
  write: (tx: Tx) => Promise<T>,
): Promise<{ applied: boolean; result?: T; event: AuditEventRow }> {
  try {
    return await db.transaction(async (tx) => {
      const existing = await shareLockAndFind(tx, event.idempotencyKey);
      if (existing) return { applied: false, event: existing };
      const result = await write(tx);
      const appended = await appendLocked(tx, event);
      return { applied: true, result, event: appended };
    });
  } catch (err) {
    return { applied: false, event: await recordedInstead(db, err, event.idempotencyKey) };
  }
}

/**
 * Appends an event that goes with no other write, exactly once per
 * idempotency key, in one statement (its own transaction): the chain-wide
 * lock shared and the append, as withAuditedWrite takes them, without the
 * transaction's BEGIN, lookup and COMMIT round trips. A key already recorded
 * appends nothing and answers the recorded event.
 */
export async function appendAuditEvent(db: Database, event: AuditEventInput): Promise<AuditEventRow> {
  try {
    return await appendToPartition(db, null, event, true);
  } catch (err) {
    return recordedInstead(db, err, event.idempotencyKey);
  }
}

// --- checkpoints --------------------------------------------------------------------------------

export interface ChainHead {
  partSeq: number;
  hash: string;
}

export interface CheckpointPayload {
  partitions: number;
  /** The legacy segment's head: [seq, hash]. */
  legacy: [number, string];
  /** Every partition's head, by partition: [part_seq, hash] ([0, genesis] while empty). */
  heads: Array<[number, string]>;
  /** Merkle root over the legacy leaf and the partition leaves (`checkpointRoot`). */
  root: string;
}

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** The Merkle root of a checkpoint: leaves the legacy head then each partition head, pairs hashed up, an odd one carried. */
export function checkpointRoot(legacy: [number, string], heads: Array<[number, string]>): string {
  let level = [
    sha(`leaf\nlegacy\n${legacy[0]}\n${legacy[1]}`),
    ...heads.map(([partSeq, hash], p) => sha(`leaf\n${p}\n${partSeq}\n${hash}`)),
  ];
  while (level.length > 1) {
    const next: string[] = [];
    for (let i = 0; i < level.length; i += 2)
      next.push(i + 1 < level.length ? sha(`node\n${level[i]}${level[i + 1]}`) : level[i]!);
    level = next;
  }
  return level[0]!;
}

/** Every partition's head now, in one statement (one snapshot). */
export async function auditPartitionHeads(db: DbOrTx, partitions: number): Promise<Array<[number, string]>> {
  const rows = rowsOf(
    await db.execute(sql`
      select g.p as part, h.part_seq::text as part_seq, h.hash
        from generate_series(0, ${partitions - 1}::int) g(p)
        left join lateral (
          select part_seq, hash from audit_events where chain_part = g.p order by part_seq desc limit 1
        ) h on true
       order by g.p`),
  );
  return rows.map((r) => (r.part_seq === null ? [0, GENESIS_HASH] : [Number(r.part_seq), r.hash as string]));
}

async function newestCheckpoint(db: DbOrTx): Promise<AuditEventRow | undefined> {
  const [row] = await db
    .select()
    .from(auditEvents)
    .where(eq(auditEvents.chainPart, CHECKPOINT_PART))
    .orderBy(desc(auditEvents.partSeq))
    .limit(1);
  return row;
}

/** Whether every head the checkpoint recorded is still the row at its place, with no partition shorter. */
async function stillRecorded(
  db: DbOrTx,
  recorded: CheckpointPayload,
  heads: Array<[number, string]>,
): Promise<boolean> {
  if (recorded.heads.some(([s], p) => (heads[p]?.[0] ?? 0) < s)) return false;
  const parts = recorded.heads.map((_, p) => p).filter((p) => recorded.heads[p]![0] > 0);
  if (!parts.length) return true;
  const rows = rowsOf(
    await db.execute(sql`
      select r.p as part, e.hash from unnest(${`{${parts.join(',')}}`}::smallint[], ${`{${parts.map((p) => recorded.heads[p]![0]).join(',')}}`}::bigint[]) as r(p, s)
        left join audit_events e on e.chain_part = r.p and e.part_seq = r.s`),
  );
  return rows.every((r) => r.hash === recorded.heads[Number(r.part)]![1]);
}

/**
 * Takes a checkpoint of every partition head unless none moved since the
 * newest one, and returns the newest checkpoint (undefined: the trail is
 * empty). One checkpointer at a time (the checkpoint chain's lock).
 */
export async function checkpointAuditChain(db: Database, now = new Date()): Promise<AuditEventRow | undefined> {
  const config = await auditChainConfigOf(db);
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(727002, ${CHECKPOINT_PART})`);
    const [newest, heads] = [await newestCheckpoint(tx), await auditPartitionHeads(tx, config.partitions)];
    const legacy: [number, string] = [config.legacy.seq, config.legacy.hash];
    const recorded = newest?.payload as CheckpointPayload | undefined;
    const moved = !recorded || heads.some(([s, h], p) => recorded.heads[p]?.[0] !== s || recorded.heads[p]?.[1] !== h);
    if (!moved) return newest;
    if (!recorded && legacy[0] === 0 && heads.every(([s]) => s === 0)) return undefined;
    // Never checkpoint a trail that no longer runs through the newest checkpoint (a partition cut
    // short, or rewritten under it): that would record the forgery; verify names it instead.
    if (recorded && !(await stillRecorded(tx, recorded, heads))) return newest;
    const payload: CheckpointPayload = {
      partitions: config.partitions,
      legacy,
      heads,
      root: checkpointRoot(legacy, heads),
    };
    return appendToPartition(tx, CHECKPOINT_PART, {
      idempotencyKey: `audit-checkpoint:${(newest?.partSeq ?? 0) + 1}`,
      actorId: 'system',
      action: CHECKPOINT_ACTION,
      occurredAt: now,
      payload: payload as unknown as Record<string, unknown>,
    });
  });
}

/**
 * The head of the whole trail, for anchoring: the newest checkpoint, taken
 * now if any partition moved since (the anchoring workflow calls this every
 * poll, so checkpoints follow its cadence). Before any checkpoint exists and
 * with nothing in the partitions, the legacy head; seq 0 and the genesis
 * hash for an empty trail.
 */
export async function auditChainHead(db: DbOrTx): Promise<{ seq: number; hash: string; occurredAt?: Date }> {
  const checkpoint = await checkpointAuditChain(db as Database);
  if (checkpoint) return { seq: checkpoint.seq, hash: checkpoint.hash, occurredAt: checkpoint.occurredAt };
  const [last] = await db
    .select({ seq: auditEvents.seq, hash: auditEvents.hash, occurredAt: auditEvents.occurredAt })
    .from(auditEvents)
    .where(isNull(auditEvents.chainPart))
    .orderBy(desc(auditEvents.seq))
    .limit(1);
  return last ?? { seq: 0, hash: GENESIS_HASH };
}

// --- verification -------------------------------------------------------------------------------

export type BrokenProblem = 'sequence_gap' | 'prev_hash_mismatch' | 'hash_mismatch';

export interface BrokenLink {
  seq: number;
  problem: BrokenProblem;
  expected: string;
  found: string;
  /** The chain it is in: a partition, -1 the checkpoints, null the legacy segment. */
  partition?: number | null;
}

export interface PartitionState {
  partition: number;
  events: number;
  headPartSeq: number;
  headHash: string;
}

export interface ChainVerification {
  ok: boolean;
  eventsChecked: number;
  lastSeq: number;
  lastHash: string;
  firstBroken?: BrokenLink;
  /** Each chain verified: the partitions, then the checkpoints (-1). */
  partitions?: PartitionState[];
}

export interface ChainSegment {
  /** Start after this event (an anchor: a checkpoint, or a legacy event), trusted as given; default: from the genesis. */
  from?: { seq: number; hash: string };
  /** Stop at this event (a checkpoint, or a legacy event); default: every chain to its end. */
  toSeq?: number;
  pageSize?: number;
  /** Partitions verified at once (each streams on its own connection); default 4. */
  concurrency?: number;
  /** Called after each page (the anchoring activity heartbeats). */
  onPage?: () => void;
}

interface ChainRun {
  checked: number;
  lastPartSeq: number;
  lastHash: string;
  /** The highest global seq verified, and its hash. */
  maxSeq: number;
  maxSeqHash: string;
  broken?: BrokenLink;
}

const STREAM_COLUMNS = sql`seq::text as seq, part_seq::text as part_seq,
  ((extract(epoch from occurred_at) * 1000)::bigint)::text as occurred_ms, actor_id, action, case_id, task_id,
  reason, payload::text as payload, evidence_hashes::text as evidence, prev_hash, hash`;

/**
 * Verifies one partition's chain after (afterPartSeq, afterHash) up to
 * toPartSeq, a page at a time on the (chain_part, part_seq) index: memory is
 * one page whatever the length. `expect` holds hashes recorded elsewhere for
 * given positions (a checkpoint's heads), checked on the way.
 */
async function verifyPartitionRun(
  db: DbOrTx,
  part: number,
  opts: {
    afterPartSeq: number;
    afterHash: string;
    toPartSeq?: number;
    pageSize: number;
    onPage?: () => void;
    expect?: { partSeq: number; hash: string; seq: number };
  },
): Promise<ChainRun> {
  const to = opts.toPartSeq ?? Number.MAX_SAFE_INTEGER;
  let expectedPartSeq = opts.afterPartSeq + 1;
  let prevHash = opts.afterHash;
  const run: ChainRun = { checked: 0, lastPartSeq: opts.afterPartSeq, lastHash: prevHash, maxSeq: 0, maxSeqHash: '' };
  const broken = (seq: number, problem: BrokenProblem, expected: string, found: string, partition = part) => {
    run.broken = { seq, problem, expected, found, partition };
    return run;
  };
  for (;;) {
    if (expectedPartSeq > to) break;
    const page = rowsOf(
      await db.execute(sql`
        select ${STREAM_COLUMNS} from audit_events
         where chain_part = ${part}::smallint and part_seq >= ${expectedPartSeq}::bigint and part_seq <= ${to}::bigint
         order by audit_events.part_seq limit ${opts.pageSize}::int`),
    ) as Array<Record<string, string>>;
    for (const r of page) {
      const seq = Number(r.seq);
      if (Number(r.part_seq) !== expectedPartSeq)
        return broken(seq, 'sequence_gap', String(expectedPartSeq), String(r.part_seq));
      if (r.prev_hash !== prevHash) return broken(seq, 'prev_hash_mismatch', prevHash, r.prev_hash!);
      const recomputed = auditHashV2({
        prevHash,
        chainPart: part,
        partSeq: r.part_seq!,
        seq: r.seq!,
        occurredMs: r.occurred_ms!,
        actorId: r.actor_id!,
        action: r.action!,
        caseId: r.case_id ?? null,
        taskId: r.task_id ?? null,
        reason: r.reason ?? null,
        payloadText: r.payload!,
        evidenceText: r.evidence!,
      });
      if (recomputed !== r.hash) return broken(seq, 'hash_mismatch', recomputed, r.hash!);
      if (part === CHECKPOINT_PART) {
        const cp = JSON.parse(r.payload!) as CheckpointPayload;
        const root = checkpointRoot(cp.legacy, cp.heads);
        if (root !== cp.root) return broken(seq, 'hash_mismatch', root, cp.root);
      }
      // A head the checkpoint recorded that is not the row here: the checkpoint's link is broken.
      if (opts.expect && expectedPartSeq === opts.expect.partSeq && r.hash !== opts.expect.hash)
        return broken(opts.expect.seq, 'hash_mismatch', opts.expect.hash, r.hash!, CHECKPOINT_PART);
      prevHash = r.hash!;
      run.checked += 1;
      run.lastPartSeq = expectedPartSeq;
      run.lastHash = prevHash;
      if (seq > run.maxSeq) {
        run.maxSeq = seq;
        run.maxSeqHash = prevHash;
      }
      expectedPartSeq += 1;
    }
    opts.onPage?.();
    if (page.length < opts.pageSize) break;
  }
  if (opts.toPartSeq !== undefined && run.lastPartSeq < opts.toPartSeq)
    return broken(run.maxSeq + 1, 'sequence_gap', String(run.lastPartSeq + 1), 'the end of the chain');
  if (opts.expect && run.lastPartSeq < opts.expect.partSeq)
    return broken(
      opts.expect.seq,
      'sequence_gap',
      String(opts.expect.partSeq),
      String(run.lastPartSeq),
      CHECKPOINT_PART,
    );
  return run;
}

/** The legacy segment (v1 hashes, seq without gaps), after `from` up to toSeq. */
async function verifyLegacyRun(
  db: DbOrTx,
  opts: { from?: { seq: number; hash: string }; toSeq: number; pageSize: number; onPage?: () => void },
): Promise<ChainRun & { lastSeq: number }> {
  let expectedSeq = (opts.from?.seq ?? 0) + 1;
  let prevHash = opts.from?.hash ?? GENESIS_HASH;
  const run = { checked: 0, lastPartSeq: 0, lastHash: prevHash, maxSeq: 0, maxSeqHash: '', lastSeq: expectedSeq - 1 };
  for (;;) {
    const page = await db
      .select()
      .from(auditEvents)
      .where(and(isNull(auditEvents.chainPart), gt(auditEvents.seq, expectedSeq - 1), lte(auditEvents.seq, opts.toSeq)))
      .orderBy(asc(auditEvents.seq))
      .limit(opts.pageSize);
    for (const row of page) {
      const broken = (problem: BrokenProblem, expected: string, found: string) =>
        Object.assign(run, { broken: { seq: row.seq, problem, expected, found, partition: null } });
      if (row.seq !== expectedSeq) return broken('sequence_gap', String(expectedSeq), String(row.seq));
      if (row.prevHash !== prevHash) return broken('prev_hash_mismatch', prevHash, row.prevHash);
      const recomputed = computeAuditHash(row);
      if (recomputed !== row.hash) return broken('hash_mismatch', recomputed, row.hash);
      prevHash = row.hash;
      run.checked += 1;
      run.lastSeq = expectedSeq;
      run.lastHash = prevHash;
      run.maxSeq = expectedSeq;
      run.maxSeqHash = prevHash;
      expectedSeq += 1;
    }
    opts.onPage?.();
    if (page.length < opts.pageSize) break;
  }
  return run;
}

async function rowAtSeq(db: DbOrTx, seq: number): Promise<AuditEventRow | undefined> {
  const [row] = await db.select().from(auditEvents).where(eq(auditEvents.seq, seq)).limit(1);
  return row;
}

/** Runs fn over items with at most `concurrency` at once. */
async function inLanes<T, R>(items: T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, lane));
  return out;
}

/**
 * Recomputes the trail (or the segment between two checkpoints) and names the
 * first broken link: the legacy segment up to the head migration 0022
 * recorded, then every partition and the checkpoints' chain, streamed in
 * pages, several partitions at once. Each checkpoint's root must recompute
 * from its heads, and the newest one's heads (or `toSeq`'s) must be the rows
 * at those places.
 */
export async function verifyAuditChain(db: DbOrTx, segment: ChainSegment = {}): Promise<ChainVerification> {
  const { pageSize = 2000, concurrency = 4, onPage } = segment;
  const config = await auditChainConfigOf(db);
  const broken: BrokenLink[] = [];
  let checked = 0;
  let last = { seq: 0, hash: GENESIS_HASH };
  const seen = (seq: number, hash: string) => {
    if (seq > last.seq) last = { seq, hash };
  };

  // Where to stop: a checkpoint's heads, or (a legacy seq) the legacy segment only, or every chain's end.
  let to: AuditEventRow | undefined;
  if (segment.toSeq !== undefined) {
    to = await rowAtSeq(db, segment.toSeq);
    if (!to)
      return {
        ok: false,
        eventsChecked: 0,
        lastSeq: segment.from?.seq ?? 0,
        lastHash: segment.from?.hash ?? GENESIS_HASH,
        firstBroken: { seq: segment.toSeq, problem: 'sequence_gap', expected: String(segment.toSeq), found: 'none' },
      };
  }
  const toCheckpoint = to?.chainPart === CHECKPOINT_PART ? (to.payload as unknown as CheckpointPayload) : undefined;
  const legacyOnly = to !== undefined && to.chainPart === null;
  // Where to start: after a checkpoint's heads, or after a legacy event, or at the genesis.
  let fromCheckpoint: { row: AuditEventRow; payload: CheckpointPayload } | undefined;
  const legacyFrom = segment.from;
  if (segment.from) {
    const from = await rowAtSeq(db, segment.from.seq);
    if (!from || from.hash !== segment.from.hash)
      return {
        ok: false,
        eventsChecked: 0,
        lastSeq: segment.from.seq,
        lastHash: segment.from.hash,
        firstBroken: {
          seq: segment.from.seq,
          problem: from ? 'prev_hash_mismatch' : 'sequence_gap',
          expected: segment.from.hash,
          found: from?.hash ?? 'none',
        },
      };
    if (from.chainPart === CHECKPOINT_PART)
      fromCheckpoint = { row: from, payload: from.payload as unknown as CheckpointPayload };
  }

  // The legacy segment: skipped after a checkpoint (which recorded its head, verified when it was signed).
  if (!fromCheckpoint) {
    const legacyTo = legacyOnly ? to!.seq : config.legacy.seq;
    const legacy = await verifyLegacyRun(db, { from: legacyFrom, toSeq: legacyTo, pageSize, onPage });
    checked += legacy.checked;
    if (legacy.maxSeq) seen(legacy.maxSeq, legacy.maxSeqHash);
    if (legacy.broken) broken.push(legacy.broken);
    else if (legacy.lastSeq < legacyTo)
      broken.push({
        seq: legacy.lastSeq + 1,
        problem: 'sequence_gap',
        expected: String(legacy.lastSeq + 1),
        found: 'the end of the legacy segment',
        partition: null,
      });
    else if (!legacyOnly && legacy.lastHash !== config.legacy.hash)
      broken.push({
        seq: legacyTo,
        problem: 'hash_mismatch',
        expected: config.legacy.hash,
        found: legacy.lastHash,
        partition: null,
      });
    if (!legacyOnly && !broken.length) {
      // A row outside every chain: appended the old way after the migration, or slipped in.
      const [stray] = await db
        .select({ seq: auditEvents.seq })
        .from(auditEvents)
        .where(and(isNull(auditEvents.chainPart), gt(auditEvents.seq, config.legacy.seq)))
        .orderBy(asc(auditEvents.seq))
        .limit(1);
      if (stray)
        broken.push({
          seq: stray.seq,
          problem: 'hash_mismatch',
          expected: 'an event in a partition',
          found: 'an event outside every chain',
          partition: null,
        });
    }
  }

  const partitions: PartitionState[] = [];
  if (!legacyOnly) {
    // The newest checkpoint's heads are checked against the rows when verifying to the end.
    const newest = to ? undefined : await newestCheckpoint(db);
    const checkAgainst = toCheckpoint ?? (newest?.payload as unknown as CheckpointPayload | undefined);
    const checkSeq = to?.seq ?? newest?.seq ?? 0;
    const parts = [...Array.from({ length: config.partitions }, (_, p) => p), CHECKPOINT_PART];
    const runs = await inLanes(parts, concurrency, async (part) => {
      const isCp = part === CHECKPOINT_PART;
      const after: [number, string] = isCp
        ? fromCheckpoint
          ? [fromCheckpoint.row.partSeq!, fromCheckpoint.row.hash]
          : [0, GENESIS_HASH]
        : (fromCheckpoint?.payload.heads[part] ?? [0, GENESIS_HASH]);
      const head = isCp ? undefined : checkAgainst?.heads[part];
      return verifyPartitionRun(db, part, {
        afterPartSeq: after[0],
        afterHash: after[1],
        toPartSeq: to ? (isCp ? to.partSeq! : (toCheckpoint!.heads[part]?.[0] ?? 0)) : undefined,
        pageSize,
        onPage,
        expect: head && head[0] > after[0] ? { partSeq: head[0], hash: head[1], seq: checkSeq } : undefined,
      });
    });
    runs.forEach((run, i) => {
      checked += run.checked;
      if (run.maxSeq) seen(run.maxSeq, run.maxSeqHash);
      if (run.broken) broken.push(run.broken);
      partitions.push({
        partition: parts[i]!,
        events: run.checked,
        headPartSeq: run.lastPartSeq,
        headHash: run.lastHash,
      });
    });
  }

  broken.sort((a, b) => a.seq - b.seq);
  const firstBroken = broken[0];
  const lastSeq = to && !firstBroken ? to.seq : last.seq;
  const lastHash = to && !firstBroken ? to.hash : last.hash;
  return {
    ok: !firstBroken,
    eventsChecked: checked,
    lastSeq,
    lastHash,
    ...(firstBroken ? { firstBroken } : {}),
    ...(partitions.length ? { partitions } : {}),
  };
}

export interface CaseVerification {
  ok: boolean;
  caseId: string;
  /** The partition the case's events are in (null: all in the legacy segment). */
  partition: number | null;
  /** The case's own events. */
  events: number;
  /** Rows of its partition verified: from its first event to the checkpoint that covers its last. */
  rowsChecked: number;
  /** The checkpoint the run ends at (the partition's head when none covers it yet). */
  checkpoint: { seq: number; hash: string } | null;
  firstBroken?: BrokenLink;
}

/**
 * Verifies one case's trail: the run of its partition from the event before
 * its first to the first checkpoint whose head covers its last (found by a
 * binary search on the checkpoints' chain), every hash and link on the way,
 * and that checkpoint's recorded head. That checkpoint is chained to the
 * anchored ones; the full verify checks that chain and the anchors.
 */
export async function verifyAuditCase(
  db: DbOrTx,
  caseId: string,
  opts: { pageSize?: number } = {},
): Promise<CaseVerification> {
  const config = await auditChainConfigOf(db);
  const part = partitionOf(caseId, config.partitions);
  const events = await db
    .select({ seq: auditEvents.seq, chainPart: auditEvents.chainPart, partSeq: auditEvents.partSeq })
    .from(auditEvents)
    .where(eq(auditEvents.caseId, caseId))
    .orderBy(asc(auditEvents.seq));
  const result: CaseVerification = {
    ok: true,
    caseId,
    partition: part,
    events: events.length,
    rowsChecked: 0,
    checkpoint: null,
  };
  const legacy = events.filter((e) => e.chainPart === null);
  if (legacy.length) {
    // The legacy segment is one chain: its events verify with the rest of it.
    const run = await verifyLegacyRun(db, { toSeq: config.legacy.seq, pageSize: opts.pageSize ?? 2000 });
    result.rowsChecked += run.checked;
    if (run.broken) return { ...result, ok: false, firstBroken: run.broken };
  }
  const partitioned = events.filter((e) => e.chainPart !== null);
  if (!partitioned.length) return { ...result, partition: legacy.length ? null : part };
  const stray = partitioned.find((e) => e.chainPart !== part);
  if (stray)
    return {
      ...result,
      ok: false,
      firstBroken: {
        seq: stray.seq,
        problem: 'hash_mismatch',
        expected: `partition ${part}`,
        found: `partition ${stray.chainPart}`,
        partition: stray.chainPart,
      },
    };
  const first = partitioned[0]!.partSeq!;
  const lastOfCase = Math.max(...partitioned.map((e) => e.partSeq!));
  // The first checkpoint whose head of this partition is at or past the case's last event.
  const cpHead = async (cpSeq: number) => {
    const rows = rowsOf(
      await db.execute(sql`
        select seq::text as seq, hash, prev_hash, (payload->'heads'->${part}::int->>0)::bigint as head, payload->'heads'->${part}::int->>1 as head_hash
          from audit_events where chain_part = ${CHECKPOINT_PART}::smallint and part_seq = ${cpSeq}::bigint`),
    );
    const r = rows[0];
    return r
      ? {
          cpSeq,
          seq: Number(r.seq),
          hash: r.hash as string,
          prevHash: r.prev_hash as string,
          head: Number(r.head),
          headHash: r.head_hash as string,
        }
      : undefined;
  };
  const newest = await newestCheckpoint(db);
  let covering: Awaited<ReturnType<typeof cpHead>>;
  if (newest) {
    let lo = 1;
    let hi = newest.partSeq!;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const cp = await cpHead(mid);
      if (cp && cp.head >= lastOfCase) hi = mid;
      else lo = mid + 1;
    }
    const candidate = await cpHead(lo);
    if (candidate && candidate.head >= lastOfCase) covering = candidate;
  }
  const [before] = await db
    .select({ hash: auditEvents.hash })
    .from(auditEvents)
    .where(and(eq(auditEvents.chainPart, part), eq(auditEvents.partSeq, first - 1)));
  if (first > 1 && !before)
    return {
      ...result,
      ok: false,
      firstBroken: {
        seq: partitioned[0]!.seq,
        problem: 'sequence_gap',
        expected: String(first - 1),
        found: 'none',
        partition: part,
      },
    };
  const run = await verifyPartitionRun(db, part, {
    afterPartSeq: first - 1,
    afterHash: before?.hash ?? GENESIS_HASH,
    toPartSeq: covering?.head ?? lastOfCase,
    pageSize: opts.pageSize ?? 2000,
    expect: covering ? { partSeq: covering.head, hash: covering.headHash, seq: covering.seq } : undefined,
  });
  result.rowsChecked += run.checked;
  result.checkpoint = covering ? { seq: covering.seq, hash: covering.hash } : null;
  if (run.broken) return { ...result, ok: false, firstBroken: run.broken };
  if (covering) {
    // The checkpoint itself: its hash and its root recompute.
    const cp = await verifyPartitionRun(db, CHECKPOINT_PART, {
      afterPartSeq: covering.cpSeq - 1,
      afterHash: covering.prevHash,
      toPartSeq: covering.cpSeq,
      pageSize: 1,
    });
    result.rowsChecked += cp.checked;
    if (cp.broken) return { ...result, ok: false, firstBroken: cp.broken };
  }
  return result;
}
