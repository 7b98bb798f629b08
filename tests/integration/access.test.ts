/**
 * Scoped reads (issue 11 §8), on the real app, PostgreSQL and Temporal dev
 * server: a case, its tasks, evidence, timeline and audit events are read by
 * the people with a part in it, their line managers and the oversight
 * functions; anyone else is told it does not exist. Evidence follows its
 * case. Uploads come only from people with a part in the case, and a refused
 * one stores nothing. The last block seeds a few thousand cases, pages
 * through the list as a user who reads a few hundred of them, and prints the
 * plans of the list and of the one-case check (no timing is asserted).
 */
import { and, count, desc, eq, type SQL } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken } from '../../api/auth';
import { appendAuditEvent } from '../../db/audit';
import {
  caseOrder,
  listCases,
  TOTAL_CAP,
  WALKED_COUNT_BUDGET,
  WALKED_TOTAL_CAP,
  type Paging,
} from '../../api/routes/keyset';
import { cases } from '../../db/schema';
import type { Role } from '../../domain/roles';
import {
  canReadCase,
  caseCheckQuery,
  DENSE_READER_MIN,
  hasPartInCase,
  NO_PART_IN_CASE,
  readableCaseCondition,
  readableCaseProbe,
  readableFormFor,
  type ReadableForm,
  type Reader,
} from '../../platform/access';
import { createDriver, creditCodes, endWorkflows, fileForm, historyLength, quiet } from '../support/drive';
import { TEST_USERS, useHarness, type TestUser } from '../support/harness';

const h = useHarness('access');
const enc = encodeURIComponent;

/** People beside the shared test users: ops1 reports to head; ops2 and mgr2 have no part in anything at first. */
const EXTRA_USERS = {
  ops1: ['action_owner'],
  ops2: ['action_owner'],
  head: ['manager'],
  mgr2: ['manager'],
} as const;
type Person = keyof typeof EXTRA_USERS | (typeof TEST_USERS)[TestUser]['id'];
const byId = Object.fromEntries(Object.entries(TEST_USERS).map(([key, u]) => [u.id, key as TestUser]));
const extraTokens: Record<string, string> = {};
const EVERYONE = [...Object.values(TEST_USERS).map((u) => u.id), ...Object.keys(EXTRA_USERS)] as Person[];
/** Risk, compliance, internal audit and auditors (lead is a risk officer too): they read every case. */
const OVERSIGHT: Person[] = ['lead', 'appr1', 'appr2', 'risk2', 'ia1', 'auditor'];

const tokenOf = (who: Person) => (byId[who] ? h.tokens[byId[who]!] : extraTokens[who]!);
const readerOf = (who: Person): Reader => ({
  id: who,
  roles: byId[who] ? TEST_USERS[byId[who]!].roles : [...EXTRA_USERS[who as keyof typeof EXTRA_USERS]],
});
const FORMS: ReadableForm[] = ['set', 'probe'];
const CASE_ORDER = caseOrder('cases');

/** The ids listCases answers for `reader` in the given form, walking every keyset page. */
async function listedIds(reader: Reader, form: ReadableForm, where: SQL, limit: number) {
  const ids: string[] = [];
  let after: string[] | null = null;
  let total = -1;
  for (;;) {
    const paging: Paging = { mode: 'cursor', after, limit };
    const page = await listCases(h.database.db, CASE_ORDER, paging, where, reader, { form });
    ids.push(...page.rows.map((r) => r.id));
    total = page.total;
    if (!page.nextCursor) break;
    after = JSON.parse(Buffer.from(page.nextCursor, 'base64url').toString('utf8')).slice(1);
  }
  return { ids, total };
}
const by = (who: Person, method: string, path: string, options: { json?: unknown; body?: FormData } = {}) =>
  h.api(method, path, { token: tokenOf(who), ...options });

/** Who gets the case (200) and who is told there is no such case (404), by the detail and by the list. */
async function readersOf(caseId: string): Promise<Person[]> {
  const readers: Person[] = [];
  for (const who of EVERYONE) {
    const detail = await by(who, 'GET', `/api/cases/${enc(caseId)}`);
    const listed = (await by(who, 'GET', '/api/cases?pageSize=100')).body.items.some(
      (c: { id: string }) => c.id === caseId,
    );
    // Both forms of the list's scope (set and row-by-row probe) agree with the detail.
    for (const form of FORMS) {
      const one = await listCases(
        h.database.db,
        CASE_ORDER,
        { mode: 'cursor', after: null, limit: 1 },
        eq(cases.id, caseId),
        readerOf(who),
        { form },
      );
      expect(one.total, `${who} · ${caseId} · ${form}`).toBe(detail.status === 200 ? 1 : 0);
    }
    if (detail.status === 200) {
      expect(detail.body.case.id).toBe(caseId);
      expect(listed, `${who} reads ${caseId}: listed`).toBe(true);
      readers.push(who);
    } else {
      expectNoSuchCase(detail, caseId);
      expect(listed, `${who} may not read ${caseId}: not listed`).toBe(false);
    }
  }
  return readers.sort();
}

