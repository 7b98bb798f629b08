/**
 * Delivery of notifications to people (issue 13 §8): by mail over SMTP
 * (nodemailer) and by chat group bot (WeCom, DingTalk, Feishu; signing in
 * domain/chatSigning.ts), in each recipient's language, linking to the task
 * in the console.
 *
 * The `notify` activity (./index.ts) writes the notifications and hands each
 * one to its own `notificationDeliveryWorkflow` (workflows/notificationDelivery.ts),
 * started with an id made from the notification id: a retried notify starts
 * nothing twice, and the case never waits on, nor fails with, a delivery.
 * That workflow plans one record per recipient and channel, then sends each
 * with bounded retries; a delivery that keeps failing is recorded `failed`
 * with why. People who chose the digest get their mail once a day from
 * `notificationDigestWorkflow`, started by a Schedule per task queue.
 */
import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Database } from '../db/client';
import {
  DEFAULT_PREFERENCES,
  deliveryId,
  notificationDeliveries,
  notificationPreferences,
  type DeliveryChannel,
  type NotificationDeliveryRow,
} from '../db/delivery';
import { cases, notifications, tasks, users } from '../db/schema';
import { chatRefusal, chatRequest, type ChatChannel } from '../domain/chatSigning';
import { renderDigest, renderNotice, type Notice, type NoticeLanguage } from '../domain/notices';
import { createScheduleOnce } from '../platform/cases';
import { deliverySettingsFrom, type DeliverySettings } from '../platform/config';

export interface DeliveryDeps {
  db: Database;
  clock?: () => Date;
  /** The client that starts delivery workflows; default the activity context's. */
  temporal?: Client;
  taskQueue?: string;
  /** Default: read from the environment (platform/config.ts). */
  delivery?: DeliverySettings;
}

/** How the delivery workflow retries a send: from the settings, so tests can shorten it. */
export interface DeliveryRetry {
  maximumAttempts: number;
  initialSeconds: number;
}

export const deliveryWorkflowId = (notificationId: string) => `notification-delivery:${notificationId}`;
/** Per task queue: test files sharing one Temporal server each have their own, as each has its own database. */
export const digestScheduleId = (taskQueue: string) => `notification-digest:${taskQueue}`;

/**
 * A notification's id, the same for every retry of the notify activity
 * that writes it (its activity key) and distinct per row of that call: the
 * delivery workflow started for it has one id whatever the retries.
 */
