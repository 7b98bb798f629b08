/**
 * The web console's sign-in: a password per user, a session cookie, and the
 * CSRF check on writes made with it. API tokens (api/auth.ts) stay for
 * systems; a request with an Authorization header is judged by its token
 * alone, and the cookie is looked at only when there is none.
 *
 * - Passwords: scrypt (N=2^15, r=8, p=1, 16-byte salt), set by an admin
 *   (`npm run users -- password <id>`), at least 12 characters.
 * - Lockout (policy default): 5 wrong passwords in a row lock the account for
 *   15 minutes (429 TOO_MANY_FAILED_LOGINS, reason ACCOUNT_LOCKED, Retry-After),
 *   even for the right password; a success or a new password resets the count.
 *   Sign-in failures also count per client address as API token failures do.
 * - The session: a random 32-byte cookie `gov_session` (HttpOnly,
 *   SameSite=Strict, Path=/, Secure over HTTPS), stored only as its SHA-256.
 *   It ends 12 hours after sign-in, after 60 minutes without a request, at
 *   sign-out, when the user's password changes or the user is deactivated.
 * - CSRF: a synchronizer token. Each session has its own random CSRF token,
 *   given to the console by sign-in and GET /console/session (never in a
 *   cookie); every write made with the cookie must send it back in
 *   X-CSRF-Token (403 FORBIDDEN, reason CSRF_TOKEN_INVALID otherwise). A write
 *   whose Origin header names another site is refused as well
 *   (CSRF_ORIGIN_MISMATCH). SameSite=Strict is a second line, not the only one.
 * - Sign-in with the company's identity provider (api/oidc.ts, where the
 *   deployment configures one) opens the same session (`openSession`); the
 *   password form stays for users without an identity there.
 * - Demo users (`npm start` only, see platform/seed.ts): a demo user with no
 *   password of their own signs in with DEMO_PASSWORD exactly while their
 *   public demo token is valid, so the guards on demo tokens (loopback only,
 *   never in production, `npm run users -- revoke-demo`) guard it too.
 */
import { createHash, randomBytes, randomUUID, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { and, eq, gt, isNull, lte, or, sql } from 'drizzle-orm';
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { appendLocked, lockAuditChain } from '../db/audit';
import type { Database } from '../db/client';
import { apiTokens, users } from '../db/schema';
import { consoleCredentials, consoleSessions } from '../db/sessions';
import { DEMO_USERS } from '../platform/seed';
import { clientAddress, FailedAuthLimiter, hashToken, type AppEnv, type AuthUser, type LifecycleInput } from './auth';
import { ApiError, errorBody } from './errors';

export const SESSION_COOKIE = 'gov_session';
export const CSRF_HEADER = 'x-csrf-token';
/** Policy defaults. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
export const SESSION_IDLE_MS = 60 * 60 * 1000;
export const MAX_FAILED_PASSWORDS = 5;
export const LOCKOUT_MS = 15 * 60 * 1000;
export const MIN_PASSWORD_LENGTH = 12;
/** The demo users' console password on a developer's machine (README, "The console"). */
export const DEMO_PASSWORD = 'demo-console';
/** lastSeenAt is written at most this often, not on every request. */
const TOUCH_EVERY_MS = 60 * 1000;

const scrypt = promisify(scryptCallback) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const KEY_LENGTH = 32;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEY_LENGTH, SCRYPT);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64'), key.toString('base64')].join('$');
}

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64');
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: SCRYPT.maxmem,
  });
  return timingSafeEqual(actual, expected);
}

/** Spent on an unknown login, so its answer takes as long as a known one's. */
const DUMMY_HASH = hashPassword(randomUUID());

