import { EVENT_TYPES, eventCte } from './events.ts';
import { newId } from './ids.ts';
import { stripNul } from './text.ts';
import type { ReadContext, WriteContext } from './origin.ts';

export const ENTRY_KINDS = Object.freeze(['inbound_email', 'outbound_email', 'note', 'inbound_message', 'outbound_message'] as const);
export type EntryKind = (typeof ENTRY_KINDS)[number];

export type EntryAuthor =
  | { type: 'customer'; customerId: string }
  | { type: 'user'; name?: string | null; email?: string | null }
  | { type: 'system'; name?: string | null };

export type NewTimelineEntry = {
  threadId: string;
  kind: EntryKind;
  author: EntryAuthor;
  text?: string | null;
  html?: string | null;
  /** For email: the new words without quoted history. */
  replyText?: string | null;
  messageId?: string | null;
  inReplyTo?: string | null;
  references?: string[];
  supportAddress?: string | null;
  /** When it happened; an import passes the source's time. Defaults to now. */
  createdAt?: Date;
};

export type TimelineEntry = {
  id: string;
  threadId: string;
  kind: EntryKind;
  authorType: EntryAuthor['type'];
  authorCustomerId: string | null;
  authorName: string | null;
  authorEmail: string | null;
  text: string | null;
  html: string | null;
  replyText: string | null;
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
  supportAddress: string | null;
  origin: string;
  createdAt: Date;
};

const COLUMNS = `id, thread_id AS "threadId", kind, author_type AS "authorType", author_customer_id AS "authorCustomerId",
                 author_name AS "authorName", author_email AS "authorEmail", text, html, reply_text AS "replyText", message_id AS "messageId",
                 in_reply_to AS "inReplyTo", "references", support_address AS "supportAddress", origin, created_at AS "createdAt"`;


export async function addTimelineEntry(ctx: WriteContext, input: NewTimelineEntry): Promise<TimelineEntry> {
  const author = input.author;
  const createdAt = input.createdAt ?? new Date();
  // Entry, the thread's updated_at and (for an inbound email) its event: one statement.
  const { rows } = await ctx.db.query<TimelineEntry>(
    `WITH entry AS (
       INSERT INTO timeline_entries (id, workspace_id, thread_id, kind, author_type, author_customer_id, author_name, author_email,
                                     text, html, message_id, in_reply_to, "references", support_address, origin, created_at, reply_text)
       SELECT $1, $2, t.id, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17
         FROM threads t WHERE t.workspace_id = $2 AND t.id = $3
       RETURNING ${COLUMNS}),
     touched AS (UPDATE threads SET updated_at = greatest(updated_at, $16) WHERE workspace_id = $2 AND id = (SELECT "threadId" FROM entry)),
     ${eventCte('entry', 'entry', EVENT_TYPES.emailReceived, { id: '$18', workspace: '$2', origin: "(CASE WHEN $4 = 'inbound_email' THEN $15 ELSE 'import' END)" })}
     SELECT * FROM entry`,
    [
      newId('timelineEntry', createdAt.getTime()),
      ctx.workspaceId,
      input.threadId,
      input.kind,
      author.type,
      author.type === 'customer' ? author.customerId : null,
      author.type === 'customer' ? null : (stripNul(author.name) ?? null),
      author.type === 'user' ? (stripNul(author.email) ?? null) : null,
      stripNul(input.text) ?? null,
      stripNul(input.html) ?? null,
      stripNul(input.messageId) ?? null,
      stripNul(input.inReplyTo) ?? null,
      (input.references ?? []).map(stripNul),
      stripNul(input.supportAddress) ?? null,
      ctx.origin,
      createdAt,
      stripNul(input.replyText) ?? null,
      newId('event'),
    ],
  );
  if (!rows[0]) throw new Error(`thread ${input.threadId} is not in workspace ${ctx.workspaceId}`);
  return rows[0];
}

export async function listTimelineEntries(ctx: ReadContext, threadId: string): Promise<TimelineEntry[]> {
  const { rows } = await ctx.db.query<TimelineEntry>(
    `SELECT ${COLUMNS} FROM timeline_entries WHERE workspace_id = $1 AND thread_id = $2 ORDER BY created_at, id`,
    [ctx.workspaceId, threadId],
  );
  return rows;
}
