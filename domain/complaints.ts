/**
 * Customer complaints (客户投诉), DOMAIN.md §3 and internet-finance manual §4.4
 * 客户投诉处理机制: accept and classify by type → investigate → handle → feed
 * back. The initial investigation is due within 24 hours and the result within
 * 48 hours of acceptance (the policy's complaint.* values, which compliance
 * owns); the feedback states cause, measures and follow-up plan. Repeated or
 * serious complaints get a root-cause analysis (根因分析), checked by someone
 * who did not prepare it, before the feedback, and tracked rectification.
 */
import { parseDuration } from './durations';
import { isoInstantMs } from './incidents';
import { VERIFIER_ROLES } from './roles';

type Label = { en: string; zh: string };

export const COMPLAINT_STAGES = ['accepted', 'investigating', 'handling', 'feedback', 'closed'] as const;
export type ComplaintStage = (typeof COMPLAINT_STAGES)[number];

export const COMPLAINT_CHANNELS = ['hotline', 'app', 'email', 'regulator_referral', 'social_media', 'other'] as const;
export type ComplaintChannel = (typeof COMPLAINT_CHANNELS)[number];

export const COMPLAINT_SEVERITIES = ['normal', 'serious'] as const;
export type ComplaintSeverity = (typeof COMPLAINT_SEVERITIES)[number];

/**
 * What a complaint is about, fixed at acceptance (finance §4.4 item 1: 投诉应按
 * 类型分类, "classified by type, e.g. product and service, transaction
 * disputes, system failures, policy questions"). The list takes the manual's
 * four and splits out what the e-commerce manual handles as a process of its
 * own, so each type points at the team and rule that owns it:
 * - product_quality: goods below the quality standard (e-commerce §4.2, the
 *   supplier's complaint record; finance §4.4 产品服务);
 * - service: how the customer was served (finance §4.4 产品服务; e-commerce §5.4);
 * - transaction_dispute: payment, refund, double charge (finance §4.4 交易纠纷;
 *   e-commerce §1.3 交易支付);
 * - logistics: delivery late, lost or damaged (e-commerce §1.3 物流配送, §4.4);
 * - system_failure: the app or a service failed (finance §4.4 系统故障);
 * - privacy_data: personal information misused or exposed (e-commerce §2.2);
 * - fraud_security: account takeover, fraud, abnormal transactions (e-commerce
 *   §6.2 交易异常; finance §5.4);
 * - misleading_marketing: advertising or promotions that mislead (e-commerce
 *   §5.3, §6.1 消费者权益保护法);
 * - infringement: counterfeits and IP infringement (e-commerce §6.3);
 * - policy_terms: fees, rules and terms of service (finance §4.4 政策问题);
 * - other: none of these; it never makes two complaints "the same matter".
 */
export const COMPLAINT_TYPES = [
  'product_quality',
  'service',
  'transaction_dispute',
  'logistics',
  'system_failure',
  'privacy_data',
  'fraud_security',
  'misleading_marketing',
  'infringement',
  'policy_terms',
  'other',
] as const;
export type ComplaintType = (typeof COMPLAINT_TYPES)[number];

/**
 * The handbook figures: initial investigation within 24 hours and the result
 * within 48 hours, both counted from acceptance (finance §4.4). They are the
 * policy's defaults (domain/policy.ts DEFAULT_POLICY.complaint); a case runs on
 * the policy it was accepted under.
 */
export const COMPLAINT_SLA = { initialInvestigationWithin: '24h', resultWithin: '48h' } as const;

