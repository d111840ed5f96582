import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AuthError, errorDisposition, ProviderError, providerMessage, RecordError, RetryLaterError } from '../src/import/errors.ts';
import { basicAuthHeader, staticAuth } from '../src/import/auth-session.ts';
import { createProviderClient, parseRetryAfter, type ProviderClient, type ProviderClientOptions } from '../src/import/http-client.ts';

/** Small real servers on 127.0.0.1, one behaviour each; nothing here depends on the fake Zendesk. */
type Server = { url: string; requests: http.IncomingMessage[]; close(): Promise<void> };
const open: Array<{ close(): unknown }> = [];

async function serve(handler: (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void): Promise<Server> {
  const requests: http.IncomingMessage[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req);
    handler(req, res, requests.length);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const s: Server = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  open.push(s);
  return s;
}

function client(baseUrl: string, overrides: Partial<ProviderClientOptions> = {}): ProviderClient {
  const c = createProviderClient({
    baseUrl,
    auth: staticAuth({ Authorization: basicAuthHeader('agent@example.com/token', 'secret-token') }),
    timeoutMs: 2_000,
    userAgent: 'intake-test',
    maxRetries: 3,
    maxInlineWaitMs: 3_000,
    backoffBaseMs: 10,
    backoffMaxMs: 50,
    allowPrivateAddresses: true,
    ...overrides,
  });
  open.push(c);
  return c;
}

const json = (res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
};

async function caught(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the call to fail');
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

/**
 * A fixed-window limiter like a provider's: `limit` requests per `windowMs`, then 429. The first
 * window opens with the first request (not when the server starts), so a burst that a slow
 * machine starts late still falls in one window.
 */
async function limitedServer(limit: number, windowMs: number) {
  let started: number | undefined;
  const windows = new Map<number, number>();
  let tooMany = 0;
  const server = await serve((_req, res) => {
    const now = Date.now();
    started ??= now;
    const w = Math.floor((now - started) / windowMs);
    const used = (windows.get(w) ?? 0) + 1;
    windows.set(w, used);
    const headers = { 'x-limit': limit, 'x-remaining': Math.max(0, limit - used), 'x-reset-ms': started + (w + 1) * windowMs - now };
    if (used > limit) {
      tooMany++;
      res.writeHead(429, { 'content-type': 'text/plain', 'retry-after': '1', ...headers }).end('Too Many Requests');
      return;
    }
    setTimeout(() => json(res, 200, { ok: true }, headers), 15);
  });
  return { server, tooMany: () => tooMany };
}

const testHeaders = {
  parseHeaders: (h: Record<string, string | undefined>) => ({
    limit: Number(h['x-limit']),
    remaining: Number(h['x-remaining']),
    resetMs: Number(h['x-reset-ms']),
  }),
};

async function burst(c: ProviderClient, workers: number, each: number): Promise<number> {
  let ok = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (let i = 0; i < each; i++) if ((await c.get('/api/items.json')).status === 200) ok++;
    }),
  );
  return ok;
}

describe('rate budget', () => {
  it('stays under the budget the headers announce: no 429 across several windows with concurrent requests', async () => {
    const { server, tooMany } = await limitedServer(5, 300);
    const started = Date.now();
    expect(await burst(client(server.url, { rateLimit: testHeaders }), 6, 4)).toBe(24);
    expect(tooMany()).toBe(0);
    expect(server.requests).toHaveLength(24);
    expect(Date.now() - started).toBeGreaterThanOrEqual(3 * 300); // 24 requests need at least 5 windows
  });

  it('an unmetered download neither waits for the budget nor spends it', async () => {
    // The API announces its budget is spent for a minute; files are served outside it.
    const server = await serve((req, res) => {
      if (req.url?.startsWith('/file')) return res.end(Buffer.from('file'));
      json(res, 200, { ok: true }, { 'x-limit': 1, 'x-remaining': 0, 'x-reset-ms': 60_000 });
    });
    const c = client(server.url, { rateLimit: testHeaders });
    expect((await c.get('/api/items.json')).status).toBe(200);
    const started = Date.now();
    expect((await c.get('/file.bin', { responseType: 'arraybuffer', unmetered: true })).data.toString()).toBe('file');
    expect(Date.now() - started).toBeLessThan(1_000);
    // A metered call is told to come back when the window resets, instead of waiting inline.
    await expect(c.get('/api/items.json')).rejects.toBeInstanceOf(RetryLaterError);
    expect(server.requests.map((r) => r.url)).toEqual(['/api/items.json', '/file.bin']);
  });

  it('without reading the headers the same server has to send 429s (and Retry-After still gets the work done)', async () => {
    // A window long enough to hold the whole burst of 8 on a loaded machine; Retry-After (1 s) reaches the next.
    const { server, tooMany } = await limitedServer(5, 1_000);
    const ignore = { parseHeaders: () => ({}) };
    expect(await burst(client(server.url, { rateLimit: ignore }), 4, 2)).toBe(8);
    expect(tooMany()).toBeGreaterThan(0);
  });
});

