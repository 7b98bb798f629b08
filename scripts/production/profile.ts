/**
 * The production-shaped profile: what docker-compose.yml runs, started on
 * this machine without Docker, so that tests can inject faults into it.
 *
 *   PostgreSQL (own cluster, free port) ─► Temporal server 1.29.1 (mTLS frontend)
 *        │  temporal, temporal_visibility (role temporal)      │
 *        └─ governance (owner governance_owner,                 │
 *           runtime role governance_app) ◄── worker ────────────┤  (separate processes,
 *                                         ◄── API  ─────────────┘   NODE_ENV=production,
 *                                                                   payload codec keys)
 *
 * The worker and the API get deploy/app.env, the settings compose gives
 * them too, plus the addresses, paths and secrets of this profile.
 * `startProductionProfile()` returns a handle to kill and restart each part;
 * `npm run production:up` starts it by hand (scripts/production/up.ts).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { dataConverterFor } from '../../platform/codec';
import { PROJECT_ROOT } from '../../platform/config';
import { ensureTemporalCli } from '../../platform/temporalCli';
import { SEARCH_ATTRIBUTE_KEYS } from '../../workflows/searchAttributes';
import { WORKFLOW_BUNDLE_OPTIONS } from '../../worker';
import {
  APP_DATABASE,
  createPostgresCluster,
  TEMPORAL_DATABASE,
  VISIBILITY_DATABASE,
  type PostgresCluster,
} from './postgres';
import {
  generateCertificates,
  setUpSchemas,
  spawnServer,
  writeServerConfig,
  type TemporalPorts,
  type TemporalServerProcess,
  type TlsFiles,
} from './temporalServer';
import { ensureServerTools } from './tools';
import { buildNode } from '../node-build';

/** The one source of the app's production settings, shared with docker-compose.yml. */
export const APP_ENV_FILE = path.join(PROJECT_ROOT, 'deploy', 'app.env');

/** KEY=VALUE lines of deploy/app.env (compose's env_file format, without quoting or expansion). */
export function readAppEnv(file = APP_ENV_FILE): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#')) continue;
    const at = trimmed.indexOf('=');
    if (at <= 0) throw new Error(`${file}: not KEY=VALUE: ${line}`);
    env[trimmed.slice(0, at)] = trimmed.slice(at + 1);
  }
  return env;
}

export const COMPOSE_FILE = path.join(PROJECT_ROOT, 'docker-compose.yml');

/** A service's block under `services:` in the compose file (an anchor elsewhere may carry the same name). */
function composeServiceBlock(service: string, file: string): string {
  const text = readFileSync(file, 'utf8');
  const services = text.slice(text.search(/^services:$/m));
  return services.match(new RegExp(`^  ${service}:\\n((?:    .*\\n|[ \\t]*\\n)*)`, 'm'))?.[1] ?? '';
}

/**
 * The command docker-compose.yml gives one of the app's services, read from
 * the file itself (a flow sequence of quoted strings), so the profile starts
 * exactly what the image would: for `node`, this very Node binary.
 */
export function composeCommand(service: 'migrate' | 'worker' | 'api', file = COMPOSE_FILE): string[] {
  const line = composeServiceBlock(service, file).match(/^    command: \[(.*)\]$/m)?.[1];
  if (!line) throw new Error(`${file}: no command: [...] line for the ${service} service`);
  const command = [...line.matchAll(/'([^']*)'|"([^"]*)"/g)].map((m) => m[1] ?? m[2]!);
  if (!command.length) throw new Error(`${file}: the ${service} service's command is empty`);
  return command;
}

/**
 * The node flags of a service's compose command: what comes between `node`
 * and the script (`--enable-source-maps`, `--max-old-space-size=384`).
 */
export function composeNodeFlags(service: 'migrate' | 'worker' | 'api', file = COMPOSE_FILE): string[] {
  const [program, ...args] = composeCommand(service, file);
  if (program !== 'node') return [];
  const script = args.findIndex((a) => !a.startsWith('-'));
  return script < 0 ? args : args.slice(0, script);
}

