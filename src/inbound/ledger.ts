import { createHash } from 'node:crypto';
import type { Queryable } from '../db/pool.ts';
import { newId } from '../domain/ids.ts';
import { stripNul } from '../domain/text.ts';
import { readRaw } from './raw-email.ts';

export const INBOUND_STATUSES = Object.freeze(['received', 'processed', 'duplicate', 'unroutable', 'rejected', 'failed'] as const);
export type InboundStatus = (typeof INBOUND_STATUSES)[number];
export type InboundSource = 'postmark' | 'mime';

export type InboundEmailRecord = {
  id: string;
  workspaceId: string | null;
  /** Set on a copy made for another workspace the email was also addressed to. */
  targetWorkspaceId: string | null;
  forkedFrom: string | null;
  source: InboundSource;
  messageId: string | null;
  rawSize: number;
  status: InboundStatus;
  errorCode: string | null;
  errorMessage: string | null;
  attempts: number;
  classification: Record<string, unknown> | null;
  duplicateOf: string | null;
  customerId: string | null;
  threadId: string | null;
  timelineEntryId: string | null;
  bounceOfEntryId: string | null;
  receivedAt: Date;
  processedAt: Date | null;
};

const COLUMNS = `id, workspace_id AS "workspaceId", target_workspace_id AS "targetWorkspaceId", forked_from AS "forkedFrom", source, message_id AS "messageId", raw_size AS "rawSize", status,
  error_code AS "errorCode", error_message AS "errorMessage", attempts, classification, duplicate_of AS "duplicateOf",
  customer_id AS "customerId", thread_id AS "threadId", timeline_entry_id AS "timelineEntryId",
  bounce_of_entry_id AS "bounceOfEntryId", received_at AS "receivedAt", processed_at AS "processedAt"`;

/** The same delivery twice is one row: Postmark's own id, else the exact bytes of the message. */
export function dedupeKey(source: InboundSource, raw: Buffer, providerId: string | null): string {
  return providerId ? `${source}:${providerId}` : `${source}:sha256:${createHash('sha256').update(raw).digest('hex')}`;
}

/**
 * Stores the raw payload; returns the existing row's id when this delivery was already stored.
 * `workspaceId` is the workspace whose inbound address it was sent to, when known at receipt.
 */
export async function storeInbound(
  tx: Queryable,
  input: { source: InboundSource; raw: Buffer; dedupeKey: string; messageId: string | null; workspaceId?: string | null; jobId?: string | null },
): Promise<{ id: string; duplicate: boolean }> {
  const inserted = await tx.query<{ id: string }>(
    `INSERT INTO inbound_emails (id, source, dedupe_key, message_id, raw, raw_size, status, workspace_id, job_id)
     VALUES ($1, $2, $3, $4, $5, $6, 'received', $7, $8) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
    [newId('inboundEmail'), input.source, input.dedupeKey, input.messageId, input.raw, input.raw.length, input.workspaceId ?? null, input.jobId ?? null],
  );
  if (inserted.rows[0]) return { id: inserted.rows[0].id, duplicate: false };
  const { rows } = await tx.query<{ id: string }>('SELECT id FROM inbound_emails WHERE dedupe_key = $1', [input.dedupeKey]);
  return { id: rows[0]!.id, duplicate: true };
}

/** Copies of an email for the other workspaces it was addressed to, each processed for (and visible to) its workspace alone. */
export async function forkInbound(tx: Queryable, id: string, workspaceIds: string[]): Promise<string[]> {
  const created: string[] = [];
  for (const workspaceId of workspaceIds) {
    const { rows } = await tx.query<{ id: string }>(
      `INSERT INTO inbound_emails (id, source, dedupe_key, message_id, raw, raw_size, status, target_workspace_id, workspace_id, forked_from)
       SELECT $1, source, dedupe_key || '#' || $3, message_id, raw, raw_size, 'received', $3, $3, id FROM inbound_emails WHERE id = $2
       ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
      [newId('inboundEmail'), id, workspaceId],
    );
    if (rows[0]) created.push(rows[0].id);
  }
  return created;
}

export async function loadInboundForProcessing(tx: Queryable, id: string): Promise<{ record: InboundEmailRecord; raw: Buffer } | null> {
  // Locks the row: one worker at a time processes one email, whatever pg-boss does.
  const { rows } = await tx.query<InboundEmailRecord>(`SELECT ${COLUMNS} FROM inbound_emails WHERE id = $1 FOR UPDATE`, [id]);
  if (!rows[0]) return null;
  return { record: rows[0], raw: await readRaw(tx, id) };
}

