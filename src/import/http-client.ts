import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import axios, { type AxiosResponse } from 'axios';
import { clip } from '../domain/text.ts';
import { isPublicAddress, publicOnlyLookup } from '../net/address-guard.ts';
import type { Authenticator, ErrorResponse, ErrorVerdict, TokenEndpoint } from './adapter.ts';
import { createAuthSession } from './auth-session.ts';
import { AuthError, coerceError, ProviderError, providerMessage, RecordError, RetryLaterError, type RequestFacts } from './errors.ts';
import { parseIetfRateLimitHeaders, RateBudget, type RateLimitPolicy, type RateLimitSnapshot, type ResponseHeaders } from './rate-limiter.ts';

/**
 * The requester every adapter shares: base URL, the authentication lifecycle, rate budget,
 * retries, read-only enforcement and error handling. Adapters describe paths, paginators and
 * record selectors; this file knows no provider.
 */

export type ProviderClientOptions = {
  baseUrl: string;
  auth: Authenticator;
  /** Rotated credentials from a refresh: the engine seals and saves them. */
  onCredentials?: ((credentials: unknown) => Promise<void>) | undefined;
  /** POST paths that only read; any other POST, PUT, PATCH or DELETE is refused. */
  readOnlyPosts?: readonly RegExp[] | undefined;
  /** The adapter's reading of an error response, before the defaults. */
  classifyError?: ((response: ErrorResponse) => ErrorVerdict | undefined) | undefined;
  /** The whole of one attempt: connect, headers and body (redirects included). */
  timeoutMs: number;
  userAgent: string;
  /** Reads the provider's budget headers; the IETF `RateLimit-*` headers when left out. */
  rateLimit?: RateLimitPolicy | undefined;
  /** Attempts after the first one before a transient failure becomes a RetryLaterError. */
  maxRetries: number;
  /** The longest single wait held inline; anything longer is a RetryLaterError carrying `retryAt`. */
  maxInlineWaitMs: number;
  /** Full-jitter backoff: a random wait up to min(max, base * 2^(retry - 1)). */
  backoffBaseMs?: number | undefined;
  backoffMaxMs?: number | undefined;
  maxRedirects?: number | undefined;
  /** The size cap of JSON responses when a call names none. */
  defaultMaxBytes?: number | undefined;
  /**
   * Connect to loopback and private addresses (the fake provider, a local sandbox). Off, every
   * connection is checked at connect time, redirects and re-resolved names included: no
   * provider response can steer a request into the internal network.
   */
  allowPrivateAddresses?: boolean | undefined;
};

type ParamValue = string | number | boolean | null | undefined;
export type QueryParams = Readonly<Record<string, ParamValue | readonly ParamValue[]>>;

export type GetOptions = {
  params?: QueryParams | undefined;
  /** Extra request headers (never Authorization: the grant sets it). */
  headers?: Readonly<Record<string, string>> | undefined;
  responseType?: 'json' | 'arraybuffer' | undefined;
  /** The response body's size cap (decompressed bytes). */
  maxBytes?: number | undefined;
  /** Cancels the call (a worker shutting down); waits and the request in flight end at once. */
  signal?: AbortSignal | undefined;
  /**
   * Not counted against the API budget (file downloads, which providers serve from elsewhere):
   * it neither waits for a permit nor spends one. A 429 it meets still pauses the connection.
   */
  unmetered?: boolean | undefined;
};

const UNMETERED = { permit: { release: () => undefined } };

export type ProviderResponse<T> = {
  status: number;
  /** Lower-case names (`link` for a Link paginator, `content-type` for a download). */
  headers: ResponseHeaders;
  data: T;
  /** The URL that answered, after redirects. */
  url: string;
};

