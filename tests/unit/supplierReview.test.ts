import { describe, expect, it } from 'vitest';
import {
  CONDITION_TYPES,
  DIMENSION_WEIGHTS,
  LABELS,
  REVIEW_DOCUMENTS,
  SCORE_DIMENSIONS,
  SUPPLIER_DECISIONS,
  SUPPLIER_STATUSES,
  SUPPLIER_TIERS,
  applyHandbookRules,
  conditionNeedsRectification,
  decisionsAgainst,
  gradeReview,
  isAgainstRecommendation,
  REASSESSMENT_LABELS,
  REASSESSMENT_TRIGGERS,
  STATUS_CHANGE_LABELS,
  statusChangeNeedsFourEyes,
  statusChangeProblem,
  supplierAfterChange,
  SUPPLIER_STATUS_CHANGES,
  addCalendarMonthsUtc,
  nextReviewDue,
  performanceRecordsProblem,
  probabilityFromScores,
  requiresFourEyes,
  reviewStatusProblem,
  scoreProblem,
  statusAfterDecision,
  statusAfterReview,
  weightedScore,
  type DimensionScores,
  type PerformanceRecord,
  type RuleFinding,
} from '../../domain/supplierReview';

function scoresAll(score: number): DimensionScores {
  return Object.fromEntries(SCORE_DIMENSIONS.map((d) => [d, score])) as DimensionScores;
}

/** A record with nothing wrong; tests override what they examine. */
function record(year: number, overrides: Partial<PerformanceRecord> = {}): PerformanceRecord {
  return {
    year,
    samplingResult: 'pass',
    complaints: 0,
    logisticsDelayRate: 0.02,
    financialStatementsAbnormal: false,
    qualityScore: 92,
    ...overrides,
  };
}

const abnormal = { financialStatementsAbnormal: true };
const failed = { samplingResult: 'fail' } as const;

function rulesFired(records: PerformanceRecord[], reviewYear: number) {
  return applyHandbookRules(records, reviewYear).map((f) => f.rule);
}

describe('labels', () => {
  it('give English and Chinese for every value', () => {
    const groups: [Record<string, { en: string; zh: string }>, readonly string[]][] = [
      [LABELS.status, SUPPLIER_STATUSES],
      [LABELS.tier, SUPPLIER_TIERS],
      [LABELS.document, REVIEW_DOCUMENTS],
      [LABELS.dimension, SCORE_DIMENSIONS],
      [LABELS.decision, SUPPLIER_DECISIONS],
      [LABELS.condition, CONDITION_TYPES],
      [LABELS.rule, ['financial_abnormal_3_years', 'sampling_failed_2_years', 'logistics_delay_15_percent'] as const],
    ];
    for (const [labels, values] of groups) {
      expect(Object.keys(labels).sort()).toEqual([...values].sort());
      for (const v of values) {
        expect(labels[v]!.en.trim()).not.toBe('');
        expect(labels[v]!.zh).toMatch(/[\u4e00-\u9fff]/);
      }
    }
    expect(LABELS.document.business_licence.zh).toBe('营业执照');
    expect(LABELS.condition.supplementary_agreement.zh).toContain('附加协议');
    expect(LABELS.status.blacklisted.zh).toBe('黑名单');
  });
});

