/**
 * Risk assessment I/O (workflows/riskAssessment.ts): an owner's re-ratings
 * and new risks written to the register the way PATCH and POST /api/risks
 * write them (a new version in risk_versions, the risks row, one audit event
 * risk.updated / risk.created each, in one transaction), and an acceptance in
 * force told when a residual rating changed, so it turns stale as it does on
 * an edit. Keyed on the calling activity: a retry writes nothing twice.
 */
import { Context } from '@temporalio/activity';
import { eq } from 'drizzle-orm';
import { periodOf } from '../contracts/riskAssessment';
import { withAuditedWrite } from '../db/audit';
import type { Database } from '../db/client';
import { riskLinks, risks } from '../db/schema';
import {
  changedFields,
  ratingProblem,
  residualChanged,
  type MatrixRating,
  type RiskValues,
} from '../domain/riskRegister';
import { currentPolicy } from '../platform/policy';
import {
  openRiskAssessment,
  previousAssessment,
  type AssessmentOpening,
  type PreviousAssessment,
} from '../platform/riskAssessments';
import { changeRisk, createRisk, riskValuesOf, tellAcceptances } from '../platform/risks';
import { activityKey, whileHeartbeating } from './context';

export interface AssessmentRating {
  riskKey: string;
  causes: string;
  analysis: string;
  residual: MatrixRating;
  evaluation: 'accept' | 'treat';
}

export interface AssessmentNewRisk extends Omit<RiskValues, 'ownerId'> {
  riskKey: string;
  evaluation: 'accept' | 'treat';
}

export interface AppliedRating {
  riskKey: string;
  before: MatrixRating | null;
  after: MatrixRating;
  version: number;
  /** Why the register kept its rating (the residual would exceed the inherent rating). */
  problem?: string;
}

export function createRiskAssessmentActivities(deps: { db: Database; clock?: () => Date }) {
  const { db, clock = () => new Date() } = deps;

  return {
    /** The Schedule's launcher: opens the period's assessment (this period's when none is named), once. */
    async openScheduledRiskAssessment(input: { period?: string }): Promise<AssessmentOpening> {
      const context = Context.current();
      const policy = await currentPolicy(db);
      const now = clock();
      const period = input.period ?? periodOf(now, policy.values.riskRegister.assessmentPeriodMonths);
      return whileHeartbeating(
        openRiskAssessment(
          { db, temporal: context.client, taskQueue: context.info.taskQueue },
          { period, initiatorId: 'system', policy },
          now,
        ),
      );
    },

    async applyRiskAssessmentRatings(input: {
      caseId: string;
      period: string;
      actorId: string;
      ratings: AssessmentRating[];
      newRisks: AssessmentNewRisk[];
    }): Promise<AppliedRating[]> {
      const applied: AppliedRating[] = [];
      const base = activityKey();
      for (const rating of input.ratings) {
        const [row] = await db.select().from(risks).where(eq(risks.key, rating.riskKey));
        if (!row) continue;
        const before = riskValuesOf(row);
        const after: RiskValues = { ...before, cause: rating.causes, residual: rating.residual };
        const problem = ratingProblem(after.inherent, after.residual);
        const changed = problem ? [] : changedFields(before, after);
        if (changed.length === 0) {
          applied.push({
            riskKey: rating.riskKey,
            before: before.residual,
            after: before.residual,
            version: row.version,
            ...(problem ? { problem } : {}),
          });
          continue;
        }
        const reason = `risk assessment ${input.period} (${rating.evaluation}): ${rating.analysis}`;
        // A change made meanwhile throws (nothing written): the activity retries on the fresh row.
        const written = await changeRisk(db, {
          row,
          after,
          changed,
          actorId: input.actorId,
          reason,
          idempotencyKey: `${base}/${rating.riskKey}`,
          caseId: input.caseId,
          payload: { assessment: input.period, evaluation: rating.evaluation },
          now: clock(),
        });
        const version = written.version;
        if (written.applied && residualChanged(before, after)) {
          await tellAcceptances(db, Context.current().client, rating.riskKey, {
            version,
            from: before.residual,
            to: after.residual,
            actorId: input.actorId,
            reason,
          });
        }
        applied.push({ riskKey: rating.riskKey, before: before.residual, after: after.residual, version });
      }
      for (const raised of input.newRisks) {
        const { riskKey, evaluation, ...rest } = raised;
        const values: RiskValues = { ...rest, ownerId: input.actorId };
        await createRisk(db, {
          riskKey,
          values,
          actorId: input.actorId,
          reason: `raised in risk assessment ${input.period} (${evaluation})`,
          idempotencyKey: `risk:${riskKey}:v1`,
          caseId: input.caseId,
          payload: { assessment: input.period },
          now: clock(),
        });
        applied.push({ riskKey, before: null, after: values.residual, version: 1 });
      }
      return applied;
    },

    /**
     * The previous period's assessment and its ratings: a risk whose residual
     * rating rose since then is treated (workflows/riskAssessment.ts).
     */
    async previousAssessmentRatings(input: {
      caseId: string;
      period: string;
      months: number;
    }): Promise<PreviousAssessment | null> {
      return previousAssessment(db, input);
    },

    /** A register link between a risk and the assessment that opened its rectification. */
    async linkRiskToAssessment(input: { caseId: string; riskKey: string; linkedBy: string; itemId: string }) {
      const now = clock();
      await withAuditedWrite(
        db,
        {
          idempotencyKey: `risk:${input.riskKey}:link:${input.caseId}`,
          actorId: input.linkedBy,
          action: 'risk.linked',
          caseId: input.caseId,
          occurredAt: now,
          payload: { riskKey: input.riskKey, caseId: input.caseId, process: 'risk_assessment', itemId: input.itemId },
        },
        (tx) =>
          tx
            .insert(riskLinks)
            .values({ riskKey: input.riskKey, caseId: input.caseId, linkedBy: input.linkedBy, linkedAt: now })
            .onConflictDoNothing(),
      );
    },
  };
}
