import { setImmediate as yieldToIo } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Queryable } from '../db/pool.ts';
import { withTransaction } from '../db/pool.ts';
import { InputError } from '../domain/input-error.ts';
import { claimDueInbound, findProcessedByMessageIds, recordFailure, recordOutcomes, type Outcome } from './ledger.ts';
import { messageIdLock, prepareEmail, processInboundEmail, writeEmails, type InboundDeps, type Prepared } from './process-inbound-email.ts';
import { memoTokenLookup } from './route.ts';
import { prepared } from '../db/prepared.ts';

/**
 * Claims up to `limit` due emails and processes them in ONE transaction: one BEGIN/COMMIT, one
 * claim, each workspace looked up once, the Message-IDs of all locked in one statement and
 * looked up in another, one outcome statement, and the emails' customers, threads and entries in
 * one statement each (writeEmails); per email only its files and anything rare (a reopened
 * thread, a bounce's lookup, a forwarder's note). If anything in the batch throws, the whole transaction rolls back and
 * nothing of it is kept; each email is then processed again alone, in its own transaction, so
 * one bad email neither loses nor blocks the others, and only its own failure is recorded
 * against it (a retry after a delay, `failed` after the last). Returns how many were claimed, and
 * whether the claim was full (it reached `limit`'s rows or bytes: more may be due).
 */
export async function processInboundBatch(deps: InboundDeps, limit: BatchLimit, logger: Logger, lane: 'small' | 'large' = 'small'): Promise<{ claimed: number; full: boolean }> {
  let ids: string[] = [];
  let full = false;
  try {
    return await withTransaction(deps.pool, async (tx) => {
      const claimed = await claimDueInbound(tx, limit, lane);
      ids = claimed.map((c) => c.record.id);
      full = ids.length >= limit.rows || claimed.reduce((sum, c) => sum + c.record.rawSize, 0) >= limit.bytes;
      const lookup = memoTokenLookup(tx);
      const prepared: Array<{ id: string; prepared: Prepared }> = [];
      for (const c of claimed) {
        prepared.push({ id: c.record.id, prepared: await prepareEmail(deps, tx, c, { lookup }) });
        // Parsing is this thread's work: requests waiting meanwhile (receipt answers) go between two emails.
        await yieldToIo();
      }

      const keyed = prepared.flatMap((p) => ('email' in p.prepared && p.prepared.email.messageId ? [{ workspaceId: p.prepared.route.workspace.id, messageId: p.prepared.email.messageId }] : []));
      await lockMessageIds(tx, keyed.map((k) => messageIdLock(k.workspaceId, k.messageId)));
      // Looked up after the locks: a delivery another transaction processed meanwhile is seen.
      const earlier = await findProcessedByMessageIds(tx, keyed);

      const toWrite = prepared.flatMap(({ id, prepared: p }) => ('outcome' in p ? [] : [{ id, ...p }]));
      const written = new Map((await writeEmails(deps, tx, toWrite, earlier)).map((outcome, i) => [toWrite[i]!.id, outcome]));
      const outcomes = prepared.map(({ id, prepared: p }) => ({ id, outcome: 'outcome' in p ? p.outcome : written.get(id)! }));
      await recordOutcomes(tx, outcomes);
      return { claimed: claimed.length, full };
    });
  } catch (err) {
    if (ids.length === 0) throw err;
    // A batch of one that failed (not for its content) was that email's attempt.
    if (ids.length === 1 && !(err instanceof InputError)) await failed(deps, ids[0]!, err, logger);
    else for (const id of ids) await processAlone(deps, id, logger);
    return { claimed: ids.length, full };
  }
}

/** A batch's claim: at most `rows` emails, and no more once their raw payloads reach `bytes`. */
export type BatchLimit = { rows: number; bytes: number };

const LOCK_MESSAGE_IDS = prepared(
  'inbound.lock-message-ids',
  `SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest($1::text[]) AS k ORDER BY h) s`,
);

/** Transaction-scoped advisory locks on `keys`, taken in one order by every batch (no deadlock between two). */
async function lockMessageIds(tx: Queryable, keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  await tx.query(LOCK_MESSAGE_IDS, [keys]);
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
