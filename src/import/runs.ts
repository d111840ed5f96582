import type { Queryable } from '../db/pool.ts';
import { newId } from '../domain/ids.ts';
import { stripNul } from '../domain/text.ts';
import type { RunCounts } from './counts.ts';

export type RunStatus = 'queued' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'needs_reauth' | 'cancelled';
export const ACTIVE_RUN_STATUSES: readonly RunStatus[] = ['queued', 'running', 'waiting'];
export type StreamProgress = { pages: number; done: boolean };

export type ImportRun = {
  id: string;
  workspaceId: string;
  connectionId: string;
  kind: 'full' | 'incremental';
  status: RunStatus;
  counts: RunCounts;
  progress: Record<string, StreamProgress>;
  error: string | null;
  retryAt: Date | null;
  attempts: number;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
};

const COLUMNS = `id, workspace_id AS "workspaceId", connection_id AS "connectionId", kind, status, counts, progress, error,
                 retry_at AS "retryAt", attempts, created_at AS "createdAt", started_at AS "startedAt", finished_at AS "finishedAt"`;

/**
 * A new queued run, or null when the connection already has an active one (the partial unique
 * index makes that one check race-free across processes). Full until a full run has succeeded.
 */
export async function createRun(db: Queryable, connectionId: string): Promise<ImportRun | null> {
  const { rows } = await db.query<ImportRun>(
    `INSERT INTO import_runs (id, workspace_id, connection_id, kind, status)
     SELECT $1, c.workspace_id, c.id, CASE WHEN c.full_run_completed_at IS NULL THEN 'full' ELSE 'incremental' END, 'queued'
       FROM import_connections c WHERE c.id = $2 AND c.status = 'active'
     ON CONFLICT (connection_id) WHERE status IN ('queued', 'running', 'waiting') DO NOTHING
     RETURNING ${COLUMNS}`,
    [newId('importRun'), connectionId],
  );
  return rows[0] ?? null;
}

export async function activeRun(db: Queryable, connectionId: string): Promise<ImportRun | null> {
  const { rows } = await db.query<ImportRun>(`SELECT ${COLUMNS} FROM import_runs WHERE connection_id = $1 AND status IN ('queued', 'running', 'waiting')`, [connectionId]);
  return rows[0] ?? null;
}

export async function getRun(db: Queryable, workspaceId: string, id: string): Promise<ImportRun | null> {
  const { rows } = await db.query<ImportRun>(`SELECT ${COLUMNS} FROM import_runs WHERE workspace_id = $1 AND id = $2`, [workspaceId, id]);
  return rows[0] ?? null;
}

export async function latestRuns(db: Queryable, connectionIds: string[]): Promise<Map<string, ImportRun>> {
  const { rows } = await db.query<ImportRun>(
    `SELECT DISTINCT ON (connection_id) ${COLUMNS} FROM import_runs WHERE connection_id = ANY($1) ORDER BY connection_id, id DESC`,
    [connectionIds],
  );
  return new Map(rows.map((r) => [r.connectionId, r]));
}

/**
 * Takes the run for this worker: only an active run whose lease is free or expired (its worker
 * died). Answers null when another live worker holds it.
 */
export async function acquireLease(db: Queryable, runId: string, owner: string, leaseMs: number): Promise<ImportRun | null> {
  const { rows } = await db.query<ImportRun>(
    `UPDATE import_runs SET status = 'running', lease_owner = $2, lease_until = clock_timestamp() + make_interval(secs => $3::double precision / 1000),
            attempts = attempts + 1, started_at = coalesce(started_at, now()), retry_at = NULL
      WHERE id = $1 AND status IN ('queued', 'running', 'waiting') AND (lease_until IS NULL OR lease_until < clock_timestamp())
        AND (retry_at IS NULL OR retry_at <= clock_timestamp())
      RETURNING ${COLUMNS}`,
    [runId, owner, leaseMs],
  );
  return rows[0] ?? null;
}

export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
}

/** Extends the lease; throws when another worker took the run (this one was presumed dead). */
export async function renewLease(db: Queryable, runId: string, owner: string, leaseMs: number): Promise<void> {
  const { rowCount } = await db.query(
    `UPDATE import_runs SET lease_until = clock_timestamp() + make_interval(secs => $3::double precision / 1000) WHERE id = $1 AND lease_owner = $2 AND status = 'running'`,
    [runId, owner, leaseMs],
  );
  if (rowCount !== 1) throw new LeaseLostError(`run ${runId} is no longer held by ${owner}`);
}

