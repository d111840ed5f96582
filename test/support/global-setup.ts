import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/db/embedded-postgres.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createPool } from '../../src/db/pool.ts';
import { startJobs } from '../../src/queue/boss.ts';
import { adminQuery, withDatabase } from './postgres-admin.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A superuser connection string to the server the suite runs on. */
    databaseServerUrl: string;
    /** A migrated database (ours and pg-boss's schema) every test file clones. */
    templateDatabase: string;
  }
}

/**
 * One PostgreSQL for the whole run: the server in DATABASE_URL when set, else an embedded one in
 * a temporary folder with durability off (tests need no crash safety from the test server). One
 * migrated template database; each test file clones its own database from it.
 */
export default async function setup(project: TestProject) {
  let embedded: EmbeddedPostgres | undefined;
  let tmpDir: string | undefined;
  let serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    tmpDir = await fs.mkdtemp(path.join(os.tmpdir(), 'intake-test-pg-'));
    await fs.chmod(tmpDir, 0o755);
    embedded = await startEmbeddedPostgres({
      dataDir: tmpDir,
      postgresFlags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
    });
    serverUrl = embedded.url;
  }
  const template = `intake_test_${randomBytes(4).toString('hex')}`;
  await adminQuery(serverUrl, `CREATE DATABASE ${template}`);
  const templateUrl = withDatabase(serverUrl, template);
  const pool = createPool(templateUrl, { max: 2 });
  try {
    await migrate(pool);
  } finally {
    await pool.end();
  }
  const jobs = await startJobs(templateUrl, { onError: () => {}, supervise: false, schedule: false });
  await jobs.stop();

  project.provide('databaseServerUrl', serverUrl);
  project.provide('templateDatabase', template);

  return async () => {
    // Drop the template and every clone a crashed test file left behind.
    const { rows } = await adminQuery(serverUrl, `SELECT datname FROM pg_database WHERE datname LIKE $1`, [`${template}%`]);
    for (const { datname } of rows) await adminQuery(serverUrl, `DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    await embedded?.stop();
    if (tmpDir) await fs.rm(tmpDir, { recursive: true, force: true });
  };
}
