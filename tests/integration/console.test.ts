/**
 * The web console in a real browser (Debian's Chromium, playwright-core)
 * against the product as `npm start` runs it: its build served by the API,
 * its demo users signing in with the demo password, over real HTTP.
 */
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD, MAX_FAILED_PASSWORDS, setPassword } from '../../api/session';
import { consoleCredentials } from '../../db/sessions';
import { ensureConsoleBuild } from '../../scripts/web-build';
import { launchBrowser, screenshot, seriousAxeViolations } from '../support/browser';
import { useProduct } from '../support/product';

// What the functions given to page.evaluate() touch: they run in the browser, not here.
declare const document: any;

const product = useProduct('console');
let browser: Browser;

beforeAll(async () => {
  await ensureConsoleBuild({ log: () => undefined });
  browser = await launchBrowser();
}, 300_000);

afterAll(async () => {
  await browser?.close();
});

async function api(method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`${product.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}

/** An approval request by the demo manager: low risk (one approver decides it) unless `high`. */
async function startApproval(title: string, high = false): Promise<{ caseId: string; taskId: string }> {
  const key = `CONSOLE-${randomUUID().slice(0, 8)}`;
  const res = await api('POST', '/api/cases/approval-requests', 'gov_demo_manager', {
    requestKey: key,
    title,
    probability: high ? 5 : 1,
    impact: high ? 5 : 2,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const caseId = res.body.caseId as string;
  // The start answers once the approval task can be read.
  const detail = await api('GET', `/api/cases/${encodeURIComponent(caseId)}`, 'gov_demo_approver');
  const task = (detail.body.tasks as Array<{ id: string; kind: string; status: string }>).find(
    (t) => t.kind === 'approval' && t.status === 'open',
  );
  expect(task, JSON.stringify(detail.body)).toBeDefined();
  return { caseId, taskId: task!.id };
}

const contexts: BrowserContext[] = [];
afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
});

async function newPage(options: { locale?: string; timezoneId?: string } = {}): Promise<Page> {
  const context = await browser.newContext({
    locale: options.locale ?? 'en-US',
    timezoneId: options.timezoneId ?? 'Europe/London',
    viewport: { width: 1280, height: 900 },
  });
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  return page;
}

async function signIn(page: Page, login: string, password = DEMO_PASSWORD): Promise<void> {
  await page.goto(`${product.url}/console/`);
  await page.locator('#login').fill(login);
  await page.locator('#password').fill(password);
  await page.locator('button[type=submit]').click();
}

async function signedIn(page: Page, login: string): Promise<void> {
  await signIn(page, login);
  await page.getByTestId('whoami').waitFor();
}

const row = (page: Page, section: string, text: string) => page.getByTestId(section).locator('tr', { hasText: text });

describe('the console', () => {
  it('is served by the API itself, every asset from its own origin', async () => {
    const root = await fetch(`${product.url}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/console/');
    const page = await fetch(`${product.url}/console/cases/anything`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<div id="root">');
    // No CDN, no external font: every script and stylesheet is ours.
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect(ref, ref).toMatch(/^\/console\//);
    const script = refs.find((r) => r.endsWith('.js'))!;
    const asset = await fetch(`${product.url}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    // Compressed on the wire: the bundle is most of the first load.
    expect(asset.headers.get('content-encoding')).toBe('gzip');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('an approver signs in, decides from the inbox with a comment, and sees the case advance', async () => {
    const title = `Console approval ${randomUUID().slice(0, 6)}`;
    const { caseId } = await startApproval(title);
    const page = await newPage();
    await signedIn(page, 'wang.approver');
    const task = row(page, 'to-decide', title);
    await task.waitFor();
    // Its status in words, not the key.
    expect(await task.locator('[data-status="open"]').innerText()).toBe('Open');
    await screenshot(page, 'inbox-en');
    await task.getByRole('button', { name: 'Approve' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.locator('#decision-comment').fill('Within appetite; approved from the console.');
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    // Gone from the inbox without a reload.
    await task.waitFor({ state: 'detached' });

    await page.goto(`${product.url}/console/cases/${encodeURIComponent(caseId)}`);
    await expect.poll(() => page.getByTestId('stage').textContent(), { timeout: 30_000 }).not.toBe('awaiting_approval');
    const timeline = page.getByTestId('timeline');
    await timeline.getByText('wang.approver').first().waitFor();
    await timeline.getByText('Within appetite; approved from the console.').waitFor();
    // Actions in words, the key kept as data: the decision and the opening as the timeline names them.
    expect(await timeline.locator('[data-action="approval.decided"]').first().innerText()).toBe('Approval decided');
    expect(await timeline.locator('[data-action="case.opened"]').first().innerText()).toBe('Case opened');
    await screenshot(page, 'case-en');
    const detail = await api('GET', `/api/cases/${encodeURIComponent(caseId)}`, 'gov_demo_approver');
    expect(detail.body.case.stage).not.toBe('awaiting_approval');
    expect(await page.getByTestId('stage').textContent()).toBe(detail.body.case.stage);
    // The Temporal UI link of the case.
    expect(await page.getByRole('link', { name: 'History in Temporal UI' }).getAttribute('href')).toBe(
      detail.body.links.temporalUi,
    );
  });

  it('the case page and the inbox refresh by themselves when a decision lands, polling with ETags', async () => {
    const title = `Console live ${randomUUID().slice(0, 6)}`;
    const { caseId, taskId } = await startApproval(title);
    const page = await newPage();
    await signedIn(page, 'wang.approver');
    await row(page, 'to-decide', title).waitFor();

    const casePage = await page.context().newPage();
    await casePage.goto(`${product.url}/console/cases/${encodeURIComponent(caseId)}`);
    await casePage.getByTestId('stage').waitFor();
    expect(await casePage.getByTestId('stage').textContent()).toBe('awaiting_approval');

    // Someone else decides, through the API.
    const decided = await api('POST', `/api/tasks/${encodeURIComponent(taskId)}/decision`, 'gov_demo_legal', {
      decision: 'approve',
      comment: 'decided elsewhere',
    });
    expect(decided.status, JSON.stringify(decided.body)).toBe(200);
    await expect
      .poll(() => casePage.getByTestId('stage').textContent(), { timeout: 20_000 })
      .not.toBe('awaiting_approval');
    await row(page, 'to-decide', title).waitFor({ state: 'detached', timeout: 20_000 });

    // What makes polling cheap: an unchanged read is a 304 with no body.
    for (const path of ['/api/tasks/inbox', `/api/cases/${encodeURIComponent(caseId)}`]) {
      const first = await fetch(`${product.url}${path}`, { headers: { authorization: 'Bearer gov_demo_approver' } });
      const tag = first.headers.get('etag');
      expect(tag, path).toBeTruthy();
      expect(first.headers.get('cache-control')).toBe('private, no-cache');
      const again = await fetch(`${product.url}${path}`, {
        headers: { authorization: 'Bearer gov_demo_approver', 'if-none-match': tag! },
      });
      expect(again.status, path).toBe(304);
      expect(await again.text()).toBe('');
    }
  });

  it('a refused decision shows its reason in plain words from the error envelope', async () => {
    // High risk: two approvers from two functions. The approver votes in another tab meanwhile.
    const title = `Console refused ${randomUUID().slice(0, 6)}`;
    const { taskId } = await startApproval(title, true);
    const page = await newPage();
    await signedIn(page, 'wang.approver');
    await row(page, 'to-decide', title).getByRole('button', { name: 'Approve' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.locator('#decision-comment').fill('Within appetite.');
    const first = await api('POST', `/api/tasks/${encodeURIComponent(taskId)}/decision`, 'gov_demo_approver', {
      decision: 'approve',
      comment: 'first vote, from another tab',
    });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    const refusal = dialog.getByTestId('refusal');
    await refusal.waitFor();
    // The same call again, to read the envelope the console was given.
    const again = await api('POST', `/api/tasks/${encodeURIComponent(taskId)}/decision`, 'gov_demo_approver', {
      decision: 'approve',
      comment: 'Within appetite.',
    });
    expect(again.status).toBe(422);
    const envelope = again.body as { error: { code: string; message: string; reason: string } };
    expect(envelope.error.reason).toBe('FOUR_EYES');
    const text = await refusal.textContent();
    expect(text).toContain('The decision was refused');
    expect(text).toContain('Four eyes: this case needs a second approver; you have already voted.');
    expect(text).toContain(envelope.error.reason);
    expect(text).toContain(envelope.error.message);
    await screenshot(page, 'refusal-en');

    // A case that moved on (decided by others, now closed) is explained too, though its answer has no rule code.
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    const low = await startApproval(`Console moved on ${randomUUID().slice(0, 6)}`);
    await row(page, 'to-decide', 'Console moved on').getByRole('button', { name: 'Reject' }).click();
    await page.getByRole('dialog').locator('#decision-comment').fill('Not within appetite.');
    expect(
      (
        await api('POST', `/api/tasks/${encodeURIComponent(low.taskId)}/decision`, 'gov_demo_legal', {
          decision: 'approve',
        })
      ).status,
    ).toBe(200);
    await page.getByRole('dialog').getByRole('button', { name: 'Confirm' }).click();
    const movedOn = page.getByRole('dialog').getByTestId('refusal');
    await movedOn.waitFor();
    expect(await movedOn.textContent()).toContain('The case has moved on: it no longer awaits this decision.');
  });

  it('an auditor sees no write control, on the inbox or on a case page', async () => {
    const title = `Console auditor ${randomUUID().slice(0, 6)}`;
    const { caseId } = await startApproval(title);
    const page = await newPage();
    await signedIn(page, 'zhao.auditor');
    await page.getByText('Read-only').waitFor();
    await page.getByTestId('to-decide').waitFor();
    const writeButtons = () => page.getByRole('button', { name: /approve|reject|confirm|submit|upload|decide/i });
    expect(await writeButtons().count()).toBe(0);
    expect(await page.locator('main textarea, main input[type=file]').count()).toBe(0);

    await page.goto(`${product.url}/console/cases/${encodeURIComponent(caseId)}`);
    await page.getByTestId('stage').waitFor();
    await page.getByTestId('timeline').waitFor();
    expect(await writeButtons().count()).toBe(0);
    expect(await page.locator('main textarea, main input[type=file]').count()).toBe(0);
    await screenshot(page, 'case-auditor-en');

    // A reminder mail's link to the task opens its case.
    const { taskId } = await startApproval(`Console mail link ${randomUUID().slice(0, 6)}`);
    await page.goto(`${product.url}/tasks/${encodeURIComponent(taskId)}`);
    await page.waitForURL(/\/console\/cases\/approval-request/);
    await page.getByTestId('stage').waitFor();
    expect(await writeButtons().count()).toBe(0);
  });

  it('the zh-CN inbox renders Chinese glyphs, not tofu, and the language choice is remembered', async () => {
    const page = await newPage({ locale: 'en-US', timezoneId: 'Asia/Shanghai' });
    await signedIn(page, 'wang.approver');
    await page.getByText('中文', { exact: true }).click();
    await page.getByRole('heading', { name: '我的待办' }).waitFor();
    // Remembered across a reload (localStorage).
    await page.reload();
    const heading = page.getByRole('heading', { level: 1 });
    await heading.waitFor();
    expect(await heading.textContent()).toBe('我的待办');
    const shot = await screenshot(page, 'inbox-zh');
    expect(shot.length).toBeGreaterThan(10_000);

    // Each glyph drawn on its own: a font without them draws the same empty box for all.
    const glyphs = ['我', '的', '待', '办', '\uE000'];
    const images: Buffer[] = [];
    for (const glyph of glyphs) {
      await page.evaluate((g) => {
        const probe = document.getElementById('glyph-probe') ?? document.createElement('span');
        probe.id = 'glyph-probe';
        Object.assign(probe.style, {
          position: 'fixed',
          top: '0',
          left: '0',
          fontSize: '48px',
          background: '#fff',
          color: '#000',
          padding: '4px',
          zIndex: '9999',
        });
        probe.textContent = g;
        document.body.appendChild(probe);
      }, glyph);
      images.push(await page.locator('#glyph-probe').screenshot());
    }
    const tofu = images.pop()!;
    for (const [i, image] of images.entries()) {
      expect(image.equals(tofu), `${glyphs[i]} drawn as the missing-glyph box`).toBe(false);
      for (const other of images.slice(i + 1))
        expect(image.equals(other), `${glyphs[i]} drawn like another glyph`).toBe(false);
    }
  });

  it('axe-core finds no serious or critical violation on the inbox and the case page', async () => {
    const title = `Console a11y ${randomUUID().slice(0, 6)}`;
    const { caseId } = await startApproval(title);
    const page = await newPage();
    await signedIn(page, 'wang.approver');
    await row(page, 'to-decide', title).waitFor();
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.goto(`${product.url}/console/cases/${encodeURIComponent(caseId)}`);
    await page.getByTestId('timeline').waitFor();
    expect(await seriousAxeViolations(page)).toEqual([]);
  });

  it('a write made with the session cookie but without its CSRF token is refused', async () => {
    const title = `Console CSRF ${randomUUID().slice(0, 6)}`;
    const { taskId, caseId } = await startApproval(title);
    const page = await newPage();
    await signedIn(page, 'wang.approver');
    const path = `/api/tasks/${encodeURIComponent(taskId)}/decision`;
    const attempt = (headers: Record<string, string>) =>
      page.evaluate(
        async ({ path, headers }) => {
          const res = await fetch(path, {
            method: 'POST',
            credentials: 'same-origin',
            headers: { 'content-type': 'application/json', ...headers },
            body: JSON.stringify({ decision: 'approve', comment: 'forged' }),
          });
          return { status: res.status, body: (await res.json()) as { error: { reason: string } } };
        },
        { path, headers },
      );
    const forged = await attempt({});
    expect(forged.status).toBe(403);
    expect(forged.body.error.reason).toBe('CSRF_TOKEN_INVALID');
    const wrong = await attempt({ 'X-CSRF-Token': 'not-the-token' });
    expect(wrong.status).toBe(403);
    // The cookie still reads (GET needs no token), and nothing was decided.
    const read = await page.evaluate(async (p) => (await fetch(p)).status, `/api/cases/${encodeURIComponent(caseId)}`);
    expect(read).toBe(200);
    const detail = await api('GET', `/api/cases/${encodeURIComponent(caseId)}`, 'gov_demo_approver');
    expect(detail.body.case.stage).toBe('awaiting_approval');

    // A cookie sent from another site's page (its Origin) is refused even with a token.
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'gov_session')!;
    expect(session.httpOnly).toBe(true);
    expect(session.sameSite).toBe('Strict');
    const who = (await (
      await fetch(`${product.url}/console/session`, { headers: { cookie: `gov_session=${session.value}` } })
    ).json()) as { csrfToken: string };
    const crossSite = await fetch(`${product.url}${path}`, {
      method: 'POST',
      headers: {
        cookie: `gov_session=${session.value}`,
        origin: 'http://evil.example',
        'x-csrf-token': who.csrfToken,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ decision: 'approve' }),
    });
    expect(crossSite.status).toBe(403);
    expect(((await crossSite.json()) as { error: { reason: string } }).error.reason).toBe('CSRF_ORIGIN_MISMATCH');

    // Signed out, the cookie opens nothing.
    const out = await fetch(`${product.url}/console/session`, {
      method: 'DELETE',
      headers: { cookie: `gov_session=${session.value}`, 'x-csrf-token': who.csrfToken },
    });
    expect(out.status).toBe(204);
    const after = await fetch(`${product.url}/api/me`, { headers: { cookie: `gov_session=${session.value}` } });
    expect(after.status).toBe(401);
    expect(((await after.json()) as { error: { reason: string } }).error.reason).toBe('SESSION_EXPIRED');
  });

  it(`locks an account after ${MAX_FAILED_PASSWORDS} wrong passwords, even for the right one`, async () => {
    const page = await newPage();
    for (let attempt = 1; attempt <= MAX_FAILED_PASSWORDS; attempt++) {
      await signIn(page, 'sun.legal', `wrong-password-${attempt}`);
      const refusal = page.getByTestId('refusal');
      await refusal.waitFor();
      const text = await refusal.textContent();
      if (attempt < MAX_FAILED_PASSWORDS) expect(text).toContain('Wrong user id or password.');
      else expect(text).toContain('This account is locked after too many wrong passwords.');
    }
    await screenshot(page, 'locked-en');
    const right = await fetch(`${product.url}/console/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: 'sun.legal', password: DEMO_PASSWORD }),
    });
    expect(right.status).toBe(429);
    expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(60);
    expect(((await right.json()) as { error: { reason: string } }).error.reason).toBe('ACCOUNT_LOCKED');
    expect(right.headers.get('set-cookie')).toBeNull();
    // API tokens keep working for systems.
    expect((await api('GET', '/api/me', 'gov_demo_legal')).status).toBe(200);

    // A sign-in without its fields is 400 naming them, in the one envelope.
    const bad = await fetch(`${product.url}/console/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: '', password: 42 }),
    });
    expect(bad.status).toBe(400);
    const badBody = (await bad.json()) as { error: { code: string; details: Array<{ field: string }> } };
    expect(badBody.error.code).toBe('BAD_REQUEST');
    expect(badBody.error.details.map((d) => d.field)).toEqual(['body.login', 'body.password']);
  });

  it('an admin sets a password: it replaces the demo password, ends the user’s sessions, and is audited', async () => {
    const signInWith = (password: string) =>
      fetch(`${product.url}/console/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ login: 'qian.hui@example.com', password }),
      });
    const before = await signInWith(DEMO_PASSWORD);
    expect(before.status).toBe(200);
    const cookie = before.headers.get('set-cookie')!.split(';')[0]!;
    expect(before.headers.get('set-cookie')).toMatch(/HttpOnly/i);
    expect(before.headers.get('set-cookie')).toMatch(/SameSite=Strict/i);
    expect((await fetch(`${product.url}/api/me`, { headers: { cookie } })).status).toBe(200);

    await expect(setPassword(product.database.db, 'qian.audit', 'too short', { actorId: 'admin' })).rejects.toThrow(
      /at least 12 characters/,
    );
    await setPassword(product.database.db, 'qian.audit', 'correct horse battery staple', { actorId: 'admin' });
    expect((await fetch(`${product.url}/api/me`, { headers: { cookie } })).status).toBe(401);
    expect((await signInWith(DEMO_PASSWORD)).status).toBe(401);
    const after = await signInWith('correct horse battery staple');
    expect(after.status).toBe(200);
    expect(((await after.json()) as { user: { id: string } }).user.id).toBe('qian.audit');
    const events = await api('GET', '/api/audit/events?action=user.password_set', 'gov_demo_auditor');
    expect(JSON.stringify(events.body)).toContain('qian.audit');
    // The database holds an scrypt hash, never the password.
    const [credential] = await product.database.db
      .select()
      .from(consoleCredentials)
      .where(eq(consoleCredentials.userId, 'qian.audit'));
    expect(credential!.passwordHash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(credential!.passwordHash).not.toContain('horse');
  });
});
