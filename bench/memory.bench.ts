/**
 * `npx tsx bench/memory.bench.ts [--cases N] [--requests M] [--every E] [--cache C] [--worker-heap MB]
 *   [--worker-shape compose|bare] [--worker-flags F] [--worker-env K=V,…] [--worker-options JSON] [--start-concurrency K] [--start-budget S] [--settle S]
 *   [--server dev|real]`
 *
 * Memory of the two long-running services under a company-sized load:
 *  1. worker: a worker in a child process of its own (as in production);
 *     first 10 s idle (the baseline: no case open), then N approval cases
 *     are started with the raw client (update-with-start with the `settled`
 *     Update, K in flight) and wait for a decision on their reminder,
 *     escalation and expiry timers. The worker's RSS (/proc/<pid>/status
 *     VmRSS) is sampled every second with the open cases and what its
 *     process.memoryUsage() says (the main isolate's heap, external, array
 *     buffers; the rest is the workflow thread's isolate, the Rust core, code
 *     and malloc), while they start and for S seconds after: RSS against open
 *     cases, peak and settled.
 *  2. API: the API (createApp + serve) in a child process of its own, M GET
 *     requests over real HTTP, --concurrency in flight, a third each: GET
 *     /api/tasks/inbox (approver: up to 500 open tasks), GET /api/cases/{id}
 *     (manager, a different case each time), GET /api/cases?limit=20
 *     (approver). Its RSS is sampled every E requests (default 10,000).
 *
 * The worker loads a workflow bundle built beforehand, as the production
 * profile does (--bundle inproc: it bundles at start-up, webpack and all).
 * It runs createWorker() from worker.ts with the production cache
 * (DEFAULT_WORKER_MAX_CACHED_WORKFLOWS, or --cache C); the levers under trial
 * The worker runs as docker-compose.yml runs it: the node flags of its
 * command (--max-old-space-size=384) and the process tuning of its
 * environment (NODE_OPTIONS=--max-semi-space-size=4, MALLOC_ARENA_MAX=2),
 * read from the file (--worker-shape bare: a bare node). The levers under
 * trial come on top: --worker-heap MB (--max-old-space-size, instead of
 * compose's), --worker-flags (other node flags), --worker-env (K=V,…),
 * --worker-options (Worker.create options, JSON).
 *
 * Figures (bench/results/memory.json, merged by bench/run.ts): worker RSS
 * peak < 500 MB; API RSS growth, first to last sample, ≤ 10 % ("flat").
 *
 * The same file is the two child processes (--role worker | api).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import pg from 'pg';
import { openDatabase } from '../db/client';
import { migrate } from '../db/migrate';
import { dataConverterFor, generateCodecKey } from '../platform/codec';
import { DEFAULT_WORKER_MAX_CACHED_WORKFLOWS } from '../platform/config';
import { connectClient, connectWorker } from '../platform/temporalConnection';
import { seedDemoUsers } from '../platform/seed';
import { composeNodeFlags, composeRuntimeEnv } from '../scripts/production/profile';
import {
  createBenchDatabase,
  figure,
  percentile,
  round,
  runPool,
  serverKind,
  sleep,
  startApprovalRaw,
  startTemporal,
  table,
  temporalTlsFromEnv,
  writeSuiteResult,
  benchTeardown,
} from './support';

const { values: flags } = parseArgs({
  options: {
    role: { type: 'string' },
    cases: { type: 'string' },
    requests: { type: 'string' },
    cache: { type: 'string' },
    settle: { type: 'string' },
    concurrency: { type: 'string' },
    bundle: { type: 'string' },
    'worker-heap': { type: 'string' },
    'worker-flags': { type: 'string' },
    'worker-shape': { type: 'string' },
    'worker-options': { type: 'string' },
    'worker-env': { type: 'string' },
    'start-concurrency': { type: 'string' },
    'start-budget': { type: 'string' },
    every: { type: 'string' },
    server: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
const int = (name: string, raw: string | undefined, fallback: number, min: number) => {
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min) throw new Error(`${name} must be an integer ≥ ${min}, got "${raw}"`);
  return v;
};

const NAMESPACE = 'default';
const MANAGER = { id: 'li.manager', token: 'gov_demo_manager' };
const APPROVER_TOKEN = 'gov_demo_approver';
const WORKER_RSS_TARGET_MB = 500;

/** VmRSS of a process in MiB, from /proc. */
function rssMb(pid: number): number | undefined {
  try {
    const kb = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? round(Number(kb) / 1024, 1) : undefined;
  } catch {
    return undefined;
  }
}

