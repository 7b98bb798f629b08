/**
 * Incident close-out (突发事件应对, 事件闭环), DOMAIN.md §3: report →
 * acknowledge → on-site handling → information notification → stabilised →
 * follow-up evaluation (root cause) → rectification → close-out approval →
 * closed. The response plan follows the grade, and changes when the incident
 * is regraded; an unacknowledged incident escalates to the next level; closing
 * is refused while an item is open or a required review is missing. After
 * stabilisation (and after a refused close-out) the owner owes the
 * close-out request, with the evaluation and the items it needs first: a task
 * with a deadline ladder (./shared/humanSteps.ts).
 */
import { condition, setHandler } from '@temporalio/workflow';
import { SHARED_STAGES } from '../contracts/core';
import { incidentContract, type IncidentStage, type IncidentStepResult } from '../contracts/incident';
import type { ApprovalPolicy } from '../domain/approval';
import type { ApprovalTimings, RectificationTimings, StepTimings } from '../domain/deadlines';
import {
  DEFAULT_APPROVAL_TIMINGS,
  DEFAULT_RECTIFICATION_TIMINGS,
  INCIDENT_CLOSE_OUT_REQUEST_TIMINGS,
} from '../domain/deadlines';
import { parseDuration } from '../domain/durations';
import {
  closeOutProblems,
  findRepeat,
  gradeChangeProblem,
  INCIDENT_GRADES,
  nextGradeUp,
  responsePlan,
  type IncidentCategory,
  type IncidentGrade,
  type PriorIncident,
  type ResponsePlan,
} from '../domain/incidents';
import { DEFAULT_VERIFIER_ROLES } from '../domain/rectification';
import { caseSnapshotQuery } from './definitions';
import { acts } from './shared/activities';
import { startItem } from './shared/items';
import { ApprovalDesk } from './shared/approvals';
import { CaseRuntime, refuse } from './shared/caseRuntime';
import { awaitStep } from './shared/humanSteps';
import { APPROVER_ROLES } from '../domain/roles';

export interface IncidentTimings {
  /** Overrides of the grade's deadlines, for drills and tests. */
  acknowledgeWithin?: string;
  stabiliseWithin?: string;
  /** Overrides the ladder of the close-out request the owner owes after stabilisation. */
  step?: Partial<StepTimings>;
  approval?: Partial<ApprovalTimings>;
  rectification?: Partial<RectificationTimings>;
}

export interface IncidentInput {
  caseId: string;
  incidentId: string;
  title: string;
  description?: string;
  category: IncidentCategory;
  /** The affected system or service, which defines a repeat. */
  system: string;
  occurredAt: string;
  impact: { affectedUsers: number; amountCny: number; dataRecordsExposed?: number; outageMinutes?: number };
  grade: IncidentGrade;
  suggestedGrade: IncidentGrade;
  gradeReason?: string;
  reporterId: string;
  ownerId: string;
  sourceComplaintId?: string;
  timings?: IncidentTimings;
}

export interface IncidentData extends Record<string, unknown> {
  incidentId: string;
  category: IncidentCategory;
  system: string;
  occurredAt: string;
  reportedAt: string;
  impact: IncidentInput['impact'];
  grade: IncidentGrade;
  suggestedGrade: IncidentGrade;
  gradeHistory: Array<{ grade: IncidentGrade; by: string; at: string; reason: string }>;
  responseLevel: IncidentGrade;
  plan: ResponsePlan;
  repeatOf: string | null;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  escalations: Array<{ at: string; toLevel: IncidentGrade; reason: string }>;
  timeline: Array<{ at: string; by: string; entry: string }>;
  notifications: Array<{ audience: string; notifiedAt: string; summary: string; by: string }>;
  stabilisedAt: string | null;
  evaluation: { rootCause: string; contributingFactors: string[]; lessons: string; by: string; at: string } | null;
  rectificationTaskIds: string[];
  closeOutAttempts: Array<{ at: string; by: string; outcome: string }>;
  sourceComplaintId: string | null;
}

export interface IncidentResult {
  grade: IncidentGrade;
  repeatOf: string | null;
  rectifications: number;
  closeOutAttempts: number;
}

/** Close-out: approve (closed) or reject (back to evaluation, with the reason). */
export const INCIDENT_CLOSE_OUT_POLICY: ApprovalPolicy = {
  decisions: ['approve', 'reject'],
  vetoes: ['reject'],
  fourEyes: [],
  needsReason: ['reject'],
  needsConditions: [],
};

const REGULATOR = 'regulator';

const riskLevelOf = (grade: IncidentGrade) =>
  grade === 'I' || grade === 'II' ? 'high' : grade === 'III' ? 'medium' : 'low';

