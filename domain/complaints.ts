/**
 * Customer complaints (客户投诉), DOMAIN.md §3: accept → investigate → handle →
 * feed back. The initial investigation is due within 24 hours and the result
 * within 48 hours of acceptance; the feedback states cause, measures and
 * follow-up plan. Repeated or serious complaints get root-cause analysis and
 * tracked rectification, which the platform runs by raising them to an
 * incident.
 */
import { parseDuration } from './durations';
import { isoInstantMs } from './incidents';

type Label = { en: string; zh: string };

export const COMPLAINT_STAGES = ['accepted', 'investigating', 'handling', 'feedback', 'closed'] as const;
export type ComplaintStage = (typeof COMPLAINT_STAGES)[number];

export const COMPLAINT_CHANNELS = ['hotline', 'app', 'email', 'regulator_referral', 'social_media', 'other'] as const;
export type ComplaintChannel = (typeof COMPLAINT_CHANNELS)[number];

export const COMPLAINT_SEVERITIES = ['normal', 'serious'] as const;
export type ComplaintSeverity = (typeof COMPLAINT_SEVERITIES)[number];

/**
 * Fixed by the handbook, not a platform default: initial investigation within
 * 24 hours and the result within 48 hours, both counted from acceptance.
 */
export const COMPLAINT_SLA = { initialInvestigationWithin: '24h', resultWithin: '48h' } as const;

export const COMPLAINT_LABELS: {
  stage: Record<ComplaintStage, Label>;
  channel: Record<ComplaintChannel, Label>;
  severity: Record<ComplaintSeverity, Label>;
} = {
  stage: {
    accepted: { en: 'Accepted', zh: '已受理' },
    investigating: { en: 'Investigating', zh: '调查中' },
    handling: { en: 'Handling', zh: '处理中' },
    feedback: { en: 'Feedback', zh: '结果反馈' },
    closed: { en: 'Closed', zh: '已结案' },
  },
  channel: {
    hotline: { en: 'Customer hotline', zh: '客服热线' },
    app: { en: 'In-app', zh: 'App内投诉' },
    email: { en: 'Email', zh: '电子邮件' },
    regulator_referral: { en: 'Referred by a regulator', zh: '监管转办' },
    social_media: { en: 'Social media', zh: '社交媒体' },
    other: { en: 'Other', zh: '其他' },
  },
  severity: {
    normal: { en: 'Normal', zh: '一般' },
    serious: { en: 'Serious', zh: '严重' },
  },
};

// ---------------------------------------------------------------------------
// Feedback

/** What the customer is told: 原因, 处理措施, 后续计划. */
export interface ComplaintFeedback {
  cause: string;
  measures: string;
  followUpPlan: string;
}

const FEEDBACK_FIELDS = ['cause', 'measures', 'followUpPlan'] as const;
export const FEEDBACK_MAX_CHARS = 5000;

/**
 * Null when the feedback states all three things the handbook asks for;
 * otherwise why not, naming the field. Length counts characters as people
 * do (a Chinese character or an emoji is one), matching a text column's limit.
 */
export function feedbackProblem(feedback: unknown): string | null {
  if (typeof feedback !== 'object' || feedback === null || Array.isArray(feedback)) {
    return `the feedback must be an object with ${FEEDBACK_FIELDS.join(', ')}`;
  }
  const record = feedback as Record<string, unknown>;
  for (const field of FEEDBACK_FIELDS) {
    const value = record[field];
    if (value === undefined) return `the feedback's ${field} is missing`;
    if (typeof value !== 'string') return `the feedback's ${field} must be text, got ${JSON.stringify(value)}`;
    if (value.trim() === '') return `the feedback's ${field} must not be blank`;
    const length = Array.from(value).length;
    if (length > FEEDBACK_MAX_CHARS) {
      return `the feedback's ${field} is ${length} characters; at most ${FEEDBACK_MAX_CHARS} are allowed`;
    }
  }
  return null;
}

// ---------------------------------------------------------------------------
// Repeats and raising to an incident

export interface PriorComplaint {
  id: string;
  customerRef: string;
  subject: string;
  /** ISO 8601 */
  acceptedAt: string;
}

export const REPEAT_COMPLAINT_WINDOW_DAYS = 30;
const DAY_MS = 86_400_000;

/**
 * True when the same customer complained about the same subject (both compared
 * trimmed and case-insensitively) at most 30 days before this complaint was
 * accepted, or at the same moment. `prior` must not contain this complaint.
 */
