import type pg from 'pg';
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

  // LISTEN on a connection of its own, reopened by the poll if it is lost.
  let listener: pg.PoolClient | null = null;
  let listening: Promise<void> | null = null;
  const listen = () => {
    if (listener || listening || stopping) return;
    listening = (async () => {
      const client = await deps.pool.connect();
      let released = false;
      const release = (err?: Error) => {
        if (listener === client) listener = null;
        if (!released) client.release(err ?? false);
        released = true;
      };
      client.on('notification', (n) => wake(n.payload === 'small' || n.payload === 'large' ? n.payload : 'all'));
      client.on('error', (err) => release(err));
      try {
        await client.query(`LISTEN ${INBOUND_CHANNEL}`);
      } catch (err) {
        release(err as Error);
        throw err;
      }
      if (stopping) release();
      else listener = client;
    })()
      .catch((err) => logger.warn({ err }, 'inbound LISTEN failed; polling'))
      .finally(() => {
        listening = null;
      });
  };
  const poll = setInterval(() => {
    listen();
    wake('all');
  }, settings.pollIntervalMs);
  poll.unref();
  listen();
  wake('all');

  return {
    wake,
    stop: async () => {
      stopping = true;
      clearInterval(poll);
      // Batches in flight finish (or roll back): nothing claimed is held past the stop.
      for (const lane of lanes) while (lane.runners.size) await Promise.allSettled([...lane.runners]);
      await listening;
      const client = listener;
      listener = null;
      if (client) {
        await client.query(`UNLISTEN ${INBOUND_CHANNEL}`).catch(() => {});
        client.removeAllListeners('notification');
        client.release();
      }
    },
  };
}
