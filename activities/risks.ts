/**
 * Risk acceptance I/O (workflows/riskAcceptance.ts): the acceptance row in
 * the register, written with its audit event in one transaction, keyed on
 * the calling activity so a retry writes nothing twice. And the links
 * between a major warning and its incident (workflows/riskWarning.ts): the
 * one it opened, or the one already open for the same alert or risk.
 */
import { and, desc, eq, inArray, or, sql } from 'drizzle-orm';
import { withAuditedWrite } from '../db/audit';
import type { Database } from '../db/client';
import { cases, riskAcceptances, riskLinks, risks } from '../db/schema';
import type { MatrixCutoffs, RiskLevel } from '../domain/risk';
import { ACCEPTANCE_REVIEW_WITHIN_DAYS, rate, type MatrixRating, type StaleReason } from '../domain/riskRegister';
import { activityKey } from './context';

export interface RiskAcceptanceRequested {
  caseId: string;
  riskKey: string;
  sequence: number;
  reason: string;
  requestedBy: string;
  expiresAt: string;
  residual: MatrixRating;
  residualLevel: RiskLevel;
}

/** An incident a major warning joins instead of opening its own, and why it is that one. */
export interface ExistingIncident {
  caseId: string;
  incidentId: string;
  status: string;
  grade: string | null;
  /** 'alert': the incident of the same alert key; 'risk': an open incident of the warning's risk. */
  matchedBy: 'alert' | 'risk';
}

export type AcceptanceApproval =
  { recorded: true; residual: MatrixRating; residualLevel: RiskLevel } | { recorded: false; problem: string };

