/**
 * The web console's sign-in tables (migration 0019): a password per user and
 * the sessions signed in with it. Kept apart from db/schema.ts, which holds
 * the product's case tables; api/session.ts is their only writer.
 */
import { index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { users } from './schema';

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** A user's console password (scrypt, `scrypt$N$r$p$salt$hash`) and its failed-attempt count. */
export const consoleCredentials = pgTable('console_credentials', {
  userId: text('user_id')
    .primaryKey()
    .references(() => users.id),
  /** null: no password set (a demo user signs in with the demo password while their demo token is valid). */
  passwordHash: text('password_hash'),
  passwordSetAt: at('password_set_at'),
  /** Consecutive failures since the last success; reset by a success or a new password. */
  failedAttempts: integer('failed_attempts').notNull().default(0),
  lockedUntil: at('locked_until'),
});

/** A signed-in browser: the cookie's SHA-256, never the cookie. */
export const consoleSessions = pgTable(
  'console_sessions',
  {
    id: text('id').primaryKey(),
    tokenHash: text('token_hash').notNull().unique(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    /** Sent back by the console in X-CSRF-Token on every write made with the cookie. */
    csrfToken: text('csrf_token').notNull(),
    createdAt: at('created_at').notNull().defaultNow(),
    lastSeenAt: at('last_seen_at').notNull().defaultNow(),
    expiresAt: at('expires_at').notNull(),
  },
  (t) => [index('console_sessions_user_id_idx').on(t.userId)],
);
