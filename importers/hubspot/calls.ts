import { setTimeout as sleep } from 'node:timers/promises';
import type { RecordFailure } from '../../src/import/adapter.ts';
import type { ProviderClient } from '../../src/import/http-client.ts';
import { fetchPage, selectRecords } from '../../src/import/kit/index.ts';
import { accountDetailsSchema, associationsBatchSchema, companiesBatchSchema, companySchema, type AccountDetails, type BatchError, type HubSpotCompany } from './schemas.ts';

/** HubSpot's endpoints the import reads, and the batch reads and searches it declares read-only. */
export const PATHS = Object.freeze({
  account: '/account-info/v3/details',
  contacts: '/crm/v3/objects/contacts',
  search: '/crm/v3/objects/contacts/search',
  companiesBatch: '/crm/v3/objects/companies/batch/read',
  associationsBatch: '/crm/v4/associations/contacts/companies/batch/read',
});

/** POSTs that only read (a base URL may carry a path prefix, so only the end is anchored). */
export const READ_ONLY_POSTS: readonly RegExp[] = [/\/crm\/v3\/objects\/contacts\/search\/?$/, /\/crm\/v3\/objects\/companies\/batch\/read\/?$/, /\/crm\/v4\/associations\/contacts\/companies\/batch\/read\/?$/];

export const CONTACT_PROPERTIES = ['email', 'firstname', 'lastname', 'createdate', 'lastmodifieddate', 'hs_additional_emails'] as const;

/** HubSpot's batch sizes: 100 objects per batch read, 1,000 ids per association batch read. */
export const COMPANIES_BATCH_MAX = 100;
const ASSOCIATIONS_BATCH_MAX = 1_000;

export async function accountDetails(client: ProviderClient, signal?: AbortSignal): Promise<AccountDetails> {
  return (await fetchPage(client, { path: PATHS.account, signal }, accountDetailsSchema, 'answer to account-info details')).page;
}

/**
 * Search has its own, lower limit (a few requests a second, no rate-limit headers): searches leave
 * at least this far apart, whatever else the connection does.
 */
export function searchPacer(perSecond: number): (signal: AbortSignal) => Promise<void> {
  const gapMs = 1000 / perSecond;
  let nextAt = 0;
  return async (signal) => {
    const now = Date.now();
    const at = Math.max(now, nextAt);
    nextAt = at + gapMs;
    if (at > now) await sleep(at - now, undefined, { signal });
  };
}

/** Ids a batch error names: HubSpot puts them in `context` (`ids`, `fromObjectId`, ...), as string lists. */
function idsIn(e: BatchError): string[] {
  return Object.values(e.context ?? {}).flatMap((v) => (Array.isArray(v) ? v.map(String) : []));
}

const noAssociations = (e: BatchError) => /NO_ASSOCIATIONS_FOUND/i.test(`${JSON.stringify(e.subCategory ?? '')} ${e.category ?? ''}`);
const gone = (e: BatchError) => /OBJECT_NOT_FOUND/i.test(`${e.category ?? ''} ${JSON.stringify(e.subCategory ?? '')}`);

export type CompanyLinks = { links: Map<string, string[]>; failures: RecordFailure[]; gone: Set<string> };

/**
 * The companies of each contact, through the v4 association batch read (207 Multi-Status). A
 * contact without a company is a per-input NO_ASSOCIATIONS_FOUND error: a normal answer. A company
 * under several association types (primary and unlabeled) is one link; more links than one answer
 * holds are read on with the result's `after`.
 */
export async function readCompanyLinks(client: ProviderClient, contactIds: readonly string[], signal: AbortSignal): Promise<CompanyLinks> {
  const links = new Map<string, Set<string>>(contactIds.map((id) => [id, new Set<string>()]));
  const failures: RecordFailure[] = [];
  const missing = new Set<string>();
  let pending: Array<{ id: string; after?: string }> = contactIds.map((id) => ({ id }));
  while (pending.length > 0) {
    const batch = pending.slice(0, ASSOCIATIONS_BATCH_MAX);
    pending = pending.slice(ASSOCIATIONS_BATCH_MAX);
    const { page } = await fetchPage(client, { method: 'POST', path: PATHS.associationsBatch, body: { inputs: batch }, signal }, associationsBatchSchema, 'company associations');
    for (const r of page.results) {
      const set = links.get(r.from.id);
      if (!set) continue;
      for (const to of r.to) set.add(to.toObjectId);
      const after = r.paging?.next?.after;
      if (after) pending.push({ id: r.from.id, after });
    }
    for (const e of page.errors ?? []) {
      if (noAssociations(e)) continue;
      for (const id of idsIn(e).filter((x) => links.has(x))) {
        // Deleted since the search found it: skipped like an archived contact.
        if (gone(e)) missing.add(id);
        else failures.push({ recordType: 'person', sourceId: id, reason: `its companies could not be read: ${e.message ?? e.category ?? 'HubSpot gave no reason'}` });
      }
    }
  }
  const failed = new Set(failures.map((f) => f.sourceId));
  return { links: new Map([...links].filter(([id]) => !failed.has(id) && !missing.has(id)).map(([id, set]) => [id, [...set]])), failures, gone: missing };
}

/** Up to 100 companies by id (a POST that only reads); ids HubSpot no longer has are left out of the answer. */
export async function readCompanies(client: ProviderClient, ids: string[], signal: AbortSignal, failures: RecordFailure[]): Promise<HubSpotCompany[]> {
  const body = { inputs: ids.map((id) => ({ id })), properties: ['name', 'domain'] };
  const { page } = await fetchPage(client, { method: 'POST', path: PATHS.companiesBatch, body, signal }, companiesBatchSchema, 'companies batch');
  const read = selectRecords(page.results, companySchema, 'tenant', 'company');
  failures.push(...read.failures);
  return read.records.filter((c) => !c.archived);
}
