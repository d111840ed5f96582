import type { FastifyInstance } from 'fastify';
import type { PgBoss } from 'pg-boss';
import { z } from 'zod';
import type { Pool } from '../../db/pool.ts';
import type { ImportAdapter } from '../../import/adapter.ts';
import { checkConnectionInput, connectProvider, ProviderUnreachableError } from '../../import/connect.ts';
import { ConnectionExistsError, disconnectConnection, getConnection, listConnections, openConnection, replaceCredentials, type ImportConnection } from '../../import/connections.ts';
import { activeRun, getRun, latestRuns, listRecordErrors, type ImportRun } from '../../import/runs.ts';
import { startRun } from '../../import/start-run.ts';
import { requireWorkspace } from '../auth.ts';
import { AppError, parseInput } from '../errors.ts';
import { pageInfoSchema, routeSchema, timestamp } from '../openapi.ts';
import { page, pageQuery } from '../pagination.ts';

const createBody = z
  .object({
    provider: z.string().min(1).max(50),
    credentials: z.record(z.string(), z.unknown()),
    settings: z.record(z.string(), z.unknown()).default({}),
    schedule: z.object({ everyMinutes: z.number().int().min(1).max(7 * 24 * 60).default(5) }).strict().default({ everyMinutes: 5 }),
  })
  .strict();
const patchBody = z.object({ credentials: z.record(z.string(), z.unknown()) }).strict();
const idParams = z.object({ id: z.string().min(1).max(100) });

const RECORD_ERRORS_SHOWN = 50;

const runSchema = z.object({
  id: z.string(),
  connectionId: z.string(),
  kind: z.enum(['full', 'incremental']),
  status: z.enum(['queued', 'running', 'waiting', 'succeeded', 'failed', 'needs_reauth', 'cancelled']),
  streams: z
    .record(z.string(), z.object({ created: z.number().int(), linked: z.number().int(), skipped: z.number().int(), failed: z.number().int() }))
    .meta({ description: 'Records per stream (users, tickets, comments...): created, linked to existing ones, skipped, failed.' }),
  progress: z.record(z.string(), z.object({ pages: z.number().int(), done: z.boolean() })),
  error: z.string().nullable().meta({ description: "The provider's own words when the run failed." }),
  retryAt: timestamp.nullable(),
  attempts: z.number().int(),
  createdAt: timestamp,
  startedAt: timestamp.nullable(),
  finishedAt: timestamp.nullable(),
});
const connectionSchema = z.object({
  id: z.string(),
  provider: z.string(),
  account: z.string(),
  settings: z.record(z.string(), z.unknown()),
  credentials: z.record(z.string(), z.string()).meta({ description: 'What may be shown of them (never a secret).' }),
  schedule: z.object({ everyMinutes: z.number() }),
  status: z.enum(['active', 'needs_reauth', 'disconnected']),
  lastError: z.string().nullable(),
  fullRunCompletedAt: timestamp.nullable(),
  nextRunAt: timestamp.nullable(),
  createdAt: timestamp,
  updatedAt: timestamp,
  latestRun: runSchema.nullable(),
});
const oneConnection = z.object({ importConnection: connectionSchema });
const runWithErrors = z.object({
  importRun: runSchema.extend({
    recordErrors: z.object({
      total: z.number().int(),
      items: z
        .array(z.object({ stream: z.string(), recordType: z.string(), sourceId: z.string(), reason: z.string(), excerpt: z.string().nullable(), createdAt: timestamp }))
        .meta({ description: `The first ${RECORD_ERRORS_SHOWN}.` }),
    }),
  }),
});
const tags = ['Imports'];

export type ImportRouteDeps = {
  pool: Pool;
  boss: PgBoss;
  secretsKey: Buffer;
  adapters: Readonly<Record<string, ImportAdapter<any, any>>>;
  allowPrivate: boolean;
  userAgent: string;
};

