import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Queryable } from '../../db/pool.ts';
import { listAttachmentsForEntries, type Attachment } from '../../domain/attachments.ts';
import { getThread, listThreads, THREAD_STATUSES, type Thread } from '../../domain/threads.ts';
import { listTimelineEntries, type TimelineEntry } from '../../domain/timeline-entries.ts';
import { inboundEmailsOfEntries } from '../../inbound/raw-email.ts';
import { requireWorkspace } from '../auth.ts';
import { AppError, parseInput } from '../errors.ts';
import { orderQuery, page, pageQuery } from '../pagination.ts';

const listQuery = pageQuery.extend(orderQuery('asc').shape).extend({
  customerId: z.string().trim().min(1).max(100).optional(),
  status: z.enum(THREAD_STATUSES).optional(),
});

const idParams = z.object({ id: z.string().min(1).max(100) });

function presentThread(t: Thread) {
  return {
    id: t.id,
    title: t.title,
    status: t.status,
    customerId: t.customerId,
    channel: t.channel,
    externalId: t.externalId,
    statusChangedAt: t.statusChangedAt.toISOString(),
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
  };
}

const presentAttachment = (a: Attachment) => ({
  id: a.id,
  fileName: a.fileName,
  contentType: a.contentType,
  size: a.size,
  status: a.status,
  code: a.code,
});

/**
 * An entry's text and HTML as stored: cut to ENTRY_LIMITS when longer, said so, with the whole
 * one's size. The whole email stays downloadable from its inbound email's raw payload.
 */
const presentBody = (e: TimelineEntry) => ({
  text: e.text,
  textTruncated: e.textFullSize !== null,
  textSize: e.textFullSize ?? (e.text === null ? null : Buffer.byteLength(e.text)),
  html: e.html,
  htmlTruncated: e.htmlFullSize !== null,
  htmlSize: e.htmlFullSize ?? (e.html === null ? null : Buffer.byteLength(e.html)),
});

export function threadRoutes(app: FastifyInstance, deps: { db: Queryable }): void {
  app.get('/v1/threads', async (request) => {
    const workspace = requireWorkspace(request);
    const query = parseInput(listQuery, request.query, 'query');
    const ctx = { db: deps.db, workspaceId: workspace.id };
    const { items, pageInfo } = await page(query, (after, limit) => listThreads(ctx, { customerId: query.customerId, status: query.status, after, limit, order: query.order }));
    return { threads: items.map(presentThread), pageInfo };
  });

  app.get('/v1/threads/:id', async (request) => {
    const workspace = requireWorkspace(request);
    const { id } = parseInput(idParams, request.params, 'params');
    const ctx = { db: deps.db, workspaceId: workspace.id };
    const thread = await getThread(ctx, id);
    if (!thread) throw new AppError('not_found', `Thread ${id} not found.`);
    const entries = await listTimelineEntries(ctx, id);
    const attachments = await listAttachmentsForEntries(ctx, entries.map((e) => e.id));
    const inboundEmails = await inboundEmailsOfEntries(deps.db, workspace.id, entries.map((e) => e.id));
    return {
      thread: {
        ...presentThread(thread),
        entries: entries.map((e) => ({
          id: e.id,
          kind: e.kind,
          createdAt: e.createdAt.toISOString(),
          author: { type: e.authorType, customerId: e.authorCustomerId, name: e.authorName, email: e.authorEmail },
          ...presentBody(e),
          messageId: e.messageId,
          inboundEmailId: inboundEmails.get(e.id) ?? null,
          attachments: attachments.filter((a) => a.timelineEntryId === e.id).map(presentAttachment),
        })),
      },
    };
  });
}
