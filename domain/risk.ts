/**
 * Risk grading by the handbook's risk matrix: probability × impact (DOMAIN.md
 * §1, §5). Both axes are scored 1–5; the product decides the level.
 */
export const RISK_LEVELS = ['low', 'medium', 'high'] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

export const RISK_LEVEL_LABELS: Record<RiskLevel, { en: string; zh: string }> = {
  low: { en: 'Low', zh: '低' },
  medium: { en: 'Medium', zh: '中' },
  high: { en: 'High', zh: '高' },
};

export type MatrixScore = 1 | 2 | 3 | 4 | 5;

/** Where the matrix's products turn medium and high: the policy's risk.mediumFrom and risk.highFrom. */
export interface MatrixCutoffs {
  mediumFrom: number;
  highFrom: number;
}

/** Policy default (domain/policy.ts): products up to 4 are low, 5–14 medium, 15 and above high. */
export const DEFAULT_MATRIX_CUTOFFS: MatrixCutoffs = { mediumFrom: 5, highFrom: 15 };

/** The level of a 5×5 matrix cell, probability × impact, by the policy's cut-offs. */
export function riskLevelFromMatrix(
  probability: number,
  impact: number,
  cutoffs: MatrixCutoffs = DEFAULT_MATRIX_CUTOFFS,
): RiskLevel {
  for (const [name, v] of [
    ['probability', probability],
    ['impact', impact],
  ] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 5) {
      throw new RangeError(`${name} must be an integer from 1 to 5, got ${v}`);
    }
  }
  const score = probability * impact;
  if (score >= cutoffs.highFrom) return 'high';
  if (score >= cutoffs.mediumFrom) return 'medium';
  return 'low';
}

/** Four-eyes: high-risk decisions need two distinct approvers. */
export function approvalsRequiredFor(riskLevel: RiskLevel): 1 | 2 {
  return riskLevel === 'high' ? 2 : 1;
}
