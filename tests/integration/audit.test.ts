/**
 * The hash-chained audit log on the real PostgreSQL: concurrent appends from
 * many workflows form one unbroken chain; the database refuses UPDATE and
 * DELETE; tampering (by someone able to switch the trigger off) is detected
 * and the first broken link named.
 */
import { describe, expect, it } from 'vitest';
import { computeAuditHash } from '../../db/audit';
import { eventually, useHarness } from '../support/harness';

const h = useHarness('audit');

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

    const rows = await h.sql<{ seq: string }>('select seq from audit_events order by seq');
    // Four events per case: opened, task opened, decided, closed.
    expect(rows).toHaveLength(keys.length * 4);
    expect(rows.map((r) => Number(r.seq))).toEqual(rows.map((_, i) => i + 1));

    const verify = await h.api('GET', '/api/audit/verify', { as: 'auditor' });
    expect(verify.status).toBe(200);
    expect(verify.body).toMatchObject({ ok: true, eventsChecked: keys.length * 4, lastSeq: keys.length * 4 });
    // This harness sets no anchor key: verify says so rather than claiming anchors (tests/integration/auditTamper.test.ts anchors).
    expect(verify.body).toMatchObject({
      findings: [],
      anchors: { status: 'not_configured', checked: 0, problems: [] },
    });
    const [last] = await h.sql('select hash from audit_events order by seq desc limit 1');
    expect(verify.body.lastHash).toBe(last.hash);

    const page = await h.api('GET', '/api/audit/events?pageSize=5&page=2', { as: 'auditor' });
    expect(page.body).toMatchObject({ page: 2, pageSize: 5, total: keys.length * 4 });
    expect(page.body.items.map((e: { seq: number }) => e.seq)).toEqual([6, 7, 8, 9, 10]);
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
    const total = before.body.lastSeq as number;
    const target = Math.floor(total / 2);

    // Someone with superuser rights switches the guard off and edits history.
    await h.sql('alter table audit_events disable trigger audit_events_append_only');
    await h.sql(`update audit_events set actor_id = 'intruder' where seq = $1`, [target]);
    await h.sql('alter table audit_events enable trigger audit_events_append_only');

    const after = await h.api('GET', '/api/audit/verify', { as: 'auditor' });
    expect(after.body).toMatchObject({
      ok: false,
      eventsChecked: target - 1,
      firstBroken: { seq: target, problem: 'hash_mismatch' },
      findings: ['edited_row'],
    });

    // Re-hashing the edited row to hide the edit breaks the next link instead.
    const [edited] = await h.sql('select * from audit_events where seq = $1', [target]);
    const rehashed = computeAuditHash({
      seq: Number(edited.seq),
      occurredAt: edited.occurred_at,
      actorId: edited.actor_id,
      action: edited.action,
      caseId: edited.case_id,
      taskId: edited.task_id,
      reason: edited.reason,
      payload: edited.payload,
      evidenceHashes: edited.evidence_hashes,
      prevHash: edited.prev_hash,
    });
    await h.sql('alter table audit_events disable trigger audit_events_append_only');
    await h.sql('update audit_events set hash = $1 where seq = $2', [rehashed, target]);
    await h.sql('alter table audit_events enable trigger audit_events_append_only');
    const hidden = await h.api('GET', '/api/audit/verify', { as: 'auditor' });
    expect(hidden.body).toMatchObject({
      ok: false,
      firstBroken: { seq: target + 1, problem: 'prev_hash_mismatch' },
      findings: ['broken_link'],
    });

    // A removed row shows as a gap in the sequence.
    await h.sql('alter table audit_events disable trigger audit_events_append_only');
    await h.sql('delete from audit_events where seq = $1', [target - 1]);
    await h.sql('alter table audit_events enable trigger audit_events_append_only');
    const gap = await h.api('GET', '/api/audit/verify', { as: 'auditor' });
    expect(gap.body).toMatchObject({
      ok: false,
      firstBroken: { seq: target, problem: 'sequence_gap', expected: String(target - 1) },
      findings: ['dropped_row'],
    });
  });
});
