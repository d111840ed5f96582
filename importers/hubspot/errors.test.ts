import { describe, expect, it } from 'vitest';
import type { ErrorResponse } from '../../src/import/adapter.ts';
import { classifyHubSpotError } from './errors.ts';
import { hubspotRateLimit } from './rate-limit.ts';

const now = Date.UTC(2024, 5, 10, 15, 0, 0);
const deps = () => ({ rate: hubspotRateLimit(() => null, () => now), clock: () => ({ timeZone: 'America/Chicago' }), now: () => now });
const response = (status: number, body: unknown, headers: Record<string, string> = {}): ErrorResponse => ({ method: 'GET', path: '/crm/v3/objects/contacts', status, headers, body, message: undefined });
const CORRELATION = '4d4a7c79-8b0a-4d6f-9f59-2f7a2c0b1e11';

describe("HubSpot's errors", () => {
  it('429s by policy: DAILY until the account\'s midnight, SECONDLY a second, TEN_SECONDLY from the headers or the engine\'s backoff', () => {
    const body = (policyName: string) => ({ status: 'error', message: `You have reached your ${policyName.toLowerCase()} limit.`, errorType: 'RATE_LIMIT', correlationId: CORRELATION, policyName });
    expect(classifyHubSpotError(response(429, body('DAILY')), deps())).toEqual({
      class: 'retry_later',
      // Chicago is UTC-5 in June: midnight is 05:00 UTC, plus the slack.
      waitMs: Date.UTC(2024, 5, 11, 5, 0, 30) - now,
      message: `You have reached your daily limit. (correlationId ${CORRELATION})`,
    });
    expect(classifyHubSpotError(response(429, body('SECONDLY')), deps())).toMatchObject({ class: 'retry_later', waitMs: 1000 });
    expect(classifyHubSpotError(response(429, body('TEN_SECONDLY_ROLLING')), deps())).toMatchObject({ class: 'retry_later', waitMs: undefined });
    const d = deps();
    const limited = { 'x-hubspot-ratelimit-max': '100', 'x-hubspot-ratelimit-remaining': '0', 'x-hubspot-ratelimit-interval-milliseconds': '10000' };
    d.rate.parseHeaders(limited);
    expect(classifyHubSpotError(response(429, body('TEN_SECONDLY_ROLLING'), limited), d)).toMatchObject({ class: 'retry_later', waitMs: 10_000 });
    expect(classifyHubSpotError(response(429, body('TEN_SECONDLY_ROLLING'), { 'retry-after': '3' }), deps())).toMatchObject({ waitMs: 3000 });
  });

  it('missing scopes and Cloudflare\'s 530 ask for re-authorisation; 5xx retry; other 4xx fail; all keep the correlationId and category', () => {
    const scopes = {
      status: 'error',
      message: "This app hasn't been granted all required scopes to make this call.",
      correlationId: CORRELATION,
      errors: [{ message: 'One or more of the following scopes are required.', context: { requiredGranularScopes: ['crm.objects.companies.read'] } }],
      category: 'MISSING_SCOPES',
    };
    expect(classifyHubSpotError(response(403, scopes), deps())).toEqual({
      class: 'needs_reauth',
      message: `This app hasn't been granted all required scopes to make this call.; required scopes: crm.objects.companies.read (category MISSING_SCOPES, correlationId ${CORRELATION})`,
    });
    expect(classifyHubSpotError({ ...response(530, '<html>'), message: 'Origin DNS error' }, deps())).toEqual({ class: 'needs_reauth', message: 'HubSpot refused the access token as malformed (HTTP 530: Origin DNS error)' });
    const internal = { status: 'error', message: 'internal error', correlationId: CORRELATION, category: 'INTERNAL_ERROR' };
    expect(classifyHubSpotError(response(502, internal), deps())).toEqual({ class: 'retry_later', message: `internal error (category INTERNAL_ERROR, correlationId ${CORRELATION})` });
    const invalid = { status: 'error', message: 'Property values were not valid', correlationId: CORRELATION, category: 'VALIDATION_ERROR' };
    expect(classifyHubSpotError(response(400, invalid), deps())).toEqual({ class: 'fail', message: `Property values were not valid (category VALIDATION_ERROR, correlationId ${CORRELATION})` });
    expect(classifyHubSpotError(response(404, { status: 'error', message: 'Object not found', category: 'OBJECT_NOT_FOUND' }), deps())).toMatchObject({ class: 'record_error', reason: 'not_found' });
    // A 401 never reaches the classifier as anything but the engine's (refresh once, then re-authorise).
    expect(classifyHubSpotError(response(401, {}), deps())).toBeUndefined();
  });
});