/** The answer an unknown case gets, word for word: a refusal must not reveal that the case exists. */
function expectNoSuchCase(res: { status: number; body: any }, caseId: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(404);
  expect(res.body).toEqual({
    error: { code: 'NOT_FOUND', message: `no case ${caseId}`, requestId: expect.any(String) },
  });
}

const sorted = (people: Person[]) => [...new Set(people)].sort();

/** What a refused upload must leave as it was: the case's evidence, the audit chain, the workflow's history. */
async function written(caseId: string) {
  const [evidence] = await h.sql('select count(*)::int as n from evidence where case_id = $1', [caseId]);
  const [audit] = await h.sql('select coalesce(max(seq), 0)::int as seq from audit_events');
  return { evidence: evidence.n, auditSeq: audit.seq, history: await historyLength(h, caseId) };
}

const upload = (who: Person, caseId: string, text = 'proof') =>
  by(who, 'POST', `/api/cases/${enc(caseId)}/evidence`, { body: fileForm(text) });

const running = new Set<string>();
const drive = createDriver(h, {
  label: 'Access',
  creditCode: creditCodes('91440300MA4'),
  started: (_kind, id) => running.add(id),
  ended: (_kind, id) => running.delete(id),
});

beforeAll(async () => {
  for (const [id, roles] of Object.entries(EXTRA_USERS)) {
    await h.sql('insert into users (id, name, email, roles) values ($1, $1, $2, $3)', [
      id,
      `${id}@test.example`,
      roles,
    ]);
    extraTokens[id] = await issueToken(h.database.db, id, 'access test');
  }
  await h.sql(`update users set manager_id = 'head' where id = 'ops1'`);
});

afterAll(() => endWorkflows(h, [...running], 'access test: done'));

