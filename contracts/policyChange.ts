/**
 * A change to the policy (domain/policy.ts): compliance requests it, two
 * approvers of two other functions decide it (four-eyes, finance §5.2), and
 * only then is a new version published. It has no step of its own: the
 * decision is the shared approval task (contracts/tasks.ts).
 */
import { defineProcess, SHARED_STAGES } from './core';

export const POLICY_CHANGE_STAGES = [SHARED_STAGES.awaitingApproval, SHARED_STAGES.closed] as const;

export const policyChangeContract = defineProcess({
  process: 'policy_change',
  stages: POLICY_CHANGE_STAGES,
  keyPattern: /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/,
  caseId: (key: string) => `policy-change:${key}`,
  steps: {},
});
