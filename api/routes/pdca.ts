/**
 * PDCA improvement cycles (持续改进) through the API, the closed loop from any
 * case (incident review, drill, supplier appraisal, audit finding) to a linked
 * cycle (DOMAIN.md §6). The control-effectiveness report is in riskReports.ts.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { startCaseWorkflow } from '../../platform/cases';
import { and, eq, sql, type SQL } from 'drizzle-orm';
import { PDCA_STAGE, PDCA_STAGES, pdcaActionsSchema, pdcaContract } from '../../contracts/pdca';
import { cases } from '../../db/schema';
import {
  actionsProblem,
  kpisProblem,
  PDCA_SOURCES,
  PLATFORM_KPIS,
  type PdcaSource,
  type PlanAction,
} from '../../domain/pdca';
import { currentPolicy } from '../../platform/policy';
import { newKeySuffix } from '../../platform/idempotentCalls';
import type { pdcaCycleWorkflow } from '../../workflows/pdca';
import type { AuthUser } from '../auth';
import { requireRole } from '../auth';
import { refuseLockedTimings } from '../caseTimings';
import { temporalUiLink, toCaseDto } from '../dto';
import { ApiError } from '../errors';
import { ApprovalTimingsSchema, CaseSchema, durationSchema, RectificationTimingsSchema } from '../schemas';
import {
  CaseFilterQuerySchema,
  caseFilters,
  caseOrder,
  checkRange,
  KeysetQuerySchema,
  keysetPageOf,
  listCases,
  pagingOf,
} from './keyset';
import { bearer, contractSteps, errorResponses, requireActiveUser, router, type AppDeps } from './common';
import { stepTimingsProblem, StepTimingsSchema } from './supplierReviews';

const text = (max: number) => z.string().trim().min(1).max(max);
const json = <T extends z.ZodTypeAny>(schema: T) => ({ required: true, content: { 'application/json': { schema } } });

const KpiSchema = z
  .object({
    key: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,49}$/)
      .openapi({ description: `a KPI of your own, or one the platform computes: ${PLATFORM_KPIS.join(', ')}` }),
    name: text(200),
    unit: z.string().max(20).optional(),
    baseline: z.number(),
    target: z.number(),
    direction: z.enum(['increase', 'decrease']),
  })
  .strict();
const CycleBody = z
  .object({
    cycleKey: z.string().regex(pdcaContract.keyPattern).optional(),
    title: text(200),
    objective: text(2000),
    ownerId: z.string().min(1).max(64).optional(),
    kpis: z.array(KpiSchema).min(1).max(20),
    actions: pdcaActionsSchema,
    checkIn: durationSchema.default('30d').openapi({ description: 'from the start of Do to the check date' }),
    effectivenessWindow: durationSchema
      .optional()
      .openapi({ description: 'recheck this long after standardising; a slipped KPI reopens the cycle' }),
    escalateAfterCycles: z.number().int().min(1).max(20).optional().openapi({
      description:
        'overrides the policy’s pdca.escalateAfterCycles, for tests and demos: refused with 403 CASE_TIMINGS_LOCKED unless the deployment sets GOVERNANCE_CASE_TIMINGS=allow',
    }),
    timings: z
      .object({
        step: StepTimingsSchema.optional().openapi({ description: 'the ladder of the plan, KPI values and standard' }),
        approval: ApprovalTimingsSchema.optional(),
        rectification: RectificationTimingsSchema.optional(),
      })
      .strict()
      .optional()
      .openapi({
        description:
          'overrides of the policy’s clocks (GET /api/policy), for tests and demos: refused with 403 CASE_TIMINGS_LOCKED unless the deployment sets GOVERNANCE_CASE_TIMINGS=allow',
      }),
  })
  .strict();
const NewCycleSchema = CycleBody.extend({
  source: z.enum(PDCA_SOURCES),
  sourceCaseId: z.string().max(300).optional(),
}).openapi('StartImprovementCycle');
type NewCycle = z.infer<typeof NewCycleSchema>;
const Started = z.object({ caseId: z.string(), links: z.object({ temporalUi: z.string() }) });
/** Newest first; the index on (created_at, id) serves it. */
const CYCLE_ORDER = caseOrder('improvement-cycles');
const CycleSummarySchema = CaseSchema.extend({
  cycleKey: z.string(),
  source: z.string().nullable(),
  sourceCaseId: z.string().nullable(),
  cycle: z.number().int().nullable().openapi({ description: 'which turn of the loop (a slipped KPI reopens it)' }),
}).openapi('ImprovementCycleSummary');

