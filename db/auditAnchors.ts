/**
 * Anchors of the audit chain (contracts/auditAnchor.ts): signing them, reading
 * them back from the anchoring workflow, and checking the chain against them.
 *
 * An anchor signs a checkpoint (db/audit.ts): an `audit.checkpoint` event
 * whose Merkle root covers every partition head and the legacy head. Its seq
 * and hash are the checkpoint row's, so an anchor signed before the chain
 * was partitioned (a legacy event) is checked the same way. A checkpoint
 * still in place must still record the rows at its heads: a partition
 * rewritten or cut short under it is named too.
 *
 * What verify names, and how:
 * - `rewrite`: an anchored seq whose row now has another hash (a row was
 *   edited, removed or inserted before it, and every hash after recomputed);
 * - `truncated_tail`: the chain ends before an anchored seq;
 * - `dropped_row`: an anchored seq missing inside the chain, or (from the
 *   chain itself) a gap in seq;
 * - `bad_signature`: an anchor whose MAC does not verify with the key (forged
 *   without the key, or signed for another database); it is not used.
 * - `unavailable`: anchoring is configured but its workflow cannot be read;
 * - `unanchored`: events have waited for an anchor far longer than the
 *   cadence allows (anchoring has stopped: no key on the worker, the
 *   workflow gone or stuck).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { asc, desc, gt, inArray, sql } from 'drizzle-orm';
import {
  anchorLedgerQuery,
  auditAnchorWorkflowId,
  type AnchorLedger,
  type AuditAnchor,
  type AuditAnchorInput,
} from '../contracts/auditAnchor';
import type { Settings } from '../platform/config';
import type { auditAnchorWorkflow } from '../workflows/auditAnchor';
import { canonicalJson, CHECKPOINT_PART, verifyAuditChain, type ChainVerification, type DbOrTx } from './audit';
import { auditEvents } from './schema';

export type AnchorSettings = NonNullable<Settings['auditAnchor']>;

export interface AnchorKeyring {
  signing: { id: string; secret: Buffer };
  secrets: Map<string, Buffer>;
}

const KEY_ID = /^[A-Za-z0-9_.-]{1,32}$/;
const MIN_SECRET_BYTES = 32;

/**
 * GOVERNANCE_ANCHOR_KEY: `keyId:base64secret[,keyId:base64secret…]`. The
 * first key signs; every key verifies, so a key can be rotated without
 * losing the anchors it signed. Errors never quote a secret.
 */
export function parseAnchorKeys(raw: string): AnchorKeyring {
  const secrets = new Map<string, Buffer>();
  let signing: AnchorKeyring['signing'] | undefined;
  for (const [i, part] of raw.split(',').entries()) {
    const colon = part.indexOf(':');
    const id = colon > 0 ? part.slice(0, colon).trim() : '';
    const secret = Buffer.from(part.slice(colon + 1).trim(), 'base64');
    if (!KEY_ID.test(id))
      throw new Error(
        `GOVERNANCE_ANCHOR_KEY entry ${i + 1} must be keyId:base64secret (keyId: letters, digits, _ . -)`,
      );
    if (secret.length < MIN_SECRET_BYTES)
      throw new Error(
        `GOVERNANCE_ANCHOR_KEY key "${id}" must be at least ${MIN_SECRET_BYTES} bytes, base64 (e.g. openssl rand -base64 32)`,
      );
    if (secrets.has(id)) throw new Error(`GOVERNANCE_ANCHOR_KEY names key "${id}" twice`);
    secrets.set(id, secret);
    signing ??= { id, secret };
  }
  if (!signing) throw new Error('GOVERNANCE_ANCHOR_KEY is empty');
  return { signing, secrets };
}

type AnchorFields = Omit<AuditAnchor, 'keyId' | 'mac'>;

function anchorMac(secret: Buffer, anchor: AnchorFields & { keyId: string }): Buffer {
  const { ledger, chain, seq, hash, anchoredAt, keyId } = anchor;
  return createHmac('sha256', secret)
    .update('governance-audit-anchor/v1\n')
    .update(canonicalJson({ ledger, chain, seq, hash, anchoredAt, keyId }))
    .digest();
}

export function signAnchor(keyring: AnchorKeyring, fields: AnchorFields): AuditAnchor {
  const keyId = keyring.signing.id;
  return { ...fields, keyId, mac: anchorMac(keyring.signing.secret, { ...fields, keyId }).toString('hex') };
}

