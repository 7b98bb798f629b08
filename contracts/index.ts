/**
 * Every process contract, for what the API derives across processes: the
 * refusal code → status map, the OpenAPI document, the test rows.
 */
import { complaintContract } from './complaint';
import { refusalKinds, type ProcessContract } from './core';

export const CONTRACTS: readonly ProcessContract[] = [complaintContract];

/** Each refusal code any step may answer with, and how the API answers it. */
export const REFUSAL_KINDS = refusalKinds(CONTRACTS);
