import { describe, expect, it } from 'vitest';
import { canonicalJson, computeAuditHash, GENESIS_HASH, storableJson } from '../../db/audit';
import { anchorSignatureProblem, parseAnchorKeys, signAnchor, unanchoredProblem } from '../../db/auditAnchors';

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

describe('payload text as appended', () => {
  it('is JSON.stringify when every string is storable, a backslash that looks like an escape included', () => {
    const clean = { a: 'x', b: ['整改 😀', { c: 'C:\\u0000 and \\ud800 typed out' }], n: 1.5, t: true, z: null };
    expect(storableJson(clean)).toBe(JSON.stringify(clean));
    expect(storableJson([])).toBe('[]');
  });
  it('has every NUL and lone surrogate, in values and keys, replaced by U+FFFD', () => {
    const bad = { ['k\u0000']: ['\ud800', { nested: '\udc00x', pair: '😀' }], fine: '整改' };
    expect(JSON.parse(storableJson(bad))).toEqual({
      'k\uFFFD': ['\uFFFD', { nested: '\uFFFDx', pair: '😀' }],
      fine: '整改',
    });
    expect(storableJson(bad)).not.toMatch(/\\u(0000|d[89a-f])/i);
  });
});

describe('audit anchor signatures', () => {
  const secret = Buffer.alloc(32, 7).toString('base64');
  const keyring = parseAnchorKeys(`k2:${secret}, k1:${Buffer.alloc(32, 1).toString('base64')}`);
  const fields = {
    ledger: 'governance',
    chain: 'audit_events',
    seq: 42,
    hash: 'a'.repeat(64),
    anchoredAt: '2026-11-28T10:00:00.000Z',
  };

  it('signs with the first key and verifies with any configured one', () => {
    const anchor = signAnchor(keyring, fields);
    expect(anchor).toMatchObject({ ...fields, keyId: 'k2' });
    expect(anchor.mac).toMatch(/^[0-9a-f]{64}$/);
    expect(anchorSignatureProblem(keyring, anchor, 'governance')).toBeUndefined();
    // After a rotation the old key, kept second, still verifies what it signed.
    const rotated = parseAnchorKeys(`k3:${Buffer.alloc(32, 9).toString('base64')},k2:${secret}`);
    expect(anchorSignatureProblem(rotated, anchor, 'governance')).toBeUndefined();
  });

  it('refuses an anchor with any field changed, another key, an unknown key id or another database', () => {
    const anchor = signAnchor(keyring, fields);
    for (const change of [
      { seq: 43 },
      { hash: 'b'.repeat(64) },
      { anchoredAt: '2026-11-28T10:00:00.001Z' },
      { chain: 'audit_events_2027' },
      { mac: anchor.mac.replace(/^./, (c) => (c === '0' ? '1' : '0')) },
      { mac: 'not hex' },
    ]) {
      expect(anchorSignatureProblem(keyring, { ...anchor, ...change }, 'governance'), JSON.stringify(change)).toMatch(
        /MAC does not verify/,
      );
    }
    const forged = signAnchor(parseAnchorKeys(`k2:${Buffer.alloc(32, 8).toString('base64')}`), fields);
    expect(anchorSignatureProblem(keyring, forged, 'governance')).toMatch(/MAC does not verify/);
    expect(anchorSignatureProblem(keyring, { ...anchor, keyId: 'k9' }, 'governance')).toMatch(/"k9".*not configured/);
    // Signed for another database's chain: valid MAC, wrong place.
    expect(anchorSignatureProblem(keyring, anchor, 'governance_staging')).toMatch(/signed for database "governance"/);
  });

  it('refuses short, malformed and duplicate keys without quoting them', () => {
    expect(() => parseAnchorKeys(`k1:${Buffer.alloc(16).toString('base64')}`)).toThrow(/at least 32 bytes/);
    expect(() => parseAnchorKeys(secret)).toThrow(/keyId:base64secret/);
    expect(() => parseAnchorKeys(`bad id:${secret}`)).toThrow(/keyId:base64secret/);
    expect(() => parseAnchorKeys(`k1:${secret},k1:${secret}`)).toThrow(/twice/);
    try {
      parseAnchorKeys(`k1:${Buffer.alloc(16, 5).toString('base64')}`);
    } catch (err) {
      expect((err as Error).message).not.toContain(Buffer.alloc(16, 5).toString('base64'));
    }
  });
});

describe('events waiting for an anchor', () => {
  const now = new Date('2026-11-28T12:00:00Z');
  const waited = (minutes: number) => ({ seq: 7, occurredAt: new Date(now.getTime() - minutes * 60_000) });
  it('are normal within twice the cadence plus a minute, and named after that', () => {
    expect(unanchoredProblem(undefined, 5, now)).toBeUndefined();
    expect(unanchoredProblem(waited(11), 5, now)).toBeUndefined();
    expect(unanchoredProblem(waited(12), 5, now)).toMatchObject({ problem: 'unanchored', seq: 7 });
    expect(unanchoredProblem(waited(12), 10, now)).toBeUndefined();
  });
});
