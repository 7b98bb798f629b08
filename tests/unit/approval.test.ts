import { describe, expect, it } from 'vitest';
import { checkDecision, conditionsOf, tally, votingFunction, type ApprovalTaskState } from '../../domain/approval';

const task = (over: Partial<ApprovalTaskState> = {}): ApprovalTaskState => ({
  taskId: 't',
  status: 'open',
  candidateRoles: ['risk', 'compliance'],
  excludedUserIds: ['initiator', 'owner'],
  approvalsRequired: 1,
  votes: [],
  ...over,
});
const approver = { userId: 'a1', roles: ['risk' as const] };

describe('checkDecision', () => {
  it('accepts a valid approval by a candidate who neither started nor owns the case', () => {
    expect(checkDecision(task(), approver, { decision: 'approve' })).toBeNull();
  });

  it('refuses in rule order: not awaiting, role, segregation of duties, four-eyes, content', () => {
    expect(checkDecision(undefined, approver, { decision: 'approve' })?.code).toBe('NOT_AWAITING_DECISION');
    expect(checkDecision(task({ status: 'approved' }), approver, { decision: 'approve' })?.code).toBe(
      'NOT_AWAITING_DECISION',
    );
    expect(checkDecision(task(), { userId: 'x', roles: ['manager'] }, { decision: 'approve' })?.code).toBe(
      'ROLE_NOT_PERMITTED',
    );
    expect(checkDecision(task(), { userId: 'initiator', roles: ['risk'] }, { decision: 'approve' })?.code).toBe(
      'SEGREGATION_OF_DUTIES',
    );
    expect(checkDecision(task(), { userId: 'owner', roles: ['risk', 'manager'] }, { decision: 'approve' })?.code).toBe(
      'SEGREGATION_OF_DUTIES',
    );
    const voted = task({ approvalsRequired: 2, votes: [{ userId: 'a1', decision: 'approve', at: 'x' }] });
    expect(checkDecision(voted, approver, { decision: 'approve' })?.code).toBe('FOUR_EYES');
    expect(checkDecision(voted, { userId: 'a2', roles: ['risk'] }, { decision: 'approve' })).toBeNull();
  });

  it('takes four-eyes approvers from two different functions', () => {
    const riskVoted = task({
      approvalsRequired: 2,
      votes: [{ userId: 'a1', function: 'risk', decision: 'approve', at: 'x' }],
    });
    const sameFunction = checkDecision(riskVoted, { userId: 'a2', roles: ['risk'] }, { decision: 'approve' });
    expect(sameFunction?.code).toBe('FOUR_EYES');
    expect(sameFunction?.message).toMatch(/two different functions; risk has already decided/);
    expect(checkDecision(riskVoted, { userId: 'a3', roles: ['compliance'] }, { decision: 'approve' })).toBeNull();
    // A holder of both functions votes for the one not yet used.
    expect(
      checkDecision(riskVoted, { userId: 'a4', roles: ['risk', 'compliance'] }, { decision: 'approve' }),
    ).toBeNull();
    expect(votingFunction(riskVoted, { roles: ['risk', 'compliance'] }, 'approve')).toBe('compliance');
    // A veto needs no second function: one rejection ends the approval.
    expect(
      checkDecision(riskVoted, { userId: 'a2', roles: ['risk'] }, { decision: 'reject', comment: 'no' }),
    ).toBeNull();
    // One approver needed: any function.
    expect(votingFunction(task(), { roles: ['compliance'] }, 'approve')).toBe('compliance');
  });

  it('needs a reason to reject and a condition to approve with conditions', () => {
    expect(checkDecision(task(), approver, { decision: 'reject' })?.code).toBe('INVALID_DECISION');
    expect(checkDecision(task(), approver, { decision: 'reject', comment: '  ' })?.code).toBe('INVALID_DECISION');
    expect(checkDecision(task(), approver, { decision: 'reject', comment: 'no licence' })).toBeNull();
    expect(checkDecision(task(), approver, { decision: 'approve_with_conditions', conditions: [' '] })?.code).toBe(
      'INVALID_DECISION',
    );
    expect(
      checkDecision(task(), approver, { decision: 'approve_with_conditions', conditions: ['guarantee'] }),
    ).toBeNull();
    expect(checkDecision(task(), approver, { decision: 'maybe' as never })?.code).toBe('INVALID_DECISION');
  });
});

describe('tally', () => {
  it('stays open until enough distinct approvals; any rejection ends it', () => {
    const vote = (
      userId: string,
      decision: 'approve' | 'reject' | 'approve_with_conditions',
      conditions?: string[],
    ) => ({
      userId,
      decision,
      conditions,
      at: 'x',
    });
    expect(tally(task({ approvalsRequired: 2, votes: [vote('a', 'approve')] }))).toBe('open');
    expect(tally(task({ approvalsRequired: 2, votes: [vote('a', 'approve'), vote('b', 'approve')] }))).toBe('approved');
    expect(tally(task({ approvalsRequired: 2, votes: [vote('a', 'reject')] }))).toBe('rejected');
    const conditional = task({
      approvalsRequired: 2,
      votes: [
        vote('a', 'approve_with_conditions', ['guarantee ', '']),
        vote('b', 'approve_with_conditions', ['limit scope']),
      ],
    });
    expect(tally(conditional)).toBe('approved_with_conditions');
    expect(conditionsOf(conditional)).toEqual(['guarantee', 'limit scope']);
    const same = task({
      approvalsRequired: 2,
      votes: [
        vote('a', 'approve_with_conditions', ['guarantee']),
        vote('b', 'approve_with_conditions', [' guarantee']),
      ],
    });
    expect(conditionsOf(same)).toEqual(['guarantee']);
  });
});
