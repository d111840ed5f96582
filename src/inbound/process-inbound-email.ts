import { setImmediate as yieldToIo } from 'node:timers/promises';
import type { PgBoss } from 'pg-boss';
import type { Pool } from '../db/pool.ts';
import { withTransaction } from '../db/pool.ts';
import { addAttachmentsToEntries } from '../domain/attachments.ts';
import { findOrCreateCustomersByEmail } from '../domain/customers.ts';
import { InputError } from '../domain/input-error.ts';
import type { WriteContext } from '../domain/origin.ts';
import { createThreads, setThreadStatus, type NewThread, type Thread } from '../domain/threads.ts';
import { addTimelineEntry, addTimelineEntryIds } from '../domain/timeline-entries.ts';
import { getWorkspace, type Workspace } from '../domain/workspaces.ts';
import { bodyText, detectAgentForward, entryReplyText, type AgentForward, type BodyText } from './agent-forward.ts';
import { DEFAULT_ATTACHMENT_LIMITS, judgeAttachments, type AttachmentLimits } from '../domain/attachment-rules.ts';
import { classifyEmail } from './classify.ts';
import { duplicateKey, findProcessedByMessageId, forkInbound, loadInboundForProcessing, makeDue, recordOutcome, type ClaimedInbound, type InboundStatus, type Outcome } from './ledger.ts';
import { originalSender } from './original-sender.ts';
import { parseStoredEmail, UnparseableEmailError } from './parse-stored.ts';
import { findOutboundEntry, loadKnownThreads, pickThread } from './resolve-thread.ts';
import { routeEmail, type Routed, type TokenLookup } from './route.ts';
import { emailFacts } from './email-facts.ts';
import type { EmailAddress, NormalisedEmail } from './email.ts';
import { newId } from '../domain/ids.ts';
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
  const earlier = new Map<string, string>();
  if (email.messageId) {
    await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [messageIdLock(route.workspace.id, email.messageId)]);
    const found = await findProcessedByMessageId(tx, route.workspace.id, email.messageId, loaded.record.id);
    if (found) earlier.set(duplicateKey(route.workspace.id, email.messageId), found);
  }
  return (await writeEmails(deps, tx, [{ id: loaded.record.id, email, route }], earlier))[0]!;
}

export type ToWrite = { id: string; email: NormalisedEmail; route: Routed };

/** One email's facts, decided before any write: it is processed into these. */
type Plan = ToWrite & {
  ctx: WriteContext;
  flags: Omit<ReturnType<typeof classifyEmail>, 'bouncedMessageIds'>;
  autoReply: boolean;
  body: BodyText;
  forward: AgentForward | null;
  author: EmailAddress;
};

/**
 * The writes of prepared emails, in order, as if one by one; their Message-IDs (if any) the caller
 * has locked and looked up: `earlier` maps duplicateKey to the email already processed with it
 * (a later one is its duplicate; this batch's processed ones are added). A workspace's customers,
 * threads and entries go in one statement each, whatever the number of emails: a batch costs a
 * handful of round trips rather than several per email.
 */
export async function writeEmails(deps: InboundDeps, tx: WriteContext['db'], items: ToWrite[], earlier: Map<string, string>): Promise<Outcome[]> {
  const outcomes: Array<Outcome | null> = [];
  const plans: Array<Plan & { index: number }> = [];
  for (const item of items) {
    const { email, route } = item;
    const ctx: WriteContext = { db: tx, workspaceId: route.workspace.id, origin: 'email' };
    const base = { workspaceId: route.workspace.id, messageId: email.messageId };
    const key = email.messageId ? duplicateKey(route.workspace.id, email.messageId) : null;
    const first = key ? earlier.get(key) : undefined;
    if (first) {
      outcomes.push({ ...base, status: 'duplicate', duplicateOf: first });
      continue;
    }
    const classification = classifyEmail(email);
    const { bouncedMessageIds, ...flags } = classification;
    if (classification.bounce) {
      const bounceOf = await findOutboundEntry(ctx, bouncedMessageIds);
      if (key) earlier.set(key, item.id);
      outcomes.push({ ...base, status: 'processed', classification: { ...flags, forwardedBy: null, bouncedMessageIds, ...emailFacts(email) }, bounceOfEntryId: bounceOf });
      continue;
    }
    const sender = originalSender(email);
    // A bare local part (MAILER-DAEMON) names the sender of a bounce, never a customer.
    if (!sender || !hasDomain(sender)) {
      outcomes.push({ ...base, status: 'rejected', errorCode: 'no_sender', errorMessage: 'the email has no usable From address (nor Reply-To, Sender or Return-Path)' });
      continue;
    }
    // Cut to what an entry stores before any per-character work (forward and reply detection).
    const body = await bodyText(email);
    const forward = await detectAgentForward(route.workspace, email, body, sender);
    // As in parsing (process-batch.ts): waiting requests go between two emails' work.
    await yieldToIo();
    if (key) earlier.set(key, item.id);
    plans.push({ ...item, index: outcomes.length, ctx, flags, autoReply: classification.autoReply, body, forward, author: forward ? forward.original.from : sender });
    outcomes.push(null);
  }

  const byWorkspace = new Map<string, typeof plans>();
  for (const plan of plans) byWorkspace.set(plan.ctx.workspaceId, [...(byWorkspace.get(plan.ctx.workspaceId) ?? []), plan]);
  for (const group of byWorkspace.values()) {
    for (const [i, outcome] of (await writeWorkspacePlans(deps, group)).entries()) outcomes[group[i]!.index] = outcome;
  }
  return outcomes.map((o) => o!);
}

