import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { InputError } from '../domain/input-error.ts';
import { AppError, parseInput } from '../http/errors.ts';
import { checkConnectionInput, ProviderUnreachableError } from '../import/connect.ts';
import { disconnectConnection, getConnection, listConnections, replaceCredentials, type ImportConnection } from '../import/connections.ts';
import { listRuns } from '../import/run-stats.ts';
import { getRun, latestRuns, listRecordErrors } from '../import/runs.ts';
import { startRun } from '../import/start-run.ts';
import type { ConsoleDeps } from './plugin.ts';
import { fmt, noticeFrom, renderPage, type Notices } from './render.ts';
import { sessionOf } from './request.ts';
import { credentialsHint } from './credentials-hint.ts';
import { formatRate, formatSeconds, runView } from './run-view.ts';

const idParams = z.object({ id: z.string().min(1).max(100) });
const backField = z.object({ back: z.enum(['list', 'detail']).default('list') });
const reauthBody = z.object({ credentials: z.string().max(20_000) });

const CONNECTIONS_SHOWN = 100;
const RUNS_SHOWN = 20;
const RECORD_ERRORS_SHOWN = 50;

const NOTICES = {
  'run-started': { text: 'A run has started.' },
  'already-running': { text: 'This connection already has a run under way.', error: true },
  'not-active': { text: 'Only an active connection can run: re-authorise it first.', error: true },
  disconnected: { text: 'Disconnected: no more runs; what was imported stays.' },
  reauthorised: { text: 'New credentials saved: the connection is active again.' },
} satisfies Notices;

/** Everything a template needs to draw one run's progress (the live fragment and the pages around it). */
export const progressHelpers = { fmt, formatRate, formatSeconds };

