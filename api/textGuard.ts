/**
 * Refuses, with 400 naming the field, a request carrying text the platform
 * cannot store as given (see domain/text.ts): a NUL character or a lone UTF-16
 * surrogate in a path parameter, a query parameter, a JSON body (values and
 * keys at any depth) or a form (values, field names, uploaded files' names).
 *
 * Percent-encoded bytes in the URL that are not UTF-8 are refused too:
 * `%ED%A0%80` is a surrogate encoded as if it were a character, and Hono would
 * otherwise pass it on as the literal text "%ED%A0%80" (a surrogate cannot be
 * decoded from a URL, so that is the only way one arrives there).
 *
 * Applied once, to every /api route, after authentication (no token still
 * gets 401) and before the routes' own middleware and validators, so a
 * refused request writes nothing and starts nothing.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import { findBadText, pathSegment, TEXT_PROBLEMS, textProblem, type BadText } from '../domain/text';
import type { AppEnv } from './auth';
import { ApiError } from './errors';

/** The media types Hono's json validator reads, and the forms its form validator reads. */
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;
const FORM_MEDIA_TYPES = new Set(['multipart/form-data', 'application/x-www-form-urlencoded']);

const PERCENT_ENCODED_RUN = /(?:%[0-9A-Fa-f]{2})+/g;
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

type Part = 'path' | 'query' | 'body';

function refuse(part: Part, field: string, message: string): never {
  throw new ApiError('BAD_REQUEST', `invalid ${part}: ${field} ${message}`, [{ field, message }]);
}

function refuseBadText(part: Part, bad: BadText | null, what: 'value' | 'file name' = 'value'): void {
  if (!bad) return;
  const problem = TEXT_PROBLEMS[bad.problem];
  const message = bad.inKey
    ? `is a ${part === 'body' ? 'field' : 'parameter'} name containing ${problem}`
    : what === 'file name'
      ? `has a file name containing ${problem}`
      : `contains ${problem}`;
  refuse(part, bad.path, message);
}

/**
 * Percent-decodes URL text as UTF-8. Returns the first run of encoded bytes
 * that is not UTF-8 instead when there is one. A `%` not followed by two hex
 * digits stays as it is, as Hono leaves it.
 */
export function decodeUrlText(raw: string): { text: string } | { notUtf8: string } {
  let notUtf8: string | undefined;
  const text = raw.replace(PERCENT_ENCODED_RUN, (run) => {
    try {
      return STRICT_UTF8.decode(Uint8Array.from(run.slice(1).split('%'), (hex) => parseInt(hex, 16)));
    } catch {
      notUtf8 ??= run;
      return run;
    }
  });
  return notUtf8 === undefined ? { text } : { notUtf8 };
}

/** Decodes and checks one piece of the URL; `fieldOf` names it, from its decoded text when there is one. */
function checkUrlText(
  part: Exclude<Part, 'body'>,
  raw: string,
  fieldOf: (decoded?: string) => string,
  inKey = false,
): string {
  const decoded = decodeUrlText(raw);
  if ('notUtf8' in decoded) {
    const bytes = decoded.notUtf8.length > 36 ? `${decoded.notUtf8.slice(0, 36)}…` : decoded.notUtf8;
    refuse(part, fieldOf(), `is not UTF-8 once percent-decoded (${bytes})`);
  }
  const problem = textProblem(decoded.text);
  if (problem) refuseBadText(part, { path: fieldOf(decoded.text), problem, inKey });
  return decoded.text;
}

/** Path segments, each named by the matched route's parameter (`path.taskId`), else `path`. */
function checkPath(c: Context<AppEnv>, pathname: string): void {
  const segments = pathname.split('/');
  // The last matched route is the handler's (`/api/tasks/:taskId/decision`); earlier ones are middleware.
  const pattern = routePath(c, -1).split('/');
  const aligned = pattern.length === segments.length && !pattern.includes('*');
  segments.forEach((segment, i) => {
    const param = aligned ? /^:([^{?]+)/.exec(pattern[i]!)?.[1] : undefined;
    checkUrlText('path', segment, () => (param ? `path.${param}` : 'path'));
  });
}

function checkQuery(search: string): void {
  for (const pair of search.replace(/^\?/, '').split('&')) {
    if (!pair) continue;
    const at = pair.indexOf('=');
    const [rawKey, rawValue] = at < 0 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)];
    const plus = (s: string) => s.replace(/\+/g, ' ');
    const key = checkUrlText('query', plus(rawKey), (k) => `query.${k === undefined ? rawKey : pathSegment(k)}`, true);
    checkUrlText('query', plus(rawValue), () => `query.${pathSegment(key)}`);
  }
}

/*
 * The body is read from a clone, not through Hono's cached `c.req.json()`: the
 * upload routes' body limit reads the raw stream itself, and its reader throws on a
 * stream already consumed (as for a JSON body sent to an upload route).
 */

async function checkForm(c: Context<AppEnv>): Promise<void> {
  let form: FormData;
  try {
    form = await c.req.raw.clone().formData();
  } catch {
    return; // malformed: the route's validator answers that, as it always has
  }
  for (const [name, value] of form) {
    const field = `body.${pathSegment(name)}`;
    const nameProblem = textProblem(name);
    if (nameProblem) refuseBadText('body', { path: field, problem: nameProblem, inKey: true });
    if (typeof value === 'string') refuseBadText('body', findBadText(value, field));
    else refuseBadText('body', findBadText(value.name, field), 'file name');
  }
}

async function checkJson(c: Context<AppEnv>): Promise<void> {
  let body: unknown;
  try {
    body = JSON.parse(await c.req.raw.clone().text());
  } catch {
    return; // malformed JSON: the route's validator answers that, as it always has
  }
  refuseBadText('body', findBadText(body, 'body'));
}

/**
 * The guard. `formBodyLimit` bounds what it reads of a form before the route
 * does: every form route is an evidence upload with that limit.
 */
export function textGuard(options: { formBodyLimit: MiddlewareHandler }): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const url = new URL(c.req.url);
    checkPath(c, url.pathname);
    checkQuery(url.search);
    if (c.req.raw.body) {
      const mediaType = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (JSON_MEDIA_TYPE.test(mediaType)) await checkJson(c);
      else if (FORM_MEDIA_TYPES.has(mediaType)) {
        let checked = false;
        const limited = await options.formBodyLimit(c, async () => {
          await checkForm(c);
          checked = true;
        });
        if (!checked) return limited ?? undefined;
      }
    }
    await next();
  };
}
