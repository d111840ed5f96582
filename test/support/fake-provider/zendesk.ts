import { STATUS_CODES } from 'node:http';
import type { ProviderDefinition, Reply, Route, RouteContext } from './core.ts';
import { toSeconds, zendeskFixtures, type ZComment, type ZendeskSource, type ZOrganization, type ZTicket, type ZUser } from './zendesk-data.ts';

/**
 * Zendesk's routes for the fake provider server, with the pagination semantics Zendesk
 * documents:
 * - incremental exports (users, tickets), cursor-based: `start_time` (unix seconds, at least one
 *   minute ago) or `cursor`; `{<items>, after_url, after_cursor, before_url, before_cursor,
 *   end_of_stream}`; items ordered by update time, a record updated later moves to the end of
 *   the stream (appears once, at its latest position); deleted tickets appear with
 *   status "deleted"; the last page's after_cursor resumes a later incremental export.
 * - list comments with cursor pagination: `page[size]` (max 100), `page[after]`;
 *   `{comments, meta: {has_more, after_cursor, before_cursor}, links: {next, prev}}`.
 * - users/show_many (max 100 ids), users/me, single user/ticket.
 * - attachment content_url on this host answers 302 to the attachment host.
 * Error bodies: `{"error": "...", "description": "..."}`, 401 `{"error":"Couldn't authenticate you"}`,
 * 403 `{"error": {"title": "Forbidden", "message": "..."}}`.
 */

export type ZendeskAuth = { email: string; apiToken: string; oauthToken: string };

export type ZendeskOptions = {
  /** Default: the hand-written fixtures in test/fixtures/zendesk/. */
  data?: ZendeskSource;
  /** Accepted credentials; `false` accepts anything. Mutable later through `state.auth`. */
  auth?: Partial<ZendeskAuth> | false;
  /** Authenticated but forbidden (403) everywhere (`true`) or on matching paths. */
  forbidden?: boolean | RegExp;
  /** Incremental exports refuse a start_time later than now minus this. Default 60. */
  minStartTimeAgeSeconds?: number;
};

export const DEFAULT_ZENDESK_AUTH: ZendeskAuth = {
  email: 'admin@acme-support.test',
  apiToken: 'zd-api-token',
  oauthToken: 'zd-oauth-token',
};

const FORBIDDEN_BODY = {
  error: {
    title: 'Forbidden',
    message: 'You do not have access to this page. Please contact the account owner of this help desk for further help.',
  },
};

type Stream<T extends { id: number; updated_at: string }> = {
  baseCount: () => number;
  baseAt: (i: number) => T;
  log: number[];
  latest: Map<number, number>;
  overrides: Map<number, T>;
  empty: Set<number>;
};

const encodeCursor = (p: number, x: number) => Buffer.from(`${p}:${x}`).toString('base64url');
const decodeCursor = (c: string): { p: number; x: number } | undefined => {
  const m = /^(\d+):([01])$/.exec(Buffer.from(c, 'base64url').toString());
  return m ? { p: Number(m[1]), x: Number(m[2]) } : undefined;
};

const isoNow = (seconds: number) => new Date(seconds * 1000).toISOString().replace('.000Z', 'Z');

function streamLength(s: Stream<{ id: number; updated_at: string }>) {
  return s.baseCount() + s.log.length;
}

function itemAt<T extends { id: number; updated_at: string }>(s: Stream<T>, pos: number): T | undefined {
  const n = s.baseCount();
  if (pos < n) {
    const item = s.baseAt(pos);
    return s.latest.has(item.id) ? undefined : item;
  }
  const id = s.log[pos - n]!;
  return s.latest.get(id) === pos ? s.overrides.get(id) : undefined;
}

/** First position whose (original) update time is >= startTime. */
function positionFor<T extends { id: number; updated_at: string }>(s: Stream<T>, startTime: number): number {
  let lo = 0;
  let hi = s.baseCount();
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (toSeconds(s.baseAt(mid).updated_at) < startTime) lo = mid + 1;
    else hi = mid;
  }
  if (lo < s.baseCount()) return lo;
  const n = s.baseCount();
  for (let i = 0; i < s.log.length; i++) {
    const item = s.overrides.get(s.log[i]!)!;
    if (toSeconds(item.updated_at) >= startTime) return n + i;
  }
  return n + s.log.length;
}

export type ZendeskState = ReturnType<typeof createZendeskState>;

