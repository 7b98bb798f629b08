/**
 * Customer complaints (客户投诉) through the API: accept (classified by type),
 * record the initial investigation, handling, the root-cause analysis and its
 * review, and the feedback, open rectification items, raise a complaint to an
 * incident (linked both ways), and list and read complaints by type.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { and, eq, sql, type SQL } from 'drizzle-orm';
import { startCaseWorkflow } from '../../platform/cases';
import { canReadCase } from '../../platform/access';
import { currentPolicy } from '../../platform/policy';
import { newKeySuffix } from '../../platform/idempotentCalls';
import { cases, type CaseRow } from '../../db/schema';
import { BUSINESS_KEY_PATTERN } from '../../domain/cases';
import {
  COMPLAINT_CHANNELS,
  COMPLAINT_LABELS,
  COMPLAINT_SEVERITIES,
  COMPLAINT_TYPES,
  ROOT_CAUSE_STATUSES,
  type ComplaintType,
} from '../../domain/complaints';
import { COMPLAINT_STAGES, complaintContract } from '../../contracts/complaint';
import type { ComplaintData, complaintWorkflow } from '../../workflows/complaint';
import { requireRole } from '../auth';
import { refuseLockedTimings } from '../caseTimings';
import { temporalUiLink } from '../dto';
import { ApiError } from '../errors';
import { durationSchema } from '../schemas';
import {
  CaseFilterQuerySchema,
  caseFilters,
  caseOrder,
  checkRange,
  KeysetQuerySchema,
  keysetPageOf,
  listCases,
  pagingOf,
} from './keyset';
import {
  actorOf,
  bearer,
  errorResponses,
  router,
  sendCaseUpdate,
  type AppDeps,
  requireActiveUser,
  contractSteps,
} from './common';
import { checkIncidentReport, ReportIncidentSchema } from './incidents';

const text = (max: number) => z.string().trim().min(1).max(max);
const json = <T extends z.ZodTypeAny>(schema: T) => ({ required: true, content: { 'application/json': { schema } } });
const IdParam = z.object({ complaintId: z.string().regex(complaintContract.keyPattern, 'a complaint id') });
const StepSchema = z.object({ stage: z.string(), rectificationTaskId: z.string().optional() }).openapi('ComplaintStep');
const Label = z.object({ en: z.string(), zh: z.string() });
const TypeSchema = z.enum(COMPLAINT_TYPES).openapi({
  description: `What the complaint is about (finance §4.4 投诉分类; domain/complaints.ts): ${COMPLAINT_TYPES.map(
    (t) => `${t} (${COMPLAINT_LABELS.type[t].zh})`,
  ).join(', ')}`,
  example: 'transaction_dispute',
});

/** A complaint as lists show it: the case's state and the complaint's own facts, its type first. */
const ComplaintSummarySchema = z
  .object({
    complaintId: z.string(),
    caseId: z.string(),
    type: z.enum(COMPLAINT_TYPES).nullable().openapi({ description: 'null for complaints accepted before types' }),
    typeLabel: Label.nullable(),
    subject: z.string(),
    channel: z.string(),
    severity: z.string(),
    customerRef: z.string(),
    stage: z.string(),
    status: z.string(),
    outcome: z.string().nullable(),
    handlerId: z.string().nullable(),
    acceptedAt: z.string().nullable(),
    initialInvestigationDueAt: z.string().nullable(),
    resultDueAt: z.string().nullable(),
    repeated: z.boolean(),
    rootCauseRequired: z.array(z.string()).openapi({
      description: 'why the feedback needs an accepted root-cause analysis: serious, repeated; empty when it does not',
    }),
    rootCauseStatus: z.enum([...ROOT_CAUSE_STATUSES, 'missing']),
    breaches: z.array(z.string()),
    policyVersion: z.number().int().nullable(),
    linkedIncidentCaseId: z.string().nullable(),
  })
  .openapi('ComplaintSummary');

const ComplaintDetailSchema = ComplaintSummarySchema.extend({
  description: z.string().nullable(),
  acceptedBy: z.string().nullable(),
  repeatOf: z.array(z.string()),
  raiseSuggested: z.string().nullable(),
  initialInvestigation: z.record(z.string(), z.unknown()).nullable(),
  handling: z.array(z.record(z.string(), z.unknown())),
  rootCause: z.record(z.string(), z.unknown()).nullable(),
  rootCauseReviews: z.array(z.record(z.string(), z.unknown())),
  feedback: z.record(z.string(), z.unknown()).nullable(),
  rectificationTaskIds: z.array(z.string()),
  links: z.object({ case: z.string(), temporalUi: z.string() }),
}).openapi('Complaint');

const ComplaintListQuerySchema = KeysetQuerySchema.extend(CaseFilterQuerySchema.shape).extend({
  type: z.enum(COMPLAINT_TYPES).optional(),
  stage: z.enum(COMPLAINT_STAGES).optional(),
  severity: z.enum(COMPLAINT_SEVERITIES).optional(),
});

/** Newest first; the index on (created_at, id) serves it. */
const COMPLAINT_ORDER = caseOrder('complaints');