/** Which source a cycle opened from a case has, by the case's process. */
const SOURCE_OF_PROCESS: Record<string, PdcaSource> = {
  incident: 'incident_review',
  drill: 'drill_finding',
  supplier_review: 'supplier_appraisal',
  approval_request: 'audit_finding',
  complaint: 'incident_review',
};

export function pdcaRoutes(deps: AppDeps) {
  const { db, temporal, settings } = deps;
  const app = router();
  const link = (caseId: string) => ({
    temporalUi: temporalUiLink(settings.temporalUiUrl, settings.temporalNamespace, caseId),
  });

  async function start(user: AuthUser, body: NewCycle) {
    // The cycle's clocks and escalation are the policy's unless this deployment allows its own.
    refuseLockedTimings(settings, { timings: body.timings, escalateAfterCycles: body.escalateAfterCycles });
    // The cycle runs under the policy in force now; overrides fill in its ladders.
    const policy = await currentPolicy(db);
    const problem =
      kpisProblem(body.kpis) ??
      actionsProblem(body.actions) ??
      stepTimingsProblem('approval', body.timings?.approval, [policy.values.approval]) ??
      stepTimingsProblem('step', body.timings?.step, [policy.values.step]);
    if (problem)
      throw new ApiError('BAD_REQUEST', problem.startsWith('invalid body') ? problem : `invalid body: ${problem}`);
    const ownerId = body.ownerId ?? user.id;
    await requireActiveUser(db, ownerId, 'ownerId', { mayAct: true });
    for (const a of body.actions) await requireActiveUser(db, a.ownerId, 'actions.ownerId', { mayAct: true });
    const cycleKey = body.cycleKey ?? `PDCA-${newKeySuffix()}`;
    const caseId = pdcaContract.caseId(cycleKey);
    const started = await startCaseWorkflow<typeof pdcaCycleWorkflow>(temporal, {
      workflowType: 'pdcaCycleWorkflow',
      caseId,
      taskQueue: settings.taskQueue,
      process: 'pdca',
      stage: PDCA_STAGE.awaitingApproval,
      args: [
        {
          caseId,
          cycleKey,
          title: body.title,
          objective: body.objective,
          source: body.source,
          sourceCaseId: body.sourceCaseId,
          ownerId,
          initiatorId: user.id,
          kpis: body.kpis,
          actions: body.actions,
          cycle: 1,
          ...(body.escalateAfterCycles !== undefined ? { escalateAfterCycles: body.escalateAfterCycles } : {}),
          policy,
          checkIn: body.checkIn,
          effectivenessWindow: body.effectivenessWindow,
          history: [],
          timings: body.timings,
        },
      ],
    });
    if (!started) throw new ApiError('CONFLICT', `improvement cycle ${cycleKey} already exists`);
    return { caseId, links: link(caseId) };
  }

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/improvement-cycles',
      tags: ['Improvement (PDCA)'],
      summary: 'Open a PDCA improvement cycle (managers); its plan is approved before Do',
      security: bearer,
      middleware: [requireRole('manager')] as const,
      request: { body: json(NewCycleSchema) },
      responses: {
        201: { description: 'Opened', content: { 'application/json': { schema: Started } } },
        ...errorResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      if (body.sourceCaseId) {
        const [origin] = await db.select({ id: cases.id }).from(cases).where(eq(cases.id, body.sourceCaseId));
        if (!origin) throw new ApiError('NOT_FOUND', `no case ${body.sourceCaseId}`);
      }
      return c.json(await start(c.get('user'), body), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/cases/{caseId}/improvement-cycles',
      tags: ['Improvement (PDCA)'],
      summary:
        'Closed loop (闭环): open an improvement cycle linked to this case (incident review, drill, supplier appraisal, audit finding)',
      security: bearer,
      middleware: [requireRole('manager')] as const,
      request: {
        params: z.object({ caseId: z.string().min(1).max(300) }),
        body: json(CycleBody.openapi('LinkedImprovementCycle')),
      },
      responses: {
        201: { description: 'Opened and linked', content: { 'application/json': { schema: Started } } },
        ...errorResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => {
      const { caseId } = c.req.valid('param');
      const [origin] = await db
        .select({ id: cases.id, process: cases.process })
        .from(cases)
        .where(eq(cases.id, caseId));
      if (!origin) throw new ApiError('NOT_FOUND', `no case ${caseId}`);
      const source = SOURCE_OF_PROCESS[origin.process];
      if (!source) throw new ApiError('CONFLICT', `a ${origin.process} case does not open improvement cycles`);
      return c.json(await start(c.get('user'), { ...c.req.valid('json'), source, sourceCaseId: caseId }), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/improvement-cycles',
      tags: ['Improvement (PDCA)'],
      summary: 'List improvement cycles, newest first, with filters, search and keyset pagination',
      description:
        'Only the cycles the caller may read (as GET /api/cases). Filtered by stage, status, source, owner, overdue and the date opened; q searches the title and the cycle key. Pass `limit` (and then each page’s `nextCursor` as `cursor`) to walk the list.',
      security: bearer,
      request: {
        query: KeysetQuerySchema.extend(CaseFilterQuerySchema.shape).extend({
          stage: z.enum(PDCA_STAGES).optional(),
          source: z.enum(PDCA_SOURCES).optional(),
        }),
      },
      responses: {
        200: {
          description: 'A page of improvement cycles',
          content: { 'application/json': { schema: keysetPageOf(CycleSummarySchema, 'ImprovementCyclePage') } },
        },
        ...errorResponses(400, 401),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const paging = pagingOf(CYCLE_ORDER, q);
      checkRange(q);
      const now = new Date();
      const filters: Array<SQL | undefined> = [eq(cases.process, pdcaContract.process), ...caseFilters(cases, q, now)];
      if (q.source) filters.push(sql`${cases.data}->>'source' = ${q.source}`);
      const { rows, ...page } = await listCases(db, CYCLE_ORDER, paging, and(...filters), c.get('user'));
      return c.json(
        {
          items: rows.map((row) => {
            const data = row.data as { cycleKey?: string; source?: string; sourceCaseId?: string; cycle?: number };
            return {
              ...toCaseDto(row, now),
              cycleKey: row.businessKey,
              source: data.source ?? null,
              sourceCaseId: data.sourceCaseId ?? row.parentCaseId ?? null,
              cycle: typeof data.cycle === 'number' ? data.cycle : null,
            };
          }),
          ...page,
        },
        200,
      );
    },
  );

  contractSteps(app, pdcaContract, {
    resource: '/api/improvement-cycles',
    idName: 'cycleKey',
    idParam: z.object({ cycleKey: z.string().regex(pdcaContract.keyPattern, 'a cycle key') }),
    tag: 'Improvement (PDCA)',
    resultSchema: z.object({ stage: z.string() }).openapi('ImprovementCycleStep'),
    temporal,
    load: async (cycleKey) => {
      const [row] = await db
        .select({ id: cases.id, ownerId: cases.ownerId })
        .from(cases)
        .where(eq(cases.id, pdcaContract.caseId(cycleKey)));
      if (!row) throw new ApiError('NOT_FOUND', `no improvement cycle ${cycleKey}`);
      return row;
    },
    before: {
      // As when the cycle opened: an action owner must be someone who can carry it out.
      plan: async (body) => {
        for (const a of body.actions as PlanAction[])
          await requireActiveUser(db, a.ownerId, 'actions.ownerId', { mayAct: true });
      },
    },
  });

  return app;
}
