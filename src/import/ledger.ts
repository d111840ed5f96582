import type { Queryable } from '../db/pool.ts';
import type { LedgerEntry, RecordType } from './adapter.ts';

/**
 * The create-only ledger: (workspace, provider, account, record type, source id) -> the entity
 * that record created or was linked to. A record found here is never written again.
 */

export type LedgerScope = { workspaceId: string; provider: string; account: string; connectionId: string; runId: string };

/**
 * The ledger's own key types: the adapter's record types, a label placed on one thread, and the
 * customer made for an agent who opened a thread (the agent's own row stays the author).
 */
export type LedgerType = RecordType | 'thread_label' | 'agent_customer';

export type NewLedgerRow = {
  type: LedgerType;
  sourceId: string;
  entityType: string;
  entityId: string | null;
  disposition: 'created' | 'linked' | 'skipped';
  details?: Record<string, unknown> | undefined;
};

export const ledgerKey = (type: LedgerType, sourceId: string) => `${type}:${sourceId}`;

/** One query for any number of keys. */
export async function lookupLedger(db: Queryable, scope: LedgerScope, keys: Array<[LedgerType, string]>): Promise<Map<string, LedgerEntry>> {
  const out = new Map<string, LedgerEntry>();
  if (keys.length === 0) return out;
  const unique = [...new Map(keys.map(([t, id]) => [ledgerKey(t, id), [t, id] as const])).values()];
  const { rows } = await db.query<{ source_type: string; source_id: string; entity_type: string; entity_id: string | null; details: Record<string, unknown> | null }>(
    // One primary-key probe per key. LIMIT 1 keeps the subquery from being flattened into a join
    // the planner may hash over the whole ledger while its statistics lag behind a big import.
    `SELECT k.source_type, k.source_id, l.entity_type, l.entity_id, l.details
       FROM unnest($4::text[], $5::text[]) AS k(source_type, source_id)
       CROSS JOIN LATERAL (
         SELECT entity_type, entity_id, details FROM import_ledger l
          WHERE l.workspace_id = $1 AND l.provider = $2 AND l.account = $3 AND l.source_type = k.source_type AND l.source_id = k.source_id
          LIMIT 1) l`,
    [scope.workspaceId, scope.provider, scope.account, unique.map((k) => k[0]), unique.map((k) => k[1])],
  );
  for (const r of rows) out.set(ledgerKey(r.source_type as LedgerType, r.source_id), { entityType: r.entity_type, entityId: r.entity_id, details: r.details });
  return out;
}

/**
 * Records what this page created or linked. A key another transaction recorded first means a
 * second writer raced this one: the whole page rolls back and is read again from the ledger.
 */
export async function insertLedgerRows(db: Queryable, scope: LedgerScope, rows: NewLedgerRow[]): Promise<void> {
  if (rows.length === 0) return;
  const { rowCount } = await db.query(
    `INSERT INTO import_ledger (workspace_id, provider, account, source_type, source_id, entity_type, entity_id, disposition, details, connection_id, run_id)
     SELECT $1, $2, $3, x.type, x."sourceId", x."entityType", x."entityId", x.disposition, x.details, $4, $5
       FROM jsonb_to_recordset($6) AS x(type text, "sourceId" text, "entityType" text, "entityId" text, disposition text, details jsonb)
     ON CONFLICT DO NOTHING`,
    [scope.workspaceId, scope.provider, scope.account, scope.connectionId, scope.runId, JSON.stringify(rows)],
  );
  if (rowCount !== rows.length) {
    throw new LedgerConflictError(`${rows.length - (rowCount ?? 0)} of ${rows.length} ledger keys were recorded by another writer`);
  }
}

export class LedgerConflictError extends Error {
  override name = 'LedgerConflictError';
}
