/**
 * The campaign suite of `npm run bench -- --suite campaign` (bench/run.ts), or
 * `npx tsx bench/campaign.bench.ts [--suppliers N] [--rounds R] [--restart] [--server dev|real]`
 *
 * Does the annual supplier review campaign start reviews as fast as a plain
 * loop of starts? Seeds N active suppliers with SQL, then, in R rounds of
 * alternating order:
 *  - campaign: one POST /api/supplier-reviews/campaigns (real HTTP) for a
 *    fresh year, timed until the campaign's progress query says 'done' — by
 *    then every review it started has settled (each start in a batch is
 *    update-with-start with the `settled` Update);
 *  - raw: N update-with-start calls of the same review workflow with the
 *    same arguments, through the raw Temporal client, CAMPAIGN_BATCH_SIZE in
 *    flight (the campaign's own concurrency), for another fresh year.
 * Same worker (a child process, bench/worker.child.ts), Temporal (the dev
 * server, or with --server real the production profile's) and database.
 * Prints throughput per side and campaign ÷ raw every round, and writes
 * bench/results/campaign.json (bench/support.ts's shape).
 *
 * --cache C: the worker runs with maxCachedWorkflows = C (memory.bench.ts's
 * worker role) instead of worker.ts's SDK default.
 *
 * --restart (after the rounds): a campaign over the same N suppliers for one
 * more year; once it has started a third of them, the worker process is
 * killed (SIGKILL) and a new one started. Checks that the campaign finishes
 * with N started, none reported as already existing, one case row and one
 * case.opened audit event per supplier and year.
 */
import { readFileSync } from 'node:fs';
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { WithStartWorkflowOperation, WorkflowNotFoundError } from '@temporalio/client';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import pg from 'pg';
import { createApp } from '../api/app';
import {
  CAMPAIGN_BATCH_SIZE,
  campaignProgressQuery,
  supplierCampaignId,
  type CampaignProgress,
} from '../contracts/supplierCampaign';
import { openDatabase } from '../db/client';
import { migrate } from '../db/migrate';
import { CREDIT_CODE_CHARSET, creditCodeCheckChar } from '../domain/uscc';
import { caseSearchAttributes, supplierReviewId } from '../platform/cases';
import { generateCodecKey } from '../platform/codec';
import { connectClient } from '../platform/temporalConnection';
import { seedDemoUsers } from '../platform/seed';
import { settledUpdate } from '../workflows/definitions';
import type { supplierReviewWorkflow } from '../workflows/supplierReview';
import {
  type BenchTemporal,
  createBenchDatabase,
  figure,
  processCpuMs,
  round,
  runPool,
  serverKind,
  sleep,
  startTemporal,
  table,
  writeSuiteResult,
  benchTeardown,
  serveBench,
} from './support';
import { composeNodeFlags, composeRuntimeEnv } from '../scripts/production/profile';

