/**
 * The handbooks' parameters as one versioned policy, owned by compliance.
 *
 * Every number a rule reads (SLAs, deadlines, grade thresholds, pass marks,
 * weights, the risk matrix's cut-offs) lives here with its default and where
 * that default comes from: a handbook section, or "not in the handbooks" when
 * the value is the product's policy default. A new version is made only by a
 * policy-change case that compliance requests and two other functions approve
 * (workflows/policyChange.ts); each case records the version it ran under.
 *
 * Pure: the API and the workflow bundle import it.
 */
import { z } from 'zod';
import {
  DEFAULT_APPROVAL_TIMINGS,
  DEFAULT_RECTIFICATION_TIMINGS,
  DEFAULT_STEP_TIMINGS,
  DRILL_CONDUCT_LEAD,
  DRILL_PLANNING_TIMINGS,
  INCIDENT_CLOSE_OUT_REQUEST_TIMINGS,
  PLAN_DRAFT_TIMINGS,
  SUPPLIER_DOCUMENTS_TIMINGS,
  validateTimings,
} from './deadlines';
import { durationProblem } from './durations';
import { RISK_REPORT_FREQUENCIES } from './riskReporting';

/**
 * The policy's schema, built when first needed, once per module instance: the
 * workflow bundle evaluates its modules afresh for every workflow, and a case
 * reads DEFAULT_POLICY and the types here but never parses a policy, so it
 * does not pay for building the schema (only the API's policy routes do).
 */
