import { describe, expect, it } from 'vitest';
import {
  COMPLAINT_CHANNELS,
  COMPLAINT_LABELS,
  COMPLAINT_SEVERITIES,
  COMPLAINT_SLA,
  COMPLAINT_STAGES,
  COMPLAINT_TYPES,
  REPEAT_COMPLAINT_WINDOW_DAYS,
  ROOT_CAUSE_REVIEWER_ROLES,
  ROOT_CAUSE_STATUSES,
  feedbackProblem,
  isRepeatedComplaint,
  repeatedComplaintIds,
  rootCauseGate,
  rootCausePreparers,
  rootCauseRequiredBecause,
  rootCauseReviewRefusal,
  shouldRaiseToIncident,
  slaBreaches,
  type ComplaintFeedback,
  type PriorComplaint,
  type RecordedRootCause,
} from '../../domain/complaints';
import { parseDuration } from '../../domain/durations';
import { DEFAULT_POLICY, policySource } from '../../domain/policy';
import { VERIFIER_ROLES } from '../../domain/roles';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

describe('labels and settings', () => {
  it('give English and Chinese for every value', () => {
    const groups: [Record<string, { en: string; zh: string }>, readonly string[]][] = [
      [COMPLAINT_LABELS.stage, COMPLAINT_STAGES],
      [COMPLAINT_LABELS.channel, COMPLAINT_CHANNELS],
      [COMPLAINT_LABELS.severity, COMPLAINT_SEVERITIES],
      [COMPLAINT_LABELS.type, COMPLAINT_TYPES],
      [COMPLAINT_LABELS.rootCauseStatus, ROOT_CAUSE_STATUSES],
    ];
    for (const [labels, values] of groups) {
      expect(Object.keys(labels).sort()).toEqual([...values].sort());
      for (const v of values) {
        expect(labels[v]!.en.trim()).not.toBe('');
        expect(labels[v]!.zh).toMatch(/[\u4e00-\u9fff]/);
      }
    }
  });

  it('follows accept → investigate → handle → feed back, and the handbook SLAs', () => {
    expect([...COMPLAINT_STAGES]).toEqual(['accepted', 'investigating', 'handling', 'feedback', 'closed']);
    expect(parseDuration(COMPLAINT_SLA.initialInvestigationWithin)).toBe(24 * HOUR_MS);
    expect(parseDuration(COMPLAINT_SLA.resultWithin)).toBe(48 * HOUR_MS);
  });

  it('takes the policy defaults from the handbook figures, and names their source', () => {
    expect(DEFAULT_POLICY.complaint).toEqual({ ...COMPLAINT_SLA, repeatWindowDays: REPEAT_COMPLAINT_WINDOW_DAYS });
    expect(policySource('complaint.initialInvestigationWithin')).toMatch(/§4\.4/);
    expect(policySource('complaint.resultWithin')).toMatch(/§4\.4/);
    expect(policySource('complaint.repeatWindowDays')).toMatch(/not in the handbooks/);
  });

  it('classifies by a fixed list of types that ends with other', () => {
    expect(COMPLAINT_TYPES).toContain('product_quality');
    expect(COMPLAINT_TYPES).toContain('transaction_dispute');
    expect(COMPLAINT_TYPES).toContain('privacy_data');
    expect(COMPLAINT_TYPES[COMPLAINT_TYPES.length - 1]).toBe('other');
    expect(new Set(COMPLAINT_TYPES).size).toBe(COMPLAINT_TYPES.length);
  });
});