function sameText(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

/** The problem with a new password, or null when it is acceptable. */
export function passwordProblem(password: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) return `a password has at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.length > 1024) return 'a password has at most 1024 characters';
  return null;
}

/**
 * Sets a user's console password, audited as `user.password_set`; their
 * sessions end and their failed-attempt count and lockout are cleared.
 */
export async function setPassword(db: Database, userId: string, password: string, by: LifecycleInput): Promise<void> {
  const problem = passwordProblem(password);
  if (problem)
    throw new ApiError('BAD_REQUEST', `invalid body: ${problem}`, [{ field: 'body.password', message: problem }]);
  const passwordHash = await hashPassword(password);
  await db.transaction(async (tx) => {
    await lockAuditChain(tx);
    const [user] = await tx.select({ active: users.active }).from(users).where(eq(users.id, userId));
    if (!user?.active) throw new ApiError('NOT_FOUND', `no active user ${userId}`);
    const now = new Date();
    await tx
      .insert(consoleCredentials)
      .values({ userId, passwordHash, passwordSetAt: now, failedAttempts: 0, lockedUntil: null })
      .onConflictDoUpdate({
        target: consoleCredentials.userId,
        set: { passwordHash, passwordSetAt: now, failedAttempts: 0, lockedUntil: null },
      });
    const ended = await tx
      .delete(consoleSessions)
      .where(eq(consoleSessions.userId, userId))
      .returning({ id: consoleSessions.id });
    await appendLocked(tx, {
      idempotencyKey: `user:${userId}:password_set:${randomUUID()}`,
      actorId: by.actorId,
      action: 'user.password_set',
      reason: by.reason ?? null,
      payload: { userId, sessionsEnded: ended.length },
    });
  });
}

/** True when `userId` is a demo user with no password of their own whose public demo token is valid now. */
async function demoPasswordApplies(db: Database, userId: string, now: Date): Promise<boolean> {
  const demo = DEMO_USERS.find((u) => u.id === userId);
  if (!demo) return false;
  const [token] = await db
    .select({ id: apiTokens.id })
    .from(apiTokens)
    .where(
      and(
        eq(apiTokens.tokenHash, hashToken(demo.token)),
        eq(apiTokens.userId, userId),
        isNull(apiTokens.revokedAt),
        gt(apiTokens.expiresAt, now),
      ),
    );
  return token !== undefined;
}

export interface SignedIn {
  /** The cookie's value: the only time it exists in clear. */
  token: string;
  csrfToken: string;
  expiresAt: Date;
  user: AuthUser;
}

const WRONG_LOGIN = 'wrong user id or password';

/**
 * Checks a password and opens a session. 401 for an unknown login, a wrong
 * password or a deactivated user, all with the same message; 429 while the
 * account is locked.
 */
export async function signIn(db: Database, login: string, password: string, now = new Date()): Promise<SignedIn> {
  const [user] = await db
    .select({ id: users.id, name: users.name, roles: users.roles, active: users.active })
    .from(users)
    .where(or(eq(users.id, login), eq(users.email, login)))
    .limit(1);
  if (!user?.active) {
    await verifyPassword(await DUMMY_HASH, password);
    throw new ApiError('UNAUTHENTICATED', WRONG_LOGIN, undefined, 'WRONG_PASSWORD');
  }
  await db.insert(consoleCredentials).values({ userId: user.id }).onConflictDoNothing();
  const [credential] = await db.select().from(consoleCredentials).where(eq(consoleCredentials.userId, user.id));
  if (credential!.lockedUntil && credential!.lockedUntil > now) throw lockedOut(credential!.lockedUntil, now);

  const ok = credential!.passwordHash
    ? await verifyPassword(credential!.passwordHash, password)
    : (await demoPasswordApplies(db, user.id, now)) && sameText(password, DEMO_PASSWORD);
  if (!ok) {
    const [counted] = await db
      .update(consoleCredentials)
      .set({ failedAttempts: sql`${consoleCredentials.failedAttempts} + 1` })
      .where(eq(consoleCredentials.userId, user.id))
      .returning({ failedAttempts: consoleCredentials.failedAttempts });
    if (counted!.failedAttempts >= MAX_FAILED_PASSWORDS) {
      const lockedUntil = new Date(now.getTime() + LOCKOUT_MS);
      await db.transaction(async (tx) => {
        await lockAuditChain(tx);
        await tx
          .update(consoleCredentials)
          .set({ failedAttempts: 0, lockedUntil })
          .where(eq(consoleCredentials.userId, user.id));
        await appendLocked(tx, {
          idempotencyKey: `user:${user.id}:locked_out:${randomUUID()}`,
          actorId: 'console',
          action: 'user.locked_out',
          reason: `${MAX_FAILED_PASSWORDS} wrong passwords in a row`,
          payload: { userId: user.id, lockedUntil: lockedUntil.toISOString() },
        });
      });
      throw lockedOut(lockedUntil, now);
    }
    throw new ApiError('UNAUTHENTICATED', WRONG_LOGIN, undefined, 'WRONG_PASSWORD');
  }

  await db
    .update(consoleCredentials)
    .set({ failedAttempts: 0, lockedUntil: null })
    .where(eq(consoleCredentials.userId, user.id));
  return openSession(db, user, now);
}

/**
 * Opens a console session for a user already authenticated (a password
 * here, the identity provider in api/oidc.ts): the same cookie, CSRF token
 * and lifetimes whichever way they signed in.
 */
export async function openSession(db: Database, user: AuthUser, now = new Date()): Promise<SignedIn> {
  // The user's ended sessions go as a new one starts: the table holds live sessions and a few more.
  await db
    .delete(consoleSessions)
    .where(
      and(
        eq(consoleSessions.userId, user.id),
        or(
          lte(consoleSessions.expiresAt, now),
          lte(consoleSessions.lastSeenAt, new Date(now.getTime() - SESSION_IDLE_MS)),
        ),
      ),
    );
  const token = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + SESSION_TTL_MS);
  await db.insert(consoleSessions).values({
    id: randomUUID(),
    tokenHash: hashToken(token),
    userId: user.id,
    csrfToken,
    createdAt: now,
    lastSeenAt: now,
    expiresAt,
  });
  return { token, csrfToken, expiresAt, user: { id: user.id, name: user.name, roles: user.roles } };
}

function lockedOut(until: Date, now: Date): ApiError {
  const wait = Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
  return new ApiError(
    'TOO_MANY_FAILED_LOGINS',
    `this account is locked after ${MAX_FAILED_PASSWORDS} wrong passwords in a row; try again in ${Math.ceil(wait / 60)} min or ask an admin to set a new password`,
    { lockedUntil: until.toISOString() },
    'ACCOUNT_LOCKED',
    wait,
  );
}

interface SessionRow {
  sessionId: string;
  csrfToken: string;
  user: AuthUser;
  expiresAt: Date;
}

/** The live session a cookie value belongs to, or undefined (unknown, expired, idle too long, user deactivated). */
async function liveSession(db: Database, token: string, now: Date): Promise<SessionRow | undefined> {
  const [row] = await db
    .select({
      sessionId: consoleSessions.id,
      csrfToken: consoleSessions.csrfToken,
      expiresAt: consoleSessions.expiresAt,
      lastSeenAt: consoleSessions.lastSeenAt,
      id: users.id,
      name: users.name,
      roles: users.roles,
      active: users.active,
    })
    .from(consoleSessions)
    .innerJoin(users, eq(users.id, consoleSessions.userId))
    .where(eq(consoleSessions.tokenHash, hashToken(token)));
  if (!row || !row.active || row.expiresAt <= now || row.lastSeenAt.getTime() + SESSION_IDLE_MS <= now.getTime())
    return undefined;
  if (now.getTime() - row.lastSeenAt.getTime() > TOUCH_EVERY_MS) {
    await db.update(consoleSessions).set({ lastSeenAt: now }).where(eq(consoleSessions.id, row.sessionId));
  }
  return {
    sessionId: row.sessionId,
    csrfToken: row.csrfToken,
    expiresAt: row.expiresAt,
    user: { id: row.id, name: row.name, roles: row.roles },
  };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The hook for api/auth.ts's `authenticate`: the user of the request's
 * session cookie, or undefined when the request has an Authorization header
 * or no cookie (the token decides). A cookie that no longer opens a session
 * is 401 SESSION_EXPIRED; a write without the session's CSRF token, or from
 * another origin, is 403.
 */
export async function userOfSession(db: Database, c: Context): Promise<AuthUser | undefined> {
  if (c.req.header('authorization') !== undefined) return undefined;
  const token = getCookie(c, SESSION_COOKIE);
  if (!token) return undefined;
  const session = await liveSession(db, token, new Date());
  if (!session) {
    throw new ApiError(
      'UNAUTHENTICATED',
      'your console session has ended (signed out, expired or idle too long); sign in again',
      undefined,
      'SESSION_EXPIRED',
    );
  }
  if (!SAFE_METHODS.has(c.req.method)) checkCsrf(c, session.csrfToken);
  return session.user;
}

function checkCsrf(c: Context, csrfToken: string): void {
  const origin = c.req.header('origin');
  if (origin !== undefined && origin !== new URL(c.req.url).origin && origin !== forwardedOrigin(c)) {
    throw new ApiError(
      'FORBIDDEN',
      `a write made with the console's session must come from the console itself, not from ${origin}`,
      undefined,
      'CSRF_ORIGIN_MISMATCH',
    );
  }
  const sent = c.req.header(CSRF_HEADER);
  if (!sent || !sameText(sent, csrfToken)) {
    throw new ApiError(
      'FORBIDDEN',
      `a write made with the console's session cookie needs the session's ${CSRF_HEADER} header; reload the console`,
      undefined,
      'CSRF_TOKEN_INVALID',
    );
  }
}