describe('dimension scores', () => {
  it('weights sum to 1, with legal compliance and financial stability weighing most', () => {
    const weights = SCORE_DIMENSIONS.map((d) => DIMENSION_WEIGHTS[d]);
    expect(weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    const others = [DIMENSION_WEIGHTS.technical_capability, DIMENSION_WEIGHTS.market_reputation];
    for (const top of [DIMENSION_WEIGHTS.legal_compliance, DIMENSION_WEIGHTS.financial_stability]) {
      for (const other of [...others, DIMENSION_WEIGHTS.cooperation_history]) expect(top).toBeGreaterThan(other);
    }
  });

  it('accepts complete integer scores from 1 to 5', () => {
    expect(scoreProblem(scoresAll(1))).toBeNull();
    expect(scoreProblem(scoresAll(5))).toBeNull();
  });

  it('names what is wrong with the scores', () => {
    expect(scoreProblem(null)).toMatch(/must be an object/);
    expect(scoreProblem([1, 2, 3, 4, 5])).toMatch(/must be an object/);
    expect(scoreProblem('5')).toMatch(/must be an object/);
    const { market_reputation: _omitted, ...missing } = scoresAll(3);
    expect(scoreProblem(missing)).toMatch(/market_reputation score is missing/);
    expect(scoreProblem({ ...scoresAll(3), legal_compliance: 0 })).toMatch(/legal_compliance .* got 0/);
    expect(scoreProblem({ ...scoresAll(3), financial_stability: 6 })).toMatch(/financial_stability .* got 6/);
    expect(scoreProblem({ ...scoresAll(3), cooperation_history: 3.5 })).toMatch(/cooperation_history .* got 3.5/);
    expect(scoreProblem({ ...scoresAll(3), technical_capability: '4' })).toMatch(/technical_capability .* got "4"/);
    expect(scoreProblem({ ...scoresAll(3), strategy: 4 })).toMatch(/"strategy" is not a score dimension/);
  });

  it('computes the weighted mean to two decimals', () => {
    expect(weightedScore(scoresAll(4))).toBe(4);
    // 0.30×5 + 0.25×4 + 0.15×(3 + 2 + 1) = 1.5 + 1 + 0.9
    expect(
      weightedScore({
        legal_compliance: 5,
        financial_stability: 4,
        technical_capability: 3,
        market_reputation: 2,
        cooperation_history: 1,
      }),
    ).toBe(3.4);
    // Float-prone mix: 0.30×1 + 0.25×2 + 0.15×(3 + 3 + 3) = 0.3 + 0.5 + 1.35 = 2.15 exactly.
    expect(
      weightedScore({
        legal_compliance: 1,
        financial_stability: 2,
        technical_capability: 3,
        market_reputation: 3,
        cooperation_history: 3,
      }),
    ).toBe(2.15);
  });

  it('weighs by the policy’s weights when given them', () => {
    const scores = {
      legal_compliance: 5,
      financial_stability: 1,
      technical_capability: 1,
      market_reputation: 1,
      cooperation_history: 1,
    };
    const allOnLegal = {
      legal_compliance: 1,
      financial_stability: 0,
      technical_capability: 0,
      market_reputation: 0,
      cooperation_history: 0,
    };
    expect(weightedScore(scores)).toBe(2.2);
    expect(weightedScore(scores, allOnLegal)).toBe(5);
    expect(probabilityFromScores(scores, allOnLegal)).toBe(1);
    // Weights finer than a percent still give a score to two decimals.
    const thirds = { ...allOnLegal, legal_compliance: 1 / 3, financial_stability: 1 / 3, cooperation_history: 1 / 3 };
    expect(weightedScore(scores, thirds)).toBe(2.33);
  });

  it('lets legal compliance move the score more than cooperation history', () => {
    const base = scoresAll(3);
    expect(weightedScore({ ...base, legal_compliance: 1 })).toBeLessThan(
      weightedScore({ ...base, cooperation_history: 1 }),
    );
  });

  it('refuses malformed scores rather than grading them', () => {
    expect(() => weightedScore({ ...scoresAll(3), legal_compliance: 9 })).toThrow(RangeError);
    expect(() => probabilityFromScores({ ...scoresAll(3), legal_compliance: 0 })).toThrow(/legal_compliance/);
  });

  it('turns a weak supplier into a likely failure: probability 6 − round(score)', () => {
    expect(probabilityFromScores(scoresAll(5))).toBe(1);
    expect(probabilityFromScores(scoresAll(1))).toBe(5);
    expect(probabilityFromScores(scoresAll(3))).toBe(3);
    // 3.4 rounds to 3 → 3; 2.15 rounds to 2 → 4.
    expect(
      probabilityFromScores({
        legal_compliance: 5,
        financial_stability: 4,
        technical_capability: 3,
        market_reputation: 2,
        cooperation_history: 1,
      }),
    ).toBe(3);
    expect(
      probabilityFromScores({
        legal_compliance: 1,
        financial_stability: 2,
        technical_capability: 3,
        market_reputation: 3,
        cooperation_history: 3,
      }),
    ).toBe(4);
    // Exactly half-way: 0.30×1 + 0.25×4 + 0.15×(3 + 3 + 2) = 0.3 + 1 + 1.2 = 2.5, which
    // rounds up to 3 (the supplier gets the benefit of the doubt) → probability 3.
    const halfWay = {
      legal_compliance: 1,
      financial_stability: 4,
      technical_capability: 3,
      market_reputation: 3,
      cooperation_history: 2,
    };
    expect(weightedScore(halfWay)).toBe(2.5);
    expect(probabilityFromScores(halfWay)).toBe(3);
  });
});

describe('handbook rule: financial statements abnormal three consecutive years → blacklist', () => {
  it('fires on three consecutive abnormal years ending at the latest record', () => {
    const findings = applyHandbookRules([record(2022, abnormal), record(2023, abnormal), record(2024, abnormal)], 2024);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      rule: 'financial_abnormal_3_years',
      recommendation: 'blacklist',
      years: [2022, 2023, 2024],
    });
    expect(findings[0]!.detail).toMatch(/3 consecutive years \(2022, 2023 and 2024\)/);
  });

  it('does not fire on two', () => {
    expect(rulesFired([record(2022), record(2023, abnormal), record(2024, abnormal)], 2024)).toEqual([]);
  });

  it('reports the whole run when it is longer than three', () => {
    const findings = applyHandbookRules(
      [2020, 2021, 2022, 2023].map((y) => record(y, abnormal)),
      2023,
    );
    expect(findings[0]!.years).toEqual([2020, 2021, 2022, 2023]);
  });

  it('is broken by a year with no record', () => {
    expect(rulesFired([record(2021, abnormal), record(2023, abnormal), record(2024, abnormal)], 2024)).toEqual([]);
  });

  it('does not fire when the latest year is normal again', () => {
    const records = [record(2021, abnormal), record(2022, abnormal), record(2023, abnormal), record(2024)];
    expect(rulesFired(records, 2024)).toEqual([]);
    // …but a review of 2023 sees the run.
    expect(rulesFired(records, 2023)).toEqual(['financial_abnormal_3_years']);
  });

  it('ignores records after the review year', () => {
    const records = [record(2023, abnormal), record(2024, abnormal), record(2025, abnormal)];
    expect(rulesFired(records, 2024)).toEqual([]);
    expect(rulesFired(records, 2025)).toEqual(['financial_abnormal_3_years']);
  });

  it('does not depend on the order of the records', () => {
    expect(rulesFired([record(2024, abnormal), record(2022, abnormal), record(2023, abnormal)], 2024)).toEqual([
      'financial_abnormal_3_years',
    ]);
  });
});