/** The writes of one workspace's planned emails, in order: customers, then threads, then entries (one statement each), then each one's files and note. */
async function writeWorkspacePlans(deps: InboundDeps, plans: Plan[]): Promise<Outcome[]> {
  const ctx = plans[0]!.ctx;
  const customers = await findOrCreateCustomersByEmail(ctx, plans.map((p) => ({ email: p.author.address, fullName: p.author.name })));
  const known = await loadKnownThreads(ctx, plans.map((p) => ({ email: p.email, mailboxHash: p.route.mailboxHash })), deps.threadTokenKey);

  // Each email's thread as if written one by one: a reply to an earlier email of the batch finds the thread that one is in.
  const newThreads: NewThread[] = [];
  const threadIds: string[] = [];
  for (const [i, p] of plans.entries()) {
    const customer = customers[i]!.customer;
    let thread = pickThread(ctx.workspaceId, { email: p.email, mailboxHash: p.route.mailboxHash }, deps.threadTokenKey, known);
    if (thread) {
      // New activity reopens a thread (Plain's semantics); an auto-reply is not activity.
      if (thread.status !== 'TODO' && !p.autoReply) {
        await setThreadStatus(ctx, thread.id, 'TODO');
        thread.status = 'TODO';
      }
    } else {
      const id = newId('thread');
      newThreads.push({ id, customerId: customer.id, title: cleanSubject(p.forward?.original.subject ?? p.email.subject), channel: 'EMAIL' });
      thread = { id, status: 'TODO' } as Thread;
      known.threads.set(id, thread);
    }
    threadIds.push(thread.id);
    if (p.email.messageId && !known.byMessageId.has(p.email.messageId)) known.byMessageId.set(p.email.messageId, thread.id);
  }
  await createThreads(ctx, newThreads);

  const entryIds = await addTimelineEntryIds(
    ctx,
    plans.map((p, i) => ({
      threadId: threadIds[i]!,
      kind: 'inbound_email' as const,
      author: { type: 'customer' as const, customerId: customers[i]!.customer.id },
      text: p.forward ? p.forward.original.text : p.body.text,
      // A forward's text comes from the cut body: cut too when the body was.
      textSize: p.body.fullSize,
      html: p.forward ? p.forward.original.html : p.email.html,
      replyText: entryReplyText(p.email, p.body, p.forward),
      messageId: p.email.messageId,
      inReplyTo: p.email.inReplyTo[0] ?? null,
      references: p.email.references,
      supportAddress: p.route.supportAddress,
    })),
  );

  await addAttachmentsToEntries(
    ctx,
    plans.map((p, i) => {
      const attachments = p.forward ? p.forward.original.attachments : p.email.attachments;
      const decisions = judgeAttachments(attachments, deps.attachmentLimits ?? DEFAULT_ATTACHMENT_LIMITS);
      return {
        timelineEntryId: entryIds[i]!,
        files: attachments.map((a, j) => {
          const d = decisions[j]!;
          const common = { fileName: d.fileName, contentType: a.contentType, content: a.content, contentId: a.contentId, inline: a.inline };
          return d.status === 'accepted' ? { ...common, status: 'accepted' as const } : { ...common, status: 'rejected' as const, code: d.code };
        }),
      };
    }),
  );

  const outcomes: Outcome[] = [];
  for (const [i, p] of plans.entries()) {
    const entryId = entryIds[i]!;
    if (p.forward?.forwarderText) {
      await addTimelineEntry(ctx, {
        threadId: threadIds[i]!,
        kind: 'note',
        author: { type: 'user', name: p.forward.agent.name, email: p.forward.agent.address },
        text: p.forward.forwarderText,
      });
    }
    outcomes.push({
      workspaceId: ctx.workspaceId,
      messageId: p.email.messageId,
      status: 'processed',
      classification: { ...p.flags, forwardedBy: p.forward?.agent.address ?? null, ...emailFacts(p.email) },
      customerId: customers[i]!.customer.id,
      threadId: threadIds[i]!,
      timelineEntryId: entryId,
    });
  }
  return outcomes;
}
