/**
 * PDCA improvement cycles (持续改进, 计划-执行-检查-处理), DOMAIN.md §2: a plan
 * (objective, KPIs, actions) approved before Do → Do: each action a
 * rectification item → Check at the check date, the results independently
 * verified → Act: standardise (after an optional effectiveness watch), or the
 * next cycle as a new run of the same workflow, carrying the gaps over.
 */
import { z } from 'zod';
import { BUSINESS_KEY_PATTERN } from '../domain/cases';
import { kpisProblem, KPI_KEY_PATTERN, MAX_ACTIONS, MAX_KPIS } from '../domain/pdca';
import { defineProcess, defineStep, SHARED_STAGES } from './core';
import { duration, text, userId } from './schemas';

/**
 * Both approval waits, the plan's approval before Do and the independent
 * verification of the Check result, show the shared `awaiting_approval`.
 * The effectiveness watch keeps a met cycle open long enough to see the gain
 * hold.
 */
export const PDCA_STAGE = {
  plan: 'plan',
  awaitingApproval: SHARED_STAGES.awaitingApproval,
  do: 'do',
  check: 'check',
  act: 'act',
  effectivenessWatch: 'effectiveness_watch',
  closed: SHARED_STAGES.closed,
} as const;

export const PDCA_STAGES = [
  PDCA_STAGE.plan,
  PDCA_STAGE.awaitingApproval,
  PDCA_STAGE.do,
  PDCA_STAGE.check,
  PDCA_STAGE.act,
  PDCA_STAGE.effectivenessWatch,
  PDCA_STAGE.closed,
] as const;
export type PdcaStage = (typeof PDCA_STAGES)[number];

/** A KPI of a cycle's plan: baseline, target and which way is better. */
export const kpiSchema = z
  .object({
    key: z.string().regex(KPI_KEY_PATTERN),
    name: text(200),
    unit: z.string().max(20).optional(),
    baseline: z.number(),
    target: z.number(),
    direction: z.enum(['increase', 'decrease']),
  })
  .strict();

/**
 * What an improvement cycle opened for a finding must achieve, measured: the
 * owner's plan for a systemic cause, where one rectification item would not do.
 */
export const improvementPlanSchema = z
  .object({
    objective: text(2000),
    kpis: z
      .array(kpiSchema)
      .min(1)
      .max(MAX_KPIS)
      .superRefine((kpis, ctx) => {
        const problem = kpisProblem(kpis);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
    checkIn: duration.default('30d'),
  })
  .strict();
export type ImprovementPlan = z.infer<typeof improvementPlanSchema>;

/** One action of a plan: done as a rectification item by its owner. */
export const pdcaActionSchema = z.object({ title: text(500), ownerId: userId, dueIn: duration.optional() }).strict();
export const pdcaActionsSchema = z.array(pdcaActionSchema).min(1).max(MAX_ACTIONS);

export interface PdcaStepResult {
  stage: string;
}

/** The cycle's owner (its ownerId) or any manager takes each step. */
const OWNER_OR = ['manager'] as const;

export const pdcaContract = defineProcess({
  process: 'pdca',
  stages: PDCA_STAGES,
  keyPattern: BUSINESS_KEY_PATTERN,
  caseId: (cycleKey: string) => `pdca:${cycleKey}`,
  steps: {
    plan: defineStep({
      name: 'revisePdcaPlan',
      path: 'plan',
      example: { actions: [{ title: 'Retrain the support team on refunds', ownerId: 'chen.owner', dueIn: '30d' }] },
      summary: 'Re-plan the actions of a new cycle (the owner or a manager)',
      description: 'The plan then waits for its approval (awaiting_approval) before Do.',
      input: z.object({ actions: pdcaActionsSchema }).strict(),
      stages: [PDCA_STAGE.plan] as PdcaStage[],
      roles: OWNER_OR,
      owner: true,
      who: 'the cycle owner or a manager plans it',
      refusals: { INVALID_PLAN: 'unprocessable' },
    } as const),
    actuals: defineStep({
      name: 'recordPdcaActuals',
      path: 'actuals',
      example: { actuals: {} },
      summary: 'Enter the KPI values at the check (or the effectiveness recheck)',
      description:
        'Accepted once the check date (or the end of the effectiveness window) has come; platform KPIs are computed, not entered.',
      input: z.object({ actuals: z.record(z.string(), z.number()) }).strict(),
      stages: [PDCA_STAGE.check, PDCA_STAGE.effectivenessWatch] as PdcaStage[],
      roles: OWNER_OR,
      owner: true,
      who: 'the cycle owner or a manager enters KPI values',
      refusals: { INVALID_ACTUALS: 'unprocessable' },
    } as const),
    standardise: defineStep({
      name: 'standardisePdca',
      path: 'standardise',
      example: { adopted: 'Refund checklist in the support handbook' },
      summary: 'Targets met: record what is adopted as the standard',
      input: z.object({ adopted: text(5000) }).strict(),
      stages: [PDCA_STAGE.act] as PdcaStage[],
      roles: OWNER_OR,
      owner: true,
      who: 'the cycle owner or a manager records what is standardised',
    } as const),
  },
});
