/**
 * Supplier / partner review (合作方风险评估, 供应商年度审核), DOMAIN.md §1.
 *
 * A supplier is reviewed before cooperation and then at least annually: its
 * documents are checked, five dimensions are scored, the handbook's hard rules
 * are run over its performance records, and a risk matrix grades it. The grade
 * drives tiered management (分级管理): approve, approve with conditions
 * (restricted scope, guarantee, supplementary agreement), terminate or
 * blacklist.
 */
import type { MatrixCutoffs, MatrixScore, RiskLevel } from './risk';
import { DEFAULT_MATRIX_CUTOFFS, RISK_LEVELS, riskLevelFromMatrix } from './risk';

type Label = { en: string; zh: string };

/**
 * Where a supplier stands. A new supplier is `pending` from registration until
 * its first review is approved: the handbook assesses before cooperation
 * (e-commerce manual §4.1 合作方风险评估, "在与第三方合作前"). Only an approved
 * review or an approved status-change case moves a supplier between these.
 */
export const SUPPLIER_STATUSES = ['pending', 'active', 'restricted', 'suspended', 'terminated', 'blacklisted'] as const;
export type SupplierStatus = (typeof SUPPLIER_STATUSES)[number];

/** 战略 / 核心 / 一般 supplier tiers. */
export const SUPPLIER_TIERS = ['strategic', 'core', 'general'] as const;
export type SupplierTier = (typeof SUPPLIER_TIERS)[number];

/** The documents a review collects (营业执照, 经营许可证, 财务报表, 产品资质证书). */
export const REVIEW_DOCUMENTS = [
  'business_licence',
  'operating_permit',
  'financial_statements',
  'product_certificates',
] as const;
export type ReviewDocument = (typeof REVIEW_DOCUMENTS)[number];

export const SCORE_DIMENSIONS = [
  'legal_compliance',
  'financial_stability',
  'technical_capability',
  'market_reputation',
  'cooperation_history',
] as const;
export type ScoreDimension = (typeof SCORE_DIMENSIONS)[number];

/**
 * Legal compliance and financial stability weigh most: a non-compliant
 * supplier exposes the platform itself to regulators, and a supplier that
 * fails financially stops delivering whatever its other merits (the handbook's
 * hardest rule, blacklisting, is about abnormal financial statements). The
 * other three can be managed with conditions. Weights are whole percents, so
 * the weighted score is exact to two decimals.
 */
export const DIMENSION_WEIGHTS: Record<ScoreDimension, number> = {
  legal_compliance: 0.3,
  financial_stability: 0.25,
  technical_capability: 0.15,
  market_reputation: 0.15,
  cooperation_history: 0.15,
};

/** Each dimension scored as an integer from 1 (poor) to 5 (excellent). */
export type DimensionScores = Record<ScoreDimension, number>;

export const SAMPLING_RESULTS = ['pass', 'fail', 'not_sampled'] as const;
export type SamplingResult = (typeof SAMPLING_RESULTS)[number];

/** One year of a supplier's performance record (历史履约记录). */
export interface PerformanceRecord {
  year: number;
  /** 抽检结果 */
  samplingResult: SamplingResult;
  complaints: number;
  /** Share of deliveries late, 0..1. */
  logisticsDelayRate: number;
  /** 财务报表异常 */
  financialStatementsAbnormal: boolean;
  /** 0..100 */
  qualityScore: number;
}

export type RuleId = 'financial_abnormal_3_years' | 'sampling_failed_2_years' | 'logistics_delay_15_percent';

export interface RuleFinding {
  rule: RuleId;
  recommendation: 'blacklist' | 'terminate' | 'renegotiate_terms';
  years: number[];
  detail: string;
}

/**
 * What approvers decide. The rules' recommendation is drawn from the same
 * list, so approvers can accept it as it stands or choose otherwise.
 */
