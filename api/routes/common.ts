import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { eq } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { users } from '../../db/schema';
import { isReadOnly } from '../../domain/roles';
import type { Settings } from '../../platform/config';
import { idempotentUpdateId } from '../../platform/idempotentCalls';
import type { AppEnv, AuthUser } from '../auth';
import { ApiError } from '../errors';
import { ErrorSchema } from '../schemas';
import { REFUSAL_STATUS, type ProcessContract, type StepContract } from '../../contracts/core';

/** The API's own limits; each has a policy default (api/app.ts, api/auth.ts). */
export interface ApiLimits {
  /** Largest JSON (non-form) request body, in bytes (MAX_JSON_BYTES). */
  maxJsonBytes: number;
  /** Failed authentications per client address per minute before 429 (FAILED_AUTH_PER_MINUTE; 0: no limit). */
  failedAuthPerMinute: number;
  /** How long one request may wait on Temporal in all (API_TEMPORAL_DEADLINE_MS). */
  temporalDeadlineMs: number;
}

export interface AppDeps {
  db: Database;
  temporal: Client;
  settings: Pick<Settings, 'taskQueue' | 'temporalNamespace' | 'temporalUiUrl' | 'maxEvidenceBytes'> &
    Partial<Pick<Settings, 'caseTimings' | 'tokenTtlDays' | 'auditAnchor'>> &
    Partial<ApiLimits>;
}

const ERROR_DESCRIPTIONS = {
  400: 'Invalid input: the message names the fields',
  401: 'No or unknown API token',
  403: 'The caller’s role may not do this',
  404: 'Not found',
  409: 'Conflicts with the case’s current state (already exists, not awaiting this, closed)',
  413: 'Too large',
  422: 'Refused by a handbook rule (segregation of duties, four-eyes, missing reason)',
} as const;

/** OpenAPI response entries for the error statuses a route can return. */
export function errorResponses<S extends keyof typeof ERROR_DESCRIPTIONS>(...statuses: S[]) {
  return Object.fromEntries(
    statuses.map((s) => [
      s,
      { description: ERROR_DESCRIPTIONS[s], content: { 'application/json': { schema: ErrorSchema } } },
    ]),
  ) as unknown as {
    [K in S]: { description: string; content: { 'application/json': { schema: typeof ErrorSchema } } };
  };
}

export const bearer = [{ bearerAuth: [] }];

const TARGET_NAMES: Record<string, string> = { json: 'body', form: 'body', param: 'path', query: 'query' };

/** A router whose invalid input becomes the one 400 envelope, naming the fields. */
export function router() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const part = TARGET_NAMES[result.target] ?? result.target;
        const fields = result.error.issues.flatMap((issue) =>
          // Zod reports unknown keys once, on the parent; name each of them.
          issue.code === 'unrecognized_keys'
            ? issue.keys.map((key) => ({
                field: [part, ...issue.path.map(String), key].join('.'),
                message: 'is not a known field',
              }))
            : [{ field: [part, ...issue.path.map(String)].join('.'), message: issue.message }],
        );
        throw new ApiError(
          'BAD_REQUEST',
          `invalid ${part}: ${fields.map((f) => `${f.field} ${f.message}`).join('; ')}`,
          fields,
        );
      }
    },
  });
}

/**
 * Sends an Update to a case's workflow. A finished workflow awaits nothing:
 * that is a 409 with a clear message, not a 404. In a request sent with an
 * Idempotency-Key the Update ID derives from it (platform/idempotentCalls.ts):
 * sent again, Temporal answers with the first outcome.
 */
export async function sendCaseUpdate<Ret, Args extends [unknown, ...unknown[]]>(
  temporal: Client,
  workflowId: string,
  update: UpdateDefinition<Ret, Args>,
  ...args: Args
): Promise<Ret> {
  try {
    return await temporal.workflow
      .getHandle(workflowId)
      .executeUpdate(update, { args, updateId: idempotentUpdateId(workflowId, update.name) });
  } catch (err) {
    if (err instanceof WorkflowNotFoundError)
      throw new ApiError('CONFLICT', `case ${workflowId} has finished; it awaits nothing`);
    throw err;
  }
}

/** A user named in a request body must exist and be active: 400 naming the field otherwise. */
export async function requireActiveUser(
  db: Database,
  userId: string,
  field: string,
  options: { mayAct?: boolean } = {},
): Promise<void> {
  const [user] = await db.select({ active: users.active, roles: users.roles }).from(users).where(eq(users.id, userId));
  // Someone who must act on a case cannot be an auditor, who changes nothing.
  if (!user?.active || (options.mayAct && isReadOnly(user))) {
    throw new ApiError('BAD_REQUEST', `invalid body: ${field} "${userId}" is not an active user`, [
      { field: `body.${field}`, message: 'not an active user' },
    ]);
  }
}

/** The routes derived from contracts, by "POST /api/…/{id}/step": what the derived tests walk. */
export const CONTRACT_ROUTES = new Map<string, { contract: ProcessContract; step: StepContract }>();

