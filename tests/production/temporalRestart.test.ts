/**
 * The Temporal server restarted (stopped, and killed -9) while cases are part
 * way through and a case's timers are running: every case resumes from where
 * it was, and the timers fire — late by the outage, never lost, never twice.
 */
import { describe, expect, it } from 'vitest';
import { eventually, useProduction } from '../support/production';
import {
  driveCase,
  expectClosed,
  expectHistoriesOnce,
  expectNothingDoubled,
  PROCESSES,
  send,
  type DrivenCase,
} from './cases';

const p = useProduction();

/** An approval nobody decides: reminded after 3 s, escalated after 5 s, expired after 8 s. */
async function startTimedCase() {
  const started = await send(p, 'start', 'POST', '/api/cases/approval-requests', {
    as: 'manager',
    json: {
      requestKey: p.unique('TIMER'),
      title: 'Timers across a Temporal restart',
      probability: 1,
      impact: 2,
      approvalTimings: { remindAfter: '3s', escalateAfter: '5s', expireAfter: '8s' },
    },
  });
  expect(started.status, JSON.stringify(started.body)).toBe(201);
  return started.body.caseId as string;
}

async function expectExpiredOnce(caseId: string) {
  const result = await p.temporal.workflow.getHandle(caseId).result();
  expect(result.outcome).toBe('expired');
  const timeline = await p.sql('select action from audit_events where case_id = $1 order by seq', [caseId]);
  expect(timeline.map((e) => e.action)).toEqual([
    'case.opened',
    'approval.opened',
    'notification.reminder',
    'approval.reminded',
    'notification.escalation',
    'approval.escalated',
    'approval.expired',
    'case.closed',
  ]);
  const [task] = await p.sql('select status, reminded_at, escalated_at from tasks where id = $1', [
    `${caseId}:approval`,
  ]);
  expect(task.status).toBe('expired');
  expect(task.escalated_at.getTime()).toBeGreaterThan(task.reminded_at.getTime());
}

describe('the Temporal server restarted', () => {
  for (const mode of ['restartTemporal', 'killTemporal'] as const) {
    it(`${mode === 'killTemporal' ? 'killed -9' : 'stopped'} and started again: cases resume, timers included`, async () => {
      const timed = await startTimedCase();
      // Cases of every process, each stopped at its first step.
      const inFlight = PROCESSES.map((process) => driveCase(p, process));
      await new Promise((r) => setTimeout(r, 500));
      const outage = Date.now();
      await p.control(mode);
      const downFor = Date.now() - outage;
      const driven: DrivenCase[] = await Promise.all(inFlight);
      await expectClosed(p, driven);
      await expectNothingDoubled(p, driven);
      await expectHistoriesOnce(p, driven);
      await eventually(
        async () => (await p.sql(`select 1 from cases where id = $1 and status = 'closed'`, [timed])).length,
        60_000,
      );
      await expectExpiredOnce(timed);
      console.log(`[production] Temporal ${mode}: down ${downFor} ms; ${driven.length} cases and 1 timer case resumed`);
    });
  }
});
