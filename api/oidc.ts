/**
 * Sign-in to the console with the company's identity provider through
 * OpenID Connect (issue 13 §3), where the deployment configures one; without
 * it the console shows the password form only (api/session.ts).
 *
 * - Configured from the environment (`oidcConfigFrom`): OIDC_ISSUER,
 *   OIDC_CLIENT_ID and OIDC_CLIENT_SECRET go together; OIDC_REDIRECT_URL
 *   (default `<CONSOLE_URL>/console/auth/oidc/callback`), OIDC_SCOPES (default
 *   `openid email profile`), OIDC_ROLES_CLAIM (default `roles`),
 *   OIDC_ROLE_MAP (`grc-risk=risk,grc-compliance=compliance`) and
 *   OIDC_DISPLAY_NAME are optional. A half-configured provider stops the
 *   start with an error naming the variable.
 * - The authorization code flow with PKCE (S256), state and nonce. The three
 *   live in a cookie (`gov_oidc`: HttpOnly, SameSite=Lax so that it comes
 *   back on the provider's redirect, Path=/console/auth/oidc/, 10 minutes;
 *   policy default) sealed with an HMAC whose key is derived from the client
 *   secret, so every API process reads it and nothing is written to the
 *   database before anyone has signed in. openid-client checks the state,
 *   the `iss` of the answer, the ID token (signature, audience, nonce) and
 *   that the userinfo answer is about the same subject.
 * - Who signs in: the console user linked to the identity's (issuer,
 *   subject), never one found by e-mail address (an address is not an
 *   identity; linking by it would hand an existing user to whoever controls
 *   that address at the provider). An unknown identity is provisioned just in
 *   time: a new user (`user.created`, audited with the identity). An
 *   existing console user with the same address is refused
 *   (OIDC_EMAIL_TAKEN) until an admin links them (`linkIdentity`).
 * - Roles come from the provider at every sign-in: the OIDC_ROLES_CLAIM claim
 *   (ID token or userinfo; a dotted path such as `realm_access.roles` works)
 *   mapped by OIDC_ROLE_MAP, or, without a map, claim values that are role
 *   names. A change is written with its audit event (`user.updated`, actor
 *   `oidc`). No mapped role: refused (OIDC_NO_ROLE), nothing changed.
 *   A deactivated user is refused (USER_INACTIVE) and stays deactivated.
 * - Then the same session as a password sign-in (`openSession`): the same
 *   cookie, CSRF token, lifetimes and sign-out. A refusal sends the browser
 *   back to the sign-in page with `?signInError=<reason>`, which it explains.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  randomUUID,
  timingSafeEqual,
} from 'node:crypto';
import { and, eq, ne, sql } from 'drizzle-orm';
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import * as oidc from 'openid-client';
import { appendLocked, lockAuditChain, type DbOrTx } from '../db/audit';
import type { Database } from '../db/client';
import { userIdentities, users } from '../db/schema';
import { isRole, ROLES, type Role } from '../domain/roles';
import { invalidateTokenCache, type AppEnv, type AuthUser, type LifecycleInput } from './auth';
import { ApiError, errorBody } from './errors';
import { isHttps, openSession, SESSION_TTL_MS, setSessionCookie, type EndSessionAt } from './session';

export const OIDC_LOGIN_PATH = '/console/auth/oidc/login';
export const OIDC_CALLBACK_PATH = '/console/auth/oidc/callback';
/** What the sign-in page asks: which ways to sign in this deployment offers. */
export const SIGN_IN_OPTIONS_PATH = '/console/auth/options';
const STATE_COOKIE = 'gov_oidc';
const STATE_COOKIE_PATH = '/console/auth/oidc/';
/** The ID token of a session opened through the provider, for the sign-out that ends the provider's session too. */
const ID_TOKEN_COOKIE = 'gov_oidc_session';
/** Sent only with the sign-out (DELETE /console/session). */
const ID_TOKEN_COOKIE_PATH = '/console/session';
/** The time between leaving for the provider and coming back (policy default). */
export const OIDC_STATE_TTL_MS = 10 * 60 * 1000;
/** Who changed a user whose roles or name the provider changed. */
export const OIDC_ACTOR = 'oidc';
const CONSOLE_HOME = '/console/';

