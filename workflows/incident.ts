/**
 * Incident close-out (突发事件应对, 事件闭环), DOMAIN.md §3: report →
 * acknowledge → on-site handling → information notification → stabilised →
 * follow-up evaluation (root cause) → rectification → close-out approval →
 * closed. The response plan follows the grade, and changes when the incident
 * is regraded; an unacknowledged incident escalates to the next level; closing
 * is refused while an item is open or a required review is missing.
 */
import { ApplicationFailure, condition, setHandler } from '@temporalio/workflow';
import type { ApprovalPolicy } from '../domain/approval';
import type { ApprovalTimings, RectificationTimings } from '../domain/deadlines';
import { DEFAULT_APPROVAL_TIMINGS, DEFAULT_RECTIFICATION_TIMINGS } from '../domain/deadlines';
import { durationProblem, parseDuration } from '../domain/durations';
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
import { hasAnyRole, type Actor } from '../domain/roles';
import {
  acknowledgeIncidentUpdate,
  addIncidentTimelineUpdate,
  caseSnapshotQuery,
  recordIncidentNotificationUpdate,
  regradeIncidentUpdate,
  requestIncidentCloseOutUpdate,
  stabiliseIncidentUpdate,
  submitIncidentEvaluationUpdate,
} from './definitions';
import { acts } from './shared/activities';
import { startItem } from './shared/items';
import { ApprovalDesk } from './shared/approvals';
import { CaseRuntime } from './shared/caseRuntime';
import { setStep } from './shared/settle';

export interface IncidentTimings {
  /** Overrides of the grade's deadlines, for drills and tests. */
  acknowledgeWithin?: string;
  stabiliseWithin?: string;
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

function refuse(code: string, message: string): never {
  throw ApplicationFailure.create({ type: code, message, nonRetryable: true });
}

const REGULATOR = 'regulator';

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
    process: 'incident',
    businessKey: input.incidentId,
    title: input.title,
    description: input.description,
    stage: 'reported',
    riskLevel: input.grade === 'I' || input.grade === 'II' ? 'high' : input.grade === 'III' ? 'medium' : 'low',
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
  let closeOutRequested = false;

  const save = (action: string, actor: string, extra: { reason?: string; payload?: Record<string, unknown> } = {}) =>
    caseRuntime.recordData(action, { actorId: actor, data: incident, ...extra });
  const isResponder = (actor: Actor) => actor.userId === input.ownerId || hasAnyRole(actor, ['manager']);
  const stageIs = (...stages: string[]) => stages.includes(caseRuntime.stage);

  // ---- Updates: each refuses what breaks a rule before history records it.
  setStep(
    acknowledgeIncidentUpdate,
    async ({ actor }) => {
      incident.acknowledgedAt = new Date().toISOString();
      incident.acknowledgedBy = actor.userId;
      await caseRuntime.moveTo('handling', { actorId: actor.userId, action: 'incident.acknowledged', data: incident });
      return { stage: caseRuntime.stage, grade: incident.grade };
    },
    {
      validator: ({ actor }) => {
        if (!stageIs('reported')) refuse('NOT_AWAITING_ACKNOWLEDGEMENT', 'the incident is already acknowledged');
        if (!isResponder(actor)) refuse('ROLE_NOT_PERMITTED', 'the incident owner or a manager acknowledges it');
      },
    },
  );

  setStep(
    addIncidentTimelineUpdate,
    async ({ actor, entry, at }) => {
      incident.timeline.push({ at: at ?? new Date().toISOString(), by: actor.userId, entry: entry.trim() });
      // The entry travels once, in the data delta (its audit payload too).
      await save('incident.timeline_entry', actor.userId);
      return { stage: caseRuntime.stage, grade: incident.grade };
    },
    {
      validator: ({ actor, entry, at }) => {
        if (caseRuntime.status === 'closed') refuse('INCIDENT_CLOSED', 'the incident is closed');
        if (!isResponder(actor)) refuse('ROLE_NOT_PERMITTED', 'the incident owner or a manager adds timeline entries');
        if (!entry?.trim()) refuse('INVALID_ENTRY', 'a timeline entry needs its text');
        if (at !== undefined && Number.isNaN(Date.parse(at))) refuse('INVALID_ENTRY', 'at must be an ISO date-time');
      },
    },
  );

