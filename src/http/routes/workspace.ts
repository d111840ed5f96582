import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Queryable } from '../../db/pool.ts';
import { inboundAddress, updateWorkspace, type Workspace } from '../../domain/workspaces.ts';
import { requireWorkspace } from '../auth.ts';
import { parseInput } from '../errors.ts';
import { routeSchema } from '../openapi.ts';

const patchBody = z
  .object({
    name: z.string().max(200).optional(),
    supportAddress: z.string().max(320).nullable().optional(),
    alternateAddresses: z.array(z.string().max(320)).optional(),
    /** People outside the support domain whose forwards count as agent forwards. */
    forwarderAddresses: z.array(z.string().max(320)).max(50).optional(),
  })
  .strict();

const workspaceResponse = z.object({
  workspace: z.object({
    id: z.string(),
    name: z.string(),
    supportAddress: z.string().nullable(),
    alternateAddresses: z.array(z.string()),
    forwarderAddresses: z.array(z.string()),
    inboundAddress: z.string().meta({ description: 'Forward support mail here (or point the inbound provider at it).' }),
  }),
});
const tags = ['Workspace'];

export function workspaceRoutes(app: FastifyInstance, deps: { db: Queryable; inboundDomain: string }): void {
  const present = (w: Workspace) => ({
    workspace: {
      id: w.id,
      name: w.name,
      supportAddress: w.supportAddress,
      alternateAddresses: w.alternateAddresses,
      forwarderAddresses: w.forwarderAddresses,
      inboundAddress: inboundAddress(w, deps.inboundDomain),
    },
  });

  app.get('/v1/workspace', { schema: routeSchema({ tags, summary: 'The workspace of the API key', response: { 200: workspaceResponse } }) }, async (request) => present(requireWorkspace(request)));

  app.patch('/v1/workspace', { schema: routeSchema({ tags, summary: 'Update the workspace (name, support addresses)', body: patchBody, response: { 200: workspaceResponse } }) }, async (request) => {
    const workspace = requireWorkspace(request);
    const body = parseInput(patchBody, request.body, 'body');
    return present(await updateWorkspace(deps.db, workspace.id, body));
  });
}
