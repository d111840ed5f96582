import type { PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import { autoRespondToThread, type AutoResponderDeps } from '../events/auto-responder.ts';
import { QUEUES } from '../queue/catalogue.ts';
import { payloadOf, settleEach } from './settle-each.ts';

// Jobs outlive deploys: the payload is unknown until the catalogue's schema proves it.
const job = QUEUES.autoResponse.payload;

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
    settleEach(QUEUES.autoResponse.name, logger, async (j) => {
      const thread = payloadOf(job, j);
      try {
        const result = await autoRespondToThread(deps, thread);
        logger.info({ threadId: thread.threadId, result }, 'auto-response');
        return { result };
      } catch (err) {
        logger.error({ err, threadId: thread.threadId }, 'auto-response failed; the job will retry');
        throw err;
      }
    }),
  );
}
