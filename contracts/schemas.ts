/**
 * Schema pieces the contracts share. Plain zod, so the workflow bundle can
 * carry them; the API adds its OpenAPI details around them.
 */
import { z } from 'zod';
import { DURATION_PATTERN, durationProblem } from '../domain/durations';

/** Required text, trimmed, at most `max` characters. */
export const text = (max: number) => z.string().trim().min(1).max(max);

/** A user id named in a request (the API also checks the user is active). */
export const userId = z.string().min(1).max(64);

export const duration = z
  .string()
  .regex(DURATION_PATTERN, 'a duration like 30s, 15m, 48h, 7d or 2w')
  .superRefine((value, ctx) => {
    const problem = durationProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .meta({ example: '48h', description: 'from 1s to 3 years' });

/**
 * A moment that has happened, as an ISO date-time with its offset: a
 * notification not yet made satisfies no rule. Five minutes' grace for clocks.
 */
export const pastInstant = z.iso
  .datetime({ offset: true })
  .refine((t) => Date.parse(t) <= Date.now() + 5 * 60_000, 'is in the future');
