/**
 * Supplier reviews through the API: start one, run the annual campaign, open
 * a reassessment on a material change, and deliver the reviewer's steps
 * (documents, checks, scores) to the workflow as Updates. Decisions go through
 * POST /api/tasks/{taskId}/decision like every approval. The appraisal report
 * is JSON and a printable page.
 *
 * Every start reads the policy in force (GET /api/policy) and passes it to
 * the review, which runs on its clocks, weights and thresholds; per-case
 * timings are refused unless the deployment allows them (api/caseTimings.ts).
 */
import { createRoute, z } from '@hono/zod-openapi';
import { and, asc, count, eq, like, sql } from 'drizzle-orm';
import { auditEvents, cases, evidence, suppliers, tasks, users } from '../../db/schema';
import {
  DEFAULT_APPROVAL_TIMINGS,
  DEFAULT_STEP_TIMINGS,
  validateTimings,
  type ApprovalTimings,
  type StepTimings,
} from '../../domain/deadlines';
import type { PolicySnapshot, PolicyValues } from '../../domain/policy';
import {
  REASSESSMENT_TRIGGERS,
  REVIEW_DOCUMENTS,
  reviewStatusProblem,
  type SupplierStatus,
} from '../../domain/supplierReview';
import { REFUSAL_KINDS } from '../../contracts';
import { stepRefusal } from '../../contracts/core';
import {
  MAX_REASSESSMENTS_PER_YEAR,
  reviewDocumentType,
  REVIEW_STAGE,
  SUPPLIER_REVIEW_ID_PATTERN,
  supplierReviewContract,
  supplierReviewKey,
  type ReviewStepResult,
} from '../../contracts/supplierReview';
import type {
  Reassessment,
  SupplierReviewData,
  SupplierReviewInput,
  supplierReviewWorkflow,
} from '../../workflows/supplierReview';
import { isReadOnly, OVERSIGHT_ROLES } from '../../domain/roles';
import {
  CAMPAIGN_PROGRESS_LIST,
  CAMPAIGN_SKIP_REASONS,
  supplierCampaignId,
  type CampaignProgress,
} from '../../contracts/supplierCampaign';
import { startCaseWorkflow, startSupplierCampaign, type StartReviewOutcome } from '../../platform/cases';
import { assertCanReadCase } from '../../platform/access';
import { currentPolicy } from '../../platform/policy';
import { refuseLockedTimings } from '../caseTimings';
import { requireRole } from '../auth';
import { temporalUiLink, toAuditDto, toTaskDto } from '../dto';
import { ApiError } from '../errors';
import { renderSupplierReport, type SupplierReport } from '../reports/supplierReport';
import { ApprovalTimingsSchema, durationSchema, RectificationTimingsSchema } from '../schemas';
import {
  actorOf,
  bearer,
  contractSteps,
  errorResponses,
  router,
  sendCaseUpdate,
  type AppDeps,
  reportRoutes,
} from './common';
import { evidenceBodyLimit, storeEvidence } from './evidence';
import {
  badQuery,
  decodeCursor,
  encodeCursor,
  KeysetQuerySchema,
  LIST_LIMIT_DEFAULT,
  LIST_LIMIT_MAX,
  type KeysetOrder,
} from './keyset';

/** Overrides of the ladder of a step someone owes: reminder, escalation, final deadline. */
export const StepTimingsSchema = z
  .object({
    remindAfter: durationSchema.optional(),
    escalateAfter: durationSchema.optional(),
    expireAfter: durationSchema.optional(),
  })
  .strict()
  .openapi('StepTimings', {
    description: 'a step owed: reminded, escalated one role up, and overdue (still owed) at expireAfter',
  });

const TimingsSchema = z
  .object({
    documents: StepTimingsSchema.optional().openapi({
      description: 'the documents’ ladder; at expireAfter what is missing becomes a finding',
    }),
    step: StepTimingsSchema.optional().openapi({ description: 'the checks’ and the scores’ ladder' }),
    approval: ApprovalTimingsSchema.optional(),
    rectification: RectificationTimingsSchema.optional(),
  })
  .strict()
  .openapi('SupplierReviewTimings');

