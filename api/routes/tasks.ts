import { createRoute, z } from '@hono/zod-openapi';
import { WorkflowNotFoundError } from '@temporalio/client';
import { and, asc, count, eq, gte, inArray, isNotNull, lt, notInArray } from 'drizzle-orm';
import { cases, evidence, tasks } from '../../db/schema';
import {
  decideUpdate,
  settledUpdate,
  submitRectificationUpdate,
  verifyRectificationUpdate,
} from '../../workflows/definitions';
import { canReadCase, inboxTaskCondition, readableCaseCondition } from '../../platform/access';
import { idempotentUpdateId } from '../../platform/idempotentCalls';
import { toTaskDto } from '../dto';
import { ApiError } from '../errors';
import {
  DecisionResultSchema,
  DecisionSchema,
  RectificationResultSchema,
  SubmissionSchema,
  TaskSchema,
  VerificationSchema,
} from '../schemas';
import { actorOf, bearer, errorResponses, router, type AppDeps } from './common';
import {
  checkRange,
  cursorKeyColumn,
  KeysetQuerySchema,
  keysetPageOf,
  pageOfRows,
  pageQuery,
  pagingOf,
  textSearch,
  type KeysetOrder,
} from './keyset';

const TaskIdParam = z.object({
  taskId: z.string().min(1).max(300).openapi({ example: 'approval-request:REQ-1:approval' }),
});

const InboxSchema = z
  .object({
    toDecide: z.array(TaskSchema).openapi({ description: 'approvals awaiting your decision' }),
    toDo: z.array(TaskSchema).openapi({
      description: 'rectification items you own that are open or returned, and other steps owed by you or your role',
    }),
    toVerify: z
      .array(TaskSchema)
      .openapi({ description: 'rectification items submitted by others, awaiting verification' }),
  })
  .openapi('Inbox');

/** A task in these states is finished: never overdue (as toTaskDto's overdue flag). */
const CLOSED_TASK_STATUSES = ['done', 'expired', 'cancelled'];

const OverdueQuerySchema = KeysetQuerySchema.extend({
  kind: z.enum(['approval', 'rectification', 'step']).optional(),
  process: z
    .string()
    .regex(/^[a-z_]{1,50}$/, 'a process name')
    .optional(),
  assigneeId: z.string().min(1).max(100).optional().openapi({ description: 'the person who owes it' }),
  from: z.iso.datetime({ offset: true }).optional().openapi({ description: 'due at or after this instant' }),
  to: z.iso.datetime({ offset: true }).optional().openapi({ description: 'due before this instant' }),
  q: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .optional()
    .openapi({ description: 'part of the task’s or the case’s title, or the business key' }),
});

const OverdueItemSchema = TaskSchema.extend({
  process: z.string(),
  businessKey: z.string(),
  caseTitle: z.string(),
  daysOverdue: z.number().int().openapi({ description: 'whole days past the due date' }),
}).openapi('OverdueItem');

/** Most overdue first: (due_at, id) ascending. */
const OVERDUE_ORDER: KeysetOrder = {
  tag: 'overdue',
  direction: 'asc',
  keys: [
    { column: tasks.dueAt, kind: 'timestamp' },
    { column: tasks.id, kind: 'text' },
  ],
};

