import { afterEach, describe, expect, it } from 'vitest';
import { IMPORT_ADAPTERS } from '../importers/index.ts';
import { findOrCreateCustomerByEmail } from '../src/domain/customers.ts';
import { getConnection } from '../src/import/connections.ts';
import { executeRun, type ExecuteDeps } from '../src/import/execute-run.ts';
import { createRun, getRun, listRecordErrors } from '../src/import/runs.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { FAKE_ORG_ID, startFakeSalesforce, type FakeSalesforce } from './support/fake-provider/index.ts';
import { connectSalesforce, salesforceDump } from './support/fake-provider/salesforce-connection.ts';
import { eventsOut, executeDeps, runImport } from './support/imports.ts';
import { makeWorkspace } from './support/workspaces.ts';

/** The Salesforce importer through the engine and the real HTTP client against the fake Salesforce. */

let db: TestDatabase | undefined;
let fake: FakeSalesforce | undefined;
afterEach(async () => {
  await fake?.close();
  await db?.close();
  fake = undefined;
  db = undefined;
});

// Short timeouts and backoff so faults cost milliseconds, not the production half-minute.
const FAST = { http: { timeoutMs: 2_000, backoffBaseMs: 20, maxInlineWaitMs: 3_000 } };
const HOUR = 60 * 60_000;

async function setUp(options: Parameters<typeof startFakeSalesforce>[0] = {}, settings: Record<string, unknown> = {}) {
  db = await createTestDatabase();
  fake = await startFakeSalesforce(options);
  const { workspace } = await makeWorkspace(db.pool);
  const connection = await connectSalesforce(db.pool, workspace.id, fake, settings);
  return { db, fake, workspace, connection };
}

/** Runs executeRun once (one slice) for a run, creating it first when needed. */
async function slice(pool: TestDatabase['pool'], runId: string, overrides: Partial<ExecuteDeps> = {}) {
  return executeRun(executeDeps(pool, { ...FAST, ...overrides }), runId);
}

/** As if the parked run's time had come (the scheduler would hand it to a worker then). */
async function timeHasCome(pool: TestDatabase['pool'], runId: string) {
  await pool.query(`UPDATE import_runs SET retry_at = now() WHERE id = $1`, [runId]);
}

const C = (n: number) => `0035g000${n.toString(36).toUpperCase().padStart(7, '0')}AAA`;
const A = (n: number) => `0015g000${n.toString(36).toUpperCase().padStart(7, '0')}AAA`;

const EXPECTED_CUSTOMERS = [
  ['alice@acme-corp.test', 'Alice Adams', '2023-02-01T08:00:00', C(1)],
  ['bob@acme-corp.test', 'Bob Brown', '2023-02-02T08:00:00', C(2)],
  ['carol@globex.test', 'Carol Chen', '2023-02-03T08:00:00', C(3)],
  ['erin@gmail.com', 'Erin Evans', '2023-02-05T08:00:00', C(5)],
  ['grace@initech.test', 'Grace Green', '2023-02-07T08:00:00', C(7)],
  ['heidi@hooli.test', 'Heidi Hall', '2023-02-08T08:00:00', C(8)],
  // Loaded with audit fields: an old CreatedDate, a recent SystemModstamp, all four at one time.
  ['ivan@acme-corp.test', 'Ivan Ito', '2015-05-01T00:00:00', C(9)],
  ['judy@globex.test', 'Judy Jones', '2015-05-02T00:00:00', C(10)],
  ['ken@acme-corp.test', 'Ken Kim', '2015-05-03T00:00:00', C(11)],
  ['leo@globex.test', 'Leo Lane', '2015-05-01T00:00:00', C(12)],
  [null, 'Dan Dunn', '2023-02-04T08:00:00', C(4)],
  [null, 'Frank', '2023-02-06T08:00:00', C(6)],
];

