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
import { routeEmail, type Routed, type TokenLookup } from './route.ts';
import { emailFacts } from './email-facts.ts';
import type { NormalisedEmail } from './email.ts';
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

/**
 * The outcome of one email loaded (and locked) in `tx`, with its writes made in `tx`; the caller
 * records it. `refusal`: the domain refused its content on an earlier try.
 */
export async function decideClaimed(deps: InboundDeps, tx: WriteContext['db'], loaded: ClaimedInbound, options: { workspaceId?: string; refusal?: InputError } = {}): Promise<Outcome> {
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
  return decide(deps, tx, loaded, options.workspaceId);
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

/** A parsed and routed email, ready for its duplicate check and its writes; or its outcome already. */
export type Prepared = { outcome: Outcome } | { email: NormalisedEmail; route: Routed };

/** The advisory lock that serialises two deliveries of one Message-ID (another path, other bytes) in one workspace. */
export const messageIdLock = (workspaceId: string, messageId: string) => `inbound:${workspaceId}:${messageId}`;

/** Parses and routes one email (making its copies for other workspaces); no duplicate check yet. */
export async function prepareEmail(
  deps: InboundDeps,
  tx: WriteContext['db'],
  loaded: ClaimedInbound,
  options: { workspaceId?: string; lookup?: TokenLookup } = {},
): Promise<Prepared> {
  const { record, raw } = loaded;
  const forcedWorkspaceId = options.workspaceId ?? record.targetWorkspaceId ?? undefined;
  let email;
  try {
    email = await parseStoredEmail(record.source, raw, { receivedAt: record.receivedAt });
  } catch (err) {
    if (err instanceof UnparseableEmailError) return { outcome: { status: 'rejected', workspaceId: null, errorCode: 'unparseable_email', errorMessage: err.message } };
    throw err;
  }
  let route = await routeEmail(tx, email, deps.inboundDomain, forcedWorkspaceId, options.lookup);
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
    return { outcome: { status: 'unroutable', workspaceId: route.attributedTo?.id ?? null, messageId: email.messageId, errorCode: 'unroutable', errorMessage: route.reason } };
  }
  await forkFor(deps, tx, record.id, route.alsoFor);
  return { email, route };
}

async function decide(deps: InboundDeps, tx: WriteContext['db'], loaded: ClaimedInbound, forcedWorkspaceId?: string): Promise<Outcome> {
  const prepared = await prepareEmail(deps, tx, loaded, { workspaceId: forcedWorkspaceId });
  if ('outcome' in prepared) return prepared.outcome;
  const { email, route } = prepared;
  let earlier: string | null = null;
  if (email.messageId) {
    await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [messageIdLock(route.workspace.id, email.messageId)]);
    earlier = await findProcessedByMessageId(tx, route.workspace.id, email.messageId, loaded.record.id);
  }
  return writeEmail(deps, tx, loaded.record.id, prepared, earlier);
}

/**
 * The writes of one prepared email, whose Message-ID (if any) the caller has locked and looked up:
 * `earlier` is the email already processed with it (this one is then its duplicate).
 */
export async function writeEmail(deps: InboundDeps, tx: WriteContext['db'], id: string, prepared: { email: NormalisedEmail; route: Routed }, earlier: string | null): Promise<Outcome> {
  const { email, route } = prepared;
  const workspace = route.workspace;
  const ctx: WriteContext = { db: tx, workspaceId: workspace.id, origin: 'email' };
  const base = { workspaceId: workspace.id, messageId: email.messageId };
  if (earlier) return { ...base, status: 'duplicate', duplicateOf: earlier };

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
