/**
 * GET /api/cases with keyset pagination (issue 15 §4 "Reads at size"): each
 * walk, page by page to the end, yields every matching case exactly once,
 * newest first with the id breaking ties (to the microsecond, as PostgreSQL
 * holds created_at); a case opened during the walk neither repeats nor hides
 * a row, where offset paging repeats one; filters and read scoping narrow the
 * walk and its total; old page/pageSize clients are answered as before; a bad
 * cursor or limit is a 400 naming the field.
 *
 * Real Temporal and PostgreSQL: three approval requests are started through
 * the API; the rows whose timestamps the test must choose (ties within one
 * millisecond) are written to the read model with SQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endWorkflows, quiet } from '../support/drive';
import { useHarness, type TestUser } from '../support/harness';
import { walkKeyset, type Row } from '../support/keyset';

const h = useHarness('caseskeyset');
const running = new Set<string>();
afterAll(() => endWorkflows(h, running, 'casesKeyset done'));

const walk = (path: string, as: TestUser, limit: number) => walkKeyset(h, path, as, limit, 20);

const ids = (rows: Row[]) => rows.map((r) => r.id as string);

/** A read-model case row of `process`, opened at `createdAt` (text with microseconds) by `initiatorId`. */
async function insertCase(process: string, id: string, createdAt: string, initiatorId = 'someone-else') {
  await h.sql(
    `insert into cases (id, process, business_key, title, stage, status, initiator_id, workflow_id, run_id, created_at, updated_at)
     values ($1, $2, $3, $4, 'in_progress', 'open', $5, $1, 'run', $6::timestamptz, $6::timestamptz)`,
    [id, process, id.split(':')[1], `Keyset ${id}`, initiatorId, createdAt],
  );
}

