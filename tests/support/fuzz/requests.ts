/**
 * One fuzzed request for one operation of the OpenAPI document: its path
 * parameters, query string, body, content type and token, each plausible or
 * hostile. A request that is plausible in every part may legitimately
 * succeed; the runner isolates it, because a 2xx changes state.
 */
import fc from 'fast-check';
import type { ApiDocument, Operation, Schema } from './openapi';
import { IdPool, mutated, nastyString, plausible, rawJsonText, type Mutation } from './values';

export interface FuzzRequest {
  /** The operation it was drawn for (`POST /api/tasks/{taskId}/decision`). */
  op: string;
  /** What kind of case it is, for coverage counts: `json:replace`, `path:trick`, `multipart:file-name`… */
  cases: string[];
  method: string;
  url: string;
  headers: Record<string, string>;
  /** A fresh body for each send (a stream or form can be read once). */
  body?: () => string | Uint8Array | FormData;
  /** A short description of the body, for a failure report. */
  bodyText: string;
  /**
   * A write that may succeed (and so change state): a valid token, a real or
   * well-formed path, and a plausible body or one only missing or adding a
   * field. Query strings do not count: the routes ignore parameters they do not take.
   */
  plausible: boolean;
  /** Who sent it: a role, or what was wrong with the token. */
  as: string;
}

export interface FuzzContext {
  doc: ApiDocument;
  pool: IdPool;
  /** Tokens by who holds them: every role of the harness, and `revoked`, `expired`, `deactivated`. */
  tokens: Record<string, string>;
  /** The roles among `tokens` (the others are refused at the door). */
  roles: string[];
  maxEvidenceBytes: number;
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

// ---------------------------------------------------------------- URL text

/** Percent-encodes text for a URL; a lone surrogate (which cannot be encoded) goes as the bytes of one. */
export function encodeText(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return text
      .split(/([\ud800-\udfff])/)
      .map((part) => (/^[\ud800-\udfff]$/.test(part) ? '%ED%A0%80' : encodeURIComponent(part)))
      .join('');
  }
}

/** Path segments that have fooled routers and file systems: already URL text, sent as they are. */
const PATH_TRICKS = [
  '..%2F..%2Fetc%2Fpasswd',
  '..%2F..%2F..%2Fapi%2Fusers',
  '%2e%2e%2f%2e%2e%2f',
  '..%252F..%252F',
  '..%5C..%5Cwindows',
  'a%2Fb',
  '%2F',
  '%2F%2F',
  '%00',
  'a%00b',
  '%ED%A0%80',
  '%C0%AF',
  '%C0%AE%C0%AE%2F',
  '%FF%FE',
  '%',
  '%zz',
  '%E2%80%AE',
  '%E2%80%8F',
  '%E2%80%8B',
  '%EF%BB%BF',
  '%EF%BC%91%EF%BC%92%EF%BC%93',
  '%F0%9F%98%80',
  '..',
  '.',
  '%2e',
  ';',
  'a;b=c',
  '*',
  '%20',
  '+',
  '~',
  'RISK-%0A',
  'x'.repeat(301),
  'x'.repeat(10_000),
];

function pathValue(ctx: FuzzContext, op: Operation, name: string): fc.Arbitrary<{ text: string; hostile: boolean }> {
  const param = op.pathParams.find((p) => p.name === name);
  const known = ctx.pool.get(name);
  const options: Array<fc.WeightedArbitrary<{ text: string; hostile: boolean }>> = [
    {
      weight: 2,
      arbitrary: plausible(ctx.doc, ctx.pool, param?.schema ?? { type: 'string' }, name).map((v) => ({
        text: encodeText(String(v)),
        hostile: false,
      })),
    },
    { weight: 2, arbitrary: nastyString.map((v) => ({ text: encodeText(v), hostile: true })) },
    { weight: 2, arbitrary: fc.constantFrom(...PATH_TRICKS).map((text) => ({ text, hostile: true })) },
  ];
  if (known.length) {
    options.push(
      { weight: 5, arbitrary: fc.constantFrom(...known).map((v) => ({ text: encodeText(v), hostile: false })) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(
            fc.constantFrom(...known),
            fc.constantFrom('%2F..', '/../x', '%00', 'x'.repeat(400), '%2520', '%E2%80%AE'),
          )
          .map(([v, tail]) => ({ text: encodeText(v) + tail, hostile: true })),
      },
    );
  }
  return fc.oneof(...options);
}

// ---------------------------------------------------------------- query strings

