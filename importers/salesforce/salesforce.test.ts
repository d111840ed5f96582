import { describe, expect, it } from 'vitest';
import type { ErrorResponse } from '../../src/import/adapter.ts';
import { AuthError, ProviderError, RetryLaterError } from '../../src/import/errors.ts';
import { createAllocation, parseLimitInfo } from './allocation.ts';
import { classifySalesforceError, isExpiredLocator } from './errors.ts';
import { mapAccount, mapContact, websiteDomain } from './map.ts';
import { organizationIdOf, parseSalesforceTime, settingsSchema } from './schemas.ts';
import { accountsQuery, contactsQuery, keysetCondition, soqlDateTime } from './soql.ts';

describe('SOQL text', () => {
  it('writes datetime literals unquoted, to the second, in UTC', () => {
    expect(soqlDateTime(parseSalesforceTime('2026-05-06T10:00:00.000+0000')!)).toBe('2026-05-06T10:00:00Z');
    expect(soqlDateTime(parseSalesforceTime('2026-05-06T12:00:00.000+0200')!)).toBe('2026-05-06T10:00:00Z');
  });

  it('resumes after a (SystemModstamp, Id) pair; a time with milliseconds re-reads its whole second rather than lose a record', () => {
    expect(contactsQuery(null)).toBe('SELECT Id, FirstName, LastName, Email, AccountId, Account.Name, Account.Website, CreatedDate, SystemModstamp FROM Contact ORDER BY SystemModstamp, Id');
    expect(keysetCondition({ at: '2026-05-06T10:00:00.000Z', id: '0035g0000000001AAA' })).toBe("SystemModstamp > 2026-05-06T10:00:00Z OR (SystemModstamp = 2026-05-06T10:00:00Z AND Id > '0035g0000000001AAA')");
    expect(keysetCondition({ at: '2026-05-06T10:00:00.250Z', id: '0035g0000000001AAA' })).toBe('SystemModstamp >= 2026-05-06T10:00:00Z');
  });

  it('puts only Salesforce ids into a query', () => {
    expect(accountsQuery(['0015g0000000001AAA', '0015g0000000002'])).toBe("SELECT Id, Name, Website FROM Account WHERE Id IN ('0015g0000000001AAA', '0015g0000000002')");
    expect(() => accountsQuery(["001' OR Name != '"])).toThrow(/not a Salesforce id/);
    expect(() => keysetCondition({ at: '2026-05-06T10:00:00.000Z', id: "x' OR Id != '" })).toThrow(/not a Salesforce id/);
  });
});

describe('mapping', () => {
  it('a contact is a customer with its account as tenant; no email, no account, no first name are fine', () => {
    const base = { CreatedDate: '2015-05-01T00:00:00.000+0000', SystemModstamp: '2024-03-01T12:00:00.000+0000' };
    expect(mapContact({ ...base, Id: '0035g0000000001AAA', FirstName: ' Ada ', LastName: 'Lovelace', Email: ' ada@example.com ', AccountId: '0015g0000000001AAA' })).toEqual({
      sourceId: '0035g0000000001AAA',
      role: 'customer',
      name: 'Ada Lovelace',
      emails: ['ada@example.com'],
      tenantSourceIds: ['0015g0000000001AAA'],
      createdAt: new Date('2015-05-01T00:00:00Z'),
    });
    expect(mapContact({ ...base, Id: '0035g0000000002AAA', FirstName: null, LastName: 'Walk-in', Email: null, AccountId: null })).toMatchObject({ name: 'Walk-in', emails: [], tenantSourceIds: [] });
  });

  it('an account is a tenant keyed by its id, its domain read from Website as people type it', () => {
    expect(mapAccount({ Id: '0015g0000000001AAA', Name: ' Acme ', Website: 'https://www.Acme.com/about' })).toEqual({ sourceId: '0015g0000000001AAA', externalId: '0015g0000000001AAA', name: 'Acme', domain: 'acme.com' });
    expect(mapAccount({ Id: '0015g0000000002AAA', Name: null, Website: null })).toMatchObject({ name: 'Salesforce account 0015g0000000002AAA', domain: null });
    const cases: Array<[string | null, string | null]> = [
      ['acme.co.uk', 'acme.co.uk'],
      ['www2.acme.com:8443/x', 'acme.com'],
      ['HTTP://Shop.Acme.com.', 'shop.acme.com'],
      ['acme.com, acme.de', 'acme.com'],
      ['bücher.de', 'xn--bcher-kva.de'],
      ['n/a', null],
      ['none', null],
      ['192.168.0.1', null],
      ['localhost', null],
      ['mailto:x@acme.com', 'acme.com'],
      ['info@acme.com', 'acme.com'],
      ['', null],
      [null, null],
    ];
    for (const [website, domain] of cases) expect([website, websiteDomain(website)]).toEqual([website, domain]);
  });
});

