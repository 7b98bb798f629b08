/**
 * The audit programme (审计, issue 12 §4): audits as cases
 * (workflows/audit.ts), started and worked by internal audit, the
 * independent third line (finance §5.2), and the annual audit plan, which
 * must hold the data-security compliance check (e-commerce §2.1).
 */
import { createRoute, z } from '@hono/zod-openapi';
import { and, asc, eq, inArray } from 'drizzle-orm';
import { auditContract } from '../../contracts/audit';
import { withAuditedWrite } from '../../db/audit';
import { auditPlanEntries, cases, evidence, tasks } from '../../db/schema';
import { AUDIT_TYPES, AUDIT_TYPE_LABELS, auditPlanProblem, CHECKLIST_TEMPLATES } from '../../domain/audits';
import { BUSINESS_KEY_PATTERN } from '../../domain/cases';
import { startCaseWorkflow } from '../../platform/cases';
import { GovAuditType } from '../../workflows/searchAttributes';
import { currentPolicy } from '../../platform/policy';
import type { AuditData, auditWorkflow } from '../../workflows/audit';
import { assertCanReadCase } from '../../platform/access';
import { esc, heading, page, table } from '../reports/html';
import { requireRole } from '../auth';
import { refuseLockedTimings } from '../caseTimings';
import { temporalUiLink, toTaskDto } from '../dto';
import { ApiError } from '../errors';
import { ApprovalTimingsSchema } from '../schemas';
import { StepTimingsSchema } from './supplierReviews';
import { bearer, contractSteps, errorResponses, reportRoutes, requireActiveUser, router, type AppDeps } from './common';

const text = (max: number) => z.string().trim().min(1).max(max);
const json = <T extends z.ZodTypeAny>(schema: T) => ({ required: true, content: { 'application/json': { schema } } });
const auditKey = z.string().regex(BUSINESS_KEY_PATTERN, 'letters, digits, ".", "_" or "-", at most 100');
const AuditKeyParam = z.object({ auditKey });
const YearParam = z.object({ year: z.coerce.number().int().min(2000).max(2100) });
/** Who reads the plan: the lines that plan, do or oversee audits. */
const PLAN_READERS = ['internal_audit', 'compliance', 'risk', 'manager', 'auditor', 'admin'] as const;

const StartAuditSchema = z
  .object({
    auditKey: auditKey.openapi({ description: 'business key; the case id is audit:<auditKey>' }),
    type: z.enum(AUDIT_TYPES).openapi({ description: 'internal, compliance, data_security or security' }),
    title: text(200).openapi({ example: '2026 data-security compliance check' }),
    scope: text(5000).openapi({ example: 'Payment and customer data systems, January to November' }),
    leadAuditorId: z.string().min(1).max(64).optional().openapi({
      description: 'leads the fieldwork; never approves the report',
    }),
    auditeeOwnerId: z.string().min(1).max(64).openapi({ description: 'the audited function’s owner' }),
    thirdParty: z
      .object({ firm: text(200) })
      .strict()
      .optional()
      .openapi({ description: 'done by a third party (e-commerce §6.4): its report is attached before approval' }),
    timings: z
      .object({ response: StepTimingsSchema.optional(), approval: ApprovalTimingsSchema.optional() })
      .strict()
      .optional()
      .openapi({
        description:
          'overrides of the response ladder (policy audit.findingResponseWithin) and the report approval’s, for tests and demos: refused with 403 CASE_TIMINGS_LOCKED unless the deployment sets GOVERNANCE_CASE_TIMINGS=allow',
      }),
  })
  .strict()
  .openapi('StartAudit');

const AuditPlanSchema = z
  .object({
    year: z.number().int().min(2000).max(2100),
    audits: z
      .array(
        z
          .object({
            auditKey,
            type: z.enum(AUDIT_TYPES),
            title: text(200),
            plannedFor: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a month: YYYY-MM'),
          })
          .strict(),
      )
      .min(1)
      .max(200),
  })
  .strict()
  .openapi('AuditPlan');

/** The audit report (审计报告): what management and regulators read (e-commerce §6.4). */
export interface AuditReport {
  caseId: string;
  title: string;
  status: string;
  stage: string;
  outcome: string | null;
  data: AuditData;
  approvals: Array<ReturnType<typeof toTaskDto>>;
  rectificationItems: Array<ReturnType<typeof toTaskDto>>;
  links: { temporalUi: string };
}

