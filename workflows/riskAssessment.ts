/**
 * The periodic risk assessment (contracts/riskAssessment.ts; e-commerce
 * manual §1.2, internet-finance manual §5.1). Its scope is fixed when it
 * opens: every risk in the register then. Each owner owes one step (the
 * policy's step ladder: reminded, escalated, overdue and still owed) that
 * re-rates their risks and may raise new ones; the register records each as a
 * new version. Then the risk function reviews and compliance signs off
 * (segregation of duties: the owners who re-rated are barred from both, the
 * reviewer from the sign-off). A rejection, by either, sends the ratings back
 * to every owner with its reason, for a new round of re-rating and review.
 * A risk whose residual score rose since the previous period's assessment
 * (since this one opened, when there was none, or for a risk it did not
 * hold), or that sits above appetite, opens a rectification item owned by
 * its owner, linked to the risk in the register; the case closes when every
 * item is verified (闭环).
 */
import { patched, setHandler } from '@temporalio/workflow';
import {
  RISK_ASSESSMENT_STAGE,
  riskAssessmentContract,
  riskAssessmentKey,
  type NewRiskInput,
  type RiskRatingInput,
} from '../contracts/riskAssessment';
import type { ApprovalTimings, StepTimings } from '../domain/deadlines';
import { parseDuration } from '../domain/durations';
import { DEFAULT_POLICY, type PolicySnapshot } from '../domain/policy';
import { aboveAppetite, rate, type MatrixRating, type RiskCategory } from '../domain/riskRegister';
import { VERIFIER_ROLES } from '../domain/roles';
import { caseSnapshotQuery } from './definitions';
import { acts } from './shared/activities';
import { ApprovalDesk, type ApprovalOutcome } from './shared/approvals';
import { CaseRuntime, refuse } from './shared/caseRuntime';
import { awaitStep } from './shared/humanSteps';
import { itemsFinished, startItem } from './shared/items';

export interface AssessedRisk {
  riskKey: string;
  title: string;
  category: RiskCategory;
  ownerId: string;
  inherent: MatrixRating;
  /** The residual rating when the assessment opened: movements are measured from it. */
  residual: MatrixRating;
}

export interface RiskAssessmentInput {
  caseId: string;
  period: string;
  initiatorId: string;
  scope: AssessedRisk[];
  policy: PolicySnapshot;
  timings?: { step?: Partial<StepTimings>; approval?: Partial<ApprovalTimings> };
}

/** One risk's result, as the case data and the report read it. */
export interface AssessmentEntry {
  riskKey: string;
  title: string;
  category: RiskCategory;
  ownerId: string;
  /** null for a risk raised in this assessment. */
  before: MatrixRating | null;
  after: MatrixRating | null;
  evaluation?: 'accept' | 'treat';
  ratedBy?: string;
  version?: number;
  problem?: string;
  rectificationItemId?: string;
  /** The rating it is compared with for the treatment trigger: the previous period's, else `before`. */
  baseline?: MatrixRating | null;
  /** Why it is treated: its residual rose since the baseline, it sits above appetite, or both. */
  treatedFor?: Array<'rose' | 'above_appetite'>;
}

/** A review or sign-off that sent the ratings back to their owners. */
export interface AssessmentReturn {
  step: 'review' | 'sign-off';
  by: string;
  reason: string;
  /** The rating round it ended; the owners re-rate in the next. */
  round: number;
  at: string;
}

/**
 * patched() id: a rejected review or sign-off sends the ratings back to the
 * owners for re-rating instead of ending the case (cases recorded before it
 * ended 'rejected').
 */
export const REJECTION_RETURNS_TO_OWNERS = 'risk-assessment-rejection-returns-to-owners';

/**
 * patched() id: "rose" is measured from the previous period's assessment, as
 * the report's movements are (cases recorded before it measured from the
 * register as this assessment opened, so a rise between periods recorded by
 * an edit went untreated).
 */
export const ROSE_SINCE_PREVIOUS_PERIOD = 'risk-assessment-rose-since-previous-period';

export interface RiskAssessmentResult {
  outcome: 'closed_out' | 'rejected' | 'expired';
  rectificationItems: string[];
}

/** The register key of the n-th risk raised in an assessment: RISK-RA2026Q4-1. */
export const raisedRiskKey = (period: string, n: number) => `RISK-RA${period.replace(/-/g, '')}-${n}`;

