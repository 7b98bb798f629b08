/**
 * How the API answers Temporal's transient refusals (api/errors.ts): a
 * client can tell "retry with the same Idempotency-Key" (503 with
 * Retry-After) from a fault of the product (500). Each error below is built
 * as the Temporal client throws it.
 */
import { ServiceError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { fromTemporalError } from '../../api/errors';

/** A gRPC status error as @grpc/grpc-js produces it. */
const grpcError = (code: number, details: string) =>
  Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });

describe('Temporal errors the client may retry', () => {
  it('an Update refused while the case’s workflow task is retried after a worker died: 503, Retry-After', () => {
    const cause = grpcError(9, 'Unable to perform workflow execution update due to Workflow Task in failed state.');
    for (const err of [
      new ServiceError('Workflow Update failed', { cause }),
      // Update-with-Start reports it as a plain error carrying the details.
      new Error('Unable to perform workflow execution update due to Workflow Task in failed state.'),
    ]) {
      const mapped = fromTemporalError(err);
      expect(mapped?.status).toBe(503);
      expect(mapped?.code).toBe('UNAVAILABLE');
      expect(mapped?.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(mapped?.message).toMatch(/retry with the same Idempotency-Key/);
    }
  });

  it('Temporal unreachable or the request’s deadline passed: 503', () => {
    for (const code of [14, 4, 1]) {
      const mapped = fromTemporalError(new ServiceError('call failed', { cause: grpcError(code, 'down') }));
      expect(mapped?.status, String(code)).toBe(503);
    }
  });

  it('any other precondition failure is not mistaken for a transient one', () => {
    const other = new ServiceError('failed', { cause: grpcError(9, 'Namespace is not active') });
    expect(fromTemporalError(other)).toBeUndefined();
    expect(fromTemporalError(new Error('something else'))).toBeUndefined();
  });
});
