/**
 * The annual audit plan's Schedule (审计计划, issue 12 §4): each 1 December
 * its launcher opens the coming year's plan when internal audit has not
 * recorded one, holding the data-security compliance checks the e-commerce
 * manual §2.1 requires at least once a year, so that check can never be left
 * out of a year. A year already planned is left as it is: internal audit adds
 * the year's other audits to the plan the Schedule opened (POST
 * /api/audit-plans/{year}/audits). Written with its audit event in one
 * transaction, keyed on the year as the API's plan is: the Schedule and
 * internal audit never both create a year's plan.
 */
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { eq, inArray } from 'drizzle-orm';
import { withAuditedWrite } from '../db/audit';
import type { Database } from '../db/client';
import { auditPlanEntries } from '../db/schema';
import { AUDIT_PLAN_OPENS, scheduledAuditPlan, type ScheduledPlanAudit } from '../domain/audits';
import { createScheduleOnce } from '../platform/cases';
import { currentPolicy } from '../platform/policy';

export const AUDIT_PLAN_SCHEDULE = 'audit-plan-annual';

/** The Schedule that opens each coming year's audit plan; one that exists is kept. */
export async function ensureAuditPlanSchedule(temporal: Client, taskQueue: string): Promise<void> {
  await createScheduleOnce(temporal, {
    scheduleId: AUDIT_PLAN_SCHEDULE,
    spec: { calendars: [{ ...AUDIT_PLAN_OPENS }] },
    action: {
      type: 'startWorkflow',
      workflowType: 'auditPlanLauncherWorkflow',
      args: [],
      taskQueue,
      workflowId: 'audit-plan-launcher-run',
    },
    policies: { overlap: 'SKIP', catchupWindow: '7 days' },
    state: {
      note: 'opens the coming year’s audit plan with its data-security compliance check (e-commerce §2.1: at least once a year)',
    },
  });
}

export type AuditPlanOpening =
  | { opened: true; year: number; audits: ScheduledPlanAudit[] }
  | { opened: false; year: number; reason: 'already_planned'; audits: number };

export function createAuditPlanActivities(deps: { db: Database; clock?: () => Date }) {
  const { db, clock = () => new Date() } = deps;
  return {
    /** The Schedule, on the calling worker's task queue; kept when it exists. */
    async ensureAuditPlanSchedule(): Promise<void> {
      const context = Context.current();
      await ensureAuditPlanSchedule(context.client, context.info.taskQueue);
    },

    /**
     * The Schedule's launcher: the plan of `year`, or of the coming year (it
     * runs in December), unless one is recorded already.
     */
    async openScheduledAuditPlan(input: { year?: number }): Promise<AuditPlanOpening> {
      const now = clock();
      const year = input.year ?? now.getUTCFullYear() + 1;
      const planned = await db
        .select({ auditKey: auditPlanEntries.auditKey })
        .from(auditPlanEntries)
        .where(eq(auditPlanEntries.year, year));
      if (planned.length) return { opened: false, year, reason: 'already_planned', audits: planned.length };
      const { values: policy } = await currentPolicy(db);
      const audits = await withFreeKeys(db, scheduledAuditPlan(year, policy.audit.dataSecurityCheckMonths));
      const written = await withAuditedWrite(
        db,
        {
          // The API's key for a year's plan: whichever writes first, the other writes nothing.
          idempotencyKey: `audit-plan:${year}`,
          actorId: 'system',
          action: 'audit_plan.created',
          reason: `opened by the annual audit plan Schedule: the data-security compliance check every ${policy.audit.dataSecurityCheckMonths} month(s) (policy audit.dataSecurityCheckMonths; e-commerce manual §2.1: at least once a year)`,
          occurredAt: now,
          payload: { year, audits, openedBy: AUDIT_PLAN_SCHEDULE },
        },
        async (tx) => {
          const rows = await tx
            .insert(auditPlanEntries)
            .values(audits.map((a) => ({ year, ...a, createdBy: 'system', createdAt: now })))
            .onConflictDoNothing()
            .returning({ auditKey: auditPlanEntries.auditKey });
          // Planned meanwhile (this year by internal audit, or a key in another year): nothing is
          // written, so the event never names a plan the table does not hold; the retry sees why.
          if (rows.length !== audits.length) throw new Error(`the audit plan for ${year} changed while it was opened`);
        },
      );
      if (!written.applied) {
        const count = await db
          .select({ auditKey: auditPlanEntries.auditKey })
          .from(auditPlanEntries)
          .where(eq(auditPlanEntries.year, year));
        return { opened: false, year, reason: 'already_planned', audits: count.length };
      }
      return { opened: true, year, audits };
    },
  };
}

/**
 * The Schedule's audits under keys no other year's plan holds (an audit key
 * is planned once, in one year): a key internal audit already used elsewhere
 * gets a suffix (DS-2027 → DS-2027-S, DS-2027-S2…) instead of leaving the
 * year without its data-security check.
 */
async function withFreeKeys(db: Database, audits: ScheduledPlanAudit[]): Promise<ScheduledPlanAudit[]> {
  const plannedKeys = async (keys: string[]) =>
    new Set(
      (
        await db
          .select({ auditKey: auditPlanEntries.auditKey })
          .from(auditPlanEntries)
          .where(inArray(auditPlanEntries.auditKey, keys))
      ).map((r) => r.auditKey),
    );
  const taken = await plannedKeys(audits.map((a) => a.auditKey));
  if (!taken.size) return audits;
  const chosen = new Set(audits.map((a) => a.auditKey));
  const suffixed = (key: string, n: number) => `${key}-S${n === 1 ? '' : n}`;
  const free: ScheduledPlanAudit[] = [];
  for (const audit of audits) {
    let key = taken.has(audit.auditKey) ? undefined : audit.auditKey;
    for (let batch = 0; !key; batch++) {
      const candidates = Array.from({ length: 10 }, (_, i) => suffixed(audit.auditKey, batch * 10 + i + 1));
      const used = await plannedKeys(candidates);
      key = candidates.find((k) => !used.has(k) && !chosen.has(k));
    }
    chosen.add(key);
    free.push({ ...audit, auditKey: key });
  }
  return free;
}
