/**
 * Sends fuzzed requests in batches and checks two properties:
 * - no request is answered 5xx (nor left unanswered, nor answered 4xx outside
 *   the one error envelope; nor does any pollute Object.prototype);
 * - refusals change nothing: around each group of answers that were not a 2xx
 *   to a write, the database and the task queue's workflows are fingerprinted
 *   (./state.ts), and a group that changed is replayed one request at a time
 *   to name the request that did.
 *
 * Each batch is sent in two groups: the hostile requests, a few in flight at
 * once, then the writes that may succeed, one at a time. A 2xx to a write
 * legitimately changes state: the runner lets it settle (no activity or
 * workflow task pending, two fingerprints alike). If anything changed, the
 * refusals answered since the last fingerprint cannot be told apart from it,
 * so they are sent again after it; if nothing did, they stand checked.
 */
import fc from 'fast-check';
import type { Harness } from '../harness';
import { anyRequest, type FuzzContext, type FuzzRequest } from './requests';
import { differences, type Fingerprint, type StateProbe } from './state';

export interface FuzzOptions {
  seed: number;
  runs: number;
  batchSize: number;
  /** Stop after this many failures (each is reported in full). */
  maxFailures: number;
  requestTimeoutMs: number;
  /** Hostile requests in flight at once. */
  concurrency: number;
}

export interface FuzzReport {
  sent: number;
  byStatus: Record<string, number>;
  byOperation: Record<string, Record<string, number>>;
  byCase: Record<string, number>;
  failures: string[];
  /** Refusals (and reads) whose batch was fingerprinted before and after. */
  verified: number;
  writes2xx: number;
  replayed: number;
  fingerprints: number;
  /** Time spent answering requests, and fingerprinting (settling included). */
  sendMs: number;
  sendWallMs: number;
  /** The slowest answers: ms, operation and cases. */
  slowest: Array<{ ms: number; what: string }>;
  fingerprintMs: number;
  ms: number;
  /** CPU time of this process (app, worker and fuzzer; not PostgreSQL or Temporal), in ms. */
  cpuMs: number;
}

