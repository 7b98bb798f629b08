/**
 * PDCA improvement cycle (持续改进, 计划-执行-检查-处理), DOMAIN.md §2, and the
 * control effectiveness report (内部控制有效性), DOMAIN.md §6.
 *
 * A cycle starts from an audit finding, incident review, drill finding,
 * supplier appraisal or KPI gap. Plan sets measurable targets (KPI and target
 * value), actions and owners, and is approved before Do. Check measures the
 * results against the targets. Act standardises what worked and closes, or
 * opens the next cycle with what did not; an effectiveness window afterwards
 * reopens the cycle if a KPI slips back.
 *
 * Pure rules only: no I/O and no clock, so this runs inside workflows.
 */
import type { PdcaStage } from '../contracts/pdca';
import { durationProblem } from './durations';
import { barredFrom, type BarredApprover } from './drills';
import { DEFAULT_POLICY } from './policy';
import { RISK_LEVELS, type RiskLevel } from './risk';

type Label = { en: string; zh: string };

export const PDCA_SOURCES = [
  'audit_finding',
  'incident_review',
  'drill_finding',
  'supplier_appraisal',
  'kpi_gap',
] as const;
export type PdcaSource = (typeof PDCA_SOURCES)[number];

/** The stages are the contract's (contracts/pdca.ts); these are their names in the handbook's two languages. */
export const PDCA_LABELS: {
  source: Record<PdcaSource, Label>;
  stage: Record<PdcaStage, Label>;
} = {
  source: {
    audit_finding: { en: 'Audit finding', zh: '审计发现' },
    incident_review: { en: 'Incident review', zh: '事件复盘' },
    drill_finding: { en: 'Drill finding', zh: '演练发现问题' },
    supplier_appraisal: { en: 'Supplier appraisal', zh: '供应商考核' },
    kpi_gap: { en: 'KPI gap', zh: '指标差距' },
  },
  stage: {
    plan: { en: 'Plan', zh: '计划' },
    // The plan's approval before Do, and the independent verification of the Check result.
    awaiting_approval: { en: 'Awaiting approval', zh: '待审批' },
    do: { en: 'Do', zh: '执行' },
    check: { en: 'Check', zh: '检查' },
    act: { en: 'Act', zh: '处理' },
    effectiveness_watch: { en: 'Effectiveness watch', zh: '效果跟踪' },
    closed: { en: 'Closed', zh: '已关闭' },
  },
};

// ---------------------------------------------------------------------------
// Plan: targets and actions

/** KPIs the platform computes itself from its own records; others are entered by the owner. */
export const PLATFORM_KPIS = [
  'overdue_rectification_rate',
  'sla_breaches',
  'severe_incidents',
  'incidents_total',
] as const;
export type PlatformKpi = (typeof PLATFORM_KPIS)[number];

export type KpiDirection = 'increase' | 'decrease';
export const KPI_DIRECTIONS = ['increase', 'decrease'] as const;

export interface Kpi {
  key: string;
  name: string;
  unit?: string;
  baseline: number;
  target: number;
  direction: KpiDirection;
}

export const MAX_KPIS = 20;
export const MAX_ACTIONS = 30;
export const KPI_KEY_PATTERN = /^[a-z][a-z0-9_]{0,49}$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isBlank(v: unknown): boolean {
  return typeof v !== 'string' || v.trim() === '';
}

/**
 * Null when the KPIs are a usable set of measurable targets; otherwise why
 * not. A target that is not an improvement over the baseline in the stated
 * direction is refused: a plan must aim to change something, and Check could
 * not measure progress towards a target the baseline already sits on.
 */
