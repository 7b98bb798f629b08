/**
 * API tokens expire, can be listed without their secret, and can be revoked
 * by an admin, audited (issue 11 §9). On the real app and PostgreSQL: each
 * refusal shows its status and reason and leaves the database as it was
 * (no workflow is involved, so there is no history to compare).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { openDatabase } from '../../db/client';
import { migrate, MIGRATIONS_FOLDER } from '../../db/migrate';
import { databaseSnapshot } from '../support/drive';
import { databaseUrl } from '../support/globalSetup';
import { TEST_USERS, useHarness, type TestUser } from '../support/harness';

const h = useHarness('tokens');

const DAY = 24 * 60 * 60 * 1000;
const NON_ADMINS = (Object.keys(TEST_USERS) as TestUser[]).filter((r) => r !== 'admin');

/** Issues a token to `userId` as the admin; returns the API's answer body. */
async function issue(userId: string, json: Record<string, unknown> = { label: h.unique('t') }) {
  const res = await h.api('POST', `/api/users/${userId}/tokens`, { as: 'admin', json });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; token: string; userId: string; label: string; createdAt: string; expiresAt: string };
}

/** Milliseconds from now to an ISO date. */
const fromNow = (iso: string) => new Date(iso).getTime() - Date.now();

async function auditEvents(action: string, tokenId: string) {
  return h.sql(`select actor_id, reason, payload from audit_events where action = $1 and payload->>'tokenId' = $2`, [
    action,
    tokenId,
  ]);
}

describe('tokens expire', () => {
  it('a new token is valid for 90 days by default, and says so', async () => {
    const issued = await issue(TEST_USERS.approver.id);
    expect(fromNow(issued.expiresAt)).toBeGreaterThan(90 * DAY - 60_000);
    expect(fromNow(issued.expiresAt)).toBeLessThanOrEqual(90 * DAY);
    const [row] = await h.sql(`select expires_at, created_at from api_tokens where id = $1`, [issued.id]);
    expect(row.expires_at.toISOString()).toBe(issued.expiresAt);
    expect(row.expires_at.getTime() - row.created_at.getTime()).toBeGreaterThan(90 * DAY - 60_000);
    const [event] = await auditEvents('token.issued', issued.id);
    expect(event).toEqual({
      actor_id: 'admin',
      reason: null,
      payload: { tokenId: issued.id, userId: TEST_USERS.approver.id, label: issued.label, expiresAt: issued.expiresAt },
    });
    expect((await h.api('GET', '/api/me', { token: issued.token })).body.id).toBe(TEST_USERS.approver.id);
  });

  it('an expired token gets 401 TOKEN_EXPIRED, naming when it expired, and nothing is written', async () => {
    const issued = await issue(TEST_USERS.owner.id);
    const [{ expires_at: expiredAt }] = await h.sql(
      `update api_tokens set expires_at = now() - interval '1 minute' where id = $1 returning expires_at`,
      [issued.id],
    );
    const before = await databaseSnapshot(h);
    for (const [method, path, json] of [
      ['GET', '/api/me', undefined],
      ['GET', '/api/tasks/inbox', undefined],
      ['POST', '/api/users/owner/tokens', { label: 'self-service' }],
    ] as const) {
      const res = await h.api(method, path, { token: issued.token, json });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(res.body.error).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_EXPIRED' });
      expect(res.body.error.message).toBe(
        `the API token expired at ${expiredAt.toISOString()}; ask an admin for a new one`,
      );
    }
    expect(await databaseSnapshot(h)).toEqual(before);
    // The same token, its expiry moved on: valid again (what decides is the expiry, nothing else).
    await h.sql(`update api_tokens set expires_at = now() + interval '1 minute' where id = $1`, [issued.id]);
    expect((await h.api('GET', '/api/me', { token: issued.token })).status).toBe(200);
  });

  it('the admin may choose a shorter or a longer validity, from 1 to 365 days', async () => {
    for (const days of [1, 7, 365]) {
      const issued = await issue(TEST_USERS.legal.id, { label: `${days} days`, expiresInDays: days });
      expect(fromNow(issued.expiresAt), `${days} days`).toBeGreaterThan(days * DAY - 60_000);
      expect(fromNow(issued.expiresAt), `${days} days`).toBeLessThanOrEqual(days * DAY);
      expect((await h.api('GET', '/api/me', { token: issued.token })).status).toBe(200);
    }
  });

  it('refuses a validity outside the limits, naming the field, and issues nothing', async () => {
    const before = await databaseSnapshot(h);
    for (const expiresInDays of [0, -1, 366, 3650, 1.5, '30']) {
      const res = await h.api('POST', `/api/users/${TEST_USERS.legal.id}/tokens`, {
        as: 'admin',
        json: { label: 'too long', expiresInDays },
      });
      expect(res.status, String(expiresInDays)).toBe(400);
      expect(res.body.error.code).toBe('BAD_REQUEST');
      expect(res.body.error.details.map((d: { field: string }) => d.field)).toEqual(['body.expiresInDays']);
    }
    expect(await databaseSnapshot(h)).toEqual(before);
  });

  it('the deployment’s TOKEN_TTL_DAYS is the default', async () => {
    const settings = h.settings as typeof h.settings & { tokenTtlDays?: number };
    settings.tokenTtlDays = 30;
    try {
      const issued = await issue(TEST_USERS.legal.id);
      expect(fromNow(issued.expiresAt)).toBeGreaterThan(30 * DAY - 60_000);
      expect(fromNow(issued.expiresAt)).toBeLessThanOrEqual(30 * DAY);
      // The admin's choice still wins.
      const chosen = await issue(TEST_USERS.legal.id, { label: 'longer', expiresInDays: 60 });
      expect(fromNow(chosen.expiresAt)).toBeGreaterThan(60 * DAY - 60_000);
    } finally {
      delete settings.tokenTtlDays;
    }
  });
});

