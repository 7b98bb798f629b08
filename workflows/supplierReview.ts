/**
 * Annual supplier and partner review (合作方风险评估, 供应商年度审核),
 * DOMAIN.md §1: documents → checks → scoring and grading → decision under
 * segregation of duties and four-eyes → outcome on the supplier, conditions
 * tracked to closure as rectification items → next review scheduled.
 *
 * One annual case per supplier and year: the workflow id is
 * supplier-review:<credit code>:<year>, so a second start is refused. A
 * reassessment on a material change within the year runs the same process
 * under its own id, …:<year>-r<n>.
 *
 * Clocks, weights and thresholds come from the policy the case started under
 * (domain/policy.ts), recorded on the case as its policy version.
 */
import { patched, setHandler } from '@temporalio/workflow';
import {
  REVIEW_STAGE,
  supplierReviewContract,
  supplierReviewKey,
  type ReviewChecksInput,
  type ReviewStepResult,
} from '../contracts/supplierReview';
import type { ApprovalPolicy } from '../domain/approval';
import type { ApprovalTimings, RectificationTimings, StepTimings } from '../domain/deadlines';
import { parseDuration } from '../domain/durations';
import { DEFAULT_POLICY, type PolicySnapshot } from '../domain/policy';
import { DEFAULT_VERIFIER_ROLES } from '../domain/rectification';
import { APPROVER_ROLES, ESCALATION_ROLE, type Role } from '../domain/roles';
import {
  applyHandbookRules,
  CONDITION_TYPES,
  conditionNeedsRectification,
  decisionsAgainst,
  gradeReview,
  LABELS,
  nextReviewDue,
  REASSESSMENT_LABELS,
  REVIEW_DOCUMENTS,
  scoreProblem,
  SUPPLIER_DECISIONS,
  type ConditionType,
  type DimensionScores,
  type ReassessmentTrigger,
  type ReviewCondition,
  type ReviewDocument,
  type ReviewGrade,
  type RuleFinding,
  type SupplierDecision,
} from '../domain/supplierReview';
import { caseSnapshotQuery } from './definitions';
import type { RectificationItemResult } from './rectificationItem';
import { acts } from './shared/activities';
import { executeItem } from './shared/items';
import { ApprovalDesk, type ApprovalOutcome } from './shared/approvals';
import { CaseRuntime, refuse } from './shared/caseRuntime';
import { awaitStep, climbLadder } from './shared/humanSteps';
import { registerSettledHandler } from './shared/settle';

/** patched() id: a review started without a policy (by its Schedule or a campaign) reads the one in force. */
const POLICY_FROM_ACTIVITY = 'supplier-review-policy';
/** patched() id: a review that lapses undecided escalates, flags the supplier and keeps its next review scheduled. */
const LAPSE_FLAGS_SUPPLIER = 'supplier-review-lapse-flags';

export interface SupplierReviewTimings {
  /** The documents' ladder; at its final deadline what is missing becomes a finding. */
  documents: StepTimings;
  /** The ladder of each step the reviewer owes next: checks, scores. */
  step: StepTimings;
  approval: ApprovalTimings;
  rectification: RectificationTimings;
}

export interface SupplierReviewInput {
  caseId: string;
  supplierId: string;
  supplierName: string;
  reviewYear: number;
  initiatorId: string;
  /** Collects documents, enters checks and scores; may not approve. */
  reviewerId: string;
  /** Per-case timings, only where the deployment allows them (api/caseTimings.ts); they override the policy's. */
  timings?: { [K in keyof SupplierReviewTimings]?: Partial<SupplierReviewTimings[K]> };
  /**
   * The policy the review runs under, read by the API at the start. Absent in
   * reviews a Schedule or a campaign starts (the workflow reads the policy in
   * force) and in reviews started before policies existed (the defaults).
   */
  policy?: PolicySnapshot;
  /** A reassessment within the year on a material change (e-commerce manual §4.1 动态管理). */
  reassessment?: Reassessment;
}