export type RequestMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export type ProviderClient = {
  /** The base URL requests go to now (a grant may move it, as Salesforce's instance_url does). */
  readonly baseUrl: string;
  /** JSON is `unknown` until an assertion proves its shape; name `T` only once one has. */
  get<T = unknown>(pathOrUrl: string, options?: GetOptions & { responseType?: 'json' | undefined }): Promise<ProviderResponse<T>>;
  get(pathOrUrl: string, options: GetOptions & { responseType: 'arraybuffer' }): Promise<ProviderResponse<Buffer>>;
  /** A POST the adapter declared a read (a search, a batch read), with a JSON body. */
  post<T = unknown>(pathOrUrl: string, body: unknown, options?: Omit<GetOptions, 'responseType'>): Promise<ProviderResponse<T>>;
  /** Any method: PUT, PATCH, DELETE and undeclared POSTs are refused, so an import stays read-only. */
  request<T = unknown>(method: RequestMethod, pathOrUrl: string, options?: Omit<GetOptions, 'responseType'> & { body?: unknown }): Promise<ProviderResponse<T>>;
  /** The token endpoint through the same guards, for an authenticator's refresh. */
  readonly tokens: TokenEndpoint;
  /** Closes idle keep-alive sockets. */
  close(): void;
};

const DEFAULT_BACKOFF_BASE_MS = 1_000;
const DEFAULT_BACKOFF_MAX_MS = 60_000;
const DEFAULT_MAX_REDIRECTS = 5;
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** 501 and 505 say the provider will never do it; the other 5xx are worth another try. */
const PERMANENT_5XX = new Set([501, 505]);

/** A failure worth another attempt; `waitMs` is what the provider asked for, if it did. */
type Transient = { transient: true; status: number | null; detail: string; waitMs?: number | undefined };
/** A 401 from the provider itself: refresh the grant once and try again, else re-authorise. */
type Unauthorized = { unauthorized: AuthError };
/** How long a token endpoint's 429 or outage parks the run when it names no time. */
const TOKEN_RETRY_MS = 60_000;

