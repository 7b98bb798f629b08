/**
 * The console's admin and manager screens in a real browser (Debian's
 * Chromium, playwright-core) against the product as `npm start` runs it
 * (issue 13 §4): an admin creates a user, changes their roles, issues them a
 * token (shown once) that works against GET /api/me until it is revoked from
 * the same page; a non-admin has no such menu and sees the API's 403; a
 * manager regrades an incident from its case page (up at once, down as a
 * request, a second downgrade refused with the API's message); the downgrade's
 * approval shows its four-eyes progress after the first vote; stage names are
 * words in both languages. axe-core finds no serious violation.
 */
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { apiTokens, cases, tasks, users } from '../../db/schema';
import { PROCESS_LABELS, PROCESS_STAGES } from '../../web/src/api/processes';
import { PROCESS_NAMES, PROCESS_STAGE_LABELS, STAGE_LABELS, stageLabelOf } from '../../web/src/stages';
import { screenshot, seriousAxeViolations } from '../support/browser';
import { useConsole } from '../support/console';
import { IMPACT } from '../support/drive';

const { product, api, signedIn, choose: pick, started } = useConsole('consoleadmin');
const tag = randomUUID().slice(0, 6);

const db = () => product.database.db;

/** Picks the option titled `option` of the Select whose control has this id. */
const choose = (page: Page, scope: Locator, controlId: string, option: string) =>
  pick(page, scope.locator(`#${controlId}`), option);

/**
 * axe-core's serious violations once the page is still: no Select dropdown
 * open (an open dropdown's listbox has no accessible name, the library's) and
 * no toast fading out (mid-animation its text is translucent, which axe
 * measures as low contrast).
 */
async function axe(page: Page) {
  await expect
    .poll(() => page.locator('.ant-select-dropdown:visible, .ant-message-notice').count(), { timeout: 15_000 })
    .toBe(0);
  return seriousAxeViolations(page);
}