export function createRiskActivities(deps: { db: Database; clock?: () => Date }) {
  const { db, clock = () => new Date() } = deps;
  return {
    /**
     * The incident a major (重大) warning opened, linked back to it: the
     * warning becomes the incident's parent case (so the warning's case lists
     * the incident among its linked cases, and the incident names the warning
     * it came from), and the incident's data names it too, under a key its
     * own process never writes.
     */
    async linkIncidentToWarning(input: { incidentCaseId: string; warningCaseId: string }): Promise<void> {
      const now = clock();
      await withAuditedWrite(
        db,
        {
          idempotencyKey: activityKey(),
          actorId: 'system',
          action: 'incident.linked_warning',
          caseId: input.incidentCaseId,
          reason: `opened by the major risk warning ${input.warningCaseId}`,
          occurredAt: now,
          payload: { warningCaseId: input.warningCaseId, parentCaseId: input.warningCaseId },
        },
        (tx) =>
          tx
            .update(cases)
            .set({
              parentCaseId: input.warningCaseId,
              data: sql`${cases.data} || ${JSON.stringify({ sourceWarningCaseId: input.warningCaseId })}::jsonb`,
              updatedAt: now,
            })
            .where(eq(cases.id, input.incidentCaseId)),
      );
    },

    /**
     * The incident a major warning must join rather than open a second one:
     * the incident of its alert key (WARN-<alertKey>: another indicator's
     * warning with the same alert key opened it), else the latest open
     * incident of the warning's risk, linked to it in the register or opened
     * by another warning on that risk. Null when there is none.
     */
    async findIncidentForWarning(input: {
      incidentCaseId: string;
      riskKey: string | null;
    }): Promise<ExistingIncident | null> {
      const shape = (row: typeof cases.$inferSelect, matchedBy: ExistingIncident['matchedBy']): ExistingIncident => ({
        caseId: row.id,
        incidentId: row.businessKey,
        status: row.status,
        grade: typeof row.data.grade === 'string' ? row.data.grade : null,
        matchedBy,
      });
      const [sameAlert] = await db.select().from(cases).where(eq(cases.id, input.incidentCaseId));
      if (sameAlert) return shape(sameAlert, 'alert');
      if (!input.riskKey) return null;
      const linkedToRisk = db
        .select({ caseId: riskLinks.caseId })
        .from(riskLinks)
        .where(eq(riskLinks.riskKey, input.riskKey));
      const warningsOfRisk = db
        .select({ id: cases.id })
        .from(cases)
        .where(and(eq(cases.process, 'risk_warning'), sql`${cases.data}->>'riskKey' = ${input.riskKey}`));
      const [sameRisk] = await db
        .select()
        .from(cases)
        .where(
          and(
            eq(cases.process, 'incident'),
            eq(cases.status, 'open'),
            or(inArray(cases.id, linkedToRisk), inArray(cases.parentCaseId, warningsOfRisk)),
          ),
        )
        .orderBy(desc(cases.createdAt), desc(cases.id))
        .limit(1);
      return sameRisk ? shape(sameRisk, 'risk') : null;
    },

    /**
     * A major warning joins an incident that was there before it: the
     * incident becomes the warning's parent case (each case's detail shows
     * the other), and the incident's data lists the warnings that joined it,
     * under a key its own process never writes. Its audit row is on the
     * incident; the warning records the link in its own data.
     */
    async linkWarningToIncident(input: {
      warningCaseId: string;
      incidentCaseId: string;
      matchedBy: ExistingIncident['matchedBy'];
    }): Promise<void> {
      const now = clock();
      await withAuditedWrite(
        db,
        {
          idempotencyKey: activityKey(),
          actorId: 'system',
          action: 'incident.joined_by_warning',
          caseId: input.incidentCaseId,
          reason: `the major risk warning ${input.warningCaseId} joined this incident (same ${input.matchedBy}) instead of opening another`,
          occurredAt: now,
          payload: { warningCaseId: input.warningCaseId, matchedBy: input.matchedBy },
        },
        async (tx) => {
          await tx
            .update(cases)
            .set({ parentCaseId: input.incidentCaseId, updatedAt: now })
            .where(eq(cases.id, input.warningCaseId));
          await tx
            .update(cases)
            .set({
              data: sql`${cases.data} || jsonb_build_object('joinedWarningCaseIds', coalesce(${cases.data}->'joinedWarningCaseIds', '[]'::jsonb) || ${JSON.stringify([input.warningCaseId])}::jsonb)`,
              updatedAt: now,
            })
            .where(eq(cases.id, input.incidentCaseId));
        },
      );
    },

    /** Whether a case is still open, from the read model (null: no such case). */
    async caseStatus(input: { caseId: string }): Promise<{ status: string; outcome: string | null } | null> {
      const [row] = await db
        .select({ status: cases.status, outcome: cases.outcome })
        .from(cases)
        .where(eq(cases.id, input.caseId));
      return row ?? null;
    },

    async recordRiskAcceptanceRequested(input: RiskAcceptanceRequested): Promise<void> {
      const now = clock();
      await withAuditedWrite(
        db,
        {
          idempotencyKey: activityKey(),
          actorId: input.requestedBy,
          action: 'risk.acceptance_requested',
          caseId: input.caseId,
          reason: input.reason,
          occurredAt: now,
          payload: { riskKey: input.riskKey, expiresAt: input.expiresAt, residual: input.residual },
        },
        (tx) =>
          tx
            .insert(riskAcceptances)
            .values({
              caseId: input.caseId,
              riskKey: input.riskKey,
              sequence: input.sequence,
              status: 'requested',
              reason: input.reason,
              requestedBy: input.requestedBy,
              requestedAt: now,
              expiresAt: new Date(input.expiresAt),
              residualProbability: input.residual.probability,
              residualImpact: input.residual.impact,
              residualLevel: input.residualLevel,
            })
            .onConflictDoNothing(),
      );
    },

    /**
     * Approved: in force with the residual rating of this moment. If the
     * rating moved while the approvers decided, they approved another risk
     * than the one now in the register: nothing is accepted.
     */
    async recordRiskAcceptanceApproved(input: {
      caseId: string;
      riskKey: string;
      requestedResidual: MatrixRating;
      approvedBy: string[];
      cutoffs: MatrixCutoffs;
    }): Promise<AcceptanceApproval> {
      const now = clock();
      const [risk] = await db
        .select({ p: risks.residualProbability, i: risks.residualImpact })
        .from(risks)
        .where(eq(risks.key, input.riskKey));
      if (!risk) return { recorded: false, problem: `no risk ${input.riskKey}` };
      const current = { probability: risk.p, impact: risk.i };
      if (
        current.probability !== input.requestedResidual.probability ||
        current.impact !== input.requestedResidual.impact
      ) {
        const problem = `the residual rating changed while awaiting approval (${input.requestedResidual.probability}×${input.requestedResidual.impact} → ${current.probability}×${current.impact}); ask again`;
        await withAuditedWrite(
          db,
          {
            idempotencyKey: activityKey(),
            actorId: 'system',
            action: 'risk.acceptance_cancelled',
            caseId: input.caseId,
            reason: problem,
            occurredAt: now,
            payload: { riskKey: input.riskKey, requested: input.requestedResidual, current },
          },
          (tx) =>
            tx.update(riskAcceptances).set({ status: 'cancelled' }).where(eq(riskAcceptances.caseId, input.caseId)),
        );
        return { recorded: false, problem };
      }
      const residualLevel = rate(current, input.cutoffs).level;
      await withAuditedWrite(
        db,
        {
          idempotencyKey: activityKey(),
          actorId: 'system',
          action: 'risk.acceptance_approved',
          caseId: input.caseId,
          occurredAt: now,
          payload: { riskKey: input.riskKey, residual: current, residualLevel, approvedBy: input.approvedBy },
        },
        (tx) =>
          tx
            .update(riskAcceptances)
            .set({
              status: 'active',
              approvedBy: input.approvedBy,
              approvedAt: now,
              residualProbability: current.probability,
              residualImpact: current.impact,
              residualLevel,
            })
            .where(eq(riskAcceptances.caseId, input.caseId)),
      );
      return { recorded: true, residual: current, residualLevel };
    },

    /** Not approved: rejected, or nobody decided in time (lapsed). */
    async recordRiskAcceptanceEnded(input: {
      caseId: string;
      riskKey: string;
      status: 'rejected' | 'lapsed';
      reason: string;
    }): Promise<void> {
      await withAuditedWrite(
        db,
        {
          idempotencyKey: activityKey(),
          actorId: 'system',
          action: `risk.acceptance_${input.status}`,
          caseId: input.caseId,
          reason: input.reason,
          occurredAt: clock(),
          payload: { riskKey: input.riskKey },
        },
        (tx) =>
          tx.update(riskAcceptances).set({ status: input.status }).where(eq(riskAcceptances.caseId, input.caseId)),
      );
    },

    /** Stale: the rating changed or the acceptance expired; the register shows it due for review. */
    async markRiskAcceptanceStale(input: {
      caseId: string;
      riskKey: string;
      staleReason: StaleReason;
      reason: string;
      actorId: string;
    }): Promise<{ reviewDue: string }> {
      const now = clock();
      const reviewDue = new Date(now.getTime() + ACCEPTANCE_REVIEW_WITHIN_DAYS * 86_400_000);
      await withAuditedWrite(
        db,
        {
          idempotencyKey: activityKey(),
          actorId: input.actorId,
          action: 'risk.acceptance_stale',
          caseId: input.caseId,
          reason: input.reason,
          occurredAt: now,
          payload: { riskKey: input.riskKey, staleReason: input.staleReason, reviewDue: reviewDue.toISOString() },
        },
        (tx) =>
          tx
            .update(riskAcceptances)
            .set({ status: 'stale', staleReason: input.staleReason, staleAt: now, reviewDue })
            .where(eq(riskAcceptances.caseId, input.caseId)),
      );
      return { reviewDue: reviewDue.toISOString() };
    },
  };
}
