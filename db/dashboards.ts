/**
 * The console's dashboards (issue 13 §5): aggregates over the read model,
 * one grouped query per chart, never a row per case brought back to count.
 *
 * Case-based figures count only the cases the caller may read (`readable`,
 * from platform/access.ts `readableCaseCondition`: undefined for the
 * oversight functions, who read every case), so a chart never reveals a
 * case its list would hide. The risk register and the supplier list are read
 * by anyone signed in (GET /api/risks, GET /api/suppliers), and so are their
 * charts.
 */
import { and, asc, count, desc, eq, lt, notInArray, sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import { DRILL_MODULES, type DrillModule } from '../domain/drills';
import { INCIDENT_GRADES, type IncidentGrade } from '../domain/incidents';
import { riskLevelFromMatrix, type MatrixCutoffs, type RiskLevel } from '../domain/risk';
import { SUPPLIER_TIERS } from '../domain/supplierReview';
import type { Database } from './client';
import { cases, suppliers, tasks, users } from './schema';

/** A task is done with when decided (done) or lapsed (expired); any other status past its due date is overdue (as api/dto.ts). */
const FINISHED_TASK_STATUSES = ['done', 'expired'];

/** How many ISO weeks the complaint SLA chart covers, the current one included (policy default). */
export const COMPLAINT_SLA_WEEKS = 12;

export interface OpenCasesRow {
  process: string;
  stage: string;
  count: number;
}

/** Open cases by process and stage. */
export async function openCasesByStage(db: Database, readable: SQL | undefined): Promise<OpenCasesRow[]> {
  return db
    .select({ process: cases.process, stage: cases.stage, count: count() })
    .from(cases)
    .where(and(eq(cases.status, 'open'), readable))
    .groupBy(cases.process, cases.stage)
    .orderBy(asc(cases.process), asc(cases.stage));
}

export interface OverdueOwnerRow {
  /** The task's assignee; null for a task open to roles (an approval), which `candidateRoles` names. */
  assigneeId: string | null;
  assigneeName: string | null;
  candidateRoles: string[] | null;
  count: number;
  oldestDueAt: string;
}

/** Tasks past their due date and not yet done, by who owes them: the assignee, or the roles an unassigned task is open to. */
export async function overdueTasksByOwner(
  db: Database,
  readable: SQL | undefined,
  now: Date,
): Promise<OverdueOwnerRow[]> {
  const roles = sql<string[] | null>`case when ${tasks.assigneeId} is null then ${tasks.candidateRoles} end`;
  const rows = await db
    .select({
      assigneeId: tasks.assigneeId,
      assigneeName: users.name,
      candidateRoles: roles,
      count: count(),
      oldestDueAt: sql<Date>`min(${tasks.dueAt})`.mapWith(tasks.dueAt),
    })
    .from(tasks)
    .leftJoin(users, eq(users.id, tasks.assigneeId))
    .where(and(notInArray(tasks.status, FINISHED_TASK_STATUSES), lt(tasks.dueAt, now), readable))
    .groupBy(tasks.assigneeId, users.name, roles)
    .orderBy(desc(count()), asc(tasks.assigneeId));
  return rows.map((r) => ({ ...r, oldestDueAt: r.oldestDueAt.toISOString() }));
}

export interface HeatCell {
  probability: number;
  impact: number;
  /** The cell's level under the policy in force (probability × impact against its cut-offs). */
  level: RiskLevel;
  /** Risks in the register whose residual rating is this cell. */
  risks: number;
  /** Open cases that carry this rating (an approval request's assessment, a risk acceptance's residual). */
  cases: number;
}

/**
 * The 5×5 probability × impact matrix: every cell, with the register's risks
 * at their residual rating and the open cases that carry a rating (cases.data
 * `assessment` of approval requests, `residual` of risk acceptances). The
 * register has no closed state: every risk in it is open.
 */
export async function heatMap(db: Database, readable: SQL | undefined, cutoffs: MatrixCutoffs): Promise<HeatCell[]> {
  const rating = sql`coalesce(${cases.data}->'assessment', ${cases.data}->'residual')`;
  const { rows } = (await db.execute(sql`
    select 'risk' as source, residual_probability as probability, residual_impact as impact, count(*)::int as n
      from risks
     group by residual_probability, residual_impact
    union all
    select 'case', (${rating}->>'probability')::int, (${rating}->>'impact')::int, count(*)::int
      from ${cases}
     where ${cases.status} = 'open'
       and (${rating}->>'probability') ~ '^[1-5]$'
       and (${rating}->>'impact') ~ '^[1-5]$'
       ${readable ? sql`and ${readable}` : sql``}
     group by 2, 3`)) as unknown as {
    rows: Array<{ source: 'risk' | 'case'; probability: number; impact: number; n: number }>;
  };
  const cells: HeatCell[] = [];
  for (let probability = 1; probability <= 5; probability++)
    for (let impact = 1; impact <= 5; impact++)
      cells.push({
        probability,
        impact,
        level: riskLevelFromMatrix(probability, impact, cutoffs),
        risks: 0,
        cases: 0,
      });
  for (const row of rows) {
    const cell = cells.find((c) => c.probability === Number(row.probability) && c.impact === Number(row.impact));
    if (cell) cell[row.source === 'risk' ? 'risks' : 'cases'] += Number(row.n);
  }
  return cells;
}

export const SUPPLIER_GRADES = ['low', 'medium', 'high', 'ungraded'] as const;
export type SupplierGrade = (typeof SUPPLIER_GRADES)[number];

export interface SupplierGradeRow {
  tier: string;
  grade: SupplierGrade;
  count: number;
}

/**
 * Suppliers by tier and the risk grade of their last approved review
 * ('ungraded' before the first). Terminated suppliers are no longer
 * suppliers and are left out.
 */
export async function supplierGradesByTier(db: Database): Promise<SupplierGradeRow[]> {
  const grade = sql<string>`coalesce(${suppliers.lastRiskGrade}, 'ungraded')`;
  const rows = await db
    .select({ tier: suppliers.tier, grade, count: count() })
    .from(suppliers)
    .where(notInArray(suppliers.status, ['terminated']))
    .groupBy(suppliers.tier, grade);
  const tierOrder = (t: string) => {
    const i = (SUPPLIER_TIERS as readonly string[]).indexOf(t);
    return i < 0 ? SUPPLIER_TIERS.length : i;
  };
  return rows
    .map((r) => ({ ...r, grade: r.grade as SupplierGrade }))
    .sort(
      (a, b) =>
        tierOrder(a.tier) - tierOrder(b.tier) ||
        a.tier.localeCompare(b.tier) ||
        SUPPLIER_GRADES.indexOf(a.grade) - SUPPLIER_GRADES.indexOf(b.grade),
    );
}

export interface SlaFigures {
  /** Done by the deadline (to the millisecond). */
  met: number;
  /** Done late, recorded as breached, or past the deadline and not done. */
  breached: number;
  /** Not done and not yet due. */
  pending: number;
  /** met ÷ (met + breached), 0..1; null when nothing has been decided yet. */
  compliance: number | null;
}

export interface ComplaintSlaWeek {
  /** ISO week of acceptance in the chart's time zone, e.g. 2026-W48. */
  week: string;
  /** The Monday that week starts on, in the chart's time zone, YYYY-MM-DD. */
  weekStart: string;
  complaints: number;
  initialInvestigation: SlaFigures;
  result: SlaFigures;
}

const figures = (met: number, breached: number, pending: number): SlaFigures => ({
  met,
  breached,
  pending,
  compliance: met + breached > 0 ? Math.round((met / (met + breached)) * 1000) / 1000 : null,
});

/**
 * Complaint SLA compliance by ISO week of acceptance, the last
 * COMPLAINT_SLA_WEEKS weeks (DOMAIN.md §3, finance §4.4: initial
 * investigation within 24 hours, result within 48 hours; each complaint is
 * held to the deadlines it was accepted under, stored on its case). As in
 * domain/complaints.ts `slaBreaches`, a result recorded without an initial
 * investigation counts as the investigation; the result is the feedback.
 *
 * Weeks are the reader's: Monday 00:00 to Monday 00:00 in `timeZone` (an
 * IANA name, checked by the caller), so a complaint accepted on a Monday
 * morning in Shanghai counts in that week, not in the UTC week before.
 */
export async function complaintSlaByWeek(
  db: Database,
  readable: SQL | undefined,
  now: Date,
  { weeks = COMPLAINT_SLA_WEEKS, timeZone = 'UTC' }: { weeks?: number; timeZone?: string } = {},
): Promise<ComplaintSlaWeek[]> {
  const d = cases.data;
  const accepted = sql`coalesce((${d}->>'acceptedAt')::timestamptz, ${cases.createdAt})`;
  const resultAt = sql`(${d}->'feedback'->>'at')::timestamptz`;
  const investigatedAt = sql`coalesce((${d}->'initialInvestigation'->>'at')::timestamptz, ${resultAt})`;
  const state = (sla: string, doneAt: SQL, dueKey: string) => {
    const due = sql`(${d}->>${dueKey})::timestamptz`;
    // coalesce: a comparison with a missing time is null, and "not null" would count nowhere.
    const breached = sql`coalesce(coalesce(${d}->'breaches', '[]'::jsonb) @> ${JSON.stringify([{ sla }])}::jsonb
      or ${doneAt} > ${due} or (${doneAt} is null and ${due} < ${now}), false)`;
    return {
      met: sql<number>`count(*) filter (where ${doneAt} is not null and not ${breached})::int`,
      breached: sql<number>`count(*) filter (where ${breached})::int`,
      pending: sql<number>`count(*) filter (where ${doneAt} is null and not ${breached})::int`,
    };
  };
  const investigation = state('initial_investigation_24h', investigatedAt, 'initialInvestigationDueAt');
  const result = state('result_48h', resultAt, 'resultDueAt');
  // Local wall-clock time of acceptance in the reader's zone: its ISO week and that week's Monday.
  const acceptedLocal = sql`(${accepted} at time zone ${timeZone})`;
  const weekStart = sql<string>`to_char(date_trunc('week', ${acceptedLocal}), 'YYYY-MM-DD')`;
  const week = sql<string>`to_char(${acceptedLocal}, 'IYYY-"W"IW')`;
  const since = sql`date_trunc('week', ${now}::timestamptz at time zone ${timeZone}) - ${`${weeks - 1} weeks`}::interval`;
  const rows = await db
    .select({
      week,
      weekStart,
      complaints: count(),
      investigationMet: investigation.met,
      investigationBreached: investigation.breached,
      investigationPending: investigation.pending,
      resultMet: result.met,
      resultBreached: result.breached,
      resultPending: result.pending,
    })
    .from(cases)
    .where(
      and(
        eq(cases.process, 'complaint'),
        sql`${acceptedLocal} >= ${since}`,
        sql`${d}->>'initialInvestigationDueAt' is not null`,
        readable,
      ),
    )
    // By position (week, weekStart: the first two columns): each mention of the zone is a parameter of
    // its own, and PostgreSQL would not take `… at time zone $1` and `… at time zone $9` for one expression.
    .groupBy(sql`1`, sql`2`)
    .orderBy(sql`2`);
  return rows.map((r) => ({
    week: r.week,
    weekStart: r.weekStart,
    complaints: r.complaints,
    initialInvestigation: figures(r.investigationMet, r.investigationBreached, r.investigationPending),
    result: figures(r.resultMet, r.resultBreached, r.resultPending),
  }));
}

export interface IncidentGradeRow {
  grade: IncidentGrade;
  open: number;
  closed: number;
}

/** Incidents by their current grade (I most severe … IV), open and closed; every grade listed, zero or not. */
export async function incidentsByGrade(db: Database, readable: SQL | undefined): Promise<IncidentGradeRow[]> {
  const grade = sql<string>`${cases.data}->>'grade'`;
  const rows = await db
    .select({
      grade,
      open: sql<number>`count(*) filter (where ${cases.status} = 'open')::int`,
      closed: sql<number>`count(*) filter (where ${cases.status} <> 'open')::int`,
    })
    .from(cases)
    .where(and(eq(cases.process, 'incident'), readable))
    .groupBy(grade);
  return INCIDENT_GRADES.map((g) => {
    const row = rows.find((r) => r.grade === g);
    return { grade: g, open: row?.open ?? 0, closed: row?.closed ?? 0 };
  });
}

export interface DrillModuleRow {
  module: DrillModule;
  /** The module's pass mark under the policy in force. */
  passMark: number;
  /** Evaluated drills that scored the module. */
  drills: number;
  average: number | null;
  min: number | null;
  max: number | null;
  /** Drills whose score fell below the pass mark they were evaluated against. */
  belowPassMark: number;
}

/**
 * Drill module scores (DOMAIN.md §4: command, information reporting, resource
 * dispatch, public opinion response) over every evaluated drill, against the
 * pass marks: the policy's now (`passMark`), and each drill's own at its
 * evaluation (`belowPassMark`).
 */
export async function drillModuleScores(
  db: Database,
  readable: SQL | undefined,
  passMarks: Record<DrillModule, number>,
): Promise<DrillModuleRow[]> {
  const { rows } = (await db.execute(sql`
    select m->>'module' as module,
           count(*)::int as drills,
           round(avg((m->>'score')::numeric), 1)::text as average,
           min((m->>'score')::int) as min,
           max((m->>'score')::int) as max,
           count(*) filter (where (m->>'passed') = 'false')::int as below
      from ${cases}
     cross join lateral jsonb_array_elements(
            case when jsonb_typeof(${cases.data}->'evaluation'->'modules') = 'array'
                 then ${cases.data}->'evaluation'->'modules' else '[]'::jsonb end) as m
     where ${cases.process} = 'drill'
       ${readable ? sql`and ${readable}` : sql``}
     group by m->>'module'`)) as unknown as {
    rows: Array<{
      module: string;
      drills: number;
      average: string | null;
      min: number | null;
      max: number | null;
      below: number;
    }>;
  };
  return DRILL_MODULES.map((module) => {
    const row = rows.find((r) => r.module === module);
    return {
      module,
      passMark: passMarks[module],
      drills: row ? Number(row.drills) : 0,
      average: row?.average != null ? Number(row.average) : null,
      min: row?.min ?? null,
      max: row?.max ?? null,
      belowPassMark: row ? Number(row.below) : 0,
    };
  });
}

/** Every chart of the overview, in one round of parallel queries. */
export async function dashboardOverview(
  db: Database,
  options: {
    /** The caller's read scope over a column naming a case (platform/access.ts readableCaseCondition). */
    readable: (caseColumn: SQLWrapper) => SQL | undefined;
    now: Date;
    cutoffs: MatrixCutoffs;
    complaintSla: { initialInvestigationWithin: string; resultWithin: string };
    drillPassMarks: Record<DrillModule, number>;
    drillOverallPassMark: number;
    /** The reader's IANA time zone, for the complaint chart's weeks (UTC when not given). */
    timeZone?: string;
  },
) {
  const { now } = options;
  const readable = options.readable(cases.id);
  const [openCases, overdue, heat, supplierGrades, complaintSla, incidents, drillModules] = await Promise.all([
    openCasesByStage(db, readable),
    overdueTasksByOwner(db, options.readable(tasks.caseId), now),
    heatMap(db, readable, options.cutoffs),
    supplierGradesByTier(db),
    complaintSlaByWeek(db, readable, now, { timeZone: options.timeZone }),
    incidentsByGrade(db, readable),
    drillModuleScores(db, readable, options.drillPassMarks),
  ]);
  return {
    generatedAt: now.toISOString(),
    openCases,
    overdueByOwner: overdue,
    heatMap: heat,
    supplierGrades,
    complaintSla: {
      timeZone: options.timeZone ?? 'UTC',
      weeks: complaintSla,
      initialInvestigationWithin: options.complaintSla.initialInvestigationWithin,
      resultWithin: options.complaintSla.resultWithin,
    },
    incidentsByGrade: incidents,
    drills: { overallPassMark: options.drillOverallPassMark, modules: drillModules },
  };
}
