import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Queryable } from '../db/pool.ts';

/**
 * Console sessions (table console_sessions): a random token in an HttpOnly cookie, only its
 * sha256 stored; a per-session CSRF secret every POST must echo. The API key that opened the
 * session is never stored or shown again.
 */

export const SESSION_LIMITS = Object.freeze({
  /** A session ends this long after sign-in, however busy. */
  absoluteSeconds: 12 * 60 * 60,
  /** ... or after this long without a request. */
  idleSeconds: 2 * 60 * 60,
  /** last_seen_at is written at most this often (a page polls every second). */
  touchEverySeconds: 60,
});

export type ConsoleSession = { workspaceId: string; csrfToken: string; expiresAt: Date };

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

/** A new session for the workspace; answers the cookie token (shown to the browser only). */
export async function createSession(db: Queryable, workspaceId: string): Promise<{ token: string; session: ConsoleSession }> {
  const token = randomBytes(32).toString('base64url');
  const csrf = randomBytes(32).toString('base64url');
  // Sign-in is the natural moment to forget sessions that ended.
  await db.query('DELETE FROM console_sessions WHERE expires_at < now() OR last_seen_at < now() - make_interval(secs => $1)', [SESSION_LIMITS.idleSeconds]);
  const { rows } = await db.query<{ expiresAt: Date }>(
    `INSERT INTO console_sessions (token_sha256, workspace_id, csrf_secret, expires_at) VALUES ($1, $2, $3, now() + make_interval(secs => $4))
     RETURNING expires_at AS "expiresAt"`,
    [hash(token), workspaceId, csrf, SESSION_LIMITS.absoluteSeconds],
  );
  return { token, session: { workspaceId, csrfToken: csrf, expiresAt: rows[0]!.expiresAt } };
}

/** The live session a cookie token names, marking it seen; null when unknown, expired or idle too long. */
export async function findSession(db: Queryable, token: string): Promise<ConsoleSession | null> {
  if (token.length > 100) return null;
  const { rows } = await db.query<ConsoleSession & { stale: boolean }>(
    `SELECT workspace_id AS "workspaceId", csrf_secret AS "csrfToken", expires_at AS "expiresAt", last_seen_at < now() - make_interval(secs => $3) AS stale
       FROM console_sessions WHERE token_sha256 = $1 AND expires_at > now() AND last_seen_at > now() - make_interval(secs => $2)`,
    [hash(token), SESSION_LIMITS.idleSeconds, SESSION_LIMITS.touchEverySeconds],
  );
  const row = rows[0];
  if (!row) return null;
  // A page polls every second: a read, and a write only now and then.
  if (row.stale) await db.query('UPDATE console_sessions SET last_seen_at = now() WHERE token_sha256 = $1', [hash(token)]);
  return { workspaceId: row.workspaceId, csrfToken: row.csrfToken, expiresAt: row.expiresAt };
}

export async function deleteSession(db: Queryable, token: string): Promise<void> {
  await db.query('DELETE FROM console_sessions WHERE token_sha256 = $1', [hash(token)]);
}

/** Whether a submitted CSRF token is the session's, in constant time. */
export function csrfMatches(session: ConsoleSession, submitted: unknown): boolean {
  if (typeof submitted !== 'string' || submitted.length === 0) return false;
  const a = Buffer.from(hash(submitted));
  const b = Buffer.from(hash(session.csrfToken));
  return timingSafeEqual(a, b);
}
