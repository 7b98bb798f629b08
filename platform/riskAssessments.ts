/**
 * Opening a period's risk assessment, shared by the API (POST
 * /api/risk-assessments) and the Schedule's launcher activity: the scope is
 * every risk in the register at that moment. Here, not in activities/, so
 * the API never imports the workflows' I/O (tests/unit/layering.test.ts).
 */
import type { Client } from '@temporalio/client';
import { and, asc, eq, ne } from 'drizzle-orm';
import {
  PERIOD_PATTERN,
  periodBounds,
  periodProblem,
  RISK_ASSESSMENT_PROCESS,
  RISK_ASSESSMENT_STAGE,
  riskAssessmentContract,
} from '../contracts/riskAssessment';
import type { Database } from '../db/client';
import { cases, risks } from '../db/schema';
import type { PolicySnapshot } from '../domain/policy';
import type { MatrixRating, RiskCategory } from '../domain/riskRegister';
import type { AssessmentEntry, riskAssessmentWorkflow, RiskAssessmentInput } from '../workflows/riskAssessment';
import { GovPeriod } from '../workflows/searchAttributes';
import { createScheduleOnce, startCaseWorkflow } from './cases';
import { currentPolicy } from './policy';

/** The Schedule that opens each period's assessment (platform/cases.ts makes the drill programme's the same way). */
export const RISK_ASSESSMENT_SCHEDULE = 'risk-assessment-programme';

/**
 * Fires on the first of every month; the launcher opens the assessment of the
 * period that day falls in, once (a period already open is skipped), so any
 * policy riskRegister.assessmentPeriodMonths is honoured without changing it.
 */
export async function ensureRiskAssessmentSchedule(temporal: Client, taskQueue: string): Promise<void> {
  await createScheduleOnce(temporal, {
    scheduleId: RISK_ASSESSMENT_SCHEDULE,
    spec: { calendars: [{ dayOfMonth: 1, hour: 2 }] },
    action: {
      type: 'startWorkflow',
      workflowType: 'riskAssessmentLauncherWorkflow',
      args: [],
      taskQueue,
      workflowId: 'risk-assessment-launcher-run',
    },
    policies: { overlap: 'SKIP', catchupWindow: '7 days' },
    state: { note: 'opens each period’s risk assessment (finance §5.1: at least quarterly)' },
  });
}

export type AssessmentOpening =
  | {
      started: true;
      caseId: string;
      period: string;
      stage: string;
      scope: RiskAssessmentInput['scope'];
      owners: string[];
    }
  | {
      started: false;
      caseId: string;
      period: string;
      reason: 'already_exists' | 'empty_register' | 'invalid_period';
      message: string;
    };

/**
 * Opens a period's assessment, its scope every risk in the register now. The
 * API (POST /api/risk-assessments) and the Schedule's launcher both call it.
 */
export async function openRiskAssessment(
  deps: { db: Database; temporal: Client; taskQueue: string },
  params: { period: string; initiatorId: string; policy?: PolicySnapshot; timings?: RiskAssessmentInput['timings'] },
  now = new Date(),
): Promise<AssessmentOpening> {
  const { db, temporal, taskQueue } = deps;
  const policy = params.policy ?? (await currentPolicy(db));
  const caseId = riskAssessmentContract.caseId(params.period);
  const problem = periodProblem(params.period, policy.values.riskRegister.assessmentPeriodMonths, now);
  if (problem) return { started: false, caseId, period: params.period, reason: 'invalid_period', message: problem };
  const exists = () =>
    ({
      started: false,
      caseId,
      period: params.period,
      reason: 'already_exists',
      message: `the ${params.period} risk assessment is already open (${caseId})`,
    }) as const;
  const [existing] = await db.select({ id: cases.id }).from(cases).where(eq(cases.id, caseId));
  if (existing) return exists();
  const rows = await db.select().from(risks).orderBy(asc(risks.key));
  if (rows.length === 0) {
    return {
      started: false,
      caseId,
      period: params.period,
      reason: 'empty_register',
      message: 'the register holds no risk to assess',
    };
  }
  const scope = rows.map((r) => ({
    riskKey: r.key,
    title: r.title,
    category: r.category as RiskCategory,
    ownerId: r.ownerId,
    inherent: { probability: r.inherentProbability, impact: r.inherentImpact },
    residual: { probability: r.residualProbability, impact: r.residualImpact },
  }));
  const started = await startCaseWorkflow<typeof riskAssessmentWorkflow>(temporal, {
    workflowType: 'riskAssessmentWorkflow',
    caseId,
    taskQueue,
    process: RISK_ASSESSMENT_PROCESS,
    stage: RISK_ASSESSMENT_STAGE.rating,
    // Auditors filter periodic cases by their period in Temporal UI.
    searchAttributes: [{ key: GovPeriod, value: params.period }],
    args: [
      {
        caseId,
        period: params.period,
        initiatorId: params.initiatorId,
        scope,
        policy,
        ...(params.timings ? { timings: params.timings } : {}),
      },
    ],
  });
  if (!started) return exists();
  await ensureRiskAssessmentSchedule(temporal, taskQueue);
  return {
    started: true,
    caseId,
    period: params.period,
    stage: started.stage,
    scope,
    owners: [...new Set(scope.map((s) => s.ownerId))].sort(),
  };
}

/** A period's first instant, whatever the period length it was opened under (P<n> under `months`). */
export function periodStart(period: string, months: number): number {
  const kind = period.length > 4 ? period[5] : '';
  const length = kind === 'Q' ? 3 : kind === 'H' ? 6 : kind === 'M' ? 1 : kind === 'P' ? months : 12;
  return periodBounds(period, length).start.getTime();
}

/** The previous period's assessment and each risk's rating in it. */
export interface PreviousAssessment {
  caseId: string;
  period: string;
  status: string;
  /** As its owner rated it then, or as the register had it when that assessment opened (nobody rated it). */
  ratings: Record<string, MatrixRating | null>;
}

/**
 * The previous period's assessment: the latest one whose period began before
 * `period` began (whatever period length it ran under), or null when there
 * is none. What the report's movements and the treatment trigger of the
 * assessment (workflows/riskAssessment.ts) compare with.
 */
export async function previousAssessment(
  db: Database,
  params: { period: string; caseId: string; months: number },
): Promise<PreviousAssessment | null> {
  const start = periodStart(params.period, params.months);
  const others = await db
    .select({ id: cases.id, status: cases.status, businessKey: cases.businessKey })
    .from(cases)
    .where(and(eq(cases.process, RISK_ASSESSMENT_PROCESS), ne(cases.id, params.caseId)));
  const prior = others
    .filter((o) => PERIOD_PATTERN.test(o.businessKey) && periodStart(o.businessKey, params.months) < start)
    .sort((a, b) => periodStart(b.businessKey, params.months) - periodStart(a.businessKey, params.months))[0];
  if (!prior) return null;
  const [row] = await db.select({ data: cases.data }).from(cases).where(eq(cases.id, prior.id));
  const entries = (row?.data.entries ?? []) as AssessmentEntry[];
  return {
    caseId: prior.id,
    period: prior.businessKey,
    status: prior.status,
    ratings: Object.fromEntries(entries.map((e) => [e.riskKey, e.after ?? e.before])),
  };
}
