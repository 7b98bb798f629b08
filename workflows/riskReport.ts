/**
 * A periodic risk report (风险信息报告, finance §5.5) for management or for
 * the regulator (contracts/riskReport.ts): the risk function asks for it, the
 * content is built from the register and the period's cases and stored, and
 * compliance releases it (never the preparer: segregation of duties). Released,
 * it is immutable and its SHA-256 is in the audit trail; rejected or lapsed,
 * it stays as prepared and is never released.
 */
import {
  RISK_REPORT_AUDIENCE_LABELS,
  RISK_REPORT_PROCESS,
  RISK_REPORT_RELEASER_ROLES,
  RISK_REPORT_STAGE,
  riskReportKey,
  type RiskReportAudience,
} from '../contracts/riskReport';
import type { ApprovalPolicy } from '../domain/approval';
import type { ApprovalTimings } from '../domain/deadlines';
import { DEFAULT_POLICY, type PolicySnapshot } from '../domain/policy';
import { caseSnapshotQuery } from './definitions';
import { acts } from './shared/activities';
import { ApprovalDesk } from './shared/approvals';
import { CaseRuntime } from './shared/caseRuntime';
import { setHandler } from '@temporalio/workflow';

export interface RiskReportInput {
  caseId: string;
  audience: RiskReportAudience;
  period: string;
  preparedBy: string;
  policy: PolicySnapshot;
  timings?: { approval?: Partial<ApprovalTimings> };
}

export interface RiskReportResult {
  outcome: 'released' | 'rejected' | 'lapsed';
  sha256: string;
}

export const RISK_REPORT_APPROVAL_POLICY: ApprovalPolicy = {
  decisions: ['approve', 'reject'],
  vetoes: ['reject'],
  fourEyes: [],
  needsReason: ['reject'],
  needsConditions: [],
};

export async function riskReportWorkflow(input: RiskReportInput): Promise<RiskReportResult> {
  const policy = input.policy.values ?? DEFAULT_POLICY;
  const approvalTimings: ApprovalTimings = { ...policy.approval, ...input.timings?.approval };
  const label = RISK_REPORT_AUDIENCE_LABELS[input.audience];
  const data: Record<string, unknown> = {
    label,
    audience: input.audience,
    period: input.period,
  };
  const caseRuntime = new CaseRuntime({
    caseId: input.caseId,
    process: RISK_REPORT_PROCESS,
    businessKey: riskReportKey(input.audience, input.period),
    title: `${label.en} (${label.zh}) ${input.period}`,
    stage: RISK_REPORT_STAGE.awaitingApproval,
    initiatorId: input.preparedBy,
    ownerId: input.preparedBy,
    ownerRole: 'risk',
    subjectType: 'risk_report',
    subjectId: `${input.audience}:${input.period}`,
    data,
    policyVersion: input.policy.version,
  });
  setHandler(caseSnapshotQuery, () => caseRuntime.snapshot());
  const desk = new ApprovalDesk(caseRuntime);
  await caseRuntime.open();

  const { sha256 } = await acts.prepareRiskReport({
    caseId: input.caseId,
    audience: input.audience,
    period: input.period,
    preparedBy: input.preparedBy,
    policy: input.policy,
  });
  Object.assign(data, { sha256 });
  // The Schedules that generate the next reports exist from the first report on.
  await acts.ensureRiskReportSchedules();

  const approval = await desk.request({
    name: 'release',
    title: `Release the ${label.en.toLowerCase()} for ${input.period} (SHA-256 ${sha256.slice(0, 12)}…)`,
    candidateRoles: [...RISK_REPORT_RELEASER_ROLES],
    approvalsRequired: 1,
    excludedUserIds: [input.preparedBy],
    barred: [{ userId: input.preparedBy, reasons: ['prepared this report'] }],
    timings: approvalTimings,
    policy: RISK_REPORT_APPROVAL_POLICY,
  });

  if (approval.status !== 'approved') {
    const status = approval.status === 'expired' ? 'lapsed' : 'rejected';
    const reason =
      status === 'lapsed' ? 'no decision by the final deadline; the report was not released' : 'rejected; not released';
    await acts.endRiskReport({ caseId: input.caseId, status, reason });
    await caseRuntime.close(approval.status, {
      actorId: 'system',
      reason,
      data: Object.assign(data, { decision: approval.votes }),
    });
    return { outcome: status, sha256 };
  }

  const approvedBy = approval.votes.map((v) => v.userId);
  await acts.releaseRiskReport({ caseId: input.caseId, approvedBy });
  await caseRuntime.close('approved', {
    actorId: approvedBy[0] ?? 'system',
    action: 'risk_report.closed',
    reason: `released by ${approvedBy.join(', ')}; SHA-256 ${sha256}`,
    data: Object.assign(data, { decision: approval.votes, releasedBy: approvedBy }),
  });
  return { outcome: 'released', sha256 };
}

/**
 * Started by the Schedule of each audience (activities/riskReports.ts
 * ensureRiskReportSchedules): opens the report of the period just ended, once
 * (a period already reported is skipped), prepared by the platform and
 * released by compliance like any other.
 */
export async function riskReportLauncherWorkflow(input: {
  audience: RiskReportAudience;
  period?: string;
}): Promise<Awaited<ReturnType<typeof acts.openScheduledRiskReport>>> {
  return acts.openScheduledRiskReport(input);
}
