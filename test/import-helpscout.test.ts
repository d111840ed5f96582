import { afterEach, describe, expect, it } from 'vitest';
import { findOrCreateCustomerByEmail } from '../src/domain/customers.ts';
import { getConnection, openConnection } from '../src/import/connections.ts';
import { getRun, listRecordErrors } from '../src/import/runs.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { generateHelpScout, startFakeHelpScout, type FakeHelpScout } from './support/fake-provider/index.ts';
import { connectHelpScout } from './support/helpscout-imports.ts';
import { canonicalDump, eventsOut, runImport } from './support/imports.ts';
import { makeWorkspace, TEST_SECRETS_KEY } from './support/workspaces.ts';

/** The Help Scout importer over the real HTTP client, against the fake Help Scout. */

let db: TestDatabase | undefined;
let fake: FakeHelpScout | undefined;
afterEach(async () => {
  await fake?.close();
  await db?.close();
  fake = undefined;
  db = undefined;
});

async function setUp(options: Parameters<typeof startFakeHelpScout>[0] = {}, settings: Record<string, unknown> = {}, credentials: Record<string, unknown> = {}) {
  db = await createTestDatabase();
  fake = await startFakeHelpScout({ rateLimit: false, ...options });
  const { workspace } = await makeWorkspace(db.pool);
  const connection = await connectHelpScout(db.pool, workspace.id, fake.url, settings, credentials);
  return { db, fake, workspace, connection };
}

const EXPECTED_CUSTOMERS = [
  ['alice@customer.test', 'Alice Customer'],
  ['bob@customer.test', 'Bob Buyer'],
  ['dave@bigcorp.test', 'Dave Enterprise'],
  ['eve.gmail@gmail.com', 'Eve Gmail'],
  // No name in Help Scout: the email's local part, as for any customer without one.
  ['frank@walkin.test', 'frank'],
  ['larry@customer.test', 'Larry Late'],
  ['zoe.upper@customer.test', 'Zoë Ünicode'],
  [null, 'Carol Caller'],
];

// [conversation, status, channel, customer, labels]
const EXPECTED_THREADS = [
  ['1001', 'TODO', 'EMAIL', 'alice@customer.test', ['printer', 'urgent']],
  ['1002', 'DONE', 'EMAIL', 'bob@customer.test', ['billing', 'refund']],
  ['1003', 'SNOOZED', 'API', 'Carol Caller', null],
  ['1004', 'DONE', 'EMAIL', 'dave@bigcorp.test', ['spam']],
  ['1005', 'TODO', 'CHAT', 'eve.gmail@gmail.com', ['plans']],
  ['1009', 'TODO', 'EMAIL', 'bob@customer.test', ['billing']],
  ['1010', 'DONE', 'EMAIL', 'larry@customer.test', null],
  ['1011', 'TODO', 'EMAIL', 'alice@customer.test', ['files']],
];

// [thread, conversation, kind, author type, author] for every conversation but the long 1010
const EXPECTED_ENTRIES = [
  ['100101', '1001', 'inbound_message', 'customer', 'alice@customer.test'],
  ['100103', '1001', 'outbound_message', 'user', 'alan@acme-support.test'],
  ['100104', '1001', 'note', 'user', 'grace@acme-support.test'],
  ['100105', '1001', 'inbound_message', 'customer', 'alice@customer.test'],
  ['100201', '1002', 'inbound_message', 'customer', 'bob@customer.test'],
  ['100202', '1002', 'outbound_message', 'user', 'grace@acme-support.test'],
  ['100301', '1003', 'outbound_message', 'user', 'alan@acme-support.test'],
  ['100302', '1003', 'inbound_message', 'customer', 'Carol Caller'],
  ['100401', '1004', 'inbound_message', 'customer', 'dave@bigcorp.test'],
  ['100501', '1005', 'inbound_message', 'customer', 'eve.gmail@gmail.com'],
  ['100502', '1005', 'outbound_message', 'user', 'grace@acme-support.test'],
  ['100503', '1005', 'inbound_message', 'customer', 'eve.gmail@gmail.com'],
  ['100901', '1009', 'inbound_message', 'customer', 'bob@customer.test'],
  ['100902', '1009', 'outbound_message', 'user', 'alan@acme-support.test'],
  ['100903', '1009', 'note', 'user', 'grace@acme-support.test'],
  ['100905', '1009', 'outbound_message', 'user', 'grace@acme-support.test'],
  ['101101', '1011', 'inbound_message', 'customer', 'alice@customer.test'],
];

