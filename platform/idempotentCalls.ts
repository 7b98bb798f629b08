/**
 * What makes an API request sent again with the same Idempotency-Key apply
 * its effect once, even when the process that answered it first died before
 * storing the answer (api/idempotency.ts stores answers; this covers the gap).
 *
 * While a request with a key runs, its scope (who, which key, which request)
 * is held in AsyncLocalStorage, and the code that talks to Temporal derives
 * from it what would otherwise be random:
 * - the Update ID of each Update the request sends: Temporal answers an
 *   Update whose ID it has seen on that run with the first outcome, without
 *   running it again (even once the workflow has closed);
 * - the default business key of a case the request creates, so the retry
 *   starts the same case id, and platform/cases.ts recognises the case as
 *   its own by the start's Update ID instead of answering 409.
 * Outside such a request (activities, scripts, requests without a key)
 * everything is random as before.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, randomUUID } from 'node:crypto';

export interface IdempotencyScope {
  userId: string;
  key: string;
  method: string;
  path: string;
  /** The request's fingerprint (api/idempotency.ts): another body is another request. */
  fingerprint: string;
}

interface ActiveScope extends IdempotencyScope {
  /** How many Updates of each name the request has sent to each workflow so far. */
  sent: Map<string, number>;
}

const storage = new AsyncLocalStorage<ActiveScope>();

const digest = (...parts: string[]) => createHash('sha256').update(parts.join('\u0000')).digest('hex');

/** Runs `fn` (the request's handler) within the scope of an Idempotency-Key. */
export function runIdempotent<T>(scope: IdempotencyScope, fn: () => T): T {
  return storage.run({ ...scope, sent: new Map() }, fn);
}

/**
 * The Update ID for the next Update named `updateName` to `workflowId` in
 * this request; undefined outside a keyed request (Temporal picks one). The
 * same request sent again derives the same IDs in the same order.
 */
export function idempotentUpdateId(workflowId: string, updateName: string): string | undefined {
  const scope = storage.getStore();
  if (!scope) return undefined;
  const slot = `${workflowId}\u0000${updateName}`;
  const n = scope.sent.get(slot) ?? 0;
  scope.sent.set(slot, n + 1);
  return `idem-${digest(scope.userId, scope.key, scope.fingerprint, workflowId, updateName, String(n)).slice(0, 40)}`;
}

/** True inside a request sent with an Idempotency-Key. */
export function inIdempotentRequest(): boolean {
  return storage.getStore() !== undefined;
}

/** The same per user, key and route, whatever the body: what default business keys are made of. */
function routeDigest(scope: IdempotencyScope, purpose: string): string {
  return digest(scope.userId, scope.key, scope.method, scope.path, purpose);
}

/**
 * Eight upper-case hex digits for a default business key (`INC-1A2B3C4D`):
 * derived from the user, key and route in a keyed request, random otherwise.
 */
export function newKeySuffix(purpose = 'key'): string {
  const scope = storage.getStore();
  const hex = scope ? routeDigest(scope, purpose) : randomUUID().replace(/-/g, '');
  return hex.slice(0, 8).toUpperCase();
}

/** A UUID for a default key or record id: derived (UUID-shaped) in a keyed request, random otherwise. */
export function newKeyUuid(purpose = 'uuid'): string {
  const scope = storage.getStore();
  if (!scope) return randomUUID();
  const hex = routeDigest(scope, purpose);
  // Version 8 (custom) and the RFC 4122 variant, so it passes UUID validators.
  return [
    hex.slice(0, 8),
    hex.slice(8, 12),
    `8${hex.slice(13, 16)}`,
    `${((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}`,
    hex.slice(20, 32),
  ].join('-');
}
