import { afterEach, describe, expect, it } from 'vitest';
import { findOrCreateCustomerByEmail } from '../src/domain/customers.ts';
import { getConnection, openConnection } from '../src/import/connections.ts';
import { executeRun } from '../src/import/execute-run.ts';
import { createRun, getRun, listRecordErrors } from '../src/import/runs.ts';
import { nextMidnightIn } from '../importers/hubspot/rate-limit.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { generateHubSpot, startFakeHubSpot, type FakeHubSpot, type HubSpotOptions } from './support/fake-provider/index.ts';
import { connectHubSpot, HUBSPOT_OAUTH, hubspotDump } from './support/hubspot-imports.ts';
import { eventsOut, executeDeps, runImport } from './support/imports.ts';
import { makeWorkspace, TEST_SECRETS_KEY } from './support/workspaces.ts';

/** The HubSpot importer over the real HTTP client, engine and database, against the fake HubSpot. */

let db: TestDatabase | undefined;
let fake: FakeHubSpot | undefined;
afterEach(async () => {
  await fake?.close();
  await db?.close();
  fake = undefined;
  db = undefined;
});

async function setUp(options: HubSpotOptions = {}, connection: { credentials?: Record<string, unknown>; settings?: Record<string, unknown> } = {}) {
  db = await createTestDatabase();
  fake = await startFakeHubSpot(options);
  const { workspace } = await makeWorkspace(db.pool);
  const conn = await connectHubSpot(db.pool, workspace.id, fake.url, connection);
  return { db, fake, workspace, connection: conn };
}

/** The fixtures, imported: only linked companies are tenants; Alice is in two; Carol and the nameless contact have no email. */
const EXPECTED_CUSTOMERS = [
  ['alice@acme.example', 'Alice Anders', 'import', '2023-01-11T00:00:00'],
  ['bob@acme.example', 'Bob Builder', 'import', '2023-01-12T00:00:00'],
  ['dave@solo.example', 'Dave', 'import', '2023-01-14T00:00:00'],
  ['erin@globex.example', 'Erin Ellis', 'import', '2023-01-16T00:00:00'],
  ['grace@initech.example', 'Grace Hopper', 'import', '2023-01-18T00:00:00'],
  [null, 'Carol Caller', 'import', '2023-01-13T00:00:00'],
  [null, 'HubSpot contact 105', 'import', '2023-01-15T00:00:00'],
];
const EXPECTED_TENANTS = [
  { external_id: '9001', name: 'Acme Corp', domain: 'acme.example', origin: 'import', members: ['alice@acme.example', 'bob@acme.example'] },
  { external_id: '9002', name: 'Globex', domain: 'globex.example', origin: 'import', members: ['erin@globex.example'] },
  { external_id: '9003', name: 'Initech', domain: 'initech.example', origin: 'import', members: ['Carol Caller', 'alice@acme.example'] },
  { external_id: '9005', name: 'nameless.example', domain: 'nameless.example', origin: 'import', members: ['grace@initech.example'] },
];

