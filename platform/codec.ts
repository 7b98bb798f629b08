/**
 * The payload codec (issue 14 §3): every payload a client or worker of the
 * product hands to Temporal — case inputs, decisions, activity arguments and
 * results — is sealed with AES-256-GCM before it leaves the process, so
 * Temporal's database and anyone reading its histories see ciphertext, and a
 * payload written without the key is refused.
 *
 * Keys: GOVERNANCE_CODEC_KEYS, `id:<base64 of 32 bytes>` separated by commas.
 * The first key seals; every key opens. Rotation: put the new key first and
 * keep the old ones after it for as long as histories sealed with them live.
 *
 * A sealed payload: metadata `encoding: binary/encrypted` and
 * `encryption-key-id: <id>`; data `iv (12 bytes) | ciphertext | tag (16 bytes)`
 * of the whole original payload (its own metadata included). Those two
 * metadata entries are the additional authenticated data, so a payload whose
 * key id was swapped, or that claims another encoding, fails authentication
 * even if the named key exists.
 *
 * Bound to its case: when the SDK says whose payload it is (its serialization
 * context: the workflow, or the workflow of the activity), the namespace and
 * workflow id go into metadata `encryption-context` and into the additional
 * authenticated data, and a client or worker decoding it for another workflow
 * refuses it — a sealed decision or item copied from one case into another
 * does not open there. Without a context (the codec server, a task-token
 * completion) a payload is sealed unbound, as before this binding, and opens
 * anywhere; so do the unbound payloads of older histories. Runs a Schedule
 * starts carry its action's workflow id plus `-<time>` (the server appends
 * it), so they open what the Schedule's action was sealed for.
 *
 * Refused on decode: a clear payload while keys are configured (unless
 * GOVERNANCE_CODEC_ACCEPT_PLAINTEXT=1, for the transition of histories
 * written before the codec), an unknown key id, a tampered or truncated
 * payload, one sealed for another workflow. The codec does not throw there (the SDK would fail every workflow
 * task of a case whose history holds a forged signal, for ever): it decodes
 * the refused payload into a marker that workflows/shared/refusedPayloads.ts
 * acts on before any workflow code sees it.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  METADATA_ENCODING_KEY,
  type DataConverter,
  type Payload,
  type PayloadCodec,
  type SerializationContext,
} from '@temporalio/common';
import proto from '@temporalio/proto';
import { REFUSED_PAYLOAD_KEY } from '../workflows/shared/refusedPayloads';
import type { Settings } from './config';

// A CommonJS module: under plain Node its namespace has no named exports.
const { Payload: PayloadMessage } = proto.temporal.api.common.v1;

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
/** The workflow a payload is bound to: JSON `[namespace, workflowId]`, authenticated. */
export const CONTEXT_METADATA = 'encryption-context';
/** The workflow interceptor every bundle must include (bundleWorkflowCode / Worker interceptors.workflowModules). */
export const REFUSED_PAYLOADS_INTERCEPTOR = fileURLToPath(
  new URL('../workflows/shared/refusedPayloads.ts', import.meta.url),
);
/**
 * The failure converter that puts failures' messages and stack traces into a
 * payload the codec seals (platform/failureConverter.cjs). Clients and workers
 * take it from dataConverterFor; every workflow bundle must be built with it
 * (bundleWorkflowCode's failureConverterPath), since failures raised in
 * workflow code — Update refusals among them — are converted in the sandbox.
 */
export const FAILURE_CONVERTER_PATH = fileURLToPath(new URL('./failureConverter.cjs', import.meta.url));

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export interface CodecKey {
  id: string;
  key: Buffer;
}

/** What the codec needs from the settings. */
export type CodecSettings = Pick<Settings, 'codecKeys'> &
  Partial<Pick<Settings, 'production'>> & {
    /** GOVERNANCE_CODEC_ACCEPT_PLAINTEXT=1: clear payloads still decode (histories from before the codec). */
    codecAcceptPlaintext?: boolean;
  };

export class CodecKeysError extends Error {
  constructor(message: string) {
    super(`GOVERNANCE_CODEC_KEYS: ${message}`);
    this.name = 'CodecKeysError';
  }
}

/** Parses GOVERNANCE_CODEC_KEYS (`k2:<base64>,k1:<base64>`); the first key seals. Never echoes key material. */
export function parseCodecKeys(raw: string): CodecKey[] {
  const entries = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new CodecKeysError('no key given; expected "<id>:<base64 of 32 bytes>[,…]"');
  const seen = new Set<string>();
  return entries.map((entry, index) => {
    const colon = entry.indexOf(':');
    const where = `key ${index + 1}`;
    if (colon < 0) throw new CodecKeysError(`${where} has no id: expected "<id>:<base64 of 32 bytes>"`);
    const id = entry.slice(0, colon);
    const material = entry.slice(colon + 1);
    if (!KEY_ID.test(id)) {
      throw new CodecKeysError(`${where}: the id must be 1 to 64 letters, digits, ".", "_" or "-"`);
    }
    if (seen.has(id)) throw new CodecKeysError(`the id "${id}" is given twice`);
    seen.add(id);
    if (!BASE64.test(material) || material.length % 4 !== 0) {
      throw new CodecKeysError(`key "${id}" is not valid base64`);
    }
    const key = Buffer.from(material, 'base64');
    if (key.length !== KEY_BYTES) {
      throw new CodecKeysError(`key "${id}" is ${key.length} bytes; AES-256 needs ${KEY_BYTES}`);
    }
    return { id, key };
  });
}