export function createZendeskState(source: ZendeskSource, base: string) {
  const stream = <T extends { id: number; updated_at: string }>(count: number, at: (i: number) => T, emptyPages: number[]): Stream<T> => ({
    baseCount: () => count,
    baseAt: at,
    log: [],
    latest: new Map(),
    overrides: new Map(),
    empty: new Set(emptyPages.filter((p) => p > 0 && p < count)),
  });
  const tickets = stream<ZTicket>(source.ticketCount, (i) => source.ticketAt(i, base), source.emptyPages.tickets);
  const users = stream<ZUser>(source.userCount, (i) => source.userAt(i, base), source.emptyPages.users);
  const extraComments = new Map<number, ZComment[]>();
  let clock = 0;
  const tick = () => (clock = Math.max(clock, Math.floor(Date.now() / 1000)));
  let maxTicketId = 0;
  for (let i = 0; i < source.ticketCount; i++) maxTicketId = Math.max(maxTicketId, source.ticketAt(i, base).id);
  let nextCommentId = 9_000_000_000;
  let nextUserId = 8_000_000_000;

  const getTicket = (id: number): ZTicket | undefined => {
    const o = tickets.overrides.get(id);
    if (o) return o;
    const i = source.ticketIndex(id);
    return i === undefined ? undefined : source.ticketAt(i, base);
  };
  const getUser = (id: number): ZUser | undefined => users.overrides.get(id) ?? source.userById(id, base);

  const put = <T extends { id: number; updated_at: string }>(s: Stream<T>, item: T) => {
    s.overrides.set(item.id, item);
    s.log.push(item.id);
    s.latest.set(item.id, s.baseCount() + s.log.length - 1);
  };

  const bumpTicket = (id: number, change: (t: ZTicket) => ZTicket) => {
    const current = getTicket(id);
    if (!current) throw new Error(`no ticket ${id}`);
    const now = tick();
    const next = { ...change(structuredClone(current)), updated_at: isoNow(now), generated_timestamp: now };
    put(tickets, next);
    return next;
  };

  const makeComment = (ticketId: number, c: Partial<ZComment> & { author_id: number; body: string }, createdAt: string): ZComment => ({
    id: nextCommentId++,
    type: 'Comment',
    html_body: `<div class="zd-comment" dir="auto"><p>${c.body}</p></div>`,
    plain_body: c.body,
    public: true,
    attachments: [],
    audit_id: nextCommentId + 1_000_000,
    via: { channel: 'web', source: { from: {}, to: {}, rel: null } },
    created_at: createdAt,
    metadata: { system: {}, custom: {} },
    ...c,
  });

  return {
    source,
    base,
    /** Accepted credentials (mutate to simulate a revoked token). `false` = accept anything. */
    auth: { ...DEFAULT_ZENDESK_AUTH } as ZendeskAuth | false,
    forbidden: false as boolean | RegExp,
    minStartTimeAgeSeconds: 60,
    tickets,
    users,
    getTicket,
    getUser,
    comments: (ticketId: number): ZComment[] => [...source.commentsFor(ticketId, base), ...(extraComments.get(ticketId) ?? [])],

    /** A new ticket (with its first comment, like Zendesk), at the end of the ticket stream. */
    addTicket(t: Partial<ZTicket> & { requester_id: number; subject: string; description?: string }): ZTicket {
      const now = tick();
      const id = ++maxTicketId;
      const description = t.description ?? t.subject;
      const ticket: ZTicket = {
        id,
        url: `${base}/api/v2/tickets/${id}.json`,
        via: { channel: 'email', source: { from: {}, to: {}, rel: null } },
        created_at: isoNow(now),
        updated_at: isoNow(now),
        generated_timestamp: now,
        type: null,
        raw_subject: t.subject,
        priority: null,
        status: 'new',
        submitter_id: t.requester_id,
        assignee_id: null,
        organization_id: null,
        group_id: null,
        collaborator_ids: [],
        follower_ids: [],
        email_cc_ids: [],
        is_public: true,
        tags: [],
        custom_fields: [],
        ...t,
        description,
      };
      put(tickets, ticket);
      extraComments.set(id, [makeComment(id, { author_id: t.requester_id, body: description }, ticket.created_at)]);
      return ticket;
    },

    /** A new comment on an existing ticket; bumps the ticket's updated_at. */
    addComment(ticketId: number, c: Partial<ZComment> & { author_id: number; body: string }): ZComment {
      const now = tick();
      const comment = makeComment(ticketId, c, isoNow(now));
      bumpTicket(ticketId, (t) => t);
      extraComments.set(ticketId, [...(extraComments.get(ticketId) ?? []), comment]);
      return comment;
    },

    addTag(ticketId: number, tag: string): ZTicket {
      return bumpTicket(ticketId, (t) => ({ ...t, tags: t.tags.includes(tag) ? t.tags : [...t.tags, tag] }));
    },

    updateTicket(ticketId: number, patch: Partial<ZTicket>): ZTicket {
      return bumpTicket(ticketId, (t) => ({ ...t, ...patch }));
    },

    extraOrganizations: [] as ZOrganization[],

    /** A new organization (ids after the fixtures'). */
    addOrganization(o: { id: number; name: string; external_id?: string | null }): ZOrganization {
      const at = isoNow(tick());
      const org: ZOrganization = { url: `${base}/api/v2/organizations/${o.id}.json`, external_id: null, created_at: at, updated_at: at, ...o };
      this.extraOrganizations.push(org);
      return org;
    },

    /** A new (or updated) user at the end of the users stream. */
    addUser(u: Partial<ZUser> & { name: string }): ZUser {
      const now = tick();
      const id = u.id ?? nextUserId++;
      const existing = getUser(id);
      const user: ZUser = {
        id,
        url: `${base}/api/v2/users/${id}.json`,
        email: null,
        role: 'end-user',
        created_at: existing?.created_at ?? isoNow(now),
        active: true,
        ...existing,
        ...u,
        updated_at: isoNow(now),
      };
      put(users, user);
      return user;
    },
  };
}

