/**
 * The real Temporal server (v1.29.1, built by tools.ts) on the profile's
 * PostgreSQL: schemas set up by its sql tool, configured from the module's
 * own `config/development-postgres12.yaml` with every port moved to free
 * ones, and the frontend behind mutual TLS (client certificates required,
 * including from Temporal's own system worker). Internode traffic stays on
 * loopback without TLS, as in a single-host deployment.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../platform/config';
import { serverModuleDir } from './tools';

export interface TemporalPorts {
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
  metrics: number;
  pprof: number;
}

export interface TlsFiles {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  systemWorkerCert: string;
  systemWorkerKey: string;
  /** The name in the server certificate that clients check (TEMPORAL_TLS_SERVER_NAME). */
  serverName: string;
}

/** Generates the mTLS material with deploy/tls/generate-certs.sh (openssl). */
export function generateCertificates(dir: string, serverName = 'temporal'): TlsFiles {
  const script = path.join(PROJECT_ROOT, 'deploy', 'tls', 'generate-certs.sh');
  const result = spawnSync('bash', [script, dir, serverName], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`generate-certs.sh failed:\n${result.stdout}${result.stderr}`);
  const f = (name: string) => path.join(dir, name);
  return {
    dir,
    ca: f('ca.crt'),
    serverCert: f('server.crt'),
    serverKey: f('server.key'),
    clientCert: f('client.crt'),
    clientKey: f('client.key'),
    systemWorkerCert: f('system-worker.crt'),
    systemWorkerKey: f('system-worker.key'),
    serverName,
  };
}

interface Database {
  port: number;
  user: string;
  password: string;
  temporalDatabase: string;
  visibilityDatabase: string;
}

/** `key: <old>` → `key: <new>` once inside the text after `anchor`; throws when the template changed shape. */
function replaceAfter(text: string, anchor: string, key: string, value: string): string {
  const at = text.indexOf(anchor);
  if (at < 0) throw new Error(`Temporal config template: no "${anchor}"`);
  const pattern = new RegExp(`(\\n\\s*${key}:\\s*)([^\\n]*)`);
  const tail = text.slice(at);
  if (!pattern.test(tail)) throw new Error(`Temporal config template: no "${key}" after "${anchor}"`);
  return text.slice(0, at) + tail.replace(pattern, (_, prefix: string) => `${prefix}${value}`);
}

/** The server config: the module's postgres12 template, ports and connections moved, mTLS added. */
export function renderServerConfig(options: {
  ports: TemporalPorts;
  db: Database;
  tls: TlsFiles;
  dynamicConfig: string;
}): string {
  const { ports, db, tls } = options;
  let text = readFileSync(path.join(serverModuleDir(), 'config', 'development-postgres12.yaml'), 'utf8');
  const q = (s: string) => JSON.stringify(s);
  for (const [store, name] of [
    ['postgres-default:', db.temporalDatabase],
    ['postgres-visibility:', db.visibilityDatabase],
  ] as const) {
    text = replaceAfter(text, store, 'databaseName', q(name));
    text = replaceAfter(text, store, 'connectAddr', q(`127.0.0.1:${db.port}`));
    text = replaceAfter(text, store, 'user', q(db.user));
    text = replaceAfter(text, store, 'password', q(db.password));
  }
  text = replaceAfter(text, 'pprof:', 'port', String(ports.pprof));
  text = replaceAfter(text, 'prometheus:', 'listenAddress', q(`127.0.0.1:${ports.metrics}`));
  text = replaceAfter(text, '  frontend:', 'grpcPort', String(ports.frontend));
  text = replaceAfter(text, '  frontend:', 'membershipPort', String(ports.frontendMembership));
  text = replaceAfter(text, '  frontend:', 'httpPort', String(ports.frontendHttp));
  text = replaceAfter(text, '  matching:', 'grpcPort', String(ports.matching));
  text = replaceAfter(text, '  matching:', 'membershipPort', String(ports.matchingMembership));
  text = replaceAfter(text, '  history:', 'grpcPort', String(ports.history));
  text = replaceAfter(text, '  history:', 'membershipPort', String(ports.historyMembership));
  text = replaceAfter(text, '  worker:', 'grpcPort', String(ports.worker));
  text = replaceAfter(text, '  worker:', 'membershipPort', String(ports.workerMembership));
  text = replaceAfter(text, 'clusterInformation:', 'rpcAddress', q(`localhost:${ports.frontend}`));
  text = replaceAfter(text, 'dynamicConfigClient:', 'filepath', q(options.dynamicConfig));
  text = replaceAfter(text, 'log:', 'level', 'warn');
  const tlsBlock = [
    '  tls:',
    '    frontend:',
    '      server:',
    `        certFile: ${q(tls.serverCert)}`,
    `        keyFile: ${q(tls.serverKey)}`,
    '        requireClientAuth: true',
    `        clientCaFiles: [${q(tls.ca)}]`,
    '      client:',
    `        serverName: ${q(tls.serverName)}`,
    `        rootCaFiles: [${q(tls.ca)}]`,
    // The server's own system worker (schedules, batch jobs) is a frontend client too.
    '    systemWorker:',
    `      certFile: ${q(tls.systemWorkerCert)}`,
    `      keyFile: ${q(tls.systemWorkerKey)}`,
    '      client:',
    `        serverName: ${q(tls.serverName)}`,
    `        rootCaFiles: [${q(tls.ca)}]`,
  ].join('\n');
  if (!/\nglobal:\n/.test(text)) throw new Error('Temporal config template: no "global:" section');
  return text.replace(/\nglobal:\n/, `\nglobal:\n${tlsBlock}\n`);
}

