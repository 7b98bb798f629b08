/**
 * Bad input gets a clear 4xx with a reason, and nothing is half-written.
 *
 * Every row of BAD_INPUT is sent to the real app (real PostgreSQL, real
 * Temporal dev server) and must come back as the one error envelope — the
 * right status and code, a message naming the field or rule, the request id
 * that is also in the x-request-id header, no stack — while the read model
 * (row counts, last audit seq, last update times) and the Temporal side (no
 * workflow started for the request key, no new event in the target
 * workflow's history) stay exactly as they were.
 */
import { auditAtStage, type AuditStage } from '../support/audits';
import { CONTRACT_ROUTES } from '../../api/routes/common';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  caseRow as caseRowOf,
  createDriver,
  endWorkflows,
  creditCodes,
  DRILL_CONDUCT,
  DRILL_PLAN,
  DRILL_SCORES,
  DRILL_SUMMARY,
  expectNotStarted as expectNotStartedOf,
  FEEDBACK,
  fileForm,
  databaseSnapshot,
  snapshot as snapshotOf,
  IMPACT,
  PDCA_KPI,
  PERFORMANCE,
  quiet as quietOf,
  SCORES,
  type ComplaintRef,
  type DrillRef,
  type IncidentRef,
  type RevisionRef,
} from '../support/drive';
import { eventually, useHarness, type TestUser } from '../support/harness';

const h = useHarness('badinput');
const MAX_EVIDENCE_BYTES = 64 * 1024; // the harness's maxEvidenceBytes
const enc = encodeURIComponent;

type Res = Awaited<ReturnType<typeof h.api>>;

// ---------------------------------------------------------------- helpers

function findKey(value: unknown, key: string): boolean {
  if (!value || typeof value !== 'object') return false;
  return Object.entries(value).some(([k, v]) => k === key || findKey(v, key));
}

/** The one error envelope, with a message that says what was wrong. */
function expectEnvelope(res: Res, status: number, code: string, message: RegExp) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(Object.keys(res.body)).toEqual(['error']);
  const { error } = res.body;
  expect(error).toMatchObject({ code, message: expect.any(String), requestId: expect.any(String) });
  expect(error.message).toMatch(message);
  expect(error.requestId).not.toBe('unknown');
  expect(error.requestId).toBe(res.headers.get('x-request-id'));
  expect(findKey(res.body, 'stack')).toBe(false);
  expect(JSON.stringify(res.body)).not.toMatch(/\\n\s+at |node_modules|\.ts:\d+|Error:/);
}

const dbSnapshot = () => databaseSnapshot(h);
const snapshot = (workflowId?: string) => snapshotOf(h, workflowId);
const expectNotStarted = (workflowId: string) => expectNotStartedOf(h, workflowId);
const quiet = (workflowId: string) => quietOf(h, workflowId);
const caseRow = (caseId: string) => caseRowOf(h, caseId);

/**
 * Credit codes of this file (prefix 91110000MA3; supplierReview.test.ts uses MA1,
 * auth-matrix.test.ts MA2, tests/support/cases.ts 91440300MA3): review workflow
 * ids are global on the shared dev server.
 */
const newCreditCode = creditCodes('91110000MA3');
const drive = createDriver(h, { label: 'Bad input', creditCode: newCreditCode });
const { decide, incidentReport } = drive;

async function complaintStep(target: ComplaintRef, step: string, json: unknown) {
  const res = await h.api('POST', `/api/complaints/${target.complaintId}/${step}`, { as: 'manager', json });
  expect(res.status, JSON.stringify(res.body)).toBe(step === 'raise-incident' ? 201 : 200);
  return res.body;
}

function documentForm(documentType: string | null, content: Buffer | string | null = 'a licence', name = 'doc.pdf') {
  return fileForm(content, documentType === null ? {} : { documentType }, name);
}

// ---------------------------------------------------------------- fixtures

/** An audit (owned by `owner`) driven to a stage: fieldwork, findings or responses (finding F1 of `owner`). */
const auditAt = (stage: AuditStage) => auditAtStage(h, stage);
const auditPath = (target: () => { auditKey: string }, rest: string) => () =>
  `/api/audits/${enc(target().auditKey)}/${rest}`;

const f = {} as {
  /** Approved with one condition: its approval is decided, its rectification item open. */
  p: { caseId: string; approvalTaskId: string; taskId: string };
  /** An open approval, with one piece of evidence uploaded to it. */
  q: { caseId: string; approvalTaskId: string; evidenceId: string };
  /** Approved outright and closed. */
  closed: { caseId: string; approvalTaskId: string };
  /** Every workflow the fixtures started: nothing else may appear on the task queue. */
  workflows: string[];
  /** An active supplier owned by mgr, with a performance record for 2025. */
  supplierId: string;
  /** A suspended and a terminated supplier. */
  suspendedId: string;
  terminatedId: string;
  /** Reviews of the active supplier (reviewer mgr): waiting for documents (2026), for checks (2027). */
  reviewDocuments: string;
  reviewChecks: string;
  /** Incidents owned and reported by mgr: grade IV waiting to be acknowledged; grade III acknowledged, nobody told yet. */
  incidentReported: IncidentRef;
  incidentHandling: IncidentRef;
  /** Grade III, management told, stabilised: in evaluation, none recorded (so close-out is refused). */
  incidentEvaluation: IncidentRef;
  /** Reported, then its workflow ended (terminated): its read model still says "reported". */
  incidentEnded: IncidentRef;
  /** Complaints accepted by mgr, handled by owner: investigating; handling (investigated); resolved (feedback sent, closed). */
  complaintInvestigating: ComplaintRef;
  complaintHandling: ComplaintRef;
  complaintResolved: ComplaintRef;
  /** A complaint raised to an incident (raisedIncident), linked both ways. */
  complaintRaised: ComplaintRef;
  raisedIncident: IncidentRef;
  /** The incident and complaint workflows of the fixtures, ended after the file. */
  loops: string[];
  /** An active emergency plan owned by mgr, v1 published (its revision clock running). */
  plan: string;
  /** Plans registered by admin, owned by mgr: revision v1 waiting for the draft; drafted, waiting for its review. */
  revisionDraft: RevisionRef;
  revisionReview: RevisionRef;
  /** Drills of the plan (opened by lead, organised by mgr): planning (2030), conduct (2031), evaluation (2032), summary (2033). */
  drillPlanning: DrillRef;
  drillConduct: DrillRef;
  drillEvaluation: DrillRef;
  drillSummary: DrillRef;
  /** The plan revision, revision clock and drill workflows of the fixtures still running, ended after the file. */
  drills: string[];
  /** An improvement cycle opened by lead, owned by mgr: its plan waits for approval. */
  pdca: { cycleKey: string; caseId: string };
  auditFieldwork: { auditKey: string; caseId: string };
  riskKey: string;
  riskControlId: string;
  riskAssessment: { period: string; caseId: string; scope: Array<{ riskKey: string; ownerId: string }> };
  auditResponses: { auditKey: string; caseId: string };
};

beforeAll(async () => {
  const p = await drive.openRectification({ title: 'Case with a condition' });
  f.p = p;

  const q = await drive.startApproval({ title: 'Open approval' });
  const uploaded = await h.api('POST', `/api/cases/${enc(q.caseId)}/evidence`, {
    as: 'owner',
    body: fileForm('hello'),
  });
  expect(uploaded.status).toBe(201);
  f.q = { ...q, evidenceId: uploaded.body.id };

  f.closed = await drive.startApproval({ title: 'Approved and closed' });
  expect((await decide(f.closed.approvalTaskId, 'approver', { decision: 'approve' })).status).toBe(200);
  await h.temporal.workflow.getHandle(f.closed.caseId).result();
  expect((await caseRow(f.closed.caseId))?.status).toBe('closed');

  // A user who left: not a valid owner.
  await h.sql(
    `insert into users (id, name, email, roles, active) values ('gone', 'Gone', 'gone@test.example', '{action_owner}', false)`,
  );

  f.supplierId = await drive.registerSupplier();
  const performance = await h.api('PUT', `/api/suppliers/${f.supplierId}/performance/2025`, {
    as: 'manager',
    json: PERFORMANCE,
  });
  expect(performance.status, JSON.stringify(performance.body)).toBe(200);
  f.suspendedId = await drive.registerSupplier({ status: 'suspended' });
  f.terminatedId = await drive.registerSupplier({ status: 'terminated' });
  f.reviewDocuments = (await drive.reviewAt('documents', f.supplierId, 2026)).caseId;
  f.reviewChecks = (await drive.reviewAt('checks', f.supplierId, 2027)).caseId;

  f.incidentReported = await drive.incidentAt('reported', 'IV');
  f.incidentHandling = await drive.incidentAt('handling', 'III');
  f.incidentEvaluation = await drive.incidentAt('evaluation', 'III');
  f.incidentEnded = await drive.incidentAt('reported', 'IV');
  await h.temporal.workflow.getHandle(f.incidentEnded.caseId).terminate('ended before anyone acknowledged it');

  f.complaintInvestigating = await drive.complaintAt('investigating');
  f.complaintHandling = await drive.complaintAt('handling');
  f.complaintResolved = await drive.complaintAt('handling');
  await complaintStep(f.complaintResolved, 'feedback', FEEDBACK);
  await h.temporal.workflow.getHandle(f.complaintResolved.caseId).result();
  expect((await caseRow(f.complaintResolved.caseId))?.status).toBe('closed');
  f.complaintRaised = await drive.complaintAt('investigating');
  const raisedId = `INC-${randomUUID().slice(0, 8)}`;
  const { title: _title, ...raise } = drive.incidentReport(raisedId, { category: 'transaction_fraud' });
  await complaintStep(f.complaintRaised, 'raise-incident', raise);
  f.raisedIncident = { incidentId: raisedId, caseId: `incident:${raisedId}` };
  expect((await caseRow(f.raisedIncident.caseId))?.stage).toBe('reported');
  expect((await caseRow(f.complaintRaised.caseId))?.data.linkedIncidentCaseId).toBe(f.raisedIncident.caseId);

  f.loops = [
    f.incidentReported,
    f.incidentHandling,
    f.incidentEvaluation,
    f.incidentEnded,
    f.complaintInvestigating,
    f.complaintHandling,
    f.complaintResolved,
    f.complaintRaised,
    f.raisedIncident,
  ].map((c) => c.caseId);
  f.plan = await drive.publishPlan();
  f.revisionDraft = await drive.registerPlan();
  f.revisionReview = await drive.registerPlan();
  await drive.draftRevision(f.revisionReview);
  f.drillPlanning = await drive.drillAt('planning', f.plan, 2030);
  f.drillConduct = await drive.drillAt('conduct', f.plan, 2031);
  f.drillEvaluation = await drive.drillAt('evaluation', f.plan, 2032);
  f.drillSummary = await drive.drillAt('summary', f.plan, 2033);
  f.drills = [
    `plan-revision-clock:${f.plan}`,
    f.revisionDraft.revisionId,
    f.revisionReview.revisionId,
    ...[f.drillPlanning, f.drillConduct, f.drillEvaluation, f.drillSummary].map((d) => d.caseId),
  ];

  f.pdca = await drive.cycleOpened();
  f.auditFieldwork = await auditAt('fieldwork');
  f.auditResponses = await auditAt('responses');
  const risk = await h.api('POST', '/api/risks', {
    as: 'lead',
    json: {
      riskKey: 'RISK-BAD-INPUT',
      title: 'Shared risk',
      category: 'technical',
      description: 'd',
      cause: 'c',
      consequence: 'q',
      ownerId: 'owner',
      lineOfDefence: 'first',
      inherent: { probability: 4, impact: 5 },
      residual: { probability: 2, impact: 3 },
    },
  });
  expect(risk.status, JSON.stringify(risk.body)).toBe(201);
  f.riskKey = risk.body.key;
  const control = await h.api('POST', `/api/risks/${f.riskKey}/controls`, {
    as: 'lead',
    json: { title: 'Daily failover check', ownerId: 'appr1', frequency: 'daily' },
  });
  f.riskControlId = control.body.id;
  // The 1999-Q1 assessment: its scope is the whole register (the shared risk, owned by owner).
  const assessment = await h.api('POST', '/api/risk-assessments', { as: 'lead', json: { period: '1999-Q1' } });
  expect(assessment.status, JSON.stringify(assessment.body)).toBe(201);
  f.riskAssessment = { period: '1999-Q1', caseId: assessment.body.caseId, scope: assessment.body.scope };

  f.workflows = [
    f.p.caseId,
    f.p.taskId,
    f.q.caseId,
    f.closed.caseId,
    f.reviewDocuments,
    f.reviewChecks,
    ...f.loops,
    `plan-revision:${f.plan}:v1`,
    ...f.drills,
    f.pdca.caseId,
    f.auditFieldwork.caseId,
    f.auditResponses.caseId,
    f.riskAssessment.caseId,
  ];
  // Nothing may still be writing when the first snapshot is taken.
  const ended = [f.closed.caseId, f.incidentEnded.caseId, f.complaintResolved.caseId, `plan-revision:${f.plan}:v1`];
  for (const id of f.workflows.filter((w) => !ended.includes(w))) await quiet(id);
});

afterAll(async () => {
  // The incidents and complaints wait for people for days, the revisions and drills too, and the revision
  // clock for years: end them (quiet first, so nothing writes after). The drill-programme Schedule is left.
  await endWorkflows(
    h,
    [...(f.loops ?? []), ...(f.drills ?? []), ...(f.pdca ? [f.pdca.caseId] : [])],
    'bad input: done',
  );
});

// ---------------------------------------------------------------- the table

interface BadInput {
  name: string;
  method?: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  path: () => string;
  as?: TestUser | null;
  json?: () => unknown;
  raw?: { body: string; contentType: string };
  form?: () => FormData;
  status: number;
  code: string;
  /** What the message must say: the field, or the reason. */
  message: RegExp;
  /** The domain rule's code, for refusals from a workflow validator. */
  reason?: string;
  /** details[].field entries that must be present. */
  fields?: string[];
  /** The workflow whose history must not change. */
  workflowId?: () => string;
  /** A request key whose case must not exist afterwards. */
  requestKey?: string;
  /** Further proof that nothing happened. */
  unchanged?: () => Promise<void>;
}

const START = '/api/cases/approval-requests';
/** A fresh request key (the table is built before the harness exists, so not h.unique). */
const key = () => `BAD-${randomUUID().slice(0, 8)}`;

/** A start request with a fresh key; the key's workflow must not exist afterwards. */
function badStart(
  name: string,
  body: Record<string, unknown>,
  expected: Pick<BadInput, 'message' | 'fields'> & { status?: number; code?: string },
): BadInput {
  const requestKey = key();
  return {
    name,
    method: 'POST',
    path: () => START,
    json: () => ({ requestKey, title: 'Bad input', ...body }),
    status: expected.status ?? 400,
    code: expected.code ?? 'BAD_REQUEST',
    message: expected.message,
    fields: expected.fields,
    requestKey,
  };
}

const taskPath = (id: () => string, action: string) => () => `/api/tasks/${enc(id())}/${action}`;
const evidencePath = (caseId: () => string) => () => `/api/cases/${enc(caseId())}/evidence`;
const taskUnchanged = (id: () => string, expected: Record<string, unknown>) => async () => {
  const [task] = await h.sql('select status, votes, evidence_ids from tasks where id = $1', [id()]);
  expect(task).toMatchObject(expected);
};
const noEvidenceNamed = (name: string) => async () =>
  expect(await h.sql('select 1 from evidence where file_name = $1', [name])).toHaveLength(0);

// ---------------------------------------------------------------- suppliers and their reviews

const REGISTER = '/api/suppliers';
const supplierPath =
  (id: () => string, rest = '') =>
  () =>
    `/api/suppliers/${id()}${rest}`;
const reviewPath = (caseId: () => string, rest: string) => () => `/api/supplier-reviews/${enc(caseId())}/${rest}`;
const supplierUnchanged = (id: () => string, expected: Record<string, unknown>) => async () => {
  const [row] = await h.sql('select name, status, tier, owner_id from suppliers where id = $1', [id()]);
  expect(row).toMatchObject(expected);
};
const noSupplier = (id: string) => async () =>
  expect(await h.sql('select 1 from suppliers where id = $1', [id])).toHaveLength(0);
const noReview = (supplierId: () => string, year: number) => () =>
  expectNotStarted(`supplier-review:${supplierId()}:${year}`);
const reviewUnchanged = (caseId: () => string, stage: string) => async () => {
  const [row] = await h.sql('select stage, data from cases where id = $1', [caseId()]);
  expect(row.stage).toBe(stage);
  if (stage === 'documents') expect(row.data.documents).toEqual({});
  expect(row.data).not.toHaveProperty('checks');
  expect(row.data).not.toHaveProperty('scores');
};

/** A valid code, and the same code with its check character changed. */
const goodCode = newCreditCode();
const mistypedCode = goodCode.slice(0, 17) + (goodCode[17] === '0' ? '1' : '0');
const unknownCode = newCreditCode();
const unknownReview = `supplier-review:${unknownCode}:2026`;
const newSupplier = (extra: Record<string, unknown>) => {
  const creditCode = newCreditCode();
  return {
    creditCode,
    json: () => ({ creditCode, name: 'Bad supplier', category: 'logistics', tier: 'core', ...extra }),
    unchanged: noSupplier(creditCode),
  };
};

