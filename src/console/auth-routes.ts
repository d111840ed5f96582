import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { findWorkspaceByApiKey } from '../domain/workspaces.ts';
import type { ConsoleDeps } from './plugin.ts';
import { createSession, deleteSession, findSession, SESSION_LIMITS } from './sessions.ts';

export const SESSION_COOKIE = 'intake_console';

const signInBody = z.object({ apiKey: z.string().trim().min(1).max(500) });

function setSessionCookie(request: FastifyRequest, reply: FastifyReply, value: string, maxAge: number) {
  reply.setCookie(SESSION_COOKIE, value, {
    path: '/console',
    httpOnly: true,
    sameSite: 'strict',
    // Over plain http (a laptop, the tests) a Secure cookie would never come back.
    secure: request.protocol === 'https',
    maxAge,
  });
}

/** Sign-in exchanges the workspace API key for a session cookie; the key is not kept or shown again. */
export function authRoutes(app: FastifyInstance, deps: ConsoleDeps): void {
  app.get('/sign-in', { config: { consolePublic: true } }, async (request, reply) => {
    const token = request.cookies[SESSION_COOKIE];
    if (token && (await findSession(deps.pool, token))) return reply.redirect('/console', 303);
    return reply.view('sign-in', { title: 'Sign in', error: null });
  });

  app.post('/sign-in', { config: { consolePublic: true } }, async (request, reply) => {
    const body = signInBody.safeParse(request.body ?? {});
    const workspace = body.success ? await findWorkspaceByApiKey(deps.pool, body.data.apiKey) : null;
    if (!workspace) {
      return reply.status(401).view('sign-in', { title: 'Sign in', error: body.success ? 'That API key is not valid.' : 'Enter your workspace API key.' });
    }
    const { token } = await createSession(deps.pool, workspace.id);
    setSessionCookie(request, reply, token, SESSION_LIMITS.absoluteSeconds);
    return reply.redirect('/console', 303);
  });

  app.post('/sign-out', async (request, reply) => {
    const token = request.cookies[SESSION_COOKIE];
    if (token) await deleteSession(deps.pool, token);
    setSessionCookie(request, reply, '', 0);
    return reply.redirect('/console/sign-in', 303);
  });
}
