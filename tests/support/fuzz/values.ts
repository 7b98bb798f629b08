/**
 * What the fuzzer sends: plausible values derived from an OpenAPI schema (so a
 * request gets past the validators and into the routes' rules, the database
 * and Temporal), and the hostile values it swaps into them.
 */
import fc from 'fast-check';
import { typeOf, type ApiDocument, type Schema } from './openapi';

// ---------------------------------------------------------------- ids the app already knows

/**
 * Real ids by field name (`caseId`, `taskId`, `riskKey`, `ownerId`…): the
 * fixtures' and whatever a 2xx answer named. A request that names a real
 * case reaches its workflow's validators, not only a 404.
 */
export class IdPool {
  private readonly byName = new Map<string, string[]>();
  /** Grows with every id added: arbitraries built from the pool are rebuilt when it changes. */
  version = 0;

  /**
   * `protectedUsers`: the harness users, never a target of the user and token
   * routes (a fuzzed deactivation of `admin` would end the run's coverage).
   */
  constructor(private readonly protectedUsers: ReadonlySet<string> = new Set()) {}

  add(name: string, value: unknown): void {
    if (typeof value !== 'string' || value.length === 0 || value.length > 300) return;
    if (name === 'userId' && this.protectedUsers.has(value)) return;
    const values = this.byName.get(name) ?? [];
    if (values.includes(value)) return;
    values.push(value);
    this.byName.set(name, values);
    this.version += 1;
  }

  get(name: string): readonly string[] {
    return this.byName.get(name) ?? this.byName.get(ALIASES[name] ?? '') ?? [];
  }

  /** Ids named in an answer: any `id`, `…Id` or `…Key` field at any depth. */
  harvest(value: unknown, depth = 0): void {
    if (!value || typeof value !== 'object' || depth > 4) return;
    if (Array.isArray(value)) return value.slice(0, 20).forEach((v) => this.harvest(v, depth + 1));
    for (const [key, v] of Object.entries(value)) {
      if (typeof v !== 'string') this.harvest(v, depth + 1);
      else if (key === 'id' && UUID.test(v)) ['evidenceId', 'tokenId'].forEach((name) => this.add(name, v));
      else if (/CaseId$/.test(key)) this.add('caseId', v);
      else if (/(^id$|Id$|Key$)/.test(key)) this.add(key, v);
    }
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Field names that take the same kind of id as another. */
const ALIASES: Record<string, string> = {
  reviewerId: 'ownerId',
  managerId: 'ownerId',
  auditeeOwnerId: 'ownerId',
  assigneeId: 'ownerId',
  actorId: 'ownerId',
  owner: 'ownerId',
  participants: 'ownerId',
  revisionCaseId: 'caseId',
};

// ---------------------------------------------------------------- hostile text

const LONG = 'a'.repeat(5_000);

/** Text that has broken parsers, queries, shells, pages and prototypes somewhere. */
export const NASTY_STRINGS: readonly string[] = [
  '',
  ' ',
  '\t\n\r',
  'null',
  'undefined',
  'true',
  'NaN',
  'Infinity',
  '-Infinity',
  '-0',
  '1e309',
  '0x1F',
  '1_000',
  ' 42 ',
  '９９',
  '١٢٣',
  '2026-02-30T25:61:61Z',
  '0000-00-00',
  '../../etc/passwd',
  '..%2F..%2Fetc%2Fpasswd',
  '..\\..\\windows\\win.ini',
  '/etc/passwd',
  'a/b',
  '%00',
  '%',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udc00x',
  '\u202egnp.exe',
  '\u200f\u200e',
  '\u200b\u200c\u200d\ufeff',
  '😀👨‍👩‍👧‍👦🏳️‍🌈',
  'é',
  'İı',
  '\u2028\u2029',
  '\uffff\ufffe',
  '治理平台',
  "' OR '1'='1' --",
  "'; DROP TABLE cases; --",
  '1; select pg_sleep(10)',
  '" OR ""="',
  '$(touch /tmp/pwned)',
  '`id`',
  '; cat /etc/passwd',
  '| rm -rf /',
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  "javascript:alert('x')",
  '{{7*7}}',
  '${7*7}',
  '%s%s%s%n',
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'toString',
  LONG,
];

export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom(1_000, 20_000).map((n) => 'x'.repeat(n)) },
);