describe('HubSpot import of the fixtures', () => {
  it('creates exactly the contacts as customers and their linked companies as tenants, with every membership', async () => {
    const { db, workspace, connection, fake } = await setUp();
    const { runId, outcome } = await runImport(db.pool, connection.id);
    expect(outcome).toEqual({ status: 'succeeded' });
    const dump = await hubspotDump(db.pool, workspace.id);
    expect(dump.customers.map((c) => [c.email, c.full_name, c.origin, c.created])).toEqual(EXPECTED_CUSTOMERS);
    // Hooli (no contact), the deleted company 9999 and Dave's free-text company are no tenants; the archived contact is not imported.
    expect(dump.tenants).toEqual(EXPECTED_TENANTS);
    expect(dump.totals).toMatchObject({ customers: 7, tenants: 4, memberships: 6, threads: 0 });

    // The full walk: the contacts list with associations, and one batch read of the companies the ledger did not know.
    const lists = fake.requests.filter((r) => r.path === '/crm/v3/objects/contacts');
    expect(lists.length).toBeGreaterThan(0);
    expect(lists[0]!.query).toMatchObject({ limit: '100', associations: 'companies' });
    expect(lists[0]!.query.properties!.split(',')).toEqual(expect.arrayContaining(['email', 'firstname', 'lastname', 'createdate', 'lastmodifieddate']));
    expect(fake.state.companyReads.map((ids) => [...ids].sort())).toEqual([['9001', '9002', '9003', '9005', '9999']]);
    expect(fake.requests.some((r) => r.path.endsWith('/search'))).toBe(false);
    // Erin's additional address is kept with the ledger, not as another customer.
    const { rows } = await db.pool.query(`SELECT details FROM import_ledger WHERE workspace_id = $1 AND source_type = 'person' AND source_id = '106'`, [workspace.id]);
    expect(rows[0].details).toEqual({ otherEmails: ['erin.alt@globex.example'] });

    const run = (await getRun(db.pool, workspace.id, runId))!;
    expect(run.kind).toBe('full');
    expect(run.counts).toEqual({ contacts: { created: 7, linked: 0, skipped: 0, failed: 0 }, companies: { created: 4, linked: 0, skipped: 0, failed: 0 } });
    expect((await listRecordErrors(db.pool, workspace.id, runId, 10)).total).toBe(0);
    // Imported data is silent.
    expect(await eventsOut(db.pool)).toEqual({ events: 0, deliveries: 0, auto_responses: 0 });
    expect((await getConnection(db.pool, workspace.id, connection.id))!.fullRunCompletedAt).not.toBeNull();
  });

  it('an archived contact in an answer is skipped; a contact with more links than the list shows gets all of them', async () => {
    const { db, workspace, connection, fake } = await setUp({ listAssociationLimit: 1 });
    fake.state.leakArchived = true;
    const { runId, outcome } = await runImport(db.pool, connection.id);
    expect(outcome.status).toBe('succeeded');
    const dump = await hubspotDump(db.pool, workspace.id);
    expect(dump.customers.map((c) => c.email)).not.toContain('gone@acme.example');
    expect(dump.tenants).toEqual(EXPECTED_TENANTS);
    // Alice's list answer showed one row; her links were read whole through the association batch read.
    expect(fake.state.associationReads.flat()).toContain('101');
    expect((await getRun(db.pool, workspace.id, runId))!.counts.contacts).toEqual({ created: 7, linked: 0, skipped: 1, failed: 0 });
  });

  it('re-running creates nothing, keeps what was edited here, and links a customer who wrote in by email without changing them', async () => {
    const { db, workspace, connection } = await setUp();
    const bob = await findOrCreateCustomerByEmail({ db: db.pool, workspaceId: workspace.id, origin: 'email' }, { email: 'bob@acme.example', fullName: 'Bobby (from email)' });
    // Bob's own arrival by email is an event; nothing the imports do adds one.
    const eventsBefore = await eventsOut(db.pool);
    const first = await runImport(db.pool, connection.id);
    expect((await getRun(db.pool, workspace.id, first.runId))!.counts.contacts).toEqual({ created: 6, linked: 1, skipped: 0, failed: 0 });
    const bobNow = await db.pool.query('SELECT full_name, origin FROM customers WHERE id = $1', [bob.customer.id]);
    expect(bobNow.rows[0]).toEqual({ full_name: 'Bobby (from email)', origin: 'email' });
    // An existing customer is left as it is: no membership is added to them.
    expect((await hubspotDump(db.pool, workspace.id)).tenants.find((t) => t.external_id === '9001')!.members).toEqual(['alice@acme.example']);

    await db.pool.query(`UPDATE tenants SET name = 'Acme (renamed here)' WHERE external_id = '9001'`);
    await db.pool.query(`UPDATE customers SET full_name = 'Alice (edited here)' WHERE email = 'alice@acme.example'`);
    const before = await hubspotDump(db.pool, workspace.id);

    // The scheduled incremental run, then a walk from the very start as if the cursor were lost.
    const second = await runImport(db.pool, connection.id);
    expect(second.outcome.status).toBe('succeeded');
    await db.pool.query('DELETE FROM import_cursors');
    const third = await runImport(db.pool, connection.id);
    expect(third.outcome.status).toBe('succeeded');
    expect(await hubspotDump(db.pool, workspace.id)).toEqual(before);
    for (const id of [second.runId, third.runId]) {
      const run = (await getRun(db.pool, workspace.id, id))!;
      expect(run.kind).toBe('incremental');
      for (const [stream, c] of Object.entries(run.counts)) expect({ stream, created: c.created, linked: c.linked, failed: c.failed }).toEqual({ stream, created: 0, linked: 0, failed: 0 });
    }
    expect((await getRun(db.pool, workspace.id, third.runId))!.counts.contacts!.skipped).toBe(7);
    expect(before.tenants.find((t) => t.external_id === '9001')!.name).toBe('Acme (renamed here)');
    expect(before.customers.find((c) => c.email === 'alice@acme.example')!.full_name).toBe('Alice (edited here)');
    expect(await eventsOut(db.pool)).toEqual(eventsBefore);
  });
});

