import { describe, expect, it } from 'vitest';
import type { ErrorResponse } from '../../src/import/adapter.ts';
import { classifyHelpScoutError, halMessage } from './errors.ts';

const response = (status: number, path: string, body: unknown, headers: Record<string, string> = {}): ErrorResponse => ({ method: 'GET', path, status, headers, body, message: undefined });
const hal = (message: string, errors?: unknown[]) => ({ logRef: 'abc-123', message, ...(errors ? { _embedded: { errors } } : {}), _links: { about: { href: 'https://developer.helpscout.com' } } });

describe("Help Scout's error answers", () => {
  it('keep the message, each field error and the logRef', () => {
    expect(halMessage(hal('Bad request', [{ path: 'modifiedSince', message: 'Malformed date', rejectedValue: 'yesterday', source: 'QUERY' }, { path: 'page', message: 'must be greater than or equal to 1' }]))).toBe(
      'Bad request; modifiedSince: Malformed date (rejected: "yesterday"); page: must be greater than or equal to 1 (logRef abc-123)',
    );
    expect(halMessage({ logRef: 'x' })).toBe('Help Scout gave no message (logRef x)');
    expect(halMessage('<html>gateway</html>')).toBeUndefined();
    expect(halMessage({ error: 'invalid_token' })).toBeUndefined();
  });

  it('403 "API not enabled", "Payment missing", "Access denied" ask for attention in Help Scout\'s words', () => {
    for (const words of ['API not enabled', 'Payment missing', 'Access denied']) {
      expect(classifyHelpScoutError(response(403, '/v2/conversations', hal(words)))).toEqual({ class: 'needs_reauth', message: `${words} (logRef abc-123)` });
    }
    expect(classifyHelpScoutError(response(403, '/v2/customers', ''))).toEqual({ class: 'needs_reauth', message: 'Help Scout refused access (HTTP 403)' });
  });

  it('504 "Internal Timeout" and other 5xx are retried; a 429 waits X-RateLimit-Retry-After', () => {
    expect(classifyHelpScoutError(response(504, '/v2/conversations', hal('Internal Timeout')))).toEqual({ class: 'retry_later', message: 'Internal Timeout (logRef abc-123)' });
    expect(classifyHelpScoutError(response(502, '/v2/conversations', '<html></html>'))).toEqual({ class: 'retry_later', message: undefined });
    expect(classifyHelpScoutError(response(501, '/v2/conversations', hal('Not implemented')))).toBeUndefined();
    expect(classifyHelpScoutError(response(429, '/v2/customers', { message: 'API rate limit exceeded' }, { 'x-ratelimit-retry-after': '17' }))).toEqual({
      class: 'retry_later',
      waitMs: 17_000,
      message: 'API rate limit exceeded',
    });
  });

  it("a 400 on one record's sub-resource is that record's error; on a list the run fails, with the logRef", () => {
    expect(classifyHelpScoutError(response(400, '/v2/conversations/12/threads', hal('Bad request')))).toEqual({ class: 'record_error', reason: 'unprocessable', message: 'Bad request (logRef abc-123)' });
    expect(classifyHelpScoutError(response(400, '/v2/conversations/12/attachments/9/data', hal('Bad request')))).toMatchObject({ class: 'record_error' });
    expect(classifyHelpScoutError(response(400, '/v2/customers/5', hal('Bad request')))).toMatchObject({ class: 'record_error' });
    expect(classifyHelpScoutError(response(400, '/v2/conversations', hal('Bad request', [{ path: 'status', message: 'Value not supported' }])))).toEqual({
      class: 'fail',
      message: 'Bad request; status: Value not supported (logRef abc-123)',
    });
    expect(classifyHelpScoutError(response(404, '/v2/customers/5', hal('Resource not found')))).toEqual({ class: 'record_error', reason: 'not_found', message: 'Resource not found (logRef abc-123)' });
  });

  it('an infected attachment is refused, whatever the status, and only on the attachment data path', () => {
    expect(classifyHelpScoutError(response(403, '/v2/conversations/12/attachments/9/data', hal('Infected Attachment')))).toEqual({ class: 'record_error', reason: 'refused', message: 'Infected Attachment (logRef abc-123)' });
    expect(classifyHelpScoutError(response(400, '/v2/conversations/12/attachments/9/data', hal('Infected attachment')))).toMatchObject({ class: 'record_error', reason: 'refused' });
    // Access denied on a file is about the account, not the file.
    expect(classifyHelpScoutError(response(403, '/v2/conversations/12/attachments/9/data', hal('Access denied')))).toMatchObject({ class: 'needs_reauth' });
  });
});
