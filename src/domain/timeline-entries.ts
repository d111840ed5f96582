import { EVENT_TYPES, recordEvent } from './events.ts';
import { newId } from './ids.ts';
import { capText, stripNul } from './text.ts';
import { assertImport, type ReadContext, type WriteContext } from './origin.ts';
import { paddedRows, preparedByKey } from '../db/prepared.ts';
import { inGivenOrder } from './in-given-order.ts';

export const ENTRY_KINDS = Object.freeze(['inbound_email', 'outbound_email', 'note', 'inbound_message', 'outbound_message'] as const);
export type EntryKind = (typeof ENTRY_KINDS)[number];

/**
 * What one entry stores of its text and HTML, in UTF-16 units; longer values are cut and the
 * whole one's size is kept beside them. Mail providers accept bodies of tens of megabytes; the raw
 * email (inbound_emails.raw) always stays whole.
 */
export const ENTRY_LIMITS = Object.freeze({ textChars: 512 * 1024, htmlChars: 1024 * 1024 });

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
  /** UTF-8 size of the whole text when `text` is already a cut of it (the caller bounded its own work). */
  textSize?: number | null;
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
  /** UTF-8 size of the whole text or HTML when the stored one was cut (ENTRY_LIMITS); null when stored whole. */
  textFullSize: number | null;
  htmlFullSize: number | null;
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
  supportAddress: string | null;
  origin: string;
  createdAt: Date;
};

const BASE_COLUMNS = `id, thread_id AS "threadId", kind, author_type AS "authorType", author_customer_id AS "authorCustomerId",
                 author_name AS "authorName", author_email AS "authorEmail", message_id AS "messageId", in_reply_to AS "inReplyTo",
                 "references", support_address AS "supportAddress", origin, created_at AS "createdAt"`;
const COLUMNS = `${BASE_COLUMNS}, text, html, reply_text AS "replyText", text_full_size AS "textFullSize", html_full_size AS "htmlFullSize"`;
// Reads never return more than the limits, also of rows stored before there were any.
const cappedRead = (column: string, max: number, alias: string) =>
  `left(${column}, ${max}) AS "${alias}", coalesce(${column}_full_size, CASE WHEN length(${column}) > ${max} THEN octet_length(${column}) END) AS "${alias}FullSize"`;
const READ_COLUMNS = `${BASE_COLUMNS}, ${cappedRead('text', ENTRY_LIMITS.textChars, 'text')}, ${cappedRead('html', ENTRY_LIMITS.htmlChars, 'html')},
                      left(reply_text, ${ENTRY_LIMITS.textChars}) AS "replyText"`;

// An event's entry: every column but the HTML and reply text, built from those alone (to_jsonb of
// the whole row, less two keys, built and copied the 20 KB of an email's bodies three times).
const EVENT_ENTRY_KEYS = ['id', 'threadId', 'kind', 'authorType', 'authorCustomerId', 'authorName', 'authorEmail', 'messageId', 'inReplyTo', 'references',
  'supportAddress', 'origin', 'createdAt', 'text', 'textFullSize', 'htmlFullSize'] as const;

