/**
 * Incident close-out (突发事件应对, 事件闭环), DOMAIN.md §3: report →
 * acknowledge → on-site handling → information notification → stabilised →
 * follow-up evaluation (root cause; short at grade IV) → rectification →
 * close-out approval → closed. The response plan follows the grade, and
 * changes when the incident is regraded: up at once, down only once an
 * approver who is neither the owner, the reporter nor the requester agrees,
 * and the notices a grade made due stay due. An unacknowledged incident
 * escalates to the next level; a regulator notice not made by its deadline
 * escalates and stays on record; closing is refused while an item is open, a
 * notice or the evaluation is missing, or a downgrade awaits its decision.
 * After stabilisation (and after a refused close-out) the owner owes the
 * close-out request, with the evaluation and the items it needs first: a task
 * with a deadline ladder (./shared/humanSteps.ts). Every clock and threshold
 * comes from the policy in force when the incident was reported.
 */
import { ApplicationFailure, condition, patched, setHandler } from '@temporalio/workflow';
import { SHARED_STAGES } from '../contracts/core';
import { incidentContract, type IncidentStage, type IncidentStepResult } from '../contracts/incident';
import type { ApprovalPolicy } from '../domain/approval';
import type { ApprovalTimings, RectificationTimings, StepTimings } from '../domain/deadlines';
import { parseDuration } from '../domain/durations';
import {
  closeOutProblems,
  evaluationProblem,
  findRepeat,
  gradeChangeProblem,
  isDowngrade,
  isMoreSevere,
  minutesLate,
  mostSevere,
  nextGradeUp,
  regulatorNoticeFor,
  responsePlan,
  type EvaluationDepth,
  type IncidentCategory,
  type IncidentGrade,
  type PriorIncident,
  type RegulatorNotice,
  type ResponsePlan,
} from '../domain/incidents';
import { DEFAULT_POLICY_SNAPSHOT, type PolicySnapshot } from '../domain/policy';
import { DEFAULT_VERIFIER_ROLES } from '../domain/rectification';
import { APPROVER_ROLES, ESCALATION_ROLE } from '../domain/roles';
import { caseSnapshotQuery } from './definitions';
import { acts } from './shared/activities';
import { startItem } from './shared/items';
import { ApprovalDesk } from './shared/approvals';
import { CaseRuntime, refuse } from './shared/caseRuntime';
import { awaitStep } from './shared/humanSteps';

export interface IncidentTimings {
  /** Overrides of the grade's deadlines, for drills and tests. */
  acknowledgeWithin?: string;
  stabiliseWithin?: string;
  /** Overrides the regulator-notice deadline of whichever grade requires the notice. */
  notifyRegulatorWithin?: string;
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
  /**
   * The policy in force when the incident was reported (the API reads it).
   * A caller that leaves it out gets the one in force when the case starts.
   */
  policy?: PolicySnapshot;
}

/** A request to lower the grade, and what became of it. */
export interface DowngradeRequest {
  taskId: string;
  from: IncidentGrade;
  to: IncidentGrade;
  reason: string;
  requestedBy: string;
  requestedAt: string;
  /** approved (the grade changed), superseded (approved after the grade had changed otherwise), rejected, expired. */
  outcome: string | null;
  decidedBy: string[];
  decidedAt: string | null;
}

