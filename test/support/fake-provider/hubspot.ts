import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { startFakeServer, type CoreOptions, type FakeServer, type ProviderDefinition, type Reply, type Route, type RouteContext } from './core.ts';
import { hubspotFixtures, type HCompany, type HContact, type HubSpotSource } from './hubspot-data.ts';

/**
 * HubSpot's CRM API for the fake provider server, as HubSpot documents it:
 * - GET /account-info/v3/details: `portalId`, `timeZone`, `utcOffsetMilliseconds`.
 * - GET /crm/v3/objects/contacts: `limit` (up to 100), opaque `after`, `properties`,
 *   `associations=companies` (rows per association type: a primary company is listed twice; more
 *   links than shown carry their own `paging`); `paging.next.after` except on the last page;
 *   archived contacts only with `archived=true`.
 * - POST /crm/v3/objects/contacts/search: filters on `lastmodifieddate` (GTE, GT, LTE, LT, EQ; ms or
 *   ISO), sorted by it (ties by id), `after` is an offset; 10,000 results per query at most (asking
 *   past them is a 400); no rate-limit headers; its own per-second limit (429 SECONDLY).
 * - POST /crm/v3/objects/companies/batch/read (up to 100 ids; 207 with OBJECT_NOT_FOUND for missing ones).
 * - POST /crm/v4/associations/contacts/companies/batch/read (up to 1,000 ids; 207 with a per-input
 *   NO_ASSOCIATIONS_FOUND for a contact without a company; a primary company in two rows; `after` per input).
 * - POST /oauth/v1/token: refresh_token grant; access tokens expire (30 minutes by default).
 * Limits: a rolling window (`X-HubSpot-RateLimit-Max` per `-Interval-Milliseconds`, `-Remaining`)
 * and a daily one (`-Daily`, `-Daily-Remaining`); 429 bodies name `policyName`, without Retry-After.
 * Errors: `{ status: "error", message, correlationId, category, errors? }`; 401 for unknown or
 * expired tokens, 403 MISSING_SCOPES, Cloudflare's 530 for a malformed token.
 */

export type HubSpotOAuthApp = { clientId: string; clientSecret: string };
export const DEFAULT_HUBSPOT_AUTH = {
  privateAppToken: 'pat-na1-11111111-2222-3333-4444-555555555555',
  clientId: 'hs-client-id',
  clientSecret: 'hs-client-secret',
  refreshToken: 'hs-refresh-token-1',
};
export const HUBSPOT_PORTAL_ID = 4242424;
export const ALL_SCOPES = ['crm.objects.contacts.read', 'crm.objects.companies.read'] as const;

export type HubSpotLimits = {
  /** Requests per rolling window (not search, not the token endpoint). Default 190. */
  max: number;
  intervalMs: number;
  /** Requests per day; false: none. Default 1,000,000. */
  daily: number | false;
  /** Searches per second. Default 5. */
  searchPerSecond: number;
};

export type HubSpotOptions = {
  data?: HubSpotSource;
  /** `false`: no limits at all. */
  limits?: Partial<HubSpotLimits> | false;
  timeZone?: string;
  /** Association rows a list answer shows per contact before it pages them. Default 100. */
  listAssociationLimit?: number;
  /** Companies per input in one v4 association answer before `paging`. Default 500. */
  associationPageSize?: number;
  /** Lifetime of issued OAuth access tokens. Default 1800 s. */
  accessTokenSeconds?: number;
};

type Policy = 'TEN_SECONDLY_ROLLING' | 'SECONDLY' | 'DAILY';

export type HubSpotState = ReturnType<typeof createHubSpotState>;

