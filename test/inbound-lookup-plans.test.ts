import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLAIM_DUE, claimDueInbound, LARGE_EMAIL_BYTES, findProcessedByMessageId, findProcessedByMessageIds, duplicateKey, listInbound } from '../src/inbound/ledger.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { explaining, scansOf, type PlanNode } from './support/explain.ts';
import { makeWorkspace } from './support/workspaces.ts';

/**
 * The duplicate lookups of inbound processing on a young ledger: thousands of emails that arrived
 * since the database was made (cloned from the template, never analyzed). Every processed batch
 * runs them, so a plan that reads the whole ledger makes each batch slower than the last.
 */

const EMAILS = 3000;
let db: TestDatabase;
let workspaceId: string;
let otherWorkspaceId: string;
const BACKLOG = 3000;

beforeAll(async () => {
  db = await createTestDatabase();
  workspaceId = (await makeWorkspace(db.pool, 'Plans', 'help@plans-acme.com')).workspace.id;
  otherWorkspaceId = (await makeWorkspace(db.pool, 'Other', 'help@plans-other.com')).workspace.id;
  // Processed emails <m1>..<mN>, each 9 KB of raw; <m7> came twice (ie_7 and the later ie_7b), <m8> is still waiting.
  await db.pool.query(
    `INSERT INTO inbound_emails (id, workspace_id, source, dedupe_key, message_id, raw, raw_size, status)
     SELECT 'ie_' || g, $1, 'postmark', 'd' || g, '<m' || g || '@x>', convert_to(repeat(md5(g::text), 300), 'UTF8'), 9600, CASE WHEN g = 8 THEN 'received' ELSE 'processed' END
       FROM generate_series(1, $2) g`,
    [workspaceId, EMAILS],
  );
  await db.pool.query(`INSERT INTO inbound_emails (id, workspace_id, source, dedupe_key, message_id, raw, raw_size, status) VALUES ('ie_7b', $1, 'postmark', 'd7b', '<m7@x>', '\\x00', 1, 'processed')`, [workspaceId]);
  // Mail no workspace answered, and another workspace's.
  await db.pool.query(
    `INSERT INTO inbound_emails (id, workspace_id, source, dedupe_key, raw, raw_size, status)
     VALUES ('iu_1', NULL, 'postmark', 'u1', '\\x00', 1, 'unroutable'), ('iu_2', NULL, 'postmark', 'u2', '\\x00', 1, 'rejected'), ('io_1', $1, 'postmark', 'o1', '\\x00', 1, 'processed')`,
    [otherWorkspaceId],
  );
  // A backlog: due emails of a third workspace, received in reverse id order (so id order is not due order), one of them large.
  const backlogWorkspaceId = (await makeWorkspace(db.pool, 'Backlog', 'help@plans-backlog.com')).workspace.id;
  await db.pool.query(
    `INSERT INTO inbound_emails (id, workspace_id, source, dedupe_key, raw, raw_size, status, next_attempt_at)
     SELECT 'ib_' || lpad(g::text, 5, '0'), $1, 'postmark', 'b' || g, convert_to('{}' || repeat(' ', 400), 'UTF8'), CASE WHEN g = 2990 THEN 2000000 ELSE 402 END, 'received',
            now() - interval '1 hour' + make_interval(secs => $2 - g)
       FROM generate_series(1, $2) g`,
    [backlogWorkspaceId, BACKLOG],
  );
}, 60_000);
afterAll(async () => {
  await db?.close();
});

describe('duplicate lookups on a young inbound ledger', () => {
  it('a batch finds each Message-ID through the (workspace, Message-ID) index, never reading every processed email', async () => {
    const { db: tx, plans } = explaining(db.pool);
    const keys = ['<m1@x>', '<m7@x>', '<m8@x>', '<none@x>', '<m1@x>'].map((messageId) => ({ workspaceId, messageId }));
    const found = await findProcessedByMessageIds(tx, [...keys, { workspaceId: otherWorkspaceId, messageId: '<m2@x>' }]);

    // The earliest processed email per key; one still waiting, one never seen and another workspace's key find nothing.
    expect(Object.fromEntries(found)).toEqual({ [duplicateKey(workspaceId, '<m1@x>')]: 'ie_1', [duplicateKey(workspaceId, '<m7@x>')]: 'ie_7' });
    expect(scansOf(plans, 'inbound_emails')).toEqual([{ node: 'Index Scan', index: 'inbound_emails_message_id' }]);
  });

  it('one email’s lookup leaves the email itself out and finds the earliest other', async () => {
    const { db: tx, plans } = explaining(db.pool);
    expect(await findProcessedByMessageId(tx, workspaceId, '<m7@x>', 'ie_7')).toBe('ie_7b');
    expect(await findProcessedByMessageId(tx, workspaceId, '<m7@x>', 'ie_7b')).toBe('ie_7');
    expect(await findProcessedByMessageId(tx, workspaceId, '<m3@x>', 'ie_3')).toBeNull();
    expect(await findProcessedByMessageId(tx, workspaceId, '<m8@x>', 'ie_x')).toBeNull();
    for (const scan of scansOf(plans, 'inbound_emails')) expect(scan).toEqual({ node: 'Index Scan', index: 'inbound_emails_message_id' });
  });
});