describe('listing a user’s tokens', () => {
  it('shows id, label, issue, expiry and revocation, newest first; never the token or its hash', async () => {
    const userId = TEST_USERS.internalAudit.id;
    const first = await issue(userId, { label: 'laptop', expiresInDays: 10 });
    const second = await issue(userId, { label: 'ci' });
    const revoked = await h.api('POST', `/api/tokens/${first.id}/revoke`, { as: 'admin' });
    expect(revoked.status).toBe(200);
    const res = await h.api('GET', `/api/users/${userId}/tokens`, { as: 'admin' });
    expect(res.status).toBe(200);
    const hashes = await h.sql(`select token_hash from api_tokens where user_id = $1`, [userId]);
    const text = JSON.stringify(res.body);
    for (const { token_hash } of hashes) expect(text).not.toContain(token_hash);
    expect(text).not.toContain(first.token);
    expect(text).not.toContain(second.token);
    // The harness's own token, then these two.
    expect(res.body.total).toBe(3);
    expect(res.body.items.slice(0, 2)).toEqual([
      {
        id: second.id,
        userId,
        label: 'ci',
        createdAt: second.createdAt,
        expiresAt: second.expiresAt,
        revokedAt: null,
      },
      {
        id: first.id,
        userId,
        label: 'laptop',
        createdAt: first.createdAt,
        expiresAt: first.expiresAt,
        revokedAt: revoked.body.revokedAt,
      },
    ]);
    for (const item of res.body.items)
      expect(Object.keys(item).sort()).toEqual(['createdAt', 'expiresAt', 'id', 'label', 'revokedAt', 'userId']);
  });

  it('is for admins only (403), of a user who exists (404)', async () => {
    for (const role of NON_ADMINS) {
      const res = await h.api('GET', `/api/users/${TEST_USERS.admin.id}/tokens`, { as: role });
      expect(res.status, role).toBe(403);
      expect(res.body.error.message).toMatch(/needs the role admin/);
    }
    const unknown = await h.api('GET', '/api/users/nobody/tokens', { as: 'admin' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toBe('no user nobody');
  });
});

describe('revoking a token', () => {
  it('stops it at once, audited with the reason; the user’s other tokens still work', async () => {
    const userId = TEST_USERS.approver2.id;
    const doomed = await issue(userId);
    const kept = await issue(userId);
    const res = await h.api('POST', `/api/tokens/${doomed.id}/revoke`, {
      as: 'admin',
      json: { reason: 'laptop lost' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({
      id: doomed.id,
      userId,
      label: doomed.label,
      createdAt: doomed.createdAt,
      expiresAt: doomed.expiresAt,
      revokedAt: expect.any(String),
    });
    expect(Math.abs(fromNow(res.body.revokedAt))).toBeLessThan(60_000);
    const refused = await h.api('GET', '/api/me', { token: doomed.token });
    expect(refused.status).toBe(401);
    expect(refused.body.error).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_REVOKED' });
    expect(refused.body.error.message).toBe(
      `the API token is unknown or revoked: it was revoked at ${res.body.revokedAt}`,
    );
    expect((await h.api('GET', '/api/me', { token: kept.token })).status).toBe(200);
    expect(await auditEvents('token.revoked', doomed.id)).toEqual([
      { actor_id: 'admin', reason: 'laptop lost', payload: { tokenId: doomed.id, userId, label: doomed.label } },
    ]);
  });

  it('twice is refused: 409 TOKEN_ALREADY_REVOKED naming when, and nothing is written', async () => {
    const issued = await issue(TEST_USERS.risk2.id);
    const first = await h.api('POST', `/api/tokens/${issued.id}/revoke`, { as: 'admin' });
    expect(first.status).toBe(200);
    const before = await databaseSnapshot(h);
    const again = await h.api('POST', `/api/tokens/${issued.id}/revoke`, { as: 'admin', json: { reason: 'again' } });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({
      code: 'CONFLICT',
      reason: 'TOKEN_ALREADY_REVOKED',
      message: `token ${issued.id} was already revoked at ${first.body.revokedAt}`,
      details: { tokenId: issued.id, revokedAt: first.body.revokedAt },
    });
    expect(await databaseSnapshot(h)).toEqual(before);
    const [row] = await h.sql(`select revoked_at from api_tokens where id = $1`, [issued.id]);
    expect(row.revoked_at.toISOString()).toBe(first.body.revokedAt);
    expect(await auditEvents('token.revoked', issued.id)).toHaveLength(1);
  });

  it('is for admins only: everyone else gets 403 and the token still works', async () => {
    const issued = await issue(TEST_USERS.manager.id);
    const before = await databaseSnapshot(h);
    for (const role of NON_ADMINS) {
      const res = await h.api('POST', `/api/tokens/${issued.id}/revoke`, { as: role, json: { reason: 'mine' } });
      expect(res.status, role).toBe(403);
      expect(res.body.error.message).toMatch(
        role === 'auditor' ? /auditors have read-only access/ : /needs the role admin/,
      );
    }
    // Not even the token's own holder.
    const own = await h.api('POST', `/api/tokens/${issued.id}/revoke`, { token: issued.token });
    expect(own.status).toBe(403);
    expect(await databaseSnapshot(h)).toEqual(before);
    expect((await h.api('GET', '/api/me', { token: issued.token })).status).toBe(200);
  });

  it('an unknown token id is 404, a malformed one 400', async () => {
    const before = await databaseSnapshot(h);
    const unknown = await h.api('POST', '/api/tokens/00000000-0000-4000-8000-000000000000/revoke', { as: 'admin' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toBe('no token 00000000-0000-4000-8000-000000000000');
    const malformed = await h.api('POST', '/api/tokens/not-a-token/revoke', { as: 'admin' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.details[0].field).toBe('path.tokenId');
    expect(await databaseSnapshot(h)).toEqual(before);
  });
});

describe('migration 0006', () => {
  it('gives every token that existed before it 90 days from the migration', async () => {
    const adminUrl = inject('pgAdminUrl');
    const name = `${inject('templateDatabase').replace(/_template$/, '')}_mig0006_${process.pid}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`create database "${name}"`);
    // The migrations up to 0005, as a database deployed before this change has them.
    const folder = mkdtempSync(path.join(tmpdir(), 'gov-mig-'));
    mkdirSync(path.join(folder, 'meta'));
    const journal = JSON.parse(readFileSync(path.join(MIGRATIONS_FOLDER, 'meta/_journal.json'), 'utf8'));
    const upTo = journal.entries.findIndex((e: { tag: string }) => e.tag === '0006_tokens_users');
    expect(upTo).toBeGreaterThan(0);
    writeFileSync(
      path.join(folder, 'meta/_journal.json'),
      JSON.stringify({ ...journal, entries: journal.entries.slice(0, upTo) }),
    );
    for (const entry of journal.entries.slice(0, upTo)) {
      copyFileSync(path.join(MIGRATIONS_FOLDER, `${entry.tag}.sql`), path.join(folder, `${entry.tag}.sql`));
    }
    const database = await openDatabase({ url: databaseUrl(adminUrl, name), poolSize: 1 });
    try {
      const { migrate: migratePg } = await import('drizzle-orm/node-postgres/migrator');
      await migratePg(database.db as never, { migrationsFolder: folder });
      const raw = new pg.Client({ connectionString: databaseUrl(adminUrl, name) });
      await raw.connect();
      try {
        await raw.query(
          `insert into users (id, name, email, roles) values ('old', 'Old', 'old@test.example', '{risk}')`,
        );
        await raw.query(
          `insert into api_tokens (id, user_id, token_hash, label, created_at, revoked_at) values
            ('t-old', 'old', 'h1', 'two years old', now() - interval '2 years', null),
            ('t-revoked', 'old', 'h2', 'revoked', now() - interval '1 year', now() - interval '1 day')`,
        );
        const started = Date.now();
        await migrate(database);
        const rows = (
          await raw.query(`select id, expires_at, revoked_at is not null as revoked from api_tokens order by id`)
        ).rows;
        expect(rows.map((r) => [r.id, r.revoked])).toEqual([
          ['t-old', false],
          ['t-revoked', true],
        ]);
        for (const row of rows) {
          const ms = row.expires_at.getTime() - started;
          expect(ms, row.id).toBeGreaterThan(90 * DAY - 60_000);
          expect(ms, row.id).toBeLessThan(90 * DAY + 60_000);
        }
        // And from now on a token says when it expires: there is no default.
        await expect(
          raw.query(`insert into api_tokens (id, user_id, token_hash, label) values ('t-new', 'old', 'h3', 'new')`),
        ).rejects.toThrow(/expires_at/);
        const [user] = (await raw.query(`select manager_id from users where id = 'old'`)).rows;
        expect(user).toEqual({ manager_id: null });
      } finally {
        await raw.end();
      }
    } finally {
      await database.close();
      await admin.query(`drop database if exists "${name}" with (force)`);
      await admin.end();
    }
  });
});
