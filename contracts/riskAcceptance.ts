/**
 * A risk acceptance (风险接受): a decision of its own, never an edit of the
 * register. The risk's owner or a manager asks, giving a reason and an
 * expiry; risk control or compliance approves (never the requester or the
 * risk's owner; two functions when the residual level is high). Approved, it
 * is in force with the residual rating of that moment until it expires or the
 * risk's residual rating changes: then it turns stale and is due for review.
 *
 * One case per request: the business key is <risk key>:<n>, the n-th
 * acceptance asked for that risk; the case id risk-acceptance:<risk key>:<n>.
 * One may be requested or in force per risk at a time.
 */
import { defineUpdate } from '@temporalio/workflow';
import { defineProcess, SHARED_STAGES } from './core';

export const RISK_ACCEPTANCE_PROCESS = 'risk_acceptance';

export const RISK_ACCEPTANCE_STAGE = {
  awaitingApproval: SHARED_STAGES.awaitingApproval,
  /** Approved and in force until it expires or the risk's residual rating changes. */
  inForce: 'in_force',
  closed: SHARED_STAGES.closed,
} as const;
export const RISK_ACCEPTANCE_STAGES = [
  RISK_ACCEPTANCE_STAGE.awaitingApproval,
  RISK_ACCEPTANCE_STAGE.inForce,
  RISK_ACCEPTANCE_STAGE.closed,
] as const;

const KEY = 'RISK-[A-Z0-9][A-Z0-9_-]{0,40}:[1-9]\\d{0,5}';
export const riskAcceptanceKey = (riskKey: string, n: number) => `${riskKey}:${n}`;

/** Refusals of the acceptance route (api/routes/risks.ts), besides 400/403/404. */
export const RISK_ACCEPTANCE_REFUSALS = {
  /** Another acceptance of the risk is requested or in force. */
  ACCEPTANCE_OPEN: 'conflict',
  /** The requester is neither the risk's owner nor a manager. */
  NOT_OWNER_OR_MANAGER: 'forbidden',
} as const;

/** What the register tells an acceptance in force when the risk's residual rating changed. */
export interface ResidualChange {
  version: number;
  from: { probability: number; impact: number };
  to: { probability: number; impact: number };
  actorId: string;
  reason: string;
}
/**
 * An Update, not a signal: PATCH /api/risks/{key} answers once the
 * acceptance is marked stale, so the caller's next read shows it.
 */
export const residualChangedUpdate = defineUpdate<{ stale: boolean }, [ResidualChange]>('residualChanged');

export const riskAcceptanceContract = defineProcess({
  process: RISK_ACCEPTANCE_PROCESS,
  stages: RISK_ACCEPTANCE_STAGES,
  keyPattern: new RegExp(`^${KEY}$`),
  caseId: (key: string) => `risk-acceptance:${key}`,
  // The one human step is the approval, a shared task step (contracts/tasks.ts).
  steps: {},
});
