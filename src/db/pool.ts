import pg from 'pg';

/** The one port to the database: the pool or a transaction's client, so any write can join a caller's transaction. */
export interface Queryable {
  query<R extends pg.QueryResultRow = any>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
  /** A statement from `prepared()` (src/db/prepared.ts), with its values. */
  query<R extends pg.QueryResultRow = any>(statement: Readonly<pg.QueryConfig>, values: unknown[]): Promise<pg.QueryResult<R>>;
}

export type Pool = pg.Pool;
export type TransactionClient = pg.PoolClient;

export function createPool(connectionString: string, options: { max?: number; applicationName?: string } = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'intake',
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  // Nor a checked-out one between its statements (a dying server sends its FATAL to every backend):
  // pg-pool takes its own listener off while a client is out. The next statement on it fails.
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

/**
 * Opens `count` connections now and gives them back to the pool: the first burst of requests after
 * a start then finds them open instead of waiting behind each other's authentication (SCRAM costs
 * both sides a few milliseconds of CPU per connection).
 */
export async function warmPool(pool: pg.Pool, count: number): Promise<void> {
  const clients = await Promise.all(Array.from({ length: count }, () => pool.connect()));
  for (const client of clients) client.release();
}

/** Runs fn inside BEGIN/COMMIT on one client; any throw rolls back and is rethrown. */
export async function withTransaction<T>(pool: pg.Pool, fn: (tx: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // A connection that dies while checked out (server restart, terminated backend) emits 'error'
  // on the client; unheard, that would crash the process. The failing query rejects anyway.
  const onError = (err: Error) => {
    broken = err;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    try {
      await client.query('ROLLBACK');
    } catch (rollbackError) {
      // A connection that cannot roll back must not go back into the pool.
      broken = rollbackError as Error;
    }
    throw err;
  } finally {
    client.removeListener('error', onError);
    client.release(broken);
  }
}

/** pg's connection-level failures: the database is unreachable rather than the query being wrong. */
export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  if (!e) return false;
  if (typeof e.code === 'string') {
    if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN'].includes(e.code)) return true;
    // Class 08 connection exceptions, 57P0x shutdown/cannot connect now, 53300 too many connections.
    if (e.code.startsWith('08') || /^57P0[1-3]$/.test(e.code) || e.code === '53300') return true;
  }
  const message = e.message ?? '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(message);
}
