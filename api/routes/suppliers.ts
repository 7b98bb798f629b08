/**
 * The supplier registry (合作方名录): suppliers identified by their unified
 * social credit code, with per-year performance records that the annual
 * review's rules read.
 *
 * A supplier is registered `pending` and starts cooperating only when its
 * first review is approved (e-commerce manual §4.1: assessed before
 * cooperation). Its status changes only by a decision: a review's, or an
 * approved status-change case (POST /api/suppliers/{id}/status-changes);
 * PATCH edits the registry's other fields and refuses a status.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { and, asc, count, desc, eq, getTableColumns, isNotNull, isNull, type SQL } from 'drizzle-orm';
import { startCaseWorkflow } from '../../platform/cases';
import { readableCaseCondition } from '../../platform/access';
import { currentPolicy } from '../../platform/policy';
import { withAuditedWrite } from '../../db/audit';
import { cases, supplierPerformance, suppliers, type SupplierRow } from '../../db/schema';
import {
  STATUS_CHANGE_STAGES,
  statusChangeRequest,
  SUPPLIER_STATUS_CHANGE_PROCESS,
  supplierStatusChangeContract,
  supplierStatusChangeKey,
} from '../../contracts/supplierStatusChange';
import { APPROVER_ROLES } from '../../domain/roles';
import {
  SAMPLING_RESULTS,
  statusChangeNeedsFourEyes,
  statusChangeProblem,
  SUPPLIER_STATUSES,
  SUPPLIER_TIERS,
  type SupplierStatus,
} from '../../domain/supplierReview';
import { validateCreditCode } from '../../domain/uscc';
import type { supplierStatusChangeWorkflow } from '../../workflows/supplierStatusChange';
import { refuseLockedTimings } from '../caseTimings';
import { requireRole } from '../auth';
import { temporalUiLink, toCaseDto } from '../dto';
import { ApiError } from '../errors';
import { ApprovalTimingsSchema, CaseSchema } from '../schemas';
import { approvalTimingsProblem } from './supplierReviews';
import { bearer, errorResponses, router, type AppDeps, requireActiveUser } from './common';
import {
  cursorKeyColumn,
  KeysetQuerySchema,
  keysetPageOf,
  pageOfRows,
  pageQuery,
  pagingOf,
  textSearch,
  type KeysetOrder,
} from './keyset';

/** The register by name; the credit code breaks ties. */
const SUPPLIER_ORDER: KeysetOrder = {
  tag: 'suppliers',
  direction: 'asc',
  keys: [
    { column: suppliers.name, kind: 'text' },
    { column: suppliers.id, kind: 'text' },
  ],
};

/** PATCH refuses what only a decision may change, naming the field and the route that changes it. */
export const STATUS_BY_DECISION_ONLY = 'STATUS_BY_DECISION_ONLY';

const ContactSchema = z
  .object({
    name: z.string().trim().min(1).max(100).optional(),
    phone: z
      .string()
      .trim()
      .regex(/^[0-9+\-() ]{5,30}$/, 'a phone number')
      .optional(),
    email: z.email().optional(),
  })
  .strict();

const CreditCode = z
  .string()
  .trim()
  .superRefine((code, ctx) => {
    const result = validateCreditCode(code);
    if (!result.ok) ctx.addIssue({ code: 'custom', message: result.reason });
  })
  .transform((code) => code.toUpperCase())
  .openapi({
    example: '91350100M000100Y43',
    description: '统一社会信用代码, 18 characters, GB 32100-2015 check character',
  });

const CreateSupplierSchema = z
  .object({
    creditCode: CreditCode,
    name: z.string().trim().min(1).max(200),
    category: z.string().trim().min(1).max(100).openapi({ example: 'logistics' }),
    tier: z.enum(SUPPLIER_TIERS),
    ownerId: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .openapi({ description: 'reviews the supplier each year; defaults to the caller' }),
    contact: ContactSchema.optional(),
  })
  .strict()
  .openapi('CreateSupplier');

