import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { PgBoss } from 'pg-boss';
import type { Logger } from 'pino';
import type { Pool } from '../db/pool.ts';
import { registerApiKeyAuth } from './auth.ts';
import { registerErrorHandling } from './errors.ts';
import { createMetrics, registerRequestMetrics } from './metrics.ts';
import { autoResponseRoutes } from './routes/auto-responses.ts';
import { customerRoutes } from './routes/customers.ts';
import { tenantRoutes } from './routes/tenants.ts';
import { healthRoutes } from './routes/health.ts';
import { inboundRoutes } from './routes/inbound.ts';
import { inboundEmailRoutes } from './routes/inbound-emails.ts';
import { threadRoutes } from './routes/threads.ts';
import { webhookTargetRoutes } from './routes/webhook-targets.ts';
import { importConnectionRoutes } from './routes/import-connections.ts';
import type { ImportAdapter } from '../import/adapter.ts';
import { IMPORT_USER_AGENT } from '../import/user-agent.ts';
import { workspaceRoutes } from './routes/workspace.ts';

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
};

/** The HTTP app, unstarted: the CLI listens on it, tests drive it with inject or a real socket. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger as FastifyBaseLogger } : { logger: false }),
    // The small default everywhere; the inbound routes raise it for themselves only.
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    requestIdHeader: 'x-request-id',
  });
  const metrics = createMetrics(deps.boss);
  registerErrorHandling(app, metrics.countError);
  registerRequestMetrics(app, metrics);
  healthRoutes(app, { pool: deps.pool });

  await app.register(async (api) => {
    registerApiKeyAuth(api, deps.pool);
    workspaceRoutes(api, { db: deps.pool, inboundDomain: deps.inboundDomain });
    customerRoutes(api, { db: deps.pool });
    tenantRoutes(api, { db: deps.pool });
    threadRoutes(api, { db: deps.pool });
    autoResponseRoutes(api, { db: deps.pool });
    if (deps.boss) inboundEmailRoutes(api, { pool: deps.pool, boss: deps.boss });
    if (deps.secretsKey) webhookTargetRoutes(api, { pool: deps.pool, secretsKey: deps.secretsKey, allowPrivate: deps.webhookAllowPrivate ?? false });
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
    // Its own scope: the raw-body parsers, the 64 MiB limit and Basic auth apply to these routes only.
    await app.register(async (inbound) => inboundRoutes(inbound, { pool: deps.pool, boss, basicAuth: inboundBasicAuth }));
  }
  return app;
}