const QUERY_TRICKS = [
  'page=%ED%A0%80',
  'page=1e999',
  'page=-1',
  'page=0',
  'pageSize=100000000000000000000',
  'pageSize=NaN',
  'page=1&page=2',
  'page[]=1',
  'page[a]=1',
  '__proto__[polluted]=yes',
  'constructor[prototype][polluted]=yes',
  '&&&',
  '=',
  '==',
  'a=%',
  'a=%zz',
  '%00=1',
  `q=${'x'.repeat(5_000)}`,
  'asOf=9999-99-99',
  'periodDays=1.5',
  'overdue=TRUE',
];

function queryString(ctx: FuzzContext, op: Operation): fc.Arbitrary<{ text: string; hostile: boolean }> {
  const pairs = op.queryParams.map((param) =>
    fc.option(
      fc.oneof(
        {
          weight: 3,
          arbitrary: plausible(ctx.doc, ctx.pool, param.schema ?? { type: 'string' }, param.name).map((v) => ({
            text: `${encodeText(param.name)}=${encodeText(String(v))}`,
            hostile: false,
          })),
        },
        {
          weight: 2,
          arbitrary: nastyString.map((v) => ({ text: `${encodeText(param.name)}=${encodeText(v)}`, hostile: true })),
        },
      ),
      { freq: 2 },
    ),
  );
  const extra = fc.oneof(
    { weight: 6, arbitrary: fc.constant(null) },
    { weight: 2, arbitrary: fc.constantFrom(...QUERY_TRICKS).map((text) => ({ text, hostile: true })) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(nastyString, nastyString)
        .map(([k, v]) => ({ text: `${encodeText(k)}=${encodeText(v)}`, hostile: true })),
    },
  );
  return fc.tuple(fc.tuple(...pairs), extra).map(([given, more]) => {
    const parts = [...given, more].filter((p): p is { text: string; hostile: boolean } => p !== null);
    return { text: parts.map((p) => p.text).join('&'), hostile: parts.some((p) => p.hostile) };
  });
}

// ---------------------------------------------------------------- tokens

interface Auth {
  header?: string;
  as: string;
  valid: boolean;
}

function authorization(ctx: FuzzContext): fc.Arbitrary<Auth> {
  const role = fc.constantFrom(...ctx.roles);
  const special = Object.keys(ctx.tokens).filter((k) => !ctx.roles.includes(k));
  return fc.oneof(
    {
      weight: 14,
      arbitrary: role.map((as) => ({ header: `Bearer ${ctx.tokens[as]}`, as, valid: true })),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(role, fc.constantFrom('bearer ', 'BEARER ', 'Bearer \t ')).map(([as, scheme]) => ({
        header: `${scheme}${ctx.tokens[as]}`,
        as: `${as} (scheme spelt "${scheme.trim()}")`,
        valid: true,
      })),
    },
    {
      weight: 3,
      arbitrary: fc
        .tuple(
          role,
          fc.constantFrom<(t: string) => string>(
            (t) => t,
            (t) => `Token ${t}`,
            (t) => `Basic ${t}`,
            (t) => `Bearer ${t}x`,
            (t) => `Bearer ${t.slice(0, -1)}`,
            (t) => `Bearer ${t} ${t}`,
            (t) => `Bearer ${t.toUpperCase()}`,
            (t) => `Bearer ${t},Bearer ${t}`,
          ),
        )
        .map(([as, spoil]) => ({ header: spoil(ctx.tokens[as]!), as: `${as} (token spoilt)`, valid: false })),
    },
    {
      weight: 3,
      arbitrary: fc
        .constantFrom<string | undefined>(
          undefined,
          '',
          'Bearer',
          'Bearer ',
          'Basic YWRtaW46YWRtaW4=',
          'Bearer gov_',
          `Bearer gov_${'A'.repeat(8_000)}`,
          'Bearer gov_../../etc/passwd',
          "Bearer ' OR '1'='1",
          'Bearer null',
          'Bearer undefined',
          'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.',
        )
        .map((header) => ({
          header,
          as: header === undefined ? 'no token' : `bad token "${header.slice(0, 40)}"`,
          valid: false,
        })),
    },
    ...(special.length
      ? [
          {
            weight: 2,
            arbitrary: fc
              .constantFrom(...special)
              .map((as) => ({ header: `Bearer ${ctx.tokens[as]}`, as: `${as} token`, valid: false })),
          },
        ]
      : []),
  );
}

// ---------------------------------------------------------------- bodies

