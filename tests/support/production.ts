/**
 * The tests' side of the production profile (tests/production/globalSetup.ts):
 * the API over real HTTP as each test user, SQL on the app database, a
 * Temporal client as the product's (mTLS and the payload codec), a raw one
 * (what Temporal stores), and the faults, injected through the control
 * server of the process that owns the profile.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import { dataConverterFor } from '../../platform/codec';
import type { ControlAction } from '../production/globalSetup';
import type { ProfileDatabases } from '../../scripts/production/profile';
import { eventually as eventuallyWithin, type TestUser } from './harness';

export type ApiAnswer = { status: number; body: any; headers: Headers };

export interface Production {
  apiUrl: string;
  tokens: Record<TestUser, string>;
  /** The product's client (mTLS + codec). */
  temporal: Client;
  /** A client without the codec: payloads as Temporal stores them. */
  rawTemporal: Client;
  api(
    method: string,
    path: string,
    options?: { as?: TestUser; token?: string; json?: unknown; headers?: Record<string, string> },
  ): Promise<ApiAnswer>;
  /** SQL on the app database as its owner. */
  sql<T extends pg.QueryResultRow = any>(text: string, params?: unknown[]): Promise<T[]>;
  /** SQL as the cluster's superuser on any database (dumps, restores, Temporal's own tables). */
  admin<T extends pg.QueryResultRow = any>(database: string, text: string, params?: unknown[]): Promise<T[]>;
  unique(prefix: string): string;
  control(action: ControlAction, body?: unknown): Promise<any>;
  /** Stops server, worker and API, runs `meanwhile` (e.g. a restore), starts them again; `sql` reconnects. */
  withStackStopped(meanwhile: () => Promise<void>): Promise<void>;
  /** The databases the profile runs on now. */
  databases(): Promise<ProfileDatabases>;
  settings: ReturnType<typeof inject<'production'>>;
}

/** Connects before the file's tests, closes after them; read its fields inside tests. */
export function useProduction(): Production {
  const p = {} as Production;
  let pool: pg.Pool | undefined;
  const connections: Connection[] = [];

  beforeAll(async () => {
    const settings = inject('production');
    p.settings = settings;
    p.apiUrl = settings.apiUrl;
    p.tokens = settings.tokens;
    const usePool = (url: string) => {
      void pool?.end().catch(() => undefined);
      pool = new pg.Pool({ connectionString: url, max: 3 });
      // A restart of PostgreSQL closes idle connections: the pool opens new ones.
      pool.on('error', () => undefined);
    };
    p.sql = async (text, params) => (await pool!.query(text, params as unknown[])).rows;
    p.admin = async (database, text, params) => {
      const url = new URL(settings.adminUrl);
      url.pathname = `/${database}`;
      const client = new pg.Client({ connectionString: url.toString() });
      await client.connect();
      try {
        return (await client.query(text, params as unknown[])).rows;
      } finally {
        await client.end();
      }
    };
    const tls = {
      serverNameOverride: settings.tls.serverName,
      serverRootCACertificate: readFileSync(settings.tls.caPath),
      clientCertPair: { crt: readFileSync(settings.tls.certPath), key: readFileSync(settings.tls.keyPath) },
    };
    const connection = await Connection.connect({ address: settings.temporalAddress, tls });
    connections.push(connection);
    p.temporal = new Client({
      connection,
      namespace: settings.namespace,
      dataConverter: dataConverterFor({ codecKeys: settings.codecKeys }),
    });
    p.rawTemporal = new Client({ connection, namespace: settings.namespace });
    p.api = async (method, path, options = {}) => {
      const headers: Record<string, string> = { ...options.headers };
      const token = options.token ?? (options.as ? settings.tokens[options.as] : undefined);
      if (token) headers.authorization = `Bearer ${token}`;
      let body: string | undefined;
      if (options.json !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(options.json);
      }
      const res = await fetch(`${settings.apiUrl}${path}`, { method, headers, body });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        /* not JSON: keep the text */
      }
      return { status: res.status, body: parsed, headers: res.headers };
    };
    p.unique = (prefix) => `${prefix}-${randomUUID().slice(0, 8)}`;
    p.control = async (action, body) => {
      const res = await fetch(`${settings.controlUrl}/${action}`, {
        method: 'POST',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`profile control ${action} failed: ${text}`);
      return text ? JSON.parse(text) : undefined;
    };
    // An earlier file may have restored the profile onto other databases.
    usePool((await p.control('state')).appOwnerDatabaseUrl);
    p.databases = async () => (await p.control('state')).databases;
    p.withStackStopped = async (meanwhile) => {
      await p.control('stopStack');
      await pool?.end();
      pool = undefined;
      try {
        await meanwhile();
      } finally {
        await p.control('startStack');
        usePool((await p.control('state')).appOwnerDatabaseUrl);
      }
    };
  });

  afterAll(async () => {
    for (const c of connections) await c.close().catch(() => undefined);
    await pool?.end();
  });

  return p;
}

/** The harness's `eventually`, with 30 s by default: the profile's processes restart in between. */
export const eventually = <T>(check: () => Promise<T | undefined | null | false>, timeoutMs = 30_000) =>
  eventuallyWithin(check, timeoutMs);
