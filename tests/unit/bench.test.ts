/**
 * The benchmark harness's pure parts (bench/support.ts, bench/run.ts): a
 * figure's pass/miss, reading a suite's results file back (an older shape,
 * another suite's, an earlier run's: no result), merging suites into
 * latest.json, and routing the runner's flags to the suites.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { planRun } from '../../bench/run';
import {
  figure,
  mergedTable,
  mergeResults,
  parseSuiteResult,
  readSuiteResult,
  SUITE_RESULT_SCHEMA,
  verdictOf,
  writeSuiteResult,
  type SuiteResult,
} from '../../bench/support';

describe('verdictOf', () => {
  it('passes at the bound for ≥ and ≤, misses past it', () => {
    expect(verdictOf(0.8, { op: '>=', bound: 0.8 })).toBe('pass');
    expect(verdictOf(0.79, { op: '>=', bound: 0.8 })).toBe('miss');
    expect(verdictOf(1.3, { op: '<=', bound: 1.3 })).toBe('pass');
    expect(verdictOf(1.31, { op: '<=', bound: 1.3 })).toBe('miss');
  });

  it('a strict bound misses at the bound itself', () => {
    expect(verdictOf(50, { op: '<', bound: 50 })).toBe('miss');
    expect(verdictOf(49.9, { op: '<', bound: 50 })).toBe('pass');
    expect(verdictOf(5, { op: '>', bound: 5 })).toBe('miss');
  });

  it('no target is informational; a target without a value is a miss', () => {
    expect(verdictOf(3, null)).toBe('info');
    expect(verdictOf(null, null)).toBe('info');
    expect(verdictOf(null, { op: '>=', bound: 1 })).toBe('miss');
    expect(verdictOf(Number.NaN, { op: '>=', bound: 1 })).toBe('miss');
  });

  it('figure() takes the verdict and turns NaN into no value', () => {
    expect(figure({ name: 'x', value: 0.9, unit: '×', rounds: [0.9, 0.7], target: { op: '>=', bound: 0.8 } })).toEqual({
      name: 'x',
      value: 0.9,
      unit: '×',
      rounds: [0.9, 0.7],
      target: { op: '>=', bound: 0.8 },
      verdict: 'pass',
    });
    expect(figure({ name: 'y', value: Number.NaN, unit: 'ms', rounds: [] }).value).toBeNull();
  });
});

const result = (overrides: Partial<SuiteResult> = {}): SuiteResult => ({
  schema: SUITE_RESULT_SCHEMA,
  suite: 'starts',
  server: 'dev',
  startedAt: '2026-11-29T00:00:00.000Z',
  finishedAt: '2026-11-29T00:05:00.000Z',
  machine: { node: 'v20', platform: 'linux', cpus: 2, totalMemoryMb: 4096, loadAtStart: 1, loadAtEnd: 2 },
  config: {},
  figures: [
    figure({
      name: 'starts throughput API ÷ raw',
      value: 0.9,
      unit: '×',
      rounds: [0.9, 0.85],
      target: { op: '>=', bound: 0.8 },
    }),
    figure({ name: 'starts/s API', value: 40, unit: 'starts/s', rounds: [40, 38] }),
  ],
  ...overrides,
});

describe('reading a suite result back', () => {
  it('accepts this run’s file in the common shape', () => {
    const outcome = parseSuiteResult('starts', result(), new Date('2026-11-29T00:01:00.000Z'));
    expect(outcome.status).toBe('ok');
  });

  it('an older shape, another suite’s file or an earlier run’s is no result', () => {
    const old = { benchmark: 'approval', ratios: { startsThroughputApiOverRaw: 0.9 } };
    expect(parseSuiteResult('starts', old)).toMatchObject({
      status: 'no result',
      reason: expect.stringMatching(/older shape/),
    });
    expect(parseSuiteResult('decisions', result())).toMatchObject({
      status: 'no result',
      reason: expect.stringMatching(/suite starts/),
    });
    expect(parseSuiteResult('starts', result(), new Date('2026-11-29T00:06:00.000Z'))).toMatchObject({
      status: 'no result',
      reason: expect.stringMatching(/earlier run/),
    });
    expect(parseSuiteResult('starts', result({ runId: 'other' }), undefined, 'mine')).toMatchObject({
      status: 'no result',
      reason: expect.stringMatching(/another run \(other\)/),
    });
    expect(parseSuiteResult('starts', result({ runId: 'mine' }), undefined, 'mine').status).toBe('ok');
  });

  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('writeSuiteResult writes what readSuiteResult accepts; a missing or broken file is no result', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'bench-test-'));
    dirs.push(dir);
    expect(readSuiteResult('audit', undefined, dir)).toMatchObject({ status: 'no result', reason: 'no audit.json' });
    const before = new Date(Date.now() - 1000);
    writeSuiteResult(
      { suite: 'audit', server: 'n/a', startedAt: before.toISOString(), loadAtStart: 0.5, config: {}, figures: [] },
      dir,
    );
    const read = readSuiteResult('audit', before, dir);
    expect(read.status).toBe('ok');
    if (read.status === 'ok') {
      expect(read.result.server).toBe('n/a');
      expect(read.result.machine.cpus).toBeGreaterThan(0);
    }
    writeFileSync(path.join(dir, 'memory.json'), '{ not json');
    expect(readSuiteResult('memory', undefined, dir)).toMatchObject({
      status: 'no result',
      reason: expect.stringMatching(/unreadable/),
    });
  });
});

describe('mergeResults', () => {
  const merge = (outcomes: Parameters<typeof mergeResults>[0]['outcomes']) =>
    mergeResults({ startedAt: new Date(0), finishedAt: new Date(1000), server: 'dev', argv: [], outcomes });

  it('one row per figure, the verdict recomputed from value and target', () => {
    const tampered = result();
    tampered.figures[0] = { ...tampered.figures[0]!, value: 0.5, verdict: 'pass' };
    const merged = merge([{ suite: 'starts', status: 'ok', result: tampered, exitCode: 0 }]);
    expect(merged.rows.map((r) => [r.figure, r.verdict])).toEqual([
      ['starts throughput API ÷ raw', 'miss'],
      ['starts/s API', 'info'],
    ]);
    expect(merged.counts).toEqual({ pass: 0, miss: 1, info: 1, noResult: 0 });
    expect(merged.overall).toBe('miss');
  });

  it('a suite without a result is a row of its own and keeps the whole run from passing', () => {
    const merged = merge([
      { suite: 'starts', status: 'ok', result: result(), exitCode: 0 },
      { suite: 'inbox', status: 'no result', reason: 'results file in an older shape', exitCode: 0 },
    ]);
    expect(merged.rows.at(-1)).toMatchObject({
      suite: 'inbox',
      verdict: 'no result',
      note: 'results file in an older shape',
    });
    expect(merged.counts).toEqual({ pass: 1, miss: 0, info: 1, noResult: 1 });
    expect(merged.overall).toBe('miss');
    const text = mergedTable(merged);
    expect(text).toMatch(/starts throughput API ÷ raw\s+0\.90 ×\s+0\.90, 0\.85\s+≥ 0\.80 ×\s+PASS/);
    expect(text).toMatch(/inbox .*results file in an older shape.*no result/);
  });

  it('passes when every targeted figure passed and every suite gave a result', () => {
    expect(merge([{ suite: 'starts', status: 'ok', result: result(), exitCode: 0 }]).overall).toBe('pass');
  });
});

describe('planRun (the runner’s flags)', () => {
  it('defaults to starts and decisions on the dev server: one child for both, flags passed on', () => {
    const plan = planRun(['--cases', '200', '--rounds', '2']);
    expect(plan.suites).toEqual(['starts', 'decisions']);
    expect(plan.server).toBe('dev');
    expect(plan.runs).toEqual([
      { script: 'approval.bench.ts', suites: ['starts', 'decisions'], args: ['--cases', '200', '--rounds', '2'] },
    ]);
  });

  it('an unprefixed flag reaches only the suites that take it; a prefixed one only its suite', () => {
    const plan = planRun([
      '--suite',
      'audit,campaign',
      '--rounds=3',
      '--audit.events',
      '1000',
      '--restart',
      '--server',
      'real',
    ]);
    expect(plan.server).toBe('real');
    // In the harness's order, whatever the order asked.
    expect(plan.runs).toEqual([
      { script: 'campaign.bench.ts', suites: ['campaign'], args: ['--rounds', '3', '--restart'] },
      { script: 'audit.bench.ts', suites: ['audit'], args: ['--rounds', '3', '--events', '1000'] },
    ]);
  });

  it('the console suite runs bench/console.bench.ts and takes its own flags', () => {
    expect(planRun(['--suite', 'console', '--loads', '2', '--rounds', '1']).runs).toEqual([
      { script: 'console.bench.ts', suites: ['console'], args: ['--loads', '2', '--rounds', '1'] },
    ]);
    // --loads is the console's only: with memory alone selected nobody takes it.
    expect(() => planRun(['--suite', 'memory', '--loads', '2'])).toThrow(/no selected suite takes it/);
    expect(planRun(['--suite', 'memory', '--cases', '20', '--start-budget', '60']).runs[0]!.args).toEqual([
      '--cases',
      '20',
      '--start-budget',
      '60',
    ]);
  });

  it('all is every suite; unknown suites, flags and servers are refused', () => {
    expect(planRun(['--suite', 'all']).suites).toEqual([
      'starts',
      'decisions',
      'campaign',
      'inbox',
      'audit',
      'memory',
      'console',
    ]);
    expect(() => planRun(['--suite', 'starts,speed'])).toThrow(/no suite "speed"/);
    expect(() => planRun(['--suppliers', '10'])).toThrow(/no selected suite takes it/);
    expect(() => planRun(['--audit.events', '10'])).toThrow(/not selected/);
    expect(() => planRun(['--server', 'prod'])).toThrow(/dev or real/);
  });
});
