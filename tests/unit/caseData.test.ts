import { describe, expect, it } from 'vitest';
import { applyCaseDataDelta, CaseDataTracker } from '../../domain/caseData';

describe('case data deltas', () => {
  it('sends nothing when nothing changed', () => {
    const data = { grade: 'II', timeline: [{ entry: 'a' }] };
    const tracker = new CaseDataTracker(data);
    expect(tracker.delta(data)).toBeUndefined();
  });

  it('sends only the new entries of a list that grew at its end', () => {
    const data: { timeline: Array<{ entry: string }>; grade: string } = { timeline: [{ entry: 'a' }], grade: 'II' };
    const tracker = new CaseDataTracker(data);
    data.timeline.push({ entry: 'b' }, { entry: 'c' });
    expect(tracker.delta(data)).toEqual({ append: { timeline: [{ entry: 'b' }, { entry: 'c' }] } });
    data.timeline.push({ entry: 'd' });
    expect(tracker.delta(data)).toEqual({ append: { timeline: [{ entry: 'd' }] } });
  });

  it('replaces a list whose earlier entries changed, and a changed value', () => {
    const data = { items: [{ status: 'open' }], grade: 'II' };
    const tracker = new CaseDataTracker(data);
    data.items[0]!.status = 'done';
    data.grade = 'I';
    expect(tracker.delta(data)).toEqual({ set: { items: [{ status: 'done' }], grade: 'I' } });
  });

  it('replaces a list that shrank', () => {
    const tracker = new CaseDataTracker({ items: [1, 2] });
    expect(tracker.delta({ items: [1] })).toEqual({ set: { items: [1] } });
  });

  it('unsets a key that disappeared, and sets a new one', () => {
    const tracker = new CaseDataTracker({ a: 1, b: 2 });
    expect(tracker.delta({ a: 1, c: 3 })).toEqual({ set: { c: 3 }, unset: ['b'] });
  });

  it('does not let later changes reach a delta already taken', () => {
    const data = { timeline: [] as Array<{ entry: string }> };
    const tracker = new CaseDataTracker(data);
    data.timeline.push({ entry: 'a' });
    const delta = tracker.delta(data)!;
    data.timeline[0]!.entry = 'changed';
    expect(delta.append!.timeline).toEqual([{ entry: 'a' }]);
  });

  it('applies to the data the read model holds, reaching the same state as a whole write', () => {
    const before = { grade: 'II', timeline: [{ e: 1 }], gone: true };
    const tracker = new CaseDataTracker(before);
    const after = { grade: 'I', timeline: [{ e: 1 }, { e: 2 }], added: 'x' };
    expect(applyCaseDataDelta(before, tracker.delta(after)!)).toEqual(after);
  });
});
