/**
 * Who may read a case and who may add to it (issue 11 §8: "reads are scoped:
 * case participants, their managers, risk and compliance functions, and
 * auditors").
 *
 * A user has a part in a case when the case names them, when they acted on
 * it, or when it waits for them:
 * - named: its initiator or owner, the assignee of one of its tasks
 *   (rectification items included), or the initiator, owner or an assignee
 *   of a case opened from it (parent_case_id: the improvement cycle opened
 *   from an incident or an audit finding, the plan revision a drill opened);
 * - acted: the actor of an audit event on it or on a case opened from it.
 *   Every act is audited with its actor (each vote and decision, each step,
 *   each evidence upload), so voters, deciders, verifiers and uploaders need
 *   no list of their own;
 * - awaited: one of its tasks is in the user's inbox (an approval open to
 *   their function that does not exclude them, a step open to their role, an
 *   item submitted for verification). Whoever is asked to decide must be able
 *   to read what they decide.
 *
 * A case is read by those with a part in it, by their line managers
 * (users.manager_id: a manager reads what their direct reports are named in
 * or acted on), and by the oversight functions (OVERSIGHT_ROLES: risk,
 * compliance, internal audit, auditors; finance §5.2, e-commerce §6.4), who
 * read every case. Anyone else is told the case does not exist (404), so a
 * refusal reveals nothing. Adding to a case (evidence) takes a part in it:
 * reading it through oversight or line management is not enough.
 *
 * The part of a person in a case is kept in case_parts, written by the
 * triggers of migration 0024 in the transaction of every write that names a
 * person on a case, reassigns, relinks or acts (they check again, on the
 * rows themselves, a part a write may have ended), so it follows the read
 * model (cases, tasks, audit_events) and never drifts from it. What a case
 * awaits depends on roles and votes and stays a condition over its tasks.
 * A list hashes once the cases of the reader's (and their reports') rows
 * and those of the reader's inbox, then keeps its rows found there
 * (`partCases`); one case is two index probes, whatever the reader's
 * involvement (`partInCase`). A reader whose set is large (a line manager
 * of a team, a role with a long inbox: 20,000 cases) costs the first form
 * the whole set on every page, so their lists walk in the list's order and
 * probe each row instead (`partCasesProbe`), stopping after the page;
 * readableFormFor picks the form by the size of the set.
 * tests/integration/access.test.ts checks both against the expectation
 * computed from the seed on a few thousand cases;
 * tests/integration/caseParts.test.ts, that the table follows the writes.
 */
import { and, arrayOverlaps, eq, inArray, ne, not, or, sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Database } from '../db/client';
import { caseParts, cases, tasks } from '../db/schema';
import { DEFAULT_VERIFIER_ROLES } from '../domain/rectification';
import { hasAnyRole, OVERSIGHT_ROLES, type Role } from '../domain/roles';
import { ApiError } from '../api/errors';

/** The caller, as the API authenticated them. */
export interface Reader {
  id: string;
  roles: Role[];
}

/** The refusal code of an upload by someone without a part in the case. */
export const NO_PART_IN_CASE = 'NO_PART_IN_CASE';

/** Risk, compliance, internal audit and auditors read every case. */
export function readsEveryCase(user: Pick<Reader, 'roles'>): boolean {
  return hasAnyRole(user, OVERSIGHT_ROLES);
}

/**
 * The tasks the conditions below read, under a name of their own: the
 * overdue list reads `tasks` itself, and a bare "tasks" inside its condition
 * would name the wrong rows.
 */
const AWAITING = 'awaiting';
const awaiting = alias(tasks, AWAITING);

/**
 * The open tasks that wait for this user, by why they wait: approvals the
 * user may still vote on (`decidable`), rectification items the user owns
 * and has to act on (`mine`), other steps owed by the user or open to one of
 * their roles (`steps`), and items submitted by others that the user may
 * verify (`verifiable`, undefined for someone who verifies nothing). The
 * inbox's sections are these branches (api/routes/tasks.ts), each of which
 * the planner can match to its own index; their union is
 * inboxTaskCondition.
 */
export function inboxTaskBranches(
  user: Reader,
  t: typeof tasks | typeof awaiting = tasks,
): { decidable: SQL; mine: SQL; steps: SQL; verifiable: SQL | undefined } {
  const tasks = t;
  const decidable = and(
    eq(tasks.kind, 'approval'),
    eq(tasks.status, 'open'),
    arrayOverlaps(tasks.candidateRoles, user.roles),
    not(sql`${user.id} = any(${tasks.excludedUserIds})`),
    not(sql`${tasks.votes} @> ${JSON.stringify([{ userId: user.id }])}::jsonb`),
  );
  const mine = and(
    eq(tasks.kind, 'rectification'),
    eq(tasks.assigneeId, user.id),
    inArray(tasks.status, ['open', 'returned']),
  );
  // Other steps a case waits for: owed by the caller, or open to one of their roles.
  const steps = and(
    eq(tasks.kind, 'step'),
    inArray(tasks.status, ['open', 'overdue']),
    or(eq(tasks.assigneeId, user.id), arrayOverlaps(tasks.candidateRoles, user.roles)),
  );
  const verifiable = hasAnyRole(user, DEFAULT_VERIFIER_ROLES)
    ? and(
        eq(tasks.kind, 'rectification'),
        eq(tasks.status, 'submitted'),
        ne(tasks.assigneeId, user.id),
        not(sql`${user.id} = any(${tasks.excludedUserIds})`),
      )
    : undefined;
  return { decidable: decidable!, mine: mine!, steps: steps!, verifiable };
}

