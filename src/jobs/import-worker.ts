import type { PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import { withTransaction } from '../db/pool.ts';
import { holdIfLocalBaseUrl } from '../import/connections.ts';
import { executeRun, type ExecuteDeps, type ExecuteOutcome } from '../import/execute-run.ts';
import { enqueueRun, scheduleImports, workerName } from '../import/start-run.ts';
import { QUEUES } from '../queue/catalogue.ts';
import { payloadOf, settleEach } from './settle-each.ts';

// Jobs outlive deploys: the payload is unknown until the catalogue's schema proves it.
const runJob = QUEUES.importRun.payload;

/** What each run's executor needs, less what the worker supplies itself (its name, its shutdown signal). */
export type ImportWorkerDeps = Omit<ExecuteDeps, 'owner' | 'signal' | 'onPage'> & { schedulerMs: number };

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

  await boss.work(
    QUEUES.importRun.name,
    { batchSize: 1, localConcurrency: 2, pollingIntervalSeconds: 1, perJobResults: true },
    settleEach(QUEUES.importRun.name, logger, async (job) => {
      const { runId } = payloadOf(runJob, job);
      // A local base URL this service may not reach: the run ends needs_reauth with the reason (below).
      if (!deps.allowPrivate) await holdIfLocalBaseUrl(deps.pool, runId);
      const outcome = await executeRun({ ...deps, owner, signal: shutdown.signal }, runId);
      logger.info({ runId, outcome: outcome.status, ...('error' in outcome && outcome.error ? { error: outcome.error } : {}) }, 'import run slice ended');
      await follow(runId, outcome);
      return { outcome: outcome.status };
    }),
  );

  let ticking: Promise<void> | null = null;
  const tick = () => {
    ticking ??= scheduleImports(deps.pool, boss, deps.leaseMs)
      .then(() => undefined)
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
