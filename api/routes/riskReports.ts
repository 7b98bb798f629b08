/**
 * Risk information reporting (风险信息报告, finance §5.5) through the API: the
 * control-effectiveness report (e-commerce §8.1) computed from the risk
 * register, as JSON, a printable page and CSV; and the periodic reports to
 * management and to the regulator, prepared by the risk function and
 * released by compliance (workflows/riskReport.ts).
 */
import { createRoute, z } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import {
  periodBounds,
  RISK_REPORT_AUDIENCES,
  RISK_REPORT_PREPARER_ROLES,
  RISK_REPORT_READER_ROLES,
  RISK_REPORT_REFUSALS,
  riskReportContract,
  riskReportKey,
} from '../../contracts/riskReport';
import { riskReports } from '../../db/schema';
import { startCaseWorkflow } from '../../platform/cases';
import { currentPolicy } from '../../platform/policy';
import type { riskReportWorkflow } from '../../workflows/riskReport';
import { requireRole } from '../auth';
import { temporalUiLink } from '../dto';
import { ApiError } from '../errors';
import {
  controlEffectivenessCsv,
  controlEffectivenessHtml,
  loadControlEffectiveness,
  riskReportCsv,
  riskReportHtml,
} from '../reports/riskReport';
import { bearer, errorResponses, router, type AppDeps } from './common';

const PERIOD = '20\\d\\d(?:-(?:0[1-9]|1[0-2])|-Q[1-4])?';
const PeriodSchema = z
  .string()
  .regex(new RegExp(`^${PERIOD}$`), 'a month (2026-10), a quarter (2026-Q3) or a year (2026)')
  .openapi({ example: '2026-Q3' });
const NewReportSchema = z
  .object({ audience: z.enum(RISK_REPORT_AUDIENCES), period: PeriodSchema })
  .strict()
  .openapi('NewRiskReport');
const StartedSchema = z
  .object({
    caseId: z.string(),
    audience: z.enum(RISK_REPORT_AUDIENCES),
    period: z.string(),
    status: z.string(),
    sha256: z.string(),
    links: z.object({ temporalUi: z.string() }),
  })
  .openapi('RiskReportStarted');
const DocumentParams = z.object({
  audience: z.enum(RISK_REPORT_AUDIENCES),
  period: z
    .string()
    .regex(new RegExp(`^${PERIOD}(?:\\.html|\\.csv)?$`), 'a period, optionally followed by .html or .csv')
    .openapi({ description: 'the period; add .html for the printable page, .csv for the tables', example: '2026-Q3' }),
});

const PeriodQuery = z.object({ periodDays: z.coerce.number().int().min(1).max(3660).default(90) });

