/**
 * Customer complaints (客户投诉), DOMAIN.md §3 and finance §4.4: accept and
 * classify by type → investigate (initial investigation within 24 hours) →
 * handle → feedback to the customer with cause, measures and follow-up plan
 * (result within 48 hours). The clocks and the repeat window come from the
 * policy the complaint was accepted under. Breaches escalate and are recorded.
 * A serious or repeated complaint is fed back only once its root-cause
 * analysis (根因分析) is accepted by a reviewer who prepared none of the work;
 * it can be raised to an incident or spawn rectification items, linked both ways.
 */
import { ApplicationFailure, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { condition, patched, setHandler } from '@temporalio/workflow';
import { complaintContract } from '../contracts/complaint';
import { incidentContract, INCIDENT_STAGES } from '../contracts/incident';
import {
  feedbackProblem,
  repeatedComplaintIds,
  rootCauseGate,
  rootCausePreparers,
  rootCauseRequiredBecause,
  rootCauseReviewRefusal,
  rootCauseStatusOf,
  ROOT_CAUSE_REVIEWER_ROLES,
  shouldRaiseToIncident,
  type ComplaintFeedback,
  type ComplaintRefusal,
  type ComplaintType,
  type RootCauseReason,
  type RecordedRootCause,
} from '../domain/complaints';
import { parseDuration } from '../domain/durations';
import { DEFAULT_POLICY, type PolicySnapshot } from '../domain/policy';
import { DEFAULT_VERIFIER_ROLES } from '../domain/rectification';
import { caseSnapshotQuery } from './definitions';
import type { IncidentInput } from './incident';
import { GovGrade, GovOwnerRole, GovProcess, GovStage } from './searchAttributes';
import { startChildCase, type ChildCaseStarted } from './shared/children';
import { acts } from './shared/activities';
import { startItem } from './shared/items';
import { CaseRuntime, refuse } from './shared/caseRuntime';

export interface ComplaintInput {
  caseId: string;
  complaintId: string;
  /** The customer's reference in the CRM: never a name or phone number. */
  customerRef: string;
  channel: string;
  /** What it is about (finance §4.4); absent in complaints accepted before complaints had a type. */
  type?: ComplaintType;
  subject: string;
  description?: string;
  severity: 'normal' | 'serious';
  acceptedBy: string;
  handlerId: string;
  /**
   * The policy in force at acceptance: the 24 h / 48 h SLAs and the repeat
   * window. Absent in complaints accepted before policies existed, which ran
   * on the handbook figures (the defaults).
   */
  policy?: PolicySnapshot;
  /** Overrides of the policy's SLAs, where the deployment allows per-case timings (api/caseTimings.ts). */
  timings?: { initialInvestigationWithin?: string; resultWithin?: string };
}

/** patched() id: recording a root-cause analysis that needs review opens the reviewers' task. */
export const COMPLAINT_ROOT_CAUSE_REVIEW_TASK = 'complaint-root-cause-review-task';

export interface ComplaintData extends Record<string, unknown> {
  complaintId: string;
  customerRef: string;
  channel: string;
  type: ComplaintType | null;
  subject: string;
  severity: 'normal' | 'serious';
  handlerId: string;
  acceptedBy: string;
  acceptedAt: string;
  initialInvestigationDueAt: string;
  resultDueAt: string;
  repeated: boolean;
  /** The earlier complaints of the same customer about the same matter, within the policy's window. */
  repeatOf: string[];
  raiseSuggested: string | null;
  initialInvestigation: { findings: string; by: string; at: string } | null;
  /** Why the feedback needs an accepted root-cause analysis; empty when it does not (finance §4.4). */
  rootCauseRequired: RootCauseReason[];
  /** Root-cause analysis, for repeated or serious complaints (finance §4.4). */
  rootCause: RecordedRootCause | null;
  /** Every review, in order: what was returned and why stays on record after a revision. */
  rootCauseReviews: Array<{ version: number; verdict: 'accept' | 'return'; reason?: string; by: string; at: string }>;
  handling: Array<{ action: string; by: string; at: string }>;
  feedback: (ComplaintFeedback & { by: string; at: string }) | null;
  breaches: Array<{ sla: 'initial_investigation_24h' | 'result_48h'; dueAt: string; detectedAt: string }>;
  linkedIncidentCaseId: string | null;
  rectificationTaskIds: string[];
}

export async function complaintWorkflow(
  input: ComplaintInput,
): Promise<{ breaches: string[]; linkedIncidentCaseId: string | null }> {
  const acceptedAtMs = Date.now();
  // The policy the complaint was accepted under; per-case timings only where the deployment allows them.
  const policyValues = input.policy?.values ?? DEFAULT_POLICY;
  const policy = policyValues.complaint;
  const investigationDue =
    acceptedAtMs + parseDuration(input.timings?.initialInvestigationWithin ?? policy.initialInvestigationWithin);
  const resultDue = acceptedAtMs + parseDuration(input.timings?.resultWithin ?? policy.resultWithin);
  const complaint: ComplaintData = {
    complaintId: input.complaintId,
    customerRef: input.customerRef,
    channel: input.channel,
    type: input.type ?? null,
    subject: input.subject,
    severity: input.severity,
    handlerId: input.handlerId,
    acceptedBy: input.acceptedBy,
    acceptedAt: new Date(acceptedAtMs).toISOString(),
    initialInvestigationDueAt: new Date(investigationDue).toISOString(),
    resultDueAt: new Date(resultDue).toISOString(),
    repeated: false,
    repeatOf: [],
    raiseSuggested: null,
    initialInvestigation: null,
    rootCauseRequired: rootCauseRequiredBecause({ severity: input.severity, repeated: false }),
    rootCause: null,
    rootCauseReviews: [],
    handling: [],
    feedback: null,
    breaches: [],
    linkedIncidentCaseId: null,
    rectificationTaskIds: [],
  };
  const caseRuntime = new CaseRuntime({
    caseId: input.caseId,
    process: 'complaint',
    businessKey: input.complaintId,
    title: `Complaint ${input.complaintId}: ${input.subject}`,
    description: input.description,
    stage: 'investigating',
    riskLevel: input.severity === 'serious' ? 'high' : 'low',
    initiatorId: input.acceptedBy,
    ownerId: input.handlerId,
    ownerRole: 'manager',
    dueAt: complaint.initialInvestigationDueAt,
    subjectType: 'customer',
    subjectId: input.customerRef,
    data: complaint,
    policyVersion: input.policy?.version,
  });
  setHandler(caseSnapshotQuery, () => caseRuntime.snapshot());
  const openItems = new Set<string>();

  const { steps } = complaintContract;

  caseRuntime.step(steps.investigation, async ({ actor, findings }) => {
    complaint.initialInvestigation = { findings, by: actor.userId, at: new Date().toISOString() };
    await caseRuntime.moveTo('handling', {
      actorId: actor.userId,
      action: 'complaint.investigated',
      dueAt: complaint.resultDueAt,
      data: complaint,
    });
    return { stage: caseRuntime.stage };
  });

  // The reviewers' task for the analysis awaiting review, if one is open. Its deadline is the result SLA's:
  // the feedback waits for the review, and a late result escalates (below).
  let reviewTaskId: string | null = null;
  let reviewTasks = 0;
  caseRuntime.step(
    steps.rootCause,
    async ({ actor, rootCause, contributingFactors, correctiveActions, preventiveActions }) => {
      const version = (complaint.rootCause?.version ?? (complaint.rootCause ? 1 : 0)) + 1;
      complaint.rootCause = {
        rootCause,
        contributingFactors,
        correctiveActions,
        preventiveActions,
        by: actor.userId,
        at: new Date().toISOString(),
        version,
        status: 'submitted',
        review: null,
      };
      await caseRuntime.recordData('complaint.root_cause_recorded', {
        actorId: actor.userId,
        data: complaint,
        payload: { version },
      });
      if (complaint.rootCauseRequired.length > 0 && !reviewTaskId && patched(COMPLAINT_ROOT_CAUSE_REVIEW_TASK)) {
        reviewTasks += 1;
        const taskId = `${input.caseId}:root-cause-review:${reviewTasks}`;
        reviewTaskId = taskId;
        caseRuntime.openTaskIds.add(taskId);
        await acts.openTask({
          taskId,
          caseId: input.caseId,
          kind: 'step',
          title: `Review the root-cause analysis of complaint ${input.complaintId}`,
          candidateRoles: [...ROOT_CAUSE_REVIEWER_ROLES],
          excludedUserIds: rootCausePreparers(complaint).map((p) => p.userId),
          dueAt: complaint.resultDueAt,
          actorId: actor.userId,
        });
      }
      return { stage: caseRuntime.stage };
    },
    () => {
      if (complaint.rootCause && rootCauseStatusOf(complaint.rootCause) === 'accepted') {
        refuse(
          'ROOT_CAUSE_ACCEPTED',
          `the root-cause analysis was accepted by ${complaint.rootCause.review?.by ?? 'its reviewer'}; the feedback rests on it and it is not revised`,
        );
      }
    },
  );

  caseRuntime.step(
    steps.rootCauseReview,
    async ({ actor, verdict, reason }) => {
      const analysis = complaint.rootCause!;
      const version = analysis.version ?? 1;
      const at = new Date().toISOString();
      const review = { verdict, ...(reason ? { reason } : {}), by: actor.userId, at };
      analysis.status = verdict === 'accept' ? 'accepted' : 'returned';
      analysis.review = review;
      complaint.rootCauseReviews.push({ version, ...review });
      await caseRuntime.recordData(
        verdict === 'accept' ? 'complaint.root_cause_accepted' : 'complaint.root_cause_returned',
        { actorId: actor.userId, data: complaint, reason, payload: { version } },
      );
      if (reviewTaskId) {
        const taskId = reviewTaskId;
        reviewTaskId = null;
        await acts.changeTask({
          taskId,
          caseId: input.caseId,
          actorId: actor.userId,
          action: 'task.done',
          reason,
          patch: { status: 'done', decision: verdict, decidedBy: actor.userId, decidedAt: at, comment: reason },
        });
        caseRuntime.openTaskIds.delete(taskId);
      }
      return { stage: caseRuntime.stage };
    },
    ({ actor, verdict, reason }) => {
      const refusal = rootCauseReviewRefusal(complaint, { reviewerId: actor.userId, verdict, reason });
      if (refusal) refuseWith(refusal);
    },
  );

  caseRuntime.step(steps.handling, async ({ actor, action }) => {
    complaint.handling.push({ action, by: actor.userId, at: new Date().toISOString() });
    await caseRuntime.recordData('complaint.handling_recorded', { actorId: actor.userId, data: complaint });
    return { stage: caseRuntime.stage };
  });

  caseRuntime.step(
    steps.feedback,
    async ({ actor, cause, measures, followUpPlan }) => {
      complaint.feedback = { cause, measures, followUpPlan, by: actor.userId, at: new Date().toISOString() };
      await caseRuntime.moveTo('feedback', {
        actorId: actor.userId,
        action: 'complaint.feedback_sent',
        dueAt: null,
        data: complaint,
      });
      return { stage: caseRuntime.stage };
    },
    ({ cause, measures, followUpPlan }) => {
      const problem = feedbackProblem({ cause, measures, followUpPlan });
      if (problem) refuse('INVALID_FEEDBACK', problem);
      // The feedback closes the complaint: a serious or repeated one needs its accepted root-cause analysis first.
      const missing = rootCauseGate({ requiredBecause: complaint.rootCauseRequired, rootCause: complaint.rootCause });
      if (missing) refuseWith(missing);
    },
  );

  // Raising to an incident is one step: the complaint starts the incident as its child, under the
  // incident's own id, and it outlives the complaint (./shared/children.ts). The step answers once the
  // incident's case has settled and the link is recorded; a crash in between resumes, never half done.
  let raisingTo: string | null = null;
  caseRuntime.step(
    steps.raiseIncident,
    async ({ actor, incident }) => {
      const incidentCaseId = incidentContract.caseId(incident.incidentId);
      raisingTo = incidentCaseId;
      const start: IncidentInput = {
        ...incident,
        timings: incident.timings as IncidentInput['timings'],
        caseId: incidentCaseId,
        reporterId: actor.userId,
        sourceComplaintId: input.caseId,
      };
      let started: ChildCaseStarted;
      try {
        started = await startChildCase({
          workflowType: 'incidentWorkflow',
          workflowId: incidentCaseId,
          kind: 'incident',
          args: [start],
          searchAttributes: [
            { key: GovProcess, value: incidentContract.process },
            { key: GovStage, value: INCIDENT_STAGES[0] },
            { key: GovOwnerRole, value: 'manager' },
            { key: GovGrade, value: incident.grade },
          ],
        });
      } catch (err) {
        raisingTo = null;
        if (err instanceof WorkflowExecutionAlreadyStartedError)
          refuse('INCIDENT_EXISTS', `incident ${incident.incidentId} already exists`);
        throw err;
      }
      complaint.linkedIncidentCaseId = incidentCaseId;
      await caseRuntime.recordData('complaint.raised_to_incident', {
        actorId: actor.userId,
        data: complaint,
        payload: { incidentCaseId, grade: incident.grade },
      });
      if (!started.settled)
        refuse('INCIDENT_FAILED', `incident ${incident.incidentId} ended before it opened: ${started.failure.reason}`);
      return { stage: caseRuntime.stage, incidentCaseId, incidentId: incident.incidentId, grade: incident.grade };
    },
    () => {
      const raised = complaint.linkedIncidentCaseId ?? raisingTo;
      if (raised) refuse('ALREADY_RAISED', `already raised to ${raised}`);
    },
  );

  caseRuntime.step(steps.rectifications, async ({ actor, title, ownerId, dueIn }) => {
    const taskId = `${input.caseId}:rectification:${complaint.rectificationTaskIds.length + 1}`;
    complaint.rectificationTaskIds.push(taskId);
    openItems.add(taskId);
    // The item's clocks from the policy the complaint runs under (its defaults before policies existed).
    const timings = policyValues.rectification;
    const handle = await startItem({
      workflowId: taskId,
      args: [
        {
          parentCaseId: input.caseId,
          title,
          ownerId,
          verifierRoles: DEFAULT_VERIFIER_ROLES,
          dueAt: new Date(Date.now() + parseDuration(dueIn ?? timings.dueIn)).toISOString(),
          timings,
          riskLevel: caseRuntime.record.riskLevel,
          openedBy: actor.userId,
        },
      ],
    });
    void handle.closed.then(() => openItems.delete(taskId));
    await caseRuntime.recordData('complaint.rectification_added', {
      actorId: actor.userId,
      data: complaint,
      payload: { taskId },
    });
    return { stage: caseRuntime.stage, rectificationTaskId: taskId };
  });

  await caseRuntime.open();
  const prior = await acts.findPriorComplaints({ customerRef: input.customerRef, excludeCaseId: input.caseId });
  complaint.repeatOf = repeatedComplaintIds(
    { customerRef: input.customerRef, subject: input.subject, type: input.type, acceptedAt: complaint.acceptedAt },
    prior,
    policy.repeatWindowDays,
  );
  complaint.repeated = complaint.repeatOf.length > 0;
  complaint.rootCauseRequired = rootCauseRequiredBecause({ severity: input.severity, repeated: complaint.repeated });
  const raise = shouldRaiseToIncident(
    { severity: input.severity, repeated: complaint.repeated, channel: input.channel },
    policy.repeatWindowDays,
  );
  if (raise.raise) {
    complaint.raiseSuggested = raise.reason ?? 'serious or repeated';
    await acts.notify({
      caseId: input.caseId,
      kind: 'escalation',
      recipientRole: 'manager',
      message: `Complaint ${input.complaintId} should be raised to an incident: ${complaint.raiseSuggested}`,
    });
    await caseRuntime.recordData('complaint.raise_suggested', {
      actorId: 'system',
      data: complaint,
      reason: complaint.raiseSuggested,
    });
  }

  // The SLAs run from acceptance; a breach escalates and stays on record.
  const breach = async (sla: 'initial_investigation_24h' | 'result_48h', dueMs: number) => {
    complaint.breaches.push({ sla, dueAt: new Date(dueMs).toISOString(), detectedAt: new Date().toISOString() });
    await acts.notify({
      caseId: input.caseId,
      kind: 'escalation',
      recipientRole: 'manager',
      message: `SLA breached (${sla}) on complaint ${input.complaintId}: due ${new Date(dueMs).toISOString()}`,
    });
    await caseRuntime.recordData('complaint.sla_breached', {
      actorId: 'system',
      data: complaint,
      reason: sla,
      payload: { sla },
    });
  };
  if (!(await condition(() => !!complaint.initialInvestigation, Math.max(0, investigationDue - Date.now())))) {
    await breach('initial_investigation_24h', investigationDue);
  }
  if (!(await condition(() => !!complaint.feedback, Math.max(0, resultDue - Date.now())))) {
    await breach('result_48h', resultDue);
  }
  await condition(() => !!complaint.feedback);
  // The loop closes only when every rectification item is verified.
  await condition(() => openItems.size === 0);
  await caseRuntime.close('resolved', {
    actorId: 'system',
    data: complaint,
    payload: { breaches: complaint.breaches.map((b) => b.sla) },
  });
  return { breaches: complaint.breaches.map((b) => b.sla), linkedIncidentCaseId: complaint.linkedIncidentCaseId };
}

/** A refusal that names what blocks in `details` (the API shows details[0] as error.details). */
function refuseWith(refusal: ComplaintRefusal): never {
  throw ApplicationFailure.create({
    type: refusal.code,
    message: refusal.message,
    details: refusal.details ? [refusal.details] : undefined,
    nonRetryable: true,
  });
}
