/**
 * GET /api/tasks/inbox paged (issue 13, "My inbox" with 1,000 tasks): a
 * keyset walk in due order, the id breaking ties, covers every task of the
 * caller's inbox exactly once and reports its total; each section pages on
 * its own; tasks without a due date come last and their cursor goes on; old
 * clients without paging parameters still get the grouped answer (its first
 * 500 tasks, now with a cursor for the rest); a bad cursor,
 * limit or section is a 400 naming the field.
 *
 * Real PostgreSQL and Temporal: one approval comes from the product's own
 * start, the bulk is written to the read model with SQL (as bench/console.bench.ts
 * seeds the inbox), with due dates that tie and that differ by a microsecond.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDriver, creditCodes, endWorkflows } from '../support/drive';
import { useHarness } from '../support/harness';
import { walkKeyset, type Row } from '../support/keyset';

const h = useHarness('inboxpaging');
const running = new Set<string>();
const drive = createDriver(h, {
  label: 'Inbox paging',
  creditCode: creditCodes('91440300IP7'),
  started: (_kind, id) => running.add(id),
  ended: (_kind, id) => running.delete(id),
});
afterAll(() => endWorkflows(h, running, 'inboxPaging done'));

/** Approvals open to risk (the 'approver' test user, appr1): more than the 500 an unpaged answer holds. */
const APPROVALS = 640;
const CASE_ID = 'approval_request:INBOX-PAGING';

const ids = (rows: Row[]) => rows.map((r) => r.id as string);

/** The database's order of these task ids: due date, then id; undated last, by id. */
async function dueOrder(taskIds: string[]): Promise<string[]> {
  const rows = await h.sql<{ id: string }>(
    'select id from tasks where id = any($1) order by due_at asc nulls last, id asc',
    [taskIds],
  );
  return rows.map((r) => r.id);
}

async function bad(path: string) {
  const res = await h.api('GET', path, { as: 'approver' });
  expect(res.status, JSON.stringify(res.body)).toBe(400);
  expect(res.body.error.code).toBe('BAD_REQUEST');
  return (res.body.error.details as Array<{ field: string }>).map((d) => d.field);
}

