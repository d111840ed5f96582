import { randomBytes } from 'node:crypto';
import type { Pool } from '../src/db/pool.ts';
import { newId } from '../src/domain/ids.ts';
import { createWorkspace } from '../src/domain/workspaces.ts';
import type { RunCounts } from '../src/import/counts.ts';
import { DEFAULT_HUBSPOT_AUTH, generateHubSpot, HUBSPOT_PORTAL_ID, startFakeHubSpot, type HubSpotSource } from '../test/support/fake-provider/index.ts';
import { openBenchDatabase } from './support/bench-database.ts';
import { describeCounts, env, importThroughEngine, mb, withRssPeak } from './support/import-bench.ts';

/**
 * A HubSpot import through the real engine (adapter, HTTP client, page writer, ledger) from the
 * fake HubSpot in this process. Phase 1, no rate limit: contacts and companies per second beside a
 * baseline measured in the same run (the same rows, one multi-row INSERT statement per page, no
 * HTTP, no ledger). Phase 2: against HubSpot's rolling 10-second window: requests per second
 * achieved over allowed, and 429s after the first window.
 */

/** The adapter's page: 100 contacts. */
const PAGE = 100;

export async function benchImportHubSpot(): Promise<void> {
  const sizes = { contacts: env('BENCH_CONTACTS', 100_000), companies: env('BENCH_COMPANIES', 10_000) };
  const rateLimited = { contacts: env('BENCH_RL_CONTACTS', 60_000), companies: env('BENCH_RL_COMPANIES', 6_000) };
  const window = { max: env('BENCH_RL_MAX', 100), intervalMs: env('BENCH_RL_INTERVAL_MS', 10_000) };
  const phases = (process.env.BENCH_PHASES ?? '1,2').split(',');
  const db = await openBenchDatabase();
  try {
    if (phases.includes('1')) await phaseThroughput(db.pool, db.describe, sizes);
    if (phases.includes('2')) await phaseRateLimited(db.pool, rateLimited, window);
  } finally {
    await db.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Phase 1: throughput

async function phaseThroughput(pool: Pool, describe: string, sizes: { contacts: number; companies: number }): Promise<void> {
  const source = generateHubSpot({ ...sizes, seed: 5 });
  const baseline = await withRssPeak(() => insertBaseline(pool, source));
  const fake = await startFakeHubSpot({ data: source, limits: false });
  try {
    const engine = await withRssPeak(() => importHubSpot(pool, fake.url));
    const seconds = engine.result.seconds;
    const records = total(engine.result.counts, 'contacts') + total(engine.result.counts, 'companies');
    const baseRecords = baseline.result.contacts + baseline.result.companies;
    const requests = fake.requests.length;
    console.log(`import-hubspot phase 1 (${sizes.contacts} contacts, ${sizes.companies} companies, no rate limit, ${describe})`);
    console.log(`  the fake HubSpot runs in this process and shares its CPU: the engine's rates include serving ${requests} requests`);
    console.log(
      `  baseline, one multi-row INSERT statement per page of ${PAGE} (customers, new tenants, memberships), no HTTP, no ledger: ${perSec(baseRecords, baseline.result.seconds)} records/s` +
        ` (${baseline.result.contacts} contacts + ${baseline.result.companies} companies, ${baseline.result.memberships} memberships in ${baseline.result.seconds.toFixed(1)} s)  peak RSS ${mb(baseline.peakRss)}`,
    );
    console.log(
      `  engine: ${perSec(records, seconds)} records/s (ratio ${(records / seconds / (baseRecords / baseline.result.seconds)).toFixed(3)}x of baseline)` +
        `  contacts ${perSec(total(engine.result.counts, 'contacts'), seconds)}/s  ${records} records in ${seconds.toFixed(1)} s, ${perSec(requests, seconds)} requests/s, peak RSS ${mb(engine.peakRss)} (includes the fake server and its data)  outcome ${engine.result.outcome}`,
    );
    console.log(`  counts: ${describeCounts(engine.result.counts)}`);
  } finally {
    await fake.close();
  }
}

/** The rows the import creates, per page of 100 contacts: customers, the tenants first seen, memberships; one statement. */
async function insertBaseline(pool: Pool, source: HubSpotSource): Promise<{ seconds: number; contacts: number; companies: number; memberships: number }> {
  const { workspace } = await createWorkspace(pool, randomBytes(32), { name: 'Baseline', supportAddress: 'help@baseline.dev' });
  const companies = new Map(source.companies.map((c) => [c.id, c]));
  const tenantIds = new Map<string, string>();
  let memberships = 0;
  const started = performance.now();
  for (let i = 0; i < source.contacts.length; i += PAGE) {
    const customers = [];
    const tenants = [];
    const members = [];
    for (const c of source.contacts.slice(i, i + PAGE)) {
      const id = newId('customer', Date.parse(c.createdate));
      const name = [c.firstname, c.lastname].filter(Boolean).join(' ');
      customers.push({ id, email: c.email?.toLowerCase() ?? null, full_name: name || c.email?.split('@')[0] || `HubSpot contact ${c.id}`, created_at: c.createdate });
      for (const companyId of new Set(c.companyIds)) {
        let tenantId = tenantIds.get(companyId);
        if (!tenantId) {
          const company = companies.get(companyId)!;
          tenantIds.set(companyId, (tenantId = newId('tenant')));
          tenants.push({ id: tenantId, external_id: company.id, name: company.name ?? company.id, domain: company.domain });
        }
        members.push({ tenant_id: tenantId, customer_id: id });
      }
    }
    memberships += members.length;
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
  return { seconds: (performance.now() - started) / 1000, contacts: source.contacts.length, companies: tenantIds.size, memberships };
}

function importHubSpot(pool: Pool, baseUrl: string) {
  return importThroughEngine(pool, { provider: 'hubspot', account: String(HUBSPOT_PORTAL_ID), credentials: { accessToken: DEFAULT_HUBSPOT_AUTH.privateAppToken }, settings: { baseUrl } });
}

// ---------------------------------------------------------------------------------------------
// Phase 2: HubSpot's rolling window

async function phaseRateLimited(pool: Pool, sizes: { contacts: number; companies: number }, window: { max: number; intervalMs: number }): Promise<void> {
  const fake = await startFakeHubSpot({ data: generateHubSpot({ ...sizes, seed: 9 }), limits: { max: window.max, intervalMs: window.intervalMs, daily: 1_000_000 } });
  try {
    const e = await importHubSpot(pool, fake.url);
    const end = Date.now();
    const budgeted = fake.requests.filter((r) => !r.path.endsWith('/search') && !r.path.startsWith('/oauth/'));
    const firstAt = budgeted[0]!.at;
    // Whole windows after the first one: a rolling window lets any 10 s hold the limit, so only whole windows compare.
    const windows = Math.floor((end - firstAt - window.intervalMs) / window.intervalMs);
    if (windows < 1) throw new Error('the rate-limited import ended within two windows: give it more contacts (BENCH_RL_CONTACTS)');
    const from = firstAt + window.intervalMs;
    const to = from + windows * window.intervalMs;
    const measured = budgeted.filter((r) => r.at >= from && r.at < to);
    const achieved = measured.filter((r) => r.status !== 429).length / ((to - from) / 1000);
    const allowed = (window.max * 1000) / window.intervalMs;
    const throttledLater = budgeted.filter((r) => r.at >= from && r.status === 429).length;
    console.log(`import-hubspot phase 2 (${sizes.contacts} contacts, ${sizes.companies} companies, fake limit ${window.max} requests per rolling ${window.intervalMs} ms)`);
    console.log(
      `  ${budgeted.length} rate-limited requests in ${((end - firstAt) / 1000).toFixed(1)} s; over the ${windows} whole windows after the first: ` +
        `${achieved.toFixed(2)} requests/s of ${allowed.toFixed(2)} allowed (ratio ${(achieved / allowed).toFixed(3)}, target >= 0.9)`,
    );
    console.log(`  429s: ${fake.requests.filter((r) => r.status === 429).length} in all, ${throttledLater} after the first window (target 0); run parked ${e.parks} times; outcome ${e.outcome}`);
    console.log(`  counts: ${describeCounts(e.counts)}`);
  } finally {
    await fake.close();
  }
}

const total = (counts: RunCounts, name: string) => {
  const c = counts[name];
  return c ? c.created + c.linked + c.skipped + c.failed : 0;
};
const perSec = (n: number, sec: number) => Math.round(n / sec);