export function kpisProblem(kpis: unknown): string | null {
  if (!Array.isArray(kpis) || kpis.length < 1 || kpis.length > MAX_KPIS) {
    return `a plan needs from 1 to ${MAX_KPIS} KPIs`;
  }
  const seen = new Set<string>();
  for (const [i, kpi] of kpis.entries()) {
    if (!isRecord(kpi)) return `KPI ${i + 1} must be an object`;
    const { key, name, unit, baseline, target, direction } = kpi;
    if (typeof key !== 'string' || !KPI_KEY_PATTERN.test(key)) {
      return `KPI ${i + 1} key ${JSON.stringify(key)} must be lower case letters, digits and _, starting with a letter, at most 50 characters`;
    }
    if (seen.has(key)) return `KPI key "${key}" is used twice`;
    seen.add(key);
    if (isBlank(name)) return `KPI "${key}" needs a name`;
    if (unit !== undefined && typeof unit !== 'string') return `KPI "${key}" unit must be text`;
    for (const [field, v] of [
      ['baseline', baseline],
      ['target', target],
    ] as const) {
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        return `KPI "${key}" ${field} must be a finite number, got ${JSON.stringify(v)}`;
      }
    }
    if (!(KPI_DIRECTIONS as readonly unknown[]).includes(direction)) {
      return `KPI "${key}" direction must be increase or decrease, got ${JSON.stringify(direction)}`;
    }
    const b = baseline as number;
    const t = target as number;
    if (direction === 'increase' && !(t > b)) {
      return `KPI "${key}" target ${t} must be above its baseline ${b} to increase`;
    }
    if (direction === 'decrease' && !(t < b)) {
      return `KPI "${key}" target ${t} must be below its baseline ${b} to decrease`;
    }
  }
  return null;
}

export interface PlanAction {
  title: string;
  ownerId: string;
  /** How long after Do starts the action is due, e.g. "30d". */
  dueIn?: string;
}

/** Null when every action has a title and an owner (and a valid due period if given). */
export function actionsProblem(actions: unknown): string | null {
  if (!Array.isArray(actions) || actions.length < 1 || actions.length > MAX_ACTIONS) {
    return `a plan needs from 1 to ${MAX_ACTIONS} actions`;
  }
  for (const [i, action] of actions.entries()) {
    if (!isRecord(action)) return `action ${i + 1} must be an object`;
    if (isBlank(action.title)) return `action ${i + 1} needs a title`;
    if (isBlank(action.ownerId)) return `action ${i + 1} needs an owner`;
    if (action.dueIn !== undefined) {
      if (typeof action.dueIn !== 'string') return `action ${i + 1} due period must be text like 30d`;
      const problem = durationProblem(action.dueIn);
      if (problem) return `action ${i + 1}: ${problem}`;
    }
  }
  return null;
}

// ---------------------------------------------------------------------------
// Check: results against targets

export interface KpiResult {
  key: string;
  name: string;
  unit?: string;
  baseline: number;
  target: number;
  actual: number;
  direction: KpiDirection;
  met: boolean;
  /** How far the actual is from the target, ≥ 0, 0 when met. */
  gap: number;
  /** Share of the baseline→target distance achieved; <0 when worse than the baseline, >1 when beyond the target. 2 decimals. */
  progress: number;
}

const round2 = (x: number): number => Math.round(x * 100) / 100;
/** Strips binary floating-point noise (0.30000000000000004) without hiding real differences. */
const clean = (x: number): number => Math.round(x * 1e9) / 1e9;

function meets(direction: KpiDirection, value: number, target: number): boolean {
  return direction === 'increase' ? value >= target : value <= target;
}

function assertActual(key: string, v: unknown): asserts v is number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new RangeError(`the value for KPI "${key}" must be a finite number, got ${JSON.stringify(v)}`);
  }
}

/**
 * Measures the actuals against the plan's targets. Reaching the target
 * exactly counts as met. A KPI with no actual is listed as missing and the
 * cycle cannot pass: an unmeasured target is not a met one.
 */