/** The environment variables that tune a Node process rather than configure the product. */
const RUNTIME_ENV_KEYS = ['NODE_OPTIONS', 'MALLOC_ARENA_MAX', 'UV_THREADPOOL_SIZE'] as const;

/**
 * The process tuning compose gives a service in its `environment:` block
 * (NODE_OPTIONS, MALLOC_ARENA_MAX), literal values only, so the profile and
 * the memory bench run the worker as the image would, not a bare node.
 */
export function composeRuntimeEnv(service: 'migrate' | 'worker' | 'api', file = COMPOSE_FILE): Record<string, string> {
  const environment = composeServiceBlock(service, file).match(/^    environment:\n((?:      .*\n)*)/m)?.[1] ?? '';
  const env: Record<string, string> = {};
  for (const m of environment.matchAll(/^      ([A-Z_][A-Z0-9_]*): (.*)$/gm)) {
    const [, key, raw] = m;
    if (!(RUNTIME_ENV_KEYS as readonly string[]).includes(key!)) continue;
    const value = raw!.trim().replace(/^'(.*)'$|^"(.*)"$/, '$1$2');
    if (value.includes('${')) throw new Error(`${file}: ${service}.environment.${key} must be literal, got ${value}`);
    env[key!] = value;
  }
  return env;
}

/** A compose command as a child process here: `node …` runs under this Node, relative paths from the project root. */
function composeSpawnArgs(service: 'migrate' | 'worker' | 'api'): [string, string[]] {
  const [program, ...args] = composeCommand(service);
  return [program === 'node' ? process.execPath : program!, args];
}

export interface ProfileDatabases {
  app: string;
  temporal: string;
  visibility: string;
}

export interface ProductionProfile {
  root: string;
  apiUrl: string;
  /** The app database as the runtime role (what the worker and the API use). */
  appDatabaseUrl: string;
  /** The app database as its owner (migrations). */
  appOwnerDatabaseUrl: string;
  postgres: PostgresCluster;
  databases: ProfileDatabases;
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  tls: { certPath: string; keyPath: string; caPath: string; serverName: string };
  /** GOVERNANCE_CODEC_KEYS of the worker and the API. */
  codecKeys: string;
  /** The environment the worker and the API run with (secrets included). */
  appEnv: Record<string, string>;
  logs: { worker: string; api: string; temporal: string; postgres: string };
  /** A client as the product's (mTLS and the codec); closed by `stop()`. */
  client(): Promise<Client>;
  /** A raw connection over mTLS, without the codec (what Temporal itself stores). */
  rawConnection(): Promise<Connection>;
  workerPid(): number | undefined;
  apiPid(): number | undefined;
  /** Whether the worker and the API processes are still running (a fault may have ended one for good). */
  alive(): { worker: boolean; api: boolean };
  killWorker(): Promise<void>;
  startWorker(): Promise<void>;
  killApi(): Promise<void>;
  startApi(): Promise<void>;
  /**
   * `fast` closes every connection (a restart); `immediate` is a crash of the
   * server. It stays down `downMs` before it starts again.
   */
  restartPostgres(mode?: 'fast' | 'immediate', downMs?: number): Promise<void>;
  /** Stops the Temporal server (SIGTERM, or SIGKILL with `kill`) and starts it again. */
  restartTemporal(options?: { kill?: boolean }): Promise<void>;
  /** Stops API, worker and Temporal server (PostgreSQL stays up): e.g. to restore their databases. */
  stopStack(): Promise<void>;
  /** Starts them again (migrations first), on `databases` if given. */
  startStack(databases?: ProfileDatabases): Promise<void>;
  stop(): Promise<void>;
}

export interface ProfileOptions {
  log?: (line: string) => void;
  /** GOVERNANCE_CASE_TIMINGS=allow for the tests' short clocks; off (app.env) otherwise. */
  caseTimings?: 'allow' | 'locked';
  /** Keep the temporary folder (logs, data) after stop(). */
  keep?: boolean;
}

