/**
 * Reminders that reach people (issue 13 §8), end to end: a real case on the
 * real Temporal dev server and PostgreSQL, its reminder mailed through a real
 * SMTP server (Mailpit, read back through its HTTP API) and posted to chat
 * bots (a local HTTP server in this file standing in for WeCom, DingTalk and
 * Feishu, which checks each signature with its own code). Failing deliveries
 * are retried, recorded as failed with why, and the case goes on; a digest
 * gathers a person's notices into one mail; retried activities send nothing
 * twice.
 *
 * The file runs its own worker on the harness's task queue (the harness's is
 * stopped) so it can give it delivery settings and wrap two activities to
 * fail once after their work is done, as a worker that dies at that moment.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Context } from '@temporalio/activity';
import { Worker, type NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createActivities } from '../../activities';
import { digestScheduleId } from '../../activities/delivery';
import { dataConverterFor } from '../../platform/codec';
import type { DeliverySettings } from '../../platform/config';
import { startMailpit, type Mailpit } from '../../platform/mailpit';
import { connectWorker } from '../../platform/temporalConnection';
import { TEST_CODEC_KEYS } from '../support/codecKeys';
import { eventually, useHarness } from '../support/harness';

const h = useHarness('delivery');

/** Reminders, retries and digests wait on timers and a busy machine: more than the project's 60 s per test. */
const SLOW = 240_000;

const CONSOLE_URL = 'http://console.test.example:8080';
const WECOM_KEY = 'wecom-key-0f4c';
const DINGTALK_SECRET = 'SECdingtalk-secret-for-tests';
const FEISHU_SECRET = 'feishu-secret-for-tests';

/** What a bot endpoint received. */
interface BotCall {
  channel: 'wecom' | 'dingtalk' | 'feishu';
  url: URL;
  body: any;
  at: number;
}

/**
 * The three group bots on one local server. Each answers as its platform
 * does, and refuses (HTTP 500) any message addressed to "Bounce Person", the
 * user whose every delivery must fail.
 */
async function startBots(): Promise<{ url: string; calls: BotCall[]; server: Server }> {
  const calls: BotCall[] = [];
  const read = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let data = '';
      req.on('data', (chunk) => (data += chunk));
      req.on('end', () => resolve(data));
    });
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const text = await read(req);
    const channel = url.pathname.split('/')[1] as BotCall['channel'];
    calls.push({ channel, url, body: JSON.parse(text), at: Date.now() });
    res.setHeader('content-type', 'application/json');
    if (text.includes('Bounce Person')) {
      res.statusCode = 500;
      res.end('{"error":"bot unavailable"}');
      return;
    }
    res.end(channel === 'feishu' ? '{"code":0,"msg":"success","data":{}}' : '{"errcode":0,"errmsg":"ok"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls, server };
}

let mailpit: Mailpit;
let bots: Awaited<ReturnType<typeof startBots>>;
let worker: Worker;
let workerRun: Promise<void>;
let connection: NativeConnection;
/** How often each wrapped activity failed on purpose after doing its work. */
const injected = { notify: 0, send: 0 };

