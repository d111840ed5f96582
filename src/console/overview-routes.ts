import type { FastifyInstance } from 'fastify';
import type { ConsoleDeps } from './plugin.ts';
import { renderPage } from './render.ts';

export function overviewRoutes(app: FastifyInstance, deps: ConsoleDeps): void {
  app.get('/', async (request, reply) => renderPage(deps.pool, request, reply, 'overview', { title: 'Overview', nav: 'overview' }));
}
