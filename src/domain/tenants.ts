import { newId } from './ids.ts';
import { assertImport, type ReadContext, type WriteContext } from './origin.ts';
import { stripNul } from './text.ts';

export type Tenant = { id: string; externalId: string; name: string; domain: string | null };

/** A tenant as a list shows it: with how many customers belong to it. */
export type TenantSummary = Tenant & { memberCount: number; createdAt: Date };

/** What a customer shows of each tenant it belongs to. */
export type TenantRef = Pick<Tenant, 'id' | 'name' | 'externalId'>;

const TENANT_COLUMNS = 'id, external_id AS "externalId", name, domain';

/** Domains compare case-insensitively (as companies' do); a blank one is no domain. */
function normaliseDomain(domain: string | null | undefined): string | null {
  const clean = stripNul(domain ?? '').trim().toLowerCase();
  return clean === '' ? null : clean;
}

/** The workspace's tenant with this external id, created if new; an existing one is never renamed. */
export async function findOrCreateTenant(
  ctx: WriteContext,
  input: { externalId: string; name: string; domain?: string | null | undefined },
): Promise<{ tenant: Tenant; created: boolean }> {
  const inserted = await ctx.db.query<Tenant>(
    `INSERT INTO tenants (id, workspace_id, external_id, name, domain, origin) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (workspace_id, external_id) DO NOTHING
     RETURNING ${TENANT_COLUMNS}`,
    [newId('tenant'), ctx.workspaceId, input.externalId, input.name.trim() || input.externalId, normaliseDomain(input.domain), ctx.origin],
  );
  if (inserted.rows[0]) return { tenant: inserted.rows[0], created: true };
  const { rows } = await ctx.db.query<Tenant>(
    `SELECT ${TENANT_COLUMNS} FROM tenants WHERE workspace_id = $1 AND external_id = $2`,
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

/**
 * Imported tenants by external id in two statements; an existing tenant is linked, never renamed
 * and its domain never changed. Keyed by external id.
 */
export async function importTenants(
  ctx: WriteContext,
  tenants: Array<{ externalId: string; name: string; domain?: string | null | undefined }>,
): Promise<Map<string, { tenantId: string; created: boolean }>> {
  assertImport(ctx);
  const out = new Map<string, { tenantId: string; created: boolean }>();
  if (tenants.length === 0) return out;
  const rows = tenants.map((t) => ({ id: newId('tenant'), external_id: t.externalId, name: t.name.trim() || t.externalId, domain: normaliseDomain(t.domain) }));
  const inserted = await ctx.db.query<{ id: string; external_id: string }>(
    `INSERT INTO tenants (id, workspace_id, external_id, name, domain, origin)
     SELECT x.id, $1, x.external_id, x.name, x.domain, 'import'
       FROM jsonb_to_recordset($2) AS x(id text, external_id text, name text, domain text) ORDER BY x.external_id
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

/** The workspace's tenants in id (creation) order, each with its member count. */
export async function listTenants(ctx: ReadContext, filter: { after?: string | undefined; limit: number; order?: 'asc' | 'desc' }): Promise<TenantSummary[]> {
  const desc = filter.order === 'desc';
  const { rows } = await ctx.db.query<TenantSummary>(
    `SELECT t.id, t.external_id AS "externalId", t.name, t.domain, t.created_at AS "createdAt",
            (SELECT count(*) FROM tenant_customers tc WHERE tc.tenant_id = t.id AND tc.workspace_id = t.workspace_id)::int AS "memberCount"
       FROM tenants t
      WHERE t.workspace_id = $1 AND ($2::text IS NULL OR ${desc ? 't.id < $2' : 't.id > $2'})
      ORDER BY t.id ${desc ? 'DESC' : 'ASC'} LIMIT $3`,
    [ctx.workspaceId, filter.after ?? null, filter.limit],
  );
  return rows;
}

/**
 * The tenants of each of these customers, in one statement whatever their number (a page of
 * customers must not cost a query per customer). Each list is in tenant id order; a customer in
 * no tenant gets an empty list.
 */
export async function tenantsOfCustomers(ctx: ReadContext, customerIds: readonly string[]): Promise<Map<string, TenantRef[]>> {
  const out = new Map<string, TenantRef[]>(customerIds.map((id) => [id, []]));
  if (customerIds.length === 0) return out;
  const { rows } = await ctx.db.query<TenantRef & { customerId: string }>(
    `SELECT tc.customer_id AS "customerId", t.id, t.name, t.external_id AS "externalId"
       FROM tenant_customers tc JOIN tenants t ON t.id = tc.tenant_id AND t.workspace_id = tc.workspace_id
      WHERE tc.workspace_id = $1 AND tc.customer_id = ANY($2::text[])
      ORDER BY tc.customer_id, t.id`,
    [ctx.workspaceId, [...customerIds]],
  );
  for (const { customerId, ...tenant } of rows) out.get(customerId)?.push(tenant);
  return out;
}