/** A new random key in the setting's format. */
export function generateCodecKey(id: string): string {
  return `${id}:${randomBytes(KEY_BYTES).toString('base64')}`;
}

const utf8 = (s: string) => Buffer.from(s, 'utf8');
const text = (bytes: Uint8Array | null | undefined) => (bytes ? Buffer.from(bytes).toString('utf8') : undefined);

/** The workflow a payload belongs to, as the SDK tells the codec; undefined when it does not say. */
export function boundWorkflowOf(context: SerializationContext | undefined): string | undefined {
  if (!context?.namespace || !context.workflowId) return undefined;
  return JSON.stringify([context.namespace, context.workflowId]);
}

/**
 * Whether a payload bound to `bound` may open in workflow `here`: the same
 * workflow, or a run its Schedule started (the server names those
 * `<action's workflow id>-<RFC 3339 time>`).
 */
function sameWorkflow(bound: string, here: string): boolean {
  if (bound === here) return true;
  const [boundNamespace, boundId] = JSON.parse(bound) as [string, string];
  const [namespace, id] = JSON.parse(here) as [string, string];
  if (boundNamespace !== namespace || !id.startsWith(`${boundId}-`)) return false;
  return SCHEDULED_RUN_SUFFIX.test(id.slice(boundId.length + 1));
}
const SCHEDULED_RUN_SUFFIX = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** The metadata a sealed payload carries, and its additional authenticated data. */
function sealedMetadata(keyId: string, bound: string | undefined) {
  return {
    [METADATA_ENCODING_KEY]: utf8(ENCRYPTED_ENCODING),
    [KEY_ID_METADATA]: utf8(keyId),
    ...(bound ? { [CONTEXT_METADATA]: utf8(bound) } : {}),
  };
}
function additionalData(keyId: string, bound: string | undefined): Buffer {
  const header = `${METADATA_ENCODING_KEY}=${ENCRYPTED_ENCODING}\n${KEY_ID_METADATA}=${keyId}`;
  // v1: unbound (payloads sealed before the binding, or without a context); v2 adds the workflow.
  return utf8(
    bound === undefined
      ? `governance-codec/v1\n${header}`
      : `governance-codec/v2\n${header}\n${CONTEXT_METADATA}=${bound}`,
  );
}

export class PayloadRefusedError extends Error {
  constructor(readonly reason: string) {
    super(`payload refused: ${reason}`);
    this.name = 'PayloadRefusedError';
  }
}

/**
 * What decode does with a refused payload: `mark` (clients and workers)
 * decodes it into the refusal marker; `keep` (the codec server, for display)
 * returns it as it came; `throw` raises PayloadRefusedError.
 */
export type RefusalMode = 'mark' | 'keep' | 'throw';

export interface CodecOptions {
  keys: CodecKey[];
  acceptPlaintext?: boolean;
  onRefused?: RefusalMode;
}

export class AesGcmCodec implements PayloadCodec {
  private readonly sealing: CodecKey;
  private readonly opening: Map<string, Buffer>;
  private readonly acceptPlaintext: boolean;
  private readonly onRefused: RefusalMode;

  constructor(options: CodecOptions) {
    if (options.keys.length === 0) throw new CodecKeysError('no key given');
    this.sealing = options.keys[0]!;
    this.opening = new Map(options.keys.map((k) => [k.id, k.key]));
    this.acceptPlaintext = options.acceptPlaintext ?? false;
    this.onRefused = options.onRefused ?? 'mark';
  }

  /** Another view of the same keys (the codec server keeps refused payloads as they came). */
  withRefusalMode(onRefused: RefusalMode): AesGcmCodec {
    return new AesGcmCodec({
      keys: [
        this.sealing,
        ...[...this.opening].filter(([id]) => id !== this.sealing.id).map(([id, key]) => ({ id, key })),
      ],
      acceptPlaintext: this.acceptPlaintext,
      onRefused,
    });
  }

  get sealingKeyId(): string {
    return this.sealing.id;
  }

