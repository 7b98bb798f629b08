/**
 * A risk warning (风险预警, e-commerce §6.2, finance §5.4) as a case: raised by
 * an observation of a key risk indicator at one of three levels, answered by
 * the level's response, and closed by a review (识别-评估-响应-复盘).
 * 一般 general: the indicator's owner acknowledges within the policy's deadline.
 * 较高 elevated: the owner or a manager records a response plan; escalated if unanswered.
 * 重大 major: an incident at the policy's grade, linked, with its whole response.
 * The review is risk's or compliance's, never the acknowledger's or the planner's.
 */
import { z } from 'zod';
import { defineProcess, defineStep, SHARED_STAGES } from './core';
import type { WarningLevel } from '../domain/warnings';
import { text } from './schemas';

export const RISK_WARNING_STAGES = [
  'acknowledgement',
  'response_plan',
  'incident',
  'review',
  SHARED_STAGES.closed,
] as const;
export type RiskWarningStage = (typeof RISK_WARNING_STAGES)[number];

/** The key of an indicator or of an alert: letters, digits, ".", "_" or "-", at most 60. */
export const WARNING_PART_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,59}$/;
/** A warning's key: <kriKey>:<alertKey>; its case id is warning:<kriKey>:<alertKey>. */
export const WARNING_KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,59}:[A-Za-z0-9][A-Za-z0-9._-]{0,59}$/;
export const warningKey = (kriKey: string, alertKey: string) => `${kriKey}:${alertKey}`;

/** Where a warning's case starts: the level's response. */
export const FIRST_STAGE: Record<WarningLevel, RiskWarningStage> = {
  general: 'acknowledgement',
  elevated: 'response_plan',
  major: 'incident',
};
/** The case's risk level, mirrored in GovRiskLevel for auditors' filters: the warning level. */
export const RISK_LEVEL_OF: Record<WarningLevel, 'low' | 'medium' | 'high'> = {
  general: 'low',
  elevated: 'medium',
  major: 'high',
};

/** Who reviews a warning: the second line (finance §5.2). */
export const WARNING_REVIEWER_ROLES = ['risk', 'compliance'] as const;

export interface RiskWarningStepResult {
  stage: string;
}

export const riskWarningContract = defineProcess({
  process: 'risk_warning',
  stages: RISK_WARNING_STAGES,
  keyPattern: WARNING_KEY_PATTERN,
  caseId: (key: string) => `warning:${key}`,
  steps: {
    acknowledge: defineStep({
      name: 'acknowledgeWarning',
      path: 'acknowledgement',
      example: { note: 'Seen; checking the payment gateway logs' },
      summary: 'Acknowledge a general (一般) warning: the indicator’s owner, within the policy’s deadline',
      input: z.object({ note: text(2000).optional() }).strict(),
      stages: ['acknowledgement'] as RiskWarningStage[],
      roles: [],
      owner: true,
      who: 'the indicator’s owner acknowledges its warning',
    }),
    responsePlan: defineStep({
      name: 'planWarningResponse',
      path: 'response-plan',
      example: { plan: 'Throttle refunds above 5 000 CNY and review the rule set by Friday' },
      summary: 'Record the response plan to an elevated (较高) warning: the indicator’s owner or a manager',
      input: z.object({ plan: text(5000) }).strict(),
      stages: ['response_plan'] as RiskWarningStage[],
      roles: ['manager'],
      owner: true,
      who: 'the indicator’s owner or a manager plans the response',
    }),
    review: defineStep({
      name: 'reviewWarning',
      path: 'review',
      example: { conclusion: 'Response adequate; the threshold stays', modelAdjustment: 'none' },
      summary:
        'Review the warning and its response (复盘), closing it: risk or compliance, never who acknowledged or planned',
      input: z
        .object({
          conclusion: text(5000),
          /** The handbooks adjust the warning model as trends change (e-commerce §6.2). */
          modelAdjustment: text(2000).optional(),
        })
        .strict(),
      stages: ['review'] as RiskWarningStage[],
      roles: WARNING_REVIEWER_ROLES,
      who: 'risk or compliance reviews the warning',
      refusals: { SEGREGATION_OF_DUTIES: 'unprocessable' },
    }),
  },
});
