import { inferCompany } from './company-inference.ts';
import { newId } from './ids.ts';
import type { WriteContext } from './origin.ts';

export type Company = { id: string; name: string; domain: string };

/** The workspace's company for an email's domain, created on first sight; null for public mail providers. */
export async function companyForEmail(ctx: WriteContext, email: string): Promise<Company | null> {
  const inferred = inferCompany(email);
  if (!inferred) return null;
  const { rows } = await ctx.db.query<Company>(
    `WITH inserted AS (
       INSERT INTO companies (id, workspace_id, domain, name, origin) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (workspace_id, domain) DO NOTHING
       RETURNING id, name, domain)
     SELECT id, name, domain FROM inserted
     UNION ALL
     SELECT id, name, domain FROM companies WHERE workspace_id = $2 AND domain = $3
     LIMIT 1`,
    [newId('company'), ctx.workspaceId, inferred.domain, inferred.name, ctx.origin],
  );
  if (rows[0]) return rows[0];
  // The row was inserted by a transaction that committed after this statement's snapshot.
  const again = await ctx.db.query<Company>('SELECT id, name, domain FROM companies WHERE workspace_id = $1 AND domain = $2', [ctx.workspaceId, inferred.domain]);
  return again.rows[0]!;
}
