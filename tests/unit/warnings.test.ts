import { describe, expect, it } from 'vitest';
import {
  levelReached,
  raiseOneStep,
  responseLadder,
  reviewRefusal,
  thresholdsProblem,
  warningLevel,
} from '../../domain/warnings';

const above = { general: 10, elevated: 20, major: 30 };
const below = { general: 600, elevated: 550, major: 500 };

describe('risk warning rules (e-commerce §6.2, finance §5.4)', () => {
  it('thresholds must be ordered by the direction, naming the field that breaks it', () => {
    expect(thresholdsProblem('above', above)).toBeNull();
    expect(thresholdsProblem('below', below)).toBeNull();
    expect(thresholdsProblem('above', { general: 10, elevated: 10, major: 30 })?.field).toBe('elevated');
    expect(thresholdsProblem('above', { general: 10, elevated: 20, major: 15 })?.field).toBe('major');
    expect(thresholdsProblem('below', above)?.field).toBe('elevated');
    expect(thresholdsProblem('below', { general: 600, elevated: 550, major: 551 })?.message).toMatch(
      /thresholds\.major must be less than thresholds\.elevated/,
    );
  });

  it('the level is the highest threshold reached; below every threshold, none', () => {
    expect(levelReached('above', above, 9.99)).toBeNull();
    expect(levelReached('above', above, 10)).toBe('general');
    expect(levelReached('above', above, 29)).toBe('elevated');
    expect(levelReached('above', above, 300)).toBe('major');
    expect(levelReached('below', below, 601)).toBeNull();
    expect(levelReached('below', below, 560)).toBe('general');
    expect(levelReached('below', below, 550)).toBe('elevated');
    expect(levelReached('below', below, 10)).toBe('major');
  });

  it('a repeat within the window raises one step; major stays major; outside the window no raise', () => {
    expect(raiseOneStep('general')).toBe('elevated');
    expect(raiseOneStep('elevated')).toBe('major');
    expect(raiseOneStep('major')).toBe('major');
    const at = '2026-11-28T10:00:00.000Z';
    const inWindow = { alertKey: 'A1', observedAt: '2026-11-10T10:00:00.000Z' };
    const outside = { alertKey: 'A0', observedAt: '2026-10-01T10:00:00.000Z' };
    const later = { alertKey: 'A9', observedAt: '2026-11-29T10:00:00.000Z' };
    expect(warningLevel('general', at, [inWindow, outside, later], 30)).toEqual({
      level: 'elevated',
      repeatOf: ['A1'],
    });
    expect(warningLevel('general', at, [outside, later], 30)).toEqual({ level: 'general', repeatOf: [] });
    expect(warningLevel('major', at, [inWindow], 30).level).toBe('major');
  });

  it('the response ladder: reminded halfway, escalated at the deadline, overdue at twice it', () => {
    expect(responseLadder('24h')).toEqual({ remindAfter: '43200s', escalateAfter: '86400s', expireAfter: '172800s' });
    expect(responseLadder('1s')).toEqual({ remindAfter: '1s', escalateAfter: '1s', expireAfter: '2s' });
  });

  it('who acknowledged or planned never reviews', () => {
    const responders = [{ userId: 'mgr', did: 'acknowledged' }];
    expect(reviewRefusal('mgr', responders)).toMatch(/segregation of duties/);
    expect(reviewRefusal('appr1', responders)).toBeNull();
  });
});