const { values: flags } = parseArgs({
  options: {
    suppliers: { type: 'string' },
    rounds: { type: 'string' },
    restart: { type: 'boolean' },
    cache: { type: 'string' },
    'worker-shape': { type: 'string' },
    server: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (flags.help) {
  console.log(`usage: npx tsx bench/campaign.bench.ts [--suppliers N] [--rounds R] [--restart]
  --suppliers N  active suppliers seeded, reviews per side per round (default 10000, env BENCH_SUPPLIERS)
  --rounds R     measured rounds, order alternating (default 2)
  --restart      also kill the worker mid-campaign and check for duplicates
  --cache C      run the worker with maxCachedWorkflows = C (default: the product's, 32)
  --worker-shape S  compose: the worker with docker-compose.yml's node flags and NODE_OPTIONS/MALLOC_ARENA_MAX
                 (default, as the memory bench); bare: a plain node
  --server S     dev: the Temporal dev server in memory (default); real: the production profile's server (env BENCH_SERVER)
env BENCH_PG_ADMIN_URL  admin URL of the PostgreSQL server (default postgres://postgres@127.0.0.1:5432/postgres)`);
  process.exit(0);
}
const int = (name: string, raw: string | undefined, fallback: number, min: number) => {
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min) throw new Error(`${name} must be an integer ≥ ${min}, got "${raw}"`);
  return v;
};
const N = int('--suppliers', flags.suppliers ?? process.env.BENCH_SUPPLIERS, 10_000, 1);
const ROUNDS = int('--rounds', flags.rounds, 2, 0);
/** maxCachedWorkflows for the worker (memory.bench.ts's worker role); unset: worker.child.ts, the product's (benchWorkerCache). */
const CACHE = flags.cache === undefined ? undefined : int('--cache', flags.cache, 0, 2);
const SERVER = serverKind(flags.server ?? process.env.BENCH_SERVER);
/**
 * The worker as compose runs it (its node flags, NODE_OPTIONS and MALLOC_ARENA_MAX), as the memory bench's:
 * session 9's 10,000-supplier run had a bare node at 906 MB RSS and 90 % CPU, 60 % of it system time.
 */
const WORKER_SHAPE = flags['worker-shape'] ?? 'compose';
if (WORKER_SHAPE !== 'compose' && WORKER_SHAPE !== 'bare')
  throw new Error(`--worker-shape must be compose or bare, got "${WORKER_SHAPE}"`);
const PG_ADMIN_URL = process.env.BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE_NAME = `gov_bench_${process.pid}`;
const TASK_QUEUE = `bench-campaign-${process.pid}`;
const MANAGER = { id: 'li.manager', token: 'gov_demo_manager' };
const BENCH_CODEC_KEYS = generateCodecKey('bench');
const TARGET_RATIO = 0.8;
/** Ceiling for one side of one round. */
const PHASE_TIMEOUT_MS = 60 * 60_000;

const T0 = Date.now();
const log = (line: string) => console.log(`[campaign +${((Date.now() - T0) / 1000).toFixed(1).padStart(6)}s] ${line}`);

const { cleanups, cleanup, onSignals } = benchTeardown('campaign');
onSignals();

/** N valid unified social credit codes, distinct, in id order. */
function creditCodes(n: number): string[] {
  const codes: string[] = [];
  for (let i = 0; i < n; i++) {
    let rest = '';
    for (let k = i, d = 0; d < 8; d++, k = Math.floor(k / CREDIT_CODE_CHARSET.length)) {
      rest = CREDIT_CODE_CHARSET[k % CREDIT_CODE_CHARSET.length]! + rest;
    }
    const first17 = `913100BEN${rest}`;
    codes.push(first17 + creditCodeCheckChar(first17));
  }
  return codes;
}

interface WorkerHandle {
  child: ChildProcess;
  exited: Promise<void>;
  /** Set before the bench stops or kills it: any other exit is a crash. */
  expected?: boolean;
}

/** Worker processes that died on their own during the run (each replaced at once). */
const crashes: string[] = [];

async function main(): Promise<void> {
  const startedAt = new Date();
  const loadAtStart = os.loadavg()[0] ?? 0;
  log(
    `config: ${N} suppliers, ${ROUNDS} round(s), worker cache ${CACHE ?? 'SDK default'}, campaign batch ${CAMPAIGN_BATCH_SIZE} (raw loop: ${CAMPAIGN_BATCH_SIZE} in flight)${flags.restart ? ', restart check' : ''}; ` +
      `${os.cpus().length} CPU(s), load ${round(os.loadavg()[0] ?? 0)}`,
  );
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });

  const url = await createBenchDatabase(PG_ADMIN_URL, DATABASE_NAME, cleanups);
  const apiDb = await openDatabase({ url: url, poolSize: 10 });
  cleanups.push({ what: 'API pool', run: () => apiDb.close() });
  const probe = new pg.Pool({ connectionString: url, max: 2 });
  cleanups.push({ what: 'probe pool', run: () => probe.end() });
  await migrate(apiDb);
  await seedDemoUsers(apiDb.db);

  // N active suppliers with SQL, in one statement.
  const ids = creditCodes(N);
  const t = performance.now();
  await probe.query(
    `insert into suppliers (id, name, category, tier, status, owner_id)
     select id, 'Bench supplier ' || id, 'raw_materials', 'B', 'active', $2 from unnest($1::text[]) as id`,
    [ids, MANAGER.id],
  );
  log(`seeded ${N} active suppliers with SQL in ${round(performance.now() - t, 0)} ms`);
  log(
    `worker shape: ${WORKER_SHAPE}${WORKER_SHAPE === 'compose' ? ` (${[...composeNodeFlags('worker'), ...Object.entries(composeRuntimeEnv('worker')).map(([k, v]) => `${k}=${v}`)].join(' ')})` : ''}`,
  );
  const names = new Map(ids.map((id) => [id, `Bench supplier ${id}`]));

  const server = await startTemporal({ server: SERVER, log, register: (c) => cleanups.push(c) });
  const settings = {
    temporalNamespace: server.namespace,
    temporalTls: server.temporalTls,
    codecKeys: BENCH_CODEC_KEYS,
  };
  const { connection, client } = await connectClient(server.address, settings);
  cleanups.push({ what: 'client connection', run: () => connection.close() });

  let worker: WorkerHandle;
  // A worker that dies on its own is replaced, and the crash reported: the campaign must survive it.
  const supervise = (w: WorkerHandle) => {
    w.child.once('exit', (code, signal) => {
      if (w.expected) return;
      crashes.push(`worker ${w.child.pid} exited (${signal ?? code}) at +${((Date.now() - T0) / 1000).toFixed(0)} s`);
      log(`worker ${w.child.pid} died on its own (${signal ?? code}); starting another`);
      void startWorker(server, url).then((next) => {
        worker = supervise(next);
      });
    });
    return w;
  };
  worker = supervise(await startWorker(server, url));
  cleanups.push({ what: 'worker process', run: () => stopWorker(worker) });

  const app = createApp(
    {
      db: apiDb.db,
      temporal: client,
      settings: {
        taskQueue: TASK_QUEUE,
        temporalNamespace: server.namespace,
        temporalUiUrl: 'http://localhost:8233',
        maxEvidenceBytes: 1024 * 1024,
        temporalDeadlineMs: 300_000,
      },
    },
    { log: (line) => console.error(`[api] ${line}`) },
  );
  const baseUrl = await serveBench(app.fetch, cleanups);

  const casesOfYear = async (year: number) =>
    (
      await probe.query<{ n: number }>(
        `select count(*)::int as n from cases where process = 'supplier_review' and id like $1`,
        [`supplier-review:%:${year}`],
      )
    ).rows[0]!.n;

  /**
   * POSTs the campaign and, meanwhile, follows its progress query until it
   * says 'done' (the POST answers after CAMPAIGN_ANSWER_AFTER suppliers or at
   * the end, whichever comes first).
   */
  async function campaign(year: number, onProgress?: (started: number) => Promise<void>) {
    const t0 = performance.now();
    let answeredMs = Number.NaN;
    const post = fetch(`${baseUrl}/api/supplier-reviews/campaigns`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MANAGER.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ year }),
    }).then(async (res) => {
      const text = await res.text();
      answeredMs = performance.now() - t0;
      if (res.status !== 200) throw new Error(`POST campaigns: HTTP ${res.status} ${text.slice(0, 300)}`);
      return JSON.parse(text) as { status: string; startedCount: number };
    });
    let failed: unknown;
    post.catch((err) => (failed = err));
    const handle = client.workflow.getHandle(supplierCampaignId(year));
    let progress: CampaignProgress | undefined;
    let lastLog = performance.now();
    let lastDone = 0;
    let lastSample = workerSample(worker.child.pid!);
    while (progress?.status !== 'done') {
      if (failed) throw failed;
      if (performance.now() - t0 > PHASE_TIMEOUT_MS) throw new Error(`campaign ${year} not done in time`);
      await sleep(250);
      try {
        progress = await handle.query(campaignProgressQuery);
      } catch (err) {
        // Not started yet, or no worker to answer (the restart check): ask again.
        if (err instanceof WorkflowNotFoundError || (err as Error).name === 'QueryNotRegisteredError') continue;
        if (!progress) continue;
        // The campaign has completed between two polls: its result is the final progress.
        const description = await handle.describe().catch(() => undefined);
        if (description?.status.name === 'COMPLETED') progress = await handle.result();
        // No worker to answer for a moment (killed, or crashed and restarted): ask again.
        else continue;
      }
      if (!progress) continue;
      if (onProgress) await onProgress(progress.startedCount);
      if (performance.now() - lastLog > 15_000) {
        const now = performance.now();
        const done = progress.startedCount + progress.skippedCount;
        const sample = workerSample(worker.child.pid!);
        // Since the last line: the pace, and the worker's RSS and CPU (user / system, % of one core).
        const pace = ((done - lastDone) / (now - lastLog)) * 1000;
        const cpu =
          sample && lastSample && lastSample.pid === sample.pid
            ? ` CPU user ${round((100 * (sample.userMs - lastSample.userMs)) / (now - lastLog), 0)} % sys ${round((100 * (sample.sysMs - lastSample.sysMs)) / (now - lastLog), 0)} %`
            : '';
        log(
          `  campaign ${year}: ${done}/${progress.total}, ${round(pace, 1)}/s; worker RSS ${sample?.rssMb ?? '?'} MB${cpu}`,
        );
        lastLog = now;
        lastDone = done;
        lastSample = sample;
      }
    }
    const wallMs = performance.now() - t0;
    const answer = await post;
    return { wallMs, answeredMs, answerStatus: answer.status, answerStarted: answer.startedCount, progress };
  }

  /** The raw side: the review's update-with-start, as startSupplierReviewCase sends it. */
  async function rawStarts(year: number) {
    return runPool(N, CAMPAIGN_BATCH_SIZE, async (i) => {
      const supplierId = ids[i]!;
      const caseId = supplierReviewId(supplierId, year);
      const startWorkflowOperation = new WithStartWorkflowOperation<typeof supplierReviewWorkflow>(
        'supplierReviewWorkflow',
        {
          taskQueue: TASK_QUEUE,
          workflowId: caseId,
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          workflowIdConflictPolicy: 'FAIL',
          typedSearchAttributes: caseSearchAttributes({ process: 'supplier_review', stage: 'documents' }),
          args: [
            {
              caseId,
              supplierId,
              supplierName: names.get(supplierId)!,
              reviewYear: year,
              initiatorId: MANAGER.id,
              reviewerId: MANAGER.id,
              timings: undefined,
            },
          ],
        } as never,
      );
      await client.workflow.executeUpdateWithStart(settledUpdate, { startWorkflowOperation });
    });
  }

  // Warm-up: a short campaign and a few raw starts over the first suppliers are not possible
  // (a campaign takes every supplier), so warm the worker with raw starts of an unmeasured year.
  const warm = await runPool(Math.min(N, 64), CAMPAIGN_BATCH_SIZE, async (i) => {
    const supplierId = ids[i]!;
    const caseId = supplierReviewId(supplierId, 2099);
    const startWorkflowOperation = new WithStartWorkflowOperation<typeof supplierReviewWorkflow>(
      'supplierReviewWorkflow',
      {
        taskQueue: TASK_QUEUE,
        workflowId: caseId,
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        workflowIdConflictPolicy: 'FAIL',
        typedSearchAttributes: caseSearchAttributes({ process: 'supplier_review', stage: 'documents' }),
        args: [
          {
            caseId,
            supplierId,
            supplierName: names.get(supplierId)!,
            reviewYear: 2099,
            initiatorId: MANAGER.id,
            reviewerId: MANAGER.id,
          },
        ],
      } as never,
    );
    await client.workflow.executeUpdateWithStart(settledUpdate, { startWorkflowOperation });
  });
  if (warm.errors.length) throw new Error(`warm-up: ${warm.errors[0]!.message}`);
  log(`warm-up: ${warm.latencies.length} raw starts`);

  const rows: Array<Array<string | number>> = [];
  const ratios: number[] = [];
  const sidePerSec: Record<'campaign' | 'raw', number[]> = { campaign: [], raw: [] };
  for (let r = 1; r <= ROUNDS; r++) {
    const order = r % 2 === 1 ? (['campaign', 'raw'] as const) : (['raw', 'campaign'] as const);
    const perSec: Record<string, number> = {};
    for (const side of order) {
      const pid0 = worker.child.pid!;
      const cpu0 = processCpuMs(pid0) ?? 0;
      /** Worker CPU per start; NaN when the worker was replaced during the phase. */
      const cpuPer = (starts: number) =>
        worker.child.pid === pid0 ? ((processCpuMs(pid0) ?? 0) - cpu0) / Math.max(1, starts) : Number.NaN;
      if (side === 'campaign') {
        const year = 2030 + r;
        log(`round ${r}: campaign ${year} over ${N} suppliers…`);
        const c = await campaign(year);
        const made = await casesOfYear(year);
        perSec.campaign = (c.progress.startedCount / c.wallMs) * 1000;
        const cpu = cpuPer(c.progress.startedCount);
        log(
          `round ${r} campaign: ${c.progress.startedCount} started, ${c.progress.skippedCount} skipped, ${made} case rows, ` +
            `${round(c.wallMs / 1000, 1)} s → ${round(perSec.campaign, 1)}/s (POST answered in ${round(c.answeredMs, 0)} ms with ` +
            `status ${c.answerStatus}, ${c.answerStarted} started); worker CPU ${round(cpu, 1)} ms/start`,
        );
        if (c.progress.startedCount !== N || made !== N)
          throw new Error(`campaign ${year}: ${c.progress.startedCount} started, ${made} rows, expected ${N}`);
        rows.push([r, 'campaign', N, round(c.wallMs / 1000, 1), round(perSec.campaign, 1), round(cpu, 1)]);
      } else {
        const year = 2060 + r;
        log(`round ${r}: raw loop of ${N} starts (${year}), ${CAMPAIGN_BATCH_SIZE} in flight…`);
        const run = await rawStarts(year);
        if (run.errors.length)
          throw new Error(`raw starts: ${run.errors.length} failed, e.g. ${run.errors[0]!.message}`);
        const made = await casesOfYear(year);
        perSec.raw = (run.latencies.length / run.wallMs) * 1000;
        const cpu = cpuPer(run.latencies.length);
        log(
          `round ${r} raw: ${run.latencies.length} started, ${made} case rows, ${round(run.wallMs / 1000, 1)} s → ` +
            `${round(perSec.raw, 1)}/s; worker CPU ${round(cpu, 1)} ms/start`,
        );
        rows.push([r, 'raw', N, round(run.wallMs / 1000, 1), round(perSec.raw, 1), round(cpu, 1)]);
      }
    }
    const ratio = perSec.campaign! / perSec.raw!;
    ratios.push(ratio);
    sidePerSec.campaign.push(round(perSec.campaign!, 1));
    sidePerSec.raw.push(round(perSec.raw!, 1));
    log(
      `round ${r}: campaign ÷ raw = ${round(ratio, 2)} (target ≥ ${TARGET_RATIO}), load ${round(os.loadavg()[0] ?? 0)}`,
    );
  }
  console.log('\n' + table(['round', 'side', 'reviews', 'wall s', 'starts/s', 'worker CPU ms/start'], rows) + '\n');
  console.log(
    `campaign ÷ raw throughput per round: ${ratios.map((x) => round(x, 2)).join(', ')} (target ≥ ${TARGET_RATIO})`,
  );

  if (crashes.length) log(`worker crashes during the rounds (each replaced): ${crashes.join('; ')}`);

  let restartCheck: boolean | undefined;
  if (flags.restart) {
    const year = 2090;
    let killed = false;
    log(`restart check: campaign ${year}, worker killed once a third has started…`);
    const c = await campaign(year, async (started) => {
      if (killed || started < N / 3) return;
      killed = true;
      log(`  ${started} started: SIGKILL worker ${worker.child.pid}`);
      worker.expected = true;
      worker.child.kill('SIGKILL');
      await worker.exited;
      worker = supervise(await startWorker(server, url));
      log(`  new worker ${worker.child.pid} polling`);
    });
    const dup = await probe.query<{ cases: number; suppliers: number; opened: number; maxOpened: number }>(
      `select count(distinct c.id)::int as cases, count(distinct c.subject_id)::int as suppliers,
              count(a.seq)::int as opened,
              coalesce(max(per.n), 0)::int as "maxOpened"
         from cases c
         left join audit_events a on a.case_id = c.id and a.action = 'case.opened'
         left join lateral (select count(*)::int as n from audit_events x where x.case_id = c.id and x.action = 'case.opened') per on true
        where c.process = 'supplier_review' and c.id like $1`,
      [`supplier-review:%:${year}`],
    );
    const d = dup.rows[0]!;
    const already = c.progress.skippedByReason.already_exists;
    // The progress lists the first hundred; the campaign's read-model row holds every one it started.
    const listed = await probe.query<{ distinct: number }>(
      `select count(distinct s->>'supplierId')::int as distinct
         from cases c cross join lateral jsonb_array_elements(c.data->'started') s where c.id = $1`,
      [supplierCampaignId(year)],
    );
    const uniqueStarted = listed.rows[0]!.distinct;
    log(
      `restart check: killed=${killed}; ${round(c.wallMs / 1000, 1)} s; progress started ${c.progress.startedCount} ` +
        `(${uniqueStarted} distinct), skipped already_exists ${already}; case rows ${d.cases} for ${d.suppliers} suppliers; ` +
        `case.opened events ${d.opened}, at most ${d.maxOpened} per case`,
    );
    const ok =
      killed &&
      uniqueStarted === N &&
      c.progress.startedCount === N &&
      already === 0 &&
      d.cases === N &&
      d.maxOpened === 1;
    log(`restart check: ${ok ? 'PASS — no duplicates' : 'FAIL'}`);
    if (!ok) process.exitCode = 1;
    restartCheck = ok;
  }

  const best = (xs: number[]) => (xs.length ? Math.max(...xs) : null);
  const file = writeSuiteResult({
    suite: 'campaign',
    server: SERVER,
    startedAt: startedAt.toISOString(),
    loadAtStart,
    config: {
      suppliers: N,
      rounds: ROUNDS,
      cache: CACHE ?? 'SDK default',
      batch: CAMPAIGN_BATCH_SIZE,
      restart: Boolean(flags.restart),
      temporal: server.description,
    },
    figures: [
      figure({
        name: 'campaign ÷ raw loop (starts/s)',
        value: best(ratios.map((x) => round(x, 2))),
        unit: '×',
        rounds: ratios.map((x) => round(x, 2)),
        target: { op: '>=', bound: TARGET_RATIO },
        note: 'best round; rounds alternate campaign→raw, raw→campaign',
      }),
      figure({
        name: 'campaign starts/s',
        value: best(sidePerSec.campaign),
        unit: '/s',
        rounds: sidePerSec.campaign,
        note: `${N} suppliers; highest round`,
      }),
      figure({
        name: 'raw loop starts/s',
        value: best(sidePerSec.raw),
        unit: '/s',
        rounds: sidePerSec.raw,
        note: `${CAMPAIGN_BATCH_SIZE} in flight; highest round`,
      }),
      ...(restartCheck === undefined
        ? []
        : [
            figure({
              name: 'worker killed mid-campaign: one case per supplier',
              value: restartCheck ? 1 : 0,
              unit: '',
              rounds: [restartCheck ? 1 : 0],
              target: { op: '>=', bound: 1 },
              note: '1 = no duplicate, nothing wrongly "already existing"',
            }),
          ]),
    ],
    details: { rows, crashes, workerShape: WORKER_SHAPE },
  });
  log(`wrote ${file}`);
}

