/**
 * Risk information reporting I/O (风险信息报告, finance §5.5): the periodic
 * report's row (prepared, released or refused), each write with its audit
 * event in one transaction, keyed on the calling activity so a retry writes
 * nothing twice; and the Schedules that generate each report at its
 * frequency, with their launcher's opening of the report case.
 */
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { and, eq } from 'drizzle-orm';
import {
  periodBounds,
  RISK_REPORT_AUDIENCES,
  riskReportContract,
  riskReportKey,
  type RiskReportAudience,
} from '../contracts/riskReport';
import { withAuditedWrite } from '../db/audit';
import type { Database } from '../db/client';
import { buildRiskReportContent, contentSha256 } from '../db/riskReports';
import { riskReports } from '../db/schema';
import type { PolicySnapshot } from '../domain/policy';
import { periodJustEnded } from '../domain/riskReporting';
import { createScheduleOnce, startCaseWorkflow } from '../platform/cases';
import { currentPolicy } from '../platform/policy';
import type { riskReportWorkflow } from '../workflows/riskReport';
import { GovPeriod } from '../workflows/searchAttributes';
import { activityKey, whileHeartbeating } from './context';

export const riskReportScheduleId = (audience: RiskReportAudience) => `risk-report-${audience}`;

/**
 * The Schedules that generate each report for the period just ended. Each
 * fires on the 1st of every month, 03:00 UTC, and its launcher opens the
 * report of the period of policy riskReports.frequency[audience] that ended
 * last, once (a period already reported is skipped): any frequency the policy
 * sets, now or later, is honoured without changing the Schedule. Created with
 * the first report the risk function prepares, as the risk assessment's
 * Schedule is; one that exists is kept.
 */
