import { fileURLToPath } from 'node:url';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import fastifyView from '@fastify/view';
import { Eta } from 'eta';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { PgBoss } from 'pg-boss';
import type { Pool } from '../db/pool.ts';
import type { ImportAdapter } from '../import/adapter.ts';
import { classifyError, ERRORS } from '../http/errors.ts';
import { assetRoutes } from './assets.ts';
import { authRoutes, SESSION_COOKIE } from './auth-routes.ts';
import { importRoutes } from './import-routes.ts';
import { inboundRoutes } from './inbound-routes.ts';
import { overviewRoutes } from './overview-routes.ts';
import { isHtmx } from './request.ts';
import { csrfMatches, findSession } from './sessions.ts';
import { webhookRoutes } from './webhook-routes.ts';

/**
 * The operator console under /console: server-rendered pages (eta through @fastify/view), a
 * session cookie in place of the API key, a CSRF token on every POST, and every query scoped to
 * the session's workspace exactly as the API scopes it to the key's.
 */

export type ConsoleDeps = {
  pool: Pool;
  /** Replay and run-now need the queue; without it those buttons are not offered. */
  boss?: PgBoss | undefined;
  /** Webhook targets and import connections need it, as their API routes do. */
  secretsKey?: Buffer | undefined;
  importAdapters?: Readonly<Record<string, ImportAdapter<any, any>>> | undefined;
  importAllowPrivate: boolean;
  userAgent: string;
};

const VIEWS_DIR = fileURLToPath(new URL('./views/', import.meta.url));

/** Only this origin's scripts, styles, images and requests: no inline code, no framing. */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Where a signed-out browser goes: a redirect, or for htmx (which would swap the sign-in page into a fragment) HX-Redirect. */
function toSignIn(request: FastifyRequest, reply: FastifyReply) {
  if (isHtmx(request)) return reply.header('hx-redirect', '/console/sign-in').status(200).send('');
  return reply.redirect('/console/sign-in', 303);
}

export async function consoleRoutes(app: FastifyInstance, deps: ConsoleDeps): Promise<void> {
  // HTML pages, not API: kept out of the OpenAPI document.
  app.addHook('onRoute', (route) => {
    route.schema = { ...route.schema, hide: true };
  });
  await app.register(fastifyCookie);
  await app.register(fastifyFormbody, { bodyLimit: 256 * 1024 });
  await app.register(fastifyView, {
    engine: { eta: new Eta({ views: VIEWS_DIR, cache: true, autoEscape: true }) },
    templates: VIEWS_DIR,
    production: true,
  });
  app.decorateRequest('consoleSession', null);

  app.addHook('onRequest', async (_request, reply) => {
    reply
      .header('content-security-policy', CONSOLE_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('x-frame-options', 'DENY')
      .header('referrer-policy', 'same-origin')
      .header('cross-origin-opener-policy', 'same-origin');
  });
  // Pages show a workspace's data: never cached, so the back button after sign-out shows nothing.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });

  // After the body is parsed, so a form's hidden _csrf field can be read.
  app.addHook('preHandler', async (request, reply) => {
    if (request.method === 'POST' && !sameOrigin(request)) return refuse(reply, 'This form was sent from another site.');
    if (request.routeOptions.config.consolePublic) return;
    const token = request.cookies[SESSION_COOKIE];
    const session = token ? await findSession(deps.pool, token) : null;
    if (!session) return toSignIn(request, reply);
    request.consoleSession = session;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      const submitted = request.headers['x-csrf-token'] ?? (request.body as Record<string, unknown> | undefined)?._csrf;
      if (!csrfMatches(session, submitted)) return refuse(reply, 'The form is missing its security token or the token is stale: reload the page and try again.');
    }
  });

  app.setErrorHandler((err, request, reply) => {
    const { code, message } = classifyError(err);
    const status = ERRORS[code].status;
    if (status >= 500) request.log.error({ err }, 'console request failed');
    return reply.status(status).view('error', { title: status === 404 ? 'Not found' : 'Something went wrong', message, status, session: null });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).view('error', { title: 'Not found', message: `There is no page at ${request.url.split('?')[0]}.`, status: 404, session: null }),
  );

  assetRoutes(app);
  authRoutes(app, deps);
  overviewRoutes(app, deps);
  importRoutes(app, deps);
  inboundRoutes(app, deps);
  webhookRoutes(app, deps);
}

/**
 * A POST whose Origin names another host is refused before anything else (sign-in included,
 * which has no session token yet). Browsers send Origin on every form POST; its absence (curl,
 * tests) is left to the CSRF token.
 */
function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (!origin) return true;
  try {
    return new URL(origin).host === request.host;
  } catch {
    return false;
  }
}

function refuse(reply: FastifyReply, message: string) {
  return reply.status(403).view('error', { title: 'Refused', message, status: 403, session: null });
}