const UpdateSupplierSchema = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    category: z.string().trim().min(1).max(100).optional(),
    tier: z.enum(SUPPLIER_TIERS).optional(),
    ownerId: z.string().min(1).max(64).optional(),
    contact: ContactSchema.optional(),
    // Named here so that the refusal can point at the route that changes them.
    status: z.unknown().optional().openapi({
      description:
        'refused (422 STATUS_BY_DECISION_ONLY): a status changes only by a review’s decision or an approved status change, POST /api/suppliers/{supplierId}/status-changes',
    }),
    conditions: z.unknown().optional().openapi({
      description:
        'refused (422 STATUS_BY_DECISION_ONLY): conditions are set by a review’s decision or a status change',
    }),
    reason: z.string().trim().min(1).max(2000).optional().openapi({ description: 'why, for the audit log' }),
  })
  .strict()
  .refine((body) => Object.keys(body).some((k) => k !== 'reason'), { message: 'change at least one field' })
  .openapi('UpdateSupplier');

const StatusChangeSchema = statusChangeRequest
  .extend({
    timings: z.object({ approval: ApprovalTimingsSchema.optional() }).strict().optional().openapi({
      description: 'per-case timings: refused unless the deployment allows them (GOVERNANCE_CASE_TIMINGS)',
    }),
  })
  .openapi('SupplierStatusChange', {
    example: { change: 'suspend', reason: 'Two quality incidents this month; hold orders until the audit' },
  });

const PerformanceSchema = z
  .object({
    samplingResult: z.enum(SAMPLING_RESULTS),
    complaints: z.number().int().min(0).max(1_000_000),
    logisticsDelayRate: z.number().min(0).max(1).openapi({ description: 'share of late deliveries, 0–1 (0.15 = 15%)' }),
    financialStatementsAbnormal: z.boolean(),
    qualityScore: z.number().int().min(0).max(100),
  })
  .strict()
  .openapi('SupplierPerformance');

