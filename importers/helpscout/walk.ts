import { z } from 'zod';

/**
 * Where a Help Scout list stands. A walk reads a list's pages by number, newest change first
 * (`sortField=modifiedAt&sortOrder=desc`), from `modifiedSince` (nothing on the first walk). A
 * record changed during the walk moves to page 1: the pages after it shift one record later, so
 * the walk meets a record twice (the ledger skips it) rather than missing one, as it would walking
 * oldest first. The next walk starts from when this one began, less an overlap for Help Scout's
 * search index catching up, so what changed during a walk is read by the next one.
 */

/** How far before a walk's start the next walk looks: Help Scout's list is a search index that may lag. */
export const WALK_OVERLAP_MS = 5 * 60_000;

export const walkSchema = z
  .object({
    /** `modifiedSince` of this walk; null reads everything. */
    since: z.iso.datetime().nullable(),
    startedAt: z.iso.datetime(),
    /** Conversations: the mailboxes still to walk, the current one first. */
    mailboxes: z.array(z.number().int()).optional(),
    page: z.number().int().min(1),
  })
  .strict();
export type Walk = z.infer<typeof walkSchema>;

/** Between walks: where the next one starts. */
export const idleSchema = z.object({ since: z.iso.datetime().nullable() }).strict();

export const listCursorSchema = z.union([walkSchema, idleSchema]);
export type ListCursor = z.infer<typeof listCursorSchema>;

export function isWalk(cursor: ListCursor | null): cursor is Walk {
  return cursor !== null && 'page' in cursor;
}

/** A new walk from where the last one left the stream. */
export function beginWalk(cursor: ListCursor | null, now = new Date()): Walk {
  return { since: cursor?.since ?? null, startedAt: now.toISOString(), page: 1 };
}

/** After a walk's last page: the next walk reads what changed since this one began. */
export function endWalk(walk: Walk): ListCursor {
  return { since: new Date(Date.parse(walk.startedAt) - WALK_OVERLAP_MS).toISOString() };
}

/** Help Scout's date-time format (no fractions of a second). */
export function helpScoutTime(iso: string): string {
  return `${iso.slice(0, 19)}Z`;
}

/**
 * The page facts to page on: the number asked for, not the one answered (an empty answer says
 * page 0), with the answer's `totalPages`.
 */
export function asked(requested: number, page: { totalPages: number }): { number: number; totalPages: number } {
  return { number: requested, totalPages: page.totalPages };
}

/** A list request's query: the walk's page, newest change first. */
export function walkParams(walk: Walk): Record<string, string | number> {
  return { page: walk.page, sortField: 'modifiedAt', sortOrder: 'desc', ...(walk.since ? { modifiedSince: helpScoutTime(walk.since) } : {}) };
}
