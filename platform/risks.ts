/**
 * Writing the risk register (风险清单), one way for everyone who writes it:
 * the API (POST and PATCH /api/risks) and the periodic assessment's activity.
 * Each write is the risks row, a new version in risk_versions and its audit
 * event, in one transaction; a change of the residual rating is then told to
 * the acceptance in force, which turns stale (workflows/riskAcceptance.ts).
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { and, eq } from 'drizzle-orm';
import { residualChangedUpdate, type ResidualChange } from '../contracts/riskAcceptance';
import { withAuditedWrite } from '../db/audit';
import type { Database } from '../db/client';
import { riskAcceptances, risks, riskVersions, type RiskRow } from '../db/schema';
import type { RiskCategory, RiskValues } from '../domain/riskRegister';
import { idempotentUpdateId } from './idempotentCalls';

/** The register row's values as the rules read them. */
export function riskValuesOf(row: RiskRow): RiskValues {
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

/** The columns a risk's values fill. */
export function riskRowOf(values: RiskValues) {
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

/** The risk was changed by someone else since it was read: read it again. */
export class RiskChangedMeanwhile extends Error {
  constructor(readonly riskKey: string) {
    super(`risk ${riskKey} changed meanwhile; read it again`);
    this.name = 'RiskChangedMeanwhile';
  }
}

interface WriteContext {
  actorId: string;
  reason: string;
  idempotencyKey: string;
  /** The case the write belongs to (an assessment), for its timeline. */
  caseId?: string;
  /** Further audit payload (the assessment and its evaluation…). */
  payload?: Record<string, unknown>;
  now: Date;
}

/** Raises a risk: version 1. `applied` is false when the idempotency key was seen (a retry, or the key is taken). */
export async function createRisk(
  db: Database,
  input: WriteContext & { riskKey: string; values: RiskValues },
): Promise<{ applied: boolean }> {
  const { riskKey, values, actorId, reason, now } = input;
  const { applied } = await withAuditedWrite(
    db,
    {
      idempotencyKey: input.idempotencyKey,
      actorId,
      action: 'risk.created',
      ...(input.caseId ? { caseId: input.caseId } : {}),
      reason,
      occurredAt: now,
      payload: { riskKey, version: 1, values, ...input.payload },
    },
    async (tx) => {
      await tx
        .insert(risks)
        .values({ key: riskKey, ...riskRowOf(values), version: 1, createdBy: actorId, createdAt: now, updatedAt: now });
      await tx.insert(riskVersions).values({
        riskKey,
        version: 1,
        values: values as unknown as Record<string, unknown>,
        changed: [...Object.keys(values)],
        actorId,
        reason,
        validFrom: now,
      });
    },
  );
  return { applied };
}

/**
 * Writes the next version of a risk read as `row`. Throws RiskChangedMeanwhile
 * (nothing written) when the register moved on since; `applied` is false
 * when the idempotency key was seen.
 */
export async function changeRisk(
  db: Database,
  input: WriteContext & { row: RiskRow; after: RiskValues; changed: Array<keyof RiskValues> },
): Promise<{ applied: boolean; version: number }> {
  const { row, after, changed, actorId, reason, now } = input;
  const before = riskValuesOf(row);
  const version = row.version + 1;
  const { applied } = await withAuditedWrite(
    db,
    {
      idempotencyKey: input.idempotencyKey,
      actorId,
      action: 'risk.updated',
      ...(input.caseId ? { caseId: input.caseId } : {}),
      reason,
      occurredAt: now,
      payload: {
        riskKey: row.key,
        version,
        changed,
        from: Object.fromEntries(changed.map((f) => [f, before[f]])),
        to: Object.fromEntries(changed.map((f) => [f, after[f]])),
        ...input.payload,
      },
    },
    async (tx) => {
      const updated = await tx
        .update(risks)
        .set({ ...riskRowOf(after), version, updatedAt: now })
        .where(and(eq(risks.key, row.key), eq(risks.version, row.version)))
        .returning({ key: risks.key });
      if (updated.length === 0) throw new RiskChangedMeanwhile(row.key);
      await tx.insert(riskVersions).values({
        riskKey: row.key,
        version,
        values: after as unknown as Record<string, unknown>,
        changed,
        actorId,
        reason,
        validFrom: now,
      });
    },
  );
  return { applied, version };
}

/** Tells the acceptance in force of a risk that its residual rating changed: it turns stale before this returns. */
export async function tellAcceptances(
  db: Database,
  temporal: Client,
  riskKey: string,
  change: ResidualChange,
): Promise<void> {
  const inForce = await db
    .select({ caseId: riskAcceptances.caseId })
    .from(riskAcceptances)
    .where(and(eq(riskAcceptances.riskKey, riskKey), eq(riskAcceptances.status, 'active')));
  for (const { caseId } of inForce) {
    try {
      await temporal.workflow.getHandle(caseId).executeUpdate(residualChangedUpdate, {
        args: [change],
        updateId: idempotentUpdateId(caseId, residualChangedUpdate.name),
      });
    } catch (err) {
      // Already stale or closed (its expiry came first): nothing left to tell it.
      if (!(err instanceof WorkflowUpdateFailedError || err instanceof WorkflowNotFoundError)) throw err;
    }
  }
}
