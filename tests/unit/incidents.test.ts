import { describe, expect, it } from 'vitest';
import { INCIDENT_STAGES } from '../../contracts/incident';
import { parseDuration } from '../../domain/durations';
import { DEFAULT_POLICY } from '../../domain/policy';
import {
  AUDIENCES,
  GRADE_THRESHOLDS,
  INCIDENT_CATEGORIES,
  INCIDENT_GRADES,
  INCIDENT_LABELS,
  REPEAT_WINDOW_DAYS,
  TEAMS,
  closeOutProblems,
  evaluationProblem,
  findRepeat,
  gradeChangeProblem,
  impactProblem,
  isDowngrade,
  isoInstantMs,
  minutesLate,
  mostSevere,
  nextGradeUp,
  regulatorNoticeFor,
  responsePlan,
  suggestGrade,
  type CloseOutState,
  type ImpactAssessment,
  type ImpactCriterion,
  type IncidentCategory,
  type IncidentGrade,
  type PriorIncident,
} from '../../domain/incidents';

const DAY_MS = 86_400_000;

/** No impact at all; tests set the criterion they examine. */
function impact(overrides: Partial<ImpactAssessment> = {}): ImpactAssessment {
  return { affectedUsers: 0, amountCny: 0, category: 'other', ...overrides };
}

describe('labels', () => {
  it('give English and Chinese for every value', () => {
    const groups: [Record<string, { en: string; zh: string }>, readonly string[]][] = [
      [INCIDENT_LABELS.grade, INCIDENT_GRADES],
      [INCIDENT_LABELS.category, INCIDENT_CATEGORIES],
      [INCIDENT_LABELS.stage, INCIDENT_STAGES],
      [INCIDENT_LABELS.team, TEAMS],
      [INCIDENT_LABELS.audience, AUDIENCES],
    ];
    for (const [labels, values] of groups) {
      expect(Object.keys(labels).sort()).toEqual([...values].sort());
      for (const v of values) {
        expect(labels[v]!.en.trim()).not.toBe('');
        expect(labels[v]!.zh).toMatch(/[\u4e00-\u9fff]/);
      }
    }
    expect(INCIDENT_LABELS.grade.I.zh).toContain('特别重大');
    expect(INCIDENT_LABELS.grade.II.zh).toContain('重大');
    expect(INCIDENT_LABELS.grade.III.zh).toContain('较大');
    expect(INCIDENT_LABELS.grade.IV.zh).toContain('一般');
  });

  it('run the loop in the handbook order, ending closed', () => {
    expect(INCIDENT_STAGES[0]).toBe('reported');
    expect(INCIDENT_STAGES.indexOf('handling')).toBeLessThan(INCIDENT_STAGES.indexOf('notification'));
    expect(INCIDENT_STAGES.indexOf('evaluation')).toBeLessThan(INCIDENT_STAGES.indexOf('rectification'));
    expect(INCIDENT_STAGES.indexOf('rectification')).toBeLessThan(INCIDENT_STAGES.indexOf('awaiting_approval'));
    expect(INCIDENT_STAGES[INCIDENT_STAGES.length - 1]).toBe('closed');
  });
});

describe('impact assessment', () => {
  it('accepts a complete assessment, with or without the optional criteria', () => {
    expect(impactProblem(impact())).toBeNull();
    expect(impactProblem(impact({ dataRecordsExposed: 5, outageMinutes: 12.5, amountCny: 1999.99 }))).toBeNull();
  });

  it('names the field that is wrong', () => {
    expect(impactProblem(null)).toMatch(/must be an object/);
    expect(impactProblem([])).toMatch(/must be an object/);
    const { affectedUsers: _u, ...noUsers } = impact();
    expect(impactProblem(noUsers)).toBe('affectedUsers is missing');
    const { amountCny: _a, ...noAmount } = impact();
    expect(impactProblem(noAmount)).toBe('amountCny is missing');
    const { category: _c, ...noCategory } = impact();
    expect(impactProblem(noCategory)).toBe('category is missing');
    expect(impactProblem(impact({ affectedUsers: -1 }))).toMatch(/^affectedUsers must be a whole number .* got -1$/);
    expect(impactProblem(impact({ affectedUsers: 1.5 }))).toMatch(/^affectedUsers .* got 1.5$/);
    expect(impactProblem({ ...impact(), affectedUsers: '10' })).toMatch(/^affectedUsers .* got "10"$/);
    expect(impactProblem(impact({ dataRecordsExposed: 2.5 }))).toMatch(/^dataRecordsExposed must be a whole number/);
    expect(impactProblem(impact({ amountCny: -0.01 }))).toMatch(/^amountCny must be a number of 0 or more/);
    expect(impactProblem(impact({ amountCny: Infinity }))).toMatch(/^amountCny/);
    expect(impactProblem(impact({ amountCny: NaN }))).toMatch(/^amountCny/);
    expect(impactProblem(impact({ outageMinutes: -5 }))).toMatch(/^outageMinutes/);
    expect(impactProblem({ ...impact(), outageMinutes: null })).toMatch(/^outageMinutes .* got null$/);
    expect(impactProblem({ ...impact(), category: 'earthquake' })).toMatch(/^category must be one of .*"earthquake"$/);
  });

  it('refuses unknown fields, so a misspelt criterion cannot silently lower the grade', () => {
    expect(impactProblem({ ...impact(), outageMinute: 800 })).toMatch(/"outageMinute" is not part of/);
  });

  it('refuses to grade a malformed assessment', () => {
    expect(() => suggestGrade(impact({ affectedUsers: -3 }))).toThrow(RangeError);
    expect(() => suggestGrade({ ...impact(), category: 'x' as IncidentCategory })).toThrow(/category/);
  });
});

