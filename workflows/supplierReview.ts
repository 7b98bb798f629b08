/**
 * Annual supplier and partner review (合作方风险评估, 供应商年度审核),
 * DOMAIN.md §1: documents → checks → scoring and grading → decision under
 * segregation of duties and four-eyes → outcome on the supplier, conditions
 * tracked to closure as rectification items → next review scheduled.
 *
 * One case per supplier per year: the workflow id is
 * supplier-review:<credit code>:<year>, so a second start is refused.
 */
import { setHandler } from '@temporalio/workflow';
import {
  REVIEW_STAGE,
  supplierReviewContract,
  supplierReviewKey,
  type ReviewChecksInput,
  type ReviewStepResult,
} from '../contracts/supplierReview';
import type { ApprovalPolicy } from '../domain/approval';
import type { ApprovalTimings, RectificationTimings, StepTimings } from '../domain/deadlines';
import {
  DEFAULT_APPROVAL_TIMINGS,
  DEFAULT_RECTIFICATION_TIMINGS,
  DEFAULT_STEP_TIMINGS,
  SUPPLIER_DOCUMENTS_TIMINGS,
} from '../domain/deadlines';
import { parseDuration } from '../domain/durations';
import { DEFAULT_VERIFIER_ROLES } from '../domain/rectification';
import { APPROVER_ROLES, type Role } from '../domain/roles';
import {
  applyHandbookRules,
  CONDITION_TYPES,
  conditionNeedsRectification,
  gradeReview,
  LABELS,
  nextReviewDue,
  REVIEW_DOCUMENTS,
  scoreProblem,
  SUPPLIER_DECISIONS,
  type ConditionType,
  type DimensionScores,
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
  timings?: { [K in keyof SupplierReviewTimings]?: Partial<SupplierReviewTimings[K]> };
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

export function parseCondition(text: string): ReviewCondition {
  const at = text.indexOf(':');
  return { type: text.slice(0, at) as ConditionType, detail: text.slice(at + 1).trim() };
}

export async function supplierReviewWorkflow(input: SupplierReviewInput): Promise<SupplierReviewResult> {
  const timings: SupplierReviewTimings = {
    documents: { ...SUPPLIER_DOCUMENTS_TIMINGS, ...input.timings?.documents },
    step: { ...DEFAULT_STEP_TIMINGS, ...input.timings?.step },
    approval: { ...DEFAULT_APPROVAL_TIMINGS, ...input.timings?.approval },
    rectification: { ...DEFAULT_RECTIFICATION_TIMINGS, ...input.timings?.rectification },
  };
  const review: SupplierReviewData = {
    supplierId: input.supplierId,
    supplierName: input.supplierName,
    reviewYear: input.reviewYear,
    reviewerId: input.reviewerId,
    documents: {},
    missingDocuments: [],
    findings: [],
    rectificationTaskIds: [],
  };
  const documentsDueAt = new Date(Date.now() + parseDuration(timings.documents.expireAfter)).toISOString();
  const caseRuntime = new CaseRuntime({
    caseId: input.caseId,
    process: 'supplier_review',
    businessKey: supplierReviewKey(input.supplierId, input.reviewYear),
    title: `Supplier review ${input.reviewYear}: ${input.supplierName}`,
    stage: REVIEW_STAGE.documents,
    initiatorId: input.initiatorId,
    ownerId: input.reviewerId,
    ownerRole: 'manager',
    dueAt: documentsDueAt,
    subjectType: 'supplier',
    subjectId: input.supplierId,
    data: review,
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
  review.findings = applyHandbookRules(records, input.reviewYear);
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

  // 4. Decision. Nobody who started or scored the review may approve it.
  const approval = await desk.request({
    name: 'decision',
    title: `Decide supplier review ${input.reviewYear}: ${input.supplierName} (recommended: ${LABELS.decision[grade.recommendation].en})`,
    candidateRoles: [...APPROVER_ROLES],
    approvalsRequired: grade.riskGrade === 'high' ? 2 : 1,
    excludedUserIds: [...new Set([input.initiatorId, input.reviewerId, scores.by])],
    timings: timings.approval,
    policy: SUPPLIER_REVIEW_POLICY,
  });
  const conditions = approval.conditions.map(parseCondition);
  review.decision = { outcome: approval.status, votes: approval.votes, conditions };
  if (approval.status === 'expired') {
    await caseRuntime.close('expired', {
      actorId: 'system',
      reason: 'no decision by the final deadline',
      data: review,
    });
    return {
      outcome: 'expired',
      riskGrade: grade.riskGrade,
      recommendation: grade.recommendation,
      rectifications: [],
      nextReviewDue: null,
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
  const due = nextReviewDue(new Date(), grade.riskGrade, decision);
  review.nextReviewDue = due ? due.toISOString() : null;
  await acts.applySupplierDecision({
    caseId: input.caseId,
    supplierId: input.supplierId,
    decision,
    conditions,
    riskGrade: grade.riskGrade,
    tier: scores.proposedTier,
    nextReviewDue: review.nextReviewDue,
    decidedBy: approval.votes.at(-1)?.userId ?? 'system',
  });

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