interface Answer {
  status: number;
  text: string;
  requestId: string | null;
  contentType: string | null;
  replayed: boolean;
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function describeRequest(req: FuzzRequest): string {
  const headers = Object.entries(req.headers)
    .map(([k, v]) => `${k}: ${v.length > 120 ? `${v.slice(0, 120)}…` : v}`)
    .join('; ');
  const url = req.url.length > 400 ? `${req.url.slice(0, 400)}… (${req.url.length} chars)` : req.url;
  return `${req.method} ${url} [as ${req.as}; ${req.cases.join(', ') || 'plain'}]\n      headers: ${headers}\n      body: ${req.bodyText}`;
}

export async function runFuzz(
  h: Harness,
  ctx: FuzzContext,
  probe: StateProbe,
  options: FuzzOptions,
): Promise<FuzzReport> {
  const started = Date.now();
  const report: FuzzReport = {
    sent: 0,
    byStatus: {},
    byOperation: {},
    byCase: {},
    failures: [],
    verified: 0,
    writes2xx: 0,
    replayed: 0,
    fingerprints: 0,
    sendMs: 0,
    sendWallMs: 0,
    slowest: [],
    fingerprintMs: 0,
    ms: 0,
    cpuMs: 0,
  };
  const cpu0 = process.cpuUsage();
  const fail = (message: string) => {
    report.failures.push(message);
  };
  const timed = async <T>(work: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    try {
      return await work();
    } finally {
      report.fingerprints += 1;
      report.fingerprintMs += Date.now() - t0;
    }
  };
  const take = () => timed(() => probe.take());
  const settle = () => timed(() => probe.settle());

  async function send(req: FuzzRequest): Promise<Answer | undefined> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const answer = (async () => {
        const res = await h.app.request(req.url, { method: req.method, headers: req.headers, body: req.body?.() });
        return {
          status: res.status,
          text: await res.text(),
          requestId: res.headers.get('x-request-id'),
          contentType: res.headers.get('content-type'),
          replayed: res.headers.get('idempotent-replayed') === 'true',
        };
      })();
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${options.requestTimeoutMs} ms`)),
          options.requestTimeoutMs,
        );
      });
      return await Promise.race([answer, timeout]);
    } catch (err) {
      fail(`request failed without an answer (${String(err)}):\n    ${describeRequest(req)}`);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends one request, counts it and checks what holds for every answer. */
  async function sendChecked(req: FuzzRequest): Promise<Answer | undefined> {
    const t0 = Date.now();
    const answer = await send(req);
    const ms = Date.now() - t0;
    report.sendMs += ms;
    if (report.slowest.length < 10 || ms > report.slowest[report.slowest.length - 1]!.ms) {
      report.slowest.push({ ms, what: `${req.method} ${req.url.slice(0, 80)} [${req.cases.join(', ')}] as ${req.as}` });
      report.slowest.sort((a, b) => b.ms - a.ms).splice(10);
    }
    report.sent += 1;
    const status = answer ? String(answer.status) : 'none';
    report.byStatus[status] = (report.byStatus[status] ?? 0) + 1;
    const perOp = (report.byOperation[req.op] ??= {});
    perOp[status] = (perOp[status] ?? 0) + 1;
    for (const c of req.cases.length ? req.cases : ['plain']) report.byCase[c] = (report.byCase[c] ?? 0) + 1;
    if (!answer) return undefined;
    if (answer.status >= 500) {
      fail(`${answer.status} for:\n    ${describeRequest(req)}\n      answer: ${answer.text.slice(0, 500)}`);
    } else if (answer.status >= 400 && req.url.startsWith('/api/')) {
      let error: any;
      try {
        error = JSON.parse(answer.text).error;
      } catch {
        /* checked below */
      }
      // A replay under the same Idempotency-Key is the first answer, with the first request's id.
      const sameId = error?.requestId === answer.requestId || answer.replayed;
      if (!error || typeof error.code !== 'string' || typeof error.message !== 'string' || !sameId)
        fail(
          `${answer.status} without the error envelope for:\n    ${describeRequest(req)}\n      answer: ${answer.text.slice(0, 300)}`,
        );
    }
    if (Object.keys(Object.prototype).length > 0 || ({} as any).polluted !== undefined)
      fail(
        `Object.prototype was polluted (${Object.keys(Object.prototype).join(', ')}) after:\n    ${describeRequest(req)}`,
      );
    return answer;
  }

  let base: Fingerprint = await settle();

  /** Finds the request of `batch` that changes state, by replaying each alone. */
  async function bisect(batch: FuzzRequest[], diff: string[]): Promise<void> {
    base = await settle();
    for (const req of batch.slice(0, 60)) {
      const before = base;
      const answer = await sendChecked(req);
      report.replayed += 1;
      base = await settle();
      const changed = differences(before, base);
      if (changed.length && answer && !(answer.status < 300 && MUTATING.has(req.method))) {
        fail(
          `a ${answer.status} refusal changed state:\n    ${describeRequest(req)}\n      answer: ${answer.text.slice(0, 300)}\n      changed: ${changed.slice(0, 10).join('\n               ')}`,
        );
        return;
      }
    }
    fail(
      `a batch of refusals changed state, and no request of it did so again when replayed alone:\n      changed: ${diff.slice(0, 10).join('\n               ')}\n    requests:\n    ${batch
        .slice(0, 60)
        .map(describeRequest)
        .join('\n    ')}`,
    );
  }

  /** Fingerprints after a batch of refusals and reads: it must equal the one before. */
  async function close(batch: FuzzRequest[]): Promise<void> {
    if (batch.length === 0) return;
    const after = await take();
    const diff = differences(base, after);
    if (diff.length === 0) {
      report.verified += batch.length;
      return;
    }
    await bisect(batch, diff);
  }

  /** A 2xx to a write: learn the ids it named (and the workflow it started). */
  function succeeded(answer: Answer): void {
    report.writes2xx += 1;
    try {
      const body = JSON.parse(answer.text);
      ctx.pool.harvest(body);
      for (const key of ['caseId', 'revisionCaseId', 'workflowId'])
        if (typeof body?.[key] === 'string') probe.know(body[key]);
    } catch {
      /* not JSON */
    }
  }

  /**
   * Sends `requests` (a few at a time when `concurrency` > 1) and closes with a
   * fingerprint. A 2xx to a write cannot be told apart from the refusals
   * answered since the last fingerprint: it settles, and they go again.
   */
  async function runGroup(requests: FuzzRequest[], concurrency: number): Promise<void> {
    let batch: FuzzRequest[] = [];
    const queue = [...requests];
    const replays = new Set<FuzzRequest>();
    while (queue.length) {
      if (report.failures.length >= options.maxFailures) return;
      const sending = queue.splice(0, concurrency);
      const t0 = Date.now();
      const answers = await Promise.all(sending.map((req) => sendChecked(req)));
      report.sendWallMs += Date.now() - t0;
      const wrote = sending.filter((req, i) => {
        const answer = answers[i];
        return answer && answer.status < 300 && MUTATING.has(req.method);
      });
      const refused = sending.filter((req) => !wrote.includes(req));
      if (wrote.length === 0) {
        batch.push(...refused);
        continue;
      }
      for (const req of wrote) succeeded(answers[sending.indexOf(req)]!);
      const settled = await settle();
      if (differences(base, settled).length === 0) {
        // The 2xx changed nothing (a computed answer, a replayed one): the refusals with it stand checked.
        batch.push(...refused);
        continue;
      }
      base = settled;
      const again = [...batch, ...refused].filter((earlier) => !replays.has(earlier));
      for (const earlier of again) replays.add(earlier);
      queue.unshift(...again);
      report.replayed += again.length;
      batch = [];
    }
    await close(batch);
  }

  /** Hostile requests first, several at once; then the plausible writes, one at a time (they may succeed). */
  async function runBatch(requests: FuzzRequest[]): Promise<void> {
    await runGroup(
      requests.filter((req) => !req.plausible),
      options.concurrency,
    );
    await runGroup(
      requests.filter((req) => req.plausible),
      1,
    );
  }

  const runs = Math.ceil(options.runs / options.batchSize);
  let remaining = options.runs;
  const property = fc.asyncProperty(
    fc.array(anyRequest(ctx), { minLength: options.batchSize, maxLength: options.batchSize }),
    async (requests) => {
      const mine = requests.slice(0, Math.max(0, remaining));
      remaining -= mine.length;
      await runBatch(mine);
    },
  );
  const details = await fc.check(property, { seed: options.seed, numRuns: runs, endOnFailure: true });
  if (details.failed) fail(`the property threw: ${String(details.errorInstance)}`);
  report.ms = Date.now() - started;
  const cpu = process.cpuUsage(cpu0);
  report.cpuMs = Math.round((cpu.user + cpu.system) / 1000);
  return report;
}