describe('HubSpot incremental runs', () => {
  it('search on lastmodifieddate, oldest first, creates exactly the new contacts, one with a new company and one with a known one', async () => {
    const { db, workspace, connection, fake } = await setUp();
    expect((await runImport(db.pool, connection.id)).outcome.status).toBe('succeeded');
    const before = await hubspotDump(db.pool, workspace.id);
    const listsBefore = fake.requests.filter((r) => r.path === '/crm/v3/objects/contacts').length;

    const umbrella = fake.state.addCompany({ name: 'Umbrella', domain: 'umbrella.example' });
    // HubSpot imports can keep an old createdate: lastmodifieddate is what finds them.
    fake.state.addContact({ email: 'ursula@umbrella.example', firstname: 'Ursula', lastname: 'Umber', createdate: '2020-05-05T05:05:05.000Z', companyIds: [umbrella.id] });
    fake.state.addContact({ email: 'adam@acme.example', firstname: 'Adam', lastname: 'Acme', companyIds: ['9001'] });
    // A change to an imported contact is not imported (create-only).
    fake.state.updateContact('102', { firstname: 'Robert' });
    fake.state.companyReads.length = 0;
    const { runId, outcome } = await runImport(db.pool, connection.id);
    expect(outcome.status).toBe('succeeded');

    const after = await hubspotDump(db.pool, workspace.id);
    expect(after.customers.filter((c) => !before.customers.some((b) => b.email === c.email)).map((c) => [c.email, c.full_name, c.created])).toEqual([
      ['adam@acme.example', 'Adam Acme', expect.any(String)],
      ['ursula@umbrella.example', 'Ursula Umber', '2020-05-05T05:05:05'],
    ]);
    expect(after.tenants.find((t) => t.external_id === '9001')!.members).toEqual(['adam@acme.example', 'alice@acme.example', 'bob@acme.example']);
    expect(after.tenants.find((t) => t.external_id === umbrella.id)).toEqual({ external_id: umbrella.id, name: 'Umbrella', domain: 'umbrella.example', origin: 'import', members: ['ursula@umbrella.example'] });
    expect(after.customers.find((c) => c.email === 'bob@acme.example')!.full_name).toBe('Bob Builder');
    expect(after.totals).toEqual({ ...before.totals, customers: 9, tenants: 5, memberships: 8, ledger: before.totals.ledger + 3 });
    // Only the new company was read; the list was not walked again.
    expect(fake.state.companyReads).toEqual([[umbrella.id]]);
    expect(fake.requests.filter((r) => r.path === '/crm/v3/objects/contacts').length).toBe(listsBefore);
    const search = fake.requests.find((r) => r.path === '/crm/v3/objects/contacts/search');
    expect(search?.method).toBe('POST');
    const run = (await getRun(db.pool, workspace.id, runId))!;
    expect(run.kind).toBe('incremental');
    expect(run.counts.contacts).toMatchObject({ created: 2, linked: 0, failed: 0 });
    expect(run.counts.companies).toMatchObject({ created: 1, failed: 0 });
    expect(await eventsOut(db.pool)).toEqual({ events: 0, deliveries: 0, auto_responses: 0 });
  });

  it('a search window of more than 10,000 contacts is walked completely, at the default search pace', async () => {
    const { db, workspace, connection, fake } = await setUp();
    expect((await runImport(db.pool, connection.id)).outcome.status).toBe('succeeded');
    // 10,250 contacts changed since the last run, 150 to a millisecond (more than a page share one time).
    const batch = generateHubSpot({ contacts: 10_250, companies: 40, seed: 3, firstContactId: 7_000_001, firstCompanyId: 8_000_001, modifiedFrom: Date.now(), stepMs: 1, tieGroup: 150 });
    for (const c of batch.companies) fake.state.companies.set(c.id, c);
    fake.state.addContacts(batch.contacts);
    const started = fake.state.searches.length;
    const { runId, outcome } = await runImport(db.pool, connection.id);
    expect(outcome.status).toBe('succeeded');
    const run = (await getRun(db.pool, workspace.id, runId))!;
    expect(run.counts.contacts).toMatchObject({ created: 10_250, failed: 0 });
    expect((await hubspotDump(db.pool, workspace.id)).totals.customers).toBe(7 + 10_250);
    const searches = fake.state.searches.slice(started);
    // Never past HubSpot's cap; `after` followed within a millisecond shared by 150 contacts.
    expect(searches.every((s) => s.after === null || Number(s.after) + s.limit <= 10_000)).toBe(true);
    expect(searches.some((s) => s.after !== null)).toBe(true);
    expect(fake.state.throttled).toEqual({ TEN_SECONDLY_ROLLING: 0, SECONDLY: 0, DAILY: 0 });
  }, 180_000);
});