  setStep(
    recordIncidentNotificationUpdate,
    async ({ actor, audience, notifiedAt, summary }) => {
      incident.notifications.push({ audience, notifiedAt, summary, by: actor.userId });
      if (caseRuntime.stage === 'handling') {
        await caseRuntime.moveTo('notification', {
          actorId: actor.userId,
          action: 'incident.notified',
          data: incident,
          payload: { audience, notifiedAt },
        });
      } else {
        await save('incident.notified', actor.userId, { payload: { audience, notifiedAt } });
      }
      return { stage: caseRuntime.stage, grade: incident.grade };
    },
    {
      validator: ({ actor, notifiedAt, summary }) => {
        if (!stageIs('handling', 'notification', 'stabilised', 'evaluation', 'rectification')) {
          refuse(
            'NOT_HANDLING',
            `notifications are recorded once the incident is acknowledged (now ${caseRuntime.stage})`,
          );
        }
        if (!isResponder(actor)) refuse('ROLE_NOT_PERMITTED', 'the incident owner or a manager records notifications');
        if (Number.isNaN(Date.parse(notifiedAt))) refuse('INVALID_NOTIFICATION', 'notifiedAt must be an ISO date-time');
        if (!summary?.trim()) refuse('INVALID_NOTIFICATION', 'say what was communicated in summary');
      },
    },
  );

  const missingAudiences = () =>
    incident.plan.mustNotify.filter((a) => !incident.notifications.some((n) => n.audience === a));

  setStep(
    stabiliseIncidentUpdate,
    async ({ actor, summary }) => {
      incident.stabilisedAt = new Date().toISOString();
      incident.timeline.push({ at: incident.stabilisedAt, by: actor.userId, entry: `Stabilised: ${summary.trim()}` });
      await caseRuntime.moveTo('stabilised', { actorId: actor.userId, action: 'incident.stabilised', data: incident });
      return { stage: caseRuntime.stage, grade: incident.grade };
    },
    {
      validator: ({ actor, summary }) => {
        if (!stageIs('handling', 'notification')) refuse('NOT_HANDLING', `the incident is ${caseRuntime.stage}`);
        if (!isResponder(actor)) refuse('ROLE_NOT_PERMITTED', 'the incident owner or a manager declares it stabilised');
        if (!summary?.trim()) refuse('INVALID_ENTRY', 'say how it was stabilised in summary');
        const missing = missingAudiences();
        if (missing.length) {
          refuse('NOTIFICATION_MISSING', `a grade ${incident.grade} incident must first notify: ${missing.join(', ')}`);
        }
      },
    },
  );

  setStep(
    regradeIncidentUpdate,
    async ({ actor, grade, reason }) => {
      const to = grade as IncidentGrade;
      incident.gradeHistory.push({ grade: to, by: actor.userId, at: new Date().toISOString(), reason: reason.trim() });
      incident.grade = to;
      incident.responseLevel =
        INCIDENT_GRADES.indexOf(to) < INCIDENT_GRADES.indexOf(incident.responseLevel) ? to : incident.responseLevel;
      incident.plan = planFor();
      caseRuntime.grade = to;
      caseRuntime.record.riskLevel = to === 'I' || to === 'II' ? 'high' : to === 'III' ? 'medium' : 'low';
      await caseRuntime.moveTo(caseRuntime.stage, {
        actorId: actor.userId,
        action: 'incident.regraded',
        reason: reason.trim(),
        riskLevel: caseRuntime.record.riskLevel,
        data: incident,
        payload: { grade: to },
      });
      return { stage: caseRuntime.stage, grade: incident.grade };
    },
    {
      validator: ({ actor, grade, reason }) => {
        if (!stageIs('reported', 'handling', 'notification', 'stabilised', 'evaluation', 'rectification')) {
          refuse('NOT_REGRADABLE', `an incident in ${caseRuntime.stage} is not regraded`);
        }
        if (!hasAnyRole(actor, ['manager'])) refuse('ROLE_NOT_PERMITTED', 'a manager regrades an incident');
        if (!(INCIDENT_GRADES as readonly string[]).includes(grade))
          refuse('INVALID_GRADE', `grade must be one of ${INCIDENT_GRADES.join(', ')}`);
        const problem = gradeChangeProblem(incident.grade, grade as IncidentGrade, reason);
        if (problem) refuse('INVALID_GRADE', problem);
      },
    },
  );

