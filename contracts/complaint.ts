/**
 * Customer complaints (客户投诉), DOMAIN.md §3: accept and classify by type →
 * initial investigation (within 24 h) → handling → feedback with cause,
 * measures and follow-up plan (result within 48 h) → closed once every
 * rectification item is verified. A serious or repeated complaint's feedback
 * waits for its root-cause analysis, accepted by a reviewer from risk,
 * compliance or internal audit who prepared none of the work (finance §4.4).
 */
import { z } from 'zod';
import { BUSINESS_KEY_PATTERN } from '../domain/cases';
import { ROOT_CAUSE_REVIEWER_ROLES } from '../domain/complaints';
import { INCIDENT_CATEGORIES, INCIDENT_GRADES } from '../domain/incidents';
import { defineProcess, defineStep, SHARED_STAGES, stepReturning } from './core';
import { duration, text, userId } from './schemas';

export const COMPLAINT_STAGES = ['investigating', 'handling', 'feedback', SHARED_STAGES.closed] as const;
export type ComplaintStage = (typeof COMPLAINT_STAGES)[number];

export interface ComplaintStepResult {
  stage: string;
  rectificationTaskId?: string;
}

/**
 * The incident a complaint is raised to, as the API has checked it (its
 * grade against the suggestion, its owner an active manager: api/routes/
 * incidents.ts `checkIncidentReport`): the incident's start, less what the
 * complaint supplies (the case id from the incident id, the reporter, the
 * source complaint).
 */
