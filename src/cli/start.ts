import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Config } from '../config.ts';
import { openDatabase } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { withTransaction } from '../db/pool.ts';
import { createDefaultWorkspaceIfNone } from '../domain/workspaces.ts';
import { buildApp } from '../http/app.ts';
import { threadTokenKey } from '../inbound/thread-token.ts';
import { startJobs } from '../jobs/boss.ts';
import { createMailTransport } from '../events/auto-responder.ts';
import { startAutoResponseWorker } from '../jobs/auto-response-worker.ts';
import { startEventsWorker } from '../jobs/events-worker.ts';
import { startInboundWorker } from '../jobs/inbound-worker.ts';
import { startImportWorker } from '../jobs/import-worker.ts';
import { IMPORT_ADAPTERS } from '../../importers/index.ts';
import { IMPORT_USER_AGENT } from '../import/user-agent.ts';
import { resolveLocalSecrets } from '../local-secrets.ts';
import { credentialsJson, writeCredentialsFile } from './credentials-file.ts';
import { announceFirstStart, announceGeneratedInboundAuth } from './first-start-banner.ts';
import { createLogger } from './logger.ts';

const SHUTDOWN_TIMEOUT_MS = 25_000;

/** `intake start`: database, migrations, jobs, HTTP; stops in reverse order on SIGINT/SIGTERM. */
export async function runService(config: Config): Promise<void> {
  const logger = createLogger(config);
  const startedAt = performance.now();
  const secrets = await resolveLocalSecrets(config);
  const db = await openDatabase(config, { onLog: (line) => logger.debug({ postgres: line }), poolSize: 20 });
  logger.info({ mode: db.mode }, db.mode === 'embedded' ? `database: embedded PostgreSQL in ${config.dataDir}/pg` : 'database: DATABASE_URL');

  const cleanup: Array<() => Promise<unknown>> = [() => db.close()];
  const shutdown = async (reason: string, exitCode = 0) => {
    logger.info({ reason }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error('shutdown timed out; exiting');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    let failed = false;
    for (const step of cleanup.toReversed()) {
      await step().catch((err) => {
        failed = true;
        logger.error({ err }, 'shutdown step failed');
      });
    }
    clearTimeout(timer);
    logger.info('stopped');
    process.exit(failed ? 1 : exitCode);
  };
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      void shutdown(signal);
    });
  }

  try {
    const applied = await migrate(db.pool);
    if (applied.length) logger.info({ applied }, 'migrations applied');
    const jobs = await startJobs(db.url, { onError: (err) => logger.error({ err }, 'job queue error') });
    cleanup.push(() => jobs.stop());
    const created = await withTransaction(db.pool, (tx) => createDefaultWorkspaceIfNone(tx, secrets.secretsKey));

    const tokenKey = threadTokenKey(secrets.secretsKey);
    const inbound = await startInboundWorker(jobs.boss, { pool: db.pool, boss: jobs.boss, inboundDomain: config.inboundDomain, threadTokenKey: tokenKey }, logger);
    cleanup.push(async () => inbound.stop());
    const mail = createMailTransport({ smtpUrl: config.smtpUrl, dataDir: config.dataDir });
    cleanup.push(async () => mail.close());
    await startAutoResponseWorker(jobs.boss, { pool: db.pool, transport: mail, inboundDomain: config.inboundDomain, threadTokenKey: tokenKey, perCustomerWindowSeconds: config.autoResponseWindowSeconds }, logger);
    const events = await startEventsWorker(
      jobs.boss,
      { pool: db.pool, boss: jobs.boss, secretsKey: secrets.secretsKey, allowPrivate: config.webhookAllowPrivate, timeoutMs: 10_000, timeScale: 1, userAgent: 'intake-webhooks/1.0', autoResponseDelaySeconds: config.autoResponseDelaySeconds },
      logger,
    );
    cleanup.push(() => events.stop());
    const imports = await startImportWorker(
      jobs.boss,
      {
        pool: db.pool,
        secretsKey: secrets.secretsKey,
        adapters: IMPORT_ADAPTERS,
        leaseMs: config.importLeaseSeconds * 1000,
        sliceMs: config.importSliceSeconds * 1000,
        schedulerMs: config.importSchedulerSeconds * 1000,
        userAgent: IMPORT_USER_AGENT,
        allowPrivate: config.importAllowPrivate,
      },
      logger,
    );
    cleanup.push(() => imports.stop());
    const app = await buildApp({
      pool: db.pool,
      boss: jobs.boss,
      inboundDomain: config.inboundDomain,
      inboundBasicAuth: secrets.inboundBasicAuth,
      secretsKey: secrets.secretsKey,
      webhookAllowPrivate: config.webhookAllowPrivate,
      importAdapters: IMPORT_ADAPTERS,
      importAllowPrivate: config.importAllowPrivate,
      logger,
    });
    cleanup.push(() => app.close());
    await app.listen({ port: config.port, host: config.host });
    const { port } = app.server.address() as AddressInfo;
    const url = config.publicUrl ?? `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;

    if (created) {
      const credentials = { ...credentialsJson(created, config.inboundDomain), inboundBasicAuth: secrets.inboundBasicAuth, url };
      const file = await writeCredentialsFile(config.dataDir, credentials);
      announceFirstStart(credentials, file, logger);
    } else if (secrets.generatedInboundBasicAuth) {
      announceGeneratedInboundAuth(secrets.inboundBasicAuth, path.join(config.dataDir, 'secrets.json'), logger);
    }
    logger.info({ url, readyMs: Math.round(performance.now() - startedAt) }, `intake is ready at ${url}`);
  } catch (err) {
    logger.error({ err }, 'start-up failed');
    stopping = true;
    await shutdown('start-up failed', 1).catch(() => process.exit(1));
  }
}
