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

// Nothing is written when any entry is missing (found by primary key: OFFSET 0 keeps the planner
// from reading every entry of a young table to join them).
const ADD_MANY = prepared(
  'attachments.add-many',
  `WITH x AS (
     SELECT x.*, e.id AS entry_id
       FROM unnest($3::text[], $4::text[], $5::int[], $6::text[], $7::text[], $8::int[], $9::text[], $10::text[], $11::boolean[], $12::text[], $13::text[])
              AS x(id, entry, position, file_name, content_type, size, sha256, content_id, inline, status, code)
       LEFT JOIN LATERAL (SELECT id FROM timeline_entries WHERE workspace_id = $1 AND id = x.entry OFFSET 0) e ON true
   )
   INSERT INTO attachments (id, workspace_id, timeline_entry_id, position, file_name, content_type, size, sha256, content_id, inline, status, code, origin)
   SELECT id, $1, entry_id, position, file_name, content_type, size, sha256, content_id, inline, status, code, $2 FROM x
    WHERE NOT EXISTS (SELECT 1 FROM x WHERE entry_id IS NULL)
   RETURNING ${COLUMNS}`,
);

/**
 * Records an entry's attachments in order. Accepted bytes are stored once per sha256 in the
 * workspace; a refused file keeps only its name, size, hash and code (the raw payload keeps its bytes).
 */
export async function addAttachments(ctx: WriteContext, timelineEntryId: string, files: NewAttachment[]): Promise<Attachment[]> {
  return (await addAttachmentsToEntries(ctx, [{ timelineEntryId, files }]))[0]!;
}

/**
 * addAttachments for several entries at once (an inbound batch's): the bytes in one statement and
 * the rows in another, whatever the number of files. An entry not in the workspace fails the call
 * with none of the rows written.
 */
export async function addAttachmentsToEntries(ctx: WriteContext, entries: Array<{ timelineEntryId: string; files: NewAttachment[] }>): Promise<Attachment[][]> {
  const rows = entries.flatMap(({ timelineEntryId, files }, k) =>
    files.map((file, position) => ({ k, id: newId('attachment'), timelineEntryId, position, file, sha256: createHash('sha256').update(file.content).digest('hex') })),
  );
  if (rows.length === 0) return entries.map(() => []);
  await storeBlobs(ctx, rows.flatMap((r) => (r.file.status === 'accepted' ? [{ sha256: r.sha256, content: r.file.content }] : [])));
  const { rows: stored } = await ctx.db.query<Attachment>(ADD_MANY, [
    ctx.workspaceId,
    ctx.origin,
    rows.map((r) => r.id),
    rows.map((r) => r.timelineEntryId),
    rows.map((r) => r.position),
    rows.map((r) => stripNul(r.file.fileName)),
    rows.map((r) => stripNul(r.file.contentType)),
    rows.map((r) => r.file.content.length),
    rows.map((r) => r.sha256),
    rows.map((r) => stripNul(r.file.contentId) ?? null),
    rows.map((r) => r.file.inline ?? false),
    rows.map((r) => r.file.status),
    rows.map((r) => (r.file.status === 'rejected' ? r.file.code : null)),
  ]);
  if (stored.length < rows.length) {
    const { rows: found } = await ctx.db.query<{ id: string }>('SELECT id FROM timeline_entries WHERE workspace_id = $1 AND id = ANY($2)', [ctx.workspaceId, rows.map((r) => r.timelineEntryId)]);
    const ids = new Set(found.map((e) => e.id));
    throw new Error(`timeline entry ${rows.find((r) => !ids.has(r.timelineEntryId))?.timelineEntryId} is not in workspace ${ctx.workspaceId}`);
  }
  const byId = new Map(stored.map((a) => [a.id, a]));
  const out = entries.map((): Attachment[] => []);
  for (const r of rows) out[r.k]!.push(byId.get(r.id)!);
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
 * after a crash) stores nothing new.
 */
export async function importAttachmentBlobs(ctx: WriteContext, blobs: ImportedBlob[]): Promise<void> {
  assertImport(ctx);
  await storeBlobs(ctx, blobs);
}

/** Bytes once per hash in the workspace, many to a statement; they travel as binary parameters, with no text copy. */
async function storeBlobs(ctx: WriteContext, blobs: Array<{ sha256: string; content: Buffer }>): Promise<void> {
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
