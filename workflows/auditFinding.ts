/**
 * An internal audit finding as a case (contracts/auditFinding.ts): recorded
 * by internal audit, it opens its remedy at once and closes when the remedy
 * does (闭环): a rectification item verified by someone other than its owner,
 * or an improvement cycle (PDCA, source audit_finding) that the owner plans,
 * has approved and checks, running as a case of its own.
 */
import { setHandler } from '@temporalio/workflow';
import { auditFindingContract } from '../contracts/auditFinding';
import type { ImprovementPlan } from '../contracts/pdca';
import { parseDuration } from '../domain/durations';
import { DEFAULT_POLICY, type PolicySnapshot } from '../domain/policy';
import type { RiskLevel } from '../domain/risk';
import { VERIFIER_ROLES } from '../domain/roles';
import { caseSnapshotQuery } from './definitions';
import { CaseRuntime } from './shared/caseRuntime';
import { findingCycleCaseId, startFindingCycle } from './shared/improvementCycles';
import { executeItem } from './shared/items';

export interface AuditFindingInput {
  caseId: string;
  findingKey: string;
  title: string;
  description: string;
  severity: RiskLevel;
  area: string;
  /** The case the finding is about, when there is one. */
  relatedCaseId?: string;
  remedy: 'rectification' | 'improvement';
  ownerId: string;
  recordedBy: string;
  /** The rectification's due date; the policy's rectification.dueIn from the finding when absent. */
  dueAt?: string;
  /** For an improvement cycle: what it must achieve, measured. */
  improvement?: ImprovementPlan;
  policy: PolicySnapshot;
}

export interface AuditFindingResult {
  outcome: 'resolved';
  remedyCaseId: string;
}

export async function auditFindingWorkflow(input: AuditFindingInput): Promise<AuditFindingResult> {
  const policy = input.policy.values ?? DEFAULT_POLICY;
  const dueAt = input.dueAt ?? new Date(Date.now() + parseDuration(policy.rectification.dueIn)).toISOString();
  const remedyCaseId =
    input.remedy === 'rectification' ? `${input.caseId}:rectification:1` : findingCycleCaseId(`AF-${input.findingKey}`);
  const caseRuntime = new CaseRuntime({
    caseId: input.caseId,
    process: auditFindingContract.process,
    businessKey: input.findingKey,
    title: input.title,
    description: input.description,
    stage: input.remedy === 'rectification' ? 'rectification' : 'improvement',
    riskLevel: input.severity,
    initiatorId: input.recordedBy,
    ownerId: input.ownerId,
    ownerRole: 'manager',
    ...(input.remedy === 'rectification' ? { dueAt } : {}),
    ...(input.relatedCaseId ? { subjectType: 'case', subjectId: input.relatedCaseId } : {}),
    data: {
      label: { en: 'Audit finding', zh: '审计发现' },
      area: input.area,
      severity: input.severity,
      remedy: input.remedy,
      remedyCaseId,
      ...(input.relatedCaseId ? { relatedCaseId: input.relatedCaseId } : {}),
    },
    policyVersion: input.policy.version,
  });
  setHandler(caseSnapshotQuery, () => caseRuntime.snapshot());
  await caseRuntime.open();

  if (input.remedy === 'rectification') {
    // Verified by the second or third line, never by its owner (domain/rectification.ts).
    const item = await executeItem({
      workflowId: remedyCaseId,
      args: [
        {
          parentCaseId: input.caseId,
          title: input.title,
          ownerId: input.ownerId,
          verifierRoles: [...VERIFIER_ROLES],
          dueAt,
          timings: policy.rectification,
          riskLevel: input.severity,
          openedBy: input.recordedBy,
        },
      ],
    });
    await caseRuntime.close('resolved', {
      actorId: 'system',
      reason: item.status === 'failed' ? 'the rectification item ended without verification' : 'rectification verified',
      payload: { remedyCaseId, verifiedBy: item.verifiedBy },
    });
    return { outcome: 'resolved', remedyCaseId };
  }

  const started = await startFindingCycle({
    cycleKey: `AF-${input.findingKey}`,
    title: input.title,
    plan: input.improvement!,
    sourceCaseId: input.caseId,
    ownerId: input.ownerId,
    initiatorId: input.recordedBy,
    policy: input.policy,
  });
  // The finding stays open while its cycle runs: it closes with the cycle.
  await started.ended;
  await caseRuntime.close('resolved', {
    actorId: 'system',
    reason: 'the improvement cycle closed',
    payload: { remedyCaseId },
  });
  return { outcome: 'resolved', remedyCaseId };
}