/** Why an anchor cannot be trusted, or undefined when its MAC verifies for this ledger. */
export function anchorSignatureProblem(
  keyring: AnchorKeyring,
  anchor: AuditAnchor,
  ledger: string,
): string | undefined {
  const secret = keyring.secrets.get(anchor.keyId);
  if (!secret) return `signed with key "${anchor.keyId}", which is not configured`;
  const given = Buffer.from(typeof anchor.mac === 'string' ? anchor.mac : '', 'hex');
  const expected = anchorMac(secret, anchor);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'the MAC does not verify';
  if (anchor.ledger !== ledger) return `signed for database "${anchor.ledger}", not "${ledger}"`;
  return undefined;
}

/** The app database's identity: the name the configuration connects to. */
export async function databaseLedger(db: DbOrTx): Promise<string> {
  const result = (await db.execute(sql`select current_database() as name`)) as unknown as {
    rows: Array<{ name: string }>;
  };
  return result.rows[0]!.name;
}

export type AnchorProblemKind =
  'rewrite' | 'truncated_tail' | 'dropped_row' | 'bad_signature' | 'unavailable' | 'unanchored';

/**
 * How long past the cadence an event may wait for its anchor before verify
 * says anchoring has stopped: twice the minutes, plus a minute for the poll
 * and for clocks.
 */
export function unanchoredProblem(
  firstUnanchored: { seq: number; occurredAt: Date } | undefined,
  everyMinutes: number,
  now: Date,
): AnchorProblem | undefined {
  if (!firstUnanchored) return undefined;
  const waitedMinutes = (now.getTime() - firstUnanchored.occurredAt.getTime()) / 60_000;
  if (waitedMinutes <= 2 * everyMinutes + 1) return undefined;
  return {
    problem: 'unanchored',
    seq: firstUnanchored.seq,
    count: 1,
    message: `event ${firstUnanchored.seq} and those after it have waited ${Math.floor(waitedMinutes)} minutes for an anchor (cadence: ${everyMinutes}): is anchoring running?`,
  };
}

export interface AnchorProblem {
  problem: AnchorProblemKind;
  /** The first (lowest) anchored seq with this problem. */
  seq?: number;
  /** How many anchors have it. */
  count: number;
  expected?: string;
  found?: string;
  message: string;
}

export interface AnchorCheck {
  /** verified: every anchor holds; not_configured: no GOVERNANCE_ANCHOR_KEY. */
  status: 'verified' | 'problems' | 'not_configured';
  workflowId: string | null;
  /** Anchors with a valid signature compared with the chain. */
  checked: number;
  newestAnchoredSeq: number | null;
  newestAnchoredAt: string | null;
  problems: AnchorProblem[];
}

/** Compares the chain's stored hashes with the anchors (the chain's own links are verifyAuditChain's). */
export async function checkAnchors(
  db: DbOrTx,
  keyring: AnchorKeyring,
  ledger: string,
  anchors: AuditAnchor[],
): Promise<Omit<AnchorCheck, 'workflowId'>> {
  const problems = new Map<AnchorProblemKind, AnchorProblem>();
  const note = (problem: AnchorProblemKind, seq: number, message: string, expected?: string, found?: string) => {
    const known = problems.get(problem);
    if (known) known.count += 1;
    else problems.set(problem, { problem, seq, count: 1, message, expected, found });
  };
  const valid: AuditAnchor[] = [];
  for (const anchor of [...anchors].sort((a, b) => a.seq - b.seq)) {
    const why = anchorSignatureProblem(keyring, anchor, ledger);
    if (why) note('bad_signature', anchor.seq, `the anchor of seq ${anchor.seq} is not to be trusted: ${why}`);
    else valid.push(anchor);
  }
  const seqs = valid.map((a) => a.seq);
  const [rows, [end]] = await Promise.all([
    seqs.length
      ? db
          .select({ seq: auditEvents.seq, hash: auditEvents.hash })
          .from(auditEvents)
          .where(inArray(auditEvents.seq, seqs))
      : Promise.resolve([]),
    // The newest event, checkpoints aside: a checkpoint taken of a trail cut short (by a poll after
    // the cut) must not turn the anchors past the cut from a truncated tail into dropped rows.
    db
      .select({ lastSeq: auditEvents.seq })
      .from(auditEvents)
      .where(sql`${auditEvents.chainPart} is distinct from ${CHECKPOINT_PART}`)
      .orderBy(desc(auditEvents.seq))
      .limit(1),
  ]);
  const stored = new Map(rows.map((r) => [r.seq, r.hash]));
  const lastSeq = end?.lastSeq ?? 0;
  // A signed checkpoint pins every partition head it recorded: each must still be the row at its place.
  const intact = valid.filter((a) => stored.get(a.seq) === a.hash).map((a) => a.seq);
  const headProblems = await checkpointHeadProblems(db, intact);
  for (const anchor of valid) {
    const hash = stored.get(anchor.seq);
    if (hash === undefined && anchor.seq > lastSeq)
      note(
        'truncated_tail',
        anchor.seq,
        `the chain ends at seq ${lastSeq}, before the anchor of seq ${anchor.seq}`,
        String(anchor.seq),
        String(lastSeq),
      );
    else if (hash === undefined)
      note('dropped_row', anchor.seq, `the anchored event ${anchor.seq} is missing`, anchor.hash, '');
    else if (hash !== anchor.hash)
      note(
        'rewrite',
        anchor.seq,
        `event ${anchor.seq} has another hash than the one anchored at ${anchor.anchoredAt}: history before it was rewritten`,
        anchor.hash,
        hash,
      );
  }
  for (const p of headProblems) note(p.problem, p.seq, p.message, p.expected, p.found);
  const newest = valid[valid.length - 1];
  return {
    status: problems.size ? 'problems' : 'verified',
    checked: valid.length,
    newestAnchoredSeq: newest?.seq ?? null,
    newestAnchoredAt: newest?.anchoredAt ?? null,
    problems: [...problems.values()],
  };
}

