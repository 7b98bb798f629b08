/**
 * Incident close-out (突发事件应对, 事件闭环), DOMAIN.md §3.
 *
 * An incident is graded on four levels (分级), and the grade sets the response
 * ("three-level response" led by the operations lead with technology,
 * security, customer service and legal): who is pulled in, who must be told
 * and how fast. The loop runs report (事件报告) → on-site handling (现场处置) →
 * information notification (信息通报) → follow-up evaluation (后续评估) →
 * rectification (整改), and only then close-out. Serious or repeated incidents
 * need a root-cause evaluation before they may close.
 */

// The stages are the process's own, in its contract (a type only: no cycle at run time).
import type { IncidentStage } from '../contracts/incident';

type Label = { en: string; zh: string };

/** I 特别重大 especially major, II 重大 major, III 较大 relatively major, IV 一般 general. */
export const INCIDENT_GRADES = ['I', 'II', 'III', 'IV'] as const;
export type IncidentGrade = (typeof INCIDENT_GRADES)[number];

export const INCIDENT_CATEGORIES = [
  'system_failure',
  'data_leak',
  'network_security',
  'transaction_fraud',
  'supplier_logistics',
  'public_opinion',
  'natural_disaster',
  'other',
] as const;
export type IncidentCategory = (typeof INCIDENT_CATEGORIES)[number];

/** The teams the operations lead pulls in, in the order the handbook names them. */
export const TEAMS = ['operations', 'technology', 'security', 'customer_service', 'legal', 'public_relations'] as const;
export type Team = (typeof TEAMS)[number];

export const AUDIENCES = ['management', 'board', 'regulator', 'affected_users', 'partners'] as const;
export type Audience = (typeof AUDIENCES)[number];

export const INCIDENT_LABELS: {
  grade: Record<IncidentGrade, Label>;
  category: Record<IncidentCategory, Label>;
  stage: Record<IncidentStage, Label>;
  team: Record<Team, Label>;
  audience: Record<Audience, Label>;
} = {
  grade: {
    I: { en: 'Grade I: especially major', zh: 'I级（特别重大）' },
    II: { en: 'Grade II: major', zh: 'II级（重大）' },
    III: { en: 'Grade III: relatively major', zh: 'III级（较大）' },
    IV: { en: 'Grade IV: general', zh: 'IV级（一般）' },
  },
  category: {
    system_failure: { en: 'System failure', zh: '系统故障' },
    data_leak: { en: 'Data leak', zh: '数据泄露' },
    network_security: { en: 'Network security incident', zh: '网络安全事件' },
    transaction_fraud: { en: 'Transaction fraud', zh: '交易欺诈' },
    supplier_logistics: { en: 'Supplier or logistics disruption', zh: '供应商/物流异常' },
    public_opinion: { en: 'Public opinion incident', zh: '舆情事件' },
    natural_disaster: { en: 'Natural disaster', zh: '自然灾害' },
    other: { en: 'Other', zh: '其他' },
  },
  stage: {
    reported: { en: 'Reported', zh: '事件报告' },
    handling: { en: 'On-site handling', zh: '现场处置' },
    notification: { en: 'Information notification', zh: '信息通报' },
    stabilised: { en: 'Stabilised', zh: '事态已控制' },
    evaluation: { en: 'Follow-up evaluation', zh: '后续评估' },
    rectification: { en: 'Rectification', zh: '整改' },
    awaiting_approval: { en: 'Close-out approval', zh: '闭环审核' },
    closed: { en: 'Closed', zh: '已结案' },
  },
  team: {
    operations: { en: 'Operations', zh: '运营' },
    technology: { en: 'Technology', zh: '技术' },
    security: { en: 'Security', zh: '安全' },
    customer_service: { en: 'Customer service', zh: '客服' },
    legal: { en: 'Legal', zh: '法务' },
    public_relations: { en: 'Public relations', zh: '公关' },
  },
  audience: {
    management: { en: 'Management', zh: '管理层' },
    board: { en: 'Board of directors', zh: '董事会' },
    regulator: { en: 'Regulator', zh: '监管机构' },
    affected_users: { en: 'Affected users', zh: '受影响用户' },
    partners: { en: 'Partners', zh: '合作方' },
  },
};

// ---------------------------------------------------------------------------
// Impact and the suggested grade