export function renderAuditReport(r: AuditReport): string {
  const d = r.data;
  const body = [
    heading('Audit', '审计'),
    table(
      ['Type', 'Scope', 'Status', 'Third party'],
      [[`${d.label.en} · ${d.label.zh}`, d.scope, `${r.status} / ${r.stage}`, d.thirdParty?.firm ?? '—']],
    ),
    heading('Checklist and fieldwork', '检查清单与现场审计'),
    table(
      ['Item', 'Source', 'Result', 'Evidence'],
      d.checklist.map((i) => [`${i.en} · ${i.zh}`, i.source, i.result ?? '—', (i.evidenceIds ?? []).join(', ')]),
    ),
    heading('Findings and management responses', '审计发现与管理层回复'),
    table(
      ['Finding', 'Severity', 'Criterion', 'Root cause', 'Owner', 'Response'],
      d.findings.map((f) => [
        `${f.findingKey}: ${f.title}`,
        f.severity,
        f.criterion,
        f.rootCause,
        f.ownerId,
        !f.response
          ? 'awaited'
          : f.response.response === 'accept'
            ? f.response.remedy === 'improvement'
              ? `accepted: ${f.response.actionPlan} (improvement cycle ${f.cycleCaseId ?? 'opened at release'})`
              : `accepted: ${f.response.actionPlan} (due ${f.response.dueAt})`
            : `disputed: ${f.response.reason}`,
      ]),
    ),
    heading('Report approval', '报告审批'),
    table(
      ['Task', 'Status', 'Votes'],
      r.approvals.map((t) => [t.title, t.status, t.votes.map((v) => `${v.userId}: ${v.decision}`).join('; ')]),
    ),
    heading('Rectification', '整改'),
    table(
      ['Item', 'Owner', 'Status', 'Verified by'],
      r.rectificationItems.map((t) => [t.title, t.assigneeId, t.status, t.decidedBy]),
    ),
    `<p>Full replayable history · 完整历史: <a href="${esc(r.links.temporalUi)}">${esc(r.links.temporalUi)}</a></p>`,
  ].join('\n');
  return page('Audit report · 审计报告', r.title, body);
}

