/**
 * The process contracts, checked as data: each step's schema refuses what the
 * route and the validator must both refuse, each step is allowed only in
 * stages its process has, and the refusal checks run in their order.
 * These rows replace hand-written schema rows in the integration suites.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CONTRACTS, REFUSAL_KINDS } from '../../contracts';
import { defineProcess, defineStep, refusalKinds, stepRefusal, type StepContract } from '../../contracts/core';

const steps = CONTRACTS.flatMap((contract) =>
  Object.entries(contract.steps).map(([key, step]) => ({ contract, key, step: step as StepContract })),
);
const label = (row: (typeof steps)[number]) => `${row.contract.process}.${row.key}`;

/** The top-level object shape of a step's input, if it is one. */
function shapeOf(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  return schema instanceof z.ZodObject ? (schema.shape as Record<string, z.ZodType>) : undefined;
}

describe('process contracts', () => {
  it('every process has steps, distinct update names and distinct routes', () => {
    expect(CONTRACTS.length).toBeGreaterThanOrEqual(7);
    for (const contract of CONTRACTS) {
      const names = Object.values(contract.steps).map((s) => s.name);
      expect(new Set(names).size, contract.process).toBe(names.length);
      const paths = Object.values(contract.steps)
        .map((s) => s.path)
        .filter(Boolean);
      expect(new Set(paths).size, contract.process).toBe(paths.length);
    }
    const allNames = steps.map((r) => r.step.name);
    expect(new Set(allNames).size).toBe(allNames.length);
  });

  it.each(steps.map((r) => [label(r), r] as const))('%s is allowed only in stages its process has', (_, row) => {
    if (row.step.stages === 'open') return;
    expect(row.step.stages.length).toBeGreaterThan(0);
    for (const stage of row.step.stages) expect(row.contract.stages).toContain(stage);
  });

  it.each(steps.map((r) => [label(r), r] as const))(
    '%s refuses unknown fields and each missing required field',
    (_, row) => {
      const shape = shapeOf(row.step.input);
      if (!shape) return;
      expect(row.step.input.safeParse({ __unknown__: 1 }).success).toBe(false);
      for (const [field, schema] of Object.entries(shape)) {
        if (schema.safeParse(undefined).success) continue; // optional
        const others = Object.fromEntries(
          Object.keys(shape)
            .filter((k) => k !== field)
            .map((k) => [k, undefined]),
        );
        const result = row.step.input.safeParse(others);
        expect(result.success, `${label(row)} without ${field}`).toBe(false);
        if (!result.success) expect(result.error.issues.map((i) => i.path[0])).toContain(field);
      }
    },
  );

  it.each(steps.filter((r) => r.step.path).map((r) => [label(r), r] as const))(
    '%s has a route and a valid example',
    (_, row) => {
      expect(row.step.example, label(row)).toBeDefined();
      const parsed = row.step.input.safeParse(row.step.example);
      expect(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues)).toBe(true);
    },
  );

  it('names a stage refusal only among the step’s own refusals', () => {
    for (const row of steps) {
      if (row.step.stageRefusal) expect(Object.keys(row.step.refusals), label(row)).toContain(row.step.stageRefusal);
    }
  });

  it('gives every refusal code one answer across processes', () => {
    expect(REFUSAL_KINDS).toMatchObject({ WRONG_STAGE: 'conflict', ROLE_NOT_PERMITTED: 'forbidden' });
    const clash = defineProcess({
      process: 'clash',
      stages: ['a', 'closed'],
      keyPattern: /.*/,
      caseId: (k: string) => k,
      steps: {
        one: defineStep({
          name: 'one',
          summary: '',
          input: z.object({}),
          stages: ['a'],
          roles: ['manager'],
          who: 'x',
          refusals: { WRONG_STAGE: 'unprocessable' },
        }),
      },
    });
    expect(() => refusalKinds([clash])).toThrow(/WRONG_STAGE/);
  });
});

