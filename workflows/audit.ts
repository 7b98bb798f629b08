/**
 * An audit as a case (contracts/audit.ts): fieldwork against the checklist
 * of its type, findings, each owner's management response on a deadline
 * ladder (audit.findingResponseWithin), the report approved on the shared
 * desk by someone who took no step of the audit, then each accepted finding
 * as a rectification item verified by internal audit. It closes when every
 * item is verified (闭环).
 */
import { condition, patched, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { auditContract, findingCycleKey, type AuditStage } from '../contracts/audit';
import type { ImprovementPlan } from '../contracts/pdca';
import { SHARED_STAGES } from '../contracts/core';
import type { ApprovalPolicy, BarredApprover } from '../domain/approval';
import {
  AUDIT_TYPE_LABELS,
  fieldworkProblem,
  findingResponseTimings,
  severityRiskLevel,
  type AuditFindingSeverity,
  type AuditType,
  type ChecklistItem,
  type ChecklistResult,
} from '../domain/audits';
import type { ApprovalTimings, StepTimings } from '../domain/deadlines';
import { DEFAULT_POLICY, type PolicySnapshot } from '../domain/policy';
import { caseSnapshotQuery } from './definitions';
import { GovPeriod } from './searchAttributes';
import { acts } from './shared/activities';
import { ApprovalDesk } from './shared/approvals';
import { awaitStep } from './shared/humanSteps';
import { CaseRuntime, refuse } from './shared/caseRuntime';
import { findingCycleCaseId, startFindingCycle } from './shared/improvementCycles';
import { startItem } from './shared/items';

export interface AuditInput {
  caseId: string;
  auditKey: string;
  type: AuditType;
  title: string;
  scope: string;
  /** The checklist of its type, as the template was when the audit opened. */
  checklist: ChecklistItem[];
  startedBy: string;
  leadAuditorId?: string;
  /** The audited function's owner (被审计部门负责人). */
  auditeeOwnerId: string;
  thirdParty?: { firm: string };
  policy: PolicySnapshot;
  /** Per-case timings, only where the deployment allows them (api/caseTimings.ts). */
  timings?: { response?: Partial<StepTimings>; approval?: Partial<ApprovalTimings> };
}

export interface AuditFinding {
  findingKey: string;
  title: string;
  severity: AuditFindingSeverity;
  criterion: string;
  rootCause: string;
  ownerId: string;
  checklistItemId?: string;
  recordedBy: string;
  response?:
    | {
        response: 'accept';
        actionPlan: string;
        /** Absent in answers given before improvement cycles: a rectification. */
        remedy?: 'rectification' | 'improvement';
        dueAt?: string;
        improvement?: ImprovementPlan;
        by: string;
        at: string;
      }
    | { response: 'dispute'; reason: string; by: string; at: string };
  /** The rectification item of an accepted finding. */
  itemId?: string;
  /** The improvement cycle of an accepted finding whose owner chose one. */
  cycleCaseId?: string;
}

export interface AuditData extends Record<string, unknown> {
  label: { en: string; zh: string };
  type: AuditType;
  scope: string;
  leadAuditorId?: string;
  thirdParty?: { firm: string; reportEvidenceId?: string };
  checklist: Array<ChecklistItem & { result?: ChecklistResult; evidenceIds?: string[]; note?: string }>;
  fieldworkBy?: string;
  findings: AuditFinding[];
  report?: { outcome: string; decidedBy: string[] };
}

export interface AuditResult {
  outcome: 'resolved' | 'approved' | 'expired';
  itemIds: string[];
}

/** The report is released, or sent back to internal audit with a reason; one approver of internal audit or compliance. */
export const AUDIT_REPORT_APPROVAL_POLICY: ApprovalPolicy = {
  decisions: ['approve', 'reject'],
  vetoes: ['reject'],
  fourEyes: [],
  needsReason: ['reject'],
  needsConditions: [],
};

/**
 * patched() id: an audit case makes sure the annual audit plan's Schedule
 * exists (activities/auditPlans.ts), as the first risk report makes its
 * Schedules; cases recorded before it did not.
 */
const AUDIT_PLAN_SCHEDULE = 'audit-ensures-plan-schedule';

/**
 * Run by the annual audit plan Schedule (activities/auditPlans.ts): opens the
 * coming year's plan, or `year`'s, with its data-security compliance checks,
 * unless internal audit has recorded it. GovPeriod names the year.
 */
export async function auditPlanLauncherWorkflow(
  input: { year?: number } = {},
): Promise<Awaited<ReturnType<typeof acts.openScheduledAuditPlan>>> {
  const opening = await acts.openScheduledAuditPlan({ year: input.year });
  upsertSearchAttributes([{ key: GovPeriod, value: String(opening.year) }]);
  return opening;
}

export async function auditWorkflow(input: AuditInput): Promise<AuditResult> {
  const policy = input.policy.values ?? DEFAULT_POLICY;
  const { steps } = auditContract;
  const data: AuditData = {
    label: AUDIT_TYPE_LABELS[input.type],
    type: input.type,
    scope: input.scope,
    ...(input.leadAuditorId ? { leadAuditorId: input.leadAuditorId } : {}),
    ...(input.thirdParty ? { thirdParty: { firm: input.thirdParty.firm } } : {}),
    checklist: input.checklist.map((i) => ({ ...i })),
    findings: [],
  };
  const caseRuntime = new CaseRuntime({
    caseId: input.caseId,
    process: auditContract.process,
    businessKey: input.auditKey,
    title: `${AUDIT_TYPE_LABELS[input.type].en} (${AUDIT_TYPE_LABELS[input.type].zh}): ${input.title}`,
    description: input.scope,
    stage: 'fieldwork',
    initiatorId: input.startedBy,
    ownerId: input.auditeeOwnerId,
    ownerRole: 'manager',
    data,
    policyVersion: input.policy.version,
  });
  setHandler(caseSnapshotQuery, () => caseRuntime.snapshot());
  const desk = new ApprovalDesk(caseRuntime);
  const moveTo = (stage: AuditStage, options: Parameters<CaseRuntime['moveTo']>[1]) =>
    caseRuntime.moveTo(stage, options);
  let findingsRecorded = false;
  const finding = (key: string) => data.findings.find((f) => f.findingKey === key);

  caseRuntime.step(
    steps.fieldwork,
    async ({ actor, results, thirdPartyReportEvidenceId }) => {
      for (const r of results) {
        const entry = data.checklist.find((i) => i.id === r.itemId)!;
        entry.result = r.result;
        entry.evidenceIds = r.evidenceIds;
        if (r.note) entry.note = r.note.trim();
      }
      if (data.thirdParty && thirdPartyReportEvidenceId) data.thirdParty.reportEvidenceId = thirdPartyReportEvidenceId;
      data.fieldworkBy = actor.userId;
      await moveTo('findings', { actorId: actor.userId, action: 'audit.fieldwork_recorded', data });
      return { stage: caseRuntime.stage };
    },
    ({ results, thirdPartyReportEvidenceId }) => {
      const problem = fieldworkProblem(data.checklist, results);
      if (problem) refuse(problem.code, problem.message);
      if (data.thirdParty && !thirdPartyReportEvidenceId)
        refuse(
          'THIRD_PARTY_REPORT_REQUIRED',
          `an audit done by ${data.thirdParty.firm} needs its report attached as evidence (thirdPartyReportEvidenceId) before the report is approved`,
        );
    },
  );
  caseRuntime.step(
    steps.findings,
    async ({ actor, findings }) => {
      data.findings = findings.map((f) => ({
        findingKey: f.findingKey,
        title: f.title.trim(),
        severity: f.severity,
        criterion: f.criterion.trim(),
        rootCause: f.rootCause.trim(),
        ownerId: f.ownerId,
        ...(f.checklistItemId ? { checklistItemId: f.checklistItemId } : {}),
        recordedBy: actor.userId,
      }));
      findingsRecorded = true;
      await moveTo(data.findings.length ? 'responses' : SHARED_STAGES.awaitingApproval, {
        actorId: actor.userId,
        action: 'audit.findings_recorded',
        data,
        payload: { findings: data.findings.length },
      });
      return { stage: caseRuntime.stage };
    },
    ({ actor, findings }) => {
      const keys = findings.map((f) => f.findingKey);
      const dup = keys.find((k, i) => keys.indexOf(k) !== i);
      if (dup) refuse('INVALID_INPUT', `findings: ${dup} is recorded twice`);
      const failed = data.checklist.filter((i) => i.result === 'fail').map((i) => i.id);
      const covered = new Set(findings.map((f) => f.checklistItemId));
      const uncovered = failed.filter((id) => !covered.has(id));
      if (uncovered.length)
        refuse(
          'FAILED_ITEM_WITHOUT_FINDING',
          `checklist items failed in fieldwork need a finding (checklistItemId): ${uncovered.join(', ')}`,
        );
      const unknown = findings.find(
        (f) => f.checklistItemId && !data.checklist.some((i) => i.id === f.checklistItemId),
      );
      if (unknown) refuse('INVALID_INPUT', `findings: ${unknown.checklistItemId} is not on this audit's checklist`);
      // The third line records; the business line remedies (finance §5.2).
      const own = findings.find((f) => f.ownerId === actor.userId);
      if (own)
        refuse('SEGREGATION_OF_DUTIES', `${own.findingKey}: the auditor who records a finding may not own its remedy`);
    },
  );
  caseRuntime.step(
    steps.respond,
    async ({ actor, findingKey, response, actionPlan, remedy, dueAt, improvement, reason }) => {
      const f = finding(findingKey)!;
      const at = new Date().toISOString();
      f.response =
        response === 'dispute'
          ? { response, reason: reason!.trim(), by: actor.userId, at }
          : remedy === 'improvement'
            ? { response, actionPlan: actionPlan!.trim(), remedy, improvement: improvement!, by: actor.userId, at }
            : { response, actionPlan: actionPlan!.trim(), dueAt: dueAt!, by: actor.userId, at };
      await caseRuntime.recordData(`audit.finding_${response === 'accept' ? 'accepted' : 'disputed'}`, {
        actorId: actor.userId,
        reason: response === 'dispute' ? reason : undefined,
        data,
        payload: { findingKey },
      });
      return { stage: caseRuntime.stage, findingKey, response };
    },
    ({ actor, findingKey, response, remedy, dueAt }) => {
      const f = finding(findingKey);
      if (!f) refuse('UNKNOWN_FINDING', `no finding ${findingKey} in this audit`);
      if (f.ownerId !== actor.userId) refuse('ROLE_NOT_PERMITTED', 'the finding’s owner responds to it');
      if (f.response) refuse('WRONG_STAGE', `${findingKey} is already answered (${f.response.response})`);
      if (response === 'accept' && remedy !== 'improvement' && Date.parse(dueAt!) <= Date.now())
        refuse('DUE_DATE_PAST', 'the action plan’s dueAt must be in the future');
    },
  );

  await caseRuntime.open();
  if (patched(AUDIT_PLAN_SCHEDULE)) await acts.ensureAuditPlanSchedule();
  await condition(() => !!data.fieldworkBy);
  // Each owner answers their findings within the policy's time, on the ladder: reminded, escalated, overdue.
  const responseTimings = { ...findingResponseTimings(policy.audit.findingResponseWithin), ...input.timings?.response };
  // Those who did the fieldwork or recorded findings (the desk bars every
  // step taker) and the lead auditor never release their own report.
  const barred: BarredApprover[] = input.leadAuditorId
    ? [{ userId: input.leadAuditorId, reasons: ['led the audit'] }]
    : [];
  let approval: Awaited<ReturnType<ApprovalDesk['request']>>;
  // A rejected report goes back to internal audit to revise its findings,
  // which are answered again and the report decided again (round 2, 3…).
  for (let round = 1; ; round++) {
    const suffix = round === 1 ? '' : `-${round}`;
    await condition(() => findingsRecorded);
    await Promise.all(
      data.findings.map((f) =>
        awaitStep(caseRuntime, {
          name: `response${suffix}:${f.findingKey}`,
          title: `Respond to audit finding ${f.findingKey}: ${f.title}`,
          assigneeId: f.ownerId,
          candidateRoles: [],
          timings: responseTimings,
          done: () => !!f.response,
        }),
      ),
    );
    if (data.findings.length) {
      await moveTo(SHARED_STAGES.awaitingApproval, {
        actorId: 'system',
        action: 'audit.responses_complete',
        reason: 'every finding answered',
      });
    }
    approval = await desk.request({
      name: `report-approval${suffix}`,
      title: `Approve the audit report: ${input.title}`,
      candidateRoles: ['internal_audit', 'compliance'],
      approvalsRequired: 1,
      excludedUserIds: input.leadAuditorId ? [input.leadAuditorId] : [],
      barred,
      timings: { ...policy.approval, ...input.timings?.approval },
      policy: AUDIT_REPORT_APPROVAL_POLICY,
    });
    data.report = { outcome: approval.status, decidedBy: approval.votes.map((v) => v.userId) };
    if (approval.status === 'expired') {
      // Never released by default: the audit ends without a released report.
      await caseRuntime.close('expired', {
        actorId: 'system',
        reason: 'no decision on the report by the final deadline',
        data,
      });
      return { outcome: 'expired', itemIds: [] };
    }
    if (approval.status !== 'rejected') break;
    findingsRecorded = false;
    const returnedBy = approval.votes.at(-1);
    await moveTo('findings', {
      actorId: returnedBy?.userId ?? 'system',
      action: 'audit.report_returned',
      reason: returnedBy?.comment ?? 'the report was rejected',
      data,
      payload: { round },
    });
  }

  const accepted = data.findings.filter((f) => f.response?.response === 'accept');
  if (!accepted.length) {
    await caseRuntime.close('approved', { actorId: 'system', reason: 'report released; nothing to rectify', data });
    return { outcome: 'approved', itemIds: [] };
  }
  const releasedBy = approval.votes[0]?.userId ?? 'system';
  const isCycle = (f: AuditFinding) => f.response?.response === 'accept' && f.response.remedy === 'improvement';
  for (const f of accepted) {
    if (isCycle(f)) f.cycleCaseId = findingCycleCaseId(findingCycleKey(input.auditKey, f.findingKey));
    else f.itemId = `${input.caseId}:finding:${f.findingKey}`;
  }
  await moveTo(SHARED_STAGES.rectification, {
    actorId: 'system',
    action: 'audit.report_released',
    reason: `${accepted.length} accepted finding(s) to rectify`,
    data,
  });
  // Owned by the finding's owner, verified by internal audit (the third line
  // follows up its findings); asked for by whoever released the report, who
  // may not verify it.
  const items = await Promise.all(
    accepted
      .filter((f) => !isCycle(f))
      .map((f) =>
        startItem({
          workflowId: f.itemId!,
          args: [
            {
              parentCaseId: input.caseId,
              title: `${f.findingKey}: ${f.title}`,
              ownerId: f.ownerId,
              verifierRoles: ['internal_audit'],
              dueAt: f.response!.response === 'accept' ? f.response!.dueAt! : new Date().toISOString(),
              timings: policy.rectification,
              riskLevel: severityRiskLevel(f.severity),
              openedBy: releasedBy,
            },
          ],
        }),
      ),
  );
  // A systemic cause gets a cycle of its own (PDCA, source audit_finding),
  // planned by the owner, approved before Do and independently checked; the
  // audit stays open until it closes.
  const cycles = await Promise.all(
    accepted.filter(isCycle).map((f) =>
      startFindingCycle({
        cycleKey: findingCycleKey(input.auditKey, f.findingKey),
        title: `${f.findingKey}: ${f.title}`,
        plan: (f.response as { improvement: ImprovementPlan }).improvement,
        sourceCaseId: input.caseId,
        ownerId: f.ownerId,
        initiatorId: releasedBy,
        policy: input.policy,
      }),
    ),
  );
  const [results] = await Promise.all([Promise.all(items.map((i) => i.closed)), ...cycles.map((c) => c.ended)]);
  await caseRuntime.close('resolved', {
    actorId: 'system',
    reason: results.some((r) => r.status === 'failed')
      ? 'every rectification item ended; some without verification'
      : cycles.length
        ? `every rectification item verified and ${cycles.length} improvement cycle(s) closed`
        : 'every rectification item verified',
    data,
    payload: {
      items: results.map((r) => ({ taskId: r.taskId, status: r.status, verifiedBy: r.verifiedBy })),
      ...(cycles.length ? { cycles: cycles.map((c) => c.workflowId) } : {}),
    },
  });
  return { outcome: 'resolved', itemIds: items.map((i) => i.taskId) };
}
