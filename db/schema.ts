/**
 * The read model. Workflows hold the process; activities write every state
 * change here so the API can list and filter cases without asking Temporal.
 * Naming: snake_case columns, camelCase fields (drizzle `casing`).
 */
import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  bigint,
  boolean,
  check,
  customType,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import type { ApprovalVote } from '../domain/approval';
import type { PlanTimings } from '../domain/drills';
import type { Role } from '../domain/roles';

const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (value) => (Buffer.isBuffer(value) ? value : Buffer.from(value)),
});

const createdAt = () => timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow();
const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const users = pgTable(
  'users',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    email: text('email').notNull().unique(),
    roles: text('roles').array().$type<Role[]>().notNull(),
    active: boolean('active').notNull().default(true),
    /** The line manager: case participants' managers may read their cases (issue 11 §8). */
    managerId: text('manager_id').references((): AnyPgColumn => users.id),
    createdAt: createdAt(),
  },
  (t) => [
    index('users_manager_id_idx').on(t.managerId),
    check('users_manager_not_self', sql`${t.managerId} <> ${t.id}`),
  ],
);

/**
 * The console user an OpenID Connect identity signs in as (migration 0021,
 * api/oidc.ts): found by (issuer, subject) only, never by e-mail address.
 */
export const userIdentities = pgTable(
  'user_identities',
  {
    issuer: text('issuer').notNull(),
    subject: text('subject').notNull(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    createdAt: createdAt(),
    lastSignInAt: at('last_sign_in_at'),
  },
  (t) => [
    primaryKey({ columns: [t.issuer, t.subject] }),
    uniqueIndex('user_identities_issuer_user_id_idx').on(t.issuer, t.userId),
  ],
);

/** Bearer tokens, stored only as SHA-256 hashes; each expires (TOKEN_TTL_DAYS) and may be revoked. */
export const apiTokens = pgTable('api_tokens', {
  id: text('id').primaryKey(),
  userId: text('user_id')
    .notNull()
    .references(() => users.id),
  tokenHash: text('token_hash').notNull().unique(),
  label: text('label').notNull(),
  createdAt: createdAt(),
  /** No default: whoever issues a token says until when it is valid. */
  expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
  revokedAt: at('revoked_at'),
});

/** One row per governance case; `id` is the Temporal workflow id (business key). */
export const cases = pgTable(
  'cases',
  {
    id: text('id').primaryKey(),
    process: text('process').notNull(),
    businessKey: text('business_key').notNull(),
    title: text('title').notNull(),
    description: text('description'),
    stage: text('stage').notNull(),
    status: text('status').notNull().default('open'),
    outcome: text('outcome'),
    riskLevel: text('risk_level'),
    initiatorId: text('initiator_id').notNull(),
    ownerId: text('owner_id'),
    ownerRole: text('owner_role'),
    dueAt: at('due_at'),
    parentCaseId: text('parent_case_id'),
    /** What the case is about, e.g. subjectType 'supplier' with the supplier's id. */
    subjectType: text('subject_type'),
    subjectId: text('subject_id'),
    workflowId: text('workflow_id').notNull(),
    runId: text('run_id').notNull(),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
    /** The policy version the case runs under (policy_versions); null before policies existed. */
    policyVersion: integer('policy_version'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    closedAt: at('closed_at'),
  },
  (t) => [
    index('cases_process_status_idx').on(t.process, t.status),
    index('cases_owner_idx').on(t.ownerId),
    index('cases_due_idx').on(t.dueAt),
    index('cases_parent_idx').on(t.parentCaseId),
    index('cases_created_idx').on(t.createdAt, t.id),
    index('cases_subject_idx').on(t.subjectType, t.subjectId),
    // Read scoping (platform/access.ts): cases a user started.
    index('cases_initiator_idx').on(t.initiatorId),
  ],
);

/** Human tasks: approvals and rectification items. */
export const tasks = pgTable(
  'tasks',
  {
    id: text('id').primaryKey(),
    caseId: text('case_id')
      .notNull()
      .references(() => cases.id),
    /** The workflow that receives this task's Updates. */
    workflowId: text('workflow_id').notNull(),
    kind: text('kind').notNull(),
    title: text('title').notNull(),
    candidateRoles: text('candidate_roles').array().$type<Role[]>().notNull(),
    assigneeId: text('assignee_id'),
    excludedUserIds: text('excluded_user_ids')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    status: text('status').notNull(),
    dueAt: at('due_at'),
    approvalsRequired: integer('approvals_required').notNull().default(1),
    allowedDecisions: text('allowed_decisions')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    votes: jsonb('votes').$type<ApprovalVote[]>().notNull().default([]),
    decision: text('decision'),
    decidedBy: text('decided_by'),
    decidedAt: at('decided_at'),
    comment: text('comment'),
    evidenceIds: jsonb('evidence_ids').$type<string[]>().notNull().default([]),
    remindedAt: at('reminded_at'),
    escalatedAt: at('escalated_at'),
    escalatedTo: text('escalated_to'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('tasks_case_idx').on(t.caseId),
    index('tasks_status_idx').on(t.status),
    index('tasks_assignee_idx').on(t.assigneeId),
    // The inbox and the overdue list (migration 0023): open tasks in due order, finished ones left out.
    index('tasks_open_due_idx')
      .on(t.dueAt, t.id)
      .where(sql`${t.status} not in ('done', 'expired', 'cancelled')`),
    // The inbox's branches by role (migration 0023): open tasks by candidate role.
    index('tasks_open_roles_idx')
      .using('gin', t.candidateRoles)
      .where(sql`${t.status} not in ('done', 'expired', 'cancelled')`),
    // An approver's part of the inbox (migration 0026): open approvals by candidate role.
    index('tasks_open_approvals_roles_idx')
      .using('gin', t.candidateRoles)
      .where(sql`${t.kind} = 'approval' and ${t.status} = 'open'`),
  ],
);

/** Evidence files: metadata, SHA-256 and the content itself. */
export const evidence = pgTable(
  'evidence',
  {
    id: text('id').primaryKey(),
    caseId: text('case_id')
      .notNull()
      .references(() => cases.id),
    taskId: text('task_id'),
    /** For a review's required documents: business_licence, operating_permit, … */
    documentType: text('document_type'),
    fileName: text('file_name').notNull(),
    contentType: text('content_type').notNull(),
    sizeBytes: integer('size_bytes').notNull(),
    sha256: text('sha256').notNull(),
    content: bytea('content').notNull(),
    uploadedBy: text('uploaded_by').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('evidence_case_idx').on(t.caseId)],
);

/**
 * Append-only, hash-chained audit log. Each row's hash covers the previous
 * row's hash, so any edit breaks the chain from that row on. A trigger (see
 * migrations) refuses UPDATE and DELETE.
 */
export const auditEvents = pgTable(
  'audit_events',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey(),
    idempotencyKey: text('idempotency_key').notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true, mode: 'date', precision: 3 }).notNull(),
    actorId: text('actor_id').notNull(),
    action: text('action').notNull(),
    caseId: text('case_id'),
    taskId: text('task_id'),
    reason: text('reason'),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    evidenceHashes: jsonb('evidence_hashes').$type<string[]>().notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
    /**
     * The chain the event is in (migration 0022, db/audit.ts): 0..partitions-1
     * by its case, -1 the checkpoints; NULL the legacy segment, written before
     * the chain was partitioned.
     */
    chainPart: smallint('chain_part'),
    /** Its place in that chain, from 1 without gaps; NULL in the legacy segment. */
    partSeq: bigint('part_seq', { mode: 'number' }),
  },
  (t) => [
    uniqueIndex('audit_events_idempotency_idx').on(t.idempotencyKey),
    index('audit_events_case_idx').on(t.caseId, t.seq),
    // Read scoping (platform/access.ts): the cases a user acted on.
    index('audit_events_actor_case_idx').on(t.actorId, t.caseId),
    uniqueIndex('audit_events_part_idx').on(t.chainPart, t.partSeq),
  ],
);

