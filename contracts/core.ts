/**
 * One definition per process. A process's contract (contracts/<process>.ts)
 * names its id, its stages and each human step: the step's input schema, who
 * may take it, the stages where it is allowed, and the refusal codes it may
 * answer with. Pure: the workflow bundle and the API import the same object.
 *
 * From a step the API derives its route, OpenAPI entry and request schema
 * (api/routes/common.ts `contractSteps`), and the workflow derives its Update
 * and the validator's first checks (workflows/shared/steps.ts). A route's
 * zod schema and the validator's schema are the same object.
 */
import type { UpdateDefinition } from '@temporalio/common';
import { defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import type { Actor, Role } from '../domain/roles';

// Zod would compile parsers with `new Function`; the workflow sandbox is no
// place for generated code, and parsing speed does not matter here.
z.config({ jitless: true });

/** How the API answers a refusal: the state is wrong (409), the caller may not (403), the input breaks a rule (422). */
export type RefusalKind = 'conflict' | 'forbidden' | 'unprocessable';

export const REFUSAL_STATUS: Record<RefusalKind, 409 | 403 | 422> = {
  conflict: 409,
  forbidden: 403,
  unprocessable: 422,
};

/** Codes every step may answer with. */
export const COMMON_REFUSALS = {
  /** The case is not in a stage where the step is taken. */
  WRONG_STAGE: 'conflict',
  /** The caller holds none of the roles the step needs and is not the one it names. */
  ROLE_NOT_PERMITTED: 'forbidden',
  /** The input does not match the step's schema (a caller that bypassed the API). */
  INVALID_INPUT: 'unprocessable',
} as const satisfies Record<string, RefusalKind>;

/** What a step's Update carries: the validated input and who acts. */
export type StepCall<I> = I & { actor: Actor };

export interface StepContract<
  Name extends string = string,
  Stage extends string = string,
  Input = unknown,
  Result = unknown,
  Code extends string = string,
> {
  /** The Update's name. */
  name: Name;
  /**
   * The route: POST {resource}/{id}/{path}. Absent for a step the API takes
   * on the caller's behalf inside another call.
   */
  path?: string;
  summary: string;
  description?: string;
  /** The request body: the route validates with it, and so does the Update's validator. */
  input: z.ZodType<Input>;
  /**
   * A valid input, shown in the API docs and sent by the derived tests
   * (tests/integration/contractSteps.test.ts). Every step with a route has one.
   */
  example?: Record<string, unknown>;
  /** Stages where the step is allowed; 'open' for any stage while the case is open. */
  stages: readonly Stage[] | 'open';
  /**
   * Who may take it: a holder of one of `roles`, or the person the case names
   * as `owner` (its handler, owner, reviewer…), said in `who` for messages.
   */
  roles: readonly Role[];
  owner?: boolean;
  /** The refusal a caller who may not take the step reads, e.g. "the complaint handler or a manager sends the feedback". */
  who: string;
  /** The code for "not in this stage"; WRONG_STAGE unless the step names its own (one of its refusals). */
  stageRefusal?: Code;
  /** The codes this step may refuse with, besides COMMON_REFUSALS, and how the API answers each. */
  refusals: Record<Code, RefusalKind>;
  update: UpdateDefinition<Result, [StepCall<Input>], Name>;
}

export function defineStep<Name extends string, Stage extends string, Input, Result, Code extends string = never>(
  step: Omit<StepContract<Name, Stage, Input, Result, Code>, 'update' | 'refusals' | 'stageRefusal'> & {
    refusals?: Record<Code, RefusalKind>;
    stageRefusal?: NoInfer<Code>;
  },
): StepContract<Name, Stage, Input, Result, Code> {
  return {
    ...step,
    refusals: step.refusals ?? ({} as Record<Code, RefusalKind>),
    update: defineUpdate<Result, [StepCall<Input>], Name>(step.name),
  };
}

/** defineStep for a step whose answer has a known type: `stepReturning<R>()({ … })`. */
export function stepReturning<Result>() {
  return <Name extends string, Stage extends string, Input, Code extends string = never>(
    step: Parameters<typeof defineStep<Name, Stage, Input, Result, Code>>[0],
  ) => defineStep<Name, Stage, Input, Result, Code>(step);
}

export interface ProcessContract<
  Process extends string = string,
  Stage extends string = string,
  Steps extends Record<string, StepContract> = Record<string, StepContract>,
> {
  /** The process as stored in the read model and in GovProcess. */
  process: Process;
  /** Every stage the case can show, in order; 'closed' last. */
  stages: readonly Stage[];
  /** The business key's shape, for routes and for the workflow id. */
  keyPattern: RegExp;
  /** The workflow id (and case id) for a business key. */
  caseId(key: string): string;
  steps: Steps;
}

export function defineProcess<Process extends string, Stage extends string, Steps extends Record<string, StepContract>>(
  contract: ProcessContract<Process, Stage, Steps>,
): ProcessContract<Process, Stage, Steps> {
  return contract;
}

/** Stages every process shares, so an auditor filtering GovStage learns one word per idea. */
export const SHARED_STAGES = {
  /** Every wait for an approval decision, in every process. */
  awaitingApproval: 'awaiting_approval',
  /** Rectification items are open and the case waits for them. */
  rectification: 'rectification',
  closed: 'closed',
} as const;

/** The refusal codes of every given contract, with the API's answer for each. */
export function refusalKinds(contracts: readonly ProcessContract[]): Record<string, RefusalKind> {
  const kinds: Record<string, RefusalKind> = { ...COMMON_REFUSALS };
  for (const contract of contracts) {
    for (const step of Object.values(contract.steps)) {
      for (const [code, kind] of Object.entries(step.refusals)) {
        if (kinds[code] && kinds[code] !== kind) {
          throw new Error(
            `refusal ${code} is ${kinds[code]} elsewhere but ${kind} in ${contract.process}.${step.name}`,
          );
        }
        kinds[code] = kind;
      }
    }
  }
  return kinds;
}

/**
 * The checks every step's validator makes first, in this order: who may take
 * it (a caller who may not learns nothing of the case's stage), where it is
 * allowed, and its input's schema. Null when the step may go on to its own
 * domain rule.
 */
export function stepRefusal(
  step: Pick<StepContract, 'stages' | 'roles' | 'owner' | 'who' | 'input' | 'stageRefusal'>,
  state: { stage: string; status: 'open' | 'closed'; ownerId?: string; label: string },
  call: { actor: Actor } & Record<string, unknown>,
): { code: string; message: string } | null {
  const { actor, ...input } = call;
  const isOwner = !!step.owner && !!state.ownerId && actor?.userId === state.ownerId;
  if (!isOwner && !actor?.roles?.some((r) => step.roles.includes(r))) {
    return { code: 'ROLE_NOT_PERMITTED', message: step.who };
  }
  const allowed = step.stages === 'open' ? state.status === 'open' : step.stages.includes(state.stage);
  if (!allowed) {
    return {
      code: step.stageRefusal ?? 'WRONG_STAGE',
      message:
        state.status === 'closed'
          ? `the ${state.label} is closed`
          : `the ${state.label} is ${state.stage}; this step is taken in ${
              step.stages === 'open' ? 'any open stage' : step.stages.join(' or ')
            }`,
    };
  }
  return inputRefusal(step, input);
}

/** The step's input against its schema: for callers that bypassed the API. Null when it fits. */
export function inputRefusal(
  step: Pick<StepContract, 'input'>,
  input: Record<string, unknown>,
): { code: string; message: string } | null {
  const parsed = step.input.safeParse(input);
  if (parsed.success) return null;
  const issue = parsed.error.issues[0];
  return { code: 'INVALID_INPUT', message: `${issue?.path.join('.') || 'input'}: ${issue?.message ?? 'invalid'}` };
}
