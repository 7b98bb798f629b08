/**
 * Emergency drill follow-up (应急演练), DOMAIN.md §4: plan (scenario, date,
 * participants) → approval → conduct → evaluation against the standard
 * (command, information reporting, resource dispatch, public-opinion
 * response) → findings as rectification items, waited on to closure →
 * summary report (应急演练总结报告) approved → a plan revision opened where the
 * drill calls for one → closed. A drill not conducted by its due date (the
 * end of the year) escalates.
 */
import { ApplicationFailure, condition, setHandler } from '@temporalio/workflow';
import { STANDARD_APPROVAL_POLICY, type ApprovalPolicy } from '../domain/approval';
import type { ApprovalTimings, RectificationTimings } from '../domain/deadlines';
import { DEFAULT_APPROVAL_TIMINGS, DEFAULT_RECTIFICATION_TIMINGS } from '../domain/deadlines';
import { durationProblem, parseDuration } from '../domain/durations';
import {
  drillScoresProblem,
  evaluateDrill,
  revisionRequired,
  summaryProblem,
  type DrillEvaluation,
  type DrillScores,
  type DrillSummary,
} from '../domain/drills';
import { DEFAULT_VERIFIER_ROLES } from '../domain/rectification';
import { hasAnyRole, type Actor } from '../domain/roles';
import {
  caseSnapshotQuery,
  evaluateDrillUpdate,
  planDrillUpdate,
  recordDrillConductUpdate,
  submitDrillSummaryUpdate,
} from './definitions';
import { acts } from './shared/activities';
import { executeItem } from './shared/items';
import { ApprovalDesk } from './shared/approvals';
import { CaseRuntime } from './shared/caseRuntime';
import { setStep } from './shared/settle';

export interface DrillInput {
  caseId: string;
  planId: string;
  planTitle: string;
  year: number;
  ownerId: string;
  initiatorId: string;
  dueAt: string;
  timings?: { dueIn?: string; approval?: Partial<ApprovalTimings>; rectification?: Partial<RectificationTimings> };
}