describe('suggested grade', () => {
  it('states the thresholds as a table, each grade stricter than the one below', () => {
    expect(GRADE_THRESHOLDS).toEqual({
      affectedUsers: { I: 1_000_000, II: 100_000, III: 10_000 },
      amountCny: { I: 100_000_000, II: 10_000_000, III: 1_000_000 },
      dataRecordsExposed: { I: 1_000_000, II: 100_000, III: 10_000 },
      outageMinutes: { I: 720, II: 240, III: 60 },
    });
  });

  // Every boundary: the threshold itself reaches the grade, one unit below does not.
  const boundaries: [ImpactCriterion, number, number, IncidentGrade, IncidentGrade][] = [
    ['affectedUsers', 1_000_000, 999_999, 'I', 'II'],
    ['affectedUsers', 100_000, 99_999, 'II', 'III'],
    ['affectedUsers', 10_000, 9_999, 'III', 'IV'],
    ['amountCny', 100_000_000, 99_999_999.99, 'I', 'II'],
    ['amountCny', 10_000_000, 9_999_999.99, 'II', 'III'],
    ['amountCny', 1_000_000, 999_999.99, 'III', 'IV'],
    ['dataRecordsExposed', 1_000_000, 999_999, 'I', 'II'],
    ['dataRecordsExposed', 100_000, 99_999, 'II', 'III'],
    ['dataRecordsExposed', 10_000, 9_999, 'III', 'IV'],
    ['outageMinutes', 720, 719.5, 'I', 'II'],
    ['outageMinutes', 240, 239, 'II', 'III'],
    ['outageMinutes', 60, 59.9, 'III', 'IV'],
  ];
  it.each(boundaries)('%s: %d reaches grade %s, %d stays below', (criterion, at, below, gradeAt, gradeBelow) => {
    expect(suggestGrade(impact({ [criterion]: at })).grade).toBe(gradeAt);
    expect(suggestGrade(impact({ [criterion]: below })).grade).toBe(gradeBelow);
  });

  it('grades by the thresholds of the policy it is given, naming them in its reasons', () => {
    const thresholds = { ...GRADE_THRESHOLDS, affectedUsers: { I: 100_000, II: 10_000, III: 1_000 } };
    expect(suggestGrade(impact({ affectedUsers: 5_000 })).grade).toBe('IV');
    const stricter = suggestGrade(impact({ affectedUsers: 5_000 }), thresholds);
    expect(stricter.grade).toBe('III');
    expect(stricter.reasons[0]).toBe('5,000 users affected reaches the grade III threshold of 1,000.');
    expect(suggestGrade(impact({ outageMinutes: 30 }), thresholds).reasons).toEqual([
      'No criterion reaches grade III (1,000 users affected, CNY 1,000,000 involved, 10,000 data records exposed or 60 minutes of outage), so the grade is IV.',
    ]);
  });

  it('grades IV when nothing reaches grade III, and says so', () => {
    const result = suggestGrade(impact({ affectedUsers: 9_999, amountCny: 999_999, outageMinutes: 59 }));
    expect(result.grade).toBe('IV');
    expect(result.reasons).toHaveLength(1);
    expect(result.reasons[0]).toMatch(/No criterion reaches grade III.*10,000 users affected.*so the grade is IV/);
  });

  it('lets the most severe criterion decide, naming each criterion and its value', () => {
    const result = suggestGrade(
      impact({ affectedUsers: 20_000, amountCny: 150_000_000, dataRecordsExposed: 200_000, outageMinutes: 10 }),
    );
    expect(result.grade).toBe('I');
    expect(result.reasons).toEqual([
      'CNY 150,000,000 involved reaches the grade I threshold of 100,000,000.',
      '200,000 data records exposed reaches the grade II threshold of 100,000.',
      '20,000 users affected reaches the grade III threshold of 10,000.',
    ]);
  });

  it('does not let modest criteria soften a severe one', () => {
    expect(suggestGrade(impact({ outageMinutes: 800, affectedUsers: 1 })).grade).toBe('I');
    expect(suggestGrade(impact({ affectedUsers: 150_000, amountCny: 10 })).grade).toBe('II');
  });

  it('formats fractional amounts without grouping the decimals', () => {
    const { reasons } = suggestGrade(impact({ amountCny: 1_234_567.891 }));
    expect(reasons[0]).toBe('CNY 1,234,567.891 involved reaches the grade III threshold of 1,000,000.');
  });

  it('makes a data leak that exposed any records at least grade III', () => {
    const one = suggestGrade(impact({ category: 'data_leak', dataRecordsExposed: 1 }));
    expect(one.grade).toBe('III');
    expect(one.reasons).toEqual([
      'A data leak exposed 1 record; personal-information leaks must be reported, so the grade is at least III.',
    ]);
    expect(suggestGrade(impact({ category: 'data_leak', dataRecordsExposed: 42 })).reasons[0]).toMatch(/42 records;/);
  });

  it('applies the data-leak floor only to data leaks with records exposed, and never lowers a grade', () => {
    expect(suggestGrade(impact({ category: 'data_leak', dataRecordsExposed: 0 })).grade).toBe('IV');
    expect(suggestGrade(impact({ category: 'data_leak' })).grade).toBe('IV');
    expect(suggestGrade(impact({ category: 'network_security', dataRecordsExposed: 5 })).grade).toBe('IV');
    const major = suggestGrade(impact({ category: 'data_leak', dataRecordsExposed: 100_000 }));
    expect(major.grade).toBe('II');
    expect(major.reasons.join(' ')).not.toMatch(/at least III/);
  });
});

