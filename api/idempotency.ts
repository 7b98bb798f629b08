/**
 * Idempotency-Key on every POST under /api: a client whose connection died,
 * or whose API process was killed mid-request, sends the same request again
 * with the same key and gets the first answer, the effect applied once.
 *
 * - The key: 1–255 visible ASCII characters (400 naming the header
 *   otherwise); optional — without it a request behaves as it always has.
 * - Scoped to the authenticated user. The same key with the same method,
 *   path and body → the first answer (status and body), with
 *   `Idempotent-Replayed: true`. The same key with another request → 422
 *   IDEMPOTENCY_KEY_REUSED. While the first is still being answered → 409
 *   IDEMPOTENCY_IN_FLIGHT with Retry-After (we do not hold the duplicate
 *   open: a client retrying after a timeout should not pile up waiters).
 * - Answers below 500 are stored, for 24 h (policy default); a 5xx leaves
 *   nothing, so the retry runs the request again.
 * - Crash-safe: the row is claimed under a lease that the answering process
 *   renews; if that process dies, the lease lapses (IDEMPOTENCY_LEASE_MS)
 *   and the retry runs the request again, within the key's scope
 *   (platform/idempotentCalls.ts), so Temporal sees the same Update IDs and
 *   the same case ids and answers with the first outcome instead of applying
 *   it twice.
 *
 * Requests that write only to PostgreSQL (users, tokens, risk register
 * rows, evidence) are replayed from the store too; the one gap is a crash
 * in the milliseconds between their commit and the answer being stored.
 * Those whose record id derives from the key (evidence, default business
 * keys) then find their record instead of writing a second one.
 */
import { createHash } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import {
  claimIdempotentRequest,
  completeIdempotentRequest,
  purgeExpiredIdempotentRequests,
  releaseIdempotentRequest,
  renewIdempotentRequest,
} from '../db/idempotency';
import type { Database } from '../db/client';
import { runIdempotent } from '../platform/idempotentCalls';
import type { AppEnv } from './auth';
import { ApiError } from './errors';

export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
export const IDEMPOTENT_REPLAYED_HEADER = 'Idempotent-Replayed';
/** How long a stored answer is kept: a day (policy default). */
export const IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60 * 1000;
/** A request's claim lapses this long after its process last renewed it (every third of it). */
export const IDEMPOTENCY_LEASE_MS = 10_000;
const PURGE_EVERY_MS = 10 * 60 * 1000;

const VALID_KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * POSTs whose answer carries a secret shown once (a new API token): it is
 * never stored, so they cannot be replayed and refuse the key (400) rather
 * than let a client believe a retry is safe.
 */
export const SECRET_ANSWER_POSTS = [/^\/api\/users\/[^/]+\/tokens$/];

export interface IdempotencyOptions {
  retentionMs?: number;
  leaseMs?: number;
}

/** JSON with object keys sorted, so the same body in another key order or spacing is the same request. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/**
 * What identifies the request: method, path with query, and its body — JSON
 * canonically, a form by its fields and files' contents (a client's
 * multipart boundary differs from one attempt to the next), else its bytes.
 */
async function fingerprintOf(c: Context<AppEnv>): Promise<string> {
  const url = new URL(c.req.url);
  const mediaType = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  let body = '';
  if (c.req.raw.body) {
    const raw = c.req.raw.clone();
    if (mediaType === 'multipart/form-data' || mediaType === 'application/x-www-form-urlencoded') {
      try {
        const parts: string[] = [];
        for (const [name, value] of await raw.formData()) {
          parts.push(
            typeof value === 'string'
              ? `${JSON.stringify(name)}=${JSON.stringify(value)}`
              : `${JSON.stringify(name)}=file:${JSON.stringify(value.name)}:${value.type}:${sha256(new Uint8Array(await value.arrayBuffer()))}`,
          );
        }
        body = `form:${parts.join('&')}`;
      } catch {
        body = `bytes:${sha256(new Uint8Array(await c.req.raw.clone().arrayBuffer()))}`;
      }
    } else {
      const text = await raw.text();
      try {
        body = `json:${canonicalJson(JSON.parse(text))}`;
      } catch {
        body = `bytes:${sha256(text)}`;
      }
    }
  }
  return sha256([c.req.method, url.pathname + url.search, body].join('\n'));
}

