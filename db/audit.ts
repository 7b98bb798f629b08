/**
 * The hash-chained audit log (DOMAIN.md §6: who, when, what, why, evidence).
 *
 * Each event's hash covers the previous event's hash, so editing or removing
 * any row breaks every link after it. Appends from many workflows at once are
 * serialised by a transaction-scoped advisory lock, so the chain stays one
 * unbroken sequence; the lock is held only for the few statements of a write.
 */
import { createHash } from 'node:crypto';
import { and, asc, desc, eq, gt, lte, sql } from 'drizzle-orm';
import { wellFormedText, wellFormedValue } from '../domain/text';
import type { Database } from './client';
import { auditEvents, type AuditEventRow } from './schema';

export const GENESIS_HASH = '0'.repeat(64);
/** Arbitrary constant naming the chain's advisory lock. */
const CHAIN_LOCK_KEY = 727_001;

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

/** Takes the chain lock for the rest of the transaction. */
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

/**
 * Appends one event. Must run inside a transaction that already holds the
 * chain lock (see `withAuditedWrite`).
 */
export async function appendLocked(tx: DbOrTx, input: AuditEventInput): Promise<AuditEventRow> {
  const [last] = await tx
    .select({ seq: auditEvents.seq, hash: auditEvents.hash })
    .from(auditEvents)
    .orderBy(desc(auditEvents.seq))
    .limit(1);
  // Millisecond precision, as stored, so the recomputed hash matches.
  const occurredAt = new Date(Math.floor((input.occurredAt ?? new Date()).getTime()));
  // Text is made storable (NUL and lone surrogates become U+FFFD) before it is
  // hashed, so what is stored is what was hashed: PostgreSQL refuses NUL, and
  // the driver would silently store U+FFFD for a lone surrogate that the hash
  // covered, leaving the chain unverifiable for good. The API refuses such
  // text; this holds for anything that reaches the chain by another way.
  const row = wellFormedValue({
    seq: (last?.seq ?? 0) + 1,
    idempotencyKey: input.idempotencyKey,
    occurredAt,
    actorId: input.actorId,
    action: input.action,
    caseId: input.caseId ?? null,
    taskId: input.taskId ?? null,
    reason: input.reason ?? null,
    payload: input.payload ?? {},
    evidenceHashes: input.evidenceHashes ?? [],
    prevHash: last?.hash ?? GENESIS_HASH,
  });
  const hash = computeAuditHash(row);
  const [inserted] = await tx
    .insert(auditEvents)
    .values({ ...row, hash })
    .returning();
  return inserted!;
}

/**
 * Runs a state change and its audit event in one transaction, exactly once per
 * idempotency key: a retried activity whose first attempt committed finds its
 * event and does nothing. Returns whether this call performed the write.
 */
export async function withAuditedWrite<T>(
  db: Database,
  event: AuditEventInput,
  write: (tx: Tx) => Promise<T>,
): Promise<{ applied: boolean; result?: T; event: AuditEventRow }> {
  return db.transaction(async (tx) => {
    await lockAuditChain(tx);
    const existing = await findAuditEvent(tx, event.idempotencyKey);
    if (existing) return { applied: false, event: existing };
    const result = await write(tx);
    const appended = await appendLocked(tx, event);
    return { applied: true, result, event: appended };
  });
}

export async function appendAuditEvent(db: Database, event: AuditEventInput): Promise<AuditEventRow> {
  return (await withAuditedWrite(db, event, async () => undefined)).event;
}

export interface ChainVerification {
  ok: boolean;
  eventsChecked: number;
  lastSeq: number;
  lastHash: string;
  firstBroken?: {
    seq: number;
    problem: 'sequence_gap' | 'prev_hash_mismatch' | 'hash_mismatch';
    expected: string;
    found: string;
  };
}

export interface ChainSegment {
  /** Start after this event, trusted as given (an anchor); default: from the genesis. */
  from?: { seq: number; hash: string };
  /** Stop after this event; default: the end of the chain. */
  toSeq?: number;
  pageSize?: number;
  /** Called after each page (the anchoring activity heartbeats). */
  onPage?: () => void;
}

/** Recomputes the chain (or a segment of it) in pages and names the first broken link. */
export async function verifyAuditChain(db: DbOrTx, segment: ChainSegment = {}): Promise<ChainVerification> {
  const { pageSize = 1000, toSeq = Number.MAX_SAFE_INTEGER } = segment;
  let expectedSeq = (segment.from?.seq ?? 0) + 1;
  let prevHash = segment.from?.hash ?? GENESIS_HASH;
  let checked = 0;
  for (;;) {
    const page = await db
      .select()
      .from(auditEvents)
      .where(and(gt(auditEvents.seq, expectedSeq - 1), lte(auditEvents.seq, toSeq)))
      .orderBy(asc(auditEvents.seq))
      .limit(pageSize);
    for (const row of page) {
      const broken = (
        problem: NonNullable<ChainVerification['firstBroken']>['problem'],
        expected: string,
        found: string,
      ) => ({
        ok: false,
        eventsChecked: checked,
        lastSeq: expectedSeq - 1,
        lastHash: prevHash,
        firstBroken: { seq: row.seq, problem, expected, found },
      });
      if (row.seq !== expectedSeq) return broken('sequence_gap', String(expectedSeq), String(row.seq));
      if (row.prevHash !== prevHash) return broken('prev_hash_mismatch', prevHash, row.prevHash);
      const recomputed = computeAuditHash(row);
      if (recomputed !== row.hash) return broken('hash_mismatch', recomputed, row.hash);
      prevHash = row.hash;
      expectedSeq += 1;
      checked += 1;
    }
    segment.onPage?.();
    if (page.length < pageSize) break;
  }
  return { ok: true, eventsChecked: checked, lastSeq: expectedSeq - 1, lastHash: prevHash };
}

/** The newest event of the chain (seq 0 and the genesis hash when it is empty). */
export async function auditChainHead(db: DbOrTx): Promise<{ seq: number; hash: string; occurredAt?: Date }> {
  const [last] = await db
    .select({ seq: auditEvents.seq, hash: auditEvents.hash, occurredAt: auditEvents.occurredAt })
    .from(auditEvents)
    .orderBy(desc(auditEvents.seq))
    .limit(1);
  return last ?? { seq: 0, hash: GENESIS_HASH };
}
