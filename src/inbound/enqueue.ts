import { randomUUID } from 'node:crypto';
import type { PgBoss } from 'pg-boss';
import type { Queryable } from '../db/pool.ts';
import { sendInTransaction } from '../queue/boss.ts';
import { QUEUES } from '../queue/catalogue.ts';

/**
 * Sends an email's processing job in the caller's transaction, under an id recorded on the email's
 * row: the sweep later asks pg-boss about exactly that job (`getJobById`, public) and never reads
 * pg-boss's tables. `recorded` says the row already carries `jobId` (receipt inserts it).
 */
export async function enqueueProcessing(boss: PgBoss, tx: Queryable, inboundEmailId: string, jobId: string = randomUUID(), recorded = false): Promise<string> {
  if (!recorded) await tx.query('UPDATE inbound_emails SET job_id = $2 WHERE id = $1', [inboundEmailId, jobId]);
  await sendInTransaction(boss, tx, QUEUES.inboundEmail, { inboundEmailId }, { id: jobId });
  return jobId;
}

/** Job states in which the job will still run (or is running). */
export const LIVE_JOB_STATES: ReadonlySet<string> = new Set(['created', 'retry', 'active']);
