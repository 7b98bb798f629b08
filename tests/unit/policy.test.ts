import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { applyPolicyChange, DEFAULT_POLICY, policyLeaves, policySource, policyValuesSchema } from '../../domain/policy';
import { riskLevelFromMatrix } from '../../domain/risk';
import { storedValues } from '../../platform/policy';

describe('the policy', () => {
  it('version 1 is valid and every parameter has a source', () => {
    expect(policyValuesSchema().safeParse(DEFAULT_POLICY).success).toBe(true);
    for (const [path] of policyLeaves(DEFAULT_POLICY)) expect(policySource(path), path).toBeTruthy();
  });

  it('the handbooks’ own figures are the defaults where they give one', () => {
    expect(DEFAULT_POLICY.complaint).toMatchObject({ initialInvestigationWithin: '24h', resultWithin: '48h' });
    expect(policySource('complaint.resultWithin')).toMatch(/internet-finance manual §4\.4/);
    expect(DEFAULT_POLICY.plan.revisionIntervalYears).toBe(3);
    expect(DEFAULT_POLICY.supplier.reviewIntervalMonths).toBe(12);
    expect(DEFAULT_POLICY.supplier.logisticsDelayThreshold).toBe(0.15);
    expect(policySource('risk.highFrom')).toMatch(/not in the handbooks/);
  });

  it('applies a change deep, naming what changed, and leaves the rest', () => {
    const result = applyPolicyChange(DEFAULT_POLICY, { complaint: { resultWithin: '36h' } });
    expect(result).toMatchObject({ ok: true, changed: ['complaint.resultWithin'] });
    if (!result.ok) return;
    expect(result.values.complaint).toEqual({ ...DEFAULT_POLICY.complaint, resultWithin: '36h' });
    expect(result.values.incident).toEqual(DEFAULT_POLICY.incident);
    // The defaults themselves are untouched.
    expect(DEFAULT_POLICY.complaint.resultWithin).toBe('48h');
  });

  it('refuses unknown parameters, bad values and broken orders, naming the field', () => {
    const problem = (change: Record<string, unknown>) => {
      const result = applyPolicyChange(DEFAULT_POLICY, change);
      return result.ok ? null : result.problem;
    };
    expect(problem({ complaint: { resultWithn: '36h' } })).toBe('complaint.resultWithn is not a policy parameter');
    expect(problem({ nonsense: 1 })).toBe('nonsense is not a policy parameter');
    expect(problem({ complaint: { resultWithin: 'soon' } })).toMatch(/^complaint\.resultWithin: /);
    expect(problem({ approval: { remindAfter: '9d' } })).toMatch(/remindAfter ≤ escalateAfter ≤ expireAfter/);
    expect(problem({ risk: { mediumFrom: 15 } })).toMatch(/mediumFrom must be below highFrom/);
    expect(problem({ supplier: { dimensionWeights: { legal_compliance: 0.5 } } })).toMatch(/weights must sum to 1/);
    expect(problem({ incident: { gradeThresholds: { outageMinutes: { I: 10, II: 240, III: 60 } } } })).toMatch(
      /must fall from grade I to grade III/,
    );
    expect(problem({ plan: { revisionIntervalYears: 4 } })).toMatch(/^plan\.revisionIntervalYears: /);
    expect(problem({ risk: { highFrom: 15 } })).toBe('the change leaves the policy as it is');
  });

  it('a version published before a parameter existed reads it as its default', () => {
    const { riskRegister: _r, audit: _a, ...older } = DEFAULT_POLICY;
    const stored = { ...older, complaint: { ...older.complaint, resultWithin: '36h' } };
    const values = storedValues(stored as Record<string, unknown>);
    expect(values.complaint.resultWithin).toBe('36h');
    expect(values.riskRegister).toEqual(DEFAULT_POLICY.riskRegister);
    expect(() => storedValues({ ...stored, risk: { mediumFrom: 20, highFrom: 15 } })).toThrow();
  });

  it('the matrix levels follow the cut-offs', () => {
    expect(riskLevelFromMatrix(3, 4)).toBe('medium');
    expect(riskLevelFromMatrix(3, 4, { mediumFrom: 5, highFrom: 12 })).toBe('high');
    expect(riskLevelFromMatrix(1, 4)).toBe('low');
    expect(riskLevelFromMatrix(1, 4, { mediumFrom: 4, highFrom: 15 })).toBe('medium');
  });

  it('the README lists every parameter with its default', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const table = readme.slice(readme.indexOf('<!-- policy-table -->'), readme.indexOf('<!-- /policy-table -->'));
    for (const [path, value] of policyLeaves(DEFAULT_POLICY)) {
      const row = table.split('\n').find((line) => line.startsWith(`| \`${path}\``));
      expect(row, path).toBeDefined();
      expect(row, path).toContain(`\`${JSON.stringify(value)}\``);
    }
  });
});
