/**
 * Starts the Temporal CLI's dev server with the product's search attributes.
 * In-memory for tests (several times faster than a database file, which
 * fsyncs); a file in the data folder for `npm start`, so cases survive a
 * restart.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { SEARCH_ATTRIBUTE_KEYS } from '../workflows/searchAttributes';
import { ensureTemporalCli } from './temporalCli';

export interface DevServerOptions {
  dbFilename?: string;
  uiPort?: number;
  /**
   * The codec server the UI calls to show sealed payloads in clear
   * (`--ui-codec-endpoint`): the API's /codec (api/routes/codec.ts).
   */
  uiCodecEndpoint?: string;
  port?: number;
  namespace?: string;
  log?: (line: string) => void;
}

export interface DevServer {
  address: string;
  env: TestWorkflowEnvironment;
  teardown(): Promise<void>;
}

export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const log = options.log ?? console.log;
  const cli = await ensureTemporalCli(log);
  if (!cli) log('No Temporal CLI found or built; falling back to the SDK download (needs internet).');
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: cli ? { type: 'existing-path', path: cli } : { type: 'cached-download' },
      namespace: options.namespace ?? 'default',
      dbFilename: options.dbFilename,
      port: options.port,
      ui: options.uiPort !== undefined,
      uiPort: options.uiPort,
      searchAttributes: SEARCH_ATTRIBUTE_KEYS,
      log: { format: 'pretty', level: 'warn' },
      // Activities scheduled by a workflow task go straight back to the
      // worker that completed it, without a round trip through the task
      // queue: each read-model write (and so each step's answer) is sooner.
      extraArgs: [
        '--dynamic-config-value',
        'system.enableActivityEagerExecution=true',
        ...(options.uiCodecEndpoint ? ['--ui-codec-endpoint', options.uiCodecEndpoint] : []),
      ],
    },
  });
  return { address: env.address, env, teardown: () => env.teardown() };
}
