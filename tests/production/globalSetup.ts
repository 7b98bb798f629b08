/**
 * Once per test run, for the `production` project: the production-shaped
 * profile (scripts/production/profile.ts) — real Temporal server on its own
 * PostgreSQL, mTLS, worker and API as separate processes — and users of every
 * role with ordinary (non-demo) tokens, so the API may be restarted at will.
 *
 * The profile's processes are children of this process, while the tests run
 * in a fork: the tests inject faults through a small control server on
 * loopback (tests/support/production.ts calls it).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { issueToken } from '../../api/auth';
import { openDatabase } from '../../db/client';
import { users } from '../../db/schema';
import { DEMO_USERS } from '../../platform/seed';
import { startProductionProfile, type ProductionProfile } from '../../scripts/production/profile';
import { TEST_USERS, type TestUser } from '../support/harness';

declare module 'vitest' {
  export interface ProvidedContext {
    production: {
      controlUrl: string;
      apiUrl: string;
      /** The app database as its owner: the tests' SQL checks (the runtime role may not see everything). */
      appOwnerDatabaseUrl: string;
      adminUrl: string;
      /** pg_dump, pg_restore and psql of the profile's PostgreSQL version. */
      pgBinDir: string;
      temporalAddress: string;
      namespace: string;
      taskQueue: string;
      tls: { certPath: string; keyPath: string; caPath: string; serverName: string };
      codecKeys: string;
      tokens: Record<TestUser, string>;
      logs: Record<string, string>;
      root: string;
    };
  }
}

export type ControlAction =
  | 'killWorker'
  | 'startWorker'
  | 'killApi'
  | 'startApi'
  | 'restartPostgres'
  | 'crashPostgres'
  | 'restartTemporal'
  | 'killTemporal'
  | 'stopStack'
  | 'startStack'
  | 'state';

async function control(profile: ProductionProfile, action: ControlAction, body: any): Promise<unknown> {
  switch (action) {
    case 'killWorker':
      return profile.killWorker();
    case 'startWorker':
      return profile.startWorker();
    case 'killApi':
      return profile.killApi();
    case 'startApi':
      return profile.startApi();
    case 'restartPostgres':
      return profile.restartPostgres('fast', body?.downMs);
    case 'crashPostgres':
      return profile.restartPostgres('immediate', body?.downMs);
    case 'restartTemporal':
      return profile.restartTemporal();
    case 'killTemporal':
      return profile.restartTemporal({ kill: true });
    case 'stopStack':
      return profile.stopStack();
    case 'startStack':
      return profile.startStack(body);
    case 'state':
      return {
        workerPid: profile.workerPid(),
        apiPid: profile.apiPid(),
        alive: profile.alive(),
        databases: profile.databases,
        appOwnerDatabaseUrl: profile.appOwnerDatabaseUrl,
      };
  }
}

export default async function setup(project: TestProject) {
  const log = (line: string) => console.log(`[production] ${line}`);
  const profile = await startProductionProfile({
    log,
    caseTimings: 'allow',
    keep: !!process.env.KEEP_PRODUCTION_PROFILE,
  });

  const owner = await openDatabase({ url: profile.appOwnerDatabaseUrl, poolSize: 1 });
  const tokens = {} as Record<TestUser, string>;
  try {
    for (const [key, user] of Object.entries(TEST_USERS) as Array<[TestUser, (typeof TEST_USERS)[TestUser]]>) {
      // Not a demo user's id: the README test seeds those, and a demo id held by a real user gets no demo token.
      const id = DEMO_USERS.some((d) => d.id === user.id) ? `test.${user.id}` : user.id;
      await owner.db.insert(users).values({ id, name: key, email: `${id}@test.example`, roles: user.roles });
      tokens[key] = await issueToken(owner.db, id, 'production-test');
    }
  } finally {
    await owner.close();
  }

  // One fault at a time: a request waits for the one before it.
  let queue: Promise<unknown> = Promise.resolve();
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', () => {
      const action = (req.url ?? '').replace(/^\//, '') as ControlAction;
      const run = queue.then(() => control(profile, action, raw ? JSON.parse(raw) : undefined));
      queue = run.catch(() => undefined);
      run.then(
        (result) => {
          // No keep-alive: a fault may take minutes, and a reused socket closed meanwhile fails the next call.
          res.writeHead(200, { 'content-type': 'application/json', connection: 'close' });
          res.end(JSON.stringify(result ?? null));
        },
        (err: Error) => {
          res.writeHead(500, { 'content-type': 'text/plain', connection: 'close' });
          res.end(err.stack ?? String(err));
        },
      );
    });
  });
  server.requestTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const controlUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  project.provide('production', {
    controlUrl,
    apiUrl: profile.apiUrl,
    appOwnerDatabaseUrl: profile.appOwnerDatabaseUrl,
    adminUrl: profile.postgres.adminUrl(),
    pgBinDir: path.dirname(profile.postgres.bin('pg_dump')),
    temporalAddress: profile.temporalAddress,
    namespace: profile.namespace,
    taskQueue: profile.taskQueue,
    tls: profile.tls,
    codecKeys: profile.codecKeys,
    tokens,
    logs: profile.logs,
    root: profile.root,
  });

  return async () => {
    await new Promise((resolve) => server.close(resolve));
    await profile.stop();
  };
}