describe('feedback', () => {
  const good: ComplaintFeedback = {
    cause: 'The courier lost the parcel at the regional hub.',
    measures: 'Refunded in full; the hub now scans parcels on arrival.',
    followUpPlan: 'Review lost-parcel rates with the courier monthly for a quarter.',
  };

  it('accepts feedback that states cause, measures and follow-up plan', () => {
    expect(feedbackProblem(good)).toBeNull();
    expect(feedbackProblem({ cause: '原因', measures: '措施', followUpPlan: '后续计划' })).toBeNull();
  });

  it('names each missing field', () => {
    for (const field of ['cause', 'measures', 'followUpPlan'] as const) {
      const { [field]: _omitted, ...rest } = good;
      expect(feedbackProblem(rest)).toBe(`the feedback's ${field} is missing`);
    }
  });

  it('refuses blank or non-text fields', () => {
    expect(feedbackProblem({ ...good, measures: '   \n' })).toBe("the feedback's measures must not be blank");
    expect(feedbackProblem({ ...good, cause: '' })).toBe("the feedback's cause must not be blank");
    expect(feedbackProblem({ ...good, followUpPlan: 3 })).toBe("the feedback's followUpPlan must be text, got 3");
    expect(feedbackProblem({ ...good, cause: null })).toMatch(/cause must be text, got null/);
  });

  it('allows 5000 characters in a field and refuses 5001, counting a Chinese character or an emoji as one', () => {
    expect(feedbackProblem({ ...good, cause: 'a'.repeat(5000) })).toBeNull();
    expect(feedbackProblem({ ...good, cause: 'a'.repeat(5001) })).toBe(
      "the feedback's cause is 5001 characters; at most 5000 are allowed",
    );
    expect(feedbackProblem({ ...good, measures: '改'.repeat(5000) })).toBeNull();
    expect(feedbackProblem({ ...good, followUpPlan: '📦'.repeat(5000) })).toBeNull();
    expect(feedbackProblem({ ...good, followUpPlan: '📦'.repeat(5001) })).toMatch(/followUpPlan is 5001 characters/);
  });

  it('refuses something that is not an object', () => {
    expect(feedbackProblem(null)).toMatch(/must be an object/);
    expect(feedbackProblem('fixed')).toMatch(/must be an object/);
    expect(feedbackProblem([good])).toMatch(/must be an object/);
  });
});

