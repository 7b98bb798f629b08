/**
 * The worker: runs the governance workflows and their activities. `npm start`
 * runs it in-process; production runs it as its own service (dist/node/worker.mjs).
 */
import { fileURLToPath } from 'node:url';
import { NativeConnection, Runtime, Worker, type BundleOptions, type WorkerOptions } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { createActivities } from './activities';
import type { SupplierCheckProvider } from './activities/suppliers';
import type { Database } from './db/client';
import { ensureAuditAnchoring } from './db/auditAnchors';
import { openDatabase } from './db/client';
import { migrate } from './db/migrate';
import { dataConverterFor, FAILURE_CONVERTER_PATH, REFUSED_PAYLOADS_INTERCEPTOR } from './platform/codec';
import { loadSettings, type Settings } from './platform/config';
import { configureLogger, logger as processLogger, temporalLogger, type Logger } from './platform/logger';
import { connectClient, connectWorker } from './platform/temporalConnection';
import { startTracing, tracingOff, WORKFLOW_INTERCEPTOR_MODULES, type Tracing } from './platform/tracing';

export const WORKFLOWS_PATH = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));

/**
 * What every workflow bundle is built from — here, in the tests' globalSetup
 * and in the production profile: the workflows, the interceptor that refuses
 * payloads the codec could not open (forged without the key), before any
 * workflow code sees them, and the tracing interceptors
 * (platform/workflowTracing.ts), which do nothing unless a call brings a trace;
 * and the failure converter that seals refusals' messages (platform/codec.ts).
 */
export const WORKFLOW_BUNDLE_OPTIONS = {
  workflowsPath: WORKFLOWS_PATH,
  workflowInterceptorModules: [REFUSED_PAYLOADS_INTERCEPTOR, ...WORKFLOW_INTERCEPTOR_MODULES],
  failureConverterPath: FAILURE_CONVERTER_PATH,
  webpackConfigHook: oneChunk,
} satisfies Partial<BundleOptions>;

type WebpackConfig = Parameters<NonNullable<BundleOptions['webpackConfigHook']>>[0];

/**
 * The bundle is one script the worker evaluates: workflows/index.ts loads
 * each workflow with import(), which webpack would otherwise split into
 * chunks loaded on demand (and the SDK keeps only the first file). Without
 * async chunks the modules stay in the one chunk and import() evaluates a
 * module when first called.
 */
function oneChunk(config: WebpackConfig): WebpackConfig {
  return { ...config, output: { ...config.output, asyncChunks: false } };
}

/**
 * Workflow tasks in progress at once. Reused V8 context, one workflow thread
 * (the SDK's defaults, set here on purpose): the thread runs activations one
 * after another, so more tasks in flight than the widest burst (16 starts:
 * the campaign's concurrency) only queue activations in memory. A task in
 * progress needs its workflow cached, so never more than the cache holds
 * (the SDK would cut it down with a warning).
 */
export const MAX_CONCURRENT_WORKFLOW_TASKS = 16;

/**
 * The Worker.create options that set the worker's memory (README "Memory",
 * bench/memory.bench.ts), from the sticky cache's size.
 */
export function workerMemoryOptions(maxCachedWorkflows: number | undefined) {
  return {
    ...(maxCachedWorkflows !== undefined ? { maxCachedWorkflows } : {}),
    // One V8 context per thread, every cached workflow in it (the SDK default; 3× the memory without it).
    reuseV8Context: true,
    // One thread: each is a V8 isolate of its own, with its heap, the 6 MB bundle and its source map; with
    // reuseV8Context a second buys nothing (SDK guidance) but that memory, and there are 2 cores.
    workflowThreadPoolSize: 1,
    maxConcurrentWorkflowTaskExecutions: Math.max(
      2,
      Math.min(MAX_CONCURRENT_WORKFLOW_TASKS, maxCachedWorkflows ?? MAX_CONCURRENT_WORKFLOW_TASKS),
    ),
  } satisfies Partial<WorkerOptions>;
}

export interface WorkerDeps {
  connection: NativeConnection;
  db: Database;
  namespace: string;
  taskQueue: string;
  /** For activities that start reviews and manage Schedules. */
  temporal: Client;
  checkProvider?: SupplierCheckProvider;
  /** A prebuilt bundle (tests build one per run); otherwise bundled from source. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  clock?: () => Date;
  /** The payload codec of platform/codec.ts: the same as the client's. */
  dataConverter?: DataConverter;
  /** Started tracing (platform/tracing.ts); without it, spans of traced callers' workflows are dropped. */
  tracing?: Tracing;
  /** The sticky cache's size (Settings.workerMaxCachedWorkflows); the SDK's default when unset (tests). */
  maxCachedWorkflows?: number;
}