export function createHubSpotState(source: HubSpotSource, options: HubSpotOptions = {}) {
  const contacts = new Map(source.contacts.map((c) => [c.id, structuredClone(c)]));
  const companies = new Map(source.companies.map((c) => [c.id, structuredClone(c)]));
  let byId: HContact[] | null = null;
  let byModified: HContact[] | null = null;
  let clock = 0;
  const limits: HubSpotLimits | false = options.limits === false ? false : { max: 190, intervalMs: 10_000, daily: 1_000_000, searchPerSecond: 5, ...options.limits };
  let nextContactId = Math.max(200_000_000, ...source.contacts.map((c) => Number(c.id) + 1));
  let nextCompanyId = Math.max(300_000_000, ...source.companies.map((c) => Number(c.id) + 1));
  /** Strictly increasing times for changes made during a test. */
  const tick = () => new Date((clock = Math.max(clock + 1, Date.now()))).toISOString();
  const changed = () => {
    byId = null;
    byModified = null;
  };

  return {
    contacts,
    companies,
    portalId: HUBSPOT_PORTAL_ID,
    timeZone: options.timeZone ?? 'America/New_York',
    listAssociationLimit: options.listAssociationLimit ?? 100,
    associationPageSize: options.associationPageSize ?? 500,
    /** Archived contacts in list answers whatever `archived` says (to prove the adapter skips them). */
    leakArchived: false,
    /** Accepted private-app tokens (mutate to revoke). */
    privateAppTokens: new Set([DEFAULT_HUBSPOT_AUTH.privateAppToken]),
    oauthApp: { clientId: DEFAULT_HUBSPOT_AUTH.clientId, clientSecret: DEFAULT_HUBSPOT_AUTH.clientSecret } as HubSpotOAuthApp,
    refreshTokens: new Set([DEFAULT_HUBSPOT_AUTH.refreshToken]),
    /** Issued access token -> expiry (ms). */
    accessTokens: new Map<string, number>(),
    accessTokenSeconds: options.accessTokenSeconds ?? 1800,
    /** An issued access token expires after serving this many requests (HubSpot's 30 minutes, passing mid-run). */
    accessTokenMaxUses: Number.POSITIVE_INFINITY,
    accessTokenUses: new Map<string, number>(),
    tokenCalls: 0,
    scopes: new Set<string>(ALL_SCOPES),
    limits,
    /** Arrival times counted in the rolling window and in the last second of searches. */
    windowLog: [] as number[],
    searchLog: [] as number[],
    dailyUsed: 0,
    throttled: { TEN_SECONDLY_ROLLING: 0, SECONDLY: 0, DAILY: 0 } as Record<Policy, number>,
    /** Every search body and batch input, in order. */
    searches: [] as Array<{ after: string | null; limit: number; since: string | null }>,
    companyReads: [] as string[][],
    associationReads: [] as string[][],

    sortedById(): HContact[] {
      byId ??= [...contacts.values()].sort((a, b) => Number(a.id) - Number(b.id));
      return byId;
    },
    sortedByModified(): HContact[] {
      byModified ??= [...contacts.values()].filter((c) => !c.archived).sort((a, b) => Date.parse(a.lastmodifieddate) - Date.parse(b.lastmodifieddate) || Number(a.id) - Number(b.id));
      return byModified;
    },

    /** A new contact now (its createdate may be old: HubSpot imports keep theirs). */
    addContact(c: Partial<HContact> & { email: string | null }): HContact {
      const now = tick();
      const contact: HContact = { id: String(nextContactId++), firstname: null, lastname: null, createdate: now, lastmodifieddate: now, companyIds: [], ...c };
      contacts.set(contact.id, contact);
      changed();
      return contact;
    },
    /** Many contacts at once (a generated batch), as they are. */
    addContacts(list: HContact[]): void {
      for (const c of list) contacts.set(c.id, structuredClone(c));
      changed();
    },
    addCompany(c: Partial<HCompany> & { name: string | null }): HCompany {
      const company: HCompany = { id: String(nextCompanyId++), domain: null, createdate: tick(), ...c };
      companies.set(company.id, company);
      return company;
    },
    /** A change in HubSpot: the contact moves to the end of the search order. */
    updateContact(id: string, patch: Partial<HContact>): HContact {
      const current = contacts.get(id);
      if (!current) throw new Error(`no contact ${id}`);
      const next = { ...current, ...patch, lastmodifieddate: tick() };
      contacts.set(id, next);
      changed();
      return next;
    },
    /** Every access token stops working (HubSpot's 30 minutes passed). */
    expireAccessTokens(): void {
      for (const token of this.accessTokens.keys()) this.accessTokens.set(token, Date.now() - 1000);
    },
    /** The account's owner uninstalled the app: tokens and refresh tokens are refused. */
    revokeAll(): void {
      this.privateAppTokens.clear();
      this.refreshTokens.clear();
      this.accessTokens.clear();
    },
    /** Midnight in the account's time zone. */
    resetDay(): void {
      this.dailyUsed = 0;
    },
  };
}

// ---------------------------------------------------------------------------------------------