describe('an approval request: who reads it, who adds to it', () => {
  let caseId = '';
  let evidenceId = '';
  const itemId = () => `${caseId}:rectification:1`;

  it('is read by its initiator, its owner, the owner’s line manager, whoever must decide it and oversight; 404 for the rest', async () => {
    const started = await by('mgr', 'POST', '/api/cases/approval-requests', {
      json: {
        requestKey: h.unique('ACCESS'),
        title: 'Open a new payment channel',
        probability: 1,
        impact: 2,
        ownerId: 'ops1',
      },
    });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    caseId = started.body.caseId;
    running.add(caseId);
    await quiet(h, caseId);
    // legal1 holds no oversight role: it reads the case because the approval is open to legal.
    expect(await readersOf(caseId)).toEqual(sorted(['mgr', 'ops1', 'head', 'legal1', ...OVERSIGHT]));

    // The task and the audit events follow the case.
    for (const who of EVERYONE) {
      const task = await by(who, 'GET', `/api/tasks/${enc(`${caseId}:approval`)}`);
      const events = await by(who, 'GET', `/api/audit/events?caseId=${enc(caseId)}&pageSize=100`);
      expect(events.status).toBe(200);
      if (['owner', 'ops2', 'mgr2', 'admin'].includes(who)) {
        expect(task.status, who).toBe(404);
        expect(task.body.error).toMatchObject({ code: 'NOT_FOUND', message: `no task ${caseId}:approval` });
        expect(events.body, who).toMatchObject({ items: [], total: 0 });
      } else {
        expect(task.status, who).toBe(200);
        expect(task.body).toMatchObject({ id: `${caseId}:approval`, caseId, status: 'open' });
        expect(events.body.items.map((e: { action: string }) => e.action).slice(0, 2), who).toEqual([
          'case.opened',
          'approval.opened',
        ]);
      }
    }
  });

  it('an unknown case gets the same answer as a case one may not read', async () => {
    expectNoSuchCase(await by('ops2', 'GET', '/api/cases/approval-request:nope'), 'approval-request:nope');
    expectNoSuchCase(await by('ops2', 'GET', `/api/cases/${enc(caseId)}`), caseId);
  });

  it('a line manager reads through their report only while they manage them', async () => {
    await h.sql(`update users set manager_id = null where id = 'ops1'`);
    try {
      expectNoSuchCase(await by('head', 'GET', `/api/cases/${enc(caseId)}`), caseId);
    } finally {
      await h.sql(`update users set manager_id = 'head' where id = 'ops1'`);
    }
    expect((await by('head', 'GET', `/api/cases/${enc(caseId)}`)).status).toBe(200);
  });

  it('refuses an upload from whoever cannot read the case (404) and from a reader with no part in it (403); nothing is stored', async () => {
    for (const [who, status] of [
      ['ops2', 404],
      ['admin', 404],
      // Internal audit reads every case and has no part in this one (risk and compliance do: the approval awaits them).
      ['ia1', 403],
      ['head', 403], // the owner's line manager
    ] as Array<[Person, number]>) {
      const before = await written(caseId);
      const res = await upload(who, caseId);
      if (status === 404) expectNoSuchCase(res, caseId);
      else {
        expect(res.status, `${who}: ${JSON.stringify(res.body)}`).toBe(403);
        expect(res.body.error).toMatchObject({ code: 'FORBIDDEN', reason: NO_PART_IN_CASE });
        expect(res.body.error.message).toMatch(/only people with a part in case .* may add evidence/);
      }
      expect(await written(caseId), who).toEqual(before);
    }
  });

  it('takes evidence from its owner and its initiator', async () => {
    for (const who of ['ops1', 'mgr'] as Person[]) {
      const before = await written(caseId);
      const res = await upload(who, caseId, `proof from ${who}`);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body).toMatchObject({ caseId, uploadedBy: who });
      if (who === 'ops1') evidenceId = res.body.id;
      const after = await written(caseId);
      expect(after).toMatchObject({ evidence: before.evidence + 1, auditSeq: before.auditSeq + 1 });
    }
  });

  it('its evidence is downloaded by whoever reads the case; anyone else gets 404, as for unknown evidence', async () => {
    const unknown = await by('ops2', 'GET', '/api/evidence/00000000-0000-4000-8000-000000000000/content');
    expect(unknown.status).toBe(404);
    for (const who of EVERYONE) {
      const meta = await by(who, 'GET', `/api/evidence/${evidenceId}`);
      const content = await by(who, 'GET', `/api/evidence/${evidenceId}/content`);
      if (['owner', 'ops2', 'mgr2', 'admin'].includes(who)) {
        for (const res of [meta, content]) {
          expect(res.status, who).toBe(404);
          expect(res.body).toEqual({
            error: { code: 'NOT_FOUND', message: `no evidence ${evidenceId}`, requestId: expect.any(String) },
          });
        }
      } else {
        expect(meta.status, who).toBe(200);
        expect(meta.body).toMatchObject({ id: evidenceId, caseId, uploadedBy: 'ops1' });
        expect(content.status, who).toBe(200);
        expect(content.body).toBe('proof from ops1');
      }
    }
  });

  it('a decider reads it while it waits for them; a verifier while an item waits for verification, and for good once they acted', async () => {
    const decided = await by('appr1', 'POST', `/api/tasks/${enc(`${caseId}:approval`)}/decision`, {
      json: { decision: 'approve_with_conditions', conditions: ['Sign the supplementary agreement'] },
    });
    expect(decided.status, JSON.stringify(decided.body)).toBe(200);
    // The approval no longer waits for legal: legal1 never acted, so it no longer reads the case.
    expect(await readersOf(caseId)).toEqual(sorted(['mgr', 'ops1', 'head', ...OVERSIGHT]));
    // Nor for compliance: appr2 still reads it, and no longer has a part in it.
    const before = await written(caseId);
    const refused = await upload('appr2', caseId);
    expect(refused.status, JSON.stringify(refused.body)).toBe(403);
    expect(refused.body.error).toMatchObject({ code: 'FORBIDDEN', reason: NO_PART_IN_CASE });
    expect(await written(caseId)).toEqual(before);

    const submitted = await by('ops1', 'POST', `/api/tasks/${enc(itemId())}/submission`, {
      json: { evidenceIds: [evidenceId] },
    });
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(200);
    // Submitted: every manager may verify it (it is in their inbox), so they read the case; an action owner may not.
    const inbox = await by('mgr2', 'GET', '/api/tasks/inbox');
    expect(inbox.body.toVerify.map((t: { id: string }) => t.id)).toContain(itemId());
    expect(await readersOf(caseId)).toEqual(sorted(['mgr', 'ops1', 'head', 'mgr2', 'lead', ...OVERSIGHT]));

    const verified = await by('mgr2', 'POST', `/api/tasks/${enc(itemId())}/verification`, {
      json: { verdict: 'accept' },
    });
    expect(verified.status, JSON.stringify(verified.body)).toBe(200);
    expect((await h.temporal.workflow.getHandle(caseId).result()).outcome).toBe('approved_with_conditions');
    running.delete(caseId);
    // mgr2 verified: it acted on the case and reads it for good.
    expect(await readersOf(caseId)).toEqual(sorted(['mgr', 'ops1', 'head', 'mgr2', ...OVERSIGHT]));
  });

  it('cases opened from it: their owners and actors read it; it lists only the ones the caller reads', async () => {
    const childId = `${caseId}:child-${h.unique('c')}`;
    await insertCase({ id: childId, initiator: 'mgr', owner: 'ops2', parent: caseId });
    await appendAuditEvent(h.database.db, {
      idempotencyKey: h.unique('access-child'),
      actorId: 'owner',
      action: 'probe.acted',
      caseId: childId,
    });
    // ops2 owns the child, owner acted on it: both now read the parent too.
    expect(await readersOf(caseId)).toEqual(sorted(['mgr', 'ops1', 'head', 'mgr2', 'ops2', 'owner', ...OVERSIGHT]));
    expect(await readersOf(childId)).toEqual(sorted(['mgr', 'ops2', 'owner', ...OVERSIGHT]));
    const linked = async (who: Person) =>
      (await by(who, 'GET', `/api/cases/${enc(caseId)}`)).body.linked.map((c: { id: string }) => c.id);
    expect(await linked('ops2')).toEqual([childId]);
    expect(await linked('auditor')).toEqual([childId]);
    // ops1 reads the parent, not the child.
    expect(await linked('ops1')).toEqual([]);
  });
});

