/**
 * Demo users for a developer's machine: one of each role, with well-known
 * tokens so the README's curl walkthrough works as written. The manager also
 * holds the risk role, as risk leads often do: segregation of duties, not
 * the role, is what stops them approving their own case. Never seeded
 * against a DATABASE_URL unless SEED_DEMO_USERS=true.
 */
import { eq } from 'drizzle-orm';
import { issueToken, hashToken } from '../api/auth';
import type { Database } from '../db/client';
import { apiTokens, users } from '../db/schema';
import type { Role } from '../domain/roles';

export const DEMO_USERS: Array<{ id: string; name: string; email: string; roles: Role[]; token: string }> = [
  {
    id: 'li.manager',
    name: 'Li Wei (运营负责人)',
    email: 'li.wei@example.com',
    roles: ['manager', 'risk'],
    token: 'gov_demo_manager',
  },
  {
    id: 'wang.approver',
    name: 'Wang Fang (风险管理)',
    email: 'wang.fang@example.com',
    roles: ['risk'],
    token: 'gov_demo_approver',
  },
  {
    id: 'zhang.compliance',
    name: 'Zhang Min (合规)',
    email: 'zhang.min@example.com',
    roles: ['compliance'],
    token: 'gov_demo_compliance',
  },
  {
    id: 'sun.legal',
    name: 'Sun Li (法务)',
    email: 'sun.li@example.com',
    roles: ['legal'],
    token: 'gov_demo_legal',
  },
  {
    id: 'qian.audit',
    name: 'Qian Hui (内部审计)',
    email: 'qian.hui@example.com',
    roles: ['internal_audit'],
    token: 'gov_demo_internal_audit',
  },
  {
    id: 'chen.owner',
    name: 'Chen Jie (责任人)',
    email: 'chen.jie@example.com',
    roles: ['action_owner'],
    token: 'gov_demo_owner',
  },
  {
    id: 'zhao.auditor',
    name: 'Zhao Lei (审计查阅)',
    email: 'zhao.lei@example.com',
    roles: ['auditor'],
    token: 'gov_demo_auditor',
  },
  { id: 'admin', name: 'Platform admin', email: 'admin@example.com', roles: ['admin'], token: 'gov_demo_admin' },
];

/**
 * Creates the demo users that do not exist and gives each its well-known
 * token. A real user who happens to hold a demo id (another e-mail address)
 * is left exactly as it is, and no public token is attached to it: the demo
 * users skipped are the ones not returned.
 */
export async function seedDemoUsers(db: Database): Promise<typeof DEMO_USERS> {
  const seeded: typeof DEMO_USERS = [];
  for (const demo of DEMO_USERS) {
    await db
      .insert(users)
      .values({ id: demo.id, name: demo.name, email: demo.email, roles: demo.roles })
      .onConflictDoNothing();
    const [user] = await db.select({ email: users.email }).from(users).where(eq(users.id, demo.id));
    if (user?.email !== demo.email) continue;
    const [existing] = await db
      .select({ id: apiTokens.id })
      .from(apiTokens)
      .where(eq(apiTokens.tokenHash, hashToken(demo.token)));
    if (!existing) await issueToken(db, demo.id, 'demo', demo.token);
    seeded.push(demo);
  }
  return seeded;
}
