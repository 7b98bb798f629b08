/**
 * What a reminder, an escalation, an overdue or an expiry notice says to a
 * person, in their language (zh-CN or English), by e-mail or in a chat
 * group, and the daily digest that gathers them. Pure text: the delivery
 * activities (activities/delivery.ts) send it.
 */

export const NOTICE_LANGUAGES = ['zh-CN', 'en'] as const;
export type NoticeLanguage = (typeof NOTICE_LANGUAGES)[number];

export type NoticeKind = 'reminder' | 'escalation' | 'expiry' | 'overdue';

/** One notification as its recipient reads it. */
export interface Notice {
  kind: string;
  caseId: string;
  caseTitle: string;
  taskId: string | null;
  taskTitle: string | null;
  dueAt: Date | null;
  /** The workflow's own words (English), kept as the record says them. */
  message: string;
  createdAt: Date;
}

export interface NoticeText {
  subject: string;
  text: string;
  html: string;
  /** For chat: the headline, the body without the link, the link and its label. */
  chat: { title: string; text: string; link: string; linkLabel: string };
}

const KIND_LABEL: Record<NoticeLanguage, Record<NoticeKind, string>> = {
  'zh-CN': { reminder: '提醒', escalation: '升级', expiry: '已到期', overdue: '已逾期' },
  en: { reminder: 'Reminder', escalation: 'Escalation', expiry: 'Expired', overdue: 'Overdue' },
};

const WORDS = {
  'zh-CN': {
    greeting: (name: string) => `${name}，您好：`,
    case: '案件',
    task: '任务',
    due: '截止时间',
    note: '系统消息',
    open: '打开任务',
    openCase: '打开案件',
    sentence: {
      reminder: (task: string) => `任务「${task}」正等待您处理。`,
      escalation: (task: string) => `任务「${task}」未在期限内完成，已升级给您。`,
      overdue: (task: string) => `任务「${task}」已逾期，仍需完成。`,
      expiry: (task: string) => `任务「${task}」已过最终期限。`,
    } as Record<NoticeKind, (task: string) => string>,
    digestSubject: (n: number) => `治理平台每日摘要：${n} 条待办提醒`,
    digestIntro: (n: number) => `以下是过去一天发给您的 ${n} 条提醒：`,
    footer: '此邮件由治理平台自动发送，请勿直接回复。',
  },
  en: {
    greeting: (name: string) => `Dear ${name},`,
    case: 'Case',
    task: 'Task',
    due: 'Due',
    note: 'Notice',
    open: 'Open the task',
    openCase: 'Open the case',
    sentence: {
      reminder: (task: string) => `The task "${task}" awaits you.`,
      escalation: (task: string) => `The task "${task}" was not done by its deadline and is escalated to you.`,
      overdue: (task: string) => `The task "${task}" is overdue and still has to be done.`,
      expiry: (task: string) => `The task "${task}" has passed its final deadline.`,
    } as Record<NoticeKind, (task: string) => string>,
    digestSubject: (n: number) => `Governance platform daily digest: ${n} notice${n === 1 ? '' : 's'}`,
    digestIntro: (n: number) =>
      `Here ${n === 1 ? 'is the notice' : `are the ${n} notices`} sent to you in the last day:`,
    footer: 'Sent by the governance platform; please do not reply to this message.',
  },
} as const;

const kindOf = (kind: string): NoticeKind =>
  (['reminder', 'escalation', 'expiry', 'overdue'] as const).find((k) => k === kind) ?? 'reminder';

/** The console page of the task (or of the case when the notice names no task). */
export function noticeLink(consoleUrl: string, notice: Pick<Notice, 'taskId' | 'caseId'>): string {
  const base = consoleUrl.replace(/\/$/, '');
  return notice.taskId
    ? `${base}/tasks/${encodeURIComponent(notice.taskId)}`
    : `${base}/cases/${encodeURIComponent(notice.caseId)}`;
}

