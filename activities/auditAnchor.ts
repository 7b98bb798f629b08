/**
 * The anchoring workflow's one activity (workflows/auditAnchor.ts): reads the
 * audit chain's head and, when an anchor is due, verifies the events since
 * the previous anchor and signs the head with GOVERNANCE_ANCHOR_KEY. The key
 * is read from the worker's environment here and never leaves it: the
 * workflow's history holds only the signed anchor.
 *
 * It refuses to sign a head the previous anchor does not lead to (a rewrite
 * or truncation since then): anchoring a forged chain would hide the forgery
 * from verify. The refusal lands in the workflow's history instead.
 */
import { Context } from '@temporalio/activity';
import { eq } from 'drizzle-orm';
import type { AnchorOutcome, AnchorRefusal, AuditAnchor } from '../contracts/auditAnchor';
import { auditChainHead, verifyAuditChain } from '../db/audit';
import { databaseLedger, parseAnchorKeys, signAnchor, type AnchorSettings } from '../db/auditAnchors';
import type { Database } from '../db/client';
import { auditEvents } from '../db/schema';
import { loadSettings } from '../platform/config';

export interface AuditAnchorDeps {
  db: Database;
  clock?: () => Date;
  /** Default: the worker's environment (GOVERNANCE_ANCHOR_*), read at the first call. */
  anchoring?: AnchorSettings;
}

export interface AnchorAuditChainInput {
  ledger: string;
  chain: string;
  previous?: AuditAnchor;
  /** Sign now if anything is unanchored, whatever the cadence. */
  force: boolean;
}

export function createAuditAnchorActivities(deps: AuditAnchorDeps) {
  const { db, clock = () => new Date() } = deps;
  let anchoring = deps.anchoring;
  const settings = (): AnchorSettings => {
    anchoring ??= loadSettings().auditAnchor;
    // Retried until the worker is configured: the anchors wait, nothing is lost.
    if (!anchoring) throw new Error('GOVERNANCE_ANCHOR_KEY is not set on this worker');
    return anchoring;
  };

  return {
    async anchorAuditChain(input: AnchorAuditChainInput): Promise<AnchorOutcome> {
      const { key, everyEvents, everyMinutes } = settings();
      const keyring = parseAnchorKeys(key);
      const now = clock();
      const refuse = (problem: AnchorRefusal['problem'], seq: number, message: string, headSeq: number) => ({
        headSeq,
        refusal: { at: now.toISOString(), chain: input.chain, problem, seq, message },
      });
      const ledger = await databaseLedger(db);
      if (ledger !== input.ledger)
        return refuse('wrong_database', 0, `this worker's database is "${ledger}", not "${input.ledger}"`, 0);

      const head = await auditChainHead(db);
      const previous = input.previous;
      if (previous && head.seq < previous.seq)
        return refuse(
          'truncated_tail',
          previous.seq,
          `the chain ends at ${head.seq}, before the anchored ${previous.seq}`,
          head.seq,
        );
      // Every round, not only when signing: a rewrite under the newest anchor shows in the history within a poll.
      if (previous) {
        const [row] = await db
          .select({ hash: auditEvents.hash })
          .from(auditEvents)
          .where(eq(auditEvents.seq, previous.seq));
        if (row?.hash !== previous.hash)
          return refuse(
            'rewrite',
            previous.seq,
            `event ${previous.seq} ${row ? 'has another hash than anchored' : 'is missing'}`,
            head.seq,
          );
      }
      const pending = head.seq - (previous?.seq ?? 0);
      const due =
        pending > 0 &&
        (input.force ||
          !previous ||
          pending >= everyEvents ||
          now.getTime() - Date.parse(previous.anchoredAt) >= everyMinutes * 60_000);
      if (!due) return { headSeq: head.seq };

      const verified = await verifyAuditChain(db, {
        from: previous,
        toSeq: head.seq,
        onPage: () => Context.current().heartbeat(),
      });
      if (!verified.ok || verified.lastSeq !== head.seq)
        return refuse(
          'broken_chain',
          verified.firstBroken?.seq ?? verified.lastSeq,
          `the chain does not verify after seq ${verified.lastSeq}: ${verified.firstBroken?.problem ?? 'it ends early'}`,
          head.seq,
        );
      const anchor = signAnchor(keyring, {
        ledger,
        chain: input.chain,
        seq: verified.lastSeq,
        hash: verified.lastHash,
        anchoredAt: now.toISOString(),
      });
      return { headSeq: head.seq, anchor };
    },
  };
}

export type AuditAnchorActivities = ReturnType<typeof createAuditAnchorActivities>;