export function notificationIdFor(activityKey: string, index: number): string {
  const h = createHash('sha256').update(`${activityKey}#${index}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * What makes notifications one notice: the rows one notify call writes (one
 * per role, same case, task, kind, message and instant). Delivery records are
 * keyed on it, so the first plan among siblings claims each person.
 */
export function noticeKey(n: {
  caseId: string;
  taskId: string | null;
  kind: string;
  message: string;
  createdAt: Date;
}) {
  return hashOf([n.caseId, n.taskId ?? '', n.kind, n.message, n.createdAt.toISOString()].join('\n')).slice(0, 32);
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 1000);
const hashOf = (text: string) => createHash('sha256').update(text).digest('hex');
const currentAttempt = () => {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1;
  }
};

/** The daily digest's Schedule, created once per task queue (a redeploy or a second worker keeps it). */
export async function ensureDigestSchedule(temporal: Client, taskQueue: string, hourUtc: number): Promise<boolean> {
  return createScheduleOnce(temporal, {
    scheduleId: digestScheduleId(taskQueue),
    spec: { calendars: [{ hour: hourUtc, minute: 0 }] },
    action: {
      type: 'startWorkflow',
      workflowType: 'notificationDigestWorkflow',
      args: [],
      taskQueue,
      workflowId: `notification-digest-run:${taskQueue}`,
      staticSummary: 'Daily digest: one mail per person with the day’s notices · 每日提醒摘要',
    },
    policies: { overlap: 'SKIP', catchupWindow: '1 day' },
    state: { note: 'sends each person who chose the digest one mail with the day’s notices' },
  });
}

export function createDelivery(deps: DeliveryDeps) {
  const { db, clock = () => new Date() } = deps;
  const settings = deps.delivery ?? deliverySettingsFrom(process.env, Number(process.env.PORT) || 3000);
  const enabled = Boolean(settings.smtpUrl) || Object.keys(settings.chatBots).length > 0;
  const retry: DeliveryRetry = { maximumAttempts: settings.maxAttempts, initialSeconds: settings.retryInitialSeconds };
  let transport: Transporter | undefined;
  const mailer = () =>
    (transport ??= nodemailer.createTransport(settings.smtpUrl!, {
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
    }));
  let digestScheduleEnsured = false;

  const client = () => deps.temporal ?? Context.current().client;
  const taskQueue = () => deps.taskQueue ?? Context.current().info.taskQueue;

  /** The notices of these deliveries, with their case and task, as their recipients read them. */
  async function noticesOf(ids: string[]) {
    const rows = await db
      .select({
        delivery: notificationDeliveries,
        kind: notifications.kind,
        message: notifications.message,
        createdAt: notifications.createdAt,
        caseTitle: cases.title,
        taskTitle: tasks.title,
        dueAt: tasks.dueAt,
        name: users.name,
        timeZone: notificationPreferences.timeZone,
      })
      .from(notificationDeliveries)
      .innerJoin(notifications, eq(notifications.id, notificationDeliveries.notificationId))
      .innerJoin(users, eq(users.id, notificationDeliveries.userId))
      .leftJoin(cases, eq(cases.id, notificationDeliveries.caseId))
      .leftJoin(tasks, eq(tasks.id, notificationDeliveries.taskId))
      .leftJoin(notificationPreferences, eq(notificationPreferences.userId, notificationDeliveries.userId))
      .where(inArray(notificationDeliveries.id, ids))
      .orderBy(asc(notifications.createdAt), asc(notificationDeliveries.id));
    return rows.map((r) => ({
      delivery: r.delivery,
      recipient: {
        name: r.name,
        language: r.delivery.language,
        timeZone: r.timeZone ?? DEFAULT_PREFERENCES.timeZone,
      },
      notice: {
        kind: r.kind,
        caseId: r.delivery.caseId,
        caseTitle: r.caseTitle ?? r.delivery.caseId,
        taskId: r.delivery.taskId,
        taskTitle: r.taskTitle,
        dueAt: r.dueAt,
        message: r.message,
        createdAt: r.createdAt,
      } satisfies Notice,
    }));
  }

  async function recordAttemptFailed(ids: string[], why: string) {
    await db
      .update(notificationDeliveries)
      .set({ attempts: currentAttempt(), lastError: why, updatedAt: clock() })
      .where(inArray(notificationDeliveries.id, ids));
  }

  async function send(delivery: NotificationDeliveryRow, text: ReturnType<typeof renderNotice>): Promise<string> {
    if (delivery.channel === 'email') {
      const info = await mailer().sendMail({
        from: settings.mailFrom,
        to: delivery.address!,
        subject: text.subject,
        text: text.text,
        html: text.html,
        // One Message-ID per delivery: should a retry resend after a lost answer, mail clients show one message.
        messageId: `<${hashOf(delivery.id).slice(0, 32)}@governance.delivery>`,
        headers: { 'X-Governance-Delivery': delivery.id },
      });
      return info.messageId;
    }
    const channel = delivery.channel as ChatChannel;
    const bot = settings.chatBots[channel];
    if (!bot) throw new Error(`no ${channel} bot is configured`);
    const request = chatRequest(channel, bot, text.chat, clock());
    const res = await fetch(request.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify(request.body),
      signal: AbortSignal.timeout(15_000),
    });
    const raw = await res.text();
    let answer: unknown;
    try {
      answer = JSON.parse(raw);
    } catch {
      answer = undefined;
    }
    const refusal = chatRefusal(channel, res.status, answer);
    if (refusal) throw new Error(refusal);
    return raw.slice(0, 200);
  }

  const activities = {
    /**
     * Who receives the notification and how: one record per recipient and
     * channel, written once (ON CONFLICT DO NOTHING). Returns the records to
     * send now and how to retry them.
     */
    async planNotificationDelivery(input: {
      notificationId: string;
    }): Promise<{ deliveryIds: string[]; retry: DeliveryRetry }> {
      const [notification] = await db
        .select({ n: notifications, excluded: tasks.excludedUserIds })
        .from(notifications)
        .leftJoin(tasks, eq(tasks.id, notifications.taskId))
        .where(eq(notifications.id, input.notificationId));
      if (!notification) return { deliveryIds: [], retry };
      const { n, excluded } = notification;
      const who = n.recipientId
        ? eq(users.id, n.recipientId)
        : n.recipientRole
          ? sql`${users.roles} @> array[${n.recipientRole}]::text[]`
          : undefined;
      const recipients = who
        ? await db
            .select({ user: users, prefs: notificationPreferences })
            .from(users)
            .leftJoin(notificationPreferences, eq(notificationPreferences.userId, users.id))
            .where(and(who, eq(users.active, true)))
        : [];
      const now = clock();
      // One notify call writes a row per role; someone who holds two of those roles hears once.
      const notice = noticeKey(n);
      const rows: Array<typeof notificationDeliveries.$inferInsert> = [];
      let queued = false;
      for (const { user, prefs } of recipients) {
        // A role's reminder does not reach whom the task excludes (segregation of duties).
        if (!n.recipientId && excluded?.includes(user.id)) continue;
        const p = prefs ?? DEFAULT_PREFERENCES;
        const base = {
          notificationId: n.id,
          caseId: n.caseId,
          taskId: n.taskId,
          userId: user.id,
          language: p.language,
          createdAt: now,
          updatedAt: now,
        };
        if (p.email) {
          const status = !settings.smtpUrl ? 'skipped' : p.digest ? 'queued' : 'pending';
          queued ||= status === 'queued';
          rows.push({
            ...base,
            id: deliveryId(notice, user.id, 'email'),
            channel: 'email',
            address: user.email,
            status,
            lastError: status === 'skipped' ? 'no SMTP server is configured (SMTP_URL)' : null,
          });
        }
        if (p.chat) {
          const configured = Boolean(settings.chatBots[p.chat]);
          rows.push({
            ...base,
            id: deliveryId(notice, user.id, p.chat),
            channel: p.chat,
            address: p.chat,
            status: configured ? 'pending' : 'skipped',
            lastError: configured ? null : `no ${p.chat} bot is configured (${p.chat.toUpperCase()}_WEBHOOK_URL)`,
          });
        }
      }
      if (rows.length) await db.insert(notificationDeliveries).values(rows).onConflictDoNothing();
      if (queued && !digestScheduleEnsured) {
        await ensureDigestSchedule(client(), taskQueue(), settings.digestHourUtc);
        digestScheduleEnsured = true;
      }
      const pending = await db
        .select({ id: notificationDeliveries.id })
        .from(notificationDeliveries)
        .where(and(eq(notificationDeliveries.notificationId, n.id), eq(notificationDeliveries.status, 'pending')))
        .orderBy(asc(notificationDeliveries.id));
      return { deliveryIds: pending.map((r) => r.id), retry };
    },

    /**
     * Sends one record's message unless it was sent already: a retry after
     * the message went out and its record was written sends nothing.
     * Every failed attempt is written to the record with why, then thrown
     * for Temporal to retry.
     */
    async sendNotificationDelivery(input: { deliveryId: string }): Promise<{ status: string }> {
      const [item] = await noticesOf([input.deliveryId]);
      if (!item || item.delivery.status !== 'pending') return { status: item?.delivery.status ?? 'missing' };
      let ref: string;
      try {
        ref = await send(item.delivery, renderNotice(item.notice, item.recipient, settings.consoleUrl));
      } catch (err) {
        await recordAttemptFailed([input.deliveryId], errorText(err));
        throw err;
      }
      await db
        .update(notificationDeliveries)
        .set({ status: 'sent', attempts: currentAttempt(), providerRef: ref, sentAt: clock(), updatedAt: clock() })
        .where(and(eq(notificationDeliveries.id, input.deliveryId), eq(notificationDeliveries.status, 'pending')));
      return { status: 'sent' };
    },

    /** The retries are spent: the record says failed, and why. The case never hears of it. */
    async recordDeliveryFailure(input: { deliveryIds: string[]; why: string }): Promise<void> {
      await db
        .update(notificationDeliveries)
        .set({ status: 'failed', lastError: input.why.slice(0, 1000), updatedAt: clock() })
        .where(
          and(
            inArray(notificationDeliveries.id, input.deliveryIds),
            inArray(notificationDeliveries.status, ['pending', 'queued']),
          ),
        );
    },

    /** Each person's queued records, oldest first (at most 200 a mail), for the daily digest. */
    async listDigestBatches(): Promise<{
      batches: Array<{ userId: string; deliveryIds: string[] }>;
      retry: DeliveryRetry;
    }> {
      const rows = await db
        .select({ id: notificationDeliveries.id, userId: notificationDeliveries.userId })
        .from(notificationDeliveries)
        .where(eq(notificationDeliveries.status, 'queued'))
        .orderBy(
          asc(notificationDeliveries.userId),
          asc(notificationDeliveries.createdAt),
          asc(notificationDeliveries.id),
        );
      const byUser = new Map<string, string[]>();
      for (const row of rows) {
        const ids = byUser.get(row.userId) ?? [];
        if (ids.length < 200) ids.push(row.id);
        byUser.set(row.userId, ids);
      }
      return { batches: [...byUser].map(([userId, deliveryIds]) => ({ userId, deliveryIds })), retry };
    },

    /** One mail with the person's queued notices; those already sent (a retry) are left out. */
    async sendDigest(input: { userId: string; deliveryIds: string[] }): Promise<{ sent: number }> {
      const items = (await noticesOf(input.deliveryIds)).filter(
        (i) => i.delivery.status === 'queued' && i.delivery.userId === input.userId,
      );
      if (!items.length) return { sent: 0 };
      const ids = items.map((i) => i.delivery.id);
      const digestId = `digest-${hashOf(ids.join('\n')).slice(0, 32)}`;
      const first = items[0]!;
      const mail = renderDigest(
        items.map((i) => i.notice),
        first.recipient,
        settings.consoleUrl,
      );
      let messageId: string;
      try {
        if (!settings.smtpUrl) throw new Error('no SMTP server is configured (SMTP_URL)');
        const info = await mailer().sendMail({
          from: settings.mailFrom,
          to: first.delivery.address!,
          subject: mail.subject,
          text: mail.text,
          html: mail.html,
          messageId: `<${digestId}@governance.delivery>`,
          headers: { 'X-Governance-Digest': digestId },
        });
        messageId = info.messageId;
      } catch (err) {
        await recordAttemptFailed(ids, errorText(err));
        throw err;
      }
      await db
        .update(notificationDeliveries)
        .set({
          status: 'sent',
          digestId,
          attempts: currentAttempt(),
          providerRef: messageId,
          sentAt: clock(),
          updatedAt: clock(),
        })
        .where(and(inArray(notificationDeliveries.id, ids), eq(notificationDeliveries.status, 'queued')));
      return { sent: ids.length };
    },
  };

  /** Starts one delivery workflow per notification; one already started (a retried notify) is left alone. */
  async function handOff(notificationIds: string[], about: { caseId: string; kind: string }): Promise<void> {
    if (!enabled || !notificationIds.length) return;
    for (const notificationId of notificationIds) {
      try {
        await client().workflow.start('notificationDeliveryWorkflow', {
          taskQueue: taskQueue(),
          workflowId: deliveryWorkflowId(notificationId),
          args: [{ notificationId }],
          // Never again for this notification, even after the first run closed.
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          // What Temporal UI shows an auditor instead of a bare workflow type (issue 13 §9).
          staticSummary: `Deliver the ${about.kind} of case ${about.caseId} by mail and chat · 投递案件通知`,
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
    }
  }

  return { activities, handOff, settings };
}

export type DeliveryActivities = ReturnType<typeof createDelivery>['activities'];
export type { DeliveryChannel, NoticeLanguage };
