/**
 * Per-case timings are locked: the compliance-owned policy sets every clock a
 * case runs on (domain/policy.ts). A deployment that needs shorter clocks for
 * tests or demos sets GOVERNANCE_CASE_TIMINGS=allow; everywhere else a start
 * that brings its own timings is refused with 403 and nothing is started.
 */
import type { Settings } from '../platform/config';
import { ApiError } from './errors';

/** Refusal code in the error envelope's `reason`. */
export const CASE_TIMINGS_LOCKED = 'CASE_TIMINGS_LOCKED';

/**
 * Throws 403 CASE_TIMINGS_LOCKED when any of the named fields is present and
 * the deployment does not allow per-case timings. `fields` maps each body
 * field (as the caller wrote it, e.g. "timings.approval") to its value.
 */
export function refuseLockedTimings(
  settings: Partial<Pick<Settings, 'caseTimings'>>,
  fields: Record<string, unknown>,
): void {
  if (settings.caseTimings === 'allow') return;
  const given = Object.entries(fields)
    .filter(([, value]) => value !== undefined && value !== null)
    .map(([field]) => field);
  if (given.length === 0) return;
  throw new ApiError(
    'FORBIDDEN',
    `${given.join(', ')}: per-case timings are not allowed here; every clock comes from the policy that compliance owns (GET /api/policy). Deployments for tests and demos may set GOVERNANCE_CASE_TIMINGS=allow`,
    { fields: given },
    CASE_TIMINGS_LOCKED,
  );
}