describe('schemas', () => {
  it('reads Salesforce datetimes and identity URLs', () => {
    expect(parseSalesforceTime('2026-05-06T10:00:00.000+0000')).toEqual(new Date('2026-05-06T10:00:00Z'));
    expect(parseSalesforceTime('2026-05-06T10:00:00Z')).toEqual(new Date('2026-05-06T10:00:00Z'));
    expect(parseSalesforceTime('2026-05-06')).toBeNull();
    expect(organizationIdOf('https://login.salesforce.com/id/00D5g000004XyZ1EAK/0055g00000AbCdEFGH')).toBe('00D5g000004XyZ1EAK');
    expect(organizationIdOf('https://login.salesforce.com/services/oauth2/userinfo')).toBeNull();
  });

  it('a login host: login, test or a My Domain, as a URL or a host; the API version with or without its v', () => {
    expect(settingsSchema.parse({ loginUrl: 'https://login.salesforce.com/' })).toEqual({ loginUrl: 'https://login.salesforce.com' });
    expect(settingsSchema.parse({ loginUrl: 'acme.my.salesforce.com', apiVersion: '61.0' })).toEqual({ loginUrl: 'https://acme.my.salesforce.com', apiVersion: 'v61.0' });
    // Parsing what was stored gives the same.
    expect(settingsSchema.parse(settingsSchema.parse({ loginUrl: 'test.salesforce.com', apiVersion: 'v62.0' }))).toEqual({ loginUrl: 'https://test.salesforce.com', apiVersion: 'v62.0' });
    for (const loginUrl of ['https://login.salesforce.com/services/oauth2/token', 'ftp://login.salesforce.com', 'https://user:pw@login.salesforce.com', 'https://login.salesforce.com?x=1']) {
      expect(settingsSchema.safeParse({ loginUrl }).success, loginUrl).toBe(false);
    }
    expect(settingsSchema.safeParse({ loginUrl: 'login.salesforce.com', apiVersion: 'latest' }).success).toBe(false);
    expect(settingsSchema.safeParse({ loginUrl: 'login.salesforce.com', batchSize: 100 }).success).toBe(false);
  });
});

describe('the allocation', () => {
  const policy = { maxUsagePercent: 80, maxCallsPerRun: 5, pauseMs: 60_000 };
  const request = { method: 'GET', path: '/services/data/v62.0/query' };

  it('reads api-usage from Sforce-Limit-Info', () => {
    expect(parseLimitInfo('api-usage=25/5000')).toEqual({ used: 25, max: 5000 });
    expect(parseLimitInfo('api-usage=110018/100000; api-bursts=1/750')).toEqual({ used: 110018, max: 100000 });
    expect(parseLimitInfo('per-app-api-usage=17/250(appName=app); api-usage=25/5000')).toEqual({ used: 25, max: 5000 });
    expect(parseLimitInfo('per-app-api-usage=17/250(appName=app)')).toBeNull();
    expect(parseLimitInfo(undefined)).toBeNull();
  });

  it('stops before a call that would take the org past its share, with the time to look again', () => {
    let now = 1_000_000;
    const a = createAllocation(policy, () => now);
    const run = { calls: 0 };
    a.spend(run, request);
    a.observe({ used: 79, max: 100 });
    a.spend(run, request);
    a.observe({ used: 80, max: 100 });
    const stop = (() => {
      try {
        a.spend(run, request);
      } catch (err) {
        return err;
      }
    })();
    expect(stop).toBeInstanceOf(RetryLaterError);
    expect((stop as RetryLaterError).retryAt.getTime()).toBe(now + 60_000);
    expect((stop as RetryLaterError).message).toContain('the org has used 80 of its 100 daily API calls (80%); this connection stops at 80%');
    expect(run.calls).toBe(2);
    // Unknown usage (no header yet) does not stop anything.
    now += 1;
    expect(() => createAllocation(policy, () => now).spend({ calls: 0 }, request)).not.toThrow();
  });

  it('counts a run\'s calls across slices and starts again for a new run or after the pause its cap imposed', () => {
    let now = Date.parse('2026-05-06T10:00:00Z');
    const a = createAllocation(policy, () => now);
    expect(a.spentBefore(null)).toBe(0);
    expect(a.spentBefore({ locator: null, calls: 5, at: '2026-05-06T09:59:00Z' })).toBe(0);
    expect(a.spentBefore({ locator: '/services/data/v62.0/query/01g-2000', calls: 3, at: '2026-05-06T09:00:00Z' })).toBe(3);
    expect(a.spentBefore({ locator: '/q/1', calls: 5, at: '2026-05-06T09:59:30Z' })).toBe(5);
    expect(() => a.spend({ calls: 5 }, request)).toThrow(/this run has spent its 5 API calls \(maxCallsPerRun\)/);
    now += 60_000;
    expect(a.spentBefore({ locator: '/q/1', calls: 5, at: '2026-05-06T09:59:30Z' })).toBe(0);
  });
});