async function until<T>(what: string, read: () => Promise<T | undefined | null | false>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('users and tokens for admins', () => {
  it('an admin creates a user, changes their roles, issues a token that works, and revokes it', async () => {
    const page = await signedIn('admin');
    await page.getByRole('menuitem', { name: 'Users and tokens' }).click();
    await page.waitForURL(/\/console\/users$/);
    const table = page.getByTestId('users');
    await table
      .locator('code')
      .filter({ hasText: /^li\.manager$/ })
      .waitFor();
    expect(await axe(page)).toEqual([]);

    // Create.
    const userId = `t.${tag}`;
    await page.getByRole('button', { name: 'New user' }).click();
    const dialog = page.getByRole('dialog');
    const form = dialog.getByTestId('user-form');
    await form.getByLabel('User id').fill(userId);
    await form.getByLabel('Name').fill(`Test user ${tag}`);
    await form.getByLabel('E-mail').fill(`${userId}@example.com`);
    await choose(page, form, 'user_roles', 'Action owner');
    await dialog.locator('.ant-modal-title').click();
    await choose(page, form, 'user_managerId', 'li.manager · Li Wei (运营负责人)');
    expect(await axe(page)).toEqual([]);
    await screenshot(page, 'users-new');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await dialog.waitFor({ state: 'detached' });
    const created = await until('the user row', async () =>
      (await db().select().from(users).where(eq(users.id, userId))).at(0),
    );
    expect(created).toMatchObject({
      name: `Test user ${tag}`,
      email: `${userId}@example.com`,
      roles: ['action_owner'],
      managerId: 'li.manager',
      active: true,
    });

    // Change roles (PATCH): add auditor.
    await page.getByRole('button', { name: `Change ${userId}` }).click();
    const edit = page.getByRole('dialog');
    await choose(page, edit, 'user_roles', 'Auditor (read-only)');
    await edit.locator('.ant-modal-title').click();
    await edit.getByRole('button', { name: 'Save' }).click();
    await edit.waitFor({ state: 'detached' });
    await until('the roles changed', async () => {
      const [row] = await db().select().from(users).where(eq(users.id, userId));
      return row?.roles.length === 2 && row;
    });
    expect((await db().select().from(users).where(eq(users.id, userId)))[0]!.roles.sort()).toEqual([
      'action_owner',
      'auditor',
    ]);

    // Issue a token: shown once, with a copy button; it works against GET /api/me.
    await page.getByRole('button', { name: `API tokens ${userId}` }).click();
    const drawer = page.getByTestId('tokens-drawer');
    await drawer.getByLabel('Label').fill('ci pipeline');
    await drawer.getByRole('button', { name: 'Issue a token' }).click();
    const secret = (await drawer.getByTestId('issued-token').textContent())!.trim();
    expect(secret.length).toBeGreaterThan(20);
    expect(await drawer.locator('.ant-typography-copy').count()).toBe(1);
    await drawer.getByTestId('tokens').getByText('ci pipeline').waitFor();
    expect(await axe(page)).toEqual([]);
    await screenshot(page, 'users-token-issued');
    const me = await api('GET', '/api/me', secret);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: userId, roles: expect.arrayContaining(['action_owner', 'auditor']) });
    // Stored as a hash, never the secret.
    const [stored] = await db().select().from(apiTokens).where(eq(apiTokens.userId, userId));
    expect(stored!.tokenHash).not.toContain(secret);
    expect(stored!.revokedAt).toBeNull();

    // Revoke from the list: 401 at once.
    await drawer.getByRole('button', { name: 'Revoke ci pipeline' }).click();
    await page.locator('.ant-popconfirm').getByRole('button', { name: 'Revoke' }).click();
    await drawer.getByTestId('tokens').getByText('Revoked', { exact: true }).waitFor();
    expect((await api('GET', '/api/me', secret)).status).toBe(401);
    const [revoked] = await db().select().from(apiTokens).where(eq(apiTokens.id, stored!.id));
    expect(revoked!.revokedAt).toBeInstanceOf(Date);
    // The "Revoked" toast lies over the drawer's Close button, and a hovered toast stays: move the
    // mouse away and let it go first (clicking through it waited for ever on a loaded machine).
    await page.mouse.move(0, 900);
    await expect.poll(() => page.locator('.ant-message-notice').count(), { timeout: 30_000 }).toBe(0);
    await drawer.getByRole('button', { name: 'Close', exact: true }).click();

    // Deactivate: the row says so and the database agrees.
    await page.getByRole('button', { name: `Deactivate ${userId}` }).click();
    const deactivate = page.getByRole('dialog');
    await deactivate.getByLabel('Reason (kept in the audit log)').fill('left the company');
    await deactivate.getByRole('button', { name: 'Deactivate' }).click();
    await page.getByRole('button', { name: `Reactivate ${userId}` }).waitFor();
    expect((await db().select().from(users).where(eq(users.id, userId)))[0]!.active).toBe(false);
  }, 180_000);

  it('a non-admin has no users menu, and the page shows the API’s 403', async () => {
    const page = await signedIn('li.manager');
    await page.getByRole('menuitem', { name: 'Cases' }).waitFor();
    expect(await page.getByRole('menuitem', { name: 'Users and tokens' }).count()).toBe(0);
    await page.goto(`${product.url}/console/users`);
    const refusal = page.getByTestId('refusal');
    await refusal.waitFor();
    const direct = await api('GET', '/api/users/li.manager/tokens', 'gov_demo_manager');
    expect(direct.status).toBe(403);
    await expect.poll(() => refusal.textContent()).toContain(direct.body.error.message);
    expect(await refusal.textContent()).toContain('Only administrators manage users and tokens.');
    expect(await page.getByRole('button', { name: 'New user' }).count()).toBe(0);
    expect(await axe(page)).toEqual([]);
  }, 120_000);
});

