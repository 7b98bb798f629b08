/**
 * Incidents (突发事件) through the API: report with a suggested grade (an
 * override needs its reason), then each step of the close-out loop, derived
 * from the incident's contract (contracts/incident.ts), as an Update to the
 * incident's workflow. Close-out decisions go through
 * POST /api/tasks/{taskId}/decision; the review report is JSON and HTML.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { assertCanReadCase } from '../../platform/access';
import { startCaseWorkflow } from '../../platform/cases';
import { and, asc, eq, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { auditEvents, cases, tasks, users, type CaseRow } from '../../db/schema';
import { incidentContract, INCIDENT_STAGES } from '../../contracts/incident';
import type { PolicySnapshot } from '../../domain/policy';
import { currentPolicy } from '../../platform/policy';
import { newKeySuffix } from '../../platform/idempotentCalls';
import { INCIDENT_CATEGORIES, INCIDENT_GRADES, suggestGrade, type IncidentGrade } from '../../domain/incidents';
import type { IncidentData, IncidentInput, incidentWorkflow } from '../../workflows/incident';
import type { AuthUser } from '../auth';
import { temporalUiLink, toAuditDto, toCaseDto, toTaskDto } from '../dto';
import { ApiError } from '../errors';
import { renderIncidentReport, responseTimes, type IncidentReport } from '../reports/incidentReport';
import { refuseLockedTimings } from '../caseTimings';
import { ApprovalTimingsSchema, CaseSchema, durationSchema, RectificationTimingsSchema } from '../schemas';
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
import { stepTimingsProblem, StepTimingsSchema } from './supplierReviews';
import { bearer, contractSteps, errorResponses, reportRoutes, router, type AppDeps } from './common';

export const ImpactSchema = z
  .object({
    affectedUsers: z.number().int().min(0).max(10_000_000_000),
    amountCny: z.number().min(0).max(1e15),
    dataRecordsExposed: z.number().int().min(0).optional(),
    outageMinutes: z.number().int().min(0).optional(),
  })
  .strict()
  .openapi('IncidentImpact');

export const ReportIncidentSchema = z
  .object({
    incidentId: z.string().regex(incidentContract.keyPattern, 'letters, digits, ".", "_" or "-"').optional(),
    title: z.string().trim().min(1).max(200),
    description: z.string().max(10_000).optional(),
    category: z.enum(INCIDENT_CATEGORIES),
    system: z.string().trim().min(1).max(100).openapi({
      description:
        'the affected system or service; a repeat is the same category and system within the policy’s window (90 days by default)',
    }),
    occurredAt: z.iso.datetime({ offset: true }),
    impact: ImpactSchema,
    grade: z
      .enum(INCIDENT_GRADES)
      .optional()
      .openapi({ description: 'defaults to the grade suggested from the impact' }),
    gradeReason: z
      .string()
      .trim()
      .min(1)
      .max(2000)
      .optional()
      .openapi({ description: 'required when grade differs from the suggestion' }),
    ownerId: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .openapi({ description: 'the incident owner (a manager); defaults to the reporter when a manager' }),
    timings: z
      .object({
        acknowledgeWithin: durationSchema.optional(),
        stabiliseWithin: durationSchema.optional(),
        notifyRegulatorWithin: durationSchema.optional().openapi({
          description: 'the regulator-notice deadline of whichever grade requires the notice',
        }),
        step: StepTimingsSchema.optional().openapi({
          description: 'the ladder of the close-out request, owed from stabilisation',
        }),
        approval: ApprovalTimingsSchema.optional(),
        rectification: RectificationTimingsSchema.optional(),
      })
      .strict()
      .optional()
      .openapi({
        description:
          'per-case clocks instead of the policy’s: refused (403 CASE_TIMINGS_LOCKED) unless the deployment sets GOVERNANCE_CASE_TIMINGS=allow',
      }),
  })
  .strict()
  .openapi('ReportIncident');

export type ReportIncidentBody = z.infer<typeof ReportIncidentSchema>;

/**
 * An incident as reported and checked, less what the case that starts it
 * supplies: its case id, reporter and source, and the policy (the caller
 * passes it, or the workflow reads the one in force).
 */
