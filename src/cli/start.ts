import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import path from 'node:path';
import type { Config } from '../config.ts';
import { openDatabase } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { warmPool, withTransaction } from '../db/pool.ts';
import { createDefaultWorkspaceIfNone } from '../domain/workspaces.ts';
import { sealLegacyUrlPasswords } from '../events/webhook-targets.ts';
import { closeWorkers } from '../inbound/worker-pool.ts';
import { buildApp } from '../http/app.ts';
import { threadTokenKey } from '../domain/thread-token.ts';
import { startJobs } from '../queue/boss.ts';
import { createMailTransport } from '../events/auto-responder.ts';
import { startAutoResponseWorker } from '../jobs/auto-response-worker.ts';
import { startEventsWorker } from '../jobs/events-worker.ts';
import { startInboundWorker } from '../jobs/inbound-worker.ts';
import { INBOUND_LOOP } from '../inbound/processing-loop.ts';
import { startInboundThread } from '../inbound/processing-loop-thread.ts';
import { startImportWorker } from '../jobs/import-worker.ts';
import { importDeps } from './import-deps.ts';
import { resolveLocalSecrets } from '../local-secrets.ts';
import { credentialsJson, writeCredentialsFile } from './credentials-file.ts';
import { followUrlInCredentials } from './credentials-url.ts';
import { EXIT } from './exit-codes.ts';
import { announceFirstStart, announceGeneratedInboundAuth } from './first-start-banner.ts';
import { createLogger } from './logger.ts';

const SHUTDOWN_TIMEOUT_MS = 25_000;
/** How long a stop lets requests in flight finish before it drops their connections. */
const HTTP_DRAIN_MS = 5_000;
// Connections to the database per process: HTTP requests, the event relay and webhook loop, imports
// (processing has its own, below; the two together are what one pool of 20 was before).
const POOL_SIZE = 15;
// The inbound thread's own: its batches at once, the large lane, its LISTEN connection, and room.
const INBOUND_THREAD_POOL_SIZE = INBOUND_LOOP.maxBatches + 3;

