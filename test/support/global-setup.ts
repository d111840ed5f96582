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
import { onAnyExit, removeStaleTestServerDirs, removeTestServerDir, TEST_PG_PREFIX } from './temp-cleanup.ts';

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
  let detach = () => {};
  if (!serverUrl) {
    // About 80 MB each: what interrupted runs left behind goes first.
    removeStaleTestServerDirs();
    tmpDir = await fs.mkdtemp(path.join(os.tmpdir(), TEST_PG_PREFIX));
    const dir = tmpDir;
    // An interrupted run (Ctrl-C, a killed CI job) never reaches the teardown below.
    detach = onAnyExit(() => removeTestServerDir(dir));
    await fs.chmod(tmpDir, 0o755);
    embedded = await startEmbeddedPostgres({
      dataDir: tmpDir,
      postgresFlags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
    });
    serverUrl = embedded.url;
  }
  await dropStaleTestDatabases(serverUrl);
  const template = `intake_test_${randomBytes(4).toString('hex')}`;
  await adminQuery(serverUrl, `CREATE DATABASE ${template}`);
  // Who made it, so a later run can tell an interrupted run's databases from a live one's.
  await adminQuery(serverUrl, `COMMENT ON DATABASE ${template} IS '${JSON.stringify({ host: os.hostname(), pid: process.pid })}'`);
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
    detach();
    if (tmpDir) await fs.rm(tmpDir, { recursive: true, force: true });
  };
}

/**
 * On a shared server (DATABASE_URL), the template and clones of runs that were interrupted on
 * this machine: their vitest process is gone. Other machines' and live runs' databases are kept.
 */
async function dropStaleTestDatabases(serverUrl: string): Promise<void> {
  const { rows } = await adminQuery(
    serverUrl,
    `SELECT datname, shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname ~ '^intake_test_[0-9a-f]{8}$'`,
  );
  for (const { datname, comment } of rows as Array<{ datname: string; comment: string | null }>) {
    let owner: { host?: unknown; pid?: unknown } = {};
    try {
      owner = JSON.parse(comment ?? '{}');
    } catch {}
    if (owner.host !== os.hostname() || typeof owner.pid !== 'number' || isAlive(owner.pid)) continue;
    const clones = await adminQuery(serverUrl, `SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY datname = $2`, [`${datname}%`, datname]);
    for (const clone of clones.rows) await adminQuery(serverUrl, `DROP DATABASE IF EXISTS "${clone.datname}" WITH (FORCE)`);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
