/**
 * Emergency drill follow-up (应急演练), DOMAIN.md §4: plan (scenario, date,
 * participants) → approval → conduct → evaluation against the standard
 * (command, information reporting, resource dispatch, public-opinion
 * response) → findings as rectification items, waited on to closure →
 * summary report (应急演练总结报告) approved → a plan revision opened where the
 * drill calls for one → closed. Every step the organisers owe (the plan, the
 * conduct record, the evaluation, the summary) is a task with a deadline
 * ladder (./shared/humanSteps.ts); the conduct's final deadline is the
 * drill's due date (the end of the year). Its steps, stages and id:
 * contracts/drill.ts; both approvals show the stage awaiting_approval.
 */
import { condition, patched, setHandler } from '@temporalio/workflow';
import { SHARED_STAGES } from '../contracts/core';
import { drillContract, drillKey, type DrillStage } from '../contracts/drill';
import { STANDARD_APPROVAL_POLICY, type ApprovalPolicy } from '../domain/approval';
import type { ApprovalTimings, RectificationTimings, StepTimings } from '../domain/deadlines';
import { ladderEndingAt } from '../domain/deadlines';
import { parseDuration } from '../domain/durations';
import {
  drillApprovalBarred,
  evaluateDrill,
  revisionRequired,
  type DrillEvaluation,
  type DrillScores,
  type DrillSummary,
} from '../domain/drills';
import { DEFAULT_POLICY, type PolicySnapshot } from '../domain/policy';
import { DEFAULT_VERIFIER_ROLES } from '../domain/rectification';
import { APPROVER_ROLES, type Role } from '../domain/roles';
import { caseSnapshotQuery } from './definitions';
import { acts } from './shared/activities';
import { executeItem } from './shared/items';
import { ApprovalDesk } from './shared/approvals';
import { CaseRuntime, refuse } from './shared/caseRuntime';
import { awaitStep } from './shared/humanSteps';

export interface DrillInput {
  caseId: string;
  planId: string;
  planTitle: string;
  year: number;
  ownerId: string;
  initiatorId: string;
  dueAt: string;
  /**
   * The policy the drill runs under (its ladders and pass marks). Absent in
   * drills started before policies existed (they keep the defaults) and in
   * drills started without it (the programme, a plan's revision): those read
   * the policy in force as they open.
   */
  policy?: PolicySnapshot;
  /** Per-case overrides of the policy's clocks, where the deployment allows them (api/caseTimings.ts). */
  timings?: {
    /** From opening to the due date (by which the drill is conducted); the activity turns it into `dueAt`. */
    dueIn?: string;
    /** Overrides the ladder of the plan, evaluation and summary steps (the conduct's ends at the due date). */
    step?: Partial<StepTimings>;
    approval?: Partial<ApprovalTimings>;
    rectification?: Partial<RectificationTimings>;
  };
}

export interface DrillData extends Record<string, unknown> {
  planId: string;
  year: number;
  dueAt: string;
  plan: { scenario: string; scheduledAt: string; participants: string[]; by: string } | null;
  conduct: { startedAt: string; endedAt: string; observations: string; by: string } | null;
  scores: DrillScores | null;
  evaluation: DrillEvaluation | null;
  /** Who scored the drill; absent in drills evaluated before it was recorded. */
  evaluatedBy?: string | null;
  findings: Array<{ title: string; ownerId: string; taskId: string }>;
  summary: (DrillSummary & { by: string; at: string }) | null;
  revision: { required: boolean; reason: string | null; caseId: string | null } | null;
  overdue: boolean;
}

const DRILL_APPROVAL_POLICY: ApprovalPolicy = {
  ...STANDARD_APPROVAL_POLICY,
  decisions: ['approve', 'reject'],
  needsConditions: [],
};

/** patched() id: a drill started without a policy reads the one in force as it opens. */
export const DRILL_READS_POLICY = 'drill-reads-policy';

