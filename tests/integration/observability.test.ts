/**
 * Operations (issue 14 §6): traces, logs and metrics, as the people who run
 * the product read them.
 *
 * - One API request that starts a case is one trace: the HTTP span, the
 *   Temporal client's update-with-start, the workflow, the activity it runs
 *   and that activity's SQL, linked parent to child (in-memory exporter,
 *   this process's worker with the tracing interceptors).
 * - `api/server.ts` and `worker.ts` run as their own processes, as in
 *   production: their stdout is JSON lines carrying request ids and workflow
 *   ids; `/metrics` counts requests by route template and reads the audit
 *   chain; the worker serves the Temporal SDK's metrics at
 *   WORKER_METRICS_ADDRESS; the API exports its spans over OTLP/HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer } from 'node:net';
import path from 'node:path';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApp } from '../../api/app';
import { issueToken } from '../../api/auth';
import { PROJECT_ROOT } from '../../platform/config';
import { startTracing, temporalClientInterceptors, type Tracing } from '../../platform/tracing';
import { createWorker } from '../../worker';
import { eventually, useHarness } from '../support/harness';

const h = useHarness('observability');

const TSX = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx');

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const approvalRequest = (key: string, title: string) => ({ requestKey: key, title, probability: 2, impact: 3 });

describe('one trace from the HTTP request to the SQL of an activity', () => {
  const spans = new InMemorySpanExporter();
  const taskQueue = `traced-${randomUUID().slice(0, 8)}`;
  let tracing: Tracing;
  let connection: Connection;
  let nativeConnection: NativeConnection;
  let worker: Worker;
  let running: Promise<void>;
  let app: ReturnType<typeof createApp>;

  beforeAll(async () => {
    tracing = await startTracing({ serviceName: 'governance-test', spanProcessor: new SimpleSpanProcessor(spans) });
    const address = inject('temporalAddress');
    connection = await Connection.connect({ address });
    // As platform/temporalConnection.ts builds the product's client.
    const client = new Client({ connection, namespace: 'default', interceptors: temporalClientInterceptors() });
    nativeConnection = await NativeConnection.connect({ address });
    worker = await createWorker({
      connection: nativeConnection,
      temporal: client,
      db: h.database.db,
      namespace: 'default',
      taskQueue,
      workflowBundle: { codePath: inject('workflowBundlePath') },
      tracing,
    });
    running = worker.run();
    app = createApp({ db: h.database.db, temporal: client, settings: { ...h.settings, taskQueue } });
  });

  afterAll(async () => {
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await running?.catch(() => undefined);
    await nativeConnection?.close();
    await connection?.close();
    await tracing?.shutdown();
  });

  const call = async (method: string, url: string, as: 'lead' | 'approver', json?: unknown) => {
    const res = await app.request(url, {
      method,
      headers: { authorization: `Bearer ${h.tokens[as]}`, 'content-type': 'application/json' },
      body: json === undefined ? undefined : JSON.stringify(json),
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  it('links HTTP → UpdateWithStart → workflow → activity → pg query, and records no values', async () => {
    const title = `Traced courier ${randomUUID()}`;
    const started = await call('POST', '/api/cases/approval-requests', 'lead', approvalRequest(h.unique('TR'), title));
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const caseId: string = started.body.caseId;
    // The workflow's own span ends with the workflow: decide, so it closes.
    const decided = await call('POST', `/api/tasks/${encodeURIComponent(`${caseId}:approval`)}/decision`, 'approver', {
      decision: 'approve',
    });
    expect(decided.status, JSON.stringify(decided.body)).toBe(200);

    const finished = () => spans.getFinishedSpans();
    const http = await eventually(async () =>
      finished().find(
        (s) => s.name === 'POST /api/cases/approval-requests' && s.attributes['http.response.status_code'] === 201,
      ),
    );
    const trace = http.spanContext().traceId;
    const inTrace = () => finished().filter((s) => s.spanContext().traceId === trace);
    const byId = () => new Map(inTrace().map((s) => [s.spanContext().spanId, s]));
    const ancestry = (span: ReadableSpan) => {
      const names = [span.name];
      const spansById = byId();
      for (let parent = span.parentSpanContext?.spanId; parent;) {
        const next = spansById.get(parent);
        if (!next) return [...names, `<missing ${parent}>`];
        names.push(next.name);
        parent = next.parentSpanContext?.spanId;
      }
      return names;
    };
    // A query of an activity whose chain of parents reaches the HTTP span, every link exported.
    const chain = await eventually(async () => {
      for (const query of inTrace().filter((s) => s.name.startsWith('pg.query'))) {
        const names = ancestry(query);
        if (names.some((n) => n.startsWith('RunActivity:')) && names.at(-1) === http.name) return names;
      }
      return undefined;
    });
    expect(chain[0]).toMatch(/^pg\.query/);
    expect(chain).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^RunActivity:/),
        expect.stringMatching(/^StartActivity:/),
        'RunWorkflow:approvalRequestWorkflow',
        expect.stringMatching(/^UpdateWithStartWorkflow/),
        'POST /api/cases/approval-requests',
      ]),
    );
    expect(chain.some((n) => n.startsWith('<missing'))).toBe(false);
    // Each process's part is there: the server span, the client call, the sandbox's, the worker's.
    expect(http.kind).toBe(1 /* SERVER */);
    expect(http.attributes).toMatchObject({
      'http.route': '/api/cases/approval-requests',
      'http.response.status_code': 201,
    });
    const workflowSpan = inTrace().find((s) => s.name === 'RunWorkflow:approvalRequestWorkflow')!;
    expect(workflowSpan.attributes).toMatchObject({ temporalWorkflowId: caseId });
    expect(workflowSpan.instrumentationScope.name).toBe('@temporalio/interceptor-workflow');
    // The SQL is parameterised; no value (the title) reaches a span.
    const everyValue = finished().flatMap((s) => Object.values(s.attributes).map(String));
    expect(everyValue.some((v) => v.includes(title))).toBe(false);
    expect(everyValue.some((v) => v.includes(h.tokens.lead))).toBe(false);
  });

  it('does not trace a workflow whose start carried no trace (the harness client has no interceptor)', async () => {
    const before = spans.getFinishedSpans().length;
    const res = await h.api('POST', '/api/cases/approval-requests', {
      as: 'lead',
      json: approvalRequest(h.unique('UNTRACED'), 'Untraced courier'),
    });
    expect(res.status).toBe(201);
    // Its HTTP span exists (the provider is this process's), but the harness's client sends no trace
    // context, so the workflow on the harness's worker opens no span.
    await new Promise((r) => setTimeout(r, 300));
    const workflowSpans = spans
      .getFinishedSpans()
      .slice(before)
      .filter((s) => s.attributes.temporalWorkflowId === res.body.caseId);
    expect(workflowSpans).toEqual([]);
  });
});

