/**
 * The risk register (风险清单, e-commerce manual §1.2: "风险评估结果应形成风险清单，
 * 明确风险类别、发生概率、影响程度及应对措施"; internet-finance manual §5.1–5.2).
 *
 * Pure rules: the categories, the lines of defence, the ratings and their
 * computed levels, the appetite check, who may change a risk and who tests
 * its controls, and when a risk acceptance is valid or turns stale. No I/O.
 */
import { riskLevelFromMatrix, type MatrixCutoffs, type RiskLevel } from './risk';
import type { Role } from './roles';

/**
 * e-commerce §1.2: technical, operational, legal, compliance and user risk;
 * finance §5.1: credit, market, operational, liquidity (and legal/compliance).
 * One list, so a platform that does both keeps one register.
 */
export const RISK_CATEGORIES = [
  'technical',
  'operational',
  'legal',
  'compliance',
  'user',
  'credit',
  'market',
  'liquidity',
] as const;
export type RiskCategory = (typeof RISK_CATEGORIES)[number];

export const RISK_CATEGORY_LABELS: Record<RiskCategory, { en: string; zh: string }> = {
  technical: { en: 'Technical', zh: '技术风险' },
  operational: { en: 'Operational', zh: '运营/操作风险' },
  legal: { en: 'Legal', zh: '法律风险' },
  compliance: { en: 'Compliance', zh: '合规风险' },
  user: { en: 'User', zh: '用户风险' },
  credit: { en: 'Credit', zh: '信用风险' },
  market: { en: 'Market', zh: '市场风险' },
  liquidity: { en: 'Liquidity', zh: '流动性风险' },
};

/** finance §5.2 三道防线: the business line, risk control and compliance, internal audit. */
export const LINES_OF_DEFENCE = ['first', 'second', 'third'] as const;
export type LineOfDefence = (typeof LINES_OF_DEFENCE)[number];

export const LINE_OF_DEFENCE_LABELS: Record<LineOfDefence, { en: string; zh: string }> = {
  first: { en: 'First line (business)', zh: '第一道防线（业务部门）' },
  second: { en: 'Second line (risk control, compliance)', zh: '第二道防线（风控、合规）' },
  third: { en: 'Third line (internal audit)', zh: '第三道防线（内部审计）' },
};

/** How often a control (措施) is performed or checked. */
export const CONTROL_FREQUENCIES = ['daily', 'weekly', 'monthly', 'quarterly', 'yearly', 'per_event'] as const;
export type ControlFrequency = (typeof CONTROL_FREQUENCIES)[number];

export const CONTROL_TEST_RESULTS = ['effective', 'partially_effective', 'ineffective', 'not_tested'] as const;
export type ControlTestResult = (typeof CONTROL_TEST_RESULTS)[number];
/** What a tester may record: "not tested" is the state before any test, never a result. */
export const RECORDABLE_TEST_RESULTS = ['effective', 'partially_effective', 'ineffective'] as const;

/** Who raises risks in the register: the business line's managers and the risk function. */
export const RISK_EDITOR_ROLES = ['manager', 'risk'] as const satisfies readonly Role[];
/** Who tests controls: the second and third lines, never the business line that runs the control. */
export const CONTROL_TESTER_ROLES = ['risk', 'compliance', 'internal_audit'] as const satisfies readonly Role[];
/** Who decides a risk acceptance: risk control and compliance (finance §5.2 second line). */
export const ACCEPTANCE_APPROVER_ROLES = ['risk', 'compliance'] as const satisfies readonly Role[];

export interface MatrixRating {
  probability: number;
  impact: number;
}

export interface ComputedRating extends MatrixRating {
  score: number;
  level: RiskLevel;
}

/** The level is always computed from the matrix under the policy's cut-offs, never given. */
export function rate(rating: MatrixRating, cutoffs: MatrixCutoffs): ComputedRating {
  return {
    probability: rating.probability,
    impact: rating.impact,
    score: rating.probability * rating.impact,
    level: riskLevelFromMatrix(rating.probability, rating.impact, cutoffs),
  };
}

/** Above appetite: the residual score exceeds what the category tolerates (policy riskRegister.appetite). */
export function aboveAppetite(
  category: RiskCategory,
  residual: MatrixRating,
  appetite: Record<RiskCategory, number>,
): boolean {
  return residual.probability * residual.impact > appetite[category];
}