export interface OidcConfig {
  issuer: URL;
  clientId: string;
  clientSecret: string;
  /** Where the provider sends the browser back: this API's OIDC_CALLBACK_PATH as the browser reaches it. */
  redirectUrl: URL;
  scopes: string[];
  /** The claim holding the roles or groups; a dotted path reaches into an object. */
  rolesClaim: string;
  /** Claim value → console roles; null: a claim value that is a role's name is that role. */
  roleMap: Map<string, Role[]> | null;
  /** Shown on the sign-in page's button: "Sign in with <displayName>". */
  displayName: string;
}

const REQUIRED = ['OIDC_ISSUER', 'OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET'] as const;
const OPTIONAL = [
  'OIDC_REDIRECT_URL',
  'OIDC_SCOPES',
  'OIDC_ROLES_CLAIM',
  'OIDC_ROLE_MAP',
  'OIDC_DISPLAY_NAME',
] as const;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

const listed = (names: readonly string[]) => `${names.join(', ')} ${names.length > 1 ? 'are' : 'is'}`;

/** An http(s) URL; plain http only on loopback (a provider or console on the developer's machine, the tests). */
function urlFrom(name: string, raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`${name} must be an absolute URL, got "${raw}"`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    throw new Error(`${name} must be an https:// URL (plain http only for localhost), got "${raw}"`);
  }
  if (url.search || url.hash) throw new Error(`${name} must have no query or fragment, got "${raw}"`);
  return url;
}

function roleMapFrom(raw: string): Map<string, Role[]> {
  const map = new Map<string, Role[]>();
  for (const entry of raw
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    // A group's name may hold "=", a role's never does.
    const at = entry.lastIndexOf('=');
    const value = at > 0 ? entry.slice(0, at).trim() : '';
    const role = at > 0 ? entry.slice(at + 1).trim() : '';
    if (!value || !isRole(role)) {
      throw new Error(
        `OIDC_ROLE_MAP entry "${entry}" must be <claim value>=<role>, the role one of ${ROLES.join(', ')}`,
      );
    }
    map.set(value, [...new Set([...(map.get(value) ?? []), role])]);
  }
  if (map.size === 0)
    throw new Error('OIDC_ROLE_MAP is set but maps nothing: unset it or give <claim value>=<role>, …');
  return map;
}

/**
 * The identity provider's settings from the environment, checked: undefined
 * when none is configured; an Error naming the variable when one is half
 * configured or wrong, so the API does not start with a sign-in that cannot work.
 */
export function oidcConfigFrom(env: NodeJS.ProcessEnv = process.env): OidcConfig | undefined {
  const value = (name: string) => env[name]?.trim() || undefined;
  if (REQUIRED.every((name) => !value(name))) {
    const stray = OPTIONAL.filter((name) => value(name));
    if (stray.length) {
      throw new Error(
        `${listed(stray)} set but OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are not: set all three to sign in with an identity provider, or unset ${stray.join(', ')}`,
      );
    }
    return undefined;
  }
  const missing = REQUIRED.filter((name) => !value(name));
  if (missing.length) {
    throw new Error(
      `sign-in with an identity provider is half configured: ${listed(missing)} not set (OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET go together)`,
    );
  }
  const issuer = urlFrom('OIDC_ISSUER', value('OIDC_ISSUER')!);
  const redirectUrl = value('OIDC_REDIRECT_URL')
    ? urlFrom('OIDC_REDIRECT_URL', value('OIDC_REDIRECT_URL')!)
    : urlFrom(
        'CONSOLE_URL',
        `${(value('CONSOLE_URL') ?? `http://localhost:${value('PORT') ?? 3000}`).replace(/\/$/, '')}${OIDC_CALLBACK_PATH}`,
      );
  if (!redirectUrl.pathname.endsWith(OIDC_CALLBACK_PATH)) {
    throw new Error(
      `OIDC_REDIRECT_URL must end in ${OIDC_CALLBACK_PATH}, the route that answers the provider, got "${redirectUrl.href}"`,
    );
  }
  const scopes = (value('OIDC_SCOPES') ?? 'openid email profile').split(/[\s,]+/).filter(Boolean);
  if (!scopes.includes('openid')) {
    throw new Error(`OIDC_SCOPES must include "openid", got "${value('OIDC_SCOPES')}"`);
  }
  const rolesClaim = value('OIDC_ROLES_CLAIM') ?? 'roles';
  if (/\s/.test(rolesClaim)) throw new Error(`OIDC_ROLES_CLAIM must be one claim name, got "${rolesClaim}"`);
  const displayName = value('OIDC_DISPLAY_NAME') ?? issuer.hostname;
  if (displayName.length > 60) throw new Error('OIDC_DISPLAY_NAME must be at most 60 characters');
  return {
    issuer,
    clientId: value('OIDC_CLIENT_ID')!,
    clientSecret: value('OIDC_CLIENT_SECRET')!,
    redirectUrl,
    scopes,
    rolesClaim,
    roleMap: value('OIDC_ROLE_MAP') ? roleMapFrom(value('OIDC_ROLE_MAP')!) : null,
    displayName,
  };
}

