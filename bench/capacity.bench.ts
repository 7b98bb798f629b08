/**
 * `npx tsx bench/capacity.bench.ts [--per-process N] [--concurrency C] [--evidence-bytes B] [--only a,b]`
 *
 * What does one typical case of each process cost? The figures docs/capacity.md
 * works a company-sized year out from. Drives N cases of each process end to
 * end through the real API (Hono over HTTP, demo users' tokens), one process
 * after another, and measures per case:
 *  - Temporal: workflow executions the case made (its own, and any it started:
 *    a plan's revision clock, a continued-as-new run), history events and
 *    history bytes (every event re-encoded as the server stores it, payloads
 *    sealed by the product's codec; and the server's own historySizeBytes),
 *    activities, workflow tasks and timers;
 *  - PostgreSQL: rows and bytes added per table (pg_total_relation_size of
 *    the table with its indexes and TOAST, partitions summed into their
 *    parent; and the logical tuple bytes, sum of pg_column_size), evidence
 *    bytes among them;
 *  - CPU ms of the bench process (API + worker + HTTP client, in one process
 *    as `npm start` runs them, via process.cpuUsage), of the dev server and of
 *    this database's PostgreSQL backends (/proc, informational);
 *  - wall time per case (every call of the case, one after the other).
 *
 * Self-contained: an in-memory Temporal dev server, a fresh database
 * (gov_bench_<pid>, dropped at the end), demo users, the worker in this
 * process with the production sticky cache (WORKER_MAX_CACHED_WORKFLOWS=100),
 * the API on an ephemeral port. Prints a table; bench/results/capacity.json
 * holds every figure, per table too.
 *
 * Each case ends closed (or, where the process keeps waiting by design,
 * quiet: nothing pending), so its history is complete when it is measured.
 * Evidence files are random bytes (incompressible, like PDFs) of
 * --evidence-bytes each: scale the evidence column for real documents.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import pg from 'pg';
import { createApp } from '../api/app';
import { openDatabase } from '../db/client';
import { migrate } from '../db/migrate';
import { CREDIT_CODE_CHARSET, creditCodeCheckChar } from '../domain/uscc';
import { dataConverterFor, generateCodecKey } from '../platform/codec';
import { startDevServer } from '../platform/devServer';
import { seedDemoUsers } from '../platform/seed';
import { connectClient, connectWorker } from '../platform/temporalConnection';
import { createWorker } from '../worker';
import {
  cpuDelta,
  cpuOf,
  createBenchDatabase,
  descendantPids,
  mean,
  percentile,
  processName,
  round,
  runPool,
  sleep,
  table,
  waitUntil,
  benchTeardown,
  serveBench,
} from './support';

// ───────────────────────── configuration ─────────────────────────

const PROCESSES = [
  'approval_request',
  'supplier_review',
  'supplier_status_change',
  'incident',
  'complaint',
  'plan_revision',
  'drill',
  'pdca',
  'risk_assessment',
  'risk_warning',
  'audit',
] as const;
type ProcessName = (typeof PROCESSES)[number];

const { values: flags } = parseArgs({
  options: {
    'per-process': { type: 'string' },
    concurrency: { type: 'string' },
    'evidence-bytes': { type: 'string' },
    only: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (flags.help) {
  console.log(`usage: npx tsx bench/capacity.bench.ts [--per-process N] [--concurrency C] [--evidence-bytes B] [--only p1,p2]
  --per-process N     cases of each process (default 20)
  --concurrency C     cases driven at once within a process (default 4; risk assessments always 1: one register)
  --evidence-bytes B  size of each uploaded evidence file or document (default 4096)
  --only              a comma-separated subset of: ${PROCESSES.join(', ')}
                      (supplier_status_change needs supplier_review, drill needs plan_revision)
env BENCH_PG_ADMIN_URL  admin URL of the PostgreSQL server (default postgres://postgres@127.0.0.1:5432/postgres)`);
  process.exit(0);
}
const int = (name: string, raw: string | undefined, fallback: number, min: number) => {
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min) throw new Error(`${name} must be an integer ≥ ${min}, got "${raw}"`);
  return v;
};
const N = int('--per-process', flags['per-process'], 20, 1);
const CONCURRENCY = int('--concurrency', flags.concurrency, 4, 1);
const EVIDENCE_BYTES = int('--evidence-bytes', flags['evidence-bytes'], 4096, 1);
const ONLY = (flags.only?.split(',').map((s) => s.trim()) ?? [...PROCESSES]) as ProcessName[];
for (const p of ONLY) if (!PROCESSES.includes(p)) throw new Error(`--only: unknown process "${p}"`);
const SELECTED = PROCESSES.filter(
  (p) =>
    ONLY.includes(p) ||
    (p === 'supplier_review' && ONLY.includes('supplier_status_change')) ||
    (p === 'plan_revision' && ONLY.includes('drill')),
);

const PG_ADMIN_URL = process.env.BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE_NAME = `gov_bench_${process.pid}`;
const TASK_QUEUE = `bench-capacity-${process.pid}`;
const NAMESPACE = 'default';
const CODEC_KEYS = generateCodecKey('bench');
/** The production worker's sticky cache (WORKER_MAX_CACHED_WORKFLOWS in docker-compose.yml). */
const MAX_CACHED_WORKFLOWS = 100;
const CASE_TIMEOUT_MS = 180_000;
const RESULTS_FILE = fileURLToPath(new URL('./results/capacity.json', import.meta.url));
const RUN = `C${process.pid}`;

