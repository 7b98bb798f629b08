/**
 * Demo users for a developer's machine: one of each role, with well-known
 * tokens so the README's curl walkthrough works as written. The manager also
 * holds the risk role, as risk leads often do: segregation of duties, not
 * the role, is what stops them approving their own case.
 *
 * Their tokens are public, so three guards keep them away from real data:
 * - `npm start` seeds them only into the embedded database (PGlite, no
 *   DATABASE_URL), listening on loopback, outside production
 *   (`demoSeedingFor`); SEED_DEMO_USERS=true with a DATABASE_URL is refused;
 * - a real user who already holds a demo id is never given a demo token;
 * - the API refuses to start while a demo token is valid and it runs with
 *   NODE_ENV=production or listens beyond loopback (`refuseExposedDemoTokens`).
 */
import { and, eq, gt, inArray, isNull, lte } from 'drizzle-orm';
import { createToken, hashToken, tokenExpiry } from '../api/auth';
import type { Database } from '../db/client';
import { apiTokens, users } from '../db/schema';
import type { Role } from '../domain/roles';
import { DEFAULT_TOKEN_TTL_DAYS, type Settings } from './config';

export interface DemoUser {
  id: string;
  name: string;
  email: string;
  roles: Role[];
  token: string;
  /** The line manager, another demo user. */
  managerId?: string;
}

export const DEMO_USERS: DemoUser[] = [
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
    managerId: 'li.manager',
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
 * users skipped are the ones not returned. A demo token that has expired is
 * renewed (this runs only where demo users may be: see `demoSeedingFor`); one
 * an admin revoked stays revoked, and a deactivated demo user stays so.
 */
export async function seedDemoUsers(db: Database, options: { ttlDays?: number; now?: Date } = {}): Promise<DemoUser[]> {
  const ttlDays = options.ttlDays ?? DEFAULT_TOKEN_TTL_DAYS;
  const now = options.now ?? new Date();
  const seeded: DemoUser[] = [];
  for (const demo of DEMO_USERS) {
    // The line manager only if that demo user is one of ours here, too.
    const managerId = demo.managerId && seeded.some((u) => u.id === demo.managerId) ? demo.managerId : null;
    await db
      .insert(users)
      .values({ id: demo.id, name: demo.name, email: demo.email, roles: demo.roles, managerId })
      .onConflictDoNothing();
    const [user] = await db.select({ email: users.email }).from(users).where(eq(users.id, demo.id));
    if (user?.email !== demo.email) continue;
    const [existing] = await db
      .select({ id: apiTokens.id, userId: apiTokens.userId, expiresAt: apiTokens.expiresAt })
      .from(apiTokens)
      .where(eq(apiTokens.tokenHash, hashToken(demo.token)));
    if (!existing) await createToken(db, { userId: demo.id, label: 'demo', ttlDays, token: demo.token, now });
    else if (existing.userId !== demo.id) continue;
    else if (existing.expiresAt <= now) {
      await db
        .update(apiTokens)
        .set({ expiresAt: tokenExpiry(ttlDays, now) })
        .where(and(eq(apiTokens.id, existing.id), isNull(apiTokens.revokedAt), lte(apiTokens.expiresAt, now)));
    }
    seeded.push(demo);
  }
  return seeded;
}

/** 127.0.0.0/8, ::1 and localhost; anything else (0.0.0.0, ::, a name, an address) is beyond loopback. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}

/** Where the API will listen, what it runs as: what decides whether demo tokens may exist. */
export interface Exposure {
  /** The interface the API listens on ('0.0.0.0' for every interface). */
  host: string;
  production: boolean;
}

/** Why the process refuses to start: printed as is, without a stack. */
export class StartRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartRefused';
  }
}

export type DemoSeeding = { seed: true } | { seed: false; why: string };

/**
 * Whether `npm start` seeds the demo users: only into the embedded database,
 * outside production, listening on loopback. SEED_DEMO_USERS=false opts out;
 * SEED_DEMO_USERS=true with a DATABASE_URL is refused (StartRefused), since
 * it once attached public tokens to real data.
 */
export function demoSeedingFor(
  settings: Pick<Settings, 'databaseUrl'> & Exposure,
  env: NodeJS.ProcessEnv = process.env,
): DemoSeeding {
  const asked = env.SEED_DEMO_USERS;
  if (asked !== undefined && asked !== '' && asked !== 'true' && asked !== 'false') {
    throw new StartRefused(`SEED_DEMO_USERS must be "true" or "false", got "${asked}"`);
  }
  if (settings.databaseUrl) {
    if (asked === 'true') {
      throw new StartRefused(
        'SEED_DEMO_USERS=true is refused with DATABASE_URL: the demo users’ tokens are public, so they are seeded ' +
          'only into the embedded database (start without DATABASE_URL). Create real users with ' +
          '`npm run users -- create <id> …` instead.',
      );
    }
    return { seed: false, why: 'no demo users with DATABASE_URL' };
  }
  if (asked === 'false') return { seed: false, why: 'no demo users: SEED_DEMO_USERS=false' };
  if (settings.production) return { seed: false, why: 'no demo users with NODE_ENV=production' };
  if (!isLoopbackHost(settings.host)) {
    return { seed: false, why: `no demo users: HOST=${settings.host} listens beyond loopback` };
  }
  return { seed: true };
}

/** The demo users whose public token would let anyone in now: not revoked, not expired, user active. */
export async function validDemoTokens(
  db: Database,
  now = new Date(),
): Promise<Array<{ userId: string; token: string }>> {
  const byHash = new Map(DEMO_USERS.map((u) => [hashToken(u.token), u.token]));
  const rows = await db
    .select({ userId: apiTokens.userId, tokenHash: apiTokens.tokenHash })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .where(
      and(
        inArray(apiTokens.tokenHash, [...byHash.keys()]),
        isNull(apiTokens.revokedAt),
        gt(apiTokens.expiresAt, now),
        eq(users.active, true),
      ),
    )
    .orderBy(apiTokens.userId);
  return rows.map((r) => ({ userId: r.userId, token: byHash.get(r.tokenHash)! }));
}

/**
 * Refuses (StartRefused) to serve the API with a valid demo token when it
 * runs with NODE_ENV=production or listens beyond loopback: anyone who read
 * the README could then act as those users.
 */
export async function refuseExposedDemoTokens(db: Database, exposure: Exposure, now = new Date()): Promise<void> {
  if (!exposure.production && isLoopbackHost(exposure.host)) return;
  const valid = await validDemoTokens(db, now);
  if (!valid.length) return;
  const why = [
    exposure.production ? 'NODE_ENV=production' : '',
    isLoopbackHost(exposure.host) ? '' : `it would listen on ${exposure.host}, beyond loopback`,
  ]
    .filter(Boolean)
    .join(' and ');
  throw new StartRefused(
    `refusing to start: the public demo token${valid.length > 1 ? 's' : ''} ` +
      `${valid.map((v) => `${v.token} (${v.userId})`).join(', ')} ` +
      `${valid.length > 1 ? 'are' : 'is'} valid in this database, and ${why}. ` +
      'Revoke them first (`npm run users -- revoke-demo`), or start on loopback outside production.',
  );
}