export function isRepeatedComplaint(
  current: { customerRef: string; subject: string; acceptedAt: string },
  prior: PriorComplaint[],
): boolean {
  const customer = normalise(current.customerRef);
  const subject = normalise(current.subject);
  if (customer === '') throw new RangeError('customerRef must identify the customer');
  if (subject === '') throw new RangeError('subject must say what the complaint is about');
  const at = isoInstantMs(current.acceptedAt, 'acceptedAt');
  const earliest = at - REPEAT_COMPLAINT_WINDOW_DAYS * DAY_MS;

  return prior.some((p) => {
    const priorAt = isoInstantMs(p.acceptedAt, `acceptedAt of complaint ${p.id}`);
    return (
      normalise(p.customerRef) === customer && normalise(p.subject) === subject && priorAt >= earliest && priorAt <= at
    );
  });
}

/**
 * Whether a complaint needs the incident loop (root-cause analysis, tracked
 * rectification). Serious and repeated complaints do by the handbook; a
 * regulator's referral does too, because the regulator will ask what was
 * found and changed, and only the incident loop records that.
 */
export function shouldRaiseToIncident(c: { severity: 'normal' | 'serious'; repeated: boolean; channel: string }): {
  raise: boolean;
  reason?: string;
} {
  if (!(COMPLAINT_SEVERITIES as readonly unknown[]).includes(c.severity)) {
    throw new RangeError(
      `severity must be one of ${COMPLAINT_SEVERITIES.join(', ')}, got ${JSON.stringify(c.severity)}`,
    );
  }
  if (!(COMPLAINT_CHANNELS as readonly unknown[]).includes(c.channel)) {
    throw new RangeError(`channel must be one of ${COMPLAINT_CHANNELS.join(', ')}, got ${JSON.stringify(c.channel)}`);
  }
  const because: string[] = [];
  if (c.severity === 'serious') because.push('it is serious');
  if (c.repeated) {
    because.push(`the customer complained about the same subject within ${REPEAT_COMPLAINT_WINDOW_DAYS} days`);
  }
  if (c.channel === 'regulator_referral') because.push('a regulator referred it');
  if (because.length === 0) return { raise: false };
  return {
    raise: true,
    reason:
      `Raise to an incident because ${joinAnd(because)}: ` +
      'such complaints need root-cause analysis and tracked rectification.',
  };
}

// ---------------------------------------------------------------------------
// Service levels

export type ComplaintSla = 'initial_investigation_24h' | 'result_48h';

export interface ComplaintSlaBreach {
  sla: ComplaintSla;
  dueAtMs: number;
  /** How late the event came, or, when it has not happened yet, how overdue it is now. */
  lateByMs: number;
}

/**
 * The service levels broken so far, initial investigation first. Meeting a
 * deadline to the millisecond is on time. Times are taken as arguments, never
 * read from the clock, so a workflow replays to the same answer.
 *
 * A result cannot come before the investigation that found it, so when the
 * result is recorded and the initial investigation is not, the investigation
 * counts as done when the result was: judged on time if the result came within
 * 24 hours, late otherwise, and never overdue for ever.
 */
export function slaBreaches(
  acceptedAtMs: number,
  events: { initialInvestigationAtMs?: number; resultAtMs?: number },
  nowMs: number,
): ComplaintSlaBreach[] {
  for (const [name, value] of [
    ['acceptedAtMs', acceptedAtMs],
    ['nowMs', nowMs],
  ] as const) {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new RangeError(`${name} must be a time in milliseconds, got ${JSON.stringify(value)}`);
    }
  }
  for (const [name, value] of [
    ['initialInvestigationAtMs', events.initialInvestigationAtMs],
    ['resultAtMs', events.resultAtMs],
  ] as const) {
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new RangeError(`${name} must be a time in milliseconds, got ${JSON.stringify(value)}`);
    }
    if (value < acceptedAtMs) throw new RangeError(`${name} is before the complaint was accepted`);
  }

  const checks: [ComplaintSla, string, number | undefined][] = [
    [
      'initial_investigation_24h',
      COMPLAINT_SLA.initialInvestigationWithin,
      events.initialInvestigationAtMs ?? events.resultAtMs,
    ],
    ['result_48h', COMPLAINT_SLA.resultWithin, events.resultAtMs],
  ];
  const breaches: ComplaintSlaBreach[] = [];
  for (const [sla, within, doneAtMs] of checks) {
    const dueAtMs = acceptedAtMs + parseDuration(within);
    const lateByMs = (doneAtMs ?? nowMs) - dueAtMs;
    if (lateByMs > 0) breaches.push({ sla, dueAtMs, lateByMs });
  }
  return breaches;
}

function normalise(text: string): string {
  return typeof text === 'string' ? text.trim().toLowerCase() : '';
}

function joinAnd(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}
