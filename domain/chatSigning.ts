/**
 * Chat group bots (群机器人) and how each proves a message comes from us.
 * Pure: the activity (activities/delivery.ts) posts what these build, and the
 * tests verify the signatures with their own code.
 *
 * - WeCom (企业微信) group bot — "群机器人配置说明",
 *   developer.work.weixin.qq.com/document/path/91770: POST JSON to the
 *   webhook URL, whose `key` query parameter is the bot's only credential.
 *   There is no signing scheme: the URL is the secret. Answer
 *   `{ "errcode": 0, "errmsg": "ok" }`.
 * - DingTalk (钉钉) custom robot, "加签" security setting —
 *   open.dingtalk.com/document/robots/custom-robot-access: string to sign
 *   `timestamp + "\n" + secret` (timestamp in milliseconds), HmacSHA256
 *   keyed with the secret, Base64, then URL-encoded; sent as the `timestamp`
 *   and `sign` query parameters. The robot refuses a timestamp more than an
 *   hour from its clock. Answer `{ "errcode": 0, "errmsg": "ok" }`.
 * - Feishu (飞书) custom bot, "签名校验" —
 *   open.feishu.cn/document/client-docs/bot-v3/add-custom-bot: the string
 *   `timestamp + "\n" + secret` (timestamp in seconds) is the HmacSHA256
 *   *key* over an empty message, Base64; sent as `timestamp` and `sign` in
 *   the JSON body. Answer `{ "code": 0, "msg": "success" }`.
 */
import { createHmac } from 'node:crypto';

export const CHAT_CHANNELS = ['wecom', 'dingtalk', 'feishu'] as const;
export type ChatChannel = (typeof CHAT_CHANNELS)[number];

export interface ChatBot {
  /** The bot's webhook URL as its platform gave it (WeCom's includes its key). */
  url: string;
  /** The signing secret (DingTalk `SEC…`, Feishu); WeCom has none. */
  secret?: string;
}

/** DingTalk's `sign` before URL encoding: Base64(HmacSHA256(secret, `${timestampMs}\n${secret}`)). */
export function dingTalkSignature(timestampMs: number, secret: string): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`, 'utf8').digest('base64');
}

/** Feishu's `sign`: Base64(HmacSHA256(key = `${timestampSeconds}\n${secret}`, message = "")). */
export function feishuSignature(timestampSeconds: number, secret: string): string {
  return createHmac('sha256', `${timestampSeconds}\n${secret}`).update('', 'utf8').digest('base64');
}

/** What to POST, where: the URL (DingTalk's carries the signature) and the JSON body. */
export interface ChatRequest {
  url: string;
  body: Record<string, unknown>;
}

/**
 * One message to a group bot: a title line, the text, and a link. Markdown
 * where the platform renders it (WeCom, DingTalk); Feishu's `post` rich text.
 */
export function chatRequest(
  channel: ChatChannel,
  bot: ChatBot,
  message: { title: string; text: string; link: string; linkLabel: string },
  now: Date,
): ChatRequest {
  const markdown = `### ${message.title}\n\n${message.text}\n\n[${message.linkLabel}](${message.link})`;
  switch (channel) {
    case 'wecom':
      return { url: bot.url, body: { msgtype: 'markdown', markdown: { content: markdown } } };
    case 'dingtalk': {
      const url = new URL(bot.url);
      if (bot.secret) {
        const timestamp = now.getTime();
        // URLSearchParams percent-encodes the Base64 (+, /, =) as the doc's urlEncode step asks.
        url.searchParams.set('timestamp', String(timestamp));
        url.searchParams.set('sign', dingTalkSignature(timestamp, bot.secret));
      }
      return { url: url.toString(), body: { msgtype: 'markdown', markdown: { title: message.title, text: markdown } } };
    }
    case 'feishu': {
      const timestamp = Math.floor(now.getTime() / 1000);
      return {
        url: bot.url,
        body: {
          ...(bot.secret ? { timestamp: String(timestamp), sign: feishuSignature(timestamp, bot.secret) } : {}),
          msg_type: 'post',
          content: {
            post: {
              zh_cn: {
                title: message.title,
                content: [
                  [{ tag: 'text', text: message.text }],
                  [{ tag: 'a', text: message.linkLabel, href: message.link }],
                ],
              },
            },
          },
        },
      };
    }
  }
}

/**
 * Whether the bot accepted the message: each platform answers HTTP 200 with
 * its own code field, non-zero on refusal (a bad signature included).
 * Returns the refusal in words, or undefined when accepted.
 */
export function chatRefusal(channel: ChatChannel, status: number, body: unknown): string | undefined {
  if (status < 200 || status >= 300) return `${channel} answered HTTP ${status}`;
  const answer = (body ?? {}) as { errcode?: unknown; errmsg?: unknown; code?: unknown; msg?: unknown };
  const code = channel === 'feishu' ? answer.code : answer.errcode;
  const text = channel === 'feishu' ? answer.msg : answer.errmsg;
  if (code === 0) return undefined;
  return `${channel} refused the message: code ${String(code)}${text ? ` (${String(text)})` : ''}`;
}
