/**
 * The audit chain's benchmark (issue 15 §2), on a fresh database of the local
 * PostgreSQL (TEST_PG_ADMIN_URL, as the tests), dropped at the end:
 *
 * 1. writes/s: N concurrent writers append audit events, each round, kind
 *    and writer count, in the product's two ways (`--kinds`):
 *    `append`, an event alone through `appendAuditEvent` (one statement:
 *    the chain lock shared, the append); `audited`, a state change with
 *    its event through `withAuditedWrite`, as the activities write (a
 *    transaction: the lock shared and the key looked up, one UPDATE, the
 *    append, COMMIT);
 * 2. verify: seeds `--events` events in SQL (the migration's own append
 *    function in a PL/pgSQL loop, so every hash and link is real), takes a
 *    checkpoint, then times `verifyAuditChain` over the whole trail,
 *    sampling the process's RSS, at a tenth of the events and at all of them;
 * 3. one case: `verifyAuditCase` on random cases of the seeded trail.
 *
 *   npx tsx bench/audit.bench.ts [--writers 1,8,32] [--writes 4000] [--rounds 2] [--kinds append,audited]
 *     [--events 1000000] [--cases 100000] [--skip-verify] [--module <path of another db/audit.ts>]
 *
 * `--module` measures another version of db/audit.ts on the same schema (the
 * one before issue 15: `git show a544052:db/audit.ts`, imports made absolute);
 * a module without `verifyAuditCase` gets only the writes and a small verify.
 * Prints every round and writes bench/results/audit.json in the harness's
 * shape (bench/support.ts; `npm run bench -- --suite audit`): writes/s per
 * writer count, the best rate ÷ the single chain's (590/s, the top of the
 * 425–590/s it reached on this box before issue 15) against ≥ 5×, and the
 * most writers ÷ one writer (the single chain's lock held every audited
 * write to one writer's rate),
 * verify events/s at the full trail against ≥ 50,000, one case's trail p99
 * against < 50 ms. No Temporal: its server is "n/a". With --module, the old
 * free-form bench/results/audit-module.json instead.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import type * as AuditModule from '../db/audit';
import { openDatabase } from '../db/client';
import { migrate } from '../db/migrate';
import { figure, percentile, round, runPool, table, writeSuiteResult, type Figure } from './support';

const { values: args } = parseArgs({
  options: {
    writers: { type: 'string', default: '1,8,32' },
    writes: { type: 'string', default: '4000' },
    kinds: { type: 'string', default: 'append,audited' },
    rounds: { type: 'string', default: '2' },
    events: { type: 'string', default: '1000000' },
    cases: { type: 'string', default: '100000' },
    'skip-verify': { type: 'boolean', default: false },
    'small-verify': { type: 'string', default: '5000' },
    module: { type: 'string' },
  },
});

const ADMIN_URL = process.env.TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const dbName = `gov_bench_audit_${process.pid}`;
const dbUrl = (() => {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${dbName}`;
  return u.toString();
})();

/** A case-sized payload, about 400 bytes of JSON, as the case steps write. */
const payloadFor = (i: number) => ({
  process: 'approval-request',
  title: `Bench case ${i}`,
  stage: 'approval',
  riskLevel: i % 3 === 0 ? 'high' : 'medium',
  decision: { outcome: 'approve', votes: [{ by: 'approver', at: '2026-11-28T10:00:00.000Z' }] },
  changed: { owner: 'lead', dueAt: '2026-12-31T00:00:00.000Z', note: 'x'.repeat(120) },
});

const TARGETS = { overSingleChain: 5, verifyPerSec: 50_000, oneCaseP99Ms: 50 };
/** Audited writes/s of the single chain on this box before issue 15 (README, e11f5e7): the top of 425–590. */
const SINGLE_CHAIN_PER_SEC = 590;
const KINDS = ['append', 'audited'] as const;
type WriteKind = (typeof KINDS)[number];

/** Busy CPU time of the whole machine so far, in ms (Linux /proc/stat; 0 elsewhere). */
function machineBusyMs(): number {
  try {
    const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).map(Number);
    // user nice system idle iowait irq softirq steal: all but idle and iowait is work, at 100 ticks/s.
    const busy = ticks.slice(0, 8).reduce((sum, t, i) => (i === 3 || i === 4 ? sum : sum + t), 0);
    return busy * 10;
  } catch {
    return 0;
  }
}

/**
 * CPU time so far of the server processes serving a database, in ms: its
 * client backends' utime + stime from /proc (PostgreSQL on this machine;
 * NaN when their /proc entries cannot be read).
 */
