/**
 * Per test file: a fresh database (cloned from the migrated template), a
 * worker on its own task queue against the shared dev server, the real API
 * app, and users of every role with tokens. Nothing is mocked.
 */
import { randomUUID } from 'node:crypto';
import type { Client, Connection } from '@temporalio/client';
import { Runtime, type NativeConnection, type Worker } from '@temporalio/worker';
import { DefaultLogger } from '@temporalio/worker';
import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import { createApp, type AppDeps } from '../../api/app';
import { issueToken } from '../../api/auth';
import { openDatabase, type DatabaseHandle } from '../../db/client';
import { users } from '../../db/schema';
import type { Role } from '../../domain/roles';
import { dataConverterFor } from '../../platform/codec';
import { connectClient, connectWorker } from '../../platform/temporalConnection';
import { createWorker } from '../../worker';
import { TEST_CODEC_KEYS } from './codecKeys';
import { databaseUrl } from './globalSetup';

let runtimeInstalled = false;

export const TEST_USERS = {
  manager: { id: 'mgr', roles: ['manager'] as Role[] },
  /** A risk lead who is both manager and risk approver: SoD must still stop them. */
  lead: { id: 'lead', roles: ['manager', 'risk'] as Role[] },
  /** Two approvers of two functions, so four-eyes on high risk can be met. */
  approver: { id: 'appr1', roles: ['risk'] as Role[] },
  approver2: { id: 'appr2', roles: ['compliance'] as Role[] },
  legal: { id: 'legal1', roles: ['legal'] as Role[] },
  /** A second risk officer: the same function as `approver`, so no second pair of eyes for four-eyes. */
  risk2: { id: 'risk2', roles: ['risk'] as Role[] },
  internalAudit: { id: 'ia1', roles: ['internal_audit'] as Role[] },
  owner: { id: 'owner', roles: ['action_owner'] as Role[] },
  auditor: { id: 'auditor', roles: ['auditor'] as Role[] },
  admin: { id: 'admin', roles: ['admin'] as Role[] },
} as const;
export type TestUser = keyof typeof TEST_USERS;

export interface Harness {
  database: DatabaseHandle;
  databaseName: string;
  databaseUrl: string;
  temporal: Client;
  taskQueue: string;
  worker: Worker;
  app: ReturnType<typeof createApp>;
  /** The app's settings, by reference: a test may change one (e.g. caseTimings) and restore it. */
  settings: AppDeps['settings'];
  tokens: Record<TestUser, string>;
  /** Calls the API as one of the test users (or with a raw Authorization header). */
  api(
    method: string,
    path: string,
    options?: {
      as?: TestUser;
      token?: string | null;
      json?: unknown;
      body?: string | FormData | Uint8Array;
      headers?: Record<string, string>;
    },
  ): Promise<{ status: number; body: any; headers: Headers }>;
  /** A raw pg client on this file's database, for checks the app would not make. */
  sql<T extends pg.QueryResultRow = any>(text: string, params?: unknown[]): Promise<T[]>;
  unique(prefix: string): string;
}

export interface HarnessOptions {
  /** The workflow bundle's path, when not the run's shared one (tests/integration/codec.test.ts). */
  workflowBundlePath?: () => Promise<string>;
}

export function useHarness(name: string, options: HarnessOptions = {}): Harness {
  const harness = {} as Harness;
  let workerRun: Promise<void> | undefined;
  let connection: Connection | undefined;
  let nativeConnection: NativeConnection | undefined;
  let rawPool: pg.Pool | undefined;

  beforeAll(async () => {
    if (!runtimeInstalled) {
      Runtime.install({ logger: new DefaultLogger('WARN') });
      runtimeInstalled = true;
    }
    const adminUrl = inject('pgAdminUrl');
    const databaseName = `${inject('templateDatabase').replace(/_template$/, '')}_${name}_${process.pid}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`create database "${databaseName}" template "${inject('templateDatabase')}"`);
    await admin.end();
    harness.databaseName = databaseName;
    harness.databaseUrl = databaseUrl(adminUrl, databaseName);
    harness.database = await openDatabase({ url: harness.databaseUrl, poolSize: 8 });
    rawPool = new pg.Pool({ connectionString: harness.databaseUrl, max: 2 });
    harness.sql = async (text, params) => (await rawPool!.query(text, params as unknown[])).rows;

    // Connected as the product connects, every payload sealed with the test keys (platform/codec.ts).
    const address = inject('temporalAddress');
    const temporalSettings = { temporalNamespace: 'default', codecKeys: TEST_CODEC_KEYS };
    ({ connection, client: harness.temporal } = await connectClient(address, temporalSettings));
    nativeConnection = await connectWorker(address, temporalSettings);
    harness.taskQueue = `test-${name}-${randomUUID().slice(0, 8)}`;
    harness.worker = await createWorker({
      connection: nativeConnection,
      temporal: harness.temporal,
      db: harness.database.db,
      namespace: 'default',
      taskQueue: harness.taskQueue,
      workflowBundle: { codePath: (await options.workflowBundlePath?.()) ?? inject('workflowBundlePath') },
      dataConverter: dataConverterFor(temporalSettings),
    });
    workerRun = harness.worker.run();

    const tokens = {} as Record<TestUser, string>;
    for (const [key, user] of Object.entries(TEST_USERS) as Array<[TestUser, (typeof TEST_USERS)[TestUser]]>) {
      await harness.database.db
        .insert(users)
        .values({ id: user.id, name: key, email: `${user.id}@test.example`, roles: user.roles });
      tokens[key] = await issueToken(harness.database.db, user.id, 'test');
    }
    harness.tokens = tokens;
    harness.settings = {
      taskQueue: harness.taskQueue,
      temporalNamespace: 'default',
      temporalUiUrl: 'http://localhost:8233',
      maxEvidenceBytes: 64 * 1024,
      // The tests shorten clocks; tests of the lock set 'locked' for a moment (h.settings).
      caseTimings: 'allow',
    };
    harness.app = createApp(
      {
        db: harness.database.db,
        temporal: harness.temporal,
        settings: harness.settings,
      },
      { log: process.env.DEBUG_API ? (line) => console.error(line) : () => undefined },
    );
    harness.api = async (method, path, options = {}) => {
      const headers: Record<string, string> = { ...options.headers };
      const token = options.token !== undefined ? options.token : options.as ? tokens[options.as] : null;
      if (token) headers.authorization = `Bearer ${token}`;
      let body = options.body;
      if (options.json !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(options.json);
      }
      const res = await harness.app.request(path, { method, headers, body });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        /* not JSON: keep the text */
      }
      return { status: res.status, body: parsed, headers: res.headers };
    };
    harness.unique = (prefix) => `${prefix}-${randomUUID().slice(0, 8)}`;
  });

  afterAll(async () => {
    if (harness.worker && harness.worker.getState() === 'RUNNING') harness.worker.shutdown();
    await workerRun?.catch(() => undefined);
    await nativeConnection?.close();
    await connection?.close();
    await rawPool?.end();
    await harness.database?.close();
  });

  return harness;
}

/** Polls until `check` returns a truthy value (read models update asynchronously). */
export async function eventually<T>(
  check: () => Promise<T | undefined | null | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs}ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
