import type { FastifyInstance } from 'fastify';
import type { Pool } from '../../db/pool.ts';
import { z } from 'zod';
import { errorBody } from '../errors.ts';
import { routeSchema, SECURITY } from '../openapi.ts';

const TIMEOUT_MS = 2_000;

export function healthRoutes(app: FastifyInstance, deps: { pool: Pool }): void {
  const schema = routeSchema({
    tags: ['Operations'],
    summary: 'Liveness and database reachability (503 when the database does not answer within 2 s)',
    security: SECURITY.none,
    response: { 200: z.object({ status: z.literal('ok') }) },
  });
  app.get('/healthz', { schema }, async (request, reply) => {
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
