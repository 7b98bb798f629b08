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
