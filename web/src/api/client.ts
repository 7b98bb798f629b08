/**
 * The console's API client: openapi-fetch typed by schema.d.ts (generated
 * from the API's /openapi.json). Calls go to this origin with the session
 * cookie; every write carries the session's CSRF token (api/session.ts).
 * Polled reads are revalidated by the browser with If-None-Match: the API
 * answers 304 when nothing changed.
 */
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';

export type Task = components['schemas']['Task'];
export type Case = components['schemas']['Case'];
export type CaseDetail = components['schemas']['CaseDetail'];
export type AuditEvent = components['schemas']['AuditEvent'];
export type Evidence = components['schemas']['Evidence'];

export interface Me {
  id: string;
  name: string;
  roles: string[];
}

export interface Session {
  user: Me;
  csrfToken: string;
  expiresAt: string;
}

/** The API's one error envelope. */
export interface ApiErrorBody {
  error: { code: string; message: string; requestId: string; reason?: string; details?: unknown };
}

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody['error'],
  ) {
    super(body.message);
  }
}

let csrfToken = '';
let onSignedOut: () => void = () => undefined;

/** The session's CSRF token, for the calls made without the typed client (evidence uploads, with progress). */
export function currentCsrfToken(): string {
  return csrfToken;
}

export function setSessionHooks(token: string, signedOut: () => void): void {
  csrfToken = token;
  onSignedOut = signedOut;
}

const session: Middleware = {
  onRequest({ request }) {
    if (!['GET', 'HEAD', 'OPTIONS'].includes(request.method)) request.headers.set('X-CSRF-Token', csrfToken);
    return request;
  },
  onResponse({ response }) {
    if (response.status === 401) onSignedOut();
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: window.location.origin, credentials: 'same-origin' });
api.use(session);

/** The data of an openapi-fetch answer, or an ApiFailure carrying the error envelope. */
export async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (response.ok && data !== undefined) return data;
  const body = (error as ApiErrorBody | undefined)?.error ?? {
    code: String(response.status),
    message: response.statusText || 'request failed',
    requestId: response.headers.get('x-request-id') ?? '',
  };
  throw new ApiFailure(response.status, body);
}

async function sessionCall(method: string, body?: unknown): Promise<Response> {
  return fetch('/console/session', {
    method,
    credentials: 'same-origin',
    headers: {
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...(method === 'DELETE' ? { 'X-CSRF-Token': csrfToken } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
}

export async function currentSession(): Promise<Session | null> {
  const res = await sessionCall('GET');
  if (res.status === 401) return null;
  if (!res.ok) throw new ApiFailure(res.status, ((await res.json()) as ApiErrorBody).error);
  return (await res.json()) as Session;
}

export async function signIn(login: string, password: string): Promise<Session> {
  const res = await sessionCall('POST', { login, password });
  if (!res.ok) throw new ApiFailure(res.status, ((await res.json()) as ApiErrorBody).error);
  return (await res.json()) as Session;
}

/**
 * Ends the console session. For a session opened through the company's
 * identity provider the answer names the provider's end-session URL (with
 * the ID token hint and the way back to the console): returned, for the
 * caller to send the browser there.
 */
export async function signOut(): Promise<string | undefined> {
  const res = await sessionCall('DELETE');
  if (res.status !== 200) return undefined;
  const body = (await res.json().catch(() => null)) as { endSessionUrl?: unknown } | null;
  return typeof body?.endSessionUrl === 'string' ? body.endSessionUrl : undefined;
}