/**
 * The open tasks that wait for this user: what their inbox lists
 * (GET /api/tasks/inbox), as a condition over `tasks` (or an alias of it:
 * `t`). A case with one of them is a case the user has a part in.
 */
export function inboxTaskCondition(user: Reader, t: typeof tasks | typeof awaiting = tasks): SQL {
  const { decidable, mine, steps, verifiable } = inboxTaskBranches(user, t);
  return or(decidable, mine, steps, verifiable)!;
}

/** The user alone, as an array of user ids. */
const selfOnly = (user: Reader) => sql`array[${user.id}::text]`;

/** The user and their direct reports (users.manager_id), as an array of user ids. */
const selfAndReports = (user: Reader) =>
  sql`array(select ${user.id}::text union all select ru.id from users ru where ru.manager_id = ${user.id})`;

/**
 * For lists: `column` names a case in which one of `who` has a part
 * (case_parts, migration 0024) or which waits for `user`. One IN list, as
 * before case_parts, so the planner may drive a sparse reader's list from
 * the list (a semi-join into the list's index) and hash it for a dense one;
 * only its first half is now an index-only range of case_parts_user_idx (a
 * few thousand rows for a manager of 19) instead of every audit event the
 * people ever wrote.
 */
function partCases(user: Reader, column: SQLWrapper, who: SQL): SQL {
  return sql`${column} in (select ${caseParts.caseId} from ${caseParts} where ${caseParts.userId} = any(${who})
    union all select ${awaiting.caseId} from ${tasks} ${sql.identifier(AWAITING)} where ${inboxTaskCondition(user, awaiting)})`;
}

/**
 * For one case: the case `caseId` is one in which one of `who` has a part or
 * which waits for `user`. Two index probes by case (case_parts' primary key,
 * the case's tasks), whatever the people's involvement elsewhere.
 */
function partInCase(user: Reader, caseId: string, who: SQL): SQL {
  return sql`(exists (select 1 from ${caseParts} where ${caseParts.caseId} = ${caseId} and ${caseParts.userId} = any(${who}))
    or exists (select 1 from ${tasks} ${sql.identifier(AWAITING)} where ${awaiting.caseId} = ${caseId} and ${inboxTaskCondition(user, awaiting)}))`;
}

/**
 * For a walk over cases in a list's order: `column` names a case in which one
 * of `who` has a part or which waits for `user`, checked on the row by the
 * two index probes of partInCase. `offset 0` keeps each EXISTS a probe per
 * row: without it PostgreSQL may turn it into a hashed subplan, which builds
 * the whole set first (≈ 20,000 inbox tasks for a manager) and is the cost
 * the probe is there to avoid. A walk that stops after a page of rows then
 * costs the rows it reads, whatever the size of the reader's set.
 */
function partCasesProbe(user: Reader, column: SQLWrapper, who: SQL): SQL {
  return sql`(exists (select 1 from ${caseParts} where ${caseParts.caseId} = ${column} and ${caseParts.userId} = any(${who}) offset 0)
    or exists (select 1 from ${tasks} ${sql.identifier(AWAITING)} where ${awaiting.caseId} = ${column} and ${inboxTaskCondition(user, awaiting)} offset 0))`;
}

/**
 * The condition for lists: `column` (a case id: cases.id, audit_events.case_id,
 * …) names a case the user may read. Undefined when they read every case, so
 * `and(...filters, readableCaseCondition(user))` adds nothing for them.
 * The set form: right for a reader with few cases, and for what reads the
 * whole set anyway; a page of a list picks its form (readableFormFor).
 */
export function readableCaseCondition(user: Reader, column: SQLWrapper = cases.id): SQL | undefined {
  if (readsEveryCase(user)) return undefined;
  return partCases(user, column, selfAndReports(user));
}

/**
 * The same cases as readableCaseCondition, checked row by row: for a reader
 * who reads many cases, whose list is a walk in the list's order that stops
 * after a page (or after the capped total).
 */
export function readableCaseProbe(user: Reader, column: SQLWrapper = cases.id): SQL | undefined {
  if (readsEveryCase(user)) return undefined;
  return partCasesProbe(user, column, selfAndReports(user));
}

/**
 * The two ways a list can scope its rows to a reader, selecting the same
 * cases: from their set ('set': the set is gathered, hashed or walked, then
 * the list keeps its rows found there) or row by row ('probe').
 */
export type ReadableForm = 'set' | 'probe';

export function readableCaseConditionOf(
  form: ReadableForm,
  user: Reader,
  column: SQLWrapper = cases.id,
): SQL | undefined {
  return form === 'probe' ? readableCaseProbe(user, column) : readableCaseCondition(user, column);
}