export type CheckedIncident = Omit<IncidentInput, 'caseId' | 'reporterId' | 'sourceComplaintId' | 'policy'>;

/**
 * Checks a report as the handbook needs it (per-case timings locked unless
 * the deployment allows them, then well-formed; occurredAt not in the future;
 * a grade override with its reason; the owner an active manager) and builds
 * the incident's start: shared by POST /api/incidents, which starts it, and
 * raising a complaint, whose workflow starts it as its child. The grade is
 * suggested with the thresholds of the policy in force, which it returns.
 */
export async function checkIncidentReport(
  deps: Pick<AppDeps, 'db' | 'settings'>,
  reporter: AuthUser,
  body: ReportIncidentBody,
): Promise<{ incident: CheckedIncident; reasons: string[]; policy: PolicySnapshot }> {
  // Before anything is read or started: the clocks are the policy's unless the deployment allows otherwise.
  refuseLockedTimings(
    deps.settings,
    Object.fromEntries(Object.entries(body.timings ?? {}).map(([name, value]) => [`timings.${name}`, value])),
  );
  const policy = await currentPolicy(deps.db);
  const timingProblem =
    stepTimingsProblem('approval', body.timings?.approval, [policy.values.approval]) ??
    stepTimingsProblem('step', body.timings?.step, [policy.values.incident.closeOutRequest]);
  if (timingProblem) throw new ApiError('BAD_REQUEST', timingProblem);
  if (Date.parse(body.occurredAt) > Date.now() + 5 * 60_000) {
    throw new ApiError('BAD_REQUEST', 'invalid body: occurredAt is in the future');
  }
  const suggestion = suggestGrade({ ...body.impact, category: body.category }, policy.values.incident.gradeThresholds);
  const grade: IncidentGrade = body.grade ?? suggestion.grade;
  if (grade !== suggestion.grade && !body.gradeReason) {
    throw new ApiError(
      'BAD_REQUEST',
      `invalid body: gradeReason is required to override the suggested grade ${suggestion.grade} with ${grade}`,
      [{ field: 'body.gradeReason', message: 'required when grade differs from the suggestion' }],
    );
  }
  const ownerId = body.ownerId ?? (reporter.roles.includes('manager') ? reporter.id : undefined);
  if (!ownerId) throw new ApiError('BAD_REQUEST', 'invalid body: ownerId is required (the reporter is not a manager)');
  await requireManager(deps.db, ownerId);
  return {
    incident: {
      incidentId: body.incidentId ?? `INC-${newKeySuffix()}`,
      title: body.title,
      description: body.description,
      category: body.category,
      system: body.system,
      occurredAt: new Date(body.occurredAt).toISOString(),
      impact: body.impact,
      grade,
      suggestedGrade: suggestion.grade,
      gradeReason: body.gradeReason,
      ownerId,
      timings: body.timings,
    },
    reasons: suggestion.reasons,
    policy,
  };
}

/** Reports an incident: checks the report, then starts its case and answers once it has settled. */
export async function reportIncident(
  deps: Pick<AppDeps, 'db' | 'temporal' | 'settings'>,
  reporter: AuthUser,
  body: ReportIncidentBody,
) {
  const { incident, reasons, policy } = await checkIncidentReport(deps, reporter, body);
  const caseId = incidentContract.caseId(incident.incidentId);
  const started = await startCaseWorkflow<typeof incidentWorkflow>(deps.temporal, {
    workflowType: 'incidentWorkflow',
    caseId,
    taskQueue: deps.settings.taskQueue,
    process: incidentContract.process,
    stage: INCIDENT_STAGES[0],
    grade: incident.grade,
    args: [{ ...incident, caseId, reporterId: reporter.id, policy }],
  });
  if (!started) throw new ApiError('CONFLICT', `incident ${incident.incidentId} already exists`);
  return {
    caseId,
    incidentId: incident.incidentId,
    runId: started.runId,
    grade: incident.grade,
    suggestedGrade: incident.suggestedGrade,
    reasons,
  };
}

