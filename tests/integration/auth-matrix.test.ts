/**
 * The auth matrix, against the real app, PostgreSQL and Temporal dev server:
 * every /api endpoint × every role, plus no token, a malformed header, an
 * unknown token, a revoked token and a deactivated user's token.
 *
 * Each endpoint is one row of ENDPOINTS: who may call it and what everyone
 * else gets. A call expected to succeed on a mutating endpoint gets its own
 * fresh target (a new case, rectification item…); every refused call goes to
 * a shared target and must leave the database (row counts, last audit seq,
 * last update times) and the target workflow's history exactly as they were.
 */
import { auditAtStage, type AuditStage } from '../support/audits';
import { DEFAULT_VERIFIER_ROLES } from '../../domain/rectification';
import { APPROVER_ROLES } from '../../domain/roles';
import { acceptedSteps } from '../support/histories';
import { CONTRACT_ROUTES } from '../../api/routes/common';
import { createHash } from 'node:crypto';
import { createToken, invalidateTokenCache } from '../../api/auth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  caseRow as caseRowOf,
  expectStage,
  expectTask,
  createDriver,
  endWorkflows,
  creditCodes,
  DRILL_CONDUCT,
  DRILL_PLAN,
  DRILL_SCORES,
  DRILL_SUMMARY,
  expectNotStarted as expectNotStartedOf,
  fileForm,
  snapshot as snapshotOf,
  PDCA_KPI,
  PERFORMANCE,
  PLAN_V1_TEXT,
  quiet as quietOf,
  REVIEW_DOCUMENTS,
  SCORES,
  type ComplaintRef,
  type CycleRef,
  type DrillRef,
  type DrillStage,
  type IncidentRef,
  type RevisionRef,
} from '../support/drive';
import { eventually, TEST_USERS, useHarness, type TestUser } from '../support/harness';

const h = useHarness('authz');

const ROLES = Object.keys(TEST_USERS) as TestUser[];
const EVIDENCE_TEXT = 'hello';
const EVIDENCE_SHA256 = createHash('sha256').update(EVIDENCE_TEXT).digest('hex');

type Res = Awaited<ReturnType<typeof h.api>>;

// ---------------------------------------------------------------- helpers

/** The one error envelope: nothing but `error`, the request id echoed in the header, no stack. */
function expectEnvelope(res: Res, status: number, code: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(Object.keys(res.body)).toEqual(['error']);
  expect(res.body.error).toMatchObject({ code, message: expect.any(String), requestId: expect.any(String) });
  expect(res.body.error.message.length).toBeGreaterThan(10);
  expect(res.body.error.requestId).not.toBe('unknown');
  expect(res.body.error.requestId).toBe(res.headers.get('x-request-id'));
  expect(JSON.stringify(res.body)).not.toMatch(/"stack"|\\n\s+at |node_modules|\.ts:\d+/);
}

const snapshot = (workflowId?: string) => snapshotOf(h, workflowId);

const enc = encodeURIComponent;
const quiet = (workflowId: string) => quietOf(h, workflowId);
const caseRow = (caseId: string) => caseRowOf(h, caseId);
const expectNotStarted = (workflowId: string) => expectNotStartedOf(h, workflowId);
const evidenceForm = (text = EVIDENCE_TEXT) => fileForm(text);
const documentForm = (documentType = 'business_licence', text = EVIDENCE_TEXT) => fileForm(text, { documentType });
const draftForm = (summary = 'First version', text = EVIDENCE_TEXT) =>
  fileForm(text, { summary }, 'plan.pdf', 'application/pdf');

/** Every workflow this file started and has not yet ended, by kind: ended after the file. */
const reviewWorkflows = new Set<string>();
const caseWorkflows = new Set<string>();
const drillWorkflows = new Set<string>();
const cycleWorkflows = new Set<string>();
const running = { review: reviewWorkflows, case: caseWorkflows, drill: drillWorkflows, cycle: cycleWorkflows };

/** Codes of this file (organisation code prefix MA2); supplierReview.test.ts uses MA1. */
const newCreditCode = creditCodes('91440300MA2');
const drive = createDriver(h, {
  label: 'Matrix',
  creditCode: newCreditCode,
  started: (kind, id) => running[kind].add(id),
  ended: (kind, id) => running[kind].delete(id),
});
const { decide, uploadEvidence, incidentReport, cycleBody } = drive;

const startCase = (as: TestUser = 'lead') => drive.startApproval({}, as);
const openRectification = () => drive.openRectification();

/** An open rectification item with one piece of evidence uploaded by its owner. */
async function rectificationWithEvidence() {
  const r = await openRectification();
  return { ...r, evidenceId: await uploadEvidence(r.caseId) };
}

