import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    reporters: ['default', './tests/support/summaryReporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          sequence: { groupOrder: 1 },
          // Starts one in-memory Temporal dev server, a migrated template
          // database and one workflow bundle for the whole run.
          globalSetup: ['tests/support/globalSetup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          pool: 'forks',
          maxWorkers: 2,
        },
      },
      {
        test: {
          name: 'production',
          include: ['tests/production/**/*.test.ts'],
          // After the integration project in a plain `vitest run`; `npm test`
          // (scripts/test.ts) runs it beside that project in a process of its own.
          sequence: { groupOrder: 2 },
          // Starts the production-shaped profile once (scripts/production/):
          // the real Temporal server on its own PostgreSQL, mTLS, worker and
          // API as separate processes. Its files share it, one at a time,
          // since each injects faults into all of it.
          globalSetup: ['tests/production/globalSetup.ts'],
          testTimeout: 300_000,
          hookTimeout: 600_000,
          pool: 'forks',
          maxWorkers: 1,
          fileParallelism: false,
        },
      },
    ],
  },
});
