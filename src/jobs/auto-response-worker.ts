import type { JobResult, PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import { z } from 'zod';
import { autoRespondToThread, type AutoResponderDeps } from '../events/auto-responder.ts';
import { QUEUES } from './queues.ts';

const job = z.object({ workspaceId: z.string().min(1), threadId: z.string().min(1) });

/**
 * Two fetch loops of up to 16 jobs, each batch sent concurrently and settled job by job, as the
 * inbound worker does: one job per fetch meant a polling interval between sends (about one per
 * second). The guarantees live in the auto-responder, not in the order of sends: a UNIQUE row per
 * thread and a per-customer lock, so two jobs of one batch for one thread or one customer still
 * send once.
 */
export const AUTO_RESPONSE_WORKER = Object.freeze({ loops: 2, batchSize: 16 });

/** Sends the auto-response of a thread a customer's email opened, once its delay has passed. */
export async function startAutoResponseWorker(boss: PgBoss, deps: AutoResponderDeps, logger: Logger): Promise<void> {
  await boss.work(
    QUEUES.autoResponse.name,
    {
      perJobResults: true,
      localConcurrency: AUTO_RESPONSE_WORKER.loops,
      batchSize: AUTO_RESPONSE_WORKER.batchSize,
      burstWhenBatchFull: true,
      // Jobs become due on their own clock (startAfter = the delay), which no NOTIFY announces.
      pollingIntervalSeconds: 1,
    },
    async (jobs) =>
      Promise.all(
        jobs.map(async (j): Promise<JobResult> => {
          const data = job.safeParse(j.data);
          if (!data.success) {
            // Failed, never completed: the job stays visible with its payload.
            logger.error({ jobId: j.id, data: j.data }, 'auto-response job with an invalid payload');
            return { id: j.id, status: 'failed', output: { message: 'invalid payload', issues: data.error.issues } };
          }
          try {
            const result = await autoRespondToThread(deps, data.data);
            logger.info({ threadId: data.data.threadId, result }, 'auto-response');
            return { id: j.id, status: 'completed', output: { result } };
          } catch (err) {
            const message = err instanceof Error ? err.message : String(err);
            logger.error({ err, threadId: data.data.threadId }, 'auto-response failed; the job will retry');
            return { id: j.id, status: 'failed', output: { message } };
          }
        }),
      ),
  );
}
