/**
 * Admins deactivate and reactivate users, and set each user's line manager,
 * audited (issue 11 §9, and §8's "case participants and their managers").
 * On the real app and PostgreSQL: each refusal shows its status and reason
 * and leaves the database as it was (no workflow is involved, so there is no
 * history to compare).
 */
import { describe, expect, it } from 'vitest';
import { databaseSnapshot } from '../support/drive';
import { TEST_USERS, useHarness, type TestUser } from '../support/harness';

const h = useHarness('users');

const NON_ADMINS = (Object.keys(TEST_USERS) as TestUser[]).filter((r) => r !== 'admin');

/** A new colleague, created by the admin, with a token of their own. */
async function colleague(roles: string[] = ['risk'], managerId?: string | null) {
  const id = h.unique('u').toLowerCase();
  const created = await h.api('POST', '/api/users', {
    as: 'admin',
    json: {
      id,
      name: `Colleague ${id}`,
      email: `${id}@test.example`,
      roles,
      ...(managerId !== undefined ? { managerId } : {}),
    },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const issued = await h.api('POST', `/api/users/${id}/tokens`, { as: 'admin', json: { label: 'work' } });
  expect(issued.status).toBe(201);
  return { id, token: issued.body.token as string, tokenId: issued.body.id as string };
}

const userRow = async (id: string) =>
  (await h.sql(`select id, name, roles, active, manager_id from users where id = $1`, [id]))[0];
const auditOf = (action: string, userId: string) =>
  h.sql(
    `select actor_id, reason, payload from audit_events where action = $1 and payload->>'userId' = $2 order by seq`,
    [action, userId],
  );

describe('deactivating a user', () => {
  it('stops every token they hold at once, revokes them, and is audited with the reason', async () => {
    const u = await colleague();
    const second = await h.api('POST', `/api/users/${u.id}/tokens`, { as: 'admin', json: { label: 'phone' } });
    const earlier = await h.api('POST', `/api/users/${u.id}/tokens`, { as: 'admin', json: { label: 'old' } });
    expect((await h.api('POST', `/api/tokens/${earlier.body.id}/revoke`, { as: 'admin' })).status).toBe(200);
    expect((await h.api('GET', '/api/me', { token: u.token })).status).toBe(200);

    const res = await h.api('POST', `/api/users/${u.id}/deactivate`, {
      as: 'admin',
      json: { reason: 'left the company' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({
      id: u.id,
      name: `Colleague ${u.id}`,
      email: `${u.id}@test.example`,
      roles: ['risk'],
      active: false,
      managerId: null,
      revokedTokenIds: [u.tokenId, second.body.id].sort(),
    });
    for (const token of [u.token, second.body.token]) {
      const refused = await h.api('GET', '/api/me', { token });
      expect(refused.status).toBe(401);
      expect(refused.body.error).toMatchObject({
        code: 'UNAUTHENTICATED',
        reason: 'USER_DEACTIVATED',
        message: 'the API token is unknown or revoked: the user it belongs to is deactivated',
      });
    }
    expect(await userRow(u.id)).toMatchObject({ active: false });
    expect(
      await h.sql(`select count(*)::int as live from api_tokens where user_id = $1 and revoked_at is null`, [u.id]),
    ).toEqual([{ live: 0 }]);
    expect(await auditOf('user.deactivated', u.id)).toEqual([
      {
        actor_id: 'admin',
        reason: 'left the company',
        payload: { userId: u.id, revokedTokenIds: [u.tokenId, second.body.id].sort() },
      },
    ]);
    // No new token for someone who is not active.
    const issue = await h.api('POST', `/api/users/${u.id}/tokens`, { as: 'admin', json: { label: 'again' } });
    expect(issue.status).toBe(404);
    expect(issue.body.error.message).toBe(`no active user ${u.id}`);
  });

  it('is for admins only: everyone else gets 403, and the user and their token stay as they were', async () => {
    const u = await colleague();
    const before = await databaseSnapshot(h);
    for (const role of NON_ADMINS) {
      const res = await h.api('POST', `/api/users/${u.id}/deactivate`, { as: role });
      expect(res.status, role).toBe(403);
      expect(res.body.error.message).toMatch(role === 'auditor' ? /read-only/ : /needs the role admin/);
    }
    expect(await databaseSnapshot(h)).toEqual(before);
    expect((await h.api('GET', '/api/me', { token: u.token })).status).toBe(200);
  });

  it('twice is 409 USER_ALREADY_INACTIVE; an unknown user 404; oneself 422 SELF_DEACTIVATION; nothing written', async () => {
    const u = await colleague();
    expect((await h.api('POST', `/api/users/${u.id}/deactivate`, { as: 'admin' })).status).toBe(200);
    const before = await databaseSnapshot(h);
    const again = await h.api('POST', `/api/users/${u.id}/deactivate`, { as: 'admin', json: { reason: 'again' } });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({
      code: 'CONFLICT',
      reason: 'USER_ALREADY_INACTIVE',
      message: `user ${u.id} is already deactivated`,
    });
    const unknown = await h.api('POST', '/api/users/nobody/deactivate', { as: 'admin' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toBe('no user nobody');
    const self = await h.api('POST', `/api/users/${TEST_USERS.admin.id}/deactivate`, { as: 'admin' });
    expect(self.status).toBe(422);
    expect(self.body.error).toMatchObject({ code: 'UNPROCESSABLE', reason: 'SELF_DEACTIVATION' });
    expect(await databaseSnapshot(h)).toEqual(before);
    expect(await auditOf('user.deactivated', u.id)).toHaveLength(1);
    expect((await h.api('GET', '/api/me', { as: 'admin' })).status).toBe(200);
  });
});

describe('reactivating a user', () => {
  it('lets them in again with a new token only; audited; twice is 409; others get 403', async () => {
    const u = await colleague(['compliance']);
    expect((await h.api('POST', `/api/users/${u.id}/deactivate`, { as: 'admin' })).status).toBe(200);

    const before = await databaseSnapshot(h);
    for (const role of NON_ADMINS) {
      expect((await h.api('POST', `/api/users/${u.id}/reactivate`, { as: role })).status, role).toBe(403);
    }
    expect((await h.api('POST', '/api/users/nobody/reactivate', { as: 'admin' })).status).toBe(404);
    expect(await databaseSnapshot(h)).toEqual(before);

    const res = await h.api('POST', `/api/users/${u.id}/reactivate`, {
      as: 'admin',
      json: { reason: 'back from leave' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ id: u.id, active: true, roles: ['compliance'] });
    expect(await auditOf('user.reactivated', u.id)).toEqual([
      { actor_id: 'admin', reason: 'back from leave', payload: { userId: u.id } },
    ]);
    // The token they had before stays revoked: it may have left with them.
    const old = await h.api('GET', '/api/me', { token: u.token });
    expect(old.status).toBe(401);
    expect(old.body.error.reason).toBe('TOKEN_REVOKED');
    const fresh = await h.api('POST', `/api/users/${u.id}/tokens`, { as: 'admin', json: { label: 'new laptop' } });
    expect(fresh.status).toBe(201);
    expect((await h.api('GET', '/api/me', { token: fresh.body.token })).body.id).toBe(u.id);

    const beforeAgain = await databaseSnapshot(h);
    const again = await h.api('POST', `/api/users/${u.id}/reactivate`, { as: 'admin' });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({
      reason: 'USER_ALREADY_ACTIVE',
      message: `user ${u.id} is already active`,
    });
    expect(await databaseSnapshot(h)).toEqual(beforeAgain);
  });
});

describe('the line manager', () => {
  it('is set when the user is created, shown in the user list, and audited', async () => {
    const u = await colleague(['action_owner'], TEST_USERS.manager.id);
    expect(await userRow(u.id)).toMatchObject({ manager_id: TEST_USERS.manager.id });
    const [created] = await auditOf('user.created', u.id);
    expect(created.payload).toEqual({ userId: u.id, roles: ['action_owner'], managerId: TEST_USERS.manager.id });
    const list = await h.api('GET', '/api/users?pageSize=100', { as: 'manager' });
    expect(list.body.items.find((x: { id: string }) => x.id === u.id)).toEqual({
      id: u.id,
      name: `Colleague ${u.id}`,
      email: `${u.id}@test.example`,
      roles: ['action_owner'],
      active: true,
      managerId: TEST_USERS.manager.id,
    });
    expect(list.body.items.find((x: { id: string }) => x.id === TEST_USERS.admin.id).managerId).toBeNull();
  });

  it('must be another active user: unknown or inactive 400, oneself 422; no user is created', async () => {
    const gone = await colleague();
    expect((await h.api('POST', `/api/users/${gone.id}/deactivate`, { as: 'admin' })).status).toBe(200);
    const before = await databaseSnapshot(h);
    for (const managerId of ['nobody', gone.id]) {
      const id = h.unique('n').toLowerCase();
      const res = await h.api('POST', '/api/users', {
        as: 'admin',
        json: { id, name: 'New', email: `${id}@test.example`, roles: ['risk'], managerId },
      });
      expect(res.status, managerId).toBe(400);
      expect(res.body.error.message).toBe(`invalid body: managerId "${managerId}" is not an active user`);
      expect(res.body.error.details).toEqual([{ field: 'body.managerId', message: 'not an active user' }]);
    }
    const self = await h.api('POST', '/api/users', {
      as: 'admin',
      json: { id: 'narcissus', name: 'N', email: 'narcissus@test.example', roles: ['risk'], managerId: 'narcissus' },
    });
    expect(self.status).toBe(422);
    expect(self.body.error).toMatchObject({
      code: 'UNPROCESSABLE',
      reason: 'MANAGER_IS_SELF',
      message: 'user narcissus cannot be their own manager',
    });
    expect(await databaseSnapshot(h)).toEqual(before);
  });

  it('is changed with PATCH by an admin, audited with the old and new value; null removes it', async () => {
    const u = await colleague(['risk'], TEST_USERS.manager.id);
    const res = await h.api('PATCH', `/api/users/${u.id}`, { as: 'admin', json: { managerId: TEST_USERS.lead.id } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ id: u.id, managerId: TEST_USERS.lead.id });
    expect(await userRow(u.id)).toMatchObject({ manager_id: TEST_USERS.lead.id });
    const cleared = await h.api('PATCH', `/api/users/${u.id}`, { as: 'admin', json: { managerId: null } });
    expect(cleared.body.managerId).toBeNull();
    expect(await userRow(u.id)).toMatchObject({ manager_id: null });
    expect((await auditOf('user.updated', u.id)).map((e) => [e.actor_id, e.payload])).toEqual([
      ['admin', { userId: u.id, changes: { managerId: { from: TEST_USERS.manager.id, to: TEST_USERS.lead.id } } }],
      ['admin', { userId: u.id, changes: { managerId: { from: TEST_USERS.lead.id, to: null } } }],
    ]);
    // A change to nothing writes nothing.
    const before = await databaseSnapshot(h);
    const same = await h.api('PATCH', `/api/users/${u.id}`, { as: 'admin', json: { managerId: null } });
    expect(same.status).toBe(200);
    expect(await databaseSnapshot(h)).toEqual(before);
  });

  it('PATCH refuses oneself (422), a loop of managers (422), an unknown manager (400), an unknown user (404)', async () => {
    const a = await colleague(['manager']);
    const b = await colleague(['risk'], a.id);
    const c = await colleague(['action_owner'], b.id);
    const before = await databaseSnapshot(h);
    const rows = await Promise.all([a, b, c].map((x) => userRow(x.id)));

    const self = await h.api('PATCH', `/api/users/${a.id}`, { as: 'admin', json: { managerId: a.id } });
    expect(self.status).toBe(422);
    expect(self.body.error.reason).toBe('MANAGER_IS_SELF');

    // c reports to b, b to a: a reporting to c closes the loop.
    const loop = await h.api('PATCH', `/api/users/${a.id}`, { as: 'admin', json: { managerId: c.id } });
    expect(loop.status).toBe(422);
    expect(loop.body.error).toMatchObject({
      code: 'UNPROCESSABLE',
      reason: 'MANAGER_CYCLE',
      details: { chain: [a.id, c.id, b.id, a.id] },
    });
    expect(loop.body.error.message).toBe(
      `${c.id} cannot manage ${a.id}: it would close a loop of managers, ${a.id} → ${c.id} → ${b.id} → ${a.id} (each managed by the next)`,
    );

    const unknown = await h.api('PATCH', `/api/users/${a.id}`, { as: 'admin', json: { managerId: 'nobody' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details).toEqual([{ field: 'body.managerId', message: 'not an active user' }]);

    const noUser = await h.api('PATCH', '/api/users/nobody', { as: 'admin', json: { managerId: a.id } });
    expect(noUser.status).toBe(404);
    expect(noUser.body.error.message).toBe('no user nobody');

    const empty = await h.api('PATCH', `/api/users/${a.id}`, { as: 'admin', json: {} });
    expect(empty.status).toBe(400);
    expect(empty.body.error.message).toMatch(/give at least one of name, roles, managerId/);

    expect(await databaseSnapshot(h)).toEqual(before);
    expect(await Promise.all([a, b, c].map((x) => userRow(x.id)))).toEqual(rows);
    // The database holds the rule too.
    await expect(h.sql(`update users set manager_id = id where id = $1`, [a.id])).rejects.toThrow(
      /users_manager_not_self/,
    );
  });

  it('PATCH is for admins only', async () => {
    const u = await colleague();
    const before = await databaseSnapshot(h);
    const row = await userRow(u.id);
    for (const role of NON_ADMINS) {
      const res = await h.api('PATCH', `/api/users/${u.id}`, { as: role, json: { managerId: TEST_USERS[role].id } });
      expect(res.status, role).toBe(403);
      expect(res.body.error.message).toMatch(role === 'auditor' ? /read-only/ : /needs the role admin/);
    }
    // Not even about oneself.
    const own = await h.api('PATCH', `/api/users/${u.id}`, { token: u.token, json: { managerId: TEST_USERS.lead.id } });
    expect(own.status).toBe(403);
    expect(await databaseSnapshot(h)).toEqual(before);
    expect(await userRow(u.id)).toEqual(row);
  });
});

describe('changing name and roles', () => {
  it('an admin changes them, audited; cannot take away their own admin role', async () => {
    const u = await colleague(['risk']);
    const res = await h.api('PATCH', `/api/users/${u.id}`, {
      as: 'admin',
      json: { name: 'Renamed', roles: ['legal', 'legal'] },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ name: 'Renamed', roles: ['legal'] });
    expect((await h.api('GET', '/api/me', { token: u.token })).body).toEqual({
      id: u.id,
      name: 'Renamed',
      roles: ['legal'],
    });
    expect((await auditOf('user.updated', u.id))[0].payload).toEqual({
      userId: u.id,
      changes: { name: { from: `Colleague ${u.id}`, to: 'Renamed' }, roles: { from: ['risk'], to: ['legal'] } },
    });

    const before = await databaseSnapshot(h);
    const demote = await h.api('PATCH', `/api/users/${TEST_USERS.admin.id}`, {
      as: 'admin',
      json: { roles: ['risk'] },
    });
    expect(demote.status).toBe(422);
    expect(demote.body.error).toMatchObject({ code: 'UNPROCESSABLE', reason: 'SELF_ADMIN_REMOVAL' });
    expect(await databaseSnapshot(h)).toEqual(before);
    expect((await userRow(TEST_USERS.admin.id)).roles).toEqual(['admin']);
    // Adding a role to oneself keeps admin: allowed.
    const more = await h.api('PATCH', `/api/users/${TEST_USERS.admin.id}`, {
      as: 'admin',
      json: { roles: ['admin', 'auditor'] },
    });
    expect(more.status).toBe(200);
    await h.api('PATCH', `/api/users/${TEST_USERS.admin.id}`, { as: 'admin', json: { roles: ['admin'] } });
  });
});