const json = (status: number, body: unknown, headers?: Record<string, string>): Reply => ({ status, json: body, ...(headers ? { headers } : {}) });
const hubspotError = (status: number, category: string, message: string, extra: Record<string, unknown> = {}) =>
  json(status, { status: 'error', message, correlationId: randomUUID(), category, ...extra });
const validation = (message: string) => hubspotError(400, 'VALIDATION_ERROR', message);

function parseBody(ctx: RouteContext): { body: Record<string, unknown> } | { refused: Reply } {
  try {
    const parsed = JSON.parse((ctx.body ?? Buffer.alloc(0)).toString('utf8') || 'null') as unknown;
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return { body: parsed as Record<string, unknown> };
  } catch {
    // falls through
  }
  return { refused: validation('Invalid input JSON: expected an object') };
}

function contactJson(c: HContact, properties: string[]) {
  const all: Record<string, string | null> = {
    email: c.email,
    firstname: c.firstname,
    lastname: c.lastname,
    company: c.company ?? null,
    hs_additional_emails: c.additionalEmails ?? null,
    createdate: c.createdate,
    lastmodifieddate: c.lastmodifieddate,
    hs_object_id: c.id,
  };
  // HubSpot always answers createdate, lastmodifieddate and hs_object_id, and the ones asked for.
  const props: Record<string, string | null> = { createdate: c.createdate, lastmodifieddate: c.lastmodifieddate, hs_object_id: c.id };
  for (const p of properties) if (p in all) props[p] = all[p]!;
  return { id: c.id, properties: props, createdAt: c.createdate, updatedAt: c.lastmodifieddate, archived: c.archived ?? false };
}

/** A contact's association rows as the v3 list shows them: a primary company under two types. */
function associationRows(c: HContact): Array<{ id: string; type: string }> {
  return c.companyIds.flatMap((id, i) => (i === 0 ? [{ id, type: 'contact_to_company' }, { id, type: 'contact_to_company_unlabeled' }] : [{ id, type: 'contact_to_company_unlabeled' }]));
}

const encodeAfter = (id: string) => Buffer.from(`c:${id}`).toString('base64url');
const decodeAfter = (raw: string) => /^c:(\d+)$/.exec(Buffer.from(raw, 'base64url').toString())?.[1];

function listContacts(state: HubSpotState, ctx: RouteContext): Reply {
  const limit = Number(ctx.query.get('limit') ?? 10);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) return validation(`limit must be between 1 and 100 (was ${ctx.query.get('limit')})`);
  const properties = ctx.query.getAll('properties').flatMap((p) => p.split(',')).map((p) => p.trim()).filter((p) => p !== '');
  const withCompanies = ctx.query.getAll('associations').flatMap((a) => a.split(',')).some((a) => a === 'companies' || a === 'company');
  const archived = ctx.query.get('archived') === 'true';
  const afterRaw = ctx.query.get('after');
  let afterId = 0;
  if (afterRaw) {
    const id = decodeAfter(afterRaw);
    if (id === undefined) return validation(`Invalid after: ${afterRaw}`);
    afterId = Number(id);
  }
  const all = state.sortedById().filter((c) => state.leakArchived || (c.archived ?? false) === archived);
  // The first contact past `after`: a binary search over the id order.
  let lo = 0;
  let hi = all.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (Number(all[mid]!.id) <= afterId) lo = mid + 1;
    else hi = mid;
  }
  const page = all.slice(lo, lo + limit);
  const results = page.map((c) => {
    const out: Record<string, unknown> = contactJson(c, properties);
    const rows = associationRows(c);
    if (withCompanies && rows.length > 0) {
      const shown = rows.slice(0, state.listAssociationLimit);
      out.associations = {
        companies: {
          results: shown,
          ...(rows.length > shown.length ? { paging: { next: { after: Buffer.from(`a:${shown.length}`).toString('base64url'), link: `${ctx.baseUrl}/crm/v3/objects/contacts/${c.id}/associations/companies` } } } : {}),
        },
      };
    }
    return out;
  });
  const more = lo + limit < all.length;
  const next = more ? encodeAfter(page.at(-1)!.id) : null;
  return json(200, {
    results,
    ...(next ? { paging: { next: { after: next, link: `${ctx.baseUrl}/crm/v3/objects/contacts?limit=${limit}&after=${next}` } } } : {}),
  });
}

const SEARCH_CAP = 10_000;

