/**
 * Bad input at scale (issue 14 §5): property-based fuzzing (fast-check) of
 * every operation of the app's OpenAPI document, 10,000 requests a run,
 * in-process on the real app, PostgreSQL and Temporal dev server.
 *
 * Each request is drawn for one operation: path parameters (real ids, path
 * tricks, encoded slashes, very long ids, odd Unicode), query strings, JSON
 * bodies derived from the operation's schema and then broken (wrong types,
 * missing and extra fields, huge and deeply nested values, injection strings,
 * prototype keys), malformed JSON, wrong and missing content types, oversize
 * bodies, multipart uploads (oversize, mistyped, file names with path tricks,
 * NUL and great length), and tokens of every role, none, malformed, revoked,
 * expired and of a deactivated user.
 *
 * Properties: no answer is 5xx (and every 4xx is the error envelope); and
 * refusals change nothing — every table of the database and every workflow
 * of the task queue (status, history length) is the same after a batch of
 * refusals as before it (see tests/support/fuzz/runner.ts).
 *
 * A second test plants a 5xx and a refusal that writes behind the real app,
 * and sees the runner report both, naming the request that wrote.
 *
 * FUZZ_SEED and FUZZ_RUNS vary the run; the seed is printed with any failure,
 * and FUZZ_REPORT_FILE names a file for the whole report.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../../api/auth';
import { users } from '../../db/schema';
import { openCaseOf, useAssessmentPeriod } from '../support/cases';
import { createDriver, creditCodes, endWorkflows } from '../support/drive';
import { TEST_USERS, useHarness } from '../support/harness';
import { readDocument } from '../support/fuzz/openapi';
import type { FuzzContext } from '../support/fuzz/requests';
import { runFuzz, type FuzzReport } from '../support/fuzz/runner';
import { stateProbe } from '../support/fuzz/state';
import { IdPool } from '../support/fuzz/values';

const h = useHarness('fuzz');

const SEED = Number(process.env.FUZZ_SEED ?? 20261128);
const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);

/** Credit codes of this file (prefix 91310000MA7): review workflow ids are global on the shared dev server. */
const drive = createDriver(h, { label: 'Fuzz', creditCode: creditCodes('91310000MA7') });

/** Where each process's business key goes in a URL. */
const KEY_PARAM: Record<string, string> = {
  risk_assessment: 'period',
  risk_warning: 'warningKey',
  audit: 'auditKey',
  complaint: 'complaintId',
  incident: 'incidentId',
  pdca: 'cycleKey',
  supplier_review: 'caseId',
  drill: 'caseId',
};

let ctx: FuzzContext;

