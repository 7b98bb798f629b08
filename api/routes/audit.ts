import { createRoute, z } from '@hono/zod-openapi';
import { and, asc, count, eq, isNull, or, type SQL } from 'drizzle-orm';
import { verifyAuditCase } from '../../db/audit';
import { verifyAuditTrail } from '../../db/auditAnchors';
import { auditEvents } from '../../db/schema';
import { hasAnyRole, OVERSIGHT_ROLES } from '../../domain/roles';
import { readableCaseCondition } from '../../platform/access';
import { requireRole } from '../auth';
import { ApiError } from '../errors';
import { toAuditDto } from '../dto';
import { AuditEventSchema, ChainVerificationSchema, pageOf, PageQuerySchema } from '../schemas';
import { bearer, errorResponses, router, type AppDeps } from './common';

const FINDINGS = [
  'rewrite',
  'truncated_tail',
  'dropped_row',
  'bad_signature',
  'unavailable',
  'unanchored',
  'broken_link',
  'edited_row',
] as const;

const AnchorProblemSchema = z.object({
  problem: z.enum(['rewrite', 'truncated_tail', 'dropped_row', 'bad_signature', 'unavailable', 'unanchored']),
  seq: z.number().int().optional(),
  count: z.number().int(),
  expected: z.string().optional(),
  found: z.string().optional(),
  message: z.string(),
});

const CaseVerificationSchema = z
  .object({
    ok: z.boolean(),
    caseId: z.string(),
    partition: z.number().int().nullable().openapi({ description: 'null: all its events are in the legacy segment' }),
    events: z.number().int(),
    rowsChecked: z.number().int(),
    checkpoint: z.object({ seq: z.number().int(), hash: z.string() }).nullable(),
    firstBroken: z
      .object({
        seq: z.number().int(),
        problem: z.enum(['sequence_gap', 'prev_hash_mismatch', 'hash_mismatch']),
        expected: z.string(),
        found: z.string(),
        partition: z.number().int().nullable().optional(),
      })
      .optional(),
  })
  .openapi('AuditCaseVerification');

const AuditTrailVerificationSchema = ChainVerificationSchema.extend({
  anchors: z.object({
    status: z.enum(['verified', 'problems', 'not_configured']),
    workflowId: z.string().nullable(),
    checked: z.number().int(),
    newestAnchoredSeq: z.number().int().nullable(),
    newestAnchoredAt: z.string().nullable(),
    problems: z.array(AnchorProblemSchema),
  }),
  findings: z.array(z.enum(FINDINGS)),
}).openapi('AuditTrailVerification');

export function auditRoutes({ db, temporal, settings }: AppDeps) {
  // The API's settings carry the anchor key when GOVERNANCE_ANCHOR_KEY is set (platform/config.ts).
  const anchoring = settings.auditAnchor;
  const app = router();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/audit/verify',
      tags: ['Audit'],
      summary:
        'Recompute the audit hash chain, check it against its anchors in Temporal, and name what was tampered with',
      description:
        'For the oversight functions (risk, compliance, internal audit, auditors) and admins. `firstBroken` names the first broken link of the chain itself; `anchors` compares the chain with the signed heads kept by the anchoring workflow (a rewrite recomputed end to end, a truncated tail, a dropped row, a forged anchor); `findings` lists every kind of problem found. `ok` only when both hold.',
      security: bearer,
      middleware: [requireRole(...OVERSIGHT_ROLES, 'admin')] as const,
      responses: {
        200: {
          description: 'Verification result (ok: false names what was found)',
          content: { 'application/json': { schema: AuditTrailVerificationSchema } },
        },
        ...errorResponses(401, 403),
      },
    }),
    async (c) => c.json(await verifyAuditTrail({ db, temporal, anchoring }), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/audit/cases/{caseId}/verify',
      tags: ['Audit'],
      summary: "Verify one case's audit trail: its events, the links around them, and the checkpoint covering them",
      description:
        "For the same readers as GET /api/audit/verify. Only the case's partition is read, from the case's first event to the checkpoint that covers its last (tens of milliseconds, whatever the size of the trail); that checkpoint is chained to the anchored ones, which the full verification checks. 404 when the case has no audit event.",
      security: bearer,
      middleware: [requireRole(...OVERSIGHT_ROLES, 'admin')] as const,
      request: { params: z.object({ caseId: z.string().min(1).max(255).openapi({ example: 'INC-2026-001' }) }) },
      responses: {
        200: {
          description: "Verification of the case's trail (ok: false names the first broken link)",
          content: { 'application/json': { schema: CaseVerificationSchema } },
        },
        ...errorResponses(401, 403, 404),
      },
    }),
    async (c) => {
      const { caseId } = c.req.valid('param');
      const result = await verifyAuditCase(db, caseId);
      if (!result.events) throw new ApiError('NOT_FOUND', `no audit event for case ${caseId}`, { caseId });
      return c.json(result, 200);
    },
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
