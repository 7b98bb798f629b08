/**
 * Rectification items (整改项) as seen from their parent case. Each item is a
 * child workflow that writes its own task row and tells the parent when that
 * row is open and when the item is verified (rectificationItemSignal):
 *
 * - until the row is open, the parent is not settled, so the call that
 *   created the item returns only once its owner can act on it;
 * - the parent learns of the verification before the verifying call
 *   returns, so a close-out sent right after it sees no open item;
 * - an item whose workflow fails or is terminated is recorded on the parent
 *   case (./children.ts), its task row is closed as failed, and it counts as
 *   closed with status 'failed': the case goes on, it does not wait for ever.
 */
import { condition, setHandler, startChild } from '@temporalio/workflow';
import { rectificationItemSignal, type RectificationItemEvent } from '../definitions';
import {
  rectificationItemWorkflow,
  type RectificationItemInput,
  type RectificationItemResult,
} from '../rectificationItem';
import { acts } from './activities';
import { childFailureReason, recordChildFailure } from './children';
import { hold, track } from './settle';

const opening = new Map<string, () => void>();
const opened = new Set<string>();
const verified = new Map<string, RectificationItemResult>();
/** Items that told us they are verified: the case waits for them to finish before it closes. */
const finishing: Array<Promise<unknown>> = [];
let listening = false;
/** Whoever owns one of this case's items prepared part of what its approvals judge. */
const owners = new Set<string>();

/** The owners of every item this case has started, in order. */
export function itemOwners(): string[] {
  return [...owners];
}

function listen(): void {
  if (listening) return;
  listening = true;
  setHandler(rectificationItemSignal, ({ taskId, event, result }: RectificationItemEvent) => {
    if (event === 'opened') {
      opened.add(taskId);
      opening.get(taskId)?.();
    } else if (result) {
      verified.set(taskId, result);
    }
  });
}

export interface ItemHandle {
  taskId: string;
  /** Resolves when the item is verified, or, with status 'failed', when its workflow fails or is terminated. */
  closed: Promise<RectificationItemResult>;
}

export interface ItemStart {
  /** The item's task id, which is its workflow id. */
  workflowId: string;
  args: [RectificationItemInput];
}

export async function startItem(options: ItemStart): Promise<ItemHandle> {
  listen();
  const taskId = options.workflowId;
  owners.add(options.args[0].ownerId);
  const release = hold();
  opening.set(taskId, release);
  if (opened.has(taskId)) release();
  const handle = await track(
    startChild(rectificationItemWorkflow, { workflowId: options.workflowId, args: options.args }),
  );
  const result = handle.result();
  // An item that ends without saying its row is open (it failed) must not hold the case.
  void result.then(release, release);
  const ended = result.catch(async (err: unknown): Promise<RectificationItemResult> => {
    // Its task row first, so no one is left acting on an item that is gone; then the case's record.
    await acts.changeTask({
      taskId,
      caseId: options.args[0].parentCaseId,
      actorId: 'system',
      action: 'rectification.failed',
      reason: childFailureReason(err),
      patch: { status: 'failed' },
    });
    await recordChildFailure(taskId, 'rectification', err);
    return { taskId, status: 'failed', submissions: 0, verifiedBy: '' };
  });
  const closed = Promise.race([
    ended,
    condition(() => verified.has(taskId)).then(() => {
      finishing.push(result.catch(() => undefined));
      return verified.get(taskId)!;
    }),
  ]);
  return { taskId, closed };
}

/** Starts an item and waits until it is verified. */
export async function executeItem(options: ItemStart): Promise<RectificationItemResult> {
  return (await startItem(options)).closed;
}

/** Lets verified items finish their workflows, so the case never closes over a running child. */
export async function itemsFinished(): Promise<void> {
  await track(Promise.all(finishing));
}
