/**
 * Sign-in to the console with the company's identity provider (issue 13 §3,
 * api/oidc.ts) against a real OpenID Connect server started here
 * (oidc-provider, in memory, its development login and consent pages),
 * driven by fetch hop by hop as a browser would: the app's login → the
 * provider's login and consent forms → the app's callback → the session.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app';
import {
  linkIdentity,
  OIDC_CALLBACK_PATH,
  OIDC_LOGIN_PATH,
  oidcConfigFrom,
  rolesFromClaims,
  SIGN_IN_OPTIONS_PATH,
} from '../../api/oidc';
import { CSRF_HEADER, SESSION_COOKIE, setPassword } from '../../api/session';
import { ensureConsoleBuild } from '../../scripts/web-build';
import { launchBrowser, screenshot } from '../support/browser';
import { useHarness } from '../support/harness';

const h = useHarness('oidc');

/**
 * The app under test: in-process (app.request) for the fetch-driven flows,
 * and over HTTP for the browser. `localhost` while the provider is on
 * 127.0.0.1: two sites, so the provider's redirect back is a cross-site
 * navigation, as it is in production.
 */
let APP: string;
const CLIENT_ID = 'governance-console';
const CLIENT_SECRET = 'oidc-test-client-secret-0123456789';
const ROLE_MAP = 'grc-risk=risk,grc-compliance=compliance,grc-lead=manager,grc-lead=risk';
const UI_CLIENT_ID = 'temporal-ui';
const UI_CLIENT_SECRET = 'oidc-test-temporal-ui-secret-0123456789';
const UI_CALLBACK = 'http://temporal-ui.test/auth/sso/callback';

interface AccountClaims {
  email?: string;
  email_verified?: boolean;
  name?: string;
  preferred_username?: string;
  groups?: string[];
}
/** The provider's accounts, by subject; a test changes one to change what the next sign-in brings. */
const accounts = new Map<string, AccountClaims>();

interface OidcProvider {
  callback(): (req: unknown, res: unknown) => void;
}

let server: Server;
let appServer: ReturnType<typeof serve> | undefined;
let issuer: string;
let app: ReturnType<typeof createApp>;

function withEnv<T>(vars: Record<string, string>, build: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return build();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

beforeAll(async () => {
  // Every interface (dual-stack), so that the browser reaches it at localhost.
  appServer = serve({ fetch: (request, env) => app.fetch(request, env), port: 0 });
  await once(appServer, 'listening');
  APP = `http://localhost:${(appServer.address() as AddressInfo).port}`;
  server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // No type declarations ship with oidc-provider: the specifier is kept from the compiler.
  const { default: Provider } = (await import('oidc-provider' as string)) as {
    default: new (issuer: string, configuration: object) => OidcProvider;
  };
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: [`${APP}${OIDC_CALLBACK_PATH}`],
        // RP-initiated logout comes back to the console's sign-in page.
        post_logout_redirect_uris: [`${APP}/console/`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
      // The Temporal UI, signed in through the same provider: it passes its user's access token to the codec server.
      {
        client_id: UI_CLIENT_ID,
        client_secret: UI_CLIENT_SECRET,
        redirect_uris: [UI_CALLBACK],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
      groups: ['groups'],
    },
    findAccount: async (_ctx: unknown, sub: string) => {
      if (!accounts.has(sub)) return undefined;
      return { accountId: sub, claims: async () => ({ sub, ...accounts.get(sub) }) };
    },
    cookies: { keys: ['oidc-test-cookie-key'] },
    // Explicit lifetimes (seconds), which also keeps the provider from warning about its defaults.
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
    features: { devInteractions: { enabled: true } },
  });
  server.on('request', provider.callback());
  app = withEnv(
    {
      OIDC_ISSUER: issuer,
      OIDC_CLIENT_ID: CLIENT_ID,
      OIDC_CLIENT_SECRET: CLIENT_SECRET,
      OIDC_REDIRECT_URL: `${APP}${OIDC_CALLBACK_PATH}`,
      OIDC_SCOPES: 'openid email profile groups',
      OIDC_ROLES_CLAIM: 'groups',
      OIDC_ROLE_MAP: ROLE_MAP,
      OIDC_DISPLAY_NAME: 'Company SSO',
    },
    () => createApp({ db: h.database.db, temporal: h.temporal, settings: h.settings }, { log: () => undefined }),
  );
});

