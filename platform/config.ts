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
  /**
   * GOVERNANCE_CODEC_ACCEPT_PLAINTEXT=1: clear payloads (histories from before
   * the codec) still decode, for the transition only: forged clear payloads
   * are accepted too while it is on.
   */
  codecAcceptPlaintext: boolean;
  /** Largest JSON request body in bytes (MAX_JSON_BYTES): 1 MiB by default (policy default). */
  maxJsonBytes: number;
  /** Failed authentications per client address per minute before 429 (FAILED_AUTH_PER_MINUTE; 0 = no limit; policy default 20). */
  failedAuthPerMinute: number;
  /**
   * How long one API request may wait on Temporal in all (API_TEMPORAL_DEADLINE_MS,
   * policy default 30 s): past it the request answers 503 with Retry-After, and
   * the client's retry with the same Idempotency-Key picks the step up where it is.
   */
  temporalDeadlineMs: number;
  /**
   * Anchoring the audit chain in Temporal (db/auditAnchors.ts): the HMAC keys
   * (GOVERNANCE_ANCHOR_KEY, `keyId:base64secret` of at least 32 bytes, comma
   * separated, the first signs), given to the worker and the API, never to the
   * database; and how often the chain head is anchored: every
   * GOVERNANCE_ANCHOR_EVERY_EVENTS events (policy default 100) or after
   * GOVERNANCE_ANCHOR_EVERY_MINUTES minutes with any event unanchored (policy
   * default 5), whichever comes first. Unset key: no anchoring, and verify says so.
   */
  auditAnchor?: { key: string; everyEvents: number; everyMinutes: number };
  /** LOG_LEVEL: pino's levels; `silent` turns logs off. Default `info`. */
  logLevel: LogLevel;
  /**
   * OTEL_EXPORTER_OTLP_ENDPOINT: an OTLP/HTTP collector's base URL (spans go
   * to `<url>/v1/traces`). Unset: tracing is off and nothing is instrumented.
   */
  otlpEndpoint?: string;
  /**
   * WORKER_METRICS_ADDRESS: host:port where the worker serves the Temporal
   * SDK's own Prometheus metrics (`/metrics`). Unset: none.
   */
  workerMetricsAddress?: string;
  /**
   * WORKER_MAX_CACHED_WORKFLOWS: how many workflows the worker keeps in its
   * sticky cache (default DEFAULT_WORKER_MAX_CACHED_WORKFLOWS). A cached
   * workflow is the one thing in the worker that grows with open cases: each
   * holds its own copy of every module the workflow bundle loads (about 2 MB
   * of the workflow thread's heap, zod and contracts/ most of it) plus its
   * state, so the cache, not the number of open cases, sets the worker's
   * memory (bench/memory.bench.ts). Cases beyond the cache wait in Temporal,
   * not in the worker; one is replayed from its history when its next event
   * comes.
   */
  workerMaxCachedWorkflows: number;
  /**
   * METRICS_TOKEN: the bearer token the API's `/metrics` requires. Unset:
   * `/metrics` is open on a developer's machine and absent (404) in production.
   */
  metricsToken?: string;
  /** Delivery of notifications by mail and chat (issue 13 §8; activities/delivery.ts). */
  delivery: DeliverySettings;
}

/**
 * Where reminders, escalations and digests go besides the notifications
 * table. With no SMTP_URL and no chat bot set, nothing is delivered and
 * notifications stay in-app (GET /api/notifications).
 */
