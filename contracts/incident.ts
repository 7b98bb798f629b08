/**
 * Incident close-out (突发事件应对, 事件闭环), DOMAIN.md §3: report →
 * acknowledge → on-site handling → information notification → stabilised →
 * follow-up evaluation (root cause; short at grade IV) → rectification →
 * close-out approval → closed. Every step is the incident owner's or a
 * manager's, but regrading, which is a manager's alone; a downgrade is only
 * requested there, and an approver who is neither the owner, the reporter
 * nor the requester decides it (POST /api/tasks/{taskId}/decision).
 */
import { z } from 'zod';
import { BUSINESS_KEY_PATTERN } from '../domain/cases';
import { AUDIENCES, INCIDENT_GRADES } from '../domain/incidents';
import { defineProcess, defineStep, SHARED_STAGES } from './core';
import { duration, pastInstant, text, userId } from './schemas';

/** The loop in order; `stabilised` marks the end of on-site handling. */
export const INCIDENT_STAGES = [
  'reported',
  'handling',
  'notification',
  'stabilised',
  'evaluation',
  SHARED_STAGES.rectification,
  SHARED_STAGES.awaitingApproval,
  SHARED_STAGES.closed,
] as const;
export type IncidentStage = (typeof INCIDENT_STAGES)[number];

export interface IncidentStepResult {
  stage: string;
  grade: string;
  /** A downgrade's approval task, which the regrade opened instead of changing the grade. */
  downgradeTaskId?: string;
}

/** The owner is always a manager; any other manager may step in. */
const RESPONDERS = ['manager'] as const;
/** Once acknowledged and until close-out is requested. */
const RESPONDING = ['handling', 'notification', 'stabilised', 'evaluation', 'rectification'] as IncidentStage[];
/** After stabilisation: the evaluation, its rectification items, the request to close. */
const FOLLOWING_UP = ['stabilised', 'evaluation', 'rectification'] as IncidentStage[];

