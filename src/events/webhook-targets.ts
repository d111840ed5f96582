import type { Queryable } from '../db/pool.ts';
import { newId } from '../domain/ids.ts';
import { decryptSecret, encryptSecret } from '../secret-box.ts';
import { newSigningSecret } from './signing.ts';
import { LATEST_WEBHOOK_VERSION, type WebhookVersion } from './webhook-versions.ts';

export const MAX_WEBHOOK_TARGETS = 25;
/** New targets get the latest version, as Plain's do; a target keeps its version until changed. */
export const DEFAULT_WEBHOOK_VERSION: WebhookVersion = LATEST_WEBHOOK_VERSION;
// A rotated-out secret keeps signing beside the new one this long, so receivers can switch over.
const ROTATION_OVERLAP_HOURS = 24;

export type WebhookTarget = {
  id: string;
  workspaceId: string;
  url: string;
  eventTypes: string[];
  enabled: boolean;
  version: string;
  /** The URL's password, sealed apart from `url`; the URL itself never holds one. */
  hasUrlPassword: boolean;
  disabledReason: string | null;
  createdAt: Date;
  updatedAt: Date;
};

const COLUMNS = `id, workspace_id AS "workspaceId", url, event_types AS "eventTypes", enabled, version,
  url_password_encrypted IS NOT NULL AS "hasUrlPassword", disabled_reason AS "disabledReason", created_at AS "createdAt", updated_at AS "updatedAt"`;

export class TooManyTargetsError extends Error {}

/** A URL without its password, and the password (decoded) if it had one. */
export function splitUrlPassword(raw: string): { url: string; password: string | null } {
  const url = new URL(raw);
  if (!url.password) return { url: url.toString(), password: null };
  const password = decodeURIComponent(url.password);
  url.password = '';
  return { url: url.toString(), password };
}

/** Where to POST and the Basic credentials the URL carried (sent as a header, never in the URL). */
export function deliveryEndpoint(secretsKey: Buffer, target: { id: string; url: string; urlPasswordEncrypted: string | null }): { url: string; authorization: string | null } {
  const url = new URL(target.url);
  // A row stored before its password was sealed still carries it in the URL.
  const password = target.urlPasswordEncrypted ? decryptSecret(secretsKey, target.urlPasswordEncrypted, target.id) : decodeURIComponent(url.password);
  const user = decodeURIComponent(url.username);
  url.username = '';
  url.password = '';
  return { url: url.toString(), authorization: user || password ? `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` : null };
}

const sealedPassword = (secretsKey: Buffer, id: string, password: string | null) => (password === null ? null : encryptSecret(secretsKey, password, id));

/** Creates a target with a fresh Standard Webhooks secret; refuses the 26th of a workspace. */
export async function createWebhookTarget(
  tx: Queryable,
  secretsKey: Buffer,
  workspaceId: string,
  input: { url: string; eventTypes: string[]; enabled: boolean; version: string },
): Promise<{ target: WebhookTarget; signingSecret: string }> {
  // Serialises concurrent creates in one workspace so the cap holds.
  await tx.query('SELECT id FROM workspaces WHERE id = $1 FOR UPDATE', [workspaceId]);
  const { rows: count } = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_targets WHERE workspace_id = $1', [workspaceId]);
  if (count[0]!.n >= MAX_WEBHOOK_TARGETS) throw new TooManyTargetsError(`a workspace can have at most ${MAX_WEBHOOK_TARGETS} webhook targets`);
  const id = newId('webhookTarget');
  const signingSecret = newSigningSecret();
  const { url, password } = splitUrlPassword(input.url);
  const { rows } = await tx.query<WebhookTarget>(
    `INSERT INTO webhook_targets (id, workspace_id, url, url_password_encrypted, event_types, enabled, version, signing_secret_encrypted)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
    [id, workspaceId, url, sealedPassword(secretsKey, id, password), [...new Set(input.eventTypes)], input.enabled, input.version, encryptSecret(secretsKey, signingSecret, id)],
  );
  return { target: rows[0]!, signingSecret };
}

export async function listWebhookTargets(db: Queryable, workspaceId: string): Promise<WebhookTarget[]> {
  const { rows } = await db.query<WebhookTarget>(`SELECT ${COLUMNS} FROM webhook_targets WHERE workspace_id = $1 ORDER BY id`, [workspaceId]);
  return rows;
}

export async function getWebhookTarget(db: Queryable, workspaceId: string, id: string): Promise<WebhookTarget | null> {
  const { rows } = await db.query<WebhookTarget>(`SELECT ${COLUMNS} FROM webhook_targets WHERE workspace_id = $1 AND id = $2`, [workspaceId, id]);
  return rows[0] ?? null;
}

export async function updateWebhookTarget(
  db: Queryable,
  secretsKey: Buffer,
  workspaceId: string,
  id: string,
  patch: { url?: string | undefined; eventTypes?: string[] | undefined; enabled?: boolean | undefined; version?: string | undefined },
): Promise<WebhookTarget | null> {
  // A new URL replaces the password too (with none when it has none).
  const split = patch.url === undefined ? null : splitUrlPassword(patch.url);
  const { rows } = await db.query<WebhookTarget>(
    `UPDATE webhook_targets SET url = coalesce($3, url),
       url_password_encrypted = CASE WHEN $3::text IS NULL THEN url_password_encrypted ELSE $7 END,
       event_types = coalesce($4, event_types), enabled = coalesce($5, enabled),
       version = coalesce($6, version), disabled_reason = CASE WHEN $5 THEN NULL ELSE disabled_reason END, updated_at = now()
     WHERE workspace_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
    [workspaceId, id, split?.url ?? null, patch.eventTypes ? [...new Set(patch.eventTypes)] : null, patch.enabled ?? null, patch.version ?? null, sealedPassword(secretsKey, id, split?.password ?? null)],
  );
  return rows[0] ?? null;
}

