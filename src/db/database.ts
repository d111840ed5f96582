import type pg from 'pg';
import type { Config } from '../config.ts';
import { ensureDatabase, startEmbeddedPostgres, type EmbeddedOptions, type EmbeddedPostgres } from './embedded-postgres.ts';
import { createPool } from './pool.ts';

export type Database = {
  url: string;
  pool: pg.Pool;
  /** 'embedded' when we run PostgreSQL from DATA_DIR/pg, 'external' for DATABASE_URL. */
  mode: 'embedded' | 'external';
  close(): Promise<void>;
};

export const EMBEDDED_DATABASE_NAME = 'intake';

/**
 * DATABASE_URL when set; otherwise the embedded cluster in DATA_DIR, started or joined, and kept
 * running (restarted if it dies; `onGiveUp` when it cannot be). An external server is not ours to
 * restart: the pool reconnects when it is back, and until then requests answer 503.
 */
export async function openDatabase(
  config: Pick<Config, 'databaseUrl' | 'dataDir'>,
  options: Pick<EmbeddedOptions, 'onLog' | 'onNotice' | 'onGiveUp'> & { poolSize?: number; applicationName?: string } = {},
): Promise<Database> {
  let embedded: EmbeddedPostgres | undefined;
  let url = config.databaseUrl;
  if (url === undefined) {
    const { poolSize: _size, applicationName: _name, ...embeddedOptions } = options;
    embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, ...embeddedOptions });
    try {
      url = await ensureDatabase(embedded.url, EMBEDDED_DATABASE_NAME);
    } catch (err) {
      await embedded.stop();
      throw err;
    }
  }
  const pool = createPool(url, { ...(options.poolSize ? { max: options.poolSize } : {}), ...(options.applicationName ? { applicationName: options.applicationName } : {}) });
  let closed: Promise<void> | undefined;
  return {
    url,
    pool,
    mode: embedded ? 'embedded' : 'external',
    close: () =>
      (closed ??= (async () => {
        await pool.end();
        await embedded?.stop();
      })()),
  };
}
