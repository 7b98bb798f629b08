/**
 * Emergency drills (应急演练), DOMAIN.md §4: plan (scenario, date,
 * participants) → plan approved → conduct → evaluation against the standard
 * → findings as rectification items → summary report (应急演练总结报告)
 * approved → closed. The plan owner or a manager runs every step.
 */
import { z } from 'zod';
import { BUSINESS_KEY_PATTERN } from '../domain/cases';
import { DRILL_MODULES, SUMMARY_FIELD_MAX_LENGTH } from '../domain/drills';
import { defineProcess, defineStep, SHARED_STAGES } from './core';
import { duration, pastInstant, text, userId } from './schemas';

/** A drill case from planning to closure; the plan and the summary report each wait for an approval. */
export const DRILL_STAGES = [
  'planning',
  SHARED_STAGES.awaitingApproval,
  'conduct',
  'evaluation',
  SHARED_STAGES.rectification,
  'summary',
  SHARED_STAGES.closed,
] as const;
export type DrillStage = (typeof DRILL_STAGES)[number];

export const DRILL_STAGE_LABELS: Record<DrillStage, { en: string; zh: string }> = {
  planning: { en: 'Drill planning', zh: '演练策划' },
  awaiting_approval: { en: 'Awaiting approval (drill plan or summary report)', zh: '待审批' },
  conduct: { en: 'Drill conduct', zh: '演练实施' },
  evaluation: { en: 'Drill evaluation', zh: '演练评估' },
  rectification: { en: 'Rectification', zh: '问题整改' },
  summary: { en: 'Drill summary report', zh: '应急演练总结报告' },
  closed: { en: 'Closed', zh: '已关闭' },
};

/** A plan id, as registered (the register's business key). */
const PLAN_KEY = BUSINESS_KEY_PATTERN.source.replace(/^\^|\$$/g, '');
const PREFIX = 'drill:';
const DRILL_KEY = `${PLAN_KEY}:\\d{4}`;

/** A drill's business key: one per plan per year. */
export const drillKey = (planId: string, year: number) => `${planId}:${year}`;
/** The drill case id as routes take it: drill:<planId>:<year>. */
export const DRILL_ID_PATTERN = new RegExp(`^${PREFIX}${DRILL_KEY}$`);

/** The plan owner (the case's owner) or any manager. */
const ORGANISERS = ['manager'] as const;
const WHO = 'the plan owner or a manager runs the drill';

const moduleScore = z.number().int().min(0).max(100);
const summaryText = text(SUMMARY_FIELD_MAX_LENGTH);

export const drillContract = defineProcess({
  process: 'drill',
  stages: DRILL_STAGES,
  keyPattern: new RegExp(`^${DRILL_KEY}$`),
  caseId: (key: string) => `${PREFIX}${key}`,
  steps: {
    plan: defineStep({
      name: 'planDrill',
      path: 'plan',
      example: {
        scenario: 'Data centre network outage',
        scheduledAt: '2026-12-15T09:00:00Z',
        participants: ['li.manager', 'chen.owner'],
      },
      summary: 'Plan the drill: scenario, date, participants (the plan owner or a manager); it then awaits approval',
      input: z
        .object({
          scenario: text(5000),
          scheduledAt: z.iso.datetime({ offset: true }),
          participants: z.array(text(200)).min(1).max(200),
        })
        .strict(),
      stages: ['planning'] as DrillStage[],
      roles: ORGANISERS,
      owner: true,
      who: WHO,
    } as const),
    conduct: defineStep({
      name: 'recordDrillConduct',
      path: 'conduct',
      example: {
        startedAt: '2026-01-10T09:00:00Z',
        endedAt: '2026-01-10T11:00:00Z',
        observations: 'Failover took 25 minutes',
      },
      summary: 'Record the conduct: start, end, observations',
      input: z.object({ startedAt: pastInstant, endedAt: pastInstant, observations: text(10_000) }).strict(),
      stages: ['conduct'] as DrillStage[],
      roles: ORGANISERS,
      owner: true,
      who: WHO,
      refusals: { INVALID_DRILL: 'unprocessable' },
    } as const),
    evaluation: defineStep({
      name: 'evaluateDrill',
      path: 'evaluation',
      example: {
        scores: { command: 85, information_reporting: 80, resource_dispatch: 75, public_opinion_response: 90 },
        findings: [],
      },
      summary:
        'Score the modules (指挥, 信息通报, 资源调配, 舆情应对) 0–100 against the standard; findings become rectification items',
      input: z
        .object({
          scores: z
            .object(
              Object.fromEntries(DRILL_MODULES.map((m) => [m, moduleScore])) as Record<
                (typeof DRILL_MODULES)[number],
                typeof moduleScore
              >,
            )
            .strict(),
          findings: z
            .array(z.object({ title: text(500), ownerId: userId, dueIn: duration.optional() }).strict())
            .max(50)
            .default([]),
        })
        .strict(),
      stages: ['evaluation'] as DrillStage[],
      roles: ORGANISERS,
      owner: true,
      who: WHO,
    } as const),
    summary: defineStep({
      name: 'submitDrillSummary',
      path: 'summary',
      example: {
        problems: 'Slow failover',
        lessons: 'Automate the switch',
        planChanges: 'None',
        revisionNeeded: false,
      },
      summary:
        'Submit the drill summary report (应急演练总结报告): problems, lessons, changes to the plan; it then awaits approval',
      input: z
        .object({
          problems: summaryText,
          lessons: summaryText,
          planChanges: summaryText,
          revisionNeeded: z.boolean(),
        })
        .strict(),
      stages: ['summary'] as DrillStage[],
      roles: ORGANISERS,
      owner: true,
      who: WHO,
    } as const),
  },
});