interface Body {
  contentType?: string;
  body?: () => string | Uint8Array | FormData;
  text: string;
  hostile: boolean;
  /** Hostile, but perhaps still accepted: an optional field dropped, an unknown one added. */
  mayPass?: boolean;
  cases: string[];
}

const WRONG_JSON_TYPES = [
  undefined,
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'multipart/form-data',
  'application/xml',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'application/vnd.api+json',
  'APPLICATION/JSON',
  'application/json, text/html',
  ';;;',
  'application/jsonx',
  'application/octet-stream',
];

const short = (text: string) => (text.length > 300 ? `${text.slice(0, 300)}… (${text.length} chars)` : text);

function jsonBody(ctx: FuzzContext, schema: Schema): fc.Arbitrary<Body> {
  const base = plausible(ctx.doc, ctx.pool, schema);
  const asJson = (value: unknown, cases: string[], hostile: boolean): Body => {
    const text = JSON.stringify(value) ?? 'null';
    return { contentType: 'application/json', body: () => text, text: short(text), hostile, cases };
  };
  return fc.oneof(
    { weight: 8, arbitrary: base.map((v) => asJson(v, ['json:plausible'], false)) },
    {
      weight: 16,
      arbitrary: mutated(base).map(({ value, mutation }: { value: unknown; mutation: Mutation }) => ({
        ...asJson(value, [`json:${mutation}`], true),
        mayPass: mutation === 'drop' || mutation === 'extra',
      })),
    },
    {
      weight: 4,
      arbitrary: rawJsonText.map((raw) => ({
        contentType: 'application/json',
        body: () => raw,
        text: typeof raw === 'string' ? short(raw) : `bytes ${Buffer.from(raw).toString('hex')}`,
        hostile: true,
        cases: ['json:malformed'],
      })),
    },
    {
      weight: 4,
      arbitrary: fc.tuple(base, fc.constantFrom(...WRONG_JSON_TYPES)).map(([value, contentType]) => {
        const text = JSON.stringify(value) ?? 'null';
        // Some are JSON after all (`application/vnd.api+json`, `APPLICATION/JSON`): they may pass.
        return {
          contentType,
          body: () => text,
          text: short(text),
          hostile: true,
          mayPass: true,
          cases: ['content-type:wrong'],
        };
      }),
    },
    {
      weight: 2,
      arbitrary: fc.constantFrom('application/json', undefined).map((contentType) => ({
        contentType,
        text: '(none)',
        hostile: true,
        // A body whose fields are all optional may be left out.
        mayPass: true,
        cases: ['body:missing'],
      })),
    },
    {
      weight: 1,
      // Just over the 1 MiB JSON limit; written when sent, not when drawn.
      arbitrary: base.map((value) => {
        const padded = (): unknown =>
          value && typeof value === 'object' && !Array.isArray(value)
            ? { ...value, padding: 'p'.repeat(1_100_000) }
            : [value, 'p'.repeat(1_100_000)];
        return {
          contentType: 'application/json',
          body: () => JSON.stringify(padded()),
          text: `${short(JSON.stringify(value) ?? 'null')} with 1,100,000 characters of padding`,
          hostile: true,
          cases: ['body:oversize'],
        };
      }),
    },
  );
}

const FILE_NAMES = [
  '../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '/etc/shadow',
  'a\u0000.pdf',
  `${'n'.repeat(10_000)}.pdf`,
  '',
  '.',
  '..',
  'CON',
  '.htaccess',
  '\u202efdp.exe',
  '😀.pdf',
  'a"b.pdf',
  'a\r\nContent-Type: text/html.pdf',
  'a;b=c.pdf',
  '%2e%2e%2fproof.pdf',
  "'; DROP TABLE evidence; --.pdf",
  '<script>alert(1)</script>.html',
  '１２３.pdf',
];

const FILE_TYPES = [
  '',
  'application/x-msdownload',
  'text/html',
  'image/svg+xml',
  'application/json',
  'x/y',
  'text/plain;charset=utf-7',
];