export async function ensureRiskReportSchedules(temporal: Client, taskQueue: string): Promise<void> {
  for (const audience of RISK_REPORT_AUDIENCES) {
    await createScheduleOnce(temporal, {
      scheduleId: riskReportScheduleId(audience),
      spec: { calendars: [{ dayOfMonth: 1, hour: 3 }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'riskReportLauncherWorkflow',
        args: [{ audience }],
        taskQueue,
        workflowId: `risk-report-launcher-${audience}`,
      },
      policies: { overlap: 'SKIP', catchupWindow: '7 days' },
      state: {
        note: `prepares the risk report to ${audience} at policy riskReports.frequency.${audience} (finance §5.5)`,
      },
    });
  }
}

export type RiskReportOpening =
  | { started: true; caseId: string; period: string }
  | { started: false; caseId: string; period: string; reason: 'already_exists' };

/** Opens the report case of an audience and period; the API and the Schedule's launcher both call it. */
export async function openRiskReport(
  deps: { db: Database; temporal: Client; taskQueue: string },
  params: { audience: RiskReportAudience; period: string; preparedBy: string; policy?: PolicySnapshot },
): Promise<RiskReportOpening> {
  const { db, temporal, taskQueue } = deps;
  const caseId = riskReportContract.caseId(riskReportKey(params.audience, params.period));
  const exists = { started: false as const, caseId, period: params.period, reason: 'already_exists' as const };
  const [prior] = await db.select({ id: riskReports.caseId }).from(riskReports).where(eq(riskReports.caseId, caseId));
  if (prior) return exists;
  const policy = params.policy ?? (await currentPolicy(db));
  const started = await startCaseWorkflow<typeof riskReportWorkflow>(temporal, {
    workflowType: 'riskReportWorkflow',
    caseId,
    taskQueue,
    process: riskReportContract.process,
    stage: 'awaiting_approval',
    // Auditors filter periodic cases by their period in Temporal UI.
    searchAttributes: [{ key: GovPeriod, value: params.period }],
    args: [{ caseId, audience: params.audience, period: params.period, preparedBy: params.preparedBy, policy }],
  });
  if (!started) return exists;
  return { started: true, caseId, period: params.period };
}

export function createRiskReportActivities(deps: { db: Database; clock?: () => Date }) {
  const { db, clock = () => new Date() } = deps;
  return {
    /** The Schedules of both audiences, on the report's own task queue; kept when they exist. */
    async ensureRiskReportSchedules(): Promise<void> {
      const context = Context.current();
      await ensureRiskReportSchedules(context.client, context.info.taskQueue);
    },

    /**
     * The Schedule's launcher: the report of the period just ended at the
     * audience's frequency in the policy now, prepared by the platform.
     */
    async openScheduledRiskReport(input: {
      audience: RiskReportAudience;
      period?: string;
    }): Promise<RiskReportOpening> {
      const context = Context.current();
      const policy = await currentPolicy(db);
      const period = input.period ?? periodJustEnded(policy.values.riskReports.frequency[input.audience], clock());
      return whileHeartbeating(
        openRiskReport(
          { db, temporal: context.client, taskQueue: context.info.taskQueue },
          { audience: input.audience, period, preparedBy: 'system', policy },
        ),
      );
    },

    /** Builds the content and stores it, awaiting release; a retry finds the row and keeps it. */
    async prepareRiskReport(input: {
      caseId: string;
      audience: RiskReportAudience;
      period: string;
      preparedBy: string;
      policy: PolicySnapshot;
    }): Promise<{ sha256: string }> {
      const [existing] = await db
        .select({ sha256: riskReports.contentSha256 })
        .from(riskReports)
        .where(eq(riskReports.caseId, input.caseId));
      if (existing) return { sha256: existing.sha256 };
      const now = clock();
      const content = await buildRiskReportContent(db, input, now);
      const sha256 = contentSha256(content);
      const bounds = periodBounds(input.period)!;
      await withAuditedWrite(
        db,
        {
          idempotencyKey: activityKey(),
          actorId: input.preparedBy,
          action: 'risk_report.prepared',
          caseId: input.caseId,
          occurredAt: now,
          payload: { audience: input.audience, period: input.period, sha256 },
        },
        (tx) =>
          tx
            .insert(riskReports)
            .values({
              caseId: input.caseId,
              audience: input.audience,
              period: input.period,
              periodStart: bounds.start,
              periodEnd: bounds.end,
              status: 'awaiting_approval',
              content,
              contentSha256: sha256,
              preparedBy: input.preparedBy,
              preparedAt: now,
            })
            .onConflictDoNothing(),
      );
      return { sha256 };
    },

    /** Released: immutable from now on (the table's trigger), its hash in the audit trail. */
    async releaseRiskReport(input: { caseId: string; approvedBy: string[] }): Promise<{ sha256: string }> {
      const now = clock();
      const [row] = await db
        .select({
          sha256: riskReports.contentSha256,
          audience: riskReports.audience,
          period: riskReports.period,
          status: riskReports.status,
        })
        .from(riskReports)
        .where(eq(riskReports.caseId, input.caseId));
      if (!row) throw new Error(`no risk report ${input.caseId}`);
      if (row.status === 'released') return { sha256: row.sha256 };
      await withAuditedWrite(
        db,
        {
          idempotencyKey: activityKey(),
          actorId: input.approvedBy[0] ?? 'system',
          action: 'risk_report.released',
          caseId: input.caseId,
          occurredAt: now,
          payload: { audience: row.audience, period: row.period, sha256: row.sha256, approvedBy: input.approvedBy },
        },
        (tx) =>
          tx
            .update(riskReports)
            .set({ status: 'released', releasedBy: input.approvedBy, releasedAt: now })
            .where(and(eq(riskReports.caseId, input.caseId), eq(riskReports.status, 'awaiting_approval'))),
      );
      return { sha256: row.sha256 };
    },

    /** Rejected or lapsed: kept as it was prepared, never released. */
    async endRiskReport(input: { caseId: string; status: 'rejected' | 'lapsed'; reason: string }): Promise<void> {
      await withAuditedWrite(
        db,
        {
          idempotencyKey: activityKey(),
          actorId: 'system',
          action: `risk_report.${input.status}`,
          caseId: input.caseId,
          reason: input.reason,
          occurredAt: clock(),
          payload: { status: input.status },
        },
        (tx) =>
          tx
            .update(riskReports)
            .set({ status: input.status })
            .where(and(eq(riskReports.caseId, input.caseId), eq(riskReports.status, 'awaiting_approval'))),
      );
    },
  };
}
