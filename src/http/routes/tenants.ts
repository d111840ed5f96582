import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Queryable } from '../../db/pool.ts';
import { listTenants, type TenantSummary } from '../../domain/tenants.ts';
import { requireWorkspace } from '../auth.ts';
import { parseInput } from '../errors.ts';
import { pageInfoSchema, routeSchema, timestamp } from '../openapi.ts';
import { orderQuery, page, pageQuery } from '../pagination.ts';

const listQuery = pageQuery.extend(orderQuery('asc').shape);

export const tenantSchema = z.object({
  id: z.string(),
  name: z.string(),
  externalId: z.string(),
  domain: z.string().nullable(),
  memberCount: z.number().int().meta({ description: 'How many customers belong to it.' }),
  createdAt: timestamp,
});

export function presentTenant(t: TenantSummary) {
  return {
    id: t.id,
    name: t.name,
    externalId: t.externalId,
    domain: t.domain,
    memberCount: t.memberCount,
    createdAt: t.createdAt.toISOString(),
  };
}

export function tenantRoutes(app: FastifyInstance, deps: { db: Queryable }): void {
  const schema = routeSchema({
    tags: ['Customers'],
    summary: "The workspace's tenants (companies), by creation",
    querystring: listQuery,
    response: { 200: z.object({ tenants: z.array(tenantSchema), pageInfo: pageInfoSchema }) },
  });
  app.get('/v1/tenants', { schema }, async (request) => {
    const workspace = requireWorkspace(request);
    const query = parseInput(listQuery, request.query, 'query');
    const ctx = { db: deps.db, workspaceId: workspace.id };
    const { items, pageInfo } = await page(query, (after, limit) => listTenants(ctx, { after, limit, order: query.order }));
    return { tenants: items.map(presentTenant), pageInfo };
  });
}
