import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { withTransaction, type Pool } from '../../db/pool.ts';
import { ATTACHMENT_CODES } from '../../domain/attachment-rules.ts';
import { listAttachmentsForEntries, type Attachment } from '../../domain/attachments.ts';
import { findCustomerByIdentifier } from '../../domain/customers.ts';
import { startThread } from '../../domain/start-thread.ts';
import { CHANNELS, getThread, listThreads, setThreadStatus, THREAD_STATUSES, type Thread } from '../../domain/threads.ts';
import { addNote, ENTRY_KINDS, ENTRY_LIMITS, listTimelineEntries, NOTE_MAX_CHARS, type TimelineEntry } from '../../domain/timeline-entries.ts';
import { inboundEmailsOfEntries } from '../../inbound/raw-email.ts';
import { requireWorkspace } from '../auth.ts';
import { registerBodySlots } from '../body-slots.ts';
import { AppError, parseInput } from '../errors.ts';
import { pageInfoSchema, routeSchema, timestamp } from '../openapi.ts';
import { orderQuery, page, pageQuery } from '../pagination.ts';
import { customerIdentifierInput, toCustomerIdentifier } from './customers.ts';

const listQuery = pageQuery.extend(orderQuery('asc').shape).extend({
  customerId: z.string().trim().min(1).max(100).optional(),
  status: z.enum(THREAD_STATUSES).optional(),
});

export const threadIdParams = z.object({ id: z.string().min(1).max(100) });

/**
 * A new thread's body may carry 6 MB of attachments (Plain's limit) as base64, plus files the
 * rules then refuse: larger than the API's usual 1 MiB, read under the large-body slots.
 */
export const CREATE_THREAD_BODY_LIMIT = 12 * 1024 * 1024;

export const attachmentInput = z
  .object({
    fileName: z.string().min(1).max(1000),
    contentType: z.string().trim().min(1).max(255).default('application/octet-stream'),
    contentBase64: z.base64().meta({ description: 'The file’s bytes, base64-encoded.' }),
  })
  .strict();

/**
 * Plain's `createThread` as JSON: the customer (who must exist: upsert them first), a title, the
 * customer's first message with its attachments, labels by label type id (must exist) or by name
 * (found or created), and an optional externalId unique in the workspace.
 */
export const createThreadBody = z
  .object({
    customerIdentifier: customerIdentifierInput,
    title: z.string().trim().min(1).max(500),
    message: z
      .object({
        text: z.string().trim().min(1).max(ENTRY_LIMITS.textChars),
        attachments: z.array(attachmentInput).max(100).default([]),
      })
      .strict(),
    labelTypeIds: z.array(z.string().min(1).max(100)).max(50).default([]),
    labelNames: z.array(z.string().trim().min(1).max(200)).max(50).default([]),
    externalId: z.string().trim().min(1).max(200).nullish(),
  })
  .strict();

export const createNoteBody = z.object({ text: z.string().trim().min(1).max(NOTE_MAX_CHARS) }).strict();
export const patchThreadBody = z.object({ status: z.enum(THREAD_STATUSES) }).strict();

export const threadSchema = z.object({
  id: z.string(),
  title: z.string(),
  status: z.enum(THREAD_STATUSES),
  customerId: z.string(),
  channel: z.enum(CHANNELS),
  externalId: z.string().nullable(),
  statusChangedAt: timestamp,
  createdAt: timestamp,
  updatedAt: timestamp,
});
const attachmentSchema = z.object({
  id: z.string(),
  fileName: z.string(),
  contentType: z.string(),
  size: z.number().int(),
  status: z.enum(['accepted', 'rejected']),
  code: z.string().nullable().meta({ description: `Why a file was refused: ${Object.values(ATTACHMENT_CODES).join(', ')}.` }),
});
const entrySchema = z.object({
  id: z.string(),
  kind: z.enum(ENTRY_KINDS),
  createdAt: timestamp,
  author: z.object({ type: z.enum(['customer', 'user', 'system']), customerId: z.string().nullable(), name: z.string().nullable(), email: z.string().nullable() }),
  text: z.string().nullable(),
  textTruncated: z.boolean(),
  textSize: z.number().int().nullable(),
  html: z.string().nullable(),
  htmlTruncated: z.boolean(),
  htmlSize: z.number().int().nullable(),
  messageId: z.string().nullable(),
  inboundEmailId: z.string().nullable(),
  attachments: z.array(attachmentSchema),
});
export const threadListResponse = z.object({ threads: z.array(threadSchema), pageInfo: pageInfoSchema });
export const threadResponse = z.object({ thread: threadSchema });
export const threadWithEntriesResponse = z.object({ thread: threadSchema.extend({ entries: z.array(entrySchema) }) });
export const createThreadResponse = z.object({
  thread: threadSchema,
  message: z.object({
    id: z.string(),
    text: z.string().nullable(),
    createdAt: timestamp,
    attachments: z.array(attachmentSchema.extend({ reason: z.string().nullable().meta({ description: 'In words, why the rules refused the file.' }) })),
  }),
  labels: z.array(z.object({ id: z.string(), name: z.string() })),
});
export const noteResponse = z.object({ note: z.object({ id: z.string(), threadId: z.string(), text: z.string(), createdAt: timestamp }) });

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

const tags = ['Threads'];
const threadNotFound = (id: string) => new AppError('not_found', `Thread ${id} not found.`, [{ field: 'params.id', message: 'no such thread in this workspace', type: 'NOT_FOUND' }]);

