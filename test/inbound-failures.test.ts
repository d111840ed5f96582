import { beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../src/db/pool.ts';
import { buildApp } from '../src/http/app.ts';
import { AUTH_HEADER, INBOUND_DOMAIN, inboundHarnessWithAcme } from './support/inbound-harness.ts';
import { startTcpProxy } from './support/tcp-proxy.ts';
import { makeWorkspace } from './support/workspaces.ts';

const ctx = inboundHarnessWithAcme();

const mime = (id: string, subject: string, from = 'jane@nike.com') =>
  Buffer.from(`From: Jane Doe <${from}>\r\nTo: ${ctx.acme.workspace.inboundToken}@${INBOUND_DOMAIN}\r\nSubject: ${subject}\r\nMessage-ID: <${id}@mail.nike.com>\r\n\r\nHello.\r\n`);

describe('database down at receipt', () => {
  it('answers 503, never 200, and the sender’s retry after recovery lands', async () => {
    const url = new URL(ctx.h.db.url);
    const proxy = await startTcpProxy(url.hostname, Number(url.port));
    url.port = String(proxy.port);
    const pool = createPool(url.toString(), { max: 4 });
    const app = await buildApp({ pool, boss: ctx.h.jobs.boss, inboundDomain: INBOUND_DOMAIN, inboundBasicAuth: 'postmark:correct-horse-battery' });
    try {
      const send = () => app.inject({ method: 'POST', url: '/inbound/mime', payload: mime('down-1', 'During the outage'), headers: { 'content-type': 'message/rfc822', authorization: AUTH_HEADER } });
      proxy.cut();
      const during = await send();
      expect(during.statusCode).toBe(503);
      expect(during.json().error.code).toBe('service_unavailable');
      const { rows } = await ctx.h.db.pool.query(`SELECT count(*)::int AS n FROM inbound_emails WHERE message_id = 'down-1@mail.nike.com'`);
      expect(rows[0].n).toBe(0);

      proxy.restore();
      const after = await send();
      expect(after.statusCode).toBe(200);
      expect(after.json().status).toBe('received');
      expect((await ctx.h.settled(after.json().inboundEmailId)).status).toBe('processed');
    } finally {
      await app.close();
      await pool.end();
      await proxy.close();
    }
  });
});

describe('crash mid-transaction', () => {
  it('a processing transaction killed half-way is retried and leaves exactly one customer, thread and entry', async () => {
    const blocker = await ctx.h.db.pool.connect();
    try {
      // Hold the outbox so the worker stops inside its transaction, right after it inserted the
      // customer (whose customer_created event is the first event it writes).
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE events IN EXCLUSIVE MODE');
      const blockerPid = (await blocker.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      const res = await ctx.h.app.inject({ method: 'POST', url: '/inbound/mime', payload: mime('crash-1', 'Crash me', 'crash@initech.com'), headers: { 'content-type': 'message/rfc822', authorization: AUTH_HEADER } });
      const id = res.json().inboundEmailId;
      let victim: number | undefined;
      for (let i = 0; i < 200 && !victim; i++) {
        const { rows } = await ctx.h.db.pool.query(
          // Waiting for our lock on events (the statement's text can be longer than pg_stat_activity shows).
          `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND $1 = ANY(pg_blocking_pids(pid))`,
          [blockerPid],
        );
        victim = rows[0]?.pid;
        if (!victim) await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(victim).toBeDefined();
      const mid = await ctx.h.db.pool.query(`SELECT count(*)::int AS n FROM customers WHERE email = 'crash@initech.com'`);
      expect(mid.rows[0].n).toBe(0); // uncommitted: invisible
      await ctx.h.db.pool.query('SELECT pg_terminate_backend($1)', [victim]);
      await blocker.query('ROLLBACK');

      const row = await ctx.h.settled(id, 30_000);
      expect(row.status).toBe('processed');
      expect(row.attempts).toBe(2); // the failed attempt, then the retry
      const counts = await ctx.h.db.pool.query(
        `SELECT (SELECT count(*)::int FROM customers WHERE email = 'crash@initech.com') AS customers,
                (SELECT count(*)::int FROM threads WHERE title = 'Crash me') AS threads,
                (SELECT count(*)::int FROM timeline_entries WHERE message_id = 'crash-1@mail.nike.com') AS entries`,
      );
      expect(counts.rows[0]).toEqual({ customers: 1, threads: 1, entries: 1 });
    } finally {
      blocker.release();
    }
  });
});

describe('emails left waiting', () => {
  const send = async (id: string) =>
    (await ctx.h.app.inject({ method: 'POST', url: '/inbound/mime', payload: mime(id, `Lost ${id}`, `${id}@initech.com`), headers: { 'content-type': 'message/rfc822', authorization: AUTH_HEADER } })).json().inboundEmailId as string;

  it('wakes the workers for an email left waiting, and fails one stuck past the retry window', async () => {
    // No worker takes them: as if every process died or stopped.
    await ctx.h.stopWorker();
    const lost = await send('lost-1');
    const ancient = await send('lost-2');
    await ctx.h.db.pool.query(`UPDATE inbound_emails SET received_at = now() - interval '2 days' WHERE id = $1`, [ancient]);
    await ctx.h.db.pool.query(`UPDATE inbound_emails SET received_at = now() - interval '20 minutes' WHERE id = $1`, [lost]);

    const { sweepStuckInbound } = await import('../src/inbound/sweep.ts');
    const result = await sweepStuckInbound(ctx.h.db.pool);
    expect(result).toEqual({ requeued: [lost], failed: [ancient] });

    await ctx.h.startWorker();
    expect((await ctx.h.settled(lost)).status).toBe('processed');
    const failed = await ctx.h.db.pool.query('SELECT status, error_code FROM inbound_emails WHERE id = $1', [ancient]);
    expect(failed.rows[0]).toEqual({ status: 'failed', error_code: 'processing_failed' });
    // Nothing is left waiting: a second sweep finds nothing.
    expect(await sweepStuckInbound(ctx.h.db.pool)).toEqual({ requeued: [], failed: [] });
  });

  it("leaves an email waiting out its retry delay alone, and drains a job an earlier version queued", async () => {
    await ctx.h.stopWorker();
    const waiting = await send('sweep-waiting');
    const queued = await send('sweep-queued');
    // Both wait out a retry delay an hour away.
    await ctx.h.db.pool.query(`UPDATE inbound_emails SET received_at = now() - interval '20 minutes', next_attempt_at = now() + interval '1 hour' WHERE id = ANY($1)`, [[waiting, queued]]);
    const { sweepStuckInbound } = await import('../src/inbound/sweep.ts');
    expect(await sweepStuckInbound(ctx.h.db.pool)).toEqual({ requeued: [], failed: [] });

    // A processing job as an earlier version queued it, one per email: it makes its email due.
    const { withTransaction } = await import('../src/db/pool.ts');
    const { sendInTransaction } = await import('../src/queue/boss.ts');
    const { QUEUES } = await import('../src/queue/catalogue.ts');
    const jobId = await withTransaction(ctx.h.db.pool, (tx) => sendInTransaction(ctx.h.jobs.boss, tx, QUEUES.inboundEmail, { inboundEmailId: queued }));
    await ctx.h.startWorker();
    expect((await ctx.h.settled(queued, 45_000)).status).toBe('processed');
    for (let i = 0; i < 100 && (await ctx.h.jobs.boss.getJobById(QUEUES.inboundEmail.name, jobId))?.state !== 'completed'; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await ctx.h.jobs.boss.getJobById(QUEUES.inboundEmail.name, jobId))?.state).toBe('completed');
    expect((await ctx.h.db.pool.query('SELECT status FROM inbound_emails WHERE id = $1', [waiting])).rows[0].status).toBe('received');
    // Its delay over, the waiting one is processed too.
    await ctx.h.db.pool.query(`UPDATE inbound_emails SET next_attempt_at = now() WHERE id = $1`, [waiting]);
    expect((await ctx.h.settled(waiting)).status).toBe('processed');
  }, 60_000);
});

describe('claims', () => {
  it('gives each due email to one transaction at a time, ordinary and large mail in separate lanes', async () => {
    await ctx.h.stopWorker();
    try {
      const post = async (raw: Buffer) =>
        (await ctx.h.app.inject({ method: 'POST', url: '/inbound/mime', payload: raw, headers: { 'content-type': 'message/rfc822', authorization: AUTH_HEADER } })).json().inboundEmailId as string;
      const small = [await post(mime('lane-1', 'Lane 1')), await post(mime('lane-2', 'Lane 2')), await post(mime('lane-3', 'Lane 3'))];
      const { LARGE_EMAIL_BYTES, claimDueInbound } = await import('../src/inbound/ledger.ts');
      const large = await post(Buffer.concat([mime('lane-big', 'Big'), Buffer.alloc(LARGE_EMAIL_BYTES + 1, 0x61)]));
      const a = await ctx.h.db.pool.connect();
      const b = await ctx.h.db.pool.connect();
      try {
        await a.query('BEGIN');
        await b.query('BEGIN');
        const first = await claimDueInbound(a, { rows: 2 });
        // The other transaction skips what the first holds, and each lane has only its own.
        const second = await claimDueInbound(b, { rows: 16 });
        const big = await claimDueInbound(b, { rows: 16 }, 'large');
        expect(first.map((c) => c.record.id)).toEqual(small.slice(0, 2));
        expect(second.map((c) => c.record.id)).toEqual(small.slice(2));
        expect(big.map((c) => c.record.id)).toEqual([large]);
        expect(big[0]!.raw.length).toBeGreaterThan(LARGE_EMAIL_BYTES);
        expect(first[0]!.raw.toString()).toContain('Subject: Lane 1');
        // Rolled back (a killed worker): claimable again at once (the other already holds the third).
        await a.query('ROLLBACK');
        expect((await claimDueInbound(b, { rows: 16 })).map((c) => c.record.id)).toEqual(small);
      } finally {
        await a.query('ROLLBACK').catch(() => {});
        await b.query('ROLLBACK').catch(() => {});
        a.release();
        b.release();
      }
    } finally {
      await ctx.h.startWorker();
    }
  });
});

describe('hostile bytes', () => {
  it('stores and processes mail with NUL bytes and an absurd Message-ID instead of failing on every retry', async () => {
    const longId = `${'x'.repeat(5000)}@mail.initech.com`;
    const raw = Buffer.from(`From: "Nul\u0000 Name" <nul@initech.com>\r\nTo: ${ctx.acme.workspace.inboundToken}@${INBOUND_DOMAIN}\r\nSubject: Sub\u0000ject\r\nMessage-ID: <${longId}>\r\nReferences: <a\u0000b@x>\r\n\r\nBody\u0000 text\r\n`, 'latin1');
    const res = await ctx.h.app.inject({ method: 'POST', url: '/inbound/mime', payload: raw, headers: { 'content-type': 'message/rfc822', authorization: AUTH_HEADER } });
    expect(res.statusCode).toBe(200);
    const row = await ctx.h.settled(res.json().inboundEmailId);
    expect(row.status).toBe('processed');
    expect(row.message_id).toBeNull();
    const t = await ctx.h.db.pool.query('SELECT title FROM threads WHERE id = $1', [row.thread_id]);
    expect(t.rows[0].title).toBe('Subject');

    const postmark = JSON.stringify({ From: 'nul@initech.com', MessageID: 'abc\u0000def', Subject: 'x' });
    const refused = await ctx.h.app.inject({ method: 'POST', url: '/inbound/postmark', payload: postmark, headers: { 'content-type': 'application/json', authorization: AUTH_HEADER } });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error.fields[0].field).toBe('MessageID');
  });
});

describe('mail to a workspace’s inbound address that goes wrong', () => {
  const inbound = () => `${ctx.acme.workspace.inboundToken}@${INBOUND_DOMAIN}`;
  const post = async (raw: Buffer) =>
    (await ctx.h.app.inject({ method: 'POST', url: '/inbound/mime', payload: raw, headers: { 'content-type': 'message/rfc822', authorization: AUTH_HEADER } })).json().inboundEmailId as string;
  const api = (c: Awaited<ReturnType<typeof makeWorkspace>>, method: 'GET' | 'POST', url: string) =>
    ctx.h.app.inject({ method, url, headers: { authorization: `Bearer ${c.apiKey}` } });
  const listed = async (c: Awaited<ReturnType<typeof makeWorkspace>>, status: string) =>
    (await api(c, 'GET', `/v1/inbound-emails?status=${status}&first=100`)).json().inboundEmails.map((e: { id: string }) => e.id) as string[];

  /** Visible and replayable by acme, invisible to globex. */
  async function expectOnlyAcmeSees(id: string, status: string) {
    expect(await listed(ctx.acme, status)).toContain(id);
    expect((await api(ctx.acme, 'GET', `/v1/inbound-emails/${id}`)).json().inboundEmail).toMatchObject({ id, status, workspaceId: ctx.acme.workspace.id });
    expect(await listed(globex, status)).not.toContain(id);
    expect((await api(globex, 'GET', `/v1/inbound-emails/${id}`)).statusCode).toBe(404);
    expect((await api(globex, 'POST', `/v1/inbound-emails/${id}/replay`)).statusCode).toBe(404);
  }

  let globex: Awaited<ReturnType<typeof makeWorkspace>>;
  beforeAll(async () => {
    globex = await makeWorkspace(ctx.h.db.pool, 'Globex', 'support@globex.com');
  });

  it('keeps a message the parser cannot read visible to that workspace, and replayable', async () => {
    // A header block over mailparser's 1 MiB limit: accepted at receipt, unparseable in the job.
    const filler = Array.from({ length: 12_000 }, (_, i) => `X-Filler-${i}: ${'y'.repeat(90)}`).join('\r\n');
    const id = await post(Buffer.from(`From: Jane <jane@nike.com>\r\nTo: ${inbound()}\r\nSubject: Huge headers\r\n${filler}\r\n\r\nbody\r\n`));
    expect(await ctx.h.settled(id)).toMatchObject({ status: 'rejected', error_code: 'unparseable_email', workspace_id: ctx.acme.workspace.id });
    await expectOnlyAcmeSees(id, 'rejected');
    expect((await api(ctx.acme, 'POST', `/v1/inbound-emails/${id}/replay`)).statusCode).toBe(202);
    // Rejected again, and still the workspace's.
    expect(await ctx.h.settled(id)).toMatchObject({ status: 'rejected', workspace_id: ctx.acme.workspace.id });
  });

  it('keeps unroutable mail that our server took for that inbound address visible to the workspace', async () => {
    // Nothing routing reads names a workspace; the newest Received line's envelope recipient does.
    const raw = Buffer.from(
      `Received: from mail.nike.com by mx.${INBOUND_DOMAIN} with ESMTP id 4XyZ for <${inbound()}>; Thu, 5 Nov 2026 10:00:00 +0000\r\n` +
        'From: Jane <jane@nike.com>\r\nTo: orders@shop.example\r\nSubject: Lost order\r\nMessage-ID: <lost-order@nike.com>\r\n\r\nWhere is it?\r\n',
    );
    const id = await post(raw);
    expect(await ctx.h.settled(id)).toMatchObject({ status: 'unroutable', workspace_id: ctx.acme.workspace.id });
    await expectOnlyAcmeSees(id, 'unroutable');
    expect((await api(ctx.acme, 'POST', `/v1/inbound-emails/${id}/replay`)).statusCode).toBe(202);
    expect(await ctx.h.settled(id)).toMatchObject({ status: 'unroutable', workspace_id: ctx.acme.workspace.id });
  });

  it('keeps a message whose processing failed for good visible to that workspace, and replays it', async () => {
    // A real PostgreSQL error inside the processing transaction, on every attempt until removed.
    await ctx.h.db.pool.query(`CREATE FUNCTION test_fail_thread() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.title = 'Doomed' THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$`);
    await ctx.h.db.pool.query('CREATE TRIGGER test_fail_thread BEFORE INSERT ON threads FOR EACH ROW EXECUTE FUNCTION test_fail_thread()');
    try {
      // The last attempt, at once: stop the workers, spend every attempt but one, start them again.
      await ctx.h.stopWorker();
      const id = await post(mime('doomed-1', 'Doomed', 'doomed@initech.com'));
      const { INBOUND_RETRY } = await import('../src/inbound/ledger.ts');
      expect(await ctx.h.db.pool.query(`UPDATE inbound_emails SET attempts = $2 WHERE id = $1 AND status = 'received'`, [id, INBOUND_RETRY.attempts - 1])).toMatchObject({ rowCount: 1 });
      await ctx.h.startWorker();
      expect(await ctx.h.settled(id)).toMatchObject({ status: 'failed', error_code: 'processing_failed', workspace_id: ctx.acme.workspace.id });
      await expectOnlyAcmeSees(id, 'failed');

      await ctx.h.db.pool.query('DROP TRIGGER test_fail_thread ON threads');
      expect((await api(ctx.acme, 'POST', `/v1/inbound-emails/${id}/replay`)).statusCode).toBe(202);
      expect(await ctx.h.settled(id)).toMatchObject({ status: 'processed', workspace_id: ctx.acme.workspace.id });
    } finally {
      await ctx.h.db.pool.query('DROP TRIGGER IF EXISTS test_fail_thread ON threads');
      await ctx.h.db.pool.query('DROP FUNCTION IF EXISTS test_fail_thread()');
    }
  });

  it('gives a copy for a second workspace to that workspace from the start', async () => {
    await ctx.h.stopWorker();
    const raw = Buffer.from(
      `From: Jane <jane@nike.com>\r\nTo: ${inbound()}, ${globex.workspace.inboundToken}@${INBOUND_DOMAIN}\r\nSubject: Both of you\r\nMessage-ID: <both-fork@nike.com>\r\n\r\nHi.\r\n`,
    );
    const id = await post(raw);
    // Attributed at receipt, before any worker has seen it.
    expect((await ctx.h.db.pool.query('SELECT status, workspace_id FROM inbound_emails WHERE id = $1', [id])).rows[0]).toEqual({ status: 'received', workspace_id: ctx.acme.workspace.id });
    await ctx.h.startWorker();
    expect(await ctx.h.settled(id)).toMatchObject({ status: 'processed', workspace_id: ctx.acme.workspace.id });
    const { rows } = await ctx.h.db.pool.query('SELECT id, workspace_id, target_workspace_id FROM inbound_emails WHERE forked_from = $1', [id]);
    expect(rows).toEqual([{ id: expect.any(String), workspace_id: globex.workspace.id, target_workspace_id: globex.workspace.id }]);
    expect(await ctx.h.settled(rows[0].id)).toMatchObject({ status: 'processed', workspace_id: globex.workspace.id });
  });
});
