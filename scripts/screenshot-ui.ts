/**
 * `npm run screenshot:ui`: a screenshot of the Temporal UI showing a sealed
 * case history in clear, through the API's codec server
 * (docs/images/temporal-ui-decrypted.png, for the README).
 *
 * Starts what `npm start` starts — the dev server with its UI pointed at the
 * codec server (`--ui-codec-endpoint`), the product with its worker and API —
 * on free ports, with embedded PGlite and a fresh key in a throwaway data
 * folder; opens one approval request carrying a person's name, decides it,
 * and opens its history in headless Chromium.
 *
 * The codec server wants an oversight token. A Temporal UI with a login
 * passes the user's access token ("pass access token" in its codec settings);
 * the dev server's UI has no login, so the browser here adds the header to
 * the codec calls itself (page.route), standing in for that token.
 *
 * Needs /usr/bin/chromium (Debian: apt-get install -y chromium fonts-noto-cjk),
 * or CHROMIUM_PATH.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { generateCodecKey } from '../platform/codec';
import { loadSettings, PROJECT_ROOT } from '../platform/config';
import { startDevServer } from '../platform/devServer';
import { startProduct } from './start';

export const SCREENSHOT = path.join(PROJECT_ROOT, 'docs', 'images', 'temporal-ui-decrypted.png');
/** Internal audit reads every case, so the codec server answers it (api/routes/codec.ts). */
const OVERSIGHT_TOKEN = 'gov_demo_internal_audit';
const PERSON_NAME = 'Evangeline Thistlewood';
const PERSON = `${PERSON_NAME} (欧阳娜娜)`;

const log = (line: string) => console.log(`[screenshot] ${line}`);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface ScreenshotResult {
  file: string;
  caseId: string;
  /** The codec server's answers to the UI with the token added: all 200. */
  codecStatuses: number[];
  /** The same history opened without the token: the codec server's answers (401) and whether the name showed. */
  withoutToken: { codecStatuses: number[]; nameShown: boolean };
}

export async function screenshotDecryptedHistory(file = SCREENSHOT): Promise<ScreenshotResult> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gov-screenshot-'));
  const [apiPort, temporalPort, uiPort] = [await freePort(), await freePort(), await freePort()];
  const uiUrl = `http://localhost:${uiPort}`;
  const api = `http://localhost:${apiPort}`;
  const cleanups: Array<() => Promise<unknown>> = [async () => rmSync(dataDir, { recursive: true, force: true })];
  try {
    log(`starting the Temporal dev server, its UI on ${uiUrl} decoding through ${api}/codec…`);
    const devServer = await startDevServer({ port: temporalPort, uiPort, uiCodecEndpoint: `${api}/codec`, log });
    cleanups.push(() => devServer.teardown());
    const settings = {
      ...loadSettings({}),
      dataDir,
      port: apiPort,
      temporalUiUrl: uiUrl,
      codecKeys: generateCodecKey('screenshot'),
    };
    log('starting the product (embedded PGlite, worker, API)…');
    const product = await startProduct({ ...settings, temporalAddress: devServer.address, seedDemoUsers: true, log });
    cleanups.push(() => product.stop());

    const call = async (method: string, route: string, token: string, body?: unknown) => {
      const res = await fetch(`${api}${route}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = (await res.json()) as Record<string, any>;
      if (!res.ok) throw new Error(`${method} ${route} answered ${res.status}: ${JSON.stringify(json)}`);
      return json;
    };
    const started = await call('POST', '/api/cases/approval-requests', 'gov_demo_manager', {
      requestKey: `SCREENSHOT-${Date.now()}`,
      title: 'Onboard courier partner · 新增快递合作方',
      description: `Contact at the courier: ${PERSON}, mobile +86 138 0013 8000`,
      probability: 4,
      impact: 3,
    });
    const caseId: string = started.caseId;
    await call('POST', `/api/tasks/${encodeURIComponent(`${caseId}:approval`)}/decision`, 'gov_demo_compliance', {
      decision: 'approve',
      comment: `Contract checked with ${PERSON}`,
    });
    const { runId } = await product.temporal.workflow.getHandle(caseId).describe();

    log('opening the history in Chromium…');
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    cleanups.push(() => browser.close());
    const page = await browser.newPage({ viewport: { width: 1440, height: 1100 }, deviceScaleFactor: 1 });
    // Stands in for the access token a UI with a login would pass to the codec server.
    await page.route(`${api}/codec/**`, (route) =>
      route.continue({ headers: { ...route.request().headers(), authorization: `Bearer ${OVERSIGHT_TOKEN}` } }),
    );
    const decoded: number[] = [];
    page.on('response', (res) => {
      if (res.url().startsWith(`${api}/codec/decode`)) decoded.push(res.status());
    });
    await page.goto(`${uiUrl}/namespaces/default/workflows/${encodeURIComponent(caseId)}/${runId}/history`);
    await page.getByText(PERSON_NAME).first().waitFor({ timeout: 60_000 });
    if (!decoded.length || decoded.some((status) => status !== 200)) {
      throw new Error(`the codec server answered ${decoded.join(', ') || 'nothing'}`);
    }
    await page.waitForTimeout(1_000);
    mkdirSync(path.dirname(file), { recursive: true });
    await page.screenshot({ path: file, fullPage: false });
    log(`saved ${path.relative(PROJECT_ROOT, file)} (case ${caseId}; ${decoded.length} codec calls, all 200)`);

    // The same page without the token: the codec server refuses, the UI shows the payloads still sealed.
    const bare = await browser.newPage({ viewport: { width: 1440, height: 1100 } });
    const refused: number[] = [];
    bare.on('response', (res) => {
      if (res.url().startsWith(`${api}/codec/decode`)) refused.push(res.status());
    });
    await bare.goto(`${uiUrl}/namespaces/default/workflows/${encodeURIComponent(caseId)}/${runId}/history`);
    await bare.waitForResponse((res) => res.url().startsWith(`${api}/codec/decode`), { timeout: 60_000 });
    await bare.waitForTimeout(2_000);
    const nameShown = (await bare.getByText(PERSON_NAME).count()) > 0;
    log(`without the token: codec answered ${refused.join(', ')}; name shown: ${nameShown}`);
    return { file, caseId, codecStatuses: decoded, withoutToken: { codecStatuses: refused, nameShown } };
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((err) => console.error('[screenshot]', err));
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  screenshotDecryptedHistory().then(
    ({ withoutToken }) => {
      if (withoutToken.nameShown || withoutToken.codecStatuses.some((status) => status !== 401)) {
        console.error('[screenshot] without a token the UI must not show the decoded name:', withoutToken);
        process.exit(1);
      }
      process.exit(0);
    },
    (err) => {
      console.error('[screenshot] failed:', err);
      process.exit(1);
    },
  );
}