// ───────────────────────── child: the worker ─────────────────────────

async function workerChild(): Promise<void> {
  const env = process.env;
  // The parent gone before the worker runs: do not linger.
  const orphaned = () => process.exit(1);
  process.once('disconnect', orphaned);
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  // Worker.create options under trial (--worker-options '{"workflowThreadPoolSize":2}'), on top of worker.ts's.
  const trial = env.BENCH_WORKER_OPTIONS ? (JSON.parse(env.BENCH_WORKER_OPTIONS) as Partial<WorkerOptions>) : {};
  if (Object.keys(trial).length) {
    const create = Worker.create.bind(Worker);
    Worker.create = (options) => create({ ...options, ...trial });
  }
  const { createWorker } = await import('../worker');
  const database = await openDatabase({ url: env.BENCH_DATABASE_URL!, poolSize: 10 });
  // The namespace and mutual TLS of the server the parent started (dev or real).
  const namespace = env.BENCH_NAMESPACE ?? NAMESPACE;
  const settings = { temporalNamespace: namespace, temporalTls: temporalTlsFromEnv(), codecKeys: env.BENCH_CODEC_KEYS };
  const connection = await connectWorker(env.BENCH_TEMPORAL_ADDRESS!, settings);
  const { connection: clientConnection, client } = await connectClient(env.BENCH_TEMPORAL_ADDRESS!, settings);
  const worker = await createWorker({
    connection,
    db: database.db,
    namespace,
    taskQueue: env.BENCH_TASK_QUEUE!,
    temporal: client,
    dataConverter: dataConverterFor(settings),
    // As the production profile runs it (GOVERNANCE_WORKFLOW_BUNDLE): no bundler in the worker's memory.
    workflowBundle: env.BENCH_WORKFLOW_BUNDLE ? { codePath: env.BENCH_WORKFLOW_BUNDLE } : undefined,
    // The production worker's sticky cache (WORKER_MAX_CACHED_WORKFLOWS) unless --cache says otherwise.
    maxCachedWorkflows: env.BENCH_MAX_CACHED_WORKFLOWS
      ? Number(env.BENCH_MAX_CACHED_WORKFLOWS)
      : DEFAULT_WORKER_MAX_CACHED_WORKFLOWS,
  });
  const stop = () => worker.getState() === 'RUNNING' && worker.shutdown();
  process.on('message', (m) => m === 'stop' && stop());
  process.on('disconnect', () => {
    stop();
    setTimeout(() => process.exit(1), 10_000).unref();
  });
  process.on('SIGINT', () => undefined);
  process.off('disconnect', orphaned);
  // What the RSS is made of (the workflow thread's own V8 heap and the Rust core are the rest).
  setInterval(() => {
    if (process.connected) process.send!({ memory: process.memoryUsage() });
  }, 1000).unref();
  const running = worker.run();
  process.send!({
    ready: true,
    memory: process.memoryUsage(),
    options: {
      maxCachedWorkflows: worker.options.maxCachedWorkflows,
      workflowThreadPoolSize: worker.options.workflowThreadPoolSize,
      reuseV8Context: worker.options.reuseV8Context,
      ...trial,
    },
    maxCachedWorkflows: worker.options.maxCachedWorkflows,
    heapLimitMb: round((await import('node:v8')).getHeapStatistics().heap_size_limit / 2 ** 20, 0),
  });
  try {
    await running;
  } finally {
    await clientConnection.close();
    await connection.close();
    await database.close();
  }
}

// ───────────────────────── child: the API ─────────────────────────

