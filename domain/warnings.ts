/**
 * Risk warnings (风险预警), e-commerce manual §6.2 and finance manual §5.4: a
 * three-level mechanism, 一般 general / 较高 elevated / 重大 major, each level
 * with its own response. Key risk indicators (关键风险指标) carry one
 * threshold per level; an observation from a monitoring system raises a
 * warning at the highest level its value reaches, and a repeat of the same
 * indicator within the policy's window raises it one step. Pure rules: no I/O.
 */
import type { ApprovalTimings } from './deadlines';
import { parseDuration } from './durations';

export const WARNING_LEVELS = ['general', 'elevated', 'major'] as const;
export type WarningLevel = (typeof WARNING_LEVELS)[number];

/** The handbooks' names (e-commerce §6.2: 一般风险 / 较高风险 / 重大风险). */
export const WARNING_LEVEL_LABELS: Record<WarningLevel, { en: string; zh: string }> = {
  general: { en: 'General', zh: '一般' },
  elevated: { en: 'Elevated', zh: '较高' },
  major: { en: 'Major', zh: '重大' },
};

/** 'above': the risk grows with the value (transaction frequency); 'below': it grows as the value falls (credit score). */
export const KRI_DIRECTIONS = ['above', 'below'] as const;
export type KriDirection = (typeof KRI_DIRECTIONS)[number];

export type KriThresholds = Record<WarningLevel, number>;

/**
 * Why the thresholds are not ordered by the direction, naming the field that
 * breaks the order, or null when they are: above, general < elevated < major;
 * below, general > elevated > major.
 */
export function thresholdsProblem(
  direction: KriDirection,
  thresholds: KriThresholds,
): { field: WarningLevel; message: string } | null {
  const pairs: Array<[WarningLevel, WarningLevel]> = [
    ['general', 'elevated'],
    ['elevated', 'major'],
  ];
  for (const [lower, higher] of pairs) {
    const ordered =
      direction === 'above' ? thresholds[higher] > thresholds[lower] : thresholds[higher] < thresholds[lower];
    if (!ordered) {
      return {
        field: higher,
        message: `thresholds.${higher} must be ${direction === 'above' ? 'greater' : 'less'} than thresholds.${lower} (${thresholds[lower]}): the risk grows ${direction === 'above' ? 'with the value' : 'as the value falls'}`,
      };
    }
  }
  return null;
}

/** The highest level the value reaches, or null when it reaches none (recorded, no warning). */
export function levelReached(direction: KriDirection, thresholds: KriThresholds, value: number): WarningLevel | null {
  let reached: WarningLevel | null = null;
  for (const level of WARNING_LEVELS) {
    if (direction === 'above' ? value >= thresholds[level] : value <= thresholds[level]) reached = level;
  }
  return reached;
}

/** One step up; major stays major. */
export function raiseOneStep(level: WarningLevel): WarningLevel {
  return WARNING_LEVELS[Math.min(WARNING_LEVELS.indexOf(level) + 1, WARNING_LEVELS.length - 1)]!;
}

/**
 * The warning's level: the level reached, raised one step when an earlier
 * warning of the same indicator was observed within the repeat window
 * before this one (warnings.repeatWindowDays).
 */
export function warningLevel(
  reached: WarningLevel,
  observedAt: string,
  earlierWarnings: Array<{ alertKey: string; observedAt: string }>,
  repeatWindowDays: number,
): { level: WarningLevel; repeatOf: string[] } {
  const at = Date.parse(observedAt);
  const from = at - repeatWindowDays * 86_400_000;
  const repeatOf = earlierWarnings
    .filter((w) => {
      const t = Date.parse(w.observedAt);
      return t >= from && t <= at;
    })
    .map((w) => w.alertKey);
  return { level: repeatOf.length > 0 ? raiseOneStep(reached) : reached, repeatOf };
}

/**
 * The ladder of a response owed within the policy's deadline
 * (warnings.acknowledgeWithin): reminded halfway, escalated at the deadline,
 * overdue (and still owed) at twice the deadline. Policy default: the
 * handbooks set no figure.
 */
export function responseLadder(within: string): ApprovalTimings {
  const ms = parseDuration(within);
  const seconds = (n: number) => `${Math.max(1, Math.round(n / 1000))}s`;
  return { remindAfter: seconds(ms / 2), escalateAfter: seconds(ms), expireAfter: seconds(ms * 2) };
}

/** The incident a major warning opens: WARN-<alertKey>. */
export const warningIncidentId = (alertKey: string) => `WARN-${alertKey}`;

/**
 * Segregation of duties on the review: who acknowledged the warning or
 * planned its response does not review it. The reason, or null when the
 * reviewer may.
 */
export function reviewRefusal(reviewerId: string, responders: Array<{ userId: string; did: string }>): string | null {
  const took = responders.find((r) => r.userId === reviewerId);
  return took ? `${reviewerId} ${took.did} this warning and may not review it (segregation of duties)` : null;
}

/**
 * How often a major warning that joined an incident already under way
 * checks whether that incident has closed: it is not the warning's child,
 * so no event tells it. From `first`, doubling up to once a day, so a
 * month-long incident costs a few dozen checks in the warning's history.
 * Policy default: the handbooks set no figure.
 */
export const INCIDENT_WATCH_FIRST = '1m';
export const INCIDENT_WATCH_LONGEST = '1d';

/** The wait before the n-th check (0-based), in milliseconds. */
export function incidentWatchDelay(n: number, first = INCIDENT_WATCH_FIRST): number {
  return Math.min(parseDuration(first) * 2 ** Math.min(n, 30), parseDuration(INCIDENT_WATCH_LONGEST));
}
