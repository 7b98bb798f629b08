/**
 * Risk information reporting (风险信息报告, finance §5.5; control effectiveness,
 * e-commerce §8.1): the figures of the control-effectiveness report, each with
 * its bilingual label and how it is computed, so a reader (or a regulator) can
 * recompute it from the register. Pure: the API reads the rows, this module
 * turns them into figures.
 */
import { DEFAULT_POLICY } from '../domain/policy';
import { RISK_LEVELS, riskLevelFromMatrix, type MatrixCutoffs, type RiskLevel } from '../domain/risk';
import { aboveAppetite, RISK_CATEGORIES, type RiskCategory } from '../domain/riskRegister';
import { periodJustEnded } from '../domain/riskReporting';
import { defineProcess, SHARED_STAGES } from './core';

export interface Label {
  en: string;
  zh: string;
}

/** One register row as the report needs it: its category and residual rating. */
export interface RegisterRisk {
  category: RiskCategory;
  residualProbability: number;
  residualImpact: number;
}

/** One control linked to a risk, with the result of its latest test (not_tested when never tested). */
export interface RegisterControl {
  category: RiskCategory;
  lastResult: 'effective' | 'partially_effective' | 'ineffective' | 'not_tested';
}

export interface ControlEffectivenessRows {
  risks: RegisterRisk[];
  controls: RegisterControl[];
  /** Incident cases opened in the period. */
  incidentsOpened: number;
  periodDays: number;
  cutoffs: MatrixCutoffs;
  appetite: Record<RiskCategory, number>;
}

export const FIGURE_LABELS = {
  riskLevel: { en: 'Risk level', zh: '风险水平' },
  aboveAppetite: { en: 'Share of risks above appetite', zh: '超出风险偏好的风险占比' },
  controlCoverage: { en: 'Control coverage', zh: '控制覆盖率' },
  incidenceRate: { en: 'Incidence rate', zh: '事件发生率' },
} as const satisfies Record<string, Label>;

export const FIGURE_METHODS = {
  riskLevel:
    'Distribution of the residual levels of every risk in the register: residual probability × impact, ' +
    'graded by the matrix cut-offs (policy risk.mediumFrom / risk.highFrom); the level shown is the highest present, low when the register is empty.',
  aboveAppetite:
    'Risks whose residual score (probability × impact) exceeds the appetite of their category (policy riskRegister.appetite) ÷ all risks in the register; 0 when the register is empty.',
  controlCoverage:
    'Controls whose latest test result is effective ÷ controls required (every control linked to a risk in the register); ' +
    'partially effective, ineffective and never-tested controls do not count; null when no control is required.',
  incidenceRate:
    'Incident cases opened in the period (created at or after its start); also given per 30 days so periods of different length compare.',
} as const;

const round2 = (n: number) => Math.round(n * 100) / 100;

export interface CategoryRow {
  category: RiskCategory;
  risks: number;
  low: number;
  medium: number;
  high: number;
  aboveAppetite: number;
  appetite: number;
  controlsRequired: number;
  controlsEffective: number;
}

export interface ControlEffectivenessFigures {
  riskLevel: {
    label: Label;
    method: string;
    value: RiskLevel;
    total: number;
    distribution: Record<RiskLevel, number>;
  };
  aboveAppetite: { label: Label; method: string; value: number; count: number; total: number };
  controlCoverage: {
    label: Label;
    method: string;
    value: number | null;
    effective: number;
    required: number;
    byResult: Record<RegisterControl['lastResult'], number>;
  };
  incidenceRate: { label: Label; method: string; value: number; periodDays: number; per30Days: number };
  byCategory: CategoryRow[];
}

export function controlEffectivenessFigures(rows: ControlEffectivenessRows): ControlEffectivenessFigures {
  const { risks, controls, incidentsOpened, periodDays, cutoffs, appetite } = rows;
  if (!Number.isInteger(incidentsOpened) || incidentsOpened < 0)
    throw new RangeError(`incidentsOpened must be a whole number ≥ 0, got ${incidentsOpened}`);
  if (!Number.isInteger(periodDays) || periodDays <= 0)
    throw new RangeError(`periodDays must be a whole number > 0, got ${periodDays}`);
  const distribution: Record<RiskLevel, number> = { low: 0, medium: 0, high: 0 };
  const byCategory = new Map<RiskCategory, CategoryRow>(
    RISK_CATEGORIES.map((category) => [
      category,
      {
        category,
        risks: 0,
        low: 0,
        medium: 0,
        high: 0,
        aboveAppetite: 0,
        appetite: appetite[category],
        controlsRequired: 0,
        controlsEffective: 0,
      },
    ]),
  );
  let above = 0;
  for (const r of risks) {
    const level = riskLevelFromMatrix(r.residualProbability, r.residualImpact, cutoffs);
    const row = byCategory.get(r.category);
    if (!row) throw new RangeError(`unknown risk category ${JSON.stringify(r.category)}`);
    distribution[level]++;
    row.risks++;
    row[level]++;
    if (aboveAppetite(r.category, { probability: r.residualProbability, impact: r.residualImpact }, appetite)) {
      above++;
      row.aboveAppetite++;
    }
  }
  const byResult: Record<RegisterControl['lastResult'], number> = {
    effective: 0,
    partially_effective: 0,
    ineffective: 0,
    not_tested: 0,
  };
  for (const c of controls) {
    byResult[c.lastResult]++;
    const row = byCategory.get(c.category);
    if (!row) throw new RangeError(`unknown risk category ${JSON.stringify(c.category)}`);
    row.controlsRequired++;
    if (c.lastResult === 'effective') row.controlsEffective++;
  }
  const highest = [...RISK_LEVELS].reverse().find((l) => distribution[l] > 0) ?? 'low';
  return {
    riskLevel: {
      label: FIGURE_LABELS.riskLevel,
      method: FIGURE_METHODS.riskLevel,
      value: highest,
      total: risks.length,
      distribution,
    },
    aboveAppetite: {
      label: FIGURE_LABELS.aboveAppetite,
      method: FIGURE_METHODS.aboveAppetite,
      value: risks.length === 0 ? 0 : round2(above / risks.length),
      count: above,
      total: risks.length,
    },
    controlCoverage: {
      label: FIGURE_LABELS.controlCoverage,
      method: FIGURE_METHODS.controlCoverage,
      value: controls.length === 0 ? null : round2(byResult.effective / controls.length),
      effective: byResult.effective,
      required: controls.length,
      byResult,
    },
    incidenceRate: {
      label: FIGURE_LABELS.incidenceRate,
      method: FIGURE_METHODS.incidenceRate,
      value: incidentsOpened,
      periodDays,
      per30Days: round2((incidentsOpened / periodDays) * 30),
    },
    byCategory: [...byCategory.values()].filter((r) => r.risks > 0 || r.controlsRequired > 0),
  };
}

