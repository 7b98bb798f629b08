/**
 * Bad strings (issue 10, part 6): a NUL character or a lone UTF-16 surrogate
 * anywhere text comes in is refused with 400 naming the field, and nothing is
 * written — no row, no audit event, no evidence, no workflow.
 *
 * The probes are derived from the app's own OpenAPI document, so a route
 * added later is covered without touching this file: every string field of
 * every JSON body (nested and in arrays), one unknown key per body, every
 * query parameter, every path parameter and every multipart field and file
 * name. Each is sent inside an otherwise plausible request, as a user the
 * token middleware lets through (role checks of the routes come after the
 * guard, so one user serves every route).
 *
 * A lone surrogate can only arrive as a JSON escape (`\ud800`): a URL cannot
 * decode to one (`%ED%A0%80` is not UTF-8, and is refused as such) and the
 * multipart encoder sends U+FFFD in its place.
 */
import { databaseSnapshot } from '../support/drive';
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { withAuditedWrite } from '../../db/audit';
import { eventually, useHarness, type TestUser } from '../support/harness';

const h = useHarness('badstrings');

const AS: TestUser = 'admin';
const NUL = 'a\u0000b';
const LONE_SURROGATE = '\ud800';
const PROBLEM = { nul: /a NUL character \(U\+0000\)/, surrogate: /a lone UTF-16 surrogate/, notUtf8: /is not UTF-8/ };

// ---------------------------------------------------------------- the OpenAPI document

type Schema = {
  $ref?: string;
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  const?: unknown;
  example?: unknown;
  default?: unknown;
  minimum?: number;
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
};
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  schema?: Schema;
}
interface Operation {
  method: string;
  path: string;
  parameters: Parameter[];
  jsonBody?: Schema;
  formBody?: Schema;
}

let components: Record<string, Schema> = {};
const resolve = (schema: Schema): Schema =>
  schema.$ref ? resolve(components[schema.$ref.replace('#/components/schemas/', '')]!) : schema;
const typeOf = (schema: Schema) => [schema.type ?? []].flat().find((t) => t !== 'null');

/** A plausible value for a schema: the bad string is then one field among clean ones. */
function example(schema: Schema, depth = 0): unknown {
  const s = resolve(schema);
  if (depth > 8) return undefined;
  if (s.const !== undefined) return s.const;
  if (s.enum?.length) return s.enum[0];
  if (s.example !== undefined) return s.example;
  const variant = s.anyOf?.[0] ?? s.oneOf?.[0];
  if (variant) return example(variant, depth + 1);
  if (s.allOf) return Object.assign({}, ...s.allOf.map((part) => example(part, depth + 1)));
  switch (typeOf(s) ?? (s.properties ? 'object' : undefined)) {
    case 'string':
      return s.format === 'date-time'
        ? new Date().toISOString()
        : s.format === 'date'
          ? '2026-06-30'
          : s.format === 'email'
            ? 'probe@test.example'
            : s.format === 'uuid'
              ? randomUUID()
              : 'probe';
    case 'integer':
    case 'number':
      return s.minimum ?? 1;
    case 'boolean':
      return true;
    case 'array':
      return s.items ? [example(s.items, depth + 1)] : [];
    case 'object': {
      const value: Record<string, unknown> = {};
      for (const [key, property] of Object.entries(s.properties ?? {})) value[key] = example(property, depth + 1);
      if (typeof s.additionalProperties === 'object') value.key = example(s.additionalProperties, depth + 1);
      return value;
    }
    default:
      return 'probe';
  }
}

