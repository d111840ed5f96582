import { STATUS_CODES } from 'node:http';
import { startFakeServer, type CoreOptions, type FakeServer, type ProviderDefinition, type Reply, type Route, type RouteContext } from './core.ts';
import { helpScoutFixtures, type HConversation, type HCustomer, type HelpScoutSource, type HThread } from './helpscout-data.ts';

/**
 * Help Scout's Mailbox API 2.0 for the fake provider server, as Help Scout documents it:
 * - OAuth2 client credentials at POST /v2/oauth2/token (a form) -> `{ access_token, token_type,
 *   expires_in }`; tokens are checked on every call and can be made to expire mid-run; a 401 is
 *   OAuth's `{ error, error_description }` with a WWW-Authenticate header.
 * - HAL lists: `{ _embedded: { <key>: [...] }, _links, page: { size, totalElements, totalPages,
 *   number } }`, no `_embedded` when empty; `_links.next` drops the request's query, as Help Scout's
 *   documented bug does. Customers 50 a page, conversations and threads 25.
 * - modifiedSince and sortField=modifiedAt (asc or desc); a changed record moves to the end.
 * - conversations with `embed=threads`: threads newest first, at most `embedThreadLimit`, chat
 *   threads' bodies truncated; the full list at /v2/conversations/{id}/threads.
 * - attachment data as `{ data: base64 }`; a file found infected answers an error.
 * - rate limits: X-RateLimit-Limit-Minute, X-RateLimit-Remaining-Minute, and on a 429
 *   X-RateLimit-Retry-After; error bodies `{ logRef, message, _embedded: { errors } }`.
 */

export type HelpScoutApp = { appId: string; appSecret: string };
export const DEFAULT_HELPSCOUT_APP: HelpScoutApp = { appId: 'hs-app-id', appSecret: 'hs-app-secret' };

export type HelpScoutOptions = {
  data?: HelpScoutSource;
  app?: HelpScoutApp;
  /** `expires_in` of the tokens handed out. Default 172800 (two days, as Help Scout's). */
  tokenLifetimeSeconds?: number;
};

type Timed = { id: number };

/** Records in modification order; a changed or new one is appended, its earlier place left empty. */
class OrderedLog<T extends Timed> {
  readonly log: number[] = [];
  readonly latest = new Map<number, number>();
  readonly overrides = new Map<number, T>();
  readonly baseCount: () => number;
  readonly baseAt: (i: number) => T;
  readonly time: (x: T) => string;
  constructor(baseCount: () => number, baseAt: (i: number) => T, time: (x: T) => string) {
    this.baseCount = baseCount;
    this.baseAt = baseAt;
    this.time = time;
  }

  get total() {
    return this.baseCount() + this.log.length;
  }

  put(item: T, basePosition: number | undefined) {
    this.overrides.set(item.id, item);
    this.log.push(item.id);
    const previous = this.latest.get(item.id) ?? basePosition;
    if (previous !== undefined) this.hidden.add(previous);
    this.latest.set(item.id, this.total - 1);
  }

  /** Positions whose record has moved on. */
  readonly hidden = new Set<number>();

  at(pos: number): T {
    return pos < this.baseCount() ? this.baseAt(pos) : this.overrides.get(this.log[pos - this.baseCount()]!)!;
  }

  /** The first position changed at or after `since`. */
  start(since: string | null): number {
    if (since === null) return 0;
    let lo = 0;
    let hi = this.baseCount();
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.time(this.baseAt(mid)) < since) lo = mid + 1;
      else hi = mid;
    }
    if (lo < this.baseCount()) return lo;
    for (let i = 0; i < this.log.length; i++) if (this.time(this.overrides.get(this.log[i]!)!) >= since) return this.baseCount() + i;
    return this.total;
  }

  /** One page of the records changed since `since`, oldest or newest first. */
  page(since: string | null, order: 'asc' | 'desc', page: number, size: number): { items: T[]; totalElements: number } {
    const start = this.start(since);
    const hidden = [...this.hidden].filter((p) => p >= start).sort((a, b) => a - b);
    const visible = this.total - start - hidden.length;
    const kth = (k: number) => {
      // The k-th position from `start` that is not hidden.
      let p = start + k;
      for (;;) {
        const before = hidden.filter((h) => h <= p).length;
        if (start + k + before === p) return p;
        p = start + k + before;
      }
    };
    const items: T[] = [];
    for (let k = (page - 1) * size; k < Math.min(visible, page * size); k++) items.push(this.at(kth(order === 'asc' ? k : visible - 1 - k)));
    return { items, totalElements: visible };
  }
}