/** Any JSON value a field should not hold: wrong types, out-of-range numbers, huge and nested shapes. */
export const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: nastyString },
  {
    weight: 3,
    arbitrary: fc.constantFrom<unknown>(
      null,
      true,
      false,
      0,
      -1,
      1.5,
      2 ** 31,
      -(2 ** 31) - 1,
      2 ** 53 + 2,
      1e308,
      -1e308,
      Number.MIN_VALUE,
      [],
      {},
      [null],
      { '': '' },
    ),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom(1_000, 5_000).map((n) => Array.from({ length: n }, (_, i) => `item${i}`)) },
  { weight: 1, arbitrary: fc.integer({ min: 50, max: 400 }).map((depth) => nested(depth)) },
);

function nested(depth: number): unknown {
  let value: unknown = 'deep';
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { a: value };
  return value;
}

/** JSON bodies as text, for what JSON.stringify cannot write. */
export const rawJsonText: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  fc.constantFrom<string | Uint8Array>(
    '',
    ' ',
    '{',
    '}',
    '{"a":',
    '[1,2',
    'nul',
    'NaN',
    '{"a":NaN}',
    '{"a":Infinity}',
    '{"year":1e999999}',
    '{"year":-}',
    "{'a':1}",
    '\ufeff{}',
    '{"a":1,}',
    '{"a":1}{"b":2}',
    'true',
    '"a string"',
    '123',
    'null',
    '[]',
    '{"a":"\\ud800"}',
    '{"a":"\\u0000"}',
    '{"\\u0000":1}',
    '{"a":"\\x41"}',
    '{"a":01}',
    '{"title":"a","title":{"$gt":""}}',
    '{"__proto__":{"polluted":"yes"}}',
    '{"constructor":{"prototype":{"polluted":"yes"}}}',
    '{"__proto__":null}',
    new Uint8Array([0xff, 0xfe, 0x7b, 0x7d]),
    new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]),
    new Uint8Array([0x00, 0x7b, 0x00, 0x7d]),
  ),
  fc.constantFrom(2_000, 20_000).map((n) => '['.repeat(n) + ']'.repeat(n)),
  fc.constantFrom(2_000, 20_000).map((n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n)),
  fc.constantFrom(500, 5_000).map((n) => `{"a":"${'\\u00'.repeat(n)}"}`),
);

// ---------------------------------------------------------------- plausible values from a schema

const NOW = Date.now();
const DAY = 86_400_000;

/** Optional fields a plausible body leaves out: per-case clocks (locked in the run) and fields the API refuses. */
const LEFT_OUT = /timings$|^riskLevel$/i;

/**
 * A value the schema accepts (mostly), with ids drawn from the pool where a
 * field is named like one. `name` is the field or parameter name.
 */
export function plausible(
  doc: ApiDocument,
  pool: IdPool,
  schema: Schema,
  name?: string,
  depth = 0,
): fc.Arbitrary<unknown> {
  const s = doc.resolve(schema);
  if (depth > 6) return fc.constant(undefined);
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum?.length) return fc.constantFrom(...s.enum);
  const variants = s.anyOf ?? s.oneOf;
  if (variants?.length) return fc.oneof(...variants.map((v) => plausible(doc, pool, v, name, depth + 1)));
  if (s.allOf?.length)
    return fc
      .tuple(...s.allOf.map((part) => plausible(doc, pool, part, name, depth + 1)))
      .map((parts) => Object.assign({}, ...parts.filter((p) => p && typeof p === 'object')));
  const type = typeOf(s);
  const generated = ((): fc.Arbitrary<unknown> => {
    switch (type) {
      case 'string':
        return plausibleString(s);
      case 'integer':
        return fc.integer({ min: s.minimum ?? -5, max: s.maximum ?? Math.max(s.minimum ?? 0, 0) + 1_000 });
      case 'number':
        return fc.double({
          min: s.minimum ?? -1_000,
          max: s.maximum ?? 1_000,
          noNaN: true,
          noDefaultInfinity: true,
        });
      case 'boolean':
        return fc.boolean();
      case 'array': {
        const minLength = s.minItems ?? 0;
        const maxLength = Math.min(s.maxItems ?? minLength + 2, minLength + 2);
        return fc.array(plausible(doc, pool, s.items ?? {}, singular(name), depth + 1), { minLength, maxLength });
      }
      case 'object':
        return plausibleObject(doc, pool, s, depth);
      default:
        return fc.jsonValue({ maxDepth: 2 });
    }
  })();
  const known = name && type === 'string' ? pool.get(name) : [];
  return known.length
    ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...known) }, { weight: 1, arbitrary: generated })
    : generated;
}

function singular(name?: string) {
  return name?.endsWith('Ids') ? name.slice(0, -1) : name;
}

