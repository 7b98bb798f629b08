/**
 * The console's lists through the API (issue 13 §4): keyset pagination with
 * an opaque cursor over suppliers, incidents, complaints, drills and plan
 * revisions, the plan register, improvement cycles and overdue items. Each
 * walk, page by page to the end, yields every matching row exactly once and
 * in the list's order; filters and the text search narrow it; a bad cursor
 * or limit is a 400 naming the field; old page/pageSize clients still work.
 * Real Temporal and PostgreSQL: the rows come from the product's own starts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../support/callers';
import { createDriver, creditCodes, endWorkflows } from '../support/drive';
import { useHarness, type TestUser } from '../support/harness';
import { walkKeyset, type Row } from '../support/keyset';

const h = useHarness('listskeyset');
const running = new Set<string>();
const drive = createDriver(h, {
  label: 'Keyset',
  creditCode: creditCodes('91440300LK1'),
  started: (_kind, id) => running.add(id),
  ended: (_kind, id) => running.delete(id),
});
afterAll(() => endWorkflows(h, running, 'listsKeyset done'));

const walk = (path: string, as: TestUser, limit: number) => walkKeyset(h, path, as, limit);

const ids = (rows: Row[], key = 'id') => rows.map((r) => r[key] as string);
const once = (values: string[]) => expect(new Set(values).size).toBe(values.length);

describe('keyset lists', () => {
  const tag = `KS${Date.now().toString(36)}`;
  const supplierIds: string[] = [];
  const incidents: string[] = [];
  const complaints: string[] = [];
  const cycles: string[] = [];
  const plans: string[] = [];

  beforeAll(async () => {
    // Seven suppliers, two tiers; one whose name holds the ILIKE wildcards.
    const names = ['Delta', 'alpha', 'Charlie', 'bravo', 'Echo', 'foxtrot 100% sure', 'foxtrot 1000 sure'];
    const nextCode = creditCodes('91440300LK2');
    for (const [i, name] of names.entries()) {
      const creditCode = nextCode();
      const res = await h.api('POST', '/api/suppliers', {
        as: 'manager',
        json: { creditCode, name: `${tag} ${name}`, category: 'logistics', tier: i % 2 ? 'core' : 'general' },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      supplierIds.push(creditCode);
    }
    for (let i = 0; i < 5; i++) incidents.push((await drive.incidentAt('reported')).caseId);
    incidents.push((await drive.incidentAt('reported', 'III')).caseId);
    for (let i = 0; i < 3; i++) complaints.push((await drive.complaintAt('investigating')).caseId);
    for (let i = 0; i < 3; i++) cycles.push((await drive.cycleOpened()).caseId);
    for (let i = 0; i < 3; i++) plans.push((await drive.registerPlan()).planId);
  }, 300_000);

  it('walks the supplier register by name, each once, with filters and an escaped search', async () => {
    const { items, pages } = await walk(`/api/suppliers?q=${encodeURIComponent(tag)}`, 'auditor', 3);
    expect(pages).toEqual([3, 3, 1]);
    once(ids(items));
    expect(new Set(ids(items))).toEqual(new Set(supplierIds));
    // In the database's order (its collation), the credit code breaking ties.
    const expected = await h.sql<{ id: string }>(`select id from suppliers where name like $1 order by name, id`, [
      `${tag}%`,
    ]);
    expect(ids(items)).toEqual(expected.map((r) => r.id));

    const core = await walk(`/api/suppliers?q=${encodeURIComponent(tag)}&tier=core`, 'lead', 2);
    expect(core.items.map((s) => s.tier)).toEqual(['core', 'core', 'core']);
    expect(new Set(ids(core.items))).toEqual(new Set(supplierIds.filter((_, i) => i % 2)));

    // "%" is a character, not a wildcard: "100%" finds the one, not "1000".
    const percent = await walk(`/api/suppliers?q=${encodeURIComponent('100%')}`, 'lead', 5);
    expect(percent.items.map((s) => s.name)).toEqual([`${tag} foxtrot 100% sure`]);
    // The credit code is searched too.
    const byCode = await walk(`/api/suppliers?q=${supplierIds[2]}`, 'lead', 5);
    expect(ids(byCode.items)).toEqual([supplierIds[2]]);
  });

  it('keeps page/pageSize for older clients, and their nextCursor continues the walk', async () => {
    const first = await h.api('GET', `/api/suppliers?q=${encodeURIComponent(tag)}&page=1&pageSize=4`, {
      as: 'auditor',
    });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ page: 1, pageSize: 4, total: 7 });
    expect(first.body.items).toHaveLength(4);
    const second = await h.api('GET', `/api/suppliers?q=${encodeURIComponent(tag)}&page=2&pageSize=4`, {
      as: 'auditor',
    });
    expect(second.body.items).toHaveLength(3);
    expect(second.body.nextCursor).toBeNull();
    const next = await h.api(
      'GET',
      `/api/suppliers?q=${encodeURIComponent(tag)}&limit=10&cursor=${first.body.nextCursor}`,
      { as: 'auditor' },
    );
    expect(ids(next.body.items)).toEqual(ids(second.body.items));
    expect(next.body.nextCursor).toBeNull();
  });

  it('walks incidents newest first, filtered by grade, and only those the caller may read', async () => {
    const { items, pages } = await walk('/api/incidents?q=Keyset', 'auditor', 4);
    expect(pages).toEqual([4, 2]);
    once(ids(items));
    const expected = await h.sql<{ id: string }>(
      `select id from cases where process = 'incident' and id = any($1) order by created_at desc, id desc`,
      [incidents],
    );
    expect(ids(items)).toEqual(expected.map((r) => r.id));
    expect(items.every((i) => i.process === 'incident' && typeof i.incidentId === 'string')).toBe(true);

    const graded = await walk('/api/incidents?q=Keyset&grade=III', 'auditor', 4);
    expect(ids(graded.items)).toEqual([incidents[5]]);
    const stage = await walk('/api/incidents?q=Keyset&stage=handling', 'auditor', 4);
    expect(stage.items).toEqual([]);
    // Searching the business key: one incident by its id.
    const one = items[2]!;
    expect(ids((await walk(`/api/incidents?q=${one.incidentId}`, 'auditor', 4)).items)).toEqual([one.id]);
    // Opened before the first: none.
    const before = await walk(
      `/api/incidents?q=Keyset&to=${encodeURIComponent(new Date(Date.parse(items.at(-1)!.createdAt as string) - 1000).toISOString())}`,
      'auditor',
      4,
    );
    expect(before.items).toEqual([]);
    // Legal has no part in these incidents: the list and its total say so.
    expect((await walk('/api/incidents?q=Keyset', 'legal', 4)).items).toEqual([]);
  });

  it('walks complaints, improvement cycles, and drills and plan revisions, each once and newest first', async () => {
    const lists: Array<[string, string[]]> = [
      ['/api/complaints?status=open', complaints],
      ['/api/improvement-cycles?q=Keyset', cycles],
      ['/api/drills?process=plan_revision', plans.map((p) => `plan-revision:${p}:v1`)],
    ];
    for (const [path, expectedIds] of lists) {
      const { items, pages } = await walk(path, 'auditor', 2);
      expect(pages, path).toEqual([2, 1]);
      const key = path.startsWith('/api/complaints') ? 'caseId' : 'id';
      once(ids(items, key));
      const expected = await h.sql<{ id: string }>(
        `select id from cases where id = any($1) order by created_at desc, id desc`,
        [expectedIds],
      );
      expect(ids(items, key), path).toEqual(expected.map((r) => r.id));
    }
    const stage = await walk('/api/improvement-cycles?q=Keyset&stage=awaiting_approval', 'auditor', 5);
    expect(stage.items).toHaveLength(3);
    expect((await walk('/api/improvement-cycles?q=Keyset&stage=do', 'auditor', 5)).items).toEqual([]);
    const byPlan = await walk(`/api/drills?planId=${plans[1]}`, 'auditor', 5);
    expect(byPlan.items.map((d) => d.planId)).toEqual([plans[1]]);
  });

  it('walks the plan register by id, and answers it whole without paging', async () => {
    const { items, pages } = await walk('/api/emergency-plans?q=Keyset', 'auditor', 2);
    expect(pages).toEqual([2, 1]);
    expect(ids(items)).toEqual([...plans].sort());
    const whole = await h.api('GET', '/api/emergency-plans', { as: 'auditor' });
    expect(whole.body.nextCursor).toBeNull();
    expect(whole.body.items.length).toBe(whole.body.total);
  });

  it('walks overdue items, most overdue first, each once', async () => {
    // The tasks' clocks are the policy's (hours and days): their due dates
    // are moved into the past in the read model the list reads.
    const mine = [...incidents, ...complaints, ...cycles, ...plans.map((p) => `plan-revision:${p}:v1`)];
    const open = await h.sql<{ id: string }>(
      `update tasks set due_at = now() - (numbered.n * interval '1 hour')
         from (select id as tid, row_number() over (order by id) as n from tasks
               where case_id = any($1) and status not in ('done', 'expired')) numbered
        where id = numbered.tid returning id`,
      [mine],
    );
    expect(open.length).toBeGreaterThanOrEqual(3);
    const { items } = await walk('/api/tasks/overdue', 'auditor', 2);
    once(ids(items));
    const expected = await h.sql<{ id: string }>(`select id from tasks where id = any($1) order by due_at, id`, [
      ids(open),
    ]);
    expect(ids(items)).toEqual(expected.map((r) => r.id));
    expect(items.every((t) => t.overdue === true && (t.daysOverdue as number) >= 0)).toBe(true);
    // The process filter and the search narrow it, as the database would.
    const cycleItems = await walk('/api/tasks/overdue?process=pdca', 'auditor', 2);
    const cycleTasks = await h.sql<{ id: string }>(
      `select t.id from tasks t join cases c on c.id = t.case_id where t.id = any($1) and c.process = 'pdca' order by t.due_at, t.id`,
      [ids(open)],
    );
    expect(cycleTasks.length).toBeGreaterThan(0);
    expect(ids(cycleItems.items)).toEqual(cycleTasks.map((r) => r.id));
    const searched = await walk('/api/tasks/overdue?q=keyset%20cycle', 'auditor', 2);
    const matching = await h.sql<{ id: string }>(
      `select t.id from tasks t join cases c on c.id = t.case_id where t.id = any($1)
         and (t.title ilike '%keyset cycle%' or c.title ilike '%keyset cycle%') order by t.due_at, t.id`,
      [ids(open)],
    );
    expect(matching.length).toBeGreaterThan(0);
    expect(ids(searched.items)).toEqual(matching.map((r) => r.id));
    expect((await walk('/api/tasks/overdue?q=Keyset&kind=rectification', 'auditor', 2)).items).toEqual([]);
    // A manager with no part in these cases sees none of their items.
    const stranger = await addUser(h, 'stranger', ['manager']);
    const theirs = await h.api('GET', '/api/tasks/overdue?limit=5', { token: stranger.token });
    expect(theirs.body).toMatchObject({ items: [], total: 0, nextCursor: null });
  });

  it.each([
    ['/api/suppliers?cursor=not*base64', 'query.cursor'],
    ['/api/suppliers?cursor=WyJpbmNpZGVudHMiLCIyMDI2Il0', 'query.cursor'],
    ['/api/incidents?cursor=eyJhIjoxfQ', 'query.cursor'],
    ['/api/drills?cursor=WyJkcmlsbHMiLCIyMDI2LTAxLTAxIiwiZHJpbGw6eCJd', 'query.cursor'],
    ['/api/tasks/overdue?cursor=e30', 'query.cursor'],
    ['/api/improvement-cycles?limit=0', 'query.limit'],
    ['/api/complaints?limit=201', 'query.limit'],
    ['/api/emergency-plans?limit=abc', 'query.limit'],
    ['/api/suppliers?limit=2&page=2', 'query.page'],
    ['/api/incidents?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'query.to'],
    ['/api/incidents?grade=V', 'query.grade'],
    ['/api/tasks/overdue?kind=meeting', 'query.kind'],
  ])('%s is refused, naming %s', async (path, field) => {
    const res = await h.api('GET', path, { as: 'auditor' });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error.code).toBe('BAD_REQUEST');
    expect(res.body.error.message).toContain(field);
  });

  it("refuses another list's cursor", async () => {
    const suppliers = await h.api('GET', `/api/suppliers?q=${encodeURIComponent(tag)}&limit=1`, { as: 'auditor' });
    const res = await h.api('GET', `/api/incidents?limit=1&cursor=${suppliers.body.nextCursor}`, { as: 'auditor' });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('query.cursor');
  });
});
