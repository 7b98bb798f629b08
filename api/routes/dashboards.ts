/**
 * The console's dashboards (issue 13 §5): one call, every chart, each figure
 * counted in SQL over the read model (db/dashboards.ts). Anyone signed in
 * may read it, auditors included; the case-based charts count only the cases
 * the caller may read (as GET /api/cases), the register and suppliers charts
 * what GET /api/risks and GET /api/suppliers show anyone.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { dashboardOverview, SUPPLIER_GRADES } from '../../db/dashboards';
import { DRILL_MODULES } from '../../domain/drills';
import { INCIDENT_GRADES } from '../../domain/incidents';
import { RISK_LEVELS } from '../../domain/risk';
import { readableCaseCondition } from '../../platform/access';
import { currentPolicy } from '../../platform/policy';
import { bearer, errorResponses, router, type AppDeps } from './common';

const int = () => z.number().int().min(0);

/**
 * The canonical IANA name of a zone (Intl's, from the same tz database
 * PostgreSQL reads), or null. Names only: PostgreSQL reads an offset such as
 * "+08:00" as a POSIX zone, east and west swapped, so offsets are refused.
 */
function canonicalTimeZone(tz: string): string | null {
  if (tz.length > 64 || !/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(tz)) return null;
  try {
    return new Intl.DateTimeFormat('en', { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

const DashboardQuerySchema = z.object({
  // One check, so a bad zone is one detail naming query.tz.
  tz: z
    .string()
    .refine((tz) => canonicalTimeZone(tz) !== null, 'is not an IANA time zone (e.g. Asia/Shanghai)')
    .optional()
    .openapi({
      example: 'Asia/Shanghai',
      description: 'the reader’s IANA time zone: the complaint chart’s weeks run Monday to Monday there (default UTC)',
    }),
});

const SlaFiguresSchema = z
  .object({
    met: int(),
    breached: int().openapi({ description: 'done late, recorded as breached, or past due and not done' }),
    pending: int().openapi({ description: 'not done and not yet due' }),
    compliance: z
      .number()
      .min(0)
      .max(1)
      .nullable()
      .openapi({ description: 'met ÷ (met + breached); null when none is decided yet' }),
  })
  .openapi('DashboardSlaFigures');

export const DashboardOverviewSchema = z
  .object({
    generatedAt: z.string(),
    openCases: z
      .array(z.object({ process: z.string(), stage: z.string(), count: int() }))
      .openapi({ description: 'Open cases by process and stage' }),
    overdueByOwner: z
      .array(
        z.object({
          assigneeId: z.string().nullable(),
          assigneeName: z.string().nullable(),
          candidateRoles: z
            .array(z.string())
            .nullable()
            .openapi({ description: 'for a task open to roles rather than a person (an approval)' }),
          count: int(),
          oldestDueAt: z.string(),
        }),
      )
      .openapi({ description: 'Tasks past their due date and not done, by who owes them, most first' }),
    heatMap: z
      .array(
        z.object({
          probability: z.number().int().min(1).max(5),
          impact: z.number().int().min(1).max(5),
          level: z.enum(RISK_LEVELS),
          risks: int(),
          cases: int(),
        }),
      )
      .openapi({
        description:
          'All 25 cells of the probability × impact matrix: register risks at their residual rating, and open cases that carry a rating; the level under the policy in force',
      }),
    supplierGrades: z
      .array(z.object({ tier: z.string(), grade: z.enum(SUPPLIER_GRADES), count: int() }))
      .openapi({ description: "Suppliers (terminated ones aside) by tier and their last review's risk grade" }),
    complaintSla: z.object({
      timeZone: z.string().openapi({ example: 'Asia/Shanghai', description: 'the zone whose weeks these are' }),
      initialInvestigationWithin: z.string(),
      resultWithin: z.string(),
      weeks: z.array(
        z.object({
          week: z.string().openapi({ example: '2026-W48' }),
          weekStart: z.string().openapi({ example: '2026-11-23' }),
          complaints: int(),
          initialInvestigation: SlaFiguresSchema,
          result: SlaFiguresSchema,
        }),
      ),
    }),
    incidentsByGrade: z.array(z.object({ grade: z.enum(INCIDENT_GRADES), open: int(), closed: int() })),
    drills: z.object({
      overallPassMark: z.number(),
      modules: z.array(
        z.object({
          module: z.enum(DRILL_MODULES),
          passMark: z.number(),
          drills: int(),
          average: z.number().nullable(),
          min: z.number().nullable(),
          max: z.number().nullable(),
          belowPassMark: int(),
        }),
      ),
    }),
  })
  .openapi('DashboardOverview');

export function dashboardRoutes(deps: AppDeps) {
  const { db } = deps;
  const app = router();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api/dashboards/overview',
      tags: ['Dashboards'],
      summary:
        'Every dashboard chart in one call: open cases, overdue items, heat map, suppliers, SLAs, incidents, drills',
      description:
        'For anyone signed in, auditors included. Case-based figures count only the cases the caller may read (as GET /api/cases); the risk register and suppliers are read by everyone. Complaint SLA compliance covers the last 12 ISO weeks of acceptance, in the time zone `tz` (UTC when not given).',
      security: bearer,
      request: { query: DashboardQuerySchema },
      responses: {
        200: {
          description: 'The figures behind each chart',
          content: { 'application/json': { schema: DashboardOverviewSchema } },
        },
        ...errorResponses(400, 401),
      },
    }),
    async (c) => {
      const user = c.get('user');
      const { tz } = c.req.valid('query');
      const policy = await currentPolicy(db);
      const overview = await dashboardOverview(db, {
        readable: (column) => readableCaseCondition(user, column),
        now: new Date(),
        cutoffs: policy.values.risk,
        complaintSla: policy.values.complaint,
        drillPassMarks: policy.values.drill.modulePassMarks,
        drillOverallPassMark: policy.values.drill.overallPassMark,
        timeZone: tz ? (canonicalTimeZone(tz) ?? 'UTC') : 'UTC',
      });
      return c.json(overview, 200);
    },
  );

  return app;
}
