import { randomBytes } from 'node:crypto';
import { mapAccount } from '../importers/salesforce/map.ts';
import type { Pool } from '../src/db/pool.ts';
import { newId } from '../src/domain/ids.ts';
import { createWorkspace } from '../src/domain/workspaces.ts';
import type { RunCounts } from '../src/import/counts.ts';
import { FAKE_ORG_ID, generateSalesforce, startFakeSalesforce, type FakeSalesforce, type SalesforceSource } from '../test/support/fake-provider/index.ts';
import { salesforceCredentials } from '../test/support/fake-provider/salesforce-connection.ts';
import { openBenchDatabase } from './support/bench-database.ts';
import { describeCounts, env, importThroughEngine, mb, withRssPeak } from './support/import-bench.ts';

/**
 * A Salesforce import through the real engine (adapter, HTTP client with its OAuth refresh, page
 * writer, ledger) from the fake Salesforce in this process: 200,000 contacts on 20,000 accounts in
 * query pages of 2,000. Beside it, a baseline measured in the same run: the same customers, tenants
 * and memberships, one multi-row INSERT per page of 2,000, no HTTP, no ledger. The org's API
 * allocation is the scarce resource: calls per 1,000 contacts are reported, with the accounts as
 * relationship fields (the adapter's query) and, in phase 2, without them (Id IN queries).
 */

const PAGE = 2000;

type Sizes = { contacts: number; accounts: number };

export async function benchImportSalesforce(): Promise<void> {
  const sizes = { contacts: env('BENCH_SF_CONTACTS', 200_000), accounts: env('BENCH_SF_ACCOUNTS', 20_000) };
  const fallback = { contacts: env('BENCH_SF_FALLBACK_CONTACTS', 20_000), accounts: env('BENCH_SF_FALLBACK_ACCOUNTS', 2_000) };
  const phases = (process.env.BENCH_PHASES ?? '1,2').split(',');
  const db = await openBenchDatabase();
  try {
    if (phases.includes('1')) await phaseThroughput(db.pool, db.describe, sizes);
    if (phases.includes('2')) await phaseWithoutRelationships(db.pool, fallback);
  } finally {
    await db.close();
  }
}

async function phaseThroughput(pool: Pool, describe: string, sizes: Sizes): Promise<void> {
  const source = generateSalesforce({ ...sizes, seed: 11 });
  const baseline = await withRssPeak(() => insertBaseline(pool, source));
  const fake = await startFakeSalesforce({ data: source });
  try {
    const engine = await withRssPeak(() => importSalesforce(pool, fake));
    const records = total(engine.result.counts);
    console.log(`import-salesforce phase 1 (${sizes.contacts} contacts on ${sizes.accounts} accounts, query pages of ${PAGE}, ${describe})`);
    console.log(`  the fake Salesforce runs in this process and shares its CPU (it evaluates every SOQL query over the whole org)`);
    console.log(`  baseline, one multi-row INSERT per page (customers, tenants, memberships), no HTTP, no ledger: ${perSec(baseline.result.records, baseline.result.sec)} records/s (${baseline.result.records} in ${baseline.result.sec.toFixed(1)} s), peak RSS ${mb(baseline.peakRss)}`);
    console.log(
      `  engine: ${perSec(records, engine.result.sec)} records/s (ratio ${(records / engine.result.sec / (baseline.result.records / baseline.result.sec)).toFixed(3)}x of baseline), ${records} in ${engine.result.sec.toFixed(1)} s, peak RSS ${mb(engine.peakRss)} (includes the fake server)  outcome ${engine.result.outcome}`,
    );
    printCalls(fake, sizes.contacts);
    console.log(`  counts: ${describeCounts(engine.result.counts)}`);
  } finally {
    await fake.close();
  }
}

async function phaseWithoutRelationships(pool: Pool, sizes: Sizes): Promise<void> {
  const fake = await startFakeSalesforce({ data: generateSalesforce({ ...sizes, seed: 12 }) });
  fake.state.dropRelationshipFields = true;
  try {
    const engine = await importSalesforce(pool, fake);
    console.log(`import-salesforce phase 2 (${sizes.contacts} contacts on ${sizes.accounts} accounts, records without relationship fields: accounts read by Id IN, 200 a query)`);
    console.log(`  ${perSec(total(engine.counts), engine.sec)} records/s in ${engine.sec.toFixed(1)} s  outcome ${engine.outcome}`);
    printCalls(fake, sizes.contacts);
  } finally {
    await fake.close();
  }
}

