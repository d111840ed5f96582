import type { Queryable } from '../db/pool.ts';
import type { EventRow } from './plain-payloads.ts';
import { prepared } from '../db/prepared.ts';

export type ClaimedDelivery = {
  id: string;
  /** The attempt this claim makes: one more than the attempts recorded. */
  attempt: number;
  target: { id: string; url: string; urlPasswordEncrypted: string | null; version: string; signingSecretEncrypted: string; previousSigningSecretEncrypted: string | null };
  workspaceSecretEncrypted: string;
  event: EventRow;
  /** When this process's claim returned it (Date.now()). */
  claimedAt: number;
};

const CLAIM_DUE = prepared(
  'webhooks.claim-due',
  `WITH busy AS (
       SELECT * FROM unnest($3::text[], $4::int[]) AS b(target_id, n)
     ), candidates AS (
       SELECT d.id, d.next_attempt_at
         FROM webhook_targets t
         LEFT JOIN busy b ON b.target_id = t.id
         CROSS JOIN LATERAL (
           SELECT d.id, d.next_attempt_at FROM webhook_deliveries d
            WHERE d.target_id = t.id AND d.status = 'pending' AND d.next_attempt_at <= now() AND (d.lease_until IS NULL OR d.lease_until <= now())
            ORDER BY d.next_attempt_at, d.id
            LIMIT greatest($2 - coalesce(b.n, 0), 0)
            FOR UPDATE SKIP LOCKED
         ) d
        WHERE t.enabled
        ORDER BY d.next_attempt_at, d.id
        LIMIT $1
     ), claimed AS (
       UPDATE webhook_deliveries d SET lease_until = now() + make_interval(secs => $5)
         FROM candidates c WHERE d.id = c.id
       RETURNING d.id, d.attempts, d.target_id, d.event_id, d.workspace_id
     )
     SELECT c.id, c.attempts, t.id AS target_id, t.url, t.url_password_encrypted, t.version, w.webhook_secret_encrypted, t.signing_secret_encrypted,
            CASE WHEN t.previous_secret_expires_at > now() THEN t.previous_signing_secret_encrypted END AS previous_signing_secret_encrypted,
            e.id AS event_id, e.workspace_id, e.type, e.payload, e.created_at
       FROM claimed c
       JOIN webhook_targets t ON t.id = c.target_id AND t.workspace_id = c.workspace_id
       JOIN workspaces w ON w.id = c.workspace_id
       -- The event by its primary key and nothing else (OFFSET 0 keeps the workspace test out of
       -- the lookup): with the workspace as a join key, a planner misled by stale statistics
       -- (a young events table) walked the workspace's whole events_workspace range per row.
       CROSS JOIN LATERAL (SELECT e.id, e.workspace_id, e.type, e.payload, e.created_at FROM events e WHERE e.id = c.event_id OFFSET 0) e
      WHERE e.workspace_id = c.workspace_id
      ORDER BY c.id`,
);

/**
 * Claims due deliveries of enabled targets for `leaseSeconds`, in due order, skipping rows another
 * worker is claiming (SKIP LOCKED) or holds (an unexpired lease). Candidates are taken per target
 * (its index, at most the slots it has left: `perTarget` minus what `inFlight` says this worker
 * already sends it), so a slow target's backlog never crowds the others out and the plan stays an
 * index walk however many rows are pending. One statement: claim and load.
 */
export async function claimDueDeliveries(
  db: Queryable,
  options: { limit: number; perTarget: number; leaseSeconds: number; inFlight: ReadonlyMap<string, number> },
): Promise<ClaimedDelivery[]> {
  const busy = [...options.inFlight].filter(([, n]) => n > 0);
  const { rows } = await db.query(CLAIM_DUE, [options.limit, options.perTarget, busy.map(([id]) => id), busy.map(([, n]) => n), options.leaseSeconds]);
  const claimedAt = Date.now();
  return rows.map((r) => ({
    id: r.id,
    attempt: r.attempts + 1,
    target: {
      id: r.target_id,
      url: r.url,
      urlPasswordEncrypted: r.url_password_encrypted,
      version: r.version,
      signingSecretEncrypted: r.signing_secret_encrypted,
      previousSigningSecretEncrypted: r.previous_signing_secret_encrypted,
    },
    workspaceSecretEncrypted: r.webhook_secret_encrypted,
    event: { id: r.event_id, workspaceId: r.workspace_id, type: r.type, payload: r.payload, createdAt: r.created_at },
    claimedAt,
  }));
}
