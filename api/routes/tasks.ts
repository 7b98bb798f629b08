import { createRoute, z } from '@hono/zod-openapi';
import { WorkflowNotFoundError } from '@temporalio/client';
import { and, count, eq, gte, inArray, isNotNull, isNull, lt, notInArray, or, sql, type SQL } from 'drizzle-orm';
import { cases, evidence, tasks } from '../../db/schema';
import {
  decideUpdate,
  settledUpdate,
  submitRectificationUpdate,
  verifyRectificationUpdate,
} from '../../workflows/definitions';
import {
  canReadCase,
  inboxTaskBranches,
  inboxTaskCondition,
  readableCaseConditionOf,
  readableFormFor,
  type Reader,
} from '../../platform/access';
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
  cappedTotal,
  checkRange,
  cursorKeyColumn,
  KeysetQuerySchema,
  keysetPageOf,
  pageOfRows,
  pageQuery,
  pagingOf,
  textSearch,
  TOTAL_CAP,
  WALKED_COUNT_BUDGET,
  WALKED_TOTAL_CAP,
  type KeysetOrder,
  type Paging,
} from './keyset';

const TaskIdParam = z.object({
  taskId: z.string().min(1).max(300).openapi({ example: 'approval-request:REQ-1:approval' }),
});

/** The inbox's three parts, as the unpaged answer groups them. */
const INBOX_SECTIONS = ['toDecide', 'toDo', 'toVerify'] as const;
type InboxSection = (typeof INBOX_SECTIONS)[number];

/**
 * Which part of the inbox an inbox task belongs to: an approval is to
 * decide, a rectification item someone else submitted is to verify, and the
 * rest (steps, the caller's own open or returned items) are to do. As a
 * filter, each part is its own branches of the inbox's condition
 * (inboxTaskBranches), not the whole inbox and a filter on kind: the planner
 * matches a branch to its index (an approver's part: migration 0026) and
 * estimates it from the column statistics. As a column, one CASE of the same
 * rules.
 */
function inboxSectionCondition(user: Reader, section: InboxSection): SQL {
  const { decidable, mine, steps, verifiable } = inboxTaskBranches(user);
  if (section === 'toDecide') return decidable;
  if (section === 'toVerify') return verifiable ?? sql`false`;
  return or(mine, steps)!;
}
const inboxSection = sql<InboxSection>`case when ${tasks.kind} = 'approval' then 'toDecide'
  when (${tasks.kind} = 'rectification' and ${tasks.status} = 'submitted') then 'toVerify' else 'toDo' end`;

/** Without cursor, limit, page or pageSize the inbox is answered grouped, as before paging: its first 500 tasks. */
const INBOX_UNPAGED_LIMIT = 500;

const InboxQuerySchema = KeysetQuerySchema.extend({
  section: z
    .enum(INBOX_SECTIONS)
    .optional()
    .openapi({ description: 'only this part of the inbox: toDecide, toDo or toVerify' }),
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
    nextCursor: z
      .string()
      .nullable()
      .openapi({
        description: `when there are more than these ${INBOX_UNPAGED_LIMIT}: pass as cursor (with limit) for the tasks after them; null when all are shown`,
      }),
  })
  .openapi('Inbox');

const InboxTaskSchema = TaskSchema.extend({ section: z.enum(INBOX_SECTIONS) }).openapi('InboxTask');

/** Tasks by due date, soonest (or most overdue) first: (due_at, id) ascending, which tasks_open_due_idx (migration 0023) serves. */
const dueOrder = (tag: string): KeysetOrder => ({
  tag,
  direction: 'asc',
  keys: [
    { column: tasks.dueAt, kind: 'timestamp' },
    { column: tasks.id, kind: 'text' },
  ],
});

/** The inbox: soonest due first. */
const INBOX_ORDER = dueOrder('inbox');

/**
 * Tasks without a due date (none today: every step, approval and item is
 * opened with one, but the column allows it) come after all dated ones, by
 * id: a row comparison on (due_at, id) would skip them, and a cursor cannot
 * carry a null.
 */
const INBOX_UNDATED_ORDER: KeysetOrder = {
  tag: 'inbox-undated',
  direction: 'asc',
  keys: [{ column: tasks.id, kind: 'text' }],
};