describe('handbook rule: sampling failed two years in a row → terminate', () => {
  it('fires on the latest two consecutive years failing', () => {
    const findings = applyHandbookRules([record(2023, failed), record(2024, failed)], 2024);
    expect(findings).toEqual([
      expect.objectContaining({ rule: 'sampling_failed_2_years', recommendation: 'terminate', years: [2023, 2024] }),
    ]);
    expect(findings[0]!.detail).toMatch(/2 consecutive years \(2023 and 2024\)/);
  });

  it('does not fire on one failure', () => {
    expect(rulesFired([record(2023), record(2024, failed)], 2024)).toEqual([]);
  });

  it('is broken by a year not sampled', () => {
    expect(
      rulesFired([record(2022, failed), record(2023, { samplingResult: 'not_sampled' }), record(2024, failed)], 2024),
    ).toEqual([]);
    expect(
      rulesFired([record(2022, failed), record(2023, failed), record(2024, { samplingResult: 'not_sampled' })], 2024),
    ).toEqual([]);
  });

  it('is broken by a missing year', () => {
    expect(rulesFired([record(2022, failed), record(2024, failed)], 2024)).toEqual([]);
  });

  it('ignores a later failure after the review year', () => {
    expect(rulesFired([record(2023), record(2024, failed), record(2025, failed)], 2024)).toEqual([]);
  });

  it('judges the latest record year even when the review year has no record yet', () => {
    expect(rulesFired([record(2022, failed), record(2023, failed)], 2024)).toEqual(['sampling_failed_2_years']);
  });
});

