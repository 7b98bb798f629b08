/**
 * The worker killed -9 at random points, again and again, while cases of
 * several processes run through the API: a new worker process takes over
 * each time, every case completes, once, and nothing is applied twice.
 */
import { describe, expect, it } from 'vitest';
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
const auditEvents = async () => (await p.sql<{ n: number }>('select count(*)::int as n from audit_events'))[0]!.n;
/** PRODUCTION_WORKER_KILLS: fewer for a quick local run; the suite's figure is 100. */
const KILLS = Number(process.env.PRODUCTION_WORKER_KILLS ?? 100);
const LANES = 6;

describe('worker kill -9', () => {
  // About 5 s a kill here (kill → a new worker polling ≈ 3.7 s, then 0.1–1.5 s of work): 100 take ≈ 9 min.
  it(
    `at ${KILLS} random points: every case completes once, nothing doubled`,
    { timeout: 180_000 + KILLS * 10_000 },
    async () => {
      const driven: DrivenCase[] = [];
      let kills = 0;
      let killing = true;
      const downtimes: number[] = [];
      const started = Date.now();
      const killer = (async () => {
        try {
          while (kills < KILLS) {
            // Each worker gets to do some work before it dies (an audit event written since it
            // started): killed faster than it can finish a workflow task, on a loaded machine,
            // no worker would ever complete one and the test would measure Temporal's backoff.
            const before = await auditEvents();
            await eventually(async () => (await auditEvents()) > before, 60_000).catch(() => undefined);
            // Then a random point: 0.1–1.5 s later.
            await new Promise((r) => setTimeout(r, 100 + Math.random() * 1_400));
            const at = Date.now();
            await p.control('killWorker');
            kills++;
            await p.control('startWorker');
            downtimes.push(Date.now() - at);
          }
        } finally {
          killing = false;
        }
      })();
      const lanes = Array.from({ length: LANES }, async (_, lane) => {
        for (let n = 0; killing; n++) driven.push(await driveCase(p, PROCESSES[(lane + n) % PROCESSES.length]!));
      });
      await Promise.all([killer, ...lanes]);
      const drivenFor = Date.now() - started;

      await expectClosed(p, driven, 180_000);
      await expectNothingDoubled(p, driven);
      const updates = await expectHistoriesOnce(p, driven);
      const retried = driven.flatMap((d) => d.calls).filter((c) => c.attempts > 1).length;
      expect(kills).toBe(KILLS);
      expect(driven.length).toBeGreaterThanOrEqual(LANES);
      const mean = downtimes.reduce((a, b) => a + b, 0) / downtimes.length;
      console.log(
        `[production] worker kill -9 ×${kills} over ${(drivenFor / 1000).toFixed(0)} s: ${driven.length} cases ` +
          `(${PROCESSES.map((pr) => `${driven.filter((d) => d.process === pr).length} ${pr}`).join(', ')}) completed once; ` +
          `${updates} Updates accepted once each; ${retried} calls retried; kill→new worker polling mean ${mean.toFixed(0)} ms, max ${Math.max(...downtimes)} ms`,
      );
    },
  );
});