describe('regrade and four-eyes on the case page', () => {
  it('a manager regrades an incident up and asks to downgrade it; the downgrade’s approval shows its first vote', async () => {
    const incidentId = `CA-${tag}`;
    const reported = await api('POST', '/api/incidents', 'gov_demo_manager', {
      incidentId,
      title: `Console regrade ${tag}`,
      category: 'system_failure',
      system: `console-admin-${tag}`,
      occurredAt: new Date(Date.now() - 60_000).toISOString(),
      impact: IMPACT.III,
    });
    expect(reported.status, JSON.stringify(reported.body)).toBe(201);
    expect(reported.body.grade).toBe('III');
    const caseId = `incident:${incidentId}`;
    started.push(caseId);
    const grade = async () =>
      ((await db().select().from(cases).where(eq(cases.id, caseId)))[0]?.data as { grade?: string }).grade;

    const page = await signedIn('li.manager');
    await page.goto(`${product.url}/console/cases/${encodeURIComponent(caseId)}`);
    const card = page.getByTestId('regrade');
    await expect.poll(() => card.getByTestId('incident-grade').textContent()).toBe('Grade III');
    expect(await axe(page)).toEqual([]);

    // Up: at once.
    await choose(page, card, 'regrade_grade', 'Grade II');
    await card.getByLabel('Reason').fill('More users affected than first reported');
    await card.getByRole('button', { name: 'Regrade' }).click();
    await until('grade II', async () => (await grade()) === 'II');
    await expect.poll(() => card.getByTestId('incident-grade').textContent()).toBe('Grade II');

    // Down: a request, the grade unchanged, an approval task opened.
    await choose(page, card, 'regrade_grade', 'Grade III');
    await card.getByLabel('Reason').fill('Fewer users than the second count said');
    await card.getByRole('button', { name: 'Regrade' }).click();
    await page.getByText('Downgrade requested: it awaits approval').waitFor();
    const taskId = `${caseId}:downgrade-1`;
    const task = await until('the downgrade task', async () =>
      (await db().select().from(tasks).where(eq(tasks.id, taskId))).at(0),
    );
    expect(task).toMatchObject({ status: 'open', approvalsRequired: 2 });
    expect(await grade()).toBe('II');
    await card.getByText('A downgrade awaits approval').waitFor();

    // A second downgrade while the first waits: refused, with the API's message.
    await choose(page, card, 'regrade_grade', 'Grade IV');
    await card.getByLabel('Reason').fill('Even fewer');
    await card.getByRole('button', { name: 'Regrade' }).click();
    const refusal = card.getByTestId('refusal');
    await refusal.waitFor();
    const direct = await api('POST', `/api/incidents/${incidentId}/regrade`, 'gov_demo_manager', {
      grade: 'IV',
      reason: 'Even fewer',
    });
    expect(direct.status).toBe(409);
    expect(await refusal.textContent()).toContain(direct.body.error.message);
    expect(await refusal.textContent()).toContain('The regrade was refused');
    expect(await grade()).toBe('II');

    // Four-eyes: nothing yet, then the first vote (risk) lands and the page shows what is missing.
    const progress = page.locator(`[data-testid="four-eyes"][data-task-id="${taskId}"]`);
    await expect.poll(() => progress.getByTestId('four-eyes-count').textContent()).toBe('0 of 2 approvals');
    const vote = await api('POST', `/api/tasks/${encodeURIComponent(taskId)}/decision`, 'gov_demo_approver', {
      decision: 'approve',
      comment: 'Counts confirmed',
    });
    expect(vote.status, JSON.stringify(vote.body)).toBe(200);
    await expect
      .poll(() => progress.getByTestId('four-eyes-count').textContent(), { timeout: 20_000 })
      .toBe('1 of 2 approvals');
    const [voted] = await db().select().from(tasks).where(eq(tasks.id, taskId));
    expect(voted!.votes).toMatchObject([{ userId: 'wang.approver', function: 'risk', decision: 'approve' }]);
    const row = progress.locator('tr', { hasText: 'wang.approver' });
    expect(await row.textContent()).toContain('Risk control (second line)');
    expect(await row.textContent()).toContain('Counts confirmed');
    const missing = (await progress.getByTestId('four-eyes-missing').textContent())!;
    expect(missing).toContain('one more approval');
    expect(missing).toContain('Compliance');
    expect(missing).toContain('Legal');
    expect(missing).not.toContain('Risk control');
    expect(await axe(page)).toEqual([]);
    await screenshot(page, 'incident-regrade-four-eyes');

    // Stage names in words, in both languages.
    const stageLabel = page.getByTestId('stage-label');
    const stage = (await stageLabel.getAttribute('data-stage'))!;
    expect(await stageLabel.textContent()).toBe(stageLabelOf(stage, 'en', 'incident'));
    expect(await page.getByTestId('stages').textContent()).toContain('Awaiting approval');
    await page.getByText('中文', { exact: true }).click();
    await expect.poll(() => stageLabel.textContent()).toBe(stageLabelOf(stage, 'zh', 'incident'));
    const bar = (await page.getByTestId('stages').textContent())!;
    for (const s of PROCESS_STAGES.incident!) expect(bar).toContain(stageLabelOf(s, 'zh', 'incident'));
    expect(await progress.getByTestId('four-eyes-count').textContent()).toBe('已批准 1 / 2');
    expect(await axe(page)).toEqual([]);
    await screenshot(page, 'incident-regrade-zh');
  }, 180_000);

  it('every process and every stage of its contract has words in both languages', () => {
    for (const [process, stages] of Object.entries(PROCESS_STAGES)) {
      const name = PROCESS_LABELS[process] ?? PROCESS_NAMES[process];
      expect(name, process).toBeDefined();
      expect(name!.zh, process).toMatch(/[\u4e00-\u9fff]/);
      for (const stage of stages) {
        const label = PROCESS_STAGE_LABELS[`${process}/${stage}`] ?? STAGE_LABELS[stage];
        expect(label, `${process}/${stage}`).toBeDefined();
        expect(label!.en.trim(), `${process}/${stage}`).not.toBe('');
        expect(label!.zh).toMatch(/[\u4e00-\u9fff]/);
      }
    }
    // An override names a stage its process has.
    for (const key of Object.keys(PROCESS_STAGE_LABELS)) {
      const [process, stage] = key.split('/') as [string, string];
      expect(PROCESS_STAGES[process], key).toContain(stage);
    }
  });
});