const withoutAgents = (counts: Record<string, unknown>) => {
  // Agents first met on a page fetched ahead of the previous page's commit are counted as skipped then: not asserted.
  const { agents, ...rest } = counts;
  return rest;
};

describe('Help Scout import of the fixtures', () => {
  it('creates exactly the expected customers, threads by status, labels, messages by direction, notes and attachments; skips line items, drafts and deleted; silent', async () => {
    const { db, workspace, connection, fake } = await setUp();
    const { runId, outcome } = await runImport(db.pool, connection.id);
    expect(outcome).toEqual({ status: 'succeeded' });
    const dump = await canonicalDump(db.pool, workspace.id);

    // Every customer, also those without a conversation (Zoë, Frank); Bob once although he wrote to two mailboxes;
    // Larry, whom the customers list did not have, read on his own; agents are not customers.
    expect(dump.customers.map((c) => [c.email, c.full_name])).toEqual(EXPECTED_CUSTOMERS);
    expect(dump.customers.every((c) => c.origin === 'import')).toBe(true);
    expect(fake.requests.filter((r) => r.path.startsWith('/v2/customers/')).map((r) => r.path)).toEqual(['/v2/customers/308']);
    // Bob's two other addresses are kept; Eve's email entry without a value and Carol's address list are ignored.
    const { rows: bob } = await db.pool.query(`SELECT details FROM import_ledger WHERE workspace_id = $1 AND source_type = 'person' AND source_id = '302'`, [workspace.id]);
    expect(bob[0].details).toEqual({ otherEmails: ['bob.work@bigcorp.test', 'bob@home.test'] });

    expect(dump.threads.map((t) => [t.ticket, t.status, t.channel, t.customer, t.labels])).toEqual(EXPECTED_THREADS);
    expect(dump.threads[0]).toMatchObject({ title: 'Help, my printer is on fire!', created: '2023-03-01T09:00:00', updated: '2023-03-01T10:30:00' });
    expect(dump.labels.map((l) => l.name)).toEqual(['billing', 'files', 'plans', 'printer', 'refund', 'spam', 'urgent']);

    expect(dump.entries.filter((e) => e.ticket !== '1010').map((e) => [e.comment, e.ticket, e.kind, e.author_type, e.author])).toEqual(EXPECTED_ENTRIES);
    // HTML bodies keep their HTML and get a text; the chat's embedded bodies are truncated, its threads list is not.
    expect(dump.entries.find((e) => e.comment === '100101')!.text).toBe('My printer is on fire.\n\nPlease help!');
    expect(dump.entries.find((e) => e.comment === '100501')!.text).toBe(
      'Hi, I would like to change my plan to the yearly one, and also ask whether the discount applies to the add-ons I bought last month.',
    );
    // The long conversation holds more threads than the embed: all 30, from the threads list (two pages).
    const long = dump.entries.filter((e) => e.ticket === '1010');
    expect(long.length).toBe(30);
    expect(long.filter((e) => e.kind === 'inbound_message' && e.author === 'larry@customer.test').length).toBe(15);
    expect(long.filter((e) => e.kind === 'outbound_message' && e.author === 'alan@acme-support.test').length).toBe(15);
    expect(fake.requests.filter((r) => /\/threads$/.test(r.path)).map((r) => `${r.path}?page=${r.query.page}`).sort()).toEqual([
      '/v2/conversations/1005/threads?page=1',
      '/v2/conversations/1010/threads?page=1',
      '/v2/conversations/1010/threads?page=2',
    ]);
    // Every conversations list asked for all statuses, one mailbox at a time, threads embedded.
    const lists = fake.requests.filter((r) => r.path === '/v2/conversations');
    expect(lists.map((r) => [r.query.mailbox, r.query.status, r.query.embed])).toEqual([
      ['101', 'all', 'threads'],
      ['102', 'all', 'threads'],
    ]);

    expect(dump.attachments.map((a) => [a.comment, a.position, a.file_name, a.status, a.code])).toEqual([
      ['100101', 0, 'photo.png', 'accepted', null],
      ['100201', 0, 'invoice.pdf', 'accepted', null],
      ['100201', 1, 'setup.exe', 'rejected', 'attachment_file_type_not_allowed'],
      // Named .pdf, but its bytes are a Windows executable.
      ['100201', 2, 'report.pdf', 'rejected', 'attachment_file_type_not_allowed'],
      ['101101', 0, 'virus.docx', 'rejected', 'attachment_not_fetched'],
      ['101101', 1, 'notes.txt', 'accepted', null],
      ['101101', 2, 'huge.zip', 'rejected', 'attachment_file_size_too_large'],
    ]);
    // The banned and the too large files were never downloaded.
    const downloads = fake.requests.filter((r) => r.path.endsWith('/data')).map((r) => r.path.split('/')[5]).sort();
    expect(downloads).toEqual(['5001', '5002', '5004', '5005', '5006']);

    const run = (await getRun(db.pool, workspace.id, runId))!;
    expect(withoutAgents(run.counts)).toEqual({
      customers: { created: 8, linked: 0, skipped: 0, failed: 0 },
      // 1006 (a draft) and 1007 (deleted) skipped; 1008 has no primary customer.
      conversations: { created: 8, linked: 0, skipped: 2, failed: 1 },
      tags: { created: 7, linked: 0, skipped: 0, failed: 0 },
      // Two line items and one unsent draft reply skipped.
      threads: { created: 47, linked: 0, skipped: 3, failed: 0 },
      attachments: { created: 3, linked: 0, skipped: 4, failed: 1 },
    });
    expect(run.counts.agents!.created).toBe(2);
    const errors = await listRecordErrors(db.pool, workspace.id, runId, 10);
    expect(errors.errors.map((e) => [e.stream, e.recordType, e.sourceId, e.reason])).toEqual([
      ['conversations', 'thread', '1008', 'the conversation has no primary customer'],
      ['conversations', 'attachment', '5005', expect.stringMatching(/^could not fetch virus\.docx: GET \/v2\/conversations\/1011\/attachments\/5005\/data answered 403: Infected Attachment \(logRef [0-9a-f-]+\)$/)],
    ]);
    expect(errors.errors[0]!.excerpt).toContain('"subject":"Orphaned conversation"');
    expect(await eventsOut(db.pool)).toEqual({ events: 0, deliveries: 0, auto_responses: 0 });

    // One token for the whole run, kept sealed with the app's credentials for the next one.
    expect(fake.state.tokenRequests).toBe(1);
    const stored = (await openConnection(db.pool, TEST_SECRETS_KEY, connection.id))!.credentials as Record<string, string>;
    expect(stored).toMatchObject({ appId: 'hs-app-id', appSecret: 'hs-app-secret', accessToken: expect.stringMatching(/^hs-token-/) });
    expect(Date.parse(stored.accessTokenExpiresAt!)).toBeGreaterThan(Date.now() + 170_000_000);
  });

  it('re-running creates nothing, keeps local edits and links a customer who already wrote in by email', async () => {
    const { db, workspace, connection, fake } = await setUp();
    const bob = await findOrCreateCustomerByEmail({ db: db.pool, workspaceId: workspace.id, origin: 'email' }, { email: 'BOB@customer.test', fullName: 'Bobby (from email)' });
    // Bob's own arrival by email fired its event; nothing the import does adds one.
    const silent = await eventsOut(db.pool);
    const first = await runImport(db.pool, connection.id);
    expect(first.outcome.status).toBe('succeeded');
    expect((await getRun(db.pool, workspace.id, first.runId))!.counts.customers).toEqual({ created: 7, linked: 1, skipped: 0, failed: 0 });
    expect((await db.pool.query('SELECT full_name, origin FROM customers WHERE id = $1', [bob.customer.id])).rows[0]).toEqual({ full_name: 'Bobby (from email)', origin: 'email' });
    expect((await db.pool.query('SELECT count(*)::int AS n FROM threads WHERE customer_id = $1', [bob.customer.id])).rows[0].n).toBe(2);

    await db.pool.query(`UPDATE customers SET full_name = 'Alice (edited here)' WHERE email = 'alice@customer.test'`);
    await db.pool.query(`UPDATE threads SET status = 'DONE' WHERE title = 'Help, my printer is on fire!'`);
    await db.pool.query(`DELETE FROM thread_labels WHERE label_id = (SELECT id FROM labels WHERE name = 'urgent')`);
    const before = await canonicalDump(db.pool, workspace.id);
    const tokenCalls = fake.state.tokenRequests;

    // Everything read again from the start, as if the cursors were lost: the ledger alone keeps it create-only.
    await db.pool.query('DELETE FROM import_cursors');
    const second = await runImport(db.pool, connection.id);
    expect(second.outcome.status).toBe('succeeded');
    expect(await canonicalDump(db.pool, workspace.id)).toEqual(before);
    const counts = (await getRun(db.pool, workspace.id, second.runId))!.counts;
    for (const [stream, c] of Object.entries(counts)) expect({ stream, created: c.created, linked: c.linked }).toEqual({ stream, created: 0, linked: 0 });
    expect(counts.threads!.skipped).toBe(47 + 3);
    // The sealed token was still good: no new one.
    expect(fake.state.tokenRequests).toBe(tokenCalls);
    expect(await eventsOut(db.pool)).toEqual(silent);
  });

  it('an incremental run creates exactly the new customer, the new conversation and the new thread on an old one', async () => {
    const { db, workspace, connection, fake } = await setUp();
    expect((await runImport(db.pool, connection.id)).outcome.status).toBe('succeeded');
    const before = await canonicalDump(db.pool, workspace.id);
    const downloads = fake.requests.filter((r) => r.path.endsWith('/data')).length;

    const newcomer = fake.state.addCustomer({ firstName: 'Nina', lastName: 'New', emails: ['nina@new.test'] });
    const conversation = fake.state.addConversation({ mailboxId: 102, subject: 'A new question', customer: newcomer, body: 'Is there a discount?', tags: ['sales'] });
    const reply = fake.state.addThread(1001, { type: 'message', createdBy: { id: 9001, type: 'user', first: 'Alan', last: 'Agent', email: 'alan@acme-support.test' }, body: '<p>Following up: is the printer OK now?</p>' });
    const marker = fake.requests.length;
    const second = await runImport(db.pool, connection.id);
    expect(second.outcome.status).toBe('succeeded');
    const after = await canonicalDump(db.pool, workspace.id);

    expect(after.totals).toEqual({ ...before.totals, customers: 9, threads: 9, entries: 49, thread_labels: 9, ledger: before.totals.ledger + 6 });
    expect(after.customers.find((c) => c.email === 'nina@new.test')).toMatchObject({ full_name: 'Nina New' });
    expect(after.threads.find((t) => t.ticket === String(conversation.id))).toMatchObject({ title: 'A new question', status: 'TODO', customer: 'nina@new.test', labels: ['sales'] });
    const added = after.entries.filter((e) => !before.entries.some((b) => b.comment === e.comment));
    expect(added.map((e) => [e.comment, e.ticket, e.kind, e.author, e.text])).toEqual([
      [String(reply.id), '1001', 'outbound_message', 'alan@acme-support.test', 'Following up: is the printer OK now?'],
      [String(conversation._embedded.threads[0]!.id), String(conversation.id), 'inbound_message', 'nina@new.test', 'Is there a discount?'],
    ].sort((a, b) => Number(a[0]) - Number(b[0])));
    expect(after.attachments).toEqual(before.attachments);
    // The old threads' files were not fetched again; the lists asked only for what changed.
    expect(fake.requests.filter((r) => r.path.endsWith('/data')).length).toBe(downloads);
    const lists = fake.requests.slice(marker).filter((r) => r.path === '/v2/conversations' || r.path === '/v2/customers');
    expect(lists.length).toBeGreaterThan(0);
    expect(lists.every((r) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(r.query.modifiedSince ?? ''))).toBe(true);
    const run = (await getRun(db.pool, workspace.id, second.runId))!;
    expect(run.kind).toBe('incremental');
    expect(run.counts.customers).toMatchObject({ created: 1, linked: 0 });
    expect(run.counts.conversations).toMatchObject({ created: 1, linked: 0, failed: 0 });
    expect(run.counts.threads).toMatchObject({ created: 2, failed: 0 });
    expect(await eventsOut(db.pool)).toEqual({ events: 0, deliveries: 0, auto_responses: 0 });
  });

  it('a connection naming mailboxes imports only theirs; a mailbox the account does not have fails the run and says so', async () => {
    const { db, workspace, connection, fake } = await setUp({}, { mailboxIds: [102] });
    expect((await runImport(db.pool, connection.id)).outcome.status).toBe('succeeded');
    const dump = await canonicalDump(db.pool, workspace.id);
    expect(dump.threads.map((t) => t.ticket)).toEqual(['1004', '1005', '1009']);
    expect(fake.requests.filter((r) => r.path === '/v2/conversations').map((r) => r.query.mailbox)).toEqual(['102']);

    const other = await makeWorkspace(db.pool, 'Other', 'help@other.test');
    const wrong = await connectHelpScout(db.pool, other.workspace.id, fake.url, { mailboxIds: [102, 555] });
    const { outcome } = await runImport(db.pool, wrong.id);
    expect(outcome).toEqual({ status: 'failed', error: expect.stringContaining('the connection names mailboxes this Help Scout account does not have: 555 (it has 101, 102)') });
  });

  it('a mailbox without conversations (no `_embedded` at all) ends its walk; the next mailbox is read', async () => {
    const { db, workspace, connection, fake } = await setUp({ data: generateHelpScout({ customers: 4, conversations: 2, threadsPerConversation: 2, mailboxes: 3, chatEvery: 0 }) });
    expect((await runImport(db.pool, connection.id)).outcome.status).toBe('succeeded');
    expect(fake.requests.filter((r) => r.path === '/v2/conversations').map((r) => [r.query.mailbox, r.status])).toEqual([
      ['900', 200],
      ['901', 200],
      ['902', 200],
    ]);
    expect((await canonicalDump(db.pool, workspace.id)).totals).toMatchObject({ customers: 4, threads: 2, entries: 4 });
  });

  it("a 400 on one conversation's threads list is that conversation's record error; the run goes on", async () => {
    const { db, workspace, connection, fake } = await setUp();
    fake.state.brokenThreadLists.add(1005);
    const { runId, outcome } = await runImport(db.pool, connection.id);
    expect(outcome.status).toBe('succeeded');
    const errors = await listRecordErrors(db.pool, workspace.id, runId, 10);
    expect(errors.errors.find((e) => e.sourceId === '1005')).toMatchObject({
      recordType: 'thread',
      reason: expect.stringMatching(/^its threads could not be read: GET \/v2\/conversations\/1005\/threads answered 400: Bad request; conversationId: Invalid identifier \(rejected: 1005\) \(logRef [0-9a-f-]+\)$/),
    });
    expect((await canonicalDump(db.pool, workspace.id)).threads.map((t) => t.ticket)).toEqual(EXPECTED_THREADS.map((t) => t[0]).filter((t) => t !== '1005'));
  });
});