export interface IncidentEvaluation {
  /** 'full' names the root cause; 'short' (a first grade IV) states what happened and the lessons. */
  depth: EvaluationDepth;
  summary: string | null;
  rootCause: string | null;
  contributingFactors: string[];
  lessons: string;
  by: string;
  at: string;
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
  /** The most severe grade it has had: the notices that grade made due stay due. */
  highestGrade: IncidentGrade;
  gradeHistory: Array<{ grade: IncidentGrade; by: string; at: string; reason: string; approvedBy?: string[] }>;
  pendingDowngrade: DowngradeRequest | null;
  downgrades: DowngradeRequest[];
  responseLevel: IncidentGrade;
  plan: ResponsePlan;
  repeatOf: string | null;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  escalations: Array<{ at: string; toLevel: IncidentGrade; reason: string }>;
  timeline: Array<{ at: string; by: string; entry: string }>;
  notifications: Array<{ audience: string; notifiedAt: string; summary: string; by: string }>;
  /** The regulator's notice once a grade requires it: its deadline, and whether it was missed and by how much. */
  regulatorNotice: RegulatorNotice | null;
  stabilisedAt: string | null;
  evaluation: IncidentEvaluation | null;
  rectificationTaskIds: string[];
  closeOutAttempts: Array<{ at: string; by: string; outcome: string }>;
  sourceComplaintId: string | null;
  policyVersion: number;
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

/** A downgrade: approve (the grade changes) or reject with the reason (it stays). */
export const INCIDENT_DOWNGRADE_POLICY: ApprovalPolicy = {
  decisions: ['approve', 'reject'],
  vetoes: ['reject'],
  fourEyes: [],
  needsReason: ['reject'],
  needsConditions: [],
};

/**
 * patched() ids. Cases started before the controls replay as they ran: no
 * policy read and no regulator clock (both begin at the start). A downgrade
 * asked for after the deploy goes to approval in them too: its patch is
 * taken at the regrade.
 */
export const INCIDENT_CONTROLS_PATCH = 'incident-controls';
export const INCIDENT_DOWNGRADE_PATCH = 'incident-downgrade-approval';

const REGULATOR = 'regulator';

const riskLevelOf = (grade: IncidentGrade) =>
  grade === 'I' || grade === 'II' ? 'high' : grade === 'III' ? 'medium' : 'low';

export async function incidentWorkflow(input: IncidentInput): Promise<IncidentResult> {
  const controls = patched(INCIDENT_CONTROLS_PATCH);
  const reportedAt = new Date().toISOString();
  // The policy the incident runs under for its whole life; per-case timings
  // (allowed only where the deployment says so) override its clocks.
  const policy: PolicySnapshot = input.policy ?? (controls ? await acts.currentPolicy() : DEFAULT_POLICY_SNAPSHOT);
  const rules = policy.values;
  const clocks = rules.incident;
  const timings: IncidentTimings = input.timings ?? {};
  const approvalTimings: ApprovalTimings = { ...rules.approval, ...timings.approval };

  /** The regulator's notice once `grade` is in force; one made before it was owed counts, on time. */
  const noticeFor = (notice: RegulatorNotice | null, grade: IncidentGrade, at: string, told?: string) => {
    const next = regulatorNoticeFor(notice, grade, input.category, at, {
      clocks,
      ...(timings.notifyRegulatorWithin ? { within: timings.notifyRegulatorWithin } : {}),
    });
    return next && !notice && told ? { ...next, notifiedAt: told, recordedAt: told, lateMinutes: 0 } : next;
  };

  const incident: IncidentData = {
    incidentId: input.incidentId,
    category: input.category,
    system: input.system,
    occurredAt: input.occurredAt,
    reportedAt,
    impact: input.impact,
    grade: input.grade,
    suggestedGrade: input.suggestedGrade,
    highestGrade: input.grade,
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
    pendingDowngrade: null,
    downgrades: [],
    responseLevel: input.grade,
    plan: responsePlan(input.grade, input.category, { clocks }),
    repeatOf: null,
    acknowledgedAt: null,
    acknowledgedBy: null,
    escalations: [],
    timeline: [],
    notifications: [],
    regulatorNotice: noticeFor(null, input.grade, reportedAt),
    stabilisedAt: null,
    evaluation: null,
    rectificationTaskIds: [],
    closeOutAttempts: [],
    sourceComplaintId: input.sourceComplaintId ?? null,
    policyVersion: policy.version,
  };
  const planFor = () =>
    responsePlan(incident.grade, input.category, {
      repeat: !!incident.repeatOf,
      clocks,
      highestGrade: incident.highestGrade,
    });
  const deadline = (name: 'acknowledgeWithin' | 'stabiliseWithin', plan: ResponsePlan) =>
    parseDuration(timings[name] ?? plan[name]);

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
    policyVersion: policy.version,
  });
  caseRuntime.grade = input.grade;
  setHandler(caseSnapshotQuery, () => caseRuntime.snapshot());
  const desk = new ApprovalDesk(caseRuntime);
  const openItems = new Set<string>();
  /** Each item's title, so a refused close-out names what is still open. */
  const itemTitles = new Map<string, string>();
  /** Each item's owner: whoever carried out rectification does not approve the close-out. */
  const itemOwners = new Map<string, string>();
  let closeOutRequested = false;
  let closeOutRequestedBy: string | undefined;
  /** Counts changes of the regulator's deadline, so the clock watching it starts over. */
  let noticeChanges = 0;

  const save = (action: string, actor: string, extra: { reason?: string; payload?: Record<string, unknown> } = {}) =>
    caseRuntime.recordData(action, { actorId: actor, data: incident, ...extra });
  /** What every step answers with, once the case has settled. */
  const answer = (): IncidentStepResult => ({ stage: caseRuntime.stage, grade: incident.grade });
  /** Moves the case on, to a stage its contract names. */
  const moveTo = (stage: IncidentStage, options: Parameters<CaseRuntime['moveTo']>[1]) =>
    caseRuntime.moveTo(stage, options);

  /** The grade changes: the response plan, the risk level and the regulator's deadline follow. */
  async function applyGrade(
    grade: IncidentGrade,
    change: { by: string; reason: string; actorId: string; approvedBy?: string[] },
  ): Promise<void> {
    const at = new Date().toISOString();
    incident.gradeHistory.push({
      grade,
      by: change.by,
      at,
      reason: change.reason,
      ...(change.approvedBy ? { approvedBy: change.approvedBy } : {}),
    });
    incident.grade = grade;
    incident.responseLevel = isMoreSevere(grade, incident.responseLevel) ? grade : incident.responseLevel;
    incident.highestGrade = mostSevere(incident.highestGrade, grade);
    const told = incident.notifications.find((n) => n.audience === REGULATOR)?.notifiedAt;
    const notice = noticeFor(incident.regulatorNotice, grade, at, told);
    if (notice !== incident.regulatorNotice) {
      incident.regulatorNotice = notice;
      noticeChanges += 1;
    }
    incident.plan = planFor();
    caseRuntime.grade = grade;
    caseRuntime.record.riskLevel = riskLevelOf(grade);
    await caseRuntime.moveTo(caseRuntime.stage, {
      actorId: change.actorId,
      action: 'incident.regraded',
      reason: change.reason,
      riskLevel: caseRuntime.record.riskLevel,
      data: incident,
      payload: { grade, ...(change.approvedBy ? { approvedBy: change.approvedBy } : {}) },
    });
  }

  /**
   * A downgrade drops teams, notices and reviews, so whoever asks for it does
   * not decide it: risk, compliance or legal do, neither the owner nor the
   * reporter nor the requester (nor anyone who took a step: the desk adds
   * them); two functions when the incident is grade I or II.
   */
  async function decideDowngrade(request: DowngradeRequest, name: string): Promise<void> {
    const approval = await desk.request({
      name,
      title: `Downgrade incident ${input.incidentId} from grade ${request.from} to ${request.to}: ${input.title}`,
      candidateRoles: [...APPROVER_ROLES],
      approvalsRequired: incident.plan.closeOutApprovers,
      excludedUserIds: [...new Set([input.ownerId, input.reporterId, request.requestedBy])],
      timings: approvalTimings,
      policy: INCIDENT_DOWNGRADE_POLICY,
    });
    const last = approval.votes.at(-1);
    const approved = approval.status === 'approved';
    // An upgrade while the request waited made it moot: the grade it lowered is gone.
    const stillApplies = incident.grade === request.from;
    const decided: DowngradeRequest = {
      ...request,
      outcome: approved ? (stillApplies ? 'approved' : 'superseded') : approval.status,
      decidedBy: approval.votes.map((v) => v.userId),
      decidedAt: new Date().toISOString(),
    };
    incident.pendingDowngrade = null;
    incident.downgrades.push(decided);
    if (approved && stillApplies) {
      await applyGrade(request.to, {
        by: request.requestedBy,
        reason: request.reason,
        actorId: last?.userId ?? 'system',
        approvedBy: decided.decidedBy,
      });
    } else {
      await save(approved ? 'incident.downgrade_superseded' : 'incident.downgrade_refused', last?.userId ?? 'system', {
        reason: approved
          ? `the grade changed to ${incident.grade} while the downgrade from ${request.from} awaited approval`
          : (last?.comment ?? `no decision: ${approval.status}`),
        payload: { taskId: request.taskId, from: request.from, to: request.to, outcome: decided.outcome },
      });
    }
  }

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
    const notice = incident.regulatorNotice;
    if (audience === REGULATOR && notice && !notice.notifiedAt) {
      // A notice made late stays on record as late, by how much.
      incident.regulatorNotice = {
        ...notice,
        notifiedAt,
        recordedAt: new Date().toISOString(),
        lateMinutes: minutesLate(notice.dueAt, notifiedAt),
      };
    }
    const late = audience === REGULATOR ? incident.regulatorNotice?.lateMinutes : undefined;
    const payload = { audience, notifiedAt, ...(late ? { lateMinutes: late } : {}) };
    if (caseRuntime.stage === 'handling') {
      await moveTo('notification', { actorId: actor.userId, action: 'incident.notified', data: incident, payload });
    } else {
      await save('incident.notified', actor.userId, { payload });
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
      if (isDowngrade(incident.grade, grade) && (controls || patched(INCIDENT_DOWNGRADE_PATCH))) {
        const name = `downgrade-${incident.downgrades.length + 1}`;
        const request: DowngradeRequest = {
          taskId: desk.taskIdFor(name),
          from: incident.grade,
          to: grade,
          reason: reason.trim(),
          requestedBy: actor.userId,
          requestedAt: new Date().toISOString(),
          outcome: null,
          decidedBy: [],
          decidedAt: null,
        };
        incident.pendingDowngrade = request;
        await save('incident.downgrade_requested', actor.userId, {
          reason: request.reason,
          payload: { taskId: request.taskId, from: request.from, to: request.to },
        });
        // Decided by others, later: the step answers once the approval task can be acted on.
        void decideDowngrade(request, name);
        return { ...answer(), downgradeTaskId: request.taskId };
      }
      await applyGrade(grade, { by: actor.userId, reason: reason.trim(), actorId: actor.userId });
      return answer();
    },
    ({ grade, reason }) => {
      const problem = gradeChangeProblem(incident.grade, grade, reason);
      if (problem) refuse('INVALID_GRADE', problem);
      const pending = incident.pendingDowngrade;
      if (pending && isDowngrade(incident.grade, grade)) {
        throw ApplicationFailure.create({
          type: 'DOWNGRADE_PENDING',
          message: `a downgrade to grade ${pending.to} already awaits approval (${pending.taskId}); an upgrade is still taken at once`,
          details: [{ taskId: pending.taskId, from: pending.from, to: pending.to, requestedBy: pending.requestedBy }],
          nonRetryable: true,
        });
      }
    },
  );

  caseRuntime.step(
    steps.evaluation,
    async ({ actor, summary, rootCause, contributingFactors, lessons, rectificationItems }) => {
      incident.evaluation = {
        depth: rootCause ? 'full' : 'short',
        summary: summary?.trim() || null,
        rootCause: rootCause?.trim() || null,
        contributingFactors: contributingFactors.map((f) => f.trim()).filter(Boolean),
        lessons: lessons.trim(),
        by: actor.userId,
        at: new Date().toISOString(),
      };
      const itemTimings = { ...rules.rectification, ...timings.rectification };
      for (const item of rectificationItems) {
        const taskId = `${input.caseId}:rectification:${incident.rectificationTaskIds.length + 1}`;
        incident.rectificationTaskIds.push(taskId);
        openItems.add(taskId);
        itemTitles.set(taskId, item.title.trim());
        itemOwners.set(taskId, item.ownerId);
        const handle = await startItem({
          workflowId: taskId,
          args: [
            {
              parentCaseId: input.caseId,
              title: item.title.trim(),
              ownerId: item.ownerId,
              verifierRoles: DEFAULT_VERIFIER_ROLES,
              dueAt: new Date(Date.now() + parseDuration(item.dueIn ?? itemTimings.dueIn)).toISOString(),
              timings: itemTimings,
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
        payload: {
          depth: incident.evaluation.depth,
          rootCause: incident.evaluation.rootCause,
          rectificationItems: rectificationItems.length,
        },
      });
      return answer();
    },
    ({ summary, rootCause, lessons }) => {
      const problem = evaluationProblem(incident.plan, !!incident.repeatOf, { summary, rootCause, lessons });
      if (problem) {
        throw ApplicationFailure.create({
          type: 'EVALUATION_INCOMPLETE',
          message: problem.message,
          details: [{ missing: problem.missing, evaluation: incident.plan.evaluation, grade: incident.grade }],
          nonRetryable: true,
        });
      }
    },
  );

  const openItemList = () => [...openItems].map((id) => ({ id, title: itemTitles.get(id) ?? '' }));
  const closeOutState = () => ({
    grade: incident.grade,
    repeat: !!incident.repeatOf,
    evaluationDone: !!incident.evaluation,
    evaluation: incident.evaluation ? (incident.evaluation.depth ?? 'full') : null,
    openRectificationItems: openItems.size,
    openItems: openItemList(),
    stabilised: !!incident.stabilisedAt,
    regulatorNotified: incident.notifications.some((n) => n.audience === REGULATOR),
    notifiedAudiences: incident.plan.mustNotify.filter((a) => incident.notifications.some((n) => n.audience === a)),
    highestGrade: incident.highestGrade,
    pendingDowngrade: incident.pendingDowngrade?.to ?? null,
    category: input.category,
  });

  caseRuntime.step(
    steps.closeOut,
    async ({ actor }) => {
      closeOutRequested = true;
      closeOutRequestedBy = actor.userId;
      await moveTo(SHARED_STAGES.awaitingApproval, {
        actorId: actor.userId,
        action: 'incident.close_out_requested',
        data: incident,
      });
      return answer();
    },
    () => {
      const problems = closeOutProblems(closeOutState());
      if (problems.length) {
        // The details name what blocks: each open item by id and title, a pending downgrade by its task.
        throw ApplicationFailure.create({
          type: 'CLOSE_OUT_REFUSED',
          message: `closing is refused: ${problems.join(' ')}`,
          details: [
            {
              problems,
              openItems: openItemList(),
              ...(incident.pendingDowngrade
                ? { pendingDowngrade: { taskId: incident.pendingDowngrade.taskId, to: incident.pendingDowngrade.to } }
                : {}),
            },
          ],
          nonRetryable: true,
        });
      }
    },
  );

  await caseRuntime.open();

  /**
   * The regulator's notice against its deadline: missed, it escalates one role
   * above the owner and stays on record (case data and an audit event), even
   * once the notice is made. An upgrade that brings the deadline forward
   * starts the clock again.
   */
  async function watchRegulatorNotice(): Promise<void> {
    const owed = () => {
      const notice = incident.regulatorNotice;
      return !!notice && !notice.notifiedAt && !notice.missedAt;
    };
    for (;;) {
      await condition(owed);
      const notice = incident.regulatorNotice!;
      const seen = noticeChanges;
      const wait = Date.parse(notice.dueAt) - Date.now();
      if (wait > 0 && (await condition(() => !owed() || noticeChanges !== seen, wait))) continue;
      if (!owed()) continue;
      const escalatedTo = ESCALATION_ROLE.manager;
      incident.regulatorNotice = { ...notice, missedAt: new Date().toISOString(), escalatedTo };
      await acts.notify({
        caseId: input.caseId,
        kind: 'escalation',
        recipientRole: escalatedTo,
        message:
          `Regulator notice missed: the grade ${notice.grade} incident ${input.incidentId} was to be reported ` +
          `to the regulator within ${notice.within}, by ${notice.dueAt}: ${input.title}`,
      });
      await save('incident.regulator_notice_missed', 'system', {
        reason: `the regulator was not notified within ${notice.within} (due ${notice.dueAt})`,
        payload: { grade: notice.grade, within: notice.within, dueAt: notice.dueAt, escalatedTo },
      });
      return;
    }
  }
  if (controls) void watchRegulatorNotice();

  // A repeat (same category and system within the policy's window) makes the full review required.
  const prior: PriorIncident[] = await acts.findPriorIncidents({
    category: input.category,
    system: input.system,
    occurredAt: input.occurredAt,
    excludeCaseId: input.caseId,
  });
  const repeat = findRepeat(
    { category: input.category, system: input.system, occurredAt: input.occurredAt },
    prior,
    clocks.repeatWindowDays,
  );
  if (repeat) {
    incident.repeatOf = repeat.id;
    incident.plan = planFor();
    await save('incident.repeat_flagged', 'system', {
      reason: `same category and system as ${repeat.id} within ${clocks.repeatWindowDays} days`,
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
    const within = deadline('acknowledgeWithin', responsePlan(incident.responseLevel, input.category, { clocks }));
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

  // Close-out approval: two approvers for I–II, none of them the owner, the
  // reporter, the requester, anyone who took a step (the desk adds them) or
  // an owner of one of its rectification items.
  for (let attempt = 1; ; attempt++) {
    // The owner owes the request, and before it what the request needs (the
    // evaluation, its rectification items).
    await awaitStep(caseRuntime, {
      name: `close-out-request-${attempt}`,
      title: `Request the close-out of incident ${input.incidentId} once evaluated and rectified: ${input.title}`,
      assigneeId: input.ownerId,
      candidateRoles: [...steps.closeOut.roles],
      timings: { ...clocks.closeOutRequest, ...timings.step },
      done: () => closeOutRequested,
    });
    const approval = await desk.request({
      name: `close-out-${attempt}`,
      title: `Close out incident ${input.incidentId} (grade ${incident.grade}): ${input.title}`,
      candidateRoles: [...APPROVER_ROLES],
      approvalsRequired: incident.plan.closeOutApprovers,
      excludedUserIds: [
        ...new Set([
          input.ownerId,
          input.reporterId,
          ...(closeOutRequestedBy ? [closeOutRequestedBy] : []),
          ...itemOwners.values(),
        ]),
      ],
      timings: approvalTimings,
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