/** The complaint's facts from its case row (data as the workflow wrote it; older complaints lack newer keys). */
function toComplaintSummary(row: CaseRow) {
  const data = row.data as Partial<ComplaintData>;
  const type = (data.type ?? null) as ComplaintType | null;
  return {
    complaintId: row.businessKey,
    caseId: row.id,
    type,
    typeLabel: type ? COMPLAINT_LABELS.type[type] : null,
    subject: String(data.subject ?? ''),
    channel: String(data.channel ?? ''),
    severity: String(data.severity ?? ''),
    customerRef: String(data.customerRef ?? ''),
    stage: row.stage,
    status: row.status,
    outcome: row.outcome,
    handlerId: data.handlerId ?? row.ownerId,
    acceptedAt: data.acceptedAt ?? null,
    initialInvestigationDueAt: data.initialInvestigationDueAt ?? null,
    resultDueAt: data.resultDueAt ?? null,
    repeated: !!data.repeated,
    rootCauseRequired: data.rootCauseRequired ?? [],
    rootCauseStatus: data.rootCause ? (data.rootCause.status ?? 'submitted') : ('missing' as const),
    breaches: (data.breaches ?? []).map((b) => b.sla),
    policyVersion: row.policyVersion,
    linkedIncidentCaseId: data.linkedIncidentCaseId ?? null,
  };
}