export interface Reassessment {
  /** The n of the case id's -r<n>. */
  round: number;
  trigger: ReassessmentTrigger;
  reason: string;
  requestedBy: string;
}

export interface ReviewDocumentRecord {
  evidenceId: string;
  sha256: string;
  fileName: string;
  by: string;
  at: string;
}

/** The review as the read model and the appraisal report show it. */
export interface SupplierReviewData extends Record<string, unknown> {
  supplierId: string;
  supplierName: string;
  reviewYear: number;
  reviewerId: string;
  documents: Partial<Record<ReviewDocument, ReviewDocumentRecord>>;
  missingDocuments: ReviewDocument[];
  /** Entered by the reviewer, or supplied by the configured provider (whose rating may be any agency's). */
  checks?: Omit<ReviewChecksInput, 'creditRating'> & { creditRating: string; provider: string; by: string; at: string };
  scores?: {
    dimensions: DimensionScores;
    impact: number;
    proposedTier?: string;
    comment?: string;
    by: string;
    at: string;
  };
  findings: RuleFinding[];
  grade?: ReviewGrade;
  decision?: { outcome: string; votes: ApprovalOutcome['votes']; conditions: ReviewCondition[] };
  rectificationTaskIds: string[];
  nextReviewDue?: string | null;
  reassessment?: Reassessment;
  /** Set when the review lapsed undecided: the supplier is flagged review-overdue. */
  lapsed?: { supplierFlagged: boolean; escalatedTo: Role };
}

export interface SupplierReviewResult {
  outcome: string;
  riskGrade?: string;
  recommendation?: string;
  rectifications: RectificationItemResult[];
  nextReviewDue: string | null;
}

/** Supplier decisions: no plain rejection; termination and blacklisting need two approvers and a reason. */
export const SUPPLIER_REVIEW_POLICY: ApprovalPolicy = {
  decisions: [...SUPPLIER_DECISIONS],
  vetoes: [],
  fourEyes: ['terminate', 'blacklist'],
  needsReason: ['terminate', 'blacklist'],
  needsConditions: ['approve_with_conditions'],
  conditionTypes: [...CONDITION_TYPES],
};

/**
 * The decision's policy once the review is graded: besides what every
 * supplier decision needs, a decision against the rules' recommendation
 * (approving what they would terminate or blacklist, ending what they would
 * keep) must give its reason.
 */
export function reviewDecisionPolicy(recommendation: SupplierDecision): ApprovalPolicy {
  return {
    ...SUPPLIER_REVIEW_POLICY,
    againstRecommendation: { recommendation, decisions: decisionsAgainst(recommendation) },
  };
}

export function parseCondition(text: string): ReviewCondition {
  const at = text.indexOf(':');
  return { type: text.slice(0, at) as ConditionType, detail: text.slice(at + 1).trim() };
}