function searchContacts(state: HubSpotState, ctx: RouteContext): Reply {
  const parsed = parseBody(ctx);
  if ('refused' in parsed) return parsed.refused;
  const { body } = parsed;
  const limit = body.limit === undefined ? 10 : Number(body.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 200) return validation('limit must be between 1 and 200');
  const offset = body.after === undefined || body.after === null ? 0 : Number(body.after);
  if (!Number.isInteger(offset) || offset < 0) return validation(`Invalid after: ${String(body.after)}`);
  if (offset >= SEARCH_CAP) return validation(`The search cannot page beyond ${SEARCH_CAP} results (after ${offset}).`);
  const groups = Array.isArray(body.filterGroups) ? (body.filterGroups as Array<{ filters?: Array<{ propertyName: string; operator: string; value: unknown }> }>) : [];
  const sorts = Array.isArray(body.sorts) ? (body.sorts as Array<{ propertyName: string; direction?: string }>) : [];
  if (sorts.length > 1) return validation('Only one sort is allowed');
  const properties = Array.isArray(body.properties) ? (body.properties as string[]) : [];
  const toMs = (v: unknown) => (typeof v === 'number' ? v : /^\d+$/.test(String(v)) ? Number(v) : Date.parse(String(v)));
  const test = (c: HContact, f: { propertyName: string; operator: string; value: unknown }) => {
    if (f.propertyName !== 'lastmodifieddate' && f.propertyName !== 'createdate') throw new Error(`the fake searches lastmodifieddate and createdate only, not ${f.propertyName}`);
    const v = Date.parse(f.propertyName === 'createdate' ? c.createdate : c.lastmodifieddate);
    const x = toMs(f.value);
    return { GTE: v >= x, GT: v > x, LTE: v <= x, LT: v < x, EQ: v === x }[f.operator] ?? false;
  };
  let all = state.sortedByModified();
  if (groups.length > 0) all = all.filter((c) => groups.some((g) => (g.filters ?? []).every((f) => test(c, f))));
  const sort = sorts[0];
  if (sort && sort.propertyName !== 'lastmodifieddate') return validation(`the fake sorts on lastmodifieddate only, not ${sort.propertyName}`);
  if (sort?.direction === 'DESCENDING') all = [...all].reverse();
  const since = groups[0]?.filters?.find((f) => f.propertyName === 'lastmodifieddate' && (f.operator === 'GTE' || f.operator === 'GT'))?.value;
  state.searches.push({ after: offset === 0 ? null : String(offset), limit, since: since === undefined ? null : new Date(toMs(since)).toISOString() });
  const end = Math.min(offset + limit, all.length);
  const results = all.slice(offset, end).map((c) => contactJson(c, properties));
  // A next page while results remain, even when it lies past the cap (asking for it is the 400).
  return json(200, { total: all.length, results, ...(end < all.length ? { paging: { next: { after: String(end), link: null } } } : {}) });
}

function readCompanies(state: HubSpotState, ctx: RouteContext): Reply {
  const parsed = parseBody(ctx);
  if ('refused' in parsed) return parsed.refused;
  const { body } = parsed;
  const inputs = Array.isArray(body.inputs) ? (body.inputs as Array<{ id?: unknown }>) : null;
  if (!inputs || inputs.length === 0) return validation('inputs must not be empty');
  if (inputs.length > 100) return validation(`Batch input is limited to 100 inputs (got ${inputs.length})`);
  const properties = Array.isArray(body.properties) ? (body.properties as string[]) : [];
  const ids = inputs.map((i) => String(i.id));
  state.companyReads.push(ids);
  const found = ids.map((id) => state.companies.get(id)).filter((c): c is HCompany => c !== undefined && !c.archived);
  const missing = ids.filter((id) => !found.some((c) => c.id === id));
  const results = found.map((c) => {
    const all: Record<string, string | null> = { name: c.name, domain: c.domain, createdate: c.createdate, hs_lastmodifieddate: c.createdate, hs_object_id: c.id };
    const props: Record<string, string | null> = { createdate: c.createdate, hs_lastmodifieddate: c.createdate, hs_object_id: c.id };
    for (const p of properties) if (p in all) props[p] = all[p]!;
    return { id: c.id, properties: props, createdAt: c.createdate, updatedAt: c.createdate, archived: false };
  });
  const times = { startedAt: new Date().toISOString(), completedAt: new Date().toISOString() };
  if (missing.length === 0) return json(200, { status: 'COMPLETE', results, ...times });
  return json(207, {
    status: 'COMPLETE',
    results,
    numErrors: 1,
    errors: [{ status: 'error', category: 'OBJECT_NOT_FOUND', message: 'Could not get some COMPANY objects, they may be deleted or not exist. Check that ids are valid.', context: { ids: missing } }],
    ...times,
  });
}