describe('handbook rule: logistics delay rate of 15% → re-evaluate terms', () => {
  it('fires at exactly 15%, not at 14.99%', () => {
    expect(rulesFired([record(2024, { logisticsDelayRate: 0.15 })], 2024)).toEqual(['logistics_delay_15_percent']);
    expect(rulesFired([record(2024, { logisticsDelayRate: 0.1499 })], 2024)).toEqual([]);
    expect(rulesFired([record(2024, { logisticsDelayRate: 0.149999 })], 2024)).toEqual([]);
  });

  it('fires on a computed 15% that floating point puts a hair below', () => {
    const rate = 0.7 - 0.55;
    expect(rate).toBeLessThan(0.15);
    expect(rulesFired([record(2024, { logisticsDelayRate: rate })], 2024)).toEqual(['logistics_delay_15_percent']);
  });

  it('looks at the latest record year only', () => {
    expect(rulesFired([record(2023, { logisticsDelayRate: 0.3 }), record(2024)], 2024)).toEqual([]);
    expect(rulesFired([record(2023), record(2024), record(2025, { logisticsDelayRate: 0.4 })], 2024)).toEqual([]);
  });

  it('states the year and rate', () => {
    const [finding] = applyHandbookRules([record(2024, { logisticsDelayRate: 0.185 })], 2024);
    expect(finding).toMatchObject({ recommendation: 'renegotiate_terms', years: [2024] });
    expect(finding!.detail).toMatch(/18\.5% in 2024/);
  });

  it('takes the policy’s threshold when given one', () => {
    const records = [record(2024, { logisticsDelayRate: 0.12 })];
    expect(applyHandbookRules(records, 2024)).toEqual([]);
    const [finding] = applyHandbookRules(records, 2024, 0.1);
    expect(finding).toMatchObject({ rule: 'logistics_delay_15_percent', recommendation: 'renegotiate_terms' });
    expect(finding!.detail).toMatch(/12% in 2024, at or above the 10% at which the policy re-evaluates/);
    expect(applyHandbookRules([record(2024, { logisticsDelayRate: 0.16 })], 2024, 0.2)).toEqual([]);
  });
});

describe('handbook rules together', () => {
  it('reports every rule that fires, in a fixed order', () => {
    const records = [
      record(2022, { ...abnormal }),
      record(2023, { ...abnormal, ...failed }),
      record(2024, { ...abnormal, ...failed, logisticsDelayRate: 0.2 }),
    ];
    expect(rulesFired(records, 2024)).toEqual([
      'financial_abnormal_3_years',
      'sampling_failed_2_years',
      'logistics_delay_15_percent',
    ]);
  });

  it('finds nothing without records in range', () => {
    expect(applyHandbookRules([], 2024)).toEqual([]);
    expect(applyHandbookRules([record(2025, { logisticsDelayRate: 0.5 })], 2024)).toEqual([]);
  });

  it('refuses malformed records', () => {
    expect(() => applyHandbookRules([record(2024), record(2024)], 2024)).toThrow(/two performance records for 2024/);
    expect(performanceRecordsProblem([record(2024, { logisticsDelayRate: 15 })])).toMatch(/logisticsDelayRate/);
    expect(performanceRecordsProblem([record(2024, { qualityScore: 101 })])).toMatch(/qualityScore/);
    expect(performanceRecordsProblem([record(2024, { complaints: -1 })])).toMatch(/complaints/);
    expect(performanceRecordsProblem([{ ...record(2024), samplingResult: 'ok' }])).toMatch(/samplingResult/);
    expect(performanceRecordsProblem([{ ...record(2024), year: 2024.5 }])).toMatch(/year/);
    expect(performanceRecordsProblem('records')).toMatch(/list/);
    expect(performanceRecordsProblem([record(2023), record(2024)])).toBeNull();
    expect(() => applyHandbookRules([record(2024)], 2024.5)).toThrow(/reviewYear/);
  });
});

