/**
 * A cheap fingerprint of everything a request could change: every table of
 * the file's database (row count and an order-free sum of row hashes, so an
 * UPDATE shows too) and every workflow execution of the harness's task queue
 * (status and history length, from Temporal itself, not the read model).
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Harness } from '../harness';

export interface Fingerprint {
  tables: Record<string, string>;
  workflows: Record<string, string>;
  /** When each workflow started (ms): one the visibility store lists late is not new. */
  started: Record<string, number>;
  takenAt: number;
  /** A running workflow has an activity or workflow task pending: it will still write. */
  busy: boolean;
}

export interface StateProbe {
  /** Time spent fingerprinting each side, in ms. */
  timing: { tables: number; workflows: number; list: number };
  take(): Promise<Fingerprint>;
  /** Names a workflow (from a 2xx answer) before the visibility store lists it. */
  know(workflowId: string): void;
  /** Waits until nothing is pending and two fingerprints in a row agree; returns the last. */
  settle(timeoutMs?: number): Promise<Fingerprint>;
}

/**
 * `ignoreTables`: tables a refusal may write by design (schema.table), e.g. the
 * Idempotency-Key store, which keeps every answer below 500 for the retry.
 */
export function stateProbe(h: Harness, options: { ignoreTables?: string[] } = {}): StateProbe {
  const ignored = new Set(options.ignoreTables ?? []);
  let tableQuery: string | undefined;
  /** Every workflow id seen, with the runs the visibility store listed for it. */
  const known = new Map<string, Set<string>>();
  /** Closed workflows' fingerprints, by id: a closed run gets no more events (a new run shows in `known`). */
  const closed = new Map<
    string,
    { workflowId: string; fingerprint: string; started: number; busy: boolean; runs: number }
  >();
  const timing = { tables: 0, workflows: 0, list: 0 };

  async function tables(): Promise<Record<string, string>> {
    if (!tableQuery) {
      const names = await h.sql<{ schema: string; name: string }>(
        `select schemaname as schema, tablename as name from pg_tables
          where schemaname not in ('pg_catalog', 'information_schema') order by 1, 2`,
      );
      tableQuery = names
        .filter(({ schema, name }) => !ignored.has(`${schema}.${name}`))
        .map(
          ({ schema, name }) =>
            `select '${schema}.${name}' as t, count(*)::text || ':' || coalesce(sum(hashtext(x::text)::bigint), 0)::text as f from "${schema}"."${name}" x`,
        )
        .join(' union all ');
    }
    const rows = await h.sql<{ t: string; f: string }>(tableQuery);
    return Object.fromEntries(rows.map((r) => [r.t, r.f]));
  }

  async function workflows(): Promise<Pick<Fingerprint, 'workflows' | 'started' | 'busy'>> {
    const t0 = Date.now();
    for await (const execution of h.temporal.workflow.list({ query: `TaskQueue = "${h.taskQueue}"` })) {
      const runs = known.get(execution.workflowId) ?? new Set<string>();
      runs.add(execution.runId);
      known.set(execution.workflowId, runs);
    }
    timing.list += Date.now() - t0;
    const described = await Promise.all(
      [...known].map(async ([workflowId, runs]) => {
        const done = closed.get(workflowId);
        if (done && done.runs === runs.size) return done;
        try {
          const { raw } = await h.temporal.workflow.getHandle(workflowId).describe();
          const info = raw.workflowExecutionInfo!;
          const running = info.status === 1; // WORKFLOW_EXECUTION_STATUS_RUNNING
          const busy = running && ((raw.pendingActivities?.length ?? 0) > 0 || Boolean(raw.pendingWorkflowTask));
          const started = Number(info.startTime?.seconds ?? 0) * 1000 + Math.floor((info.startTime?.nanos ?? 0) / 1e6);
          const described = {
            workflowId,
            fingerprint: `${info.execution?.runId}:${info.status}:${info.historyLength}`,
            started,
            busy,
            runs: runs.size,
          };
          if (!running) closed.set(workflowId, described);
          return described;
        } catch (err) {
          if (err instanceof WorkflowNotFoundError)
            return { workflowId, fingerprint: 'absent', started: 0, busy: false, runs: runs.size };
          throw err;
        }
      }),
    );
    return {
      workflows: Object.fromEntries(described.map((d) => [d.workflowId, d.fingerprint])),
      started: Object.fromEntries(described.map((d) => [d.workflowId, d.started])),
      busy: described.some((d) => d.busy),
    };
  }

  async function take(): Promise<Fingerprint> {
    const takenAt = Date.now();
    const [t, w] = await Promise.all([
      tables().finally(() => (timing.tables += Date.now() - takenAt)),
      workflows().finally(() => (timing.workflows += Date.now() - takenAt)),
    ]);
    return { tables: t, ...w, takenAt };
  }

  return {
    timing,
    take,
    know: (workflowId) => {
      if (!known.has(workflowId)) known.set(workflowId, new Set());
    },
    async settle(timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      let last = await take();
      for (;;) {
        await new Promise((r) => setTimeout(r, 60));
        const next = await take();
        if (!next.busy && differences(last, next).length === 0) return next;
        if (Date.now() > deadline) return next;
        last = next;
      }
    },
  };
}

/** What differs between two fingerprints, one line per table or workflow. */
export function differences(before: Fingerprint, after: Fingerprint): string[] {
  const out: string[] = [];
  for (const [kind, a, b] of [
    ['table', before.tables, after.tables],
    ['workflow', before.workflows, after.workflows],
  ] as const) {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      // Listed late by the visibility store, but started before `before` was taken: not new.
      const late = kind === 'workflow' && a[key] === undefined && (after.started[key] ?? 0) < before.takenAt - 1_000;
      if (a[key] !== b[key] && !late) out.push(`${kind} ${key}: ${a[key] ?? 'none'} -> ${b[key] ?? 'none'}`);
    }
  }
  return out;
}