const SUPPLIER_BAD_INPUT: BadInput[] = [
  // ---- POST /api/suppliers
  {
    name: 'a credit code with a mistyped check character',
    method: 'POST',
    path: () => REGISTER,
    as: 'manager',
    json: () => ({ creditCode: mistypedCode, name: 'Typo', category: 'logistics', tier: 'core' }),
    status: 400,
    code: 'BAD_REQUEST',
    message: new RegExp(`body\\.creditCode The check character \\(position 18\\) should be "${goodCode[17]}"`),
    fields: ['body.creditCode'],
    unchanged: async () => {
      await noSupplier(mistypedCode)();
      await noSupplier(goodCode)();
    },
  },
  (() => {
    const s = newSupplier({});
    const withO = s.creditCode.slice(0, 8) + 'O' + s.creditCode.slice(9);
    return {
      name: 'a credit code with a letter the standard leaves out (O)',
      method: 'POST',
      path: () => REGISTER,
      as: 'manager',
      json: () => ({ ...(s.json() as object), creditCode: withO }),
      status: 400,
      code: 'BAD_REQUEST',
      message: /body\.creditCode Character "O" at position 9 is not allowed/,
      fields: ['body.creditCode'],
      unchanged: s.unchanged,
    } satisfies BadInput;
  })(),
  (() => {
    const s = newSupplier({});
    return {
      name: 'a credit code of 17 characters',
      method: 'POST',
      path: () => REGISTER,
      as: 'manager',
      json: () => ({ ...(s.json() as object), creditCode: s.creditCode.slice(0, 17) }),
      status: 400,
      code: 'BAD_REQUEST',
      message: /body\.creditCode .*must have 18 characters, but 17 were given/,
      fields: ['body.creditCode'],
      unchanged: s.unchanged,
    } satisfies BadInput;
  })(),
  (() => {
    const s = newSupplier({ tier: 'gold', contact: { email: 'not-an-email' } });
    return {
      name: 'an unknown tier and a malformed contact email',
      method: 'POST',
      path: () => REGISTER,
      as: 'manager',
      json: s.json,
      status: 400,
      code: 'BAD_REQUEST',
      message: /body\.tier .*body\.contact\.email/,
      fields: ['body.tier', 'body.contact.email'],
      unchanged: s.unchanged,
    } satisfies BadInput;
  })(),
  (() => {
    const s = newSupplier({ riskGrade: 'low' });
    return {
      name: 'a supplier registered with a field the registry does not take',
      method: 'POST',
      path: () => REGISTER,
      as: 'manager',
      json: s.json,
      status: 400,
      code: 'BAD_REQUEST',
      message: /body\.riskGrade is not a known field/,
      fields: ['body.riskGrade'],
      unchanged: s.unchanged,
    } satisfies BadInput;
  })(),
  (() => {
    const s = newSupplier({ ownerId: 'gone' });
    return {
      name: 'a supplier owner who has left',
      method: 'POST',
      path: () => REGISTER,
      as: 'manager',
      json: s.json,
      status: 400,
      code: 'BAD_REQUEST',
      message: /ownerId "gone" is not an active user/,
      unchanged: s.unchanged,
    } satisfies BadInput;
  })(),
  {
    name: 'a supplier registered twice',
    method: 'POST',
    path: () => REGISTER,
    as: 'manager',
    json: () => ({ creditCode: f.supplierId.toLowerCase(), name: 'Impostor', category: 'retail', tier: 'strategic' }),
    status: 409,
    code: 'CONFLICT',
    message: /supplier 91110000MA3\w+ is already registered/,
    unchanged: supplierUnchanged(() => f.supplierId, { tier: 'core', status: 'active', owner_id: 'mgr' }),
  },

  // ---- GET /api/suppliers/{supplierId}
  {
    name: 'an unknown supplier',
    method: 'GET',
    path: () => `/api/suppliers/${unknownCode}`,
    status: 404,
    code: 'NOT_FOUND',
    message: new RegExp(`no supplier ${unknownCode}`),
  },
  {
    name: 'a supplier id over 18 characters',
    method: 'GET',
    path: () => `/api/suppliers/${unknownCode}X`,
    status: 400,
    code: 'BAD_REQUEST',
    message: /path\.supplierId .*18/,
    fields: ['path.supplierId'],
  },

  // ---- PATCH /api/suppliers/{supplierId}
  {
    name: 'a supplier status changed by PATCH (only a decision changes it)',
    method: 'PATCH',
    path: supplierPath(() => f.supplierId),
    as: 'manager',
    json: () => ({ status: 'suspended', reason: 'quality hold' }),
    status: 422,
    code: 'UNPROCESSABLE',
    reason: 'STATUS_BY_DECISION_ONLY',
    message: /body\.status: .*POST \/api\/suppliers\/\w+\/status-changes/,
    fields: ['body.status'],
    unchanged: supplierUnchanged(() => f.supplierId, { status: 'active' }),
  },
  {
    name: 'a supplier update with nothing but a reason',
    method: 'PATCH',
    path: supplierPath(() => f.supplierId),
    as: 'manager',
    json: () => ({ reason: 'no change' }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /change at least one field/,
  },
  {
    name: 'blacklisting by PATCH (a review decision, not an edit)',
    method: 'PATCH',
    path: supplierPath(() => f.supplierId),
    as: 'manager',
    json: () => ({ status: 'blacklisted', conditions: [], reason: 'shortcut' }),
    status: 422,
    code: 'UNPROCESSABLE',
    reason: 'STATUS_BY_DECISION_ONLY',
    message: /body\.status, body\.conditions/,
    fields: ['body.status', 'body.conditions'],
    unchanged: supplierUnchanged(() => f.supplierId, { status: 'active' }),
  },
  {
    name: 'a supplier handed to an owner who has left',
    method: 'PATCH',
    path: supplierPath(() => f.supplierId),
    as: 'admin',
    json: () => ({ ownerId: 'gone', tier: 'general' }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /ownerId "gone" is not an active user/,
    unchanged: supplierUnchanged(() => f.supplierId, { owner_id: 'mgr', tier: 'core' }),
  },
  {
    name: 'reactivating a supplier whose cooperation was terminated',
    method: 'PATCH',
    path: supplierPath(() => f.terminatedId),
    as: 'manager',
    json: () => ({ status: 'active', reason: 'changed our minds', tier: 'general' }),
    status: 422,
    code: 'UNPROCESSABLE',
    reason: 'STATUS_BY_DECISION_ONLY',
    message: /body\.status/,
    fields: ['body.status'],
    unchanged: supplierUnchanged(() => f.terminatedId, { status: 'terminated', tier: 'core' }),
  },
  // ---- POST /api/suppliers/{supplierId}/status-changes and …/reassessments
  ...(
    [
      ['an unknown status change', { change: 'nationalise', reason: 'x' }, 'body.change'],
      ['a status change without its reason', { change: 'suspend' }, 'body.reason'],
    ] as const
  ).map(([name, json, field]): BadInput => ({
    name,
    method: 'POST',
    path: supplierPath(() => f.supplierId, '/status-changes'),
    as: 'manager',
    json: () => json,
    status: 400,
    code: 'BAD_REQUEST',
    message: new RegExp(field.replace('.', '\\.')),
    fields: [field],
    unchanged: async () => {
      await supplierUnchanged(() => f.supplierId, { status: 'active' })();
      expect(
        await h.sql("select 1 from cases where process = 'supplier_status_change' and subject_id = $1", [f.supplierId]),
      ).toEqual([]);
    },
  })),
  {
    name: 'a status change of an unknown supplier',
    method: 'POST',
    path: () => `/api/suppliers/${unknownCode}/status-changes`,
    as: 'manager',
    json: () => ({ change: 'suspend', reason: 'quality hold' }),
    status: 404,
    code: 'NOT_FOUND',
    message: new RegExp(`no supplier ${unknownCode}`),
    unchanged: () => expectNotStarted(`supplier-status-change:${unknownCode}:1`),
  },
  {
    name: 'lifting a restriction the supplier does not have',
    method: 'POST',
    path: supplierPath(() => f.supplierId, '/status-changes'),
    as: 'manager',
    json: () => ({ change: 'lift_restriction', reason: 'all clear' }),
    status: 409,
    code: 'CONFLICT',
    reason: 'STATUS_CHANGE_NOT_ALLOWED',
    message: /lift_restriction: /,
    unchanged: () => expectNotStarted(`supplier-status-change:${f.supplierId}:1`),
  },
  ...(
    [
      ['a reassessment with an unknown trigger', { trigger: 'gossip', reason: 'heard something' }, 'body.trigger'],
      ['a reassessment with a blank reason', { trigger: 'market', reason: '   ' }, 'body.reason'],
    ] as const
  ).map(([name, json, field]): BadInput => ({
    name,
    method: 'POST',
    path: supplierPath(() => f.suspendedId, '/reassessments'),
    as: 'manager',
    json: () => json,
    status: 400,
    code: 'BAD_REQUEST',
    message: new RegExp(field.replace('.', '\\.')),
    fields: [field],
  })),
  {
    name: 'a reassessment of an unknown supplier',
    method: 'POST',
    path: () => `/api/suppliers/${unknownCode}/reassessments`,
    as: 'manager',
    json: () => ({ trigger: 'market', reason: 'prices doubled' }),
    status: 404,
    code: 'NOT_FOUND',
    message: new RegExp(`no supplier ${unknownCode}`),
  },
  {
    name: 'a reassessment of a suspended supplier',
    method: 'POST',
    path: supplierPath(() => f.suspendedId, '/reassessments'),
    as: 'manager',
    json: () => ({ trigger: 'policy', reason: 'new licensing rule' }),
    status: 409,
    code: 'CONFLICT',
    reason: 'SUPPLIER_NOT_REVIEWABLE',
    message: /./,
    unchanged: () => expectNotStarted(`supplier-review:${f.suspendedId}:${new Date().getUTCFullYear()}-r1`),
  },
  {
    name: 'a reassessment while a review of the supplier is open',
    method: 'POST',
    path: supplierPath(() => f.supplierId, '/reassessments'),
    as: 'manager',
    json: () => ({ trigger: 'performance', reason: 'delays doubled' }),
    status: 409,
    code: 'CONFLICT',
    reason: 'REVIEW_OPEN',
    message: /is still open/,
    unchanged: () => expectNotStarted(`supplier-review:${f.supplierId}:${new Date().getUTCFullYear()}-r1`),
  },
  {
    name: 'an update of an unknown supplier',
    method: 'PATCH',
    path: () => `/api/suppliers/${unknownCode}`,
    as: 'manager',
    json: () => ({ name: 'Nobody' }),
    status: 404,
    code: 'NOT_FOUND',
    message: new RegExp(`no supplier ${unknownCode}`),
    unchanged: noSupplier(unknownCode),
  },

  // ---- PUT /api/suppliers/{supplierId}/performance/{year}
  {
    name: 'performance for a year before 2000',
    method: 'PUT',
    path: supplierPath(() => f.supplierId, '/performance/1999'),
    as: 'manager',
    json: () => PERFORMANCE,
    status: 400,
    code: 'BAD_REQUEST',
    message: /path\.year .*2000/,
    fields: ['path.year'],
  },
  {
    name: 'a logistics delay rate given as a percentage (15 for 15%)',
    method: 'PUT',
    path: supplierPath(() => f.supplierId, '/performance/2025'),
    as: 'manager',
    json: () => ({ ...PERFORMANCE, logisticsDelayRate: 15 }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.logisticsDelayRate .*1/,
    fields: ['body.logisticsDelayRate'],
    unchanged: async () => {
      const [row] = await h.sql(
        'select logistics_delay_rate from supplier_performance where supplier_id = $1 and year = 2025',
        [f.supplierId],
      );
      expect(row).toEqual({ logistics_delay_rate: 0.02 });
    },
  },
  {
    name: 'performance with an unknown sampling result and no quality score',
    method: 'PUT',
    path: supplierPath(() => f.supplierId, '/performance/2024'),
    as: 'manager',
    json: () => ({ ...PERFORMANCE, samplingResult: 'ok', qualityScore: undefined }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.samplingResult .*body\.qualityScore/,
    fields: ['body.samplingResult', 'body.qualityScore'],
  },
  {
    name: 'performance of an unknown supplier',
    method: 'PUT',
    path: () => `/api/suppliers/${unknownCode}/performance/2025`,
    as: 'manager',
    json: () => PERFORMANCE,
    status: 404,
    code: 'NOT_FOUND',
    message: new RegExp(`no supplier ${unknownCode}`),
  },

  // ---- POST /api/supplier-reviews
  {
    name: 'a review of an unknown supplier',
    method: 'POST',
    path: () => '/api/supplier-reviews',
    json: () => ({ supplierId: unknownCode, year: 2026 }),
    status: 404,
    code: 'NOT_FOUND',
    message: new RegExp(`no supplier ${unknownCode}`),
    unchanged: noReview(() => unknownCode, 2026),
  },
  {
    name: 'a review for a year before 2000',
    method: 'POST',
    path: () => '/api/supplier-reviews',
    json: () => ({ supplierId: f.supplierId, year: 1999 }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.year .*2000/,
    fields: ['body.year'],
    unchanged: noReview(() => f.supplierId, 1999),
  },
  {
    name: 'a second review of the same supplier and year',
    method: 'POST',
    path: () => '/api/supplier-reviews',
    json: () => ({ supplierId: f.supplierId, year: 2026, reviewerId: 'lead' }),
    status: 409,
    code: 'CONFLICT',
    message: /the 2026 review of 91110000MA3\w+ already exists/,
    workflowId: () => f.reviewDocuments,
    unchanged: async () => {
      const [row] = await h.sql('select owner_id from cases where id = $1', [f.reviewDocuments]);
      expect(row).toEqual({ owner_id: 'mgr' });
    },
  },
  {
    name: 'a review of a suspended supplier',
    method: 'POST',
    path: () => '/api/supplier-reviews',
    json: () => ({ supplierId: f.suspendedId, year: 2026 }),
    status: 409,
    code: 'CONFLICT',
    message: /suspended; lift the suspension before starting a review/,
    unchanged: noReview(() => f.suspendedId, 2026),
  },
  {
    name: 'a review of a supplier whose cooperation was terminated',
    method: 'POST',
    path: () => '/api/supplier-reviews',
    json: () => ({ supplierId: f.terminatedId, year: 2026 }),
    status: 409,
    code: 'CONFLICT',
    message: /terminated, so there is nothing to review/,
    unchanged: noReview(() => f.terminatedId, 2026),
  },
  {
    name: 'a review with a documents deadline in words and an unknown timing',
    method: 'POST',
    path: () => '/api/supplier-reviews',
    json: () => ({
      supplierId: f.supplierId,
      year: 2030,
      timings: { documents: { expireAfter: 'two weeks' }, nag: '1d' },
    }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.timings\.documents\.expireAfter a duration like 30s/,
    fields: ['body.timings.documents.expireAfter', 'body.timings.nag'],
    unchanged: noReview(() => f.supplierId, 2030),
  },

  // ---- POST /api/supplier-reviews/campaigns
  {
    name: 'a campaign year given as text',
    method: 'POST',
    path: () => '/api/supplier-reviews/campaigns',
    json: () => ({ year: '2031' }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.year .*number/,
    fields: ['body.year'],
    unchanged: noReview(() => f.supplierId, 2031),
  },
  {
    name: 'a campaign with a zero step deadline',
    method: 'POST',
    path: () => '/api/supplier-reviews/campaigns',
    json: () => ({ year: 2031, timings: { step: { escalateAfter: '0s' } } }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.timings\.step\.escalateAfter/,
    fields: ['body.timings.step.escalateAfter'],
    unchanged: noReview(() => f.supplierId, 2031),
  },

  // ---- GET /api/supplier-reviews/campaigns/{year}[/suppliers]
  {
    name: 'a campaign year that is not a number',
    method: 'GET',
    path: () => '/api/supplier-reviews/campaigns/twenty',
    as: 'lead',
    status: 400,
    code: 'BAD_REQUEST',
    message: /path\.year/,
    fields: ['path.year'],
  },
  {
    name: 'a campaign that never ran',
    method: 'GET',
    path: () => '/api/supplier-reviews/campaigns/2099',
    as: 'lead',
    status: 404,
    code: 'NOT_FOUND',
    message: /no supplier review campaign for 2099/,
  },
  {
    name: 'a campaign list without its outcome',
    method: 'GET',
    path: () => '/api/supplier-reviews/campaigns/2031/suppliers',
    as: 'lead',
    status: 400,
    code: 'BAD_REQUEST',
    message: /query\.outcome/,
    fields: ['query.outcome'],
  },
  {
    name: 'a skip reason asked of the started reviews',
    method: 'GET',
    path: () => '/api/supplier-reviews/campaigns/2031/suppliers?outcome=started&reason=not_reviewable',
    as: 'lead',
    status: 400,
    code: 'BAD_REQUEST',
    message: /query\.reason applies to outcome=skipped only/,
    fields: ['query.reason'],
  },
  {
    name: 'a campaign list page of 500',
    method: 'GET',
    path: () => '/api/supplier-reviews/campaigns/2031/suppliers?outcome=skipped&limit=500',
    as: 'lead',
    status: 400,
    code: 'BAD_REQUEST',
    message: /query\.limit/,
    fields: ['query.limit'],
  },
  {
    name: 'a campaign list cursor that is not one',
    method: 'GET',
    path: () => '/api/supplier-reviews/campaigns/2031/suppliers?outcome=skipped&cursor=WyJub3BlIl0',
    as: 'lead',
    status: 400,
    code: 'BAD_REQUEST',
    message: /query\.cursor is not a cursor of this list/,
    fields: ['query.cursor'],
  },

  // ---- POST /api/supplier-reviews/{caseId}/documents
  {
    name: 'a document of an unknown type',
    method: 'POST',
    path: reviewPath(() => f.reviewDocuments, 'documents'),
    as: 'manager',
    form: () => documentForm('tax_certificate', 'a certificate', 'tax.pdf'),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.documentType/,
    fields: ['body.documentType'],
    workflowId: () => f.reviewDocuments,
    unchanged: async () => {
      await noEvidenceNamed('tax.pdf')();
      await reviewUnchanged(() => f.reviewDocuments, 'documents')();
    },
  },
  {
    name: 'a document without its type',
    method: 'POST',
    path: reviewPath(() => f.reviewDocuments, 'documents'),
    as: 'manager',
    form: () => documentForm(null, 'a licence', 'untyped.pdf'),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.documentType/,
    fields: ['body.documentType'],
    workflowId: () => f.reviewDocuments,
    unchanged: noEvidenceNamed('untyped.pdf'),
  },
  {
    name: 'a document type without the file',
    method: 'POST',
    path: reviewPath(() => f.reviewDocuments, 'documents'),
    as: 'manager',
    form: () => documentForm('business_licence', null),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.file attach the file as form field "file"/,
    fields: ['body.file'],
    workflowId: () => f.reviewDocuments,
  },
  {
    name: 'an empty document',
    method: 'POST',
    path: reviewPath(() => f.reviewDocuments, 'documents'),
    as: 'manager',
    form: () => documentForm('business_licence', Buffer.alloc(0), 'empty-licence.pdf'),
    status: 400,
    code: 'BAD_REQUEST',
    message: /file is empty/,
    workflowId: () => f.reviewDocuments,
    unchanged: noEvidenceNamed('empty-licence.pdf'),
  },
  {
    name: 'a document over the limit (70 KiB)',
    method: 'POST',
    path: reviewPath(() => f.reviewDocuments, 'documents'),
    as: 'manager',
    form: () => documentForm('financial_statements', Buffer.alloc(70 * 1024, 1), 'big-statements.pdf'),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    message: new RegExp(`limited to ${MAX_EVIDENCE_BYTES} bytes`),
    workflowId: () => f.reviewDocuments,
    unchanged: noEvidenceNamed('big-statements.pdf'),
  },
  {
    name: 'a document as JSON instead of multipart',
    method: 'POST',
    path: reviewPath(() => f.reviewDocuments, 'documents'),
    as: 'manager',
    json: () => ({ documentType: 'business_licence', file: 'aGVsbG8=' }),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: /multipart\/form-data/,
    workflowId: () => f.reviewDocuments,
  },
  {
    name: 'a document for a review past its documents stage',
    method: 'POST',
    path: reviewPath(() => f.reviewChecks, 'documents'),
    as: 'manager',
    form: () => documentForm('business_licence', 'a late licence', 'late-licence.pdf'),
    status: 409,
    code: 'CONFLICT',
    reason: 'NOT_AWAITING_DOCUMENTS',
    message: /the supplier review is checks; this step is taken in documents/,
    workflowId: () => f.reviewChecks,
    unchanged: noEvidenceNamed('late-licence.pdf'),
  },
  {
    name: 'a document for an unknown review',
    method: 'POST',
    path: reviewPath(() => unknownReview, 'documents'),
    as: 'manager',
    form: () => documentForm('business_licence', 'a licence', 'orphan-licence.pdf'),
    status: 404,
    code: 'NOT_FOUND',
    message: /no supplier review supplier-review:/,
    unchanged: noEvidenceNamed('orphan-licence.pdf'),
  },
  {
    name: 'a document for an approval case (not a supplier review id)',
    method: 'POST',
    path: reviewPath(() => f.q.caseId, 'documents'),
    as: 'manager',
    form: () => documentForm('business_licence', 'a licence', 'misrouted.pdf'),
    status: 400,
    code: 'BAD_REQUEST',
    message: /path\.caseId a supplier review id/,
    fields: ['path.caseId'],
    workflowId: () => f.q.caseId,
    unchanged: noEvidenceNamed('misrouted.pdf'),
  },

  // ---- POST /api/supplier-reviews/{caseId}/checks
  {
    name: 'checks while the review still waits for documents',
    method: 'POST',
    path: reviewPath(() => f.reviewDocuments, 'checks'),
    as: 'manager',
    json: () => ({ creditRating: 'AA', backgroundCheck: 'clear' }),
    status: 409,
    code: 'CONFLICT',
    reason: 'NOT_AWAITING_CHECKS',
    message: /the supplier review is documents; this step is taken in checks/,
    workflowId: () => f.reviewDocuments,
    unchanged: reviewUnchanged(() => f.reviewDocuments, 'documents'),
  },
  {
    name: 'checks for an unknown review',
    method: 'POST',
    path: reviewPath(() => unknownReview, 'checks'),
    as: 'manager',
    json: () => ({ creditRating: 'AA', backgroundCheck: 'clear' }),
    status: 404,
    code: 'NOT_FOUND',
    message: /no supplier review supplier-review:/,
  },

  // ---- POST /api/supplier-reviews/{caseId}/scores
  {
    name: 'scores before the checks are in',
    method: 'POST',
    path: reviewPath(() => f.reviewChecks, 'scores'),
    as: 'manager',
    json: () => ({ scores: SCORES, impact: 2 }),
    status: 409,
    code: 'CONFLICT',
    reason: 'NOT_AWAITING_SCORES',
    message: /the supplier review is checks; this step is taken in scoring/,
    workflowId: () => f.reviewChecks,
    unchanged: reviewUnchanged(() => f.reviewChecks, 'checks'),
  },
  {
    name: 'scores for a malformed review id',
    method: 'POST',
    path: reviewPath(() => 'supplier-review:short:2026', 'scores'),
    as: 'manager',
    json: () => ({ scores: SCORES, impact: 2 }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /path\.caseId a supplier review id/,
    fields: ['path.caseId'],
  },

  // ---- GET /api/supplier-reviews/{caseId}/report and report.html
  {
    name: 'a report for an unknown review',
    method: 'GET',
    path: reviewPath(() => unknownReview, 'report'),
    as: 'auditor',
    status: 404,
    code: 'NOT_FOUND',
    message: /no supplier review supplier-review:/,
  },
  {
    name: 'a report for a review id with a two-digit year',
    method: 'GET',
    path: reviewPath(() => `supplier-review:${unknownCode}:26`, 'report'),
    as: 'auditor',
    status: 400,
    code: 'BAD_REQUEST',
    message: /path\.caseId a supplier review id/,
    fields: ['path.caseId'],
  },
  {
    name: 'a printable report for an unknown review',
    method: 'GET',
    path: reviewPath(() => unknownReview, 'report.html'),
    as: 'auditor',
    status: 404,
    code: 'NOT_FOUND',
    message: /no supplier review supplier-review:/,
  },
  {
    name: 'a printable report for an approval case',
    method: 'GET',
    path: reviewPath(() => f.q.caseId, 'report.html'),
    as: 'auditor',
    status: 400,
    code: 'BAD_REQUEST',
    message: /path\.caseId a supplier review id/,
    fields: ['path.caseId'],
  },
];

// ---------------------------------------------------------------- incidents and complaints

const incidentPath = (target: () => IncidentRef | string, rest: string) => () => {
  const t = target();
  return `/api/incidents/${typeof t === 'string' ? t : t.incidentId}/${rest}`;
};
const complaintPath = (target: () => ComplaintRef | string, rest: string) => () => {
  const t = target();
  return `/api/complaints/${typeof t === 'string' ? t : t.complaintId}/${rest}`;
};
const noIncident = (incidentId: string) => () => expectNotStarted(`incident:${incidentId}`);
const incidentUnchanged = (target: () => IncidentRef, expected: Record<string, unknown>) => async () => {
  expect(await caseRow(target().caseId)).toMatchObject(expected);
};
const complaintUnchanged = (target: () => ComplaintRef, expected: Record<string, unknown>) => async () => {
  expect(await caseRow(target().caseId)).toMatchObject(expected);
};
/** No approval or rectification item was opened (the step a case owes, kind step, was opened before the call). */
const noTasksOf = (caseId: () => string) => async () =>
  expect(await h.sql(`select id from tasks where case_id = $1 and kind <> 'step'`, [caseId()])).toEqual([]);
const UNKNOWN_INCIDENT = 'INC-NEVER-REPORTED';
const UNKNOWN_COMPLAINT = 'CMP-NEVER-ACCEPTED';

/** A report with a fresh incident id; that incident must not exist afterwards. */
function badReport(
  name: string,
  extra: Record<string, unknown>,
  expected: Pick<BadInput, 'message' | 'fields' | 'as'> & { status?: number; code?: string },
): BadInput {
  const incidentId = `BAD-INC-${randomUUID().slice(0, 8)}`;
  return {
    name,
    method: 'POST',
    path: () => '/api/incidents',
    as: expected.as ?? 'manager',
    json: () => incidentReport(incidentId, extra),
    status: expected.status ?? 400,
    code: expected.code ?? 'BAD_REQUEST',
    message: expected.message,
    fields: expected.fields,
    unchanged: noIncident(incidentId),
  };
}

/** A complaint with a fresh id; that complaint must not exist afterwards. */
function badComplaint(
  name: string,
  extra: Record<string, unknown>,
  expected: Pick<BadInput, 'message' | 'fields'>,
): BadInput {
  const complaintId = `BAD-CMP-${randomUUID().slice(0, 8)}`;
  return {
    name,
    method: 'POST',
    path: () => '/api/complaints',
    as: 'manager',
    json: () => ({
      complaintId,
      customerRef: `CUST-${complaintId}`,
      channel: 'app',
      type: 'transaction_dispute',
      subject: 'Double charge',
      ...extra,
    }),
    status: 400,
    code: 'BAD_REQUEST',
    message: expected.message,
    fields: expected.fields,
    unchanged: () => expectNotStarted(`complaint:${complaintId}`),
  };
}

/** A raise-incident body with a fresh incident id; that incident must not exist afterwards. */
function raiseBody(extra: Record<string, unknown> = {}) {
  const incidentId = `BAD-INC-${randomUUID().slice(0, 8)}`;
  return {
    incidentId,
    json: () => {
      const { title: _title, ...body } = incidentReport(incidentId, { category: 'transaction_fraud', ...extra });
      return body;
    },
    unchanged: noIncident(incidentId),
  };
}

const INCIDENT_BAD_INPUT: BadInput[] = [
  // ---- POST /api/incidents
  badReport(
    'an impact with a misspelt criterion (outageMinute): it would quietly lower the grade',
    { impact: { affectedUsers: 50, amountCny: 0, outageMinute: 600 } },
    { message: /body\.impact\.outageMinute is not a known field/, fields: ['body.impact.outageMinute'] },
  ),
  badReport(
    'a grade overriding the suggested one without its reason',
    { grade: 'II' },
    {
      message: /gradeReason is required to override the suggested grade IV with II/,
      fields: ['body.gradeReason'],
    },
  ),
  badReport(
    'an incident that occurred tomorrow',
    { occurredAt: new Date(Date.now() + 86_400_000).toISOString() },
    { message: /occurredAt is in the future/ },
  ),
  badReport(
    'an occurredAt without its time zone',
    { occurredAt: '2026-03-01T10:00:00' },
    { message: /body\.occurredAt/, fields: ['body.occurredAt'] },
  ),
  badReport(
    'a reporter who is not a manager, naming no owner',
    {},
    { as: 'approver', message: /ownerId is required \(the reporter is not a manager\)/ },
  ),
  badReport(
    'an owner who is not a manager',
    { ownerId: 'owner' },
    { message: /ownerId "owner" is not an active manager/ },
  ),
  badReport(
    'an unknown category and a negative number of affected users',
    { category: 'alien_invasion', impact: { affectedUsers: -1, amountCny: 0 } },
    { message: /body\.category .*body\.impact\.affectedUsers/, fields: ['body.category', 'body.impact.affectedUsers'] },
  ),
  badReport(
    'an incident timing in words',
    { timings: { acknowledgeWithin: 'half an hour' } },
    { message: /body\.timings\.acknowledgeWithin a duration like 30s/, fields: ['body.timings.acknowledgeWithin'] },
  ),
  {
    name: 'an incident id that is already reported',
    method: 'POST',
    path: () => '/api/incidents',
    as: 'manager',
    json: () => incidentReport(f.incidentReported.incidentId, { title: 'Second report', impact: IMPACT.III }),
    status: 409,
    code: 'CONFLICT',
    message: /incident INC-\w+ already exists/,
    workflowId: () => f.incidentReported.caseId,
    unchanged: async () => {
      const [row] = await h.sql('select title, risk_level from cases where id = $1', [f.incidentReported.caseId]);
      expect(row).toEqual({ title: `Bad input incident ${f.incidentReported.incidentId}`, risk_level: 'low' });
    },
  },

  // ---- POST /api/incidents/grade-suggestion
  {
    name: 'a grade suggestion with a negative number of affected users and no amount',
    method: 'POST',
    path: () => '/api/incidents/grade-suggestion',
    as: 'owner',
    json: () => ({ category: 'system_failure', impact: { affectedUsers: -5 } }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.impact\.affectedUsers .*body\.impact\.amountCny/,
    fields: ['body.impact.affectedUsers', 'body.impact.amountCny'],
  },
  {
    name: 'a grade suggestion with half a data record and the category inside the impact',
    method: 'POST',
    path: () => '/api/incidents/grade-suggestion',
    as: 'approver',
    json: () => ({ impact: { affectedUsers: 1, amountCny: 0, dataRecordsExposed: 2.5, category: 'data_leak' } }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.category/,
    fields: ['body.category', 'body.impact.dataRecordsExposed', 'body.impact.category'],
  },

  // ---- POST /api/incidents/{incidentId}/acknowledge
  {
    name: 'an acknowledgement of an unknown incident',
    method: 'POST',
    path: incidentPath(() => UNKNOWN_INCIDENT, 'acknowledge'),
    as: 'manager',
    json: () => ({}),
    status: 404,
    code: 'NOT_FOUND',
    message: new RegExp(`no incident ${UNKNOWN_INCIDENT}`),
  },
  {
    name: 'a second acknowledgement',
    method: 'POST',
    path: incidentPath(() => f.incidentHandling, 'acknowledge'),
    as: 'lead',
    json: () => ({}),
    status: 409,
    code: 'CONFLICT',
    reason: 'NOT_AWAITING_ACKNOWLEDGEMENT',
    message: /the incident is handling; this step is taken in reported$/,
    workflowId: () => f.incidentHandling.caseId,
    unchanged: incidentUnchanged(() => f.incidentHandling, { stage: 'handling', data: { acknowledgedBy: 'mgr' } }),
  },
  {
    name: 'an incident addressed by its case id (incident:…)',
    method: 'POST',
    path: incidentPath(() => enc(f.incidentReported.caseId), 'acknowledge'),
    as: 'manager',
    json: () => ({}),
    status: 400,
    code: 'BAD_REQUEST',
    message: /path\.incidentId an incident id/,
    fields: ['path.incidentId'],
    workflowId: () => f.incidentReported.caseId,
  },

  // ---- POST /api/incidents/{incidentId}/timeline
  {
    name: 'a timeline entry for an incident whose workflow has ended',
    method: 'POST',
    path: incidentPath(() => f.incidentEnded, 'timeline'),
    as: 'manager',
    json: () => ({ entry: 'Too late' }),
    status: 409,
    code: 'CONFLICT',
    message: /has finished|already closed/,
    unchanged: incidentUnchanged(() => f.incidentEnded, { data: { timeline: [] } }),
  },

  // ---- POST /api/incidents/{incidentId}/notifications
  {
    name: 'a notification before the incident is acknowledged',
    method: 'POST',
    path: incidentPath(() => f.incidentReported, 'notifications'),
    as: 'manager',
    json: () => ({ audience: 'management', notifiedAt: new Date().toISOString(), summary: 'Told the director' }),
    status: 409,
    code: 'CONFLICT',
    reason: 'NOT_HANDLING',
    message:
      /the incident is reported; this step is taken in handling or notification or stabilised or evaluation or rectification/,
    workflowId: () => f.incidentReported.caseId,
    unchanged: incidentUnchanged(() => f.incidentReported, { stage: 'reported', data: { notifications: [] } }),
  },

  // ---- POST /api/incidents/{incidentId}/stabilise
  {
    name: 'stabilising a grade III incident before management is told',
    method: 'POST',
    path: incidentPath(() => f.incidentHandling, 'stabilise'),
    as: 'manager',
    json: () => ({ summary: 'Traffic restored' }),
    status: 422,
    code: 'UNPROCESSABLE',
    reason: 'NOTIFICATION_MISSING',
    message: /a grade III incident must first notify: management/,
    workflowId: () => f.incidentHandling.caseId,
    unchanged: incidentUnchanged(() => f.incidentHandling, { stage: 'handling', data: { stabilisedAt: null } }),
  },
  {
    name: 'stabilising an incident nobody has acknowledged',
    method: 'POST',
    path: incidentPath(() => f.incidentReported, 'stabilise'),
    as: 'manager',
    json: () => ({ summary: 'Traffic restored' }),
    status: 409,
    code: 'CONFLICT',
    reason: 'NOT_HANDLING',
    message: /the incident is reported; this step is taken in handling or notification$/,
    workflowId: () => f.incidentReported.caseId,
    unchanged: incidentUnchanged(() => f.incidentReported, { stage: 'reported', data: { stabilisedAt: null } }),
  },

  // ---- POST /api/incidents/{incidentId}/regrade
  {
    name: 'a regrade to the grade it already has',
    method: 'POST',
    path: incidentPath(() => f.incidentHandling, 'regrade'),
    as: 'manager',
    json: () => ({ grade: 'III', reason: 'to be sure' }),
    status: 422,
    code: 'UNPROCESSABLE',
    reason: 'INVALID_GRADE',
    message: /the incident is already grade III/,
    workflowId: () => f.incidentHandling.caseId,
    unchanged: async () => {
      const row = await caseRow(f.incidentHandling.caseId);
      expect(row?.data.gradeHistory).toHaveLength(1);
    },
  },

  // ---- POST /api/incidents/{incidentId}/evaluation
  {
    name: 'an evaluation before the incident is stabilised',
    method: 'POST',
    path: incidentPath(() => f.incidentHandling, 'evaluation'),
    as: 'manager',
    json: () => ({ rootCause: 'A bad deploy', lessons: 'Canary first' }),
    status: 409,
    code: 'CONFLICT',
    reason: 'NOT_AWAITING_EVALUATION',
    message: /the incident is handling; this step is taken in stabilised or evaluation or rectification/,
    workflowId: () => f.incidentHandling.caseId,
    unchanged: incidentUnchanged(() => f.incidentHandling, { data: { evaluation: null } }),
  },
  {
    name: 'an evaluation whose rectification item owner has left',
    method: 'POST',
    path: incidentPath(() => f.incidentEvaluation, 'evaluation'),
    as: 'manager',
    json: () => ({
      rootCause: 'A bad deploy',
      lessons: 'Canary first',
      rectificationItems: [{ title: 'Add a canary stage', ownerId: 'gone' }],
    }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /rectification item owner "gone" is not an active user/,
    workflowId: () => f.incidentEvaluation.caseId,
    unchanged: async () => {
      await incidentUnchanged(() => f.incidentEvaluation, { data: { evaluation: null, rectificationTaskIds: [] } })();
      await noTasksOf(() => f.incidentEvaluation.caseId)();
    },
  },

  // ---- POST /api/incidents/{incidentId}/close-out
  {
    name: 'a close-out before the incident is stabilised',
    method: 'POST',
    path: incidentPath(() => f.incidentHandling, 'close-out'),
    as: 'manager',
    json: () => ({}),
    status: 409,
    code: 'CONFLICT',
    reason: 'NOT_READY_TO_CLOSE',
    message: /the incident is handling; this step is taken in stabilised or evaluation or rectification/,
    workflowId: () => f.incidentHandling.caseId,
  },
  {
    name: 'a grade III close-out without its follow-up evaluation',
    method: 'POST',
    path: incidentPath(() => f.incidentEvaluation, 'close-out'),
    as: 'lead',
    json: () => ({}),
    status: 422,
    code: 'UNPROCESSABLE',
    reason: 'CLOSE_OUT_REFUSED',
    message: /closing is refused: A grade III incident requires a follow-up evaluation with root-cause analysis/,
    workflowId: () => f.incidentEvaluation.caseId,
    unchanged: async () => {
      await incidentUnchanged(() => f.incidentEvaluation, { stage: 'evaluation' })();
      await noTasksOf(() => f.incidentEvaluation.caseId)();
    },
  },

  // ---- GET /api/incidents/{incidentId}/report and report.html
  {
    name: 'a report of an unknown incident',
    method: 'GET',
    path: incidentPath(() => UNKNOWN_INCIDENT, 'report'),
    as: 'auditor',
    status: 404,
    code: 'NOT_FOUND',
    message: new RegExp(`no incident ${UNKNOWN_INCIDENT}`),
  },
  {
    name: 'a report of an incident id starting with a dot',
    method: 'GET',
    path: incidentPath(() => '.hidden', 'report'),
    as: 'auditor',
    status: 400,
    code: 'BAD_REQUEST',
    message: /path\.incidentId an incident id/,
    fields: ['path.incidentId'],
  },
  {
    name: 'a printable report of an unknown incident',
    method: 'GET',
    path: incidentPath(() => UNKNOWN_INCIDENT, 'report.html'),
    as: 'auditor',
    status: 404,
    code: 'NOT_FOUND',
    message: new RegExp(`no incident ${UNKNOWN_INCIDENT}`),
  },
  {
    name: 'a printable report addressed by the complaint case id',
    method: 'GET',
    path: incidentPath(() => enc(f.complaintRaised.caseId), 'report.html'),
    as: 'auditor',
    status: 400,
    code: 'BAD_REQUEST',
    message: /path\.incidentId an incident id/,
    fields: ['path.incidentId'],
  },

  // ---- POST /api/complaints
  badComplaint('a complaint without its type', { type: undefined }, { message: /body\.type/, fields: ['body.type'] }),
  badComplaint(
    'a complaint type not on the list',
    { type: 'weather' },
    { message: /body\.type/, fields: ['body.type'] },
  ),
  {
    name: 'complaints listed by an unknown type and severity',
    path: () => '/api/complaints?type=weather&severity=urgent',
    as: 'manager',
    status: 400,
    code: 'BAD_REQUEST',
    message: /query\.type .*query\.severity/,
    fields: ['query.type', 'query.severity'],
  },
  {
    name: 'a complaint read by an id that is not one',
    path: () => '/api/complaints/not%20an%20id',
    as: 'manager',
    status: 400,
    code: 'BAD_REQUEST',
    message: /path\.complaintId/,
    fields: ['path.complaintId'],
  },
  badComplaint(
    'a customer named instead of referenced (personal data)',
    { customerRef: 'Zhang Wei 138 0013 8000' },
    { message: /body\.customerRef the CRM reference, not personal data/, fields: ['body.customerRef'] },
  ),
  badComplaint(
    'an unknown channel and severity',
    { channel: 'fax', severity: 'urgent' },
    { message: /body\.channel .*body\.severity/, fields: ['body.channel', 'body.severity'] },
  ),
  badComplaint(
    'a complaint handler who has left',
    { handlerId: 'gone' },
    { message: /handlerId "gone" is not an active user/ },
  ),
  badComplaint(
    'a complaint SLA in words',
    { timings: { resultWithin: 'two days' } },
    { message: /body\.timings\.resultWithin a duration like 30s/, fields: ['body.timings.resultWithin'] },
  ),
  {
    name: 'a complaint id that already names a complaint',
    method: 'POST',
    path: () => '/api/complaints',
    as: 'owner',
    json: () => ({
      complaintId: f.complaintInvestigating.complaintId,
      customerRef: 'CUST-OTHER',
      channel: 'hotline',
      type: 'service',
      subject: 'Something else',
    }),
    status: 409,
    code: 'CONFLICT',
    message: /complaint CMP-\w+ already exists/,
    workflowId: () => f.complaintInvestigating.caseId,
    unchanged: complaintUnchanged(() => f.complaintInvestigating, { data: { subject: 'Refund not received' } }),
  },

  // ---- POST /api/complaints/{complaintId}/investigation
  {
    name: 'a second initial investigation',
    method: 'POST',
    path: complaintPath(() => f.complaintHandling, 'investigation'),
    as: 'owner',
    json: () => ({ findings: 'Something else entirely' }),
    status: 409,
    code: 'CONFLICT',
    reason: 'NOT_INVESTIGATING',
    message: /the complaint is handling/,
    workflowId: () => f.complaintHandling.caseId,
    unchanged: complaintUnchanged(() => f.complaintHandling, {
      data: { initialInvestigation: { findings: 'The refund file was rejected by the bank' } },
    }),
  },
  {
    name: 'an investigation of an unknown complaint',
    method: 'POST',
    path: complaintPath(() => UNKNOWN_COMPLAINT, 'investigation'),
    as: 'owner',
    json: () => ({ findings: 'Nothing' }),
    status: 404,
    code: 'NOT_FOUND',
    message: new RegExp(`no complaint ${UNKNOWN_COMPLAINT}`),
  },

  // ---- POST /api/complaints/{complaintId}/handling
  {
    name: 'handling recorded on a resolved complaint',
    method: 'POST',
    path: complaintPath(() => f.complaintResolved, 'handling'),
    as: 'manager',
    json: () => ({ action: 'Called the customer again' }),
    status: 409,
    code: 'CONFLICT',
    message: /has finished|already closed/,
    workflowId: () => f.complaintResolved.caseId,
    unchanged: complaintUnchanged(() => f.complaintResolved, { status: 'closed', data: { handling: [] } }),
  },

  // ---- POST /api/complaints/{complaintId}/feedback
  {
    name: 'feedback before the initial investigation',
    method: 'POST',
    path: complaintPath(() => f.complaintInvestigating, 'feedback'),
    as: 'owner',
    json: () => FEEDBACK,
    status: 409,
    code: 'CONFLICT',
    reason: 'NOT_HANDLING',
    message: /the complaint is investigating; this step is taken in handling/,
    workflowId: () => f.complaintInvestigating.caseId,
    unchanged: complaintUnchanged(() => f.complaintInvestigating, { stage: 'investigating', data: { feedback: null } }),
  },

  // ---- POST /api/complaints/{complaintId}/rectifications
  {
    name: 'a complaint rectification owned by someone who has left',
    method: 'POST',
    path: complaintPath(() => f.complaintHandling, 'rectifications'),
    as: 'manager',
    json: () => ({ title: 'Validate refund files', ownerId: 'gone' }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /ownerId "gone" is not an active user/,
    workflowId: () => f.complaintHandling.caseId,
    unchanged: async () => {
      await complaintUnchanged(() => f.complaintHandling, { data: { rectificationTaskIds: [] } })();
      await noTasksOf(() => f.complaintHandling.caseId)();
    },
  },
  {
    name: 'a rectification item on a resolved complaint',
    method: 'POST',
    path: complaintPath(() => f.complaintResolved, 'rectifications'),
    as: 'manager',
    json: () => ({ title: 'Validate refund files', ownerId: 'owner' }),
    status: 409,
    code: 'CONFLICT',
    message: /has finished|already closed/,
    workflowId: () => f.complaintResolved.caseId,
    unchanged: noTasksOf(() => f.complaintResolved.caseId),
  },

  // ---- POST /api/complaints/{complaintId}/raise-incident
  (() => {
    const body = raiseBody();
    return {
      name: 'raising a complaint a second time',
      method: 'POST',
      path: complaintPath(() => f.complaintRaised, 'raise-incident'),
      as: 'manager',
      json: body.json,
      status: 409,
      code: 'CONFLICT',
      message: /already raised to incident:INC-\w+/,
      workflowId: () => f.complaintRaised.caseId,
      unchanged: async () => {
        await body.unchanged();
        await complaintUnchanged(() => f.complaintRaised, {
          data: { linkedIncidentCaseId: f.raisedIncident.caseId },
        })();
      },
    } satisfies BadInput;
  })(),
  (() => {
    const body = raiseBody();
    return {
      name: 'raising an unknown complaint',
      method: 'POST',
      path: complaintPath(() => UNKNOWN_COMPLAINT, 'raise-incident'),
      as: 'lead',
      json: body.json,
      status: 404,
      code: 'NOT_FOUND',
      message: new RegExp(`no complaint ${UNKNOWN_COMPLAINT}`),
      unchanged: body.unchanged,
    } satisfies BadInput;
  })(),
  (() => {
    const body = raiseBody({ impact: { amountCny: 300 } });
    return {
      name: 'raising a complaint with an impact missing the affected users',
      method: 'POST',
      path: complaintPath(() => f.complaintHandling, 'raise-incident'),
      as: 'manager',
      json: body.json,
      status: 400,
      code: 'BAD_REQUEST',
      message: /body\.impact\.affectedUsers/,
      fields: ['body.impact.affectedUsers'],
      workflowId: () => f.complaintHandling.caseId,
      unchanged: async () => {
        await body.unchanged();
        await complaintUnchanged(() => f.complaintHandling, { data: { linkedIncidentCaseId: null } })();
      },
    } satisfies BadInput;
  })(),
];

// ---------------------------------------------------------------- emergency plans and drills

const UNKNOWN_PLAN = 'EP-NEVER-REGISTERED';
const planPath =
  (planId: () => string, rest = '') =>
  () =>
    `/api/emergency-plans/${planId()}${rest}`;
const draftPath = (caseId: () => string) => () => `/api/plan-revisions/${enc(caseId())}/draft`;
const drillPath = (caseId: () => string, rest: string) => () => `/api/drills/${enc(caseId())}/${rest}`;
const noPlan = (planId: string) => async () => {
  expect(await h.sql('select 1 from emergency_plans where id = $1', [planId])).toHaveLength(0);
  await expectNotStarted(`plan-revision:${planId}:v1`);
};
const noDrill = (planId: () => string, year: number) => () => expectNotStarted(`drill:${planId()}:${year}`);
const drillUnchanged = (target: () => DrillRef, expected: Record<string, unknown>) => async () => {
  expect(await caseRow(target().caseId)).toMatchObject(expected);
};
const revisionUnchanged = (target: () => RevisionRef, stage: string) => async () => {
  const row = await caseRow(target().revisionId);
  expect(row?.stage).toBe(stage);
  if (stage === 'draft') expect(row?.data).not.toHaveProperty('draft');
  else expect(row?.data.draft).toMatchObject({ summary: 'First version', rounds: 1 });
};
/** No rectification item opened for a drill's findings (its plan approval is a task of its own). */
const noFindingItems = (caseId: () => string) => async () =>
  expect(await h.sql(`select id from tasks where case_id = $1 and kind = 'rectification'`, [caseId()])).toEqual([]);
/** A draft with the plan document and the summary of changes, either left out when null. */
function draftForm(content: Buffer | string | null, summary: string | null, name: string) {
  return fileForm(content, summary === null ? {} : { summary }, name);
}

/** A registration with a fresh plan id; that plan (and its first revision) must not exist afterwards. */
function badPlan(
  name: string,
  extra: Record<string, unknown>,
  expected: Pick<BadInput, 'message' | 'fields' | 'as'>,
): BadInput {
  const planId = `BAD-EP-${randomUUID().slice(0, 8)}`;
  return {
    name,
    method: 'POST',
    path: () => '/api/emergency-plans',
    as: expected.as ?? 'admin',
    json: () => ({ planId, title: 'Bad plan', type: 'network_security', ownerId: 'mgr', ...extra }),
    status: 400,
    code: 'BAD_REQUEST',
    message: expected.message,
    fields: expected.fields,
    unchanged: noPlan(planId),
  };
}

const DRILL_BAD_INPUT: BadInput[] = [
  // ---- POST /api/emergency-plans
  badPlan(
    'an unknown plan type and a title over 200 characters',
    { type: 'alien_invasion', title: 'x'.repeat(201) },
    { message: /body\.title .*200.*body\.type/, fields: ['body.title', 'body.type'] },
  ),
  badPlan(
    'a plan id with spaces',
    { planId: 'has spaces' },
    { as: 'manager', message: /body\.planId letters, digits/, fields: ['body.planId'] },
  ),
  badPlan('a plan owner who has left', { ownerId: 'gone' }, { message: /ownerId "gone" is not an active user/ }),
  badPlan(
    'an auditor as the plan owner (who drafts its revisions)',
    { ownerId: 'auditor' },
    { message: /ownerId "auditor" is not an active user/ },
  ),
  badPlan(
    'a revision interval in words and an unknown timing',
    { timings: { revisionInterval: 'three years', reviewEvery: '1d' } },
    {
      message: /body\.timings\.revisionInterval a duration like 30s/,
      fields: ['body.timings.revisionInterval', 'body.timings.reviewEvery'],
    },
  ),
  badPlan(
    'a plan registered with its status (a plan becomes active when v1 is published)',
    { status: 'active' },
    { message: /body\.status is not a known field/, fields: ['body.status'] },
  ),
  {
    name: 'a plan id that is already registered',
    method: 'POST',
    path: () => '/api/emergency-plans',
    as: 'admin',
    json: () => ({ planId: f.plan, title: 'Impostor', type: 'data_leak', ownerId: 'lead' }),
    status: 409,
    code: 'CONFLICT',
    message: /emergency plan EP-\w+ already exists/,
    workflowId: () => `plan-revision:${f.plan}:v1`,
    unchanged: async () => {
      const [row] = await h.sql('select title, type, owner_id, status from emergency_plans where id = $1', [f.plan]);
      expect(row).toEqual({
        title: `Bad input plan ${f.plan}`,
        type: 'network_security',
        owner_id: 'mgr',
        status: 'active',
      });
    },
  },

  // ---- GET /api/emergency-plans/{planId}
  {
    name: 'an unknown emergency plan',
    method: 'GET',
    path: planPath(() => UNKNOWN_PLAN),
    as: 'auditor',
    status: 404,
    code: 'NOT_FOUND',
    message: new RegExp(`no emergency plan ${UNKNOWN_PLAN}`),
  },
  {
    name: 'a plan id starting with a dot',
    method: 'GET',
    path: planPath(() => '.hidden'),
    as: 'owner',
    status: 400,
    code: 'BAD_REQUEST',
    message: /path\.planId a plan id/,
    fields: ['path.planId'],
  },

  // ---- POST /api/emergency-plans/{planId}/revisions
  {
    name: 'a revision without its reason',
    method: 'POST',
    path: planPath(() => f.plan, '/revisions'),
    json: () => ({ reason: '   ' }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.reason/,
    fields: ['body.reason'],
    unchanged: () => expectNotStarted(`plan-revision:${f.plan}:v2`),
  },
  {
    name: 'a revision naming its own drafter (the plan owner drafts)',
    method: 'POST',
    path: planPath(() => f.plan, '/revisions'),
    json: () => ({ reason: 'Reorganisation', ownerId: 'lead' }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.ownerId is not a known field/,
    fields: ['body.ownerId'],
    unchanged: () => expectNotStarted(`plan-revision:${f.plan}:v2`),
  },
  {
    name: 'a revision of an unknown plan',
    method: 'POST',
    path: planPath(() => UNKNOWN_PLAN, '/revisions'),
    json: () => ({ reason: 'Reorganisation' }),
    status: 404,
    code: 'NOT_FOUND',
    message: new RegExp(`no emergency plan ${UNKNOWN_PLAN}`),
    unchanged: () => expectNotStarted(`plan-revision:${UNKNOWN_PLAN}:v1`),
  },
  {
    name: 'a second revision while the first is still open',
    method: 'POST',
    path: planPath(() => f.revisionDraft.planId, '/revisions'),
    json: () => ({ reason: 'Another one' }),
    status: 409,
    code: 'CONFLICT',
    message: /revision v1 of EP-\w+ is already open/,
    workflowId: () => f.revisionDraft.revisionId,
    unchanged: async () => {
      await revisionUnchanged(() => f.revisionDraft, 'draft')();
      expect((await caseRow(f.revisionDraft.revisionId))?.data.reason).toBe('first version');
    },
  },

  // ---- POST /api/plan-revisions/{caseId}/draft
  {
    name: 'a draft without the plan document',
    method: 'POST',
    path: draftPath(() => f.revisionDraft.revisionId),
    as: 'manager',
    form: () => draftForm(null, 'Reorganised the command chain', 'unused.pdf'),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.file attach the plan document as form field "file"/,
    fields: ['body.file'],
    workflowId: () => f.revisionDraft.revisionId,
    unchanged: revisionUnchanged(() => f.revisionDraft, 'draft'),
  },
  {
    name: 'a draft with a blank summary of changes',
    method: 'POST',
    path: draftPath(() => f.revisionDraft.revisionId),
    as: 'manager',
    form: () => draftForm('plan v1', '   ', 'blank-summary.pdf'),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.summary/,
    fields: ['body.summary'],
    workflowId: () => f.revisionDraft.revisionId,
    unchanged: async () => {
      await noEvidenceNamed('blank-summary.pdf')();
      await revisionUnchanged(() => f.revisionDraft, 'draft')();
    },
  },
  {
    name: 'an empty plan document',
    method: 'POST',
    path: draftPath(() => f.revisionDraft.revisionId),
    as: 'manager',
    form: () => draftForm(Buffer.alloc(0), 'First version', 'empty-plan.pdf'),
    status: 400,
    code: 'BAD_REQUEST',
    message: /file is empty/,
    workflowId: () => f.revisionDraft.revisionId,
    unchanged: noEvidenceNamed('empty-plan.pdf'),
  },
  {
    name: 'a plan document over the limit (70 KiB)',
    method: 'POST',
    path: draftPath(() => f.revisionDraft.revisionId),
    as: 'manager',
    form: () => draftForm(Buffer.alloc(70 * 1024, 1), 'First version', 'big-plan.pdf'),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    message: new RegExp(`limited to ${MAX_EVIDENCE_BYTES} bytes`),
    workflowId: () => f.revisionDraft.revisionId,
    unchanged: noEvidenceNamed('big-plan.pdf'),
  },
  {
    name: 'a draft as JSON instead of multipart',
    method: 'POST',
    path: draftPath(() => f.revisionDraft.revisionId),
    as: 'manager',
    json: () => ({ summary: 'First version', file: 'aGVsbG8=' }),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: /multipart\/form-data/,
    workflowId: () => f.revisionDraft.revisionId,
  },
  {
    name: 'a second draft while the first is under review',
    method: 'POST',
    path: draftPath(() => f.revisionReview.revisionId),
    as: 'manager',
    form: () => draftForm('plan v1 bis', 'Second thoughts', 'second-draft.pdf'),
    status: 409,
    code: 'CONFLICT',
    reason: 'NOT_AWAITING_DRAFT',
    message: /the plan revision is awaiting_approval; this step is taken in draft/,
    workflowId: () => f.revisionReview.revisionId,
    unchanged: async () => {
      await noEvidenceNamed('second-draft.pdf')();
      await revisionUnchanged(() => f.revisionReview, 'awaiting_approval')();
    },
  },
  {
    name: 'a draft for an unknown revision',
    method: 'POST',
    path: draftPath(() => `plan-revision:${UNKNOWN_PLAN}:v1`),
    as: 'manager',
    form: () => draftForm('plan v1', 'First version', 'orphan-plan.pdf'),
    status: 404,
    code: 'NOT_FOUND',
    message: new RegExp(`no plan revision plan-revision:${UNKNOWN_PLAN}:v1`),
    unchanged: noEvidenceNamed('orphan-plan.pdf'),
  },
  {
    name: 'a draft addressed to a drill (not a revision id)',
    method: 'POST',
    path: draftPath(() => f.drillPlanning.caseId),
    as: 'manager',
    form: () => draftForm('plan v1', 'First version', 'misrouted-plan.pdf'),
    status: 400,
    code: 'BAD_REQUEST',
    message: /path\.caseId a revision id: plan-revision:<planId>:v<n>/,
    fields: ['path.caseId'],
    workflowId: () => f.drillPlanning.caseId,
    unchanged: noEvidenceNamed('misrouted-plan.pdf'),
  },

  // ---- POST /api/drills
  {
    name: 'a drill of an unknown plan',
    method: 'POST',
    path: () => '/api/drills',
    json: () => ({ planId: UNKNOWN_PLAN, year: 2030 }),
    status: 404,
    code: 'NOT_FOUND',
    message: new RegExp(`no emergency plan ${UNKNOWN_PLAN}`),
    unchanged: noDrill(() => UNKNOWN_PLAN, 2030),
  },
  {
    name: 'a drill of a plan not yet in force (v1 still a draft)',
    method: 'POST',
    path: () => '/api/drills',
    json: () => ({ planId: f.revisionDraft.planId, year: 2030 }),
    status: 409,
    code: 'CONFLICT',
    message: /plan EP-\w+ is draft; only active plans are drilled/,
    unchanged: noDrill(() => f.revisionDraft.planId, 2030),
  },
  {
    name: 'a second drill of the same plan and year',
    method: 'POST',
    path: () => '/api/drills',
    json: () => ({ planId: f.plan, year: 2030, timings: { dueIn: '30d' } }),
    status: 409,
    code: 'CONFLICT',
    message: /the 2030 drill of EP-\w+ already exists/,
    workflowId: () => f.drillPlanning.caseId,
    unchanged: drillUnchanged(() => f.drillPlanning, {
      stage: 'planning',
      data: { dueAt: '2030-12-31T23:59:59.999Z' },
    }),
  },
  {
    name: 'a drill for a year before 2000',
    method: 'POST',
    path: () => '/api/drills',
    json: () => ({ planId: f.plan, year: 1999 }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.year .*2000/,
    fields: ['body.year'],
    unchanged: noDrill(() => f.plan, 1999),
  },
  {
    name: 'a drill due "by Christmas" with an unknown timing',
    method: 'POST',
    path: () => '/api/drills',
    json: () => ({ planId: f.plan, year: 2040, timings: { dueIn: 'by Christmas', nag: '1d' } }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.timings\.dueIn a duration like 30s/,
    fields: ['body.timings.dueIn', 'body.timings.nag'],
    unchanged: noDrill(() => f.plan, 2040),
  },
  {
    name: 'drill approval timings out of order',
    method: 'POST',
    path: () => '/api/drills',
    // The default escalateAfter is 48h: a reminder after 30 days comes after the escalation.
    json: () => ({ planId: f.plan, year: 2040, timings: { approval: { remindAfter: '30d' } } }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /timings\.approval .*remindAfter ≤ escalateAfter ≤ expireAfter/,
    unchanged: noDrill(() => f.plan, 2040),
  },
  {
    name: 'drill step timings out of order',
    method: 'POST',
    path: () => '/api/drills',
    // The plan's default escalation is after 30 days: a final deadline after 20 days comes before it.
    json: () => ({ planId: f.plan, year: 2040, timings: { step: { expireAfter: '20d' } } }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /timings\.step .*remindAfter ≤ escalateAfter ≤ expireAfter/,
    unchanged: noDrill(() => f.plan, 2040),
  },

  // ---- POST /api/drills/programme
  {
    name: 'a programme year given as text',
    method: 'POST',
    path: () => '/api/drills/programme',
    json: () => ({ year: '2041' }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.year .*number/,
    fields: ['body.year'],
    unchanged: noDrill(() => f.plan, 2041),
  },
  {
    name: 'a programme with a year after 2100 and timings it does not take',
    method: 'POST',
    path: () => '/api/drills/programme',
    json: () => ({ year: 2101, timings: { dueIn: '30d' } }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.year .*2100/,
    fields: ['body.year', 'body.timings'],
  },

  // ---- POST /api/drills/{caseId}/plan
  {
    name: 'a drill planned again once it is conducted',
    method: 'POST',
    path: drillPath(() => f.drillConduct.caseId, 'plan'),
    as: 'manager',
    json: () => DRILL_PLAN,
    status: 409,
    code: 'CONFLICT',
    reason: 'WRONG_STAGE',
    message: /the drill is conduct; this step is taken in planning/,
    workflowId: () => f.drillConduct.caseId,
    unchanged: drillUnchanged(() => f.drillConduct, { stage: 'conduct', data: { plan: { by: 'mgr' } } }),
  },
  {
    name: 'a plan for an unknown drill',
    method: 'POST',
    path: drillPath(() => `drill:${UNKNOWN_PLAN}:2030`, 'plan'),
    as: 'manager',
    json: () => DRILL_PLAN,
    status: 404,
    code: 'NOT_FOUND',
    message: new RegExp(`no drill drill:${UNKNOWN_PLAN}:2030`),
  },
  {
    name: 'a plan for a drill id with a two-digit year',
    method: 'POST',
    path: drillPath(() => `drill:${UNKNOWN_PLAN}:30`, 'plan'),
    as: 'manager',
    json: () => DRILL_PLAN,
    status: 400,
    code: 'BAD_REQUEST',
    message: /path\.caseId a drill id: drill:<planId>:<year>/,
    fields: ['path.caseId'],
  },

  // ---- POST /api/drills/{caseId}/conduct
  {
    name: 'a drill that ended before it started',
    method: 'POST',
    path: drillPath(() => f.drillConduct.caseId, 'conduct'),
    as: 'manager',
    json: () => ({ ...DRILL_CONDUCT, endedAt: '2026-11-01T01:00:00Z' }),
    status: 422,
    code: 'UNPROCESSABLE',
    reason: 'INVALID_DRILL',
    message: /endedAt not before startedAt/,
    workflowId: () => f.drillConduct.caseId,
    unchanged: drillUnchanged(() => f.drillConduct, { stage: 'conduct', data: { conduct: null } }),
  },
  {
    name: 'a conduct recorded before the drill plan is approved',
    method: 'POST',
    path: drillPath(() => f.drillPlanning.caseId, 'conduct'),
    as: 'manager',
    json: () => DRILL_CONDUCT,
    status: 409,
    code: 'CONFLICT',
    reason: 'WRONG_STAGE',
    message: /the drill is planning; this step is taken in conduct/,
    workflowId: () => f.drillPlanning.caseId,
    unchanged: drillUnchanged(() => f.drillPlanning, { stage: 'planning', data: { conduct: null } }),
  },

  // ---- POST /api/drills/{caseId}/evaluation
  {
    name: 'a finding owned by someone who has left',
    method: 'POST',
    path: drillPath(() => f.drillEvaluation.caseId, 'evaluation'),
    as: 'manager',
    json: () => ({ scores: DRILL_SCORES, findings: [{ title: 'Automate the DNS switch', ownerId: 'gone' }] }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /findings\.ownerId "gone" is not an active user/,
    workflowId: () => f.drillEvaluation.caseId,
    unchanged: async () => {
      await drillUnchanged(() => f.drillEvaluation, { stage: 'evaluation', data: { scores: null, findings: [] } })();
      await noFindingItems(() => f.drillEvaluation.caseId)();
    },
  },
  {
    name: 'an evaluation before the drill is conducted',
    method: 'POST',
    path: drillPath(() => f.drillConduct.caseId, 'evaluation'),
    as: 'lead',
    json: () => ({ scores: DRILL_SCORES }),
    status: 409,
    code: 'CONFLICT',
    reason: 'WRONG_STAGE',
    message: /the drill is conduct; this step is taken in evaluation/,
    workflowId: () => f.drillConduct.caseId,
    unchanged: drillUnchanged(() => f.drillConduct, { stage: 'conduct', data: { scores: null, evaluation: null } }),
  },

  // ---- POST /api/drills/{caseId}/summary
  {
    name: 'a summary before the drill is evaluated',
    method: 'POST',
    path: drillPath(() => f.drillEvaluation.caseId, 'summary'),
    as: 'manager',
    json: () => DRILL_SUMMARY,
    status: 409,
    code: 'CONFLICT',
    reason: 'WRONG_STAGE',
    message: /the drill is evaluation; this step is taken in summary/,
    workflowId: () => f.drillEvaluation.caseId,
    unchanged: drillUnchanged(() => f.drillEvaluation, { stage: 'evaluation', data: { summary: null } }),
  },

  // ---- GET /api/drills/{caseId}/report and report.html
  {
    name: 'a report of an unknown drill',
    method: 'GET',
    path: drillPath(() => `drill:${f.plan}:2099`, 'report'),
    as: 'auditor',
    status: 404,
    code: 'NOT_FOUND',
    message: /no drill drill:EP-\w+:2099/,
  },
  {
    name: 'a drill report addressed by the plan revision id',
    method: 'GET',
    path: drillPath(() => f.revisionReview.revisionId, 'report'),
    as: 'auditor',
    status: 400,
    code: 'BAD_REQUEST',
    message: /path\.caseId a drill id/,
    fields: ['path.caseId'],
  },
  {
    name: 'a printable report of an unknown drill',
    method: 'GET',
    path: drillPath(() => `drill:${UNKNOWN_PLAN}:2030`, 'report.html'),
    as: 'owner',
    status: 404,
    code: 'NOT_FOUND',
    message: new RegExp(`no drill drill:${UNKNOWN_PLAN}:2030`),
  },
  {
    name: 'a printable report of a drill id without its year',
    method: 'GET',
    path: drillPath(() => `drill:${UNKNOWN_PLAN}`, 'report.html'),
    as: 'owner',
    status: 400,
    code: 'BAD_REQUEST',
    message: /path\.caseId a drill id/,
    fields: ['path.caseId'],
  },
];

// ---------------------------------------------------------------- improvement cycles (PDCA) and the report

const CYCLES = '/api/improvement-cycles';
/** A cycle body (no source: the linked route takes none) owned by mgr, its one action by owner. */
const cycleBody = (cycleKey: string, extra: Record<string, unknown> = {}) => ({
  cycleKey,
  title: 'Faster complaint resolution',
  objective: 'Resolve complaints within a day',
  ownerId: 'mgr',
  kpis: [PDCA_KPI],
  actions: [{ title: 'Add a second-line queue', ownerId: 'owner' }],
  checkIn: '1s',
  ...extra,
});
const cyclePath = (cycleKey: () => string, step: string) => () => `${CYCLES}/${cycleKey()}/${step}`;
const linkedPath = (caseId: () => string) => () => `/api/cases/${enc(caseId())}/improvement-cycles`;
const noCycle = (cycleKey: string) => () => expectNotStarted(`pdca:${cycleKey}`);
/** The shared cycle still waits for its plan's approval, its plan as opened. */
const cycleUnchanged = async () => {
  const [row] = await h.sql('select stage, status, data from cases where id = $1', [f.pdca.caseId]);
  expect(row).toMatchObject({ stage: 'awaiting_approval', status: 'open' });
  expect(row.data).toMatchObject({
    cycle: 1,
    actions: [{ title: 'Add a second-line queue', ownerId: 'owner' }],
    actuals: null,
    adopted: null,
  });
  const [task] = await h.sql('select status, votes from tasks where id = $1', [`${f.pdca.caseId}:c1-plan-approval-1`]);
  expect(task).toEqual({ status: 'open', votes: [] });
};

/** A new cycle (or one linked to `linkTo`) that must not start. */
function badCycle(
  name: string,
  extra: Record<string, unknown>,
  expected: Pick<BadInput, 'message' | 'fields' | 'status' | 'code'>,
  linkTo?: () => string,
): BadInput {
  const cycleKey = `PDCA-BAD-${randomUUID().slice(0, 8)}`;
  return {
    name,
    method: 'POST',
    path: linkTo ? linkedPath(linkTo) : () => CYCLES,
    as: 'lead',
    json: () => cycleBody(cycleKey, linkTo ? extra : { source: 'kpi_gap', ...extra }),
    ...expected,
    unchanged: noCycle(cycleKey),
  };
}

const PDCA_BAD_INPUT: BadInput[] = [
  // ---- POST /api/improvement-cycles
  badCycle(
    'a cycle with no KPIs and an unknown source',
    { source: 'gut_feeling', kpis: [] },
    {
      status: 400,
      code: 'BAD_REQUEST',
      message: /^(?=.*body\.source )(?=.*body\.kpis )/,
      fields: ['body.source', 'body.kpis'],
    },
  ),
  badCycle(
    'a KPI key in capitals and a direction of "sideways"',
    { kpis: [{ ...PDCA_KPI, key: 'Resolution', direction: 'sideways' }] },
    {
      status: 400,
      code: 'BAD_REQUEST',
      message: /^(?=.*body\.kpis\.0\.key )(?=.*body\.kpis\.0\.direction )/,
      fields: ['body.kpis.0.key', 'body.kpis.0.direction'],
    },
  ),
  badCycle(
    'a KPI whose target is no improvement on its baseline',
    { kpis: [{ ...PDCA_KPI, target: 60 }] },
    {
      status: 400,
      code: 'BAD_REQUEST',
      message: /invalid body: KPI "complaint_resolution_hours" target 60 must be below its baseline 48 to decrease/,
    },
  ),
  badCycle(
    'the same KPI key twice',
    { kpis: [PDCA_KPI, { ...PDCA_KPI, name: 'Again' }] },
    { status: 400, code: 'BAD_REQUEST', message: /KPI key "complaint_resolution_hours" is used twice/ },
  ),
  badCycle(
    'an action with a blank title, no owner and a due period of "soon"',
    { actions: [{ title: ' ', dueIn: 'soon' }] },
    {
      status: 400,
      code: 'BAD_REQUEST',
      message: /^(?=.*body\.actions\.0\.title )(?=.*body\.actions\.0\.ownerId )/,
      fields: ['body.actions.0.title', 'body.actions.0.ownerId', 'body.actions.0.dueIn'],
    },
  ),
  badCycle(
    'a cycle owned by a user who left',
    { ownerId: 'gone' },
    { status: 400, code: 'BAD_REQUEST', message: /ownerId "gone" is not an active user/, fields: ['body.ownerId'] },
  ),
  badCycle(
    'an action owned by the auditor, who changes nothing',
    { actions: [{ title: 'Audit yourself', ownerId: 'auditor' }] },
    {
      status: 400,
      code: 'BAD_REQUEST',
      message: /actions\.ownerId "auditor" is not an active user/,
      fields: ['body.actions.ownerId'],
    },
  ),
  badCycle(
    'a check date of "next quarter" and escalation after 0 cycles',
    { checkIn: 'next quarter', escalateAfterCycles: 0 },
    {
      status: 400,
      code: 'BAD_REQUEST',
      message: /^(?=.*body\.checkIn )(?=.*body\.escalateAfterCycles )/,
      fields: ['body.checkIn', 'body.escalateAfterCycles'],
    },
  ),
  badCycle(
    'plan approval timings out of order',
    { timings: { approval: { remindAfter: '30d' } } },
    { status: 400, code: 'BAD_REQUEST', message: /remindAfter ≤ escalateAfter ≤ expireAfter/ },
  ),
  badCycle(
    'a cycle from a case that does not exist',
    { sourceCaseId: 'incident:INC-NEVER-REPORTED' },
    { status: 404, code: 'NOT_FOUND', message: /no case incident:INC-NEVER-REPORTED/ },
  ),
  {
    name: 'a second cycle with the key of an open one',
    method: 'POST',
    path: () => CYCLES,
    as: 'lead',
    json: () => cycleBody(f.pdca.cycleKey, { source: 'kpi_gap' }),
    status: 409,
    code: 'CONFLICT',
    message: /improvement cycle PDCA-\w+ already exists/,
    workflowId: () => f.pdca.caseId,
    unchanged: cycleUnchanged,
  },

  // ---- POST /api/cases/{caseId}/improvement-cycles
  badCycle(
    'a linked cycle naming its own source',
    { source: 'kpi_gap', kpis: [{ ...PDCA_KPI, baseline: 'high' }] },
    {
      status: 400,
      code: 'BAD_REQUEST',
      message: /^(?=.*body\.kpis\.0\.baseline )(?=.*body\.source is not a known field)/,
      fields: ['body.source', 'body.kpis.0.baseline'],
    },
    () => f.incidentReported.caseId,
  ),
  badCycle(
    'a linked cycle whose target is no improvement',
    { kpis: [{ ...PDCA_KPI, direction: 'increase' }] },
    { status: 400, code: 'BAD_REQUEST', message: /target 24 must be above its baseline 48 to increase/ },
    () => f.incidentReported.caseId,
  ),
  badCycle(
    'a cycle linked to a case that does not exist',
    {},
    { status: 404, code: 'NOT_FOUND', message: /no case incident:INC-NEVER-REPORTED/ },
    () => 'incident:INC-NEVER-REPORTED',
  ),
  badCycle(
    'a cycle linked to a plan revision, which opens none',
    {},
    { status: 409, code: 'CONFLICT', message: /a plan_revision case does not open improvement cycles/ },
    () => f.revisionDraft.revisionId,
  ),
  badCycle(
    'a cycle linked to a case id over 300 characters',
    {},
    { status: 400, code: 'BAD_REQUEST', message: /path\.caseId/, fields: ['path.caseId'] },
    () => `incident:${'x'.repeat(300)}`,
  ),

  // ---- POST /api/improvement-cycles/{cycleKey}/plan
  {
    name: 'a re-plan while the plan waits for its approval',
    method: 'POST',
    path: cyclePath(() => f.pdca.cycleKey, 'plan'),
    as: 'manager',
    json: () => ({ actions: [{ title: 'Hire two agents', ownerId: 'owner' }] }),
    status: 409,
    code: 'CONFLICT',
    reason: 'WRONG_STAGE',
    message: /the pdca is awaiting_approval; this step is taken in plan$/,
    workflowId: () => f.pdca.caseId,
    unchanged: cycleUnchanged,
  },
  {
    name: 'a re-plan of an unknown cycle',
    method: 'POST',
    path: cyclePath(() => 'PDCA-NEVER-OPENED', 'plan'),
    as: 'manager',
    json: () => ({ actions: [{ title: 'Hire two agents', ownerId: 'owner' }] }),
    status: 404,
    code: 'NOT_FOUND',
    message: /no improvement cycle PDCA-NEVER-OPENED/,
  },
  {
    name: 'a re-plan of a cycle addressed by its case id',
    method: 'POST',
    path: () => `${CYCLES}/${enc(f.pdca.caseId)}/plan`,
    as: 'manager',
    json: () => ({ actions: [{ title: 'Hire two agents', ownerId: 'owner' }] }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /path\.cycleKey a cycle key/,
    fields: ['path.cycleKey'],
    workflowId: () => f.pdca.caseId,
  },

  // ---- POST /api/improvement-cycles/{cycleKey}/actuals
  {
    name: 'KPI values before the check date',
    method: 'POST',
    path: cyclePath(() => f.pdca.cycleKey, 'actuals'),
    as: 'manager',
    json: () => ({ actuals: { complaint_resolution_hours: 20 } }),
    status: 409,
    code: 'CONFLICT',
    reason: 'WRONG_STAGE',
    message: /the pdca is awaiting_approval; this step is taken in check or effectiveness_watch/,
    workflowId: () => f.pdca.caseId,
    unchanged: cycleUnchanged,
  },

  // ---- POST /api/improvement-cycles/{cycleKey}/standardise
  {
    name: 'standardising before the check',
    method: 'POST',
    path: cyclePath(() => f.pdca.cycleKey, 'standardise'),
    as: 'manager',
    json: () => ({ adopted: 'Second-line queue is standard' }),
    status: 409,
    code: 'CONFLICT',
    reason: 'WRONG_STAGE',
    message: /the pdca is awaiting_approval; this step is taken in act$/,
    workflowId: () => f.pdca.caseId,
    unchanged: cycleUnchanged,
  },

  // ---- GET /api/reports/control-effectiveness and control-effectiveness.html
  ...[
    ['/api/reports/control-effectiveness?periodDays=0', 'auditor'],
    ['/api/reports/control-effectiveness?periodDays=3661', 'lead'],
    ['/api/reports/control-effectiveness?periodDays=7.5', 'owner'],
    ['/api/reports/control-effectiveness.html?periodDays=abc', 'auditor'],
    ['/api/reports/control-effectiveness.html?periodDays=-30', 'admin'],
  ].map(([path, as]): BadInput => ({
    name: `bad report period ${path}`,
    method: 'GET',
    path: () => path!,
    as: as as TestUser,
    status: 400,
    code: 'BAD_REQUEST',
    message: /invalid query: query\.periodDays/,
    fields: ['query.periodDays'],
  })),
];

const malformedKey = key();

const RISK_BODY = {
  title: 'Payment gateway outage',
  category: 'technical',
  description: 'd',
  cause: 'c',
  consequence: 'q',
  ownerId: 'owner',
  lineOfDefence: 'first',
  inherent: { probability: 4, impact: 5 },
  residual: { probability: 2, impact: 3 },
};
const riskPath =
  (rest = '') =>
  () =>
    `/api/risks/${f.riskKey}${rest}`;
const riskUnchanged = async () => {
  const [row] = await h.sql('select version, title from risks where key = $1', [f.riskKey]);
  expect(row).toEqual({ version: 1, title: 'Shared risk' });
};
const noRisk = (key: string) => async () =>
  expect(await h.sql('select 1 from risks where key = $1', [key])).toEqual([]);

const RISK_BAD_INPUT: BadInput[] = [
  // ---- POST /api/risks
  {
    name: 'a risk that gives its level: levels are computed, never given',
    method: 'POST',
    path: () => '/api/risks',
    as: 'lead',
    json: () => ({ ...RISK_BODY, riskKey: 'RISK-BAD-1', residual: { probability: 2, impact: 3, level: 'low' } }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.residual/,
    unchanged: noRisk('RISK-BAD-1'),
  },
  {
    name: 'a residual rating above the inherent one',
    method: 'POST',
    path: () => '/api/risks',
    as: 'lead',
    json: () => ({ ...RISK_BODY, riskKey: 'RISK-BAD-2', residual: { probability: 5, impact: 5 } }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /residual.*may not exceed the inherent/,
    fields: ['body.residual'],
    unchanged: noRisk('RISK-BAD-2'),
  },
  {
    name: 'a probability of 6 and an unknown category',
    method: 'POST',
    path: () => '/api/risks',
    as: 'lead',
    json: () => ({ ...RISK_BODY, riskKey: 'RISK-BAD-3', category: 'weather', inherent: { probability: 6, impact: 1 } }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.category/,
    fields: ['body.category', 'body.inherent.probability'],
    unchanged: noRisk('RISK-BAD-3'),
  },
  {
    name: 'a risk owned by the read-only auditor',
    method: 'POST',
    path: () => '/api/risks',
    as: 'lead',
    json: () => ({ ...RISK_BODY, riskKey: 'RISK-BAD-4', ownerId: 'auditor' }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /ownerId "auditor" is not an active user/,
    fields: ['body.ownerId'],
    unchanged: noRisk('RISK-BAD-4'),
  },
  // ---- PATCH /api/risks/{riskKey}
  {
    name: 'a risk change without its reason',
    method: 'PATCH',
    path: riskPath(),
    as: 'approver',
    json: () => ({ title: 'Renamed' }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.reason/,
    fields: ['body.reason'],
    unchanged: riskUnchanged,
  },
  {
    name: 'a risk change that sets aboveAppetite: it is computed',
    method: 'PATCH',
    path: riskPath(),
    as: 'approver',
    json: () => ({ aboveAppetite: false, reason: 'waived' }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /aboveAppetite/,
    unchanged: riskUnchanged,
  },
  {
    name: 'a risk change that changes nothing',
    method: 'PATCH',
    path: riskPath(),
    as: 'approver',
    json: () => ({ title: 'Shared risk', reason: 'same' }),
    status: 422,
    code: 'UNPROCESSABLE',
    reason: 'NO_CHANGE',
    message: /nothing changes/,
    unchanged: riskUnchanged,
  },
  {
    name: 'a change of an unknown risk',
    method: 'PATCH',
    path: () => '/api/risks/RISK-NOPE',
    as: 'approver',
    json: () => ({ title: 'x', reason: 'r' }),
    status: 404,
    code: 'NOT_FOUND',
    message: /no risk RISK-NOPE/,
  },
  // ---- GET /api/risks, GET /api/risks/{riskKey}, GET …/versions
  {
    name: 'a register read as of something that is not an instant, and an unknown level',
    method: 'GET',
    path: () => '/api/risks?asOf=yesterday&level=extreme',
    as: 'auditor',
    status: 400,
    code: 'BAD_REQUEST',
    message: /query\.asOf/,
    fields: ['query.asOf', 'query.level'],
  },
  {
    name: 'a risk read as of a time before it was raised',
    method: 'GET',
    path: () => `/api/risks/${f.riskKey}?asOf=2000-01-01T00:00:00Z`,
    as: 'auditor',
    status: 404,
    code: 'NOT_FOUND',
    message: /was not in the register at 2000-01-01/,
  },
  {
    name: 'the versions of a key that is not a register key',
    method: 'GET',
    path: () => '/api/risks/not-a-key/versions',
    as: 'auditor',
    status: 400,
    code: 'BAD_REQUEST',
    message: /path\.riskKey/,
    fields: ['path.riskKey'],
  },
  // ---- POST /api/risks/{riskKey}/controls
  {
    name: 'a control with an unknown frequency',
    method: 'POST',
    path: riskPath('/controls'),
    as: 'lead',
    json: () => ({ title: 'Check', ownerId: 'owner', frequency: 'hourly' }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.frequency/,
    fields: ['body.frequency'],
    unchanged: async () =>
      expect(await h.sql("select 1 from risk_controls where risk_key = $1 and title = 'Check'", [f.riskKey])).toEqual(
        [],
      ),
  },
  // ---- POST /api/risks/{riskKey}/controls/{controlId}/tests
  {
    name: 'a control test recording not_tested',
    method: 'POST',
    path: () => `/api/risks/${f.riskKey}/controls/${f.riskControlId}/tests`,
    as: 'risk2',
    json: () => ({ result: 'not_tested' }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.result/,
    fields: ['body.result'],
    unchanged: async () =>
      expect(await h.sql('select 1 from risk_control_tests where control_id = $1', [f.riskControlId])).toEqual([]),
  },
  {
    name: 'a control tested by its own owner',
    method: 'POST',
    path: () => `/api/risks/${f.riskKey}/controls/${f.riskControlId}/tests`,
    as: 'approver',
    json: () => ({ result: 'effective' }),
    status: 422,
    code: 'UNPROCESSABLE',
    reason: 'SEGREGATION_OF_DUTIES',
    message: /the owner of a control may not test it/,
    unchanged: async () =>
      expect(await h.sql('select 1 from risk_control_tests where control_id = $1', [f.riskControlId])).toEqual([]),
  },
  // ---- POST /api/risks/{riskKey}/links
  {
    name: 'a link to a case that does not exist',
    method: 'POST',
    path: riskPath('/links'),
    as: 'lead',
    json: () => ({ caseId: 'incident:NOPE' }),
    status: 404,
    code: 'NOT_FOUND',
    message: /no case incident:NOPE/,
    unchanged: async () => expect(await h.sql('select 1 from risk_links where risk_key = $1', [f.riskKey])).toEqual([]),
  },
  // ---- POST /api/risks/{riskKey}/acceptances
  {
    name: 'an acceptance expiring beyond riskRegister.acceptanceMaxDays',
    method: 'POST',
    path: riskPath('/acceptances'),
    as: 'owner',
    json: () => ({ reason: 'tolerable', expiresAt: new Date(Date.now() + 400 * 86_400_000).toISOString() }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /expiresAt: .*at most 365 days/,
    fields: ['body.expiresAt'],
    unchanged: () => expectNotStarted(`risk-acceptance:RISK-BAD-INPUT:1`),
  },
  {
    name: 'an acceptance expiring in the past, and one without its reason',
    method: 'POST',
    path: riskPath('/acceptances'),
    as: 'owner',
    json: () => ({ expiresAt: '2020-01-01T00:00:00Z' }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.reason/,
    fields: ['body.reason'],
    unchanged: () => expectNotStarted(`risk-acceptance:RISK-BAD-INPUT:1`),
  },
];

const BAD_INPUT: BadInput[] = [
  ...RISK_BAD_INPUT,
  {
    name: 'the assessment report of a period that is not one',
    method: 'GET',
    path: () => '/api/risk-assessments/next%20quarter/report',
    as: 'auditor',
    status: 400,
    code: 'BAD_REQUEST',
    message: /path\.period/,
    fields: ['path.period'],
  },
  {
    name: 'the printable assessment report of a period that is not one',
    method: 'GET',
    path: () => '/api/risk-assessments/next%20quarter/report.html',
    as: 'auditor',
    status: 400,
    code: 'BAD_REQUEST',
    message: /path\.period/,
    fields: ['path.period'],
  },
  // ---- POST /api/risk-reports and GET /api/risk-reports/{audience}/{period}
  {
    name: 'a risk report for an audience that does not exist',
    method: 'POST',
    path: () => '/api/risk-reports',
    as: 'approver',
    json: () => ({ audience: 'board', period: '2025-Q3' }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.audience/,
    fields: ['body.audience'],
  },
  {
    name: 'a risk report of a malformed period',
    method: 'POST',
    path: () => '/api/risk-reports',
    as: 'approver',
    json: () => ({ audience: 'management', period: '2025-13' }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.period a month \(2026-10\), a quarter \(2026-Q3\) or a year \(2026\)/,
    fields: ['body.period'],
  },
  {
    name: 'a risk report with its content given by the caller',
    method: 'POST',
    path: () => '/api/risk-reports',
    as: 'approver',
    json: () => ({ audience: 'management', period: '2025-Q3', content: {} }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.content is not a known field/,
    fields: ['body.content'],
  },
  {
    name: 'a risk report of a period that has not begun',
    method: 'POST',
    path: () => '/api/risk-reports',
    as: 'approver',
    json: () => ({ audience: 'regulator', period: '2099' }),
    status: 422,
    code: 'UNPROCESSABLE',
    reason: 'PERIOD_NOT_STARTED',
    message: /the period 2099 has not begun/,
    unchanged: async () => expectNotStarted('risk-report:regulator:2099'),
  },
  ...[
    ['/api/risk-reports/management/2025-Q5', 'auditor', 'path.period'],
    ['/api/risk-reports/management/2025.pdf', 'lead', 'path.period'],
    ['/api/risk-reports/board/2025', 'admin', 'path.audience'],
  ].map(([path, as, field]): BadInput => ({
    name: `bad risk report path ${path}`,
    method: 'GET',
    path: () => path!,
    as: as as TestUser,
    status: 400,
    code: 'BAD_REQUEST',
    message: new RegExp(`invalid path: ${field!.replace('.', '\\.')}`),
    fields: [field!],
  })),
  ...[
    ['/api/reports/control-effectiveness.csv?periodDays=0', 'owner'],
    ['/api/reports/control-effectiveness.csv?periodDays=abc', 'auditor'],
  ].map(([path, as]): BadInput => ({
    name: `bad report period ${path}`,
    method: 'GET',
    path: () => path!,
    as: as as TestUser,
    status: 400,
    code: 'BAD_REQUEST',
    message: /invalid query: query\.periodDays/,
    fields: ['query.periodDays'],
  })),

  // ---- POST /api/risk-assessments
  {
    name: 'a month where the policy’s period is a quarter (riskRegister.assessmentPeriodMonths 3)',
    method: 'POST',
    path: () => '/api/risk-assessments',
    as: 'lead',
    json: () => ({ period: '2026-M01' }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /period.*3 month/,
    fields: ['body.period'],
    unchanged: async () => expect(await h.sql("select 1 from cases where id = 'risk-assessment:2026-M01'")).toEqual([]),
  },
  {
    name: 'a quarter that has not begun',
    method: 'POST',
    path: () => '/api/risk-assessments',
    as: 'lead',
    json: () => ({ period: '2099-Q1' }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /period: the period has not started yet/,
    fields: ['body.period'],
    unchanged: async () => expect(await h.sql("select 1 from cases where id = 'risk-assessment:2099-Q1'")).toEqual([]),
  },
  {
    name: 'a fifth quarter and an unknown field',
    method: 'POST',
    path: () => '/api/risk-assessments',
    as: 'lead',
    json: () => ({ period: '2026-Q5', scope: 'all' }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.period/,
    fields: ['body.period'],
  },
  // ---- POST /api/risk-assessments/{period}/ratings
  {
    name: 'a rating with an evaluation that is neither accept nor treat, and an impact of 6',
    method: 'POST',
    path: () => `/api/risk-assessments/${f.riskAssessment.period}/ratings`,
    as: 'owner',
    json: () => ({
      ratings: [
        {
          riskKey: f.riskAssessment.scope[0]!.riskKey,
          causes: 'c',
          analysis: 'a',
          residual: { probability: 1, impact: 6 },
          evaluation: 'ignore',
        },
      ],
    }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.ratings/,
    workflowId: () => f.riskAssessment.caseId,
  },
  {
    name: 'ratings that leave one of the owner’s risks unrated',
    method: 'POST',
    path: () => `/api/risk-assessments/${f.riskAssessment.period}/ratings`,
    as: 'owner',
    json: () => ({ ratings: [] }),
    status: 422,
    code: 'UNPROCESSABLE',
    reason: 'INVALID_RATINGS',
    message: /not rated: RISK-/,
    workflowId: () => f.riskAssessment.caseId,
  },

  // ---- risk warnings (issue 12 §3)
  {
    name: 'a key risk indicator whose thresholds are out of order for its direction',
    method: 'POST',
    path: () => '/api/kris',
    as: 'lead',
    json: () => ({
      kriKey: 'KRI-BAD-ORDER',
      name: 'x',
      direction: 'above',
      thresholds: { general: 10, elevated: 5, major: 30 },
      ownerId: 'mgr',
    }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /thresholds\.elevated/,
    fields: ['body.thresholds.elevated'],
    unchanged: async () =>
      expect(await h.sql("select 1 from key_risk_indicators where key = 'KRI-BAD-ORDER'")).toEqual([]),
  },
  {
    name: 'a page of key risk indicators too large',
    method: 'GET',
    path: () => '/api/kris?pageSize=1000',
    as: 'auditor',
    status: 400,
    code: 'BAD_REQUEST',
    message: /query\.pageSize/,
    fields: ['query.pageSize'],
  },
  {
    name: 'a key risk indicator key that cannot be one',
    method: 'GET',
    path: () => '/api/kris/%20bad%20key',
    as: 'auditor',
    status: 400,
    code: 'BAD_REQUEST',
    message: /path\.kriKey/,
    fields: ['path.kriKey'],
  },
  {
    name: 'an observation whose value is not a number',
    method: 'POST',
    path: () => '/api/kris/KRI-ANY/observations',
    as: 'approver',
    json: () => ({ alertKey: 'BAD-VALUE-1', value: 'high', observedAt: '2026-01-15T09:00:00+08:00' }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.value/,
    fields: ['body.value'],
    unchanged: async () =>
      expect(await h.sql("select 1 from kri_observations where alert_key = 'BAD-VALUE-1'")).toEqual([]),
  },
  {
    name: 'an observation made in the future',
    method: 'POST',
    path: () => '/api/kris/KRI-ANY/observations',
    as: 'approver',
    json: () => ({ alertKey: 'BAD-FUTURE-1', value: 50, observedAt: '2999-01-01T00:00:00Z' }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.observedAt/,
    fields: ['body.observedAt'],
  },

  // ---- POST /api/audits
  {
    name: 'an audit of a type the programme does not know',
    method: 'POST',
    path: () => '/api/audits',
    as: 'internalAudit',
    json: () => ({ auditKey: 'BAD-AUD-1', type: 'financial', title: 'x', scope: 'y', auditeeOwnerId: 'owner' }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.type/,
    fields: ['body.type'],
    unchanged: () => expectNotStarted('audit:BAD-AUD-1'),
  },
  {
    name: 'an audit of a user who has left',
    method: 'POST',
    path: () => '/api/audits',
    as: 'internalAudit',
    json: () => ({ auditKey: 'BAD-AUD-2', type: 'security', title: 'x', scope: 'y', auditeeOwnerId: 'gone' }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /auditeeOwnerId "gone" is not an active user/,
    fields: ['body.auditeeOwnerId'],
  },
  // ---- POST /api/audits/{auditKey}/fieldwork
  {
    name: 'fieldwork that leaves checklist items unanswered',
    method: 'POST',
    path: auditPath(() => f.auditFieldwork, 'fieldwork'),
    as: 'internalAudit',
    json: () => ({ results: [{ itemId: 'access_logs', result: 'not_applicable' }] }),
    status: 422,
    code: 'UNPROCESSABLE',
    reason: 'CHECKLIST_INCOMPLETE',
    message: /no result for operation_records, incident_response/,
    workflowId: () => f.auditFieldwork.caseId,
  },
  {
    name: 'fieldwork citing evidence not uploaded to the audit',
    method: 'POST',
    path: auditPath(() => f.auditFieldwork, 'fieldwork'),
    as: 'internalAudit',
    json: () => ({
      results: ['access_logs', 'operation_records', 'incident_response'].map((itemId) => ({
        itemId,
        result: 'pass',
        evidenceIds: [f.q.evidenceId],
      })),
    }),
    status: 422,
    code: 'UNPROCESSABLE',
    reason: 'EVIDENCE_NOT_ON_CASE',
    message: /evidence not uploaded to audit:/,
    workflowId: () => f.auditFieldwork.caseId,
  },
  {
    name: 'a checklist result that is not pass, fail or not_applicable',
    method: 'POST',
    path: auditPath(() => f.auditFieldwork, 'fieldwork'),
    as: 'internalAudit',
    json: () => ({ results: [{ itemId: 'access_logs', result: 'maybe' }] }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.results\.0\.result/,
    fields: ['body.results.0.result'],
    workflowId: () => f.auditFieldwork.caseId,
  },
  // ---- POST /api/audits/{auditKey}/findings
  {
    name: 'findings before the fieldwork is recorded',
    method: 'POST',
    path: auditPath(() => f.auditFieldwork, 'findings'),
    as: 'internalAudit',
    json: () => ({ findings: [] }),
    status: 409,
    code: 'CONFLICT',
    reason: 'WRONG_STAGE',
    message: /the audit is fieldwork/,
    workflowId: () => f.auditFieldwork.caseId,
  },
  {
    name: 'a finding of a severity off the scale',
    method: 'POST',
    path: auditPath(() => f.auditFieldwork, 'findings'),
    as: 'internalAudit',
    json: () => ({
      findings: [
        { findingKey: 'F1', title: 'x', severity: 'severe', criterion: 'c', rootCause: 'r', ownerId: 'owner' },
      ],
    }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.findings\.0\.severity/,
    fields: ['body.findings.0.severity'],
    workflowId: () => f.auditFieldwork.caseId,
  },
  // ---- POST /api/audits/{auditKey}/responses
  {
    name: 'accepting a finding without an action plan',
    method: 'POST',
    path: auditPath(() => f.auditResponses, 'responses'),
    as: 'owner',
    json: () => ({ findingKey: 'F1', response: 'accept' }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.actionPlan/,
    fields: ['body.actionPlan'],
    workflowId: () => f.auditResponses.caseId,
  },
  {
    name: 'an action plan due in the past',
    method: 'POST',
    path: auditPath(() => f.auditResponses, 'responses'),
    as: 'owner',
    json: () => ({ findingKey: 'F1', response: 'accept', actionPlan: 'Fix', dueAt: '2020-01-01T00:00:00Z' }),
    status: 422,
    code: 'UNPROCESSABLE',
    reason: 'DUE_DATE_PAST',
    message: /dueAt must be in the future/,
    workflowId: () => f.auditResponses.caseId,
  },
  // ---- GET /api/audits/{auditKey}/report(.html)
  {
    name: 'the report of an audit key that is not one',
    method: 'GET',
    path: () => '/api/audits/not%20a%20key/report',
    as: 'auditor',
    status: 400,
    code: 'BAD_REQUEST',
    message: /path\.auditKey/,
    fields: ['path.auditKey'],
  },
  {
    name: 'the printable report of an audit key that is not one',
    method: 'GET',
    path: () => '/api/audits/not%20a%20key/report.html',
    as: 'auditor',
    status: 400,
    code: 'BAD_REQUEST',
    message: /path\.auditKey/,
    fields: ['path.auditKey'],
  },
  // ---- GET /api/audit/cases/{caseId}/verify
  {
    name: 'the audit-trail verification of a case id over 255 characters',
    method: 'GET',
    path: () => `/api/audit/cases/${'x'.repeat(256)}/verify`,
    as: 'auditor',
    status: 400,
    code: 'BAD_REQUEST',
    message: /path\.caseId/,
    fields: ['path.caseId'],
  },
  {
    name: 'the audit-trail verification of a case with no audit event',
    method: 'GET',
    path: () => '/api/audit/cases/NO-SUCH-CASE/verify',
    as: 'auditor',
    status: 404,
    code: 'NOT_FOUND',
    message: /no audit event for case NO-SUCH-CASE/,
  },
  // ---- POST /api/audit-plans
  {
    name: 'an annual audit plan without the data-security compliance check',
    method: 'POST',
    path: () => '/api/audit-plans',
    as: 'internalAudit',
    json: () => ({
      year: 2090,
      audits: [{ auditKey: 'BAD-PLAN-IA', type: 'internal', title: 'Internal audit', plannedFor: '2090-03' }],
    }),
    status: 422,
    code: 'UNPROCESSABLE',
    reason: 'DATA_SECURITY_CHECK_REQUIRED',
    message: /e-commerce manual §2\.1/,
    unchanged: async () => expect(await h.sql('select 1 from audit_plan_entries where year = 2090')).toEqual([]),
  },
  {
    name: 'an audit planned for a month outside the plan’s year',
    method: 'POST',
    path: () => '/api/audit-plans',
    as: 'internalAudit',
    json: () => ({
      year: 2090,
      audits: [{ auditKey: 'BAD-PLAN-DS', type: 'data_security', title: 'Check', plannedFor: '2091-01' }],
    }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /planned outside 2090/,
    fields: ['body.audits.plannedFor'],
  },
  // ---- POST /api/audit-plans/{year}/audits
  {
    name: 'audits added to a year with no audit plan',
    method: 'POST',
    path: () => '/api/audit-plans/2091/audits',
    as: 'internalAudit',
    json: () => ({
      audits: [{ auditKey: 'BAD-ADD-CA', type: 'compliance', title: 'Compliance audit', plannedFor: '2091-09' }],
    }),
    status: 404,
    code: 'NOT_FOUND',
    message: /no audit plan for 2091: set it with POST \/api\/audit-plans/,
    unchanged: async () => expect(await h.sql('select 1 from audit_plan_entries where year = 2091')).toEqual([]),
  },
  {
    name: 'an audit added to a year’s plan for a month outside that year',
    method: 'POST',
    path: () => '/api/audit-plans/2091/audits',
    as: 'internalAudit',
    json: () => ({
      audits: [{ auditKey: 'BAD-ADD-LATE', type: 'internal', title: 'Late', plannedFor: '2092-01' }],
    }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /planned outside 2091/,
    fields: ['body.audits.plannedFor'],
  },
  // ---- GET /api/audit-plans/{year}
  {
    name: 'the audit plan of a year that is not a year',
    method: 'GET',
    path: () => '/api/audit-plans/twenty',
    as: 'internalAudit',
    status: 400,
    code: 'BAD_REQUEST',
    message: /path\.year/,
    fields: ['path.year'],
  },

  // ---- users and tokens (admin)
  {
    name: 'a user change with no field',
    method: 'PATCH',
    path: () => '/api/users/owner',
    as: 'admin',
    json: () => ({}),
    status: 400,
    code: 'BAD_REQUEST',
    message: /give at least one of name, roles, managerId/,
  },
  {
    name: 'a user change with a bad manager id and an unknown field',
    method: 'PATCH',
    path: () => '/api/users/owner',
    as: 'admin',
    json: () => ({ managerId: 'A B', email: 'x@y.z' }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.managerId/,
    fields: ['body.managerId', 'body.email'],
  },
  {
    name: 'deactivating an unknown user',
    method: 'POST',
    path: () => '/api/users/ghost/deactivate',
    as: 'admin',
    status: 404,
    code: 'NOT_FOUND',
    message: /no user ghost/,
  },
  {
    name: 'reactivating with an unknown field',
    method: 'POST',
    path: () => '/api/users/owner/reactivate',
    as: 'admin',
    json: () => ({ why: 'x' }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.why/,
    fields: ['body.why'],
  },
  {
    name: 'the tokens of an unknown user',
    method: 'GET',
    path: () => '/api/users/ghost/tokens',
    as: 'admin',
    status: 404,
    code: 'NOT_FOUND',
    message: /no user ghost/,
  },
  {
    name: 'revoking a malformed token id',
    method: 'POST',
    path: () => '/api/tokens/nope/revoke',
    as: 'admin',
    status: 400,
    code: 'BAD_REQUEST',
    message: /path\.tokenId/,
    fields: ['path.tokenId'],
  },
  {
    name: 'a token valid for more than a year',
    method: 'POST',
    path: () => '/api/users/owner/tokens',
    as: 'admin',
    json: () => ({ label: 'x', expiresInDays: 366 }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.expiresInDays/,
    fields: ['body.expiresInDays'],
  },
  // ---- the policy and internal audit findings
  {
    name: 'a policy change of a parameter that does not exist',
    method: 'POST',
    path: () => '/api/policy/changes',
    as: 'approver2',
    json: () => ({ summary: 'typo', change: { complaint: { resultWithn: '36h' } } }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /change\.complaint\.resultWithn is not a policy parameter/,
  },
  {
    name: 'a policy change without its summary',
    method: 'POST',
    path: () => '/api/policy/changes',
    as: 'approver2',
    json: () => ({ change: { complaint: { resultWithin: '36h' } } }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.summary/,
    fields: ['body.summary'],
  },
  {
    name: 'a policy version that is no number',
    method: 'GET',
    path: () => '/api/policy/versions/latest',
    as: 'auditor',
    status: 400,
    code: 'BAD_REQUEST',
    message: /path\.version/,
    fields: ['path.version'],
  },
  {
    name: 'a finding of an area audits do not cover',
    method: 'POST',
    path: () => '/api/audit-findings',
    as: 'internalAudit',
    json: () => ({
      title: 'x',
      description: 'y',
      severity: 'medium',
      area: 'weather',
      remedy: 'rectification',
      ownerId: 'owner',
    }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.area/,
    fields: ['body.area'],
  },
  {
    name: 'a finding owned by a user who has left',
    method: 'POST',
    path: () => '/api/audit-findings',
    as: 'internalAudit',
    json: () => ({
      title: 'x',
      description: 'y',
      severity: 'medium',
      area: 'privacy',
      remedy: 'rectification',
      ownerId: 'gone',
    }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /ownerId "gone" is not an active user/,
    fields: ['body.ownerId'],
  },
  // ---- malformed or unwelcome bodies
  {
    name: 'malformed JSON',
    method: 'POST',
    path: () => START,
    raw: {
      body: `{"requestKey":"${malformedKey}","title":"Half a body","riskLevel":"low",`,
      contentType: 'application/json',
    },
    status: 400,
    code: 'BAD_REQUEST',
    message: /malformed JSON/i,
    requestKey: malformedKey,
  },
  {
    name: 'JSON sent as text/plain',
    method: 'POST',
    path: () => START,
    raw: { body: JSON.stringify({ title: 'Wrong type', probability: 1, impact: 2 }), contentType: 'text/plain' },
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: /unsupported content-type "text\/plain": send application\/json/,
  },
  {
    name: 'a JSON array instead of an object',
    method: 'POST',
    path: () => START,
    raw: { body: '[]', contentType: 'application/json' },
    status: 400,
    code: 'BAD_REQUEST',
    message: /expected object/,
    fields: ['body'],
  },
  badStart(
    'an unknown field',
    { probability: 1, impact: 2, foo: 1 },
    { message: /body\.foo is not a known field/, fields: ['body.foo'] },
  ),
  badStart(
    'an unknown field inside approvalTimings',
    { probability: 1, impact: 2, approvalTimings: { remindAfter: '1h', nag: '1h' } },
    {
      message: /body\.approvalTimings\.nag is not a known field/,
      fields: ['body.approvalTimings.nag'],
    },
  ),
  badStart(
    'missing title',
    { title: undefined, probability: 1, impact: 2 },
    { message: /body\.title/, fields: ['body.title'] },
  ),
  badStart(
    'a blank title',
    { title: '   ', probability: 1, impact: 2 },
    { message: /body\.title/, fields: ['body.title'] },
  ),
  badStart(
    'a title over 200 characters',
    { title: 'x'.repeat(201), probability: 1, impact: 2 },
    { message: /body\.title .*200/, fields: ['body.title'] },
  ),
  badStart(
    'a declared riskLevel beside the matrix (the level is scored, never declared)',
    { probability: 1, impact: 2, riskLevel: 'low' },
    {
      message: /riskLevel is not given but scored/,
      fields: ['body.riskLevel'],
    },
  ),
  badStart(
    'a declared riskLevel instead of the matrix',
    { riskLevel: 'high' },
    { message: /body\.riskLevel/, fields: ['body.riskLevel'] },
  ),
  badStart('probability without impact', { probability: 2 }, { message: /body\.impact/, fields: ['body.impact'] }),
  badStart(
    'probability above 5',
    { probability: 6, impact: 2 },
    { message: /body\.probability .*5/, fields: ['body.probability'] },
  ),
  badStart(
    'probability below 1',
    { probability: 0, impact: 2 },
    { message: /body\.probability .*1/, fields: ['body.probability'] },
  ),
  badStart(
    'a fractional impact',
    { probability: 2, impact: 2.5 },
    { message: /body\.impact .*int/, fields: ['body.impact'] },
  ),
  badStart(
    'a duration written in words',
    { probability: 1, impact: 2, approvalTimings: { remindAfter: '5 minutes' } },
    {
      message: /body\.approvalTimings\.remindAfter a duration like 30s/,
      fields: ['body.approvalTimings.remindAfter'],
    },
  ),
  badStart(
    'a bad rectification duration',
    { probability: 1, impact: 2, rectificationTimings: { dueIn: 'soon' } },
    {
      message: /body\.rectificationTimings\.dueIn/,
      fields: ['body.rectificationTimings.dueIn'],
    },
  ),
  badStart(
    'timings out of order',
    { probability: 1, impact: 2, approvalTimings: { remindAfter: '2h', escalateAfter: '1h', expireAfter: '3h' } },
    {
      message: /approvalTimings .*remindAfter ≤ escalateAfter ≤ expireAfter/,
    },
  ),
  badStart(
    'a reminder after the default escalation',
    { probability: 1, impact: 2, approvalTimings: { remindAfter: '30d' } },
    {
      message: /approvalTimings .*remindAfter ≤ escalateAfter/,
    },
  ),
  badStart(
    'an ownerId that is no user',
    { probability: 1, impact: 2, ownerId: 'ghost' },
    { message: /ownerId "ghost" is not an active user/ },
  ),
  badStart(
    'an ownerId of a deactivated user',
    { probability: 1, impact: 2, ownerId: 'gone' },
    { message: /ownerId "gone" is not an active user/ },
  ),
  {
    ...badStart(
      'a requestKey with spaces',
      { probability: 1, impact: 2 },
      { message: /body\.requestKey letters, digits/, fields: ['body.requestKey'] },
    ),
    json: () => ({ requestKey: 'has spaces', title: 'Bad key', probability: 1, impact: 2 }),
    requestKey: 'has spaces',
  },
  {
    ...badStart(
      'a requestKey of 101 characters',
      { probability: 1, impact: 2 },
      { message: /body\.requestKey/, fields: ['body.requestKey'] },
    ),
    json: () => ({ requestKey: `K${'x'.repeat(100)}`, title: 'Long key', probability: 1, impact: 2 }),
    requestKey: `K${'x'.repeat(100)}`,
  },
  {
    name: 'a requestKey that already names a case',
    method: 'POST',
    path: () => START,
    json: () => ({
      requestKey: f.q.caseId.replace(/^approval-request:/, ''),
      title: 'Second start',
      probability: 4,
      impact: 4,
    }),
    status: 409,
    code: 'CONFLICT',
    message: /already exists/,
    workflowId: () => f.q.caseId,
    unchanged: async () => {
      const [row] = await h.sql('select title, risk_level from cases where id = $1', [f.q.caseId]);
      expect(row).toEqual({ title: 'Open approval', risk_level: 'low' });
    },
  },

  // ---- PUT /api/me/notification-preferences
  {
    name: 'notification preferences with an unknown chat, language and time zone',
    method: 'PUT',
    path: () => '/api/me/notification-preferences',
    as: 'owner',
    json: () => ({ email: true, chat: 'slack', language: 'fr', timeZone: 'Mars/Olympus', digest: false }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.chat/,
    fields: ['body.chat', 'body.language', 'body.timeZone'],
  },
  {
    name: 'notification preferences missing a field and with an unknown one',
    method: 'PUT',
    path: () => '/api/me/notification-preferences',
    as: 'owner',
    json: () => ({ email: true, chat: null, language: 'en', timeZone: 'UTC', sms: true }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.digest/,
    fields: ['body.digest', 'body.sms'],
  },

  // ---- queries
  ...[
    ['/api/cases?pageSize=1000', 'lead', 'query.pageSize'],
    ['/api/cases?page=0', 'lead', 'query.page'],
    ['/api/cases?page=abc', 'lead', 'query.page'],
    ['/api/cases?pageSize=2.5', 'lead', 'query.pageSize'],
    ['/api/cases?riskLevel=extreme', 'lead', 'query.riskLevel'],
    ['/api/cases?overdue=yes', 'lead', 'query.overdue'],
    ['/api/cases?status=pending', 'lead', 'query.status'],
    ['/api/notifications?pageSize=0', 'owner', 'query.pageSize'],
    ['/api/notification-deliveries?status=lost', 'auditor', 'query.status'],
    ['/api/notification-deliveries?channel=sms', 'admin', 'query.channel'],
    ['/api/notification-deliveries?pageSize=0', 'auditor', 'query.pageSize'],
    ['/api/users?page=-1', 'admin', 'query.page'],
    ['/api/audit/events?pageSize=101', 'auditor', 'query.pageSize'],
    ['/api/suppliers?status=approved', 'auditor', 'query.status'],
    ['/api/suppliers?tier=gold', 'lead', 'query.tier'],
    ['/api/suppliers?q=%20%20', 'lead', 'query.q'],
    ['/api/suppliers?pageSize=0', 'owner', 'query.pageSize'],
    ['/api/suppliers?cursor=not*a*cursor', 'auditor', 'query.cursor'],
    ['/api/suppliers?limit=201', 'auditor', 'query.limit'],
    ['/api/suppliers?limit=2&page=2', 'auditor', 'query.page'],
    ['/api/complaints?limit=0', 'auditor', 'query.limit'],
    ['/api/complaints?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'auditor', 'query.to'],
    ['/api/incidents?grade=V', 'auditor', 'query.grade'],
    ['/api/incidents?cursor=e30', 'auditor', 'query.cursor'],
    ['/api/drills?process=audit', 'auditor', 'query.process'],
    ['/api/drills?year=1999', 'auditor', 'query.year'],
    ['/api/emergency-plans?limit=abc', 'auditor', 'query.limit'],
    ['/api/emergency-plans?status=burnt', 'auditor', 'query.status'],
    ['/api/improvement-cycles?source=rumour', 'auditor', 'query.source'],
    ['/api/improvement-cycles?overdue=yes', 'auditor', 'query.overdue'],
    ['/api/tasks/overdue?kind=meeting', 'auditor', 'query.kind'],
    ['/api/tasks/overdue?from=yesterday', 'auditor', 'query.from'],
    ['/api/tasks/inbox?cursor=not*a*cursor', 'approver', 'query.cursor'],
    ['/api/tasks/inbox?limit=0', 'approver', 'query.limit'],
    ['/api/tasks/inbox?section=toApprove', 'approver', 'query.section'],
    ['/api/dashboards/overview?tz=Mars%2FOlympus', 'lead', 'query.tz'],
    ['/api/dashboards/overview?tz=%2B08%3A00', 'lead', 'query.tz'],
  ].map(([path, as, field]): BadInput => ({
    name: `bad query ${path}`,
    method: 'GET',
    path: () => path!,
    as: as as TestUser,
    status: 400,
    code: 'BAD_REQUEST',
    message: new RegExp(`invalid query: .*${field!.replace('.', '\\.')}`),
    fields: [field!],
  })),

  // ---- paths
  {
    name: 'a bad UUID for /api/evidence/{evidenceId}',
    method: 'GET',
    path: () => '/api/evidence/not-a-uuid',
    status: 400,
    code: 'BAD_REQUEST',
    message: /path\.evidenceId Invalid UUID/,
    fields: ['path.evidenceId'],
  },
  {
    name: 'a bad UUID for /api/evidence/{evidenceId}/content',
    method: 'GET',
    path: () => '/api/evidence/123/content',
    status: 400,
    code: 'BAD_REQUEST',
    message: /path\.evidenceId Invalid UUID/,
    fields: ['path.evidenceId'],
  },
  {
    name: 'a task id over 300 characters',
    method: 'GET',
    path: () => `/api/tasks/${'t'.repeat(301)}`,
    status: 400,
    code: 'BAD_REQUEST',
    message: /path\.taskId/,
    fields: ['path.taskId'],
  },

  // ---- not found
  {
    name: 'unknown case id',
    method: 'GET',
    path: () => '/api/cases/approval-request:nope',
    status: 404,
    code: 'NOT_FOUND',
    message: /no case approval-request:nope/,
  },
  {
    name: 'unknown task',
    method: 'GET',
    path: () => '/api/tasks/nope:approval',
    status: 404,
    code: 'NOT_FOUND',
    message: /no task nope:approval/,
  },
  {
    name: 'a decision on an unknown task',
    method: 'POST',
    path: taskPath(() => 'approval-request:nope:approval', 'decision'),
    as: 'approver',
    json: () => ({ decision: 'approve' }),
    status: 404,
    code: 'NOT_FOUND',
    message: /no task approval-request:nope:approval/,
  },
  {
    name: 'a submission on an unknown task',
    method: 'POST',
    path: taskPath(() => 'nope:rectification:1', 'submission'),
    as: 'owner',
    json: () => ({ evidenceIds: [f.q.evidenceId] }),
    status: 404,
    code: 'NOT_FOUND',
    message: /no task nope:rectification:1/,
  },
  {
    name: 'a verification of an unknown task',
    method: 'POST',
    path: taskPath(() => 'nope:rectification:1', 'verification'),
    as: 'manager',
    json: () => ({ verdict: 'accept' }),
    status: 404,
    code: 'NOT_FOUND',
    message: /no task nope:rectification:1/,
  },
  {
    name: 'unknown evidence id',
    method: 'GET',
    path: () => '/api/evidence/00000000-0000-4000-8000-000000000000',
    status: 404,
    code: 'NOT_FOUND',
    message: /no evidence 00000000-0000-4000-8000-000000000000/,
  },
  {
    name: 'unknown evidence content',
    method: 'GET',
    path: () => '/api/evidence/00000000-0000-4000-8000-000000000000/content',
    status: 404,
    code: 'NOT_FOUND',
    message: /no evidence/,
  },
  {
    name: 'a token for an unknown user',
    method: 'POST',
    path: () => '/api/users/ghost/tokens',
    as: 'admin',
    json: () => ({ label: 'x' }),
    status: 404,
    code: 'NOT_FOUND',
    message: /no active user ghost/,
  },
  {
    name: 'unknown route',
    method: 'GET',
    path: () => '/api/nope',
    status: 404,
    code: 'NOT_FOUND',
    message: /no route GET \/api\/nope/,
  },
  {
    name: 'unknown method on a known path',
    method: 'DELETE',
    path: () => `/api/cases/${enc(f.q.caseId)}`,
    status: 404,
    code: 'NOT_FOUND',
    message: /no route DELETE/,
    workflowId: () => f.q.caseId,
  },
  {
    name: 'unknown route outside /api, no token',
    method: 'GET',
    path: () => '/nope',
    as: null,
    status: 404,
    code: 'NOT_FOUND',
    message: /no route GET \/nope/,
  },

  // ---- the wrong kind of task, or not awaiting this
  {
    name: 'a decision on a rectification task',
    method: 'POST',
    path: taskPath(() => f.p.taskId, 'decision'),
    as: 'approver',
    json: () => ({ decision: 'approve' }),
    status: 409,
    code: 'CONFLICT',
    message: /is a rectification task; this endpoint is for approval tasks/,
    workflowId: () => f.p.taskId,
    unchanged: taskUnchanged(() => f.p.taskId, { status: 'open', votes: [] }),
  },
  {
    name: 'a submission on an approval task',
    method: 'POST',
    path: taskPath(() => f.q.approvalTaskId, 'submission'),
    as: 'owner',
    json: () => ({ evidenceIds: [f.q.evidenceId] }),
    status: 409,
    code: 'CONFLICT',
    message: /is an? approval task; this endpoint is for rectification tasks/,
    workflowId: () => f.q.caseId,
    unchanged: taskUnchanged(() => f.q.approvalTaskId, { status: 'open', evidence_ids: [] }),
  },
  {
    name: 'a second decision on an approval already decided',
    method: 'POST',
    path: taskPath(() => f.p.approvalTaskId, 'decision'),
    as: 'approver2',
    json: () => ({ decision: 'reject', comment: 'too late' }),
    status: 409,
    code: 'CONFLICT',
    message: /not awaiting a decision/,
    workflowId: () => f.p.caseId,
    unchanged: taskUnchanged(() => f.p.approvalTaskId, { status: 'done' }),
  },
  {
    name: 'a decision on a closed case',
    method: 'POST',
    path: taskPath(() => f.closed.approvalTaskId, 'decision'),
    as: 'approver2',
    json: () => ({ decision: 'reject', comment: 'too late' }),
    status: 409,
    code: 'CONFLICT',
    message: /closed|finished/,
    workflowId: () => f.closed.caseId,
  },
  {
    name: 'a verification of an item not yet submitted',
    method: 'POST',
    path: taskPath(() => f.p.taskId, 'verification'),
    as: 'manager',
    json: () => ({ verdict: 'accept' }),
    status: 409,
    code: 'CONFLICT',
    message: /not awaiting verification/,
    workflowId: () => f.p.taskId,
    unchanged: taskUnchanged(() => f.p.taskId, { status: 'open' }),
  },

  // ---- decision, submission, verification bodies
  {
    // Each task offers its own decisions: the workflow's validator refuses
    // one it does not offer, before history records anything.
    name: 'a decision this task does not offer',
    method: 'POST',
    path: taskPath(() => f.q.approvalTaskId, 'decision'),
    as: 'approver',
    json: () => ({ decision: 'blacklist' }),
    status: 422,
    code: 'UNPROCESSABLE',
    message: /decision must be one of approve, approve_with_conditions, reject/,
    workflowId: () => f.q.caseId,
  },
  {
    name: 'a malformed decision',
    method: 'POST',
    path: taskPath(() => f.q.approvalTaskId, 'decision'),
    as: 'approver',
    json: () => ({ decision: 'Approve!' }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.decision .*approve/,
    fields: ['body.decision'],
    workflowId: () => f.q.caseId,
  },
  {
    name: 'a malformed decision body',
    method: 'POST',
    path: taskPath(() => f.q.approvalTaskId, 'decision'),
    as: 'approver',
    raw: { body: '{"decision": approve}', contentType: 'application/json' },
    status: 400,
    code: 'BAD_REQUEST',
    message: /malformed JSON/i,
    workflowId: () => f.q.caseId,
  },
  {
    name: 'a blank condition',
    method: 'POST',
    path: taskPath(() => f.q.approvalTaskId, 'decision'),
    as: 'approver',
    json: () => ({ decision: 'approve_with_conditions', conditions: ['  '] }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.conditions\.0/,
    fields: ['body.conditions.0'],
    workflowId: () => f.q.caseId,
  },
  {
    name: 'a submission with evidence uploaded to another case',
    method: 'POST',
    path: taskPath(() => f.p.taskId, 'submission'),
    as: 'owner',
    json: () => ({ evidenceIds: [f.q.evidenceId] }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /evidenceIds not uploaded to case/,
    workflowId: () => f.p.taskId,
    unchanged: taskUnchanged(() => f.p.taskId, { status: 'open', evidence_ids: [] }),
  },
  {
    name: 'a submission with evidence never uploaded',
    method: 'POST',
    path: taskPath(() => f.p.taskId, 'submission'),
    as: 'owner',
    json: () => ({ evidenceIds: ['00000000-0000-4000-8000-000000000000'] }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /evidenceIds not uploaded to case .*00000000-0000-4000-8000-000000000000/,
    workflowId: () => f.p.taskId,
    unchanged: taskUnchanged(() => f.p.taskId, { status: 'open', evidence_ids: [] }),
  },
  {
    name: 'a submission without evidence',
    method: 'POST',
    path: taskPath(() => f.p.taskId, 'submission'),
    as: 'owner',
    json: () => ({ evidenceIds: [] }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.evidenceIds attach at least one/,
    fields: ['body.evidenceIds'],
    workflowId: () => f.p.taskId,
  },
  {
    name: 'an unknown verdict',
    method: 'POST',
    path: taskPath(() => f.p.taskId, 'verification'),
    as: 'manager',
    json: () => ({ verdict: 'fine' }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.verdict/,
    fields: ['body.verdict'],
    workflowId: () => f.p.taskId,
  },
  {
    name: 'an invalid new user',
    method: 'POST',
    path: () => '/api/users',
    as: 'admin',
    json: () => ({ id: 'A B', name: '', email: 'not-an-email', roles: ['god'] }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.email/,
    fields: ['body.id', 'body.name', 'body.email', 'body.roles.0'],
  },
  {
    name: 'a new user whose id is taken',
    method: 'POST',
    path: () => '/api/users',
    as: 'admin',
    json: () => ({ id: 'owner', name: 'Impostor', email: 'impostor@test.example', roles: ['admin'] }),
    status: 409,
    code: 'CONFLICT',
    message: /already exists/,
    unchanged: async () =>
      expect((await h.sql(`select roles from users where id = 'owner'`))[0].roles).toEqual(['action_owner']),
  },

  // ---- evidence
  {
    name: 'evidence over the limit (70 KiB)',
    method: 'POST',
    path: evidencePath(() => f.q.caseId),
    as: 'owner',
    form: () => fileForm(Buffer.alloc(70 * 1024, 1), {}, 'too-big.bin'),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    message: new RegExp(`limited to ${MAX_EVIDENCE_BYTES} bytes`),
    unchanged: noEvidenceNamed('too-big.bin'),
  },
  {
    name: 'evidence far over the limit (refused while streaming)',
    method: 'POST',
    path: evidencePath(() => f.q.caseId),
    as: 'owner',
    form: () => fileForm(Buffer.alloc(MAX_EVIDENCE_BYTES * 3, 1), {}, 'far-too-big.bin'),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    message: new RegExp(`limited to ${MAX_EVIDENCE_BYTES} bytes`),
    unchanged: noEvidenceNamed('far-too-big.bin'),
  },
  {
    name: 'an empty file',
    method: 'POST',
    path: evidencePath(() => f.q.caseId),
    as: 'owner',
    form: () => fileForm(Buffer.alloc(0), {}, 'empty.txt'),
    status: 400,
    code: 'BAD_REQUEST',
    message: /file is empty/,
    unchanged: noEvidenceNamed('empty.txt'),
  },
  {
    name: 'no "file" field',
    method: 'POST',
    path: evidencePath(() => f.q.caseId),
    as: 'owner',
    form: () => fileForm(null, { attachment: 'hello' }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.file attach the file as form field "file"/,
    fields: ['body.file'],
  },
  {
    name: 'a text value where the file should be',
    method: 'POST',
    path: evidencePath(() => f.q.caseId),
    as: 'owner',
    form: () => fileForm(null, { file: 'hello' }),
    status: 400,
    code: 'BAD_REQUEST',
    message: /body\.file/,
    fields: ['body.file'],
  },
  {
    name: 'evidence as JSON instead of multipart',
    method: 'POST',
    path: evidencePath(() => f.q.caseId),
    as: 'owner',
    json: () => ({ file: 'aGVsbG8=' }),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: /multipart\/form-data for evidence/,
  },
  {
    name: 'evidence to an unknown case',
    method: 'POST',
    path: evidencePath(() => 'approval-request:nope'),
    as: 'owner',
    form: () => fileForm('hello', {}, 'orphan.txt'),
    status: 404,
    code: 'NOT_FOUND',
    message: /no case approval-request:nope/,
    unchanged: noEvidenceNamed('orphan.txt'),
  },
  {
    name: 'evidence whose taskId belongs to another case',
    method: 'POST',
    path: evidencePath(() => f.q.caseId),
    as: 'owner',
    form: () => fileForm('hello', { taskId: f.p.taskId }, 'misfiled.txt'),
    status: 400,
    code: 'BAD_REQUEST',
    message: /taskId .* is not a task of/,
    unchanged: noEvidenceNamed('misfiled.txt'),
  },
  {
    name: 'evidence for an unknown taskId',
    method: 'POST',
    path: evidencePath(() => f.q.caseId),
    as: 'owner',
    form: () => fileForm('hello', { taskId: 'nope:approval' }, 'unknown-task.txt'),
    status: 400,
    code: 'BAD_REQUEST',
    message: /taskId nope:approval is not a task of/,
    unchanged: noEvidenceNamed('unknown-task.txt'),
  },
  {
    name: 'evidence to a closed case',
    method: 'POST',
    path: evidencePath(() => f.closed.caseId),
    as: 'owner',
    form: () => fileForm('hello', {}, 'late.txt'),
    status: 409,
    code: 'CONFLICT',
    message: /is closed/,
    unchanged: noEvidenceNamed('late.txt'),
  },
  ...SUPPLIER_BAD_INPUT,
  ...INCIDENT_BAD_INPUT,
  ...DRILL_BAD_INPUT,
  ...PDCA_BAD_INPUT,
];

async function send(c: BadInput, headers: Record<string, string> = {}) {
  const as = c.as === undefined ? 'lead' : (c.as ?? undefined);
  const method = c.method ?? 'GET';
  if (c.raw)
    return h.api(method, c.path(), {
      as,
      body: c.raw.body,
      headers: { 'content-type': c.raw.contentType, ...headers },
    });
  return h.api(method, c.path(), { as, json: c.json?.(), body: c.form?.(), headers });
}

// ---------------------------------------------------------------- tests

describe('bad input', () => {
  it('every operation of the API is exercised with bad input here', async () => {
    const doc = await h.api('GET', '/openapi.json');
    const documented = Object.entries(doc.body.paths as Record<string, object>).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{[^}]+\}/g, '[^/]+')}`),
    );
    const sent = BAD_INPUT.map((c) => `${c.method ?? 'GET'} ${c.path().split('?')[0]}`);
    // GET /api/me, /api/audit/verify, /api/policy (the version in force) and
    // /api/me/notification-preferences take no input at all.
    const inputless = [
      'GET /api/me',
      'GET /api/audit/verify',
      'GET /api/policy',
      'GET /api/me/notification-preferences',
    ];
    // A step route derived from a contract has its schema rows in tests/unit/contracts.test.ts.
    const derived = [...CONTRACT_ROUTES.keys()].map((k) => k.replace(/\{[^}]+\}/g, '[^/]+'));
    for (const op of documented.filter((d) => !inputless.includes(d) && !derived.includes(d))) {
      const [method, pattern] = op.split(' ') as [string, string];
      const matcher = new RegExp(`^${method} ${pattern}$`);
      expect(
        sent.some((s) => matcher.test(s.replace(/%3A/gi, ':'))),
        `no bad input for ${op}`,
      ).toBe(true);
    }
  });

  for (const c of BAD_INPUT) {
    it(`${c.name} → ${c.status} ${c.code}`, async () => {
      const workflowId = c.workflowId?.();
      const before = await snapshot(workflowId);
      const res = await send(c);
      expectEnvelope(res, c.status, c.code, c.message);
      if (c.reason) expect(res.body.error.reason).toBe(c.reason);
      if (c.fields) {
        const fields = (res.body.error.details as Array<{ field: string; message: string }>).map((d) => d.field);
        expect(fields).toEqual(expect.arrayContaining(c.fields));
        for (const detail of res.body.error.details) expect(detail.message.length).toBeGreaterThan(3);
      }
      expect(await snapshot(workflowId)).toEqual(before);
      if (c.requestKey) await expectNotStarted(`approval-request:${c.requestKey}`);
      await c.unchanged?.();
    });
  }

  it('an unknown field is named in the details too', async () => {
    const res = await send(badStart('unknown field', { probability: 1, impact: 2, foo: 1 }, { message: /foo/ }));
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ field: 'body.foo', message: 'is not a known field' }]);
  });

  it('echoes a well-formed x-request-id in the error and replaces a malformed one', async () => {
    const given = await send(
      BAD_INPUT.find((c) => c.name === 'unknown case id')!,
      { 'x-request-id': 'client-req.42' },
    );
    expect(given.headers.get('x-request-id')).toBe('client-req.42');
    expect(given.body.error.requestId).toBe('client-req.42');
    const bad = await send(
      BAD_INPUT.find((c) => c.name === 'unknown case id')!,
      { 'x-request-id': 'has spaces\tand tabs' },
    );
    expect(bad.body.error.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(bad.headers.get('x-request-id')).toBe(bad.body.error.requestId);
  });

  it('evidence of exactly the limit is accepted (the limit is not off by one)', async () => {
    const res = await h.api('POST', `/api/cases/${enc(f.q.caseId)}/evidence`, {
      as: 'owner',
      body: fileForm(Buffer.alloc(MAX_EVIDENCE_BYTES, 7), { taskId: f.q.approvalTaskId }, 'at-limit.bin'),
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ sizeBytes: MAX_EVIDENCE_BYTES, taskId: f.q.approvalTaskId, caseId: f.q.caseId });
    const [row] = await h.sql('select size_bytes, length(content) as stored from evidence where id = $1', [
      res.body.id,
    ]);
    expect(row).toEqual({ size_bytes: MAX_EVIDENCE_BYTES, stored: MAX_EVIDENCE_BYTES });
  });

  it('no bad input started a workflow: the task queue holds only the fixtures’ workflows', async () => {
    const listed = async () => {
      const ids: string[] = [];
      for await (const wf of h.temporal.workflow.list({ query: `TaskQueue = "${h.taskQueue}"` }))
        ids.push(wf.workflowId);
      return ids.sort();
    };
    // Registering a fixture supplier approves its first review (year 2000), and the suspended and
    // terminated ones got there through an approved status change: those are fixtures too.
    const supplierSetup = (await listed()).filter(
      (id) =>
        [f.supplierId, f.suspendedId, f.terminatedId].some((s) => id === `supplier-review:${s}:2000`) ||
        [f.suspendedId, f.terminatedId].some((s) => id.startsWith(`supplier-status-change:${s}:`)),
    );
    const expected = [...f.workflows, ...supplierSetup].sort();
    const ids = await eventually(async () => {
      const now = await listed();
      return expected.every((id) => now.includes(id)) && now;
    });
    expect(ids).toEqual(expected);
    const cases = await h.sql('select id from cases');
    expect(cases.map((c) => c.id).sort()).toEqual(
      [
        f.closed.caseId,
        f.p.caseId,
        f.q.caseId,
        f.reviewDocuments,
        f.reviewChecks,
        ...f.loops,
        `plan-revision:${f.plan}:v1`,
        ...f.drills.filter((id) => !id.startsWith('plan-revision-clock:')),
        f.pdca.caseId,
        f.auditFieldwork.caseId,
        f.auditResponses.caseId,
        f.riskAssessment.caseId,
        ...supplierSetup,
      ].sort(),
    );
    // And no bad input reached a review: they still wait where the fixtures left them.
    await reviewUnchanged(() => f.reviewDocuments, 'documents')();
    await reviewUnchanged(() => f.reviewChecks, 'checks')();
    // …nor an incident or complaint.
    const loops = await h.sql('select id, status, stage from cases where id = any($1)', [f.loops]);
    expect(Object.fromEntries(loops.map((r) => [r.id, `${r.status} ${r.stage}`]))).toEqual({
      [f.incidentReported.caseId]: 'open reported',
      [f.incidentHandling.caseId]: 'open handling',
      [f.incidentEvaluation.caseId]: 'open evaluation',
      [f.incidentEnded.caseId]: 'open reported',
      [f.complaintInvestigating.caseId]: 'open investigating',
      [f.complaintHandling.caseId]: 'open handling',
      [f.complaintResolved.caseId]: 'closed closed',
      [f.complaintRaised.caseId]: 'open investigating',
      [f.raisedIncident.caseId]: 'open reported',
    });
    // …nor a plan revision or a drill.
    const drills = await h.sql('select id, status, stage from cases where id = any($1)', [f.drills]);
    expect(Object.fromEntries(drills.map((r) => [r.id, `${r.status} ${r.stage}`]))).toEqual({
      [f.revisionDraft.revisionId]: 'open draft',
      [f.revisionReview.revisionId]: 'open awaiting_approval',
      [f.drillPlanning.caseId]: 'open planning',
      [f.drillConduct.caseId]: 'open conduct',
      [f.drillEvaluation.caseId]: 'open evaluation',
      [f.drillSummary.caseId]: 'open summary',
    });
    // …nor the improvement cycle.
    await cycleUnchanged();
    const plans = await h.sql('select id, status from emergency_plans order by id');
    expect(Object.fromEntries(plans.map((r) => [r.id, r.status]))).toEqual({
      [f.plan]: 'active',
      [f.revisionDraft.planId]: 'draft',
      [f.revisionReview.planId]: 'draft',
    });
    const chain = await h.api('GET', '/api/audit/verify', { as: 'auditor' });
    expect(chain.body.ok).toBe(true);
  });
});

/**
 * Bugs this file found and that are now fixed; each test states the wanted
 * behaviour. They run last and terminate any workflow a regression would start.
 */
describe('durations and unknown fields (regressions)', () => {
  async function terminateIfStarted(workflowId: string) {
    await h.temporal.workflow
      .getHandle(workflowId)
      .terminate('bad-input test cleanup')
      .catch(() => undefined);
  }

  it('an unknown field is named as body.<field> in error.details (common.ts ignores issue.keys)', async () => {
    const res = await send(badStart('unknown field', { probability: 1, impact: 2, foo: 1 }, { message: /foo/ }));
    expect(res.status).toBe(400);
    expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain('body.foo');
  });

  it('a zero duration in approvalTimings is a 400, not a 500 (parseDuration throws in validateTimings)', async () => {
    const requestKey = key();
    const res = await h.api('POST', START, {
      as: 'lead',
      json: { requestKey, title: 'Zero reminder', probability: 1, impact: 2, approvalTimings: { remindAfter: '0s' } },
    });
    await expectNotStarted(`approval-request:${requestKey}`);
    expectEnvelope(res, 400, 'BAD_REQUEST', /remindAfter/);
  });

  it('a zero rectification dueIn is refused at the start (today it is accepted, and the case sticks once conditions are set)', async () => {
    const requestKey = key();
    try {
      const res = await h.api('POST', START, {
        as: 'lead',
        json: { requestKey, title: 'Zero due', probability: 1, impact: 2, rectificationTimings: { dueIn: '0s' } },
      });
      expectEnvelope(res, 400, 'BAD_REQUEST', /dueIn/);
    } finally {
      await terminateIfStarted(`approval-request:${requestKey}`);
    }
  });

  it('a duration beyond any date is refused at the start (today the workflow task fails for ever)', async () => {
    const requestKey = key();
    try {
      const res = await h.api('POST', START, {
        as: 'lead',
        json: {
          requestKey,
          title: 'Forever',
          probability: 1,
          impact: 2,
          approvalTimings: { remindAfter: '99999999999w', escalateAfter: '99999999999w', expireAfter: '99999999999w' },
        },
      });
      expectEnvelope(res, 400, 'BAD_REQUEST', /approvalTimings/);
    } finally {
      await terminateIfStarted(`approval-request:${requestKey}`);
    }
  });
});

/**
 * Supplier review bugs this file found, now fixed: each test states the wanted
 * behaviour. They run last, after the check that no bad input started a
 * workflow, and end whatever workflow a regression would start.
 */
describe('supplier reviews (regressions of fixed bugs)', () => {
  async function endReview(caseId: string) {
    const handle = h.temporal.workflow.getHandle(caseId);
    try {
      await handle.describe();
    } catch {
      return; // never started: the wanted behaviour
    }
    // Quiet first, so no activity still in flight writes after the termination.
    await quiet(caseId).catch(() => undefined);
    await handle.terminate('bad-input test cleanup').catch(() => undefined);
  }

  it('a reviewerId that is no active user is refused with 400 (today the review starts, and nobody can ever enter its checks or scores)', async () => {
    const caseId = `supplier-review:${f.supplierId}:2040`;
    try {
      const before = await dbSnapshot();
      const res = await h.api('POST', '/api/supplier-reviews', {
        as: 'lead',
        json: { supplierId: f.supplierId, year: 2040, reviewerId: 'ghost' },
      });
      expectEnvelope(res, 400, 'BAD_REQUEST', /reviewerId "ghost" is not an active user/);
      await expectNotStarted(caseId);
      expect(await dbSnapshot()).toEqual(before);
    } finally {
      await endReview(caseId);
    }
  });

  it('approval timings out of order are refused with 400, as for approval requests (today the review starts with them)', async () => {
    const caseId = `supplier-review:${f.supplierId}:2041`;
    try {
      const before = await dbSnapshot();
      const res = await h.api('POST', '/api/supplier-reviews', {
        as: 'lead',
        // The default escalateAfter is 48h: a reminder after 30 days comes after the escalation.
        json: { supplierId: f.supplierId, year: 2041, timings: { approval: { remindAfter: '30d' } } },
      });
      expectEnvelope(res, 400, 'BAD_REQUEST', /remindAfter ≤ escalateAfter ≤ expireAfter/);
      await expectNotStarted(caseId);
      expect(await dbSnapshot()).toEqual(before);
    } finally {
      await endReview(caseId);
    }
  });

  it('a document for a review whose workflow has ended is refused and not stored', async () => {
    // A review whose workflow has ended while its read model still says "documents".
    const { caseId } = await drive.reviewAt('documents', f.supplierId, 2042);
    await h.temporal.workflow.getHandle(caseId).terminate('ended before its documents arrived');
    const before = await dbSnapshot();
    const res = await h.api('POST', `/api/supplier-reviews/${enc(caseId)}/documents`, {
      as: 'manager',
      body: documentForm('business_licence', 'a licence', 'after-the-end.pdf'),
    });
    expect(res.status, JSON.stringify(res.body)).toBe(409);
    expect(res.body.error.message).toMatch(/is closed \(its workflow is terminated\)/);
    // …and nothing of it may stay behind.
    await noEvidenceNamed('after-the-end.pdf')();
    expect(await dbSnapshot()).toEqual(before);
  });
});

/**
 * Incident and complaint bugs this file found, now fixed: each test states the
 * wanted behaviour. They run last, after the check that no bad input started a
 * workflow, and end whatever workflow a regression would start.
 */
describe('incidents and complaints (regressions of fixed bugs)', () => {
  /** Quiet first, so nothing in flight writes after the termination. */
  async function endIfStarted(workflowId: string) {
    const handle = h.temporal.workflow.getHandle(workflowId);
    try {
      await handle.describe();
    } catch {
      return; // never started: the wanted behaviour
    }
    await quiet(workflowId).catch(() => undefined);
    await handle.terminate('bad-input test cleanup').catch(() => undefined);
  }

  it('raising a resolved complaint is refused with 409 before any incident is reported', async () => {
    const body = raiseBody();
    const incidentCaseId = `incident:${body.incidentId}`;
    try {
      const before = await snapshot(f.complaintResolved.caseId);
      const res = await h.api('POST', `/api/complaints/${f.complaintResolved.complaintId}/raise-incident`, {
        as: 'manager',
        json: body.json(),
      });
      expectEnvelope(res, 409, 'CONFLICT', /closed|finished/);
      await expectNotStarted(incidentCaseId);
      expect(await snapshot(f.complaintResolved.caseId)).toEqual(before);
    } finally {
      await endIfStarted(incidentCaseId);
    }
  });
  it('a notification dated in the future is refused with 400 naming notifiedAt, as occurredAt is', async () => {
    const target = await drive.incidentAt('handling', 'IV');
    try {
      const before = await snapshot(target.caseId);
      const res = await h.api('POST', `/api/incidents/${target.incidentId}/notifications`, {
        as: 'manager',
        json: {
          audience: 'regulator',
          notifiedAt: new Date(Date.now() + 86_400_000).toISOString(),
          summary: 'We will call the regulator tomorrow',
        },
      });
      expectEnvelope(res, 400, 'BAD_REQUEST', /notifiedAt/);
      expect(await snapshot(target.caseId)).toEqual(before);
      expect((await caseRow(target.caseId))?.data.notifications).toEqual([]);
    } finally {
      await endIfStarted(target.caseId);
    }
  });
});

/**
 * Emergency plan and drill bugs this file found, now fixed: each test states
 * the wanted behaviour. They run last, after the check that no bad input
 * started a workflow, on targets of their own, and end every workflow they start.
 */
describe('emergency plans and drills (regressions of fixed bugs)', () => {
  async function endIfRunning(workflowId: string) {
    const handle = h.temporal.workflow.getHandle(workflowId);
    try {
      if ((await handle.describe()).status.name !== 'RUNNING') return;
    } catch {
      return;
    }
    await quiet(workflowId).catch(() => undefined);
    await handle.terminate('bad-input test cleanup').catch(() => undefined);
  }

  it('a draft for a revision whose workflow has ended is refused and not stored', async () => {
    // A revision whose workflow has ended while its read model still says "draft".
    const target = await drive.registerPlan();
    await h.temporal.workflow.getHandle(target.revisionId).terminate('ended before its draft arrived');
    const before = await dbSnapshot();
    const res = await h.api('POST', `/api/plan-revisions/${enc(target.revisionId)}/draft`, {
      as: 'manager',
      body: draftForm('plan v1', 'First version', 'draft-after-the-end.pdf'),
    });
    expectEnvelope(res, 409, 'CONFLICT', /closed|finished/);
    // …and nothing of it may stay behind.
    await noEvidenceNamed('draft-after-the-end.pdf')();
    expect(await dbSnapshot()).toEqual(before);
  });

  it('a drill conduct dated in the future is refused with 400 naming startedAt/endedAt, as an incident occurredAt is', async () => {
    const target = await drive.drillAt('conduct', f.plan, 2045);
    try {
      const before = await snapshot(target.caseId);
      const tomorrow = Date.now() + 86_400_000;
      const res = await h.api('POST', `/api/drills/${enc(target.caseId)}/conduct`, {
        as: 'manager',
        json: {
          startedAt: new Date(tomorrow).toISOString(),
          endedAt: new Date(tomorrow + 3_600_000).toISOString(),
          observations: 'We expect the failover to take 40 minutes',
        },
      });
      expectEnvelope(res, 400, 'BAD_REQUEST', /startedAt|endedAt/);
      expect(await snapshot(target.caseId)).toEqual(before);
      expect(await caseRow(target.caseId)).toMatchObject({ stage: 'conduct', data: { conduct: null } });
    } finally {
      await endIfRunning(target.caseId);
    }
  });
});

/**
 * Improvement-cycle bugs this file found, not yet fixed: each it.fails states
 * the wanted behaviour. They run last, on a cycle of their own, and end it.
 */
describe('improvement cycles (regressions of fixed bugs)', () => {
  /** A cycle that missed its target: continued as new into cycle 2, awaiting its plan. */
  const cycleAwaitingPlan = () => drive.cycleChecked(40);

  // Fixed: the `plan` step now checks action owners as opening a cycle does; an owner who left
  // would otherwise get an item they can never submit, and the cycle would stick.
  it('a re-plan naming an action owner who left is refused with 400', async () => {
    const target = await cycleAwaitingPlan();
    try {
      const before = await snapshot(target.caseId);
      const res = await h.api('POST', `${CYCLES}/${target.cycleKey}/plan`, {
        as: 'manager',
        json: { actions: [{ title: 'Hand it to someone who left', ownerId: 'gone' }] },
      });
      expectEnvelope(res, 400, 'BAD_REQUEST', /actions\.ownerId "gone" is not an active user/);
      expect(await snapshot(target.caseId)).toEqual(before);
    } finally {
      await endWorkflows(h, [target.caseId], 'bad-input test cleanup');
    }
  });
});