async function apiChild(): Promise<void> {
  const env = process.env;
  const { serve } = await import('@hono/node-server');
  const { createApp } = await import('../api/app');
  const database = await openDatabase({ url: env.BENCH_DATABASE_URL!, poolSize: 10 });
  // The namespace and mutual TLS of the server the parent started (dev or real).
  const namespace = env.BENCH_NAMESPACE ?? NAMESPACE;
  const settings = { temporalNamespace: namespace, temporalTls: temporalTlsFromEnv(), codecKeys: env.BENCH_CODEC_KEYS };
  const { connection, client } = await connectClient(env.BENCH_TEMPORAL_ADDRESS!, settings);
  const app = createApp(
    {
      db: database.db,
      temporal: client,
      settings: {
        taskQueue: env.BENCH_TASK_QUEUE!,
        temporalNamespace: namespace,
        temporalUiUrl: 'http://localhost:8233',
        maxEvidenceBytes: 1024 * 1024,
      },
    },
    { log: () => undefined },
  );
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => (server.listening ? resolve() : server.once('listening', resolve)));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  const close = async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
    });
    await connection.close();
    await database.close();
    process.exit(0);
  };
  process.on('message', (m) => m === 'stop' && void close());
  process.on('disconnect', () => void close());
  process.on('SIGINT', () => undefined);
  process.send!({ ready: true, port: address.port });
}

// ───────────────────────── the bench ─────────────────────────

const T0 = Date.now();
const log = (line: string) => console.log(`[memory +${((Date.now() - T0) / 1000).toFixed(1).padStart(6)}s] ${line}`);

const { cleanups, cleanup, onSignals } = benchTeardown('memory');

interface Child {
  child: ChildProcess;
  exited: Promise<void>;
  hello: Record<string, unknown>;
}