export interface ImpactAssessment {
  affectedUsers: number;
  amountCny: number;
  category: IncidentCategory;
  dataRecordsExposed?: number;
  outageMinutes?: number;
}

export type ImpactCriterion = 'affectedUsers' | 'amountCny' | 'dataRecordsExposed' | 'outageMinutes';

/**
 * The lowest value of each criterion that reaches grades I, II and III; below
 * every III threshold an incident is grade IV. The handbooks grade by impact
 * but leave the figures to each platform, so these are defaults a platform
 * calibrates to its own scale (a regional lender and a national marketplace
 * do not share a "major" outage).
 */
export const GRADE_THRESHOLDS: Record<ImpactCriterion, Record<'I' | 'II' | 'III', number>> = {
  affectedUsers: { I: 1_000_000, II: 100_000, III: 10_000 },
  amountCny: { I: 100_000_000, II: 10_000_000, III: 1_000_000 },
  dataRecordsExposed: { I: 1_000_000, II: 100_000, III: 10_000 },
  outageMinutes: { I: 720, II: 240, III: 60 },
};

const CRITERIA: readonly ImpactCriterion[] = ['affectedUsers', 'amountCny', 'dataRecordsExposed', 'outageMinutes'];
const REQUIRED_CRITERIA: readonly ImpactCriterion[] = ['affectedUsers', 'amountCny'];
/** Counts of people and records are whole; money (fen) and minutes need not be. */
const WHOLE_CRITERIA: readonly ImpactCriterion[] = ['affectedUsers', 'dataRecordsExposed'];

/**
 * Null when the assessment is complete and well-formed; otherwise why not,
 * naming the field. Unknown fields are refused: a misspelt optional criterion
 * ("outageMinute") would otherwise vanish and quietly lower the grade.
 */
export function impactProblem(input: unknown): string | null {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return 'the impact assessment must be an object with affectedUsers, amountCny and category';
  }
  const record = input as Record<string, unknown>;
  const known: readonly string[] = [...CRITERIA, 'category'];
  for (const key of Object.keys(record)) {
    if (!known.includes(key)) return `"${key}" is not part of an impact assessment; the fields are ${known.join(', ')}`;
  }
  for (const field of CRITERIA) {
    const value = record[field];
    if (value === undefined) {
      if (REQUIRED_CRITERIA.includes(field)) return `${field} is missing`;
      continue;
    }
    if (WHOLE_CRITERIA.includes(field)) {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
        return `${field} must be a whole number of 0 or more, got ${JSON.stringify(value)}`;
      }
    } else if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      return `${field} must be a number of 0 or more, got ${JSON.stringify(value)}`;
    }
  }
  if (record.category === undefined) return 'category is missing';
  if (!(INCIDENT_CATEGORIES as readonly unknown[]).includes(record.category)) {
    return `category must be one of ${INCIDENT_CATEGORIES.join(', ')}, got ${JSON.stringify(record.category)}`;
  }
  return null;
}

/** How each criterion reads in a reason, e.g. "2,000,000 users affected". */
const CRITERION_PHRASE: Record<ImpactCriterion, (value: string) => string> = {
  affectedUsers: (v) => `${v} users affected`,
  amountCny: (v) => `CNY ${v} involved`,
  dataRecordsExposed: (v) => `${v} data records exposed`,
  outageMinutes: (v) => `${v} minutes of outage`,
};

/**
 * The grade the impact calls for. Each criterion is graded on its own and the
 * most severe one decides, because one catastrophic dimension (a day-long
 * outage) is not made smaller by others being modest. A data leak that exposed
 * any records is at least grade III: leaks of personal information must be
 * reported, whatever their size. The manager confirms or changes the grade;
 * this only suggests it.
 */
