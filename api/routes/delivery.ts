/**
 * How notices reach people (issue 13 §8): each user's own preferences, and
 * the delivery records (sent, failed and why, attempts) that admins and
 * auditors read. The deliveries themselves run in the worker
 * (activities/delivery.ts, workflows/notificationDelivery.ts).
 */
import { createRoute, z } from '@hono/zod-openapi';
import { and, count, desc, eq, type SQL } from 'drizzle-orm';
import {
  DEFAULT_PREFERENCES,
  DELIVERY_CHANNELS,
  DELIVERY_STATUSES,
  notificationDeliveries,
  notificationPreferences,
  type NotificationDeliveryRow,
} from '../../db/delivery';
import { CHAT_CHANNELS } from '../../domain/chatSigning';
import { NOTICE_LANGUAGES } from '../../domain/notices';
import { requireRole } from '../auth';
import { pageOf, PageQuerySchema } from '../schemas';
import { bearer, errorResponses, router, type AppDeps } from './common';

const isValidTimeZone = (tz: string) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

const PreferencesSchema = z
  .object({
    email: z.boolean().openapi({ description: 'mail to the address of my user record' }),
    chat: z.enum(CHAT_CHANNELS).nullable().openapi({
      description: 'which chat group bot also carries my notices (the deployment configures the bots); null: none',
    }),
    language: z.enum(NOTICE_LANGUAGES),
    timeZone: z
      .string()
      .min(1)
      .max(64)
      .refine(isValidTimeZone, 'is not an IANA time zone (e.g. Asia/Shanghai)')
      .openapi({ example: 'Asia/Shanghai', description: 'for the dates in my messages' }),
    digest: z
      .boolean()
      .openapi({ description: 'one mail a day with all my notices instead of one mail each (chat stays immediate)' }),
  })
  .strict()
  .openapi('NotificationPreferences');

const DeliverySchema = z
  .object({
    id: z.string(),
    notificationId: z.string(),
    caseId: z.string(),
    taskId: z.string().nullable(),
    userId: z.string(),
    channel: z.enum(DELIVERY_CHANNELS),
    address: z.string().nullable(),
    language: z.enum(NOTICE_LANGUAGES),
    status: z.enum(DELIVERY_STATUSES),
    attempts: z.number().int(),
    lastError: z.string().nullable().openapi({ description: 'why the last attempt failed, or why it was skipped' }),
    providerRef: z.string().nullable(),
    digestId: z.string().nullable(),
    createdAt: z.string().openapi({ format: 'date-time' }),
    sentAt: z.string().nullable().openapi({ format: 'date-time' }),
  })
  .openapi('NotificationDelivery');

const DeliveryQuerySchema = PageQuerySchema.extend({
  status: z.enum(DELIVERY_STATUSES).optional(),
  channel: z.enum(DELIVERY_CHANNELS).optional(),
  userId: z.string().min(1).max(64).optional(),
  caseId: z.string().min(1).max(300).optional(),
});

const toDeliveryDto = (r: NotificationDeliveryRow): z.infer<typeof DeliverySchema> => ({
  id: r.id,
  notificationId: r.notificationId,
  caseId: r.caseId,
  taskId: r.taskId,
  userId: r.userId,
  channel: r.channel,
  address: r.address,
  language: r.language,
  status: r.status,
  attempts: r.attempts,
  lastError: r.lastError,
  providerRef: r.providerRef,
  digestId: r.digestId,
  createdAt: r.createdAt.toISOString(),
  sentAt: r.sentAt?.toISOString() ?? null,
});

export function deliveryRoutes({ db }: AppDeps) {
  const app = router();

  const myPreferences = async (userId: string) => {
    const [row] = await db.select().from(notificationPreferences).where(eq(notificationPreferences.userId, userId));
    const p = row ?? DEFAULT_PREFERENCES;
    return { email: p.email, chat: p.chat, language: p.language, timeZone: p.timeZone, digest: p.digest };
  };

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/me/notification-preferences',
      tags: ['Notifications'],
      summary: 'How my reminders and escalations reach me (defaults until I choose: mail, zh-CN, one mail each)',
      security: bearer,
      responses: {
        200: { description: 'My preferences', content: { 'application/json': { schema: PreferencesSchema } } },
        ...errorResponses(401),
      },
    }),
    async (c) => c.json(await myPreferences(c.get('user').id), 200),
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/api/me/notification-preferences',
      tags: ['Notifications'],
      summary: 'Choose how my reminders and escalations reach me (every field; auditors, read-only, keep the defaults)',
      security: bearer,
      request: { body: { required: true, content: { 'application/json': { schema: PreferencesSchema } } } },
      responses: {
        200: {
          description: 'My preferences, as saved',
          content: { 'application/json': { schema: PreferencesSchema } },
        },
        ...errorResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const userId = c.get('user').id;
      const body = c.req.valid('json');
      const row = { ...body, userId, updatedAt: new Date() };
      await db
        .insert(notificationPreferences)
        .values(row)
        .onConflictDoUpdate({ target: notificationPreferences.userId, set: row });
      return c.json(await myPreferences(userId), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/notification-deliveries',
      tags: ['Notifications'],
      summary:
        'Delivery records: each notice to each person by each channel, sent or failed and why (admins, auditors)',
      security: bearer,
      middleware: [requireRole('admin', 'auditor')] as const,
      request: { query: DeliveryQuerySchema },
      responses: {
        200: {
          description: 'A page of delivery records, newest first',
          content: { 'application/json': { schema: pageOf(DeliverySchema, 'NotificationDeliveryPage') } },
        },
        ...errorResponses(400, 401, 403),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const filters: SQL[] = [];
      if (q.status) filters.push(eq(notificationDeliveries.status, q.status));
      if (q.channel) filters.push(eq(notificationDeliveries.channel, q.channel));
      if (q.userId) filters.push(eq(notificationDeliveries.userId, q.userId));
      if (q.caseId) filters.push(eq(notificationDeliveries.caseId, q.caseId));
      const where = filters.length ? and(...filters) : undefined;
      const [rows, [totals]] = await Promise.all([
        db
          .select()
          .from(notificationDeliveries)
          .where(where)
          .orderBy(desc(notificationDeliveries.createdAt), desc(notificationDeliveries.id))
          .limit(q.pageSize)
          .offset((q.page - 1) * q.pageSize),
        db.select({ total: count() }).from(notificationDeliveries).where(where),
      ]);
      return c.json(
        { items: rows.map(toDeliveryDto), page: q.page, pageSize: q.pageSize, total: totals?.total ?? 0 },
        200,
      );
    },
  );

  return app;
}
