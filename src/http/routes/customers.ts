import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Queryable } from '../../db/pool.ts';
import { listCustomers, type Customer } from '../../domain/customers.ts';
import { tenantsOfCustomers, type TenantRef } from '../../domain/tenants.ts';
import { requireWorkspace } from '../auth.ts';
import { parseInput } from '../errors.ts';
import { orderQuery, page, pageQuery } from '../pagination.ts';

const listQuery = pageQuery.extend(orderQuery('asc').shape).extend({ email: z.string().trim().min(1).max(320).optional() });

export function presentCustomer(c: Customer, tenants: TenantRef[]) {
  return {
    id: c.id,
    email: c.email,
    fullName: c.fullName,
    shortName: c.shortName,
    externalId: c.externalId,
    company: c.company,
    tenants: tenants.map((t) => ({ id: t.id, name: t.name, externalId: t.externalId })),
    createdAt: c.createdAt.toISOString(),
  };
}

export function customerRoutes(app: FastifyInstance, deps: { db: Queryable }): void {
  app.get('/v1/customers', async (request) => {
    const workspace = requireWorkspace(request);
    const query = parseInput(listQuery, request.query, 'query');
    const ctx = { db: deps.db, workspaceId: workspace.id };
    const { items, pageInfo } = await page(query, (after, limit) => listCustomers(ctx, { email: query.email, after, limit, order: query.order }));
    const tenants = await tenantsOfCustomers(ctx, items.map((c) => c.id));
    return { customers: items.map((c) => presentCustomer(c, tenants.get(c.id) ?? [])), pageInfo };
  });
}
