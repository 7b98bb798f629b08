/**
 * Bearer API tokens and the lifecycle of the people who hold them.
 *
 * Only the tokens' SHA-256 hashes are stored; a token is shown once, when it
 * is created, and is valid until it expires (TOKEN_TTL_DAYS, or what the
 * issuing admin chose), is revoked, or its user is deactivated. No or bad
 * token → 401 (naming why, when the token is known); wrong role → 403; a user
 * whose only role is auditor reads everything and changes nothing.
 *
 * Revoking, deactivating and reactivating are written here once, each with
 * its audit event in the same transaction, for the admin routes
 * (api/routes/users.ts) and `npm run users` alike.
 *
 * A token's lookup is cached in this process (TokenCache) for
 * TOKEN_CACHE_TTL_MS, so a busy client costs one token query per half
 * minute, not one per request. Every change to tokens or users made through
 * this module bumps a process-wide version that empties every cache at
 * once: revoked, deactivated or re-roled here, refused or re-authorised on
 * the very next request. A change made elsewhere (another API process,
 * `npm run users`, SQL by hand) is seen within the TTL; call
 * invalidateTokenCache() to see it at once.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { and, eq, inArray, isNull, or } from 'drizzle-orm';
import type { MiddlewareHandler } from 'hono';
import { appendLocked, lockAuditChain, type AuditEventInput, type DbOrTx } from '../db/audit';
import type { Database } from '../db/client';
import { apiTokens, users, type User } from '../db/schema';
import { hasAnyRole, isReadOnly, type Role } from '../domain/roles';
import { DEFAULT_TOKEN_TTL_DAYS, MAX_TOKEN_TTL_DAYS } from '../platform/config';
import { ApiError } from './errors';
import { userOfSession } from './session';

export interface AuthUser {
  id: string;
  name: string;
  roles: Role[];
}

export type AppEnv = {
  Variables: { requestId: string; user: AuthUser };
};

/** Failed authentications allowed per client address in a sliding minute: 20 (policy default). */
export const DEFAULT_FAILED_AUTH_PER_MINUTE = 20;
const FAILED_AUTH_WINDOW_MS = 60_000;
/** Addresses remembered at most; the oldest is forgotten first. */
const FAILED_AUTH_ADDRESSES = 10_000;

/**
 * Counts failed authentications (401) per client address, in this API
 * process's memory: a second API process counts its own. An address at the
 * limit is refused with 429 TOO_MANY_FAILED_LOGINS before its token is even
 * looked up — valid tokens from that address included. Letting valid tokens
 * through would tell whoever tries tokens from there which ones work, at full
 * speed, so the limit would limit nothing; the price is that callers behind
 * one address (a NAT, a proxy) wait out the minute together.
 *
 * The address is the TCP peer's. A request with no socket (the app called
 * in-process, as tests do) has none and is not counted.
 */
export class FailedAuthLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    readonly perMinute = DEFAULT_FAILED_AUTH_PER_MINUTE,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until the address may try again; 0 when it may now. */
  retryAfterSeconds(address: string): number {
    const times = this.recent(address);
    if (this.perMinute <= 0 || times.length < this.perMinute) return 0;
    const oldest = times[times.length - this.perMinute]!;
    return Math.max(1, Math.ceil((oldest + FAILED_AUTH_WINDOW_MS - this.now()) / 1000));
  }

  recordFailure(address: string): void {
    if (this.perMinute <= 0) return;
    const times = this.recent(address);
    times.push(this.now());
    // Only the last `perMinute` failures can decide a refusal.
    if (times.length > this.perMinute) times.splice(0, times.length - this.perMinute);
    this.failures.delete(address);
    this.failures.set(address, times);
    if (this.failures.size > FAILED_AUTH_ADDRESSES) this.failures.delete(this.failures.keys().next().value!);
  }

  private recent(address: string): number[] {
    const since = this.now() - FAILED_AUTH_WINDOW_MS;
    const times = (this.failures.get(address) ?? []).filter((t) => t > since);
    if (times.length === 0) this.failures.delete(address);
    return times;
  }
}

