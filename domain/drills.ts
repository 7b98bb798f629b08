/**
 * Emergency drill follow-up (应急演练), DOMAIN.md §4.
 *
 * Every active emergency plan (应急预案) is drilled in full at least once a
 * year. The drill's four modules are scored against the evaluation standard
 * (评估标准); problems found become rectification items tracked to closure; a
 * drill summary report (应急演练总结报告) states problems, lessons and changes
 * to the plan; and plans are revised at least every three years, keeping a
 * version history (预案版本管理).
 *
 * Pure rules only: times come in as arguments, so this runs inside workflows.
 */
import type { StepTimings } from './deadlines';
import { DEFAULT_POLICY, type PolicyValues } from './policy';
import { addCalendarMonthsUtc } from './supplierReview';

type Label = { en: string; zh: string };

export const PLAN_TYPES = [
  'natural_disaster',
  'network_security',
  'data_leak',
  'system_failure',
  'public_opinion',
  'supply_disruption',
  'other',
] as const;
export type PlanType = (typeof PLAN_TYPES)[number];

/**
 * What a plan may override of its deadlines (drills of the process itself,
 * tests): the revision interval and its reminder lead, and the ladder of a
 * revision's draft (domain/deadlines.ts PLAN_DRAFT_TIMINGS by default).
 */
export interface PlanTimings {
  revisionInterval?: string;
  revisionRemindBefore?: string;
  draft?: Partial<StepTimings>;
}

/** A draft plan is not yet in force; a retired one is kept for the version history. */
export const PLAN_STATUSES = ['draft', 'active', 'retired'] as const;
export type PlanStatus = (typeof PLAN_STATUSES)[number];

/** 指挥, 信息通报, 资源调配, 舆情应对 */
export const DRILL_MODULES = [
  'command',
  'information_reporting',
  'resource_dispatch',
  'public_opinion_response',
] as const;
export type DrillModule = (typeof DRILL_MODULES)[number];

/** Labels of plan types and modules; a drill's stages and their labels are its contract's (contracts/drill.ts). */
export const DRILL_LABELS: {
  planType: Record<PlanType, Label>;
  module: Record<DrillModule, Label>;
} = {
  planType: {
    natural_disaster: { en: 'Natural disaster', zh: '自然灾害' },
    network_security: { en: 'Network security', zh: '网络安全' },
    data_leak: { en: 'Data leak', zh: '数据泄露' },
    system_failure: { en: 'System failure', zh: '系统故障' },
    public_opinion: { en: 'Public opinion', zh: '舆情事件' },
    supply_disruption: { en: 'Supply disruption', zh: '供应中断' },
    other: { en: 'Other', zh: '其他' },
  },
  module: {
    command: { en: 'Command', zh: '指挥' },
    information_reporting: { en: 'Information reporting', zh: '信息通报' },
    resource_dispatch: { en: 'Resource dispatch', zh: '资源调配' },
    public_opinion_response: { en: 'Public opinion response', zh: '舆情应对' },
  },
};

// ---------------------------------------------------------------------------
// Evaluation standard

/**
 * The evaluation standard: weight (sum 1) and pass mark (0–100) per module,
 * and the overall pass mark. The pass marks a drill is scored against are the
 * policy's (domain/policy.ts `drill`, owned by compliance); these are the
 * defaults of policy version 1. The weights are the product's own.
 *
 * Command weighs most and has the higher pass mark with information
 * reporting: without a working command structure (who decides, who is told)
 * no other module can be brought into play, and reporting late or to the
 * wrong people is what turns an incident into a regulatory breach. Resource
 * dispatch and public opinion response are scored lower because their gaps
 * can be closed by rectification items before the next drill. Weights are
 * whole percents, so the weighted score is exact in hundredths.
 */
const DEFAULT_MARKS = DEFAULT_POLICY.drill.modulePassMarks;
export const DRILL_STANDARD: {
  modules: Record<DrillModule, { weight: number; passMark: number }>;
  overallPassMark: number;
} = {
  modules: {
    command: { weight: 0.3, passMark: DEFAULT_MARKS.command },
    information_reporting: { weight: 0.25, passMark: DEFAULT_MARKS.information_reporting },
    resource_dispatch: { weight: 0.25, passMark: DEFAULT_MARKS.resource_dispatch },
    public_opinion_response: { weight: 0.2, passMark: DEFAULT_MARKS.public_opinion_response },
  },
  overallPassMark: DEFAULT_POLICY.drill.overallPassMark,
};

/** The pass marks a drill is scored against: the policy's `drill` section (its ladders are ignored here). */
export type DrillPassMarks = Pick<PolicyValues['drill'], 'overallPassMark' | 'modulePassMarks'>;

/** Each module scored as an integer from 0 to 100. */
export type DrillScores = Record<DrillModule, number>;

