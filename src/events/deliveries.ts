import type { Queryable } from '../db/pool.ts';
import { newId } from '../domain/ids.ts';
import { prepared } from '../db/prepared.ts';

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export type Attempt = { number: number; attemptedAt: Date; statusCode: number | null; durationMs: number; error: string | null };

/** Delivery workers LISTEN here; the relay notifies in the transaction that creates deliveries. */
export const DELIVERIES_CHANNEL = 'intake_webhook_deliveries';

const CREATE_DELIVERIES = prepared(
  'webhooks.create-deliveries',
  `INSERT INTO webhook_deliveries (id, workspace_id, target_id, event_id, status, next_attempt_at)
     SELECT id, workspace_id, target_id, event_id, 'pending', now() FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS p(id, workspace_id, target_id, event_id)
     ON CONFLICT (target_id, event_id) DO NOTHING`,
);

/**
 * One delivery per (event, target), due now; a replayed relay creates none twice. One statement
 * for the whole batch. Returns how many are new.
 */
export async function createDeliveries(tx: Queryable, pairs: Array<{ workspaceId: string; eventId: string; targetId: string }>): Promise<number> {
  if (!pairs.length) return 0;
  const { rowCount } = await tx.query(CREATE_DELIVERIES, [pairs.map(() => newId('webhookDelivery')), pairs.map((p) => p.workspaceId), pairs.map((p) => p.targetId), pairs.map((p) => p.eventId)]);
  return rowCount ?? 0;
}

export type RecordedAttempt = Attempt & { id: string; deliveryId: string; workspaceId: string; status: DeliveryStatus; nextAttemptAt: Date | null };

const RECORD_ATTEMPTS = prepared(
  'webhooks.record-attempts',
  `WITH a AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::timestamptz[], $6::int[], $7::int[], $8::text[], $9::text[], $10::timestamptz[])
         AS a(id, workspace_id, delivery_id, number, attempted_at, status_code, duration_ms, error, status, next_attempt_at)
     ), recorded AS (
       INSERT INTO webhook_delivery_attempts (id, workspace_id, delivery_id, number, attempted_at, status_code, duration_ms, error)
       SELECT id, workspace_id, delivery_id, number, attempted_at, status_code, duration_ms, error FROM a
       ON CONFLICT (delivery_id, number) DO UPDATE SET attempted_at = excluded.attempted_at, status_code = excluded.status_code,
         duration_ms = excluded.duration_ms, error = excluded.error
       RETURNING delivery_id
     )
     UPDATE webhook_deliveries d SET status = a.status, attempts = greatest(d.attempts, a.number), next_attempt_at = a.next_attempt_at, lease_until = NULL
       FROM a WHERE d.id = a.delivery_id AND d.status = 'pending' AND a.delivery_id IN (SELECT delivery_id FROM recorded)`,
);

/**
 * Records each attempt `number` (once, even when a crashed attempt is re-run) and its chain's new
 * state, releasing the claim. A chain already finished by another
 * worker (a stale re-run) is not moved back.
 */
export async function recordAttempts(db: Queryable, attempts: RecordedAttempt[]): Promise<void> {
  if (!attempts.length) return;
  const col = <T>(f: (a: RecordedAttempt) => T) => attempts.map(f);
  // One statement (one round trip, atomic on its own): the attempts, then their chains.
  await db.query(RECORD_ATTEMPTS, [col((a) => a.id), col((a) => a.workspaceId), col((a) => a.deliveryId), col((a) => a.number), col((a) => a.attemptedAt), col((a) => a.statusCode), col((a) => a.durationMs), col((a) => a.error), col((a) => a.status), col((a) => a.nextAttemptAt)]);
}

/** Hands claimed deliveries back unrecorded (their record failed): due again after `afterMs`. */
export async function releaseDeliveries(db: Queryable, deliveryIds: string[], afterMs: number): Promise<void> {
  if (!deliveryIds.length) return;
  await db.query(`UPDATE webhook_deliveries SET lease_until = now() + make_interval(secs => $2) WHERE id = ANY($1) AND status = 'pending'`, [deliveryIds, afterMs / 1000]);
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
