import type { Queryable } from '../db/pool.ts';
import { DELIVERIES_CHANNEL } from './deliveries.ts';

/**
 * Sends one delivery again (the operator's "resend"): its chain is due now as its next attempt,
 * whatever it ended as, and delivery workers are woken. The attempt is numbered after the last;
 * past the retry schedule a failure ends the chain again at once. A delivery being sent this
 * moment (claimed, lease unexpired) is left alone, as is one of a disabled target (nothing would
 * claim it).
 */
export async function resendDelivery(
  db: Queryable,
  workspaceId: string,
  targetId: string,
  deliveryId: string,
): Promise<'resent' | 'not_found' | 'in_flight' | 'target_disabled'> {
  const { rows } = await db.query<{ resent: boolean; enabled: boolean }>(
    `WITH d AS (
       SELECT d.id, t.enabled, d.status = 'pending' AND d.lease_until > now() AS in_flight
         FROM webhook_deliveries d JOIN webhook_targets t ON t.id = d.target_id
        WHERE d.id = $3 AND d.target_id = $2 AND d.workspace_id = $1 AND t.workspace_id = $1
     ), resent AS (
       UPDATE webhook_deliveries w SET status = 'pending', next_attempt_at = now(), lease_until = NULL
         FROM d WHERE w.id = d.id AND d.enabled AND NOT d.in_flight
       RETURNING w.id
     )
     SELECT EXISTS (SELECT 1 FROM resent) AS resent, d.enabled FROM d`,
    [workspaceId, targetId, deliveryId],
  );
  const row = rows[0];
  if (!row) return 'not_found';
  if (!row.enabled) return 'target_disabled';
  if (!row.resent) return 'in_flight';
  await db.query('SELECT pg_notify($1, $2)', [DELIVERIES_CHANNEL, '']);
  return 'resent';
}