/** The claim at `name`: a claim of that very name first (`https://example.com/roles`), else a dotted path. */
function claimAt(claims: Record<string, unknown>, name: string): unknown {
  if (name in claims) return claims[name];
  let current: unknown = claims;
  for (const part of name.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/** The console roles the identity's claims give, in ROLES order; [] when none maps. */
export function rolesFromClaims(
  config: Pick<OidcConfig, 'rolesClaim' | 'roleMap'>,
  claims: Record<string, unknown>,
): Role[] {
  const raw = claimAt(claims, config.rolesClaim);
  const values =
    typeof raw === 'string'
      ? raw.split(/[\s,]+/)
      : Array.isArray(raw)
        ? raw.filter((v): v is string => typeof v === 'string')
        : [];
  const roles = new Set<Role>();
  for (const v of values) {
    if (config.roleMap) for (const role of config.roleMap.get(v) ?? []) roles.add(role);
    else if (isRole(v)) roles.add(v);
  }
  return ROLES.filter((role) => roles.has(role));
}

// ---------------------------------------------------------------- who signs in

function refusal(code: 'FORBIDDEN' | 'CONFLICT' | 'UNPROCESSABLE', reason: string, message: string): ApiError {
  return new ApiError(code, message, undefined, reason);
}

const USER_ID = /^[a-z0-9][a-z0-9._-]{1,63}$/;

/**
 * A new user's id: the provider's user name (or the e-mail address's local
 * part) when it is a valid id nobody has, else that with a suffix from the
 * identity, so the same identity always asks for the same id.
 */
async function newUserId(tx: DbOrTx, claims: Record<string, unknown>, identity: string): Promise<string> {
  const suffix = createHash('sha256').update(identity).digest('hex').slice(0, 8);
  const source =
    (typeof claims.preferred_username === 'string' && claims.preferred_username) ||
    (typeof claims.email === 'string' && claims.email.split('@')[0]) ||
    'user';
  const base =
    source
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[^a-z0-9]+/, '')
      .slice(0, 50) || 'user';
  for (const id of [base, `${base}-${suffix}`]) {
    if (!USER_ID.test(id)) continue;
    const [taken] = await tx.select({ id: users.id }).from(users).where(eq(users.id, id));
    if (!taken) return id;
  }
  return `oidc-${createHash('sha256').update(identity).digest('hex').slice(0, 16)}`;
}

async function emailTaken(tx: DbOrTx, email: string, exceptUserId?: string): Promise<boolean> {
  const [taken] = await tx
    .select({ id: users.id })
    .from(users)
    .where(
      and(
        sql`lower(${users.email}) = lower(${email})`,
        exceptUserId === undefined ? undefined : ne(users.id, exceptUserId),
      ),
    )
    .limit(1);
  return taken !== undefined;
}

/**
 * The console user of a verified identity (the ID token's and userinfo's
 * claims), provisioned or refreshed, each change audited in the same
 * transaction. Refusals (ApiError with a reason) change nothing.
 */
export async function userOfIdentity(
  db: Database,
  config: Pick<OidcConfig, 'rolesClaim' | 'roleMap' | 'displayName'>,
  claims: Record<string, unknown>,
): Promise<AuthUser> {
  const issuer = String(claims.iss);
  const subject = String(claims.sub);
  const roles = rolesFromClaims(config, claims);
  const email = typeof claims.email === 'string' && claims.email.trim() ? claims.email.trim().slice(0, 320) : undefined;
  const name = (
    (typeof claims.name === 'string' && claims.name.trim()) ||
    (typeof claims.preferred_username === 'string' && claims.preferred_username.trim()) ||
    email ||
    subject
  ).slice(0, 200);
  const noRole = () =>
    refusal(
      'FORBIDDEN',
      'OIDC_NO_ROLE',
      `your account at ${config.displayName} gives no role in this console (claim "${config.rolesClaim}"); ask your administrator to add you to a group that does`,
    );

  const user = await db.transaction(async (tx) => {
    await lockAuditChain(tx);
    const [known] = await tx
      .select({ user: users })
      .from(userIdentities)
      .innerJoin(users, eq(users.id, userIdentities.userId))
      .where(and(eq(userIdentities.issuer, issuer), eq(userIdentities.subject, subject)))
      .for('update');
    const now = new Date();

    if (known) {
      const before = known.user;
      if (!before.active) {
        throw refusal(
          'FORBIDDEN',
          'USER_INACTIVE',
          `the console user ${before.id} is deactivated; an admin reactivates it`,
        );
      }
      if (!roles.length) throw noRole();
      // A new address at the provider follows, unless another console user has it.
      const newEmail = email && email !== before.email && !(await emailTaken(tx, email, before.id)) ? email : undefined;
      const after = { name, roles, email: newEmail ?? before.email };
      const changes: Record<string, { from: unknown; to: unknown }> = {};
      for (const key of ['name', 'email', 'roles'] as const) {
        if (JSON.stringify(before[key]) !== JSON.stringify(after[key]))
          changes[key] = { from: before[key], to: after[key] };
      }
      if (Object.keys(changes).length) {
        await tx.update(users).set(after).where(eq(users.id, before.id));
        await appendLocked(tx, {
          idempotencyKey: `user:${before.id}:updated:${randomUUID()}`,
          actorId: OIDC_ACTOR,
          action: 'user.updated',
          reason: `signed in through ${config.displayName}: roles from its "${config.rolesClaim}" claim`,
          payload: { userId: before.id, changes, identity: { issuer, subject } },
        });
      }
      await tx
        .update(userIdentities)
        .set({ lastSignInAt: now })
        .where(and(eq(userIdentities.issuer, issuer), eq(userIdentities.subject, subject)));
      return { id: before.id, name: after.name, roles: after.roles };
    }

    if (!roles.length) throw noRole();
    if (!email || claims.email_verified === false) {
      throw refusal(
        'UNPROCESSABLE',
        'OIDC_CLAIM_MISSING',
        `${config.displayName} gave no verified e-mail address (claim "email"), which a new console user needs; ask for the "email" scope`,
      );
    }
    if (await emailTaken(tx, email)) {
      throw refusal(
        'CONFLICT',
        'OIDC_EMAIL_TAKEN',
        `a console user with the e-mail address ${email} already exists and is not linked to your account at ${config.displayName}; an admin links them`,
      );
    }
    const id = await newUserId(tx, claims, `${issuer}\n${subject}`);
    await tx.insert(users).values({ id, name, email, roles });
    await tx.insert(userIdentities).values({ issuer, subject, userId: id, createdAt: now, lastSignInAt: now });
    await appendLocked(tx, {
      idempotencyKey: `user:${id}:created`,
      actorId: OIDC_ACTOR,
      action: 'user.created',
      reason: `first sign-in through ${config.displayName}: roles from its "${config.rolesClaim}" claim`,
      payload: { userId: id, roles, managerId: null, identity: { issuer, subject } },
    });
    return { id, name, roles };
  });
  // Roles may have changed: this user's API tokens answer with the new ones from the next request.
  invalidateTokenCache();
  return user;
}

/**
 * Links an existing console user to an identity at a provider, audited as
 * `user.identity_linked`: how a user created before the provider (with a
 * password, or by an admin) signs in through it. 404 for an unknown user;
 * 409 when the identity, or this user at this issuer, is linked already.
 */
export async function linkIdentity(
  db: Database,
  link: { userId: string; issuer: string; subject: string },
  by: LifecycleInput,
): Promise<void> {
  await db.transaction(async (tx) => {
    await lockAuditChain(tx);
    const [user] = await tx.select({ id: users.id }).from(users).where(eq(users.id, link.userId));
    if (!user) throw new ApiError('NOT_FOUND', `no user ${link.userId}`);
    const inserted = await tx
      .insert(userIdentities)
      .values({ issuer: link.issuer, subject: link.subject, userId: link.userId })
      .onConflictDoNothing()
      .returning({ userId: userIdentities.userId });
    if (!inserted.length) {
      throw new ApiError(
        'CONFLICT',
        `the identity ${link.subject} at ${link.issuer}, or user ${link.userId} at that issuer, is linked already`,
      );
    }
    await appendLocked(tx, {
      idempotencyKey: `user:${link.userId}:identity_linked:${link.issuer}:${link.subject}`,
      actorId: by.actorId,
      action: 'user.identity_linked',
      reason: by.reason ?? null,
      payload: { userId: link.userId, identity: { issuer: link.issuer, subject: link.subject } },
    });
  });
}

// ---------------------------------------------------------------- the flow

interface PendingSignIn {
  state: string;
  nonce: string;
  codeVerifier: string;
  /** ms since the epoch. */
  expiresAt: number;
}

function sealed(key: Buffer, pending: PendingSignIn): string {
  const body = Buffer.from(JSON.stringify(pending)).toString('base64url');
  return `${body}.${createHmac('sha256', key).update(body).digest('base64url')}`;
}

function unsealed(key: Buffer, value: string | undefined, now: number): PendingSignIn | undefined {
  const [body, mac] = value?.split('.') ?? [];
  if (!body || !mac) return undefined;
  const expected = createHmac('sha256', key).update(body).digest();
  const given = Buffer.from(mac, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  const pending = JSON.parse(Buffer.from(body, 'base64url').toString()) as PendingSignIn;
  return pending.expiresAt > now ? pending : undefined;
}

/** Where a refused sign-in lands: the sign-in page, which explains the reason. */
function backToSignIn(c: Context, reason: string) {
  c.header('cache-control', 'no-store');
  return c.redirect(`${CONSOLE_HOME}?signInError=${encodeURIComponent(reason)}`, 302);
}

/** What went wrong between the provider's answer and verified claims, as the sign-in page's reason. */
function reasonOf(err: unknown): string {
  if (err instanceof oidc.AuthorizationResponseError) return 'OIDC_DENIED';
  const text = err instanceof Error ? `${err.message} ${err.cause instanceof Error ? err.cause.message : ''}` : '';
  return /"state"/.test(text) ? 'OIDC_STATE_INVALID' : 'OIDC_FAILED';
}

/**
 * The sign-in options (always) and, when `config` is given, the two legs of
 * the code flow. Mounted by api/console.ts before the console's pages.
 */
/** The provider's configuration, discovered on first use and kept; one that could not be reached is asked again next time. */
const discoveries = new WeakMap<OidcConfig, () => Promise<oidc.Configuration>>();
function discoveredOnce(config: OidcConfig): () => Promise<oidc.Configuration> {
  const known = discoveries.get(config);
  if (known) return known;
  let discovered: Promise<oidc.Configuration> | undefined;
  const discover = () =>
    (discovered ??= oidc
      .discovery(
        config.issuer,
        config.clientId,
        { client_secret: config.clientSecret },
        // RFC 6749 §2.3.1: every provider supports HTTP Basic for a client secret.
        oidc.ClientSecretBasic(config.clientSecret),
        config.issuer.protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : undefined,
      )
      .catch((err: unknown) => {
        discovered = undefined;
        throw err;
      }));
  discoveries.set(config, discover);
  return discover;
}

/** How long an access token the provider vouched for is trusted without asking again: 60 s (policy default). */
export const PROVIDER_TOKEN_CACHE_MS = 60_000;
const PROVIDER_TOKEN_CACHE_ENTRIES = 1_000;

/**
 * Access tokens issued by the company's identity provider, as the Temporal UI
 * passes its signed-in user's to the codec server (TEMPORAL_CODEC_PASS_ACCESS_TOKEN).
 * A token is valid when the provider's userinfo endpoint answers for it, and
 * it stands for the active console user linked to that identity (issuer,
 * subject) — never one found by e-mail, never one created here. Answers are
 * kept PROVIDER_TOKEN_CACHE_MS; refusals are not. Undefined without a provider.
 */
export function providerAccessTokens(
  db: Database,
  config: OidcConfig | undefined,
): ((accessToken: string) => Promise<AuthUser | undefined>) | undefined {
  if (!config) return undefined;
  const provider = discoveredOnce(config);
  const cache = new Map<string, { user: AuthUser; until: number }>();
  return async (accessToken) => {
    const key = createHash('sha256').update(accessToken).digest('hex');
    const hit = cache.get(key);
    if (hit && hit.until > Date.now()) return hit.user;
    cache.delete(key);
    let issuer: string;
    let subject: string;
    try {
      const configuration = await provider();
      issuer = configuration.serverMetadata().issuer;
      subject = (await oidc.fetchUserInfo(configuration, accessToken, oidc.skipSubjectCheck)).sub;
    } catch {
      return undefined;
    }
    const [row] = await db
      .select({ id: users.id, name: users.name, roles: users.roles, active: users.active })
      .from(userIdentities)
      .innerJoin(users, eq(users.id, userIdentities.userId))
      .where(and(eq(userIdentities.issuer, issuer), eq(userIdentities.subject, subject)));
    if (!row?.active) return undefined;
    const user: AuthUser = { id: row.id, name: row.name, roles: row.roles as Role[] };
    if (cache.size >= PROVIDER_TOKEN_CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
    cache.set(key, { user, until: Date.now() + PROVIDER_TOKEN_CACHE_MS });
    return user;
  };
}

// ---------------------------------------------------------------- sign-out at the provider

interface SessionIdToken {
  /** The ID token the provider issued at this sign-in: the end-session request's id_token_hint. */
  idToken: string;
  /** SHA-256 of the console session it belongs to: a later session (a password one) never uses it. */
  session: string;
}

const sessionHash = (token: string) => createHash('sha256').update(token).digest('base64url');

/** Encrypted and authenticated (AES-256-GCM): the ID token carries the user's claims. */
function sealIdToken(key: Buffer, value: SessionIdToken): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return [iv, body, cipher.getAuthTag()].map((b) => b.toString('base64url')).join('.');
}

function openIdToken(key: Buffer, value: string | undefined): SessionIdToken | undefined {
  const [iv, body, tag] = value?.split('.').map((p) => Buffer.from(p, 'base64url')) ?? [];
  if (!iv || !body || !tag || iv.length !== 12 || tag.length !== 16) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAuthTag(tag);
    return JSON.parse(Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8')) as SessionIdToken;
  } catch {
    return undefined;
  }
}

const idTokenKey = (config: OidcConfig) =>
  Buffer.from(hkdfSync('sha256', config.clientSecret, 'governance-console', 'oidc session id token cookie', 32));

/** Where the provider sends the browser once its session has ended: the console's sign-in page. */
export function postLogoutRedirectUrl(config: Pick<OidcConfig, 'redirectUrl'>): URL {
  return new URL(CONSOLE_HOME, config.redirectUrl);
}

/**
 * RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) for
 * sessionRoutes' sign-out: for a session opened through the provider, when
 * the provider advertises an end_session_endpoint, that endpoint with the
 * session's ID token as id_token_hint and the console's sign-in page as
 * post_logout_redirect_uri (registered with the provider). The ID-token
 * cookie goes whatever the answer. Undefined without a provider.
 */
export function oidcEndSession(
  config: OidcConfig | undefined,
  log: (line: string) => void = (line) => console.error(line),
): EndSessionAt | undefined {
  if (!config) return undefined;
  const key = idTokenKey(config);
  const provider = discoveredOnce(config);
  return async (c, sessionToken) => {
    const stored = openIdToken(key, getCookie(c, ID_TOKEN_COOKIE));
    deleteCookie(c, ID_TOKEN_COOKIE, {
      path: ID_TOKEN_COOKIE_PATH,
      secure: isHttps(c),
      httpOnly: true,
      sameSite: 'Strict',
    });
    if (!stored || stored.session !== sessionHash(sessionToken)) return undefined;
    let configuration: oidc.Configuration;
    try {
      configuration = await provider();
    } catch (err) {
      // The console session ends anyway; the provider's stays, as it would without RP-initiated logout.
      log(`[${c.get('requestId')}] OIDC discovery at ${config.issuer.href} failed at sign-out: ${String(err)}`);
      return undefined;
    }
    if (!configuration.serverMetadata().end_session_endpoint) return undefined;
    return oidc.buildEndSessionUrl(configuration, {
      id_token_hint: stored.idToken,
      post_logout_redirect_uri: postLogoutRedirectUrl(config).href,
    }).href;
  };
}

export function oidcRoutes(
  db: Database,
  config: OidcConfig | undefined,
  log: (line: string) => void = (line) => console.error(line),
) {
  const app = new Hono<AppEnv>();
  app.get(SIGN_IN_OPTIONS_PATH, (c) => {
    c.header('cache-control', 'no-store');
    return c.json({
      password: true,
      oidc: config ? { name: config.displayName, loginUrl: OIDC_LOGIN_PATH } : null,
    });
  });
  if (!config) {
    const absent = (c: Context) =>
      c.json(
        errorBody(
          c,
          new ApiError('NOT_FOUND', 'sign-in with an identity provider is not configured here (OIDC_ISSUER)'),
        ),
        404,
      );
    app.get(OIDC_LOGIN_PATH, absent);
    app.get(OIDC_CALLBACK_PATH, absent);
    return app;
  }

  const stateKey = Buffer.from(
    hkdfSync('sha256', config.clientSecret, 'governance-console', 'oidc sign-in state cookie', 32),
  );
  const provider = discoveredOnce(config);
  const idTokenSealKey = idTokenKey(config);

  app.get(OIDC_LOGIN_PATH, async (c) => {
    let configuration: oidc.Configuration;
    try {
      configuration = await provider();
    } catch (err) {
      log(`[${c.get('requestId')}] OIDC discovery at ${config.issuer.href} failed: ${String(err)}`);
      return backToSignIn(c, 'OIDC_UNAVAILABLE');
    }
    const pending: PendingSignIn = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      codeVerifier: oidc.randomPKCECodeVerifier(),
      expiresAt: Date.now() + OIDC_STATE_TTL_MS,
    };
    const authorizationUrl = oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: config.redirectUrl.href,
      scope: config.scopes.join(' '),
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
    });
    setCookie(c, STATE_COOKIE, sealed(stateKey, pending), {
      httpOnly: true,
      // Strict would stay behind on the provider's redirect back, a cross-site navigation.
      sameSite: 'Lax',
      secure: isHttps(c),
      path: STATE_COOKIE_PATH,
      maxAge: Math.floor(OIDC_STATE_TTL_MS / 1000),
    });
    c.header('cache-control', 'no-store');
    return c.redirect(authorizationUrl.href, 302);
  });

  app.get(OIDC_CALLBACK_PATH, async (c) => {
    const pending = unsealed(stateKey, getCookie(c, STATE_COOKIE), Date.now());
    // Used once, whatever happens next.
    deleteCookie(c, STATE_COOKIE, { path: STATE_COOKIE_PATH, secure: isHttps(c), httpOnly: true, sameSite: 'Lax' });
    if (!pending) return backToSignIn(c, 'OIDC_STATE_INVALID');

    // The answer's parameters on the registered redirect URL: the one the code was issued for, whatever proxy came between.
    const answer = new URL(config.redirectUrl);
    answer.search = new URL(c.req.url).search;
    let claims: Record<string, unknown>;
    let idToken: string | undefined;
    try {
      const configuration = await provider();
      const tokens = await oidc.authorizationCodeGrant(configuration, answer, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      const idTokenClaims = tokens.claims()!;
      idToken = tokens.id_token;
      // Scope claims (e-mail, groups) often come only from userinfo; it must speak of the same subject.
      const userinfo = configuration.serverMetadata().userinfo_endpoint
        ? await oidc.fetchUserInfo(configuration, tokens.access_token, idTokenClaims.sub)
        : {};
      claims = { ...userinfo, ...idTokenClaims };
    } catch (err) {
      const reason = reasonOf(err);
      if (reason === 'OIDC_FAILED') {
        log(`[${c.get('requestId')}] OIDC sign-in through ${config.issuer.href} failed: ${String(err)}`);
      }
      return backToSignIn(c, reason);
    }

    let user: AuthUser;
    try {
      user = await userOfIdentity(db, config, claims);
    } catch (err) {
      if (err instanceof ApiError && err.reason) return backToSignIn(c, err.reason);
      throw err;
    }
    const signed = await openSession(db, user);
    setSessionCookie(c, signed);
    if (idToken) {
      setCookie(c, ID_TOKEN_COOKIE, sealIdToken(idTokenSealKey, { idToken, session: sessionHash(signed.token) }), {
        httpOnly: true,
        sameSite: 'Strict',
        secure: isHttps(c),
        path: ID_TOKEN_COOKIE_PATH,
        maxAge: Math.floor(SESSION_TTL_MS / 1000),
      });
    }
    c.header('cache-control', 'no-store');
    return c.redirect(CONSOLE_HOME, 302);
  });
  return app;
}
