/**
 * Supplier reviews through the API: start one, run the annual campaign, and
 * deliver the reviewer's steps (documents, checks, scores) to the workflow as
 * Updates. Decisions go through POST /api/tasks/{taskId}/decision like every
 * approval. The appraisal report is JSON and a printable page.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { asc, eq } from 'drizzle-orm';
import { auditEvents, cases, evidence, tasks, users } from '../../db/schema';
import {
  DEFAULT_APPROVAL_TIMINGS,
  DEFAULT_STEP_TIMINGS,
  SUPPLIER_DOCUMENTS_TIMINGS,
  validateTimings,
  type ApprovalTimings,
  type StepTimings,
} from '../../domain/deadlines';
import { REVIEW_DOCUMENTS } from '../../domain/supplierReview';
import { REFUSAL_KINDS } from '../../contracts';
import { stepRefusal } from '../../contracts/core';
import {
  reviewDocumentType,
  SUPPLIER_REVIEW_ID_PATTERN,
  supplierReviewContract,
  type ReviewStepResult,
} from '../../contracts/supplierReview';
import type { SupplierReviewData } from '../../workflows/supplierReview';
import { isReadOnly } from '../../domain/roles';
import { supplierCampaignId, type CampaignProgress } from '../../contracts/supplierCampaign';
import { startSupplierCampaign, startSupplierReviewCase } from '../../platform/cases';
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

const CaseIdParam = z.object({
  caseId: z.string().regex(SUPPLIER_REVIEW_ID_PATTERN, 'a supplier review id: supplier-review:<credit code>:<year>'),
});

/** A refusal the route makes itself, answered as the workflow's would be. */
const REFUSAL_ERROR = { conflict: 'CONFLICT', forbidden: 'FORBIDDEN', unprocessable: 'UNPROCESSABLE' } as const;

const StepResultSchema = z
  .object({ stage: z.string(), received: z.array(z.string()).optional(), missing: z.array(z.string()).optional() })
  .openapi('ReviewStepResult');

/** Approval timings must still escalate before they expire, as for every approval. */
export function approvalTimingsProblem(approval: Partial<ApprovalTimings> | undefined): string | null {
  if (!approval) return null;
  const problem = validateTimings({ ...DEFAULT_APPROVAL_TIMINGS, ...approval });
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

/** What is wrong with a review's timings, or null. */
const reviewTimingsProblem = (timings: z.infer<typeof TimingsSchema> | undefined) =>
  approvalTimingsProblem(timings?.approval) ??
  stepTimingsProblem('documents', timings?.documents, [SUPPLIER_DOCUMENTS_TIMINGS]) ??
  stepTimingsProblem('step', timings?.step);

export function supplierReviewRoutes({ db, temporal, settings }: AppDeps) {
  const app = router();
  const max = settings.maxEvidenceBytes;
  const documentStep = supplierReviewContract.steps.documents;

  /** A campaign that has finished: what it did, as its read-model row holds it. */
  async function finishedCampaign(year: number): Promise<CampaignProgress> {
    const [row] = await db
      .select({ data: cases.data })
      .from(cases)
      .where(eq(cases.id, supplierCampaignId(year)));
    if (!row) throw new ApiError('CONFLICT', `the ${year} campaign has ended without a record; run it again`);
    return row.data as unknown as CampaignProgress;
  }

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
      security: bearer,
      middleware: [requireRole('manager')] as const,
      request: { body: { required: true, content: { 'application/json': { schema: StartReviewSchema } } } },
      responses: {
        201: {
          description: 'Started',
          content: {
            'application/json': {
              schema: z.object({
                caseId: z.string(),
                runId: z.string(),
                links: z.object({ self: z.string(), temporalUi: z.string() }),
              }),
            },
          },
        },
        ...errorResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const timingProblem = reviewTimingsProblem(body.timings);
      if (timingProblem) throw new ApiError('BAD_REQUEST', timingProblem);
      if (body.reviewerId) {
        const [reviewer] = await db
          .select({ active: users.active, roles: users.roles })
          .from(users)
          .where(eq(users.id, body.reviewerId));
        // The reviewer enters checks and scores: an auditor, who changes nothing, cannot.
        if (!reviewer?.active || isReadOnly(reviewer)) {
          throw new ApiError(
            'BAD_REQUEST',
            `invalid body: reviewerId "${body.reviewerId}" is not an active user who may review`,
            [{ field: 'body.reviewerId', message: 'not an active user who may review' }],
          );
        }
      }
      const outcome = await startSupplierReviewCase(
        { db, temporal, taskQueue: settings.taskQueue },
        {
          supplierId: body.supplierId.toUpperCase(),
          year: body.year,
          initiatorId: c.get('user').id,
          reviewerId: body.reviewerId,
          timings: body.timings,
        },
      );
      if (!outcome.started) {
        throw new ApiError(outcome.reason === 'not_found' ? 'NOT_FOUND' : 'CONFLICT', outcome.message);
      }
      return c.json(
        {
          caseId: outcome.caseId,
          runId: outcome.runId,
          links: {
            self: `/api/cases/${encodeURIComponent(outcome.caseId)}`,
            temporalUi: temporalUiLink(settings.temporalUiUrl, settings.temporalNamespace, outcome.caseId),
          },
        },
        201,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/supplier-reviews/campaigns',
      tags: ['Supplier reviews'],
      summary: 'Annual campaign: start the year’s review of every active or restricted supplier (idempotent)',
      description:
        'Runs as a workflow (supplier-campaign:<year>), a batch of reviews at a time. Answers once the read model shows what it did: when it is done, or, for a campaign over many suppliers, with status "running" and its progress so far (GET /api/cases/supplier-campaign:<year> shows the rest). A second call for the same year returns the same campaign.',
      security: bearer,
      middleware: [requireRole('manager')] as const,
      request: { body: { required: true, content: { 'application/json': { schema: CampaignSchema } } } },
      responses: {
        200: {
          description: 'What was started and what was skipped, and why',
          content: {
            'application/json': {
              schema: z
                .object({
                  year: z.number().int(),
                  status: z.enum(['running', 'done']),
                  total: z.number().int().openapi({ description: 'suppliers the campaign goes through' }),
                  started: z.array(z.object({ supplierId: z.string(), caseId: z.string() })),
                  skipped: z.array(
                    z.object({ supplierId: z.string(), caseId: z.string(), reason: z.string(), message: z.string() }),
                  ),
                })
                .openapi('CampaignSummary'),
            },
          },
        },
        ...errorResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const timingProblem = reviewTimingsProblem(body.timings);
      if (timingProblem) throw new ApiError('BAD_REQUEST', timingProblem);
      const progress =
        (await startSupplierCampaign(
          { db, temporal, taskQueue: settings.taskQueue },
          { year: body.year, initiatorId: c.get('user').id, timings: body.timings },
        )) ?? (await finishedCampaign(body.year));
      return c.json(progress, 200);
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
  });

  return app;
}
