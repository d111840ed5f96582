import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { IMPORT_ADAPTERS } from '../../importers/index.ts';
import type { Pool } from '../../src/db/pool.ts';
import { createWorkspace } from '../../src/domain/workspaces.ts';
import { createConnection } from '../../src/import/connections.ts';
import type { RunCounts } from '../../src/import/counts.ts';
import { executeRun, type ExecuteDeps } from '../../src/import/execute-run.ts';
import { createRun, getRun } from '../../src/import/runs.ts';

/** What every import benchmark prints and measures the same way. */

/** A size from the environment (`BENCH_..._USERS=1000`), else the benchmark's default. */
export const env = (name: string, dflt: number) => Number(process.env[name] ?? dflt);

export const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;

/** `users 97999c/0l/0s/0f, ...`: created, linked, skipped, failed per stream. */
export function describeCounts(counts: RunCounts): string {
  return Object.entries(counts).map(([k, c]) => `${k} ${c.created}c/${c.linked}l/${c.skipped}s/${c.failed}f`).join(', ');
}

/** Peak resident set size while `work` runs, sampled every 200 ms (and once at the end). */
export async function withRssPeak<T>(work: () => Promise<T>): Promise<{ result: T; peakRss: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 200);
  try {
    const result = await work();
    return { result, peakRss: Math.max(peak, process.memoryUsage().rss) };
  } finally {
    clearInterval(timer);
  }
}

/** When a stream ended, and the run's counts then (the streams run one after the other). */
export type StreamMark = { at: number; counts: RunCounts };

export type EngineRun = { start: number; seconds: number; marks: Record<string, StreamMark>; counts: RunCounts; outcome: string; parks: number };

/**
 * One import through the real engine, as the job worker drives it (a parked run resumes at its
 * retryAt), on a new workspace and connection: the part every import benchmark shares.
 */
export async function importThroughEngine(
  pool: Pool,
  connection: { provider: string; account: string; credentials: unknown; settings: Record<string, unknown> },
): Promise<EngineRun> {
  const secretsKey = randomBytes(32);
  const { workspace } = await createWorkspace(pool, secretsKey, { name: 'Engine', supportAddress: 'help@acme.com' });
  const created = await createConnection(pool, secretsKey, { workspaceId: workspace.id, scheduleSeconds: 300, ...connection });
  const run = await createRun(pool, created.id);
  if (!run) throw new Error('the connection already has an active run');
  const marks: Record<string, StreamMark> = {};
  const deps: ExecuteDeps = {
    pool,
    secretsKey,
    adapters: IMPORT_ADAPTERS,
    owner: `bench-${process.pid}`,
    leaseMs: 30_000,
    sliceMs: Number.POSITIVE_INFINITY,
    userAgent: 'intake-bench',
    allowPrivate: true,
    onPage: ({ stream, counts, progress }) => {
      if (progress[stream]?.done && !marks[stream]) marks[stream] = { at: performance.now(), counts: structuredClone(counts) };
    },
  };
  const start = performance.now();
  let parks = 0;
  for (;;) {
    const o = await executeRun(deps, run.id);
    if (o.status === 'waiting') {
      parks++;
      await sleep(Math.max(0, o.retryAt.getTime() - Date.now()));
    } else if (o.status === 'busy') await sleep(100);
    else if (o.status !== 'continue') {
      const seconds = (performance.now() - start) / 1000;
      const finished = await getRun(pool, workspace.id, run.id);
      return { start, seconds, marks, counts: finished!.counts, outcome: o.status + (o.error ? `: ${o.error}` : ''), parks };
    }
  }
}