export type Outcome = {
  status: Exclude<InboundStatus, 'received' | 'failed'>;
  workspaceId: string | null;
  messageId?: string | null;
  classification?: Record<string, unknown> | null;
  errorCode?: string | null;
  errorMessage?: string | null;
  duplicateOf?: string | null;
  customerId?: string | null;
  threadId?: string | null;
  timelineEntryId?: string | null;
  bounceOfEntryId?: string | null;
};

/**
 * An outcome without a workspace (unparseable, unroutable) keeps the one the email was attributed
 * to at receipt or by its copy's target: it was sent to that workspace's address, so it stays visible there.
 */
export async function recordOutcome(tx: Queryable, id: string, o: Outcome): Promise<void> {
  await tx.query(
    `UPDATE inbound_emails SET status = $2, workspace_id = coalesce($3, workspace_id, target_workspace_id), message_id = coalesce($4, message_id), classification = $5,
       error_code = $6, error_message = $7, duplicate_of = $8, customer_id = $9, thread_id = $10, timeline_entry_id = $11,
       bounce_of_entry_id = $12, processed_at = clock_timestamp(), attempts = attempts + 1
     WHERE id = $1`,
    [id, o.status, o.workspaceId, o.messageId ?? null, o.classification ? JSON.stringify(o.classification) : null, o.errorCode ?? null, stripNul(o.errorMessage) ?? null, o.duplicateOf ?? null, o.customerId ?? null, o.threadId ?? null, o.timelineEntryId ?? null, o.bounceOfEntryId ?? null],
  );
}

/** A failed attempt: keeps the error; `final` marks the email failed (replayable) instead of awaiting a retry. */
export async function recordFailure(db: Queryable, id: string, error: string, final: boolean): Promise<void> {
  await db.query(
    `UPDATE inbound_emails SET attempts = attempts + 1, error_code = 'processing_failed', error_message = $2,
       status = CASE WHEN $3 THEN 'failed' ELSE status END, workspace_id = coalesce(workspace_id, target_workspace_id)
     WHERE id = $1 AND status IN ('received', 'failed')`,
    [id, stripNul(error).slice(0, 4000), final],
  );
}

/** The earlier processed email with this Message-ID in the workspace, if any. */
export async function findProcessedByMessageId(tx: Queryable, workspaceId: string, messageId: string, exceptId: string): Promise<string | null> {
  const { rows } = await tx.query<{ id: string }>(
    `SELECT id FROM inbound_emails WHERE workspace_id = $1 AND message_id = $2 AND status = 'processed' AND id <> $3 ORDER BY id LIMIT 1`,
    [workspaceId, messageId, exceptId],
  );
  return rows[0]?.id ?? null;
}

/** Puts an email back to `received` for another run; only outcomes that can change are replayable. */
export async function resetForReplay(tx: Queryable, id: string, workspaceId: string): Promise<InboundEmailRecord | 'not_found' | 'not_replayable'> {
  const { rows } = await tx.query<InboundEmailRecord>(
    `UPDATE inbound_emails SET status = 'received', error_code = NULL, error_message = NULL
      WHERE id = $1 AND workspace_id = $2 AND status IN ('failed', 'unroutable', 'rejected') RETURNING ${COLUMNS}`,
    [id, workspaceId],
  );
  if (rows[0]) return rows[0];
  const exists = await tx.query('SELECT 1 FROM inbound_emails WHERE id = $1 AND workspace_id = $2', [id, workspaceId]);
  return exists.rowCount ? 'not_replayable' : 'not_found';
}

export async function getInbound(db: Queryable, workspaceId: string, id: string): Promise<InboundEmailRecord | null> {
  const { rows } = await db.query<InboundEmailRecord>(`SELECT ${COLUMNS} FROM inbound_emails WHERE workspace_id = $1 AND id = $2`, [workspaceId, id]);
  return rows[0] ?? null;
}

export async function listInbound(
  db: Queryable,
  filter: { workspaceId: string | null; status?: InboundStatus | undefined; after?: string | undefined; limit: number; order?: 'asc' | 'desc' },
): Promise<InboundEmailRecord[]> {
  const desc = filter.order === 'desc';
  const { rows } = await db.query<InboundEmailRecord>(
    `SELECT ${COLUMNS} FROM inbound_emails
      WHERE workspace_id IS NOT DISTINCT FROM $1 AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR ${desc ? 'id < $3' : 'id > $3'})
      ORDER BY id ${desc ? 'DESC' : 'ASC'} LIMIT $4`,
    [filter.workspaceId, filter.status ?? null, filter.after ?? null, filter.limit],
  );
  return rows;
}
