/**
 * Applies the committed drizzle-kit migrations; safe to run at every start.
 *
 * Two roles (issue 14 §4, README "An audit trail nobody can rewrite"): with
 * DATABASE_OWNER_URL set, the migrations run as that owner role and the
 * runtime role (DATABASE_URL's) is then granted only what it needs
 * (migration 0018): it may read and append to audit_events, never rewrite,
 * truncate, alter or drop it. A runtime role that owns nothing only checks
 * that no migration is pending. With one role (DATABASE_OWNER_URL unset, the
 * app's role owns the tables, or PGlite) everything runs as before.
 *
 * `tsx db/migrate.ts` runs them on their own: the production shape gives the
 * owner's URL to that one-shot step only, never to the API or the worker.
 */
import { fileURLToPath } from 'node:url';
import { sql, type SQL } from 'drizzle-orm';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { loadSettings } from '../platform/config';
import { openDatabase, type DatabaseHandle } from './client';

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('./migrations', import.meta.url));
/** Arbitrary constant: the API and the worker may start at the same moment. */
const MIGRATION_LOCK_KEY = 727_000;

export interface MigrateOptions {
  /**
   * The owner role's URL (DATABASE_OWNER_URL): migrations run as it, then the
   * handle's role is granted the runtime privileges. Unset: the handle's role
   * migrates if it owns the schema, otherwise only checks.
   */
  ownerUrl?: string;
}

export function ownerUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.DATABASE_OWNER_URL || undefined;
}

/** `migrated`: applied (as the handle's role or the owner); `checked`: the runtime role found nothing pending. */
export async function migrate(
  handle: DatabaseHandle,
  options: MigrateOptions = { ownerUrl: ownerUrlFromEnv() },
): Promise<'migrated' | 'checked'> {
  if (handle.kind === 'pglite') {
    const { migrate: migratePglite } = await import('drizzle-orm/pglite/migrator');
    await migratePglite(handle.db as never, { migrationsFolder: MIGRATIONS_FOLDER });
    return 'migrated';
  }
  if (options.ownerUrl) {
    await migrateAsOwner(handle, options.ownerUrl);
    return 'migrated';
  }
  if (await ownsTheSchema(handle)) {
    await handle.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
      await migratePg(tx as never, { migrationsFolder: MIGRATIONS_FOLDER });
    });
    return 'migrated';
  }
  await refusePendingMigrations(handle);
  return 'checked';
}

/** Whether the handle's role may migrate: the schema is new, or it owns audit_events (or is a superuser). */
async function ownsTheSchema(handle: DatabaseHandle): Promise<boolean> {
  const rows = await rowsOf<{ owns: boolean | null }>(
    handle,
    sql`select (select pg_has_role(c.relowner, 'USAGE') from pg_class c where c.oid = to_regclass('public.audit_events')) as owns`,
  );
  return rows[0]?.owns !== false;
}

async function migrateAsOwner(handle: DatabaseHandle, ownerUrl: string): Promise<void> {
  const runtimeRole = await currentRole(handle);
  const client = new pg.Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    const owner = drizzle(client);
    await owner.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
      const { rows } = await tx.execute<{ role: string; table_owner: string | null }>(
        sql`select current_user as role,
                   (select pg_get_userbyid(relowner) from pg_class where oid = to_regclass('public.audit_events')) as table_owner`,
      );
      const { role, table_owner: tableOwner } = rows[0]!;
      if (role === runtimeRole)
        throw new Error(
          `DATABASE_OWNER_URL and DATABASE_URL both connect as "${role}": the app's runtime role must be another role`,
        );
      // A database created before the two roles is owned by the app's role: hand it over once.
      if (tableOwner && tableOwner !== role && !(await isMember(tx as unknown as NodePgDatabase, tableOwner)))
        throw new Error(
          `audit_events is owned by "${tableOwner}", not by the owner role "${role}": as a superuser run REASSIGN OWNED BY "${tableOwner}" TO "${role}" in this database first`,
        );
      await migratePg(tx as never, { migrationsFolder: MIGRATIONS_FOLDER });
      await tx.execute(sql`select governance_grant_runtime_role(${runtimeRole})`);
    });
  } finally {
    await client.end();
  }
}

async function isMember(tx: NodePgDatabase, role: string): Promise<boolean> {
  const { rows } = await tx.execute<{ member: boolean }>(sql`select pg_has_role(${role}, 'USAGE') as member`);
  return rows[0]?.member === true;
}

/** node-postgres and PGlite both answer with `rows`; the shared Database type does not say so. */
async function rowsOf<T>(handle: DatabaseHandle, query: SQL): Promise<T[]> {
  return ((await handle.db.execute(query)) as unknown as { rows: T[] }).rows;
}

async function currentRole(handle: DatabaseHandle): Promise<string> {
  const rows = await rowsOf<{ role: string }>(handle, sql`select current_user as role`);
  return rows[0]!.role;
}

/** The runtime role cannot migrate: it starts only on a database the owner has brought up to date. */
async function refusePendingMigrations(handle: DatabaseHandle): Promise<void> {
  const role = await currentRole(handle);
  let applied: number;
  try {
    const rows = await rowsOf<{ last: string | null }>(
      handle,
      sql`select max(created_at)::text as last from drizzle.__drizzle_migrations`,
    );
    applied = Number(rows[0]?.last ?? 0);
  } catch (err) {
    throw new Error(
      `the role "${role}" does not own the database and cannot read its migrations (${(err as Error).message}): run the migrations as the owner (DATABASE_OWNER_URL)`,
    );
  }
  const pending = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER }).filter((m) => m.folderMillis > applied);
  if (pending.length)
    throw new Error(
      `${pending.length} migration(s) pending and the role "${role}" may not apply them: run them as the owner (DATABASE_OWNER_URL=… tsx db/migrate.ts)`,
    );
}

async function main(): Promise<void> {
  const settings = loadSettings();
  if (!settings.databaseUrl) throw new Error('DATABASE_URL (the runtime role) is required');
  const database = await openDatabase({ url: settings.databaseUrl, poolSize: 1 });
  try {
    const done = await migrate(database);
    console.log(
      done === 'checked'
        ? '[migrate] nothing pending (checked as the runtime role)'
        : `[migrate] migrations applied${ownerUrlFromEnv() ? '; runtime role granted' : ''}`,
    );
  } finally {
    await database.close();
  }
}

/** The one-shot migrator: `tsx db/migrate.ts`, or dist/node/migrate.mjs (scripts/node-build.ts). */
export function runMigrate(): void {
  main().catch((err) => {
    console.error(`[migrate] ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) runMigrate();
