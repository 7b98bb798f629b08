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
 * The part is computed from the read model (cases, tasks, audit_events), not
 * kept in a table of its own, so it can never drift from what happened. One
 * list of where a person appears (PART_SOURCES) gives two forms of the same
 * rule: for lists, the set of case ids reached from the person
 * (`partCaseIds`: its cost follows the user's own involvement, not the number
 * of cases), and for one case, probes of that case's rows (`partInCase`: its
 * cost follows the case, not the user). tests/integration/access.test.ts
 * checks both against the same expectation on a few thousand cases.
 * Migration 0007 adds the indexes they use.
 */
import { and, arrayOverlaps, eq, inArray, ne, not, or, sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import type { Database } from '../db/client';
import { cases, tasks } from '../db/schema';
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
 * The open tasks that wait for this user: what their inbox lists
 * (GET /api/tasks/inbox), as a condition over `tasks`. A case with one of
 * them is a case the user has a part in.
 */
export function inboxTaskCondition(user: Reader): SQL {
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
  return or(decidable, mine, steps, verifiable)!;
}

/** The user alone, as an array of user ids. */
const selfOnly = (user: Reader) => sql`array[${user.id}::text]`;

/** The user and their direct reports (users.manager_id), as an array of user ids. */
const selfAndReports = (user: Reader) =>
  sql`array(select ${user.id}::text union all select ru.id from users ru where ru.manager_id = ${user.id})`;

/**
 * Where the read model shows a person's part in a case: the table, its
 * column naming the case, and the columns naming the person. Both forms
 * below are generated from this one list.
 */
const PART_SOURCES = [
  { table: 'cases', caseColumn: 'id', personColumns: ['initiator_id', 'owner_id'] },
  { table: 'tasks', caseColumn: 'case_id', personColumns: ['assignee_id'] },
  { table: 'audit_events', caseColumn: 'case_id', personColumns: ['actor_id'] },
] as const;

type People = () => SQL;

const named = (source: (typeof PART_SOURCES)[number], who: People) =>
  sql.join(
    source.personColumns.map((column) => sql`s.${sql.raw(column)} = any(${who()})`),
    sql` or `,
  );

/**
 * For lists: the ids of the cases in which one of `who` is named or acted,
 * of the cases those were opened from, and of the cases waiting for `user`
 * (with repeats: callers test membership). Its cost follows the people's own
 * involvement, one index lookup per person and source, whatever the number
 * of cases.
 */
function partCaseIds(user: Reader, who: People): SQL {
  const direct = sql.join(
    PART_SOURCES.map(
      (source) =>
        sql`select s.${sql.raw(source.caseColumn)} as id from ${sql.raw(source.table)} s where ${named(source, who)}`,
    ),
    sql` union all `,
  );
  return sql`with part as (${direct})
    select id from part
    union all
    select k.parent_case_id from cases k where k.id = any(array(select id from part)) and k.parent_case_id is not null
    union all
    select ${tasks.caseId} from ${tasks} where ${inboxTaskCondition(user)}`;
}

/**
 * For one case: true when one of `who` is named or acted on the case
 * `caseId` (an SQL expression), on a case opened from it, or when the case
 * waits for `user`. One index probe by case per source, whatever the
 * people's involvement elsewhere.
 */
function partInCase(user: Reader, caseId: SQL, who: People): SQL {
  const at = (id: SQL) =>
    sql.join(
      PART_SOURCES.map(
        (source) =>
          sql`exists (select 1 from ${sql.raw(source.table)} s where s.${sql.raw(source.caseColumn)} = ${id} and (${named(source, who)}))`,
      ),
      sql` or `,
    );
  return sql`(${at(caseId)}
    or exists (select 1 from cases k where k.parent_case_id = ${caseId} and (${at(sql`k.id`)}))
    or exists (select 1 from ${tasks} where ${tasks.caseId} = ${caseId} and ${inboxTaskCondition(user)}))`;
}

/**
 * The condition for lists: `column` (a case id: cases.id, audit_events.case_id,
 * …) names a case the user may read. Undefined when they read every case, so
 * `and(...filters, readableCaseCondition(user))` adds nothing for them.
 */
export function readableCaseCondition(user: Reader, column: SQLWrapper = cases.id): SQL | undefined {
  if (readsEveryCase(user)) return undefined;
  return sql`${column} in (${partCaseIds(user, () => selfAndReports(user))})`;
}

/**
 * The one-case check behind canReadCase and hasPartInCase: the case's row,
 * if it exists and the user may read it ('read') or has a part in it
 * ('part'). Exported so its plan can be measured (tests/integration/access.test.ts).
 */
export function caseCheckQuery(db: Database, user: Reader, caseId: string, check: 'read' | 'part') {
  const who = check === 'part' ? () => selfOnly(user) : readsEveryCase(user) ? null : () => selfAndReports(user);
  return db
    .select({ id: cases.id })
    .from(cases)
    .where(and(eq(cases.id, caseId), who ? partInCase(user, sql`${caseId}`, who) : undefined));
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
