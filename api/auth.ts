/**
 * Bearer API tokens. Only their SHA-256 hashes are stored; a token is shown
 * once, when it is created. No or bad token → 401; wrong role → 403; a user
 * whose only role is auditor reads everything and changes nothing.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import type { MiddlewareHandler } from 'hono';
import type { Database } from '../db/client';
import { apiTokens, users } from '../db/schema';
import { hasAnyRole, isReadOnly, type Role } from '../domain/roles';
import { ApiError } from './errors';

export interface AuthUser {
  id: string;
  name: string;
  roles: Role[];
}

export type AppEnv = {
  Variables: { requestId: string; user: AuthUser };
};

export const TOKEN_PREFIX = 'gov_';

/** POSTs that only compute an answer and write nothing: auditors may call them. */
const READ_ONLY_POSTS = new Set(['/api/incidents/grade-suggestion']);

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(24).toString('base64url');
}

/** Creates a token for a user and returns it in clear, the only time it exists so. */
export async function issueToken(
  db: Database,
  userId: string,
  label: string,
  token = generateToken(),
): Promise<string> {
  await db.insert(apiTokens).values({ id: randomUUID(), userId, tokenHash: hashToken(token), label });
  return token;
}

export function authenticate(db: Database): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new ApiError('UNAUTHENTICATED', 'send an API token as "Authorization: Bearer <token>"');
    const [row] = await db
      .select({ id: users.id, name: users.name, roles: users.roles })
      .from(apiTokens)
      .innerJoin(users, eq(users.id, apiTokens.userId))
      .where(and(eq(apiTokens.tokenHash, hashToken(match[1]!)), isNull(apiTokens.revokedAt), eq(users.active, true)))
      .limit(1);
    if (!row) throw new ApiError('UNAUTHENTICATED', 'the API token is unknown or revoked');
    c.set('user', row);
    const mutating = !['GET', 'HEAD', 'OPTIONS'].includes(c.req.method) && !READ_ONLY_POSTS.has(c.req.path);
    if (mutating && isReadOnly(row)) throw new ApiError('FORBIDDEN', 'auditors have read-only access');
    await next();
  };
}

export function requireRole(...roles: Role[]): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!hasAnyRole(c.get('user'), roles)) {
      throw new ApiError('FORBIDDEN', `this needs the role ${roles.join(' or ')}`);
    }
    await next();
  };
}
