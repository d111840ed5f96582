import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Provider-agnostic core of the fake provider server: a real HTTP server with a tiny router,
 * a fixed-window rate limiter that speaks Zendesk-style headers, fault injection, a request log
 * and a second "attachment host" (another port) that serves file bytes and records whether an
 * Authorization header reached it. A provider (zendesk.ts, later helpscout.ts ...) contributes
 * only routes, an authenticator and a blob lookup.
 */

export type LoggedRequest = {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  at: number;
  /** Filled in when the response is sent (undefined for a hang). */
  status?: number;
};

export type AttachmentRequest = LoggedRequest & { hadAuthorization: boolean };

export type Reply = {
  status: number;
  /** Serialised as application/json; charset=utf-8. */
  json?: unknown;
  /** Raw body; `contentType` defaults to text/plain. */
  body?: string | Buffer;
  contentType?: string;
  headers?: Record<string, string>;
};

export type RouteContext = {
  method: string;
  path: string;
  params: string[];
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  /** Base URL of the main server, e.g. http://127.0.0.1:1234 */
  baseUrl: string;
  /** Base URL of the attachment host. */
  attachmentHostUrl: string;
  /** The request body (a token endpoint's form); empty for a GET. */
  body?: Buffer;
};

export type Route = {
  method: string;
  pattern: RegExp;
  /** Default true: the provider's authenticator runs first. */
  auth?: boolean;
  /** Default true: counts against the rate limit. */
  rateLimited?: boolean;
  handle: (ctx: RouteContext) => Reply;
};

export type Blob = { contentType: string; body: Buffer };

export type ProviderDefinition = {
  routes: Route[];
  /** Returns a Reply to refuse (401/403), or undefined to let the request through. */
  authenticate: (ctx: RouteContext) => Reply | undefined;
  /** Attachment host lookup: token -> bytes. */
  getBlob: (token: string) => Blob | undefined;
  notFound: (ctx: RouteContext) => Reply;
  rateLimited: (ctx: RouteContext, info: { retryAfter: number; plainText: boolean }) => Reply;
  serverError: (status: number, html: boolean) => Reply;
  /** The provider's own rate-limit headers; Zendesk's (and the IETF draft's) when left out. */
  rateLimitHeaders?: (info: { limit: number; remaining: number; resetSeconds: number; limited: boolean }) => Record<string, string>;
};

export type Fault = {
  /** Which requests: a substring of the path, or a RegExp tested against path + query. Default: all. */
  path?: RegExp | string;
  method?: string;
  /** Respond with this status (default 500 when no other fault kind is given). */
  status?: number;
  /** An HTML body (like a load balancer's 502 page) instead of JSON. */
  html?: boolean;
  /** Never answer (the socket stays open until the client gives up or the server closes). */
  hang?: boolean;
  /**
   * Run the real handler, then send only the first half of its JSON body. `true`: a valid HTTP
   * response whose body is truncated JSON; 'abort': the declared Content-Length is the full one
   * and the socket is destroyed mid-body.
   */
  truncateJson?: boolean | 'abort';
  /** How many matching requests this fault applies to (default 1). */
  times?: number;
  /** Extra headers on the fault response (e.g. Retry-After on a 503). */
  headers?: Record<string, string>;
};

export type RateLimitOptions = {
  /** Requests allowed per window (Zendesk: per minute). Default 700. */
  limit?: number;
  /** Window length; 60_000 like Zendesk, scale down (e.g. 1000) for benchmarks. */
  windowMs?: number;
  /**
   * Every Nth 429 has a text/plain body ("Too Many Requests"); the others are JSON. Default 2
   * (alternating, starting with JSON). 1 = always text, 0 = never.
   */
  plainTextEvery?: number;
};

export type CoreOptions = {
  rateLimit?: RateLimitOptions | false;
  faults?: Fault[];
  host?: string;
  port?: number;
};

type ActiveFault = Fault & { remaining: number };

function queryObject(q: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of q) out[k] = v;
  return out;
}

function send(res: http.ServerResponse, reply: Reply, extraHeaders: Record<string, string>) {
  const { body, contentType } = encode(reply);
  res.writeHead(reply.status, {
    ...extraHeaders,
    ...(reply.headers ?? {}),
    'content-type': contentType,
    'content-length': String(body.length),
  });
  res.end(body);
}

