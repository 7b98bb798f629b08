/**
 * An audit trail nobody can rewrite (issue 14 §4), on the real PostgreSQL and
 * the real Temporal dev server:
 * - the app's runtime role may only read and append audit events: UPDATE,
 *   DELETE, TRUNCATE, DISABLE TRIGGER and DROP are refused to it, while the
 *   product (API and worker opened as that role) runs a case end to end;
 * - the chain head is anchored in the anchoring workflow's history, signed
 *   with a key the database never holds;
 * - a superuser who rewrites and recomputes the chain, truncates its tail,
 *   drops a row and re-links the chain, or forges an anchor without the key,
 *   is named by GET /api/audit/verify each time.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  anchorLedgerQuery,
  anchorNowUpdate,
  auditAnchorWorkflowId,
  MAIN_CHAIN,
  type AuditAnchor,
} from '../../contracts/auditAnchor';
import { auditHashV2, checkpointRoot, CHECKPOINT_PART, type CheckpointPayload } from '../../db/audit';
import { ensureAuditAnchoring, parseAnchorKeys, signAnchor, verifyAuditTrail } from '../../db/auditAnchors';
import { migrate } from '../../db/migrate';
import { useRuntimeRole } from '../support/auditRoles';
import { eventually, useHarness } from '../support/harness';
import { saveHistoryFixture } from '../support/histories';

const auditAnchor = {
  key: `k1:${randomBytes(32).toString('base64')}`,
  // Four events per approval case: each case's events end up under an anchor.
  everyEvents: 4,
  everyMinutes: 5,
};
// The worker's activities read the key from their environment, as in production.
process.env.GOVERNANCE_ANCHOR_KEY = auditAnchor.key;
process.env.GOVERNANCE_ANCHOR_EVERY_EVENTS = String(auditAnchor.everyEvents);

const h = useHarness('auditTamper');
const rt = useRuntimeRole(h, { auditAnchor });

let anchorWorkflowId: string;
/** The newest checkpoint signed before the attacks. */
let lastAnchored = 0;
const anchorHandle = () => h.temporal.workflow.getHandle(anchorWorkflowId);
const verify = async () => {
  const res = await rt.api('GET', '/api/audit/verify', { as: 'auditor' });
  expect(res.status).toBe(200);
  return res.body;
};

/** One approval case through the runtime role's API and worker: four audit events. */
async function runCase(): Promise<void> {
  const requestKey = h.unique('TAMPER');
  const start = await rt.api('POST', '/api/cases/approval-requests', {
    as: 'lead',
    json: { requestKey, title: 'Anchored', probability: 1, impact: 2 },
  });
  expect(start.status, JSON.stringify(start.body)).toBe(201);
  const taskId = `approval-request:${requestKey}:approval`;
  await eventually(async () => (await h.sql('select 1 from tasks where id = $1', [taskId])).length === 1);
  const decision = await rt.api('POST', `/api/tasks/${encodeURIComponent(taskId)}/decision`, {
    as: 'approver',
    json: { decision: 'approve' },
  });
  expect(decision.body.status).toBe('approved');
  await h.temporal.workflow.getHandle(`approval-request:${requestKey}`).result();
}

// --- what the attacker (a superuser on the app database) does ---------------------------------

type Row = Record<string, any>;
const TEXT_COLUMNS = `seq, chain_part, part_seq, prev_hash, hash, payload::text as payload_text,
  ((extract(epoch from occurred_at) * 1000)::bigint)::text as occurred_ms, actor_id, action, case_id, task_id,
  reason, evidence_hashes::text as evidence_text`;
const v2Input = (r: Row, prevHash: string) => ({
  prevHash,
  chainPart: r.chain_part,
  partSeq: r.part_seq,
  seq: r.seq,
  occurredMs: r.occurred_ms,
  actorId: r.actor_id,
  action: r.action,
  caseId: r.case_id,
  taskId: r.task_id,
  reason: r.reason,
  payloadText: r.payload_text,
  evidenceText: r.evidence_text,
});