// ---------------------------------------------------------------------------------------------

const json = (status: number, body: unknown, headers?: Record<string, string>): Reply => ({ status, json: body, ...(headers ? { headers } : {}) });
const invalid = (description: string) => json(400, { error: 'InvalidValue', description });
const notFound = () => json(404, { error: 'RecordNotFound', description: 'Not found' });

function intParam(ctx: RouteContext, name: string, dflt: number, max: number): number | Reply {
  const raw = ctx.query.get(name);
  if (raw === null) return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) return invalid(`${name} must be a positive integer`);
  return Math.min(n, max);
}

function incrementalExport<T extends { id: number; updated_at: string; status?: unknown }>(
  state: ZendeskState,
  stream: Stream<T>,
  key: 'users' | 'tickets',
  ctx: RouteContext,
): Reply {
  const perPage = intParam(ctx, 'per_page', 1000, 1000);
  if (typeof perPage !== 'number') return perPage;
  const cursorParam = ctx.query.get('cursor');
  let pos: number;
  let x = 0;
  let first = false;
  if (cursorParam) {
    const c = decodeCursor(cursorParam);
    if (!c) return invalid('Invalid cursor');
    pos = c.p;
    x = c.x;
  } else {
    const raw = ctx.query.get('start_time');
    if (raw === null || raw === '') return invalid('start_time or cursor is required');
    const start = Number(raw);
    if (!Number.isInteger(start) || start < 0) return invalid('start_time must be a unix timestamp in seconds');
    if (start > Math.floor(Date.now() / 1000) - state.minStartTimeAgeSeconds) {
      return invalid('Too recent start_time. Use a start_time older than 1 minute');
    }
    pos = positionFor(stream, start);
    first = true;
  }
  const excludeDeleted = key === 'tickets' && ctx.query.get('exclude_deleted') === 'true';
  const total = streamLength(stream);
  const items: T[] = [];
  let p = Math.min(pos, total);
  if (stream.empty.has(p) && x === 0) {
    x = 1; // serve the empty page; the next request continues from the same position
  } else {
    while (p < total && items.length < perPage) {
      if (p !== pos && stream.empty.has(p)) break;
      const item = itemAt(stream, p);
      p += 1;
      if (item && !(excludeDeleted && item.status === 'deleted')) items.push(item);
    }
    x = 0;
  }
  const emptyServed = items.length === 0 && x === 1;
  const after = emptyServed ? encodeCursor(p, 1) : encodeCursor(p, 0);
  const extra = ctx.query.get('per_page') ? `&per_page=${perPage}` : '';
  const path = `${ctx.baseUrl}/api/v2/incremental/${key}/cursor.json`;
  const before = first ? null : encodeCursor(pos, 0);
  return json(200, {
    [key]: items,
    after_url: `${path}?cursor=${after}${extra}`,
    after_cursor: after,
    before_url: before === null ? null : `${path}?cursor=${before}${extra}`,
    before_cursor: before,
    end_of_stream: !emptyServed && p >= total,
  });
}

