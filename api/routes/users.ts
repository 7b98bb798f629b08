import { createRoute, z } from '@hono/zod-openapi';
import { and, asc, count, desc, eq, inArray, isNull, or } from 'drizzle-orm';
import { apiTokens, notifications, users, type User } from '../../db/schema';
import { ROLES } from '../../domain/roles';
import { DEFAULT_TOKEN_TTL_DAYS, MAX_TOKEN_TTL_DAYS, type Settings } from '../../platform/config';
import {
  createUser,
  deactivateUser,
  issueTokenFor,
  reactivateUser,
  requireRole,
  revokeToken,
  updateUser,
  type TokenInfo,
} from '../auth';
import { toNotificationDto } from '../dto';
import { ApiError } from '../errors';
import { NotificationSchema, pageOf, PageQuerySchema } from '../schemas';
import { bearer, errorResponses, router, type AppDeps } from './common';

const isoDate = z.string().openapi({ format: 'date-time' });
const RoleSchema = z.enum(ROLES);
const UserIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{1,63}$/, 'lower-case letters, digits, ".", "_" or "-", 2–64 characters');
const UserParams = z.object({ userId: z.string().min(1).max(64) });

const UserSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    email: z.string(),
    roles: z.array(RoleSchema),
    active: z.boolean(),
    managerId: z.string().nullable().openapi({ description: 'the line manager, who may read their cases' }),
  })
  .openapi('User');

const CreateUserSchema = z
  .object({
    id: UserIdSchema,
    name: z.string().trim().min(1).max(200),
    email: z.email(),
    roles: z.array(RoleSchema).min(1).max(ROLES.length),
    managerId: UserIdSchema.nullable().optional().openapi({ description: 'the line manager: another active user' }),
  })
  .strict()
  .openapi('CreateUser');

const UpdateUserSchema = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    roles: z.array(RoleSchema).min(1).max(ROLES.length).optional(),
    managerId: UserIdSchema.nullable()
      .optional()
      .openapi({ description: 'the line manager: another active user; null for none' }),
  })
  .strict()
  .refine((body) => Object.keys(body).length > 0, { message: 'give at least one of name, roles, managerId' })
  .openapi('UpdateUser');

const ReasonBodySchema = z
  .object({ reason: z.string().trim().min(1).max(500).optional().openapi({ description: 'kept in the audit log' }) })
  .strict()
  .openapi('LifecycleReason');

const ApiTokenSchema = z
  .object({
    id: z.string(),
    userId: z.string(),
    label: z.string(),
    createdAt: isoDate,
    expiresAt: isoDate,
    revokedAt: isoDate.nullable(),
  })
  .openapi('ApiToken');

const IssuedTokenSchema = ApiTokenSchema.extend({
  token: z.string().openapi({ description: 'shown once; store it safely' }),
}).openapi('IssuedToken');

const IssueTokenSchema = z
  .object({
    label: z.string().trim().min(1).max(100),
    expiresInDays: z
      .number()
      .int()
      .min(1)
      .max(MAX_TOKEN_TTL_DAYS)
      .optional()
      .openapi({ description: `days until it expires; the deployment's TOKEN_TTL_DAYS (default 90) if not given` }),
  })
  .strict()
  .openapi('IssueToken');

const DeactivatedUserSchema = UserSchema.extend({
  revokedTokenIds: z.array(z.string()).openapi({ description: 'the tokens revoked with the deactivation' }),
}).openapi('DeactivatedUser');

function toUserDto(user: User) {
  return {
    id: user.id,
    name: user.name,
    email: user.email,
    roles: user.roles,
    active: user.active,
    managerId: user.managerId,
  };
}

function toTokenDto(token: TokenInfo) {
  return {
    id: token.id,
    userId: token.userId,
    label: token.label,
    createdAt: token.createdAt.toISOString(),
    expiresAt: token.expiresAt.toISOString(),
    revokedAt: token.revokedAt ? token.revokedAt.toISOString() : null,
  };
}

