import { withTransaction, type Pool } from '../db/pool.ts';
import { INBOUND_CHANNEL } from './ledger.ts';

// One sweeper at a time across every process sharing the database.
const SWEEP_LOCK = 7_402_133_003;

export type SweepOptions = { olderThanSeconds: number; giveUpAfterSeconds: number };
export const DEFAULT_SWEEP: SweepOptions = Object.freeze({ olderThanSeconds: 600, giveUpAfterSeconds: 86_400 });

/**
 * Nothing accepted may sit in `received` for ever. Workers claim every due email from the ledger,
 * so none can lose its job; but one may be left waiting (a poison email that kills each process
 * that takes it, every worker stopped). Emails received long ago, due and not being processed
 * right now (not locked by a batch) are reported and the workers woken (`requeued`); after a day
 * they are marked `failed` (visible, replayable) instead of being retried for ever. Emails waiting
 * out a retry delay are left alone until then.
 */
export async function sweepStuckInbound(pool: Pool, _boss?: unknown, options: SweepOptions = DEFAULT_SWEEP): Promise<{ requeued: string[]; failed: string[] }> {
  return withTransaction(pool, async (tx) => {
    const { rows: lock } = await tx.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS locked', [SWEEP_LOCK]);
    if (!lock[0]?.locked) return { requeued: [], failed: [] };
    const { rows } = await tx.query<{ id: string; expired: boolean }>(
      `SELECT id, received_at < now() - make_interval(secs => $2) AS expired
         FROM inbound_emails
        WHERE status = 'received' AND received_at < now() - make_interval(secs => $1) AND next_attempt_at <= now()
        ORDER BY id LIMIT 500
        FOR UPDATE SKIP LOCKED`,
      [options.olderThanSeconds, options.giveUpAfterSeconds],
    );
    const failed = rows.filter((r) => r.expired).map((r) => r.id);
    const requeued = rows.filter((r) => !r.expired).map((r) => r.id);
    if (failed.length) {
      await tx.query(
        `UPDATE inbound_emails SET status = 'failed', error_code = 'processing_failed',
           error_message = coalesce(error_message, 'processing did not finish within the retry window') WHERE id = ANY($1)`,
        [failed],
      );
    }
    if (requeued.length) await tx.query(`SELECT pg_notify('${INBOUND_CHANNEL}', 'all')`);
    return { requeued, failed };
  });
}