async function requireManager(db: Database, userId: string) {
  const [user] = await db.select({ active: users.active, roles: users.roles }).from(users).where(eq(users.id, userId));
  if (!user?.active || !user.roles.includes('manager')) {
    throw new ApiError('BAD_REQUEST', `invalid body: ownerId "${userId}" is not an active manager`);
  }
}

const IdParam = z.object({ incidentId: z.string().regex(incidentContract.keyPattern, 'an incident id') });
const StepSchema = z
  .object({
    stage: z.string(),
    grade: z.string(),
    downgradeTaskId: z
      .string()
      .optional()
      .openapi({ description: 'a downgrade’s approval task: the grade changes once it is approved' }),
  })
  .openapi('IncidentStep');

const json = <T extends z.ZodTypeAny>(schema: T) => ({ required: true, content: { 'application/json': { schema } } });

const IncidentListQuerySchema = KeysetQuerySchema.extend(CaseFilterQuerySchema.shape).extend({
  stage: z.enum(INCIDENT_STAGES).optional(),
  grade: z.enum(INCIDENT_GRADES).optional(),
  category: z.enum(INCIDENT_CATEGORIES).optional(),
});

const IncidentSummarySchema = CaseSchema.extend({
  incidentId: z.string(),
  grade: z.string().nullable(),
  category: z.string().nullable(),
  system: z.string().nullable(),
  occurredAt: z.string().nullable(),
}).openapi('IncidentSummary');

/** Newest first; the index on (created_at, id) serves it. */
const INCIDENT_ORDER = caseOrder('incidents');

function toIncidentSummary(row: CaseRow, now: Date) {
  const data = row.data as Partial<IncidentData>;
  return {
    ...toCaseDto(row, now),
    incidentId: row.businessKey,
    grade: data.grade ?? null,
    category: data.category ?? null,
    system: data.system ?? null,
    occurredAt: data.occurredAt ?? null,
  };
}

