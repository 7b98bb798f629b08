/**
 * The start form of each process (issue 13 §4 "A start form per process"):
 * which route it posts to, who may use it (the route's requireRole), its
 * fields with the request schema's constraints (schema.d.ts, from
 * /openapi.json), and how the answer names the case it opened. The page
 * (pages/StartPage.tsx) renders these with Ant Design's Form widgets.
 */
import { api, unwrap } from '../api/client';
import { CHOICES } from '../api/processes';
import type { paths } from '../api/schema';

/** The JSON body a POST route accepts, as the API's OpenAPI document describes it. */
export type Body<P extends keyof paths> = paths[P] extends {
  post: { requestBody?: { content: { 'application/json': infer B } } };
}
  ? B
  : never;

/** Field labels and option labels live in i18n.tsx under `start`. */
export type FieldKind =
  | { kind: 'text'; max?: number; pattern?: RegExp }
  | { kind: 'textarea'; max?: number }
  | { kind: 'select'; options: readonly string[] }
  | { kind: 'integer'; min?: number; max?: number }
  | { kind: 'number'; min?: number; max?: number }
  | { kind: 'datetime' }
  | { kind: 'json'; max?: number }
  | { kind: 'user' }
  | { kind: 'supplier' }
  | { kind: 'list'; fields: readonly FieldSpec[]; min?: number };

export type FieldSpec = FieldKind & {
  /** The body path of the value: `['impact', 'affectedUsers']`. */
  name: readonly string[];
  /** The key of its label in t.start.fields. */
  label: string;
  required?: boolean;
  initial?: unknown;
};

export interface Started {
  /** The case the new process opened; the console opens it. */
  caseId?: string;
  /** A business key to show when no case was opened (a risk in the register). */
  key?: string;
}

export interface StartFormSpec {
  /** Stable id, used in the URL (/start/:form) and the test ids. */
  id: string;
  /** The roles any of which the route requires; null: anyone who may write. */
  roles: readonly string[] | null;
  fields: readonly FieldSpec[];
  /** Refusals naming a body field the form shows under another name (the review a registration starts). */
  errorAliases?: Record<string, string[]>;
  /** Posts the cleaned form values with the given Idempotency-Key (one per distinct body). */
  submit(values: Record<string, unknown>, key: (body: unknown) => string): Promise<Started>;
}

const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const DURATION = /^(\d+(?:\.\d+)?)(s|m|h|d|w)$/;
const header = (key: string) => ({ 'Idempotency-Key': key });

// The domain's lists (generated into api/processes.ts), checked against what each route accepts.
export const INCIDENT_CATEGORIES = CHOICES.incidentCategories satisfies ReadonlyArray<
  Body<'/api/incidents'>['category']
>;
const COMPLAINT_CHANNELS = CHOICES.complaintChannels satisfies ReadonlyArray<Body<'/api/complaints'>['channel']>;
const COMPLAINT_TYPES = CHOICES.complaintTypes satisfies ReadonlyArray<Body<'/api/complaints'>['type']>;
const PLAN_TYPES = CHOICES.planTypes satisfies ReadonlyArray<Body<'/api/emergency-plans'>['type']>;
const RISK_CATEGORIES = CHOICES.riskCategories satisfies ReadonlyArray<Body<'/api/risks'>['category']>;
const FINDING_AREAS = CHOICES.auditAreas satisfies ReadonlyArray<Body<'/api/audit-findings'>['area']>;
const PDCA_SOURCES = CHOICES.pdcaSources satisfies ReadonlyArray<Body<'/api/improvement-cycles'>['source']>;
const AUDIT_TYPES = CHOICES.auditTypes satisfies ReadonlyArray<Body<'/api/audits'>['type']>;

const score = (name: string[], label: string): FieldSpec => ({
  name,
  label,
  kind: 'integer',
  min: 1,
  max: 5,
  required: true,
});

