import type { Queryable } from '../db/pool.ts';
import { makeDue } from './ledger.ts';

/**
 * Makes a received email (a replay) due for processing at once, in the caller's transaction: the
 * workers claim it straight from the inbound ledger, woken when the transaction commits. No job
 * is sent: `_boss` remains for the callers written when one was.
 */
export async function enqueueProcessing(_boss: unknown, tx: Queryable, inboundEmailId: string): Promise<void> {
  await makeDue(tx, [inboundEmailId]);
}