describe('stepRefusal: who, then where, then what', () => {
  const step = defineStep({
    name: 'sendFeedback',
    summary: '',
    input: z.object({ text: z.string().min(1) }).strict(),
    stages: ['handling'],
    roles: ['manager'],
    owner: true,
    who: 'the handler or a manager sends the feedback',
    stageRefusal: 'NOT_HANDLING',
    refusals: { NOT_HANDLING: 'conflict' },
  });
  const state = { stage: 'investigating', status: 'open' as const, ownerId: 'handler', label: 'complaint' };
  const outsider = { userId: 'someone', roles: ['action_owner' as const] };

  it('refuses a caller without the role before saying anything of the stage', () => {
    expect(stepRefusal(step, state, { actor: outsider, text: 'x' })).toEqual({
      code: 'ROLE_NOT_PERMITTED',
      message: 'the handler or a manager sends the feedback',
    });
  });

  it('lets the owner in without the role, then refuses the wrong stage with the step’s code', () => {
    expect(stepRefusal(step, state, { actor: { userId: 'handler', roles: [] }, text: 'x' })).toEqual({
      code: 'NOT_HANDLING',
      message: 'the complaint is investigating; this step is taken in handling',
    });
  });

  it('says a closed case is closed', () => {
    expect(
      stepRefusal(
        step,
        { ...state, status: 'closed', stage: 'closed' },
        { actor: { userId: 'm', roles: ['manager'] }, text: 'x' },
      )?.message,
    ).toBe('the complaint is closed');
  });

  it('checks the input last, naming the field', () => {
    const ok = { ...state, stage: 'handling' };
    expect(stepRefusal(step, ok, { actor: { userId: 'm', roles: ['manager'] }, text: '' })?.code).toBe('INVALID_INPUT');
    expect(stepRefusal(step, ok, { actor: { userId: 'm', roles: ['manager'] }, text: '' })?.message).toMatch(/^text:/);
    expect(stepRefusal(step, ok, { actor: { userId: 'm', roles: ['manager'] }, text: 'fine' })).toBeNull();
  });
});

/**
 * Schema details beyond unknown and missing fields: enums, bounds, blank text,
 * formats of dates and durations. Each body is refused by the step's own schema
 * (the route's and the validator's), naming every listed field path.
 */