export async function riskAssessmentWorkflow(input: RiskAssessmentInput): Promise<RiskAssessmentResult> {
  const policy = input.policy.values ?? DEFAULT_POLICY;
  const stepTimings: StepTimings = { ...policy.step, ...input.timings?.step };
  const approvalTimings: ApprovalTimings = { ...policy.approval, ...input.timings?.approval };
  const owners = [...new Set(input.scope.map((r) => r.ownerId))].sort();
  const entries = new Map<string, AssessmentEntry>(
    input.scope.map((r) => [
      r.riskKey,
      { riskKey: r.riskKey, title: r.title, category: r.category, ownerId: r.ownerId, before: r.residual, after: null },
    ]),
  );
  /** Who re-rated in the current round; everyone who re-rated in any round (barred from review and sign-off). */
  const rated = new Set<string>();
  const everRated = new Set<string>();
  /** Risks raised in this assessment: their owner re-rates them too when the ratings come back. */
  const raisedRisks = new Map<string, { ownerId: string; inherent: MatrixRating }>();
  let raised = 0;
  let round = 1;
  const returns: AssessmentReturn[] = [];
  const data: Record<string, unknown> = {
    label: { en: 'Risk assessment', zh: '风险评估' },
    period: input.period,
    owners,
    scope: input.scope,
    entries: [...entries.values()],
    rated: [],
  };
  const caseRuntime = new CaseRuntime({
    caseId: input.caseId,
    process: riskAssessmentContract.process,
    businessKey: riskAssessmentKey(input.period),
    title: `Risk assessment (风险评估) ${input.period}`,
    description: `${input.scope.length} risk(s) of ${owners.length} owner(s) re-rated: identify → analyse → quantify → evaluate (e-commerce §1.2)`,
    stage: RISK_ASSESSMENT_STAGE.rating,
    initiatorId: input.initiatorId,
    ownerRole: 'risk',
    data,
    policyVersion: input.policy.version,
  });
  setHandler(caseSnapshotQuery, () => caseRuntime.snapshot());

  caseRuntime.step(
    riskAssessmentContract.steps.rate,
    async (call) => {
      const actorId = call.actor.userId;
      rated.add(actorId);
      everRated.add(actorId);
      const newRisks = call.newRisks.map((r: NewRiskInput) => ({
        ...r,
        riskKey: raisedRiskKey(input.period, ++raised),
      }));
      const applied = await acts.applyRiskAssessmentRatings({
        caseId: input.caseId,
        period: input.period,
        actorId,
        ratings: call.ratings,
        newRisks,
      });
      const evaluations = new Map<string, 'accept' | 'treat'>([
        ...call.ratings.map((r: RiskRatingInput) => [r.riskKey, r.evaluation] as const),
        ...newRisks.map((r) => [r.riskKey, r.evaluation] as const),
      ]);
      for (const r of newRisks) raisedRisks.set(r.riskKey, { ownerId: actorId, inherent: r.inherent });
      for (const a of applied) {
        const known = entries.get(a.riskKey);
        const raisedRisk = newRisks.find((r) => r.riskKey === a.riskKey);
        entries.set(a.riskKey, {
          riskKey: a.riskKey,
          title: known?.title ?? raisedRisk?.title ?? a.riskKey,
          category: known?.category ?? raisedRisk!.category,
          ownerId: known?.ownerId ?? actorId,
          before: known ? known.before : null,
          after: a.after,
          evaluation: evaluations.get(a.riskKey),
          ratedBy: actorId,
          version: a.version,
          ...(a.problem ? { problem: a.problem } : {}),
        });
      }
      await caseRuntime.recordData('risk_assessment.rated', {
        actorId,
        reason: `${call.ratings.length} risk(s) re-rated, ${newRisks.length} raised`,
        data: Object.assign(data, { entries: [...entries.values()], rated: [...rated] }),
        payload: { riskKeys: applied.map((a) => a.riskKey) },
      });
      return { rated: applied };
    },
    (call) => {
      const actorId = call.actor.userId;
      if (!owners.includes(actorId)) {
        refuse('NO_RATING_OWED', `no re-rating is owed by you: you own no risk in the ${input.period} assessment`);
      }
      if (rated.has(actorId)) refuse('ALREADY_RATED', `you already re-rated your risks for ${input.period}`);
      // Risks the caller raised in an earlier round are theirs to re-rate too (none in the first round).
      const mine = [
        ...input.scope.filter((r) => r.ownerId === actorId),
        ...[...raisedRisks]
          .filter(([, r]) => r.ownerId === actorId)
          .map(([riskKey, r]) => ({ riskKey, inherent: r.inherent })),
      ];
      const given = call.ratings.map((r: RiskRatingInput) => r.riskKey);
      const missing = mine.filter((r) => !given.includes(r.riskKey)).map((r) => r.riskKey);
      const foreign = given.filter((k: string) => !mine.some((r) => r.riskKey === k));
      const twice = given.filter((k: string, i: number) => given.indexOf(k) !== i);
      if (missing.length || foreign.length || twice.length) {
        refuse(
          'INVALID_RATINGS',
          [
            missing.length ? `not rated: ${missing.join(', ')}` : '',
            foreign.length ? `not yours in this assessment: ${foreign.join(', ')}` : '',
            twice.length ? `rated twice: ${twice.join(', ')}` : '',
          ]
            .filter(Boolean)
            .join('; '),
        );
      }
      for (const r of call.ratings as RiskRatingInput[]) {
        const risk = mine.find((m) => m.riskKey === r.riskKey)!;
        if (r.residual.probability * r.residual.impact > risk.inherent.probability * risk.inherent.impact) {
          refuse('INVALID_RATINGS', `${r.riskKey}: the residual rating may not exceed the inherent rating`);
        }
      }
      for (const r of call.newRisks as NewRiskInput[]) {
        if (r.residual.probability * r.residual.impact > r.inherent.probability * r.inherent.impact) {
          refuse('INVALID_RATINGS', `new risk "${r.title}": the residual rating may not exceed the inherent rating`);
        }
      }
    },
  );

  const desk = new ApprovalDesk(caseRuntime);
  await caseRuntime.open();

  const ended = async (status: 'rejected' | 'expired', step: string) => {
    await caseRuntime.close(status, {
      actorId: 'system',
      reason:
        status === 'expired'
          ? `no ${step} by the final deadline; the ratings stand in the register`
          : `${step} rejected; the ratings stand in the register`,
      data,
    });
    return { outcome: status, rectificationItems: [] };
  };
  /**
   * A rejection sends the ratings back: every owner re-rates (the reason in
   * their task), then the review and sign-off start again. Cases recorded
   * before this ended as rejected.
   */
  const sendBack = async (step: AssessmentReturn['step'], outcome: ApprovalOutcome): Promise<boolean> => {
    if (!patched(REJECTION_RETURNS_TO_OWNERS)) return false;
    const vote = outcome.votes.find((v) => v.decision === 'reject') ?? outcome.votes[outcome.votes.length - 1];
    const back: AssessmentReturn = {
      step,
      by: vote?.userId ?? 'system',
      reason: vote?.comment ?? 'no reason given',
      round,
      at: new Date().toISOString(),
    };
    returns.push(back);
    round += 1;
    rated.clear();
    await caseRuntime.moveTo(RISK_ASSESSMENT_STAGE.rating, {
      actorId: back.by,
      action: 'risk_assessment.returned',
      reason: `${step} rejected: ${back.reason}; the ratings go back to their owners (round ${round})`,
      data: Object.assign(data, { rated: [], round, returns: [...returns] }),
    });
    return true;
  };

  let signOff: ApprovalOutcome;
  for (;;) {
    const last = returns[returns.length - 1];
    // One owed step per owner, each on the policy's step ladder.
    await Promise.all(
      owners.map((ownerId) =>
        awaitStep(caseRuntime, {
          name: round === 1 ? `rating:${ownerId}` : `rating:${ownerId}:${round}`,
          title: last
            ? `Re-rate your risks for ${input.period} again: the ${last.step} (${last.by}) rejected them: ${last.reason}`
            : `Re-rate your risks for ${input.period} (identify → analyse → quantify → evaluate)`,
          assigneeId: ownerId,
          candidateRoles: [],
          timings: stepTimings,
          done: () => rated.has(ownerId),
        }),
      ),
    );

    const raters = [...everRated];
    await caseRuntime.moveTo(RISK_ASSESSMENT_STAGE.awaitingApproval, {
      actorId: 'system',
      reason: 'every owner re-rated; the risk function reviews',
      data,
    });
    const review = await desk.request({
      name: round === 1 ? 'review' : `review-${round}`,
      title: `Review the ${input.period} risk assessment (risk function)`,
      candidateRoles: ['risk'],
      approvalsRequired: 1,
      excludedUserIds: raters,
      barred: raters.map((userId) => ({ userId, reasons: ['re-rated risks in this assessment'] })),
      timings: approvalTimings,
    });
    if (review.status === 'rejected' && (await sendBack('review', review))) continue;
    if (review.status !== 'approved') return ended(review.status === 'expired' ? 'expired' : 'rejected', 'review');
    const reviewers = review.votes.map((v) => v.userId);
    signOff = await desk.request({
      name: round === 1 ? 'sign-off' : `sign-off-${round}`,
      title: `Sign off the ${input.period} risk assessment (compliance)`,
      candidateRoles: ['compliance'],
      approvalsRequired: 1,
      excludedUserIds: [...new Set([...raters, ...reviewers])],
      barred: [
        ...raters.map((userId) => ({
          userId,
          reasons: [
            're-rated risks in this assessment',
            ...(reviewers.includes(userId) ? ['reviewed this assessment'] : []),
          ],
        })),
        ...reviewers
          .filter((u) => !raters.includes(u))
          .map((userId) => ({ userId, reasons: ['reviewed this assessment'] })),
      ],
      timings: approvalTimings,
    });
    if (signOff.status === 'rejected' && (await sendBack('sign-off', signOff))) continue;
    if (signOff.status !== 'approved') return ended(signOff.status === 'expired' ? 'expired' : 'rejected', 'sign-off');
    break;
  }
  const signedBy = signOff.votes[0]?.userId ?? 'system';

  // Risks that rose since the previous period, or sit above appetite, are treated by their owners (闭环).
  const appetite = policy.riskRegister.appetite;
  const sincePrevious = patched(ROSE_SINCE_PREVIOUS_PERIOD);
  const previous = sincePrevious
    ? await acts.previousAssessmentRatings({
        caseId: input.caseId,
        period: input.period,
        months: policy.riskRegister.assessmentPeriodMonths,
      })
    : null;
  if (sincePrevious) {
    data.comparedWith = previous ? { caseId: previous.caseId, period: previous.period, status: previous.status } : null;
  }
  const toTreat = [...entries.values()].filter((e) => {
    if (!e.after) return false;
    const baseline = previous ? (previous.ratings[e.riskKey] ?? e.before) : e.before;
    const rose = baseline !== null && e.after.probability * e.after.impact > baseline.probability * baseline.impact;
    const above = aboveAppetite(e.category, e.after, appetite);
    if (sincePrevious) {
      e.baseline = baseline;
      e.treatedFor = [...(rose ? (['rose'] as const) : []), ...(above ? (['above_appetite'] as const) : [])];
    }
    return rose || above;
  });
  if (toTreat.length === 0) {
    await caseRuntime.close('closed_out', {
      actorId: signedBy,
      reason: 'signed off; no risk rose or sits above appetite',
      data,
    });
    return { outcome: 'closed_out', rectificationItems: [] };
  }
  const dueAt = new Date(Date.now() + parseDuration(policy.rectification.dueIn)).toISOString();
  for (const e of toTreat) e.rectificationItemId = `${input.caseId}:rectification:${e.riskKey}`;
  await caseRuntime.moveTo(RISK_ASSESSMENT_STAGE.rectification, {
    actorId: signedBy,
    reason: `signed off; ${toTreat.length} risk(s) rose or sit above appetite and are treated`,
    dueAt,
    data: Object.assign(data, { entries: [...entries.values()] }),
  });
  const items = [];
  for (const e of toTreat) {
    const itemId = e.rectificationItemId!;
    items.push(
      await startItem({
        workflowId: itemId,
        args: [
          {
            parentCaseId: input.caseId,
            title: `Treat risk ${e.riskKey} ${e.title} (${input.period}: residual ${e.after!.probability}×${e.after!.impact})`,
            ownerId: e.ownerId,
            verifierRoles: [...VERIFIER_ROLES],
            dueAt,
            timings: policy.rectification,
            riskLevel: rate(e.after!, policy.risk).level,
            openedBy: signedBy,
          },
        ],
      }),
    );
    await acts.linkRiskToAssessment({ caseId: input.caseId, riskKey: e.riskKey, linkedBy: signedBy, itemId });
  }
  await Promise.all(items.map((i) => i.closed));
  await itemsFinished();
  await caseRuntime.close('closed_out', {
    actorId: 'system',
    reason: 'every treatment verified',
    data,
  });
  return { outcome: 'closed_out', rectificationItems: toTreat.map((e) => e.rectificationItemId!) };
}

/**
 * Run by the risk assessment Schedule (activities/riskAssessments.ts
 * ensureRiskAssessmentSchedule): opens the assessment of the period that
 * `period` names, or of the period today falls in, once.
 */
export async function riskAssessmentLauncherWorkflow(
  input: { period?: string } = {},
): Promise<Awaited<ReturnType<typeof acts.openScheduledRiskAssessment>>> {
  return acts.openScheduledRiskAssessment({ period: input.period });
}