describe('response plan', () => {
  it('mobilises every team and tells everyone outside at grade I', () => {
    expect(responsePlan('I', 'system_failure')).toEqual({
      grade: 'I',
      leadRole: 'manager',
      teams: ['operations', 'technology', 'security', 'customer_service', 'legal', 'public_relations'],
      mustNotify: ['management', 'board', 'regulator', 'affected_users', 'partners'],
      acknowledgeWithin: '15m',
      stabiliseWithin: '4h',
      notifyRegulatorWithin: '1h',
      reviewRequired: true,
      evaluation: 'full',
      closeOutApprovers: 2,
    });
  });

  it('mobilises every team at grade II and tells management, the regulator and affected users', () => {
    expect(responsePlan('II', 'transaction_fraud')).toEqual({
      grade: 'II',
      leadRole: 'manager',
      teams: [...TEAMS],
      mustNotify: ['management', 'regulator', 'affected_users'],
      acknowledgeWithin: '30m',
      stabiliseWithin: '12h',
      notifyRegulatorWithin: '4h',
      reviewRequired: true,
      evaluation: 'full',
      closeOutApprovers: 2,
    });
  });

  it('brings the core teams at grade III and tells management only', () => {
    const plan = responsePlan('III', 'system_failure');
    expect(plan).toEqual({
      grade: 'III',
      leadRole: 'manager',
      teams: ['operations', 'technology', 'customer_service'],
      mustNotify: ['management'],
      acknowledgeWithin: '2h',
      stabiliseWithin: '48h',
      reviewRequired: true,
      evaluation: 'full',
      closeOutApprovers: 1,
    });
    expect('notifyRegulatorWithin' in plan).toBe(false);
  });

  it('adds the teams a category needs at grade III', () => {
    expect(responsePlan('III', 'network_security').teams).toEqual([
      'operations',
      'technology',
      'security',
      'customer_service',
    ]);
    expect(responsePlan('III', 'data_leak').teams).toEqual([
      'operations',
      'technology',
      'security',
      'customer_service',
      'legal',
    ]);
    expect(responsePlan('III', 'public_opinion').teams).toEqual([
      'operations',
      'technology',
      'customer_service',
      'public_relations',
    ]);
    expect(responsePlan('III', 'transaction_fraud').teams).toEqual(['operations', 'technology', 'customer_service']);
  });

  it('sends a grade III data leak to the regulator within 24 hours', () => {
    const plan = responsePlan('III', 'data_leak');
    expect(plan.mustNotify).toEqual(['management', 'regulator']);
    expect(plan.notifyRegulatorWithin).toBe('24h');
    expect(responsePlan('III', 'network_security').notifyRegulatorWithin).toBeUndefined();
    expect(responsePlan('III', 'network_security').mustNotify).toEqual(['management']);
  });

  it('keeps a grade I or II data leak on the grade timings', () => {
    expect(responsePlan('I', 'data_leak').notifyRegulatorWithin).toBe('1h');
    expect(responsePlan('II', 'data_leak').notifyRegulatorWithin).toBe('4h');
  });

  it('keeps grade IV with operations and the natural team of the category, telling nobody else', () => {
    const expected: Record<IncidentCategory, string[]> = {
      system_failure: ['operations', 'technology'],
      data_leak: ['operations', 'security'],
      network_security: ['operations', 'security'],
      transaction_fraud: ['operations', 'security'],
      supplier_logistics: ['operations', 'customer_service'],
      public_opinion: ['operations', 'public_relations'],
      natural_disaster: ['operations'],
      other: ['operations'],
    };
    for (const category of INCIDENT_CATEGORIES) {
      const plan = responsePlan('IV', category);
      expect(plan.teams, category).toEqual(expected[category]);
      expect(plan.mustNotify, category).toEqual([]);
      expect(plan.notifyRegulatorWithin, category).toBeUndefined();
      expect(plan.acknowledgeWithin).toBe('8h');
      expect(plan.stabiliseWithin).toBe('5d');
      // Every grade ends with an evaluation; a first grade IV with a short one.
      expect(plan.reviewRequired).toBe(true);
      expect(plan.evaluation).toBe('short');
      expect(plan.closeOutApprovers).toBe(1);
    }
  });

  it('requires a full evaluation (root cause) for a repeated grade IV incident, a short one otherwise', () => {
    expect(responsePlan('IV', 'system_failure', { repeat: true }).evaluation).toBe('full');
    expect(responsePlan('IV', 'system_failure', { repeat: false }).evaluation).toBe('short');
    expect(responsePlan('III', 'other', { repeat: false }).evaluation).toBe('full');
  });

  it('keeps the notices a more severe grade reached made due, with its regulator deadline', () => {
    const plan = responsePlan('IV', 'system_failure', { highestGrade: 'II' });
    expect(plan.mustNotify).toEqual(['management', 'regulator', 'affected_users']);
    expect(plan.noticesKeptFrom).toBe('II');
    expect(plan.notifyRegulatorWithin).toBe('4h');
    // Only notices: the teams, the clocks and the evaluation follow the grade in force.
    expect(plan.teams).toEqual(['operations', 'technology']);
    expect(plan.acknowledgeWithin).toBe('8h');
    expect(plan.evaluation).toBe('short');
    expect(plan.closeOutApprovers).toBe(1);
    // From I to III: the board and partners stay owed, in the audiences' order.
    expect(responsePlan('III', 'system_failure', { highestGrade: 'I' }).mustNotify).toEqual([
      'management',
      'board',
      'regulator',
      'affected_users',
      'partners',
    ]);
    // A less severe "highest" grade, or the same grade, keeps nothing.
    expect(responsePlan('II', 'other', { highestGrade: 'IV' })).toEqual(responsePlan('II', 'other'));
    expect('noticesKeptFrom' in responsePlan('II', 'other', { highestGrade: 'II' })).toBe(false);
  });

  it('takes its clocks from the policy it is given', () => {
    const clocks = {
      ...DEFAULT_POLICY.incident,
      acknowledgeWithin: { I: '5m', II: '10m', III: '1h', IV: '4h' },
      notifyRegulatorWithin: { I: '30m', II: '2h', dataLeakIII: '12h' },
    };
    const plan = responsePlan('II', 'other', { clocks });
    expect(plan.acknowledgeWithin).toBe('10m');
    expect(plan.notifyRegulatorWithin).toBe('2h');
    expect(responsePlan('III', 'data_leak', { clocks }).notifyRegulatorWithin).toBe('12h');
  });

  it('gives durations that parse, faster for graver incidents, acknowledging before stabilising', () => {
    let previousAck = 0;
    let previousStabilise = 0;
    for (const grade of INCIDENT_GRADES) {
      const plan = responsePlan(grade, 'data_leak');
      const ack = parseDuration(plan.acknowledgeWithin);
      const stabilise = parseDuration(plan.stabiliseWithin);
      expect(ack).toBeLessThan(stabilise);
      expect(ack).toBeGreaterThan(previousAck);
      expect(stabilise).toBeGreaterThan(previousStabilise);
      if (plan.notifyRegulatorWithin) expect(parseDuration(plan.notifyRegulatorWithin)).toBeGreaterThan(0);
      previousAck = ack;
      previousStabilise = stabilise;
    }
  });

  it('notifies the regulator exactly when it gives a deadline for doing so', () => {
    for (const grade of INCIDENT_GRADES) {
      for (const category of INCIDENT_CATEGORIES) {
        const plan = responsePlan(grade, category);
        expect(plan.mustNotify.includes('regulator'), `${grade} ${category}`).toBe(
          plan.notifyRegulatorWithin !== undefined,
        );
        expect(plan.teams[0]).toBe('operations');
      }
    }
  });

  it('refuses an unknown grade or category', () => {
    expect(() => responsePlan('V' as IncidentGrade, 'other')).toThrow(RangeError);
    expect(() => responsePlan('I', 'meteor' as IncidentCategory)).toThrow(/category must be one of/);
  });
});