describe('named on a task', () => {
  it('the assignee of one of its tasks reads the case, and may add to it', async () => {
    const caseId = h.unique('access:assigned');
    await insertCase({ id: caseId, initiator: 'lead', owner: null, parent: null });
    expect(await readersOf(caseId)).toEqual(sorted(OVERSIGHT));
    expect((await upload('owner', caseId)).status).toBe(404);
    await h.sql(
      `insert into tasks (id, case_id, workflow_id, kind, title, candidate_roles, assignee_id, status)
       values ($1, $2, $2, 'step', 'Carry it out', '{}', 'owner', 'open')`,
      [`${caseId}:step`, caseId],
    );
    expect(await readersOf(caseId)).toEqual(sorted(['owner', ...OVERSIGHT]));
    const res = await upload('owner', caseId);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  });
});

describe('supplier documents follow their review', () => {
  it('the financial statements are downloaded by the review’s people and oversight only', async () => {
    const supplierId = await drive.registerSupplier({ status: 'pending' });
    const { caseId } = await drive.reviewAt('checks', supplierId, 2027);
    const [statements] = await h.sql(
      `select id from evidence where case_id = $1 and document_type = 'financial_statements'`,
      [caseId],
    );
    expect(statements).toBeDefined();
    const readers: Person[] = [];
    for (const who of EVERYONE) {
      const res = await by(who, 'GET', `/api/evidence/${statements.id}/content`);
      if (res.status === 200) {
        expect(res.body).toBe(`financial_statements of ${caseId}`);
        readers.push(who);
      } else {
        expect(res.status, who).toBe(404);
        expect(res.body.error.message).toBe(`no evidence ${statements.id}`);
      }
    }
    // lead started the review, mgr reviews it (and owns the supplier).
    expect(readers.sort()).toEqual(sorted(['mgr', ...OVERSIGHT]));
  });
});

