/**
 * Small helpers for the benchmarks: a bounded-concurrency runner that times
 * every call, percentiles, memory/CPU snapshots, polling and table printing;
 * the one result shape every suite writes (`writeSuiteResult`) and the
 * runner merges (`mergeResults`, bench/run.ts); and the Temporal a suite runs
 * on (`startTemporal`: the dev server, or the production profile's server).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { Connection, WithStartWorkflowOperation, type Client } from '@temporalio/client';
import { msToTs } from '@temporalio/common';
import { workflowIdFor } from '../domain/cases';
import { DEFAULT_POLICY_SNAPSHOT } from '../domain/policy';
import { DEFAULT_WORKER_MAX_CACHED_WORKFLOWS, type Settings } from '../platform/config';
import { startDevServer } from '../platform/devServer';
import { ensureSearchAttributes } from '../platform/searchAttributes';
import { temporalTlsOptions } from '../platform/temporalTls';
import type { approvalRequestWorkflow } from '../workflows/approvalRequest';
import { settledUpdate } from '../workflows/definitions';
import { GovOwnerRole, GovProcess, GovRiskLevel, GovStage, SEARCH_ATTRIBUTE_KEYS } from '../workflows/searchAttributes';

export interface RunResult<T> {
  /** Per-call latency in milliseconds, in completion order. */
  latencies: number[];
  /** Wall time of the whole phase, first call sent to last call answered. */
  wallMs: number;
  results: T[];
  errors: Array<{ index: number; message: string }>;
}

/** Calls fn(0..n-1) with at most `concurrency` calls in flight, timing each call. */
export async function runPool<T>(
  n: number,
  concurrency: number,
  fn: (index: number) => Promise<T>,
): Promise<RunResult<T>> {
  const latencies: number[] = [];
  const results: T[] = new Array(n);
  const errors: RunResult<T>['errors'] = [];
  let next = 0;
  const started = performance.now();
  const lane = async () => {
    for (;;) {
      const index = next++;
      if (index >= n) return;
      const t0 = performance.now();
      try {
        results[index] = await fn(index);
        latencies.push(performance.now() - t0);
      } catch (err) {
        errors.push({ index, message: err instanceof Error ? err.message : String(err) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, n)) }, lane));
  return { latencies, wallMs: performance.now() - started, results, errors };
}

/** Nearest-rank percentile of unsorted samples (p in 0..100). */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function mean(samples: number[]): number {
  return samples.length ? samples.reduce((a, b) => a + b, 0) / samples.length : Number.NaN;
}

export interface MemorySnapshot {
  rssMb: number;
  heapUsedMb: number;
}

export function memory(): MemorySnapshot {
  const m = process.memoryUsage();
  return { rssMb: round(m.rss / 2 ** 20, 1), heapUsedMb: round(m.heapUsed / 2 ** 20, 1) };
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls until `check` returns true; throws with `what` after `timeoutMs`. */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** A plain text table: right-aligns numbers, left-aligns text. */
export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => String(r[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'));
  const line = (r: Array<string | number>) =>
    r
      .map((c, i) => (numeric[i] ? String(c).padStart(widths[i]!) : String(c).padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n)) return String(n);
  return n.toFixed(Math.abs(n) >= 100 ? 1 : 2);
}

// ── CPU accounting per process (Linux /proc; informational) ──

const CLOCK_TICKS_PER_SEC = 100;

/** User+system CPU time of one process, all threads, in ms; undefined if unreadable. */
export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "(comm)": state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SEC;
  } catch {
    return undefined;
  }
}

