import type { ErrorResponse, ErrorVerdict } from '../../src/import/adapter.ts';
import { AuthError, ProviderRequestError } from '../../src/import/errors.ts';
import { errorBodySchema } from './schemas.ts';

/**
 * Salesforce's error answers, read before the engine's defaults. Its bodies are
 * `[{ message, errorCode, fields }]`; every message keeps the errorCode in parentheses, which is
 * also how the stream recognises an expired query locator. A 401 (INVALID_SESSION_ID) stays with
 * the engine: it refreshes the session once and tries again.
 */

/** Salesforce's words: each error's message with its code, e.g. `Session expired or invalid (INVALID_SESSION_ID)`. */
export function salesforceMessage(body: unknown): { message: string; codes: string[] } | undefined {
  const parsed = errorBodySchema.safeParse(body);
  if (!parsed.success || parsed.data.length === 0) return undefined;
  const codes = parsed.data.map((e) => e.errorCode ?? '').filter((c) => c !== '');
  const message = parsed.data
    .map((e) => {
      const words = (e.message ?? '').replace(/\s+/g, ' ').trim() || 'Salesforce gave no message';
      const fields = e.fields?.length ? ` [${e.fields.join(', ')}]` : '';
      return `${words}${fields}${e.errorCode ? ` (${e.errorCode})` : ''}`;
    })
    .join('; ');
  return { message, codes };
}

/** Only the org's admin can fix these: a disabled API, a user without access, a feature the org lacks. */
const NEEDS_ATTENTION = new Set(['API_DISABLED_FOR_ORG', 'API_CURRENTLY_DISABLED', 'INSUFFICIENT_ACCESS', 'INSUFFICIENT_ACCESS_OR_READONLY', 'FUNCTIONALITY_NOT_ENABLED', 'ORG_LOCKED', 'ORG_SUSPENDED']);

/** A query's own mistakes (a field the org hides from this user, a refused literal): the run fails with Salesforce's words. */
const QUERY_REFUSED = new Set(['INVALID_FIELD', 'MALFORMED_QUERY', 'INVALID_TYPE', 'INVALID_QUERY_FILTER_OPERATOR']);

const LIMITS_PATH = /^\/services\/data\/v\d+\.\d\/limits\/?$/;

export function classifySalesforceError(r: ErrorResponse, options: { allocationPauseMs: number }): ErrorVerdict | undefined {
  const said = salesforceMessage(r.body);
  const message = said?.message ?? r.message;
  const code = said?.codes[0];
  if (code === 'REQUEST_LIMIT_EXCEEDED') {
    // TotalRequests: the org's daily allocation is spent; wait for it (never re-authorise). Other
    // REQUEST_LIMIT_EXCEEDED answers (too many long requests at once) pass in seconds.
    return /TotalRequests/i.test(message ?? '') ? { class: 'retry_later', waitMs: options.allocationPauseMs, message } : { class: 'retry_later', message };
  }
  // The limits resource needs "View Setup and Configuration": without it the run relies on the header alone.
  if (LIMITS_PATH.test(r.path) && (r.status === 404 || (r.status === 403 && (code === undefined || code.startsWith('INSUFFICIENT_ACCESS'))))) {
    return { class: 'record_error', reason: 'refused', message };
  }
  if (code && NEEDS_ATTENTION.has(code)) return { class: 'needs_reauth', message: message! };
  if (code === 'INVALID_QUERY_LOCATOR' || (code && QUERY_REFUSED.has(code))) return { class: 'fail', message };
  // Salesforce answers a query that ran too long (QUERY_TIMEOUT) and a busy org (SERVER_UNAVAILABLE) in words worth another try.
  if (code === 'QUERY_TIMEOUT' || code === 'SERVER_UNAVAILABLE') return { class: 'retry_later', message };
  if (r.status === 403 && message) return { class: 'needs_reauth', message };
  // An API version the org does not have, or a resource that does not exist: nothing a retry changes.
  if (r.status === 404) return { class: 'fail', message };
  return undefined;
}

/** An error that says the query locator (nextRecordsUrl) can no longer be followed. */
export function isExpiredLocator(err: unknown): boolean {
  if (!(err instanceof ProviderRequestError)) return false;
  if (err.detail.includes('(INVALID_QUERY_LOCATOR)')) return true;
  if (err.status === 404 && /\/query\/[^/]+$/.test(err.path)) return true;
  // A locator belongs to the session that opened it: after a refresh Salesforce may refuse it as
  // INVALID_SESSION_ID although the new session works (the engine has already refreshed once).
  return err instanceof AuthError && err.status === 401;
}
