import { OpenAPIHono } from '@hono/zod-openapi';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { Database } from '../../db/client';
import type { Settings } from '../../platform/config';
import type { AppEnv } from '../auth';
import { ApiError } from '../errors';
import { ErrorSchema } from '../schemas';

export interface AppDeps {
  db: Database;
  temporal: Client;
  settings: Pick<Settings, 'taskQueue' | 'temporalNamespace' | 'temporalUiUrl' | 'maxEvidenceBytes'>;
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
 * that is a 409 with a clear message, not a 404.
 */
export async function sendCaseUpdate<Ret, Args extends [unknown, ...unknown[]]>(
  temporal: Client,
  workflowId: string,
  update: UpdateDefinition<Ret, Args>,
  ...args: Args
): Promise<Ret> {
  try {
    return await temporal.workflow.getHandle(workflowId).executeUpdate(update, { args });
  } catch (err) {
    if (err instanceof WorkflowNotFoundError)
      throw new ApiError('CONFLICT', `case ${workflowId} has finished; it awaits nothing`);
    throw err;
  }
}

export function actorOf(c: { get(key: 'user'): AppEnv['Variables']['user'] }) {
  const user = c.get('user');
  return { userId: user.id, roles: user.roles };
}
