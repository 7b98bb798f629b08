/**
 * A supplier's status changed outside a review (分级管理, e-commerce manual
 * §4.1): restrict or lift a restriction, suspend or lift a suspension, end
 * cooperation, blacklist. Never a direct edit: whoever asks opens this case,
 * and the change takes effect only once approvers of another function agree
 * (the approval task, decided at POST /api/tasks/{taskId}/decision). Ending
 * cooperation and blacklisting need two approvers of two functions.
 *
 * One case per request: the business key is <credit code>:<n>, the n-th
 * status change asked for that supplier; the case id
 * supplier-status-change:<credit code>:<n>. One may be open per supplier at
 * a time.
 */
import { z } from 'zod';
import { SUPPLIER_STATUS_CHANGES } from '../domain/supplierReview';
import { defineProcess, SHARED_STAGES } from './core';
import { text } from './schemas';

export const SUPPLIER_STATUS_CHANGE_PROCESS = 'supplier_status_change';

export const STATUS_CHANGE_STAGES = [SHARED_STAGES.awaitingApproval, SHARED_STAGES.closed] as const;

const KEY = '[0-9A-Z]{18}:[1-9]\\d{0,5}';
export const supplierStatusChangeKey = (supplierId: string, n: number) => `${supplierId}:${n}`;
export const SUPPLIER_STATUS_CHANGE_ID_PATTERN = new RegExp(`^supplier-status-change:${KEY}$`);

/** What the requester sends: the change and why. */
export const statusChangeRequest = z
  .object({
    change: z.enum(SUPPLIER_STATUS_CHANGES).meta({
      description:
        'restrict (active → restricted), lift_restriction (restricted → active), suspend, lift_suspension, terminate (end cooperation), blacklist',
    }),
    reason: text(2000).meta({ description: 'why: the approvers and the audit trail read it' }),
  })
  .strict();
export type StatusChangeRequest = z.infer<typeof statusChangeRequest>;

/**
 * Refusals of the start route, besides the shared ones (400, 404): the change
 * does not apply to the supplier's status, or another change is still open.
 */
export const STATUS_CHANGE_REFUSALS = {
  STATUS_CHANGE_NOT_ALLOWED: 'conflict',
  STATUS_CHANGE_OPEN: 'conflict',
} as const;

export const supplierStatusChangeContract = defineProcess({
  process: SUPPLIER_STATUS_CHANGE_PROCESS,
  stages: STATUS_CHANGE_STAGES,
  keyPattern: new RegExp(`^${KEY}$`),
  caseId: (key: string) => `supplier-status-change:${key}`,
  // The one human step is the approval, a shared task step (contracts/tasks.ts).
  steps: {},
});