describe('gradeReview', () => {
  const finding = (recommendation: RuleFinding['recommendation']): RuleFinding => ({
    rule:
      recommendation === 'blacklist'
        ? 'financial_abnormal_3_years'
        : recommendation === 'terminate'
          ? 'sampling_failed_2_years'
          : 'logistics_delay_15_percent',
    recommendation,
    years: [2024],
    detail: `Finding that recommends ${recommendation}.`,
  });
  const clean = { scores: scoresAll(5), impact: 3, findings: [], missingDocuments: [] };

  it('grades by the policy’s matrix cut-offs and weights when given them', () => {
    // Score 4 everywhere: probability 2; with impact 3, 2 × 3 = 6 is medium by the default cut-offs.
    const input = { ...clean, scores: scoresAll(4) };
    expect(gradeReview(input)).toMatchObject({ matrixLevel: 'medium', recommendation: 'approve_with_conditions' });
    expect(gradeReview({ ...input, cutoffs: { mediumFrom: 7, highFrom: 15 } })).toMatchObject({
      matrixLevel: 'low',
      recommendation: 'approve',
    });
    const legalOnly = {
      legal_compliance: 1,
      financial_stability: 0,
      technical_capability: 0,
      market_reputation: 0,
      cooperation_history: 0,
    };
    const weak = { ...input, scores: { ...scoresAll(5), legal_compliance: 1 } };
    expect(gradeReview(weak).probability).toBe(2);
    expect(gradeReview({ ...weak, weights: legalOnly })).toMatchObject({ probability: 5, weightedScore: 1 });
  });

  it('approves a strong supplier with nothing against it', () => {
    const grade = gradeReview(clean);
    expect(grade).toMatchObject({
      probability: 1,
      impact: 3,
      matrixLevel: 'low',
      riskGrade: 'low',
      weightedScore: 5,
      recommendation: 'approve',
    });
    expect(grade.reasons[0]).toMatch(/weighted score of 5\.00 gives probability 1; with impact 3 .* low \(1 × 3 = 3\)/);
    expect(grade.reasons[grade.reasons.length - 1]).toMatch(/approval is recommended/);
  });

  it('takes the grade from the matrix and asks for conditions when it is medium', () => {
    const grade = gradeReview({ ...clean, scores: scoresAll(3), impact: 3 });
    expect(grade).toMatchObject({ probability: 3, matrixLevel: 'medium', riskGrade: 'medium' });
    expect(grade.recommendation).toBe('approve_with_conditions');
    expect(grade.reasons.some((r) => /medium risk-matrix grade/.test(r))).toBe(true);
  });

  it('keeps a high matrix grade at approve with conditions when no rule fired', () => {
    const grade = gradeReview({ ...clean, scores: scoresAll(1), impact: 5 });
    expect(grade).toMatchObject({ matrixLevel: 'high', riskGrade: 'high', recommendation: 'approve_with_conditions' });
  });

  it('raises the grade to high on a blacklist or terminate finding', () => {
    for (const recommendation of ['blacklist', 'terminate'] as const) {
      const grade = gradeReview({ ...clean, findings: [finding(recommendation)] });
      expect(grade.matrixLevel).toBe('low');
      expect(grade.riskGrade).toBe('high');
      expect(grade.recommendation).toBe(recommendation);
      expect(grade.reasons.some((r) => r.startsWith(`Finding that recommends ${recommendation}.`))).toBe(true);
    }
  });

  it('raises a low grade to medium, with conditions, for each lesser concern', () => {
    const cases = [
      { findings: [finding('renegotiate_terms')] },
      { missingDocuments: ['financial_statements' as const] },
      { backgroundCheck: 'concerns' as const },
      { creditRating: 'CCC' },
      { creditRating: 'cc' },
      { creditRating: ' C ' },
      { creditRating: 'CCC+' },
    ];
    for (const extra of cases) {
      const grade = gradeReview({ ...clean, ...extra });
      expect(grade.riskGrade, JSON.stringify(extra)).toBe('medium');
      expect(grade.recommendation, JSON.stringify(extra)).toBe('approve_with_conditions');
      expect(grade.reasons.length, JSON.stringify(extra)).toBe(2);
    }
  });

  it('does not lower a high grade for a lesser concern', () => {
    const grade = gradeReview({ ...clean, scores: scoresAll(1), impact: 5, backgroundCheck: 'concerns' });
    expect(grade.riskGrade).toBe('high');
  });

  it('leaves the grade alone for ratings above the C range and a clear background check', () => {
    for (const creditRating of ['AAA', 'BBB', 'B', 'B-', 'CCCC', 'AC']) {
      expect(gradeReview({ ...clean, creditRating, backgroundCheck: 'clear' }).riskGrade, creditRating).toBe('low');
    }
  });

  it('names the missing documents in handbook order and drops duplicates', () => {
    const grade = gradeReview({
      ...clean,
      missingDocuments: ['product_certificates', 'business_licence', 'product_certificates'],
    });
    expect(grade.missingDocuments).toEqual(['business_licence', 'product_certificates']);
    expect(grade.reasons.some((r) => /business licence, product qualification certificates/.test(r))).toBe(true);
  });

  it('recommends blacklist over terminate over conditions', () => {
    const all = [finding('renegotiate_terms'), finding('terminate'), finding('blacklist')];
    expect(gradeReview({ ...clean, findings: all }).recommendation).toBe('blacklist');
    expect(gradeReview({ ...clean, findings: all.slice(0, 2) }).recommendation).toBe('terminate');
    expect(gradeReview({ ...clean, findings: all.slice(0, 1) }).recommendation).toBe('approve_with_conditions');
    expect(gradeReview({ ...clean, findings: all }).reasons).toHaveLength(4);
  });

  it('runs on findings from applyHandbookRules', () => {
    const findings = applyHandbookRules([record(2023, failed), record(2024, failed)], 2024);
    const grade = gradeReview({ ...clean, findings });
    expect(grade.recommendation).toBe('terminate');
    expect(grade.reasons[1]).toMatch(/Sampling inspection failed .*\(2023 and 2024\)/);
  });

  it('refuses an impact off the 1–5 scale and malformed scores', () => {
    expect(() => gradeReview({ ...clean, impact: 0 })).toThrow(/impact/);
    expect(() => gradeReview({ ...clean, impact: 2.5 })).toThrow(RangeError);
    expect(() => gradeReview({ ...clean, scores: { ...scoresAll(3), legal_compliance: 7 } })).toThrow(
      /legal_compliance/,
    );
  });
});