export const SUPPLIER_DECISIONS = ['approve', 'approve_with_conditions', 'terminate', 'blacklist'] as const;
export type SupplierDecision = (typeof SUPPLIER_DECISIONS)[number];
export type Recommendation = SupplierDecision;

/** Tiered management measures: 限制合作范围, 担保, 附加协议. */
export const CONDITION_TYPES = ['restricted_scope', 'guarantee', 'supplementary_agreement'] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];

export interface ReviewCondition {
  type: ConditionType;
  detail: string;
}

export const LABELS: {
  status: Record<SupplierStatus, Label>;
  tier: Record<SupplierTier, Label>;
  document: Record<ReviewDocument, Label>;
  dimension: Record<ScoreDimension, Label>;
  decision: Record<SupplierDecision, Label>;
  condition: Record<ConditionType, Label>;
  rule: Record<RuleId, Label>;
} = {
  status: {
    pending: { en: 'Pending first review', zh: '待准入评估' },
    active: { en: 'Active', zh: '正常合作' },
    restricted: { en: 'Restricted', zh: '限制合作' },
    suspended: { en: 'Suspended', zh: '暂停合作' },
    terminated: { en: 'Terminated', zh: '终止合作' },
    blacklisted: { en: 'Blacklisted', zh: '黑名单' },
  },
  tier: {
    strategic: { en: 'Strategic supplier', zh: '战略供应商' },
    core: { en: 'Core supplier', zh: '核心供应商' },
    general: { en: 'General supplier', zh: '一般供应商' },
  },
  document: {
    business_licence: { en: 'Business licence', zh: '营业执照' },
    operating_permit: { en: 'Operating permit', zh: '经营许可证' },
    financial_statements: { en: 'Financial statements', zh: '财务报表' },
    product_certificates: { en: 'Product qualification certificates', zh: '产品资质证书' },
  },
  dimension: {
    legal_compliance: { en: 'Legal compliance', zh: '法律合规' },
    financial_stability: { en: 'Financial stability', zh: '财务稳定性' },
    technical_capability: { en: 'Technical capability', zh: '技术能力' },
    market_reputation: { en: 'Market reputation', zh: '市场声誉' },
    cooperation_history: { en: 'Cooperation history', zh: '合作历史' },
  },
  decision: {
    approve: { en: 'Approve', zh: '通过' },
    approve_with_conditions: { en: 'Approve with conditions', zh: '有条件通过' },
    terminate: { en: 'Terminate cooperation', zh: '终止合作' },
    blacklist: { en: 'Blacklist', zh: '列入黑名单' },
  },
  condition: {
    restricted_scope: { en: 'Restrict the scope of cooperation', zh: '限制合作范围' },
    guarantee: { en: 'Require a guarantee', zh: '要求提供担保' },
    supplementary_agreement: { en: 'Sign a supplementary agreement', zh: '签订附加协议' },
  },
  rule: {
    financial_abnormal_3_years: {
      en: 'Financial statements abnormal three years in a row',
      zh: '财务报表连续三年异常',
    },
    sampling_failed_2_years: { en: 'Sampling inspection failed two years in a row', zh: '抽检连续两年不合格' },
    logistics_delay_15_percent: { en: 'Logistics delay rate of 15% or more', zh: '物流延迟率达到15%' },
  },
};

// ---------------------------------------------------------------------------
// Scores

/** Null when the scores are complete and well-formed; otherwise why not. */
export function scoreProblem(scores: unknown): string | null {
  if (typeof scores !== 'object' || scores === null || Array.isArray(scores)) {
    return `scores must be an object with one score for each of ${SCORE_DIMENSIONS.join(', ')}`;
  }
  const record = scores as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!(SCORE_DIMENSIONS as readonly string[]).includes(key)) {
      return `"${key}" is not a score dimension; the dimensions are ${SCORE_DIMENSIONS.join(', ')}`;
    }
  }
  for (const dimension of SCORE_DIMENSIONS) {
    const score = record[dimension];
    if (score === undefined) return `the ${dimension} score is missing`;
    if (typeof score !== 'number' || !Number.isInteger(score) || score < 1 || score > 5) {
      return `the ${dimension} score must be an integer from 1 (poor) to 5 (excellent), got ${JSON.stringify(score)}`;
    }
  }
  return null;
}

