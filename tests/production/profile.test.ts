/**
 * The production shape itself, before any fault: the worker and the API are
 * separate processes in production mode, the Temporal frontend takes only
 * clients with a certificate from the deployment's CA, and a case of each
 * process runs from start to end through the API, once.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../platform/config';
import { readAppEnv } from '../../scripts/production/profile';
import { useProduction } from '../support/production';
import { driveCase, expectClosed, expectNothingDoubled, PROCESSES } from './cases';

const p = useProduction();

describe('the production profile', () => {
  it('runs the worker and the API as separate processes with the settings of deploy/app.env', async () => {
    const state = await p.control('state');
    expect(state.workerPid).toBeGreaterThan(0);
    expect(state.apiPid).toBeGreaterThan(0);
    expect(state.workerPid).not.toBe(state.apiPid);
    const environ = (pid: number) =>
      Object.fromEntries(
        readFileSync(`/proc/${pid}/environ`, 'utf8')
          .split('\0')
          .filter(Boolean)
          .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
      );
    const shared = readAppEnv();
    for (const pid of [state.workerPid, state.apiPid]) {
      const env = environ(pid);
      for (const [key, value] of Object.entries(shared)) {
        // The one override: the fault tests shorten clocks (GOVERNANCE_CASE_TIMINGS=allow).
        if (key !== 'GOVERNANCE_CASE_TIMINGS') expect(env[key], key).toBe(value);
      }
      expect(env.NODE_ENV).toBe('production');
      expect(env.GOVERNANCE_CODEC_KEYS).toMatch(/^k1:/);
      expect(env.TEMPORAL_TLS_CERT).toBeTruthy();
    }
  });

  it('the Temporal frontend refuses a client without a certificate, or with one from another CA', async () => {
    const { tls, temporalAddress } = p.settings;
    const attempt = async (options: Parameters<typeof Connection.connect>[0]) => {
      const connection = await Connection.connect({ ...options, connectTimeout: 5_000 });
      try {
        await connection.workflowService.getSystemInfo({});
        return 'served';
      } finally {
        await connection.close();
      }
    };
    await expect(attempt({ address: temporalAddress })).rejects.toThrow();
    await expect(
      attempt({
        address: temporalAddress,
        tls: { serverNameOverride: tls.serverName, serverRootCACertificate: readFileSync(tls.caPath) },
      }),
    ).rejects.toThrow();
    const otherCa = mkdtempSync(path.join(tmpdir(), 'gov-other-ca-'));
    execFileSync('bash', [path.join(PROJECT_ROOT, 'deploy', 'tls', 'generate-certs.sh'), otherCa]);
    await expect(
      attempt({
        address: temporalAddress,
        tls: {
          serverNameOverride: tls.serverName,
          serverRootCACertificate: readFileSync(tls.caPath),
          clientCertPair: {
            crt: readFileSync(path.join(otherCa, 'client.crt')),
            key: readFileSync(path.join(otherCa, 'client.key')),
          },
        },
      }),
    ).rejects.toThrow();
    // The deployment's own client certificate is served.
    await expect(
      attempt({
        address: temporalAddress,
        tls: {
          serverNameOverride: tls.serverName,
          serverRootCACertificate: readFileSync(tls.caPath),
          clientCertPair: { crt: readFileSync(tls.certPath), key: readFileSync(tls.keyPath) },
        },
      }),
    ).resolves.toBe('served');
  });

  it('runs a case of each process from start to end, once', async () => {
    const driven = await Promise.all(PROCESSES.map((process) => driveCase(p, process)));
    await expectClosed(p, driven);
    await expectNothingDoubled(p, driven);
  });
});