export function suggestGrade(impact: ImpactAssessment): { grade: IncidentGrade; reasons: string[] } {
  const problem = impactProblem(impact);
  if (problem) throw new RangeError(problem);

  const reached: { criterion: ImpactCriterion; grade: 'I' | 'II' | 'III'; value: number }[] = [];
  for (const criterion of CRITERIA) {
    const value = impact[criterion];
    if (value === undefined) continue;
    const grade = (['I', 'II', 'III'] as const).find((g) => value >= GRADE_THRESHOLDS[criterion][g]);
    if (grade) reached.push({ criterion, grade, value });
  }
  // Most severe first, so the first reason is the one that decided.
  reached.sort((a, b) => INCIDENT_GRADES.indexOf(a.grade) - INCIDENT_GRADES.indexOf(b.grade));

  const reasons = reached.map(
    ({ criterion, grade, value }) =>
      `${CRITERION_PHRASE[criterion](formatNumber(value))} reaches the grade ${grade} threshold of ` +
      `${formatNumber(GRADE_THRESHOLDS[criterion][grade])}.`,
  );
  let grade: IncidentGrade = reached[0]?.grade ?? 'IV';

  const exposed = impact.dataRecordsExposed ?? 0;
  if (grade === 'IV' && impact.category === 'data_leak' && exposed > 0) {
    grade = 'III';
    reasons.push(
      `A data leak exposed ${formatNumber(exposed)} record${exposed === 1 ? '' : 's'}; ` +
        'personal-information leaks must be reported, so the grade is at least III.',
    );
  }
  if (grade === 'IV') {
    const floors = CRITERIA.map((c) => CRITERION_PHRASE[c](formatNumber(GRADE_THRESHOLDS[c].III)));
    reasons.push(`No criterion reaches grade III (${joinOr(floors)}), so the grade is IV.`);
  }
  return { grade, reasons };
}

// ---------------------------------------------------------------------------
// Response plan

export interface ResponsePlan {
  grade: IncidentGrade;
  /** "three-level response" led by the operations lead */
  leadRole: 'manager';
  /** Pulled in by the operations lead, in TEAMS order. */
  teams: Team[];
  /** Who must be informed beyond the teams handling it. */
  mustNotify: Audience[];
  /** Durations for parseDuration (domain/durations.ts), counted from the report. */
  acknowledgeWithin: string;
  stabiliseWithin: string;
  /** Present only when the regulator must be notified. */
  notifyRegulatorWithin?: string;
  /** A follow-up evaluation (root-cause analysis) before close-out. */
  reviewRequired: boolean;
  /** Distinct approvers who must accept the close-out. */
  closeOutApprovers: 1 | 2;
}

/** Whom an incident of each category most needs at grade IV, beside operations. */
const NATURAL_TEAM: Record<IncidentCategory, Team> = {
  system_failure: 'technology',
  data_leak: 'security',
  network_security: 'security',
  // Fraud is stopped by risk control, which sits with security.
  transaction_fraud: 'security',
  // Late or lost deliveries reach customers first; operations already owns the supplier.
  supplier_logistics: 'customer_service',
  public_opinion: 'public_relations',
  // Business continuity is the operations lead's own work.
  natural_disaster: 'operations',
  other: 'operations',
};

const GRADE_TIMINGS: Record<
  IncidentGrade,
  { acknowledgeWithin: string; stabiliseWithin: string; notifyRegulatorWithin?: string }
> = {
  I: { acknowledgeWithin: '15m', stabiliseWithin: '4h', notifyRegulatorWithin: '1h' },
  II: { acknowledgeWithin: '30m', stabiliseWithin: '12h', notifyRegulatorWithin: '4h' },
  III: { acknowledgeWithin: '2h', stabiliseWithin: '48h' },
  IV: { acknowledgeWithin: '8h', stabiliseWithin: '5d' },
};

/** A data leak at grade III still goes to the regulator: personal information was exposed. */
const DATA_LEAK_REGULATOR_WITHIN_AT_III = '24h';

/**
 * The response level matches the grade. Grades I and II mobilise every team
 * and tell those outside; grade III brings the core teams plus whoever the
 * category needs; grade IV stays with operations and one natural team.
 */
