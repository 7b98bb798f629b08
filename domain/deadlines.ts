/**
 * Default timings for human waits. Every one can be overridden per case (the
 * tests run them in seconds). The handbooks fix the complaint SLAs; the rest
 * are the platform's defaults, stated here so there is one place to change them.
 */
import { durationProblem, parseDuration } from './durations';

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