function listComments(state: ZendeskState, ctx: RouteContext): Reply {
  const ticketId = Number(ctx.params[0]);
  const ticket = state.getTicket(ticketId);
  if (!ticket || ticket.status === 'deleted') return notFound();
  const all = state.comments(ticketId);
  const sizeRaw = ctx.query.get('page[size]');
  if (sizeRaw === null) {
    // Offset pagination (not what the adapter should use): one page with everything.
    return json(200, { comments: all, next_page: null, previous_page: null, count: all.length });
  }
  const size = Number(sizeRaw);
  if (!Number.isInteger(size) || size < 1 || size > 100) {
    return json(400, { error: 'InvalidPaginationParameter', description: 'page[size] must be between 1 and 100' });
  }
  const decode = (c: string) => {
    const m = /^c(\d+)$/.exec(Buffer.from(c, 'base64url').toString());
    return m ? Number(m[1]) : undefined;
  };
  const enc = (i: number) => Buffer.from(`c${i}`).toString('base64url');
  let from = 0;
  let to: number;
  const afterRaw = ctx.query.get('page[after]');
  const beforeRaw = ctx.query.get('page[before]');
  if (afterRaw) {
    const i = decode(afterRaw);
    if (i === undefined) return json(400, { error: 'InvalidPaginationParameter', description: 'Invalid cursor' });
    from = i + 1;
    to = Math.min(all.length, from + size);
  } else if (beforeRaw) {
    const i = decode(beforeRaw);
    if (i === undefined) return json(400, { error: 'InvalidPaginationParameter', description: 'Invalid cursor' });
    to = Math.max(0, i);
    from = Math.max(0, to - size);
  } else {
    to = Math.min(all.length, size);
  }
  const page = all.slice(from, to);
  const hasMore = to < all.length;
  const afterCursor = page.length ? enc(to - 1) : null;
  const beforeCursor = page.length ? enc(from) : null;
  const path = `${ctx.baseUrl}/api/v2/tickets/${ticketId}/comments.json?page[size]=${size}`;
  return json(200, {
    comments: page,
    meta: { has_more: hasMore, after_cursor: afterCursor, before_cursor: beforeCursor },
    links: {
      next: hasMore && afterCursor ? `${path}&page[after]=${afterCursor}` : null,
      prev: from > 0 && beforeCursor ? `${path}&page[before]=${beforeCursor}` : null,
    },
  });
}

function authenticate(state: ZendeskState, ctx: RouteContext): Reply | undefined {
  const auth = state.auth;
  if (auth !== false) {
    const header = ctx.headers.authorization ?? '';
    let ok = false;
    const basic = /^Basic\s+(.+)$/i.exec(header);
    const bearer = /^Bearer\s+(.+)$/i.exec(header);
    if (basic) {
      const decoded = Buffer.from(basic[1]!.trim(), 'base64').toString();
      ok = decoded === `${auth.email}/token:${auth.apiToken}`;
    } else if (bearer) {
      ok = bearer[1]!.trim() === auth.oauthToken;
    }
    if (!ok) return json(401, { error: "Couldn't authenticate you" }, { 'www-authenticate': 'Basic realm="Web Password"' });
  }
  const f = state.forbidden;
  if (f === true || (f instanceof RegExp && f.test(ctx.path))) return json(403, FORBIDDEN_BODY);
  return undefined;
}

/** List organizations with cursor pagination (`page[size]` up to 100, `page[after]`), in id order. */
function listOrganizations(state: ZendeskState, ctx: RouteContext): Reply {
  const all = [...state.source.organizations(ctx.baseUrl), ...state.extraOrganizations];
  const size = Number(ctx.query.get('page[size]') ?? 100);
  if (!Number.isInteger(size) || size < 1 || size > 100) return json(400, { error: 'InvalidPaginationParameter', description: 'page[size] must be between 1 and 100' });
  const afterRaw = ctx.query.get('page[after]');
  const after = afterRaw ? Number(Buffer.from(afterRaw, 'base64url').toString().replace(/^o/, '')) : 0;
  if (Number.isNaN(after)) return json(400, { error: 'InvalidPaginationParameter', description: 'Invalid cursor' });
  const rest = all.filter((o) => o.id > after);
  const page = rest.slice(0, size);
  const hasMore = rest.length > size;
  const enc = (id: number) => Buffer.from(`o${id}`).toString('base64url');
  const afterCursor = page.length ? enc(page.at(-1)!.id) : null;
  const path = `${ctx.baseUrl}/api/v2/organizations.json?page[size]=${size}`;
  return json(200, {
    organizations: page,
    meta: { has_more: hasMore, after_cursor: afterCursor, before_cursor: page.length ? enc(page[0]!.id) : null },
    links: { next: hasMore && afterCursor ? `${path}&page[after]=${afterCursor}` : null, prev: null },
  });
}

