import type { FastifyInstance } from 'fastify';
import type { Pool } from '../../db/pool.ts';
import { errorBody } from '../errors.ts';

const TIMEOUT_MS = 2_000;

export function healthRoutes(app: FastifyInstance, deps: { pool: Pool }): void {
  app.get('/healthz', async (request, reply) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        deps.pool.query('SELECT 1'),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
        }),
      ]);
      return { status: 'ok' };
    } catch (err) {
      request.log.warn({ err }, 'health check: database unreachable');
      return reply.status(503).send(errorBody('service_unavailable', 'The database is unreachable.'));
    } finally {
      clearTimeout(timer);
    }
  });
}
