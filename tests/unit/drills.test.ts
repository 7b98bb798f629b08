import { describe, expect, it } from 'vitest';
import { DRILL_STAGE_LABELS, DRILL_STAGES } from '../../contracts/drill';
import { DEFAULT_POLICY } from '../../domain/policy';
import {
  DRILL_LABELS,
  DRILL_MODULES,
  DRILL_STANDARD,
  PLAN_STATUSES,
  PLAN_TYPES,
  REVISION_INTERVAL_YEARS,
  SUMMARY_FIELD_MAX_LENGTH,
  drillApprovalBarred,
  drillDueAt,
  drillScoresProblem,
  evaluateDrill,
  nextPlanVersion,
  barredFrom,
  revisionApprovalBarred,
  revisionDueAt,
  revisionReminderAt,
  revisionRequired,
  summaryProblem,
  type DrillScores,
  type DrillSummary,
} from '../../domain/drills';

const DAY = 86_400_000;

function scores(command: number, info: number, resource: number, opinion: number): DrillScores {
  return {
    command,
    information_reporting: info,
    resource_dispatch: resource,
    public_opinion_response: opinion,
  };
}

function summary(over: Partial<Record<keyof DrillSummary, unknown>> = {}): Record<string, unknown> {
  return {
    problems: 'Escalation call tree out of date',
    lessons: 'Check contacts quarterly',
    planChanges: 'Add a deputy commander',
    revisionNeeded: false,
    ...over,
  };
}

describe('labels and standard', () => {
  it('labels every plan type, module and stage in English and Chinese', () => {
    for (const [labels, keys] of [
      [DRILL_LABELS.planType, PLAN_TYPES],
      [DRILL_LABELS.module, DRILL_MODULES],
      [DRILL_STAGE_LABELS, DRILL_STAGES],
    ] as Array<[Record<string, { en: string; zh: string }>, readonly string[]]>) {
      expect(Object.keys(labels).sort()).toEqual([...keys].sort());
      for (const key of keys) {
        expect(labels[key]!.en).toBeTruthy();
        expect(labels[key]!.zh).toBeTruthy();
      }
    }
    expect(DRILL_LABELS.module.command.zh).toBe('指挥');
    expect(DRILL_LABELS.module.public_opinion_response.zh).toBe('舆情应对');
    expect(PLAN_STATUSES).toEqual(['draft', 'active', 'retired']);
  });

  it('weights sum to 1, command weighs most, pass marks are within 0–100', () => {
    const entries = DRILL_MODULES.map((m) => DRILL_STANDARD.modules[m]);
    expect(entries.reduce((s, e) => s + Math.round(e.weight * 100), 0)).toBe(100);
    for (const m of DRILL_MODULES) {
      if (m !== 'command')
        expect(DRILL_STANDARD.modules.command.weight).toBeGreaterThan(DRILL_STANDARD.modules[m].weight);
    }
    for (const e of entries) {
      expect(e.passMark).toBeGreaterThanOrEqual(0);
      expect(e.passMark).toBeLessThanOrEqual(100);
    }
    expect(DRILL_STANDARD.overallPassMark).toBe(70);
  });

  it('takes its default pass marks from policy version 1, so the two cannot drift apart', () => {
    expect(DRILL_STANDARD.overallPassMark).toBe(DEFAULT_POLICY.drill.overallPassMark);
    for (const m of DRILL_MODULES)
      expect(DRILL_STANDARD.modules[m].passMark).toBe(DEFAULT_POLICY.drill.modulePassMarks[m]);
  });
});