function readAssociations(state: HubSpotState, ctx: RouteContext): Reply {
  const parsed = parseBody(ctx);
  if ('refused' in parsed) return parsed.refused;
  const { body } = parsed;
  const inputs = Array.isArray(body.inputs) ? (body.inputs as Array<{ id?: unknown; after?: unknown }>) : null;
  if (!inputs || inputs.length === 0) return validation('inputs must not be empty');
  if (inputs.length > 1000) return validation(`Batch input is limited to 1000 inputs (got ${inputs.length})`);
  state.associationReads.push(inputs.map((i) => String(i.id)));
  const results: unknown[] = [];
  const errors: unknown[] = [];
  for (const input of inputs) {
    const id = String(input.id);
    const contact = state.contacts.get(id);
    const from = input.after === undefined ? 0 : Number(Buffer.from(String(input.after), 'base64url').toString().replace(/^a:/, ''));
    const links = contact?.companyIds ?? [];
    if (links.length === 0) {
      errors.push({ status: 'error', category: 'OBJECT_NOT_FOUND', subCategory: 'crm.associations.NO_ASSOCIATIONS_FOUND', message: `No company is associated with contact ${id}.`, context: { fromObjectId: [id] } });
      continue;
    }
    const slice = links.slice(from, from + state.associationPageSize);
    // The primary company is answered in two rows (Primary, and the unlabeled type): one membership.
    const to = slice.flatMap((companyId, i) =>
      from + i === 0
        ? [
            { toObjectId: Number(companyId), associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId: 1, label: 'Primary' }] },
            { toObjectId: Number(companyId), associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId: 279, label: null }] },
          ]
        : [{ toObjectId: Number(companyId), associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId: 279, label: null }] }],
    );
    const next = from + slice.length < links.length ? Buffer.from(`a:${from + slice.length}`).toString('base64url') : null;
    results.push({ from: { id }, to, ...(next ? { paging: { next: { after: next, link: null } } } : {}) });
  }
  const times = { startedAt: new Date().toISOString(), completedAt: new Date().toISOString() };
  return errors.length > 0 ? json(207, { status: 'COMPLETE', results, numErrors: errors.length, errors, ...times }) : json(200, { status: 'COMPLETE', results, ...times });
}

function token(state: HubSpotState, ctx: RouteContext): Reply {
  state.tokenCalls += 1;
  const form = new URLSearchParams((ctx.body ?? Buffer.alloc(0)).toString('utf8'));
  const refused = (status: string, message: string) => json(400, { status, message, correlationId: randomUUID(), requestId: randomUUID() });
  if (form.get('grant_type') !== 'refresh_token') return refused('BAD_GRANT_TYPE', 'grant_type must be refresh_token or authorization_code');
  if (form.get('client_id') !== state.oauthApp.clientId) return refused('BAD_CLIENT_ID', 'missing or invalid client_id');
  if (form.get('client_secret') !== state.oauthApp.clientSecret) return refused('BAD_CLIENT_SECRET', 'missing or invalid client_secret');
  const refreshToken = form.get('refresh_token') ?? '';
  if (!state.refreshTokens.has(refreshToken)) return refused('BAD_REFRESH_TOKEN', 'missing or unknown refresh token');
  const access = `CJ${randomUUID().replaceAll('-', '')}`;
  state.accessTokens.set(access, Date.now() + state.accessTokenSeconds * 1000);
  // HubSpot answers the same refresh token: it does not rotate.
  return json(200, { token_type: 'bearer', refresh_token: refreshToken, access_token: access, expires_in: state.accessTokenSeconds });
}

/** Which scope each path needs. */
function scopeFor(path: string): string | null {
  if (path.startsWith('/crm/v3/objects/contacts')) return 'crm.objects.contacts.read';
  if (path.startsWith('/crm/v3/objects/companies')) return 'crm.objects.companies.read';
  if (path.startsWith('/crm/v4/associations/contacts/companies')) return 'crm.objects.contacts.read';
  return null;
}

