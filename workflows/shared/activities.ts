import { proxyActivities } from '@temporalio/workflow';
import type { GovernanceActivities } from '../../activities';
import { track } from './settle';

/**
 * Read-model writes retry until the database is back: a case must not lose a
 * state change because PostgreSQL blinked. Each write is idempotent.
 */
const activities = proxyActivities<GovernanceActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', backoffCoefficient: 2 },
});

/**
 * Every activity a case runs is counted while it runs: a case with work in
 * flight has not settled, and the call that caused the work does not answer
 * yet (see ./settle.ts).
 */
export const acts = new Proxy(activities, {
  get(target, name: string) {
    const activity = target[name as keyof GovernanceActivities] as (...args: unknown[]) => Promise<unknown>;
    return (...args: unknown[]) => track(activity(...args));
  },
}) as GovernanceActivities;
