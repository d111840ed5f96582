import { z } from 'zod';
import type { ImportStream, RecordFailure, StreamContext, TenantRecord } from '../../src/import/adapter.ts';
import { RecordError } from '../../src/import/errors.ts';
import { fetchUnknown, nextRecordsUrl, pagingError, selectRecords } from '../../src/import/kit/index.ts';
import type { RunCalls } from './allocation.ts';
import type { SalesforceApi } from './api.ts';
import { isExpiredLocator } from './errors.ts';
import { mapAccount, mapContact } from './map.ts';
import { accountSchema, contactSchema, limitsSchema, parseSalesforceTime, queryPageSchema, salesforceId, type QueryPage, type SalesforceContact } from './schemas.ts';
import { accountsQuery, contactsQuery, type Keyset } from './soql.ts';

/**
 * Salesforce's one stream: contacts in (SystemModstamp, Id) order, each page with the accounts its
 * contacts belong to (from the relationship fields, else queried by id). The query's pages follow
 * `nextRecordsUrl`; an expired locator restarts the query after the last record handed over, so
 * nothing is read twice and nothing is skipped. The next run starts the query there too.
 */

export const contactsCursorSchema = z
  .object({
    /** The last contact handed to the engine: where a new query starts. */
    after: z.object({ at: z.string(), id: z.string() }).strict().nullable(),
    /** The open query's nextRecordsUrl; null when the last run ended. */
    locator: z.string().nullable(),
    /** Calls this run has spent (see allocation.ts), and when this cursor was made. */
    calls: z.number().int().nonnegative(),
    at: z.string(),
  })
  .strict();
export type ContactsCursor = z.infer<typeof contactsCursorSchema>;

/** Ids in one `Id IN (...)`: well inside the URL length Salesforce takes for a GET. */
const ACCOUNTS_PER_QUERY = 200;

export function contactsStream(api: SalesforceApi): ImportStream<ContactsCursor> {
  const queryPath = `/services/data/${api.version}/query`;
  // Read once per session, before its first query: where the org stands before anything is spent.
  let limitsRead = false;
  // The locator this session opened last. One from another session (an earlier slice or worker) is
  // not followed: Salesforce ties a locator to its session, so restarting costs the same one call.
  let ownLocator: string | null = null;
  // The accounts the previous page handed over: the engine fetches a page while it writes the one
  // before, so the ledger may not know them yet.
  let handedOver = new Set<string>();

  async function readLimits(run: RunCalls, signal: AbortSignal): Promise<void> {
    try {
      const { page } = await api.get(`/services/data/${api.version}/limits`, { schema: limitsSchema, what: 'limits', signal, run });
      const { Max, Remaining } = page.DailyApiRequests;
      api.allocation.observe({ used: Math.max(0, Max - Remaining), max: Max });
    } catch (err) {
      // Without "View Setup and Configuration" the user cannot read it: every answer's header still tells.
      if (!(err instanceof RecordError)) throw err;
    }
  }

  /** A query page, or the query started again after `after` when its locator has expired. */
  async function queryPage(cursor: ContactsCursor | null, run: RunCalls, signal: AbortSignal) {
    const request = { schema: queryPageSchema, what: 'contacts query page', signal, run };
    if (cursor?.locator && cursor.locator === ownLocator) {
      const next = await api.get(cursor.locator, request).catch((err: unknown) => {
        if (isExpiredLocator(err)) return null;
        throw err;
      });
      if (next) return next;
    }
    return api.get(queryPath, { ...request, params: { q: contactsQuery(cursor?.after ?? null) } });
  }

  /** The accounts of these contacts that the ledger does not know yet, as tenants. */
  async function linkedAccounts(contacts: SalesforceContact[], ctx: StreamContext, run: RunCalls): Promise<{ tenants: TenantRecord[]; failures: RecordFailure[] }> {
    const embedded = new Map<string, TenantRecord>();
    const missing = new Set<string>();
    for (const c of contacts) {
      if (!c.AccountId) continue;
      if (c.Account) embedded.set(c.AccountId, mapAccount({ Id: c.AccountId, ...c.Account }));
      // Account null: the user cannot read it (sharing), so it makes no tenant. Absent: not returned, ask for it.
      else if (c.Account === undefined) missing.add(c.AccountId);
    }
    const fresh = (id: string) => !handedOver.has(id);
    const known = embedded.size > 0 ? await ctx.known('tenant', [...embedded.keys()].filter(fresh)) : new Map();
    const tenants = [...embedded.values()].filter((t) => fresh(t.sourceId) && !known.has(t.sourceId));
    const failures: RecordFailure[] = [];
    const fetched = await fetchUnknown(ctx, 'tenant', [...missing].filter((id) => fresh(id) && !embedded.has(id)), ACCOUNTS_PER_QUERY, async (ids) => {
      const read = await queryAccounts(ids, run, ctx.signal);
      failures.push(...read.failures);
      return read.records;
    });
    const all = [...tenants, ...fetched.map(mapAccount)];
    handedOver = new Set(all.map((t) => t.sourceId));
    return { tenants: all, failures };
  }

  async function queryAccounts(ids: string[], run: RunCalls, signal: AbortSignal) {
    const records: Array<z.infer<typeof accountSchema>> = [];
    const failures: RecordFailure[] = [];
    let next: string | null = null;
    do {
      const request = { schema: queryPageSchema, what: 'accounts query page', signal, run };
      const fetched: { page: QueryPage; status: number; path: string } =
        next === null ? await api.get(queryPath, { ...request, params: { q: accountsQuery(ids) } }) : await api.get(next, request);
      const { page, status, path } = fetched;
      const read = selectRecords(page.records, accountSchema, 'tenant', 'account');
      records.push(...read.records);
      failures.push(...read.failures);
      next = nextRecordsUrl(page, (detail) => pagingError('GET', path, status, `the accounts query: ${detail}`)).cursor;
    } while (next !== null);
    return { records, failures };
  }

  return {
    name: 'contacts',
    cursorSchema: contactsCursorSchema,
    async nextPage(cursor, ctx) {
      const run: RunCalls = { calls: api.allocation.spentBefore(cursor) };
      if (!limitsRead) {
        await readLimits(run, ctx.signal);
        limitsRead = true;
      }
      const { page, status, path } = await queryPage(cursor, run, ctx.signal);
      // done:false without a nextRecordsUrl is an error, never the end.
      const step = nextRecordsUrl(page, (detail) => pagingError('GET', path, status, `the contacts query: ${detail}`));
      const { records, failures } = selectRecords(page.records, contactSchema, 'person', 'contact');
      const accounts = await linkedAccounts(records, ctx, run);
      const next: ContactsCursor = { after: lastKeyset(page.records) ?? cursor?.after ?? null, locator: step.cursor, calls: run.calls, at: new Date().toISOString() };
      ownLocator = step.cursor;
      return { tenants: accounts.tenants, people: records.map(mapContact), failures: [...failures, ...accounts.failures], cursor: next, done: step.done };
    },
  };
}

/** The page's last record that has an id and a SystemModstamp (an unreadable one among them still moves the keyset). */
function lastKeyset(records: readonly unknown[]): Keyset | null {
  for (let i = records.length - 1; i >= 0; i--) {
    const r = records[i] as { Id?: unknown; SystemModstamp?: unknown } | null;
    if (!r || typeof r !== 'object' || typeof r.SystemModstamp !== 'string' || !salesforceId.safeParse(r.Id).success) continue;
    const at = parseSalesforceTime(r.SystemModstamp);
    if (at) return { at: at.toISOString(), id: r.Id as string };
  }
  return null;
}