/** Seals the URL passwords of targets stored before passwords were sealed; run once at start. */
export async function sealLegacyUrlPasswords(db: Queryable, secretsKey: Buffer): Promise<number> {
  const { rows } = await db.query<{ id: string; url: string }>(`SELECT id, url FROM webhook_targets WHERE url_password_encrypted IS NULL AND url ~ '^[a-z]+://[^/@]*:[^/@]*@'`);
  let sealed = 0;
  for (const row of rows) {
    const { url, password } = splitUrlPassword(row.url);
    if (password === null) continue;
    const { rowCount } = await db.query('UPDATE webhook_targets SET url = $2, url_password_encrypted = $3 WHERE id = $1 AND url = $4', [row.id, url, encryptSecret(secretsKey, password, row.id), row.url]);
    sealed += rowCount ?? 0;
  }
  return sealed;
}

export async function deleteWebhookTarget(db: Queryable, workspaceId: string, id: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM webhook_targets WHERE workspace_id = $1 AND id = $2', [workspaceId, id]);
  return rowCount === 1;
}

/** New secret; the previous one keeps signing for a day so receivers can switch without gaps. */
export async function rotateSigningSecret(db: Queryable, secretsKey: Buffer, workspaceId: string, id: string): Promise<string | null> {
  const secret = newSigningSecret();
  const { rowCount } = await db.query(
    `UPDATE webhook_targets SET previous_signing_secret_encrypted = signing_secret_encrypted,
       previous_secret_expires_at = now() + make_interval(hours => $4), signing_secret_encrypted = $3, updated_at = now()
     WHERE workspace_id = $1 AND id = $2`,
    [workspaceId, id, encryptSecret(secretsKey, secret, id), ROTATION_OVERLAP_HOURS],
  );
  return rowCount === 1 ? secret : null;
}

/** The secrets to sign with now: the current one, and the previous one while its overlap lasts. */
export async function signingSecrets(db: Queryable, secretsKey: Buffer, targetId: string): Promise<string[]> {
  const { rows } = await db.query<{ current: string; previous: string | null; previous_valid: boolean }>(
    `SELECT signing_secret_encrypted AS current, previous_signing_secret_encrypted AS previous,
            coalesce(previous_secret_expires_at > now(), false) AS previous_valid
       FROM webhook_targets WHERE id = $1`,
    [targetId],
  );
  const row = rows[0];
  if (!row) return [];
  const secrets = [decryptSecret(secretsKey, row.current, targetId)];
  if (row.previous && row.previous_valid) secrets.push(decryptSecret(secretsKey, row.previous, targetId));
  return secrets;
}

/** 410 Gone from a receiver: the target is disabled with the reason. */
export async function disableWebhookTarget(db: Queryable, targetId: string, reason: string): Promise<void> {
  await db.query('UPDATE webhook_targets SET enabled = false, disabled_reason = $2, updated_at = now() WHERE id = $1', [targetId, reason]);
}