beforeAll(async () => {
  // Mailpit refuses every address outside test.example: a real SMTP 550 for the bounce user.
  mailpit = await startMailpit({ log: () => undefined, extraArgs: ['--smtp-allowed-recipients', '@test\\.example$'] });
  bots = await startBots();
  const delivery: DeliverySettings = {
    smtpUrl: mailpit.smtpUrl,
    mailFrom: 'Governance <governance@test.example>',
    consoleUrl: CONSOLE_URL,
    chatBots: {
      wecom: { url: `${bots.url}/wecom/cgi-bin/webhook/send?key=${WECOM_KEY}` },
      dingtalk: { url: `${bots.url}/dingtalk/robot/send?access_token=ding-token`, secret: DINGTALK_SECRET },
      feishu: { url: `${bots.url}/feishu/open-apis/bot/v2/hook/hook-id`, secret: FEISHU_SECRET },
    },
    maxAttempts: 3,
    retryInitialSeconds: 1,
    digestHourUtc: 0,
  };

  h.worker.shutdown();
  const temporalSettings = { temporalNamespace: 'default', codecKeys: TEST_CODEC_KEYS };
  connection = await connectWorker(inject('temporalAddress'), temporalSettings);
  const activities = createActivities({ db: h.database.db, temporal: h.temporal, taskQueue: h.taskQueue, delivery });
  worker = await Worker.create({
    connection,
    namespace: 'default',
    taskQueue: h.taskQueue,
    workflowBundle: { codePath: inject('workflowBundlePath') },
    dataConverter: dataConverterFor(temporalSettings),
    activities: {
      ...activities,
      // The first attempt of every reminder's notify, and of every send to appr1, does its work and then
      // fails, as if the worker died before Temporal heard back: Temporal runs them again.
      async notify(input: Parameters<typeof activities.notify>[0]) {
        await activities.notify(input);
        if (input.kind === 'reminder' && Context.current().info.attempt === 1) {
          injected.notify += 1;
          throw new Error('injected: the worker died after notify');
        }
      },
      async sendNotificationDelivery(input: Parameters<typeof activities.sendNotificationDelivery>[0]) {
        const result = await activities.sendNotificationDelivery(input);
        if (input.deliveryId.includes('/appr1/') && Context.current().info.attempt === 1) {
          injected.send += 1;
          throw new Error('injected: the worker died after sending');
        }
        return result;
      },
    },
  });
  workerRun = worker.run();

  // Recipients beyond the harness's users: one whose mail and chat always fail, one on Feishu, one on the digest.
  await h.sql(
    `insert into users (id, name, email, roles) values
       ('bounce', 'Bounce Person', 'bounce@bounce.example', '{risk}'),
       ('feishu1', 'Feishu Person', 'feishu1@test.example', '{compliance}'),
       ('digest1', 'Digest Person', 'digest1@test.example', '{auditor}'),
       ('dual', 'Dual Person', 'dual@test.example', '{risk,compliance}')`,
  );
  // Room for a first Go build of Mailpit (scripts/ensure-mailpit.ts does it before `npm test`).
}, 900_000);

afterAll(async () => {
  await h.temporal.schedule
    .getHandle(digestScheduleId(h.taskQueue))
    .delete()
    .catch(() => undefined);
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await workerRun?.catch(() => undefined);
  await connection?.close();
  await new Promise((resolve) => bots?.server.close(resolve));
  await mailpit?.stop();
});

/** Sets a user's preferences as that user would, through the API (or SQL for users without a token). */
async function prefer(
  user: 'approver' | 'approver2' | 'risk2' | 'legal' | 'bounce' | 'feishu1' | 'digest1',
  prefs: { email: boolean; chat: string | null; language: 'zh-CN' | 'en'; timeZone?: string; digest?: boolean },
) {
  const body = { timeZone: 'Asia/Shanghai', digest: false, ...prefs };
  if (user === 'bounce' || user === 'feishu1' || user === 'digest1') {
    await h.sql(
      `insert into notification_preferences (user_id, email, chat, language, time_zone, digest) values ($1, $2, $3, $4, $5, $6)`,
      [user, body.email, body.chat, body.language, body.timeZone, body.digest],
    );
    return;
  }
  const res = await h.api('PUT', '/api/me/notification-preferences', { as: user, json: body });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body).toEqual(body);
}

const mailTo = async (address: string, subject: RegExp) =>
  (await mailpit.messages()).filter((m) => m.To.some((t) => t.Address === address) && subject.test(m.Subject));

const deliveries = async (caseId: string) =>
  (
    await h.api('GET', `/api/notification-deliveries?caseId=${encodeURIComponent(caseId)}&pageSize=100`, {
      as: 'auditor',
    })
  ).body.items as Array<{
    id: string;
    userId: string;
    channel: string;
    status: string;
    attempts: number;
    lastError: string | null;
    digestId: string | null;
  }>;