describe('step schemas refuse what the handbook does not allow', () => {
  const inputOf = (process: string, path: string) => {
    const row = steps.find((r) => r.contract.process === process && r.step.path === path);
    if (!row) throw new Error(`no step ${process} ${path}`);
    return row.step.input;
  };
  const SCORES = {
    legal_compliance: 4,
    financial_stability: 4,
    technical_capability: 4,
    market_reputation: 4,
    cooperation_history: 4,
  };
  const DRILL_PLAN = {
    scenario: 'Ransomware on the payment cluster',
    scheduledAt: '2026-12-01T02:00:00Z',
    participants: ['ops', 'security', 'PR'],
  };
  const DRILL_SCORES = { command: 85, information_reporting: 80, resource_dispatch: 75, public_opinion_response: 70 };
  const DRILL_SUMMARY = {
    problems: 'Slow failover',
    lessons: 'Automate the DNS switch',
    planChanges: 'Add the DNS runbook',
    revisionNeeded: false,
  };
  const FEEDBACK = { cause: 'The bank rejected the file', measures: 'Refund resent' };

  const rows: Array<[string, string, string, unknown, string[]]> = [
    [
      'an unknown credit rating',
      'supplier_review',
      'checks',
      { creditRating: 'A+', backgroundCheck: 'clear' },
      ['creditRating'],
    ],
    [
      'checks with an unknown field and no background check',
      'supplier_review',
      'checks',
      { creditRating: 'AA', rating: 'AA' },
      ['backgroundCheck'],
    ],
    [
      'a score of 6',
      'supplier_review',
      'scores',
      { scores: { ...SCORES, legal_compliance: 6 }, impact: 2 },
      ['scores.legal_compliance'],
    ],
    [
      'scores with a dimension missing, one unknown and no impact',
      'supplier_review',
      'scores',
      { scores: { ...SCORES, market_reputation: undefined, price: 5 } },
      ['scores.market_reputation', 'impact'],
    ],
    [
      'a proposed tier that is no tier',
      'supplier_review',
      'scores',
      { scores: SCORES, impact: 2, proposedTier: 'gold' },
      ['proposedTier'],
    ],
    ['an acknowledgement naming who acknowledged (the caller does)', 'incident', 'acknowledge', { by: 'lead' }, []],
    ['a blank timeline entry', 'incident', 'timeline', { entry: '   ' }, ['entry']],
    [
      'a timeline entry time without its time zone',
      'incident',
      'timeline',
      { entry: 'Failed over', at: '2026-03-01 10:00' },
      ['at'],
    ],
    [
      'a notification to an audience the plan does not know (press)',
      'incident',
      'notifications',
      { audience: 'press', notifiedAt: '2026-03-01T10:00:00Z', summary: 'Statement issued' },
      ['audience'],
    ],
    [
      'a notification without when or what',
      'incident',
      'notifications',
      { audience: 'management' },
      ['notifiedAt', 'summary'],
    ],
    ['a blank stabilisation summary', 'incident', 'stabilise', { summary: '' }, ['summary']],
    ['a regrade to grade V', 'incident', 'regrade', { grade: 'V', reason: 'hardly anything' }, ['grade']],
    ['a regrade without its reason', 'incident', 'regrade', { grade: 'II', reason: '  ' }, ['reason']],
    [
      'an evaluation without its lessons',
      'incident',
      'evaluation',
      { contributingFactors: ['no canary'] },
      ['lessons'],
    ],
    [
      'a rectification item due "next week"',
      'incident',
      'evaluation',
      {
        rootCause: 'A bad deploy',
        lessons: 'Canary first',
        rectificationItems: [{ title: 'Add a canary stage', ownerId: 'owner', dueIn: 'next week' }],
      },
      ['rectificationItems.0.dueIn'],
    ],
    ['a close-out that asks to skip the checks', 'incident', 'close-out', { force: true }, []],
    ['blank investigation findings', 'complaint', 'investigation', { findings: ' ' }, ['findings']],
    ['a handling record without its action', 'complaint', 'handling', { note: 'called the bank' }, ['action']],
    ['feedback without its follow-up plan', 'complaint', 'feedback', FEEDBACK, ['followUpPlan']],
    [
      'a complaint rectification due in 0s',
      'complaint',
      'rectifications',
      { title: 'Validate refund files', ownerId: 'owner', dueIn: '0s' },
      ['dueIn'],
    ],
    [
      'a drill plan with no participants and a date without its time zone',
      'drill',
      'plan',
      { ...DRILL_PLAN, scheduledAt: '2026-12-01 02:00', participants: [] },
      ['scheduledAt', 'participants'],
    ],
    [
      'a blank scenario and a blank participant',
      'drill',
      'plan',
      { ...DRILL_PLAN, scenario: ' ', participants: ['ops', ''] },
      ['scenario', 'participants.1'],
    ],
    [
      'a conduct without observations and an end time in words',
      'drill',
      'conduct',
      { startedAt: '2026-11-01T02:00:00Z', endedAt: 'three hours later', observations: '' },
      ['endedAt', 'observations'],
    ],
    ['a module scored 101', 'drill', 'evaluation', { scores: { ...DRILL_SCORES, command: 101 } }, ['scores.command']],
    [
      'scores with a module missing and one the standard does not have',
      'drill',
      'evaluation',
      { scores: { ...DRILL_SCORES, public_opinion_response: undefined, logistics: 80 } },
      ['scores.public_opinion_response'],
    ],
    [
      'a finding due "next month"',
      'drill',
      'evaluation',
      { scores: DRILL_SCORES, findings: [{ title: 'Automate the DNS switch', ownerId: 'owner', dueIn: 'next month' }] },
      ['findings.0.dueIn'],
    ],
    [
      'a summary without its lessons, revisionNeeded as "yes"',
      'drill',
      'summary',
      { ...DRILL_SUMMARY, lessons: undefined, revisionNeeded: 'yes' },
      ['lessons', 'revisionNeeded'],
    ],
    [
      'problems over 5000 characters',
      'drill',
      'summary',
      { ...DRILL_SUMMARY, problems: 'p'.repeat(5001) },
      ['problems'],
    ],
    ['a re-plan with no actions', 'pdca', 'plan', { actions: [] }, ['actions']],
    [
      'KPI values given as text',
      'pdca',
      'actuals',
      { actuals: { complaint_resolution_hours: 'twenty' } },
      ['actuals.complaint_resolution_hours'],
    ],
    [
      'a blank standardisation and an unknown field',
      'pdca',
      'standardise',
      { adopted: '   ', closeIt: true },
      ['adopted'],
    ],
  ];

  it.each(rows)('%s (%s %s)', (_, process, path, body, fields) => {
    const result = inputOf(process, path).safeParse(body);
    expect(result.success).toBe(false);
    if (result.success) return;
    const paths = result.error.issues.map((i) => i.path.join('.'));
    for (const field of fields) expect(paths, JSON.stringify(result.error.issues)).toContain(field);
  });
});
