import { randomBytes } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { startFakeServer, type CoreOptions, type FakeServer, type ProviderDefinition, type Reply, type Route, type RouteContext } from './core.ts';
import { salesforceFixtures, sfId, sfTime, type SalesforceSource, type SfAccount, type SfContact } from './salesforce-data.ts';
import { matches, orderRows, parseSoql, SoqlError, type FieldRef, type ObjectSchema } from './salesforce-soql.ts';

/**
 * The fake Salesforce: a login host (the OAuth token endpoint) and, on another port, the org's
 * instance (the REST API), with the behaviour Salesforce documents:
 * - `POST /services/oauth2/token` grant_type=refresh_token -> `{ access_token, instance_url, id, ... }`;
 *   `invalid_grant` / `invalid_client_id` / `invalid_client` as 400 `{ error, error_description }`;
 *   refresh-token rotation when asked for.
 * - every instance call needs a live session (else 401 INVALID_SESSION_ID), counts against the
 *   org's daily allocation and answers `Sforce-Limit-Info: api-usage=N/M`; past M, 403
 *   REQUEST_LIMIT_EXCEEDED "TotalRequests Limit exceeded."
 * - `GET /services/data/vNN.N/` (resources, with the identity URL), `/limits` (DailyApiRequests),
 *   `/query?q=` (the SOQL of salesforce-soql.ts) with pages of up to 2,000 records (fewer with
 *   `Sforce-Query-Options: batchSize` or the fake's page size) and `nextRecordsUrl` locators that
 *   expire after 15 minutes unused, close when read to the end, at most 10 open per user, and
 *   belong to the session that opened them.
 * Error bodies: `[{ message, errorCode, fields }]`.
 */

export type SalesforceApp = { clientId: string; clientSecret: string; refreshToken: string };
export const DEFAULT_SALESFORCE_APP: SalesforceApp = { clientId: '3MVG9fake.consumer.key', clientSecret: 'sf-consumer-secret', refreshToken: '5Aep861fake-refresh-token' };
export const FAKE_ORG_ID = '00D5g000004XyZ1EAK';
export const FAKE_USER_ID = '0055g00000AbCdEFGH';

export type SalesforceOptions = {
  /** Default: the fixtures in salesforce-data.ts. */
  data?: SalesforceSource;
  app?: Partial<SalesforceApp>;
  /** The most records a query page holds (Salesforce: 2,000; it may send fewer). */
  pageSize?: number;
  /** The org's daily API usage at the start. Default 0 of 100,000. */
  usage?: { used: number; max: number };
  /** How long a query locator lives unused. Default 15 minutes. */
  locatorTtlMs?: number;
  /** A new refresh token with every refresh (the old one stops working). */
  rotateRefreshTokens?: boolean;
  /** `Object.Field` names this user's profile hides (field-level security). */
  hiddenFields?: string[];
};

type SfError = { message: string; errorCode: string; fields?: string[] };
type PlannedError = { path: RegExp; status: number; error: SfError; times: number };
type Locator = { id: string; object: string; select: FieldRef[]; ids: string[]; version: string; session: string; lastUsed: number };
type Row = Record<string, unknown> & { Id: string };

const VERSIONS = Array.from({ length: 36 }, (_, i) => `${31 + i}.0`);
const MAX_PAGE = 2000;
const MAX_OPEN_LOCATORS = 10;

const OBJECTS: Record<string, ObjectSchema> = {
  Contact: {
    name: 'Contact',
    fields: { Id: 'id', FirstName: 'string', LastName: 'string', Name: 'string', Email: 'string', AccountId: 'id', CreatedDate: 'datetime', SystemModstamp: 'datetime', LastModifiedDate: 'datetime', IsDeleted: 'boolean' },
    parents: { Account: { idField: 'AccountId', object: 'Account' } },
  },
  Account: { name: 'Account', fields: { Id: 'id', Name: 'string', Website: 'string', CreatedDate: 'datetime', SystemModstamp: 'datetime', LastModifiedDate: 'datetime', IsDeleted: 'boolean' } },
  Organization: { name: 'Organization', fields: { Id: 'id', Name: 'string' } },
};

