import { describe, expect, it } from 'vitest';
import { canonicalJson, computeAuditHash, GENESIS_HASH } from '../../db/audit';

const event = {
  seq: 1,
  occurredAt: new Date('2026-11-23T10:00:00.123Z'),
  actorId: 'u1',
  action: 'case.opened',
  caseId: 'c1',
  taskId: null,
  reason: null,
  payload: { b: 1, a: { d: [1, 2], c: 'x' } },
  evidenceHashes: [],
  prevHash: GENESIS_HASH,
};

describe('audit hashing', () => {
  it('does not depend on key order (jsonb reorders keys)', () => {
    expect(canonicalJson({ b: 1, a: 2 })).toBe(canonicalJson({ a: 2, b: 1 }));
    expect(computeAuditHash(event)).toBe(computeAuditHash({ ...event, payload: { a: { c: 'x', d: [1, 2] }, b: 1 } }));
  });
  it('changes when any covered field or the previous hash changes', () => {
    const base = computeAuditHash(event);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    for (const change of [
      { actorId: 'u2' },
      { action: 'case.closed' },
      { reason: 'why' },
      { payload: { b: 2, a: { d: [1, 2], c: 'x' } } },
      { evidenceHashes: ['abc'] },
      { prevHash: 'f'.repeat(64) },
      { seq: 2 },
      { occurredAt: new Date('2026-11-23T10:00:00.124Z') },
    ]) {
      expect(computeAuditHash({ ...event, ...change })).not.toBe(base);
    }
  });
});