beforeAll(async () => {
  const t0 = Date.now();
  const doc = readDocument(await (await h.app.request('/openapi.json')).json());
  const pool = new IdPool(new Set(Object.values(TEST_USERS).map((u) => u.id)));

  // One open case of every process, an approval with its task and evidence: real ids for the URLs.
  // Its own quarter: contractSteps.test.ts opens 1998-Q1 on the same dev server, maybe at the same time.
  useAssessmentPeriod('1997-Q1');
  for (const [process, open] of Object.entries(openCaseOf)) {
    const { key, caseId } = await open(h);
    pool.add(KEY_PARAM[process] ?? 'key', key);
    pool.add('caseId', caseId);
  }
  const approval = await drive.startApproval();
  await drive.uploadEvidence(approval.caseId);
  // From here per-case clocks are refused: a fuzzed start cannot set a timer that fires during the run.
  h.settings.caseTimings = 'locked';

  // Users the user and token routes may act on; tokens that must be refused at the door.
  for (const id of ['fuzz-target', 'fuzz-gone']) {
    await h.database.db.insert(users).values({ id, name: id, email: `${id}@test.example`, roles: ['action_owner'] });
  }
  const tokens: Record<string, string> = { ...h.tokens };
  tokens.revoked = await issueToken(h.database.db, 'mgr', 'fuzz revoked');
  tokens.expired = await issueToken(h.database.db, 'mgr', 'fuzz expired');
  tokens.deactivated = await issueToken(h.database.db, 'fuzz-gone', 'fuzz deactivated');
  await issueToken(h.database.db, 'fuzz-target', 'fuzz target');
  await h.sql(`update api_tokens set revoked_at = now() where label = 'fuzz revoked'`);
  await h.sql(`update api_tokens set expires_at = now() - interval '1 day' where label = 'fuzz expired'`);
  await h.sql(`update users set active = false where id = 'fuzz-gone'`);

  const ids: Array<[string, string]> = [
    ['caseId', 'select id from cases'],
    ['taskId', 'select id from tasks'],
    ['evidenceId', 'select id::text from evidence'],
    ['supplierId', 'select id from suppliers'],
    ['planId', 'select id from emergency_plans'],
    ['riskKey', 'select key from risks'],
    ['controlId', 'select id::text from risk_controls'],
    ['kriKey', 'select key from key_risk_indicators'],
    ['userId', 'select id from users'],
    ['ownerId', 'select id from users where active'],
    ['tokenId', `select id::text from api_tokens where user_id = 'fuzz-target'`],
  ];
  for (const [name, query] of ids) for (const row of await h.sql(query)) pool.add(name, Object.values(row)[0]);

  ctx = {
    doc,
    pool,
    tokens,
    roles: Object.keys(h.tokens),
    maxEvidenceBytes: h.settings.maxEvidenceBytes,
  };
  console.log(`fuzz: fixtures ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}, 300_000);

afterAll(async () => {
  h.settings.caseTimings = 'allow';
  const running: string[] = [];
  for await (const w of h.temporal.workflow.list({
    query: `TaskQueue = "${h.taskQueue}" AND ExecutionStatus = "Running"`,
  }))
    running.push(w.workflowId);
  await endWorkflows(h, running, 'fuzz run over');
});

function summary(r: FuzzReport): string {
  const ops = Object.entries(r.byOperation)
    .map(
      ([op, statuses]) =>
        `  ${op}: ${Object.entries(statuses)
          .map(([s, n]) => `${s}×${n}`)
          .join(' ')}`,
    )
    .join('\n');
  return [
    `fuzz: seed ${SEED}, ${r.sent} requests (${r.replayed} of them replays) in ${(r.ms / 1000).toFixed(1)} s, ${(r.cpuMs / 1000).toFixed(1)} s of this process's CPU`,
    `statuses: ${JSON.stringify(r.byStatus)}`,
    `cases: ${JSON.stringify(r.byCase)}`,
    `refusals and reads verified unchanged: ${r.verified}; 2xx writes: ${r.writes2xx}; fingerprints: ${r.fingerprints}`,
    `time answering: ${(r.sendWallMs / 1000).toFixed(1)} s (${(r.sendMs / 1000).toFixed(1)} s summed over requests in flight together); fingerprinting: ${(r.fingerprintMs / 1000).toFixed(1)} s; drawing requests and the rest: ${((r.ms - r.sendWallMs - r.fingerprintMs) / 1000).toFixed(1)} s`,
    `slowest answers:\n${r.slowest.map((s) => `  ${s.ms} ms ${s.what}`).join('\n')}`,
    `by operation:\n${ops}`,
  ].join('\n');
}

describe(`fuzzing every operation of the OpenAPI document (FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS})`, () => {
  it('answers no request 5xx, and no refusal changes the database or Temporal', async () => {
    // The Idempotency-Key store keeps refusals' answers too, by design (api/idempotency.ts): not state a refusal changed.
    const probe = stateProbe(h, { ignoreTables: ['public.idempotent_requests'] });
    const report = await runFuzz(h, ctx, probe, {
      seed: SEED,
      runs: RUNS,
      batchSize: 200,
      concurrency: 4,
      maxFailures: 20,
      requestTimeoutMs: 30_000,
    });
    console.log(summary(report), probe.timing);
    // A file to read the whole report from when the console cuts it short.
    if (process.env.FUZZ_REPORT_FILE)
      writeFileSync(
        process.env.FUZZ_REPORT_FILE,
        `${summary(report)}\n${JSON.stringify(probe.timing)}\n\n${report.failures.join('\n\n')}\n`,
      );
    expect(
      report.failures,
      `FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS}: ${report.failures.length} failures\n${report.failures.join('\n\n')}`,
    ).toEqual([]);

    // The run reached every operation, mostly past the door, and some requests got in.
    expect(report.sent).toBeGreaterThanOrEqual(RUNS);
    // Every operation, when the run is long enough to draw each (113 operations: 2,000 requests miss one with odds of 1 in 10^5).
    if (RUNS >= 2_000)
      expect(Object.keys(report.byOperation).sort()).toEqual(ctx.doc.operations.map((op) => op.id).sort());
    expect(report.verified).toBeGreaterThan(RUNS * 0.8);
    expect(report.writes2xx).toBeGreaterThan(0);
  }, 900_000);

  it('catches a planted 5xx and a planted refusal that writes, and names the request', async () => {
    // The real app, but a URL with an overlong-encoded slash or dot (%C0%AF, %C0%AE) gets a 500, and a "Basic" token's 401 writes a row first.
    await h.sql('create table fuzz_canary (id serial primary key, note text)');
    const canary = {
      request: async (url: string, init: RequestInit) => {
        const authorization = new Headers(init.headers).get('authorization') ?? '';
        if (/%C0%A[EF]/.test(url)) return new Response('planted', { status: 500 });
        const res = await h.app.request(url, init);
        if (res.status === 401 && authorization.startsWith('Basic '))
          await h.sql(`insert into fuzz_canary (note) values ('planted')`);
        return res;
      },
    };
    const planted = await runFuzz(
      { ...h, app: canary } as unknown as typeof h,
      ctx,
      stateProbe(h, { ignoreTables: ['public.idempotent_requests'] }),
      {
        seed: SEED,
        runs: 1_000,
        batchSize: 200,
        concurrency: 4,
        maxFailures: 50,
        requestTimeoutMs: 30_000,
      },
    );
    expect(
      planted.failures.some((f) => /^500 for:\n.*%C0%A[EF]/.test(f)),
      planted.failures.join('\n\n'),
    ).toBe(true);
    const writes = planted.failures.filter((f) => f.startsWith('a 401 refusal changed state'));
    expect(writes.length, planted.failures.join('\n\n')).toBeGreaterThan(0);
    for (const f of writes) {
      expect(f).toMatch(/authorization: Basic /);
      expect(f).toMatch(/table public\.fuzz_canary: \d+:/);
    }
  }, 300_000);
});
