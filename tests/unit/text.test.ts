import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../api/errors';
import { decodeUrlText, textGuard } from '../../api/textGuard';
import { findBadText, textProblem, wellFormedText, wellFormedValue } from '../../domain/text';

/** What PostgreSQL's driver does to a string: encode it as UTF-8. */
const throughUtf8 = (text: string) => Buffer.from(text, 'utf8').toString('utf8');

describe('textProblem', () => {
  it('finds NUL and lone surrogates, high or low, anywhere', () => {
    expect(textProblem('a\u0000b')).toBe('nul');
    expect(textProblem('\u0000')).toBe('nul');
    for (const lone of ['\ud800', 'a\ud800', '\ud800b', '\udc00', 'a\udfffb', '\udc00\ud800', '😀'.slice(0, 1)]) {
      expect(textProblem(lone), JSON.stringify(lone)).toBe('lone_surrogate');
    }
  });

  it('accepts well-formed text, pairs and the replacement character included', () => {
    for (const fine of ['', 'plain', '中文 整改项', '😀', 'a\ud83d\ude00b', '\uFFFD', '\u0001\u001f\u007f']) {
      expect(textProblem(fine), JSON.stringify(fine)).toBeNull();
      expect(throughUtf8(fine)).toBe(fine);
    }
  });
});

describe('findBadText', () => {
  it('names the first bad value by its path, arrays by index as the API names fields', () => {
    const body = {
      title: 'ok',
      rectificationItems: [
        { title: 'fine', ownerId: 'u1' },
        { title: 'a\u0000b', ownerId: 'u2' },
      ],
    };
    expect(findBadText(body, 'body')).toEqual({
      path: 'body.rectificationItems.1.title',
      problem: 'nul',
      inKey: false,
    });
    expect(findBadText({ participants: ['x', '\ud800'] }, 'body')).toEqual({
      path: 'body.participants.1',
      problem: 'lone_surrogate',
      inKey: false,
    });
    expect(findBadText('\ud800', 'body')).toMatchObject({ path: 'body' });
  });

  it('checks object keys, showing them escaped in the path', () => {
    expect(findBadText({ timings: { 'a\u0000b': '1h' } }, 'body')).toEqual({
      path: 'body.timings.a\\u0000b',
      problem: 'nul',
      inKey: true,
    });
    expect(findBadText({ '\udc00': 1 }, 'body')).toEqual({
      path: 'body.\\udc00',
      problem: 'lone_surrogate',
      inKey: true,
    });
  });

  it('reports in document order: an earlier sibling’s subtree before a later key', () => {
    expect(findBadText({ a: { deep: ['\u0000'] }, 'b\u0000': 1 }, 'body')?.path).toBe('body.a.deep.0');
    expect(findBadText({ 'a\u0000': { deep: ['\u0000'] } }, 'body')).toMatchObject({
      path: 'body.a\\u0000',
      inKey: true,
    });
  });

  it('passes clean data of every JSON type, and survives very deep nesting', () => {
    expect(findBadText({ n: 1, b: true, z: null, s: '中文', a: [[], {}, 2.5] }, 'body')).toBeNull();
    expect(findBadText(undefined, 'body')).toBeNull();
    let deep: unknown = 'a\u0000';
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(findBadText(deep, 'body')?.path).toMatch(/^body(\.0){200000}$/);
  });
});

describe('wellFormedText and wellFormedValue', () => {
  it('replaces NUL and lone surrogates with U+FFFD and keeps pairs', () => {
    expect(wellFormedText('a\u0000b\ud800c\udc00d😀')).toBe('a\uFFFDb\uFFFDc\uFFFDd😀');
    expect(wellFormedText('fine')).toBe('fine');
  });

  it('normalises keys and values at any depth, keeping dates and other types', () => {
    const at = new Date('2026-01-01T00:00:00Z');
    const value = wellFormedValue({ 'k\u0000': ['\ud800', 1, null, true, { at, r: 'x\u0000' }] });
    expect(value).toEqual({ 'k\uFFFD': ['\uFFFD', 1, null, true, { at, r: 'x\uFFFD' }] });
    expect((value['k\uFFFD' as keyof typeof value] as unknown[])[4]).toMatchObject({ at });
    // What comes out survives UTF-8, as PostgreSQL will store it.
    const json = JSON.stringify(value);
    expect(throughUtf8(json)).toBe(json);
    expect(findBadText(value, 'x')).toBeNull();
  });
});

describe('decodeUrlText', () => {
  it('decodes UTF-8 percent-encoding, NUL included, and leaves a stray % as it is', () => {
    expect(decodeUrlText('a%00b')).toEqual({ text: 'a\u0000b' });
    expect(decodeUrlText('%E6%95%B4%E6%94%B9')).toEqual({ text: '整改' });
    expect(decodeUrlText('100%')).toEqual({ text: '100%' });
    expect(decodeUrlText('%zz')).toEqual({ text: '%zz' });
  });

  it('names bytes that are not UTF-8: an encoded surrogate, an overlong NUL, a cut sequence', () => {
    expect(decodeUrlText('a%ED%A0%80b')).toEqual({ notUtf8: '%ED%A0%80' });
    expect(decodeUrlText('%C0%80')).toEqual({ notUtf8: '%C0%80' });
    expect(decodeUrlText('ok%E6%95')).toEqual({ notUtf8: '%E6%95' });
  });
});

