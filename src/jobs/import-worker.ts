import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import { z } from 'zod';
import { withTransaction, type Pool, type Queryable } from '../db/pool.ts';
import { executeRun, type ExecuteDeps, type ExecuteOutcome } from '../import/execute-run.ts';
import { claimOrphanedRuns, createRun, type ImportRun } from '../import/runs.ts';
import { sendInTransaction } from './boss.ts';
import { QUEUES } from './queues.ts';

const runJob = z.object({ runId: z.string().min(1) });

/** What each run's executor needs, less what the worker supplies itself (its name, its shutdown signal). */
export type ImportWorkerDeps = Omit<ExecuteDeps, 'owner' | 'signal' | 'onPage'> & { schedulerMs: number };

/** This process's name on the leases it takes. */
export function workerName(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/** Sends the job that executes (or continues) a run, in the caller's transaction. */
export async function enqueueRun(boss: PgBoss, tx: Queryable, runId: string, startAfter?: Date): Promise<void> {
  await sendInTransaction(boss, tx, QUEUES.importRun.name, { runId }, startAfter ? { startAfter } : {});
}

/** A new run for the connection and its job, together; null when one is already active. */
export async function startRun(pool: Pool, boss: PgBoss, connectionId: string): Promise<ImportRun | null> {
  return withTransaction(pool, async (tx) => {
    const run = await createRun(tx, connectionId);
    if (run) await enqueueRun(boss, tx, run.id);
    return run;
  });
}

/**
 * The import-run worker and this process's scheduler. A job executes one slice of a run; what
 * follows (the next slice, a parked run's return) is a new job, so no worker waits for minutes.
 * The scheduler starts due incremental runs and re-sends jobs for runs whose worker died.
 */
export async function startImportWorker(boss: PgBoss, deps: ImportWorkerDeps, logger: Logger): Promise<{ stop(): Promise<void> }> {
  const owner = workerName();
  const shutdown = new AbortController();
  const follow = async (runId: string, outcome: ExecuteOutcome) => {
    if (outcome.status === 'continue' && !shutdown.signal.aborted) await withTransaction(deps.pool, (tx) => enqueueRun(boss, tx, runId));
    if (outcome.status === 'waiting') await withTransaction(deps.pool, (tx) => enqueueRun(boss, tx, runId, outcome.retryAt));
  };

  await boss.work(QUEUES.importRun.name, { batchSize: 1, localConcurrency: 2, pollingIntervalSeconds: 1 }, async ([job]) => {
    const data = runJob.safeParse(job?.data);
    if (!data.success) return { dropped: 'invalid payload' };
    const { runId } = data.data;
    const outcome = await executeRun({ ...deps, owner, signal: shutdown.signal }, runId);
    logger.info({ runId, outcome: outcome.status, ...('error' in outcome && outcome.error ? { error: outcome.error } : {}) }, 'import run slice ended');
    await follow(runId, outcome);
    return { outcome: outcome.status };
  });

  let ticking: Promise<void> | null = null;
  const tick = () => {
    ticking ??= schedule(boss, deps)
      .catch((err: unknown) => logger.error({ err }, 'import scheduler failed'))
      .finally(() => {
        ticking = null;
      });
  };
  const timer = setInterval(tick, deps.schedulerMs);
  timer.unref();
  tick();
  return {
    stop: async () => {
      clearInterval(timer);
      shutdown.abort(new Error('shutting down'));
      await ticking;
    },
  };
}

/** Due connections get a run; runs nobody works on get a job again. */
async function schedule(boss: PgBoss, deps: ImportWorkerDeps): Promise<void> {
  const { rows } = await deps.pool.query<{ id: string }>(
    `SELECT id FROM import_connections c
      WHERE status = 'active' AND next_run_at <= now()
        AND NOT EXISTS (SELECT 1 FROM import_runs r WHERE r.connection_id = c.id AND r.status IN ('queued', 'running', 'waiting'))
      ORDER BY next_run_at LIMIT 100`,
  );
  for (const { id } of rows) await startRun(deps.pool, boss, id);
  await withTransaction(deps.pool, async (tx) => {
    for (const runId of await claimOrphanedRuns(tx, deps.leaseMs)) await enqueueRun(boss, tx, runId);
  });
}