const KPI_FIELDS: readonly FieldSpec[] = [
  { name: ['key'], label: 'kpiKey', kind: 'text', pattern: /^[a-z][a-z0-9_]{0,49}$/, required: true },
  { name: ['name'], label: 'kpiName', kind: 'text', max: 200, required: true },
  { name: ['unit'], label: 'unit', kind: 'text', max: 20 },
  { name: ['baseline'], label: 'baseline', kind: 'number', required: true },
  { name: ['target'], label: 'target', kind: 'number', required: true },
  { name: ['direction'], label: 'direction', kind: 'select', options: ['increase', 'decrease'], required: true },
];

const thisYear = () => new Date().getFullYear();

/** The routes that take a POST, and what each answers when it succeeds. */
type PostPath = { [P in keyof paths]: paths[P] extends { post: unknown } ? P : never }[keyof paths];
type Answer<P extends PostPath> = paths[P] extends {
  post: { responses: { 201: { content: { 'application/json': infer A } } } };
}
  ? A
  : // A route that adds to a record that exists answers 200 (POST /api/audit-plans/{year}/audits).
    paths[P] extends { post: { responses: { 200: { content: { 'application/json': infer A } } } } }
    ? A
    : never;

interface Route<P extends PostPath> {
  path: P;
  /** The route's path parameters, taken out of the form's values (`/api/suppliers/{supplierId}/…`). */
  params?: readonly string[];
  /** The body the route takes, made from the other values; they are sent as they are otherwise. */
  body?: (values: Record<string, unknown>) => Body<P>;
  /** The case the answer names (or the key of the record it made). */
  started(answer: Answer<P>): Started;
}

type Send = (
  path: string,
  init: { body: unknown; params: { header: Record<string, string>; path: Record<string, string> } },
) => Promise<{ data?: unknown; error?: unknown; response: Response }>;

/** Posts to a route with the Idempotency-Key of this path and body; the route's answer. */
async function post<P extends PostPath>(
  route: P,
  body: unknown,
  key: (request: unknown) => string,
  params: Record<string, string> = {},
): Promise<Answer<P>> {
  // openapi-fetch types each literal path; here one function serves them all and the route's types come from Answer.
  const send = api.POST as unknown as Send;
  const request = { body, params: { header: header(key([route, params, body])), path: params } };
  return (await unwrap(send(route, request))) as Answer<P>;
}

/** A form's submit that posts its values to one route. */
function submitTo<P extends PostPath>(route: Route<P>): StartFormSpec['submit'] {
  return async (values, key) => {
    const rest = { ...values };
    const params: Record<string, string> = {};
    for (const name of route.params ?? []) {
      params[name] = String(rest[name] ?? '');
      delete rest[name];
    }
    return route.started(await post(route.path, route.body ? route.body(rest) : rest, key, params));
  };
}

const toCase = ({ caseId }: { caseId: string }): Started => ({ caseId });

/** Starts a supplier's review for a year; the case id is the review's workflow id. */
const startReview = (body: Body<'/api/supplier-reviews'>, key: (body: unknown) => string) =>
  post('/api/supplier-reviews', body, key).then(toCase);

/** A closed list that names every value of the route's union, checked by the compiler. */
const every =
  <T extends string>() =>
  <const A extends readonly T[]>(
    values: A & ([T] extends [A[number]] ? unknown : { missing: Exclude<T, A[number]> }),
  ) =>
    values;

const STATUS_CHANGES = every<Body<'/api/suppliers/{supplierId}/status-changes'>['change']>()([
  'restrict',
  'lift_restriction',
  'suspend',
  'lift_suspension',
  'terminate',
  'blacklist',
]);
const KRI_DIRECTIONS = every<Body<'/api/kris'>['direction']>()(['above', 'below']);
const REPORT_AUDIENCES = every<Body<'/api/risk-reports'>['audience']>()(['management', 'regulator']);
/** A risk assessment's period: 2026-Q4, 2026-M11, 2026-H2, 2026 or 2026-P<n> (contracts/riskAssessment.ts). */
const ASSESSMENT_PERIOD = /^\d{4}(-(Q[1-4]|H[12]|M(0[1-9]|1[0-2])|P([1-9]|1[0-2])))?$/;
/** A report's period: a month, a quarter or a year (contracts/riskReport.ts). */
const REPORT_PERIOD = /^(20\d\d)(?:-(0[1-9]|1[0-2])|-Q([1-4]))?$/;
const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

