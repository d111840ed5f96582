import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeReceived } from '../src/inbound/ledger.ts';
import { startIntake, type RunningIntake } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { makeWorkspace, TEST_SECRETS_KEY } from './support/workspaces.ts';

const EMAILS = 240;
const INBOUND_DOMAIN = 'inbound.processes.test';

let db: TestDatabase;
let dataDir: string;

beforeAll(async () => {
  db = await createTestDatabase();
  dataDir = await mkdtemp(path.join(tmpdir(), 'intake-inbound-'));
}, 60_000);

afterAll(async () => {
  await db?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('inbound email shared by two intake processes', () => {
  it('processes every email of a shared backlog once between them, each process taking part', async () => {
    const { workspace } = await makeWorkspace(db.pool, 'Shared', 'help@shared.test');
    // Each thread insert takes 25 ms, so the backlog lasts long enough for both processes to claim from it.
    await db.pool.query(`CREATE FUNCTION test_slow_thread() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.025); RETURN NEW; END $$`);
    await db.pool.query('CREATE TRIGGER test_slow_thread BEFORE INSERT ON threads FOR EACH ROW EXECUTE FUNCTION test_slow_thread()');
    // Stored as receipt stores them, before either process runs: both find the same backlog.
    for (let i = 0; i < EMAILS; i++) {
      const raw = Buffer.from(
        `From: Person ${i} <p${i}@initech.test>\r\nTo: ${workspace.inboundToken}@${INBOUND_DOMAIN}\r\nSubject: Shared ${i}\r\nMessage-ID: <shared-${i}@initech.test>\r\n\r\nHello ${i}.\r\n`,
      );
      await storeReceived(db.pool, { source: 'mime', raw, dedupeKey: `mime:shared-${i}`, messageId: `shared-${i}@initech.test`, tokens: [workspace.inboundToken], notify: true });
    }
    const env = { DATABASE_URL: db.url, DATA_DIR: dataDir, SECRETS_KEY: TEST_SECRETS_KEY.toString('hex'), INBOUND_DOMAIN, LOG_LEVEL: 'debug' };
    const processes: RunningIntake[] = [];
    try {
      processes.push(...(await Promise.all([startIntake(env), startIntake(env)])));
      const waiting = async () => (await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM inbound_emails WHERE status = 'received'`)).rows[0]!.n;
      for (const end = Date.now() + 90_000; (await waiting()) > 0; ) {
        if (Date.now() > end) throw new Error(`timed out: ${await waiting()} waiting\n${processes.map((p) => p.output().slice(-3000)).join('\n')}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      for (const p of processes) p.child.kill('SIGTERM');
      await Promise.all(processes.map((p) => p.exited));
      await db.pool.query('DROP TRIGGER IF EXISTS test_slow_thread ON threads');
    }

    // Exactly once: every email processed in its first attempt, one thread, one entry and one
    // event of each kind per email.
    const { rows } = await db.pool.query(
      `SELECT (SELECT count(*)::int FROM inbound_emails WHERE workspace_id = $1 AND status = 'processed' AND attempts = 1) AS processed,
              (SELECT count(*)::int FROM threads WHERE workspace_id = $1) AS threads,
              (SELECT count(*)::int FROM timeline_entries WHERE workspace_id = $1) AS entries,
              (SELECT count(DISTINCT message_id)::int FROM timeline_entries WHERE workspace_id = $1) AS distinct_entries,
              (SELECT count(*)::int FROM events WHERE workspace_id = $1 AND type = 'thread.email_received') AS received_events,
              (SELECT count(*)::int FROM events WHERE workspace_id = $1 AND type = 'thread.thread_created') AS created_events`,
      [workspace.id],
    );
    expect(rows[0]).toEqual({ processed: EMAILS, threads: EMAILS, entries: EMAILS, distinct_entries: EMAILS, received_events: EMAILS, created_events: EMAILS });
    // Shared: each process logged batches it processed, and together they claimed each email once.
    const claimedBy = processes.map((p) =>
      p
        .output()
        .split('\n')
        .filter((line) => line.includes('"msg":"inbound batch processed"'))
        .reduce((sum, line) => sum + (JSON.parse(line) as { claimed: number }).claimed, 0),
    );
    for (const claimed of claimedBy) expect(claimed, `claimed per process: ${claimedBy.join(', ')}`).toBeGreaterThan(0);
    expect(claimedBy.reduce((a, b) => a + b, 0)).toBe(EMAILS);
  }, 150_000);
});
