import { newId } from './ids.ts';
import type { WriteContext } from './origin.ts';

export type Tenant = { id: string; externalId: string; name: string };

/** The workspace's tenant with this external id, created if new; an existing one is never renamed. */
export async function findOrCreateTenant(ctx: WriteContext, input: { externalId: string; name: string }): Promise<{ tenant: Tenant; created: boolean }> {
  const inserted = await ctx.db.query<Tenant>(
    `INSERT INTO tenants (id, workspace_id, external_id, name, origin) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (workspace_id, external_id) DO NOTHING
     RETURNING id, external_id AS "externalId", name`,
    [newId('tenant'), ctx.workspaceId, input.externalId, input.name.trim() || input.externalId, ctx.origin],
  );
  if (inserted.rows[0]) return { tenant: inserted.rows[0], created: true };
  const { rows } = await ctx.db.query<Tenant>(
    'SELECT id, external_id AS "externalId", name FROM tenants WHERE workspace_id = $1 AND external_id = $2',
    [ctx.workspaceId, input.externalId],
  );
  return { tenant: rows[0]!, created: false };
}

/** Adds the customer to the tenant; adding twice is a no-op. Returns whether it was added now. */
export async function addCustomerToTenant(ctx: WriteContext, tenantId: string, customerId: string): Promise<boolean> {
  const { rowCount } = await ctx.db.query(
    `INSERT INTO tenant_customers (workspace_id, tenant_id, customer_id, origin)
     SELECT $1, t.id, c.id, $4 FROM tenants t JOIN customers c ON c.workspace_id = t.workspace_id
      WHERE t.workspace_id = $1 AND t.id = $2 AND c.id = $3
     ON CONFLICT DO NOTHING`,
    [ctx.workspaceId, tenantId, customerId, ctx.origin],
  );
  return rowCount === 1;
}
