import type { PgBoss } from 'pg-boss';
import { withTransaction, type Pool } from '../db/pool.ts';
import { sendInTransaction } from '../jobs/boss.ts';
import { QUEUES } from '../jobs/queues.ts';
import { storeInbound, type InboundSource } from './ledger.ts';

export type Receipt = { inboundEmailId: string; status: 'received' | 'duplicate' };

/**
 * Stores the raw payload and its processing job in one transaction. Only after this commits may
 * the sender hear 200; a duplicate delivery is answered the same way and stored once.
 */
export async function receiveInbound(
  deps: { pool: Pool; boss: PgBoss },
  input: { source: InboundSource; raw: Buffer; dedupeKey: string; messageId: string | null },
): Promise<Receipt> {
  return withTransaction(deps.pool, async (tx) => {
    const stored = await storeInbound(tx, input);
    if (stored.duplicate) return { inboundEmailId: stored.id, status: 'duplicate' };
    await sendInTransaction(deps.boss, tx, QUEUES.inboundEmail.name, { inboundEmailId: stored.id });
    return { inboundEmailId: stored.id, status: 'received' };
  });
}
