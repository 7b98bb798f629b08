import { createRoute, z } from '@hono/zod-openapi';
import { and, asc, eq, getTableColumns, gte, isNull, lt, ne, or, type SQL } from 'drizzle-orm';
import { auditEvents, cases, evidence, tasks, users } from '../../db/schema';
import { workflowIdFor } from '../../domain/cases';
import { approvalsRequiredFor, riskLevelFromMatrix } from '../../domain/risk';
import { validateTimings } from '../../domain/deadlines';
import { currentPolicy } from '../../platform/policy';
import { refuseLockedTimings } from '../caseTimings';
import type { approvalRequestWorkflow } from '../../workflows/approvalRequest';
import { assertCanReadCase, canReadCase, readsEveryCase } from '../../platform/access';
import { startCaseWorkflow } from '../../platform/cases';
import { newKeyUuid } from '../../platform/idempotentCalls';
import { requireRole } from '../auth';
import { toAuditDto, toCaseDto, toEvidenceDto, toTaskDto, temporalUiLink } from '../dto';
import { ApiError } from '../errors';
import {
  CaseDetailSchema,
  CaseListQuerySchema as CaseFilterSchema,
  CaseSchema,
  StartApprovalRequestSchema,
  StartedCaseSchema,
} from '../schemas';
import { bearer, errorResponses, router, type AppDeps } from './common';
import { caseOrder, KeysetQuerySchema, keysetPageOf, listCases, pagingOf } from './keyset';

/** The filters of GET /api/cases, with keyset paging (or the old page/pageSize). */
const CaseListQuerySchema = KeysetQuerySchema.extend(CaseFilterSchema.omit({ page: true, pageSize: true }).shape);

/** Newest first, by (created_at, id): the same order the offset pages always had. */
const CASE_ORDER = caseOrder('cases');

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
        "Managers only. The risk level comes from the probability × impact matrix and the policy's cut-offs (never from the caller); high risk needs two approvers from two different functions. Per-case timings are refused (403 CASE_TIMINGS_LOCKED) unless the deployment sets GOVERNANCE_CASE_TIMINGS=allow. The case id comes from requestKey, so a second start is refused with 409.",
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
      refuseLockedTimings(settings, {
        approvalTimings: body.approvalTimings,
        rectificationTimings: body.rectificationTimings,
      });
      const policy = await currentPolicy(db);
      // The level always comes from the matrix and the policy's cut-offs, never from the caller.
      const riskLevel = riskLevelFromMatrix(body.probability, body.impact, policy.values.risk);
      const approvalTimings = { ...policy.values.approval, ...body.approvalTimings };
      const timingProblem = validateTimings(approvalTimings);
      if (timingProblem) throw new ApiError('BAD_REQUEST', `invalid body: approvalTimings ${timingProblem}`);
      if (body.ownerId && body.ownerId !== initiator.id) {
        const [owner] = await db.select({ active: users.active }).from(users).where(eq(users.id, body.ownerId));
        if (!owner?.active)
          throw new ApiError('BAD_REQUEST', `invalid body: ownerId "${body.ownerId}" is not an active user`);
      }
      const requestKey = body.requestKey ?? newKeyUuid();
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
            assessment: { probability: body.probability, impact: body.impact },
            policy,
            initiatorId: initiator.id,
            ownerId: body.ownerId,
            approvalTimings: body.approvalTimings,
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
      summary: 'List cases with filters and keyset pagination',
      description:
        'Only the cases the caller may read: those they have a part in (named, acted on, or awaiting their decision), those their direct reports have a part in, and every case for risk, compliance, internal audit and auditors. The total counts the same cases. Newest first. Pass `limit` (and then each page’s `nextCursor` as `cursor`) to walk the list; page/pageSize still work for older clients.',
      security: bearer,
      request: { query: CaseListQuerySchema },
      responses: {
        200: {
          description: 'A page of cases, newest first',
          content: { 'application/json': { schema: keysetPageOf(CaseSchema, 'CasePage') } },
        },
        ...errorResponses(400, 401),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const paging = pagingOf(CASE_ORDER, q);
      const now = new Date();
      const filters: SQL[] = [];
      if (q.process) filters.push(eq(cases.process, q.process));
      if (q.stage) filters.push(eq(cases.stage, q.stage));
      if (q.status) filters.push(eq(cases.status, q.status));
      if (q.ownerId) filters.push(eq(cases.ownerId, q.ownerId));
      if (q.riskLevel) filters.push(eq(cases.riskLevel, q.riskLevel));
      if (q.overdue === true) filters.push(eq(cases.status, 'open'), lt(cases.dueAt, now));
      if (q.overdue === false) filters.push(or(ne(cases.status, 'open'), isNull(cases.dueAt), gte(cases.dueAt, now))!);
      // Only the cases the caller may read (platform/access.ts): listCases scopes the page and its total to them.
      const { rows, ...page } = await listCases(
        db,
        CASE_ORDER,
        paging,
        filters.length ? and(...filters) : undefined,
        c.get('user'),
      );
      return c.json({ items: rows.map((row) => toCaseDto(row, now)), ...page }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/cases/{caseId}',
      tags: ['Cases'],
      summary: 'One case with its tasks, evidence, audit timeline and Temporal UI link',
      description:
        'For whoever may read the case (see GET /api/cases); anyone else gets 404, as for a case that does not exist. Linked cases are listed when the caller may read them.',
      security: bearer,
      request: { params: CaseIdParam },
      responses: {
        200: { description: 'The case', content: { 'application/json': { schema: CaseDetailSchema } } },
        ...errorResponses(401, 404),
      },
    }),
    async (c) => {
      const { caseId } = c.req.valid('param');
      const user = c.get('user');
      // A case the caller may not read is answered as one that does not exist.
      await assertCanReadCase(db, user, caseId);
      const [row] = await db.select().from(cases).where(eq(cases.id, caseId));
      if (!row) throw new ApiError('NOT_FOUND', `no case ${caseId}`);
      const { content: _content, ...evidenceColumns } = getTableColumns(evidence);
      const [taskRows, evidenceRows, timeline, children] = await Promise.all([
        db.select().from(tasks).where(eq(tasks.caseId, caseId)).orderBy(asc(tasks.createdAt), asc(tasks.id)),
        db.select(evidenceColumns).from(evidence).where(eq(evidence.caseId, caseId)).orderBy(asc(evidence.createdAt)),
        db.select().from(auditEvents).where(eq(auditEvents.caseId, caseId)).orderBy(asc(auditEvents.seq)),
        // The closed loop: cases opened from this one (revisions, improvement cycles).
        db.select().from(cases).where(eq(cases.parentCaseId, caseId)).orderBy(asc(cases.createdAt)),
      ]);
      // Only those the caller may read, each checked by its own rows (a few index probes), not by
      // the list form of the rule, which gathers every case the caller may read: 20,000 of them
      // for a manager in bench/reads.bench.ts, to keep two or three children.
      const readable = readsEveryCase(user)
        ? children.map(() => true)
        : await Promise.all(children.map((child) => canReadCase(db, user, child.id)));
      const linked = children.filter((_, i) => readable[i]);
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
