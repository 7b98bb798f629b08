import { describe, expect, it } from 'vitest';
import {
  DEFAULT_STEP_TIMINGS,
  DRILL_CONDUCT_LEAD,
  DRILL_PLANNING_TIMINGS,
  ladderEndingAt,
  SUPPLIER_DOCUMENTS_TIMINGS,
  validateTimings,
} from '../../domain/deadlines';
import { parseDuration } from '../../domain/durations';

const day = 86_400_000;
const rungs = (t: { remindAfter: string; escalateAfter: string; expireAfter: string }) =>
  [t.remindAfter, t.escalateAfter, t.expireAfter].map(parseDuration);

describe('step ladders', () => {
  it('has defaults that remind before they escalate, and escalate no later than the final deadline', () => {
    for (const timings of [DEFAULT_STEP_TIMINGS, DRILL_PLANNING_TIMINGS, SUPPLIER_DOCUMENTS_TIMINGS]) {
      expect(validateTimings(timings)).toBeNull();
    }
  });

  it('ends at a fixed date: reminded and escalated the leads before it', () => {
    expect(rungs(ladderEndingAt(0, 300 * day, DRILL_CONDUCT_LEAD))).toEqual([240 * day, 270 * day, 300 * day]);
  });

  it('keeps its order when the date is nearer than a lead', () => {
    // 40 days left: escalated 30 days before, reminded at three quarters of the time until then.
    expect(rungs(ladderEndingAt(0, 40 * day, DRILL_CONDUCT_LEAD))).toEqual([7.5 * day, 10 * day, 40 * day]);
    // 8 days left: at a half and three quarters of it.
    expect(rungs(ladderEndingAt(0, 8 * day, DRILL_CONDUCT_LEAD))).toEqual([4 * day, 6 * day, 8 * day]);
  });

  it('gives a date already past one second for each rung', () => {
    expect(ladderEndingAt(10 * day, 5 * day, DRILL_CONDUCT_LEAD)).toEqual({
      remindAfter: '1s',
      escalateAfter: '1s',
      expireAfter: '1s',
    });
  });
});