describe('drillScoresProblem', () => {
  it('accepts complete integer scores including 0 and 100', () => {
    expect(drillScoresProblem(scores(0, 100, 50, 60))).toBeNull();
  });

  it.each([null, undefined, 5, 'x', [1, 2, 3, 4]])('rejects a non-object %j', (value) => {
    expect(drillScoresProblem(value)).toMatch(/must be an object/);
  });

  it('rejects unknown module keys, naming them', () => {
    expect(drillScoresProblem({ ...scores(80, 80, 80, 80), logistics: 90 })).toMatch(
      /"logistics" is not a drill module/,
    );
  });

  it('names a missing module', () => {
    const { resource_dispatch: _omit, ...rest } = scores(80, 80, 80, 80);
    expect(drillScoresProblem(rest)).toMatch(/resource_dispatch score is missing/);
  });

  it.each([-1, 101, 70.5, NaN, Infinity, '80', null])('rejects %j, naming the module', (bad) => {
    expect(drillScoresProblem({ ...scores(80, 80, 80, 80), information_reporting: bad })).toMatch(
      /information_reporting score must be an integer from 0 to 100/,
    );
  });
});

describe('evaluateDrill', () => {
  it('computes the weighted overall score', () => {
    const e = evaluateDrill(scores(100, 100, 100, 100));
    expect(e.overall).toBe(100);
    expect(e.passed).toBe(true);
    expect(e.failedModules).toEqual([]);
    expect(e.modules.map((m) => m.module)).toEqual([...DRILL_MODULES]);
  });

  it('passes at exactly 70 overall with every module at its pass mark or above', () => {
    const e = evaluateDrill(scores(70, 70, 70, 70));
    expect(e.overall).toBe(70);
    expect(e.passed).toBe(true);
  });

  it('module pass marks exactly met count as passed, but the overall may still fail', () => {
    const e = evaluateDrill(scores(70, 70, 60, 60));
    expect(e.modules.every((m) => m.passed)).toBe(true);
    expect(e.failedModules).toEqual([]);
    expect(e.overall).toBe(65.5);
    expect(e.passed).toBe(false);
  });

  it('fails at 69.9 overall even when every module passes', () => {
    const e = evaluateDrill(scores(73, 70, 70, 65));
    expect(e.overall).toBe(69.9);
    expect(e.failedModules).toEqual([]);
    expect(e.passed).toBe(false);
  });

  it('truncates 69.95 to 69.9 and fails it, so the figure agrees with the verdict', () => {
    const e = evaluateDrill(scores(70, 73, 74, 61));
    expect(e.overall).toBe(69.9);
    expect(e.passed).toBe(false);
  });

  it('fails a drill with one module below its pass mark despite a passing overall', () => {
    const e = evaluateDrill(scores(69, 100, 100, 100));
    expect(e.overall).toBe(90.7);
    expect(e.failedModules).toEqual(['command']);
    expect(e.modules.find((m) => m.module === 'command')).toEqual({
      module: 'command',
      score: 69,
      passMark: 70,
      passed: false,
    });
    expect(e.passed).toBe(false);
  });

  it('lists every failed module in standard order', () => {
    const e = evaluateDrill(scores(100, 69, 100, 59));
    expect(e.failedModules).toEqual(['information_reporting', 'public_opinion_response']);
    expect(evaluateDrill(scores(100, 100, 59, 100)).failedModules).toEqual(['resource_dispatch']);
  });

  it('holds the scores to the pass marks it is given (the policy the drill runs under)', () => {
    const strict = {
      overallPassMark: 80,
      modulePassMarks: { command: 90, information_reporting: 70, resource_dispatch: 60, public_opinion_response: 60 },
    };
    // 85 for command passes the default standard (70) and fails a policy asking 90.
    expect(evaluateDrill(scores(85, 80, 75, 70)).passed).toBe(true);
    const e = evaluateDrill(scores(85, 80, 75, 70), strict);
    expect(e).toMatchObject({ overall: 78.2, overallPassMark: 80, passed: false, failedModules: ['command'] });
    expect(e.modules[0]).toEqual({ module: 'command', score: 85, passMark: 90, passed: false });
    // Every module at its mark but the overall below 80: failed on the overall alone.
    expect(evaluateDrill(scores(90, 70, 70, 70), strict)).toMatchObject({
      overall: 76,
      passed: false,
      failedModules: [],
    });
    // A lenient policy passes what the default fails.
    const lenient = { ...strict, overallPassMark: 60, modulePassMarks: { ...strict.modulePassMarks, command: 60 } };
    expect(evaluateDrill(scores(65, 70, 60, 60)).passed).toBe(false);
    expect(evaluateDrill(scores(65, 70, 60, 60), lenient)).toMatchObject({ passed: true, overallPassMark: 60 });
  });

  it('records the overall pass mark it applied', () => {
    expect(evaluateDrill(scores(100, 100, 100, 100)).overallPassMark).toBe(70);
  });

  it('throws RangeError on malformed scores', () => {
    expect(() => evaluateDrill({ ...scores(80, 80, 80, 80), extra: 1 } as DrillScores)).toThrow(RangeError);
    expect(() => evaluateDrill(scores(80, 80, 80, 100.5))).toThrow(/public_opinion_response/);
  });
});

