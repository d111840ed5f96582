import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { inject } from 'vitest';
import { createPool } from '../../src/db/pool.ts';
import { adminQuery, withDatabase } from './postgres-admin.ts';

export type TestDatabase = {
  name: string;
  url: string;
  pool: pg.Pool;
  /** Closes the pool, fails on connections the test left open, and drops the database. */
  close(): Promise<void>;
};

/** A fresh database cloned from the migrated template: one per test file (or per test that needs it). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = inject('databaseServerUrl');
  const template = inject('templateDatabase');
  const name = `${template}_${randomBytes(4).toString('hex')}`;
  for (let attempt = 0; ; attempt++) {
    try {
      await adminQuery(serverUrl, `CREATE DATABASE "${name}" TEMPLATE "${template}"`);
      break;
    } catch (err) {
      // 55006: another file is cloning the same template this instant.
      if ((err as { code?: string }).code !== '55006' || attempt >= 50) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 100));
    }
  }
  const url = withDatabase(serverUrl, name);
  const pool = createPool(url, { max: 10, applicationName: 'intake-test' });
  return {
    name,
    url,
    pool,
    async close() {
      await pool.end();
      // A closed connection's server process exits a moment later; a leaked one never does.
      // Only client connections count: an autovacuum worker (after a file that wrote much) is the server's own.
      let open: Array<{ application_name: string; state: string; query: string }> = [];
      for (let i = 0; i < 40; i++) {
        ({ rows: open } = await adminQuery(
          serverUrl,
          `SELECT application_name, state, left(query, 120) AS query FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend'`,
          [name],
        ));
        if (open.length === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await adminQuery(serverUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      if (open.length > 0) {
        const which = open.map((c) => `${c.application_name || '(no name)'} ${c.state}: ${c.query}`).join('; ');
        throw new Error(`connection leak: ${open.length} connection(s) to ${name} still open after the test (${which})`);
      }
    },
  };
}

/** An empty database (not from the template), for tests of migrating from nothing. */
export async function createEmptyDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const serverUrl = inject('databaseServerUrl');
  const name = `${inject('templateDatabase')}_empty_${randomBytes(4).toString('hex')}`;
  await adminQuery(serverUrl, `CREATE DATABASE "${name}"`);
  return {
    url: withDatabase(serverUrl, name),
    drop: async () => {
      await adminQuery(serverUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}