  async encode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    return payloads.map((payload) => this.seal(payload, context));
  }

  async decode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    return payloads.map((payload) => this.open(payload, context));
  }

  /** Seals a payload, bound to the context's workflow when there is one. */
  seal(payload: Payload, context?: SerializationContext): Payload {
    const { id, key } = this.sealing;
    const bound = boundWorkflowOf(context);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(additionalData(id, bound));
    const plain = PayloadMessage.encode(payload).finish();
    const sealed = Buffer.concat([cipher.update(plain), cipher.final()]);
    return { metadata: sealedMetadata(id, bound), data: Buffer.concat([iv, sealed, cipher.getAuthTag()]) };
  }

  /** Opens a payload; one bound to a workflow opens only for it when the context names a workflow. */
  open(payload: Payload, context?: SerializationContext): Payload {
    const encoding = text(payload.metadata?.[METADATA_ENCODING_KEY]);
    if (encoding !== ENCRYPTED_ENCODING) {
      if (this.acceptPlaintext) return payload;
      return this.refuse(payload, `a clear payload (encoding ${encoding ?? 'none'}) where every payload is sealed`);
    }
    const keyId = text(payload.metadata?.[KEY_ID_METADATA]);
    if (!keyId) return this.refuse(payload, 'a sealed payload without a key id');
    const key = this.opening.get(keyId);
    if (!key) return this.refuse(payload, `sealed with an unknown key "${keyId.slice(0, 64)}"`);
    const data = payload.data ? Buffer.from(payload.data) : Buffer.alloc(0);
    if (data.length < IV_BYTES + TAG_BYTES) return this.refuse(payload, 'a sealed payload too short to hold its tag');
    const bound = text(payload.metadata?.[CONTEXT_METADATA]);
    const here = boundWorkflowOf(context);
    // Checked before authentication too: a relabelled context would fail it anyway, and says less.
    if (bound !== undefined && here !== undefined && !this.sealedFor(bound, here)) {
      return this.refuse(payload, `sealed for another workflow (${bound.slice(0, 300)})`);
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAAD(additionalData(keyId, bound));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
        decipher.final(),
      ]);
      return PayloadMessage.decode(plain);
    } catch {
      return this.refuse(payload, `failed authentication under key "${keyId}" (tampered, or sealed with another key)`);
    }
  }

  private sealedFor(bound: string, here: string): boolean {
    try {
      return sameWorkflow(bound, here);
    } catch {
      // Not the JSON pair a seal writes: it cannot have come from this codec.
      return false;
    }
  }

  private refuse(payload: Payload, reason: string): Payload {
    if (this.onRefused === 'keep') return payload;
    if (this.onRefused === 'throw') throw new PayloadRefusedError(reason);
    return {
      metadata: { [METADATA_ENCODING_KEY]: utf8('json/plain') },
      data: utf8(JSON.stringify({ [REFUSED_PAYLOAD_KEY]: reason })),
    };
  }
}

/** The codec of these settings, or undefined when no keys are set (refused in production). */
export function codecFor(settings: CodecSettings): AesGcmCodec | undefined {
  if (!settings.codecKeys) {
    if (settings.production) {
      throw new CodecKeysError(
        'required in production: every payload sent to Temporal is encrypted. Set it to "<id>:<base64 of 32 bytes>", e.g. from `openssl rand -base64 32`',
      );
    }
    return undefined;
  }
  return new AesGcmCodec({
    keys: parseCodecKeys(settings.codecKeys),
    acceptPlaintext: settings.codecAcceptPlaintext ?? false,
  });
}

/**
 * The data converter every client and worker of the product uses: payloads
 * sealed, and failures' messages and stack traces sealed with them (without
 * the failure converter an ApplicationFailure's message — a refusal naming a
 * person — would lie in clear in history beside its sealed details).
 */
export function dataConverterFor(settings: CodecSettings): DataConverter | undefined {
  const codec = codecFor(settings);
  return codec ? { payloadCodecs: [codec], failureConverterPath: FAILURE_CONVERTER_PATH } : undefined;
}

/** Where `npm start` keeps a developer machine's key. */
export const DEV_CODEC_KEYS_FILE = 'codec-keys';

/**
 * `npm start` on a developer's machine with no GOVERNANCE_CODEC_KEYS: the key
 * generated once into the data folder (mode 0600), so cases recorded in
 * .data/temporal.db still open after a restart.
 */
export function ensureDevCodecKeys(dataDir: string): { codecKeys: string; file: string; created: boolean } {
  const file = path.join(dataDir, DEV_CODEC_KEYS_FILE);
  if (existsSync(file)) {
    const mode = statSync(file).mode & 0o777;
    if (mode & 0o077)
      throw new CodecKeysError(`${file} is readable by others (mode ${mode.toString(8)}); chmod 600 it`);
    const codecKeys = readFileSync(file, 'utf8').trim();
    parseCodecKeys(codecKeys);
    return { codecKeys, file, created: false };
  }
  mkdirSync(dataDir, { recursive: true });
  const codecKeys = generateCodecKey('dev1');
  writeFileSync(file, `${codecKeys}\n`, { mode: 0o600, flag: 'wx' });
  return { codecKeys, file, created: true };
}
