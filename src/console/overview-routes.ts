import type { FastifyInstance } from 'fastify';
import { embeddableJson, overviewData, OVERVIEW_HOURS, THROUGHPUT_DAYS } from './overview-data.ts';
import type { ConsoleDeps } from './plugin.ts';
import { fmt, renderPage } from './render.ts';
import { sessionOf } from './request.ts';

export function overviewRoutes(app: FastifyInstance, deps: ConsoleDeps): void {
  const name = (provider: string) => deps.importAdapters?.[provider]?.displayName ?? provider;

  app.get('/', async (request, reply) => {
    const data = await overviewData(deps.pool, sessionOf(request).workspaceId, name);
    return renderPage(deps.pool, request, reply, 'overview', { title: 'Overview', nav: 'overview', charts: true, data, json: embeddableJson(data), hours: OVERVIEW_HOURS, days: THROUGHPUT_DAYS, fmt });
  });

  app.get('/overview.json', async (request) => overviewData(deps.pool, sessionOf(request).workspaceId, name));
}
