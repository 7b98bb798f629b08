/**
 * The console's dashboard in a real browser (Debian's Chromium,
 * playwright-core) against the product as `npm start` runs it: the charts
 * render with their labels, a chart element and a row of its figures open the
 * filtered list that shows the case behind them, the page switches between
 * zh-CN and en-US, and axe-core finds nothing serious.
 */
import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD } from '../../api/session';
import { ensureConsoleBuild } from '../../scripts/web-build';
import { launchBrowser, screenshot, seriousAxeViolations } from '../support/browser';
import { useProduct } from '../support/product';

const product = useProduct('consoleDashboards');
let browser: Browser;
const contexts: BrowserContext[] = [];

async function api(method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`${product.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** A high-risk approval request (rated 4 × 4) by the demo manager: open, awaiting its two approvers. */
const highTitle = `Dashboard high ${randomUUID().slice(0, 6)}`;
let highCaseId: string;

beforeAll(async () => {
  await ensureConsoleBuild({ log: () => undefined });
  browser = await launchBrowser();
  const res = await api('POST', '/api/cases/approval-requests', 'gov_demo_manager', {
    requestKey: `DASH-${randomUUID().slice(0, 8)}`,
    title: highTitle,
    probability: 4,
    impact: 4,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  expect(res.body.riskLevel).toBe('high');
  highCaseId = res.body.caseId;
}, 300_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
});

async function newPage(): Promise<Page> {
  const context = await browser.newContext({
    locale: 'en-US',
    timezoneId: 'Europe/London',
    viewport: { width: 1280, height: 900 },
  });
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  return page;
}

async function signedIn(page: Page, login: string): Promise<void> {
  await page.goto(`${product.url}/console/`);
  await page.locator('#login').fill(login);
  await page.locator('#password').fill(DEMO_PASSWORD);
  await page.locator('button[type=submit]').click();
  await page.getByTestId('whoami').waitFor();
}

const CHARTS = [
  'chart-open-cases',
  'chart-overdue',
  'chart-heat-map',
  'chart-suppliers',
  'chart-complaint-sla',
  'chart-incidents',
  'chart-drills',
];

/** The chart's list of cases shows the high-risk case. */
async function listShowsCase(page: Page) {
  await page.waitForURL(/\/console\/cases\?/);
  await page.getByTestId('cases-table').getByRole('link', { name: highTitle }).waitFor();
}

describe('the dashboard', () => {
  it('is reached from the menu and draws every chart, each a labelled image with its figures', async () => {
    const page = await newPage();
    await signedIn(page, 'li.manager');
    await page.getByRole('menuitem', { name: 'Dashboard' }).click();
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/console/dashboard');
    for (const id of CHARTS) await page.getByTestId(id).waitFor();
    // The charts with figures are drawn (SVG), labelled by their title.
    for (const [id, title] of [
      ['chart-open-cases', 'Open cases by process and stage'],
      ['chart-heat-map', 'Probability × impact: open risks and cases'],
      ['chart-incidents', 'Incidents by grade'],
    ] as const) {
      const chart = page.getByTestId(`${id}-chart`);
      await chart.locator('svg').first().waitFor();
      expect(await chart.getAttribute('role')).toBe('img');
      expect(await chart.getAttribute('aria-label')).toContain(title);
      expect(await page.getByTestId(id).getByRole('heading', { level: 2 }).textContent()).toBe(title);
    }
    // The open-cases bar of approval requests awaiting approval, as the API counts it.
    const overview = await api('GET', '/api/dashboards/overview', 'gov_demo_manager');
    const bar = overview.body.openCases.find(
      (r: { process: string; stage: string }) => r.process === 'approval_request' && r.stage === 'awaiting_approval',
    );
    expect(bar.count).toBeGreaterThanOrEqual(1);
    const card = page.getByTestId('chart-open-cases');
    await card.getByText('Figures').click();
    const row = card.getByTestId('chart-open-cases-table').locator('tr', { hasText: 'awaiting approval' });
    await row.waitFor();
    expect(await row.locator('td').last().textContent()).toBe(String(bar.count));
    await screenshot(page, 'dashboard-en');

    // A row of the figures opens the list behind its bar: that process, that stage, open.
    await row.getByRole('link').click();
    await listShowsCase(page);
    const params = new URL(page.url()).searchParams;
    expect(Object.fromEntries(params)).toEqual({
      process: 'approval_request',
      stage: 'awaiting_approval',
      status: 'open',
    });
    expect(await page.getByTestId('cases-total').textContent()).toBe(`${bar.count} cases`);
    await screenshot(page, 'dashboard-cases-filtered');
  });

  it('a click on a heat-map cell opens the open cases of its level', async () => {
    const page = await newPage();
    await signedIn(page, 'li.manager');
    await page.goto(`${product.url}/console/dashboard`);
    const chart = page.getByTestId('chart-heat-map-chart');
    // The 4 × 4 cell holds the one rated case and no risk: its label reads "R0 C1".
    const cell = chart.locator('svg text', { hasText: /^R0 C1$/ });
    await cell.waitFor();
    expect(await cell.count()).toBe(1);
    await cell.click();
    await listShowsCase(page);
    expect(Object.fromEntries(new URL(page.url()).searchParams)).toEqual({ status: 'open', riskLevel: 'high' });
  });

  it('the cases list honours the filters in its URL', async () => {
    const page = await newPage();
    await signedIn(page, 'li.manager');
    const base = `${product.url}/console/cases?process=approval_request&stage=awaiting_approval&status=open`;
    await page.goto(base);
    await listShowsCase(page);
    // The controls show the filters of the URL.
    const filters = page.getByTestId('case-filters');
    await filters.getByText('Approval request').waitFor();
    await filters.getByText('awaiting approval').waitFor();
    // Another level, another list: the high-risk case is not in the low ones.
    await page.goto(`${base}&riskLevel=low`);
    // This product's only open approval request is high risk: the low list is empty.
    await page.getByTestId('cases-table').getByText('Nothing here').waitFor();
    await expect.poll(() => page.getByTestId('cases-table').getByRole('link', { name: highTitle }).count()).toBe(0);
    // The owner filter, shown as a tag that clears it.
    await page.goto(`${product.url}/console/cases?ownerId=li.manager&status=open`);
    await listShowsCase(page);
    await page.getByTestId('filter-owner').getByText('Owner: li.manager').waitFor();
    expect(highCaseId).toMatch(/^approval-request:/);
  });

  it('switches to zh-CN and back, titles and chart labels with it', async () => {
    const page = await newPage();
    await signedIn(page, 'li.manager');
    await page.goto(`${product.url}/console/dashboard`);
    await page.getByTestId('chart-open-cases-chart').locator('svg').first().waitFor();
    await page.getByText('中文', { exact: true }).click();
    await page.getByRole('heading', { level: 1, name: '仪表盘' }).waitFor();
    await page.getByRole('menuitem', { name: '仪表盘' }).waitFor();
    const title = '按流程和阶段统计的在办案件';
    expect(await page.getByTestId('chart-open-cases').getByRole('heading', { level: 2 }).textContent()).toBe(title);
    await expect.poll(() => page.getByTestId('chart-open-cases-chart').getAttribute('aria-label')).toContain(title);
    await page.getByTestId('chart-incidents-chart').locator('svg text', { hasText: 'III 级' }).first().waitFor();
    await screenshot(page, 'dashboard-zh');
    await page.getByText('English', { exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
  });

  it('is read by auditors too, and axe-core finds no serious or critical violation', async () => {
    const page = await newPage();
    await signedIn(page, 'zhao.auditor');
    await page.goto(`${product.url}/console/dashboard`);
    await page.getByTestId('chart-open-cases-chart').locator('svg').first().waitFor();
    for (const id of CHARTS) await page.getByTestId(id).waitFor();
    // With a table of figures open as well.
    await page.getByTestId('chart-heat-map').getByText('Figures').click();
    await page.getByTestId('chart-heat-map-table').waitFor();
    expect(await seriousAxeViolations(page)).toEqual([]);
    // The charts with a list screen of their own link there, filtered: incidents by grade and status.
    await page.getByTestId('chart-incidents').getByText('Figures').click();
    const links = page.getByTestId('chart-incidents-table').getByRole('link');
    expect(await links.first().getAttribute('href')).toBe('/console/incidents?grade=I&status=open');
    await page.goto(`${product.url}/console/cases?process=approval_request&status=open&riskLevel=high`);
    await listShowsCase(page);
    expect(await seriousAxeViolations(page)).toEqual([]);
  });
});
