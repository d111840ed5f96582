import type { JobWithMetadata, PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import { recordFailure } from '../inbound/ledger.ts';
import { processInboundEmail, type InboundDeps } from '../inbound/process-inbound-email.ts';
import { sweepStuckInbound } from '../inbound/sweep.ts';
import { QUEUES } from '../queue/catalogue.ts';
import { payloadOf, settleEach } from './settle-each.ts';

// Jobs outlive deploys: the payload is unknown until the catalogue's schema proves it.
const jobData = QUEUES.inboundEmail.payload;

/**
 * Two fetch loops of up to 8 jobs, each batch processed concurrently and settled job by job.
 * Batches matter: a worker fetching one job at a time sleeps a polling interval between jobs,
 * while a full batch makes pg-boss fetch again at once (burst), and NOTIFY wakes an idle one.
 */
export const INBOUND_WORKER = Object.freeze({ loops: 2, batchSize: 8 });

const SWEEP_INTERVAL_MS = 60_000;

/**
 * Processes inbound emails; after the last retry an email is `failed` with its error, ready for
 * replay. A sweep each minute gives a new job to any email whose job was lost.
 */
export async function startInboundWorker(boss: PgBoss, deps: InboundDeps, logger: Logger): Promise<{ stop(): void }> {
  const sweep = setInterval(() => {
    sweepStuckInbound(deps.pool, boss).then(
      ({ requeued, failed }) => {
        if (requeued.length || failed.length) logger.warn({ requeued, failed }, 'inbound sweep: emails without a live job');
      },
      (err) => logger.error({ err }, 'inbound sweep failed'),
    );
  }, SWEEP_INTERVAL_MS);
  sweep.unref();
  await boss.work(
    QUEUES.inboundEmail.name,
    {
      includeMetadata: true,
      perJobResults: true,
      localConcurrency: INBOUND_WORKER.loops,
      batchSize: INBOUND_WORKER.batchSize,
      burstWhenBatchFull: true,
      pollingIntervalSeconds: 2,
      notifyPollingIntervalSeconds: 2,
    },
    settleEach<JobWithMetadata>(QUEUES.inboundEmail.name, logger, async (job) => {
      const id = payloadOf(jobData, job).inboundEmailId;
      try {
        return { status: await processInboundEmail(deps, id) };
      } catch (err) {
        const final = job.retryCount >= job.retryLimit;
        const message = err instanceof Error ? err.message : String(err);
        logger.error({ err, inboundEmailId: id, attempt: job.retryCount + 1, final }, 'inbound email processing failed');
        await recordFailure(deps.pool, id, message, final).catch((e) => logger.error({ err: e }, 'could not record the failure'));
        throw err;
      }
    }),
  );
  return { stop: () => clearInterval(sweep) };
}