export function threadRoutes(app: FastifyInstance, deps: { db: Pool }): void {
  app.get('/v1/threads', { schema: routeSchema({ tags, summary: 'List threads', querystring: listQuery, response: { 200: threadListResponse } }) }, async (request) => {
    const workspace = requireWorkspace(request);
    const query = parseInput(listQuery, request.query, 'query');
    const ctx = { db: deps.db, workspaceId: workspace.id };
    const { items, pageInfo } = await page(query, (after, limit) => listThreads(ctx, { customerId: query.customerId, status: query.status, after, limit, order: query.order }));
    return { threads: items.map(presentThread), pageInfo };
  });

  app.get(
    '/v1/threads/:id',
    { schema: routeSchema({ tags, summary: 'A thread with its timeline entries and attachments', params: threadIdParams, response: { 200: threadWithEntriesResponse } }) },
    async (request) => {
      const workspace = requireWorkspace(request);
      const { id } = parseInput(threadIdParams, request.params, 'params');
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
    },
  );

  // Its own scope: the larger body limit and the large-body slots apply to this route only.
  void app.register(async (scope) => {
    registerBodySlots(scope);
    scope.post(
      '/v1/threads',
      {
        bodyLimit: CREATE_THREAD_BODY_LIMIT,
        schema: routeSchema({
          tags,
          summary: 'Create a thread with the customer’s first message (Plain’s createThread)',
          description:
            'Channel API, origin api: fires thread.thread_created (labels included) and the auto-response for the API channel, if the workspace has one. Attachments go through the inbound rules (25 files, 6 MB together, no banned extensions or executables): a refused file is recorded with its code and reason and the thread still lands. An unknown customer or label type id is 404 / 400 with NOT_FOUND fields; a second thread with the same externalId is `thread_already_exists_with_external_id` (409).',
          body: createThreadBody,
          response: { 201: createThreadResponse },
        }),
      },
      async (request, reply) => {
        const workspace = requireWorkspace(request);
        const body = parseInput(createThreadBody, request.body, 'body');
        const identifier = toCustomerIdentifier(body.customerIdentifier);
        const started = await withTransaction(deps.db, async (tx) => {
          const ctx = { db: tx, workspaceId: workspace.id, origin: 'api' as const };
          const customer = await findCustomerByIdentifier(ctx, identifier);
          if (!customer) {
            const field = `customerIdentifier.${Object.keys(identifier)[0]}`;
            throw new AppError('not_found', 'Customer not found: create it first with POST /v1/customers.', [{ field, message: 'no such customer in this workspace', type: 'NOT_FOUND' }]);
          }
          return startThread(ctx, {
            customerId: customer.id,
            title: body.title,
            channel: 'API',
            text: body.message.text,
            attachments: body.message.attachments.map((a) => ({ fileName: a.fileName, contentType: a.contentType, content: Buffer.from(a.contentBase64, 'base64') })),
            labelIds: body.labelTypeIds,
            labelNames: body.labelNames,
            externalId: body.externalId ?? null,
          });
        });
        return reply.status(201).send({
          thread: presentThread(started.thread),
          message: {
            id: started.entry.id,
            text: started.entry.text,
            createdAt: started.entry.createdAt.toISOString(),
            attachments: started.attachments.map((a) => ({ ...presentAttachment(a), reason: a.reason })),
          },
          labels: started.labels.map((l) => ({ id: l.id, name: l.name })),
        });
      },
    );
  });

  app.post(
    '/v1/threads/:id/notes',
    {
      schema: routeSchema({
        tags,
        summary: 'Add a note to a thread (internal; the customer never sees it)',
        description: 'Origin api: fires thread.note_created.',
        params: threadIdParams,
        body: createNoteBody,
        response: { 201: noteResponse },
      }),
    },
    async (request, reply) => {
      const workspace = requireWorkspace(request);
      const { id } = parseInput(threadIdParams, request.params, 'params');
      const body = parseInput(createNoteBody, request.body, 'body');
      const note = await withTransaction(deps.db, async (tx) => {
        const ctx = { db: tx, workspaceId: workspace.id, origin: 'api' as const };
        if (!(await getThread(ctx, id))) throw threadNotFound(id);
        return addNote(ctx, { threadId: id, text: body.text, author: { type: 'system', name: 'API' } });
      });
      return reply.status(201).send({ note: { id: note.id, threadId: note.threadId, text: note.text ?? '', createdAt: note.createdAt.toISOString() } });
    },
  );

  app.patch(
    '/v1/threads/:id',
    {
      schema: routeSchema({
        tags,
        summary: 'Change a thread’s status (TODO, SNOOZED, DONE)',
        description: 'Origin api: fires thread.thread_status_transitioned when the status changes; the same status again changes nothing and fires nothing.',
        params: threadIdParams,
        body: patchThreadBody,
        response: { 200: threadResponse },
      }),
    },
    async (request) => {
      const workspace = requireWorkspace(request);
      const { id } = parseInput(threadIdParams, request.params, 'params');
      const body = parseInput(patchThreadBody, request.body, 'body');
      const thread = await withTransaction(deps.db, async (tx) => {
        const ctx = { db: tx, workspaceId: workspace.id, origin: 'api' as const };
        if (!(await getThread(ctx, id))) throw threadNotFound(id);
        await setThreadStatus(ctx, id, body.status);
        return (await getThread(ctx, id))!;
      });
      return { thread: presentThread(thread) };
    },
  );
}