async function backendCpuMs(admin: pg.Client, database: string): Promise<number> {
  const { rows } = await admin.query(
    `select pid from pg_stat_activity where datname = $1 and backend_type = 'client backend'`,
    [database],
  );
  let ticks = 0;
  for (const { pid } of rows as Array<{ pid: number }>) {
    try {
      // Fields 14 and 15 (utime, stime), counted after the command name's closing parenthesis.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      return Number.NaN;
    }
  }
  return ticks * 10;
}

async function main() {
  const startedAt = new Date();
  const loadAtStart = os.loadavg()[0] ?? 0;
  const mod = (await import(
    args.module ? pathToFileURL(path.resolve(args.module)).href : '../db/audit'
  )) as typeof AuditModule;
  const label = args.module ? `module ${args.module}` : 'db/audit.ts';
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`drop database if exists "${dbName}"`);
  await admin.query(`create database "${dbName}"`);
  const results: Record<string, unknown> = { module: label, at: new Date().toISOString(), writes: [], verify: [] };
  try {
    const setup = await openDatabase({ url: dbUrl, poolSize: 1 });
    await migrate(setup, {});
    await setup.close();
    // The state an audited write changes: one row per bench case, as a step updates its case.
    const seedRows = new pg.Client({ connectionString: dbUrl });
    await seedRows.connect();
    await seedRows.query(
      'create table bench_state (id int primary key, n int not null default 0); insert into bench_state (id) select generate_series(0, 1999)',
    );
    await seedRows.end();

    // --- 1. writes/s ------------------------------------------------------------------------------
    const writers = args.writers!.split(',').map(Number);
    const writes = Number(args.writes);
    const kinds = args.kinds!.split(',') as WriteKind[];
    for (const k of kinds) if (!KINDS.includes(k)) throw new Error(`--kinds: ${k} is not one of ${KINDS.join(', ')}`);
    const rows: Array<Array<string | number>> = [];
    let n = 0;
    for (let roundNo = 1; roundNo <= Number(args.rounds); roundNo++) {
      for (const kind of kinds)
        for (const w of writers) {
          const handle = await openDatabase({ url: dbUrl, poolSize: w });
          // Where the CPU goes per write: this process (driver, drizzle, hashing), the pool's PostgreSQL
          // backends, and the whole machine (which counts any other work on it too).
          const cpu0 = process.cpuUsage();
          const busy0 = machineBusyMs();
          const run = await runPool(writes, w, (i) => {
            const event = {
              idempotencyKey: `bench:${kind}:${roundNo}:${w}:${i}:${n++}`,
              actorId: 'bench',
              action: 'bench.appended',
              caseId: `bench-case-${i % 2000}`,
              payload: payloadFor(i),
            };
            return kind === 'append'
              ? mod.appendAuditEvent(handle.db, event)
              : mod
                  .withAuditedWrite(handle.db, event, (tx) =>
                    tx.execute(sql`update bench_state set n = n + 1 where id = ${i % 2000}`),
                  )
                  .then((r) => r.event);
          });
          const cpu = process.cpuUsage(cpu0);
          const nodeMsPerWrite = (cpu.user + cpu.system) / 1000 / writes;
          const machineMsPerWrite = (machineBusyMs() - busy0) / writes;
          // The pool's backends were opened for this run: their whole CPU time is this run's (and their start).
          const serverMsPerWrite = (await backendCpuMs(admin, dbName)) / writes;
          await handle.close();
          const perSec = (writes * 1000) / run.wallMs;
          const p99 = percentile(run.latencies, 99);
          rows.push([
            roundNo,
            kind,
            w,
            writes,
            round(perSec, 0),
            round(percentile(run.latencies, 50), 1),
            round(p99, 1),
            round(nodeMsPerWrite, 2),
            round(serverMsPerWrite, 2),
            round(machineMsPerWrite, 2),
            run.errors.length,
          ]);
          (results.writes as unknown[]).push({
            round: roundNo,
            kind,
            writers: w,
            writes,
            perSec,
            p50: percentile(run.latencies, 50),
            p99,
            nodeMsPerWrite,
            serverMsPerWrite,
            machineMsPerWrite,
            errors: run.errors.length,
          });
          if (run.errors.length) console.error(run.errors.slice(0, 3));
          console.log(`round ${roundNo}, ${kind}, ${w} writers: ${round(perSec, 0)} writes/s`);
        }
    }
    console.log(`\nAudit writes (${label}): append = appendAuditEvent, audited = withAuditedWrite + one UPDATE`);
    console.log(
      table(
        [
          'round',
          'kind',
          'writers',
          'writes',
          'writes/s',
          'p50 ms',
          'p99 ms',
          'bench CPU ms/write',
          'PostgreSQL CPU ms/write',
          'machine CPU ms/write',
          'errors',
        ],
        rows,
      ),
    );

    // --- 2. verify ------------------------------------------------------------------------------
    if (!args['skip-verify']) {
      const handle = await openDatabase({ url: dbUrl, poolSize: 6 });
      const raw = new pg.Client({ connectionString: dbUrl });
      await raw.connect();
      const hasCase = typeof mod.verifyAuditCase === 'function';
      if (!hasCase) {
        // The old chain: verify what the writes appended (a small trail: a million would take hours).
        const t0 = performance.now();
        const v = await mod.verifyAuditChain(handle.db);
        const ms = performance.now() - t0;
        console.log(
          `\nverify (${label}): ${v.eventsChecked} events in ${round(ms, 0)} ms = ${round((v.eventsChecked * 1000) / ms, 0)} events/s, ok ${v.ok}`,
        );
        (results.verify as unknown[]).push({
          events: v.eventsChecked,
          ms,
          perSec: (v.eventsChecked * 1000) / ms,
          ok: v.ok,
        });
      } else {
        const total = Number(args.events);
        const cases = Number(args.cases);
        const verifyRows: Array<Array<string | number>> = [];
        const seedTo = async (target: number) => {
          const [{ count }] = (await raw.query('select count(*)::int as count from audit_events')).rows;
          let have = count as number;
          const t0 = performance.now();
          // A checkpoint every 1,000 events, as the anchoring poll takes them under load; a case's
          // ten events fall within 500 consecutive ones (50 cases at once), as cases run.
          const batch = 1000;
          while (have < target) {
            const k = Math.min(batch, target - have);
            const caseOf = `(((i / 500) * 50 + i % 50) % ${cases})`;
            await raw.query(
              `do $$ begin
                 for i in ${have + 1}..${have + k} loop
                   perform audit_append(null, 'seed-case-' || ${caseOf}, 'seed:' || i, now(), 'seeder',
                     'bench.seeded', 'seed-case-' || ${caseOf}, null, null,
                     jsonb_build_object('process', 'approval-request', 'title', 'Seeded case ' || ${caseOf},
                       'stage', 'approval', 'riskLevel', 'medium', 'step', i,
                       'changed', jsonb_build_object('owner', 'lead', 'note', repeat('x', 120))),
                     '[]'::jsonb);
                 end loop;
               end $$`,
            );
            await mod.checkpointAuditChain(handle.db);
            have += k;
            if (have % 50_000 === 0 || have === target)
              process.stdout.write(`\rseeded ${have} events (${round((performance.now() - t0) / 1000, 1)} s)   `);
          }
          const seedMs = performance.now() - t0;
          console.log(`\nseeding took ${round(seedMs / 1000, 1)} s`);
          await raw.query('analyze audit_events');
          return seedMs;
        };
        const verifyAll = async (size: number, seedMs: number) => {
          await mod.checkpointAuditChain(handle.db);
          global.gc?.();
          const rssBefore = process.memoryUsage().rss;
          let peak = rssBefore;
          const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
          const t0 = performance.now();
          const v = await mod.verifyAuditChain(handle.db);
          const ms = performance.now() - t0;
          clearInterval(sampler);
          const perSec = (v.eventsChecked * 1000) / ms;
          const mb = (b: number) => round(b / 1048576, 0);
          verifyRows.push([
            size,
            v.eventsChecked,
            round(ms / 1000, 2),
            round(perSec, 0),
            mb(rssBefore),
            mb(peak),
            String(v.ok),
          ]);
          (results.verify as unknown[]).push({
            size,
            events: v.eventsChecked,
            ms,
            perSec,
            rssBeforeMb: mb(rssBefore),
            rssPeakMb: mb(peak),
            ok: v.ok,
            seedMs,
          });
          console.log(
            `verify at ${size}: ${round(perSec, 0)} events/s, RSS ${mb(rssBefore)} → peak ${mb(peak)} MB, ok ${v.ok}`,
          );
          if (!v.ok) console.log(v.firstBroken);
        };
        const tenth = Math.max(1, Math.floor(total / 10));
        await verifyAll(tenth, await seedTo(tenth));
        await verifyAll(total, await seedTo(total));
        console.log(`\nverifyAuditChain over the whole trail`);
        console.log(
          table(['seeded', 'events checked', 's', 'events/s', 'RSS before MB', 'RSS peak MB', 'ok'], verifyRows),
        );

        // --- 3. one case ----------------------------------------------------------------------------
        const times: number[] = [];
        let okCases = 0;
        let rowsChecked = 0;
        for (let i = 0; i < 50; i++) {
          const caseId = `seed-case-${Math.floor(Math.random() * Math.min(cases, total / 10))}`;
          const t0 = performance.now();
          const v = await mod.verifyAuditCase(handle.db, caseId);
          times.push(performance.now() - t0);
          if (v.ok) okCases += 1;
          rowsChecked += v.rowsChecked;
        }
        console.log(
          `\nverifyAuditCase, 50 random cases: p50 ${round(percentile(times, 50), 1)} ms, p99 ${round(percentile(times, 99), 1)} ms, max ${round(Math.max(...times), 1)} ms; ${okCases} ok; ${round(rowsChecked / 50, 0)} rows checked per case`,
        );
        results.oneCase = {
          p50: percentile(times, 50),
          p99: percentile(times, 99),
          max: Math.max(...times),
          ok: okCases,
          rowsPerCase: rowsChecked / 50,
        };
      }
      await raw.end();
      await handle.close();
    }
  } finally {
    await admin.query(`drop database if exists "${dbName}" with (force)`);
    await admin.end();
  }
  if (args.module) {
    const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'audit-module.json'), JSON.stringify(results, null, 2));
    return;
  }
  const file = writeSuiteResult({
    suite: 'audit',
    server: 'n/a',
    startedAt: startedAt.toISOString(),
    loadAtStart,
    config: { ...args },
    figures: auditFigures(results, Number(args.events)),
    details: results,
  });
  console.log(`\nwrote ${file}`);
}