const json = (status: number, body: unknown, headers?: Record<string, string>): Reply => ({ status, json: body, ...(headers ? { headers } : {}) });
const sfErrors = (status: number, ...errors: SfError[]): Reply => json(status, errors);
const time = (v: unknown) => (typeof v === 'string' ? Date.parse(v.replace(/([+-]\d{2})(\d{2})$/, '$1:$2')) : null);

export type SalesforceState = ReturnType<typeof createSalesforceState>;

export function createSalesforceState(source: SalesforceSource, options: SalesforceOptions = {}) {
  const changedContacts = new Map<string, SfContact>();
  const changedAccounts = new Map<string, SfAccount>();
  let clock = 0;
  let counter = 0;
  let nextContact = 900_000;
  let nextAccount = 900_000;

  const contactById = (id: string) => changedContacts.get(id) ?? source.contactById(id);
  const accountById = (id: string) => changedAccounts.get(id) ?? source.accountById(id);

  const state = {
    source,
    app: { ...DEFAULT_SALESFORCE_APP, ...options.app } as SalesforceApp,
    /** Refresh tokens the token endpoint accepts. */
    refreshTokens: new Set([options.app?.refreshToken ?? DEFAULT_SALESFORCE_APP.refreshToken]),
    rotateRefreshTokens: options.rotateRefreshTokens ?? false,
    /** Access tokens with a live session. */
    sessions: new Set<string>(),
    tokenRequests: 0,
    usage: { ...(options.usage ?? { used: 0, max: 100_000 }) },
    pageSize: Math.min(MAX_PAGE, options.pageSize ?? MAX_PAGE),
    locatorTtlMs: options.locatorTtlMs ?? 15 * 60_000,
    locators: new Map<string, Locator>(),
    hiddenFields: new Set(options.hiddenFields ?? []),
    /** The "View Setup and Configuration" permission the limits resource needs. */
    limitsForbidden: false,
    /** Leave the parent relationship fields out of query records (as an older API or a proxy might). */
    dropRelationshipFields: false,
    /** The next this many query pages say done:false without a nextRecordsUrl (a broken page). */
    brokenPages: 0,
    /** Every SOQL query received, in order. */
    queries: [] as string[],
    /** How often each contact was served in a query page. */
    served: new Map<string, number>(),
    planned: [] as PlannedError[],
    loginUrl: '',
    instanceUrl: '',
    organizationName: 'Acme Inc.',

    contactById,
    accountById,
    /** Every contact now, in the source's order then the changed ones. */
    *contacts(): Generator<SfContact> {
      for (let i = 0; i < source.contactCount; i++) {
        const c = source.contactAt(i);
        if (!changedContacts.has(c.Id)) yield c;
      }
      yield* changedContacts.values();
    },
    *accounts(): Generator<SfAccount> {
      for (let i = 0; i < source.accountCount; i++) {
        const a = source.accountAt(i);
        if (!changedAccounts.has(a.Id)) yield a;
      }
      yield* changedAccounts.values();
    },
    /** A SystemModstamp after every one so far, on a whole second. */
    now(): string {
      clock = Math.max(clock + 1000, Math.floor(Date.now() / 1000) * 1000);
      return sfTime(clock);
    },
    addAccount(a: Partial<SfAccount> & { Name: string }): SfAccount {
      const at = state.now();
      const account: SfAccount = { Id: sfId('001', nextAccount++), Website: null, CreatedDate: at, SystemModstamp: at, LastModifiedDate: at, ...a };
      changedAccounts.set(account.Id, account);
      return account;
    },
    addContact(c: Partial<SfContact> & { LastName: string }): SfContact {
      const at = state.now();
      const contact: SfContact = { Id: sfId('003', nextContact++), FirstName: null, Email: null, AccountId: null, CreatedDate: at, SystemModstamp: at, LastModifiedDate: at, ...c };
      changedContacts.set(contact.Id, contact);
      return contact;
    },
    /** A change to a contact: it moves to the end of SystemModstamp order. */
    updateContact(id: string, change: Partial<SfContact>): SfContact {
      const current = contactById(id);
      if (!current) throw new Error(`no contact ${id}`);
      const at = state.now();
      const next = { ...current, ...change, SystemModstamp: at, LastModifiedDate: at };
      changedContacts.delete(id);
      changedContacts.set(id, next);
      return next;
    },
    /** Every open query locator stops working (as after 15 minutes unused). */
    expireLocators(): void {
      state.locators.clear();
    },
    /** Every session ends (the org's session timeout): the next call is a 401 until a refresh. */
    expireSessions(): void {
      state.sessions.clear();
    },
    /** The refresh token is revoked (or expired): the token endpoint answers invalid_grant. */
    revokeRefreshTokens(): void {
      state.refreshTokens.clear();
    },
    /** The next `times` calls whose path matches answer this Salesforce error. */
    failNext(path: RegExp, status: number, error: SfError, times = 1): void {
      state.planned.push({ path, status, error, times });
    },
    newLocatorId(): string {
      counter += 1;
      return `01g5g00000${counter.toString(36).toUpperCase().padStart(5, '0')}AAA`;
    },
  };
  return state;
}