export function responsePlan(
  grade: IncidentGrade,
  category: IncidentCategory,
  options: { repeat?: boolean } = {},
): ResponsePlan {
  assertGrade(grade);
  assertCategory(category);

  let teams: Team[];
  let mustNotify: Audience[];
  switch (grade) {
    case 'I':
      teams = [...TEAMS];
      mustNotify = ['management', 'board', 'regulator', 'affected_users', 'partners'];
      break;
    case 'II':
      teams = [...TEAMS];
      mustNotify = ['management', 'regulator', 'affected_users'];
      break;
    case 'III': {
      const wanted = new Set<Team>(['operations', 'technology', 'customer_service']);
      if (category === 'data_leak' || category === 'network_security') wanted.add('security');
      if (category === 'data_leak') wanted.add('legal');
      if (category === 'public_opinion') wanted.add('public_relations');
      teams = TEAMS.filter((t) => wanted.has(t));
      mustNotify = category === 'data_leak' ? ['management', 'regulator'] : ['management'];
      break;
    }
    case 'IV': {
      const wanted = new Set<Team>(['operations', NATURAL_TEAM[category]]);
      teams = TEAMS.filter((t) => wanted.has(t));
      mustNotify = [];
      break;
    }
  }

  const timings = GRADE_TIMINGS[grade];
  const notifyRegulatorWithin =
    timings.notifyRegulatorWithin ??
    (grade === 'III' && category === 'data_leak' ? DATA_LEAK_REGULATOR_WITHIN_AT_III : undefined);

  return {
    grade,
    leadRole: 'manager',
    teams,
    mustNotify,
    acknowledgeWithin: timings.acknowledgeWithin,
    stabiliseWithin: timings.stabiliseWithin,
    ...(notifyRegulatorWithin ? { notifyRegulatorWithin } : {}),
    // Root-cause analysis for serious or repeated incidents (DOMAIN.md §3).
    reviewRequired: grade !== 'IV' || options.repeat === true,
    // Four-eyes on closing the serious ones.
    closeOutApprovers: grade === 'I' || grade === 'II' ? 2 : 1,
  };
}

// ---------------------------------------------------------------------------
// Escalation and regrading

/**
 * An incident nobody acknowledges in time escalates to the next level up:
 * silence is treated as the situation being worse than reported. Grade I has
 * nowhere higher to go.
 */
export function nextGradeUp(grade: IncidentGrade): IncidentGrade {
  assertGrade(grade);
  const index = INCIDENT_GRADES.indexOf(grade);
  return INCIDENT_GRADES[Math.max(0, index - 1)]!;
}

/**
 * Null when the grade may change from `from` to `to`; otherwise why not. A
 * grade decides who is mobilised and who is told, so every change, up or
 * down, is recorded with its reason for the audit trail (DOMAIN.md §6).
 */
export function gradeChangeProblem(from: IncidentGrade, to: IncidentGrade, reason: string | undefined): string | null {
  for (const [name, grade] of [
    ['from', from],
    ['to', to],
  ] as const) {
    if (!isIncidentGrade(grade)) {
      return `${name} must be a grade of ${INCIDENT_GRADES.join(', ')}, got ${JSON.stringify(grade)}`;
    }
  }
  if (from === to) return `the incident is already grade ${to}`;
  if (typeof reason !== 'string' || reason.trim() === '') {
    return `a reason is required to change the grade from ${from} to ${to}`;
  }
  return null;
}

// ---------------------------------------------------------------------------
// Repeats

export interface PriorIncident {
  id: string;
  category: IncidentCategory;
  system: string;
  /** ISO 8601 */
  occurredAt: string;
}

export const REPEAT_WINDOW_DAYS = 90;
const DAY_MS = 86_400_000;

/**
 * The most recent earlier incident this one repeats: the same category on the
 * same system (names compared trimmed and case-insensitively), at most 90 days
 * before it, or at the same moment. Null when there is none. A repeat needs
 * root-cause analysis whatever its grade. `prior` must not contain the current
 * incident itself.
 */
export function findRepeat(
  current: { category: IncidentCategory; system: string; occurredAt: string },
  prior: PriorIncident[],
): PriorIncident | null {
  assertCategory(current.category);
  const system = normaliseName(current.system);
  if (system === '') throw new RangeError('system must name the affected system');
  const at = isoInstantMs(current.occurredAt, 'occurredAt');
  const earliest = at - REPEAT_WINDOW_DAYS * DAY_MS;

  let found: { incident: PriorIncident; at: number } | null = null;
  for (const incident of prior) {
    const priorAt = isoInstantMs(incident.occurredAt, `occurredAt of incident ${incident.id}`);
    if (incident.category !== current.category || normaliseName(incident.system) !== system) continue;
    if (priorAt < earliest || priorAt > at) continue;
    if (!found || priorAt > found.at) found = { incident, at: priorAt };
  }
  return found?.incident ?? null;
}

// ---------------------------------------------------------------------------
// Close-out

export interface CloseOutState {
  grade: IncidentGrade;
  repeat: boolean;
  evaluationDone: boolean;
  openRectificationItems: number;
  /** The open items themselves, so the refusal can name them (their count is openRectificationItems). */
  openItems?: ReadonlyArray<{ id: string; title: string }>;
  stabilised: boolean;
  regulatorNotified: boolean;
  category: IncidentCategory;
}