export function presentRun(r: ImportRun) {
  return {
    id: r.id,
    connectionId: r.connectionId,
    kind: r.kind,
    status: r.status,
    streams: r.counts,
    progress: r.progress,
    error: r.error,
    retryAt: r.retryAt?.toISOString() ?? null,
    attempts: r.attempts,
    createdAt: r.createdAt.toISOString(),
    startedAt: r.startedAt?.toISOString() ?? null,
    finishedAt: r.finishedAt?.toISOString() ?? null,
  };
}

export function importConnectionRoutes(app: FastifyInstance, deps: ImportRouteDeps): void {
  // What may be shown of the credentials: never a secret.
  const present = async (c: ImportConnection, latest: ImportRun | undefined) => {
    const opened = await openConnection(deps.pool, deps.secretsKey, c.id);
    const adapter = deps.adapters[c.provider];
    const parsed = adapter?.credentialsSchema.safeParse(opened?.credentials);
    return {
      id: c.id,
      provider: c.provider,
      account: c.account,
      settings: c.settings,
      credentials: adapter && parsed?.success ? adapter.describeCredentials(parsed.data) : {},
      schedule: { everyMinutes: c.scheduleSeconds / 60 },
      status: c.status,
      lastError: c.lastError,
      fullRunCompletedAt: c.fullRunCompletedAt?.toISOString() ?? null,
      nextRunAt: c.nextRunAt?.toISOString() ?? null,
      createdAt: c.createdAt.toISOString(),
      updatedAt: c.updatedAt.toISOString(),
      latestRun: latest ? presentRun(latest) : null,
    };
  };
  const load = async (workspaceId: string, id: string) => {
    const c = await getConnection(deps.pool, workspaceId, id);
    if (!c) throw new AppError('not_found', `Import connection ${id} not found.`);
    return c;
  };
  const providerErrors = (err: unknown): never => {
    if (err instanceof ProviderUnreachableError) throw new AppError('service_unavailable', err.message);
    if (err instanceof ConnectionExistsError) throw new AppError('conflict', `This workspace is already connected to that account (${err.existingId}); disconnect it first.`);
    throw err;
  };

  const createSchema = routeSchema({
    tags,
    summary: 'Connect a helpdesk (credentials checked against the provider); its first, full run starts at once',
    body: createBody,
    response: { 201: oneConnection },
  });
  app.post('/v1/import-connections', { schema: createSchema }, async (request, reply) => {
    const workspace = requireWorkspace(request);
    const body = parseInput(createBody, request.body, 'body');
    const connection = await connectProvider(
      deps.pool,
      deps.secretsKey,
      deps.adapters,
      workspace.id,
      { provider: body.provider, credentials: body.credentials, settings: body.settings, scheduleSeconds: body.schedule.everyMinutes * 60 },
      { allowPrivate: deps.allowPrivate, userAgent: deps.userAgent },
    ).catch(providerErrors);
    // The first (full) run starts at once.
    const run = await startRun(deps.pool, deps.boss, connection.id);
    return reply.status(201).send({ importConnection: await present(connection, run ?? undefined) });
  });

  const listSchema = routeSchema({
    tags,
    summary: "The workspace's import connections, each with its latest run",
    querystring: pageQuery,
    response: { 200: z.object({ importConnections: z.array(connectionSchema), pageInfo: pageInfoSchema }) },
  });
  app.get('/v1/import-connections', { schema: listSchema }, async (request) => {
    const workspace = requireWorkspace(request);
    const q = parseInput(pageQuery, request.query, 'query');
    const { items, pageInfo } = await page(q, (after, limit) => listConnections(deps.pool, workspace.id, { after, limit }));
    const latest = await latestRuns(deps.pool, items.map((c) => c.id));
    return { importConnections: await Promise.all(items.map((c) => present(c, latest.get(c.id)))), pageInfo };
  });

  app.get('/v1/import-connections/:id', { schema: routeSchema({ tags, summary: 'One import connection with its latest run', params: idParams, response: { 200: oneConnection } }) }, async (request) => {
    const workspace = requireWorkspace(request);
    const c = await load(workspace.id, parseInput(idParams, request.params, 'params').id);
    return { importConnection: await present(c, (await latestRuns(deps.pool, [c.id])).get(c.id)) };
  });

  // Re-authorisation: new credentials, checked against the provider; the connection is active again.
  const patchSchema = routeSchema({ tags, summary: 'Re-authorise: new credentials, checked against the provider', params: idParams, body: patchBody, response: { 200: oneConnection } });
  app.patch('/v1/import-connections/:id', { schema: patchSchema }, async (request) => {
    const workspace = requireWorkspace(request);
    const c = await load(workspace.id, parseInput(idParams, request.params, 'params').id);
    if (c.status === 'disconnected') throw new AppError('conflict', `Import connection ${c.id} is disconnected.`);
    const body = parseInput(patchBody, request.body, 'body');
    const checked = await checkConnectionInput(deps.adapters, { provider: c.provider, credentials: body.credentials, settings: c.settings, scheduleSeconds: c.scheduleSeconds }, { allowPrivate: deps.allowPrivate, userAgent: deps.userAgent }).catch(providerErrors);
    await replaceCredentials(deps.pool, deps.secretsKey, c.id, checked.credentials);
    const updated = await load(workspace.id, c.id);
    return { importConnection: await present(updated, (await latestRuns(deps.pool, [c.id])).get(c.id)) };
  });

  // Disconnect: no more runs; what was imported stays.
  const deleteSchema = routeSchema({ tags, summary: 'Disconnect: no more runs; what was imported stays', params: idParams, response: { 200: oneConnection } });
  app.delete('/v1/import-connections/:id', { schema: deleteSchema }, async (request) => {
    const workspace = requireWorkspace(request);
    const { id } = parseInput(idParams, request.params, 'params');
    const c = await disconnectConnection(deps.pool, workspace.id, id);
    if (!c) throw new AppError('not_found', `Import connection ${id} not found.`);
    return { importConnection: await present(c, (await latestRuns(deps.pool, [c.id])).get(c.id)) };
  });

  const runSchemaDoc = routeSchema({ tags, summary: 'Start a run now (409 while one is active)', params: idParams, response: { 201: z.object({ importRun: runSchema }) } });
  app.post('/v1/import-connections/:id/runs', { schema: runSchemaDoc }, async (request, reply) => {
    const workspace = requireWorkspace(request);
    const c = await load(workspace.id, parseInput(idParams, request.params, 'params').id);
    if (c.status !== 'active') throw new AppError('conflict', `Import connection ${c.id} is ${c.status}${c.status === 'needs_reauth' ? ': send new credentials with PATCH first' : ''}.`);
    const run = await startRun(deps.pool, deps.boss, c.id);
    if (!run) {
      const active = await activeRun(deps.pool, c.id);
      throw new AppError('conflict', `Import connection ${c.id} already has an active run${active ? ` (${active.id})` : ''}.`);
    }
    return reply.status(201).send({ importRun: presentRun(run) });
  });

  const getRunSchema = routeSchema({ tags, summary: 'One import run with its record errors', params: idParams, response: { 200: runWithErrors } });
  app.get('/v1/import-runs/:id', { schema: getRunSchema }, async (request) => {
    const workspace = requireWorkspace(request);
    const { id } = parseInput(idParams, request.params, 'params');
    const run = await getRun(deps.pool, workspace.id, id);
    if (!run) throw new AppError('not_found', `Import run ${id} not found.`);
    const { total, errors } = await listRecordErrors(deps.pool, workspace.id, run.id, RECORD_ERRORS_SHOWN);
    return {
      importRun: {
        ...presentRun(run),
        recordErrors: { total, items: errors.map((e) => ({ ...e, createdAt: e.createdAt.toISOString() })) },
      },
    };
  });
}
