/**
 * The console's lists in a real browser (Debian's Chromium, playwright-core)
 * against the product as `npm start` runs it (issue 13 §4): a list shows its
 * first page, "load more" follows the API's cursor, the search and a filter
 * narrow it, a row opens its case, and the CSV and XLSX downloads hold
 * exactly the rows shown — read back from the downloaded files. axe-core
 * finds no serious violation.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { strFromU8, unzipSync } from 'fflate';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD } from '../../api/session';
import { ensureConsoleBuild } from '../../scripts/web-build';
import { launchBrowser, screenshot, seriousAxeViolations } from '../support/browser';
import { creditCodes } from '../support/drive';
import { useProduct } from '../support/product';

const product = useProduct('consolelists');
let browser: Browser;
const tag = `LST${randomUUID().slice(0, 6)}`;
const SUPPLIERS = 60;

async function api(method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`${product.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** The supplier names, as the API orders them (by name, then credit code). */
let names: string[] = [];
/** Their ids (credit codes), in the same order. */
let supplierIds: string[] = [];
let incidentCaseId = '';

beforeAll(async () => {
  await ensureConsoleBuild({ log: () => undefined });
  browser = await launchBrowser();
  const nextCode = creditCodes('91440300LK3');
  for (let i = 0; i < SUPPLIERS; i++) {
    // Chinese names with a comma and a quote in some: the CSV must keep them intact.
    const name = `${tag} 供应商 ${String(i).padStart(2, '0')}${i % 10 === 3 ? ', "华南"' : ''}`;
    const res = await api('POST', '/api/suppliers', 'gov_demo_manager', {
      creditCode: nextCode(),
      name,
      category: 'logistics',
      tier: i % 3 === 0 ? 'core' : 'general',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
  const all = await api('GET', `/api/suppliers?q=${tag}&limit=200`, 'gov_demo_auditor');
  names = all.body.items.map((s: { name: string }) => s.name);
  supplierIds = all.body.items.map((s: { id: string }) => s.id);
  expect(names).toHaveLength(SUPPLIERS);
  const incidentId = `${tag}-INC`;
  const reported = await api('POST', '/api/incidents', 'gov_demo_manager', {
    incidentId,
    title: `${tag} payment gateway down`,
    category: 'system_failure',
    system: `${tag}-gateway`,
    occurredAt: new Date(Date.now() - 60_000).toISOString(),
    impact: { affectedUsers: 50, amountCny: 0 },
  });
  expect(reported.status, JSON.stringify(reported.body)).toBe(201);
  incidentCaseId = reported.body.caseId;
}, 300_000);

afterAll(async () => {
  if (incidentCaseId)
    await product.temporal?.workflow
      .getHandle(incidentCaseId)
      .terminate('consoleLists done')
      .catch(() => undefined);
  await browser?.close();
});

async function signedIn(login: string): Promise<Page> {
  const context = await browser.newContext({
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    viewport: { width: 1400, height: 900 },
    acceptDownloads: true,
  });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  await page.goto(`${product.url}/console/`);
  await page.locator('#login').fill(login);
  await page.locator('#password').fill(DEMO_PASSWORD);
  await page.locator('button[type=submit]').click();
  await page.getByTestId('whoami').waitFor();
  return page;
}

/** The first column's text of each row the table shows. */
const shownNames = (page: Page) =>
  page
    .getByTestId('suppliers-table')
    .locator('tbody tr.ant-table-row td:first-child')
    .allInnerTexts()
    .then((t) => t.map((s) => s.trim()));

/** RFC 4180 fields, enough for what the console writes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') ((field += '"'), i++);
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') (row.push(field), (field = ''));
    else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      ((row = []), (field = ''));
      i++;
    } else field += ch;
  }
  return rows;
}

/** The cells of an XLSX's first sheet, as text (shared strings resolved). */
function readXlsx(bytes: Uint8Array): string[][] {
  const files = unzipSync(bytes);
  const sheet = strFromU8(files['xl/worksheets/sheet1.xml']!);
  const shared = files['xl/sharedStrings.xml']
    ? [...strFromU8(files['xl/sharedStrings.xml']).matchAll(/<si>([\s\S]*?)<\/si>/g)].map((m) =>
        [...m[1]!.matchAll(/<t[^>]*>([\s\S]*?)<\/t>/g)].map((t) => t[1]).join(''),
      )
    : [];
  const unescape = (s: string) =>
    s
      .replace(/&quot;/g, '"')
      .replace(/&apos;/g, "'")
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&');
  return [...sheet.matchAll(/<row[^>]*>([\s\S]*?)<\/row>/g)].map((r) =>
    [...r[1]!.matchAll(/<c ([^>]*?)(?:\/>|>([\s\S]*?)<\/c>)/g)].map((c) => {
      const attrs = c[1]!;
      const inner = c[2] ?? '';
      const value = /<v>([\s\S]*?)<\/v>/.exec(inner)?.[1];
      const inline = /<t[^>]*>([\s\S]*?)<\/t>/.exec(inner)?.[1];
      if (/t="s"/.test(attrs) && value !== undefined) return unescape(shared[Number(value)] ?? '');
      return unescape(inline ?? value ?? '');
    }),
  );
}

describe('the console lists', () => {
  it('shows a page of suppliers, loads the next by cursor, and exports exactly the rows shown', async () => {
    const page = await signedIn('zhao.auditor');
    await page.goto(`${product.url}/console/suppliers?q=${tag}`);
    const table = page.getByTestId('suppliers-table');
    await table.locator('tbody tr.ant-table-row').first().waitFor();
    // The first page: 50 rows (the API's default), in the API's order.
    expect(await shownNames(page)).toEqual(names.slice(0, 50));
    await expect.poll(() => page.getByTestId('suppliers-shown').innerText()).toContain('50');
    expect(await page.getByTestId('suppliers-shown').innerText()).toContain(String(SUPPLIERS));

    // "Load more" follows the cursor: all 60, each once, in order.
    await page.getByTestId('suppliers-more').click();
    await expect.poll(() => shownNames(page)).toEqual(names);
    expect(await page.getByTestId('suppliers-more').count()).toBe(0);

    // CSV: a UTF-8 BOM, the header, then exactly the rows shown.
    const [csvDownload] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
    expect(csvDownload.suggestedFilename()).toMatch(/^suppliers-\d{8}-\d{4}\.csv$/);
    const csvBytes = await readFile((await csvDownload.path())!);
    expect([...csvBytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const csv = parseCsv(csvBytes.subarray(3).toString('utf8'));
    expect(csv[0]![0]).toBe('名称');
    expect(csv.slice(1).map((r) => r[0])).toEqual(names);
    expect(csv.slice(1).every((r) => r.length === csv[0]!.length)).toBe(true);

    const [xlsxDownload] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-xlsx').click()]);
    expect(xlsxDownload.suggestedFilename()).toMatch(/^suppliers-\d{8}-\d{4}\.xlsx$/);
    const sheet = readXlsx(new Uint8Array(await readFile((await xlsxDownload.path())!)));
    expect(sheet[0]![0]).toBe('名称');
    expect(sheet.slice(1).map((r) => r[0])).toEqual(names);

    await screenshot(page, 'list-suppliers');
    expect(await seriousAxeViolations(page)).toEqual([]);

    // A name opens the supplier's own page (records by year, reviews, grades), reviewed yet or not.
    const rows = table.locator('tbody tr.ant-table-row');
    for (const i of [0, SUPPLIERS - 1])
      expect(await rows.nth(i).getByRole('link').first().getAttribute('href')).toBe(
        `/console/suppliers/${encodeURIComponent(supplierIds[i]!)}`,
      );
    await rows.first().getByRole('link', { name: names[0] }).click();
    await page.getByRole('heading', { level: 1, name: names[0] }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/console/suppliers/${encodeURIComponent(supplierIds[0]!)}`);
  });

  it('narrows by the search box and by a filter, and exports only what is then shown', async () => {
    const page = await signedIn('zhao.auditor');
    await page.goto(`${product.url}/console/suppliers`);
    await page.getByTestId('suppliers-table').locator('tbody tr.ant-table-row').first().waitFor();
    const search = page.getByTestId('suppliers-search').locator('input');
    await search.fill(`${tag} 供应商 1`);
    await search.press('Enter');
    const tens = names.filter((n) => n.startsWith(`${tag} 供应商 1`));
    await expect.poll(() => shownNames(page)).toEqual(tens);
    expect(page.url()).toContain('q=');

    // The tier filter (an Ant Design select): core only.
    await page.getByTestId('suppliers-filter-tier').click();
    await page.locator('.ant-select-item-option', { hasText: '核心' }).click();
    const expected = (
      await api(
        'GET',
        `/api/suppliers?q=${encodeURIComponent(`${tag} 供应商 1`)}&tier=core&limit=200`,
        'gov_demo_auditor',
      )
    ).body.items.map((s: { name: string }) => s.name);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(tens.length);
    await expect.poll(() => shownNames(page)).toEqual(expected);
    expect(page.url()).toContain('tier=core');

    const [csvDownload] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
    const csv = parseCsv((await readFile((await csvDownload.path())!)).subarray(3).toString('utf8'));
    expect(csv.slice(1).map((r) => r[0])).toEqual(expected);
    // The select's option list (unnamed, Ant Design's own) must be gone before axe looks: on a loaded
    // machine it was sometimes still open or closing.
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('.ant-select-dropdown:not(.ant-select-dropdown-hidden)').count()).toBe(0);
    expect(await seriousAxeViolations(page)).toEqual([]);
  });

  it('lists incidents and opens a row’s case; the other lists render without serious violations', async () => {
    const page = await signedIn('zhao.auditor');
    await page.goto(`${product.url}/console/incidents?q=${tag}`);
    const link = page.getByTestId('incidents-table').getByRole('link', { name: `${tag} payment gateway down` });
    await link.waitFor();
    expect(await seriousAxeViolations(page)).toEqual([]);
    await link.click();
    await page.waitForURL(`**/console/cases/${encodeURIComponent(incidentCaseId)}`);

    for (const list of ['complaints', 'drills', 'cycles', 'overdue']) {
      await page.goto(`${product.url}/console/${list}`);
      await page.getByTestId(`${list}-table`).waitFor();
      await page.getByTestId(`${list}-shown`).waitFor();
      await screenshot(page, `list-${list}`);
      expect(await seriousAxeViolations(page), list).toEqual([]);
    }
  });
});
