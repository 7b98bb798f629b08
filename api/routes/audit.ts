import { createRoute, z } from '@hono/zod-openapi';
import { and, asc, count, eq, isNull, or, type SQL } from 'drizzle-orm';
import { verifyAuditChain } from '../../db/audit';
import { auditEvents } from '../../db/schema';
import { hasAnyRole, OVERSIGHT_ROLES } from '../../domain/roles';
import { readableCaseCondition } from '../../platform/access';
import { requireRole } from '../auth';
import { toAuditDto } from '../dto';
import { AuditEventSchema, ChainVerificationSchema, pageOf, PageQuerySchema } from '../schemas';
import { bearer, errorResponses, router, type AppDeps } from './common';

export function auditRoutes({ db }: AppDeps) {
  const app = router();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/audit/verify',
      tags: ['Audit'],
      summary: 'Recompute the audit hash chain and name the first broken link',
      description: 'For the oversight functions (risk, compliance, internal audit, auditors) and admins.',
      security: bearer,
      middleware: [requireRole(...OVERSIGHT_ROLES, 'admin')] as const,
      responses: {
        200: {
          description: 'Verification result (ok: false names the first broken link)',
          content: { 'application/json': { schema: ChainVerificationSchema } },
        },
        ...errorResponses(401, 403),
      },
    }),
    async (c) => c.json(await verifyAuditChain(db), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/audit/events',
      tags: ['Audit'],
      summary: 'The audit log, oldest first',
      description:
        'The events of the cases the caller may read (see GET /api/cases): all of them for risk, compliance, internal audit and auditors. Events outside any case (users, tokens, suppliers, policy) are listed to those functions and to admins.',
      security: bearer,
      request: {
        query: PageQuerySchema.extend({
          caseId: z.string().max(300).optional(),
          actorId: z.string().max(100).optional(),
          action: z.string().max(100).optional(),
        }),
      },
      responses: {
        200: {
          description: 'A page of events',
          content: { 'application/json': { schema: pageOf(AuditEventSchema, 'AuditEventPage') } },
        },
        ...errorResponses(400, 401),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const user = c.get('user');
      const filters: SQL[] = [];
      const readable = readableCaseCondition(user, auditEvents.caseId);
      if (readable) {
        // Events outside any case are the administrators' record (users, tokens, suppliers, policy).
        filters.push(hasAnyRole(user, ['admin']) ? or(isNull(auditEvents.caseId), readable)! : readable);
      }
      if (q.caseId) filters.push(eq(auditEvents.caseId, q.caseId));
      if (q.actorId) filters.push(eq(auditEvents.actorId, q.actorId));
      if (q.action) filters.push(eq(auditEvents.action, q.action));
      const where = filters.length ? and(...filters) : undefined;
      const [rows, [totals]] = await Promise.all([
        db
          .select()
          .from(auditEvents)
          .where(where)
          .orderBy(asc(auditEvents.seq))
          .limit(q.pageSize)
          .offset((q.page - 1) * q.pageSize),
        db.select({ total: count() }).from(auditEvents).where(where),
      ]);
      return c.json(
        { items: rows.map(toAuditDto), page: q.page, pageSize: q.pageSize, total: totals?.total ?? 0 },
        200,
      );
    },
  );

  return app;
}
