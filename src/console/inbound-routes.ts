import type { FastifyInstance } from 'fastify';
import type { ConsoleDeps } from './plugin.ts';
import { renderPage } from './render.ts';

export function inboundRoutes(app: FastifyInstance, deps: ConsoleDeps): void {
  app.get('/inbound', async (request, reply) => renderPage(deps.pool, request, reply, 'inbound', { title: 'Inbound mail', nav: 'inbound' }));
}
