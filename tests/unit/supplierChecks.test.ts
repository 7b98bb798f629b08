/**
 * The supplier check provider is an outside system: its activity is retried
 * a bounded number of times (workflows/shared/activities.ts), and when the
 * last attempt fails the review goes on, the reviewer entering the checks.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { createSupplierActivities, type SupplierCheckProvider } from '../../activities/suppliers';
import type { Database } from '../../db/client';

const supplier = { supplierId: '91350100M000100Y43', supplierName: 'Acme Logistics' };
const retryPolicy = { maximumAttempts: 5, initialInterval: 1_000, backoffCoefficient: 2 };

function run(provider: SupplierCheckProvider, attempt: number) {
  const activities = createSupplierActivities({ db: {} as Database, checkProvider: provider });
  const environment = new MockActivityEnvironment({ attempt, retryPolicy } as never);
  return environment.run(activities.runSupplierChecks, supplier);
}

const down: SupplierCheckProvider = {
  name: 'bureau',
  check: async () => {
    throw new Error('connection refused');
  },
};

describe('supplier checks from the provider', () => {
  it('answers with what the provider found', async () => {
    const bureau: SupplierCheckProvider = {
      name: 'bureau',
      check: async () => ({ creditRating: 'AA', backgroundCheck: 'clear' }),
    };
    expect(await run(bureau, 1)).toEqual({ creditRating: 'AA', backgroundCheck: 'clear', provider: 'bureau' });
  });

  it('a provider that fails is retried: the error is thrown until the last attempt', async () => {
    await expect(run(down, 1)).rejects.toThrow('connection refused');
    await expect(run(down, 4)).rejects.toThrow('connection refused');
  });

  it('after the last attempt the answer has no ratings, so the reviewer enters them', async () => {
    const answer = await run(down, 5);
    expect(answer).toEqual({ provider: 'bureau', notes: expect.stringMatching(/did not answer after 5 attempts/) });
    expect(answer).not.toHaveProperty('creditRating');
  });
});