interface WriteRecord {
  round: number;
  kind?: WriteKind;
  writers: number;
  perSec: number;
}
interface VerifyRecord {
  size?: number;
  events: number;
  perSec: number;
  rssPeakMb?: number;
  ok: boolean;
}

/** The harness's figures from this run's records. */
function auditFigures(results: Record<string, unknown>, totalEvents: number): Figure[] {
  const writes = results.writes as WriteRecord[];
  const verify = results.verify as VerifyRecord[];
  const oneCase = results.oneCase as { p99: number; p50: number } | undefined;
  const roundNumbers = [...new Set(writes.map((w) => w.round))];
  const writerCounts = [...new Set(writes.map((w) => w.writers))].sort((a, b) => a - b);
  const figures: Figure[] = [];
  for (const kind of KINDS) {
    const ofKind = writes.filter((x) => (x.kind ?? 'append') === kind);
    if (!ofKind.length) continue;
    const what = kind === 'append' ? 'audit appends (appendAuditEvent)' : 'audited writes (withAuditedWrite)';
    const rate = (roundNo: number, w: number) => ofKind.find((x) => x.round === roundNo && x.writers === w)?.perSec;
    for (const w of writerCounts) {
      const rounds = roundNumbers.map((r) => round(rate(r, w) ?? Number.NaN, 0));
      figures.push(
        figure({
          name: `${what}/s, ${w} writer${w === 1 ? '' : 's'}`,
          value: Math.max(...rounds),
          unit: '/s',
          rounds,
          note: 'highest round',
        }),
      );
    }
    // Each round's best writer count against the single chain's rate on this box.
    const rounds = roundNumbers.map((r) =>
      round(Math.max(...writerCounts.map((w) => rate(r, w) ?? Number.NaN)) / SINGLE_CHAIN_PER_SEC, 2),
    );
    figures.push(
      figure({
        name: `${what}/s ÷ the single chain's ${SINGLE_CHAIN_PER_SEC}/s`,
        value: Math.min(...rounds),
        unit: '×',
        rounds,
        target: { op: '>=', bound: TARGETS.overSingleChain },
        note: 'worst round; each round at its best writer count',
      }),
    );
    const most = writerCounts.at(-1);
    if (most !== undefined && most > 1 && writerCounts.includes(1)) {
      const scaling = roundNumbers.map((r) => round((rate(r, most) ?? Number.NaN) / (rate(r, 1) ?? Number.NaN), 2));
      figures.push(
        figure({
          name: `${what}, ${most} writers ÷ 1 writer`,
          value: Math.min(...scaling),
          unit: '×',
          rounds: scaling,
          note: 'worst round: how writes scale with writers on this machine (no global lock; bounded by its cores)',
        }),
      );
    }
  }
  const full = verify.find((v) => v.size === totalEvents);
  if (full) {
    figures.push(
      figure({
        name: `verify events/s at ${full.events} events`,
        value: round(full.perSec, 0),
        unit: 'events/s',
        rounds: [round(full.perSec, 0)],
        target: { op: '>=', bound: TARGETS.verifyPerSec },
        note: full.ok ? 'chain ok' : 'chain NOT ok',
      }),
      figure({
        name: `verify RSS peak at ${full.events} events`,
        value: full.rssPeakMb ?? null,
        unit: 'MB',
        rounds: full.rssPeakMb === undefined ? [] : [full.rssPeakMb],
      }),
    );
  }
  if (oneCase) {
    figures.push(
      figure({
        name: "one case's trail verified, p99",
        value: round(oneCase.p99, 1),
        unit: 'ms',
        rounds: [round(oneCase.p99, 1)],
        target: { op: '<', bound: TARGETS.oneCaseP99Ms },
        note: `50 random cases; p50 ${round(oneCase.p50, 1)} ms`,
      }),
    );
  }
  return figures;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
