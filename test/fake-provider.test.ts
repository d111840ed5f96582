import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_ZENDESK_AUTH, generateZendesk, startFakeProvider, type FakeProvider } from './support/fake-provider/index.ts';

const basic = `Basic ${Buffer.from(`${DEFAULT_ZENDESK_AUTH.email}/token:${DEFAULT_ZENDESK_AUTH.apiToken}`).toString('base64')}`;
const auth = { authorization: basic };
const longAgo = Math.floor(Date.UTC(2020, 0, 1) / 1000);

let server: FakeProvider | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(options: Parameters<typeof startFakeProvider>[0] = {}) {
  server = await startFakeProvider(options);
  return server;
}

async function getJson(url: string, headers: Record<string, string> = auth) {
  const res = await fetch(url, { headers, redirect: 'manual' });
  const text = await res.text();
  return { res, text, body: text.startsWith('{') ? JSON.parse(text) : undefined };
}

/** Walks an incremental cursor export the way the adapter must: stop only on end_of_stream. */
async function walk(s: FakeProvider, key: 'users' | 'tickets', perPage: number) {
  let url = `${s.url}/api/v2/incremental/${key}/cursor.json?start_time=${longAgo}&per_page=${perPage}`;
  const pages: Array<{ count: number; end: boolean; after: string }> = [];
  const items: Array<{ id: number; status?: string; role?: string; email?: string | null }> = [];
  for (let guard = 0; guard < 10_000; guard++) {
    const { res, body } = await getJson(url);
    expect(res.status).toBe(200);
    expect(Object.keys(body).sort()).toEqual(['after_cursor', 'after_url', 'before_cursor', 'before_url', 'end_of_stream', key].sort());
    items.push(...body[key]);
    pages.push({ count: body[key].length, end: body.end_of_stream, after: body.after_cursor });
    if (body.end_of_stream) return { pages, items, last: body };
    expect(body.after_cursor).toBeTruthy();
    url = body.after_url;
  }
  throw new Error('never ended');
}

