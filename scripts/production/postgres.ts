/**
 * The production profile's own PostgreSQL cluster: Debian's binaries
 * (initdb, pg_ctl) on a throwaway data folder and a free port, so the fault
 * tests can stop, restart, dump and restore it without touching the
 * machine's server on 5432. Roles as in production: `temporal` owns
 * Temporal's two databases; `governance_owner` owns the app database and
 * runs its migrations; `governance_app` is the runtime role of the worker and
 * the API (it may append to the audit log, never rewrite it).
 *
 * Durability is relaxed only where a process crash cannot tell (fsync and
 * full-page writes off): the tests restart or kill the server process, never
 * the machine, and the operating system keeps what was written, so a shared
 * CI machine is spared the fsyncs. Commits stay synchronous: with
 * `synchronous_commit = off` an immediate stop loses the last commits the
 * server had already acknowledged, and Temporal, told its write had landed,
 * lost track of an activity for good (dispatched to the worker, then
 * "Scheduled" again with no task to deliver it: the case waited forever).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';

export interface PostgresCluster {
  port: number;
  dataDir: string;
  /** Superuser URL (postgres) to a database. */
  adminUrl(database?: string): string;
  /** URL of a role to a database. */
  url(role: RoleName, database: string): string;
  start(): void;
  /** `immediate`: as a crash would (no shutdown checkpoint); `fast`: a clean stop. */
  stop(mode?: 'fast' | 'immediate'): void;
  restart(mode?: 'fast' | 'immediate'): void;
  /** The same-version pg_dump / pg_restore / psql binaries. */
  bin(name: 'pg_dump' | 'pg_restore' | 'psql'): string;
}

export type RoleName = 'postgres' | 'temporal' | 'governance_owner' | 'governance_app';

export const APP_DATABASE = 'governance';
export const TEMPORAL_DATABASE = 'temporal';
export const VISIBILITY_DATABASE = 'temporal_visibility';

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const fromEnv = process.env.PG_BIN_DIR;
  if (fromEnv) return fromEnv;
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions[0]) throw new Error('no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (or set PG_BIN_DIR)');
  return path.join(root, versions[0], 'bin');
}

/** initdb and postgres refuse to run as root: run them as the `postgres` user then. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

export async function createPostgresCluster(options: {
  dir: string;
  port: number;
  passwords: Record<Exclude<RoleName, 'postgres'> | 'postgres', string>;
  log?: (line: string) => void;
}): Promise<PostgresCluster> {
  const log = options.log ?? (() => undefined);
  const bin = binDir();
  const user = runAs();
  const dataDir = path.join(options.dir, 'pgdata');
  const socketDir = path.join(options.dir, 'pgsocket');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  mkdirSync(socketDir, { recursive: true });
  if (user) {
    chownSync(options.dir, user.uid, user.gid);
    chownSync(dataDir, user.uid, user.gid);
    chownSync(socketDir, user.uid, user.gid);
  }
  const run = (name: string, args: string[]) => {
    const result = spawnSync(path.join(bin, name), args, {
      encoding: 'utf8',
      cwd: options.dir,
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
      env: { ...process.env, LC_ALL: 'C.UTF-8' },
    });
    if (result.status !== 0) throw new Error(`${name} ${args.join(' ')} failed:\n${result.stdout}${result.stderr}`);
    return result.stdout;
  };

  const pwFile = path.join(options.dir, 'pwfile');
  writeFileSync(pwFile, options.passwords.postgres, { mode: 0o600 });
  if (user) chownSync(pwFile, user.uid, user.gid);
  run('initdb', [
    '-D',
    dataDir,
    '-U',
    'postgres',
    '--pwfile',
    pwFile,
    '-E',
    'UTF8',
    '--locale',
    'C.UTF-8',
    '--auth-local',
    'trust',
    '--auth-host',
    'scram-sha-256',
  ]);
  const conf = [
    `port = ${options.port}`,
    `listen_addresses = '127.0.0.1'`,
    `unix_socket_directories = '${socketDir}'`,
    'fsync = off',
    // Never off: see above. Temporal needs every acknowledged commit to survive a crash.
    'synchronous_commit = on',
    'full_page_writes = off',
    'max_connections = 200',
    'shared_buffers = 64MB',
    'log_min_messages = warning',
  ];
  writeFileSync(path.join(dataDir, 'postgresql.auto.conf'), conf.join('\n') + '\n');
  if (user) chownSync(path.join(dataDir, 'postgresql.auto.conf'), user.uid, user.gid);

  const logFile = path.join(options.dir, 'postgres.log');
  const cluster: PostgresCluster = {
    port: options.port,
    dataDir,
    adminUrl: (database = 'postgres') => cluster.url('postgres', database),
    url: (role, database) =>
      `postgres://${role}:${encodeURIComponent(options.passwords[role])}@127.0.0.1:${options.port}/${database}`,
    start: () => void run('pg_ctl', ['-D', dataDir, '-l', logFile, '-w', '-t', '60', 'start']),
    stop: (mode = 'fast') => void run('pg_ctl', ['-D', dataDir, '-m', mode, '-w', '-t', '60', 'stop']),
    restart: (mode = 'fast') => {
      cluster.stop(mode);
      cluster.start();
    },
    bin: (name) => path.join(bin, name),
  };
  cluster.start();
  log(`PostgreSQL (${bin}) on 127.0.0.1:${options.port}, data in ${dataDir}`);

  const admin = new pg.Client({ connectionString: cluster.adminUrl() });
  await admin.connect();
  try {
    const p = options.passwords;
    // Literals for passwords: generated here (hex), so quoting is safe.
    await admin.query(`create role temporal login createdb password '${p.temporal}'`);
    await admin.query(`create role governance_owner login password '${p.governance_owner}'`);
    await admin.query(`create role governance_app login password '${p.governance_app}'`);
    await admin.query(`create database ${TEMPORAL_DATABASE} owner temporal`);
    await admin.query(`create database ${VISIBILITY_DATABASE} owner temporal`);
    await setUpAppDatabase(admin, APP_DATABASE);
  } finally {
    await admin.end();
  }
  return cluster;
}

/**
 * The app database, owned by the owner role: the runtime role may only
 * connect. What it may do inside is granted by the migrations, run as the
 * owner by the one-shot `tsx db/migrate.ts` (DATABASE_OWNER_URL), exactly as
 * in docker-compose.yml.
 */
export async function setUpAppDatabase(admin: pg.Client, database: string): Promise<void> {
  await admin.query(`create database ${database} owner governance_owner`);
  await admin.query(`revoke all on database ${database} from public`);
  await admin.query(`grant connect, temporary on database ${database} to governance_app`);
}