export function incidentRoutes(deps: AppDeps) {
  const { db, temporal, settings } = deps;
  const app = router();
  const caseIdOf = incidentContract.caseId;
  async function loadIncident(incidentId: string) {
    const [row] = await db
      .select()
      .from(cases)
      .where(eq(cases.id, caseIdOf(incidentId)));
    if (!row) throw new ApiError('NOT_FOUND', `no incident ${incidentId}`);
    return row;
  }

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/incidents',
      tags: ['Incidents'],
      summary: 'Report an incident (事件报告); the grade is suggested from the impact',
      security: bearer,
      request: { body: json(ReportIncidentSchema) },
      responses: {
        201: {
          description: 'Reported',
          content: {
            'application/json': {
              schema: z.object({
                caseId: z.string(),
                incidentId: z.string(),
                runId: z.string(),
                grade: z.string(),
                suggestedGrade: z.string(),
                reasons: z.array(z.string()),
                links: z.object({ temporalUi: z.string() }),
              }),
            },
          },
        },
        ...errorResponses(400, 401, 403, 409),
      },
    }),
    async (c) => {
      const started = await reportIncident(deps, c.get('user'), c.req.valid('json'));
      return c.json(
        {
          ...started,
          links: { temporalUi: temporalUiLink(settings.temporalUiUrl, settings.temporalNamespace, started.caseId) },
        },
        201,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/incidents/grade-suggestion',
      tags: ['Incidents'],
      summary: 'The grade the impact suggests, with the reasons, by the thresholds of the policy in force',
      security: bearer,
      request: { body: json(z.object({ category: z.enum(INCIDENT_CATEGORIES), impact: ImpactSchema }).strict()) },
      responses: {
        200: {
          description: 'Suggestion',
          content: { 'application/json': { schema: z.object({ grade: z.string(), reasons: z.array(z.string()) }) } },
        },
        ...errorResponses(400, 401),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const { values } = await currentPolicy(db);
      return c.json(suggestGrade({ ...body.impact, category: body.category }, values.incident.gradeThresholds), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/incidents',
      tags: ['Incidents'],
      summary: 'List incidents, newest first, with filters, search and keyset pagination',
      description:
        'Only the incidents the caller may read (as GET /api/cases). Filtered by grade, category, stage, status, owner, overdue and the date reported; q searches the title and the incident id. Pass `limit` (and then each page’s `nextCursor` as `cursor`) to walk the list.',
      security: bearer,
      request: { query: IncidentListQuerySchema },
      responses: {
        200: {
          description: 'A page of incidents',
          content: { 'application/json': { schema: keysetPageOf(IncidentSummarySchema, 'IncidentPage') } },
        },
        ...errorResponses(400, 401),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const paging = pagingOf(INCIDENT_ORDER, q);
      checkRange(q);
      const now = new Date();
      const filters: Array<SQL | undefined> = [
        eq(cases.process, incidentContract.process),
        ...caseFilters(cases, q, now),
      ];
      if (q.grade) filters.push(sql`${cases.data}->>'grade' = ${q.grade}`);
      if (q.category) filters.push(sql`${cases.data}->>'category' = ${q.category}`);
      const { rows, ...page } = await listCases(db, INCIDENT_ORDER, paging, and(...filters), c.get('user'));
      return c.json({ items: rows.map((row) => toIncidentSummary(row, now)), ...page }, 200);
    },
  );

  contractSteps(app, incidentContract, {
    resource: '/api/incidents',
    idName: 'incidentId',
    idParam: IdParam,
    tag: 'Incidents',
    resultSchema: StepSchema,
    temporal,
    load: loadIncident,
    before: {
      evaluation: async (body) => {
        const { rectificationItems } = body as z.output<typeof incidentContract.steps.evaluation.input>;
        for (const item of rectificationItems) {
          const [owner] = await db.select({ active: users.active }).from(users).where(eq(users.id, item.ownerId));
          if (!owner?.active)
            throw new ApiError(
              'BAD_REQUEST',
              `invalid body: rectification item owner "${item.ownerId}" is not an active user`,
            );
        }
      },
    },
  });

  async function buildReport(incidentId: string): Promise<IncidentReport> {
    const row = await loadIncident(incidentId);
    const data = row.data as IncidentData;
    const [taskRows, timeline] = await Promise.all([
      db.select().from(tasks).where(eq(tasks.caseId, row.id)).orderBy(asc(tasks.createdAt), asc(tasks.id)),
      db.select().from(auditEvents).where(eq(auditEvents.caseId, row.id)).orderBy(asc(auditEvents.seq)),
    ]);
    return {
      caseId: row.id,
      incidentId,
      title: row.title,
      status: row.status,
      stage: row.stage,
      outcome: row.outcome,
      ownerId: row.ownerId,
      reporterId: row.initiatorId,
      data,
      responseTimes: responseTimes(data),
      approvals: taskRows.filter((t) => t.kind === 'approval').map((t) => toTaskDto(t)),
      rectificationItems: taskRows.filter((t) => t.kind === 'rectification').map((t) => toTaskDto(t)),
      auditTrail: timeline.map(toAuditDto),
      links: { temporalUi: temporalUiLink(settings.temporalUiUrl, settings.temporalNamespace, row.id) },
    };
  }

  reportRoutes(app, {
    path: '/api/incidents/{incidentId}/report',
    idName: 'incidentId',
    idParam: IdParam,
    tag: 'Incidents',
    summary:
      'Incident review report: timeline, grade history, response times against deadlines, root cause, rectification status',
    schemaName: 'IncidentReport',
    build: buildReport,
    render: renderIncidentReport,
    readable: (incidentId, user) =>
      assertCanReadCase(db, user, caseIdOf(incidentId), () => new ApiError('NOT_FOUND', `no incident ${incidentId}`)),
  });

  return app;
}