export function checkKpis(
  kpis: Kpi[],
  actuals: Record<string, number>,
): { results: KpiResult[]; allMet: boolean; missing: string[] } {
  const problem = kpisProblem(kpis);
  if (problem) throw new RangeError(problem);
  const results: KpiResult[] = [];
  const missing: string[] = [];
  for (const kpi of kpis) {
    if (!Object.prototype.hasOwnProperty.call(actuals, kpi.key) || actuals[kpi.key] === undefined) {
      missing.push(kpi.key);
      continue;
    }
    const actual = actuals[kpi.key];
    assertActual(kpi.key, actual);
    const met = meets(kpi.direction, actual, kpi.target);
    const shortfall = kpi.direction === 'increase' ? kpi.target - actual : actual - kpi.target;
    results.push({
      key: kpi.key,
      name: kpi.name,
      ...(kpi.unit !== undefined ? { unit: kpi.unit } : {}),
      baseline: kpi.baseline,
      target: kpi.target,
      actual,
      direction: kpi.direction,
      met,
      gap: met ? 0 : clean(shortfall),
      // Sign-safe for both directions: target ≠ baseline is guaranteed above.
      progress: round2((actual - kpi.baseline) / (kpi.target - kpi.baseline)),
    });
  }
  return { results, allMet: missing.length === 0 && results.every((r) => r.met), missing };
}

// ---------------------------------------------------------------------------
// Act: standardise, or carry the gaps into the next cycle

/**
 * Act: met → standardise and close; not met → the next cycle carries the
 * gaps over as its KPIs (baseline = actual, same target). Only unmet KPIs
 * are carried: what worked is standardised, not re-planned.
 */
export function carryOverKpis(results: KpiResult[]): Kpi[] {
  return results
    .filter((r) => !r.met)
    .map((r) => ({
      key: r.key,
      name: r.name,
      ...(r.unit !== undefined ? { unit: r.unit } : {}),
      baseline: r.actual,
      target: r.target,
      direction: r.direction,
    }));
}

/**
 * After this many failed cycles on the same finding, the next one goes to
 * management: policy version 1's `pdca.escalateAfterCycles` (not in the
 * handbooks; compliance may change it).
 */
export const DEFAULT_ESCALATE_AFTER_CYCLES = DEFAULT_POLICY.pdca.escalateAfterCycles;

/**
 * Cycle numbers start at 1. Escalate when cycle > escalateAfterCycles, i.e.
 * when the (N+1)-th cycle is opened after N cycles failed to close the gap:
 * repeating the same plan owner's loop forever would hide a control that
 * does not work.
 */
export function shouldEscalate(cycle: number, escalateAfterCycles: number = DEFAULT_ESCALATE_AFTER_CYCLES): boolean {
  if (!Number.isInteger(cycle) || cycle < 1) {
    throw new RangeError(`cycle must be an integer from 1, got ${cycle}`);
  }
  if (!Number.isInteger(escalateAfterCycles) || escalateAfterCycles < 1) {
    throw new RangeError(`escalateAfterCycles must be an integer from 1, got ${escalateAfterCycles}`);
  }
  return cycle > escalateAfterCycles;
}

/**
 * Effectiveness window: a later check reopens the cycle if a KPI has slipped
 * back. Only KPIs that were met can slip; unmet ones were already carried
 * over. A met KPI without a recheck value is not counted as slipped (nothing
 * was measured), so callers that require every KPI rechecked must check that
 * themselves.
 */
export function regressed(
  results: KpiResult[],
  recheck: Record<string, number>,
): { regressed: boolean; slipped: string[] } {
  const slipped: string[] = [];
  for (const r of results) {
    if (!r.met) continue;
    if (!Object.prototype.hasOwnProperty.call(recheck, r.key) || recheck[r.key] === undefined) continue;
    const value = recheck[r.key];
    assertActual(r.key, value);
    if (!meets(r.direction, value, r.target)) slipped.push(r.key);
  }
  return { regressed: slipped.length > 0, slipped };
}

// ---------------------------------------------------------------------------
// Segregation of duties: who may not approve the plan or verify the results
// (the same rule as the drills', domain/drills.ts `barredFrom`)

/** The plan is approved before Do by none of: the cycle's owner, whoever opened it, whoever planned it. */
export function pdcaPlanApprovalBarred(parts: {
  ownerId: string;
  initiatorId: string;
  plannedBy: readonly string[];
}): BarredApprover[] {
  return barredFrom([
    [parts.ownerId, 'owns the cycle'],
    [parts.initiatorId, 'opened the cycle'],
    ...parts.plannedBy.map((userId): [string, string] => [userId, 'planned it']),
  ]);
}