describe('repeated complaints', () => {
  const acceptedAt = '2024-05-31T09:00:00+08:00';
  const current = { customerRef: 'C-1001', subject: 'Late delivery', type: 'logistics', acceptedAt };
  const atMs = Date.parse(acceptedAt);
  function prior(msBefore: number, overrides: Partial<PriorComplaint> = {}): PriorComplaint {
    return {
      id: 'prior',
      customerRef: 'C-1001',
      subject: 'Late delivery',
      acceptedAt: new Date(atMs - msBefore).toISOString(),
      ...overrides,
    };
  }

  it('has a 30-day window', () => {
    expect(REPEAT_COMPLAINT_WINDOW_DAYS).toBe(30);
  });

  it('counts the same customer and subject up to exactly 30 days before', () => {
    expect(isRepeatedComplaint(current, [prior(DAY_MS)])).toBe(true);
    expect(isRepeatedComplaint(current, [prior(30 * DAY_MS)])).toBe(true);
    expect(isRepeatedComplaint(current, [prior(30 * DAY_MS + 1)])).toBe(false);
    expect(isRepeatedComplaint(current, [prior(31 * DAY_MS)])).toBe(false);
  });

  it('does not count a later complaint', () => {
    expect(isRepeatedComplaint(current, [prior(-HOUR_MS)])).toBe(false);
  });

  it('needs the same customer, and the same subject or the same type', () => {
    expect(isRepeatedComplaint(current, [prior(DAY_MS, { customerRef: 'C-1002' })])).toBe(false);
    expect(isRepeatedComplaint(current, [prior(DAY_MS, { customerRef: 'C-1002', type: 'logistics' })])).toBe(false);
    // Same subject, another type: the same matter.
    expect(isRepeatedComplaint(current, [prior(DAY_MS, { type: 'service' })])).toBe(true);
    // Same type, another subject: the same matter.
    expect(isRepeatedComplaint(current, [prior(DAY_MS, { subject: 'Parcel lost', type: 'logistics' })])).toBe(true);
    // Neither: another matter.
    expect(isRepeatedComplaint(current, [prior(DAY_MS, { subject: 'Damaged goods', type: 'product_quality' })])).toBe(
      false,
    );
  });

  it('never counts "other", or a type missing on either side, as the same matter', () => {
    const other = { ...current, type: 'other' };
    expect(isRepeatedComplaint(other, [prior(DAY_MS, { subject: 'Something else', type: 'other' })])).toBe(false);
    expect(isRepeatedComplaint(current, [prior(DAY_MS, { subject: 'Something else', type: null })])).toBe(false);
    expect(isRepeatedComplaint(current, [prior(DAY_MS, { subject: 'Something else' })])).toBe(false);
    const untyped = { customerRef: 'C-1001', subject: 'Late delivery', acceptedAt };
    expect(isRepeatedComplaint(untyped, [prior(DAY_MS, { subject: 'Something else', type: null })])).toBe(false);
    // The subject still counts.
    expect(isRepeatedComplaint(untyped, [prior(DAY_MS, { type: null })])).toBe(true);
  });

  it('takes the window from the policy, and names the complaints repeated', () => {
    const history = [prior(5 * DAY_MS, { id: 'five' }), prior(20 * DAY_MS, { id: 'twenty' })];
    expect(repeatedComplaintIds(current, history, 7)).toEqual(['five']);
    expect(repeatedComplaintIds(current, history, 20)).toEqual(['five', 'twenty']);
    expect(repeatedComplaintIds(current, history, 4)).toEqual([]);
    expect(() => repeatedComplaintIds(current, history, 0)).toThrow(/windowDays/);
    expect(() => repeatedComplaintIds(current, history, 1.5)).toThrow(/windowDays/);
  });

  it('compares customer and subject ignoring case and surrounding whitespace', () => {
    expect(
      isRepeatedComplaint(current, [prior(DAY_MS, { customerRef: ' c-1001 ', subject: '  LATE delivery\n' })]),
    ).toBe(true);
    expect(isRepeatedComplaint({ ...current, subject: 'LATE DELIVERY ' }, [prior(DAY_MS)])).toBe(true);
  });

  it('finds a repeat among unrelated complaints', () => {
    const history = [
      prior(2 * DAY_MS, { id: 'a', customerRef: 'C-9' }),
      prior(40 * DAY_MS, { id: 'b' }),
      prior(10 * DAY_MS, { id: 'c' }),
    ];
    expect(isRepeatedComplaint(current, history)).toBe(true);
    expect(isRepeatedComplaint(current, history.slice(0, 2))).toBe(false);
    expect(isRepeatedComplaint(current, [])).toBe(false);
  });

  it('refuses malformed input', () => {
    expect(() => isRepeatedComplaint({ ...current, customerRef: ' ' }, [])).toThrow(/customerRef/);
    expect(() => isRepeatedComplaint({ ...current, subject: '' }, [])).toThrow(/subject/);
    expect(() => isRepeatedComplaint({ ...current, acceptedAt: '31/05/2024' }, [])).toThrow(/acceptedAt/);
    expect(() => isRepeatedComplaint(current, [prior(0, { id: 'x9', acceptedAt: 'soon' })])).toThrow(
      /acceptedAt of complaint x9/,
    );
  });
});

