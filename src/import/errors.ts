/**
 * The error handler's vocabulary: every failure of a provider request ends as one of these four,
 * and the engine acts on the class alone (reschedule, ask for re-authorisation, skip one record,
 * fail the run). Messages name the method, the path (never the query: it may carry secrets) and
 * the status, so a run's error tells its story without a debugger.
 */

export type RequestFacts = {
  method: string;
  /** The URL's path only; the query and any credentials are left out on purpose. */
  path: string;
  /** The HTTP status, or null when no response arrived (timeout, reset, refused URL). */
  status: number | null;
  /** What went wrong, in words: the provider's message, a network code, a refusal. */
  detail: string;
};

function describe(facts: RequestFacts): string {
  const outcome = facts.status === null ? 'failed' : `answered ${facts.status}`;
  return `${facts.method} ${facts.path} ${outcome}: ${facts.detail}`;
}

/** The common shape of the four classes below. */
export abstract class ProviderRequestError extends Error {
  readonly method: string;
  readonly path: string;
  readonly status: number | null;
  readonly detail: string;
  constructor(facts: RequestFacts, message = describe(facts)) {
    super(message);
    this.method = facts.method;
    this.path = facts.path;
    this.status = facts.status;
    this.detail = facts.detail;
  }
}

/** Transient (429, 5xx, timeout, reset, broken body): the job should run again at `retryAt`. */
export class RetryLaterError extends ProviderRequestError {
  override name = 'RetryLaterError';
  readonly retryAt: Date;
  constructor(facts: RequestFacts & { retryAt: Date }) {
    super(facts, `${describe(facts)} (retry at ${facts.retryAt.toISOString()})`);
    this.retryAt = facts.retryAt;
  }
}

/** Revoked or expired credentials, missing permission or plan: the connection needs re-authorisation. */
export class AuthError extends ProviderRequestError {
  override name = 'AuthError';
  /** The provider's own words, shown to the user as the reason to reconnect. */
  readonly providerMessage: string | undefined;
  constructor(facts: RequestFacts & { providerMessage?: string | undefined }) {
    super(facts);
    this.providerMessage = facts.providerMessage;
  }
}

/** One record cannot be fetched (404, 410, 422, a download over its size cap): skip it, keep going. */
export class RecordError extends ProviderRequestError {
  override name = 'RecordError';
  readonly reason: 'not_found' | 'unprocessable' | 'too_large' | 'refused';
  constructor(facts: RequestFacts & { reason: RecordError['reason'] }) {
    super(facts);
    this.reason = facts.reason;
  }
}

/** Anything else the provider refuses (other 4xx, a URL on another host, a broken redirect): the run fails. */
export class ProviderError extends ProviderRequestError {
  override name = 'ProviderError';
}

/** A stored cursor that does not fit its stream's schema (written by another release): the run fails with it. */
export class CursorError extends Error {
  override name = 'CursorError';
}

export type ErrorDisposition = 'retry_later' | 'needs_reauth' | 'record_error' | 'fail';

/** What the engine does with an error thrown by a stream. */
export function errorDisposition(err: unknown): ErrorDisposition {
  if (err instanceof RetryLaterError) return 'retry_later';
  if (err instanceof AuthError) return 'needs_reauth';
  if (err instanceof RecordError) return 'record_error';
  return 'fail';
}

// One coerceError for the whole service; the import's modules keep importing it from here.
export { coerceError } from '../coerce-error.ts';

const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

function joinDistinct(parts: Array<string | undefined>): string | undefined {
  const kept = [...new Set(parts.filter((p): p is string => p !== undefined))];
  return kept.length > 0 ? kept.join(': ') : undefined;
}

/**
 * The provider's message from an error body. Zendesk answers `{"error": "...", "description": "..."}`
 * where `error` is a string or `{title, message}`; the common `message`, `error_description` (OAuth)
 * and `[{message}]` shapes of other providers are understood too.
 */
export function providerMessage(body: unknown): string | undefined {
  if (Array.isArray(body)) return joinDistinct(body.map((item) => providerMessage(item)));
  if (typeof body !== 'object' || body === null) return text(body);
  const b = body as Record<string, unknown>;
  const error = b.error;
  const fromError =
    typeof error === 'object' && error !== null
      ? joinDistinct([text((error as Record<string, unknown>).title), text((error as Record<string, unknown>).message)])
      : text(error);
  return joinDistinct([fromError, text(b.description), text(b.error_description), text(b.message)]);
}
