/**
 * Keyset pagination for the console's lists (issue 13 §4): an opaque cursor
 * carries the sort key of the last row shown, so the next page starts after
 * it whatever was inserted meanwhile, and a deep page costs what the first
 * does. Old clients keep page/pageSize (offset paging): a request without
 * `cursor` or `limit` is answered as before, with `nextCursor` added.
 *
 * The cursor is base64url of a JSON array: the list's tag, then the sort key
 * values. Timestamps travel as text with microseconds, as PostgreSQL holds
 * them: a millisecond JavaScript Date would skip rows that share the
 * millisecond.
 */
import { z } from '@hono/zod-openapi';
import {
  and,
  asc,
  count,
  desc,
  getTableColumns,
  gte,
  ilike,
  isNotNull,
  isNull,
  lt,
  ne,
  or,
  sql,
  type SQL,
  type SQLWrapper,
} from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { Database } from '../../db/client';
import { cases } from '../../db/schema';
import { readableCaseConditionOf, readableFormFor, type Reader, type ReadableForm } from '../../platform/access';
import { ApiError } from '../errors';

/** Policy default: 50 rows a page; 200 at most, so one request stays cheap. */
export const LIST_LIMIT_DEFAULT = 50;
export const LIST_LIMIT_MAX = 200;

/**
 * A list's total counts its rows up to a cap; past it the answer says
 * `totalCapped: true` and `total` is the cap (a console shows "1,000+"), as
 * search engines and issue trackers do: an exact count of every matching row
 * costs a walk of all of them on every page. TOTAL_CAP for lists read from
 * the reader's set or unscoped (oversight), where counting to it is a range
 * of an index; WALKED_TOTAL_CAP for the lists of a reader with many cases,
 * which count by probing row after row: a line manager reads 28 % of the
 * bench's cases, so ≈ 3.6 rows are probed for each one counted, an action
 * owner with a long inbox ≈ 7 (bench/reads.bench.ts; counting to 1,000 took
 * 70–320 ms on a loaded box, to 100 about a tenth of that).
 */
export const TOTAL_CAP = 1_000;
export const WALKED_TOTAL_CAP = 100;
/**
 * The overdue list of a reader with many cases counts within a budget of
 * probes: the items it reads among the first WALKED_COUNT_BUDGET overdue
 * items in the list's order (and one more, which tells whether more follow),
 * at most WALKED_TOTAL_CAP (policy default).
 * Overdue items spread over every case, so such a reader reads few of them
 * (on the bench's seed a line manager 5 %, an action owner 3 %): counting to
 * 100 probed 2,040 items for the manager (33 ms) and 3,642 for the action
 * owner, more than the page itself. Past the budget the answer says
 * `totalCapped: true`, and `total` is a lower bound: what the budget found,
 * or what the page itself shows if that is more.
 */
export const WALKED_COUNT_BUDGET = 500;

/** The total to answer from a count of the matching rows limited to cap + 1. */
export function cappedTotal(found: number, cap = TOTAL_CAP): { total: number; totalCapped: boolean } {
  return { total: Math.min(found, cap), totalCapped: found > cap };
}

const booleanQuery = z.enum(['true', 'false']).transform((v) => v === 'true');
const instant = z.iso.datetime({ offset: true });

