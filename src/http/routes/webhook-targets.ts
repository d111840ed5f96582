import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { withTransaction, type Pool } from '../../db/pool.ts';
import { EVENT_TYPES } from '../../domain/events.ts';
import { listDeliveries } from '../../events/deliveries.ts';
import { refuseOutboundUrl } from '../../net/address-guard.ts';
import {
  createWebhookTarget,
  DEFAULT_WEBHOOK_VERSION,
  deleteWebhookTarget,
  getWebhookTarget,
  listWebhookTargets,
  rotateSigningSecret,
  TooManyTargetsError,
  updateWebhookTarget,
  type WebhookTarget,
} from '../../events/webhook-targets.ts';
import { WEBHOOK_VERSIONS } from '../../events/webhook-versions.ts';
import { requireWorkspace } from '../auth.ts';
import { AppError, parseInput } from '../errors.ts';
import { routeSchema, pageInfoSchema, timestamp } from '../openapi.ts';
import { page, pageQuery } from '../pagination.ts';

const eventType = z.enum(Object.values(EVENT_TYPES) as [string, ...string[]]);
const webhookVersion = z.enum(WEBHOOK_VERSIONS, { error: `must be one of Plain's webhook versions: ${WEBHOOK_VERSIONS.join(', ')}` });
const createBody = z
  .object({
    url: z.string().max(2000),
    eventTypes: z.array(eventType).min(1),
    enabled: z.boolean().default(true),
    version: webhookVersion.default(DEFAULT_WEBHOOK_VERSION),
  })
  .strict();
const patchBody = z
  .object({ url: z.string().max(2000).optional(), eventTypes: z.array(eventType).min(1).optional(), enabled: z.boolean().optional(), version: webhookVersion.optional() })
  .strict();
const idParams = z.object({ id: z.string().min(1).max(100) });

const targetSchema = z.object({
  id: z.string(),
  url: z.string().meta({ description: 'A password in the URL is shown as `***`.' }),
  eventTypes: z.array(z.string()),
  enabled: z.boolean(),
  version: z.enum(WEBHOOK_VERSIONS),
  disabledReason: z.string().nullable(),
  createdAt: timestamp,
  updatedAt: timestamp,
});
const withSecret = z.object({
  webhookTarget: targetSchema.extend({ signingSecret: z.string().meta({ description: 'Shown only here: keep it to verify signatures (Standard Webhooks).' }) }),
});
const oneTarget = z.object({ webhookTarget: targetSchema });
const attemptSchema = z.object({
  number: z.number().int(),
  // Written by Postgres' json_agg: an offset, not a Z.
  attemptedAt: z.iso.datetime({ offset: true }),
  statusCode: z.number().int().nullable(),
  durationMs: z.number(),
  error: z.string().nullable(),
});
const deliverySchema = z.object({
  id: z.string(),
  eventId: z.string(),
  eventType: z.string(),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.array(attemptSchema),
  nextAttemptAt: timestamp.nullable(),
  createdAt: timestamp,
});
const tags = ['Webhooks'];

// Credentials in the URL are sent as Basic auth, never shown back.
function redact(t: WebhookTarget): string {
  const u = new URL(t.url);
  if (u.password || t.hasUrlPassword) u.password = '***';
  return u.toString();
}

const present = (t: WebhookTarget, signingSecret?: string) => ({
  id: t.id,
  url: redact(t),
  eventTypes: t.eventTypes,
  enabled: t.enabled,
  version: t.version,
  disabledReason: t.disabledReason,
  createdAt: t.createdAt.toISOString(),
  updatedAt: t.updatedAt.toISOString(),
  ...(signingSecret ? { signingSecret } : {}),
});