/** The TCP peer's address when the request came through the Node server; undefined in-process. */
export function clientAddress(c: { env: unknown }): string | undefined {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? undefined;
}

export const TOKEN_PREFIX = 'gov_';

const DAY_MS = 24 * 60 * 60 * 1000;

/** POSTs that only compute an answer and write nothing: auditors may call them. */
/** Posts that only read: a grade suggestion, and decoding payloads for the Temporal UI (api/routes/codec.ts). */
const READ_ONLY_POSTS = new Set(['/api/incidents/grade-suggestion', '/codec/decode']);

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(24).toString('base64url');
}

/** When a token issued at `from` for `ttlDays` days expires; refuses a validity outside 1…MAX_TOKEN_TTL_DAYS. */
export function tokenExpiry(ttlDays: number, from = new Date()): Date {
  if (!Number.isInteger(ttlDays) || ttlDays < 1 || ttlDays > MAX_TOKEN_TTL_DAYS) {
    throw new Error(`a token is valid for 1 to ${MAX_TOKEN_TTL_DAYS} days, not ${ttlDays}`);
  }
  return new Date(from.getTime() + ttlDays * DAY_MS);
}

export type TokenRow = typeof apiTokens.$inferSelect;
/** A token as an admin sees it: never its hash. */
export type TokenInfo = Omit<TokenRow, 'tokenHash'>;

export interface IssuedToken extends TokenInfo {
  /** The token in clear: the only time it exists so. */
  token: string;
}

const tokenInfoColumns = {
  id: apiTokens.id,
  userId: apiTokens.userId,
  label: apiTokens.label,
  createdAt: apiTokens.createdAt,
  expiresAt: apiTokens.expiresAt,
  revokedAt: apiTokens.revokedAt,
};

/** Creates a token for a user, valid for `ttlDays` (default DEFAULT_TOKEN_TTL_DAYS). */
export async function createToken(
  db: DbOrTx,
  options: { userId: string; label: string; ttlDays?: number; token?: string; now?: Date },
): Promise<IssuedToken> {
  const token = options.token ?? generateToken();
  // Issued now, expiring exactly ttlDays later: both from one clock.
  const createdAt = options.now ?? new Date();
  const [row] = await db
    .insert(apiTokens)
    .values({
      id: randomUUID(),
      userId: options.userId,
      tokenHash: hashToken(token),
      label: options.label,
      createdAt,
      expiresAt: tokenExpiry(options.ttlDays ?? DEFAULT_TOKEN_TTL_DAYS, createdAt),
    })
    .returning(tokenInfoColumns);
  return { ...row!, token };
}

/** Creates a token for a user and returns it in clear, the only time it exists so. */
export async function issueToken(
  db: DbOrTx,
  userId: string,
  label: string,
  options: { token?: string; ttlDays?: number } = {},
): Promise<string> {
  return (await createToken(db, { userId, label, ...options })).token;
}

/**
 * How long this process trusts a token it has looked up: 30 s (policy
 * default). It bounds how late a change made outside this process (another
 * API replica, `npm run users`, SQL) takes effect here; changes made through
 * this module take effect at once (invalidateTokenCache).
 */
export const TOKEN_CACHE_TTL_MS = 30_000;
/** Tokens remembered at most per cache; the oldest is forgotten first (policy default). */
export const TOKEN_CACHE_ENTRIES = 10_000;

/** Bumped by every change to tokens or users in this process; a cached lookup of an older version is void. */
let tokenCacheVersion = 0;

/**
 * Voids every cached token lookup in this process: the next request of
 * every token is looked up again. Called after each change to tokens or
 * users made here; call it after changing them any other way (SQL by hand,
 * a script sharing this process) to have the change count at once.
 */
export function invalidateTokenCache(): void {
  tokenCacheVersion += 1;
}

interface CachedToken {
  user: AuthUser;
  expiresAt: number;
  cachedAt: number;
  version: number;
}