  setStep(
    submitIncidentEvaluationUpdate,
    async ({ actor, rootCause, contributingFactors, lessons, rectificationItems }) => {
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
      await caseRuntime.moveTo(openItems.size ? 'rectification' : 'evaluation', {
        actorId: actor.userId,
        action: 'incident.evaluated',
        data: incident,
        payload: { rootCause: incident.evaluation.rootCause, rectificationItems: rectificationItems.length },
      });
      return { stage: caseRuntime.stage, grade: incident.grade };
    },
    {
      validator: ({ actor, rootCause, lessons, contributingFactors, rectificationItems }) => {
        if (!stageIs('stabilised', 'evaluation', 'rectification')) {
          refuse(
            'NOT_AWAITING_EVALUATION',
            `the evaluation follows stabilisation (the incident is ${caseRuntime.stage})`,
          );
        }
        if (!isResponder(actor)) refuse('ROLE_NOT_PERMITTED', 'the incident owner or a manager submits the evaluation');
        if (!rootCause?.trim()) refuse('INVALID_EVALUATION', 'rootCause is required');
        if (!lessons?.trim()) refuse('INVALID_EVALUATION', 'lessons are required');
        if (!Array.isArray(contributingFactors)) refuse('INVALID_EVALUATION', 'contributingFactors must be a list');
        for (const item of rectificationItems ?? []) {
          if (!item.title?.trim() || !item.ownerId)
            refuse('INVALID_EVALUATION', 'each rectification item needs a title and an ownerId');
          const problem = item.dueIn ? durationProblem(item.dueIn) : null;
          if (problem) refuse('INVALID_EVALUATION', `rectification item "${item.title}": ${problem}`);
        }
      },
    },
  );

  const closeOutState = () => ({
    grade: incident.grade,
    repeat: !!incident.repeatOf,
    evaluationDone: !!incident.evaluation,
    openRectificationItems: openItems.size,
    stabilised: !!incident.stabilisedAt,
    regulatorNotified: incident.notifications.some((n) => n.audience === REGULATOR),
    category: input.category,
  });

  setStep(
    requestIncidentCloseOutUpdate,
    async ({ actor }) => {
      closeOutRequested = true;
      await caseRuntime.moveTo('close_out', {
        actorId: actor.userId,
        action: 'incident.close_out_requested',
        data: incident,
      });
      return { stage: caseRuntime.stage, grade: incident.grade };
    },
    {
      validator: ({ actor }) => {
        if (!stageIs('stabilised', 'evaluation', 'rectification')) {
          refuse('NOT_READY_TO_CLOSE', `an incident is closed out after it is stabilised (now ${caseRuntime.stage})`);
        }
        if (!isResponder(actor)) refuse('ROLE_NOT_PERMITTED', 'the incident owner or a manager requests close-out');
        const problems = closeOutProblems(closeOutState());
        if (problems.length) refuse('CLOSE_OUT_REFUSED', `closing is refused: ${problems.join(' ')}`);
      },
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
  await caseRuntime.moveTo('evaluation', { actorId: 'system', dueAt: null, data: incident });

  // Close-out approval: not by the owner or reporter; two approvers for I–II.
  for (let attempt = 1; ; attempt++) {
    await condition(() => closeOutRequested);
    const approval = await desk.request({
      name: `close-out-${attempt}`,
      title: `Close out incident ${input.incidentId} (grade ${incident.grade}): ${input.title}`,
      candidateRoles: ['approver'],
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
    await caseRuntime.moveTo(openItems.size ? 'rectification' : 'evaluation', {
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