export async function drillWorkflow(
  input: DrillInput,
): Promise<{ passed: boolean; findings: number; revisionCaseId: string | null }> {
  const drill: DrillData = {
    planId: input.planId,
    year: input.year,
    dueAt: input.dueAt,
    plan: null,
    conduct: null,
    scores: null,
    evaluation: null,
    evaluatedBy: null,
    findings: [],
    summary: null,
    revision: null,
    overdue: false,
  };
  const caseRuntime = new CaseRuntime({
    caseId: input.caseId,
    process: 'drill',
    businessKey: drillKey(input.planId, input.year),
    title: `Drill ${input.year}: ${input.planTitle}`,
    stage: 'planning' satisfies DrillStage,
    initiatorId: input.initiatorId,
    ownerId: input.ownerId,
    ownerRole: 'manager',
    dueAt: input.dueAt,
    subjectType: 'emergency_plan',
    subjectId: input.planId,
    data: drill,
  });
  setHandler(caseSnapshotQuery, () => caseRuntime.snapshot());
  const desk = new ApprovalDesk(caseRuntime);
  /** Findings to open as rectification items once the evaluation is in. */
  let pendingFindings: Array<{ title: string; ownerId: string; dueIn?: string }> = [];
  /** The policy's clocks and pass marks, known once the case opens (below). */
  let policy = DEFAULT_POLICY;
  // Typed by the contract's stages, so a stage the contract does not name is a compile error.
  const moveTo = (stage: DrillStage, options: Parameters<CaseRuntime['moveTo']>[1]) =>
    caseRuntime.moveTo(stage, options);
  const { steps } = drillContract;
  /** A step the organisers owe: the plan owner's task, open to whoever else the contract lets take it. */
  const organisersStep = (
    step: { roles: readonly Role[] },
    wait: { name: string; title: string; timings: StepTimings; done: () => boolean },
  ) =>
    awaitStep(caseRuntime, {
      ...wait,
      title: `${wait.title}: ${input.planTitle} ${input.year}`,
      assigneeId: input.ownerId,
      candidateRoles: [...step.roles],
    });
  const stepTimings = (ladder: StepTimings) => ({ ...ladder, ...input.timings?.step });
  const approvalTimings = () => ({ ...policy.approval, ...input.timings?.approval });
  /** Who may not approve what the drill's organisers prepared, and why (segregation of duties). */
  const barred = () =>
    drillApprovalBarred({
      ownerId: input.ownerId,
      initiatorId: input.initiatorId,
      plannedBy: drill.plan?.by,
      conductedBy: drill.conduct?.by,
      evaluatedBy: drill.evaluatedBy,
      summarisedBy: drill.summary?.by,
    });

  // Who takes each step, in which stage, with what input: the contract. The
  // rules below are what it cannot say: each step is taken once per round,
  // and a drill ends after it starts.
  caseRuntime.step(
    steps.plan,
    async ({ actor, scenario, scheduledAt, participants }) => {
      drill.plan = { scenario: scenario.trim(), scheduledAt, participants, by: actor.userId };
      await caseRuntime.recordData('drill.planned', { actorId: actor.userId, data: drill });
      return { stage: caseRuntime.stage };
    },
    () => {
      if (drill.plan) refuse('WRONG_STAGE', 'the drill is already planned');
    },
  );
  caseRuntime.step(
    steps.conduct,
    async ({ actor, startedAt, endedAt, observations }) => {
      drill.conduct = { startedAt, endedAt, observations: observations.trim(), by: actor.userId };
      await caseRuntime.recordData('drill.conducted', { actorId: actor.userId, data: drill });
      return { stage: caseRuntime.stage };
    },
    ({ startedAt, endedAt }) => {
      if (drill.conduct) refuse('WRONG_STAGE', 'the conduct is already recorded');
      if (Date.parse(endedAt) < Date.parse(startedAt))
        refuse('INVALID_DRILL', 'the conduct needs endedAt not before startedAt');
    },
  );
  caseRuntime.step(
    steps.evaluation,
    async ({ actor, scores, findings }) => {
      drill.scores = scores;
      // Scored against the pass marks of the policy the drill runs under.
      drill.evaluation = evaluateDrill(drill.scores, policy.drill);
      drill.evaluatedBy = actor.userId;
      drill.findings = findings.map((f, i) => ({
        title: f.title.trim(),
        ownerId: f.ownerId,
        taskId: `${input.caseId}:rectification:${i + 1}`,
      }));
      pendingFindings = findings;
      await caseRuntime.recordData('drill.evaluated', {
        actorId: actor.userId,
        data: drill,
        payload: {
          overall: drill.evaluation.overall,
          overallPassMark: drill.evaluation.overallPassMark,
          passed: drill.evaluation.passed,
          failedModules: drill.evaluation.failedModules,
        },
      });
      return { stage: caseRuntime.stage };
    },
    () => {
      if (drill.scores) refuse('WRONG_STAGE', 'the drill is already evaluated');
    },
  );
  caseRuntime.step(
    steps.summary,
    async ({ actor, ...summary }) => {
      drill.summary = { ...summary, by: actor.userId, at: new Date().toISOString() };
      await caseRuntime.recordData('drill.summary_submitted', { actorId: actor.userId, data: drill });
      return { stage: caseRuntime.stage };
    },
    () => {
      if (drill.summary) refuse('WRONG_STAGE', 'the summary is already submitted');
    },
  );
  // The API passes the policy in force; a drill the programme or a revision
  // opens reads it here (drills recorded before policies keep the defaults).
  const snapshot = input.policy ?? (patched(DRILL_READS_POLICY) ? await acts.currentPolicy() : undefined);
  if (snapshot) {
    policy = snapshot.values;
    caseRuntime.record.policyVersion = snapshot.version;
  }
  await caseRuntime.open();

  // Planned, then approved (not by its organisers) before it is conducted.
  for (let round = 1; ; round++) {
    await organisersStep(steps.plan, {
      name: `plan-${round}`,
      title: 'Plan the drill',
      timings: stepTimings(policy.drill.planning),
      done: () => !!drill.plan,
    });
    const planBarred = barred();
    await moveTo(SHARED_STAGES.awaitingApproval, {
      actorId: drill.plan!.by,
      action: 'drill.submitted_for_approval',
      payload: { barred: planBarred },
    });
    const approval = await desk.request({
      name: `plan-approval-${round}`,
      title: `Approve the drill plan: ${input.planTitle} ${input.year}`,
      candidateRoles: [...APPROVER_ROLES],
      approvalsRequired: 1,
      excludedUserIds: planBarred.map((b) => b.userId),
      barred: planBarred,
      timings: approvalTimings(),
      policy: DRILL_APPROVAL_POLICY,
    });
    if (approval.status === 'approved') break;
    drill.plan = null;
    await moveTo('planning', {
      actorId: approval.votes.at(-1)?.userId ?? 'system',
      action: 'drill.plan_returned',
      reason: approval.votes.at(-1)?.comment ?? approval.status,
      data: drill,
    });
  }

  // Conducted by the due date: reminded and escalated before it, overdue
  // (admin told) at it, and still owed after it.
  await moveTo('conduct', { actorId: 'system', dueAt: input.dueAt, data: drill });
  const dueMs = Date.parse(input.dueAt);
  const conducted = organisersStep(steps.conduct, {
    name: 'conduct',
    title: `Conduct the drill and record it by ${input.dueAt}`,
    timings: ladderEndingAt(Date.now(), dueMs, policy.drill.conductLead),
    done: () => !!drill.conduct,
  });
  // The drill itself records that it was late, for its summary report.
  if (!(await condition(() => !!drill.conduct, Math.max(1, dueMs - Date.now())))) {
    drill.overdue = true;
    await caseRuntime.recordData('drill.overdue', {
      actorId: 'system',
      data: drill,
      reason: `not conducted by ${input.dueAt}`,
    });
  }
  await conducted;

  await moveTo('evaluation', { actorId: 'system', dueAt: null, data: drill });
  await organisersStep(steps.evaluation, {
    name: 'evaluation',
    title: 'Evaluate the drill',
    timings: stepTimings(policy.step),
    done: () => !!drill.evaluation,
  });
  if (pendingFindings.length) {
    const timings = { ...policy.rectification, ...input.timings?.rectification };
    await moveTo(SHARED_STAGES.rectification, { actorId: 'system', data: drill });
    await Promise.all(
      pendingFindings.map((f, i) =>
        executeItem({
          workflowId: drill.findings[i]!.taskId,
          args: [
            {
              parentCaseId: input.caseId,
              title: f.title.trim(),
              ownerId: f.ownerId,
              verifierRoles: DEFAULT_VERIFIER_ROLES,
              dueAt: new Date(Date.now() + parseDuration(f.dueIn ?? timings.dueIn)).toISOString(),
              timings,
              openedBy: 'system',
            },
          ],
        }),
      ),
    );
  }

  // The summary report (应急演练总结报告), approved; a revision where it calls for one.
  for (let round = 1; ; round++) {
    await moveTo('summary', { actorId: 'system', data: drill });
    await organisersStep(steps.summary, {
      name: `summary-${round}`,
      title: 'Submit the drill summary report (应急演练总结报告)',
      timings: stepTimings(policy.step),
      done: () => !!drill.summary,
    });
    // Nor by whoever planned, conducted or scored the drill, or wrote the report.
    const summaryBarred = barred();
    await moveTo(SHARED_STAGES.awaitingApproval, {
      actorId: drill.summary!.by,
      action: 'drill.summary_submitted_for_approval',
      data: drill,
      payload: { barred: summaryBarred },
    });
    const approval = await desk.request({
      name: `summary-approval-${round}`,
      title: `Approve the drill summary report: ${input.planTitle} ${input.year}`,
      candidateRoles: [...APPROVER_ROLES],
      approvalsRequired: 1,
      excludedUserIds: summaryBarred.map((b) => b.userId),
      barred: summaryBarred,
      timings: approvalTimings(),
      policy: DRILL_APPROVAL_POLICY,
    });
    if (approval.status === 'approved') break;
    drill.summary = null;
  }
  const revision = revisionRequired(drill.evaluation!, drill.summary!);
  drill.revision = { ...revision, caseId: null };
  if (revision.required) {
    const opened = await acts.openPlanRevision({
      planId: input.planId,
      reason: `drill ${input.year}: ${revision.reason}`,
      initiatorId: 'system',
      sourceCaseId: input.caseId,
    });
    drill.revision.caseId = opened.caseId;
  }
  await caseRuntime.close('approved', {
    actorId: 'system',
    data: drill,
    payload: { passed: drill.evaluation!.passed, revision: drill.revision },
  });
  return { passed: drill.evaluation!.passed, findings: drill.findings.length, revisionCaseId: drill.revision.caseId };
}

/**
 * The annual programme: opens every active plan's drill for the year, once
 * each. Started by its Schedule each January (this year, as the system), or
 * by a manager through the API for a given year.
 */
export async function drillProgrammeWorkflow(
  input: { year?: number; initiatorId?: string } = {},
): Promise<Awaited<ReturnType<typeof acts.openAnnualDrills>>> {
  return acts.openAnnualDrills({ year: input.year ?? new Date().getUTCFullYear(), initiatorId: input.initiatorId });
}
