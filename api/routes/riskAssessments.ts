/**
 * The periodic risk assessment (风险评估, e-commerce §1.2; finance §5.1: at
 * least quarterly): the risk function or a manager opens one case per period
 * (workflows/riskAssessment.ts); each risk owner re-rates their risks through
 * POST /api/risk-assessments/{period}/ratings; the risk function reviews and
 * compliance signs off through the shared task decisions; the report shows the
 * heat map, movements, top risks and overdue treatments.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import {
  PERIOD_PATTERN,
  periodProblem,
  RISK_ASSESSMENT_PROCESS,
  riskAssessmentContract,
} from '../../contracts/riskAssessment';
import { openRiskAssessment, previousAssessment } from '../../platform/riskAssessments';
import { cases, tasks } from '../../db/schema';
import type { PolicyValues } from '../../domain/policy';
import { aboveAppetite, rate, type MatrixRating, type RiskCategory } from '../../domain/riskRegister';
import { assertCanReadCase } from '../../platform/access';
import { currentPolicy, policyVersion } from '../../platform/policy';
import type { AssessmentEntry } from '../../workflows/riskAssessment';
import { requireRole } from '../auth';
import { refuseLockedTimings } from '../caseTimings';
import { temporalUiLink } from '../dto';
import { ApiError } from '../errors';
import { esc, heading, page, table } from '../reports/html';
import { ApprovalTimingsSchema } from '../schemas';
import { approvalTimingsProblem, stepTimingsProblem } from './supplierReviews';
import { bearer, contractSteps, errorResponses, reportRoutes, router, type AppDeps } from './common';

const PeriodParam = z.object({
  period: z.string().regex(PERIOD_PATTERN, 'a period such as 2026-Q4').openapi({ example: '2026-Q4' }),
});

const StartSchema = z
  .object({
    period: z.string().regex(PERIOD_PATTERN, 'a period such as 2026-Q4').openapi({
      example: '2026-Q4',
      description:
        'one period of policy riskRegister.assessmentPeriodMonths (3: 2026-Q4; 1: 2026-M11; 6: 2026-H2; 12: 2026; else 2026-P<n>); it must have started',
    }),
    timings: z
      .object({ step: ApprovalTimingsSchema.optional(), approval: ApprovalTimingsSchema.optional() })
      .strict()
      .optional()
      .openapi({ description: 'per-case clocks where the deployment allows them (tests and demos)' }),
  })
  .strict()
  .openapi('StartRiskAssessment');

const StartedSchema = z
  .object({
    caseId: z.string(),
    period: z.string(),
    stage: z.string(),
    scope: z.array(z.object({ riskKey: z.string(), ownerId: z.string() })),
    owners: z.array(z.string()),
    links: z.object({ temporalUi: z.string() }),
  })
  .openapi('RiskAssessmentStarted');

export interface RiskAssessmentReport {
  caseId: string;
  period: string;
  status: string;
  stage: string;
  outcome: string | null;
  policyVersion: number | null;
  heatMap: { probability: number; impact: number; count: number; level: string }[];
  /**
   * The previous period's assessment the movements are measured from (its
   * ratings: what each owner rated then, or the register when it opened for a
   * risk nobody rated); null when there was none, and the movements are then
   * measured from the register as this assessment opened.
   */
  comparedWith: { caseId: string; period: string; status: string } | null;
  movements: { rose: Movement[]; fell: Movement[]; new: Movement[]; unchanged: Movement[]; notRated: Movement[] };
  topRisks: {
    riskKey: string;
    title: string;
    ownerId: string;
    probability: number;
    impact: number;
    score: number;
    level: string;
    aboveAppetite: boolean;
    evaluation: string | null;
  }[];
  treatments: Treatment[];
  overdueTreatments: Treatment[];
}

