import { randomBytes } from 'node:crypto';
import type { Pool } from '../src/db/pool.ts';
import { newId } from '../src/domain/ids.ts';
import { createWorkspace } from '../src/domain/workspaces.ts';
import type { StreamCounts } from '../src/import/counts.ts';
import { DEFAULT_HELPSCOUT_APP, generateHelpScout, startFakeHelpScout, type HelpScoutSource } from '../test/support/fake-provider/index.ts';
import { openBenchDatabase } from './support/bench-database.ts';
import { describeCounts, env, importThroughEngine, mb, withRssPeak, type EngineRun } from './support/import-bench.ts';

/**
 * A Help Scout import through the real engine (adapter, HTTP client, page writer, ledger) from the
 * fake Help Scout in this process. Phase 1, no rate limit: records/s per stream beside a baseline
 * measured in the same run (the same rows, one multi-row INSERT per page, no HTTP). Phase 2: a
 * smaller import against Help Scout's per-minute limit scaled down to a second: requests/s
 * achieved over allowed, and 429s after the first window.
 */

// Help Scout's page sizes; the baseline writes pages of the same size.
const CUSTOMERS_PAGE = 50;
const CONVERSATIONS_PAGE = 25;

type Sizes = { customers: number; conversations: number; threads: number; attachments: number };

export async function benchImportHelpScout(): Promise<void> {
  const sizes: Sizes = { customers: env('BENCH_CUSTOMERS', 20_000), conversations: env('BENCH_CONVERSATIONS', 10_000), threads: env('BENCH_THREADS', 4), attachments: env('BENCH_ATTACHMENTS', 1_000) };
  const limited: Sizes = { customers: env('BENCH_RL_CUSTOMERS', 2_000), conversations: env('BENCH_RL_CONVERSATIONS', 1_500), threads: sizes.threads, attachments: env('BENCH_RL_ATTACHMENTS', 150) };
  const limit = { limit: env('BENCH_RL_LIMIT', 50), windowMs: env('BENCH_RL_WINDOW_MS', 1_000) };
  const phases = (process.env.BENCH_PHASES ?? '1,2').split(',');
  const db = await openBenchDatabase();
  try {
    if (phases.includes('1')) await phaseThroughput(db.pool, db.describe, sizes);
    if (phases.includes('2')) await phaseRateLimited(db.pool, limited, limit);
  } finally {
    await db.close();
  }
}

const generate = (s: Sizes) => generateHelpScout({ customers: s.customers, conversations: s.conversations, threadsPerConversation: s.threads, attachments: s.attachments });

// ---------------------------------------------------------------------------------------------
// Phase 1: throughput

async function phaseThroughput(pool: Pool, describe: string, sizes: Sizes): Promise<void> {
  const source = generate(sizes);
  // Baseline first, into its own workspace: the engine then writes into tables already that big.
  const baseline = await withRssPeak(() => insertBaseline(pool, source));
  const fake = await startFakeHelpScout({ rateLimit: false, data: source });
  try {
    const engine = await withRssPeak(() => importHelpScout(pool, fake.url));
    const requests = fake.requests.length;
    console.log(`import-helpscout phase 1 (${sizes.customers} customers, ${sizes.conversations} conversations x ${sizes.threads} threads, ${sizes.attachments} attachments, no rate limit, ${describe})`);
    console.log(`  the fake Help Scout runs in this process and shares its CPU: the engine's rates include serving ${requests} requests`);
    printBaseline(baseline.result, baseline.peakRss);
    printEngine(engine.result, baseline.result, engine.peakRss, requests);
  } finally {
    await fake.close();
  }
}

type BaselineResult = { customersSec: number; customers: number; conversationsSec: number; conversations: number; threads: number };

