import type { Queryable } from '../db/pool.ts';

/** Who caused a write: live email, the API, or an import of history (which must stay silent). */
export const ORIGINS = Object.freeze(['email', 'api', 'import'] as const);
export type Origin = (typeof ORIGINS)[number];

/** Every domain write runs on a queryable (pool or transaction), in one workspace, for one origin. */
export type WriteContext = Readonly<{ db: Queryable; workspaceId: string; origin: Origin }>;
export type ReadContext = Readonly<{ db: Queryable; workspaceId: string }>;

/** Bulk writes skip the event outbox, so they are for imported history only. */
export function assertImport(ctx: WriteContext): void {
  if (ctx.origin !== 'import') throw new Error(`bulk writes are for imports only, not origin ${ctx.origin}`);
}