describe('listing a young inbound ledger', () => {
  const ids = async (filter: Parameters<typeof listInbound>[1]) => {
    const { db: tx, plans } = explaining(db.pool);
    const rows = await listInbound(tx, filter);
    return { ids: rows.map((r) => r.id), scans: scansOf(plans, 'inbound_emails') };
  };

  it('pages one workspace in id order, every status merged, reading index ranges and never the whole ledger', async () => {
    const { rows: all } = await db.pool.query<{ id: string }>(`SELECT id FROM inbound_emails WHERE workspace_id = $1 ORDER BY id`, [workspaceId]);
    const first = await ids({ workspaceId, limit: 5 });
    expect(first.ids).toEqual(all.slice(0, 5).map((r) => r.id));
    const next = await ids({ workspaceId, limit: 5, after: first.ids[4] });
    expect(next.ids).toEqual(all.slice(5, 10).map((r) => r.id));
    const newest = await ids({ workspaceId, limit: 3, order: 'desc' });
    expect(newest.ids).toEqual(all.slice(-3).reverse().map((r) => r.id));
    const older = await ids({ workspaceId, limit: 3, order: 'desc', after: newest.ids[2] });
    expect(older.ids).toEqual(all.slice(-6, -3).reverse().map((r) => r.id));
    for (const scan of [...first.scans, ...next.scans, ...newest.scans, ...older.scans]) {
      expect(scan.node).toMatch(/^Index (Only )?Scan( Backward)?$/);
      expect(scan.index).toBe('inbound_emails_workspace_status');
    }
  });

  it('filters by status, and lists mail no workspace answered apart from every workspace', async () => {
    expect((await ids({ workspaceId, status: 'received', limit: 10 })).ids).toEqual(['ie_8']);
    expect((await ids({ workspaceId: otherWorkspaceId, limit: 10 })).ids).toEqual(['io_1']);
    const unanswered = await ids({ workspaceId: null, limit: 10 });
    expect(unanswered.ids).toEqual(['iu_1', 'iu_2']);
    expect((await ids({ workspaceId: null, status: 'rejected', limit: 10 })).ids).toEqual(['iu_2']);
    for (const scan of unanswered.scans) expect(scan.index).toBe('inbound_emails_workspace_status');
  });
});

describe('claiming from a young inbound ledger with a backlog', () => {
  it('a claim reads a handful of pages per email, never the whole backlog, with any plan the statement settles on', async () => {
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      const { rows: size } = await client.query(`SELECT pg_relation_size('inbound_emails') / current_setting('block_size')::int AS pages`);
      expect(Number(size[0].pages)).toBeGreaterThan(150);
      for (const mode of ['force_custom_plan', 'force_generic_plan']) {
        await client.query(`SET LOCAL plan_cache_mode = ${mode}`);
        for (const [lane, claim, claimed, maxBlocks] of [
          ['small', 16, 16, 100],
          ['small', 64, 64, 400],
          ['large', 16, 1, 100],
        ] as const) {
          // Twice, in savepoints: the first run of a session plans the function's query (catalog reads count as its buffers).
          for (const run of [1, 2]) {
            await client.query('SAVEPOINT claim');
            const { rows } = await client.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${CLAIM_DUE.text}`, [claim, Number.MAX_SAFE_INTEGER, lane]);
            await client.query('ROLLBACK TO SAVEPOINT claim');
            const plan = rows[0]['QUERY PLAN'][0].Plan as PlanNode & { 'Actual Rows': number; 'Shared Hit Blocks': number; 'Shared Read Blocks': number };
            expect(plan['Actual Rows']).toBe(claimed);
            const blocks = plan['Shared Hit Blocks'] + plan['Shared Read Blocks'];
            if (run === 2) expect(blocks, `${mode}, ${lane} lane, claim of ${claim}`).toBeLessThan(maxBlocks);
          }
        }
      }
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  it('splits the lanes where receipt does (LARGE_EMAIL_BYTES, written out in the claim function and the due index)', async () => {
    const { rows } = await db.pool.query(`SELECT pg_get_functiondef('intake_claim_due_inbound(integer, bigint, text)'::regprocedure) AS f, pg_get_indexdef('inbound_emails_due'::regclass) AS i`);
    expect(rows[0].f).toContain(`raw_size > ${LARGE_EMAIL_BYTES}`);
    expect(rows[0].i).toContain(`raw_size > ${LARGE_EMAIL_BYTES}`);
  });

  it('claims the longest-due small emails first, and the large one only in its own lane', async () => {
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      const small = await claimDueInbound(client, { rows: 4 }, 'small');
      // Due order is reverse id order here; ie_8 of the first workspace fell due at its insert, after the backlog.
      expect(small.map((c) => c.record.id)).toEqual(['ib_03000', 'ib_02999', 'ib_02998', 'ib_02997']);
      expect(small[0]!.raw.toString().trim()).toBe('{}');
      const large = await claimDueInbound(client, { rows: 4 }, 'large');
      expect(large.map((c) => c.record.id)).toEqual(['ib_02990']);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
  });

  it('stops a claim once its raw bytes reach the budget, leaving the emails past it unlocked for the next claim', async () => {
    const [a, b, c] = [await db.pool.connect(), await db.pool.connect(), await db.pool.connect()];
    try {
      for (const client of [a, b, c]) await client.query('BEGIN');
      // 402 bytes each: the fifth reaches a budget of five, the sixth is not taken.
      const first = await claimDueInbound(a, { rows: 64, bytes: 402 * 5 });
      expect(first.map((e) => e.record.id)).toEqual(['ib_03000', 'ib_02999', 'ib_02998', 'ib_02997', 'ib_02996']);
      // Another transaction goes on where it stopped: nothing past the budget was locked.
      expect((await claimDueInbound(b, { rows: 64, bytes: 402 * 2 + 1 })).map((e) => e.record.id)).toEqual(['ib_02995', 'ib_02994', 'ib_02993']);
      // A budget smaller than one email still claims that one.
      expect((await claimDueInbound(c, { rows: 64, bytes: 1 })).map((e) => e.record.id)).toEqual(['ib_02992']);
    } finally {
      for (const client of [a, b, c]) {
        await client.query('ROLLBACK');
        client.release();
      }
    }
  });
});