const TOKENS = {
  manager: 'gov_demo_manager', // li.manager: manager + risk
  approver: 'gov_demo_approver', // wang.approver: risk
  compliance: 'gov_demo_compliance',
  internalAudit: 'gov_demo_internal_audit',
  owner: 'gov_demo_owner', // chen.owner: action owner
  admin: 'gov_demo_admin',
} as const;
type As = keyof typeof TOKENS;

const T0 = Date.now();
const log = (line: string) => console.log(`[capacity +${((Date.now() - T0) / 1000).toFixed(1).padStart(6)}s] ${line}`);

const { cleanups, cleanup, onSignals } = benchTeardown('capacity');
onSignals();

// ───────────────────────── the API, as its users call it ─────────────────────────

const enc = encodeURIComponent;

interface Api {
  post(path: string, as: As, json: unknown, expected?: number): Promise<Record<string, any>>;
  /** A random file of --evidence-bytes, multipart, with `fields`. */
  upload(path: string, as: As, fields?: Record<string, string>, expected?: number): Promise<Record<string, any>>;
  /** HTTP calls made so far. */
  calls(): number;
}

function apiAt(baseUrl: string): Api {
  let calls = 0;
  const send = async (path: string, as: As, init: { body: string | FormData; json: boolean }, expected: number) => {
    calls += 1;
    const res = await fetch(`${baseUrl}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TOKENS[as]}`,
        ...(init.json ? { 'content-type': 'application/json' } : {}),
      },
      body: init.body,
    });
    const text = await res.text();
    if (res.status !== expected) throw new Error(`POST ${path} as ${as}: HTTP ${res.status} ${text.slice(0, 400)}`);
    return (text ? JSON.parse(text) : {}) as Record<string, any>;
  };
  return {
    post: (path, as, json, expected = 200) => send(path, as, { body: JSON.stringify(json), json: true }, expected),
    upload: (path, as, fields = {}, expected = 201) => {
      const form = new FormData();
      form.append('file', new File([randomBytes(EVIDENCE_BYTES)], 'evidence.pdf', { type: 'application/pdf' }));
      for (const [k, v] of Object.entries(fields)) form.append(k, v);
      return send(path, as, { body: form, json: false }, expected);
    },
    calls: () => calls,
  };
}

/** Distinct valid unified social credit codes for this run. */
function creditCode(i: number): string {
  let rest = '';
  for (let k = (process.pid % 10_000) * 10_000 + i, d = 0; d < 8; d++, k = Math.floor(k / CREDIT_CODE_CHARSET.length)) {
    rest = CREDIT_CODE_CHARSET[k % CREDIT_CODE_CHARSET.length]! + rest;
  }
  // 9 (organ) 1 (type), 310000 (Shanghai division), then the 9-character organisation code.
  const first17 = `91310000C${rest}`;
  return first17 + creditCodeCheckChar(first17);
}

/**
 * One typical case of each process, driven by its users through the API, as
 * the README's walkthroughs and the integration tests drive them. Each
 * returns the id of the case's workflow. State shared between processes
 * (the suppliers reviewed, the plans published) lives in `shared`.
 */
interface Shared {
  suppliers: string[];
  plans: string[];
  riskKey: string;
}

type Driver = (api: Api, i: number, shared: Shared) => Promise<string>;

const decide = (api: Api, taskId: string, as: As, json: unknown = { decision: 'approve' }) =>
  api.post(`/api/tasks/${enc(taskId)}/decision`, as, json);

/** Evidence uploaded to a case, submitted for a rectification item by its owner, verified by `verifier`. */
async function rectify(api: Api, caseId: string, itemId: string, verifier: As): Promise<void> {
  const evidence = await api.upload(`/api/cases/${enc(caseId)}/evidence`, 'owner');
  await api.post(`/api/tasks/${enc(itemId)}/submission`, 'owner', { evidenceIds: [evidence.id] });
  await api.post(`/api/tasks/${enc(itemId)}/verification`, verifier, { verdict: 'accept' });
}

