/**
 * The platform's own KPIs, computed from its records, for PDCA checks and the
 * control-effectiveness report (DOMAIN.md §2, §6). A read of the read model:
 * the PDCA check's activity and the API's report both call it.
 */
import { and, eq, gte, lt, ne, sql } from 'drizzle-orm';
import type { Database } from './client';
import { cases, tasks } from './schema';

const DAY = 86_400_000;

export async function platformKpis(db: Database, keys: string[], now = new Date()): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  if (keys.includes('overdue_rectification_rate')) {
    const [row] = await db
      .select({
        open: sql<number>`count(*)::int`,
        overdue: sql<number>`count(*) filter (where ${tasks.dueAt} < ${now})::int`,
      })
      .from(tasks)
      .where(and(eq(tasks.kind, 'rectification'), ne(tasks.status, 'done')));
    out.overdue_rectification_rate = row && row.open ? Math.round((row.overdue / row.open) * 100) / 100 : 0;
  }
  if (keys.includes('sla_breaches')) {
    const [row] = await db
      .select({ breaches: sql<number>`coalesce(sum(jsonb_array_length(${cases.data}->'breaches')), 0)::int` })
      .from(cases)
      .where(and(eq(cases.process, 'complaint'), gte(cases.createdAt, new Date(now.getTime() - 30 * DAY))));
    out.sla_breaches = row?.breaches ?? 0;
  }
  if (keys.includes('severe_incidents') || keys.includes('incidents_total')) {
    const [row] = await db
      .select({
        total: sql<number>`count(*)::int`,
        severe: sql<number>`count(*) filter (where ${cases.data}->>'grade' in ('I','II'))::int`,
      })
      .from(cases)
      .where(
        and(
          eq(cases.process, 'incident'),
          gte(cases.createdAt, new Date(now.getTime() - 90 * DAY)),
          lt(cases.createdAt, now),
        ),
      );
    out.severe_incidents = row?.severe ?? 0;
    out.incidents_total = row?.total ?? 0;
  }
  return Object.fromEntries(Object.entries(out).filter(([k]) => keys.includes(k)));
}