describe('escalation and regrading', () => {
  it('escalates an unacknowledged incident one level up, stopping at grade I', () => {
    expect(nextGradeUp('IV')).toBe('III');
    expect(nextGradeUp('III')).toBe('II');
    expect(nextGradeUp('II')).toBe('I');
    expect(nextGradeUp('I')).toBe('I');
    expect(() => nextGradeUp('0' as IncidentGrade)).toThrow(RangeError);
  });

  it('allows a change up or down with a reason', () => {
    expect(gradeChangeProblem('IV', 'II', 'more users affected than first reported')).toBeNull();
    expect(gradeChangeProblem('I', 'III', 'outage was confined to one region')).toBeNull();
  });

  it('refuses a change to the same grade', () => {
    expect(gradeChangeProblem('II', 'II', 'no reason needed')).toBe('the incident is already grade II');
  });

  it('requires a non-blank reason', () => {
    expect(gradeChangeProblem('III', 'II', undefined)).toBe('a reason is required to change the grade from III to II');
    expect(gradeChangeProblem('III', 'II', '')).toMatch(/reason is required/);
    expect(gradeChangeProblem('III', 'II', ' \n\t ')).toMatch(/reason is required/);
  });

  it('names an unknown grade', () => {
    expect(gradeChangeProblem('V' as IncidentGrade, 'I', 'x')).toMatch(/^from must be a grade .* got "V"$/);
    expect(gradeChangeProblem('I', 'iv' as IncidentGrade, 'x')).toMatch(/^to must be a grade .* got "iv"$/);
  });
});

