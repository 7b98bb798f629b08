/**
 * `npm test`'s last step: the unit and integration projects in one vitest
 * process and, at the same time, the production project in another.
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
  new Promise<{ code: number; summary?: string; counts: number[] }>((resolve) => {
    const child = spawn(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FORCE_COLOR: process.env.FORCE_COLOR ?? '0' },
    });
    let summary: string | undefined;
    for (const stream of [child.stdout, child.stderr]) {
      const out = stream === child.stdout ? process.stdout : process.stderr;
      createInterface({ input: stream }).on('line', (line) => {
        if (/^vitest: \d+ passed/.test(line)) summary = line;
        out.write(prefix ? `${prefix}${line}\n` : `${line}\n`);
      });
    }
    child.on('close', (code) => {
      const counts = (summary?.match(/\d+/g) ?? []).map(Number);
      resolve({ code: code ?? 1, summary, counts });
    });
  });

const given = process.argv.slice(2);
if (given.length) {
  const { code } = await vitest(given);
  process.exit(code);
}

const started = Date.now();
const [main, production] = await Promise.all([
  vitest(['--project', 'unit', '--project', 'integration']),
  vitest(['--project', 'production'], 'production │ '),
]);
const minutes = ((Date.now() - started) / 60_000).toFixed(1);
console.log(`\nunit + integration: ${main.summary ?? `no summary (exit ${main.code})`}`);
console.log(`production:         ${production.summary ?? `no summary (exit ${production.code})`}`);
console.log(`both in ${minutes} min`);
const total = [0, 1, 2].map((i) => (main.counts[i] ?? 0) + (production.counts[i] ?? 0));
// A process that ended without its summary failed as a whole: count it as a failure.
const lost = [main, production].filter((r) => !r.summary).length;
console.log(`\nvitest: ${total[0]} passed, ${total[1]! + lost} failed, ${total[2]} skipped`);
process.exit(main.code || production.code);
