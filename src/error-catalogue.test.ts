import { describe, expect, it } from 'vitest';
import { exitFor } from './cli/exit-codes.ts';
import { ConfigError } from './config.ts';
import { InputError } from './domain/input-error.ts';
import { AppError, describeError, ERRORS } from './error-catalogue.ts';
import { classifyError } from './http/errors.ts';
import { ProviderUnreachableError } from './import/connect.ts';
import { ConnectionExistsError } from './import/connections.ts';
import { RetryLaterError } from './import/errors.ts';

// The API and the CLI read one catalogue: the same failure gets the same code on both edges.
const CASES: Array<[string, unknown, keyof typeof ERRORS, number, number]> = [
  ['refused input', new InputError('zendesk refused these credentials', [{ field: 'credentials', message: "Couldn't authenticate you", type: 'VALIDATION' }]), 'input_validation', 400, 2],
  ['an unreachable provider', new ProviderUnreachableError('zendesk could not be reached to check the credentials'), 'service_unavailable', 503, 69],
  ['a provider asking to come back', new RetryLaterError({ method: 'GET', path: '/api/v2/users/me.json', status: 503, detail: 'down', retryAt: new Date() }), 'service_unavailable', 503, 69],
  ['the database gone', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }), 'service_unavailable', 503, 69],
  ['a duplicate connection', new ConnectionExistsError('ic_1'), 'conflict', 409, 2],
  ['bad configuration', new ConfigError(['PORT: must be a number']), 'invalid_configuration', 500, 78],
  ['a chosen code', new AppError('not_found', 'Thread th_1 not found.'), 'not_found', 404, 2],
];

describe('the error catalogue', () => {
  it.each(CASES)('%s: one code, its HTTP status and its exit code', (_what, err, code, status, exit) => {
    expect(describeError(err)?.code).toBe(code);
    expect(classifyError(err).code).toBe(code);
    expect(ERRORS[code].status).toBe(status);
    expect(exitFor(err).code).toBe(exit);
    // The CLI prints words, never a stack, for what the catalogue knows.
    expect(exitFor(err).message).not.toMatch(/\n\s+at /);
  });

  it('keeps the database\'s own words out of the API answer but gives them to the operator', () => {
    const err = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect(classifyError(err).message).toBe(ERRORS.service_unavailable.message);
    expect(exitFor(err).message).toContain('ECONNREFUSED 127.0.0.1:5432');
  });

  it('leaves the unknown to each edge: internal for the API, the stack for the CLI', () => {
    const bug = new TypeError('x is undefined');
    expect(describeError(bug)).toBeNull();
    expect(classifyError(bug)).toMatchObject({ code: 'internal', message: ERRORS.internal.message });
    expect(exitFor(bug)).toMatchObject({ code: 1, message: expect.stringContaining('TypeError: x is undefined\n') });
  });
});