const CLOUDFLARE_530 =
  '<!DOCTYPE html>\n<html lang="en-US">\n<head><title>Origin DNS error | api.hubapi.com | Cloudflare</title></head>\n<body><h1>Error 1016</h1><p>Origin DNS error</p></body>\n</html>\n';

function authenticate(state: HubSpotState, ctx: RouteContext): Reply | undefined {
  const header = ctx.headers.authorization ?? '';
  const bearer = /^Bearer\s+(.*)$/i.exec(header)?.[1]?.trim();
  if (!bearer) {
    return hubspotError(401, 'INVALID_AUTHENTICATION', 'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview');
  }
  // Cloudflare, in front of HubSpot, refuses a token that cannot be one.
  if (!/^[A-Za-z0-9_.~+/=-]{10,}$/.test(bearer)) return { status: 530, body: CLOUDFLARE_530, contentType: 'text/html; charset=UTF-8' };
  const expiry = state.accessTokens.get(bearer);
  if (expiry !== undefined) {
    const uses = (state.accessTokenUses.get(bearer) ?? 0) + 1;
    state.accessTokenUses.set(bearer, uses);
    if (uses > state.accessTokenMaxUses) state.accessTokens.set(bearer, Math.min(expiry, Date.now() - 1000));
  }
  if (expiry !== undefined && state.accessTokens.get(bearer)! <= Date.now()) {
    return hubspotError(401, 'EXPIRED_AUTHENTICATION', `The OAuth token used to make this call expired ${Math.ceil((Date.now() - state.accessTokens.get(bearer)!) / 1000)} second(s) ago.`);
  }
  if (expiry === undefined && !state.privateAppTokens.has(bearer)) {
    return hubspotError(401, 'INVALID_AUTHENTICATION', 'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview');
  }
  const scope = scopeFor(ctx.path);
  if (scope && !state.scopes.has(scope)) {
    return hubspotError(403, 'MISSING_SCOPES', "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.", {
      errors: [{ message: 'One or more of the following scopes are required.', context: { requiredGranularScopes: [scope] } }],
      links: { scopes: 'https://developers.hubspot.com/scopes' },
    });
  }
  return undefined;
}

const POLICY_MESSAGES: Record<Policy, string> = {
  TEN_SECONDLY_ROLLING: 'You have reached your ten_secondly_rolling limit.',
  SECONDLY: 'You have reached your secondly limit.',
  DAILY: 'You have reached your daily limit.',
};

/**
 * HubSpot's limits around a handler: the daily count, then the rolling window (standard calls) or
 * the per-second search limit. A refused request is not counted; 429s carry no Retry-After.
 */
function limited(state: HubSpotState, kind: 'standard' | 'search', handle: (ctx: RouteContext) => Reply): (ctx: RouteContext) => Reply {
  return (ctx) => {
    const l = state.limits;
    if (!l) return handle(ctx);
    const now = Date.now();
    const headers = (remaining: number): Record<string, string> =>
      kind === 'search'
        ? {}
        : {
            'x-hubspot-ratelimit-max': String(l.max),
            'x-hubspot-ratelimit-remaining': String(Math.max(0, remaining)),
            'x-hubspot-ratelimit-interval-milliseconds': String(l.intervalMs),
            ...(l.daily === false ? {} : { 'x-hubspot-ratelimit-daily': String(l.daily), 'x-hubspot-ratelimit-daily-remaining': String(Math.max(0, l.daily - state.dailyUsed)) }),
          };
    const refuse = (policy: Policy): Reply => {
      state.throttled[policy] += 1;
      const body = { status: 'error', message: POLICY_MESSAGES[policy], errorType: 'RATE_LIMIT', correlationId: randomUUID(), policyName: policy, requestId: randomUUID() };
      return json(429, body, headers(0));
    };
    if (l.daily !== false && state.dailyUsed >= l.daily) return refuse('DAILY');
    const log = kind === 'search' ? state.searchLog : state.windowLog;
    const span = kind === 'search' ? 1000 : l.intervalMs;
    const max = kind === 'search' ? l.searchPerSecond : l.max;
    while (log.length > 0 && log[0]! <= now - span) log.shift();
    if (log.length >= max) return refuse(kind === 'search' ? 'SECONDLY' : 'TEN_SECONDLY_ROLLING');
    log.push(now);
    state.dailyUsed += 1;
    const reply = handle(ctx);
    return { ...reply, headers: { ...headers(max - log.length), ...reply.headers } };
  };
}

