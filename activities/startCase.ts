/**
 * Starting a governance case: its workflow under the business-key id, with
 * the search attributes auditors filter on from the first moment. A business
 * key names one case for ever, so a second start (even after the first case
 * closed) is refused; callers turn that into their own 409 or "skipped".
 */
import {
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  type Client,
  type WorkflowStartOptions,
} from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import { settledUpdate, type SettledResult } from '../workflows/definitions';
import { GovGrade, GovOwnerRole, GovProcess, GovRiskLevel, GovStage } from '../workflows/searchAttributes';

export interface CaseStart<W extends Workflow> {
  workflowType: string;
  caseId: string;
  taskQueue: string;
  process: string;
  stage: string;
  riskLevel?: string;
  grade?: string;
  args: Parameters<W>;
}

/**
 * Starts the case and returns once it has settled: its read-model row and
 * the tasks it opened first exist, so the caller's next step can be sent at
 * once. One call to Temporal (update-with-start), not a start and a poll.
 * Null when a case with that id already exists.
 */
export async function startCaseWorkflow<W extends Workflow>(
  temporal: Client,
  start: CaseStart<W>,
): Promise<SettledResult | null> {
  const options = {
    taskQueue: start.taskQueue,
    workflowId: start.caseId,
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    workflowIdConflictPolicy: 'FAIL',
    typedSearchAttributes: [
      { key: GovProcess, value: start.process },
      { key: GovStage, value: start.stage },
      { key: GovOwnerRole, value: 'manager' },
      ...(start.riskLevel ? [{ key: GovRiskLevel, value: start.riskLevel }] : []),
      ...(start.grade ? [{ key: GovGrade, value: start.grade }] : []),
    ],
    args: start.args,
  } as unknown as WorkflowStartOptions<W> & { workflowIdConflictPolicy: 'FAIL' };
  const startWorkflowOperation = new WithStartWorkflowOperation<W>(start.workflowType, options);
  try {
    return await temporal.workflow.executeUpdateWithStart(settledUpdate, { startWorkflowOperation });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return null;
    throw err;
  }
}
