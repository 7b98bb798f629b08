/**
 * Rectification items (整改项) and the closed loop (闭环管理): an item is closed
 * only when its owner has submitted completion with evidence and someone other
 * than the owner has verified it.
 */
import type { Actor, Role } from './roles';
import { hasAnyRole, VERIFIER_ROLES } from './roles';

export type RectificationStatus = 'open' | 'submitted' | 'returned' | 'verified';

export interface RectificationState {
  status: RectificationStatus;
  ownerId: string;
  verifierRoles: Role[];
  /** Who else may not verify it, and why: whoever asked for the item (segregation of duties). */
  barredFor?: Record<string, string[]>;
}

export type RectificationRefusalCode =
  | 'NOT_AWAITING_SUBMISSION'
  | 'NOT_AWAITING_VERIFICATION'
  | 'NOT_THE_OWNER'
  | 'ROLE_NOT_PERMITTED'
  | 'SEGREGATION_OF_DUTIES'
  | 'EVIDENCE_REQUIRED'
  | 'REASON_REQUIRED';

export interface RectificationRefusal {
  code: RectificationRefusalCode;
  message: string;
  /** What blocks, for the caller: who is barred and why. */
  details?: Record<string, unknown>;
}

/** A manager of the line, or the second and third lines: never the item's owner (checked per person). */
export const DEFAULT_VERIFIER_ROLES: Role[] = ['manager', ...VERIFIER_ROLES];

export function checkSubmission(
  item: RectificationState,
  actor: Actor,
  evidenceCount: number,
): RectificationRefusal | null {
  if (item.status !== 'open' && item.status !== 'returned') {
    return { code: 'NOT_AWAITING_SUBMISSION', message: `this item is ${item.status}, not awaiting completion` };
  }
  if (actor.userId !== item.ownerId) {
    return { code: 'NOT_THE_OWNER', message: 'only the item owner may submit its completion' };
  }
  if (evidenceCount < 1) {
    return { code: 'EVIDENCE_REQUIRED', message: 'completion must attach at least one piece of evidence' };
  }
  return null;
}

export type Verdict = 'accept' | 'return';

export function checkVerification(
  item: RectificationState,
  actor: Actor,
  verdict: Verdict,
  reason: string | undefined,
): RectificationRefusal | null {
  if (item.status !== 'submitted') {
    return { code: 'NOT_AWAITING_VERIFICATION', message: `this item is ${item.status}, not awaiting verification` };
  }
  if (actor.userId === item.ownerId) {
    return {
      code: 'SEGREGATION_OF_DUTIES',
      message: 'the item owner may not verify their own work',
      details: { userId: actor.userId, reasons: ['own the item'] },
    };
  }
  const reasons = item.barredFor?.[actor.userId];
  if (reasons?.length) {
    return {
      code: 'SEGREGATION_OF_DUTIES',
      message: `${actor.userId} may not verify this item (segregation of duties): they ${reasons.join(', ')}`,
      details: { userId: actor.userId, reasons },
    };
  }
  if (!hasAnyRole(actor, item.verifierRoles)) {
    return { code: 'ROLE_NOT_PERMITTED', message: `verifying needs the role ${item.verifierRoles.join(' or ')}` };
  }
  if (verdict === 'return' && !reason?.trim()) {
    return { code: 'REASON_REQUIRED', message: 'returning an item must give the reason' };
  }
  return null;
}
