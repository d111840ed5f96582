import type { FastifyInstance } from 'fastify';
import type { PgBoss } from 'pg-boss';
import { z } from 'zod';
import { withTransaction, type Pool } from '../../db/pool.ts';
import { getInbound, INBOUND_STATUSES, listInbound, resetForReplay, type InboundEmailRecord } from '../../inbound/ledger.ts';
import { findRawEmail } from '../../inbound/raw-email.ts';
import { enqueueProcessing } from '../../inbound/enqueue.ts';
import { requireWorkspace } from '../auth.ts';
import { AppError, parseInput } from '../errors.ts';
import { pageInfoSchema, routeSchema, timestamp } from '../openapi.ts';
import { orderQuery, page, pageQuery } from '../pagination.ts';

// Newest first by default: the email just sent is the one a user looks for.
const listQuery = pageQuery.extend(orderQuery('desc').shape).extend({ status: z.enum(INBOUND_STATUSES).optional() });
const idParams = z.object({ id: z.string().min(1).max(100) });

const inboundEmailSchema = z.object({
  id: z.string(),
  status: z.enum(INBOUND_STATUSES),
  source: z.enum(['postmark', 'mime']),
  messageId: z.string().nullable(),
  size: z.number().int().meta({ description: 'Bytes of the payload as received.' }),
  errorCode: z.string().nullable().meta({ description: 'Why it was rejected or failed (a stable code).' }),
  error: z.string().nullable(),
  attempts: z.number().int(),
  workspaceId: z.string().nullable(),
  forkedFrom: z.string().nullable().meta({ description: 'The email this is a copy of, made for another workspace it was also addressed to.' }),
  customerId: z.string().nullable(),
  threadId: z.string().nullable(),
  timelineEntryId: z.string().nullable(),
  duplicateOf: z.string().nullable(),
  bounceOfEntryId: z.string().nullable(),
  classification: z.record(z.string(), z.unknown()).nullable(),
  receivedAt: timestamp,
  processedAt: timestamp.nullable(),
});
const oneEmail = z.object({ inboundEmail: inboundEmailSchema });
const tags = ['Inbound mail'];

const present = (r: InboundEmailRecord) => ({
  id: r.id,
  status: r.status,
  source: r.source,
  messageId: r.messageId,
  size: r.rawSize,
  errorCode: r.errorCode,
  error: r.errorMessage,
  attempts: r.attempts,
  workspaceId: r.workspaceId,
  forkedFrom: r.forkedFrom,
  customerId: r.customerId,
  threadId: r.threadId,
  timelineEntryId: r.timelineEntryId,
  duplicateOf: r.duplicateOf,
  bounceOfEntryId: r.bounceOfEntryId,
  classification: r.classification,
  receivedAt: r.receivedAt.toISOString(),
  processedAt: r.processedAt?.toISOString() ?? null,
});

export function inboundEmailRoutes(app: FastifyInstance, deps: { pool: Pool; boss: PgBoss }): void {
  const listSchema = routeSchema({
    tags,
    summary: 'Emails received for the workspace, newest first by default, by status',
    querystring: listQuery,
    response: { 200: z.object({ inboundEmails: z.array(inboundEmailSchema), pageInfo: pageInfoSchema }) },
  });
  app.get('/v1/inbound-emails', { schema: listSchema }, async (request) => {
    const workspace = requireWorkspace(request);
    const query = parseInput(listQuery, request.query, 'query');
    const { items, pageInfo } = await page(query, (after, limit) => listInbound(deps.pool, { workspaceId: workspace.id, status: query.status, after, limit, order: query.order }));
    return { inboundEmails: items.map(present), pageInfo };
  });

  app.get('/v1/inbound-emails/:id', { schema: routeSchema({ tags, summary: 'One received email and what became of it', params: idParams, response: { 200: oneEmail } }) }, async (request) => {
    const workspace = requireWorkspace(request);
    const { id } = parseInput(idParams, request.params, 'params');
    const record = await getInbound(deps.pool, workspace.id, id);
    if (!record) throw new AppError('not_found', `Inbound email ${id} not found.`);
    return { inboundEmail: present(record) };
  });

  // The payload exactly as received (Postmark JSON or RFC 822): the whole email, whatever its entry kept.
  const rawSchema = routeSchema({
    tags,
    summary: 'The payload exactly as received, as a download',
    params: idParams,
    response: {
      200: {
        description: "Postmark's JSON (application/json) or the RFC 822 message (message/rfc822), byte for byte.",
        content: { 'application/json': { schema: z.record(z.string(), z.unknown()) }, 'message/rfc822': { schema: z.string() } },
      },
    },
  });
  app.get('/v1/inbound-emails/:id/raw', { schema: rawSchema }, async (request, reply) => {
    const workspace = requireWorkspace(request);
    const { id } = parseInput(idParams, request.params, 'params');
    const found = await findRawEmail(deps.pool, workspace.id, id);
    if (!found) throw new AppError('not_found', `Inbound email ${id} not found.`);
    const [type, ext] = found.source === 'postmark' ? ['application/json', 'json'] : ['message/rfc822', 'eml'];
    return reply.header('content-type', type).header('content-disposition', `attachment; filename="${id}.${ext}"`).send(found.raw);
  });

  const replaySchema = routeSchema({ tags, summary: 'Process a failed, unroutable or rejected email again (409 for others)', params: idParams, response: { 202: oneEmail } });
  app.post('/v1/inbound-emails/:id/replay', { schema: replaySchema }, async (request, reply) => {
    const workspace = requireWorkspace(request);
    const { id } = parseInput(idParams, request.params, 'params');
    const result = await withTransaction(deps.pool, async (tx) => {
      const reset = await resetForReplay(tx, id, workspace.id);
      if (typeof reset !== 'string') await enqueueProcessing(deps.boss, tx, id);
      return reset;
    });
    if (result === 'not_found') throw new AppError('not_found', `Inbound email ${id} not found.`);
    if (result === 'not_replayable') throw new AppError('conflict', `Inbound email ${id} was processed; only failed, unroutable or rejected emails can be replayed.`);
    return reply.status(202).send({ inboundEmail: present(result) });
  });
}