/**
 * A reader counts as one who reads many cases when their part rows (theirs
 * and their reports') and inbox tasks reach this share of all cases, and at
 * least DENSE_READER_MIN: a walk of a page then reads about 1/share rows a
 * row shown, each two index probes, where the set form would gather the
 * whole set first. Measured on the bench's seed (bench/reads.bench.ts).
 */
export const DENSE_READER_SHARE = 0.02;
export const DENSE_READER_MIN = 1000;
const FORM_TTL_MS = 5 * 60_000;
const FORM_CACHE_MAX = 10_000;
const formCache = new WeakMap<object, Map<string, { form: ReadableForm; until: number }>>();

/**
 * Which form serves this reader's lists: 'probe' when their part rows and
 * inbox tasks reach the threshold (counted under a LIMIT, so a reader with a
 * long inbox costs the threshold and no more), 'set' otherwise. One query,
 * kept FORM_TTL_MS per reader and database: the choice changes the plan,
 * never the rows, so a stale one costs time only.
 */
export async function readableFormFor(db: Database, user: Reader): Promise<ReadableForm> {
  if (readsEveryCase(user)) return 'set';
  const key = `${[...user.roles].sort().join(',')}|${user.id}`;
  const now = Date.now();
  let cache = formCache.get(db);
  if (!cache) formCache.set(db, (cache = new Map()));
  const hit = cache.get(key);
  if (hit && hit.until > now) return hit.form;
  const enough = sql`(select greatest(${DENSE_READER_MIN}, (c.reltuples * ${DENSE_READER_SHARE})::bigint) from pg_class c where c.oid = 'cases'::regclass)`;
  // One limit over both halves: the inbox is not read when the part rows alone reach it.
  const { rows } = (await db.execute(sql`select count(*) >= ${enough} as dense from (
      select 1 from ${caseParts} where ${caseParts.userId} = any(${selfAndReports(user)})
      union all select 1 from ${tasks} ${sql.identifier(AWAITING)} where ${inboxTaskCondition(user, awaiting)}
      limit ${enough}) found`)) as unknown as { rows: Array<{ dense: boolean }> };
  const form: ReadableForm = rows[0]?.dense ? 'probe' : 'set';
  if (cache.size >= FORM_CACHE_MAX) cache.clear();
  cache.set(key, { form, until: now + FORM_TTL_MS });
  return form;
}

/**
 * The one-case check behind canReadCase and hasPartInCase: the case's row,
 * if it exists and the user may read it ('read') or has a part in it
 * ('part'). Exported so its plan can be measured (tests/integration/access.test.ts).
 */
export function caseCheckQuery(db: Database, user: Reader, caseId: string, check: 'read' | 'part') {
  const who = check === 'part' ? selfOnly(user) : readsEveryCase(user) ? null : selfAndReports(user);
  return db
    .select({ id: cases.id })
    .from(cases)
    .where(and(eq(cases.id, caseId), who ? partInCase(user, caseId, who) : undefined));
}

/** True when the case exists and the user may read it. */
export async function canReadCase(db: Database, user: Reader, caseId: string): Promise<boolean> {
  return (await caseCheckQuery(db, user, caseId, 'read')).length > 0;
}

/** True when the case exists and the user has a part in it (named, acted, or awaited: not oversight, not line management). */
export async function hasPartInCase(db: Database, user: Reader, caseId: string): Promise<boolean> {
  return (await caseCheckQuery(db, user, caseId, 'part')).length > 0;
}

/** 404 with the message an unknown case gets, so a refusal says nothing of the case. */
export function caseNotFound(caseId: string): ApiError {
  return new ApiError('NOT_FOUND', `no case ${caseId}`);
}

/**
 * 404 unless the case exists and the user may read it. `notFound` gives the
 * error the route answers for an unknown id (`no incident INC-1`…), so a case
 * one may not read gets, word for word, the answer of one that does not exist.
 */
export async function assertCanReadCase(
  db: Database,
  user: Reader,
  caseId: string,
  notFound: () => ApiError = () => caseNotFound(caseId),
): Promise<void> {
  if (!(await canReadCase(db, user, caseId))) throw notFound();
}

/**
 * For what adds to a case (an evidence upload): 404 when the user cannot read
 * it, 403 NO_PART_IN_CASE when they read it only through oversight or line
 * management. Call it before anything is stored.
 */
export async function assertHasPartInCase(
  db: Database,
  user: Reader,
  caseId: string,
  doing = 'add evidence to it',
): Promise<void> {
  if (await hasPartInCase(db, user, caseId)) return;
  await assertCanReadCase(db, user, caseId);
  throw new ApiError(
    'FORBIDDEN',
    `only people with a part in case ${caseId} may ${doing}: its initiator and owner, the assignees of its tasks, ` +
      'those who acted on it and those whose decision it awaits; reading it as risk, compliance, internal audit, ' +
      'auditor or line manager is not a part in it',
    undefined,
    NO_PART_IN_CASE,
  );
}