describe('downgrades', () => {
  it('are changes to a less severe grade', () => {
    expect(isDowngrade('II', 'IV')).toBe(true);
    expect(isDowngrade('I', 'II')).toBe(true);
    expect(isDowngrade('IV', 'III')).toBe(false);
    expect(isDowngrade('III', 'III')).toBe(false);
    expect(mostSevere('III', 'I')).toBe('I');
    expect(mostSevere('II', 'IV')).toBe('II');
  });
});

describe('follow-up evaluation', () => {
  const plan = (grade: IncidentGrade, repeat = false) => responsePlan(grade, 'system_failure', { repeat });

  it('needs the root cause where the plan asks a full one', () => {
    expect(evaluationProblem(plan('III'), false, { summary: 'It broke', lessons: 'Test more' })).toEqual({
      message: 'a grade III incident needs a full follow-up evaluation with root-cause analysis: rootCause is missing',
      missing: ['rootCause'],
    });
    expect(evaluationProblem(plan('IV', true), true, { summary: 'It broke again', lessons: 'x' })?.message).toMatch(
      /^a repeated incident needs a full follow-up evaluation/,
    );
    expect(evaluationProblem(plan('I'), false, { rootCause: 'Expired certificate', lessons: 'Monitor' })).toBeNull();
  });

  it('takes a summary and the lessons at a first grade IV, or a root cause', () => {
    expect(evaluationProblem(plan('IV'), false, { summary: 'Ten-minute login failure', lessons: 'Stage' })).toBeNull();
    expect(evaluationProblem(plan('IV'), false, { rootCause: 'Bad config', lessons: 'Stage' })).toBeNull();
    expect(evaluationProblem(plan('IV'), false, { summary: ' ', lessons: 'Stage' })?.missing).toEqual(['summary']);
    expect(evaluationProblem(plan('IV'), false, { summary: 'x', lessons: '' })?.missing).toEqual(['lessons']);
  });
});