const StartReviewSchema = z
  .object({
    supplierId: z.string().trim().min(1).max(18),
    year: z.number().int().min(2000).max(2100),
    reviewerId: z.string().min(1).max(64).optional().openapi({ description: 'defaults to the supplier’s owner' }),
    timings: TimingsSchema.optional(),
  })
  .strict()
  .openapi('StartSupplierReview');

const CampaignSchema = z
  .object({ year: z.number().int().min(2000).max(2100), timings: TimingsSchema.optional() })
  .strict()
  .openapi('SupplierReviewCampaign');

const CampaignYearParam = z.object({
  year: z.coerce.number().int().min(2000).max(2100).openapi({ description: 'the campaign’s year' }),
});

const CampaignStartedSchema = z.object({ supplierId: z.string(), caseId: z.string() }).openapi('CampaignStarted');
const CampaignSkippedSchema = z
  .object({ supplierId: z.string(), caseId: z.string(), reason: z.enum(CAMPAIGN_SKIP_REASONS), message: z.string() })
  .openapi('CampaignSkipped');

const CampaignSummarySchema = z
  .object({
    year: z.number().int(),
    status: z.enum(['running', 'done']),
    total: z.number().int().openapi({ description: 'suppliers the campaign goes through' }),
    startedCount: z.number().int().openapi({ description: 'reviews started so far' }),
    skippedCount: z.number().int().openapi({ description: 'suppliers skipped so far' }),
    skippedByReason: z.record(z.enum(CAMPAIGN_SKIP_REASONS), z.number().int()),
    started: z.array(CampaignStartedSchema).openapi({
      description: `the first ${CAMPAIGN_PROGRESS_LIST} reviews started, in order; the rest through links.started`,
    }),
    skipped: z.array(CampaignSkippedSchema).openapi({
      description: `the first ${CAMPAIGN_PROGRESS_LIST} suppliers skipped, in order, with why; the rest through links.skipped`,
    }),
    links: z.object({ self: z.string(), started: z.string(), skipped: z.string() }),
  })
  .openapi('CampaignSummary');

/** Paged as every keyset list (cursor and limit), by outcome and skip reason. */
const CampaignSuppliersQuery = KeysetQuerySchema.pick({ cursor: true, limit: true }).extend({
  outcome: z
    .enum(['started', 'skipped'])
    .openapi({ description: 'the reviews the campaign started, or the suppliers it skipped' }),
  reason: z.enum(CAMPAIGN_SKIP_REASONS).optional().openapi({ description: 'with outcome=skipped: only this reason' }),
});

/** A campaign's list in the order the campaign went: the cursor carries the position of the last row shown. */
const campaignListOrder = (outcome: string, reason: string | undefined): KeysetOrder => ({
  tag: `campaign-${outcome}${reason ? `-${reason}` : ''}`,
  direction: 'asc',
  keys: [{ column: cases.id, kind: 'text' }],
});

const ReassessmentSchema = z
  .object({
    trigger: z.enum(REASSESSMENT_TRIGGERS).openapi({
      description:
        'the material change: market (市场变化), policy (政策调整) or the supplier’s performance (合作方表现), e-commerce manual §4.1',
    }),
    reason: z
      .string()
      .trim()
      .min(1)
      .max(2000)
      .openapi({ description: 'what changed, for the reviewer, approvers and auditors' }),
    reviewerId: z.string().min(1).max(64).optional().openapi({ description: 'defaults to the supplier’s owner' }),
    timings: TimingsSchema.optional(),
  })
  .strict()
  .openapi('StartSupplierReassessment');

const StartedSchema = z.object({
  caseId: z.string(),
  runId: z.string(),
  links: z.object({ self: z.string(), temporalUi: z.string() }),
});

const CaseIdParam = z.object({
  caseId: z
    .string()
    .regex(
      SUPPLIER_REVIEW_ID_PATTERN,
      'a supplier review id: supplier-review:<credit code>:<year>, or …:<year>-r<n> for a reassessment',
    ),
});

/** A refusal the route makes itself, answered as the workflow's would be. */
const REFUSAL_ERROR = { conflict: 'CONFLICT', forbidden: 'FORBIDDEN', unprocessable: 'UNPROCESSABLE' } as const;

const StepResultSchema = z
  .object({ stage: z.string(), received: z.array(z.string()).optional(), missing: z.array(z.string()).optional() })
  .openapi('ReviewStepResult');

