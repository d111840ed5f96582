import type { Queryable } from '../db/pool.ts';
import { newId } from '../domain/ids.ts';
import { stripNul } from '../domain/text.ts';
import { refuseOutboundUrl } from '../net/address-guard.ts';
import { decryptSecret, encryptSecret } from '../secret-box.ts';

/** A workspace's link to one provider account. Credentials are sealed with SECRETS_KEY, the connection id as associated data. */
export type ConnectionStatus = 'active' | 'needs_reauth' | 'disconnected';

export type ImportConnection = {
  id: string;
  workspaceId: string;
  provider: string;
  account: string;
  settings: Record<string, unknown>;
  scheduleSeconds: number;
  status: ConnectionStatus;
  lastError: string | null;
  fullRunCompletedAt: Date | null;
  nextRunAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
};

const COLUMNS = `id, workspace_id AS "workspaceId", provider, account, settings, schedule_seconds AS "scheduleSeconds", status,
                 last_error AS "lastError", full_run_completed_at AS "fullRunCompletedAt", next_run_at AS "nextRunAt",
                 created_at AS "createdAt", updated_at AS "updatedAt"`;

export class ConnectionExistsError extends Error {
  override name = 'ConnectionExistsError';
  readonly existingId: string;
  constructor(existingId: string) {
    super(`this workspace already has a live connection to that account (${existingId})`);
    this.existingId = existingId;
  }
}

export async function createConnection(
  db: Queryable,
  secretsKey: Buffer,
  input: { workspaceId: string; provider: string; account: string; credentials: unknown; settings: Record<string, unknown>; scheduleSeconds: number },
): Promise<ImportConnection> {
  const id = newId('importConnection');
  const { rows } = await db.query<ImportConnection>(
    `INSERT INTO import_connections (id, workspace_id, provider, account, credentials_encrypted, settings, schedule_seconds)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (workspace_id, provider, account) WHERE status <> 'disconnected' DO NOTHING
     RETURNING ${COLUMNS}`,
    [id, input.workspaceId, input.provider, input.account, encryptSecret(secretsKey, JSON.stringify(input.credentials), id), JSON.stringify(input.settings), input.scheduleSeconds],
  );
  if (rows[0]) return rows[0];
  const existing = await findLiveConnection(db, input.workspaceId, input.provider, input.account);
  throw new ConnectionExistsError(existing?.id ?? '(unknown)');
}

export async function findLiveConnection(db: Queryable, workspaceId: string, provider: string, account: string): Promise<ImportConnection | null> {
  const { rows } = await db.query<ImportConnection>(
    `SELECT ${COLUMNS} FROM import_connections WHERE workspace_id = $1 AND provider = $2 AND account = $3 AND status <> 'disconnected'`,
    [workspaceId, provider, account],
  );
  return rows[0] ?? null;
}

export async function getConnection(db: Queryable, workspaceId: string, id: string): Promise<ImportConnection | null> {
  const { rows } = await db.query<ImportConnection>(`SELECT ${COLUMNS} FROM import_connections WHERE workspace_id = $1 AND id = $2`, [workspaceId, id]);
  return rows[0] ?? null;
}

/** The connection a run belongs to, with its credentials opened; for the executor only. */
export async function openConnection(db: Queryable, secretsKey: Buffer, id: string): Promise<{ connection: ImportConnection; credentials: unknown } | null> {
  const { rows } = await db.query<ImportConnection & { sealed: string }>(`SELECT ${COLUMNS}, credentials_encrypted AS sealed FROM import_connections WHERE id = $1`, [id]);
  const row = rows[0];
  if (!row) return null;
  const { sealed, ...connection } = row;
  return { connection, credentials: JSON.parse(decryptSecret(secretsKey, sealed, id)) as unknown };
}

export async function listConnections(db: Queryable, workspaceId: string, page: { after?: string | undefined; limit: number }): Promise<ImportConnection[]> {
  const { rows } = await db.query<ImportConnection>(
    `SELECT ${COLUMNS} FROM import_connections WHERE workspace_id = $1 AND ($2::text IS NULL OR id > $2) ORDER BY id LIMIT $3`,
    [workspaceId, page.after ?? null, page.limit],
  );
  return rows;
}

/** Every connection, of one workspace or of all (the operator's `intake import status`). */
export async function listAllConnections(db: Queryable, workspaceId: string | null): Promise<ImportConnection[]> {
  const { rows } = await db.query<ImportConnection>(
    `SELECT ${COLUMNS} FROM import_connections WHERE ($1::text IS NULL OR workspace_id = $1) ORDER BY workspace_id, id`,
    [workspaceId],
  );
  return rows;
}

