/**
 * A risk warning as a case (contracts/riskWarning.ts; e-commerce §6.2,
 * finance §5.4): the level's response, then a review that closes it.
 * 一般: the indicator's owner acknowledges (the deadline ladder: reminded,
 * escalated, overdue and still owed). 较高: the owner or a manager plans the
 * response, on the same ladder. 重大: an incident at the policy's grade, as
 * a child case that outlives this one; the warning waits for the incident's
 * whole response. Every warning closes with a review by risk or compliance,
 * never by whoever acknowledged or planned (segregation of duties).
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { patched, setHandler, sleep, upsertSearchAttributes } from '@temporalio/workflow';
import { incidentContract, INCIDENT_STAGES } from '../contracts/incident';
import { FIRST_STAGE, RISK_LEVEL_OF, riskWarningContract, WARNING_REVIEWER_ROLES } from '../contracts/riskWarning';
import type { ApprovalTimings } from '../domain/deadlines';
import type { IncidentGrade } from '../domain/incidents';
import { DEFAULT_POLICY, type PolicySnapshot } from '../domain/policy';
import {
  incidentWatchDelay,
  responseLadder,
  reviewRefusal,
  warningIncidentId,
  WARNING_LEVEL_LABELS,
  type KriDirection,
  type KriThresholds,
  type WarningLevel,
} from '../domain/warnings';
import { caseSnapshotQuery } from './definitions';
import type { ExistingIncident } from '../activities/risks';
import type { IncidentInput } from './incident';
import { GovGrade, GovOwnerRole, GovProcess, GovStage, GovWarningLevel } from './searchAttributes';
import { acts } from './shared/activities';
import { CaseRuntime, refuse } from './shared/caseRuntime';
import { startChildCase } from './shared/children';
import { awaitStep } from './shared/humanSteps';

/**
 * patched() id: the incident of a major warning names the warning as its
 * parent case (cases recorded before it set only sourceWarningCaseId in the
 * incident's data, so the case links did not show the pair).
 */
const INCIDENT_PARENT_IS_WARNING = 'warning-incident-parent-case';

/**
 * patched() id: a major warning first looks for an incident already there
 * for its alert or its risk, and joins it (linked, the warning its child
 * case) instead of opening a second one; it waits for that incident to
 * close before the review. Cases recorded before it tried to start
 * WARN-<alertKey> and, when that existed, went to the review unlinked.
 */
const JOIN_EXISTING_INCIDENT = 'warning-joins-existing-incident';

export interface RiskWarningInput {
  caseId: string;
  warningKey: string;
  kriKey: string;
  kriName: string;
  unit?: string;
  direction: KriDirection;
  thresholds: KriThresholds;
  alertKey: string;
  value: number;
  observedAt: string;
  /** The level the value reached; `level` is one step higher on a repeat. */
  levelReached: WarningLevel;
  level: WarningLevel;
  /** Earlier warnings of the indicator within warnings.repeatWindowDays, by alert key. */
  repeatOf: string[];
  /** The indicator's owner (an active manager: they own the incident of a major warning). */
  ownerId: string;
  riskKey?: string;
  /** The monitoring system's service user that posted the observation. */
  raisedBy: string;
  policy: PolicySnapshot;
  /** Shorter clocks where the deployment allows per-case timings (api/caseTimings.ts). */
  timings?: {
    response?: ApprovalTimings;
    review?: ApprovalTimings;
    /** The first wait between checks of an incident the warning joined (domain/warnings.ts incidentWatchDelay). */
    incidentWatch?: string;
  };
}

export interface RiskWarningData extends Record<string, unknown> {
  label: { en: string; zh: string };
  kriKey: string;
  kriName: string;
  alertKey: string;
  value: number;
  unit: string | null;
  direction: KriDirection;
  thresholds: KriThresholds;
  observedAt: string;
  level: WarningLevel;
  levelLabel: { en: string; zh: string };
  levelReached: WarningLevel;
  repeatOf: string[];
  riskKey: string | null;
  acknowledgement: { by: string; at: string; note?: string } | null;
  responsePlan: { plan: string; by: string; at: string } | null;
  incidentId: string | null;
  incidentCaseId: string | null;
  /** Set when the warning joined an incident already there instead of opening one: matched by alert or by risk. */
  joinedIncident?: { caseId: string; matchedBy: 'alert' | 'risk'; grade: string | null };
  review: { conclusion: string; modelAdjustment?: string; by: string; at: string } | null;
}

