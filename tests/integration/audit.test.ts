/**
 * The hash-chained audit log on the real PostgreSQL: concurrent appends from
 * many workflows form unbroken chains, one per partition, each case in the
 * partition of its id; the database refuses UPDATE and DELETE; tampering (by
 * someone able to switch the trigger off) is detected and the first broken
 * link named.
 */
import { describe, expect, it } from 'vitest';
import { auditHashV2, partitionOf } from '../../db/audit';
import { eventually, useHarness } from '../support/harness';

const h = useHarness('audit');

/** A row as the v2 hash reads it (what an attacker recomputes with). */
async function storedText(seq: number) {
  const [r] = await h.sql(
    `select chain_part, part_seq::text as part_seq, seq::text as seq, prev_hash,
            ((extract(epoch from occurred_at) * 1000)::bigint)::text as occurred_ms, actor_id, action, case_id,
            task_id, reason, payload::text as payload, evidence_hashes::text as evidence
       from audit_events where seq = $1`,
    [seq],
  );
  return {
    prevHash: r.prev_hash,
    chainPart: r.chain_part,
    partSeq: r.part_seq,
    seq: r.seq,
    occurredMs: r.occurred_ms,
    actorId: r.actor_id,
    action: r.action,
    caseId: r.case_id,
    taskId: r.task_id,
    reason: r.reason,
    payloadText: r.payload,
    evidenceText: r.evidence,
  };
}