describe('HubSpot authentication', () => {
  it('OAuth: a token first, refreshed before it expires and once on a 401 mid-run, each new one kept sealed', async () => {
    const soon = new Date(Date.now() + 30_000).toISOString();
    const { db, workspace, connection, fake } = await setUp({}, { credentials: { ...HUBSPOT_OAUTH, accessToken: 'CJstillvalidfor30seconds', expiresAt: soon }, settings: { pageSize: 2 } });
    fake.state.accessTokens.set('CJstillvalidfor30seconds', Date.parse(soon));
    // HubSpot's 30 minutes pass after three requests of each token.
    fake.state.accessTokenMaxUses = 3;
    const { outcome } = await runImport(db.pool, connection.id);
    expect(outcome.status).toBe('succeeded');
    expect((await hubspotDump(db.pool, workspace.id)).tenants).toEqual(EXPECTED_TENANTS);
    // The stored token expired within the minute: refreshed before any call used it.
    expect(fake.requests.some((r) => r.headers.authorization === 'Bearer CJstillvalidfor30seconds')).toBe(false);
    const expired = fake.requests.filter((r) => r.status === 401);
    expect(expired.length).toBeGreaterThan(0);
    expect(fake.state.tokenCalls).toBe(1 + expired.length);
    const stored = (await openConnection(db.pool, TEST_SECRETS_KEY, connection.id))!.credentials as Record<string, string>;
    expect(stored).toMatchObject({ ...HUBSPOT_OAUTH, accessToken: expect.stringMatching(/^CJ/) });
    expect(fake.state.accessTokens.has(stored.accessToken!)).toBe(true);
    expect(Date.parse(stored.expiresAt!)).toBeGreaterThan(Date.now() + 1_700_000);
  });

  it('OAuth revoked: needs re-authorisation with HubSpot\'s words', async () => {
    const { db, workspace, connection, fake } = await setUp({}, { credentials: HUBSPOT_OAUTH });
    fake.state.revokeAll();
    const { outcome } = await runImport(db.pool, connection.id);
    expect(outcome).toEqual({ status: 'needs_reauth', error: 'missing or unknown refresh token' });
    expect((await getConnection(db.pool, workspace.id, connection.id))).toMatchObject({ status: 'needs_reauth', lastError: 'missing or unknown refresh token' });
  });

  it('a private app token revoked, or malformed (Cloudflare 530): needs re-authorisation', async () => {
    const { db, workspace, connection, fake } = await setUp();
    fake.state.revokeAll();
    const revoked = await runImport(db.pool, connection.id);
    expect(revoked.outcome.status).toBe('needs_reauth');
    expect(revoked.outcome).toMatchObject({ error: expect.stringContaining('Authentication credentials not found') });

    const malformed = await connectHubSpot(db.pool, (await makeWorkspace(db.pool, 'Other', 'help@other.test')).workspace.id, fake.url, { credentials: { accessToken: 'pat na1 pasted with spaces' } });
    const result = await runImport(db.pool, malformed.id);
    expect(result.outcome).toEqual({ status: 'needs_reauth', error: expect.stringMatching(/^HubSpot refused the access token as malformed \(HTTP 530: Origin DNS error/) });
    expect(workspace.id).not.toBe(malformed.workspaceId);
  });

  it('missing scopes: needs re-authorisation with HubSpot\'s message, the scope, the category and the correlationId', async () => {
    const { db, workspace, connection, fake } = await setUp();
    fake.state.scopes.delete('crm.objects.companies.read');
    const { outcome } = await runImport(db.pool, connection.id);
    expect(outcome.status).toBe('needs_reauth');
    const message = (outcome as { error: string }).error;
    expect(message).toMatch(/^This app hasn't been granted all required scopes to make this call\..*; required scopes: crm\.objects\.companies\.read \(category MISSING_SCOPES, correlationId [0-9a-f-]{36}\)$/);
    expect((await getConnection(db.pool, workspace.id, connection.id))).toMatchObject({ status: 'needs_reauth', lastError: message });
    // Nothing of the page whose companies could not be read was written.
    expect((await hubspotDump(db.pool, workspace.id)).totals.customers).toBe(0);
  });
});

describe('HubSpot rate limits', () => {
  it('the daily limit parks the run until midnight in the account\'s time zone (spent seen in the headers, or a DAILY 429); after the reset it resumes from its checkpoint', async () => {
    // 60 contacts, 2 to a HubSpot page: three pages of the engine (ten HubSpot pages each).
    const data = generateHubSpot({ contacts: 60, companies: 8, seed: 21 });
    const { db, workspace, connection, fake } = await setUp({ data, limits: { daily: 1_000_000 } }, { settings: { pageSize: 2 } });
    // Another app spent all but fourteen of today's requests: enough for the first page, not the second.
    fake.state.dailyUsed = 1_000_000 - 14;
    const run = (await createRun(db.pool, connection.id))!;
    const deps = executeDeps(db.pool);
    const midnight = nextMidnightIn('America/New_York', Date.now());
    const expectMidnight = (retryAt: Date) => {
      expect(retryAt.getTime()).toBeGreaterThanOrEqual(midnight);
      expect(retryAt.getTime()).toBeLessThan(midnight + 120_000);
    };
    // The fourth answer says none are left today: the run parks before asking again.
    const spent = await executeRun(deps, run.id);
    expect(spent).toMatchObject({ status: 'waiting', error: expect.stringContaining('the rate budget is spent') });
    expectMidnight((spent as { retryAt: Date }).retryAt);
    expect(fake.state.throttled.DAILY).toBe(0);
    const pagesBefore = (await getRun(db.pool, workspace.id, run.id))!.progress.contacts?.pages ?? 0;
    expect(pagesBefore).toBeGreaterThan(0);
    expect((await hubspotDump(db.pool, workspace.id)).totals.customers).toBeGreaterThan(0);
    // Not before its time.
    expect((await executeRun(deps, run.id)).status).toBe('busy');

    // Woken early (a new process knows nothing of the budget): HubSpot's DAILY 429 parks it again, in HubSpot's words.
    await db.pool.query(`UPDATE import_runs SET retry_at = now() WHERE id = $1`, [run.id]);
    const refused = await executeRun(deps, run.id);
    expect(refused).toMatchObject({ status: 'waiting', error: expect.stringMatching(/You have reached your daily limit\. \(correlationId [0-9a-f-]{36}\)/) });
    expectMidnight((refused as { retryAt: Date }).retryAt);
    expect(fake.state.throttled.DAILY).toBe(1);

    // Midnight in New York.
    fake.state.resetDay();
    await db.pool.query(`UPDATE import_runs SET retry_at = now() WHERE id = $1`, [run.id]);
    const requestsBefore = fake.requests.length;
    expect(await executeRun(deps, run.id)).toEqual({ status: 'succeeded' });
    // It went on from its cursor: the first list request after the reset carries `after`.
    expect(fake.requests.slice(requestsBefore).find((r) => r.path === '/crm/v3/objects/contacts')!.query.after).toBeDefined();
    const dump = await hubspotDump(db.pool, workspace.id);
    expect(dump.totals).toMatchObject({ customers: 60, tenants: new Set(data.contacts.flatMap((c) => c.companyIds)).size, memberships: data.contacts.reduce((n, c) => n + new Set(c.companyIds).size, 0) });
    expect((await getRun(db.pool, workspace.id, run.id))!.counts.contacts).toMatchObject({ created: 60, failed: 0 });
  });

  it('TEN_SECONDLY 429s without Retry-After: backoff, and the run completes', async () => {
    const { db, workspace, connection, fake } = await setUp();
    fake.setFaults([{ path: '/crm/v3/objects/contacts', status: 429, times: 2 }]);
    const { outcome } = await runImport(db.pool, connection.id);
    expect(outcome.status).toBe('succeeded');
    expect(fake.requests.filter((r) => r.status === 429).length).toBe(2);
    expect((await hubspotDump(db.pool, workspace.id)).tenants).toEqual(EXPECTED_TENANTS);
  });

  it('a rolling window another app filled: the run waits for room, from HubSpot\'s headers, and completes', async () => {
    const { db, workspace, connection, fake } = await setUp({ limits: { max: 6, intervalMs: 2_000 } }, { settings: { pageSize: 1 } });
    // Six requests of another app just now: the first answer is a 429 with the window's headers.
    fake.state.windowLog.push(...Array.from({ length: 6 }, () => Date.now()));
    const { outcome } = await runImport(db.pool, connection.id);
    expect(outcome.status).toBe('succeeded');
    expect((await hubspotDump(db.pool, workspace.id)).tenants).toEqual(EXPECTED_TENANTS);
    // One 429 while the other app's requests were in the window; none once the budget was known.
    expect(fake.state.throttled.TEN_SECONDLY_ROLLING).toBe(1);
  });
});
