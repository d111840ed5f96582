import { newId } from './ids.ts';
import { assertImport, type WriteContext } from './origin.ts';

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

/** Imported tenants by external id in two statements; an existing tenant is linked, never renamed. Keyed by external id. */
export async function importTenants(ctx: WriteContext, tenants: Array<{ externalId: string; name: string }>): Promise<Map<string, { tenantId: string; created: boolean }>> {
  assertImport(ctx);
  const out = new Map<string, { tenantId: string; created: boolean }>();
  if (tenants.length === 0) return out;
  const rows = tenants.map((t) => ({ id: newId('tenant'), external_id: t.externalId, name: t.name.trim() || t.externalId }));
  const inserted = await ctx.db.query<{ id: string; external_id: string }>(
    `INSERT INTO tenants (id, workspace_id, external_id, name, origin)
     SELECT x.id, $1, x.external_id, x.name, 'import' FROM jsonb_to_recordset($2) AS x(id text, external_id text, name text) ORDER BY x.external_id
     ON CONFLICT (workspace_id, external_id) DO NOTHING RETURNING id, external_id`,
    [ctx.workspaceId, JSON.stringify(rows)],
  );
  for (const t of inserted.rows) out.set(t.external_id, { tenantId: t.id, created: true });
  const rest = rows.filter((r) => !out.has(r.external_id)).map((r) => r.external_id);
  if (rest.length > 0) {
    const { rows: found } = await ctx.db.query<{ id: string; external_id: string }>('SELECT id, external_id FROM tenants WHERE workspace_id = $1 AND external_id = ANY($2)', [ctx.workspaceId, rest]);
    for (const t of found) out.set(t.external_id, { tenantId: t.id, created: false });
  }
  return out;
}

/** Tenant memberships in one statement; existing ones are left as they are. */
export async function importTenantCustomers(ctx: WriteContext, pairs: Array<{ tenantId: string; customerId: string }>): Promise<void> {
  assertImport(ctx);
  if (pairs.length === 0) return;
  await ctx.db.query(
    `INSERT INTO tenant_customers (workspace_id, tenant_id, customer_id, origin)
     SELECT $1, t.id, c.id, 'import' FROM jsonb_to_recordset($2) AS x("tenantId" text, "customerId" text)
       JOIN tenants t ON t.workspace_id = $1 AND t.id = x."tenantId"
       JOIN customers c ON c.workspace_id = $1 AND c.id = x."customerId"
     ON CONFLICT DO NOTHING`,
    [ctx.workspaceId, JSON.stringify(pairs)],
  );
}