describe('raising a complaint to an incident', () => {
  it('leaves a normal, first-time complaint in the complaint loop', () => {
    for (const channel of COMPLAINT_CHANNELS.filter((c) => c !== 'regulator_referral')) {
      expect(shouldRaiseToIncident({ severity: 'normal', repeated: false, channel })).toEqual({ raise: false });
    }
  });

  it('raises a serious complaint', () => {
    expect(shouldRaiseToIncident({ severity: 'serious', repeated: false, channel: 'app' })).toEqual({
      raise: true,
      reason:
        'Raise to an incident because it is serious: such complaints need root-cause analysis and tracked rectification.',
    });
  });

  it('raises a repeated complaint', () => {
    const result = shouldRaiseToIncident({ severity: 'normal', repeated: true, channel: 'hotline' });
    expect(result.raise).toBe(true);
    expect(result.reason).toMatch(/same matter within 30 days/);
    const shorter = shouldRaiseToIncident({ severity: 'normal', repeated: true, channel: 'hotline' }, 14);
    expect(shorter.reason).toMatch(/same matter within 14 days/);
  });

  it('raises a regulator referral', () => {
    const result = shouldRaiseToIncident({ severity: 'normal', repeated: false, channel: 'regulator_referral' });
    expect(result.raise).toBe(true);
    expect(result.reason).toMatch(/because a regulator referred it:/);
  });

  it('gives every reason that applies', () => {
    const result = shouldRaiseToIncident({ severity: 'serious', repeated: true, channel: 'regulator_referral' });
    expect(result.reason).toMatch(/because it is serious, the customer complained .* and a regulator referred it:/);
  });

  it('refuses an unknown severity or channel', () => {
    expect(() => shouldRaiseToIncident({ severity: 'urgent' as 'serious', repeated: false, channel: 'app' })).toThrow(
      RangeError,
    );
    expect(() => shouldRaiseToIncident({ severity: 'normal', repeated: false, channel: 'fax' })).toThrow(
      /channel must be one of/,
    );
  });
});

describe('SLA breaches', () => {
  const accepted = Date.UTC(2024, 4, 1, 9);
  const due24 = accepted + 24 * HOUR_MS;
  const due48 = accepted + 48 * HOUR_MS;

  it('finds none when both happened on time, even to the millisecond', () => {
    const events = { initialInvestigationAtMs: due24, resultAtMs: due48 };
    expect(slaBreaches(accepted, events, due48 + 10 * DAY_MS)).toEqual([]);
    expect(
      slaBreaches(
        accepted,
        { initialInvestigationAtMs: accepted + HOUR_MS, resultAtMs: accepted + 5 * HOUR_MS },
        due48 + DAY_MS,
      ),
    ).toEqual([]);
  });

  it('finds none before anything is due', () => {
    expect(slaBreaches(accepted, {}, accepted)).toEqual([]);
    expect(slaBreaches(accepted, {}, due24)).toEqual([]);
  });

  it('reports an event that came late, by how much', () => {
    expect(slaBreaches(accepted, { initialInvestigationAtMs: due24 + 1, resultAtMs: due48 }, due48 + DAY_MS)).toEqual([
      { sla: 'initial_investigation_24h', dueAtMs: due24, lateByMs: 1 },
    ]);
    expect(
      slaBreaches(
        accepted,
        { initialInvestigationAtMs: due24 - HOUR_MS, resultAtMs: due48 + 3 * HOUR_MS },
        due48 + DAY_MS,
      ),
    ).toEqual([{ sla: 'result_48h', dueAtMs: due48, lateByMs: 3 * HOUR_MS }]);
  });

  it('reports an event not yet done once now is past its due time', () => {
    expect(slaBreaches(accepted, {}, due24 + 1)).toEqual([
      { sla: 'initial_investigation_24h', dueAtMs: due24, lateByMs: 1 },
    ]);
    expect(slaBreaches(accepted, { initialInvestigationAtMs: accepted + HOUR_MS }, due48 + 2 * HOUR_MS)).toEqual([
      { sla: 'result_48h', dueAtMs: due48, lateByMs: 2 * HOUR_MS },
    ]);
  });

  it('reports both, initial investigation first, when nothing has happened for days', () => {
    expect(slaBreaches(accepted, {}, due48 + HOUR_MS)).toEqual([
      { sla: 'initial_investigation_24h', dueAtMs: due24, lateByMs: 25 * HOUR_MS },
      { sla: 'result_48h', dueAtMs: due48, lateByMs: HOUR_MS },
    ]);
  });

  it('does not report a result still due while the investigation was on time', () => {
    expect(slaBreaches(accepted, { initialInvestigationAtMs: accepted + HOUR_MS }, due48)).toEqual([]);
  });

  it('counts an unrecorded investigation as done when the result was', () => {
    expect(slaBreaches(accepted, { resultAtMs: accepted + 10 * HOUR_MS }, due48 + 30 * DAY_MS)).toEqual([]);
    expect(slaBreaches(accepted, { resultAtMs: due24 + HOUR_MS }, due48 + 30 * DAY_MS)).toEqual([
      { sla: 'initial_investigation_24h', dueAtMs: due24, lateByMs: HOUR_MS },
    ]);
  });

  it('measures against the SLAs of the policy the complaint runs under', () => {
    const sla = { initialInvestigationWithin: '12h', resultWithin: '36h' };
    expect(
      slaBreaches(accepted, { initialInvestigationAtMs: accepted + 13 * HOUR_MS }, accepted + 20 * HOUR_MS, sla),
    ).toEqual([{ sla: 'initial_investigation_24h', dueAtMs: accepted + 12 * HOUR_MS, lateByMs: HOUR_MS }]);
    expect(
      slaBreaches(accepted, { initialInvestigationAtMs: accepted + 13 * HOUR_MS }, accepted + 20 * HOUR_MS),
    ).toEqual([]);
  });

  it('refuses malformed times', () => {
    expect(() => slaBreaches(NaN, {}, accepted)).toThrow(/acceptedAtMs/);
    expect(() => slaBreaches(accepted, {}, Infinity)).toThrow(/nowMs/);
    expect(() => slaBreaches(accepted, { resultAtMs: NaN }, accepted)).toThrow(/resultAtMs/);
    expect(() => slaBreaches(accepted, { initialInvestigationAtMs: accepted - 1 }, accepted)).toThrow(
      /initialInvestigationAtMs is before the complaint was accepted/,
    );
  });
});