/** Null when the scores are complete and well-formed; otherwise why not. */
export function drillScoresProblem(scores: unknown): string | null {
  if (typeof scores !== 'object' || scores === null || Array.isArray(scores)) {
    return `drill scores must be an object with one score for each of ${DRILL_MODULES.join(', ')}`;
  }
  const record = scores as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!(DRILL_MODULES as readonly string[]).includes(key)) {
      return `"${key}" is not a drill module; the modules are ${DRILL_MODULES.join(', ')}`;
    }
  }
  for (const module of DRILL_MODULES) {
    const score = record[module];
    if (score === undefined) return `the ${module} score is missing`;
    if (typeof score !== 'number' || !Number.isInteger(score) || score < 0 || score > 100) {
      return `the ${module} score must be an integer from 0 to 100, got ${JSON.stringify(score)}`;
    }
  }
  return null;
}

export interface DrillEvaluation {
  /** Weighted score, 0..100, to one decimal (truncated, see evaluateDrill). */
  overall: number;
  /** The overall pass mark it was held to (the policy's); absent in drills evaluated before policies. */
  overallPassMark?: number;
  passed: boolean;
  failedModules: DrillModule[];
  modules: Array<{ module: DrillModule; score: number; passMark: number; passed: boolean }>;
}

/**
 * Scores a drill against the standard, with the policy's pass marks. It
 * passes only when the weighted overall score reaches the overall pass mark
 * AND no module is below its own pass mark: a good average must not hide a
 * command structure that failed. The overall score is truncated, not
 * rounded, to one decimal, so 69.95 shows as 69.9 and fails, and the figure
 * shown always agrees with the verdict.
 */
export function evaluateDrill(scores: DrillScores, passMarks: DrillPassMarks = DEFAULT_POLICY.drill): DrillEvaluation {
  const problem = drillScoresProblem(scores);
  if (problem) throw new RangeError(problem);

  // Summed in hundredths so float error cannot move a drill across the pass mark.
  let hundredths = 0;
  const modules: DrillEvaluation['modules'] = [];
  const failedModules: DrillModule[] = [];
  for (const module of DRILL_MODULES) {
    const { weight } = DRILL_STANDARD.modules[module];
    const passMark = passMarks.modulePassMarks[module];
    const score = scores[module];
    hundredths += Math.round(weight * 100) * score;
    const passed = score >= passMark;
    if (!passed) failedModules.push(module);
    modules.push({ module, score, passMark, passed });
  }
  const overall = Math.floor(hundredths / 10) / 10;
  const { overallPassMark } = passMarks;
  const passed = hundredths >= overallPassMark * 100 && failedModules.length === 0;
  return { overall, overallPassMark, passed, failedModules, modules };
}

// ---------------------------------------------------------------------------
// Drill summary report (应急演练总结报告)

export const SUMMARY_FIELD_MAX_LENGTH = 5000;

export interface DrillSummary {
  /** 发现的问题 */
  problems: string;
  /** 经验教训 */
  lessons: string;
  /** 预案修订建议 */
  planChanges: string;
  /** Whether the summary asks for the plan to be revised now. */
  revisionNeeded: boolean;
}

/** Null when the summary report is complete; otherwise why not. */
export function summaryProblem(summary: unknown): string | null {
  if (typeof summary !== 'object' || summary === null || Array.isArray(summary)) {
    return 'the drill summary must be an object with problems, lessons, planChanges and revisionNeeded';
  }
  const record = summary as Record<string, unknown>;
  for (const field of ['problems', 'lessons', 'planChanges'] as const) {
    const value = record[field];
    if (typeof value !== 'string' || value.trim() === '') {
      return `the drill summary needs ${field} as non-blank text`;
    }
    if (value.length > SUMMARY_FIELD_MAX_LENGTH) {
      return `the drill summary's ${field} is ${value.length} characters; the limit is ${SUMMARY_FIELD_MAX_LENGTH}`;
    }
  }
  if (typeof record.revisionNeeded !== 'boolean') {
    return 'the drill summary needs revisionNeeded as true or false';
  }
  return null;
}

/**
 * Whether the drill forces a plan revision (预案修订) now, rather than at the
 * three-yearly cycle. A module below its pass mark or a failed drill shows the
 * plan does not work as written; the summary may also ask for a revision on
 * its own (lessons learned that the scores do not capture).
 */
export function revisionRequired(
  evaluation: Pick<DrillEvaluation, 'failedModules' | 'passed' | 'overallPassMark'>,
  summary: Pick<DrillSummary, 'revisionNeeded'>,
): { required: boolean; reason: string | null } {
  const reasons: string[] = [];
  if (evaluation.failedModules.length > 0) {
    reasons.push(`modules below their pass mark: ${evaluation.failedModules.join(', ')}`);
  } else if (!evaluation.passed) {
    reasons.push(
      `the drill did not reach the overall pass mark of ${evaluation.overallPassMark ?? DRILL_STANDARD.overallPassMark}`,
    );
  }
  if (summary.revisionNeeded) reasons.push('the drill summary report asks for the plan to be revised');
  return reasons.length > 0 ? { required: true, reason: reasons.join('; ') } : { required: false, reason: null };
}