/** Retries a call refused while the workflow is still getting to the step (a timer, a continue-as-new). */
async function whenReady<T>(what: string, call: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + CASE_TIMEOUT_MS;
  for (;;) {
    try {
      return await call();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what}: ${(err as Error).message}`);
      await sleep(200);
    }
  }
}

const DRIVERS: Record<ProcessName, Driver> = {
  // Medium risk (2 × 3): one approver.
  async approval_request(api, i) {
    const requestKey = `${RUN}-REQ-${i}`;
    const body = await api.post(
      '/api/cases/approval-requests',
      'manager',
      { requestKey, title: `Capacity request ${requestKey}`, probability: 2, impact: 3, ownerId: 'chen.owner' },
      201,
    );
    await decide(api, `${body.caseId}:approval`, 'approver');
    return body.caseId as string;
  },

  // A new supplier's first review: four documents, checks, scores, approved; the supplier becomes active.
  async supplier_review(api, i, shared) {
    const supplierId = creditCode(i);
    await api.post(
      '/api/suppliers',
      'manager',
      {
        creditCode: supplierId,
        name: `Capacity supplier ${supplierId}`,
        category: 'logistics',
        tier: 'core',
        ownerId: 'chen.owner',
      },
      201,
    );
    const body = await api.post('/api/supplier-reviews', 'manager', { supplierId, year: 2026 }, 201);
    const caseId = body.caseId as string;
    const review = `/api/supplier-reviews/${enc(caseId)}`;
    for (const documentType of ['business_licence', 'operating_permit', 'financial_statements', 'product_certificates'])
      await api.upload(`${review}/documents`, 'owner', { documentType }, 200);
    await api.post(`${review}/checks`, 'owner', { creditRating: 'AA', creditAgency: 'CCXI', backgroundCheck: 'clear' });
    await api.post(`${review}/scores`, 'owner', {
      scores: {
        legal_compliance: 4,
        financial_stability: 4,
        technical_capability: 4,
        market_reputation: 4,
        cooperation_history: 4,
      },
      impact: 1,
    });
    await decide(api, `${caseId}:decision`, 'approver');
    shared.suppliers.push(supplierId);
    return caseId;
  },

  // Restricting a reviewed supplier: asked by a manager, approved by compliance.
  async supplier_status_change(api, i, shared) {
    const supplierId = shared.suppliers[i % shared.suppliers.length]!;
    const body = await api.post(
      `/api/suppliers/${supplierId}/status-changes`,
      'manager',
      { change: 'restrict', reason: 'Late deliveries this quarter' },
      201,
    );
    await decide(api, body.approvalTaskId as string, 'compliance');
    return body.caseId as string;
  },

  // Grade IV: acknowledged, stabilised, evaluated with one rectification item, verified, closed out.
  async incident(api, i) {
    const incidentId = `${RUN}-INC-${i}`;
    const caseId = `incident:${incidentId}`;
    const I = `/api/incidents/${incidentId}`;
    await api.post(
      '/api/incidents',
      'manager',
      {
        incidentId,
        title: `Capacity incident ${incidentId}`,
        category: 'system_failure',
        system: `system-${RUN}-${i}`,
        occurredAt: new Date(Date.now() - 60_000).toISOString(),
        impact: { affectedUsers: 50, amountCny: 0 },
      },
      201,
    );
    await api.post(`${I}/acknowledge`, 'manager', {});
    await api.post(`${I}/timeline`, 'manager', { entry: 'Rolled back the release' });
    await api.post(`${I}/stabilise`, 'manager', { summary: 'Service restored' });
    await api.post(`${I}/evaluation`, 'manager', {
      summary: 'A release broke the service until it was rolled back',
      lessons: 'Canary every release',
      rectificationItems: [{ title: 'Add a canary stage', ownerId: 'chen.owner' }],
    });
    await rectify(api, caseId, `${caseId}:rectification:1`, 'compliance');
    await whenReady('close-out', () => api.post(`${I}/close-out`, 'manager', {}));
    await decide(api, `${caseId}:close-out-1`, 'approver');
    return caseId;
  },

  // Accepted, investigated, fed back (the 24 h / 48 h clocks).
  async complaint(api, i) {
    const complaintId = `${RUN}-CMP-${i}`;
    await api.post(
      '/api/complaints',
      'manager',
      {
        complaintId,
        customerRef: `CUST-${RUN}-${i}`,
        channel: 'hotline',
        type: 'transaction_dispute',
        subject: 'Refund not received',
      },
      201,
    );
    await api.post(`/api/complaints/${complaintId}/investigation`, 'manager', {
      findings: 'The refund file was rejected by the bank',
    });
    await api.post(`/api/complaints/${complaintId}/feedback`, 'manager', {
      cause: 'The bank rejected the file',
      measures: 'Refund resent',
      followUpPlan: 'Call back in 3 days',
    });
    return `complaint:${complaintId}`;
  },

  // An emergency plan registered and its v1 published: drafted, reviewed, approved (its revision clock starts).
  async plan_revision(api, i, shared) {
    const planId = `${RUN}-EP-${i}`;
    const body = await api.post(
      '/api/emergency-plans',
      'admin',
      { planId, title: `Capacity plan ${planId}`, type: 'network_security', ownerId: 'chen.owner' },
      201,
    );
    const revisionId = body.revisionCaseId as string;
    await api.upload(`/api/plan-revisions/${enc(revisionId)}/draft`, 'owner', { summary: 'First version' }, 200);
    await decide(api, `${revisionId}:review-1`, 'manager');
    await decide(api, `${revisionId}:approval-1`, 'approver');
    shared.plans.push(planId);
    return revisionId;
  },

  // The year's drill of a published plan: planned, approved, conducted, evaluated with one finding, summarised.
  async drill(api, i, shared) {
    const planId = shared.plans[i % shared.plans.length]!;
    const opened = await api.post('/api/drills', 'manager', { planId, year: 2026 }, 201);
    const caseId = opened.caseId as string;
    const D = `/api/drills/${enc(caseId)}`;
    await api.post(`${D}/plan`, 'manager', {
      scenario: 'Ransomware on the payment cluster',
      scheduledAt: '2026-12-01T02:00:00Z',
      participants: ['ops', 'security', 'PR'],
    });
    await decide(api, `${caseId}:plan-approval-1`, 'approver');
    await api.post(`${D}/conduct`, 'manager', {
      startedAt: '2026-11-01T02:00:00Z',
      endedAt: '2026-11-01T05:00:00Z',
      observations: 'Failover took 40 minutes',
    });
    await api.post(`${D}/evaluation`, 'manager', {
      scores: { command: 85, information_reporting: 80, resource_dispatch: 75, public_opinion_response: 70 },
      findings: [{ title: 'Automate the DNS switch', ownerId: 'chen.owner' }],
    });
    await rectify(api, caseId, `${caseId}:rectification:1`, 'compliance');
    await api.post(`${D}/summary`, 'manager', {
      problems: 'Slow failover',
      lessons: 'Automate the DNS switch',
      planChanges: 'Add the DNS runbook',
      revisionNeeded: false,
    });
    await decide(api, `${caseId}:summary-approval-1`, 'compliance');
    return caseId;
  },

  // One cycle meeting its target: plan approved, action done and verified, KPI entered and verified, standardised.
  async pdca(api, i) {
    const cycleKey = `${RUN}-PDCA-${i}`;
    const caseId = `pdca:${cycleKey}`;
    await api.post(
      '/api/improvement-cycles',
      'manager',
      {
        cycleKey,
        source: 'kpi_gap',
        title: `Capacity cycle ${cycleKey}`,
        objective: 'Resolve complaints within a day',
        ownerId: 'li.manager',
        kpis: [
          {
            key: 'complaint_resolution_hours',
            name: 'Complaint resolution time',
            unit: 'h',
            baseline: 48,
            target: 24,
            direction: 'decrease',
          },
        ],
        actions: [{ title: 'Add a second-line queue', ownerId: 'chen.owner' }],
        checkIn: '1s',
      },
      201,
    );
    await decide(api, `${caseId}:c1-plan-approval-1`, 'approver');
    await rectify(api, caseId, `${caseId}:c1:action:1`, 'approver');
    // The check date is a timer (checkIn 1s): the values are owed once it fired.
    await whenReady('actuals', () =>
      api.post(`/api/improvement-cycles/${cycleKey}/actuals`, 'manager', {
        actuals: { complaint_resolution_hours: 20 },
      }),
    );
    await decide(api, `${caseId}:c1-verification-1`, 'compliance');
    await whenReady('standardise', () =>
      api.post(`/api/improvement-cycles/${cycleKey}/standardise`, 'manager', {
        adopted: 'Second-line queue is standard',
      }),
    );
    return caseId;
  },

  // A quarter's assessment of a one-risk register: the owner re-rates, risk reviews, compliance signs off.
  async risk_assessment(api, i, shared) {
    // Past quarters (a period must have started), one case each.
    const period = `${2000 + Math.floor(i / 4)}-Q${(i % 4) + 1}`;
    const caseId = `risk-assessment:${period}`;
    await api.post('/api/risk-assessments', 'manager', { period }, 201);
    await api.post(`/api/risk-assessments/${period}/ratings`, 'owner', {
      ratings: [
        {
          riskKey: shared.riskKey,
          causes: 'Still one payment gateway',
          analysis: 'Failover check partially effective',
          residual: { probability: 2, impact: 3 },
          evaluation: 'accept',
        },
      ],
    });
    await decide(api, `${caseId}:review`, 'approver');
    await decide(api, `${caseId}:sign-off`, 'compliance');
    return caseId;
  },

  // A general (一般) warning of its own indicator: acknowledged by the owner, reviewed by risk.
  async risk_warning(api, i) {
    const kriKey = `KRI-${RUN}-${i}`;
    const alertKey = `MON-${i}`;
    await api.post(
      '/api/kris',
      'approver',
      {
        kriKey,
        name: 'Refund requests per hour',
        unit: 'per hour',
        direction: 'above',
        thresholds: { general: 100, elevated: 200, major: 400 },
        ownerId: 'li.manager',
      },
      201,
    );
    await api.post(
      `/api/kris/${kriKey}/observations`,
      'approver',
      { alertKey, value: 150, observedAt: new Date(Date.now() - 60_000).toISOString() },
      201,
    );
    const W = `/api/warnings/${enc(`${kriKey}:${alertKey}`)}`;
    await api.post(`${W}/acknowledgement`, 'manager', { note: 'Checking the refund queue' });
    await api.post(`${W}/review`, 'approver', { conclusion: 'A promotion spike; the threshold stays' });
    return `warning:${kriKey}:${alertKey}`;
  },

  // A data-security check: six checklist items with evidence, one failed → a finding, accepted, report
  // approved, the finding rectified and verified.
  async audit(api, i) {
    const auditKey = `${RUN}-DSC-${i}`;
    const caseId = `audit:${auditKey}`;
    const A = `/api/audits/${auditKey}`;
    await api.post(
      '/api/audits',
      'internalAudit',
      {
        auditKey,
        type: 'data_security',
        title: `Data-security compliance check ${auditKey}`,
        scope: 'Payment and customer data systems',
        auditeeOwnerId: 'chen.owner',
      },
      201,
    );
    const evidence = await api.upload(`/api/cases/${enc(caseId)}/evidence`, 'internalAudit');
    const items = ['classification', 'access_control', 'encryption', 'backup', 'logging', 'incident_response'];
    await api.post(`${A}/fieldwork`, 'internalAudit', {
      results: items.map((itemId) => ({
        itemId,
        result: itemId === 'encryption' ? 'fail' : 'pass',
        evidenceIds: [evidence.id],
      })),
    });
    await api.post(`${A}/findings`, 'internalAudit', {
      findings: [
        {
          findingKey: 'F1',
          title: 'Customer data at rest is not encrypted',
          severity: 'medium',
          checklistItemId: 'encryption',
          criterion: 'e-commerce manual §2.3: data encrypted in storage and in transit',
          rootCause: 'Legacy database created before the encryption standard',
          ownerId: 'chen.owner',
        },
      ],
    });
    await api.post(`${A}/responses`, 'owner', {
      findingKey: 'F1',
      response: 'accept',
      actionPlan: 'Enable encryption at rest on the customer database',
      dueAt: '2030-03-31T00:00:00Z',
    });
    await decide(api, `${caseId}:report-approval`, 'compliance');
    await rectify(api, caseId, `${caseId}:finding:F1`, 'internalAudit');
    return caseId;
  },
};

/** Set up before a process's measured phase (not counted). */
async function prepare(name: ProcessName, api: Api, shared: Shared): Promise<void> {
  if (name !== 'risk_assessment') return;
  shared.riskKey = `RISK-${RUN}`;
  await api.post(
    '/api/risks',
    'manager',
    {
      riskKey: shared.riskKey,
      title: 'Payment gateway outage',
      category: 'technical',
      description: 'One payment gateway serves every checkout.',
      cause: 'No failover provider',
      consequence: 'Orders lost during peak sales',
      ownerId: 'chen.owner',
      lineOfDefence: 'first',
      inherent: { probability: 4, impact: 5 },
      residual: { probability: 2, impact: 3 },
    },
    201,
  );
}

// ───────────────────────── measurement ─────────────────────────

interface TableStat {
  rows: number;
  relationBytes: number;
  tupleBytes: number;
}

/** Rows, on-disk bytes (with indexes and TOAST) and tuple bytes of every table, partitions summed into their parent. */
async function tableStats(probe: pg.Pool): Promise<Map<string, TableStat>> {
  const { rows } = await probe.query<{ name: string; bytes: string }>(
    `select coalesce(pg_partition_root(c.oid), c.oid)::regclass::text as name,
            sum(pg_total_relation_size(c.oid))::bigint as bytes
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('r', 'p')
      group by 1`,
  );
  const out = new Map<string, TableStat>();
  for (const { name, bytes } of rows) {
    const { rows: counted } = await probe.query<{ rows: string; tuple: string | null }>(
      `select count(*)::bigint as rows, sum(pg_column_size(t.*))::bigint as tuple from ${name} t`,
    );
    out.set(name, {
      rows: Number(counted[0]!.rows),
      relationBytes: Number(bytes),
      tupleBytes: Number(counted[0]!.tuple ?? 0),
    });
  }
  return out;
}

/** Bytes of evidence files held (the content column's logical size). */
async function evidenceBytes(probe: pg.Pool): Promise<number> {
  const { rows } = await probe.query<{ bytes: string | null }>('select sum(size_bytes)::bigint as bytes from evidence');
  return Number(rows[0]?.bytes ?? 0);
}

interface HistoryStat {
  workflowType: string;
  events: number;
  encodedBytes: number;
  serverSizeBytes: number;
  activities: number;
  workflowTasks: number;
  timers: number;
  updates: number;
  signals: number;
  running: boolean;
}

const { temporal } = proto;
const EventType = temporal.api.enums.v1.EventType;

async function historyOf(client: Client, workflowId: string, runId: string): Promise<HistoryStat> {
  const execution = { workflowId, runId };
  let nextPageToken: Uint8Array | undefined;
  const stat: HistoryStat = {
    workflowType: '',
    events: 0,
    encodedBytes: 0,
    serverSizeBytes: 0,
    activities: 0,
    workflowTasks: 0,
    timers: 0,
    updates: 0,
    signals: 0,
    running: false,
  };
  do {
    const page = await client.workflowService.getWorkflowExecutionHistory({
      namespace: NAMESPACE,
      execution,
      nextPageToken,
    });
    for (const event of page.history?.events ?? []) {
      stat.events += 1;
      stat.encodedBytes += temporal.api.history.v1.HistoryEvent.encode(event).finish().length;
      switch (event.eventType) {
        case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
          stat.activities += 1;
          break;
        case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
          stat.workflowTasks += 1;
          break;
        case EventType.EVENT_TYPE_TIMER_STARTED:
          stat.timers += 1;
          break;
        case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
          stat.updates += 1;
          break;
        case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
          stat.signals += 1;
          break;
      }
    }
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  const described = await client.workflowService.describeWorkflowExecution({ namespace: NAMESPACE, execution });
  const info = described.workflowExecutionInfo;
  stat.workflowType = info?.type?.name ?? '';
  stat.serverSizeBytes = Number(info?.historySizeBytes ?? 0);
  stat.running = info?.status === temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING;
  return stat;
}

/** Every workflow execution of the namespace, as `workflowId runId`. */
async function executions(client: Client): Promise<Set<string>> {
  const out = new Set<string>();
  for await (const wf of client.workflow.list()) out.add(`${wf.workflowId} ${wf.runId}`);
  return out;
}

/** Closed, or blocked with nothing pending: no more history or rows until someone acts or a timer fires. */
async function settled(client: Client, workflowId: string, runId?: string): Promise<boolean> {
  const { raw } = await client.workflow.getHandle(workflowId, runId).describe();
  if (
    raw.workflowExecutionInfo?.status !==
    temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING
  )
    return true;
  return (
    (raw.pendingActivities?.length ?? 0) === 0 && !raw.pendingWorkflowTask && (raw.pendingChildren?.length ?? 0) === 0
  );
}

interface ProcessRecord {
  process: ProcessName;
  cases: number;
  concurrency: number;
  errors: number;
  /** Wall time of one case, every call of it one after the other. */
  caseWallMs: { p50: number; p90: number; max: number; mean: number };
  phaseWallMs: number;
  httpCallsPerCase: number;
  /** Cases whose own workflow was still running (waiting by design) when measured. */
  casesStillRunning: number;
  /** Workflow executions still busy (an activity or workflow task pending) when measured: 0 unless a case failed. */
  unsettled: number;
  perCase: {
    workflowExecutions: number;
    historyEvents: number;
    historyBytes: number;
    serverHistorySizeBytes: number;
    activities: number;
    workflowTasks: number;
    timers: number;
    updates: number;
    signals: number;
    cpuMs: { bench: number; temporal: number | null; postgres: number | null };
    dbRows: number;
    dbRelationBytes: number;
    dbTupleBytes: number;
    evidenceBytes: number;
  };
  /** Executions other than the cases' own, by workflow type: count per case and whether still running. */
  otherWorkflows: Record<string, { perCase: number; running: number; eventsPerCase: number; bytesPerCase: number }>;
  tablesPerCase: Record<string, { rows: number; relationBytes: number; tupleBytes: number }>;
}

// ───────────────────────── main ─────────────────────────

async function main(): Promise<void> {
  const loadAtStart = round(os.loadavg()[0] ?? 0);
  log(
    `config: ${N} cases per process, concurrency ${CONCURRENCY}, evidence ${EVIDENCE_BYTES} bytes per file, processes ${SELECTED.join(', ')}; ` +
      `node ${process.version}, ${os.cpus().length} CPU(s), load ${loadAtStart}`,
  );
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });

  const url = await createBenchDatabase(PG_ADMIN_URL, DATABASE_NAME, cleanups);
  const apiDb = await openDatabase({ url, poolSize: 10 });
  cleanups.push({ what: 'API pool', run: () => apiDb.close() });
  const workerDb = await openDatabase({ url, poolSize: 10 });
  cleanups.push({ what: 'worker pool', run: () => workerDb.close() });
  const probe = new pg.Pool({ connectionString: url, max: 2 });
  cleanups.push({ what: 'probe pool', run: () => probe.end() });
  await migrate(apiDb);
  await seedDemoUsers(apiDb.db);

  log('starting the Temporal dev server (in memory)…');
  const server = await startDevServer({ log });
  cleanups.push({ what: 'dev server', run: () => server.teardown() });
  const settings = { temporalNamespace: NAMESPACE, codecKeys: CODEC_KEYS };
  const { connection, client } = await connectClient(server.address, settings);
  cleanups.push({ what: 'client connection', run: () => connection.close() });

  const nativeConnection = await connectWorker(server.address, settings);
  cleanups.push({ what: 'worker connection', run: () => nativeConnection.close() });
  log('bundling workflows and starting the worker in this process…');
  const worker = await createWorker({
    connection: nativeConnection,
    db: workerDb.db,
    namespace: NAMESPACE,
    taskQueue: TASK_QUEUE,
    temporal: client,
    dataConverter: dataConverterFor(settings),
    maxCachedWorkflows: MAX_CACHED_WORKFLOWS,
  });
  const workerRun = worker.run();
  workerRun.catch((err) => console.error('[capacity] the worker stopped:', err));
  cleanups.push({
    what: 'worker',
    run: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await workerRun.catch(() => undefined);
    },
  });

  const app = createApp(
    {
      db: apiDb.db,
      temporal: client,
      settings: {
        taskQueue: TASK_QUEUE,
        temporalNamespace: NAMESPACE,
        temporalUiUrl: 'http://localhost:8233',
        maxEvidenceBytes: Math.max(1024 * 1024, EVIDENCE_BYTES * 2),
        temporalDeadlineMs: CASE_TIMEOUT_MS,
        caseTimings: 'allow',
      },
    },
    { log: (line) => console.error(`[api] ${line}`) },
  );
  const api = apiAt(await serveBench(app.fetch, cleanups));

  const temporalPids = descendantPids(process.pid).filter((pid) => processName(pid) === 'temporal');
  const postgresPids = async () =>
    (
      await probe.query<{ pid: number }>('select pid from pg_stat_activity where datname = $1', [DATABASE_NAME])
    ).rows.map((r) => r.pid);

  const shared: Shared = { suppliers: [], plans: [], riskKey: '' };
  const records: ProcessRecord[] = [];
  for (const name of SELECTED) {
    await prepare(name, api, shared);
    const concurrency = name === 'risk_assessment' ? 1 : CONCURRENCY;
    const beforeExecutions = await executions(client);
    const beforeTables = await tableStats(probe);
    const evidenceBefore = await evidenceBytes(probe);
    const callsBefore = api.calls();
    const pgBefore = cpuOf(await postgresPids());
    const temporalBefore = cpuOf(temporalPids);
    const benchBefore = process.cpuUsage();
    log(`${name}: ${N} cases, ${concurrency} at a time…`);
    const run = await runPool(N, concurrency, (i) => DRIVERS[name](api, i, shared));
    if (run.errors.length) {
      for (const e of run.errors.slice(0, 3)) log(`${name} case ${e.index} failed: ${e.message}`);
    }
    const caseIds = run.results.filter((id): id is string => typeof id === 'string');
    // Until every case's workflow (and what it started) has settled: then its history and rows are complete.
    // A case that failed part-way may never settle (an activity retrying): measured as it stands, and said so.
    let added: string[] = [];
    let unsettled = 0;
    await waitUntil(
      `${name}: its workflows to settle`,
      async () => {
        added = [...(await executions(client))].filter((e) => !beforeExecutions.has(e));
        const states = await Promise.all(
          added.map((e) => {
            const [id, runId] = e.split(' ');
            return settled(client, id!, runId);
          }),
        );
        unsettled = states.filter((x) => !x).length;
        return unsettled === 0;
      },
      run.errors.length ? 20_000 : CASE_TIMEOUT_MS,
      500,
    ).catch((err) => log(`${(err as Error).message}: ${unsettled} still busy; measured as they stand`));
    const benchCpu = process.cpuUsage(benchBefore);
    const temporalCpu = temporalPids.length ? cpuDelta(temporalBefore, cpuOf(temporalPids)) : null;
    const pgAfterPids = await postgresPids();
    const pgCpu = pgAfterPids.length ? cpuDelta(pgBefore, cpuOf(pgAfterPids)) : null;
    const calls = api.calls() - callsBefore;
    const afterTables = await tableStats(probe);

    const ok = caseIds.length;
    const per = (x: number) => round(x / Math.max(1, ok), 1);
    const caseSet = new Set(caseIds);
    const histories = await Promise.all(
      added.map(async (e) => {
        const [id, runId] = e.split(' ') as [string, string];
        return { id, own: caseSet.has(id), ...(await historyOf(client, id, runId)) };
      }),
    );
    const sum = (key: keyof HistoryStat) =>
      histories.reduce((acc, h) => acc + (typeof h[key] === 'number' ? (h[key] as number) : 0), 0);
    const otherWorkflows: ProcessRecord['otherWorkflows'] = {};
    for (const h of histories.filter((x) => !x.own)) {
      const o = (otherWorkflows[h.workflowType] ??= { perCase: 0, running: 0, eventsPerCase: 0, bytesPerCase: 0 });
      o.perCase += 1;
      o.running += h.running ? 1 : 0;
      o.eventsPerCase += h.events;
      o.bytesPerCase += h.encodedBytes;
    }
    for (const o of Object.values(otherWorkflows)) {
      o.perCase = per(o.perCase);
      o.eventsPerCase = per(o.eventsPerCase);
      o.bytesPerCase = per(o.bytesPerCase);
    }
    const tablesPerCase: ProcessRecord['tablesPerCase'] = {};
    let rows = 0;
    let relationBytes = 0;
    let tupleBytes = 0;
    for (const [table, after] of afterTables) {
      const before = beforeTables.get(table) ?? { rows: 0, relationBytes: 0, tupleBytes: 0 };
      const d = {
        rows: after.rows - before.rows,
        relationBytes: after.relationBytes - before.relationBytes,
        tupleBytes: after.tupleBytes - before.tupleBytes,
      };
      if (d.rows === 0 && d.relationBytes === 0) continue;
      rows += d.rows;
      relationBytes += d.relationBytes;
      tupleBytes += d.tupleBytes;
      tablesPerCase[table] = { rows: per(d.rows), relationBytes: per(d.relationBytes), tupleBytes: per(d.tupleBytes) };
    }
    const evidenceAfter = await evidenceBytes(probe);
    const record: ProcessRecord = {
      process: name,
      cases: ok,
      concurrency,
      errors: run.errors.length,
      caseWallMs: {
        p50: round(percentile(run.latencies, 50), 0),
        p90: round(percentile(run.latencies, 90), 0),
        max: round(Math.max(...run.latencies), 0),
        mean: round(mean(run.latencies), 0),
      },
      phaseWallMs: round(run.wallMs, 0),
      httpCallsPerCase: per(calls),
      casesStillRunning: histories.filter((h) => h.own && h.running).length,
      unsettled,
      perCase: {
        workflowExecutions: per(histories.length),
        historyEvents: per(sum('events')),
        historyBytes: per(sum('encodedBytes')),
        serverHistorySizeBytes: per(sum('serverSizeBytes')),
        activities: per(sum('activities')),
        workflowTasks: per(sum('workflowTasks')),
        timers: per(sum('timers')),
        updates: per(sum('updates')),
        signals: per(sum('signals')),
        cpuMs: {
          bench: per((benchCpu.user + benchCpu.system) / 1000),
          temporal: temporalCpu === null ? null : per(temporalCpu),
          postgres: pgCpu === null ? null : per(pgCpu),
        },
        dbRows: per(rows),
        dbRelationBytes: per(relationBytes),
        dbTupleBytes: per(tupleBytes),
        evidenceBytes: per(evidenceAfter - evidenceBefore),
      },
      otherWorkflows,
      tablesPerCase,
    };
    records.push(record);
    writeResults(records, loadAtStart);
    log(
      `${name}: ${ok} cases in ${(run.wallMs / 1000).toFixed(1)} s (${run.errors.length} failed); per case ` +
        `${record.perCase.historyEvents} events, ${record.perCase.historyBytes} history bytes, ${record.perCase.dbRows} rows, ` +
        `${record.perCase.dbRelationBytes} DB bytes, ${record.perCase.cpuMs.bench} CPU ms`,
    );
  }

  report(records, loadAtStart);
  const failed = records.filter((r) => r.errors > 0);
  if (failed.length) throw new Error(`cases failed in: ${failed.map((r) => `${r.process} (${r.errors})`).join(', ')}`);
}

function report(records: ProcessRecord[], loadAtStart: number): void {
  const out: string[] = [''];
  out.push(
    `Capacity benchmark — ${N} typical cases per process through the API, ${CONCURRENCY} at a time; worker in this process ` +
      `(sticky cache ${MAX_CACHED_WORKFLOWS}); evidence files ${EVIDENCE_BYTES} bytes; ${os.cpus().length} CPU(s), load ${loadAtStart} → ${round(os.loadavg()[0] ?? 0)}`,
  );
  out.push('');
  out.push('Per case (means over the cases of each process):');
  out.push(
    table(
      [
        'process',
        'N',
        'err',
        'HTTP calls',
        'case p50 ms',
        'workflows',
        'events',
        'history B',
        'server B',
        'activities',
        'wf tasks',
        'timers',
        'CPU ms bench',
        'CPU temporal',
        'CPU pg',
        'DB rows',
        'DB bytes',
        'tuple B',
        'evidence B',
      ],
      records.map((r) => [
        r.process,
        r.cases,
        r.errors,
        r.httpCallsPerCase,
        r.caseWallMs.p50,
        r.perCase.workflowExecutions,
        r.perCase.historyEvents,
        r.perCase.historyBytes,
        r.perCase.serverHistorySizeBytes,
        r.perCase.activities,
        r.perCase.workflowTasks,
        r.perCase.timers,
        r.perCase.cpuMs.bench,
        r.perCase.cpuMs.temporal ?? 'n/a',
        r.perCase.cpuMs.postgres ?? 'n/a',
        r.perCase.dbRows,
        r.perCase.dbRelationBytes,
        r.perCase.dbTupleBytes,
        r.perCase.evidenceBytes,
      ]),
    ),
  );
  out.push('');
  out.push('Rows per case by table (tables with ≥ 0.5 rows per case):');
  out.push(
    table(
      ['process', 'rows per table'],
      records.map((r) => [
        r.process,
        Object.entries(r.tablesPerCase)
          .filter(([, t]) => t.rows >= 0.5)
          .sort((a, b) => b[1].rows - a[1].rows)
          .map(([name, t]) => `${name} ${t.rows}`)
          .join(', '),
      ]),
    ),
  );
  out.push('');
  out.push('Other workflow executions per case (started by the case or by the API for it):');
  out.push(
    table(
      ['process', 'workflows'],
      records.map((r) => [
        r.process,
        Object.entries(r.otherWorkflows)
          .map(([type, o]) => `${type} ${o.perCase} (${o.eventsPerCase} events, ${o.running} running)`)
          .join('; ') || '—',
      ]),
    ),
  );
  out.push('');
  out.push(`Results written to ${path.relative(process.cwd(), RESULTS_FILE)}`);
  console.log(out.join('\n'));
  writeResults(records, loadAtStart);
}

/** bench/results/capacity.json: after every process too, so a run cut short keeps what it measured. */
function writeResults(records: ProcessRecord[], loadAtStart: number): void {
  mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
  writeFileSync(
    RESULTS_FILE,
    `${JSON.stringify(
      {
        benchmark: 'capacity',
        finishedAt: new Date().toISOString(),
        config: {
          perProcess: N,
          concurrency: CONCURRENCY,
          evidenceBytes: EVIDENCE_BYTES,
          maxCachedWorkflows: MAX_CACHED_WORKFLOWS,
          worker: 'in the bench process (API + worker + HTTP client: the bench CPU figure)',
        },
        environment: {
          node: process.version,
          platform: `${process.platform} ${os.release()}`,
          cpus: os.cpus().length,
          cpuModel: os.cpus()[0]?.model,
          totalMemoryMb: Math.round(os.totalmem() / 2 ** 20),
          loadAverage1mBeforeStart: loadAtStart,
          loadAverage1mAtEnd: round(os.loadavg()[0] ?? 0),
        },
        processes: records,
      },
      null,
      2,
    )}\n`,
  );
}

main()
  .then(async () => {
    await cleanup();
    process.exit(0);
  })
  .catch(async (err) => {
    console.error('[capacity] failed:', err instanceof Error ? (err.stack ?? err.message) : err);
    await cleanup();
    process.exit(1);
  });
