/**
 * Customer complaints (客户投诉), DOMAIN.md §3: accept → initial investigation
 * (within 24 h) → handling → feedback with cause, measures and follow-up plan
 * (result within 48 h) → closed once every rectification item is verified.
 */
import { z } from 'zod';
import { BUSINESS_KEY_PATTERN } from '../domain/cases';
import { defineProcess, defineStep, SHARED_STAGES } from './core';
import { duration, text, userId } from './schemas';

export const COMPLAINT_STAGES = ['investigating', 'handling', 'feedback', SHARED_STAGES.closed] as const;
export type ComplaintStage = (typeof COMPLAINT_STAGES)[number];

export interface ComplaintStepResult {
  stage: string;
  rectificationTaskId?: string;
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
      refusals: { NOT_HANDLING: 'conflict', INVALID_FEEDBACK: 'unprocessable' },
    } as const),
    rootCause: defineStep({
      name: 'recordComplaintRootCause',
      path: 'root-cause',
      example: { rootCause: 'Capture retried after a network timeout', contributingFactors: ['no idempotency key'] },
      summary: 'Record the root cause of a repeated or serious complaint, before the feedback (finance §4.4)',
      input: z.object({ rootCause: text(5000), contributingFactors: z.array(text(500)).max(20).default([]) }).strict(),
      stages: ['investigating', 'handling'] as ComplaintStage[],
      roles: HANDLER,
      owner: true,
      who: 'the complaint handler or a manager records the root cause',
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
    linkIncident: defineStep({
      name: 'linkComplaintIncident',
      summary: 'Raise a serious or repeated complaint to an incident (managers), linked both ways',
      input: z.object({ incidentCaseId: z.string().min(1).max(300) }).strict(),
      stages: 'open',
      roles: ['manager'],
      who: 'a manager raises a complaint to an incident',
      stageRefusal: 'COMPLAINT_CLOSED',
      refusals: { COMPLAINT_CLOSED: 'conflict', ALREADY_RAISED: 'conflict' },
    } as const),
  },
});