describe('root-cause analysis (根因分析)', () => {
  const analysis = (overrides: Partial<RecordedRootCause> = {}): RecordedRootCause => ({
    rootCause: 'Capture retried after a timeout',
    contributingFactors: ['no idempotency key'],
    correctiveActions: ['Refund the second charge'],
    preventiveActions: ['Idempotency key on captures'],
    by: 'mgr',
    at: '2024-05-31T09:00:00Z',
    version: 1,
    status: 'submitted',
    review: null,
    ...overrides,
  });
  const complaint = (rootCause: RecordedRootCause | null) => ({
    acceptedBy: 'desk',
    handlerId: 'handler',
    initialInvestigation: { by: 'investigator' },
    handling: [{ by: 'helper' }],
    rootCause,
  });

  it('is required for serious and for repeated complaints, and only for them', () => {
    expect(rootCauseRequiredBecause({ severity: 'normal', repeated: false })).toEqual([]);
    expect(rootCauseRequiredBecause({ severity: 'serious', repeated: false })).toEqual(['serious']);
    expect(rootCauseRequiredBecause({ severity: 'normal', repeated: true })).toEqual(['repeated']);
    expect(rootCauseRequiredBecause({ severity: 'serious', repeated: true })).toEqual(['serious', 'repeated']);
  });

  it('blocks the feedback until an analysis is accepted, saying what is missing', () => {
    const missing = rootCauseGate({ requiredBecause: ['repeated'], rootCause: null });
    expect(missing).toMatchObject({
      code: 'ROOT_CAUSE_REQUIRED',
      details: { requiredBecause: ['repeated'], rootCause: 'missing' },
    });
    expect(missing!.message).toMatch(
      /^a repeated complaint needs its root-cause analysis .* accepted before the feedback; none is recorded/,
    );
    const awaiting = rootCauseGate({ requiredBecause: ['serious', 'repeated'], rootCause: analysis() });
    expect(awaiting).toMatchObject({ code: 'ROOT_CAUSE_REQUIRED', details: { rootCause: 'submitted' } });
    expect(awaiting!.message).toMatch(
      /^a serious and repeated complaint .*the analysis mgr recorded awaits review by risk, compliance, internal_audit/,
    );
    const returned = rootCauseGate({
      requiredBecause: ['serious'],
      rootCause: analysis({
        status: 'returned',
        review: { verdict: 'return', reason: 'no evidence', by: 'appr1', at: 'x' },
      }),
    });
    expect(returned).toMatchObject({ details: { rootCause: 'returned' } });
    expect(returned!.message).toMatch(/appr1 returned the analysis \(no evidence\): revise it/);
    expect(rootCauseGate({ requiredBecause: ['serious'], rootCause: analysis({ status: 'accepted' }) })).toBeNull();
  });

  it('does not block the feedback of a complaint that needs none', () => {
    expect(rootCauseGate({ requiredBecause: [], rootCause: null })).toBeNull();
    expect(rootCauseGate({ requiredBecause: [], rootCause: analysis({ status: 'returned' }) })).toBeNull();
  });

  it('treats an analysis recorded before reviews existed as awaiting review', () => {
    const { status: _s, version: _v, review: _r, ...old } = analysis();
    expect(rootCauseGate({ requiredBecause: ['serious'], rootCause: old })).toMatchObject({
      details: { rootCause: 'submitted' },
    });
    expect(rootCauseReviewRefusal(complaint(old), { reviewerId: 'appr1', verdict: 'accept' })).toBeNull();
  });

  it('is reviewed by the second and third lines', () => {
    expect([...ROOT_CAUSE_REVIEWER_ROLES]).toEqual([...VERIFIER_ROLES]);
  });

  it('names everyone who prepared the work, with what they did', () => {
    const c = {
      ...complaint(analysis({ by: 'handler' })),
      handling: [{ by: 'handler' }, { by: 'helper' }, { by: 'helper' }],
    };
    expect(rootCausePreparers(c)).toEqual([
      { userId: 'desk', parts: ['accepted the complaint'] },
      { userId: 'handler', parts: ['handles the complaint', 'recorded handling', 'recorded the root-cause analysis'] },
      { userId: 'investigator', parts: ['recorded the investigation'] },
      { userId: 'helper', parts: ['recorded handling'] },
    ]);
    expect(rootCauseReviewRefusal(c, { reviewerId: 'handler', verdict: 'accept' })!.message).toBe(
      'segregation of duties: handler handles the complaint, recorded handling and recorded the root-cause analysis, so may not review its root-cause analysis',
    );
  });

  it('refuses a review by anyone who prepared the work, naming what they did', () => {
    for (const [userId, part] of [
      ['desk', 'accepted the complaint'],
      ['handler', 'handles the complaint'],
      ['investigator', 'recorded the investigation'],
      ['helper', 'recorded handling'],
      ['mgr', 'recorded the root-cause analysis'],
    ] as const) {
      const refusal = rootCauseReviewRefusal(complaint(analysis()), { reviewerId: userId, verdict: 'accept' });
      expect(refusal, userId).toMatchObject({ code: 'SEGREGATION_OF_DUTIES', details: { reviewerId: userId } });
      expect(refusal!.message).toBe(
        `segregation of duties: ${userId} ${part}, so may not review its root-cause analysis`,
      );
      expect(refusal!.details!.parts as string[]).toEqual([part]);
    }
    expect(rootCauseReviewRefusal(complaint(analysis()), { reviewerId: 'appr1', verdict: 'accept' })).toBeNull();
  });

  it('reviews only an analysis awaiting review, and a return needs its reason', () => {
    expect(rootCauseReviewRefusal(complaint(null), { reviewerId: 'appr1', verdict: 'accept' })).toMatchObject({
      code: 'NOT_AWAITING_REVIEW',
      message: 'no root-cause analysis is recorded yet',
    });
    for (const status of ['accepted', 'returned'] as const) {
      expect(
        rootCauseReviewRefusal(complaint(analysis({ status })), { reviewerId: 'appr1', verdict: 'accept' }),
      ).toMatchObject({ code: 'NOT_AWAITING_REVIEW', details: { rootCause: status } });
    }
    expect(
      rootCauseReviewRefusal(complaint(analysis()), { reviewerId: 'appr1', verdict: 'return', reason: '  ' }),
    ).toMatchObject({ code: 'REASON_REQUIRED' });
    expect(
      rootCauseReviewRefusal(complaint(analysis()), { reviewerId: 'appr1', verdict: 'return', reason: 'no data' }),
    ).toBeNull();
  });
});