/**
 * Successful token lookups, keyed by the token's SHA-256 (never the token),
 * valid for `ttlMs`, for the version they were read under, and only while
 * the token has not expired. Refusals are never cached: an unknown, revoked,
 * expired or deactivated token is looked up again every time (and counted
 * by the FailedAuthLimiter), and so is a cached token whose expiry has
 * passed — its answer then comes from the database, which may have renewed
 * it (platform/seed.ts).
 */
export class TokenCache {
  private readonly entries = new Map<string, CachedToken>();

  constructor(
    readonly ttlMs = TOKEN_CACHE_TTL_MS,
    readonly maxEntries = TOKEN_CACHE_ENTRIES,
    private readonly now: () => number = Date.now,
  ) {}

  /** The version to pass to set(): read it before the lookup, so a change during the lookup voids it. */
  version(): number {
    return tokenCacheVersion;
  }

  get(tokenHash: string): AuthUser | undefined {
    const entry = this.entries.get(tokenHash);
    if (!entry) return undefined;
    const now = this.now();
    if (entry.version !== tokenCacheVersion || now - entry.cachedAt >= this.ttlMs || entry.expiresAt <= now) {
      this.entries.delete(tokenHash);
      return undefined;
    }
    // A copy: a request that changed its user object must not change the next request's.
    return { ...entry.user, roles: [...entry.user.roles] };
  }

  set(tokenHash: string, user: AuthUser, expiresAt: Date, version: number): void {
    if (this.ttlMs <= 0 || version !== tokenCacheVersion) return;
    this.entries.delete(tokenHash);
    this.entries.set(tokenHash, { user, expiresAt: expiresAt.getTime(), cachedAt: this.now(), version });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  get size(): number {
    return this.entries.size;
  }
}

export function authenticate(
  db: Database,
  limiter: FailedAuthLimiter = new FailedAuthLimiter(),
  cache: TokenCache = new TokenCache(),
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const address = clientAddress(c);
    if (address !== undefined) {
      const wait = limiter.retryAfterSeconds(address);
      if (wait > 0) {
        throw new ApiError(
          'TOO_MANY_FAILED_LOGINS',
          `too many failed authentications from this address; try again in ${wait} s`,
          undefined,
          undefined,
          wait,
        );
      }
    }
    let user: AuthUser;
    try {
      // The web console's session cookie (api/session.ts) when there is no Authorization header.
      user = (await userOfSession(db, c)) ?? (await userOfToken(db, c.req.header('authorization') ?? '', cache));
    } catch (err) {
      if (address !== undefined && err instanceof ApiError && err.code === 'UNAUTHENTICATED') {
        limiter.recordFailure(address);
      }
      throw err;
    }
    c.set('user', user);
    const mutating = !['GET', 'HEAD', 'OPTIONS'].includes(c.req.method) && !READ_ONLY_POSTS.has(c.req.path);
    if (mutating && isReadOnly(user)) throw new ApiError('FORBIDDEN', 'auditors have read-only access');
    await next();
  };
}

/** The user an Authorization header's token belongs to; 401 naming why not. */
async function userOfToken(db: Database, header: string, cache: TokenCache): Promise<AuthUser> {
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new ApiError('UNAUTHENTICATED', 'send an API token as "Authorization: Bearer <token>"');
  const tokenHash = hashToken(match[1]!);
  const cached = cache.get(tokenHash);
  if (cached) return cached;
  const version = cache.version();
  const [row] = await db
    .select({
      id: users.id,
      name: users.name,
      roles: users.roles,
      active: users.active,
      revokedAt: apiTokens.revokedAt,
      expiresAt: apiTokens.expiresAt,
    })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .where(eq(apiTokens.tokenHash, tokenHash))
    .limit(1);
  if (!row) throw new ApiError('UNAUTHENTICATED', 'the API token is unknown or revoked');
  // Whoever holds a known token learns why it no longer works, and nothing else.
  if (!row.active) {
    throw new ApiError(
      'UNAUTHENTICATED',
      'the API token is unknown or revoked: the user it belongs to is deactivated',
      undefined,
      'USER_DEACTIVATED',
    );
  }
  if (row.revokedAt) {
    throw new ApiError(
      'UNAUTHENTICATED',
      `the API token is unknown or revoked: it was revoked at ${row.revokedAt.toISOString()}`,
      undefined,
      'TOKEN_REVOKED',
    );
  }
  if (row.expiresAt <= new Date()) {
    throw new ApiError(
      'UNAUTHENTICATED',
      `the API token expired at ${row.expiresAt.toISOString()}; ask an admin for a new one`,
      undefined,
      'TOKEN_EXPIRED',
    );
  }
  const user = { id: row.id, name: row.name, roles: row.roles };
  cache.set(tokenHash, user, row.expiresAt, version);
  return user;
}