afterAll(async () => {
  server?.closeAllConnections();
  server?.close();
  (appServer as Server | undefined)?.closeAllConnections();
  appServer?.close();
});

/** A browser's cookies for one site: enough of RFC 6265 for these two servers. */
class CookieJar {
  readonly cookies = new Map<string, { value: string; attributes: string }>();
  take(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const at = pair!.indexOf('=');
      const name = pair!.slice(0, at).trim();
      const value = pair!.slice(at + 1).trim();
      const gone = value === '' || /max-age=0\b/i.test(line) || /expires=thu, 01 jan 1970/i.test(line);
      if (gone) this.cookies.delete(name);
      else this.cookies.set(name, { value, attributes: attributes.join(';') });
    }
  }
  header(): string {
    return [...this.cookies].map(([name, { value }]) => `${name}=${value}`).join('; ');
  }
}

const decodeHtml = (s: string) =>
  s
    .replace(/&amp;/g, '&')
    .replace(/&#x2F;|&#47;/g, '/')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'");

interface Attempt {
  /** The app's answer to the callback. */
  callback: Response;
  location: string;
  app: CookieJar;
  /** The provider's authorization request, as the app built it. */
  authorizationUrl: URL;
  /** The login answer's Set-Cookie for the state cookie. */
  stateCookie: string;
  /** The browser's cookies at the provider: its session. */
  provider: CookieJar;
}

/**
 * One sign-in through the provider as `sub`, from the app's login to its
 * callback. `alterCallback` changes the provider's redirect back (a forged
 * state); `dropStateCookie` comes back without the app's state cookie.
 */
async function signInThroughProvider(
  sub: string,
  options: { alterCallback?: (url: URL) => void; dropStateCookie?: boolean } = {},
): Promise<Attempt> {
  const appJar = new CookieJar();
  const login = await app.request(`${APP}${OIDC_LOGIN_PATH}`);
  expect(login.status).toBe(302);
  const stateCookie = login.headers.getSetCookie().find((c) => c.startsWith('gov_oidc=')) ?? '';
  appJar.take(login);
  const authorizationUrl = new URL(login.headers.get('location')!);
  const provider = new CookieJar();
  const url = await walkProvider(authorizationUrl.href, sub, APP, provider);
  const back = new URL(url);
  options.alterCallback?.(back);
  if (options.dropStateCookie) appJar.cookies.delete('gov_oidc');
  const callback = await app.request(back.href, { headers: { cookie: appJar.header() } });
  appJar.take(callback);
  return {
    callback,
    location: callback.headers.get('location') ?? '',
    app: appJar,
    authorizationUrl,
    stateCookie,
    provider,
  };
}

/** Through the provider's login and consent forms as `sub`, from an authorization URL until it redirects to `until`. */
async function walkProvider(start: string, sub: string, until: string, provider = new CookieJar()): Promise<string> {
  let url = start;
  for (let hop = 0; !url.startsWith(until); hop++) {
    expect(hop, `too many hops at the provider, now at ${url}`).toBeLessThan(20);
    const res = await fetch(url, { redirect: 'manual', headers: { cookie: provider.header() } });
    provider.take(res);
    if (res.status >= 300 && res.status < 400) {
      url = new URL(res.headers.get('location')!, url).href;
      continue;
    }
    const html = await res.text();
    expect(res.status, html).toBe(200);
    // The development login form (any password) or the consent form.
    const action = decodeHtml(/<form[^>]*action="([^"]+)"/.exec(html)![1]!);
    const prompt = /name="prompt" value="([^"]+)"/.exec(html)![1]!;
    const form = new URLSearchParams({ prompt, ...(prompt === 'login' ? { login: sub, password: 'any' } : {}) });
    const submitted = await fetch(new URL(action, url), {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: provider.header(), 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    provider.take(submitted);
    expect(submitted.status, await submitted.clone().text()).toBeGreaterThanOrEqual(300);
    url = new URL(submitted.headers.get('location')!, url).href;
  }
  return url;
}

/**
 * What the provider asks a browser with these cookies at the start of a new
 * sign-in: 'none' when it sends it straight back to the app (its session
 * stands), else the prompt of its page ('login' once its session has ended).
 */