/** Every path below `schema` that holds text, arrays by index 0, records by key "key". */
function textPaths(schema: Schema, at: Array<string | number> = [], depth = 0): Array<Array<string | number>> {
  const s = resolve(schema);
  if (depth > 8) return [];
  const variants = [...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.allOf ?? [])];
  if (variants.length) return variants.flatMap((v) => textPaths(v, at, depth + 1));
  const type = typeOf(s) ?? (s.properties ? 'object' : undefined);
  if (type === 'string') return s.format === 'binary' ? [] : [at];
  if (type === 'array' && s.items) return textPaths(s.items, [...at, 0], depth + 1);
  if (type === 'object') {
    const paths = Object.entries(s.properties ?? {}).flatMap(([key, p]) => textPaths(p, [...at, key], depth + 1));
    if (typeof s.additionalProperties === 'object')
      paths.push(...textPaths(s.additionalProperties, [...at, 'key'], depth + 1));
    return paths;
  }
  return [];
}

function setAt(root: unknown, path: Array<string | number>, value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  const container: any =
    typeof head === 'number'
      ? Array.isArray(root)
        ? [...root]
        : []
      : root && typeof root === 'object' && !Array.isArray(root)
        ? { ...root }
        : {};
  container[head!] = setAt(container[head!], rest, value);
  return container;
}

function operations(doc: any): Operation[] {
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries<Record<string, any>>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(methods)) {
      const content = op.requestBody?.content ?? {};
      ops.push({
        method: method.toUpperCase(),
        path,
        parameters: op.parameters ?? [],
        jsonBody: content['application/json']?.schema,
        formBody: content['multipart/form-data']?.schema,
      });
    }
  }
  return ops;
}

/** The URL of an operation with clean path parameters, but for `override`. */
function urlOf(op: Operation, override: { name?: string; raw?: string; query?: string } = {}): string {
  const path = op.path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    if (name === override.name && override.raw !== undefined) return override.raw;
    const param = op.parameters.find((p) => p.in === 'path' && p.name === name);
    const value = param?.schema ? example(param.schema) : 'probe';
    return encodeURIComponent(String(value === 'probe' ? 'probe-1' : value));
  });
  return override.query === undefined ? path : `${path}?${override.query}`;
}

// ---------------------------------------------------------------- probes

interface Probe {
  name: string;
  method: string;
  url: string;
  init: { body?: string | FormData; headers?: Record<string, string> };
  field: string;
  problem: RegExp;
}

function jsonProbes(op: Operation): Probe[] {
  const schema = op.jsonBody!;
  const base = example(schema);
  const probes: Probe[] = [];
  for (const path of textPaths(schema)) {
    const field = ['body', ...path].join('.');
    for (const [kind, bad, problem] of [
      ['NUL', NUL, PROBLEM.nul],
      ['lone surrogate', LONE_SURROGATE, PROBLEM.surrogate],
    ] as const) {
      // JSON.stringify writes a lone surrogate as the six characters \ud800 and NUL as \u0000.
      const body = JSON.stringify(setAt(base, path, bad));
      expect(body).toContain(kind === 'NUL' ? 'a\\u0000b' : '\\ud800');
      probes.push({
        name: `${op.method} ${op.path} ${field} ${kind}`,
        method: op.method,
        url: urlOf(op),
        init: { body, headers: { 'content-type': 'application/json' } },
        field,
        problem,
      });
    }
  }
  if (base && typeof base === 'object' && !Array.isArray(base)) {
    probes.push({
      name: `${op.method} ${op.path} a field name with NUL`,
      method: op.method,
      url: urlOf(op),
      init: { body: JSON.stringify({ ...base, [NUL]: 'x' }), headers: { 'content-type': 'application/json' } },
      field: 'body.a\\u0000b',
      problem: PROBLEM.nul,
    });
  }
  return probes;
}

function formOf(op: Operation, override: { field: string; value: string }): FormData {
  const schema = resolve(op.formBody!);
  const form = new FormData();
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    const p = resolve(property);
    if (p.format === 'binary') {
      const fileName = name === override.field ? override.value : 'proof.txt';
      form.append(name, new File(['probe evidence'], fileName, { type: 'text/plain' }));
    } else form.append(name, name === override.field ? override.value : String(example(p)));
  }
  return form;
}

