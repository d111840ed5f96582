import pLimit from 'p-limit';
import { z } from 'zod';
import type { EntryRecord, ImportStream, RecordFailure, StreamContext, StreamPage, ThreadRecord } from '../../src/import/adapter.ts';
import { RecordError } from '../../src/import/errors.ts';
import type { ProviderClient } from '../../src/import/http-client.ts';
import { afterCursor, fetchPage, fetchUnknown, pagingError, selectRecords } from '../../src/import/kit/index.ts';
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
 * Zendesk's streams: organizations, users, then tickets (each page with its tickets' comments).
 * Users and tickets walk the cursor-based incremental exports: never the time-based export (it
 * repeats records at page boundaries) and never offset paging (refused past 10,000 records).
 */

/** Where an export stands: Zendesk's after_cursor, or (before the first page) a start time. */
const exportCursorSchema = z.union([z.object({ after: z.string() }).strict(), z.object({ startTime: z.number().int().nonnegative() }).strict()]);
type ExportCursor = z.infer<typeof exportCursorSchema>;
const listCursorSchema = z.object({ after: z.string() }).strict();

const SHOW_MANY_MAX = 100;
const COMMENTS_PAGE_SIZE = 100;

export type StreamOptions = { client: ProviderClient; pageSize: number | undefined; concurrency: number };

/** One page of an incremental export, ended by the rules Zendesk documents. */
async function exportPage(client: ProviderClient, key: 'users' | 'tickets', cursor: ExportCursor | null, perPage: number, signal: AbortSignal) {
  const at = cursor ?? { startTime: 0 };
  // Zendesk refuses a start_time within the last minute.
  const params = 'after' in at ? { cursor: at.after, per_page: perPage } : { start_time: Math.min(at.startTime, Math.floor(Date.now() / 1000) - 60), per_page: perPage };
  const path = `/api/v2/incremental/${key}/cursor.json`;
  const { page, status } = await fetchPage(client, { path, params, signal }, exportPageSchema(key), `${key} export page`);
  // An empty page before the end is not the end; a missing cursor before the end is an error.
  const step = afterCursor({ after: page.after_cursor, more: !page.end_of_stream }, 'after' in at ? at.after : null, (detail) => pagingError('GET', path, status, `the ${key} export: ${detail}`));
  const next: ExportCursor = step.cursor !== null ? { after: step.cursor } : at;
  return { items: page[key], cursor: next, done: step.done };
}

/**
 * Organizations have no cursor-based incremental export: the list endpoint's cursor paging (id
 * order) is walked, and a later run continues after the last organization seen.
 */
export function organizationsStream(o: StreamOptions): ImportStream<z.infer<typeof listCursorSchema>> {
  const path = '/api/v2/organizations.json';
  return {
    name: 'organizations',
    cursorSchema: listCursorSchema,
    async nextPage(cursor, ctx) {
      const after = cursor?.after ?? null;
      const { page, status } = await fetchPage(o.client, { path, params: { 'page[size]': 100, 'page[after]': after }, signal: ctx.signal }, organizationsPageSchema, 'organizations page');
      const { records, failures } = selectRecords(page.organizations, organizationSchema, 'tenant', 'organization');
      const step = afterCursor({ after: page.meta.after_cursor, more: page.meta.has_more }, after, (detail) => pagingError('GET', path, status, `the organizations list: ${detail}`));
      return { tenants: records.map(mapOrganization), failures, cursor: step.cursor === null ? null : { after: step.cursor }, done: step.done } as StreamPage<{ after: string }>;
    },
  };
}

export function usersStream(o: StreamOptions): ImportStream<ExportCursor> {
  return {
    name: 'users',
    cursorSchema: exportCursorSchema,
    async nextPage(cursor, ctx) {
      const page = await exportPage(o.client, 'users', cursor, o.pageSize ?? 1000, ctx.signal);
      const { records, failures } = selectRecords(page.items, userSchema, 'person', 'user');
      return { people: records.map(mapUser), failures, cursor: page.cursor, done: page.done };
    },
  };
}

