import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createTestDatabase } from './support/database.ts';

/** The harness's leak check: a client connection left open fails the file; the server's own processes do not. */
describe('test database leak check', () => {
  it('fails close() for a client connection left open, naming it', async () => {
    const db = await createTestDatabase();
    const leaked = new pg.Client({ connectionString: db.url, application_name: 'left-open' });
    // close() drops the database WITH (FORCE), which ends this connection from the server's side.
    leaked.on('error', () => undefined);
    await leaked.connect();
    try {
      await expect(db.close()).rejects.toThrow(/connection leak: 1 connection\(s\).*left-open/);
    } finally {
      await leaked.end().catch(() => undefined);
    }
  }, 30_000);

  it('closes cleanly when every client has gone', async () => {
    const db = await createTestDatabase();
    await db.pool.query('SELECT 1');
    await expect(db.close()).resolves.toBeUndefined();
  }, 30_000);
});
