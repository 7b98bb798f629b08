import { describe, expect, it } from 'vitest';
import { rectificationReminderAt, validateTimings } from '../../domain/deadlines';
import { formatDuration, parseDuration } from '../../domain/durations';
import { checkSubmission, checkVerification } from '../../domain/rectification';
import { approvalsRequiredFor, riskLevelFromMatrix } from '../../domain/risk';
import { ESCALATION_ROLE, isReadOnly } from '../../domain/roles';

describe('risk matrix', () => {
  it('grades probability × impact: ≤4 low, 5–12 medium, ≥15 high', () => {
    expect(riskLevelFromMatrix(1, 4)).toBe('low');
    expect(riskLevelFromMatrix(2, 2)).toBe('low');
    expect(riskLevelFromMatrix(1, 5)).toBe('medium');
    expect(riskLevelFromMatrix(3, 4)).toBe('medium');
    expect(riskLevelFromMatrix(3, 5)).toBe('high');
    expect(riskLevelFromMatrix(5, 5)).toBe('high');
  });
  it('rejects scores off the 1–5 scale', () => {
    expect(() => riskLevelFromMatrix(0, 3)).toThrow(/probability/);
    expect(() => riskLevelFromMatrix(3, 6)).toThrow(/impact/);
    expect(() => riskLevelFromMatrix(2.5, 3)).toThrow(RangeError);
  });
  it('asks two approvers only for high risk', () => {
    expect([approvalsRequiredFor('low'), approvalsRequiredFor('medium'), approvalsRequiredFor('high')]).toEqual([
      1, 1, 2,
    ]);
  });
});

describe('durations and deadlines', () => {
  it('parses the units people write and refuses the rest', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('48h')).toBe(172_800_000);
    expect(parseDuration('1.5d')).toBe(129_600_000);
    expect(parseDuration('2w')).toBe(1_209_600_000);
    for (const bad of ['5 minutes', '10', '-1h', '0s', 'h']) expect(() => parseDuration(bad)).toThrow(RangeError);
    expect(formatDuration(172_800_000)).toBe('2d');
    expect(formatDuration(90_000)).toBe('90s');
  });
  it('orders approval timings', () => {
    expect(validateTimings({ remindAfter: '1h', escalateAfter: '2h', expireAfter: '2h' })).toBeNull();
    expect(validateTimings({ remindAfter: '3h', escalateAfter: '2h', expireAfter: '4h' })).toMatch(/remindAfter/);
  });
  it('reminds before the due date, or half-way when the item is due sooner than the lead time', () => {
    const day = 86_400_000;
    expect(rectificationReminderAt(0, 30 * day, '3d')).toBe(27 * day);
    expect(rectificationReminderAt(0, 2 * day, '3d')).toBe(day);
  });
});

describe('rectification rules', () => {
  const item = { status: 'open' as const, ownerId: 'owner', verifierRoles: ['manager' as const, 'risk' as const] };
  it('lets only the owner submit, and only with evidence', () => {
    expect(checkSubmission(item, { userId: 'owner', roles: ['action_owner'] }, 1)).toBeNull();
    expect(checkSubmission(item, { userId: 'x', roles: ['action_owner'] }, 1)?.code).toBe('NOT_THE_OWNER');
    expect(checkSubmission(item, { userId: 'owner', roles: ['action_owner'] }, 0)?.code).toBe('EVIDENCE_REQUIRED');
    expect(checkSubmission({ ...item, status: 'submitted' }, { userId: 'owner', roles: [] }, 1)?.code).toBe(
      'NOT_AWAITING_SUBMISSION',
    );
    expect(checkSubmission({ ...item, status: 'returned' }, { userId: 'owner', roles: [] }, 1)).toBeNull();
  });
  it('lets someone other than the owner verify, with a reason to return', () => {
    const submitted = { ...item, status: 'submitted' as const };
    expect(checkVerification(submitted, { userId: 'm', roles: ['manager'] }, 'accept', undefined)).toBeNull();
    expect(checkVerification(submitted, { userId: 'owner', roles: ['manager'] }, 'accept', undefined)?.code).toBe(
      'SEGREGATION_OF_DUTIES',
    );
    expect(checkVerification(submitted, { userId: 'x', roles: ['action_owner'] }, 'accept', undefined)?.code).toBe(
      'ROLE_NOT_PERMITTED',
    );
    expect(checkVerification(submitted, { userId: 'm', roles: ['risk'] }, 'return', ' ')?.code).toBe('REASON_REQUIRED');
    expect(checkVerification(item, { userId: 'm', roles: ['risk'] }, 'accept', undefined)?.code).toBe(
      'NOT_AWAITING_VERIFICATION',
    );
  });
});

describe('roles', () => {
  it('auditors alone are read-only; escalation goes one role up', () => {
    expect(isReadOnly({ roles: ['auditor'] })).toBe(true);
    expect(isReadOnly({ roles: ['auditor', 'manager'] })).toBe(false);
    expect(ESCALATION_ROLE.risk).toBe('manager');
    expect(ESCALATION_ROLE.compliance).toBe('manager');
    expect(isReadOnly({ roles: ['internal_audit'] })).toBe(false);
    expect(ESCALATION_ROLE.manager).toBe('admin');
  });
});
