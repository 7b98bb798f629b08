import { createRoute, z } from '@hono/zod-openapi';
import { and, asc, count, desc, eq, inArray, isNull, or } from 'drizzle-orm';
import { appendAuditEvent } from '../../db/audit';
import { notifications, users } from '../../db/schema';
import { ROLES } from '../../domain/roles';
import { issueToken, requireRole } from '../auth';
import { toNotificationDto } from '../dto';
import { ApiError } from '../errors';
import { CreateUserSchema, NotificationSchema, pageOf, PageQuerySchema, UserSchema } from '../schemas';
import { bearer, errorResponses, router, type AppDeps } from './common';

const TokenSchema = z
  .object({
    userId: z.string(),
    label: z.string(),
    token: z.string().openapi({ description: 'shown once; store it safely' }),
  })
  .openapi('IssuedToken');

export function userRoutes({ db }: AppDeps) {
  const app = router();

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
              schema: z.object({ id: z.string(), name: z.string(), roles: z.array(z.enum(ROLES)) }),
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
          .select({ id: users.id, name: users.name, email: users.email, roles: users.roles, active: users.active })
          .from(users)
          .orderBy(asc(users.id))
          .limit(q.pageSize)
          .offset((q.page - 1) * q.pageSize),
        db.select({ total: count() }).from(users),
      ]);
      return c.json({ items: rows, page: q.page, pageSize: q.pageSize, total: totals?.total ?? 0 }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/users',
      tags: ['Users'],
      summary: 'Create a user (admins)',
      security: bearer,
      middleware: [requireRole('admin')] as const,
      request: { body: { required: true, content: { 'application/json': { schema: CreateUserSchema } } } },
      responses: {
        201: { description: 'Created', content: { 'application/json': { schema: UserSchema } } },
        ...errorResponses(400, 401, 403, 409),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const admin = c.get('user');
      const created = await db.transaction(async (tx) => {
        const [clash] = await tx
          .select({ id: users.id })
          .from(users)
          .where(or(eq(users.id, body.id), eq(users.email, body.email)));
        if (clash) throw new ApiError('CONFLICT', `a user with id ${body.id} or email ${body.email} already exists`);
        const [row] = await tx
          .insert(users)
          .values({ ...body, roles: [...new Set(body.roles)] })
          .returning();
        return row!;
      });
      await appendAuditEvent(db, {
        idempotencyKey: `user:${created.id}:created`,
        actorId: admin.id,
        action: 'user.created',
        payload: { userId: created.id, roles: created.roles },
      });
      return c.json(
        { id: created.id, name: created.name, email: created.email, roles: created.roles, active: created.active },
        201,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/users/{userId}/tokens',
      tags: ['Users'],
      summary: 'Issue an API token for a user (admins); the token is shown once',
      security: bearer,
      middleware: [requireRole('admin')] as const,
      request: {
        params: z.object({ userId: z.string().min(1).max(64) }),
        body: {
          required: true,
          content: { 'application/json': { schema: z.object({ label: z.string().trim().min(1).max(100) }).strict() } },
        },
      },
      responses: {
        201: { description: 'Issued', content: { 'application/json': { schema: TokenSchema } } },
        ...errorResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const { userId } = c.req.valid('param');
      const { label } = c.req.valid('json');
      const [user] = await db
        .select({ id: users.id })
        .from(users)
        .where(and(eq(users.id, userId), eq(users.active, true)));
      if (!user) throw new ApiError('NOT_FOUND', `no active user ${userId}`);
      const token = await issueToken(db, userId, label);
      await appendAuditEvent(db, {
        idempotencyKey: `token:${userId}:${Date.now()}:${c.get('requestId')}`,
        actorId: c.get('user').id,
        action: 'token.issued',
        payload: { userId, label },
      });
      return c.json({ userId, label, token }, 201);
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