async function providerPrompt(provider: CookieJar): Promise<string> {
  const login = await app.request(`${APP}${OIDC_LOGIN_PATH}`);
  let url = login.headers.get('location')!;
  for (let hop = 0; hop < 20; hop++) {
    if (url.startsWith(APP)) return 'none';
    const res = await fetch(url, { redirect: 'manual', headers: { cookie: provider.header() } });
    provider.take(res);
    if (res.status >= 300 && res.status < 400) {
      url = new URL(res.headers.get('location')!, url).href;
      continue;
    }
    return /name="prompt" value="([^"]+)"/.exec(await res.text())?.[1] ?? `status ${res.status}`;
  }
  throw new Error(`too many hops at the provider, now at ${url}`);
}

/** An access token for `sub`, as the Temporal UI gets one: the code flow with PKCE as the UI's client. */
async function uiAccessToken(sub: string): Promise<string> {
  const verifier = randomBytes(32).toString('base64url');
  const authorize = new URL(`${issuer}/auth`);
  for (const [k, v] of Object.entries({
    client_id: UI_CLIENT_ID,
    redirect_uri: UI_CALLBACK,
    response_type: 'code',
    scope: 'openid email profile',
    state: randomBytes(8).toString('hex'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }))
    authorize.searchParams.set(k, v);
  const code = new URL(await walkProvider(authorize.href, sub, UI_CALLBACK)).searchParams.get('code');
  expect(code).toBeTruthy();
  const token = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${UI_CLIENT_ID}:${UI_CLIENT_SECRET}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: code!,
      redirect_uri: UI_CALLBACK,
      code_verifier: verifier,
    }),
  });
  const body = (await token.json()) as { access_token?: string };
  expect(token.status, JSON.stringify(body)).toBe(200);
  return body.access_token!;
}

