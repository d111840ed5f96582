import { randomUUID } from 'node:crypto';
import type { PgBoss } from 'pg-boss';
import { withTransaction, type Pool } from '../db/pool.ts';
import { enqueueProcessing } from './enqueue.ts';
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
    // The job's id goes in with the row: no second write on the hot path.
    const jobId = randomUUID();
    const stored = await storeInbound(tx, { source: input.source, raw: input.raw, dedupeKey: input.dedupeKey, messageId: input.messageId, workspaceId, jobId });
    if (stored.duplicate) return { inboundEmailId: stored.id, status: 'duplicate' };
    await enqueueProcessing(deps.boss, tx, stored.id, jobId, true);
    return { inboundEmailId: stored.id, status: 'received' };
  });
}