/** Recomputes and re-links one chain (a partition, or the checkpoints) from part_seq `from` on. */
async function relink(part: number, from: number): Promise<void> {
  const rows = await h.sql(
    `select ${TEXT_COLUMNS} from audit_events where chain_part = $1 and part_seq >= $2 order by part_seq`,
    [part, from],
  );
  const [before] = await h.sql(
    'select hash from audit_events where chain_part = $1 and part_seq < $2 order by part_seq desc limit 1',
    [part, from],
  );
  let prevHash: string = before?.hash ?? '0'.repeat(64);
  for (const row of rows) {
    const hash = auditHashV2(v2Input(row, prevHash));
    await h.sql('update audit_events set prev_hash = $1, hash = $2 where seq = $3', [prevHash, hash, row.seq]);
    prevHash = hash;
  }
}

/**
 * With the guard off: `change` edits rows of partition `part` in SQL, then every hash of that
 * partition from `fromPartSeq` on is recomputed and re-linked; with `checkpoints`, every
 * checkpoint is made to record the new heads (root recomputed) and the checkpoints re-linked:
 * the whole trail consistent again, "recomputed end to end".
 */
async function tamper(
  change: string,
  params: unknown[],
  part: number,
  fromPartSeq: number,
  checkpoints = true,
): Promise<void> {
  await h.sql('alter table audit_events disable trigger user');
  try {
    if (change) await h.sql(change, params);
    await relink(part, fromPartSeq);
    if (!checkpoints) return;
    const cps = await h.sql(`select seq, payload from audit_events where chain_part = $1 order by part_seq`, [
      CHECKPOINT_PART,
    ]);
    for (const cp of cps) {
      const payload = cp.payload as CheckpointPayload;
      const [head] = payload.heads[part]!;
      if (head === 0) continue;
      // The row recorded, or (the partition made shorter) the last one up to it.
      const [row] = await h.sql(
        'select part_seq::int as part_seq, hash from audit_events where chain_part = $1 and part_seq <= $2 order by part_seq desc limit 1',
        [part, head],
      );
      payload.heads[part] = row ? [row.part_seq, row.hash] : [0, '0'.repeat(64)];
      payload.root = checkpointRoot(payload.legacy, payload.heads);
      await h.sql('update audit_events set payload = $1::jsonb where seq = $2', [JSON.stringify(payload), cp.seq]);
    }
    await relink(CHECKPOINT_PART, 1);
  } finally {
    await h.sql('alter table audit_events enable trigger user');
  }
}

/** The events (not the checkpoints), in seq order. */
const events = () =>
  h.sql(
    'select seq::int as seq, chain_part, part_seq::int as part_seq from audit_events where chain_part >= 0 order by seq',
  );