export function requireRole(...roles: Role[]): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!hasAnyRole(c.get('user'), roles)) {
      throw new ApiError('FORBIDDEN', `this needs the role ${roles.join(' or ')}`);
    }
    await next();
  };
}

// ---------------------------------------------------------------- the lifecycle, audited

type Tx = Parameters<Parameters<Database['transaction']>[0]>[0];

/**
 * A change and its audit event in one transaction under the audit chain's
 * lock (db/audit.ts): the event names what the change found (the tokens a
 * deactivation revoked), so it is built after the change. A refusal thrown
 * inside rolls both back.
 */
async function audited<T>(
  db: Database,
  change: (tx: Tx) => Promise<{ result: T; event: AuditEventInput | null }>,
): Promise<T> {
  const result = await db.transaction(async (tx) => {
    // Every change here runs under this one lock, so the checks inside (a
    // manager loop, a user deactivated meanwhile) see no concurrent change.
    await lockAuditChain(tx);
    const { result, event } = await change(tx);
    if (event) await appendLocked(tx, event);
    return result;
  });
  // Committed: every token lookup cached before it is void, so the change counts from the next request on.
  invalidateTokenCache();
  return result;
}

export interface LifecycleInput {
  actorId: string;
  reason?: string | null;
}

/** Issues a token to an active user (404 otherwise), audited as `token.issued`. */
export async function issueTokenFor(
  db: Database,
  options: { userId: string; label: string; ttlDays?: number },
  by: LifecycleInput,
): Promise<IssuedToken> {
  return audited(db, async (tx) => {
    // Locked, so a deactivation in flight cannot be overtaken by a new token.
    const [user] = await tx
      .select({ active: users.active })
      .from(users)
      .where(eq(users.id, options.userId))
      .for('update');
    if (!user?.active) throw new ApiError('NOT_FOUND', `no active user ${options.userId}`);
    const issued = await createToken(tx, options);
    return {
      result: issued,
      event: {
        idempotencyKey: `token:${issued.id}:issued`,
        actorId: by.actorId,
        action: 'token.issued',
        reason: by.reason ?? null,
        payload: {
          tokenId: issued.id,
          userId: issued.userId,
          label: issued.label,
          expiresAt: issued.expiresAt.toISOString(),
        },
      },
    };
  });
}

/** Revokes one token. Unknown → 404; already revoked → 409 TOKEN_ALREADY_REVOKED, nothing written. */
export async function revokeToken(db: Database, tokenId: string, by: LifecycleInput): Promise<TokenInfo> {
  return audited(db, async (tx) => {
    const [token] = await tx.select(tokenInfoColumns).from(apiTokens).where(eq(apiTokens.id, tokenId)).for('update');
    if (!token) throw new ApiError('NOT_FOUND', `no token ${tokenId}`);
    if (token.revokedAt) {
      throw new ApiError(
        'CONFLICT',
        `token ${tokenId} was already revoked at ${token.revokedAt.toISOString()}`,
        { tokenId, revokedAt: token.revokedAt.toISOString() },
        'TOKEN_ALREADY_REVOKED',
      );
    }
    const [revoked] = await tx
      .update(apiTokens)
      .set({ revokedAt: new Date() })
      .where(eq(apiTokens.id, tokenId))
      .returning(tokenInfoColumns);
    return {
      result: revoked!,
      event: {
        idempotencyKey: `token:${tokenId}:revoked`,
        actorId: by.actorId,
        action: 'token.revoked',
        reason: by.reason ?? null,
        payload: { tokenId, userId: token.userId, label: token.label },
      },
    };
  });
}