describe('audit log', () => {
  it('stays one unbroken chain while many workflows append at once', async () => {
    const keys = Array.from({ length: 12 }, () => h.unique('CHAIN'));
    const starts = await Promise.all(
      keys.map((requestKey) =>
        h.api('POST', '/api/cases/approval-requests', {
          as: 'lead',
          json: { requestKey, title: 'Concurrent', probability: 1, impact: 2 },
        }),
      ),
    );
    expect(starts.map((s) => s.status)).toEqual(keys.map(() => 201));
    const taskIds = keys.map((k) => `approval-request:${k}:approval`);
    await eventually(
      async () => (await h.sql('select 1 from tasks where id = any($1)', [taskIds])).length === keys.length,
    );
    const decisions = await Promise.all(
      taskIds.map((id) =>
        h.api('POST', `/api/tasks/${encodeURIComponent(id)}/decision`, {
          as: 'approver',
          json: { decision: 'approve' },
        }),
      ),
    );
    expect(decisions.map((d) => d.body.status)).toEqual(keys.map(() => 'approved'));
    await Promise.all(keys.map((k) => h.temporal.workflow.getHandle(`approval-request:${k}`).result()));

    const rows = await h.sql<{ seq: string; hash: string; chain_part: number; part_seq: string; case_id: string }>(
      'select seq, hash, chain_part, part_seq, case_id from audit_events order by seq',
    );
    // Four events per case: opened, task opened, decided, closed.
    expect(rows).toHaveLength(keys.length * 4);
    // seq orders the trail (unique, increasing); each partition counts its own events from 1 without a gap.
    const seqs = rows.map((r) => Number(r.seq));
    expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => a - b));
    const byPart = new Map<number, number[]>();
    for (const r of rows) byPart.set(r.chain_part, [...(byPart.get(r.chain_part) ?? []), Number(r.part_seq)]);
    for (const partSeqs of byPart.values()) expect(partSeqs).toEqual(partSeqs.map((_, i) => i + 1));
    // Every case is in the partition of its id, so twelve cases spread over several partitions.
    const [config] = await h.sql('select partitions from audit_chain_config');
    expect(config.partitions).toBe(16);
    for (const r of rows) expect(r.chain_part).toBe(partitionOf(r.case_id, 16));
    expect(byPart.size).toBeGreaterThan(1);

    const verify = await h.api('GET', '/api/audit/verify', { as: 'auditor' });
    expect(verify.status).toBe(200);
    const last = rows[rows.length - 1]!;
    expect(verify.body).toMatchObject({ ok: true, eventsChecked: keys.length * 4, lastSeq: Number(last.seq) });
    // This harness sets no anchor key: verify says so rather than claiming anchors (tests/integration/auditTamper.test.ts anchors).
    expect(verify.body).toMatchObject({
      findings: [],
      anchors: { status: 'not_configured', checked: 0, problems: [] },
    });
    expect(verify.body.lastHash).toBe(last.hash);

    const page = await h.api('GET', '/api/audit/events?pageSize=5&page=2', { as: 'auditor' });
    expect(page.body).toMatchObject({ page: 2, pageSize: 5, total: keys.length * 4 });
    expect(page.body.items.map((e: { seq: number }) => e.seq)).toEqual(seqs.slice(5, 10));
  });

  it('the database refuses UPDATE, DELETE and TRUNCATE on audit events', async () => {
    await expect(h.sql(`update audit_events set reason = 'rewritten' where seq = 1`)).rejects.toThrow(
      /append-only: UPDATE refused/,
    );
    await expect(h.sql('delete from audit_events where seq = 1')).rejects.toThrow(/append-only: DELETE refused/);
    await expect(h.sql('truncate audit_events')).rejects.toThrow(/append-only: TRUNCATE refused/);
    const [row] = await h.sql('select reason from audit_events where seq = 1');
    expect(row.reason).toBeNull();
  });

  it('names the first broken link when a row was tampered with behind the trigger', async () => {
    const before = await h.api('GET', '/api/audit/verify', { as: 'admin' });
    expect(before.body.ok).toBe(true);
    const total = before.body.eventsChecked as number;
    // The middle event of the fullest partition.
    const [fullest] = await h.sql(
      'select chain_part, count(*)::int as n from audit_events group by chain_part order by n desc limit 1',
    );
    const part = fullest.chain_part as number;
    const n = fullest.n as number;
    expect(n).toBeGreaterThanOrEqual(4);
    const k = Math.floor(n / 2) + 1;
    const at = async (partSeq: number) =>
      Number(
        (await h.sql('select seq from audit_events where chain_part = $1 and part_seq = $2', [part, partSeq]))[0].seq,
      );
    const target = await at(k);

    // Someone with superuser rights switches the guard off and edits history.
    await h.sql('alter table audit_events disable trigger audit_events_append_only');
    await h.sql(`update audit_events set actor_id = 'intruder' where seq = $1`, [target]);
    await h.sql('alter table audit_events enable trigger audit_events_append_only');

    const after = await h.api('GET', '/api/audit/verify', { as: 'auditor' });
    expect(after.body).toMatchObject({
      ok: false,
      // Every other partition verifies whole; this one up to the edited event.
      eventsChecked: total - (n - k + 1),
      firstBroken: { seq: target, problem: 'hash_mismatch' },
      findings: ['edited_row'],
    });

    // Re-hashing the edited row to hide the edit breaks the next link of its partition instead.
    const rehashed = auditHashV2(await storedText(target));
    await h.sql('alter table audit_events disable trigger audit_events_append_only');
    await h.sql('update audit_events set hash = $1 where seq = $2', [rehashed, target]);
    await h.sql('alter table audit_events enable trigger audit_events_append_only');
    const hidden = await h.api('GET', '/api/audit/verify', { as: 'auditor' });
    expect(hidden.body).toMatchObject({
      ok: false,
      firstBroken: { seq: await at(k + 1), problem: 'prev_hash_mismatch' },
      findings: ['broken_link'],
    });

    // A removed row shows as a gap in its partition's sequence.
    const removed = await at(k - 1);
    await h.sql('alter table audit_events disable trigger audit_events_append_only');
    await h.sql('delete from audit_events where seq = $1', [removed]);
    await h.sql('alter table audit_events enable trigger audit_events_append_only');
    const gap = await h.api('GET', '/api/audit/verify', { as: 'auditor' });
    expect(gap.body).toMatchObject({
      ok: false,
      firstBroken: { seq: target, problem: 'sequence_gap', expected: String(k - 1) },
      findings: ['dropped_row'],
    });
  });
});