/** A rectification item its owner has submitted: awaiting verification. */
async function submittedRectification() {
  const r = await rectificationWithEvidence();
  const res = await h.api('POST', `/api/tasks/${enc(r.taskId)}/submission`, {
    as: 'owner',
    json: { evidenceIds: [r.evidenceId] },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return r;
}

// ---------------------------------------------------------------- supplier helpers

/** Review years no other call uses: each successful start gets its own case. */
let reviewYear = 2060;
const freshReviewYear = () => reviewYear++;
/** Campaign years: each successful campaign starts a review of every active supplier for its year. */
let campaignYear = 2040;
const REFUSED_CAMPAIGN_YEAR = 2039;
const REFUSED_REVIEW_YEAR = 2035;
const REFUSED_PERFORMANCE_YEAR = 2030;
let performanceYear = 2010;

const registerSupplier = (name?: string) => drive.registerSupplier({ name });
/** Reviews started by lead, reviewed by mgr (the supplier's owner): waiting for documents, checks, scores. */
const reviewAtDocuments = (supplierId: string, year: number) => drive.reviewAt('documents', supplierId, year);
const reviewAtChecks = (supplierId: string, year: number) => drive.reviewAt('checks', supplierId, year);
const reviewAtScoring = (supplierId: string, year: number) => drive.reviewAt('scoring', supplierId, year);

/** Quiet first, so no activity still in flight writes after the termination. */
async function finishReview(caseId: string) {
  await quiet(caseId);
  await h.temporal.workflow.getHandle(caseId).terminate('auth matrix: done with it');
  reviewWorkflows.delete(caseId);
}

const reviewData = async (caseId: string) =>
  (await h.sql('select stage, data from cases where id = $1', [caseId]))[0] as {
    stage: string;
    data: Record<string, unknown>;
  };

// ---------------------------------------------------------------- incident and complaint helpers

type CaseRef = { caseId: string };

/** Grade IV incidents reported by mgr, its owner: waiting to be acknowledged; acknowledged; stabilised. */
const incidentReported = () => drive.incidentAt('reported');
const incidentHandling = () => drive.incidentAt('handling');
const incidentEvaluation = () => drive.incidentAt('evaluation');
/** Grade IV with its short evaluation recorded: ready for close-out. */
const incidentEvaluated = () => drive.incidentAt('evaluated');
/** Complaints accepted by mgr and handled by owner (an action owner): investigating; investigated. */
const complaintInvestigating = () => drive.complaintAt('investigating');
const complaintHandling = () => drive.complaintAt('handling');

/** Quiet first, so nothing in flight writes after the termination; one that has ended is left as it is. */
async function finish(workflowId: string, set: Set<string>) {
  const handle = h.temporal.workflow.getHandle(workflowId);
  if ((await handle.describe()).status.name === 'RUNNING') {
    await quiet(workflowId);
    await handle.terminate('auth matrix: done with it');
  }
  set.delete(workflowId);
}
const finishCase = (workflowId: string) => finish(workflowId, caseWorkflows);

/** A user of its own for a row whose success changes the user. */
async function freshUser(active = true) {
  const id = h.unique('matrix').toLowerCase();
  await h.sql(`insert into users (id, name, email, roles, active) values ($1, 'Matrix target', $2, '{risk}', $3)`, [
    id,
    `${id}@test.example`,
    active,
  ]);
  return id;
}
const finishDrill = (workflowId: string) => finish(workflowId, drillWorkflows);
const finishCycle = (workflowId: string) => finish(workflowId, cycleWorkflows);

// ---------------------------------------------------------------- emergency plan and drill helpers

/** Drill years: the fixtures' (2030–2033), each successful start's own, and the programme's, apart from those. */
let drillYear = 2050;
const REFUSED_DRILL_YEAR = 2049;
let programmeYear = 2090;
const REFUSED_PROGRAMME_YEAR = 2089;

const registeredPlan = () => drive.registerPlan();
const publishedPlan = () => drive.publishPlan();
const drillAt = (stage: DrillStage, planId: string, year = drillYear++) => drive.drillAt(stage, planId, year);

/** An Update through a drill's step route: as stepCall, for the drill workflows. */
function drillCall(target: DrillRef, fresh: boolean, step: string, json: unknown, checks: StepChecks): Call {
  return {
    path: `/api/drills/${enc(target.caseId)}/${step}`,
    json,
    workflowId: target.caseId,
    succeeded: async (res) => {
      await checks.succeeded(res);
      await finishDrill(target.caseId);
    },
    refused: checks.refused,
    cleanup: fresh ? () => finishDrill(target.caseId) : undefined,
  };
}

/** Updates a workflow's history shows as accepted. */
async function acceptedUpdates(workflowId: string) {
  return (await acceptedSteps(h, workflowId)).length;
}

// ---------------------------------------------------------------- improvement cycle (PDCA) helpers

const cycleAtActuals = () => drive.cycleAtActuals();
/** KPI value 20 meets the target (act), 40 misses it (cycle 2, plan). */
const cycleAtStandardise = () => drive.cycleChecked(20);
const cycleAtPlan = () => drive.cycleChecked(40);

/** An Update through a cycle's step route: as stepCall, for the improvement cycles. */
function cycleCall(target: CycleRef, fresh: boolean, step: string, json: unknown, checks: StepChecks): Call {
  return {
    path: `/api/improvement-cycles/${target.cycleKey}/${step}`,
    json,
    workflowId: target.caseId,
    succeeded: async (res) => {
      await checks.succeeded(res);
      await finishCycle(target.caseId);
    },
    refused: checks.refused,
    cleanup: fresh ? () => finishCycle(target.caseId) : undefined,
  };
}

// ---------------------------------------------------------------- fixtures

interface Fixtures {
  /** The year of a finished supplier review campaign (its reviews ended). */
  campaignYear: number;
  /** An open approval started by 'lead' with owner 'owner'. */
  openApproval: { caseId: string; approvalTaskId: string };
  /** An open rectification item and evidence on its case. */
  rectOpen: { caseId: string; taskId: string; evidenceId: string };
  /** A submitted rectification item. */
  rectSubmitted: { caseId: string; taskId: string; evidenceId: string };
  /** Per role, a token that worked and was then revoked. */
  revoked: Record<TestUser, string>;
  /** A token of a user with every role but auditor, then deactivated. */
  inactive: string;
  /** An active supplier owned by mgr, with a performance record for 2025. */
  supplierId: string;
  /** Its reviews (started by lead, reviewer mgr): waiting for documents, for checks, for scores. */
  reviewDocuments: { supplierId: string; caseId: string };
  reviewChecks: { supplierId: string; caseId: string };
  reviewScoring: { supplierId: string; caseId: string };
  /** Grade IV incidents owned and reported by mgr: waiting to be acknowledged, being handled, stabilised (evaluation). */
  incidentReported: IncidentRef;
  incidentHandling: IncidentRef;
  incidentEvaluation: IncidentRef;
  incidentEvaluated: IncidentRef;
  riskKey: string;
  riskControlId: string;
  riskLinkCaseId: string;
  riskAssessment: { period: string; caseId: string; scope: Array<{ riskKey: string; ownerId: string }> };
  /** A key risk indicator (above: 10 / 20 / 30) owned by mgr. */
  kriKey: string;
  /** Complaints accepted by mgr, handled by owner: investigating, and handling (investigation recorded). */
  complaintInvestigating: ComplaintRef;
  complaintHandling: ComplaintRef;
  /** An active emergency plan owned by mgr, v1 published (its revision clock running). */
  plan: string;
  /** A plan registered by admin, owned by mgr: its revision v1 waits for the draft. */
  revisionDraft: RevisionRef;
  /** Drills of the plan (opened by lead, organised by mgr): planning, conduct, evaluation, summary. */
  drillPlanning: DrillRef;
  drillConduct: DrillRef;
  drillEvaluation: DrillRef;
  drillSummary: DrillRef;
  /** Updates each drill fixture's history had accepted once it was ready. */
  drillAccepted: Record<string, number>;
  /** Improvement cycles opened by lead, owned by mgr: cycle 2 awaiting its plan; awaiting KPI values; awaiting standardisation. */
  cyclePlan: CycleRef;
  cycleActuals: CycleRef;
  cycleStandardise: CycleRef;
  /** Updates each cycle fixture's (latest run's) history had accepted once it was ready. */
  cycleAccepted: Record<string, number>;
}
const f = {} as Fixtures;

beforeAll(async () => {
  f.openApproval = await startCase('lead');
  f.rectOpen = await rectificationWithEvidence();
  f.rectSubmitted = await submittedRectification();

  f.revoked = {} as Record<TestUser, string>;
  for (const role of ROLES) {
    const issued = await h.api('POST', `/api/users/${TEST_USERS[role].id}/tokens`, {
      as: 'admin',
      json: { label: 'to be revoked' },
    });
    expect(issued.status).toBe(201);
    const token: string = issued.body.token;
    expect((await h.api('GET', '/api/me', { token })).body.id).toBe(TEST_USERS[role].id);
    f.revoked[role] = token;
  }
  const revoked = await h.sql(
    `update api_tokens set revoked_at = now() where label = 'to be revoked' and revoked_at is null returning user_id`,
  );
  expect(revoked).toHaveLength(ROLES.length);
  // Revoked behind the API's back (SQL, as another process would): this process's token cache learns it when told.
  invalidateTokenCache();

  const created = await h.api('POST', '/api/users', {
    as: 'admin',
    json: {
      id: 'gone',
      name: 'Left the company',
      email: 'gone@test.example',
      roles: ['manager', 'risk', 'action_owner', 'admin'],
    },
  });
  expect(created.status).toBe(201);
  const issued = await h.api('POST', '/api/users/gone/tokens', { as: 'admin', json: { label: 'before leaving' } });
  f.inactive = issued.body.token;
  expect((await h.api('GET', '/api/me', { token: f.inactive })).status).toBe(200);
  await h.sql(`update users set active = false where id = 'gone'`);
  invalidateTokenCache();

  f.supplierId = await registerSupplier('Shared supplier');
  // A finished campaign, for the campaign's reads; the reviews it started are ended at once.
  f.campaignYear = 2038;
  const campaign = await h.api('POST', '/api/supplier-reviews/campaigns', {
    as: 'lead',
    json: { year: f.campaignYear },
  });
  expect(campaign.status, JSON.stringify(campaign.body)).toBe(200);
  expect(campaign.body.startedCount).toBeGreaterThan(0);
  for (const s of campaign.body.started as Array<{ caseId: string }>) {
    reviewWorkflows.add(s.caseId);
    await expectTask(h, `${s.caseId}:documents`);
    await finishReview(s.caseId);
  }
  const performance = await h.api('PUT', `/api/suppliers/${f.supplierId}/performance/2025`, {
    as: 'manager',
    json: PERFORMANCE,
  });
  expect(performance.status, JSON.stringify(performance.body)).toBe(200);
  f.reviewDocuments = await reviewAtDocuments(f.supplierId, 2026);
  f.reviewChecks = await reviewAtChecks(f.supplierId, 2027);
  f.reviewScoring = await reviewAtScoring(f.supplierId, 2028);
  f.incidentReported = await incidentReported();
  f.incidentHandling = await incidentHandling();
  f.incidentEvaluation = await incidentEvaluation();
  f.incidentEvaluated = await incidentEvaluated();
  f.riskKey = await newRisk();
  f.riskControlId = await newRiskControl(f.riskKey);
  f.riskLinkCaseId = f.openApproval.caseId;
  f.riskAssessment = await assessmentAt();
  f.kriKey = await newKri();
  f.complaintInvestigating = await complaintInvestigating();
  f.complaintHandling = await complaintHandling();
  f.plan = await publishedPlan();
  f.revisionDraft = await registeredPlan();
  f.drillPlanning = await drillAt('planning', f.plan, 2030);
  f.drillConduct = await drillAt('conduct', f.plan, 2031);
  f.drillEvaluation = await drillAt('evaluation', f.plan, 2032);
  f.drillSummary = await drillAt('summary', f.plan, 2033);
  f.drillAccepted = {};
  for (const d of [f.drillPlanning, f.drillConduct, f.drillEvaluation, f.drillSummary])
    f.drillAccepted[d.caseId] = await acceptedUpdates(d.caseId);
  [f.cyclePlan, f.cycleActuals, f.cycleStandardise] = await Promise.all([
    cycleAtPlan(),
    cycleAtActuals(),
    cycleAtStandardise(),
  ]);
  f.cycleAccepted = {};
  for (const c of [f.cyclePlan, f.cycleActuals, f.cycleStandardise]) {
    await quiet(c.caseId);
    f.cycleAccepted[c.caseId] = await acceptedUpdates(c.caseId);
  }
  // The approval fixtures too: nothing may still be writing when the first snapshot is taken.
  for (const id of [f.openApproval.caseId, f.rectOpen.taskId, f.rectSubmitted.taskId]) await quiet(id);
});

afterAll(async () => {
  // Whatever this file left running (the fixtures, or a check that failed half-way): the incidents, complaints
  // and their rectification items, the reviews, the improvement cycles, the plan revisions, revision clocks
  // (long timers) and drills. The drill-programme Schedule is left.
  await endWorkflows(
    h,
    [...caseWorkflows, ...reviewWorkflows, ...cycleWorkflows, ...drillWorkflows],
    'auth matrix: done',
  );
});

// ---------------------------------------------------------------- the table

interface Outcome {
  status: number;
  code?: string;
  /** The domain rule's code, for refusals from a workflow validator. */
  reason?: string;
  /** What the refusal message must say. */
  message?: RegExp;
  /**
   * A known app bug: the refusal itself is right, but the call still writes
   * something. "Changes nothing" is then checked in an it.fails of its own,
   * which starts failing (and must become a plain check) once it is fixed.
   */
  bug?: string;
  /**
   * A known app bug of the other kind: this is the wanted outcome, and today
   * the app gives another (the string says which, and why). Checked only in an
   * it.fails, on a fresh target since today's call may change it; it starts
   * failing once the bug is fixed, and then this field goes.
   */
  notYet?: string;
}

interface Call {
  path: string;
  json?: unknown;
  form?: () => FormData;
  /** The workflow a refusal must leave untouched. */
  workflowId?: string;
  /** Checks on a success. */
  succeeded?: (res: Res) => Promise<void> | void;
  /** Proof, beyond the snapshot, that a refusal did nothing. */
  refused?: () => Promise<void>;
  /** Ends a fresh target's workflows, whatever the checks found (for the it.fails of a known bug). */
  cleanup?: () => Promise<void>;
}

interface Endpoint {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT';
  /** As in openapi.json. */
  route: string;
  /** Outcome per role; roles not listed get `others`. */
  allowed: Partial<Record<TestUser, Outcome>>;
  others?: Outcome;
  /** The auditor's outcome where it is not the read-only refusal every other mutating endpoint gives. */
  auditor?: Outcome;
  /** The request; `fresh` when it is expected to succeed and changes state, so it needs its own target. */
  call: (role: TestUser, fresh: boolean) => Promise<Call> | Call;
}

const ok = (status = 200): Outcome => ({ status });
const forbidden = (message: RegExp): Outcome => ({ status: 403, code: 'FORBIDDEN', message });
const refusal = (status: 403 | 409 | 422, reason: string, message: RegExp): Outcome => ({
  status,
  code: status === 403 ? 'FORBIDDEN' : status === 409 ? 'CONFLICT' : 'UNPROCESSABLE',
  reason,
  message,
});
const everyone = (status = 200) => Object.fromEntries(ROLES.map((r) => [r, ok(status)])) as Record<TestUser, Outcome>;
const allBut = (excluded: TestUser[], status: number) =>
  Object.fromEntries(ROLES.filter((r) => !excluded.includes(r)).map((r) => [r, ok(status)])) as Partial<
    Record<TestUser, Outcome>
  >;

const READ_ONLY = forbidden(/auditors have read-only access/);
const only = (roles: TestUser[], status = 200) =>
  Object.fromEntries(roles.map((r) => [r, ok(status)])) as Partial<Record<TestUser, Outcome>>;
/** A case one may not read is answered as one that does not exist (platform/access.ts). */
const noSuchCase = (): Outcome => ({ status: 404, code: 'NOT_FOUND', message: /^no case / });
const noSuchEvidence = (): Outcome => ({ status: 404, code: 'NOT_FOUND', message: /^no evidence / });
const noPart = (): Outcome => refusal(403, 'NO_PART_IN_CASE', /only people with a part in case .* may add evidence/);
/** The oversight functions read every case: risk (lead too), compliance, internal audit, auditors. */
const OVERSIGHT: TestUser[] = ['lead', 'approver', 'approver2', 'risk2', 'internalAudit', 'auditor'];
/** Who reads the approval fixtures with an item (rectOpen, rectSubmitted): its initiator, owner, approver and oversight. */
const CASE_READERS: TestUser[] = [...OVERSIGHT, 'owner'];
/** Who reads the review, incident and drill fixtures (mgr reviews, owns or organises them) and their reports. */
const REPORT_READERS: TestUser[] = [...OVERSIGHT, 'manager'];
/** Who reads the open approval: its initiator (lead), its owner, oversight, and legal, whose decision it awaits. */
const OPEN_APPROVAL_READERS: TestUser[] = [...OVERSIGHT, 'owner', 'legal'];

/**
 * An Update through an incident's or a complaint's step route. A success's
 * target is ended once it is checked; a fresh target is also ended by the
 * it.fails of a known bug, whatever that found.
 */
function stepCall(
  path: string,
  target: CaseRef,
  fresh: boolean,
  json: unknown,
  checks: { succeeded: (res: Res) => Promise<void>; refused: () => Promise<void> },
): Call {
  return {
    path,
    json,
    workflowId: target.caseId,
    succeeded: async (res) => {
      await checks.succeeded(res);
      await finishCase(target.caseId);
    },
    refused: checks.refused,
    cleanup: fresh ? () => finishCase(target.caseId) : undefined,
  };
}
const incidentCall = (target: IncidentRef, fresh: boolean, step: string, json: unknown, checks: StepChecks) =>
  stepCall(`/api/incidents/${target.incidentId}/${step}`, target, fresh, json, checks);
const complaintCall = (target: ComplaintRef, fresh: boolean, step: string, json: unknown, checks: StepChecks) =>
  stepCall(`/api/complaints/${target.complaintId}/${step}`, target, fresh, json, checks);
type StepChecks = Parameters<typeof stepCall>[4];

/** An audit driven to a stage (tests/support/audits.ts), ended after the file like the other cases. */
async function auditAt(stage: AuditStage) {
  const audit = await auditAtStage(h, stage);
  caseWorkflows.add(audit.caseId);
  return audit;
}
/** Plan years for the POST /api/audit-plans row: one per successful call. */
let nextPlanYear = 2040;
const auditTargets: Partial<
  Record<'fieldwork' | 'findings' | 'responses', Promise<{ auditKey: string; caseId: string }>>
> = {};
/** The shared target refusals go to (one per stage), or a fresh one for a success. */
const auditTarget = (stage: 'fieldwork' | 'findings' | 'responses', fresh: boolean) =>
  fresh ? auditAt(stage) : (auditTargets[stage] ??= auditAt(stage));

/** A fresh risk owned by `owner` (an action owner with no line manager), raised by lead. */
async function newRisk(ownerId = 'owner'): Promise<string> {
  const riskKey = `RISK-${h
    .unique('AM')
    .toUpperCase()
    .replace(/[^A-Z0-9_-]/g, '-')}`.slice(0, 45);
  const res = await h.api('POST', '/api/risks', {
    as: 'lead',
    json: {
      riskKey,
      title: 'Payment gateway outage',
      category: 'technical',
      description: 'Single gateway, no failover.',
      cause: 'No second provider',
      consequence: 'Lost orders',
      ownerId,
      lineOfDefence: 'first',
      inherent: { probability: 4, impact: 5 },
      residual: { probability: 2, impact: 3 },
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return riskKey;
}
async function newRiskControl(riskKey: string): Promise<string> {
  const res = await h.api('POST', `/api/risks/${riskKey}/controls`, {
    as: 'lead',
    json: { title: 'Daily failover check', ownerId: 'owner', frequency: 'daily' },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}
const riskVersions = async (riskKey: string) =>
  (await h.sql('select count(*)::int as n from risk_versions where risk_key = $1', [riskKey]))[0].n;

async function newKri(): Promise<string> {
  const kriKey = `KRI-AM-${Math.random().toString(36).slice(2, 10).toUpperCase()}`;
  const res = await h.api('POST', '/api/kris', {
    as: 'lead',
    json: {
      kriKey,
      name: 'Refund requests per hour',
      direction: 'above',
      thresholds: { general: 10, elevated: 20, major: 30 },
      ownerId: 'mgr',
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return kriKey;
}

/** Quarters for the risk assessment rows: one per started assessment (each is one case per period). */
let nextAssessmentYear = 2001;
/** An assessment of a fresh quarter; its scope is the whole register (newRisk makes sure `owner` owns one). */
async function assessmentAt(): Promise<{
  period: string;
  caseId: string;
  scope: Array<{ riskKey: string; ownerId: string }>;
}> {
  await newRisk();
  const period = `${nextAssessmentYear++}-Q1`;
  const res = await h.api('POST', '/api/risk-assessments', { as: 'lead', json: { period } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  caseWorkflows.add(res.body.caseId);
  return { period, caseId: res.body.caseId, scope: res.body.scope };
}
const ownersRatings = (scope: Array<{ riskKey: string; ownerId: string }>, ownerId: string) => ({
  ratings: scope
    .filter((r) => r.ownerId === ownerId)
    .map((r) => ({
      riskKey: r.riskKey,
      causes: 'Peak load',
      analysis: 'Failover untested',
      residual: { probability: 1, impact: 1 },
      evaluation: 'accept',
    })),
});

/** Each POST /api/risk-reports call gets its own period, a year that has begun (2001, 2002, …). */
let riskReportYear = 0;
let riskReportFixture: string | undefined;

const ENDPOINTS: Endpoint[] = [
  {
    method: 'GET',
    route: '/api/me',
    allowed: everyone(),
    call: (role) => ({
      path: '/api/me',
      succeeded: (res) =>
        expect(res.body).toEqual({ id: TEST_USERS[role].id, name: role, roles: TEST_USERS[role].roles }),
    }),
  },
  {
    method: 'GET',
    route: '/api/users',
    // Admins; managers, to pick owners; auditors, who read everything.
    allowed: { admin: ok(), manager: ok(), lead: ok(), auditor: ok() },
    others: forbidden(/admin or manager or auditor/),
    call: () => ({
      path: '/api/users?pageSize=100',
      succeeded: (res) => {
        const ids = res.body.items.map((u: { id: string }) => u.id);
        expect(ids).toEqual(expect.arrayContaining(Object.values(TEST_USERS).map((u) => u.id)));
        expect(res.body.items[0]).not.toHaveProperty('tokenHash');
      },
    }),
  },
  {
    method: 'POST',
    route: '/api/users',
    allowed: { admin: ok(201) },
    others: forbidden(/needs the role admin/),
    call: () => {
      const id = h.unique('user').toLowerCase();
      return {
        path: '/api/users',
        json: { id, name: 'New colleague', email: `${id}@test.example`, roles: ['risk'] },
        succeeded: async (res) => {
          expect(res.body).toEqual({
            id,
            name: 'New colleague',
            email: `${id}@test.example`,
            roles: ['risk'],
            active: true,
            managerId: null,
          });
          expect(
            await h.sql(`select 1 from audit_events where action = 'user.created' and payload->>'userId' = $1`, [id]),
          ).toHaveLength(1);
        },
        refused: async () => expect(await h.sql('select 1 from users where id = $1', [id])).toHaveLength(0),
      };
    },
  },
  {
    method: 'POST',
    route: '/api/users/{userId}/tokens',
    allowed: { admin: ok(201) },
    others: forbidden(/needs the role admin/),
    call: () => ({
      path: `/api/users/${TEST_USERS.approver2.id}/tokens`,
      json: { label: 'matrix' },
      succeeded: async (res) => {
        expect(res.body).toMatchObject({
          userId: TEST_USERS.approver2.id,
          label: 'matrix',
          token: expect.stringMatching(/^gov_/),
        });
        const me = await h.api('GET', '/api/me', { token: res.body.token });
        expect(me.body.id).toBe(TEST_USERS.approver2.id);
      },
    }),
  },
  {
    method: 'PATCH',
    route: '/api/users/{userId}',
    allowed: { admin: ok() },
    others: forbidden(/needs the role admin/),
    call: async () => {
      const id = await freshUser();
      return {
        path: `/api/users/${id}`,
        json: { managerId: TEST_USERS.manager.id },
        succeeded: async (res) => {
          expect(res.body).toMatchObject({ id, managerId: TEST_USERS.manager.id });
          expect(
            await h.sql(`select 1 from audit_events where action = 'user.updated' and payload->>'userId' = $1`, [id]),
          ).toHaveLength(1);
        },
        refused: async () =>
          expect(await h.sql('select manager_id from users where id = $1', [id])).toEqual([{ manager_id: null }]),
      };
    },
  },
  {
    method: 'POST',
    route: '/api/users/{userId}/deactivate',
    allowed: { admin: ok() },
    others: forbidden(/needs the role admin/),
    call: async () => {
      const id = await freshUser();
      return {
        path: `/api/users/${id}/deactivate`,
        json: { reason: 'matrix' },
        succeeded: async (res) => {
          expect(res.body).toMatchObject({ id, active: false, revokedTokenIds: [] });
          expect(
            await h.sql(`select 1 from audit_events where action = 'user.deactivated' and payload->>'userId' = $1`, [
              id,
            ]),
          ).toHaveLength(1);
        },
        refused: async () =>
          expect(await h.sql('select active from users where id = $1', [id])).toEqual([{ active: true }]),
      };
    },
  },
  {
    method: 'POST',
    route: '/api/users/{userId}/reactivate',
    allowed: { admin: ok() },
    others: forbidden(/needs the role admin/),
    call: async () => {
      const id = await freshUser(false);
      return {
        path: `/api/users/${id}/reactivate`,
        succeeded: async (res) => expect(res.body).toMatchObject({ id, active: true }),
        refused: async () =>
          expect(await h.sql('select active from users where id = $1', [id])).toEqual([{ active: false }]),
      };
    },
  },
  {
    method: 'GET',
    route: '/api/users/{userId}/tokens',
    allowed: { admin: ok() },
    others: forbidden(/needs the role admin/),
    call: () => ({
      path: `/api/users/${TEST_USERS.approver2.id}/tokens`,
      succeeded: (res) => {
        expect(res.body.total).toBeGreaterThan(0);
        for (const t of res.body.items)
          expect(Object.keys(t).sort()).toEqual(['createdAt', 'expiresAt', 'id', 'label', 'revokedAt', 'userId']);
      },
    }),
  },
  {
    method: 'POST',
    route: '/api/tokens/{tokenId}/revoke',
    allowed: { admin: ok() },
    others: forbidden(/needs the role admin/),
    call: async () => {
      const issued = await createToken(h.database.db, { userId: TEST_USERS.approver2.id, label: 'matrix revoke' });
      return {
        path: `/api/tokens/${issued.id}/revoke`,
        succeeded: async (res) => {
          expect(res.body).toMatchObject({ id: issued.id, revokedAt: expect.any(String) });
          expect((await h.api('GET', '/api/me', { token: issued.token })).status).toBe(401);
        },
        refused: async () => expect((await h.api('GET', '/api/me', { token: issued.token })).status).toBe(200),
      };
    },
  },
  {
    method: 'GET',
    route: '/api/notifications',
    allowed: everyone(),
    call: () => ({
      path: '/api/notifications',
      succeeded: (res) => expect(res.body).toMatchObject({ items: [], page: 1, total: 0 }),
    }),
  },
  {
    method: 'GET',
    route: '/api/me/notification-preferences',
    allowed: everyone(),
    call: () => ({
      path: '/api/me/notification-preferences',
      succeeded: (res) =>
        expect(Object.keys(res.body).sort()).toEqual(['chat', 'digest', 'email', 'language', 'timeZone']),
    }),
  },
  {
    method: 'PUT',
    route: '/api/me/notification-preferences',
    // Every role but the read-only auditor sets its own.
    allowed: allBut(['auditor'], 200),
    others: READ_ONLY,
    call: (role) => ({
      path: '/api/me/notification-preferences',
      json: { email: false, chat: 'dingtalk', language: 'en', timeZone: 'UTC', digest: true },
      succeeded: async (res) => {
        expect(res.body).toEqual({ email: false, chat: 'dingtalk', language: 'en', timeZone: 'UTC', digest: true });
        expect(
          await h.sql('select language from notification_preferences where user_id = $1', [TEST_USERS[role].id]),
        ).toEqual([{ language: 'en' }]);
      },
      refused: async () =>
        expect(
          await h.sql('select 1 from notification_preferences where user_id = $1', [TEST_USERS.auditor.id]),
        ).toEqual([]),
    }),
  },
  {
    method: 'GET',
    route: '/api/notification-deliveries',
    allowed: only(['admin', 'auditor']),
    others: forbidden(/needs the role admin or auditor/),
    call: () => ({
      path: '/api/notification-deliveries',
      succeeded: (res) => expect(res.body).toMatchObject({ items: [], page: 1 }),
    }),
  },
  {
    method: 'POST',
    route: '/api/cases/approval-requests',
    allowed: { manager: ok(201), lead: ok(201) },
    others: forbidden(/needs the role manager/),
    call: () => {
      const key = h.unique('START');
      const caseId = `approval-request:${key}`;
      return {
        path: '/api/cases/approval-requests',
        json: { requestKey: key, title: 'Matrix start', probability: 1, impact: 2 },
        succeeded: async (res) => {
          expect(res.body).toMatchObject({ caseId, workflowId: caseId, riskLevel: 'low', approvalsRequired: 1 });
          await expectTask(h, `${caseId}:approval`);
        },
        refused: () => expectNotStarted(caseId),
      };
    },
  },
  {
    method: 'GET',
    route: '/api/cases',
    allowed: everyone(),
    // Scoped: the shared approval is listed to those who read it, and only to them.
    call: (role) => ({
      path: '/api/cases?pageSize=100',
      succeeded: (res) =>
        expect(res.body.items.map((c: { id: string }) => c.id).includes(f.openApproval.caseId)).toBe(
          OPEN_APPROVAL_READERS.includes(role),
        ),
    }),
  },
  {
    method: 'GET',
    route: '/api/cases/{caseId}',
    // lead started it, owner owns it and its item, approver decided it; the oversight functions read every case.
    allowed: only(CASE_READERS),
    others: noSuchCase(),
    call: () => ({
      path: `/api/cases/${enc(f.rectOpen.caseId)}`,
      succeeded: (res) => {
        expect(res.body.case.id).toBe(f.rectOpen.caseId);
        expect(res.body.tasks.map((t: { id: string }) => t.id)).toContain(f.rectOpen.taskId);
        expect(res.body.evidence.map((e: { id: string }) => e.id)).toContain(f.rectOpen.evidenceId);
        expect(res.body.evidence[0]).not.toHaveProperty('content');
      },
    }),
  },
  {
    method: 'GET',
    route: '/api/tasks/inbox',
    allowed: everyone(),
    call: (role) => ({
      path: '/api/tasks/inbox',
      succeeded: (res) => {
        const ids = (list: Array<{ id: string }>) => list.map((t) => t.id);
        const decides =
          TEST_USERS[role].roles.some((r) => (APPROVER_ROLES as readonly string[]).includes(r)) && role !== 'lead';
        // lead started the shared approval: segregation of duties keeps it out of their inbox.
        expect(ids(res.body.toDecide).includes(f.openApproval.approvalTaskId)).toBe(decides);
        expect(ids(res.body.toDo).includes(f.rectOpen.taskId)).toBe(role === 'owner');
        const verifies = TEST_USERS[role].roles.some((r) => (DEFAULT_VERIFIER_ROLES as readonly string[]).includes(r));
        expect(ids(res.body.toVerify).includes(f.rectSubmitted.taskId)).toBe(verifies);
      },
    }),
  },
  {
    method: 'GET',
    route: '/api/tasks/{taskId}',
    // The item is submitted: every verifier (managers too) is asked to verify it, so reads its case.
    allowed: only([...CASE_READERS, 'manager']),
    others: { status: 404, code: 'NOT_FOUND', message: /^no task / },
    call: () => ({
      path: `/api/tasks/${enc(f.rectSubmitted.taskId)}`,
      succeeded: (res) =>
        expect(res.body).toMatchObject({
          id: f.rectSubmitted.taskId,
          kind: 'rectification',
          status: 'submitted',
          evidenceIds: [f.rectSubmitted.evidenceId],
        }),
    }),
  },
  {
    method: 'POST',
    route: '/api/tasks/{taskId}/decision',
    // The shared approval was started by lead and is owned by owner.
    // Any approving function: risk, compliance, legal.
    allowed: {
      approver: ok(),
      approver2: ok(),
      legal: ok(),
      risk2: ok(),
      lead: refusal(422, 'SEGREGATION_OF_DUTIES', /segregation of duties/),
    },
    // manager, internal audit, owner (action_owner) and admin hold no approving function.
    others: refusal(403, 'ROLE_NOT_PERMITTED', /needs the role risk or compliance or legal/),
    call: async (_role, fresh) => {
      const target = fresh ? await startCase('lead') : f.openApproval;
      return {
        path: `/api/tasks/${enc(target.approvalTaskId)}/decision`,
        json: { decision: 'approve', comment: 'fine' },
        workflowId: target.caseId,
        succeeded: async (res) => {
          expect(res.body).toMatchObject({ taskId: target.approvalTaskId, status: 'approved' });
          expect((await h.temporal.workflow.getHandle(target.caseId).result()).outcome).toBe('approved');
          expect((await caseRow(target.caseId))?.status).toBe('closed');
        },
        refused: async () => {
          const [task] = await h.sql('select status, votes from tasks where id = $1', [target.approvalTaskId]);
          expect(task).toEqual({ status: 'open', votes: [] });
        },
      };
    },
  },
  {
    method: 'POST',
    route: '/api/tasks/{taskId}/submission',
    allowed: { owner: ok() },
    others: refusal(403, 'NOT_THE_OWNER', /only the item owner/),
    call: async (_role, fresh) => {
      const target = fresh ? await rectificationWithEvidence() : f.rectOpen;
      return {
        path: `/api/tasks/${enc(target.taskId)}/submission`,
        json: { evidenceIds: [target.evidenceId], comment: 'done' },
        workflowId: target.taskId,
        succeeded: async (res) => {
          expect(res.body).toEqual({ taskId: target.taskId, status: 'submitted', submissions: 1 });
          const [task] = await h.sql('select status, evidence_ids from tasks where id = $1', [target.taskId]);
          expect(task).toEqual({ status: 'submitted', evidence_ids: [target.evidenceId] });
        },
        refused: async () => {
          const [task] = await h.sql('select status, evidence_ids from tasks where id = $1', [target.taskId]);
          expect(task).toEqual({ status: 'open', evidence_ids: [] });
        },
      };
    },
  },
  {
    method: 'POST',
    route: '/api/tasks/{taskId}/verification',
    allowed: {
      manager: ok(),
      lead: ok(),
      approver: ok(),
      approver2: ok(),
      risk2: ok(),
      internalAudit: ok(),
      owner: refusal(422, 'SEGREGATION_OF_DUTIES', /owner may not verify/),
    },
    others: refusal(403, 'ROLE_NOT_PERMITTED', /needs the role manager or risk or compliance or internal_audit/),
    call: async (_role, fresh) => {
      const target = fresh ? await submittedRectification() : f.rectSubmitted;
      return {
        path: `/api/tasks/${enc(target.taskId)}/verification`,
        json: { verdict: 'accept' },
        workflowId: target.taskId,
        succeeded: async (res) => {
          expect(res.body).toEqual({ taskId: target.taskId, status: 'verified', submissions: 1 });
          // Settle: the parent case closes once its only item is verified.
          expect((await h.temporal.workflow.getHandle(target.caseId).result()).outcome).toBe(
            'approved_with_conditions',
          );
          expect((await caseRow(target.caseId))?.status).toBe('closed');
        },
        refused: async () => {
          const [task] = await h.sql('select status, decided_by from tasks where id = $1', [target.taskId]);
          expect(task).toEqual({ status: 'submitted', decided_by: null });
        },
      };
    },
  },
  {
    method: 'POST',
    route: '/api/cases/{caseId}/evidence',
    // Those with a part in the case (lead started it, owner owns its item, approver decided it); the other
    // oversight functions read it and have no part in it; the rest cannot read it.
    allowed: {
      lead: ok(201),
      owner: ok(201),
      approver: ok(201),
      approver2: noPart(),
      risk2: noPart(),
      internalAudit: noPart(),
    },
    others: noSuchCase(),
    call: (role) => ({
      path: `/api/cases/${enc(f.rectOpen.caseId)}/evidence`,
      form: () => evidenceForm(),
      succeeded: async (res) => {
        expect(res.body).toMatchObject({
          caseId: f.rectOpen.caseId,
          uploadedBy: TEST_USERS[role].id,
          sha256: EVIDENCE_SHA256,
          sizeBytes: 5,
        });
        const [row] = await h.sql('select uploaded_by, size_bytes from evidence where id = $1', [res.body.id]);
        expect(row).toEqual({ uploaded_by: TEST_USERS[role].id, size_bytes: 5 });
      },
    }),
  },
  {
    method: 'GET',
    route: '/api/evidence/{evidenceId}',
    // Evidence follows its case.
    allowed: only(CASE_READERS),
    others: noSuchEvidence(),
    call: () => ({
      path: `/api/evidence/${f.rectOpen.evidenceId}`,
      succeeded: (res) =>
        expect(res.body).toMatchObject({
          id: f.rectOpen.evidenceId,
          caseId: f.rectOpen.caseId,
          sha256: EVIDENCE_SHA256,
          uploadedBy: 'owner',
        }),
    }),
  },
  {
    method: 'GET',
    route: '/api/evidence/{evidenceId}/content',
    allowed: only(CASE_READERS),
    others: noSuchEvidence(),
    call: () => ({
      path: `/api/evidence/${f.rectOpen.evidenceId}/content`,
      succeeded: (res) => {
        expect(res.body).toBe(EVIDENCE_TEXT);
        expect(res.headers.get('x-content-sha256')).toBe(EVIDENCE_SHA256);
        expect(res.headers.get('content-disposition')).toContain('proof.txt');
      },
    }),
  },
  {
    method: 'GET',
    route: '/api/audit/verify',
    // The oversight functions (lead is a risk officer too) and admins.
    allowed: only(['lead', 'approver', 'approver2', 'risk2', 'internalAudit', 'auditor', 'admin']),
    others: forbidden(/needs the role risk or compliance or internal_audit or auditor or admin/),
    call: () => ({
      path: '/api/audit/verify',
      succeeded: (res) => {
        expect(res.body.ok).toBe(true);
        expect(res.body.eventsChecked).toBeGreaterThan(0);
      },
    }),
  },
  {
    method: 'GET',
    route: '/api/audit/cases/{caseId}/verify',
    allowed: only(['lead', 'approver', 'approver2', 'risk2', 'internalAudit', 'auditor', 'admin']),
    others: forbidden(/needs the role risk or compliance or internal_audit or auditor or admin/),
    call: () => ({
      path: `/api/audit/cases/${enc(f.openApproval.caseId)}/verify`,
      succeeded: (res) => expect(res.body).toMatchObject({ ok: true, caseId: f.openApproval.caseId, events: 2 }),
    }),
  },
  {
    method: 'GET',
    route: '/api/audit/events',
    // Scoped: the shared approval's events to those who read it; to anyone else an empty page.
    allowed: everyone(),
    call: (role) => ({
      path: `/api/audit/events?caseId=${enc(f.openApproval.caseId)}`,
      succeeded: (res) =>
        expect(res.body.items.map((e: { action: string }) => e.action)).toEqual(
          OPEN_APPROVAL_READERS.includes(role) ? ['case.opened', 'approval.opened'] : [],
        ),
    }),
  },
  // ---- the policy and internal audit findings
  {
    method: 'GET',
    route: '/api/policy',
    allowed: everyone(),
    call: () => ({
      path: '/api/policy',
      succeeded: (res) => expect(res.body).toMatchObject({ version: expect.any(Number), values: expect.any(Object) }),
    }),
  },
  {
    method: 'GET',
    route: '/api/policy/versions/{version}',
    allowed: everyone(),
    call: () => ({
      path: '/api/policy/versions/1',
      succeeded: (res) => expect(res.body).toMatchObject({ version: 1, approvedBy: [] }),
    }),
  },
  {
    method: 'POST',
    route: '/api/policy/changes',
    // Compliance alone requests a change; two other functions decide it.
    allowed: { approver2: ok(201) },
    others: forbidden(/needs the role compliance/),
    call: () => {
      const changeKey = h.unique('POL');
      const caseId = `policy-change:${changeKey}`;
      return {
        path: '/api/policy/changes',
        json: {
          changeKey,
          summary: 'Complaint result within 36 hours',
          change: { complaint: { resultWithin: '36h' } },
        },
        succeeded: async (res) => {
          expect(res.body).toMatchObject({ caseId, basedOnVersion: 1, changed: ['complaint.resultWithin'] });
          caseWorkflows.add(caseId);
          await expectTask(h, `${caseId}:approval`);
          await finishCase(caseId);
        },
        refused: () => expectNotStarted(caseId),
      };
    },
  },
  {
    method: 'POST',
    route: '/api/audit-findings',
    allowed: { internalAudit: ok(201) },
    others: forbidden(/needs the role internal_audit/),
    call: () => {
      const findingKey = h.unique('AF');
      const caseId = `audit-finding:${findingKey}`;
      return {
        path: '/api/audit-findings',
        json: {
          findingKey,
          title: 'Access reviews not recorded',
          description: 'No evidence of quarterly access reviews.',
          severity: 'medium',
          area: 'data_security',
          remedy: 'rectification',
          ownerId: 'owner',
        },
        succeeded: async (res) => {
          expect(res.body).toMatchObject({ caseId, remedyCaseId: `${caseId}:rectification:1`, stage: 'rectification' });
          caseWorkflows.add(caseId);
          await expectTask(h, `${caseId}:rectification:1`);
          // Ending its item ends the finding: it records the failure and closes.
          await finishCase(`${caseId}:rectification:1`);
          await h.temporal.workflow.getHandle(caseId).result();
          caseWorkflows.delete(caseId);
        },
        refused: () => expectNotStarted(caseId),
      };
    },
  },
  // ---- the audit programme (issue 12 §4)
  {
    method: 'POST',
    route: '/api/audits',
    allowed: { internalAudit: ok(201) },
    others: forbidden(/needs the role internal_audit/),
    call: () => {
      const auditKey = h.unique('AUD');
      const caseId = `audit:${auditKey}`;
      return {
        path: '/api/audits',
        json: { auditKey, type: 'data_security', title: 'Matrix check', scope: 'All', auditeeOwnerId: 'owner' },
        succeeded: async (res) => {
          expect(res.body).toMatchObject({ caseId, stage: 'fieldwork' });
          expect(res.body.checklist).toHaveLength(6);
          caseWorkflows.add(caseId);
          await finishCase(caseId);
        },
        refused: () => expectNotStarted(caseId),
      };
    },
  },
  {
    method: 'POST',
    route: '/api/audits/{auditKey}/fieldwork',
    allowed: { internalAudit: ok() },
    others: refusal(403, 'ROLE_NOT_PERMITTED', /internal audit records the fieldwork/),
    call: async (_role, fresh) => {
      const target = await auditTarget('fieldwork', fresh);
      return {
        path: `/api/audits/${enc(target.auditKey)}/fieldwork`,
        json: {
          results: ['access_logs', 'operation_records', 'incident_response'].map((itemId) => ({
            itemId,
            result: 'not_applicable',
          })),
        },
        workflowId: target.caseId,
        succeeded: async (res) => {
          expect(res.body).toEqual({ stage: 'findings' });
          await finishCase(target.caseId);
        },
        refused: async () => expect((await caseRow(target.caseId))?.stage).toBe('fieldwork'),
      };
    },
  },
  {
    method: 'POST',
    route: '/api/audits/{auditKey}/findings',
    allowed: { internalAudit: ok() },
    others: refusal(403, 'ROLE_NOT_PERMITTED', /internal audit records the findings/),
    call: async (_role, fresh) => {
      const target = await auditTarget('findings', fresh);
      return {
        path: `/api/audits/${enc(target.auditKey)}/findings`,
        json: { findings: [] },
        workflowId: target.caseId,
        succeeded: async (res) => {
          expect(res.body).toEqual({ stage: 'awaiting_approval' });
          await expectTask(h, `${target.caseId}:report-approval`);
          await finishCase(target.caseId);
        },
        refused: async () => expect((await caseRow(target.caseId))?.stage).toBe('findings'),
      };
    },
  },
  {
    method: 'POST',
    route: '/api/audits/{auditKey}/responses',
    // The finding's owner only: the API lets every acting role through, the workflow's validator refuses them.
    allowed: { owner: ok() },
    others: refusal(403, 'ROLE_NOT_PERMITTED', /the finding’s owner responds to it/),
    call: async (_role, fresh) => {
      const target = await auditTarget('responses', fresh);
      return {
        path: `/api/audits/${enc(target.auditKey)}/responses`,
        json: { findingKey: 'F1', response: 'dispute', reason: 'Logs reviewed weekly; see ticket 42' },
        workflowId: target.caseId,
        succeeded: async (res) => {
          expect(res.body).toMatchObject({ stage: 'awaiting_approval', findingKey: 'F1', response: 'dispute' });
          await finishCase(target.caseId);
        },
        refused: async () => {
          const row = await caseRow(target.caseId);
          expect(row?.stage).toBe('responses');
          expect((row?.data as { findings: Array<{ response?: unknown }> }).findings[0]?.response).toBeUndefined();
        },
      };
    },
  },
  {
    method: 'GET',
    route: '/api/audits/{auditKey}/report',
    // The audit's people (ia1 started it, owner owns it) and the oversight functions.
    allowed: only(['lead', 'approver', 'approver2', 'risk2', 'internalAudit', 'owner', 'auditor']),
    others: { status: 404, code: 'NOT_FOUND', message: /^no audit / },
    call: async () => {
      const target = await auditTarget('fieldwork', false);
      return {
        path: `/api/audits/${enc(target.auditKey)}/report`,
        succeeded: (res) =>
          expect(res.body).toMatchObject({ caseId: target.caseId, status: 'open', stage: 'fieldwork' }),
      };
    },
  },
  {
    method: 'GET',
    route: '/api/audits/{auditKey}/report.html',
    allowed: only(['lead', 'approver', 'approver2', 'risk2', 'internalAudit', 'owner', 'auditor']),
    others: { status: 404, code: 'NOT_FOUND', message: /^no audit / },
    call: async () => {
      const target = await auditTarget('fieldwork', false);
      return {
        path: `/api/audits/${enc(target.auditKey)}/report.html`,
        succeeded: (res) => expect(String(res.body)).toContain('审计报告'),
      };
    },
  },
  {
    method: 'POST',
    route: '/api/audit-plans',
    allowed: { internalAudit: ok(201) },
    others: forbidden(/needs the role internal_audit/),
    call: () => {
      // A year of its own for each successful call: one plan per year.
      const year = nextPlanYear++;
      const key = h.unique('DSC');
      return {
        path: '/api/audit-plans',
        json: {
          year,
          audits: [{ auditKey: key, type: 'data_security', title: 'Data-security check', plannedFor: `${year}-06` }],
        },
        succeeded: (res) => expect(res.body).toEqual({ year, audits: 1 }),
        refused: async () =>
          expect(await h.sql('select 1 from audit_plan_entries where audit_key = $1', [key])).toEqual([]),
      };
    },
  },
  {
    method: 'POST',
    route: '/api/audit-plans/{year}/audits',
    allowed: { internalAudit: ok(200) },
    others: forbidden(/needs the role internal_audit/),
    call: async () => {
      // The year's plan exists (as the annual Schedule opens it); each call adds an audit of its own.
      await h.sql(
        `insert into audit_plan_entries (year, audit_key, type, title, planned_for, created_by)
         values (2098, 'MATRIX-DSC-2098', 'data_security', 'Data-security check', '2098-01', 'system') on conflict do nothing`,
      );
      const key = h.unique('MATRIX-ADD');
      return {
        path: '/api/audit-plans/2098/audits',
        json: { audits: [{ auditKey: key, type: 'compliance', title: 'Compliance audit', plannedFor: '2098-09' }] },
        succeeded: (res) => expect(res.body).toMatchObject({ year: 2098, added: [key], alreadyPlanned: [] }),
        refused: async () =>
          expect(await h.sql('select 1 from audit_plan_entries where audit_key = $1', [key])).toEqual([]),
      };
    },
  },
  {
    method: 'GET',
    route: '/api/audit-plans/{year}',
    allowed: only(['manager', 'lead', 'approver', 'approver2', 'risk2', 'internalAudit', 'auditor', 'admin']),
    others: forbidden(/needs the role internal_audit or compliance or risk or manager or auditor or admin/),
    call: async () => {
      // 404 for a reader when the year has no plan: plan one year once for this row.
      await h.sql(
        `insert into audit_plan_entries (year, audit_key, type, title, planned_for, created_by)
         values (2099, 'MATRIX-DSC-2099', 'data_security', 'Data-security check', '2099-06', 'ia1') on conflict do nothing`,
      );
      return {
        path: '/api/audit-plans/2099',
        succeeded: (res) =>
          expect(res.body.audits).toEqual([
            expect.objectContaining({ auditKey: 'MATRIX-DSC-2099', status: 'not_started' }),
          ]),
      };
    },
  },
  // ---- the risk register (issue 12 §1)
  {
    method: 'POST',
    route: '/api/risks',
    allowed: only(['manager', 'lead', 'approver', 'risk2'], 201),
    others: forbidden(/needs the role manager or risk/),
    call: (role) => {
      const riskKey = `RISK-AM-${role.toUpperCase()}-${Math.random().toString(36).slice(2, 8).toUpperCase()}`;
      return {
        path: '/api/risks',
        json: {
          riskKey,
          title: `Raised by ${role}`,
          category: 'operational',
          description: 'd',
          cause: 'c',
          consequence: 'q',
          ownerId: 'owner',
          lineOfDefence: 'first',
          inherent: { probability: 3, impact: 3 },
          residual: { probability: 2, impact: 2 },
        },
        succeeded: async (res) => {
          expect(res.body).toMatchObject({ key: riskKey, residual: { score: 4, level: 'low' }, version: 1 });
          expect(await riskVersions(riskKey)).toBe(1);
        },
        refused: async () => expect(await h.sql('select 1 from risks where key = $1', [riskKey])).toEqual([]),
      };
    },
  },
  {
    method: 'PATCH',
    route: '/api/risks/{riskKey}',
    // mgr holds manager but is not the owner's line manager.
    allowed: {
      lead: ok(),
      approver: ok(),
      risk2: ok(),
      manager: refusal(403, 'NOT_RISK_EDITOR', /only the risk function or the risk owner's line manager/),
    },
    others: forbidden(/needs the role manager or risk/),
    call: async (role, fresh) => {
      const riskKey = fresh ? await newRisk() : f.riskKey;
      return {
        path: `/api/risks/${riskKey}`,
        json: { title: `Renamed by ${role}`, reason: 'wording' },
        succeeded: async (res) => {
          expect(res.body).toMatchObject({ title: `Renamed by ${role}`, version: 2 });
          expect(await riskVersions(riskKey)).toBe(2);
        },
        refused: async () => expect(await riskVersions(riskKey)).toBe(1),
      };
    },
  },
  {
    method: 'GET',
    route: '/api/risks',
    allowed: everyone(),
    call: () => ({ path: '/api/risks?category=technical&pageSize=5' }),
  },
  {
    method: 'GET',
    route: '/api/risks/{riskKey}',
    allowed: everyone(),
    call: () => ({
      path: `/api/risks/${f.riskKey}`,
      succeeded: (res) => expect(res.body).toMatchObject({ key: f.riskKey, residual: { level: 'medium' } }),
    }),
  },
  {
    method: 'GET',
    route: '/api/risks/{riskKey}/versions',
    allowed: everyone(),
    call: () => ({ path: `/api/risks/${f.riskKey}/versions` }),
  },
  {
    method: 'POST',
    route: '/api/risks/{riskKey}/controls',
    allowed: {
      lead: ok(201),
      approver: ok(201),
      risk2: ok(201),
      manager: refusal(403, 'NOT_RISK_EDITOR', /only the risk function or the risk owner's line manager/),
    },
    others: forbidden(/needs the role manager or risk/),
    call: async (_role, fresh) => {
      const riskKey = fresh ? await newRisk() : f.riskKey;
      const before = (await h.sql('select count(*)::int as n from risk_controls where risk_key = $1', [riskKey]))[0].n;
      return {
        path: `/api/risks/${riskKey}/controls`,
        json: { title: 'Weekly reconciliation', ownerId: 'owner', frequency: 'weekly' },
        succeeded: (res) => expect(res.body).toMatchObject({ frequency: 'weekly', lastTest: { result: 'not_tested' } }),
        refused: async () =>
          expect(
            (await h.sql('select count(*)::int as n from risk_controls where risk_key = $1', [riskKey]))[0].n,
          ).toBe(before),
      };
    },
  },
  {
    method: 'POST',
    route: '/api/risks/{riskKey}/controls/{controlId}/tests',
    allowed: only(['lead', 'approver', 'approver2', 'risk2', 'internalAudit'], 201),
    others: forbidden(/needs the role risk or compliance or internal_audit/),
    call: async (role, fresh) => {
      const riskKey = fresh ? await newRisk() : f.riskKey;
      const controlId = fresh ? await newRiskControl(riskKey) : f.riskControlId;
      return {
        path: `/api/risks/${riskKey}/controls/${controlId}/tests`,
        json: { result: 'effective', note: `tested by ${role}` },
        succeeded: (res) =>
          expect(res.body.lastTest).toMatchObject({ result: 'effective', testedBy: TEST_USERS[role].id }),
        refused: async () =>
          expect(await h.sql('select 1 from risk_control_tests where control_id = $1', [controlId])).toEqual([]),
      };
    },
  },
  {
    method: 'POST',
    route: '/api/risks/{riskKey}/links',
    allowed: only(['manager', 'lead', 'approver', 'approver2', 'risk2', 'internalAudit'], 201),
    others: forbidden(/needs the role manager or risk or compliance or internal_audit/),
    call: async (_role, fresh) => {
      const riskKey = fresh ? await newRisk() : f.riskKey;
      return {
        path: `/api/risks/${riskKey}/links`,
        json: { caseId: f.riskLinkCaseId },
        succeeded: (res) => expect(res.body).toMatchObject({ caseId: f.riskLinkCaseId, process: 'approval_request' }),
        refused: async () => expect(await h.sql('select 1 from risk_links where risk_key = $1', [riskKey])).toEqual([]),
      };
    },
  },
  {
    method: 'POST',
    route: '/api/risks/{riskKey}/acceptances',
    // The risk's owner (owner) or a manager; no role middleware, so everyone else gets the rule's refusal.
    allowed: { manager: ok(201), lead: ok(201), owner: ok(201) },
    others: refusal(403, 'NOT_OWNER_OR_MANAGER', /only the risk owner or a manager may ask to accept a risk/),
    call: async (_role, fresh) => {
      const riskKey = fresh ? await newRisk() : f.riskKey;
      const caseId = `risk-acceptance:${riskKey}:1`;
      return {
        path: `/api/risks/${riskKey}/acceptances`,
        json: { reason: 'tolerable for a quarter', expiresAt: new Date(Date.now() + 90 * 86_400_000).toISOString() },
        succeeded: async (res) => {
          expect(res.body).toMatchObject({ caseId, approvalTaskId: `${caseId}:approval`, approvalsRequired: 1 });
          caseWorkflows.add(caseId);
          await expectTask(h, `${caseId}:approval`);
          await finishCase(caseId);
        },
        refused: () => expectNotStarted(caseId),
      };
    },
  },
  // ---- risk warnings (issue 12 §3)
  {
    method: 'POST',
    route: '/api/kris',
    allowed: only(['manager', 'lead', 'approver', 'risk2'], 201),
    others: forbidden(/needs the role manager or risk/),
    call: (role) => {
      const kriKey = `KRI-AM-${role.toUpperCase()}-${Math.random().toString(36).slice(2, 8).toUpperCase()}`;
      return {
        path: '/api/kris',
        json: {
          kriKey,
          name: `Defined by ${role}`,
          direction: 'above',
          thresholds: { general: 10, elevated: 20, major: 30 },
          ownerId: 'mgr',
        },
        succeeded: async (res) => {
          expect(res.body).toMatchObject({
            kriKey,
            ownerId: 'mgr',
            thresholds: { general: 10, elevated: 20, major: 30 },
          });
        },
        refused: async () =>
          expect(await h.sql('select 1 from key_risk_indicators where key = $1', [kriKey])).toEqual([]),
      };
    },
  },
  {
    method: 'GET',
    route: '/api/kris',
    allowed: everyone(),
    call: () => ({ path: '/api/kris?pageSize=5' }),
  },
  {
    method: 'GET',
    route: '/api/kris/{kriKey}',
    allowed: everyone(),
    call: () => ({
      path: `/api/kris/${f.kriKey}`,
      succeeded: (res) => expect(res.body).toMatchObject({ kriKey: f.kriKey, direction: 'above' }),
    }),
  },
  {
    method: 'POST',
    route: '/api/kris/{kriKey}/observations',
    // The monitoring system posts as a service user holding risk (or a manager's token).
    allowed: only(['manager', 'lead', 'approver', 'risk2'], 201),
    others: forbidden(/needs the role manager or risk/),
    call: (role) => {
      const alertKey = `AM-${role.toUpperCase()}-${Math.random().toString(36).slice(2, 8).toUpperCase()}`;
      return {
        path: `/api/kris/${f.kriKey}/observations`,
        // Below every threshold: recorded, no warning case to end.
        json: { alertKey, value: 1, observedAt: new Date().toISOString() },
        succeeded: async (res) => {
          expect(res.body).toMatchObject({ observation: { alertKey, level: null }, warning: null });
        },
        refused: async () =>
          expect(await h.sql('select 1 from kri_observations where alert_key = $1', [alertKey])).toEqual([]),
      };
    },
  },
  // ---- the periodic risk assessment (issue 12 §2)
  {
    method: 'POST',
    route: '/api/risk-assessments',
    allowed: only(['manager', 'lead', 'approver', 'risk2'], 201),
    others: forbidden(/needs the role manager or risk/),
    call: async (role, fresh) => {
      // The refused calls name a quarter that must stay unopened.
      if (fresh) await newRisk();
      const period = fresh ? `${nextAssessmentYear++}-Q2` : '2000-Q4';
      return {
        path: '/api/risk-assessments',
        json: { period },
        succeeded: async (res) => {
          caseWorkflows.add(res.body.caseId);
          expect(res.body).toMatchObject({ caseId: `risk-assessment:${period}`, period, stage: 'rating' });
          expect(res.body.owners).toContain('owner');
          await finishCase(res.body.caseId);
        },
        refused: async () =>
          expect(await h.sql('select 1 from cases where id = $1', [`risk-assessment:${period}`])).toEqual([]),
      };
    },
  },
  {
    method: 'POST',
    route: '/api/risk-assessments/{period}/ratings',
    // Any acting user may own a risk; who owns none in scope owes nothing (409, a state of the case).
    allowed: {
      owner: ok(),
      ...Object.fromEntries(
        (['manager', 'lead', 'approver', 'approver2', 'legal', 'risk2', 'internalAudit', 'admin'] as const).map((r) => [
          r,
          refusal(409, 'NO_RATING_OWED', /no re-rating is owed by you/),
        ]),
      ),
    },
    others: READ_ONLY,
    call: async (role, fresh) => {
      const target = fresh ? await assessmentAt() : f.riskAssessment;
      const versions = async () =>
        (await h.sql("select count(*)::int as n from risk_versions where reason like 'risk assessment %'"))[0].n;
      const before = await versions();
      return {
        path: `/api/risk-assessments/${target.period}/ratings`,
        json: ownersRatings(target.scope, 'owner'),
        workflowId: target.caseId,
        succeeded: async (res) => {
          expect(res.body.rated.map((r: { riskKey: string }) => r.riskKey).sort()).toEqual(
            target.scope
              .filter((r) => r.ownerId === 'owner')
              .map((r) => r.riskKey)
              .sort(),
          );
          expect(await versions()).toBeGreaterThan(before);
          await finishCase(target.caseId);
        },
        refused: async () => expect(await versions()).toBe(before),
        cleanup: fresh ? () => finishCase(target.caseId) : undefined,
      };
    },
  },
  {
    method: 'GET',
    route: '/api/risk-assessments/{period}/report',
    // The report follows its case: oversight, its initiator (lead), and the owners with a rating step.
    // Verify the owner set against the register at fixture time (every risk owner in the DB has a step).
    allowed: only([...OVERSIGHT, 'owner']),
    others: { status: 404, code: 'NOT_FOUND', message: /^no risk assessment for / },
    call: () => ({
      path: `/api/risk-assessments/${f.riskAssessment.period}/report`,
      succeeded: (res) => {
        expect(res.body).toMatchObject({ caseId: f.riskAssessment.caseId, status: 'open', stage: 'rating' });
        expect(res.body.heatMap).toHaveLength(25);
      },
    }),
  },
  {
    method: 'GET',
    route: '/api/risk-assessments/{period}/report.html',
    allowed: only([...OVERSIGHT, 'owner']),
    others: { status: 404, code: 'NOT_FOUND', message: /^no risk assessment for / },
    call: () => ({
      path: `/api/risk-assessments/${f.riskAssessment.period}/report.html`,
      succeeded: (res) => {
        expect(res.headers.get('content-type')).toMatch(/^text\/html/);
        expect(res.body).toContain('风险评估报告');
      },
    }),
  },
  {
    method: 'GET',
    route: '/api/reports/control-effectiveness.csv',
    allowed: everyone(),
    call: () => ({
      path: '/api/reports/control-effectiveness.csv?periodDays=30',
      succeeded: (res) => {
        expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
        expect(String(res.body).split('\r\n')[0]).toBe('figure,label_en,label_zh,value,numerator,denominator,method');
      },
    }),
  },
  // ---- periodic risk reports (issue 12 §5)
  {
    method: 'POST',
    route: '/api/risk-reports',
    allowed: only(['lead', 'approver', 'risk2'], 201),
    others: forbidden(/needs the role risk/),
    call: () => {
      const period = String(2000 + ++riskReportYear);
      const caseId = `risk-report:management:${period}`;
      return {
        path: '/api/risk-reports',
        json: { audience: 'management', period },
        succeeded: async (res) => {
          expect(res.body).toMatchObject({
            caseId,
            status: 'awaiting_approval',
            sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
          });
          caseWorkflows.add(caseId);
          await expectTask(h, `${caseId}:release`);
          await finishCase(caseId);
        },
        refused: () => expectNotStarted(caseId),
      };
    },
  },
  {
    method: 'GET',
    route: '/api/risk-reports/{audience}/{period}',
    allowed: only(['manager', 'lead', 'approver', 'approver2', 'legal', 'risk2', 'internalAudit', 'auditor', 'admin']),
    others: forbidden(/needs the role manager or risk or compliance or legal or internal_audit or auditor or admin/),
    call: async () => {
      // One report, prepared once for every role's read.
      if (!riskReportFixture) {
        const res = await h.api('POST', '/api/risk-reports', {
          as: 'approver',
          json: { audience: 'regulator', period: '2001-Q1' },
        });
        expect(res.status).toBe(201);
        // It waits for its release for the rest of the file: a shared target like the fixtures.
        riskReportFixture = res.body.caseId;
      }
      return {
        path: '/api/risk-reports/regulator/2001-Q1',
        succeeded: (res) => {
          expect(res.body).toMatchObject({
            caseId: 'risk-report:regulator:2001-Q1',
            status: 'awaiting_approval',
            preparedBy: 'appr1',
          });
          expect(res.body.content).toHaveProperty('riskProfile');
        },
      };
    },
  },
  // ---- the supplier registry
  {
    method: 'POST',
    route: '/api/suppliers',
    allowed: { manager: ok(201), lead: ok(201), admin: ok(201) },
    others: forbidden(/needs the role manager or admin/),
    call: (role) => {
      const creditCode = newCreditCode();
      return {
        path: '/api/suppliers',
        json: { creditCode, name: `Registered by ${role}`, category: 'logistics', tier: 'general' },
        succeeded: async (res) => {
          expect(res.body).toMatchObject({
            id: creditCode,
            creditCode,
            name: `Registered by ${role}`,
            // Pending until its first review is approved (issue 11 §6).
            status: 'pending',
            // The caller owns it when no owner is named.
            ownerId: TEST_USERS[role].id,
          });
          expect(
            await h.sql(
              `select actor_id from audit_events where action = 'supplier.registered' and payload->>'supplierId' = $1`,
              [creditCode],
            ),
          ).toEqual([{ actor_id: TEST_USERS[role].id }]);
        },
        refused: async () => expect(await h.sql('select 1 from suppliers where id = $1', [creditCode])).toHaveLength(0),
      };
    },
  },
  {
    method: 'GET',
    route: '/api/suppliers',
    allowed: everyone(),
    call: () => ({
      path: '/api/suppliers?pageSize=100',
      succeeded: (res) => {
        expect(res.body.items.map((s: { id: string }) => s.id)).toContain(f.supplierId);
        expect(res.body.total).toBe(res.body.items.length);
      },
    }),
  },
  {
    method: 'GET',
    route: '/api/suppliers/{supplierId}',
    allowed: everyone(),
    call: (role) => ({
      path: `/api/suppliers/${f.supplierId}`,
      succeeded: (res) => {
        expect(res.body.supplier).toMatchObject({ id: f.supplierId, status: 'active', ownerId: 'mgr' });
        expect(res.body.performance).toContainEqual(expect.objectContaining({ year: 2025, ...PERFORMANCE }));
        // Its reviews as far as the caller reads them: mgr reviews them, lead started them, and the one
        // waiting for documents waits for any action owner too.
        const reviews = res.body.reviews.map((c: { id: string }) => c.id);
        for (const review of [f.reviewChecks, f.reviewScoring])
          expect(reviews.includes(review.caseId), `${role} ${review.caseId}`).toBe(REPORT_READERS.includes(role));
        expect(reviews.includes(f.reviewDocuments.caseId)).toBe([...REPORT_READERS, 'owner'].includes(role));
      },
    }),
  },
  {
    method: 'PATCH',
    route: '/api/suppliers/{supplierId}',
    allowed: { manager: ok(), lead: ok(), admin: ok() },
    others: forbidden(/needs the role manager or admin/),
    call: async (role, fresh) => {
      const supplierId = fresh ? await drive.registerSupplier({ name: 'To retier', status: 'pending' }) : f.supplierId;
      return {
        path: `/api/suppliers/${supplierId}`,
        // Status changes go through an approval case (POST …/status-changes); an edit changes the rest.
        json: { tier: 'general', reason: 'smaller volumes' },
        succeeded: async (res) => {
          expect(res.body).toMatchObject({ id: supplierId, tier: 'general' });
          expect(
            await h.sql(
              `select actor_id, reason from audit_events where action = 'supplier.updated' and payload->>'supplierId' = $1`,
              [supplierId],
            ),
          ).toEqual([{ actor_id: TEST_USERS[role].id, reason: 'smaller volumes' }]);
        },
        refused: async () => {
          const [row] = await h.sql('select status, tier from suppliers where id = $1', [supplierId]);
          expect(row).toEqual({ status: 'active', tier: 'core' });
        },
      };
    },
  },
  {
    method: 'POST',
    route: '/api/suppliers/{supplierId}/status-changes',
    allowed: only(['manager', 'lead', 'approver', 'approver2', 'legal', 'risk2'], 201),
    others: forbidden(/needs the role manager or risk or compliance or legal/),
    call: async (role, fresh) => {
      const supplierId = fresh ? await drive.registerSupplier({ status: 'pending' }) : f.supplierId;
      const caseId = `supplier-status-change:${supplierId}:1`;
      return {
        path: `/api/suppliers/${supplierId}/status-changes`,
        json: { change: 'suspend', reason: 'quality hold' },
        succeeded: async (res) => {
          expect(res.body).toMatchObject({ caseId });
          caseWorkflows.add(caseId);
          await expectTask(h, `${caseId}:approval`);
          const [row] = await h.sql('select initiator_id, stage from cases where id = $1', [caseId]);
          expect(row).toEqual({ initiator_id: TEST_USERS[role].id, stage: 'awaiting_approval' });
          await finishCase(caseId);
        },
        refused: () => expectNotStarted(caseId),
      };
    },
  },
  {
    method: 'POST',
    route: '/api/suppliers/{supplierId}/reassessments',
    allowed: { manager: ok(201), lead: ok(201) },
    others: forbidden(/needs the role manager$/),
    call: async (role, fresh) => {
      const supplierId = fresh ? await drive.registerSupplier({ status: 'pending' }) : f.supplierId;
      const caseId = `supplier-review:${supplierId}:${new Date().getUTCFullYear()}-r1`;
      return {
        path: `/api/suppliers/${supplierId}/reassessments`,
        json: { trigger: 'performance', reason: 'delivery delays doubled this quarter' },
        succeeded: async (res) => {
          expect(res.body).toMatchObject({ caseId, round: 1 });
          reviewWorkflows.add(caseId);
          await expectTask(h, `${caseId}:documents`);
          const [row] = await h.sql('select initiator_id from cases where id = $1', [caseId]);
          expect(row).toEqual({ initiator_id: TEST_USERS[role].id });
          await finishReview(caseId);
        },
        refused: () => expectNotStarted(caseId),
      };
    },
  },
  {
    method: 'PUT',
    route: '/api/suppliers/{supplierId}/performance/{year}',
    allowed: { manager: ok(), lead: ok(), admin: ok() },
    others: forbidden(/needs the role manager or admin/),
    call: (role, fresh) => {
      // A year of the shared supplier's record nobody has written: a fresh one per success.
      const year = fresh ? performanceYear++ : REFUSED_PERFORMANCE_YEAR;
      const record = { ...PERFORMANCE, complaints: 7 };
      return {
        path: `/api/suppliers/${f.supplierId}/performance/${year}`,
        json: record,
        succeeded: async (res) => {
          expect(res.body).toEqual({ year, ...record });
          const [row] = await h.sql(
            'select complaints, recorded_by from supplier_performance where supplier_id = $1 and year = $2',
            [f.supplierId, year],
          );
          expect(row).toEqual({ complaints: 7, recorded_by: TEST_USERS[role].id });
        },
        refused: async () =>
          expect(
            await h.sql('select 1 from supplier_performance where supplier_id = $1 and year = $2', [
              f.supplierId,
              year,
            ]),
          ).toHaveLength(0),
      };
    },
  },

  // ---- supplier reviews
  {
    method: 'POST',
    route: '/api/supplier-reviews',
    // Managers only: admins administer users and suppliers, not reviews.
    allowed: { manager: ok(201), lead: ok(201) },
    others: forbidden(/needs the role manager$/),
    call: (role, fresh) => {
      const year = fresh ? freshReviewYear() : REFUSED_REVIEW_YEAR;
      const caseId = `supplier-review:${f.supplierId}:${year}`;
      return {
        path: '/api/supplier-reviews',
        json: { supplierId: f.supplierId, year },
        succeeded: async (res) => {
          expect(res.body).toMatchObject({ caseId, runId: expect.any(String) });
          reviewWorkflows.add(caseId);
          await expectTask(h, `${caseId}:documents`);
          const [row] = await h.sql('select initiator_id, owner_id, stage from cases where id = $1', [caseId]);
          expect(row).toEqual({ initiator_id: TEST_USERS[role].id, owner_id: 'mgr', stage: 'documents' });
          await finishReview(caseId);
        },
        refused: () => expectNotStarted(caseId),
      };
    },
  },
  {
    method: 'POST',
    route: '/api/supplier-reviews/campaigns',
    allowed: { manager: ok(), lead: ok() },
    others: forbidden(/needs the role manager$/),
    call: (_role, fresh) => {
      const year = fresh ? campaignYear++ : REFUSED_CAMPAIGN_YEAR;
      return {
        path: '/api/supplier-reviews/campaigns',
        json: { year },
        succeeded: async (res) => {
          const active = await h.sql(
            `select id from suppliers where status in ('pending', 'active', 'restricted') order by id`,
          );
          const started = res.body.started as Array<{ supplierId: string; caseId: string }>;
          expect(res.body.year).toBe(year);
          // The answer lists the first hundred; the matrix's suppliers are fewer, so all of them.
          expect(res.body.startedCount).toBe(active.length);
          expect(active.length).toBeLessThanOrEqual(100);
          expect(started.map((s) => s.supplierId).sort()).toEqual(active.map((r) => r.id).sort());
          expect(started.map((s) => s.supplierId)).toContain(f.supplierId);
          for (const s of started) expect(s.caseId).toBe(`supplier-review:${s.supplierId}:${year}`);
          // Suspended suppliers (the PATCH row's) are skipped with the reason.
          for (const s of res.body.skipped) expect(s.reason).toBe('not_reviewable');
          // Settle, then end them: every review of the year is opened before the next snapshot.
          for (const s of started) reviewWorkflows.add(s.caseId);
          for (const s of started) {
            await expectTask(h, `${s.caseId}:documents`);
            await finishReview(s.caseId);
          }
        },
        refused: async () => {
          expect(await h.sql(`select 1 from cases where id like $1`, [`supplier-review:%:${year}`])).toHaveLength(0);
          await expectNotStarted(`supplier-review:${f.supplierId}:${year}`);
        },
      };
    },
  },
  {
    method: 'POST',
    route: '/api/supplier-reviews/{caseId}/documents',
    // The workflow takes documents from the reviewer, managers and action owners.
    allowed: {
      manager: ok(),
      lead: ok(),
      owner: ok(),
    },
    // approver, approver2 and admin: refused (by the route, with the
    // workflow validator's rule) before the file is stored.
    others: refusal(403, 'ROLE_NOT_PERMITTED', /supplied by the reviewer, a manager or an action owner/),
    call: async (role, fresh) => {
      const target = fresh ? await reviewAtDocuments(f.supplierId, freshReviewYear()) : f.reviewDocuments;
      return {
        path: `/api/supplier-reviews/${enc(target.caseId)}/documents`,
        form: () => documentForm('business_licence'),
        workflowId: target.caseId,
        succeeded: async (res) => {
          expect(res.body).toMatchObject({
            stage: 'documents',
            received: ['business_licence'],
            missing: ['operating_permit', 'financial_statements', 'product_certificates'],
            sha256: EVIDENCE_SHA256,
          });
          const [row] = await h.sql('select case_id, uploaded_by, document_type from evidence where id = $1', [
            res.body.evidenceId,
          ]);
          expect(row).toEqual({
            case_id: target.caseId,
            uploaded_by: TEST_USERS[role].id,
            document_type: 'business_licence',
          });
          expect((await reviewData(target.caseId)).data.documents).toMatchObject({
            business_licence: { evidenceId: res.body.evidenceId, by: TEST_USERS[role].id },
          });
          await finishReview(target.caseId);
        },
        refused: async () => {
          expect(await reviewData(target.caseId)).toMatchObject({ stage: 'documents', data: { documents: {} } });
        },
      };
    },
  },
  {
    method: 'POST',
    route: '/api/supplier-reviews/{caseId}/checks',
    // Only the review's reviewer (mgr); lead is a manager too, but not the reviewer.
    allowed: { manager: ok() },
    others: refusal(403, 'ROLE_NOT_PERMITTED', /reviewer enters the checks/),
    call: async (_role, fresh) => {
      const target = fresh ? await reviewAtChecks(f.supplierId, freshReviewYear()) : f.reviewChecks;
      return {
        path: `/api/supplier-reviews/${enc(target.caseId)}/checks`,
        json: { creditRating: 'A', creditAgency: 'China Chengxin', backgroundCheck: 'concerns', notes: 'matrix' },
        workflowId: target.caseId,
        succeeded: async (res) => {
          // The Update answers once the checks are written; by then the workflow may already have moved on.
          expect(['checks', 'scoring']).toContain(res.body.stage);
          // Settle: the workflow moves on to scoring.
          await expectTask(h, `${target.caseId}:scoring`);
          const review = await reviewData(target.caseId);
          expect(review.stage).toBe('scoring');
          expect(review.data.checks).toMatchObject({ creditRating: 'A', backgroundCheck: 'concerns', by: 'mgr' });
          await finishReview(target.caseId);
        },
        refused: async () => {
          const review = await reviewData(target.caseId);
          expect(review.stage).toBe('checks');
          expect(review.data).not.toHaveProperty('checks');
        },
      };
    },
  },
  {
    method: 'POST',
    route: '/api/supplier-reviews/{caseId}/scores',
    allowed: { manager: ok() },
    others: refusal(403, 'ROLE_NOT_PERMITTED', /reviewer scores it/),
    call: async (_role, fresh) => {
      const target = fresh ? await reviewAtScoring(f.supplierId, freshReviewYear()) : f.reviewScoring;
      return {
        path: `/api/supplier-reviews/${enc(target.caseId)}/scores`,
        json: { scores: SCORES, impact: 2, proposedTier: 'strategic', comment: 'matrix' },
        workflowId: target.caseId,
        succeeded: async (res) => {
          expect(res.body).toEqual({ stage: 'awaiting_approval' });
          // Settle: graded, and the decision task is open.
          await expectTask(h, `${target.caseId}:decision`);
          const review = await reviewData(target.caseId);
          expect(review.stage).toBe('awaiting_approval');
          expect(review.data.scores).toMatchObject({ impact: 2, proposedTier: 'strategic', by: 'mgr' });
          expect(review.data.grade).toMatchObject({ riskGrade: expect.any(String) });
          await finishReview(target.caseId);
        },
        refused: async () => {
          const review = await reviewData(target.caseId);
          expect(review.stage).toBe('scoring');
          expect(review.data).not.toHaveProperty('scores');
        },
      };
    },
  },
  {
    method: 'GET',
    route: '/api/supplier-reviews/campaigns/{year}',
    // Managers, who run campaigns, and the oversight functions.
    allowed: only(REPORT_READERS),
    others: forbidden(/needs the role manager or risk or compliance or internal_audit or auditor$/),
    call: () => ({
      path: `/api/supplier-reviews/campaigns/${f.campaignYear}`,
      succeeded: (res) => {
        expect(res.body).toMatchObject({ year: f.campaignYear, status: 'done' });
        expect(res.body.startedCount).toBe(res.body.started.length);
      },
    }),
  },
  {
    method: 'GET',
    route: '/api/supplier-reviews/campaigns/{year}/suppliers',
    allowed: only(REPORT_READERS),
    others: forbidden(/needs the role manager or risk or compliance or internal_audit or auditor$/),
    call: () => ({
      path: `/api/supplier-reviews/campaigns/${f.campaignYear}/suppliers?outcome=started`,
      succeeded: (res) => {
        expect(res.body.items.map((s: { caseId: string }) => s.caseId)).toContain(
          `supplier-review:${f.supplierId}:${f.campaignYear}`,
        );
        expect(res.body.total).toBe(res.body.items.length);
      },
    }),
  },
  {
    method: 'GET',
    route: '/api/supplier-reviews/{caseId}/report',
    // The report follows its case: its people and the oversight functions.
    allowed: only(REPORT_READERS),
    others: { status: 404, code: 'NOT_FOUND', message: /^no supplier review / },
    call: () => ({
      path: `/api/supplier-reviews/${enc(f.reviewScoring.caseId)}/report`,
      succeeded: (res) => {
        expect(res.body).toMatchObject({
          caseId: f.reviewScoring.caseId,
          supplier: { id: f.supplierId },
          reviewYear: 2028,
          reviewerId: 'mgr',
          initiatorId: 'lead',
          stage: 'scoring',
          missingDocuments: [],
          checks: { creditRating: 'AA', backgroundCheck: 'clear', by: 'mgr' },
          scores: null,
        });
        expect(res.body.documents.map((d: { type: string; received: boolean }) => [d.type, d.received])).toEqual(
          REVIEW_DOCUMENTS.map((d) => [d, true]),
        );
      },
    }),
  },
  {
    method: 'GET',
    route: '/api/supplier-reviews/{caseId}/report.html',
    // The report follows its case: its people and the oversight functions.
    allowed: only(REPORT_READERS),
    others: { status: 404, code: 'NOT_FOUND', message: /^no supplier review / },
    call: () => ({
      path: `/api/supplier-reviews/${enc(f.reviewScoring.caseId)}/report.html`,
      succeeded: (res) => {
        expect(res.headers.get('content-type')).toMatch(/^text\/html/);
        expect(res.body).toContain('供应商考评报告');
        expect(res.body).toContain(f.supplierId);
      },
    }),
  },

  // ---- incidents
  {
    method: 'POST',
    route: '/api/incidents',
    // Anyone but the auditor may report. The owner must be a manager: a
    // reporting manager owns it by default, anyone else names one (without
    // one it is a 400, in bad-input.test.ts).
    allowed: allBut(['auditor'], 201),
    call: (role) => {
      const incidentId = h.unique('INC');
      const caseId = `incident:${incidentId}`;
      const reporterIsManager = TEST_USERS[role].roles.includes('manager');
      return {
        path: '/api/incidents',
        json: incidentReport(incidentId, reporterIsManager ? {} : { ownerId: 'mgr' }),
        succeeded: async (res) => {
          expect(res.body).toMatchObject({
            caseId,
            incidentId,
            runId: expect.any(String),
            grade: 'IV',
            suggestedGrade: 'IV',
            links: { temporalUi: expect.stringContaining(enc(caseId)) },
          });
          caseWorkflows.add(caseId);
          await expectStage(h, caseId, 'reported');
          const row = await caseRow(caseId);
          expect([row?.initiator_id, row?.owner_id]).toEqual([
            TEST_USERS[role].id,
            reporterIsManager ? TEST_USERS[role].id : 'mgr',
          ]);
          await finishCase(caseId);
        },
        refused: () => expectNotStarted(caseId),
      };
    },
  },
  {
    method: 'POST',
    route: '/api/incidents/grade-suggestion',
    // Pure computation, nothing is written: anyone signed in.
    allowed: allBut(['auditor'], 200),
    // Writes nothing, so auditors may call it too.
    auditor: ok(),
    call: () => ({
      path: '/api/incidents/grade-suggestion',
      json: { category: 'data_leak', impact: { affectedUsers: 20, amountCny: 0, dataRecordsExposed: 3 } },
      succeeded: (res) =>
        expect(res.body).toEqual({
          grade: 'III',
          reasons: [expect.stringMatching(/^A data leak exposed 3 records; .*at least III\.$/)],
        }),
    }),
  },
  {
    method: 'POST',
    route: '/api/incidents/{incidentId}/acknowledge',
    // The owner (mgr) or a manager; the owner is always a manager.
    allowed: { manager: ok(), lead: ok() },
    others: refusal(403, 'ROLE_NOT_PERMITTED', /the incident owner or a manager acknowledges it/),
    call: async (role, fresh) => {
      const target = fresh ? await incidentReported() : f.incidentReported;
      return incidentCall(
        target,
        fresh,
        'acknowledge',
        {},
        {
          succeeded: async (res) => {
            expect(res.body).toEqual({ stage: 'handling', grade: 'IV' });
            const row = await caseRow(target.caseId);
            expect(row).toMatchObject({ stage: 'handling', data: { acknowledgedBy: TEST_USERS[role].id } });
          },
          refused: async () =>
            expect(await caseRow(target.caseId)).toMatchObject({
              stage: 'reported',
              data: { acknowledgedAt: null, acknowledgedBy: null },
            }),
        },
      );
    },
  },
  {
    method: 'POST',
    route: '/api/incidents/{incidentId}/timeline',
    allowed: { manager: ok(), lead: ok() },
    // On-site handling is the owner's and the managers', as every other step.
    others: refusal(403, 'ROLE_NOT_PERMITTED', /the incident owner or a manager adds timeline entries/),
    call: async (role, fresh) => {
      const target = fresh ? await incidentHandling() : f.incidentHandling;
      const entry = `Failed over to the standby gateway (${role})`;
      return incidentCall(
        target,
        fresh,
        'timeline',
        { entry },
        {
          succeeded: async (res) => {
            expect(res.body).toEqual({ stage: 'handling', grade: 'IV' });
            expect((await caseRow(target.caseId))?.data.timeline).toEqual([
              { at: expect.any(String), by: TEST_USERS[role].id, entry },
            ]);
          },
          refused: async () => expect((await caseRow(target.caseId))?.data.timeline).toEqual([]),
        },
      );
    },
  },
  {
    method: 'POST',
    route: '/api/incidents/{incidentId}/notifications',
    allowed: { manager: ok(), lead: ok() },
    others: refusal(403, 'ROLE_NOT_PERMITTED', /the incident owner or a manager records notifications/),
    call: async (role, fresh) => {
      const target = fresh ? await incidentHandling() : f.incidentHandling;
      const notifiedAt = new Date(Date.now() - 1000).toISOString();
      return incidentCall(
        target,
        fresh,
        'notifications',
        { audience: 'management', notifiedAt, summary: 'Told the duty director' },
        {
          succeeded: async (res) => {
            expect(res.body).toEqual({ stage: 'notification', grade: 'IV' });
            const row = await caseRow(target.caseId);
            expect(row?.stage).toBe('notification');
            expect(row?.data.notifications).toEqual([
              { audience: 'management', notifiedAt, summary: 'Told the duty director', by: TEST_USERS[role].id },
            ]);
          },
          refused: async () =>
            expect(await caseRow(target.caseId)).toMatchObject({ stage: 'handling', data: { notifications: [] } }),
        },
      );
    },
  },
  {
    method: 'POST',
    route: '/api/incidents/{incidentId}/stabilise',
    // Grade IV: no audience must be told first.
    allowed: { manager: ok(), lead: ok() },
    others: refusal(403, 'ROLE_NOT_PERMITTED', /the incident owner or a manager declares it stabilised/),
    call: async (_role, fresh) => {
      const target = fresh ? await incidentHandling() : f.incidentHandling;
      return incidentCall(
        target,
        fresh,
        'stabilise',
        { summary: 'Traffic restored' },
        {
          succeeded: async (res) => {
            // The Update answers once it is written; by then the workflow may already have moved on.
            expect(res.body).toEqual({ stage: expect.stringMatching(/^(stabilised|evaluation)$/), grade: 'IV' });
            // Settle: the workflow moves on to the evaluation.
            await expectStage(h, target.caseId, 'evaluation');
            expect((await caseRow(target.caseId))?.data.stabilisedAt).toEqual(expect.any(String));
          },
          refused: async () =>
            expect(await caseRow(target.caseId)).toMatchObject({ stage: 'handling', data: { stabilisedAt: null } }),
        },
      );
    },
  },
  {
    method: 'POST',
    route: '/api/incidents/{incidentId}/regrade',
    // Managers only: the owner's say does not count here.
    allowed: { manager: ok(), lead: ok() },
    others: refusal(403, 'ROLE_NOT_PERMITTED', /a manager regrades an incident/),
    call: async (role, fresh) => {
      const target = fresh ? await incidentHandling() : f.incidentHandling;
      return incidentCall(
        target,
        fresh,
        'regrade',
        { grade: 'III', reason: '12,000 users affected after all' },
        {
          succeeded: async (res) => {
            expect(res.body).toEqual({ stage: 'handling', grade: 'III' });
            const row = await caseRow(target.caseId);
            expect(row?.data.grade).toBe('III');
            expect(row?.data.gradeHistory.map((g: { grade: string; by: string }) => [g.grade, g.by])).toEqual([
              ['IV', 'mgr'],
              ['III', TEST_USERS[role].id],
            ]);
          },
          refused: async () => {
            const row = await caseRow(target.caseId);
            expect(row?.data.grade).toBe('IV');
            expect(row?.data.gradeHistory).toHaveLength(1);
          },
        },
      );
    },
  },
  {
    method: 'POST',
    route: '/api/incidents/{incidentId}/evaluation',
    allowed: { manager: ok(), lead: ok() },
    others: refusal(403, 'ROLE_NOT_PERMITTED', /the incident owner or a manager submits the evaluation/),
    call: async (role, fresh) => {
      const target = fresh ? await incidentEvaluation() : f.incidentEvaluation;
      return incidentCall(
        target,
        fresh,
        'evaluation',
        { rootCause: 'An expired certificate', contributingFactors: ['no expiry alert'], lessons: 'Alert on expiry' },
        {
          succeeded: async (res) => {
            expect(res.body).toEqual({ stage: 'evaluation', grade: 'IV' });
            expect((await caseRow(target.caseId))?.data.evaluation).toMatchObject({
              rootCause: 'An expired certificate',
              contributingFactors: ['no expiry alert'],
              by: TEST_USERS[role].id,
            });
          },
          refused: async () =>
            expect(await caseRow(target.caseId)).toMatchObject({ stage: 'evaluation', data: { evaluation: null } }),
        },
      );
    },
  },
  {
    method: 'POST',
    route: '/api/incidents/{incidentId}/close-out',
    // Grade IV: its short evaluation recorded (incidentAt('evaluated')).
    allowed: { manager: ok(), lead: ok() },
    others: refusal(403, 'ROLE_NOT_PERMITTED', /the incident owner or a manager requests close-out/),
    call: async (_role, fresh) => {
      const target = fresh ? await incidentEvaluated() : f.incidentEvaluated;
      const approvalTaskId = `${target.caseId}:close-out-1`;
      return incidentCall(
        target,
        fresh,
        'close-out',
        {},
        {
          succeeded: async (res) => {
            expect(res.body).toEqual({ stage: 'awaiting_approval', grade: 'IV' });
            // Settle: the close-out approval is open.
            await expectTask(h, approvalTaskId);
            expect((await caseRow(target.caseId))?.stage).toBe('awaiting_approval');
          },
          refused: async () => {
            expect((await caseRow(target.caseId))?.stage).toBe('evaluation');
            expect(await h.sql('select 1 from tasks where id = $1', [approvalTaskId])).toHaveLength(0);
          },
        },
      );
    },
  },
  {
    method: 'GET',
    route: '/api/incidents/{incidentId}/report',
    // The report follows its case: its people and the oversight functions.
    allowed: only(REPORT_READERS),
    others: { status: 404, code: 'NOT_FOUND', message: /^no incident / },
    call: () => ({
      path: `/api/incidents/${f.incidentEvaluation.incidentId}/report`,
      succeeded: (res) => {
        expect(res.body).toMatchObject({
          caseId: f.incidentEvaluation.caseId,
          incidentId: f.incidentEvaluation.incidentId,
          stage: 'evaluation',
          status: 'open',
          ownerId: 'mgr',
          reporterId: 'mgr',
          data: { grade: 'IV', acknowledgedBy: 'mgr', evaluation: null },
          approvals: [],
          rectificationItems: [],
        });
        expect(res.body.auditTrail.map((e: { action: string }) => e.action)).toEqual(
          expect.arrayContaining(['incident.acknowledged', 'incident.stabilised']),
        );
      },
    }),
  },
  {
    method: 'GET',
    route: '/api/incidents/{incidentId}/report.html',
    // The report follows its case: its people and the oversight functions.
    allowed: only(REPORT_READERS),
    others: { status: 404, code: 'NOT_FOUND', message: /^no incident / },
    call: () => ({
      path: `/api/incidents/${f.incidentEvaluation.incidentId}/report.html`,
      succeeded: (res) => {
        expect(res.headers.get('content-type')).toMatch(/^text\/html/);
        expect(res.body).toContain('事件复盘报告');
        expect(res.body).toContain(f.incidentEvaluation.incidentId);
      },
    }),
  },

  // ---- the dashboards
  {
    method: 'GET',
    route: '/api/dashboards/overview',
    // Anyone signed in; its case-based figures are scoped like GET /api/cases (tests/integration/dashboards.test.ts).
    allowed: everyone(),
    call: () => ({
      path: '/api/dashboards/overview',
      succeeded: (res) => {
        expect(res.body.heatMap).toHaveLength(25);
        expect(res.body.incidentsByGrade.map((r: { grade: string }) => r.grade)).toEqual(['I', 'II', 'III', 'IV']);
        expect(res.body.drills.modules).toHaveLength(4);
      },
    }),
  },

  // ---- lists of the console (keyset paged)
  {
    method: 'GET',
    route: '/api/incidents',
    allowed: everyone(),
    call: () => ({
      path: `/api/incidents?q=${f.incidentReported.incidentId}&limit=5`,
      succeeded: (res) => {
        expect(res.body).toHaveProperty('nextCursor');
        expect(res.body.items.every((i: { process: string }) => i.process === 'incident')).toBe(true);
      },
    }),
  },
  {
    method: 'GET',
    route: '/api/drills',
    allowed: everyone(),
    call: () => ({
      path: `/api/drills?planId=${f.drillPlanning.planId}&limit=5`,
      succeeded: (res) => {
        expect(res.body).toHaveProperty('nextCursor');
        expect(res.body.items.every((d: { planId: string }) => d.planId === f.drillPlanning.planId)).toBe(true);
      },
    }),
  },
  {
    method: 'GET',
    route: '/api/improvement-cycles',
    allowed: everyone(),
    call: () => ({
      path: '/api/improvement-cycles?limit=5',
      succeeded: (res) => {
        expect(res.body).toHaveProperty('nextCursor');
        expect(res.body.items.every((c: { process: string }) => c.process === 'pdca')).toBe(true);
      },
    }),
  },
  {
    method: 'GET',
    route: '/api/tasks/overdue',
    allowed: everyone(),
    call: () => ({
      path: '/api/tasks/overdue?limit=5',
      succeeded: (res) => {
        expect(res.body).toHaveProperty('nextCursor');
        expect(res.body.items.every((t: { overdue: boolean }) => t.overdue)).toBe(true);
      },
    }),
  },

  // ---- complaints
  {
    method: 'GET',
    route: '/api/complaints',
    allowed: everyone(),
    call: () => ({
      path: '/api/complaints?type=transaction_dispute&pageSize=100',
      succeeded: (res) =>
        expect(res.body.items.every((c: { type: string }) => c.type === 'transaction_dispute')).toBe(true),
    }),
  },
  {
    method: 'GET',
    route: '/api/complaints/{complaintId}',
    allowed: only(['manager', 'lead', 'approver', 'approver2', 'risk2', 'internalAudit', 'owner', 'auditor']),
    others: { status: 404, code: 'NOT_FOUND', message: /no complaint/ },
    call: () => ({
      path: `/api/complaints/${f.complaintInvestigating.complaintId}`,
      succeeded: (res) =>
        expect(res.body).toMatchObject({
          complaintId: f.complaintInvestigating.complaintId,
          type: 'transaction_dispute',
        }),
    }),
  },
  {
    method: 'POST',
    route: '/api/complaints',
    allowed: { manager: ok(201), lead: ok(201), owner: ok(201) },
    others: forbidden(/needs the role manager or action_owner/),
    call: (role) => {
      const complaintId = h.unique('CMP');
      const caseId = `complaint:${complaintId}`;
      return {
        path: '/api/complaints',
        json: {
          complaintId,
          customerRef: h.unique('CUST'),
          channel: 'app',
          type: 'transaction_dispute',
          subject: 'Double charge',
        },
        succeeded: async (res) => {
          expect(res.body).toEqual({
            caseId,
            complaintId,
            links: { temporalUi: expect.stringContaining(enc(caseId)) },
          });
          caseWorkflows.add(caseId);
          await expectStage(h, caseId, 'investigating');
          // The caller handles it when no handler is named.
          const row = await caseRow(caseId);
          expect([row?.initiator_id, row?.owner_id, row?.data.handlerId]).toEqual(Array(3).fill(TEST_USERS[role].id));
          await finishCase(caseId);
        },
        refused: () => expectNotStarted(caseId),
      };
    },
  },
  {
    method: 'POST',
    route: '/api/complaints/{complaintId}/investigation',
    // The handler (owner) or a manager.
    allowed: { manager: ok(), lead: ok(), owner: ok() },
    others: refusal(403, 'ROLE_NOT_PERMITTED', /the complaint handler or a manager records the investigation/),
    call: async (role, fresh) => {
      const target = fresh ? await complaintInvestigating() : f.complaintInvestigating;
      return complaintCall(
        target,
        fresh,
        'investigation',
        { findings: 'The refund file was rejected' },
        {
          succeeded: async (res) => {
            expect(res.body).toEqual({ stage: 'handling' });
            expect(await caseRow(target.caseId)).toMatchObject({
              stage: 'handling',
              data: { initialInvestigation: { findings: 'The refund file was rejected', by: TEST_USERS[role].id } },
            });
          },
          refused: async () =>
            expect(await caseRow(target.caseId)).toMatchObject({
              stage: 'investigating',
              data: { initialInvestigation: null },
            }),
        },
      );
    },
  },
  {
    method: 'POST',
    route: '/api/complaints/{complaintId}/handling',
    allowed: { manager: ok(), lead: ok(), owner: ok() },
    others: refusal(403, 'ROLE_NOT_PERMITTED', /the complaint handler or a manager records handling/),
    call: async (role, fresh) => {
      const target = fresh ? await complaintHandling() : f.complaintHandling;
      return complaintCall(
        target,
        fresh,
        'handling',
        { action: 'Resent the refund' },
        {
          succeeded: async (res) => {
            expect(res.body).toEqual({ stage: 'handling' });
            expect((await caseRow(target.caseId))?.data.handling).toEqual([
              { action: 'Resent the refund', by: TEST_USERS[role].id, at: expect.any(String) },
            ]);
          },
          refused: async () => expect((await caseRow(target.caseId))?.data.handling).toEqual([]),
        },
      );
    },
  },
  {
    method: 'POST',
    route: '/api/complaints/{complaintId}/feedback',
    allowed: { manager: ok(), lead: ok(), owner: ok() },
    others: refusal(403, 'ROLE_NOT_PERMITTED', /the complaint handler or a manager sends the feedback/),
    call: async (role, fresh) => {
      const target = fresh ? await complaintHandling() : f.complaintHandling;
      const feedback = { cause: 'The bank rejected the file', measures: 'Refund resent', followUpPlan: 'Call back' };
      return complaintCall(target, fresh, 'feedback', feedback, {
        succeeded: async (res) => {
          // With no rectification item open, the complaint closes on its feedback, and the answer shows it.
          expect(res.body).toEqual({ stage: 'closed' });
          const result = await h.temporal.workflow.getHandle(target.caseId).result();
          expect(result).toEqual({ breaches: [], linkedIncidentCaseId: null });
          expect((await caseRow(target.caseId))?.status).toBe('closed');
          expect(await caseRow(target.caseId)).toMatchObject({
            outcome: 'resolved',
            data: { feedback: { ...feedback, by: TEST_USERS[role].id } },
          });
        },
        refused: async () =>
          expect(await caseRow(target.caseId)).toMatchObject({ stage: 'handling', data: { feedback: null } }),
      });
    },
  },
  {
    method: 'POST',
    route: '/api/complaints/{complaintId}/rectifications',
    // Managers only: the handler (owner) may not open one.
    allowed: { manager: ok(), lead: ok() },
    others: refusal(403, 'ROLE_NOT_PERMITTED', /a manager opens rectification items/),
    call: async (role, fresh) => {
      const target = fresh ? await complaintHandling() : f.complaintHandling;
      const taskId = `${target.caseId}:rectification:1`;
      return complaintCall(
        target,
        fresh,
        'rectifications',
        { title: 'Validate refund files before sending', ownerId: 'owner', dueIn: '14d' },
        {
          succeeded: async (res) => {
            expect(res.body).toEqual({ stage: 'handling', rectificationTaskId: taskId });
            caseWorkflows.add(taskId);
            // Settle: the item is open for its owner, and its workflow ends before the complaint's.
            await expectTask(h, taskId);
            const [task] = await h.sql('select kind, assignee_id, status from tasks where id = $1', [taskId]);
            expect(task).toEqual({ kind: 'rectification', assignee_id: 'owner', status: 'open' });
            expect((await caseRow(target.caseId))?.data.rectificationTaskIds).toEqual([taskId]);
            expect(
              await h.sql(`select actor_id from audit_events where case_id = $1 and action = $2`, [
                target.caseId,
                'complaint.rectification_added',
              ]),
            ).toEqual([{ actor_id: TEST_USERS[role].id }]);
            // Ending the complaint ends its item too (the child's parent close policy).
            await quiet(taskId);
            await finishCase(target.caseId);
            await eventually(
              async () => (await h.temporal.workflow.getHandle(taskId).describe()).status.name === 'TERMINATED',
            );
            caseWorkflows.delete(taskId);
          },
          refused: async () => {
            expect((await caseRow(target.caseId))?.data.rectificationTaskIds).toEqual([]);
            expect(await h.sql('select 1 from tasks where case_id = $1', [target.caseId])).toHaveLength(0);
          },
        },
      );
    },
  },
  {
    method: 'POST',
    route: '/api/complaints/{complaintId}/raise-incident',
    allowed: { manager: ok(201), lead: ok(201) },
    others: forbidden(/needs the role manager$/),
    call: async (role, fresh) => {
      const target = fresh ? await complaintInvestigating() : f.complaintHandling;
      const incidentId = h.unique('INC');
      const incidentCaseId = `incident:${incidentId}`;
      const { title: _title, ...report } = incidentReport(incidentId, {
        category: 'transaction_fraud',
        impact: { affectedUsers: 2, amountCny: 300 },
      });
      return {
        path: `/api/complaints/${target.complaintId}/raise-incident`,
        json: report,
        workflowId: target.caseId,
        cleanup: fresh ? () => finishCase(target.caseId) : undefined,
        succeeded: async (res) => {
          expect(res.body).toEqual({ incidentCaseId, incidentId, grade: 'IV' });
          caseWorkflows.add(incidentCaseId);
          // Linked both ways; the complaint's manager reported it.
          await expectStage(h, incidentCaseId, 'reported');
          expect(await caseRow(incidentCaseId)).toMatchObject({
            initiator_id: TEST_USERS[role].id,
            owner_id: TEST_USERS[role].id,
            data: { sourceComplaintId: target.caseId },
          });
          expect((await caseRow(target.caseId))?.data.linkedIncidentCaseId).toBe(incidentCaseId);
          await finishCase(incidentCaseId);
          await finishCase(target.caseId);
        },
        refused: async () => {
          await expectNotStarted(incidentCaseId);
          expect((await caseRow(target.caseId))?.data.linkedIncidentCaseId).toBeNull();
        },
      };
    },
  },
  // ---- emergency plans
  {
    method: 'POST',
    route: '/api/emergency-plans',
    // Managers register plans, and admins keep the register.
    allowed: { manager: ok(201), lead: ok(201), admin: ok(201) },
    others: forbidden(/needs the role manager or admin/),
    call: (role) => {
      const planId = h.unique('EP');
      const revisionId = `plan-revision:${planId}:v1`;
      return {
        path: '/api/emergency-plans',
        json: { planId, title: `Registered by ${role}`, type: 'data_leak' },
        succeeded: async (res) => {
          expect(res.body).toEqual({ planId, revisionCaseId: revisionId });
          drillWorkflows.add(revisionId);
          // Settle: its first revision waits for the draft of its owner, the caller when no owner is named.
          await expectStage(h, revisionId, 'draft');
          const [plan] = await h.sql('select status, owner_id, current_version from emergency_plans where id = $1', [
            planId,
          ]);
          expect(plan).toEqual({ status: 'draft', owner_id: TEST_USERS[role].id, current_version: null });
          expect(await caseRow(revisionId)).toMatchObject({
            initiator_id: TEST_USERS[role].id,
            owner_id: TEST_USERS[role].id,
            data: { planId, version: 1, reason: 'first version' },
          });
          expect(
            await h.sql(
              `select actor_id from audit_events where action = 'plan.registered' and payload->>'planId' = $1`,
              [planId],
            ),
          ).toEqual([{ actor_id: TEST_USERS[role].id }]);
          await finishDrill(revisionId);
        },
        refused: async () => {
          expect(await h.sql('select 1 from emergency_plans where id = $1', [planId])).toHaveLength(0);
          await expectNotStarted(revisionId);
        },
      };
    },
  },
  {
    method: 'GET',
    route: '/api/emergency-plans',
    allowed: everyone(),
    call: () => ({
      path: '/api/emergency-plans',
      succeeded: (res) => {
        const plans = res.body.items as Array<{ id: string }>;
        expect(plans.find((p) => p.id === f.plan)).toMatchObject({
          status: 'active',
          currentVersion: 1,
          ownerId: 'mgr',
        });
        expect(plans.find((p) => p.id === f.revisionDraft.planId)).toMatchObject({
          status: 'draft',
          currentVersion: null,
        });
      },
    }),
  },
  {
    method: 'GET',
    route: '/api/emergency-plans/{planId}',
    allowed: everyone(),
    call: (role) => ({
      path: `/api/emergency-plans/${f.plan}`,
      succeeded: (res) => {
        expect(res.body.plan).toMatchObject({ id: f.plan, status: 'active', currentVersion: 1, ownerId: 'mgr' });
        expect(res.body.versions).toEqual([
          expect.objectContaining({
            version: 1,
            summary: 'First version',
            documentSha256: createHash('sha256').update(PLAN_V1_TEXT).digest('hex'),
            approvedBy: ['lead', TEST_USERS.approver.id],
            revisionCaseId: `plan-revision:${f.plan}:v1`,
          }),
        ]);
        // Its revisions and drills as far as the caller reads them: admin registered the plan (and opened
        // revision v1), mgr owns it and drafted v1, lead reviewed it; lead opened the drills, mgr organises them.
        expect(res.body.revisions.map((c: { id: string }) => c.id)).toEqual(
          [...REPORT_READERS, 'admin'].includes(role) ? [`plan-revision:${f.plan}:v1`] : [],
        );
        const drills = res.body.drills.map((c: { id: string }) => c.id);
        for (const drill of [f.drillPlanning, f.drillConduct, f.drillEvaluation, f.drillSummary])
          expect(drills.includes(drill.caseId), `${role} ${drill.caseId}`).toBe(REPORT_READERS.includes(role));
      },
    }),
  },
  {
    method: 'POST',
    route: '/api/emergency-plans/{planId}/revisions',
    allowed: { manager: ok(201), lead: ok(201) },
    others: forbidden(/needs the role manager$/),
    call: async (role, fresh) => {
      // A published plan of its own per success: v2 is opened once.
      const planId = fresh ? await publishedPlan() : f.plan;
      const caseId = `plan-revision:${planId}:v2`;
      return {
        path: `/api/emergency-plans/${planId}/revisions`,
        json: { reason: `Reorganisation (${role})` },
        succeeded: async (res) => {
          expect(res.body).toEqual({ caseId, links: { temporalUi: expect.stringContaining(enc(caseId)) } });
          drillWorkflows.add(caseId);
          await expectStage(h, caseId, 'draft');
          expect(await caseRow(caseId)).toMatchObject({
            initiator_id: TEST_USERS[role].id,
            owner_id: 'mgr',
            data: { planId, version: 2, reason: `Reorganisation (${role})` },
          });
          await finishDrill(caseId);
          await finishDrill(`plan-revision-clock:${planId}`);
        },
        refused: () => expectNotStarted(caseId),
      };
    },
  },
  {
    method: 'POST',
    route: '/api/plan-revisions/{caseId}/draft',
    // The plan owner (mgr) only: refused by the route, with the workflow validator's rule, before the file is stored.
    allowed: { manager: ok() },
    others: refusal(403, 'ROLE_NOT_PERMITTED', /the plan owner drafts its revision/),
    call: async (_role, fresh) => {
      const target = fresh ? await registeredPlan() : f.revisionDraft;
      return {
        path: `/api/plan-revisions/${enc(target.revisionId)}/draft`,
        form: () => draftForm('Matrix draft'),
        workflowId: target.revisionId,
        succeeded: async (res) => {
          expect(res.body).toEqual({
            stage: 'awaiting_approval',
            evidenceId: expect.any(String),
            sha256: EVIDENCE_SHA256,
          });
          // Settle: the review is open.
          await expectTask(h, `${target.revisionId}:review-1`);
          expect(await caseRow(target.revisionId)).toMatchObject({
            stage: 'awaiting_approval',
            data: {
              draft: {
                summary: 'Matrix draft',
                by: 'mgr',
                document: { id: res.body.evidenceId, sha256: EVIDENCE_SHA256 },
              },
            },
          });
          const [row] = await h.sql('select case_id, uploaded_by, document_type from evidence where id = $1', [
            res.body.evidenceId,
          ]);
          expect(row).toEqual({ case_id: target.revisionId, uploaded_by: 'mgr', document_type: 'emergency_plan' });
          await finishDrill(target.revisionId);
        },
        refused: async () => {
          const row = await caseRow(target.revisionId);
          expect(row?.stage).toBe('draft');
          expect(row?.data).not.toHaveProperty('draft');
          expect(await h.sql('select 1 from evidence where case_id = $1', [target.revisionId])).toHaveLength(0);
        },
      };
    },
  },

  // ---- drills
  {
    method: 'POST',
    route: '/api/drills',
    allowed: { manager: ok(201), lead: ok(201) },
    others: forbidden(/needs the role manager$/),
    call: (role, fresh) => {
      const year = fresh ? drillYear++ : REFUSED_DRILL_YEAR;
      const caseId = `drill:${f.plan}:${year}`;
      return {
        path: '/api/drills',
        json: { planId: f.plan, year },
        succeeded: async (res) => {
          expect(res.body).toEqual({ caseId, links: { temporalUi: expect.stringContaining(enc(caseId)) } });
          drillWorkflows.add(caseId);
          await expectStage(h, caseId, 'planning');
          expect(await caseRow(caseId)).toMatchObject({
            initiator_id: TEST_USERS[role].id,
            owner_id: 'mgr',
            data: { planId: f.plan, year, plan: null },
          });
          await finishDrill(caseId);
        },
        refused: () => expectNotStarted(caseId),
      };
    },
  },
  {
    method: 'POST',
    route: '/api/drills/programme',
    allowed: { manager: ok(), lead: ok() },
    others: forbidden(/needs the role manager$/),
    call: (_role, fresh) => {
      const year = fresh ? programmeYear++ : REFUSED_PROGRAMME_YEAR;
      return {
        path: '/api/drills/programme',
        json: { year },
        succeeded: async (res) => {
          const started = res.body.started as Array<{ planId: string; caseId: string }>;
          // Settle, then end them: every drill of the year is opened before the next snapshot.
          for (const s of started) drillWorkflows.add(s.caseId);
          for (const s of started) {
            await expectStage(h, s.caseId, 'planning');
            await finishDrill(s.caseId);
          }
          const plans = await h.sql(`select id, status from emergency_plans order by id`);
          const byStatus = (active: boolean) =>
            plans
              .filter((p) => (p.status === 'active') === active)
              .map((p) => p.id as string)
              .sort();
          expect(res.body.year).toBe(year);
          // Every active plan in the register, this file's fixture among them; draft plans are skipped.
          expect(started.map((s) => s.planId).sort()).toEqual(byStatus(true));
          expect(byStatus(true)).toContain(f.plan);
          for (const s of started) expect(s.caseId).toBe(`drill:${s.planId}:${year}`);
          const skipped = res.body.skipped as Array<{ planId: string; reason: string }>;
          expect(skipped.map((s) => s.planId).sort()).toEqual(byStatus(false));
          for (const s of skipped) expect(s.reason).toBe('not_active');
        },
        refused: async () => {
          expect(await h.sql(`select 1 from cases where id like $1`, [`drill:%:${year}`])).toHaveLength(0);
          await expectNotStarted(`drill:${f.plan}:${year}`);
        },
      };
    },
  },
  {
    method: 'POST',
    route: '/api/drills/{caseId}/plan',
    // The plan owner (mgr) or a manager; the validator refuses everyone else.
    allowed: { manager: ok(), lead: ok() },
    others: refusal(403, 'ROLE_NOT_PERMITTED', /the plan owner or a manager runs the drill/),
    call: async (role, fresh) => {
      const target = fresh ? await drillAt('planning', f.plan) : f.drillPlanning;
      return drillCall(target, fresh, 'plan', DRILL_PLAN, {
        succeeded: async (res) => {
          expect(res.body).toEqual({ stage: 'awaiting_approval' });
          // Settle: submitted for approval.
          await expectTask(h, `${target.caseId}:plan-approval-1`);
          expect(await caseRow(target.caseId)).toMatchObject({
            stage: 'awaiting_approval',
            data: { plan: { ...DRILL_PLAN, by: TEST_USERS[role].id } },
          });
        },
        refused: async () =>
          expect(await caseRow(target.caseId)).toMatchObject({ stage: 'planning', data: { plan: null } }),
      });
    },
  },
  {
    method: 'POST',
    route: '/api/drills/{caseId}/conduct',
    allowed: { manager: ok(), lead: ok() },
    others: refusal(403, 'ROLE_NOT_PERMITTED', /the plan owner or a manager runs the drill/),
    call: async (role, fresh) => {
      const target = fresh ? await drillAt('conduct', f.plan) : f.drillConduct;
      return drillCall(target, fresh, 'conduct', DRILL_CONDUCT, {
        succeeded: async (res) => {
          expect(res.body).toEqual({ stage: 'evaluation' });
          // Settle: on to the evaluation.
          await expectStage(h, target.caseId, 'evaluation');
          expect((await caseRow(target.caseId))?.data.conduct).toEqual({ ...DRILL_CONDUCT, by: TEST_USERS[role].id });
        },
        refused: async () =>
          expect(await caseRow(target.caseId)).toMatchObject({ stage: 'conduct', data: { conduct: null } }),
      });
    },
  },
  {
    method: 'POST',
    route: '/api/drills/{caseId}/evaluation',
    allowed: { manager: ok(), lead: ok() },
    others: refusal(403, 'ROLE_NOT_PERMITTED', /the plan owner or a manager runs the drill/),
    call: async (role, fresh) => {
      const target = fresh ? await drillAt('evaluation', f.plan) : f.drillEvaluation;
      return drillCall(
        target,
        fresh,
        'evaluation',
        { scores: DRILL_SCORES, findings: [] },
        {
          succeeded: async (res) => {
            expect(res.body).toEqual({ stage: 'summary' });
            // Settle: no findings, so straight on to the summary report.
            await expectStage(h, target.caseId, 'summary');
            const row = await caseRow(target.caseId);
            expect(row?.data).toMatchObject({ scores: DRILL_SCORES, evaluation: { passed: true }, findings: [] });
            expect(
              await h.sql(`select actor_id from audit_events where case_id = $1 and action = 'drill.evaluated'`, [
                target.caseId,
              ]),
            ).toEqual([{ actor_id: TEST_USERS[role].id }]);
          },
          refused: async () => {
            expect(await caseRow(target.caseId)).toMatchObject({
              stage: 'evaluation',
              data: { scores: null, evaluation: null },
            });
            expect(
              await h.sql('select 1 from tasks where case_id = $1 and kind = $2', [target.caseId, 'rectification']),
            ).toHaveLength(0);
          },
        },
      );
    },
  },
  {
    method: 'POST',
    route: '/api/drills/{caseId}/summary',
    allowed: { manager: ok(), lead: ok() },
    others: refusal(403, 'ROLE_NOT_PERMITTED', /the plan owner or a manager runs the drill/),
    call: async (role, fresh) => {
      const target = fresh ? await drillAt('summary', f.plan) : f.drillSummary;
      return drillCall(target, fresh, 'summary', DRILL_SUMMARY, {
        succeeded: async (res) => {
          expect(res.body).toEqual({ stage: 'awaiting_approval' });
          // Settle: the summary report's approval is open.
          await expectTask(h, `${target.caseId}:summary-approval-1`);
          expect(await caseRow(target.caseId)).toMatchObject({
            stage: 'awaiting_approval',
            data: { summary: { ...DRILL_SUMMARY, by: TEST_USERS[role].id } },
          });
        },
        refused: async () =>
          expect(await caseRow(target.caseId)).toMatchObject({ stage: 'summary', data: { summary: null } }),
      });
    },
  },
  {
    method: 'GET',
    route: '/api/drills/{caseId}/report',
    // The report follows its case: its people and the oversight functions.
    allowed: only(REPORT_READERS),
    others: { status: 404, code: 'NOT_FOUND', message: /^no drill / },
    call: () => ({
      path: `/api/drills/${enc(f.drillSummary.caseId)}/report`,
      succeeded: (res) => {
        expect(res.body).toMatchObject({
          caseId: f.drillSummary.caseId,
          status: 'open',
          stage: 'summary',
          data: {
            planId: f.plan,
            year: 2033,
            plan: { ...DRILL_PLAN, by: 'mgr' },
            conduct: { ...DRILL_CONDUCT, by: 'mgr' },
            scores: DRILL_SCORES,
            evaluation: { passed: true, failedModules: [] },
            findings: [],
            summary: null,
          },
          rectificationItems: [],
          links: { temporalUi: expect.stringContaining(enc(f.drillSummary.caseId)) },
        });
        expect(
          res.body.approvals.map((t: { id: string; status: string; decision: string; decidedBy: string }) => [
            t.id,
            t.status,
            t.decision,
            t.decidedBy,
          ]),
        ).toEqual([[`${f.drillSummary.caseId}:plan-approval-1`, 'done', 'approved', TEST_USERS.approver.id]]);
        expect(res.body.auditTrail.map((e: { action: string }) => e.action)).toEqual(
          expect.arrayContaining(['drill.planned', 'drill.conducted', 'drill.evaluated']),
        );
      },
    }),
  },
  {
    method: 'GET',
    route: '/api/drills/{caseId}/report.html',
    // The report follows its case: its people and the oversight functions.
    allowed: only(REPORT_READERS),
    others: { status: 404, code: 'NOT_FOUND', message: /^no drill / },
    call: () => ({
      path: `/api/drills/${enc(f.drillSummary.caseId)}/report.html`,
      succeeded: (res) => {
        expect(res.headers.get('content-type')).toMatch(/^text\/html/);
        expect(res.body).toContain('应急演练总结报告');
        expect(res.body).toContain(f.plan);
      },
    }),
  },
  // ---- improvement cycles (PDCA) and the control-effectiveness report
  {
    method: 'POST',
    route: '/api/improvement-cycles',
    allowed: { manager: ok(201), lead: ok(201) },
    others: forbidden(/needs the role manager/),
    call: (role) => {
      const cycleKey = h.unique('PDCA');
      const caseId = `pdca:${cycleKey}`;
      return {
        path: '/api/improvement-cycles',
        json: cycleBody(cycleKey, { source: 'kpi_gap' }),
        succeeded: async (res) => {
          expect(res.body).toEqual({ caseId, links: { temporalUi: expect.stringContaining(enc(caseId)) } });
          cycleWorkflows.add(caseId);
          // Settle: the plan's approval is open.
          await expectTask(h, `${caseId}:c1-plan-approval-1`);
          expect(await caseRow(caseId)).toMatchObject({
            stage: 'awaiting_approval',
            initiator_id: TEST_USERS[role].id,
            owner_id: 'mgr',
            data: { source: 'kpi_gap', sourceCaseId: null, cycle: 1 },
          });
          await finishCycle(caseId);
        },
        refused: () => expectNotStarted(caseId),
      };
    },
  },
  {
    method: 'POST',
    route: '/api/cases/{caseId}/improvement-cycles',
    allowed: { manager: ok(201), lead: ok(201) },
    others: forbidden(/needs the role manager/),
    call: (role) => {
      const cycleKey = h.unique('PDCA');
      const caseId = `pdca:${cycleKey}`;
      const origin = f.incidentReported.caseId;
      return {
        path: `/api/cases/${enc(origin)}/improvement-cycles`,
        json: cycleBody(cycleKey),
        succeeded: async (res) => {
          expect(res.body).toEqual({ caseId, links: { temporalUi: expect.stringContaining(enc(caseId)) } });
          cycleWorkflows.add(caseId);
          await expectTask(h, `${caseId}:c1-plan-approval-1`);
          expect(await caseRow(caseId)).toMatchObject({
            stage: 'awaiting_approval',
            initiator_id: TEST_USERS[role].id,
            data: { source: 'incident_review', sourceCaseId: origin },
          });
          await finishCycle(caseId);
        },
        refused: async () => {
          await expectNotStarted(caseId);
          expect(await caseRow(origin)).toMatchObject({ status: 'open', stage: 'reported' });
        },
      };
    },
  },
  {
    method: 'POST',
    route: '/api/improvement-cycles/{cycleKey}/plan',
    // The cycle owner (mgr) or a manager; the validator refuses everyone else.
    allowed: { manager: ok(), lead: ok() },
    others: refusal(403, 'ROLE_NOT_PERMITTED', /the cycle owner or a manager plans it/),
    call: async (_role, fresh) => {
      const target = fresh ? await cycleAtPlan() : f.cyclePlan;
      const actions = [{ title: 'Hire two agents', ownerId: 'owner' }];
      return cycleCall(
        target,
        fresh,
        'plan',
        { actions },
        {
          succeeded: async (res) => {
            expect(res.body).toEqual({ stage: 'awaiting_approval' });
            // Settle: the new plan's approval is open.
            await expectTask(h, `${target.caseId}:c2-plan-approval-1`);
            expect(await caseRow(target.caseId)).toMatchObject({
              stage: 'awaiting_approval',
              data: { cycle: 2, actions },
            });
          },
          refused: async () =>
            expect(await caseRow(target.caseId)).toMatchObject({
              stage: 'plan',
              data: { cycle: 2, actions: null },
            }),
        },
      );
    },
  },
  {
    method: 'POST',
    route: '/api/improvement-cycles/{cycleKey}/actuals',
    allowed: { manager: ok(), lead: ok() },
    others: refusal(403, 'ROLE_NOT_PERMITTED', /the cycle owner or a manager enters KPI values/),
    call: async (_role, fresh) => {
      const target = fresh ? await cycleAtActuals() : f.cycleActuals;
      return cycleCall(
        target,
        fresh,
        'actuals',
        { actuals: { [PDCA_KPI.key]: 20 } },
        {
          succeeded: async (res) => {
            expect(res.body).toEqual({ stage: 'awaiting_approval' });
            // Settle: the results wait for their independent verification.
            await expectTask(h, `${target.caseId}:c1-verification-1`);
            expect(await caseRow(target.caseId)).toMatchObject({
              stage: 'awaiting_approval',
              data: { actuals: { [PDCA_KPI.key]: 20 }, results: [{ key: PDCA_KPI.key, met: true }] },
            });
          },
          refused: async () =>
            expect(await caseRow(target.caseId)).toMatchObject({
              stage: 'check',
              data: { actuals: {}, results: null },
            }),
        },
      );
    },
  },
  {
    method: 'POST',
    route: '/api/improvement-cycles/{cycleKey}/standardise',
    allowed: { manager: ok(), lead: ok() },
    others: refusal(403, 'ROLE_NOT_PERMITTED', /the cycle owner or a manager records what is standardised/),
    call: async (_role, fresh) => {
      const target = fresh ? await cycleAtStandardise() : f.cycleStandardise;
      return cycleCall(
        target,
        fresh,
        'standardise',
        { adopted: 'The second-line queue is standard' },
        {
          succeeded: async (res) => {
            // No effectiveness window, so it closes at once, and the answer shows it.
            expect(res.body).toEqual({ stage: 'closed' });
            expect(await h.temporal.workflow.getHandle(target.caseId).result()).toEqual({
              cycle: 1,
              outcome: 'standardised',
            });
            expect((await caseRow(target.caseId))?.status).toBe('closed');
            expect(await caseRow(target.caseId)).toMatchObject({
              outcome: 'standardised',
              data: { adopted: 'The second-line queue is standard' },
            });
          },
          refused: async () =>
            expect(await caseRow(target.caseId)).toMatchObject({
              status: 'open',
              stage: 'act',
              data: { adopted: null },
            }),
        },
      );
    },
  },
  {
    method: 'GET',
    route: '/api/reports/control-effectiveness',
    allowed: everyone(),
    call: () => ({
      path: '/api/reports/control-effectiveness?periodDays=30',
      succeeded: (res) => {
        expect(res.body).toMatchObject({
          periodDays: 30,
          riskLevel: expect.any(String),
          rectificationItems: { total: expect.any(Number) },
          improvementCycles: expect.any(Array),
        });
        expect(res.body.platformKpis).toHaveProperty('incidents_total');
      },
    }),
  },
  {
    method: 'GET',
    route: '/api/reports/control-effectiveness.html',
    allowed: everyone(),
    call: () => ({
      path: '/api/reports/control-effectiveness.html?periodDays=30',
      succeeded: (res) => {
        expect(res.headers.get('content-type')).toMatch(/^text\/html/);
        expect(res.body).toContain('控制有效性');
        expect(res.body).toContain('Last 30 days');
      },
    }),
  },
];

/** What a role gets: the auditor is read-only on every mutating endpoint, whatever the row says. */
function outcomeFor(endpoint: Endpoint, role: TestUser): Outcome {
  if (role === 'auditor' && endpoint.method !== 'GET') return endpoint.auditor ?? READ_ONLY;
  const outcome = endpoint.allowed[role] ?? endpoint.others;
  if (!outcome) throw new Error(`no expectation for ${role} on ${endpoint.method} ${endpoint.route}`);
  return outcome;
}

const isSuccess = (o: Outcome) => o.status < 300;

function send(
  call: Call,
  method: string,
  auth: { as?: TestUser; token?: string | null; headers?: Record<string, string> },
) {
  return h.api(method, call.path, { ...auth, json: call.json, body: call.form?.() });
}

// ---------------------------------------------------------------- tests

describe('auth matrix', () => {
  it('covers every operation in the OpenAPI document, each behind the bearer scheme', async () => {
    const doc = await h.api('GET', '/openapi.json');
    const documented = Object.entries(doc.body.paths as Record<string, Record<string, { security?: unknown }>>).flatMap(
      ([path, ops]) =>
        Object.entries(ops).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, security: op.security })),
    );
    // Step routes derived from a contract are walked by contractSteps.test.ts; a hand row here is optional.
    const covered = new Set([...ENDPOINTS.map((e) => `${e.method} ${e.route}`), ...CONTRACT_ROUTES.keys()]);
    expect(documented.map((d) => d.key).sort()).toEqual([...covered].sort());
    for (const d of documented) expect(d.security, d.key).toEqual([{ bearerAuth: [] }]);
    expect(doc.body.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  describe('public: no token needed, and a bad one is ignored', () => {
    const PUBLIC: Array<[string, (res: Res) => void]> = [
      ['/health', (res) => expect(res.body).toEqual({ status: 'ok', database: 'ok', temporal: 'ok' })],
      ['/healthz', (res) => expect(res.body).toEqual({ status: 'ok' })],
      ['/readyz', (res) => expect(res.body).toEqual({ status: 'ready', database: 'ok', temporal: 'ok' })],
      ['/openapi.json', (res) => expect(res.body.openapi).toBe('3.1.0')],
      ['/docs', (res) => expect(res.body).toContain('/docs/init.js')],
      ['/docs/init.js', (res) => expect(res.body).toContain("url: '/openapi.json'")],
      ['/docs/assets/swagger-ui.css', (res) => expect(res.headers.get('content-type')).toMatch(/^text\/css/)],
    ];
    for (const [path, check] of PUBLIC) {
      it(`GET ${path}`, async () => {
        for (const token of [null, 'nonsense']) {
          const res = await h.api('GET', path, { token });
          expect(res.status, `${path} with token ${token}`).toBe(200);
          check(res);
        }
      });
    }
  });

  for (const endpoint of ENDPOINTS) {
    const label = `${endpoint.method} ${endpoint.route}`;

    describe(`${label} without a valid token → 401`, () => {
      const variants: Array<[string, () => { token?: string | null; headers?: Record<string, string> }]> = [
        ['no Authorization header', () => ({ token: null })],
        [
          'a non-bearer scheme',
          () => ({ token: null, headers: { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` } }),
        ],
        ['Bearer nonsense', () => ({ token: 'nonsense' })],
        // The token of a user who may call this endpoint, revoked.
        [
          'a revoked token',
          () => ({ token: f.revoked[ROLES.find((r) => isSuccess(outcomeFor(endpoint, r))) ?? 'admin'] }),
        ],
        ['the token of a deactivated user', () => ({ token: f.inactive })],
      ];
      for (const [name, auth] of variants) {
        it(name, async () => {
          const call = await endpoint.call('admin', false);
          const before = await snapshot(call.workflowId);
          const res = await send(call, endpoint.method, auth());
          expectEnvelope(res, 401, 'UNAUTHENTICATED');
          expect(res.body.error.message).toMatch(
            name === 'no Authorization header' || name === 'a non-bearer scheme'
              ? /Authorization: Bearer/
              : /unknown or revoked/,
          );
          expect(await snapshot(call.workflowId)).toEqual(before);
          await call.refused?.();
        });
      }
    });

    describe(`${label} by role`, () => {
      for (const role of ROLES) {
        const expected = outcomeFor(endpoint, role);
        const title = isSuccess(expected)
          ? `${role} → ${expected.status}`
          : `${role} → ${expected.status} ${expected.reason ?? expected.code}`;
        const refuse = async (whole: boolean, call?: Call) => {
          call ??= await endpoint.call(role, false);
          const before = await snapshot(call.workflowId);
          const res = await send(call, endpoint.method, { as: role });
          expectEnvelope(res, expected.status, expected.code!);
          if (expected.reason) expect(res.body.error.reason).toBe(expected.reason);
          else expect(res.body.error).not.toHaveProperty('reason');
          if (expected.message) expect(res.body.error.message).toMatch(expected.message);
          const after = await snapshot(call.workflowId);
          expect(after.history).toBe(before.history);
          await call.refused?.();
          if (whole) expect(after).toEqual(before);
        };
        if (expected.notYet) {
          // The wanted outcome, on a fresh target: today's call may change it.
          it.fails(`${title} — KNOWN APP BUG: ${expected.notYet}`, async () => {
            const call = await endpoint.call(role, true);
            try {
              if (!isSuccess(expected)) return await refuse(true, call);
              const res = await send(call, endpoint.method, { as: role });
              expect(res.status, JSON.stringify(res.body)).toBe(expected.status);
              await call.succeeded?.(res);
            } finally {
              await call.cleanup?.();
            }
          });
          continue;
        }
        if (!isSuccess(expected) && expected.bug) {
          // The refusal, its envelope and the workflow's history are checked here…
          it(`${title} (history and target unchanged)`, () => refuse(false));
          // …and the whole snapshot in an it.fails until the bug is fixed.
          it.fails(`${role}: the refused call changes nothing — KNOWN APP BUG: ${expected.bug}`, () => refuse(true));
          continue;
        }
        it(title, async () => {
          const mutating = endpoint.method !== 'GET';
          if (isSuccess(expected)) {
            const call = await endpoint.call(role, mutating);
            const res = await send(call, endpoint.method, { as: role });
            expect(res.status, JSON.stringify(res.body)).toBe(expected.status);
            await call.succeeded?.(res);
            return;
          }
          await refuse(true);
        });
      }
    });
  }

  it('refused updates never reached the workflow history; the shared targets are still waiting', async () => {
    const accepted = async (workflowId: string) => (await acceptedSteps(h, workflowId)).length;
    expect(await accepted(f.openApproval.caseId)).toBe(0);
    expect(await accepted(f.rectOpen.taskId)).toBe(0);
    expect(await accepted(f.rectSubmitted.taskId)).toBe(1); // its owner's own submission
    const rows = await h.sql('select id, status from tasks where id = any($1) order by id', [
      [f.openApproval.approvalTaskId, f.rectOpen.taskId, f.rectSubmitted.taskId],
    ]);
    expect(Object.fromEntries(rows.map((r) => [r.id, r.status]))).toEqual({
      [f.openApproval.approvalTaskId]: 'open',
      [f.rectOpen.taskId]: 'open',
      [f.rectSubmitted.taskId]: 'submitted',
    });
    // The supplier reviews: only the uploads, checks and scores of the fixtures themselves.
    expect(await accepted(f.reviewDocuments.caseId)).toBe(0);
    expect(await accepted(f.reviewChecks.caseId)).toBe(REVIEW_DOCUMENTS.length);
    expect(await accepted(f.reviewScoring.caseId)).toBe(REVIEW_DOCUMENTS.length + 1);
    const reviews = await h.sql('select id, stage from cases where id = any($1)', [
      [f.reviewDocuments.caseId, f.reviewChecks.caseId, f.reviewScoring.caseId],
    ]);
    expect(Object.fromEntries(reviews.map((r) => [r.id, r.stage]))).toEqual({
      [f.reviewDocuments.caseId]: 'documents',
      [f.reviewChecks.caseId]: 'checks',
      [f.reviewScoring.caseId]: 'scoring',
    });
    // Every review a successful call started was ended once it had settled.
    expect([...reviewWorkflows].sort()).toEqual(
      [f.reviewDocuments.caseId, f.reviewChecks.caseId, f.reviewScoring.caseId].sort(),
    );
    // The incidents and complaints: only the fixtures' own steps, and each still waits where they left it.
    expect(await accepted(f.incidentReported.caseId)).toBe(0);
    expect(await accepted(f.incidentHandling.caseId)).toBe(1); // acknowledged
    expect(await accepted(f.incidentEvaluation.caseId)).toBe(2); // acknowledged, stabilised
    expect(await accepted(f.incidentEvaluated.caseId)).toBe(3); // acknowledged, stabilised, evaluated
    expect(await accepted(f.complaintInvestigating.caseId)).toBe(0);
    expect(await accepted(f.complaintHandling.caseId)).toBe(1); // its investigation
    const loops = await h.sql('select id, stage, status from cases where id = any($1)', [
      [
        f.incidentReported,
        f.incidentHandling,
        f.incidentEvaluation,
        f.incidentEvaluated,
        f.complaintInvestigating,
        f.complaintHandling,
      ].map((c) => c.caseId),
    ]);
    expect(Object.fromEntries(loops.map((r) => [r.id, `${r.status} ${r.stage}`]))).toEqual({
      [f.incidentReported.caseId]: 'open reported',
      [f.incidentHandling.caseId]: 'open handling',
      [f.incidentEvaluation.caseId]: 'open evaluation',
      // An evaluated grade IV incident without items waits in evaluation for its close-out request.
      [f.incidentEvaluated.caseId]: 'open evaluation',
      [f.complaintInvestigating.caseId]: 'open investigating',
      [f.complaintHandling.caseId]: 'open handling',
    });
    // Every incident, complaint and item a successful call started was ended once it had settled.
    // The audits refusals went to still wait at their stage.
    const audits = Object.entries(auditTargets) as Array<[string, Promise<{ caseId: string }>]>;
    for (const [stage, target] of audits) expect((await caseRow((await target).caseId))?.stage).toBe(stage);
    expect([...caseWorkflows].sort()).toEqual(
      [
        ...[
          f.incidentReported,
          f.incidentHandling,
          f.incidentEvaluation,
          f.incidentEvaluated,
          f.complaintInvestigating,
          f.complaintHandling,
        ].map((c) => c.caseId),
        ...(await Promise.all(audits.map(([, target]) => target))).map((t) => t.caseId),
        f.riskAssessment.caseId,
      ].sort(),
    );
    // The drills: no update beyond the fixtures' own steps, each still waiting where they left it.
    const drills = [f.drillPlanning, f.drillConduct, f.drillEvaluation, f.drillSummary];
    for (const d of drills) expect(await acceptedUpdates(d.caseId), d.caseId).toBe(f.drillAccepted[d.caseId]);
    const drillRows = await h.sql('select id, stage, status from cases where id = any($1)', [
      [...drills.map((d) => d.caseId), f.revisionDraft.revisionId],
    ]);
    expect(Object.fromEntries(drillRows.map((r) => [r.id, `${r.status} ${r.stage}`]))).toEqual({
      [f.drillPlanning.caseId]: 'open planning',
      [f.drillConduct.caseId]: 'open conduct',
      [f.drillEvaluation.caseId]: 'open evaluation',
      [f.drillSummary.caseId]: 'open summary',
      [f.revisionDraft.revisionId]: 'open draft',
    });
    expect(await acceptedUpdates(f.revisionDraft.revisionId)).toBe(0);
    // No second revision of the shared plan; every revision, clock and drill a successful call started was ended.
    expect(await h.sql('select 1 from cases where id = $1', [`plan-revision:${f.plan}:v2`])).toHaveLength(0);
    expect([...drillWorkflows].sort()).toEqual(
      [...drills.map((d) => d.caseId), f.revisionDraft.revisionId, `plan-revision-clock:${f.plan}`].sort(),
    );
    // The improvement cycles: no update beyond the fixtures' own steps (the decisions are Updates too), each
    // still waiting where they left it.
    for (const c of [f.cyclePlan, f.cycleActuals, f.cycleStandardise])
      expect(await acceptedUpdates(c.caseId), c.caseId).toBe(f.cycleAccepted[c.caseId]);
    const cycles = await h.sql('select id, stage, status from cases where id = any($1)', [
      [f.cyclePlan, f.cycleActuals, f.cycleStandardise].map((c) => c.caseId),
    ]);
    expect(Object.fromEntries(cycles.map((r) => [r.id, `${r.status} ${r.stage}`]))).toEqual({
      [f.cyclePlan.caseId]: 'open plan',
      [f.cycleActuals.caseId]: 'open check',
      [f.cycleStandardise.caseId]: 'open act',
    });
    // Every cycle a successful call started was ended once it had settled.
    expect([...cycleWorkflows].sort()).toEqual(
      [f.cyclePlan, f.cycleActuals, f.cycleStandardise].map((c) => c.caseId).sort(),
    );
    const chain = await h.api('GET', '/api/audit/verify', { as: 'auditor' });
    expect(chain.body.ok).toBe(true);
  });
});