/**
 * Check's independent review (DOMAIN.md §2) is by none of: the cycle's
 * owner, whoever opened it, planned it, did its actions (their owners) or
 * entered the KPI values it judges.
 */
export function pdcaVerificationBarred(parts: {
  ownerId: string;
  initiatorId: string;
  plannedBy: readonly string[];
  actionOwners: readonly string[];
  measuredBy: readonly string[];
}): BarredApprover[] {
  return barredFrom([
    [parts.ownerId, 'owns the cycle'],
    [parts.initiatorId, 'opened the cycle'],
    ...parts.plannedBy.map((userId): [string, string] => [userId, 'planned it']),
    ...parts.actionOwners.map((userId): [string, string] => [userId, 'owns one of its actions']),
    ...parts.measuredBy.map((userId): [string, string] => [userId, 'entered the KPI values']),
  ]);
}

// ---------------------------------------------------------------------------
// Control effectiveness report (DOMAIN.md §6: risk level, control coverage, incidence rate)

export interface ControlEffectivenessInput {
  risks: Array<{ level: RiskLevel }>;
  controlsTotal: number;
  controlsEffective: number;
  incidents: number;
  periodDays: number;
  rectificationOpen: number;
  rectificationOverdue: number;
}

export interface ControlEffectiveness {
  /** The highest level among the risks; low when there are none. */
  riskLevel: RiskLevel;
  /** Effective controls / total controls, 0..1, 2 decimals; 1 when there are no controls. */
  coverage: number;
  /** Incidents per 30 days, 2 decimals, so periods of different length compare. */
  incidenceRate: number;
  /** Overdue / open rectification items, 0 when none are open, 2 decimals. */
  overdueRate: number;
  highRisks: number;
}

/**
 * The figures of the control effectiveness report. Coverage is 1 with no
 * controls because nothing in scope is uncovered; the risk level still shows
 * whether that scope is empty for a good reason.
 */
export function controlEffectiveness(input: ControlEffectivenessInput): ControlEffectiveness {
  const { risks, controlsTotal, controlsEffective, incidents, periodDays, rectificationOpen, rectificationOverdue } =
    input;
  if (!Array.isArray(risks)) throw new RangeError('risks must be a list');
  for (const [name, v] of [
    ['controlsTotal', controlsTotal],
    ['controlsEffective', controlsEffective],
    ['incidents', incidents],
    ['rectificationOpen', rectificationOpen],
    ['rectificationOverdue', rectificationOverdue],
  ] as const) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`${name} must be a whole number ≥ 0, got ${v}`);
  }
  if (typeof periodDays !== 'number' || !Number.isFinite(periodDays) || periodDays <= 0) {
    throw new RangeError(`periodDays must be a positive number, got ${periodDays}`);
  }
  if (controlsEffective > controlsTotal) {
    throw new RangeError(`controlsEffective ${controlsEffective} exceeds controlsTotal ${controlsTotal}`);
  }
  if (rectificationOverdue > rectificationOpen) {
    throw new RangeError(`rectificationOverdue ${rectificationOverdue} exceeds rectificationOpen ${rectificationOpen}`);
  }
  let rank = 0;
  let highRisks = 0;
  for (const [i, risk] of risks.entries()) {
    const r = RISK_LEVELS.indexOf(risk?.level);
    if (r < 0)
      throw new RangeError(`risk ${i + 1} level must be low, medium or high, got ${JSON.stringify(risk?.level)}`);
    rank = Math.max(rank, r);
    if (risk.level === 'high') highRisks++;
  }
  return {
    riskLevel: RISK_LEVELS[rank] ?? 'low',
    coverage: controlsTotal === 0 ? 1 : round2(controlsEffective / controlsTotal),
    incidenceRate: round2((incidents / periodDays) * 30),
    overdueRate: rectificationOpen === 0 ? 0 : round2(rectificationOverdue / rectificationOpen),
    highRisks,
  };
}
