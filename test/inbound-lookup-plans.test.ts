import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findProcessedByMessageId, findProcessedByMessageIds, duplicateKey, listInbound } from '../src/inbound/ledger.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { explaining, scansOf } from './support/explain.ts';
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
