/**
 * `npm start`: the whole product in one command on a developer's machine.
 * Temporal (TEMPORAL_ADDRESS, or the CLI's dev server with its state in
 * .data/), the database (DATABASE_URL, or embedded PGlite in .data/) with
 * migrations, the worker and the API. Ctrl-C stops everything cleanly.
 *
 * `startProduct()` is the same product without the dev server, the banner
 * and the signals: the README test (tests/support/product.ts) starts it
 * inside the test run, so what the README's walkthroughs meet is what
 * `npm start` serves.
 *
 * Logs and traces are set up as the worker and the API set them up in
 * production (worker.ts, api/server.ts): JSON lines at LOG_LEVEL (pino), the
 * SDK's own lines and metrics through the Temporal runtime, and OpenTelemetry
 * traces when OTEL_EXPORTER_OTLP_ENDPOINT is set.
 */
import { existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import type { Client } from '@temporalio/client';
import { createApp } from '../api/app';
import { ensureAuditAnchoring } from '../db/auditAnchors';
import { openDatabase, type DatabaseHandle } from '../db/client';
import { migrate } from '../db/migrate';
import { dataConverterFor, ensureDevCodecKeys } from '../platform/codec';
import { loadSettings, type Settings } from '../platform/config';
import { configureLogger, logger as processLogger } from '../platform/logger';
import { connectClient, connectWorker } from '../platform/temporalConnection';
import { startDevServer, type DevServer } from '../platform/devServer';
import { startMailpit } from '../platform/mailpit';
import { ensureSearchAttributes, searchAttributeCommands } from '../platform/searchAttributes';
import { demoSeedingFor, refuseExposedDemoTokens, seedDemoUsers, type DemoUser } from '../platform/seed';
import { startTracing, type Tracing } from '../platform/tracing';
import { createWorker, installRuntime, type WorkerDeps } from '../worker';

export interface ProductOptions extends Settings {
  temporalAddress: string;
  /**
   * `npm start` seeds them only into the embedded database, on loopback,
   * outside production (`demoSeedingFor`); the README test into its own
   * throwaway database.
   */
  seedDemoUsers: boolean;
  /** A prebuilt workflow bundle (tests share one); otherwise bundled from source. */
  workflowBundle?: WorkerDeps['workflowBundle'];
  /** Started tracing (platform/tracing.ts), as the worker and the API start it; off unless given. */
  tracing?: Tracing;
  /** Where the API puts an unexpected error's plain-text line; stderr unless given. */
  appLog?: (line: string) => void;
  log?: (line: string) => void;
}

export interface Product {
  /** The API's base URL; `port: 0` in the options means a free port. */
  url: string;
  port: number;
  database: DatabaseHandle;
  temporal: Client;
  demoUsers: DemoUser[];
  /** The worker's run: rejects if the worker stops by itself. */
  worker: Promise<void>;
  /** Stops the API, the worker and the connections, in that order. */
  stop(): Promise<void>;
}

/** The database with migrations, the worker and the API server, against a running Temporal. */
export async function startProduct(options: ProductOptions): Promise<Product> {
  const log = options.log ?? (() => undefined);
  const cleanups: Array<{ name: string; run: () => Promise<unknown> }> = [];
  const onStop = (name: string, run: () => Promise<unknown>) => cleanups.push({ name, run });
  const stop = async () => {
    for (const { name, run } of cleanups.splice(0).reverse()) {
      log(`stopping ${name}…`);
      await run().catch((err) => console.error(`[start] while stopping ${name}:`, err));
    }
  };

  try {
    const address = options.temporalAddress;
    const database = await openDatabase({
      url: options.databaseUrl,
      pgliteDir: path.join(options.dataDir, 'pglite'),
    });
    onStop('the database', () => database.close());
    log(
      `database: ${database.kind === 'pglite' ? 'embedded PGlite in .data/pglite' : 'PostgreSQL from DATABASE_URL'}; applying migrations…`,
    );
    await migrate(database);
    const demoUsers = options.seedDemoUsers ? await seedDemoUsers(database.db, { ttlDays: options.tokenTtlDays }) : [];
    // Loopback unless HOST says otherwise: the demo users' tokens are public,
    // so a developer's product must not answer the whole network; and no
    // product that does, or runs in production, starts with one valid.
    const hostname = options.host ?? '127.0.0.1';
    await refuseExposedDemoTokens(database.db, { host: hostname, production: options.production });

    const { connection, client: temporal } = await connectClient(address, options);
    onStop('the Temporal client', () => connection.close());
    try {
      const added = await ensureSearchAttributes(connection, options.temporalNamespace);
      if (added.length) log(`registered search attributes: ${added.join(', ')}`);
    } catch (err) {
      log(
        `could not check search attributes (${(err as Error).message}); on a production cluster run:\n  ${searchAttributeCommands(options.temporalNamespace).join('\n  ')}`,
      );
    }

    const workerConnection = await connectWorker(address, options);
    onStop('the worker connection', () => workerConnection.close());
    log('bundling workflows and starting the worker…');
    const worker = await createWorker({
      connection: workerConnection,
      temporal,
      db: database.db,
      namespace: options.temporalNamespace,
      taskQueue: options.taskQueue,
      workflowBundle: options.workflowBundle,
      dataConverter: dataConverterFor(options),
      tracing: options.tracing,
      maxCachedWorkflows: options.workerMaxCachedWorkflows,
    });
    const running = worker.run();
    void ensureAuditAnchoring({ temporal, db: database.db, taskQueue: options.taskQueue, settings: options, log });
    onStop('the worker', async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    });

    const app = createApp({ db: database.db, temporal, settings: options }, { log: options.appLog });
    const server = serve({ fetch: app.fetch, port: options.port, hostname });
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
    const port = (server.address() as AddressInfo).port;

    return { url: `http://localhost:${port}`, port, database, temporal, demoUsers, worker: running, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

const log = (line: string) => console.log(`[start] ${line}`);

async function main(): Promise<void> {
  const settings = loadSettings();
  mkdirSync(settings.dataDir, { recursive: true });
  let devServer: DevServer | undefined;
  let product: Product | undefined;
  let tracing: Tracing | undefined;
  const shutdown = async (code: number) => {
    await product?.stop();
    if (devServer) {
      log('stopping the Temporal dev server…');
      await devServer.teardown().catch((err) => console.error('[start] while stopping the Temporal dev server:', err));
    }
    await tracing?.shutdown().catch((err) => console.error('[start] while flushing traces:', err));
    process.exit(code);
  };

  try {
    // The worker's and the API's set-up (worker.ts, api/server.ts), in the order they need: the
    // logger first; tracing before the first query and Temporal client, so both are traced from the
    // start; the Temporal runtime before the first connection — the dev server's included.
    const productLog = configureLogger(settings, 'start');
    tracing = await startTracing({ serviceName: 'governance-start', otlpEndpoint: settings.otlpEndpoint });
    installRuntime(settings, productLog);
    if (tracing.enabled) log(`traces go to ${settings.otlpEndpoint}`);

    // Decided before anything starts: SEED_DEMO_USERS=true with a DATABASE_URL is refused here.
    const seeding = demoSeedingFor({ ...settings, host: settings.host ?? '127.0.0.1' });
    if (!seeding.seed && !settings.databaseUrl) log(seeding.why);
    // Every payload sent to Temporal is sealed (platform/codec.ts); production
    // refuses to start without GOVERNANCE_CODEC_KEYS, a developer's machine
    // gets a key of its own, generated once.
    if (!settings.codecKeys && !settings.production) {
      const dev = ensureDevCodecKeys(settings.dataDir);
      settings.codecKeys = dev.codecKeys;
      log(
        dev.created
          ? `generated a payload encryption key into ${dev.file} (mode 0600); set GOVERNANCE_CODEC_KEYS to use your own`
          : `payloads encrypted with the key in ${dev.file}`,
      );
      if (dev.created && existsSync(path.join(settings.dataDir, 'temporal.db'))) {
        log(
          'cases already in .data/temporal.db were recorded in clear: start with GOVERNANCE_CODEC_ACCEPT_PLAINTEXT=1 until they close, or remove .data/ to start afresh',
        );
      }
    }
    // ---- Mailpit (issue 13 §8): without SMTP_URL, mail goes to a local Mailpit whose UI shows it.
    if (!settings.delivery.smtpUrl && !settings.production) {
      try {
        const mailpit = await startMailpit({ log });
        settings.delivery.smtpUrl = mailpit.smtpUrl;
        // The worker's delivery activities read SMTP_URL from the environment (activities/delivery.ts).
        process.env.SMTP_URL = mailpit.smtpUrl;
        process.once('exit', () => mailpit.kill());
        log(`mail goes to Mailpit (${mailpit.smtpUrl}); read it at ${mailpit.httpUrl}`);
      } catch (err) {
        log(`no Mailpit, so no mail delivery (${(err as Error).message}); set SMTP_URL to use your server`);
      }
    }
    // ---- end Mailpit
    let address = settings.temporalAddress;
    const codecEndpoint = `http://localhost:${settings.port}/codec`;
    if (!address) {
      log('starting the Temporal dev server (state in .data/temporal.db, UI on :8233, decoding through the API)…');
      devServer = await startDevServer({
        dbFilename: path.join(settings.dataDir, 'temporal.db'),
        port: 7233,
        uiPort: 8233,
        uiCodecEndpoint: codecEndpoint,
        namespace: settings.temporalNamespace,
        log,
      });
      address = devServer.address;
    }

    product = await startProduct({
      ...settings,
      temporalAddress: address,
      seedDemoUsers: seeding.seed,
      tracing,
      // As api/server.ts: the request lines (api/observability.ts) log an unexpected error as JSON.
      appLog: (line) => processLogger.debug(line),
      log,
    });
    const { url: api, demoUsers: demo } = product;
    console.log(`
Governance platform is running · 治理平台已启动
  Console      ${api}/console/   (sign in as a person; the demo users' password is in the README)
  API          ${api}
  API docs     ${api}/docs   (OpenAPI: ${api}/openapi.json)
  Temporal UI  ${settings.temporalUiUrl}${devServer ? '' : ' (your cluster)'}
  Codec server ${codecEndpoint}   (payloads are encrypted; the UI decodes through it with an oversight token)
  Temporal     ${address}  namespace ${settings.temporalNamespace}, task queue ${settings.taskQueue}
${demo.length ? `\nDemo users (Authorization: Bearer <token>):\n${demo.map((u) => `  ${u.token.padEnd(22)} ${u.id.padEnd(18)} ${u.roles.join(', ')}`).join('\n')}\n` : ''}
Press Ctrl-C to stop.`);

    product.worker.catch(async (err) => {
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

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) void main();
