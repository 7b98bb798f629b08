/**
 * Runtime settings from the environment, read once, with the defaults a
 * developer's machine needs. Production sets every one explicitly.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface Settings {
  /** PostgreSQL URL; unset means embedded PGlite in `dataDir`. */
  databaseUrl?: string;
  /** host:port of a Temporal frontend; unset means `npm start` runs the dev server. */
  temporalAddress?: string;
  temporalNamespace: string;
  taskQueue: string;
  temporalUiUrl: string;
  port: number;
  dataDir: string;
  maxEvidenceBytes: number;
  /**
   * Whether a case may bring its own timings (GOVERNANCE_CASE_TIMINGS=allow):
   * for tests and demos that shorten clocks. Off by default and in
   * production: the compliance-owned policy sets every clock.
   */
  caseTimings: 'allow' | 'locked';
  /**
   * The interface the API listens on (HOST). Unset: `npm start` listens on
   * loopback only, `api/server.ts` (a container's entry) on every interface.
   */
  host?: string;
  /** NODE_ENV=production: no demo users, and no start while a demo token is valid. */
  production: boolean;
  /** How long a new API token is valid (TOKEN_TTL_DAYS), 1 to MAX_TOKEN_TTL_DAYS days; an admin may choose per token. */
  tokenTtlDays: number;
  /**
   * Mutual TLS to the Temporal frontend (TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY,
   * TEMPORAL_TLS_CA, TEMPORAL_TLS_SERVER_NAME): file paths, read when
   * connecting (platform/temporalTls.ts). Unset: plaintext, as the dev server.
   */
  temporalTls?: { certPath: string; keyPath: string; caPath?: string; serverName?: string };
  /**
   * The payload codec's keys (GOVERNANCE_CODEC_KEYS), parsed and checked by
   * platform/codec.ts. Unset: no encryption (the dev server on a developer's machine).
   */
  codecKeys?: string;
}

/** API tokens expire: 90 days unless TOKEN_TTL_DAYS or the issuing admin says otherwise (policy default). */
export const DEFAULT_TOKEN_TTL_DAYS = 90;
/** The longest validity a token can be given, by setting or by an admin: a year (policy default). */
export const MAX_TOKEN_TTL_DAYS = 365;

function intFrom(env: NodeJS.ProcessEnv, name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0 || value > max) {
    throw new Error(
      `${name} must be a positive integer${max < Number.MAX_SAFE_INTEGER ? ` no greater than ${max}` : ''}, got "${raw}"`,
    );
  }
  return value;
}

function caseTimingsFrom(raw: string | undefined): Settings['caseTimings'] {
  if (raw === undefined || raw === '' || raw === 'locked') return 'locked';
  if (raw === 'allow') return 'allow';
  throw new Error(`GOVERNANCE_CASE_TIMINGS must be "allow" or "locked", got "${raw}"`);
}

function temporalTlsFrom(env: NodeJS.ProcessEnv): Settings['temporalTls'] {
  const certPath = env.TEMPORAL_TLS_CERT || undefined;
  const keyPath = env.TEMPORAL_TLS_KEY || undefined;
  if (!certPath && !keyPath) return undefined;
  if (!certPath || !keyPath) throw new Error('TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY must be set together');
  return {
    certPath,
    keyPath,
    caPath: env.TEMPORAL_TLS_CA || undefined,
    serverName: env.TEMPORAL_TLS_SERVER_NAME || undefined,
  };
}

export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  return {
    databaseUrl: env.DATABASE_URL || undefined,
    temporalAddress: env.TEMPORAL_ADDRESS || undefined,
    temporalNamespace: env.TEMPORAL_NAMESPACE || 'default',
    taskQueue: env.TEMPORAL_TASK_QUEUE || 'governance',
    temporalUiUrl: (env.TEMPORAL_UI_URL || 'http://localhost:8233').replace(/\/$/, ''),
    port: intFrom(env, 'PORT', 3000),
    dataDir: path.resolve(env.GOVERNANCE_DATA_DIR || path.join(PROJECT_ROOT, '.data')),
    maxEvidenceBytes: intFrom(env, 'MAX_EVIDENCE_BYTES', 10 * 1024 * 1024),
    caseTimings: caseTimingsFrom(env.GOVERNANCE_CASE_TIMINGS),
    host: env.HOST || undefined,
    production: env.NODE_ENV === 'production',
    tokenTtlDays: intFrom(env, 'TOKEN_TTL_DAYS', DEFAULT_TOKEN_TTL_DAYS, MAX_TOKEN_TTL_DAYS),
    temporalTls: temporalTlsFrom(env),
    codecKeys: env.GOVERNANCE_CODEC_KEYS || undefined,
  };
}
