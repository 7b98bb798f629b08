import { proxyActivities } from '@temporalio/workflow';
import type { GovernanceActivities } from '../../activities';

/**
 * Read-model writes retry until the database is back: a case must not lose a
 * state change because PostgreSQL blinked. Each write is idempotent.
 */
export const acts = proxyActivities<GovernanceActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', backoffCoefficient: 2 },
});
