import type { Pool } from '../db/pool.ts';
import { laneOf, storeReceived, type InboundSource } from './ledger.ts';
import type { ReceiptBatcher } from './receipt-batcher.ts';
import { receiptTokens, type Recipients } from './route.ts';

export type Receipt = { inboundEmailId: string; status: 'received' | 'duplicate' };

/** This process's own inbound workers, woken directly by its receipts (see receiveInbound). */
export type WakeInbound = (lane: 'small' | 'large') => void;

/** Other processes' workers hear of this one's receipts at most this often (they also poll each second). */
export const NOTIFY_OTHERS_EVERY_MS = 100;

/** This process's own workers, woken directly by its receipts; other processes' are notified at most once per `everyMs`. */
export function localWorkers(wake: WakeInbound, everyMs = NOTIFY_OTHERS_EVERY_MS) {
  let last = -Infinity;
  return {
    wake,
    notifyOthersNow: () => {
      const now = Date.now();
      if (now - last < everyMs) return false;
      last = now;
      return true;
    },
  };
}
export type LocalWorkers = ReturnType<typeof localWorkers>;

/**
 * Stores the raw payload, due for processing, in one statement committed on its own (with
 * `batcher`, together with the receipts arriving meanwhile): only after it commits may the sender hear 200 (the workers claim it from the ledger). A duplicate delivery
 * is answered the same way and stored once. The recipients, read cheaply at receipt, attribute the
 * email to the workspace whose inbound address it was sent to before anything can go wrong with it.
 * Workers are woken directly when this process runs them (`local`), and by a NOTIFY otherwise;
 * with `local`, the NOTIFY (for other processes) goes with at most one receipt per
 * NOTIFY_OTHERS_EVERY_MS, as notifying receipts commit one at a time.
 */
export async function receiveInbound(
  deps: { pool: Pool; inboundDomain: string; local?: LocalWorkers | undefined; batcher?: ReceiptBatcher | undefined },
  input: { source: InboundSource; raw: Buffer; dedupeKey: string; messageId: string | null; recipients: Recipients },
): Promise<Receipt> {
  const notify = !deps.local || deps.local.notifyOthersNow();
  const received = { source: input.source, raw: input.raw, dedupeKey: input.dedupeKey, messageId: input.messageId, tokens: receiptTokens(input.recipients, deps.inboundDomain) };
  const stored = deps.batcher ? await deps.batcher.store(received, notify) : await storeReceived(deps.pool, { ...received, notify });
  if (!stored.duplicate) deps.local?.wake(laneOf(input.raw.length));
  return { inboundEmailId: stored.id, status: stored.duplicate ? 'duplicate' : 'received' };
}