/** The row of one object by id, as the routes see it. */
function rowOf(state: SalesforceState, object: string, id: string): Row | undefined {
  if (object === 'Contact') return state.contactById(id) as Row | undefined;
  if (object === 'Account') return state.accountById(id) as Row | undefined;
  return object === 'Organization' && id === FAKE_ORG_ID ? { Id: FAKE_ORG_ID, Name: state.organizationName } : undefined;
}

function* rowsOf(state: SalesforceState, object: string): Generator<Row> {
  if (object === 'Contact') for (const c of state.contacts()) yield { ...c, Name: [c.FirstName, c.LastName].filter(Boolean).join(' '), IsDeleted: false };
  else if (object === 'Account') for (const a of state.accounts()) yield { ...a, IsDeleted: false };
  else yield { Id: FAKE_ORG_ID, Name: state.organizationName };
}

/** A field's value for WHERE and ORDER BY: datetimes as epoch milliseconds. */
function valueOf(state: SalesforceState, object: string, row: Row, f: FieldRef): string | number | boolean | null {
  let source: Row | undefined = row;
  if (f.relationship) {
    const parent = OBJECTS[object]!.parents![f.relationship]!;
    const id = row[parent.idField];
    source = typeof id === 'string' ? rowOf(state, parent.object, id) : undefined;
  }
  const v = source?.[f.field];
  if (v === undefined || v === null) return null;
  return f.type === 'datetime' ? time(v) : (v as string | boolean);
}

/** A record as the query resource returns it: `attributes`, the selected fields, parents nested. */
function project(state: SalesforceState, object: string, row: Row, select: FieldRef[], version: string): Record<string, unknown> {
  const out: Record<string, unknown> = { attributes: { type: object, url: `/services/data/v${version}/sobjects/${object}/${row.Id}` } };
  for (const f of select) {
    if (!f.relationship) {
      out[f.field] = f.field === 'Name' && object === 'Contact' ? [row.FirstName, row.LastName].filter(Boolean).join(' ') : (row[f.field] ?? null);
      continue;
    }
    if (state.dropRelationshipFields) continue;
    const parent = OBJECTS[object]!.parents![f.relationship]!;
    const id = row[parent.idField];
    const parentRow = typeof id === 'string' ? rowOf(state, parent.object, id) : undefined;
    if (!parentRow) {
      out[f.relationship] = null;
      continue;
    }
    const nested = (out[f.relationship] ??= { attributes: { type: parent.object, url: `/services/data/v${version}/sobjects/${parent.object}/${parentRow.Id}` } }) as Record<string, unknown>;
    nested[f.field] = parentRow[f.field] ?? null;
  }
  return out;
}

