/** Walking a keyset-paged list (api/routes/keyset.ts) to its end, as a client would. */
import { expect } from 'vitest';
import type { Harness, TestUser } from './harness';

export type Row = Record<string, unknown>;

/**
 * Every page of `path`, following nextCursor to the end: each page holds at
 * most `limit` rows, echoes the limit (and no page number), and reports the
 * same total; the rows add up to that total (or, for a total counted only
 * up to its cap, go past it).
 */
export async function walkKeyset(h: Harness, path: string, as: TestUser, limit: number, maxPages = 50) {
  const items: Row[] = [];
  const pages: number[] = [];
  let cursor: string | null = null;
  let total = -1;
  let capped = false;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const res = await h.api(
      'GET',
      `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      { as },
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.items.length).toBeLessThanOrEqual(limit);
    expect(res.body.limit).toBe(limit);
    expect(res.body.page).toBeUndefined();
    if (total >= 0) expect(res.body.total).toBe(total);
    total = res.body.total;
    capped = res.body.totalCapped === true;
    pages.push(res.body.items.length);
    items.push(...res.body.items);
    cursor = res.body.nextCursor;
    expect(pages.length).toBeLessThan(maxPages);
  } while (cursor);
  if (capped) expect(items.length).toBeGreaterThan(total);
  else expect(items.length).toBe(total);
  return { items, pages };
}