/** Reads and checks the header; undefined when absent. */
function keyOf(c: Context<AppEnv>): string | undefined {
  const key = c.req.header(IDEMPOTENCY_KEY_HEADER);
  if (key === undefined) return undefined;
  if (!VALID_KEY.test(key)) {
    const message = 'must be 1 to 255 visible ASCII characters (no spaces), e.g. a UUID';
    throw new ApiError('BAD_REQUEST', `invalid header: ${IDEMPOTENCY_KEY_HEADER} ${message}`, [
      { field: `header.${IDEMPOTENCY_KEY_HEADER}`, message },
    ]);
  }
  return key;
}

/** The middleware, for /api/*, after authentication (keys are the user's) and before the routes. */
export function idempotency(db: Database, options: IdempotencyOptions = {}): MiddlewareHandler<AppEnv> {
  const retentionMs = options.retentionMs ?? IDEMPOTENCY_RETENTION_MS;
  const leaseMs = options.leaseMs ?? IDEMPOTENCY_LEASE_MS;
  let lastPurge = 0;

  return async (c, next) => {
    if (c.req.method !== 'POST') return next();
    const key = keyOf(c);
    if (key === undefined) return next();
    if (SECRET_ANSWER_POSTS.some((p) => p.test(c.req.path))) {
      const message = 'is not accepted here: the answer carries a token shown once, which is never stored';
      throw new ApiError('BAD_REQUEST', `invalid header: ${IDEMPOTENCY_KEY_HEADER} ${message}`, [
        { field: `header.${IDEMPOTENCY_KEY_HEADER}`, message },
      ]);
    }

    if (Date.now() - lastPurge > PURGE_EVERY_MS) {
      lastPurge = Date.now();
      // Housekeeping: a failure here must not fail the request.
      await purgeExpiredIdempotentRequests(db).catch(() => undefined);
    }

    const user = c.get('user');
    const url = new URL(c.req.url);
    const request = {
      userId: user.id,
      idempotencyKey: key,
      fingerprint: await fingerprintOf(c),
      method: c.req.method,
      path: url.pathname + url.search,
    };
    const claim = await claimIdempotentRequest(db, request, { leaseMs, retentionMs });
    if (claim.outcome === 'reused') {
      throw new ApiError(
        'IDEMPOTENCY_KEY_REUSED',
        `${IDEMPOTENCY_KEY_HEADER} "${key}" was first used for another request (${claim.row.method} ${claim.row.path}, or another body); use a new key for a new request`,
        { field: `header.${IDEMPOTENCY_KEY_HEADER}`, firstMethod: claim.row.method, firstPath: claim.row.path },
      );
    }
    if (claim.outcome === 'in_flight') {
      const seconds = Math.max(1, Math.ceil((claim.leaseUntil.getTime() - Date.now()) / 1000));
      throw new ApiError(
        'IDEMPOTENCY_IN_FLIGHT',
        `a request with ${IDEMPOTENCY_KEY_HEADER} "${key}" is still being answered; send it again in ${seconds} s to get its answer`,
        undefined,
        undefined,
        Math.min(seconds, Math.ceil(leaseMs / 1000)),
      );
    }
    if (claim.outcome === 'completed') {
      const { row } = claim;
      c.header(IDEMPOTENT_REPLAYED_HEADER, 'true');
      if (row.responseContentType) c.header('content-type', row.responseContentType);
      return c.body(row.responseBody ?? '', row.responseStatus as never);
    }

    const { claimId } = claim;
    // The lease is renewed while the request runs; if this process dies, it lapses and a retry takes over.
    const renewal = setInterval(
      () => void renewIdempotentRequest(db, request, claimId, leaseMs).catch(() => undefined),
      Math.max(500, Math.floor(leaseMs / 3)),
    );
    let stored = false;
    try {
      await runIdempotent(
        { userId: user.id, key, method: request.method, path: request.path, fingerprint: request.fingerprint },
        () => next(),
      );
      // Errors thrown by the route were turned into c.res by the app's error handler.
      if (c.res.status < 500) {
        await completeIdempotentRequest(db, request, claimId, {
          status: c.res.status,
          contentType: c.res.headers.get('content-type'),
          body: await c.res.clone().text(),
        });
        stored = true;
      }
    } finally {
      clearInterval(renewal);
      if (!stored) await releaseIdempotentRequest(db, request, claimId).catch(() => undefined);
    }
  };
}
