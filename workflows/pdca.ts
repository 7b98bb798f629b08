/**
 * A PDCA improvement cycle (持续改进, 计划-执行-检查-处理), DOMAIN.md §2.
 * Plan (objective, KPIs with baseline/target/direction, actions) approved
 * before Do; Do: actions as rectification items; Check at the check date:
 * KPI values entered by the owner or computed from the platform's own records,
 * independently verified; Act: targets met → standardise and close (after an
 * optional effectiveness window that reopens the cycle if a KPI slips back);
 * not met → the next cycle, as a new run of the same workflow
 * (continue-as-new), carrying the gaps over, escalating to management after a
 * number of cycles. Each step the owner owes (a new cycle's plan, the KPI
 * values at the check and the recheck, the standard) is a task with a
 * deadline ladder (./shared/humanSteps.ts).
 */
import { allHandlersFinished, condition, continueAsNew, patched, setHandler } from '@temporalio/workflow';
import { PDCA_STAGE, pdcaContract } from '../contracts/pdca';
import { STANDARD_APPROVAL_POLICY, type ApprovalPolicy } from '../domain/approval';
import type { ApprovalTimings, RectificationTimings, StepTimings } from '../domain/deadlines';
import { parseDuration } from '../domain/durations';
import {
  actionsProblem,
  carryOverKpis,
  checkKpis,
  pdcaPlanApprovalBarred,
  pdcaVerificationBarred,
  PLATFORM_KPIS,
  regressed,
  shouldEscalate,
  type Kpi,
  type KpiResult,
  type PdcaSource,
  type PlanAction,
} from '../domain/pdca';
import { DEFAULT_POLICY, type PolicySnapshot } from '../domain/policy';
import { DEFAULT_VERIFIER_ROLES } from '../domain/rectification';
import { APPROVER_ROLES, VERIFIER_ROLES, type Role } from '../domain/roles';
import { caseSnapshotQuery } from './definitions';
import { acts } from './shared/activities';
import { executeItem, itemsFinished } from './shared/items';
import { ApprovalDesk } from './shared/approvals';
import { CaseRuntime, refuse } from './shared/caseRuntime';
import { awaitStep } from './shared/humanSteps';

export interface PdcaInput {
  caseId: string;
  cycleKey: string;
  title: string;
  objective: string;
  source: PdcaSource;
  sourceCaseId?: string;
  ownerId: string;
  initiatorId: string;
  kpis: Kpi[];
  /** The first cycle's actions; later cycles are re-planned by the owner. */
  actions?: PlanAction[];
  cycle: number;
  /**
   * A per-case override of the policy's `pdca.escalateAfterCycles`, where the
   * deployment allows per-case settings; cycles opened before policies
   * always carry it.
   */
  escalateAfterCycles?: number;
  /**
   * The policy the cycle runs under; each next cycle runs under the one in
   * force when it opens. Absent in cycles started before policies existed.
   */
  policy?: PolicySnapshot;
  /** From the start of Do to the check date. */
  checkIn: string;
  /** After standardising, recheck this much later; absent: close at once. */
  effectivenessWindow?: string;
  history: Array<{ cycle: number; results: KpiResult[]; outcome: string }>;
  /** Per-case overrides of the policy's ladders, where the deployment allows them (api/caseTimings.ts). */
  timings?: {
    /** Overrides the ladder of every step the owner owes: plan, KPI values, standard. */
    step?: Partial<StepTimings>;
    approval?: Partial<ApprovalTimings>;
    rectification?: Partial<RectificationTimings>;
  };
}

const PLAN_POLICY: ApprovalPolicy = {
  ...STANDARD_APPROVAL_POLICY,
  decisions: ['approve', 'reject'],
  needsConditions: [],
};

/** patched() id: the next cycle runs under the policy in force when it opens, not the first cycle's. */
export const PDCA_NEXT_CYCLE_READS_POLICY = 'pdca-next-cycle-reads-policy';

