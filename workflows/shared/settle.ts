/**
 * Read-your-writes for every case. A mutating API call returns only once the
 * read model shows its effect and the tasks it opened can be acted on, so a
 * client may send the next step at once and never polls.
 *
 * A case is *settled* when nothing it started is still in flight: no
 * activity (every read-model write is one), and no rectification item that
 * has been started but has not yet written its task row. Whatever a step
 * sets in motion, the main flow reaches its next await in the same
 * activation, so it is either waiting for a person or a timer (settled), or
 * has started something this module counts (not settled).
 *
 * Module state is per workflow execution: the SDK gives each execution its
 * own module cache, even with a reused V8 context.
 */
import type { UpdateDefinition } from '@temporalio/common';
import { condition, setHandler, workflowInfo } from '@temporalio/workflow';
import { settledUpdate, type SettledResult } from '../definitions';

let inFlight = 0;
let ready = false;
type CaseView = Omit<SettledResult, 'runId'>;
let snapshot: () => CaseView = () => ({ stage: 'starting', status: 'open', openTaskIds: [] });

export const isSettled = () => ready && inFlight === 0;
/** No activity or item start of this case is under way (whether or not it has opened yet). */
export const nothingInFlight = () => inFlight === 0;

/** Counts a piece of work the case has started until it finishes, however it finishes. */
export function track<T>(work: Promise<T>): Promise<T> {
  inFlight += 1;
  return work.finally(() => {
    inFlight -= 1;
  });
}

/** Holds a count until `release` is called: for work whose end another event reports. */
export function hold(): () => void {
  inFlight += 1;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    inFlight -= 1;
  };
}

/**
 * The SDK evaluates a condition at once when it is created, and then in
 * rounds: each round resolves every condition that holds, then runs what
 * they resumed until it awaits again. A step's handler is resumed in the
 * same round as the main flow it woke, before the main flow has started
 * what comes next; so "nothing in flight" is trusted only once it has held
 * for STABLE_ROUNDS rounds in a row (a wake-up may wake another coroutine
 * in the next round). Rounds issue no commands: nothing reaches history.
 */
const STABLE_ROUNDS = 3;

/** Resolves in the next round with what `check` says then. */
function nextRound(check: () => boolean): Promise<boolean> {
  let created = true;
  let result = false;
  return condition(() => {
    if (created) {
      created = false;
      return false;
    }
    result = check();
    return true;
  }).then(() => result);
}

/**
 * No timer here: a timer would add events to history at every step. What is
 * in flight always ends: activities end or retry until the database is
 * back, and an item that fails releases its hold (./items.ts).
 */
export async function untilSettled(): Promise<void> {
  for (;;) {
    await condition(isSettled);
    let stable = true;
    for (let round = 0; stable && round < STABLE_ROUNDS; round++) stable = await nextRound(isSettled);
    if (stable) return;
  }
}

/**
 * Called once the case's first read-model row is written. The `settled`
 * Update (sent with the start, or after a step taken on a child item)
 * returns the case as the read model now shows it.
 */
export function markReady(describe: () => CaseView): void {
  snapshot = describe;
  ready = true;
}

export function registerSettledHandler(): void {
  setHandler(settledUpdate, async () => {
    await untilSettled();
    return { ...snapshot(), runId: workflowInfo().runId };
  });
}

/**
 * Registers a human step: the Update's answer is sent only when the case has
 * settled, so the caller's next read shows the step and everything it set in
 * motion. A `stage` in the answer is read after settling, for the same reason.
 */
export function setStep<Ret, Args extends unknown[]>(
  update: UpdateDefinition<Ret, Args>,
  handler: (...args: Args) => Promise<Ret>,
  options: { validator: (...args: Args) => void },
): void {
  setHandler(
    update,
    async (...args: Args) => {
      const result = await handler(...args);
      await untilSettled();
      if (result && typeof result === 'object' && 'stage' in result) {
        return { ...result, stage: snapshot().stage } as Ret;
      }
      return result;
    },
    options,
  );
}
