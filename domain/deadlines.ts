/**
 * Default timings for human waits. Every one can be overridden per case (the
 * tests run them in seconds). The handbooks fix the complaint SLAs; the rest
 * are the platform's defaults, stated here so there is one place to change them.
 */
import { durationProblem, formatDuration, MAX_DURATION_MS, parseDuration } from './durations';

export interface ApprovalTimings {
  /** Reminder to the candidate approvers. */
  remindAfter: string;
  /** Escalation to the next role up when nobody has decided. */
  escalateAfter: string;
  /** Final deadline: the approval ends as "expired" and the case records it. */
  expireAfter: string;
}

export const DEFAULT_APPROVAL_TIMINGS: ApprovalTimings = {
  remindAfter: '24h',
  escalateAfter: '48h',
  expireAfter: '7d',
};

/**
 * The ladder of a step someone owes a case (a drill plan, KPI values, a
 * close-out request…): the same three rungs as an approval's. At the final
 * deadline an obligation does not lapse: its task is marked overdue, admin is
 * told, and the step stays owed (workflows/shared/humanSteps.ts `awaitStep`).
 */
export type StepTimings = ApprovalTimings;

/**
 * Policy default for a step owed next (the handbooks set no deadline for
 * them): due within a week, reminded two days before (what the supplier
 * review's reviewer steps always had), overdue a week after.
 */
export const DEFAULT_STEP_TIMINGS: StepTimings = {
  remindAfter: '5d',
  escalateAfter: '7d',
  expireAfter: '14d',
};

/**
 * Policy default: a drill opened for the year is planned within a month, so
 * the year leaves room to conduct it (e-commerce §7.2: at least one full
 * drill a year).
 */
export const DRILL_PLANNING_TIMINGS: StepTimings = {
  remindAfter: '14d',
  escalateAfter: '30d',
  expireAfter: '60d',
};

/**
 * Policy default for an incident's close-out request, owed from its
 * stabilisation: long enough for the follow-up evaluation and rectification
 * items at their default 30 days (DEFAULT_RECTIFICATION_TIMINGS).
 */
export const INCIDENT_CLOSE_OUT_REQUEST_TIMINGS: StepTimings = {
  remindAfter: '30d',
  escalateAfter: '45d',
  expireAfter: '60d',
};

/**
 * A drill is conducted by its due date, the end of its year (e-commerce §7.2),
 * which is the final deadline; reminded and escalated this long before it
 * (policy default).
 */
export const DRILL_CONDUCT_LEAD = { remindBefore: '60d', escalateBefore: '30d' };

/**
 * Policy default for a supplier's documents (DOMAIN.md §1 names them, not a
 * deadline): two weeks, reminded two days before. At the deadline what is
 * missing escalates and becomes a finding: the review goes on without it.
 */
export const SUPPLIER_DOCUMENTS_TIMINGS: StepTimings = {
  remindAfter: '12d',
  escalateAfter: '14d',
  expireAfter: '14d',
};

/**
 * Policy default for a plan revision's draft (DOMAIN.md §4 sets the
 * three-year cycle, not the drafting time): a month to draft, reminded after
 * three weeks, overdue (still owed) after two months. A plan's own timings
 * (`timings.draft` when it is registered) override it.
 */
export const PLAN_DRAFT_TIMINGS: StepTimings = {
  remindAfter: '21d',
  escalateAfter: '30d',
  expireAfter: '60d',
};

/**
 * The ladder of a step owed by a fixed date (`finalMs`): overdue at that date,
 * reminded and escalated the leads before it. A date nearer than a lead keeps
 * the order: reminded at three quarters of the time until the escalation, or,
 * nearer than the escalation's lead too, at a half and three quarters of the
 * time left.
 */
export function ladderEndingAt(
  openedMs: number,
  finalMs: number,
  lead: { remindBefore: string; escalateBefore: string },
): StepTimings {
  const left = Math.min(MAX_DURATION_MS, Math.max(1_000, finalMs - openedMs));
  const escalateBefore = parseDuration(lead.escalateBefore);
  const remindBefore = parseDuration(lead.remindBefore);
  const escalateAt = left > escalateBefore ? left - escalateBefore : left * 0.75;
  const remindAt = left > remindBefore ? left - remindBefore : left > escalateBefore ? escalateAt * 0.75 : left / 2;
  const duration = (ms: number) => formatDuration(Math.max(1_000, Math.round(ms / 1_000) * 1_000));
  return { remindAfter: duration(remindAt), escalateAfter: duration(escalateAt), expireAfter: duration(left) };
}

export interface RectificationTimings {
  /** From opening to the due date, when the case gives no explicit due date. */
  dueIn: string;
  /** Reminder this long before the due date. */
  remindBefore: string;
  /** After the first (overdue) escalation, the second level follows this much later. */
  escalateAgainAfter: string;
}

export const DEFAULT_RECTIFICATION_TIMINGS: RectificationTimings = {
  dueIn: '30d',
  remindBefore: '3d',
  escalateAgainAfter: '7d',
};

export function validateTimings(t: ApprovalTimings): string | null {
  for (const [name, text] of Object.entries(t)) {
    const problem = durationProblem(text);
    if (problem) return `${name}: ${problem}`;
  }
  const [remind, escalate, expire] = [t.remindAfter, t.escalateAfter, t.expireAfter].map(parseDuration) as [
    number,
    number,
    number,
  ];
  if (!(remind <= escalate && escalate <= expire)) {
    return 'timings must satisfy remindAfter ≤ escalateAfter ≤ expireAfter';
  }
  return null;
}

/** Reminder time for an item due at `dueMs`, opened at `openedMs`. */
export function rectificationReminderAt(openedMs: number, dueMs: number, remindBefore: string): number {
  const candidate = dueMs - parseDuration(remindBefore);
  // An item due sooner than the reminder lead time is reminded half-way.
  return candidate > openedMs ? candidate : openedMs + Math.floor((dueMs - openedMs) / 2);
}
