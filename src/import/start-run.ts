import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { PgBoss } from 'pg-boss';
import { withTransaction, type Pool, type Queryable } from '../db/pool.ts';
import { sendInTransaction } from '../queue/boss.ts';
import { QUEUES } from '../queue/catalogue.ts';
import { dueConnectionIds } from './connections.ts';
import { claimOrphanedRuns, createRun, type ImportRun } from './runs.ts';

/**
 * How runs begin, for every entry point (the API, the CLI, the scheduler): a run row and its job,
 * together in one transaction; a job per slice after that.
 */

/** This process's name on the leases it takes. */
export function workerName(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/** Sends the job that executes (or continues) a run, in the caller's transaction. */
export async function enqueueRun(boss: PgBoss, tx: Queryable, runId: string, startAfter?: Date): Promise<void> {
  await sendInTransaction(boss, tx, QUEUES.importRun, { runId }, startAfter ? { startAfter } : {});
}

/** A new run for the connection and its job, together; null when one is already active. */
export async function startRun(pool: Pool, boss: PgBoss, connectionId: string): Promise<ImportRun | null> {
  return withTransaction(pool, async (tx) => {
    const run = await createRun(tx, connectionId);
    if (run) await enqueueRun(boss, tx, run.id);
    return run;
  });
}

/** One scheduler tick: due connections get a run; runs nobody works on (a dead worker's) get a job again. */
export async function scheduleImports(pool: Pool, boss: PgBoss, leaseMs: number): Promise<{ started: string[]; reclaimed: string[] }> {
  const started: string[] = [];
  for (const id of await dueConnectionIds(pool, 100)) {
    const run = await startRun(pool, boss, id);
    if (run) started.push(run.id);
  }
  const reclaimed = await withTransaction(pool, async (tx) => {
    const runIds = await claimOrphanedRuns(tx, leaseMs);
    for (const runId of runIds) await enqueueRun(boss, tx, runId);
    return runIds;
  });
  return { started, reclaimed };
}
