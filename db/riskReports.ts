/**
 * Risk information reporting reads (风险信息报告, finance §5.5): the register's
 * figures for a period and the content of a periodic report, from the read
 * model. The API's control-effectiveness report and the report workflow's
 * activity both call them (as db/kpis.ts is shared).
 */
import { createHash } from 'node:crypto';
import { and, eq, gte, lt, sql } from 'drizzle-orm';
import {
  canonicalJson,
  controlEffectivenessFigures,
  periodBounds,
  RISK_REPORT_AUDIENCE_LABELS,
  type RegisterControl,
  type RiskReportAudience,
} from '../contracts/riskReport';
import { PLATFORM_KPIS } from '../domain/pdca';
import type { PolicySnapshot } from '../domain/policy';
import type { RiskCategory } from '../domain/riskRegister';
import type { Database } from './client';
import { platformKpis } from './kpis';
import { cases, risks, tasks } from './schema';

const DAY = 86_400_000;

/** The register's figures, with the incidents opened in [since, until). */
export async function readRegisterFigures(db: Database, since: Date, until: Date, policy: PolicySnapshot) {
  const [register, controls, incidents] = await Promise.all([
    db
      .select({
        category: risks.category,
        residualProbability: risks.residualProbability,
        residualImpact: risks.residualImpact,
      })
      .from(risks),
    // The latest test of each control decides whether it counts as effective.
    db.execute(sql`
      select r.category, t.result as last_result
      from risk_controls c
      join risks r on r.key = c.risk_key
      left join lateral (
        select result from risk_control_tests where control_id = c.id order by tested_at desc, id desc limit 1
      ) t on true`),
    db
      .select({ n: sql<number>`count(*)::int` })
      .from(cases)
      .where(and(eq(cases.process, 'incident'), gte(cases.createdAt, since), lt(cases.createdAt, until))),
  ]);
  const controlRows = (controls as unknown as { rows: Array<{ category: string; last_result: string | null }> }).rows;
  return controlEffectivenessFigures({
    risks: register.map((r) => ({ ...r, category: r.category as RiskCategory })),
    controls: controlRows.map((c) => ({
      category: c.category as RiskCategory,
      lastResult: (c.last_result ?? 'not_tested') as RegisterControl['lastResult'],
    })),
    incidentsOpened: incidents[0]?.n ?? 0,
    periodDays: Math.max(1, Math.round((until.getTime() - since.getTime()) / DAY)),
    cutoffs: policy.values.risk,
    appetite: policy.values.riskRegister.appetite,
  });
}

const countBy = (rows: Array<{ key: string | null; n: number }>) =>
  Object.fromEntries(rows.map((r) => [r.key ?? 'unknown', r.n]));

/** The content of a periodic report: what the register and the cases say about the period. */
export async function buildRiskReportContent(
  db: Database,
  input: { audience: RiskReportAudience; period: string; policy: PolicySnapshot; preparedBy: string },
  now: Date,
) {
  const bounds = periodBounds(input.period);
  if (!bounds) throw new RangeError(`not a period: ${input.period}`);
  const { start, end } = bounds;
  const inPeriod = (process: string) =>
    and(eq(cases.process, process), gte(cases.createdAt, start), lt(cases.createdAt, end));
  const [figures, warnings, incidents, findings, overdue, kpis] = await Promise.all([
    readRegisterFigures(db, start, end, input.policy),
    db
      .select({ key: sql<string | null>`${cases.data}->>'level'`, n: sql<number>`count(*)::int` })
      .from(cases)
      .where(inPeriod('risk_warning'))
      .groupBy(sql`1`),
    db
      .select({ key: sql<string | null>`${cases.data}->>'grade'`, n: sql<number>`count(*)::int` })
      .from(cases)
      .where(inPeriod('incident'))
      .groupBy(sql`1`),
    db
      .select({ key: cases.status, n: sql<number>`count(*)::int` })
      .from(cases)
      .where(inPeriod('audit_finding'))
      .groupBy(cases.status),
    db
      .select({ taskId: tasks.id, caseId: tasks.caseId, title: tasks.title, dueAt: tasks.dueAt })
      .from(tasks)
      .where(and(eq(tasks.kind, 'rectification'), sql`${tasks.status} <> 'done'`, lt(tasks.dueAt, now)))
      .orderBy(tasks.dueAt, tasks.id),
    platformKpis(db, [...PLATFORM_KPIS], now),
  ]);
  const findingsByStatus = countBy(findings);
  return {
    audience: input.audience,
    title: RISK_REPORT_AUDIENCE_LABELS[input.audience],
    period: input.period,
    periodStart: start.toISOString(),
    periodEnd: end.toISOString(),
    preparedBy: input.preparedBy,
    preparedAt: now.toISOString(),
    policyVersion: input.policy.version,
    riskProfile: {
      levels: figures.riskLevel,
      aboveAppetite: figures.aboveAppetite,
      byCategory: figures.byCategory,
    },
    controlCoverage: figures.controlCoverage,
    warnings: { byLevel: { general: 0, elevated: 0, major: 0, ...countBy(warnings) }, total: sum(warnings) },
    incidents: { byGrade: countBy(incidents), total: sum(incidents), incidenceRate: figures.incidenceRate },
    auditFindings: { open: findingsByStatus.open ?? 0, closed: findingsByStatus.closed ?? 0 },
    overdueTreatments: {
      count: overdue.length,
      items: overdue.map((o) => ({ ...o, dueAt: o.dueAt?.toISOString() ?? null })),
    },
    kpis,
  };
}
const sum = (rows: Array<{ n: number }>) => rows.reduce((t, r) => t + r.n, 0);

export type RiskReportContent = Awaited<ReturnType<typeof buildRiskReportContent>>;

export const contentSha256 = (content: unknown) => createHash('sha256').update(canonicalJson(content)).digest('hex');
