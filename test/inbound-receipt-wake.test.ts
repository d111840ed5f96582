import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INBOUND_CHANNEL } from '../src/inbound/ledger.ts';
import { localWorkers, receiveInbound } from '../src/inbound/receive.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { until } from './support/until.ts';
import { makeWorkspace } from './support/workspaces.ts';

const INBOUND_DOMAIN = 'inbound.wake.test';

let db: TestDatabase;
let listener: pg.PoolClient;
const heard: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  listener = await db.pool.connect();
  listener.on('notification', (n) => heard.push(n.payload ?? ''));
  await listener.query(`LISTEN ${INBOUND_CHANNEL}`);
}, 60_000);

afterAll(async () => {
  listener?.release();
  await db?.close();
});

let seq = 0;
const email = (to: string) => {
  seq++;
  const raw = Buffer.from(`From: p${seq}@initech.test\r\nTo: ${to}\r\nSubject: Wake ${seq}\r\nMessage-ID: <wake-${seq}@initech.test>\r\n\r\nHello.\r\n`);
  return { source: 'mime' as const, raw, dedupeKey: `mime:wake-${seq}`, messageId: `wake-${seq}@initech.test`, recipients: { originalRecipient: null, to: [{ address: to, name: '' }], cc: [], bcc: [], headers: [] } };
};
const stored = async () => (await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM inbound_emails WHERE dedupe_key LIKE 'mime:wake-%'`)).rows[0]!.n;

describe('receipt wakes the workers', () => {
  it('without workers of its own (a CLI, another process) every receipt notifies', async () => {
    const { workspace } = await makeWorkspace(db.pool, 'Wake A', 'help@wake-a.test');
    const before = heard.length;
    for (let i = 0; i < 3; i++) await receiveInbound({ pool: db.pool, inboundDomain: INBOUND_DOMAIN }, email(`${workspace.inboundToken}@${INBOUND_DOMAIN}`));
    await until(() => heard.length - before >= 3, 10_000);
    expect(heard.slice(before)).toEqual(['small', 'small', 'small']);
  });

  it('with its own workers: each stored email wakes them directly, a duplicate does not, and others hear one notification per window', async () => {
    const { workspace } = await makeWorkspace(db.pool, 'Wake B', 'help@wake-b.test');
    const woken: string[] = [];
    // A window no test run outlasts: only the first receipt notifies.
    const deps = { pool: db.pool, inboundDomain: INBOUND_DOMAIN, local: localWorkers((lane) => woken.push(lane), 3_600_000) };
    const storedBefore = await stored();
    const before = heard.length;
    const first = email(`${workspace.inboundToken}@${INBOUND_DOMAIN}`);
    const receipts = [await receiveInbound(deps, first)];
    for (let i = 0; i < 4; i++) receipts.push(await receiveInbound(deps, email(`${workspace.inboundToken}@${INBOUND_DOMAIN}`)));
    receipts.push(await receiveInbound(deps, first));
    expect(receipts.map((r) => r.status)).toEqual(['received', 'received', 'received', 'received', 'received', 'duplicate']);
    expect(woken).toEqual(['small', 'small', 'small', 'small', 'small']);
    // Every receipt is stored whether or not it notified.
    expect((await stored()) - storedBefore).toBe(5);
    // A notification sent would have arrived by now (the first one did).
    await until(() => heard.length > before, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(heard.length - before).toBe(1);
  });
});