/** Revokes every token not yet revoked of one user, or among the given hashes (the demo tokens); one audit event each. */
export async function revokeTokensOf(
  db: Database,
  filter: { userId: string } | { tokenHashes: string[] },
  by: LifecycleInput,
): Promise<TokenInfo[]> {
  const revokedTokens = await db.transaction(async (tx) => {
    await lockAuditChain(tx);
    const which =
      'userId' in filter ? eq(apiTokens.userId, filter.userId) : inArray(apiTokens.tokenHash, filter.tokenHashes);
    const revoked = await tx
      .update(apiTokens)
      .set({ revokedAt: new Date() })
      .where(and(which, isNull(apiTokens.revokedAt)))
      .returning(tokenInfoColumns);
    for (const token of revoked) {
      await appendLocked(tx, {
        idempotencyKey: `token:${token.id}:revoked`,
        actorId: by.actorId,
        action: 'token.revoked',
        reason: by.reason ?? null,
        payload: { tokenId: token.id, userId: token.userId, label: token.label },
      });
    }
    return revoked;
  });
  invalidateTokenCache();
  return revokedTokens;
}

async function lockedUser(tx: DbOrTx, userId: string): Promise<User> {
  const [user] = await tx.select().from(users).where(eq(users.id, userId)).for('update');
  if (!user) throw new ApiError('NOT_FOUND', `no user ${userId}`);
  return user;
}

/**
 * Deactivates a user and revokes every token they hold, at once: a
 * reactivated user starts again with a new token, so a token that left with
 * them never comes back. Unknown → 404; already inactive → 409.
 */
export async function deactivateUser(
  db: Database,
  userId: string,
  by: LifecycleInput,
): Promise<{ user: User; revokedTokenIds: string[] }> {
  return audited(db, async (tx) => {
    const before = await lockedUser(tx, userId);
    if (!before.active) {
      throw new ApiError('CONFLICT', `user ${userId} is already deactivated`, undefined, 'USER_ALREADY_INACTIVE');
    }
    const [user] = await tx.update(users).set({ active: false }).where(eq(users.id, userId)).returning();
    const revoked = await tx
      .update(apiTokens)
      .set({ revokedAt: new Date() })
      .where(and(eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)))
      .returning({ id: apiTokens.id });
    const revokedTokenIds = revoked.map((t) => t.id).sort();
    return {
      result: { user: user!, revokedTokenIds },
      event: {
        idempotencyKey: `user:${userId}:deactivated:${randomUUID()}`,
        actorId: by.actorId,
        action: 'user.deactivated',
        reason: by.reason ?? null,
        payload: { userId, revokedTokenIds },
      },
    };
  });
}

/** Reactivates a user, with no token: an admin issues a new one. Unknown → 404; already active → 409. */
export async function reactivateUser(db: Database, userId: string, by: LifecycleInput): Promise<User> {
  return audited(db, async (tx) => {
    const before = await lockedUser(tx, userId);
    if (before.active) {
      throw new ApiError('CONFLICT', `user ${userId} is already active`, undefined, 'USER_ALREADY_ACTIVE');
    }
    const [user] = await tx.update(users).set({ active: true }).where(eq(users.id, userId)).returning();
    return {
      result: user!,
      event: {
        idempotencyKey: `user:${userId}:reactivated:${randomUUID()}`,
        actorId: by.actorId,
        action: 'user.reactivated',
        reason: by.reason ?? null,
        payload: { userId },
      },
    };
  });
}

/**
 * A user's line manager must be another active user, and no one may end up
 * managing themselves through a chain of managers. 400 naming the field when
 * the manager is unknown or inactive; 422 MANAGER_IS_SELF / MANAGER_CYCLE.
 */
