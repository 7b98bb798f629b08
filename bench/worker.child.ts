/**
 * The worker in a process of its own, for `npm run bench -- --worker process`
 * (production runs the worker as its own service). Forked by
 * approval.bench.ts and campaign.bench.ts with an IPC channel: says "ready"
 * once polling, stops cleanly on "stop" (or when the parent goes away).
 * Connects as the parent does: BENCH_TEMPORAL_* from support.ts's
 * `startTemporal(…).childEnv()` (mutual TLS on the production-shaped server).
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { openDatabase } from '../db/client';
import { dataConverterFor } from '../platform/codec';
import { connectClient, connectWorker } from '../platform/temporalConnection';
import { createWorker } from '../worker';
import { benchWorkerCache, temporalTlsFromEnv } from './support';

async function main(): Promise<void> {
  const address = process.env.BENCH_TEMPORAL_ADDRESS;
  const url = process.env.BENCH_DATABASE_URL;
  const taskQueue = process.env.BENCH_TASK_QUEUE;
  const namespace = process.env.BENCH_NAMESPACE ?? 'default';
  if (!address || !url || !taskQueue || !process.send) {
    throw new Error('worker.child.ts is forked by bench/approval.bench.ts (needs BENCH_* env and an IPC channel)');
  }
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  const database = await openDatabase({ url, poolSize: 10 });
  // Sealed with the parent's key (BENCH_CODEC_KEYS), as in production.
  const temporalSettings = {
    temporalNamespace: namespace,
    temporalTls: temporalTlsFromEnv(),
    codecKeys: process.env.BENCH_CODEC_KEYS,
  };
  const connection = await connectWorker(address, temporalSettings);
  const { connection: clientConnection, client } = await connectClient(address, temporalSettings);
  // `temporal` is for activities that start workflows themselves (not on the
  // approval path). A variable, not a literal, so this compiles whether or
  // not WorkerDeps has that field yet.
  const deps = {
    connection,
    db: database.db,
    namespace,
    taskQueue,
    temporal: client,
    dataConverter: dataConverterFor(temporalSettings),
    maxCachedWorkflows: benchWorkerCache(),
  };
  const worker = await createWorker(deps);
  const stop = () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
  };
  process.on('message', (message) => {
    if (message === 'stop') stop();
  });
  process.on('disconnect', () => {
    // The parent is gone (perhaps killed): stop, and do not linger if the
    // server went with it.
    stop();
    setTimeout(() => process.exit(1), 10_000).unref();
  });
  // Ctrl-C reaches the whole process group: the parent decides when to stop.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', stop);
  const running = worker.run();
  process.send('ready');
  try {
    await running;
  } finally {
    await clientConnection.close();
    await connection.close();
    await database.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error('[bench worker]', err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
