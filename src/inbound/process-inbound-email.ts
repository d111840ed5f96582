import type { PgBoss } from 'pg-boss';
import type { Pool } from '../db/pool.ts';
import { withTransaction } from '../db/pool.ts';
import { addAttachments } from '../domain/attachments.ts';
import { findOrCreateCustomerByEmail } from '../domain/customers.ts';
import { InputError } from '../domain/input-error.ts';
import type { WriteContext } from '../domain/origin.ts';
import { createThread, setThreadStatus } from '../domain/threads.ts';
import { addTimelineEntry } from '../domain/timeline-entries.ts';
import { getWorkspace, type Workspace } from '../domain/workspaces.ts';
import { bodyText, detectAgentForward, entryReplyText } from './agent-forward.ts';
import { DEFAULT_ATTACHMENT_LIMITS, judgeAttachments, type AttachmentLimits } from '../domain/attachment-rules.ts';
import { classifyEmail } from './classify.ts';
import { findProcessedByMessageId, forkInbound, loadInboundForProcessing, makeDue, recordOutcome, type ClaimedInbound, type InboundStatus, type Outcome } from './ledger.ts';
import { originalSender } from './original-sender.ts';
import { parseStoredEmail, UnparseableEmailError } from './parse-stored.ts';
import { findOutboundEntry, findThreadForEmail } from './resolve-thread.ts';
import { routeEmail, type TokenLookup } from './route.ts';
import { emailFacts } from './email-facts.ts';
import { hasDomain } from './sender.ts';
import { cleanSubject } from './subject.ts';

export type InboundDeps = {
  pool: Pool;
  /** No longer used: copies for other workspaces are due at once and wake the workers themselves. */
  boss?: PgBoss;
  inboundDomain: string;
  threadTokenKey: Buffer;
  attachmentLimits?: AttachmentLimits;
};

/**
 * Turns one stored inbound email into customer, thread, timeline entry, attachments and events,
 * all in one transaction with its outcome. Idempotent: an email already past `received` (or
 * `failed`, which a replay resets) is left as it is.
 */
export async function processInboundEmail(deps: InboundDeps, id: string, options: { workspaceId?: string } = {}): Promise<InboundStatus | 'missing'> {
  const run = (refusal?: InputError) =>
    withTransaction(deps.pool, async (tx) => {
      const loaded = await loadInboundForProcessing(tx, id);
      if (!loaded) return 'missing';
      if (loaded.record.status !== 'received' && loaded.record.status !== 'failed') return loaded.record.status;
      const outcome = await decideClaimed(deps, tx, loaded, { ...options, refusal });
      await recordOutcome(tx, id, outcome);
      return outcome.status;
    });
  try {
    return await run();
  } catch (err) {
    // The domain refused the email's content (say, an unusable address): no retry can change
    // that, so it is rejected with the reason, visible and replayable, instead of retried.
    if (err instanceof InputError) return run(err);
    throw err;
  }
}

/** What the emails processed earlier in the same batch transaction tell the later ones. */
export type BatchMemo = {
  /** Workspaces by inbound token. */
  lookup: TokenLookup;
  /** `workspaceId Message-ID` -> the email processed with it in this batch: its outcome is not recorded yet. */
  processed: Map<string, string>;
};

export const processedKey = (workspaceId: string, messageId: string) => `${workspaceId} ${messageId}`;

/**
 * The outcome of one email loaded (and locked) in `tx`, with its writes made in `tx`; the caller
 * records it. `refusal`: the domain refused its content on an earlier try. `batch`: what a batch
 * knows (the caller adds each processed email to it).
 */
export async function decideClaimed(
  deps: InboundDeps,
  tx: WriteContext['db'],
  loaded: ClaimedInbound,
  options: { workspaceId?: string; refusal?: InputError; batch?: BatchMemo } = {},
): Promise<Outcome> {
  const { record, raw } = loaded;
  const refusal = options.refusal;
  if (refusal) {
    return {
      status: 'rejected',
      // Under its workspace, so the team sees it and can replay it.
      workspaceId: options.workspaceId ?? record.targetWorkspaceId ?? (await workspaceOf(deps, tx, record.id, record.source, raw)),
      errorCode: 'invalid_email',
      errorMessage: `${refusal.message}: ${refusal.fields.map((f) => `${f.field} ${f.message}`).join('; ')}`,
    };
  }
  return decide(deps, tx, record.id, record.source, raw, options.workspaceId ?? record.targetWorkspaceId ?? undefined, record.receivedAt, options.batch);
}

/** For a refused email: its workspace, and its copies for the other workspaces it names still made. */
async function workspaceOf(deps: InboundDeps, tx: WriteContext['db'], id: string, source: 'postmark' | 'mime', raw: Buffer): Promise<string | null> {
  const email = await parseStoredEmail(source, raw).catch(() => null);
  if (!email) return null;
  const route = await routeEmail(tx, email, deps.inboundDomain);
  if (!route.routed) return route.attributedTo?.id ?? null;
  await forkFor(deps, tx, id, route.alsoFor);
  return route.workspace.id;
}

/** Addressed to several workspaces: each other one gets its own copy, processed for it alone. */
async function forkFor(deps: InboundDeps, tx: WriteContext['db'], id: string, workspaces: Workspace[]): Promise<void> {
  if (workspaces.length === 0) return;
  const forks = await forkInbound(tx, id, workspaces.map((w) => w.id));
  // Due at once; the notification wakes the workers when this transaction commits.
  await makeDue(tx, forks);
}