function formProbes(op: Operation): Probe[] {
  const schema = resolve(op.formBody!);
  return Object.entries(schema.properties ?? {}).map(([name, property]) => {
    const isFile = resolve(property).format === 'binary';
    return {
      name: `${op.method} ${op.path} form ${name}${isFile ? ' file name' : ''} NUL`,
      method: op.method,
      url: urlOf(op),
      init: { body: formOf(op, { field: name, value: isFile ? `${NUL}.txt` : NUL }) },
      field: `body.${name}`,
      problem: isFile ? /has a file name containing a NUL character/ : PROBLEM.nul,
    };
  });
}

/** A request body that would pass the guard, so only the URL can be refused. */
function cleanInit(op: Operation): Probe['init'] {
  if (op.jsonBody)
    return { body: JSON.stringify(example(op.jsonBody)), headers: { 'content-type': 'application/json' } };
  if (op.formBody) return { body: formOf(op, { field: '', value: '' }) };
  return {};
}

function urlProbes(op: Operation): Probe[] {
  const probes: Probe[] = [];
  for (const param of op.parameters) {
    for (const [kind, raw, problem] of [
      ['%00', 'a%00b', PROBLEM.nul],
      ['%ED%A0%80 (an encoded surrogate)', '%ED%A0%80', PROBLEM.notUtf8],
    ] as const) {
      if (param.in === 'path') {
        probes.push({
          name: `${op.method} ${op.path} path ${param.name} ${kind}`,
          method: op.method,
          url: urlOf(op, { name: param.name, raw }),
          init: cleanInit(op),
          field: `path.${param.name}`,
          problem,
        });
      } else if (param.in === 'query') {
        probes.push({
          name: `${op.method} ${op.path} query ${param.name} ${kind}`,
          method: op.method,
          url: urlOf(op, { query: `${encodeURIComponent(param.name)}=${raw}` }),
          init: cleanInit(op),
          field: `query.${param.name}`,
          problem,
        });
      }
    }
  }
  probes.push({
    name: `${op.method} ${op.path} a query parameter name with NUL`,
    method: op.method,
    url: urlOf(op, { query: 'a%00b=1' }),
    init: cleanInit(op),
    field: 'query.a\\u0000b',
    problem: PROBLEM.nul,
  });
  return probes;
}

async function send(probe: Probe, as: TestUser | null = AS) {
  // A FormData body can be read once: each send gets its own copy.
  const body = probe.init.body instanceof FormData ? cloneForm(probe.init.body) : probe.init.body;
  const headers: Record<string, string> = { ...probe.init.headers };
  if (as) headers.authorization = `Bearer ${h.tokens[as]}`;
  const res = await h.app.request(probe.url, { method: probe.method, headers, body });
  return { status: res.status, headers: res.headers, body: (await res.json().catch(() => undefined)) as any };
}

function cloneForm(form: FormData): FormData {
  const copy = new FormData();
  for (const [name, value] of form) copy.append(name, value);
  return copy;
}

