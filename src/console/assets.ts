import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

/**
 * The console's static files, all served by intake itself (no CDN, no build step): htmx and
 * Chart.js straight from node_modules, our stylesheet, script and icon from ./static. A fixed
 * list, read once: nothing else on disk is reachable through this route.
 */

const require = createRequire(import.meta.url);
const STATIC_DIR = fileURLToPath(new URL('./static/', import.meta.url));

const FILES: Record<string, { file: () => string; type: string }> = {
  'htmx.min.js': { file: () => require.resolve('htmx.org/dist/htmx.min.js'), type: 'text/javascript; charset=utf-8' },
  // chart.js's exports map hides dist/; its entry point sits beside the UMD build.
  'chart.umd.min.js': { file: () => path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.min.js'), type: 'text/javascript; charset=utf-8' },
  'console.js': { file: () => path.join(STATIC_DIR, 'console.js'), type: 'text/javascript; charset=utf-8' },
  'console.css': { file: () => path.join(STATIC_DIR, 'console.css'), type: 'text/css; charset=utf-8' },
  'favicon.svg': { file: () => path.join(STATIC_DIR, 'favicon.svg'), type: 'image/svg+xml' },
};

export function assetRoutes(app: FastifyInstance): void {
  const cache = new Map<string, Buffer>();
  app.get('/assets/:name', { config: { consolePublic: true } }, async (request, reply) => {
    const { name } = request.params as { name: string };
    const asset = Object.hasOwn(FILES, name) ? FILES[name]! : null;
    if (!asset) return reply.status(404).type('text/plain; charset=utf-8').send('No such asset.');
    let body = cache.get(name);
    if (!body) cache.set(name, (body = readFileSync(asset.file())));
    return reply.type(asset.type).header('cache-control', 'public, max-age=300').send(body);
  });
}

export const ASSET_NAMES = Object.freeze(Object.keys(FILES));
