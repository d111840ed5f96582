import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOrCreateCustomerByEmail } from '../src/domain/customers.ts';
import { createThread } from '../src/domain/threads.ts';
import { withTransaction } from '../src/db/pool.ts';
import { DELIVERIES_PER_TARGET } from '../src/events/delivery-loop.ts';
import { createWebhookTarget } from '../src/events/webhook-targets.ts';
import { startIntake, type RunningIntake } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { makeWorkspace, TEST_SECRETS_KEY } from './support/workspaces.ts';

const EVENTS = 40;
const TARGETS = ['/a', '/b'];

let db: TestDatabase;
let dataDir: string;
let server: http.Server;
let receiverUrl: string;
const received: Array<{ path: string; eventId: string; attempt: string }> = [];
const active = new Map<string, number>();
const mostAtOnce = new Map<string, number>();

beforeAll(async () => {
  db = await createTestDatabase();
  dataDir = await mkdtemp(path.join(tmpdir(), 'intake-webhooks-'));
  // A receiver that takes 150 ms per delivery and counts how many of one target's are open at once.
  server = http.createServer((req, res) => {
    const p = req.url ?? '/';
    active.set(p, (active.get(p) ?? 0) + 1);
    mostAtOnce.set(p, Math.max(mostAtOnce.get(p) ?? 0, active.get(p)!));
    req.resume();
    req.on('end', () => {
      received.push({ path: p, eventId: String(req.headers['plain-event-id']), attempt: String(req.headers['plain-webhook-delivery-attempt-number']) });
      setTimeout(() => {
        active.set(p, active.get(p)! - 1);
        res.end('ok');
      }, 150);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await db?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('webhook delivery shared by two intake processes', () => {
  it('delivers every (event, target) once between them, with at most the per-target cap in flight in each', async () => {
    const { workspace } = await makeWorkspace(db.pool, 'Shared', 'help@shared.test');
    await withTransaction(db.pool, async (tx) => {
      for (const p of TARGETS) await createWebhookTarget(tx, TEST_SECRETS_KEY, workspace.id, { url: `${receiverUrl}${p}`, eventTypes: ['thread.thread_created'], enabled: true, version: '2024-09-18' });
    });
    // Written before either process runs: both find the same backlog.
    for (let i = 0; i < EVENTS; i++) {
      const ctx = { db: db.pool, workspaceId: workspace.id, origin: 'api' as const };
      const { customer } = await findOrCreateCustomerByEmail(ctx, { email: `p${i}@initech.test`, fullName: `P ${i}` });
      await createThread(ctx, { customerId: customer.id, title: `Shared ${i}`, channel: 'EMAIL' });
    }
    const env = { DATABASE_URL: db.url, DATA_DIR: dataDir, SECRETS_KEY: TEST_SECRETS_KEY.toString('hex'), WEBHOOK_ALLOW_PRIVATE: '1', LOG_LEVEL: 'info' };
    const processes: RunningIntake[] = [];
    try {
      processes.push(...(await Promise.all([startIntake(env), startIntake(env)])));
      const delivered = async () => (await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'delivered'`)).rows[0]!.n;
      for (const end = Date.now() + 60_000; (await delivered()) < EVENTS * TARGETS.length; ) {
        if (Date.now() > end) throw new Error(`timed out: ${await delivered()} delivered\n${processes.map((p) => p.output()).join('\n')}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      for (const p of processes) p.child.kill('SIGTERM');
      await Promise.all(processes.map((p) => p.exited));
    }

    // No duplicates: each (event, target) arrived once, as attempt 1, and is recorded once.
    const pairs = received.map((r) => `${r.path} ${r.eventId}`);
    expect(pairs.length).toBe(EVENTS * TARGETS.length);
    expect(new Set(pairs).size).toBe(EVENTS * TARGETS.length);
    expect(new Set(received.map((r) => r.attempt))).toEqual(new Set(['1']));
    const { rows } = await db.pool.query<{ n: number; one: boolean }>(
      `SELECT count(*)::int AS n, bool_and(number = 1) AS one FROM webhook_delivery_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id WHERE d.workspace_id = $1`,
      [workspace.id],
    );
    expect(rows[0]).toEqual({ n: EVENTS * TARGETS.length, one: true });
    // Shared: one process sends a target at most DELIVERIES_PER_TARGET at once, so more than that
    // open together means both were sending it; never more than the cap in each.
    for (const p of TARGETS) {
      expect(mostAtOnce.get(p), p).toBeGreaterThan(DELIVERIES_PER_TARGET);
      expect(mostAtOnce.get(p), p).toBeLessThanOrEqual(2 * DELIVERIES_PER_TARGET);
    }
  }, 150_000);
});
