import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { SendMailOptions } from 'nodemailer';
import { pino } from 'pino';
import { SMTPServer } from 'smtp-server';
import { withTransaction } from '../src/db/pool.ts';
import { findOrCreateCustomerByEmail } from '../src/domain/customers.ts';
import { createThread } from '../src/domain/threads.ts';
import { addTimelineEntry } from '../src/domain/timeline-entries.ts';
import { createWorkspace } from '../src/domain/workspaces.ts';
import { createMailTransport } from '../src/events/auto-responder.ts';
import { createAutoResponse } from '../src/events/auto-responses.ts';
import { threadTokenKey } from '../src/domain/thread-token.ts';
import { AUTO_RESPONSE_WORKER, startAutoResponseWorker } from '../src/jobs/auto-response-worker.ts';
import { startJobs } from '../src/queue/boss.ts';
import { QUEUES } from '../src/queue/catalogue.ts';
import { openBenchDatabase, percentile, runConcurrently } from './support/bench-database.ts';

const INBOUND_DOMAIN = 'inbound.bench.test';
const TEXT = 'Thanks for writing in. We have your email and will answer within one business day.';

/** A loopback SMTP server that takes every message and counts it. */
async function startSink() {
  const sink = { url: '', count: 0, close: async () => {} };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      stream.on('data', () => {});
      stream.on('end', () => {
        sink.count++;
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sink.url = `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  sink.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return sink;
}

/**
 * `threads` new email threads, each from its own customer, with their auto-response jobs due:
 * the worker (real pg-boss queue, real auto-responder, real SMTP over loopback) from start until
 * every one is sent and recorded. Baseline, same run, same sink and transport settings: the same
 * number of comparable messages handed straight to nodemailer at the worker's in-flight limit,
 * without queue or database.
 */
export async function benchAutoResponses(threads = Number(process.env.BENCH_AUTO_RESPONSES ?? 2000)): Promise<void> {
  const deadlineMs = Number(process.env.BENCH_AUTO_RESPONSE_TIMEOUT_S ?? 600) * 1000;
  const db = await openBenchDatabase();
  const sink = await startSink();
  const jobErrors: string[] = [];
  const jobs = await startJobs(db.url, { onError: (err) => jobErrors.push(err.message), supervise: false, schedule: false });
  const transport = createMailTransport({ smtpUrl: sink.url, dataDir: '/tmp' });
  const logger = pino({ level: 'silent' });
  try {
    // Data, not timed: what the inbound pipeline leaves for each new thread.
    const { workspace } = await createWorkspace(db.pool, randomBytes(32), { name: 'Bench', supportAddress: 'help@acme.com' });
    await createAutoResponse({ db: db.pool, workspaceId: workspace.id }, { messageText: TEXT });
    const threadIds: string[] = new Array(threads);
    await runConcurrently(threads, 8, (i) =>
      withTransaction(db.pool, async (tx) => {
        const ctx = { db: tx, workspaceId: workspace.id, origin: 'email' as const };
        const { customer } = await findOrCreateCustomerByEmail(ctx, { email: `person${i}@customer${i}.com`, fullName: `Person ${i}` });
        const thread = await createThread(ctx, { customerId: customer.id, title: `Export failing ${i}`, channel: 'EMAIL' });
        const entry = await addTimelineEntry(ctx, {
          threadId: thread.id,
          kind: 'inbound_email',
          author: { type: 'customer', customerId: customer.id },
          text: 'The export fails.',
          messageId: `bench-${i}@customer${i}.com`,
          supportAddress: 'help@acme.com',
        });
        await tx.query(
          `INSERT INTO inbound_emails (id, workspace_id, source, dedupe_key, message_id, raw, raw_size, status, classification, customer_id, thread_id, timeline_entry_id)
           VALUES ($1, $2, 'mime', $3, $4, '\\x00', 1, 'processed', $5, $6, $7, $8)`,
          [`ie_bench${i}`, workspace.id, `bench:${i}`, `bench-${i}@customer${i}.com`, JSON.stringify({ bounce: false, autoReply: false, bulk: false, forwardedBy: null }), customer.id, thread.id, entry.id],
        );
        threadIds[i] = thread.id;
      }),
    );
    await jobs.boss.insert(
      QUEUES.autoResponse.name,
      threadIds.map((threadId) => ({ data: { workspaceId: workspace.id, threadId }, singletonKey: threadId })),
    );

    // The worker, from start until every auto-response is sent and recorded.
    const start = performance.now();
    await startAutoResponseWorker(jobs.boss, { pool: db.pool, transport, inboundDomain: INBOUND_DOMAIN, threadTokenKey: threadTokenKey(randomBytes(32)), perCustomerWindowSeconds: 86_400 }, logger);
    let recorded = 0;
    let timedOut = false;
    for (;;) {
      if (sink.count >= threads) {
        const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM auto_response_sends WHERE timeline_entry_id IS NOT NULL');
        recorded = rows[0]!.n;
        if (recorded >= threads) break;
      }
      if (performance.now() - start > deadlineMs) {
        const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM auto_response_sends WHERE timeline_entry_id IS NOT NULL');
        recorded = rows[0]!.n;
        timedOut = true;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const workerSec = (performance.now() - start) / 1000;
    const workerSent = sink.count;
    await jobs.boss.offWork(QUEUES.autoResponse.name, { wait: true });
    const { rows: states } = await db.pool.query(`SELECT state, count(*)::int AS n FROM pgboss.job WHERE name = $1 GROUP BY state ORDER BY state`, [QUEUES.autoResponse.name]);
    const { rows: lagRows } = await db.pool.query<{ ms: number }>(
      `SELECT extract(epoch FROM s.sent_at - j.created_on) * 1000 AS ms FROM auto_response_sends s JOIN pgboss.job j ON j.name = $1 AND j.singleton_key = s.thread_id`,
      [QUEUES.autoResponse.name],
    );
    const lag = lagRows.map((r) => Number(r.ms));

    // Baseline: comparable messages (same sender, headers and text) straight through nodemailer.
    const inFlight = AUTO_RESPONSE_WORKER.loops * AUTO_RESPONSE_WORKER.batchSize;
    const before = sink.count;
    const b0 = performance.now();
    const sendLatencies = await runConcurrently(threads, inFlight, async (i) => {
      const mail: SendMailOptions = {
        from: { name: 'Bench', address: 'help@acme.com' },
        to: { name: `Person ${i}`, address: `person${i}@customer${i}.com` },
        replyTo: `${workspace.inboundToken}+baseline${i}@${INBOUND_DOMAIN}`,
        subject: `Re: Export failing ${i}`,
        messageId: `<ar-baseline-${i}@acme.com>`,
        inReplyTo: `<bench-${i}@customer${i}.com>`,
        references: [`<bench-${i}@customer${i}.com>`],
        headers: { 'Auto-Submitted': 'auto-replied', 'X-Auto-Response-Suppress': 'All' },
        text: TEXT,
      };
      await transport.sendMail(mail);
    });
    const baselinePerSec = threads / ((performance.now() - b0) / 1000);
    if (sink.count - before !== threads) throw new Error(`baseline: the sink counted ${sink.count - before} of ${threads} messages`);

    const f = (x: number) => x.toFixed(1);
    const perSec = recorded / workerSec;
    console.log(`auto-responses (${threads} new threads from ${threads} customers, jobs due at once, loopback SMTP sink, in-process worker: ${AUTO_RESPONSE_WORKER.loops} loops x batches of ${AUTO_RESPONSE_WORKER.batchSize}, on ${db.describe})`);
    console.log(`  baseline nodemailer sends straight to the sink (same transport settings, concurrency ${inFlight}): ${Math.round(baselinePerSec)}/s  latency p50 ${f(percentile(sendLatencies, 50))} ms  p99 ${f(percentile(sendLatencies, 99))} ms`);
    console.log(`  sent and recorded: ${f(perSec)}/s  (ratio ${(perSec / baselinePerSec).toFixed(3)}x of baseline)  ${recorded} recorded, ${workerSent} received in ${f(workerSec)} s${timedOut ? `  TIMED OUT after ${deadlineMs / 1000} s` : ''}`);
    console.log(`  job created -> sent: p50 ${f(percentile(lag, 50) / 1000)} s  p99 ${f(percentile(lag, 99) / 1000)} s  max ${f(Math.max(...lag, 0) / 1000)} s;  at this rate 10,000 new threads drain in ${f(10_000 / perSec / 60)} min`);
    console.log(`  jobs: ${states.map((r) => `${r.state} ${r.n}`).join(', ')}${jobErrors.length ? `; pg-boss errors ${jobErrors.length}: ${jobErrors[0]}` : ''}`);
  } finally {
    transport.close();
    await jobs.stop();
    await db.close();
    await sink.close();
  }
}
