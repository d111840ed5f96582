import { EVENT_TYPES, eventCte, recordEvent } from './events.ts';
import { newId } from './ids.ts';
import { clip, stripNul } from './text.ts';
import { assertImport, type ReadContext, type WriteContext } from './origin.ts';
import { prepared } from '../db/prepared.ts';

export const THREAD_STATUSES = Object.freeze(['TODO', 'SNOOZED', 'DONE'] as const);
export type ThreadStatus = (typeof THREAD_STATUSES)[number];
export const CHANNELS = Object.freeze(['EMAIL', 'API', 'CHAT', 'SLACK', 'MS_TEAMS', 'DISCORD'] as const);
export type Channel = (typeof CHANNELS)[number];

export type Thread = {
  id: string;
  customerId: string;
  title: string;
  status: ThreadStatus;
  channel: Channel;
  externalId: string | null;
  origin: string;
  statusChangedAt: Date;
  createdAt: Date;
  updatedAt: Date;
};

const COLUMNS = `id, customer_id AS "customerId", title, status, channel, external_id AS "externalId", origin,
                 status_changed_at AS "statusChangedAt", created_at AS "createdAt", updated_at AS "updatedAt"`;

const CREATE = prepared(
  'threads.create',
  `WITH created AS (
     INSERT INTO threads (id, workspace_id, customer_id, title, status, channel, external_id, origin, status_changed_at, created_at, updated_at)
     SELECT $1, $2, c.id, $4, $5, $6, $7, $8, $9, $9, $9 FROM customers c WHERE c.workspace_id = $2 AND c.id = $3
     RETURNING ${COLUMNS}),
   ${eventCte('created', 'thread', EVENT_TYPES.threadCreated, { id: '$10', workspace: '$2', origin: '$8' })}
   SELECT * FROM created`,
);

export async function createThread(
  ctx: WriteContext,
  input: { customerId: string; title: string; status?: ThreadStatus; channel: Channel; externalId?: string | null; createdAt?: Date },
): Promise<Thread> {
  const { rows } = await ctx.db.query<Thread>(CREATE, [newId('thread', input.createdAt?.getTime()), ctx.workspaceId, input.customerId, stripNul(input.title).trim() || '(no subject)', input.status ?? 'TODO', input.channel, stripNul(input.externalId) ?? null, ctx.origin, input.createdAt ?? new Date(), newId('event')],
  );
  if (!rows[0]) throw new Error(`customer ${input.customerId} is not in workspace ${ctx.workspaceId}`);
  return rows[0];
}

const SET_STATUS = prepared(
  'threads.set-status',
  `UPDATE threads t SET status = $3, status_changed_at = now(), updated_at = now()
     FROM (SELECT id, status AS previous FROM threads WHERE workspace_id = $1 AND id = $2 FOR UPDATE) old
    WHERE t.id = old.id AND old.previous <> $3
    RETURNING old.previous`,
);

/** Moves a thread to a status; returns the previous status, or null when it already had it. */
export async function setThreadStatus(ctx: WriteContext, threadId: string, status: ThreadStatus): Promise<ThreadStatus | null> {
  const { rows } = await ctx.db.query<{ previous: ThreadStatus }>(SET_STATUS, [ctx.workspaceId, threadId, status]);
  const previous = rows[0]?.previous ?? null;
  if (previous) await recordEvent(ctx, EVENT_TYPES.threadStatusTransitioned, { threadId, previousStatus: previous, status });
  return previous;
}

const GET = prepared('threads.get', `SELECT ${COLUMNS} FROM threads WHERE workspace_id = $1 AND id = $2`);

export async function getThread(ctx: ReadContext, id: string): Promise<Thread | null> {
  const { rows } = await ctx.db.query<Thread>(GET, [ctx.workspaceId, id]);
  return rows[0] ?? null;
}

export async function listThreads(
  ctx: ReadContext,
  filter: { customerId?: string | undefined; status?: ThreadStatus | undefined; after?: string | undefined; limit: number; order?: 'asc' | 'desc' },
): Promise<Thread[]> {
  const desc = filter.order === 'desc';
  const { rows } = await ctx.db.query<Thread>(
    `SELECT ${COLUMNS} FROM threads
      WHERE workspace_id = $1 AND ($2::text IS NULL OR customer_id = $2) AND ($3::text IS NULL OR status = $3)
        AND ($4::text IS NULL OR ${desc ? 'id < $4' : 'id > $4'})
      ORDER BY id ${desc ? 'DESC' : 'ASC'} LIMIT $5`,
    [ctx.workspaceId, filter.customerId ?? null, filter.status ?? null, filter.after ?? null, filter.limit],
  );
  return rows;
}

export type ImportedThread = { id: string; customerId: string; title: string; status: ThreadStatus; channel: Channel; createdAt: Date };

/** Imported threads in one statement, with the ids the caller chose (its ledger already names them). */
export async function importThreads(ctx: WriteContext, threads: ImportedThread[]): Promise<void> {
  assertImport(ctx);
  if (threads.length === 0) return;
  const rows = threads.map((t) => ({ ...t, title: clip(stripNul(t.title).trim(), 1000) || '(no subject)', createdAt: t.createdAt.toISOString() }));
  const { rowCount } = await ctx.db.query(
    `INSERT INTO threads (id, workspace_id, customer_id, title, status, channel, origin, status_changed_at, created_at, updated_at)
     SELECT x.id, $1, c.id, x.title, x.status, x.channel, 'import', x."createdAt", x."createdAt", x."createdAt"
       FROM jsonb_to_recordset($2) AS x(id text, "customerId" text, title text, status text, channel text, "createdAt" timestamptz)
       JOIN customers c ON c.workspace_id = $1 AND c.id = x."customerId"`,
    [ctx.workspaceId, JSON.stringify(rows)],
  );
  if (rowCount !== rows.length) throw new Error(`imported ${rowCount} of ${rows.length} threads: a customer is not in workspace ${ctx.workspaceId}`);
}
