/**
 * Emergency plans (应急预案) and drills (应急演练) through the API: the plan
 * register with its version history, revision cases, drill cases and their
 * steps, the annual programme, and the drill summary report.
 */
import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { and, asc, count, desc, eq, getTableColumns, gte, inArray, isNull, lt, or, sql, type SQL } from 'drizzle-orm';
import { auditEvents, cases, emergencyPlans, planVersions, tasks } from '../../db/schema';
import { BUSINESS_KEY_PATTERN } from '../../domain/cases';
import { PLAN_STATUSES, PLAN_TYPES } from '../../domain/drills';
import { REFUSAL_KINDS } from '../../contracts';
import { stepRefusal } from '../../contracts/core';
import { DRILL_ID_PATTERN, drillContract } from '../../contracts/drill';
import { PLAN_REVISION_ID_PATTERN, PlanDraftSchema, planRevisionContract } from '../../contracts/planRevision';
import {
  ensureDrillProgramme,
  registerEmergencyPlan,
  startDrillCase,
  startPlanRevisionCase,
} from '../../platform/cases';
import { assertCanReadCase, readableCaseCondition } from '../../platform/access';
import { currentPolicy } from '../../platform/policy';
import type { DrillData, drillProgrammeWorkflow } from '../../workflows/drill';
import { requireRole } from '../auth';
import { refuseLockedTimings } from '../caseTimings';
import { temporalUiLink, toAuditDto, toCaseDto, toTaskDto } from '../dto';
import { ApiError } from '../errors';
import { renderDrillReport, type DrillReport } from '../reports/drillReport';
import { ApprovalTimingsSchema, CaseSchema, durationSchema, RectificationTimingsSchema } from '../schemas';
import {
  CaseFilterQuerySchema,
  caseFilters,
  caseOrder,
  checkRange,
  cursorKeyColumn,
  KeysetQuerySchema,
  keysetPageOf,
  listCases,
  pageOfRows,
  pageQuery,
  pagingOf,
  textSearch,
  type KeysetOrder,
} from './keyset';
import { stepTimingsProblem, StepTimingsSchema } from './supplierReviews';
import {
  actorOf,
  bearer,
  contractSteps,
  errorResponses,
  requireActiveUser,
  router,
  sendCaseUpdate,
  reportRoutes,
  type AppDeps,
} from './common';
import { evidenceBodyLimit, storeEvidence } from './evidence';

const text = (max: number) => z.string().trim().min(1).max(max);
const json = <T extends z.ZodTypeAny>(schema: T) => ({ required: true, content: { 'application/json': { schema } } });
const PlanIdParam = z.object({ planId: z.string().regex(BUSINESS_KEY_PATTERN, 'a plan id') });
const DrillIdParam = z.object({
  caseId: z.string().regex(DRILL_ID_PATTERN, 'a drill id: drill:<planId>:<year>'),
});
const RevisionIdParam = z.object({
  caseId: z.string().regex(PLAN_REVISION_ID_PATTERN, 'a revision id: plan-revision:<planId>:v<n>'),
});
/** The draft is an upload: its route is written here, its Update, input and rules come from the contract. */
const DRAFT_STEP = planRevisionContract.steps.draft;
/** A refusal's answer, as the API gives it when a workflow refuses. */
const KIND_ERROR = { conflict: 'CONFLICT', forbidden: 'FORBIDDEN', unprocessable: 'UNPROCESSABLE' } as const;
/** Per-case overrides of the policy's clocks: refused (403) unless the deployment allows them. */
const DrillTimingsSchema = z
  .object({
    dueIn: durationSchema.optional().openapi({
      description: 'from opening to the due date, by which it is conducted (default: the end of the year)',
    }),
    step: StepTimingsSchema.optional().openapi({
      description: 'the plan’s, the evaluation’s and the summary’s ladder',
    }),
    approval: ApprovalTimingsSchema.optional(),
    rectification: RectificationTimingsSchema.optional(),
  })
  .strict()
  .openapi({
    description:
      'overrides of the policy’s clocks (GET /api/policy), for tests and demos: refused with 403 CASE_TIMINGS_LOCKED unless the deployment sets GOVERNANCE_CASE_TIMINGS=allow',
  });