describe('regulator notice', () => {
  const at = '2026-03-01T08:00:00Z';

  it('is due from the grade that requires it, by the policy’s deadline or the case’s', () => {
    expect(regulatorNoticeFor(null, 'III', 'system_failure', at)).toBeNull();
    expect(regulatorNoticeFor(null, 'II', 'system_failure', at)).toEqual({
      grade: 'II',
      within: '4h',
      owedSince: at,
      dueAt: '2026-03-01T12:00:00.000Z',
      notifiedAt: null,
      recordedAt: null,
      missedAt: null,
      escalatedTo: null,
      lateMinutes: null,
    });
    expect(regulatorNoticeFor(null, 'III', 'data_leak', at)?.dueAt).toBe('2026-03-02T08:00:00.000Z');
    expect(regulatorNoticeFor(null, 'I', 'other', at, { within: '2s' })?.dueAt).toBe('2026-03-01T08:00:02.000Z');
    const clocks = { ...DEFAULT_POLICY.incident, notifyRegulatorWithin: { I: '30m', II: '2h', dataLeakIII: '12h' } };
    expect(regulatorNoticeFor(null, 'II', 'other', at, { clocks })?.within).toBe('2h');
  });

  it('comes sooner after an upgrade, and never goes away after a downgrade', () => {
    const owed = regulatorNoticeFor(null, 'II', 'other', at)!;
    const upgraded = regulatorNoticeFor(owed, 'I', 'other', '2026-03-01T09:00:00Z')!;
    expect(upgraded).toMatchObject({ grade: 'I', within: '1h', owedSince: at, dueAt: '2026-03-01T10:00:00.000Z' });
    expect(regulatorNoticeFor(upgraded, 'IV', 'other', '2026-03-01T09:30:00Z')).toBe(upgraded);
    // An upgrade whose deadline would fall later leaves the earlier one.
    expect(regulatorNoticeFor(owed, 'I', 'other', '2026-03-01T11:30:00Z')).toBe(owed);
    // Once made or missed it stays as it was.
    const missed = { ...owed, missedAt: '2026-03-01T12:00:00Z' };
    expect(regulatorNoticeFor(missed, 'I', 'other', '2026-03-01T12:30:00Z')).toBe(missed);
  });

  it('counts how late, in whole minutes rounded up', () => {
    expect(minutesLate('2026-03-01T12:00:00Z', '2026-03-01T11:59:00Z')).toBe(0);
    expect(minutesLate('2026-03-01T12:00:00Z', '2026-03-01T12:00:00Z')).toBe(0);
    expect(minutesLate('2026-03-01T12:00:00Z', '2026-03-01T12:00:01Z')).toBe(1);
    expect(minutesLate('2026-03-01T12:00:00Z', '2026-03-01T14:30:00+00:00')).toBe(150);
  });
});

describe('repeat incidents', () => {
  const at = '2024-06-30T12:00:00Z';
  const current = { category: 'system_failure' as const, system: 'Payments Gateway', occurredAt: at };
  const atMs = Date.parse(at);
  function prior(id: string, msBefore: number, overrides: Partial<PriorIncident> = {}): PriorIncident {
    return {
      id,
      category: 'system_failure',
      system: 'Payments Gateway',
      occurredAt: new Date(atMs - msBefore).toISOString(),
      ...overrides,
    };
  }

  it('has a 90-day window by default, the policy’s', () => {
    expect(REPEAT_WINDOW_DAYS).toBe(90);
    expect(REPEAT_WINDOW_DAYS).toBe(DEFAULT_POLICY.incident.repeatWindowDays);
  });

  it('takes the window the policy gives', () => {
    expect(findRepeat(current, [prior('p20', 20 * DAY_MS)], 30)?.id).toBe('p20');
    expect(findRepeat(current, [prior('p20', 20 * DAY_MS)], 14)).toBeNull();
  });

  it('finds an incident exactly 90 days before, but not 91 days or a millisecond more than 90', () => {
    expect(findRepeat(current, [prior('p90', 90 * DAY_MS)])?.id).toBe('p90');
    expect(findRepeat(current, [prior('p91', 91 * DAY_MS)])).toBeNull();
    expect(findRepeat(current, [prior('p90+', 90 * DAY_MS + 1)])).toBeNull();
  });

  it('counts one at the same moment but not one after', () => {
    expect(findRepeat(current, [prior('same', 0)])?.id).toBe('same');
    expect(findRepeat(current, [prior('later', -1)])).toBeNull();
  });

  it('needs the same system and the same category', () => {
    expect(findRepeat(current, [prior('other-system', DAY_MS, { system: 'Order Service' })])).toBeNull();
    expect(findRepeat(current, [prior('other-category', DAY_MS, { category: 'network_security' })])).toBeNull();
  });

  it('compares system names ignoring case and surrounding whitespace', () => {
    expect(findRepeat(current, [prior('p', DAY_MS, { system: '  payments GATEWAY\t' })])?.id).toBe('p');
    expect(findRepeat({ ...current, system: ' PAYMENTS gateway ' }, [prior('p', DAY_MS)])?.id).toBe('p');
    // Only the ends are trimmed: inner spacing is part of the name.
    expect(findRepeat(current, [prior('p', DAY_MS, { system: 'PaymentsGateway' })])).toBeNull();
  });

  it('returns the most recent of several, whatever their order', () => {
    const found = findRepeat(current, [
      prior('old', 80 * DAY_MS),
      prior('recent', 2 * DAY_MS),
      prior('outside', 100 * DAY_MS),
      prior('middle', 40 * DAY_MS),
    ]);
    expect(found?.id).toBe('recent');
  });

  it('compares instants, not text, across time zones', () => {
    // 90 days before 2024-06-30T12:00Z is 2024-04-01T12:00Z, which is 20:00 in Beijing.
    const beijing = prior('bj', 0, { occurredAt: '2024-04-01T20:00:00+08:00' });
    expect(findRepeat(current, [beijing])?.id).toBe('bj');
    expect(findRepeat(current, [{ ...beijing, occurredAt: '2024-04-01T19:59:59+08:00' }])).toBeNull();
  });

  it('finds nothing in an empty history', () => {
    expect(findRepeat(current, [])).toBeNull();
  });

  it('refuses malformed input', () => {
    expect(() => findRepeat({ ...current, system: '   ' }, [])).toThrow(/system must name/);
    expect(() => findRepeat({ ...current, occurredAt: 'yesterday' }, [])).toThrow(/occurredAt must be an ISO 8601/);
    expect(() => findRepeat(current, [prior('bad', 0, { occurredAt: '2024-02-30T00:00:00Z' })])).toThrow(
      /occurredAt of incident bad is not a real date/,
    );
    expect(() => findRepeat({ ...current, category: 'x' as IncidentCategory }, [])).toThrow(RangeError);
  });
});