/** The same rows the import creates (customers; threads and timeline entries), one statement per page, no ledger. */
async function insertBaseline(pool: Pool, source: HelpScoutSource): Promise<BaselineResult> {
  const { workspace } = await createWorkspace(pool, randomBytes(32), { name: 'Baseline', supportAddress: 'help@baseline.dev' });
  const customerIds = new Map<number, string>();
  const c0 = performance.now();
  for (let i = 0; i < source.customerCount; i += CUSTOMERS_PAGE) {
    const rows = [];
    for (let k = i; k < Math.min(source.customerCount, i + CUSTOMERS_PAGE); k++) {
      const c = source.customerAt(k);
      const id = newId('customer', Date.parse(c.createdAt));
      customerIds.set(c.id, id);
      rows.push({ id, email: c._embedded.emails[0]?.value?.toLowerCase() ?? null, full_name: `${c.firstName} ${c.lastName}`, created_at: c.createdAt });
    }
    await pool.query(
      `INSERT INTO customers (id, workspace_id, email, full_name, origin, created_at, updated_at)
       SELECT x.id, $1, x.email, x.full_name, 'import', x.created_at, x.created_at
         FROM jsonb_to_recordset($2) AS x(id text, email text, full_name text, created_at timestamptz)`,
      [workspace.id, JSON.stringify(rows)],
    );
  }
  const customersSec = (performance.now() - c0) / 1000;
  let conversations = 0;
  let threads = 0;
  const t0 = performance.now();
  for (const mailbox of source.mailboxes) {
    const count = source.conversationCount(mailbox.id);
    for (let i = 0; i < count; i += CONVERSATIONS_PAGE) {
      const threadRows = [];
      const entryRows = [];
      for (let k = i; k < Math.min(count, i + CONVERSATIONS_PAGE); k++) {
        const c = source.conversationAt(mailbox.id, k);
        const threadId = newId('thread', Date.parse(c.createdAt));
        const status = c.status === 'active' ? 'TODO' : c.status === 'pending' ? 'SNOOZED' : 'DONE';
        threadRows.push({ id: threadId, customer_id: customerIds.get(c.primaryCustomer!.id), title: c.subject, status, channel: c.type === 'chat' ? 'CHAT' : 'EMAIL', created_at: c.createdAt });
        for (const t of c._embedded.threads) {
          const byCustomer = t.createdBy.type === 'customer';
          const author = byCustomer ? { author_type: 'customer', author_customer_id: customerIds.get(t.createdBy.id) } : { author_type: 'user', author_name: `${t.createdBy.first} ${t.createdBy.last}`, author_email: t.createdBy.email };
          const kind = t.type === 'note' ? 'note' : byCustomer ? 'inbound_message' : 'outbound_message';
          entryRows.push({ id: newId('timelineEntry', Date.parse(t.createdAt)), thread_id: threadId, kind, ...author, text: t.body, html: t.body, created_at: t.createdAt });
        }
      }
      conversations += threadRows.length;
      threads += entryRows.length;
      await pool.query(
        `WITH t AS (
           INSERT INTO threads (id, workspace_id, customer_id, title, status, channel, origin, status_changed_at, created_at, updated_at)
           SELECT x.id, $1, x.customer_id, x.title, x.status, x.channel, 'import', x.created_at, x.created_at, x.created_at
             FROM jsonb_to_recordset($2) AS x(id text, customer_id text, title text, status text, channel text, created_at timestamptz))
         INSERT INTO timeline_entries (id, workspace_id, thread_id, kind, author_type, author_customer_id, author_name, author_email, text, html, origin, created_at)
         SELECT x.id, $1, x.thread_id, x.kind, x.author_type, x.author_customer_id, x.author_name, x.author_email, x.text, x.html, 'import', x.created_at
           FROM jsonb_to_recordset($3) AS x(id text, thread_id text, kind text, author_type text, author_customer_id text, author_name text, author_email text, text text, html text, created_at timestamptz)`,
        [workspace.id, JSON.stringify(threadRows), JSON.stringify(entryRows)],
      );
    }
  }
  return { customersSec, customers: source.customerCount, conversationsSec: (performance.now() - t0) / 1000, conversations, threads };
}

type EngineResult = EngineRun;

function importHelpScout(pool: Pool, baseUrl: string, settings: Record<string, unknown> = {}): Promise<EngineResult> {
  return importThroughEngine(pool, { provider: 'helpscout', account: '4242', credentials: { ...DEFAULT_HELPSCOUT_APP }, settings: { baseUrl, ...settings } });
}