async function call(
  path: string,
  init: { method?: string; jar?: CookieJar; headers?: Record<string, string>; json?: unknown } = {},
) {
  const res = await app.request(`${APP}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      ...(init.jar ? { cookie: init.jar.header() } : {}),
      ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}),
      ...init.headers,
    },
    body: init.json !== undefined ? JSON.stringify(init.json) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const PREFERENCES = { email: true, chat: null, language: 'en', timeZone: 'Asia/Shanghai', digest: false };

async function auditOf(userId: string) {
  return h.sql<{ action: string; actor_id: string; payload: any }>(
    `select action, actor_id, payload from audit_events where payload->>'userId' = $1 and action like 'user.%' order by seq`,
    [userId],
  );
}

describe('sign-in options', () => {
  it('names the provider for the sign-in page when one is configured', async () => {
    const res = await call(SIGN_IN_OPTIONS_PATH);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ password: true, oidc: { name: 'Company SSO', loginUrl: OIDC_LOGIN_PATH } });
  });

  it('offers the password form only where none is configured, and its routes are 404', async () => {
    const options = await h.api('GET', SIGN_IN_OPTIONS_PATH);
    expect(options.body).toEqual({ password: true, oidc: null });
    const login = await h.api('GET', OIDC_LOGIN_PATH);
    expect(login.status).toBe(404);
    expect(login.body.error.message).toMatch(/not configured.*OIDC_ISSUER/);
  });
});

describe('the authorization code flow', () => {
  it('provisions a new user with roles from the mapped claim, then the session works like a password one', async () => {
    accounts.set('alice-sub', {
      email: 'alice@corp.example',
      email_verified: true,
      name: 'Alice Liu',
      preferred_username: 'alice',
      groups: ['grc-risk', 'sales'],
    });
    const attempt = await signInThroughProvider('alice-sub');

    // PKCE, state and nonce went out; the state cookie holds them, HttpOnly, back only on the callback.
    const sent = attempt.authorizationUrl.searchParams;
    expect(sent.get('code_challenge_method')).toBe('S256');
    expect(sent.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(sent.get('state')).toBeTruthy();
    expect(sent.get('nonce')).toBeTruthy();
    expect(sent.get('redirect_uri')).toBe(`${APP}${OIDC_CALLBACK_PATH}`);
    expect(sent.get('scope')).toBe('openid email profile groups');
    expect(attempt.stateCookie).toMatch(/HttpOnly/i);
    expect(attempt.stateCookie).toMatch(/SameSite=Lax/i);
    expect(attempt.stateCookie).toMatch(/Path=\/console\/auth\/oidc\//);
    expect(attempt.stateCookie).not.toContain(sent.get('state')!);

    expect(attempt.callback.status).toBe(302);
    expect(attempt.location).toBe('/console/');
    const sessionCookie = attempt.callback.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`));
    expect(sessionCookie).toMatch(/HttpOnly/i);
    expect(sessionCookie).toMatch(/SameSite=Strict/i);
    expect(attempt.app.cookies.has('gov_oidc')).toBe(false);

    const session = await call('/console/session', { jar: attempt.app });
    expect(session.status).toBe(200);
    expect(session.body.user).toEqual({ id: 'alice', name: 'Alice Liu', roles: ['risk'] });

    // A write with the session: with its CSRF token it goes through, without it it is refused.
    const refused = await call('/api/me/notification-preferences', {
      method: 'PUT',
      jar: attempt.app,
      json: PREFERENCES,
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error.reason).toBe('CSRF_TOKEN_INVALID');
    const saved = await call('/api/me/notification-preferences', {
      method: 'PUT',
      jar: attempt.app,
      json: PREFERENCES,
      headers: { [CSRF_HEADER]: session.body.csrfToken },
    });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    expect(saved.body.timeZone).toBe('Asia/Shanghai');

    const [identity] = await h.sql(`select issuer, subject, user_id from user_identities where subject = 'alice-sub'`);
    expect(identity).toEqual({ issuer, subject: 'alice-sub', user_id: 'alice' });
    const [user] = await h.sql(`select email, roles, active from users where id = 'alice'`);
    expect(user).toEqual({ email: 'alice@corp.example', roles: ['risk'], active: true });
    const audit = await auditOf('alice');
    expect(audit).toEqual([
      {
        action: 'user.created',
        actor_id: 'oidc',
        payload: { userId: 'alice', roles: ['risk'], managerId: null, identity: { issuer, subject: 'alice-sub' } },
      },
    ]);
  });

  it('refreshes the roles at each sign-in from the claim, audited, and the same user signs in', async () => {
    accounts.set('alice-sub', { ...accounts.get('alice-sub'), groups: ['grc-compliance', 'grc-lead'] });
    const attempt = await signInThroughProvider('alice-sub');
    expect(attempt.location).toBe('/console/');
    const session = await call('/console/session', { jar: attempt.app });
    expect(session.body.user).toEqual({ id: 'alice', name: 'Alice Liu', roles: ['manager', 'risk', 'compliance'] });
    const audit = await auditOf('alice');
    expect(audit.at(-1)).toMatchObject({
      action: 'user.updated',
      actor_id: 'oidc',
      payload: { userId: 'alice', changes: { roles: { from: ['risk'], to: ['manager', 'risk', 'compliance'] } } },
    });
    expect(await h.sql(`select count(*)::int as n from user_identities where user_id = 'alice'`)).toEqual([{ n: 1 }]);

    // Nothing changed at the provider: nothing to audit.
    const before = audit.length;
    await signInThroughProvider('alice-sub');
    expect(await auditOf('alice')).toHaveLength(before);
  });

  it('refuses a callback whose state is not the one it sent, or that comes without its state cookie', async () => {
    const forged = await signInThroughProvider('alice-sub', {
      alterCallback: (url) => url.searchParams.set('state', 'forged-state'),
    });
    expect(forged.callback.status).toBe(302);
    expect(forged.location).toBe('/console/?signInError=OIDC_STATE_INVALID');
    expect(forged.app.cookies.has(SESSION_COOKIE)).toBe(false);

    const cookieless = await signInThroughProvider('alice-sub', { dropStateCookie: true });
    expect(cookieless.location).toBe('/console/?signInError=OIDC_STATE_INVALID');
    expect(cookieless.app.cookies.has(SESSION_COOKIE)).toBe(false);
  });

  it('refuses an identity whose claims map to no role, creating or changing nothing', async () => {
    accounts.set('bob-sub', { email: 'bob@corp.example', name: 'Bob', preferred_username: 'bob', groups: ['sales'] });
    const bob = await signInThroughProvider('bob-sub');
    expect(bob.location).toBe('/console/?signInError=OIDC_NO_ROLE');
    expect(bob.app.cookies.has(SESSION_COOKIE)).toBe(false);
    expect(await h.sql(`select id from users where email = 'bob@corp.example'`)).toEqual([]);

    // A known user who lost every mapped group keeps their record as it was, and is not let in.
    const saved = accounts.get('alice-sub')!;
    accounts.set('alice-sub', { ...saved, groups: [] });
    const alice = await signInThroughProvider('alice-sub');
    expect(alice.location).toBe('/console/?signInError=OIDC_NO_ROLE');
    expect(await h.sql(`select roles from users where id = 'alice'`)).toEqual([
      { roles: ['manager', 'risk', 'compliance'] },
    ]);
    accounts.set('alice-sub', saved);
  });

  it('refuses a new identity whose e-mail address an unlinked user has, until an admin links them', async () => {
    // appr1 (a harness user, risk) exists with this address and has no identity yet.
    accounts.set('carol-sub', { email: 'appr1@test.example', name: 'Carol', groups: ['grc-compliance'] });
    const refused = await signInThroughProvider('carol-sub');
    expect(refused.location).toBe('/console/?signInError=OIDC_EMAIL_TAKEN');
    expect(await h.sql(`select roles from users where id = 'appr1'`)).toEqual([{ roles: ['risk'] }]);

    await linkIdentity(h.database.db, { userId: 'appr1', issuer, subject: 'carol-sub' }, { actorId: 'admin' });
    const linked = await signInThroughProvider('carol-sub');
    expect(linked.location).toBe('/console/');
    const session = await call('/console/session', { jar: linked.app });
    expect(session.body.user).toEqual({ id: 'appr1', name: 'Carol', roles: ['compliance'] });
    expect((await auditOf('appr1')).map((e) => [e.action, e.actor_id])).toEqual([
      ['user.identity_linked', 'admin'],
      ['user.updated', 'oidc'],
    ]);
  });

  it('refuses a deactivated user, whose open session ends too', async () => {
    accounts.set('dave-sub', {
      email: 'dave@corp.example',
      name: 'Dave',
      preferred_username: 'dave',
      groups: ['grc-risk'],
    });
    const first = await signInThroughProvider('dave-sub');
    expect(first.location).toBe('/console/');
    expect((await call('/console/session', { jar: first.app })).status).toBe(200);

    const deactivated = await h.api('POST', '/api/users/dave/deactivate', { as: 'admin', json: { reason: 'left' } });
    expect(deactivated.status, JSON.stringify(deactivated.body)).toBe(200);
    expect((await call('/console/session', { jar: first.app })).status).toBe(401);

    const again = await signInThroughProvider('dave-sub');
    expect(again.location).toBe('/console/?signInError=USER_INACTIVE');
    expect(again.app.cookies.has(SESSION_COOKIE)).toBe(false);
    expect(await h.sql(`select active from users where id = 'dave'`)).toEqual([{ active: false }]);
  });

  it('signing out of a provider session ends it at the provider too: end_session_endpoint with id_token_hint and the way back', async () => {
    accounts.set('gina-sub', {
      email: 'gina@corp.example',
      name: 'Gina Wu',
      preferred_username: 'gina',
      groups: ['grc-risk'],
    });
    const attempt = await signInThroughProvider('gina-sub');
    expect(attempt.location).toBe('/console/');
    // The ID token for the sign-out: HttpOnly, sent only with the sign-out, and not readable in the cookie.
    const idCookie = attempt.callback.headers.getSetCookie().find((c) => c.startsWith('gov_oidc_session='))!;
    expect(idCookie).toMatch(/HttpOnly/i);
    expect(idCookie).toMatch(/SameSite=Strict/i);
    expect(idCookie).toMatch(/Path=\/console\/session/);
    const session = await call('/console/session', { jar: attempt.app });
    expect(session.status).toBe(200);
    // The provider remembers the browser: a second sign-in asks for no login.
    expect(await providerPrompt(attempt.provider)).toBe('none');

    // Without the CSRF token the sign-out is refused and the session stays.
    const forged = await app.request(`${APP}/console/session`, {
      method: 'DELETE',
      headers: { cookie: attempt.app.header() },
    });
    expect(forged.status).toBe(403);

    const out = await app.request(`${APP}/console/session`, {
      method: 'DELETE',
      headers: { cookie: attempt.app.header(), [CSRF_HEADER]: session.body.csrfToken },
    });
    expect(out.status).toBe(200);
    attempt.app.take(out);
    const { endSessionUrl } = (await out.json()) as { endSessionUrl: string };
    const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as {
      end_session_endpoint: string;
    };
    const end = new URL(endSessionUrl);
    expect(`${end.origin}${end.pathname}`).toBe(discovery.end_session_endpoint);
    expect(end.searchParams.get('client_id')).toBe(CLIENT_ID);
    expect(end.searchParams.get('post_logout_redirect_uri')).toBe(`${APP}/console/`);
    const hint = end.searchParams.get('id_token_hint')!;
    const claims = JSON.parse(Buffer.from(hint.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    // The cookie held that token sealed: neither the token nor its claims' encoding appears in it (a bare
    // /eyJ/ test failed now and then: three given letters turn up in ~1,200 random base64url ones about once in 200).
    expect(idCookie).not.toContain(hint.split('.')[1]!);
    expect(idCookie).not.toContain(hint.split('.')[2]!);
    expect(claims).toMatchObject({ iss: issuer, sub: 'gina-sub', aud: CLIENT_ID });
    // The console's session has ended, and both cookies are gone.
    expect((await call('/console/session', { jar: attempt.app })).status).toBe(401);
    expect(attempt.app.cookies.has(SESSION_COOKIE)).toBe(false);
    expect(attempt.app.cookies.has('gov_oidc_session')).toBe(false);

    // The provider takes the hint and the way back: its confirmation, then back to the console's sign-in page.
    const page = await fetch(endSessionUrl, { redirect: 'manual', headers: { cookie: attempt.provider.header() } });
    attempt.provider.take(page);
    const html = await page.text();
    expect(page.status, html).toBe(200);
    const action = decodeHtml(/<form id="op.logoutForm"[^>]*action="([^"]+)"/.exec(html)![1]!);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)![1]!;
    const confirmed = await fetch(new URL(action, endSessionUrl), {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: attempt.provider.header(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ xsrf, logout: 'yes' }).toString(),
    });
    attempt.provider.take(confirmed);
    expect(confirmed.status).toBeGreaterThanOrEqual(300);
    expect(confirmed.status).toBeLessThan(400);
    let back = new URL(confirmed.headers.get('location')!, endSessionUrl);
    // oidc-provider ends its session in a second hop of its own before sending the browser back.
    for (let hop = 0; back.origin === new URL(issuer).origin; hop++) {
      expect(hop).toBeLessThan(5);
      const next = await fetch(back, { redirect: 'manual', headers: { cookie: attempt.provider.header() } });
      attempt.provider.take(next);
      back = new URL(next.headers.get('location')!, back);
    }
    expect(back.href).toBe(`${APP}/console/`);
    // The provider's session has ended: the next sign-in asks for the login again.
    expect(await providerPrompt(attempt.provider)).toBe('login');
  });

  it('signing out of a password session answers 204, even carrying an earlier provider session’s ID-token cookie', async () => {
    accounts.set('hana-sub', { email: 'hana@corp.example', name: 'Hana', groups: ['grc-risk'] });
    const oidcSession = await signInThroughProvider('hana-sub');
    const idCookie = oidcSession.app.cookies.get('gov_oidc_session')!;
    expect(idCookie).toBeDefined();
    await setPassword(h.database.db, 'appr2', 'a long passphrase for compliance', { actorId: 'admin' });
    const signedIn = await app.request(`${APP}/console/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: 'appr2', password: 'a long passphrase for compliance' }),
    });
    expect(signedIn.status).toBe(200);
    const jar = new CookieJar();
    jar.take(signedIn);
    jar.cookies.set('gov_oidc_session', idCookie);
    const { csrfToken } = (await signedIn.json()) as { csrfToken: string };
    const out = await app.request(`${APP}/console/session`, {
      method: 'DELETE',
      headers: { cookie: jar.header(), [CSRF_HEADER]: csrfToken },
    });
    expect(out.status).toBe(204);
    expect((await call('/console/session', { jar })).status).toBe(401);
  });

  it('keeps API tokens working for systems beside it', async () => {
    const me = await call('/api/me', { headers: { authorization: `Bearer ${h.tokens.manager}` } });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: 'mgr', roles: ['manager'] });
    const bad = await call('/api/me', { headers: { authorization: 'Bearer gov_not-a-token' } });
    expect(bad.status).toBe(401);
  });

  it('lets the Temporal UI decode with its user’s access token from the provider: linked, active, oversight role only', async () => {
    const uiOrigin = new URL(h.settings.temporalUiUrl).origin;
    const clear = {
      metadata: { encoding: Buffer.from('json/plain').toString('base64') },
      data: Buffer.from('"hi"').toString('base64'),
    };
    const decode = (token: string) =>
      call('/codec/decode', {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, origin: uiOrigin, 'x-namespace': 'default' },
        json: { payloads: [clear] },
      });
    // Uma reads every case (risk); Victor is a manager only; Wendy never signed in to the console.
    accounts.set('uma-sub', {
      email: 'uma@corp.example',
      email_verified: true,
      preferred_username: 'uma',
      groups: ['grc-risk'],
    });
    accounts.set('victor-sub', {
      email: 'victor@corp.example',
      email_verified: true,
      preferred_username: 'victor',
      groups: ['grc-lead-only'],
    });
    accounts.set('wendy-sub', {
      email: 'wendy@corp.example',
      email_verified: true,
      preferred_username: 'wendy',
      groups: ['grc-risk'],
    });
    expect((await signInThroughProvider('uma-sub')).location).toBe('/console/');

    const uma = await decode(await uiAccessToken('uma-sub'));
    expect(uma.status, JSON.stringify(uma.body)).toBe(200);
    expect(uma.body.payloads).toEqual([clear]);
    const [read] = await h.sql(
      `select actor_id from audit_events where action = 'codec.decoded' order by seq desc limit 1`,
    );
    expect(read.actor_id).toBe('uma');

    // An identity with no console user linked (never signed in here) is not one.
    const wendy = await decode(await uiAccessToken('wendy-sub'));
    expect(wendy.status).toBe(401);
    expect(await h.sql(`select 1 from users where email = 'wendy@corp.example'`)).toEqual([]);
    // A token the provider never issued.
    expect((await decode('not-a-provider-token')).status).toBe(401);
    // A linked user without a role that reads every case: refused by role.
    await h.sql(
      `insert into users (id, name, email, roles) values ('victor', 'Victor', 'victor@corp.example', '{manager}')`,
    );
    await linkIdentity(h.database.db, { userId: 'victor', issuer, subject: 'victor-sub' }, { actorId: 'admin' });
    expect((await decode(await uiAccessToken('victor-sub'))).status).toBe(403);
    // Uma deactivated: her next token is refused.
    await h.sql(`update users set active = false where id = 'uma'`);
    expect((await decode(await uiAccessToken('uma-sub'))).status).toBe(401);
  });
});

describe('the password beside it', () => {
  it('still signs in a user with a password, with the same session', async () => {
    await setPassword(h.database.db, 'legal1', 'a long passphrase for legal', { actorId: 'admin' });
    const signedIn = await app.request(`${APP}/console/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: 'legal1', password: 'a long passphrase for legal' }),
    });
    expect(signedIn.status).toBe(200);
    const jar = new CookieJar();
    jar.take(signedIn);
    expect(signedIn.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`))).toMatch(/SameSite=Strict/i);
    const session = await call('/console/session', { jar });
    expect(session.body.user).toEqual({ id: 'legal1', name: 'legal', roles: ['legal'] });
  });
});

describe('configuration', () => {
  const full = {
    OIDC_ISSUER: 'https://login.corp.example',
    OIDC_CLIENT_ID: 'console',
    OIDC_CLIENT_SECRET: 'secret',
    CONSOLE_URL: 'https://grc.corp.example/',
  };

  it('is absent without variables, and derives the redirect URL from CONSOLE_URL', () => {
    expect(oidcConfigFrom({})).toBeUndefined();
    const config = oidcConfigFrom(full)!;
    expect(config.redirectUrl.href).toBe(`https://grc.corp.example${OIDC_CALLBACK_PATH}`);
    expect(config.scopes).toEqual(['openid', 'email', 'profile']);
    expect(config.rolesClaim).toBe('roles');
    expect(config.displayName).toBe('login.corp.example');
  });

  it.each([
    [{ OIDC_ISSUER: 'https://login.corp.example' }, /OIDC_CLIENT_ID, OIDC_CLIENT_SECRET are not set/],
    [{ ...full, OIDC_CLIENT_SECRET: '' }, /OIDC_CLIENT_SECRET is not set/],
    [{ OIDC_ROLE_MAP: 'a=risk' }, /OIDC_ROLE_MAP is set but OIDC_ISSUER/],
    [{ ...full, OIDC_ISSUER: 'http://login.corp.example' }, /OIDC_ISSUER must be an https:\/\/ URL/],
    [{ ...full, OIDC_ROLE_MAP: 'grc-risk=riskk' }, /OIDC_ROLE_MAP entry "grc-risk=riskk"/],
    [{ ...full, OIDC_SCOPES: 'email profile' }, /OIDC_SCOPES must include "openid"/],
    [{ ...full, OIDC_REDIRECT_URL: 'https://grc.corp.example/elsewhere' }, /OIDC_REDIRECT_URL must end in/],
  ])('refuses a half-configured or wrong provider, naming the variable (%#)', (env, message) => {
    expect(() => oidcConfigFrom(env)).toThrow(message);
  });

  it('maps claim values to roles, by the map or by role name, through a dotted path too', () => {
    const mapped = oidcConfigFrom({ ...full, OIDC_ROLE_MAP: ROLE_MAP, OIDC_ROLES_CLAIM: 'realm_access.roles' })!;
    expect(rolesFromClaims(mapped, { realm_access: { roles: ['grc-lead', 'risk'] } })).toEqual(['manager', 'risk']);
    const byName = oidcConfigFrom(full)!;
    expect(rolesFromClaims(byName, { roles: 'auditor admin nobody' })).toEqual(['auditor', 'admin']);
    expect(rolesFromClaims(byName, { roles: 42 })).toEqual([]);
  });
});

