import type { z } from 'zod';
import pLimit from 'p-limit';
import type { AttachmentRecord, EntryRecord, ImportStream, PersonRecord, RecordFailure, StreamContext, StreamPage, ThreadRecord } from '../../src/import/adapter.ts';
import { clip } from '../../src/domain/text.ts';
import { ATTACHMENT_NOT_FETCHED, MAX_ATTACHMENT_DOWNLOAD_BYTES, newAttachmentBudget, precheckAttachment } from '../../src/import/attachment-precheck.ts';
import { ProviderError, RecordError } from '../../src/import/errors.ts';
import type { ProviderClient } from '../../src/import/http-client.ts';
import { mapComment, mapOrganization, mapTicket, mapUser, ZENDESK_SYSTEM_AUTHOR } from './map.ts';
import {
  commentSchema,
  commentsPageSchema,
  exportPageSchema,
  organizationSchema,
  organizationsPageSchema,
  ticketSchema,
  userSchema,
  usersListSchema,
  type ZendeskComment,
} from './schemas.ts';

/**
 * Zendesk's streams: users, then tickets (each page with its tickets' comments and attachments).
 * Both walk the cursor-based incremental exports: never the time-based export (it repeats
 * records at page boundaries) and never offset paging (refused past 10,000 records).
 */

/** Where an export stands: Zendesk's after_cursor, or (before the first page) a start time. */
type ExportCursor = { after: string } | { startTime: number };

const SHOW_MANY_MAX = 100;
const COMMENTS_PAGE_SIZE = 100;
const EXCERPT_CHARS = 500;

export type StreamOptions = { client: ProviderClient; pageSize: number | undefined; concurrency: number };

function asExportCursor(cursor: unknown): ExportCursor {
  if (cursor && typeof cursor === 'object') {
    const c = cursor as Record<string, unknown>;
    if (typeof c.after === 'string') return { after: c.after };
    if (typeof c.startTime === 'number') return { startTime: c.startTime };
  }
  return { startTime: 0 };
}

/** One page of an incremental export, with the rules Zendesk documents for ending it. */
async function exportPage(client: ProviderClient, key: 'users' | 'tickets', cursor: unknown, perPage: number, signal: AbortSignal) {
  const at = asExportCursor(cursor);
  // Zendesk refuses a start_time within the last minute.
  const params = 'after' in at ? { cursor: at.after, per_page: perPage } : { start_time: Math.min(at.startTime, Math.floor(Date.now() / 1000) - 60), per_page: perPage };
  const res = await client.get(`/api/v2/incremental/${key}/cursor.json`, { params, signal });
  const parsed = exportPageSchema(key).safeParse(res.data);
  if (!parsed.success) {
    throw new ProviderError({ method: 'GET', path: new URL(res.url).pathname, status: res.status, detail: `unexpected ${key} export page: ${parsed.error.issues[0]?.message ?? 'bad shape'}` });
  }
  const page = parsed.data;
  // An empty page before the end is not the end; a missing cursor before the end is an error.
  if (!page.end_of_stream && !page.after_cursor) {
    throw new ProviderError({ method: 'GET', path: new URL(res.url).pathname, status: res.status, detail: `the ${key} export gave no after_cursor before end_of_stream` });
  }
  const next: ExportCursor = page.after_cursor ? { after: page.after_cursor } : at;
  return { items: page[key], cursor: next, done: page.end_of_stream };
}

/** Each record checked on its own: the readable ones, and a record failure (with an excerpt) for each other. */
function readEach<T>(items: unknown[], schema: z.ZodType<T>, recordType: RecordFailure['recordType'], what: string): { ok: T[]; failures: RecordFailure[] } {
  const ok: T[] = [];
  const failures: RecordFailure[] = [];
  for (const raw of items) {
    const parsed = schema.safeParse(raw);
    if (parsed.success) {
      ok.push(parsed.data);
      continue;
    }
    const id = raw && typeof raw === 'object' ? String((raw as { id?: unknown }).id ?? '?') : '?';
    failures.push({ recordType, sourceId: id, reason: `unreadable ${what}: ${parsed.error.issues[0]?.message}`, excerpt: clip(JSON.stringify(raw) ?? '', EXCERPT_CHARS) });
  }
  return { ok, failures };
}