let original: Row[] = [];
async function restore(): Promise<void> {
  // In one transaction holding the checkpoint partition's lock: the anchoring workflow, polling
  // every second, must not append a checkpoint between the delete and the re-insert.
  const client = new pg.Client({ connectionString: h.databaseUrl });
  await client.connect();
  try {
    await client.query('begin');
    await client.query('select pg_advisory_xact_lock(727002, $1)', [CHECKPOINT_PART]);
    await client.query('alter table audit_events disable trigger user');
    await client.query('delete from audit_events');
    for (const r of original) {
      await client.query(
        `insert into audit_events (seq, idempotency_key, occurred_at, actor_id, action, case_id, task_id, reason, payload, evidence_hashes, prev_hash, hash, chain_part, part_seq)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
        [
          r.seq,
          r.idempotency_key,
          r.occurred_at,
          r.actor_id,
          r.action,
          r.case_id,
          r.task_id,
          r.reason,
          JSON.stringify(r.payload),
          JSON.stringify(r.evidence_hashes),
          r.prev_hash,
          r.hash,
          r.chain_part,
          r.part_seq,
        ],
      );
    }
    await client.query('alter table audit_events enable trigger user');
    await client.query('commit');
  } finally {
    await client.end();
  }
}

describe('an audit trail nobody can rewrite', () => {
  beforeAll(async () => {
    const id = await ensureAuditAnchoring({
      temporal: h.temporal,
      db: rt.database.db,
      taskQueue: rt.taskQueue,
      settings: { auditAnchor },
      pollSeconds: 1,
      log: () => undefined,
    });
    expect(id).toBe(auditAnchorWorkflowId(h.databaseName));
    anchorWorkflowId = id!;
    // Idempotent: a second start (another worker, a restart) joins the running one.
    const again = await ensureAuditAnchoring({
      temporal: h.temporal,
      db: h.database.db,
      taskQueue: rt.taskQueue,
      settings: { auditAnchor },
      log: () => undefined,
    });
    expect(again).toBe(anchorWorkflowId);
  });
  // The dev server outlives this file: its anchoring workflow must not poll a gone worker's queue.
  afterAll(async () => {
    await anchorHandle()
      .terminate('test finished')
      .catch(() => undefined);
  });

  it('the runtime role may read and append audit events, and nothing else', async () => {
    expect(await rt.sql('select current_user as role')).toEqual([{ role: rt.runtimeRole }]);
    const refused: Array<[string, RegExp]> = [
      [`update audit_events set reason = 'rewritten'`, /permission denied for table audit_events/],
      // The chain's shape (migration 0022) is append-only as well: the partition count cannot be changed.
      ['update audit_chain_config set partitions = 1', /permission denied for table audit_chain_config/],
      ['delete from audit_chain_config', /permission denied for table audit_chain_config/],
      ['delete from audit_events', /permission denied for table audit_events/],
      ['truncate audit_events', /permission denied for table audit_events/],
      ['alter table audit_events disable trigger audit_events_append_only', /must be owner of table audit_events/],
      ['alter table audit_events disable trigger user', /must be owner of table audit_events/],
      ['drop table audit_events', /must be owner of table audit_events/],
      ['drop trigger audit_events_append_only on audit_events', /must be owner of (table|relation) audit_events/],
      [
        `create or replace function audit_events_refuse_change() returns trigger language plpgsql as $$ begin return new; end $$`,
        /permission denied for schema public|must be owner of function audit_events_refuse_change/,
      ],
      [
        `select governance_grant_runtime_role('postgres')`,
        /permission denied for function governance_grant_runtime_role/,
      ],
    ];
    for (const [statement, error] of refused) await expect(rt.sql(statement), statement).rejects.toThrow(error);
    // The other tables are the app's to write, not to truncate or drop.
    await expect(rt.sql('truncate cases')).rejects.toThrow(/permission denied for table cases/);
    await expect(rt.sql('drop table cases')).rejects.toThrow(/must be owner of table cases/);
    expect(await rt.sql(`update cases set title = title where false`)).toEqual([]);

    // At start-up without DATABASE_OWNER_URL, the runtime role only checks that nothing is pending.
    await expect(migrate(rt.database, {})).resolves.toBe('checked');
    // One role for both is a misconfiguration, refused rather than silently granting nothing.
    await expect(migrate(rt.database, { ownerUrl: rt.runtimeUrl })).rejects.toThrow(/both connect as/);
  });

  it('the product runs a case as the runtime role, and the chain head is anchored outside the database', async () => {
    await runCase();
    await runCase();
    expect(await events()).toHaveLength(8);
    // Nobody asks: the workflow looks every second, checkpoints the partitions and signs the
    // checkpoint once four events are unanchored.
    const anchored = await eventually(async () => {
      const body = await verify();
      return body.anchors.newestAnchoredSeq >= 4 ? body : undefined;
    });
    // The workflow may have checkpointed again since: what verify saw is every event up to its lastSeq.
    const [all] = await h.sql('select count(*)::int as n from audit_events where seq <= $1', [anchored.lastSeq]);
    expect(anchored.lastSeq).toBeGreaterThanOrEqual((await events())[7]!.seq);
    expect(anchored).toMatchObject({
      ok: true,
      eventsChecked: all.n,
      findings: [],
      anchors: { status: 'verified', workflowId: anchorWorkflowId, problems: [] },
    });
    expect(anchored.anchors.checked).toBeGreaterThanOrEqual(1);
    // anchorNow signs the rest at once (or finds it signed already): the newest checkpoint,
    // which records every partition head as it is now.
    await anchorHandle().executeUpdate(anchorNowUpdate);
    const ledger = await anchorHandle().query(anchorLedgerQuery);
    expect(ledger.ledger).toBe(h.databaseName);
    const [checkpoint] = await h.sql(
      'select seq::int as seq, hash, payload from audit_events where chain_part = $1 order by part_seq desc limit 1',
      [CHECKPOINT_PART],
    );
    expect(ledger.anchors[ledger.anchors.length - 1]).toMatchObject({
      chain: MAIN_CHAIN,
      seq: checkpoint.seq,
      hash: checkpoint.hash,
      keyId: 'k1',
    });
    const heads = await h.sql(
      'select distinct on (chain_part) chain_part, part_seq::int as part_seq, hash from audit_events where chain_part >= 0 order by chain_part, part_seq desc',
    );
    for (const head of heads) expect(checkpoint.payload.heads[head.chain_part]).toEqual([head.part_seq, head.hash]);
    // The key never reaches Temporal: the history holds the MAC, not the secret.
    const history = JSON.stringify(await anchorHandle().fetchHistory());
    expect(history).not.toContain(auditAnchor.key.slice(3));

    // One more case, anchored at once by anchorNow: every event is under an anchor for the attacks below.
    await runCase();
    await anchorHandle().executeUpdate(anchorNowUpdate);
    const [newest] = await h.sql(
      'select seq::int as seq from audit_events where chain_part = $1 order by part_seq desc limit 1',
      [CHECKPOINT_PART],
    );
    lastAnchored = newest.seq;
    await eventually(async () => (await verify()).anchors.newestAnchoredSeq === lastAnchored);
    expect(lastAnchored).toBeGreaterThan((await events())[11]!.seq);
    // Every event is under an anchor: however late one looks, nothing waits for one.
    const dayLater = {
      db: rt.database.db,
      temporal: h.temporal,
      anchoring: auditAnchor,
      now: new Date(Date.now() + 864e5),
    };
    expect(await verifyAuditTrail(dayLater)).toMatchObject({ ok: true, findings: [] });
    original = await h.sql('select * from audit_events order by seq');
    await saveHistoryFixture(h, anchorWorkflowId, 'audit-anchor');
  });

  describe('as a superuser on the app database', () => {
    afterEach(async () => {
      await restore();
      expect(await verify()).toMatchObject({ ok: true, findings: [] });
    });

    it('a row rewritten and every hash after it recomputed, checkpoints too: the chain verifies, the anchors name the rewrite', async () => {
      const [target] = await events();
      await tamper(
        `update audit_events set actor_id = 'intruder' where seq = $1`,
        [target!.seq],
        target!.chain_part,
        1,
      );
      const body = await verify();
      // The chain alone is consistent again: only the anchors tell.
      expect(body.firstBroken).toBeUndefined();
      expect(body).toMatchObject({ ok: false, findings: ['rewrite'], anchors: { status: 'problems' } });
      const [rewrite] = body.anchors.problems;
      expect(rewrite).toMatchObject({ problem: 'rewrite' });
      expect(rewrite.seq).toBeGreaterThan(target!.seq);
      const [stored] = await h.sql('select hash from audit_events where seq = $1', [rewrite.seq]);
      expect(rewrite.found).toBe(stored.hash);
      // And the anchoring workflow refuses to sign the forged checkpoint.
      const outcome = await anchorHandle().executeUpdate(anchorNowUpdate);
      expect(outcome.anchor).toBeUndefined();
      await expectRefused(outcome);
    });

    it('a partition rewritten under a signed checkpoint, the checkpoints left alone: named as a rewrite', async () => {
      const [target] = await events();
      await tamper(
        `update audit_events set reason = 'rewritten' where seq = $1`,
        [target!.seq],
        target!.chain_part,
        1,
        false,
      );
      const body = await verify();
      expect(body.findings).toContain('rewrite');
      expect(body.anchors.problems.find((p: { problem: string }) => p.problem === 'rewrite').message).toMatch(
        new RegExp(`partition ${target!.chain_part} at \\d+ has another hash than the checkpoint anchored`),
      );
    });

    it('the tail truncated: named as a truncated tail', async () => {
      const cut = (await events())[5]!.seq;
      await h.sql('alter table audit_events disable trigger user');
      await h.sql('delete from audit_events where seq > $1', [cut]);
      await h.sql('alter table audit_events enable trigger user');
      const body = await verify();
      expect(body.firstBroken).toBeUndefined();
      // (The newest row verified may be a checkpoint the anchoring poll took of the shortened trail since.)
      expect(body).toMatchObject({ ok: false, findings: ['truncated_tail'] });
      // Every anchor past the cut lies beyond the end (where the first one falls depends on when the workflow looked).
      const beyond = (await anchorHandle().query(anchorLedgerQuery)).anchors.filter((a) => a.seq > cut);
      expect(beyond.length).toBeGreaterThanOrEqual(2);
      expect(body.anchors.problems[0]).toMatchObject({
        problem: 'truncated_tail',
        seq: beyond[0]!.seq,
        found: String(cut),
      });
      expect(body.anchors.problems[0].count).toBeGreaterThanOrEqual(2);
    });

    it('a middle row dropped and its partition re-linked: named as a dropped row, and the rewrite after it', async () => {
      const all = await events();
      // The partition holding the most events (a case's four at least): which one depends on the case ids.
      const sizes = new Map<number, number>();
      for (const e of all) sizes.set(e.chain_part, (sizes.get(e.chain_part) ?? 0) + 1);
      const part = [...sizes.entries()].sort((a, b) => b[1] - a[1])[0]![0];
      const mine = all.filter((e) => e.chain_part === part);
      expect(mine.length).toBeGreaterThanOrEqual(4);
      await tamper('delete from audit_events where seq = $1', [mine[1]!.seq], part, 3, false);
      const body = await verify();
      expect(body).toMatchObject({
        ok: false,
        firstBroken: { seq: mine[2]!.seq, problem: 'sequence_gap', expected: '2' },
      });
      expect(body.findings).toEqual(expect.arrayContaining(['dropped_row', 'rewrite']));
    });

    it('a middle row dropped, the rest renumbered and re-linked, checkpoints too: the anchors name the rewrite', async () => {
      const all = await events();
      const part = all[0]!.chain_part;
      await h.sql('alter table audit_events disable trigger user');
      await h.sql('delete from audit_events where chain_part = $1 and part_seq = 2', [part]);
      await h.sql('update audit_events set part_seq = part_seq - 1 where chain_part = $1 and part_seq > 2', [part]);
      await h.sql('alter table audit_events enable trigger user');
      await tamper('', [], part, 2);
      const body = await verify();
      // Consistent again, checkpoints included: only the anchored checkpoints, now other rows, tell.
      expect(body.firstBroken).toBeUndefined();
      expect(body).toMatchObject({ ok: false, findings: ['rewrite'] });
    });
  });

  it('an anchor forged without the key is named, and not trusted', async () => {
    const genuine = (await anchorHandle().query(anchorLedgerQuery)).anchors;
    // The attacker rewrites the chain end to end and, able to start workflows in Temporal, replaces the
    // anchoring workflow with one that carries anchors of the forged chain under a key of its own.
    const [target] = await events();
    await tamper(`update audit_events set reason = 'forged' where seq = $1`, [target!.seq], target!.chain_part, 1);
    const forgedRows = await h.sql('select seq, hash from audit_events order by seq');
    const attackerKeys = parseAnchorKeys(`k1:${randomBytes(32).toString('base64')}`);
    const forged: AuditAnchor[] = genuine.map((a) =>
      signAnchor(attackerKeys, { ...a, hash: forgedRows.find((r) => Number(r.seq) === a.seq)!.hash }),
    );
    await anchorHandle().terminate('replaced by the attacker');
    await h.temporal.workflow.start('auditAnchorWorkflow', {
      workflowId: anchorWorkflowId,
      taskQueue: rt.taskQueue,
      args: [{ ledger: h.databaseName, pollSeconds: 3600, anchors: forged }],
    });
    const body = await verify();
    expect(body).toMatchObject({ ok: false, findings: ['bad_signature'] });
    expect(body.anchors).toMatchObject({ checked: 0, newestAnchoredSeq: null });
    expect(body.anchors.problems[0]).toMatchObject({ problem: 'bad_signature', count: genuine.length });
    expect(body.anchors.problems[0].message).toMatch(/MAC does not verify/);
    // A day on, with no trusted anchor at all, verify also says the events wait for one in vain.
    const later = await verifyAuditTrail({
      db: rt.database.db,
      temporal: h.temporal,
      anchoring: auditAnchor,
      now: new Date(Date.now() + 24 * 3600_000),
    });
    expect(later.findings).toEqual(['bad_signature', 'unanchored']);
    expect(later.anchors.problems[1]).toMatchObject({ problem: 'unanchored', seq: 1 });
  });
});

/** After a refused anchoring, the ledger records why (and the newest anchor is still the genuine one). */
async function expectRefused(outcome: { refusal?: { problem: string } }): Promise<void> {
  expect(outcome.refusal?.problem).toMatch(/^(rewrite|broken_chain)$/);
  const ledger = await anchorHandle().query(anchorLedgerQuery);
  expect(ledger.anchors[ledger.anchors.length - 1]!.seq).toBe(lastAnchored);
  expect(ledger.refusals.length).toBeGreaterThanOrEqual(1);
}
