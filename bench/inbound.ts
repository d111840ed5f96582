import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { createWorkspace } from '../src/domain/workspaces.ts';
import { cpuSplit } from './support/cpu-split.ts';
import { request } from './support/http-request.ts';
import { openBenchDatabase, percentile, runConcurrently, type BenchDatabase } from './support/bench-database.ts';

const BIN = fileURLToPath(new URL('../bin/intake.js', import.meta.url));
export const AUTH = 'postmark:bench-password-123';
const INBOUND_DOMAIN = 'inbound.bench.test';

/** Realistic Postmark payloads: a few KB of text, one in ten with a 40 KB attachment, one in four a reply. */
const LATENCY_SAMPLES = 100;

export function payloads(n: number, inboundToken: string, offset = 0): Buffer[] {
  const paragraph = 'We upgraded to the new plan last week and since then the export job fails with a timeout after about ten minutes. ';
  const out: Buffer[] = [];
  for (let i = offset; i < offset + n; i++) {
    const customer = i % 400;
    const isReply = i >= 400 && i % 4 === 0;
    const headers = [{ Name: 'Message-ID', Value: `<bench-${i}@mail.customer${customer}.com>` }];
    if (isReply) headers.push({ Name: 'In-Reply-To', Value: `<bench-${i - 400}@mail.customer${customer}.com>` });
    out.push(
      Buffer.from(
        JSON.stringify({
          From: `person${customer}@customer${customer}.com`,
          FromName: `Person ${customer}`,
          FromFull: { Email: `person${customer}@customer${customer}.com`, Name: `Person ${customer}`, MailboxHash: '' },
          To: 'help@acme.com',
          ToFull: [{ Email: 'help@acme.com', Name: '', MailboxHash: '' }],
          OriginalRecipient: `${inboundToken}@${INBOUND_DOMAIN}`,
          Subject: isReply ? `Re: Export failing ${i - 400}` : `Export failing ${i}`,
          MessageID: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
          Date: new Date().toUTCString(),
          TextBody: `Hi team,\n\n${paragraph.repeat(20 + (i % 20))}\n\nThanks,\nPerson ${customer}`,
          HtmlBody: `<p>Hi team,</p><p>${paragraph.repeat(20 + (i % 20))}</p>`,
          StrippedTextReply: '',
          MessageStream: 'inbound',
          Headers: headers,
          Attachments: i % 10 === 0 ? [{ Name: `log-${i}.txt`, Content: randomBytes(30_000).toString('base64'), ContentType: 'text/plain', ContentLength: 30_000, ContentID: '' }] : [],
        }),
      ),
    );
  }
  return out;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The real `intake start` in its own process, as in production; LOG_LEVEL=warn keeps logging off the hot path. */
export async function startServer(databaseUrl: string, dataDir: string): Promise<{ url: string; pid: number | undefined; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn(process.execPath, [...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : []), ...(process.env.BENCH_SERVER_FLAGS ?? '').split(' ').filter(Boolean), '--experimental-strip-types', '--disable-warning=ExperimentalWarning', BIN, 'start'], {
    env: { ...process.env, DATABASE_URL: databaseUrl, DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn', INBOUND_BASIC_AUTH: AUTH, INBOUND_DOMAIN },
    stdio: ['ignore', process.env.BENCH_SERVER_FLAGS ? 'inherit' : 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  for (const end = Date.now() + 60_000; ; ) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) break;
    if (Date.now() > end) throw new Error('server did not become healthy in 60 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    pid: child.pid,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A bench database with one workspace, n payloads for it, and the baseline: one single-row INSERT per raw payload, same run, same database. */
export async function prepareInboundBench(n: number, concurrency: number) {
  const db = await openBenchDatabase();
  const dataDir = `/tmp/intake-bench-data-${randomBytes(4).toString('hex')}`;
  const { workspace, apiKey } = await createWorkspace(db.pool, randomBytes(32), { name: 'Bench', supportAddress: 'help@acme.com' });
  const bodies = payloads(n, workspace.inboundToken);
  const avgKb = bodies.reduce((s, b) => s + b.length, 0) / n / 1024;
  await db.pool.query('CREATE TABLE bench_raw (id bigserial PRIMARY KEY, raw bytea NOT NULL)');
  const b0 = performance.now();
  await runConcurrently(n, concurrency, (i) => db.pool.query('INSERT INTO bench_raw (raw) VALUES ($1)', [bodies[i]]));
  const baselinePerSec = n / ((performance.now() - b0) / 1000);
  return { db, dataDir, workspace, apiKey, bodies, avgKb, baselinePerSec };
}

export async function benchInbound(n = Number(process.env.BENCH_INBOUND ?? 2000), concurrency = 16): Promise<void> {
  const { db, dataDir, workspace, apiKey, bodies, avgKb, baselinePerSec } = await prepareInboundBench(n, concurrency);

  const server = await startServer(db.url, dataDir);
  const auth = `Basic ${Buffer.from(AUTH).toString('base64')}`;
  try {
    // With pg_stat_statements: the statements of phase 1 alone, counted per email below.
    const statements = await resetStatements(db.pool);
    // Phase 1, throughput: all payloads at concurrency 16, nothing else hitting the server.
    const cpu = cpuSplit(server.pid);
    const start = performance.now();
    const latencies = await runConcurrently(n, concurrency, async (i) => {
      const res = await request('POST', `${server.url}/inbound/postmark`, { 'content-type': 'application/json', authorization: auth }, bodies[i]);
      if (res.status !== 200) throw new Error(`POST answered ${res.status}: ${res.body.toString()}`);
    });
    const acceptedSec = (performance.now() - start) / 1000;
    // Every payload is stored by now: done when none is left `received`. An index scan of what is
    // left, not a count of every row (which cost the server 3 ms of database time every 20 ms).
    for (;;) {
      const { rows } = await db.pool.query(`SELECT EXISTS (SELECT 1 FROM inbound_emails WHERE status = 'received') AS waiting`);
      if (!rows[0].waiting) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const processedSec = (performance.now() - start) / 1000;
    cpu.mark();
    // Every statement the server ran for phase 1 (receipt, processing, events, queue upkeep), not the benchmark's polling.
    const phase1 = statements
      ? (
          await db.pool.query<{ calls: number; ms: number; planMs: number }>(
            `SELECT sum(calls)::int AS calls, round(sum(total_exec_time))::int AS ms, round(sum(total_plan_time))::int AS "planMs" FROM pg_stat_statements
              WHERE query NOT LIKE '%pg_stat_statements%' AND query NOT LIKE 'SELECT EXISTS (SELECT 1 FROM inbound_emails WHERE status%'`,
          )
        ).rows[0]
      : null;

    // Phase 2, latency: a steady trickle (one at a time, 20 per second), each followed through
    // the API until its thread is readable.
    const followed = payloads(LATENCY_SAMPLES, workspace.inboundToken, n);
    const readable: number[] = [];
    for (const body of followed) {
      const tick = performance.now();
      const res = await request('POST', `${server.url}/inbound/postmark`, { 'content-type': 'application/json', authorization: auth }, body);
      const { inboundEmailId } = JSON.parse(res.body.toString()) as { inboundEmailId: string };
      const at = performance.now();
      await watchUntilReadable(server.url, apiKey, inboundEmailId);
      readable.push(performance.now() - at);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 50 - (performance.now() - tick))));
    }
    const { rows: statuses } = await db.pool.query(`SELECT status, count(*)::int AS n FROM inbound_emails GROUP BY status ORDER BY status`);
    const { rows: lag } = await db.pool.query<{ ms: number }>(`SELECT extract(epoch FROM processed_at - received_at) * 1000 AS ms FROM inbound_emails ORDER BY id`);
    const dbLag = lag.map((r) => Number(r.ms));

    if (process.env.BENCH_TIMELINE) {
      const { rows: perSecond } = await db.pool.query(
        `SELECT s, count(*) FILTER (WHERE kind = 'r')::int AS received, count(*) FILTER (WHERE kind = 'p')::int AS processed FROM (
           SELECT floor(extract(epoch FROM received_at - t0))::int AS s, 'r' AS kind FROM inbound_emails, (SELECT min(received_at) AS t0 FROM inbound_emails) z
           UNION ALL SELECT floor(extract(epoch FROM processed_at - t0))::int, 'p' FROM inbound_emails, (SELECT min(received_at) AS t0 FROM inbound_emails) z WHERE processed_at IS NOT NULL) x
         GROUP BY s ORDER BY s`,
      );
      console.log(`  per second of the run (received / processed): ${perSecond.map((r) => `${r.received}/${r.processed}`).join(' ')}`);
    }
    const f = (x: number) => x.toFixed(1);
    console.log(`inbound (${n} Postmark payloads, avg ${avgKb.toFixed(1)} KB, concurrency ${concurrency}, server process on ${db.describe})`);
    console.log(`  baseline single-row INSERT of the raw payloads: ${Math.round(baselinePerSec)}/s`);
    console.log(`  accepted:  ${Math.round(n / acceptedSec)}/s  (ratio ${(n / acceptedSec / baselinePerSec).toFixed(2)}x of baseline)  accept latency p50 ${f(percentile(latencies, 50))} ms  p99 ${f(percentile(latencies, 99))} ms`);
    console.log(`  processed end to end: ${Math.round(n / processedSec)}/s  (ratio ${(n / processedSec / baselinePerSec).toFixed(2)}x of baseline)`);
    console.log(`  CPU during phase 1, % of one core (bench/server main+other threads/postgres): ${cpu.rows[0]}; per email: ${cpu.per(0, n)}`);
    console.log(`  receipt -> processed under that load (database clock, includes the queue backlog): p50 ${f(percentile(dbLag.slice(0, n), 50))} ms  p99 ${f(percentile(dbLag.slice(0, n), 99))} ms`);
    console.log(`  200 -> thread readable through the API at 20 emails/s (${readable.length} followed, 2 ms polling): p50 ${f(percentile(readable, 50))} ms  p99 ${f(percentile(readable, 99))} ms`);
    console.log(`  outcomes: ${statuses.map((r) => `${r.status} ${r.n}`).join(', ')}`);
    if (phase1) console.log(`  phase 1 on the database: ${(phase1.calls / n).toFixed(1)} statements per email (${phase1.calls} in all), ${(phase1.ms / n).toFixed(2)} ms of execution per email${phase1.planMs ? `, ${(phase1.planMs / n).toFixed(2)} ms of planning (pg_stat_statements.track_planning)` : ''}`);
    if (statements) await printTopStatements(db.pool);
  } finally {
    await server.stop();
    await db.close();
  }
}

/** With pg_stat_statements loaded (BENCH_PG_FLAGS): counts start from now; answers whether it is loaded. */
export async function resetStatements(pool: BenchDatabase['pool']): Promise<boolean> {
  if (!process.env.BENCH_PG_FLAGS?.includes('pg_stat_statements')) return false;
  await pool.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  await pool.query('SELECT pg_stat_statements_reset()');
  return true;
}

/** With pg_stat_statements (BENCH_PG_FLAGS): the statements that took the most database time. */
export async function printTopStatements(pool: BenchDatabase['pool']): Promise<void> {
  const { rows } = await pool.query(`SELECT calls, round(total_exec_time)::int AS ms, round(total_plan_time)::int AS plan, round(mean_exec_time::numeric, 3) AS mean, left(regexp_replace(query, '\\s+', ' ', 'g'), 260) AS q FROM pg_stat_statements ORDER BY total_exec_time + total_plan_time DESC LIMIT 25`);
  for (const r of rows) console.log(`    ${String(r.ms).padStart(6)} ms ${r.plan ? `(+${r.plan} ms planning) ` : ''}${String(r.calls).padStart(6)} calls ${r.mean} ms  ${r.q}`);
}

export async function watchUntilReadable(url: string, apiKey: string, id: string, pollMs = 2): Promise<void> {
  const headers = { authorization: `Bearer ${apiKey}` };
  for (;;) {
    const res = await request('GET', `${url}/v1/inbound-emails/${id}`, headers);
    // An email is listed under its workspace once routed; until then it answers 404.
    const inboundEmail = res.status === 404 ? null : (JSON.parse(res.body.toString()) as { inboundEmail: { status: string; threadId: string | null } }).inboundEmail;
    if (inboundEmail && inboundEmail.status !== 'received') {
      if (inboundEmail.threadId) {
        const t = await request('GET', `${url}/v1/threads/${inboundEmail.threadId}`, headers);
        if (t.status !== 200) throw new Error(`thread ${inboundEmail.threadId} answered ${t.status}`);
      }
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
