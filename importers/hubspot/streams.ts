import { z } from 'zod';
import type { ImportStream, RecordFailure, StreamContext, StreamPage } from '../../src/import/adapter.ts';
import type { ProviderClient } from '../../src/import/http-client.ts';
import { advanceWindow, fetchPage, fetchUnknown, nextLink, pagingError, selectRecords, startWindow, unseen, windowCursorSchema, type WindowCursor } from '../../src/import/kit/index.ts';
import { COMPANIES_BATCH_MAX, CONTACT_PROPERTIES, PATHS, readCompanies, readCompanyLinks } from './calls.ts';
import { listedCompanyIds, mapCompany, mapContact, modifiedAt } from './map.ts';
import type { AccountClock } from './rate-limit.ts';
import { contactSchema, listPageSchema, searchPageSchema, type HubSpotContact } from './schemas.ts';

/**
 * HubSpot's one stream: contacts, each page with the companies its new contacts link to (batch
 * read for the ones the ledger does not know). The first run walks the contacts list by id
 * (`after` paging, associations included); later runs search on `lastmodifieddate` (not
 * `createdate`: an import into HubSpot can set an old one), oldest first, in a window that moves
 * forward on the last time seen, so HubSpot's 10,000-result cap on one search never stops it.
 */

/**
 * The account's time zone rides with the cursor: a new process knows when the daily limit resets
 * before its first call (which may be the one a spent daily limit refuses).
 */
const zoneSchema = z.object({ timeZone: z.string().nullable().optional(), utcOffsetMs: z.number().nullable().optional() }).strict().optional();
const listCursorSchema = z.object({ phase: z.literal('list'), after: z.string().nullable(), since: z.string(), zone: zoneSchema }).strict();
const searchCursorSchema = z.object({ phase: z.literal('search'), window: windowCursorSchema, zone: zoneSchema }).strict();
const contactsCursorSchema = z.discriminatedUnion('phase', [listCursorSchema, searchCursorSchema]);
type ListCursor = z.infer<typeof listCursorSchema>;
type ContactsCursor = z.infer<typeof contactsCursorSchema>;

/** HubSpot list pages fetched for one page the engine writes. */
const LIST_PAGES_PER_PAGE = 10;
/** One search answers at most this many results; asking past it is a 400. */
export const SEARCH_CAP = 10_000;
/** The first search starts this long before the full walk did: clocks differ, and contacts changed during the walk are found. */
const FULL_WALK_OVERLAP_MS = 10 * 60_000;
/**
 * HubSpot indexes changes for search a little after making them: each run's search starts this far
 * before the newest change the last one saw, and the ledger skips what was already imported.
 */
const SEARCH_LAG_MS = 5 * 60_000;

export type StreamOptions = {
  client: ProviderClient;
  pageSize: number;
  /** Waits for the next search slot (search has its own per-second limit). */
  paceSearch: (signal: AbortSignal) => Promise<void>;
  /** The account's time zone (the daily limit resets at its midnight): from the cursor, else learnt once a session. */
  ready: (signal: AbortSignal, stored: AccountClock | undefined) => Promise<AccountClock | null>;
};

/**
 * A session's walk. `asked`: the companies this session already read (or found gone). The engine
 * writes each page before the next one is asked for and ends the session when a write fails, so
 * a company asked for once is in the ledger, or gone, by the time a later page needs it, even
 * while that page was fetched ahead of the write.
 */
type Walk = StreamOptions & { asked: Set<string> };

export function contactsStream(options: StreamOptions): ImportStream<ContactsCursor> {
  const o: Walk = { ...options, asked: new Set() };
  return {
    name: 'contacts',
    cursorSchema: contactsCursorSchema,
    async nextPage(cursor, ctx) {
      const zone = (await o.ready(ctx.signal, cursor?.zone)) ?? undefined;
      const at = cursor ?? { phase: 'list', after: null, since: new Date(Date.now() - FULL_WALK_OVERLAP_MS).toISOString() };
      const page = await (at.phase === 'list' ? listPage(o, at, ctx) : searchPage(o, at.window, ctx));
      return { ...page, cursor: { ...page.cursor, zone } };
    },
  };
}

/**
 * One page of the full walk: GET the contacts list with their company associations, up to
 * LIST_PAGES_PER_PAGE of HubSpot's pages of 100, written as one (a transaction per 100 contacts
 * costs more than the contacts).
 */
async function listPage(o: Walk, at: ListCursor, ctx: StreamContext): Promise<StreamPage<ContactsCursor>> {
  const contacts: HubSpotContact[] = [];
  const failures: RecordFailure[] = [];
  let after = at.after;
  let done = false;
  for (let n = 0; n < LIST_PAGES_PER_PAGE && !done; n++) {
    const params = { limit: o.pageSize, after, properties: CONTACT_PROPERTIES.join(','), associations: 'companies' };
    const { page, status } = await fetchPage(o.client, { path: PATHS.contacts, params, signal: ctx.signal }, listPageSchema, 'contacts page');
    const read = selectRecords(page.results, contactSchema, 'person', 'contact');
    contacts.push(...read.records);
    failures.push(...read.failures);
    const step = nextLink(page.paging?.next?.after);
    if (!step.done && step.cursor === after) throw pagingError('GET', PATHS.contacts, status, `the contacts list: the next page is the same as this one (${after})`);
    done = step.done;
    if (!step.done) after = step.cursor;
  }
  const built = await contactsPage(o, contacts, failures, ctx, (unknown) => listedLinks(o, unknown, ctx));
  // The walk's end opens the searches of later runs, from when the walk began.
  const cursor: ContactsCursor = done ? { phase: 'search', window: startWindow(at.since) } : { phase: 'list', after, since: at.since };
  return { ...built, cursor, done };
}