export async function incidentWorkflow(input: IncidentInput): Promise<IncidentResult> {
  const reportedAt = new Date().toISOString();
  const incident: IncidentData = {
    incidentId: input.incidentId,
    category: input.category,
    system: input.system,
    occurredAt: input.occurredAt,
    reportedAt,
    impact: input.impact,
    grade: input.grade,
    suggestedGrade: input.suggestedGrade,
    gradeHistory: [
      {
        grade: input.grade,
        by: input.reporterId,
        at: reportedAt,
        reason:
          input.grade === input.suggestedGrade
            ? 'suggested from the impact'
            : `overrides the suggested grade ${input.suggestedGrade}: ${input.gradeReason}`,
      },
    ],
    responseLevel: input.grade,
    plan: responsePlan(input.grade, input.category),
    repeatOf: null,
    acknowledgedAt: null,
    acknowledgedBy: null,
    escalations: [],
    timeline: [],
    notifications: [],
    stabilisedAt: null,
    evaluation: null,
    rectificationTaskIds: [],
    closeOutAttempts: [],
    sourceComplaintId: input.sourceComplaintId ?? null,
  };
  const planFor = () => responsePlan(incident.grade, input.category, { repeat: !!incident.repeatOf });
  const deadline = (name: 'acknowledgeWithin' | 'stabiliseWithin', plan: ResponsePlan) =>
    parseDuration(input.timings?.[name] ?? plan[name]);

  const caseRuntime = new CaseRuntime({
    caseId: input.caseId,
    process: incidentContract.process,
    businessKey: input.incidentId,
    title: input.title,
    description: input.description,
    stage: 'reported' satisfies IncidentStage,
    riskLevel: riskLevelOf(input.grade),
    initiatorId: input.reporterId,
    ownerId: input.ownerId,
    ownerRole: 'manager',
    dueAt: new Date(Date.now() + deadline('acknowledgeWithin', incident.plan)).toISOString(),
    subjectType: 'system',
    subjectId: input.system,
    data: incident,
  });
  caseRuntime.grade = input.grade;
  setHandler(caseSnapshotQuery, () => caseRuntime.snapshot());
  const desk = new ApprovalDesk(caseRuntime);
  const openItems = new Set<string>();
  /** Each item's title, so a refused close-out names what is still open. */
  const itemTitles = new Map<string, string>();
  let closeOutRequested = false;

  const save = (action: string, actor: string, extra: { reason?: string; payload?: Record<string, unknown> } = {}) =>
    caseRuntime.recordData(action, { actorId: actor, data: incident, ...extra });
  /** What every step answers with, once the case has settled. */
  const answer = (): IncidentStepResult => ({ stage: caseRuntime.stage, grade: incident.grade });
  /** Moves the case on, to a stage its contract names. */
  const moveTo = (stage: IncidentStage, options: Parameters<CaseRuntime['moveTo']>[1]) =>
    caseRuntime.moveTo(stage, options);

  // ---- Steps: who, where and the input's schema come from the contract; each
  // rule below refuses what breaks a handbook rule before history records it.
  const { steps } = incidentContract;

  caseRuntime.step(steps.acknowledge, async ({ actor }) => {
    incident.acknowledgedAt = new Date().toISOString();
    incident.acknowledgedBy = actor.userId;
    await moveTo('handling', { actorId: actor.userId, action: 'incident.acknowledged', data: incident });
    return answer();
  });

  caseRuntime.step(steps.timeline, async ({ actor, entry, at }) => {
    incident.timeline.push({ at: at ?? new Date().toISOString(), by: actor.userId, entry: entry.trim() });
    // The entry travels once, in the data delta (its audit payload too).
    await save('incident.timeline_entry', actor.userId);
    return answer();
  });

  caseRuntime.step(steps.notification, async ({ actor, audience, notifiedAt, summary }) => {
    incident.notifications.push({ audience, notifiedAt, summary, by: actor.userId });
    if (caseRuntime.stage === 'handling') {
      await moveTo('notification', {
        actorId: actor.userId,
        action: 'incident.notified',
        data: incident,
        payload: { audience, notifiedAt },
      });
    } else {
      await save('incident.notified', actor.userId, { payload: { audience, notifiedAt } });
    }
    return answer();
  });

  const missingAudiences = () =>
    incident.plan.mustNotify.filter((a) => !incident.notifications.some((n) => n.audience === a));

  caseRuntime.step(
    steps.stabilise,
    async ({ actor, summary }) => {
      incident.stabilisedAt = new Date().toISOString();
      incident.timeline.push({ at: incident.stabilisedAt, by: actor.userId, entry: `Stabilised: ${summary.trim()}` });
      await moveTo('stabilised', { actorId: actor.userId, action: 'incident.stabilised', data: incident });
      return answer();
    },
    () => {
      const missing = missingAudiences();
      if (missing.length) {
        refuse('NOTIFICATION_MISSING', `a grade ${incident.grade} incident must first notify: ${missing.join(', ')}`);
      }
    },
  );

  caseRuntime.step(
    steps.regrade,
    async ({ actor, grade, reason }) => {
      incident.gradeHistory.push({ grade, by: actor.userId, at: new Date().toISOString(), reason: reason.trim() });
      incident.grade = grade;
      incident.responseLevel =
        INCIDENT_GRADES.indexOf(grade) < INCIDENT_GRADES.indexOf(incident.responseLevel)
          ? grade
          : incident.responseLevel;
      incident.plan = planFor();
      caseRuntime.grade = grade;
      caseRuntime.record.riskLevel = riskLevelOf(grade);
      await caseRuntime.moveTo(caseRuntime.stage, {
        actorId: actor.userId,
        action: 'incident.regraded',
        reason: reason.trim(),
        riskLevel: caseRuntime.record.riskLevel,
        data: incident,
        payload: { grade },
      });
      return answer();
    },
    ({ grade, reason }) => {
      const problem = gradeChangeProblem(incident.grade, grade, reason);
      if (problem) refuse('INVALID_GRADE', problem);
    },
  );

  caseRuntime.step(steps.evaluation, async ({ actor, rootCause, contributingFactors, lessons, rectificationItems }) => {
    incident.evaluation = {
      rootCause: rootCause.trim(),
      contributingFactors: contributingFactors.map((f) => f.trim()).filter(Boolean),
      lessons: lessons.trim(),
      by: actor.userId,
      at: new Date().toISOString(),
    };
    const timings = { ...DEFAULT_RECTIFICATION_TIMINGS, ...input.timings?.rectification };
    for (const item of rectificationItems) {
      const taskId = `${input.caseId}:rectification:${incident.rectificationTaskIds.length + 1}`;
      incident.rectificationTaskIds.push(taskId);
      openItems.add(taskId);
      itemTitles.set(taskId, item.title.trim());
      const handle = await startItem({
        workflowId: taskId,
        args: [
          {
            parentCaseId: input.caseId,
            title: item.title.trim(),
            ownerId: item.ownerId,
            verifierRoles: DEFAULT_VERIFIER_ROLES,
            dueAt: new Date(Date.now() + parseDuration(item.dueIn ?? timings.dueIn)).toISOString(),
            timings,
            riskLevel: caseRuntime.record.riskLevel,
            openedBy: actor.userId,
          },
        ],
      });
      void handle.closed.then(() => openItems.delete(taskId));
    }
    await moveTo(openItems.size ? SHARED_STAGES.rectification : 'evaluation', {
      actorId: actor.userId,
      action: 'incident.evaluated',
      data: incident,
      payload: { rootCause: incident.evaluation.rootCause, rectificationItems: rectificationItems.length },
    });
    return answer();
  });

  const closeOutState = () => ({
    grade: incident.grade,
    repeat: !!incident.repeatOf,
    evaluationDone: !!incident.evaluation,
    openRectificationItems: openItems.size,
    openItems: [...openItems].map((id) => ({ id, title: itemTitles.get(id) ?? '' })),
    stabilised: !!incident.stabilisedAt,
    regulatorNotified: incident.notifications.some((n) => n.audience === REGULATOR),
    category: input.category,
  });

  caseRuntime.step(
    steps.closeOut,
    async ({ actor }) => {
      closeOutRequested = true;
      await moveTo(SHARED_STAGES.awaitingApproval, {
        actorId: actor.userId,
        action: 'incident.close_out_requested',
        data: incident,
      });
      return answer();
    },
    () => {
      const problems = closeOutProblems(closeOutState());
      if (problems.length) refuse('CLOSE_OUT_REFUSED', `closing is refused: ${problems.join(' ')}`);
    },
  );

  await caseRuntime.open();

  // A repeat (same category and system within 90 days) makes the review required.
  const prior: PriorIncident[] = await acts.findPriorIncidents({
    category: input.category,
    system: input.system,
    occurredAt: input.occurredAt,
    excludeCaseId: input.caseId,
  });
  const repeat = findRepeat({ category: input.category, system: input.system, occurredAt: input.occurredAt }, prior);
  if (repeat) {
    incident.repeatOf = repeat.id;
    incident.plan = planFor();
    await save('incident.repeat_flagged', 'system', {
      reason: `same category and system as ${repeat.id} within 90 days`,
      payload: { repeatOf: repeat.id },
    });
  }
  for (const audience of incident.plan.mustNotify.filter((a) => a === 'management')) {
    await acts.notify({
      caseId: input.caseId,
      kind: 'escalation',
      recipientRole: 'manager',
      message: `Grade ${incident.grade} incident reported: ${input.title} (${audience})`,
    });
  }

  // Acknowledgement: late at each level escalates one level up, until grade I.
  while (!incident.acknowledgedAt) {
    const within = deadline('acknowledgeWithin', responsePlan(incident.responseLevel, input.category));
    caseRuntime.trackDeadline(new Date(Date.now() + within).toISOString());
    if (await condition(() => !!incident.acknowledgedAt, within)) break;
    const from = incident.responseLevel;
    const to = nextGradeUp(from);
    incident.responseLevel = to;
    incident.escalations.push({
      at: new Date().toISOString(),
      toLevel: to,
      reason: `not acknowledged within the grade ${from} deadline`,
    });
    await acts.notify({
      caseId: input.caseId,
      kind: 'escalation',
      recipientRole: to === 'I' || to === 'II' ? 'admin' : 'manager',
      message: `Unacknowledged incident escalated to level ${to}: ${input.title}`,
    });
    await save('incident.escalated', 'system', {
      reason: `not acknowledged in time; response level ${from} → ${to}`,
      payload: { from, to },
    });
    if (from === 'I') await condition(() => !!incident.acknowledgedAt);
  }

  // Stabilisation against the grade's deadline (from the report).
  const stabiliseBy = Date.parse(reportedAt) + deadline('stabiliseWithin', incident.plan);
  caseRuntime.trackDeadline(new Date(stabiliseBy).toISOString());
  if (!(await condition(() => !!incident.stabilisedAt, Math.max(0, stabiliseBy - Date.now())))) {
    incident.escalations.push({
      at: new Date().toISOString(),
      toLevel: incident.responseLevel,
      reason: 'not stabilised by its deadline',
    });
    await acts.notify({
      caseId: input.caseId,
      kind: 'escalation',
      recipientRole: 'manager',
      message: `Incident not stabilised by ${new Date(stabiliseBy).toISOString()}: ${input.title}`,
    });
    await save('incident.escalated', 'system', { reason: 'not stabilised by its deadline' });
    await condition(() => !!incident.stabilisedAt);
  }
  await moveTo('evaluation', { actorId: 'system', dueAt: null, data: incident });

  // Close-out approval: not by the owner or reporter; two approvers for I–II.
  for (let attempt = 1; ; attempt++) {
    // The owner owes the request, and before it what the request needs (the
    // evaluation where the grade requires one, its rectification items).
    await awaitStep(caseRuntime, {
      name: `close-out-request-${attempt}`,
      title: `Request the close-out of incident ${input.incidentId} once evaluated and rectified: ${input.title}`,
      assigneeId: input.ownerId,
      candidateRoles: [...steps.closeOut.roles],
      timings: { ...INCIDENT_CLOSE_OUT_REQUEST_TIMINGS, ...input.timings?.step },
      done: () => closeOutRequested,
    });
    const approval = await desk.request({
      name: `close-out-${attempt}`,
      title: `Close out incident ${input.incidentId} (grade ${incident.grade}): ${input.title}`,
      candidateRoles: [...APPROVER_ROLES],
      approvalsRequired: incident.plan.closeOutApprovers,
      excludedUserIds: [...new Set([input.ownerId, input.reporterId])],
      timings: { ...DEFAULT_APPROVAL_TIMINGS, ...input.timings?.approval },
      policy: INCIDENT_CLOSE_OUT_POLICY,
    });
    incident.closeOutAttempts.push({
      at: new Date().toISOString(),
      by: approval.votes.at(-1)?.userId ?? 'system',
      outcome: approval.status,
    });
    if (approval.status === 'approved') break;
    closeOutRequested = false;
    await moveTo(openItems.size ? SHARED_STAGES.rectification : 'evaluation', {
      actorId: approval.votes.at(-1)?.userId ?? 'system',
      action: 'incident.close_out_refused',
      reason: approval.votes.at(-1)?.comment ?? approval.status,
      data: incident,
    });
  }
  await caseRuntime.close('closed_out', { actorId: 'system', reason: 'close-out approved', data: incident });
  return {
    grade: incident.grade,
    repeatOf: incident.repeatOf,
    rectifications: incident.rectificationTaskIds.length,
    closeOutAttempts: incident.closeOutAttempts.length,
  };
}
