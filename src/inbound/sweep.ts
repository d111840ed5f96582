import type { PgBoss } from 'pg-boss';
import { withTransaction, type Pool } from '../db/pool.ts';
import { BOSS_SCHEMA, sendInTransaction } from '../queue/boss.ts';
import { QUEUES } from '../queue/catalogue.ts';

// One sweeper at a time across every process sharing the database.
const SWEEP_LOCK = 7_402_133_003;

export type SweepOptions = { olderThanSeconds: number; giveUpAfterSeconds: number };
export const DEFAULT_SWEEP: SweepOptions = Object.freeze({ olderThanSeconds: 600, giveUpAfterSeconds: 86_400 });

/**
 * Nothing accepted may sit in `received` for ever. A job can vanish without the worker marking
 * its email: the process killed during the last retry, the last attempt expiring, or recording
 * the failure itself failing. Emails left `received` with no live job get a new one; after a day
 * they are marked `failed` (visible, replayable) instead of being retried for ever.
 */
export async function sweepStuckInbound(pool: Pool, boss: PgBoss, options: SweepOptions = DEFAULT_SWEEP): Promise<{ requeued: string[]; failed: string[] }> {
  return withTransaction(pool, async (tx) => {
    const { rows: lock } = await tx.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [SWEEP_LOCK]);
    if (!lock[0]?.locked) return { requeued: [], failed: [] };
    const { rows } = await tx.query<{ id: string; expired: boolean }>(
      `SELECT ie.id, ie.received_at < now() - make_interval(secs => $2) AS expired
         FROM inbound_emails ie
        WHERE ie.status = 'received' AND ie.received_at < now() - make_interval(secs => $1)
          AND NOT EXISTS (SELECT 1 FROM ${BOSS_SCHEMA}.job j
                           WHERE j.name = $3 AND j.state IN ('created', 'retry', 'active') AND j.data->>'inboundEmailId' = ie.id)
        ORDER BY ie.id LIMIT 500
        FOR UPDATE OF ie SKIP LOCKED`,
      [options.olderThanSeconds, options.giveUpAfterSeconds, QUEUES.inboundEmail.name],
    );
    const requeued: string[] = [];
    const failed: string[] = [];
    for (const row of rows) {
      if (row.expired) {
        await tx.query(
          `UPDATE inbound_emails SET status = 'failed', error_code = 'processing_failed',
             error_message = coalesce(error_message, 'processing did not finish within the retry window') WHERE id = $1`,
          [row.id],
        );
        failed.push(row.id);
      } else {
        await sendInTransaction(boss, tx, QUEUES.inboundEmail, { inboundEmailId: row.id });
        requeued.push(row.id);
      }
    }
    return { requeued, failed };
  });
}
