import { z } from 'zod';
import { PLAIN_ID } from '../domain/ids.ts';
import { AppError } from './errors.ts';

export const MAX_PAGE_SIZE = 100;

/** `?first=N&after=CURSOR`, as Plain's API pages. */
export const pageQuery = z.object({
  first: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(50),
  after: z.string().min(1).max(200).optional(),
});

/** `?order=asc|desc`: by creation (ids are time-ordered); a cursor continues in the same order. */
export const SORT_ORDERS = ['asc', 'desc'] as const;
export type SortOrder = (typeof SORT_ORDERS)[number];
export const orderQuery = (byDefault: SortOrder) => z.object({ order: z.enum(SORT_ORDERS).default(byDefault) });

export type PageInfo = { hasNextPage: boolean; endCursor: string | null };

// Cursors are opaque to clients; inside they carry the last id of the page, which must look like
// one of our ids: a forged cursor holding a NUL would otherwise reach Postgres (22021) as a 500.
export function encodeCursor(id: string): string {
  return Buffer.from(JSON.stringify({ id })).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  try {
    const { id } = z.object({ id: z.string().regex(PLAIN_ID) }).parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    return id;
  } catch {
    throw new AppError('input_validation', 'Invalid request query.', [{ field: 'query.after', message: 'is not a cursor from this API', type: 'VALIDATION' }]);
  }
}

/** Runs a query for one more row than asked, to know whether another page follows. */
export async function page<T extends { id: string }>(
  query: { first: number; after?: string | undefined },
  fetch: (after: string | undefined, limit: number) => Promise<T[]>,
): Promise<{ items: T[]; pageInfo: PageInfo }> {
  const rows = await fetch(decodeCursor(query.after), query.first + 1);
  const items = rows.slice(0, query.first);
  const last = items.at(-1);
  return { items, pageInfo: { hasNextPage: rows.length > query.first, endCursor: last ? encodeCursor(last.id) : null } };
}
