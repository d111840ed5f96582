import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOrCreateCustomerByEmail } from '../src/domain/customers.ts';
import { createThread } from '../src/domain/threads.ts';
import { addTimelineEntry } from '../src/domain/timeline-entries.ts';
import { createMailTransport } from '../src/events/auto-responder.ts';
import { createAutoResponse } from '../src/events/auto-responses.ts';
import { threadTokenKey } from '../src/domain/thread-token.ts';
import { AUTO_RESPONSE_WORKER, startAutoResponseWorker } from '../src/jobs/auto-response-worker.ts';
import { startJobs, type Jobs } from '../src/queue/boss.ts';
import { QUEUES } from '../src/queue/catalogue.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { startSmtpSink } from './support/smtp-sink.ts';
import { makeWorkspace } from './support/workspaces.ts';

let db: TestDatabase;
let jobs: Jobs;
let sink: Awaited<ReturnType<typeof startSmtpSink>>;
let transport: ReturnType<typeof createMailTransport>;

beforeAll(async () => {
  db = await createTestDatabase();
  jobs = await startJobs(db.url, { onError: () => {}, supervise: false, schedule: false });
  sink = await startSmtpSink();
  transport = createMailTransport({ smtpUrl: sink.url, dataDir: os.tmpdir() });
});
afterAll(async () => {
  await jobs.stop();
  transport.close();
  await sink.close();
  await db.close();
});

async function waitFor(check: () => Promise<boolean> | boolean, ms = 30_000) {
  for (const end = Date.now() + ms; !(await check()); ) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const jobStates = async () =>
  (await db.pool.query<{ id: string; state: string; thread: string; started: string | null }>(`SELECT id, state, data->>'threadId' AS thread, started_on::text AS started FROM pgboss.job WHERE name = $1`, [QUEUES.autoResponse.name])).rows;

describe('auto-response worker', () => {
  it('sends many queued auto-responses exactly once, in batches, with a refused send in the middle of one', async () => {
    const acme = await makeWorkspace(db.pool, 'Acme', 'help@acme.com');
    await createAutoResponse({ db: db.pool, workspaceId: acme.workspace.id }, { messageText: 'We got your email.' });
    // 40 customers with one new thread each, and one customer with two new threads.
    const senders = [...Array.from({ length: 40 }, (_, i) => `customer${i}@example.org`), 'twice@example.org', 'twice@example.org'];
    const refused = 'customer17@example.org';
    const threads: Array<{ id: string; from: string }> = [];
    for (const [i, from] of senders.entries()) {
      const ctx = { db: db.pool, workspaceId: acme.workspace.id, origin: 'email' as const };
      const { customer } = await findOrCreateCustomerByEmail(ctx, { email: from, fullName: `Customer ${i}` });
      const thread = await createThread(ctx, { customerId: customer.id, title: `Question ${i}`, channel: 'EMAIL' });
      const entry = await addTimelineEntry(ctx, { threadId: thread.id, kind: 'inbound_email', author: { type: 'customer', customerId: customer.id }, text: 'Hello?', messageId: `q-${i}@example.org`, supportAddress: 'help@acme.com' });
      await db.pool.query(
        `INSERT INTO inbound_emails (id, workspace_id, source, dedupe_key, message_id, raw, raw_size, status, classification, customer_id, thread_id, timeline_entry_id)
         VALUES ($1, $2, 'mime', $3, $4, '\\x00', 1, 'processed', $5, $6, $7, $8)`,
        [`ie_batch${i}`, acme.workspace.id, `batch:${i}`, `q-${i}@example.org`, JSON.stringify({ bounce: false, autoReply: false, bulk: false, forwardedBy: null }), customer.id, thread.id, entry.id],
      );
      threads.push({ id: thread.id, from });
    }
    // Every job is due before the worker starts, plus a second job for the first thread (no singleton key).
    const payloads = [...threads, threads[0]!].map((t) => ({ data: { workspaceId: acme.workspace.id, threadId: t.id } }));
    await jobs.boss.insert(QUEUES.autoResponse.name, payloads);
    sink.control.refuse.add(refused);

    await startAutoResponseWorker(jobs.boss, { pool: db.pool, transport, inboundDomain: 'inbound.test', threadTokenKey: threadTokenKey(randomBytes(32)), perCustomerWindowSeconds: 86_400 }, pino({ level: 'silent' }));
    const refusedThread = threads.find((t) => t.from === refused)!.id;
    // Every job settled: 42 completed (one send per address, a skip for the duplicate job and the
    // second thread of `twice`), the refused one waiting for its retry.
    await waitFor(async () => (await jobStates()).filter((j) => j.state === 'completed').length === payloads.length - 1);
    const settled = await jobStates();
    expect(settled.filter((j) => j.state !== 'completed')).toMatchObject([{ thread: refusedThread, state: 'retry' }]);
    const recipients = sink.received.map((m) => m.rcptTo[0]);
    expect(recipients.toSorted()).toEqual([...new Set(senders)].filter((s) => s !== refused).toSorted());
    // The refusal released its reservation, and the batch around it was not failed with it.
    expect((await db.pool.query('SELECT 1 FROM auto_response_sends WHERE thread_id = $1', [refusedThread])).rowCount).toBe(0);
    // Claimed in batches: the jobs of one fetch share its start time.
    const perStart = new Map<string, number>();
    for (const j of settled) perStart.set(j.started!, (perStart.get(j.started!) ?? 0) + 1);
    expect(Math.max(...perStart.values())).toBe(AUTO_RESPONSE_WORKER.batchSize);

    // The server takes the address again; the retry (due in 30-60 s) is brought forward, not waited for.
    sink.control.refuse.delete(refused);
    await db.pool.query(`UPDATE pgboss.job SET start_after = now() WHERE name = $1 AND state = 'retry'`, [QUEUES.autoResponse.name]);
    await waitFor(async () => (await jobStates()).every((j) => j.state === 'completed'));
    const all = sink.received.map((m) => m.rcptTo[0]);
    expect(all.toSorted()).toEqual([...new Set(senders)].toSorted());
    const { rows: sends } = await db.pool.query<{ thread_id: string; entry: string | null }>('SELECT thread_id, timeline_entry_id AS entry FROM auto_response_sends WHERE workspace_id = $1', [acme.workspace.id]);
    expect(sends).toHaveLength(new Set(senders).size);
    expect(sends.every((s) => s.entry !== null)).toBe(true);
    const { rows: outbound } = await db.pool.query<{ thread_id: string; n: number }>(
      `SELECT thread_id, count(*)::int AS n FROM timeline_entries WHERE workspace_id = $1 AND kind = 'outbound_email' GROUP BY thread_id`,
      [acme.workspace.id],
    );
    expect(outbound.every((o) => o.n === 1)).toBe(true);
    expect(outbound).toHaveLength(sends.length);
  });

  it('fails (never completes) a job whose payload it cannot read, without retrying it', async () => {
    const [id] = (await jobs.boss.insert(QUEUES.autoResponse.name, [{ data: { threadId: 42 } }], { returnId: true })) ?? [];
    await waitFor(async () => (await jobs.boss.getJobById(QUEUES.autoResponse.name, id!))?.state === 'failed');
    const job = await jobs.boss.getJobById(QUEUES.autoResponse.name, id!);
    expect(job).toMatchObject({ retryCount: 0, output: { message: expect.stringContaining('invalid payload') } });
  });
});
