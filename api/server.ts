/**
 * Runs the API on its own (production). `npm start` runs it in-process with
 * the worker instead (scripts/start.ts). Listens on HOST, or on every
 * interface (a container's port is published by its runtime); refuses to
 * start while a public demo token is valid in the database, since it then
 * runs in production or answers beyond loopback.
 */
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { openDatabase } from '../db/client';
import { migrate } from '../db/migrate';
import { loadSettings } from '../platform/config';
import { configureLogger, logger as log } from '../platform/logger';
import { connectClient } from '../platform/temporalConnection';
import { refuseExposedDemoTokens, StartRefused } from '../platform/seed';
import { startTracing } from '../platform/tracing';
import { createApp } from './app';

async function main(): Promise<void> {
  const settings = loadSettings();
  // Every line of this process says it is the API, the request lines of api/observability.ts included.
  configureLogger(settings, 'api');
  if (!settings.temporalAddress) throw new Error('TEMPORAL_ADDRESS is required to run the API on its own');
  // Before the first query and the Temporal client: both are traced from the start.
  const tracing = await startTracing({ serviceName: 'governance-api', otlpEndpoint: settings.otlpEndpoint });
  const database = await openDatabase({
    url: settings.databaseUrl,
    pgliteDir: `${settings.dataDir}/pglite`,
    applicationName: 'governance-api',
  });
  await migrate(database);
  try {
    await refuseExposedDemoTokens(database.db, {
      host: settings.host ?? '0.0.0.0',
      production: settings.production,
    });
  } catch (err) {
    await database.close();
    throw err;
  }
  const { connection, client: temporal } = await connectClient(settings.temporalAddress, settings);
  // requestObservability (api/observability.ts) logs an unexpected error with its stack, as JSON;
  // the app's own plain-text line of it is kept at debug only.
  const app = createApp({ db: database.db, temporal, settings }, { log: (line) => log.debug(line) });
  const server = serve({ fetch: app.fetch, port: settings.port, hostname: settings.host }, (info) => {
    log.info(
      { port: info.port, tracing: tracing.enabled },
      `API listening on http://localhost:${info.port} (docs at /docs)`,
    );
  });
  if (settings.production && !settings.metricsToken) log.warn('METRICS_TOKEN is not set: GET /metrics answers 404');
  const stop = () => {
    server.close(async () => {
      await connection.close();
      await database.close();
      await tracing.shutdown();
      process.exit(0);
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** The API process: `tsx api/server.ts`, or dist/node/api.mjs (scripts/node-build.ts). */
export function runApi(): void {
  main().catch((err) => {
    // Settings that failed to load left the logger silent: the reason is still said.
    if (log.level === 'silent') log.level = 'info';
    // The refusal is the operator's sentence, worded as before JSON logs (tests/integration/seed.test.ts).
    if (err instanceof StartRefused) log.fatal(`[api] ${err.message}`);
    else log.fatal({ err }, 'API stopped');
    process.exit(1);
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) runApi();
