/**
 * What every governance case does with its state: keep stage, status and
 * outcome; mirror them in search attributes (for auditors in Temporal UI);
 * write them to the read model with an audit event.
 */
import {
  allHandlersFinished,
  patched,
  ApplicationFailure,
  condition,
  getExternalWorkflowHandle,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { OpenCaseInput } from '../../activities';
import { CaseDataTracker } from '../../domain/caseData';
import type { CaseOutcome, CaseStatus } from '../../domain/cases';
import { childCaseSettledSignal, type CaseSnapshot } from '../definitions';
import { GovDueAt, GovGrade, GovOutcome, GovOwnerRole, GovProcess, GovRiskLevel, GovStage } from '../searchAttributes';
import { acts } from './activities';
import { recordChildFailuresWith, type ChildFailure } from './children';
import { itemsFinished } from './items';
import { markReady, nothingInFlight, registerSettledHandler, setStep, untilSettled } from './settle';
import { stepRefusal, type StepCall, type StepContract } from '../../contracts/core';

export interface ChangeOptions {
  actorId: string;
  action?: string;
  reason?: string;
  payload?: Record<string, unknown>;
}

/** patched() id: a step's answer waits for the close it caused (read-your-writes on the last step). */
const CLOSE_BEFORE_ANSWER = 'close-before-answer';

export class CaseRuntime {
  stage: string;
  status: CaseStatus = 'open';
  outcome?: CaseOutcome;
  dueAt?: string;
  /** Incident grade, mirrored as GovGrade; other processes leave it unset. */
  grade?: string;
  readonly openTaskIds = new Set<string>();
  /** Who took the latest human step, and everyone who took one: the preparers an approval must not include. */
  lastStepBy?: string;
  readonly stepTakers = new Set<string>();
  /**
   * Read-model writes, one after another. An Update handler and the main
   * flow may both change the case in one activation; run as concurrent
   * activities, the older write could commit last and the read model would
   * show a stage the case has left.
   */
  private writes: Promise<void> = Promise.resolve();
  /** What the read model holds of the case data: each write sends only what changed. */
  private data = new CaseDataTracker();

  private inOrder(write: () => Promise<void>): Promise<void> {
    const next = this.writes.then(write);
    this.writes = next.catch(() => undefined);
    return next;
  }

  constructor(readonly record: OpenCaseInput) {
    this.stage = record.stage;
    this.dueAt = record.dueAt;
    registerSettledHandler();
    recordChildFailuresWith((failure) => this.recordChildFailure(failure));
  }

  get caseId(): string {
    return this.record.caseId;
  }

  async open(): Promise<void> {
    this.mirror();
    // A copy: the first write must hold the data as it is now, whatever the
    // workflow changes before the activity is scheduled.
    const data = JSON.parse(JSON.stringify(this.record.data ?? {})) as Record<string, unknown>;
    this.data = new CaseDataTracker(data);
    await this.inOrder(() => acts.openCase({ ...this.record, data }));
    markReady(() => ({ stage: this.stage, status: this.status, openTaskIds: [...this.openTaskIds] }));
    // A case another case started tells it once it has settled (./children.ts):
    // the parent's call that started it answers only then.
    const parent = workflowInfo().parent;
    if (parent) {
      void untilSettled().then(() =>
        getExternalWorkflowHandle(parent.workflowId)
          .signal(childCaseSettledSignal, { workflowId: workflowInfo().workflowId })
          .catch(() => undefined),
      );
    }
  }

  async moveTo(
    stage: string,
    options: ChangeOptions & { dueAt?: string | null; riskLevel?: string; data?: Record<string, unknown> },
  ): Promise<void> {
    this.stage = stage;
    if (options.dueAt !== undefined) this.dueAt = options.dueAt ?? undefined;
    if (options.riskLevel) this.record.riskLevel = options.riskLevel;
    this.mirror();
    const dataDelta = options.data ? this.data.delta(options.data) : undefined;
    await this.inOrder(() =>
      acts.changeCase({
        caseId: this.caseId,
        actorId: options.actorId,
        action: options.action ?? 'case.stage_changed',
        reason: options.reason,
        patch: {
          stage,
          ...(options.dueAt !== undefined ? { dueAt: options.dueAt } : {}),
          ...(options.riskLevel ? { riskLevel: options.riskLevel } : {}),
          ...(dataDelta ? { dataDelta } : {}),
        },
        payload: options.payload,
      }),
    );
  }

  /** Records case data (the process's own details) without changing the stage. */
  async recordData(action: string, options: ChangeOptions & { data: Record<string, unknown> }): Promise<void> {
    const dataDelta = this.data.delta(options.data);
    await this.inOrder(() =>
      acts.changeCase({
        caseId: this.caseId,
        actorId: options.actorId,
        action,
        reason: options.reason,
        patch: dataDelta ? { dataDelta } : {},
        payload: options.payload,
      }),
    );
  }

  /**
   * A child workflow of this case failed or was terminated (./children.ts):
   * an audit row, and an entry in the data's `failedChildren`. The entry goes
   * straight into the row, not through the data tracker: the process's own
   * data never holds that key, so no later step unsets it.
   */
  async recordChildFailure(failure: ChildFailure): Promise<void> {
    await this.inOrder(() =>
      acts.changeCase({
        caseId: this.caseId,
        actorId: 'system',
        action: 'case.child_failed',
        reason: `${failure.kind} ${failure.workflowId}: ${failure.reason}`,
        patch: { dataDelta: { append: { failedChildren: [failure] } } },
        payload: { workflowId: failure.workflowId, kind: failure.kind },
      }),
    );
  }

  /** Sets the deadline people are working to, for Temporal UI filters; no DB write. */
  trackDeadline(dueAt: string | undefined): void {
    this.dueAt = dueAt;
    this.mirror();
  }

  async close(
    outcome: CaseOutcome,
    options: ChangeOptions & {
      data?: Record<string, unknown>;
      /** Runs once the close is written, before the handlers waiting on the case answer. */
      written?: () => void;
    },
  ): Promise<void> {
    // Let what a step or decision is still writing land before the close, so
    // the audit log reads in the order things happened. Its handler answers
    // only once the case has settled, i.e. after the close below: waiting
    // for the handler to finish here let it answer before the close was
    // written (cases recorded before this change replay the old order).
    const answerAfterClose = patched(CLOSE_BEFORE_ANSWER);
    // Before the patch, a case answered from what its close writes (the
    // supplier campaign, the one caller of `written`) did not wait at all.
    if (answerAfterClose) await condition(nothingInFlight);
    else if (!options.written) await condition(allHandlersFinished);
    await itemsFinished();
    this.stage = 'closed';
    this.status = 'closed';
    this.outcome = outcome;
    this.dueAt = undefined;
    this.mirror();
    const dataDelta = options.data ? this.data.delta(options.data) : undefined;
    await this.inOrder(() =>
      acts.changeCase({
        caseId: this.caseId,
        actorId: options.actorId,
        action: options.action ?? 'case.closed',
        reason: options.reason,
        patch: {
          stage: 'closed',
          status: 'closed',
          outcome,
          dueAt: null,
          ...(dataDelta ? { dataDelta } : {}),
        },
        payload: options.payload,
      }),
    );
    options.written?.();
    // Whoever is waiting for this case's answer gets it before the workflow ends.
    if (answerAfterClose) await condition(allHandlersFinished);
  }

  /**
   * Registers a human step from its contract. Its validator checks, before
   * history records anything: who may take it, the stage, and the input's
   * schema (contracts/core.ts `stepRefusal`), then the step's own domain
   * `rule`. The Update answers once the case has settled (./settle.ts).
   */
  step<I, R>(
    step: StepContract<string, string, I, R>,
    handler: (call: StepCall<I>) => Promise<R>,
    rule?: (call: StepCall<I>) => void,
  ): void {
    const recorded = (call: StepCall<I>) => {
      this.lastStepBy = call.actor.userId;
      this.stepTakers.add(call.actor.userId);
      return handler(call);
    };
    setStep(step.update, recorded, {
      validator: (call) => {
        const refusal = stepRefusal(
          step,
          {
            stage: this.stage,
            status: this.status,
            ownerId: this.record.ownerId,
            label: this.record.process.replace(/_/g, ' '),
          },
          call as StepCall<Record<string, unknown>>,
        );
        if (refusal) refuse(refusal.code, refusal.message);
        rule?.(call);
      },
    });
  }

  snapshot(): CaseSnapshot {
    return {
      caseId: this.caseId,
      stage: this.stage,
      status: this.status,
      outcome: this.outcome,
      openTaskIds: [...this.openTaskIds],
    };
  }

  private mirror(): void {
    upsertSearchAttributes([
      { key: GovProcess, value: this.record.process },
      { key: GovStage, value: this.stage },
      { key: GovRiskLevel, value: this.record.riskLevel ?? null },
      { key: GovOwnerRole, value: this.record.ownerRole ?? null },
      { key: GovDueAt, value: this.dueAt ? new Date(this.dueAt) : null },
      { key: GovOutcome, value: this.outcome ?? null },
      ...(this.grade ? [{ key: GovGrade, value: this.grade }] : []),
    ]);
  }
}

/** A refusal: the Update is rejected before history records it, and the API answers with the code's status. */
export function refuse(code: string, message: string): never {
  throw ApplicationFailure.create({ type: code, message, nonRetryable: true });
}
