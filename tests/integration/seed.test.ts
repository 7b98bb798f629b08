/**
 * Demo users are for a developer's machine: their tokens are public. Seeding
 * against a database that already has a real user under a demo id must leave
 * that user as it is and give the public token to no one.
 */
import { describe, expect, it } from 'vitest';
import { DEMO_USERS, seedDemoUsers } from '../../platform/seed';
import { useHarness } from '../support/harness';

const h = useHarness('seed');

describe('demo users', () => {
  it('never attach a public token to a real user who holds a demo id', async () => {
    await h.sql(
      `insert into users (id, name, email, roles) values ('li.manager', 'Li Wei', 'li.wei@corp.example', '{manager}')`,
    );
    const seeded = await seedDemoUsers(h.database.db);
    expect(seeded.map((u) => u.id)).not.toContain('li.manager');
    // The harness already has a user 'admin' (admin@test.example): it is left alone too.
    const existing = ['li.manager', 'admin'];
    expect(seeded.map((u) => u.id).sort()).toEqual(
      DEMO_USERS.filter((u) => !existing.includes(u.id))
        .map((u) => u.id)
        .sort(),
    );
    const [real] = await h.sql(`select email, roles, active from users where id = 'li.manager'`);
    expect(real).toEqual({ email: 'li.wei@corp.example', roles: ['manager'], active: true });
    expect((await h.api('GET', '/api/me', { token: 'gov_demo_manager' })).status).toBe(401);
    expect((await h.api('GET', '/api/me', { token: 'gov_demo_admin' })).status).toBe(401);
    expect((await h.api('GET', '/api/me', { token: 'gov_demo_approver' })).status).toBe(200);
    // Seeding again changes nothing and issues no second token.
    await seedDemoUsers(h.database.db);
    const tokens = await h.sql(`select user_id from api_tokens where label = 'demo' order by user_id`);
    expect(tokens.map((t) => t.user_id)).toEqual(seeded.map((u) => u.id).sort());
  });
});
