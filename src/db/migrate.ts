import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

const FILE_NAME = /^(\d{3})-[a-z0-9-]+\.sql$/;
// Any fixed number: every migrating process takes the same transaction-scoped advisory lock.
const LOCK_KEY = 7_402_133_001;

export type Migration = { name: string; sql: string; sha256: string };

export async function readMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const names = (await fs.readdir(dir)).filter((n) => n.endsWith('.sql')).sort();
  const seen = new Set<string>();
  const migrations: Migration[] = [];
  for (const name of names) {
    const match = FILE_NAME.exec(name);
    if (!match) throw new Error(`migration ${name}: the name must look like 001-what-it-does.sql`);
    if (seen.has(match[1]!)) throw new Error(`migration ${name}: number ${match[1]} is used twice`);
    seen.add(match[1]!);
    const sql = await fs.readFile(path.join(dir, name), 'utf8');
    migrations.push({ name, sql, sha256: createHash('sha256').update(sql).digest('hex') });
  }
  return migrations;
}

/**
 * Applies pending migrations in one transaction under an advisory lock, recording each before
 * running it, so two processes migrating at once serialise and the second finds nothing to do.
 * A landed migration whose file has since changed stops start-up: migrations are never edited.
 */
export async function migrate(pool: pg.Pool, dir = MIGRATIONS_DIR): Promise<string[]> {
  const migrations = await readMigrations(dir);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS intake_migrations (
      name text PRIMARY KEY,
      sha256 text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const { rows } = await client.query<{ name: string; sha256: string }>('SELECT name, sha256 FROM intake_migrations');
    const applied = new Map(rows.map((r) => [r.name, r.sha256]));
    const known = new Set(migrations.map((m) => m.name));
    for (const name of applied.keys()) {
      if (!known.has(name)) throw new Error(`migration ${name} is recorded in the database but missing from ${dir}; is this an older build?`);
    }
    const done: string[] = [];
    for (const m of migrations) {
      const recorded = applied.get(m.name);
      if (recorded !== undefined) {
        if (recorded !== m.sha256) throw new Error(`migration ${m.name} changed after it was applied; add a new migration instead`);
        continue;
      }
      await client.query('INSERT INTO intake_migrations (name, sha256) VALUES ($1, $2)', [m.name, m.sha256]);
      try {
        await client.query(m.sql);
      } catch (err) {
        throw new Error(`migration ${m.name} failed: ${(err as Error).message}`, { cause: err });
      }
      done.push(m.name);
    }
    await client.query('COMMIT');
    return done;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
