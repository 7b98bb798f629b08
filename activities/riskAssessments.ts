/**
 * Risk assessment I/O (workflows/riskAssessment.ts): an owner's re-ratings
 * and new risks written to the register the way PATCH and POST /api/risks
 * write them (a new version in risk_versions, the risks row, one audit event
 * risk.updated / risk.created each, in one transaction), and an acceptance in
 * force told when a residual rating changed, so it turns stale as it does on
 * an edit. Keyed on the calling activity: a retry writes nothing twice.
 */
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { and, eq } from 'drizzle-orm';
import { residualChangedUpdate, type ResidualChange } from '../contracts/riskAcceptance';
import { periodOf } from '../contracts/riskAssessment';
import { withAuditedWrite } from '../db/audit';
import type { Database } from '../db/client';
import { riskAcceptances, riskLinks, risks, riskVersions, type RiskRow } from '../db/schema';
import {
  changedFields,
  ratingProblem,
  residualChanged,
  type MatrixRating,
  type RiskCategory,
  type RiskValues,
} from '../domain/riskRegister';
import { currentPolicy } from '../platform/policy';
import { openRiskAssessment, type AssessmentOpening } from '../platform/riskAssessments';
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

function valuesOf(row: RiskRow): RiskValues {
  return {
    title: row.title,
    category: row.category as RiskCategory,
    description: row.description,
    cause: row.cause,
    consequence: row.consequence,
    ownerId: row.ownerId,
    lineOfDefence: row.lineOfDefence as RiskValues['lineOfDefence'],
    inherent: { probability: row.inherentProbability, impact: row.inherentImpact },
    residual: { probability: row.residualProbability, impact: row.residualImpact },
  };
}

function rowOf(values: RiskValues) {
  return {
    title: values.title,
    category: values.category,
    description: values.description,
    cause: values.cause,
    consequence: values.consequence,
    ownerId: values.ownerId,
    lineOfDefence: values.lineOfDefence,
    inherentProbability: values.inherent.probability,
    inherentImpact: values.inherent.impact,
    residualProbability: values.residual.probability,
    residualImpact: values.residual.impact,
  };
}

export function createRiskAssessmentActivities(deps: { db: Database; clock?: () => Date }) {
  const { db, clock = () => new Date() } = deps;

  /** As PATCH /api/risks/{key} does: an acceptance in force turns stale when the residual changed. */
  async function tellAcceptances(riskKey: string, change: ResidualChange): Promise<void> {
    const inForce = await db
      .select({ caseId: riskAcceptances.caseId })
      .from(riskAcceptances)
      .where(and(eq(riskAcceptances.riskKey, riskKey), eq(riskAcceptances.status, 'active')));
    for (const { caseId } of inForce) {
      try {
        await Context.current()
          .client.workflow.getHandle(caseId)
          .executeUpdate(residualChangedUpdate, {
            args: [change],
          });
      } catch (err) {
        if (!(err instanceof WorkflowUpdateFailedError || err instanceof WorkflowNotFoundError)) throw err;
      }
    }
  }

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
        const before = valuesOf(row);
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
        const version = row.version + 1;
        const now = clock();
        const reason = `risk assessment ${input.period} (${rating.evaluation}): ${rating.analysis}`;
        const written = await withAuditedWrite(
          db,
          {
            idempotencyKey: `${base}/${rating.riskKey}`,
            actorId: input.actorId,
            action: 'risk.updated',
            caseId: input.caseId,
            reason,
            occurredAt: now,
            payload: {
              riskKey: rating.riskKey,
              version,
              changed,
              from: Object.fromEntries(changed.map((f) => [f, before[f]])),
              to: Object.fromEntries(changed.map((f) => [f, after[f]])),
              assessment: input.period,
              evaluation: rating.evaluation,
            },
          },
          async (tx) => {
            await tx
              .update(risks)
              .set({ ...rowOf(after), version, updatedAt: now })
              .where(and(eq(risks.key, rating.riskKey), eq(risks.version, row.version)));
            await tx.insert(riskVersions).values({
              riskKey: rating.riskKey,
              version,
              values: after as unknown as Record<string, unknown>,
              changed,
              actorId: input.actorId,
              reason,
              validFrom: now,
            });
          },
        );
        applied.push({ riskKey: rating.riskKey, before: before.residual, after: after.residual, version });
        if (written.applied && residualChanged(before, after)) {
          await tellAcceptances(rating.riskKey, {
            version,
            from: before.residual,
            to: after.residual,
            actorId: input.actorId,
            reason,
          });
        }
      }
      for (const raised of input.newRisks) {
        const { riskKey, evaluation, ...rest } = raised;
        const values: RiskValues = { ...rest, ownerId: input.actorId };
        const now = clock();
        const reason = `raised in risk assessment ${input.period} (${evaluation})`;
        await withAuditedWrite(
          db,
          {
            idempotencyKey: `risk:${riskKey}:v1`,
            actorId: input.actorId,
            action: 'risk.created',
            caseId: input.caseId,
            reason,
            occurredAt: now,
            payload: { riskKey, version: 1, values, assessment: input.period },
          },
          async (tx) => {
            await tx.insert(risks).values({
              key: riskKey,
              ...rowOf(values),
              version: 1,
              createdBy: input.actorId,
              createdAt: now,
              updatedAt: now,
            });
            await tx.insert(riskVersions).values({
              riskKey,
              version: 1,
              values: values as unknown as Record<string, unknown>,
              changed: [...Object.keys(values)],
              actorId: input.actorId,
              reason,
              validFrom: now,
            });
          },
        );
        applied.push({ riskKey, before: null, after: values.residual, version: 1 });
      }
      return applied;
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
