import { appendFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ensureDatabase, startEmbeddedPostgres } from '../../src/db/embedded-postgres.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createPool, type Pool } from '../../src/db/pool.ts';

export type BenchDatabase = { url: string; pool: Pool; describe: string; close(): Promise<void> };

/**
 * A fresh, migrated database for one benchmark run: on DATABASE_URL's server when set, else on
 * an embedded PostgreSQL in a temporary folder with its default (durable) settings, as `npm start` runs it.
 */
export async function openBenchDatabase(): Promise<BenchDatabase> {
  const name = `intake_bench_${randomBytes(4).toString('hex')}`;
  let serverUrl = process.env.DATABASE_URL;
  let stopServer = async () => {};
  if (!serverUrl) {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'intake-bench-'));
    await fs.chmod(dir, 0o755);
    const server = await startEmbeddedPostgres({
      dataDir: dir,
      postgresFlags: (process.env.BENCH_PG_FLAGS ?? '').split(' ').filter(Boolean),
      // BENCH_PG_LOG=file: the server's log (auto_explain's plans, say) appended there.
      ...(process.env.BENCH_PG_LOG ? { onLog: (line: string) => appendFileSync(process.env.BENCH_PG_LOG!, `${line}\n`) } : {}),
    });
    serverUrl = server.url;
    stopServer = async () => {
      await server.stop();
      await fs.rm(dir, { recursive: true, force: true });
    };
  }
  const url = await ensureDatabase(serverUrl, name);
  const pool = createPool(url, { max: 16 });
  await migrate(pool);
  return {
    url,
    pool,
    describe: process.env.DATABASE_URL ? 'DATABASE_URL server' : 'embedded PostgreSQL',
    async close() {
      await pool.end();
      if (process.env.DATABASE_URL) {
        const admin = createPool(serverUrl, { max: 1 });
        await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        await admin.end();
      }
      await stopServer();
    },
  };
}

/** Runs `work(i)` for i in [0, n) with at most `concurrency` in flight; returns per-call latencies in ms. */
export async function runConcurrently(n: number, concurrency: number, work: (i: number) => Promise<unknown>): Promise<number[]> {
  const latencies: number[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        const start = performance.now();
        await work(i);
        latencies[i] = performance.now() - start;
      }
    }),
  );
  return latencies;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