describe('retries', () => {
  it('honours Retry-After in seconds, with a text/plain 429 body', async () => {
    const server = await serve((_req, res, n) => {
      if (n === 1) res.writeHead(429, { 'content-type': 'text/plain', 'retry-after': '1' }).end('Rate limit exceeded, slow down');
      else json(res, 200, { n });
    });
    const started = Date.now();
    const res = await client(server.url).get('/api/v2/tickets.json');
    expect(res.data).toEqual({ n: 2 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('honours Retry-After as an HTTP-date', async () => {
    const retryAt = new Date(Date.now() + 2_000);
    const server = await serve((_req, res, n) => {
      if (n === 1) res.writeHead(429, { 'retry-after': retryAt.toUTCString() }).end();
      else json(res, 200, { n });
    });
    await client(server.url).get('/api/v2/tickets.json');
    // The date has whole seconds: the second request arrives after the second it names began.
    expect(server.requests).toHaveLength(2);
    expect(Date.now()).toBeGreaterThanOrEqual(Math.floor(retryAt.getTime() / 1000) * 1000);
  });

  it('retries a 500, then an HTML 502, and understands the HTML page when retries run out', async () => {
    const html = '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>';
    const server = await serve((req, res, n) => {
      if (req.url?.startsWith('/always')) res.writeHead(502, { 'content-type': 'text/html' }).end(html);
      else if (n === 1) json(res, 500, { error: 'InternalError' });
      else if (n === 2) res.writeHead(502, { 'content-type': 'text/html' }).end(html);
      else json(res, 200, { n });
    });
    const c = client(server.url, { maxRetries: 2 });
    expect((await c.get('/api/v2/users.json')).data).toEqual({ n: 3 });

    const err = await caught(c.get('/always'));
    expect(err).toBeInstanceOf(RetryLaterError);
    expect(err.message).toMatch(/^GET \/always answered 502: 502 Bad Gateway \(retry at /);
    expect(errorDisposition(err)).toBe('retry_later');
  });

  it('retries truncated JSON: a body cut short on the wire and a complete body that is not valid JSON', async () => {
    const server = await serve((_req, res, n) => {
      if (n === 1) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
        res.write('{"users": [{"id": 1}');
        setTimeout(() => res.socket?.destroy(), 10);
      } else if (n === 2) res.writeHead(200, { 'content-type': 'application/json' }).end('{"users": [{"id": 1}');
      else json(res, 200, { users: [{ id: 1 }] });
    });
    expect((await client(server.url).get('/api/v2/users.json')).data).toEqual({ users: [{ id: 1 }] });
    expect(server.requests).toHaveLength(3);
  });

  it('times out a hung request and retries it', async () => {
    const server = await serve((_req, res, n) => {
      if (n === 1) return; // never answers
      if (n === 2) {
        res.writeHead(200, { 'content-type': 'application/json' }).write('{"half": '); // headers, then nothing
        return;
      }
      json(res, 200, { n });
    });
    const started = Date.now();
    expect((await client(server.url, { timeoutMs: 200 }).get('/api/v2/tickets.json')).data).toEqual({ n: 3 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  });

  it('answers a long wait with RetryLaterError at once instead of sleeping, and holds the connection back', async () => {
    const server = await serve((_req, res) => res.writeHead(429, { 'content-type': 'text/plain', 'retry-after': '3600' }).end('Too Many Requests'));
    const c = client(server.url);
    const started = Date.now();
    const err = await caught(c.get('/api/v2/tickets.json', { params: { api_token: 'hush' } }));
    expect(Date.now() - started).toBeLessThan(500);
    expect(err).toBeInstanceOf(RetryLaterError);
    expect((err as RetryLaterError).retryAt.getTime()).toBeGreaterThan(started + 3_590_000);
    expect(err.message).toContain('GET /api/v2/tickets.json answered 429: Too Many Requests');
    expect(err.message).not.toContain('hush');

    // The whole connection waits: the next call does not knock again.
    expect(await caught(c.get('/api/v2/users.json'))).toBeInstanceOf(RetryLaterError);
    expect(server.requests).toHaveLength(1);
  });

  it('turns transient failures past maxRetries into RetryLaterError', async () => {
    const server = await serve((_req, res) => json(res, 503, { error: 'Unavailable' }));
    const err = await caught(client(server.url, { maxRetries: 2 }).get('/api/v2/tickets.json'));
    expect(err).toBeInstanceOf(RetryLaterError);
    expect(server.requests).toHaveLength(3);
  });
});

describe('error classification', () => {
  const bodies: Array<[number, unknown, string]> = [
    [401, { error: "Couldn't authenticate you" }, "Couldn't authenticate you"],
    [401, { error: { title: 'Unauthorized', message: 'The API token was revoked' } }, 'Unauthorized: The API token was revoked'],
    [403, { error: { title: 'Forbidden', message: 'You do not have access to this page.' } }, 'Forbidden: You do not have access to this page.'],
  ];
  for (const [status, body, message] of bodies) {
    it(`${status} ${JSON.stringify(body)} -> AuthError with the provider's message`, async () => {
      const server = await serve((_req, res) => json(res, status, body));
      const err = await caught(client(server.url).get('/api/v2/users/me.json?token=hush'));
      expect(err).toBeInstanceOf(AuthError);
      expect((err as AuthError).providerMessage).toBe(message);
      expect((err as AuthError).status).toBe(status);
      expect(err.message).toBe(`GET /api/v2/users/me.json answered ${status}: ${message}`);
      expect(errorDisposition(err)).toBe('needs_reauth');
      expect(server.requests).toHaveLength(1);
    });
  }

  it('404 -> RecordError (skip the record, keep going); other 4xx -> ProviderError', async () => {
    const server = await serve((req, res) =>
      req.url?.startsWith('/api/v2/tickets/7') ? json(res, 404, { error: 'RecordNotFound', description: 'Not found' }) : json(res, 400, { error: 'BadRequest' }),
    );
    const c = client(server.url);
    const notFound = await caught(c.get('/api/v2/tickets/7/comments.json'));
    expect(notFound).toBeInstanceOf(RecordError);
    expect((notFound as RecordError).reason).toBe('not_found');
    expect(notFound.message).toBe('GET /api/v2/tickets/7/comments.json answered 404: RecordNotFound: Not found');
    expect(errorDisposition(notFound)).toBe('record_error');
    expect(await caught(c.get('/api/v2/other.json'))).toBeInstanceOf(ProviderError);
  });

  it('providerMessage understands both Zendesk shapes', () => {
    expect(providerMessage({ error: 'InvalidEndpoint', description: 'Not found' })).toBe('InvalidEndpoint: Not found');
    expect(providerMessage({ error: { title: 'Forbidden', message: 'No access' } })).toBe('Forbidden: No access');
    expect(providerMessage('plain words')).toBe('plain words');
    expect(providerMessage({})).toBeUndefined();
    expect(parseRetryAfter('120', 0)).toBe(120_000);
    expect(parseRetryAfter('Thu, 01 Jan 1970 00:00:10 GMT', 0)).toBe(10_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

describe('hosts, redirects and sizes', () => {
  it('follows an absolute next-page URL on the configured host and refuses one on another host', async () => {
    const elsewhere = await serve((_req, res) => json(res, 200, {}));
    const server = await serve((req, res) => json(res, 200, { url: req.url }));
    const c = client(`${server.url}/`);
    expect((await c.get(`${server.url}/api/v2/users.json?page[after]=abc`, { params: { per_page: 100 } })).data).toEqual({
      url: '/api/v2/users.json?page%5Bafter%5D=abc&per_page=100',
    });
    for (const next of [`${elsewhere.url}/api/v2/users.json`, '//evil.example/api', 'https://evil.example/api']) {
      const err = await caught(c.get(next));
      expect(err).toBeInstanceOf(ProviderError);
      expect(err.message).toContain('refused a URL on another host');
    }
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('follows a redirect to another host without the Authorization header, and keeps it on the same host', async () => {
    const files = await serve((_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.from('PNGDATA')));
    const server = await serve((req, res) => {
      if (req.url === '/attachments/1') res.writeHead(302, { location: `${files.url}/blob/1?signature=abc` }).end();
      else if (req.url === '/moved') res.writeHead(301, { location: '/attachments/1' }).end();
    });
    const res = await client(server.url, { auth: staticAuth({ Authorization: 'Bearer oauth-token' }) }).get('/moved', { responseType: 'arraybuffer', maxBytes: 1024 });
    expect(res.data.toString()).toBe('PNGDATA');
    expect(res.url).toBe(`${files.url}/blob/1?signature=abc`);
    expect(server.requests.map((r) => [r.url, r.headers.authorization])).toEqual([
      ['/moved', 'Bearer oauth-token'],
      ['/attachments/1', 'Bearer oauth-token'],
    ]);
    expect(files.requests).toHaveLength(1);
    expect(files.requests[0]?.headers.authorization).toBeUndefined();
  });

  it('enforces maxBytes on downloads, announced or streamed, as a record error', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/announced') res.writeHead(200, { 'content-length': '10000' }).end(Buffer.alloc(10_000));
      else {
        res.writeHead(200, { 'content-type': 'application/octet-stream' }); // chunked: no length up front
        for (let i = 0; i < 10; i++) res.write(Buffer.alloc(1_000));
        res.end();
      }
    });
    const c = client(server.url);
    for (const path of ['/announced', '/streamed']) {
      const err = await caught(c.get(path, { responseType: 'arraybuffer', maxBytes: 4_000 }));
      expect(err).toBeInstanceOf(RecordError);
      expect((err as RecordError).reason).toBe('too_large');
      expect(err.message).toBe(`GET ${path} failed: the response is larger than 4000 bytes`);
    }
    expect((await c.get('/streamed', { responseType: 'arraybuffer', maxBytes: 10_000 })).data).toHaveLength(10_000);
  });
});

describe('private addresses', () => {
  it('are refused unless allowed, whether the URL names an address or a name that resolves to one', async () => {
    const inside = await serve((_req, res) => res.end('{"secret":true}'));
    // A literal address is refused before any connection; a name, by the agent's lookup. Neither is retried.
    await expect(client(inside.url, { allowPrivateAddresses: false }).get('/x')).rejects.toMatchObject({ name: 'RecordError', reason: 'refused' });
    const byName = client(inside.url.replace('127.0.0.1', 'localhost'), { allowPrivateAddresses: false });
    await expect(byName.get('/x')).rejects.toMatchObject({ name: 'ProviderError', detail: expect.stringContaining('non-public') });
    expect(inside.requests).toHaveLength(0);
    expect((await client(inside.url).get('/x')).data).toEqual({ secret: true });
  });
});

describe('read-only requests', () => {
  it('refuses PUT, PATCH, DELETE and undeclared POSTs before anything leaves; sends declared read POSTs with a JSON body', async () => {
    const bodies: string[] = [];
    const server = await serve((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        bodies.push(`${req.method} ${req.url} ${req.headers['content-type']} ${body}`);
        json(res, 200, { results: [] });
      });
    });
    const c = client(server.url, { readOnlyPosts: [/^\/crm\/v3\/objects\/[a-z]+\/search$/] });
    const res = await c.post('/crm/v3/objects/contacts/search', { limit: 100, filterGroups: [] });
    expect(res.data).toEqual({ results: [] });
    expect(bodies).toEqual(['POST /crm/v3/objects/contacts/search application/json {"limit":100,"filterGroups":[]}']);
    for (const [method, path] of [['POST', '/crm/v3/objects/contacts'], ['PUT', '/x'], ['PATCH', '/x'], ['DELETE', '/crm/v3/objects/contacts/search']] as const) {
      const err = await caught(c.request(method, path, { body: {} }));
      expect(err, `${method} ${path}`).toBeInstanceOf(ProviderError);
      expect(err.message).toMatch(/refused: an import never writes to the provider/);
    }
    expect(server.requests).toHaveLength(1);
  });
});

describe('an adapter classifies errors before the defaults', () => {
  it('maps a provider-specific answer to retry later, re-authorise, record error or fail, with its own words', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/limit') json(res, 403, [{ errorCode: 'REQUEST_LIMIT_EXCEEDED', message: 'TotalRequests Limit exceeded.' }]);
      else if (req.url === '/plan') json(res, 403, { message: 'Payment missing', logRef: 'abc-123' });
      else if (req.url === '/odd') json(res, 400, { message: 'odd record' });
      else json(res, 403, { message: 'plain forbidden' });
    });
    // A fresh client per case: a retry-later verdict holds its connection back for the wait.
    const c = { get: (path: string) => classifying().get(path) };
    const classifying = () => client(server.url, {
      maxInlineWaitMs: 1_000,
      classifyError: (r) => {
        const body = r.body as { errorCode?: string; logRef?: string }[] | { logRef?: string };
        if (Array.isArray(body) && body[0]?.errorCode === 'REQUEST_LIMIT_EXCEEDED') return { class: 'retry_later', waitMs: 3_600_000, message: 'the daily API allocation is spent' };
        if (!Array.isArray(body) && body.logRef) return { class: 'needs_reauth', message: `${r.message} (logRef ${body.logRef})` };
        if (r.status === 400) return { class: 'record_error', reason: 'unprocessable' };
        return undefined;
      },
    });
    const limit = await caught(c.get('/limit'));
    expect(limit).toBeInstanceOf(RetryLaterError);
    expect((limit as RetryLaterError).retryAt.getTime()).toBeGreaterThan(Date.now() + 3_500_000);
    expect(limit.message).toMatch(/the daily API allocation is spent/);
    const plan = await caught(c.get('/plan'));
    expect(plan).toBeInstanceOf(AuthError);
    expect((plan as AuthError).providerMessage).toBe('Payment missing (logRef abc-123)');
    expect(await caught(c.get('/odd'))).toMatchObject({ name: 'RecordError', reason: 'unprocessable' });
    // Left to the defaults: 403 asks for re-authorisation.
    expect(await caught(c.get('/other'))).toMatchObject({ name: 'AuthError', providerMessage: 'plain forbidden' });
  });
});

describe('the auth lifecycle', () => {
  it('refreshes a grant a minute before it expires, and hands rotated credentials to the engine first', async () => {
    let n = 0;
    const server = await serve((req, res) => {
      if (req.url === '/token') return json(res, 200, { access_token: `a${++n}` });
      json(res, 200, { auth: req.headers.authorization });
    });
    const saved: unknown[] = [];
    let expiresAt = new Date(Date.now() + 30_000); // inside the minute: refreshed before use
    const c = client(server.url, {
      onCredentials: async (credentials) => void saved.push(credentials),
      auth: {
        initial: { headers: { Authorization: 'Bearer a0' }, expiresAt },
        refresh: async (tokens) => {
          const answer = (await tokens.postForm(`${server.url}/token`, { grant_type: 'client_credentials' })) as { access_token: string };
          expiresAt = new Date(Date.now() + 7_200_000);
          return { headers: { Authorization: `Bearer ${answer.access_token}` }, expiresAt, credentials: { accessToken: answer.access_token } };
        },
      },
    });
    expect((await c.get('/x')).data).toEqual({ auth: 'Bearer a1' });
    expect((await c.get('/y')).data).toEqual({ auth: 'Bearer a1' });
    expect(saved).toEqual([{ accessToken: 'a1' }]);
    expect(server.requests.map((r) => r.url)).toEqual(['/token', '/x', '/y']);
  });

  it('a token endpoint answers: 400/401 re-authorise with OAuth\'s words, 5xx and 429 retry later, https only', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/bad') json(res, 400, { error: 'invalid_grant', error_description: 'expired access/refresh token' });
      else if (req.url === '/down') json(res, 503, { message: 'maintenance' }, { 'retry-after': '120' });
      else json(res, 401, { error: 'invalid_client' });
    });
    const c = client(server.url);
    const bad = await caught(c.tokens.postForm(`${server.url}/bad`, { grant_type: 'refresh_token' }));
    expect(bad).toMatchObject({ name: 'AuthError', providerMessage: 'invalid_grant: expired access/refresh token' });
    expect(await caught(c.tokens.postForm(`${server.url}/client`, {}))).toMatchObject({ name: 'AuthError', providerMessage: 'invalid_client' });
    const down = await caught(c.tokens.postForm(`${server.url}/down`, {}));
    expect(down).toBeInstanceOf(RetryLaterError);
    expect((down as RetryLaterError).retryAt.getTime()).toBeGreaterThan(Date.now() + 100_000);
    // Without the private-address switch a token endpoint must be https on a public address.
    const strict = client(server.url, { allowPrivateAddresses: false });
    expect(await caught(strict.tokens.postForm(`${server.url}/bad`, {}))).toMatchObject({ name: 'ProviderError', detail: 'a token endpoint must be an https URL' });
    expect(await caught(strict.tokens.postForm('https://10.0.0.1/token', {}))).toMatchObject({ name: 'RecordError', reason: 'refused' });
  });
});