export async function checkManager(db: DbOrTx, userId: string, managerId: string): Promise<void> {
  if (managerId === userId) {
    throw new ApiError('UNPROCESSABLE', `user ${userId} cannot be their own manager`, undefined, 'MANAGER_IS_SELF');
  }
  const [manager] = await db.select({ active: users.active }).from(users).where(eq(users.id, managerId));
  if (!manager?.active) {
    throw new ApiError('BAD_REQUEST', `invalid body: managerId "${managerId}" is not an active user`, [
      { field: 'body.managerId', message: 'not an active user' },
    ]);
  }
  // Walk up from the new manager: reaching the user would close a loop.
  const chain = [managerId];
  for (let current: string | null = managerId; current;) {
    const [row]: Array<{ managerId: string | null }> = await db
      .select({ managerId: users.managerId })
      .from(users)
      .where(eq(users.id, current));
    current = row?.managerId ?? null;
    if (current === userId) {
      throw new ApiError(
        'UNPROCESSABLE',
        `${managerId} cannot manage ${userId}: it would close a loop of managers, ${[userId, ...chain, userId].join(' → ')} (each managed by the next)`,
        { chain: [userId, ...chain, userId] },
        'MANAGER_CYCLE',
      );
    }
    if (current && chain.includes(current)) break; // an older loop, not ours to report
    if (current) chain.push(current);
  }
}

export interface NewUser {
  id: string;
  name: string;
  email: string;
  roles: Role[];
  managerId?: string | null;
}

/** Creates a user (409 when the id or e-mail address is taken), audited as `user.created`. */
export async function createUser(db: Database, input: NewUser, by: LifecycleInput): Promise<User> {
  return audited(db, async (tx) => {
    const [clash] = await tx
      .select({ id: users.id })
      .from(users)
      .where(or(eq(users.id, input.id), eq(users.email, input.email)));
    if (clash) throw new ApiError('CONFLICT', `a user with id ${input.id} or email ${input.email} already exists`);
    if (input.managerId) await checkManager(tx, input.id, input.managerId);
    const roles = [...new Set(input.roles)];
    const [created] = await tx
      .insert(users)
      .values({ id: input.id, name: input.name, email: input.email, roles, managerId: input.managerId ?? null })
      .returning();
    return {
      result: created!,
      event: {
        idempotencyKey: `user:${input.id}:created`,
        actorId: by.actorId,
        action: 'user.created',
        reason: by.reason ?? null,
        payload: { userId: input.id, roles, managerId: created!.managerId },
      },
    };
  });
}

export interface UserChanges {
  name?: string;
  roles?: Role[];
  /** null: no line manager. */
  managerId?: string | null;
}

/**
 * Changes a user's name, roles or line manager, audited as `user.updated`
 * with each field's old and new value; a change to nothing writes nothing.
 * Unknown → 404. An admin cannot take away their own admin role (422
 * SELF_ADMIN_REMOVAL): another admin does that, so one always remains.
 */
export async function updateUser(
  db: Database,
  userId: string,
  changes: UserChanges,
  by: LifecycleInput,
): Promise<User> {
  return audited(db, async (tx) => {
    const before = await lockedUser(tx, userId);
    const roles = changes.roles && [...new Set(changes.roles)];
    if (by.actorId === userId && roles && before.roles.includes('admin') && !roles.includes('admin')) {
      throw new ApiError(
        'UNPROCESSABLE',
        'an admin cannot take away their own admin role: another admin does that',
        undefined,
        'SELF_ADMIN_REMOVAL',
      );
    }
    if (changes.managerId && changes.managerId !== before.managerId) await checkManager(tx, userId, changes.managerId);
    const after = {
      name: changes.name ?? before.name,
      roles: roles ?? before.roles,
      managerId: changes.managerId !== undefined ? changes.managerId : before.managerId,
    };
    const diff: Record<string, { from: unknown; to: unknown }> = {};
    for (const key of ['name', 'roles', 'managerId'] as const) {
      if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) diff[key] = { from: before[key], to: after[key] };
    }
    if (!Object.keys(diff).length) return { result: before, event: null };
    const [updated] = await tx.update(users).set(after).where(eq(users.id, userId)).returning();
    return {
      result: updated!,
      event: {
        idempotencyKey: `user:${userId}:updated:${randomUUID()}`,
        actorId: by.actorId,
        action: 'user.updated',
        reason: by.reason ?? null,
        payload: { userId, changes: diff },
      },
    };
  });
}
