import { defineConfig } from 'vitest/config';

// Files that measure the service's own latency (/healthz under hostile mail) run after the rest,
// one at a time: beside two other test files on a 2-core machine they measured those files' load.
const ALONE = ['test/hostile-inbound.test.ts'];

export default defineConfig({
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 90_000,
    // Tests never inherit a developer's settings by accident; each sets what it needs.
    env: { LOG_LEVEL: 'silent' },
    projects: [
      {
        extends: true,
        test: {
          name: 'suite',
          include: ['src/**/*.test.ts', 'importers/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: ALONE,
          // Vitest's default is one fewer than the CPUs: one file at a time on these 2-core machines.
          // The files wait on PostgreSQL and child processes far more than they compute, so three run at once.
          maxWorkers: Number(process.env.INTAKE_TEST_WORKERS) || 3,
          sequence: { groupOrder: 0 },
        },
      },
      { extends: true, test: { name: 'alone', include: ALONE, maxWorkers: 1, sequence: { groupOrder: 1 } } },
    ],
  },
});
