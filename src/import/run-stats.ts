import type { Queryable } from '../db/pool.ts';
import type { RunCounts } from './counts.ts';
import type { RunStatus } from './runs.ts';

/** Read-only views of import runs for the operator console: past runs, and throughput over time. */

export type PastRun = {
  id: string;
  kind: 'full' | 'incremental';
  status: RunStatus;
  counts: RunCounts;
  error: string | null;
  attempts: number;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  recordErrors: number;
};

/** A connection's runs, newest first, with how many record errors each left. */
export async function listRuns(db: Queryable, workspaceId: string, connectionId: string, limit: number): Promise<PastRun[]> {
  const { rows } = await db.query<PastRun>(
    `SELECT r.id, r.kind, r.status, r.counts, r.error, r.attempts, r.created_at AS "createdAt", r.started_at AS "startedAt", r.finished_at AS "finishedAt",
            (SELECT count(*)::int FROM import_record_errors e WHERE e.run_id = r.id) AS "recordErrors"
       FROM import_runs r WHERE r.workspace_id = $1 AND r.connection_id = $2 ORDER BY r.id DESC LIMIT $3`,
    [workspaceId, connectionId, limit],
  );
  return rows;
}

export type RunThroughput = { connectionId: string; provider: string; account: string; runId: string; startedAt: Date; records: number; seconds: number };

/**
 * Each run of the workspace started since `since`: records written (created, linked, skipped,
 * failed) over the seconds it has run so far (until now for a run under way).
 */
export async function runThroughput(db: Queryable, workspaceId: string, since: Date): Promise<RunThroughput[]> {
  const { rows } = await db.query<RunThroughput>(
    `SELECT r.connection_id AS "connectionId", c.provider, c.account, r.id AS "runId", r.started_at AS "startedAt",
            coalesce((SELECT sum((v->>'created')::bigint + (v->>'linked')::bigint + (v->>'skipped')::bigint + (v->>'failed')::bigint)
                        FROM jsonb_each(r.counts) AS s(k, v)), 0)::float8 AS records,
            greatest(extract(epoch FROM coalesce(r.finished_at, now()) - r.started_at), 0.001)::float8 AS seconds
       FROM import_runs r JOIN import_connections c ON c.id = r.connection_id AND c.workspace_id = r.workspace_id
      WHERE r.workspace_id = $1 AND r.started_at >= $2
      ORDER BY r.started_at`,
    [workspaceId, since],
  );
  return rows;
}