function buildPolicyValuesSchema() {
  const duration = z.string().superRefine((value, ctx) => {
    const problem = durationProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

  const ladder = z
    .object({ remindAfter: duration, escalateAfter: duration, expireAfter: duration })
    .strict()
    .superRefine((value, ctx) => {
      const problem = validateTimings(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });

  const share = z.number().min(0).max(1);
  const gradeCuts = z
    .object({ I: z.number().positive(), II: z.number().positive(), III: z.number().positive() })
    .strict()
    .refine((g) => g.I > g.II && g.II > g.III, 'thresholds must fall from grade I to grade III');

  return z
    .object({
      approval: ladder,
      step: ladder,
      rectification: z.object({ dueIn: duration, remindBefore: duration, escalateAgainAfter: duration }).strict(),
      complaint: z
        .object({
          initialInvestigationWithin: duration,
          resultWithin: duration,
          repeatWindowDays: z.number().int().min(1).max(366),
        })
        .strict(),
      incident: z
        .object({
          gradeThresholds: z
            .object({
              affectedUsers: gradeCuts,
              amountCny: gradeCuts,
              dataRecordsExposed: gradeCuts,
              outageMinutes: gradeCuts,
            })
            .strict(),
          acknowledgeWithin: z.object({ I: duration, II: duration, III: duration, IV: duration }).strict(),
          stabiliseWithin: z.object({ I: duration, II: duration, III: duration, IV: duration }).strict(),
          notifyRegulatorWithin: z.object({ I: duration, II: duration, dataLeakIII: duration }).strict(),
          closeOutRequest: ladder,
          repeatWindowDays: z.number().int().min(1).max(366),
        })
        .strict(),
      drill: z
        .object({
          planning: ladder,
          conductLead: z.object({ remindBefore: duration, escalateBefore: duration }).strict(),
          overallPassMark: z.number().min(0).max(100),
          modulePassMarks: z
            .object({
              command: z.number().min(0).max(100),
              information_reporting: z.number().min(0).max(100),
              resource_dispatch: z.number().min(0).max(100),
              public_opinion_response: z.number().min(0).max(100),
            })
            .strict(),
        })
        .strict(),
      plan: z.object({ revisionIntervalYears: z.number().int().min(1).max(3), draft: ladder }).strict(),
      supplier: z
        .object({
          reviewIntervalMonths: z.number().int().min(1).max(12),
          documents: ladder,
          dimensionWeights: z
            .object({
              legal_compliance: share,
              financial_stability: share,
              technical_capability: share,
              market_reputation: share,
              cooperation_history: share,
            })
            .strict()
            .refine((w) => Math.abs(Object.values(w).reduce((a, b) => a + b, 0) - 1) < 1e-9, 'weights must sum to 1'),
          logisticsDelayThreshold: share,
        })
        .strict(),
      risk: z
        .object({
          mediumFrom: z.number().int().min(2).max(24),
          highFrom: z.number().int().min(3).max(25),
        })
        .strict()
        .refine((r) => r.mediumFrom < r.highFrom, 'mediumFrom must be below highFrom'),
      pdca: z.object({ escalateAfterCycles: z.number().int().min(1).max(10) }).strict(),
      riskRegister: z
        .object({
          /** The highest residual score (probability × impact) each category tolerates. */
          appetite: z
            .object({
              technical: z.number().int().min(1).max(25),
              operational: z.number().int().min(1).max(25),
              legal: z.number().int().min(1).max(25),
              compliance: z.number().int().min(1).max(25),
              user: z.number().int().min(1).max(25),
              credit: z.number().int().min(1).max(25),
              market: z.number().int().min(1).max(25),
              liquidity: z.number().int().min(1).max(25),
            })
            .strict(),
          acceptanceMaxDays: z.number().int().min(1).max(730),
          assessmentPeriodMonths: z.number().int().min(1).max(12),
        })
        .strict(),
      audit: z
        .object({
          dataSecurityCheckMonths: z.number().int().min(1).max(12),
          findingResponseWithin: duration,
        })
        .strict(),
      warnings: z
        .object({
          /** The owner acknowledges a general warning, and plans the response to an elevated one, within these. */
          acknowledgeWithin: z.object({ general: duration, elevated: duration, major: duration }).strict(),
          /** A warning of the same indicator within this many days raises the level one step. */
          repeatWindowDays: z.number().int().min(1).max(366),
          /** The incident grade a major warning opens. */
          majorIncidentGrade: z.enum(['I', 'II', 'III', 'IV']),
        })
        .strict(),
      riskReports: z
        .object({
          /** How often each audience's periodic risk report is generated, for the period just ended. */
          frequency: z
            .object({ management: z.enum(RISK_REPORT_FREQUENCIES), regulator: z.enum(RISK_REPORT_FREQUENCIES) })
            .strict(),
        })
        .strict(),
    })
    .strict();
}

let policyValuesSchemaBuilt: ReturnType<typeof buildPolicyValuesSchema> | undefined;
export function policyValuesSchema(): ReturnType<typeof buildPolicyValuesSchema> {
  return (policyValuesSchemaBuilt ??= buildPolicyValuesSchema());
}

export type PolicyValues = z.infer<ReturnType<typeof buildPolicyValuesSchema>>;

/** The policy a case runs under: its version and values, fixed at the case's start. */
export interface PolicySnapshot {
  version: number;
  values: PolicyValues;
}

/**
 * Version 1: the handbooks' figures where they give one, and the product's
 * defaults (unchanged from before policies existed) where they do not.
 */
export const DEFAULT_POLICY: PolicyValues = {
  approval: { ...DEFAULT_APPROVAL_TIMINGS },
  step: { ...DEFAULT_STEP_TIMINGS },
  rectification: { ...DEFAULT_RECTIFICATION_TIMINGS },
  complaint: { initialInvestigationWithin: '24h', resultWithin: '48h', repeatWindowDays: 30 },
  incident: {
    gradeThresholds: {
      affectedUsers: { I: 1_000_000, II: 100_000, III: 10_000 },
      amountCny: { I: 100_000_000, II: 10_000_000, III: 1_000_000 },
      dataRecordsExposed: { I: 1_000_000, II: 100_000, III: 10_000 },
      outageMinutes: { I: 720, II: 240, III: 60 },
    },
    acknowledgeWithin: { I: '15m', II: '30m', III: '2h', IV: '8h' },
    stabiliseWithin: { I: '4h', II: '12h', III: '48h', IV: '5d' },
    notifyRegulatorWithin: { I: '1h', II: '4h', dataLeakIII: '24h' },
    closeOutRequest: { ...INCIDENT_CLOSE_OUT_REQUEST_TIMINGS },
    repeatWindowDays: 90,
  },
  drill: {
    planning: { ...DRILL_PLANNING_TIMINGS },
    conductLead: { ...DRILL_CONDUCT_LEAD },
    overallPassMark: 70,
    modulePassMarks: { command: 70, information_reporting: 70, resource_dispatch: 60, public_opinion_response: 60 },
  },
  plan: { revisionIntervalYears: 3, draft: { ...PLAN_DRAFT_TIMINGS } },
  supplier: {
    reviewIntervalMonths: 12,
    documents: { ...SUPPLIER_DOCUMENTS_TIMINGS },
    dimensionWeights: {
      legal_compliance: 0.3,
      financial_stability: 0.25,
      technical_capability: 0.15,
      market_reputation: 0.15,
      cooperation_history: 0.15,
    },
    logisticsDelayThreshold: 0.15,
  },
  risk: { mediumFrom: 5, highFrom: 15 },
  pdca: { escalateAfterCycles: 3 },
  riskRegister: {
    appetite: {
      technical: 9,
      operational: 9,
      legal: 4,
      compliance: 4,
      user: 9,
      credit: 9,
      market: 9,
      liquidity: 6,
    },
    acceptanceMaxDays: 365,
    assessmentPeriodMonths: 3,
  },
  audit: { dataSecurityCheckMonths: 12, findingResponseWithin: '14d' },
  warnings: {
    acknowledgeWithin: { general: '24h', elevated: '4h', major: '1h' },
    repeatWindowDays: 30,
    majorIncidentGrade: 'II',
  },
  riskReports: { frequency: { management: 'monthly', regulator: 'quarterly' } },
};

export const DEFAULT_POLICY_SNAPSHOT: PolicySnapshot = { version: 1, values: DEFAULT_POLICY };

const NOT_IN_HANDBOOKS = 'not in the handbooks: policy default';

/**
 * Where each parameter's default comes from, by its path. The README and the
 * policy endpoint show this table; a test checks that every leaf has a source.
 */
export const POLICY_SOURCES: Record<string, string> = {
  approval: `${NOT_IN_HANDBOOKS} (reminded after 24 h, escalated after 48 h, lapses after 7 d)`,
  step: NOT_IN_HANDBOOKS,
  rectification: `${NOT_IN_HANDBOOKS}; the handbooks require every item closed and verified (闭环), not a date`,
  'complaint.initialInvestigationWithin':
    'internet-finance manual §4.4 客户投诉处理机制: initial investigation within 24 hours',
  'complaint.resultWithin': 'internet-finance manual §4.4 客户投诉处理机制: result within 48 hours',
  'complaint.repeatWindowDays': `${NOT_IN_HANDBOOKS} (the manual asks root-cause analysis for repeated complaints, not the window)`,
  'incident.gradeThresholds': `${NOT_IN_HANDBOOKS} (e-commerce §7.1 grades I–IV by impact, without figures)`,
  'incident.acknowledgeWithin': NOT_IN_HANDBOOKS,
  'incident.stabiliseWithin': NOT_IN_HANDBOOKS,
  'incident.notifyRegulatorWithin': `${NOT_IN_HANDBOOKS} (信息通报 is required, its deadline is not)`,
  'incident.closeOutRequest': NOT_IN_HANDBOOKS,
  'incident.repeatWindowDays': `${NOT_IN_HANDBOOKS} (root-cause analysis for repeated incidents, window unstated)`,
  'drill.planning': NOT_IN_HANDBOOKS,
  'drill.conductLead': `${NOT_IN_HANDBOOKS}; e-commerce §7.2 requires at least one full drill a year`,
  'drill.overallPassMark': `${NOT_IN_HANDBOOKS} (e-commerce §7.2 scores modules against the evaluation standard)`,
  'drill.modulePassMarks': NOT_IN_HANDBOOKS,
  'plan.revisionIntervalYears': 'e-commerce manual §7.3: emergency plans revised at least every three years',
  'plan.draft': NOT_IN_HANDBOOKS,
  'supplier.reviewIntervalMonths':
    'e-commerce manual §4.1–§4.2: assessed before cooperation, reviewed every year (年度审核)',
  'supplier.documents': NOT_IN_HANDBOOKS,
  'supplier.dimensionWeights': `${NOT_IN_HANDBOOKS} (the manual names the dimensions, not their weights)`,
  'supplier.logisticsDelayThreshold': 'e-commerce manual §4.3: a logistics delay rate of 15% → re-evaluate terms',
  'risk.mediumFrom': `${NOT_IN_HANDBOOKS} (e-commerce §1.2 and finance §5.1 use a probability × impact matrix, without cut-offs)`,
  'risk.highFrom': `${NOT_IN_HANDBOOKS} (as above)`,
  'pdca.escalateAfterCycles': NOT_IN_HANDBOOKS,
  'riskRegister.appetite': `${NOT_IN_HANDBOOKS} (e-commerce §1.2 and finance §5.1 name the categories, not the appetite; legal and compliance tolerate only low residual risk)`,
  'riskRegister.acceptanceMaxDays': `${NOT_IN_HANDBOOKS} (an accepted risk is reviewed at least yearly)`,
  'riskRegister.assessmentPeriodMonths': 'internet-finance manual §5.1: risks assessed at least quarterly',
  'audit.dataSecurityCheckMonths': 'e-commerce manual §2.1: data-security compliance checked at least once a year',
  'audit.findingResponseWithin': `${NOT_IN_HANDBOOKS} (e-commerce §6.4 asks findings to drive improvement, not a response time)`,
  'warnings.acknowledgeWithin': `${NOT_IN_HANDBOOKS} (e-commerce §6.2 and finance §5.4: three levels, each with its own response; deadlines unstated)`,
  'warnings.repeatWindowDays': NOT_IN_HANDBOOKS,
  'warnings.majorIncidentGrade': `${NOT_IN_HANDBOOKS} (a 重大 warning opens an incident; e-commerce §7.1 grades incidents I–IV)`,
  'riskReports.frequency': `${NOT_IN_HANDBOOKS} (internet-finance §5.5 asks a set frequency and owner for risk information reports, not which; management monthly, the regulator quarterly)`,
};

/** The source of a parameter: its own entry, or its nearest parent's. */
export function policySource(path: string): string | undefined {
  for (let p = path; p; p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '') {
    if (POLICY_SOURCES[p]) return POLICY_SOURCES[p];
  }
  return undefined;
}

/** Every leaf of the policy as [path, value], e.g. ['complaint.resultWithin', '48h']. */
export function policyLeaves(values: unknown, prefix = ''): Array<[string, unknown]> {
  if (typeof values !== 'object' || values === null || Array.isArray(values)) return [[prefix, values]];
  return Object.entries(values).flatMap(([k, v]) => policyLeaves(v, prefix ? `${prefix}.${k}` : k));
}

/** A change: any part of the policy, deep; what it leaves out stays as it is. */
export type PolicyChange = { [K in keyof PolicyValues]?: Partial<PolicyValues[K]> | Record<string, unknown> };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Merges a change into values, deep, without touching either. */
export function mergePolicy(values: PolicyValues, change: Record<string, unknown>): unknown {
  const merge = (base: unknown, delta: unknown): unknown => {
    if (!isPlainObject(base) || !isPlainObject(delta)) return delta;
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(delta)) out[k] = k in base ? merge(base[k], v) : v;
    return out;
  };
  return merge(values, change);
}

/**
 * The policy a change would make, or what is wrong with it, naming the field.
 * Unknown parameters are refused: a misspelt key would otherwise change nothing.
 */
export function applyPolicyChange(
  values: PolicyValues,
  change: Record<string, unknown>,
): { ok: true; values: PolicyValues; changed: string[] } | { ok: false; problem: string } {
  const before = new Map(policyLeaves(values));
  const parsed = policyValuesSchema().safeParse(mergePolicy(values, change));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.join('.');
    const message =
      issue.code === 'unrecognized_keys'
        ? `${[path, ...issue.keys].filter(Boolean).join('.')} is not a policy parameter`
        : `${path || 'change'}: ${issue.message}`;
    return { ok: false, problem: message };
  }
  const changed = policyLeaves(parsed.data)
    .filter(([path, value]) => JSON.stringify(before.get(path)) !== JSON.stringify(value))
    .map(([path]) => path);
  if (changed.length === 0) return { ok: false, problem: 'the change leaves the policy as it is' };
  return { ok: true, values: parsed.data, changed };
}