export async function supplierReviewWorkflow(input: SupplierReviewInput): Promise<SupplierReviewResult> {
  // A start that brought no policy reads the one in force, once, as its first
  // step (reviews recorded before this change ran on the defaults). The
  // `settled` Update sent with the start must find its handler in this first
  // activation (an Update with none is rejected when the activation ends), so
  // it is registered before that read; the case runtime registers it again.
  registerSettledHandler();
  const policySnapshot = input.policy ?? (patched(POLICY_FROM_ACTIVITY) ? await acts.currentPolicy() : undefined);
  const policy = policySnapshot?.values ?? DEFAULT_POLICY;
  const timings: SupplierReviewTimings = {
    documents: { ...policy.supplier.documents, ...input.timings?.documents },
    step: { ...policy.step, ...input.timings?.step },
    approval: { ...policy.approval, ...input.timings?.approval },
    rectification: { ...policy.rectification, ...input.timings?.rectification },
  };
  const { reassessment } = input;
  const review: SupplierReviewData = {
    supplierId: input.supplierId,
    supplierName: input.supplierName,
    reviewYear: input.reviewYear,
    reviewerId: input.reviewerId,
    documents: {},
    missingDocuments: [],
    findings: [],
    rectificationTaskIds: [],
    ...(reassessment ? { reassessment } : {}),
  };
  const documentsDueAt = new Date(Date.now() + parseDuration(timings.documents.expireAfter)).toISOString();
  const caseRuntime = new CaseRuntime({
    caseId: input.caseId,
    process: 'supplier_review',
    businessKey: supplierReviewKey(input.supplierId, input.reviewYear, reassessment?.round),
    title: reassessment
      ? `Supplier reassessment ${input.reviewYear} (r${reassessment.round}, ${REASSESSMENT_LABELS[reassessment.trigger].en.toLowerCase()}): ${input.supplierName}`
      : `Supplier review ${input.reviewYear}: ${input.supplierName}`,
    ...(reassessment ? { description: reassessment.reason } : {}),
    stage: REVIEW_STAGE.documents,
    initiatorId: input.initiatorId,
    ownerId: input.reviewerId,
    ownerRole: 'manager',
    dueAt: documentsDueAt,
    subjectType: 'supplier',
    subjectId: input.supplierId,
    data: review,
    ...(policySnapshot ? { policyVersion: policySnapshot.version } : {}),
  });
  setHandler(caseSnapshotQuery, () => caseRuntime.snapshot());
  const desk = new ApprovalDesk(caseRuntime);
  const { steps } = supplierReviewContract;

  caseRuntime.step(steps.documents, async ({ actor, documentType, evidence }): Promise<ReviewStepResult> => {
    review.documents[documentType] = {
      evidenceId: evidence.id,
      sha256: evidence.sha256,
      fileName: evidence.fileName,
      by: actor.userId,
      at: new Date().toISOString(),
    };
    const received = REVIEW_DOCUMENTS.filter((d) => review.documents[d]);
    // The stage the step was taken in: the main flow may move on meanwhile.
    const stage = caseRuntime.stage;
    await caseRuntime.recordData('supplier_review.document_received', {
      actorId: actor.userId,
      data: review,
      payload: { documentType, evidenceId: evidence.id, sha256: evidence.sha256 },
    });
    return { stage, received, missing: REVIEW_DOCUMENTS.filter((d) => !review.documents[d]) };
  });

  caseRuntime.step(
    steps.checks,
    async ({ actor, ...checks }): Promise<ReviewStepResult> => {
      review.checks = { ...checks, provider: 'reviewer', by: actor.userId, at: new Date().toISOString() };
      const stage = caseRuntime.stage;
      await caseRuntime.recordData('supplier_review.checks_recorded', {
        actorId: actor.userId,
        data: review,
        payload: { creditRating: checks.creditRating, backgroundCheck: checks.backgroundCheck },
      });
      return { stage };
    },
    // The provider may have supplied them, or the reviewer sent them twice.
    () => {
      if (review.checks) refuse('NOT_AWAITING_CHECKS', 'the checks are already in');
    },
  );

  caseRuntime.step(
    steps.scores,
    async ({ actor, scores, impact, proposedTier, comment }): Promise<ReviewStepResult> => {
      review.scores = {
        dimensions: scores,
        impact,
        proposedTier,
        comment,
        by: actor.userId,
        at: new Date().toISOString(),
      };
      return { stage: caseRuntime.stage };
    },
    ({ scores }) => {
      if (review.scores) refuse('NOT_AWAITING_SCORES', 'the review is already scored');
      // The handbook's own rule for the scores, which the schema mirrors.
      const problem = scoreProblem(scores);
      if (problem) refuse('INVALID_SCORES', problem);
    },
  );

  await caseRuntime.open();

  /** A step the reviewer owes, open to whoever else the contract lets take it. */
  const reviewerStep = (step: { roles: readonly Role[] }, name: string, title: string, done: () => boolean) =>
    awaitStep(caseRuntime, {
      name,
      title: `${title}: ${input.supplierName}`,
      assigneeId: input.reviewerId,
      candidateRoles: [...step.roles],
      timings: timings.step,
      done,
    });

  // 1. Documents: the same ladder, but its final deadline is an outcome, not
  //    an overdue obligation: what is still missing becomes a finding, and the
  //    review goes on without it.
  const allDocuments = () => REVIEW_DOCUMENTS.every((d) => review.documents[d]);
  const documentsTask = `${input.caseId}:documents`;
  const documentsTitle = `Collect review documents: ${input.supplierName}`;
  caseRuntime.openTaskIds.add(documentsTask);
  await acts.openTask({
    taskId: documentsTask,
    caseId: input.caseId,
    kind: 'step',
    title: documentsTitle,
    candidateRoles: [...steps.documents.roles],
    assigneeId: input.reviewerId,
    dueAt: new Date(Date.now() + parseDuration(timings.documents.escalateAfter)).toISOString(),
    actorId: 'system',
  });
  const documentsOutcome = await climbLadder(caseRuntime, {
    taskId: documentsTask,
    title: documentsTitle,
    recipientRoles: [...steps.documents.roles],
    assigneeId: input.reviewerId,
    timings: timings.documents,
    done: allDocuments,
    awaiting: 'the missing documents',
    kind: 'task',
    // The reviewer's managers hear of missing documents (as before the shared ladder).
    escalateTo: 'manager',
  });
  review.missingDocuments = REVIEW_DOCUMENTS.filter((d) => !review.documents[d]);
  const documentsBy = caseRuntime.lastStepBy ?? 'system';
  await acts.changeTask({
    taskId: documentsTask,
    caseId: input.caseId,
    ...(documentsOutcome === 'done'
      ? {
          actorId: documentsBy,
          action: 'task.done',
          patch: { status: 'done', decidedBy: documentsBy, decidedAt: new Date().toISOString() },
        }
      : {
          actorId: 'system',
          action: 'task.expired',
          reason: `missing at the deadline: ${review.missingDocuments.join(', ')}`,
          patch: { status: 'expired' },
        }),
  });
  caseRuntime.openTaskIds.delete(documentsTask);

  // 2. Checks: the configured provider first; the reviewer enters what it cannot.
  const records = await acts.loadSupplierPerformance({ supplierId: input.supplierId, upToYear: input.reviewYear });
  review.findings = applyHandbookRules(records, input.reviewYear, policy.supplier.logisticsDelayThreshold);
  const provided = await acts.runSupplierChecks({ supplierId: input.supplierId, supplierName: input.supplierName });
  const checksDueAt = new Date(Date.now() + parseDuration(timings.step.escalateAfter)).toISOString();
  await caseRuntime.moveTo(REVIEW_STAGE.checks, {
    actorId: 'system',
    dueAt: checksDueAt,
    data: review,
    payload: { missingDocuments: review.missingDocuments, findings: review.findings.map((f) => f.rule) },
  });
  if (provided.creditRating && provided.backgroundCheck) {
    review.checks = {
      creditRating: provided.creditRating,
      backgroundCheck: provided.backgroundCheck,
      notes: provided.notes,
      provider: provided.provider,
      by: 'system',
      at: new Date().toISOString(),
    };
  } else {
    await reviewerStep(steps.checks, 'checks', 'Enter credit rating and background check', () => !!review.checks);
  }

  // 3. Scoring and grading by the risk matrix and the handbook's rules.
  const scoringDueAt = new Date(Date.now() + parseDuration(timings.step.escalateAfter)).toISOString();
  await caseRuntime.moveTo(REVIEW_STAGE.scoring, { actorId: 'system', dueAt: scoringDueAt, data: review });
  await reviewerStep(steps.scores, 'scoring', 'Score the five dimensions', () => !!review.scores);
  const scores = review.scores!;
  review.grade = gradeReview({
    scores: scores.dimensions,
    impact: scores.impact,
    findings: review.findings,
    missingDocuments: review.missingDocuments,
    creditRating: review.checks?.creditRating,
    backgroundCheck: review.checks?.backgroundCheck,
    weights: policy.supplier.dimensionWeights,
    cutoffs: policy.risk,
  });
  const grade = review.grade;
  await caseRuntime.moveTo(REVIEW_STAGE.awaitingApproval, {
    actorId: scores.by,
    action: 'supplier_review.graded',
    riskLevel: grade.riskGrade,
    dueAt: new Date(Date.now() + parseDuration(timings.approval.escalateAfter)).toISOString(),
    data: review,
    payload: { riskGrade: grade.riskGrade, recommendation: grade.recommendation, reasons: grade.reasons },
  });

  // 4. Decision. Nobody who started, asked for or scored the review may
  //    approve it; a decision against the rules' recommendation gives its reason.
  const approval = await desk.request({
    name: 'decision',
    title: `Decide supplier ${reassessment ? 'reassessment' : 'review'} ${input.reviewYear}: ${input.supplierName} (recommended: ${LABELS.decision[grade.recommendation].en})`,
    candidateRoles: [...APPROVER_ROLES],
    approvalsRequired: grade.riskGrade === 'high' ? 2 : 1,
    excludedUserIds: [
      ...new Set([input.initiatorId, input.reviewerId, scores.by, ...(reassessment ? [reassessment.requestedBy] : [])]),
    ],
    timings: timings.approval,
    policy: reviewDecisionPolicy(grade.recommendation),
  });
  const conditions = approval.conditions.map(parseCondition);
  review.decision = { outcome: approval.status, votes: approval.votes, conditions };
  if (approval.status === 'expired') {
    // Nobody decided: the supplier keeps its status (a pending one stays
    // pending), but the lapse is escalated, the supplier is flagged
    // review-overdue, and its next review stays scheduled. Reviews that
    // lapsed before this change only closed.
    if (patched(LAPSE_FLAGS_SUPPLIER)) {
      const escalatedTo = ESCALATION_ROLE[APPROVER_ROLES[0]];
      const flagged = await acts.flagSupplierReviewOverdue({
        caseId: input.caseId,
        supplierId: input.supplierId,
        intervalMonths: policy.supplier.reviewIntervalMonths,
      });
      review.nextReviewDue = flagged.nextReviewDue;
      review.lapsed = { supplierFlagged: flagged.status !== null, escalatedTo };
      await acts.notify({
        caseId: input.caseId,
        taskId: approval.taskId,
        kind: 'expiry',
        recipientRole: escalatedTo,
        message:
          `Lapsed: "${input.supplierName}" ${reassessment ? 'reassessment' : 'review'} ${input.reviewYear} had no decision by its final deadline; ` +
          `the supplier is flagged review-overdue${flagged.nextReviewDue ? ` and its next review is due ${flagged.nextReviewDue}` : ''}`,
      });
      if (flagged.nextReviewDue) {
        await acts.scheduleNextSupplierReview({ supplierId: input.supplierId, dueAt: flagged.nextReviewDue });
        // Scheduling resumes the Schedule; a supplier suspended meanwhile keeps it paused.
        if (flagged.status === 'suspended') {
          await acts.syncSupplierReviewSchedule({ supplierId: input.supplierId, status: flagged.status });
        }
      }
    }
    await caseRuntime.close('expired', {
      actorId: 'system',
      reason: 'no decision by the final deadline',
      data: review,
      ...(review.lapsed
        ? { payload: { supplierFlagged: review.lapsed.supplierFlagged, nextReviewDue: review.nextReviewDue } }
        : {}),
    });
    return {
      outcome: 'expired',
      riskGrade: grade.riskGrade,
      recommendation: grade.recommendation,
      rectifications: [],
      nextReviewDue: review.nextReviewDue ?? null,
    };
  }

  // 5. Outcome on the supplier; conditions that need work are tracked to closure.
  const decision = (
    approval.status === 'approved'
      ? 'approve'
      : approval.status === 'approved_with_conditions'
        ? 'approve_with_conditions'
        : approval.status === 'terminated'
          ? 'terminate'
          : 'blacklist'
  ) as SupplierDecision;
  const due = nextReviewDue(new Date(), grade.riskGrade, decision, policy.supplier.reviewIntervalMonths);
  review.nextReviewDue = due ? due.toISOString() : null;
  const applied = await acts.applySupplierDecision({
    caseId: input.caseId,
    supplierId: input.supplierId,
    decision,
    conditions,
    riskGrade: grade.riskGrade,
    tier: scores.proposedTier,
    nextReviewDue: review.nextReviewDue,
    decidedBy: approval.votes.at(-1)?.userId ?? 'system',
  });
  // A status change approved while the review ran stands (domain/supplierReview.ts
  // statusAfterReview): ended cooperation has no next review, a suspension keeps
  // its Schedule paused. (Reviews recorded before this change got no answer here.)
  const standing = applied?.status;
  if (standing === 'terminated' || standing === 'blacklisted') review.nextReviewDue = null;

  const workItems = conditions.filter((c) => conditionNeedsRectification(c.type));
  const rectifications: RectificationItemResult[] = [];
  if (workItems.length) {
    const itemsDueAt = new Date(Date.now() + parseDuration(timings.rectification.dueIn)).toISOString();
    review.rectificationTaskIds = workItems.map((_, i) => `${input.caseId}:rectification:${i + 1}`);
    await caseRuntime.moveTo(REVIEW_STAGE.rectification, { actorId: 'system', dueAt: itemsDueAt, data: review });
    rectifications.push(
      ...(await Promise.all(
        workItems.map((item, i) =>
          executeItem({
            workflowId: review.rectificationTaskIds[i]!,
            args: [
              {
                parentCaseId: input.caseId,
                title: `${LABELS.condition[item.type].en} (${LABELS.condition[item.type].zh}): ${item.detail}`,
                ownerId: input.reviewerId,
                verifierRoles: DEFAULT_VERIFIER_ROLES,
                dueAt: itemsDueAt,
                timings: timings.rectification,
                riskLevel: grade.riskGrade,
                openedBy: 'system',
              },
            ],
          }),
        ),
      )),
    );
  }

  // 6. Recurrence: next year's review is started by a Temporal Schedule.
  if (review.nextReviewDue) {
    await acts.scheduleNextSupplierReview({ supplierId: input.supplierId, dueAt: review.nextReviewDue });
    if (standing === 'suspended')
      await acts.syncSupplierReviewSchedule({ supplierId: input.supplierId, status: standing });
  } else {
    await acts.removeSupplierReviewSchedule({ supplierId: input.supplierId });
  }
  await caseRuntime.close(approval.status, {
    actorId: 'system',
    reason: rectifications.length ? 'every condition carried out and verified' : undefined,
    data: review,
    payload: { nextReviewDue: review.nextReviewDue },
  });
  return {
    outcome: approval.status,
    riskGrade: grade.riskGrade,
    recommendation: grade.recommendation,
    rectifications,
    nextReviewDue: review.nextReviewDue,
  };
}

/**
 * Started by a supplier's Schedule when its next review falls due: opens
 * that year's review (a review already open for the year is left alone).
 */
export async function supplierReviewLauncherWorkflow(input: {
  supplierId: string;
}): Promise<{ started: boolean; reason?: string; caseId?: string }> {
  return acts.startSupplierReview({
    supplierId: input.supplierId,
    year: new Date().getUTCFullYear(),
    initiatorId: 'system',
  });
}
