/**
 * Manage users and API tokens from the command line:
 *   npm run users -- list
 *   npm run users -- create <id> --name "Name" --email a@b.c --roles manager,risk [--manager <id>] [--days 90]
 *   npm run users -- set <id> [--name "Name"] [--roles risk,legal] [--manager <id>|none]
 *   npm run users -- token <id> [--label laptop] [--days 30]
 *   npm run users -- tokens <id>            (lists them: issued, expires, revoked; never the token)
 *   npm run users -- revoke <id>            (revokes all the user's tokens)
 *   npm run users -- revoke-token <tokenId>
 *   npm run users -- revoke-demo            (revokes the public demo tokens)
 *   npm run users -- deactivate <id> [--reason "…"]   (revokes their tokens too)
 *   npm run users -- reactivate <id> [--reason "…"]
 *   npm run users -- password <id>          (the web console's password: read from standard input,
 *                                             or generated and shown once; their sessions end)
 * Every change is in the audit log, by "cli". Uses DATABASE_URL, or the
 * PGlite folder of `npm start` (stop it first: PGlite allows one process at a
 * time). A token expires after --days, or TOKEN_TTL_DAYS (default 90).
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { desc, eq } from 'drizzle-orm';
import {
  createUser,
  deactivateUser,
  hashToken,
  issueTokenFor,
  reactivateUser,
  revokeToken,
  revokeTokensOf,
  updateUser,
  type UserChanges,
} from '../api/auth';
import { ApiError } from '../api/errors';
import { setPassword } from '../api/session';
import { openDatabase } from '../db/client';
import { migrate } from '../db/migrate';
import { apiTokens, users } from '../db/schema';
import { isRole, ROLES, type Role } from '../domain/roles';
import { linkIdentity } from '../api/oidc';
import { loadSettings, MAX_TOKEN_TTL_DAYS } from '../platform/config';
import { DEMO_USERS } from '../platform/seed';

const USAGE = `usage:
  npm run users -- list
  npm run users -- create <id> --name "Name" --email a@b.c --roles ${ROLES.join(',')} [--manager <id>] [--days N]
  npm run users -- set <id> [--name "Name"] [--roles …] [--manager <id>|none]
  npm run users -- token <id> [--label cli] [--days N]
  npm run users -- tokens <id>
  npm run users -- revoke <id>
  npm run users -- revoke-token <tokenId>
  npm run users -- revoke-demo
  npm run users -- deactivate <id> [--reason "…"]
  npm run users -- reactivate <id> [--reason "…"]
  npm run users -- link-identity <id> <issuer> <subject>   (sign-in with the identity provider as this user)
  npm run users -- password <id>   (echo 'new password' | npm run users -- password <id>; without input, one is generated)`;

const CLI = { actorId: 'cli' };

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    name: { type: 'string' },
    email: { type: 'string' },
    roles: { type: 'string' },
    label: { type: 'string' },
    manager: { type: 'string' },
    days: { type: 'string' },
    reason: { type: 'string' },
  },
});
const [command, id] = positionals;
if (!command) fail('no command given');

function rolesOption(): Role[] | undefined {
  if (values.roles === undefined) return undefined;
  const roles = values.roles
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  if (!roles.length || !roles.every(isRole)) fail(`--roles must list roles from: ${ROLES.join(', ')}`);
  return roles;
}

const settings = loadSettings();

function daysOption(): number {
  if (values.days === undefined) return settings.tokenTtlDays;
  const days = Number(values.days);
  if (!Number.isInteger(days) || days < 1 || days > MAX_TOKEN_TTL_DAYS)
    fail(`--days must be a whole number of days from 1 to ${MAX_TOKEN_TTL_DAYS}`);
  return days;
}

const needId = (what = 'the user id'): string => id ?? fail(`give ${what}`);
const iso = (d: Date | null) => (d ? d.toISOString().replace(/\.\d+Z$/, 'Z') : '-');

const database = await openDatabase({ url: settings.databaseUrl, pgliteDir: path.join(settings.dataDir, 'pglite') });
const { db } = database;
try {
  await migrate(database);
  switch (command) {
    case 'list': {
      for (const u of await db.select().from(users).orderBy(users.id)) {
        console.log(
          `${u.id.padEnd(20)} ${u.roles.join(',').padEnd(28)} ${u.active ? 'active  ' : 'inactive'}  ${u.name} <${u.email}>${u.managerId ? `  manager: ${u.managerId}` : ''}`,
        );
      }
      break;
    }
    case 'create': {
      const userId = needId();
      if (!/^[a-z0-9][a-z0-9._-]{1,63}$/.test(userId))
        fail('give a user id: lower-case letters, digits, ".", "_" or "-"');
      const roles = rolesOption();
      if (!roles) fail(`--roles must list roles from: ${ROLES.join(', ')}`);
      if (!values.name?.trim()) fail('--name is required');
      if (!values.email || !/^[^@\s]+@[^@\s]+$/.test(values.email)) fail('--email must be an e-mail address');
      const ttlDays = daysOption();
      await createUser(
        db,
        { id: userId, name: values.name.trim(), email: values.email, roles, managerId: values.manager ?? null },
        CLI,
      );
      const issued = await issueTokenFor(db, { userId, label: values.label ?? 'cli', ttlDays }, CLI);
      console.log(
        `created ${userId} (${roles.join(', ')})\ntoken (shown once, expires ${iso(issued.expiresAt)}): ${issued.token}`,
      );
      break;
    }
    case 'set': {
      const userId = needId();
      const changes: UserChanges = {};
      if (values.name !== undefined) changes.name = values.name.trim() || fail('--name cannot be empty');
      const roles = rolesOption();
      if (roles) changes.roles = roles;
      if (values.manager !== undefined) changes.managerId = values.manager === 'none' ? null : values.manager;
      if (!Object.keys(changes).length) fail('give --name, --roles or --manager');
      const user = await updateUser(db, userId, changes, CLI);
      console.log(`${user.id}: ${user.roles.join(', ')}; manager ${user.managerId ?? 'none'}; ${user.name}`);
      break;
    }
    case 'token': {
      const issued = await issueTokenFor(
        db,
        { userId: needId(), label: values.label ?? 'cli', ttlDays: daysOption() },
        CLI,
      );
      console.log(`token (shown once, expires ${iso(issued.expiresAt)}): ${issued.token}`);
      break;
    }
    case 'tokens': {
      const userId = needId();
      const rows = await db
        .select()
        .from(apiTokens)
        .where(eq(apiTokens.userId, userId))
        .orderBy(desc(apiTokens.createdAt));
      for (const t of rows) {
        console.log(
          `${t.id}  ${t.label.padEnd(16)} issued ${iso(t.createdAt)}  expires ${iso(t.expiresAt)}  revoked ${iso(t.revokedAt)}`,
        );
      }
      break;
    }
    case 'revoke': {
      const userId = needId();
      const revoked = await revokeTokensOf(db, { userId }, { ...CLI, reason: values.reason });
      console.log(`revoked ${revoked.length} token(s) of ${userId}`);
      break;
    }
    case 'revoke-token': {
      const token = await revokeToken(db, needId('the token id'), { ...CLI, reason: values.reason });
      console.log(`revoked token ${token.id} (${token.label}) of ${token.userId}`);
      break;
    }
    case 'revoke-demo': {
      const revoked = await revokeTokensOf(
        db,
        { tokenHashes: DEMO_USERS.map((u) => hashToken(u.token)) },
        { ...CLI, reason: values.reason ?? 'public demo token' },
      );
      console.log(
        `revoked ${revoked.length} demo token(s)${
          revoked.length
            ? `: ${revoked
                .map((t) => t.userId)
                .sort()
                .join(', ')}`
            : ''
        }`,
      );
      break;
    }
    case 'deactivate': {
      const { user, revokedTokenIds } = await deactivateUser(db, needId(), { ...CLI, reason: values.reason });
      console.log(`deactivated ${user.id}; revoked ${revokedTokenIds.length} token(s)`);
      break;
    }
    case 'reactivate': {
      const user = await reactivateUser(db, needId(), { ...CLI, reason: values.reason });
      console.log(`reactivated ${user.id}; issue a new token with \`npm run users -- token ${user.id}\``);
      break;
    }
    case 'link-identity': {
      // An existing user signs in through OIDC from now on (README: "Sign-in with your identity provider").
      const [, userId, issuer, subject] = positionals;
      if (!userId || !issuer || !subject) fail('link-identity needs <id> <issuer> <subject>');
      await linkIdentity(db, { userId, issuer, subject }, { ...CLI, reason: values.reason });
      console.log(`linked ${userId} to ${subject} at ${issuer}; they sign in with the identity provider now`);
      break;
    }
    case 'password': {
      const userId = needId();
      // From standard input, never an argument (it would stay in the shell's history); or generated.
      let piped = '';
      if (!process.stdin.isTTY) for await (const chunk of process.stdin) piped += String(chunk);
      piped = piped.replace(/\r?\n$/, '');
      const password = piped || randomBytes(12).toString('base64url');
      await setPassword(db, userId, password, { ...CLI, reason: values.reason });
      console.log(
        piped
          ? `console password set for ${userId}; their console sessions ended`
          : `console password for ${userId} (shown once): ${password}`,
      );
      break;
    }
    default:
      fail(`unknown command "${command}"`);
  }
} catch (err) {
  if (!(err instanceof ApiError)) throw err;
  console.error(err.message);
  process.exitCode = 1;
} finally {
  await database.close();
}
