import type { FastifyInstance } from 'fastify';
import type { PgBoss } from 'pg-boss';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { z } from 'zod';
import { QUEUES } from '../queue/catalogue.ts';
import { routeSchema, SECURITY } from './openapi.ts';

export type Metrics = { registry: Registry; countError(code: string): void };

/** A registry per app (not prom-client's global one), so tests can run several apps in one process. */
export function createMetrics(boss: PgBoss | undefined): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'intake_' });
  const errors = new Counter({ name: 'intake_http_errors_total', help: 'Error answers by error code', labelNames: ['code'], registers: [registry] });
  new Gauge({
    name: 'intake_jobs',
    help: 'Jobs per queue and state, read from pg-boss when scraped',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      if (!boss) return;
      const queues = await boss.getQueues(Object.values(QUEUES).map((q) => q.name));
      for (const q of queues) {
        this.set({ queue: q.name, state: 'queued' }, q.queuedCount);
        this.set({ queue: q.name, state: 'deferred' }, q.deferredCount);
        this.set({ queue: q.name, state: 'active' }, q.activeCount);
        this.set({ queue: q.name, state: 'failed' }, q.failedCount);
        this.set({ queue: q.name, state: 'total' }, q.totalCount);
      }
    },
  });
  return { registry, countError: (code) => errors.inc({ code }) };
}

export function registerRequestMetrics(app: FastifyInstance, metrics: Metrics): void {
  const requests = new Counter({ name: 'intake_http_requests_total', help: 'HTTP requests', labelNames: ['method', 'route', 'status'], registers: [metrics.registry] });
  const duration = new Histogram({
    name: 'intake_http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['method', 'route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [metrics.registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    // The route pattern, not the URL, keeps label cardinality bounded.
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
  const schema = routeSchema({
    tags: ['Operations'],
    summary: 'Prometheus metrics (requests, errors by code, jobs per queue)',
    security: SECURITY.none,
    response: { 200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: z.string() } } } },
  });
  app.get('/metrics', { schema }, async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