export function auditProgrammeRoutes(deps: AppDeps) {
  const { db, temporal, settings } = deps;
  const app = router();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/audits',
      tags: ['Audits'],
      summary: 'Start an audit (internal audit only): its checklist comes from the template of its type',
      description:
        'Internal audit only (the third line, finance §5.2). The case runs fieldwork → findings → management responses → report approval → rectification → closed (workflows/audit.ts).',
      security: bearer,
      middleware: [requireRole('internal_audit')] as const,
      request: { body: json(StartAuditSchema) },
      responses: {
        201: {
          description: 'Started, in fieldwork',
          content: {
            'application/json': {
              schema: z.object({
                caseId: z.string(),
                stage: z.string(),
                checklist: z.array(z.object({ id: z.string(), en: z.string(), zh: z.string(), source: z.string() })),
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
      refuseLockedTimings(settings, { timings: body.timings });
      const user = c.get('user');
      await requireActiveUser(db, body.auditeeOwnerId, 'auditeeOwnerId', { mayAct: true });
      if (body.leadAuditorId) await requireActiveUser(db, body.leadAuditorId, 'leadAuditorId', { mayAct: true });
      const policy = await currentPolicy(db);
      const caseId = auditContract.caseId(body.auditKey);
      const checklist = CHECKLIST_TEMPLATES[body.type].map((i) => ({ ...i }));
      const started = await startCaseWorkflow<typeof auditWorkflow>(temporal, {
        workflowType: 'auditWorkflow',
        caseId,
        taskQueue: settings.taskQueue,
        process: auditContract.process,
        stage: 'fieldwork',
        searchAttributes: [{ key: GovAuditType, value: body.type }],
        args: [
          {
            caseId,
            auditKey: body.auditKey,
            type: body.type,
            title: body.title,
            scope: body.scope,
            checklist,
            startedBy: user.id,
            leadAuditorId: body.leadAuditorId,
            auditeeOwnerId: body.auditeeOwnerId,
            thirdParty: body.thirdParty,
            policy,
            timings: body.timings,
          },
        ],
      });
      if (!started) throw new ApiError('CONFLICT', `a case with id ${caseId} already exists`);
      return c.json(
        {
          caseId,
          stage: started.stage,
          checklist,
          links: { temporalUi: temporalUiLink(settings.temporalUiUrl, settings.temporalNamespace, caseId) },
        },
        201,
      );
    },
  );

  contractSteps(app, auditContract, {
    resource: '/api/audits',
    idName: 'auditKey',
    idParam: AuditKeyParam,
    tag: 'Audits',
    resultSchema: z.object({ stage: z.string() }).passthrough(),
    temporal,
    load: async (key) => {
      const caseId = auditContract.caseId(key);
      const [row] = await db
        .select({ id: cases.id, ownerId: cases.ownerId, process: cases.process })
        .from(cases)
        .where(eq(cases.id, caseId));
      if (!row || row.process !== auditContract.process) throw new ApiError('NOT_FOUND', `no audit ${key}`);
      return row;
    },
    before: {
      // Evidence is what was uploaded to this audit's case; anything else is refused before the workflow hears of it.
      fieldwork: async (body, caseId) => {
        const results = body.results as Array<{ evidenceIds?: string[] }>;
        const ids = [
          ...new Set([
            ...results.flatMap((r) => r.evidenceIds ?? []),
            ...(body.thirdPartyReportEvidenceId ? [body.thirdPartyReportEvidenceId as string] : []),
          ]),
        ];
        if (!ids.length) return;
        const found = await db
          .select({ id: evidence.id })
          .from(evidence)
          .where(and(eq(evidence.caseId, caseId), inArray(evidence.id, ids)));
        const missing = ids.filter((id) => !found.some((f) => f.id === id));
        if (missing.length)
          throw new ApiError(
            'UNPROCESSABLE',
            `evidence not uploaded to ${caseId}: ${missing.join(', ')}`,
            { evidenceIds: missing },
            'EVIDENCE_NOT_ON_CASE',
          );
      },
      findings: async (body) => {
        for (const f of body.findings as Array<{ ownerId: string }>)
          await requireActiveUser(db, f.ownerId, 'findings.ownerId', { mayAct: true });
      },
    },
  });

  reportRoutes<AuditReport>(app, {
    path: '/api/audits/{auditKey}/report',
    idName: 'auditKey',
    idParam: AuditKeyParam,
    tag: 'Audits',
    summary: 'The audit report (审计报告): checklist results, findings, responses, approval and rectification',
    schemaName: 'AuditReport',
    readable: (key, user) =>
      assertCanReadCase(db, user, auditContract.caseId(key), () => new ApiError('NOT_FOUND', `no audit ${key}`)),
    build: async (key) => {
      const caseId = auditContract.caseId(key);
      const [row] = await db.select().from(cases).where(eq(cases.id, caseId));
      if (!row || row.process !== auditContract.process) throw new ApiError('NOT_FOUND', `no audit ${key}`);
      const taskRows = await db
        .select()
        .from(tasks)
        .where(eq(tasks.caseId, caseId))
        .orderBy(asc(tasks.createdAt), asc(tasks.id));
      return {
        caseId,
        title: row.title,
        status: row.status,
        stage: row.stage,
        outcome: row.outcome ?? null,
        data: row.data as AuditData,
        approvals: taskRows.filter((t) => t.kind === 'approval').map((t) => toTaskDto(t)),
        rectificationItems: taskRows.filter((t) => t.kind === 'rectification').map((t) => toTaskDto(t)),
        links: { temporalUi: temporalUiLink(settings.temporalUiUrl, settings.temporalNamespace, caseId) },
      };
    },
    render: renderAuditReport,
  });

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/audit-plans',
      tags: ['Audits'],
      summary: 'Set the annual audit plan (internal audit only); it must include the data-security compliance check',
      description:
        'One plan per year. Refused (422 DATA_SECURITY_CHECK_REQUIRED) without an audit of type data_security: e-commerce manual §2.1 requires the data-security compliance check at least once a year.',
      security: bearer,
      middleware: [requireRole('internal_audit')] as const,
      request: { body: json(AuditPlanSchema) },
      responses: {
        201: {
          description: 'Planned',
          content: { 'application/json': { schema: z.object({ year: z.number(), audits: z.number() }) } },
        },
        ...errorResponses(400, 401, 403, 409, 422),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const user = c.get('user');
      const { values: policy } = await currentPolicy(db);
      const problem = auditPlanProblem(body.audits, policy.audit.dataSecurityCheckMonths);
      if (problem?.code === 'DUPLICATE_AUDIT')
        throw new ApiError('BAD_REQUEST', `invalid body: ${problem.message}`, [
          { field: 'body.audits.auditKey', message: problem.message },
        ]);
      if (problem) throw new ApiError('UNPROCESSABLE', problem.message, undefined, problem.code);
      const wrongYear = body.audits.find((a) => !a.plannedFor.startsWith(`${body.year}-`));
      if (wrongYear)
        throw new ApiError('BAD_REQUEST', `invalid body: ${wrongYear.auditKey} is planned outside ${body.year}`, [
          { field: 'body.audits.plannedFor', message: `must be a month of ${body.year}` },
        ]);
      const keys = body.audits.map((a) => a.auditKey);
      const [year] = await db
        .select({ y: auditPlanEntries.year })
        .from(auditPlanEntries)
        .where(eq(auditPlanEntries.year, body.year))
        .limit(1);
      if (year) throw new ApiError('CONFLICT', `the audit plan for ${body.year} already exists`);
      const taken = await db
        .select({ auditKey: auditPlanEntries.auditKey })
        .from(auditPlanEntries)
        .where(inArray(auditPlanEntries.auditKey, keys));
      if (taken.length)
        throw new ApiError('CONFLICT', `already planned in another year: ${taken.map((t) => t.auditKey).join(', ')}`);
      const written = await withAuditedWrite(
        db,
        {
          idempotencyKey: `audit-plan:${body.year}`,
          actorId: user.id,
          action: 'audit_plan.created',
          payload: { year: body.year, audits: body.audits },
        },
        async (tx) => {
          await tx
            .insert(auditPlanEntries)
            .values(body.audits.map((a) => ({ year: body.year, ...a, createdBy: user.id })));
        },
      );
      // Another call planned the same year in the meantime: its plan stands.
      if (!written.applied) throw new ApiError('CONFLICT', `the audit plan for ${body.year} already exists`);
      return c.json({ year: body.year, audits: body.audits.length }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/audit-plans/{year}',
      tags: ['Audits'],
      summary: 'The annual audit plan: each planned audit and its case’s status',
      security: bearer,
      middleware: [requireRole(...PLAN_READERS)] as const,
      request: { params: YearParam },
      responses: {
        200: {
          description: 'The plan',
          content: { 'application/json': { schema: z.record(z.string(), z.unknown()).openapi('AuditPlanView') } },
        },
        ...errorResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const { year } = c.req.valid('param');
      const entries = await db
        .select()
        .from(auditPlanEntries)
        .where(eq(auditPlanEntries.year, year))
        .orderBy(asc(auditPlanEntries.plannedFor), asc(auditPlanEntries.auditKey));
      if (!entries.length) throw new ApiError('NOT_FOUND', `no audit plan for ${year}`);
      const caseIds = entries.map((e) => auditContract.caseId(e.auditKey));
      const rows = await db
        .select({ id: cases.id, stage: cases.stage, status: cases.status, outcome: cases.outcome })
        .from(cases)
        .where(inArray(cases.id, caseIds));
      const audits = entries.map((e) => {
        const caseId = auditContract.caseId(e.auditKey);
        const row = rows.find((r) => r.id === caseId);
        return {
          auditKey: e.auditKey,
          type: e.type,
          label: AUDIT_TYPE_LABELS[e.type as keyof typeof AUDIT_TYPE_LABELS],
          title: e.title,
          plannedFor: e.plannedFor,
          caseId,
          status: row ? row.status : 'not_started',
          stage: row?.stage ?? null,
          outcome: row?.outcome ?? null,
        };
      });
      return c.json(
        {
          year,
          audits,
          dataSecurityCheck: {
            rule: 'e-commerce manual §2.1: the data-security compliance check at least once a year',
            planned: audits.filter((a) => a.type === 'data_security').map((a) => a.auditKey),
          },
        },
        200,
      );
    },
  );
  return app;
}