export type HelpScoutState = ReturnType<typeof createHelpScoutState>;

export function createHelpScoutState(source: HelpScoutSource) {
  const customers = new OrderedLog<HCustomer>(() => source.customerCount, source.customerAt, (c) => c.updatedAt);
  const unlistedCustomers = new Map<number, HCustomer>();
  const mailboxes = new Map(source.mailboxes.map((m) => [m.id, new OrderedLog<HConversation>(() => source.conversationCount(m.id), (i) => source.conversationAt(m.id, i), (c) => c._modifiedAt)]));
  const conversationOverrides = new Map<number, HConversation>();
  let clock = 0;
  const now = () => {
    clock = Math.max(clock + 1, Math.floor(Date.now() / 1000));
    return new Date(clock * 1000).toISOString().replace('.000Z', 'Z');
  };
  let nextId = 90_000_000;
  let logRefs = 0;

  const getConversation = (id: number) => conversationOverrides.get(id) ?? source.conversationById(id);
  const getCustomer = (id: number) => customers.overrides.get(id) ?? unlistedCustomers.get(id) ?? source.customerById(id);
  const basePosition = (log: OrderedLog<HConversation>, id: number) => {
    for (let i = 0; i < log.baseCount(); i++) if (log.baseAt(i).id === id) return i;
    return undefined;
  };
  const touch = (c: HConversation) => {
    const log = mailboxes.get(c.mailboxId)!;
    const base = log.latest.has(c.id) ? undefined : basePosition(log, c.id);
    c._modifiedAt = now();
    conversationOverrides.set(c.id, c);
    log.put(c, base);
    return c;
  };

  return {
    source,
    app: { ...DEFAULT_HELPSCOUT_APP } as HelpScoutApp,
    /** The token endpoint refuses the app (revoked, secret rotated). */
    revoked: false,
    tokenLifetimeSeconds: 172_800,
    /** token -> when the server stops accepting it. */
    tokens: new Map<string, number>(),
    tokenRequests: 0,
    /** After this many more authenticated calls every token in use expires (once). */
    expireTokensAfterCalls: null as number | null,
    /** 403 with this message everywhere (or on matching paths): "API not enabled", "Payment missing", "Access denied". */
    forbidden: null as { message: string; path?: RegExp } | null,
    /** Conversations whose threads list answers 400. */
    brokenThreadLists: new Set<number>(),
    pageSizes: { customers: 50, conversations: 25, threads: 25, mailboxes: 50 },
    embedThreadLimit: 25,
    chatEmbedChars: 40,
    customers,
    mailboxes,
    getConversation,
    getCustomer,
    logRef: () => `0f1e2d3c-${String(++logRefs).padStart(4, '0')}-11e8-ba89-0ed5f89f718b`,

    expireTokens() {
      for (const token of this.tokens.keys()) this.tokens.set(token, 0);
    },

    /** A new customer (or a changed one), at the end of the customers list. */
    addCustomer(c: Partial<HCustomer> & { firstName: string; emails?: string[] }, options: { listed?: boolean } = {}): HCustomer {
      const at = now();
      const id = c.id ?? nextId++;
      const existing = getCustomer(id);
      const { emails, ...rest } = c;
      const customer: HCustomer = {
        id,
        lastName: '',
        createdAt: existing?.createdAt ?? at,
        ...existing,
        ...rest,
        updatedAt: at,
        _embedded: { ...(existing?._embedded ?? { phones: [], chats: [], social_profiles: [], websites: [] }), emails: (emails ?? []).map((value, i) => ({ id: id * 10 + i, value, type: 'work' })) },
      };
      if (options.listed === false) unlistedCustomers.set(id, customer);
      else customers.put(customer, existing && !customers.latest.has(id) ? customers_basePosition(id) : undefined);
      return customer;
    },

    /** A new conversation in a mailbox, with its first thread from the customer. */
    addConversation(c: { mailboxId: number; subject: string; customer: HCustomer; body?: string; status?: string; tags?: string[]; type?: 'email' | 'chat' | 'phone'; primary?: boolean }): HConversation {
      const at = now();
      const id = nextId++;
      const ref = { id: c.customer.id, type: 'customer' as const, first: c.customer.firstName, last: c.customer.lastName, ...(c.customer._embedded.emails[0]?.value ? { email: c.customer._embedded.emails[0].value } : {}) };
      const first: HThread = { id: nextId++, type: c.type === 'chat' ? 'chat' : 'customer', status: 'active', state: 'published', body: c.body ?? c.subject, customer: ref, createdBy: ref, createdAt: at, to: [], cc: [], bcc: [] };
      const conversation: HConversation = {
        id,
        number: id % 100_000,
        threads: 1,
        type: c.type ?? 'email',
        folderId: 1,
        status: c.status ?? 'active',
        state: 'published',
        subject: c.subject,
        preview: first.body,
        mailboxId: c.mailboxId,
        createdBy: ref,
        createdAt: at,
        userUpdatedAt: at,
        source: { type: 'email', via: 'customer' },
        tags: (c.tags ?? []).map((tag, i) => ({ id: i, color: '#929499', tag })),
        cc: [],
        bcc: [],
        ...(c.primary === false ? {} : { primaryCustomer: ref }),
        customFields: [],
        _modifiedAt: at,
        _embedded: { threads: [first] },
      };
      return touch(conversation);
    },

    /** A new thread on a conversation: it moves to the end of its mailbox's list. */
    addThread(conversationId: number, t: Partial<HThread> & { type: string; createdBy: HThread['createdBy']; body?: string }): HThread {
      const c = getConversation(conversationId);
      if (!c) throw new Error(`no conversation ${conversationId}`);
      const thread: HThread = { id: nextId++, status: 'active', state: 'published', customer: c.primaryCustomer ?? null, createdAt: now(), to: [], cc: [], bcc: [], ...t };
      const next = structuredClone(c);
      next._embedded.threads = [...next._embedded.threads, thread];
      next.threads = next._embedded.threads.length;
      touch(next);
      return thread;
    },

    /** A changed conversation (a tag, a status): it moves to the end of its mailbox's list. */
    updateConversation(conversationId: number, change: (c: HConversation) => void): HConversation {
      const c = structuredClone(getConversation(conversationId));
      if (!c) throw new Error(`no conversation ${conversationId}`);
      change(c);
      return touch(c);
    },
  };

  function customers_basePosition(id: number): number | undefined {
    for (let i = 0; i < source.customerCount; i++) if (source.customerAt(i).id === id) return i;
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------

const json = (status: number, body: unknown, headers?: Record<string, string>): Reply => ({ status, json: body, contentType: 'application/hal+json', ...(headers ? { headers } : {}) });
const halError = (state: HelpScoutState, status: number, message: string, errors?: Array<{ path: string; message: string; rejectedValue?: unknown }>): Reply =>
  json(status, {
    logRef: state.logRef(),
    message,
    ...(errors ? { _embedded: { errors: errors.map((e) => ({ ...e, source: 'QUERY', _links: { about: { href: 'http://developer.helpscout.net/mailbox-api/overview/errors' } } })) } } : {}),
    _links: { about: { href: 'http://developer.helpscout.net/mailbox-api/overview/errors' } },
  });

function pageParam(state: HelpScoutState, ctx: RouteContext): number | Reply {
  const raw = ctx.query.get('page');
  if (raw === null) return 1;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 1 ? n : halError(state, 400, 'Bad request', [{ path: 'page', message: 'must be greater than or equal to 1', rejectedValue: raw }]);
}

function sinceParam(state: HelpScoutState, ctx: RouteContext): string | null | Reply {
  const raw = ctx.query.get('modifiedSince');
  if (raw === null) return null;
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(raw)) {
    return halError(state, 400, 'Bad request', [{ path: 'modifiedSince', message: "The value must be a valid ISO 8601 date with the format yyyy-MM-dd'T'HH:mm:ss'Z'", rejectedValue: raw }]);
  }
  return raw;
}

/** A HAL list page; `_links.next` leaves the query out, as Help Scout's own links do. */
function halPage(ctx: RouteContext, key: string, items: unknown[], page: number, size: number, totalElements: number): Reply {
  const totalPages = Math.ceil(totalElements / size);
  const self = `${ctx.baseUrl}${ctx.path}`;
  return json(200, {
    ...(items.length > 0 ? { _embedded: { [key]: items } } : {}),
    _links: {
      self: { href: `${self}?page=${page}` },
      first: { href: `${self}?page=1` },
      last: { href: `${self}?page=${Math.max(1, totalPages)}` },
      ...(page < totalPages ? { next: { href: `${self}?page=${page + 1}` } } : {}),
      page: { href: `${self}{?page}`, templated: true },
    },
    page: { size, totalElements, totalPages, number: totalElements === 0 ? 0 : page },
  });
}

function listParams(state: HelpScoutState, ctx: RouteContext): { page: number; since: string | null; order: 'asc' | 'desc' } | Reply {
  const page = pageParam(state, ctx);
  if (typeof page !== 'number') return page;
  const since = sinceParam(state, ctx);
  if (since !== null && typeof since !== 'string') return since;
  const sortField = ctx.query.get('sortField');
  if (sortField !== null && !['createdAt', 'modifiedAt', 'firstName', 'lastName', 'score', 'number', 'status', 'subject', 'customerEmail', 'customerName', 'mailboxid', 'waitingSince'].includes(sortField)) {
    return halError(state, 400, 'Bad request', [{ path: 'sortField', message: 'Value not supported', rejectedValue: sortField }]);
  }
  const order = ctx.query.get('sortOrder') ?? 'desc';
  if (order !== 'asc' && order !== 'desc') return halError(state, 400, 'Bad request', [{ path: 'sortOrder', message: 'Value not supported', rejectedValue: order }]);
  // Lists are walked by modification time whatever sortField says: enough for an importer.
  return { page, since, order };
}

const links = (ctx: RouteContext, path: string) => ({ self: { href: `${ctx.baseUrl}${path}` } });

/** A conversation as the API shows it: without the fake's own bookkeeping, threads embedded on request. */
function serveConversation(state: HelpScoutState, ctx: RouteContext, c: HConversation, embed: boolean) {
  const { _modifiedAt, _embedded, ...shown } = c;
  const newestFirst = [..._embedded.threads].reverse();
  const threads = embed
    ? newestFirst.slice(0, state.embedThreadLimit).map((t) => (c.type === 'chat' && typeof t.body === 'string' && t.body.length > state.chatEmbedChars ? { ...t, body: `${t.body.slice(0, state.chatEmbedChars)}…` } : t))
    : [];
  return { ...shown, threads: _embedded.threads.length, _embedded: { threads: threads.map((t) => serveThread(ctx, c, t)) }, _links: links(ctx, `/v2/conversations/${c.id}`) };
}

function serveThread(ctx: RouteContext, c: HConversation, t: HThread) {
  const attachments = t._embedded?.attachments;
  return {
    ...t,
    ...(attachments
      ? { _embedded: { attachments: attachments.map((a) => ({ ...a, _links: { data: { href: `${ctx.baseUrl}/v2/conversations/${c.id}/attachments/${a.id}/data` }, web: { href: `${ctx.baseUrl}/attachments/${a.id}` } } })) } }
      : {}),
  };
}

function serveCustomer(ctx: RouteContext, c: HCustomer) {
  const { _listed, ...shown } = c;
  return { ...shown, _links: links(ctx, `/v2/customers/${c.id}`) };
}

function parseForm(body: Buffer | undefined): URLSearchParams {
  return new URLSearchParams(body?.toString('utf8') ?? '');
}

function token(state: HelpScoutState, ctx: RouteContext): Reply {
  state.tokenRequests += 1;
  const form = parseForm(ctx.body);
  if (form.get('grant_type') !== 'client_credentials') {
    return json(400, { error: 'unsupported_grant_type', error_description: `Unsupported grant type: ${form.get('grant_type') ?? ''}` });
  }
  if (state.revoked || form.get('client_id') !== state.app.appId || form.get('client_secret') !== state.app.appSecret) {
    return json(401, { error: 'invalid_client', error_description: 'Bad client credentials' }, { 'www-authenticate': 'Bearer realm="api", error="invalid_client"' });
  }
  const value = `hs-token-${state.tokenRequests}-${Math.random().toString(36).slice(2, 10)}`;
  state.tokens.set(value, Date.now() + state.tokenLifetimeSeconds * 1000);
  return json(200, { token_type: 'bearer', access_token: value, expires_in: state.tokenLifetimeSeconds });
}

function authenticate(state: HelpScoutState, ctx: RouteContext): Reply | undefined {
  const bearer = /^Bearer\s+(.+)$/i.exec(ctx.headers.authorization ?? '')?.[1]?.trim();
  const until = bearer === undefined ? undefined : state.tokens.get(bearer);
  if (until === undefined || until <= Date.now()) {
    const description = 'The access token is invalid or has expired';
    return json(401, { error: 'invalid_token', error_description: description }, { 'www-authenticate': `Bearer realm="api", error="invalid_token", error_description="${description}"` });
  }
  if (state.expireTokensAfterCalls !== null && --state.expireTokensAfterCalls <= 0) {
    state.expireTokensAfterCalls = null;
    state.expireTokens();
  }
  const f = state.forbidden;
  if (f && (!f.path || f.path.test(ctx.path))) return halError(state, 403, f.message);
  return undefined;
}

export function helpScoutRoutes(state: HelpScoutState): Route[] {
  return [
    { method: 'POST', pattern: /^\/v2\/oauth2\/token$/, auth: false, rateLimited: false, handle: (ctx) => token(state, ctx) },
    {
      method: 'GET',
      pattern: /^\/v2\/users\/me$/,
      handle: (ctx) => {
        const { companyId, ...me } = state.source.me;
        return json(200, { ...me, type: 'user', ...(state.source.companyId !== null ? { companyId: state.source.companyId } : {}), _links: links(ctx, '/v2/users/me') });
      },
    },
    {
      method: 'GET',
      pattern: /^\/v2\/mailboxes$/,
      handle: (ctx) => {
        const page = pageParam(state, ctx);
        if (typeof page !== 'number') return page;
        const size = state.pageSizes.mailboxes;
        const all = state.source.mailboxes;
        return halPage(ctx, 'mailboxes', all.slice((page - 1) * size, page * size).map((m) => ({ ...m, _links: links(ctx, `/v2/mailboxes/${m.id}`) })), page, size, all.length);
      },
    },
    {
      method: 'GET',
      pattern: /^\/v2\/customers$/,
      handle: (ctx) => {
        const p = listParams(state, ctx);
        if ('status' in p) return p;
        const size = state.pageSizes.customers;
        const { items, totalElements } = state.customers.page(p.since, p.order, p.page, size);
        return halPage(ctx, 'customers', items.map((c) => serveCustomer(ctx, c)), p.page, size, totalElements);
      },
    },
    {
      method: 'GET',
      pattern: /^\/v2\/customers\/(\d+)$/,
      handle: (ctx) => {
        const c = state.getCustomer(Number(ctx.params[0]));
        return c ? json(200, serveCustomer(ctx, c)) : halError(state, 404, 'Resource not found');
      },
    },
    {
      method: 'GET',
      pattern: /^\/v2\/conversations$/,
      handle: (ctx) => {
        const p = listParams(state, ctx);
        if ('status' in p) return p;
        const mailbox = Number(ctx.query.get('mailbox'));
        const log = state.mailboxes.get(mailbox);
        if (!log) return halError(state, 400, 'Bad request', [{ path: 'mailbox', message: 'Invalid identifier', rejectedValue: ctx.query.get('mailbox') }]);
        // Without status=all Help Scout lists active conversations only.
        const statuses = (ctx.query.get('status') ?? 'active') === 'all' ? null : (ctx.query.get('status') ?? 'active').split(',');
        const size = state.pageSizes.conversations;
        const embed = ctx.query.get('embed') === 'threads';
        if (statuses === null) {
          const { items, totalElements } = log.page(p.since, p.order, p.page, size);
          return halPage(ctx, 'conversations', items.map((c) => serveConversation(state, ctx, c, embed)), p.page, size, totalElements);
        }
        // A status filter: small data only (the generator's sizes are walked with status=all).
        const all = log.page(p.since, p.order, 1, Number.MAX_SAFE_INTEGER).items.filter((c) => statuses.includes(c.status));
        return halPage(ctx, 'conversations', all.slice((p.page - 1) * size, p.page * size).map((c) => serveConversation(state, ctx, c, embed)), p.page, size, all.length);
      },
    },
    {
      method: 'GET',
      pattern: /^\/v2\/conversations\/(\d+)\/threads$/,
      handle: (ctx) => {
        const id = Number(ctx.params[0]);
        const c = state.getConversation(id);
        if (!c) return halError(state, 404, 'Resource not found');
        if (state.brokenThreadLists.has(id)) return halError(state, 400, 'Bad request', [{ path: 'conversationId', message: 'Invalid identifier', rejectedValue: id }]);
        const page = pageParam(state, ctx);
        if (typeof page !== 'number') return page;
        const size = state.pageSizes.threads;
        const newestFirst = [...c._embedded.threads].reverse();
        return halPage(ctx, 'threads', newestFirst.slice((page - 1) * size, page * size).map((t) => serveThread(ctx, c, t)), page, size, newestFirst.length);
      },
    },
    {
      method: 'GET',
      pattern: /^\/v2\/conversations\/(\d+)\/attachments\/(\d+)\/data$/,
      handle: (ctx) => {
        const c = state.getConversation(Number(ctx.params[0]));
        const id = Number(ctx.params[1]);
        const owned = c?._embedded.threads.some((t) => t._embedded?.attachments.some((a) => a.id === id));
        const blob = owned ? state.source.blob(id) : undefined;
        if (!blob) return halError(state, 404, 'Resource not found');
        if (blob.virus) return halError(state, 403, 'Infected Attachment');
        return json(200, { data: blob.bytes.toString('base64') });
      },
    },
  ];
}

export function helpScoutProvider(options: HelpScoutOptions = {}) {
  return (): ProviderDefinition & { state: HelpScoutState } => {
    const state = createHelpScoutState(options.data ?? helpScoutFixtures());
    if (options.app) state.app = { ...options.app };
    if (options.tokenLifetimeSeconds !== undefined) state.tokenLifetimeSeconds = options.tokenLifetimeSeconds;
    return {
      state,
      routes: helpScoutRoutes(state),
      authenticate: (ctx) => authenticate(state, ctx),
      getBlob: () => undefined,
      notFound: () => halError(state, 404, 'Resource not found'),
      rateLimited: (_ctx, { plainText }) =>
        plainText ? { status: 429, body: 'API rate limit exceeded', contentType: 'text/plain; charset=utf-8' } : json(429, { message: 'API rate limit exceeded' }),
      rateLimitHeaders: ({ limit, remaining, resetSeconds, limited }) => ({
        'x-ratelimit-limit-minute': String(limit),
        'x-ratelimit-remaining-minute': String(remaining),
        ...(limited ? { 'x-ratelimit-retry-after': String(resetSeconds) } : {}),
      }),
      serverError: (status, html) =>
        html
          ? { status, contentType: 'text/html; charset=utf-8', body: `<html><head><title>${status} ${STATUS_CODES[status]}</title></head><body><center><h1>${status} ${STATUS_CODES[status]}</h1></center><hr><center>nginx</center></body></html>` }
          : status === 429
            ? json(429, { message: 'API rate limit exceeded' })
            : halError(state, status, status === 504 ? 'Internal Timeout' : status === 503 ? 'Service Unavailable' : 'Internal Server Error'),
    };
  };
}

export type FakeHelpScout = FakeServer & { state: HelpScoutState };

/**
 * The fake Help Scout on a loopback port. Default data: test/fixtures/helpscout/fixtures.json;
 * default app: DEFAULT_HELPSCOUT_APP; default rate limit: 400 requests a minute (`false` disables).
 */
export async function startFakeHelpScout(options: CoreOptions & HelpScoutOptions = {}): Promise<FakeHelpScout> {
  let state: HelpScoutState | undefined;
  const server = await startFakeServer(
    () => {
      const def = helpScoutProvider(options)();
      state = def.state;
      return def;
    },
    { ...options, rateLimit: options.rateLimit ?? { limit: 400, windowMs: 60_000 } },
  );
  return Object.assign(server, { state: state! });
}
