import { randomBytes } from 'node:crypto';
import type { Pool } from '../src/db/pool.ts';
import { newId } from '../src/domain/ids.ts';
import { createWorkspace } from '../src/domain/workspaces.ts';
import type { StreamCounts } from '../src/import/counts.ts';
import { DEFAULT_ZENDESK_AUTH, generateZendesk, startFakeProvider, type ZendeskSource } from '../test/support/fake-provider/index.ts';
import { openBenchDatabase } from './support/bench-database.ts';
import { describeCounts, env, importThroughEngine, mb, withRssPeak, type EngineRun } from './support/import-bench.ts';

/**
 * A Zendesk import through the real engine (adapter, HTTP client, page writer, ledger) from the
 * fake Zendesk server in this process. Phase 1, no rate limit: records/s per stream beside a
 * baseline measured in the same run (the same rows, one multi-row INSERT per page, no HTTP).
 * Phase 2: a small import against a scaled-down per-minute limit: requests/s achieved over allowed.
 */

// The adapter's default export page sizes; the baseline writes pages of the same size.
const USERS_PAGE = 1000;
const TICKETS_PAGE = 100;
const BASELINE_BASE = 'http://baseline.invalid';

type Sizes = { users: number; tickets: number; commentsPerTicket: number };

export async function benchImportZendesk(): Promise<void> {
  const sizes = { users: env('BENCH_USERS', 100_000), tickets: env('BENCH_TICKETS', 50_000), commentsPerTicket: env('BENCH_COMMENTS', 4) };
  const rateLimited = { users: env('BENCH_RL_USERS', 2000), tickets: env('BENCH_RL_TICKETS', 1200), commentsPerTicket: env('BENCH_COMMENTS', 4) };
  const limit = { limit: env('BENCH_RL_LIMIT', 50), windowMs: env('BENCH_RL_WINDOW_MS', 1000) };
  const phases = (process.env.BENCH_PHASES ?? '1,2').split(',');
  const db = await openBenchDatabase();
  try {
    if (phases.includes('1')) await phaseThroughput(db.pool, db.describe, sizes);
    if (phases.includes('2')) await phaseRateLimited(db.pool, rateLimited, limit);
    if (process.env.BENCH_PG_FLAGS?.includes('pg_stat_statements')) await printCostliestStatements(db.pool);
  } finally {
    await db.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Phase 1: throughput

async function phaseThroughput(pool: Pool, describe: string, sizes: Sizes): Promise<void> {
  const source = generateZendesk(sizes);
  // Baseline first, into its own workspace: the engine then writes into tables already that big.
  const baseline = await withRssPeak(() => insertBaseline(pool, source));
  const fake = await startFakeProvider({ rateLimit: false, data: source });
  try {
    const engine = await withRssPeak(() => importZendesk(pool, fake.url));
    const requests = fake.requests.length;
    console.log(`import-zendesk phase 1 (${sizes.users} users, ${sizes.tickets} tickets x ${sizes.commentsPerTicket} comments, no rate limit, ${describe})`);
    console.log(`  the fake Zendesk server runs in this process and shares its CPU: the engine's rates include serving ${requests} requests`);
    printBaseline(baseline.result, baseline.peakRss);
    printEngine(engine.result, baseline.result, engine.peakRss, requests);
  } finally {
    await fake.close();
  }
}

type BaselineResult = { usersSec: number; users: number; ticketsSec: number; tickets: number; comments: number };

/** The same rows the import creates (customers, threads, entries), one statement per page, no ledger. */
async function insertBaseline(pool: Pool, source: ZendeskSource): Promise<BaselineResult> {
  const { workspace } = await createWorkspace(pool, randomBytes(32), { name: 'Baseline', supportAddress: 'help@baseline.dev' });
  const customerIds = new Map<number, string>();
  const u0 = performance.now();
  for (let i = 0; i < source.userCount; i += USERS_PAGE) {
    await insertUserPage(pool, workspace.id, source, i, Math.min(source.userCount, i + USERS_PAGE), customerIds);
  }
  const usersSec = (performance.now() - u0) / 1000;
  let comments = 0;
  const t0 = performance.now();
  for (let j = 0; j < source.ticketCount; j += TICKETS_PAGE) {
    comments += await insertTicketPage(pool, workspace.id, source, j, Math.min(source.ticketCount, j + TICKETS_PAGE), customerIds);
  }
  return { usersSec, users: source.userCount, ticketsSec: (performance.now() - t0) / 1000, tickets: source.ticketCount, comments };
}

async function insertUserPage(pool: Pool, workspaceId: string, source: ZendeskSource, from: number, to: number, customerIds: Map<number, string>): Promise<void> {
  const rows = [];
  for (let i = from; i < to; i++) {
    const u = source.userAt(i, BASELINE_BASE);
    // Agents become authors, not customers, as in the import.
    if (u.role !== 'end-user') continue;
    const id = newId('customer', Date.parse(u.created_at));
    customerIds.set(u.id, id);
    rows.push({ id, email: u.email, full_name: u.name, created_at: u.created_at });
  }
  await pool.query(
    `INSERT INTO customers (id, workspace_id, email, full_name, origin, created_at, updated_at)
     SELECT x.id, $1, x.email, x.full_name, 'import', x.created_at, x.created_at
       FROM jsonb_to_recordset($2) AS x(id text, email text, full_name text, created_at timestamptz)`,
    [workspaceId, JSON.stringify(rows)],
  );
}

/** One page of tickets and all their comments in a single statement (threads in a CTE); answers the comment count. */
async function insertTicketPage(pool: Pool, workspaceId: string, source: ZendeskSource, from: number, to: number, customerIds: Map<number, string>): Promise<number> {
  const threads = [];
  const entries = [];
  for (let j = from; j < to; j++) {
    const t = source.ticketAt(j, BASELINE_BASE);
    // Deleted tickets are skipped by the import too.
    if (t.status === 'deleted') continue;
    const threadId = newId('thread', Date.parse(t.created_at));
    const status = t.status === 'solved' || t.status === 'closed' ? 'DONE' : 'TODO';
    threads.push({ id: threadId, customer_id: customerIds.get(t.requester_id), title: t.subject, status, channel: 'EMAIL', created_at: t.created_at });
    for (const c of source.commentsFor(t.id, BASELINE_BASE)) {
      entries.push({ id: newId('timelineEntry', Date.parse(c.created_at)), thread_id: threadId, ...entryAuthor(source, c.author_id, c.public, customerIds), text: c.plain_body, html: c.html_body, created_at: c.created_at });
    }
  }
  await pool.query(
    `WITH t AS (
       INSERT INTO threads (id, workspace_id, customer_id, title, status, channel, origin, status_changed_at, created_at, updated_at)
       SELECT x.id, $1, x.customer_id, x.title, x.status, x.channel, 'import', x.created_at, x.created_at, x.created_at
         FROM jsonb_to_recordset($2) AS x(id text, customer_id text, title text, status text, channel text, created_at timestamptz))
     INSERT INTO timeline_entries (id, workspace_id, thread_id, kind, author_type, author_customer_id, author_name, author_email, text, html, origin, created_at)
     SELECT x.id, $1, x.thread_id, x.kind, x.author_type, x.author_customer_id, x.author_name, x.author_email, x.text, x.html, 'import', x.created_at
       FROM jsonb_to_recordset($3) AS x(id text, thread_id text, kind text, author_type text, author_customer_id text, author_name text, author_email text, text text, html text, created_at timestamptz)`,
    [workspaceId, JSON.stringify(threads), JSON.stringify(entries)],
  );
  return entries.length;
}

/** The author columns the page writer derives: customer, agent (a user) or Zendesk itself. */
function entryAuthor(source: ZendeskSource, authorId: number, isPublic: boolean, customerIds: Map<number, string>) {
  const customerId = customerIds.get(authorId);
  if (customerId) return { kind: isPublic ? 'inbound_message' : 'note', author_type: 'customer', author_customer_id: customerId };
  const agent = source.userById(authorId, BASELINE_BASE);
  if (agent) return { kind: isPublic ? 'outbound_message' : 'note', author_type: 'user', author_name: agent.name, author_email: agent.email };
  return { kind: isPublic ? 'outbound_message' : 'note', author_type: 'system', author_name: 'Zendesk' };
}

type EngineResult = EngineRun;

function importZendesk(pool: Pool, baseUrl: string, settings: Record<string, unknown> = {}): Promise<EngineResult> {
  return importThroughEngine(pool, {
    provider: 'zendesk',
    account: 'acme',
    credentials: { email: DEFAULT_ZENDESK_AUTH.email, apiToken: DEFAULT_ZENDESK_AUTH.apiToken },
    settings: { subdomain: 'acme', baseUrl, ...settings },
  });
}

const total = (c: StreamCounts | undefined) => (c ? c.created + c.linked + c.skipped + c.failed : 0);
const perSec = (n: number, sec: number) => Math.round(n / sec);
function printBaseline(b: BaselineResult, peakRss: number): void {
  console.log(
    `  baseline, one multi-row INSERT per page (customers; threads + timeline entries), no HTTP, no ledger: users ${perSec(b.users, b.usersSec)}/s (${b.usersSec.toFixed(1)} s)` +
      `  tickets ${perSec(b.tickets, b.ticketsSec)}/s  comments ${perSec(b.comments, b.ticketsSec)}/s (${b.ticketsSec.toFixed(1)} s)  peak RSS ${mb(peakRss)}`,
  );
}

function printEngine(e: EngineResult, b: BaselineResult, peakRss: number, requests: number): void {
  const { organizations, users, tickets } = e.marks;
  if (!organizations || !users || !tickets) throw new Error(`the import did not finish every stream: ${e.outcome}`);
  const usersSec = (users.at - organizations.at) / 1000;
  const ticketsSec = (tickets.at - users.at) / 1000;
  const userRecords = total(users.counts.users) + total(users.counts.agents);
  const ticketRecords = total(e.counts.tickets);
  const comments = e.counts.comments?.created ?? 0;
  const ratio = (engine: number, base: number) => `ratio ${(engine / base).toFixed(3)}x of baseline`;
  const totalSec = (tickets.at - e.start) / 1000;
  console.log(`  engine users stream:   ${perSec(userRecords, usersSec)}/s (${ratio(userRecords / usersSec, b.users / b.usersSec)})  ${userRecords} users in ${usersSec.toFixed(1)} s`);
  console.log(
    `  engine tickets stream: tickets ${perSec(ticketRecords, ticketsSec)}/s (${ratio(ticketRecords / ticketsSec, b.tickets / b.ticketsSec)})` +
      `  comments ${perSec(comments, ticketsSec)}/s (${ratio(comments / ticketsSec, b.comments / b.ticketsSec)})  ${ticketRecords} tickets, ${comments} comments in ${ticketsSec.toFixed(1)} s`,
  );
  console.log(`  engine whole run: ${totalSec.toFixed(1)} s, ${perSec(requests, totalSec)} requests/s, peak RSS ${mb(peakRss)} (includes the fake server and its request log)  outcome ${e.outcome}`);
  console.log(`  counts: ${describeCounts(e.counts)}`);
}

/** created/linked/skipped/failed per count name. */
// ---------------------------------------------------------------------------------------------
// Phase 2: a rate-limited import

async function phaseRateLimited(pool: Pool, sizes: Sizes, limit: { limit: number; windowMs: number }): Promise<void> {
  const fake = await startFakeProvider({ rateLimit: limit, data: generateZendesk(sizes) });
  try {
    // Small export pages so that the import is many requests, not a few large ones.
    const e = await importZendesk(pool, fake.url, { pageSize: 100 });
    // The fake logs Date.now() times.
    const end = Date.now();
    const budgeted = fake.requests.filter((r) => !r.path.startsWith('/attachments/'));
    const firstAt = budgeted[0]!.at;
    const afterFirst = budgeted.filter((r) => r.at >= firstAt + limit.windowMs);
    const achieved = afterFirst.filter((r) => r.status !== 429).length / ((end - firstAt - limit.windowMs) / 1000);
    const allowed = (limit.limit * 1000) / limit.windowMs;
    const throttledLater = afterFirst.filter((r) => r.status === 429).length;
    console.log(`import-zendesk phase 2 (${sizes.users} users, ${sizes.tickets} tickets x ${sizes.commentsPerTicket} comments, export pages of 100, fake limit ${limit.limit} requests per ${limit.windowMs} ms)`);
    // Requests go out in a burst at each window's start: the ratio means something only over many windows.
    const windows = (end - firstAt - limit.windowMs) / limit.windowMs;
    console.log(`  ${budgeted.length} rate-limited requests in ${((end - firstAt) / 1000).toFixed(1)} s; after the first window (${windows.toFixed(1)} windows): ${achieved.toFixed(1)} requests/s of ${allowed.toFixed(1)} allowed (ratio ${(achieved / allowed).toFixed(3)}, target >= 0.9)`);
    console.log(`  429s: ${fake.rateLimitedCount()} in all, ${throttledLater} after the first window; run parked ${e.parks} times; outcome ${e.outcome}`);
    console.log(`  counts: ${describeCounts(e.counts)}`);
  } finally {
    await fake.close();
  }
}

async function printCostliestStatements(pool: Pool): Promise<void> {
  await pool.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  const { rows } = await pool.query(`SELECT calls, round(total_exec_time)::int AS ms, round(mean_exec_time::numeric, 3) AS mean, left(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS q FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 25`);
  for (const r of rows) console.log(`    ${String(r.ms).padStart(6)} ms ${String(r.calls).padStart(6)} calls ${r.mean} ms  ${r.q}`);
}
