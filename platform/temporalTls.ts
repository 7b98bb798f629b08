/**
 * Mutual TLS to the Temporal frontend, from the paths in the settings
 * (TEMPORAL_TLS_*). The production shape turns it on; the dev server of
 * `npm start` and the tests listens in plaintext on loopback.
 */
import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import type { Settings } from './config';

export function temporalTlsOptions(settings: Pick<Settings, 'temporalTls'>): TLSConfig | undefined {
  const tls = settings.temporalTls;
  if (!tls) return undefined;
  return {
    serverNameOverride: tls.serverName,
    serverRootCACertificate: tls.caPath ? readFileSync(tls.caPath) : undefined,
    clientCertPair: { crt: readFileSync(tls.certPath), key: readFileSync(tls.keyPath) },
  };
}