async function forkRole(role: 'worker' | 'api', env: Record<string, string>, nodeFlags: string[] = []): Promise<Child> {
  const child = fork(fileURLToPath(import.meta.url), ['--role', role], {
    execArgv: [...nodeFlags, '--import', 'tsx'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const hello = await new Promise<Record<string, unknown>>((resolve, reject) => {
    child.once('message', (m) => resolve(m as Record<string, unknown>));
    child.once('exit', (code) => reject(new Error(`${role} child exited with ${code} before ready`)));
  });
  cleanups.push({
    what: `${role} child ${child.pid}`,
    run: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.send('stop');
      await Promise.race([exited, sleep(15_000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  });
  return { child, exited, hello };
}

/** The worker's process.memoryUsage(), as its child reports it every second. */
type Usage = NodeJS.MemoryUsage;
const mb = (bytes: number | undefined) => (bytes === undefined ? Number.NaN : round(bytes / 2 ** 20, 1));

interface Sample {
  t: number;
  rss: number;
  open: number;
  usage?: Usage;
}

/** Samples a process's RSS (and what `usage` reports) every `everyMs` until stopped. */
function sampler(pid: number, everyMs: number, open: () => number, usage?: () => Usage | undefined) {
  const samples: Sample[] = [];
  const t0 = performance.now();
  const take = () => {
    const rss = rssMb(pid);
    if (rss !== undefined) samples.push({ t: (performance.now() - t0) / 1000, rss, open: open(), usage: usage?.() });
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    samples,
    stop: () => {
      clearInterval(timer);
      take();
    },
  };
}

/** One line of what a worker's RSS is made of. */
function breakdown(rss: number | undefined, u: Usage | undefined): string {
  if (!u) return `RSS ${rss} MB`;
  const rest = rss === undefined ? Number.NaN : round(rss - mb(u.heapTotal) - mb(u.external), 1);
  return (
    `RSS ${rss} MB = main V8 heap ${mb(u.heapTotal)} MB reserved (${mb(u.heapUsed)} used) + external ${mb(u.external)} MB ` +
    `(array buffers ${mb(u.arrayBuffers)}) + ${rest} MB outside the main heap (workflow thread isolate, Rust core, code, malloc)`
  );
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const loadAtStart = os.loadavg()[0] ?? 0;
  const SERVER = serverKind(flags.server ?? process.env.BENCH_SERVER);
  const N = int('--cases', flags.cases ?? process.env.BENCH_CASES, 10_000, 1);
  const M = int('--requests', flags.requests, 100_000, 0);
  const workerHeapMb =
    flags['worker-heap'] === undefined ? undefined : int('--worker-heap', flags['worker-heap'], 0, 64);
  const SETTLE_S = int('--settle', flags.settle, 60, 0);
  const CONCURRENCY = int('--concurrency', flags.concurrency, 16, 1);
  const START_CONCURRENCY = int('--start-concurrency', flags['start-concurrency'], CONCURRENCY, 1);
  // On a loaded box: stop starting cases after this many seconds and measure with those open.
  const START_BUDGET_S = int('--start-budget', flags['start-budget'], 0, 0);
  // The worker as compose runs it (its node flags and NODE_OPTIONS/MALLOC_ARENA_MAX), unless --worker-shape bare;
  // --worker-heap, --worker-flags and --worker-env come on top.
  const SHAPE = flags['worker-shape'] ?? 'compose';
  if (SHAPE !== 'compose' && SHAPE !== 'bare')
    throw new Error(`--worker-shape must be compose or bare, got "${SHAPE}"`);
  const shapeFlags = SHAPE === 'compose' ? composeNodeFlags('worker') : [];
  const workerFlags = [
    ...shapeFlags.filter((f) => !(workerHeapMb !== undefined && f.startsWith('--max-old-space-size='))),
    ...(flags['worker-flags'] ?? '').split(/\s+/).filter(Boolean),
  ];
  const workerOptions = flags['worker-options'] ?? '';
  if (workerOptions) JSON.parse(workerOptions);
  // The worker's environment on top of the bench's: compose's process tuning, then --worker-env.
  const workerEnv = Object.fromEntries([
    ...Object.entries(SHAPE === 'compose' ? composeRuntimeEnv('worker') : {}),
    ...(flags['worker-env'] ?? '')
      .split(',')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  ]);
  const cache = flags.cache === undefined ? undefined : int('--cache', flags.cache, 0, 0);
  const PG_ADMIN_URL = process.env.BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const DATABASE_NAME = `gov_bench_${process.pid}`;
  const TASK_QUEUE = `bench-memory-${process.pid}`;
  const CODEC_KEYS = generateCodecKey('bench');
  const BUNDLE = flags.bundle ?? 'prebuilt';
  if (BUNDLE !== 'prebuilt' && BUNDLE !== 'inproc')
    throw new Error(`--bundle must be prebuilt or inproc, got "${BUNDLE}"`);
  log(
    `config: ${N} cases (${START_CONCURRENCY} starts in flight), ${M} API requests (${CONCURRENCY} in flight), settle ${SETTLE_S} s, ` +
      `cache ${cache ?? `production default ${DEFAULT_WORKER_MAX_CACHED_WORKFLOWS}`}, workflow bundle ${BUNDLE}, ` +
      `worker node flags ${[...(workerHeapMb ? [`--max-old-space-size=${workerHeapMb}`] : []), ...workerFlags].join(' ') || 'none'}, ` +
      `worker options ${workerOptions || 'worker.ts'}, worker env ${
        Object.entries(workerEnv)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ') || "the bench's"
      } (shape ${SHAPE}); ` +
      `${os.cpus().length} CPU(s), load ${round(os.loadavg()[0] ?? 0)}`,
  );
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });

  const url = await createBenchDatabase(PG_ADMIN_URL, DATABASE_NAME, cleanups);
  const db = await openDatabase({ url: url, poolSize: 2 });
  cleanups.push({ what: 'bench pool', run: () => db.close() });
  await migrate(db);
  await seedDemoUsers(db.db);
  const probe = new pg.Pool({ connectionString: url, max: 2 });
  cleanups.push({ what: 'probe pool', run: () => probe.end() });

  const server = await startTemporal({ server: SERVER, log, register: (c) => cleanups.push(c) });
  log(`on ${server.description}`);
  const settings = { temporalNamespace: server.namespace, temporalTls: server.temporalTls, codecKeys: CODEC_KEYS };
  const { connection, client } = await connectClient(server.address, settings);
  cleanups.push({ what: 'client connection', run: () => connection.close() });
  let bundlePath: string | undefined;
  if (BUNDLE === 'prebuilt') {
    const { WORKFLOW_BUNDLE_OPTIONS } = await import('../worker');
    const { code } = await bundleWorkflowCode({ ...WORKFLOW_BUNDLE_OPTIONS, logger: new DefaultLogger('WARN') });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gov-memory-bench-'));
    bundlePath = path.join(dir, 'workflow-bundle.js');
    writeFileSync(bundlePath, code);
    cleanups.push({ what: 'bundle file', run: async () => rmSync(dir, { recursive: true, force: true }) });
    log(`workflow bundle prebuilt (${round(code.length / 2 ** 20, 1)} MB), as the production profile runs the worker`);
  }
  const childEnv = {
    ...(bundlePath ? { BENCH_WORKFLOW_BUNDLE: bundlePath } : {}),
    ...server.childEnv(),
    BENCH_DATABASE_URL: url,
    BENCH_TASK_QUEUE: TASK_QUEUE,
    BENCH_CODEC_KEYS: CODEC_KEYS,
    ...(cache !== undefined ? { BENCH_MAX_CACHED_WORKFLOWS: String(cache) } : {}),
    ...(workerOptions ? { BENCH_WORKER_OPTIONS: workerOptions } : {}),
  };

  // ── 1. the worker with N cases waiting on timers ──
  const worker = await forkRole('worker', { ...childEnv, ...workerEnv }, [
    ...(workerHeapMb === undefined ? [] : [`--max-old-space-size=${workerHeapMb}`]),
    ...workerFlags,
  ]);
  const workerPid = worker.child.pid!;
  const cacheInUse = worker.hello.maxCachedWorkflows as number;
  let usage = worker.hello.memory as Usage | undefined;
  worker.child.on('message', (m) => {
    if (m && typeof m === 'object' && 'memory' in m) usage = (m as { memory: Usage }).memory;
  });
  log(
    `worker ${workerPid} polling: ${JSON.stringify(worker.hello.options)}, V8 heap limit ${String(worker.hello.heapLimitMb)} MB; ${breakdown(rssMb(workerPid), usage)}`,
  );
  // The baseline: no case open yet, nothing to do but poll.
  await sleep(10_000);
  const idleRss = rssMb(workerPid)!;
  log(`worker idle after 10 s, 0 cases: ${breakdown(idleRss, usage)}`);
  const caseIds: string[] = [];
  const sampling = sampler(
    workerPid,
    1000,
    () => caseIds.length,
    () => usage,
  );
  const t0 = performance.now();
  let lastLog = t0;
  const run = await runPool(N, START_CONCURRENCY, async (i) => {
    if (START_BUDGET_S && performance.now() - t0 > START_BUDGET_S * 1000) return;
    const requestKey = `MEM-${process.pid}-${String(i + 1).padStart(5, '0')}`;
    const caseId = await startApprovalRaw(client, {
      taskQueue: TASK_QUEUE,
      requestKey,
      title: `Memory bench ${requestKey}`,
      initiatorId: MANAGER.id,
    });
    caseIds.push(caseId);
    if (performance.now() - lastLog > 30_000) {
      lastLog = performance.now();
      const s = (performance.now() - t0) / 1000;
      log(
        `  ${caseIds.length}/${N} open (${round(caseIds.length / s, 1)}/s); worker ${breakdown(rssMb(workerPid), usage)}`,
      );
    }
  });
  const startWallS = (performance.now() - t0) / 1000;
  if (run.errors.length) throw new Error(`${run.errors.length} starts failed, e.g. ${run.errors[0]!.message}`);
  if (caseIds.length < N) log(`start budget of ${START_BUDGET_S} s spent: ${caseIds.length} of ${N} cases started`);
  const opened = caseIds.length;
  const startPeak = Math.max(...sampling.samples.map((s) => s.rss));
  const { rows: openRows } = await probe.query<{ cases: number; tasks: number }>(
    `select (select count(*)::int from cases where status = 'open') as cases,
            (select count(*)::int from tasks where status = 'open') as tasks`,
  );
  log(
    `${opened} cases open in ${round(startWallS, 1)} s (${round(opened / startWallS, 1)}/s); read model: ${openRows[0]!.cases} open cases, ${openRows[0]!.tasks} open tasks; ` +
      `worker RSS now ${rssMb(workerPid)} MB, peak while starting ${startPeak} MB; settling ${SETTLE_S} s…`,
  );
  await sleep(SETTLE_S * 1000);
  sampling.stop();
  const all = sampling.samples;
  const settled = all.filter((s) => s.t >= startWallS).map((s) => s.rss);
  const peak = Math.max(...all.map((s) => s.rss));
  const last = all.at(-1);
  const series = all.filter((_, i) => i % Math.max(1, Math.floor(all.length / 20)) === 0 || i === all.length - 1);
  console.log(
    "\nworker RSS against open cases (MB; V8 figures are the main isolate's):\n" +
      table(
        [
          't s',
          'open cases',
          'RSS',
          'heap used',
          'heap total',
          'external',
          'array buffers',
          'RSS - heap total - external',
        ],
        series.map((s) => [
          round(s.t, 0),
          s.open,
          s.rss,
          mb(s.usage?.heapUsed),
          mb(s.usage?.heapTotal),
          mb(s.usage?.external),
          mb(s.usage?.arrayBuffers),
          s.usage ? round(s.rss - mb(s.usage.heapTotal) - mb(s.usage.external), 1) : Number.NaN,
        ]),
      ) +
      '\n',
  );
  log(
    `worker: idle ${idleRss} MB, peak ${peak} MB, settled ${last?.rss} MB (min ${Math.min(...settled)}, max ${Math.max(...settled)} over the ${SETTLE_S} s after the last start) ` +
      `with ${opened} cases waiting on timers, maxCachedWorkflows ${cacheInUse}; target < ${WORKER_RSS_TARGET_MB} MB: ${peak < WORKER_RSS_TARGET_MB ? 'met' : 'NOT met'}`,
  );
  log(`worker settled: ${breakdown(last?.rss, last?.usage)}`);

  const figures = [
    figure({
      name: `worker RSS peak, ${opened} open cases`,
      value: peak,
      unit: 'MB',
      rounds: [peak],
      target: { op: '<', bound: WORKER_RSS_TARGET_MB },
      note: `cache ${cacheInUse}; idle ${idleRss} MB; settled ${last?.rss} MB${opened < N ? `; ${opened} of ${N} started (start budget)` : ''}`,
    }),
  ];
  const writeResult = () =>
    writeSuiteResult({
      suite: 'memory',
      server: SERVER,
      startedAt: startedAt.toISOString(),
      loadAtStart,
      config: {
        cases: N,
        opened,
        requests: M,
        cache: cacheInUse,
        workerHeapMb,
        workerFlags,
        workerEnv,
        workerOptions: workerOptions || undefined,
        bundle: BUNDLE,
      },
      figures,
      details: {
        idleRssMb: idleRss,
        workerRss: series.map((s) => ({ t: round(s.t, 0), open: s.open, rss: s.rss })),
      },
    });

  // ── 2. the API over M requests ──
  if (M === 0) {
    log(`wrote ${path.relative(process.cwd(), writeResult())}`);
    return;
  }
  const api = await forkRole('api', childEnv);
  const apiPid = api.child.pid!;
  const baseUrl = `http://127.0.0.1:${String(api.hello.port)}`;
  const get = async (path: string, token: string) => {
    const res = await fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
    const body = await res.arrayBuffer();
    if (res.status !== 200)
      throw new Error(`GET ${path}: HTTP ${res.status} ${Buffer.from(body).toString().slice(0, 200)}`);
    return body.byteLength;
  };
  // Warm-up, not counted.
  await runPool(300, CONCURRENCY, (i) => request(i));
  function request(i: number): Promise<number> {
    switch (i % 3) {
      case 0:
        return get('/api/tasks/inbox', APPROVER_TOKEN);
      case 1:
        return get(`/api/cases/${encodeURIComponent(caseIds[i % caseIds.length]!)}`, MANAGER.token);
      default:
        return get('/api/cases?limit=20', APPROVER_TOKEN);
    }
  }
  const apiRows: Array<Array<string | number>> = [[0, 0, rssMb(apiPid) ?? Number.NaN, 0, 0, 0]];
  const STEP = Math.min(int('--every', flags.every, 10_000, 1), M);
  let latencies: number[] = [];
  const tApi = performance.now();
  for (let done = 0; done < M;) {
    const n = Math.min(STEP, M - done);
    const offset = done;
    const r = await runPool(n, CONCURRENCY, (i) => request(offset + i));
    if (r.errors.length) throw new Error(`${r.errors.length} requests failed, e.g. ${r.errors[0]!.message}`);
    done += n;
    latencies = r.latencies;
    apiRows.push([
      done,
      round((performance.now() - tApi) / 1000, 1),
      rssMb(apiPid) ?? Number.NaN,
      round((n / r.wallMs) * 1000, 0),
      round(percentile(latencies, 50), 1),
      round(percentile(latencies, 99), 1),
    ]);
    log(`  API: ${done}/${M} requests, RSS ${rssMb(apiPid)} MB`);
  }
  console.log(
    `\nAPI RSS every ${STEP} requests (inbox / case / case list, a third each):\n` +
      table(['requests', 't s', 'RSS MB', 'req/s', 'p50 ms', 'p99 ms'], apiRows) +
      '\n',
  );
  const rssSeries = apiRows.slice(1).map((r) => r[2] as number);
  log(
    `API: RSS ${rssSeries.join(', ')} MB; first→last after warm-up ${round(rssSeries.at(-1)! - rssSeries[0]!, 1)} MB, ` +
      `max ${Math.max(...rssSeries)} MB`,
  );
  // "Flat" as the growth from the first to the last sample after warm-up; 10 % is the bound we chose (README).
  const growthPct = round(((rssSeries.at(-1)! - rssSeries[0]!) / rssSeries[0]!) * 100, 1);
  figures.push(
    figure({
      name: `API RSS growth over ${M} requests`,
      value: growthPct,
      unit: '%',
      rounds: rssSeries,
      target: { op: '<=', bound: 10 },
      note: `rounds: RSS MB every ${STEP} requests; max ${Math.max(...rssSeries)} MB`,
    }),
  );
  log(`wrote ${path.relative(process.cwd(), writeResult())}`);
}

if (flags.role === 'worker' || flags.role === 'api') {
  (flags.role === 'worker' ? workerChild() : apiChild()).catch((err) => {
    console.error(`[memory ${flags.role}]`, err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  });
} else {
  if (flags.help) {
    console.log(`usage: npx tsx bench/memory.bench.ts [--cases N] [--requests M] [--cache C] [--settle S] [--concurrency K] [--server dev|real]
  --server S       dev: the Temporal CLI's dev server (default); real: the production profile's server
  --cases N        approval cases left waiting on timers (default 10000)
  --requests M     API GET requests (default 100000), RSS sampled every 10,000
  --cache C        run the worker with maxCachedWorkflows = C (default: DEFAULT_WORKER_MAX_CACHED_WORKFLOWS)
  --every E        sample the API's RSS every E requests (default 10000)
  --settle S       seconds of RSS sampling after the last start (default 60)
  --concurrency K  API requests in flight (default 16)
  --start-concurrency K  case starts in flight (default: --concurrency)
  --start-budget S stop starting cases after S seconds (a loaded box) and measure with those open
  --worker-shape S compose: the worker with docker-compose.yml's node flags and NODE_OPTIONS/MALLOC_ARENA_MAX
                   (default); bare: a bare node
  --worker-flags F more node flags for the worker, space separated (--worker-flags=--max-semi-space-size=8)
  --worker-env E   more environment for the worker, K=V,… (MALLOC_ARENA_MAX=4)
  --worker-options J  Worker.create options on top of worker.ts's, JSON ('{"workflowThreadPoolSize":2}')
  --worker-heap MB  run the worker with --max-old-space-size=MB instead of compose's
  --bundle B       prebuilt: the worker loads a workflow bundle built beforehand, as the production
                   profile does (default); inproc: it bundles at start-up, as \`npm run worker\` does`);
    process.exit(0);
  }
  onSignals();
  main()
    .catch((err) => {
      console.error('[memory]', err instanceof Error ? (err.stack ?? err.message) : err);
      process.exitCode = 1;
    })
    .finally(() => cleanup().then(() => process.exit()));
}
