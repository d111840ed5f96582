import type { Pool } from '../db/pool.ts';
import { LARGE_EMAIL_BYTES, storeReceivedMany, type ReceivedInput } from './ledger.ts';

type Waiting = { input: ReceivedInput; notify: boolean; resolve: (r: { id: string; duplicate: boolean }) => void; reject: (err: unknown) => void };

export const RECEIPT_BATCHES = Object.freeze({
  /** Receipts stored by one statement at most. */
  maxRows: 32,
  /** Statements storing receipts at once: a receipt arriving while they run waits for one to finish and goes in the next. */
  inFlight: 2,
  /** Raw bytes of one statement at most: a large payload goes alone. */
  maxBytes: LARGE_EMAIL_BYTES,
});

export type ReceiptBatcher = { store(input: ReceivedInput, notify: boolean): Promise<{ id: string; duplicate: boolean }> };

/**
 * Group commit for receipt: concurrent receipts are stored by one multi-row INSERT and one commit
 * (one round trip and one WAL flush for many), each answered only after that commit. A receipt
 * arriving while none is being stored goes at once, alone. If a batch's statement fails, each of
 * its receipts is stored again alone, so only a receipt that fails by itself fails.
 */
export function receiptBatcher(pool: Pool, settings: typeof RECEIPT_BATCHES = RECEIPT_BATCHES): ReceiptBatcher {
  const queue: Waiting[] = [];
  let running = 0;

  const take = (): Waiting[] => {
    const batch = [queue.shift()!];
    let bytes = batch[0]!.input.raw.length;
    while (queue.length && batch.length < settings.maxRows && bytes + queue[0]!.input.raw.length <= settings.maxBytes) {
      bytes += queue[0]!.input.raw.length;
      batch.push(queue.shift()!);
    }
    return batch;
  };

  const run = async () => {
    running++;
    try {
      while (queue.length) {
        const batch = take();
        try {
          const results = await storeReceivedMany(pool, batch.map((w) => w.input), batch.some((w) => w.notify));
          batch.forEach((w, i) => w.resolve(results[i]!));
        } catch (err) {
          if (batch.length === 1) batch[0]!.reject(err);
          else for (const w of batch) await storeReceivedMany(pool, [w.input], w.notify).then(([r]) => w.resolve(r!), w.reject);
        }
      }
    } finally {
      running--;
    }
  };

  return {
    store: (input, notify) =>
      new Promise((resolve, reject) => {
        queue.push({ input, notify, resolve, reject });
        if (running < settings.inFlight) void run();
      }),
  };
}