export const RaisedIncidentSchema = z
  .object({
    incidentId: z.string().regex(BUSINESS_KEY_PATTERN),
    title: text(200),
    description: z.string().max(10_000).optional(),
    category: z.enum(INCIDENT_CATEGORIES),
    system: text(100),
    occurredAt: z.iso.datetime({ offset: true }),
    impact: z
      .object({
        affectedUsers: z.number().int().min(0),
        amountCny: z.number().min(0),
        dataRecordsExposed: z.number().int().min(0).optional(),
        outageMinutes: z.number().int().min(0).optional(),
      })
      .strict(),
    grade: z.enum(INCIDENT_GRADES),
    suggestedGrade: z.enum(INCIDENT_GRADES),
    gradeReason: text(2000).optional(),
    ownerId: userId,
    // The incident's own timings, checked by the API against the incident's ladders.
    timings: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export interface RaiseIncidentResult {
  stage: string;
  incidentCaseId: string;
  incidentId: string;
  grade: string;
}

const HANDLER = ['manager'] as const;

export const complaintContract = defineProcess({
  process: 'complaint',
  stages: COMPLAINT_STAGES,
  keyPattern: BUSINESS_KEY_PATTERN,
  caseId: (complaintId: string) => `complaint:${complaintId}`,
  steps: {
    investigation: defineStep({
      name: 'recordInitialInvestigation',
      path: 'investigation',
      example: { findings: 'Refund stuck at the bank: the file was rejected' },
      summary: 'Record the initial investigation (due within 24 h of acceptance)',
      input: z.object({ findings: text(5000) }).strict(),
      stages: ['investigating'] as ComplaintStage[],
      roles: HANDLER,
      owner: true,
      who: 'the complaint handler or a manager records the investigation',
      stageRefusal: 'NOT_INVESTIGATING',
      refusals: { NOT_INVESTIGATING: 'conflict' },
    } as const),
    handling: defineStep({
      name: 'recordComplaintHandling',
      path: 'handling',
      example: { action: 'Called the customer; refund resent' },
      summary: 'Record a handling action',
      input: z.object({ action: text(5000) }).strict(),
      stages: 'open',
      roles: HANDLER,
      owner: true,
      who: 'the complaint handler or a manager records handling',
      stageRefusal: 'COMPLAINT_CLOSED',
      refusals: { COMPLAINT_CLOSED: 'conflict' },
    } as const),
    feedback: defineStep({
      name: 'sendComplaintFeedback',
      path: 'feedback',
      example: { cause: 'Bank file rejected', measures: 'Refund resent', followUpPlan: 'Call back in 3 days' },
      summary: 'Feed back to the customer: cause, measures and follow-up plan (the result, due within 48 h)',
      input: z.object({ cause: text(5000), measures: text(5000), followUpPlan: text(5000) }).strict(),
      stages: ['handling'] as ComplaintStage[],
      roles: HANDLER,
      owner: true,
      who: 'the complaint handler or a manager sends the feedback',
      stageRefusal: 'NOT_HANDLING',
      refusals: {
        NOT_HANDLING: 'conflict',
        INVALID_FEEDBACK: 'unprocessable',
        // A serious or repeated complaint without an accepted root-cause analysis (domain/complaints.ts rootCauseGate).
        ROOT_CAUSE_REQUIRED: 'unprocessable',
      },
    } as const),
    rootCause: defineStep({
      name: 'recordComplaintRootCause',
      path: 'root-cause',
      example: {
        rootCause: 'Capture retried after a network timeout',
        contributingFactors: ['no idempotency key'],
        correctiveActions: ['Refund the second capture'],
        preventiveActions: ['Add an idempotency key to card captures'],
      },
      summary:
        'Record the root-cause analysis (根因分析) of a repeated or serious complaint: cause, contributing factors, corrective and preventive actions; it goes to review, and the feedback waits for its acceptance (finance §4.4)',
      input: z
        .object({
          rootCause: text(5000),
          contributingFactors: z.array(text(500)).max(20).default([]),
          correctiveActions: z.array(text(1000)).min(1, 'name at least one corrective action (纠正措施)').max(20),
          preventiveActions: z.array(text(1000)).min(1, 'name at least one preventive action (预防措施)').max(20),
        })
        .strict(),
      stages: ['investigating', 'handling'] as ComplaintStage[],
      roles: HANDLER,
      owner: true,
      who: 'the complaint handler or a manager records the root cause',
      // An analysis may be revised until it is accepted: the feedback rests on the accepted one.
      refusals: { ROOT_CAUSE_ACCEPTED: 'conflict' },
    } as const),
    rootCauseReview: defineStep({
      name: 'reviewComplaintRootCause',
      path: 'root-cause-review',
      example: { verdict: 'accept' },
      summary:
        'Review a root-cause analysis: accept it, or return it with the reason (risk, compliance or internal audit; never whoever accepted, handled or analysed the complaint)',
      input: z
        .object({ verdict: z.enum(['accept', 'return']), reason: z.string().trim().max(5000).optional() })
        .strict(),
      stages: 'open',
      roles: ROOT_CAUSE_REVIEWER_ROLES,
      who: `reviewing a root-cause analysis needs the role ${ROOT_CAUSE_REVIEWER_ROLES.join(' or ')}`,
      stageRefusal: 'COMPLAINT_CLOSED',
      refusals: {
        COMPLAINT_CLOSED: 'conflict',
        NOT_AWAITING_REVIEW: 'conflict',
        SEGREGATION_OF_DUTIES: 'unprocessable',
        REASON_REQUIRED: 'unprocessable',
      },
    } as const),
    rectifications: defineStep({
      name: 'addComplaintRectification',
      path: 'rectifications',
      example: { title: 'Add an idempotency key to refund captures', ownerId: 'chen.owner', dueIn: '14d' },
      summary:
        'Open a rectification item from this complaint (managers); the complaint closes only when it is verified',
      input: z.object({ title: text(500), ownerId: userId, dueIn: duration.optional() }).strict(),
      stages: 'open',
      roles: ['manager'],
      who: 'a manager opens rectification items',
      stageRefusal: 'COMPLAINT_CLOSED',
      refusals: { COMPLAINT_CLOSED: 'conflict' },
    } as const),
    raiseIncident: stepReturning<RaiseIncidentResult>()({
      name: 'raiseComplaintIncident',
      // The route (api/routes/complaints.ts) checks the incident report first, as reporting one does.
      summary:
        'Raise a serious or repeated complaint to an incident (managers): the complaint starts it, and both record the link',
      input: z.object({ incident: RaisedIncidentSchema }).strict(),
      stages: 'open',
      roles: ['manager'],
      who: 'a manager raises a complaint to an incident',
      stageRefusal: 'COMPLAINT_CLOSED',
      refusals: {
        COMPLAINT_CLOSED: 'conflict',
        ALREADY_RAISED: 'conflict',
        INCIDENT_EXISTS: 'conflict',
        INCIDENT_FAILED: 'conflict',
      },
    } as const),
  },
});
