/**
 * The audit chain's anchors (contracts/auditAnchor.ts): one workflow per app
 * database that looks at the chain head every `pollSeconds` and keeps the
 * signed heads the activity returns. Since the chain is partitioned (issue
 * 15, db/audit.ts), the head is the newest checkpoint: each look takes one
 * if any partition moved (`auditChainHead`), so checkpoints follow this
 * cadence, and a signed checkpoint pins every partition head under its
 * Merkle root. Its history, in Temporal's database, is
 * the record outside the app database; its query is what verify reads.
 * Long-lived: it continues as new every few hundred rounds, carrying the
 * newest anchors.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { AuditAnchorActivities } from '../activities/auditAnchor';
import {
  ANCHORS_KEPT,
  anchorLedgerQuery,
  anchorNowUpdate,
  DEFAULT_ANCHOR_POLL_SECONDS,
  MAIN_CHAIN,
  REFUSALS_KEPT,
  type AnchorOutcome,
  type AuditAnchorInput,
} from '../contracts/auditAnchor';

/**
 * The first anchor verifies the chain from the genesis, a page at a time with
 * heartbeats: a long chain takes minutes, and a lost worker is noticed at the
 * heartbeat timeout. Retried until the database is back.
 */
const { anchorAuditChain } = proxyActivities<AuditAnchorActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', backoffCoefficient: 2 },
});

/** About four hours at the default poll: a short history to replay when a worker picks it up. */
const ROUNDS_PER_RUN = 500;

export async function auditAnchorWorkflow(input: AuditAnchorInput): Promise<void> {
  const anchors = [...(input.anchors ?? [])];
  const refusals = [...(input.refusals ?? [])];
  let anchoring = false;

  // One anchoring at a time: the timer's and an anchorNow's must not both build on the same previous anchor.
  const anchorHead = async (force: boolean): Promise<AnchorOutcome> => {
    await condition(() => !anchoring);
    anchoring = true;
    try {
      const outcome = await anchorAuditChain({
        ledger: input.ledger,
        chain: MAIN_CHAIN,
        previous: anchors[anchors.length - 1],
        force,
      });
      if (outcome.anchor) {
        anchors.push(outcome.anchor);
        anchors.splice(0, Math.max(0, anchors.length - ANCHORS_KEPT));
      }
      const last = refusals[refusals.length - 1];
      const refusal = outcome.refusal;
      if (refusal && (last?.problem !== refusal.problem || last.seq !== refusal.seq)) {
        refusals.push(refusal);
        refusals.splice(0, Math.max(0, refusals.length - REFUSALS_KEPT));
      }
      return outcome;
    } finally {
      anchoring = false;
    }
  };

  setHandler(anchorLedgerQuery, () => ({ ledger: input.ledger, anchors, refusals }));
  setHandler(anchorNowUpdate, () => anchorHead(true));

  const pollMs = (input.pollSeconds ?? DEFAULT_ANCHOR_POLL_SECONDS) * 1000;
  for (let round = 0; round < ROUNDS_PER_RUN && !workflowInfo().continueAsNewSuggested; round++) {
    await anchorHead(false);
    await sleep(pollMs);
  }
  await condition(() => !anchoring && allHandlersFinished());
  await continueAsNew<typeof auditAnchorWorkflow>({ ...input, anchors, refusals });
}
