/**
 * Demo users are for a developer's machine: their tokens are public (issue 11
 * §9). Seeding against a database that already has a real user under a demo
 * id must leave that user as it is and give the public token to no one;
 * `npm start` refuses SEED_DEMO_USERS=true with a DATABASE_URL; and neither
 * `npm start` nor `api/server.ts` starts while a demo token is valid and it
 * runs in production or listens beyond loopback. The starts are real
 * processes, as an operator runs them.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { loadSettings, PROJECT_ROOT } from '../../platform/config';
import { DEMO_USERS, refuseExposedDemoTokens, seedDemoUsers, StartRefused, validDemoTokens } from '../../platform/seed';
import { startProduct } from '../../scripts/start';
import { invalidateTokenCache } from '../../api/auth';
import { databaseSnapshot } from '../support/drive';
import { useHarness } from '../support/harness';
import { TEST_CODEC_KEYS } from '../support/codecKeys';

const h = useHarness('seed');

const DAY = 24 * 60 * 60 * 1000;
const TSX = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx');
const tokenOf = (id: string) => DEMO_USERS.find((u) => u.id === id)!.token;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Runs one of the project's scripts as its own process with `env` on top of
 * a clean environment. Resolves when it exits, or as soon as its output
 * matches `until` (it is then still running: the caller stops it). Killed
 * after `timeoutMs`, so a start that should have been refused cannot hang
 * the run.
 */
