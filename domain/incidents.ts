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
import { parseDuration } from './durations';
import { DEFAULT_POLICY, type PolicyValues } from './policy';

/** The incident parameters of the policy compliance owns (domain/policy.ts). */
export type IncidentPolicy = PolicyValues['incident'];
/** The clocks a response plan sets: acknowledgement, stabilisation, the regulator's notice. */
export type IncidentClocks = Pick<IncidentPolicy, 'acknowledgeWithin' | 'stabiliseWithin' | 'notifyRegulatorWithin'>;

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
export type GradeThresholds = Record<ImpactCriterion, Record<'I' | 'II' | 'III', number>>;

/** The policy's default thresholds (version 1); a case uses the policy in force when it is reported. */
export const GRADE_THRESHOLDS: GradeThresholds = DEFAULT_POLICY.incident.gradeThresholds;

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
export function suggestGrade(
  impact: ImpactAssessment,
  thresholds: GradeThresholds = GRADE_THRESHOLDS,
): { grade: IncidentGrade; reasons: string[] } {
  const problem = impactProblem(impact);
  if (problem) throw new RangeError(problem);

  const reached: { criterion: ImpactCriterion; grade: 'I' | 'II' | 'III'; value: number }[] = [];
  for (const criterion of CRITERIA) {
    const value = impact[criterion];
    if (value === undefined) continue;
    const grade = (['I', 'II', 'III'] as const).find((g) => value >= thresholds[criterion][g]);
    if (grade) reached.push({ criterion, grade, value });
  }
  // Most severe first, so the first reason is the one that decided.
  reached.sort((a, b) => INCIDENT_GRADES.indexOf(a.grade) - INCIDENT_GRADES.indexOf(b.grade));

  const reasons = reached.map(
    ({ criterion, grade, value }) =>
      `${CRITERION_PHRASE[criterion](formatNumber(value))} reaches the grade ${grade} threshold of ` +
      `${formatNumber(thresholds[criterion][grade])}.`,
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
    const floors = CRITERIA.map((c) => CRITERION_PHRASE[c](formatNumber(thresholds[c].III)));
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
  /**
   * Who must be informed beyond the teams handling it: this grade's audiences
   * and every audience a more severe grade reached earlier made due.
   */
  mustNotify: Audience[];
  /** Set when a grade reached earlier keeps notices due that this grade alone would not. */
  noticesKeptFrom?: IncidentGrade;
  /** Durations for parseDuration (domain/durations.ts), counted from the report. */
  acknowledgeWithin: string;
  stabiliseWithin: string;
  /** Present only when the regulator must be notified. */
  notifyRegulatorWithin?: string;
  /** Every grade ends with a follow-up evaluation (后续评估) before close-out. */
  reviewRequired: true;
  /**
   * How deep it goes: 'full' (root-cause analysis) for grades I–III and for
   * repeats, 'short' (a summary and the lessons) for a first grade IV.
   */
  evaluation: EvaluationDepth;
  /** Distinct approvers who must accept the close-out. */
  closeOutApprovers: 1 | 2;
}

export type EvaluationDepth = 'full' | 'short';

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

/** The policy's default clocks (version 1); a case runs on the policy in force when it is reported. */
export const DEFAULT_INCIDENT_CLOCKS: IncidentClocks = {
  acknowledgeWithin: DEFAULT_POLICY.incident.acknowledgeWithin,
  stabiliseWithin: DEFAULT_POLICY.incident.stabiliseWithin,
  notifyRegulatorWithin: DEFAULT_POLICY.incident.notifyRegulatorWithin,
};

/**
 * How long the regulator may wait for the notice of an incident of this
 * grade and category; undefined when the regulator need not be told. A data
 * leak at grade III still goes to the regulator: personal information was
 * exposed.
 */
export function regulatorNoticeWithin(
  grade: IncidentGrade,
  category: IncidentCategory,
  clocks: IncidentClocks = DEFAULT_INCIDENT_CLOCKS,
): string | undefined {
  if (grade === 'I') return clocks.notifyRegulatorWithin.I;
  if (grade === 'II') return clocks.notifyRegulatorWithin.II;
  if (grade === 'III' && category === 'data_leak') return clocks.notifyRegulatorWithin.dataLeakIII;
  return undefined;
}

/** Who a grade alone requires to be told, in AUDIENCES order. */
function audiencesOf(grade: IncidentGrade, category: IncidentCategory): Audience[] {
  switch (grade) {
    case 'I':
      return ['management', 'board', 'regulator', 'affected_users', 'partners'];
    case 'II':
      return ['management', 'regulator', 'affected_users'];
    case 'III':
      return category === 'data_leak' ? ['management', 'regulator'] : ['management'];
    case 'IV':
      return [];
  }
}

/**
 * The response level matches the grade. Grades I and II mobilise every team
 * and tell those outside; grade III brings the core teams plus whoever the
 * category needs; grade IV stays with operations and one natural team.
 *
 * `highestGrade` is the most severe grade the incident has had: a notice a
 * grade made due stays due after an approved downgrade (the regulator was
 * owed the news of a grade II incident, whatever it is graded now).
 */
export function responsePlan(
  grade: IncidentGrade,
  category: IncidentCategory,
  options: { repeat?: boolean; highestGrade?: IncidentGrade; clocks?: IncidentClocks } = {},
): ResponsePlan {
  assertGrade(grade);
  assertCategory(category);
  const clocks = options.clocks ?? DEFAULT_INCIDENT_CLOCKS;

  let teams: Team[];
  switch (grade) {
    case 'I':
    case 'II':
      teams = [...TEAMS];
      break;
    case 'III': {
      const wanted = new Set<Team>(['operations', 'technology', 'customer_service']);
      if (category === 'data_leak' || category === 'network_security') wanted.add('security');
      if (category === 'data_leak') wanted.add('legal');
      if (category === 'public_opinion') wanted.add('public_relations');
      teams = TEAMS.filter((t) => wanted.has(t));
      break;
    }
    case 'IV': {
      const wanted = new Set<Team>(['operations', NATURAL_TEAM[category]]);
      teams = TEAMS.filter((t) => wanted.has(t));
      break;
    }
  }

  const own = audiencesOf(grade, category);
  const highest = options.highestGrade && isMoreSevere(options.highestGrade, grade) ? options.highestGrade : undefined;
  const kept = highest ? audiencesOf(highest, category).filter((a) => !own.includes(a)) : [];
  const mustNotify = AUDIENCES.filter((a) => own.includes(a) || kept.includes(a));
  const notifyRegulatorWithin =
    regulatorNoticeWithin(grade, category, clocks) ??
    (highest ? regulatorNoticeWithin(highest, category, clocks) : undefined);
  const repeat = options.repeat === true;

  return {
    grade,
    leadRole: 'manager',
    teams,
    mustNotify,
    ...(kept.length && highest ? { noticesKeptFrom: highest } : {}),
    acknowledgeWithin: clocks.acknowledgeWithin[grade],
    stabiliseWithin: clocks.stabiliseWithin[grade],
    ...(notifyRegulatorWithin ? { notifyRegulatorWithin } : {}),
    // The handbook's loop ends every incident with a follow-up evaluation;
    // root-cause analysis for serious or repeated ones (DOMAIN.md §3).
    reviewRequired: true,
    evaluation: grade !== 'IV' || repeat ? 'full' : 'short',
    // Four-eyes on closing the serious ones.
    closeOutApprovers: grade === 'I' || grade === 'II' ? 2 : 1,
  };
}

// ---------------------------------------------------------------------------
// Follow-up evaluation

export interface EvaluationInput {
  summary?: string;
  rootCause?: string;
  lessons: string;
}

/**
 * Null when the evaluation is deep enough for the plan; otherwise why not and
 * the fields missing. A full evaluation names the root cause; a short one (a
 * first grade IV) states at least what happened, as a summary or a root cause.
 */
export function evaluationProblem(
  plan: Pick<ResponsePlan, 'grade' | 'evaluation'>,
  repeat: boolean,
  input: EvaluationInput,
): { message: string; missing: string[] } | null {
  const given = (v: string | undefined) => typeof v === 'string' && v.trim() !== '';
  if (!given(input.lessons))
    return { message: 'the follow-up evaluation must state its lessons', missing: ['lessons'] };
  if (plan.evaluation === 'full' && !given(input.rootCause)) {
    const why = plan.grade === 'IV' && repeat ? 'a repeated incident' : `a grade ${plan.grade} incident`;
    return {
      message: `${why} needs a full follow-up evaluation with root-cause analysis: rootCause is missing`,
      missing: ['rootCause'],
    };
  }
  if (!given(input.summary) && !given(input.rootCause)) {
    return {
      message: 'a short follow-up evaluation states what happened (summary) and its lessons: summary is missing',
      missing: ['summary'],
    };
  }
  return null;
}

// ---------------------------------------------------------------------------
// Regulator notice

export interface RegulatorNotice {
  /** The grade that made the notice due, and its deadline. */
  grade: IncidentGrade;
  within: string;
  /** When it became due (the report, or the regrade that required it) and by when. */
  owedSince: string;
  dueAt: string;
  /** When the notice was made, as recorded, and when it was recorded. */
  notifiedAt: string | null;
  recordedAt: string | null;
  /** Set when the deadline passed with no notice recorded; stays set once the notice comes. */
  missedAt: string | null;
  escalatedTo: string | null;
  /** Minutes after the deadline that the notice was made; 0 when on time; null until made. */
  lateMinutes: number | null;
}

/**
 * The regulator notice once `grade` is in force from `at`: unchanged when the
 * grade needs none or the notice is already made or missed; otherwise due
 * `within` of `at`, or sooner when it was due sooner already. A downgrade
 * never lifts it. `within` overrides the policy's deadline (per-case timings).
 */
export function regulatorNoticeFor(
  notice: RegulatorNotice | null,
  grade: IncidentGrade,
  category: IncidentCategory,
  at: string,
  options: { clocks?: IncidentClocks; within?: string } = {},
): RegulatorNotice | null {
  const policyWithin = regulatorNoticeWithin(grade, category, options.clocks);
  if (!policyWithin) return notice;
  const within = options.within ?? policyWithin;
  const dueAt = new Date(isoInstantMs(at, 'at') + parseDuration(within)).toISOString();
  if (!notice) {
    return {
      grade,
      within,
      owedSince: at,
      dueAt,
      notifiedAt: null,
      recordedAt: null,
      missedAt: null,
      escalatedTo: null,
      lateMinutes: null,
    };
  }
  if (notice.notifiedAt || notice.missedAt || Date.parse(dueAt) >= Date.parse(notice.dueAt)) return notice;
  return { ...notice, grade, within, dueAt };
}

/** Whole minutes from `dueAt` to `doneAt`, rounded up; 0 when done by the deadline. */
export function minutesLate(dueAt: string, doneAt: string): number {
  const late = isoInstantMs(doneAt, 'doneAt') - isoInstantMs(dueAt, 'dueAt');
  return late <= 0 ? 0 : Math.ceil(late / 60_000);
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

/** True when `a` is a more severe grade than `b` (I is the most severe). */
export function isMoreSevere(a: IncidentGrade, b: IncidentGrade): boolean {
  return INCIDENT_GRADES.indexOf(a) < INCIDENT_GRADES.indexOf(b);
}

/**
 * A change to a less severe grade. It drops teams, notices and reviews, so it
 * is a request that someone other than the incident's owner, its reporter and
 * the requester approves (segregation of duties); an upgrade is immediate,
 * because waiting to mobilise more people only makes an incident worse.
 */
export function isDowngrade(from: IncidentGrade, to: IncidentGrade): boolean {
  return isMoreSevere(from, to);
}

/** The more severe of two grades. */
export function mostSevere(a: IncidentGrade, b: IncidentGrade): IncidentGrade {
  return isMoreSevere(b, a) ? b : a;
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

/** The policy's default window (version 1); a case uses the policy in force when it is reported. */
export const REPEAT_WINDOW_DAYS: number = DEFAULT_POLICY.incident.repeatWindowDays;
const DAY_MS = 86_400_000;

/**
 * The most recent earlier incident this one repeats: the same category on the
 * same system (names compared trimmed and case-insensitively), at most
 * `windowDays` (policy default 90) before it, or at the same moment. Null when
 * there is none. A repeat needs root-cause analysis whatever its grade.
 * `prior` must not contain the current incident itself.
 */
export function findRepeat(
  current: { category: IncidentCategory; system: string; occurredAt: string },
  prior: PriorIncident[],
  windowDays: number = REPEAT_WINDOW_DAYS,
): PriorIncident | null {
  assertCategory(current.category);
  const system = normaliseName(current.system);
  if (system === '') throw new RangeError('system must name the affected system');
  const at = isoInstantMs(current.occurredAt, 'occurredAt');
  const earliest = at - windowDays * DAY_MS;

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
  /**
   * How deep the recorded evaluation went; null when none. Absent from older
   * callers, for whom any evaluation counts as full.
   */
  evaluation?: EvaluationDepth | null;
  openRectificationItems: number;
  /** The open items themselves, so the refusal can name them (their count is openRectificationItems). */
  openItems?: ReadonlyArray<{ id: string; title: string }>;
  stabilised: boolean;
  regulatorNotified: boolean;
  /** Every audience told so far; when given, every notice still owed is named, not only the regulator's. */
  notifiedAudiences?: readonly Audience[];
  /** The most severe grade the incident has had: its notices stay due. */
  highestGrade?: IncidentGrade;
  /** The grade a downgrade awaiting approval would set. */
  pendingDowngrade?: IncidentGrade | null;
  category: IncidentCategory;
}

/**
 * Every reason the incident may not close yet, one English sentence each;
 * empty when it may. All are listed at once so the close-out screen shows the
 * whole remaining work, not one refusal at a time. Closed loop (闭环管理):
 * nothing closes while a rectification item is open, and every incident ends
 * with its follow-up evaluation (e-commerce §7.1).
 */
export function closeOutProblems(state: CloseOutState): string[] {
  if (!Number.isSafeInteger(state.openRectificationItems) || state.openRectificationItems < 0) {
    throw new RangeError(
      `openRectificationItems must be a whole number of 0 or more, got ${JSON.stringify(state.openRectificationItems)}`,
    );
  }
  const plan = responsePlan(state.grade, state.category, {
    repeat: state.repeat,
    ...(state.highestGrade ? { highestGrade: state.highestGrade } : {}),
  });
  const problems: string[] = [];

  if (!state.stabilised) problems.push('The incident has not been stabilised yet.');
  const recorded = state.evaluation !== undefined ? state.evaluation : state.evaluationDone ? 'full' : null;
  const why = state.grade === 'IV' && state.repeat ? 'A repeated incident' : `A grade ${state.grade} incident`;
  if (plan.evaluation === 'full' && recorded === null) {
    problems.push(`${why} requires a follow-up evaluation with root-cause analysis, and none is recorded.`);
  } else if (plan.evaluation === 'full' && recorded === 'short') {
    problems.push(`${why} requires root-cause analysis, and the follow-up evaluation recorded has none.`);
  } else if (recorded === null) {
    problems.push(`${why} requires a short follow-up evaluation (a summary and the lessons), and none is recorded.`);
  }
  const open = state.openRectificationItems;
  if (open > 0) {
    const named = (state.openItems ?? []).map((item) => `${item.id} "${item.title}"`);
    problems.push(
      `${open} rectification item${open === 1 ? ' is' : 's are'} still open${named.length ? `: ${named.join(', ')}` : ''}.`,
    );
  }
  const regulatorNotified = state.notifiedAudiences
    ? state.notifiedAudiences.includes('regulator')
    : state.regulatorNotified;
  if (plan.mustNotify.includes('regulator') && !regulatorNotified) {
    problems.push(
      plan.noticesKeptFrom && !audiencesOf(state.grade, state.category).includes('regulator')
        ? `This incident was grade ${plan.noticesKeptFrom}, which requires notifying the regulator; ` +
            `the notice stays due at grade ${state.grade}, and no notification is recorded.`
        : `The response plan for this grade ${state.grade} incident requires notifying the regulator, ` +
            'and no notification is recorded.',
    );
  }
  if (state.notifiedAudiences) {
    const told = state.notifiedAudiences;
    const owed = plan.mustNotify.filter((a) => a !== 'regulator' && !told.includes(a));
    if (owed.length) problems.push(`Notices still owed: ${owed.join(', ')}.`);
  }
  if (state.pendingDowngrade) {
    problems.push(`A downgrade to grade ${state.pendingDowngrade} awaits approval.`);
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