describe('decisions', () => {
  it('needs four eyes for high risk, termination and blacklisting', () => {
    expect(requiresFourEyes('high', 'approve')).toBe(true);
    expect(requiresFourEyes('high', 'approve_with_conditions')).toBe(true);
    expect(requiresFourEyes('low', 'terminate')).toBe(true);
    expect(requiresFourEyes('medium', 'blacklist')).toBe(true);
    expect(requiresFourEyes('medium', 'approve_with_conditions')).toBe(false);
    expect(requiresFourEyes('low', 'approve')).toBe(false);
  });

  it('sets the supplier status from the decision and its conditions', () => {
    expect(statusAfterDecision('approve', [])).toBe('active');
    expect(statusAfterDecision('approve_with_conditions', [{ type: 'guarantee', detail: 'bank guarantee' }])).toBe(
      'active',
    );
    expect(
      statusAfterDecision('approve_with_conditions', [
        { type: 'supplementary_agreement', detail: 'late-delivery penalties' },
        { type: 'restricted_scope', detail: 'no cold-chain goods' },
      ]),
    ).toBe('restricted');
    expect(statusAfterDecision('terminate', [])).toBe('terminated');
    expect(statusAfterDecision('blacklist', [{ type: 'restricted_scope', detail: 'ignored' }])).toBe('blacklisted');
  });

  it('leaves a suspension or an end approved while the review ran standing', () => {
    expect(statusAfterReview('pending', 'approve', [])).toBe('active');
    expect(statusAfterReview('active', 'terminate', [])).toBe('terminated');
    expect(statusAfterReview('suspended', 'approve', [])).toBe('suspended');
    expect(statusAfterReview('suspended', 'terminate', [])).toBe('terminated');
    expect(statusAfterReview('terminated', 'approve', [])).toBe('terminated');
    expect(statusAfterReview('terminated', 'blacklist', [])).toBe('blacklisted');
    expect(statusAfterReview('blacklisted', 'approve', [])).toBe('blacklisted');
  });

  it('tracks guarantees and agreements as rectification work, not a restricted scope', () => {
    expect(conditionNeedsRectification('guarantee')).toBe(true);
    expect(conditionNeedsRectification('supplementary_agreement')).toBe(true);
    expect(conditionNeedsRectification('restricted_scope')).toBe(false);
  });

  it('lets a review start for a pending supplier (its first) and for active or restricted ones', () => {
    expect(reviewStatusProblem('pending')).toBeNull();
    expect(reviewStatusProblem('active')).toBeNull();
    expect(reviewStatusProblem('restricted')).toBeNull();
    expect(reviewStatusProblem('suspended')).toMatch(/suspended/);
    expect(reviewStatusProblem('terminated')).toMatch(/terminated/);
    expect(reviewStatusProblem('blacklisted')).toMatch(/blacklisted/);
  });
});