interface Movement {
  riskKey: string;
  title: string;
  ownerId: string;
  /** The previous period's rating (or the register's when this assessment opened, if there was no previous period). */
  before: MatrixRating | null;
  after: MatrixRating | null;
  /** The register's residual rating when this assessment opened. */
  atOpening: MatrixRating | null;
}

interface Treatment {
  itemId: string;
  riskKey: string;
  ownerId: string | null;
  status: string;
  dueAt: string | null;
}

const scoreOf = (r: MatrixRating) => r.probability * r.impact;

/**
 * The report's figures from the case's entries, the policy and its treatment
 * items. Movements are measured against `previous`, the previous period's
 * ratings (a risk it did not hold is new); without one, against the register
 * as the assessment opened. Pure.
 */
export function assessmentFigures(
  entries: AssessmentEntry[],
  policy: PolicyValues,
  items: Array<{ id: string; assigneeId: string | null; status: string; dueAt: Date | null }>,
  now: Date,
  previous?: Map<string, MatrixRating | null>,
): Pick<RiskAssessmentReport, 'heatMap' | 'movements' | 'topRisks' | 'treatments' | 'overdueTreatments'> {
  const current = (e: AssessmentEntry) => (e.after ?? e.before)!;
  const heatMap: RiskAssessmentReport['heatMap'] = [];
  for (let impact = 5; impact >= 1; impact--) {
    for (let probability = 1; probability <= 5; probability++) {
      heatMap.push({
        probability,
        impact,
        count: entries.filter((e) => current(e).probability === probability && current(e).impact === impact).length,
        level: rate({ probability, impact }, policy.risk).level,
      });
    }
  }
  const baseline = (e: AssessmentEntry) => (previous ? (previous.get(e.riskKey) ?? null) : e.before);
  const movement = (e: AssessmentEntry): Movement => ({
    riskKey: e.riskKey,
    title: e.title,
    ownerId: e.ownerId,
    before: baseline(e),
    after: e.after,
    atOpening: e.before,
  });
  const movements: RiskAssessmentReport['movements'] = { rose: [], fell: [], new: [], unchanged: [], notRated: [] };
  for (const e of entries) {
    const before = baseline(e);
    if (!e.after) movements.notRated.push(movement(e));
    else if (!before) movements.new.push(movement(e));
    else if (scoreOf(e.after) > scoreOf(before)) movements.rose.push(movement(e));
    else if (scoreOf(e.after) < scoreOf(before)) movements.fell.push(movement(e));
    else movements.unchanged.push(movement(e));
  }
  const topRisks = entries
    .map((e) => {
      const rated = rate(current(e), policy.risk);
      return {
        riskKey: e.riskKey,
        title: e.title,
        ownerId: e.ownerId,
        ...rated,
        aboveAppetite: aboveAppetite(e.category as RiskCategory, current(e), policy.riskRegister.appetite),
        evaluation: e.evaluation ?? null,
      };
    })
    .sort((a, b) => b.score - a.score || a.riskKey.localeCompare(b.riskKey))
    .slice(0, 10);
  const treatments = entries
    .filter((e) => e.rectificationItemId)
    .map((e) => {
      const item = items.find((i) => i.id === e.rectificationItemId);
      return {
        itemId: e.rectificationItemId!,
        riskKey: e.riskKey,
        ownerId: item?.assigneeId ?? e.ownerId,
        status: item?.status ?? 'opening',
        dueAt: item?.dueAt ? item.dueAt.toISOString() : null,
      };
    });
  const overdueTreatments = treatments.filter(
    (t) => t.status !== 'done' && t.dueAt !== null && new Date(t.dueAt).getTime() < now.getTime(),
  );
  return { heatMap, movements, topRisks, treatments, overdueTreatments };
}