/** New credentials (re-authorisation): the connection becomes active again. */
export async function replaceCredentials(db: Queryable, secretsKey: Buffer, id: string, credentials: unknown): Promise<void> {
  await db.query(
    `UPDATE import_connections SET credentials_encrypted = $2, status = 'active', last_error = NULL, next_run_at = coalesce(next_run_at, now()), updated_at = now()
      WHERE id = $1 AND status <> 'disconnected'`,
    [id, encryptSecret(secretsKey, JSON.stringify(credentials), id)],
  );
}

/** Credentials a refresh rotated (a new access or refresh token): kept sealed; the status stays as it is. */
export async function saveRotatedCredentials(db: Queryable, secretsKey: Buffer, id: string, credentials: unknown): Promise<void> {
  await db.query(`UPDATE import_connections SET credentials_encrypted = $2, updated_at = now() WHERE id = $1 AND status <> 'disconnected'`, [
    id,
    encryptSecret(secretsKey, JSON.stringify(credentials), id),
  ]);
}

/** No more runs; the imported data stays. Answers false when there is no such connection. */
export async function disconnectConnection(db: Queryable, workspaceId: string, id: string): Promise<ImportConnection | null> {
  const { rows } = await db.query<ImportConnection>(
    `WITH c AS (
       UPDATE import_connections SET status = 'disconnected', next_run_at = NULL, updated_at = now()
        WHERE workspace_id = $1 AND id = $2 RETURNING ${COLUMNS}),
     cancelled AS (
       UPDATE import_runs SET status = 'cancelled', finished_at = now(), error = 'the connection was disconnected', lease_owner = NULL, lease_until = NULL
        WHERE connection_id = (SELECT id FROM c) AND status IN ('queued', 'running', 'waiting'))
     SELECT * FROM c`,
    [workspaceId, id],
  );
  return rows[0] ?? null;
}

export async function markNeedsReauth(db: Queryable, id: string, message: string): Promise<void> {
  await db.query(`UPDATE import_connections SET status = 'needs_reauth', last_error = $2, updated_at = now() WHERE id = $1 AND status = 'active'`, [id, stripNul(message)]);
}

/** After a run ends: the next scheduled run is one schedule away; a successful full run opens incremental runs. */
export async function afterRun(db: Queryable, id: string, outcome: { succeeded: boolean; fullRun: boolean; error: string | null }): Promise<void> {
  await db.query(
    `UPDATE import_connections
        SET full_run_completed_at = CASE WHEN $2 AND $3 THEN coalesce(full_run_completed_at, now()) ELSE full_run_completed_at END,
            next_run_at = CASE WHEN status = 'active' THEN now() + make_interval(secs => schedule_seconds) ELSE NULL END,
            last_error = $4, updated_at = now()
      WHERE id = $1`,
    [id, outcome.succeeded, outcome.fullRun, outcome.error === null ? null : stripNul(outcome.error)],
  );
}

/** A connection by its id alone, for the operator's CLI (`intake import run|disconnect <id>`), which works across workspaces. */
export async function getConnectionById(db: Queryable, id: string): Promise<ImportConnection | null> {
  const { rows } = await db.query<ImportConnection>(`SELECT ${COLUMNS} FROM import_connections WHERE id = $1`, [id]);
  return rows[0] ?? null;
}

/** Active connections whose next scheduled run is due and which have no run under way. */
export async function dueConnectionIds(db: Queryable, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM import_connections c
      WHERE status = 'active' AND next_run_at <= now()
        AND NOT EXISTS (SELECT 1 FROM import_runs r WHERE r.connection_id = c.id AND r.status IN ('queued', 'running', 'waiting'))
      ORDER BY next_run_at LIMIT $1`,
    [limit],
  );
  return rows.map((r) => r.id);
}

/**
 * A connection whose base URL is local (the CLI may connect the demo's fake provider or a sandbox)
 * cannot run in a service that refuses private addresses. Instead of staying `active` and failing
 * every schedule, it is set to `needs_reauth` (the existing status that stops scheduling and is
 * shown with its reason) saying what the operator can do. A host that does not resolve right now
 * is left alone: that is an outage, not a setting.
 */
export async function holdIfLocalBaseUrl(db: Queryable, runId: string): Promise<boolean> {
  const { rows } = await db.query<{ id: string; baseUrl: string | null }>(
    `SELECT c.id, c.settings->>'baseUrl' AS "baseUrl" FROM import_runs r JOIN import_connections c ON c.id = r.connection_id
      WHERE r.id = $1 AND c.status = 'active'`,
    [runId],
  );
  const row = rows[0];
  if (!row?.baseUrl) return false;
  const refused = await refuseOutboundUrl(row.baseUrl, false);
  if (!refused || refused.startsWith('the host ')) return false;
  await markNeedsReauth(
    db,
    row.id,
    `the base URL ${row.baseUrl} ${refused}: intake start runs connections to local addresses only with IMPORT_ALLOW_PRIVATE=1 (set it, restart, and connect again), or run \`intake import connect ... --once\``,
  );
  return true;
}
