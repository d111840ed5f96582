import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'importers/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    // Vitest's default is one fewer than the CPUs: one file at a time on these 2-core machines.
    // The files wait on PostgreSQL and child processes far more than they compute, so three run at once.
    maxWorkers: Number(process.env.INTAKE_TEST_WORKERS) || 3,
    testTimeout: 30_000,
    hookTimeout: 90_000,
    // Tests never inherit a developer's settings by accident; each sets what it needs.
    env: { LOG_LEVEL: 'silent' },
  },
});