describe('summaryProblem', () => {
  it('accepts a complete summary', () => {
    expect(summaryProblem(summary())).toBeNull();
    expect(summaryProblem(summary({ revisionNeeded: true }))).toBeNull();
  });

  it.each([null, 'text', [], 3])('rejects a non-object %j', (value) => {
    expect(summaryProblem(value)).toMatch(/must be an object/);
  });

  it.each(['problems', 'lessons', 'planChanges'] as const)('requires %s as non-blank text', (field) => {
    expect(summaryProblem(summary({ [field]: undefined }))).toMatch(new RegExp(`needs ${field}`));
    expect(summaryProblem(summary({ [field]: '   \n' }))).toMatch(new RegExp(`needs ${field}`));
    expect(summaryProblem(summary({ [field]: 42 }))).toMatch(new RegExp(`needs ${field}`));
  });

  it('allows exactly the length limit and rejects one more', () => {
    expect(summaryProblem(summary({ lessons: 'a'.repeat(SUMMARY_FIELD_MAX_LENGTH) }))).toBeNull();
    expect(summaryProblem(summary({ lessons: 'a'.repeat(SUMMARY_FIELD_MAX_LENGTH + 1) }))).toMatch(
      /lessons is 5001 characters; the limit is 5000/,
    );
  });

  it('requires revisionNeeded as a boolean', () => {
    expect(summaryProblem(summary({ revisionNeeded: 'yes' }))).toMatch(/revisionNeeded/);
    expect(summaryProblem(summary({ revisionNeeded: undefined }))).toMatch(/revisionNeeded/);
  });
});

describe('revisionRequired', () => {
  it('is not required when the drill passed and the summary does not ask', () => {
    expect(revisionRequired({ passed: true, failedModules: [] }, { revisionNeeded: false })).toEqual({
      required: false,
      reason: null,
    });
  });

  it('names the failed modules', () => {
    const r = revisionRequired(
      { passed: false, failedModules: ['command', 'resource_dispatch'] },
      { revisionNeeded: false },
    );
    expect(r.required).toBe(true);
    expect(r.reason).toBe('modules below their pass mark: command, resource_dispatch');
  });

  it('gives the overall pass mark when the drill failed without a failed module', () => {
    const r = revisionRequired({ passed: false, failedModules: [] }, { revisionNeeded: false });
    expect(r).toEqual({ required: true, reason: 'the drill did not reach the overall pass mark of 70' });
  });

  it('gives the pass mark the drill was held to, the policy’s', () => {
    const r = revisionRequired({ passed: false, failedModules: [], overallPassMark: 85 }, { revisionNeeded: false });
    expect(r.reason).toBe('the drill did not reach the overall pass mark of 85');
  });

  it('is required when only the summary asks for it', () => {
    const r = revisionRequired({ passed: true, failedModules: [] }, { revisionNeeded: true });
    expect(r).toEqual({ required: true, reason: 'the drill summary report asks for the plan to be revised' });
  });

  it('joins both reasons', () => {
    const r = revisionRequired({ passed: false, failedModules: ['command'] }, { revisionNeeded: true });
    expect(r.reason).toBe(
      'modules below their pass mark: command; the drill summary report asks for the plan to be revised',
    );
  });

  it('works on a real evaluation', () => {
    const r = revisionRequired(evaluateDrill(scores(69, 100, 100, 100)), { revisionNeeded: false });
    expect(r).toEqual({ required: true, reason: 'modules below their pass mark: command' });
  });
});