describe('Help Scout credentials', () => {
  it('a token that stops working mid-run is replaced once and the run completes; the new one is kept sealed', async () => {
    const { db, workspace, connection, fake } = await setUp();
    fake.state.expireTokensAfterCalls = 6;
    const { outcome } = await runImport(db.pool, connection.id);
    expect(outcome).toEqual({ status: 'succeeded' });
    // Requests in flight when it stopped each met a 401 and each got a fresh token once.
    const refused = fake.requests.filter((r) => r.status === 401).length;
    expect(refused).toBeGreaterThan(0);
    expect(fake.state.tokenRequests).toBeGreaterThan(1);
    expect(fake.state.tokenRequests).toBeLessThanOrEqual(refused + 1);
    expect((await canonicalDump(db.pool, workspace.id)).totals).toMatchObject({ customers: 8, threads: 8, entries: 47 });
    const stored = (await openConnection(db.pool, TEST_SECRETS_KEY, connection.id))!.credentials as { accessToken: string };
    expect(stored.accessToken).toBe([...fake.state.tokens.keys()].at(-1));
  });

  it('a kept token about to expire is replaced before it is used; one still good is used as it is', async () => {
    const { db, connection, fake } = await setUp({}, {}, { accessToken: 'old-token', accessTokenExpiresAt: new Date(Date.now() + 30_000).toISOString() });
    // The fake would still take it: the engine refreshes a minute before expiry, not on a 401.
    fake.state.tokens.set('old-token', Date.now() + 30_000);
    expect((await runImport(db.pool, connection.id)).outcome.status).toBe('succeeded');
    expect(fake.state.tokenRequests).toBe(1);
    expect(fake.requests.some((r) => r.headers.authorization === 'Bearer old-token')).toBe(false);

    const other = await makeWorkspace(db.pool, 'Kept', 'help@kept.test');
    fake.state.tokens.set('good-token', Date.now() + 3_600_000);
    const kept = await connectHelpScout(db.pool, other.workspace.id, fake.url, {}, { accessToken: 'good-token', accessTokenExpiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    expect((await runImport(db.pool, kept.id)).outcome.status).toBe('succeeded');
    expect(fake.state.tokenRequests).toBe(1);
  });

  it("a revoked app: needs re-authorisation with Help Scout's words, and the run stops", async () => {
    const { db, workspace, connection, fake } = await setUp();
    fake.state.expireTokensAfterCalls = 3;
    fake.state.revoked = true;
    const { runId, outcome } = await runImport(db.pool, connection.id);
    expect(outcome).toEqual({ status: 'needs_reauth', error: 'invalid_client: Bad client credentials' });
    expect(await getRun(db.pool, workspace.id, runId)).toMatchObject({ status: 'needs_reauth', error: 'invalid_client: Bad client credentials' });
    expect(await getConnection(db.pool, workspace.id, connection.id)).toMatchObject({ status: 'needs_reauth', lastError: 'invalid_client: Bad client credentials' });
  });

  it('403 "API not enabled" part-way: the connection needs attention with Help Scout\'s words and logRef; what was imported stays', async () => {
    const { db, workspace, connection, fake } = await setUp();
    fake.state.forbidden = { message: 'API not enabled', path: /^\/v2\/conversations/ };
    const { outcome } = await runImport(db.pool, connection.id);
    expect(outcome).toEqual({ status: 'needs_reauth', error: expect.stringMatching(/^API not enabled \(logRef [0-9a-f-]+\)$/) });
    expect(await getConnection(db.pool, workspace.id, connection.id)).toMatchObject({ status: 'needs_reauth', lastError: expect.stringMatching(/^API not enabled \(logRef /) });
    expect((await canonicalDump(db.pool, workspace.id)).totals).toMatchObject({ customers: 7, threads: 0 });
  });
});