const total = (c: StreamCounts | undefined) => (c ? c.created + c.linked + c.skipped + c.failed : 0);
const perSec = (n: number, sec: number) => Math.round(n / sec);
function printBaseline(b: BaselineResult, peakRss: number): void {
  console.log(
    `  baseline, one multi-row INSERT per page (customers; threads + timeline entries), no HTTP, no ledger: customers ${perSec(b.customers, b.customersSec)}/s (${b.customersSec.toFixed(1)} s)` +
      `  conversations ${perSec(b.conversations, b.conversationsSec)}/s  threads ${perSec(b.threads, b.conversationsSec)}/s (${b.conversationsSec.toFixed(1)} s)  peak RSS ${mb(peakRss)}`,
  );
}

function printEngine(e: EngineResult, b: BaselineResult, peakRss: number, requests: number): void {
  const { customers, conversations } = e.marks;
  if (!customers || !conversations) throw new Error(`the import did not finish every stream: ${e.outcome}`);
  const customersSec = (customers.at - e.start) / 1000;
  const conversationsSec = (conversations.at - customers.at) / 1000;
  const customerRecords = total(customers.counts.customers);
  const conversationRecords = total(e.counts.conversations);
  const threads = e.counts.threads?.created ?? 0;
  const ratio = (engine: number, base: number) => `ratio ${(engine / base).toFixed(3)}x of baseline`;
  console.log(`  engine customers stream:     ${perSec(customerRecords, customersSec)}/s (${ratio(customerRecords / customersSec, b.customers / b.customersSec)})  ${customerRecords} customers in ${customersSec.toFixed(1)} s (includes the token and the first page)`);
  console.log(
    `  engine conversations stream: conversations ${perSec(conversationRecords, conversationsSec)}/s (${ratio(conversationRecords / conversationsSec, b.conversations / b.conversationsSec)})` +
      `  threads ${perSec(threads, conversationsSec)}/s (${ratio(threads / conversationsSec, b.threads / b.conversationsSec)})  ${conversationRecords} conversations, ${threads} threads, ${e.counts.attachments?.created ?? 0} attachments in ${conversationsSec.toFixed(1)} s`,
  );
  console.log(`  engine whole run: ${((conversations.at - e.start) / 1000).toFixed(1)} s, ${perSec(requests, (conversations.at - e.start) / 1000)} requests/s, peak RSS ${mb(peakRss)} (includes the fake server and its request log)  outcome ${e.outcome}`);
  console.log(`  counts: ${describeCounts(e.counts)}`);
}

// ---------------------------------------------------------------------------------------------
// Phase 2: a rate-limited import

async function phaseRateLimited(pool: Pool, sizes: Sizes, limit: { limit: number; windowMs: number }): Promise<void> {
  const fake = await startFakeHelpScout({ rateLimit: limit, data: generate(sizes) });
  try {
    // The adapter is told the scaled-down window; everything else it learns from Help Scout's headers.
    const e = await importHelpScout(pool, fake.url, { rateLimitWindowSeconds: Math.max(1, Math.round(limit.windowMs / 1000)) });
    const end = Date.now();
    const budgeted = fake.requests.filter((r) => r.path !== '/v2/oauth2/token');
    const firstAt = budgeted[0]!.at;
    const afterFirst = budgeted.filter((r) => r.at >= firstAt + limit.windowMs);
    const achieved = afterFirst.filter((r) => r.status !== 429).length / ((end - firstAt - limit.windowMs) / 1000);
    const allowed = (limit.limit * 1000) / limit.windowMs;
    const throttledLater = afterFirst.filter((r) => r.status === 429).length;
    const windows = (end - firstAt - limit.windowMs) / limit.windowMs;
    console.log(`import-helpscout phase 2 (${sizes.customers} customers, ${sizes.conversations} conversations x ${sizes.threads} threads, ${sizes.attachments} attachments, fake limit ${limit.limit} requests per ${limit.windowMs} ms, Help Scout's headers only)`);
    console.log(`  ${budgeted.length} rate-limited requests in ${((end - firstAt) / 1000).toFixed(1)} s; after the first window (${windows.toFixed(1)} windows): ${achieved.toFixed(1)} requests/s of ${allowed.toFixed(1)} allowed (ratio ${(achieved / allowed).toFixed(3)}, target >= 0.9)`);
    console.log(`  429s: ${fake.rateLimitedCount()} in all, ${throttledLater} after the first window; run parked ${e.parks} times; outcome ${e.outcome}`);
    console.log(`  counts: ${describeCounts(e.counts)}`);
  } finally {
    await fake.close();
  }
}
