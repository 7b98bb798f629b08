/**
 * How often the periodic risk reports are generated (finance §5.5; issue 12
 * §5) is policy, not code: on the real Temporal dev server and PostgreSQL,
 * the Schedules fire monthly and their launcher opens the report of the
 * period of policy riskReports.frequency that ended last; a policy change
 * that compliance requests and two functions approve changes what the next
 * launch opens, without touching the Schedules.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ensureRiskReportSchedules, riskReportScheduleId } from '../../activities/riskReports';
import { DEFAULT_POLICY, policySource } from '../../domain/policy';
import { periodJustEnded } from '../../domain/riskReporting';
import { endWorkflows } from '../support/drive';
import { useHarness } from '../support/harness';

const h = useHarness('riskReportGaps');
const enc = encodeURIComponent;
const running = new Set<string>();
afterAll(() => endWorkflows(h, [...running], 'risk report gap tests: done'));

const launch = async (audience: string) => {
  const opened = await h.temporal.workflow.execute('riskReportLauncherWorkflow', {
    taskQueue: h.taskQueue,
    workflowId: h.unique('risk-report-launcher'),
    args: [{ audience }],
  });
  if (opened.started) running.add(opened.caseId);
  return opened;
};

describe('risk report frequencies from the policy', () => {
  it('the periods each frequency reports on', () => {
    expect(DEFAULT_POLICY.riskReports.frequency).toEqual({ management: 'monthly', regulator: 'quarterly' });
    expect(policySource('riskReports.frequency.regulator')).toMatch(/§5\.5/);
    const jan = new Date('2026-01-01T03:00:00Z');
    const nov = new Date('2026-11-01T03:00:00Z');
    expect([periodJustEnded('monthly', jan), periodJustEnded('monthly', nov)]).toEqual(['2025-12', '2026-10']);
    expect([periodJustEnded('quarterly', jan), periodJustEnded('quarterly', nov)]).toEqual(['2025-Q4', '2026-Q3']);
    expect([periodJustEnded('yearly', jan), periodJustEnded('yearly', nov)]).toEqual(['2025', '2025']);
  });

  it('the launcher opens the period of the policy’s frequency; a policy change changes it, not the Schedules', async () => {
    // Each Schedule fires monthly, whatever the frequency: the launcher picks the period.
    for (const audience of ['management', 'regulator']) {
      // Made here unless another file made them first (Schedules are per namespace; same spec).
      // riskReport.test.ts deletes them when it ends: if that happens between the two calls, make them again.
      const fetchSchedule = async () => {
        await ensureRiskReportSchedules(h.temporal, h.taskQueue);
        return h.temporal.schedule.getHandle(riskReportScheduleId(audience as never)).describe();
      };
      const schedule = await fetchSchedule().catch(fetchSchedule);
      expect(schedule.spec.calendars, audience).toEqual([
        expect.objectContaining({ dayOfMonth: [{ start: 1, end: 1, step: 1 }], hour: [{ start: 3, end: 3, step: 1 }] }),
      ]);
      expect(schedule.spec.calendars?.[0]?.month, audience).toEqual([{ start: 'JANUARY', end: 'DECEMBER', step: 1 }]);
    }

    // Version 1 would open the regulator's last quarter and management's last month. Those cases
    // are other files' (workflow ids are per namespace): this test launches only under version 2.
    const now = new Date();
    const quarter = periodJustEnded('quarterly', now);
    const year = periodJustEnded('yearly', now);

    // Compliance makes the regulator's report yearly and management's quarterly; two functions approve.
    const requested = await h.api('POST', '/api/policy/changes', {
      as: 'approver2',
      json: {
        changeKey: h.unique('POL'),
        summary: 'Regulator reports yearly; management quarterly',
        change: { riskReports: { frequency: { management: 'quarterly', regulator: 'yearly' } } },
      },
    });
    expect(requested.status, JSON.stringify(requested.body)).toBe(201);
    running.add(requested.body.caseId);
    for (const as of ['approver', 'legal'] as const) {
      const res = await h.api('POST', `/api/tasks/${enc(`${requested.body.caseId}:approval`)}/decision`, {
        as,
        json: { decision: 'approve' },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    }
    expect(await h.temporal.workflow.getHandle(requested.body.caseId).result()).toMatchObject({
      outcome: 'approved',
    });
    const policy = await h.api('GET', '/api/policy', { as: 'auditor' });
    expect(policy.body.values.riskReports).toEqual({ frequency: { management: 'quarterly', regulator: 'yearly' } });

    // Under version 2 the launchers open the periods of its frequencies: the year, the quarter.
    const yearly = await launch('regulator');
    expect(yearly).toEqual({ started: true, caseId: `risk-report:regulator:${year}`, period: year });
    const [row] = await h.sql('select period, prepared_by from risk_reports where case_id = $1', [yearly.caseId]);
    expect(row).toEqual({ period: year, prepared_by: 'system' });
    expect(await launch('management')).toEqual({
      started: true,
      caseId: `risk-report:management:${quarter}`,
      period: quarter,
    });
    // Launched again in the same month: the periods are reported, nothing new opens.
    expect(await launch('regulator')).toMatchObject({ started: false, reason: 'already_exists', period: year });
  });
});
