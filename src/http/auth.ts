import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Queryable } from '../db/pool.ts';
import { findWorkspaceByApiKey, type Workspace } from '../domain/workspaces.ts';
import { AppError } from './errors.ts';

declare module 'fastify' {
  interface FastifyRequest {
    workspace: Workspace | null;
  }
}

/** The workspace whose API key the request carries as `Authorization: Bearer <key>`. */
export function requireWorkspace(request: FastifyRequest): Workspace {
  if (!request.workspace) throw new AppError('unauthenticated');
  return request.workspace;
}

/** Authenticates every route of this scope by workspace API key before the handler runs. */
export function registerApiKeyAuth(app: FastifyInstance, db: Queryable): void {
  app.decorateRequest('workspace', null);
  app.addHook('onRequest', async (request) => {
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) throw new AppError('unauthenticated');
    const workspace = await findWorkspaceByApiKey(db, match[1]!);
    if (!workspace) throw new AppError('unauthenticated', 'The API key is not valid.');
    request.workspace = workspace;
  });
}
