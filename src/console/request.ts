import type { FastifyRequest } from 'fastify';
import type { ConsoleSession } from './sessions.ts';

declare module 'fastify' {
  interface FastifyRequest {
    consoleSession: ConsoleSession | null;
  }
  interface FastifyContextConfig {
    /** Console routes reachable without a session (sign-in, assets). */
    consolePublic?: boolean;
  }
}

/** The session's workspace; the hook has already sent anyone without a session to sign in. */
export function sessionOf(request: FastifyRequest): ConsoleSession {
  if (!request.consoleSession) throw new Error('console route reached without a session');
  return request.consoleSession;
}

export const isHtmx = (request: FastifyRequest) => request.headers['hx-request'] === 'true';
