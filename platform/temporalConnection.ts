/**
 * Every connection the product makes to Temporal, made one way: the worker,
 * the API, `npm start`, the tests and the bench connect through here, so
 * mutual TLS (platform/temporalTls.ts) and the payload codec
 * (platform/codec.ts) hold for all of them or for none.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { dataConverterFor } from './codec';
import type { Settings } from './config';
import { temporalTlsOptions } from './temporalTls';
import { temporalClientInterceptors } from './tracing';

export type TemporalSettings = Pick<Settings, 'temporalNamespace' | 'temporalTls' | 'codecKeys'>;

/** A client connection and the product's client on it (with the codec). Close the connection when done. */
export async function connectClient(
  address: string,
  settings: TemporalSettings,
): Promise<{ connection: Connection; client: Client }> {
  const connection = await Connection.connect({ address, tls: temporalTlsOptions(settings) });
  const client = new Client({
    connection,
    namespace: settings.temporalNamespace,
    dataConverter: dataConverterFor(settings),
    interceptors: temporalClientInterceptors(),
  });
  return { connection, client };
}

/** The worker's connection; the worker takes `dataConverterFor(settings)` as well. */
export async function connectWorker(address: string, settings: TemporalSettings): Promise<NativeConnection> {
  return NativeConnection.connect({ address, tls: temporalTlsOptions(settings) });
}
