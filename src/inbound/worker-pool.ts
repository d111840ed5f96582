import { availableParallelism } from 'node:os';
import pLimit from 'p-limit';
import { Piscina } from 'piscina';

/**
 * Worker threads for the inbound pipeline's CPU-heavy steps on untrusted input (parsing a large
 * email, HTML to text): a hostile email can cost a worker thread its time budget, never the thread
 * that serves HTTP and runs the jobs.
 */

const THREADS = Math.max(1, Math.min(2, availableParallelism() - 1));

let pool: Piscina | null = null;
// Tasks reach the pool only when a thread is free, so a budget counts running time, not time
// spent queued behind other mail.
const gate = pLimit(THREADS);

function workers(): Piscina {
  pool ??= new Piscina({
    minThreads: 0,
    maxThreads: THREADS,
    idleTimeout: 30_000,
    // A worker that runs out of memory or stack dies alone and its task fails; the pool starts another.
    resourceLimits: { maxOldGenerationSizeMb: 1024, stackSizeMb: 16 },
  });
  return pool;
}

/** The worker ran out of its time budget or its memory: the same input would again. */
export class WorkerLimitError extends Error {
  override name = 'WorkerLimitError';
}

/** Runs the default export of `module` on `task` in a worker thread, within `budgetMs` of running time. */
export async function runInWorker<T>(module: URL, task: unknown, budgetMs: number): Promise<T> {
  return gate(async () => {
    try {
      // An abort terminates the busy worker thread.
      return (await workers().run(task, { filename: module.href, signal: AbortSignal.timeout(budgetMs) })) as T;
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw new WorkerLimitError(`took longer than ${budgetMs} ms`);
      if ((err as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY') throw new WorkerLimitError('ran out of memory');
      throw err;
    }
  });
}

/** Stops the worker threads (idle ones are unref'd and never hold the process open). */
export async function closeWorkers(): Promise<void> {
  const current = pool;
  pool = null;
  await current?.close({ force: true });
}
