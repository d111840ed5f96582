import type { Queryable } from '../../src/db/pool.ts';
import { createConnection } from '../../src/import/connections.ts';
import { DEFAULT_HUBSPOT_AUTH, HUBSPOT_PORTAL_ID } from './fake-provider/index.ts';
import { TEST_SECRETS_KEY } from './workspaces.ts';

export const HUBSPOT_PRIVATE_APP = { accessToken: DEFAULT_HUBSPOT_AUTH.privateAppToken };
export const HUBSPOT_OAUTH = { clientId: DEFAULT_HUBSPOT_AUTH.clientId, clientSecret: DEFAULT_HUBSPOT_AUTH.clientSecret, refreshToken: DEFAULT_HUBSPOT_AUTH.refreshToken };

/** A HubSpot connection pointed at the fake provider (the portal id is the account, as verify would say). */
export async function connectHubSpot(db: Queryable, workspaceId: string, baseUrl: string, options: { credentials?: Record<string, unknown>; settings?: Record<string, unknown> } = {}) {
  return createConnection(db, TEST_SECRETS_KEY, {
    workspaceId,
    provider: 'hubspot',
    account: String(HUBSPOT_PORTAL_ID),
    credentials: options.credentials ?? HUBSPOT_PRIVATE_APP,
    settings: { baseUrl, ...options.settings },
    scheduleSeconds: 300,
  });
}

/** Customers, tenants (with domains and members) and memberships an import wrote, without our ids. */
export async function hubspotDump(db: Queryable, workspaceId: string) {
  const q = async (sql: string) => (await db.query(sql, [workspaceId])).rows;
  return {
    customers: await q(`SELECT c.email, c.full_name, c.origin, to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') AS created
                          FROM customers c WHERE c.workspace_id = $1 ORDER BY c.email NULLS LAST, c.full_name`),
    tenants: await q(`SELECT t.external_id, t.name, t.domain, t.origin,
                             (SELECT array_agg(coalesce(c.email, c.full_name) ORDER BY coalesce(c.email, c.full_name)) FROM tenant_customers tc JOIN customers c ON c.id = tc.customer_id WHERE tc.tenant_id = t.id) AS members
                        FROM tenants t WHERE t.workspace_id = $1 ORDER BY t.external_id`),
    totals: (await q(`SELECT (SELECT count(*)::int FROM customers WHERE workspace_id = $1) AS customers,
                             (SELECT count(*)::int FROM tenants WHERE workspace_id = $1) AS tenants,
                             (SELECT count(*)::int FROM tenant_customers WHERE workspace_id = $1) AS memberships,
                             (SELECT count(*)::int FROM threads WHERE workspace_id = $1) AS threads,
                             (SELECT count(*)::int FROM import_ledger WHERE workspace_id = $1) AS ledger`))[0] as { customers: number; tenants: number; memberships: number; threads: number; ledger: number },
  };
}
