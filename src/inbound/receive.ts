import type { Pool } from '../db/pool.ts';
import { storeReceived, type InboundSource } from './ledger.ts';
import { receiptTokens, type Recipients } from './route.ts';

export type Receipt = { inboundEmailId: string; status: 'received' | 'duplicate' };

/**
 * Stores the raw payload, due for processing, in one statement committed on its own: only after
 * it commits may the sender hear 200 (the workers claim it from the ledger, woken by its
 * notification). A duplicate delivery is answered the same way and stored once. The recipients,
 * read cheaply at receipt, attribute the email to the workspace whose inbound address it was
 * sent to before anything can go wrong with it.
 */
export async function receiveInbound(
  deps: { pool: Pool; inboundDomain: string },
  input: { source: InboundSource; raw: Buffer; dedupeKey: string; messageId: string | null; recipients: Recipients },
): Promise<Receipt> {
  const stored = await storeReceived(deps.pool, {
    source: input.source,
    raw: input.raw,
    dedupeKey: input.dedupeKey,
    messageId: input.messageId,
    tokens: receiptTokens(input.recipients, deps.inboundDomain),
  });
  return { inboundEmailId: stored.id, status: stored.duplicate ? 'duplicate' : 'received' };
}