describe('delivery of reminders', () => {
  let caseId: string;
  let taskId: string;

  it(
    'a reminder reaches each approver by mail in their language, with a link that opens the task, and by their chat bot',
    async () => {
      await prefer('approver', { email: true, chat: null, language: 'en', timeZone: 'Europe/London' });
      // approver2 (compliance) never chose: mail in Chinese, the default.
      await prefer('risk2', { email: false, chat: 'wecom', language: 'zh-CN' });
      await prefer('legal', { email: true, chat: 'dingtalk', language: 'en' });
      await prefer('feishu1', { email: false, chat: 'feishu', language: 'zh-CN' });
      await prefer('bounce', { email: true, chat: 'feishu', language: 'en' });

      const started = await h.api('POST', '/api/cases/approval-requests', {
        as: 'lead',
        json: {
          requestKey: h.unique('NOTICE'),
          title: 'Open a settlement account',
          probability: 2,
          impact: 3,
          approvalTimings: { remindAfter: '1s', escalateAfter: '1h', expireAfter: '2h' },
        },
      });
      expect(started.status, JSON.stringify(started.body)).toBe(201);
      caseId = started.body.caseId;
      taskId = `${caseId}:approval`;

      // English for appr1, who chose it…
      const [english] = await eventually(async () => {
        const found = await mailTo('appr1@test.example', /^\[Reminder\] Open a settlement account$/);
        return found.length ? found : undefined;
      }, 120_000);
      const englishMail = await mailpit.message(english!.ID);
      expect(englishMail.Text).toContain('Dear approver,');
      expect(englishMail.Text).toContain('The task "');
      // …Chinese for appr2, who did not choose.
      const [chinese] = await eventually(async () => {
        const found = await mailTo('appr2@test.example', /^【提醒】Open a settlement account$/);
        return found.length ? found : undefined;
      }, 120_000);
      const chineseMail = await mailpit.message(chinese!.ID);
      expect(chineseMail.Text).toContain('approver2，您好：');
      expect(chineseMail.Text).toContain('正等待您处理');

      // The link is the console's page of this very task, and the task behind it is the recipient's to decide.
      for (const mail of [englishMail, chineseMail]) {
        const link = /(http:\/\/console\.test\.example:8080\/tasks\/\S+)/.exec(mail.Text)?.[1];
        expect(link).toBe(`${CONSOLE_URL}/tasks/${encodeURIComponent(taskId)}`);
        expect(mail.HTML).toContain(`href="${link}"`);
      }
      const linked = decodeURIComponent(/\/tasks\/(\S+)/.exec(englishMail.Text)![1]!);
      const task = await h.api('GET', `/api/tasks/${encodeURIComponent(linked)}`, { as: 'approver' });
      expect(task.status).toBe(200);
      expect(task.body).toMatchObject({ id: taskId, caseId, status: 'open' });

      // The initiator (lead, who holds risk) is barred from the decision and hears nothing.
      expect(await mailTo('lead@test.example', /./)).toEqual([]);
      // legal1 chose mail and DingTalk: both.
      await eventually(async () => (await mailTo('legal1@test.example', /^\[Reminder\]/)).length === 1, 120_000);
    },
    SLOW,
  );

  it(
    'each chat bot receives the reminder correctly signed by its own scheme',
    async () => {
      const forTask = (channel: BotCall['channel']) =>
        bots.calls.filter((c) => c.channel === channel && JSON.stringify(c.body).includes(encodeURIComponent(taskId)));
      await eventually(
        async () => forTask('wecom').length && forTask('dingtalk').length && forTask('feishu').length,
        120_000,
      );

      // WeCom: the key in the URL is the credential; markdown body with the task link.
      const [wecom] = forTask('wecom');
      expect(wecom!.url.searchParams.get('key')).toBe(WECOM_KEY);
      expect(wecom!.body.msgtype).toBe('markdown');
      expect(wecom!.body.markdown.content).toContain(`(${CONSOLE_URL}/tasks/${encodeURIComponent(taskId)})`);
      expect(wecom!.body.markdown.content).toContain('risk2');

      // DingTalk: sign = Base64(HmacSHA256(key = secret, message = timestamp + "\n" + secret)), millisecond timestamp.
      const [ding] = forTask('dingtalk');
      const timestamp = ding!.url.searchParams.get('timestamp')!;
      const expected = createHmac('sha256', DINGTALK_SECRET)
        .update(`${timestamp}\n${DINGTALK_SECRET}`)
        .digest('base64');
      expect(ding!.url.searchParams.get('sign')).toBe(expected);
      expect(ding!.url.searchParams.get('access_token')).toBe('ding-token');
      expect(Math.abs(Number(timestamp) - ding!.at)).toBeLessThan(60_000);
      expect(ding!.body).toMatchObject({
        msgtype: 'markdown',
        markdown: { title: expect.stringContaining('Reminder') },
      });

      // Feishu: sign = Base64(HmacSHA256(key = timestamp + "\n" + secret, message = "")), seconds, in the body.
      const feishu = forTask('feishu').find((c) => JSON.stringify(c.body).includes('Feishu Person'))!;
      const seconds = feishu.body.timestamp as string;
      expect(feishu.body.sign).toBe(createHmac('sha256', `${seconds}\n${FEISHU_SECRET}`).update('').digest('base64'));
      expect(Math.abs(Number(seconds) * 1000 - feishu.at)).toBeLessThan(60_000);
      expect(feishu.body.msg_type).toBe('post');
      expect(JSON.stringify(feishu.body.content)).toContain(`${CONSOLE_URL}/tasks/${encodeURIComponent(taskId)}`);
    },
    SLOW,
  );

  it(
    'a delivery that keeps failing is retried, recorded as failed with why, and the case goes on',
    async () => {
      const failed = await eventually(async () => {
        const rows = (await deliveries(caseId)).filter((d) => d.userId === 'bounce');
        return rows.length === 2 && rows.every((d) => d.status === 'failed') ? rows : undefined;
      }, 120_000).catch(async (err) => {
        console.error('deliveries of the case:', JSON.stringify(await deliveries(caseId), null, 1));
        throw err;
      });
      const byChannel = Object.fromEntries(failed.map((d) => [d.channel, d]));
      // The SMTP server refused the address, three times.
      expect(byChannel.email).toMatchObject({ status: 'failed', attempts: 3 });
      expect(byChannel.email!.lastError).toMatch(/550|reject/i);
      expect(await mailTo('bounce@bounce.example', /./)).toEqual([]);
      // The bot answered 500, three times.
      expect(byChannel.feishu).toMatchObject({ status: 'failed', attempts: 3, lastError: 'feishu answered HTTP 500' });
      expect(bots.calls.filter((c) => JSON.stringify(c.body).includes('Bounce Person'))).toHaveLength(3);

      // Nobody else's delivery suffered, and the case takes its decision and closes as if nothing failed.
      const others = async () =>
        (await deliveries(caseId))
          .filter((d) => d.userId !== 'bounce')
          .map((d) => `${d.userId}/${d.channel}:${d.status}`)
          .sort();
      const allSent = [
        'appr1/email:sent',
        'appr2/email:sent',
        'dual/email:sent',
        'feishu1/feishu:sent',
        'legal1/dingtalk:sent',
        'legal1/email:sent',
        'risk2/wecom:sent',
      ];
      await eventually(async () => JSON.stringify(await others()) === JSON.stringify(allSent), 120_000).catch(
        async () => expect(await others()).toEqual(allSent),
      );
      const decided = await h.api('POST', `/api/tasks/${encodeURIComponent(taskId)}/decision`, {
        as: 'approver',
        json: { decision: 'approve', comment: 'fine' },
      });
      expect(decided.status, JSON.stringify(decided.body)).toBe(200);
      expect((await h.temporal.workflow.getHandle(caseId).result()).outcome).toBe('approved');
    },
    SLOW,
  );

  it(
    'a retried notify or send delivers nothing twice',
    async () => {
      // Both wrapped activities failed after their work at least once on this case.
      expect(injected.notify).toBeGreaterThanOrEqual(1);
      expect(injected.send).toBeGreaterThanOrEqual(1);
      // One reminder audit event, three notification rows (one per approving function), one mail per person.
      expect(
        await h.sql(
          "select count(*)::int as n from audit_events where task_id = $1 and action = 'notification.reminder'",
          [taskId],
        ),
      ).toEqual([{ n: 1 }]);
      expect(
        await h.sql("select count(*)::int as n from notifications where task_id = $1 and kind = 'reminder'", [taskId]),
      ).toEqual([{ n: 3 }]);
      expect(await mailTo('appr1@test.example', /Open a settlement account/)).toHaveLength(1);
      expect(await mailTo('appr2@test.example', /Open a settlement account/)).toHaveLength(1);
      expect(await mailTo('legal1@test.example', /Open a settlement account/)).toHaveLength(1);
      // Reached through two of their roles (two notification rows), dual still gets one mail.
      expect(await mailTo('dual@test.example', /Open a settlement account/)).toHaveLength(1);
      const appr1 = (await deliveries(caseId)).find((d) => d.userId === 'appr1')!;
      expect(appr1).toMatchObject({ status: 'sent', attempts: 1 });
      // One delivery workflow per notification, whatever the retries.
      const notificationIds = await h.sql<{ id: string }>('select id from notifications where task_id = $1', [taskId]);
      for (const { id } of notificationIds) {
        const runs = [];
        for await (const run of h.temporal.workflow.list({ query: `WorkflowId = 'notification-delivery:${id}'` }))
          runs.push(run);
        expect(runs).toHaveLength(1);
        // Temporal UI says what the run is for (issue 13 §9).
        const described = await h.temporal.workflow.getHandle(`notification-delivery:${id}`).describe();
        expect(await described.staticSummary()).toBe(
          `Deliver the reminder of case ${caseId} by mail and chat · 投递案件通知`,
        );
      }
    },
    SLOW,
  );

  it(
    'a person who chose the digest gets one mail a day with all their notices',
    async () => {
      await prefer('digest1', { email: true, chat: null, language: 'en', digest: true });
      // Two notices addressed to digest1 by name, delivered as notify hands them over.
      const ids = [`${caseId}-digest-a`, `${caseId}-digest-b`];
      for (const [i, id] of ids.entries()) {
        await h.sql(
          `insert into notifications (id, case_id, task_id, kind, recipient_id, message, created_at)
         values ($1, $2, $3, $4, 'digest1', $5, now() + ($6 || ' milliseconds')::interval)`,
          [id, caseId, taskId, i === 0 ? 'reminder' : 'overdue', `Digest notice number ${i + 1}`, String(i)],
        );
        await h.temporal.workflow.execute('notificationDeliveryWorkflow', {
          taskQueue: h.taskQueue,
          workflowId: `notification-delivery:${id}`,
          args: [{ notificationId: id }],
        });
      }
      const queued = (await deliveries(caseId)).filter((d) => d.userId === 'digest1');
      expect(queued.map((d) => d.status)).toEqual(['queued', 'queued']);
      expect(await mailTo('digest1@test.example', /./)).toEqual([]);

      // The Schedule exists for this task queue; its daily run, triggered now, sends one mail.
      const schedule = h.temporal.schedule.getHandle(digestScheduleId(h.taskQueue));
      const described = await schedule.describe();
      expect(described.action).toMatchObject({ workflowType: 'notificationDigestWorkflow', taskQueue: h.taskQueue });
      await schedule.trigger();
      const [digest] = await eventually(async () => {
        const found = await mailTo('digest1@test.example', /daily digest: 2 notices/);
        return found.length ? found : undefined;
      }, 120_000);
      const mail = await mailpit.message(digest!.ID);
      expect(mail.Text).toContain('Digest notice number 1');
      expect(mail.Text).toContain('Digest notice number 2');
      expect(mail.Text.indexOf('Digest notice number 1')).toBeLessThan(mail.Text.indexOf('Digest notice number 2'));
      expect(mail.Text).toContain(`${CONSOLE_URL}/tasks/${encodeURIComponent(taskId)}`);
      const sent = (await deliveries(caseId)).filter((d) => d.userId === 'digest1');
      expect(sent.map((d) => d.status)).toEqual(['sent', 'sent']);
      expect(new Set(sent.map((d) => d.digestId)).size).toBe(1);

      // A second run finds nothing queued and sends nothing.
      await schedule.trigger();
      await new Promise((r) => setTimeout(r, 3_000));
      expect(await mailTo('digest1@test.example', /./)).toHaveLength(1);
    },
    SLOW,
  );
});