function formBody(ctx: FuzzContext, op: Operation): fc.Arbitrary<Body> {
  const schema = ctx.doc.resolve(op.formBody!);
  const fields = Object.entries(schema.properties ?? {}).filter(([, p]) => ctx.doc.resolve(p).format !== 'binary');
  const fileField =
    Object.entries(schema.properties ?? {}).find(([, p]) => ctx.doc.resolve(p).format === 'binary')?.[0] ?? 'file';
  const max = ctx.maxEvidenceBytes;
  const plainFields = fc.tuple(
    ...fields.map(([name, p]) =>
      fc.oneof(
        {
          weight: 4,
          arbitrary: plausible(ctx.doc, ctx.pool, p, name).map((v) => ({ name, value: String(v), hostile: false })),
        },
        { weight: 1, arbitrary: nastyString.map((v) => ({ name, value: v, hostile: true })) },
        { weight: 1, arbitrary: fc.constant({ name, value: undefined as string | undefined, hostile: true }) },
      ),
    ),
  );
  const size = fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 1, max: 2_000 }) },
    { weight: 1, arbitrary: fc.constantFrom(0, max, max + 1, max + 64 * 1024 + 1, 2 * 1024 * 1024) },
  );
  const fileName = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom('proof.pdf', 'licence.pdf', 'notes.txt') },
    { weight: 3, arbitrary: fc.constantFrom(...FILE_NAMES) },
    { weight: 1, arbitrary: nastyString },
  );
  const fileType = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom('application/pdf', 'text/plain') },
    { weight: 1, arbitrary: fc.constantFrom(...FILE_TYPES) },
  );
  const shape = fc.oneof(
    { weight: 8, arbitrary: fc.constant('file') },
    { weight: 1, arbitrary: fc.constantFrom('no-file', 'file-as-text', 'two-files', 'extra-fields') },
  );
  const structured = fc
    .tuple(plainFields, size, fileName, fileType, shape)
    .map(([given, bytes, name, type, form]): Body => {
      const hostile =
        given.some((g) => g.hostile) ||
        bytes === 0 ||
        bytes > max ||
        !/^(proof|licence|notes)\./.test(name) ||
        !/^(application\/pdf|text\/plain)$/.test(type) ||
        form !== 'file';
      const build = () => {
        const data = new FormData();
        const content = new Uint8Array(bytes).fill(0x61);
        if (form === 'file-as-text') data.append(fileField, 'not a file');
        else if (form !== 'no-file') data.append(fileField, new File([content], name, { type }));
        if (form === 'two-files') data.append(fileField, new File([content], 'second.pdf', { type }));
        for (const g of given) if (g.value !== undefined) data.append(g.name, g.value);
        if (form === 'extra-fields') {
          data.append('__proto__', 'polluted');
          data.append('documentType', 'business_licence');
          data.append('taskId', '../../etc/passwd');
        }
        return data;
      };
      const cases = ['multipart:structured'];
      if (bytes > max) cases.push('multipart:oversize');
      if (!/^(proof|licence|notes)\./.test(name)) cases.push('multipart:file-name');
      if (!/^(application\/pdf|text\/plain)$/.test(type)) cases.push('multipart:file-type');
      return {
        body: build,
        // An odd file name or type within the size limit is still a file: it may be stored.
        mayPass: !given.some((g) => g.hostile) && bytes > 0 && bytes <= max && form === 'file',
        text: `multipart ${form}: ${fileField}=${JSON.stringify(short(name))} (${type}, ${bytes} bytes) ${given.map((g) => `${g.name}=${JSON.stringify(short(g.value ?? '(absent)'))}`).join(' ')}`,
        hostile,
        cases,
      };
    });
  const raw = fc
    .constantFrom(
      [
        'multipart/form-data; boundary=zzz',
        '--zzz\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nabc',
      ],
      [
        'multipart/form-data; boundary=zzz',
        '--zzz\r\nContent-Disposition: form-data; name="file"; filename="../../etc/passwd"\r\nContent-Type: text/plain\r\n\r\nroot\r\n--zzz--\r\n',
      ],
      [
        'multipart/form-data; boundary=zzz',
        '--zzz\r\nContent-Disposition: form-data; name="file"; filename*=UTF-8\'\'%2e%2e%2f%00.txt\r\n\r\nx\r\n--zzz--\r\n',
      ],
      ['multipart/form-data', '--zzz\r\n\r\n'],
      ['multipart/form-data; boundary=', ''],
      ['multipart/form-data; boundary=zzz', 'garbage'],
      ['multipart/form-data; boundary=zzz', '--zzz--\r\n'],
      ['application/x-www-form-urlencoded', 'file=../../etc/passwd&summary=x'],
      ['application/json', '{"file":"x","summary":"y"}'],
      [undefined, 'file=x'],
      ['text/plain', 'hello'],
    )
    .map(([contentType, text]): Body => ({
      contentType,
      body: () => text!,
      text: `${contentType}: ${short(text!)}`,
      hostile: true,
      cases: ['multipart:malformed'],
    }));
  return fc.oneof({ weight: 8, arbitrary: structured }, { weight: 1, arbitrary: raw });
}

