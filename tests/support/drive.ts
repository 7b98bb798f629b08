/**
 * Builders that drive a case of each process to a given stage through the API,
 * as its users would, for the suites that need cases part-way through
 * (auth matrix, bad input). Every API call answers once its effect can be
 * read, so the builders do not poll after their own calls; they only wait for
 * what a timer or a finished workflow causes. Each builder ends with `quiet`,
 * so a snapshot taken next sees nothing still being written.
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import { expect } from 'vitest';
import { creditCodeCheckChar } from '../../domain/uscc';
import { eventually, type Harness, type TestUser } from './harness';

const enc = encodeURIComponent;

export type IncidentRef = { incidentId: string; caseId: string };
export type ComplaintRef = { complaintId: string; caseId: string };
export type ReviewRef = { supplierId: string; caseId: string };
export type RevisionRef = { planId: string; revisionId: string };
export type DrillRef = { planId: string; caseId: string };
export type DrillStage = 'planning' | 'conduct' | 'evaluation' | 'summary';
export type CycleRef = { cycleKey: string; caseId: string };

/** The kinds of long-running workflow a suite must end after itself. */
export type WorkflowKind = 'review' | 'case' | 'drill' | 'cycle';

/** The year of a fixture supplier's first review (createDriver's registerSupplier): a year no test reviews. */
export const FIRST_REVIEW_YEAR = 2000;

export const REVIEW_DOCUMENTS = [
  'business_licence',
  'operating_permit',
  'financial_statements',
  'product_certificates',
];
export const SCORES = {
  legal_compliance: 4,
  financial_stability: 4,
  technical_capability: 4,
  market_reputation: 4,
  cooperation_history: 4,
};
export const PERFORMANCE = {
  samplingResult: 'pass',
  complaints: 1,
  logisticsDelayRate: 0.02,
  financialStatementsAbnormal: false,
  qualityScore: 90,
};
export const FEEDBACK = {
  cause: 'The bank rejected the file',
  measures: 'Refund resent',
  followUpPlan: 'Call back in 3 days',
};
export const DRILL_PLAN = {
  scenario: 'Ransomware on the payment cluster',
  scheduledAt: '2026-12-01T02:00:00Z',
  participants: ['ops', 'security', 'PR'],
};
export const DRILL_CONDUCT = {
  startedAt: '2026-11-01T02:00:00Z',
  endedAt: '2026-11-01T05:00:00Z',
  observations: 'Failover took 40 minutes',
};
export const DRILL_SCORES = {
  command: 85,
  information_reporting: 80,
  resource_dispatch: 75,
  public_opinion_response: 70,
};
export const DRILL_SUMMARY = {
  problems: 'Slow failover',
  lessons: 'Automate the DNS switch',
  planChanges: 'Add the DNS runbook',
  revisionNeeded: false,
};
export const PDCA_KPI = {
  key: 'complaint_resolution_hours',
  name: 'Complaint resolution time',
  unit: 'h',
  baseline: 48,
  target: 24,
  direction: 'decrease',
};
export const PDCA_ACTION = { title: 'Add a second-line queue', ownerId: 'owner' };

/** The document of every plan's v1 draft. */
export const PLAN_V1_TEXT = 'plan v1';

/** Impact of 50 users (grade IV), or of 20,000 (grade III: management must be told before it is stabilised). */
export const IMPACT = { IV: { affectedUsers: 50, amountCny: 0 }, III: { affectedUsers: 20_000, amountCny: 0 } };

/** A multipart body with one text file and the given fields. */
export function fileForm(
  content: Buffer | string | null,
  extra: Record<string, string> = {},
  name = 'proof.txt',
  type = 'text/plain',
) {
  const form = new FormData();
  if (content !== null)
    form.append('file', new File([typeof content === 'string' ? Buffer.from(content) : content], name, { type }));
  for (const [k, v] of Object.entries(extra)) form.append(k, v);
  return form;
}

/**
 * Unified social credit codes of one suite: review workflow ids are global on
 * the shared dev server, so each suite takes its own first 11 characters.
 * Usable at import time (no harness needed).
 */
export function creditCodes(first11: string) {
  let serial = 0;
  return () => {
    serial += 1;
    const first17 = `${first11}${String(process.pid % 1000).padStart(3, '0')}${String(serial).padStart(3, '0')}`;
    return first17 + creditCodeCheckChar(first17);
  };
}