export const incidentContract = defineProcess({
  process: 'incident',
  stages: INCIDENT_STAGES,
  keyPattern: BUSINESS_KEY_PATTERN,
  caseId: (incidentId: string) => `incident:${incidentId}`,
  steps: {
    acknowledge: defineStep({
      name: 'acknowledgeIncident',
      path: 'acknowledge',
      example: {},
      summary: 'Acknowledge (the owner or a manager)',
      input: z.object({}).strict(),
      stages: ['reported'] as IncidentStage[],
      roles: RESPONDERS,
      owner: true,
      who: 'the incident owner or a manager acknowledges it',
      stageRefusal: 'NOT_AWAITING_ACKNOWLEDGEMENT',
      refusals: { NOT_AWAITING_ACKNOWLEDGEMENT: 'conflict' },
    } as const),
    timeline: defineStep({
      name: 'addIncidentTimeline',
      path: 'timeline',
      example: { entry: 'Payments API error rate back under 1%' },
      summary: 'Add an on-site handling entry (现场处置)',
      input: z.object({ entry: text(5000), at: pastInstant.optional() }).strict(),
      stages: 'open',
      roles: RESPONDERS,
      owner: true,
      who: 'the incident owner or a manager adds timeline entries',
      stageRefusal: 'INCIDENT_CLOSED',
      refusals: { INCIDENT_CLOSED: 'conflict' },
    } as const),
    notification: defineStep({
      name: 'recordIncidentNotification',
      path: 'notifications',
      example: {
        audience: 'management',
        notifiedAt: '2026-01-10T09:00:00Z',
        summary: 'Outage of the payments API, 40 minutes',
      },
      summary: 'Record who was informed and when (信息通报); regulators where the grade requires',
      input: z.object({ audience: z.enum(AUDIENCES), notifiedAt: pastInstant, summary: text(5000) }).strict(),
      stages: RESPONDING,
      roles: RESPONDERS,
      owner: true,
      who: 'the incident owner or a manager records notifications',
      stageRefusal: 'NOT_HANDLING',
      refusals: { NOT_HANDLING: 'conflict' },
    } as const),
    stabilise: defineStep({
      name: 'stabiliseIncident',
      path: 'stabilise',
      example: { summary: 'Rolled back the release' },
      summary: 'Declare the incident stabilised (refused while required notifications are missing)',
      input: z.object({ summary: text(5000) }).strict(),
      stages: ['handling', 'notification'] as IncidentStage[],
      roles: RESPONDERS,
      owner: true,
      who: 'the incident owner or a manager declares it stabilised',
      stageRefusal: 'NOT_HANDLING',
      refusals: { NOT_HANDLING: 'conflict', NOTIFICATION_MISSING: 'unprocessable' },
    } as const),
    regrade: defineStep({
      name: 'regradeIncident',
      path: 'regrade',
      example: { grade: 'III', reason: 'More users affected than first reported' },
      summary:
        'Regrade with a reason (managers): up at once, the response plan follows; down only as a request that an approver other than the owner, the reporter and the requester decides',
      description:
        'A downgrade answers with the grade unchanged and `downgradeTaskId`, the approval task (risk, compliance or legal; two functions when the incident is grade I or II). Notices the higher grade made due stay due after it is approved.',
      input: z.object({ grade: z.enum(INCIDENT_GRADES), reason: text(2000) }).strict(),
      stages: ['reported', ...RESPONDING] as IncidentStage[],
      roles: ['manager'],
      who: 'a manager regrades an incident',
      stageRefusal: 'NOT_REGRADABLE',
      refusals: { NOT_REGRADABLE: 'conflict', INVALID_GRADE: 'unprocessable', DOWNGRADE_PENDING: 'conflict' },
    } as const),
    evaluation: defineStep({
      name: 'submitIncidentEvaluation',
      path: 'evaluation',
      example: {
        rootCause: 'Connection pool exhausted',
        contributingFactors: ['no load test'],
        lessons: 'Load-test every release',
        rectificationItems: [],
      },
      summary:
        'Follow-up evaluation (后续评估): root cause, contributing factors, lessons, rectification items; a short one (summary and lessons) at a first grade IV',
      description:
        'Every grade ends with an evaluation. Grades I–III and repeats need the root cause (EVALUATION_INCOMPLETE otherwise); a first grade IV may give a summary instead.',
      input: z
        .object({
          summary: text(5000).optional(),
          rootCause: text(5000).optional(),
          contributingFactors: z.array(text(1000)).max(20).default([]),
          lessons: text(5000),
          rectificationItems: z
            .array(z.object({ title: text(500), ownerId: userId, dueIn: duration.optional() }).strict())
            .max(20)
            .default([]),
        })
        .strict(),
      stages: FOLLOWING_UP,
      roles: RESPONDERS,
      owner: true,
      who: 'the incident owner or a manager submits the evaluation',
      stageRefusal: 'NOT_AWAITING_EVALUATION',
      refusals: { NOT_AWAITING_EVALUATION: 'conflict', EVALUATION_INCOMPLETE: 'unprocessable' },
    } as const),
    closeOut: defineStep({
      name: 'requestIncidentCloseOut',
      path: 'close-out',
      example: {},
      summary:
        'Request close-out approval (refused, with the reasons, while an item is open, the evaluation or a notice is missing, or a downgrade awaits its decision)',
      description:
        'A refusal lists every reason in `error.details.problems` and names each open rectification item (`error.details.openItems`: id and title). Nobody who owns, reported, requested or took a step of the incident, nor an owner of one of its rectification items, approves its close-out.',
      input: z.object({}).strict(),
      stages: FOLLOWING_UP,
      roles: RESPONDERS,
      owner: true,
      who: 'the incident owner or a manager requests close-out',
      stageRefusal: 'NOT_READY_TO_CLOSE',
      refusals: { NOT_READY_TO_CLOSE: 'conflict', CLOSE_OUT_REFUSED: 'unprocessable' },
    } as const),
  },
});