/** The weight of each dimension, summing to 1: the policy's supplier.dimensionWeights. */
export type DimensionWeights = Record<ScoreDimension, number>;

/**
 * Weighted mean of the five scores, 1..5, to two decimals, by the policy's
 * weights (DIMENSION_WEIGHTS by default).
 */
export function weightedScore(scores: DimensionScores, weights: DimensionWeights = DIMENSION_WEIGHTS): number {
  assertScores(scores);
  // Summed in ten-thousandths so 0.1 + 0.2-style float error cannot leak into
  // the grade; whole-percent weights (the default) give an exact two-decimal score.
  let parts = 0;
  for (const dimension of SCORE_DIMENSIONS) {
    parts += Math.round(weights[dimension] * 10_000) * scores[dimension];
  }
  return Math.round(parts / 100) / 100;
}

/**
 * The matrix's probability axis: a weak supplier is likely to fail, so an
 * excellent score (5) gives probability 1 and a poor one (1) gives 5.
 */
export function probabilityFromScores(
  scores: DimensionScores,
  weights: DimensionWeights = DIMENSION_WEIGHTS,
): MatrixScore {
  const probability = 6 - Math.round(weightedScore(scores, weights));
  return Math.min(5, Math.max(1, probability)) as MatrixScore;
}

function assertScores(scores: unknown): asserts scores is DimensionScores {
  const problem = scoreProblem(scores);
  if (problem) throw new RangeError(problem);
}

// ---------------------------------------------------------------------------
// Handbook rules over performance records

/** Null when the records are well-formed, one per year; otherwise why not. */
export function performanceRecordsProblem(records: unknown): string | null {
  if (!Array.isArray(records)) return 'performance records must be a list';
  const seen = new Set<number>();
  for (const [i, r] of (records as unknown[]).entries()) {
    const at = `performance record ${i + 1}`;
    if (typeof r !== 'object' || r === null) return `${at} must be an object`;
    const rec = r as Record<string, unknown>;
    if (typeof rec.year !== 'number' || !Number.isInteger(rec.year)) return `${at} needs a whole-number year`;
    if (seen.has(rec.year)) return `there are two performance records for ${rec.year}; keep one per year`;
    seen.add(rec.year);
    if (!(SAMPLING_RESULTS as readonly unknown[]).includes(rec.samplingResult)) {
      return `${at} (${rec.year}) needs samplingResult ${SAMPLING_RESULTS.join(', ')}`;
    }
    if (typeof rec.complaints !== 'number' || !Number.isInteger(rec.complaints) || rec.complaints < 0) {
      return `${at} (${rec.year}) needs complaints as a whole number of 0 or more`;
    }
    if (!isNumberBetween(rec.logisticsDelayRate, 0, 1)) {
      return `${at} (${rec.year}) needs logisticsDelayRate as a fraction from 0 to 1`;
    }
    if (typeof rec.financialStatementsAbnormal !== 'boolean') {
      return `${at} (${rec.year}) needs financialStatementsAbnormal as true or false`;
    }
    if (!isNumberBetween(rec.qualityScore, 0, 100)) {
      return `${at} (${rec.year}) needs qualityScore from 0 to 100`;
    }
  }
  return null;
}

function isNumberBetween(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max;
}

export const LOGISTICS_DELAY_THRESHOLD = 0.15;
/**
 * Delay rates arrive as computed fractions (0.7 − 0.55 is 0.14999999999999997),
 * so the comparison allows for float error far below any real rate's precision.
 */
const RATE_TOLERANCE = 1e-9;