describe('the inbox, paged', () => {
  const toDecide: string[] = [];
  const toDo: string[] = [];
  const toVerify: string[] = [];
  let realApproval: string;

  beforeAll(async () => {
    // One approval started through the API: its task is the product's own.
    realApproval = (await drive.startApproval()).approvalTaskId;
    toDecide.push(realApproval);

    await h.sql(
      `insert into cases (id, process, business_key, title, stage, status, initiator_id, owner_id, workflow_id, run_id)
       values ($1, 'approval_request', 'INBOX-PAGING', 'Inbox paging', 'awaiting_approval', 'open', 'mgr', 'owner', $1, 'none')`,
      [CASE_ID],
    );
    const insert = (
      rows: Array<
        { id: string; kind: string; roles: string[]; status: string; due: string | null } & {
          assignee?: string;
          excluded?: string[];
          votes?: unknown[];
        }
      >,
    ) =>
      h.sql(
        `insert into tasks (id, case_id, workflow_id, kind, title, candidate_roles, assignee_id, excluded_user_ids,
                            status, due_at, votes, allowed_decisions)
         select t.id, $1, $1, t.kind, 'Paged ' || t.id, string_to_array(t.roles, ','), t.assignee,
                string_to_array(t.excluded, ','), t.status, t.due, t.votes, array['approve','reject']
           from jsonb_to_recordset($2::jsonb)
             as t(id text, kind text, roles text, assignee text, excluded text, status text, due timestamptz, votes jsonb)`,
        [
          CASE_ID,
          JSON.stringify(
            rows.map((r) => ({
              id: r.id,
              kind: r.kind,
              roles: r.roles.join(','),
              assignee: r.assignee ?? null,
              excluded: (r.excluded ?? []).join(','),
              status: r.status,
              due: r.due,
              votes: r.votes ?? [],
            })),
          ),
        ],
      );

    // Due dates in 2024: groups of three share one instant (the id decides), the
    // fourth is a microsecond later (a millisecond cursor would skip or repeat it).
    const base = Date.UTC(2024, 4, 1);
    const due = (i: number) => {
      const at = new Date(base + Math.floor(i / 4) * 3_600_000).toISOString().replace('Z', '');
      return i % 4 === 3 ? `${at.slice(0, 23)}001Z` : `${at}Z`;
    };
    const approvals = Array.from({ length: APPROVALS }, (_, i) => ({
      // Ids out of due order, so the order cannot come from the ids alone.
      id: `paged:approval:${String((i * 7919) % 10007).padStart(5, '0')}`,
      kind: 'approval',
      roles: ['risk'],
      status: 'open',
      due: due(i),
    }));
    toDecide.push(...approvals.map((a) => a.id));
    // To do: steps open to risk (two without a due date) and an item appr1 owns.
    const steps = [
      { id: 'paged:step:c', kind: 'step', roles: ['risk'], status: 'open', due: due(5) },
      { id: 'paged:step:a', kind: 'step', roles: ['compliance'], assignee: 'appr1', status: 'overdue', due: due(9) },
      { id: 'paged:step:b', kind: 'step', roles: ['risk'], status: 'open', due: due(400) },
      { id: 'paged:step:undated-2', kind: 'step', roles: ['risk'], status: 'open', due: null },
      { id: 'paged:step:undated-1', kind: 'step', roles: ['risk'], status: 'open', due: null },
      {
        id: 'paged:rectification:mine',
        kind: 'rectification',
        roles: ['action_owner'],
        assignee: 'appr1',
        status: 'returned',
        due: due(9),
      },
    ];
    toDo.push(...steps.map((s) => s.id));
    // To verify: an item another owner submitted (risk verifies).
    const submitted = [
      {
        id: 'paged:rectification:submitted',
        kind: 'rectification',
        roles: ['action_owner'],
        assignee: 'owner',
        status: 'submitted',
        due: due(2),
      },
    ];
    toVerify.push(...submitted.map((s) => s.id));
    // Not appr1's: finished, barred by segregation of duties, already voted, another function's.
    const others = [
      { id: 'paged:not:done', kind: 'approval', roles: ['risk'], status: 'done', due: due(1) },
      { id: 'paged:not:excluded', kind: 'approval', roles: ['risk'], status: 'open', due: due(1), excluded: ['appr1'] },
      {
        id: 'paged:not:voted',
        kind: 'approval',
        roles: ['risk', 'compliance'],
        status: 'open',
        due: due(1),
        votes: [{ userId: 'appr1', role: 'risk', decision: 'approve', at: '2024-05-01T00:00:00Z' }],
      },
      { id: 'paged:not:legal', kind: 'approval', roles: ['legal'], status: 'open', due: due(1) },
      {
        id: 'paged:not:own-submitted',
        kind: 'rectification',
        roles: ['action_owner'],
        assignee: 'appr1',
        status: 'submitted',
        due: due(1),
      },
    ];
    await insert([...approvals, ...steps, ...submitted, ...others]);
  }, 120_000);

  it('walks every task once, soonest due first with the id breaking ties, undated last, with the total', async () => {
    const everything = [...toDecide, ...toDo, ...toVerify];
    const expected = await dueOrder(everything);
    expect(expected).toHaveLength(everything.length);
    for (const limit of [50, 200, 7]) {
      const { items, pages } = await walkKeyset(h, '/api/tasks/inbox', 'approver', limit, 200);
      expect(ids(items), `limit ${limit}`).toEqual(expected);
      expect(pages.length).toBe(Math.ceil(expected.length / limit));
    }
    // Each item names its section, as the grouped answer files it.
    const { items } = await walkKeyset(h, '/api/tasks/inbox', 'approver', 200, 20);
    const sectionOf = new Map(items.map((t) => [t.id as string, t.section]));
    for (const id of toDecide) expect(sectionOf.get(id), id).toBe('toDecide');
    for (const id of toDo) expect(sectionOf.get(id), id).toBe('toDo');
    for (const id of toVerify) expect(sectionOf.get(id), id).toBe('toVerify');
  });

  it('pages each section on its own; the sections add up to the whole', async () => {
    let sum = 0;
    for (const [section, expectedIds] of [
      ['toDecide', toDecide],
      ['toDo', toDo],
      ['toVerify', toVerify],
    ] as const) {
      // For toDo, limits whose page boundaries fall inside the undated tail: its own cursor goes on.
      for (const limit of section === 'toDo' ? [2, 4, 5] : [100]) {
        const { items } = await walkKeyset(h, `/api/tasks/inbox?section=${section}`, 'approver', limit, 20);
        expect(ids(items), `${section} at ${limit}`).toEqual(await dueOrder(expectedIds));
        expect(items.every((t) => t.section === section)).toBe(true);
      }
      const first = await h.api('GET', `/api/tasks/inbox?section=${section}&limit=1`, { as: 'approver' });
      expect(first.body.total).toBe(expectedIds.length);
      sum += first.body.total;
    }
    const all = await h.api('GET', '/api/tasks/inbox?limit=1', { as: 'approver' });
    expect(all.body.total).toBe(sum);
    // The undated tasks are last, by id.
    const todo = await walkKeyset(h, '/api/tasks/inbox?section=toDo', 'approver', 50);
    expect(ids(todo.items).slice(-2)).toEqual(await dueOrder(['paged:step:undated-1', 'paged:step:undated-2']));
    expect(todo.items.slice(-2).every((t) => t.dueAt === null)).toBe(true);
  });

  it('answers an old client as before: grouped, its first 500 tasks, now with a cursor for the rest', async () => {
    const res = await h.api('GET', '/api/tasks/inbox', { as: 'approver' });
    expect(res.status).toBe(200);
    expect(res.body.items).toBeUndefined();
    const grouped = [...res.body.toDecide, ...res.body.toDo, ...res.body.toVerify] as Row[];
    expect(grouped).toHaveLength(500);
    expect(grouped.every((t) => !('section' in t))).toBe(true);
    const expected = await dueOrder([...toDecide, ...toDo, ...toVerify]);
    // The first 500 in due order, each in its group, each group in due order.
    expect(new Set(ids(grouped))).toEqual(new Set(expected.slice(0, 500)));
    for (const group of ['toDecide', 'toDo', 'toVerify'] as const)
      expect(ids(res.body[group])).toEqual(expected.slice(0, 500).filter((id) => ids(res.body[group]).includes(id)));
    expect(ids(res.body.toVerify)).toEqual(['paged:rectification:submitted']);
    // Its cursor goes on where the 500 end.
    const rest = await h.api('GET', `/api/tasks/inbox?limit=200&cursor=${res.body.nextCursor}`, { as: 'approver' });
    expect(rest.status, JSON.stringify(rest.body)).toBe(200);
    expect(ids(rest.body.items)).toEqual(expected.slice(500, 700));
    // The product's own approval is due in days, after every 2024 task: past the first 500.
    expect(ids(rest.body.items)).toContain(realApproval);
    // One section only, still grouped.
    const verify = await h.api('GET', '/api/tasks/inbox?section=toVerify', { as: 'approver' });
    expect(verify.body).toMatchObject({ toDecide: [], toDo: [], nextCursor: null });
    expect(ids(verify.body.toVerify)).toEqual(['paged:rectification:submitted']);
  });

  it('keeps offset paging for older list clients, and its cursor continues the walk', async () => {
    const expected = await dueOrder([...toDecide, ...toDo, ...toVerify]);
    const second = await h.api('GET', '/api/tasks/inbox?page=2&pageSize=100', { as: 'approver' });
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ page: 2, pageSize: 100, total: expected.length });
    expect(ids(second.body.items)).toEqual(expected.slice(100, 200));
    const next = await h.api('GET', `/api/tasks/inbox?limit=50&cursor=${second.body.nextCursor}`, { as: 'approver' });
    expect(ids(next.body.items)).toEqual(expected.slice(200, 250));
  });

  it('goes on after the cursor when a task of an earlier page is decided meanwhile', async () => {
    const first = await h.api('GET', '/api/tasks/inbox?section=toDecide&limit=20', { as: 'approver' });
    const firstIds = ids(first.body.items);
    await h.sql(`update tasks set status = 'done' where id = $1`, [firstIds[3]]);
    try {
      const second = await h.api('GET', `/api/tasks/inbox?section=toDecide&limit=20&cursor=${first.body.nextCursor}`, {
        as: 'approver',
      });
      const expected = (await dueOrder(toDecide)).filter((id) => id !== firstIds[3]);
      expect(second.body.total).toBe(toDecide.length - 1);
      expect(ids(second.body.items)).toEqual(expected.slice(19, 39));
    } finally {
      await h.sql(`update tasks set status = 'open' where id = $1`, [firstIds[3]]);
    }
  });

  it('shows another function only its own: none of the risk approvals', async () => {
    const { items } = await walkKeyset(h, '/api/tasks/inbox', 'legal', 200);
    expect(ids(items)).toContain('paged:not:legal');
    expect(ids(items).filter((id) => id.startsWith('paged:') && id !== 'paged:not:legal')).toEqual([]);
  });

  it('walks a section too large to find first (its total capped) in the same order as a small one', async () => {
    // Past TOTAL_CAP (1,000) open approvals to risk, the section is walked in due order instead of found by
    // role and sorted (api/routes/tasks.ts, inboxRows): both ways must give the same pages.
    const extra = Array.from({ length: 420 }, (_, i) => `paged:extra:${String(i).padStart(4, '0')}`);
    await h.sql(
      `insert into tasks (id, case_id, workflow_id, kind, title, candidate_roles, status, due_at, votes, allowed_decisions)
       select x, $2, $2, 'approval', 'Paged ' || x, array['risk'], 'open',
              timestamptz '2024-05-02T00:00:00Z' + (n * interval '37 minutes'), '[]', array['approve','reject']
         from unnest($1::text[]) with ordinality as u(x, n)`,
      [extra, CASE_ID],
    );
    try {
      const expected = await dueOrder([...toDecide, ...extra]);
      expect(expected.length).toBeGreaterThan(1000);
      for (const limit of [200, 37]) {
        const { items } = await walkKeyset(h, '/api/tasks/inbox?section=toDecide', 'approver', limit, 40);
        expect(ids(items), `limit ${limit}`).toEqual(expected);
      }
      const first = await h.api('GET', '/api/tasks/inbox?section=toDecide&limit=10', { as: 'approver' });
      expect(first.body).toMatchObject({ total: 1000, totalCapped: true });
      expect(ids(first.body.items)).toEqual(expected.slice(0, 10));
      // The small sections beside it are still found first, and unchanged.
      const verify = await walkKeyset(h, '/api/tasks/inbox?section=toVerify', 'approver', 10);
      expect(ids(verify.items)).toEqual(toVerify);
      // Offset paging walks too.
      const third = await h.api('GET', '/api/tasks/inbox?section=toDecide&page=3&pageSize=100', { as: 'approver' });
      expect(ids(third.body.items)).toEqual(expected.slice(200, 300));
    } finally {
      await h.sql('delete from tasks where id = any($1)', [extra]);
    }
  });

  it('refuses a bad cursor, limit or section with a 400 naming the field', async () => {
    expect(await bad('/api/tasks/inbox?cursor=not-a-cursor')).toEqual(['query.cursor']);
    expect(await bad('/api/tasks/inbox?cursor=!!!')).toEqual(['query.cursor']);
    // A cursor of another list (the overdue items share the inbox's sort key) is not one of this list.
    const overdue = await h.api('GET', '/api/tasks/overdue?limit=1', { as: 'auditor' });
    expect(overdue.body.nextCursor).toEqual(expect.any(String));
    expect(await bad(`/api/tasks/inbox?cursor=${overdue.body.nextCursor}`)).toEqual(['query.cursor']);
    expect(await bad('/api/tasks/inbox?limit=0')).toContain('query.limit');
    expect(await bad('/api/tasks/inbox?limit=201')).toContain('query.limit');
    expect(await bad('/api/tasks/inbox?section=toApprove')).toContain('query.section');
    const { body } = await h.api('GET', '/api/tasks/inbox?limit=5', { as: 'approver' });
    expect(await bad(`/api/tasks/inbox?page=2&cursor=${body.nextCursor}`)).toEqual(['query.page']);
  });
});
