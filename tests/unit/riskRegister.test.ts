/** The register's pure rules (domain/riskRegister.ts): levels, appetite, edits, tests, acceptances. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../domain/policy';
import {
  aboveAppetite,
  acceptanceApprovalsRequired,
  acceptanceExpiryProblem,
  changedFields,
  controlTestRefusal,
  editRefusal,
  rate,
  ratingProblem,
  residualChanged,
  RISK_CATEGORIES,
  RISK_KEY_PATTERN,
  type RiskValues,
} from '../../domain/riskRegister';

const cutoffs = DEFAULT_POLICY.risk;
const appetite = DEFAULT_POLICY.riskRegister.appetite;

const base: RiskValues = {
  title: 'Gateway outage',
  category: 'technical',
  description: 'd',
  cause: 'c',
  consequence: 'q',
  ownerId: 'owner',
  lineOfDefence: 'first',
  inherent: { probability: 4, impact: 5 },
  residual: { probability: 2, impact: 3 },
};

describe('ratings', () => {
  it('computes score and level from the matrix under the policy cut-offs', () => {
    expect(rate({ probability: 2, impact: 2 }, cutoffs)).toEqual({ probability: 2, impact: 2, score: 4, level: 'low' });
    expect(rate({ probability: 1, impact: 5 }, cutoffs).level).toBe('medium');
    expect(rate({ probability: 3, impact: 5 }, cutoffs).level).toBe('high');
    expect(rate({ probability: 3, impact: 3 }, { mediumFrom: 4, highFrom: 9 }).level).toBe('high');
    expect(() => rate({ probability: 0, impact: 3 }, cutoffs)).toThrow(RangeError);
  });

  it('refuses a residual worse than the inherent', () => {
    expect(ratingProblem(base.inherent, base.residual)).toBeUndefined();
    expect(ratingProblem({ probability: 2, impact: 2 }, { probability: 3, impact: 2 })).toMatch(/may not exceed/);
  });

  it('is above appetite only when the residual score exceeds the category’s appetite', () => {
    expect(Object.keys(appetite).sort()).toEqual([...RISK_CATEGORIES].sort());
    expect(aboveAppetite('technical', { probability: 3, impact: 3 }, appetite)).toBe(false);
    expect(aboveAppetite('technical', { probability: 2, impact: 5 }, appetite)).toBe(true);
    expect(aboveAppetite('legal', { probability: 1, impact: 4 }, appetite)).toBe(false);
    expect(aboveAppetite('legal', { probability: 1, impact: 5 }, appetite)).toBe(true);
  });
});

describe('versions', () => {
  it('names the changed fields and notices a residual change', () => {
    const after = { ...base, title: 'Outage', residual: { probability: 2, impact: 3 } };
    expect(changedFields(base, after)).toEqual(['title']);
    expect(residualChanged(base, after)).toBe(false);
    const rerated = { ...base, residual: { probability: 3, impact: 3 } };
    expect(changedFields(base, rerated)).toEqual(['residual']);
    expect(residualChanged(base, rerated)).toBe(true);
  });
});

describe('who may do what', () => {
  it('edits: the risk function or the owner’s line manager', () => {
    expect(editRefusal({ userId: 'r', roles: ['risk'] }, null)).toBeUndefined();
    expect(editRefusal({ userId: 'm', roles: ['manager'] }, 'm')).toBeUndefined();
    expect(editRefusal({ userId: 'm', roles: ['manager'] }, 'other')).toMatch(/line manager/);
    expect(editRefusal({ userId: 'm', roles: ['manager'] }, null)).toMatch(/line manager/);
  });

  it('control tests: second or third line, never the control’s owner', () => {
    expect(controlTestRefusal({ userId: 'a', roles: ['internal_audit'] }, 'b')).toBeUndefined();
    expect(controlTestRefusal({ userId: 'a', roles: ['risk'] }, 'a')?.code).toBe('SEGREGATION_OF_DUTIES');
    expect(controlTestRefusal({ userId: 'a', roles: ['manager', 'action_owner'] }, 'b')?.code).toBe(
      'ROLE_NOT_PERMITTED',
    );
  });
});

describe('acceptances', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  it('expire in the future, at most acceptanceMaxDays away', () => {
    expect(acceptanceExpiryProblem(new Date('2026-12-31T00:00:00Z'), now, 365)).toBeUndefined();
    expect(acceptanceExpiryProblem(new Date('2027-01-02T00:00:00Z'), now, 365)).toMatch(/at most 365 days/);
    expect(acceptanceExpiryProblem(now, now, 365)).toMatch(/future/);
  });

  it('take two approvers when the residual level is high', () => {
    expect(acceptanceApprovalsRequired('high')).toBe(2);
    expect(acceptanceApprovalsRequired('medium')).toBe(1);
  });

  it('keys read RISK-…', () => {
    expect(RISK_KEY_PATTERN.test('RISK-PAY-001')).toBe(true);
    expect(RISK_KEY_PATTERN.test('risk-1')).toBe(false);
    expect(RISK_KEY_PATTERN.test('RISK-')).toBe(false);
  });
});
