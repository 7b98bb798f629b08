/**
 * One database handle for the API, the worker and the scripts: PostgreSQL
 * when DATABASE_URL is set, otherwise embedded PGlite in the data folder so a
 * newcomer needs nothing installed.
 */
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import pg from 'pg';
import * as schema from './schema';

export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface DatabaseHandle {
  db: Database;
  kind: 'postgres' | 'pglite';
  close(): Promise<void>;
}

/**
 * A pool client with an 'error' listener from birth. The pool listens to its
 * clients only once they have connected, and node-postgres emits an 'error'
 * event when a connection it is still setting up is cut: with no listener,
 * that event ends the process. A PostgreSQL restart killed the profile's
 * worker that way (tests/production/postgresRestart.test.ts). The error
 * still reaches whoever waits on that client (its connect or query fails);
 * here it is only logged.
 */
class ListenedClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    this.on('error', (err: Error) => console.error(`[db] connection lost: ${err.message}`));
  }
}

export async function openDatabase(options: {
  url?: string;
  pgliteDir?: string;
  poolSize?: number;
  /** Shown in pg_stat_activity, so an operator (or a fault test) can tell the worker's sessions from the API's. */
  applicationName?: string;
}): Promise<DatabaseHandle> {
  if (options.url) {
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      application_name: options.applicationName,
      // The product's queries are short OLTP reads and writes: PostgreSQL's JIT
      // (past jit_above_cost) spent 1.9–2.1 s compiling a scoped list's count
      // on the reads bench's seed, for a query that runs in milliseconds.
      options: '-c jit=off',
      Client: ListenedClient,
      // A server that crashed or vanished must fail a call, not hold it for
      // minutes: callers (activities, the API's retries) then try again.
      // The limits are policy defaults, generous for this product's queries.
      connectionTimeoutMillis: 10_000,
      query_timeout: 120_000,
      keepAlive: true,
    });
    // An idle connection the server closes (restart, failover) must not crash
    // the process: the pool drops it and the next query opens a new one.
    pool.on('error', (err) => console.error(`[db] idle connection lost: ${err.message}`));
    const db = drizzlePg(pool, { schema, casing: 'snake_case' }) as unknown as Database;
    return { db, kind: 'postgres', close: () => pool.end() };
  }
  if (!options.pgliteDir) throw new Error('openDatabase needs a url or a pgliteDir');
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle: drizzlePglite } = await import('drizzle-orm/pglite');
  const client = new PGlite(options.pgliteDir);
  await client.waitReady;
  const db = drizzlePglite(client, { schema, casing: 'snake_case' }) as unknown as Database;
  return { db, kind: 'pglite', close: () => client.close() };
}
