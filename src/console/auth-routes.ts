import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { findWorkspaceByApiKey } from '../domain/workspaces.ts';
import type { ConsoleDeps } from './plugin.ts';
import { createSession, deleteSession, findSession, SESSION_LIMITS } from './sessions.ts';

export const SESSION_COOKIE = 'intake_console';

const signInBody = z.object({ apiKey: z.string().trim().min(1).max(500) });

/** The session cookie's attributes: script-proof, same-site only, scoped to the console; Secure when served over https. */
export function sessionCookieOptions(protocol: string, maxAge: number) {
  return {
    path: '/console',
    httpOnly: true,
    sameSite: 'strict' as const,
    // Over plain http (a laptop, the tests) a Secure cookie would never come back.
    secure: protocol === 'https',
    maxAge,
  };
}

function setSessionCookie(request: FastifyRequest, reply: FastifyReply, value: string, maxAge: number) {
  reply.setCookie(SESSION_COOKIE, value, sessionCookieOptions(request.protocol, maxAge));
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
    // Signing in again (perhaps to another workspace) ends the session this browser had.
    const previous = request.cookies[SESSION_COOKIE];
    if (previous) await deleteSession(deps.pool, previous);
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
