/**
 * Callers beyond the harness's personas: a user a test adds with roles of its
 * own (a manager who is also a compliance officer…), with a token.
 */
import { issueToken } from '../../api/auth';
import { users } from '../../db/schema';
import type { Role } from '../../domain/roles';
import type { Harness, TestUser } from './harness';

/** One of the harness's personas, or a user a test added. */
export type Caller = TestUser | { token: string; id: string };

/** The h.api options that call as `caller`. */
export const asCaller = (caller: Caller) => (typeof caller === 'string' ? { as: caller } : { token: caller.token });

/** Adds a user holding `roles` and a token for them. */
export async function addUser(h: Harness, prefix: string, roles: Role[]): Promise<{ id: string; token: string }> {
  const id = h.unique(prefix);
  await h.database.db.insert(users).values({ id, name: id, email: `${id}@test.example`, roles });
  return { id, token: await issueToken(h.database.db, id, 'test') };
}
