/**
 * What a console test file needs around its browser: the product (API,
 * worker, console build) on its own port, one Chromium for the file, a
 * signed-in page per user, a JSON (or multipart) API client, and the
 * workflows the file started ended after it (the dev server is shared).
 */
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { DEMO_PASSWORD } from '../../api/session';
import { ensureConsoleBuild } from '../../scripts/web-build';
import { launchBrowser } from './browser';
import { useProduct } from './product';

export function useConsole(name: string) {
  const product = useProduct(name);
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  /** Workflows the file started: terminated after it. */
  const started: string[] = [];

  beforeAll(async () => {
    await ensureConsoleBuild({ log: () => undefined });
    browser = await launchBrowser();
  }, 300_000);

  afterAll(async () => {
    for (const id of started)
      await product.temporal?.workflow
        .getHandle(id)
        .terminate(`${name} done`)
        .catch(() => undefined);
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
  });

  /** The API as a system calls it: a bearer token, a JSON body or FormData. */
  async function api(method: string, path: string, token: string, body?: unknown) {
    const form = body instanceof FormData;
    const res = await fetch(`${product.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body && !form ? { 'content-type': 'application/json' } : {}),
      },
      body: form ? body : body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  /** A fresh browser context (en-US, UTC), signed in as a demo user with the demo password. */
  async function signedIn(login: string): Promise<Page> {
    const context = await browser!.newContext({
      locale: 'en-US',
      timezoneId: 'UTC',
      viewport: { width: 1400, height: 1000 },
    });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    await page.goto(`${product.url}/console/`);
    await page.locator('#login').fill(login);
    await page.locator('#password').fill(DEMO_PASSWORD);
    await page.locator('button[type=submit]').click();
    await page.getByTestId('whoami').waitFor();
    return page;
  }

  /** Opens an Ant Design Select (its control given) and picks the option titled `option`. */
  async function choose(page: Page, control: Locator, option: string) {
    await control.click();
    await page
      .locator(`.ant-select-dropdown:not(.ant-select-dropdown-hidden) .ant-select-item-option[title="${option}"]`)
      .click();
  }

  return { product, api, signedIn, choose, started };
}
