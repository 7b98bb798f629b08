/**
 * The periodic risk assessment (风险评估, e-commerce manual §1.2; internet-finance
 * manual §5.1: at least quarterly). One case per period (policy
 * riskRegister.assessmentPeriodMonths fixes what a period is): its scope is
 * every risk in the register when it opens. Each risk owner re-rates their
 * risks through the handbook's four steps (identify → analyse → quantify →
 * evaluate) and may raise new ones; the register records each as a new
 * version. The risk function reviews, compliance signs off; a risk whose
 * residual score rose, or that sits above appetite, opens a rectification item
 * owned by its owner, and the case closes when they are verified (闭环).
 *
 * Business key: the period (2026-Q4); case id risk-assessment:<period>.
 */
import { z } from 'zod';
import { LINES_OF_DEFENCE, RISK_CATEGORIES, RISK_KEY_PATTERN } from '../domain/riskRegister';
import { ROLES } from '../domain/roles';
import { defineProcess, defineStep, SHARED_STAGES } from './core';
import { text } from './schemas';

export const RISK_ASSESSMENT_PROCESS = 'risk_assessment';

export const RISK_ASSESSMENT_STAGE = {
  /** Owners re-rate their risks. */
  rating: 'rating',
  /** The risk function reviews, then compliance signs off. */
  awaitingApproval: SHARED_STAGES.awaitingApproval,
  /** Risks that rose or sit above appetite are being treated. */
  rectification: SHARED_STAGES.rectification,
  closed: SHARED_STAGES.closed,
} as const;
export const RISK_ASSESSMENT_STAGES = [
  RISK_ASSESSMENT_STAGE.rating,
  RISK_ASSESSMENT_STAGE.awaitingApproval,
  RISK_ASSESSMENT_STAGE.rectification,
  RISK_ASSESSMENT_STAGE.closed,
] as const;
export type RiskAssessmentStage = (typeof RISK_ASSESSMENT_STAGES)[number];

/** Any period shape; periodProblem checks it against the policy's period length. */
export const PERIOD_PATTERN = /^\d{4}(-(Q[1-4]|H[12]|M(0[1-9]|1[0-2])|P([1-9]|1[0-2])))?$/;

/** The period's label for a period length: 12 → 2026, 6 → 2026-H1, 3 → 2026-Q4, 1 → 2026-M11, else 2026-P<n>. */
export function periodOf(date: Date, months: number): string {
  const year = date.getUTCFullYear();
  const n = Math.floor(date.getUTCMonth() / months) + 1;
  if (months === 12) return `${year}`;
  if (months === 6) return `${year}-H${n}`;
  if (months === 3) return `${year}-Q${n}`;
  if (months === 1) return `${year}-M${String(n).padStart(2, '0')}`;
  return `${year}-P${n}`;
}

/** The first instant of a period and the first instant after it. */
export function periodBounds(period: string, months: number): { start: Date; end: Date } {
  const year = Number(period.slice(0, 4));
  const n = period.length > 4 ? Number(period.slice(6)) : 1;
  const startMonth = (n - 1) * months;
  return {
    start: new Date(Date.UTC(year, startMonth, 1)),
    end: new Date(Date.UTC(year, Math.min(startMonth + months, 12), 1)),
  };
}

/** Why a period is not one of the policy's, or undefined. */
export function periodProblem(period: string, months: number, now: Date): string | undefined {
  if (!PERIOD_PATTERN.test(period)) return 'a period such as 2026-Q4';
  const expected = periodOf(new Date(Date.UTC(Number(period.slice(0, 4)), 0, 1)), months).slice(4, 6);
  if (period.slice(4, 6) !== expected) {
    return `the policy's period is ${months} month(s) (riskRegister.assessmentPeriodMonths): periods look like ${periodOf(now, months)}`;
  }
  const n = period.length > 4 ? Number(period.slice(6)) : 1;
  if (n > Math.ceil(12 / months)) return `a year has ${Math.ceil(12 / months)} periods of ${months} month(s)`;
  if (periodBounds(period, months).start.getTime() > now.getTime()) return 'the period has not started yet';
  return undefined;
}

export const riskAssessmentKey = (period: string) => period;

/** The risk's re-rating, through the four steps of e-commerce §1.2. */
export const EVALUATIONS = ['accept', 'treat'] as const;

const score = z.number().int().min(1).max(5);
const Rating = z.object({ probability: score, impact: score }).strict();

const RiskRating = z
  .object({
    riskKey: z.string().regex(RISK_KEY_PATTERN, 'a register key RISK-…'),
    /** 风险识别: the causes identified this period; recorded as the risk's cause. */
    causes: text(2000),
    /** 风险分析: how the causes and controls played out. */
    analysis: text(5000),
    /** 风险量化: the residual probability × impact now. */
    residual: Rating,
    /** 风险评价: accept it as it is, or treat it. */
    evaluation: z.enum(EVALUATIONS),
  })
  .strict();

const NewRisk = z
  .object({
    title: text(200),
    category: z.enum(RISK_CATEGORIES),
    description: text(5000),
    cause: text(2000),
    consequence: text(2000),
    lineOfDefence: z.enum(LINES_OF_DEFENCE),
    inherent: Rating,
    residual: Rating,
    evaluation: z.enum(EVALUATIONS),
  })
  .strict();

export type RiskRatingInput = z.infer<typeof RiskRating>;
export type NewRiskInput = z.infer<typeof NewRisk>;

/** The refusals of the rating step, besides the common ones. */
export const RISK_ASSESSMENT_REFUSALS = {
  /**
   * No re-rating is owed by the caller: they own no risk in the assessment's
   * scope (a state of the case, not a role: any acting user may own a risk).
   */
  NO_RATING_OWED: 'conflict',
  /** The caller already re-rated their risks for this period. */
  ALREADY_RATED: 'conflict',
  /** The ratings do not cover exactly the caller's risks, or a residual exceeds its inherent score. */
  INVALID_RATINGS: 'unprocessable',
} as const;

export const riskAssessmentContract = defineProcess({
  process: RISK_ASSESSMENT_PROCESS,
  stages: RISK_ASSESSMENT_STAGES,
  keyPattern: PERIOD_PATTERN,
  caseId: (period: string) => `risk-assessment:${period}`,
  steps: {
    rate: defineStep({
      name: 'rateRisks',
      path: 'ratings',
      example: {
        ratings: [
          {
            riskKey: 'RISK-PAY-001',
            causes: 'Single payment gateway; peak load doubled',
            analysis: 'Failover drill passed; capacity still short at peak',
            residual: { probability: 2, impact: 4 },
            evaluation: 'treat',
          },
        ],
        newRisks: [],
      },
      summary:
        'Re-rate your risks (identify → analyse → quantify → evaluate, e-commerce §1.2) and raise new ones; each becomes a register version',
      description:
        'One owed step per risk owner: the body covers each risk of the caller in the assessment once. New risks are raised in the register, owned by the caller.',
      input: z
        .object({
          ratings: z.array(RiskRating).max(200).default([]),
          newRisks: z.array(NewRisk).max(50).default([]),
        })
        .strict(),
      stages: [RISK_ASSESSMENT_STAGE.rating] as RiskAssessmentStage[],
      // Any acting user may own a risk: the workflow checks the caller owns one here.
      roles: ROLES.filter((r) => r !== 'auditor'),
      who: 'each risk owner re-rates their own risks',
      refusals: RISK_ASSESSMENT_REFUSALS,
    } as const),
  },
});