describe('fake Zendesk: incremental exports', () => {
  it('walks the users stream to the end, through an empty page that is not the end', async () => {
    const s = await start();
    const { pages, items } = await walk(s, 'users', 3);
    const emptyBeforeEnd = pages.findIndex((p) => p.count === 0 && !p.end);
    expect(emptyBeforeEnd).toBeGreaterThan(0);
    expect(emptyBeforeEnd).toBeLessThan(pages.length - 1);
    expect(pages.at(-1)!.end).toBe(true);
    const ids = items.map((u) => u.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain(360012); // end-user without email
    expect(ids).not.toContain(360020); // only reachable through show_many
    const roles = new Set(items.map((u) => u.role));
    expect(roles).toEqual(new Set(['admin', 'agent', 'end-user']));
    // The last page's cursor resumes a later export: nothing new yet, then a new user.
    const again = await getJson(`${s.url}/api/v2/incremental/users/cursor.json?cursor=${pages.at(-1)!.after}`);
    expect(again.body.users).toEqual([]);
    expect(again.body.end_of_stream).toBe(true);
    s.state.addUser({ name: 'Newcomer', email: 'new@customer.test' });
    const after = await getJson(again.body.after_url);
    expect(after.body.users.map((u: { name: string }) => u.name)).toEqual(['Newcomer']);
  });

  it('walks the tickets stream with deleted tickets, an empty page, and incremental changes', async () => {
    const s = await start();
    const { pages, items, last } = await walk(s, 'tickets', 2);
    expect(pages.some((p) => p.count === 0 && !p.end)).toBe(true);
    expect(items.map((t) => t.id)).toEqual([101, 102, 103, 104, 105, 106, 107, 108, 109]);
    expect(items.find((t) => t.id === 107)!.status).toBe('deleted');
    expect(new Set(items.map((t) => t.status))).toEqual(new Set(['new', 'open', 'pending', 'hold', 'solved', 'closed', 'deleted']));
    const excluded = await getJson(`${s.url}/api/v2/incremental/tickets/cursor.json?start_time=${longAgo}&exclude_deleted=true`);
    expect(excluded.body.tickets.map((t: { id: number }) => t.id)).not.toContain(107);

    // Mutations surface on the next incremental run, each ticket once.
    const created = s.state.addTicket({ requester_id: 360010, subject: 'Brand new', description: 'Hi again' });
    s.state.addComment(101, { author_id: 360002, body: 'Follow-up' });
    s.state.addTag(102, 'escalated');
    s.state.addTag(101, 'second-change');
    expect(last.after_url).toContain('per_page=2');
    const next = await getJson(`${s.url}/api/v2/incremental/tickets/cursor.json?cursor=${last.after_cursor}`);
    expect(next.body.tickets.map((t: { id: number }) => t.id)).toEqual([created.id, 102, 101]);
    expect(next.body.tickets[1].tags).toContain('escalated');
    expect(next.body.end_of_stream).toBe(true);
    // A fresh full export still lists every ticket exactly once, changed ones at the end.
    const again = await walk(s, 'tickets', 100);
    expect(again.items.map((t) => t.id)).toEqual([103, 104, 105, 106, 107, 108, 109, created.id, 102, 101]);
    const comments = await getJson(`${s.url}/api/v2/tickets/101/comments.json?page[size]=100`);
    expect(comments.body.comments.at(-1).body).toBe('Follow-up');
  });

  it('requires start_time at least a minute ago, or a cursor', async () => {
    const s = await start();
    for (const key of ['tickets', 'users']) {
      const now = Math.floor(Date.now() / 1000);
      const tooRecent = await getJson(`${s.url}/api/v2/incremental/${key}/cursor.json?start_time=${now - 10}`);
      expect(tooRecent.res.status).toBe(400);
      expect(tooRecent.body).toEqual({ error: 'InvalidValue', description: 'Too recent start_time. Use a start_time older than 1 minute' });
      expect((await getJson(`${s.url}/api/v2/incremental/${key}/cursor.json`)).res.status).toBe(400);
      const ok = await getJson(`${s.url}/api/v2/incremental/${key}/cursor.json?start_time=${now - 120}`);
      expect(ok.res.status).toBe(200);
      expect(ok.body.end_of_stream).toBe(true);
    }
  });

  it('serves 10,000 generated users by pages quickly', async () => {
    const s = await start({ data: generateZendesk({ users: 10_000, tickets: 50, commentsPerTicket: 4, seed: 7, emptyPages: { users: [5000] } }), rateLimit: false });
    const t0 = performance.now();
    const { items, pages } = await walk(s, 'users', 1000);
    expect(items).toHaveLength(10_000);
    expect(new Set(items.map((u) => u.id)).size).toBe(10_000);
    expect(pages.filter((p) => p.count === 0 && !p.end)).toHaveLength(1);
    expect(performance.now() - t0).toBeLessThan(5000);
    const users = items;
    expect(users.some((u) => u.role === 'end-user' && u.email === null)).toBe(true);
    expect(users.some((u) => u.role === 'agent')).toBe(true);
    // Deterministic for a seed.
    const a = generateZendesk({ users: 100, tickets: 100, commentsPerTicket: 4, seed: 3 });
    const b = generateZendesk({ users: 100, tickets: 100, commentsPerTicket: 4, seed: 3 });
    expect(a.ticketAt(42, 'x')).toEqual(b.ticketAt(42, 'x'));
    expect(a.commentsFor(43, 'x')).toHaveLength(4);
  });

  it('builds a page of the 50,000-ticket benchmark data without materialising it', async () => {
    const data = generateZendesk({ users: 100_000, tickets: 50_000, commentsPerTicket: 4, seed: 1 });
    const s = await start({ data, rateLimit: false });
    const t0 = performance.now();
    const page = await getJson(`${s.url}/api/v2/incremental/tickets/cursor.json?start_time=${longAgo}`);
    expect(page.body.tickets).toHaveLength(1000);
    expect(page.body.end_of_stream).toBe(false);
    const lastPage = await getJson(`${s.url}/api/v2/incremental/tickets/cursor.json?start_time=${page.body.tickets[999].generated_timestamp + 1}&per_page=1000`);
    expect(lastPage.body.tickets[0].id).toBe(1001);
    expect(performance.now() - t0).toBeLessThan(3000);
  });
});

describe('fake Zendesk: comments, users, auth', () => {
  it('pages comments with cursor pagination', async () => {
    const s = await start();
    let url: string | null = `${s.url}/api/v2/tickets/101/comments.json?page[size]=3`;
    const seen: Array<{ id: number; public: boolean; attachments: unknown[] }> = [];
    const metas: Array<{ has_more: boolean }> = [];
    while (url) {
      const { res, body } = await getJson(url);
      expect(res.status).toBe(200);
      expect(Object.keys(body).sort()).toEqual(['comments', 'links', 'meta']);
      seen.push(...body.comments);
      metas.push(body.meta);
      url = body.meta.has_more ? body.links.next : null;
    }
    expect(seen.map((c) => c.id)).toEqual([1010001, 1010002, 1010003, 1010004]);
    expect(metas.map((m) => m.has_more)).toEqual([true, false]);
    expect(seen.find((c) => c.id === 1010003)!.public).toBe(false);
    const withCursor = await getJson(`${s.url}/api/v2/tickets/101/comments.json?page[size]=2`);
    expect(withCursor.body.links.next).toContain('page[after]=');
    expect((await getJson(`${s.url}/api/v2/tickets/101/comments.json?page[size]=101`)).res.status).toBe(400);
    expect((await getJson(`${s.url}/api/v2/tickets/999999/comments.json?page[size]=100`)).body).toEqual({ error: 'RecordNotFound', description: 'Not found' });
    const nul = await getJson(`${s.url}/api/v2/tickets/103/comments.json?page[size]=100`);
    expect(nul.body.comments[0].body).toContain('\u0000');
    const system = await getJson(`${s.url}/api/v2/tickets/102/comments.json?page[size]=100`);
    expect(system.body.comments.map((c: { author_id: number }) => c.author_id)).toContain(-1);
  });

  it('show_many returns known users (incl. ones outside the export) and caps ids at 100', async () => {
    const s = await start();
    const { body } = await getJson(`${s.url}/api/v2/users/show_many.json?ids=360010,360020,424242`);
    expect(body.users.map((u: { id: number }) => u.id)).toEqual([360010, 360020]);
    const many = Array.from({ length: 101 }, (_, i) => i + 1).join(',');
    expect((await getJson(`${s.url}/api/v2/users/show_many.json?ids=${many}`)).res.status).toBe(400);
  });

  it('checks credentials: Basic token, Bearer, 401 and 403 bodies', async () => {
    const s = await start();
    const me = await getJson(`${s.url}/api/v2/users/me.json`);
    expect(me.res.status).toBe(200);
    expect(me.body.user.role).toBe('admin');
    expect((await getJson(`${s.url}/api/v2/users/me.json`, { authorization: `Bearer ${DEFAULT_ZENDESK_AUTH.oauthToken}` })).res.status).toBe(200);
    const wrong = `Basic ${Buffer.from(`${DEFAULT_ZENDESK_AUTH.email}/token:nope`).toString('base64')}`;
    for (const headers of [{ authorization: wrong }, { authorization: 'Bearer nope' }, {} as Record<string, string>]) {
      const r = await getJson(`${s.url}/api/v2/users/me.json`, headers);
      expect(r.res.status).toBe(401);
      expect(r.body).toEqual({ error: "Couldn't authenticate you" });
    }
    s.state.forbidden = /incremental/;
    const f = await getJson(`${s.url}/api/v2/incremental/users/cursor.json?start_time=${longAgo}`);
    expect(f.res.status).toBe(403);
    expect(f.body.error.title).toBe('Forbidden');
    expect(f.body.error.message).toMatch(/^You do not have access to this page/);
    expect((await getJson(`${s.url}/api/v2/users/me.json`)).res.status).toBe(200);
    // Revoking the token at runtime.
    s.state.auth = { ...DEFAULT_ZENDESK_AUTH, apiToken: 'rotated' };
    expect((await getJson(`${s.url}/api/v2/users/me.json`)).res.status).toBe(401);
  });

  it('redirects attachments to the second host, which records Authorization', async () => {
    const s = await start();
    const { body } = await getJson(`${s.url}/api/v2/tickets/102/comments.json?page[size]=100`);
    const atts = body.comments[0].attachments as Array<{ file_name: string; content_url: string; size: number }>;
    expect(atts.map((a) => a.file_name)).toEqual(['invoice.pdf', 'setup.exe']);
    const exe = atts[1]!;
    expect(exe.content_url.startsWith(s.url)).toBe(true);
    const redirect = await fetch(exe.content_url, { headers: auth, redirect: 'manual' });
    expect(redirect.status).toBe(302);
    const location = redirect.headers.get('location')!;
    expect(location.startsWith(s.attachmentHostUrl)).toBe(true);
    expect(new URL(location).port).not.toBe(new URL(s.url).port);

    const clean = await fetch(location);
    const bytes = Buffer.from(await clean.arrayBuffer());
    expect(bytes.length).toBe(exe.size);
    expect(s.attachmentRequests.at(-1)!.hadAuthorization).toBe(false);

    await fetch(location, { headers: auth });
    expect(s.attachmentRequests.at(-1)!.hadAuthorization).toBe(true);

    const img = await getJson(`${s.url}/api/v2/tickets/101/comments.json?page[size]=100`);
    const png = img.body.comments[1].attachments[0];
    const followed = await fetch(png.content_url); // fetch follows the 302
    expect(followed.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await followed.arrayBuffer()).subarray(1, 4).toString()).toBe('PNG');
  });
});

