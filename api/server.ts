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
import { connectClient } from '../platform/temporalConnection';
import { refuseExposedDemoTokens, StartRefused } from '../platform/seed';
import { createApp } from './app';

async function main(): Promise<void> {
  const settings = loadSettings();
  if (!settings.temporalAddress) throw new Error('TEMPORAL_ADDRESS is required to run the API on its own');
  const database = await openDatabase({ url: settings.databaseUrl, pgliteDir: `${settings.dataDir}/pglite` });
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
  const app = createApp({ db: database.db, temporal, settings });
  const server = serve({ fetch: app.fetch, port: settings.port, hostname: settings.host }, (info) => {
    console.log(`API listening on http://localhost:${info.port} (docs at /docs)`);
  });
  const stop = () => {
    server.close(async () => {
      await connection.close();
      await database.close();
      process.exit(0);
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err instanceof StartRefused ? `[api] ${err.message}` : err);
    process.exit(1);
  });
}
