import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { GovernanceActivities } from '../../activities';
import { track } from './settle';

/**
 * Activity options by what an activity talks to. Business failures are
 * thrown as non-retryable ApplicationFailures by the activities themselves,
 * whatever their group: retrying cannot make a refused input right.
 */
const GROUPS = {
  /**
   * Read-model reads and writes retry until the database is back: a case
   * must not lose a state change because PostgreSQL blinked. Each write is
   * idempotent (keyed on workflow, run and activity id).
   */
  readModel: {
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', maximumInterval: '1 minute', backoffCoefficient: 2 },
  },
  /**
   * Calls to Temporal itself: starting cases (each waits until the started
   * case has settled) and managing Schedules. Idempotent by business key, so
   * they retry like writes; they heartbeat while they wait, so a lost worker
   * is noticed within the heartbeat timeout.
   */
  temporal: {
    startToCloseTimeout: '10 minutes',
    heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '1 second', maximumInterval: '1 minute', backoffCoefficient: 2 },
  },
  /**
   * Calls to systems outside the platform (the supplier check provider):
   * bounded retries, heartbeats while waiting. After the last attempt the
   * activity answers without the provider (activities/suppliers.ts).
   */
  outside: {
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '5 seconds', maximumInterval: '1 minute', backoffCoefficient: 2, maximumAttempts: 5 },
  },
} satisfies Record<string, ActivityOptions>;

type Group = keyof typeof GROUPS;

/** Activities outside the read-model group; every other activity is a read-model read or write. */
const GROUP_OF: Partial<Record<keyof GovernanceActivities, Group>> = {
  runSupplierChecks: 'outside',
  startSupplierReview: 'temporal',
  startCampaignReviews: 'temporal',
  scheduleNextSupplierReview: 'temporal',
  removeSupplierReviewSchedule: 'temporal',
  syncSupplierReviewSchedule: 'temporal',
  openPlanRevision: 'temporal',
  openAnnualDrills: 'temporal',
  // Writes the version, then restarts the revision clock and ensures the programme's Schedule.
  publishPlanVersion: 'temporal',
  // Writes register versions, then tells acceptances in force that a residual rating changed.
  applyRiskAssessmentRatings: 'temporal',
  openScheduledRiskAssessment: 'temporal',
  openScheduledRiskReport: 'temporal',
  ensureRiskReportSchedules: 'temporal',
};

const proxies = Object.fromEntries(
  Object.entries(GROUPS).map(([group, options]) => [group, proxyActivities<GovernanceActivities>(options)]),
) as unknown as Record<Group, GovernanceActivities>;

/**
 * Every activity a case runs is counted while it runs: a case with work in
 * flight has not settled, and the call that caused the work does not answer
 * yet (see ./settle.ts).
 */
export const acts = new Proxy({} as GovernanceActivities, {
  get(_, name: string) {
    const group = GROUP_OF[name as keyof GovernanceActivities] ?? 'readModel';
    const activity = proxies[group][name as keyof GovernanceActivities] as (...args: unknown[]) => Promise<unknown>;
    return (...args: unknown[]) => track(activity(...args));
  },
}) as GovernanceActivities;