/** The origin a browser saw behind a TLS-terminating proxy (X-Forwarded-Proto + Host). */
function forwardedOrigin(c: Context): string | undefined {
  const proto = c.req.header('x-forwarded-proto');
  const host = c.req.header('host');
  return proto && host ? `${proto.split(',')[0]!.trim()}://${host}` : undefined;
}

/** The session's cookie: HttpOnly, SameSite=Strict, Secure over HTTPS, for the session's lifetime. */
export function setSessionCookie(c: Context, signed: SignedIn): void {
  setCookie(c, SESSION_COOKIE, signed.token, {
    httpOnly: true,
    sameSite: 'Strict',
    secure: isHttps(c),
    path: '/',
    maxAge: Math.floor(SESSION_TTL_MS / 1000),
  });
}

export function isHttps(c: Context): boolean {
  return (
    new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto')?.split(',')[0]?.trim() === 'https'
  );
}

/**
 * What signing out asks of the identity provider a session came from
 * (api/oidc.ts): given the request and the session's token, before the
 * session ends, the provider's end-session URL the browser goes on to, or
 * undefined when the session is not the provider's or it offers none.
 */
export type EndSessionAt = (c: Context, sessionToken: string) => Promise<string | undefined>;

/**
 * The console's session endpoints, for browsers, outside /api (not in the
 * OpenAPI document, which is for systems): sign in, who am I (with the CSRF
 * token), sign out. Signing out of a session opened through the identity
 * provider answers 200 with `{ endSessionUrl }`, where the console sends the
 * browser to end the provider's session too; any other, 204.
 */