function renderAssessmentReport(r: RiskAssessmentReport): string {
  const grid = [5, 4, 3, 2, 1].map((impact) => [
    `impact ${impact}`,
    ...[1, 2, 3, 4, 5].map((p) => r.heatMap.find((c) => c.impact === impact && c.probability === p)!.count),
  ]);
  const moves = (list: Movement[]) =>
    list.map((m) => [
      m.riskKey,
      m.title,
      m.ownerId,
      m.before ? `${m.before.probability}×${m.before.impact}` : '',
      m.after ? `${m.after.probability}×${m.after.impact}` : '',
    ]);
  const mh = [
    'Risk',
    'Title',
    'Owner',
    r.comparedWith ? `${r.comparedWith.period} (上期)` : 'At opening (期初)',
    'After',
  ];
  return page(
    `Risk assessment ${r.period} · 风险评估报告`,
    `${esc(r.caseId)} · ${esc(r.status)} (${esc(r.outcome ?? r.stage)}) · policy v${esc(r.policyVersion)}`,
    [
      heading('Heat map (residual)', '风险热力图（剩余风险）'),
      table(['', 'probability 1', '2', '3', '4', '5'], grid),
      `<p>${
        r.comparedWith
          ? `Movements since the previous period's assessment, ${esc(r.comparedWith.period)} (${esc(r.comparedWith.caseId)}) · 较上期（${esc(r.comparedWith.period)}）变动`
          : 'No previous period’s assessment: movements since this assessment opened · 无上期评估，变动以本期开始时为准'
      }</p>`,
      heading('Rose', '上升'),
      table(mh, moves(r.movements.rose)),
      heading('Fell', '下降'),
      table(mh, moves(r.movements.fell)),
      heading('New', '新增'),
      table(mh, moves(r.movements.new)),
      heading('Top risks', '重大风险'),
      table(
        ['Risk', 'Title', 'Owner', 'Residual', 'Score', 'Level', 'Above appetite', 'Evaluation'],
        r.topRisks.map((t) => [
          t.riskKey,
          t.title,
          t.ownerId,
          `${t.probability}×${t.impact}`,
          t.score,
          t.level,
          t.aboveAppetite ? 'yes' : 'no',
          t.evaluation,
        ]),
      ),
      heading('Overdue treatments', '逾期整改'),
      table(
        ['Item', 'Risk', 'Owner', 'Status', 'Due'],
        r.overdueTreatments.map((t) => [t.itemId, t.riskKey, t.ownerId, t.status, t.dueAt]),
      ),
    ].join('\n'),
  );
}

export function riskAssessmentRoutes({ db, temporal, settings }: AppDeps) {
  const app = router();

  async function loadCase(period: string) {
    const [row] = await db
      .select()
      .from(cases)
      .where(and(eq(cases.id, riskAssessmentContract.caseId(period)), eq(cases.process, RISK_ASSESSMENT_PROCESS)));
    if (!row) throw new ApiError('NOT_FOUND', `no risk assessment for ${period}`);
    return row;
  }

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api/risk-assessments',
      tags: ['Risk assessments'],
      summary: 'Open the periodic risk assessment of a period (the risk function or a manager)',
      description:
        'One case per period (risk-assessment:<period>; a second start is 409). The period must be one of policy riskRegister.assessmentPeriodMonths (finance §5.1: quarterly by default) and have started (400 otherwise). Its scope is every risk in the register now (422 EMPTY_REGISTER when there is none); each owner then owes one re-rating step.',
      security: bearer,
      middleware: [requireRole('manager', 'risk')] as const,
      request: { body: { required: true, content: { 'application/json': { schema: StartSchema } } } },
      responses: {
        201: { description: 'Opened', content: { 'application/json': { schema: StartedSchema } } },
        ...errorResponses(400, 401, 403, 409, 422),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const user = c.get('user');
      refuseLockedTimings(settings, { timings: body.timings });
      const policy = await currentPolicy(db);
      const months = policy.values.riskRegister.assessmentPeriodMonths;
      const problem = periodProblem(body.period, months, new Date());
      if (problem) {
        throw new ApiError('BAD_REQUEST', `invalid body: period: ${problem}`, [
          { field: 'body.period', message: problem },
        ]);
      }
      const timingProblem =
        approvalTimingsProblem(body.timings?.approval, policy.values.approval) ??
        stepTimingsProblem('step', body.timings?.step, [policy.values.step]);
      if (timingProblem) throw new ApiError('BAD_REQUEST', timingProblem);
      const opened = await openRiskAssessment(
        { db, temporal, taskQueue: settings.taskQueue },
        { period: body.period, initiatorId: user.id, policy, ...(body.timings ? { timings: body.timings } : {}) },
      );
      if (!opened.started) {
        if (opened.reason === 'empty_register') {
          throw new ApiError('UNPROCESSABLE', opened.message, undefined, 'EMPTY_REGISTER');
        }
        if (opened.reason === 'invalid_period') {
          throw new ApiError('BAD_REQUEST', `invalid body: period: ${opened.message}`, [
            { field: 'body.period', message: opened.message },
          ]);
        }
        throw new ApiError('CONFLICT', opened.message);
      }
      const { caseId, scope } = opened;
      return c.json(
        {
          caseId,
          period: body.period,
          stage: opened.stage,
          scope: scope.map((s) => ({ riskKey: s.riskKey, ownerId: s.ownerId })),
          owners: opened.owners,
          links: { temporalUi: temporalUiLink(settings.temporalUiUrl, settings.temporalNamespace, caseId) },
        },
        201,
      );
    },
  );

  contractSteps(app, riskAssessmentContract, {
    resource: '/api/risk-assessments',
    idName: 'period',
    idParam: PeriodParam,
    tag: 'Risk assessments',
    resultSchema: z.object({
      rated: z.array(z.object({ riskKey: z.string(), version: z.number() }).passthrough()),
    }),
    temporal,
    load: async (period) => {
      const row = await loadCase(period);
      return { id: row.id, ownerId: row.ownerId };
    },
  });

  async function buildReport(period: string): Promise<RiskAssessmentReport> {
    const row = await loadCase(period);
    // Levels and appetite as the policy the case runs under has them.
    const policy =
      (row.policyVersion ? await policyVersion(db, row.policyVersion) : undefined) ?? (await currentPolicy(db));
    const items = await db
      .select({ id: tasks.id, assigneeId: tasks.assigneeId, status: tasks.status, dueAt: tasks.dueAt })
      .from(tasks)
      .where(and(eq(tasks.caseId, row.id), eq(tasks.kind, 'rectification')));
    const entries = (row.data.entries ?? []) as AssessmentEntry[];
    // The previous period's assessment, as the workflow's treatment trigger compares with it (one source of truth).
    const prior = await previousAssessment(db, {
      period,
      caseId: row.id,
      months: policy.values.riskRegister.assessmentPeriodMonths,
    });
    const previous = prior ? new Map(Object.entries(prior.ratings)) : undefined;
    return {
      caseId: row.id,
      period,
      status: row.status,
      stage: row.stage,
      outcome: row.outcome,
      policyVersion: row.policyVersion,
      comparedWith: prior ? { caseId: prior.caseId, period: prior.period, status: prior.status } : null,
      ...assessmentFigures(entries, policy.values, items, new Date(), previous),
    };
  }

  reportRoutes(app, {
    path: '/api/risk-assessments/{period}/report',
    idName: 'period',
    idParam: PeriodParam,
    tag: 'Risk assessments',
    summary:
      'Risk assessment report (风险评估报告): heat map of residual ratings, movements (rose/fell/new), top risks, overdue treatments',
    schemaName: 'RiskAssessmentReport',
    build: buildReport,
    render: renderAssessmentReport,
    readable: (period, user) =>
      assertCanReadCase(
        db,
        user,
        riskAssessmentContract.caseId(period),
        () => new ApiError('NOT_FOUND', `no risk assessment for ${period}`),
      ),
  });

  return app;
}
