/**
 * Starting a governance case: its workflow under the business-key id, with
 * the search attributes auditors filter on from the first moment. A business
 * key names one case for ever, so a second start (even after the first case
 * closed) is refused; callers turn that into their own 409 or "skipped".
 */
import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowStartOptions } from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
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

/** The run id of the new case, or null when a case with that id already exists. */
export async function startCaseWorkflow<W extends Workflow>(
  temporal: Client,
  start: CaseStart<W>,
): Promise<{ runId: string } | null> {
  const options = {
    taskQueue: start.taskQueue,
    workflowId: start.caseId,
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    typedSearchAttributes: [
      { key: GovProcess, value: start.process },
      { key: GovStage, value: start.stage },
      { key: GovOwnerRole, value: 'manager' },
      ...(start.riskLevel ? [{ key: GovRiskLevel, value: start.riskLevel }] : []),
      ...(start.grade ? [{ key: GovGrade, value: start.grade }] : []),
    ],
    args: start.args,
  } as unknown as WorkflowStartOptions<W>;
  try {
    const handle = await temporal.workflow.start<W>(start.workflowType, options);
    return { runId: handle.firstExecutionRunId };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return null;
    throw err;
  }
}