const Started = z.object({ caseId: z.string(), links: z.object({ temporalUi: z.string() }) });

/** The register by plan id (its primary key serves the order). */
const PLAN_ORDER: KeysetOrder = {
  tag: 'emergency-plans',
  direction: 'asc',
  keys: [{ column: emergencyPlans.id, kind: 'text' }],
};
/** Drills and revisions newest first; the index on (created_at, id) serves it. */
const DRILL_ORDER = caseOrder('drills');
const DrillSummarySchema = CaseSchema.extend({
  planId: z.string().nullable(),
  year: z.number().int().nullable(),
  overall: z.number().nullable().openapi({ description: 'a drill’s weighted score, once evaluated' }),
  passed: z.boolean().nullable(),
}).openapi('DrillSummary');

export function drillRoutes(deps: AppDeps) {
  const { db, temporal, settings } = deps;
  const app = router();
  const startDeps = { db, temporal, taskQueue: settings.taskQueue };
  const link = (caseId: string) => ({
    temporalUi: temporalUiLink(settings.temporalUiUrl, settings.temporalNamespace, caseId),
  });
  async function loadCase(caseId: string, process: string) {
    const [row] = await db.select().from(cases).where(eq(cases.id, caseId));
    if (!row || row.process !== process) throw new ApiError('NOT_FOUND', `no ${process.replace('_', ' ')} ${caseId}`);
    return row;
  }

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/emergency-plans',
      tags: ['Emergency plans'],
      summary: 'Register an emergency plan (应急预案); its first version is drafted in a revision case',
      security: bearer,
      middleware: [requireRole('manager', 'admin')] as const,
      request: {
        body: json(
          z
            .object({
              planId: z.string().regex(BUSINESS_KEY_PATTERN, 'letters, digits, ".", "_" or "-"'),
              title: text(200),
              type: z.enum(PLAN_TYPES),
              ownerId: z
                .string()
                .min(1)
                .max(64)
                .optional()
                .openapi({ description: 'drafts revisions and organises drills; defaults to the caller' }),
              timings: z
                .object({
                  revisionInterval: durationSchema.optional(),
                  revisionRemindBefore: durationSchema.optional(),
                  draft: StepTimingsSchema.optional().openapi({
                    description: 'the ladder of each revision’s draft, owed by the plan owner',
                  }),
                })
                .strict()
                .optional()
                .openapi({
                  description:
                    'overrides of the policy’s revision interval (at most three years, e-commerce §7.3), its 90-day reminder and the draft’s ladder, for tests and demos: refused with 403 CASE_TIMINGS_LOCKED unless the deployment sets GOVERNANCE_CASE_TIMINGS=allow',
                }),
            })
            .strict()
            .openapi('RegisterEmergencyPlan'),
        ),
      },
      responses: {
        201: {
          description: 'Registered; revision v1 opened',
          content: { 'application/json': { schema: z.object({ planId: z.string(), revisionCaseId: z.string() }) } },
        },
        ...errorResponses(400, 401, 403, 409),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      // The plan's clocks are the policy's unless this deployment allows its own: refused before anything is written.
      refuseLockedTimings(settings, { timings: body.timings });
      const user = c.get('user');
      const ownerId = body.ownerId ?? user.id;
      await requireActiveUser(db, ownerId, 'ownerId', { mayAct: true });
      // The revision reads the policy in force as it opens (workflows/planRevision.ts); overrides fill in its ladder.
      const { values: policy } = await currentPolicy(db);
      const timingProblem = stepTimingsProblem('draft', body.timings?.draft, [policy.plan.draft]);
      if (timingProblem) throw new ApiError('BAD_REQUEST', timingProblem);
      const conflict = () => new ApiError('CONFLICT', `emergency plan ${body.planId} already exists`);
      const [existing] = await db
        .select({ id: emergencyPlans.id })
        .from(emergencyPlans)
        .where(eq(emergencyPlans.id, body.planId));
      if (existing) throw conflict();
      // One start: the first revision registers the plan as its first step.
      const revision = await registerEmergencyPlan(startDeps, {
        planId: body.planId,
        title: body.title,
        type: body.type,
        ownerId,
        timings: body.timings ?? {},
        initiatorId: user.id,
      });
      if (!revision) throw conflict();
      return c.json({ planId: body.planId, revisionCaseId: revision.caseId }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/emergency-plans',
      tags: ['Emergency plans'],
      summary: 'The plan register, by id, with filters, search and keyset pagination',
      description:
        'Without paging parameters the whole register, as before. Pass `limit` (and then each page’s `nextCursor` as `cursor`) to walk it page by page.',
      security: bearer,
      request: {
        query: KeysetQuerySchema.omit({ page: true, pageSize: true }).extend({
          status: z.enum(PLAN_STATUSES).optional(),
          type: z.enum(PLAN_TYPES).optional(),
          ownerId: z.string().min(1).max(100).optional(),
          overdue: z
            .enum(['true', 'false'])
            .transform((v) => v === 'true')
            .optional()
            .openapi({ description: 'true: its revision is past due' }),
          q: z.string().trim().min(1).max(100).optional().openapi({ description: 'part of the title or the plan id' }),
        }),
      },
      responses: {
        200: {
          description: 'Plans by id',
          content: {
            'application/json': {
              schema: keysetPageOf(z.record(z.string(), z.unknown()), 'EmergencyPlanPage'),
            },
          },
        },
        ...errorResponses(400, 401),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const now = new Date();
      const filters: Array<SQL | undefined> = [];
      if (q.status) filters.push(eq(emergencyPlans.status, q.status));
      if (q.type) filters.push(eq(emergencyPlans.type, q.type));
      if (q.ownerId) filters.push(eq(emergencyPlans.ownerId, q.ownerId));
      if (q.overdue === true) filters.push(lt(emergencyPlans.revisionDueAt, now));
      if (q.overdue === false)
        filters.push(or(isNull(emergencyPlans.revisionDueAt), gte(emergencyPlans.revisionDueAt, now)));
      filters.push(textSearch(q.q, emergencyPlans.title, emergencyPlans.id));
      const where = and(...filters);
      // The register was answered whole; it still is unless the caller pages.
      const paging = q.cursor !== undefined || q.limit !== undefined ? pagingOf(PLAN_ORDER, q) : null;
      const page = paging ? pageQuery(PLAN_ORDER, paging) : null;
      const [rows, [totals]] = await Promise.all([
        db
          .select({ ...getTableColumns(emergencyPlans), cursorKey: cursorKeyColumn(PLAN_ORDER) })
          .from(emergencyPlans)
          .where(and(where, page?.after))
          .orderBy(asc(emergencyPlans.id))
          .limit(page?.limit ?? 100_000),
        db.select({ total: count() }).from(emergencyPlans).where(where),
      ]);
      const { rows: shown, nextCursor } = paging ? pageOfRows(PLAN_ORDER, paging, rows) : { rows, nextCursor: null };
      return c.json(
        {
          items: shown.map(({ cursorKey: _key, ...p }) => ({
            ...p,
            lastApprovedAt: p.lastApprovedAt?.toISOString() ?? null,
            revisionDueAt: p.revisionDueAt?.toISOString() ?? null,
            createdAt: p.createdAt.toISOString(),
            updatedAt: p.updatedAt.toISOString(),
          })),
          nextCursor,
          total: totals?.total ?? 0,
          ...(paging?.mode === 'cursor' ? { limit: paging.limit } : {}),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/drills',
      tags: ['Drills'],
      summary: 'List drills and plan revisions, newest first, with filters, search and keyset pagination',
      description:
        'Only the cases the caller may read (as GET /api/cases). Filtered by kind (drill or plan revision), plan, year, stage, status, owner, overdue and the date opened; q searches the title and the business key. Pass `limit` (and then each page’s `nextCursor` as `cursor`) to walk the list.',
      security: bearer,
      request: {
        query: KeysetQuerySchema.extend(CaseFilterQuerySchema.shape).extend({
          process: z.enum(['drill', 'plan_revision']).optional(),
          planId: z.string().regex(BUSINESS_KEY_PATTERN, 'a plan id').optional(),
          year: z.coerce.number().int().min(2000).max(2100).optional(),
        }),
      },
      responses: {
        200: {
          description: 'A page of drills and plan revisions',
          content: { 'application/json': { schema: keysetPageOf(DrillSummarySchema, 'DrillPage') } },
        },
        ...errorResponses(400, 401),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const paging = pagingOf(DRILL_ORDER, q);
      checkRange(q);
      const now = new Date();
      const filters: Array<SQL | undefined> = [
        q.process ? eq(cases.process, q.process) : inArray(cases.process, ['drill', 'plan_revision']),
        ...caseFilters(cases, q, now),
      ];
      if (q.planId) filters.push(eq(cases.subjectType, 'emergency_plan'), eq(cases.subjectId, q.planId));
      if (q.year !== undefined) filters.push(sql`${cases.data}->>'year' = ${String(q.year)}`);
      const { rows, ...pageFields } = await listCases(db, DRILL_ORDER, paging, and(...filters), c.get('user'));
      return c.json(
        {
          items: rows.map((row) => {
            const data = row.data as Partial<DrillData> & { planId?: string };
            return {
              ...toCaseDto(row, now),
              planId: row.subjectId ?? data.planId ?? null,
              year: typeof data.year === 'number' ? data.year : null,
              overall: data.evaluation?.overall ?? null,
              passed: data.evaluation ? data.evaluation.passed : null,
            };
          }),
          ...pageFields,
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/emergency-plans/{planId}',
      tags: ['Emergency plans'],
      summary: 'A plan with its version history (预案版本管理), revision cases and drills',
      security: bearer,
      request: { params: PlanIdParam },
      responses: {
        200: {
          description: 'The plan',
          content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } },
        },
        ...errorResponses(401, 404),
      },
    }),
    async (c) => {
      const { planId } = c.req.valid('param');
      const [plan] = await db.select().from(emergencyPlans).where(eq(emergencyPlans.id, planId));
      if (!plan) throw new ApiError('NOT_FOUND', `no emergency plan ${planId}`);
      const [versions, related] = await Promise.all([
        db.select().from(planVersions).where(eq(planVersions.planId, planId)).orderBy(desc(planVersions.version)),
        db
          .select()
          .from(cases)
          .where(
            and(
              eq(cases.subjectType, 'emergency_plan'),
              eq(cases.subjectId, planId),
              readableCaseCondition(c.get('user')),
            ),
          )
          .orderBy(desc(cases.createdAt)),
      ]);
      return c.json(
        {
          plan: {
            ...plan,
            lastApprovedAt: plan.lastApprovedAt?.toISOString() ?? null,
            revisionDueAt: plan.revisionDueAt?.toISOString() ?? null,
            createdAt: plan.createdAt.toISOString(),
            updatedAt: plan.updatedAt.toISOString(),
          },
          versions: versions.map((v) => ({ ...v, approvedAt: v.approvedAt.toISOString() })),
          revisions: related.filter((r) => r.process === 'plan_revision').map((r) => toCaseDto(r)),
          drills: related.filter((r) => r.process === 'drill').map((r) => toCaseDto(r)),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/emergency-plans/{planId}/revisions',
      tags: ['Emergency plans'],
      summary: 'Open the next revision of a plan (managers)',
      security: bearer,
      middleware: [requireRole('manager')] as const,
      request: { params: PlanIdParam, body: json(z.object({ reason: text(2000) }).strict()) },
      responses: {
        201: { description: 'Opened', content: { 'application/json': { schema: Started } } },
        ...errorResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => {
      const { planId } = c.req.valid('param');
      const outcome = await startPlanRevisionCase(startDeps, {
        planId,
        reason: c.req.valid('json').reason,
        initiatorId: c.get('user').id,
      });
      if (!outcome.started)
        throw new ApiError(outcome.reason === 'not_found' ? 'NOT_FOUND' : 'CONFLICT', outcome.message);
      return c.json({ caseId: outcome.caseId, links: link(outcome.caseId) }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/plan-revisions/{caseId}/draft',
      tags: ['Emergency plans'],
      summary: `${DRAFT_STEP.summary} (multipart: file, summary)`,
      description: [
        `Who: ${DRAFT_STEP.who}.`,
        `Allowed in: ${(DRAFT_STEP.stages as readonly string[]).join(', ')}.`,
        `Refusals: ROLE_NOT_PERMITTED (403), ${DRAFT_STEP.stageRefusal} (409), both checked before the file is stored.`,
      ].join(' '),
      security: bearer,
      middleware: [evidenceBodyLimit(settings.maxEvidenceBytes)] as const,
      request: {
        params: RevisionIdParam,
        body: {
          required: true,
          content: {
            'multipart/form-data': {
              schema: z.object({
                file: z
                  .custom<File>((v) => v instanceof File, 'attach the plan document as form field "file"')
                  .openapi({ type: 'string', format: 'binary' }),
                summary: PlanDraftSchema.shape.summary,
              }),
            },
          },
        },
      },
      responses: {
        200: {
          description: 'Submitted for review',
          content: {
            'application/json': { schema: z.object({ stage: z.string(), evidenceId: z.string(), sha256: z.string() }) },
          },
        },
        ...errorResponses(400, 401, 403, 404, 409, 413, 422),
      },
    }),
    async (c) => {
      const { caseId } = c.req.valid('param');
      const { file, summary } = c.req.valid('form');
      if (file.size === 0) throw new ApiError('BAD_REQUEST', 'invalid body: file is empty');
      if (file.size > settings.maxEvidenceBytes)
        throw new ApiError('PAYLOAD_TOO_LARGE', `evidence files are limited to ${settings.maxEvidenceBytes} bytes`);
      const revision = await loadCase(caseId, 'plan_revision');
      const user = c.get('user');
      // The contract's checks (who, then stage) before the file is stored; the validator makes them again.
      const refusal = stepRefusal(
        { ...DRAFT_STEP, input: PlanDraftSchema.pick({ summary: true }) },
        {
          stage: revision.stage,
          status: revision.status === 'closed' ? 'closed' : 'open',
          ownerId: revision.ownerId ?? undefined,
          label: planRevisionContract.process.replace(/_/g, ' '),
        },
        { actor: actorOf(c), summary },
      );
      if (refusal) {
        const kind = REFUSAL_KINDS[refusal.code] ?? 'unprocessable';
        throw new ApiError(KIND_ERROR[kind], refusal.message, undefined, refusal.code);
      }
      // A revision ended from outside would refuse the Update after the file was stored.
      const { status } = await temporal.workflow.getHandle(caseId).describe();
      if (status.name !== 'RUNNING') {
        throw new ApiError('CONFLICT', `revision ${caseId} is closed (its workflow is ${status.name.toLowerCase()})`);
      }
      const stored = await storeEvidence(db, {
        caseId,
        taskId: null,
        documentType: 'emergency_plan',
        file,
        uploadedBy: user.id,
        requestId: c.get('requestId'),
      });
      const result = (await sendCaseUpdate(temporal, caseId, DRAFT_STEP.update, {
        actor: actorOf(c),
        summary,
        document: { id: stored.id, sha256: stored.sha256 },
      })) as { stage: string };
      return c.json({ ...result, evidenceId: stored.id, sha256: stored.sha256 }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/drills',
      tags: ['Drills'],
      summary: 'Open a plan’s drill for a year (one per plan per year)',
      security: bearer,
      middleware: [requireRole('manager')] as const,
      request: {
        body: json(
          z
            .object({
              planId: z.string().regex(BUSINESS_KEY_PATTERN),
              year: z.number().int().min(2000).max(2100),
              timings: DrillTimingsSchema.optional(),
            })
            .strict(),
        ),
      },
      responses: {
        201: { description: 'Opened', content: { 'application/json': { schema: Started } } },
        ...errorResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      // The drill's clocks are the policy's unless this deployment allows its own: refused before anything starts.
      refuseLockedTimings(settings, { timings: body.timings });
      // Overrides fill in the policy's ladders, so each must still climb in order with them.
      const { values: policy } = await currentPolicy(db);
      const timingProblem =
        stepTimingsProblem('approval', body.timings?.approval, [policy.approval]) ??
        stepTimingsProblem('step', body.timings?.step, [policy.drill.planning, policy.step]);
      if (timingProblem) throw new ApiError('BAD_REQUEST', timingProblem);
      const outcome = await startDrillCase(startDeps, { ...body, initiatorId: c.get('user').id });
      if (!outcome.started)
        throw new ApiError(outcome.reason === 'not_found' ? 'NOT_FOUND' : 'CONFLICT', outcome.message);
      return c.json({ caseId: outcome.caseId, links: link(outcome.caseId) }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/drills/programme',
      tags: ['Drills'],
      summary:
        'Run the annual programme now: open every active plan’s drill for the year (idempotent); the Schedule runs it each January',
      security: bearer,
      middleware: [requireRole('manager')] as const,
      request: { body: json(z.object({ year: z.number().int().min(2000).max(2100) }).strict()) },
      responses: {
        200: {
          description: 'Started and skipped',
          content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } },
        },
        ...errorResponses(400, 401, 403),
      },
    }),
    async (c) => {
      await ensureDrillProgramme(temporal, settings.taskQueue);
      // The programme is workflow code: a crash mid-way leaves a run that
      // Temporal finishes, not a loop half done. Each drill id is unique per
      // plan and year, so a second run skips what the first opened.
      const { year } = c.req.valid('json');
      const result = await temporal.workflow.execute<typeof drillProgrammeWorkflow>('drillProgrammeWorkflow', {
        taskQueue: settings.taskQueue,
        workflowId: `drill-programme:${year}:${randomUUID()}`,
        args: [{ year, initiatorId: c.get('user').id }],
      });
      return c.json(result, 200);
    },
  );

  contractSteps(app, drillContract, {
    resource: '/api/drills',
    idName: 'caseId',
    idParam: DrillIdParam,
    tag: 'Drills',
    resultSchema: z.object({ stage: z.string() }),
    temporal,
    load: (caseId) => loadCase(caseId, 'drill'),
    before: {
      evaluation: async (body) => {
        for (const f of body.findings as Array<{ ownerId: string }>)
          await requireActiveUser(db, f.ownerId, 'findings.ownerId', { mayAct: true });
      },
    },
  });

  async function buildReport(caseId: string): Promise<DrillReport> {
    const row = await loadCase(caseId, 'drill');
    const [taskRows, timeline] = await Promise.all([
      db.select().from(tasks).where(eq(tasks.caseId, caseId)).orderBy(asc(tasks.createdAt), asc(tasks.id)),
      db.select().from(auditEvents).where(eq(auditEvents.caseId, caseId)).orderBy(asc(auditEvents.seq)),
    ]);
    return {
      caseId,
      title: row.title,
      status: row.status,
      stage: row.stage,
      data: row.data as DrillData,
      approvals: taskRows.filter((t) => t.kind === 'approval').map((t) => toTaskDto(t)),
      rectificationItems: taskRows.filter((t) => t.kind === 'rectification').map((t) => toTaskDto(t)),
      auditTrail: timeline.map(toAuditDto),
      links: link(caseId),
    };
  }
  reportRoutes(app, {
    path: '/api/drills/{caseId}/report',
    idName: 'caseId',
    idParam: DrillIdParam,
    tag: 'Drills',
    summary:
      'Drill summary report (应急演练总结报告): plan, conduct, scores against the standard, findings and their items, summary, revision',
    schemaName: 'DrillSummaryReport',
    build: buildReport,
    render: renderDrillReport,
    readable: (caseId, user) =>
      assertCanReadCase(db, user, caseId, () => new ApiError('NOT_FOUND', `no drill ${caseId}`)),
  });

  return app;
}
