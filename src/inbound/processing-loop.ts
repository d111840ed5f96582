import type pg from 'pg';
import type { Logger } from 'pino';
import { INBOUND_CHANNEL } from './ledger.ts';
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

export type InboundLoop = { wake(): void; stop(): Promise<void> };

/**
 * Claims due emails from the inbound ledger in batches, woken by receipt's NOTIFY and by a poll.
 * One batch runs while mail trickles in (each wake-up claims what arrived meanwhile); a batch
 * that comes back full starts another, up to maxBatches. Several processes share the table:
 * FOR UPDATE SKIP LOCKED gives each email to one transaction at a time.
 */
export function startInboundLoop(deps: InboundDeps, logger: Logger, options: Partial<typeof INBOUND_LOOP> = {}): InboundLoop {
  const settings = { ...INBOUND_LOOP, ...options };
  const runners = new Set<Promise<void>>();
  let pending = false;
  let stopping = false;

  const runner = () => {
    const run = (async () => {
      try {
        while (!stopping) {
          pending = false;
          const claimed = await processInboundBatch(deps, settings.batchSize, logger);
          if (claimed) logger.debug({ claimed }, 'inbound batch processed');
          if (claimed >= settings.batchSize && runners.size < settings.maxBatches) runner();
          if (claimed < settings.batchSize && !pending) break;
        }
      } catch (err) {
        // The database is unreachable, say: the poll tries again.
        logger.error({ err }, 'claiming inbound emails failed');
      }
    })().finally(() => runners.delete(run));
    runners.add(run);
  };

  const wake = () => {
    if (stopping) return;
    pending = true;
    if (runners.size === 0) runner();
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
      client.on('notification', wake);
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
    wake();
  }, settings.pollIntervalMs);
  poll.unref();
  listen();
  wake();

  return {
    wake,
    stop: async () => {
      stopping = true;
      clearInterval(poll);
      // Batches in flight finish (or roll back): nothing claimed is held past the stop.
      while (runners.size) await Promise.allSettled([...runners]);
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
