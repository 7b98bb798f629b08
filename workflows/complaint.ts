/**
 * Customer complaints (客户投诉), DOMAIN.md §3: accept → investigate (initial
 * investigation within 24 hours) → handle → feedback to the customer with
 * cause, measures and follow-up plan (result within 48 hours). Breaches
 * escalate and are recorded. A serious or repeated complaint can be raised to
 * an incident or spawn rectification items, linked both ways.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { condition, setHandler } from '@temporalio/workflow';
import { complaintContract } from '../contracts/complaint';
import { incidentContract, INCIDENT_STAGES } from '../contracts/incident';
import {
  COMPLAINT_SLA,
  feedbackProblem,
  isRepeatedComplaint,
  shouldRaiseToIncident,
  type ComplaintFeedback,
} from '../domain/complaints';
import { DEFAULT_RECTIFICATION_TIMINGS } from '../domain/deadlines';
import { parseDuration } from '../domain/durations';
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
  subject: string;
  description?: string;
  severity: 'normal' | 'serious';
  acceptedBy: string;
  handlerId: string;
  /** Overrides of the 24 h / 48 h SLAs, for drills and tests. */
  timings?: { initialInvestigationWithin?: string; resultWithin?: string };
}

export interface ComplaintData extends Record<string, unknown> {
  complaintId: string;
  customerRef: string;
  channel: string;
  subject: string;
  severity: 'normal' | 'serious';
  handlerId: string;
  acceptedAt: string;
  initialInvestigationDueAt: string;
  resultDueAt: string;
  repeated: boolean;
  raiseSuggested: string | null;
  initialInvestigation: { findings: string; by: string; at: string } | null;
  /** Root-cause analysis, for repeated or serious complaints (finance §4.4). */
  rootCause: { rootCause: string; contributingFactors: string[]; by: string; at: string } | null;
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
  const investigationDue =
    acceptedAtMs + parseDuration(input.timings?.initialInvestigationWithin ?? COMPLAINT_SLA.initialInvestigationWithin);
  const resultDue = acceptedAtMs + parseDuration(input.timings?.resultWithin ?? COMPLAINT_SLA.resultWithin);
  const complaint: ComplaintData = {
    complaintId: input.complaintId,
    customerRef: input.customerRef,
    channel: input.channel,
    subject: input.subject,
    severity: input.severity,
    handlerId: input.handlerId,
    acceptedAt: new Date(acceptedAtMs).toISOString(),
    initialInvestigationDueAt: new Date(investigationDue).toISOString(),
    resultDueAt: new Date(resultDue).toISOString(),
    repeated: false,
    raiseSuggested: null,
    initialInvestigation: null,
    rootCause: null,
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

  caseRuntime.step(steps.rootCause, async ({ actor, rootCause, contributingFactors }) => {
    complaint.rootCause = { rootCause, contributingFactors, by: actor.userId, at: new Date().toISOString() };
    await caseRuntime.recordData('complaint.root_cause_recorded', { actorId: actor.userId, data: complaint });
    return { stage: caseRuntime.stage };
  });

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
    const timings = DEFAULT_RECTIFICATION_TIMINGS;
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
  complaint.repeated = isRepeatedComplaint(
    { customerRef: input.customerRef, subject: input.subject, acceptedAt: complaint.acceptedAt },
    prior,
  );
  const raise = shouldRaiseToIncident({
    severity: input.severity,
    repeated: complaint.repeated,
    channel: input.channel,
  });
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
