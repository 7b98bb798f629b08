/**
 * One error type, one code → status map, one JSON envelope:
 * `{ error: { code, message, requestId, details? } }`. Unknown errors become a
 * bare 500 with the request id; stacks go to the log, never to the caller.
 */
import {
  isGrpcServiceError,
  ServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import { ApplicationFailure, type TemporalFailure } from '@temporalio/common';
import type { Context } from 'hono';
import { REFUSAL_STATUS as KIND_STATUS } from '../contracts/core';
import { REFUSAL_KINDS } from '../contracts';

export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  /** The same Idempotency-Key is being answered right now; retry after Retry-After seconds. */
  IDEMPOTENCY_IN_FLIGHT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNPROCESSABLE: 422,
  /** The Idempotency-Key was first used for another request (method, path or body). */
  IDEMPOTENCY_KEY_REUSED: 422,
  /** Too many failed authentications from the caller's address; retry after Retry-After seconds. */
  TOO_MANY_FAILED_LOGINS: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const;
export type ErrorCode = keyof typeof ERROR_STATUS;

const KIND_CODE: Record<number, ErrorCode> = { 409: 'CONFLICT', 403: 'FORBIDDEN', 422: 'UNPROCESSABLE' };

/**
 * Refusals from workflow validators, by the code the domain rule gave: the
 * processes' contracts say how each is answered; the rest are listed here
 * until their process has a contract.
 */
const REFUSAL_STATUS: Record<string, ErrorCode> = {
  WRONG_STAGE: 'CONFLICT',
  ROLE_NOT_PERMITTED: 'FORBIDDEN',
  ...Object.fromEntries(Object.entries(REFUSAL_KINDS).map(([code, kind]) => [code, KIND_CODE[KIND_STATUS[kind]]!])),
};

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    /** The domain rule's own code, when a workflow refused. */
    readonly reason?: string,
    /** Sent as the Retry-After header (seconds): when asking again may succeed. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get status(): (typeof ERROR_STATUS)[ErrorCode] {
    return ERROR_STATUS[this.code];
  }
}

export function errorBody(c: Context, err: ApiError) {
  return {
    error: {
      code: err.code,
      message: err.message,
      requestId: (c.get('requestId' as never) as string | undefined) ?? 'unknown',
      ...(err.reason ? { reason: err.reason } : {}),
      ...(err.details !== undefined ? { details: err.details } : {}),
    },
  };
}

function rootApplicationFailure(failure: TemporalFailure | Error | undefined): ApplicationFailure | undefined {
  let current: unknown = failure;
  while (current) {
    if (current instanceof ApplicationFailure) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** gRPC outcomes a retry may cure: Temporal unreachable, or the request's deadline passed. */
// gRPC status codes (grpc/status.h): CANCELLED 1, DEADLINE_EXCEEDED 4, UNAVAILABLE 14.
const RETRYABLE_GRPC = new Set<number>([1, 4, 14]);

/** Maps Temporal client errors onto the API's codes; undefined when not one. */
export function fromTemporalError(err: unknown): ApiError | undefined {
  // The step may yet be applied (no worker ran in time, say): never a 500,
  // and a retry with the same Idempotency-Key gets the first answer.
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
    return new ApiError(
      'UNAVAILABLE',
      'Temporal did not answer in time; the step may still be applied: retry with the same Idempotency-Key',
      undefined,
      undefined,
      2,
    );
  }
  // Temporal unreachable, or the request's deadline on Temporal passed (api/deadline.ts): retryable.
  const grpc = isGrpcServiceError(err)
    ? err
    : err instanceof ServiceError && isGrpcServiceError(err.cause)
      ? err.cause
      : undefined;
  // The case's workflow task is being retried (its worker died holding it): Temporal takes no Update
  // until a worker completes it, which needs no one but time.
  const messages = [err, (err as { cause?: unknown } | undefined)?.cause].map((e) =>
    e instanceof Error ? `${e.message} ${(e as { details?: string }).details ?? ''}` : '',
  );
  if (messages.some((m) => /workflow task in failed state/i.test(m))) {
    return new ApiError(
      'UNAVAILABLE',
      'the case is recovering from a worker failure and takes no step for a moment: retry with the same Idempotency-Key',
      undefined,
      undefined,
      5,
    );
  }
  if (grpc && RETRYABLE_GRPC.has(grpc.code)) {
    return new ApiError(
      'UNAVAILABLE',
      'Temporal did not answer in time; the step may still be applied: retry with the same Idempotency-Key',
      undefined,
      undefined,
      2,
    );
  }
  if (err instanceof WorkflowNotFoundError) return new ApiError('NOT_FOUND', 'no such case is running');
  if (err instanceof WorkflowExecutionAlreadyStartedError) {
    return new ApiError('CONFLICT', `a case with id ${err.workflowId} already exists`);
  }
  if (err instanceof WorkflowUpdateFailedError) {
    const failure = rootApplicationFailure(err.cause);
    const code = (failure?.type && REFUSAL_STATUS[failure.type]) || 'UNPROCESSABLE';
    // A refusal may name what blocks it (open item ids and titles…) in its first detail.
    const details = failure?.details?.length ? failure.details[0] : undefined;
    return new ApiError(code, failure?.message ?? err.message, details, failure?.type ?? undefined);
  }
  // An Update to a workflow that has already completed.
  if (err instanceof Error && /workflow execution already completed/i.test(err.message)) {
    return new ApiError('CONFLICT', 'this case is already closed');
  }
  return undefined;
}
