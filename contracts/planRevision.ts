/**
 * Emergency plan revision (预案修订), DOMAIN.md §4: the plan owner drafts →
 * review by a manager → approval by an approver (neither the drafter nor
 * whoever opened it) → published, the version kept in the plan's history.
 * A returned draft goes back to the owner.
 */
import { z } from 'zod';
import { BUSINESS_KEY_PATTERN } from '../domain/cases';
import { defineProcess, defineStep, SHARED_STAGES } from './core';
import { text } from './schemas';

/** Review and approval are both approval waits: one stage name for auditors. */
export const PLAN_REVISION_STAGES = [
  'draft',
  SHARED_STAGES.awaitingApproval,
  'published',
  SHARED_STAGES.closed,
] as const;
export type PlanRevisionStage = (typeof PLAN_REVISION_STAGES)[number];

/** A plan id, as registered (the register's business key). */
const PLAN_KEY = BUSINESS_KEY_PATTERN.source.replace(/^\^|\$$/g, '');
const PREFIX = 'plan-revision:';
const REVISION_KEY = `${PLAN_KEY}:v\\d+`;

/** A revision's business key: the plan and the version it drafts. */
export const planRevisionKey = (planId: string, version: number) => `${planId}:v${version}`;
/** The revision case id as routes take it: plan-revision:<planId>:v<n>. */
export const PLAN_REVISION_ID_PATTERN = new RegExp(`^${PREFIX}${REVISION_KEY}$`);

/** The draft as the workflow receives it: the API stores the document first and sends its reference. */
export const PlanDraftSchema = z
  .object({
    summary: text(5000),
    document: z
      .object({ id: z.string().min(1).max(100), sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 in hex') })
      .strict(),
  })
  .strict();

export const planRevisionContract = defineProcess({
  process: 'plan_revision',
  stages: PLAN_REVISION_STAGES,
  keyPattern: new RegExp(`^${REVISION_KEY}$`),
  caseId: (key: string) => `${PREFIX}${key}`,
  steps: {
    // An upload: the route (api/routes/drills.ts) takes the file as multipart,
    // stores it, then sends this step with the document's reference.
    draft: defineStep({
      name: 'submitPlanDraft',
      summary: 'Submit the revised plan document and the summary of changes (the plan owner)',
      input: PlanDraftSchema,
      stages: ['draft'] as PlanRevisionStage[],
      roles: [],
      owner: true,
      who: 'the plan owner drafts its revision',
      stageRefusal: 'NOT_AWAITING_DRAFT',
      refusals: { NOT_AWAITING_DRAFT: 'conflict' },
    } as const),
  },
});