export async function pdcaCycleWorkflow(input: PdcaInput): Promise<{ cycle: number; outcome: string }> {
  const cycle: {
    actions: PlanAction[] | null;
    actuals: Record<string, number> | null;
    results: KpiResult[] | null;
    adopted: string | null;
    recheck: Record<string, number> | null;
    itemTaskIds: string[];
    awaiting: 'plan' | 'actuals' | 'standardise' | 'recheck' | null;
    /** Who took the latest of each step: the audit rows that follow it name them, not the cycle owner. */
    plannedBy: string;
    measuredBy: string | null;
    adoptedBy: string | null;
    /** Everyone who planned or entered KPI values in this cycle: the independent verification bars them. */
    planners: string[];
    measurers: string[];
  } = {
    actions: input.actions ?? null,
    actuals: null,
    results: null,
    adopted: null,
    recheck: null,
    itemTaskIds: [],
    // A re-planned cycle accepts its plan from the moment the case shows stage "plan".
    awaiting: input.actions ? null : 'plan',
    // The first plan comes with the cycle, from whoever opened it.
    plannedBy: input.initiatorId,
    measuredBy: null,
    adoptedBy: null,
    planners: input.actions ? [input.initiatorId] : [],
    measurers: [],
  };
  const data = () => ({
    cycleKey: input.cycleKey,
    cycle: input.cycle,
    objective: input.objective,
    source: input.source,
    sourceCaseId: input.sourceCaseId ?? null,
    kpis: input.kpis,
    actions: cycle.actions,
    actuals: cycle.actuals,
    results: cycle.results,
    adopted: cycle.adopted,
    recheck: cycle.recheck,
    rectificationTaskIds: cycle.itemTaskIds,
    history: input.history,
  });
  const caseRuntime = new CaseRuntime({
    caseId: input.caseId,
    process: 'pdca',
    businessKey: input.cycleKey,
    title: `${input.title} (cycle ${input.cycle})`,
    description: input.objective,
    stage: cycle.actions ? PDCA_STAGE.awaitingApproval : PDCA_STAGE.plan,
    initiatorId: input.initiatorId,
    ownerId: input.ownerId,
    ownerRole: 'manager',
    parentCaseId: input.sourceCaseId,
    subjectType: input.sourceCaseId ? 'case' : undefined,
    subjectId: input.sourceCaseId,
    data: data(),
    ...(input.policy ? { policyVersion: input.policy.version } : {}),
  });
  setHandler(caseSnapshotQuery, () => caseRuntime.snapshot());
  const desk = new ApprovalDesk(caseRuntime);
  // The clocks and the escalation threshold are the policy's; per-case overrides only where allowed.
  const policy = input.policy?.values ?? DEFAULT_POLICY;
  const approvalTimings = { ...policy.approval, ...input.timings?.approval };
  const escalateAfterCycles = input.escalateAfterCycles ?? policy.pdca.escalateAfterCycles;
  const ownerKpis = input.kpis.filter((k) => !(PLATFORM_KPIS as readonly string[]).includes(k.key));
  const { steps } = pdcaContract;
  /** A step the cycle owner owes, open to whoever else the contract lets take it. */
  const ownersStep = (step: { roles: readonly Role[] }, name: string, title: string, done: () => boolean) =>
    awaitStep(caseRuntime, {
      name: `c${input.cycle}-${name}`,
      title: `${title}: ${input.title} (cycle ${input.cycle})`,
      assigneeId: input.ownerId,
      candidateRoles: [...step.roles],
      timings: { ...policy.step, ...input.timings?.step },
      done,
    });

  // Who may take each step, where and with what input: the contract. The
  // rules below are what the stage alone does not say.
  caseRuntime.step(
    steps.plan,
    async ({ actor, actions }) => {
      cycle.actions = actions;
      cycle.plannedBy = actor.userId;
      cycle.planners.push(actor.userId);
      cycle.awaiting = null;
      return { stage: caseRuntime.stage };
    },
    ({ actions }) => {
      if (cycle.awaiting !== 'plan') refuse('WRONG_STAGE', 'the plan of this cycle is already submitted');
      const problem = actionsProblem(actions);
      if (problem) refuse('INVALID_PLAN', problem);
    },
  );
  caseRuntime.step(
    steps.actuals,
    async ({ actor, actuals }) => {
      if (cycle.awaiting === 'recheck') cycle.recheck = { ...cycle.recheck, ...actuals };
      else cycle.actuals = { ...cycle.actuals, ...actuals };
      cycle.measuredBy = actor.userId;
      cycle.measurers.push(actor.userId);
      cycle.awaiting = null;
      return { stage: caseRuntime.stage };
    },
    ({ actuals }) => {
      if (cycle.awaiting !== 'actuals' && cycle.awaiting !== 'recheck')
        refuse(
          'WRONG_STAGE',
          caseRuntime.stage === PDCA_STAGE.check
            ? 'the cycle is in check but not awaiting KPI values: they are entered at the check date'
            : 'the cycle is in effectiveness_watch but not awaiting KPI values: they are entered when the window ends',
        );
      for (const k of ownerKpis) {
        if (typeof actuals[k.key] !== 'number' || !Number.isFinite(actuals[k.key]))
          refuse('INVALID_ACTUALS', `a value for ${k.key} is required`);
      }
      const unknown = Object.keys(actuals).filter((key) => !ownerKpis.some((k) => k.key === key));
      if (unknown.length) refuse('INVALID_ACTUALS', `not KPIs the owner enters here: ${unknown.join(', ')}`);
    },
  );
  caseRuntime.step(
    steps.standardise,
    async ({ actor, adopted }) => {
      cycle.adopted = adopted.trim();
      cycle.adoptedBy = actor.userId;
      cycle.awaiting = null;
      return { stage: caseRuntime.stage };
    },
    () => {
      if (cycle.awaiting !== 'standardise')
        refuse(
          'WRONG_STAGE',
          cycle.adopted
            ? 'the cycle is already standardised'
            : 'the cycle missed its targets: the next cycle is planned, nothing is standardised',
        );
    },
  );

  await caseRuntime.open();
  if (shouldEscalate(input.cycle, escalateAfterCycles)) {
    await acts.notify({
      caseId: input.caseId,
      kind: 'escalation',
      recipientRole: 'admin',
      message: `Improvement cycle ${input.cycleKey} is on cycle ${input.cycle} without meeting its targets: management attention needed`,
    });
  }

  // Plan, approved before Do (not by its owner or whoever opened it).
  for (let round = 1; ; round++) {
    if (!cycle.actions) {
      cycle.awaiting = 'plan';
      await caseRuntime.moveTo(PDCA_STAGE.plan, { actorId: 'system', data: data() });
      await ownersStep(steps.plan, `plan-${round}`, 'Plan the actions', () => !!cycle.actions);
    }
    // Not by its owner, whoever opened the cycle, or whoever wrote this plan.
    const planBarred = pdcaPlanApprovalBarred({
      ownerId: input.ownerId,
      initiatorId: input.initiatorId,
      plannedBy: cycle.planners,
    });
    await caseRuntime.moveTo(PDCA_STAGE.awaitingApproval, {
      actorId: cycle.plannedBy,
      action: 'pdca.plan_submitted',
      data: data(),
      payload: { barred: planBarred },
    });
    const approval = await desk.request({
      name: `c${input.cycle}-plan-approval-${round}`,
      title: `Approve the improvement plan: ${input.title} (cycle ${input.cycle})`,
      candidateRoles: [...APPROVER_ROLES],
      approvalsRequired: 1,
      excludedUserIds: planBarred.map((b) => b.userId),
      barred: planBarred,
      timings: approvalTimings,
      policy: PLAN_POLICY,
    });
    if (approval.status === 'approved') break;
    cycle.actions = null;
  }

  // Do: every action a rectification item, done and verified.
  const doStartedAt = Date.now();
  const timings = { ...policy.rectification, ...input.timings?.rectification };
  cycle.itemTaskIds = cycle.actions!.map((_, i) => `${input.caseId}:c${input.cycle}:action:${i + 1}`);
  await caseRuntime.moveTo(PDCA_STAGE.do, { actorId: 'system', data: data() });
  await Promise.all(
    cycle.actions!.map((action, i) =>
      executeItem({
        workflowId: cycle.itemTaskIds[i]!,
        args: [
          {
            parentCaseId: input.caseId,
            title: action.title.trim(),
            ownerId: action.ownerId,
            verifierRoles: DEFAULT_VERIFIER_ROLES,
            dueAt: new Date(Date.now() + parseDuration(action.dueIn ?? timings.dueIn)).toISOString(),
            timings,
            openedBy: 'system',
          },
        ],
      }),
    ),
  );

  // Check at the check date: platform KPIs computed, the rest entered, then verified.
  const checkAt = doStartedAt + parseDuration(input.checkIn);
  await caseRuntime.moveTo(PDCA_STAGE.check, {
    actorId: 'system',
    dueAt: new Date(Math.max(checkAt, Date.now())).toISOString(),
    data: data(),
  });
  await condition(() => false, Math.max(1, checkAt - Date.now()));
  const measure = async (kind: 'actuals' | 'recheck', round: number) => {
    const platform = input.kpis.filter((k) => (PLATFORM_KPIS as readonly string[]).includes(k.key)).map((k) => k.key);
    const computed = platform.length ? await acts.computePlatformKpis({ keys: platform }) : {};
    if (kind === 'actuals') cycle.actuals = { ...computed };
    else cycle.recheck = { ...computed };
    cycle.measuredBy = null;
    if (ownerKpis.length) {
      cycle.awaiting = kind;
      await caseRuntime.recordData(`pdca.awaiting_${kind}`, { actorId: 'system', data: data() });
      await ownersStep(
        steps.actuals,
        `${kind}-${round}`,
        kind === 'actuals' ? 'Enter the KPI values at the check' : 'Enter the KPI values at the end of the watch',
        () => cycle.awaiting === null,
      );
    }
  };
  for (let round = 1; ; round++) {
    await measure('actuals', round);
    cycle.results = checkKpis(input.kpis, cycle.actuals!).results;
    // Independent: not by whoever planned the cycle, did its actions or
    // entered the values (nor its owner or whoever opened it).
    const verificationBarred = pdcaVerificationBarred({
      ownerId: input.ownerId,
      initiatorId: input.initiatorId,
      plannedBy: cycle.planners,
      actionOwners: cycle.actions!.map((a) => a.ownerId),
      measuredBy: cycle.measurers,
    });
    // Checked by whoever entered the values; by the platform when it computed them all.
    await caseRuntime.moveTo(PDCA_STAGE.awaitingApproval, {
      actorId: cycle.measuredBy ?? 'system',
      action: 'pdca.checked',
      data: data(),
      payload: { barred: verificationBarred },
    });
    const verification = await desk.request({
      name: `c${input.cycle}-verification-${round}`,
      title: `Verify the results independently: ${input.title} (cycle ${input.cycle})`,
      // Check's independent review: internal audit or the second line (DOMAIN.md §2).
      candidateRoles: [...VERIFIER_ROLES],
      approvalsRequired: 1,
      excludedUserIds: verificationBarred.map((b) => b.userId),
      barred: verificationBarred,
      timings: approvalTimings,
      policy: PLAN_POLICY,
    });
    if (verification.status === 'approved') break;
    await caseRuntime.moveTo(PDCA_STAGE.check, {
      actorId: 'system',
      action: 'pdca.results_disputed',
      reason: verification.votes.at(-1)?.comment,
      data: data(),
    });
  }

  // Act.
  const results = cycle.results!;
  const nextCycle = async (kpis: Kpi[], outcome: string) => {
    await caseRuntime.recordData('pdca.next_cycle', { actorId: 'system', reason: outcome, data: data() });
    // The next cycle runs under the policy in force now (cycles recorded before this keep theirs).
    const nextPolicy = patched(PDCA_NEXT_CYCLE_READS_POLICY) ? await acts.currentPolicy() : input.policy;
    await condition(allHandlersFinished);
    await itemsFinished();
    return continueAsNew<typeof pdcaCycleWorkflow>({
      ...input,
      ...(nextPolicy ? { policy: nextPolicy } : {}),
      kpis,
      actions: undefined,
      cycle: input.cycle + 1,
      history: [...input.history, { cycle: input.cycle, results, outcome }],
    });
  };
  if (!checkKpis(input.kpis, cycle.actuals!).allMet) {
    await caseRuntime.moveTo(PDCA_STAGE.act, { actorId: 'system', action: 'pdca.targets_missed', data: data() });
    return nextCycle(carryOverKpis(results), 'targets missed; gaps carried into the next cycle');
  }
  cycle.awaiting = 'standardise';
  await caseRuntime.moveTo(PDCA_STAGE.act, { actorId: 'system', action: 'pdca.targets_met', data: data() });
  await ownersStep(steps.standardise, 'standardise', 'Record what is standardised', () => cycle.awaiting === null);
  if (input.effectivenessWindow) {
    await caseRuntime.moveTo(PDCA_STAGE.effectivenessWatch, {
      actorId: cycle.adoptedBy ?? 'system',
      action: 'pdca.standardised',
      dueAt: new Date(Date.now() + parseDuration(input.effectivenessWindow)).toISOString(),
      data: data(),
    });
    await condition(() => false, parseDuration(input.effectivenessWindow));
    await measure('recheck', 1);
    await caseRuntime.recordData('pdca.rechecked', { actorId: cycle.measuredBy ?? 'system', data: data() });
    const slip = regressed(results, cycle.recheck!);
    if (slip.regressed) {
      const slipped = results
        .filter((r) => slip.slipped.includes(r.key))
        .map((r) => ({
          key: r.key,
          name: r.name,
          baseline: cycle.recheck![r.key]!,
          target: r.target,
          direction: r.direction,
        }));
      return nextCycle(slipped, `reopened: ${slip.slipped.join(', ')} slipped back within the effectiveness window`);
    }
  }
  // Without a watch, standardising closes the cycle at once: the close is that step's.
  await caseRuntime.close('standardised', {
    actorId: input.effectivenessWindow ? 'system' : (cycle.adoptedBy ?? 'system'),
    reason: cycle.adopted ?? undefined,
    data: data(),
  });
  return { cycle: input.cycle, outcome: 'standardised' };
}