describe('textGuard middleware', () => {
  const FORM_LIMIT = 1024;
  function app() {
    const writes: string[] = [];
    const app = new Hono();
    app.onError((err, c) => {
      if (err instanceof ApiError) return c.json({ error: { code: err.code, message: err.message } }, err.status);
      return c.json({ error: { code: 'OTHER', message: String(err) } }, 500);
    });
    const limit = () =>
      bodyLimit({
        maxSize: FORM_LIMIT,
        onError: () => {
          throw new ApiError('PAYLOAD_TOO_LARGE', 'too large');
        },
      });
    app.use('/api/*', textGuard({ formBodyLimit: limit() }));
    app.post('/api/things/:thingId/notes', async (c) => {
      const body = await c.req.json().catch(() => {
        throw new ApiError('BAD_REQUEST', 'Malformed JSON in request body');
      });
      writes.push(JSON.stringify(body));
      return c.json({ thingId: c.req.param('thingId'), body }, 201);
    });
    app.post('/api/things/:thingId/files', limit(), async (c) => {
      const form = await c.req.parseBody();
      writes.push(String((form.file as File).name));
      return c.json({ name: (form.file as File).name, label: form.label }, 201);
    });
    app.get('/api/things/:thingId', (c) => c.json({ thingId: c.req.param('thingId'), q: c.req.query('q') }));
    return { app, writes };
  }
  const post = (body: string) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const form = (fileName: string, label = 'label', size = 3) => {
    const data = new FormData();
    data.append('file', new File(['x'.repeat(size)], fileName));
    data.append('label', label);
    return { method: 'POST', body: data };
  };

  it('refuses a bad JSON value or key with 400 naming it, before the route writes anything', async () => {
    const { app: a, writes } = app();
    for (const [raw, message] of [
      ['{"title":"a\\u0000b"}', 'invalid body: body.title contains a NUL character (U+0000)'],
      ['{"items":[{"title":"ok"},{"title":"\\ud800"}]}', 'invalid body: body.items.1.title contains a lone UTF-16'],
      ['{"a\\u0000b":1}', 'invalid body: body.a\\u0000b is a field name containing a NUL character'],
    ] as const) {
      const res = await a.request('/api/things/t1/notes', post(raw));
      expect(res.status, raw).toBe(400);
      expect(((await res.json()) as any).error.message).toContain(message);
    }
    expect(writes).toEqual([]);
  });

  it('lets clean and malformed JSON through to the route, which still reads the body', async () => {
    const { app: a, writes } = app();
    const ok = await a.request('/api/things/t1/notes', post('{"title":"整改 😀"}'));
    expect(ok.status).toBe(201);
    expect(await ok.json()).toEqual({ thingId: 't1', body: { title: '整改 😀' } });
    const malformed = await a.request('/api/things/t1/notes', post('{"title":'));
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as any).error.message).toBe('Malformed JSON in request body');
    expect(writes).toHaveLength(1);
  });

  it('refuses bad path parameters and query parameters, naming them', async () => {
    const { app: a } = app();
    for (const [path, message] of [
      ['/api/things/a%00b', 'invalid path: path.thingId contains a NUL character'],
      ['/api/things/%ED%A0%80', 'invalid path: path.thingId is not UTF-8 once percent-decoded (%ED%A0%80)'],
      ['/api/things/t1?q=a%00b', 'invalid query: query.q contains a NUL character'],
      ['/api/things/t1?q=%ED%A0%80', 'invalid query: query.q is not UTF-8'],
      ['/api/things/t1?a%00b=1', 'invalid query: query.a\\u0000b is a parameter name containing a NUL'],
      ['/api/nowhere%00', 'invalid path: path contains a NUL character'],
    ] as const) {
      const res = await a.request(path);
      expect(res.status, path).toBe(400);
      expect(((await res.json()) as any).error.message, path).toContain(message);
    }
    const ok = await a.request('/api/things/%E6%95%B4%20x?q=a+b%26c');
    expect(await ok.json()).toEqual({ thingId: '整 x', q: 'a b&c' });
  });

  it('refuses an upload whose file name or field has a NUL, and leaves clean uploads to the route', async () => {
    const { app: a, writes } = app();
    const badName = await a.request('/api/things/t1/files', form('a\u0000b.txt'));
    expect(badName.status).toBe(400);
    expect(((await badName.json()) as any).error.message).toBe(
      'invalid body: body.file has a file name containing a NUL character (U+0000)',
    );
    const badLabel = await a.request('/api/things/t1/files', form('fine.txt', 'x\u0000'));
    expect(((await badLabel.json()) as any).error.message).toContain('invalid body: body.label contains a NUL');
    expect(writes).toEqual([]);

    // The route's own body limit and parser still read the body after the guard.
    const ok = await a.request('/api/things/t1/files', form('整改.txt'));
    expect(ok.status).toBe(201);
    expect(await ok.json()).toEqual({ name: '整改.txt', label: 'label' });
    const tooLarge = await a.request('/api/things/t1/files', form('big.txt', 'label', FORM_LIMIT * 2));
    expect(tooLarge.status).toBe(413);
    expect(writes).toEqual(['整改.txt']);
  });
});