/** Paging of every keyset list: the cursor, or the old page/pageSize. */
export const KeysetQuerySchema = z.object({
  cursor: z
    .string()
    .min(1)
    .max(2000)
    .optional()
    .openapi({ description: 'the nextCursor of the previous page; omit for the first page' }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(LIST_LIMIT_MAX)
    .optional()
    .openapi({ description: `rows per page with a cursor (default ${LIST_LIMIT_DEFAULT}, at most ${LIST_LIMIT_MAX})` }),
  page: z.coerce
    .number()
    .int()
    .min(1)
    .optional()
    .openapi({ description: 'offset paging, for older clients: the page number (from 1); not with cursor' }),
  pageSize: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .optional()
    .openapi({ description: 'offset paging, for older clients: rows per page (default 20)' }),
});

/** The filters most case lists share. */
export const CaseFilterQuerySchema = z.object({
  status: z.enum(['open', 'closed']).optional(),
  stage: z.string().min(1).max(50).optional(),
  ownerId: z.string().min(1).max(100).optional(),
  overdue: booleanQuery.optional().openapi({ description: 'true: open cases past their due date; false: the others' }),
  from: instant.optional().openapi({ description: 'opened at or after this instant' }),
  to: instant.optional().openapi({ description: 'opened before this instant' }),
  q: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .optional()
    .openapi({ description: 'part of the title or the business key (case-insensitive)' }),
});

export const keysetPageOf = <T extends z.ZodTypeAny>(item: T, name: string) =>
  z
    .object({
      items: z.array(item),
      nextCursor: z
        .string()
        .nullable()
        .openapi({ description: 'pass as cursor for the next page; null after the last row' }),
      total: z
        .number()
        .int()
        .openapi({
          description: `rows matching the filters, on every page; case lists count up to a cap (${WALKED_TOTAL_CAP} or ${TOTAL_CAP.toLocaleString('en')}, see totalCapped)`,
        }),
      totalCapped: z.boolean().optional().openapi({
        description:
          'true when more rows may match than total says (total is then the cap, or what a walked count found within its budget: show "1,000+")',
      }),
      limit: z.number().int().optional().openapi({ description: 'with a cursor or limit: rows per page' }),
      page: z.number().int().optional().openapi({ description: 'offset paging only' }),
      pageSize: z.number().int().optional().openapi({ description: 'offset paging only' }),
    })
    .openapi(name);

type KeyKind = 'timestamp' | 'text';

/** A list's order: its tag (so one list's cursor is refused by another) and its sort key, unique thanks to the id. */
export interface KeysetOrder {
  tag: string;
  direction: 'asc' | 'desc';
  keys: Array<{ column: AnyPgColumn; kind: KeyKind }>;
}

export type Paging =
  { mode: 'page'; page: number; pageSize: number } | { mode: 'cursor'; after: string[] | null; limit: number };

const TIMESTAMP_TEXT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** A 400 naming query.<field>. */
export function badQuery(field: string, message: string): ApiError {
  return new ApiError('BAD_REQUEST', `invalid query: query.${field} ${message}`, [
    { field: `query.${field}`, message },
  ]);
}

export function encodeCursor(order: KeysetOrder, values: string[]): string {
  return Buffer.from(JSON.stringify([order.tag, ...values]), 'utf8').toString('base64url');
}

/** The sort key a cursor carries, or a 400 naming query.cursor. */
export function decodeCursor(order: KeysetOrder, cursor: string): string[] {
  const refuse = () => badQuery('cursor', 'is not a cursor of this list: pass the nextCursor of its previous page');
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw refuse();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw refuse();
  }
  if (!Array.isArray(parsed) || parsed.length !== order.keys.length + 1 || parsed[0] !== order.tag) throw refuse();
  const values = parsed.slice(1);
  order.keys.forEach((key, i) => {
    const value = values[i];
    if (typeof value !== 'string' || value.length > 1000) throw refuse();
    if (key.kind === 'timestamp' && !TIMESTAMP_TEXT.test(value)) throw refuse();
  });
  return values as string[];
}

/** How to page: a cursor or limit means keyset; otherwise the old offset paging. */
export function pagingOf(order: KeysetOrder, q: z.infer<typeof KeysetQuerySchema>): Paging {
  if (q.cursor !== undefined || q.limit !== undefined) {
    if (q.page !== undefined) throw badQuery('page', 'cannot be combined with cursor or limit');
    if (q.pageSize !== undefined) throw badQuery('pageSize', 'cannot be combined with cursor or limit; use limit');
    return {
      mode: 'cursor',
      after: q.cursor === undefined ? null : decodeCursor(order, q.cursor),
      limit: q.limit ?? LIST_LIMIT_DEFAULT,
    };
  }
  return { mode: 'page', page: q.page ?? 1, pageSize: q.pageSize ?? 20 };
}

const keyText = (key: KeysetOrder['keys'][number]) =>
  key.kind === 'timestamp'
    ? sql`to_char(${key.column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`
    : sql`${key.column}`;

/** The select column that carries each row's sort key, as the cursor will. */
export function cursorKeyColumn(order: KeysetOrder) {
  return sql<string>`json_build_array(${sql.join(order.keys.map(keyText), sql`, `)})::text`;
}

/**
 * Where, order, limit and offset for one page. Rows after the cursor by a
 * row comparison, which an index on the sort key serves.
 */
export function pageQuery(order: KeysetOrder, paging: Paging) {
  const orderBy = order.keys.map((k) => (order.direction === 'asc' ? asc(k.column) : desc(k.column)));
  if (paging.mode === 'page') {
    return {
      after: undefined,
      orderBy,
      limit: paging.pageSize + 1,
      offset: (paging.page - 1) * paging.pageSize,
    };
  }
  const after = paging.after
    ? sql`(${sql.join(
        order.keys.map((k) => sql`${k.column}`),
        sql`, `,
      )}) ${sql.raw(order.direction === 'asc' ? '>' : '<')} (${sql.join(
        order.keys.map((k, i) =>
          k.kind === 'timestamp' ? sql`${paging.after![i]}::timestamptz` : sql`${paging.after![i]}`,
        ),
        sql`, `,
      )})`
    : undefined;
  return { after, orderBy, limit: paging.limit + 1, offset: 0 };
}