export const COMPLAINT_LABELS: {
  stage: Record<ComplaintStage, Label>;
  channel: Record<ComplaintChannel, Label>;
  severity: Record<ComplaintSeverity, Label>;
  type: Record<ComplaintType, Label>;
  rootCauseStatus: Record<RootCauseStatus, Label>;
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
  type: {
    product_quality: { en: 'Product quality', zh: '商品质量' },
    service: { en: 'Service', zh: '服务质量' },
    transaction_dispute: { en: 'Transaction dispute (payment, refund)', zh: '交易纠纷（支付、退款）' },
    logistics: { en: 'Logistics and delivery', zh: '物流配送' },
    system_failure: { en: 'System failure', zh: '系统故障' },
    privacy_data: { en: 'Privacy and personal data', zh: '隐私与个人信息' },
    fraud_security: { en: 'Fraud and account security', zh: '欺诈与账户安全' },
    misleading_marketing: { en: 'Misleading marketing', zh: '虚假或误导宣传' },
    infringement: { en: 'Infringement and counterfeits', zh: '侵权与假冒' },
    policy_terms: { en: 'Policy, fees and terms', zh: '政策与规则' },
    other: { en: 'Other', zh: '其他' },
  },
  rootCauseStatus: {
    submitted: { en: 'Awaiting review', zh: '待复核' },
    returned: { en: 'Returned for revision', zh: '已退回' },
    accepted: { en: 'Accepted', zh: '已通过' },
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
  /** Absent for complaints accepted before complaints had a type. */
  type?: string | null;
  /** ISO 8601 */
  acceptedAt: string;
}

/** The policy default (domain/policy.ts complaint.repeatWindowDays); the handbook names no window. */
export const REPEAT_COMPLAINT_WINDOW_DAYS = 30;
const DAY_MS = 86_400_000;

/**
 * The earlier complaints this one repeats: the same customer complained about
 * the same matter at most `windowDays` days before this complaint was
 * accepted, or at the same moment. The same matter is the same subject (both
 * compared trimmed and case-insensitively) or the same type, except "other",
 * which says nothing about the matter. `prior` must not contain this complaint.
 */
export function repeatedComplaintIds(
  current: { customerRef: string; subject: string; type?: string | null; acceptedAt: string },
  prior: PriorComplaint[],
  windowDays: number = REPEAT_COMPLAINT_WINDOW_DAYS,
): string[] {
  const customer = normalise(current.customerRef);
  const subject = normalise(current.subject);
  if (customer === '') throw new RangeError('customerRef must identify the customer');
  if (subject === '') throw new RangeError('subject must say what the complaint is about');
  if (!Number.isInteger(windowDays) || windowDays < 1) {
    throw new RangeError(`windowDays must be a whole number of days, at least 1, got ${JSON.stringify(windowDays)}`);
  }
  const at = isoInstantMs(current.acceptedAt, 'acceptedAt');
  const earliest = at - windowDays * DAY_MS;
  const type = telling(current.type);

  return prior
    .filter((p) => {
      const priorAt = isoInstantMs(p.acceptedAt, `acceptedAt of complaint ${p.id}`);
      if (normalise(p.customerRef) !== customer || priorAt < earliest || priorAt > at) return false;
      return normalise(p.subject) === subject || (type !== null && telling(p.type) === type);
    })
    .map((p) => p.id);
}

/** True when the complaint repeats an earlier one (see repeatedComplaintIds). */
export function isRepeatedComplaint(
  current: { customerRef: string; subject: string; type?: string | null; acceptedAt: string },
  prior: PriorComplaint[],
  windowDays: number = REPEAT_COMPLAINT_WINDOW_DAYS,
): boolean {
  return repeatedComplaintIds(current, prior, windowDays).length > 0;
}

/** A type that says what the matter is: not absent, not "other". */
function telling(type: string | null | undefined): string | null {
  return typeof type === 'string' && type !== '' && type !== 'other' ? type : null;
}

/**
 * Whether a complaint needs the incident loop (root-cause analysis, tracked
 * rectification). Serious and repeated complaints do by the handbook; a
 * regulator's referral does too, because the regulator will ask what was
 * found and changed, and only the incident loop records that.
 */
export function shouldRaiseToIncident(
  c: { severity: 'normal' | 'serious'; repeated: boolean; channel: string },
  windowDays: number = REPEAT_COMPLAINT_WINDOW_DAYS,
): {
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
    because.push(`the customer complained about the same matter within ${windowDays} days`);
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
// Root-cause analysis (根因分析)

/** Why a complaint needs a root-cause analysis: finance §4.4 item 4, 重复投诉或严重投诉. */
export type RootCauseReason = 'serious' | 'repeated';

export const ROOT_CAUSE_STATUSES = ['submitted', 'returned', 'accepted'] as const;
export type RootCauseStatus = (typeof ROOT_CAUSE_STATUSES)[number];

/** Empty when the complaint may be fed back without a root-cause analysis. */
export function rootCauseRequiredBecause(c: { severity: string; repeated: boolean }): RootCauseReason[] {
  const because: RootCauseReason[] = [];
  if (c.severity === 'serious') because.push('serious');
  if (c.repeated) because.push('repeated');
  return because;
}

/**
 * A root-cause analysis as the case records it, with its review. Analyses
 * recorded before reviews existed have only the cause, factors, author and time.
 */
export interface RecordedRootCause {
  rootCause: string;
  contributingFactors: string[];
  correctiveActions?: string[];
  preventiveActions?: string[];
  by: string;
  at: string;
  /** Counts revisions: a returned analysis is revised as the next version. */
  version?: number;
  /** Absent on analyses recorded before reviews existed: awaiting review. */
  status?: RootCauseStatus;
  review?: { verdict: 'accept' | 'return'; reason?: string; by: string; at: string } | null;
}

export const rootCauseStatusOf = (rc: RecordedRootCause): RootCauseStatus => rc.status ?? 'submitted';

export interface ComplaintRefusal {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

/**
 * Why the feedback (which closes the complaint) may not be sent yet: a
 * serious or repeated complaint needs its root-cause analysis recorded and
 * accepted by an independent reviewer first. Null when nothing blocks.
 */
export function rootCauseGate(c: {
  requiredBecause: RootCauseReason[];
  rootCause: RecordedRootCause | null;
}): ComplaintRefusal | null {
  if (c.requiredBecause.length === 0) return null;
  const status = c.rootCause ? rootCauseStatusOf(c.rootCause) : 'missing';
  if (status === 'accepted') return null;
  const why = `a ${c.requiredBecause.join(' and ')} complaint needs its root-cause analysis (根因分析) accepted before the feedback`;
  const state =
    status === 'missing'
      ? 'none is recorded: POST …/root-cause'
      : status === 'submitted'
        ? `the analysis ${c.rootCause!.by} recorded awaits review by ${ROOT_CAUSE_REVIEWER_ROLES.join(', ')}: POST …/root-cause-review`
        : `${c.rootCause!.review?.by ?? 'the reviewer'} returned the analysis${
            c.rootCause!.review?.reason ? ` (${c.rootCause!.review.reason})` : ''
          }: revise it with POST …/root-cause`;
  return {
    code: 'ROOT_CAUSE_REQUIRED',
    message: `${why}; ${state}`,
    details: { requiredBecause: c.requiredBecause, rootCause: status },
  };
}

/**
 * Who reviews a root-cause analysis: the second and third lines (risk,
 * compliance, internal audit; finance §5.2), who verify results
 * independently, never the business line that handled the complaint.
 */
export const ROOT_CAUSE_REVIEWER_ROLES = VERIFIER_ROLES;

/** What a person did on the complaint that bars them from reviewing its analysis. */
export type PreparerPart =
  | 'accepted the complaint'
  | 'handles the complaint'
  | 'recorded the investigation'
  | 'recorded handling'
  | 'recorded the root-cause analysis';

/**
 * Everyone who prepared the work the analysis rests on, with what they did:
 * whoever accepted or handles the complaint, recorded its investigation or a
 * handling action, or recorded the analysis. None of them reviews it.
 */
export function rootCausePreparers(c: {
  acceptedBy?: string;
  handlerId: string;
  initialInvestigation: { by: string } | null;
  handling: Array<{ by: string }>;
  rootCause: { by: string } | null;
}): Array<{ userId: string; parts: PreparerPart[] }> {
  const parts = new Map<string, PreparerPart[]>();
  const add = (userId: string | undefined, part: PreparerPart) => {
    if (!userId) return;
    const list = parts.get(userId) ?? [];
    if (!list.includes(part)) list.push(part);
    parts.set(userId, list);
  };
  add(c.acceptedBy, 'accepted the complaint');
  add(c.handlerId, 'handles the complaint');
  add(c.initialInvestigation?.by, 'recorded the investigation');
  for (const h of c.handling) add(h.by, 'recorded handling');
  add(c.rootCause?.by, 'recorded the root-cause analysis');
  return [...parts].map(([userId, p]) => ({ userId, parts: p }));
}

/**
 * Why this reviewer may not take this review, or null. The analysis must be
 * awaiting review; the reviewer must have prepared none of the work
 * (segregation of duties); returning it needs a reason.
 */
export function rootCauseReviewRefusal(
  c: Parameters<typeof rootCausePreparers>[0] & { rootCause: RecordedRootCause | null },
  review: { reviewerId: string; verdict: 'accept' | 'return'; reason?: string },
): ComplaintRefusal | null {
  if (!c.rootCause || rootCauseStatusOf(c.rootCause) !== 'submitted') {
    return {
      code: 'NOT_AWAITING_REVIEW',
      message: c.rootCause
        ? `the root-cause analysis is ${rootCauseStatusOf(c.rootCause)}; only one awaiting review can be reviewed`
        : 'no root-cause analysis is recorded yet',
      details: { rootCause: c.rootCause ? rootCauseStatusOf(c.rootCause) : 'missing' },
    };
  }
  const blocking = rootCausePreparers(c).find((p) => p.userId === review.reviewerId);
  if (blocking) {
    return {
      code: 'SEGREGATION_OF_DUTIES',
      message: `segregation of duties: ${review.reviewerId} ${joinAnd(blocking.parts)}, so may not review its root-cause analysis`,
      details: { reviewerId: review.reviewerId, parts: blocking.parts, excluded: rootCausePreparers(c) },
    };
  }
  if (review.verdict === 'return' && !review.reason?.trim()) {
    return { code: 'REASON_REQUIRED', message: 'returning a root-cause analysis must give the reason' };
  }
  return null;
}

// ---------------------------------------------------------------------------
// Service levels

/** The SLAs by their handbook names; a policy may set other durations, the names stay. */
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
  sla: { initialInvestigationWithin: string; resultWithin: string } = COMPLAINT_SLA,
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
    ['initial_investigation_24h', sla.initialInvestigationWithin, events.initialInvestigationAtMs ?? events.resultAtMs],
    ['result_48h', sla.resultWithin, events.resultAtMs],
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
