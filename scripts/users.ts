/**
 * Manage users and API tokens from the command line:
 *   npm run users -- list
 *   npm run users -- create <id> --name "Name" --email a@b.c --roles manager,risk
 *   npm run users -- token <id> [--label laptop]
 *   npm run users -- revoke <id>            (revokes all the user's tokens)
 * Uses DATABASE_URL, or the PGlite folder of `npm start` (stop it first: PGlite
 * allows one process at a time).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { and, eq, isNull } from 'drizzle-orm';
import { issueToken } from '../api/auth';
import { openDatabase } from '../db/client';
import { appendAuditEvent } from '../db/audit';
import { migrate } from '../db/migrate';
import { apiTokens, users } from '../db/schema';
import { isRole, ROLES } from '../domain/roles';
import { loadSettings } from '../platform/config';

const USAGE = `usage:
  npm run users -- list
  npm run users -- create <id> --name "Name" --email a@b.c --roles ${ROLES.join(',')}
  npm run users -- token <id> [--label cli]
  npm run users -- revoke <id>`;

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
  },
});
const [command, id] = positionals;
if (!command) fail('no command given');

const settings = loadSettings();
const database = await openDatabase({ url: settings.databaseUrl, pgliteDir: path.join(settings.dataDir, 'pglite') });
const { db } = database;
try {
  await migrate(database);
  switch (command) {
    case 'list': {
      for (const u of await db.select().from(users).orderBy(users.id)) {
        console.log(
          `${u.id.padEnd(20)} ${u.roles.join(',').padEnd(28)} ${u.active ? 'active' : 'inactive'}  ${u.name} <${u.email}>`,
        );
      }
      break;
    }
    case 'create': {
      if (!id || !/^[a-z0-9][a-z0-9._-]{1,63}$/.test(id))
        fail('give a user id: lower-case letters, digits, ".", "_" or "-"');
      const roles = (values.roles ?? '')
        .split(',')
        .map((r) => r.trim())
        .filter(Boolean);
      if (!roles.length || !roles.every(isRole)) fail(`--roles must list roles from: ${ROLES.join(', ')}`);
      if (!values.name?.trim()) fail('--name is required');
      if (!values.email || !/^[^@\s]+@[^@\s]+$/.test(values.email)) fail('--email must be an e-mail address');
      const [created] = await db
        .insert(users)
        .values({ id, name: values.name.trim(), email: values.email, roles })
        .onConflictDoNothing()
        .returning();
      if (!created) fail(`a user with id ${id} or email ${values.email} already exists`);
      await appendAuditEvent(db, {
        idempotencyKey: `user:${id}:created`,
        actorId: 'cli',
        action: 'user.created',
        payload: { userId: id, roles },
      });
      const token = await issueToken(db, id, values.label ?? 'cli');
      console.log(`created ${id} (${roles.join(', ')})\ntoken (shown once): ${token}`);
      break;
    }
    case 'token': {
      if (!id) fail('give the user id');
      const [user] = await db.select().from(users).where(eq(users.id, id));
      if (!user?.active) fail(`no active user ${id}`);
      console.log(`token (shown once): ${await issueToken(db, id, values.label ?? 'cli')}`);
      break;
    }
    case 'revoke': {
      if (!id) fail('give the user id');
      const revoked = await db
        .update(apiTokens)
        .set({ revokedAt: new Date() })
        .where(and(eq(apiTokens.userId, id), isNull(apiTokens.revokedAt)))
        .returning({ id: apiTokens.id });
      console.log(`revoked ${revoked.length} token(s) of ${id}`);
      break;
    }
    default:
      fail(`unknown command "${command}"`);
  }
} finally {
  await database.close();
}
