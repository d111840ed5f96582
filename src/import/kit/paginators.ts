import { z } from 'zod';

/**
 * Paginators: how each provider says where the next page is and when a stream ends. Pure
 * functions from a page's paging facts to the next cursor; a page that breaks its paginator's
 * rules is reported through `broken` (the caller names method, path and status), never taken
 * for the end.
 */

export type Step<C> = { cursor: C; done: boolean };
type Broken = (detail: string) => Error;

/**
 * An opaque after-cursor with an end flag (Zendesk's incremental exports: `after_cursor` and
 * `end_of_stream`; cursor-paged lists: `meta.after_cursor` and `meta.has_more`). At the end the
 * last cursor is kept, so a later run continues from there.
 */
export function afterCursor(page: { after: string | null | undefined; more: boolean }, previous: string | null, broken: Broken): Step<string | null> {
  if (page.more && !page.after) throw broken('more pages announced without a cursor to them');
  return { cursor: page.after ?? previous, done: !page.more };
}

/** HAL page numbers (Help Scout: `page.number` of `page.totalPages`, from 1). */
export function pageNumbers(page: { number: number; totalPages: number }, broken: Broken): Step<number> {
  if (!Number.isInteger(page.number) || page.number < 1 && page.totalPages > 0) throw broken(`page number ${page.number} out of range`);
  return { cursor: page.number + 1, done: page.number >= page.totalPages };
}

/** A link to the next page, or none at the end (`links.next`, `_links.next.href`, HubSpot's `paging.next.after`). */
export function nextLink<C>(next: C | null | undefined): Step<C | null> {
  return next === null || next === undefined || next === '' ? { cursor: null, done: true } : { cursor: next, done: false };
}

/** Salesforce's query paging: `done` with `nextRecordsUrl`; not done without a URL is an error, never the end. */
export function nextRecordsUrl(page: { done: boolean; nextRecordsUrl?: string | null | undefined }, broken: Broken): Step<string | null> {
  if (!page.done && !page.nextRecordsUrl) throw broken('done is false but there is no nextRecordsUrl');
  return page.done ? { cursor: null, done: true } : { cursor: page.nextRecordsUrl!, done: false };
}

/**
 * A time window over a result set sorted by a timestamp, ascending, that the provider caps (HubSpot
 * search stops at 10,000 results a query). Pages follow `after` inside the window; when the cap is
 * near, or the set ends, the window moves to the last timestamp seen, remembering the ids already
 * seen at exactly that time so the next query (>= that time) skips them rather than repeating them.
 */
export const windowCursorSchema = z.object({ since: z.string(), after: z.string().nullable(), seenAtSince: z.array(z.string()) });
export type WindowCursor = z.infer<typeof windowCursorSchema>;

export function startWindow(since: string): WindowCursor {
  return { since, after: null, seenAtSince: [] };
}

/** The records of a window's page that an earlier window already returned. */
export function unseen<T>(cursor: WindowCursor, records: readonly T[], key: (r: T) => { id: string; at: string }): T[] {
  const seen = new Set(cursor.seenAtSince);
  return records.filter((r) => {
    const k = key(r);
    return !(k.at === cursor.since && seen.has(k.id));
  });
}

export function advanceWindow(
  cursor: WindowCursor,
  page: { records: ReadonlyArray<{ id: string; at: string }>; after: string | null | undefined; capReached: boolean },
  broken: Broken,
): Step<WindowCursor> {
  if (page.after && !page.capReached) return { cursor: { ...cursor, after: page.after }, done: false };
  const last = page.records.at(-1);
  if (!last) return { cursor: { ...cursor, after: null }, done: !page.after };
  const sameTime = page.records.filter((r) => r.at === last.at).map((r) => r.id);
  const seenAtSince = last.at === cursor.since ? [...new Set([...cursor.seenAtSince, ...sameTime])] : sameTime;
  const next: WindowCursor = { since: last.at, after: null, seenAtSince };
  // A whole capped window at one timestamp cannot move forward: say so rather than loop.
  if (page.after && last.at === cursor.since && seenAtSince.length === cursor.seenAtSince.length) {
    throw broken(`more than a capped result set of records share the time ${last.at}`);
  }
  return { cursor: next, done: !page.after };
}