describe('in a real browser', () => {
  it('the sign-in page offers the provider; its flow lands in the console signed in, a refusal is explained', async () => {
    await ensureConsoleBuild({ log: () => undefined });
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      page.setDefaultTimeout(30_000);
      accounts.set('erin-sub', {
        email: 'erin@corp.example',
        name: 'Erin Zhao',
        preferred_username: 'erin',
        groups: ['grc-compliance'],
      });

      await page.goto(`${APP}/console/`);
      const button = page.getByTestId('sign-in-oidc');
      await expect.poll(() => button.textContent()).toBe('Sign in with Company SSO');
      await screenshot(page, 'sign-in-oidc-en');
      await button.click();
      // The provider's development pages: any password, then consent.
      await page.locator('input[name=login]').fill('erin-sub');
      await page.locator('input[name=password]').fill('any');
      await page.locator('button[type=submit]').click();
      await page.locator('button[type=submit][autofocus]').click();
      // Back through the callback: the SameSite=Strict session is there for the console's own calls.
      await expect.poll(() => page.getByTestId('whoami').textContent()).toBe('Erin Zhao');
      expect(new URL(page.url()).pathname).toBe('/console/');

      // Signing out ends the provider's session too: its confirmation page, then back to the console's sign-in page.
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL((url) => url.href.startsWith(issuer));
      await page.locator('button[name=logout][value=yes]').click();
      await page.waitForURL(`${APP}/console/`);
      await page.getByTestId('sign-in-oidc').waitFor();
      expect(await page.getByTestId('whoami').count()).toBe(0);
      // Signing in again, the provider asks for the login once more.
      await page.getByTestId('sign-in-oidc').click();
      await page.locator('input[name=login]').waitFor();
      expect(new URL(page.url()).origin).toBe(new URL(issuer).origin);

      accounts.set('erin-sub', { ...accounts.get('erin-sub'), groups: ['sales'] });
      const other = await (await browser.newContext({ locale: 'en-US' })).newPage();
      other.setDefaultTimeout(30_000);
      await other.goto(`${APP}/console/`);
      await other.getByTestId('sign-in-oidc').click();
      await other.locator('input[name=login]').fill('erin-sub');
      await other.locator('input[name=password]').fill('any');
      await other.locator('button[type=submit]').click();
      await other.locator('button[type=submit][autofocus]').click();
      const refusal = other.getByTestId('sign-in-error');
      await expect.poll(() => refusal.textContent()).toContain('gives no role in this console');
      expect(await refusal.textContent()).toContain('OIDC_NO_ROLE');
      // Shown once: a reload does not bring it back.
      await expect.poll(() => new URL(other.url()).search).toBe('');
      await screenshot(other, 'sign-in-oidc-refused-en');
    } finally {
      await browser.close();
    }
  }, 300_000);
});
