import type { Logger } from 'pino';
import { withTransaction } from '../db/pool.ts';
import { InputError } from '../domain/input-error.ts';
import { claimDueInbound, recordFailure, recordOutcomes, type Outcome } from './ledger.ts';
import { decideClaimed, processedKey, processInboundEmail, type BatchMemo, type InboundDeps } from './process-inbound-email.ts';
import { memoTokenLookup } from './route.ts';

/**
 * Claims up to `limit` due emails and processes them in ONE transaction (one BEGIN/COMMIT, one
 * claim, one outcome statement, each workspace looked up once), so a busy inbox costs a few
 * statements per email. If anything in the batch throws, the whole transaction rolls back and
 * nothing of it is kept; each email is then processed again alone, in its own transaction, so
 * one bad email neither loses nor blocks the others, and only its own failure is recorded
 * against it (a retry after a delay, `failed` after the last). Returns how many were claimed.
 */
export async function processInboundBatch(deps: InboundDeps, limit: number, logger: Logger): Promise<number> {
  let ids: string[] = [];
  try {
    return await withTransaction(deps.pool, async (tx) => {
      const claimed = await claimDueInbound(tx, limit);
      ids = claimed.map((c) => c.record.id);
      const batch: BatchMemo = { lookup: memoTokenLookup(tx), processed: new Map() };
      const outcomes: Array<{ id: string; outcome: Outcome }> = [];
      for (const c of claimed) {
        const outcome = await decideClaimed(deps, tx, c, { batch });
        // A later delivery of the same Message-ID in this batch is its duplicate.
        if (outcome.status === 'processed' && outcome.workspaceId && outcome.messageId) batch.processed.set(processedKey(outcome.workspaceId, outcome.messageId), c.record.id);
        outcomes.push({ id: c.record.id, outcome });
      }
      await recordOutcomes(tx, outcomes);
      return claimed.length;
    });
  } catch (err) {
    if (ids.length === 0) throw err;
    // A batch of one that failed (not for its content) was that email's attempt.
    if (ids.length === 1 && !(err instanceof InputError)) await failed(deps, ids[0]!, err, logger);
    else for (const id of ids) await processAlone(deps, id, logger);
    return ids.length;
  }
}

/** One email in its own transaction; a failure is recorded against it. */
export async function processAlone(deps: InboundDeps, id: string, logger: Logger): Promise<void> {
  try {
    await processInboundEmail(deps, id);
  } catch (err) {
    await failed(deps, id, err, logger);
  }
}

async function failed(deps: InboundDeps, id: string, err: unknown, logger: Logger): Promise<void> {
  const message = err instanceof Error ? err.message : String(err);
  logger.error({ err, inboundEmailId: id }, 'inbound email processing failed');
  // Not recorded (the database is down, say): the email stays due and is claimed again.
  await recordFailure(deps.pool, id, message).catch((e) => logger.error({ err: e, inboundEmailId: id }, 'could not record the failure'));
}