/**
 * A free port in 20000–32767: Temporal stores membership ports as a SQL
 * smallint, so the system's ephemeral range (32768+) will not do; and away
 * from 7233/8233/3000, which `npm start` may hold.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_700);
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.unref();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free && !taken.has(port)) {
      taken.add(port);
      return port;
    }
  }
}

/** A free port for each of the Temporal server's listeners. */
export async function freeTemporalPorts(): Promise<TemporalPorts> {
  return {
    frontend: await freePort(),
    frontendHttp: await freePort(),
    frontendMembership: await freePort(),
    history: await freePort(),
    historyMembership: await freePort(),
    matching: await freePort(),
    matchingMembership: await freePort(),
    worker: await freePort(),
    workerMembership: await freePort(),
    metrics: await freePort(),
    pprof: await freePort(),
  };
}

const taken = new Set<number>();

/** The bundler's progress lines would drown the profile's own. */
const quietBundlerLogger = new DefaultLogger('WARN');

/** A cold start on a busy CI machine (tsx transpiling the product for the first time) can take a minute or more. */
const START_TIMEOUT_MS = 240_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(200);
  }
}

function tail(file: string, lines = 40): string {
  if (!existsSync(file)) return '';
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}

/** Keys of the caller's environment that would leak into the product's settings. */
const FOREIGN_ENV =
  /^(DATABASE_|TEMPORAL_|GOVERNANCE_|PORT$|HOST$|NODE_ENV$|SEED_DEMO_USERS$|TOKEN_TTL_DAYS$|MAX_EVIDENCE_BYTES$|VITEST|TEST_)/;

