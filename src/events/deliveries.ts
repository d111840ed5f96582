import type { Queryable } from '../db/pool.ts';
import { newId } from '../domain/ids.ts';

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export type Attempt = { number: number; attemptedAt: Date; statusCode: number | null; durationMs: number; error: string | null };

/** One delivery per (event, target); a replayed relay creates none twice. Returns the new ones. */
export async function createDeliveries(tx: Queryable, workspaceId: string, eventId: string, targetIds: string[]): Promise<Array<{ id: string; targetId: string }>> {
  const out: Array<{ id: string; targetId: string }> = [];
  for (const targetId of targetIds) {
    const { rows } = await tx.query<{ id: string }>(
      `INSERT INTO webhook_deliveries (id, workspace_id, target_id, event_id, status) VALUES ($1, $2, $3, $4, 'pending')
       ON CONFLICT (target_id, event_id) DO NOTHING RETURNING id`,
      [newId('webhookDelivery'), workspaceId, targetId, eventId],
    );
    if (rows[0]) out.push({ id: rows[0].id, targetId });
  }
  return out;
}

/** Records attempt `number` (once, even when a crashed attempt is re-run) and the chain's new state. */
export async function recordAttempt(
  tx: Queryable,
  deliveryId: string,
  workspaceId: string,
  attempt: Attempt & { id: string },
  state: { status: DeliveryStatus; nextAttemptAt: Date | null },
): Promise<void> {
  await tx.query(
    `INSERT INTO webhook_delivery_attempts (id, workspace_id, delivery_id, number, attempted_at, status_code, duration_ms, error)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (delivery_id, number) DO UPDATE SET attempted_at = excluded.attempted_at, status_code = excluded.status_code,
       duration_ms = excluded.duration_ms, error = excluded.error`,
    [attempt.id, workspaceId, deliveryId, attempt.number, attempt.attemptedAt, attempt.statusCode, attempt.durationMs, attempt.error],
  );
  await tx.query('UPDATE webhook_deliveries SET status = $2, attempts = greatest(attempts, $3), next_attempt_at = $4 WHERE id = $1', [deliveryId, state.status, attempt.number, state.nextAttemptAt]);
}

export async function listDeliveries(db: Queryable, workspaceId: string, targetId: string, filter: { after?: string | undefined; limit: number }) {
  const { rows } = await db.query<{ id: string; eventId: string; eventType: string; status: DeliveryStatus; attempts: number; nextAttemptAt: Date | null; createdAt: Date; attemptList: Attempt[] }>(
    `SELECT d.id, d.event_id AS "eventId", e.type AS "eventType", d.status, d.attempts, d.next_attempt_at AS "nextAttemptAt", d.created_at AS "createdAt",
            coalesce((SELECT json_agg(json_build_object('number', a.number, 'attemptedAt', a.attempted_at, 'statusCode', a.status_code,
                                                        'durationMs', a.duration_ms, 'error', a.error) ORDER BY a.number)
                        FROM webhook_delivery_attempts a WHERE a.delivery_id = d.id), '[]') AS "attemptList"
       FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
      WHERE d.workspace_id = $1 AND d.target_id = $2 AND ($3::text IS NULL OR d.id > $3)
      ORDER BY d.id LIMIT $4`,
    [workspaceId, targetId, filter.after ?? null, filter.limit],
  );
  return rows;
}