/**
 * Who has a part in a case (platform/access.ts): one row per case and person
 * named on it (initiator, owner, task assignee), who acted on it (audit
 * actor), or who did either on a case opened from it (parent_case_id).
 * Written only by the triggers of migration 0024, in the transaction of the
 * write that gives or ends the part; read by the scoped lists and checks.
 */
export const caseParts = pgTable(
  'case_parts',
  {
    caseId: text('case_id').notNull(),
    userId: text('user_id').notNull(),
  },
  (t) => [
    primaryKey({ name: 'case_parts_pkey', columns: [t.caseId, t.userId] }),
    index('case_parts_user_idx').on(t.userId, t.caseId),
  ],
);

/**
 * The audit chain's shape, one row written by migration 0022 and never
 * changed (append-only like audit_events): how many partitions, and where the
 * legacy single chain ended.
 */
export const auditChainConfig = pgTable('audit_chain_config', {
  id: smallint('id').primaryKey().default(1),
  partitions: smallint('partitions').notNull(),
  hashVersion: smallint('hash_version').notNull(),
  legacyLastSeq: bigint('legacy_last_seq', { mode: 'number' }).notNull(),
  legacyLastHash: text('legacy_last_hash').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date', precision: 3 }).notNull().defaultNow(),
});

/** Reminders and escalations, addressed to a user or a role. */
export const notifications = pgTable(
  'notifications',
  {
    id: text('id').primaryKey(),
    caseId: text('case_id').notNull(),
    taskId: text('task_id'),
    kind: text('kind').notNull(),
    recipientRole: text('recipient_role'),
    recipientId: text('recipient_id'),
    message: text('message').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('notifications_recipient_idx').on(t.recipientRole, t.recipientId)],
);