describe('ISO instants', () => {
  it('reads dates as UTC midnight and date-times with their zone', () => {
    expect(isoInstantMs('2024-03-01', 'at')).toBe(Date.UTC(2024, 2, 1));
    expect(isoInstantMs('2024-03-01T08:00:00+08:00', 'at')).toBe(Date.UTC(2024, 2, 1));
    expect(isoInstantMs('2024-03-01T00:00Z', 'at')).toBe(Date.UTC(2024, 2, 1));
    expect(isoInstantMs('2024-02-29T23:59:59.999Z', 'at')).toBe(Date.UTC(2024, 1, 29, 23, 59, 59, 999));
  });

  it('refuses a date-time without a zone, an impossible date and other text', () => {
    expect(() => isoInstantMs('2024-03-01T08:00:00', 'at')).toThrow(/at must be an ISO 8601 .* time zone/);
    expect(() => isoInstantMs('2023-02-29', 'at')).toThrow(/not a real date/);
    expect(() => isoInstantMs('2024-04-31T00:00:00Z', 'at')).toThrow(/not a real date/);
    expect(() => isoInstantMs('2024-01-01T24:00:00Z', 'at')).toThrow(/not a real date/);
    expect(() => isoInstantMs('March 1, 2024', 'at')).toThrow(RangeError);
  });
});