/** Approval timings must still escalate before they expire, as for every approval, with the ladder they fill in. */
export function approvalTimingsProblem(
  approval: Partial<ApprovalTimings> | undefined,
  base: ApprovalTimings = DEFAULT_APPROVAL_TIMINGS,
): string | null {
  if (!approval) return null;
  const problem = validateTimings({ ...base, ...approval });
  return problem ? `invalid body: timings.approval ${problem}` : null;
}

/** A step's ladder must still escalate before its final deadline, with each wait's default it fills in. */
export function stepTimingsProblem(
  field: string,
  step: Partial<StepTimings> | undefined,
  policies: StepTimings[] = [DEFAULT_STEP_TIMINGS],
): string | null {
  if (!step) return null;
  for (const policy of policies) {
    const problem = validateTimings({ ...policy, ...step });
    if (problem) return `invalid body: timings.${field} ${problem}`;
  }
  return null;
}

/** What is wrong with a review's timings against the policy's ladders they fill in, or null. */
const reviewTimingsProblem = (timings: z.infer<typeof TimingsSchema> | undefined, policy: PolicyValues) =>
  approvalTimingsProblem(timings?.approval, policy.approval) ??
  stepTimingsProblem('documents', timings?.documents, [policy.supplier.documents]) ??
  stepTimingsProblem('step', timings?.step, [policy.step]);