export interface DeliverySettings {
  /** SMTP_URL: smtp://[user:pass@]host:port (STARTTLS when offered) or smtps://…; `npm start` points it at Mailpit. */
  smtpUrl?: string;
  /** MAIL_FROM: the From of every mail. */
  mailFrom: string;
  /** CONSOLE_URL: the console's base URL that mails link into (`<CONSOLE_URL>/tasks/<taskId>`); default the API's own URL. */
  consoleUrl: string;
  /**
   * The chat group bots, one per platform: WECOM_WEBHOOK_URL (its key is in
   * the URL); DINGTALK_WEBHOOK_URL with DINGTALK_WEBHOOK_SECRET (加签);
   * FEISHU_WEBHOOK_URL with FEISHU_WEBHOOK_SECRET (签名校验). A user's
   * preference picks which of them also carries their notices.
   */
  chatBots: Partial<Record<'wecom' | 'dingtalk' | 'feishu', { url: string; secret?: string }>>;
  /** DELIVERY_MAX_ATTEMPTS (default 8) tries per message, the first retry after DELIVERY_RETRY_INITIAL_SECONDS (default 30), doubling up to an hour. */
  maxAttempts: number;
  retryInitialSeconds: number;
  /** DIGEST_HOUR_UTC: the hour (0–23, UTC) the daily digest goes out; default 0, 08:00 in China. */
  digestHourUtc: number;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** API tokens expire: 90 days unless TOKEN_TTL_DAYS or the issuing admin says otherwise (policy default). */
export const DEFAULT_TOKEN_TTL_DAYS = 90;
/** One API request's whole wait on Temporal: 30 s (policy default; see Settings.temporalDeadlineMs). */
export const DEFAULT_TEMPORAL_DEADLINE_MS = 30_000;
/** The longest validity a token can be given, by setting or by an admin: a year (policy default). */
export const MAX_TOKEN_TTL_DAYS = 365;

/**
 * The worker's sticky cache, in workflows (Settings.workerMaxCachedWorkflows),
 * sized for the cases that are busy at once, not for the open ones: a case
 * needs its cache slot while a burst of workflow tasks runs (a start, a
 * decision: task, activities, task…), then waits days on a timer, and is
 * replayed from a short history when it wakes. The widest burst the product
 * makes is 16 starts in flight (the supplier campaign's concurrency and the
 * API benches'), so twice that keeps every burst cached with room for the
 * long-running parents (campaigns, the audit anchor). At about 2–3 MB a
 * cached case, 32 cost under 100 MB (the SDK's default, 600 per GB of heap,
 * was 2,310 on a 4 GB heap: the worker died at about 1,900 open cases; 100
 * held RSS at 575–656 MB).
 */
export const DEFAULT_WORKER_MAX_CACHED_WORKFLOWS = 32;

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

function logLevelFrom(raw: string | undefined): LogLevel {
  if (raw === undefined || raw === '') return 'info';
  if ((LOG_LEVELS as readonly string[]).includes(raw)) return raw as LogLevel;
  throw new Error(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${raw}"`);
}

function otlpEndpointFrom(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL, got "${raw}"`);
  }
  return raw.replace(/\/$/, '');
}

function bindAddressFrom(name: string, raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  const match = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(raw);
  const port = match ? Number(match[1]) : NaN;
  if (!match || port < 1 || port > 65535) throw new Error(`${name} must be host:port, e.g. 0.0.0.0:9464, got "${raw}"`);
  return raw;
}

function metricsTokenFrom(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  // A scraper's credential on a public port: long enough not to be guessed.
  if (raw.length < 24 || /\s/.test(raw)) {
    throw new Error('METRICS_TOKEN must be at least 24 characters without spaces (e.g. openssl rand -hex 24)');
  }
  return raw;
}

function httpUrlFrom(name: string, raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`${name} must be an http(s) URL, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`${name} must be an http(s) URL, got "${raw}"`);
  return raw;
}

export function deliverySettingsFrom(env: NodeJS.ProcessEnv, port: number): DeliverySettings {
  const smtpUrl = env.SMTP_URL || undefined;
  if (smtpUrl && !/^smtps?:\/\//.test(smtpUrl))
    throw new Error(`SMTP_URL must be smtp://… or smtps://…, got "${smtpUrl}"`);
  const chatBots: DeliverySettings['chatBots'] = {};
  for (const [channel, prefix, signed] of [
    ['wecom', 'WECOM', false],
    ['dingtalk', 'DINGTALK', true],
    ['feishu', 'FEISHU', true],
  ] as const) {
    const url = httpUrlFrom(`${prefix}_WEBHOOK_URL`, env[`${prefix}_WEBHOOK_URL`]);
    const secret = signed ? env[`${prefix}_WEBHOOK_SECRET`] || undefined : undefined;
    if (url) chatBots[channel] = { url, ...(secret ? { secret } : {}) };
  }
  const digestHourUtc = env.DIGEST_HOUR_UTC ? Number(env.DIGEST_HOUR_UTC) : 0;
  if (!Number.isInteger(digestHourUtc) || digestHourUtc < 0 || digestHourUtc > 23) {
    throw new Error(`DIGEST_HOUR_UTC must be an hour from 0 to 23, got "${env.DIGEST_HOUR_UTC}"`);
  }
  return {
    smtpUrl,
    mailFrom: env.MAIL_FROM || 'Governance platform <governance@localhost>',
    consoleUrl: (httpUrlFrom('CONSOLE_URL', env.CONSOLE_URL) ?? `http://localhost:${port}`).replace(/\/$/, ''),
    chatBots,
    maxAttempts: intFrom(env, 'DELIVERY_MAX_ATTEMPTS', 8, 100),
    retryInitialSeconds: intFrom(env, 'DELIVERY_RETRY_INITIAL_SECONDS', 30, 3600),
    digestHourUtc,
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
    codecAcceptPlaintext: env.GOVERNANCE_CODEC_ACCEPT_PLAINTEXT === '1',
    maxJsonBytes: intFrom(env, 'MAX_JSON_BYTES', 1024 * 1024),
    failedAuthPerMinute: env.FAILED_AUTH_PER_MINUTE === '0' ? 0 : intFrom(env, 'FAILED_AUTH_PER_MINUTE', 20),
    temporalDeadlineMs: intFrom(env, 'API_TEMPORAL_DEADLINE_MS', DEFAULT_TEMPORAL_DEADLINE_MS),
    auditAnchor: env.GOVERNANCE_ANCHOR_KEY
      ? {
          key: env.GOVERNANCE_ANCHOR_KEY,
          everyEvents: intFrom(env, 'GOVERNANCE_ANCHOR_EVERY_EVENTS', 100),
          everyMinutes: intFrom(env, 'GOVERNANCE_ANCHOR_EVERY_MINUTES', 5, 24 * 60),
        }
      : undefined,
    logLevel: logLevelFrom(env.LOG_LEVEL),
    otlpEndpoint: otlpEndpointFrom(env.OTEL_EXPORTER_OTLP_ENDPOINT),
    workerMetricsAddress: bindAddressFrom('WORKER_METRICS_ADDRESS', env.WORKER_METRICS_ADDRESS),
    workerMaxCachedWorkflows: intFrom(env, 'WORKER_MAX_CACHED_WORKFLOWS', DEFAULT_WORKER_MAX_CACHED_WORKFLOWS),
    metricsToken: metricsTokenFrom(env.METRICS_TOKEN),
    delivery: deliverySettingsFrom(env, intFrom(env, 'PORT', 3000)),
  };
}