describe('GET /api/cases with a cursor', () => {
  const started: string[] = [];
  // Newest first, then by id descending: three share one microsecond (the id orders them);
  // K6a is a microsecond newer than K6b within one millisecond (and its id sorts lower), so a
  // cursor cut to the millisecond between them would repeat or skip one.
  const pdcaNewestFirst = ['pdca:K7', 'pdca:K6a', 'pdca:K6b', 'pdca:K5', 'pdca:K3c', 'pdca:K3b', 'pdca:K3a'];

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) {
      const res = await h.api('POST', '/api/cases/approval-requests', {
        as: 'manager',
        json: { requestKey: h.unique('CASESKS'), title: `Cases keyset ${i}`, probability: 1, impact: 2 },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      started.push(res.body.caseId);
      running.add(res.body.caseId);
      await quiet(h, res.body.caseId);
    }
    await insertCase('pdca', 'pdca:K3a', '2026-03-01T10:00:00.000300Z', 'owner');
    await insertCase('pdca', 'pdca:K3b', '2026-03-01T10:00:00.000300Z');
    await insertCase('pdca', 'pdca:K3c', '2026-03-01T10:00:00.000300Z', 'owner');
    await insertCase('pdca', 'pdca:K5', '2026-03-02T10:00:00.000000Z');
    await insertCase('pdca', 'pdca:K6a', '2026-03-03T10:00:00.000101Z');
    await insertCase('pdca', 'pdca:K6b', '2026-03-03T10:00:00.000100Z', 'owner');
    await insertCase('pdca', 'pdca:K7', '2026-03-04T10:00:00.000000Z');
  });

  it('walks cases newest first, each once, ties within a millisecond broken by the microsecond and the id', async () => {
    const { items, pages } = await walk('/api/cases?process=pdca', 'auditor', 3);
    expect(pages).toEqual([3, 3, 1]);
    expect(ids(items)).toEqual(pdcaNewestFirst);
    // The same walk a row at a time.
    expect(ids((await walk('/api/cases?process=pdca', 'auditor', 1)).items)).toEqual(pdcaNewestFirst);
  });

  it('filters by process and stage with the cursor: the started requests, newest first', async () => {
    const { items, pages } = await walk('/api/cases?process=approval_request&stage=awaiting_approval', 'auditor', 2);
    expect(pages).toEqual([2, 1]);
    expect(ids(items)).toEqual([...started].reverse());
    expect(items.every((c) => c.process === 'approval_request' && c.stage === 'awaiting_approval')).toBe(true);
    // Every case: the started ones and the pdca rows, each once.
    const everything = await walk('/api/cases', 'auditor', 4);
    expect(new Set(ids(everything.items))).toEqual(new Set([...started, ...pdcaNewestFirst]));
  });

  it('walks only the cases the caller may read, and counts them alone', async () => {
    const { items } = await walk('/api/cases?process=pdca', 'owner', 2);
    expect(ids(items)).toEqual(['pdca:K6b', 'pdca:K3c', 'pdca:K3a']);
    const { items: started_ } = await walk('/api/cases', 'owner', 2);
    expect(ids(started_).filter((id) => id.startsWith('approval-request:'))).toEqual([]);
  });

  it('a case opened during the walk neither repeats nor hides a row; offset paging repeats one', async () => {
    const first = await h.api('GET', '/api/cases?process=pdca&limit=3', { as: 'auditor' });
    expect(ids(first.body.items)).toEqual(pdcaNewestFirst.slice(0, 3));
    await insertCase('pdca', 'pdca:K9', '2026-03-09T10:00:00.000000Z');
    try {
      const rest: string[] = [];
      let cursor: string | null = first.body.nextCursor;
      while (cursor) {
        const res = await h.api('GET', `/api/cases?process=pdca&limit=3&cursor=${encodeURIComponent(cursor)}`, {
          as: 'auditor',
        });
        expect(res.status).toBe(200);
        expect(res.body.total).toBe(8);
        rest.push(...ids(res.body.items));
        cursor = res.body.nextCursor;
      }
      expect([...ids(first.body.items), ...rest]).toEqual(pdcaNewestFirst);
      const offset = await h.api('GET', '/api/cases?process=pdca&page=2&pageSize=3', { as: 'auditor' });
      expect(ids(offset.body.items)[0]).toBe(pdcaNewestFirst[2]);
    } finally {
      await h.sql(`delete from cases where id = 'pdca:K9'`);
    }
  });

  it('answers page/pageSize as before, with a nextCursor that continues the walk', async () => {
    const first = await h.api('GET', '/api/cases?process=pdca&page=1&pageSize=4', { as: 'auditor' });
    expect(first.status).toBe(200);
    // An exact total, under the cap: totalCapped says so (a field older clients may ignore).
    expect(first.body).toMatchObject({ page: 1, pageSize: 4, total: 7, totalCapped: false });
    expect(first.body.limit).toBeUndefined();
    expect(ids(first.body.items)).toEqual(pdcaNewestFirst.slice(0, 4));
    const second = await h.api('GET', '/api/cases?process=pdca&page=2&pageSize=4', { as: 'auditor' });
    expect(second.body).toMatchObject({ page: 2, pageSize: 4, total: 7, nextCursor: null });
    expect(ids(second.body.items)).toEqual(pdcaNewestFirst.slice(4));
    const next = await h.api(
      'GET',
      `/api/cases?process=pdca&limit=10&cursor=${encodeURIComponent(first.body.nextCursor)}`,
      { as: 'auditor' },
    );
    expect(ids(next.body.items)).toEqual(pdcaNewestFirst.slice(4));
    // No paging parameter at all: the first page of 20, as always.
    const plain = await h.api('GET', '/api/cases', { as: 'auditor' });
    expect(plain.body).toMatchObject({ page: 1, pageSize: 20, total: 10, nextCursor: null });
  });

  it.each([
    ['/api/cases?cursor=not*base64', 'query.cursor'],
    ['/api/cases?cursor=e30', 'query.cursor'],
    // An incidents cursor: another list's.
    [
      `/api/cases?cursor=${Buffer.from('["incidents","2026-03-01T10:00:00.000300Z","x"]').toString('base64url')}`,
      'query.cursor',
    ],
    // A cursor whose timestamp lost its microseconds.
    [
      `/api/cases?cursor=${Buffer.from('["cases","2026-03-01T10:00:00.000Z","pdca:K3a"]').toString('base64url')}`,
      'query.cursor',
    ],
    ['/api/cases?limit=0', 'query.limit'],
    ['/api/cases?limit=201', 'query.limit'],
    ['/api/cases?limit=2&page=2', 'query.page'],
    ['/api/cases?limit=2&pageSize=5', 'query.pageSize'],
  ])('refuses %s with a 400 naming %s', async (path, field) => {
    const res = await h.api('GET', path, { as: 'auditor' });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error.message).toContain(field);
  });
});