// Entries, their threads' updated_at and (for inbound email) their events: one statement for any
// number of entries. An event carries its entry without HTML and reply text, which no webhook sends.
// Threads are found by primary key alone, one probe per entry (fenced by OFFSET 0; entries exist only
// for threads of the workspace, so the update needs no second check): given the workspace too, or
// all the ids at once, the planner of a young table (no statistics yet) read all of the threads
// for every batch.
// The bodies (text, HTML, reply text: up to 20 KB an email) go as parameters of their own, three a
// row, not in arrays: an array literal is escaped character by character by the driver and read
// back character by character by the server (a tenth of a processed email's database time).
const addEntriesSql = (returning: string, rows: number) =>
  `WITH x AS (
     SELECT u.*, b.text, b.html, b.reply_text FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
                                   $11::text[], $12::jsonb[], $13::text[], $14::timestamptz[], $15::text[], $16::int[], $17::int[])
         WITH ORDINALITY AS u(id, thread_id, kind, author_type, author_customer_id, author_name, author_email, message_id,
                              in_reply_to, refs, support_address, created_at, event_id, text_full_size, html_full_size, n)
       JOIN (VALUES ${Array.from({ length: rows }, (_, r) => `(${r + 1}, $${18 + 3 * r}::text, $${19 + 3 * r}::text, $${20 + 3 * r}::text)`).join(', ')})
         AS b(n, text, html, reply_text) ON b.n = u.n
   ), entry AS (
     INSERT INTO timeline_entries (id, workspace_id, thread_id, kind, author_type, author_customer_id, author_name, author_email,
                                   text, html, message_id, in_reply_to, "references", support_address, origin, created_at, reply_text,
                                   text_full_size, html_full_size)
     SELECT x.id, $1, t.id, x.kind, x.author_type, x.author_customer_id, x.author_name, x.author_email, x.text, x.html, x.message_id, x.in_reply_to,
            ARRAY(SELECT jsonb_array_elements_text(x.refs)), x.support_address, $2, x.created_at, x.reply_text, x.text_full_size, x.html_full_size
       FROM x CROSS JOIN LATERAL (SELECT id, workspace_id FROM threads WHERE id = x.thread_id OFFSET 0) t
      WHERE t.workspace_id = $1
     RETURNING ${COLUMNS}),
   latest AS (
     SELECT l.at, t.ctid AS row FROM (SELECT "threadId", max("createdAt") AS at FROM entry GROUP BY "threadId") l
       CROSS JOIN LATERAL (SELECT ctid FROM threads WHERE id = l."threadId" OFFSET 0) t),
   touched AS (
     UPDATE threads t SET updated_at = greatest(t.updated_at, latest.at) FROM latest WHERE t.ctid = latest.row),
   entry_event AS (
     INSERT INTO events (id, workspace_id, type, origin, payload)
     SELECT x.event_id, $1, '${EVENT_TYPES.emailReceived}', $2, jsonb_build_object('entry', jsonb_build_object(${EVENT_ENTRY_KEYS.map((k) => `'${k}', entry."${k}"`).join(', ')}))
       FROM entry JOIN x ON x.id = entry.id
      WHERE entry.kind = 'inbound_email' AND $2::text <> 'import')
   SELECT ${returning} FROM entry`;
// One statement per padded row count (paddedRows); the ids alone for an inbound batch: its entries'
// text and HTML, 20 KB an email, would come back for nothing.
const addEntriesStatement = {
  entries: preparedByKey('timeline-entries.add-entries', (rows: number) => addEntriesSql('*', rows)),
  ids: preparedByKey('timeline-entries.add-ids', (rows: number) => addEntriesSql('id, "threadId"', rows)),
};

/**
 * Several entries (of one workspace) in one statement, returned in the order given. An inbound
 * email's entry fires thread.email_received (never an imported one's).
 */
export async function addTimelineEntries(ctx: WriteContext, inputs: NewTimelineEntry[]): Promise<TimelineEntry[]> {
  return insertEntries<TimelineEntry>(ctx, inputs, 'entries');
}

/** addTimelineEntries answering only each entry's id, in the order given. */
export async function addTimelineEntryIds(ctx: WriteContext, inputs: NewTimelineEntry[]): Promise<string[]> {
  return (await insertEntries<{ id: string }>(ctx, inputs, 'ids')).map((e) => e.id);
}

async function insertEntries<R extends { id: string }>(ctx: WriteContext, inputs: NewTimelineEntry[], answer: 'entries' | 'ids'): Promise<R[]> {
  if (inputs.length === 0) return [];
  const rows = inputs.map((input) => {
    const author = input.author;
    const createdAt = input.createdAt ?? new Date();
    const text = capText(input.text, ENTRY_LIMITS.textChars, input.textSize);
    const html = capText(input.html, ENTRY_LIMITS.htmlChars);
    return {
      id: newId('timelineEntry', createdAt.getTime()),
      threadId: input.threadId,
      kind: input.kind,
      authorType: author.type,
      authorCustomerId: author.type === 'customer' ? author.customerId : null,
      authorName: author.type === 'customer' ? null : (stripNul(author.name) ?? null),
      authorEmail: author.type === 'user' ? (stripNul(author.email) ?? null) : null,
      text: stripNul(text.value),
      html: stripNul(html.value),
      messageId: stripNul(input.messageId) ?? null,
      inReplyTo: stripNul(input.inReplyTo) ?? null,
      references: JSON.stringify((input.references ?? []).map(stripNul)),
      supportAddress: stripNul(input.supportAddress) ?? null,
      createdAt,
      replyText: stripNul(capText(input.replyText, ENTRY_LIMITS.textChars).value),
      eventId: newId('event'),
      textFullSize: text.fullSize,
      htmlFullSize: html.fullSize,
    };
  });
  const col = <K extends keyof (typeof rows)[number]>(k: K) => rows.map((r) => r[k]);
  const size = paddedRows(rows.length);
  const bodies = rows.flatMap((r) => [r.text, r.html, r.replyText]);
  const { rows: entries } = await ctx.db.query<R>(addEntriesStatement[answer](size), [
    ctx.workspaceId, ctx.origin,
    col('id'), col('threadId'), col('kind'), col('authorType'), col('authorCustomerId'), col('authorName'), col('authorEmail'), col('messageId'),
    col('inReplyTo'), col('references'), col('supportAddress'), col('createdAt'), col('eventId'), col('textFullSize'), col('htmlFullSize'),
    ...bodies, ...new Array<null>((size - rows.length) * 3).fill(null),
  ]);
  return inGivenOrder(col('id'), entries, (i) => new Error(`thread ${rows[i]!.threadId} is not in workspace ${ctx.workspaceId}`));
}

