import { createHash } from 'node:crypto';
import { newId } from './ids.ts';
import { stripNul } from './text.ts';
import { assertImport, type ReadContext, type WriteContext } from './origin.ts';
import { prepared } from '../db/prepared.ts';

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

const STORE_BLOB = prepared(
  'attachments.store-blob',
  `INSERT INTO attachment_blobs (workspace_id, sha256, size, content) VALUES ($1, $2, $3, $4) ON CONFLICT (workspace_id, sha256) DO NOTHING`,
);
const ADD = prepared(
  'attachments.add',
  `INSERT INTO attachments (id, workspace_id, timeline_entry_id, position, file_name, content_type, size, sha256, content_id, inline, status, code, origin)
   SELECT $1, $2, e.id, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 FROM timeline_entries e WHERE e.workspace_id = $2 AND e.id = $3
   RETURNING ${COLUMNS}`,
);

/**
 * Records an entry's attachments in order. Accepted bytes are stored once per sha256 in the
 * workspace; a refused file keeps only its name, size, hash and code (the raw payload keeps its bytes).
 */
export async function addAttachments(ctx: WriteContext, timelineEntryId: string, files: NewAttachment[]): Promise<Attachment[]> {
  const out: Attachment[] = [];
  for (const [position, file] of files.entries()) {
    const sha256 = createHash('sha256').update(file.content).digest('hex');
    if (file.status === 'accepted') {
      await ctx.db.query(STORE_BLOB, [ctx.workspaceId, sha256, file.content.length, file.content],
      );
    }
    const { rows } = await ctx.db.query<Attachment>(ADD, [newId('attachment'), ctx.workspaceId, timelineEntryId, position, stripNul(file.fileName), stripNul(file.contentType), file.content.length, sha256, stripNul(file.contentId) ?? null, file.inline ?? false, file.status, file.status === 'rejected' ? file.code : null, ctx.origin],
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

/** An imported file: accepted (its bytes already stored by `importAttachmentBlobs`), or refused (hashed only when its bytes were fetched). */
export type ImportedAttachment = {
  timelineEntryId: string;
  position: number;
  fileName: string;
  contentType: string;
  inline: boolean;
  /** The fetched length, or the declared size when the bytes were never fetched. */
  size: number;
  sha256: string | null;
} & ({ status: 'accepted'; sha256: string } | { status: 'rejected'; code: string });

/** Imported attachments' rows in one statement; their bytes are stored beforehand. */
export async function importAttachments(ctx: WriteContext, files: ImportedAttachment[]): Promise<void> {
  assertImport(ctx);
  if (files.length === 0) return;
  const rows = files.map((f) => ({
    id: newId('attachment'),
    entry: f.timelineEntryId,
    position: f.position,
    file_name: stripNul(f.fileName),
    content_type: stripNul(f.contentType),
    size: f.size,
    sha256: f.sha256,
    inline: f.inline,
    status: f.status,
    code: f.status === 'rejected' ? f.code : null,
  }));
  await ctx.db.query(
    `INSERT INTO attachments (id, workspace_id, timeline_entry_id, position, file_name, content_type, size, sha256, inline, status, code, origin)
     SELECT x.id, $1, e.id, x.position, x.file_name, x.content_type, x.size, x.sha256, x.inline, x.status, x.code, 'import'
       FROM jsonb_to_recordset($2) AS x(id text, entry text, position int, file_name text, content_type text, size int, sha256 text, inline boolean, status text, code text)
       JOIN timeline_entries e ON e.workspace_id = $1 AND e.id = x.entry`,
    [ctx.workspaceId, JSON.stringify(rows)],
  );
}

export type ImportedBlob = { sha256: string; content: Buffer };

/** Rows per blob statement: far below PostgreSQL's 65,535 parameters. */
const BLOBS_PER_STATEMENT = 1000;

/**
 * Accepted bytes of imported files, once per hash in the workspace, in statements of their own
 * (outside any page's transaction): content-addressed, so writing one twice (a page fetched again
 * after a crash) stores nothing new. The bytes travel as binary parameters, with no text copy.
 */
export async function importAttachmentBlobs(ctx: WriteContext, blobs: ImportedBlob[]): Promise<void> {
  assertImport(ctx);
  const unique = [...new Map(blobs.map((b) => [b.sha256, b])).values()];
  for (let i = 0; i < unique.length; i += BLOBS_PER_STATEMENT) {
    const chunk = unique.slice(i, i + BLOBS_PER_STATEMENT);
    const values = chunk.map((_, k) => `($1, $${3 * k + 2}, $${3 * k + 3}::int, $${3 * k + 4}::bytea)`);
    await ctx.db.query(
      `INSERT INTO attachment_blobs (workspace_id, sha256, size, content) VALUES ${values.join(', ')} ON CONFLICT (workspace_id, sha256) DO NOTHING`,
      [ctx.workspaceId, ...chunk.flatMap((b) => [b.sha256, b.content.length, b.content])],
    );
  }
}

/** One attachment of the workspace with its stored bytes (null when it was refused or never fetched). */
export async function readAttachmentFile(ctx: ReadContext, attachmentId: string): Promise<(Attachment & { content: Buffer | null }) | null> {
  const { rows } = await ctx.db.query<Attachment & { content: Buffer | null }>(
    `SELECT a.id, a.timeline_entry_id AS "timelineEntryId", a.file_name AS "fileName", a.content_type AS "contentType", a.size,
            a.sha256, a.content_id AS "contentId", a.inline, a.status, a.code, b.content
       FROM attachments a
       LEFT JOIN attachment_blobs b ON a.status = 'accepted' AND b.workspace_id = a.workspace_id AND b.sha256 = a.sha256
      WHERE a.workspace_id = $1 AND a.id = $2`,
    [ctx.workspaceId, attachmentId],
  );
  return rows[0] ?? null;
}