export function supplierReviewRoutes({ db, temporal, settings }: AppDeps) {
  const app = router();
  const max = settings.maxEvidenceBytes;
  const documentStep = supplierReviewContract.steps.documents;
  const starter = { db, temporal, taskQueue: settings.taskQueue };

  /** Reads the policy in force and checks the caller's timings against it (403 when locked, 400 when malformed). */
  async function policyFor(timings: z.infer<typeof TimingsSchema> | undefined): Promise<PolicySnapshot> {
    refuseLockedTimings(settings, { timings });
    const policy = await currentPolicy(db);
    const timingProblem = reviewTimingsProblem(timings, policy.values);
    if (timingProblem) throw new ApiError('BAD_REQUEST', timingProblem);
    return policy;
  }

  /** The reviewer enters checks and scores: an auditor, who changes nothing, cannot. */
  async function requireReviewer(reviewerId: string | undefined): Promise<void> {
    if (!reviewerId) return;
    const [reviewer] = await db
      .select({ active: users.active, roles: users.roles })
      .from(users)
      .where(eq(users.id, reviewerId));
    if (!reviewer?.active || isReadOnly(reviewer)) {
      throw new ApiError(
        'BAD_REQUEST',
        `invalid body: reviewerId "${reviewerId}" is not an active user who may review`,
        [{ field: 'body.reviewerId', message: 'not an active user who may review' }],
      );
    }
  }

  /**
   * Starts a review (the year's, or a reassessment) under the policy read at
   * the start, or says why not. The Schedule's and the campaign's starts go
   * through platform/cases.ts startSupplierReviewCase, and their reviews read
   * the policy themselves.
   */
  async function startReview(params: {
    supplierId: string;
    year: number;
    initiatorId: string;
    reviewerId?: string;
    timings?: SupplierReviewInput['timings'];
    policy: PolicySnapshot;
    reassessment?: Reassessment;
  }): Promise<StartReviewOutcome> {
    const caseId = supplierReviewContract.caseId(
      supplierReviewKey(params.supplierId, params.year, params.reassessment?.round),
    );
    const [supplier] = await db.select().from(suppliers).where(eq(suppliers.id, params.supplierId));
    if (!supplier) return { started: false, caseId, reason: 'not_found', message: `no supplier ${params.supplierId}` };
    const problem = reviewStatusProblem(supplier.status as SupplierStatus);
    if (problem) return { started: false, caseId, reason: 'not_reviewable', message: problem };
    const started = await startCaseWorkflow<typeof supplierReviewWorkflow>(temporal, {
      workflowType: 'supplierReviewWorkflow',
      caseId,
      taskQueue: settings.taskQueue,
      process: supplierReviewContract.process,
      stage: REVIEW_STAGE.documents,
      args: [
        {
          caseId,
          supplierId: supplier.id,
          supplierName: supplier.name,
          reviewYear: params.year,
          initiatorId: params.initiatorId,
          reviewerId: params.reviewerId ?? supplier.ownerId,
          timings: params.timings,
          policy: params.policy,
          ...(params.reassessment ? { reassessment: params.reassessment } : {}),
        },
      ],
    });
    if (!started) {
      const what = params.reassessment
        ? `reassessment r${params.reassessment.round} of ${params.year}`
        : `${params.year} review`;
      return {
        started: false,
        caseId,
        reason: 'already_exists',
        message: `the ${what} of ${supplier.id} already exists`,
      };
    }
    return { started: true, caseId, runId: started.runId };
  }

  const startedAnswer = (outcome: { caseId: string; runId: string }) => ({
    caseId: outcome.caseId,
    runId: outcome.runId,
    links: {
      self: `/api/cases/${encodeURIComponent(outcome.caseId)}`,
      temporalUi: temporalUiLink(settings.temporalUiUrl, settings.temporalNamespace, outcome.caseId),
    },
  });

  /** A campaign's progress as its read-model row holds it, or null when it has none. */
  async function recordedCampaign(year: number): Promise<CampaignProgress | null> {
    // Counted and cut in PostgreSQL (as contracts/supplierCampaign.ts campaignProgress does in the
    // workflow): the row's lists run to megabytes for a large campaign, and the answer needs their heads.
    const list = (name: string) => sql`coalesce(c.data->${name}, '[]'::jsonb)`;
    const head = (name: string) =>
      sql`(select coalesce(jsonb_agg(${list(name)}->g order by g), '[]'::jsonb)
             from generate_series(0, least(${CAMPAIGN_PROGRESS_LIST}, jsonb_array_length(${list(name)})) - 1) g)`;
    const { rows } = (await db.execute(sql`
      select (c.data->>'year')::int as year, c.data->>'status' as status, (c.data->>'total')::int as total,
             jsonb_array_length(${list('started')}) as "startedCount",
             jsonb_array_length(${list('skipped')}) as "skippedCount",
             (select coalesce(jsonb_object_agg(r, n), '{}'::jsonb) from (
                select e->>'reason' as r, count(*) as n from jsonb_array_elements(${list('skipped')}) e group by 1) x)
               as "skippedByReason",
             ${head('started')} as started, ${head('skipped')} as skipped
        from ${cases} c where c.id = ${supplierCampaignId(year)}`)) as unknown as { rows: CampaignProgress[] };
    const [row] = rows;
    if (!row) return null;
    const none = Object.fromEntries(CAMPAIGN_SKIP_REASONS.map((r) => [r, 0]));
    return { ...row, skippedByReason: { ...none, ...row.skippedByReason } as CampaignProgress['skippedByReason'] };
  }

  /** A campaign that has finished: what it did, as its read-model row holds it. */
  async function finishedCampaign(year: number): Promise<CampaignProgress> {
    const progress = await recordedCampaign(year);
    if (!progress) throw new ApiError('CONFLICT', `the ${year} campaign has ended without a record; run it again`);
    return progress;
  }

  const campaignAnswer = (progress: CampaignProgress) => {
    const self = `/api/supplier-reviews/campaigns/${progress.year}`;
    return {
      ...progress,
      links: { self, started: `${self}/suppliers?outcome=started`, skipped: `${self}/suppliers?outcome=skipped` },
    };
  };

  async function loadReview(caseId: string) {
    const [row] = await db.select().from(cases).where(eq(cases.id, caseId));
    if (!row || row.process !== 'supplier_review') throw new ApiError('NOT_FOUND', `no supplier review ${caseId}`);
    return row;
  }

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/supplier-reviews',
      tags: ['Supplier reviews'],
      summary: 'Start a supplier’s review for a year (one per supplier per year)',
      description:
        'A pending supplier’s first review decides whether cooperation starts (approved: active, or restricted with a restricted_scope condition). The review runs under the policy in force (its version is recorded on the case). Per-case timings are refused (403 CASE_TIMINGS_LOCKED) unless the deployment sets GOVERNANCE_CASE_TIMINGS=allow.',
      security: bearer,
      middleware: [requireRole('manager')] as const,
      request: { body: { required: true, content: { 'application/json': { schema: StartReviewSchema } } } },
      responses: {
        201: { description: 'Started', content: { 'application/json': { schema: StartedSchema } } },
        ...errorResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const policy = await policyFor(body.timings);
      await requireReviewer(body.reviewerId);
      const outcome = await startReview({
        supplierId: body.supplierId.toUpperCase(),
        year: body.year,
        initiatorId: c.get('user').id,
        reviewerId: body.reviewerId,
        timings: body.timings,
        policy,
      });
      if (!outcome.started) {
        throw new ApiError(outcome.reason === 'not_found' ? 'NOT_FOUND' : 'CONFLICT', outcome.message);
      }
      return c.json(startedAnswer(outcome), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/suppliers/{supplierId}/reassessments',
      tags: ['Supplier reviews'],
      summary: 'Reassess a supplier within the year on a material change (动态管理: market, policy, performance)',
      description:
        'e-commerce manual §4.1: assessments are updated as the market, policy and the supplier’s performance change. Opens a review of its own, supplier-review:<credit code>:<year>-r<n> (the n-th reassessment this year), beside the year’s review; it runs like a review (documents, checks, scores, decision) under the policy in force. The reason is required and shown to the reviewer and approvers; whoever asks for it may not approve it. Refused with 409 while another review of the supplier is open (REVIEW_OPEN) or when the supplier may not be reviewed (SUPPLIER_NOT_REVIEWABLE). Per-case timings are refused (403 CASE_TIMINGS_LOCKED) unless the deployment allows them.',
      security: bearer,
      middleware: [requireRole('manager')] as const,
      request: {
        params: z.object({ supplierId: z.string().min(1).max(18) }),
        body: { required: true, content: { 'application/json': { schema: ReassessmentSchema } } },
      },
      responses: {
        201: {
          description: 'Started',
          content: { 'application/json': { schema: StartedSchema.extend({ round: z.number().int() }) } },
        },
        ...errorResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => {
      const supplierId = c.req.valid('param').supplierId.toUpperCase();
      const body = c.req.valid('json');
      const policy = await policyFor(body.timings);
      await requireReviewer(body.reviewerId);
      const [supplier] = await db.select().from(suppliers).where(eq(suppliers.id, supplierId));
      if (!supplier) throw new ApiError('NOT_FOUND', `no supplier ${supplierId}`);
      const problem = reviewStatusProblem(supplier.status as SupplierStatus);
      if (problem) throw new ApiError('CONFLICT', problem, undefined, 'SUPPLIER_NOT_REVIEWABLE');
      // One assessment at a time: a material change during an open review is that review's to weigh.
      const [open] = await db
        .select({ id: cases.id })
        .from(cases)
        .where(and(eq(cases.process, 'supplier_review'), eq(cases.subjectId, supplierId), eq(cases.status, 'open')))
        .limit(1);
      if (open) {
        throw new ApiError(
          'CONFLICT',
          `review ${open.id} of ${supplierId} is still open: weigh the change there, or reassess once it has closed`,
          { openCaseId: open.id },
          'REVIEW_OPEN',
        );
      }
      const year = new Date().getUTCFullYear();
      const [{ earlier } = { earlier: 0 }] = await db
        .select({ earlier: count() })
        .from(cases)
        .where(
          and(
            eq(cases.process, 'supplier_review'),
            like(cases.businessKey, `${supplierReviewKey(supplierId, year)}-r%`),
          ),
        );
      const round = earlier + 1;
      if (round > MAX_REASSESSMENTS_PER_YEAR) {
        throw new ApiError(
          'CONFLICT',
          `${supplierId} has had ${earlier} reassessments in ${year}, the most a year has`,
        );
      }
      const actor = c.get('user').id;
      const outcome = await startReview({
        supplierId,
        year,
        initiatorId: actor,
        reviewerId: body.reviewerId,
        timings: body.timings,
        policy,
        reassessment: { round, trigger: body.trigger, reason: body.reason, requestedBy: actor },
      });
      if (!outcome.started) {
        throw new ApiError(outcome.reason === 'not_found' ? 'NOT_FOUND' : 'CONFLICT', outcome.message);
      }
      return c.json({ ...startedAnswer(outcome), round }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/supplier-reviews/campaigns',
      tags: ['Supplier reviews'],
      summary: 'Annual campaign: start the year’s review of every pending, active or restricted supplier (idempotent)',
      description:
        'Runs as a workflow (supplier-campaign:<year>), a batch of reviews at a time; pending suppliers get their first review too. Answers once the read model shows what it did: when it is done, or, for a campaign over many suppliers, with status "running" and its progress so far: counts, and the first 100 reviews started and suppliers skipped (GET /api/supplier-reviews/campaigns/<year> shows how far it has gone since, and links.started and links.skipped page through the whole lists). A second call for the same year returns the same campaign. Each review runs under the policy in force when it starts; per-case timings are refused (403 CASE_TIMINGS_LOCKED) unless the deployment allows them.',
      security: bearer,
      middleware: [requireRole('manager')] as const,
      request: { body: { required: true, content: { 'application/json': { schema: CampaignSchema } } } },
      responses: {
        200: {
          description: 'What was started and what was skipped, and why',
          content: {
            'application/json': {
              schema: CampaignSummarySchema,
            },
          },
        },
        ...errorResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      await policyFor(body.timings);
      const progress =
        (await startSupplierCampaign(starter, {
          year: body.year,
          initiatorId: c.get('user').id,
          timings: body.timings,
        })) ?? (await finishedCampaign(body.year));
      return c.json(campaignAnswer(progress), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/supplier-reviews/campaigns/{year}',
      tags: ['Supplier reviews'],
      summary: 'A year’s campaign: how far it has gone, what it started and skipped',
      description: `As its read-model row holds it: the counts, the first ${CAMPAIGN_PROGRESS_LIST} of each list, and links to page through the rest.`,
      security: bearer,
      middleware: [requireRole('manager', ...OVERSIGHT_ROLES)] as const,
      request: { params: CampaignYearParam },
      responses: {
        200: { description: 'The campaign', content: { 'application/json': { schema: CampaignSummarySchema } } },
        ...errorResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const { year } = c.req.valid('param');
      const progress = await recordedCampaign(year);
      if (!progress) throw new ApiError('NOT_FOUND', `no supplier review campaign for ${year}`);
      return c.json(campaignAnswer(progress), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/supplier-reviews/campaigns/{year}/suppliers',
      tags: ['Supplier reviews'],
      summary: 'A year’s campaign, page by page: the reviews it started, or the suppliers it skipped and why',
      description: `In the order the campaign went. Pass \`limit\` (default ${LIST_LIMIT_DEFAULT}, at most ${LIST_LIMIT_MAX}) and then each page’s \`nextCursor\` as \`cursor\`. A running campaign’s lists grow at their end, so a cursor stays valid while it runs.`,
      security: bearer,
      middleware: [requireRole('manager', ...OVERSIGHT_ROLES)] as const,
      request: { params: CampaignYearParam, query: CampaignSuppliersQuery },
      responses: {
        200: {
          description: 'A page of the list',
          content: {
            'application/json': {
              schema: z
                .object({
                  items: z.array(z.union([CampaignSkippedSchema, CampaignStartedSchema])),
                  nextCursor: z
                    .string()
                    .nullable()
                    .openapi({ description: 'pass as cursor for the next page; null after the last row' }),
                  total: z.number().int().openapi({ description: 'rows of the list (with reason: of that reason)' }),
                  limit: z.number().int(),
                })
                .openapi('CampaignSupplierPage'),
            },
          },
        },
        ...errorResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const { year } = c.req.valid('param');
      const query = c.req.valid('query');
      if (query.reason && query.outcome !== 'skipped')
        throw badQuery('reason', 'applies to outcome=skipped only: a started review has no reason');
      const order = campaignListOrder(query.outcome, query.reason);
      let after = 0;
      if (query.cursor) {
        const [position] = decodeCursor(order, query.cursor);
        if (!/^\d{1,9}$/.test(position!))
          throw badQuery('cursor', 'is not a cursor of this list: pass the nextCursor of its previous page');
        after = Number(position);
      }
      const limit = query.limit ?? LIST_LIMIT_DEFAULT;
      const list = sql`coalesce(c.data->${query.outcome}, '[]'::jsonb)`;
      // A page is the positions (from 1) after the cursor's, and one more to tell whether more follow. Without
      // a reason they are read by their index, not by unnesting the whole list; with one, the list is filtered.
      const [total, page] = query.reason
        ? [
            sql`(select count(*) from jsonb_array_elements(${list}) e where e->>'reason' = ${query.reason})`,
            sql`(select coalesce(jsonb_agg(jsonb_build_array(n, value) order by n), '[]'::jsonb) from (
                   select e.value, e.n from jsonb_array_elements(${list}) with ordinality e(value, n)
                    where e.value->>'reason' = ${query.reason} and e.n > ${after} order by e.n limit ${limit + 1}) p)`,
          ]
        : [
            sql`jsonb_array_length(${list})`,
            sql`(select coalesce(jsonb_agg(jsonb_build_array(g, ${list}->(g - 1)) order by g), '[]'::jsonb)
                   from generate_series(${after + 1}::int, least(${after + limit + 1}::int, jsonb_array_length(${list}))) g)`,
          ];
      const { rows } = (await db.execute(
        sql`select ${total} as total, ${page} as page from ${cases} c where c.id = ${supplierCampaignId(year)}`,
      )) as unknown as { rows: Array<{ total: string | number; page: Array<[number, unknown]> }> };
      const [row] = rows;
      if (!row) throw new ApiError('NOT_FOUND', `no supplier review campaign for ${year}`);
      const shown = row.page.slice(0, limit);
      const last = shown.at(-1);
      const nextCursor = row.page.length > limit && last ? encodeCursor(order, [String(last[0])]) : null;
      return c.json(
        { items: shown.map(([, value]) => value as never), nextCursor, total: Number(row.total), limit },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/supplier-reviews/{caseId}/documents',
      tags: ['Supplier reviews'],
      summary: documentStep.summary,
      description: `Who: ${documentStep.who}.`,
      security: bearer,
      middleware: [evidenceBodyLimit(max)] as const,
      request: {
        params: CaseIdParam,
        body: {
          required: true,
          content: {
            'multipart/form-data': {
              schema: z.object({
                file: z
                  .custom<File>((v) => v instanceof File, 'attach the file as form field "file"')
                  .openapi({ type: 'string', format: 'binary' }),
                documentType: reviewDocumentType,
              }),
            },
          },
        },
      },
      responses: {
        200: {
          description: 'Received; what is still missing',
          content: {
            'application/json': { schema: StepResultSchema.extend({ evidenceId: z.string(), sha256: z.string() }) },
          },
        },
        ...errorResponses(400, 401, 403, 404, 409, 413),
      },
    }),
    async (c) => {
      const { caseId } = c.req.valid('param');
      const { file, documentType } = c.req.valid('form');
      if (file.size > max) throw new ApiError('PAYLOAD_TOO_LARGE', `evidence files are limited to ${max} bytes`);
      if (file.size === 0) throw new ApiError('BAD_REQUEST', 'invalid body: file is empty');
      const review = await loadReview(caseId);
      // The workflow's validator is the authority, but the file is stored
      // before the Update (which carries its hash): make the contract's who
      // and where checks here first so a refused upload stores nothing. The
      // input's schema is the Update's to check, once the file has a hash.
      // (A deadline passing between this check and the Update leaves a
      // stored, audited, unused file.)
      const refusal = stepRefusal(
        { ...documentStep, input: z.unknown() },
        {
          stage: review.stage,
          status: review.status === 'closed' ? 'closed' : 'open',
          ownerId: review.ownerId ?? undefined,
          label: supplierReviewContract.process.replace(/_/g, ' '),
        },
        { actor: actorOf(c) },
      );
      if (refusal) {
        const kind = REFUSAL_KINDS[refusal.code] ?? 'conflict';
        throw new ApiError(REFUSAL_ERROR[kind], refusal.message, undefined, refusal.code);
      }
      // A workflow ended from outside (terminated) would refuse the Update
      // after the file was stored: ask it first.
      const { status } = await temporal.workflow.getHandle(caseId).describe();
      if (status.name !== 'RUNNING') {
        throw new ApiError('CONFLICT', `review ${caseId} is closed (its workflow is ${status.name.toLowerCase()})`);
      }
      const stored = await storeEvidence(db, {
        caseId,
        taskId: `${caseId}:documents`,
        documentType,
        file,
        uploadedBy: c.get('user').id,
        requestId: c.get('requestId'),
      });
      const result = (await sendCaseUpdate(temporal, caseId, documentStep.update, {
        actor: actorOf(c),
        documentType,
        evidence: { id: stored.id, sha256: stored.sha256, fileName: stored.fileName },
      })) as ReviewStepResult;
      return c.json({ ...result, evidenceId: stored.id, sha256: stored.sha256 }, 200);
    },
  );

  contractSteps(app, supplierReviewContract, {
    resource: '/api/supplier-reviews',
    idName: 'caseId',
    idParam: CaseIdParam,
    tag: 'Supplier reviews',
    resultSchema: StepResultSchema,
    temporal,
    load: loadReview,
  });

  async function buildReport(caseId: string): Promise<SupplierReport> {
    const review = await loadReview(caseId);
    const data = review.data as SupplierReviewData;
    const [taskRows, documents, timeline] = await Promise.all([
      db.select().from(tasks).where(eq(tasks.caseId, caseId)).orderBy(asc(tasks.createdAt), asc(tasks.id)),
      db
        .select({
          id: evidence.id,
          documentType: evidence.documentType,
          fileName: evidence.fileName,
          sha256: evidence.sha256,
          sizeBytes: evidence.sizeBytes,
          uploadedBy: evidence.uploadedBy,
          createdAt: evidence.createdAt,
        })
        .from(evidence)
        .where(eq(evidence.caseId, caseId))
        .orderBy(asc(evidence.createdAt)),
      db.select().from(auditEvents).where(eq(auditEvents.caseId, caseId)).orderBy(asc(auditEvents.seq)),
    ]);
    const decisionTask = taskRows.find((t) => t.kind === 'approval');
    const decisionEvents = timeline.filter((e) => e.taskId === decisionTask?.id && e.action.startsWith('approval.'));
    return {
      caseId,
      supplier: { id: data.supplierId, name: data.supplierName },
      reviewYear: data.reviewYear,
      reviewerId: data.reviewerId,
      initiatorId: review.initiatorId,
      status: review.status,
      stage: review.stage,
      outcome: review.outcome,
      documents: REVIEW_DOCUMENTS.map((type) => {
        const doc = data.documents?.[type];
        const file = doc && documents.find((d) => d.id === doc.evidenceId);
        return {
          type,
          received: !!doc,
          fileName: doc?.fileName ?? null,
          sha256: doc?.sha256 ?? null,
          sizeBytes: file?.sizeBytes ?? null,
          uploadedBy: doc?.by ?? null,
          at: doc?.at ?? null,
        };
      }),
      missingDocuments: data.missingDocuments ?? [],
      checks: data.checks ?? null,
      scores: data.scores ?? null,
      grade: data.grade ?? null,
      findings: data.findings ?? [],
      decisionChain: (decisionTask?.votes ?? []).map((v) => ({ ...v, conditions: v.conditions ?? [] })),
      decisionEvents: decisionEvents.map((e) => ({
        seq: e.seq,
        action: e.action,
        actorId: e.actorId,
        at: e.occurredAt.toISOString(),
        reason: e.reason,
      })),
      conditions: data.decision?.conditions ?? [],
      rectificationItems: taskRows.filter((t) => t.kind === 'rectification').map((t) => toTaskDto(t)),
      nextReviewDue: data.nextReviewDue ?? null,
      timeline: timeline.map(toAuditDto),
      links: { temporalUi: temporalUiLink(settings.temporalUiUrl, settings.temporalNamespace, caseId) },
    };
  }

  reportRoutes(app, {
    path: '/api/supplier-reviews/{caseId}/report',
    idName: 'caseId',
    idParam: CaseIdParam,
    tag: 'Supplier reviews',
    summary:
      'Appraisal report (供应商考评报告): documents and hashes, checks, scores, grade, rules fired, decision chain, conditions and their items',
    schemaName: 'SupplierAppraisalReport',
    build: buildReport,
    render: renderSupplierReport,
    readable: (caseId, user) =>
      assertCanReadCase(db, user, caseId, () => new ApiError('NOT_FOUND', `no supplier review ${caseId}`)),
  });

  return app;
}
