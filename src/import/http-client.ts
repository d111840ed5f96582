import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import axios, { type AxiosResponse } from 'axios';
import { clip } from '../domain/text.ts';
import { isPublicAddress, publicOnlyLookup } from '../net/address-guard.ts';
import { AuthError, coerceError, ProviderError, providerMessage, RecordError, RetryLaterError, type RequestFacts } from './errors.ts';
import { parseIetfRateLimitHeaders, RateBudget, type RateLimitPolicy, type RateLimitSnapshot, type ResponseHeaders } from './rate-limiter.ts';

/**
 * The requester every adapter shares: base URL, auth, rate budget, retries and error handling.
 * Adapters describe paths, paginators and record selectors; this file knows no provider.
 */

export type ProviderAuth = { type: 'basic'; username: string; password: string } | { type: 'bearer'; token: string };

export type ProviderClientOptions = {
  baseUrl: string;
  auth: ProviderAuth;
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

export type ProviderClient = {
  readonly baseUrl: string;
  /** JSON is `unknown` until an assertion proves its shape; name `T` only once one has. */
  get<T = unknown>(pathOrUrl: string, options?: GetOptions & { responseType?: 'json' | undefined }): Promise<ProviderResponse<T>>;
  get(pathOrUrl: string, options: GetOptions & { responseType: 'arraybuffer' }): Promise<ProviderResponse<Buffer>>;
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

export function createProviderClient(options: ProviderClientOptions): ProviderClient {
  const base = parseBaseUrl(options.baseUrl);
  const budget = new RateBudget({ reserve: options.rateLimit?.reserve });
  const parseHeaders = options.rateLimit?.parseHeaders ?? parseIetfRateLimitHeaders;
  const authorization =
    options.auth.type === 'basic'
      ? `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`
      : `Bearer ${options.auth.token}`;
  const lookup = publicOnlyLookup(options.allowPrivateAddresses ?? false);
  const httpAgent = new http.Agent({ keepAlive: true, lookup });
  const httpsAgent = new https.Agent({ keepAlive: true, lookup });
  const backoffBase = options.backoffBaseMs ?? DEFAULT_BACKOFF_BASE_MS;
  const backoffMax = options.backoffMaxMs ?? DEFAULT_BACKOFF_MAX_MS;
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;

  const backoff = (retry: number) => Math.random() * Math.min(backoffMax, backoffBase * 2 ** (retry - 1));

  /**
   * A provider's next-page URL is followed only on the configured origin, so no response can steer
   * an authenticated request to another host.
   */
  function resolve(pathOrUrl: string, params: QueryParams | undefined): URL {
    const absolute = /^[a-z][a-z0-9+.-]*:/i.test(pathOrUrl) || pathOrUrl.startsWith('//');
    const joined = absolute ? pathOrUrl : `${base.href.replace(/\/+$/, '')}/${pathOrUrl.replace(/^[/\\]+/, '')}`;
    const url = URL.parse(joined, base.href);
    if (!url) throw new ProviderError({ method: 'GET', path: '(unparsable URL)', status: null, detail: 'refused a URL that does not parse' });
    if (url.origin !== base.origin || url.username || url.password) {
      throw new ProviderError({ method: 'GET', path: url.pathname, status: null, detail: `refused a URL on another host (${url.host}); only ${base.host} is allowed` });
    }
    url.hash = '';
    for (const [key, value] of Object.entries(params ?? {})) {
      const values = Array.isArray(value) ? (value as readonly ParamValue[]) : [value as ParamValue];
      url.searchParams.delete(key);
      for (const v of values) if (v !== undefined && v !== null) url.searchParams.append(key, String(v));
    }
    return url;
  }

  async function get(pathOrUrl: string, getOptions: GetOptions = {}): Promise<ProviderResponse<unknown>> {
    const url = resolve(pathOrUrl, getOptions.params);
    const facts = { method: 'GET', path: url.pathname };
    const { signal } = getOptions;
    for (let retry = 0; ; retry++) {
      const acquired = getOptions.unmetered ? UNMETERED : await budget.acquire(options.maxInlineWaitMs, signal);
      if ('retryAt' in acquired) {
        throw new RetryLaterError({ ...facts, status: null, detail: 'the rate budget is spent', retryAt: new Date(acquired.retryAt) });
      }
      const outcome = await attempt(url, getOptions, acquired.permit.release);
      if (!('transient' in outcome)) return outcome;
      const waitMs = outcome.waitMs ?? backoff(retry + 1);
      if (outcome.waitMs !== undefined) budget.pause(Date.now() + waitMs);
      if (retry >= options.maxRetries || waitMs > options.maxInlineWaitMs) {
        throw new RetryLaterError({ ...facts, status: outcome.status, detail: outcome.detail, retryAt: new Date(Date.now() + waitMs) });
      }
      await sleep(waitMs, undefined, { signal });
    }
  }

  /** One attempt, redirects included; answers a response, a transient failure, or throws a final error. */
  async function attempt(url: URL, getOptions: GetOptions, release: (s?: RateLimitSnapshot) => void): Promise<ProviderResponse<unknown> | Transient> {
    const json = getOptions.responseType !== 'arraybuffer';
    const maxBytes = getOptions.maxBytes ?? options.defaultMaxBytes ?? DEFAULT_MAX_BYTES;
    const facts = { method: 'GET', path: url.pathname };
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), options.timeoutMs);
    const signal = getOptions.signal ? AbortSignal.any([deadline.signal, getOptions.signal]) : deadline.signal;
    let snapshot: RateLimitSnapshot | undefined;
    try {
      let current = url;
      // Credentials go to the configured origin only; once a redirect leaves it they never come back.
      let trusted = true;
      for (let hops = 0; ; hops++) {
        // Literal addresses never reach the agent's lookup: they are checked here.
        const host = current.hostname.replace(/^\[|\]$/g, '');
        if (!options.allowPrivateAddresses && net.isIP(host) !== 0 && !isPublicAddress(host)) {
          throw new RecordError({ ...facts, status: null, detail: `refused a non-public address (${host})`, reason: 'refused' });
        }
        let res: AxiosResponse<Buffer>;
        try {
          res = await axios.request<Buffer>({
            method: 'GET',
            url: current.href,
            headers: {
              Accept: json ? 'application/json' : '*/*',
              'User-Agent': options.userAgent,
              ...(trusted ? { Authorization: authorization } : {}),
            },
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
          if (getOptions.signal?.aborted) throw coerceError(getOptions.signal.reason);
          return networkFailure(caught, facts, { timedOut: deadline.signal.aborted, json, maxBytes, timeoutMs: options.timeoutMs });
        }
        const headers = flatHeaders(res.headers);
        if (trusted) snapshot = parseHeaders(headers);
        if (REDIRECTS.has(res.status)) {
          const next = headers.location ? new URL(headers.location, current) : undefined;
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
        return classify(res.status, headers, res.data, { ...facts, json, trusted, url: current.href, snapshot });
      }
    } finally {
      clearTimeout(timer);
      release(snapshot);
    }
  }

  return {
    baseUrl: base.href,
    get: get as ProviderClient['get'],
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

type ClassifyContext = { method: string; path: string; json: boolean; trusted: boolean; url: string; snapshot: RateLimitSnapshot | undefined };

/** The error handler: which statuses retry, which stop the connection, which skip one record. */
function classify(status: number, headers: ResponseHeaders, body: Buffer, ctx: ClassifyContext): ProviderResponse<unknown> | Transient {
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
  if (status === 429 || status === 408 || (status >= 500 && !PERMANENT_5XX.has(status))) {
    const retryAfter = parseRetryAfter(headers['retry-after']);
    const resetMs = status === 429 ? ctx.snapshot?.resetMs : undefined;
    return { transient: true, status, detail, waitMs: retryAfter ?? resetMs };
  }
  // A host we were redirected to (signed download URLs) knows nothing of the connection's credentials.
  if (!ctx.trusted && status >= 400 && status < 500) throw new RecordError({ ...facts, detail, reason: 'refused' });
  if (status === 401 || status === 402 || status === 403) throw new AuthError({ ...facts, detail, providerMessage: said });
  if (status === 404 || status === 410) throw new RecordError({ ...facts, detail, reason: 'not_found' });
  if (status === 422) throw new RecordError({ ...facts, detail, reason: 'unprocessable' });
  throw new ProviderError({ ...facts, detail });
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
