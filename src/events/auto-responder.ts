import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import nodemailer, { type SendMailOptions, type Transport, type Transporter } from 'nodemailer';
import StreamTransport, { type StreamSentMessageInfo } from 'nodemailer/lib/stream-transport';
import { withTransaction, type Pool, type TransactionClient } from '../db/pool.ts';
import { isWorkspacePerson } from '../domain/workspaces.ts';
import { newId } from '../domain/ids.ts';
import { addTimelineEntry } from '../domain/timeline-entries.ts';
import { makeThreadToken } from '../domain/thread-token.ts';
import { firstEnabledAutoResponse } from './auto-responses.ts';

export type AutoResponderDeps = { pool: Pool; transport: Transporter; inboundDomain: string; threadTokenKey: Buffer; perCustomerWindowSeconds: number };
export type AutoResponseJob = { workspaceId: string; threadId: string; entryId: string };

export const DEFAULT_PER_CUSTOMER_WINDOW_SECONDS = 24 * 60 * 60;

export type SkipReason =
  | 'thread not found'
  | 'not an inbound email'
  | 'thread is done'
  | 'already sent'
  | 'thread has an outbound entry'
  | 'auto-reply'
  | 'bounce'
  | 'bulk'
  | 'agent forward'
  | 'customer has no email'
  | 'own address'
  | 'no-reply sender'
  | 'no auto-response'
  | 'recently auto-responded';
export type AutoResponseOutcome = 'sent' | `skipped: ${SkipReason}`;

/** Local parts of senders nobody reads (`noreply`, `No-Reply+x`, `bounces-123`, `notifications`). */
const NO_REPLY = /^(?:no[-_.]?reply|do[-_.]?not[-_.]?reply|mailer[-_.]?daemon|postmaster|bounces?|notifications?)(?:[-_.+].*)?$/i;

export function isNoReplySender(email: string): boolean {
  return NO_REPLY.test(email.slice(0, email.lastIndexOf('@')));
}

type Facts = {
  status: string;
  channel: string;
  title: string;
  customer_id: string;
  customer_email: string | null;
  customer_name: string;
  workspace_name: string;
  support_address: string | null;
  alternate_addresses: string[];
  forwarder_addresses: string[];
  inbound_token: string;
  kind: string | null;
  origin: string | null;
  message_id: string | null;
  references: string[] | null;
  entry_support_address: string | null;
};

/** Addresses that are the workspace itself: answering them would talk to ourselves. */
function isOwnAddress(email: string, f: Facts, inboundDomain: string): boolean {
  const own = [f.support_address, f.entry_support_address, ...f.alternate_addresses, ...f.forwarder_addresses];
  if (own.some((a) => a?.toLowerCase() === email)) return true;
  if (email.endsWith(`@${inboundDomain.toLowerCase()}`)) return true;
  return isWorkspacePerson({ supportAddress: f.support_address, forwarderAddresses: f.forwarder_addresses }, email);
}

const bare = (id: string) => id.trim().replace(/^<|>$/g, '');
const bracket = (id: string) => `<${bare(id)}>`;

type Plan = { sendId: string; messageId: string; mail: SendMailOptions; entry: { text: string; html: string | null; inReplyTo: string | null; references: string[]; supportAddress: string } };

/**
 * Checks every rule and, when all pass, reserves the send: a committed auto_response_sends row
 * (UNIQUE thread_id) carrying the Message-ID we are about to use.
 */
