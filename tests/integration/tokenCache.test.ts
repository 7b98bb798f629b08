/**
 * The API's token cache (api/auth.ts, issue 15 §1): a token's second request
 * costs no token query, and a revocation, a deactivation or a role change
 * made through the API counts from the very next request, with no wait for
 * the cache's TTL (30 s, policy default). A change made behind the API's back
 * (SQL by hand, as another process would) counts within the TTL, or at once
 * after invalidateTokenCache(). Expiry is honoured from the cache.
 *
 * Real app, real PostgreSQL: token queries are counted on the pool the app
 * queries through.
 */
import { Hono } from 'hono';
import type pg from 'pg';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  authenticate,
  FailedAuthLimiter,
  invalidateTokenCache,
  TOKEN_CACHE_TTL_MS,
  TokenCache,
  type AppEnv,
} from '../../api/auth';
import { ApiError, errorBody } from '../../api/errors';
import { TEST_USERS, useHarness } from '../support/harness';

const h = useHarness('tokencache');

/** Every query the app sends to PostgreSQL through its pool, by text. */
const sent: string[] = [];
let restore: (() => void) | undefined;
beforeAll(() => {
  const pool = (h.database.db as unknown as { $client: pg.Pool }).$client;
  const original = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const first = args[0] as string | { text?: string };
    sent.push(typeof first === 'string' ? first : (first?.text ?? ''));
    return original(...args);
  };
  restore = () => {
    (pool as unknown as { query: unknown }).query = original;
  };
  return () => restore?.();
});
afterEach(() => {
  sent.length = 0;
});

/** How many token lookups (queries reading api_tokens) `fn` sent. */
async function tokenQueries(fn: () => Promise<unknown>): Promise<number> {
  const from = sent.length;
  await fn();
  return sent.slice(from).filter((text) => /from "api_tokens"/.test(text)).length;
}