function batchSize(ctx: RouteContext, state: SalesforceState): number {
  const asked = /batchSize=(\d+)/i.exec(String(ctx.headers['sforce-query-options'] ?? ''))?.[1];
  // Salesforce takes 200 to 2,000 and treats the number as a hint; the fake's page size caps it.
  const hint = asked === undefined ? MAX_PAGE : Math.min(MAX_PAGE, Math.max(200, Number(asked)));
  return Math.min(hint, state.pageSize);
}

function sessionOf(ctx: RouteContext): string {
  return /^Bearer (.+)$/.exec(String(ctx.headers.authorization ?? ''))?.[1] ?? '';
}

/** One page of a query's rows from `position`; a locator for the rest unless this is the end. */
function queryPage(state: SalesforceState, ctx: RouteContext, locator: Locator, position: number): Reply {
  const size = batchSize(ctx, state);
  const ids = locator.ids.slice(position, position + size);
  const records: Array<Record<string, unknown>> = [];
  for (const id of ids) {
    const row = rowOf(state, locator.object, id);
    if (!row) continue;
    records.push(project(state, locator.object, row, locator.select, locator.version));
    if (locator.object === 'Contact') state.served.set(id, (state.served.get(id) ?? 0) + 1);
  }
  const end = position + size >= locator.ids.length;
  if (state.brokenPages > 0 && locator.object === 'Contact') {
    state.brokenPages -= 1;
    return json(200, { totalSize: locator.ids.length, done: false, records });
  }
  if (end) {
    state.locators.delete(locator.id);
    return json(200, { totalSize: locator.ids.length, done: true, records });
  }
  locator.lastUsed = Date.now();
  state.locators.set(locator.id, locator);
  // At most 10 open per user: opening another closes the one unused longest.
  const open = [...state.locators.values()].filter((l) => l.session === locator.session);
  if (open.length > MAX_OPEN_LOCATORS) state.locators.delete(open.sort((a, b) => a.lastUsed - b.lastUsed)[0]!.id);
  return json(200, { totalSize: locator.ids.length, done: false, nextRecordsUrl: `/services/data/v${locator.version}/query/${locator.id}-${position + size}`, records });
}

function runQuery(state: SalesforceState, ctx: RouteContext, version: string, soql: string): Reply {
  state.queries.push(soql);
  let q;
  try {
    q = parseSoql(soql, OBJECTS, state.hiddenFields);
  } catch (err) {
    if (err instanceof SoqlError) return sfErrors(400, { message: err.message, errorCode: err.errorCode });
    throw err;
  }
  const object = q.object.name;
  const hits: Array<{ id: string; keys: Array<string | number | boolean | null> }> = [];
  for (const row of rowsOf(state, object)) {
    const get = (f: FieldRef) => valueOf(state, object, row, f);
    if (matches(q.where, get)) hits.push({ id: row.Id, keys: q.orderBy.map((o) => get(o.field)) });
  }
  if (q.orderBy.length > 0) {
    const order = orderRows(q.orderBy);
    hits.sort((a, b) => order(a.keys, b.keys));
  }
  const ids = (q.limit === null ? hits : hits.slice(0, q.limit)).map((h) => h.id);
  return queryPage(state, ctx, { id: state.newLocatorId(), object, select: q.select, ids, version, session: sessionOf(ctx), lastUsed: Date.now() }, 0);
}

