import { getThreads, type Thread } from '../domain/threads.ts';
import type { WriteContext } from '../domain/origin.ts';
import type { NormalisedEmail } from './email.ts';
import { readThreadToken } from '../domain/thread-token.ts';
import { prepared } from '../db/prepared.ts';

const THREADS_BY_MESSAGE_ID = prepared(
  'inbound.threads-by-message-id',
  `SELECT DISTINCT ON (message_id) message_id, thread_id FROM timeline_entries
    WHERE workspace_id = $1 AND message_id = ANY($2) ORDER BY message_id, created_at`,
);

/** What a batch's emails may continue: the earliest thread of each Message-ID they name, and those threads (and their tokens' threads) by id. */
export type KnownThreads = { byMessageId: Map<string, string>; threads: Map<string, Thread> };

type ThreadHints = { email: Pick<NormalisedEmail, 'inReplyTo' | 'references'>; mailboxHash: string | null };

/** In-Reply-To, then References newest first: the order an email's Message-IDs are followed in. */
const followed = (email: ThreadHints['email']) => [...new Set([...email.inReplyTo, ...[...email.references].reverse()])];

/** The threads any of these emails may continue, in two statements whatever their number. */
export async function loadKnownThreads(ctx: WriteContext, hints: ThreadHints[], tokenKey: Buffer): Promise<KnownThreads> {
  const ids = [...new Set(hints.flatMap((h) => followed(h.email)))];
  const byMessageId = new Map<string, string>();
  if (ids.length > 0) {
    const { rows } = await ctx.db.query<{ thread_id: string; message_id: string }>(THREADS_BY_MESSAGE_ID, [ctx.workspaceId, ids]);
    for (const r of rows) byMessageId.set(r.message_id, r.thread_id);
  }
  const tokenThreads = hints.flatMap((h) => (h.mailboxHash ? [readThreadToken(tokenKey, ctx.workspaceId, h.mailboxHash)] : [])).filter((id): id is string => id !== null);
  return { byMessageId, threads: new Map((await getThreads(ctx, [...new Set([...byMessageId.values(), ...tokenThreads])])).map((t) => [t.id, t])) };
}

/**
 * The existing thread an email continues: In-Reply-To, then References (newest first), against
 * Message-IDs stored in the workspace; then a signed thread token in our inbound address. A
 * guessed or foreign token matches nothing.
 */
export function pickThread(workspaceId: string, hints: ThreadHints, tokenKey: Buffer, known: KnownThreads): Thread | null {
  const threadId = followed(hints.email).map((id) => known.byMessageId.get(id)).find(Boolean);
  if (threadId) return known.threads.get(threadId) ?? null;
  const tokenThread = hints.mailboxHash ? readThreadToken(tokenKey, workspaceId, hints.mailboxHash) : null;
  return tokenThread ? (known.threads.get(tokenThread) ?? null) : null;
}

/** pickThread for one email, read from the database. */
export async function findThreadForEmail(
  ctx: WriteContext,
  email: Pick<NormalisedEmail, 'inReplyTo' | 'references'>,
  mailboxHash: string | null,
  tokenKey: Buffer,
): Promise<Thread | null> {
  const hints = { email, mailboxHash };
  return pickThread(ctx.workspaceId, hints, tokenKey, await loadKnownThreads(ctx, [hints], tokenKey));
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