export interface DrillData extends Record<string, unknown> {
  planId: string;
  year: number;
  dueAt: string;
  plan: { scenario: string; scheduledAt: string; participants: string[]; by: string } | null;
  conduct: { startedAt: string; endedAt: string; observations: string; by: string } | null;
  scores: DrillScores | null;
  evaluation: DrillEvaluation | null;
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

function refuse(code: string, message: string): never {
  throw ApplicationFailure.create({ type: code, message, nonRetryable: true });
}

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
    findings: [],
    summary: null,
    revision: null,
    overdue: false,
  };
  const caseRuntime = new CaseRuntime({
    caseId: input.caseId,
    process: 'drill',
    businessKey: `${input.planId}:${input.year}`,
    title: `Drill ${input.year}: ${input.planTitle}`,
    stage: 'planning',
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
  const approvalTimings = { ...DEFAULT_APPROVAL_TIMINGS, ...input.timings?.approval };
  const isOrganiser = (actor: Actor) => actor.userId === input.ownerId || hasAnyRole(actor, ['manager']);
  const expect = (stage: string, actor: Actor) => {
    if (caseRuntime.stage !== stage) refuse('WRONG_STAGE', `the drill is in ${caseRuntime.stage}, not ${stage}`);
    if (!isOrganiser(actor)) refuse('ROLE_NOT_PERMITTED', 'the plan owner or a manager runs the drill');
  };

  setStep(
    planDrillUpdate,
    async ({ actor, scenario, scheduledAt, participants }) => {
      drill.plan = { scenario: scenario.trim(), scheduledAt, participants, by: actor.userId };
      await caseRuntime.recordData('drill.planned', { actorId: actor.userId, data: drill });
      return { stage: 'planning' };
    },
    {
      validator: ({ actor, scenario, scheduledAt, participants }) => {
        expect('planning', actor);
        if (drill.plan) refuse('WRONG_STAGE', 'the drill is already planned');
        if (!scenario?.trim()) refuse('INVALID_DRILL', 'scenario is required');
        if (Number.isNaN(Date.parse(scheduledAt))) refuse('INVALID_DRILL', 'scheduledAt must be an ISO date-time');
        if (!Array.isArray(participants) || participants.length === 0) refuse('INVALID_DRILL', 'name the participants');
      },
    },
  );
  setStep(
    recordDrillConductUpdate,
    async ({ actor, startedAt, endedAt, observations }) => {
      drill.conduct = { startedAt, endedAt, observations: observations.trim(), by: actor.userId };
      await caseRuntime.recordData('drill.conducted', { actorId: actor.userId, data: drill });
      return { stage: 'conduct' };
    },
    {
      validator: ({ actor, startedAt, endedAt, observations }) => {
        expect('conduct', actor);
        if (drill.conduct) refuse('WRONG_STAGE', 'the conduct is already recorded');
        if (
          Number.isNaN(Date.parse(startedAt)) ||
          Number.isNaN(Date.parse(endedAt)) ||
          Date.parse(endedAt) < Date.parse(startedAt)
        ) {
          refuse('INVALID_DRILL', 'startedAt and endedAt must be ISO date-times, endedAt not before startedAt');
        }
        if (Date.parse(endedAt) > Date.now() + 5 * 60_000)
          refuse('INVALID_DRILL', 'a drill cannot be recorded before it has ended');
        if (!observations?.trim()) refuse('INVALID_DRILL', 'observations are required');
      },
    },
  );
  setStep(
    evaluateDrillUpdate,
    async ({ actor, scores, findings }) => {
      drill.scores = scores as DrillScores;
      drill.evaluation = evaluateDrill(drill.scores);
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
          passed: drill.evaluation.passed,
          failedModules: drill.evaluation.failedModules,
        },
      });
      return { stage: 'evaluation' };
    },
    {
      validator: ({ actor, scores, findings }) => {
        expect('evaluation', actor);
        if (drill.scores) refuse('WRONG_STAGE', 'the drill is already evaluated');
        const problem = drillScoresProblem(scores);
        if (problem) refuse('INVALID_SCORES', problem);
        for (const f of findings ?? []) {
          if (!f.title?.trim() || !f.ownerId) refuse('INVALID_DRILL', 'each finding needs a title and an ownerId');
          const late = f.dueIn ? durationProblem(f.dueIn) : null;
          if (late) refuse('INVALID_DRILL', `finding "${f.title}": ${late}`);
        }
      },
    },
  );
  setStep(
    submitDrillSummaryUpdate,
    async ({ actor, ...summary }) => {
      drill.summary = { ...summary, by: actor.userId, at: new Date().toISOString() };
      await caseRuntime.recordData('drill.summary_submitted', { actorId: actor.userId, data: drill });
      return { stage: 'summary' };
    },
    {
      validator: ({ actor, ...summary }) => {
        expect('summary', actor);
        if (drill.summary) refuse('WRONG_STAGE', 'the summary is already submitted');
        const problem = summaryProblem(summary);
        if (problem) refuse('INVALID_SUMMARY', problem);
      },
    },
  );
  await caseRuntime.open();

  // Planned, then approved (not by its organisers) before it is conducted.
  for (let round = 1; ; round++) {
    await condition(() => !!drill.plan);
    await caseRuntime.moveTo('approval', { actorId: drill.plan!.by, action: 'drill.submitted_for_approval' });
    const approval = await desk.request({
      name: `plan-approval-${round}`,
      title: `Approve the drill plan: ${input.planTitle} ${input.year}`,
      candidateRoles: ['approver'],
      approvalsRequired: 1,
      excludedUserIds: [...new Set([input.ownerId, input.initiatorId, drill.plan!.by])],
      timings: approvalTimings,
      policy: DRILL_APPROVAL_POLICY,
    });
    if (approval.status === 'approved') break;
    drill.plan = null;
    await caseRuntime.moveTo('planning', {
      actorId: approval.votes.at(-1)?.userId ?? 'system',
      action: 'drill.plan_returned',
      reason: approval.votes.at(-1)?.comment ?? approval.status,
      data: drill,
    });
  }

  // Conducted by the due date, or escalated.
  await caseRuntime.moveTo('conduct', { actorId: 'system', dueAt: input.dueAt, data: drill });
  if (!(await condition(() => !!drill.conduct, Math.max(1, Date.parse(input.dueAt) - Date.now())))) {
    drill.overdue = true;
    await acts.notify({
      caseId: input.caseId,
      kind: 'overdue',
      recipientRole: 'manager',
      message: `Drill ${input.year} of ${input.planTitle} not conducted by ${input.dueAt}`,
    });
    await caseRuntime.recordData('drill.overdue', {
      actorId: 'system',
      data: drill,
      reason: `not conducted by ${input.dueAt}`,
    });
    await condition(() => !!drill.conduct);
  }

  await caseRuntime.moveTo('evaluation', { actorId: 'system', dueAt: null, data: drill });
  await condition(() => !!drill.evaluation);
  if (pendingFindings.length) {
    const timings = { ...DEFAULT_RECTIFICATION_TIMINGS, ...input.timings?.rectification };
    await caseRuntime.moveTo('rectification', { actorId: 'system', data: drill });
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
    await caseRuntime.moveTo('summary', { actorId: 'system', data: drill });
    await condition(() => !!drill.summary);
    await caseRuntime.moveTo('summary_approval', {
      actorId: drill.summary!.by,
      action: 'drill.summary_submitted_for_approval',
      data: drill,
    });
    const approval = await desk.request({
      name: `summary-approval-${round}`,
      title: `Approve the drill summary report: ${input.planTitle} ${input.year}`,
      candidateRoles: ['approver'],
      approvalsRequired: 1,
      excludedUserIds: [...new Set([input.ownerId, input.initiatorId, drill.summary!.by])],
      timings: approvalTimings,
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

/** Started by the annual programme Schedule: opens every active plan's drill for the year. */
export async function drillProgrammeWorkflow(): Promise<{ started: number; skipped: number }> {
  const summary = await acts.openAnnualDrills({ year: new Date().getUTCFullYear() });
  return { started: summary.started.length, skipped: summary.skipped.length };
}
