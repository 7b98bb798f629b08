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

/** Starts a supplier's review for a year; the case id is the review's workflow id. */
async function startReview(body: Body<'/api/supplier-reviews'>, key: (body: unknown) => string): Promise<Started> {
  const started = await unwrap(
    api.POST('/api/supplier-reviews', { body, params: { header: header(key(['review', body])) } }),
  );
  return { caseId: started.caseId };
}

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
    async submit(values, key) {
      const body = values as Body<'/api/cases/approval-requests'>;
      const started = await unwrap(
        api.POST('/api/cases/approval-requests', { body, params: { header: header(key(body)) } }),
      );
      return { caseId: started.caseId };
    },
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
    async submit(values, key) {
      const body = values as Body<'/api/incidents'>;
      const started = await unwrap(api.POST('/api/incidents', { body, params: { header: header(key(body)) } }));
      return { caseId: started.caseId };
    },
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
    async submit(values, key) {
      const body = values as Body<'/api/complaints'>;
      const started = await unwrap(api.POST('/api/complaints', { body, params: { header: header(key(body)) } }));
      return { caseId: started.caseId };
    },
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
      const supplier = await unwrap(api.POST('/api/suppliers', { body, params: { header: header(key(body)) } }));
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
    submit: (values, key) => startReview(values as Body<'/api/supplier-reviews'>, key),
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
    async submit(values, key) {
      const body = values as Body<'/api/emergency-plans'>;
      const started = await unwrap(api.POST('/api/emergency-plans', { body, params: { header: header(key(body)) } }));
      return { caseId: started.revisionCaseId };
    },
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
    async submit(values, key) {
      const body = values as Body<'/api/drills'>;
      const started = await unwrap(api.POST('/api/drills', { body, params: { header: header(key(body)) } }));
      return { caseId: started.caseId };
    },
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
    async submit(values, key) {
      const body = values as Body<'/api/improvement-cycles'>;
      const started = await unwrap(
        api.POST('/api/improvement-cycles', { body, params: { header: header(key(body)) } }),
      );
      return { caseId: started.caseId };
    },
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
    async submit(values, key) {
      const body = values as Body<'/api/risks'>;
      const risk = await unwrap(api.POST('/api/risks', { body, params: { header: header(key(body)) } }));
      return { key: risk.key };
    },
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
    async submit(values, key) {
      const body = values as Body<'/api/audits'>;
      const started = await unwrap(api.POST('/api/audits', { body, params: { header: header(key(body)) } }));
      return { caseId: started.caseId };
    },
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
    async submit(values, key) {
      const body = values as Body<'/api/audit-findings'>;
      const recorded = await unwrap(api.POST('/api/audit-findings', { body, params: { header: header(key(body)) } }));
      return { caseId: recorded.caseId };
    },
  },
];