export const SupplierSchema = z
  .object({
    id: z.string(),
    creditCode: z.string(),
    name: z.string(),
    category: z.string(),
    tier: z.string(),
    status: z.string(),
    ownerId: z.string(),
    contact: z.object({ name: z.string().nullable(), phone: z.string().nullable(), email: z.string().nullable() }),
    conditions: z.array(z.object({ type: z.string(), detail: z.string(), since: z.string(), caseId: z.string() })),
    lastReviewCaseId: z.string().nullable(),
    lastRiskGrade: z.string().nullable(),
    nextReviewDue: z.string().nullable(),
    reviewOverdue: z
      .object({ caseId: z.string(), since: z.string() })
      .nullable()
      .openapi({ description: 'set when a review lapsed undecided, until a later review is decided' }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Supplier');

const SupplierDetailSchema = z
  .object({
    supplier: SupplierSchema,
    performance: z.array(
      PerformanceSchema.extend({ year: z.number().int(), recordedBy: z.string(), updatedAt: z.string() }),
    ),
    reviews: z.array(CaseSchema),
    statusChanges: z.array(CaseSchema).openapi({ description: 'status-change cases, newest first' }),
  })
  .openapi('SupplierDetail');

export function toSupplierDto(row: SupplierRow) {
  return {
    id: row.id,
    creditCode: row.id,
    name: row.name,
    category: row.category,
    tier: row.tier,
    status: row.status,
    ownerId: row.ownerId,
    contact: { name: row.contactName, phone: row.contactPhone, email: row.contactEmail },
    conditions: row.conditions,
    lastReviewCaseId: row.lastReviewCaseId,
    lastRiskGrade: row.lastRiskGrade,
    nextReviewDue: row.nextReviewDue?.toISOString() ?? null,
    reviewOverdue:
      row.reviewOverdueCaseId && row.reviewOverdueSince
        ? { caseId: row.reviewOverdueCaseId, since: row.reviewOverdueSince.toISOString() }
        : null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

const SupplierIdParam = z.object({ supplierId: z.string().min(1).max(18) });

export function supplierRoutes({ db, temporal, settings }: AppDeps) {
  const app = router();

  async function loadSupplier(supplierId: string) {
    const [row] = await db.select().from(suppliers).where(eq(suppliers.id, supplierId.toUpperCase()));
    if (!row) throw new ApiError('NOT_FOUND', `no supplier ${supplierId}`);
    return row;
  }

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/suppliers',
      tags: ['Suppliers'],
      summary: 'Register a supplier or partner (managers, admins); it is pending until its first review is approved',
      security: bearer,
      middleware: [requireRole('manager', 'admin')] as const,
      request: { body: { required: true, content: { 'application/json': { schema: CreateSupplierSchema } } } },
      responses: {
        201: { description: 'Registered', content: { 'application/json': { schema: SupplierSchema } } },
        ...errorResponses(400, 401, 403, 409),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const actor = c.get('user');
      const ownerId = body.ownerId ?? actor.id;
      if (body.ownerId) await requireActiveUser(db, body.ownerId, 'ownerId');
      const row = {
        id: body.creditCode,
        name: body.name,
        category: body.category,
        tier: body.tier,
        // Assessed before cooperation: its first approved review makes it active.
        status: 'pending' satisfies SupplierStatus,
        ownerId,
        contactName: body.contact?.name ?? null,
        contactPhone: body.contact?.phone ?? null,
        contactEmail: body.contact?.email ?? null,
      };
      const { applied } = await withAuditedWrite(
        db,
        {
          idempotencyKey: `supplier:${row.id}:registered`,
          actorId: actor.id,
          action: 'supplier.registered',
          payload: { supplierId: row.id, name: row.name, tier: row.tier, category: row.category },
        },
        (tx) => tx.insert(suppliers).values(row),
      );
      if (!applied) throw new ApiError('CONFLICT', `supplier ${row.id} is already registered`);
      return c.json(toSupplierDto(await loadSupplier(row.id)), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/suppliers',
      tags: ['Suppliers'],
      summary: 'List suppliers with filters, search and keyset pagination',
      description:
        'By name. Pass `limit` (and then each page’s `nextCursor` as `cursor`) to walk the register page by page; page/pageSize still work for older clients.',
      security: bearer,
      request: {
        query: KeysetQuerySchema.extend({
          status: z.enum(SUPPLIER_STATUSES).optional(),
          tier: z.enum(SUPPLIER_TIERS).optional(),
          category: z.string().max(100).optional(),
          ownerId: z.string().min(1).max(100).optional(),
          grade: z.string().min(1).max(20).optional().openapi({ description: 'the last review’s risk grade' }),
          overdue: z
            .enum(['true', 'false'])
            .transform((v) => v === 'true')
            .optional()
            .openapi({ description: 'true: a review lapsed undecided' }),
          q: z
            .string()
            .trim()
            .min(1)
            .max(100)
            .optional()
            .openapi({ description: 'part of the name or the credit code' }),
        }),
      },
      responses: {
        200: {
          description: 'A page of suppliers by name',
          content: { 'application/json': { schema: keysetPageOf(SupplierSchema, 'SupplierPage') } },
        },
        ...errorResponses(400, 401),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const paging = pagingOf(SUPPLIER_ORDER, q);
      const filters: Array<SQL | undefined> = [];
      if (q.status) filters.push(eq(suppliers.status, q.status));
      if (q.tier) filters.push(eq(suppliers.tier, q.tier));
      if (q.category) filters.push(eq(suppliers.category, q.category));
      if (q.ownerId) filters.push(eq(suppliers.ownerId, q.ownerId));
      if (q.grade) filters.push(eq(suppliers.lastRiskGrade, q.grade));
      if (q.overdue === true) filters.push(isNotNull(suppliers.reviewOverdueCaseId));
      if (q.overdue === false) filters.push(isNull(suppliers.reviewOverdueCaseId));
      filters.push(textSearch(q.q, suppliers.name, suppliers.id));
      const where = and(...filters);
      const page = pageQuery(SUPPLIER_ORDER, paging);
      const [rows, [totals]] = await Promise.all([
        db
          .select({ ...getTableColumns(suppliers), cursorKey: cursorKeyColumn(SUPPLIER_ORDER) })
          .from(suppliers)
          .where(and(where, page.after))
          .orderBy(...page.orderBy)
          .limit(page.limit)
          .offset(page.offset),
        db.select({ total: count() }).from(suppliers).where(where),
      ]);
      const { rows: shown, ...paged } = pageOfRows(SUPPLIER_ORDER, paging, rows);
      return c.json({ items: shown.map(toSupplierDto), ...paged, total: totals?.total ?? 0 }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/suppliers/{supplierId}',
      tags: ['Suppliers'],
      summary: 'A supplier with its performance records and reviews',
      security: bearer,
      request: { params: SupplierIdParam },
      responses: {
        200: { description: 'The supplier', content: { 'application/json': { schema: SupplierDetailSchema } } },
        ...errorResponses(401, 404),
      },
    }),
    async (c) => {
      const supplier = await loadSupplier(c.req.valid('param').supplierId);
      const [performance, subjectCases] = await Promise.all([
        db
          .select()
          .from(supplierPerformance)
          .where(eq(supplierPerformance.supplierId, supplier.id))
          .orderBy(desc(supplierPerformance.year)),
        db
          .select()
          .from(cases)
          .where(
            and(
              eq(cases.subjectType, 'supplier'),
              eq(cases.subjectId, supplier.id),
              readableCaseCondition(c.get('user')),
            ),
          )
          .orderBy(desc(cases.createdAt)),
      ]);
      const reviews = subjectCases.filter((r) => r.process !== SUPPLIER_STATUS_CHANGE_PROCESS);
      const statusChanges = subjectCases.filter((r) => r.process === SUPPLIER_STATUS_CHANGE_PROCESS);
      return c.json(
        {
          supplier: toSupplierDto(supplier),
          performance: performance.map(({ supplierId: _s, updatedAt, ...p }) => ({
            ...p,
            samplingResult: p.samplingResult as 'pass',
            updatedAt: updatedAt.toISOString(),
          })),
          reviews: reviews.map((r) => toCaseDto(r)),
          statusChanges: statusChanges.map((r) => toCaseDto(r)),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/api/suppliers/{supplierId}',
      tags: ['Suppliers'],
      summary: 'Update a supplier’s registry fields (name, category, tier, owner, contact)',
      description:
        'A status or conditions is refused (422 STATUS_BY_DECISION_ONLY, naming the field): they change only by a review’s decision or by an approved status change, POST /api/suppliers/{supplierId}/status-changes.',
      security: bearer,
      middleware: [requireRole('manager', 'admin')] as const,
      request: {
        params: SupplierIdParam,
        body: { required: true, content: { 'application/json': { schema: UpdateSupplierSchema } } },
      },
      responses: {
        200: { description: 'Updated', content: { 'application/json': { schema: SupplierSchema } } },
        ...errorResponses(400, 401, 403, 404, 422),
      },
    }),
    async (c) => {
      const supplier = await loadSupplier(c.req.valid('param').supplierId);
      const body = c.req.valid('json');
      const decided = (['status', 'conditions'] as const).filter((field) => body[field] !== undefined);
      if (decided.length) {
        throw new ApiError(
          'UNPROCESSABLE',
          `${decided.map((f) => `body.${f}`).join(', ')}: a supplier's ${decided.join(' and ')} change${decided.length === 1 ? 's' : ''} only by a decision; ask for it with POST /api/suppliers/${supplier.id}/status-changes {change, reason}, which approvers of another function decide`,
          decided.map((f) => ({
            field: `body.${f}`,
            message: 'changes only through POST /api/suppliers/{supplierId}/status-changes',
          })),
          STATUS_BY_DECISION_ONLY,
        );
      }
      if (body.ownerId) await requireActiveUser(db, body.ownerId, 'ownerId');
      const changes = {
        ...(body.name ? { name: body.name } : {}),
        ...(body.category ? { category: body.category } : {}),
        ...(body.tier ? { tier: body.tier } : {}),
        ...(body.ownerId ? { ownerId: body.ownerId } : {}),
        ...(body.contact
          ? {
              contactName: body.contact.name ?? null,
              contactPhone: body.contact.phone ?? null,
              contactEmail: body.contact.email ?? null,
            }
          : {}),
      };
      await withAuditedWrite(
        db,
        {
          idempotencyKey: `supplier:${supplier.id}:update:${c.get('requestId')}:${Date.now()}`,
          actorId: c.get('user').id,
          action: 'supplier.updated',
          reason: body.reason,
          payload: {
            supplierId: supplier.id,
            changes: { ...changes, contactName: undefined, contactPhone: undefined, contactEmail: undefined },
            contactChanged: !!body.contact,
          },
        },
        (tx) =>
          tx
            .update(suppliers)
            .set({ ...changes, updatedAt: new Date() })
            .where(eq(suppliers.id, supplier.id)),
      );
      return c.json(toSupplierDto(await loadSupplier(supplier.id)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/suppliers/{supplierId}/status-changes',
      tags: ['Suppliers'],
      summary:
        'Ask for a status change: restrict, lift a restriction, suspend, lift a suspension, end cooperation, blacklist',
      description:
        'Opens a supplier_status_change case (supplier-status-change:<credit code>:<n>) with one approval task, decided at POST /api/tasks/{taskId}/decision by risk, compliance or legal; neither the requester nor the supplier’s owner may decide it. Ending cooperation (terminate) and blacklisting need two approvers of two different functions. Approved, the supplier’s status changes (audited as supplier.<status>) and its review Schedule follows (paused while suspended, deleted once cooperation ends); rejected or expired, nothing changes. Refused with 409 when the change does not apply to the supplier’s status (STATUS_CHANGE_NOT_ALLOWED) or another status change of the supplier is open (STATUS_CHANGE_OPEN). Per-case timings are refused (403 CASE_TIMINGS_LOCKED) unless the deployment allows them.',
      security: bearer,
      middleware: [requireRole('manager', ...APPROVER_ROLES)] as const,
      request: {
        params: SupplierIdParam,
        body: { required: true, content: { 'application/json': { schema: StatusChangeSchema } } },
      },
      responses: {
        201: {
          description: 'Opened; its approval task can be decided at once',
          content: {
            'application/json': {
              schema: z
                .object({
                  caseId: z.string(),
                  runId: z.string(),
                  approvalTaskId: z.string(),
                  approvalsRequired: z.number().int(),
                  links: z.object({ self: z.string(), temporalUi: z.string() }),
                })
                .openapi('SupplierStatusChangeStarted'),
            },
          },
        },
        ...errorResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => {
      const supplier = await loadSupplier(c.req.valid('param').supplierId);
      const body = c.req.valid('json');
      refuseLockedTimings(settings, { 'timings.approval': body.timings?.approval });
      const policy = await currentPolicy(db);
      const timingProblem = approvalTimingsProblem(body.timings?.approval, policy.values.approval);
      if (timingProblem) throw new ApiError('BAD_REQUEST', timingProblem);
      const from = supplier.status as SupplierStatus;
      const problem = statusChangeProblem(from, body.change);
      if (problem) {
        throw new ApiError('CONFLICT', `${body.change}: ${problem}`, { status: from }, 'STATUS_CHANGE_NOT_ALLOWED');
      }
      const earlier = await db
        .select({ id: cases.id, status: cases.status })
        .from(cases)
        .where(and(eq(cases.process, SUPPLIER_STATUS_CHANGE_PROCESS), eq(cases.subjectId, supplier.id)));
      const open = earlier.find((r) => r.status === 'open');
      if (open) {
        throw new ApiError(
          'CONFLICT',
          `status change ${open.id} of ${supplier.id} is still awaiting its decision; one is decided at a time`,
          { openCaseId: open.id },
          'STATUS_CHANGE_OPEN',
        );
      }
      const sequence = earlier.length + 1;
      const caseId = supplierStatusChangeContract.caseId(supplierStatusChangeKey(supplier.id, sequence));
      const requester = c.get('user').id;
      const started = await startCaseWorkflow<typeof supplierStatusChangeWorkflow>(temporal, {
        workflowType: 'supplierStatusChangeWorkflow',
        caseId,
        taskQueue: settings.taskQueue,
        process: SUPPLIER_STATUS_CHANGE_PROCESS,
        stage: STATUS_CHANGE_STAGES[0],
        riskLevel: statusChangeNeedsFourEyes(body.change) ? 'high' : 'medium',
        args: [
          {
            caseId,
            supplierId: supplier.id,
            supplierName: supplier.name,
            sequence,
            change: body.change,
            reason: body.reason,
            fromStatus: from,
            requesterId: requester,
            ownerId: supplier.ownerId,
            policy,
            ...(body.timings?.approval ? { timings: { approval: body.timings.approval } } : {}),
          },
        ],
      });
      // Two requests at the same moment took the same number: the later one is refused.
      if (!started) {
        throw new ApiError('CONFLICT', `a status change of ${supplier.id} was asked for at the same moment; try again`);
      }
      return c.json(
        {
          caseId,
          runId: started.runId,
          approvalTaskId: `${caseId}:approval`,
          approvalsRequired: statusChangeNeedsFourEyes(body.change) ? 2 : 1,
          links: {
            self: `/api/cases/${encodeURIComponent(caseId)}`,
            temporalUi: temporalUiLink(settings.temporalUiUrl, settings.temporalNamespace, caseId),
          },
        },
        201,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/api/suppliers/{supplierId}/performance/{year}',
      tags: ['Suppliers'],
      summary:
        'Record a year of supplier performance (sampling, complaints, logistics delay, financial statements, quality)',
      security: bearer,
      middleware: [requireRole('manager', 'admin')] as const,
      request: {
        params: SupplierIdParam.extend({ year: z.coerce.number().int().min(2000).max(2100) }),
        body: { required: true, content: { 'application/json': { schema: PerformanceSchema } } },
      },
      responses: {
        200: {
          description: 'Recorded (replacing that year’s record)',
          content: { 'application/json': { schema: PerformanceSchema.extend({ year: z.number().int() }) } },
        },
        ...errorResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const { supplierId, year } = c.req.valid('param');
      const supplier = await loadSupplier(supplierId);
      const body = c.req.valid('json');
      const actor = c.get('user');
      const row = { supplierId: supplier.id, year, ...body, recordedBy: actor.id, updatedAt: new Date() };
      await withAuditedWrite(
        db,
        {
          idempotencyKey: `supplier:${supplier.id}:performance:${year}:${c.get('requestId')}:${Date.now()}`,
          actorId: actor.id,
          action: 'supplier.performance_recorded',
          payload: { supplierId: supplier.id, year, ...body },
        },
        (tx) =>
          tx
            .insert(supplierPerformance)
            .values(row)
            .onConflictDoUpdate({
              target: [supplierPerformance.supplierId, supplierPerformance.year],
              set: { ...body, recordedBy: actor.id, updatedAt: row.updatedAt },
            }),
      );
      return c.json({ year, ...body }, 200);
    },
  );

  return app;
}