export function contractSteps<C extends ProcessContract>(
  app: ReturnType<typeof router>,
  contract: C,
  config: {
    resource: string;
    idName: string;
    idParam: z.ZodObject<z.ZodRawShape>;
    tag: string;
    resultSchema: z.ZodTypeAny;
    temporal: Client;
    /** Finds the case (its id and the person it names), throwing NOT_FOUND when there is none. */
    load: (id: string) => Promise<{ id: string; ownerId: string | null }>;
    before?: { [K in keyof C['steps']]?: (body: Record<string, unknown>, caseId: string) => Promise<void> };
  },
) {
  for (const [key, step] of Object.entries(contract.steps) as Array<[keyof C['steps'] & string, StepContract]>) {
    if (!step.path) continue;
    CONTRACT_ROUTES.set(`POST ${config.resource}/{${config.idName}}/${step.path}`, { contract, step });
    const refusals = Object.entries(step.refusals)
      .map(([code, kind]) => `${code} (${REFUSAL_STATUS[kind]})`)
      .join(', ');
    app.openapi(
      createRoute({
        method: 'post',
        path: `${config.resource}/{${config.idName}}/${step.path}`,
        tags: [config.tag],
        summary: step.summary,
        description: [
          step.description,
          `Who: ${step.who}.`,
          `Allowed in: ${step.stages === 'open' ? 'any open stage' : step.stages.join(', ')}.`,
          `Refusals: ROLE_NOT_PERMITTED (403), ${step.stageRefusal ?? 'WRONG_STAGE'} (409)${refusals ? `, ${refusals}` : ''}.`,
          'Answers once the case has settled: the effect can be read and the tasks it opened can be acted on.',
        ]
          .filter(Boolean)
          .join(' '),
        security: bearer,
        request: {
          params: config.idParam,
          body: {
            required: true,
            content: {
              'application/json': {
                schema: step.input as z.ZodTypeAny,
                ...(step.example ? { example: step.example } : {}),
              },
            },
          },
        },
        responses: {
          200: { description: 'Recorded', content: { 'application/json': { schema: config.resultSchema } } },
          ...errorResponses(400, 401, 403, 404, 409, 422),
        },
      }),
      async (c) => {
        // The generic path loses the param types; the schema still validated them.
        const params = c.req.valid('param' as never) as Record<string, string>;
        const found = await config.load(params[config.idName]!);
        const actor = actorOf(c);
        // Who may take the step is checked here first, and again by the
        // workflow's validator: a caller who may not learns nothing of the
        // case, and no other check runs for them.
        const isOwner = !!step.owner && !!found.ownerId && found.ownerId === actor.userId;
        if (!isOwner && !actor.roles.some((r) => step.roles.includes(r))) {
          throw new ApiError('FORBIDDEN', step.who, undefined, 'ROLE_NOT_PERMITTED');
        }
        const body = c.req.valid('json' as never) as Record<string, unknown>;
        await config.before?.[key]?.(body, found.id);
        const result = await sendCaseUpdate(
          config.temporal,
          found.id,
          step.update as never,
          {
            actor,
            ...body,
          } as never,
        );
        return c.json(result as never, 200);
      },
    );
  }
}

/**
 * A report as JSON and as a printable page: GET {path} and GET {path}.html,
 * both built from the same data so the page never says what the JSON does not.
 */
export function reportRoutes<R>(
  app: ReturnType<typeof router>,
  config: {
    path: string;
    idName: string;
    idParam: z.ZodObject<z.ZodRawShape>;
    tag: string;
    summary: string;
    schemaName: string;
    build: (id: string) => Promise<R>;
    render: (report: R) => string;
    /** Throws the route's 404 unless the caller may read the report's case (platform/access.ts assertCanReadCase). */
    readable: (id: string, user: AuthUser) => Promise<void>;
  },
) {
  const id = (c: { req: { valid(target: never): unknown } }) =>
    (c.req.valid('param' as never) as Record<string, string>)[config.idName]!;
  const report = async (c: { req: { valid(target: never): unknown }; get(key: 'user'): AuthUser }) => {
    const key = id(c);
    await config.readable(key, c.get('user'));
    return config.build(key);
  };
  app.openapi(
    createRoute({
      method: 'get',
      path: config.path,
      tags: [config.tag],
      summary: config.summary,
      security: bearer,
      request: { params: config.idParam },
      responses: {
        200: {
          description: 'The report',
          content: { 'application/json': { schema: z.record(z.string(), z.unknown()).openapi(config.schemaName) } },
        },
        ...errorResponses(400, 401, 404),
      },
    }),
    async (c) => c.json((await report(c)) as never, 200),
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: `${config.path}.html`,
      tags: [config.tag],
      summary: `${config.summary} — printable page`,
      security: bearer,
      request: { params: config.idParam },
      responses: {
        200: { description: 'HTML', content: { 'text/html': { schema: z.string() } } },
        ...errorResponses(400, 401, 404),
      },
    }),
    async (c) => c.html(config.render(await report(c))),
  );
}

export function actorOf(c: { get(key: 'user'): AppEnv['Variables']['user'] }) {
  const user = c.get('user');
  return { userId: user.id, roles: user.roles };
}