export async function riskWarningWorkflow(input: RiskWarningInput): Promise<{ outcome: 'resolved' }> {
  const policy = input.policy.values ?? DEFAULT_POLICY;
  const responseTimings = input.timings?.response ?? responseLadder(policy.warnings.acknowledgeWithin[input.level]);
  const reviewTimings = input.timings?.review ?? policy.approval;
  const warning: RiskWarningData = {
    label: { en: 'Risk warning', zh: '风险预警' },
    kriKey: input.kriKey,
    kriName: input.kriName,
    alertKey: input.alertKey,
    value: input.value,
    unit: input.unit ?? null,
    direction: input.direction,
    thresholds: input.thresholds,
    observedAt: input.observedAt,
    level: input.level,
    levelLabel: WARNING_LEVEL_LABELS[input.level],
    levelReached: input.levelReached,
    repeatOf: input.repeatOf,
    riskKey: input.riskKey ?? null,
    acknowledgement: null,
    responsePlan: null,
    incidentId: input.level === 'major' ? warningIncidentId(input.alertKey) : null,
    incidentCaseId: null,
    review: null,
  };
  const caseRuntime = new CaseRuntime({
    caseId: input.caseId,
    process: riskWarningContract.process,
    businessKey: input.warningKey,
    title: `${WARNING_LEVEL_LABELS[input.level].zh} ${input.level} warning: ${input.kriName} = ${input.value}${input.unit ? ` ${input.unit}` : ''}`,
    stage: FIRST_STAGE[input.level],
    riskLevel: RISK_LEVEL_OF[input.level],
    initiatorId: input.raisedBy,
    ownerId: input.ownerId,
    ownerRole: 'manager',
    subjectType: 'kri',
    subjectId: input.kriKey,
    data: warning,
    policyVersion: input.policy.version,
  });
  setHandler(caseSnapshotQuery, () => caseRuntime.snapshot());
  // Auditors filter warnings by level in Temporal UI; the case's own keys are mirrored by CaseRuntime.
  upsertSearchAttributes([{ key: GovWarningLevel, value: input.level }]);
  const { steps } = riskWarningContract;

  caseRuntime.step(steps.acknowledge, async ({ actor, note }) => {
    warning.acknowledgement = { by: actor.userId, at: new Date().toISOString(), ...(note ? { note } : {}) };
    await caseRuntime.moveTo('review', {
      actorId: actor.userId,
      action: 'warning.acknowledged',
      dueAt: null,
      data: warning,
    });
    return { stage: caseRuntime.stage };
  });

  caseRuntime.step(steps.responsePlan, async ({ actor, plan }) => {
    warning.responsePlan = { plan, by: actor.userId, at: new Date().toISOString() };
    await caseRuntime.moveTo('review', {
      actorId: actor.userId,
      action: 'warning.response_planned',
      dueAt: null,
      data: warning,
    });
    return { stage: caseRuntime.stage };
  });

  let reviewed = false;
  caseRuntime.step(
    steps.review,
    async ({ actor, conclusion, modelAdjustment }) => {
      warning.review = {
        conclusion,
        ...(modelAdjustment ? { modelAdjustment } : {}),
        by: actor.userId,
        at: new Date().toISOString(),
      };
      reviewed = true;
      await caseRuntime.recordData('warning.reviewed', { actorId: actor.userId, data: warning, reason: conclusion });
      return { stage: caseRuntime.stage };
    },
    ({ actor }) => {
      const responders = [
        ...(warning.acknowledgement ? [{ userId: warning.acknowledgement.by, did: 'acknowledged' }] : []),
        ...(warning.responsePlan ? [{ userId: warning.responsePlan.by, did: 'planned the response to' }] : []),
      ];
      const problem = reviewRefusal(actor.userId, responders);
      if (problem) refuse('SEGREGATION_OF_DUTIES', problem);
    },
  );

  await caseRuntime.open();

  if (input.level === 'general') {
    await awaitStep(caseRuntime, {
      name: 'acknowledgement',
      title: `Acknowledge the general (一般) warning on ${input.kriName}`,
      assigneeId: input.ownerId,
      candidateRoles: [],
      timings: responseTimings,
      done: () => warning.acknowledgement !== null,
    });
  } else if (input.level === 'elevated') {
    await awaitStep(caseRuntime, {
      name: 'response-plan',
      title: `Plan the response to the elevated (较高) warning on ${input.kriName}`,
      assigneeId: input.ownerId,
      candidateRoles: ['manager'],
      timings: responseTimings,
      done: () => warning.responsePlan !== null,
    });
  } else {
    const incidentId = warningIncidentId(input.alertKey);
    const incidentCaseId = incidentContract.caseId(incidentId);
    const joins = patched(JOIN_EXISTING_INCIDENT);
    const existing = joins
      ? await acts.findIncidentForWarning({ incidentCaseId, riskKey: input.riskKey ?? null })
      : null;
    if (existing) await joinIncident(existing);
    else await openIncident(incidentId, incidentCaseId, joins);
    await caseRuntime.moveTo('review', {
      actorId: 'system',
      action: 'warning.incident_closed',
      dueAt: null,
      data: warning,
    });
  }

  /**
   * An incident is already there for this alert or this risk: the warning
   * joins it (linked, the warning its child case) and waits for it to
   * close, checking the read model on a widening interval.
   */
  async function joinIncident(existing: ExistingIncident): Promise<void> {
    warning.incidentId = existing.incidentId;
    warning.incidentCaseId = existing.caseId;
    warning.joinedIncident = { caseId: existing.caseId, matchedBy: existing.matchedBy, grade: existing.grade };
    await acts.linkWarningToIncident({
      warningCaseId: input.caseId,
      incidentCaseId: existing.caseId,
      matchedBy: existing.matchedBy,
    });
    await caseRuntime.recordData('warning.incident_joined', {
      actorId: 'system',
      reason: `an incident was already open for this ${existing.matchedBy}: ${existing.caseId}; no second incident opened`,
      data: warning,
      payload: { incidentCaseId: existing.caseId, matchedBy: existing.matchedBy, grade: existing.grade },
    });
    for (let check = 0; ; check++) {
      const incident = await acts.caseStatus({ caseId: existing.caseId });
      if (!incident || incident.status !== 'open') return;
      await sleep(incidentWatchDelay(check, input.timings?.incidentWatch));
    }
  }

  async function openIncident(incidentId: string, incidentCaseId: string, joins: boolean): Promise<void> {
    const grade = policy.warnings.majorIncidentGrade as IncidentGrade;
    const incident: IncidentInput = {
      caseId: incidentCaseId,
      incidentId,
      title: `Major (重大) risk warning on ${input.kriName}`,
      description: `Raised by risk warning ${input.caseId}: ${input.kriName} (${input.kriKey}) observed at ${input.value}${input.unit ? ` ${input.unit}` : ''} on ${input.observedAt}.`,
      category: 'other',
      system: `kri:${input.kriKey}`,
      occurredAt: input.observedAt,
      impact: { affectedUsers: 0, amountCny: 0 },
      grade,
      suggestedGrade: grade,
      reporterId: input.raisedBy,
      ownerId: input.ownerId,
      policy: input.policy,
    };
    let started;
    try {
      started = await startChildCase({
        workflowType: 'incidentWorkflow',
        workflowId: incidentCaseId,
        kind: 'incident',
        args: [incident],
        searchAttributes: [
          { key: GovProcess, value: incidentContract.process },
          { key: GovStage, value: INCIDENT_STAGES[0] },
          { key: GovOwnerRole, value: 'manager' },
          { key: GovGrade, value: grade },
        ],
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      // Started meanwhile, its read-model row not yet written when the warning looked: join it.
      if (joins) return joinIncident({ caseId: incidentCaseId, incidentId, status: 'open', grade, matchedBy: 'alert' });
      started = null;
    }
    warning.incidentCaseId = incidentCaseId;
    await caseRuntime.recordData('warning.incident_opened', {
      actorId: 'system',
      data: warning,
      payload: { incidentCaseId, grade, alreadyExisted: started === null },
    });
    // The link back, in the incident's own case data: a key its process never writes, so no
    // later step of the incident unsets it (the same way as failedChildren, ./shared/caseRuntime.ts).
    // An incident that failed before it opened is recorded as a failed child (./shared/children.ts).
    if (started?.settled) {
      if (patched(INCIDENT_PARENT_IS_WARNING)) {
        // The warning is also the incident's parent case: each case's detail shows the other.
        await acts.linkIncidentToWarning({ incidentCaseId, warningCaseId: input.caseId });
      } else {
        await acts.changeCase({
          caseId: incidentCaseId,
          actorId: 'system',
          action: 'incident.linked_warning',
          reason: `opened by the major risk warning ${input.caseId}`,
          patch: { dataDelta: { set: { sourceWarningCaseId: input.caseId } } },
          payload: { warningCaseId: input.caseId },
        });
      }
      // The incident's whole response runs first: the review looks back on it.
      await started.ended;
    }
  }

  await awaitStep(caseRuntime, {
    name: 'review',
    title: `Review the ${input.level} warning on ${input.kriName}`,
    candidateRoles: [...WARNING_REVIEWER_ROLES],
    timings: reviewTimings,
    done: () => reviewed,
  });
  await caseRuntime.close('resolved', {
    actorId: warning.review?.by ?? 'system',
    action: 'warning.closed',
    reason: warning.review?.conclusion ?? 'reviewed',
    data: warning,
  });
  return { outcome: 'resolved' };
}
