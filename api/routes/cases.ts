import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { and, asc, count, desc, eq, getTableColumns, gte, isNull, lt, ne, or, type SQL } from 'drizzle-orm';
import { auditEvents, cases, evidence, tasks, users } from '../../db/schema';
import { workflowIdFor } from '../../domain/cases';
import { approvalsRequiredFor, riskLevelFromMatrix } from '../../domain/risk';
import { validateTimings, DEFAULT_APPROVAL_TIMINGS } from '../../domain/deadlines';
import type { approvalRequestWorkflow } from '../../workflows/approvalRequest';
import { startCaseWorkflow } from '../../platform/cases';
import { requireRole } from '../auth';
import { toAuditDto, toCaseDto, toEvidenceDto, toTaskDto, temporalUiLink } from '../dto';
import { ApiError } from '../errors';
import {
  CaseDetailSchema,
  CaseListQuerySchema,
  CaseSchema,
  pageOf,
  StartApprovalRequestSchema,
  StartedCaseSchema,
} from '../schemas';
import { bearer, errorResponses, router, type AppDeps } from './common';

const CaseIdParam = z.object({ caseId: z.string().min(1).max(300).openapi({ example: 'approval-request:REQ-1' }) });

export function caseRoutes(deps: AppDeps) {
  const { db, temporal, settings } = deps;
  const app = router();
  const links = (caseId: string) => ({
    self: `/api/cases/${encodeURIComponent(caseId)}`,
    temporalUi: temporalUiLink(settings.temporalUiUrl, settings.temporalNamespace, caseId),
  });

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/cases/approval-requests',
      tags: ['Cases'],
      summary: 'Start an approval request (审批申请)',
      description:
        'Managers only. Risk level from riskLevel or the probability × impact matrix; high risk needs two distinct approvers. The case id comes from requestKey, so a second start is refused with 409.',
      security: bearer,
      middleware: [requireRole('manager')] as const,
      request: { body: { required: true, content: { 'application/json': { schema: StartApprovalRequestSchema } } } },
      responses: {
        201: { description: 'Started', content: { 'application/json': { schema: StartedCaseSchema } } },
        ...errorResponses(400, 401, 403, 409),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const initiator = c.get('user');
      const riskLevel = body.riskLevel ?? riskLevelFromMatrix(body.probability!, body.impact!);
      const approvalTimings = { ...DEFAULT_APPROVAL_TIMINGS, ...body.approvalTimings };
      const timingProblem = validateTimings(approvalTimings);
      if (timingProblem) throw new ApiError('BAD_REQUEST', `invalid body: approvalTimings ${timingProblem}`);
      if (body.ownerId && body.ownerId !== initiator.id) {
        const [owner] = await db.select({ active: users.active }).from(users).where(eq(users.id, body.ownerId));
        if (!owner?.active)
          throw new ApiError('BAD_REQUEST', `invalid body: ownerId "${body.ownerId}" is not an active user`);
      }
      const requestKey = body.requestKey ?? randomUUID();
      const caseId = workflowIdFor.approvalRequest(requestKey);
      const started = await startCaseWorkflow<typeof approvalRequestWorkflow>(temporal, {
        workflowType: 'approvalRequestWorkflow',
        caseId,
        taskQueue: settings.taskQueue,
        process: 'approval_request',
        stage: 'awaiting_approval',
        riskLevel,
        args: [
          {
            caseId,
            requestKey,
            title: body.title,
            description: body.description,
            riskLevel,
            initiatorId: initiator.id,
            ownerId: body.ownerId,
            approvalTimings,
            rectificationTimings: body.rectificationTimings,
          },
        ],
      });
      if (!started) throw new ApiError('CONFLICT', `a case with id ${caseId} already exists`);
      return c.json(
        {
          caseId,
          workflowId: caseId,
          runId: started.runId,
          riskLevel,
          approvalsRequired: approvalsRequiredFor(riskLevel),
          links: links(caseId),
        },
        201,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/cases',
      tags: ['Cases'],
      summary: 'List cases with filters and pagination',
      security: bearer,
      request: { query: CaseListQuerySchema },
      responses: {
        200: {
          description: 'A page of cases, newest first',
          content: { 'application/json': { schema: pageOf(CaseSchema, 'CasePage') } },
        },
        ...errorResponses(400, 401),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const now = new Date();
      const filters: SQL[] = [];
      if (q.process) filters.push(eq(cases.process, q.process));
      if (q.stage) filters.push(eq(cases.stage, q.stage));
      if (q.status) filters.push(eq(cases.status, q.status));
      if (q.ownerId) filters.push(eq(cases.ownerId, q.ownerId));
      if (q.riskLevel) filters.push(eq(cases.riskLevel, q.riskLevel));
      if (q.overdue === true) filters.push(eq(cases.status, 'open'), lt(cases.dueAt, now));
      if (q.overdue === false) filters.push(or(ne(cases.status, 'open'), isNull(cases.dueAt), gte(cases.dueAt, now))!);
      const where = filters.length ? and(...filters) : undefined;
      const [rows, [totals]] = await Promise.all([
        db
          .select()
          .from(cases)
          .where(where)
          .orderBy(desc(cases.createdAt), desc(cases.id))
          .limit(q.pageSize)
          .offset((q.page - 1) * q.pageSize),
        db.select({ total: count() }).from(cases).where(where),
      ]);
      return c.json(
        {
          items: rows.map((row) => toCaseDto(row, now)),
          page: q.page,
          pageSize: q.pageSize,
          total: totals?.total ?? 0,
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/cases/{caseId}',
      tags: ['Cases'],
      summary: 'One case with its tasks, evidence, audit timeline and Temporal UI link',
      security: bearer,
      request: { params: CaseIdParam },
      responses: {
        200: { description: 'The case', content: { 'application/json': { schema: CaseDetailSchema } } },
        ...errorResponses(401, 404),
      },
    }),
    async (c) => {
      const { caseId } = c.req.valid('param');
      const [row] = await db.select().from(cases).where(eq(cases.id, caseId));
      if (!row) throw new ApiError('NOT_FOUND', `no case ${caseId}`);
      const { content: _content, ...evidenceColumns } = getTableColumns(evidence);
      const [taskRows, evidenceRows, timeline] = await Promise.all([
        db.select().from(tasks).where(eq(tasks.caseId, caseId)).orderBy(asc(tasks.createdAt), asc(tasks.id)),
        db.select(evidenceColumns).from(evidence).where(eq(evidence.caseId, caseId)).orderBy(asc(evidence.createdAt)),
        db.select().from(auditEvents).where(eq(auditEvents.caseId, caseId)).orderBy(asc(auditEvents.seq)),
      ]);
      // The closed loop: cases opened from this one (revisions, improvement cycles).
      const linked = await db.select().from(cases).where(eq(cases.parentCaseId, caseId)).orderBy(asc(cases.createdAt));
      const now = new Date();
      return c.json(
        {
          case: toCaseDto(row, now),
          tasks: taskRows.map((t) => toTaskDto(t, now)),
          evidence: evidenceRows.map(toEvidenceDto),
          timeline: timeline.map(toAuditDto),
          linked: linked.map((l) => toCaseDto(l, now)),
          links: links(caseId),
        },
        200,
      );
    },
  );

  return app;
}
