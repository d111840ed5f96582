import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addTimelineEntries, addTimelineEntryIds } from '../src/domain/timeline-entries.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { explaining, scansOf } from './support/explain.ts';
import { makeWorkspace } from './support/workspaces.ts';

/**
 * An inbound batch's entries, their threads' touch and their events are one statement, run for
 * every batch. On a young database (thousands of threads since it was made, never analyzed) it
 * must find each thread by primary key: a plan that reads every thread makes each batch slower
 * than the last until autovacuum's first ANALYZE.
 */

const THREADS = 3000;
let db: TestDatabase;
let workspaceId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  workspaceId = (await makeWorkspace(db.pool, 'Plans', 'help@plans-acme.com')).workspace.id;
  await db.pool.query(`INSERT INTO customers (id, workspace_id, email, full_name, origin) VALUES ('c_plans', $1, 'jane@nike.com', 'Jane', 'email')`, [workspaceId]);
  await db.pool.query(
    `INSERT INTO threads (id, workspace_id, customer_id, title, status, channel, origin, updated_at)
     SELECT 'th_' || g, $1, 'c_plans', 'Thread ' || g || repeat(' padding', 20), 'TODO', 'EMAIL', 'email', '2020-01-01' FROM generate_series(1, $2) g`,
    [workspaceId, THREADS],
  );
}, 60_000);
afterAll(async () => {
  await db?.close();
});

const entry = (thread: number, text: string) => ({
  threadId: `th_${thread}`,
  kind: 'inbound_email' as const,
  author: { type: 'customer' as const, customerId: 'c_plans' },
  text,
  html: `<p>${text}</p>`,
  replyText: text,
  messageId: `<m${thread}@nike.com>`,
  references: ['<a@x>', '<b@x>'],
  supportAddress: 'help@plans-acme.com',
});

describe('inserting a batch of entries on a young database', () => {
  it('finds each thread by primary key, touches it by row, and never reads all threads', async () => {
    const { db: tx, plans } = explaining(db.pool);
    const ids = await addTimelineEntryIds({ db: tx, workspaceId, origin: 'email' }, [7, 1500, 2999, 7].map((t, i) => entry(t, `Hello ${i}`)));
    expect(ids).toHaveLength(4);

    // Every read of threads (the UPDATE itself is a ModifyTable node): a probe of the primary key or of a row found by one.
    const scans = scansOf(plans, 'threads').filter((s) => s.node !== 'ModifyTable');
    expect(scans).toEqual(expect.arrayContaining([{ node: 'Index Scan', index: 'threads_pkey' }, { node: 'Tid Scan', index: undefined }]));
    for (const scan of scans) expect(['Index Scan threads_pkey', 'Tid Scan undefined']).toContain(`${scan.node} ${scan.index}`);
    const { rows } = await db.pool.query(`SELECT id, updated_at > '2020-01-01' AS touched FROM threads WHERE id IN ('th_7', 'th_1500', 'th_2999', 'th_8') ORDER BY id`);
    expect(rows).toEqual([
      { id: 'th_1500', touched: true },
      { id: 'th_2999', touched: true },
      { id: 'th_7', touched: true },
      { id: 'th_8', touched: false },
    ]);
  });

  it('an entry’s event carries every field of the entry but its HTML and reply text', async () => {
    const [created] = await addTimelineEntries({ db: db.pool, workspaceId, origin: 'email' }, [entry(42, 'The export fails')]);
    const { rows } = await db.pool.query(`SELECT type, payload FROM events WHERE payload->'entry'->>'id' = $1`, [created!.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0].type).toBe('thread.email_received');
    const { html, replyText, createdAt, ...rest } = created!;
    expect(html).toBe('<p>The export fails</p>');
    expect(replyText).toBe('The export fails');
    const { createdAt: eventCreatedAt, ...eventRest } = rows[0].payload.entry;
    expect(Object.keys(rows[0].payload)).toEqual(['entry']);
    expect(eventRest).toEqual(rest);
    expect(new Date(eventCreatedAt)).toEqual(createdAt);
  });

  it('stores bodies byte for byte whatever they hold, for a batch size that is no power of two', async () => {
    const awkward = ['He said "no" \\ then {left}, NULL', '', 'Ünïcödé — 漢字 😀\r\nline'];
    const created = await addTimelineEntries({ db: db.pool, workspaceId, origin: 'email' }, awkward.map((text, i) => ({ ...entry(100 + i, text), html: i === 1 ? null : `<b>${text}</b>`, replyText: `> ${text}` })));
    expect(created.map((e) => [e.text, e.html, e.replyText])).toEqual(awkward.map((text, i) => [text, i === 1 ? null : `<b>${text}</b>`, `> ${text}`]));
    const { rows } = await db.pool.query(`SELECT text, html, reply_text AS "replyText" FROM timeline_entries WHERE id = ANY($1) ORDER BY id`, [created.map((e) => e.id)]);
    expect(rows).toEqual(created.map((e) => ({ text: e.text, html: e.html, replyText: e.replyText })));
  });

  it('refuses a thread of another workspace without writing anything', async () => {
    const other = (await makeWorkspace(db.pool, 'Other', 'help@plans-other.com')).workspace.id;
    await expect(addTimelineEntryIds({ db: db.pool, workspaceId: other, origin: 'email' }, [entry(9, 'Not yours')])).rejects.toThrow(/not in workspace/);
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM timeline_entries WHERE thread_id = 'th_9'`);
    expect(rows[0].n).toBe(0);
  });
});
