/**
 * The annual supplier and partner review (合作方风险评估, 供应商年度审核),
 * DOMAIN.md §1: documents → checks → scoring and grading → decision (an
 * approval task, decided at POST /api/tasks/{taskId}/decision) → conditions
 * tracked to closure as rectification items → closed, next review scheduled.
 *
 * One annual case per supplier and year: the business key is
 * <credit code>:<year>, the case id supplier-review:<credit code>:<year>. A
 * reassessment on a material change within the year is a case of its own,
 * <credit code>:<year>-r<n>.
 */
import { z } from 'zod';
import { REVIEW_DOCUMENTS, SCORE_DIMENSIONS, SUPPLIER_TIERS, type ScoreDimension } from '../domain/supplierReview';
import { defineProcess, defineStep, SHARED_STAGES } from './core';
import { text } from './schemas';

export const REVIEW_STAGE = {
  documents: 'documents',
  checks: 'checks',
  scoring: 'scoring',
  awaitingApproval: SHARED_STAGES.awaitingApproval,
  /** Conditions of the decision are being carried out as rectification items. */
  rectification: SHARED_STAGES.rectification,
  closed: SHARED_STAGES.closed,
} as const;

export const SUPPLIER_REVIEW_STAGES = [
  REVIEW_STAGE.documents,
  REVIEW_STAGE.checks,
  REVIEW_STAGE.scoring,
  REVIEW_STAGE.awaitingApproval,
  REVIEW_STAGE.rectification,
  REVIEW_STAGE.closed,
] as const;
export type SupplierReviewStage = (typeof SUPPLIER_REVIEW_STAGES)[number];

/**
 * The business key: the supplier's unified social credit code and the review
 * year, with `-r<n>` for the year's n-th reassessment on a material change
 * (e-commerce manual §4.1 动态管理): the annual review keeps its own id.
 */
const KEY = '[0-9A-Z]{18}:\\d{4}(?:-r[1-9]\\d{0,2})?';
export const supplierReviewKey = (supplierId: string, year: number, reassessment?: number) =>
  `${supplierId}:${year}${reassessment ? `-r${reassessment}` : ''}`;
/** A case id as routes take it: supplier-review:<credit code>:<year>, or …:<year>-r<n> for a reassessment. */
export const SUPPLIER_REVIEW_ID_PATTERN = new RegExp(`^supplier-review:${KEY}$`);
/** The most reassessments a supplier may have in one year (the id's -r<n> has up to three digits). */
export const MAX_REASSESSMENTS_PER_YEAR = 999;

/** Credit ratings (信用评级) as agencies state them. */
export const CREDIT_RATINGS = ['AAA', 'AA', 'A', 'BBB', 'BB', 'B', 'CCC', 'CC', 'C', 'D'] as const;
/** Background check (背景调查) results. */
export const BACKGROUND_CHECKS = ['clear', 'concerns'] as const;

export const reviewDocumentType = z.enum(REVIEW_DOCUMENTS);

/** What the documents step carries: the upload route stores the file, then sends its reference. */
const reviewDocumentInput = z
  .object({
    documentType: reviewDocumentType,
    evidence: z
      .object({ id: z.uuid(), sha256: z.string().regex(/^[0-9a-f]{64}$/), fileName: z.string().min(1) })
      .strict(),
  })
  .strict();

const reviewChecksInput = z
  .object({
    creditRating: z.enum(CREDIT_RATINGS),
    creditAgency: text(200).optional(),
    backgroundCheck: z.enum(BACKGROUND_CHECKS),
    notes: z.string().max(5000).optional(),
  })
  .strict();

const score = z.number().int().min(1).max(5);
const reviewScoresInput = z
  .object({
    /** Each dimension 1 (poor) … 5 (excellent). */
    scores: z
      .object(Object.fromEntries(SCORE_DIMENSIONS.map((d) => [d, score])) as Record<ScoreDimension, typeof score>)
      .strict(),
    /** The matrix's other axis. */
    impact: score.meta({ description: 'impact on the platform if this supplier fails' }),
    /** Tiered management (分级管理). */
    proposedTier: z
      .enum(SUPPLIER_TIERS)
      .optional()
      .meta({ description: 'tier (分级) the supplier should hold if the review approves' }),
    comment: z.string().max(5000).optional(),
  })
  .strict();

export type ReviewDocumentInput = z.infer<typeof reviewDocumentInput>;
export type ReviewChecksInput = z.infer<typeof reviewChecksInput>;
export type ReviewScoresInput = z.infer<typeof reviewScoresInput>;

/** What each reviewer step answers: the stage it was taken in, and for documents what is in and what is missing. */
export interface ReviewStepResult {
  stage: string;
  received?: string[];
  missing?: string[];
}

export const supplierReviewContract = defineProcess({
  process: 'supplier_review',
  stages: SUPPLIER_REVIEW_STAGES,
  keyPattern: new RegExp(`^${KEY}$`),
  caseId: (key: string) => `supplier-review:${key}`,
  steps: {
    // A multipart upload: its route is written by hand (api/routes/supplierReviews.ts),
    // which stores the file and sends this step with its reference.
    documents: defineStep({
      name: 'submitReviewDocument',
      summary: 'Upload a required document (multipart: file, documentType); stored as evidence with its SHA-256',
      input: reviewDocumentInput,
      stages: [REVIEW_STAGE.documents] as SupplierReviewStage[],
      roles: ['manager', 'action_owner'],
      owner: true,
      who: 'documents are supplied by the reviewer, a manager or an action owner',
      stageRefusal: 'NOT_AWAITING_DOCUMENTS',
      refusals: { NOT_AWAITING_DOCUMENTS: 'conflict' },
    } as const),
    checks: defineStep({
      name: 'recordReviewChecks',
      path: 'checks',
      example: { creditRating: 'AA', creditAgency: '中诚信', backgroundCheck: 'clear' },
      summary: 'Enter the credit rating (信用评级) and background check (背景调查) — the reviewer',
      description: 'Only when the configured provider could not supply them.',
      input: reviewChecksInput,
      stages: [REVIEW_STAGE.checks] as SupplierReviewStage[],
      roles: [],
      owner: true,
      who: 'only the review’s reviewer enters the checks',
      stageRefusal: 'NOT_AWAITING_CHECKS',
      refusals: { NOT_AWAITING_CHECKS: 'conflict' },
    } as const),
    scores: defineStep({
      name: 'scoreReview',
      path: 'scores',
      example: {
        scores: {
          legal_compliance: 4,
          financial_stability: 4,
          technical_capability: 3,
          market_reputation: 4,
          cooperation_history: 5,
        },
        impact: 3,
      },
      summary: 'Score the five dimensions 1–5 and the impact 1–5 — the reviewer; the grade follows',
      input: reviewScoresInput,
      stages: [REVIEW_STAGE.scoring] as SupplierReviewStage[],
      roles: [],
      owner: true,
      who: 'only the review’s reviewer scores it',
      stageRefusal: 'NOT_AWAITING_SCORES',
      refusals: { NOT_AWAITING_SCORES: 'conflict', INVALID_SCORES: 'unprocessable' },
    } as const),
  },
});