export function ticketsStream(o: StreamOptions): ImportStream<ExportCursor> {
  const limit = pLimit(o.concurrency);
  return {
    name: 'tickets',
    cursorSchema: exportCursorSchema,
    async nextPage(cursor, ctx) {
      const page = await exportPage(o.client, 'tickets', cursor, o.pageSize ?? 100, ctx.signal);
      const { records: tickets, failures } = selectRecords(page.items, ticketSchema, 'thread', 'ticket');
      const skipped: NonNullable<StreamPage['skipped']> = tickets.filter((t) => t.status === 'deleted').map((t) => ({ recordType: 'thread', sourceId: String(t.id) }));
      const live = tickets.filter((t) => t.status !== 'deleted');
      const comments = await Promise.all(live.map((t) => limit(() => listComments(o.client, t.id, ctx.signal))));
      const threads: ThreadRecord[] = [];
      const entries: EntryRecord[] = [];
      live.forEach((ticket, i) => {
        const c = comments[i]!;
        // A ticket deleted between the export and its comments is skipped like any deleted ticket.
        if (c === 'gone') return void skipped.push({ recordType: 'thread', sourceId: String(ticket.id) });
        threads.push(mapTicket(ticket));
        failures.push(...c.failures);
        entries.push(...c.comments.map((comment) => mapComment(ticket.id, comment)));
      });
      const mentioned = [...threads.map((t) => t.customerSourceId), ...entries.flatMap((e) => (e.author.kind === 'person' ? [e.author.sourceId] : []))];
      const people = (await fetchUnknown(ctx, 'person', mentioned, SHOW_MANY_MAX, (ids) => showMany(o.client, ids, ctx))).map(mapUser);
      return { people, threads, entries, skipped, failures, cursor: page.cursor, done: page.done };
    },
  };
}

/** Every comment of one ticket, cursor-paged (`links.next`, else the after-cursor); 'gone' when the ticket no longer exists. */
async function listComments(client: ProviderClient, ticketId: number, signal: AbortSignal): Promise<{ comments: ZendeskComment[]; failures: RecordFailure[] } | 'gone'> {
  const comments: ZendeskComment[] = [];
  const failures: RecordFailure[] = [];
  const path = `/api/v2/tickets/${ticketId}/comments.json`;
  let next: string | null = `${path}?page[size]=${COMMENTS_PAGE_SIZE}`;
  while (next !== null) {
    const fetched: { page: z.infer<typeof commentsPageSchema>; status: number } | 'gone' = await fetchPage(client, { path: next, signal }, commentsPageSchema, `comments page of ticket ${ticketId}`).catch((err: unknown) => {
      if (err instanceof RecordError && err.reason === 'not_found') return 'gone' as const;
      throw err;
    });
    if (fetched === 'gone') return 'gone';
    const page: z.infer<typeof commentsPageSchema> = fetched.page;
    const status = fetched.status;
    const read = selectRecords(page.comments, commentSchema, 'entry', `comment on ticket ${ticketId}`);
    comments.push(...read.records);
    failures.push(...read.failures);
    const step = afterCursor({ after: page.meta.after_cursor, more: page.meta.has_more }, null, (detail) => pagingError('GET', path, status, `the comments of ticket ${ticketId}: ${detail}`));
    next = step.done ? null : (page.links?.next ?? `${path}?page[size]=${COMMENTS_PAGE_SIZE}&page[after]=${encodeURIComponent(step.cursor!)}`);
  }
  return { comments, failures };
}

/** Up to 100 users by id; ids Zendesk no longer knows (deleted users) are simply not in the answer. */
async function showMany(client: ProviderClient, ids: string[], ctx: StreamContext) {
  const known = ids.filter((id) => Number(id) !== ZENDESK_SYSTEM_AUTHOR);
  if (known.length === 0) return [];
  const { page } = await fetchPage(client, { path: '/api/v2/users/show_many.json', params: { ids: known.join(',') }, signal: ctx.signal }, usersListSchema, 'users list');
  // An unreadable person here surfaces as a ticket or comment that cannot be mapped.
  return selectRecords(page.users, userSchema, 'person', 'user').records;
}
