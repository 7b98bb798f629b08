/**
 * The audit programme (审计, issue 12 §4): audits as cases
 * (workflows/audit.ts), started and worked by internal audit, the
 * independent third line (finance §5.2), and the annual audit plan, which
 * must hold the data-security compliance check (e-commerce §2.1).
 */
import { createHash } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { and, asc, eq, inArray, ne } from 'drizzle-orm';
import { auditContract } from '../../contracts/audit';
import { withAuditedWrite } from '../../db/audit';
import { auditPlanEntries, cases, evidence, tasks } from '../../db/schema';
import {
  AUDIT_TYPES,
  AUDIT_TYPE_LABELS,
  auditPlanProblem,
  CHECKLIST_TEMPLATES,
  type AuditType,
  type PlannedAudit,
} from '../../domain/audits';
import { BUSINESS_KEY_PATTERN } from '../../domain/cases';
import { startCaseWorkflow } from '../../platform/cases';
import { GovAuditType, GovPeriod } from '../../workflows/searchAttributes';
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

const PlannedAuditSchema = z
  .object({
    auditKey,
    type: z.enum(AUDIT_TYPES),
    title: text(200),
    plannedFor: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a month: YYYY-MM'),
  })
  .strict();
type PlannedAuditInput = z.infer<typeof PlannedAuditSchema>;

const AuditPlanSchema = z
  .object({
    year: z.number().int().min(2000).max(2100),
    audits: z.array(PlannedAuditSchema).min(1).max(200),
  })
  .strict()
  .openapi('AuditPlan');

const AuditPlanAdditionSchema = z
  .object({
    audits: z.array(PlannedAuditSchema).min(1).max(200),
    reason: text(1000).optional().openapi({
      description: 'why the plan changes (a new risk, an incident, a regulator’s request); kept in the audit trail',
    }),
  })
  .strict()
  .openapi('AuditPlanAddition');