export function importRoutes(app: FastifyInstance, deps: ConsoleDeps): void {
  const { boss, secretsKey, importAdapters: adapters } = deps;
  const enabled = Boolean(boss && secretsKey && adapters);
  const displayName = (provider: string) => adapters?.[provider]?.displayName ?? provider;

  const load = async (request: FastifyRequest): Promise<ImportConnection> => {
    const { id } = parseInput(idParams, request.params, 'params');
    const c = await getConnection(deps.pool, sessionOf(request).workspaceId, id);
    if (!c) throw new AppError('not_found', `No import connection ${id} in this workspace.`);
    return c;
  };
  const backTo = (request: FastifyRequest, reply: FastifyReply, c: ImportConnection, notice: keyof typeof NOTICES) => {
    const back = backField.safeParse(request.body ?? {}).data?.back ?? 'list';
    return reply.redirect(`${back === 'detail' ? `/console/imports/${c.id}` : '/console/imports'}?notice=${notice}`, 303);
  };

  app.get('/imports', async (request, reply) => {
    const workspaceId = sessionOf(request).workspaceId;
    const connections = await listConnections(deps.pool, workspaceId, { limit: CONNECTIONS_SHOWN });
    const latest = await latestRuns(deps.pool, connections.map((c) => c.id));
    const items = connections
      .sort((a, b) => Number(a.status === 'disconnected') - Number(b.status === 'disconnected'))
      .map((c) => ({ connection: c, name: displayName(c.provider), run: latest.get(c.id) ? runView(latest.get(c.id)!) : null }));
    return renderPage(deps.pool, request, reply, 'imports', { title: 'Imports', nav: 'imports', items, enabled, notice: noticeFrom(request, NOTICES), h: progressHelpers });
  });

  app.get('/imports/:id', async (request, reply) => {
    const c = await load(request);
    const latest = (await latestRuns(deps.pool, [c.id])).get(c.id);
    const runs = await listRuns(deps.pool, c.workspaceId, c.id, RUNS_SHOWN);
    return renderPage(deps.pool, request, reply, 'import-connection', {
      title: `${displayName(c.provider)} ${c.account}`,
      nav: 'imports',
      connection: c,
      name: displayName(c.provider),
      run: latest ? runView(latest) : null,
      runs,
      enabled,
      notice: noticeFrom(request, NOTICES),
      h: progressHelpers,
    });
  });

  // The live part: htmx fetches it every second while the run is under way (the fragment stops asking once it ends).
  app.get('/imports/:id/progress', async (request, reply) => {
    const c = await load(request);
    const latest = (await latestRuns(deps.pool, [c.id])).get(c.id);
    // With the connection's status and last error swapped in beside it (htmx out-of-band): a run that ends in needs_reauth shows so at once.
    return reply.view('run-progress-poll', { connection: c, run: latest ? runView(latest) : null, h: progressHelpers });
  });

  app.get('/imports/runs/:id', async (request, reply) => {
    const { id } = parseInput(idParams, request.params, 'params');
    const workspaceId = sessionOf(request).workspaceId;
    const run = await getRun(deps.pool, workspaceId, id);
    if (!run) throw new AppError('not_found', `No import run ${id} in this workspace.`);
    const c = (await getConnection(deps.pool, workspaceId, run.connectionId))!;
    const { total, errors } = await listRecordErrors(deps.pool, workspaceId, run.id, RECORD_ERRORS_SHOWN);
    return renderPage(deps.pool, request, reply, 'import-run', {
      title: `Run ${run.id}`,
      nav: 'imports',
      connection: c,
      name: displayName(c.provider),
      run: runView(run),
      errorTotal: total,
      errors,
      h: progressHelpers,
    });
  });

  if (!boss || !secretsKey || !adapters) return;

  app.post('/imports/:id/run', async (request, reply) => {
    const c = await load(request);
    if (c.status !== 'active') return backTo(request, reply, c, 'not-active');
    const run = await startRun(deps.pool, boss, c.id);
    return backTo(request, reply, c, run ? 'run-started' : 'already-running');
  });

  // A confirmation first: one click should not end an account's imports.
  app.get('/imports/:id/disconnect', async (request, reply) => {
    const c = await load(request);
    if (c.status === 'disconnected') return reply.redirect(`/console/imports/${c.id}`, 303);
    return renderPage(deps.pool, request, reply, 'import-disconnect', { title: `Disconnect ${displayName(c.provider)} ${c.account}`, nav: 'imports', connection: c, name: displayName(c.provider) });
  });

  app.post('/imports/:id/disconnect', async (request, reply) => {
    const c = await load(request);
    await disconnectConnection(deps.pool, c.workspaceId, c.id);
    return backTo(request, reply, c, 'disconnected');
  });

  const reauthPage = (request: FastifyRequest, reply: FastifyReply, c: ImportConnection, error: { message: string; fields: string[] } | null, status = 200) =>
    renderPage(deps.pool, request, reply.status(status), 'import-reauthorise', {
      title: `Re-authorise ${displayName(c.provider)} ${c.account}`,
      nav: 'imports',
      connection: c,
      name: displayName(c.provider),
      hint: credentialsHint(adapters[c.provider]),
      error,
    });

  app.get('/imports/:id/reauthorise', async (request, reply) => reauthPage(request, reply, await load(request), null));

  // New credentials, checked against the provider exactly as PATCH /v1/import-connections/:id checks them.
  app.post('/imports/:id/reauthorise', async (request, reply) => {
    const c = await load(request);
    if (c.status === 'disconnected') return reauthPage(request, reply, c, { message: 'This connection is disconnected; connect the account again instead.', fields: [] }, 409);
    const body = reauthBody.safeParse(request.body ?? {});
    let credentials: unknown;
    try {
      credentials = body.success ? JSON.parse(body.data.credentials) : undefined;
    } catch (err) {
      return reauthPage(request, reply, c, { message: `The credentials are not JSON: ${(err as Error).message}`, fields: [] }, 400);
    }
    if (typeof credentials !== 'object' || credentials === null || Array.isArray(credentials)) {
      return reauthPage(request, reply, c, { message: 'Paste the credentials as a JSON object, as the hint shows.', fields: [] }, 400);
    }
    try {
      const checked = await checkConnectionInput(adapters, { provider: c.provider, credentials, settings: c.settings, scheduleSeconds: c.scheduleSeconds }, { allowPrivate: deps.importAllowPrivate, userAgent: deps.userAgent });
      await replaceCredentials(deps.pool, secretsKey, c.id, checked.credentials);
    } catch (err) {
      if (err instanceof InputError) return reauthPage(request, reply, c, { message: err.message, fields: err.fields.map((f) => `${f.field}: ${f.message}`) }, 400);
      if (err instanceof ProviderUnreachableError) return reauthPage(request, reply, c, { message: err.message, fields: [] }, 503);
      throw err;
    }
    return reply.redirect(`/console/imports/${c.id}?notice=reauthorised`, 303);
  });
}
