import type { PgBoss } from 'pg-boss';
import { withTransaction, type Pool } from '../db/pool.ts';
import { EVENT_TYPES } from '../domain/events.ts';
import { jobDb } from '../queue/boss.ts';
import { QUEUES } from '../queue/catalogue.ts';
import { createDeliveries, DELIVERIES_CHANNEL } from './deliveries.ts';

export type RelayDeps = { pool: Pool; boss: PgBoss; autoResponseDelaySeconds: number };

/**
 * Hands new outbox events on, exactly once: a delivery (due now) per enabled target subscribed
 * to the type, and for a thread opened by a customer (email, API channel), the auto-response job after its
 * delay. Events, deliveries, jobs and the delivery workers' wake-up commit together; concurrent
 * relays skip each other's rows.
 */
export async function relayEvents(deps: RelayDeps, batch = 500): Promise<number> {
  // Polled every 200 ms: when nothing waits, one read on the unrelayed index, not a transaction.
  const { rows: waiting } = await deps.pool.query<{ any: boolean }>('SELECT EXISTS (SELECT 1 FROM events WHERE relayed_at IS NULL) AS any');
  if (!waiting[0]?.any) return 0;
  return withTransaction(deps.pool, async (tx) => {
    const { rows: events } = await tx.query<{ id: string; workspace_id: string; type: string; origin: string; payload: { thread?: { id?: string; channel?: string } } }>(
      `SELECT id, workspace_id, type, origin, payload FROM events WHERE relayed_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
      [batch],
    );
    if (!events.length) return 0;
    const ids = events.map((e) => e.id);
    // Every (event, subscribed target) of the batch in one read, one insert.
    const { rows: pairs } = await tx.query<{ workspaceId: string; eventId: string; targetId: string }>(
      `SELECT e.workspace_id AS "workspaceId", e.id AS "eventId", t.id AS "targetId"
         FROM events e JOIN webhook_targets t ON t.workspace_id = e.workspace_id AND t.enabled AND e.type = ANY(t.event_types)
        WHERE e.id = ANY($1) ORDER BY e.id, t.id`,
      [ids],
    );
    if ((await createDeliveries(tx, pairs)) > 0) await tx.query(`SELECT pg_notify($1, '')`, [DELIVERIES_CHANNEL]);
    // The auto-response jobs of the batch in one insert; a thread already answered or queued is
    // skipped by its singleton key.
    const autoResponses = events.flatMap((event) => {
      const threadId = event.payload.thread?.id;
      // Opened by a customer: by email, or through the API's channel (a contact form).
      const opened = event.origin === 'email' || (event.origin === 'api' && event.payload.thread?.channel === 'API');
      return event.type === EVENT_TYPES.threadCreated && opened && threadId ? [QUEUES.autoResponse.payload.parse({ workspaceId: event.workspace_id, threadId })] : [];
    });
    if (autoResponses.length) {
      await deps.boss.insert(
        QUEUES.autoResponse.name,
        autoResponses.map((data) => ({ data, startAfter: deps.autoResponseDelaySeconds, singletonKey: data.threadId })),
        { db: jobDb(tx) },
      );
    }
    await tx.query('UPDATE events SET relayed_at = now() WHERE id = ANY($1)', [ids]);
    return events.length;
  });
}
