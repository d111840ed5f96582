import type { ErrorResponse, ErrorVerdict } from '../../src/import/adapter.ts';
import { errorBodySchema } from './schemas.ts';

/**
 * Help Scout's error answers, read before the engine's defaults. Its bodies are HAL:
 * `{ logRef, message, _embedded: { errors: [{ path, message, rejectedValue }] } }`; the logRef is
 * what its support team asks for, so every message keeps it. A 401 is OAuth's
 * `{ error, error_description }` and stays with the engine (refresh once, then re-authorise).
 */

/** Help Scout's words from an error body: the message, each field's message, and the logRef. */
export function halMessage(body: unknown): string | undefined {
  const parsed = errorBodySchema.safeParse(body);
  if (!parsed.success) return undefined;
  const { logRef, message, _embedded } = parsed.data;
  const fields = (_embedded?.errors ?? []).flatMap((e) => {
    if (!e.message) return [];
    const rejected = e.rejectedValue === undefined || e.rejectedValue === null ? '' : ` (rejected: ${JSON.stringify(e.rejectedValue)})`;
    return [`${e.path ? `${e.path}: ` : ''}${e.message}${rejected}`];
  });
  const words = [message?.trim(), ...fields].filter((s): s is string => !!s).join('; ');
  if (!words && !logRef) return undefined;
  return `${words || 'Help Scout gave no message'}${logRef ? ` (logRef ${logRef})` : ''}`;
}

/** Sub-resources of one record: their 400s and 404s cost that record, not the run. */
const RECORD_PATHS = [/^\/v2\/conversations\/\d+\/threads\/?$/, /^\/v2\/conversations\/\d+\/attachments\/\d+\/data\/?$/, /^\/v2\/customers\/\d+\/?$/];
const ATTACHMENT_DATA = /^\/v2\/conversations\/\d+\/attachments\/\d+\/data\/?$/;

/** Seconds from Help Scout's `X-RateLimit-Retry-After` (or a standard `Retry-After`). */
export function retryAfterMs(headers: ErrorResponse['headers']): number | undefined {
  for (const name of ['x-ratelimit-retry-after', 'retry-after']) {
    const v = headers[name]?.trim();
    if (v && /^\d+(?:\.\d+)?$/.test(v)) return Number(v) * 1000;
  }
  return undefined;
}

export function classifyHelpScoutError(r: ErrorResponse): ErrorVerdict | undefined {
  const words = halMessage(r.body) ?? r.message;
  const path = r.path.replace(/\/+$/, '');
  // A file Help Scout found malicious: that attachment is refused, the rest goes on.
  if (ATTACHMENT_DATA.test(path) && r.status >= 400 && r.status < 500 && /infected|virus|malicious/i.test(words ?? '')) {
    return { class: 'record_error', reason: 'refused', message: words };
  }
  if (r.status === 429) return { class: 'retry_later', waitMs: retryAfterMs(r.headers), message: words };
  // "Access denied", "API not enabled", "Payment missing": only the account's owner can fix these.
  if (r.status === 402 || r.status === 403) return { class: 'needs_reauth', message: words ?? `Help Scout refused access (HTTP ${r.status})` };
  // 504 "Internal Timeout" and the other 5xx: another try later, with Help Scout's words and logRef.
  if (r.status >= 500 && r.status !== 501 && r.status !== 505) return { class: 'retry_later', message: words };
  if (r.status === 400 && RECORD_PATHS.some((re) => re.test(path))) return { class: 'record_error', reason: 'unprocessable', message: words };
  // The engine's own reading of the other 4xx, in Help Scout's words with the logRef.
  if (r.status === 404 || r.status === 410) return { class: 'record_error', reason: 'not_found', message: words };
  if (r.status === 422) return { class: 'record_error', reason: 'unprocessable', message: words };
  if (r.status >= 400 && r.status < 500 && r.status !== 401 && r.status !== 408) return { class: 'fail', message: words };
  return undefined;
}