export function riskReportRoutes(deps: AppDeps) {
  const { db, temporal, settings } = deps;
  const app = router();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/reports/control-effectiveness',
      tags: ['Reports'],
      summary:
        'Control-effectiveness report (控制有效性): risk level, share above appetite, control coverage, incidence rate, each with how it is computed',
      security: bearer,
      request: { query: PeriodQuery },
      responses: {
        200: {
          description: 'The report',
          content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } },
        },
        ...errorResponses(400, 401),
      },
    }),
    async (c) => c.json(await loadControlEffectiveness(db, c.req.valid('query').periodDays), 200),
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/reports/control-effectiveness.html',
      tags: ['Reports'],
      summary: 'The control-effectiveness report as a printable page',
      security: bearer,
      request: { query: PeriodQuery },
      responses: {
        200: { description: 'HTML', content: { 'text/html': { schema: z.string() } } },
        ...errorResponses(400, 401),
      },
    }),
    async (c) => c.html(controlEffectivenessHtml(await loadControlEffectiveness(db, c.req.valid('query').periodDays))),
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/reports/control-effectiveness.csv',
      tags: ['Reports'],
      summary: 'The control-effectiveness figures as CSV: value, numerator, denominator and method of each',
      security: bearer,
      request: { query: PeriodQuery },
      responses: {
        200: { description: 'CSV', content: { 'text/csv': { schema: z.string() } } },
        ...errorResponses(400, 401),
      },
    }),
    async (c) => {
      const { periodDays } = c.req.valid('query');
      const csv = controlEffectivenessCsv(await loadControlEffectiveness(db, periodDays));
      return c.body(csv, 200, {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="control-effectiveness-${periodDays}d.csv"`,
      });
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/risk-reports',
      tags: ['Risk reports'],
      summary:
        'Prepare the periodic risk report for management or the regulator (risk function); compliance releases it',
      description:
        'Risk function only (finance §5.5). Opens the case risk-report:<audience>:<period>, builds and stores the content (risk profile, warnings, incidents, audit findings, overdue treatments, KPIs) and opens the release approval for compliance, never the preparer. Answers once the approval task exists. A second report of the same audience and period is refused (409 REPORT_EXISTS); a period that has not begun is refused (422 PERIOD_NOT_STARTED).',
      security: bearer,
      middleware: [requireRole(...RISK_REPORT_PREPARER_ROLES)] as const,
      request: { body: { required: true, content: { 'application/json': { schema: NewReportSchema } } } },
      responses: {
        201: { description: 'Prepared, awaiting release', content: { 'application/json': { schema: StartedSchema } } },
        ...errorResponses(400, 401, 403, 409, 422),
      },
    }),
    async (c) => {
      const { audience, period } = c.req.valid('json');
      const user = c.get('user');
      const bounds = periodBounds(period)!;
      if (bounds.start.getTime() > Date.now()) {
        throw new ApiError(
          'UNPROCESSABLE',
          `the period ${period} has not begun: there is nothing to report yet`,
          undefined,
          'PERIOD_NOT_STARTED' satisfies keyof typeof RISK_REPORT_REFUSALS,
        );
      }
      const caseId = riskReportContract.caseId(riskReportKey(audience, period));
      const exists = () =>
        new ApiError(
          'CONFLICT',
          `the ${audience} report for ${period} exists (case ${caseId})`,
          undefined,
          'REPORT_EXISTS' satisfies keyof typeof RISK_REPORT_REFUSALS,
        );
      const [prior] = await db
        .select({ id: riskReports.caseId })
        .from(riskReports)
        .where(eq(riskReports.caseId, caseId));
      if (prior) throw exists();
      const policy = await currentPolicy(db);
      const started = await startCaseWorkflow<typeof riskReportWorkflow>(temporal, {
        workflowType: 'riskReportWorkflow',
        caseId,
        taskQueue: settings.taskQueue,
        process: riskReportContract.process,
        stage: 'awaiting_approval',
        args: [{ caseId, audience, period, preparedBy: user.id, policy }],
      });
      if (!started) throw exists();
      const [row] = await db
        .select({ status: riskReports.status, sha256: riskReports.contentSha256 })
        .from(riskReports)
        .where(eq(riskReports.caseId, caseId));
      return c.json(
        {
          caseId,
          audience,
          period,
          status: row?.status ?? 'awaiting_approval',
          sha256: row?.sha256 ?? '',
          links: { temporalUi: temporalUiLink(settings.temporalUiUrl, settings.temporalNamespace, caseId) },
        },
        201,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/risk-reports/{audience}/{period}',
      tags: ['Risk reports'],
      summary: 'A periodic risk report: JSON; add .html to the period for the printable page, .csv for its tables',
      description:
        'Readable by everyone but action owners. Shows the status (awaiting_approval, released, rejected, lapsed), the content as prepared and its SHA-256 over the canonical JSON (keys sorted); a released report never changes.',
      security: bearer,
      middleware: [requireRole(...RISK_REPORT_READER_ROLES)] as const,
      request: { params: DocumentParams },
      responses: {
        200: {
          description: 'The report',
          content: {
            'application/json': { schema: z.record(z.string(), z.unknown()).openapi('RiskReport') },
            'text/html': { schema: z.string() },
            'text/csv': { schema: z.string() },
          },
        },
        ...errorResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      const { audience, period: document } = c.req.valid('param');
      const [, period, format] = /^(.*?)(?:\.(html|csv))?$/.exec(document)!;
      const caseId = riskReportContract.caseId(riskReportKey(audience, period!));
      const [row] = await db.select().from(riskReports).where(eq(riskReports.caseId, caseId));
      if (!row) throw new ApiError('NOT_FOUND', `no ${audience} risk report for ${period}`);
      const report = {
        caseId: row.caseId,
        audience: row.audience,
        period: row.period,
        status: row.status,
        sha256: row.contentSha256,
        preparedBy: row.preparedBy,
        preparedAt: row.preparedAt.toISOString(),
        releasedBy: row.releasedBy ?? [],
        releasedAt: row.releasedAt?.toISOString() ?? null,
        content: row.content,
      };
      if (format === 'html') return c.html(riskReportHtml(report));
      if (format === 'csv') {
        return c.body(riskReportCsv(report), 200, {
          'content-type': 'text/csv; charset=utf-8',
          'content-disposition': `attachment; filename="risk-report-${audience}-${period}.csv"`,
        });
      }
      return c.json(report, 200);
    },
  );

  return app;
}
