import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { pino } from 'pino';
import { withTransaction } from '../src/db/pool.ts';
import { findOrCreateCustomerByEmail } from '../src/domain/customers.ts';
import { createThread } from '../src/domain/threads.ts';
import { createWorkspace } from '../src/domain/workspaces.ts';
import { plainSignature } from '../src/events/signing.ts';
import { DELIVERIES_PER_TARGET } from '../src/events/delivery-loop.ts';
import { createWebhookTarget } from '../src/events/webhook-targets.ts';
import { startJobs } from '../src/queue/boss.ts';
import { startEventsWorker } from '../src/jobs/events-worker.ts';
import { openBenchDatabase, percentile, runConcurrently } from './support/bench-database.ts';

const RECEIVERS = 5;
const CUSTOMERS = 400;

type Receiver = { url: string; count: number; close(): Promise<void> };

/** A local receiver answering 200 at once, keep-alive on; `onBody` sees every request body. */
async function startReceiver(onBody: (body: string, at: number) => void): Promise<Receiver> {
  const receiver = { url: '', count: 0, close: async () => {} };
  const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      receiver.count++;
      onBody(Buffer.concat(chunks).toString('utf8'), performance.now());
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}

/** Standard Webhooks headers as a plain POSTer would sign them: node:crypto's HMAC. */
function standardHeaders(id: string, body: string, secret: string): Record<string, string> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = createHmac('sha256', Buffer.from(secret.replace(/^whsec_/, ''), 'base64')).update(`${id}.${timestamp}.${body}`).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}` };
}

type Post = (url: string, body: string, headers: Record<string, string>) => Promise<number>;

const postByFetch: Post = async (url, body, headers) => {
  const res = await fetch(url, { method: 'POST', body, headers });
  await res.arrayBuffer();
  return res.status;
};

const postByHttp =
  (agent: http.Agent): Post =>
  (url, body, headers) =>
    new Promise((resolve, reject) => {
      const req = http.request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
        res.on('data', () => {});
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });

/** Counts every statement this process sends to PostgreSQL until `stop()`. */
function countStatements(): { stop(): number; kinds: Map<string, number> } {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const query = proto.query;
  let n = 0;
  const kinds = new Map<string, number>();
  const byKind = Boolean(process.env.BENCH_STATEMENTS);
  proto.query = function (this: unknown, ...args: unknown[]) {
    n++;
    if (!byKind) return query.apply(this, args);
    const text = typeof args[0] === 'string' ? args[0] : String((args[0] as { text?: string })?.text ?? '?');
    const kind = text.replace(/\s+/g, ' ').trim().slice(0, 60);
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    return query.apply(this, args);
  };
  return {
    kinds,
    stop: () => {
      proto.query = query;
      return n;
    },
  };
}

export async function benchWebhooks(events = Number(process.env.BENCH_WEBHOOK_EVENTS ?? 2000)): Promise<void> {
  const n = events * RECEIVERS;
  const deadlineMs = Number(process.env.BENCH_WEBHOOK_TIMEOUT_S ?? 240) * 1000;
  const db = await openBenchDatabase();
  const secretsKey = randomBytes(32);
  const jobErrors: string[] = [];
  const jobs = await startJobs(db.url, { onError: (err) => jobErrors.push(err.message), supervise: false, schedule: false });

  // Receivers: during the delivery phase they keep every body, for the baseline to re-send.
  let keep: string[][] | null = [];
  const receiveTimes: number[] = [];
  const receivers: Receiver[] = [];
  for (let i = 0; i < RECEIVERS; i++) {
    const kept: string[] = [];
    keep.push(kept);
    receivers.push(
      await startReceiver((body, at) => {
        if (keep) {
          kept.push(body);
          receiveTimes.push(at);
        }
      }),
    );
  }
  const received = () => receivers.reduce((s, r) => s + r.count, 0);

  let worker: Awaited<ReturnType<typeof startEventsWorker>> | null = null;
  try {
    // Data, not timed: one workspace, 5 targets, `events` threads opened by email (each a
    // thread.thread_created event fanned out to every target).
    const { workspace, webhookSecret } = await createWorkspace(db.pool, secretsKey, { name: 'Bench', supportAddress: 'help@acme.com' });
    const signingSecrets: string[] = [];
    await withTransaction(db.pool, async (tx) => {
      for (const r of receivers) {
        const { signingSecret } = await createWebhookTarget(tx, secretsKey, workspace.id, { url: r.url, eventTypes: ['thread.thread_created'], enabled: true, version: '2024-09-18' });
        signingSecrets.push(signingSecret);
      }
    });
    await runConcurrently(events, 8, (i) =>
      withTransaction(db.pool, async (tx) => {
        const ctx = { db: tx, workspaceId: workspace.id, origin: 'email' as const };
        const c = i % CUSTOMERS;
        const { customer } = await findOrCreateCustomerByEmail(ctx, { email: `person${c}@customer${c}.com`, fullName: `Person ${c}` });
        await createThread(ctx, { customerId: customer.id, title: `Export failing ${i}`, channel: 'EMAIL' });
      }),
    );
    const { rows: pendingEvents } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE relayed_at IS NULL');

    // Delivery phase: the real relay and delivery worker, from start until every delivery has
    // reached its receiver and is recorded as delivered. Statements sent to PostgreSQL are counted
    // (the bench's own progress queries apart); BENCH_CPU_PROF=file.cpuprofile profiles this phase.
    // With BENCH_PG_FLAGS="-c shared_preload_libraries=pg_stat_statements": the delivery phase's
    // costliest statements on the server's side (a bad plan shows here, not in this process's CPU).
    const serverStatements = Boolean(process.env.BENCH_PG_FLAGS?.includes('pg_stat_statements'));
    if (serverStatements) await db.pool.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements').then(() => db.pool.query('SELECT pg_stat_statements_reset()'));
    const statements = countStatements();
    let benchStatements = 0;
    const profiler = process.env.BENCH_CPU_PROF ? new Session() : null;
    if (profiler) {
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
    }
    const start = performance.now();
    const cpu0 = process.cpuUsage();
    worker = await startEventsWorker(
      jobs.boss,
      { pool: db.pool, boss: jobs.boss, secretsKey, allowPrivate: true, timeoutMs: 10_000, timeScale: 1, userAgent: 'bench', autoResponseDelaySeconds: 3600 },
      pino({ level: 'silent' }),
    );
    worker.kick();
    let relayedAt: number | null = null;
    let delivered = 0;
    let timedOut = false;
    for (;;) {
      if (relayedAt === null) {
        benchStatements++;
        const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE relayed_at IS NULL');
        if (rows[0]!.n === 0) relayedAt = performance.now();
      }
      if (received() >= n) {
        benchStatements++;
        const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'delivered'`);
        delivered = rows[0]!.n;
        if (delivered >= n) break;
      }
      if (performance.now() - start > deadlineMs) {
        const { rows } = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'delivered'`);
        delivered = rows[0]!.n;
        timedOut = true;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const deliverySec = (performance.now() - start) / 1000;
    const deliveryCpu = process.cpuUsage(cpu0);
    const receivedCount = received();
    const workerStatements = statements.stop() - benchStatements;
    if (profiler) {
      const { profile } = await profiler.post('Profiler.stop');
      await writeFile(process.env.BENCH_CPU_PROF!, JSON.stringify(profile));
      profiler.disconnect();
    }
    await worker.stop();
    worker = null;
    const costliest = serverStatements
      ? (
          await db.pool.query<{ calls: number; ms: number; mean: string; q: string }>(
            `SELECT calls, round(total_exec_time)::int AS ms, round(mean_exec_time::numeric, 3) AS mean, left(regexp_replace(query, '\\s+', ' ', 'g'), 100) AS q
               FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%' ORDER BY total_exec_time DESC LIMIT 8`,
          )
        ).rows
      : [];
    const bodies = keep;
    const arrivals = receiveTimes.map((t) => t - start);
    keep = null;

    const { rows: statuses } = await db.pool.query(`SELECT status, count(*)::int AS n FROM webhook_deliveries GROUP BY status ORDER BY status`);
    const { rows: attempts } = await db.pool.query<{ ms: number }>('SELECT duration_ms AS ms FROM webhook_delivery_attempts');
    const attemptMs = attempts.map((r) => Number(r.ms));

    // Baselines, same run, same receivers, same work shape as the worker's: each receiver is sent
    // the very bodies it received above, by DELIVERIES_PER_TARGET keep-alive lanes per receiver
    // (so RECEIVERS x DELIVERIES_PER_TARGET POSTs in flight, what the per-target cap lets the
    // worker have), each body signed as the worker signs it (Plain-Request-Signature with the
    // workspace's secret, Standard Webhooks headers with the target's secret). Until 2026-11-30
    // the baseline ran 16 lanes over the 5 receivers, 3.2 per target: more in flight than the cap
    // allows any deliverer, so it measured the cap rather than the worker.
    // Two clients: fetch (undici), the baseline's client since the issue was filed, whose ratio is
    // the target; and node:http on a keep-alive agent, the worker's own client, a stricter bar.
    const lanesPerTarget = DELIVERIES_PER_TARGET;
    const concurrency = RECEIVERS * lanesPerTarget;
    const eventIdOf = new Map(bodies.flat().map((b) => [b, (JSON.parse(b) as { id: string }).id]));
    const runBaseline = async (post: Post) => {
      const before = received();
      const b0 = performance.now();
      const cpu0 = process.cpuUsage();
      const latencies: number[] = [];
      await Promise.all(
        receivers.flatMap((receiver, r) =>
          Array.from({ length: lanesPerTarget }, async (_, lane) => {
            const mine = bodies[r]!;
            for (let i = lane; i < events; i += lanesPerTarget) {
              const body = mine[i % Math.max(1, mine.length)] ?? '{}';
              const t0 = performance.now();
              const headers = {
                'content-type': 'application/json',
                'user-agent': 'bench',
                'plain-request-signature': plainSignature(body, webhookSecret),
                ...standardHeaders(eventIdOf.get(body) ?? 'ev', body, signingSecrets[r]!),
              };
              const status = await post(receiver.url, body, headers);
              if (status !== 200) throw new Error(`receiver answered ${status}`);
              latencies.push(performance.now() - t0);
            }
          }),
        ),
      );
      const perSec = n / ((performance.now() - b0) / 1000);
      const cpu = process.cpuUsage(cpu0);
      if (received() - before !== n) throw new Error(`baseline: receivers counted ${received() - before} of ${n} POSTs`);
      return { perSec, cpu, latencies };
    };
    const byFetch = await runBaseline(postByFetch);
    const byHttp = await runBaseline(postByHttp(new http.Agent({ keepAlive: true })));

    const f = (x: number) => x.toFixed(1);
    const deliveriesPerSec = delivered / deliverySec;
    const allBodies = bodies.flat();
    const avgKb = allBodies.reduce((s, b) => s + Buffer.byteLength(b), 0) / Math.max(1, allBodies.length) / 1024;
    console.log(`webhooks (${events} thread.thread_created events x ${RECEIVERS} local receivers = ${n} deliveries, avg body ${avgKb.toFixed(1)} KB, ${pendingEvents[0]!.n} outbox events incl. customer_created, in-process worker on ${db.describe})`);
    for (const [client, b] of [['fetch', byFetch], ['node:http', byHttp]] as const) {
      console.log(`  baseline plain signed POSTs (${client}, keep-alive, ${lanesPerTarget} per receiver = ${concurrency} in flight, same bodies, receivers and signatures): ${Math.round(b.perSec)}/s  latency p50 ${f(percentile(b.latencies, 50))} ms  p99 ${f(percentile(b.latencies, 99))} ms`);
    }
    console.log(`  delivered: ${Math.round(deliveriesPerSec)}/s  (ratio ${(deliveriesPerSec / byFetch.perSec).toFixed(3)}x of baseline; ${(deliveriesPerSec / byHttp.perSec).toFixed(3)}x of the node:http one)  ${delivered} delivered, ${receivedCount} received in ${f(deliverySec)} s${timedOut ? `  TIMED OUT after ${deadlineMs / 1000} s` : ''}`);
    console.log(`  outbox relayed after ${relayedAt === null ? 'n/a' : f((relayedAt - start) / 1000) + ' s'}; first delivery received at ${arrivals.length ? f(percentile(arrivals, 0)) : 'n/a'} ms, half at ${f(percentile(arrivals, 50) / 1000)} s, last at ${f(Math.max(...arrivals, 0) / 1000)} s`);
    // This process's CPU (worker and receivers, or POSTer and receivers; PostgreSQL is another process).
    const cpuMs = (u: NodeJS.CpuUsage, count: number) => ((u.user + u.system) / 1000 / count).toFixed(3);
    console.log(`  CPU of this process: ${cpuMs(deliveryCpu, delivered)} ms per delivery; baselines ${cpuMs(byFetch.cpu, n)} ms (fetch), ${cpuMs(byHttp.cpu, n)} ms (node:http) per POST`);
    console.log(`  worker statements to PostgreSQL: ${(workerStatements / Math.max(1, delivered)).toFixed(2)} per delivery (${workerStatements} incl. relay, BEGIN/COMMIT)`);
    if (process.env.BENCH_STATEMENTS) for (const [kind, k] of [...statements.kinds].sort((a, b) => b[1] - a[1])) console.log(`    ${String(k).padStart(6)}  ${kind}`);
    for (const r of costliest) console.log(`    ${String(r.ms).padStart(6)} ms ${String(r.calls).padStart(6)} calls ${r.mean} ms  ${r.q}`);
    console.log(`  attempt POST duration as recorded by the worker: p50 ${f(percentile(attemptMs, 50))} ms  p99 ${f(percentile(attemptMs, 99))} ms  (${attemptMs.length} attempts)`);
    console.log(`  outcomes: ${statuses.map((r) => `${r.status} ${r.n}`).join(', ')}${jobErrors.length ? `; pg-boss errors ${jobErrors.length}: ${jobErrors[0]}` : ''}`);
  } finally {
    await worker?.stop();
    await jobs.stop();
    await db.close();
    for (const r of receivers) await r.close();
  }
}