describe('notification preferences and delivery records over the API', () => {
  it('a user reads the defaults until they choose, and bad input names the field', async () => {
    expect((await h.api('GET', '/api/me/notification-preferences', { as: 'owner' })).body).toEqual({
      email: true,
      chat: null,
      language: 'zh-CN',
      timeZone: 'Asia/Shanghai',
      digest: false,
    });
    const bad = await h.api('PUT', '/api/me/notification-preferences', {
      as: 'owner',
      json: { email: true, chat: 'slack', language: 'fr', timeZone: 'Mars/Olympus', digest: false },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual([
      'body.chat',
      'body.language',
      'body.timeZone',
    ]);
    expect(await h.sql("select 1 from notification_preferences where user_id = 'owner'")).toEqual([]);
  });

  it('only admins and auditors read the delivery records', async () => {
    expect((await h.api('GET', '/api/notification-deliveries', { as: 'admin' })).status).toBe(200);
    const refused = await h.api('GET', '/api/notification-deliveries', { as: 'approver' });
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toMatch(/needs the role admin or auditor/);
    // Auditors read, and (read-only everywhere) cannot change even their own preferences.
    const auditorPut = await h.api('PUT', '/api/me/notification-preferences', {
      as: 'auditor',
      json: { email: false, chat: null, language: 'en', timeZone: 'UTC', digest: false },
    });
    expect(auditorPut.status).toBe(403);
  });
});