/**
 * The handbook's examples of tiered management, run over the records a review
 * can see: those up to the review year. Each rule looks at the run of years
 * ending at the latest record, because the handbook punishes a trend that is
 * still going on, not one the supplier has already broken.
 */
export function applyHandbookRules(
  records: PerformanceRecord[],
  reviewYear: number,
  /** The policy's supplier.logisticsDelayThreshold (e-commerce manual §4.3: 15%). */
  logisticsDelayThreshold: number = LOGISTICS_DELAY_THRESHOLD,
): RuleFinding[] {
  const problem = performanceRecordsProblem(records);
  if (problem) throw new RangeError(problem);
  if (!Number.isInteger(reviewYear)) throw new RangeError(`reviewYear must be a whole number, got ${reviewYear}`);

  const byYear = new Map<number, PerformanceRecord>();
  for (const record of records) if (record.year <= reviewYear) byYear.set(record.year, record);
  if (byYear.size === 0) return [];
  const latestYear = Math.max(...byYear.keys());
  const findings: RuleFinding[] = [];

  const abnormalYears = runEndingAt(byYear, latestYear, (r) => r.financialStatementsAbnormal);
  if (abnormalYears.length >= 3) {
    findings.push({
      rule: 'financial_abnormal_3_years',
      recommendation: 'blacklist',
      years: abnormalYears,
      detail:
        `Financial statements were abnormal in ${abnormalYears.length} consecutive years ` +
        `(${listYears(abnormalYears)}); the handbook blacklists a supplier after three.`,
    });
  }

  const failedYears = runEndingAt(byYear, latestYear, (r) => r.samplingResult === 'fail');
  if (failedYears.length >= 2) {
    findings.push({
      rule: 'sampling_failed_2_years',
      recommendation: 'terminate',
      years: failedYears,
      detail:
        `Sampling inspection failed in ${failedYears.length} consecutive years ` +
        `(${listYears(failedYears)}); the handbook terminates cooperation after two.`,
    });
  }

  const latest = byYear.get(latestYear)!;
  if (latest.logisticsDelayRate + RATE_TOLERANCE >= logisticsDelayThreshold) {
    findings.push({
      rule: 'logistics_delay_15_percent',
      recommendation: 'renegotiate_terms',
      years: [latestYear],
      detail:
        `The logistics delay rate was ${formatPercent(latest.logisticsDelayRate)} in ${latestYear}, ` +
        (logisticsDelayThreshold === LOGISTICS_DELAY_THRESHOLD
          ? 'at or above the 15% at which the handbook re-evaluates the terms of cooperation.'
          : `at or above the ${formatPercent(logisticsDelayThreshold)} at which the policy re-evaluates the terms of cooperation (the handbook’s example is 15%).`),
    });
  }

  return findings;
}

/**
 * Calendar years, oldest first, for which `holds` is true without a break up
 * to `lastYear`. A year with no record breaks the run: nothing is known of it.
 */
function runEndingAt(
  byYear: Map<number, PerformanceRecord>,
  lastYear: number,
  holds: (record: PerformanceRecord) => boolean,
): number[] {
  const years: number[] = [];
  for (let year = lastYear; ; year--) {
    const record = byYear.get(year);
    if (!record || !holds(record)) break;
    years.unshift(year);
  }
  return years;
}

function listYears(years: number[]): string {
  if (years.length <= 1) return years.join('');
  return `${years.slice(0, -1).join(', ')} and ${years[years.length - 1]}`;
}

function formatPercent(rate: number): string {
  return `${Number((rate * 100).toFixed(2))}%`;
}

// ---------------------------------------------------------------------------
// Grade and recommendation

export interface ReviewGrade {
  probability: MatrixScore;
  impact: MatrixScore;
  matrixLevel: RiskLevel;
  riskGrade: RiskLevel;
  weightedScore: number;
  findings: RuleFinding[];
  missingDocuments: ReviewDocument[];
  recommendation: Recommendation;
  /** Why the grade and recommendation, one English sentence each. */
  reasons: string[];
}

