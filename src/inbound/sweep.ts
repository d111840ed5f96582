import type { PgBoss } from 'pg-boss';
import { withTransaction, type Pool } from '../db/pool.ts';
import { QUEUES } from '../queue/catalogue.ts';
import { enqueueProcessing, LIVE_JOB_STATES } from './enqueue.ts';

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
    const { rows } = await tx.query<{ id: string; job_id: string | null; expired: boolean }>(
      `SELECT id, job_id, received_at < now() - make_interval(secs => $2) AS expired
         FROM inbound_emails
        WHERE status = 'received' AND received_at < now() - make_interval(secs => $1)
        ORDER BY id LIMIT 500
        FOR UPDATE SKIP LOCKED`,
      [options.olderThanSeconds, options.giveUpAfterSeconds],
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
      } else if (!(await hasLiveJob(boss, row.job_id))) {
        await enqueueProcessing(boss, tx, row.id);
        requeued.push(row.id);
      }
    }
    return { requeued, failed };
  });
}

/** Whether the email's recorded job will still run; an email stored before jobs were recorded has none to ask about. */
async function hasLiveJob(boss: PgBoss, jobId: string | null): Promise<boolean> {
  if (jobId === null) return false;
  const job = await boss.getJobById(QUEUES.inboundEmail.name, jobId);
  return job !== null && LIVE_JOB_STATES.has(job.state);
}
