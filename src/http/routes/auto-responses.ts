import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Queryable } from '../../db/pool.ts';
import {
  AUTO_RESPONSE_CHANNELS,
  createAutoResponse,
  deleteAutoResponse,
  listAutoResponses,
  updateAutoResponse,
  type AutoResponse,
} from '../../events/auto-responses.ts';
import { requireWorkspace } from '../auth.ts';
import { AppError, parseInput } from '../errors.ts';
import { routeSchema, timestamp } from '../openapi.ts';

const fields = {
  messageText: z
    .string()
    .max(20_000)
    .refine((s) => s.trim().length > 0, 'must not be empty'),
  messageHtml: z.string().max(200_000).nullable().optional(),
  enabled: z.boolean().optional(),
  channels: z.array(z.enum(AUTO_RESPONSE_CHANNELS)).min(1).max(10).optional(),
  order: z.number().int().min(-1_000_000).max(1_000_000).optional(),
};

const createBody = z.object(fields).strict();
const patchBody = z.object({ ...fields, messageText: fields.messageText.optional() }).strict();
const idParams = z.object({ id: z.string().min(1).max(100) });

const autoResponseSchema = z.object({
  id: z.string(),
  messageText: z.string(),
  messageHtml: z.string().nullable(),
  enabled: z.boolean(),
  channels: z.array(z.enum(AUTO_RESPONSE_CHANNELS)),
  order: z.number().int(),
  createdAt: timestamp,
  updatedAt: timestamp,
});
const oneResponse = z.object({ autoResponse: autoResponseSchema });
const tags = ['Auto-responses'];

export function presentAutoResponse(a: AutoResponse) {
  return {
    id: a.id,
    messageText: a.messageText,
    messageHtml: a.messageHtml,
    enabled: a.enabled,
    channels: a.channels,
    order: a.order,
    createdAt: a.createdAt.toISOString(),
    updatedAt: a.updatedAt.toISOString(),
  };
}

/** `/v1/auto-responses`: what is sent to a customer whose email opens a thread (first enabled match by order). */
export function autoResponseRoutes(app: FastifyInstance, deps: { db: Queryable }): void {
  const scope = (workspaceId: string) => ({ db: deps.db, workspaceId });

  const listSchema = routeSchema({ tags, summary: 'Every auto-response, in evaluation order', response: { 200: z.object({ autoResponses: z.array(autoResponseSchema) }) } });
  app.get('/v1/auto-responses', { schema: listSchema }, async (request) => {
    const workspace = requireWorkspace(request);
    const items = await listAutoResponses(scope(workspace.id));
    return { autoResponses: items.map(presentAutoResponse) };
  });

  app.post('/v1/auto-responses', { schema: routeSchema({ tags, summary: 'Create an auto-response', body: createBody, response: { 201: oneResponse } }) }, async (request, reply) => {
    const workspace = requireWorkspace(request);
    const body = parseInput(createBody, request.body, 'body');
    const created = await createAutoResponse(scope(workspace.id), body);
    return reply.status(201).send({ autoResponse: presentAutoResponse(created) });
  });

  app.patch('/v1/auto-responses/:id', { schema: routeSchema({ tags, summary: 'Change an auto-response', params: idParams, body: patchBody, response: { 200: oneResponse } }) }, async (request) => {
    const workspace = requireWorkspace(request);
    const { id } = parseInput(idParams, request.params, 'params');
    const body = parseInput(patchBody, request.body, 'body');
    const updated = await updateAutoResponse(scope(workspace.id), id, body);
    if (!updated) throw new AppError('not_found', `Auto-response ${id} not found.`);
    return { autoResponse: presentAutoResponse(updated) };
  });

  // 204 without a body, as the other resources' DELETE answers.
  app.delete('/v1/auto-responses/:id', { schema: routeSchema({ tags, summary: 'Delete an auto-response', params: idParams, response: { 204: z.undefined() } }) }, async (request, reply) => {
    const workspace = requireWorkspace(request);
    const { id } = parseInput(idParams, request.params, 'params');
    if (!(await deleteAutoResponse(scope(workspace.id), id))) throw new AppError('not_found', `Auto-response ${id} not found.`);
    return reply.status(204).send();
  });
}
