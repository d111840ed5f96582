import { readdirSync, readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { threadTokenKey } from '../src/domain/thread-token.ts';
import { receiveInbound } from '../src/inbound/receive.ts';
import { PROCESSING_NICE, startInboundThread } from '../src/inbound/processing-loop-thread.ts';
import { adminQuery } from './support/postgres-admin.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { until } from './support/until.ts';
import { makeWorkspace, TEST_SECRETS_KEY } from './support/workspaces.ts';
import { inject } from 'vitest';

/** `intake start` processes inbound mail on a thread of its own (src/inbound/processing-loop-thread.ts). */

const INBOUND_DOMAIN = 'inbound.thread.test';
let db: TestDatabase;
let inboundToken: string;
const lines: Array<{ msg: string; level: number }> = [];
const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _enc, done) => (lines.push(JSON.parse(String(chunk))), done()) }));

beforeAll(async () => {
  db = await createTestDatabase();
  inboundToken = (await makeWorkspace(db.pool, 'Thread', 'help@thread-acme.test')).workspace.inboundToken;
}, 60_000);
afterAll(async () => {
  await db?.close();
});

let seq = 0;
async function send(): Promise<string> {
  seq++;
  const to = `${inboundToken}@${INBOUND_DOMAIN}`;
  const raw = Buffer.from(`From: p${seq}@initech.test\r\nTo: ${to}\r\nSubject: Thread ${seq}\r\nMessage-ID: <thread-${seq}@initech.test>\r\n\r\nHello ${seq}.\r\n`);
  const receipt = await receiveInbound(
    { pool: db.pool, inboundDomain: INBOUND_DOMAIN },
    { source: 'mime', raw, dedupeKey: `mime:thread-${seq}`, messageId: `thread-${seq}@initech.test`, recipients: { originalRecipient: null, to: [{ address: to, name: '' }], cc: [], bcc: [], headers: [] } },
  );
  return receipt.inboundEmailId;
}
const status = async (id: string) => (await db.pool.query(`SELECT status FROM inbound_emails WHERE id = $1`, [id])).rows[0]?.status;
const threadConnections = async () =>
  (await adminQuery(inject('databaseServerUrl'), `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'intake-inbound'`, [db.name])).rows[0].n as number;
/** A thread's nice value, from /proc (Linux keeps one per thread). */
const niceOf = (tid: string) => {
  const stat = readFileSync(`/proc/${process.pid}/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
};
const niceOfThreads = () => readdirSync(`/proc/${process.pid}/task`).map(niceOf);
const setup = () => ({ databaseUrl: db.url, poolSize: 3, inboundDomain: INBOUND_DOMAIN, threadTokenKey: threadTokenKey(TEST_SECRETS_KEY), logLevel: 'silent' });

describe('the inbound processing thread', () => {
  it('processes what is received, is started again after it dies, and stops with its connections closed', async () => {
    expect(niceOfThreads()).not.toContain(PROCESSING_NICE);
    const loop = await startInboundThread(setup(), logger, () => {
      throw new Error('gave up');
    });
    try {
      expect(await threadConnections()).toBeGreaterThan(0);
      // The processing thread alone runs at a lower priority: receipts go first when the cores are busy.
      expect(niceOfThreads()).toContain(PROCESSING_NICE);
      expect(niceOf(String(process.pid))).toBe(0);
      const first = await send();
      loop.wake('small');
      await until(async () => (await status(first)) === 'processed', 15_000);

      // The thread dies (as from a fatal error): logged, started again, and mail received meanwhile is processed.
      const dead = loop.current();
      await dead.terminate();
      const meanwhile = await send();
      loop.wake('small');
      await until(async () => loop.current() !== dead, 15_000);
      await until(async () => (await status(meanwhile)) === 'processed', 15_000);
      expect(lines.some((l) => l.level === 50 && /inbound processing thread exited; starting it again/.test(l.msg))).toBe(true);
    } finally {
      await loop.stop();
    }
    expect(await threadConnections()).toBe(0);
    // A wake after the stop is ignored, and nothing more is processed.
    loop.wake('all');
    const after = await send();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await status(after)).toBe('received');
    await db.pool.query(`DELETE FROM inbound_emails WHERE id = $1`, [after]);
  }, 60_000);

  it('gives up on a crash loop: a fourth death within the window is not restarted, and says so once', async () => {
    const gaveUp: Error[] = [];
    const loop = await startInboundThread(setup(), logger, (err) => gaveUp.push(err), { afterMs: 50, maxDeaths: 3, windowMs: 60_000 });
    try {
      for (let death = 1; death <= 4; death++) {
        const dying = loop.current();
        await dying.terminate();
        if (death <= 3) await until(async () => loop.current() !== dying, 15_000);
      }
      await until(async () => gaveUp.length > 0, 15_000);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(gaveUp).toHaveLength(1);
      expect(gaveUp[0]!.message).toMatch(/4th death in 1 minutes; not starting it again/);
    } finally {
      await loop.stop();
    }
  }, 60_000);

  it('a stop while a dead thread is being replaced ends the replacement too, leaving no connection open', async () => {
    const loop = await startInboundThread(setup(), logger, () => {}, { afterMs: 0, maxDeaths: 3, windowMs: 60_000 });
    const dead = loop.current();
    await dead.terminate();
    // The replacement is loading (a few hundred ms) when the stop comes.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await loop.stop();
    // The replacement finishes starting (its connections open), then stops: none is left open.
    await until(() => loop.current() !== dead, 15_000);
    await until(async () => (await threadConnections()) === 0, 15_000);
  }, 60_000);

  it('refuses to start when its database cannot be reached, with the reason', async () => {
    const bad = { ...setup(), databaseUrl: 'postgres://nobody@127.0.0.1:1/none' };
    await expect(startInboundThread(bad, logger, () => {})).rejects.toThrow(/ECONNREFUSED|connect/);
  }, 30_000);
});
