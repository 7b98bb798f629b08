/**
 * The two database roles of README "An audit trail nobody can rewrite", on a
 * harness's database: an owner role that owns every table (and runs the
 * migrations) and the app's runtime role, with a worker and the real API app
 * of their own opened as the runtime role. The harness's own pool (h.sql)
 * stays a superuser: the attacker of the tamper tests.
 *
 * Roles are cluster-wide: each file creates uniquely named ones and drops
 * them afterwards. The harness's database was migrated by the superuser, so
 * the owner role is first handed its objects, as an existing deployment
 * moving to two roles would (then `migrate()` with the owner's URL grants
 * the runtime role, as at every start).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { NativeConnection, type Worker } from '@temporalio/worker';
import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import { createApp, type AppDeps } from '../../api/app';
import { openDatabase, type DatabaseHandle } from '../../db/client';
import { migrate } from '../../db/migrate';
import type { Settings } from '../../platform/config';
import { createWorker } from '../../worker';
import { testDataConverter } from './codecKeys';
import { databaseUrl } from './globalSetup';
import type { Harness, TestUser } from './harness';

export interface RuntimeRole {
  ownerRole: string;
  runtimeRole: string;
  ownerUrl: string;
  runtimeUrl: string;
  /** The app's database handle, opened as the runtime role. */
  database: DatabaseHandle;
  taskQueue: string;
  settings: AppDeps['settings'] & Pick<Settings, 'auditAnchor'>;
  /** Raw SQL as the runtime role: what a compromised app process could send. */
  sql<T extends pg.QueryResultRow = any>(text: string, params?: unknown[]): Promise<T[]>;
  /** The API app on the runtime role's handle, as h.api. */
  api: Harness['api'];
}

function withUser(url: string, user: string): string {
  const parsed = new URL(url);
  parsed.username = user;
  parsed.password = '';
  return parsed.toString();
}

export function useRuntimeRole(h: Harness, options: { auditAnchor?: Settings['auditAnchor'] } = {}): RuntimeRole {
  const rt = {} as RuntimeRole;
  let worker: Worker | undefined;
  let workerRun: Promise<void> | undefined;
  let nativeConnection: NativeConnection | undefined;
  let rawPool: pg.Pool | undefined;

  beforeAll(async () => {
    const suffix = randomBytes(4).toString('hex');
    rt.ownerRole = `gov_test_owner_${suffix}`;
    rt.runtimeRole = `gov_test_app_${suffix}`;
    const superuserUrl = databaseUrl(inject('pgAdminUrl'), h.databaseName);
    rt.ownerUrl = withUser(superuserUrl, rt.ownerRole);
    rt.runtimeUrl = withUser(superuserUrl, rt.runtimeRole);

    const admin = new pg.Client({ connectionString: superuserUrl });
    await admin.connect();
    try {
      await admin.query(`create role "${rt.ownerRole}" login`);
      await admin.query(`create role "${rt.runtimeRole}" login`);
      await admin.query(`alter database "${h.databaseName}" owner to "${rt.ownerRole}"`);
      await admin.query(`alter schema drizzle owner to "${rt.ownerRole}"`);
      // Everything the superuser's migrations created, handed to the owner role.
      await admin.query(`
        do $$
        declare o record;
        begin
          for o in select c.oid::regclass as rel from pg_class c join pg_namespace n on n.oid = c.relnamespace
                    where n.nspname in ('public', 'drizzle') and c.relkind in ('r', 'p', 'v', 'm')
          loop
            execute format('alter table %s owner to %I', o.rel, '${rt.ownerRole}');
          end loop;
          for o in select p.oid::regprocedure as fn from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                    where n.nspname = 'public'
          loop
            execute format('alter function %s owner to %I', o.fn, '${rt.ownerRole}');
          end loop;
        end $$`);
    } finally {
      await admin.end();
    }

    rt.database = await openDatabase({ url: rt.runtimeUrl, poolSize: 6 });
    // As at every start with DATABASE_OWNER_URL: nothing pending, the runtime role granted.
    await migrate(rt.database, { ownerUrl: rt.ownerUrl });
    rawPool = new pg.Pool({ connectionString: rt.runtimeUrl, max: 2 });
    rt.sql = async (text, params) => (await rawPool!.query(text, params as unknown[])).rows;

    rt.taskQueue = `test-runtime-role-${randomUUID().slice(0, 8)}`;
    nativeConnection = await NativeConnection.connect({ address: inject('temporalAddress') });
    worker = await createWorker({
      connection: nativeConnection,
      temporal: h.temporal,
      db: rt.database.db,
      namespace: 'default',
      taskQueue: rt.taskQueue,
      workflowBundle: { codePath: inject('workflowBundlePath') },
      // The harness's client seals every payload: this worker opens them with the same keys.
      dataConverter: testDataConverter,
    });
    workerRun = worker.run();

    rt.settings = { ...h.settings, taskQueue: rt.taskQueue, auditAnchor: options.auditAnchor };
    const app = createApp(
      { db: rt.database.db, temporal: h.temporal, settings: rt.settings },
      { log: process.env.DEBUG_API ? (line) => console.error(line) : () => undefined },
    );
    rt.api = async (method, path, opts = {}) => {
      const headers: Record<string, string> = { ...opts.headers };
      const token = opts.token !== undefined ? opts.token : opts.as ? h.tokens[opts.as as TestUser] : null;
      if (token) headers.authorization = `Bearer ${token}`;
      let body = opts.body;
      if (opts.json !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(opts.json);
      }
      const res = await app.request(path, { method, headers, body });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        /* not JSON: keep the text */
      }
      return { status: res.status, body: parsed, headers: res.headers };
    };
  });

  afterAll(async () => {
    if (worker && worker.getState() === 'RUNNING') worker.shutdown();
    await workerRun?.catch(() => undefined);
    await nativeConnection?.close();
    await rawPool?.end();
    await rt.database?.close();
    if (!rt.ownerRole) return;
    const admin = new pg.Client({ connectionString: databaseUrl(inject('pgAdminUrl'), h.databaseName) });
    await admin.connect();
    try {
      // The database goes back to the superuser (the run drops it); the roles leave nothing behind.
      await admin.query(`reassign owned by "${rt.ownerRole}" to current_user`);
      // One role at a time: both in one statement trips over the owner's default privileges for the other.
      await admin.query(`drop owned by "${rt.runtimeRole}"`);
      await admin.query(`drop owned by "${rt.ownerRole}"`);
      await admin.query(`drop role if exists "${rt.runtimeRole}"`);
      await admin.query(`drop role if exists "${rt.ownerRole}"`);
    } finally {
      await admin.end();
    }
  });

  return rt;
}
