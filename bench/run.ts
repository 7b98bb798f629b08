/**
 * `npm run bench [-- --suite starts,decisions,campaign,inbox,audit,memory,console|all] [--server dev|real] [flags…]`
 *
 * One harness for the benchmarks of issue 15. Each suite is a script of its
 * own (bench/<x>.bench.ts), run here as a child process, so one suite's
 * memory and leftovers never weigh on the next. A suite writes its figures in
 * one shape (bench/support.ts, `writeSuiteResult`) to
 * bench/results/<suite>.json; this runner reads them back, merges them into
 * bench/results/latest.json and prints one table: figure, value, every round,
 * target, pass/miss. A suite that failed, or wrote nothing in this run (or in
 * an older shape), shows as "no result", never with an earlier run's figures.
 *
 * Flags after the runner's own go to the suites: `--cases 200` to every
 * selected suite that takes `--cases`; `--audit.events 100000` to the audit
 * suite only (as `--events 100000`). `--server real` runs each suite on the
 * production profile's Temporal server instead of the dev server (the child
 * gets BENCH_SERVER=real).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  mergedTable,
  mergeResults,
  readSuiteResult,
  RESULTS_DIR,
  serverKind,
  SUITES,
  type ServerKind,
  type SuiteName,
  type SuiteOutcome,
} from './support';

/**
 * The suites this runner runs: bench/support.ts's, and the console's
 * (first-load JS and the inbox in Chromium). `SuiteName | 'console'` so this
 * file compiles whether or not support.ts's SUITES lists 'console' yet; once
 * it does, RUN_SUITES is SUITES.
 */
export type RunSuite = SuiteName | 'console';
export const RUN_SUITES: readonly RunSuite[] = [...new Set<RunSuite>([...SUITES, 'console'])];

/**
 * The script behind each suite, and the flags it takes (so an unprefixed
 * flag reaches only the suites that know it; a prefixed one always reaches
 * its suite). starts and decisions are one script: one run measures both.
 */
export const SUITE_SCRIPTS: Record<RunSuite, { script: string; flags: string[] }> = {
  starts: { script: 'approval.bench.ts', flags: ['cases', 'concurrency', 'warmup', 'rounds', 'worker'] },
  decisions: { script: 'approval.bench.ts', flags: ['cases', 'concurrency', 'warmup', 'rounds', 'worker'] },
  campaign: { script: 'campaign.bench.ts', flags: ['suppliers', 'rounds', 'restart', 'cache'] },
  inbox: {
    script: 'reads.bench.ts',
    flags: [
      'tasks',
      'events',
      'cases',
      'users',
      'suppliers',
      'rounds',
      'requests',
      'deep',
      'keep-db',
      'reuse-db',
      'explain',
      'only',
    ],
  },
  audit: {
    script: 'audit.bench.ts',
    flags: ['writers', 'writes', 'kinds', 'rounds', 'events', 'cases', 'skip-verify', 'small-verify', 'module'],
  },
  memory: {
    script: 'memory.bench.ts',
    flags: [
      'cases',
      'requests',
      'cache',
      'settle',
      'concurrency',
      'bundle',
      'worker-heap',
      'worker-flags',
      'worker-options',
      'worker-env',
      'start-concurrency',
      'start-budget',
      'every',
    ],
  },
  console: { script: 'console.bench.ts', flags: ['tasks', 'loads', 'rounds'] },
};

export const DEFAULT_SUITES: RunSuite[] = ['starts', 'decisions'];

const HELP = `usage: npm run bench -- [--suite ${RUN_SUITES.join(',')}|all] [--server dev|real] [suite flags…]
  --suite S    suites to run, comma-separated (default ${DEFAULT_SUITES.join(',')})
  --server S   dev: the Temporal CLI's dev server in memory (default);
               real: the production profile's server (scripts/production/: Temporal 1.29.1 on its own
               PostgreSQL, mTLS); the first run builds it into .tools/bin (several minutes)
  --<flag> V          to every selected suite that takes --<flag> (e.g. --rounds 2 --cases 200)
  --<suite>.<flag> V  to that suite only (e.g. --audit.events 100000, --inbox.tasks 1000)
Each suite's own flags: npx tsx bench/<script> --help. Suites and scripts:
${RUN_SUITES.map((s) => `  ${s.padEnd(10)} bench/${SUITE_SCRIPTS[s].script}  (--${SUITE_SCRIPTS[s].flags.join(', --')})`).join('\n')}
Writes bench/results/<suite>.json per suite and bench/results/latest.json (all figures, target, pass/miss).`;

export interface RunPlan {
  suites: RunSuite[];
  server: ServerKind;
  /** One child per script, with the suites it answers for and its arguments. */
  runs: Array<{ script: string; suites: RunSuite[]; args: string[] }>;
  help: boolean;
}