export function complaintRoutes(deps: AppDeps) {
  const { db, temporal, settings } = deps;
  const app = router();
  const caseIdOf = complaintContract.caseId;
  async function loadComplaint(complaintId: string) {
    const [row] = await db
      .select()
      .from(cases)
      .where(eq(cases.id, caseIdOf(complaintId)));
    if (!row) throw new ApiError('NOT_FOUND', `no complaint ${complaintId}`);
    return row;
  }

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/complaints',
      tags: ['Complaints'],
      summary: 'Accept a customer complaint (受理), classified by type; the 24 h and 48 h SLAs start now',
      description:
        "The SLAs and the repeat window come from the policy in force (GET /api/policy), recorded on the case. Per-case timings are refused (403 CASE_TIMINGS_LOCKED, nothing started) unless the deployment sets GOVERNANCE_CASE_TIMINGS=allow. A serious complaint, or one repeating the same customer's complaint about the same subject or type within the policy's window, is fed back only once its root-cause analysis is accepted.",
      security: bearer,
      middleware: [requireRole('manager', 'action_owner')] as const,
      request: {
        body: json(
          z
            .object({
              complaintId: z.string().regex(BUSINESS_KEY_PATTERN).optional(),
              customerRef: z
                .string()
                .trim()
                .regex(/^[A-Za-z0-9._:-]{1,64}$/, 'the CRM reference, not personal data')
                .openapi({ example: 'CUST-88120' }),
              channel: z.enum(COMPLAINT_CHANNELS),
              type: TypeSchema,
              subject: text(200),
              description: z.string().max(10_000).optional(),
              severity: z.enum(COMPLAINT_SEVERITIES).default('normal'),
              handlerId: z.string().min(1).max(64).optional().openapi({ description: 'defaults to the caller' }),
              timings: z
                .object({
                  initialInvestigationWithin: durationSchema.optional(),
                  resultWithin: durationSchema.optional(),
                })
                .strict()
                .optional(),
            })
            .strict()
            .openapi('AcceptComplaint'),
        ),
      },
      responses: {
        201: {
          description: 'Accepted',
          content: {
            'application/json': {
              schema: z.object({
                caseId: z.string(),
                complaintId: z.string(),
                links: z.object({ temporalUi: z.string() }),
              }),
            },
          },
        },
        ...errorResponses(400, 401, 403, 409),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const user = c.get('user');
      // The clocks belong to the policy: refused before anything is read or started.
      refuseLockedTimings(settings, { timings: body.timings });
      const handlerId = body.handlerId ?? user.id;
      if (body.handlerId) await requireActiveUser(db, body.handlerId, 'handlerId', { mayAct: true });
      const policy = await currentPolicy(db);
      const complaintId = body.complaintId ?? `CMP-${newKeySuffix()}`;
      const caseId = caseIdOf(complaintId);
      const started = await startCaseWorkflow<typeof complaintWorkflow>(temporal, {
        workflowType: 'complaintWorkflow',
        caseId,
        taskQueue: settings.taskQueue,
        process: 'complaint',
        stage: 'investigating',
        args: [
          {
            caseId,
            complaintId,
            customerRef: body.customerRef,
            channel: body.channel,
            type: body.type,
            subject: body.subject,
            description: body.description,
            severity: body.severity,
            acceptedBy: user.id,
            handlerId,
            policy,
            timings: body.timings,
          },
        ],
      });
      if (!started) throw new ApiError('CONFLICT', `complaint ${complaintId} already exists`);
      return c.json(
        {
          caseId,
          complaintId,
          links: { temporalUi: temporalUiLink(settings.temporalUiUrl, settings.temporalNamespace, caseId) },
        },
        201,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/complaints',
      tags: ['Complaints'],
      summary: 'List complaints, newest first, with filters, search and keyset pagination',
      description:
        'Only the complaints the caller may read (as GET /api/cases): those they have a part in, their direct reports’, and every complaint for risk, compliance, internal audit and auditors. Filtered by type, status, stage, severity, handler, overdue and the date opened; q searches the subject and the complaint id. Pass `limit` (and then each page’s `nextCursor` as `cursor`) to walk the list; page/pageSize still work for older clients.',
      security: bearer,
      request: { query: ComplaintListQuerySchema },
      responses: {
        200: {
          description: 'A page of complaints',
          content: { 'application/json': { schema: keysetPageOf(ComplaintSummarySchema, 'ComplaintPage') } },
        },
        ...errorResponses(400, 401),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const paging = pagingOf(COMPLAINT_ORDER, q);
      checkRange(q);
      const filters: Array<SQL | undefined> = [
        eq(cases.process, complaintContract.process),
        ...caseFilters(cases, q, new Date()),
      ];
      if (q.type) filters.push(sql`${cases.data}->>'type' = ${q.type}`);
      if (q.severity) filters.push(sql`${cases.data}->>'severity' = ${q.severity}`);
      const { rows, ...page } = await listCases(db, COMPLAINT_ORDER, paging, and(...filters), c.get('user'));
      return c.json({ items: rows.map(toComplaintSummary), ...page }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/complaints/{complaintId}',
      tags: ['Complaints'],
      summary: 'One complaint: its type, clocks, investigation, handling, root-cause analysis and reviews, feedback',
      security: bearer,
      request: { params: IdParam },
      responses: {
        200: { description: 'The complaint', content: { 'application/json': { schema: ComplaintDetailSchema } } },
        ...errorResponses(400, 401, 404),
      },
    }),
    async (c) => {
      const { complaintId } = c.req.valid('param');
      const caseId = caseIdOf(complaintId);
      // Someone who may not read it is told it does not exist, as for any case.
      if (!(await canReadCase(db, c.get('user'), caseId)))
        throw new ApiError('NOT_FOUND', `no complaint ${complaintId}`);
      const row = await loadComplaint(complaintId);
      const data = row.data as Partial<ComplaintData>;
      return c.json(
        {
          ...toComplaintSummary(row),
          description: row.description,
          acceptedBy: data.acceptedBy ?? row.initiatorId,
          repeatOf: data.repeatOf ?? [],
          raiseSuggested: data.raiseSuggested ?? null,
          initialInvestigation: data.initialInvestigation ?? null,
          handling: data.handling ?? [],
          rootCause: (data.rootCause as Record<string, unknown> | null | undefined) ?? null,
          rootCauseReviews: data.rootCauseReviews ?? [],
          feedback: (data.feedback as Record<string, unknown> | null | undefined) ?? null,
          rectificationTaskIds: data.rectificationTaskIds ?? [],
          links: {
            case: `/api/cases/${encodeURIComponent(caseId)}`,
            temporalUi: temporalUiLink(settings.temporalUiUrl, settings.temporalNamespace, caseId),
          },
        },
        200,
      );
    },
  );

  contractSteps(app, complaintContract, {
    resource: '/api/complaints',
    idName: 'complaintId',
    idParam: IdParam,
    tag: 'Complaints',
    resultSchema: StepSchema,
    temporal,
    load: loadComplaint,
    before: { rectifications: (body) => requireActiveUser(db, String(body.ownerId), 'ownerId') },
  });

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/complaints/{complaintId}/raise-incident',
      tags: ['Complaints'],
      summary:
        'Raise a serious or repeated complaint to an incident (managers), linked both ways: one step of the complaint, which starts the incident',
      security: bearer,
      middleware: [requireRole('manager')] as const,
      request: { params: IdParam, body: json(ReportIncidentSchema.partial({ title: true })) },
      responses: {
        201: {
          description: 'The incident',
          content: {
            'application/json': {
              schema: z.object({ incidentCaseId: z.string(), incidentId: z.string(), grade: z.string() }),
            },
          },
        },
        ...errorResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => {
      const { complaintId } = c.req.valid('param');
      const complaint = await loadComplaint(complaintId);
      if (complaint.data.linkedIncidentCaseId)
        throw new ApiError('CONFLICT', `already raised to ${complaint.data.linkedIncidentCaseId}`);
      if (complaint.status === 'closed') throw new ApiError('CONFLICT', `complaint ${complaintId} is closed`);
      const body = c.req.valid('json');
      // The API checks the report as reporting an incident does; the complaint's workflow starts the
      // incident and records the link, in one Update that answers once both can be read.
      const { incident } = await checkIncidentReport(deps, c.get('user'), {
        ...body,
        title: body.title ?? `From complaint ${complaintId}: ${complaint.title}`,
      });
      const raised = await sendCaseUpdate(temporal, complaint.id, complaintContract.steps.raiseIncident.update, {
        actor: actorOf(c),
        incident: { ...incident, timings: incident.timings as Record<string, unknown> | undefined },
      });
      return c.json({ incidentCaseId: raised.incidentCaseId, incidentId: raised.incidentId, grade: raised.grade }, 201);
    },
  );

  return app;
}
