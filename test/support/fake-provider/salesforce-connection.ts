import type { Queryable } from '../../../src/db/pool.ts';
import { createConnection } from '../../../src/import/connections.ts';
import { TEST_SECRETS_KEY } from '../workspaces.ts';
import { FAKE_ORG_ID, type FakeSalesforce } from './salesforce.ts';

/** Test helpers for the Salesforce importer: a connection to the fake, and what an import wrote. */

export function salesforceCredentials(fake: FakeSalesforce) {
  const { clientId, clientSecret } = fake.state.app;
  return { clientId, clientSecret, refreshToken: [...fake.state.refreshTokens][0] ?? 'revoked' };
}

/** A Salesforce connection to the fake's login host, saved as the API would save it. */
export async function connectSalesforce(db: Queryable, workspaceId: string, fake: FakeSalesforce, settings: Record<string, unknown> = {}) {
  return createConnection(db, TEST_SECRETS_KEY, {
    workspaceId,
    provider: 'salesforce',
    account: FAKE_ORG_ID,
    credentials: salesforceCredentials(fake),
    settings: { loginUrl: fake.loginUrl, ...settings },
    scheduleSeconds: 300,
  });
}

/** Customers, tenants (with domain and members) and totals, named by what Salesforce gave, not our ids. */
export async function salesforceDump(db: Queryable, workspaceId: string) {
  const q = async (sql: string) => (await db.query(sql, [workspaceId])).rows;
  return {
    customers: await q(`SELECT c.email, c.full_name, c.origin, to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') AS created,
                               (SELECT l.source_id FROM import_ledger l WHERE l.workspace_id = $1 AND l.source_type = 'person' AND l.entity_id = c.id LIMIT 1) AS contact
                          FROM customers c WHERE c.workspace_id = $1 ORDER BY c.email COLLATE "C" NULLS LAST, c.full_name COLLATE "C"`),
    tenants: await q(`SELECT t.external_id, t.name, t.domain, t.origin,
                             (SELECT array_agg(coalesce(c.email, c.full_name) ORDER BY coalesce(c.email, c.full_name) COLLATE "C") FROM tenant_customers tc JOIN customers c ON c.id = tc.customer_id WHERE tc.tenant_id = t.id) AS members
                        FROM tenants t WHERE t.workspace_id = $1 ORDER BY t.external_id`),
    totals: (
      await q(`SELECT (SELECT count(*)::int FROM customers WHERE workspace_id = $1) AS customers,
                      (SELECT count(*)::int FROM tenants WHERE workspace_id = $1) AS tenants,
                      (SELECT count(*)::int FROM tenant_customers tc JOIN tenants t ON t.id = tc.tenant_id WHERE t.workspace_id = $1) AS memberships,
                      (SELECT count(*)::int FROM threads WHERE workspace_id = $1) AS threads,
                      (SELECT count(*)::int FROM import_ledger WHERE workspace_id = $1) AS ledger`)
    )[0] as { customers: number; tenants: number; memberships: number; threads: number; ledger: number },
  };
}