describe('revisionDueAt', () => {
  it('is the same UTC calendar day and time three years later', () => {
    expect(REVISION_INTERVAL_YEARS).toBe(3);
    expect(revisionDueAt(new Date('2024-03-15T08:30:00Z')).toISOString()).toBe('2027-03-15T08:30:00.000Z');
  });

  it('moves 29 Feb to 28 Feb', () => {
    expect(revisionDueAt(new Date('2024-02-29T10:00:00Z')).toISOString()).toBe('2027-02-28T10:00:00.000Z');
  });

  it('handles 29 Feb for every allowed interval and leaves 28 Feb alone', () => {
    expect(revisionDueAt(new Date('2024-02-29T00:00:00Z'), 1).toISOString()).toBe('2025-02-28T00:00:00.000Z');
    expect(revisionDueAt(new Date('2020-02-29T00:00:00Z'), 3).toISOString()).toBe('2023-02-28T00:00:00.000Z');
    expect(revisionDueAt(new Date('2021-02-28T00:00:00Z'), 3).toISOString()).toBe('2024-02-28T00:00:00.000Z');
  });

  it('uses the UTC day, not the local one', () => {
    expect(revisionDueAt(new Date('2024-12-31T23:00:00Z')).toISOString()).toBe('2027-12-31T23:00:00.000Z');
  });

  it('accepts a shorter interval and rejects malformed ones', () => {
    expect(revisionDueAt(new Date('2024-01-01T00:00:00Z'), 2).toISOString()).toBe('2026-01-01T00:00:00.000Z');
    for (const bad of [0, 4, 1.5, -1, NaN]) {
      expect(() => revisionDueAt(new Date('2024-01-01T00:00:00Z'), bad)).toThrow(RangeError);
    }
    expect(() => revisionDueAt(new Date('nope'))).toThrow(RangeError);
  });
});

describe('revisionReminderAt', () => {
  const approvedAt = new Date('2024-01-01T00:00:00Z');
  const dueAt = new Date('2027-01-01T00:00:00Z');

  it('is remindBefore ahead of the due date', () => {
    expect(revisionReminderAt(dueAt, approvedAt, 30 * DAY).toISOString()).toBe('2026-12-02T00:00:00.000Z');
  });

  it('may fall exactly on the approval date', () => {
    const span = dueAt.getTime() - approvedAt.getTime();
    expect(revisionReminderAt(dueAt, approvedAt, span).getTime()).toBe(approvedAt.getTime());
  });

  it('clamps to half-way when the lead time reaches before approval', () => {
    const span = dueAt.getTime() - approvedAt.getTime();
    const half = approvedAt.getTime() + Math.floor(span / 2);
    expect(revisionReminderAt(dueAt, approvedAt, span + 1).getTime()).toBe(half);
    expect(revisionReminderAt(dueAt, approvedAt, 10 * 365 * DAY).getTime()).toBe(half);
  });

  it('with no lead time reminds on the due date', () => {
    expect(revisionReminderAt(dueAt, approvedAt, 0).getTime()).toBe(dueAt.getTime());
  });

  it('rejects malformed input', () => {
    expect(() => revisionReminderAt(dueAt, approvedAt, -1)).toThrow(RangeError);
    expect(() => revisionReminderAt(dueAt, approvedAt, NaN)).toThrow(RangeError);
    expect(() => revisionReminderAt(approvedAt, dueAt, DAY)).toThrow(/after approvedAt/);
    expect(() => revisionReminderAt(dueAt, dueAt, DAY)).toThrow(RangeError);
    expect(() => revisionReminderAt(new Date('x'), approvedAt, DAY)).toThrow(/dueAt/);
  });
});

