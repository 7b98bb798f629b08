/**
 * Durations as people write them in process settings: "30s", "15m", "48h",
 * "7d", "2w". Every deadline in a case is configurable this way, so tests can
 * run a week-long wait in seconds.
 */
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
export const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(s|m|h|d|w)$/;
/** No obligation in the handbooks waits longer than a plan revision cycle (3 years). */
export const MAX_DURATION_MS = 3 * 366 * UNIT_MS.d;

export function parseDuration(text: string): number {
  const match = DURATION_PATTERN.exec(text.trim());
  if (!match) throw new RangeError(`"${text}" is not a duration like 30s, 15m, 48h, 7d or 2w`);
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  if (!(ms >= 1_000)) throw new RangeError(`duration "${text}" must be at least 1s`);
  if (ms > MAX_DURATION_MS) throw new RangeError(`duration "${text}" is longer than 3 years`);
  return Math.round(ms);
}

/** The reason `text` is not a usable duration, or null when it is. */
export function durationProblem(text: string): string | null {
  try {
    parseDuration(text);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['w', UNIT_MS.w],
    ['d', UNIT_MS.d],
    ['h', UNIT_MS.h],
    ['m', UNIT_MS.m],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${Math.round(ms / 1000)}s`;
}