export function hubspotRoutes(state: HubSpotState): Route[] {
  return [
    {
      method: 'GET',
      pattern: /^\/account-info\/v3\/details\/?$/,
      handle: limited(state, 'standard', () => {
        const offset = new Intl.DateTimeFormat('en-US', { timeZone: state.timeZone, timeZoneName: 'longOffset' }).formatToParts(new Date()).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
        const m = /GMT([+-])(\d{2}):(\d{2})/.exec(offset);
        const ms = m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 3_600_000 + Number(m[3]) * 60_000) : 0;
        return json(200, {
          portalId: state.portalId,
          accountType: 'STANDARD',
          timeZone: state.timeZone,
          companyCurrency: 'USD',
          additionalCurrencies: [],
          utcOffset: m ? `${m[1]}${m[2]}:${m[3]}` : '+00:00',
          utcOffsetMilliseconds: ms,
          uiDomain: 'app.hubspot.com',
          dataHostingLocation: 'na1',
        });
      }),
    },
    { method: 'GET', pattern: /^\/crm\/v3\/objects\/contacts\/?$/, handle: limited(state, 'standard', (ctx) => listContacts(state, ctx)) },
    { method: 'POST', pattern: /^\/crm\/v3\/objects\/contacts\/search\/?$/, handle: limited(state, 'search', (ctx) => searchContacts(state, ctx)) },
    { method: 'POST', pattern: /^\/crm\/v3\/objects\/companies\/batch\/read\/?$/, handle: limited(state, 'standard', (ctx) => readCompanies(state, ctx)) },
    { method: 'POST', pattern: /^\/crm\/v4\/associations\/contacts\/companies\/batch\/read\/?$/, handle: limited(state, 'standard', (ctx) => readAssociations(state, ctx)) },
    { method: 'POST', pattern: /^\/oauth\/v1\/token\/?$/, auth: false, rateLimited: false, handle: (ctx) => token(state, ctx) },
  ];
}

export function hubspotProvider(options: HubSpotOptions = {}) {
  return (): ProviderDefinition & { state: HubSpotState } => {
    const state = createHubSpotState(options.data ?? hubspotFixtures(), options);
    return {
      state,
      routes: hubspotRoutes(state),
      authenticate: (ctx) => authenticate(state, ctx),
      getBlob: () => undefined,
      notFound: (ctx) => hubspotError(404, 'OBJECT_NOT_FOUND', `Unable to route ${ctx.method} url: ${ctx.path}`),
      rateLimited: () => json(429, { status: 'error', message: POLICY_MESSAGES.TEN_SECONDLY_ROLLING, errorType: 'RATE_LIMIT', correlationId: randomUUID(), policyName: 'TEN_SECONDLY_ROLLING' }),
      serverError: (status, html) =>
        // An injected 429 is a rolling-window one without headers or Retry-After.
        status === 429 && !html
          ? json(429, { status: 'error', message: POLICY_MESSAGES.TEN_SECONDLY_ROLLING, errorType: 'RATE_LIMIT', correlationId: randomUUID(), policyName: 'TEN_SECONDLY_ROLLING' })
          : html
          ? { status, contentType: 'text/html; charset=utf-8', body: `<html><head><title>${status} ${STATUS_CODES[status]}</title></head><body><center><h1>${status} ${STATUS_CODES[status]}</h1></center><hr><center>cloudflare</center></body></html>` }
          : hubspotError(status, 'INTERNAL_ERROR', 'internal error'),
    };
  };
}

export type FakeHubSpot = FakeServer & { state: HubSpotState };

/**
 * Starts the fake HubSpot on a loopback port. Default data: the fixtures above; credentials:
 * DEFAULT_HUBSPOT_AUTH; limits: 190 requests per rolling 10 s, 5 searches a second, 1,000,000 a
 * day (`limits: false` turns them off). The core's own fixed-window limiter is not used.
 */
export async function startFakeHubSpot(options: Omit<CoreOptions, 'rateLimit'> & HubSpotOptions = {}): Promise<FakeHubSpot> {
  let state: HubSpotState | undefined;
  const server = await startFakeServer(
    () => {
      const def = hubspotProvider(options)();
      state = def.state;
      return def;
    },
    { ...options, rateLimit: false },
  );
  return Object.assign(server, { state: state! });
}