async function issue(userId: string) {
  const res = await h.api('POST', `/api/users/${userId}/tokens`, { as: 'admin', json: { label: h.unique('cache') } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; token: string };
}

async function newUser(roles: string[]) {
  const id = h.unique('cached');
  const res = await h.api('POST', '/api/users', {
    as: 'admin',
    json: { id, name: id, email: `${id}@test.example`, roles },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { id, token: (await issue(id)).token };
}

const me = (token: string) => h.api('GET', '/api/me', { token });

describe('a valid token is looked up once', () => {
  it('its first request queries the token, the next ones do not', async () => {
    const { token } = await issue(TEST_USERS.approver.id);
    expect(await tokenQueries(async () => expect((await me(token)).status).toBe(200))).toBe(1);
    for (let i = 0; i < 5; i++) {
      expect(await tokenQueries(async () => expect((await me(token)).body.id).toBe(TEST_USERS.approver.id))).toBe(0);
    }
    // A write through the API (a case start) is authenticated from the cache as well.
    const { token: managerToken } = await issue(TEST_USERS.manager.id);
    await me(managerToken);
    const queries = await tokenQueries(async () => {
      const res = await h.api('POST', '/api/cases/approval-requests', {
        token: managerToken,
        json: { requestKey: h.unique('tc-start'), title: 'cached token start', probability: 1, impact: 2 },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    });
    expect(queries).toBe(0);
  });

  it('refusals are not cached: an unknown token is looked up, and refused, every time', async () => {
    for (let i = 0; i < 3; i++) {
      const queries = await tokenQueries(async () => {
        const res = await me('gov_not-a-token-at-all');
        expect(res.status).toBe(401);
        expect(res.body.error.code).toBe('UNAUTHENTICATED');
      });
      expect(queries).toBe(1);
    }
  });
});

describe('a change through the API counts from the very next request', () => {
  it('a revoked token is refused at once', async () => {
    const issued = await issue(TEST_USERS.legal.id);
    expect((await me(issued.token)).status).toBe(200);
    expect(await tokenQueries(() => me(issued.token))).toBe(0); // cached
    expect((await h.api('POST', `/api/tokens/${issued.id}/revoke`, { as: 'admin' })).status).toBe(200);
    const res = await me(issued.token);
    expect(res.status).toBe(401);
    expect(res.body.error.reason).toBe('TOKEN_REVOKED');
  });

  it('a deactivated user is refused at once, on every token they held', async () => {
    const u = await newUser(['action_owner']);
    const second = await issue(u.id);
    for (const token of [u.token, second.token]) expect((await me(token)).status).toBe(200);
    expect((await h.api('POST', `/api/users/${u.id}/deactivate`, { as: 'admin' })).status).toBe(200);
    for (const token of [u.token, second.token]) {
      const res = await me(token);
      expect(res.status).toBe(401);
      expect(res.body.error.reason).toBe('USER_DEACTIVATED');
    }
  });

  it('changed roles are authorised anew at once: a role taken away is refused, a role given is granted', async () => {
    const u = await newUser(['manager']);
    const start = (key: string) =>
      h.api('POST', '/api/cases/approval-requests', {
        token: u.token,
        json: { requestKey: h.unique(key), title: 'role change', probability: 1, impact: 1 },
      });
    const started = await start('tc-before');
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    expect((await me(u.token)).body.roles).toEqual(['manager']);

    const changed = await h.api('PATCH', `/api/users/${u.id}`, { as: 'admin', json: { roles: ['auditor'] } });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect((await me(u.token)).body.roles).toEqual(['auditor']);
    const refused = await start('tc-after');
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('FORBIDDEN');

    expect((await h.api('PATCH', `/api/users/${u.id}`, { as: 'admin', json: { roles: ['manager'] } })).status).toBe(
      200,
    );
    const again = await start('tc-again');
    expect(again.status, JSON.stringify(again.body)).toBe(201);
  });

  it('a lookup that raced a change is not kept', async () => {
    const cache = new TokenCache();
    const version = cache.version();
    invalidateTokenCache(); // a revocation committed while the lookup ran
    cache.set('hash', { id: 'x', name: 'x', roles: ['manager'] }, new Date(Date.now() + 60_000), version);
    expect(cache.get('hash')).toBeUndefined();
    cache.set('hash', { id: 'x', name: 'x', roles: ['manager'] }, new Date(Date.now() + 60_000), cache.version());
    expect(cache.get('hash')?.id).toBe('x');
  });
});

describe('expiry and changes made elsewhere', () => {
  it('a cached token is refused once it expires, without waiting for the TTL', async () => {
    const issued = await issue(TEST_USERS.owner.id);
    await h.sql(`update api_tokens set expires_at = now() + interval '1500 milliseconds' where id = $1`, [issued.id]);
    expect((await me(issued.token)).status).toBe(200);
    expect(await tokenQueries(() => me(issued.token))).toBe(0);
    await new Promise((r) => setTimeout(r, 1_700));
    const res = await me(issued.token);
    expect(res.status).toBe(401);
    expect(res.body.error.reason).toBe('TOKEN_EXPIRED');
  });

  it('a change behind the API’s back counts within the TTL, or at once after invalidateTokenCache()', async () => {
    // The real middleware on a tiny app with a clock of our own, so the TTL can pass.
    let now = Date.now();
    const app = new Hono<AppEnv>();
    app.onError((err, c) => {
      if (err instanceof ApiError) return c.json(errorBody(c, err), err.status);
      throw err;
    });
    app.use(
      '*',
      authenticate(h.database.db, new FailedAuthLimiter(), new TokenCache(TOKEN_CACHE_TTL_MS, 100, () => now)),
    );
    app.get('/who', (c) => c.json(c.get('user')));
    const who = async (token: string) => {
      const res = await app.request('/who', { headers: { authorization: `Bearer ${token}` } });
      return { status: res.status, body: (await res.json()) as { id?: string; error?: { reason?: string } } };
    };

    // Issued first: an issue through the API voids every cached lookup.
    const a = await issue(TEST_USERS.internalAudit.id);
    const b = await issue(TEST_USERS.internalAudit.id);

    // Another process revokes a: this one still trusts its lookup, for less than the TTL…
    expect((await who(a.token)).status).toBe(200);
    await h.sql(`update api_tokens set revoked_at = now() where id = $1`, [a.id]);
    now += TOKEN_CACHE_TTL_MS - 1;
    expect(await tokenQueries(async () => expect((await who(a.token)).status).toBe(200))).toBe(0);
    // …and past the TTL looks again.
    now += 1;
    const stale = await who(a.token);
    expect(stale.status).toBe(401);
    expect(stale.body.error?.reason).toBe('TOKEN_REVOKED');

    // Told, it forgets at once.
    expect((await who(b.token)).status).toBe(200);
    await h.sql(`update api_tokens set revoked_at = now() where id = $1`, [b.id]);
    expect((await who(b.token)).status).toBe(200);
    invalidateTokenCache();
    expect((await who(b.token)).body.error?.reason).toBe('TOKEN_REVOKED');
  });
});