/** The residual rating after controls may not be worse than the inherent rating. */
export function ratingProblem(inherent: MatrixRating, residual: MatrixRating): string | undefined {
  if (residual.probability * residual.impact > inherent.probability * inherent.impact) {
    return 'the residual rating (after controls) may not exceed the inherent rating';
  }
  return undefined;
}

/** The fields of the register a version records. */
export interface RiskValues {
  title: string;
  category: RiskCategory;
  description: string;
  cause: string;
  consequence: string;
  ownerId: string;
  lineOfDefence: LineOfDefence;
  inherent: MatrixRating;
  residual: MatrixRating;
}

export const RISK_FIELDS = [
  'title',
  'category',
  'description',
  'cause',
  'consequence',
  'ownerId',
  'lineOfDefence',
  'inherent',
  'residual',
] as const satisfies readonly (keyof RiskValues)[];

/** Which fields differ between two versions (ratings compared by value). */
export function changedFields(before: RiskValues, after: RiskValues): Array<keyof RiskValues> {
  return RISK_FIELDS.filter((f) => JSON.stringify(before[f]) !== JSON.stringify(after[f]));
}

export function residualChanged(before: RiskValues, after: RiskValues): boolean {
  return before.residual.probability !== after.residual.probability || before.residual.impact !== after.residual.impact;
}

/**
 * Who may change a risk: the risk function, or the line manager of the
 * risk's owner (users.manager_id). A manager who is not the owner's line
 * manager may not edit someone else's risk.
 */
export function editRefusal(
  actor: { userId: string; roles: readonly Role[] },
  ownerManagerId: string | null,
): string | undefined {
  if (actor.roles.includes('risk')) return undefined;
  if (ownerManagerId && ownerManagerId === actor.userId) return undefined;
  return "only the risk function or the risk owner's line manager may change a risk";
}

/** A control's test is recorded by the second or third line, never by the control's owner. */
export function controlTestRefusal(
  actor: { userId: string; roles: readonly Role[] },
  controlOwnerId: string,
): { code: 'ROLE_NOT_PERMITTED' | 'SEGREGATION_OF_DUTIES'; message: string } | undefined {
  // Answered as everywhere: a role refusal is 403, a segregation-of-duties refusal 422.
  if (!actor.roles.some((r) => (CONTROL_TESTER_ROLES as readonly Role[]).includes(r))) {
    return { code: 'ROLE_NOT_PERMITTED', message: 'controls are tested by risk, compliance or internal audit' };
  }
  if (actor.userId === controlOwnerId) {
    return { code: 'SEGREGATION_OF_DUTIES', message: 'the owner of a control may not test it' };
  }
  return undefined;
}

/** An acceptance's expiry: in the future and at most policy riskRegister.acceptanceMaxDays away. */
export function acceptanceExpiryProblem(expiresAt: Date, now: Date, maxDays: number): string | undefined {
  if (expiresAt.getTime() <= now.getTime()) return 'expiresAt must be in the future';
  if (expiresAt.getTime() - now.getTime() > maxDays * 86_400_000) {
    return `expiresAt may be at most ${maxDays} days away (policy riskRegister.acceptanceMaxDays)`;
  }
  return undefined;
}

/** Four-eyes from two functions when the residual level is high (finance §5.2; domain/risk.ts). */
export function acceptanceApprovalsRequired(residualLevel: RiskLevel): 1 | 2 {
  return residualLevel === 'high' ? 2 : 1;
}

/**
 * A stale acceptance is due for review within this many days of turning
 * stale. Policy default: the handbooks set no number.
 */
export const ACCEPTANCE_REVIEW_WITHIN_DAYS = 30;

export const ACCEPTANCE_STATUSES = ['requested', 'active', 'stale', 'rejected', 'lapsed', 'cancelled'] as const;
export type AcceptanceStatus = (typeof ACCEPTANCE_STATUSES)[number];

export const STALE_REASONS = ['rating_changed', 'expired'] as const;
export type StaleReason = (typeof STALE_REASONS)[number];

/** The register's keys: RISK-<letters, digits, - or _>. */
export const RISK_KEY_PATTERN = /^RISK-[A-Z0-9][A-Z0-9_-]{0,40}$/;