/**
 * Every reason the incident may not close yet, one English sentence each;
 * empty when it may. All are listed at once so the close-out screen shows the
 * whole remaining work, not one refusal at a time. Closed loop (闭环管理):
 * nothing closes while a rectification item is open.
 */
export function closeOutProblems(state: CloseOutState): string[] {
  if (!Number.isSafeInteger(state.openRectificationItems) || state.openRectificationItems < 0) {
    throw new RangeError(
      `openRectificationItems must be a whole number of 0 or more, got ${JSON.stringify(state.openRectificationItems)}`,
    );
  }
  const plan = responsePlan(state.grade, state.category, { repeat: state.repeat });
  const problems: string[] = [];

  if (!state.stabilised) problems.push('The incident has not been stabilised yet.');
  if (plan.reviewRequired && !state.evaluationDone) {
    const why = state.grade === 'IV' ? 'A repeated incident' : `A grade ${state.grade} incident`;
    problems.push(`${why} requires a follow-up evaluation with root-cause analysis, and none is recorded.`);
  }
  const open = state.openRectificationItems;
  if (open > 0) {
    const named = (state.openItems ?? []).map((item) => `${item.id} "${item.title}"`);
    problems.push(
      `${open} rectification item${open === 1 ? ' is' : 's are'} still open${named.length ? `: ${named.join(', ')}` : ''}.`,
    );
  }
  if (plan.mustNotify.includes('regulator') && !state.regulatorNotified) {
    problems.push(
      `The response plan for this grade ${state.grade} incident requires notifying the regulator, ` +
        'and no notification is recorded.',
    );
  }
  return problems;
}

// ---------------------------------------------------------------------------
// Helpers

export function isIncidentGrade(value: unknown): value is IncidentGrade {
  return (INCIDENT_GRADES as readonly unknown[]).includes(value);
}

export function isIncidentCategory(value: unknown): value is IncidentCategory {
  return (INCIDENT_CATEGORIES as readonly unknown[]).includes(value);
}

function assertGrade(grade: unknown): asserts grade is IncidentGrade {
  if (!isIncidentGrade(grade)) {
    throw new RangeError(`grade must be one of ${INCIDENT_GRADES.join(', ')}, got ${JSON.stringify(grade)}`);
  }
}

function assertCategory(category: unknown): asserts category is IncidentCategory {
  if (!isIncidentCategory(category)) {
    throw new RangeError(`category must be one of ${INCIDENT_CATEGORIES.join(', ')}, got ${JSON.stringify(category)}`);
  }
}

const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/**
 * Milliseconds since the epoch for an ISO 8601 date ("2024-03-01", taken as
 * UTC midnight) or date-time with a zone ("…T10:00:00Z", "…+08:00"). A
 * date-time without a zone is refused: it would be read in the worker's local
 * time, so the same history could replay differently on another machine.
 * Impossible dates (30 February) are refused rather than rolled over.
 */
export function isoInstantMs(text: string, field: string): number {
  const match = typeof text === 'string' ? ISO_INSTANT.exec(text.trim()) : null;
  const ms = match ? Date.parse(text.trim()) : NaN;
  if (!match || Number.isNaN(ms)) {
    throw new RangeError(
      `${field} must be an ISO 8601 date or date-time with a time zone, like 2024-03-01T09:30:00+08:00; got ${JSON.stringify(text)}`,
    );
  }
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[];
  const lastDay = new Date(Date.UTC(y!, mo!, 0)).getUTCDate();
  if (mo! < 1 || mo! > 12 || d! < 1 || d! > lastDay || h! > 23 || mi! > 59 || s! > 59) {
    throw new RangeError(`${field} is not a real date and time: ${JSON.stringify(text)}`);
  }
  return ms;
}

function normaliseName(name: string): string {
  return typeof name === 'string' ? name.trim().toLowerCase() : '';
}

/** 1234567.5 → "1,234,567.5", written out so reasons read the same whatever locale data the runtime has. */
function formatNumber(value: number): string {
  const [whole, fraction] = String(value).split('.');
  const grouped = whole!.replace(/\B(?=(\d{3})+$)/g, ',');
  return fraction === undefined ? grouped : `${grouped}.${fraction}`;
}

function joinOr(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}