async function decide(
  deps: InboundDeps,
  tx: WriteContext['db'],
  id: string,
  source: 'postmark' | 'mime',
  raw: Buffer,
  forcedWorkspaceId?: string,
  receivedAt?: Date,
  batch?: BatchMemo,
): Promise<Outcome> {
  let email;
  try {
    email = await parseStoredEmail(source, raw, { receivedAt });
  } catch (err) {
    if (err instanceof UnparseableEmailError) return { status: 'rejected', workspaceId: null, errorCode: 'unparseable_email', errorMessage: err.message };
    throw err;
  }
  let route = await routeEmail(tx, email, deps.inboundDomain, forcedWorkspaceId, batch?.lookup);
  if (forcedWorkspaceId) {
    // A copy for one workspace, or `intake ingest --workspace`: that workspace alone, no further copies.
    if (route.routed && route.workspace.id === forcedWorkspaceId) route = { ...route, alsoFor: [] };
    else {
      const workspace = await getWorkspace(tx, forcedWorkspaceId);
      if (!workspace) throw new Error(`workspace ${forcedWorkspaceId} does not exist`);
      route = { routed: true, workspace, matchedBy: 'inbound-address', supportAddress: workspace.supportAddress, mailboxHash: null, alsoFor: [] };
    }
  }
  if (!route.routed) {
    return { status: 'unroutable', workspaceId: route.attributedTo?.id ?? null, messageId: email.messageId, errorCode: 'unroutable', errorMessage: route.reason };
  }
  const workspace = route.workspace;
  await forkFor(deps, tx, id, route.alsoFor);
  const ctx: WriteContext = { db: tx, workspaceId: workspace.id, origin: 'email' };
  const base = { workspaceId: workspace.id, messageId: email.messageId };

  if (email.messageId) {
    // Serialises two deliveries of one Message-ID (another path, other bytes) in this workspace.
    await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`inbound:${workspace.id}:${email.messageId}`]);
    const earlier = (await findProcessedByMessageId(tx, workspace.id, email.messageId, id)) ?? batch?.processed.get(processedKey(workspace.id, email.messageId));
    if (earlier) return { ...base, status: 'duplicate', duplicateOf: earlier };
  }

  const classification = classifyEmail(email);
  const { bouncedMessageIds, ...flags } = classification;
  if (classification.bounce) {
    const bounceOf = await findOutboundEntry(ctx, bouncedMessageIds);
    return { ...base, status: 'processed', classification: { ...flags, forwardedBy: null, bouncedMessageIds, ...emailFacts(email) }, bounceOfEntryId: bounceOf };
  }

  const sender = originalSender(email);
  // A bare local part (MAILER-DAEMON) names the sender of a bounce, never a customer.
  if (!sender || !hasDomain(sender)) return { ...base, status: 'rejected', errorCode: 'no_sender', errorMessage: 'the email has no usable From address (nor Reply-To, Sender or Return-Path)' };
  // Cut to what an entry stores before any per-character work (forward and reply detection).
  const body = await bodyText(email);
  const forward = await detectAgentForward(workspace, email, body, sender);
  const author = forward ? forward.original.from : sender;
  const { customer } = await findOrCreateCustomerByEmail(ctx, { email: author.address, fullName: author.name });

  let thread = await findThreadForEmail(ctx, email, route.mailboxHash, deps.threadTokenKey);
  if (thread) {
    // New activity reopens a thread (Plain's semantics); an auto-reply is not activity.
    if (thread.status !== 'TODO' && !classification.autoReply) await setThreadStatus(ctx, thread.id, 'TODO');
  } else {
    const subject = forward?.original.subject ?? email.subject;
    thread = await createThread(ctx, { customerId: customer.id, title: cleanSubject(subject), channel: 'EMAIL' });
  }

  const entry = await addTimelineEntry(ctx, {
    threadId: thread.id,
    kind: 'inbound_email',
    author: { type: 'customer', customerId: customer.id },
    text: forward ? forward.original.text : body.text,
    // A forward's text comes from the cut body: cut too when the body was.
    textSize: body.fullSize,
    html: forward ? forward.original.html : email.html,
    replyText: entryReplyText(email, body, forward),
    messageId: email.messageId,
    inReplyTo: email.inReplyTo[0] ?? null,
    references: email.references,
    supportAddress: route.supportAddress,
  });
  const attachments = forward ? forward.original.attachments : email.attachments;
  const decisions = judgeAttachments(attachments, deps.attachmentLimits ?? DEFAULT_ATTACHMENT_LIMITS);
  await addAttachments(
    ctx,
    entry.id,
    attachments.map((a, i) => {
      const d = decisions[i]!;
      const common = { fileName: d.fileName, contentType: a.contentType, content: a.content, contentId: a.contentId, inline: a.inline };
      return d.status === 'accepted' ? { ...common, status: 'accepted' as const } : { ...common, status: 'rejected' as const, code: d.code };
    }),
  );
  if (forward?.forwarderText) {
    await addTimelineEntry(ctx, {
      threadId: thread.id,
      kind: 'note',
      author: { type: 'user', name: forward.agent.name, email: forward.agent.address },
      text: forward.forwarderText,
    });
  }
  return {
    ...base,
    status: 'processed',
    classification: { ...flags, forwardedBy: forward?.agent.address ?? null, ...emailFacts(email) },
    customerId: customer.id,
    threadId: thread.id,
    timelineEntryId: entry.id,
  };
}