/** Creates the version tables and applies every versioned schema update, as temporal-sql-tool does in compose. */
export function setUpSchemas(sqlTool: string, db: Database, log: (line: string) => void): void {
  const schemaRoot = path.join(serverModuleDir(), 'schema', 'postgresql', 'v12');
  for (const [database, dir] of [
    [db.temporalDatabase, 'temporal'],
    [db.visibilityDatabase, 'visibility'],
  ] as const) {
    const base = [
      '--plugin',
      'postgres12',
      '--ep',
      '127.0.0.1',
      '-p',
      String(db.port),
      '-u',
      db.user,
      '--db',
      database,
    ];
    // The password through the environment, so it never shows in `ps`.
    const env = { ...process.env, SQL_PASSWORD: db.password };
    for (const args of [
      ['setup-schema', '-v', '0.0'],
      ['update-schema', '-d', path.join(schemaRoot, dir, 'versioned')],
    ]) {
      const result = spawnSync(sqlTool, [...base, ...args], { encoding: 'utf8', env });
      if (result.status !== 0)
        throw new Error(`sql ${args[0]} on ${database} failed:\n${result.stdout}${result.stderr}`);
    }
    log(`schema of ${database} set up from ${path.relative(serverModuleDir(), path.join(schemaRoot, dir))}`);
  }
}

export interface TemporalServerProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
}

/** Starts the server from a config folder written by `writeServerConfig`; its log goes to `logFile`. */
export function spawnServer(binary: string, configRoot: string, logFile: string): TemporalServerProcess {
  const out = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(
    binary,
    ['--root', configRoot, '--config', 'config', '--env', 'production', '--allow-no-auth', 'start'],
    {
      cwd: configRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited };
}

/** Writes config/production.yaml and the dynamic config into `configRoot`. */
export function writeServerConfig(
  configRoot: string,
  options: { ports: TemporalPorts; db: Database; tls: TlsFiles },
): void {
  mkdirSync(path.join(configRoot, 'config', 'dynamicconfig'), { recursive: true });
  const dynamicConfig = path.join(configRoot, 'config', 'dynamicconfig', 'production.yaml');
  // The same dynamic config as docker-compose.yml's server.
  copyFileSync(path.join(PROJECT_ROOT, 'deploy', 'temporal', 'dynamicconfig', 'production.yaml'), dynamicConfig);
  writeFileSync(path.join(configRoot, 'config', 'production.yaml'), renderServerConfig({ ...options, dynamicConfig }));
}
