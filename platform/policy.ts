/**
 * The policy in force, read from the database: the latest approved version,
 * or version 1 (the defaults, domain/policy.ts) when none has been approved.
 * The API reads it when a case starts and passes it into the workflow, so a
 * case keeps the policy it started under; activities write new versions.
 */
import { desc, eq, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { policyVersions } from '../db/schema';
import {
  DEFAULT_POLICY,
  DEFAULT_POLICY_SNAPSHOT,
  mergePolicy,
  policyValuesSchema,
  type PolicySnapshot,
  type PolicyValues,
} from '../domain/policy';

/**
 * A stored version's values. A parameter added after the version was
 * published reads as its default (version 1's value), so adding a parameter
 * needs no data migration; the version's own values always win.
 */
export function storedValues(values: Record<string, unknown>): PolicyValues {
  return policyValuesSchema().parse(mergePolicy(DEFAULT_POLICY, values));
}

export async function currentPolicy(db: Database): Promise<PolicySnapshot> {
  const [row] = await db
    .select({ version: policyVersions.version, values: policyVersions.values })
    .from(policyVersions)
    .orderBy(desc(policyVersions.version))
    .limit(1);
  if (!row) return DEFAULT_POLICY_SNAPSHOT;
  return { version: row.version, values: storedValues(row.values) };
}

export async function policyVersion(db: Database, version: number): Promise<PolicySnapshot | undefined> {
  if (version === DEFAULT_POLICY_SNAPSHOT.version) return DEFAULT_POLICY_SNAPSHOT;
  const [row] = await db.select().from(policyVersions).where(eq(policyVersions.version, version));
  return row ? { version: row.version, values: storedValues(row.values) } : undefined;
}

export async function listPolicyVersions(db: Database) {
  return db.select().from(policyVersions).orderBy(desc(policyVersions.version));
}

/**
 * Writes the next version, made by an approved change case. Idempotent by the
 * case: a retried activity finds its version already written and returns it.
 */
export async function writePolicyVersion(
  db: Database,
  input: {
    changeCaseId: string;
    values: PolicyValues;
    changed: string[];
    summary: string;
    requestedBy: string;
    approvedBy: string[];
  },
): Promise<number> {
  const write = async (tx: Database) => {
    await tx.execute(sql`lock table ${policyVersions} in exclusive mode`);
    const [existing] = await tx
      .select({ version: policyVersions.version })
      .from(policyVersions)
      .where(eq(policyVersions.changeCaseId, input.changeCaseId));
    if (existing) return existing.version;
    const [latest] = await tx
      .select({ version: policyVersions.version })
      .from(policyVersions)
      .orderBy(desc(policyVersions.version))
      .limit(1);
    const version = (latest?.version ?? DEFAULT_POLICY_SNAPSHOT.version) + 1;
    await tx.insert(policyVersions).values({ version, ...input, effectiveAt: new Date() });
    return version;
  };
  // Inside a caller's transaction (an audited write) or in its own.
  return 'rollback' in db ? write(db) : db.transaction((tx) => write(tx as unknown as Database));
}
