import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Queryable } from '../../db/pool.ts';
import { listCustomers, type Customer } from '../../domain/customers.ts';
import { requireWorkspace } from '../auth.ts';
import { parseInput } from '../errors.ts';
import { page, pageQuery } from '../pagination.ts';

const listQuery = pageQuery.extend({ email: z.string().trim().min(1).max(320).optional() });

export function presentCustomer(c: Customer) {
  return {
    id: c.id,
    email: c.email,
    fullName: c.fullName,
    shortName: c.shortName,
    externalId: c.externalId,
    company: c.company,
    createdAt: c.createdAt.toISOString(),
  };
}

export function customerRoutes(app: FastifyInstance, deps: { db: Queryable }): void {
  app.get('/v1/customers', async (request) => {
    const workspace = requireWorkspace(request);
    const query = parseInput(listQuery, request.query, 'query');
    const ctx = { db: deps.db, workspaceId: workspace.id };
    const { items, pageInfo } = await page(query, (after, limit) => listCustomers(ctx, { email: query.email, after, limit }));
    return { customers: items.map(presentCustomer), pageInfo };
  });
}
