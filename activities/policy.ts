/**
 * The policy for workflows: cases started without the API (by a Schedule)
 * read the version in force here, and an approved policy change publishes
 * the next version, audited.
 */
import { withAuditedWrite } from '../db/audit';
import type { Database } from '../db/client';
import { applyPolicyChange, type PolicySnapshot } from '../domain/policy';
import { currentPolicy, writePolicyVersion } from '../platform/policy';
import { activityKey } from './context';

export type PublishResult = { ok: true; version: number; changed: string[] } | { ok: false; problem: string };

export function createPolicyActivities(deps: { db: Database; clock?: () => Date }) {
  const { db, clock = () => new Date() } = deps;
  return {
    async currentPolicy(): Promise<PolicySnapshot> {
      return currentPolicy(db);
    },

    /**
     * Applies an approved change to the version in force now and writes the
     * next version. Idempotent by the change's case: a retry returns the
     * version already written.
     */
    async publishPolicyVersion(input: {
      changeCaseId: string;
      change: Record<string, unknown>;
      summary: string;
      requestedBy: string;
      approvedBy: string[];
    }): Promise<PublishResult> {
      const current = await currentPolicy(db);
      const applied = applyPolicyChange(current.values, input.change);
      if (!applied.ok) return applied;
      const { result } = await withAuditedWrite(
        db,
        {
          idempotencyKey: activityKey(),
          actorId: 'system',
          action: 'policy.version_published',
          caseId: input.changeCaseId,
          occurredAt: clock(),
          reason: input.summary,
          payload: {
            basedOnVersion: current.version,
            changed: applied.changed,
            approvedBy: input.approvedBy,
            requestedBy: input.requestedBy,
          },
        },
        (tx) =>
          writePolicyVersion(tx as unknown as Database, {
            changeCaseId: input.changeCaseId,
            values: applied.values,
            changed: applied.changed,
            summary: input.summary,
            requestedBy: input.requestedBy,
            approvedBy: input.approvedBy,
          }),
      );
      // A retry whose audit event was already written finds the version by its case.
      const version =
        result ??
        (await writePolicyVersion(db, {
          changeCaseId: input.changeCaseId,
          values: applied.values,
          changed: applied.changed,
          summary: input.summary,
          requestedBy: input.requestedBy,
          approvedBy: input.approvedBy,
        }));
      return { ok: true, version, changed: applied.changed };
    },
  };
}
