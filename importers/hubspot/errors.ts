import type { ErrorResponse, ErrorVerdict } from '../../src/import/adapter.ts';
import { parseRetryAfter } from '../../src/import/http-client.ts';
import { nextDailyReset, type AccountClock, type HubSpotRateLimit } from './rate-limit.ts';
import { errorBodySchema } from './schemas.ts';

/**
 * HubSpot's error answers, read before the engine's defaults. Its body is
 * `{ status: "error", message, correlationId, category, errors: [...] }` (a 429's names its
 * `policyName`); HubSpot's support asks for the correlationId, so every message keeps it with the
 * category. A 401 stays with the engine (refresh once, then re-authorise).
 */

/** HubSpot's words: the message, the scopes a MISSING_SCOPES answer lists, then category and correlationId. */
export function hubspotMessage(body: unknown): string | undefined {
  const parsed = errorBodySchema.safeParse(body);
  if (!parsed.success) return undefined;
  const { message, category, correlationId, errors } = parsed.data;
  const scopes = (errors ?? []).flatMap((e) => {
    const ctx = e.context ?? {};
    return [ctx.requiredGranularScopes, ctx.requiredScopes].flatMap((v) => (Array.isArray(v) ? v.map(String) : []));
  });
  const words = [message?.trim(), scopes.length > 0 ? `required scopes: ${[...new Set(scopes)].join(', ')}` : undefined].filter((s) => !!s).join('; ');
  const facts = [category ? `category ${category}` : undefined, correlationId ? `correlationId ${correlationId}` : undefined].filter((s) => !!s).join(', ');
  if (!words && !facts) return undefined;
  return `${words || 'HubSpot gave no message'}${facts ? ` (${facts})` : ''}`;
}

/** How long a 429 of HubSpot's per-second search limit waits when it names no time. */
const SECONDLY_WAIT_MS = 1_000;

export type ClassifyDeps = { rate: HubSpotRateLimit; clock: () => AccountClock | null; now?: () => number };

export function classifyHubSpotError(r: ErrorResponse, deps: ClassifyDeps): ErrorVerdict | undefined {
  const parsed = errorBodySchema.safeParse(r.body);
  const body = parsed.success ? parsed.data : {};
  const words = hubspotMessage(r.body) ?? r.message;
  if (r.status === 429) {
    const retryAfter = parseRetryAfter(r.headers['retry-after']);
    const policy = body.policyName?.toUpperCase();
    if (policy === 'DAILY') {
      // Spent until midnight in the account's time zone: the run parks with its checkpoint kept.
      const now = (deps.now ?? Date.now)();
      return { class: 'retry_later', waitMs: Math.max(retryAfter ?? 0, nextDailyReset(deps.clock(), now) - now), message: words };
    }
    if (policy === 'SECONDLY') return { class: 'retry_later', waitMs: retryAfter ?? SECONDLY_WAIT_MS, message: words };
    // TEN_SECONDLY_ROLLING (or unnamed): until the window has room, as this answer's headers say; without them, the engine's backoff.
    const counted = r.headers['x-hubspot-ratelimit-remaining'] !== undefined;
    return { class: 'retry_later', waitMs: retryAfter ?? (counted ? deps.rate.untilRoomMs() : undefined), message: words };
  }
  // Cloudflare answers 530 in front of HubSpot to a malformed token: only new credentials help.
  if (r.status === 530) {
    return { class: 'needs_reauth', message: `HubSpot refused the access token as malformed (HTTP 530${r.message ? `: ${r.message}` : ''})` };
  }
  if (body.category === 'MISSING_SCOPES' || r.status === 403) {
    return { class: 'needs_reauth', message: words ?? `HubSpot refused access (HTTP ${r.status})` };
  }
  if (r.status >= 500 && r.status !== 501 && r.status !== 505) return { class: 'retry_later', message: words };
  if (r.status === 404 || r.status === 410) return { class: 'record_error', reason: 'not_found', message: words };
  if (r.status >= 400 && r.status < 500 && r.status !== 401 && r.status !== 408) return { class: 'fail', message: words };
  return undefined;
}
