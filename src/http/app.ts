import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import type { Pool } from '../db/pool.ts';
import { registerApiKeyAuth } from './auth.ts';
import { clientErrorHandler, frameworkErrorHandler, registerErrorHandling } from './errors.ts';
import { createMetrics, registerRequestMetrics } from './metrics.ts';
import { registerNulGuard } from './nul-guard.ts';
import { registerOpenApi } from './openapi.ts';
import { attachmentRoutes } from './routes/attachments.ts';
import { autoResponseRoutes } from './routes/auto-responses.ts';
import { customerRoutes } from './routes/customers.ts';
import { tenantRoutes } from './routes/tenants.ts';
import { healthRoutes } from './routes/health.ts';
import { inboundRoutes } from './routes/inbound.ts';
import { inboundEmailRoutes } from './routes/inbound-emails.ts';
import { threadRoutes } from './routes/threads.ts';
import { webhookTargetRoutes } from './routes/webhook-targets.ts';
import { webhookVersionRoutes } from './routes/webhook-versions.ts';
import { importConnectionRoutes } from './routes/import-connections.ts';
import type { ImportAdapter } from '../import/adapter.ts';
import { IMPORT_USER_AGENT } from '../import/user-agent.ts';
import { workspaceRoutes } from './routes/workspace.ts';
import { consoleRoutes } from '../console/plugin.ts';
import type { WakeInbound } from '../inbound/receive.ts';

export type AppDeps = {
  pool: Pool;
  /** Without it (tests of the API alone) the inbound routes and replay are not mounted. */
  boss?: PgBoss;
  inboundDomain: string;
  /** `user:pass` the inbound webhook requires. */
  inboundBasicAuth?: string;
  /** For webhook target secrets; without it the webhook target routes are not mounted. */
  secretsKey?: Buffer;
  webhookAllowPrivate?: boolean;
  /** The importers the API offers; import routes are mounted with boss and secretsKey. */
  importAdapters?: Readonly<Record<string, ImportAdapter<any, any>>>;
  importAllowPrivate?: boolean;
  logger?: Logger;
  /** This process's inbound workers: its receipts wake them directly (see receiveInbound). */
  wakeInbound?: WakeInbound;
};

/**
 * Socket timeouts. Fastify leaves the request and idle timeouts off; a slow sender would hold a
 * socket (and a large-body slot, see body-slots.ts) for as long as it likes.
 */
export const HTTP_TIMEOUTS = Object.freeze({
  /** The whole request, headers and body, from its first byte: 64 MiB needs ~220 KB/s (Node's own default). */
  requestMs: 300_000,
  /** A socket with no traffic either way for this long is closed. */
  idleMs: 120_000,
  /** Longer than load balancers' usual 60 s, so a balancer never reuses a socket we are closing. */
  keepAliveMs: 72_000,
  /** How often Node checks requestTimeout (its default, 30 s, would let a request overrun by that much). */
  checkEveryMs: 5_000,
});

/** The HTTP app, unstarted: the CLI listens on it, tests drive it with inject or a real socket. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const metrics = createMetrics(deps.boss);
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger as FastifyBaseLogger } : { logger: false }),
    // The small default everywhere; the inbound routes raise it for themselves only.
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    requestIdHeader: 'x-request-id',
    requestTimeout: HTTP_TIMEOUTS.requestMs,
    connectionTimeout: HTTP_TIMEOUTS.idleMs,
    keepAliveTimeout: HTTP_TIMEOUTS.keepAliveMs,
    http: { connectionsCheckingInterval: HTTP_TIMEOUTS.checkEveryMs },
    // Errors raised below the routes (router, Node's HTTP parser) in Plain's shape as well.
    frameworkErrors: frameworkErrorHandler(metrics.countError),
    clientErrorHandler: clientErrorHandler(metrics.countError),
  });
  registerErrorHandling(app, metrics.countError);
  registerNulGuard(app);
  // Before the routes: it documents each route as it is added.
  await registerOpenApi(app);
  registerRequestMetrics(app, metrics);
  healthRoutes(app, { pool: deps.pool });

  await app.register(async (api) => {
    registerApiKeyAuth(api, deps.pool);
    workspaceRoutes(api, { db: deps.pool, inboundDomain: deps.inboundDomain });
    customerRoutes(api, { db: deps.pool });
    tenantRoutes(api, { db: deps.pool });
    threadRoutes(api, { db: deps.pool });
    attachmentRoutes(api, { db: deps.pool });
    autoResponseRoutes(api, { db: deps.pool });
    if (deps.boss) inboundEmailRoutes(api, { pool: deps.pool, boss: deps.boss });
    if (deps.secretsKey) webhookTargetRoutes(api, { pool: deps.pool, secretsKey: deps.secretsKey, allowPrivate: deps.webhookAllowPrivate ?? false });
    webhookVersionRoutes(api);
    if (deps.boss && deps.secretsKey && deps.importAdapters) {
      importConnectionRoutes(api, {
        pool: deps.pool,
        boss: deps.boss,
        secretsKey: deps.secretsKey,
        adapters: deps.importAdapters,
        allowPrivate: deps.importAllowPrivate ?? false,
        userAgent: IMPORT_USER_AGENT,
      });
    }
  });
  const { boss, inboundBasicAuth } = deps;
  if (boss && inboundBasicAuth) {
    // Its own scope: the raw-body parsers, the 64 MiB limit, the large-body slots and Basic auth apply to these routes only.
    await app.register(async (inbound) => inboundRoutes(inbound, { pool: deps.pool, boss, basicAuth: inboundBasicAuth, inboundDomain: deps.inboundDomain, wakeInbound: deps.wakeInbound }));
  }
  // The operator console: HTML pages behind a session cookie, in its own scope (cookies, forms, views).
  const consoleDeps = { pool: deps.pool, boss: deps.boss, secretsKey: deps.secretsKey, importAdapters: deps.importAdapters, importAllowPrivate: deps.importAllowPrivate ?? false, userAgent: IMPORT_USER_AGENT };
  await app.register(async (scope) => consoleRoutes(scope, consoleDeps), { prefix: '/console' });
  return app;
}
