/**
 * The stored first answers to POSTs sent with an Idempotency-Key
 * (api/idempotency.ts), one row per user and key: `in_flight` while its
 * request runs, under a lease the answering process renews, then
 * `completed` with the answer. A failed request (5xx) deletes its row, so
 * nothing half-written is ever replayed. Rows expire after the retention
 * (24 h by default) and are purged.
 */
import { randomUUID } from 'node:crypto';
import { and, eq, lt, sql } from 'drizzle-orm';
import { check, index, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import type { DbOrTx } from './audit';

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const idempotentRequests = pgTable(
  'idempotent_requests',
  {
    userId: text('user_id').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    /** SHA-256 of the request's method, path and (canonical) body. */
    fingerprint: text('fingerprint').notNull(),
    method: text('method').notNull(),
    path: text('path').notNull(),
    state: text('state').$type<'in_flight' | 'completed'>().notNull(),
    /** Which attempt holds the row: only it may renew, complete or release it. */
    claimId: text('claim_id').notNull(),
    leaseUntil: at('lease_until').notNull(),
    responseStatus: integer('response_status'),
    responseContentType: text('response_content_type'),
    responseBody: text('response_body'),
    createdAt: at('created_at').notNull().defaultNow(),
    expiresAt: at('expires_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.idempotencyKey] }),
    index('idempotent_requests_expires_at').on(t.expiresAt),
    check('idempotent_requests_state_check', sql`${t.state} in ('in_flight', 'completed')`),
  ],
);

export type IdempotentRequestRow = typeof idempotentRequests.$inferSelect;

export interface IdempotentRequest {
  userId: string;
  idempotencyKey: string;
  fingerprint: string;
  method: string;
  path: string;
}

export type Claim =
  /** This attempt holds the row and runs the request. */
  | { outcome: 'claimed'; claimId: string }
  /** The first answer, to send again. */
  | { outcome: 'completed'; row: IdempotentRequestRow }
  /** The same request is running elsewhere; its lease ends at `leaseUntil`. */
  | { outcome: 'in_flight'; leaseUntil: Date }
  /** The key was first used for another request. */
  | { outcome: 'reused'; row: IdempotentRequestRow };

/**
 * Claims a key for a request, in one statement: a new key, an expired row,
 * or an in-flight row of the same request whose lease lapsed (the process
 * answering it died) is taken over; otherwise the row found says what to do.
 */
export async function claimIdempotentRequest(
  db: DbOrTx,
  request: IdempotentRequest,
  options: { leaseMs: number; retentionMs: number },
): Promise<Claim> {
  // Two tries: the row found may vanish between the two statements (its request failed with 5xx).
  for (let attempt = 0; ; attempt++) {
    const claimId = randomUUID();
    const leaseUntil = sql`now() + make_interval(secs => ${options.leaseMs / 1000})`;
    const expiresAt = sql`now() + make_interval(secs => ${options.retentionMs / 1000})`;
    const claimed = await db
      .insert(idempotentRequests)
      .values({ ...request, state: 'in_flight', claimId, leaseUntil, expiresAt })
      .onConflictDoUpdate({
        target: [idempotentRequests.userId, idempotentRequests.idempotencyKey],
        set: {
          fingerprint: request.fingerprint,
          method: request.method,
          path: request.path,
          state: 'in_flight',
          claimId,
          leaseUntil,
          responseStatus: null,
          responseContentType: null,
          responseBody: null,
          createdAt: sql`now()`,
          expiresAt,
        },
        setWhere: sql`${idempotentRequests.expiresAt} <= now()
          or (${idempotentRequests.state} = 'in_flight' and ${idempotentRequests.leaseUntil} <= now()
              and ${idempotentRequests.fingerprint} = ${request.fingerprint})`,
      })
      .returning({ claimId: idempotentRequests.claimId });
    if (claimed[0]?.claimId === claimId) return { outcome: 'claimed', claimId };
    const [row] = await db
      .select()
      .from(idempotentRequests)
      .where(
        and(
          eq(idempotentRequests.userId, request.userId),
          eq(idempotentRequests.idempotencyKey, request.idempotencyKey),
        ),
      );
    if (!row) {
      if (attempt < 2) continue;
      throw new Error(`idempotency key ${request.idempotencyKey} could not be claimed`);
    }
    if (row.fingerprint !== request.fingerprint) return { outcome: 'reused', row };
    if (row.state === 'completed') return { outcome: 'completed', row };
    return { outcome: 'in_flight', leaseUntil: row.leaseUntil };
  }
}

const held = (request: Pick<IdempotentRequest, 'userId' | 'idempotencyKey'>, claimId: string) =>
  and(
    eq(idempotentRequests.userId, request.userId),
    eq(idempotentRequests.idempotencyKey, request.idempotencyKey),
    eq(idempotentRequests.claimId, claimId),
    eq(idempotentRequests.state, 'in_flight'),
  );

/** Extends the lease of a request still running. False when the claim was lost. */
export async function renewIdempotentRequest(
  db: DbOrTx,
  request: Pick<IdempotentRequest, 'userId' | 'idempotencyKey'>,
  claimId: string,
  leaseMs: number,
): Promise<boolean> {
  const renewed = await db
    .update(idempotentRequests)
    .set({ leaseUntil: sql`now() + make_interval(secs => ${leaseMs / 1000})` })
    .where(held(request, claimId))
    .returning({ claimId: idempotentRequests.claimId });
  return renewed.length > 0;
}

/** Stores the first answer. */
export async function completeIdempotentRequest(
  db: DbOrTx,
  request: Pick<IdempotentRequest, 'userId' | 'idempotencyKey'>,
  claimId: string,
  response: { status: number; contentType: string | null; body: string },
): Promise<void> {
  await db
    .update(idempotentRequests)
    .set({
      state: 'completed',
      responseStatus: response.status,
      responseContentType: response.contentType,
      responseBody: response.body,
    })
    .where(held(request, claimId));
}

/** Forgets a request that failed (5xx): a retry runs it again. */
export async function releaseIdempotentRequest(
  db: DbOrTx,
  request: Pick<IdempotentRequest, 'userId' | 'idempotencyKey'>,
  claimId: string,
): Promise<void> {
  await db.delete(idempotentRequests).where(held(request, claimId));
}

/** Deletes expired answers; returns how many. */
export async function purgeExpiredIdempotentRequests(db: DbOrTx, now = new Date()): Promise<number> {
  const purged = await db
    .delete(idempotentRequests)
    .where(lt(idempotentRequests.expiresAt, now))
    .returning({ key: idempotentRequests.idempotencyKey });
  return purged.length;
}
