import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { listWebhookVersions, WEBHOOK_VERSIONS } from '../../events/webhook-versions.ts';
import { requireWorkspace } from '../auth.ts';
import { routeSchema } from '../openapi.ts';

/** The webhook schema versions a target can choose, as Plain's `webhookVersions` query lists them. */
export function webhookVersionRoutes(app: FastifyInstance): void {
  const schema = routeSchema({
    tags: ['Webhooks'],
    summary: "The webhook schema versions a target can choose, newest first (Plain's `webhookVersions`)",
    response: { 200: z.object({ webhookVersions: z.array(z.object({ version: z.enum(WEBHOOK_VERSIONS), isLatest: z.boolean(), isDeprecated: z.boolean() })) }) },
  });
  app.get('/v1/webhook-versions', { schema }, async (request) => {
    requireWorkspace(request);
    return { webhookVersions: listWebhookVersions() };
  });
}