/** How to page the inbox, and which order the cursor continues (dated tasks, or the undated tail). */
function inboxPaging(q: z.infer<typeof InboxQuerySchema>): { paged: boolean; order: KeysetOrder; paging: Paging } {
  const paged = q.cursor !== undefined || q.limit !== undefined || q.page !== undefined || q.pageSize !== undefined;
  if (!paged) return { paged, order: INBOX_ORDER, paging: { mode: 'cursor', after: null, limit: INBOX_UNPAGED_LIMIT } };
  try {
    return { paged, order: INBOX_ORDER, paging: pagingOf(INBOX_ORDER, q) };
  } catch (err) {
    if (q.cursor === undefined) throw err;
    try {
      return { paged, order: INBOX_UNDATED_ORDER, paging: pagingOf(INBOX_UNDATED_ORDER, q) };
    } catch {
      // Not a cursor of either: the refusal of the dated order, naming query.cursor.
      throw err;
    }
  }
}

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

/** The overdue list: most overdue first. */
const OVERDUE_ORDER = dueOrder('overdue');

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

  /**
   * One page of inbox rows (one more than shown, as pageOfRows wants), each
   * with its section and the sort key its cursor would carry. From the start
   * (first page, offset paging) one read in (due_at, id) order takes both
   * dated and undated tasks (ascending puts nulls last); after a dated
   * task's cursor, the dated tasks after it, then the undated tail if the
   * page has room.
   *
   * `few`: the caller's tasks under `where` are known to be few (counted,
   * not capped). They are then found first, by the condition's own indexes,
   * and only they are sorted: walking every open task in due order to find
   * them read all 100,000 open tasks of the bench for a manager's empty
   * "to decide" (93–120 ms), where this takes under a millisecond. Many
   * tasks are walked in due order, where a page is found early.
   */
  async function inboxRows(where: SQL | undefined, order: KeysetOrder, paging: Paging, few = false) {
    if (few && where) {
      // An array of ids, computed once before the read (an InitPlan): the read is then primary-key probes.
      const ids = sql`${tasks.id} = any(array(select ${tasks.id} from ${tasks} where ${where}))`;
      return inboxRows(ids, order, paging);
    }
    const cursorKey = sql<string>`case when ${tasks.dueAt} is null then ${cursorKeyColumn(INBOX_UNDATED_ORDER)}
      else ${cursorKeyColumn(INBOX_ORDER)} end`;
    const read = (part: SQL | undefined, page: ReturnType<typeof pageQuery>) =>
      db
        .select({ task: tasks, section: inboxSection, cursorKey })
        .from(tasks)
        .where(and(where, part, page.after))
        .orderBy(...page.orderBy)
        .limit(page.limit)
        .offset(page.offset);
    if (paging.mode === 'page' || !paging.after) return await read(undefined, pageQuery(INBOX_ORDER, paging));
    if (order === INBOX_UNDATED_ORDER) return await read(isNull(tasks.dueAt), pageQuery(INBOX_UNDATED_ORDER, paging));
    const dated = await read(isNotNull(tasks.dueAt), pageQuery(INBOX_ORDER, paging));
    if (dated.length > paging.limit) return dated;
    const undated = await read(
      isNull(tasks.dueAt),
      pageQuery(INBOX_UNDATED_ORDER, { mode: 'cursor', after: null, limit: paging.limit - dated.length }),
    );
    return [...dated, ...undated];
  }

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/tasks/inbox',
      tags: ['Tasks'],
      summary: 'My task inbox: open tasks awaiting the caller, soonest due first, with keyset pagination',
      description: `Without paging parameters: the first ${INBOX_UNPAGED_LIMIT} tasks grouped as toDecide, toDo and toVerify, as older clients know it, with a nextCursor to go on. With \`limit\` (and then each page’s \`nextCursor\` as \`cursor\`), or page/pageSize: a page of tasks in due order, each naming its section, with the total. \`section\` keeps one part of the inbox.`,
      security: bearer,
      request: { query: InboxQuerySchema },
      responses: {
        200: {
          description: 'Open tasks for the caller: grouped (no paging parameters) or a page',
          content: {
            'application/json': {
              schema: z.union([InboxSchema, keysetPageOf(InboxTaskSchema, 'InboxPage')]),
            },
          },
        },
        ...errorResponses(400, 401),
      },
    }),
    async (c) => {
      const user = c.get('user');
      const q = c.req.valid('query');
      const { paged, order, paging } = inboxPaging(q);
      const now = new Date();
      // The same condition makes these tasks' cases readable to the caller (platform/access.ts).
      const where = q.section ? inboxSectionCondition(user, q.section) : inboxTaskCondition(user);
      // The grouped answer has no total: counting a busy approver's whole inbox would cost more than reading 500 of it.
      // A page's total is counted up to TOTAL_CAP (totalCapped past it), as the case lists do, first: it says
      // whether the tasks are few enough to find before sorting (see inboxRows).
      const totals = paged
        ? await db.select({ total: count() }).from(
            db
              .select({ id: tasks.id })
              .from(tasks)
              .where(where)
              .limit(TOTAL_CAP + 1)
              .as('counted'),
          )
        : undefined;
      const rows = await inboxRows(where, order, paging, (totals?.[0]?.total ?? Infinity) <= TOTAL_CAP);
      const size = paging.mode === 'page' ? paging.pageSize : paging.limit;
      // The cursor continues the order its row is in: dated, or the undated tail.
      const last = rows[Math.min(rows.length, size) - 1];
      const { rows: shown, ...page } = pageOfRows(
        last?.task.dueAt === null ? INBOX_UNDATED_ORDER : INBOX_ORDER,
        paging,
        rows,
      );
      const items = shown.map((r) => ({ ...toTaskDto(r.task, now), section: r.section }));
      if (paged) return c.json({ items, ...page, ...cappedTotal(totals?.[0]?.total ?? 0) }, 200);
      const part = (section: InboxSection) =>
        items.filter((t) => t.section === section).map(({ section: _, ...task }) => task);
      return c.json(
        {
          toDecide: part('toDecide'),
          toDo: part('toDo'),
          toVerify: part('toVerify'),
          nextCursor: page.nextCursor,
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
      const user = c.get('user');
      // A reader with many cases walks the overdue items in order and probes each one's case (platform/access.ts).
      const form = await readableFormFor(db, user);
      const readable = readableCaseConditionOf(form, user, tasks.caseId);
      const walked = readable !== undefined && form === 'probe';
      const cap = walked ? WALKED_TOTAL_CAP : TOTAL_CAP;
      const filters = and(
        notInArray(tasks.status, CLOSED_TASK_STATUSES),
        isNotNull(tasks.dueAt),
        lt(tasks.dueAt, now),
        q.kind ? eq(tasks.kind, q.kind) : undefined,
        q.process ? eq(cases.process, q.process) : undefined,
        q.assigneeId ? eq(tasks.assigneeId, q.assigneeId) : undefined,
        q.from ? gte(tasks.dueAt, new Date(q.from)) : undefined,
        q.to ? lt(tasks.dueAt, new Date(q.to)) : undefined,
        textSearch(q.q, tasks.title, cases.title, cases.businessKey),
      );
      // Only items of cases the caller may read (platform/access.ts).
      const where = and(filters, readable);
      const page = pageQuery(OVERDUE_ORDER, paging);
      const joinCases = !!(q.process || q.q);
      // Every task has its case (tasks.case_id references cases): a total joins cases only to filter on them,
      // and otherwise counts from tasks_open_due_idx alone (bench/reads.bench.ts).
      const counted = walked
        ? // A reader with many cases: what they read among the first overdue items, within a budget of probes.
          (() => {
            const visible = sql<boolean>`(${readable})`.as('visible');
            const probed = (
              joinCases
                ? db.select({ visible }).from(tasks).innerJoin(cases, eq(cases.id, tasks.caseId))
                : db.select({ visible }).from(tasks)
            )
              .where(filters)
              .orderBy(...pageQuery(OVERDUE_ORDER, { mode: 'cursor', after: null, limit: 0 }).orderBy)
              .limit(WALKED_COUNT_BUDGET + 1)
              .as('probed');
            return db
              .select({
                total: sql<number>`count(*) filter (where ${probed.visible})`.mapWith(Number),
                probed: count(),
              })
              .from(probed);
          })()
        : // Counted up to the cap, as the case lists (keyset.ts cappedTotal).
          db.select({ total: count(), probed: sql<number>`0`.mapWith(Number) }).from(
            (joinCases
              ? db.select({ id: tasks.id }).from(tasks).innerJoin(cases, eq(cases.id, tasks.caseId))
              : db.select({ id: tasks.id }).from(tasks)
            )
              .where(where)
              .limit(cap + 1)
              .as('counted'),
          );
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
        counted,
      ]);
      const { rows: shown, ...paged } = pageOfRows(OVERDUE_ORDER, paging, rows);
      const found = totals?.total ?? 0;
      // Past the budget the count is a lower bound, and never lower than what this page shows: the items
      // before it (offset paging), its own, and one more when it has a next page.
      const atLeast =
        (paging.mode === 'page' ? (paging.page - 1) * paging.pageSize : 0) + shown.length + (paged.nextCursor ? 1 : 0);
      const total =
        walked && (totals?.probed ?? 0) > WALKED_COUNT_BUDGET
          ? { total: Math.min(Math.max(found, atLeast), cap), totalCapped: true }
          : cappedTotal(found, cap);
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
          ...total,
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