/** Thrown inside a plan's write when a concurrent call planned one of its audits first: the write rolls back. */
class PlanChangedMeanwhile extends Error {}

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
      // A planned audit carries its plan's year, as the plan's launcher does: auditors list a
      // year's audit programme in Temporal UI by GovPeriod. Set at the start, so no workflow
      // command changes and recorded histories replay as they are.
      const [planned] = await db
        .select({ year: auditPlanEntries.year })
        .from(auditPlanEntries)
        .where(eq(auditPlanEntries.auditKey, body.auditKey));
      const started = await startCaseWorkflow<typeof auditWorkflow>(temporal, {
        workflowType: 'auditWorkflow',
        caseId,
        taskQueue: settings.taskQueue,
        process: auditContract.process,
        stage: 'fieldwork',
        searchAttributes: [
          { key: GovAuditType, value: body.type },
          ...(planned ? [{ key: GovPeriod, value: String(planned.year) }] : []),
        ],
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

  /** 400 for an audit planned outside the plan's year. */
  function refuseOutsideYear(year: number, audits: PlannedAuditInput[]) {
    const wrongYear = audits.find((a) => !a.plannedFor.startsWith(`${year}-`));
    if (wrongYear)
      throw new ApiError('BAD_REQUEST', `invalid body: ${wrongYear.auditKey} is planned outside ${year}`, [
        { field: 'body.audits.plannedFor', message: `must be a month of ${year}` },
      ]);
  }

  /** 400 for an audit key twice in one request (the data-security rule is checked on the plan as a whole). */
  function refuseDuplicates(audits: PlannedAuditInput[]) {
    const problem = auditPlanProblem(audits);
    if (problem?.code === 'DUPLICATE_AUDIT')
      throw new ApiError('BAD_REQUEST', `invalid body: ${problem.message}`, [
        { field: 'body.audits.auditKey', message: problem.message },
      ]);
  }

  /** 422 when a year's plan would not hold the data-security checks the policy asks (e-commerce §2.1). */
  async function refuseWithoutDataSecurityChecks(audits: PlannedAudit[]) {
    const { values: policy } = await currentPolicy(db);
    const problem = auditPlanProblem(audits, policy.audit.dataSecurityCheckMonths);
    if (problem) throw new ApiError('UNPROCESSABLE', problem.message, undefined, problem.code);
  }

  /** 409 when an audit key is planned in another year: a key is one audit, planned once. */
  async function refusePlannedElsewhere(year: number, keys: string[]) {
    const taken = await db
      .select({ auditKey: auditPlanEntries.auditKey, year: auditPlanEntries.year })
      .from(auditPlanEntries)
      .where(and(inArray(auditPlanEntries.auditKey, keys), ne(auditPlanEntries.year, year)))
      .orderBy(asc(auditPlanEntries.auditKey));
    if (taken.length)
      throw new ApiError(
        'CONFLICT',
        `already planned in another year: ${taken.map((t) => `${t.auditKey} (${t.year})`).join(', ')}`,
        { audits: taken },
        'AUDIT_PLANNED_IN_ANOTHER_YEAR',
      );
  }

  /** The year's plan as recorded: each audit and who planned it ('system': the annual Schedule). */
  const planOf = (year: number) =>
    db
      .select()
      .from(auditPlanEntries)
      .where(eq(auditPlanEntries.year, year))
      .orderBy(asc(auditPlanEntries.plannedFor), asc(auditPlanEntries.auditKey));

  const planExists = (year: number, openedBy: string) =>
    new ApiError(
      'CONFLICT',
      `the audit plan for ${year} already exists (${openedBy === 'system' ? 'opened by the annual audit plan Schedule' : `set by ${openedBy}`}): add audits to it with POST /api/audit-plans/${year}/audits`,
      undefined,
      'AUDIT_PLAN_EXISTS',
    );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/audit-plans',
      tags: ['Audits'],
      summary: 'Set the annual audit plan (internal audit only); it must include the data-security compliance check',
      description:
        'One plan per year: a year planned already, by internal audit or by the annual audit plan Schedule, is 409 AUDIT_PLAN_EXISTS; add audits to it with POST /api/audit-plans/{year}/audits. Refused (422 DATA_SECURITY_CHECK_REQUIRED) without an audit of type data_security: e-commerce manual §2.1 requires the data-security compliance check at least once a year. An audit key planned in another year is 409 AUDIT_PLANNED_IN_ANOTHER_YEAR.',
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
      refuseDuplicates(body.audits);
      await refuseWithoutDataSecurityChecks(body.audits);
      refuseOutsideYear(body.year, body.audits);
      const keys = body.audits.map((a) => a.auditKey);
      // Why a plan cannot be written: the year is planned, or a key is planned in another year.
      const refuseTaken = async () => {
        const [first] = await planOf(body.year);
        if (first) throw planExists(body.year, first.createdBy);
        await refusePlannedElsewhere(body.year, keys);
      };
      await refuseTaken();
      try {
        const written = await withAuditedWrite(
          db,
          {
            idempotencyKey: `audit-plan:${body.year}`,
            actorId: user.id,
            action: 'audit_plan.created',
            payload: { year: body.year, audits: body.audits },
          },
          async (tx) => {
            const rows = await tx
              .insert(auditPlanEntries)
              .values(body.audits.map((a) => ({ year: body.year, ...a, createdBy: user.id })))
              .onConflictDoNothing()
              .returning({ auditKey: auditPlanEntries.auditKey });
            if (rows.length !== body.audits.length) throw new PlanChangedMeanwhile();
          },
        );
        if (!written.applied) throw new PlanChangedMeanwhile();
      } catch (err) {
        if (!(err instanceof PlanChangedMeanwhile)) throw err;
        // Another call planned the year, or one of these keys, in the meantime: its plan stands.
        await refuseTaken();
        throw new ApiError('CONFLICT', `the audit plan for ${body.year} changed meanwhile: read it and try again`);
      }
      return c.json({ year: body.year, audits: body.audits.length }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/audit-plans/{year}/audits',
      tags: ['Audits'],
      summary: 'Add audits to a year’s audit plan (internal audit only), idempotent by auditKey',
      description:
        'Internal audit plans the year’s audits into the plan that exists, the one it set or the one the annual audit plan Schedule opened with the data-security compliance check (404 when the year has no plan: set it with POST /api/audit-plans). An audit key the year’s plan holds already is kept as planned and listed in alreadyPlanned, so a repeated call adds nothing; one planned in another year is 409 AUDIT_PLANNED_IN_ANOTHER_YEAR. The plan with the additions must still hold the data-security checks the policy asks (422 DATA_SECURITY_CHECK_REQUIRED). Each addition is an audit event (audit_plan.audits_added) with its actor and reason.',
      security: bearer,
      middleware: [requireRole('internal_audit')] as const,
      request: { params: YearParam, body: json(AuditPlanAdditionSchema) },
      responses: {
        200: {
          description: 'The plan holds the audits',
          content: {
            'application/json': {
              schema: z
                .object({
                  year: z.number(),
                  added: z.array(z.string()).openapi({ description: 'the audit keys this call planned' }),
                  alreadyPlanned: z
                    .array(z.string())
                    .openapi({ description: 'the audit keys the plan held already, kept as planned' }),
                  audits: z.number().openapi({ description: 'how many audits the year’s plan holds now' }),
                })
                .openapi('AuditPlanAdded'),
            },
          },
        },
        ...errorResponses(400, 401, 403, 404, 409, 422),
      },
    }),
    async (c) => {
      const { year } = c.req.valid('param');
      const body = c.req.valid('json');
      const user = c.get('user');
      refuseDuplicates(body.audits);
      refuseOutsideYear(year, body.audits);
      const keys = body.audits.map((a) => a.auditKey);
      // A concurrent addition of the same audits is answered from the plan it left (a second pass).
      for (let pass = 1; ; pass++) {
        const plan = await planOf(year);
        if (!plan.length)
          throw new ApiError(
            'NOT_FOUND',
            `no audit plan for ${year}: set it with POST /api/audit-plans, with its data-security compliance check`,
          );
        const planned = new Set(plan.map((e) => e.auditKey));
        const additions = body.audits.filter((a) => !planned.has(a.auditKey));
        await refusePlannedElsewhere(year, keys);
        // The plan as it will be must hold the checks the policy asks now (it may ask more than when the plan was set).
        await refuseWithoutDataSecurityChecks([
          ...plan.map((e) => ({ auditKey: e.auditKey, type: e.type as AuditType })),
          ...additions,
        ]);
        const answer = (added: string[]) =>
          c.json(
            {
              year,
              added,
              alreadyPlanned: keys.filter((k) => planned.has(k)),
              audits: plan.length + added.length,
            },
            200,
          );
        if (!additions.length) return answer([]);
        const addedKeys = additions.map((a) => a.auditKey);
        try {
          const written = await withAuditedWrite(
            db,
            {
              // One event per distinct addition to the year's plan, in the plan's partition (audit-plan:<year>).
              idempotencyKey: `audit-plan:${year}:added:${createHash('sha256')
                .update([...addedKeys].sort().join('\n'))
                .digest('hex')}`,
              actorId: user.id,
              action: 'audit_plan.audits_added',
              reason: body.reason ?? null,
              payload: { year, audits: additions },
            },
            async (tx) => {
              const rows = await tx
                .insert(auditPlanEntries)
                .values(additions.map((a) => ({ year, ...a, createdBy: user.id })))
                .onConflictDoNothing()
                .returning({ auditKey: auditPlanEntries.auditKey });
              if (rows.length !== additions.length) throw new PlanChangedMeanwhile();
            },
          );
          if (!written.applied) throw new PlanChangedMeanwhile();
          return answer(addedKeys);
        } catch (err) {
          if (!(err instanceof PlanChangedMeanwhile)) throw err;
          if (pass >= 3)
            throw new ApiError(
              'CONFLICT',
              `the audit plan for ${year} keeps changing meanwhile: read it and try again`,
            );
        }
      }
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
      const entries = await planOf(year);
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
          // 'system': planned by the annual audit plan Schedule; else the internal auditor who planned it.
          plannedBy: e.createdBy,
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