export function taskRoutes({ db, temporal }: AppDeps) {
  const app = router();

  /**
   * Sends an Update to the workflow that owns a task we know exists: if that
   * workflow has finished, the task is closed (409), not missing (404).
   */
  async function sendUpdate<T>(send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError)
        throw new ApiError('CONFLICT', 'this task’s case has finished; it awaits nothing');
      throw err;
    }
  }

  /**
   * A step on a rectification item can move its parent case (the last
   * verified item lets it close): answer only once the parent has settled.
   * A parent that has finished awaits nothing more.
   */
  async function settleParent(caseId: string): Promise<void> {
    try {
      await temporal.workflow
        .getHandle(caseId)
        .executeUpdate(settledUpdate, { updateId: idempotentUpdateId(caseId, settledUpdate.name) });
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  }

  async function loadTask(taskId: string, kind: 'approval' | 'rectification') {
    const [task] = await db.select().from(tasks).where(eq(tasks.id, taskId));
    if (!task) throw new ApiError('NOT_FOUND', `no task ${taskId}`);
    if (task.kind !== kind) {
      throw new ApiError('CONFLICT', `task ${taskId} is a ${task.kind} task; this endpoint is for ${kind} tasks`);
    }
    return task;
  }

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/tasks/inbox',
      tags: ['Tasks'],
      summary: 'My task inbox',
      security: bearer,
      responses: {
        200: { description: 'Open tasks for the caller', content: { 'application/json': { schema: InboxSchema } } },
        ...errorResponses(401),
      },
    }),
    async (c) => {
      const user = c.get('user');
      const now = new Date();
      const rows = await db
        .select()
        .from(tasks)
        // The same condition makes these tasks' cases readable to the caller (platform/access.ts).
        .where(inboxTaskCondition(user))
        .orderBy(asc(tasks.dueAt), asc(tasks.id))
        .limit(500);
      const dto = rows.map((row) => toTaskDto(row, now));
      return c.json(
        {
          toDecide: dto.filter((t) => t.kind === 'approval'),
          toDo: dto.filter(
            (t) =>
              t.kind === 'step' || (t.kind === 'rectification' && t.assigneeId === user.id && t.status !== 'submitted'),
          ),
          toVerify: dto.filter((t) => t.kind === 'rectification' && t.status === 'submitted'),
        },
        200,
      );
    },
  );

  // Registered before /api/tasks/{taskId}, which would otherwise take "overdue" for a task id.
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/tasks/overdue',
      tags: ['Tasks'],
      summary:
        'Overdue items: open tasks past their due date, most overdue first, with filters, search and keyset pagination',
      description:
        'Approvals, rectification items and other steps not done by their due date, in the cases the caller may read (as GET /api/cases). Filtered by kind, process, assignee and due date; q searches the task’s and its case’s title and the business key. Pass `limit` (and then each page’s `nextCursor` as `cursor`) to walk the list.',
      security: bearer,
      request: { query: OverdueQuerySchema },
      responses: {
        200: {
          description: 'A page of overdue items',
          content: { 'application/json': { schema: keysetPageOf(OverdueItemSchema, 'OverduePage') } },
        },
        ...errorResponses(400, 401),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const paging = pagingOf(OVERDUE_ORDER, q);
      checkRange(q);
      const now = new Date();
      const where = and(
        notInArray(tasks.status, CLOSED_TASK_STATUSES),
        isNotNull(tasks.dueAt),
        lt(tasks.dueAt, now),
        q.kind ? eq(tasks.kind, q.kind) : undefined,
        q.process ? eq(cases.process, q.process) : undefined,
        q.assigneeId ? eq(tasks.assigneeId, q.assigneeId) : undefined,
        q.from ? gte(tasks.dueAt, new Date(q.from)) : undefined,
        q.to ? lt(tasks.dueAt, new Date(q.to)) : undefined,
        textSearch(q.q, tasks.title, cases.title, cases.businessKey),
        // Only items of cases the caller may read (platform/access.ts).
        readableCaseCondition(c.get('user'), tasks.caseId),
      );
      const page = pageQuery(OVERDUE_ORDER, paging);
      const [rows, [totals]] = await Promise.all([
        db
          .select({
            task: tasks,
            process: cases.process,
            businessKey: cases.businessKey,
            caseTitle: cases.title,
            cursorKey: cursorKeyColumn(OVERDUE_ORDER),
          })
          .from(tasks)
          .innerJoin(cases, eq(cases.id, tasks.caseId))
          .where(and(where, page.after))
          .orderBy(...page.orderBy)
          .limit(page.limit)
          .offset(page.offset),
        // Every task has its case (tasks.case_id references cases): the total joins cases only to
        // filter on them, and otherwise counts from tasks_open_due_idx alone (bench/reads.bench.ts).
        q.process || q.q
          ? db.select({ total: count() }).from(tasks).innerJoin(cases, eq(cases.id, tasks.caseId)).where(where)
          : db.select({ total: count() }).from(tasks).where(where),
      ]);
      const { rows: shown, ...paged } = pageOfRows(OVERDUE_ORDER, paging, rows);
      return c.json(
        {
          items: shown.map((r) => ({
            ...toTaskDto(r.task, now),
            process: r.process,
            businessKey: r.businessKey,
            caseTitle: r.caseTitle,
            daysOverdue: Math.floor((now.getTime() - r.task.dueAt!.getTime()) / 86_400_000),
          })),
          ...paged,
          total: totals?.total ?? 0,
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/tasks/{taskId}',
      tags: ['Tasks'],
      summary: 'One task',
      description: 'For whoever may read its case (see GET /api/cases); anyone else gets 404.',
      security: bearer,
      request: { params: TaskIdParam },
      responses: {
        200: { description: 'The task', content: { 'application/json': { schema: TaskSchema } } },
        ...errorResponses(401, 404),
      },
    }),
    async (c) => {
      const { taskId } = c.req.valid('param');
      const [task] = await db.select().from(tasks).where(eq(tasks.id, taskId));
      // A task of a case the caller may not read is answered as one that does not exist.
      if (!task || !(await canReadCase(db, c.get('user'), task.caseId)))
        throw new ApiError('NOT_FOUND', `no task ${taskId}`);
      return c.json(toTaskDto(task), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/tasks/{taskId}/decision',
      tags: ['Tasks'],
      summary: 'Decide an approval: approve, approve with conditions, or reject',
      description:
        'Delivered to the case workflow as an Update. Its validator refuses, before history records anything: a task not awaiting a decision (409), a caller without the required role (403), the case initiator or owner (422 SEGREGATION_OF_DUTIES), a second vote by the same approver where two are required (422 FOUR_EYES).',
      security: bearer,
      request: {
        params: TaskIdParam,
        body: { required: true, content: { 'application/json': { schema: DecisionSchema } } },
      },
      responses: {
        200: { description: 'Decision recorded', content: { 'application/json': { schema: DecisionResultSchema } } },
        ...errorResponses(400, 401, 403, 404, 409, 422),
      },
    }),
    async (c) => {
      const { taskId } = c.req.valid('param');
      const body = c.req.valid('json');
      const task = await loadTask(taskId, 'approval');
      const result = await sendUpdate(() =>
        temporal.workflow.getHandle(task.workflowId).executeUpdate(decideUpdate, {
          args: [{ taskId, actor: actorOf(c), ...body, requestId: c.get('requestId') }],
          // Sent again with the same Idempotency-Key, the decision is answered, not taken twice.
          updateId: idempotentUpdateId(task.workflowId, decideUpdate.name),
        }),
      );
      return c.json(result, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/tasks/{taskId}/submission',
      tags: ['Tasks'],
      summary: 'Submit a rectification item as done, with evidence (owner only)',
      security: bearer,
      request: {
        params: TaskIdParam,
        body: { required: true, content: { 'application/json': { schema: SubmissionSchema } } },
      },
      responses: {
        200: {
          description: 'Submitted for verification',
          content: { 'application/json': { schema: RectificationResultSchema } },
        },
        ...errorResponses(400, 401, 403, 404, 409, 422),
      },
    }),
    async (c) => {
      const { taskId } = c.req.valid('param');
      const body = c.req.valid('json');
      const task = await loadTask(taskId, 'rectification');
      const ids = [...new Set(body.evidenceIds)];
      const found = await db
        .select({ id: evidence.id, sha256: evidence.sha256 })
        .from(evidence)
        .where(and(inArray(evidence.id, ids), eq(evidence.caseId, task.caseId)));
      const missing = ids.filter((id) => !found.some((f) => f.id === id));
      if (missing.length) {
        throw new ApiError(
          'BAD_REQUEST',
          `invalid body: evidenceIds not uploaded to case ${task.caseId}: ${missing.join(', ')}`,
          {
            missing,
          },
        );
      }
      const result = await sendUpdate(() =>
        temporal.workflow.getHandle(task.workflowId).executeUpdate(submitRectificationUpdate, {
          args: [{ actor: actorOf(c), evidence: found, comment: body.comment }],
          updateId: idempotentUpdateId(task.workflowId, submitRectificationUpdate.name),
        }),
      );
      return c.json({ taskId, ...result }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/tasks/{taskId}/verification',
      tags: ['Tasks'],
      summary: 'Verify a submitted rectification item: accept, or return with a reason (not by its owner)',
      security: bearer,
      request: {
        params: TaskIdParam,
        body: { required: true, content: { 'application/json': { schema: VerificationSchema } } },
      },
      responses: {
        200: {
          description: 'Verified or returned',
          content: { 'application/json': { schema: RectificationResultSchema } },
        },
        ...errorResponses(400, 401, 403, 404, 409, 422),
      },
    }),
    async (c) => {
      const { taskId } = c.req.valid('param');
      const body = c.req.valid('json');
      const task = await loadTask(taskId, 'rectification');
      const result = await sendUpdate(() =>
        temporal.workflow.getHandle(task.workflowId).executeUpdate(verifyRectificationUpdate, {
          args: [{ actor: actorOf(c), verdict: body.verdict, reason: body.reason }],
          updateId: idempotentUpdateId(task.workflowId, verifyRectificationUpdate.name),
        }),
      );
      await settleParent(task.caseId);
      return c.json({ taskId, ...result }, 200);
    },
  );

  return app;
}