function nextPage(state: SalesforceState, ctx: RouteContext, locatorId: string, position: number): Reply {
  const locator = state.locators.get(locatorId);
  if (!locator || Date.now() - locator.lastUsed > state.locatorTtlMs || position > locator.ids.length) {
    state.locators.delete(locatorId);
    return sfErrors(400, { message: 'invalid query locator', errorCode: 'INVALID_QUERY_LOCATOR' });
  }
  // A locator belongs to the session that opened it.
  if (locator.session !== sessionOf(ctx)) return sfErrors(401, { message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' });
  return queryPage(state, ctx, locator, position);
}

/** The instance's routes; each one counts against the org's daily allocation and says where it stands. */
export function salesforceRoutes(state: SalesforceState): Route[] {
  const notFound = () => sfErrors(404, { message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' });
  const counted = (handle: (ctx: RouteContext, version: string) => Reply) => (ctx: RouteContext): Reply => {
    const limitInfo = () => ({ 'sforce-limit-info': `api-usage=${state.usage.used}/${state.usage.max}` });
    const planned = state.planned.find((p) => p.times > 0 && p.path.test(ctx.path));
    if (planned) {
      planned.times -= 1;
      state.usage.used += 1;
      return { ...sfErrors(planned.status, planned.error), headers: limitInfo() };
    }
    if (state.usage.used >= state.usage.max) return { ...sfErrors(403, { message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }), headers: limitInfo() };
    state.usage.used += 1;
    const version = ctx.params[0]!;
    const reply = VERSIONS.includes(version) ? handle(ctx, version) : notFound();
    // A refused session (a locator of another session) is not a call the org pays for.
    if (reply.status === 401) state.usage.used -= 1;
    return { ...reply, headers: { ...reply.headers, ...limitInfo() } };
  };
  const v = String.raw`/services/data/v(\d+\.\d)`;
  return [
    {
      // The versions list needs no session and does not count.
      method: 'GET',
      pattern: /^\/services\/data\/?$/,
      auth: false,
      handle: () => json(200, VERSIONS.map((n) => ({ label: `API ${n}`, url: `/services/data/v${n}`, version: n }))),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${v}/?$`),
      handle: counted((_ctx, version) =>
        json(200, {
          sobjects: `/services/data/v${version}/sobjects`,
          query: `/services/data/v${version}/query`,
          queryAll: `/services/data/v${version}/queryAll`,
          limits: `/services/data/v${version}/limits`,
          search: `/services/data/v${version}/search`,
          identity: `${state.loginUrl}/id/${FAKE_ORG_ID}/${FAKE_USER_ID}`,
        }),
      ),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${v}/limits/?$`),
      handle: counted(() => {
        if (state.limitsForbidden) return sfErrors(403, { message: 'The requested resource requires the View Setup and Configuration permission.', errorCode: 'INSUFFICIENT_ACCESS' });
        const { used, max } = state.usage;
        return json(200, {
          ConcurrentAsyncGetReportInstances: { Max: 200, Remaining: 200 },
          DailyApiRequests: { Max: max, Remaining: max - used },
          DailyAsyncApexExecutions: { Max: 250_000, Remaining: 250_000 },
          DailyBulkApiBatches: { Max: 15_000, Remaining: 15_000 },
          DataStorageMB: { Max: 5, Remaining: 5 },
        });
      }),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${v}/query/?$`),
      handle: counted((ctx, version) => {
        const soql = ctx.query.get('q');
        if (!soql) return sfErrors(400, { message: "A query string has to be specified", errorCode: 'MALFORMED_QUERY' });
        return runQuery(state, ctx, version, soql);
      }),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${v}/query/([A-Za-z0-9]+)-(\\d+)/?$`),
      handle: counted((ctx) => nextPage(state, ctx, ctx.params[1]!, Number(ctx.params[2]))),
    },
  ];
}

/** The login host's token endpoint: the refresh-token grant only. */
function tokenRoute(state: SalesforceState): Route {
  return {
    method: 'POST',
    pattern: /^\/services\/oauth2\/token\/?$/,
    auth: false,
    handle: (ctx) => {
      state.tokenRequests += 1;
      const form = new URLSearchParams((ctx.body ?? Buffer.alloc(0)).toString('utf8'));
      const refused = (error: string, description: string) => json(400, { error, error_description: description });
      if (form.get('grant_type') !== 'refresh_token') return refused('unsupported_grant_type', 'grant type not supported');
      if (form.get('client_id') !== state.app.clientId) return refused('invalid_client_id', 'client identifier invalid');
      if (form.get('client_secret') !== state.app.clientSecret) return refused('invalid_client', 'invalid client credentials');
      const refreshToken = form.get('refresh_token') ?? '';
      if (!state.refreshTokens.has(refreshToken)) return refused('invalid_grant', 'expired access/refresh token');
      const accessToken = `${FAKE_ORG_ID.slice(0, 15)}!AR${randomBytes(24).toString('base64url')}`;
      state.sessions.add(accessToken);
      let rotated: string | undefined;
      if (state.rotateRefreshTokens) {
        rotated = `5Aep861${randomBytes(16).toString('base64url')}`;
        state.refreshTokens.delete(refreshToken);
        state.refreshTokens.add(rotated);
      }
      return json(200, {
        access_token: accessToken,
        ...(rotated ? { refresh_token: rotated } : {}),
        signature: randomBytes(32).toString('base64'),
        scope: 'refresh_token api',
        instance_url: state.instanceUrl,
        id: `${state.loginUrl}/id/${FAKE_ORG_ID}/${FAKE_USER_ID}`,
        token_type: 'Bearer',
        issued_at: String(Date.now()),
      });
    },
  };
}

function serverError(status: number, html: boolean): Reply {
  if (html) return { status, contentType: 'text/html; charset=utf-8', body: `<html><head><title>${status} ${STATUS_CODES[status]}</title></head><body><h1>${STATUS_CODES[status]}</h1></body></html>` };
  if (status === 503) return sfErrors(503, { message: 'Server is unavailable, please try again later.', errorCode: 'SERVER_UNAVAILABLE' });
  return sfErrors(status, { message: 'An unexpected error occurred. Please include this ErrorId if you contact support: 1234567890-12345 (-1234567890)', errorCode: 'UNKNOWN_EXCEPTION' });
}

function instanceDefinition(state: SalesforceState): ProviderDefinition {
  return {
    routes: salesforceRoutes(state),
    authenticate: (ctx) => (state.sessions.has(sessionOf(ctx)) ? undefined : sfErrors(401, { message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' })),
    getBlob: () => undefined,
    notFound: () => sfErrors(404, { message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' }),
    rateLimited: () => sfErrors(403, { message: 'ConcurrentPerOrgLongTxn Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }),
    serverError,
  };
}

export type FakeSalesforce = FakeServer & {
  state: SalesforceState;
  /** The login host (token endpoint); `url` is the instance the tokens name. */
  loginUrl: string;
  login: FakeServer;
};

/**
 * Starts the fake Salesforce: the instance (`url`, the REST API; `faults` apply to it) and the
 * login host (`loginUrl`) on another port. No per-minute rate limit: Salesforce has a daily one.
 */
export async function startFakeSalesforce(options: CoreOptions & SalesforceOptions = {}): Promise<FakeSalesforce> {
  const state = createSalesforceState(options.data ?? salesforceFixtures(), options);
  const instance = await startFakeServer(instanceDefinition(state), { ...options, rateLimit: options.rateLimit ?? false });
  const login = await startFakeServer(
    { routes: [tokenRoute(state)], authenticate: () => undefined, getBlob: () => undefined, notFound: () => ({ status: 404, body: 'Not Found' }), rateLimited: () => ({ status: 429, body: 'Too Many Requests' }), serverError },
    { host: options.host, rateLimit: false },
  );
  state.instanceUrl = instance.url;
  state.loginUrl = login.url;
  const closeInstance = instance.close;
  return Object.assign(instance, {
    state,
    loginUrl: login.url,
    login,
    close: async () => {
      await Promise.all([closeInstance(), login.close()]);
    },
  });
}
