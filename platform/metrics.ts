/**
 * The API's Prometheus metrics (served by api/routes/metrics.ts): the Node
 * process (CPU, memory, event loop, GC), HTTP requests by route template and
 * status, and the audit chain read from the database at scrape time. The
 * worker's metrics are the Temporal SDK's own, served by its runtime
 * (WORKER_METRICS_ADDRESS, worker.ts).
 */
import { gt, sql } from 'drizzle-orm';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Database } from '../db/client';
import { auditEvents as auditEventsTable } from '../db/schema';

/** One registry per process: every app built in it counts into the same series. */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry });

export const httpRequestDuration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'HTTP requests by method, route template (never the raw path) and status',
  labelNames: ['method', 'route', 'status'] as const,
  registers: [metricsRegistry],
});

const auditEvents = new Gauge({
  name: 'governance_audit_events',
  help: 'Events in the audit chain (audit_events rows)',
  registers: [metricsRegistry],
});
const auditNewestSeq = new Gauge({
  name: 'governance_audit_newest_seq',
  help: 'Sequence number of the newest audit event (the chain head); equals governance_audit_events while the chain is whole',
  registers: [metricsRegistry],
});
const auditNewestAt = new Gauge({
  name: 'governance_audit_newest_event_timestamp_seconds',
  help: 'When the newest audit event occurred (unix seconds); alert when it stops moving during working hours',
  registers: [metricsRegistry],
});

interface ChainCount {
  events: number;
  throughSeq: number;
}
const chainCounts = new WeakMap<Database, Promise<ChainCount>>();

/**
 * Reads the chain head and counts the events, cheaply: a full count once per
 * process (about 150 ms per million rows here), then only the rows after the
 * last head seen (under a millisecond, on the primary key). Sound because the
 * table is append-only (its triggers refuse UPDATE, DELETE, TRUNCATE) and
 * events are appended in seq order under the chain lock; a superuser's
 * rewrite is for `verify` to find, not for a gauge.
 */
export async function observeAuditChain(db: Database): Promise<void> {
  const previous = (await chainCounts.get(db)?.catch(() => undefined)) ?? { events: 0, throughSeq: 0 };
  const next = (async (): Promise<ChainCount> => {
    const [row] = await db
      .select({
        added: sql<string>`count(*)::text`,
        newest: sql<string | null>`max(${auditEventsTable.seq})::text`,
        newestAt: sql<
          string | null
        >`(select extract(epoch from occurred_at)::text from audit_events order by seq desc limit 1)`,
      })
      .from(auditEventsTable)
      .where(gt(auditEventsTable.seq, previous.throughSeq));
    const count: ChainCount = row?.newest
      ? { events: previous.events + Number(row.added), throughSeq: Number(row.newest) }
      : previous;
    auditEvents.set(count.events);
    auditNewestSeq.set(count.throughSeq);
    if (row?.newestAt) auditNewestAt.set(Number(row.newestAt));
    return count;
  })();
  chainCounts.set(db, next);
  await next;
}
