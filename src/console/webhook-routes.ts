import type { FastifyInstance } from 'fastify';
import type { ConsoleDeps } from './plugin.ts';
import { renderPage } from './render.ts';

export function webhookRoutes(app: FastifyInstance, deps: ConsoleDeps): void {
  app.get('/webhooks', async (request, reply) => renderPage(deps.pool, request, reply, 'webhooks', { title: 'Webhooks', nav: 'webhooks' }));
}