describe('fake Zendesk: rate limits and faults', () => {
  it('sends Zendesk rate-limit headers and 429 with Retry-After, JSON and text/plain', async () => {
    const s = await start({ rateLimit: { limit: 3, windowMs: 1000 } });
    const url = `${s.url}/api/v2/users/me.json`;
    const first = await fetch(url, { headers: auth });
    expect(first.headers.get('x-rate-limit')).toBe('3');
    expect(first.headers.get('x-rate-limit-remaining')).toBe('2');
    expect(first.headers.get('ratelimit-limit')).toBe('3');
    expect(first.headers.get('ratelimit-remaining')).toBe('2');
    expect(Number(first.headers.get('ratelimit-reset'))).toBeGreaterThanOrEqual(1);
    await fetch(url, { headers: auth });
    await fetch(url, { headers: auth });
    const limited = await fetch(url, { headers: auth });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(limited.headers.get('content-type')).toContain('application/json');
    expect(await limited.json()).toMatchObject({ error: 'APIRateLimitExceeded' });
    const limitedText = await fetch(url, { headers: auth });
    expect(limitedText.status).toBe(429);
    expect(limitedText.headers.get('content-type')).toContain('text/plain');
    expect(await limitedText.text()).toBe('Too Many Requests');
    expect(s.rateLimitedCount()).toBe(2);
    await new Promise((r) => setTimeout(r, Number(limitedText.headers.get('retry-after')) * 1000 + 50));
    expect((await fetch(url, { headers: auth })).status).toBe(200);

    s.setRateLimit(false);
    const free = await fetch(url, { headers: auth });
    expect(free.headers.get('x-rate-limit')).toBeNull();
  });

  it('injects 500, 502 HTML, hangs, truncated JSON, each for the next N matching requests', async () => {
    const s = await start();
    const me = `${s.url}/api/v2/users/me.json`;
    s.setFaults([{ path: /me\.json/, status: 500, times: 2 }]);
    expect((await fetch(me, { headers: auth })).status).toBe(500);
    expect((await fetch(`${s.url}/api/v2/users/show_many.json?ids=360010`, { headers: auth })).status).toBe(200); // not matching
    const second = await fetch(me, { headers: auth });
    expect(second.status).toBe(500);
    expect(await second.json()).toMatchObject({ error: 'InternalServerError' });
    expect((await fetch(me, { headers: auth })).status).toBe(200);

    s.setFaults([{ status: 502, html: true }]);
    const bad = await fetch(me, { headers: auth });
    expect(bad.status).toBe(502);
    expect(bad.headers.get('content-type')).toContain('text/html');
    expect(await bad.text()).toContain('502 Bad Gateway');

    s.setFaults([{ path: 'incremental/users', hang: true }]);
    const hung = fetch(`${s.url}/api/v2/incremental/users/cursor.json?start_time=${longAgo}`, { headers: auth, signal: AbortSignal.timeout(300) });
    await expect(hung).rejects.toThrow();
    expect((await fetch(me, { headers: auth })).status).toBe(200);

    s.setFaults([{ truncateJson: true }]);
    const cut = await fetch(me, { headers: auth });
    expect(cut.status).toBe(200);
    const text = await cut.text();
    expect(() => JSON.parse(text)).toThrow();
    expect(text.startsWith('{"user":')).toBe(true);

    s.setFaults([{ truncateJson: 'abort' }]);
    await expect(fetch(me, { headers: auth }).then((r) => r.text())).rejects.toThrow();
    expect(s.pendingFaults()).toEqual([]);
    expect((await fetch(me, { headers: auth })).status).toBe(200);

    const logged = s.requests.filter((r) => r.path === '/api/v2/users/me.json');
    expect(logged.length).toBeGreaterThan(5);
    expect(logged[0]).toMatchObject({ method: 'GET', query: {}, status: 500 });
    expect(logged[0]!.headers.authorization).toBe(basic);
  });
});
