import type { FastifyInstance } from 'fastify';
import { listWebhookVersions } from '../../events/webhook-versions.ts';
import { requireWorkspace } from '../auth.ts';

/** The webhook schema versions a target can choose, as Plain's `webhookVersions` query lists them. */
export function webhookVersionRoutes(app: FastifyInstance): void {
  app.get('/v1/webhook-versions', async (request) => {
    requireWorkspace(request);
    return { webhookVersions: listWebhookVersions() };
  });
}
