/**
 * Small helpers for the benchmarks: a bounded-concurrency runner that times
 * every call, percentiles, memory/CPU snapshots, polling and table printing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import { workflowIdFor } from '../domain/cases';
import { DEFAULT_POLICY_SNAPSHOT } from '../domain/policy';
import type { approvalRequestWorkflow } from '../workflows/approvalRequest';
import { settledUpdate } from '../workflows/definitions';
import { GovOwnerRole, GovProcess, GovRiskLevel, GovStage } from '../workflows/searchAttributes';

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

export interface Cleanup {
  what: string;
  run: () => Promise<unknown>;
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