describe('close-out', () => {
  /** An incident ready to close; tests spoil what they examine. */
  function ready(overrides: Partial<CloseOutState> = {}): CloseOutState {
    return {
      grade: 'III',
      category: 'system_failure',
      repeat: false,
      evaluationDone: true,
      openRectificationItems: 0,
      stabilised: true,
      regulatorNotified: false,
      ...overrides,
    };
  }

  it('allows closing when everything is done', () => {
    expect(closeOutProblems(ready())).toEqual([]);
    expect(closeOutProblems(ready({ grade: 'I', regulatorNotified: true }))).toEqual([]);
  });

  it('refuses while the incident is not stabilised', () => {
    expect(closeOutProblems(ready({ stabilised: false }))).toEqual(['The incident has not been stabilised yet.']);
  });

  it('requires the evaluation at every grade: full for grades I–III and a repeated grade IV, short otherwise', () => {
    for (const grade of ['I', 'II', 'III'] as const) {
      expect(closeOutProblems(ready({ grade, regulatorNotified: true, evaluationDone: false }))).toEqual([
        `A grade ${grade} incident requires a follow-up evaluation with root-cause analysis, and none is recorded.`,
      ]);
    }
    expect(closeOutProblems(ready({ grade: 'IV', evaluationDone: false }))).toEqual([
      'A grade IV incident requires a short follow-up evaluation (a summary and the lessons), and none is recorded.',
    ]);
    expect(closeOutProblems(ready({ grade: 'IV', evaluationDone: true, evaluation: 'short' }))).toEqual([]);
    expect(closeOutProblems(ready({ grade: 'IV', repeat: true, evaluationDone: false }))).toEqual([
      'A repeated incident requires a follow-up evaluation with root-cause analysis, and none is recorded.',
    ]);
    // A short evaluation does not do where the root cause is required.
    expect(closeOutProblems(ready({ grade: 'III', evaluation: 'short' }))).toEqual([
      'A grade III incident requires root-cause analysis, and the follow-up evaluation recorded has none.',
    ]);
    expect(closeOutProblems(ready({ grade: 'IV', repeat: true, evaluation: 'short' }))).toEqual([
      'A repeated incident requires root-cause analysis, and the follow-up evaluation recorded has none.',
    ]);
  });

  it('keeps the regulator notice due after a downgrade, and names every notice still owed', () => {
    expect(closeOutProblems(ready({ grade: 'IV', evaluation: 'short', highestGrade: 'II' }))).toEqual([
      'This incident was grade II, which requires notifying the regulator; the notice stays due at grade IV, and no notification is recorded.',
    ]);
    expect(
      closeOutProblems(
        ready({ grade: 'III', highestGrade: 'I', notifiedAudiences: ['management', 'regulator', 'affected_users'] }),
      ),
    ).toEqual(['Notices still owed: board, partners.']);
    expect(
      closeOutProblems(
        ready({
          grade: 'IV',
          evaluation: 'short',
          highestGrade: 'II',
          notifiedAudiences: ['management', 'regulator', 'affected_users'],
        }),
      ),
    ).toEqual([]);
  });

  it('waits for a pending downgrade to be decided', () => {
    expect(closeOutProblems(ready({ pendingDowngrade: 'IV' }))).toEqual(['A downgrade to grade IV awaits approval.']);
    expect(closeOutProblems(ready({ pendingDowngrade: null }))).toEqual([]);
  });

  it('counts open rectification items, in the right number', () => {
    expect(closeOutProblems(ready({ openRectificationItems: 1 }))).toEqual(['1 rectification item is still open.']);
    expect(closeOutProblems(ready({ openRectificationItems: 3 }))).toEqual(['3 rectification items are still open.']);
    expect(
      closeOutProblems(
        ready({
          openRectificationItems: 2,
          openItems: [
            { id: 'incident:I-1:rectification:1', title: 'Add canary stage' },
            { id: 'incident:I-1:rectification:2', title: 'Load-test releases' },
          ],
        }),
      ),
    ).toEqual([
      '2 rectification items are still open: incident:I-1:rectification:1 "Add canary stage", incident:I-1:rectification:2 "Load-test releases".',
    ]);
  });

  it('requires the regulator notification only where the plan does', () => {
    const missing = /requires notifying the regulator, and no notification is recorded/;
    expect(closeOutProblems(ready({ grade: 'I' }))).toEqual([expect.stringMatching(missing)]);
    expect(closeOutProblems(ready({ grade: 'II' }))[0]).toMatch(/grade II incident requires notifying the regulator/);
    expect(closeOutProblems(ready({ grade: 'III', category: 'data_leak' }))).toEqual([expect.stringMatching(missing)]);
    expect(closeOutProblems(ready({ grade: 'III', category: 'network_security' }))).toEqual([]);
    expect(closeOutProblems(ready({ grade: 'IV', category: 'data_leak' }))).toEqual([]);
  });

  it('lists every reason at once, in a stable order', () => {
    const problems = closeOutProblems({
      grade: 'II',
      category: 'data_leak',
      repeat: true,
      evaluationDone: false,
      openRectificationItems: 2,
      stabilised: false,
      regulatorNotified: false,
    });
    expect(problems).toHaveLength(4);
    expect(problems[0]).toMatch(/not been stabilised/);
    expect(problems[1]).toMatch(/follow-up evaluation/);
    expect(problems[2]).toBe('2 rectification items are still open.');
    expect(problems[3]).toMatch(/notifying the regulator/);
  });

  it('refuses a malformed count or grade', () => {
    expect(() => closeOutProblems(ready({ openRectificationItems: -1 }))).toThrow(/openRectificationItems/);
    expect(() => closeOutProblems(ready({ openRectificationItems: 1.5 }))).toThrow(RangeError);
    expect(() => closeOutProblems(ready({ grade: 'V' as IncidentGrade }))).toThrow(/grade must be one of/);
  });
});