export async function addTimelineEntry(ctx: WriteContext, input: NewTimelineEntry): Promise<TimelineEntry> {
  return (await addTimelineEntries(ctx, [input]))[0]!;
}

/** Plain's note text is at most 5,000 characters in its older webhook versions (10,000 in the latest). */
export const NOTE_MAX_CHARS = 5000;

/**
 * A note on the thread (internal: the customer never sees it) and its `thread.note_created`
 * event in the caller's transaction.
 */
export async function addNote(ctx: WriteContext, input: { threadId: string; text: string; author: EntryAuthor }): Promise<TimelineEntry> {
  const entry = await addTimelineEntry(ctx, { threadId: input.threadId, kind: 'note', author: input.author, text: input.text });
  await recordEvent(ctx, EVENT_TYPES.noteCreated, {
    note: { id: entry.id, threadId: entry.threadId, text: entry.text, authorType: entry.authorType, authorName: entry.authorName, origin: entry.origin, createdAt: entry.createdAt },
  });
  return entry;
}

export async function listTimelineEntries(ctx: ReadContext, threadId: string): Promise<TimelineEntry[]> {
  const { rows } = await ctx.db.query<TimelineEntry>(
    `SELECT ${READ_COLUMNS} FROM timeline_entries WHERE workspace_id = $1 AND thread_id = $2 ORDER BY created_at, id`,
    [ctx.workspaceId, threadId],
  );
  return rows;
}

export type ImportedEntry = {
  id: string;
  threadId: string;
  kind: EntryKind;
  author: EntryAuthor;
  text: string | null;
  html: string | null;
  createdAt: Date;
};

/** Imported entries in one statement (ids chosen by the caller); each thread's updated_at follows its latest entry. */
export async function importTimelineEntries(ctx: WriteContext, entries: ImportedEntry[]): Promise<void> {
  assertImport(ctx);
  if (entries.length === 0) return;
  const rows = entries.map((e) => {
    const text = capText(e.text, ENTRY_LIMITS.textChars);
    const html = capText(e.html, ENTRY_LIMITS.htmlChars);
    return {
      id: e.id,
      thread_id: e.threadId,
      kind: e.kind,
      author_type: e.author.type,
      author_customer_id: e.author.type === 'customer' ? e.author.customerId : null,
      author_name: e.author.type === 'customer' ? null : (stripNul(e.author.name) ?? null),
      author_email: e.author.type === 'user' ? (stripNul(e.author.email) ?? null) : null,
      text: stripNul(text.value),
      html: stripNul(html.value),
      text_full_size: text.fullSize,
      html_full_size: html.fullSize,
      created_at: e.createdAt.toISOString(),
    };
  });
  const { rows: result } = await ctx.db.query<{ inserted: number }>(
    `WITH x AS (
       SELECT * FROM jsonb_to_recordset($2) AS x(id text, thread_id text, kind text, author_type text, author_customer_id text,
                                               author_name text, author_email text, text text, html text, text_full_size integer,
                                               html_full_size integer, created_at timestamptz)),
     inserted AS (
       INSERT INTO timeline_entries (id, workspace_id, thread_id, kind, author_type, author_customer_id, author_name, author_email, text, html,
                                     text_full_size, html_full_size, origin, created_at)
       SELECT x.id, $1, t.id, x.kind, x.author_type, x.author_customer_id, x.author_name, x.author_email, x.text, x.html,
              x.text_full_size, x.html_full_size, 'import', x.created_at
         FROM x JOIN threads t ON t.workspace_id = $1 AND t.id = x.thread_id
       RETURNING thread_id, created_at),
     touched AS (
       UPDATE threads t SET updated_at = greatest(t.updated_at, latest.at)
         FROM (SELECT thread_id, max(created_at) AS at FROM inserted GROUP BY thread_id) latest
        WHERE t.workspace_id = $1 AND t.id = latest.thread_id)
     SELECT count(*)::int AS inserted FROM inserted`,
    [ctx.workspaceId, JSON.stringify(rows)],
  );
  if (result[0]!.inserted !== rows.length) throw new Error(`imported ${result[0]!.inserted} of ${rows.length} entries: a thread is not in workspace ${ctx.workspaceId}`);
}
