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
import { createHash } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { beforeAll, describe, expect, it } from 'vitest';
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

/** Everything a refused call must not touch. */
async function dbSnapshot() {
  const [row] = await h.sql(`
    select
      (select count(*) from cases)::int as cases,
      (select count(*) from tasks)::int as tasks,
      (select count(*) from audit_events)::int as audit_events,
      (select coalesce(max(seq), 0)::text from audit_events) as last_audit_seq,
      (select count(*) from users)::int as users,
      (select count(*) from users where active)::int as active_users,
      (select count(*) from api_tokens)::int as api_tokens,
      (select count(*) from api_tokens where revoked_at is null)::int as live_tokens,
      (select count(*) from evidence)::int as evidence,
      (select count(*) from notifications)::int as notifications,
      (select max(updated_at)::text from cases) as cases_updated_at,
      (select max(updated_at)::text from tasks) as tasks_updated_at`);
  return row;
}

async function historyLength(workflowId: string) {
  const history = await h.temporal.workflow.getHandle(workflowId).fetchHistory();
  return history.events?.length ?? 0;
}

async function snapshot(workflowId?: string) {
  return { db: await dbSnapshot(), history: workflowId ? await historyLength(workflowId) : null };
}

async function expectNotStarted(workflowId: string) {
  await expect(h.temporal.workflow.getHandle(workflowId).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  expect(await h.sql('select 1 from cases where id = $1', [workflowId])).toHaveLength(0);
}

const enc = encodeURIComponent;

function evidenceForm(text = EVIDENCE_TEXT) {
  const form = new FormData();
  form.append('file', new File([Buffer.from(text)], 'proof.txt', { type: 'text/plain' }));
  return form;
}

async function startCase(as: TestUser = 'lead') {
  const key = h.unique('AUTHZ');
  const res = await h.api('POST', '/api/cases/approval-requests', {
    as,
    json: { requestKey: key, title: `Auth matrix ${key}`, riskLevel: 'low', ownerId: 'owner' },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const caseId: string = res.body.caseId;
  const approvalTaskId = `${caseId}:approval`;
  await eventually(async () => (await h.sql('select 1 from tasks where id = $1', [approvalTaskId])).length === 1);
  return { caseId, approvalTaskId };
}

/** A case approved with one condition: its rectification item is open, owned by 'owner'. */
async function openRectification() {
  const c = await startCase();
  const decided = await h.api('POST', `/api/tasks/${enc(c.approvalTaskId)}/decision`, {
    as: 'approver',
    json: { decision: 'approve_with_conditions', conditions: ['Fix X'] },
  });
  expect(decided.status, JSON.stringify(decided.body)).toBe(200);
  const taskId = `${c.caseId}:rectification:1`;
  await eventually(async () => {
    const [task] = await h.sql('select kind, assignee_id, status from tasks where id = $1', [taskId]);
    return task?.kind === 'rectification' && task.assignee_id === 'owner' && task.status === 'open';
  });
  return { ...c, taskId };
}

async function uploadEvidence(caseId: string, as: TestUser = 'owner') {
  const res = await h.api('POST', `/api/cases/${enc(caseId)}/evidence`, { as, body: evidenceForm() });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

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

// ---------------------------------------------------------------- fixtures

interface Fixtures {
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

  const created = await h.api('POST', '/api/users', {
    as: 'admin',
    json: {
      id: 'gone',
      name: 'Left the company',
      email: 'gone@test.example',
      roles: ['manager', 'approver', 'action_owner', 'admin'],
    },
  });
  expect(created.status).toBe(201);
  const issued = await h.api('POST', '/api/users/gone/tokens', { as: 'admin', json: { label: 'before leaving' } });
  f.inactive = issued.body.token;
  expect((await h.api('GET', '/api/me', { token: f.inactive })).status).toBe(200);
  await h.sql(`update users set active = false where id = 'gone'`);
});

// ---------------------------------------------------------------- the table

interface Outcome {
  status: number;
  code?: string;
  /** The domain rule's code, for refusals from a workflow validator. */
  reason?: string;
  /** What the refusal message must say. */
  message?: RegExp;
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
}

interface Endpoint {
  method: 'GET' | 'POST';
  /** As in openapi.json. */
  route: string;
  /** Outcome per role; roles not listed get `others`. */
  allowed: Partial<Record<TestUser, Outcome>>;
  others?: Outcome;
  /** The request; `fresh` when it is expected to succeed and changes state, so it needs its own target. */
  call: (role: TestUser, fresh: boolean) => Promise<Call> | Call;
}

const ok = (status = 200): Outcome => ({ status });
const forbidden = (message: RegExp): Outcome => ({ status: 403, code: 'FORBIDDEN', message });
const refusal = (status: 403 | 422, reason: string, message: RegExp): Outcome => ({
  status,
  code: status === 403 ? 'FORBIDDEN' : 'UNPROCESSABLE',
  reason,
  message,
});
const everyone = (status = 200) => Object.fromEntries(ROLES.map((r) => [r, ok(status)])) as Record<TestUser, Outcome>;
const allBut = (excluded: TestUser[], status: number) =>
  Object.fromEntries(ROLES.filter((r) => !excluded.includes(r)).map((r) => [r, ok(status)])) as Partial<
    Record<TestUser, Outcome>
  >;

const READ_ONLY = forbidden(/auditors have read-only access/);

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
        json: { id, name: 'New colleague', email: `${id}@test.example`, roles: ['approver'] },
        succeeded: async (res) => {
          expect(res.body).toEqual({
            id,
            name: 'New colleague',
            email: `${id}@test.example`,
            roles: ['approver'],
            active: true,
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
    method: 'GET',
    route: '/api/notifications',
    allowed: everyone(),
    call: () => ({
      path: '/api/notifications',
      succeeded: (res) => expect(res.body).toMatchObject({ items: [], page: 1, total: 0 }),
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
        json: { requestKey: key, title: 'Matrix start', riskLevel: 'low' },
        succeeded: async (res) => {
          expect(res.body).toMatchObject({ caseId, workflowId: caseId, riskLevel: 'low', approvalsRequired: 1 });
          // Settle: the case and its approval task are written before the next call's snapshot.
          await eventually(
            async () => (await h.sql('select 1 from tasks where id = $1', [`${caseId}:approval`])).length === 1,
          );
        },
        refused: () => expectNotStarted(caseId),
      };
    },
  },
  {
    method: 'GET',
    route: '/api/cases',
    allowed: everyone(),
    call: () => ({
      path: '/api/cases?pageSize=100',
      succeeded: (res) => expect(res.body.items.map((c: { id: string }) => c.id)).toContain(f.openApproval.caseId),
    }),
  },
  {
    method: 'GET',
    route: '/api/cases/{caseId}',
    allowed: everyone(),
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
        const decides = TEST_USERS[role].roles.includes('approver') && role !== 'lead';
        // lead started the shared approval: segregation of duties keeps it out of their inbox.
        expect(ids(res.body.toDecide).includes(f.openApproval.approvalTaskId)).toBe(decides);
        expect(ids(res.body.toDo).includes(f.rectOpen.taskId)).toBe(role === 'owner');
        const verifies = ['manager', 'lead', 'approver', 'approver2'].includes(role);
        expect(ids(res.body.toVerify).includes(f.rectSubmitted.taskId)).toBe(verifies);
      },
    }),
  },
  {
    method: 'GET',
    route: '/api/tasks/{taskId}',
    allowed: everyone(),
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
    allowed: {
      approver: ok(),
      approver2: ok(),
      lead: refusal(422, 'SEGREGATION_OF_DUTIES', /segregation of duties/),
    },
    // manager, owner (action_owner) and admin lack the approver role.
    others: refusal(403, 'ROLE_NOT_PERMITTED', /needs the role approver/),
    call: async (_role, fresh) => {
      const target = fresh ? await startCase('lead') : f.openApproval;
      return {
        path: `/api/tasks/${enc(target.approvalTaskId)}/decision`,
        json: { decision: 'approve', comment: 'fine' },
        workflowId: target.caseId,
        succeeded: async (res) => {
          expect(res.body).toMatchObject({ taskId: target.approvalTaskId, status: 'approved' });
          expect((await h.temporal.workflow.getHandle(target.caseId).result()).outcome).toBe('approved');
          await eventually(
            async () =>
              (await h.sql(`select status from cases where id = $1`, [target.caseId]))[0]?.status === 'closed',
          );
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
      owner: refusal(422, 'SEGREGATION_OF_DUTIES', /owner may not verify/),
    },
    others: refusal(403, 'ROLE_NOT_PERMITTED', /needs the role manager or approver/),
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
          await eventually(
            async () =>
              (await h.sql(`select status from cases where id = $1`, [target.caseId]))[0]?.status === 'closed',
          );
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
    // Anyone but the auditor may add evidence to an open case.
    allowed: allBut(['auditor'], 201),
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
    allowed: everyone(),
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
    allowed: everyone(),
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
    allowed: { auditor: ok(), admin: ok() },
    others: forbidden(/needs the role auditor or admin/),
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
    route: '/api/audit/events',
    allowed: { auditor: ok(), admin: ok() },
    others: forbidden(/needs the role auditor or admin/),
    call: () => ({
      path: `/api/audit/events?caseId=${enc(f.openApproval.caseId)}`,
      succeeded: (res) =>
        expect(res.body.items.map((e: { action: string }) => e.action)).toEqual(['case.opened', 'approval.opened']),
    }),
  },
];

/** What a role gets: the auditor is read-only on every mutating endpoint, whatever the row says. */
function outcomeFor(endpoint: Endpoint, role: TestUser): Outcome {
  if (role === 'auditor' && endpoint.method !== 'GET') return READ_ONLY;
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
    expect(documented.map((d) => d.key).sort()).toEqual(ENDPOINTS.map((e) => `${e.method} ${e.route}`).sort());
    for (const d of documented) expect(d.security, d.key).toEqual([{ bearerAuth: [] }]);
    expect(doc.body.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  describe('public: no token needed, and a bad one is ignored', () => {
    const PUBLIC: Array<[string, (res: Res) => void]> = [
      ['/health', (res) => expect(res.body).toEqual({ status: 'ok', database: 'ok', temporal: 'ok' })],
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
        it(title, async () => {
          const mutating = endpoint.method !== 'GET';
          const call = await endpoint.call(role, isSuccess(expected) && mutating);
          if (isSuccess(expected)) {
            const res = await send(call, endpoint.method, { as: role });
            expect(res.status, JSON.stringify(res.body)).toBe(expected.status);
            await call.succeeded?.(res);
            return;
          }
          const before = await snapshot(call.workflowId);
          const res = await send(call, endpoint.method, { as: role });
          expectEnvelope(res, expected.status, expected.code!);
          if (expected.reason) expect(res.body.error.reason).toBe(expected.reason);
          else expect(res.body.error).not.toHaveProperty('reason');
          if (expected.message) expect(res.body.error.message).toMatch(expected.message);
          expect(await snapshot(call.workflowId)).toEqual(before);
          await call.refused?.();
        });
      }
    });
  }

  it('refused updates never reached the workflow history; the shared targets are still waiting', async () => {
    const accepted = async (workflowId: string) =>
      ((await h.temporal.workflow.getHandle(workflowId).fetchHistory()).events ?? []).filter(
        (e) => e.workflowExecutionUpdateAcceptedEventAttributes,
      ).length;
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
    const chain = await h.api('GET', '/api/audit/verify', { as: 'auditor' });
    expect(chain.body.ok).toBe(true);
  });
});