/** The links a list answer shows; a contact with more than it shows is read whole through the association batch read. */
async function listedLinks(o: Walk, unknown: HubSpotContact[], ctx: StreamContext): Promise<Links> {
  const links = new Map(unknown.map((c) => [c.id, listedCompanyIds(c)]));
  const partial = unknown.filter((c) => c.associations?.companies?.paging?.next?.after).map((c) => c.id);
  if (partial.length === 0) return { links, failures: [], gone: new Set() };
  const whole = await readCompanyLinks(o.client, partial, ctx.signal);
  for (const [id, ids] of whole.links) links.set(id, [...new Set([...(links.get(id) ?? []), ...ids])]);
  return { links, failures: whole.failures, gone: whole.gone };
}

/**
 * One page of an incremental run: POST a search for contacts changed at or after the window's
 * start, oldest first. The window moves to the last time seen at every page that ends past its
 * start (re-anchored, a search cannot skip contacts whose changes reorder the results behind it)
 * and at HubSpot's 10,000 cap; `after` is followed only through contacts sharing one time.
 */
async function searchPage(o: Walk, window: WindowCursor, ctx: StreamContext): Promise<StreamPage<ContactsCursor>> {
  await o.paceSearch(ctx.signal);
  const body = {
    filterGroups: [{ filters: [{ propertyName: 'lastmodifieddate', operator: 'GTE', value: String(Date.parse(window.since)) }] }],
    sorts: [{ propertyName: 'lastmodifieddate', direction: 'ASCENDING' }],
    properties: [...CONTACT_PROPERTIES],
    limit: o.pageSize,
    ...(window.after ? { after: window.after } : {}),
  };
  const { page, status } = await fetchPage(o.client, { method: 'POST', path: PATHS.search, body, signal: ctx.signal }, searchPageSchema, 'contacts search page');
  const { records, failures } = selectRecords(page.results, contactSchema, 'person', 'contact');
  const key = (c: HubSpotContact) => ({ id: c.id, at: modifiedAt(c) });
  const fresh = unseen(window, records, key);
  const built = await contactsPage(o, fresh, failures, ctx, (unknown) => readCompanyLinks(o.client, unknown.map((c) => c.id), ctx.signal));

  const after = page.paging?.next?.after ?? null;
  const keys = records.map(key);
  const last = keys.at(-1);
  const atCap = after !== null && Number(after) + o.pageSize > SEARCH_CAP;
  if (atCap && !last) throw pagingError('POST', PATHS.search, status, 'the search reached its 10,000-result cap without a readable contact to move on from');
  const broken = (detail: string) => pagingError('POST', PATHS.search, status, `the contacts search: ${detail}`);
  const step = advanceWindow(window, { records: keys, after, capReached: after !== null && (atCap || (last !== undefined && last.at !== window.since)) }, broken);
  // Done for now: the next run looks back a little from the newest change seen (HubSpot indexes changes late).
  const cursor = step.done && last ? { since: new Date(Date.parse(last.at) - SEARCH_LAG_MS).toISOString(), after: null, seenAtSince: [] } : step.cursor;
  return { ...built, cursor: { phase: 'search', window: cursor }, done: step.done };
}

type Links = { links: Map<string, string[]>; failures: RecordFailure[]; gone: Set<string> };

/**
 * People and tenants of one page: archived contacts are skipped; contacts the ledger knows need no
 * companies (create-only: they are skipped by the writer); the others get their company links and
 * the companies the ledger does not know yet, read in batches of 100.
 */
async function contactsPage(
  o: Walk,
  contacts: HubSpotContact[],
  failures: RecordFailure[],
  ctx: StreamContext,
  linksOf: (unknown: HubSpotContact[]) => Promise<Links>,
): Promise<Omit<StreamPage<ContactsCursor>, 'cursor' | 'done'>> {
  const skipped: NonNullable<StreamPage['skipped']> = contacts.filter((c) => c.archived).map((c) => ({ recordType: 'person', sourceId: c.id }));
  const live = contacts.filter((c) => !c.archived);
  const known = live.length === 0 ? new Map() : await ctx.known('person', live.map((c) => c.id));
  const unknown = live.filter((c) => !known.has(c.id));
  const found = unknown.length === 0 ? { links: new Map<string, string[]>(), failures: [], gone: new Set<string>() } : await linksOf(unknown);
  failures.push(...found.failures);
  for (const id of found.gone) skipped.push({ recordType: 'person', sourceId: id });
  const failed = new Set(found.failures.map((f) => f.sourceId));
  const people = live.filter((c) => !failed.has(c.id) && !found.gone.has(c.id)).map((c) => mapContact(c, found.links.get(c.id) ?? []));
  const companyIds = people.flatMap((p) => p.tenantSourceIds ?? []).filter((id) => !o.asked.has(id));
  const companies = await fetchUnknown(ctx, 'tenant', companyIds, COMPANIES_BATCH_MAX, (ids) => readCompanies(o.client, ids, ctx.signal, failures));
  for (const id of companyIds) o.asked.add(id);
  return { people, tenants: companies.map(mapCompany), skipped, failures };
}
