/**
 * The chat bots' signing schemes and the notice texts (domain/chatSigning.ts,
 * domain/notices.ts). The expected signatures were computed apart, with
 * Python's hmac module, following each platform's published recipe.
 */
import { describe, expect, it } from 'vitest';
import { chatRefusal, chatRequest, dingTalkSignature, feishuSignature } from '../../domain/chatSigning';
import { noticeLink, renderDigest, renderNotice, type Notice } from '../../domain/notices';

describe('chat signing', () => {
  it('DingTalk: Base64(HmacSHA256(secret, "timestamp\\nsecret")), URL-encoded into the query', () => {
    expect(dingTalkSignature(1_700_000_000_000, 'SECtest-secret')).toBe('LC7hxZ4wslL+P7j7gu1hoQ+wzByekL+yWgiUMekZs0g=');
    const request = chatRequest(
      'dingtalk',
      { url: 'https://bot.example/robot/send?access_token=t', secret: 'SECtest-secret' },
      { title: 'T', text: 'x', link: 'http://c/tasks/1', linkLabel: 'Open' },
      new Date(1_700_000_000_000),
    );
    expect(request.url).toBe(
      'https://bot.example/robot/send?access_token=t&timestamp=1700000000000&sign=LC7hxZ4wslL%2BP7j7gu1hoQ%2BwzByekL%2ByWgiUMekZs0g%3D',
    );
  });

  it('Feishu: Base64(HmacSHA256(key "timestamp\\nsecret", empty message)), seconds, in the body', () => {
    expect(feishuSignature(1_700_000_000, 'feishu-secret')).toBe('OrBzY1Y01Gq+HgJsl+7OfWcMVwc7YocohQm5iiZwjhU=');
    const request = chatRequest(
      'feishu',
      { url: 'https://bot.example/hook/1', secret: 'feishu-secret' },
      { title: 'T', text: 'x', link: 'http://c/tasks/1', linkLabel: 'Open' },
      new Date(1_700_000_000_999),
    );
    expect(request.body).toMatchObject({
      timestamp: '1700000000',
      sign: 'OrBzY1Y01Gq+HgJsl+7OfWcMVwc7YocohQm5iiZwjhU=',
    });
  });

  it('reads each platform’s refusal from its answer', () => {
    expect(chatRefusal('wecom', 200, { errcode: 0, errmsg: 'ok' })).toBeUndefined();
    expect(chatRefusal('dingtalk', 200, { errcode: 310000, errmsg: 'sign not match' })).toBe(
      'dingtalk refused the message: code 310000 (sign not match)',
    );
    expect(chatRefusal('feishu', 200, { code: 19021, msg: 'sign match fail' })).toMatch(/code 19021/);
    expect(chatRefusal('feishu', 200, { code: 0 })).toBeUndefined();
    expect(chatRefusal('wecom', 502, undefined)).toBe('wecom answered HTTP 502');
  });
});

describe('notice texts', () => {
  const notice: Notice = {
    kind: 'reminder',
    caseId: 'approval-request:R-1',
    caseTitle: 'Open an account',
    taskId: 'approval-request:R-1:approval',
    taskTitle: 'Approve: Open an account',
    dueAt: new Date('2026-03-01T02:00:00Z'),
    message: 'Reminder: awaits your decision',
    createdAt: new Date('2026-02-28T02:00:00Z'),
  };

  it('links to the task in the console, its id encoded', () => {
    expect(noticeLink('http://console/', notice)).toBe('http://console/tasks/approval-request%3AR-1%3Aapproval');
    expect(noticeLink('http://console', { ...notice, taskId: null })).toBe(
      'http://console/cases/approval-request%3AR-1',
    );
  });

  it('speaks the recipient’s language, with dates in their time zone', () => {
    const zh = renderNotice(notice, { name: '张三', language: 'zh-CN', timeZone: 'Asia/Shanghai' }, 'http://c');
    expect(zh.subject).toBe('【提醒】Open an account');
    expect(zh.text).toContain('张三，您好：');
    expect(zh.text).toContain('2026年3月1日 GMT+8 10:00');
    const en = renderNotice(notice, { name: 'Ann', language: 'en', timeZone: 'UTC' }, 'http://c');
    expect(en.subject).toBe('[Reminder] Open an account');
    expect(en.text).toContain('Due: Mar 1, 2026, 02:00 UTC');
    expect(en.html).toContain('<a href="http://c/tasks/approval-request%3AR-1%3Aapproval">Open the task</a>');
  });

  it('escapes what it puts into HTML', () => {
    const html = renderNotice(
      { ...notice, caseTitle: '<script>x</script>' },
      { name: 'A&B', language: 'en', timeZone: 'UTC' },
      'http://c',
    ).html;
    expect(html).not.toContain('<script>');
    expect(html).toContain('Dear A&amp;B,');
  });

  it('a digest numbers every notice with its own link', () => {
    const digest = renderDigest(
      [notice, { ...notice, kind: 'overdue', taskId: 'other:task' }],
      { name: 'Ann', language: 'en', timeZone: 'UTC' },
      'http://c',
    );
    expect(digest.subject).toBe('Governance platform daily digest: 2 notices');
    expect(digest.text).toContain('1. [Reminder]');
    expect(digest.text).toContain('2. [Overdue]');
    expect(digest.text).toContain('http://c/tasks/other%3Atask');
  });
});

describe('case summaries for Temporal UI (issue 13 §9)', () => {
  it('names the process in both languages and the case by its title, else its business key', async () => {
    const { caseStartMetadata, titleOf } = await import('../../domain/caseSummaries');
    const args = [{ title: ' Open a settlement account ', probability: 2 }];
    const meta = caseStartMetadata({
      process: 'approval_request',
      caseId: 'approval-request:R-1',
      stage: 'awaiting_approval',
      title: titleOf(args),
    });
    expect(meta.staticSummary).toBe('审批申请 · Approval request: Open a settlement account');
    expect(meta.staticDetails).toContain('业务编号 · Business key: `approval-request:R-1`');
    expect(caseStartMetadata({ process: 'new_thing', caseId: 'x:1', stage: 's' }).staticSummary).toBe(
      'new_thing · new_thing: x:1',
    );
    expect(titleOf([{ supplierId: 'S' }])).toBeUndefined();
    expect(
      caseStartMetadata({ process: 'incident', caseId: 'i', stage: 's', title: 'x'.repeat(500) }).staticSummary,
    ).toHaveLength(200);
  });
});