const EXPECTED_TENANTS = [
  { external_id: A(1), name: 'Acme Corporation', domain: 'acme-corp.test', origin: 'import', members: ['alice@acme-corp.test', 'bob@acme-corp.test', 'ivan@acme-corp.test', 'ken@acme-corp.test'] },
  { external_id: A(2), name: 'Globex', domain: 'globex.test', origin: 'import', members: ['Dan Dunn', 'carol@globex.test', 'judy@globex.test', 'leo@globex.test'] },
  { external_id: A(3), name: 'Initech', domain: null, origin: 'import', members: ['grace@initech.test'] },
  { external_id: A(5), name: 'Hooli', domain: null, origin: 'import', members: ['heidi@hooli.test'] },
];

const contactQueries = (f: FakeSalesforce) => f.state.queries.filter((q) => q.includes('FROM Contact'));
const servedTwice = (f: FakeSalesforce) => [...f.state.served].filter(([, n]) => n > 1).map(([id]) => id);

describe('Salesforce import of the fixtures', () => {
  it('creates exactly the contacts as customers and only their accounts as tenants, with memberships, silently', async () => {
    // Pages of 3: the four contacts bulk-loaded at one SystemModstamp straddle a page edge.
    const { db, fake, workspace, connection } = await setUp({ pageSize: 3 });
    const { runId, outcome } = await runImport(db.pool, connection.id, FAST);
    expect(outcome).toEqual({ status: 'succeeded' });
    const dump = await salesforceDump(db.pool, workspace.id);
    expect(dump.customers.map((c) => [c.email, c.full_name, c.created, c.contact])).toEqual(EXPECTED_CUSTOMERS);
    expect(dump.customers.every((c) => c.origin === 'import')).toBe(true);
    // Umbrella has no contacts: not a tenant. Initech has no Website, Hooli's is "n/a": no domain.
    expect(dump.tenants).toEqual(EXPECTED_TENANTS);
    expect(dump.totals).toMatchObject({ customers: 12, tenants: 4, memberships: 10, threads: 0 });

    const run = (await getRun(db.pool, workspace.id, runId))!;
    expect(run.counts).toEqual({ accounts: { created: 4, linked: 0, skipped: 0, failed: 0 }, contacts: { created: 12, linked: 0, skipped: 0, failed: 0 } });
    expect(run.progress).toEqual({ contacts: { pages: 4, done: true } });
    expect((await listRecordErrors(db.pool, workspace.id, runId, 10)).total).toBe(0);

    // The OAuth flow: one refresh at the login host, every call to the instance_url it named.
    expect(fake.state.tokenRequests).toBe(1);
    expect(fake.login.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /services/oauth2/token']);
    expect(fake.requests.map((r) => r.path)).toEqual([
      '/services/data/v62.0/limits',
      '/services/data/v62.0/query',
      expect.stringMatching(/^\/services\/data\/v62\.0\/query\/01g\w+-3$/),
      expect.stringMatching(/^\/services\/data\/v62\.0\/query\/01g\w+-6$/),
      expect.stringMatching(/^\/services\/data\/v62\.0\/query\/01g\w+-9$/),
    ]);
    // The first run's query has no WHERE; accounts came with the contacts (no query of their own).
    expect(fake.state.queries).toEqual(['SELECT Id, FirstName, LastName, Email, AccountId, Account.Name, Account.Website, CreatedDate, SystemModstamp FROM Contact ORDER BY SystemModstamp, Id']);
    expect(fake.state.usage.used).toBe(5);
    expect(servedTwice(fake)).toEqual([]);

    // Imported people are silent: no event, no webhook delivery, no auto-response.
    expect(await eventsOut(db.pool)).toEqual({ events: 0, deliveries: 0, auto_responses: 0 });
    const conn = (await getConnection(db.pool, workspace.id, connection.id))!;
    expect(conn).toMatchObject({ status: 'active', account: FAKE_ORG_ID });
    expect(conn.fullRunCompletedAt).not.toBeNull();
  });

  it('re-running creates nothing, keeps local edits and links a customer that already wrote in by email', async () => {
    const { db, workspace, connection } = await setUp({ pageSize: 5 });
    const bob = await findOrCreateCustomerByEmail({ db: db.pool, workspaceId: workspace.id, origin: 'email' }, { email: 'BOB@acme-corp.test', fullName: 'Bobby (from email)' });
    const first = await runImport(db.pool, connection.id, FAST);
    expect(first.outcome.status).toBe('succeeded');
    expect((await getRun(db.pool, workspace.id, first.runId))!.counts.contacts).toEqual({ created: 11, linked: 1, skipped: 0, failed: 0 });
    // Bob is linked, not changed, and (not created by the import) not made a member of Acme.
    const bobNow = await db.pool.query('SELECT full_name, origin FROM customers WHERE id = $1', [bob.customer.id]);
    expect(bobNow.rows[0]).toEqual({ full_name: 'Bobby (from email)', origin: 'email' });
    expect((await salesforceDump(db.pool, workspace.id)).tenants[0].members).toEqual(['alice@acme-corp.test', 'ivan@acme-corp.test', 'ken@acme-corp.test']);

    await db.pool.query(`UPDATE customers SET full_name = 'Alice (edited here)' WHERE email = 'alice@acme-corp.test'`);
    await db.pool.query(`UPDATE tenants SET name = 'ACME (renamed here)' WHERE name = 'Acme Corporation'`);
    await db.pool.query(`DELETE FROM tenant_customers WHERE customer_id = (SELECT id FROM customers WHERE email = 'ken@acme-corp.test')`);
    const before = await salesforceDump(db.pool, workspace.id);
    // Everything read again from the start, as if the cursor were lost: the ledger alone keeps it create-only.
    await db.pool.query('DELETE FROM import_cursors');
    const second = await runImport(db.pool, connection.id, FAST);
    expect(second.outcome.status).toBe('succeeded');
    expect(await salesforceDump(db.pool, workspace.id)).toEqual(before);
    const run = (await getRun(db.pool, workspace.id, second.runId))!;
    expect(run.kind).toBe('incremental');
    // Known accounts are not even handed to the writer; known contacts are skipped.
    expect(run.counts).toEqual({ contacts: { created: 0, linked: 0, skipped: 12, failed: 0 } });
  });

  it('an incremental run creates exactly the new contacts, one of them on a new account, from an unquoted keyset literal', async () => {
    const { db, fake, workspace, connection } = await setUp({ pageSize: 3 });
    expect((await runImport(db.pool, connection.id, FAST)).outcome.status).toBe('succeeded');
    const before = await salesforceDump(db.pool, workspace.id);
    const wayne = fake.state.addAccount({ Name: 'Wayne Enterprises', Website: 'HTTPS://WWW.Wayne.test/careers' });
    const bruce = fake.state.addContact({ FirstName: 'Bruce', LastName: 'Wayne', Email: 'bruce@wayne.test', AccountId: wayne.Id });
    const mia = fake.state.addContact({ FirstName: 'Mia', LastName: 'Moss', Email: 'mia@acme-corp.test', AccountId: A(1) });
    const nobody = fake.state.addContact({ LastName: 'Walk-in', Email: null });
    // A contact changed in Salesforce moves past the cursor: read again, skipped, unchanged here.
    fake.state.updateContact(C(1), { LastName: 'Adams-Smith' });
    const queriesBefore = fake.state.queries.length;

    const second = await runImport(db.pool, connection.id, FAST);
    expect(second.outcome.status).toBe('succeeded');
    const after = await salesforceDump(db.pool, workspace.id);
    expect(after.customers.filter((c) => !before.customers.some((b) => b.contact === c.contact)).map((c) => [c.email, c.full_name, c.contact])).toEqual([
      ['bruce@wayne.test', 'Bruce Wayne', bruce.Id],
      ['mia@acme-corp.test', 'Mia Moss', mia.Id],
      [null, 'Walk-in', nobody.Id],
    ]);
    expect(after.customers.find((c) => c.contact === C(1))!.full_name).toBe('Alice Adams');
    expect(after.tenants).toEqual([
      { ...EXPECTED_TENANTS[0], members: ['alice@acme-corp.test', 'bob@acme-corp.test', 'ivan@acme-corp.test', 'ken@acme-corp.test', 'mia@acme-corp.test'] },
      ...EXPECTED_TENANTS.slice(1),
      { external_id: wayne.Id, name: 'Wayne Enterprises', domain: 'wayne.test', origin: 'import', members: ['bruce@wayne.test'] },
    ]);
    const run = (await getRun(db.pool, workspace.id, second.runId))!;
    expect(run.counts).toEqual({ accounts: { created: 1, linked: 0, skipped: 0, failed: 0 }, contacts: { created: 3, linked: 0, skipped: 1, failed: 0 } });
    // The query resumed after the last contact of the first run: (SystemModstamp, Id), an unquoted literal.
    expect(fake.state.queries.slice(queriesBefore)).toEqual([
      `SELECT Id, FirstName, LastName, Email, AccountId, Account.Name, Account.Website, CreatedDate, SystemModstamp FROM Contact WHERE SystemModstamp > 2024-03-01T12:00:00Z OR (SystemModstamp = 2024-03-01T12:00:00Z AND Id > '${C(12)}') ORDER BY SystemModstamp, Id`,
    ]);
    expect(await eventsOut(db.pool)).toEqual({ events: 0, deliveries: 0, auto_responses: 0 });
  });

  it('accounts missing from the contact records are read by Id IN, only the ones not imported yet', async () => {
    const { db, fake, workspace, connection } = await setUp({ pageSize: 3 });
    fake.state.dropRelationshipFields = true;
    expect((await runImport(db.pool, connection.id, FAST)).outcome.status).toBe('succeeded');
    const dump = await salesforceDump(db.pool, workspace.id);
    expect(dump.tenants).toEqual(EXPECTED_TENANTS);
    const accountQueries = fake.state.queries.filter((q) => q.includes('FROM Account'));
    expect(accountQueries.length).toBeGreaterThan(0);
    // Each account asked for once: later pages skip the ones the ledger has.
    const asked = accountQueries.flatMap((q) => [...q.matchAll(/'(\w+)'/g)].map((m) => m[1]));
    expect(asked.sort()).toEqual([A(1), A(2), A(3), A(5)]);
  });
});

describe('Salesforce sessions, locators and errors', () => {
  it('an access token that expires mid-run is refreshed, and the query goes on from the checkpoint without duplicates', async () => {
    const { db, fake, workspace, connection } = await setUp({ pageSize: 3 });
    const reference = await referenceDump();
    const { outcome } = await runImport(db.pool, connection.id, {
      ...FAST,
      onPage: ({ progress }) => {
        if (progress.contacts?.pages === 1) fake.state.expireSessions();
      },
    });
    expect(outcome.status).toBe('succeeded');
    expect(fake.state.tokenRequests).toBeGreaterThanOrEqual(2);
    expect(fake.requests.filter((r) => r.status === 401).length).toBeGreaterThan(0);
    expect(await salesforceDump(db.pool, workspace.id)).toEqual(reference);
    expect(servedTwice(fake)).toEqual([]);
  });

  it('a revoked refresh token: needs re-authorisation with Salesforce\'s error_description; what was imported stays', async () => {
    const { db, fake, workspace, connection } = await setUp({ pageSize: 3 });
    const { runId, outcome } = await runImport(db.pool, connection.id, {
      ...FAST,
      onPage: ({ progress }) => {
        if (progress.contacts?.pages === 2) {
          fake.state.revokeRefreshTokens();
          fake.state.expireSessions();
        }
      },
    });
    expect(outcome).toEqual({ status: 'needs_reauth', error: 'invalid_grant: expired access/refresh token' });
    expect(await getRun(db.pool, workspace.id, runId)).toMatchObject({ status: 'needs_reauth', error: 'invalid_grant: expired access/refresh token' });
    expect(await getConnection(db.pool, workspace.id, connection.id)).toMatchObject({ status: 'needs_reauth', lastError: 'invalid_grant: expired access/refresh token' });
    expect(await createRun(db.pool, connection.id)).toBeNull();
    const { totals } = await salesforceDump(db.pool, workspace.id);
    expect(totals.customers).toBeGreaterThanOrEqual(6);
    expect(totals.customers).toBeLessThan(12);
  });

  it('query locators that expire at once: every page restarts the query after the last contact, none twice, none lost', async () => {
    const { db, fake, workspace, connection } = await setUp({ pageSize: 3, locatorTtlMs: -1 });
    const reference = await referenceDump();
    const { runId, outcome } = await runImport(db.pool, connection.id, FAST);
    expect(outcome.status).toBe('succeeded');
    expect(await salesforceDump(db.pool, workspace.id)).toEqual(reference);
    expect(servedTwice(fake)).toEqual([]);
    expect((await getRun(db.pool, workspace.id, runId))!.counts.contacts).toEqual({ created: 12, linked: 0, skipped: 0, failed: 0 });
    // Restarts from (SystemModstamp, Id) pairs, three of them inside the bulk load's one SystemModstamp.
    const wheres = contactQueries(fake).map((q) => /WHERE (.*) ORDER BY/.exec(q)?.[1] ?? null);
    expect(wheres).toEqual([
      null,
      `SystemModstamp > 2023-02-03T08:00:00Z OR (SystemModstamp = 2023-02-03T08:00:00Z AND Id > '${C(3)}')`,
      `SystemModstamp > 2023-02-06T08:00:00Z OR (SystemModstamp = 2023-02-06T08:00:00Z AND Id > '${C(6)}')`,
      `SystemModstamp > 2024-03-01T12:00:00Z OR (SystemModstamp = 2024-03-01T12:00:00Z AND Id > '${C(9)}')`,
    ]);
    expect(fake.requests.filter((r) => r.status === 400).length).toBe(3);
  });

  it('a page that says done:false without a nextRecordsUrl fails the run; nothing of it is written', async () => {
    const { db, fake, workspace, connection } = await setUp({ pageSize: 3 });
    fake.state.brokenPages = 1;
    const { outcome } = await runImport(db.pool, connection.id, FAST);
    expect(outcome.status).toBe('failed');
    expect((outcome as { error: string }).error).toMatch(/GET \/services\/data\/v62\.0\/query answered 200: the contacts query: done is false but there is no nextRecordsUrl/);
    expect((await salesforceDump(db.pool, workspace.id)).totals).toMatchObject({ customers: 0, tenants: 0 });
  });

  it('a field the org hides from this user (INVALID_FIELD) fails the run with Salesforce\'s words, nothing half-written', async () => {
    const { db, workspace, connection } = await setUp({ pageSize: 3, hiddenFields: ['Account.Website'] });
    const { runId, outcome } = await runImport(db.pool, connection.id, FAST);
    expect(outcome.status).toBe('failed');
    const error = (await getRun(db.pool, workspace.id, runId))!.error!;
    expect(error).toContain("No such column 'Website' on entity 'Account'");
    expect(error).toContain('(INVALID_FIELD)');
    expect((await salesforceDump(db.pool, workspace.id)).totals).toMatchObject({ customers: 0, tenants: 0, ledger: 0 });
    // The connection is fine: the next run may succeed once the field is visible.
    expect(await getConnection(db.pool, workspace.id, connection.id)).toMatchObject({ status: 'active' });
  });

  it('API_DISABLED_FOR_ORG and INSUFFICIENT_ACCESS need the admin: needs_reauth with Salesforce\'s words', async () => {
    const { db, fake, workspace, connection } = await setUp({ pageSize: 3 });
    fake.state.failNext(/\/limits$/, 403, { message: 'The REST API is not enabled for this Organization.', errorCode: 'API_DISABLED_FOR_ORG' });
    const first = await runImport(db.pool, connection.id, FAST);
    expect(first.outcome).toEqual({ status: 'needs_reauth', error: 'The REST API is not enabled for this Organization. (API_DISABLED_FOR_ORG)' });

    await db.pool.query(`UPDATE import_connections SET status = 'active' WHERE id = $1`, [connection.id]);
    fake.state.failNext(/\/query\/01g/, 403, { message: 'insufficient access rights on object id', errorCode: 'INSUFFICIENT_ACCESS' });
    const second = await runImport(db.pool, connection.id, FAST);
    expect(second.outcome).toEqual({ status: 'needs_reauth', error: 'insufficient access rights on object id (INSUFFICIENT_ACCESS)' });
    // The page before the refusal stays imported.
    expect((await salesforceDump(db.pool, workspace.id)).totals.customers).toBe(3);
  });

  it('5xx and a concurrent-request REQUEST_LIMIT_EXCEEDED are retried in place', async () => {
    const { db, fake, workspace, connection } = await setUp({ pageSize: 3, faults: [{ path: '/query/', status: 503, times: 2 }, { path: '/query', status: 500, html: true, times: 1 }] });
    fake.state.failNext(/\/query\/01g/, 403, { message: 'ConcurrentPerOrgLongTxn Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' });
    const reference = await referenceDump();
    const { outcomes } = await runImport(db.pool, connection.id, FAST);
    expect(outcomes.map((o) => o.status)).toEqual(['succeeded']);
    expect(fake.pendingFaults()).toEqual([]);
    expect(await salesforceDump(db.pool, workspace.id)).toEqual(reference);
  });
});

describe('the org\'s daily API allocation', () => {
  it('past 80% of the allocation (the default share) the run stops cleanly, keeps its checkpoint, and resumes later', async () => {
    // 77 of 100 used: /limits (78), the query (79), one more page (80); the next call would pass 80%.
    const { db, fake, workspace, connection } = await setUp({ pageSize: 3, usage: { used: 77, max: 100 } });
    const reference = await referenceDump();
    const run = (await createRun(db.pool, connection.id))!;
    const started = Date.now();
    const outcome = await slice(db.pool, run.id);
    expect(outcome.status).toBe('waiting');
    expect(fake.state.usage.used).toBe(80);
    const parked = (await getRun(db.pool, workspace.id, run.id))!;
    expect(parked.status).toBe('waiting');
    expect(parked.error).toContain('the org has used 80 of its 100 daily API calls (80%); this connection stops at 80%');
    // The default pause: an hour.
    expect(parked.retryAt!.getTime()).toBeGreaterThanOrEqual(started + HOUR - 1_000);
    expect(parked.retryAt!.getTime()).toBeLessThanOrEqual(Date.now() + HOUR + 1_000);
    expect(parked.progress).toEqual({ contacts: { pages: 2, done: false } });
    expect((await salesforceDump(db.pool, workspace.id)).totals.customers).toBe(6);
    expect(await getConnection(db.pool, workspace.id, connection.id)).toMatchObject({ status: 'active' });
    // Before its time the run stays parked.
    expect((await slice(db.pool, run.id)).status).toBe('busy');

    // A day later the org's usage has rolled over: the run goes on from its checkpoint.
    fake.state.usage.used = 10;
    await timeHasCome(db.pool, run.id);
    expect((await slice(db.pool, run.id)).status).toBe('succeeded');
    expect(await salesforceDump(db.pool, workspace.id)).toEqual(reference);
    expect(servedTwice(fake)).toEqual([]);
    expect((await getRun(db.pool, workspace.id, run.id))!.counts.contacts).toEqual({ created: 12, linked: 0, skipped: 0, failed: 0 });
  });

  it('without the right to read /limits the Sforce-Limit-Info header alone stops the run', async () => {
    const { db, fake, workspace, connection } = await setUp({ pageSize: 3, usage: { used: 7, max: 10 } }, { maxOrgApiUsagePercent: 90 });
    fake.state.limitsForbidden = true;
    const run = (await createRun(db.pool, connection.id))!;
    const outcome = await slice(db.pool, run.id);
    // /limits refused (8), the query (9): its header says 9 of 10, and a tenth call would pass 90%.
    expect(outcome.status).toBe('waiting');
    expect((outcome as { error: string }).error).toContain('the org has used 9 of its 10 daily API calls (90%); this connection stops at 90%');
    expect(fake.state.usage.used).toBe(9);
    expect((await salesforceDump(db.pool, workspace.id)).totals.customers).toBe(3);
  });

  it('REQUEST_LIMIT_EXCEEDED (TotalRequests): the run waits for the allocation, never asks for re-authorisation', async () => {
    const { db, fake, workspace, connection } = await setUp({ pageSize: 3 });
    fake.state.failNext(/\/query\/01g/, 403, { message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' });
    const run = (await createRun(db.pool, connection.id))!;
    const outcome = await slice(db.pool, run.id);
    expect(outcome.status).toBe('waiting');
    expect((outcome as { retryAt: Date }).retryAt.getTime()).toBeGreaterThan(Date.now() + HOUR - 60_000);
    expect((await getRun(db.pool, workspace.id, run.id))!.error).toContain('TotalRequests Limit exceeded. (REQUEST_LIMIT_EXCEEDED)');
    expect(await getConnection(db.pool, workspace.id, connection.id)).toMatchObject({ status: 'active', lastError: null });
    await timeHasCome(db.pool, run.id);
    expect((await slice(db.pool, run.id)).status).toBe('succeeded');
    expect((await salesforceDump(db.pool, workspace.id)).totals.customers).toBe(12);
  });

  it('a run spends at most maxCallsPerRun calls, then waits and goes on from its checkpoint', async () => {
    const { db, fake, workspace, connection } = await setUp({ pageSize: 2 }, { maxCallsPerRun: 3, allocationPauseMinutes: 0.01 });
    const reference = await referenceDump();
    const run = (await createRun(db.pool, connection.id))!;
    const spent: number[] = [];
    for (let i = 0; i < 50; i++) {
      const used = fake.state.usage.used;
      const outcome = await slice(db.pool, run.id);
      spent.push(fake.state.usage.used - used);
      if (outcome.status === 'succeeded') break;
      expect(outcome.status).toBe('waiting');
      expect((outcome as { error: string }).error).toContain('this run has spent its 3 API calls (maxCallsPerRun)');
      await new Promise((r) => setTimeout(r, Math.max(0, (outcome as { retryAt: Date }).retryAt.getTime() - Date.now())));
    }
    // Six pages of two: each slice reads /limits, restarts the query from its checkpoint and follows one locator.
    expect(spent).toEqual([3, 3, 3]);
    expect(await salesforceDump(db.pool, workspace.id)).toEqual(reference);
    expect(servedTwice(fake)).toEqual([]);
  });

  it('at the default of 1,000 calls per run the run stops at exactly 1,000 and waits an hour', async () => {
    const { db, fake, workspace, connection } = await setUp({ pageSize: 3 });
    const run = (await createRun(db.pool, connection.id))!;
    // The first page, then the worker stops (a shutdown): the run continues in another slice.
    const stop = new AbortController();
    expect((await slice(db.pool, run.id, { signal: stop.signal, onPage: () => stop.abort() })).status).toBe('continue');
    // As if the run had already spent 998 calls on earlier pages.
    await db.pool.query(`UPDATE import_cursors SET cursor = jsonb_set(cursor, '{calls}', '998') WHERE connection_id = $1`, [connection.id]);
    const used = fake.state.usage.used;
    const started = Date.now();
    const outcome = await slice(db.pool, run.id);
    expect(outcome.status).toBe('waiting');
    expect((outcome as { error: string }).error).toContain('this run has spent its 1000 API calls (maxCallsPerRun)');
    // /limits (999) and one page (1000): two calls, then the stop.
    expect(fake.state.usage.used - used).toBe(2);
    expect((outcome as { retryAt: Date }).retryAt.getTime()).toBeGreaterThanOrEqual(started + HOUR - 1_000);
    expect((await getRun(db.pool, workspace.id, run.id))!.progress).toEqual({ contacts: { pages: 2, done: false } });
  });
});

/** What an uninterrupted import of the fixtures writes, in a database of its own. */
async function referenceDump() {
  const ref = await createTestDatabase();
  const f = await startFakeSalesforce({ pageSize: 3 });
  try {
    const { workspace } = await makeWorkspace(ref.pool);
    const connection = await connectSalesforce(ref.pool, workspace.id, f);
    expect((await runImport(ref.pool, connection.id, FAST)).outcome.status).toBe('succeeded');
    return await salesforceDump(ref.pool, workspace.id);
  } finally {
    await f.close();
    await ref.close();
  }
}

// The registry offers Salesforce to the API and the CLI.
it('is registered', () => {
  expect(IMPORT_ADAPTERS.salesforce?.displayName).toBe('Salesforce');
});
