import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { deliveryCountsByTarget, recentDeliveries } from '../events/delivery-stats.ts';
import { resendDelivery } from '../events/resend-delivery.ts';
import { getWebhookTarget, listWebhookTargets, rotateSigningSecret, type WebhookTarget } from '../events/webhook-targets.ts';
import { AppError, parseInput } from '../http/errors.ts';
import type { ConsoleDeps } from './plugin.ts';
import { fmt, noticeFrom, renderPage, type Notices } from './render.ts';
import { sessionOf } from './request.ts';

const idParams = z.object({ id: z.string().min(1).max(100) });
const deliveryParams = z.object({ id: z.string().min(1).max(100), deliveryId: z.string().min(1).max(100) });

const DELIVERIES_SHOWN = 50;
const WINDOW_MS = 48 * 3600_000;

const NOTICES = {
  resent: { text: 'Resent: the delivery is due now as its next attempt.' },
  'in-flight': { text: 'That delivery is being sent right now; wait for its attempt.', error: true },
  'target-disabled': { text: 'This target is disabled: enable it (PATCH /v1/webhook-targets/:id) before resending.', error: true },
} satisfies Notices;

/** The URL as the API shows it: a password it carried is never shown back. */
export function shownUrl(t: WebhookTarget): string {
  const u = new URL(t.url);
  if (u.password || t.hasUrlPassword) u.password = '***';
  return u.toString();
}

export function webhookRoutes(app: FastifyInstance, deps: ConsoleDeps): void {
  const load = async (request: FastifyRequest) => {
    const { id } = parseInput(idParams, request.params, 'params');
    const target = await getWebhookTarget(deps.pool, sessionOf(request).workspaceId, id);
    if (!target) throw new AppError('not_found', `No webhook target ${id} in this workspace.`);
    return target;
  };
  const targetPage = async (request: FastifyRequest, reply: FastifyReply, target: WebhookTarget, signingSecret: string | null) => {
    const deliveries = await recentDeliveries(deps.pool, target.workspaceId, target.id, DELIVERIES_SHOWN);
    return renderPage(deps.pool, request, reply, 'webhook-target', {
      title: `Webhook target ${target.id}`,
      nav: 'webhooks',
      target: { ...target, shownUrl: shownUrl(target) },
      deliveries,
      signingSecret,
      canAct: Boolean(deps.secretsKey),
      notice: noticeFrom(request, NOTICES),
      fmt,
    });
  };

  app.get('/webhooks', async (request, reply) => {
    const workspaceId = sessionOf(request).workspaceId;
    const [targets, counts] = await Promise.all([listWebhookTargets(deps.pool, workspaceId), deliveryCountsByTarget(deps.pool, workspaceId, new Date(Date.now() - WINDOW_MS))]);
    return renderPage(deps.pool, request, reply, 'webhooks', {
      title: 'Webhooks',
      nav: 'webhooks',
      targets: targets.map((t) => {
        const c = counts.get(t.id) ?? { delivered: 0, failed: 0, pending: 0 };
        const ended = c.delivered + c.failed;
        return { ...t, shownUrl: shownUrl(t), counts: c, successRate: ended ? Math.round((c.delivered / ended) * 1000) / 10 : null };
      }),
      fmt,
    });
  });

  app.get('/webhooks/:id', async (request, reply) => targetPage(request, reply, await load(request), null));

  const secretsKey = deps.secretsKey;
  if (!secretsKey) return;

  // The new secret is in this response only: it is sealed at rest and never shown again.
  app.post('/webhooks/:id/rotate-secret', async (request, reply) => {
    const target = await load(request);
    const secret = await rotateSigningSecret(deps.pool, secretsKey, target.workspaceId, target.id);
    if (!secret) throw new AppError('not_found', `No webhook target ${target.id} in this workspace.`);
    return targetPage(request, reply, target, secret);
  });

  app.post('/webhooks/:id/deliveries/:deliveryId/resend', async (request, reply) => {
    const { id, deliveryId } = parseInput(deliveryParams, request.params, 'params');
    const result = await resendDelivery(deps.pool, sessionOf(request).workspaceId, id, deliveryId);
    if (result === 'not_found') throw new AppError('not_found', `No delivery ${deliveryId} of webhook target ${id} in this workspace.`);
    const notice = result === 'resent' ? 'resent' : result === 'in_flight' ? 'in-flight' : 'target-disabled';
    return reply.redirect(`/console/webhooks/${id}?notice=${notice}#delivery-${deliveryId}`, 303);
  });
}