export function zendeskRoutes(state: ZendeskState): Route[] {
  return [
    { method: 'GET', pattern: /^\/api\/v2\/organizations(?:\.json)?$/, handle: (ctx) => listOrganizations(state, ctx) },
    { method: 'GET', pattern: /^\/api\/v2\/incremental\/users\/cursor(?:\.json)?$/, handle: (ctx) => incrementalExport(state, state.users, 'users', ctx) },
    { method: 'GET', pattern: /^\/api\/v2\/incremental\/tickets\/cursor(?:\.json)?$/, handle: (ctx) => incrementalExport(state, state.tickets, 'tickets', ctx) },
    { method: 'GET', pattern: /^\/api\/v2\/tickets\/(\d+)\/comments(?:\.json)?$/, handle: (ctx) => listComments(state, ctx) },
    {
      method: 'GET',
      pattern: /^\/api\/v2\/users\/show_many(?:\.json)?$/,
      handle: (ctx) => {
        const ids = (ctx.query.get('ids') ?? '').split(',').filter((s) => s.trim() !== '');
        if (ids.length === 0) return invalid('ids is required');
        if (ids.length > 100) return invalid('Too many ids: at most 100 are allowed');
        const users = ids.map((s) => state.getUser(Number(s))).filter((u): u is ZUser => u !== undefined);
        return json(200, { users, next_page: null, previous_page: null, count: users.length });
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/v2\/users\/me(?:\.json)?$/,
      handle: () => json(200, { user: state.getUser(state.source.meId) }),
    },
    {
      method: 'GET',
      pattern: /^\/api\/v2\/users\/(\d+)(?:\.json)?$/,
      handle: (ctx) => {
        const u = state.getUser(Number(ctx.params[0]));
        return u ? json(200, { user: u }) : notFound();
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/v2\/tickets\/(\d+)(?:\.json)?$/,
      handle: (ctx) => {
        const t = state.getTicket(Number(ctx.params[0]));
        return t && t.status !== 'deleted' ? json(200, { ticket: t }) : notFound();
      },
    },
    {
      // content_url of an attachment: Zendesk answers with a redirect to its file host.
      method: 'GET',
      pattern: /^\/attachments\/token\/([^/]+)\/?$/,
      auth: false,
      rateLimited: false,
      handle: (ctx) => {
        const token = ctx.params[0]!;
        if (!state.source.blob(token)) return { status: 404, body: 'Not Found', contentType: 'text/html; charset=utf-8' };
        const name = ctx.query.get('name') ?? 'file';
        return {
          status: 302,
          headers: { location: `${ctx.attachmentHostUrl}/attachment/${encodeURIComponent(token)}?name=${encodeURIComponent(name)}` },
          body: '<html><body>You are being <a href="">redirected</a>.</body></html>',
          contentType: 'text/html; charset=utf-8',
        };
      },
    },
  ];
}

export function zendeskProvider(options: ZendeskOptions = {}) {
  return ({ url }: { url: string }): ProviderDefinition & { state: ZendeskState } => {
    const state = createZendeskState(options.data ?? zendeskFixtures(), url);
    if (options.auth === false) state.auth = false;
    else if (options.auth) state.auth = { ...DEFAULT_ZENDESK_AUTH, ...options.auth };
    if (options.forbidden !== undefined) state.forbidden = options.forbidden;
    if (options.minStartTimeAgeSeconds !== undefined) state.minStartTimeAgeSeconds = options.minStartTimeAgeSeconds;
    return {
      state,
      routes: zendeskRoutes(state),
      authenticate: (ctx) => authenticate(state, ctx),
      getBlob: (token) => state.source.blob(token),
      notFound: () => json(404, { error: 'InvalidEndpoint', description: 'Not found' }),
      rateLimited: (_ctx, { plainText }) =>
        plainText
          ? { status: 429, body: 'Too Many Requests', contentType: 'text/plain; charset=utf-8' }
          : json(429, { error: 'APIRateLimitExceeded', description: 'Number of allowed API requests per minute exceeded' }),
      serverError: (status, html) =>
        html
          ? {
              status,
              contentType: 'text/html; charset=utf-8',
              body: `<html>\r\n<head><title>${status} ${STATUS_CODES[status]}</title></head>\r\n<body>\r\n<center><h1>${status} ${STATUS_CODES[status]}</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n`,
            }
          : json(status, { error: status === 503 ? 'ServiceUnavailable' : 'InternalServerError', description: 'Something went wrong on our end' }),
    };
  };
}