/**
 * Organizations have no cursor-based incremental export: the list endpoint's cursor paging (id
 * order) is walked, and a later run continues after the last organization seen.
 */
export function organizationsStream(o: StreamOptions): ImportStream {
  return {
    name: 'organizations',
    async nextPage(cursor, ctx): Promise<StreamPage> {
      const after = cursor && typeof cursor === 'object' && typeof (cursor as { after?: unknown }).after === 'string' ? (cursor as { after: string }).after : undefined;
      const res = await o.client.get('/api/v2/organizations.json', { params: { 'page[size]': 100, 'page[after]': after }, signal: ctx.signal });
      const page = organizationsPageSchema.safeParse(res.data);
      if (!page.success) throw new ProviderError({ method: 'GET', path: '/api/v2/organizations.json', status: res.status, detail: `unexpected organizations page: ${page.error.issues[0]?.message}` });
      const { ok, failures } = readEach(page.data.organizations, organizationSchema, 'tenant', 'organization');
      if (page.data.meta.has_more && !page.data.meta.after_cursor) {
        throw new ProviderError({ method: 'GET', path: '/api/v2/organizations.json', status: res.status, detail: 'the organizations list gave no after_cursor with has_more' });
      }
      const next = page.data.meta.after_cursor ?? after;
      return { tenants: ok.map(mapOrganization), failures, cursor: next ? { after: next } : null, done: !page.data.meta.has_more };
    },
  };
}

export function usersStream(o: StreamOptions): ImportStream {
  return {
    name: 'users',
    async nextPage(cursor, ctx): Promise<StreamPage> {
      const page = await exportPage(o.client, 'users', cursor, o.pageSize ?? 1000, ctx.signal);
      const { ok, failures } = readEach(page.items, userSchema, 'person', 'user');
      return { people: ok.map(mapUser), failures, cursor: page.cursor, done: page.done };
    },
  };
}

export function ticketsStream(o: StreamOptions): ImportStream {
  const limit = pLimit(o.concurrency);
  return {
    name: 'tickets',
    async nextPage(cursor, ctx): Promise<StreamPage> {
      const page = await exportPage(o.client, 'tickets', cursor, o.pageSize ?? 100, ctx.signal);
      const { ok: tickets, failures } = readEach(page.items, ticketSchema, 'thread', 'ticket');
      const skipped: NonNullable<StreamPage['skipped']> = tickets.filter((t) => t.status === 'deleted').map((t) => ({ recordType: 'thread', sourceId: String(t.id) }));
      const live = tickets.filter((t) => t.status !== 'deleted');
      const threads: ThreadRecord[] = live.map(mapTicket);
      const comments = await Promise.all(live.map((t) => limit(() => listComments(o.client, t.id, ctx.signal))));
      const gone = new Set<string>();
      const byTicket: Array<{ ticketId: number; comments: ZendeskComment[] }> = [];
      comments.forEach((c, i) => {
        const ticketId = live[i]!.id;
        if (c === 'gone') gone.add(String(ticketId));
        else {
          failures.push(...c.failures);
          byTicket.push({ ticketId, comments: c.comments });
        }
      });
      // A ticket deleted between the export and its comments is skipped like any deleted ticket.
      const kept = threads.filter((t) => !gone.has(t.sourceId));
      for (const id of gone) skipped.push({ recordType: 'thread', sourceId: id });

      const people = await unknownPeople(o.client, ctx, [...kept.map((t) => Number(t.customerSourceId)), ...byTicket.flatMap((t) => t.comments.map((c) => c.author_id))]);
      const knownEntries = await ctx.known('entry', byTicket.flatMap((t) => t.comments.map((c) => String(c.id))));
      const entries: EntryRecord[] = [];
      const downloads: Array<Promise<void>> = [];
      for (const { ticketId, comments: list } of byTicket) {
        for (const c of list) {
          const attachments: AttachmentRecord[] = [];
          // Attachments are fetched only for comments not imported yet.
          if (!knownEntries.has(String(c.id))) {
            // Plain's per-entry budget is spent on declared sizes first, so refused files are never downloaded.
            const budget = newAttachmentBudget();
            for (const a of c.attachments) {
              const record: AttachmentRecord = { sourceId: String(a.id), fileName: a.file_name, contentType: a.content_type ?? 'application/octet-stream', size: a.size, inline: a.inline ?? false, content: null };
              attachments.push(record);
              record.refusal = precheckAttachment(a.file_name, a.size, budget) ?? undefined;
              if (!record.refusal) downloads.push(limit(() => download(o.client, record, a.content_url, ctx.signal, failures)));
            }
          }
          entries.push(mapComment(ticketId, c, attachments));
        }
      }
      await Promise.all(downloads);
      return { people, threads: kept, entries, skipped, failures, cursor: page.cursor, done: page.done };
    },
  };
}

