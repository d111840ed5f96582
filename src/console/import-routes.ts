import type { FastifyInstance } from 'fastify';
import type { ConsoleDeps } from './plugin.ts';
import { renderPage } from './render.ts';

export function importRoutes(app: FastifyInstance, deps: ConsoleDeps): void {
  app.get('/imports', async (request, reply) => renderPage(deps.pool, request, reply, 'imports', { title: 'Imports', nav: 'imports' }));
}