export function sessionRoutes(
  db: Database,
  limiter = new FailedAuthLimiter(),
  options: { endSessionAt?: EndSessionAt } = {},
) {
  const app = new Hono<AppEnv>();
  const fail = (c: Context, err: ApiError) => {
    if (err.retryAfterSeconds !== undefined) c.header('Retry-After', String(err.retryAfterSeconds));
    return c.json(errorBody(c, err), err.status);
  };

  app.post('/console/session', async (c) => {
    const address = clientAddress(c);
    if (address !== undefined && limiter.retryAfterSeconds(address) > 0) {
      const wait = limiter.retryAfterSeconds(address);
      return fail(
        c,
        new ApiError(
          'TOO_MANY_FAILED_LOGINS',
          `too many failed sign-ins from this address; try again in ${wait} s`,
          undefined,
          undefined,
          wait,
        ),
      );
    }
    const origin = c.req.header('origin');
    if (origin !== undefined && origin !== new URL(c.req.url).origin && origin !== forwardedOrigin(c)) {
      return fail(
        c,
        new ApiError(
          'FORBIDDEN',
          `sign in from the console itself, not from ${origin}`,
          undefined,
          'CSRF_ORIGIN_MISMATCH',
        ),
      );
    }
    const body = (await c.req.json().catch(() => null)) as { login?: unknown; password?: unknown } | null;
    const details = [
      ...(typeof body?.login === 'string' && body.login.length > 0 && body.login.length <= 320
        ? []
        : [{ field: 'body.login', message: 'a user id or e-mail address, 1 to 320 characters' }]),
      ...(typeof body?.password === 'string' && body.password.length > 0 && body.password.length <= 1024
        ? []
        : [{ field: 'body.password', message: 'the password, 1 to 1024 characters' }]),
    ];
    if (details.length)
      return fail(c, new ApiError('BAD_REQUEST', `invalid body: ${details.map((d) => d.field).join(', ')}`, details));
    try {
      const signed = await signIn(db, body!.login as string, body!.password as string);
      setSessionCookie(c, signed);
      c.header('cache-control', 'no-store');
      return c.json({ user: signed.user, csrfToken: signed.csrfToken, expiresAt: signed.expiresAt.toISOString() }, 200);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (address !== undefined && err.code === 'UNAUTHENTICATED') limiter.recordFailure(address);
      return fail(c, err);
    }
  });

  app.get('/console/session', async (c) => {
    const token = getCookie(c, SESSION_COOKIE);
    const session = token ? await liveSession(db, token, new Date()) : undefined;
    c.header('cache-control', 'no-store');
    if (!session) return fail(c, new ApiError('UNAUTHENTICATED', 'not signed in', undefined, 'SESSION_EXPIRED'));
    return c.json(
      { user: session.user, csrfToken: session.csrfToken, expiresAt: session.expiresAt.toISOString() },
      200,
    );
  });

  app.delete('/console/session', async (c) => {
    const token = getCookie(c, SESSION_COOKIE);
    let endSessionUrl: string | undefined;
    if (token) {
      const session = await liveSession(db, token, new Date());
      // Signing out is a write: a forged sign-out is refused like any other.
      if (session) {
        try {
          checkCsrf(c, session.csrfToken);
        } catch (err) {
          return fail(c, err as ApiError);
        }
      }
      // Only a live session's: an expired one has nothing left to end at the provider on its behalf.
      endSessionUrl = session ? await options.endSessionAt?.(c, token) : undefined;
      await db.delete(consoleSessions).where(eq(consoleSessions.tokenHash, hashToken(token)));
    }
    deleteCookie(c, SESSION_COOKIE, { path: '/', secure: isHttps(c), httpOnly: true, sameSite: 'Strict' });
    if (!endSessionUrl) return c.body(null, 204);
    c.header('cache-control', 'no-store');
    return c.json({ endSessionUrl }, 200);
  });

  return app;
}
