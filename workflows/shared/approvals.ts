/**
 * The approval step every process uses: open a task, wait for decisions
 * delivered as Updates, remind, escalate, and end with an explicit outcome if
 * nobody decides by the final deadline.
 */
import { ApplicationFailure, condition, workflowInfo } from '@temporalio/workflow';
import {
  checkDecision,
  conditionsOf,
  STANDARD_APPROVAL_POLICY,
  tally,
  type ApprovalPolicy,
  type ApprovalStatus,
  type ApprovalTaskState,
  type ApprovalVote,
  type BarredApprover,
  votingFunction,
} from '../../domain/approval';
import type { CaseOutcome } from '../../domain/cases';
import type { ApprovalTimings } from '../../domain/deadlines';
import { parseDuration } from '../../domain/durations';
import type { Role } from '../../domain/roles';
import { decideUpdate, type DecideInput, type DecideResult } from '../definitions';
import { inputRefusal } from '../../contracts/core';
import { taskContract } from '../../contracts/tasks';
import { acts } from './activities';
import { itemOwners } from './items';
import { climbLadder } from './humanSteps';
import type { CaseRuntime } from './caseRuntime';
import { setStep } from './settle';

export interface ApprovalRequest {
  /** Unique within the case, e.g. "approval". */
  name: string;
  title: string;
  candidateRoles: Role[];
  approvalsRequired: number;
  excludedUserIds: string[];
  /** Why people are barred (who did what); those named only in excludedUserIds are barred as its starter, owner or preparer. */
  barred?: BarredApprover[];
  timings: ApprovalTimings;
  /** The decisions this process offers; the standard approve/conditions/reject when absent. */
  policy?: ApprovalPolicy;
}

export interface ApprovalOutcome {
  taskId: string;
  status: CaseOutcome;
  votes: ApprovalVote[];
  conditions: string[];
}

interface PendingApproval {
  state: ApprovalTaskState;
  /** The task row exists in the read model; decisions write to it only then. */
  opened: boolean;
  /** Decisions accepted but whose read-model write has not finished yet. */
  writesInFlight: number;
}

export class ApprovalDesk {
  private readonly approvals = new Map<string, PendingApproval>();

  constructor(private readonly caseRuntime: CaseRuntime) {
    setStep(decideUpdate, (input) => this.decide(input), {
      validator: (input) => {
        const { actor, ...rest } = input;
        const refusal =
          inputRefusal(taskContract.steps.decision, rest) ??
          checkDecision(this.approvals.get(input?.taskId)?.state, actor, input);
        if (refusal)
          throw ApplicationFailure.create({
            type: refusal.code,
            message: refusal.message,
            nonRetryable: true,
            ...('details' in refusal && refusal.details ? { details: [refusal.details] } : {}),
          });
      },
    });
  }

  taskIdFor(name: string): string {
    return `${workflowInfo().workflowId}:${name}`;
  }

  async request(request: ApprovalRequest): Promise<ApprovalOutcome> {
    const taskId = this.taskIdFor(request.name);
    const caseId = this.caseRuntime.caseId;
    const escalateAt = Date.now() + parseDuration(request.timings.escalateAfter);
    // Whoever prepared what is approved may not approve it: everyone who took
    // a step of this case so far (the engine records them), besides whom
    // the process names.
    const barredFor: Record<string, string[]> = {};
    for (const { userId, reasons } of request.barred ?? []) barredFor[userId] = [...reasons];
    for (const id of request.excludedUserIds) barredFor[id] ??= ['started, own or prepared this case'];
    for (const id of this.caseRuntime.stepTakers) barredFor[id] ??= ['took a step of this case'];
    for (const id of itemOwners()) barredFor[id] ??= ['own one of its rectification items'];
    const excludedUserIds = [...new Set([...request.excludedUserIds, ...this.caseRuntime.stepTakers, ...itemOwners()])];

    const pending: PendingApproval = {
      state: {
        taskId,
        status: 'open',
        candidateRoles: request.candidateRoles,
        excludedUserIds,
        barredFor,
        approvalsRequired: request.approvalsRequired,
        votes: [],
        ...(request.policy ? { policy: request.policy } : {}),
      },
      opened: false,
      writesInFlight: 0,
    };
    // Accept decisions from the moment the task can be seen in the read
    // model: the API finds the task there, then sends its Update.
    this.approvals.set(taskId, pending);
    this.caseRuntime.openTaskIds.add(taskId);
    await acts.openTask({
      taskId,
      caseId,
      kind: 'approval',
      title: request.title,
      candidateRoles: request.candidateRoles,
      excludedUserIds,
      approvalsRequired: request.approvalsRequired,
      allowedDecisions: (request.policy ?? STANDARD_APPROVAL_POLICY).decisions,
      dueAt: new Date(escalateAt).toISOString(),
      actorId: 'system',
    });
    pending.opened = true;

    const decided = () => pending.state.status !== 'open';
    const outcome = await climbLadder(this.caseRuntime, {
      taskId,
      title: request.title,
      recipientRoles: request.candidateRoles,
      timings: request.timings,
      done: decided,
      awaiting: 'your decision',
      kind: 'approval',
    });
    if (outcome === 'expired') {
      // Explicit outcome: nobody decided, so the request lapses; it is never
      // approved by default.
      pending.state.status = 'expired';
      await acts.changeTask({
        taskId,
        caseId,
        actorId: 'system',
        action: 'approval.expired',
        reason: 'no decision by the final deadline',
        patch: { status: 'expired' },
      });
    }
    await condition(() => pending.writesInFlight === 0);
    this.caseRuntime.openTaskIds.delete(taskId);
    const { status, votes } = pending.state;
    return {
      taskId,
      status: status as CaseOutcome,
      votes: [...votes],
      conditions: conditionsOf(pending.state),
    };
  }

  private async decide(input: DecideInput): Promise<DecideResult> {
    const pending = this.approvals.get(input.taskId)!;
    const { state } = pending;
    const fn = votingFunction(state, input.actor, input.decision);
    const vote: ApprovalVote = {
      userId: input.actor.userId,
      ...(fn ? { function: fn } : {}),
      decision: input.decision,
      ...(input.comment ? { comment: input.comment } : {}),
      ...(input.conditions?.length ? { conditions: input.conditions } : {}),
      at: new Date().toISOString(),
    };
    // State changes synchronously, before the first await, so a second
    // Update in the same activation is validated against it.
    state.votes.push(vote);
    state.status = tally(state);
    pending.writesInFlight += 1;
    try {
      await condition(() => pending.opened);
      const finished = state.status !== 'open';
      await acts.changeTask({
        taskId: input.taskId,
        caseId: this.caseRuntime.caseId,
        actorId: input.actor.userId,
        action: finished ? 'approval.decided' : 'approval.vote_recorded',
        reason: input.comment,
        patch: {
          status: finished ? (state.status === 'expired' ? 'expired' : 'done') : 'open',
          votes: [...state.votes],
          ...(finished ? { decision: state.status, decidedBy: input.actor.userId, decidedAt: vote.at } : {}),
          comment: input.comment,
        },
        payload: { vote: input.decision, conditions: input.conditions ?? [], requestId: input.requestId ?? null },
      });
    } finally {
      pending.writesInFlight -= 1;
    }
    return { taskId: input.taskId, status: state.status, votes: [...state.votes] };
  }
}
