/**
 * Child workflows as their parent case sees them.
 *
 * - A child case (an incident raised from a complaint) outlives its parent:
 *   it is started under its own business-key id with parentClosePolicy
 *   ABANDON, and the parent's call that started it answers only once the
 *   child has settled, which the child tells it (childCaseSettledSignal, sent
 *   by CaseRuntime.open). Until then the parent is not settled either.
 * - A child that fails or is terminated (a rectification item, a child case)
 *   is recorded on the parent case, an audit row and an entry in its data's
 *   `failedChildren`, so nothing waits for it for ever and an auditor sees
 *   why.
 */
import type { SearchAttributePair } from '@temporalio/common';
import { condition, setHandler, startChild } from '@temporalio/workflow';
import { childCaseSettledSignal } from '../definitions';
import { hold } from './settle';

export interface ChildFailure {
  workflowId: string;
  /** What the child was to the case: 'rectification', 'incident'… */
  kind: string;
  /** What ended it: the termination's reason, the failure's message, a timeout. */
  reason: string;
  at: string;
}

let recorder: ((failure: ChildFailure) => Promise<void>) | undefined;

/** How the case writes a failed child to its read model (CaseRuntime registers it). */
export function recordChildFailuresWith(record: (failure: ChildFailure) => Promise<void>): void {
  recorder = record;
}

const ENDINGS: Record<string, string> = {
  TerminatedFailure: 'terminated',
  TimeoutFailure: 'timed out',
  CancelledFailure: 'cancelled',
};

/**
 * The reason a child ended, from the ChildWorkflowFailure that says so: how
 * it ended (a termination's own reason does not reach the parent), or the
 * message of the failure that ended it.
 */
export function childFailureReason(err: unknown): string {
  let reason = '';
  for (let current = err as { name?: string; message?: string; cause?: unknown } | undefined; current;) {
    const ending = current.name ? ENDINGS[current.name] : undefined;
    if (ending) return ending;
    if (current.message) reason = current.message;
    current = current.cause as typeof current;
  }
  return reason || 'ended without a result';
}

/** Records on the parent case that a child failed or was terminated. */
export async function recordChildFailure(workflowId: string, kind: string, err: unknown): Promise<ChildFailure> {
  const failure: ChildFailure = { workflowId, kind, reason: childFailureReason(err), at: new Date().toISOString() };
  await recorder?.(failure);
  return failure;
}

const settledChildren = new Set<string>();
let listening = false;

function listen(): void {
  if (listening) return;
  listening = true;
  setHandler(childCaseSettledSignal, ({ workflowId }) => {
    settledChildren.add(workflowId);
  });
}

export interface ChildCaseStart {
  workflowType: string;
  /** The child case's id, from its business key: a second start under it is refused. */
  workflowId: string;
  args: unknown[];
  /** What the child is to the parent, in its failure record. */
  kind: string;
  searchAttributes?: SearchAttributePair[];
}

export type ChildCaseStarted = (
  | { settled: true; workflowId: string }
  /** The child ended (failed, terminated) before it settled; the failure is recorded. */
  | { settled: false; workflowId: string; failure: ChildFailure }
) & {
  /** Resolves when the child case ends, however it ends (a failure is recorded on this case). */
  ended: Promise<void>;
};

/**
 * Starts a case as a child that outlives this one, and returns once the child
 * has settled. Rejects, with nothing started, when a workflow with its id
 * exists already (WorkflowExecutionAlreadyStartedError). A failure of the
 * child while this case runs, before or after it settled, is recorded here.
 */
export async function startChildCase(start: ChildCaseStart): Promise<ChildCaseStarted> {
  listen();
  const release = hold();
  try {
    const handle = await startChild(start.workflowType, {
      workflowId: start.workflowId,
      args: start.args,
      parentClosePolicy: 'ABANDON',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      ...(start.searchAttributes ? { typedSearchAttributes: start.searchAttributes } : {}),
    });
    const failed = handle.result().then(
      () => undefined,
      (err: unknown) => recordChildFailure(start.workflowId, start.kind, err),
    );
    const settled = condition(() => settledChildren.has(start.workflowId)).then(() => undefined);
    const failure = await Promise.race([settled, failed]);
    const ended = failed.then(() => undefined);
    return failure && !settledChildren.has(start.workflowId)
      ? { settled: false, workflowId: start.workflowId, failure, ended }
      : { settled: true, workflowId: start.workflowId, ended };
  } finally {
    release();
  }
}
