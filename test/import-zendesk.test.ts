import { afterEach, describe, expect, it } from 'vitest';
import { findOrCreateCustomerByEmail } from '../src/domain/customers.ts';
import { getConnection } from '../src/import/connections.ts';
import { getRun, listRecordErrors } from '../src/import/runs.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startFakeProvider, type FakeProvider } from './support/fake-provider/index.ts';
import { canonicalDump, connectZendesk, eventsOut, runImport } from './support/imports.ts';
import { makeWorkspace } from './support/workspaces.ts';

let db: TestDatabase | undefined;
let fake: FakeProvider | undefined;
afterEach(async () => {
  await fake?.close();
  await db?.close();
  fake = undefined;
  db = undefined;
});

async function setUp(options: Parameters<typeof startFakeProvider>[0] = {}, settings: Record<string, unknown> = {}) {
  db = await createTestDatabase();
  fake = await startFakeProvider({ rateLimit: false, ...options });
  const { workspace } = await makeWorkspace(db.pool);
  const connection = await connectZendesk(db.pool, workspace.id, fake.url, settings);
  return { db, fake, workspace, connection };
}

const EXPECTED_THREADS = [
  ['101', 'TODO', 'alice@customer.test', ['printer', 'urgent']],
  ['102', 'DONE', 'bob@customer.test', ['billing', 'refund']],
  ['103', 'TODO', 'Carol Caller', null],
  ['104', 'TODO', 'dave@bigcorp.test', ['enterprise', 'sso']],
  ['105', 'TODO', 'eve.gmail@gmail.com', null],
  ['106', 'DONE', 'alice@customer.test', ['printer']],
  ['108', 'TODO', 'larry@customer.test', ['followup']],
  ['109', 'DONE', 'Frank Walkin', ['walk-in']],
];

const EXPECTED_ENTRIES = [
  ['1010001', '101', 'inbound_message', 'customer', 'alice@customer.test'],
  ['1010002', '101', 'outbound_message', 'user', 'alan@acme-support.test'],
  ['1010003', '101', 'note', 'user', 'grace@acme-support.test'],
  ['1010004', '101', 'inbound_message', 'customer', 'alice@customer.test'],
  ['1020001', '102', 'inbound_message', 'customer', 'bob@customer.test'],
  ['1020002', '102', 'outbound_message', 'user', 'grace@acme-support.test'],
  ['1020003', '102', 'outbound_message', 'system', 'Zendesk'],
  ['1030001', '103', 'inbound_message', 'customer', 'Carol Caller'],
  ['1040001', '104', 'inbound_message', 'customer', 'dave@bigcorp.test'],
  ['1040002', '104', 'outbound_message', 'user', 'alan@acme-support.test'],
  ['1040003', '104', 'inbound_message', 'customer', 'dave@bigcorp.test'],
  ['1050001', '105', 'inbound_message', 'customer', 'eve.gmail@gmail.com'],
  ['1050002', '105', 'note', 'user', 'grace@acme-support.test'],
  ['1060001', '106', 'inbound_message', 'customer', 'alice@customer.test'],
  ['1060002', '106', 'outbound_message', 'user', 'alan@acme-support.test'],
  ['1080001', '108', 'inbound_message', 'customer', 'larry@customer.test'],
  ['1090001', '109', 'outbound_message', 'user', 'alan@acme-support.test'],
  ['1090002', '109', 'note', 'user', 'alan@acme-support.test'],
];

