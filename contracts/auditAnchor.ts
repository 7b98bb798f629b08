/**
 * Anchoring the audit chain outside the app database (issue 14 §4). One
 * long-lived workflow per app database keeps, in its Temporal history, the
 * signed heads (seq, hash) of the audit chain; `GET /api/audit/verify`
 * checks the chain against them. Temporal keeps its history in another
 * database under another role, and the HMAC key lives only in the worker's
 * and the API's environment, so whoever rewrites the app database can
 * neither change the anchors nor forge new ones.
 *
 * The workflow id names the database the app is configured with (its
 * `current_database()`): a value the configuration decides, not a row a
 * rewritten database could change to point verify at an empty anchor
 * history. Test databases have unique names, so parallel test files on one
 * dev server never share an anchoring workflow.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';

export const auditAnchorWorkflowId = (ledger: string) => `audit-anchor:${ledger}`;

/**
 * The chain an anchor covers. Today one, `audit_events`; a partitioned log
 * (issue 15) anchors one head per partition under the partition's name.
 */
export const MAIN_CHAIN = 'audit_events';

/** A signed chain head. The MAC covers every other field (db/auditAnchors.ts). */
export interface AuditAnchor {
  /** The app database the chain lives in (the workflow id's key). */
  ledger: string;
  chain: string;
  seq: number;
  hash: string;
  anchoredAt: string;
  keyId: string;
  mac: string;
}

/** Why the anchoring activity would not sign the head it found. */
export interface AnchorRefusal {
  at: string;
  chain: string;
  /** The chain no longer runs through the previous anchor, or does not verify up to the head. */
  problem: 'rewrite' | 'truncated_tail' | 'broken_chain' | 'wrong_database';
  seq: number;
  message: string;
}

export interface AnchorOutcome {
  anchor?: AuditAnchor;
  refusal?: AnchorRefusal;
  /** The head the activity found (0: an empty chain). */
  headSeq: number;
}

export interface AuditAnchorInput {
  ledger: string;
  /** How often the workflow looks at the chain head; the worker's settings decide when to sign. */
  pollSeconds?: number;
  /** Carried over continue-as-new: the newest anchors, oldest first. */
  anchors?: AuditAnchor[];
  refusals?: AnchorRefusal[];
}

export interface AnchorLedger {
  ledger: string;
  anchors: AuditAnchor[];
  refusals: AnchorRefusal[];
}

/** Policy default: the workflow looks at the head twice a minute. */
export const DEFAULT_ANCHOR_POLL_SECONDS = 30;
/**
 * Anchors carried over continue-as-new. The newest anchor alone pins the
 * whole prefix (its hash commits to every earlier event); older ones only
 * narrow down where a rewrite starts.
 */
export const ANCHORS_KEPT = 200;
export const REFUSALS_KEPT = 20;

export const anchorLedgerQuery = defineQuery<AnchorLedger>('anchorLedger');
/** Anchors the head now, whatever the cadence (before a backup, in tests). */
export const anchorNowUpdate = defineUpdate<AnchorOutcome>('anchorNow');
