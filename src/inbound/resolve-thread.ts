import { getThread, type Thread } from '../domain/threads.ts';
import type { WriteContext } from '../domain/origin.ts';
import type { NormalisedEmail } from './email.ts';
import { readThreadToken } from '../domain/thread-token.ts';
import { prepared } from '../db/prepared.ts';

const THREADS_BY_MESSAGE_ID = prepared(
  'inbound.threads-by-message-id',
  `SELECT DISTINCT ON (message_id) message_id, thread_id FROM timeline_entries
    WHERE workspace_id = $1 AND message_id = ANY($2) ORDER BY message_id, created_at`,
);

/**
 * The existing thread an email continues: In-Reply-To, then References (newest first), against
 * Message-IDs stored in the workspace; then a signed thread token in our inbound address. A
 * guessed or foreign token matches nothing.
 */
export async function findThreadForEmail(
  ctx: WriteContext,
  email: Pick<NormalisedEmail, 'inReplyTo' | 'references'>,
  mailboxHash: string | null,
  tokenKey: Buffer,
): Promise<Thread | null> {
  const ids = [...new Set([...email.inReplyTo, ...[...email.references].reverse()])];
  if (ids.length > 0) {
    const { rows } = await ctx.db.query<{ thread_id: string; message_id: string }>(THREADS_BY_MESSAGE_ID, [ctx.workspaceId, ids]);
    const byId = new Map(rows.map((r) => [r.message_id, r.thread_id]));
    const threadId = ids.map((id) => byId.get(id)).find(Boolean);
    if (threadId) return getThread(ctx, threadId);
  }
  if (mailboxHash) {
    const threadId = readThreadToken(tokenKey, ctx.workspaceId, mailboxHash);
    if (threadId) return getThread(ctx, threadId);
  }
  return null;
}

/** Our outbound entry whose Message-ID a bounce carries. */
export async function findOutboundEntry(ctx: WriteContext, messageIds: string[]): Promise<string | null> {
  if (messageIds.length === 0) return null;
  const { rows } = await ctx.db.query<{ id: string }>(
    `SELECT id FROM timeline_entries WHERE workspace_id = $1 AND kind = 'outbound_email' AND message_id = ANY($2) ORDER BY created_at LIMIT 1`,
    [ctx.workspaceId, messageIds],
  );
  return rows[0]?.id ?? null;
}
