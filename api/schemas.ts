/**
 * Request and response contracts, apart from the handlers. Request types flow
 * from these schemas into the handlers; the OpenAPI document is built from
 * them too.
 */
import { z } from '@hono/zod-openapi';
import { BUSINESS_KEY_PATTERN } from '../domain/cases';
import { DURATION_PATTERN, durationProblem } from '../domain/durations';
import { decisionInput, taskContract } from '../contracts/tasks';
import { RISK_LEVELS } from '../domain/risk';
import { ROLES } from '../domain/roles';

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'UNPROCESSABLE' }),
      message: z.string(),
      requestId: z.string(),
      reason: z
        .string()
        .optional()
        .openapi({ description: 'the domain rule that refused, e.g. SEGREGATION_OF_DUTIES' }),
      details: z.unknown().optional(),
    }),
  })
  .openapi('Error');

export const durationSchema = z
  .string()
  .regex(DURATION_PATTERN, 'a duration like 30s, 15m, 48h, 7d or 2w')
  .superRefine((text, ctx) => {
    const problem = durationProblem(text);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .openapi({ example: '48h', description: 'from 1s to 3 years' });
const isoDate = z.string().openapi({ format: 'date-time' });

/** Overrides of an approval's reminder, escalation and expiry. */
export const ApprovalTimingsSchema = z
  .object({
    remindAfter: durationSchema.optional(),
    escalateAfter: durationSchema.optional(),
    expireAfter: durationSchema.optional(),
  })
  .strict()
  .openapi('ApprovalTimings');

/** Overrides of a rectification item's due date, reminder and second escalation. */
export const RectificationTimingsSchema = z
  .object({
    dueIn: durationSchema.optional(),
    remindBefore: durationSchema.optional(),
    escalateAgainAfter: durationSchema.optional(),
  })
  .strict()
  .openapi('RectificationTimings');

export const RoleSchema = z.enum(ROLES);
export const RiskLevelSchema = z.enum(RISK_LEVELS);

export const StartApprovalRequestSchema = z
  .object({
    requestKey: z
      .string()
      .regex(BUSINESS_KEY_PATTERN, 'letters, digits, ".", "_" or "-", at most 100, starting with a letter or digit')
      .optional()
      .openapi({ description: 'business key; the case id is approval-request:<requestKey>. Generated when omitted.' }),
    title: z.string().trim().min(1).max(200),
    description: z.string().max(5000).optional(),
    probability: z.number().int().min(1).max(5).openapi({ description: 'risk matrix probability 1–5' }),
    impact: z.number().int().min(1).max(5).openapi({ description: 'risk matrix impact 1–5' }),
    riskLevel: z
      .unknown()
      .refine((v) => v === undefined, {
        message:
          'riskLevel is not given but scored: send probability and impact (1–5); the level follows from the matrix and the policy',
      })
      .optional()
      .openapi({ description: 'Refused: the level is computed from probability × impact, never declared.' }),
    ownerId: z.string().min(1).optional().openapi({ description: 'carries out conditions; defaults to the initiator' }),
    approvalTimings: ApprovalTimingsSchema.optional(),
    rectificationTimings: RectificationTimingsSchema.optional(),
  })
  .strict()
  .openapi('StartApprovalRequest');

export const CaseLinksSchema = z.object({ self: z.string(), temporalUi: z.string() });

export const StartedCaseSchema = z
  .object({
    caseId: z.string(),
    workflowId: z.string(),
    runId: z.string(),
    riskLevel: RiskLevelSchema,
    approvalsRequired: z.number().int(),
    links: CaseLinksSchema,
  })
  .openapi('StartedCase');

export const CaseSchema = z
  .object({
    id: z.string(),
    process: z.string(),
    businessKey: z.string(),
    title: z.string(),
    description: z.string().nullable(),
    stage: z.string(),
    status: z.string(),
    outcome: z.string().nullable(),
    riskLevel: z.string().nullable(),
    initiatorId: z.string(),
    ownerId: z.string().nullable(),
    ownerRole: z.string().nullable(),
    dueAt: isoDate.nullable(),
    overdue: z.boolean(),
    parentCaseId: z.string().nullable(),
    workflowId: z.string(),
    runId: z.string(),
    createdAt: isoDate,
    updatedAt: isoDate,
    closedAt: isoDate.nullable(),
  })
  .openapi('Case');

export const TaskSchema = z
  .object({
    id: z.string(),
    caseId: z.string(),
    workflowId: z.string(),
    kind: z.string(),
    title: z.string(),
    candidateRoles: z.array(z.string()),
    assigneeId: z.string().nullable(),
    status: z.string(),
    dueAt: isoDate.nullable(),
    overdue: z.boolean(),
    approvalsRequired: z.number().int(),
    allowedDecisions: z.array(z.string()).openapi({ description: 'for approvals: the decisions this task offers' }),
    votes: z.array(
      z.object({
        userId: z.string(),
        function: z.enum(ROLES).optional().openapi({
          description: 'The function the approver decided for; absent in votes cast before functions existed.',
        }),
        decision: z.string(),
        comment: z.string().optional(),
        conditions: z.array(z.string()).optional(),
        at: z.string(),
      }),
    ),
    decision: z.string().nullable(),
    decidedBy: z.string().nullable(),
    decidedAt: isoDate.nullable(),
    comment: z.string().nullable(),
    evidenceIds: z.array(z.string()),
    remindedAt: isoDate.nullable(),
    escalatedAt: isoDate.nullable(),
    escalatedTo: z.string().nullable(),
    createdAt: isoDate,
    updatedAt: isoDate,
  })
  .openapi('Task');

export const EvidenceSchema = z
  .object({
    id: z.string(),
    caseId: z.string(),
    taskId: z.string().nullable(),
    documentType: z.string().nullable(),
    fileName: z.string(),
    contentType: z.string(),
    sizeBytes: z.number().int(),
    sha256: z.string(),
    uploadedBy: z.string(),
    createdAt: isoDate,
  })
  .openapi('Evidence');

export const AuditEventSchema = z
  .object({
    seq: z.number().int(),
    occurredAt: isoDate,
    actorId: z.string(),
    action: z.string(),
    caseId: z.string().nullable(),
    taskId: z.string().nullable(),
    reason: z.string().nullable(),
    payload: z.record(z.string(), z.unknown()),
    evidenceHashes: z.array(z.string()),
    prevHash: z.string(),
    hash: z.string(),
  })
  .openapi('AuditEvent');

export const CaseDetailSchema = z
  .object({
    case: CaseSchema,
    tasks: z.array(TaskSchema),
    evidence: z.array(EvidenceSchema),
    timeline: z.array(AuditEventSchema),
    linked: z
      .array(CaseSchema)
      .openapi({ description: 'cases opened from this one: plan revisions, improvement cycles' }),
    links: CaseLinksSchema,
  })
  .openapi('CaseDetail');

export const PageQuerySchema = z.object({
  page: z.coerce.number().int().min(1).default(1).openapi({ example: 1 }),
  pageSize: z.coerce.number().int().min(1).max(100).default(20).openapi({ example: 20 }),
});

const booleanQuery = z.enum(['true', 'false']).transform((v) => v === 'true');

export const CaseListQuerySchema = PageQuerySchema.extend({
  process: z.string().max(50).optional(),
  stage: z.string().max(50).optional(),
  status: z.enum(['open', 'closed']).optional(),
  ownerId: z.string().max(100).optional(),
  riskLevel: RiskLevelSchema.optional(),
  overdue: booleanQuery.optional().openapi({ description: 'true: open cases past their due date' }),
});

export const pageOf = <T extends z.ZodTypeAny>(item: T, name: string) =>
  z
    .object({ items: z.array(item), page: z.number().int(), pageSize: z.number().int(), total: z.number().int() })
    .openapi(name);

/** The decision body: the contract's schema, less what the API fills in (the task, the request). */
export const DecisionSchema = decisionInput.omit({ taskId: true, requestId: true });

export const DecisionResultSchema = z
  .object({ taskId: z.string(), status: z.string(), votes: TaskSchema.shape.votes })
  .openapi('DecisionResult');

export const SubmissionSchema = z
  .object({
    evidenceIds: z.array(z.string().min(1)).min(1, 'attach at least one piece of evidence').max(50),
    comment: z.string().max(5000).optional(),
  })
  .strict()
  .openapi('RectificationSubmission');

export const VerificationSchema = taskContract.steps.verification.input;

export const RectificationResultSchema = z
  .object({ taskId: z.string(), status: z.string(), submissions: z.number().int() })
  .openapi('RectificationResult');

export const UserSchema = z
  .object({ id: z.string(), name: z.string(), email: z.string(), roles: z.array(RoleSchema), active: z.boolean() })
  .openapi('User');

export const CreateUserSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]{1,63}$/, 'lower-case letters, digits, ".", "_" or "-", 2–64 characters'),
    name: z.string().trim().min(1).max(200),
    email: z.email(),
    roles: z.array(RoleSchema).min(1).max(ROLES.length),
  })
  .strict()
  .openapi('CreateUser');

export const NotificationSchema = z
  .object({
    id: z.string(),
    caseId: z.string(),
    taskId: z.string().nullable(),
    kind: z.string(),
    recipientRole: z.string().nullable(),
    recipientId: z.string().nullable(),
    message: z.string(),
    createdAt: isoDate,
  })
  .openapi('Notification');

export const ChainVerificationSchema = z
  .object({
    ok: z.boolean(),
    eventsChecked: z.number().int(),
    lastSeq: z.number().int(),
    lastHash: z.string(),
    firstBroken: z
      .object({ seq: z.number().int(), problem: z.string(), expected: z.string(), found: z.string() })
      .optional(),
  })
  .openapi('AuditChainVerification');