// ---------------------------------------------------------------------------
// Segregation of duties

/** Someone who may not approve or verify a piece of work, and what they did to it. */
export { barredFrom, type BarredApprover } from './approval';
import { barredFrom, type BarredApprover } from './approval';

/**
 * Who may not approve a drill's plan or its summary report: whoever owns the
 * plan, opened the drill, planned it, conducted it, scored it or wrote the
 * report (DOMAIN.md "Segregation of duties": whoever prepared or owns a
 * piece of work never approves it).
 */
export function drillApprovalBarred(parts: {
  ownerId: string;
  initiatorId: string;
  plannedBy?: string | null;
  conductedBy?: string | null;
  evaluatedBy?: string | null;
  summarisedBy?: string | null;
}): BarredApprover[] {
  return barredFrom([
    [parts.ownerId, 'owns the emergency plan'],
    [parts.initiatorId, 'opened the drill'],
    [parts.plannedBy, 'planned the drill'],
    [parts.conductedBy, 'recorded its conduct'],
    [parts.evaluatedBy, 'scored it'],
    [parts.summarisedBy, 'wrote the summary report'],
  ]);
}

/**
 * Who may not review or approve a plan revision: whoever owns the plan,
 * drafted the revision or opened it; and for the approval, whoever reviewed
 * it (the reviewer and the approver are two people).
 */
export function revisionApprovalBarred(parts: {
  ownerId: string;
  initiatorId: string;
  draftedBy?: string | null;
  reviewedBy?: readonly string[];
}): BarredApprover[] {
  return barredFrom([
    [parts.ownerId, 'owns the emergency plan'],
    [parts.draftedBy, 'drafted the revision'],
    [parts.initiatorId, 'opened the revision'],
    ...(parts.reviewedBy ?? []).map((userId): [string, string] => [userId, 'reviewed the draft']),
  ]);
}

// ---------------------------------------------------------------------------
// Revision cycle and drill due dates

/**
 * Plans are revised at least every three years (e-commerce manual §7.3): the
 * longest interval the policy may set (`plan.revisionIntervalYears`).
 */
export const REVISION_INTERVAL_YEARS = 3;

/**
 * When the next revision falls due: the same UTC calendar day and time of day
 * `intervalYears` later. 29 Feb becomes 28 Feb in a non-leap year, so the
 * deadline never slips into March.
 */
export function revisionDueAt(lastApprovedAt: Date, intervalYears: number = REVISION_INTERVAL_YEARS): Date {
  assertDate(lastApprovedAt, 'lastApprovedAt');
  if (!Number.isInteger(intervalYears) || intervalYears < 1 || intervalYears > REVISION_INTERVAL_YEARS) {
    throw new RangeError(
      `intervalYears must be a whole number from 1 to ${REVISION_INTERVAL_YEARS}, got ${intervalYears}`,
    );
  }
  return addCalendarMonthsUtc(lastApprovedAt, intervalYears * 12);
}

/**
 * When to remind the plan owner: `remindBeforeMs` before the due date, but
 * never before the plan was approved (a reminder already due on approval is
 * noise). If the lead time is that long, the reminder goes half-way between
 * approval and due date.
 */
export function revisionReminderAt(dueAt: Date, approvedAt: Date, remindBeforeMs: number): Date {
  assertDate(dueAt, 'dueAt');
  assertDate(approvedAt, 'approvedAt');
  if (dueAt.getTime() <= approvedAt.getTime()) throw new RangeError('dueAt must be after approvedAt');
  if (!Number.isFinite(remindBeforeMs) || remindBeforeMs < 0) {
    throw new RangeError(`remindBeforeMs must be 0 or more milliseconds, got ${remindBeforeMs}`);
  }
  const at = dueAt.getTime() - remindBeforeMs;
  if (at >= approvedAt.getTime()) return new Date(at);
  return new Date(approvedAt.getTime() + Math.floor((dueAt.getTime() - approvedAt.getTime()) / 2));
}

/**
 * The end of `year` in UTC (31 Dec 23:59:59.999): every active plan is drilled
 * in full at least once a calendar year.
 */
export function drillDueAt(year: number): Date {
  if (!Number.isInteger(year) || year < 1970 || year > 9999) {
    throw new RangeError(`year must be a whole number from 1970 to 9999, got ${year}`);
  }
  return new Date(Date.UTC(year, 11, 31, 23, 59, 59, 999));
}

/** Plan versions count up from 1 (预案版本管理): null (no version yet) → 1, n → n + 1. */
export function nextPlanVersion(current: number | null): number {
  if (current === null) return 1;
  if (!Number.isInteger(current) || current < 1) {
    throw new RangeError(`a plan version must be a whole number of 1 or more, got ${current}`);
  }
  return current + 1;
}

function assertDate(value: unknown, name: string): asserts value is Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new RangeError(`${name} must be a valid date`);
}
