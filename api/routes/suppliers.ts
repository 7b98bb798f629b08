/**
 * The supplier registry (合作方名录): suppliers identified by their unified
 * social credit code, with per-year performance records that the annual
 * review's rules read.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { and, asc, count, desc, eq, ilike, type SQL } from 'drizzle-orm';
import { syncSupplierSchedule } from '../../platform/cases';
import { withAuditedWrite } from '../../db/audit';
import { cases, supplierPerformance, suppliers, users, type SupplierRow } from '../../db/schema';
import { SAMPLING_RESULTS, SUPPLIER_STATUSES, SUPPLIER_TIERS } from '../../domain/supplierReview';
import { validateCreditCode } from '../../domain/uscc';
import { requireRole } from '../auth';
import { toCaseDto } from '../dto';
import { ApiError } from '../errors';
import { CaseSchema, pageOf, PageQuerySchema } from '../schemas';
import { bearer, errorResponses, router, type AppDeps, requireActiveUser } from './common';

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
    status: z.enum(['active', 'suspended', 'terminated']).optional().openapi({
      description:
        'suspend (pauses the review Schedule), reactivate, or end cooperation (deletes it). Restricting and blacklisting are review decisions.',
    }),
    reason: z.string().trim().min(1).max(2000).optional(),
  })
  .strict()
  .refine((body) => Object.keys(body).some((k) => k !== 'reason'), { message: 'change at least one field' })
  .refine((body) => !body.status || body.reason, { message: 'a status change needs its reason', path: ['reason'] })
  .openapi('UpdateSupplier');

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
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

const SupplierIdParam = z.object({ supplierId: z.string().min(1).max(18) });

export function supplierRoutes({ db, temporal }: AppDeps) {
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
      summary: 'Register a supplier or partner (managers, admins)',
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
        status: 'active',
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
      summary: 'List suppliers with filters and pagination',
      security: bearer,
      request: {
        query: PageQuerySchema.extend({
          status: z.enum(SUPPLIER_STATUSES).optional(),
          tier: z.enum(SUPPLIER_TIERS).optional(),
          category: z.string().max(100).optional(),
          q: z.string().trim().min(1).max(100).optional().openapi({ description: 'part of the name' }),
        }),
      },
      responses: {
        200: {
          description: 'A page of suppliers by name',
          content: { 'application/json': { schema: pageOf(SupplierSchema, 'SupplierPage') } },
        },
        ...errorResponses(400, 401),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const filters: SQL[] = [];
      if (q.status) filters.push(eq(suppliers.status, q.status));
      if (q.tier) filters.push(eq(suppliers.tier, q.tier));
      if (q.category) filters.push(eq(suppliers.category, q.category));
      if (q.q) filters.push(ilike(suppliers.name, `%${q.q.replace(/[\\%_]/g, (m) => `\\${m}`)}%`));
      const where = filters.length ? and(...filters) : undefined;
      const [rows, [totals]] = await Promise.all([
        db
          .select()
          .from(suppliers)
          .where(where)
          .orderBy(asc(suppliers.name), asc(suppliers.id))
          .limit(q.pageSize)
          .offset((q.page - 1) * q.pageSize),
        db.select({ total: count() }).from(suppliers).where(where),
      ]);
      return c.json(
        { items: rows.map(toSupplierDto), page: q.page, pageSize: q.pageSize, total: totals?.total ?? 0 },
        200,
      );
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
      const [performance, reviews] = await Promise.all([
        db
          .select()
          .from(supplierPerformance)
          .where(eq(supplierPerformance.supplierId, supplier.id))
          .orderBy(desc(supplierPerformance.year)),
        db
          .select()
          .from(cases)
          .where(and(eq(cases.subjectType, 'supplier'), eq(cases.subjectId, supplier.id)))
          .orderBy(desc(cases.createdAt)),
      ]);
      return c.json(
        {
          supplier: toSupplierDto(supplier),
          performance: performance.map(({ supplierId: _s, updatedAt, ...p }) => ({
            ...p,
            samplingResult: p.samplingResult as 'pass',
            updatedAt: updatedAt.toISOString(),
          })),
          reviews: reviews.map((r) => toCaseDto(r)),
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
      summary: 'Update a supplier; suspending pauses its review Schedule, ending cooperation deletes it',
      security: bearer,
      middleware: [requireRole('manager', 'admin')] as const,
      request: {
        params: SupplierIdParam,
        body: { required: true, content: { 'application/json': { schema: UpdateSupplierSchema } } },
      },
      responses: {
        200: { description: 'Updated', content: { 'application/json': { schema: SupplierSchema } } },
        ...errorResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => {
      const supplier = await loadSupplier(c.req.valid('param').supplierId);
      const body = c.req.valid('json');
      if (body.ownerId) await requireActiveUser(db, body.ownerId, 'ownerId');
      if (body.status && ['terminated', 'blacklisted'].includes(supplier.status)) {
        throw new ApiError('CONFLICT', `supplier ${supplier.id} is ${supplier.status}; that is final`);
      }
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
        ...(body.status ? { status: body.status } : {}),
      };
      await withAuditedWrite(
        db,
        {
          idempotencyKey: `supplier:${supplier.id}:update:${c.get('requestId')}:${Date.now()}`,
          actorId: c.get('user').id,
          action: body.status && body.status !== supplier.status ? `supplier.${body.status}` : 'supplier.updated',
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
      if (body.status && body.status !== supplier.status)
        await syncSupplierSchedule(temporal, supplier.id, body.status);
      return c.json(toSupplierDto(await loadSupplier(supplier.id)), 200);
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
