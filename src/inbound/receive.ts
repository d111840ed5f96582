import type { PgBoss } from 'pg-boss';
import { withTransaction, type Pool } from '../db/pool.ts';
import { sendInTransaction } from '../queue/boss.ts';
import { QUEUES } from '../queue/catalogue.ts';
import { storeInbound, type InboundSource } from './ledger.ts';
import { workspaceByInboundAddress, type Recipients } from './route.ts';

export type Receipt = { inboundEmailId: string; status: 'received' | 'duplicate' };

/**
 * Stores the raw payload and its processing job in one transaction. Only after this commits may
 * the sender hear 200; a duplicate delivery is answered the same way and stored once. The
 * recipients, read cheaply at receipt, attribute the email to the workspace whose inbound
 * address it was sent to before anything can go wrong with it.
 */
export async function receiveInbound(
  deps: { pool: Pool; boss: PgBoss; inboundDomain: string },
  input: { source: InboundSource; raw: Buffer; dedupeKey: string; messageId: string | null; recipients: Recipients },
): Promise<Receipt> {
  return withTransaction(deps.pool, async (tx) => {
    const workspaceId = await workspaceByInboundAddress(tx, input.recipients, deps.inboundDomain);
    const stored = await storeInbound(tx, { source: input.source, raw: input.raw, dedupeKey: input.dedupeKey, messageId: input.messageId, workspaceId });
    if (stored.duplicate) return { inboundEmailId: stored.id, status: 'duplicate' };
    await sendInTransaction(deps.boss, tx, QUEUES.inboundEmail, { inboundEmailId: stored.id });
    return { inboundEmailId: stored.id, status: 'received' };
  });
}