export interface GradeReviewInput {
  scores: DimensionScores;
  impact: number;
  findings: RuleFinding[];
  missingDocuments: ReviewDocument[];
  creditRating?: string;
  backgroundCheck?: 'clear' | 'concerns';
  /** The policy's supplier.dimensionWeights; DIMENSION_WEIGHTS when absent. */
  weights?: DimensionWeights;
  /** The policy's risk-matrix cut-offs (risk.mediumFrom, risk.highFrom). */
  cutoffs?: MatrixCutoffs;
}

/** Ratings in the C range (C, CC, CCC, with or without a +/− notch). */
const C_RANGE_RATING = /^C{1,3}[+-]?$/;

export function isCreditRatingInCRange(creditRating: string | undefined): boolean {
  return creditRating !== undefined && C_RANGE_RATING.test(creditRating.trim().toUpperCase());
}

/**
 * The risk matrix sets the starting grade; the handbook's hard rules and the
 * checks can only raise it, never lower it, so a good score cannot hide a
 * rule the supplier broke.
 */
export function gradeReview(input: GradeReviewInput): ReviewGrade {
  const weights = input.weights ?? DIMENSION_WEIGHTS;
  const score = weightedScore(input.scores, weights);
  const probability = probabilityFromScores(input.scores, weights);
  const matrixLevel = riskLevelFromMatrix(probability, input.impact, input.cutoffs ?? DEFAULT_MATRIX_CUTOFFS);
  const impact = input.impact as MatrixScore;
  const missingDocuments = REVIEW_DOCUMENTS.filter((d) => input.missingDocuments.includes(d));
  const reasons: string[] = [
    `The weighted score of ${score.toFixed(2)} gives probability ${probability}; with impact ${impact} ` +
      `the risk matrix grades the supplier ${matrixLevel} (${probability} × ${impact} = ${probability * impact}).`,
  ];
  let riskGrade = matrixLevel;

  const blacklistFindings = input.findings.filter((f) => f.recommendation === 'blacklist');
  const terminateFindings = input.findings.filter((f) => f.recommendation === 'terminate');
  const renegotiateFindings = input.findings.filter((f) => f.recommendation === 'renegotiate_terms');

  for (const finding of blacklistFindings) {
    riskGrade = 'high';
    reasons.push(`${finding.detail} This makes the risk grade high and the recommendation blacklisting.`);
  }
  for (const finding of terminateFindings) {
    riskGrade = 'high';
    reasons.push(`${finding.detail} This makes the risk grade high and calls for terminating cooperation.`);
  }
  for (const finding of renegotiateFindings) {
    riskGrade = atLeast(riskGrade, 'medium');
    reasons.push(`${finding.detail} This makes the risk grade at least medium and calls for conditions.`);
  }
  if (missingDocuments.length > 0) {
    riskGrade = atLeast(riskGrade, 'medium');
    const names = missingDocuments.map((d) => LABELS.document[d].en.toLowerCase()).join(', ');
    reasons.push(
      `Documents are missing (${names}), so the risk grade is at least medium and approval needs conditions.`,
    );
  }
  if (input.backgroundCheck === 'concerns') {
    riskGrade = atLeast(riskGrade, 'medium');
    reasons.push('The background check raised concerns, so the risk grade is at least medium.');
  }
  if (isCreditRatingInCRange(input.creditRating)) {
    riskGrade = atLeast(riskGrade, 'medium');
    reasons.push(
      `The credit rating ${input.creditRating!.trim().toUpperCase()} is in the C range, so the risk grade is at least medium.`,
    );
  }

  let recommendation: Recommendation;
  if (blacklistFindings.length > 0) {
    recommendation = 'blacklist';
  } else if (terminateFindings.length > 0) {
    recommendation = 'terminate';
  } else if (riskGrade !== 'low' || renegotiateFindings.length > 0 || missingDocuments.length > 0) {
    recommendation = 'approve_with_conditions';
    // Raised grades already explain themselves above; a matrix grade that
    // is medium or high on its own is a reason too.
    if (matrixLevel !== 'low') reasons.push(`A ${matrixLevel} risk-matrix grade calls for approval with conditions.`);
  } else {
    recommendation = 'approve';
    reasons.push('No handbook rule fired, every document is present and the risk is low, so approval is recommended.');
  }

  return {
    probability,
    impact,
    matrixLevel,
    riskGrade,
    weightedScore: score,
    findings: input.findings,
    missingDocuments,
    recommendation,
    reasons,
  };
}