describe('a decision against the recommendation', () => {
  it('is approving what the rules would end, or ending what they would keep', () => {
    expect(decisionsAgainst('blacklist')).toEqual(['approve', 'approve_with_conditions']);
    expect(decisionsAgainst('terminate')).toEqual(['approve', 'approve_with_conditions']);
    expect(decisionsAgainst('approve')).toEqual(['terminate', 'blacklist']);
    expect(decisionsAgainst('approve_with_conditions')).toEqual(['terminate', 'blacklist']);
    expect(isAgainstRecommendation('blacklist', 'approve_with_conditions')).toBe(true);
    expect(isAgainstRecommendation('blacklist', 'terminate')).toBe(false);
    expect(isAgainstRecommendation('approve', 'approve_with_conditions')).toBe(false);
    expect(isAgainstRecommendation('approve', 'terminate')).toBe(true);
  });
});

describe('reassessment triggers', () => {
  it('are the handbook’s three (market, policy, performance), labelled in both languages', () => {
    expect([...REASSESSMENT_TRIGGERS]).toEqual(['market', 'policy', 'performance']);
    for (const t of REASSESSMENT_TRIGGERS) expect(REASSESSMENT_LABELS[t].zh.length).toBeGreaterThan(1);
  });
});

describe('status changes', () => {
  const by = { caseId: 'supplier-status-change:X:1', reason: 'two quality incidents', at: '2026-05-01T00:00:00.000Z' };
  const restriction = { type: 'restricted_scope' as const, detail: 'no cold chain', since: by.at, caseId: 'r' };
  const guarantee = { type: 'guarantee' as const, detail: 'bank guarantee', since: by.at, caseId: 'g' };

  it('each applies only from the statuses it names; what ended stays ended', () => {
    expect(statusChangeProblem('active', 'restrict')).toBeNull();
    expect(statusChangeProblem('pending', 'restrict')).toMatch(
      /restrict applies to a supplier that is active; this one is pending/,
    );
    expect(statusChangeProblem('restricted', 'lift_restriction')).toBeNull();
    expect(statusChangeProblem('active', 'lift_restriction')).toMatch(/restricted; this one is active/);
    for (const from of ['pending', 'active', 'restricted'] as const)
      expect(statusChangeProblem(from, 'suspend')).toBeNull();
    expect(statusChangeProblem('suspended', 'lift_suspension')).toBeNull();
    expect(statusChangeProblem('suspended', 'terminate')).toBeNull();
    expect(statusChangeProblem('terminated', 'lift_suspension')).toMatch(/ended; that is final/);
    expect(statusChangeProblem('terminated', 'blacklist')).toBeNull();
    for (const change of SUPPLIER_STATUS_CHANGES) {
      expect(statusChangeProblem('blacklisted', change)).toMatch(/blacklisted; that is final/);
      expect(STATUS_CHANGE_LABELS[change].zh.length).toBeGreaterThan(1);
    }
  });

  it('needs four eyes to end cooperation or blacklist, one approver otherwise', () => {
    expect(SUPPLIER_STATUS_CHANGES.filter(statusChangeNeedsFourEyes)).toEqual(['terminate', 'blacklist']);
  });

  it('records a restriction as a restricted scope, and lifting it removes only that', () => {
    const restricted = supplierAfterChange(
      { status: 'active', conditions: [guarantee], reviewed: true },
      'restrict',
      by,
    );
    expect(restricted).toEqual({
      status: 'restricted',
      conditions: [guarantee, { type: 'restricted_scope', detail: by.reason, since: by.at, caseId: by.caseId }],
    });
    expect(supplierAfterChange({ ...restricted, reviewed: true }, 'lift_restriction', by)).toEqual({
      status: 'active',
      conditions: [guarantee],
    });
  });

  it('returns a suspended supplier to where it stood', () => {
    const lift = (conditions: (typeof restriction)[], reviewed: boolean) =>
      supplierAfterChange({ status: 'suspended', conditions, reviewed }, 'lift_suspension', by).status;
    expect(lift([restriction], true)).toBe('restricted');
    expect(lift([], true)).toBe('active');
    expect(lift([], false)).toBe('pending');
    expect(supplierAfterChange({ status: 'active', conditions: [], reviewed: true }, 'terminate', by).status).toBe(
      'terminated',
    );
  });
});

