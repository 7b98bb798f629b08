/**
 * What a workflow does with a payload the codec refused (platform/codec.ts):
 * one that is clear while keys are configured, names an unknown key, or fails
 * authentication — written by someone who reached the Temporal frontend
 * without the key.
 *
 * The codec cannot simply throw: the SDK then fails the whole workflow task,
 * and a forged signal, written to history before any worker sees it, would
 * fail every task of the case for ever. So the codec hands the workflow a
 * marker in the refused payload's place, and this interceptor (registered in
 * every workflow bundle) acts on it before any workflow code does:
 *
 * - an Update is rejected by its validator step: nothing reaches history;
 * - a signal is dropped (and logged): the case goes on as if it never came;
 * - a start fails the run at once, before a single activity;
 * - an activity result (completed by someone else's hand) fails the activity.
 *
 * Pure of Node APIs: it runs in the workflow sandbox.
 */
import {
  ApplicationFailure,
  log,
  type ActivityInput,
  type LocalActivityInput,
  type Next,
  type SignalInput,
  type UpdateInput,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptorsFactory,
  type WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';

/** The one key of the value the codec decodes a refused payload into: `{ [REFUSED_PAYLOAD_KEY]: reason }`. */
export const REFUSED_PAYLOAD_KEY = '__governanceRefusedPayload';
/** The failure type a refusal raises: the API maps it like any other rejected step. */
export const PAYLOAD_REFUSED = 'PAYLOAD_REFUSED';

export function refusalOf(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || !(REFUSED_PAYLOAD_KEY in value)) return undefined;
  return String((value as Record<string, unknown>)[REFUSED_PAYLOAD_KEY]);
}

function firstRefusal(args: readonly unknown[]): string | undefined {
  for (const arg of args) {
    const reason = refusalOf(arg);
    if (reason !== undefined) return reason;
  }
  return undefined;
}

function refused(what: string, reason: string): ApplicationFailure {
  return ApplicationFailure.create({
    message: `${what} was refused: ${reason}`,
    type: PAYLOAD_REFUSED,
    nonRetryable: true,
  });
}

class RefusedPayloadsInbound implements WorkflowInboundCallsInterceptor {
  async execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>) {
    const reason = firstRefusal(input.args);
    if (reason !== undefined) throw refused('the workflow input', reason);
    return next(input);
  }

  async handleSignal(input: SignalInput, next: Next<WorkflowInboundCallsInterceptor, 'handleSignal'>) {
    const reason = firstRefusal(input.args);
    if (reason !== undefined) {
      log.warn(`signal ${input.signalName} dropped: ${reason}`);
      return;
    }
    return next(input);
  }

  validateUpdate(input: UpdateInput, next: Next<WorkflowInboundCallsInterceptor, 'validateUpdate'>) {
    const reason = firstRefusal(input.args);
    if (reason !== undefined) throw refused(`update ${input.name}`, reason);
    next(input);
  }

  /** For an Update without a validator: it fails (after acceptance), and its handler never runs. */
  async handleUpdate(input: UpdateInput, next: Next<WorkflowInboundCallsInterceptor, 'handleUpdate'>) {
    const reason = firstRefusal(input.args);
    if (reason !== undefined) throw refused(`update ${input.name}`, reason);
    return next(input);
  }
}

class RefusedPayloadsOutbound implements WorkflowOutboundCallsInterceptor {
  async scheduleActivity(input: ActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>) {
    const result = await next(input);
    const reason = refusalOf(result);
    if (reason !== undefined) throw refused(`the result of activity ${input.activityType}`, reason);
    return result;
  }

  async scheduleLocalActivity(
    input: LocalActivityInput,
    next: Next<WorkflowOutboundCallsInterceptor, 'scheduleLocalActivity'>,
  ) {
    const result = await next(input);
    const reason = refusalOf(result);
    if (reason !== undefined) throw refused(`the result of activity ${input.activityType}`, reason);
    return result;
  }
}

export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [new RefusedPayloadsInbound()],
  outbound: [new RefusedPayloadsOutbound()],
});