/** `intake start`: database, migrations, jobs, HTTP; stops in reverse order on SIGINT/SIGTERM. */
export async function runService(config: Config): Promise<void> {
  const logger = createLogger(config);
  const startedAt = performance.now();
  const secrets = await resolveLocalSecrets(config);

  // Stops in reverse order of start: HTTP, then the workers (which finish or hand back their
  // jobs), then what they use (mail, database).
  const cleanup: Array<{ name: string; run: () => Promise<unknown> }> = [];
  const shutdown = async (reason: string, exitCode = 0) => {
    logger.info({ reason }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error('shutdown timed out; exiting');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    let failed = false;
    for (const step of cleanup.toReversed()) {
      const began = performance.now();
      await step.run().catch((err) => {
        failed = true;
        logger.error({ err, step: step.name }, 'shutdown step failed');
      });
      logger.debug({ step: step.name, ms: Math.round(performance.now() - began) }, 'shutdown step done');
    }
    clearTimeout(timer);
    logger.info({ ms: Math.round(performance.now() - stopStartedAt) }, 'stopped');
    process.exit(failed ? 1 : exitCode);
  };
  let stopping = false;
  let stopStartedAt = 0;
  const stop = (reason: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    stopStartedAt = performance.now();
    void shutdown(reason, exitCode).catch(() => process.exit(1));
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => stop(signal));

  const db = await openDatabase(config, {
    onLog: (line) => logger.debug({ postgres: line }),
    onNotice: (message) => logger.warn(message),
    // The embedded server is gone for good: exit non-zero so a supervisor restarts intake.
    onGiveUp: (err) => {
      logger.fatal(`${err.message}; exiting so that a supervisor restarts intake`);
      stop('embedded PostgreSQL is gone', 1);
    },
    poolSize: POOL_SIZE,
  });
  cleanup.push({ name: 'database', run: () => db.close() });
  logger.info({ mode: db.mode }, db.mode === 'embedded' ? `database: embedded PostgreSQL in ${config.dataDir}/pg` : 'database: DATABASE_URL');

  try {
    const applied = await migrate(db.pool);
    if (applied.length) logger.info({ applied }, 'migrations applied');
    const sealed = await sealLegacyUrlPasswords(db.pool, secrets.secretsKey);
    if (sealed) logger.info({ sealed }, 'webhook URL passwords sealed');
    const mail = createMailTransport({ smtpUrl: config.smtpUrl, dataDir: config.dataDir });
    cleanup.push({ name: 'mail', run: async () => mail.close() });
    // After the job workers stop (an email being parsed finishes or is handed back), before mail and the database.
    cleanup.push({ name: 'parser threads', run: () => closeWorkers() });
    const jobs = await startJobs(db.url, {
      // While stopping, the embedded server's fast shutdown ends pg-boss's last idle connections
      // (57P01): expected, so not an error line on Ctrl-C.
      onError: (err) =>
        stopping && (err as { code?: unknown }).code === '57P01' ? logger.debug({ err }, 'job queue connection closed by the stopping database') : logger.error({ err }, 'job queue error'),
    });
    cleanup.push({ name: 'jobs', run: () => jobs.stop() });
    const created = await withTransaction(db.pool, (tx) => createDefaultWorkspaceIfNone(tx, secrets.secretsKey));
    const importing = importDeps(config, db.pool, secrets.secretsKey);

    // Before the workers and the HTTP server start: mail arriving right after a (re)start finds the connections open.
    await warmPool(db.pool, POOL_SIZE);
    const tokenKey = threadTokenKey(secrets.secretsKey);
    const inboundDeps = { pool: db.pool, boss: jobs.boss, inboundDomain: config.inboundDomain, threadTokenKey: tokenKey };
    const inbound = await startInboundWorker(jobs.boss, inboundDeps, logger, {}, () =>
      startInboundThread({ databaseUrl: db.url, poolSize: INBOUND_THREAD_POOL_SIZE, inboundDomain: config.inboundDomain, threadTokenKey: tokenKey, logLevel: config.logLevel }, logger, (err) => {
        logger.fatal(`${err.message}; exiting so that a supervisor restarts intake`);
        stop('the inbound processing thread keeps dying', 1);
      }),
    );
    cleanup.push({ name: 'inbound processing', run: () => inbound.stop() });
    await startAutoResponseWorker(jobs.boss, { pool: db.pool, transport: mail, inboundDomain: config.inboundDomain, threadTokenKey: tokenKey, perCustomerWindowSeconds: config.autoResponseWindowSeconds }, logger);
    const events = await startEventsWorker(
      jobs.boss,
      { pool: db.pool, boss: jobs.boss, secretsKey: secrets.secretsKey, allowPrivate: config.webhookAllowPrivate, timeoutMs: 10_000, timeScale: 1, userAgent: 'intake-webhooks/1.0', autoResponseDelaySeconds: config.autoResponseDelaySeconds },
      logger,
    );
    cleanup.push({ name: 'event relay', run: () => events.stop() });
    const imports = await startImportWorker(jobs.boss, importing, logger);
    cleanup.push({ name: 'imports', run: () => imports.stop() });
    const app = await buildApp({
      pool: db.pool,
      boss: jobs.boss,
      inboundDomain: config.inboundDomain,
      inboundBasicAuth: secrets.inboundBasicAuth,
      secretsKey: secrets.secretsKey,
      webhookAllowPrivate: config.webhookAllowPrivate,
      importAdapters: importing.adapters,
      importAllowPrivate: importing.allowPrivate,
      logger,
      wakeInbound: inbound.wake,
    });
    cleanup.push({ name: 'http', run: () => closeHttp(app) });
    try {
      await app.listen({ port: config.port, host: config.host });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      // Expected, and fixed by a setting: one line, no stack.
      logger.fatal(`port ${config.port} on ${config.host} is already in use: set PORT to a free port (e.g. PORT=3001 npx intake start) or stop what listens there`);
      stop('port in use', EXIT.config);
      return;
    }
    const { port } = app.server.address() as AddressInfo;
    const url = config.publicUrl ?? `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;

    if (created) {
      const credentials = { ...credentialsJson(created, config.inboundDomain), inboundBasicAuth: secrets.inboundBasicAuth, url };
      const file = await writeCredentialsFile(config.dataDir, credentials);
      announceFirstStart(credentials, file, logger);
    } else {
      await followUrlInCredentials(config.dataDir, url);
    }
    if (!created && secrets.generatedInboundBasicAuth) {
      announceGeneratedInboundAuth(secrets.inboundBasicAuth, path.join(config.dataDir, 'secrets.json'), logger);
    }
    logger.info({ url, readyMs: Math.round(performance.now() - startedAt) }, `intake is ready at ${url}`);
  } catch (err) {
    logger.error({ err }, 'start-up failed');
    stop('start-up failed', 1);
  }
}

/**
 * Stops taking requests and lets those in flight finish. Each finished request leaves its
 * keep-alive socket idle, which Node's close() would wait on for the whole keep-alive timeout,
 * so idle sockets are closed as they appear. After HTTP_DRAIN_MS every connection is dropped:
 * a request cut short was not answered 200, so its sender retries, and nothing is lost.
 */
async function closeHttp(app: FastifyInstance): Promise<void> {
  const closing = app.close();
  const idle = setInterval(() => app.server.closeIdleConnections(), 100);
  const cut = setTimeout(() => app.server.closeAllConnections(), HTTP_DRAIN_MS);
  try {
    await closing;
  } finally {
    clearInterval(idle);
    clearTimeout(cut);
  }
}