describe('nextReviewDue', () => {
  const at = (iso: string) => new Date(iso);

  it('is twelve months later whatever the grade, keeping the time of day', () => {
    expect(nextReviewDue(at('2024-03-15T09:30:00Z'), 'low', 'approve')).toEqual(at('2025-03-15T09:30:00Z'));
    expect(nextReviewDue(at('2024-03-15T09:30:00Z'), 'medium', 'approve_with_conditions')).toEqual(
      at('2025-03-15T09:30:00Z'),
    );
  });

  it('is twelve months later for high risk too (a material change opens a reassessment instead)', () => {
    expect(nextReviewDue(at('2024-03-15T00:00:00Z'), 'high', 'approve_with_conditions')).toEqual(
      at('2025-03-15T00:00:00Z'),
    );
  });

  it('takes the policy’s interval when given one, and refuses a non-whole one', () => {
    expect(nextReviewDue(at('2024-03-15T00:00:00Z'), 'low', 'approve', 6)).toEqual(at('2024-09-15T00:00:00Z'));
    expect(nextReviewDue(at('2024-03-15T00:00:00Z'), 'low', 'terminate', 6)).toBeNull();
    expect(() => nextReviewDue(at('2024-03-15T00:00:00Z'), 'low', 'approve', 0)).toThrow(RangeError);
    expect(() => nextReviewDue(at('2024-03-15T00:00:00Z'), 'low', 'approve', 1.5)).toThrow(RangeError);
  });

  it('falls on the last day of a shorter month', () => {
    expect(nextReviewDue(at('2024-02-29T12:00:00Z'), 'low', 'approve')).toEqual(at('2025-02-28T12:00:00Z'));
    expect(addCalendarMonthsUtc(at('2023-08-31T00:00:00Z'), 6)).toEqual(at('2024-02-29T00:00:00Z'));
    expect(addCalendarMonthsUtc(at('2024-08-31T00:00:00Z'), 6)).toEqual(at('2025-02-28T00:00:00Z'));
    expect(addCalendarMonthsUtc(at('2024-12-31T00:00:00Z'), 6)).toEqual(at('2025-06-30T00:00:00Z'));
    expect(nextReviewDue(at('2024-01-31T00:00:00Z'), 'low', 'approve')).toEqual(at('2025-01-31T00:00:00Z'));
  });

  it('counts in UTC, not local time', () => {
    // 23:30 UTC on 31 Jan is already 1 Feb in Beijing; the UTC day decides.
    expect(nextReviewDue(at('2024-01-31T23:30:00Z'), 'low', 'approve')).toEqual(at('2025-01-31T23:30:00Z'));
  });

  it('is null once cooperation ends', () => {
    expect(nextReviewDue(at('2024-03-15T00:00:00Z'), 'high', 'terminate')).toBeNull();
    expect(nextReviewDue(at('2024-03-15T00:00:00Z'), 'high', 'blacklist')).toBeNull();
  });

  it('does not change the date it was given and refuses an invalid one', () => {
    const decidedAt = at('2024-02-29T00:00:00Z');
    nextReviewDue(decidedAt, 'low', 'approve');
    expect(decidedAt.toISOString()).toBe('2024-02-29T00:00:00.000Z');
    expect(() => nextReviewDue(new Date('not a date'), 'low', 'approve')).toThrow(RangeError);
  });
});
