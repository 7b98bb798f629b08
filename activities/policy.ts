/**
 * The policy for workflows: cases started without the API (by a Schedule)
 * read the version in force here, and an approved policy change writes the
 * next version (audited).
 */
import { withAuditedWrite } from '../db/audit';
import type { Database } from '../db/client';
import type { PolicySnapshot, PolicyValues } from '../domain/policy';
import { currentPolicy, writePolicyVersion } from '../platform/policy';
import { activityKey } from './context';

export function createPolicyActivities(deps: { db: Database; clock?: () => Date }) {
  const { db, clock = () => new Date() } = deps;
  return {
    async currentPolicy(): Promise<PolicySnapshot> {
      return currentPolicy(db);
    },

    async publishPolicyVersion(input: {
      changeCaseId: string;
      values: PolicyValues;
      changed: string[];
      summary: string;
      requestedBy: string;
      approvedBy: string[];
    }): Promise<number> {
      const { result } = await withAuditedWrite(
        db,
        {
          idempotencyKey: activityKey(),
          actorId: 'system',
          action: 'policy.version_published',
          caseId: input.changeCaseId,
          occurredAt: clock(),
          reason: input.summary,
          payload: { changed: input.changed, approvedBy: input.approvedBy, requestedBy: input.requestedBy },
        },
        (tx) => writePolicyVersion(tx as unknown as Database, input),
      );
      // A retry whose audit event was already written finds the version by its case.
      return result ?? writePolicyVersion(db, input);
    },
  };
}
