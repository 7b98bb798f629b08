/**
 * The product as `npm start` runs it — worker and real HTTP API in one
 * process, migrations applied, demo users and their well-known tokens
 * (`gov_demo_manager`, …) seeded by the same code — started inside the test
 * run: `startProduct()` from scripts/start.ts on a free port, on its own
 * database cloned from the test template, against the run's shared Temporal
 * dev server, on its own task queue. For tests that must talk to the product
 * the way a user does (curl), not through `app.request()`.
 */
import { randomUUID } from 'node:crypto';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import { loadSettings } from '../../platform/config';
import { startProduct, type Product } from '../../scripts/start';
import { TEST_CODEC_KEYS } from './codecKeys';
import { databaseUrl } from './globalSetup';

let runtimeInstalled = false;

/** Starts the product before the file's tests and stops it after them; read its fields inside tests. */
export function useProduct(name: string): Product {
  const product = {} as Product;
  let workerFailure: unknown;

  beforeAll(async () => {
    if (!runtimeInstalled) {
      Runtime.install({ logger: new DefaultLogger('WARN') });
      runtimeInstalled = true;
    }
    const adminUrl = inject('pgAdminUrl');
    const template = inject('templateDatabase');
    const databaseName = `${template.replace(/_template$/, '')}_${name}_${process.pid}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`create database "${databaseName}" template "${template}"`);
    await admin.end();

    const started = await startProduct({
      // A developer machine's defaults, as `npm start` reads them from an empty environment.
      ...loadSettings({}),
      // Every payload sealed, as in production (npm start generates a key into .data/ instead).
      codecKeys: TEST_CODEC_KEYS,
      databaseUrl: databaseUrl(adminUrl, databaseName),
      temporalAddress: inject('temporalAddress'),
      taskQueue: `product-${name}-${randomUUID().slice(0, 8)}`,
      port: 0,
      seedDemoUsers: true,
      workflowBundle: { codePath: inject('workflowBundlePath') },
    });
    started.worker.catch((err) => {
      workerFailure = err;
      console.error(`[product ${name}] the worker stopped:`, err);
    });
    Object.assign(product, started);
  });

  afterAll(async () => {
    await product.stop?.();
    if (workerFailure) throw workerFailure;
  });

  return product;
}
