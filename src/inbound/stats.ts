import type { Queryable } from '../db/pool.ts';
import { firstIdAt } from '../domain/id-time.ts';
import { INBOUND_STATUSES, type InboundStatus } from './ledger.ts';

/** Read-only views of the inbound ledger for the operator console. */

/**
 * One statement per status, the status written as a literal: with it the planner knows how common
 * the status is and walks the (workspace_id, status, id) index; given as a parameter it guesses a
 * third of the table and scans all of it for a status that has few rows. (The statuses are our own constants.)
 */
function perStatus(sql: (status: string) => string): string {
  return INBOUND_STATUSES.map((status) => {
    if (!/^[a-z_]+$/.test(status)) throw new Error(`unexpected inbound status ${status}`);
    return `(${sql(`'${status}'`)})`;
  }).join(' UNION ALL ');
}

/** Emails per status, each counted up to `cap` (never a count of a whole large ledger): a count above the cap reads as `cap + 1`. */
export async function countByStatus(db: Queryable, workspaceId: string, cap: number): Promise<Partial<Record<InboundStatus, number>>> {
  const { rows } = await db.query<{ status: InboundStatus; n: number }>(
    perStatus((status) => `SELECT ${status}::text AS status, count(*)::int AS n FROM (SELECT 1 FROM inbound_emails WHERE workspace_id = $1 AND status = ${status} LIMIT $2) x`),
    [workspaceId, cap + 1],
  );
  return Object.fromEntries(rows.filter((r) => r.n > 0).map((r) => [r.status, r.n]));
}

/** Emails received per hour since `since`, by their current status: per status, an id range on the (workspace_id, status, id) index. */
export async function volumeByHour(db: Queryable, workspaceId: string, since: Date): Promise<Array<{ hour: Date; status: InboundStatus; n: number }>> {
  const { rows } = await db.query<{ hour: Date; status: InboundStatus; n: number }>(
    perStatus(
      (status) => `SELECT date_trunc('hour', received_at) AS hour, ${status}::text AS status, count(*)::int AS n FROM inbound_emails
                    WHERE workspace_id = $1 AND status = ${status} AND id >= $2 AND received_at >= $3 GROUP BY 1`,
    ),
    // A minute's slack: an id is made a moment before the row's received_at.
    [workspaceId, firstIdAt('inboundEmail', new Date(since.getTime() - 60_000)), since],
  );
  return rows;
}

export type RefusedAttachment = { inboundEmailId: string; fileName: string; contentType: string; size: number; code: string; createdAt: Date };

/**
 * Attachments refused on the workspace's latest `ofLast` processed emails (the emails themselves
 * landed), newest first: the emails through their (workspace_id, status, id) index, their files
 * through (timeline_entry_id, position), so the cost is bounded whatever the attachment table holds.
 */
export async function recentRefusedAttachments(db: Queryable, workspaceId: string, limit: number, ofLast: number): Promise<RefusedAttachment[]> {
  const { rows } = await db.query<RefusedAttachment>(
    `SELECT e.id AS "inboundEmailId", a.file_name AS "fileName", a.content_type AS "contentType", a.size, a.code, a.created_at AS "createdAt"
       FROM (SELECT id, timeline_entry_id FROM inbound_emails WHERE workspace_id = $1 AND status = 'processed' ORDER BY id DESC LIMIT $3) e
       JOIN attachments a ON a.timeline_entry_id = e.timeline_entry_id AND a.workspace_id = $1 AND a.status = 'rejected'
      ORDER BY e.id DESC, a.position LIMIT $2`,
    [workspaceId, limit, ofLast],
  );
  return rows;
}