/** Every comment of one ticket, cursor-paged; 'gone' when the ticket no longer exists. */
async function listComments(client: ProviderClient, ticketId: number, signal: AbortSignal): Promise<{ comments: ZendeskComment[]; failures: RecordFailure[] } | 'gone'> {
  const comments: ZendeskComment[] = [];
  const failures: RecordFailure[] = [];
  let next: string | null = `/api/v2/tickets/${ticketId}/comments.json?page[size]=${COMMENTS_PAGE_SIZE}`;
  while (next) {
    let data: unknown;
    try {
      data = (await client.get(next, { signal })).data;
    } catch (err) {
      if (err instanceof RecordError && err.reason === 'not_found') return 'gone';
      throw err;
    }
    const page = commentsPageSchema.safeParse(data);
    if (!page.success) throw new ProviderError({ method: 'GET', path: `/api/v2/tickets/${ticketId}/comments.json`, status: 200, detail: `unexpected comments page: ${page.error.issues[0]?.message}` });
    const read = readEach(page.data.comments, commentSchema, 'entry', `comment on ticket ${ticketId}`);
    comments.push(...read.ok);
    failures.push(...read.failures);
    const after = page.data.meta.after_cursor;
    next = page.data.meta.has_more ? (page.data.links?.next ?? (after ? `/api/v2/tickets/${ticketId}/comments.json?page[size]=${COMMENTS_PAGE_SIZE}&page[after]=${encodeURIComponent(after)}` : null)) : null;
  }
  return { comments, failures };
}

/** People the page refers to that the ledger does not know yet, fetched 100 at a time. */
async function unknownPeople(client: ProviderClient, ctx: StreamContext, ids: number[]): Promise<PersonRecord[]> {
  const wanted = [...new Set(ids.filter((id) => id !== ZENDESK_SYSTEM_AUTHOR).map(String))];
  const known = await ctx.known('person', wanted);
  const missing = wanted.filter((id) => !known.has(id));
  const people: PersonRecord[] = [];
  for (let i = 0; i < missing.length; i += SHOW_MANY_MAX) {
    const batch = missing.slice(i, i + SHOW_MANY_MAX);
    const res = await client.get('/api/v2/users/show_many.json', { params: { ids: batch.join(',') }, signal: ctx.signal });
    const list = usersListSchema.safeParse(res.data);
    if (!list.success) throw new ProviderError({ method: 'GET', path: '/api/v2/users/show_many.json', status: res.status, detail: 'unexpected users list' });
    // An unreadable person here surfaces as a ticket or comment that cannot be mapped.
    people.push(...readEach(list.data.users, userSchema, 'person', 'user').ok.map(mapUser));
  }
  return people;
}

async function download(client: ProviderClient, record: AttachmentRecord, url: string, signal: AbortSignal, failures: RecordFailure[]): Promise<void> {
  try {
    // content_url answers 302 to Zendesk's file host: the client sends credentials to the Zendesk host only.
    // Zendesk serves files outside the API: they do not count against its rate limit.
    const res = await client.get(url, { responseType: 'arraybuffer', maxBytes: MAX_ATTACHMENT_DOWNLOAD_BYTES, signal, unmetered: true });
    record.content = res.data;
    if (!record.contentType || record.contentType === 'application/octet-stream') record.contentType = res.headers['content-type'] ?? record.contentType;
  } catch (err) {
    if (!(err instanceof RecordError) && !(err instanceof ProviderError)) throw err;
    record.refusal = { code: ATTACHMENT_NOT_FETCHED, reason: err.message };
    failures.push({ recordType: 'attachment', sourceId: record.sourceId, reason: `could not fetch ${record.fileName}: ${err.message}` });
  }
}

