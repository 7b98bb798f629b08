/**
 * The worker: runs the governance workflows and their activities. `npm start`
 * runs it in-process; production runs `tsx worker.ts` as its own service.
 */
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { createActivities } from './activities';
import type { SupplierCheckProvider } from './activities/suppliers';
import type { Database } from './db/client';
import { openDatabase } from './db/client';
import { migrate } from './db/migrate';
import { dataConverterFor } from './platform/codec';
import { loadSettings } from './platform/config';
import { connectClient, connectWorker } from './platform/temporalConnection';

export const WORKFLOWS_PATH = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));

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
}

export async function createWorker(deps: WorkerDeps): Promise<Worker> {
  return Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: deps.taskQueue,
    dataConverter: deps.dataConverter,
    ...(deps.workflowBundle ? { workflowBundle: deps.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: createActivities({
      db: deps.db,
      clock: deps.clock,
      temporal: deps.temporal,
      taskQueue: deps.taskQueue,
      checkProvider: deps.checkProvider,
    }),
  });
}

async function main(): Promise<void> {
  const settings = loadSettings();
  if (!settings.temporalAddress) throw new Error('TEMPORAL_ADDRESS is required to run the worker on its own');
  const database = await openDatabase({ url: settings.databaseUrl, pgliteDir: `${settings.dataDir}/pglite` });
  await migrate(database);
  const connection = await connectWorker(settings.temporalAddress, settings);
  const { connection: clientConnection, client } = await connectClient(settings.temporalAddress, settings);
  const worker = await createWorker({
    connection,
    temporal: client,
    dataConverter: dataConverterFor(settings),
    db: database.db,
    namespace: settings.temporalNamespace,
    taskQueue: settings.taskQueue,
  });
  console.log(`worker polling task queue "${settings.taskQueue}" on ${settings.temporalAddress}`);
  await worker.run();
  await clientConnection.close();
  await connection.close();
  await database.close();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
