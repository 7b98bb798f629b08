/**
 * The Temporal UI shows a sealed history in clear through the codec server,
 * and only to a caller with an oversight token: scripts/screenshot-ui.ts
 * (the dev server with its UI, the product, Debian's Chromium) run as a test,
 * its screenshot written to a throwaway file. Needs /usr/bin/chromium and
 * fonts-noto-cjk (CI installs them; see .ci/run).
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { screenshotDecryptedHistory } from '../../scripts/screenshot-ui';

const dir = mkdtempSync(path.join(tmpdir(), 'gov-codec-ui-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the Temporal UI with the codec server', () => {
  it('shows the decoded input of a sealed case with the token, and nothing decoded without it', async () => {
    const result = await screenshotDecryptedHistory(path.join(dir, 'ui.png'));
    // The function waited for the person's name on the page before it took the screenshot.
    expect(result.codecStatuses.length).toBeGreaterThan(0);
    expect(result.codecStatuses.every((status) => status === 200)).toBe(true);
    expect(existsSync(result.file) && statSync(result.file).size).toBeGreaterThan(10_000);
    expect(result.withoutToken.codecStatuses.length).toBeGreaterThan(0);
    expect(result.withoutToken.codecStatuses.every((status) => status === 401)).toBe(true);
    expect(result.withoutToken.nameShown).toBe(false);
  }, 300_000);
});