/** Sends every probe and returns what did not come back as the 400 naming its field. */
async function refusalsMissing(probes: Probe[]): Promise<string[]> {
  const missing: string[] = [];
  for (const probe of probes) {
    const res = await send(probe);
    const error = res.body?.error;
    const ok =
      res.status === 400 &&
      error?.code === 'BAD_REQUEST' &&
      typeof error.message === 'string' &&
      error.message.includes(` ${probe.field} `) &&
      probe.problem.test(error.message) &&
      error.details?.[0]?.field === probe.field &&
      error.requestId === res.headers.get('x-request-id');
    if (!ok) missing.push(`${probe.name}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return missing;
}

// ---------------------------------------------------------------- what must not change

/** The whole database's counts (the matrices' snapshot), the latest case and task writes, and the workflows. */
async function written() {
  const [latest] = await h.sql(`
    select (select max(updated_at)::text from cases) as cases_updated_at,
           (select max(updated_at)::text from tasks) as tasks_updated_at`);
  const workflows = await h.temporal.workflow.count(`TaskQueue = "${h.taskQueue}"`);
  return { ...(await databaseSnapshot(h)), ...latest, workflows: workflows.count };
}

const INCIDENT = {
  title: 'Payment gateway outage',
  category: 'system_failure',
  system: 'payment-gateway',
  impact: { affectedUsers: 500, amountCny: 0 },
};

describe('bad strings', () => {
  let ops: Operation[] = [];
  let openCaseId = '';
  let before: Awaited<ReturnType<typeof written>>;

  beforeAll(async () => {
    const doc = await h.api('GET', '/openapi.json');
    expect(doc.status).toBe(200);
    components = doc.body.components?.schemas ?? {};
    ops = operations(doc.body).filter((op) => op.path.startsWith('/api/'));

    // An open case, so that an evidence upload refused here is one that would otherwise be stored.
    const started = await h.api('POST', '/api/cases/approval-requests', {
      as: 'lead',
      json: { requestKey: h.unique('BADSTR'), title: 'Evidence target', probability: 1, impact: 2 },
    });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    openCaseId = started.body.caseId;
    await eventually(async () => (await h.sql('select 1 from tasks where case_id = $1', [openCaseId])).length > 0);
    // The case's own writes (and Temporal's visibility) settle before the refusals begin.
    before = await eventually(async () => {
      const first = await written();
      await new Promise((r) => setTimeout(r, 300));
      const second = await written();
      return first.workflows === 1 && JSON.stringify(first) === JSON.stringify(second) && second;
    });
  });

  it('refuses the issue’s incident title "a\\u0000b" and a lone surrogate, and starts nothing', async () => {
    for (const [title, problem] of [
      [NUL, PROBLEM.nul],
      [LONE_SURROGATE, PROBLEM.surrogate],
    ] as const) {
      const incidentId = h.unique('INC');
      const res = await h.api('POST', '/api/incidents', {
        as: 'manager',
        json: { ...INCIDENT, incidentId, title, occurredAt: new Date().toISOString() },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error).toMatchObject({
        code: 'BAD_REQUEST',
        details: [{ field: 'body.title', message: expect.stringMatching(problem) }],
      });
      expect(res.body.error.message).toMatch(/^invalid body: body\.title contains /);
      await expect(h.temporal.workflow.getHandle(`incident:${incidentId}`).describe()).rejects.toThrow();
    }
  });

  it('refuses a NUL or a lone surrogate in every string field of every JSON body, naming it', async () => {
    const bodies = ops.filter((op) => op.jsonBody);
    const probes = bodies.flatMap(jsonProbes);
    // Every operation with a JSON body has probes (at least its unknown key), most of them text fields.
    expect(new Set(probes.map((p) => `${p.method} ${p.url}`)).size).toBeGreaterThanOrEqual(bodies.length);
    expect(probes.length).toBeGreaterThan(200);
    expect(await refusalsMissing(probes)).toEqual([]);
  });

  it('refuses %00 and non-UTF-8 bytes in every path and query parameter, naming it', async () => {
    const probes = ops.flatMap(urlProbes);
    expect(probes.filter((p) => p.field.startsWith('path.')).length).toBeGreaterThan(50);
    expect(probes.filter((p) => p.field.startsWith('query.')).length).toBeGreaterThan(20);
    expect(await refusalsMissing(probes)).toEqual([]);
  });

  it('refuses a NUL in every multipart field and every uploaded file name, naming it', async () => {
    const uploads = ops.filter((op) => op.formBody);
    expect(uploads.map((op) => op.path)).toEqual(
      expect.arrayContaining([
        '/api/cases/{caseId}/evidence',
        '/api/supplier-reviews/{caseId}/documents',
        '/api/plan-revisions/{caseId}/draft',
      ]),
    );
    const probes = uploads.flatMap(formProbes);
    // And the evidence upload aimed at a case that exists and is open.
    const evidence = uploads.find((op) => op.path === '/api/cases/{caseId}/evidence')!;
    const toOpenCase = formProbes(evidence).map((p) => ({
      ...p,
      name: `${p.name} (open case)`,
      url: `/api/cases/${encodeURIComponent(openCaseId)}/evidence`,
    }));
    expect(await refusalsMissing([...probes, ...toOpenCase])).toEqual([]);
  });

  it('still answers 401 without a token and 403 to a read-only auditor before looking at the text', async () => {
    const probe = jsonProbes(ops.find((op) => op.method === 'POST' && op.path === '/api/incidents')!)[0]!;
    expect((await send(probe, null)).status).toBe(401);
    expect((await send(probe, 'auditor')).status).toBe(403);
    const query = urlProbes(ops.find((op) => op.method === 'GET' && op.path === '/api/cases')!)[0]!;
    expect((await send(query, null)).status).toBe(401);
    expect((await send(query, 'auditor')).status).toBe(400);
  });

  it('wrote nothing and started nothing for any refused request', async () => {
    expect(await written()).toEqual(before);
  });

  it('the same requests with clean text are accepted (the refusals were for the text alone)', async () => {
    const incident = await h.api('POST', '/api/incidents', {
      as: 'manager',
      json: { ...INCIDENT, incidentId: h.unique('INC'), occurredAt: new Date().toISOString() },
    });
    expect(incident.status, JSON.stringify(incident.body)).toBe(201);

    const form = new FormData();
    form.append('file', new File(['probe evidence'], '整改 proof.txt', { type: 'text/plain' }));
    const upload = await h.api('POST', `/api/cases/${encodeURIComponent(openCaseId)}/evidence`, {
      as: 'lead',
      body: form,
    });
    expect(upload.status, JSON.stringify(upload.body)).toBe(201);
    expect(upload.body.fileName).toBe('整改 proof.txt');
  });

  it('a lone surrogate written straight to the audit chain (the issue’s reason) leaves it verifiable', async () => {
    // Before: the hash covered "\ud800", the text column stored U+FFFD, and /api/audit/verify failed for good.
    const written = await withAuditedWrite(
      h.database.db,
      { idempotencyKey: h.unique('bad-strings'), actorId: 'admin', action: 'probe.reason', reason: LONE_SURROGATE },
      async () => undefined,
    );
    expect(written.event.reason).toBe('\uFFFD');
    await expectChainVerifies();
  });

  it('NUL and lone surrogates in every audited field are stored and hashed as U+FFFD, once per key', async () => {
    // Before: PostgreSQL refused the NUL (22021), so the activity writing it failed on every retry.
    const key = `bad-strings:${h.unique('K')}:\u0000`;
    const event = {
      idempotencyKey: key,
      actorId: 'admin',
      action: 'probe.bad_strings',
      caseId: openCaseId,
      reason: `lone ${LONE_SURROGATE} and ${NUL}`,
      payload: { [`k${NUL}`]: [LONE_SURROGATE, { nested: '\udc00x' }], fine: '整改 😀' },
    };
    const first = await withAuditedWrite(h.database.db, event, async () => 'written');
    expect(first).toMatchObject({ applied: true, result: 'written' });
    expect(first.event.reason).toBe('lone \uFFFD and a\uFFFDb');

    // A retry of the same write finds it by the same (normalised) key.
    expect(await withAuditedWrite(h.database.db, event, async () => 'again')).toMatchObject({ applied: false });

    const [row] = await h.sql('select idempotency_key, reason, payload from audit_events where seq = $1', [
      first.event.seq,
    ]);
    expect(row).toEqual({
      idempotency_key: key.replace('\u0000', '\uFFFD'),
      reason: 'lone \uFFFD and a\uFFFDb',
      payload: { 'ka\uFFFDb': ['\uFFFD', { nested: '\uFFFDx' }], fine: '整改 😀' },
    });
    await expectChainVerifies();
  });
});

async function expectChainVerifies() {
  const verify = await h.api('GET', '/api/audit/verify', { as: 'auditor' });
  expect(verify.status).toBe(200);
  const [{ count }] = await h.sql('select count(*)::int as count from audit_events');
  expect(verify.body).toMatchObject({ ok: true, eventsChecked: count, lastSeq: count });
}
