import type { PgBoss } from 'pg-boss';
import { withTransaction, type Pool } from '../db/pool.ts';
import { EVENT_TYPES } from '../domain/events.ts';
import { sendInTransaction } from '../queue/boss.ts';
import { QUEUES } from '../queue/catalogue.ts';
import { createDeliveries } from './deliveries.ts';
import { enqueueDelivery } from './deliver.ts';

export type RelayDeps = { pool: Pool; boss: PgBoss; autoResponseDelaySeconds: number };

/**
 * Hands new outbox events on, exactly once: a delivery (and its first job) per enabled target
 * subscribed to the type, and for a thread opened by a customer's email, the auto-response job
 * after its delay. Events, deliveries and jobs commit together; concurrent relays skip each
 * other's rows.
 */
export async function relayEvents(deps: RelayDeps, batch = 200): Promise<number> {
  return withTransaction(deps.pool, async (tx) => {
    const { rows: events } = await tx.query<{ id: string; workspace_id: string; type: string; origin: string; payload: { thread?: { id?: string } } }>(
      `SELECT id, workspace_id, type, origin, payload FROM events WHERE relayed_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [batch],
    );
    for (const event of events) {
      const { rows: targets } = await tx.query<{ id: string }>(
        'SELECT id FROM webhook_targets WHERE workspace_id = $1 AND enabled AND $2 = ANY(event_types) ORDER BY id',
        [event.workspace_id, event.type],
      );
      const deliveries = await createDeliveries(tx, event.workspace_id, event.id, targets.map((t) => t.id));
      for (const d of deliveries) await enqueueDelivery(deps.boss, tx, { deliveryId: d.id, attempt: 1, targetId: d.targetId });
      const threadId = event.payload.thread?.id;
      if (event.type === EVENT_TYPES.threadCreated && event.origin === 'email' && threadId) {
        await sendInTransaction(deps.boss, tx, QUEUES.autoResponse, { workspaceId: event.workspace_id, threadId }, {
          startAfter: deps.autoResponseDelaySeconds,
          singletonKey: threadId,
        });
      }
    }
    if (events.length) await tx.query('UPDATE events SET relayed_at = now() WHERE id = ANY($1)', [events.map((e) => e.id)]);
    return events.length;
  });
}