function atLeast(level: RiskLevel, floor: RiskLevel): RiskLevel {
  return RISK_LEVELS.indexOf(level) >= RISK_LEVELS.indexOf(floor) ? level : floor;
}

// ---------------------------------------------------------------------------
// Decision and what follows

/**
 * Four-eyes (DOMAIN.md "Who uses it"): high-risk decisions need two distinct
 * approvers, and ending a cooperation or blacklisting is high-stakes whatever
 * the grade, because it is hard to undo and affects the supplier's business.
 */
export function requiresFourEyes(riskGrade: RiskLevel, decision: SupplierDecision): boolean {
  return riskGrade === 'high' || decision === 'terminate' || decision === 'blacklist';
}

export function statusAfterDecision(decision: SupplierDecision, conditions: ReviewCondition[]): SupplierStatus {
  switch (decision) {
    case 'approve':
      return 'active';
    case 'approve_with_conditions':
      return conditions.some((c) => c.type === 'restricted_scope') ? 'restricted' : 'active';
    case 'terminate':
      return 'terminated';
    case 'blacklist':
      return 'blacklisted';
  }
}

/**
 * The status a review's decision leaves the supplier in, given where it
 * stands when the decision is applied: a status-change case may have been
 * approved while the review ran. Ended cooperation stays ended (only
 * blacklisting goes further), and a suspension stays until its own case lifts
 * it, unless the review ends the cooperation.
 */
export function statusAfterReview(
  current: SupplierStatus,
  decision: SupplierDecision,
  conditions: ReviewCondition[],
): SupplierStatus {
  const decided = statusAfterDecision(decision, conditions);
  const ends = decided === 'terminated' || decided === 'blacklisted';
  if (current === 'blacklisted') return 'blacklisted';
  if (current === 'terminated') return decided === 'blacklisted' ? 'blacklisted' : 'terminated';
  if (current === 'suspended' && !ends) return 'suspended';
  return decided;
}

/**
 * A guarantee still has to be obtained and an agreement still has to be
 * signed: work with an owner and evidence, tracked as a rectification item. A
 * restricted scope takes effect at once through the supplier's status.
 */
export function conditionNeedsRectification(type: ConditionType): boolean {
  return type === 'guarantee' || type === 'supplementary_agreement';
}

/**
 * Every supplier is reviewed at least annually (DOMAIN.md §1): the policy's
 * supplier.reviewIntervalMonths, 12 by default. High risk is handled by
 * conditions and four-eyes; a material change in between opens a
 * reassessment (see REASSESSMENT_TRIGGERS).
 */
export const REVIEW_INTERVAL_MONTHS: Record<RiskLevel, number> = { low: 12, medium: 12, high: 12 };

/**
 * When the next review falls due, or null when the decision ends cooperation
 * (a terminated or blacklisted supplier is not reviewed again): the policy's
 * interval after the decision, REVIEW_INTERVAL_MONTHS when none is given.
 * Calendar months in UTC, keeping the day of month and time of day; a day the
 * target month lacks becomes its last day (29 Feb → 28 Feb, 31 Aug + 6 months
 * → end of February).
 */
