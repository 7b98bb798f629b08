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
