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
} from '../../domain/approval';
import type { CaseOutcome } from '../../domain/cases';
import type { ApprovalTimings } from '../../domain/deadlines';
import { parseDuration } from '../../domain/durations';
import { ESCALATION_ROLE, type Role } from '../../domain/roles';
import { decideUpdate, type DecideInput, type DecideResult } from '../definitions';
import { acts } from './activities';
import type { CaseRuntime } from './caseRuntime';
import { setStep } from './settle';

export interface ApprovalRequest {
  /** Unique within the case, e.g. "approval". */
  name: string;
  title: string;
  candidateRoles: Role[];
  approvalsRequired: number;
  excludedUserIds: string[];
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
        const refusal = checkDecision(this.approvals.get(input?.taskId)?.state, input.actor, input);
        if (refusal)
          throw ApplicationFailure.create({ type: refusal.code, message: refusal.message, nonRetryable: true });
      },
    });
  }

  taskIdFor(name: string): string {
    return `${workflowInfo().workflowId}:${name}`;
  }

  async request(request: ApprovalRequest): Promise<ApprovalOutcome> {
    const taskId = this.taskIdFor(request.name);
    const caseId = this.caseRuntime.caseId;
    const openedAt = Date.now();
    const [remindAt, escalateAt, expireAt] = [
      request.timings.remindAfter,
      request.timings.escalateAfter,
      request.timings.expireAfter,
    ].map((d) => openedAt + parseDuration(d)) as [number, number, number];

    const pending: PendingApproval = {
      state: {
        taskId,
        status: 'open',
        candidateRoles: request.candidateRoles,
        excludedUserIds: request.excludedUserIds,
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
      excludedUserIds: request.excludedUserIds,
      approvalsRequired: request.approvalsRequired,
      allowedDecisions: (request.policy ?? STANDARD_APPROVAL_POLICY).decisions,
      dueAt: new Date(escalateAt).toISOString(),
      actorId: 'system',
    });
    pending.opened = true;
    this.caseRuntime.trackDeadline(new Date(escalateAt).toISOString());

    const decided = () => pending.state.status !== 'open';
    const recipients = request.candidateRoles;

    if (!(await condition(decided, remindAt - Date.now()))) {
      for (const role of recipients) {
        await acts.notify({
          caseId,
          taskId,
          kind: 'reminder',
          recipientRole: role,
          message: `Reminder: "${request.title}" awaits your decision by ${new Date(escalateAt).toISOString()}`,
        });
      }
      await acts.changeTask({
        taskId,
        caseId,
        actorId: 'system',
        action: 'approval.reminded',
        patch: { remindedAt: new Date().toISOString() },
      });
    }
    if (!(await condition(decided, escalateAt - Date.now()))) {
      const escalatedTo = ESCALATION_ROLE[recipients[0] ?? 'approver'];
      await acts.notify({
        caseId,
        taskId,
        kind: 'escalation',
        recipientRole: escalatedTo,
        message: `Escalation: "${request.title}" was not decided by its deadline; it expires at ${new Date(expireAt).toISOString()}`,
      });
      await acts.changeTask({
        taskId,
        caseId,
        actorId: 'system',
        action: 'approval.escalated',
        patch: { escalatedAt: new Date().toISOString(), escalatedTo, dueAt: new Date(expireAt).toISOString() },
      });
      this.caseRuntime.trackDeadline(new Date(expireAt).toISOString());
    }
    if (!(await condition(decided, expireAt - Date.now()))) {
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
    const vote: ApprovalVote = {
      userId: input.actor.userId,
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
