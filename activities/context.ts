/** What an activity knows about the call it serves. */
import { Context } from '@temporalio/activity';

/** The workflow this activity runs for; these activities are never standalone. */
export function callingWorkflow(): { workflowId: string; runId: string } {
  const execution = Context.current().info.workflowExecution;
  if (!execution) throw new Error('governance activities must be called from a workflow');
  return execution;
}

/**
 * The idempotency key of an audited write: the same for every retry of one
 * activity call, different for every other call.
 */
export function activityKey(): string {
  const { workflowId, runId } = callingWorkflow();
  return `${workflowId}/${runId}/${Context.current().info.activityId}`;
}

/**
 * Runs `work` and heartbeats every few seconds until it ends: an activity that
 * waits on another system (a provider, a case settling) tells Temporal it is
 * alive, so a lost worker is noticed at the heartbeat timeout, not at the
 * activity's full timeout. `details` is what a retry finds in
 * `Context.current().info.heartbeatDetails`.
 */
export async function whileHeartbeating<T>(work: Promise<T>, details?: () => unknown): Promise<T> {
  const context = Context.current();
  const beat = () => context.heartbeat(details?.());
  beat();
  const timer = setInterval(beat, 5_000);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}