/**
 * Suppliers and cooperation partners (合作方). The id is the unified social
 * credit code (统一社会信用代码), validated with its check character.
 */
export const suppliers = pgTable(
  'suppliers',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    category: text('category').notNull(),
    tier: text('tier').notNull(),
    /** pending until the first review is approved (domain/supplierReview.ts SUPPLIER_STATUSES). */
    status: text('status').notNull().default('pending'),
    /** Relationship owner: reviews the supplier each year. */
    ownerId: text('owner_id')
      .notNull()
      .references(() => users.id),
    contactName: text('contact_name'),
    contactPhone: text('contact_phone'),
    contactEmail: text('contact_email'),
    conditions: jsonb('conditions')
      .$type<Array<{ type: string; detail: string; since: string; caseId: string }>>()
      .notNull()
      .default([]),
    lastReviewCaseId: text('last_review_case_id'),
    lastRiskGrade: text('last_risk_grade'),
    nextReviewDue: at('next_review_due'),
    /** A review that lapsed undecided: the supplier is flagged until a later review is decided. */
    reviewOverdueCaseId: text('review_overdue_case_id'),
    reviewOverdueSince: at('review_overdue_since'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('suppliers_status_idx').on(t.status), index('suppliers_name_idx').on(t.name)],
);

/** Per-supplier, per-year performance: what the handbook's review rules read. */
export const supplierPerformance = pgTable(
  'supplier_performance',
  {
    supplierId: text('supplier_id')
      .notNull()
      .references(() => suppliers.id),
    year: integer('year').notNull(),
    samplingResult: text('sampling_result').notNull(),
    complaints: integer('complaints').notNull(),
    logisticsDelayRate: doublePrecision('logistics_delay_rate').notNull(),
    financialStatementsAbnormal: boolean('financial_statements_abnormal').notNull(),
    qualityScore: integer('quality_score').notNull(),
    recordedBy: text('recorded_by').notNull(),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.supplierId, t.year] })],
);