/** An audit plan's year and its audits: the plan's form and the form that adds to it. */
const AUDIT_PLAN_FIELDS: FieldSpec[] = [
  {
    name: ['year'],
    label: 'planYear',
    kind: 'integer',
    min: 2000,
    max: 2100,
    required: true,
    initial: thisYear(),
  },
  {
    name: ['audits'],
    label: 'plannedAudits',
    kind: 'list',
    min: 1,
    required: true,
    fields: [
      { name: ['auditKey'], label: 'auditKey', kind: 'text', max: 100, pattern: KEY_PATTERN, required: true },
      { name: ['type'], label: 'auditType', kind: 'select', options: AUDIT_TYPES, required: true },
      { name: ['title'], label: 'title', kind: 'text', max: 200, required: true },
      { name: ['plannedFor'], label: 'plannedFor', kind: 'text', pattern: MONTH, required: true },
    ],
  },
];

export const START_FORMS: readonly StartFormSpec[] = [
  {
    id: 'approval-request',
    roles: ['manager'],
    fields: [
      { name: ['title'], label: 'title', kind: 'text', max: 200, required: true },
      { name: ['description'], label: 'description', kind: 'textarea', max: 5000 },
      score(['probability'], 'probability'),
      score(['impact'], 'impact'),
      { name: ['ownerId'], label: 'ownerId', kind: 'user' },
    ],
    submit: submitTo({ path: '/api/cases/approval-requests', started: toCase }),
  },
  {
    id: 'incident',
    roles: null,
    fields: [
      { name: ['title'], label: 'title', kind: 'text', max: 200, required: true },
      { name: ['category'], label: 'category', kind: 'select', options: INCIDENT_CATEGORIES, required: true },
      { name: ['system'], label: 'system', kind: 'text', max: 100, required: true },
      { name: ['occurredAt'], label: 'occurredAt', kind: 'datetime', required: true },
      {
        name: ['impact', 'affectedUsers'],
        label: 'affectedUsers',
        kind: 'integer',
        min: 0,
        required: true,
        initial: 0,
      },
      { name: ['impact', 'amountCny'], label: 'amountCny', kind: 'number', min: 0, required: true, initial: 0 },
      { name: ['impact', 'dataRecordsExposed'], label: 'dataRecordsExposed', kind: 'integer', min: 0 },
      { name: ['impact', 'outageMinutes'], label: 'outageMinutes', kind: 'integer', min: 0 },
      { name: ['grade'], label: 'grade', kind: 'select', options: ['I', 'II', 'III', 'IV'] },
      { name: ['gradeReason'], label: 'gradeReason', kind: 'textarea', max: 2000 },
      { name: ['description'], label: 'description', kind: 'textarea', max: 10000 },
      { name: ['ownerId'], label: 'ownerId', kind: 'user' },
    ],
    submit: submitTo({ path: '/api/incidents', started: toCase }),
  },
  {
    id: 'complaint',
    roles: ['manager', 'action_owner'],
    fields: [
      { name: ['subject'], label: 'subject', kind: 'text', max: 200, required: true },
      { name: ['customerRef'], label: 'customerRef', kind: 'text', max: 64, required: true },
      { name: ['channel'], label: 'channel', kind: 'select', options: COMPLAINT_CHANNELS, required: true },
      { name: ['type'], label: 'complaintType', kind: 'select', options: COMPLAINT_TYPES, required: true },
      {
        name: ['severity'],
        label: 'severity',
        kind: 'select',
        options: CHOICES.complaintSeverities,
        initial: 'normal',
      },
      { name: ['description'], label: 'description', kind: 'textarea', max: 10000 },
      { name: ['handlerId'], label: 'handlerId', kind: 'user' },
    ],
    submit: submitTo({ path: '/api/complaints', started: toCase }),
  },
  {
    id: 'supplier',
    roles: ['manager'],
    fields: [
      { name: ['creditCode'], label: 'creditCode', kind: 'text', max: 18, required: true },
      { name: ['name'], label: 'supplierName', kind: 'text', max: 200, required: true },
      { name: ['category'], label: 'supplierCategory', kind: 'text', max: 100, required: true },
      { name: ['tier'], label: 'tier', kind: 'select', options: ['strategic', 'core', 'general'], required: true },
      { name: ['ownerId'], label: 'ownerId', kind: 'user' },
      { name: ['contact', 'name'], label: 'contactName', kind: 'text', max: 100 },
      { name: ['contact', 'phone'], label: 'contactPhone', kind: 'text', max: 30 },
      { name: ['contact', 'email'], label: 'contactEmail', kind: 'text', max: 320 },
      {
        name: ['reviewYear'],
        label: 'reviewYear',
        kind: 'integer',
        min: 2000,
        max: 2100,
        required: true,
        initial: thisYear(),
      },
    ],
    errorAliases: { year: ['reviewYear'], supplierId: ['creditCode'] },
    // Registers the supplier, then starts its first review (the supplier is pending until it is approved).
    // Each call has its own key: sent again after a failed review start, the registration replays.
    async submit(values, key) {
      const { reviewYear, ...body } = values as Body<'/api/suppliers'> & { reviewYear: number };
      const supplier = await post('/api/suppliers', body, key);
      return startReview({ supplierId: supplier.id, year: reviewYear }, key);
    },
  },
  {
    id: 'supplier-review',
    roles: ['manager'],
    fields: [
      { name: ['supplierId'], label: 'supplierId', kind: 'supplier', required: true },
      {
        name: ['year'],
        label: 'reviewYear',
        kind: 'integer',
        min: 2000,
        max: 2100,
        required: true,
        initial: thisYear(),
      },
      { name: ['reviewerId'], label: 'reviewerId', kind: 'user' },
    ],
    submit: submitTo({ path: '/api/supplier-reviews', started: toCase }),
  },
  {
    id: 'emergency-plan',
    roles: ['manager', 'admin'],
    fields: [
      { name: ['planId'], label: 'planId', kind: 'text', max: 100, pattern: KEY_PATTERN, required: true },
      { name: ['title'], label: 'title', kind: 'text', max: 200, required: true },
      { name: ['type'], label: 'planType', kind: 'select', options: PLAN_TYPES, required: true },
      { name: ['ownerId'], label: 'ownerId', kind: 'user' },
    ],
    submit: submitTo({ path: '/api/emergency-plans', started: (a) => ({ caseId: a.revisionCaseId }) }),
  },
  {
    id: 'drill',
    roles: ['manager'],
    fields: [
      { name: ['planId'], label: 'drillPlanId', kind: 'text', max: 100, pattern: KEY_PATTERN, required: true },
      {
        name: ['year'],
        label: 'drillYear',
        kind: 'integer',
        min: 2000,
        max: 2100,
        required: true,
        initial: thisYear(),
      },
    ],
    submit: submitTo({ path: '/api/drills', started: toCase }),
  },
  {
    id: 'improvement-cycle',
    roles: ['manager'],
    fields: [
      { name: ['title'], label: 'title', kind: 'text', max: 200, required: true },
      { name: ['objective'], label: 'objective', kind: 'textarea', max: 2000, required: true },
      { name: ['source'], label: 'source', kind: 'select', options: PDCA_SOURCES, required: true },
      { name: ['ownerId'], label: 'ownerId', kind: 'user' },
      { name: ['checkIn'], label: 'checkIn', kind: 'text', pattern: DURATION, initial: '30d' },
      { name: ['kpis'], label: 'kpis', kind: 'list', min: 1, fields: KPI_FIELDS, required: true },
      {
        name: ['actions'],
        label: 'actions',
        kind: 'list',
        min: 1,
        required: true,
        fields: [
          { name: ['title'], label: 'actionTitle', kind: 'text', max: 500, required: true },
          { name: ['ownerId'], label: 'ownerId', kind: 'user', required: true },
          { name: ['dueIn'], label: 'dueIn', kind: 'text', pattern: DURATION },
        ],
      },
    ],
    submit: submitTo({ path: '/api/improvement-cycles', started: toCase }),
  },
  {
    id: 'risk',
    roles: ['manager', 'risk'],
    fields: [
      { name: ['title'], label: 'title', kind: 'text', max: 200, required: true },
      { name: ['category'], label: 'riskCategory', kind: 'select', options: RISK_CATEGORIES, required: true },
      { name: ['description'], label: 'description', kind: 'textarea', max: 5000, required: true },
      { name: ['cause'], label: 'cause', kind: 'textarea', max: 2000, required: true },
      { name: ['consequence'], label: 'consequence', kind: 'textarea', max: 2000, required: true },
      { name: ['ownerId'], label: 'ownerId', kind: 'user', required: true },
      {
        name: ['lineOfDefence'],
        label: 'lineOfDefence',
        kind: 'select',
        options: ['first', 'second', 'third'],
        required: true,
      },
      score(['inherent', 'probability'], 'inherentProbability'),
      score(['inherent', 'impact'], 'inherentImpact'),
      score(['residual', 'probability'], 'residualProbability'),
      score(['residual', 'impact'], 'residualImpact'),
    ],
    submit: submitTo({ path: '/api/risks', started: (a) => ({ key: a.key }) }),
  },
  {
    id: 'audit',
    roles: ['internal_audit'],
    fields: [
      { name: ['auditKey'], label: 'auditKey', kind: 'text', max: 100, pattern: KEY_PATTERN, required: true },
      { name: ['type'], label: 'auditType', kind: 'select', options: AUDIT_TYPES, required: true },
      { name: ['title'], label: 'title', kind: 'text', max: 200, required: true },
      { name: ['scope'], label: 'scope', kind: 'textarea', max: 5000, required: true },
      { name: ['auditeeOwnerId'], label: 'auditeeOwnerId', kind: 'user', required: true },
      { name: ['leadAuditorId'], label: 'leadAuditorId', kind: 'user' },
      { name: ['thirdParty', 'firm'], label: 'thirdPartyFirm', kind: 'text', max: 200 },
    ],
    submit: submitTo({ path: '/api/audits', started: toCase }),
  },
  {
    id: 'audit-finding',
    roles: ['internal_audit'],
    fields: [
      { name: ['title'], label: 'title', kind: 'text', max: 200, required: true },
      { name: ['description'], label: 'description', kind: 'textarea', max: 5000, required: true },
      {
        name: ['severity'],
        label: 'findingSeverity',
        kind: 'select',
        options: ['low', 'medium', 'high'],
        required: true,
      },
      { name: ['area'], label: 'area', kind: 'select', options: FINDING_AREAS, required: true },
      {
        name: ['remedy'],
        label: 'remedy',
        kind: 'select',
        options: ['rectification'],
        initial: 'rectification',
        required: true,
      },
      { name: ['ownerId'], label: 'ownerId', kind: 'user', required: true },
      { name: ['dueAt'], label: 'dueAt', kind: 'datetime' },
      { name: ['relatedCaseId'], label: 'relatedCaseId', kind: 'text', max: 300 },
    ],
    submit: submitTo({ path: '/api/audit-findings', started: toCase }),
  },
  {
    id: 'supplier-status-change',
    roles: ['manager', 'risk', 'compliance', 'legal'],
    fields: [
      { name: ['supplierId'], label: 'supplierId', kind: 'supplier', required: true },
      { name: ['change'], label: 'statusChange', kind: 'select', options: STATUS_CHANGES, required: true },
      { name: ['reason'], label: 'reason', kind: 'textarea', max: 2000, required: true },
    ],
    submit: submitTo({ path: '/api/suppliers/{supplierId}/status-changes', params: ['supplierId'], started: toCase }),
  },
  {
    id: 'kri',
    roles: ['manager', 'risk'],
    fields: [
      { name: ['kriKey'], label: 'kriKey', kind: 'text', max: 100, pattern: KEY_PATTERN, required: true },
      { name: ['name'], label: 'kriName', kind: 'text', max: 200, required: true },
      { name: ['unit'], label: 'unit', kind: 'text', max: 20 },
      { name: ['direction'], label: 'kriDirection', kind: 'select', options: KRI_DIRECTIONS, required: true },
      { name: ['thresholds', 'general'], label: 'thresholdGeneral', kind: 'number', required: true },
      { name: ['thresholds', 'elevated'], label: 'thresholdElevated', kind: 'number', required: true },
      { name: ['thresholds', 'major'], label: 'thresholdMajor', kind: 'number', required: true },
      { name: ['ownerId'], label: 'ownerId', kind: 'user', required: true },
      { name: ['riskKey'], label: 'riskKey', kind: 'text', max: 100 },
    ],
    submit: submitTo({ path: '/api/kris', started: (kri) => ({ key: kri.kriKey }) }),
  },
  {
    id: 'kri-observation',
    roles: ['manager', 'risk'],
    fields: [
      { name: ['kriKey'], label: 'kriKey', kind: 'text', max: 100, pattern: KEY_PATTERN, required: true },
      { name: ['alertKey'], label: 'alertKey', kind: 'text', max: 100, pattern: KEY_PATTERN, required: true },
      { name: ['value'], label: 'observedValue', kind: 'number', required: true },
      { name: ['observedAt'], label: 'observedAt', kind: 'datetime', required: true },
    ],
    // A value that reaches a threshold opens its warning case; below every threshold it is only recorded.
    submit: submitTo({
      path: '/api/kris/{kriKey}/observations',
      params: ['kriKey'],
      started: ({ observation, warning }) =>
        warning ? { caseId: warning.caseId } : { key: `${observation.kriKey}/${observation.alertKey}` },
    }),
  },
  {
    id: 'risk-assessment',
    roles: ['manager', 'risk'],
    fields: [{ name: ['period'], label: 'assessmentPeriod', kind: 'text', pattern: ASSESSMENT_PERIOD, required: true }],
    submit: submitTo({ path: '/api/risk-assessments', started: toCase }),
  },
  {
    id: 'risk-report',
    roles: ['risk'],
    fields: [
      { name: ['audience'], label: 'audience', kind: 'select', options: REPORT_AUDIENCES, required: true },
      { name: ['period'], label: 'reportPeriod', kind: 'text', pattern: REPORT_PERIOD, required: true },
    ],
    submit: submitTo({ path: '/api/risk-reports', started: toCase }),
  },
  {
    id: 'audit-plan',
    roles: ['internal_audit'],
    fields: [...AUDIT_PLAN_FIELDS],
    // A plan is a record of the year, not a case.
    submit: submitTo({ path: '/api/audit-plans', started: (plan) => ({ key: String(plan.year) }) }),
  },
  {
    // The year's plan exists (internal audit set it, or the annual Schedule opened it with the
    // data-security check): internal audit adds its audits; an audit key planned already is kept.
    id: 'audit-plan-additions',
    roles: ['internal_audit'],
    fields: [...AUDIT_PLAN_FIELDS, { name: ['reason'], label: 'planChangeReason', kind: 'text', max: 1000 }],
    submit: submitTo({
      path: '/api/audit-plans/{year}/audits',
      params: ['year'],
      started: (plan) => ({ key: String(plan.year) }),
    }),
  },
  {
    id: 'policy-change',
    roles: ['compliance'],
    fields: [
      { name: ['summary'], label: 'summary', kind: 'text', max: 500, required: true },
      { name: ['change'], label: 'policyChange', kind: 'json', max: 10000, required: true },
      { name: ['changeKey'], label: 'changeKey', kind: 'text', max: 100, pattern: KEY_PATTERN },
    ],
    submit: submitTo({
      path: '/api/policy/changes',
      // Checked by the field's rule: an object in JSON.
      body: ({ change, ...rest }) => ({ ...rest, change: JSON.parse(String(change)) }) as Body<'/api/policy/changes'>,
      started: toCase,
    }),
  },
];