export function createProviderClient(options: ProviderClientOptions): ProviderClient {
  const configuredBase = parseBaseUrl(options.baseUrl);
  const budget = new RateBudget({ reserve: options.rateLimit?.reserve });
  const parseHeaders = options.rateLimit?.parseHeaders ?? parseIetfRateLimitHeaders;
  const lookup = publicOnlyLookup(options.allowPrivateAddresses ?? false);
  const httpAgent = new http.Agent({ keepAlive: true, lookup });
  const httpsAgent = new https.Agent({ keepAlive: true, lookup });
  const backoffBase = options.backoffBaseMs ?? DEFAULT_BACKOFF_BASE_MS;
  const backoffMax = options.backoffMaxMs ?? DEFAULT_BACKOFF_MAX_MS;
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const allowPrivate = options.allowPrivateAddresses ?? false;
  const tokens: TokenEndpoint = { postForm };
  const auth = createAuthSession(options.auth, tokens, options.onCredentials);
  // The base the latest grant named, else the configured one.
  let base = configuredBase;

  const backoff = (retry: number) => Math.random() * Math.min(backoffMax, backoffBase * 2 ** (retry - 1));

  /** Literal addresses never reach the agent's lookup: they are checked here. */
  function refusePrivateLiteral(url: URL, facts: Pick<RequestFacts, 'method' | 'path'>): void {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (!allowPrivate && net.isIP(host) !== 0 && !isPublicAddress(host)) {
      throw new RecordError({ ...facts, status: null, detail: `refused a non-public address (${host})`, reason: 'refused' });
    }
  }

  /**
   * A provider's next-page URL is followed only on the configured origin, so no response can steer
   * an authenticated request to another host.
   */
  function resolve(method: string, pathOrUrl: string, params: QueryParams | undefined): URL {
    const absolute = /^[a-z][a-z0-9+.-]*:/i.test(pathOrUrl) || pathOrUrl.startsWith('//');
    const joined = absolute ? pathOrUrl : `${base.href.replace(/\/+$/, '')}/${pathOrUrl.replace(/^[/\\]+/, '')}`;
    const url = URL.parse(joined, base.href);
    if (!url) throw new ProviderError({ method, path: '(unparsable URL)', status: null, detail: 'refused a URL that does not parse' });
    if (url.origin !== base.origin || url.username || url.password) {
      throw new ProviderError({ method, path: url.pathname, status: null, detail: `refused a URL on another host (${url.host}); only ${base.host} is allowed` });
    }
    url.hash = '';
    for (const [key, value] of Object.entries(params ?? {})) {
      const values = Array.isArray(value) ? (value as readonly ParamValue[]) : [value as ParamValue];
      url.searchParams.delete(key);
      for (const v of values) if (v !== undefined && v !== null) url.searchParams.append(key, String(v));
    }
    return url;
  }

  /** The import only reads: declared read POSTs pass, every other write is refused before it leaves. */
  function refuseWrites(method: RequestMethod, url: URL): void {
    if (method === 'GET') return;
    if (method === 'POST' && (options.readOnlyPosts ?? []).some((re) => re.test(url.pathname))) return;
    throw new ProviderError({ method, path: url.pathname, status: null, detail: `refused: an import never writes to the provider (${method} ${url.pathname} is not a declared read)` });
  }

  async function request(method: RequestMethod, pathOrUrl: string, requestOptions: GetOptions & { body?: unknown } = {}): Promise<ProviderResponse<unknown>> {
    const { signal } = requestOptions;
    // The grant first: it may move the base URL this request resolves against.
    let grant = await auth.current(signal);
    if (grant.baseUrl) base = parseBaseUrl(grant.baseUrl);
    const url = resolve(method, pathOrUrl, requestOptions.params);
    refuseWrites(method, url);
    const facts = { method, path: url.pathname };
    let refreshed = false;
    for (let retry = 0; ; ) {
      const acquired = requestOptions.unmetered ? UNMETERED : await budget.acquire(options.maxInlineWaitMs, signal);
      if ('retryAt' in acquired) {
        throw new RetryLaterError({ ...facts, status: null, detail: 'the rate budget is spent', retryAt: new Date(acquired.retryAt) });
      }
      const outcome = await attempt(method, url, grant.headers, requestOptions, acquired.permit.release);
      if ('unauthorized' in outcome) {
        // Once per request: a 401 that survives a fresh grant means the credentials are gone.
        if (!auth.canRefresh || refreshed) throw outcome.unauthorized;
        refreshed = true;
        grant = await auth.refresh(signal);
        if (grant.baseUrl) base = parseBaseUrl(grant.baseUrl);
        continue;
      }
      if (!('transient' in outcome)) return outcome;
      retry += 1;
      const waitMs = outcome.waitMs ?? backoff(retry);
      if (outcome.waitMs !== undefined) budget.pause(Date.now() + waitMs);
      if (retry > options.maxRetries || waitMs > options.maxInlineWaitMs) {
        throw new RetryLaterError({ ...facts, status: outcome.status, detail: outcome.detail, retryAt: new Date(Date.now() + waitMs) });
      }
      await sleep(waitMs, undefined, { signal });
      grant = await auth.current(signal);
    }
  }

  /** One attempt, redirects included; answers a response, a transient failure, a 401 to refresh on, or throws a final error. */
  async function attempt(
    method: RequestMethod,
    url: URL,
    authHeaders: Readonly<Record<string, string>>,
    requestOptions: GetOptions & { body?: unknown },
    release: (s?: RateLimitSnapshot) => void,
  ): Promise<ProviderResponse<unknown> | Transient | Unauthorized> {
    const json = requestOptions.responseType !== 'arraybuffer';
    const maxBytes = requestOptions.maxBytes ?? options.defaultMaxBytes ?? DEFAULT_MAX_BYTES;
    const facts = { method, path: url.pathname };
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), options.timeoutMs);
    const signal = requestOptions.signal ? AbortSignal.any([deadline.signal, requestOptions.signal]) : deadline.signal;
    let snapshot: RateLimitSnapshot | undefined;
    try {
      let current = url;
      // Credentials go to the provider's origin only; once a redirect leaves it they never come back.
      let trusted = true;
      for (let hops = 0; ; hops++) {
        refusePrivateLiteral(current, facts);
        let res: AxiosResponse<Buffer>;
        try {
          res = await axios.request<Buffer>({
            method,
            url: current.href,
            headers: {
              Accept: json ? 'application/json' : '*/*',
              'User-Agent': options.userAgent,
              ...requestOptions.headers,
              ...(requestOptions.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
              ...(trusted ? authHeaders : {}),
            },
            ...(requestOptions.body !== undefined ? { data: JSON.stringify(requestOptions.body) } : {}),
            timeout: options.timeoutMs,
            signal,
            maxRedirects: 0,
            validateStatus: () => true,
            responseType: 'arraybuffer',
            transformResponse: [(data: unknown) => data],
            maxContentLength: maxBytes,
            decompress: true,
            proxy: false,
            httpAgent,
            httpsAgent,
          });
        } catch (caught) {
          if (requestOptions.signal?.aborted) throw coerceError(requestOptions.signal.reason);
          return networkFailure(caught, facts, { timedOut: deadline.signal.aborted, json, maxBytes, timeoutMs: options.timeoutMs });
        }
        const headers = flatHeaders(res.headers);
        if (trusted) snapshot = parseHeaders(headers);
        if (REDIRECTS.has(res.status)) {
          const next = headers.location ? new URL(headers.location, current) : undefined;
          if (method !== 'GET') throw new ProviderError({ ...facts, status: res.status, detail: `a ${method} was redirected (${next?.host ?? 'nowhere'}); not followed` });
          if (!next || (next.protocol !== 'https:' && next.protocol !== 'http:')) {
            throw new ProviderError({ ...facts, status: res.status, detail: `redirect to an unusable location (${next?.protocol ?? 'none'})` });
          }
          if (current.protocol === 'https:' && next.protocol === 'http:') {
            throw new RecordError({ ...facts, status: res.status, detail: `refused a redirect from https to http (${next.host})`, reason: 'refused' });
          }
          if (hops + 1 > maxRedirects) throw new ProviderError({ ...facts, status: res.status, detail: `more than ${maxRedirects} redirects` });
          trusted = trusted && next.origin === base.origin;
          current = next;
          continue;
        }
        return classify(res.status, headers, res.data, { ...facts, json, trusted, url: current.href, snapshot, classifyError: options.classifyError });
      }
    } finally {
      clearTimeout(timer);
      release(snapshot);
    }
  }

  async function postForm(target: string, form: Readonly<Record<string, string>>, formOptions: { headers?: Readonly<Record<string, string>>; signal?: AbortSignal | undefined } = {}): Promise<unknown> {
    const url = URL.parse(target);
    const facts = { method: 'POST', path: url?.pathname ?? '(unparsable URL)' };
    if (!url || (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:'))) {
      throw new ProviderError({ ...facts, status: null, detail: 'a token endpoint must be an https URL' });
    }
    refusePrivateLiteral(url, facts);
    let res: AxiosResponse<Buffer>;
    try {
      res = await axios.request<Buffer>({
        method: 'POST',
        url: url.href,
        headers: { Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded', 'User-Agent': options.userAgent, ...formOptions.headers },
        data: new URLSearchParams(form).toString(),
        timeout: options.timeoutMs,
        signal: formOptions.signal,
        maxRedirects: 0,
        validateStatus: () => true,
        responseType: 'arraybuffer',
        transformResponse: [(data: unknown) => data],
        maxContentLength: 1024 * 1024,
        proxy: false,
        httpAgent,
        httpsAgent,
      });
    } catch (caught) {
      if (formOptions.signal?.aborted) throw coerceError(formOptions.signal.reason);
      const failure = networkFailure(caught, facts, { timedOut: false, json: true, maxBytes: 1024 * 1024, timeoutMs: options.timeoutMs });
      throw new RetryLaterError({ ...facts, status: null, detail: failure.detail, retryAt: new Date(Date.now() + TOKEN_RETRY_MS) });
    }
    const headers = flatHeaders(res.headers);
    const said = bodyMessage(res.data, headers['content-type']);
    if (res.status >= 200 && res.status < 300) {
      try {
        return JSON.parse(res.data.toString('utf8')) as unknown;
      } catch {
        throw new RetryLaterError({ ...facts, status: res.status, detail: 'the token endpoint answered no JSON', retryAt: new Date(Date.now() + TOKEN_RETRY_MS) });
      }
    }
    if (res.status === 400 || res.status === 401 || res.status === 403) {
      throw new AuthError({ ...facts, status: res.status, detail: said ?? `HTTP ${res.status}`, providerMessage: said });
    }
    if (res.status === 429 || res.status >= 500) {
      const waitMs = parseRetryAfter(headers['retry-after']) ?? TOKEN_RETRY_MS;
      throw new RetryLaterError({ ...facts, status: res.status, detail: said ?? `HTTP ${res.status}`, retryAt: new Date(Date.now() + waitMs) });
    }
    throw new ProviderError({ ...facts, status: res.status, detail: said ?? `HTTP ${res.status}` });
  }

  return {
    get baseUrl() {
      return base.href;
    },
    get: ((pathOrUrl: string, getOptions?: GetOptions) => request('GET', pathOrUrl, getOptions)) as ProviderClient['get'],
    post: ((pathOrUrl: string, body: unknown, postOptions?: GetOptions) => request('POST', pathOrUrl, { ...postOptions, body })) as ProviderClient['post'],
    request: ((method: RequestMethod, pathOrUrl: string, requestOptions?: GetOptions & { body?: unknown }) => request(method, pathOrUrl, requestOptions)) as ProviderClient['request'],
    tokens,
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

function parseBaseUrl(baseUrl: string): URL {
  const base = new URL(baseUrl);
  if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new TypeError(`baseUrl must be http(s), not ${base.protocol}`);
  if (base.username || base.password || base.search || base.hash) throw new TypeError('baseUrl must carry no credentials, query or fragment');
  return base;
}

type ClassifyContext = {
  method: string;
  path: string;
  json: boolean;
  trusted: boolean;
  url: string;
  snapshot: RateLimitSnapshot | undefined;
  classifyError?: ((response: ErrorResponse) => ErrorVerdict | undefined) | undefined;
};

/** The error handler: which statuses retry, which stop the connection, which skip one record. */
function classify(status: number, headers: ResponseHeaders, body: Buffer, ctx: ClassifyContext): ProviderResponse<unknown> | Transient | Unauthorized {
  const facts = { method: ctx.method, path: ctx.path, status };
  if (status >= 200 && status < 300) {
    if (!ctx.json) return { status, headers, data: body, url: ctx.url };
    if (status === 204 || body.length === 0) {
      return status === 204 ? { status, headers, data: null, url: ctx.url } : { transient: true, status, detail: 'empty body where JSON was expected' };
    }
    try {
      return { status, headers, data: JSON.parse(body.toString('utf8')) as unknown, url: ctx.url };
    } catch {
      return { transient: true, status, detail: `invalid or truncated JSON body (${body.length} bytes)` };
    }
  }
  const said = bodyMessage(body, headers['content-type']);
  const detail = said ?? `HTTP ${status}`;
  // A host we were redirected to (signed download URLs) knows nothing of the connection's credentials.
  if (!ctx.trusted && status >= 400 && status < 500 && status !== 429 && status !== 408) throw new RecordError({ ...facts, detail, reason: 'refused' });
  if (ctx.trusted && status === 401) return { unauthorized: new AuthError({ ...facts, detail, providerMessage: said }) };
  const verdict = ctx.trusted ? ctx.classifyError?.({ method: ctx.method, path: ctx.path, status, headers, body: parsedBody(body), message: said }) : undefined;
  if (verdict) return applyVerdict(verdict, facts, detail);
  if (status === 429 || status === 408 || (status >= 500 && !PERMANENT_5XX.has(status))) {
    const retryAfter = parseRetryAfter(headers['retry-after']);
    const resetMs = status === 429 ? ctx.snapshot?.resetMs : undefined;
    return { transient: true, status, detail, waitMs: retryAfter ?? resetMs };
  }
  if (status === 402 || status === 403) throw new AuthError({ ...facts, detail, providerMessage: said });
  if (status === 404 || status === 410) throw new RecordError({ ...facts, detail, reason: 'not_found' });
  if (status === 422) throw new RecordError({ ...facts, detail, reason: 'unprocessable' });
  throw new ProviderError({ ...facts, detail });
}

function applyVerdict(verdict: ErrorVerdict, facts: Omit<RequestFacts, 'detail'>, detail: string): Transient {
  const message = verdict.message ?? detail;
  switch (verdict.class) {
    case 'retry_later':
      return { transient: true, status: facts.status, detail: message, waitMs: verdict.waitMs };
    case 'needs_reauth':
      throw new AuthError({ ...facts, detail: message, providerMessage: verdict.message });
    case 'record_error':
      throw new RecordError({ ...facts, detail: message, reason: verdict.reason ?? 'unprocessable' });
    case 'fail':
      throw new ProviderError({ ...facts, detail: message });
  }
}

/** An error body for an adapter's classifier: JSON when it parses, else its text. */
function parsedBody(body: Buffer): unknown {
  const text = body.subarray(0, 256 * 1024).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function networkFailure(
  caught: unknown,
  facts: Pick<RequestFacts, 'method' | 'path'>,
  how: { timedOut: boolean; json: boolean; maxBytes: number; timeoutMs: number },
): Transient {
  const err = coerceError(caught);
  const code = (err as { code?: unknown }).code;
  if (/maxContentLength size of \d+ exceeded/.test(err.message)) {
    // Never retried: the same response will be as large next time.
    const tooLarge = { ...facts, status: null, detail: `the response is larger than ${how.maxBytes} bytes` };
    throw how.json ? new ProviderError(tooLarge) : new RecordError({ ...tooLarge, reason: 'too_large' });
  }
  if (code === 'EADDRNOTPUBLIC') {
    // The name resolved only to private addresses: asking again will not change that.
    const refused = { ...facts, status: null, detail: err.message };
    throw how.json ? new ProviderError(refused) : new RecordError({ ...refused, reason: 'refused' });
  }
  if (how.timedOut || code === 'ECONNABORTED' || code === 'ETIMEDOUT') {
    return { transient: true, status: null, detail: `timed out after ${how.timeoutMs} ms` };
  }
  // Resets, refusals, hang-ups, bodies cut short. The axios error itself is not kept: its config holds the Authorization header.
  return { transient: true, status: null, detail: `network error: ${typeof code === 'string' ? `${code} ` : ''}${err.message}`.trim() };
}

function flatHeaders(raw: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const entries = raw && typeof (raw as { toJSON?: unknown }).toJSON === 'function' ? (raw as { toJSON(): object }).toJSON() : (raw ?? {});
  for (const [name, value] of Object.entries(entries as Record<string, unknown>)) {
    if (value === undefined || value === null) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}

const MAX_MESSAGE_CHARS = 300;

/** A readable message from an error body, whatever it is: JSON, plain text or an HTML error page. */
export function bodyMessage(body: Buffer, contentType: string | undefined): string | undefined {
  const raw = body.subarray(0, 64 * 1024).toString('utf8').trim();
  if (raw === '') return undefined;
  let message: string | undefined;
  if (/json/i.test(contentType ?? '') || /^[[{]/.test(raw)) {
    try {
      message = providerMessage(JSON.parse(raw));
    } catch {
      // Not JSON after all (or cut short): fall through to the text.
    }
  }
  if (message === undefined && (/html/i.test(contentType ?? '') || /^<(?:!doctype|html)/i.test(raw))) {
    const title = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(raw)?.[1];
    message = (title ?? raw.replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]*>/g, ' ')).replace(/&nbsp;/g, ' ');
  }
  message = (message ?? raw).replace(/\s+/g, ' ').trim();
  if (message === '') return undefined;
  return message.length > MAX_MESSAGE_CHARS ? `${clip(message, MAX_MESSAGE_CHARS)}…` : message;
}

/** Retry-After as milliseconds from now: delay-seconds or an HTTP-date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+(?:\.\d+)?$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