/** Emergency plans (应急预案) by type, with their current version and revision due date. */
export const emergencyPlans = pgTable('emergency_plans', {
  id: text('id').primaryKey(),
  title: text('title').notNull(),
  type: text('type').notNull(),
  ownerId: text('owner_id')
    .notNull()
    .references(() => users.id),
  status: text('status').notNull().default('draft'),
  currentVersion: integer('current_version'),
  lastApprovedAt: at('last_approved_at'),
  revisionDueAt: at('revision_due_at'),
  /** Overrides of the revision interval, its reminder lead and the draft's ladder, for drills of the process itself and tests. */
  timings: jsonb('timings').$type<PlanTimings>().notNull().default({}),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/** Version history of each plan (预案版本管理): what changed, who approved it, the document. */
export const planVersions = pgTable(
  'plan_versions',
  {
    planId: text('plan_id')
      .notNull()
      .references(() => emergencyPlans.id),
    version: integer('version').notNull(),
    summary: text('summary').notNull(),
    documentEvidenceId: text('document_evidence_id').notNull(),
    documentSha256: text('document_sha256').notNull(),
    approvedBy: text('approved_by').array().notNull(),
    approvedAt: at('approved_at').notNull(),
    revisionCaseId: text('revision_case_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.planId, t.version] })],
);

/**
 * The handbooks' parameters, versioned (domain/policy.ts). Version 1 is the
 * defaults and has no row; each later version is made by an approved
 * policy-change case and records who requested and approved it.
 */
export const policyVersions = pgTable('policy_versions', {
  version: integer('version').primaryKey(),
  values: jsonb('values').$type<Record<string, unknown>>().notNull(),
  changed: text('changed').array().notNull(),
  summary: text('summary').notNull(),
  requestedBy: text('requested_by').notNull(),
  approvedBy: text('approved_by').array().notNull(),
  changeCaseId: text('change_case_id').notNull().unique(),
  effectiveAt: at('effective_at').notNull(),
});

/**
 * The risk register (风险清单, e-commerce §1.2, finance §5.1–5.2): each risk's
 * current state. Levels are never stored: they are computed from the ratings
 * under the policy's cut-offs (domain/riskRegister.ts).
 */
export const risks = pgTable(
  'risks',
  {
    key: text('key').primaryKey(),
    title: text('title').notNull(),
    category: text('category').notNull(),
    description: text('description').notNull(),
    cause: text('cause').notNull(),
    consequence: text('consequence').notNull(),
    ownerId: text('owner_id')
      .notNull()
      .references(() => users.id),
    lineOfDefence: text('line_of_defence').notNull(),
    inherentProbability: integer('inherent_probability').notNull(),
    inherentImpact: integer('inherent_impact').notNull(),
    residualProbability: integer('residual_probability').notNull(),
    residualImpact: integer('residual_impact').notNull(),
    version: integer('version').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('risks_owner_idx').on(t.ownerId)],
);

/** Every version of a risk, with what changed, who, why and from when: the register as of any instant. */
export const riskVersions = pgTable(
  'risk_versions',
  {
    riskKey: text('risk_key')
      .notNull()
      .references(() => risks.key),
    version: integer('version').notNull(),
    values: jsonb('values').$type<Record<string, unknown>>().notNull(),
    changed: text('changed').array().notNull(),
    actorId: text('actor_id').notNull(),
    reason: text('reason').notNull(),
    validFrom: at('valid_from').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.riskKey, t.version] }),
    index('risk_versions_valid_from_idx').on(t.riskKey, t.validFrom),
  ],
);

/** The controls (measures, 应对措施) linked to a risk, with their latest test. */
export const riskControls = pgTable(
  'risk_controls',
  {
    id: text('id').primaryKey(),
    riskKey: text('risk_key')
      .notNull()
      .references(() => risks.key),
    title: text('title').notNull(),
    description: text('description'),
    ownerId: text('owner_id')
      .notNull()
      .references(() => users.id),
    frequency: text('frequency').notNull(),
    lastResult: text('last_result').notNull().default('not_tested'),
    lastTestedBy: text('last_tested_by'),
    lastTestedAt: at('last_tested_at'),
    lastTestNote: text('last_test_note'),
    createdBy: text('created_by').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('risk_controls_risk_idx').on(t.riskKey)],
);

export const riskControlTests = pgTable('risk_control_tests', {
  id: text('id').primaryKey(),
  controlId: text('control_id')
    .notNull()
    .references(() => riskControls.id),
  result: text('result').notNull(),
  note: text('note'),
  testedBy: text('tested_by').notNull(),
  testedAt: at('tested_at').notNull(),
});

/** The cases that touch a risk: incidents, complaints, reviews, drills, findings, improvement cycles. */
export const riskLinks = pgTable(
  'risk_links',
  {
    riskKey: text('risk_key')
      .notNull()
      .references(() => risks.key),
    caseId: text('case_id')
      .notNull()
      .references(() => cases.id),
    linkedBy: text('linked_by').notNull(),
    linkedAt: at('linked_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.riskKey, t.caseId] })],
);

/** Risk acceptances, each decided by a risk_acceptance case (workflows/riskAcceptance.ts). */
export const riskAcceptances = pgTable(
  'risk_acceptances',
  {
    caseId: text('case_id').primaryKey(),
    riskKey: text('risk_key')
      .notNull()
      .references(() => risks.key),
    sequence: integer('sequence').notNull(),
    status: text('status').notNull(),
    reason: text('reason').notNull(),
    requestedBy: text('requested_by').notNull(),
    requestedAt: at('requested_at').notNull(),
    expiresAt: at('expires_at').notNull(),
    residualProbability: integer('residual_probability').notNull(),
    residualImpact: integer('residual_impact').notNull(),
    residualLevel: text('residual_level').notNull(),
    approvedBy: text('approved_by').array(),
    approvedAt: at('approved_at'),
    staleReason: text('stale_reason'),
    staleAt: at('stale_at'),
    reviewDue: at('review_due'),
  },
  (t) => [
    uniqueIndex('risk_acceptances_risk_key_sequence_unique').on(t.riskKey, t.sequence),
    uniqueIndex('risk_acceptances_one_open_idx')
      .on(t.riskKey)
      .where(sql`${t.status} in ('requested', 'active')`),
  ],
);

export type RiskRow = typeof risks.$inferSelect;
export type RiskAcceptanceRow = typeof riskAcceptances.$inferSelect;

/**
 * The annual audit plan (审计计划, issue 12 §4; db/migrations/0013_audit_programme.sql): each
 * planned audit of a year. Its case, once started, is audit:<auditKey>.
 */
export const auditPlanEntries = pgTable(
  'audit_plan_entries',
  {
    year: integer('year').notNull(),
    auditKey: text('audit_key').notNull(),
    type: text('type').notNull(),
    title: text('title').notNull(),
    plannedFor: text('planned_for').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: at('created_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: 'audit_plan_entries_pk', columns: [t.year, t.auditKey] }),
    uniqueIndex('audit_plan_entries_key_idx').on(t.auditKey),
  ],
);

/**
 * Key risk indicators (关键风险指标, e-commerce §6.2, finance §5.4; issue 12 §3;
 * db/migrations/0014_risk_warnings.sql): one threshold per warning level, an
 * owner, and the risk of the register it watches.
 */
export const keyRiskIndicators = pgTable(
  'key_risk_indicators',
  {
    key: text('key').primaryKey(),
    name: text('name').notNull(),
    unit: text('unit'),
    direction: text('direction').notNull(),
    thresholdGeneral: doublePrecision('threshold_general').notNull(),
    thresholdElevated: doublePrecision('threshold_elevated').notNull(),
    thresholdMajor: doublePrecision('threshold_major').notNull(),
    ownerId: text('owner_id')
      .notNull()
      .references(() => users.id),
    riskKey: text('risk_key').references(() => risks.key),
    createdBy: text('created_by').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('key_risk_indicators_owner_idx').on(t.ownerId)],
);

/**
 * Each observation a monitoring system posted, by its alert key (the
 * idempotency key): the level reached (null below every threshold), the
 * warning's level after a repeat, and the warning case it opened.
 */
export const kriObservations = pgTable(
  'kri_observations',
  {
    alertKey: text('alert_key').primaryKey(),
    kriKey: text('kri_key')
      .notNull()
      .references(() => keyRiskIndicators.key),
    value: doublePrecision('value').notNull(),
    observedAt: at('observed_at').notNull(),
    /** sha256 of the request as sent: the same alert key with another body is refused. */
    requestHash: text('request_hash').notNull(),
    levelReached: text('level_reached'),
    level: text('level'),
    repeatOf: text('repeat_of')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    warningCaseId: text('warning_case_id'),
    recordedBy: text('recorded_by').notNull(),
    recordedAt: at('recorded_at').notNull().defaultNow(),
  },
  (t) => [index('kri_observations_kri_idx').on(t.kriKey, t.observedAt)],
);

export type KeyRiskIndicatorRow = typeof keyRiskIndicators.$inferSelect;
export type KriObservationRow = typeof kriObservations.$inferSelect;

export type User = typeof users.$inferSelect;
export type PolicyVersionRow = typeof policyVersions.$inferSelect;
export type SupplierRow = typeof suppliers.$inferSelect;
export type EmergencyPlanRow = typeof emergencyPlans.$inferSelect;
export type PlanVersionRow = typeof planVersions.$inferSelect;
export type SupplierPerformanceRow = typeof supplierPerformance.$inferSelect;
export type CaseRow = typeof cases.$inferSelect;
export type TaskRow = typeof tasks.$inferSelect;
export type EvidenceRow = typeof evidence.$inferSelect;
export type AuditEventRow = typeof auditEvents.$inferSelect;
export type NotificationRow = typeof notifications.$inferSelect;

/**
 * Periodic risk reports (风险信息报告, finance §5.5): one per audience and period, content fixed
 * when prepared, released by an approval; a released row never changes (trigger, migration 0016).
 */
export const riskReports = pgTable(
  'risk_reports',
  {
    caseId: text('case_id').primaryKey(),
    audience: text('audience').notNull(),
    period: text('period').notNull(),
    periodStart: at('period_start').notNull(),
    periodEnd: at('period_end').notNull(),
    status: text('status').notNull(),
    content: jsonb('content').$type<Record<string, unknown>>().notNull(),
    contentSha256: text('content_sha256').notNull(),
    preparedBy: text('prepared_by').notNull(),
    preparedAt: at('prepared_at').notNull(),
    releasedBy: text('released_by').array(),
    releasedAt: at('released_at'),
  },
  (t) => [uniqueIndex('risk_reports_audience_period_unique').on(t.audience, t.period)],
);
