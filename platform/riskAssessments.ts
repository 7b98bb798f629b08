/**
 * Opening a period's risk assessment, shared by the API (POST
 * /api/risk-assessments) and the Schedule's launcher activity: the scope is
 * every risk in the register at that moment. Here, not in activities/, so
 * the API never imports the workflows' I/O (tests/unit/layering.test.ts).
 */
import type { Client } from '@temporalio/client';
import { asc, eq } from 'drizzle-orm';
import {
  periodProblem,
  RISK_ASSESSMENT_PROCESS,
  RISK_ASSESSMENT_STAGE,
  riskAssessmentContract,
} from '../contracts/riskAssessment';
import type { Database } from '../db/client';
import { cases, risks } from '../db/schema';
import type { PolicySnapshot } from '../domain/policy';
import type { RiskCategory } from '../domain/riskRegister';
import type { riskAssessmentWorkflow, RiskAssessmentInput } from '../workflows/riskAssessment';
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
