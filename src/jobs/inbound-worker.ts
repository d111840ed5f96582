import type { Job, PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import { makeDue } from '../inbound/ledger.ts';
import type { InboundDeps } from '../inbound/process-inbound-email.ts';
import { INBOUND_LOOP, startInboundLoop, type InboundLoop } from '../inbound/processing-loop.ts';
import { sweepStuckInbound } from '../inbound/sweep.ts';
import { QUEUES } from '../queue/catalogue.ts';

// Jobs outlive deploys: the payload is unknown until the catalogue's schema proves it.
const jobData = QUEUES.inboundEmail.payload;

const SWEEP_INTERVAL_MS = 60_000;
// Only jobs queued by an earlier version arrive here: no hurry.
const DRAIN_POLL_SECONDS = 30;

/**
 * Processes inbound emails, claimed in batches straight from the inbound ledger
 * (src/inbound/processing-loop.ts); after the last retry an email is `failed` with its error,
 * ready for replay. A sweep each minute wakes the workers for any email left waiting and fails
 * one waiting past a day. A processing job an earlier version queued only makes its email due.
 */
export async function startInboundWorker(
  boss: PgBoss,
  deps: InboundDeps,
  logger: Logger,
  options: Partial<typeof INBOUND_LOOP> = {},
  // `intake start` runs the loop on a thread of its own (processing-loop-thread.ts).
  startLoop: () => InboundLoop | Promise<InboundLoop> = () => startInboundLoop(deps, logger, options),
): Promise<{ wake: InboundLoop['wake']; stop(): Promise<void> }> {
  const loop = await startLoop();
  const sweep = setInterval(() => {
    sweepStuckInbound(deps.pool).then(
      ({ requeued, failed }) => {
        if (requeued.length || failed.length) logger.warn({ requeued, failed }, 'inbound sweep: emails left waiting');
      },
      (err) => logger.error({ err }, 'inbound sweep failed'),
    );
  }, SWEEP_INTERVAL_MS);
  sweep.unref();
  const drainer = await boss.work(
    QUEUES.inboundEmail.name,
    { batchSize: INBOUND_LOOP.batchSize, pollingIntervalSeconds: DRAIN_POLL_SECONDS },
    async (jobs: Job[]) => {
      // A job is done once its email is due; one with an invalid payload has nothing to make due.
      const ids: string[] = [];
      for (const job of jobs) {
        const parsed = jobData.safeParse(job.data);
        if (parsed.success) ids.push(parsed.data.inboundEmailId);
        else logger.error({ queue: QUEUES.inboundEmail.name, jobId: job.id, data: job.data }, 'job with an invalid payload; nothing to drain');
      }
      await makeDue(deps.pool, ids);
      loop.wake();
    },
  );
  let stopped: Promise<void> | undefined;
  return {
    wake: loop.wake,
    stop: () =>
      (stopped ??= (async () => {
        clearInterval(sweep);
        await boss.offWork(QUEUES.inboundEmail.name, { id: drainer, wait: true }).catch(() => {});
        await loop.stop();
      })()),
  };
}
