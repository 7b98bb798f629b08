/**
 * A bound on how long one API request waits on Temporal.
 *
 * The Temporal client waits for an Update's outcome for as long as it takes:
 * it polls again each time the server's long poll ends empty. While a worker
 * is down or an activity retries through a database outage, a request would
 * hang, its Idempotency-Key lease renewed all the while, and every retry
 * would be told "still in flight" for as long as the outage lasts, or longer.
 *
 * Every Temporal call a request makes shares one gRPC deadline instead
 * (Connection.withDeadline, carried by async context). Past it the request
 * answers 503 UNAVAILABLE with Retry-After; the step may still be applied,
 * and the client's retry with the same Idempotency-Key attaches to the same
 * Update or start (platform/idempotentCalls.ts) and gets its outcome.
 */
import type { Client } from '@temporalio/client';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './auth';

/** `deadlineMs` is read per request, so a changed setting applies to the next one. */
export function temporalDeadline(temporal: Client, deadlineMs: () => number): MiddlewareHandler<AppEnv> {
  return (_c, next) => temporal.connection.withDeadline(Date.now() + deadlineMs(), () => next());
}