export function nextReviewDue(
  decidedAt: Date,
  riskGrade: RiskLevel,
  decision: SupplierDecision,
  intervalMonths?: number,
): Date | null {
  if (!(decidedAt instanceof Date) || Number.isNaN(decidedAt.getTime())) {
    throw new RangeError('decidedAt must be a valid date');
  }
  if (intervalMonths !== undefined && (!Number.isInteger(intervalMonths) || intervalMonths < 1)) {
    throw new RangeError(`intervalMonths must be a whole number of months, got ${intervalMonths}`);
  }
  if (decision === 'terminate' || decision === 'blacklist') return null;
  return addCalendarMonthsUtc(decidedAt, intervalMonths ?? REVIEW_INTERVAL_MONTHS[riskGrade]);
}

export function addCalendarMonthsUtc(date: Date, months: number): Date {
  const monthIndex = date.getUTCFullYear() * 12 + date.getUTCMonth() + months;
  const year = Math.floor(monthIndex / 12);
  const month = monthIndex - year * 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const result = new Date(date.getTime());
  result.setUTCFullYear(year, month, Math.min(date.getUTCDate(), lastDay));
  return result;
}

/**
 * A review may start for a supplier awaiting its first assessment (pending)
 * and while it cooperates (active or restricted). Null when it may; otherwise
 * why not.
 */
export function reviewStatusProblem(status: SupplierStatus): string | null {
  switch (status) {
    case 'pending':
    case 'active':
    case 'restricted':
      return null;
    case 'suspended':
      return 'the supplier is suspended; lift the suspension before starting a review';
    case 'terminated':
      return 'cooperation with the supplier has been terminated, so there is nothing to review';
    case 'blacklisted':
      return 'the supplier is blacklisted and may not be reviewed for cooperation';
    default:
      return `unknown supplier status "${String(status)}"; a review may start only for a pending, active or restricted supplier`;
  }
}

// ---------------------------------------------------------------------------
// Deciding against the rules' recommendation

/** Approving keeps the cooperation; terminating and blacklisting end it. */
const ENDS_COOPERATION: readonly SupplierDecision[] = ['terminate', 'blacklist'];

/**
 * The decisions that go against the review's recommendation and so must give
 * their reason: approving (with or without conditions) a supplier the rules
 * would terminate or blacklist, and ending a cooperation the rules would keep.
 * The reason is what an auditor reads when the decision and the rules differ.
 */
export function decisionsAgainst(recommendation: Recommendation): SupplierDecision[] {
  return ENDS_COOPERATION.includes(recommendation) ? ['approve', 'approve_with_conditions'] : [...ENDS_COOPERATION];
}

export function isAgainstRecommendation(recommendation: Recommendation, decision: string): boolean {
  return (decisionsAgainst(recommendation) as string[]).includes(decision);
}

// ---------------------------------------------------------------------------
// Reassessment on a material change (动态管理)

/**
 * What makes a reassessment due within the year: e-commerce manual §4.1 asks
 * that assessments be updated "结合市场变化、政策调整及合作方表现进行动态管理"
 * (market changes, policy adjustments, the partner's performance).
 */
export const REASSESSMENT_TRIGGERS = ['market', 'policy', 'performance'] as const;
export type ReassessmentTrigger = (typeof REASSESSMENT_TRIGGERS)[number];

export const REASSESSMENT_LABELS: Record<ReassessmentTrigger, Label> = {
  market: { en: 'Market change', zh: '市场变化' },
  policy: { en: 'Policy adjustment', zh: '政策调整' },
  performance: { en: 'Partner performance', zh: '合作方表现' },
};

// ---------------------------------------------------------------------------
// Status changes outside a review

/**
 * The status changes an approval case makes (workflows/supplierStatusChange.ts),
 * never a direct edit. Tiered management (分级管理, e-commerce manual §4.1):
 * limit the scope of cooperation, suspend it, or end it; and lift a limit or
 * a suspension once its cause is gone.
 */
