import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../src/db/pool.ts';
import { buildApp } from '../src/http/app.ts';
import { AUTH_HEADER, INBOUND_DOMAIN, startInboundHarness, type InboundHarness } from './support/inbound-harness.ts';
import { startTcpProxy } from './support/tcp-proxy.ts';
import { makeWorkspace } from './support/workspaces.ts';

let h: InboundHarness;
let acme: Awaited<ReturnType<typeof makeWorkspace>>;

beforeAll(async () => {
  h = await startInboundHarness();
  acme = await makeWorkspace(h.db.pool, 'Acme', 'help@acme.com');
});
afterAll(async () => h.close());

const mime = (id: string, subject: string, from = 'jane@nike.com') =>
  Buffer.from(`From: Jane Doe <${from}>\r\nTo: ${acme.workspace.inboundToken}@${INBOUND_DOMAIN}\r\nSubject: ${subject}\r\nMessage-ID: <${id}@mail.nike.com>\r\n\r\nHello.\r\n`);

describe('database down at receipt', () => {
  it('answers 503, never 200, and the sender’s retry after recovery lands', async () => {
    const url = new URL(h.db.url);
    const proxy = await startTcpProxy(url.hostname, Number(url.port));
    url.port = String(proxy.port);
    const pool = createPool(url.toString(), { max: 4 });
    const app = await buildApp({ pool, boss: h.jobs.boss, inboundDomain: INBOUND_DOMAIN, inboundBasicAuth: 'postmark:correct-horse-battery' });
    try {
      const send = () => app.inject({ method: 'POST', url: '/inbound/mime', payload: mime('down-1', 'During the outage'), headers: { 'content-type': 'message/rfc822', authorization: AUTH_HEADER } });
      proxy.cut();
      const during = await send();
      expect(during.statusCode).toBe(503);
      expect(during.json().error.code).toBe('service_unavailable');
      const { rows } = await h.db.pool.query(`SELECT count(*)::int AS n FROM inbound_emails WHERE message_id = 'down-1@mail.nike.com'`);
      expect(rows[0].n).toBe(0);

      proxy.restore();
      const after = await send();
      expect(after.statusCode).toBe(200);
      expect(after.json().status).toBe('received');
      expect((await h.settled(after.json().inboundEmailId)).status).toBe('processed');
    } finally {
      await app.close();
      await pool.end();
      await proxy.close();
    }
  });
});

describe('crash mid-transaction', () => {
  it('a processing transaction killed half-way is retried and leaves exactly one customer, thread and entry', async () => {
    const blocker = await h.db.pool.connect();
    try {
      // Hold the outbox so the worker stops inside its transaction, right after it inserted the
      // customer (whose customer_created event is the first event it writes).
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE events IN EXCLUSIVE MODE');
      const res = await h.app.inject({ method: 'POST', url: '/inbound/mime', payload: mime('crash-1', 'Crash me', 'crash@initech.com'), headers: { 'content-type': 'message/rfc822', authorization: AUTH_HEADER } });
      const id = res.json().inboundEmailId;
      let victim: number | undefined;
      for (let i = 0; i < 200 && !victim; i++) {
        const { rows } = await h.db.pool.query(
          `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE '%INSERT INTO events%'`,
        );
        victim = rows[0]?.pid;
        if (!victim) await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(victim).toBeDefined();
      const mid = await h.db.pool.query(`SELECT count(*)::int AS n FROM customers WHERE email = 'crash@initech.com'`);
      expect(mid.rows[0].n).toBe(0); // uncommitted: invisible
      await h.db.pool.query('SELECT pg_terminate_backend($1)', [victim]);
      await blocker.query('ROLLBACK');

      const row = await h.settled(id, 30_000);
      expect(row.status).toBe('processed');
      expect(row.attempts).toBe(2); // the failed attempt, then the retry
      const counts = await h.db.pool.query(
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
