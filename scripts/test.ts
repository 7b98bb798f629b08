/**
 * `npm test`'s last step: the unit and integration projects in one vitest
 * process and, at the same time, the production project in another; then,
 * alone on a quiet machine, the production project's worker-kill test.
 *
 * The production project's fault tests spend most of their time waiting
 * (worker kills, restarts, outages), so on a 2-core machine running them
 * beside the integration project rather than after it takes about as many
 * minutes off CI as they last. Vitest itself will not run two projects with
 * different worker counts in one group, hence two processes. The production
 * project's lines are prefixed with "production │"; at the end each
 * process's summary is printed, then one combined closing line.
 *
 * With arguments it is plain `vitest run <arguments>`.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const vitest = (args: string[], prefix?: string) =>
  new Promise<{ code: number; summary?: string; counts: number[]; failures: string[] }>((resolve) => {
    const child = spawn(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FORCE_COLOR: process.env.FORCE_COLOR ?? '0' },
    });
    let summary: string | undefined;
    const failures: string[] = [];
    for (const stream of [child.stdout, child.stderr]) {
      const out = stream === child.stdout ? process.stdout : process.stderr;
      createInterface({ input: stream }).on('line', (line) => {
        if (/^vitest: \d+ passed/.test(line)) summary = line;
        if (line.startsWith('FAILED ')) failures.push(line);
        out.write(prefix ? `${prefix}${line}\n` : `${line}\n`);
      });
    }
    child.on('close', (code) => {
      const counts = (summary?.match(/\d+/g) ?? []).map(Number);
      resolve({ code: code ?? 1, summary, counts, failures });
    });
  });

const given = process.argv.slice(2);
if (given.length) {
  const { code } = await vitest(given);
  process.exit(code);
}

/**
 * The hundred worker kills want the cores to themselves: beside the
 * integration tests a new worker took longer than Temporal's 10 s workflow
 * task timeout to finish its first task, and the cases spent minutes in
 * Temporal's retry backoff instead of being driven.
 */
const KILL_TEST = 'tests/production/workerKill.test.ts';
const KILL_TEST_GLOB = '**/workerKill.test.ts';

const started = Date.now();
const [main, production] = await Promise.all([
  vitest(['--project', 'unit', '--project', 'integration']),
  vitest(['--project', 'production', '--exclude', KILL_TEST_GLOB], 'production │ '),
]);
const beside = ((Date.now() - started) / 60_000).toFixed(1);
const killsStarted = Date.now();
const kills = await vitest(['--project', 'production', KILL_TEST], 'worker kills │ ');
const runs = { 'unit + integration': main, production, 'worker kills': kills };
console.log('');
for (const [name, run] of Object.entries(runs))
  console.log(`${`${name}:`.padEnd(20)}${run.summary ?? `no summary (exit ${run.code})`}`);
console.log(
  `first two side by side in ${beside} min, then the worker kills in ${((Date.now() - killsStarted) / 60_000).toFixed(1)} min`,
);
const total = [0, 1, 2].map((i) => Object.values(runs).reduce((n, r) => n + (r.counts[i] ?? 0), 0));
// A process that ended without its summary failed as a whole: count it as a failure.
const lost = Object.values(runs).filter((r) => !r.summary).length;
// The failures again, last, where a CI log cut to its tail still shows them.
const failures = Object.values(runs).flatMap((r) => r.failures);
if (failures.length) console.log(`\n${failures.join('\n')}`);
console.log(`\nvitest: ${total[0]} passed, ${total[1]! + lost} failed, ${total[2]} skipped`);
process.exit(main.code || production.code || kills.code);