/**
 * For each signed checkpoint (by seq) still in place: the partition heads and
 * the legacy head it recorded that are no longer the rows at their places.
 * One statement for every anchor's heads.
 */
async function checkpointHeadProblems(
  db: DbOrTx,
  checkpointSeqs: number[],
): Promise<Array<{ problem: AnchorProblemKind; seq: number; message: string; expected: string; found: string }>> {
  if (!checkpointSeqs.length) return [];
  const result = (await db.execute(sql`
    with cp as (
      select seq, payload from audit_events
       where seq = any(${`{${checkpointSeqs.join(',')}}`}::bigint[]) and chain_part = ${CHECKPOINT_PART}::smallint
    ), heads as (
      select cp.seq as cp_seq, (h.ord - 1)::smallint as part, (h.head->>0)::bigint as part_seq, h.head->>1 as hash
        from cp, jsonb_array_elements(cp.payload->'heads') with ordinality as h(head, ord)
       where (h.head->>0)::bigint > 0
      union all
      select cp.seq, null, (cp.payload->'legacy'->>0)::bigint, cp.payload->'legacy'->>1
        from cp where (cp.payload->'legacy'->>0)::bigint > 0
    )
    select heads.cp_seq::text as cp_seq, heads.part, heads.part_seq::text as part_seq, heads.hash as expected,
           coalesce(e.hash, l.hash) as found,
           case when heads.part is null then (select max(seq) from audit_events where chain_part is null)
                else (select max(x.part_seq) from audit_events x where x.chain_part = heads.part) end::text as chain_end
      from heads
      left join audit_events e on heads.part is not null and e.chain_part = heads.part and e.part_seq = heads.part_seq
      left join audit_events l on heads.part is null and l.seq = heads.part_seq and l.chain_part is null
     where coalesce(e.hash, l.hash) is distinct from heads.hash
     order by heads.cp_seq`)) as unknown as {
    rows: Array<{
      cp_seq: string;
      part: number | null;
      part_seq: string;
      expected: string;
      found: string | null;
      chain_end: string | null;
    }>;
  };
  return result.rows.map((r) => {
    const seq = Number(r.cp_seq);
    const where = r.part === null ? `the legacy segment at seq ${r.part_seq}` : `partition ${r.part} at ${r.part_seq}`;
    if (r.found !== null)
      return {
        problem: 'rewrite' as const,
        seq,
        message: `${where} has another hash than the checkpoint anchored at seq ${seq} recorded: history before it was rewritten`,
        expected: r.expected,
        found: r.found,
      };
    const end = Number(r.chain_end ?? 0);
    return end < Number(r.part_seq)
      ? {
          problem: 'truncated_tail' as const,
          seq,
          message: `${r.part === null ? 'the legacy segment' : `partition ${r.part}`} ends at ${end}, before the head ${r.part_seq} the checkpoint anchored at seq ${seq} recorded`,
          expected: r.part_seq,
          found: String(end),
        }
      : {
          problem: 'dropped_row' as const,
          seq,
          message: `${where}, recorded by the checkpoint anchored at seq ${seq}, is missing`,
          expected: r.expected,
          found: '',
        };
  });
}

/** How long verify and start-up wait for the anchoring workflow's answer. */
const QUERY_TIMEOUT_MS = 10_000;

export async function readAnchorLedger(temporal: Client, ledger: string, runId?: string): Promise<AnchorLedger> {
  const handle = temporal.workflow.getHandle(auditAnchorWorkflowId(ledger), runId);
  return temporal.connection.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () => handle.query(anchorLedgerQuery));
}

/** What a problem in the chain itself is called in `findings`. */
const CHAIN_FINDING = {
  sequence_gap: 'dropped_row',
  prev_hash_mismatch: 'broken_link',
  hash_mismatch: 'edited_row',
} as const;