describe('drillDueAt', () => {
  it('is the last millisecond of the year in UTC', () => {
    expect(drillDueAt(2025).toISOString()).toBe('2025-12-31T23:59:59.999Z');
    expect(drillDueAt(2024).getTime() + 1).toBe(Date.UTC(2025, 0, 1));
  });

  it.each([2025.5, NaN, 1969, 10000])('rejects year %s', (year) => {
    expect(() => drillDueAt(year)).toThrow(RangeError);
  });
});

describe('nextPlanVersion', () => {
  it('starts at 1 and counts up', () => {
    expect(nextPlanVersion(null)).toBe(1);
    expect(nextPlanVersion(1)).toBe(2);
    expect(nextPlanVersion(41)).toBe(42);
  });

  it.each([0, -1, 1.5, NaN])('rejects version %s', (v) => {
    expect(() => nextPlanVersion(v)).toThrow(RangeError);
  });
});

describe('segregation of duties', () => {
  it('merges who did what into one entry per person, first named first, and ignores the system and blanks', () => {
    expect(
      barredFrom([
        ['mgr', 'owns it'],
        ['system', 'opened it'],
        [undefined, 'scored it'],
        ['', 'scored it'],
        ['lead', 'planned it'],
        ['mgr', 'wrote it'],
        ['mgr', 'owns it'],
      ]),
    ).toEqual([
      { userId: 'mgr', reasons: ['owns it', 'wrote it'] },
      { userId: 'lead', reasons: ['planned it'] },
    ]);
  });

  it('bars from a drill approval its owner, opener, planner, conductor, scorer and report writer', () => {
    expect(
      drillApprovalBarred({
        ownerId: 'mgr',
        initiatorId: 'system',
        plannedBy: 'p',
        conductedBy: 'c',
        evaluatedBy: 'e',
        summarisedBy: 's',
      }),
    ).toEqual([
      { userId: 'mgr', reasons: ['owns the emergency plan'] },
      { userId: 'p', reasons: ['planned the drill'] },
      { userId: 'c', reasons: ['recorded its conduct'] },
      { userId: 'e', reasons: ['scored it'] },
      { userId: 's', reasons: ['wrote the summary report'] },
    ]);
    // At the plan's approval only the plan is done; one person doing several parts is named once, with each.
    expect(drillApprovalBarred({ ownerId: 'mgr', initiatorId: 'lead', plannedBy: 'lead' })).toEqual([
      { userId: 'mgr', reasons: ['owns the emergency plan'] },
      { userId: 'lead', reasons: ['opened the drill', 'planned the drill'] },
    ]);
  });

  it('bars from a revision review the owner, drafter and opener, and from its approval the reviewer too', () => {
    expect(revisionApprovalBarred({ ownerId: 'mgr', initiatorId: 'lead', draftedBy: 'mgr' })).toEqual([
      { userId: 'mgr', reasons: ['owns the emergency plan', 'drafted the revision'] },
      { userId: 'lead', reasons: ['opened the revision'] },
    ]);
    expect(
      revisionApprovalBarred({ ownerId: 'mgr', initiatorId: 'system', draftedBy: 'mgr', reviewedBy: ['rev'] }),
    ).toEqual([
      { userId: 'mgr', reasons: ['owns the emergency plan', 'drafted the revision'] },
      { userId: 'rev', reasons: ['reviewed the draft'] },
    ]);
  });
});