/** The worker's RSS and CPU time (user, system) from /proc; undefined once it has gone. */
function workerSample(pid: number): { pid: number; rssMb: number; userMs: number; sysMs: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    // utime and stime in clock ticks of 10 ms.
    return { pid, rssMb: Math.round(rssKb / 1024), userMs: Number(fields[11]) * 10, sysMs: Number(fields[12]) * 10 };
  } catch {
    return undefined;
  }
}

async function startWorker(server: BenchTemporal, url: string): Promise<WorkerHandle> {
  // With --cache, the memory bench's worker role: createWorker() with maxCachedWorkflows set (notes/scale.md).
  const [file, args] = CACHE === undefined ? ['./worker.child.ts', []] : ['./memory.bench.ts', ['--role', 'worker']];
  const compose = WORKER_SHAPE === 'compose';
  const child = fork(fileURLToPath(new URL(file, import.meta.url)), args, {
    execArgv: [...(compose ? composeNodeFlags('worker') : []), '--import', 'tsx'],
    env: {
      ...process.env,
      ...(compose ? composeRuntimeEnv('worker') : {}),
      ...(CACHE === undefined ? {} : { BENCH_MAX_CACHED_WORKFLOWS: String(CACHE) }),
      ...server.childEnv(),
      BENCH_DATABASE_URL: url,
      BENCH_TASK_QUEUE: TASK_QUEUE,
      BENCH_CODEC_KEYS,
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.once('message', (m) =>
      m === 'ready' || (m as { ready?: boolean })?.ready ? resolve() : reject(new Error(`worker said ${String(m)}`)),
    );
    child.once('exit', (code) => reject(new Error(`worker exited with ${code} before ready`)));
  });
  return { child, exited };
}

async function stopWorker(w: WorkerHandle): Promise<void> {
  w.expected = true;
  if (w.child.exitCode !== null || w.child.signalCode !== null) return;
  w.child.send('stop');
  await Promise.race([w.exited, sleep(15_000)]);
  if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
}

main()
  .catch((err) => {
    console.error('[campaign]', err instanceof Error ? (err.stack ?? err.message) : err);
    process.exitCode = 1;
  })
  .finally(() => cleanup().then(() => process.exit()));
