/**
 * `npm start`: the whole product in one command on a developer's machine.
 * Temporal (TEMPORAL_ADDRESS, or the CLI's dev server with its state in
 * .data/), the database (DATABASE_URL, or embedded PGlite in .data/) with
 * migrations, the worker and the API. Ctrl-C stops everything cleanly.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { serve } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { createApp } from '../api/app';
import { openDatabase } from '../db/client';
import { migrate } from '../db/migrate';
import { loadSettings } from '../platform/config';
import { startDevServer, type DevServer } from '../platform/devServer';
import { ensureSearchAttributes, searchAttributeCommands } from '../platform/searchAttributes';
import { seedDemoUsers } from '../platform/seed';
import { createWorker } from '../worker';

const log = (line: string) => console.log(`[start] ${line}`);

async function main(): Promise<void> {
  const settings = loadSettings();
  mkdirSync(settings.dataDir, { recursive: true });
  const cleanups: Array<{ name: string; run: () => Promise<unknown> }> = [];
  const onStop = (name: string, run: () => Promise<unknown>) => cleanups.push({ name, run });
  const shutdown = async (code: number) => {
    for (const { name, run } of cleanups.reverse()) {
      log(`stopping ${name}…`);
      await run().catch((err) => console.error(`[start] while stopping ${name}:`, err));
    }
    process.exit(code);
  };

  try {
    let devServer: DevServer | undefined;
    let address = settings.temporalAddress;
    if (!address) {
      log('starting the Temporal dev server (state in .data/temporal.db, UI on :8233)…');
      devServer = await startDevServer({
        dbFilename: path.join(settings.dataDir, 'temporal.db'),
        port: 7233,
        uiPort: 8233,
        namespace: settings.temporalNamespace,
        log,
      });
      address = devServer.address;
      onStop('the Temporal dev server', () => devServer!.teardown());
    }

    const database = await openDatabase({
      url: settings.databaseUrl,
      pgliteDir: path.join(settings.dataDir, 'pglite'),
    });
    onStop('the database', () => database.close());
    log(
      `database: ${database.kind === 'pglite' ? 'embedded PGlite in .data/pglite' : 'PostgreSQL from DATABASE_URL'}; applying migrations…`,
    );
    await migrate(database);
    const demo =
      !settings.databaseUrl || process.env.SEED_DEMO_USERS === 'true' ? await seedDemoUsers(database.db) : [];

    const connection = await Connection.connect({ address });
    onStop('the Temporal client', () => connection.close());
    try {
      const added = await ensureSearchAttributes(connection, settings.temporalNamespace);
      if (added.length) log(`registered search attributes: ${added.join(', ')}`);
    } catch (err) {
      log(
        `could not check search attributes (${(err as Error).message}); on a production cluster run:\n  ${searchAttributeCommands(settings.temporalNamespace).join('\n  ')}`,
      );
    }
    const temporal = new Client({ connection, namespace: settings.temporalNamespace });

    const workerConnection = await NativeConnection.connect({ address });
    onStop('the worker connection', () => workerConnection.close());
    log('bundling workflows and starting the worker…');
    const worker = await createWorker({
      connection: workerConnection,
      temporal,
      db: database.db,
      namespace: settings.temporalNamespace,
      taskQueue: settings.taskQueue,
    });
    const running = worker.run();
    onStop('the worker', async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    });

    const app = createApp({ db: database.db, temporal, settings });
    const server = serve({ fetch: app.fetch, port: settings.port });
    onStop(
      'the API',
      () =>
        new Promise((resolve) => {
          server.close(resolve);
          // Keep-alive clients would otherwise hold the close open.
          if ('closeIdleConnections' in server) server.closeIdleConnections();
        }),
    );
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });

    const api = `http://localhost:${settings.port}`;
    console.log(`
Governance platform is running · 治理平台已启动
  API          ${api}
  API docs     ${api}/docs   (OpenAPI: ${api}/openapi.json)
  Temporal UI  ${settings.temporalUiUrl}${devServer ? '' : ' (your cluster)'}
  Temporal     ${address}  namespace ${settings.temporalNamespace}, task queue ${settings.taskQueue}
${demo.length ? `\nDemo users (Authorization: Bearer <token>):\n${demo.map((u) => `  ${u.token.padEnd(22)} ${u.id.padEnd(18)} ${u.roles.join(', ')}`).join('\n')}\n` : ''}
Press Ctrl-C to stop.`);

    running.catch(async (err) => {
      console.error('[start] the worker stopped:', err);
      await shutdown(1);
    });
    let stopping = false;
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.on(signal, () => {
        if (stopping) return;
        stopping = true;
        log('stopping…');
        void shutdown(0);
      });
    }
  } catch (err) {
    console.error('[start] could not start:', err instanceof Error ? err.message : err);
    await shutdown(1);
  }
}

void main();