export const SUPPLIER_STATUS_CHANGES = [
  'restrict',
  'lift_restriction',
  'suspend',
  'lift_suspension',
  'terminate',
  'blacklist',
] as const;
export type SupplierStatusChange = (typeof SUPPLIER_STATUS_CHANGES)[number];

export const STATUS_CHANGE_LABELS: Record<SupplierStatusChange, Label> = {
  restrict: { en: 'Restrict the scope of cooperation', zh: '限制合作范围' },
  lift_restriction: { en: 'Lift the restriction', zh: '解除限制' },
  suspend: { en: 'Suspend cooperation', zh: '暂停合作' },
  lift_suspension: { en: 'Lift the suspension', zh: '恢复合作' },
  terminate: { en: 'End cooperation', zh: '终止合作' },
  blacklist: { en: 'Blacklist', zh: '列入黑名单' },
};

/** The statuses each change may start from. */
const CHANGE_FROM: Record<SupplierStatusChange, readonly SupplierStatus[]> = {
  restrict: ['active'],
  lift_restriction: ['restricted'],
  // A supplier still awaiting its first review may be put on hold too.
  suspend: ['pending', 'active', 'restricted'],
  lift_suspension: ['suspended'],
  terminate: ['pending', 'active', 'restricted', 'suspended'],
  blacklist: ['pending', 'active', 'restricted', 'suspended', 'terminated'],
};

/**
 * Ending cooperation and blacklisting are hard to undo and affect the
 * supplier's business: two approvers from two functions (four-eyes), as for
 * the same decision inside a review.
 */
export function statusChangeNeedsFourEyes(change: SupplierStatusChange): boolean {
  return change === 'terminate' || change === 'blacklist';
}

/** Null when the change may be asked for from this status; otherwise why not. */
export function statusChangeProblem(status: SupplierStatus, change: SupplierStatusChange): string | null {
  if (CHANGE_FROM[change].includes(status)) return null;
  if (status === 'blacklisted') return 'the supplier is blacklisted; that is final';
  if (status === 'terminated' && change !== 'blacklist')
    return 'cooperation with the supplier has ended; that is final';
  return `${change} applies to a supplier that is ${CHANGE_FROM[change].join(' or ')}; this one is ${status}`;
}

/** What a supplier's conditions look like in the registry. */
export type SupplierConditionRecord = ReviewCondition & { since: string; caseId: string };

/**
 * The supplier after an approved change: its status and its conditions. A
 * restriction is recorded as a restricted_scope condition (with the case that
 * imposed it), and lifting it removes every restricted scope; lifting a
 * suspension returns the supplier where it stood: restricted while a
 * restricted scope holds, pending if it was never reviewed, else active.
 */
export function supplierAfterChange(
  supplier: { status: SupplierStatus; conditions: SupplierConditionRecord[]; reviewed: boolean },
  change: SupplierStatusChange,
  by: { caseId: string; reason: string; at: string },
): { status: SupplierStatus; conditions: SupplierConditionRecord[] } {
  const restricted = (c: SupplierConditionRecord) => c.type === 'restricted_scope';
  switch (change) {
    case 'restrict':
      return {
        status: 'restricted',
        conditions: [
          ...supplier.conditions,
          { type: 'restricted_scope', detail: by.reason, since: by.at, caseId: by.caseId },
        ],
      };
    case 'lift_restriction':
      return { status: 'active', conditions: supplier.conditions.filter((c) => !restricted(c)) };
    case 'suspend':
      return { status: 'suspended', conditions: supplier.conditions };
    case 'lift_suspension':
      return {
        status: supplier.conditions.some(restricted) ? 'restricted' : supplier.reviewed ? 'active' : 'pending',
        conditions: supplier.conditions,
      };
    case 'terminate':
      return { status: 'terminated', conditions: supplier.conditions };
    case 'blacklist':
      return { status: 'blacklisted', conditions: supplier.conditions };
  }
}
