/**
 * PostgreSQL restarted (a clean stop that drops every connection) and
 * crashed (an immediate stop) while cases of every process are mid-step:
 * the activities that failed meanwhile are retried by Temporal, the API's
 * failed calls by the client (same Idempotency-Key), and every case
 * completes once. The Temporal server's own persistence is on the same
 * cluster, so it rides out the outage too.
 */
import { describe, expect, it } from 'vitest';
import { useProduction } from '../support/production';
import {
  driveCase,
  expectClosed,
  expectHistoriesOnce,
  expectNothingDoubled,
  PROCESSES,
  type DrivenCase,
} from './cases';

const p = useProduction();

/** Activity attempts after the first, in the cases' histories: the retries the outage caused. */
async function activityRetries(driven: DrivenCase[]): Promise<number> {
  let retries = 0;
  for (const d of driven) {
    const workflows = await p.sql<{ workflow_id: string }>(
      'select distinct workflow_id from tasks where case_id = $1 union select $1',
      [d.caseId],
    );
    for (const { workflow_id } of workflows) {
      const history = await p.temporal.workflow.getHandle(workflow_id).fetchHistory();
      for (const e of history.events ?? []) {
        const attempt = e.activityTaskStartedEventAttributes?.attempt ?? 1;
        if (attempt > 1) retries += attempt - 1;
      }
    }
  }
  return retries;
}

describe('PostgreSQL restarted mid-activity', () => {
  for (const mode of ['restartPostgres', 'crashPostgres'] as const) {
    it(`${mode === 'crashPostgres' ? 'crashed (immediate stop)' : 'restarted (fast stop)'}: activities retry and cases complete`, async () => {
      // Six lanes keep cases moving through the outage, so some activities run into it.
      const driven: DrivenCase[] = [];
      let outageOver = false;
      const lanes = Array.from({ length: 6 }, async (_, lane) => {
        for (let n = 0; !outageOver || n < 2; n++)
          driven.push(await driveCase(p, PROCESSES[(lane + n) % PROCESSES.length]!));
      });
      await new Promise((r) => setTimeout(r, 1_000 + Math.random() * 1_000));
      const outage = Date.now();
      // Down for 3 s: longer than an activity's first retry interval, so retries meet the outage too.
      await p.control(mode, { downMs: 3_000 });
      const downFor = Date.now() - outage;
      outageOver = true;
      await Promise.all(lanes);
      await expectClosed(p, driven);
      await expectNothingDoubled(p, driven);
      await expectHistoriesOnce(p, driven);
      const retries = await activityRetries(driven);
      const retriedCalls = driven.flatMap((d) => d.calls).filter((c) => c.attempts > 1).length;
      // How much of the outage the cases met is logged, not asserted: the pool
      // reconnects between queries, so a short outage may meet no activity.
      console.log(
        `[production] PostgreSQL ${mode}: down ${downFor} ms; ${driven.length} cases completed once; ${retries} activity retries, ${retriedCalls} API calls retried`,
      );
    });
  }
});
