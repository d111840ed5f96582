import { channelListener } from '../db/channel-listener.ts';
import type { Logger } from 'pino';
import { INBOUND_CHANNEL, type InboundWake } from './ledger.ts';
import { processInboundBatch } from './process-batch.ts';
import type { InboundDeps } from './process-inbound-email.ts';

export const INBOUND_LOOP = Object.freeze({
  /** Emails per claim and transaction. */
  batchSize: 16,
  /** Batch transactions at once per process: more while batches come back full (a backlog). */
  maxBatches: 3,
  /** The fallback when a notification is missed, and how retries falling due are found. */
  pollIntervalMs: 1000,
});

export type InboundLoop = { wake(which?: InboundWake): void; stop(): Promise<void> };

type Lane = { name: 'small' | 'large'; batchSize: number; maxBatches: number; runners: Set<Promise<void>>; pending: boolean };

/**
 * Claims due emails from the inbound ledger in batches, woken by receipt's NOTIFY and by a poll.
 * One batch runs while mail trickles in (each wake-up claims what arrived meanwhile); a batch
 * that comes back full starts another, up to maxBatches. Emails above LARGE_EMAIL_BYTES (ledger.ts) go one
 * at a time in a lane of their own, so a slow parse never holds a batch of ordinary mail.
 * Several processes share the table: FOR UPDATE SKIP LOCKED gives each email to one
 * transaction at a time.
 */
export function startInboundLoop(deps: InboundDeps, logger: Logger, options: Partial<typeof INBOUND_LOOP> = {}): InboundLoop {
  const settings = { ...INBOUND_LOOP, ...options };
  const lanes: Lane[] = [
    { name: 'small', batchSize: settings.batchSize, maxBatches: settings.maxBatches, runners: new Set(), pending: false },
    { name: 'large', batchSize: 1, maxBatches: 1, runners: new Set(), pending: false },
  ];
  let stopping = false;

  const runner = (lane: Lane) => {
    const run = (async () => {
      try {
        while (!stopping) {
          lane.pending = false;
          const claimed = await processInboundBatch(deps, lane.batchSize, logger, lane.name);
          if (claimed) logger.debug({ claimed, lane: lane.name }, 'inbound batch processed');
          if (claimed >= lane.batchSize && lane.runners.size < lane.maxBatches) runner(lane);
          if (claimed < lane.batchSize && !lane.pending) break;
        }
      } catch (err) {
        // The database is unreachable, say: the poll tries again.
        logger.error({ err }, 'claiming inbound emails failed');
      }
    })().finally(() => lane.runners.delete(run));
    lane.runners.add(run);
  };

  // Receipt says which lane its email is for; anything else (a replay, a copy, the poll) wakes both.
  const wake = (which: InboundWake = 'all') => {
    if (stopping) return;
    for (const lane of lanes) {
      if (which !== 'all' && which !== lane.name) continue;
      lane.pending = true;
      if (lane.runners.size === 0) runner(lane);
    }
  };

  // NOTIFY from receipt names the lane; the poll below reopens a lost LISTEN connection.
  const channel = channelListener(deps.pool, INBOUND_CHANNEL, (payload) => wake(payload === 'small' || payload === 'large' ? payload : 'all'), logger);
  const poll = setInterval(() => {
    channel.ensure();
    wake('all');
  }, settings.pollIntervalMs);
  poll.unref();
  channel.ensure();
  wake('all');

  return {
    wake,
    stop: async () => {
      stopping = true;
      clearInterval(poll);
      // Batches in flight finish (or roll back): nothing claimed is held past the stop.
      for (const lane of lanes) while (lane.runners.size) await Promise.allSettled([...lane.runners]);
      await channel.close();
    },
  };
}
