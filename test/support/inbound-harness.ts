import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildApp } from '../../src/http/app.ts';
import { threadTokenKey } from '../../src/domain/thread-token.ts';
import { startJobs, type Jobs } from '../../src/queue/boss.ts';
import { startInboundWorker } from '../../src/jobs/inbound-worker.ts';
import type { Pool } from '../../src/db/pool.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { makeWorkspace } from './workspaces.ts';

export const INBOUND_DOMAIN = 'inbound.intake.test';
export const BASIC_AUTH = 'postmark:correct-horse-battery';
export const AUTH_HEADER = `Basic ${Buffer.from(BASIC_AUTH).toString('base64')}`;

export type InboundHarness = {
  db: TestDatabase;
  jobs: Jobs;
  app: FastifyInstance;
  secretsKey: Buffer;
  tokenKey: Buffer;
  /** Waits until the inbound email has left `received`; returns its row. */
  settled(id: string, timeoutMs?: number): Promise<{ status: string; attempts: number; [k: string]: unknown }>;
  /** Stops the inbound worker: emails stay `received` until startWorker. */
  stopWorker(): Promise<void>;
  startWorker(): Promise<void>;
  close(): Promise<void>;
};

/** A test database, pg-boss with the real inbound worker, and the real HTTP app. */
export async function startInboundHarness(options: { pool?: Pool } = {}): Promise<InboundHarness> {
  const db = await createTestDatabase();
  const secretsKey = randomBytes(32);
  const tokenKey = threadTokenKey(secretsKey);
  const jobs = await startJobs(db.url, { onError: () => {}, supervise: false, schedule: false });
  const logger = pino({ level: 'silent' });
  const start = () => startInboundWorker(jobs.boss, { pool: db.pool, boss: jobs.boss, inboundDomain: INBOUND_DOMAIN, threadTokenKey: tokenKey }, logger);
  let worker: Awaited<ReturnType<typeof start>> | null = await start();
  const app = await buildApp({ pool: options.pool ?? db.pool, boss: jobs.boss, inboundDomain: INBOUND_DOMAIN, inboundBasicAuth: BASIC_AUTH });
  return {
    db,
    jobs,
    app,
    secretsKey,
    tokenKey,
    async settled(id, timeoutMs = 20_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const { rows } = await db.pool.query(`SELECT * FROM inbound_emails WHERE id = $1`, [id]);
        if (rows[0] && rows[0].status !== 'received') return rows[0];
        if (Date.now() > end) throw new Error(`inbound email ${id} still ${rows[0]?.status ?? 'missing'} after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    },
    async stopWorker() {
      await worker?.stop();
      worker = null;
    },
    async startWorker() {
      worker ??= await start();
    },
    async close() {
      await worker?.stop();
      await app.close();
      await jobs.stop();
      await db.close();
    },
  };
}

/**
 * A file's harness and its Acme workspace (help@acme.com): started before the file's tests, closed
 * after them. Read `ctx.h` and `ctx.acme` inside tests (they are set once beforeAll has run).
 */
export function inboundHarnessWithAcme(): { h: InboundHarness; acme: Awaited<ReturnType<typeof makeWorkspace>> } {
  const ctx = {} as ReturnType<typeof inboundHarnessWithAcme>;
  beforeAll(async () => {
    ctx.h = await startInboundHarness();
    ctx.acme = await makeWorkspace(ctx.h.db.pool, 'Acme', 'help@acme.com');
  });
  afterAll(async () => ctx.h?.close());
  return ctx;
}