export function userRoutes({ db, settings }: AppDeps) {
  const app = router();
  // The deployment's TOKEN_TTL_DAYS; an app built without it (tests) gets the default.
  const tokenSettings = settings as Partial<Pick<Settings, 'tokenTtlDays'>>;

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/me',
      tags: ['Users'],
      summary: 'Who the token belongs to',
      security: bearer,
      responses: {
        200: {
          description: 'The caller',
          content: {
            'application/json': {
              schema: z.object({ id: z.string(), name: z.string(), roles: z.array(RoleSchema) }),
            },
          },
        },
        ...errorResponses(401),
      },
    }),
    (c) => c.json(c.get('user'), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/users',
      tags: ['Users'],
      summary: 'List users (admins; managers, to pick owners; auditors, who read everything)',
      security: bearer,
      middleware: [requireRole('admin', 'manager', 'auditor')] as const,
      request: { query: PageQuerySchema },
      responses: {
        200: {
          description: 'A page of users',
          content: { 'application/json': { schema: pageOf(UserSchema, 'UserPage') } },
        },
        ...errorResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const [rows, [totals]] = await Promise.all([
        db
          .select()
          .from(users)
          .orderBy(asc(users.id))
          .limit(q.pageSize)
          .offset((q.page - 1) * q.pageSize),
        db.select({ total: count() }).from(users),
      ]);
      return c.json({ items: rows.map(toUserDto), page: q.page, pageSize: q.pageSize, total: totals?.total ?? 0 }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/users',
      tags: ['Users'],
      summary: 'Create a user (admins)',
      description:
        'Audited as user.created. managerId, if given, must be another active user: unknown or inactive → 400, ' +
        'the user themselves → 422 MANAGER_IS_SELF.',
      security: bearer,
      middleware: [requireRole('admin')] as const,
      request: { body: { required: true, content: { 'application/json': { schema: CreateUserSchema } } } },
      responses: {
        201: { description: 'Created', content: { 'application/json': { schema: UserSchema } } },
        ...errorResponses(400, 401, 403, 409, 422),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const created = await createUser(db, body, { actorId: c.get('user').id });
      return c.json(toUserDto(created), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/api/users/{userId}',
      tags: ['Users'],
      summary: 'Change a user’s name, roles or line manager (admins)',
      description:
        'Audited as user.updated, with each changed field’s old and new value. managerId must be another active ' +
        'user (400 otherwise), never the user (422 MANAGER_IS_SELF), and may not close a loop of managers ' +
        '(422 MANAGER_CYCLE); null removes it. An admin cannot take away their own admin role (422 SELF_ADMIN_REMOVAL).',
      security: bearer,
      middleware: [requireRole('admin')] as const,
      request: {
        params: UserParams,
        body: { required: true, content: { 'application/json': { schema: UpdateUserSchema } } },
      },
      responses: {
        200: { description: 'The user as changed', content: { 'application/json': { schema: UserSchema } } },
        ...errorResponses(400, 401, 403, 404, 422),
      },
    }),
    async (c) => {
      const { userId } = c.req.valid('param');
      const updated = await updateUser(db, userId, c.req.valid('json'), { actorId: c.get('user').id });
      return c.json(toUserDto(updated), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/users/{userId}/deactivate',
      tags: ['Users'],
      summary: 'Deactivate a user and revoke all their tokens, at once (admins)',
      description:
        'Audited as user.deactivated, naming the tokens revoked. Their tokens stop working with this call and do ' +
        'not come back with a reactivation. Already inactive → 409 USER_ALREADY_INACTIVE; an admin cannot ' +
        'deactivate themselves (422 SELF_DEACTIVATION).',
      security: bearer,
      middleware: [requireRole('admin')] as const,
      request: {
        params: UserParams,
        body: { required: false, content: { 'application/json': { schema: ReasonBodySchema } } },
      },
      responses: {
        200: { description: 'Deactivated', content: { 'application/json': { schema: DeactivatedUserSchema } } },
        ...errorResponses(400, 401, 403, 404, 409, 422),
      },
    }),
    async (c) => {
      const { userId } = c.req.valid('param');
      const admin = c.get('user');
      if (userId === admin.id) {
        throw new ApiError(
          'UNPROCESSABLE',
          'an admin cannot deactivate themselves: another admin does that',
          undefined,
          'SELF_DEACTIVATION',
        );
      }
      const { user, revokedTokenIds } = await deactivateUser(db, userId, {
        actorId: admin.id,
        reason: c.req.valid('json').reason,
      });
      return c.json({ ...toUserDto(user), revokedTokenIds }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/users/{userId}/reactivate',
      tags: ['Users'],
      summary: 'Reactivate a user (admins); they need a new token',
      description: 'Audited as user.reactivated. Already active → 409 USER_ALREADY_ACTIVE.',
      security: bearer,
      middleware: [requireRole('admin')] as const,
      request: {
        params: UserParams,
        body: { required: false, content: { 'application/json': { schema: ReasonBodySchema } } },
      },
      responses: {
        200: { description: 'Reactivated', content: { 'application/json': { schema: UserSchema } } },
        ...errorResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => {
      const { userId } = c.req.valid('param');
      const user = await reactivateUser(db, userId, { actorId: c.get('user').id, reason: c.req.valid('json').reason });
      return c.json(toUserDto(user), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/users/{userId}/tokens',
      tags: ['Users'],
      summary: 'Issue an API token for a user (admins); the token is shown once',
      description:
        `Audited as token.issued. The token expires after expiresInDays (1 to ${MAX_TOKEN_TTL_DAYS}), or the ` +
        `deployment's TOKEN_TTL_DAYS (default ${DEFAULT_TOKEN_TTL_DAYS}); an expired token gets 401 TOKEN_EXPIRED.`,
      security: bearer,
      middleware: [requireRole('admin')] as const,
      request: {
        params: UserParams,
        body: { required: true, content: { 'application/json': { schema: IssueTokenSchema } } },
      },
      responses: {
        201: { description: 'Issued', content: { 'application/json': { schema: IssuedTokenSchema } } },
        ...errorResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const { userId } = c.req.valid('param');
      const { label, expiresInDays } = c.req.valid('json');
      const issued = await issueTokenFor(
        db,
        { userId, label, ttlDays: expiresInDays ?? tokenSettings.tokenTtlDays ?? DEFAULT_TOKEN_TTL_DAYS },
        { actorId: c.get('user').id },
      );
      return c.json({ ...toTokenDto(issued), token: issued.token }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/users/{userId}/tokens',
      tags: ['Users'],
      summary:
        'A user’s API tokens, newest first (admins): when each was issued, expires, was revoked; never the token',
      security: bearer,
      middleware: [requireRole('admin')] as const,
      request: { params: UserParams, query: PageQuerySchema },
      responses: {
        200: {
          description: 'A page of tokens',
          content: { 'application/json': { schema: pageOf(ApiTokenSchema, 'ApiTokenPage') } },
        },
        ...errorResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const { userId } = c.req.valid('param');
      const q = c.req.valid('query');
      const [user] = await db.select({ id: users.id }).from(users).where(eq(users.id, userId));
      if (!user) throw new ApiError('NOT_FOUND', `no user ${userId}`);
      const [rows, [totals]] = await Promise.all([
        db
          .select({
            id: apiTokens.id,
            userId: apiTokens.userId,
            label: apiTokens.label,
            createdAt: apiTokens.createdAt,
            expiresAt: apiTokens.expiresAt,
            revokedAt: apiTokens.revokedAt,
          })
          .from(apiTokens)
          .where(eq(apiTokens.userId, userId))
          .orderBy(desc(apiTokens.createdAt), asc(apiTokens.id))
          .limit(q.pageSize)
          .offset((q.page - 1) * q.pageSize),
        db.select({ total: count() }).from(apiTokens).where(eq(apiTokens.userId, userId)),
      ]);
      return c.json(
        { items: rows.map(toTokenDto), page: q.page, pageSize: q.pageSize, total: totals?.total ?? 0 },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/tokens/{tokenId}/revoke',
      tags: ['Users'],
      summary: 'Revoke an API token (admins); it stops working at once',
      description:
        'Audited as token.revoked. Revoking a token twice is refused: 409 TOKEN_ALREADY_REVOKED, naming when, ' +
        'and nothing is written.',
      security: bearer,
      middleware: [requireRole('admin')] as const,
      request: {
        params: z.object({ tokenId: z.uuid() }),
        body: { required: false, content: { 'application/json': { schema: ReasonBodySchema } } },
      },
      responses: {
        200: { description: 'Revoked', content: { 'application/json': { schema: ApiTokenSchema } } },
        ...errorResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => {
      const { tokenId } = c.req.valid('param');
      const revoked = await revokeToken(db, tokenId, { actorId: c.get('user').id, reason: c.req.valid('json').reason });
      return c.json(toTokenDto(revoked), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/notifications',
      tags: ['Users'],
      summary: 'Reminders and escalations addressed to me or to one of my roles, newest first',
      security: bearer,
      request: { query: PageQuerySchema },
      responses: {
        200: {
          description: 'A page of notifications',
          content: { 'application/json': { schema: pageOf(NotificationSchema, 'NotificationPage') } },
        },
        ...errorResponses(400, 401),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const user = c.get('user');
      const where = or(
        eq(notifications.recipientId, user.id),
        and(isNull(notifications.recipientId), inArray(notifications.recipientRole, user.roles)),
      );
      const [rows, [totals]] = await Promise.all([
        db
          .select()
          .from(notifications)
          .where(where)
          .orderBy(desc(notifications.createdAt), desc(notifications.id))
          .limit(q.pageSize)
          .offset((q.page - 1) * q.pageSize),
        db.select({ total: count() }).from(notifications).where(where),
      ]);
      return c.json(
        { items: rows.map(toNotificationDto), page: q.page, pageSize: q.pageSize, total: totals?.total ?? 0 },
        200,
      );
    },
  );

  return app;
}