/** Parses the runner's argv (after `--`) into the children to run. Pure; throws on a bad flag. */
export function planRun(argv: string[]): RunPlan {
  let suiteList: string | undefined;
  let serverRaw: string | undefined;
  let help = false;
  const passed: Array<{ suite?: RunSuite; name: string; value?: string }> = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--help' || token === '-h') {
      help = true;
      continue;
    }
    if (!token.startsWith('--')) throw new Error(`unexpected argument "${token}" (flags are --name value)`);
    let name = token.slice(2);
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    } else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) {
      value = argv[++i];
    }
    if (name === 'suite') suiteList = value;
    else if (name === 'server') serverRaw = value ?? '';
    else {
      const dot = name.indexOf('.');
      if (dot >= 0) {
        const suite = name.slice(0, dot);
        if (!(RUN_SUITES as readonly string[]).includes(suite))
          throw new Error(`--${name}: no suite "${suite}" (suites: ${RUN_SUITES.join(', ')})`);
        passed.push({ suite: suite as RunSuite, name: name.slice(dot + 1), value });
      } else passed.push({ name, value });
    }
  }
  const server = serverKind(serverRaw ?? 'dev');
  const suites = parseSuites(suiteList);
  const runs: RunPlan['runs'] = [];
  for (const suite of suites) {
    const { script } = SUITE_SCRIPTS[suite];
    const run = runs.find((r) => r.script === script);
    if (run) run.suites.push(suite);
    else runs.push({ script, suites: [suite], args: [] });
  }
  for (const flag of passed) {
    const targets = runs.filter((r) =>
      flag.suite ? r.suites.includes(flag.suite) : r.suites.some((s) => SUITE_SCRIPTS[s].flags.includes(flag.name)),
    );
    if (targets.length === 0)
      throw new Error(
        flag.suite
          ? `--${flag.suite}.${flag.name}: suite ${flag.suite} is not selected`
          : `--${flag.name}: no selected suite takes it (selected: ${suites.join(', ')}; prefix it as --<suite>.${flag.name} to pass it anyway)`,
      );
    for (const run of targets) run.args.push(`--${flag.name}`, ...(flag.value === undefined ? [] : [flag.value]));
  }
  return { suites, server, runs, help };
}

export function parseSuites(raw: string | undefined): RunSuite[] {
  if (raw === undefined || raw === '') return [...DEFAULT_SUITES];
  const asked = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (asked.includes('all')) return [...RUN_SUITES];
  for (const s of asked)
    if (!(RUN_SUITES as readonly string[]).includes(s))
      throw new Error(`--suite: no suite "${s}" (suites: ${RUN_SUITES.join(', ')}, all)`);
  // In the harness's order, each once.
  return RUN_SUITES.filter((s) => asked.includes(s));
}

const T0 = Date.now();
const log = (line: string) => console.log(`[run +${((Date.now() - T0) / 1000).toFixed(0).padStart(5)}s] ${line}`);

/** Runs one suite script with tsx; resolves with its exit code (null when killed by a signal). */
function runScript(script: string, args: string[], server: ServerKind, runId: string): Promise<number | null> {
  const file = fileURLToPath(new URL(`./${script}`, import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_SERVER: server, BENCH_RUN_ID: runId },
  });
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', (err) => {
      console.error(`[run] could not start ${script}: ${err.message}`);
      resolve(1);
    });
  });
}

async function main(): Promise<number> {
  const plan = planRun(process.argv.slice(2));
  if (plan.help) {
    console.log(HELP);
    return 0;
  }
  const startedAt = new Date();
  const runId = randomUUID();
  log(`suites ${plan.suites.join(', ')} on the ${plan.server === 'dev' ? 'dev server' : 'production-shaped server'}`);
  // Ctrl-C reaches the children too (same process group): each tears itself down; run no further suite.
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.on(signal, () => {
      if (!interrupted) log(`${signal}: letting the running suite tear down, then stopping`);
      interrupted = true;
    });

  const outcomes: Array<SuiteOutcome & { exitCode?: number | null }> = [];
  for (const [i, run] of plan.runs.entries()) {
    if (interrupted) {
      for (const suite of run.suites as SuiteName[])
        outcomes.push({ suite, status: 'no result', reason: 'not run (interrupted)' });
      continue;
    }
    const runStarted = new Date();
    log(
      `(${i + 1}/${plan.runs.length}) ${run.suites.join(' + ')}: tsx bench/${run.script}${run.args.length ? ` ${run.args.join(' ')}` : ''}`,
    );
    const exitCode = await runScript(run.script, run.args, plan.server, runId);
    const seconds = Math.round((Date.now() - runStarted.getTime()) / 1000);
    log(`(${i + 1}/${plan.runs.length}) ${run.suites.join(' + ')}: exit ${exitCode ?? 'by signal'} after ${seconds} s`);
    // 'console' is a SuiteName once support.ts's SUITES lists it; the result files do not care.
    for (const suite of run.suites as SuiteName[]) {
      const read = readSuiteResult(suite, runStarted, RESULTS_DIR, runId);
      // A suite that failed has no figures to stand by, whatever its file says.
      const outcome: SuiteOutcome =
        exitCode === 0
          ? read
          : {
              suite,
              status: 'no result',
              reason: `suite failed (exit ${exitCode ?? 'by signal'})${read.status === 'no result' ? `; ${read.reason}` : ''}`,
            };
      if (outcome.status === 'ok' && outcome.result.server !== 'n/a' && outcome.result.server !== plan.server)
        outcome.result.figures = outcome.result.figures.map((f) => ({
          ...f,
          note: `ran on ${outcome.result.server}, not ${plan.server}${f.note ? `; ${f.note}` : ''}`,
        }));
      outcomes.push({ ...outcome, exitCode });
    }
  }

  const merged = mergeResults({
    startedAt,
    finishedAt: new Date(),
    server: plan.server,
    argv: process.argv.slice(2),
    outcomes,
  });
  const latest = path.join(RESULTS_DIR, 'latest.json');
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(latest, `${JSON.stringify(merged, null, 2)}\n`);
  console.log(
    `\nBenchmarks — ${plan.suites.join(', ')} · server ${plan.server} · value = the suite's summary figure (see note in latest.json), rounds = every round\n`,
  );
  console.log(mergedTable(merged));
  const { pass, miss, info, noResult } = merged.counts;
  console.log(
    `\n${pass} pass, ${miss} miss, ${noResult} without a result, ${info} informational · written to ${path.relative(process.cwd(), latest)}`,
  );
  return outcomes.some((o) => o.exitCode !== 0) ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      console.error('[run]', err instanceof Error ? err.message : err);
      process.exit(2);
    },
  );
}
