import { createHash } from 'node:crypto';
import { newId } from './ids.ts';
import { stripNul } from './text.ts';
import type { ReadContext, WriteContext } from './origin.ts';

export type AttachmentStatus = 'accepted' | 'rejected';

export type NewAttachment = {
  fileName: string;
  contentType: string;
  content: Buffer;
  contentId?: string | null;
  inline?: boolean;
} & ({ status: 'accepted' } | { status: 'rejected'; code: string });

export type Attachment = {
  id: string;
  timelineEntryId: string;
  fileName: string;
  contentType: string;
  size: number;
  sha256: string;
  contentId: string | null;
  inline: boolean;
  status: AttachmentStatus;
  code: string | null;
};

const COLUMNS = `id, timeline_entry_id AS "timelineEntryId", file_name AS "fileName", content_type AS "contentType", size,
                 sha256, content_id AS "contentId", inline, status, code`;

/**
 * Records an entry's attachments in order. Accepted bytes are stored once per sha256 in the
 * workspace; a refused file keeps only its name, size, hash and code (the raw payload keeps its bytes).
 */
export async function addAttachments(ctx: WriteContext, timelineEntryId: string, files: NewAttachment[]): Promise<Attachment[]> {
  const out: Attachment[] = [];
  for (const [position, file] of files.entries()) {
    const sha256 = createHash('sha256').update(file.content).digest('hex');
    if (file.status === 'accepted') {
      await ctx.db.query(
        `INSERT INTO attachment_blobs (workspace_id, sha256, size, content) VALUES ($1, $2, $3, $4)
         ON CONFLICT (workspace_id, sha256) DO NOTHING`,
        [ctx.workspaceId, sha256, file.content.length, file.content],
      );
    }
    const { rows } = await ctx.db.query<Attachment>(
      `INSERT INTO attachments (id, workspace_id, timeline_entry_id, position, file_name, content_type, size, sha256, content_id, inline, status, code, origin)
       SELECT $1, $2, e.id, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 FROM timeline_entries e WHERE e.workspace_id = $2 AND e.id = $3
       RETURNING ${COLUMNS}`,
      [newId('attachment'), ctx.workspaceId, timelineEntryId, position, stripNul(file.fileName), stripNul(file.contentType), file.content.length, sha256, stripNul(file.contentId) ?? null, file.inline ?? false, file.status, file.status === 'rejected' ? file.code : null, ctx.origin],
    );
    if (!rows[0]) throw new Error(`timeline entry ${timelineEntryId} is not in workspace ${ctx.workspaceId}`);
    out.push(rows[0]);
  }
  return out;
}

export async function listAttachmentsForEntries(ctx: ReadContext, entryIds: string[]): Promise<Attachment[]> {
  if (entryIds.length === 0) return [];
  const { rows } = await ctx.db.query<Attachment>(
    `SELECT ${COLUMNS} FROM attachments WHERE workspace_id = $1 AND timeline_entry_id = ANY($2) ORDER BY timeline_entry_id, position`,
    [ctx.workspaceId, entryIds],
  );
  return rows;
}

/** The stored bytes of an accepted attachment. */
export async function readAttachmentContent(ctx: ReadContext, attachmentId: string): Promise<Buffer | null> {
  const { rows } = await ctx.db.query<{ content: Buffer }>(
    `SELECT b.content FROM attachments a JOIN attachment_blobs b ON b.workspace_id = a.workspace_id AND b.sha256 = a.sha256
      WHERE a.workspace_id = $1 AND a.id = $2 AND a.status = 'accepted'`,
    [ctx.workspaceId, attachmentId],
  );
  return rows[0]?.content ?? null;
}