export type AuditFinding = AnchorProblemKind | (typeof CHAIN_FINDING)[keyof typeof CHAIN_FINDING];

export interface AuditTrailVerification extends ChainVerification {
  anchors: AnchorCheck;
  /** Every kind of problem found, by the chain and by the anchors; empty when ok. */
  findings: AuditFinding[];
}

/**
 * The chain recomputed, then compared with the anchors. `ok` only when both
 * hold: a chain rewritten and recomputed end to end verifies by itself, and
 * only the anchors tell.
 */
export async function verifyAuditTrail(deps: {
  db: DbOrTx;
  temporal: Client;
  anchoring?: Pick<AnchorSettings, 'key' | 'everyMinutes'>;
  now?: Date;
}): Promise<AuditTrailVerification> {
  const chain = await verifyAuditChain(deps.db);
  let anchors: AnchorCheck;
  if (!deps.anchoring) {
    anchors = {
      status: 'not_configured',
      workflowId: null,
      checked: 0,
      newestAnchoredSeq: null,
      newestAnchoredAt: null,
      problems: [],
    };
  } else {
    const keyring = parseAnchorKeys(deps.anchoring.key);
    const ledger = await databaseLedger(deps.db);
    const workflowId = auditAnchorWorkflowId(ledger);
    try {
      const { anchors: found } = await readAnchorLedger(deps.temporal, ledger);
      anchors = { workflowId, ...(await checkAnchors(deps.db, keyring, ledger, found)) };
      const [firstUnanchored] = await deps.db
        .select({ seq: auditEvents.seq, occurredAt: auditEvents.occurredAt })
        .from(auditEvents)
        .where(gt(auditEvents.seq, anchors.newestAnchoredSeq ?? 0))
        .orderBy(asc(auditEvents.seq))
        .limit(1);
      const stale = unanchoredProblem(firstUnanchored, deps.anchoring.everyMinutes, deps.now ?? new Date());
      if (stale) anchors = { ...anchors, status: 'problems', problems: [...anchors.problems, stale] };
    } catch (err) {
      const why =
        err instanceof WorkflowNotFoundError ? 'does not exist' : `did not answer (${(err as Error).message})`;
      anchors = {
        status: 'problems',
        workflowId,
        checked: 0,
        newestAnchoredSeq: null,
        newestAnchoredAt: null,
        problems: [{ problem: 'unavailable', count: 1, message: `the anchoring workflow ${workflowId} ${why}` }],
      };
    }
  }
  const findings = new Set<AuditFinding>();
  if (chain.firstBroken) findings.add(CHAIN_FINDING[chain.firstBroken.problem]);
  for (const p of anchors.problems) findings.add(p.problem);
  return { ...chain, ok: chain.ok && anchors.problems.length === 0, anchors, findings: [...findings] };
}

/**
 * Starts the anchoring workflow of this database unless it runs (one call at
 * worker start-up; idempotent, and safe when several start at once). A run
 * that ended otherwise than by continue-as-new (terminated, failed) is
 * restarted with the anchors it held, read by a query once a worker answers.
 * Never throws: the product runs on, and verify reports missing anchors.
 */
export async function ensureAuditAnchoring(deps: {
  temporal: Client;
  db: DbOrTx;
  taskQueue: string;
  settings: Pick<Settings, 'auditAnchor'>;
  pollSeconds?: number;
  log?: (line: string) => void;
}): Promise<string | undefined> {
  const log = deps.log ?? ((line: string) => console.log(`[audit-anchor] ${line}`));
  if (!deps.settings.auditAnchor) return undefined;
  try {
    parseAnchorKeys(deps.settings.auditAnchor.key);
    const ledger = await databaseLedger(deps.db);
    const workflowId = auditAnchorWorkflowId(ledger);
    const input: AuditAnchorInput = { ledger, ...(deps.pollSeconds ? { pollSeconds: deps.pollSeconds } : {}) };
    try {
      const described = await deps.temporal.workflow.getHandle(workflowId).describe();
      if (described.status.name === 'RUNNING') return workflowId;
      const carried = await readAnchorLedger(deps.temporal, ledger, described.runId).catch(() => undefined);
      log(
        `the anchoring workflow ${workflowId} ended (${described.status.name}); restarting it with ${carried ? `its ${carried.anchors.length} anchors` : 'no anchors (its last run did not answer)'}`,
      );
      if (carried) Object.assign(input, { anchors: carried.anchors, refusals: carried.refusals });
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
    await deps.temporal.workflow.start<typeof auditAnchorWorkflow>('auditAnchorWorkflow', {
      workflowId,
      taskQueue: deps.taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    return workflowId;
  } catch (err) {
    log(`could not start anchoring the audit chain: ${(err as Error).message}`);
    return undefined;
  }
}