function encode(reply: Reply): { body: Buffer; contentType: string } {
  if (reply.json !== undefined) {
    return { body: Buffer.from(JSON.stringify(reply.json)), contentType: 'application/json; charset=utf-8' };
  }
  const raw = reply.body ?? '';
  return {
    body: typeof raw === 'string' ? Buffer.from(raw) : raw,
    contentType: reply.contentType ?? 'text/plain; charset=utf-8',
  };
}

async function listen(server: http.Server, host: string, port: number): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return `http://${host}:${(server.address() as AddressInfo).port}`;
}

export type FakeServer = {
  url: string;
  attachmentHostUrl: string;
  requests: LoggedRequest[];
  attachmentRequests: AttachmentRequest[];
  /** Replace the active faults (each applies to its next `times` matching requests). */
  setFaults: (faults: Fault[]) => void;
  /** Faults not yet used up. */
  pendingFaults: () => Fault[];
  /** Change the rate limit at runtime (also resets the current window). */
  setRateLimit: (options: RateLimitOptions | false) => void;
  /** Count of 429s sent so far. */
  rateLimitedCount: () => number;
  close: () => Promise<void>;
};

export async function startFakeServer(
  provider: ProviderDefinition | ((urls: { url: string; attachmentHostUrl: string }) => ProviderDefinition),
  options: CoreOptions = {},
): Promise<FakeServer> {
  const host = options.host ?? '127.0.0.1';
  const requests: LoggedRequest[] = [];
  const attachmentRequests: AttachmentRequest[] = [];
  let faults: ActiveFault[] = [];
  let def: ProviderDefinition | undefined;

  // Fixed-window limiter: the window starts at the first request after the previous one ended.
  let limit: RateLimitOptions | false = false;
  let windowStart = 0;
  let used = 0;
  let throttled = 0;
  const setRateLimit = (o: RateLimitOptions | false) => {
    limit = o === false ? false : { limit: o.limit ?? 700, windowMs: o.windowMs ?? 60_000, plainTextEvery: o.plainTextEvery ?? 2 };
    windowStart = Date.now();
    used = 0;
  };
  setRateLimit(options.rateLimit === undefined ? {} : options.rateLimit);

  const setFaults = (list: Fault[]) => {
    faults = list.map((f) => ({ ...f, remaining: f.times ?? 1 }));
  };
  setFaults(options.faults ?? []);

  const takeFault = (method: string, pathAndQuery: string, path: string): ActiveFault | undefined => {
    for (const f of faults) {
      if (f.remaining <= 0) continue;
      if (f.method && f.method.toUpperCase() !== method) continue;
      if (f.path instanceof RegExp ? !f.path.test(pathAndQuery) : f.path !== undefined && !path.includes(f.path)) continue;
      f.remaining -= 1;
      return f;
    }
    return undefined;
  };

  let url = '';
  let attachmentHostUrl = '';

  // Bodies are read whole before routing (a token endpoint reads its form).
  const main = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => serve(req, res, Buffer.concat(chunks)));
  });

  const serve = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => {
    const method = (req.method ?? 'GET').toUpperCase();
    const parsed = new URL(req.url ?? '/', 'http://fake');
    const entry: LoggedRequest = {
      method,
      path: parsed.pathname,
      query: queryObject(parsed.searchParams),
      headers: req.headers,
      at: Date.now(),
    };
    requests.push(entry);
    res.on('finish', () => (entry.status = res.statusCode));
    const d = def!;
    const ctx: RouteContext = {
      method,
      path: parsed.pathname,
      params: [],
      query: parsed.searchParams,
      headers: req.headers,
      baseUrl: url,
      attachmentHostUrl,
      body,
    };

    const fault = takeFault(method, parsed.pathname + parsed.search, parsed.pathname);
    if (fault?.hang) return; // never answer; close() destroys the socket
    if (fault && !fault.truncateJson) {
      return send(res, { ...d.serverError(fault.status ?? 500, !!fault.html), ...(fault.headers ? { headers: fault.headers } : {}) }, {});
    }

    let route: Route | undefined;
    for (const r of d.routes) {
      if (r.method !== method) continue;
      const m = r.pattern.exec(parsed.pathname);
      if (m) {
        route = r;
        ctx.params = m.slice(1).map((s) => decodeURIComponent(s ?? ''));
        break;
      }
    }
    if (!route) return send(res, d.notFound(ctx), {});

    if (route.auth !== false) {
      const refused = d.authenticate(ctx);
      if (refused) return send(res, refused, {});
    }

    let rateHeaders: Record<string, string> = {};
    if (limit && route.rateLimited !== false) {
      const now = Date.now();
      const windowMs = limit.windowMs!;
      if (now - windowStart >= windowMs) {
        windowStart = now - ((now - windowStart) % windowMs);
        used = 0;
      }
      const resetSeconds = Math.max(1, Math.ceil((windowStart + windowMs - now) / 1000));
      const max = limit.limit!;
      if (used >= max) {
        throttled += 1;
        const every = limit.plainTextEvery!;
        const plainText = every > 0 && throttled % every === 0;
        const headers = d.rateLimitHeaders?.({ limit: max, remaining: 0, resetSeconds, limited: true }) ?? {
          'x-rate-limit': String(max),
          'x-rate-limit-remaining': '0',
          'ratelimit-limit': String(max),
          'ratelimit-remaining': '0',
          'ratelimit-reset': String(resetSeconds),
          'retry-after': String(resetSeconds),
        };
        return send(res, d.rateLimited(ctx, { retryAfter: resetSeconds, plainText }), headers);
      }
      used += 1;
      rateHeaders = d.rateLimitHeaders?.({ limit: max, remaining: max - used, resetSeconds, limited: false }) ?? {
        'x-rate-limit': String(max),
        'x-rate-limit-remaining': String(max - used),
        'ratelimit-limit': String(max),
        'ratelimit-remaining': String(max - used),
        'ratelimit-reset': String(resetSeconds),
      };
    }

    let reply: Reply;
    try {
      reply = route.handle(ctx);
    } catch (err) {
      reply = { status: 500, json: { error: 'FakeProviderBug', description: String(err) } };
    }

    if (fault?.truncateJson) {
      const { body, contentType } = encode(reply);
      const half = body.subarray(0, Math.max(1, Math.floor(body.length / 2)));
      if (fault.truncateJson === 'abort') {
        res.writeHead(reply.status, { ...rateHeaders, 'content-type': contentType, 'content-length': String(body.length) });
        res.write(half);
        setTimeout(() => res.destroy(), 10);
        return;
      }
      res.writeHead(reply.status, { ...rateHeaders, 'content-type': contentType, 'content-length': String(half.length) });
      return res.end(half);
    }
    send(res, reply, rateHeaders);
  };

  const files = http.createServer((req, res) => {
    req.resume();
    const parsed = new URL(req.url ?? '/', 'http://fake');
    attachmentRequests.push({
      method: (req.method ?? 'GET').toUpperCase(),
      path: parsed.pathname,
      query: queryObject(parsed.searchParams),
      headers: req.headers,
      at: Date.now(),
      hadAuthorization: req.headers.authorization !== undefined,
    });
    const m = /^\/attachment\/([^/]+)/.exec(parsed.pathname);
    const blob = m ? def!.getBlob(decodeURIComponent(m[1]!)) : undefined;
    if (!blob) return send(res, { status: 404, body: 'Not Found' }, {});
    send(res, { status: 200, body: blob.body, contentType: blob.contentType }, {});
  });

  url = await listen(main, host, options.port ?? 0);
  attachmentHostUrl = await listen(files, host, 0);
  def = typeof provider === 'function' ? provider({ url, attachmentHostUrl }) : provider;

  const closeServer = (s: http.Server) =>
    new Promise<void>((resolve) => {
      s.closeAllConnections();
      s.close(() => resolve());
    });

  return {
    url,
    attachmentHostUrl,
    requests,
    attachmentRequests,
    setFaults,
    pendingFaults: () => faults.filter((f) => f.remaining > 0).map(({ remaining, ...f }) => ({ ...f, times: remaining })),
    setRateLimit,
    rateLimitedCount: () => throttled,
    close: async () => {
      await Promise.all([closeServer(main), closeServer(files)]);
    },
  };
}
