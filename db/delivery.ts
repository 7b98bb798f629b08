/**
 * Notification delivery (issue 13 §8, migration 0020): each person's
 * preferences, and one record per notification, recipient and channel.
 *
 * A record is `pending` until its message is sent (`sent`), or `queued`
 * for the person's daily digest; `failed` once its retries are spent (with
 * `last_error` saying why) and `skipped` when it could not be attempted (a
 * chat channel the deployment has no bot for). `attempts` counts tries.
 */
import { boolean, index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import type { ChatChannel } from '../domain/chatSigning';
import type { NoticeLanguage } from '../domain/notices';
import { notifications, users } from './schema';

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const DELIVERY_CHANNELS = ['email', 'wecom', 'dingtalk', 'feishu'] as const;
export type DeliveryChannel = (typeof DELIVERY_CHANNELS)[number];
export const DELIVERY_STATUSES = ['pending', 'queued', 'sent', 'failed', 'skipped'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export const notificationPreferences = pgTable('notification_preferences', {
  userId: text('user_id')
    .primaryKey()
    .references(() => users.id),
  /** Mail to the user's address (users.email). */
  email: boolean('email').notNull().default(true),
  /** Which chat group bot also carries the user's notices; null: none. */
  chat: text('chat').$type<ChatChannel>(),
  language: text('language').$type<NoticeLanguage>().notNull().default('zh-CN'),
  /** An IANA time zone, for the dates the messages show. */
  timeZone: text('time_zone').notNull().default('Asia/Shanghai'),
  /** One mail a day with every notice instead of one per notice (chat stays immediate). */
  digest: boolean('digest').notNull().default(false),
  updatedAt: at('updated_at').notNull().defaultNow(),
});

export type NotificationPreferencesRow = typeof notificationPreferences.$inferSelect;

/** What a user who never chose gets: mail, in Chinese, China time, one mail per notice. */
export const DEFAULT_PREFERENCES = {
  email: true,
  chat: null,
  language: 'zh-CN',
  timeZone: 'Asia/Shanghai',
  digest: false,
} as const satisfies Omit<NotificationPreferencesRow, 'userId' | 'updatedAt'>;

export const notificationDeliveries = pgTable(
  'notification_deliveries',
  {
    /** `<noticeKey>/<userId>/<channel>` (deliveryId(), noticeKey() in activities/delivery.ts): one per person per notice. */
    id: text('id').primaryKey(),
    /** The notification whose delivery workflow planned it (a sibling row of the same notice may have named the person too). */
    notificationId: text('notification_id')
      .notNull()
      .references(() => notifications.id),
    caseId: text('case_id').notNull(),
    taskId: text('task_id'),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    channel: text('channel').$type<DeliveryChannel>().notNull(),
    /** The mail address, or the chat channel's bot, as it was when planned. */
    address: text('address'),
    language: text('language').$type<NoticeLanguage>().notNull(),
    status: text('status').$type<DeliveryStatus>().notNull(),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    /** The SMTP Message-ID, or what the bot answered. */
    providerRef: text('provider_ref'),
    /** The digest mail that carried it. */
    digestId: text('digest_id'),
    createdAt: at('created_at').notNull().defaultNow(),
    updatedAt: at('updated_at').notNull().defaultNow(),
    sentAt: at('sent_at'),
  },
  (t) => [
    index('notification_deliveries_user_status').on(t.userId, t.status),
    index('notification_deliveries_created_at').on(t.createdAt, t.id),
  ],
);

export type NotificationDeliveryRow = typeof notificationDeliveries.$inferSelect;

export const deliveryId = (noticeKey: string, userId: string, channel: DeliveryChannel) =>
  `${noticeKey}/${userId}/${channel}`;
