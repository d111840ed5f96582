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
  let listener: { client: pg.PoolClient; release: (err?: Error) => void } | null = null;
  let listening: Promise<void> | null = null;
  let closed = false;

  const ensure = () => {
    if (listener || listening || closed) return;
    listening = (async () => {
      const client = await pool.connect();
      let released = false;
      // Once only: a server shutting down raises 'error' on a client already released by close().
      const release = (err?: Error) => {
        if (listener?.client === client) listener = null;
        if (released) return;
        released = true;
        client.removeAllListeners('notification');
        client.release(err ?? false);
      };
      client.on('notification', (n) => onNotify(n.payload));
      // Stays for the client's life: a dead server can raise more than one error on it.
      client.on('error', (err) => release(err));
      try {
        await client.query(`LISTEN ${channel}`);
      } catch (err) {
        release(err as Error);
        throw err;
      }
      if (closed) release();
      else listener = { client, release };
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
      const current = listener;
      if (current) {
        await current.client.query(`UNLISTEN ${channel}`).catch(() => {});
        current.release();
      }
    },
  };
}
