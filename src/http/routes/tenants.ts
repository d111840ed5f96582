import type { FastifyInstance } from 'fastify';
import type { Queryable } from '../../db/pool.ts';
import { listTenants, type TenantSummary } from '../../domain/tenants.ts';
import { requireWorkspace } from '../auth.ts';
import { parseInput } from '../errors.ts';
import { orderQuery, page, pageQuery } from '../pagination.ts';

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
  app.get('/v1/tenants', async (request) => {
    const workspace = requireWorkspace(request);
    const query = parseInput(pageQuery.extend(orderQuery('asc').shape), request.query, 'query');
    const ctx = { db: deps.db, workspaceId: workspace.id };
    const { items, pageInfo } = await page(query, (after, limit) => listTenants(ctx, { after, limit, order: query.order }));
    return { tenants: items.map(presentTenant), pageInfo };
  });
}