describe('the audit log', () => {
  it('verification is for the oversight functions and admins', async () => {
    for (const who of EVERYONE) {
      const res = await by(who, 'GET', '/api/audit/verify');
      if ([...OVERSIGHT, 'admin'].includes(who)) {
        expect(res.status, who).toBe(200);
        expect(res.body.ok).toBe(true);
      } else {
        expect(res.status, who).toBe(403);
        expect(res.body.error).toMatchObject({ code: 'FORBIDDEN' });
        expect(res.body.error.message).toMatch(/risk or compliance or internal_audit or auditor or admin/);
      }
    }
  });

  it('lists the events of the cases the caller reads; events outside any case to oversight and admins', async () => {
    await appendAuditEvent(h.database.db, {
      idempotencyKey: h.unique('access-caseless'),
      actorId: 'admin',
      action: 'probe.caseless',
    });
    const all = await h.sql<{ seq: string; case_id: string | null }>(
      'select seq, case_id from audit_events order by seq',
    );
    const seqs = async (who: Person) => {
      const res = await by(who, 'GET', '/api/audit/events?pageSize=100');
      expect(res.status).toBe(200);
      expect(res.body.total).toBe(res.body.items.length);
      return res.body.items.map((e: { seq: number }) => e.seq);
    };
    expect(all.length).toBeLessThanOrEqual(100);
    expect(await seqs('auditor')).toEqual(all.map((r) => Number(r.seq)));
    // admin: what is outside any case, and the cases it reads (none).
    expect(await seqs('admin')).toEqual(all.filter((r) => r.case_id === null).map((r) => Number(r.seq)));
    // ops2: the events of the cases it reads, nothing outside them.
    const readable = new Set(
      (await by('ops2', 'GET', '/api/cases?pageSize=100')).body.items.map((c: { id: string }) => c.id),
    );
    expect(readable.size).toBeGreaterThan(0);
    expect(await seqs('ops2')).toEqual(
      all.filter((r) => r.case_id !== null && readable.has(r.case_id)).map((r) => Number(r.seq)),
    );
  });
});

/** A read-model row without a workflow: the access rules read only the read model. */
async function insertCase(c: { id: string; initiator: string; owner: string | null; parent: string | null }) {
  await h.sql(
    `insert into cases (id, process, business_key, title, stage, status, initiator_id, owner_id, parent_case_id, workflow_id, run_id)
     values ($1, 'probe', $1, 'Probe', 'open', 'open', $2, $3, $4, $1, 'none')`,
    [c.id, c.initiator, c.owner, c.parent],
  );
}

// ---------------------------------------------------------------- at scale

