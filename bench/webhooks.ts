import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { withTransaction } from '../src/db/pool.ts';
import { findOrCreateCustomerByEmail } from '../src/domain/customers.ts';
import { createThread } from '../src/domain/threads.ts';
import { createWorkspace } from '../src/domain/workspaces.ts';
import { plainSignature } from '../src/events/signing.ts';
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

export async function benchWebhooks(events = Number(process.env.BENCH_WEBHOOK_EVENTS ?? 2000), concurrency = 16): Promise<void> {
  const n = events * RECEIVERS;
  const deadlineMs = Number(process.env.BENCH_WEBHOOK_TIMEOUT_S ?? 240) * 1000;
  const db = await openBenchDatabase();
  const secretsKey = randomBytes(32);
  const jobErrors: string[] = [];
  const jobs = await startJobs(db.url, { onError: (err) => jobErrors.push(err.message), supervise: false, schedule: false });

  // Receivers: during the delivery phase they keep every body, for the baseline to re-send.
  let keep: string[] | null = [];
  const receiveTimes: number[] = [];
  const receivers: Receiver[] = [];
  for (let i = 0; i < RECEIVERS; i++) {
    receivers.push(
      await startReceiver((body, at) => {
        if (keep) {
          keep.push(body);
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
    await withTransaction(db.pool, async (tx) => {
      for (const r of receivers) {
        await createWebhookTarget(tx, secretsKey, workspace.id, { url: r.url, eventTypes: ['thread.thread_created'], enabled: true, version: '2024-09-18' });
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
    // reached its receiver and is recorded as delivered.
    const start = performance.now();
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
        const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM events WHERE relayed_at IS NULL');
        if (rows[0]!.n === 0) relayedAt = performance.now();
      }
      if (received() >= n) {
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
    const receivedCount = received();
    await worker.stop();
    worker = null;
    const bodies = keep;
    const arrivals = receiveTimes.map((t) => t - start);
    keep = null;

    const { rows: statuses } = await db.pool.query(`SELECT status, count(*)::int AS n FROM webhook_deliveries GROUP BY status ORDER BY status`);
    const { rows: attempts } = await db.pool.query<{ ms: number }>('SELECT duration_ms AS ms FROM webhook_delivery_attempts');
    const attemptMs = attempts.map((r) => Number(r.ms));

    // Baseline, same run, same receivers: the very bodies delivered above, each signed with the
    // workspace's secret (Plain-Request-Signature) and POSTed by fetch (keep-alive) at concurrency 16.
    const baselineBodies = Array.from({ length: n }, (_, i) => bodies[i % Math.max(1, bodies.length)] ?? '{}');
    const before = received();
    const b0 = performance.now();
    const postLatencies = await runConcurrently(n, concurrency, async (i) => {
      const body = baselineBodies[i]!;
      const res = await fetch(receivers[i % RECEIVERS]!.url, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', 'user-agent': 'bench', 'plain-request-signature': plainSignature(body, webhookSecret) },
      });
      if (res.status !== 200) throw new Error(`receiver answered ${res.status}`);
      await res.arrayBuffer();
    });
    const baselinePerSec = n / ((performance.now() - b0) / 1000);
    if (received() - before !== n) throw new Error(`baseline: receivers counted ${received() - before} of ${n} POSTs`);

    const f = (x: number) => x.toFixed(1);
    const deliveriesPerSec = delivered / deliverySec;
    const avgKb = bodies.reduce((s, b) => s + Buffer.byteLength(b), 0) / Math.max(1, bodies.length) / 1024;
    console.log(`webhooks (${events} thread.thread_created events x ${RECEIVERS} local receivers = ${n} deliveries, avg body ${avgKb.toFixed(1)} KB, ${pendingEvents[0]!.n} outbox events incl. customer_created, in-process worker on ${db.describe})`);
    console.log(`  baseline plain signed POSTs (fetch, keep-alive, concurrency ${concurrency}, same bodies and receivers): ${Math.round(baselinePerSec)}/s  latency p50 ${f(percentile(postLatencies, 50))} ms  p99 ${f(percentile(postLatencies, 99))} ms`);
    console.log(`  delivered: ${Math.round(deliveriesPerSec)}/s  (ratio ${(deliveriesPerSec / baselinePerSec).toFixed(3)}x of baseline)  ${delivered} delivered, ${receivedCount} received in ${f(deliverySec)} s${timedOut ? `  TIMED OUT after ${deadlineMs / 1000} s` : ''}`);
    console.log(`  outbox relayed after ${relayedAt === null ? 'n/a' : f((relayedAt - start) / 1000) + ' s'}; first delivery received at ${arrivals.length ? f(percentile(arrivals, 0)) : 'n/a'} ms, half at ${f(percentile(arrivals, 50) / 1000)} s, last at ${f(Math.max(...arrivals, 0) / 1000)} s`);
    console.log(`  attempt POST duration as recorded by the worker: p50 ${f(percentile(attemptMs, 50))} ms  p99 ${f(percentile(attemptMs, 99))} ms  (${attemptMs.length} attempts)`);
    console.log(`  outcomes: ${statuses.map((r) => `${r.status} ${r.n}`).join(', ')}${jobErrors.length ? `; pg-boss errors ${jobErrors.length}: ${jobErrors[0]}` : ''}`);
  } finally {
    await worker?.stop();
    await jobs.stop();
    await db.close();
    for (const r of receivers) await r.close();
  }
}