async function reserve(tx: TransactionClient, deps: AutoResponderDeps, job: AutoResponseJob): Promise<Plan | SkipReason> {
  const { rows } = await tx.query<Facts>(
    `SELECT t.status, t.channel, t.title, t.customer_id, c.email AS customer_email, c.full_name AS customer_name,
            w.name AS workspace_name, w.support_address, w.alternate_addresses, w.forwarder_addresses, w.inbound_token,
            e.kind, e.origin, e.message_id, e."references", e.support_address AS entry_support_address
       FROM threads t JOIN customers c ON c.id = t.customer_id JOIN workspaces w ON w.id = t.workspace_id
       LEFT JOIN timeline_entries e ON e.id = $3 AND e.thread_id = t.id
      WHERE t.workspace_id = $1 AND t.id = $2`,
    [job.workspaceId, job.threadId, job.entryId],
  );
  const f = rows[0];
  if (!f) return 'thread not found';
  // Only a customer's live message: their email, or the first message of a thread the API opened
  // on its own channel (a contact form). Imported entries and other API writes never trigger one.
  const channel = f.kind === 'inbound_email' && f.origin === 'email' ? 'EMAIL' : f.kind === 'inbound_message' && f.origin === 'api' && f.channel === 'API' ? 'API' : null;
  if (!channel) return 'not an inbound email';
  if (f.status === 'DONE') return 'thread is done';
  const prior = await tx.query(
    `SELECT (SELECT count(*) FROM auto_response_sends WHERE thread_id = $2)::int AS sends,
            (SELECT count(*) FROM timeline_entries WHERE workspace_id = $1 AND thread_id = $2 AND kind IN ('outbound_email', 'outbound_message'))::int AS outbound`,
    [job.workspaceId, job.threadId],
  );
  if (prior.rows[0].sends > 0) return 'already sent';
  if (prior.rows[0].outbound > 0) return 'thread has an outbound entry';

  const ledger = await tx.query<{ classification: Record<string, unknown> | null }>('SELECT classification FROM inbound_emails WHERE timeline_entry_id = $1', [job.entryId]);
  for (const { classification: c } of ledger.rows) {
    if (c?.bounce === true) return 'bounce';
    if (c?.autoReply === true) return 'auto-reply';
    if (c?.bulk === true) return 'bulk';
    if (typeof c?.forwardedBy === 'string') return 'agent forward';
  }

  const email = f.customer_email?.toLowerCase();
  if (!email) return 'customer has no email';
  if (isOwnAddress(email, f, deps.inboundDomain)) return 'own address';
  if (isNoReplySender(email)) return 'no-reply sender';
  const response = await firstEnabledAutoResponse({ db: tx, workspaceId: job.workspaceId }, channel);
  if (!response) return 'no auto-response';

  // One customer's jobs take turns here, so two new threads at once still get one auto-response.
  await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`auto-response:${job.workspaceId}:${f.customer_id}`]);
  if (deps.perCustomerWindowSeconds > 0) {
    const recent = await tx.query(
      `SELECT 1 FROM auto_response_sends WHERE workspace_id = $1 AND customer_id = $2 AND sent_at > now() - make_interval(secs => $3) LIMIT 1`,
      [job.workspaceId, f.customer_id, deps.perCustomerWindowSeconds],
    );
    if (recent.rowCount) return 'recently auto-responded';
  }

  const from = f.entry_support_address ?? f.support_address ?? `${f.inbound_token}@${deps.inboundDomain}`;
  const sendId = newId('autoResponseSend');
  const messageId = `ar-${sendId.slice(sendId.indexOf('_') + 1)}@${from.slice(from.lastIndexOf('@') + 1)}`;
  const inserted = await tx.query(
    `INSERT INTO auto_response_sends (id, workspace_id, thread_id, customer_id, message_id)
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (thread_id) DO NOTHING`,
    [sendId, job.workspaceId, job.threadId, f.customer_id, messageId],
  );
  if (!inserted.rowCount) return 'already sent';

  const inReplyTo = f.message_id ? bare(f.message_id) : null;
  const references = [...new Set([...(f.references ?? []).map(bare), ...(inReplyTo ? [inReplyTo] : [])])];
  const replyTo = `${f.inbound_token}+${makeThreadToken(deps.threadTokenKey, job.workspaceId, job.threadId)}@${deps.inboundDomain}`;
  const mail: SendMailOptions = {
    from: { name: f.workspace_name, address: from },
    to: { name: f.customer_name, address: email },
    replyTo,
    subject: `Re: ${f.title}`,
    messageId: bracket(messageId),
    ...(inReplyTo ? { inReplyTo: bracket(inReplyTo) } : {}),
    ...(references.length ? { references: references.map(bracket) } : {}),
    headers: { 'Auto-Submitted': 'auto-replied', 'X-Auto-Response-Suppress': 'All' },
    text: response.messageText,
    ...(response.messageHtml ? { html: response.messageHtml } : {}),
  };
  return { sendId, messageId, mail, entry: { text: response.messageText, html: response.messageHtml, inReplyTo, references, supportAddress: from } };
}

/** Failures where the server certainly did not take the message, so sending again cannot duplicate it. */
const NOT_SENT_CODES = new Set(['EAUTH', 'ENOAUTH', 'EOAUTH2', 'EDNS', 'EENVELOPE', 'EMESSAGE', 'ECONFIG', 'ETLS', 'EREQUIRETLS', 'EOUTBOX']);
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