function runScript(
  script: string,
  args: string[],
  env: Record<string, string>,
  options: { until?: RegExp; timeoutMs?: number } = {},
): Promise<{ code: number | null; output: string; match?: RegExpMatchArray; stop: () => Promise<void> }> {
  const base = { ...process.env };
  for (const name of ['NODE_ENV', 'DATABASE_URL', 'HOST', 'PORT', 'SEED_DEMO_USERS', 'TEMPORAL_ADDRESS'])
    delete base[name];
  const child = spawn(TSX, [path.join(PROJECT_ROOT, script), ...args], {
    cwd: PROJECT_ROOT,
    env: { ...base, GOVERNANCE_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'gov-seed-')), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${script} ${args.join(' ')} did not finish in time; output:\n${output}`));
    }, options.timeoutMs ?? 45_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = options.until && output.match(options.until);
      if (match) {
        clearTimeout(timer);
        resolve({ code: null, output, match, stop });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      resolve({ code, output, stop });
    });
  });
}

describe('demo users', () => {
  it('never attach a public token to a real user who holds a demo id', async () => {
    await h.sql(
      `insert into users (id, name, email, roles) values ('li.manager', 'Li Wei', 'li.wei@corp.example', '{manager}')`,
    );
    const seeded = await seedDemoUsers(h.database.db);
    expect(seeded.map((u) => u.id)).not.toContain('li.manager');
    // The harness already has a user 'admin' (admin@test.example): it is left alone too.
    const existing = ['li.manager', 'admin'];
    expect(seeded.map((u) => u.id).sort()).toEqual(
      DEMO_USERS.filter((u) => !existing.includes(u.id))
        .map((u) => u.id)
        .sort(),
    );
    const [real] = await h.sql(`select email, roles, active, manager_id from users where id = 'li.manager'`);
    expect(real).toEqual({ email: 'li.wei@corp.example', roles: ['manager'], active: true, manager_id: null });
    // The demo action owner's line manager is the demo manager; here that id is a real person, so none.
    const [owner] = await h.sql(`select manager_id from users where id = 'chen.owner'`);
    expect(owner).toEqual({ manager_id: null });
    expect((await h.api('GET', '/api/me', { token: 'gov_demo_manager' })).status).toBe(401);
    expect((await h.api('GET', '/api/me', { token: 'gov_demo_admin' })).status).toBe(401);
    expect((await h.api('GET', '/api/me', { token: 'gov_demo_approver' })).status).toBe(200);
    expect((await h.api('GET', '/api/me', { token: 'gov_demo_legal' })).body.roles).toEqual(['legal']);
    expect((await h.api('GET', '/api/me', { token: 'gov_demo_internal_audit' })).body.roles).toEqual([
      'internal_audit',
    ]);
    // Seeding again changes nothing and issues no second token.
    await seedDemoUsers(h.database.db);
    const tokens = await h.sql(`select user_id from api_tokens where label = 'demo' order by user_id`);
    expect(tokens.map((t) => t.user_id)).toEqual(seeded.map((u) => u.id).sort());
  });

  it('expire like any token; seeding renews an expired one, never a revoked one or a deactivated user', async () => {
    const tokens = await h.sql(`select user_id, expires_at, created_at from api_tokens where label = 'demo'`);
    for (const t of tokens) expect(t.expires_at.getTime() - t.created_at.getTime(), t.user_id).toBe(90 * DAY);
    await h.sql(`update api_tokens set expires_at = now() - interval '1 day' where label = 'demo'`);
    // Changed behind the API's back, as another process would: this process's token cache learns it when told.
    invalidateTokenCache();
    expect((await h.api('GET', '/api/me', { token: tokenOf('wang.approver') })).body.error.reason).toBe(
      'TOKEN_EXPIRED',
    );
    const [compliance] = await h.sql(`select id from api_tokens where user_id = 'zhang.compliance'`);
    expect((await h.api('POST', `/api/tokens/${compliance.id}/revoke`, { as: 'admin' })).status).toBe(200);
    expect((await h.api('POST', '/api/users/sun.legal/deactivate', { as: 'admin' })).status).toBe(200);

    await seedDemoUsers(h.database.db, { ttlDays: 30 });
    expect((await h.api('GET', '/api/me', { token: tokenOf('wang.approver') })).status).toBe(200);
    const [renewed] = await h.sql(`select expires_at from api_tokens where user_id = 'wang.approver'`);
    expect(renewed.expires_at.getTime() - Date.now()).toBeGreaterThan(30 * DAY - 60_000);
    expect(renewed.expires_at.getTime() - Date.now()).toBeLessThanOrEqual(30 * DAY);
    expect((await h.api('GET', '/api/me', { token: tokenOf('zhang.compliance') })).body.error.reason).toBe(
      'TOKEN_REVOKED',
    );
    expect((await h.api('GET', '/api/me', { token: tokenOf('sun.legal') })).body.error.reason).toBe('USER_DEACTIVATED');
    expect((await validDemoTokens(h.database.db)).map((t) => t.userId)).toEqual([
      'chen.owner',
      'qian.audit',
      'wang.approver',
      'zhao.auditor',
    ]);
  });
});

describe('no start with a valid demo token in production or beyond loopback', () => {
  it('refuseExposedDemoTokens names each valid demo token and why; on loopback outside production it lets go', async () => {
    const db = h.database.db;
    await expect(refuseExposedDemoTokens(db, { host: '127.0.0.1', production: false })).resolves.toBeUndefined();
    await expect(refuseExposedDemoTokens(db, { host: 'localhost', production: false })).resolves.toBeUndefined();
    const refusal = async (exposure: { host: string; production: boolean }) => {
      const err = await refuseExposedDemoTokens(db, exposure).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, JSON.stringify(exposure)).toBeInstanceOf(StartRefused);
      return (err as Error).message;
    };
    const valid = 'gov_demo_internal_audit (qian.audit), gov_demo_approver (wang.approver), ';
    expect(await refusal({ host: '127.0.0.1', production: true })).toBe(
      'refusing to start: the public demo tokens gov_demo_owner (chen.owner), ' +
        `${valid}gov_demo_auditor (zhao.auditor) are valid in this database, and NODE_ENV=production. ` +
        'Revoke them first (`npm run users -- revoke-demo`), or start on loopback outside production.',
    );
    for (const host of ['0.0.0.0', '::', '192.168.10.4', 'api.example.com']) {
      expect(await refusal({ host, production: false })).toContain(`it would listen on ${host}, beyond loopback`);
    }
    expect(await refusal({ host: '0.0.0.0', production: true })).toContain(
      'NODE_ENV=production and it would listen on 0.0.0.0, beyond loopback',
    );
    // Expired, revoked or deactivated, a demo token lets no one in and no longer blocks.
    await h.sql(`update api_tokens set expires_at = now() - interval '1 second' where user_id = 'chen.owner'`);
    await h.sql(
      `update api_tokens set revoked_at = now() where user_id = 'zhao.auditor'; update users set active = false where id = 'qian.audit'`,
    );
    expect(await refusal({ host: '0.0.0.0', production: false })).toMatch(
      /^refusing to start: the public demo token gov_demo_approver \(wang\.approver\) is valid in this database/,
    );
  });

  it('startProduct (npm start) refuses to listen beyond loopback, before it starts anything', async () => {
    const before = await databaseSnapshot(h);
    const started = startProduct({
      ...loadSettings({}),
      databaseUrl: h.databaseUrl,
      temporalAddress: inject('temporalAddress'),
      taskQueue: h.unique('seed-product'),
      host: '0.0.0.0',
      port: 0,
      seedDemoUsers: false,
      workflowBundle: { codePath: inject('workflowBundlePath') },
    });
    await expect(started).rejects.toThrow(StartRefused);
    await expect(started).rejects.toThrow(/gov_demo_approver \(wang\.approver\) is valid.*beyond loopback/);
    expect(await databaseSnapshot(h)).toEqual(before);
  });

  it('api/server.ts with NODE_ENV=production exits with the reason; after `npm run users -- revoke-demo` it starts', async () => {
    const env = {
      DATABASE_URL: h.databaseUrl,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      NODE_ENV: 'production',
      // Production refuses to start without payload keys (platform/codec.ts).
      GOVERNANCE_CODEC_KEYS: TEST_CODEC_KEYS,
      // Loopback: production alone must refuse.
      HOST: '127.0.0.1',
    };
    const refused = await runScript('api/server.ts', [], { ...env, PORT: String(await freePort()) });
    expect(refused.code, refused.output).toBe(1);
    expect(refused.output).toContain(
      '[api] refusing to start: the public demo token gov_demo_approver (wang.approver) is valid in this database, and NODE_ENV=production.',
    );
    expect(refused.output).not.toMatch(/API listening|\n\s+at /);

    const revoked = await runScript('scripts/users.ts', ['revoke-demo'], { DATABASE_URL: h.databaseUrl });
    expect(revoked.code, revoked.output).toBe(0);
    // Every demo token not yet revoked: the valid one, and the expired one and the deactivated user's, which
    // would otherwise come back with a renewal or a reactivation.
    expect(revoked.output).toContain('revoked 3 demo token(s): chen.owner, qian.audit, wang.approver');
    const events = await h.sql(
      `select actor_id, reason, payload->>'userId' as user_id from audit_events
        where action = 'token.revoked' and actor_id = 'cli' order by user_id`,
    );
    expect(events).toEqual(
      ['chen.owner', 'qian.audit', 'wang.approver'].map((u) => ({
        actor_id: 'cli',
        reason: 'public demo token',
        user_id: u,
      })),
    );
    expect(await validDemoTokens(h.database.db)).toEqual([]);

    const port = await freePort();
    const serving = await runScript(
      'api/server.ts',
      [],
      { ...env, PORT: String(port) },
      { until: /API listening on http:\/\/localhost:(\d+)/ },
    );
    try {
      expect(serving.match?.[1], serving.output).toBe(String(port));
      const me = await fetch(`http://127.0.0.1:${port}/api/me`, {
        headers: { authorization: `Bearer ${h.tokens.legal}` },
      });
      expect(me.status).toBe(200);
      const demo = await fetch(`http://127.0.0.1:${port}/api/me`, {
        headers: { authorization: 'Bearer gov_demo_approver' },
      });
      expect(demo.status).toBe(401);
      expect(((await demo.json()) as { error: { reason: string } }).error.reason).toBe('TOKEN_REVOKED');
    } finally {
      await serving.stop();
    }
  });

  it('npm start refuses SEED_DEMO_USERS=true with a DATABASE_URL, before it starts or writes anything', async () => {
    const before = await databaseSnapshot(h);
    const refused = await runScript('scripts/start.ts', [], {
      DATABASE_URL: h.databaseUrl,
      SEED_DEMO_USERS: 'true',
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      PORT: String(await freePort()),
    });
    expect(refused.code, refused.output).toBe(1);
    expect(refused.output).toContain(
      '[start] could not start: SEED_DEMO_USERS=true is refused with DATABASE_URL: the demo users’ tokens are public',
    );
    expect(refused.output).not.toMatch(/Governance platform is running|applying migrations/);
    expect(await databaseSnapshot(h)).toEqual(before);
  });
});
