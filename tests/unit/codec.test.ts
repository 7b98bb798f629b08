/**
 * The payload codec (platform/codec.ts) on its own: the key setting, sealing
 * and opening, rotation, and every way a payload is refused. What a refused
 * payload does to a running case is in tests/integration/codec.test.ts.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultPayloadConverter, type Payload, type SerializationContext } from '@temporalio/common';
import { afterAll, describe, expect, it } from 'vitest';
import {
  AesGcmCodec,
  CONTEXT_METADATA,
  dataConverterFor,
  ENCRYPTED_ENCODING,
  ensureDevCodecKeys,
  generateCodecKey,
  KEY_ID_METADATA,
  parseCodecKeys,
  PayloadRefusedError,
} from '../../platform/codec';
import { refusalOf } from '../../workflows/shared/refusedPayloads';

const K1 = Buffer.alloc(32, 1).toString('base64');
const K2 = Buffer.alloc(32, 2).toString('base64');
const PERSON = { reporter: '张伟', email: 'zhang.wei@example.cn', note: 'Ms Evangeline Thistlewood' };

const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');
const clear = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);
const codecOf = (keys: string, options: { acceptPlaintext?: boolean } = {}) =>
  new AesGcmCodec({ keys: parseCodecKeys(keys), ...options });
const seal = async (codec: AesGcmCodec, value: unknown) => (await codec.encode([clear(value)]))[0]!;
const open = async (codec: AesGcmCodec, payload: Payload) =>
  defaultPayloadConverter.fromPayload((await codec.decode([payload]))[0]!);

describe('GOVERNANCE_CODEC_KEYS', () => {
  it('is a list of id:base64 keys; the first seals', () => {
    const keys = parseCodecKeys(` k2:${K2} , k1:${K1}`);
    expect(keys.map((k) => k.id)).toEqual(['k2', 'k1']);
    expect(keys[0]!.key).toEqual(Buffer.alloc(32, 2));
    expect(codecOf(`k2:${K2},k1:${K1}`).sealingKeyId).toBe('k2');
  });

  it.each([
    ['', 'no key given'],
    [K1, 'key 1 has no id'],
    [`:${K1}`, 'key 1: the id must be'],
    [`k 1:${K1}`, 'key 1: the id must be'],
    ['k1:not base64!', 'key "k1" is not valid base64'],
    ['k1:QUJD', 'key "k1" is 3 bytes; AES-256 needs 32'],
    [`k1:${Buffer.alloc(16).toString('base64')}`, 'key "k1" is 16 bytes'],
    [`k1:${K1},k2:${K2},k1:${K2}`, 'the id "k1" is given twice'],
  ])('refuses %j with a message that says why', (raw, message) => {
    expect(() => parseCodecKeys(raw)).toThrow(message);
    expect(() => parseCodecKeys(raw)).toThrow(/^GOVERNANCE_CODEC_KEYS: /);
  });

  it('never repeats the key material in its errors', () => {
    const secret = Buffer.alloc(31, 7).toString('base64');
    try {
      parseCodecKeys(`k1:${secret}`);
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain(secret);
    }
  });

  it('is required in production, and optional elsewhere (no codec)', () => {
    expect(() => dataConverterFor({ production: true })).toThrow(/GOVERNANCE_CODEC_KEYS: required in production/);
    expect(dataConverterFor({ production: false })).toBeUndefined();
    expect(dataConverterFor({ codecKeys: `k1:${K1}`, production: true })?.payloadCodecs).toHaveLength(1);
    // Failures' messages and stacks are sealed with the payloads (platform/failureConverter.cjs).
    expect(dataConverterFor({ codecKeys: `k1:${K1}` })?.failureConverterPath).toMatch(/failureConverter\.cjs$/);
  });

  it('generates keys in its own format', () => {
    const [key] = parseCodecKeys(generateCodecKey('dev1'));
    expect(key!.id).toBe('dev1');
    expect(key!.key).toHaveLength(32);
  });
});

describe('sealing and opening', () => {
  const codec = codecOf(`k2:${K2},k1:${K1}`);

  it('round-trips any value, with the key id in the metadata and nothing readable in the bytes', async () => {
    const sealed = await seal(codec, PERSON);
    expect(text(sealed.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(sealed.metadata![KEY_ID_METADATA])).toBe('k2');
    expect(Object.keys(sealed.metadata!).sort()).toEqual(['encoding', KEY_ID_METADATA]);
    const bytes = Buffer.from(sealed.data!);
    for (const secret of [PERSON.email, 'Thistlewood', 'json/plain', 'reporter']) {
      expect(bytes.includes(Buffer.from(secret))).toBe(false);
    }
    expect(bytes.includes(Buffer.from('张伟'))).toBe(false);
    expect(await open(codec, sealed)).toEqual(PERSON);
    // The original payload's own metadata (its encoding) comes back too.
    expect(text((await codec.decode([sealed]))[0]!.metadata!.encoding)).toBe('json/plain');
    for (const value of [undefined, null, 0, '', [1, 'two'], new Uint8Array([1, 2, 3])]) {
      expect(await open(codec, await seal(codec, value))).toEqual(value);
    }
  });

  it('seals the same value differently each time (a fresh IV per payload)', async () => {
    const [a, b] = [await seal(codec, PERSON), await seal(codec, PERSON)];
    expect(Buffer.from(a.data!).equals(Buffer.from(b.data!))).toBe(false);
  });

  it('rotates: a new first key seals, the old one still opens what it sealed; a codec without it refuses', async () => {
    const before = codecOf(`k1:${K1}`);
    const sealedBefore = await seal(before, PERSON);
    const after = codecOf(`k2:${K2},k1:${K1}`);
    expect(await open(after, sealedBefore)).toEqual(PERSON);
    const sealedAfter = await seal(after, PERSON);
    expect(text(sealedAfter.metadata![KEY_ID_METADATA])).toBe('k2');
    expect(refusalOf(await open(before, sealedAfter))).toBe('sealed with an unknown key "k2"');
  });
});

describe('refusals', () => {
  const codec = codecOf(`k2:${K2},k1:${K1}`);
  const refusal = async (payload: Payload) => refusalOf(await open(codec, payload));

  it('refuses a clear payload while keys are configured, unless plaintext is accepted for the transition', async () => {
    expect(await refusal(clear({ actor: { id: 'appr1' } }))).toBe(
      'a clear payload (encoding json/plain) where every payload is sealed',
    );
    expect(await refusal({ data: Buffer.from('{}') })).toMatch(/encoding none/);
    const transition = codecOf(`k2:${K2}`, { acceptPlaintext: true });
    expect(await open(transition, clear({ actor: { id: 'appr1' } }))).toEqual({ actor: { id: 'appr1' } });
    // Sealed payloads are still checked during the transition.
    expect(refusalOf(await open(transition, await seal(codecOf(`k9:${K1}`), 1)))).toMatch(/unknown key "k9"/);
  });

  it('refuses a payload sealed with a key it does not hold', async () => {
    const stranger = codecOf(`k1:${Buffer.alloc(32, 9).toString('base64')}`);
    expect(await refusal(await seal(stranger, PERSON))).toMatch(/^failed authentication under key "k1"/);
    expect(await refusal(await seal(codecOf(`k3:${K1}`), PERSON))).toBe('sealed with an unknown key "k3"');
  });

  it('refuses any flipped bit: in the IV, the ciphertext or the tag', async () => {
    const sealed = await seal(codec, PERSON);
    const length = sealed.data!.length;
    for (const at of [0, 11, 12, Math.floor(length / 2), length - 17, length - 1]) {
      const data = Buffer.from(sealed.data!);
      data[at] = data[at]! ^ 1;
      expect(await refusal({ ...sealed, data }), `byte ${at}`).toMatch(/^failed authentication/);
    }
    expect(await refusal({ ...sealed, data: Buffer.from(sealed.data!).subarray(0, 27) })).toBe(
      'a sealed payload too short to hold its tag',
    );
    expect(await refusal({ metadata: { encoding: sealed.metadata!.encoding! }, data: sealed.data })).toBe(
      'a sealed payload without a key id',
    );
  });

  it('binds the key id: relabelled to another id holding the same key, it no longer opens', async () => {
    const twins = codecOf(`a:${K1},b:${K1}`);
    const sealed = await seal(twins, PERSON);
    expect(await open(twins, sealed)).toEqual(PERSON);
    const relabelled = { ...sealed, metadata: { ...sealed.metadata, [KEY_ID_METADATA]: Buffer.from('b') } };
    expect(refusalOf(await open(twins, relabelled))).toMatch(/^failed authentication under key "b"/);
  });

  it('keeps a refused payload as it came for display, or throws, when asked to', async () => {
    const forged = clear({ actor: { id: 'appr1' } });
    expect((await codec.withRefusalMode('keep').decode([forged]))[0]).toBe(forged);
    await expect(codec.withRefusalMode('throw').decode([forged])).rejects.toBeInstanceOf(PayloadRefusedError);
    // The other view holds the same keys.
    expect(await open(codec.withRefusalMode('throw'), await seal(codecOf(`k1:${K1}`), 7))).toBe(7);
  });
});

describe('bound to its workflow', () => {
  const codec = codecOf(`k2:${K2},k1:${K1}`);
  const caseA: SerializationContext = { type: 'workflow', namespace: 'default', workflowId: 'approval-request:A' };
  const caseB: SerializationContext = { type: 'workflow', namespace: 'default', workflowId: 'approval-request:B' };
  const sealFor = async (context: SerializationContext | undefined, value: unknown = PERSON) =>
    (await codec.encode([clear(value)], context))[0]!;
  const openIn = async (payload: Payload, context?: SerializationContext) =>
    defaultPayloadConverter.fromPayload((await codec.decode([payload], context))[0]!);

  it('opens in its own workflow, for its activities, and without a context (the codec server)', async () => {
    const sealed = await sealFor(caseA);
    expect(JSON.parse(text(sealed.metadata![CONTEXT_METADATA]))).toEqual(['default', 'approval-request:A']);
    expect(await openIn(sealed, caseA)).toEqual(PERSON);
    const activity: SerializationContext = {
      type: 'activity',
      namespace: 'default',
      workflowId: 'approval-request:A',
      activityId: '3',
      isLocal: false,
    };
    expect(await openIn(sealed, activity)).toEqual(PERSON);
    expect(await openIn(await sealFor(activity), caseA)).toEqual(PERSON);
    expect(await openIn(sealed)).toEqual(PERSON);
  });

  it('is refused in another workflow or namespace: a sealed payload copied between cases does not open', async () => {
    const sealed = await sealFor(caseA);
    expect(refusalOf(await openIn(sealed, caseB))).toBe(
      'sealed for another workflow (["default","approval-request:A"])',
    );
    expect(refusalOf(await openIn(sealed, { ...caseA, namespace: 'other' }))).toMatch(/^sealed for another workflow/);
    // A workflow id that merely starts with the case's id is another workflow.
    for (const workflowId of ['approval-request:A-2', 'approval-request:A-2026-01-01', 'approval-request:AB']) {
      expect(refusalOf(await openIn(sealed, { ...caseA, workflowId })), workflowId).toMatch(/^sealed for another/);
    }
  });

  it("opens in the runs a Schedule starts: the server names them <action's workflow id>-<time>", async () => {
    const action = { ...caseA, workflowId: 'supplier-review:S1' };
    const sealed = await sealFor(action);
    for (const workflowId of [
      'supplier-review:S1-2027-01-01T00:00:00Z',
      'supplier-review:S1-2027-01-01T08:00:00+08:00',
    ]) {
      expect(await openIn(sealed, { ...action, workflowId }), workflowId).toEqual(PERSON);
    }
  });

  it('binds the workflow: relabelled, stripped or added, the context fails authentication', async () => {
    const sealed = await sealFor(caseA);
    const relabelled = {
      ...sealed,
      metadata: {
        ...sealed.metadata,
        [CONTEXT_METADATA]: Buffer.from(JSON.stringify(['default', 'approval-request:B'])),
      },
    };
    expect(refusalOf(await openIn(relabelled, caseB))).toMatch(/^failed authentication under key "k2"/);
    expect(refusalOf(await openIn(relabelled))).toMatch(/^failed authentication/);
    const { [CONTEXT_METADATA]: _bound, ...unboundMetadata } = sealed.metadata!;
    expect(refusalOf(await openIn({ ...sealed, metadata: unboundMetadata }, caseB))).toMatch(/^failed authentication/);
    const unbound = await sealFor(undefined);
    const claimed = {
      ...unbound,
      metadata: { ...unbound.metadata, [CONTEXT_METADATA]: relabelled.metadata[CONTEXT_METADATA] },
    };
    expect(refusalOf(await openIn(claimed, caseB))).toMatch(/^failed authentication/);
    const notOurs = { ...sealed, metadata: { ...sealed.metadata, [CONTEXT_METADATA]: Buffer.from('not json') } };
    expect(refusalOf(await openIn(notOurs, caseA))).toMatch(/^sealed for another workflow/);
  });

  it('leaves unbound what the SDK seals without naming a workflow; unbound payloads (older histories) open anywhere', async () => {
    const unbound = await sealFor(undefined);
    expect(unbound.metadata![CONTEXT_METADATA]).toBeUndefined();
    expect(await openIn(unbound, caseB)).toEqual(PERSON);
    const tokenCompletion: SerializationContext = { type: 'activity', namespace: 'default', isLocal: false };
    expect((await sealFor(tokenCompletion)).metadata![CONTEXT_METADATA]).toBeUndefined();
  });
});

describe('the developer key of npm start', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gov-codec-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is generated once into the data folder, readable by its owner only, and reused', () => {
    const first = ensureDevCodecKeys(path.join(dir, 'data'));
    expect(first.created).toBe(true);
    expect(statSync(first.file).mode & 0o777).toBe(0o600);
    expect(parseCodecKeys(first.codecKeys)[0]!.id).toBe('dev1');
    const again = ensureDevCodecKeys(path.join(dir, 'data'));
    expect(again).toEqual({ ...first, created: false });
    expect(readFileSync(first.file, 'utf8').trim()).toBe(first.codecKeys);
  });

  it('is refused once others may read it', () => {
    const { file } = ensureDevCodecKeys(path.join(dir, 'data'));
    chmodSync(file, 0o644);
    expect(() => ensureDevCodecKeys(path.join(dir, 'data'))).toThrow(/readable by others \(mode 644\)/);
  });
});