export async function startProductionProfile(options: ProfileOptions = {}): Promise<ProductionProfile> {
  const log = options.log ?? ((line: string) => console.log(`[production] ${line}`));
  const started = Date.now();
  const tools = await ensureServerTools(log);
  const cli = await ensureTemporalCli(log);
  if (!cli)
    throw new Error('the Temporal CLI is needed for the namespace and search attributes (npm run temporal:install)');

  const root = mkdtempSync(path.join(tmpdir(), 'gov-production-'));
  const secret = () => randomBytes(18).toString('hex');
  const passwords = { postgres: secret(), temporal: secret(), governance_owner: secret(), governance_app: secret() };
  const ports = await freeTemporalPorts();
  const apiPort = await freePort();
  const logs = {
    worker: path.join(root, 'worker.log'),
    api: path.join(root, 'api.log'),
    temporal: path.join(root, 'temporal.log'),
    postgres: path.join(root, 'postgres.log'),
  };

  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  const cleanUp = async () => {
    for (const run of cleanups.splice(0).reverse())
      await Promise.resolve(run()).catch((err) => log(`while stopping: ${err}`));
  };

  try {
    const tlsFiles: TlsFiles = generateCertificates(path.join(root, 'tls'), readAppEnv().TEMPORAL_TLS_SERVER_NAME);
    const postgres = await createPostgresCluster({ dir: root, port: await freePort(), passwords, log });
    cleanups.push(() => postgres.stop('immediate'));
    let databases: ProfileDatabases = {
      app: APP_DATABASE,
      temporal: TEMPORAL_DATABASE,
      visibility: VISIBILITY_DATABASE,
    };
    const temporalDb = () => ({
      port: postgres.port,
      user: 'temporal',
      password: passwords.temporal,
      temporalDatabase: databases.temporal,
      visibilityDatabase: databases.visibility,
    });
    setUpSchemas(tools.sql, temporalDb(), log);

    const configRoot = path.join(root, 'temporal');
    const writeConfig = () => writeServerConfig(configRoot, { ports, db: temporalDb(), tls: tlsFiles });
    writeConfig();
    const temporalAddress = `127.0.0.1:${ports.frontend}`;
    const tls = {
      certPath: tlsFiles.clientCert,
      keyPath: tlsFiles.clientKey,
      caPath: tlsFiles.ca,
      serverName: tlsFiles.serverName,
    };
    const tlsConfig = () => ({
      serverNameOverride: tls.serverName,
      serverRootCACertificate: readFileSync(tls.caPath),
      clientCertPair: { crt: readFileSync(tls.certPath), key: readFileSync(tls.keyPath) },
    });
    const appFile = readAppEnv();
    const namespace = appFile.TEMPORAL_NAMESPACE ?? 'default';
    const taskQueue = appFile.TEMPORAL_TASK_QUEUE ?? 'governance';

    let server: TemporalServerProcess | undefined;
    const connections: Connection[] = [];
    cleanups.push(async () => {
      for (const c of connections.splice(0)) await c.close().catch(() => undefined);
    });
    const rawConnection = async () => {
      const connection = await Connection.connect({
        address: temporalAddress,
        tls: tlsConfig(),
        connectTimeout: 5_000,
      });
      connections.push(connection);
      return connection;
    };
    const serving = async () => {
      const connection = await Connection.connect({
        address: temporalAddress,
        tls: tlsConfig(),
        connectTimeout: 2_000,
      });
      try {
        await connection.workflowService.getSystemInfo({});
        return true;
      } finally {
        await connection.close();
      }
    };
    const startServer = async () => {
      server = spawnServer(tools.server, configRoot, logs.temporal);
      const exited = server.exited.then((code) => {
        throw new Error(`the Temporal server exited (code ${code}):\n${tail(logs.temporal)}`);
      });
      exited.catch(() => undefined);
      await Promise.race([
        waitFor('the Temporal frontend (mTLS)', 90_000, async () => ((await serving()) ? true : undefined)),
        exited,
      ]);
    };
    const stopServer = async (signal: NodeJS.Signals = 'SIGTERM') => {
      const current = server;
      server = undefined;
      if (!current || current.child.exitCode !== null) return;
      current.child.kill(signal);
      const timer = setTimeout(() => current.child.kill('SIGKILL'), 5_000);
      await current.exited;
      clearTimeout(timer);
    };
    log(`starting the Temporal server on ${temporalAddress} (mTLS; log ${logs.temporal})…`);
    await startServer();
    cleanups.push(() => stopServer());

    // Namespace and search attributes with the Temporal CLI, over mTLS: what
    // compose's temporal-setup job does.
    const temporalCli = (...args: string[]) => {
      const result = spawnSync(
        cli,
        [
          ...args,
          '--address',
          temporalAddress,
          '--tls-cert-path',
          tls.certPath,
          '--tls-key-path',
          tls.keyPath,
          '--tls-ca-path',
          tls.caPath,
          '--tls-server-name',
          tls.serverName,
        ],
        { encoding: 'utf8' },
      );
      if (result.status !== 0) throw new Error(`temporal ${args.join(' ')}: ${result.stderr || result.stdout}`);
      return result.stdout;
    };
    temporalCli('operator', 'namespace', 'create', '--namespace', namespace, '--retention', '72h');
    await waitFor(`namespace ${namespace}`, 60_000, async () =>
      temporalCli('operator', 'search-attribute', 'list', '--namespace', namespace) ? true : undefined,
    );
    const cliType: Record<string, string> = { KEYWORD: 'Keyword', DATETIME: 'Datetime' };
    for (const key of SEARCH_ATTRIBUTE_KEYS) {
      temporalCli(
        'operator',
        'search-attribute',
        'create',
        '--namespace',
        namespace,
        '--name',
        key.name,
        '--type',
        cliType[key.type]!,
      );
    }
    const probe = SEARCH_ATTRIBUTE_KEYS.map((k) =>
      k.type === 'DATETIME' ? `${k.name} > '2000-01-01T00:00:00Z'` : `${k.name} = 'probe'`,
    ).join(' AND ');
    await waitFor('the search attributes', 60_000, async () =>
      temporalCli('workflow', 'list', '--namespace', namespace, '--query', probe, '--limit', '1') !== undefined
        ? true
        : undefined,
    );
    log(`namespace ${namespace} with ${SEARCH_ATTRIBUTE_KEYS.length} search attributes`);

    // Migrations as the owner, before either process starts: the one-shot
    // step compose runs too (db/migrate.ts with DATABASE_OWNER_URL); the
    // worker and the API get the runtime role's URL only.
    const migrateApp = async () => {
      const result = spawnSync(...composeSpawnArgs('migrate'), {
        cwd: PROJECT_ROOT,
        encoding: 'utf8',
        env: {
          ...processEnv(),
          DATABASE_OWNER_URL: postgres.url('governance_owner', databases.app),
        },
      });
      if (result.status !== 0)
        throw new Error(`the migrate service's command failed:\n${result.stdout}${result.stderr}`);
      log(result.stdout.trim());
    };
    // The image's processes, compiled ahead of time (scripts/node-build.ts): a restarted worker is polling sooner.
    await buildNode({ workflows: false, log: () => undefined });
    const bundlePath = path.join(root, 'workflows.js');
    log('bundling the workflows once (restarts of the worker reuse the bundle)…');
    // What every bundle is built from (worker.ts): the codec's refused-payload guard and the tracing interceptors.
    const { code } = await bundleWorkflowCode({ ...WORKFLOW_BUNDLE_OPTIONS, logger: quietBundlerLogger });
    writeFileSync(bundlePath, code);

    const codecKeys = `k1:${randomBytes(32).toString('base64')}`;
    // The audit chain's anchors are signed with a key the database never holds (db/auditAnchors.ts).
    const anchorKey = `a1:${randomBytes(32).toString('base64')}`;
    const appEnv = (): Record<string, string> => ({
      ...appFile,
      ...(options.caseTimings ? { GOVERNANCE_CASE_TIMINGS: options.caseTimings } : {}),
      DATABASE_URL: postgres.url('governance_app', databases.app),
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_TLS_CERT: tls.certPath,
      TEMPORAL_TLS_KEY: tls.keyPath,
      TEMPORAL_TLS_CA: tls.caPath,
      GOVERNANCE_CODEC_KEYS: codecKeys,
      GOVERNANCE_ANCHOR_KEY: anchorKey,
      GOVERNANCE_WORKFLOW_BUNDLE: bundlePath,
      HOST: '127.0.0.1',
      PORT: String(apiPort),
    });
    const processEnv = () => {
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !FOREIGN_ENV.test(k)) env[k] = v;
      return { ...env, ...appEnv() };
    };

    await migrateApp();

    let client: Client | undefined;
    const productClient = async () => {
      if (!client) {
        const connection = await rawConnection();
        client = new Client({ connection, namespace, dataConverter: dataConverterFor({ codecKeys }) });
      }
      return client;
    };

    const children: { worker?: ChildProcess; api?: ChildProcess } = {};
    const spawnNode = (role: 'worker' | 'api') => {
      const [program, args] = composeSpawnArgs(role);
      const entry = args.join(' ');
      const out = createWriteStream(logs[role], { flags: 'a' });
      out.write(`\n--- ${new Date().toISOString()} starting ${entry}\n`);
      // node itself, not a wrapper such as npx: one process, so kill -9 kills the product.
      const child = spawn(program, args, {
        cwd: PROJECT_ROOT,
        // As compose runs it: its NODE_OPTIONS and MALLOC_ARENA_MAX too (the worker's memory).
        env: { ...processEnv(), ...composeRuntimeEnv(role) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout?.pipe(out);
      child.stderr?.pipe(out);
      children[role] = child;
      return child;
    };
    const exitOf = (child: ChildProcess) =>
      new Promise<number | null>((resolve) =>
        child.exitCode !== null || child.signalCode !== null ? resolve(child.exitCode) : child.once('exit', resolve),
      );
    const kill = async (role: 'worker' | 'api', signal: NodeJS.Signals = 'SIGKILL') => {
      const child = children[role];
      children[role] = undefined;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exit = exitOf(child);
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exit;
      clearTimeout(timer);
    };
    const failedStart = (role: 'worker' | 'api', child: ChildProcess) =>
      exitOf(child).then((code) => {
        throw new Error(`the ${role} exited while starting (code ${code}):\n${tail(logs[role])}`);
      });

    const startWorker = async () => {
      const child = spawnNode('worker');
      const failed = failedStart('worker', child);
      failed.catch(() => undefined);
      // Ready when Temporal sees this process poll: its identity is "<pid>@<host>".
      const c = await productClient();
      const polling = waitFor('the worker to poll', START_TIMEOUT_MS, async () => {
        const described = await c.workflowService.describeTaskQueue({
          namespace,
          taskQueue: { name: taskQueue, kind: proto.temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
          taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        });
        return described.pollers?.some((p) => p.identity?.startsWith(`${child.pid}@`)) ? true : undefined;
      });
      await Promise.race([polling, failed]);
    };
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const startApi = async () => {
      const child = spawnNode('api');
      const failed = failedStart('api', child);
      failed.catch(() => undefined);
      const listening = waitFor('the API to answer', START_TIMEOUT_MS, async () => {
        const res = await fetch(`${apiUrl}/readyz`);
        // 404: a build without /readyz yet; listening is all it can tell.
        return res.status === 200 || res.status === 404 ? true : undefined;
      });
      await Promise.race([listening, failed]);
    };

    log('starting the worker and the API as separate processes…');
    // At the end the processes are thrown away: killed, not drained, so a
    // test runner's short teardown never leaves one behind.
    cleanups.push(() => kill('worker'));
    cleanups.push(() => kill('api'));
    const killLeftovers = () => {
      for (const child of [children.worker, children.api, server?.child]) child?.kill('SIGKILL');
    };
    process.once('exit', killLeftovers);
    cleanups.push(() => process.removeListener('exit', killLeftovers));
    await Promise.all([startWorker(), startApi()]);

    const profile: ProductionProfile = {
      root,
      apiUrl,
      get appDatabaseUrl() {
        return postgres.url('governance_app', databases.app);
      },
      get appOwnerDatabaseUrl() {
        return postgres.url('governance_owner', databases.app);
      },
      postgres,
      get databases() {
        return databases;
      },
      temporalAddress,
      namespace,
      taskQueue,
      tls,
      codecKeys,
      get appEnv() {
        return appEnv();
      },
      logs,
      client: productClient,
      rawConnection,
      workerPid: () => children.worker?.pid,
      apiPid: () => children.api?.pid,
      alive: () => {
        const running = (child?: ChildProcess) => !!child && child.exitCode === null && child.signalCode === null;
        return { worker: running(children.worker), api: running(children.api) };
      },
      killWorker: () => kill('worker'),
      startWorker,
      killApi: () => kill('api'),
      startApi,
      restartPostgres: async (mode = 'fast', downMs = 0) => {
        postgres.stop(mode);
        await sleep(downMs);
        postgres.start();
      },
      restartTemporal: async ({ kill: hard = false } = {}) => {
        await stopServer(hard ? 'SIGKILL' : 'SIGTERM');
        await startServer();
      },
      stopStack: async () => {
        await Promise.all([kill('worker', 'SIGTERM'), kill('api', 'SIGTERM')]);
        await stopServer();
      },
      startStack: async (next) => {
        if (next) {
          databases = next;
          writeConfig();
        }
        await migrateApp();
        await startServer();
        await Promise.all([startWorker(), startApi()]);
      },
      stop: async () => {
        await cleanUp();
        if (!options.keep) rmSync(root, { recursive: true, force: true });
      },
    };
    log(`up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return profile;
  } catch (err) {
    await cleanUp();
    if (!options.keep) {
      log(`start failed; logs kept in ${root}`);
    }
    throw err;
  }
}