/** RFC 4180 CSV: every field quoted when it holds a comma, quote or line break. */
export function toCsv(headers: string[], rows: unknown[][]): string {
  const cell = (v: unknown) => {
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [headers, ...rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}

// ---------------------------------------------------------------------------
// Periodic risk reports for management and for regulators (finance §5.5)

export const RISK_REPORT_PROCESS = 'risk_report';
export const RISK_REPORT_AUDIENCES = ['management', 'regulator'] as const;
export type RiskReportAudience = (typeof RISK_REPORT_AUDIENCES)[number];
export const RISK_REPORT_AUDIENCE_LABELS: Record<RiskReportAudience, Label> = {
  management: { en: 'Risk report to management', zh: '向管理层的风险报告' },
  regulator: { en: 'Risk report to the regulator', zh: '向监管机构的风险报告' },
};

/** Who prepares a report (the risk function) and who releases it (compliance; never the preparer). */
export const RISK_REPORT_PREPARER_ROLES = ['risk'] as const;
export const RISK_REPORT_RELEASER_ROLES = ['compliance'] as const;
/** Who may read a report, draft or released: everyone but action owners. */
export const RISK_REPORT_READER_ROLES = [
  'manager',
  'risk',
  'compliance',
  'legal',
  'internal_audit',
  'auditor',
  'admin',
] as const;

export const RISK_REPORT_STAGE = {
  awaitingApproval: SHARED_STAGES.awaitingApproval,
  closed: SHARED_STAGES.closed,
} as const;

/** A calendar month (2026-10), quarter (2026-Q3) or year (2026), in UTC. */
export const PERIOD_PATTERN = /^(20\d\d)(?:-(0[1-9]|1[0-2])|-Q([1-4]))?$/;

export function periodBounds(period: string): { start: Date; end: Date } | undefined {
  const m = PERIOD_PATTERN.exec(period);
  if (!m) return undefined;
  const year = Number(m[1]);
  if (m[2])
    return { start: new Date(Date.UTC(year, Number(m[2]) - 1, 1)), end: new Date(Date.UTC(year, Number(m[2]), 1)) };
  if (m[3]) {
    const q = Number(m[3]);
    return { start: new Date(Date.UTC(year, (q - 1) * 3, 1)), end: new Date(Date.UTC(year, q * 3, 1)) };
  }
  return { start: new Date(Date.UTC(year, 0, 1)), end: new Date(Date.UTC(year + 1, 0, 1)) };
}

/** Refusals of POST /api/risk-reports, besides 400/403. */
export const RISK_REPORT_REFUSALS = {
  /** A report is of a period that has begun: a future period has nothing to report. */
  PERIOD_NOT_STARTED: 'unprocessable',
  /** The report of this audience and period exists (prepared, released or refused). */
  REPORT_EXISTS: 'conflict',
} as const;

export const riskReportKey = (audience: RiskReportAudience, period: string) => `${audience}:${period}`;

export const riskReportContract = defineProcess({
  process: RISK_REPORT_PROCESS,
  stages: [RISK_REPORT_STAGE.awaitingApproval, RISK_REPORT_STAGE.closed] as const,
  keyPattern: /^(management|regulator):20\d\d(-(0[1-9]|1[0-2])|-Q[1-4])?$/,
  caseId: (key: string) => `risk-report:${key}`,
  // The one human step is the release approval, a shared task step (contracts/tasks.ts).
  steps: {},
});

/**
 * The JSON the content hash is taken over: keys sorted at every depth, so the
 * hash does not depend on how PostgreSQL's jsonb orders the keys it returns.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * The period just ended at `now` (UTC) at the audience's frequency under the
 * default policy (riskReports.frequency: management monthly, the regulator
 * quarterly). The launcher reads the policy in force instead
 * (domain/riskReporting.ts, periodJustEnded).
 */
export function previousPeriod(audience: RiskReportAudience, now: Date): string {
  return periodJustEnded(DEFAULT_POLICY.riskReports.frequency[audience], now);
}