/**
 * The page from rows fetched with pageQuery (one more than shown): the rows
 * to show, the cursor after the last of them (null at the end), and the
 * paging fields to answer with.
 */
export function pageOfRows<R extends { cursorKey: string }>(order: KeysetOrder, paging: Paging, rows: R[]) {
  const size = paging.mode === 'page' ? paging.pageSize : paging.limit;
  const shown = rows.slice(0, size);
  const last = shown[shown.length - 1];
  const nextCursor = rows.length > size && last ? encodeCursor(order, JSON.parse(last.cursorKey) as string[]) : null;
  const fields = paging.mode === 'page' ? { page: paging.page, pageSize: paging.pageSize } : { limit: paging.limit };
  return { rows: shown, nextCursor, ...fields };
}

/** q as an ILIKE pattern: its %, _ and \ match themselves. */
export function containsPattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
}

/** Any of the columns contains q, case-insensitively. */
export function textSearch(q: string | undefined, ...columns: SQLWrapper[]): SQL | undefined {
  if (!q) return undefined;
  const pattern = containsPattern(q);
  return or(...columns.map((c) => ilike(c as AnyPgColumn, pattern)));
}

/** The shared case filters, on the cases table's columns. */
export function caseFilters(
  columns: {
    status: AnyPgColumn;
    stage: AnyPgColumn;
    ownerId: AnyPgColumn;
    dueAt: AnyPgColumn;
    createdAt: AnyPgColumn;
    title: AnyPgColumn;
    businessKey: AnyPgColumn;
  },
  q: z.infer<typeof CaseFilterQuerySchema>,
  now: Date,
): SQL[] {
  const filters: Array<SQL | undefined> = [];
  if (q.status) filters.push(sql`${columns.status} = ${q.status}`);
  if (q.stage) filters.push(sql`${columns.stage} = ${q.stage}`);
  if (q.ownerId) filters.push(sql`${columns.ownerId} = ${q.ownerId}`);
  if (q.overdue === true)
    filters.push(sql`${columns.status} = 'open'`, isNotNull(columns.dueAt), lt(columns.dueAt, now));
  if (q.overdue === false) filters.push(or(ne(columns.status, 'open'), isNull(columns.dueAt), gte(columns.dueAt, now)));
  if (q.from) filters.push(gte(columns.createdAt, new Date(q.from)));
  if (q.to) filters.push(lt(columns.createdAt, new Date(q.to)));
  filters.push(textSearch(q.q, columns.title, columns.businessKey));
  return filters.filter((f): f is SQL => !!f);
}

/** Both ends of a range, when given, in order: a 400 naming query.to otherwise. */
export function checkRange(q: { from?: string; to?: string }): void {
  if (q.from && q.to && new Date(q.from) >= new Date(q.to)) throw badQuery('to', 'must be after from');
}

/** Case lists: newest first, by (created_at, id), which cases_created_idx serves. */
export const caseOrder = (tag: string): KeysetOrder => ({
  tag,
  direction: 'desc',
  keys: [
    { column: cases.createdAt, kind: 'timestamp' },
    { column: cases.id, kind: 'text' },
  ],
});

/**
 * One page of case rows matching `where` that `reader` may read, with the
 * total (up to its cap) and the next cursor. The reader's scope is applied
 * here, in the form that suits them (platform/access.ts readableFormFor): a
 * reader with many cases gets a walk in the list's order that checks each
 * row and stops after the page (or the cap); one with few, their set. Both
 * forms select the same cases (tests/integration/access.test.ts); `form`
 * forces one, for those tests.
 */
export async function listCases(
  db: Database,
  order: KeysetOrder,
  paging: Paging,
  where: SQL | undefined,
  reader: Reader,
  options: { form?: ReadableForm } = {},
) {
  const page = pageQuery(order, paging);
  const form = options.form ?? (await readableFormFor(db, reader));
  const readable = readableCaseConditionOf(form, reader, cases.id);
  const scoped = and(where, readable);
  const cap = readable && form === 'probe' ? WALKED_TOTAL_CAP : TOTAL_CAP;
  const counted = db
    .select({ id: cases.id })
    .from(cases)
    .where(scoped)
    .limit(cap + 1)
    .as('counted');
  const [rows, [totals]] = await Promise.all([
    db
      .select({ ...getTableColumns(cases), cursorKey: cursorKeyColumn(order) })
      .from(cases)
      .where(and(scoped, page.after))
      .orderBy(...page.orderBy)
      .limit(page.limit)
      .offset(page.offset),
    db.select({ total: count() }).from(counted),
  ]);
  return { ...pageOfRows(order, paging, rows), ...cappedTotal(totals?.total ?? 0, cap) };
}
