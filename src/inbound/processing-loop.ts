import { channelListener } from '../db/channel-listener.ts';
import type { Logger } from 'pino';
import { INBOUND_CHANNEL, type InboundWake } from './ledger.ts';
import { processInboundBatch, type BatchLimit } from './process-batch.ts';
import type { InboundDeps } from './process-inbound-email.ts';

export const INBOUND_LOOP = Object.freeze({
  /**
   * Emails per claim and transaction, and the raw bytes after which a claim stops. Per-batch work
   * (the claim, a dozen statements, a commit) is most of a small email's cost: in paired runs of
   * `npm run bench inbound`, 64 a batch took 1.8-1.9 ms of CPU per email where 16 took 2.1-2.4.
   * The byte budget keeps a batch of emails near the small lane's 1 MiB limit to a few of them.
   */
  batchSize: 64,
  batchBytes: 8 * 1024 * 1024,
  /** Batch transactions at once per process: more while batches come back full (a backlog). */
  maxBatches: 3,
  /** The fallback when a notification is missed, and how retries falling due are found. */
  pollIntervalMs: 1000,
});

export type InboundLoop = { wake(which?: InboundWake): void; stop(): Promise<void> };

type Lane = { name: 'small' | 'large'; limit: BatchLimit; maxBatches: number; runners: Set<Promise<void>>; pending: boolean };

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
    { name: 'small', limit: { rows: settings.batchSize, bytes: settings.batchBytes }, maxBatches: settings.maxBatches, runners: new Set(), pending: false },
    { name: 'large', limit: { rows: 1, bytes: Number.MAX_SAFE_INTEGER }, maxBatches: 1, runners: new Set(), pending: false },
  ];
  let stopping = false;

  const runner = (lane: Lane) => {
    const run = (async () => {
      try {
        while (!stopping) {
          lane.pending = false;
          const { claimed, full } = await processInboundBatch(deps, lane.limit, logger, lane.name);
          if (claimed) logger.debug({ claimed, lane: lane.name }, 'inbound batch processed');
          if (full && lane.runners.size < lane.maxBatches) runner(lane);
          if (!full && !lane.pending) break;
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