// ---------------------------------------------------------------- the request

export function requestFor(ctx: FuzzContext, op: Operation): fc.Arbitrary<FuzzRequest> {
  const params = fc.tuple(...op.pathParams.map((p) => pathValue(ctx, op, p.name)));
  const body: fc.Arbitrary<Body> = op.jsonBody
    ? jsonBody(ctx, op.jsonBody)
    : op.formBody
      ? formBody(ctx, op)
      : fc.constant({ text: '(none)', hostile: false, cases: [] });
  const extraHeaders = fc.oneof(
    { weight: 8, arbitrary: fc.constant({} as Record<string, string>) },
    {
      weight: 1,
      arbitrary: fc.constantFrom<Record<string, string>>(
        { 'x-request-id': 'x'.repeat(500) },
        { 'x-request-id': '../../etc/passwd' },
        { 'x-request-id': "'; DROP TABLE audit_events; --" },
        { 'idempotency-key': 'fuzz-key-1' },
        { 'idempotency-key': 'k'.repeat(1_000) },
        { 'idempotency-key': ' ' },
        { 'x-forwarded-for': '127.0.0.1, 10.0.0.1' },
        { 'content-length': '5' },
        { accept: 'text/html' },
      ),
    },
  );
  return fc
    .tuple(params, queryString(ctx, op), body, authorization(ctx), extraHeaders)
    .map(([values, query, b, auth, extra]) => {
      let i = 0;
      const path = op.path.replace(/\{[^}]+\}/g, () => values[i++]!.text);
      const url = query.text ? `${path}?${query.text}` : path;
      const headers: Record<string, string> = { ...extra };
      if (auth.header !== undefined) headers.authorization = auth.header;
      if (b.contentType !== undefined) headers['content-type'] = b.contentType;
      const pathHostile = values.some((v) => v.hostile);
      const cases = [...b.cases];
      if (pathHostile) cases.push('path:hostile');
      if (query.hostile) cases.push('query:hostile');
      if (!auth.valid) cases.push('token:bad');
      if (Object.keys(extra).length) cases.push('headers:odd');
      if (!b.hostile && !pathHostile && !query.hostile && auth.valid) cases.push('plausible');
      return {
        op: op.id,
        cases,
        method: op.method,
        url,
        headers,
        body: b.body,
        bodyText: b.text,
        plausible: MUTATING.has(op.method) && auth.valid && !pathHostile && (!b.hostile || Boolean(b.mayPass)),
        as: auth.as,
      };
    });
}

const OTHER_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** The request of an operation sent with a method it does not take. */
function wrongMethod(ctx: FuzzContext, op: Operation): fc.Arbitrary<FuzzRequest> {
  return fc
    .tuple(
      fc.constantFrom(...OTHER_METHODS.filter((m) => m !== op.method)),
      fc.tuple(...op.pathParams.map((p) => pathValue(ctx, op, p.name))),
      authorization(ctx),
    )
    .map(([method, values, auth]) => {
      let i = 0;
      const url = op.path.replace(/\{[^}]+\}/g, () => values[i++]!.text);
      const headers: Record<string, string> = auth.header === undefined ? {} : { authorization: auth.header };
      const body = method === 'GET' ? undefined : () => '{}';
      if (body) headers['content-type'] = 'application/json';
      return {
        op: op.id,
        cases: ['method:wrong'],
        method,
        url,
        headers,
        body,
        bodyText: body ? '{}' : '(none)',
        plausible: false,
        as: auth.as,
      };
    });
}

/**
 * A request for any operation of the document, each operation equally likely.
 * Built when drawn, so the ids a 2xx answer named earlier in the run are used.
 */
export function anyRequest(ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const ops = ctx.doc.operations;
  // Building an operation's arbitrary costs more than drawing from it: kept until the pool grows.
  const built = new Map<string, { version: number; arbitrary: fc.Arbitrary<FuzzRequest> }>();
  const arbitraryOf = (i: number, wrong: boolean) => {
    const key = `${i}:${wrong}`;
    let entry = built.get(key);
    if (!entry || entry.version !== ctx.pool.version) {
      entry = { version: ctx.pool.version, arbitrary: wrong ? wrongMethod(ctx, ops[i]!) : requestFor(ctx, ops[i]!) };
      built.set(key, entry);
    }
    return entry.arbitrary;
  };
  return fc
    .tuple(fc.noBias(fc.nat(ops.length - 1)), fc.noBias(fc.nat(30)))
    .chain(([i, pick]) => arbitraryOf(i, pick === 0));
}
