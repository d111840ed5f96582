import type { PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import { z } from 'zod';
import { recordFailure } from '../inbound/ledger.ts';
import { processInboundEmail, type InboundDeps } from '../inbound/process-inbound-email.ts';
import { QUEUES } from './queues.ts';

// Jobs outlive deploys: a payload is unknown until proven.
const jobData = z.object({ inboundEmailId: z.string().min(1) });

export const INBOUND_WORKER_CONCURRENCY = 8;

/** Processes inbound emails; after the last retry the email is `failed` with its error, ready for replay. */
export async function startInboundWorker(boss: PgBoss, deps: InboundDeps, logger: Logger): Promise<void> {
  await boss.work(QUEUES.inboundEmail.name, { includeMetadata: true, localConcurrency: INBOUND_WORKER_CONCURRENCY, pollingIntervalSeconds: 2, notifyPollingIntervalSeconds: 2 }, async ([job]) => {
    if (!job) return;
    const data = jobData.safeParse(job.data);
    if (!data.success) {
      logger.error({ jobId: job.id, data: job.data }, 'inbound job with an invalid payload; dropped');
      return;
    }
    const id = data.data.inboundEmailId;
    try {
      const status = await processInboundEmail(deps, id);
      logger.debug({ inboundEmailId: id, status }, 'inbound email processed');
    } catch (err) {
      const final = job.retryCount >= job.retryLimit;
      const message = err instanceof Error ? err.message : String(err);
      logger.error({ err, inboundEmailId: id, attempt: job.retryCount + 1, final }, 'inbound email processing failed');
      await recordFailure(deps.pool, id, message, final).catch((e) => logger.error({ err: e }, 'could not record the failure'));
      throw err;
    }
  });
}
