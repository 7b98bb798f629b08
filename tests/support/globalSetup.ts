/**
 * Once per test run: the real Temporal dev server (in memory — several times
 * faster than a database file), a migrated template database on the real
 * PostgreSQL, and one workflow bundle shared by every test file's worker.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../db/client';
import { migrate } from '../../db/migrate';
import { startDevServer } from '../../platform/devServer';
import { WORKFLOW_BUNDLE_OPTIONS } from '../../worker';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    pgAdminUrl: string;
    templateDatabase: string;
    workflowBundlePath: string;
  }
}

export const PG_ADMIN_URL = process.env.TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function databaseUrl(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

export default async function setup(project: TestProject) {
  const runId = `gov_test_${process.pid}`;
  const templateDatabase = `${runId}_template`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  // Leftovers of interrupted runs take space. Another run may be going on
  // (perhaps from another process namespace, so a pid says nothing here):
  // drop only test databases whose files are older than six hours.
  const stale = await admin.query<{ datname: string }>(
    `select datname from pg_database
      where starts_with(datname, 'gov_test_')
        and (pg_stat_file('base/' || oid || '/PG_VERSION')).modification < now() - interval '6 hours'`,
  );
  for (const { datname } of stale.rows) await admin.query(`drop database if exists "${datname}" with (force)`);
  await admin.query(`create database "${templateDatabase}"`);
  const template = await openDatabase({ url: databaseUrl(PG_ADMIN_URL, templateDatabase), poolSize: 1 });
  await migrate(template);
  await template.close();

  const server = await startDevServer({ log: (line) => console.log(`[globalSetup] ${line}`) });

  const bundleDir = mkdtempSync(path.join(tmpdir(), 'gov-bundle-'));
  // The workflows and the tracing interceptors, as every bundle is built (worker.ts).
  const { code } = await bundleWorkflowCode({ ...WORKFLOW_BUNDLE_OPTIONS, logger: undefined });
  const workflowBundlePath = path.join(bundleDir, 'workflows.js');
  writeFileSync(workflowBundlePath, code);

  project.provide('temporalAddress', server.address);
  project.provide('pgAdminUrl', PG_ADMIN_URL);
  project.provide('templateDatabase', templateDatabase);
  project.provide('workflowBundlePath', workflowBundlePath);

  return async () => {
    await server.teardown();
    // An exact prefix: LIKE would treat "_" as a wildcard, and pid 3222's run
    // must not drop pid 32229's databases.
    const dbs = await admin.query<{ datname: string }>(
      `select datname from pg_database where starts_with(datname, $1)`,
      [`${runId}_`],
    );
    for (const { datname } of dbs.rows) await admin.query(`drop database if exists "${datname}" with (force)`);
    await admin.end();
    rmSync(bundleDir, { recursive: true, force: true });
  };
}
