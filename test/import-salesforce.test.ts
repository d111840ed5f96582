import { afterEach, describe, expect, it } from 'vitest';
import { IMPORT_ADAPTERS } from '../importers/index.ts';
import { findOrCreateCustomerByEmail } from '../src/domain/customers.ts';
import { getConnection } from '../src/import/connections.ts';
import { executeRun, type ExecuteDeps } from '../src/import/execute-run.ts';
import { createRun, getRun, listRecordErrors } from '../src/import/runs.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { FAKE_ORG_ID, startFakeSalesforce, type FakeSalesforce, type SalesforceOptions } from './support/fake-provider/index.ts';
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

async function setUp(options: SalesforceOptions = {}, settings: Record<string, unknown> = {}) {
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
});