export function webhookTargetRoutes(app: FastifyInstance, deps: { pool: Pool; secretsKey: Buffer; allowPrivate: boolean }): void {
  const checkUrl = async (url: string) => {
    const reason = await refuseOutboundUrl(url, deps.allowPrivate);
    if (reason) throw new AppError('input_validation', 'Invalid webhook target.', [{ field: 'url', message: reason, type: 'VALIDATION' }]);
  };

  const createSchema = routeSchema({ tags, summary: 'Add a webhook target (its signing secret is shown once, here)', body: createBody, response: { 201: withSecret } });
  app.post('/v1/webhook-targets', { schema: createSchema }, async (request, reply) => {
    const workspace = requireWorkspace(request);
    const body = parseInput(createBody, request.body, 'body');
    await checkUrl(body.url);
    try {
      const { target, signingSecret } = await withTransaction(deps.pool, (tx) => createWebhookTarget(tx, deps.secretsKey, workspace.id, body));
      return reply.status(201).send({ webhookTarget: present(target, signingSecret) });
    } catch (err) {
      if (err instanceof TooManyTargetsError) throw new AppError('too_many_webhook_targets', err.message);
      throw err;
    }
  });

  app.get('/v1/webhook-targets', { schema: routeSchema({ tags, summary: "The workspace's webhook targets", response: { 200: z.object({ webhookTargets: z.array(targetSchema) }) } }) }, async (request) => {
    const workspace = requireWorkspace(request);
    return { webhookTargets: (await listWebhookTargets(deps.pool, workspace.id)).map((t) => present(t)) };
  });

  app.get('/v1/webhook-targets/:id', { schema: routeSchema({ tags, summary: 'One webhook target', params: idParams, response: { 200: oneTarget } }) }, async (request) => {
    const workspace = requireWorkspace(request);
    const { id } = parseInput(idParams, request.params, 'params');
    const target = await getWebhookTarget(deps.pool, workspace.id, id);
    if (!target) throw new AppError('not_found', `Webhook target ${id} not found.`);
    return { webhookTarget: present(target) };
  });

  const patchSchema = routeSchema({ tags, summary: 'Change a webhook target (URL, events, enabled, version)', params: idParams, body: patchBody, response: { 200: oneTarget } });
  app.patch('/v1/webhook-targets/:id', { schema: patchSchema }, async (request) => {
    const workspace = requireWorkspace(request);
    const { id } = parseInput(idParams, request.params, 'params');
    const body = parseInput(patchBody, request.body, 'body');
    if (body.url !== undefined) await checkUrl(body.url);
    const target = await updateWebhookTarget(deps.pool, deps.secretsKey, workspace.id, id, body);
    if (!target) throw new AppError('not_found', `Webhook target ${id} not found.`);
    return { webhookTarget: present(target) };
  });

  app.delete('/v1/webhook-targets/:id', { schema: routeSchema({ tags, summary: 'Remove a webhook target', params: idParams, response: { 204: z.undefined() } }) }, async (request, reply) => {
    const workspace = requireWorkspace(request);
    const { id } = parseInput(idParams, request.params, 'params');
    if (!(await deleteWebhookTarget(deps.pool, workspace.id, id))) throw new AppError('not_found', `Webhook target ${id} not found.`);
    return reply.status(204).send();
  });

  const rotateSchema = routeSchema({ tags, summary: 'A new signing secret (shown once, here); the old one stops at once', params: idParams, response: { 200: withSecret } });
  app.post('/v1/webhook-targets/:id/rotate-secret', { schema: rotateSchema }, async (request) => {
    const workspace = requireWorkspace(request);
    const { id } = parseInput(idParams, request.params, 'params');
    const signingSecret = await rotateSigningSecret(deps.pool, deps.secretsKey, workspace.id, id);
    if (!signingSecret) throw new AppError('not_found', `Webhook target ${id} not found.`);
    return { webhookTarget: present((await getWebhookTarget(deps.pool, workspace.id, id))!, signingSecret) };
  });

  const deliveriesSchema = routeSchema({
    tags,
    summary: "A target's deliveries, oldest first, each with every attempt",
    params: idParams,
    querystring: pageQuery,
    response: { 200: z.object({ deliveries: z.array(deliverySchema), pageInfo: pageInfoSchema }) },
  });
  app.get('/v1/webhook-targets/:id/deliveries', { schema: deliveriesSchema }, async (request) => {
    const workspace = requireWorkspace(request);
    const { id } = parseInput(idParams, request.params, 'params');
    const query = parseInput(pageQuery, request.query, 'query');
    if (!(await getWebhookTarget(deps.pool, workspace.id, id))) throw new AppError('not_found', `Webhook target ${id} not found.`);
    const { items, pageInfo } = await page(query, (after, limit) => listDeliveries(deps.pool, workspace.id, id, { after, limit }));
    return {
      deliveries: items.map((d) => ({ id: d.id, eventId: d.eventId, eventType: d.eventType, status: d.status, attempts: d.attemptList, nextAttemptAt: d.nextAttemptAt?.toISOString() ?? null, createdAt: d.createdAt.toISOString() })),
      pageInfo,
    };
  });
}
