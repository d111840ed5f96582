import type pg from 'pg';
import type { Logger } from 'pino';
import type { Pool } from './pool.ts';

export type ChannelListener = {
  /** LISTEN on a connection of its own if not already: called at start and by every poll, so a lost connection is reopened. */
  ensure(): void;
  /** UNLISTEN and hand the connection back; no notification arrives after it. */
  close(): Promise<void>;
};

/**
 * A wake-up channel for a claim loop: NOTIFY wakes it at once, the loop's own poll covers a
 * notification lost with its connection. A failed LISTEN is logged and left to the next poll.
 */
export function channelListener(pool: Pool, channel: string, onNotify: (payload: string | undefined) => void, logger: Logger): ChannelListener {
  let listener: pg.PoolClient | null = null;
  let listening: Promise<void> | null = null;
  let closed = false;

  const ensure = () => {
    if (listener || listening || closed) return;
    listening = (async () => {
      const client = await pool.connect();
      let released = false;
      const release = (err?: Error) => {
        if (listener === client) listener = null;
        if (!released) client.release(err ?? false);
        released = true;
      };
      client.on('notification', (n) => onNotify(n.payload));
      client.on('error', (err) => release(err));
      try {
        await client.query(`LISTEN ${channel}`);
      } catch (err) {
        release(err as Error);
        throw err;
      }
      if (closed) release();
      else listener = client;
    })()
      .catch((err) => logger.warn({ err, channel }, 'LISTEN failed; polling'))
      .finally(() => {
        listening = null;
      });
  };

  return {
    ensure,
    close: async () => {
      closed = true;
      await listening;
      const client = listener;
      listener = null;
      if (client) {
        await client.query(`UNLISTEN ${channel}`).catch(() => {});
        client.removeAllListeners('notification');
        client.release();
      }
    },
  };
}
