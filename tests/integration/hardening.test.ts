/**
 * The API's hardening (issue 14 §5/§6), on the real dev server and
 * PostgreSQL, partly over real HTTP (the failed-login limit counts the TCP
 * peer's address; a body limit must answer before a body is read whole):
 * body-size limits, the failed-authentication rate limit, secure headers
 * (with the docs page still loading only what its policy allows), and the
 * /healthz and /readyz probes.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createApp } from '../../api/app';
import { openDatabase } from '../../db/client';
import { launchBrowser } from '../support/browser';
import { useHarness } from '../support/harness';

const h = useHarness('hardening');

const servers: ServerType[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

/** Serves an app over real HTTP on a free loopback port. */
async function listen(app: { fetch: (req: Request, env?: unknown) => Response | Promise<Response> }): Promise<string> {
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** An app on the harness's database and Temporal with some settings of its own. */
const appWith = (settings: Partial<typeof h.settings>) =>
  createApp(
    { db: h.database.db, temporal: h.temporal, settings: { ...h.settings, ...settings } },
    { log: () => undefined },
  );

const approvalRequest = (title: string, padding = 0) =>
  JSON.stringify({ title, probability: 2, impact: 3, description: 'x'.repeat(padding) });

describe('body-size limits', () => {
  it('a JSON body over the limit is refused with 413 PAYLOAD_TOO_LARGE, nothing started', async () => {
    const title = h.unique('Too large');
    const res = await h.api('POST', '/api/cases/approval-requests', {
      as: 'lead',
      body: approvalRequest(title, 1024 * 1024),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(413);
    expect(res.body.error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', requestId: expect.any(String) });
    expect(res.body.error.message).toContain(String(1024 * 1024));
    expect(await h.sql('select id from cases where title = $1', [title])).toEqual([]);
    // Under the limit, the same request is served.
    const ok = await h.api('POST', '/api/cases/approval-requests', {
      as: 'lead',
      body: approvalRequest(title, 1000),
      headers: { 'content-type': 'application/json' },
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
  });

  it('the JSON limit is a setting; a chunked body over it is refused before it is read whole', async () => {
    const base = await listen(appWith({ maxJsonBytes: 2000 }));
    const title = h.unique('Chunked');
    const small = await fetch(`${base}/api/cases/approval-requests`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.tokens.lead}`, 'content-type': 'application/json' },
      body: approvalRequest(title, 1000),
    });
    expect(small.status).toBe(201);
    const declared = await fetch(`${base}/api/cases/approval-requests`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.tokens.lead}`, 'content-type': 'application/json' },
      body: approvalRequest(title, 3000),
    });
    expect(declared.status).toBe(413);
    expect(((await declared.json()) as any).error.code).toBe('PAYLOAD_TOO_LARGE');

    // A chunked body that never ends: the answer comes once the limit is passed.
    const status = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(`${base}/api/cases/approval-requests`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${h.tokens.lead}`,
          'content-type': 'application/json',
          'transfer-encoding': 'chunked',
        },
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => {
          req.destroy();
          resolve({ status: res.statusCode!, body });
        });
      });
      req.on('error', reject);
      req.write(`{"title":"${title}","description":"`);
      req.write('y'.repeat(5000)); // and never req.end()
    });
    expect(status.status).toBe(413);
    expect(JSON.parse(status.body).error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await h.sql('select id from cases where title = $1', [title])).toHaveLength(1);
  });

  it('an evidence upload over MAX_EVIDENCE_BYTES is refused with 413 in the envelope', async () => {
    const started = await h.api('POST', '/api/cases/approval-requests', {
      as: 'lead',
      json: { title: h.unique('Upload'), probability: 2, impact: 3 },
    });
    const caseId = started.body.caseId as string;
    const form = new FormData();
    form.set('file', new File([new Uint8Array(h.settings.maxEvidenceBytes + 70 * 1024)], 'big.bin'));
    const res = await h.api('POST', `/api/cases/${encodeURIComponent(caseId)}/evidence`, { as: 'lead', body: form });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await h.sql('select id from evidence where case_id = $1', [caseId])).toEqual([]);
  });
});

describe('failed-authentication rate limit', () => {
  it('after the limit of 401s from one address, 429 TOO_MANY_FAILED_LOGINS with Retry-After, valid tokens included', async () => {
    const base = await listen(appWith({ failedAuthPerMinute: 5 }));
    const inbox = (token: string) =>
      fetch(`${base}/api/tasks/inbox`, { headers: { authorization: `Bearer ${token}` } });
    expect((await inbox(h.tokens.approver)).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await inbox(`gov_guess_${i}`)).status).toBe(401);
    const refused = await inbox('gov_guess_6');
    expect(refused.status).toBe(429);
    const body = (await refused.json()) as any;
    expect(body.error).toMatchObject({ code: 'TOO_MANY_FAILED_LOGINS', requestId: expect.any(String) });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // The address is locked, not the token: a valid token from it waits too (see api/auth.ts for why).
    expect((await inbox(h.tokens.approver)).status).toBe(429);
    // Forbidden (403) is not a failed authentication, and other apps (processes) count their own.
    const other = await listen(appWith({ failedAuthPerMinute: 5 }));
    expect(
      (await fetch(`${other}/api/tasks/inbox`, { headers: { authorization: `Bearer ${h.tokens.approver}` } })).status,
    ).toBe(200);
  });

  it('403s do not count; in-process calls (no client address) are not counted', async () => {
    const base = await listen(appWith({ failedAuthPerMinute: 2 }));
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${base}/api/users`, { headers: { authorization: `Bearer ${h.tokens.approver}` } });
      expect(res.status).toBe(403);
    }
    expect(
      (await fetch(`${base}/api/tasks/inbox`, { headers: { authorization: `Bearer ${h.tokens.approver}` } })).status,
    ).toBe(200);
    for (let i = 0; i < 4; i++)
      expect((await h.api('GET', '/api/tasks/inbox', { token: 'gov_wrong' })).status).toBe(401);
  });
});

describe('secure headers', () => {
  it('every response carries them: API answers, errors and the docs page', async () => {
    for (const [path, as, status] of [
      ['/api/tasks/inbox', 'approver', 200],
      ['/api/tasks/inbox', undefined, 401],
      ['/api/nowhere', 'approver', 404],
      ['/docs', undefined, 200],
      ['/healthz', undefined, 200],
    ] as const) {
      const res = await h.api('GET', path, as ? { as } : {});
      expect(res.status, path).toBe(status);
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('x-frame-options'), path).toBe('DENY');
      expect(res.headers.get('referrer-policy'), path).toBe('no-referrer');
      expect(res.headers.get('strict-transport-security'), path).toMatch(/max-age=\d+/);
      expect(res.headers.get('content-security-policy'), path).toContain("script-src 'self'");
    }
  });

  it('the docs page loads only what its Content-Security-Policy allows', async () => {
    const page = await h.api('GET', '/docs');
    const csp = Object.fromEntries(
      page.headers
        .get('content-security-policy')!
        .split(';')
        .map((d) => d.trim().split(/\s+/))
        .map(([name, ...values]) => [name, values]),
    );
    expect(csp['script-src']).toEqual(["'self'"]);
    expect(csp['default-src']).toEqual(["'self'"]);
    expect(csp['frame-ancestors']).toEqual(["'none'"]);
    const html: string = page.body;
    // No inline script: every script is a file from this origin, and so is the style sheet.
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, content] of scripts) {
      expect(content!.trim()).toBe('');
      expect(attributes).toMatch(/src="\/docs\//);
    }
    expect(html).not.toMatch(/\son\w+=/i);
    for (const asset of [...html.matchAll(/(?:src|href)="(\/[^"]+)"/g)].map((m) => m[1]!)) {
      const res = await h.api('GET', asset);
      expect(res.status, asset).toBe(200);
    }
    // Swagger UI fetches the document from this origin (connect-src 'self').
    expect((await h.api('GET', '/docs/init.js')).body).toContain("url: '/openapi.json'");
    expect(csp['connect-src']).toEqual(["'self'"]);
  });
});

describe('the docs page in a real browser, under the policy', () => {
  it('Swagger UI renders every operation with no Content-Security-Policy violation', async () => {
    const base = await listen(h.app);
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      const violations: string[] = [];
      page.on('console', (message) => {
        if (/content security policy/i.test(message.text())) violations.push(message.text());
      });
      // Registered by the debugger protocol before the page's own scripts: the policy does not apply to it.
      await page.addInitScript(
        `document.addEventListener('securitypolicyviolation', (e) =>
          console.log('Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI))`,
      );
      const response = await page.goto(`${base}/docs`);
      expect(response!.headers()['content-security-policy']).toContain("script-src 'self'");
      // Swagger UI parses a large document: on a busy 2-core machine this took 23 s.
      await page.locator('.swagger-ui .opblock').first().waitFor({ timeout: 120_000 });
      const documented = Object.values(((await (await fetch(`${base}/openapi.json`)).json()) as any).paths).flatMap(
        (ops) => Object.keys(ops as object),
      ).length;
      expect(await page.locator('.swagger-ui .opblock').count()).toBe(documented);
      expect(await page.locator('.swagger-ui .info .title').textContent()).toContain('Governance platform API');
      expect(violations).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 180_000);
});

describe('health probes', () => {
  it('/healthz and /readyz answer without a token', async () => {
    const live = await h.api('GET', '/healthz');
    expect(live).toMatchObject({ status: 200, body: { status: 'ok' } });
    const ready = await h.api('GET', '/readyz', { token: 'nonsense' });
    expect(ready).toMatchObject({ status: 200, body: { status: 'ready', database: 'ok', temporal: 'ok' } });
    expect(ready.headers.get('cache-control')).toBe('no-store');
  });

  it('/readyz answers 503 naming what is down; /healthz stays 200', async () => {
    const connection = await Connection.connect({ address: inject('temporalAddress') });
    const temporalDown = new Client({ connection, namespace: 'default' });
    await connection.close();
    const database = await openDatabase({ url: h.databaseUrl, poolSize: 1 });
    await database.close();

    const cases = [
      { temporal: temporalDown, db: h.database.db, down: ['temporal'] },
      { temporal: h.temporal, db: database.db, down: ['database'] },
      { temporal: temporalDown, db: database.db, down: ['database', 'temporal'] },
    ];
    for (const { temporal, db, down } of cases) {
      const app = createApp({ db, temporal, settings: h.settings }, { log: () => undefined });
      const started = Date.now();
      const ready = await app.request('/readyz');
      expect(ready.status, down.join()).toBe(503);
      const body = (await ready.json()) as any;
      expect(body).toMatchObject({ status: 'unavailable', down });
      expect(body.message).toContain(down.join(' and '));
      expect(Date.now() - started).toBeLessThan(5_000);
      const live = await app.request('/healthz');
      expect(live.status).toBe(200);
    }
  });
});