describe('Zendesk import of the fixtures', () => {
  it('creates exactly the expected customers, tenants, threads, labels, messages, notes and attachments', async () => {
    const { db, workspace, connection, fake } = await setUp();
    const { runId, outcome } = await runImport(db.pool, connection.id);
    expect(outcome).toEqual({ status: 'succeeded' });
    const dump = await canonicalDump(db.pool, workspace.id);

    // End users are customers (Zoë's email lower-cased; Larry, missing from the users export, fetched with show_many); agents are not.
    expect(dump.customers.map((c) => [c.email, c.full_name, c.origin, c.created])).toEqual([
      ['alice@customer.test', 'Alice Customer', 'import', '2023-02-01T08:00:00'],
      ['bob@customer.test', 'Bob Buyer', 'import', '2023-02-02T08:00:00'],
      ['dave@bigcorp.test', 'Dave Enterprise', 'import', '2023-02-04T08:00:00'],
      ['eve.gmail@gmail.com', 'Eve Gmail', 'import', '2023-02-05T08:00:00'],
      ['larry@customer.test', 'Larry Late', 'import', '2024-06-01T08:00:00'],
      ['zoe.upper@customer.test', 'Zoë Ünicode', 'import', '2023-02-07T08:00:00'],
      [null, 'Carol Caller', 'import', '2023-02-03T08:00:00'],
      [null, 'Frank Walkin', 'import', '2023-02-06T08:00:00'],
    ]);
    expect(fake.requests.some((r) => r.path.includes('/users/show_many') && r.query.ids!.split(',').includes('360020'))).toBe(true);
    expect(dump.tenants).toEqual([{ external_id: 'zendesk-organization-9001', name: 'BigCorp', members: ['dave@bigcorp.test'] }]);
    // The deleted ticket 107 (and its "spam" tag) is not imported.
    expect(dump.labels.map((l) => l.name)).toEqual(['billing', 'enterprise', 'followup', 'printer', 'refund', 'sso', 'urgent', 'walk-in']);
    expect(dump.threads.map((t) => [t.ticket, t.status, t.customer, t.labels])).toEqual(EXPECTED_THREADS);
    // Source times are kept: the thread was created with the ticket and last moved with its latest comment.
    expect(dump.threads[0]).toMatchObject({ title: 'Help, my printer is on fire!', channel: 'EMAIL', created: '2023-03-01T09:00:00', updated: '2023-03-01T10:30:00' });
    expect(dump.entries.map((e) => [e.comment, e.ticket, e.kind, e.author_type, e.author])).toEqual(EXPECTED_ENTRIES);
    // NUL bytes are stripped, not refused.
    expect(dump.entries.find((e) => e.comment === '1030001')!.text).toBe('Hello I called earlier about my order.');
    expect(dump.attachments.map((a) => [a.comment, a.position, a.file_name, a.status, a.code, a.inline])).toEqual([
      ['1010002', 0, 'photo.png', 'accepted', null, false],
      ['1020001', 0, 'invoice.pdf', 'accepted', null, false],
      ['1020001', 1, 'setup.exe', 'rejected', 'attachment_file_type_not_allowed', false],
      ['1040002', 0, 'settings.png', 'accepted', null, true],
    ]);
    // Credentials went to the Zendesk host only, never to the attachment host it redirects to;
    // the banned .exe was never downloaded.
    expect(fake.attachmentRequests.length).toBe(3);
    expect(fake.attachmentRequests.every((r) => !r.hadAuthorization)).toBe(true);

    const run = (await getRun(db.pool, workspace.id, runId))!;
    expect(run.status).toBe('succeeded');
    expect(run.counts).toEqual({
      organizations: { created: 1, linked: 0, skipped: 0, failed: 0 },
      users: { created: 8, linked: 0, skipped: 0, failed: 0 },
      agents: { created: 3, linked: 0, skipped: 0, failed: 0 },
      tickets: { created: 8, linked: 0, skipped: 1, failed: 0 },
      tags: { created: 8, linked: 0, skipped: 0, failed: 0 },
      comments: { created: 18, linked: 0, skipped: 0, failed: 0 },
      attachments: { created: 3, linked: 0, skipped: 1, failed: 0 },
    });
    expect(run.progress).toMatchObject({ organizations: { done: true }, users: { done: true }, tickets: { done: true } });
    expect((await listRecordErrors(db.pool, workspace.id, runId, 10)).total).toBe(0);
    // Imported history is silent.
    expect(await eventsOut(db.pool)).toEqual({ events: 0, deliveries: 0, auto_responses: 0 });
    const conn = (await getConnection(db.pool, workspace.id, connection.id))!;
    expect(conn.fullRunCompletedAt).not.toBeNull();
    expect(conn.nextRunAt!.getTime()).toBeGreaterThan(Date.now() + 200_000);
  });

  it('re-running creates nothing, keeps local edits and links customers that already existed', async () => {
    const { db, workspace, connection } = await setUp();
    // Bob wrote in by email before the import: he is linked, not changed.
    const bob = await findOrCreateCustomerByEmail({ db: db.pool, workspaceId: workspace.id, origin: 'email' }, { email: 'BOB@customer.test', fullName: 'Bobby (from email)' });
    expect(bob.created).toBe(true);
    const first = await runImport(db.pool, connection.id);
    expect(first.outcome.status).toBe('succeeded');
    const firstRun = (await getRun(db.pool, workspace.id, first.runId))!;
    expect(firstRun.counts.users).toEqual({ created: 7, linked: 1, skipped: 0, failed: 0 });
    const bobNow = await db.pool.query('SELECT full_name, origin FROM customers WHERE id = $1', [bob.customer.id]);
    expect(bobNow.rows[0]).toEqual({ full_name: 'Bobby (from email)', origin: 'email' });
    const bobThread = await db.pool.query(`SELECT count(*)::int AS n FROM threads WHERE customer_id = $1`, [bob.customer.id]);
    expect(bobThread.rows[0].n).toBe(1);

    // Local edits after the import: a renamed customer, a changed status, a label taken off.
    await db.pool.query(`UPDATE customers SET full_name = 'Alice (edited here)' WHERE email = 'alice@customer.test'`);
    await db.pool.query(`UPDATE threads SET status = 'DONE' WHERE title = 'Help, my printer is on fire!'`);
    await db.pool.query(`DELETE FROM thread_labels WHERE label_id = (SELECT id FROM labels WHERE name = 'urgent')`);
    const before = await canonicalDump(db.pool, workspace.id);

    // Re-read everything from the start, as if the cursors were lost: the ledger alone keeps it create-only.
    await db.pool.query('DELETE FROM import_cursors');
    const second = await runImport(db.pool, connection.id);
    expect(second.outcome.status).toBe('succeeded');
    expect(await canonicalDump(db.pool, workspace.id)).toEqual(before);
    const secondRun = (await getRun(db.pool, workspace.id, second.runId))!;
    expect(secondRun.kind).toBe('incremental');
    for (const [stream, c] of Object.entries(secondRun.counts)) {
      expect({ stream, created: c.created, linked: c.linked, failed: c.failed }).toEqual({ stream, created: 0, linked: 0, failed: 0 });
    }
    expect(secondRun.counts.comments!.skipped).toBe(18);
    expect(before.customers.find((c) => c.email === 'alice@customer.test')!.full_name).toBe('Alice (edited here)');
  });

  it('an incremental run creates exactly the new ticket, the new comment on an old ticket and the new tag', async () => {
    const { db, workspace, connection, fake } = await setUp({ minStartTimeAgeSeconds: 60 });
    expect((await runImport(db.pool, connection.id)).outcome.status).toBe('succeeded');
    const before = await canonicalDump(db.pool, workspace.id);
    const attachmentCalls = fake.attachmentRequests.length;

    fake.state.addTicket({ requester_id: 360011, subject: 'A new question', description: 'Is there a discount?', tags: ['sales'] });
    fake.state.addComment(101, { author_id: 360002, body: 'Following up: is the printer OK now?' });
    fake.state.addTag(104, 'vip');
    const second = await runImport(db.pool, connection.id);
    expect(second.outcome.status).toBe('succeeded');
    const after = await canonicalDump(db.pool, workspace.id);

    expect(after.totals).toEqual({ ...before.totals, threads: 9, entries: 20, thread_labels: 11, ledger: before.totals.ledger + 7 });
    expect(after.threads.at(-1)).toMatchObject({ title: 'A new question', status: 'TODO', customer: 'bob@customer.test', labels: ['sales'] });
    const newEntries = after.entries.filter((e) => !before.entries.some((b) => b.comment === e.comment));
    const newTicket = after.threads.at(-1)!.ticket;
    expect(newEntries.map((e) => [e.ticket, e.kind, e.author, e.text]).sort()).toEqual([
      ['101', 'outbound_message', 'alan@acme-support.test', 'Following up: is the printer OK now?'],
      [newTicket, 'inbound_message', 'bob@customer.test', 'Is there a discount?'],
    ]);
    expect(after.threads.find((t) => t.ticket === '104')!.labels).toEqual(['enterprise', 'sso', 'vip']);
    // Everything else is as it was.
    expect(after.customers).toEqual(before.customers);
    expect(after.attachments).toEqual(before.attachments);
    // Old comments' attachments were not downloaded again.
    expect(fake.attachmentRequests.length).toBe(attachmentCalls);
    const run = (await getRun(db.pool, workspace.id, second.runId))!;
    expect(run.counts.tickets).toMatchObject({ created: 1 });
    expect(run.counts.comments).toMatchObject({ created: 2 });
    expect(await eventsOut(db.pool)).toEqual({ events: 0, deliveries: 0, auto_responses: 0 });
  });

  it('every ticket becomes a thread: one an agent opened, and one whose requester Zendesk deleted, each with all its comments', async () => {
    const { db, workspace, connection, fake } = await setUp();
    // An agent as requester, with a public and a private comment after the first one.
    const byAgent = fake.state.addTicket({ requester_id: 360002, subject: 'Opened for a caller' });
    fake.state.addComment(byAgent.id, { author_id: 360002, body: 'Called back, no answer', public: false });
    fake.state.addComment(byAgent.id, { author_id: 360002, body: 'Left a voicemail', public: true });
    // A requester Zendesk no longer has, and a comment by another deleted user.
    const orphan = fake.state.addTicket({ requester_id: 4242, subject: 'From someone Zendesk no longer has' });
    fake.state.addComment(orphan.id, { author_id: 5353, body: 'Written by a deleted user' });
    const { runId, outcome } = await runImport(db.pool, connection.id);
    expect(outcome.status).toBe('succeeded');
    expect((await listRecordErrors(db.pool, workspace.id, runId, 10)).total).toBe(0);
    const dump = await canonicalDump(db.pool, workspace.id);
    expect(dump.totals.threads).toBe(10);
    expect(dump.threads.find((t) => t.ticket === String(byAgent.id))).toMatchObject({ title: 'Opened for a caller', customer: 'alan@acme-support.test' });
    expect(dump.threads.find((t) => t.ticket === String(orphan.id))).toMatchObject({ title: 'From someone Zendesk no longer has', customer: 'Zendesk user 4242' });
    // The agent's customer record carries the agent's email and name; the deleted user's has no email.
    expect(dump.customers).toContainEqual(expect.objectContaining({ email: 'alan@acme-support.test', full_name: 'Alan Agent', origin: 'import' }));
    expect(dump.customers).toContainEqual(expect.objectContaining({ email: null, full_name: 'Zendesk user 4242', origin: 'import' }));
    expect(dump.entries.filter((e) => e.ticket === String(byAgent.id)).map((e) => [e.kind, e.author_type, e.author, e.text])).toEqual([
      ['outbound_message', 'user', 'alan@acme-support.test', 'Opened for a caller'],
      ['note', 'user', 'alan@acme-support.test', 'Called back, no answer'],
      ['outbound_message', 'user', 'alan@acme-support.test', 'Left a voicemail'],
    ]);
    // The deleted requester's own comment is the thread's customer's; one by another person Zendesk
    // no longer knows is kept, under a name that says so.
    expect(dump.entries.filter((e) => e.ticket === String(orphan.id)).map((e) => [e.author_type, e.author, e.text])).toEqual([
      ['customer', 'Zendesk user 4242', 'From someone Zendesk no longer has'],
      ['system', 'Zendesk user 5353', 'Written by a deleted user'],
    ]);
    const { rows: ledger } = await db.pool.query(`SELECT source_type, source_id, entity_type FROM import_ledger WHERE workspace_id = $1 AND source_id IN ('360002', '4242') ORDER BY source_type, source_id`, [workspace.id]);
    expect(ledger).toEqual([
      { source_type: 'agent_customer', source_id: '360002', entity_type: 'customer' },
      { source_type: 'person', source_id: '360002', entity_type: 'agent' },
      { source_type: 'person', source_id: '4242', entity_type: 'customer' },
    ]);
    const run = (await getRun(db.pool, workspace.id, runId))!;
    expect(run.counts.tickets).toMatchObject({ created: 10, failed: 0 });
    expect(run.counts.comments).toMatchObject({ failed: 0 });

    // A second run creates nothing new for them.
    const again = await runImport(db.pool, connection.id);
    expect(again.outcome.status).toBe('succeeded');
    expect(await canonicalDump(db.pool, workspace.id)).toEqual(dump);
  });

  it('a record that cannot be mapped at all becomes a record error with an excerpt, and the run goes on', async () => {
    const { db, workspace, connection, fake } = await setUp();
    // A status Zendesk does not document; emoji where the excerpt is cut and a lone surrogate, which jsonb refuses.
    fake.state.addTicket({ requester_id: 360010, subject: `${'😀'.repeat(300)}\ud83d`, status: 'archived' as never });
    const { runId, outcome } = await runImport(db.pool, connection.id);
    expect(outcome.status).toBe('succeeded');
    const errors = await listRecordErrors(db.pool, workspace.id, runId, 10);
    expect(errors.errors.map((e) => [e.stream, e.recordType, e.reason])).toEqual([['tickets', 'thread', expect.stringMatching(/^unreadable ticket \(status\): /)]]);
    expect(errors.errors[0]!.excerpt!.isWellFormed()).toBe(true);
    expect(errors.errors[0]!.excerpt).toContain('😀😀');
    const dump = await canonicalDump(db.pool, workspace.id);
    expect(dump.totals.threads).toBe(8);
    const run = (await getRun(db.pool, workspace.id, runId))!;
    expect(run.counts.tickets).toMatchObject({ created: 8, failed: 1 });
  });
});