export function formatWhen(at: Date, language: NoticeLanguage, timeZone: string): string {
  return new Intl.DateTimeFormat(language, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZone,
    timeZoneName: 'short',
  }).format(at);
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The lines of one notice (no greeting, no link), shared by the single mail, the digest and chat. */
function noticeLines(notice: Notice, language: NoticeLanguage, timeZone: string): string[] {
  const w = WORDS[language];
  const task = notice.taskTitle ?? notice.caseTitle;
  return [
    w.sentence[kindOf(notice.kind)](task),
    `${w.case}: ${notice.caseTitle} (${notice.caseId})`,
    ...(notice.taskTitle ? [`${w.task}: ${notice.taskTitle}`] : []),
    ...(notice.dueAt ? [`${w.due}: ${formatWhen(notice.dueAt, language, timeZone)}`] : []),
    `${w.note}: ${notice.message}`,
  ];
}

export function renderNotice(
  notice: Notice,
  recipient: { name: string; language: NoticeLanguage; timeZone: string },
  consoleUrl: string,
): NoticeText {
  const { language, timeZone } = recipient;
  const w = WORDS[language];
  const label = KIND_LABEL[language][kindOf(notice.kind)];
  const subject = language === 'zh-CN' ? `【${label}】${notice.caseTitle}` : `[${label}] ${notice.caseTitle}`;
  const link = noticeLink(consoleUrl, notice);
  const linkLabel = notice.taskId ? w.open : w.openCase;
  const lines = noticeLines(notice, language, timeZone);
  const text = [w.greeting(recipient.name), '', ...lines, '', `${linkLabel}: ${link}`, '', w.footer].join('\n');
  const html = [
    `<p>${escapeHtml(w.greeting(recipient.name))}</p>`,
    `<p>${lines.map(escapeHtml).join('<br>')}</p>`,
    `<p><a href="${escapeHtml(link)}">${escapeHtml(linkLabel)}</a></p>`,
    `<p style="color:#888">${escapeHtml(w.footer)}</p>`,
  ].join('\n');
  return {
    subject,
    text,
    html,
    chat: { title: `${label} · ${recipient.name}`, text: lines.join('\n'), link, linkLabel },
  };
}

/** One mail for the day's notices of one person, oldest first, each with its link. */
export function renderDigest(
  notices: Notice[],
  recipient: { name: string; language: NoticeLanguage; timeZone: string },
  consoleUrl: string,
): { subject: string; text: string; html: string } {
  const { language, timeZone } = recipient;
  const w = WORDS[language];
  const sections = notices.map((notice) => {
    const label = KIND_LABEL[language][kindOf(notice.kind)];
    const link = noticeLink(consoleUrl, notice);
    return {
      label,
      lines: noticeLines(notice, language, timeZone),
      link,
      linkLabel: notice.taskId ? w.open : w.openCase,
    };
  });
  const text = [
    w.greeting(recipient.name),
    '',
    w.digestIntro(notices.length),
    ...sections.flatMap((s, i) => ['', `${i + 1}. [${s.label}]`, ...s.lines, `${s.linkLabel}: ${s.link}`]),
    '',
    w.footer,
  ].join('\n');
  const html = [
    `<p>${escapeHtml(w.greeting(recipient.name))}</p>`,
    `<p>${escapeHtml(w.digestIntro(notices.length))}</p>`,
    '<ol>',
    ...sections.map(
      (s) =>
        `<li><strong>${escapeHtml(s.label)}</strong><br>${s.lines.map(escapeHtml).join('<br>')}<br><a href="${escapeHtml(s.link)}">${escapeHtml(s.linkLabel)}</a></li>`,
    ),
    '</ol>',
    `<p style="color:#888">${escapeHtml(w.footer)}</p>`,
  ].join('\n');
  return { subject: w.digestSubject(notices.length), text, html };
}
