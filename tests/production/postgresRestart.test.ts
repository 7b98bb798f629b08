/**
 * PostgreSQL restarted (a clean stop that drops every connection) and
 * crashed (an immediate stop) while cases of every process are mid-step,
 * with activities in the middle of their writes: the test holds a lock on
 * `audit_events` (every step's activity appends there) until activities
 * wait on it, then stops the cluster under them. Those activities fail and
 * Temporal retries them, the API's failed calls are retried by the client
 * (same Idempotency-Key), and every case completes once. The Temporal
 * server's own persistence is on the same cluster, so it rides out the
 * outage too. After each test, whatever happened, the profile must answer
 * again before the next file runs.
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, useProduction } from '../support/production';
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
  // A fault that went wrong must not fail the files after it: the stack answers again, or is restarted.
  afterEach(async () => {
    const ready = async () => (await fetch(`${p.apiUrl}/readyz`).catch(() => undefined))?.status === 200;
    const { alive } = await p.control('state');
    const answered = alive.worker && alive.api && (await eventually(ready, 60_000).catch(() => false));
    if (answered) return;
    console.log(
      `[production] after a PostgreSQL fault: worker ${alive.worker ? 'up' : 'gone'}, API ${alive.api ? 'up' : 'gone'}; restarting them`,
    );
    await p.control('restartPostgres', { downMs: 0 }).catch(() => undefined);
    await p.control('killWorker');
    await p.control('startWorker');
    await p.control('killApi');
    await p.control('startApi');
    await eventually(ready, 60_000);
  });

  for (const mode of ['restartPostgres', 'crashPostgres'] as const) {
    it(`${mode === 'crashPostgres' ? 'crashed (immediate stop)' : 'restarted (fast stop)'}: activities retry and cases complete`, async () => {
      // Six lanes keep cases moving through the outage.
      const driven: DrivenCase[] = [];
      let outageOver = false;
      const lanes = Array.from({ length: 6 }, async (_, lane) => {
        for (let n = 0; !outageOver || n < 2; n++)
          driven.push(await driveCase(p, PROCESSES[(lane + n) % PROCESSES.length]!));
      });
      // Activities mid-write: the worker's appends to audit_events wait on the test's lock (reads go on).
      const holder = new pg.Client({ connectionString: (await p.control('state')).appOwnerDatabaseUrl });
      holder.on('error', () => undefined); // the outage ends its connection
      await holder.connect();
      await holder.query('begin');
      await holder.query('lock table audit_events in exclusive mode');
      const release = () => holder.end().catch(() => undefined);
      // As the superuser: other roles' wait events are hidden from the owner in pg_stat_activity.
      const { app } = await p.databases();
      const waiting = await eventually(async () => {
        const [row] = await p.admin<{ n: number }>(
          app,
          `select count(*)::int as n from pg_stat_activity
            where datname = $1 and wait_event_type = 'Lock'
              and application_name = 'governance-worker'`,
          [app],
        );
        return row!.n > 0 ? row!.n : undefined;
      }, 60_000).catch(async (err) => {
        // No activity reached the lock: let the cases go on, and fail.
        outageOver = true;
        await release();
        throw err;
      });
      const outage = Date.now();
      // Down for 3 s: longer than an activity's first retry interval, so retries meet the outage too.
      await p.control(mode, { downMs: 3_000 }).finally(release);
      const downFor = Date.now() - outage;
      outageOver = true;
      await Promise.all(lanes);
      await expectClosed(p, driven);
      await expectNothingDoubled(p, driven);
      await expectHistoriesOnce(p, driven);
      const retries = await activityRetries(driven);
      const retriedCalls = driven.flatMap((d) => d.calls).filter((c) => c.attempts > 1).length;
      console.log(
        `[production] PostgreSQL ${mode}: down ${downFor} ms with ${waiting} writes waiting mid-activity; ` +
          `${driven.length} cases completed once; ${retries} activity retries, ${retriedCalls} API calls retried`,
      );
      // The writes cut off by the outage were activities: Temporal retried them.
      expect(retries).toBeGreaterThanOrEqual(1);
    });
  }
});
