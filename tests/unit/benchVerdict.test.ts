/**
 * A summary taken from the better rounds must not pass on one good round:
 * figures marked 'every-round' pass only when each round meets the target.
 */
import { describe, expect, it } from 'vitest';
import { figure, figureVerdict } from '../../bench/support';

describe('figureVerdict', () => {
  const target = { op: '>=' as const, bound: 0.8 };

  it('passes an every-round figure only when each round meets the target', () => {
    expect(figureVerdict({ value: 0.98, target, rounds: [0.98, 0.86], verdictOver: 'every-round' })).toBe('pass');
    expect(figureVerdict({ value: 0.98, target, rounds: [0.98, 0.61], verdictOver: 'every-round' })).toBe('miss');
  });

  it('judges the value alone by default, and a missed value stays missed whatever the rounds', () => {
    expect(figureVerdict({ value: 0.98, target, rounds: [0.98, 0.61] })).toBe('pass');
    expect(figureVerdict({ value: 0.7, target, rounds: [0.9, 0.9], verdictOver: 'every-round' })).toBe('miss');
  });

  it('is what figure() records, with the rule kept on the figure for the merge to recompute', () => {
    const f = figure({
      name: 'x',
      value: 1.2,
      unit: '×',
      rounds: [1.2, 1.4],
      target: { op: '<=', bound: 1.3 },
      verdictOver: 'every-round',
    });
    expect(f.verdict).toBe('miss');
    expect(f.verdictOver).toBe('every-round');
    expect(figureVerdict(f)).toBe('miss');
  });
});