describe('Salesforce errors', () => {
  const response = (status: number, body: unknown, path = '/services/data/v62.0/query'): ErrorResponse => ({ method: 'GET', path, status, headers: {}, body, message: undefined });
  const classify = (r: ErrorResponse) => classifySalesforceError(r, { allocationPauseMs: 3_600_000 });

  it('the daily allocation spent waits for it; too many requests at once retries soon; never re-authorise', () => {
    expect(classify(response(403, [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }]))).toEqual({ class: 'retry_later', waitMs: 3_600_000, message: 'TotalRequests Limit exceeded. (REQUEST_LIMIT_EXCEEDED)' });
    expect(classify(response(403, [{ message: 'ConcurrentPerOrgLongTxn Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }]))).toEqual({ class: 'retry_later', message: 'ConcurrentPerOrgLongTxn Limit exceeded. (REQUEST_LIMIT_EXCEEDED)' });
  });

  it('what only the admin can fix needs attention in Salesforce\'s words; a refused query fails the run', () => {
    expect(classify(response(403, [{ message: 'The REST API is not enabled for this Organization.', errorCode: 'API_DISABLED_FOR_ORG' }]))).toEqual({ class: 'needs_reauth', message: 'The REST API is not enabled for this Organization. (API_DISABLED_FOR_ORG)' });
    expect(classify(response(400, [{ message: "No such column 'Email' on entity 'Contact'.", errorCode: 'INVALID_FIELD', fields: ['Email'] }]))).toEqual({ class: 'fail', message: "No such column 'Email' on entity 'Contact'. [Email] (INVALID_FIELD)" });
    expect(classify(response(404, [{ message: 'The requested resource does not exist', errorCode: 'NOT_FOUND' }], '/services/data/v99.0/'))).toEqual({ class: 'fail', message: 'The requested resource does not exist (NOT_FOUND)' });
    expect(classify(response(503, [{ message: 'Server is unavailable', errorCode: 'SERVER_UNAVAILABLE' }]))).toMatchObject({ class: 'retry_later' });
    expect(classify(response(500, '<html>oops</html>'))).toBeUndefined();
  });

  it('the limits resource refused for want of a permission is only skipped; an org without the API is not', () => {
    const limits = '/services/data/v62.0/limits';
    expect(classify(response(403, [{ message: 'requires View Setup', errorCode: 'INSUFFICIENT_ACCESS' }], limits))).toMatchObject({ class: 'record_error', reason: 'refused' });
    expect(classify(response(403, [{ message: 'The REST API is not enabled for this Organization.', errorCode: 'API_DISABLED_FOR_ORG' }], limits))).toMatchObject({ class: 'needs_reauth' });
  });

  it('knows an expired locator: INVALID_QUERY_LOCATOR, a 404 on a locator, or a 401 that survived a refresh', () => {
    const facts = { method: 'GET', path: '/services/data/v62.0/query/01g5g00000ABCDEAAA-2000' };
    expect(isExpiredLocator(new ProviderError({ ...facts, status: 400, detail: 'invalid query locator (INVALID_QUERY_LOCATOR)' }))).toBe(true);
    expect(isExpiredLocator(new ProviderError({ ...facts, status: 404, detail: 'The requested resource does not exist (NOT_FOUND)' }))).toBe(true);
    expect(isExpiredLocator(new AuthError({ ...facts, status: 401, detail: 'Session expired or invalid' }))).toBe(true);
    expect(isExpiredLocator(new AuthError({ ...facts, status: 403, detail: 'insufficient access (INSUFFICIENT_ACCESS)' }))).toBe(false);
    expect(isExpiredLocator(new ProviderError({ ...facts, status: 400, detail: "No such column (INVALID_FIELD)" }))).toBe(false);
  });
});
