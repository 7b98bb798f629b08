/**
 * Probes for orchestrators and load balancers, unauthenticated and cheap:
 * - GET /healthz — the process is alive and answering; touches nothing else
 *   (a liveness probe must not restart the API because the database is down).
 * - GET /readyz — it can serve: PostgreSQL answers `select 1` and the
 *   Temporal frontend answers GetSystemInfo, each within READY_TIMEOUT_MS;
 *   503 naming what is down otherwise (a readiness probe takes it out of
 *   rotation until they are back).
 * - GET /health — the older name of /readyz, kept for existing callers.
 */
import { Hono } from 'hono';
import { sql } from 'drizzle-orm';
import type { AppEnv } from '../auth';
import type { AppDeps } from './common';

/** A dependency slower than this counts as down: a probe must answer quickly. */
export const READY_TIMEOUT_MS = 2_000;

type Check = 'ok' | 'unavailable';

async function probe(check: () => Promise<unknown>): Promise<Check> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), READY_TIMEOUT_MS);
  });
  try {
    await Promise.race([check(), timeout]);
    return 'ok';
  } catch {
    return 'unavailable';
  } finally {
    clearTimeout(timer);
  }
}

export function healthRoutes({ db, temporal }: Pick<AppDeps, 'db' | 'temporal'>) {
  const app = new Hono<AppEnv>();

  app.get('/healthz', (c) => {
    c.header('cache-control', 'no-store');
    return c.json({ status: 'ok' }, 200);
  });

  const readiness = async () => {
    const [database, temporalCheck] = await Promise.all([
      probe(() => db.execute(sql`select 1`)),
      probe(() => temporal.workflowService.getSystemInfo({})),
    ]);
    const down = [...(database === 'ok' ? [] : ['database']), ...(temporalCheck === 'ok' ? [] : ['temporal'])];
    return { ok: down.length === 0, database, temporal: temporalCheck, down };
  };

  app.get('/readyz', async (c) => {
    const { ok, database, temporal: temporalCheck, down } = await readiness();
    c.header('cache-control', 'no-store');
    return c.json(
      ok
        ? { status: 'ready', database, temporal: temporalCheck }
        : {
            status: 'unavailable',
            message: `not ready: ${down.join(' and ')} unavailable`,
            database,
            temporal: temporalCheck,
            down,
          },
      ok ? 200 : 503,
    );
  });

  app.get('/health', async (c) => {
    const { ok, database, temporal: temporalCheck } = await readiness();
    return c.json({ status: ok ? 'ok' : 'degraded', database, temporal: temporalCheck }, ok ? 200 : 503);
  });

  return app;
}