function certainlyNotSent(err: unknown): boolean {
  const e = err as { code?: unknown; originalCode?: unknown; responseCode?: unknown } | null;
  if (typeof e?.responseCode === 'number' && e.responseCode >= 400) return true;
  return NOT_SENT_CODES.has(String(e?.code)) || UNREACHABLE.has(String(e?.originalCode));
}

/**
 * Sends the one auto-response a new email thread gets, once its delay has passed. At most once
 * per thread, even across crashes: the send is reserved (committed) before SMTP is called, then
 * the outbound entry is recorded with it. A crash between SMTP and recording leaves the
 * reservation without an entry; a retry finds it and sends nothing, so an auto-response can be
 * lost (never doubled). A send the server certainly refused releases the reservation and
 * rethrows, so the job's retry tries again.
 */
export async function sendAutoResponse(deps: AutoResponderDeps, job: AutoResponseJob): Promise<AutoResponseOutcome> {
  const plan = await withTransaction(deps.pool, (tx) => reserve(tx, deps, job));
  if (typeof plan === 'string') return `skipped: ${plan}`;
  try {
    await deps.transport.sendMail(plan.mail);
  } catch (err) {
    if (certainlyNotSent(err)) await deps.pool.query('DELETE FROM auto_response_sends WHERE id = $1 AND timeline_entry_id IS NULL', [plan.sendId]);
    throw err;
  }
  await withTransaction(deps.pool, async (tx) => {
    const entry = await addTimelineEntry(
      { db: tx, workspaceId: job.workspaceId, origin: 'api' },
      { threadId: job.threadId, kind: 'outbound_email', author: { type: 'system', name: 'Auto-response' }, messageId: plan.messageId, ...plan.entry },
    );
    await tx.query('UPDATE auto_response_sends SET timeline_entry_id = $2, sent_at = clock_timestamp() WHERE id = $1', [plan.sendId, entry.id]);
  });
  return 'sent';
}

/** The auto-response of a thread, answering the email or API message that opened it (its first inbound entry). */
export async function autoRespondToThread(deps: AutoResponderDeps, thread: { workspaceId: string; threadId: string }): Promise<AutoResponseOutcome> {
  const { rows } = await deps.pool.query<{ id: string }>(
    `SELECT id FROM timeline_entries WHERE workspace_id = $1 AND thread_id = $2 AND kind IN ('inbound_email', 'inbound_message') ORDER BY created_at, id LIMIT 1`,
    [thread.workspaceId, thread.threadId],
  );
  if (!rows[0]) return 'skipped: thread not found';
  return sendAutoResponse(deps, { ...thread, entryId: rows[0].id });
}

export type OutboxSentMessageInfo = { envelope: StreamSentMessageInfo['envelope']; messageId: string; path: string };

/** Writes each message as a `.eml` file (CRLF, as on the wire) into `dir`, whole or not at all. */
function outboxTransport(dir: string): Transport<OutboxSentMessageInfo> {
  const stream = new StreamTransport({ buffer: true, newline: 'windows' });
  return {
    name: 'Outbox',
    version: stream.version,
    send(mail, done) {
      stream.send(mail as never, (err, info) => {
        if (err || !info) return done(err ?? new Error('no message was built'));
        const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(8).toString('hex')}.eml`;
        const file = path.join(dir, name);
        const temp = path.join(dir, `.${name}.tmp`);
        fs.mkdir(dir, { recursive: true })
          .then(() => fs.writeFile(temp, info.message as Buffer, { flag: 'wx', mode: 0o600 }))
          .then(() => fs.rename(temp, file))
          .then(
            () => done(null, { envelope: info.envelope, messageId: info.messageId, path: file }),
            (e: Error) => {
              void fs.rm(temp, { force: true });
              done(Object.assign(e, { code: 'EOUTBOX' }));
            },
          );
      });
    },
  };
}

/** SMTP from SMTP_URL when set; otherwise `.eml` files in DATA_DIR/outbox, so nothing needs configuring. */
export function createMailTransport(config: { smtpUrl?: string | undefined; dataDir: string }): Transporter {
  if (config.smtpUrl) {
    // Tighter than nodemailer's minutes-long defaults: a job should fail, and retry, well inside its expiry.
    return nodemailer.createTransport({ url: config.smtpUrl, pool: true, maxConnections: 5, connectionTimeout: 30_000, greetingTimeout: 30_000, socketTimeout: 60_000 }) as Transporter;
  }
  return nodemailer.createTransport(outboxTransport(path.join(config.dataDir, 'outbox'))) as Transporter;
}