interface RunningProcess {
  child: ChildProcess;
  lines: Array<Record<string, any>>;
  output: () => string;
  stop(): Promise<void>;
}

/** Starts one of the product's entries with `env`; resolves when a JSON log line matches `ready`. */
async function startProcess(
  script: string,
  env: Record<string, string>,
  ready: (line: Record<string, any>) => boolean,
): Promise<RunningProcess> {
  const base = { ...process.env };
  for (const name of ['NODE_ENV', 'HOST', 'PORT', 'LOG_LEVEL', 'METRICS_TOKEN', 'OTEL_EXPORTER_OTLP_ENDPOINT'])
    delete base[name];
  const child = spawn(TSX, [path.join(PROJECT_ROOT, script)], {
    cwd: PROJECT_ROOT,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, any>> = [];
  let raw = '';
  let pending = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const onData = (chunk: Buffer) => {
    raw += chunk.toString();
    pending += chunk.toString();
    const complete = pending.split('\n');
    pending = complete.pop()!;
    for (const text of complete) {
      try {
        lines.push(JSON.parse(text));
      } catch {
        /* not a log line (a tsx warning): kept in the raw output only */
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const running: RunningProcess = {
    child,
    lines,
    output: () => raw,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
  try {
    await eventually(async () => {
      if (child.exitCode !== null) throw new Error(`${script} exited with ${child.exitCode}`);
      return lines.some(ready);
      // A loaded CI machine takes tens of seconds to compile an entry with tsx.
    }, 200_000);
  } catch (err) {
    await running.stop();
    throw new Error(`${script} did not start: ${(err as Error).message}\n${raw}`);
  }
  return running;
}

/** `name{labels} value` of a Prometheus exposition, 0 when the series is absent. */
function sample(exposition: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = line.slice(name.length).split(' ')[0]!;
    if (wanted.every((w) => labelText.includes(w))) return Number(line.split(' ').at(-1));
  }
  return 0;
}

describe('the API and the worker as their own processes', () => {
  const taskQueue = `ops-${randomUUID().slice(0, 8)}`;
  const metricsToken = `metrics-${randomUUID()}`;
  const otlpBodies: any[] = [];
  let otlp: Server;
  let api: RunningProcess;
  let worker: RunningProcess;
  let apiUrl: string;
  let workerMetricsUrl: string;

  beforeAll(async () => {
    // A collector: the OTLP/HTTP JSON bodies the API exports.
    otlp = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        if (req.url === '/v1/traces') otlpBodies.push(JSON.parse(body));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => otlp.listen(0, '127.0.0.1', resolve));
    const otlpPort = (otlp.address() as { port: number }).port;

    const common = {
      DATABASE_URL: h.databaseUrl,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_TASK_QUEUE: taskQueue,
      GOVERNANCE_CASE_TIMINGS: 'allow',
    };
    const metricsPort = await freePort();
    workerMetricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    const apiPort = await freePort();
    apiUrl = `http://127.0.0.1:${apiPort}`;
    [worker, api] = await Promise.all([
      startProcess(
        'worker.ts',
        {
          ...common,
          LOG_LEVEL: 'debug',
          WORKER_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
          // The run's bundle: a start in seconds instead of a re-bundle.
          GOVERNANCE_WORKFLOW_BUNDLE: inject('workflowBundlePath'),
        },
        (line) => line.msg === 'worker polling',
      ),
      startProcess(
        'api/server.ts',
        {
          ...common,
          HOST: '127.0.0.1',
          PORT: String(apiPort),
          LOG_LEVEL: 'info',
          METRICS_TOKEN: metricsToken,
          OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${otlpPort}`,
          OTEL_BSP_SCHEDULE_DELAY: '100',
        },
        (line) => typeof line.msg === 'string' && line.msg.startsWith('API listening'),
      ),
    ]);
  }, 240_000);

  afterAll(async () => {
    await api?.stop();
    await worker?.stop();
    await new Promise((resolve) => (otlp ? otlp.close(resolve) : resolve(undefined)));
  });

  const scrape = async (token = metricsToken) => {
    const res = await fetch(`${apiUrl}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
  };

  it('/metrics wants the metrics token; user tokens and no token are refused', async () => {
    expect((await scrape('')).status).toBe(401);
    expect((await scrape(h.tokens.admin)).status).toBe(401);
    const ok = await scrape();
    expect(ok.status).toBe(200);
    expect(ok.type).toContain('text/plain');
    expect(ok.text).toContain('process_cpu_user_seconds_total');
    expect(ok.text).toContain('nodejs_eventloop_lag_seconds');
  });

  it('logs one JSON line per request, counts it by route template, and the worker logs with workflow ids', async () => {
    const before = (await scrape()).text;
    const requestId = `ops-${randomUUID()}`;
    const title = `Logged courier ${randomUUID()}`;
    const started = await fetch(`${apiUrl}/api/cases/approval-requests`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${h.tokens.lead}`,
        'content-type': 'application/json',
        'x-request-id': requestId,
      },
      body: JSON.stringify(approvalRequest(h.unique('OPS'), title)),
    });
    const body = (await started.json()) as { caseId: string };
    expect(started.status, JSON.stringify(body)).toBe(201);
    const caseId = body.caseId;
    const detailId = `ops-${randomUUID()}`;
    const detail = await fetch(`${apiUrl}/api/cases/${encodeURIComponent(caseId)}`, {
      headers: { authorization: `Bearer ${h.tokens.auditor}`, 'x-request-id': detailId },
    });
    expect(detail.status).toBe(200);
    expect((await fetch(`${apiUrl}/no-such-thing/${randomUUID()}`)).status).toBe(404);

    const line = await eventually(async () => api.lines.find((l) => l.requestId === requestId));
    expect(line).toMatchObject({
      level: 'info',
      msg: 'request',
      service: 'api',
      method: 'POST',
      route: '/api/cases/approval-requests',
      status: 201,
      userId: 'lead',
    });
    expect(line.durationMs).toBeGreaterThan(0);
    expect(typeof line.time).toBe('string');
    expect(api.lines.find((l) => l.requestId === detailId)).toMatchObject({
      route: '/api/cases/:caseId',
      userId: 'auditor',
    });
    // No bodies, no tokens.
    expect(api.output()).not.toContain(title);
    expect(api.output()).not.toContain(h.tokens.lead);

    const after = (await scrape()).text;
    const count = (text: string, labels: Record<string, string>) =>
      sample(text, 'http_request_duration_seconds_count', labels);
    const posted = { method: 'POST', route: '/api/cases/approval-requests', status: '201' };
    expect(count(after, posted) - count(before, posted)).toBe(1);
    const read = { method: 'GET', route: '/api/cases/:caseId', status: '200' };
    expect(count(after, read) - count(before, read)).toBe(1);
    const unmatched = { method: 'GET', route: 'unmatched', status: '404' };
    expect(count(after, unmatched) - count(before, unmatched)).toBe(1);
    // Route templates only: no series per case.
    expect(after).not.toContain(caseId);

    // The audit chain, as the database holds it.
    const [chain] = await h.sql<{ events: string; newest: string }>(
      'select count(*)::text as events, max(seq)::text as newest from audit_events',
    );
    expect(Number(chain!.events)).toBeGreaterThan(0);
    expect(sample(after, 'governance_audit_events')).toBe(Number(chain!.events));
    expect(sample(after, 'governance_audit_newest_seq')).toBe(Number(chain!.newest));
    expect(sample(after, 'governance_audit_newest_event_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 - 600);

    // The worker's lines about this case carry its workflow and activity ids.
    const activityLine = await eventually(async () =>
      worker.lines.find((l) => l.workflowId === caseId && typeof l.activityType === 'string'),
    );
    expect(activityLine).toMatchObject({ service: 'worker', workflowType: 'approvalRequestWorkflow' });
    expect(activityLine.runId).toMatch(/^[0-9a-f-]{36}$/);
    // An activity's task token completes it for whoever holds it: never logged.
    expect(activityLine.taskToken).toBeUndefined();
    expect(worker.output()).not.toContain(title);
  });

  it('logs an unexpected failure with its stack, and answers with the request id only', async () => {
    // The database loses a table under the running API: every authenticated request fails unexpectedly.
    // A token the API has not seen yet, so its in-process cache cannot answer for the lost table.
    const token = await issueToken(h.database.db, 'lead', 'unseen');
    await h.sql('alter table api_tokens rename to api_tokens_gone');
    const requestId = `boom-${randomUUID()}`;
    let res: Response;
    try {
      res = await fetch(`${apiUrl}/api/tasks/inbox`, {
        headers: { authorization: `Bearer ${token}`, 'x-request-id': requestId },
      });
    } finally {
      await h.sql('alter table api_tokens_gone rename to api_tokens');
    }
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: { requestId: string; message: string } };
    expect(body.error.requestId).toBe(requestId);
    expect(JSON.stringify(body)).not.toContain('api_tokens');
    const line = await eventually(async () => api.lines.find((l) => l.requestId === requestId));
    expect(line).toMatchObject({ level: 'error', msg: 'request failed', status: 500, route: '/api/tasks/inbox' });
    expect(line.err.stack).toContain('api_tokens');
  });

  it('exports the API’s spans over OTLP/HTTP: the request and its SQL', async () => {
    const requestId = `otlp-${randomUUID()}`;
    const res = await fetch(`${apiUrl}/api/tasks/inbox`, {
      headers: { authorization: `Bearer ${h.tokens.approver}`, 'x-request-id': requestId },
    });
    expect(res.status).toBe(200);
    const line = await eventually(async () => api.lines.find((l) => l.requestId === requestId));
    expect(line.traceId).toMatch(/^[0-9a-f]{32}$/);
    const exported = await eventually(async () => {
      const spans = otlpBodies.flatMap((b) =>
        b.resourceSpans.flatMap((r: any) =>
          r.scopeSpans.flatMap((s: any) => s.spans.map((span: any) => ({ ...span, resource: r.resource }))),
        ),
      );
      const inTrace = spans.filter((s: any) => s.traceId === line.traceId);
      return inTrace.some((s: any) => s.name.startsWith('pg.query')) &&
        inTrace.some((s: any) => s.name === 'GET /api/tasks/inbox')
        ? inTrace
        : undefined;
    });
    const server = exported.find((s: any) => s.name === 'GET /api/tasks/inbox');
    expect(server.resource.attributes).toContainEqual({
      key: 'service.name',
      value: { stringValue: 'governance-api' },
    });
    const queries = exported.filter((s: any) => s.name.startsWith('pg.query'));
    expect(queries.some((q: any) => q.parentSpanId === server.spanId)).toBe(true);
  });

  it('the worker serves the Temporal SDK’s metrics at WORKER_METRICS_ADDRESS', async () => {
    const text = await eventually(async () => {
      const res = await fetch(workerMetricsUrl);
      const body = await res.text();
      // Counters move once the case of the test above has run its activities.
      return res.status === 200 &&
        sample(body, 'temporal_activity_execution_latency_count', { task_queue: taskQueue }) > 0
        ? body
        : undefined;
    });
    expect(sample(text, 'temporal_workflow_task_execution_latency_count', { task_queue: taskQueue })).toBeGreaterThan(
      0,
    );
    expect(text).toContain(`namespace="default"`);
  });
});
