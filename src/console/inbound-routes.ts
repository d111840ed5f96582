import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { withTransaction } from '../db/pool.ts';
import { listAttachmentsForEntries } from '../domain/attachments.ts';
import { getCustomer } from '../domain/customers.ts';
import { getThread } from '../domain/threads.ts';
import { AppError, parseInput } from '../http/errors.ts';
import { enqueueProcessing } from '../inbound/enqueue.ts';
import { getInbound, INBOUND_STATUSES, listInbound, resetForReplay, type InboundEmailRecord } from '../inbound/ledger.ts';
import { parseStoredEmail } from '../inbound/parse-stored.ts';
import { findRawEmail } from '../inbound/raw-email.ts';
import { countByStatus, recentRefusedAttachments } from '../inbound/stats.ts';
import type { ConsoleDeps } from './plugin.ts';
import { fmt, noticeFrom, renderPage, type Notices } from './render.ts';
import { sessionOf } from './request.ts';

const listQuery = z.object({ status: z.enum(INBOUND_STATUSES).optional(), before: z.string().max(100).optional() });
const idParams = z.object({ id: z.string().min(1).max(100) });

const PAGE_SIZE = 50;
const REFUSED_SHOWN = 20;
/** Refused attachments are looked for among this many latest processed emails. */
const REFUSED_AMONG = 2000;
/** Per-status counts stop here ("10000+"): the filter links need a size, not an exact figure. */
const COUNT_CAP = 10_000;
/** The text shown of one email; the raw download has all of it. */
const TEXT_SHOWN = 100_000;
export const REPLAYABLE = Object.freeze(['failed', 'unroutable', 'rejected']);

const NOTICES = {
  replayed: { text: 'Replayed: the email is being processed again.' },
  'not-replayable': { text: 'Only failed, unroutable or rejected emails can be replayed.', error: true },
} satisfies Notices;

/** A count as shown: "10000+" when it reached the cap. */
const shownCount = (n: number, capped: boolean) => (capped ? `${Math.min(n, COUNT_CAP)}+` : String(n));

/** Why an email did not become (or did become) an entry, in a line. */
export function reasonOf(r: InboundEmailRecord): string {
  if (r.status === 'duplicate') return r.duplicateOf ? `duplicate of ${r.duplicateOf}` : 'duplicate';
  if (r.status === 'processed' || r.status === 'received') return '';
  return [r.errorCode, r.errorMessage].filter(Boolean).join(': ');
}

export function inboundRoutes(app: FastifyInstance, deps: ConsoleDeps): void {
  const load = async (workspaceId: string, id: string) => {
    const record = await getInbound(deps.pool, workspaceId, id);
    if (!record) throw new AppError('not_found', `No inbound email ${id} in this workspace.`);
    return record;
  };

  app.get('/inbound', async (request, reply) => {
    const workspaceId = sessionOf(request).workspaceId;
    const q = parseInput(listQuery, request.query, 'query');
    const [emails, counts, refused] = await Promise.all([
      listInbound(deps.pool, { workspaceId, status: q.status, after: q.before, limit: PAGE_SIZE + 1, order: 'desc' }),
      countByStatus(deps.pool, workspaceId, COUNT_CAP),
      recentRefusedAttachments(deps.pool, workspaceId, REFUSED_SHOWN, REFUSED_AMONG),
    ]);
    const more = emails.length > PAGE_SIZE;
    const shown = emails.slice(0, PAGE_SIZE);
    return renderPage(deps.pool, request, reply, 'inbound', {
      title: 'Inbound mail',
      nav: 'inbound',
      status: q.status ?? null,
      statuses: INBOUND_STATUSES,
      counts: Object.fromEntries(Object.entries(counts).map(([s, n]) => [s, shownCount(n, n > COUNT_CAP)])),
      total: shownCount(
        Object.values(counts).reduce((t, n) => t + Math.min(n, COUNT_CAP), 0),
        Object.values(counts).some((n) => n > COUNT_CAP),
      ),
      emails: shown.map((e) => ({ ...e, reason: reasonOf(e) })),
      older: more ? `/console/inbound?${new URLSearchParams({ ...(q.status ? { status: q.status } : {}), before: shown[shown.length - 1]!.id })}` : null,
      refused,
      refusedAmong: REFUSED_AMONG,
      fmt,
    });
  });

  app.get('/inbound/:id', async (request, reply) => {
    const workspaceId = sessionOf(request).workspaceId;
    const { id } = parseInput(idParams, request.params, 'params');
    const record = await load(workspaceId, id);
    const found = await findRawEmail(deps.pool, workspaceId, id);
    // The stored bytes as the sender sent them; a payload that cannot be read is shown as such.
    let parsed: Awaited<ReturnType<typeof parseStoredEmail>> | null = null;
    let parseError: string | null = null;
    try {
      parsed = found ? await parseStoredEmail(found.source, found.raw, { receivedAt: record.receivedAt }) : null;
    } catch (err) {
      parseError = (err as Error).message;
    }
    const ctx = { db: deps.pool, workspaceId };
    const stored = record.timelineEntryId ? await listAttachmentsForEntries(ctx, [record.timelineEntryId]) : [];
    const thread = record.threadId ? await getThread(ctx, record.threadId) : null;
    const customer = record.customerId ? await getCustomer(ctx, record.customerId) : null;
    const text = parsed?.text ?? null;
    return renderPage(deps.pool, request, reply, 'inbound-email', {
      title: parsed?.subject ? `Email: ${parsed.subject}` : `Email ${id}`,
      nav: 'inbound',
      email: { ...record, reason: reasonOf(record) },
      parsed,
      parseError,
      text: text && text.length > TEXT_SHOWN ? `${text.slice(0, TEXT_SHOWN)}\n…` : text,
      textClipped: Boolean(text && text.length > TEXT_SHOWN),
      stored,
      thread,
      customer,
      replayable: REPLAYABLE.includes(record.status) && Boolean(deps.boss),
      notice: noticeFrom(request, NOTICES),
      fmt,
    });
  });

  // The payload exactly as received, as GET /v1/inbound-emails/:id/raw serves it.
  app.get('/inbound/:id/raw', async (request, reply) => {
    const { id } = parseInput(idParams, request.params, 'params');
    const found = await findRawEmail(deps.pool, sessionOf(request).workspaceId, id);
    if (!found) throw new AppError('not_found', `No inbound email ${id} in this workspace.`);
    const [type, ext] = found.source === 'postmark' ? ['application/json', 'json'] : ['message/rfc822', 'eml'];
    return reply
      .header('content-type', type)
      .header('content-disposition', `attachment; filename="${id}.${ext}"`)
      .header('content-security-policy', "default-src 'none'; sandbox")
      .send(found.raw);
  });

  const boss = deps.boss;
  if (!boss) return;

  // Replay as POST /v1/inbound-emails/:id/replay does: back to received and due, in one transaction.
  app.post('/inbound/:id/replay', async (request, reply) => {
    const workspaceId = sessionOf(request).workspaceId;
    const { id } = parseInput(idParams, request.params, 'params');
    const result = await withTransaction(deps.pool, async (tx) => {
      const reset = await resetForReplay(tx, id, workspaceId);
      if (typeof reset !== 'string') await enqueueProcessing(boss, tx, id);
      return reset;
    });
    if (result === 'not_found') throw new AppError('not_found', `No inbound email ${id} in this workspace.`);
    return reply.redirect(`/console/inbound/${id}?notice=${result === 'not_replayable' ? 'not-replayable' : 'replayed'}`, 303);
  });
}
