/**
 * Customer complaints (客户投诉), DOMAIN.md §3: accept → investigate (initial
 * investigation within 24 hours) → handle → feedback to the customer with
 * cause, measures and follow-up plan (result within 48 hours). Breaches
 * escalate and are recorded. A serious or repeated complaint can be raised to
 * an incident or spawn rectification items, linked both ways.
 */
import { ApplicationFailure, condition, setHandler, startChild } from '@temporalio/workflow';
import {
  COMPLAINT_SLA,
  feedbackProblem,
  isRepeatedComplaint,
  shouldRaiseToIncident,
  type ComplaintFeedback,
} from '../domain/complaints';
import { DEFAULT_RECTIFICATION_TIMINGS } from '../domain/deadlines';
import { durationProblem, parseDuration } from '../domain/durations';
import { DEFAULT_VERIFIER_ROLES } from '../domain/rectification';
import { hasAnyRole, type Actor } from '../domain/roles';
import {
  addComplaintRectificationUpdate,
  caseSnapshotQuery,
  linkComplaintIncidentUpdate,
  recordComplaintHandlingUpdate,
  recordInitialInvestigationUpdate,
  sendComplaintFeedbackUpdate,
} from './definitions';
import { rectificationItemWorkflow } from './rectificationItem';
import { acts } from './shared/activities';
import { CaseRuntime } from './shared/caseRuntime';

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
  handling: Array<{ action: string; by: string; at: string }>;
  feedback: (ComplaintFeedback & { by: string; at: string }) | null;
  breaches: Array<{ sla: 'initial_investigation_24h' | 'result_48h'; dueAt: string; detectedAt: string }>;
  linkedIncidentCaseId: string | null;
  rectificationTaskIds: string[];
}

function refuse(code: string, message: string): never {
  throw ApplicationFailure.create({ type: code, message, nonRetryable: true });
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
  const isHandler = (actor: Actor) => actor.userId === input.handlerId || hasAnyRole(actor, ['manager']);
  const notClosed = () => caseRuntime.status !== 'closed';

  setHandler(
    recordInitialInvestigationUpdate,
    async ({ actor, findings }) => {
      complaint.initialInvestigation = { findings: findings.trim(), by: actor.userId, at: new Date().toISOString() };
      await caseRuntime.moveTo('handling', {
        actorId: actor.userId,
        action: 'complaint.investigated',
        dueAt: complaint.resultDueAt,
        data: complaint,
      });
      return { stage: caseRuntime.stage };
    },
    {
      validator: ({ actor, findings }) => {
        if (caseRuntime.stage !== 'investigating') refuse('NOT_INVESTIGATING', `the complaint is ${caseRuntime.stage}`);
        if (!isHandler(actor))
          refuse('ROLE_NOT_PERMITTED', 'the complaint handler or a manager records the investigation');
        if (!findings?.trim()) refuse('INVALID_INVESTIGATION', 'findings are required');
      },
    },
  );

  setHandler(
    recordComplaintHandlingUpdate,
    async ({ actor, action }) => {
      complaint.handling.push({ action: action.trim(), by: actor.userId, at: new Date().toISOString() });
      await caseRuntime.recordData('complaint.handling_recorded', {
        actorId: actor.userId,
        data: complaint,
        payload: { action: action.trim() },
      });
      return { stage: caseRuntime.stage };
    },
    {
      validator: ({ actor, action }) => {
        if (!notClosed()) refuse('COMPLAINT_CLOSED', 'the complaint is closed');
        if (!isHandler(actor)) refuse('ROLE_NOT_PERMITTED', 'the complaint handler or a manager records handling');
        if (!action?.trim()) refuse('INVALID_HANDLING', 'say what was done in action');
      },
    },
  );

  setHandler(
    sendComplaintFeedbackUpdate,
    async ({ actor, cause, measures, followUpPlan }) => {
      complaint.feedback = {
        cause: cause.trim(),
        measures: measures.trim(),
        followUpPlan: followUpPlan.trim(),
        by: actor.userId,
        at: new Date().toISOString(),
      };
      await caseRuntime.moveTo('feedback', {
        actorId: actor.userId,
        action: 'complaint.feedback_sent',
        dueAt: null,
        data: complaint,
      });
      return { stage: caseRuntime.stage };
    },
    {
      validator: ({ actor, cause, measures, followUpPlan }) => {
        if (caseRuntime.stage !== 'handling') {
          refuse('NOT_HANDLING', `feedback follows the initial investigation (the complaint is ${caseRuntime.stage})`);
        }
        if (!isHandler(actor)) refuse('ROLE_NOT_PERMITTED', 'the complaint handler or a manager sends the feedback');
        const problem = feedbackProblem({ cause, measures, followUpPlan });
        if (problem) refuse('INVALID_FEEDBACK', problem);
      },
    },
  );

  setHandler(
    linkComplaintIncidentUpdate,
    async ({ actor, incidentCaseId }) => {
      complaint.linkedIncidentCaseId = incidentCaseId;
      await caseRuntime.recordData('complaint.raised_to_incident', {
        actorId: actor.userId,
        data: complaint,
        payload: { incidentCaseId },
      });
      return { stage: caseRuntime.stage };
    },
    {
      validator: ({ actor }) => {
        if (!notClosed()) refuse('COMPLAINT_CLOSED', 'the complaint is closed');
        if (complaint.linkedIncidentCaseId)
          refuse('ALREADY_RAISED', `already raised to ${complaint.linkedIncidentCaseId}`);
        if (!hasAnyRole(actor, ['manager']))
          refuse('ROLE_NOT_PERMITTED', 'a manager raises a complaint to an incident');
      },
    },
  );

  setHandler(
    addComplaintRectificationUpdate,
    async ({ actor, title, ownerId, dueIn }) => {
      const taskId = `${input.caseId}:rectification:${complaint.rectificationTaskIds.length + 1}`;
      complaint.rectificationTaskIds.push(taskId);
      openItems.add(taskId);
      const timings = DEFAULT_RECTIFICATION_TIMINGS;
      const handle = await startChild(rectificationItemWorkflow, {
        workflowId: taskId,
        args: [
          {
            parentCaseId: input.caseId,
            title: title.trim(),
            ownerId,
            verifierRoles: DEFAULT_VERIFIER_ROLES,
            dueAt: new Date(Date.now() + parseDuration(dueIn ?? timings.dueIn)).toISOString(),
            timings,
            riskLevel: caseRuntime.record.riskLevel,
            openedBy: actor.userId,
          },
        ],
      });
      void handle.result().then(() => openItems.delete(taskId));
      await caseRuntime.recordData('complaint.rectification_added', {
        actorId: actor.userId,
        data: complaint,
        payload: { taskId, title },
      });
      return { stage: caseRuntime.stage, rectificationTaskId: taskId };
    },
    {
      validator: ({ actor, title, ownerId, dueIn }) => {
        if (!notClosed()) refuse('COMPLAINT_CLOSED', 'the complaint is closed');
        if (!hasAnyRole(actor, ['manager'])) refuse('ROLE_NOT_PERMITTED', 'a manager opens rectification items');
        if (!title?.trim() || !ownerId)
          refuse('INVALID_RECTIFICATION', 'a rectification item needs a title and an ownerId');
        const problem = dueIn ? durationProblem(dueIn) : null;
        if (problem) refuse('INVALID_RECTIFICATION', problem);
      },
    },
  );

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