function printCalls(fake: FakeSalesforce, contacts: number): void {
  const calls = fake.state.usage.used;
  const queries = fake.state.queries.length;
  const accountQueries = fake.state.queries.filter((q) => q.includes('FROM Account')).length;
  console.log(
    `  API calls counted by the org: ${calls} (${((calls / contacts) * 1000).toFixed(2)} per 1,000 contacts): /limits, ${queries - accountQueries} contact queries, ${accountQueries} account queries, the rest nextRecordsUrl pages; token refreshes (not counted): ${fake.state.tokenRequests}`,
  );
}

type BaselineResult = { records: number; sec: number };

/** The rows the import creates, one statement per page of 2,000 contacts: new tenants, customers, memberships. */
async function insertBaseline(pool: Pool, source: SalesforceSource): Promise<BaselineResult> {
  const { workspace } = await createWorkspace(pool, randomBytes(32), { name: 'Baseline', supportAddress: 'help@baseline.dev' });
  const tenantIds = new Map<string, string>();
  let records = 0;
  const t0 = performance.now();
  for (let i = 0; i < source.contactCount; i += PAGE) {
    const tenants = [];
    const customers = [];
    const members = [];
    for (let j = i; j < Math.min(source.contactCount, i + PAGE); j++) {
      const c = source.contactAt(j);
      const customerId = newId('customer', Date.parse(c.CreatedDate.replace('+0000', 'Z')));
      customers.push({ id: customerId, email: c.Email, full_name: [c.FirstName, c.LastName].filter(Boolean).join(' '), created_at: c.CreatedDate.replace('+0000', 'Z') });
      if (!c.AccountId) continue;
      let tenantId = tenantIds.get(c.AccountId);
      if (!tenantId) {
        tenantId = newId('tenant');
        tenantIds.set(c.AccountId, tenantId);
        const t = mapAccount(source.accountById(c.AccountId)!);
        tenants.push({ id: tenantId, external_id: t.externalId, name: t.name, domain: t.domain ?? null });
      }
      members.push({ tenant_id: tenantId, customer_id: customerId });
    }
    records += customers.length + tenants.length;
    await pool.query(
      `WITH t AS (
         INSERT INTO tenants (id, workspace_id, external_id, name, domain, origin)
         SELECT x.id, $1, x.external_id, x.name, x.domain, 'import' FROM jsonb_to_recordset($2) AS x(id text, external_id text, name text, domain text)),
       c AS (
         INSERT INTO customers (id, workspace_id, email, full_name, origin, created_at, updated_at)
         SELECT x.id, $1, x.email, x.full_name, 'import', x.created_at, x.created_at FROM jsonb_to_recordset($3) AS x(id text, email text, full_name text, created_at timestamptz))
       INSERT INTO tenant_customers (workspace_id, tenant_id, customer_id, origin)
       SELECT $1, x.tenant_id, x.customer_id, 'import' FROM jsonb_to_recordset($4) AS x(tenant_id text, customer_id text)`,
      [workspace.id, JSON.stringify(tenants), JSON.stringify(customers), JSON.stringify(members)],
    );
  }
  return { records, sec: (performance.now() - t0) / 1000 };
}

async function importSalesforce(pool: Pool, fake: FakeSalesforce): Promise<{ sec: number; counts: RunCounts; outcome: string }> {
  const e = await importThroughEngine(pool, { provider: 'salesforce', account: FAKE_ORG_ID, credentials: salesforceCredentials(fake), settings: { loginUrl: fake.loginUrl } });
  return { sec: e.seconds, counts: e.counts, outcome: e.outcome };
}

const total = (counts: RunCounts) => Object.values(counts).reduce((n, c) => n + c.created + c.linked + c.skipped + c.failed, 0);
const perSec = (n: number, sec: number) => Math.round(n / sec);