export async function createWorker(deps: WorkerDeps): Promise<Worker> {
  const { interceptors, sinks } = (deps.tracing ?? tracingOff).workerOptions();
  return Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: deps.taskQueue,
    dataConverter: deps.dataConverter,
    ...(deps.workflowBundle
      ? { workflowBundle: deps.workflowBundle, interceptors }
      : {
          workflowsPath: WORKFLOW_BUNDLE_OPTIONS.workflowsPath,
          bundlerOptions: { webpackConfigHook: WORKFLOW_BUNDLE_OPTIONS.webpackConfigHook },
          interceptors: { ...interceptors, workflowModules: WORKFLOW_BUNDLE_OPTIONS.workflowInterceptorModules },
        }),
    sinks,
    ...workerMemoryOptions(deps.maxCachedWorkflows),
    activities: createActivities({
      db: deps.db,
      clock: deps.clock,
      temporal: deps.temporal,
      taskQueue: deps.taskQueue,
      checkProvider: deps.checkProvider,
    }),
  });
}

/**
 * The process's Temporal runtime, once, before the first connection: the
 * SDK's log lines (its own, and those of workflows and activities, with their
 * workflowId, runId, activityType…) go to pino, native ones included; its
 * metrics go to a Prometheus endpoint at WORKER_METRICS_ADDRESS when set.
 * Tests install their own runtime (tests/support/harness.ts).
 */
export function installRuntime(settings: Pick<Settings, 'workerMetricsAddress'>, log: Logger): void {
  Runtime.install({
    logger: temporalLogger(log),
    telemetryOptions: {
      logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} },
      ...(settings.workerMetricsAddress
        ? { metrics: { prometheus: { bindAddress: settings.workerMetricsAddress } } }
        : {}),
    },
  });
}

async function main(): Promise<void> {
  // How long each start-up step took, in the "worker polling" line: a restart is downtime.
  const startup: Record<string, number> = { modules: Math.round(process.uptime() * 1000) };
  let mark = performance.now();
  const took = (step: string) => {
    const now = performance.now();
    startup[step] = Math.round(now - mark);
    mark = now;
  };
  const settings = loadSettings();
  // Every line of this process says it is the worker, the SDK's included.
  const log = configureLogger(settings, 'worker');
  if (!settings.temporalAddress) throw new Error('TEMPORAL_ADDRESS is required to run the worker on its own');
  // Before the first connection and query: the pg instrumentation and the client interceptor see them all.
  const tracing = await startTracing({ serviceName: 'governance-worker', otlpEndpoint: settings.otlpEndpoint });
  installRuntime(settings, log);
  took('tracing');
  const database = await openDatabase({
    url: settings.databaseUrl,
    pgliteDir: `${settings.dataDir}/pglite`,
    applicationName: 'governance-worker',
  });
  await migrate(database);
  took('database');
  const connection = await connectWorker(settings.temporalAddress, settings);
  const { connection: clientConnection, client } = await connectClient(settings.temporalAddress, settings);
  took('temporal');
  const worker = await createWorker({
    connection,
    temporal: client,
    dataConverter: dataConverterFor(settings),
    db: database.db,
    namespace: settings.temporalNamespace,
    taskQueue: settings.taskQueue,
    // A prebuilt bundle (the production test profile): a restart takes a second, not a re-bundle.
    workflowBundle: process.env.GOVERNANCE_WORKFLOW_BUNDLE
      ? { codePath: process.env.GOVERNANCE_WORKFLOW_BUNDLE }
      : undefined,
    tracing,
    maxCachedWorkflows: settings.workerMaxCachedWorkflows,
  });
  took('worker');
  log.info(
    {
      startupMs: startup,
      taskQueue: settings.taskQueue,
      temporalAddress: settings.temporalAddress,
      metricsAddress: settings.workerMetricsAddress,
      maxCachedWorkflows: settings.workerMaxCachedWorkflows,
      tracing: tracing.enabled,
    },
    'worker polling',
  );
  void ensureAuditAnchoring({ temporal: client, db: database.db, taskQueue: settings.taskQueue, settings });
  await worker.run();
  await clientConnection.close();
  await connection.close();
  await database.close();
  await tracing.shutdown();
}

/** The worker process: `tsx worker.ts`, or dist/node/worker.mjs (scripts/node-build.ts). */
export function runWorker(): void {
  main().catch((err) => {
    // Settings that failed to load left the logger silent: the reason is still said.
    if (processLogger.level === 'silent') processLogger.level = 'info';
    processLogger.fatal({ err }, 'worker stopped');
    process.exit(1);
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) runWorker();
