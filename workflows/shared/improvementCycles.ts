/**
 * An improvement cycle (PDCA, source audit_finding) opened for a finding, as a
 * case of its own that outlives the finding's case: the standalone finding
 * (workflows/auditFinding.ts) and a finding of an audit in the programme
 * (workflows/audit.ts) open it the same way.
 */
import { pdcaContract, PDCA_STAGE, type ImprovementPlan } from '../../contracts/pdca';
import type { PolicySnapshot } from '../../domain/policy';
import type { PdcaInput } from '../pdca';
import { GovOwnerRole, GovProcess, GovStage } from '../searchAttributes';
import { startChildCase, type ChildCaseStarted } from './children';

export interface FindingCycle {
  /** The cycle's business key; its case id is pdca:<cycleKey>. */
  cycleKey: string;
  title: string;
  plan: ImprovementPlan;
  /** The case of the finding: the cycle's origin, linked both ways. */
  sourceCaseId: string;
  ownerId: string;
  /** Who asked for it (recorded the finding or released the report): its initiator. */
  initiatorId: string;
  policy: PolicySnapshot;
}

export const findingCycleCaseId = (cycleKey: string) => pdcaContract.caseId(cycleKey);

/** Starts the cycle and returns once it has settled; `ended` resolves when it closes. */
export function startFindingCycle(cycle: FindingCycle): Promise<ChildCaseStarted> {
  const caseId = findingCycleCaseId(cycle.cycleKey);
  const input: PdcaInput = {
    caseId,
    cycleKey: cycle.cycleKey,
    title: cycle.title,
    objective: cycle.plan.objective,
    source: 'audit_finding',
    sourceCaseId: cycle.sourceCaseId,
    ownerId: cycle.ownerId,
    initiatorId: cycle.initiatorId,
    kpis: cycle.plan.kpis,
    cycle: 1,
    policy: cycle.policy,
    checkIn: cycle.plan.checkIn,
    history: [],
  };
  return startChildCase({
    workflowType: 'pdcaCycleWorkflow',
    workflowId: caseId,
    kind: 'improvement cycle',
    args: [input],
    searchAttributes: [
      { key: GovProcess, value: pdcaContract.process },
      { key: GovStage, value: PDCA_STAGE.plan },
      { key: GovOwnerRole, value: 'manager' },
    ],
  });
}