export const historyLength = async (h: Harness, workflowId: string) =>
  ((await h.temporal.workflow.getHandle(workflowId).fetchHistory()).events ?? []).length;

export async function expectNotStarted(h: Harness, workflowId: string) {
  await expect(h.temporal.workflow.getHandle(workflowId).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  expect(await h.sql('select 1 from cases where id = $1', [workflowId])).toHaveLength(0);
}

/**
 * Waits until a workflow is blocked on its conditions and timers (no activity
 * and no workflow task pending): it writes nothing more, to the read model or
 * its history, until someone acts or a timer fires.
 */
export async function quiet(h: Harness, workflowId: string) {
  await eventually(async () => {
    const { raw } = await h.temporal.workflow.getHandle(workflowId).describe();
    return (raw.pendingActivities?.length ?? 0) === 0 && !raw.pendingWorkflowTask;
  }, 20_000);
}

export const caseRow = async (h: Harness, caseId: string) =>
  (await h.sql('select stage, status, outcome, initiator_id, owner_id, data from cases where id = $1', [caseId]))[0] as
    | {
        stage: string;
        status: string;
        outcome: string | null;
        initiator_id: string;
        owner_id: string;
        data: Record<string, any>;
      }
    | undefined;

const ok = async (res: Promise<{ status: number; body: any }>, status = 200) => {
  const done = await res;
  expect(done.status, JSON.stringify(done.body)).toBe(status);
  return done.body;
};

/**
 * The builders of one suite. `label` names what they create; `creditCode`
 * gives the suite's own supplier codes; `started` hears of every long-running
 * workflow they start, so the suite can end it.
 */
export function createDriver(
  h: Harness,
  options: {
    label: string;
    creditCode: () => string;
    started?: (kind: WorkflowKind, workflowId: string) => void;
    ended?: (kind: WorkflowKind, workflowId: string) => void;
  },
) {
  const started = options.started ?? (() => undefined);
  const ended = options.ended ?? (() => undefined);
  const decide = (taskId: string, as: TestUser, json: unknown) =>
    h.api('POST', `/api/tasks/${enc(taskId)}/decision`, { as, json });
  const approve = async (taskId: string, as: TestUser) =>
    expect((await decide(taskId, as, { decision: 'approve' })).body.status).toBe('approved');
  const uploadEvidence = async (caseId: string, as: TestUser = 'owner', text = 'hello') =>
    (await ok(h.api('POST', `/api/cases/${enc(caseId)}/evidence`, { as, body: fileForm(text) }), 201)).id as string;

  /** An approval request (owner 'owner') whose approval task is open. */
  async function startApproval(json: Record<string, unknown> = {}, as: TestUser = 'lead') {
    const requestKey = h.unique(options.label.toUpperCase().replace(/\W/g, ''));
    const body = await ok(
      h.api('POST', '/api/cases/approval-requests', {
        as,
        json: {
          requestKey,
          title: `${options.label} ${requestKey}`,
          probability: 1,
          impact: 2,
          ownerId: 'owner',
          ...json,
        },
      }),
      201,
    );
    return { caseId: body.caseId as string, approvalTaskId: `${body.caseId}:approval` };
  }

  /** Approved with one condition: its rectification item is open, owned by 'owner'. */
  async function openRectification(json: Record<string, unknown> = {}) {
    const c = await startApproval(json);
    await ok(decide(c.approvalTaskId, 'approver', { decision: 'approve_with_conditions', conditions: ['Fix X'] }));
    const taskId = `${c.caseId}:rectification:1`;
    const [task] = await h.sql('select kind, assignee_id, status from tasks where id = $1', [taskId]);
    expect(task).toEqual({ kind: 'rectification', assignee_id: 'owner', status: 'open' });
    return { ...c, taskId };
  }

  /**
   * A supplier registered by mgr, who owns it. A registered supplier is
   * pending until its first review is approved: unless `status` says
   * 'pending', its first review (FIRST_REVIEW_YEAR: started by lead, reviewed
   * by mgr, low risk) is approved by approver, so it is active; 'suspended'
   * and 'terminated' then go through an approved status change asked for by
   * mgr (ending cooperation approved by approver and approver2).
   */
  async function registerSupplier(
    extra: { name?: string; status?: 'pending' | 'active' | 'suspended' | 'terminated' } = {},
  ) {
    const creditCode = options.creditCode();
    await ok(
      h.api('POST', '/api/suppliers', {
        as: 'manager',
        json: {
          creditCode,
          name: `${extra.name ?? `${options.label} supplier`} ${creditCode.slice(-6)}`,
          category: 'logistics',
          tier: 'core',
          ownerId: 'mgr',
        },
      }),
      201,
    );
    const status = extra.status ?? 'active';
    if (status === 'pending') return creditCode;
    await approveFirstReview(creditCode);
    if (status === 'suspended') await changeSupplierStatus(creditCode, 'suspend', ['approver']);
    if (status === 'terminated') await changeSupplierStatus(creditCode, 'terminate', ['approver', 'approver2']);
    return creditCode;
  }

  /** A pending supplier's first review, approved at low risk by approver: the supplier becomes active. */
  async function approveFirstReview(supplierId: string) {
    const { caseId } = await reviewAt('scoring', supplierId, FIRST_REVIEW_YEAR);
    await ok(
      h.api('POST', `/api/supplier-reviews/${enc(caseId)}/scores`, {
        as: 'manager',
        json: { scores: SCORES, impact: 1 },
      }),
    );
    await approve(`${caseId}:decision`, 'approver');
    await h.temporal.workflow.getHandle(caseId).result();
    ended('review', caseId);
    const [row] = await h.sql('select status from suppliers where id = $1', [supplierId]);
    expect(row).toEqual({ status: 'active' });
    return caseId;
  }

  /** A status change asked for by mgr and approved by `approvers`: answers once the supplier shows it. */
  async function changeSupplierStatus(supplierId: string, change: string, approvers: TestUser[]) {
    const body = await ok(
      h.api('POST', `/api/suppliers/${supplierId}/status-changes`, {
        as: 'manager',
        json: { change, reason: 'fixture' },
      }),
      201,
    );
    for (const as of approvers) await ok(decide(body.approvalTaskId, as, { decision: 'approve' }));
    expect(await h.temporal.workflow.getHandle(body.caseId).result()).toMatchObject({ applied: true });
    return body.caseId as string;
  }

  /** A review started by lead, reviewed by mgr (the supplier's owner), taken to `stage`. */
  async function reviewAt(stage: 'documents' | 'checks' | 'scoring', supplierId: string, year: number) {
    const body = await ok(h.api('POST', '/api/supplier-reviews', { as: 'lead', json: { supplierId, year } }), 201);
    const caseId: string = body.caseId;
    started('review', caseId);
    if (stage !== 'documents')
      for (const documentType of REVIEW_DOCUMENTS)
        await ok(
          h.api('POST', `/api/supplier-reviews/${enc(caseId)}/documents`, {
            as: 'manager',
            body: fileForm(`${documentType} of ${caseId}`, { documentType }, 'doc.pdf'),
          }),
        );
    if (stage === 'scoring')
      await ok(
        h.api('POST', `/api/supplier-reviews/${enc(caseId)}/checks`, {
          as: 'manager',
          json: { creditRating: 'AA', backgroundCheck: 'clear' },
        }),
      );
    await quiet(h, caseId);
    return { supplierId, caseId };
  }

  /** A report on a system of its own: a repeat (same category and system within 90 days) changes the plan. */
  const incidentReport = (incidentId: string, extra: Record<string, unknown> = {}) => ({
    incidentId,
    title: `${options.label} incident ${incidentId}`,
    category: 'system_failure',
    system: h.unique('system'),
    occurredAt: new Date(Date.now() - 60_000).toISOString(),
    impact: IMPACT.IV,
    ...extra,
  });

  async function incidentStep(target: IncidentRef, step: string, json: unknown = {}) {
    await ok(h.api('POST', `/api/incidents/${target.incidentId}/${step}`, { as: 'manager', json }));
  }

  /**
   * An incident reported by mgr, its owner, taken to `stage`: reported (waiting
   * to be acknowledged), handling (acknowledged), evaluation (stabilised; a
   * grade III one tells management first), evaluated (its follow-up evaluation
   * recorded by mgr: short at grade IV, with the root cause at III; ready for
   * its close-out request).
   */
  async function incidentAt(stage: 'reported' | 'handling' | 'evaluation' | 'evaluated', grade: 'III' | 'IV' = 'IV') {
    const incidentId = h.unique('INC');
    const caseId = `incident:${incidentId}`;
    const body = await ok(
      h.api('POST', '/api/incidents', { as: 'manager', json: incidentReport(incidentId, { impact: IMPACT[grade] }) }),
      201,
    );
    expect(body.grade).toBe(grade);
    started('case', caseId);
    const target = { incidentId, caseId };
    if (stage !== 'reported') await incidentStep(target, 'acknowledge');
    if (stage === 'evaluation' || stage === 'evaluated') {
      if (grade === 'III')
        await incidentStep(target, 'notifications', {
          audience: 'management',
          notifiedAt: new Date().toISOString(),
          summary: 'Told the duty director',
        });
      await incidentStep(target, 'stabilise', { summary: 'Rolled back the release' });
      expect((await caseRow(h, caseId))?.stage).toBe('evaluation');
    }
    if (stage === 'evaluated')
      await incidentStep(target, 'evaluation', {
        ...(grade === 'III' ? { rootCause: 'A release skipped its canary stage' } : {}),
        summary: 'A release broke the service until it was rolled back',
        lessons: 'Canary every release',
      });
    await quiet(h, caseId);
    return target;
  }

  /** A complaint accepted by mgr, handled by owner: investigating, or handling (investigated). */
  async function complaintAt(stage: 'investigating' | 'handling') {
    const complaintId = h.unique('CMP');
    const caseId = `complaint:${complaintId}`;
    await ok(
      h.api('POST', '/api/complaints', {
        as: 'manager',
        // A customer of its own: a repeated complaint would be flagged (and notified) as it starts.
        json: {
          complaintId,
          customerRef: h.unique('CUST'),
          channel: 'email',
          type: 'transaction_dispute',
          subject: 'Refund not received',
          handlerId: 'owner',
        },
      }),
      201,
    );
    started('case', caseId);
    if (stage === 'handling')
      await ok(
        h.api('POST', `/api/complaints/${complaintId}/investigation`, {
          as: 'manager',
          json: { findings: 'The refund file was rejected by the bank' },
        }),
      );
    await quiet(h, caseId);
    return { complaintId, caseId };
  }

  /** A plan registered by admin and owned by mgr: its revision v1 waits for mgr's draft. */
  async function registerPlan(): Promise<RevisionRef> {
    const planId = h.unique('EP');
    const body = await ok(
      h.api('POST', '/api/emergency-plans', {
        as: 'admin',
        json: { planId, title: `${options.label} plan ${planId}`, type: 'network_security', ownerId: 'mgr' },
      }),
      201,
    );
    const revisionId = `plan-revision:${planId}:v1`;
    expect(body).toEqual({ planId, revisionCaseId: revisionId });
    started('drill', revisionId);
    await quiet(h, revisionId);
    return { planId, revisionId };
  }

  /** The owner's draft of a revision: waiting for its review. */
  async function draftRevision(target: RevisionRef) {
    await ok(
      h.api('POST', `/api/plan-revisions/${enc(target.revisionId)}/draft`, {
        as: 'manager',
        body: fileForm(PLAN_V1_TEXT, { summary: 'First version' }, 'plan-v1.pdf', 'application/pdf'),
      }),
    );
    await quiet(h, target.revisionId);
  }

  /** Registered, and v1 published: drafted by mgr, reviewed by lead, approved by approver. Its revision clock runs. */
  async function publishPlan(): Promise<string> {
    const target = await registerPlan();
    const { planId, revisionId } = target;
    await draftRevision(target);
    await approve(`${revisionId}:review-1`, 'lead');
    await approve(`${revisionId}:approval-1`, 'approver');
    await h.temporal.workflow.getHandle(revisionId).result();
    ended('drill', revisionId);
    started('drill', `plan-revision-clock:${planId}`);
    await eventually(async () => (await caseRow(h, revisionId))?.status === 'closed');
    const [plan] = await h.sql('select status, current_version from emergency_plans where id = $1', [planId]);
    expect(plan).toEqual({ status: 'active', current_version: 1 });
    await quiet(h, `plan-revision-clock:${planId}`);
    return planId;
  }

  /** A drill opened by lead on a plan owned by mgr, taken by mgr to `stage` (its plan approved by approver). */
  async function drillAt(stage: DrillStage, planId: string, year: number): Promise<DrillRef> {
    const opened = await ok(h.api('POST', '/api/drills', { as: 'lead', json: { planId, year } }), 201);
    const caseId: string = opened.caseId;
    started('drill', caseId);
    const step = (name: string, json: unknown) =>
      ok(h.api('POST', `/api/drills/${enc(caseId)}/${name}`, { as: 'manager', json }));
    if (stage !== 'planning') {
      await step('plan', DRILL_PLAN);
      await approve(`${caseId}:plan-approval-1`, 'approver');
    }
    if (stage === 'evaluation' || stage === 'summary') await step('conduct', DRILL_CONDUCT);
    if (stage === 'summary') await step('evaluation', { scores: DRILL_SCORES, findings: [] });
    expect((await caseRow(h, caseId))?.stage).toBe(stage === 'planning' ? 'planning' : stage);
    await quiet(h, caseId);
    return { planId, caseId };
  }

  /** A cycle owned by mgr (its one action by owner), checked 1s after Do starts. */
  const cycleBody = (cycleKey: string, extra: Record<string, unknown> = {}) => ({
    cycleKey,
    title: `${options.label} cycle ${cycleKey}`,
    objective: 'Resolve complaints within a day',
    ownerId: 'mgr',
    kpis: [PDCA_KPI],
    actions: [PDCA_ACTION],
    checkIn: '1s',
    ...extra,
  });

  /** A cycle opened by lead, owned by mgr: its plan waits for approval. */
  async function cycleOpened(): Promise<CycleRef> {
    const cycleKey = h.unique('PDCA');
    const caseId = `pdca:${cycleKey}`;
    await ok(
      h.api('POST', '/api/improvement-cycles', { as: 'lead', json: cycleBody(cycleKey, { source: 'kpi_gap' }) }),
      201,
    );
    started('cycle', caseId);
    await quiet(h, caseId);
    return { cycleKey, caseId };
  }

  /** Plan approved (approver), the action done (owner) and verified (approver), the check date passed: awaiting KPI values. */
  async function cycleAtActuals(): Promise<CycleRef> {
    const target = await cycleOpened();
    const { caseId } = target;
    await approve(`${caseId}:c1-plan-approval-1`, 'approver');
    const item = `${caseId}:c1:action:1`;
    const evidenceId = await uploadEvidence(caseId);
    await ok(h.api('POST', `/api/tasks/${enc(item)}/submission`, { as: 'owner', json: { evidenceIds: [evidenceId] } }));
    await ok(h.api('POST', `/api/tasks/${enc(item)}/verification`, { as: 'approver', json: { verdict: 'accept' } }));
    // The check date is a timer (checkIn 1s): wait for it.
    await eventually(
      async () =>
        (await h.sql(`select 1 from audit_events where case_id = $1 and action = 'pdca.awaiting_actuals'`, [caseId]))
          .length === 1,
      20_000,
    );
    await quiet(h, caseId);
    return target;
  }

  /** KPI value entered by mgr and verified by approver2: `actual` 20 meets the target (act), 40 misses it (cycle 2, plan). */
  async function cycleChecked(actual: number): Promise<CycleRef> {
    const target = await cycleAtActuals();
    const { caseId, cycleKey } = target;
    await ok(
      h.api('POST', `/api/improvement-cycles/${cycleKey}/actuals`, {
        as: 'manager',
        json: { actuals: { [PDCA_KPI.key]: actual } },
      }),
    );
    await approve(`${caseId}:c1-verification-1`, 'approver2');
    if (actual <= PDCA_KPI.target) expect((await caseRow(h, caseId))?.stage).toBe('act');
    // A missed target continues as new into cycle 2: the new run writes its stage after the call answered.
    else
      await eventually(async () => {
        const row = await caseRow(h, caseId);
        return row?.data.cycle === 2 && row.stage === 'plan';
      }, 20_000);
    await quiet(h, caseId);
    return target;
  }

  return {
    decide,
    uploadEvidence,
    startApproval,
    openRectification,
    registerSupplier,
    approveFirstReview,
    changeSupplierStatus,
    reviewAt,
    incidentReport,
    incidentAt,
    complaintAt,
    registerPlan,
    draftRevision,
    publishPlan,
    drillAt,
    cycleBody,
    cycleOpened,
    cycleAtActuals,
    cycleChecked,
  };
}

/** The task is open now: no polling, the call that opened it answered once it could be acted on. */
export async function expectTask(h: Harness, taskId: string) {
  expect(await h.sql('select 1 from tasks where id = $1', [taskId]), `task ${taskId}`).toHaveLength(1);
}

/** The case is at `stage` now (no polling). */
export async function expectStage(h: Harness, caseId: string, stage: string) {
  expect((await caseRow(h, caseId))?.stage, caseId).toBe(stage);
}

/** Everything a refused call must not touch, across the whole database. */
export async function databaseSnapshot(h: Harness) {
  const [row] = await h.sql(`
    select
      (select count(*) from cases)::int as cases,
      (select count(*) from tasks)::int as tasks,
      (select count(*) from audit_events)::int as audit_events,
      (select coalesce(max(seq), 0)::text from audit_events) as last_audit_seq,
      (select count(*) from evidence)::int as evidence,
      (select count(*) from notifications)::int as notifications,
      ${GLOBAL_COLUMNS}`);
  return row;
}

/** What no running case writes by itself: a refusal that registers, starts or issues something still shows here. */
const GLOBAL_COLUMNS = `
      (select count(*) from users)::int as users,
      (select count(*) from users where active)::int as active_users,
      (select count(*) from api_tokens)::int as api_tokens,
      (select count(*) from api_tokens where revoked_at is null)::int as live_tokens,
      (select count(*) from suppliers)::int as suppliers,
      (select count(*) from supplier_performance)::int as supplier_performance,
      (select count(*) from emergency_plans)::int as emergency_plans,
      (select count(*) from plan_versions)::int as plan_versions,
      (select max(updated_at)::text from suppliers) as suppliers_updated_at,
      (select max(updated_at)::text from supplier_performance) as supplier_performance_updated_at,
      (select max(updated_at)::text from emergency_plans) as emergency_plans_updated_at`;

/**
 * The state a refused call on one workflow must leave as it was, scoped to its
 * case (a task's workflow belongs to the case of its task): the case row, its
 * tasks, evidence, audit events and notifications, and the workflow's history
 * length; across the database only how many cases exist and what no running
 * case writes by itself. Other cases' timers (reminders, escalations, check
 * dates) cannot disturb it. Without a workflow, the whole database.
 */
export async function snapshot(h: Harness, workflowId?: string) {
  if (!workflowId) return { db: await databaseSnapshot(h), history: null };
  const [row] = await h.sql(
    `with scope as (select coalesce((select case_id from tasks where id = $1), $1) as id)
    select
      (select count(*) from cases)::int as cases,
      (select row_to_json(c)::text from cases c, scope where c.id = scope.id) as case_row,
      (select coalesce(json_agg(t order by t.id), '[]')::text from tasks t, scope where t.case_id = scope.id) as tasks,
      (select count(*) from evidence e, scope where e.case_id = scope.id)::int as evidence,
      (select count(*) from audit_events a, scope where a.case_id = scope.id)::int as audit_events,
      (select coalesce(max(seq), 0)::text from audit_events a, scope where a.case_id = scope.id) as last_audit_seq,
      (select count(*) from notifications n, scope where n.case_id = scope.id)::int as notifications,
      ${GLOBAL_COLUMNS}`,
    [workflowId],
  );
  // A scope with no case would compare nothing.
  expect(row.case_row, `a case for ${workflowId}`).not.toBeNull();
  return { db: row, history: await historyLength(h, workflowId) };
}

/** Ends what a suite left running (quiet first, so nothing writes after); one that has ended is left as it is. */
export async function endWorkflows(h: Harness, workflowIds: Iterable<string>, reason: string) {
  for (const id of [...workflowIds]) {
    await quiet(h, id).catch(() => undefined);
    await h.temporal.workflow
      .getHandle(id)
      .terminate(reason)
      .catch(() => undefined);
  }
}