/** Every descendant of `pid` (children of all its threads, recursively). */
export function descendantPids(pid: number): number[] {
  const found: number[] = [];
  const visit = (parent: number) => {
    let threads: string[] = [];
    try {
      threads = readdirSync(`/proc/${parent}/task`);
    } catch {
      return;
    }
    for (const tid of threads) {
      let children = '';
      try {
        children = readFileSync(`/proc/${parent}/task/${tid}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const child of children.trim().split(/\s+/).filter(Boolean).map(Number)) {
        if (!found.includes(child)) {
          found.push(child);
          visit(child);
        }
      }
    }
  };
  visit(pid);
  return found;
}

export function processName(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** CPU ms used by a set of processes between two `cpuOf` snapshots (a pid missing from `before` counts from 0). */
export function cpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, ms] of after) total += ms - (before.get(pid) ?? 0);
  return total;
}

export function cpuOf(pids: number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    const ms = processCpuMs(pid);
    if (ms !== undefined) out.set(pid, ms);
  }
  return out;
}

/**
 * The bench worker's sticky cache: the product's (WORKER_MAX_CACHED_WORKFLOWS'
 * default, platform/config.ts), or BENCH_MAX_CACHED_WORKFLOWS (a suite's
 * --cache). A bench measures the worker as it is deployed: with the SDK's
 * default cache a 1,000-case run kept every case in memory (3 GB) and
 * measured the garbage collector.
 */
export function benchWorkerCache(): number {
  const raw = process.env.BENCH_MAX_CACHED_WORKFLOWS;
  if (raw === undefined || raw === '') return DEFAULT_WORKER_MAX_CACHED_WORKFLOWS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 2) throw new Error(`BENCH_MAX_CACHED_WORKFLOWS must be an integer ≥ 2, got "${raw}"`);
  return n;
}

export interface Cleanup {
  what: string;
  run: () => Promise<unknown>;
}

/**
 * The app served over real HTTP on a free loopback port, closed by a cleanup
 * (open connections too); the base URL once it listens.
 */
export async function serveBench(
  fetchHandler: (request: Request) => Response | Promise<Response>,
  cleanups: Cleanup[],
): Promise<string> {
  const httpServer = serve({ fetch: fetchHandler, port: 0, hostname: '127.0.0.1' });
  cleanups.push({
    what: 'HTTP server',
    run: () =>
      new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        (httpServer as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  });
  await new Promise<void>((resolve, reject) => {
    if (httpServer.listening) return resolve();
    httpServer.once('listening', resolve);
    httpServer.once('error', reject);
  });
  const address = httpServer.address();
  if (!address || typeof address === 'string') throw new Error('the HTTP server has no port');
  return `http://127.0.0.1:${address.port}`;
}

/**
 * A bench's teardown: what it started (`cleanups`, pushed in start order) is
 * stopped in reverse order, each step given 20 s, once however often it is
 * asked. `onSignals()` makes Ctrl-C and SIGTERM tear down too (exit 130).
 */
export function benchTeardown(name: string, stepTimeoutMs = 20_000) {
  const cleanups: Cleanup[] = [];
  let cleanedUp: Promise<void> | undefined;
  const cleanup = (): Promise<void> => {
    cleanedUp ??= (async () => {
      for (const { what, run } of cleanups.splice(0).reverse()) {
        try {
          await Promise.race([
            run(),
            sleep(stepTimeoutMs).then(() => Promise.reject(new Error(`took over ${stepTimeoutMs / 1000} s`))),
          ]);
        } catch (err) {
          console.error(`[${name}] while stopping (${what}):`, err instanceof Error ? err.message : err);
        }
      }
    })();
    return cleanedUp;
  };
  const onSignals = () => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.on(signal, () => {
        if (cleanedUp) return;
        console.error(`\n[${name}] ${signal}: tearing down…`);
        void cleanup().then(() => process.exit(130));
      });
    }
  };
  return { cleanups, cleanup, onSignals };
}

/**
 * A bench's own database on the admin URL's server: created now, and a
 * cleanup that drops it once the pools' sessions have ended (a forced drop
 * would kill a closing client). Returns its URL.
 */
export async function createBenchDatabase(adminUrl: string, name: string, cleanups: Cleanup[]): Promise<string> {
  const { default: pg } = await import('pg');
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  cleanups.push({ what: 'admin connection', run: () => admin.end() });
  await admin.query(`create database "${name}"`);
  cleanups.push({
    what: `drop database ${name}`,
    run: async () => {
      for (let i = 0; i < 50; i++) {
        const { rows } = await admin.query<{ n: number }>(
          'select count(*)::int as n from pg_stat_activity where datname = $1',
          [name],
        );
        if (rows[0]?.n === 0) break;
        await sleep(100);
      }
      await admin.query(`drop database if exists "${name}" with (force)`);
    },
  });
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * What POST /api/cases/approval-requests sends to Temporal for
 * { requestKey, title, probability: 1, impact: 2 } from `initiatorId`:
 * update-with-start with the `settled` Update, so the call returns once the
 * case row and its approval task exist. The raw side of every bench.
 */
export async function startApprovalRaw(
  client: Client,
  options: { taskQueue: string; requestKey: string; title: string; initiatorId: string },
): Promise<string> {
  const { requestKey, title, initiatorId } = options;
  const caseId = workflowIdFor.approvalRequest(requestKey);
  const startWorkflowOperation = new WithStartWorkflowOperation<typeof approvalRequestWorkflow>(
    'approvalRequestWorkflow',
    {
      taskQueue: options.taskQueue,
      workflowId: caseId,
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      workflowIdConflictPolicy: 'FAIL',
      typedSearchAttributes: [
        { key: GovProcess, value: 'approval_request' },
        { key: GovStage, value: 'awaiting_approval' },
        { key: GovRiskLevel, value: 'low' },
        { key: GovOwnerRole, value: 'manager' },
      ],
      args: [
        {
          caseId,
          requestKey,
          title,
          description: undefined,
          assessment: { probability: 1, impact: 2 },
          policy: DEFAULT_POLICY_SNAPSHOT,
          initiatorId,
          ownerId: undefined,
          approvalTimings: undefined,
          rectificationTimings: undefined,
        },
      ],
    },
  );
  await client.workflow.executeUpdateWithStart(settledUpdate, { startWorkflowOperation });
  return caseId;
}

// ───────────────── one result shape for every suite (issue 15) ─────────────────

/** The suites `npm run bench -- --suite …` knows, in the order it runs them. */
export const SUITES = ['starts', 'decisions', 'campaign', 'inbox', 'audit', 'memory', 'console'] as const;
export type SuiteName = (typeof SUITES)[number];

/** Which Temporal a suite ran on: the CLI's dev server, the production-shaped server, or none. */
export type ServerKind = 'dev' | 'real';

export const SUITE_RESULT_SCHEMA = 'governance-bench-suite/1';

/** A figure's target: `value op bound`, e.g. { op: '>=', bound: 0.8 }. */
export interface Target {
  op: '>=' | '<=' | '<' | '>';
  bound: number;
}

/** pass/miss against the target; info when the figure has no target or no value. */
export type Verdict = 'pass' | 'miss' | 'info';

export interface Figure {
  /** What is measured, in the issue's words: "starts throughput API ÷ raw". */
  name: string;
  /** The figure the verdict is taken on (how it is taken from the rounds is in `note`). */
  value: number | null;
  unit: string;
  /** Every round's value, in order. */
  rounds: number[];
  target: Target | null;
  /**
   * 'every-round': PASS only when the value and each round meet the target,
   * so a summary taken from the better rounds cannot pass on one good round.
   * Default 'value'.
   */
  verdictOver?: 'value' | 'every-round';
  verdict: Verdict;
  note?: string;
}

export interface MachineFacts {
  node: string;
  platform: string;
  cpus: number;
  cpuModel?: string;
  totalMemoryMb: number;
  /** 1-minute load average when the suite started and ended: other work on the box shows here. */
  loadAtStart: number;
  loadAtEnd: number;
}

export interface SuiteResult {
  schema: typeof SUITE_RESULT_SCHEMA;
  suite: SuiteName;
  /** 'n/a' for a suite that needs no Temporal (audit). */
  server: ServerKind | 'n/a';
  startedAt: string;
  finishedAt: string;
  /** BENCH_RUN_ID of the bench/run.ts run that started the suite, if one did. */
  runId?: string;
  machine: MachineFacts;
  config: Record<string, unknown>;
  figures: Figure[];
  /** The suite's own full record (every phase, CPU, memory…), free-form. */
  details?: unknown;
}

export function verdictOf(value: number | null, target: Target | null): Verdict {
  if (target === null || value === null || !Number.isFinite(value)) return target === null ? 'info' : 'miss';
  switch (target.op) {
    case '>=':
      return value >= target.bound ? 'pass' : 'miss';
    case '<=':
      return value <= target.bound ? 'pass' : 'miss';
    case '<':
      return value < target.bound ? 'pass' : 'miss';
    case '>':
      return value > target.bound ? 'pass' : 'miss';
  }
}

/** The verdict on a figure: on its value, and on each round too when `verdictOver` says so. */
export function figureVerdict(f: Pick<Figure, 'value' | 'target' | 'rounds' | 'verdictOver'>): Verdict {
  const onValue = verdictOf(f.value, f.target);
  if (f.verdictOver !== 'every-round' || onValue !== 'pass') return onValue;
  return f.rounds.every((r) => verdictOf(r, f.target) === 'pass') ? 'pass' : 'miss';
}

/** A figure with its verdict taken from its value and target. */
export function figure(input: {
  name: string;
  value: number | null;
  unit: string;
  rounds: number[];
  target?: Target | null;
  verdictOver?: 'value' | 'every-round';
  note?: string;
}): Figure {
  const target = input.target ?? null;
  const value = input.value === null || !Number.isFinite(input.value) ? null : input.value;
  return {
    name: input.name,
    value,
    unit: input.unit,
    rounds: input.rounds,
    target,
    ...(input.verdictOver ? { verdictOver: input.verdictOver } : {}),
    verdict: figureVerdict({ value, target, rounds: input.rounds, verdictOver: input.verdictOver }),
    ...(input.note ? { note: input.note } : {}),
  };
}

export function machineFacts(loadAtStart: number): MachineFacts {
  return {
    node: process.version,
    platform: `${process.platform} ${os.release()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    totalMemoryMb: Math.round(os.totalmem() / 2 ** 20),
    loadAtStart: round(loadAtStart),
    loadAtEnd: round(os.loadavg()[0] ?? 0),
  };
}

export const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));
export const suiteResultFile = (suite: SuiteName, dir = RESULTS_DIR) => path.join(dir, `${suite}.json`);

/** Writes bench/results/<suite>.json in the common shape; returns its path. */
export function writeSuiteResult(
  input: Omit<SuiteResult, 'schema' | 'finishedAt' | 'machine'> & { loadAtStart: number },
  dir = RESULTS_DIR,
): string {
  const { loadAtStart, ...rest } = input;
  const result: SuiteResult = {
    schema: SUITE_RESULT_SCHEMA,
    ...rest,
    finishedAt: new Date().toISOString(),
    ...(process.env.BENCH_RUN_ID ? { runId: process.env.BENCH_RUN_ID } : {}),
    machine: machineFacts(loadAtStart),
  };
  mkdirSync(dir, { recursive: true });
  const file = suiteResultFile(input.suite, dir);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}

/** What a suite's result file said, read back: a result, or why there is none. */
export type SuiteOutcome =
  { suite: SuiteName; status: 'ok'; result: SuiteResult } | { suite: SuiteName; status: 'no result'; reason: string };

/**
 * Checks a parsed results file: the common shape, this suite, written by this
 * run (finished at or after `notBefore`), so a suite that failed never shows
 * an earlier run's figures.
 */
export function parseSuiteResult(suite: SuiteName, json: unknown, notBefore?: Date, runId?: string): SuiteOutcome {
  const r = json as Partial<SuiteResult> | null;
  if (!r || typeof r !== 'object' || r.schema !== SUITE_RESULT_SCHEMA || !Array.isArray(r.figures))
    return { suite, status: 'no result', reason: 'results file in an older shape' };
  if (r.suite !== suite) return { suite, status: 'no result', reason: `results file is for suite ${String(r.suite)}` };
  const finished = Date.parse(r.finishedAt ?? '');
  if (notBefore && !(finished >= notBefore.getTime()))
    return { suite, status: 'no result', reason: `results file is from an earlier run (${String(r.finishedAt)})` };
  // Two runs at once write the same files: only this run's count.
  if (runId && r.runId !== runId)
    return { suite, status: 'no result', reason: `results file is from another run (${String(r.runId ?? 'none')})` };
  return { suite, status: 'ok', result: r as SuiteResult };
}

export function readSuiteResult(suite: SuiteName, notBefore?: Date, dir = RESULTS_DIR, runId?: string): SuiteOutcome {
  const file = suiteResultFile(suite, dir);
  if (!existsSync(file)) return { suite, status: 'no result', reason: `no ${path.basename(file)}` };
  try {
    return parseSuiteResult(suite, JSON.parse(readFileSync(file, 'utf8')), notBefore, runId);
  } catch (err) {
    return { suite, status: 'no result', reason: `unreadable ${path.basename(file)}: ${(err as Error).message}` };
  }
}

/** One row per figure of every suite, and one per suite without a result. */
export interface MergedRow {
  suite: SuiteName;
  server: ServerKind | 'n/a' | '—';
  figure: string;
  value: number | null;
  unit: string;
  rounds: number[];
  target: Target | null;
  verdict: Verdict | 'no result';
  note?: string;
}

export interface MergedResults {
  schema: 'governance-bench/1';
  startedAt: string;
  finishedAt: string;
  /** The server asked for; each row says the one its suite ran on. */
  server: ServerKind;
  argv: string[];
  /** pass when every figure with a target passed and every suite gave a result. */
  overall: 'pass' | 'miss';
  counts: { pass: number; miss: number; info: number; noResult: number };
  rows: MergedRow[];
  suites: Array<SuiteOutcome & { exitCode?: number | null }>;
}

export function mergeResults(input: {
  startedAt: Date;
  finishedAt: Date;
  server: ServerKind;
  argv: string[];
  outcomes: Array<SuiteOutcome & { exitCode?: number | null }>;
}): MergedResults {
  const rows: MergedRow[] = [];
  for (const outcome of input.outcomes) {
    if (outcome.status === 'no result') {
      rows.push({
        suite: outcome.suite,
        server: '—',
        figure: '(no result)',
        value: null,
        unit: '',
        rounds: [],
        target: null,
        verdict: 'no result',
        note: outcome.reason,
      });
      continue;
    }
    for (const f of outcome.result.figures) {
      rows.push({
        suite: outcome.suite,
        server: outcome.result.server,
        figure: f.name,
        value: f.value,
        unit: f.unit,
        rounds: f.rounds,
        target: f.target,
        // Recomputed, so a hand-edited or older verdict cannot disagree with value and target.
        verdict: figureVerdict(f),
        ...(f.note ? { note: f.note } : {}),
      });
    }
  }
  const counts = {
    pass: rows.filter((r) => r.verdict === 'pass').length,
    miss: rows.filter((r) => r.verdict === 'miss').length,
    info: rows.filter((r) => r.verdict === 'info').length,
    noResult: rows.filter((r) => r.verdict === 'no result').length,
  };
  return {
    schema: 'governance-bench/1',
    startedAt: input.startedAt.toISOString(),
    finishedAt: input.finishedAt.toISOString(),
    server: input.server,
    argv: input.argv,
    overall: counts.miss === 0 && counts.noResult === 0 ? 'pass' : 'miss',
    counts,
    rows,
    suites: input.outcomes,
  };
}

const numberText = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(Math.abs(n) >= 100 ? 0 : 2));

export function targetText(target: Target | null, unit = ''): string {
  if (!target) return '—';
  const op = { '>=': '≥', '<=': '≤', '<': '<', '>': '>' }[target.op];
  return `${op} ${numberText(target.bound)}${unit ? ` ${unit}` : ''}`;
}

/** The runner's table: figure, value, every round, target, pass/miss. */
export function mergedTable(merged: MergedResults): string {
  return table(
    ['suite', 'server', 'figure', 'value', 'rounds', 'target', 'verdict'],
    merged.rows.map((r) => [
      r.suite,
      r.server,
      r.figure,
      r.value === null
        ? r.verdict === 'no result'
          ? (r.note ?? '')
          : 'n/a'
        : `${numberText(r.value)} ${r.unit}`.trim(),
      r.rounds.map(numberText).join(', '),
      targetText(r.target, r.unit),
      r.verdict === 'pass' ? 'PASS' : r.verdict === 'miss' ? 'MISS' : r.verdict,
    ]),
  );
}

// ───────────────── the Temporal a suite runs on ─────────────────

/** `--server dev|real` (or BENCH_SERVER, set by bench/run.ts); dev by default. */
export function serverKind(raw: string | undefined = process.env.BENCH_SERVER): ServerKind {
  if (raw === undefined || raw === '' || raw === 'dev') return 'dev';
  if (raw === 'real') return 'real';
  throw new Error(`--server must be dev or real, got "${raw}"`);
}

export interface BenchTemporal {
  server: ServerKind;
  address: string;
  namespace: string;
  /** Mutual TLS for connectClient/connectWorker (with the bench's own codec keys); undefined on the dev server. */
  temporalTls: Settings['temporalTls'];
  /** One line for the log: what runs where. */
  description: string;
  /** The server's processes, for CPU accounting. */
  serverPids(): number[];
  /** BENCH_TEMPORAL_* for a forked child (worker.child.ts) to connect the same way. */
  childEnv(): Record<string, string>;
  teardown(): Promise<void>;
}

/**
 * The Temporal a suite runs on:
 *  - dev: the CLI's dev server in memory (platform/devServer.ts, as the tests);
 *  - real: the production profile's server (scripts/production/): Temporal
 *    1.29.1 built into .tools/bin, on a PostgreSQL cluster of its own with
 *    the temporal and visibility schemas set up by its sql tool, the
 *    frontend behind mutual TLS, deploy/temporal's dynamic config, and the
 *    namespace with the product's search attributes. The profile's own
 *    functions make it, so the bench measures what compose runs.
 * The app's database stays where the suite puts it (BENCH_PG_ADMIN_URL) on
 * both, so Temporal is the only difference between a dev and a real run.
 */
export async function startTemporal(options: {
  server: ServerKind;
  log: (line: string) => void;
  /**
   * Takes the teardown before the server is up, so a Ctrl-C during the
   * (minutes-long) start of the real server still stops what has started.
   */
  register: (cleanup: Cleanup) => void;
}): Promise<BenchTemporal> {
  const { log } = options;
  if (options.server === 'dev') {
    log('starting the Temporal dev server (in memory)…');
    const dev = await startDevServer({ log });
    options.register({ what: 'Temporal dev server', run: () => dev.teardown() });
    return {
      server: 'dev',
      address: dev.address,
      namespace: 'default',
      temporalTls: undefined,
      description: `Temporal dev server (in memory) at ${dev.address}`,
      serverPids: () => descendantPids(process.pid).filter((pid) => processName(pid) === 'temporal'),
      childEnv: () => ({ BENCH_TEMPORAL_ADDRESS: dev.address, BENCH_NAMESPACE: 'default' }),
      teardown: () => dev.teardown(),
    };
  }
  return startRealTemporal(log, options.register);
}

async function startRealTemporal(
  log: (line: string) => void,
  register: (cleanup: Cleanup) => void,
): Promise<BenchTemporal> {
  // Loaded only here: a dev run and the unit tests do not need the production scripts.
  const { ensureServerTools } = await import('../scripts/production/tools');
  const { createPostgresCluster, TEMPORAL_DATABASE, VISIBILITY_DATABASE } =
    await import('../scripts/production/postgres');
  const { generateCertificates, setUpSchemas, spawnServer, writeServerConfig } =
    await import('../scripts/production/temporalServer');
  const { freePort, freeTemporalPorts, readAppEnv } = await import('../scripts/production/profile');

  const tools = await ensureServerTools(log);
  const root = mkdtempSync(path.join(os.tmpdir(), 'gov-bench-temporal-'));
  const stops: Array<() => Promise<unknown> | unknown> = [];
  const teardown = async () => {
    for (const stop of stops.splice(0).reverse())
      await Promise.resolve(stop()).catch((err) => log(`while stopping: ${err}`));
  };
  register({ what: 'Temporal server (production profile) and its PostgreSQL', run: teardown });
  try {
    const appEnv = readAppEnv();
    const namespace = appEnv.TEMPORAL_NAMESPACE ?? 'default';
    const secret = () => randomBytes(18).toString('hex');
    const passwords = { postgres: secret(), temporal: secret(), governance_owner: secret(), governance_app: secret() };
    const tlsFiles = generateCertificates(path.join(root, 'tls'), appEnv.TEMPORAL_TLS_SERVER_NAME);
    stops.push(() => rmSync(root, { recursive: true, force: true }));
    const postgres = await createPostgresCluster({ dir: root, port: await freePort(), passwords, log });
    stops.push(() => postgres.stop('immediate'));
    const db = {
      port: postgres.port,
      user: 'temporal',
      password: passwords.temporal,
      temporalDatabase: TEMPORAL_DATABASE,
      visibilityDatabase: VISIBILITY_DATABASE,
    };
    setUpSchemas(tools.sql, db, log);
    const ports = await freeTemporalPorts();
    const configRoot = path.join(root, 'temporal');
    writeServerConfig(configRoot, { ports, db, tls: tlsFiles });
    const logFile = path.join(root, 'temporal.log');
    const address = `127.0.0.1:${ports.frontend}`;
    log(
      `starting the Temporal server ${path.relative(process.cwd(), tools.server)} on ${address} (mTLS, PostgreSQL on ${postgres.port})…`,
    );
    const server = spawnServer(tools.server, configRoot, logFile);
    stops.push(async () => {
      if (server.child.exitCode !== null || server.child.signalCode !== null) return;
      server.child.kill('SIGTERM');
      const timer = setTimeout(() => server.child.kill('SIGKILL'), 5_000);
      await server.exited;
      clearTimeout(timer);
    });
    const temporalTls = {
      certPath: tlsFiles.clientCert,
      keyPath: tlsFiles.clientKey,
      caPath: tlsFiles.ca,
      serverName: tlsFiles.serverName,
    };
    let exitedEarly: number | null | undefined;
    void server.exited.then((code) => (exitedEarly = code));
    const connect = () =>
      Connection.connect({ address, tls: temporalTlsOptions({ temporalTls }), connectTimeout: 2_000 });
    const connection = await (async () => {
      const deadline = Date.now() + 120_000;
      for (;;) {
        if (exitedEarly !== undefined)
          throw new Error(`the Temporal server exited (code ${exitedEarly}); its log: ${logFile}`);
        try {
          const c = await connect();
          await c.workflowService.getSystemInfo({});
          return c;
        } catch (err) {
          if (Date.now() > deadline) throw new Error(`the Temporal server did not answer within 120 s: ${String(err)}`);
          await sleep(250);
        }
      }
    })();
    stops.push(() => connection.close());
    // The namespace with compose's retention, then the product's search attributes
    // (platform/searchAttributes.ts, as against any production cluster).
    try {
      await connection.workflowService.registerNamespace({
        namespace,
        workflowExecutionRetentionPeriod: msToTs('72h'),
      });
    } catch (err) {
      if (!/already exists/i.test(String(err))) throw err;
    }
    await waitUntil(
      `namespace ${namespace}`,
      async () =>
        connection.workflowService.describeNamespace({ namespace }).then(
          () => true,
          () => false,
        ),
      60_000,
      250,
    );
    await ensureSearchAttributes(connection, namespace);
    // Visible to queries once the namespace's cache has them.
    const probe = SEARCH_ATTRIBUTE_KEYS.map((k) =>
      k.type === 'DATETIME' ? `${k.name} > '2000-01-01T00:00:00Z'` : `${k.name} = 'probe'`,
    ).join(' AND ');
    await waitUntil(
      'the search attributes',
      async () =>
        connection.workflowService.listWorkflowExecutions({ namespace, query: probe, pageSize: 1 }).then(
          () => true,
          () => false,
        ),
      60_000,
      250,
    );
    log(
      `Temporal server up: namespace ${namespace} with ${SEARCH_ATTRIBUTE_KEYS.length} search attributes (log ${logFile})`,
    );
    return {
      server: 'real',
      address,
      namespace,
      temporalTls,
      description: `the production-profile Temporal server (.tools/bin/server, PostgreSQL ${postgres.port}, mTLS) at ${address}`,
      serverPids: () => (server.child.pid ? [server.child.pid] : []),
      childEnv: () => ({
        BENCH_TEMPORAL_ADDRESS: address,
        BENCH_NAMESPACE: namespace,
        BENCH_TEMPORAL_TLS: JSON.stringify(temporalTls),
      }),
      teardown,
    };
  } catch (err) {
    await teardown();
    throw err;
  }
}

/** The TLS settings a forked child got from `childEnv()`. */
export function temporalTlsFromEnv(env: NodeJS.ProcessEnv = process.env): Settings['temporalTls'] {
  return env.BENCH_TEMPORAL_TLS ? (JSON.parse(env.BENCH_TEMPORAL_TLS) as Settings['temporalTls']) : undefined;
}