function plausibleString(s: Schema): fc.Arbitrary<string> {
  if (s.example !== undefined && typeof s.example === 'string' && !s.pattern)
    return fc.oneof(fc.constant(s.example), textOf(s));
  if (s.pattern) return fc.stringMatching(new RegExp(s.pattern)).filter((v) => v.length <= (s.maxLength ?? 300));
  switch (s.format) {
    case 'date-time':
      return fc
        .integer({ min: NOW - 30 * DAY, max: NOW + 90 * DAY })
        .map((t) => new Date(t - (t % 1000)).toISOString());
    case 'date':
      return fc
        .integer({ min: NOW - 30 * DAY, max: NOW + 90 * DAY })
        .map((t) => new Date(t).toISOString().slice(0, 10));
    case 'email':
      return fc.nat(9_999).map((n) => `fuzz${n}@test.example`);
    case 'uuid':
      return fc.uuid();
    case 'binary':
      return fc.constant('binary');
    default:
      return textOf(s);
  }
}

function textOf(s: Schema): fc.Arbitrary<string> {
  const minLength = s.minLength ?? 0;
  const maxLength = Math.min(s.maxLength ?? 40, Math.max(minLength, 40));
  return fc.oneof(
    { weight: 3, arbitrary: fc.string({ minLength: Math.max(minLength, 1), maxLength, unit: 'grapheme-ascii' }) },
    { weight: 1, arbitrary: fc.string({ minLength: Math.max(minLength, 1), maxLength, unit: 'grapheme' }) },
  );
}

function plausibleObject(doc: ApiDocument, pool: IdPool, s: Schema, depth: number): fc.Arbitrary<unknown> {
  const required = new Set(s.required ?? []);
  const shape: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [key, property] of Object.entries(s.properties ?? {})) {
    if (!required.has(key) && LEFT_OUT.test(key)) continue;
    shape[key] = plausible(doc, pool, property, key, depth + 1);
  }
  const record = fc.record(shape, { requiredKeys: [...required].filter((k) => k in shape) });
  if (typeof s.additionalProperties !== 'object') return record;
  const extra = fc.dictionary(
    fc.stringMatching(/^[a-z][a-z0-9_]{0,15}$/),
    plausible(doc, pool, s.additionalProperties, undefined, depth + 1),
    { maxKeys: 3 },
  );
  return fc.tuple(record, extra).map(([known, more]) => ({ ...more, ...known }));
}

// ---------------------------------------------------------------- mutations

/** Every place in a JSON value: the root, each key of an object, each index of an array. */
function places(value: unknown, at: Array<string | number> = [], out: Array<Array<string | number>> = []) {
  out.push(at);
  if (out.length > 200) return out;
  if (Array.isArray(value)) value.forEach((v, i) => places(v, [...at, i], out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) places(v, [...at, k], out);
  return out;
}

/** A copy of `root` with `value` at `path` (an own property even for `__proto__`); `undefined` deletes. */
export function setAt(root: unknown, path: Array<string | number>, value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  const container: any = Array.isArray(root) ? [...root] : root && typeof root === 'object' ? { ...root } : {};
  const next = setAt(container[head!], rest, value);
  if (next === undefined && rest.length === 0) {
    if (Array.isArray(container)) container.splice(Number(head), 1);
    else delete container[head!];
  } else {
    Object.defineProperty(container, head!, { value: next, enumerable: true, writable: true, configurable: true });
  }
  return container;
}

const EXTRA_KEYS = ['__proto__', 'constructor', 'prototype', 'isAdmin', 'role', 'roles', 'actor', 'id', 'status', ''];

export type Mutation = 'replace' | 'drop' | 'extra' | 'whole';

/** A plausible body with one thing wrong with it. */
export function mutated(base: fc.Arbitrary<unknown>): fc.Arbitrary<{ value: unknown; mutation: Mutation }> {
  return fc.oneof(
    {
      weight: 5,
      arbitrary: fc.tuple(base, fc.nat(), nastyValue).map(([value, i, bad]) => {
        const all = places(value).slice(1);
        const path = all.length ? all[i % all.length]! : [];
        return { value: setAt(value, path, bad), mutation: 'replace' as const };
      }),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(base, fc.nat()).map(([value, i]) => {
        const all = places(value).slice(1);
        return { value: all.length ? setAt(value, all[i % all.length]!, undefined) : value, mutation: 'drop' as const };
      }),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(base, fc.constantFrom(...EXTRA_KEYS), fc.oneof(nastyValue, fc.constant({ polluted: 'yes' })))
        .map(([value, key, extra]) => ({
          value: value && typeof value === 'object' && !Array.isArray(value) ? setAt(value, [key], extra) : value,
          mutation: 'extra' as const,
        })),
    },
    { weight: 1, arbitrary: nastyValue.map((value) => ({ value, mutation: 'whole' as const })) },
  );
}
