/**
 * All I/O of the governance workflows. Every activity writes one state change
 * to the read model together with its audit event, in one transaction, keyed
 * on workflow id + run id + activity id: a retried activity never writes twice.
 */
import { and, desc, eq, ne, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../db/client';
import { withAuditedWrite } from '../db/audit';
import { cases, notifications, tasks, users } from '../db/schema';
import type { ApprovalVote } from '../domain/approval';
import type { CaseDataDelta } from '../domain/caseData';
import type { IncidentCategory } from '../domain/incidents';
import type { Role } from '../domain/roles';
import { activityKey, callingWorkflow } from './context';
import { createAuditAnchorActivities } from './auditAnchor';
import { createAuditPlanActivities } from './auditPlans';
import { createDelivery, notificationIdFor, type DeliveryDeps } from './delivery';
import { createDrillActivities } from './drills';
import { createPdcaActivities } from './pdca';
import { createPolicyActivities } from './policy';
import { createRiskActivities } from './risks';
import { createRiskAssessmentActivities } from './riskAssessments';
import { createRiskReportActivities } from './riskReports';
import { createSupplierActivities, type SupplierDeps } from './suppliers';

export interface ActivityDeps extends SupplierDeps, DeliveryDeps {
  db: Database;
  clock?: () => Date;
}

export interface OpenCaseInput {
  caseId: string;
  process: string;
  businessKey: string;
  title: string;
  description?: string;
  stage: string;
  riskLevel?: string;
  initiatorId: string;
  ownerId?: string;
  ownerRole?: Role;
  dueAt?: string;
  parentCaseId?: string;
  subjectType?: string;
  subjectId?: string;
  data?: Record<string, unknown>;
  /** The policy version the case runs under (domain/policy.ts); absent in cases started before policies existed. */
  policyVersion?: number;
}

export interface CasePatch {
  stage?: string;
  status?: 'open' | 'closed';
  outcome?: string;
  riskLevel?: string;
  dueAt?: string | null;
  /** What the step changed in the case data, merged into the row in SQL. */
  dataDelta?: CaseDataDelta;
}

export interface CaseChangeInput {
  caseId: string;
  actorId: string;
  action: string;
  reason?: string;
  patch: CasePatch;
  payload?: Record<string, unknown>;
}

export interface OpenTaskInput {
  taskId: string;
  caseId: string;
  /** approval: a decision; rectification: an item; step: any other human step a case waits for. */
  kind: 'approval' | 'rectification' | 'step';
  title: string;
  candidateRoles: Role[];
  assigneeId?: string;
  excludedUserIds?: string[];
  dueAt?: string;
  approvalsRequired?: number;
  allowedDecisions?: string[];
  actorId: string;
}

export interface TaskChangeInput {
  taskId: string;
  caseId: string;
  actorId: string;
  action: string;
  reason?: string;
  patch: {
    status?: string;
    votes?: ApprovalVote[];
    decision?: string;
    decidedBy?: string;
    decidedAt?: string;
    comment?: string;
    evidenceIds?: string[];
    remindedAt?: string;
    escalatedAt?: string;
    escalatedTo?: Role;
    dueAt?: string;
  };
  evidenceHashes?: string[];
  payload?: Record<string, unknown>;
}

export interface NotifyInput {
  caseId: string;
  taskId?: string;
  kind: 'reminder' | 'escalation' | 'expiry' | 'overdue';
  recipientRole?: Role;
  /** Several roles at once: one row each, one audit event. */
  recipientRoles?: Role[];
  recipientId?: string;
  message: string;
}

/** The system acts as this user in the audit log (timers, escalations). */
export const SYSTEM_ACTOR = 'system';

/** The read model applies a delta the way domain/caseData.ts describes it. */
export function mergeCaseData(delta: CaseDataDelta): SQL {
  let merged: SQL = sql`${cases.data}`;
  if (delta.set) merged = sql`(${merged} || ${JSON.stringify(delta.set)}::jsonb)`;
  for (const [key, items] of Object.entries(delta.append ?? {})) {
    merged = sql`jsonb_set(${merged}, array[${key}]::text[], coalesce(${merged} -> ${key}, '[]'::jsonb) || ${JSON.stringify(items)}::jsonb)`;
  }
  // One parameter per key: drizzle expands a JS array into a row of parameters, which is no text[].
  if (delta.unset?.length)
    merged = sql`(${merged} - array[${sql.join(
      delta.unset.map((key) => sql`${key}`),
      sql`, `,
    )}]::text[])`;
  return merged;
}

const toDate = (iso: string | null | undefined) => (iso ? new Date(iso) : iso === null ? null : undefined);

export function createActivities(deps: ActivityDeps) {
  const { db, clock = () => new Date() } = deps;
  const delivery = createDelivery(deps);
  return {
    ...delivery.activities,
    ...createSupplierActivities(deps),
    ...createDrillActivities(deps),
    ...createPolicyActivities(deps),
    ...createPdcaActivities(deps),
    ...createRiskActivities(deps),
    ...createRiskAssessmentActivities(deps),
    ...createRiskReportActivities(deps),
    ...createAuditPlanActivities(deps),
    ...createAuditAnchorActivities(deps),
    async openCase(input: OpenCaseInput): Promise<void> {
      const execution = callingWorkflow();
      const now = clock();
      await withAuditedWrite(
        db,
        {
          idempotencyKey: activityKey(),
          actorId: input.initiatorId,
          action: 'case.opened',
          caseId: input.caseId,
          occurredAt: now,
          payload: {
            process: input.process,
            title: input.title,
            stage: input.stage,
            riskLevel: input.riskLevel ?? null,
            ...(input.policyVersion ? { policyVersion: input.policyVersion } : {}),
          },
        },
        async (tx) => {
          const row = {
            id: input.caseId,
            process: input.process,
            businessKey: input.businessKey,
            title: input.title,
            description: input.description ?? null,
            stage: input.stage,
            status: 'open',
            riskLevel: input.riskLevel ?? null,
            initiatorId: input.initiatorId,
            ownerId: input.ownerId ?? null,
            ownerRole: input.ownerRole ?? null,
            dueAt: toDate(input.dueAt) ?? null,
            parentCaseId: input.parentCaseId ?? null,
            subjectType: input.subjectType ?? null,
            subjectId: input.subjectId ?? null,
            workflowId: execution.workflowId,
            runId: execution.runId,
            data: input.data ?? {},
            policyVersion: input.policyVersion ?? null,
            createdAt: now,
            updatedAt: now,
          };
          await tx
            .insert(cases)
            .values(row)
            .onConflictDoUpdate({ target: cases.id, set: { ...row, createdAt: undefined } });
        },
      );
    },

    async changeCase(input: CaseChangeInput): Promise<void> {
      const now = clock();
      await withAuditedWrite(
        db,
        {
          idempotencyKey: activityKey(),
          actorId: input.actorId,
          action: input.action,
          caseId: input.caseId,
          reason: input.reason,
          occurredAt: now,
          payload: { ...input.patch, ...input.payload },
        },
        async (tx) => {
          const { dueAt, dataDelta, ...rest } = input.patch;
          await tx
            .update(cases)
            .set({
              ...rest,
              ...(dataDelta ? { data: mergeCaseData(dataDelta) } : {}),
              ...(dueAt !== undefined ? { dueAt: toDate(dueAt) } : {}),
              updatedAt: now,
              ...(input.patch.status === 'closed' ? { closedAt: now } : {}),
            })
            .where(eq(cases.id, input.caseId));
        },
      );
    },

    async openTask(input: OpenTaskInput): Promise<void> {
      const execution = callingWorkflow();
      const now = clock();
      await withAuditedWrite(
        db,
        {
          idempotencyKey: activityKey(),
          actorId: input.actorId,
          action: `${input.kind}.opened`,
          caseId: input.caseId,
          taskId: input.taskId,
          occurredAt: now,
          payload: {
            title: input.title,
            candidateRoles: input.candidateRoles,
            assigneeId: input.assigneeId ?? null,
            dueAt: input.dueAt ?? null,
            approvalsRequired: input.approvalsRequired ?? 1,
          },
        },
        async (tx) => {
          await tx
            .insert(tasks)
            .values({
              id: input.taskId,
              caseId: input.caseId,
              workflowId: execution.workflowId,
              kind: input.kind,
              title: input.title,
              candidateRoles: input.candidateRoles,
              assigneeId: input.assigneeId ?? null,
              excludedUserIds: input.excludedUserIds ?? [],
              status: 'open',
              dueAt: toDate(input.dueAt) ?? null,
              approvalsRequired: input.approvalsRequired ?? 1,
              allowedDecisions: input.allowedDecisions ?? [],
              createdAt: now,
              updatedAt: now,
            })
            .onConflictDoNothing();
        },
      );
    },

    async changeTask(input: TaskChangeInput): Promise<void> {
      const now = clock();
      await withAuditedWrite(
        db,
        {
          idempotencyKey: activityKey(),
          actorId: input.actorId,
          action: input.action,
          caseId: input.caseId,
          taskId: input.taskId,
          reason: input.reason,
          occurredAt: now,
          evidenceHashes: input.evidenceHashes,
          payload: { ...input.patch, ...input.payload },
        },
        async (tx) => {
          const { decidedAt, remindedAt, escalatedAt, dueAt, ...rest } = input.patch;
          await tx
            .update(tasks)
            .set({
              ...rest,
              decidedAt: toDate(decidedAt),
              remindedAt: toDate(remindedAt),
              escalatedAt: toDate(escalatedAt),
              dueAt: toDate(dueAt),
              updatedAt: now,
            })
            .where(eq(tasks.id, input.taskId));
        },
      );
    },

    /** Earlier incidents of the same category on the same system: repeat detection reads these. */
    async findPriorIncidents(input: {
      category: string;
      system: string;
      occurredAt: string;
      excludeCaseId: string;
    }): Promise<Array<{ id: string; category: IncidentCategory; system: string; occurredAt: string }>> {
      const rows = await db
        .select({ id: cases.id, data: cases.data, subjectId: cases.subjectId })
        .from(cases)
        .where(
          and(
            eq(cases.process, 'incident'),
            eq(cases.subjectType, 'system'),
            sql`lower(${cases.subjectId}) = lower(${input.system.trim()})`,
            sql`${cases.data}->>'category' = ${input.category}`,
            ne(cases.id, input.excludeCaseId),
          ),
        )
        .orderBy(desc(cases.createdAt))
        .limit(200);
      return rows.map((r) => ({
        id: String(r.data.incidentId ?? r.id),
        category: r.data.category as IncidentCategory,
        system: r.subjectId ?? '',
        occurredAt: String(r.data.occurredAt),
      }));
    },

    /** The same customer's earlier complaints: repeat detection reads these. */
    async findPriorComplaints(input: {
      customerRef: string;
      excludeCaseId: string;
    }): Promise<Array<{ id: string; customerRef: string; subject: string; type: string | null; acceptedAt: string }>> {
      const rows = await db
        .select({ id: cases.id, data: cases.data })
        .from(cases)
        .where(
          and(
            eq(cases.process, 'complaint'),
            eq(cases.subjectType, 'customer'),
            eq(cases.subjectId, input.customerRef),
            ne(cases.id, input.excludeCaseId),
          ),
        )
        .orderBy(desc(cases.createdAt))
        .limit(200);
      return rows.map((r) => ({
        id: String(r.data.complaintId ?? r.id),
        customerRef: input.customerRef,
        subject: String(r.data.subject ?? ''),
        // The type says whether two complaints are about the same matter (domain/complaints.ts).
        type: typeof r.data.type === 'string' ? r.data.type : null,
        acceptedAt: String(r.data.acceptedAt),
      }));
    },

    async notify(input: NotifyInput): Promise<void> {
      const now = clock();
      const key = activityKey();
      // An overdue task or an escalation also reaches the line manager of whoever owes it
      // (users.manager_id), by name: a role alone reaches nobody who can open the case.
      let lineManagerId: string | null = null;
      if ((input.kind === 'overdue' || input.kind === 'escalation') && input.taskId && !input.recipientId) {
        const [owed] = await db
          .select({ managerId: users.managerId })
          .from(tasks)
          .innerJoin(users, eq(users.id, tasks.assigneeId))
          .where(eq(tasks.id, input.taskId));
        lineManagerId = owed?.managerId ?? null;
      }
      const roles: Array<Role | null> = input.recipientRoles?.length
        ? input.recipientRoles
        : [input.recipientRole ?? null];
      // Ids fixed by the activity key: a retry hands the same notifications to delivery (./delivery.ts).
      const ids = [...roles, ...(lineManagerId ? [lineManagerId] : [])].map((_, i) => notificationIdFor(key, i));
      await withAuditedWrite(
        db,
        {
          idempotencyKey: key,
          actorId: SYSTEM_ACTOR,
          action: `notification.${input.kind}`,
          caseId: input.caseId,
          taskId: input.taskId,
          occurredAt: now,
          payload: {
            ...(input.recipientRoles ? { recipientRoles: input.recipientRoles } : {}),
            recipientRole: input.recipientRole ?? null,
            recipientId: input.recipientId ?? null,
            ...(lineManagerId ? { lineManagerId } : {}),
            message: input.message,
          },
        },
        async (tx) => {
          await tx.insert(notifications).values(
            roles.map((recipientRole, i) => ({
              id: ids[i]!,
              caseId: input.caseId,
              taskId: input.taskId ?? null,
              kind: input.kind,
              recipientRole,
              recipientId: input.recipientId ?? null,
              message: input.message,
              createdAt: now,
            })),
          );
          if (lineManagerId) {
            await tx.insert(notifications).values({
              id: ids[roles.length]!,
              caseId: input.caseId,
              taskId: input.taskId ?? null,
              kind: input.kind,
              recipientRole: null,
              recipientId: lineManagerId,
              message: input.message,
              createdAt: now,
            });
          }
        },
      );
      await delivery.handOff(ids, input);
    },
  };
}

export type GovernanceActivities = ReturnType<typeof createActivities>;
