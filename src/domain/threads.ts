import { EVENT_TYPES, recordEvent } from './events.ts';
import { newId } from './ids.ts';
import { clip, stripNul } from './text.ts';
import { assertImport, type ReadContext, type WriteContext } from './origin.ts';
import { prepared } from '../db/prepared.ts';
import { inGivenOrder } from './in-given-order.ts';

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

// Threads and their thread.thread_created events: one statement for any number of threads.
// The customers are found by primary key alone (fenced by OFFSET 0), the workspace checked after: on a
// young table (no statistics yet) the planner otherwise read all of them for every batch.
const CREATE = prepared(
  'threads.create',
  `WITH x AS (
     SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[], $9::text[])
       AS x(id, customer_id, title, status, channel, external_id, created_at, event_id)
   ), created AS (
     INSERT INTO threads (id, workspace_id, customer_id, title, status, channel, external_id, origin, status_changed_at, created_at, updated_at)
     SELECT x.id, $1, c.id, x.title, x.status, x.channel, x.external_id, $10, x.created_at, x.created_at, x.created_at
       FROM x JOIN (SELECT id, workspace_id FROM customers WHERE id = ANY ($3::text[]) OFFSET 0) c ON c.id = x.customer_id AND c.workspace_id = $1
     RETURNING ${COLUMNS}),
   created_event AS (
     INSERT INTO events (id, workspace_id, type, origin, payload)
     SELECT x.event_id, $1, '${EVENT_TYPES.threadCreated}', $10, jsonb_build_object('thread', to_jsonb(created))
       FROM created JOIN x ON x.id = created.id WHERE $10::text <> 'import')
   SELECT * FROM created`,
);

export type NewThread = { id?: string; customerId: string; title: string; status?: ThreadStatus; channel: Channel; externalId?: string | null; createdAt?: Date };

/** Several threads (of one workspace) in one statement, returned in the order given; `id` when the caller chose it (newId('thread')). */
export async function createThreads(ctx: WriteContext, inputs: NewThread[]): Promise<Thread[]> {
  if (inputs.length === 0) return [];
  const rows = inputs.map((input) => ({
    id: input.id ?? newId('thread', input.createdAt?.getTime()),
    customerId: input.customerId,
    title: stripNul(input.title).trim() || '(no subject)',
    status: input.status ?? 'TODO',
    channel: input.channel,
    externalId: stripNul(input.externalId) ?? null,
    createdAt: input.createdAt ?? new Date(),
    eventId: newId('event'),
  }));
  const col = <K extends keyof (typeof rows)[number]>(k: K) => rows.map((r) => r[k]);
  const { rows: threads } = await ctx.db.query<Thread>(CREATE, [
    ctx.workspaceId, col('id'), col('customerId'), col('title'), col('status'), col('channel'), col('externalId'), col('createdAt'), col('eventId'), ctx.origin,
  ]);
  return inGivenOrder(col('id'), threads, (i) => new Error(`customer ${rows[i]!.customerId} is not in workspace ${ctx.workspaceId}`));
}

export async function createThread(ctx: WriteContext, input: NewThread): Promise<Thread> {
  return (await createThreads(ctx, [input]))[0]!;
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

const GET_MANY = prepared('threads.get-many', `SELECT ${COLUMNS} FROM threads WHERE workspace_id = $1 AND id = ANY($2)`);

export async function getThreads(ctx: ReadContext, ids: string[]): Promise<Thread[]> {
  if (ids.length === 0) return [];
  const { rows } = await ctx.db.query<Thread>(GET_MANY, [ctx.workspaceId, ids]);
  return rows;
}

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
