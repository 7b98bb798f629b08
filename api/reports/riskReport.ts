/**
 * The control-effectiveness report (控制有效性, e-commerce §8.1; risk information
 * reporting, finance §5.5): its figures read from the risk register, its
 * controls' latest tests and the incidents opened in the period, as JSON, a
 * printable page and CSV.
 */
import { eq, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { platformKpis } from '../../db/kpis';
import { cases, tasks } from '../../db/schema';
import { readRegisterFigures, type RiskReportContent } from '../../db/riskReports';
import { PLATFORM_KPIS } from '../../domain/pdca';
import { FIGURE_LABELS, toCsv, type ControlEffectivenessFigures } from '../../contracts/riskReport';
import { currentPolicy } from '../../platform/policy';
import { esc, heading, page, table } from './html';

export type ControlEffectivenessReport = Awaited<ReturnType<typeof loadControlEffectiveness>>;

export async function loadControlEffectiveness(db: Database, periodDays: number, now = new Date()) {
  const since = new Date(now.getTime() - periodDays * 86_400_000);
  const policy = await currentPolicy(db);
  const [figures, items, cycles, kpis] = await Promise.all([
    readRegisterFigures(db, since, now, policy),
    db
      .select({
        total: sql<number>`count(*)::int`,
        verified: sql<number>`count(*) filter (where ${tasks.status} = 'done')::int`,
        open: sql<number>`count(*) filter (where ${tasks.status} <> 'done')::int`,
        overdue: sql<number>`count(*) filter (where ${tasks.status} <> 'done' and ${tasks.dueAt} < ${now})::int`,
      })
      .from(tasks)
      .where(eq(tasks.kind, 'rectification')),
    db
      .select({ status: cases.status, outcome: cases.outcome, n: sql<number>`count(*)::int` })
      .from(cases)
      .where(eq(cases.process, 'pdca'))
      .groupBy(cases.status, cases.outcome),
    platformKpis(db, [...PLATFORM_KPIS], now),
  ]);
  const rectificationItems = items[0] ?? { total: 0, verified: 0, open: 0, overdue: 0 };
  return {
    periodDays,
    from: since.toISOString(),
    to: now.toISOString(),
    generatedAt: now.toISOString(),
    policyVersion: policy.version,
    figures,
    // The headline figures, flat, as before (the figures above say how each is computed).
    riskLevel: figures.riskLevel.value,
    highRisks: figures.riskLevel.distribution.high,
    coverage: figures.controlCoverage.value,
    incidenceRate: figures.incidenceRate.per30Days,
    overdueRate:
      rectificationItems.open === 0
        ? 0
        : Math.round((rectificationItems.overdue / rectificationItems.open) * 100) / 100,
    rectificationItems,
    improvementCycles: cycles,
    platformKpis: kpis,
  };
}

const pct = (v: number | null) => (v === null ? '—' : `${Math.round(v * 100)}%`);

/** The figures as rows: what each is, its value, numerator and denominator, and how it is computed. */
export function figureRows(f: ControlEffectivenessFigures): unknown[][] {
  return [
    [
      'riskLevel',
      f.riskLevel.label.en,
      f.riskLevel.label.zh,
      f.riskLevel.value,
      `low ${f.riskLevel.distribution.low} / medium ${f.riskLevel.distribution.medium} / high ${f.riskLevel.distribution.high}`,
      f.riskLevel.total,
      f.riskLevel.method,
    ],
    [
      'aboveAppetite',
      f.aboveAppetite.label.en,
      f.aboveAppetite.label.zh,
      f.aboveAppetite.value,
      f.aboveAppetite.count,
      f.aboveAppetite.total,
      f.aboveAppetite.method,
    ],
    [
      'controlCoverage',
      f.controlCoverage.label.en,
      f.controlCoverage.label.zh,
      f.controlCoverage.value,
      f.controlCoverage.effective,
      f.controlCoverage.required,
      f.controlCoverage.method,
    ],
    [
      'incidenceRate',
      f.incidenceRate.label.en,
      f.incidenceRate.label.zh,
      f.incidenceRate.value,
      f.incidenceRate.value,
      `${f.incidenceRate.periodDays} days`,
      f.incidenceRate.method,
    ],
  ];
}

export const FIGURE_CSV_HEADERS = ['figure', 'label_en', 'label_zh', 'value', 'numerator', 'denominator', 'method'];

export function controlEffectivenessCsv(r: ControlEffectivenessReport): string {
  return toCsv(FIGURE_CSV_HEADERS, figureRows(r.figures));
}

export function controlEffectivenessHtml(r: ControlEffectivenessReport): string {
  const f = r.figures;
  const body = [
    heading('Figures', '指标'),
    table(
      ['Figure', '指标', 'Value', 'How it is computed'],
      [
        [FIGURE_LABELS.riskLevel.en, FIGURE_LABELS.riskLevel.zh, f.riskLevel.value, f.riskLevel.method],
        [
          FIGURE_LABELS.aboveAppetite.en,
          FIGURE_LABELS.aboveAppetite.zh,
          pct(f.aboveAppetite.value),
          f.aboveAppetite.method,
        ],
        [
          FIGURE_LABELS.controlCoverage.en,
          FIGURE_LABELS.controlCoverage.zh,
          `${pct(f.controlCoverage.value)} (${f.controlCoverage.effective} / ${f.controlCoverage.required})`,
          f.controlCoverage.method,
        ],
        [
          FIGURE_LABELS.incidenceRate.en,
          FIGURE_LABELS.incidenceRate.zh,
          `${f.incidenceRate.value} in ${f.incidenceRate.periodDays} days (${f.incidenceRate.per30Days} per 30 days)`,
          f.incidenceRate.method,
        ],
      ],
    ),
    heading('Residual risk by category', '按类别的剩余风险'),
    table(
      ['Category', 'Risks', 'Low', 'Medium', 'High', 'Above appetite', 'Appetite', 'Controls effective / required'],
      f.byCategory.map((c) => [
        c.category,
        c.risks,
        c.low,
        c.medium,
        c.high,
        c.aboveAppetite,
        c.appetite,
        `${c.controlsEffective} / ${c.controlsRequired}`,
      ]),
    ),
    heading('Rectification items', '整改项'),
    table(
      ['Total', 'Verified', 'Open', 'Overdue', 'Overdue share'],
      [
        [
          r.rectificationItems.total,
          r.rectificationItems.verified,
          r.rectificationItems.open,
          r.rectificationItems.overdue,
          pct(r.overdueRate),
        ],
      ],
    ),
    heading('Improvement cycles', '持续改进'),
    table(
      ['Status', 'Outcome', 'Count'],
      r.improvementCycles.map((x) => [x.status, x.outcome, x.n]),
    ),
    heading('Platform KPIs', '平台指标'),
    table(
      ['KPI', 'Value'],
      Object.entries(r.platformKpis).map(([k, v]) => [k, v]),
    ),
    `<p>Period: last ${esc(r.periodDays)} days (${esc(r.from)} – ${esc(r.to)}) · policy version ${esc(r.policyVersion)} · generated ${esc(r.generatedAt)}</p>`,
  ].join('\n');
  return page('Control-effectiveness report · 控制有效性报告', `Last ${r.periodDays} days`, body);
}

// ---------------------------------------------------------------------------
// Periodic risk reports (finance §5.5): the stored document as a page and as CSV

export interface RiskReportDocument {
  caseId: string;
  audience: string;
  period: string;
  status: string;
  sha256: string;
  preparedBy: string;
  preparedAt: string;
  releasedBy: string[];
  releasedAt: string | null;
  content: Record<string, unknown>;
}

type Content = RiskReportContent;

/** Every table of the report in one long CSV: section, item, measure, value. */
export function riskReportRows(c: Content): unknown[][] {
  const rows: unknown[][] = [];
  for (const [level, n] of Object.entries(c.riskProfile.levels.distribution))
    rows.push(['risk_profile', 'all', level, n]);
  rows.push(['risk_profile', 'all', 'above_appetite', c.riskProfile.aboveAppetite.count]);
  for (const cat of c.riskProfile.byCategory) {
    for (const measure of ['risks', 'low', 'medium', 'high', 'aboveAppetite', 'appetite'] as const)
      rows.push(['risk_profile', cat.category, measure, cat[measure]]);
  }
  rows.push(['control_coverage', 'all', 'effective', c.controlCoverage.effective]);
  rows.push(['control_coverage', 'all', 'required', c.controlCoverage.required]);
  rows.push(['control_coverage', 'all', 'coverage', c.controlCoverage.value]);
  for (const [level, n] of Object.entries(c.warnings.byLevel)) rows.push(['warnings', level, 'count', n]);
  for (const [grade, n] of Object.entries(c.incidents.byGrade)) rows.push(['incidents', grade, 'count', n]);
  rows.push(['audit_findings', 'open', 'count', c.auditFindings.open]);
  rows.push(['audit_findings', 'closed', 'count', c.auditFindings.closed]);
  rows.push(['overdue_treatments', 'all', 'count', c.overdueTreatments.count]);
  for (const [kpi, v] of Object.entries(c.kpis)) rows.push(['kpis', kpi, 'value', v]);
  return rows;
}

export const riskReportCsv = (r: RiskReportDocument) =>
  toCsv(['section', 'item', 'measure', 'value'], riskReportRows(r.content as unknown as Content));

export function riskReportHtml(r: RiskReportDocument): string {
  const c = r.content as unknown as Content;
  const body = [
    r.status === 'released'
      ? `<p>Released by ${esc(r.releasedBy.join(', '))} at ${esc(r.releasedAt)} · SHA-256 <code>${esc(r.sha256)}</code></p>`
      : `<p><strong>${esc(r.status.replace(/_/g, ' ').toUpperCase())}</strong>: not released · SHA-256 <code>${esc(r.sha256)}</code></p>`,
    heading('Risk profile', '风险状况'),
    table(
      ['Category', 'Risks', 'Low', 'Medium', 'High', 'Above appetite', 'Appetite'],
      c.riskProfile.byCategory.map((x) => [x.category, x.risks, x.low, x.medium, x.high, x.aboveAppetite, x.appetite]),
    ),
    `<p>${esc(c.riskProfile.aboveAppetite.label.en)} · ${esc(c.riskProfile.aboveAppetite.label.zh)}: ${esc(pct(c.riskProfile.aboveAppetite.value))} (${esc(c.riskProfile.aboveAppetite.count)} / ${esc(c.riskProfile.aboveAppetite.total)})</p>`,
    `<p>${esc(c.controlCoverage.label.en)} · ${esc(c.controlCoverage.label.zh)}: ${esc(pct(c.controlCoverage.value))} (${esc(c.controlCoverage.effective)} / ${esc(c.controlCoverage.required)})</p>`,
    heading('Risk warnings in the period', '本期风险预警'),
    table(
      ['Level', 'Count'],
      Object.entries(c.warnings.byLevel).map(([k, v]) => [k, v]),
    ),
    heading('Incidents in the period', '本期风险事件'),
    table(
      ['Grade', 'Count'],
      Object.entries(c.incidents.byGrade).map(([k, v]) => [k, v]),
    ),
    heading('Audit findings raised in the period', '本期审计发现'),
    table(['Open', 'Closed'], [[c.auditFindings.open, c.auditFindings.closed]]),
    heading('Overdue treatments', '逾期整改'),
    table(
      ['Item', 'Case', 'Title', 'Due'],
      c.overdueTreatments.items.map((o) => [o.taskId, o.caseId, o.title, o.dueAt]),
    ),
    heading('KPIs', '关键指标'),
    table(
      ['KPI', 'Value'],
      Object.entries(c.kpis).map(([k, v]) => [k, v]),
    ),
    `<p>Period ${esc(c.period)} (${esc(c.periodStart)} – ${esc(c.periodEnd)}) · prepared by ${esc(r.preparedBy)} at ${esc(r.preparedAt)} · policy version ${esc(c.policyVersion)}</p>`,
  ].join('\n');
  return page(`${c.title.en} · ${c.title.zh}`, c.period, body);
}