describe('a few thousand cases', () => {
  const CASES = 5000;
  const PEOPLE = 200;
  const person = (n: number) => `su${String(n % PEOPLE).padStart(3, '0')}`;
  const ids = Array.from({ length: CASES }, (_, i) => `scale:${String(i).padStart(5, '0')}`);
  // Two cases share each second, so the id breaks the tie; every tenth case was opened from the one before.
  const seeded = ids.map((id, i) => ({
    id,
    initiator: person(i * 7),
    owner: person(i * 13 + 1),
    parent: i % 10 === 9 ? ids[i - 1]! : null,
    createdAt: new Date(Date.UTC(2030, 0, 1) - Math.floor(i / 2) * 1000),
  }));
  const seededTasks = seeded.flatMap((c, i) =>
    [0, 1].map((k) => ({ caseId: c.id, id: `${c.id}:t${k}`, assignee: person(i * 17 + k * 5 + 2) })),
  );
  const seededEvents = seeded.flatMap((c, i) =>
    [0, 1, 2, 3].map((k) => ({ caseId: c.id, actor: person(i * 31 + k * 3 + 3) })),
  );
  /** Every fourth case waits on a step open to action owners: in the inbox of each of them, named on none. */
  const awaitingActionOwners = new Set(seeded.filter((_, i) => i % 4 === 3).map((c) => c.id));
  /** su005 and the four people who report to it: an action owner with a long inbox, so the list walks and probes. */
  const viewer: Reader = { id: 'su005', roles: ['action_owner'] };
  const reports = ['su006', 'su007', 'su008', 'su009'];
  /** A legal officer: no step waits for their role, so they read a few hundred cases, from their set. */
  const sparse: Reader = { id: 'su100', roles: ['legal'] as Role[] };
  let token = '';
  let sparseToken = '';

  beforeAll(async () => {
    const people = Array.from({ length: PEOPLE }, (_, n) => person(n));
    await h.sql(
      `insert into users (id, name, email, roles) select p, p, p || '@scale.example', '{action_owner}' from unnest($1::text[]) p`,
      [people],
    );
    await h.sql(`update users set manager_id = 'su005' where id = any($1)`, [reports]);
    await h.sql(
      `insert into cases (id, process, business_key, title, stage, status, initiator_id, owner_id, parent_case_id, workflow_id, run_id, created_at)
       select id, 'scale', id, 'Scale', 'open', 'open', i, o, p, id, 'none', t
         from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) as s(id, i, o, p, t)`,
      [
        seeded.map((c) => c.id),
        seeded.map((c) => c.initiator),
        seeded.map((c) => c.owner),
        seeded.map((c) => c.parent),
        seeded.map((c) => c.createdAt.toISOString()),
      ],
    );
    await h.sql(
      `insert into tasks (id, case_id, workflow_id, kind, title, candidate_roles, assignee_id, status)
       select id, c, c, 'step', 'Scale', '{}', a, 'done' from unnest($1::text[], $2::text[], $3::text[]) as s(id, c, a)`,
      [seededTasks.map((t) => t.id), seededTasks.map((t) => t.caseId), seededTasks.map((t) => t.assignee)],
    );
    await h.sql(
      `insert into tasks (id, case_id, workflow_id, kind, title, candidate_roles, status)
       select c || ':open', c, c, 'step', 'Scale', '{action_owner}', 'open' from unnest($1::text[]) c`,
      [[...awaitingActionOwners]],
    );
    await h.sql(`update users set roles = '{legal}' where id = $1`, [sparse.id]);
    // Straight into the table, past the chain (nothing here verifies it afterwards): the plans need the volume.
    await h.sql(
      `insert into audit_events (seq, idempotency_key, occurred_at, actor_id, action, case_id, payload, evidence_hashes, prev_hash, hash)
       select m.seq + n, 'scale:' || n, now(), a, 'scale.acted', c, '{}', '[]', '', ''
         from unnest($1::text[], $2::text[]) with ordinality as s(c, a, n),
              (select coalesce(max(seq), 0) as seq from audit_events) m`,
      [seededEvents.map((e) => e.caseId), seededEvents.map((e) => e.actor)],
    );
    await h.sql('analyze users, cases, tasks, audit_events');
    token = await issueToken(h.database.db, viewer.id, 'scale');
    sparseToken = await issueToken(h.database.db, sparse.id, 'scale');
  });

  /**
   * What su005 reads, computed from the seed itself: named or acted, by su005
   * or (for reading) a report, on a case or on a case opened from it; and,
   * for an action owner, the cases whose open step waits for them.
   */
  function expectedFor(people: string[], awaited = new Set<string>()): Set<string> {
    const who = new Set(people);
    const parentOf = new Map(seeded.map((c) => [c.id, c.parent]));
    const part = new Set<string>();
    for (const c of seeded) if (who.has(c.initiator) || who.has(c.owner)) part.add(c.id);
    for (const t of seededTasks) if (who.has(t.assignee)) part.add(t.caseId);
    for (const e of seededEvents) if (who.has(e.actor)) part.add(e.caseId);
    return new Set([...part, ...[...part].map((id) => parentOf.get(id)).filter((p): p is string => !!p), ...awaited]);
  }
  const expectedForViewer = () => expectedFor([viewer.id, ...reports], awaitingActionOwners);
  /** The ids in the list's order: newest first, the id breaking ties. */
  const inListOrder = (ids: Set<string>) =>
    seeded
      .filter((c) => ids.has(c.id))
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1))
      .map((c) => c.id);

  it('pages through exactly the cases the user reads, newest first, each once, with the total up to its cap', async () => {
    const expected = expectedForViewer();
    // Under half of five thousand: more than the threshold above which a list walks and probes.
    expect(expected.size).toBeGreaterThan(DENSE_READER_MIN);
    expect(expected.size).toBeLessThan(CASES / 2);
    const seen: string[] = [];
    for (let page = 1; page <= 100; page++) {
      const res = await h.api('GET', `/api/cases?process=scale&pageSize=100&page=${page}`, { token });
      expect(res.status).toBe(200);
      // A walked list counts up to its cap, and says there are more.
      expect(res.body).toMatchObject({ total: WALKED_TOTAL_CAP, totalCapped: true });
      if (res.body.items.length === 0) break;
      seen.push(...res.body.items.map((c: { id: string }) => c.id));
    }
    expect(expected.size).toBeGreaterThan(WALKED_TOTAL_CAP);
    expect(seen).toHaveLength(expected.size);
    expect(new Set(seen)).toEqual(expected);
    expect(seen).toEqual(inListOrder(expected));
    // And one it does not read is a 404.
    const other = seeded.find((c) => !expected.has(c.id))!;
    expectNoSuchCase(await h.api('GET', `/api/cases/${enc(other.id)}`, { token }), other.id);
  });

  it('a reader with many cases is listed by probes, one with few from their set, and both forms list the same cases', async () => {
    const db = h.database.db;
    expect(await readableFormFor(db, viewer)).toBe('probe');
    expect(await readableFormFor(db, sparse)).toBe('set');
    expect(await readableFormFor(db, { id: 'lead', roles: ['risk'] })).toBe('set');
    const scale = eq(cases.process, 'scale');
    for (const [reader, expected] of [
      [viewer, expectedForViewer()],
      [sparse, expectedFor([sparse.id])],
    ] as const) {
      expect(expected.size).toBeGreaterThan(50);
      for (const form of FORMS) {
        const { ids, total } = await listedIds(reader, form, scale, 200);
        expect(ids, `${reader.id} · ${form}`).toEqual(inListOrder(expected));
        expect(total, `${reader.id} · ${form}`).toBe(
          Math.min(expected.size, form === 'probe' ? WALKED_TOTAL_CAP : TOTAL_CAP),
        );
      }
    }
    // The sparse reader through the API (their set), offset paging as older clients page.
    const seen: string[] = [];
    for (let page = 1; page <= 50; page++) {
      const res = await h.api('GET', `/api/cases?process=scale&pageSize=100&page=${page}`, { token: sparseToken });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ total: expectedFor([sparse.id]).size, totalCapped: false });
      if (res.body.items.length === 0) break;
      seen.push(...res.body.items.map((c: { id: string }) => c.id));
    }
    expect(seen).toEqual(inListOrder(expectedFor([sparse.id])));
  });

  it('counts its total up to the cap, and says when more match', async () => {
    // Oversight reads all five thousand: past the cap the total is the cap, with totalCapped.
    expect(TOTAL_CAP).toBeLessThan(CASES);
    const res = await h.api('GET', '/api/cases?process=scale&limit=5', { as: 'lead' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ total: TOTAL_CAP, totalCapped: true, limit: 5 });
    expect(res.body.items).toHaveLength(5);
    // Under the cap it is exact, and says so.
    const few = await h.api('GET', `/api/cases?process=scale&ownerId=${person(1)}&limit=5`, { as: 'lead' });
    expect(few.status).toBe(200);
    expect(few.body).toMatchObject({ totalCapped: false });
    expect(few.body.total).toBe(seeded.filter((c) => c.owner === person(1)).length);
    expect(few.body.total).toBeGreaterThan(5);
  });

  it('the overdue list of a reader with many cases: every item they read, the total counted within its budget', async () => {
    const readable = expectedForViewer();
    // One overdue step on every case, named on no one: the 450 most overdue on cases the viewer does not read,
    // then the rest, so the budget's first WALKED_COUNT_BUDGET + 1 items hold a known number of theirs.
    const unread = seeded.filter((c) => !readable.has(c.id)).slice(0, 450);
    const order = [...unread, ...seeded.filter((c) => !unread.includes(c))];
    const overdue = order.map((c, n) => ({ id: `${c.id}:late`, caseId: c.id, minutesLate: order.length - n }));
    await h.sql(
      `insert into tasks (id, case_id, workflow_id, kind, title, candidate_roles, status, due_at)
       select id, c, c, 'step', 'Late', '{}', 'open', now() - make_interval(mins => m)
         from unnest($1::text[], $2::text[], $3::int[]) as s(id, c, m)`,
      [overdue.map((t) => t.id), overdue.map((t) => t.caseId), overdue.map((t) => t.minutesLate)],
    );
    try {
      expect(await readableFormFor(h.database.db, viewer)).toBe('probe');
      const theirs = overdue.filter((t) => readable.has(t.caseId)).map((t) => t.id);
      const inBudget = overdue.slice(0, WALKED_COUNT_BUDGET + 1).filter((t) => readable.has(t.caseId)).length;
      expect(inBudget).toBeGreaterThan(6);
      expect(inBudget).toBeLessThan(WALKED_TOTAL_CAP);
      // A first page of five: the total is what the budget found, and says there may be more.
      const first = await h.api('GET', '/api/tasks/overdue?process=scale&limit=5', { token });
      expect(first.status, JSON.stringify(first.body)).toBe(200);
      expect(first.body).toMatchObject({ total: inBudget, totalCapped: true });
      expect(first.body.items.map((t: { id: string }) => t.id)).toEqual(theirs.slice(0, 5));
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res = await h.api(
          'GET',
          `/api/tasks/overdue?process=scale&limit=200${cursor ? `&cursor=${cursor}` : ''}`,
          {
            token,
          },
        );
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        // Every page: what the budget found, or, when the page shows more, at least what it shows (up to the cap).
        const shown = res.body.items.length + (res.body.nextCursor ? 1 : 0);
        expect(res.body).toMatchObject({
          total: Math.min(Math.max(inBudget, shown), WALKED_TOTAL_CAP),
          totalCapped: true,
        });
        expect(res.body.total).toBeGreaterThanOrEqual(Math.min(res.body.items.length, WALKED_TOTAL_CAP));
        seen.push(...res.body.items.map((t: { id: string }) => t.id));
        cursor = res.body.nextCursor;
      } while (cursor);
      // The pages themselves are not budgeted: every overdue item the viewer reads, most overdue first.
      expect(seen).toEqual(theirs);
      // Oversight counts from the index, up to its cap, as before.
      const all = await h.api('GET', '/api/tasks/overdue?process=scale&limit=5', { as: 'lead' });
      expect(all.body).toMatchObject({ total: TOTAL_CAP, totalCapped: true });
      // A filter that leaves fewer overdue items than the budget counts them exactly: the 99 least overdue.
      const [boundary] = await h.sql('select due_at from tasks where id = $1', [overdue.at(-99)!.id]);
      const from = encodeURIComponent(new Date(boundary.due_at).toISOString());
      const few = await h.api('GET', `/api/tasks/overdue?process=scale&from=${from}&limit=5`, { token });
      expect(few.status, JSON.stringify(few.body)).toBe(200);
      expect(few.body).toMatchObject({
        total: overdue.slice(-99).filter((t) => readable.has(t.caseId)).length,
        totalCapped: false,
      });
    } finally {
      await h.sql(`delete from tasks where id = any($1)`, [overdue.map((t) => t.id)]);
    }
  });

  it('the one-case checks agree with the list, case by case', async () => {
    const readable = expectedForViewer();
    const part = expectedFor([viewer.id], awaitingActionOwners);
    expect(part.size).toBeGreaterThan(20);
    expect(part.size).toBeLessThan(readable.size);
    // Every case the viewer reads, and every twentieth of the others.
    const sample = seeded.filter((c, i) => readable.has(c.id) || i % 20 === 0).map((c) => c.id);
    const mismatches: string[] = [];
    for (const id of sample) {
      if ((await canReadCase(h.database.db, viewer, id)) !== readable.has(id)) mismatches.push(`read ${id}`);
      if ((await hasPartInCase(h.database.db, viewer, id)) !== part.has(id)) mismatches.push(`part ${id}`);
    }
    expect(mismatches).toEqual([]);
  });

  it('prints the plans of the list, its total and the one-case check', async () => {
    const db = h.database.db;
    const readable = readableCaseCondition(viewer)!;
    const probe = readableCaseProbe(viewer)!;
    const queries = {
      'list (first page of 20, set)': db
        .select()
        .from(cases)
        .where(and(readable))
        .orderBy(desc(cases.createdAt), desc(cases.id))
        .limit(20),
      'list (first page of 20, probe)': db
        .select()
        .from(cases)
        .where(and(probe))
        .orderBy(desc(cases.createdAt), desc(cases.id))
        .limit(20),
      'list (total, set)': db.select({ total: count() }).from(cases).where(and(readable)),
      'list (total up to the cap, probe)': db.select({ total: count() }).from(
        db
          .select({ one: cases.id })
          .from(cases)
          .where(probe)
          .limit(WALKED_TOTAL_CAP + 1)
          .as('counted'),
      ),
      'one case (read)': caseCheckQuery(db, viewer, seeded[4242]!.id, 'read'),
      'one case (part)': caseCheckQuery(db, viewer, seeded[4242]!.id, 'part'),
    };
    const lines: string[] = [];
    for (const [name, query] of Object.entries(queries)) {
      const { sql, params } = query.toSQL();
      const plan = (await h.sql('explain (analyze, buffers, costs off) ' + sql, params)).map((r) => r['QUERY PLAN']);
      expect(plan.join('\n')).toMatch(/Execution Time/);
      // The top of the plan and its totals; ACCESS_EXPLAIN=full prints the whole plan.
      const shown = process.env.ACCESS_EXPLAIN === 'full' ? plan : [...plan.slice(0, 8), ...plan.slice(-2)];
      lines.push(`--- ${name}`, ...shown);
    }
    console.log(
      `access: ${CASES} cases, ${seededTasks.length} tasks, ${seededEvents.length} audit events\n${lines.join('\n')}`,
    );
  });
});