/** A page's bookkeeping, in the page's transaction: counts, progress, the stream's cursor, the lease. */
export async function checkpoint(
  tx: Queryable,
  run: { id: string; workspaceId: string; connectionId: string },
  owner: string,
  leaseMs: number,
  page: { stream: string; cursor: unknown; counts: RunCounts; progress: Record<string, StreamProgress> },
): Promise<void> {
  const { rowCount } = await tx.query(
    `UPDATE import_runs SET counts = $3, progress = $4, lease_until = clock_timestamp() + make_interval(secs => $5::double precision / 1000)
      WHERE id = $1 AND lease_owner = $2 AND status = 'running'`,
    [run.id, owner, JSON.stringify(page.counts), JSON.stringify(page.progress), leaseMs],
  );
  if (rowCount !== 1) throw new LeaseLostError(`run ${run.id} is no longer held by ${owner}`);
  await tx.query(
    `INSERT INTO import_cursors (connection_id, stream, workspace_id, cursor, run_id) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (connection_id, stream) DO UPDATE SET cursor = excluded.cursor, run_id = excluded.run_id, updated_at = now()`,
    [run.connectionId, page.stream, run.workspaceId, JSON.stringify(page.cursor ?? null), run.id],
  );
}

export async function loadCursor(db: Queryable, connectionId: string, stream: string): Promise<unknown> {
  const { rows } = await db.query<{ cursor: unknown }>('SELECT cursor FROM import_cursors WHERE connection_id = $1 AND stream = $2', [connectionId, stream]);
  return rows[0]?.cursor ?? null;
}

/** Ends the run (held by `owner`) with a final status. */
export async function finishRun(db: Queryable, runId: string, owner: string, status: 'succeeded' | 'failed' | 'needs_reauth' | 'cancelled', error: string | null): Promise<void> {
  await db.query(
    `UPDATE import_runs SET status = $3, error = $4, finished_at = now(), lease_owner = NULL, lease_until = NULL
      WHERE id = $1 AND lease_owner = $2 AND status = 'running'`,
    [runId, owner, status, error === null ? null : stripNul(error)],
  );
}

/** Parks the run until `retryAt` (a rate limit, a provider outage): the lease is released, no worker waits. */
export async function parkRun(db: Queryable, runId: string, owner: string, retryAt: Date, error: string | null): Promise<void> {
  await db.query(
    `UPDATE import_runs SET status = 'waiting', retry_at = $3, error = $4, lease_owner = NULL, lease_until = NULL, enqueued_at = now()
      WHERE id = $1 AND lease_owner = $2 AND status = 'running'`,
    [runId, owner, retryAt, error === null ? null : stripNul(error)],
  );
}

/** Releases the lease of a run that continues in a new job (a time slice ended). */
export async function releaseLease(db: Queryable, runId: string, owner: string): Promise<void> {
  await db.query(`UPDATE import_runs SET lease_owner = NULL, lease_until = NULL, enqueued_at = now() WHERE id = $1 AND lease_owner = $2`, [runId, owner]);
}

export type RecordErrorRow = { stream: string; recordType: string; sourceId: string; reason: string; excerpt: string | null; createdAt: Date };

export async function listRecordErrors(db: Queryable, workspaceId: string, runId: string, limit: number): Promise<{ total: number; errors: RecordErrorRow[] }> {
  const [{ rows }, total] = await Promise.all([
    db.query<RecordErrorRow>(
      `SELECT stream, source_type AS "recordType", source_id AS "sourceId", reason, excerpt, created_at AS "createdAt"
         FROM import_record_errors WHERE workspace_id = $1 AND run_id = $2 ORDER BY id LIMIT $3`,
      [workspaceId, runId, limit],
    ),
    db.query<{ n: number }>('SELECT count(*)::int AS n FROM import_record_errors WHERE workspace_id = $1 AND run_id = $2', [workspaceId, runId]),
  ]);
  return { total: total.rows[0]!.n, errors: rows };
}

/**
 * Runs that need a job: active ones whose worker died (lease expired) or whose job was lost, and
 * waiting ones whose time has come, none enqueued in the last `graceMs`. Marks them enqueued.
 */
export async function claimOrphanedRuns(db: Queryable, graceMs: number): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `UPDATE import_runs SET enqueued_at = now()
      WHERE id IN (
        SELECT id FROM import_runs
         WHERE status IN ('queued', 'running', 'waiting')
           AND (lease_until IS NULL OR lease_until < now())
           AND (retry_at IS NULL OR retry_at <= now())
           AND coalesce(enqueued_at, created_at) < now() - make_interval(secs => $1::double precision / 1000)
         FOR UPDATE SKIP LOCKED)
      RETURNING id`,
    [graceMs],
  );
  return rows.map((r) => r.id);
}
