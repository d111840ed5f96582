import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, readMigrations } from '../src/db/migrate.ts';
import { createPool } from '../src/db/pool.ts';
import { runCli } from './support/cli.ts';
import { createEmptyDatabase } from './support/database.ts';

describe('migrations', () => {
  let empty: Awaited<ReturnType<typeof createEmptyDatabase>>;
  beforeAll(async () => {
    empty = await createEmptyDatabase();
  });
  afterAll(async () => empty.drop());

  it('two real `intake migrate` processes at once both succeed, and running again is a no-op', async () => {
    const env = { DATABASE_URL: empty.url };
    const [a, b] = await Promise.all([runCli(['migrate'], env), runCli(['migrate'], env)]);
    expect({ code: a.code, stderr: a.stderr }).toEqual({ code: 0, stderr: '' });
    expect({ code: b.code, stderr: b.stderr }).toEqual({ code: 0, stderr: '' });

    const pool = createPool(empty.url, { max: 5 });
    try {
      const expected = (await readMigrations()).map((m) => m.name);
      const { rows } = await pool.query('SELECT name FROM intake_migrations ORDER BY name');
      expect(rows.map((r) => r.name)).toEqual(expected);
      const boss = await pool.query(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'pgboss'`);
      expect(boss.rows[0].n).toBeGreaterThan(0);

      // Again, in process and concurrently: nothing left to apply.
      const again = await Promise.all([migrate(pool), migrate(pool), migrate(pool)]);
      expect(again).toEqual([[], [], []]);
      const after = await pool.query('SELECT count(*)::int AS n FROM intake_migrations');
      expect(after.rows[0].n).toBe(expected.length);
    } finally {
      await pool.end();
    }
  });
});

describe('migration runner', () => {
  let dir: string;
  let empty: Awaited<ReturnType<typeof createEmptyDatabase>>;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'intake-migrations-'));
    empty = await createEmptyDatabase();
  });
  afterAll(async () => {
    await empty.drop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('applies in order, refuses an edited landed migration, and rolls back a failing one whole', async () => {
    const pool = createPool(empty.url, { max: 2 });
    try {
      await fs.writeFile(path.join(dir, '001-first.sql'), 'CREATE TABLE a (id int);');
      await fs.writeFile(path.join(dir, '002-second.sql'), 'INSERT INTO a VALUES (1);');
      expect(await migrate(pool, dir)).toEqual(['001-first.sql', '002-second.sql']);

      await fs.writeFile(path.join(dir, '001-first.sql'), 'CREATE TABLE a (id bigint);');
      await expect(migrate(pool, dir)).rejects.toThrow(/001-first.sql changed after it was applied/);
      await fs.writeFile(path.join(dir, '001-first.sql'), 'CREATE TABLE a (id int);');

      await fs.writeFile(path.join(dir, '003-ok.sql'), 'CREATE TABLE b (id int);');
      await fs.writeFile(path.join(dir, '004-broken.sql'), 'CREATE TABLE c (id nonsense_type);');
      await expect(migrate(pool, dir)).rejects.toThrow(/004-broken.sql failed/);
      const b = await pool.query(`SELECT to_regclass('b') AS t`);
      expect(b.rows[0].t).toBeNull();
      const recorded = await pool.query('SELECT name FROM intake_migrations ORDER BY name');
      expect(recorded.rows.map((r) => r.name)).toEqual(['001-first.sql', '002-second.sql']);
    } finally {
      await pool.end();
    }
  });

  it('refuses badly named or duplicate-numbered files', async () => {
    const bad = await fs.mkdtemp(path.join(os.tmpdir(), 'intake-migrations-bad-'));
    try {
      await fs.writeFile(path.join(bad, '1-nope.sql'), 'SELECT 1;');
      await expect(readMigrations(bad)).rejects.toThrow(/must look like 001-what-it-does.sql/);
      await fs.rm(path.join(bad, '1-nope.sql'));
      await fs.writeFile(path.join(bad, '001-a.sql'), 'SELECT 1;');
      await fs.writeFile(path.join(bad, '001-b.sql'), 'SELECT 1;');
      await expect(readMigrations(bad)).rejects.toThrow(/number 001 is used twice/);
    } finally {
      await fs.rm(bad, { recursive: true, force: true });
    }
  });
});
