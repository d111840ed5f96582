import type { Queryable } from '../db/pool.ts';
import { firstIdAt } from '../domain/id-time.ts';
import type { Attempt, DeliveryStatus } from './deliveries.ts';

/** Read-only views of webhook deliveries for the operator console. */

export type RecentDelivery = { id: string; eventId: string; eventType: string; status: DeliveryStatus; attempts: Attempt[]; nextAttemptAt: Date | null; createdAt: Date };

/** A target's latest deliveries, newest first, each with every attempt. */
export async function recentDeliveries(db: Queryable, workspaceId: string, targetId: string, limit: number): Promise<RecentDelivery[]> {
  const { rows } = await db.query<RecentDelivery>(
    `SELECT d.id, d.event_id AS "eventId", e.type AS "eventType", d.status, d.next_attempt_at AS "nextAttemptAt", d.created_at AS "createdAt",
            coalesce((SELECT json_agg(json_build_object('number', a.number, 'attemptedAt', a.attempted_at, 'statusCode', a.status_code,
                                                        'durationMs', a.duration_ms, 'error', a.error) ORDER BY a.number)
                        FROM webhook_delivery_attempts a WHERE a.delivery_id = d.id), '[]') AS attempts
       FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
      WHERE d.workspace_id = $1 AND d.target_id = $2
      ORDER BY d.id DESC LIMIT $3`,
    [workspaceId, targetId, limit],
  );
  return rows;
}

export type TargetDeliveryCounts = { targetId: string; delivered: number; failed: number; pending: number };

/** Per target: deliveries created since `since` by status. */
export async function deliveryCountsByTarget(db: Queryable, workspaceId: string, since: Date): Promise<Map<string, TargetDeliveryCounts>> {
  const { rows } = await db.query<TargetDeliveryCounts>(
    `SELECT t.id AS "targetId",
            count(*) FILTER (WHERE d.status = 'delivered')::int AS delivered,
            count(*) FILTER (WHERE d.status = 'failed')::int AS failed,
            count(*) FILTER (WHERE d.status = 'pending')::int AS pending
       FROM webhook_targets t JOIN webhook_deliveries d ON d.target_id = t.id AND d.id >= $2
      WHERE t.workspace_id = $1
      GROUP BY t.id`,
    [workspaceId, firstIdAt('webhookDelivery', since)],
  );
  return new Map(rows.map((r) => [r.targetId, r]));
}

/**
 * Attempts per hour since `since` for the workspace, succeeded (2xx) and not. Attempts are found
 * through deliveries made in the window and a day before it, so retries of older events count too.
 */
export async function attemptsByHour(db: Queryable, workspaceId: string, since: Date): Promise<Array<{ hour: Date; succeeded: number; failed: number }>> {
  const { rows } = await db.query<{ hour: Date; succeeded: number; failed: number }>(
    `SELECT date_trunc('hour', a.attempted_at) AS hour,
            count(*) FILTER (WHERE a.error IS NULL)::int AS succeeded,
            count(*) FILTER (WHERE a.error IS NOT NULL)::int AS failed
       FROM webhook_targets t
       JOIN webhook_deliveries d ON d.target_id = t.id AND d.id >= $2
       JOIN webhook_delivery_attempts a ON a.delivery_id = d.id AND a.attempted_at >= $3
      WHERE t.workspace_id = $1
      GROUP BY 1 ORDER BY 1`,
    [workspaceId, firstIdAt('webhookDelivery', new Date(since.getTime() - 24 * 3600_000)), since],
  );
  return rows;
}
