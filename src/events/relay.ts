import type { PgBoss } from 'pg-boss';
import { withTransaction, type Pool, type Queryable } from '../db/pool.ts';
import { prepared } from '../db/prepared.ts';
import { EVENT_TYPES } from '../domain/events.ts';
import { jobDb } from '../queue/boss.ts';
import { QUEUES } from '../queue/catalogue.ts';
import { createDeliveries, DELIVERIES_CHANNEL } from './deliveries.ts';

export type RelayDeps = { pool: Pool; boss: PgBoss; autoResponseDelaySeconds: number };

const UNRELAYED = prepared(
  'events.unrelayed',
  `SELECT id, workspace_id, type, origin, CASE WHEN type = '${EVENT_TYPES.threadCreated}' THEN payload->'thread' END AS thread
     FROM events WHERE relayed_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
);
const SUBSCRIBED = prepared(
  'events.subscribed-targets',
  `SELECT e.workspace_id AS "workspaceId", e.id AS "eventId", t.id AS "targetId"
     FROM events e JOIN webhook_targets t ON t.workspace_id = e.workspace_id AND t.enabled AND e.type = ANY(t.event_types)
    WHERE e.id = ANY($1) ORDER BY e.id, t.id`,
);
const MARK_RELAYED = prepared('events.mark-relayed', 'UPDATE events SET relayed_at = now() WHERE id = ANY($1)');
const ANSWERING = prepared(
  'events.workspaces-answering',
  `SELECT DISTINCT a.workspace_id || ' ' || c.channel AS key
     FROM unnest($1::text[], $2::text[]) AS c(workspace_id, channel)
     JOIN auto_responses a ON a.workspace_id = c.workspace_id AND a.enabled AND c.channel = ANY(a.channels)`,
);

/** `workspace channel` keys of these that have an enabled auto-response on that channel. */
async function workspacesAnswering(tx: Queryable, opened: Array<{ workspaceId: string; channel: string }>): Promise<Set<string>> {
  const { rows } = await tx.query<{ key: string }>(ANSWERING, [opened.map((o) => o.workspaceId), opened.map((o) => o.channel)]);
  return new Set(rows.map((r) => r.key));
}

/**
 * Hands new outbox events on, exactly once: a delivery (due now) per enabled target subscribed
 * to the type, and for a thread opened by a customer (email, API channel) in a workspace with an
 * auto-response enabled on that channel, the auto-response job after its delay. Events, deliveries, jobs and the delivery workers' wake-up commit together; concurrent
 * relays skip each other's rows.
 */
export async function relayEvents(deps: RelayDeps, batch = 500): Promise<number> {
  // Polled every 200 ms: when nothing waits, one read on the unrelayed index, not a transaction.
  const { rows: waiting } = await deps.pool.query<{ any: boolean }>('SELECT EXISTS (SELECT 1 FROM events WHERE relayed_at IS NULL) AS any');
  if (!waiting[0]?.any) return 0;
  return withTransaction(deps.pool, async (tx) => {
    // A thread_created event's thread, not the payloads: an email's event carries its whole text, read for nothing.
    const { rows: events } = await tx.query<{ id: string; workspace_id: string; type: string; origin: string; thread: { id?: string; channel?: string } | null }>(UNRELAYED, [batch]);
    if (!events.length) return 0;
    const ids = events.map((e) => e.id);
    // Every (event, subscribed target) of the batch in one read, one insert.
    const { rows: pairs } = await tx.query<{ workspaceId: string; eventId: string; targetId: string }>(SUBSCRIBED, [ids]);
    if ((await createDeliveries(tx, pairs)) > 0) await tx.query(`SELECT pg_notify($1, '')`, [DELIVERIES_CHANNEL]);
    // The auto-response jobs of the batch in one insert, for the workspaces with an auto-response
    // on the thread's channel (a thread opened while none was enabled gets none); a thread already
    // answered or queued is skipped by its singleton key.
    const opened = events.flatMap((event) => {
      const threadId = event.thread?.id;
      // Opened by a customer: by email, or through the API's channel (a contact form).
      const channel = event.origin === 'email' ? 'EMAIL' : event.origin === 'api' && event.thread?.channel === 'API' ? 'API' : null;
      return event.type === EVENT_TYPES.threadCreated && channel && threadId ? [{ workspaceId: event.workspace_id, threadId, channel }] : [];
    });
    const answering = opened.length ? await workspacesAnswering(tx, opened) : new Set<string>();
    const autoResponses = opened.filter((o) => answering.has(`${o.workspaceId} ${o.channel}`)).map((o) => QUEUES.autoResponse.payload.parse({ workspaceId: o.workspaceId, threadId: o.threadId }));
    if (autoResponses.length) {
      await deps.boss.insert(
        QUEUES.autoResponse.name,
        autoResponses.map((data) => ({ data, startAfter: deps.autoResponseDelaySeconds, singletonKey: data.threadId })),
        { db: jobDb(tx) },
      );
    }
    await tx.query(MARK_RELAYED, [ids]);
    return events.length;
  });
}
