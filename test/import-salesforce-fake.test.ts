import { afterEach, describe, expect, it } from 'vitest';
import { startFakeSalesforce, type FakeSalesforce } from './support/fake-provider/index.ts';

/** The fake Salesforce holds to what Salesforce documents, so the importer is tested against its real rules. */

let fake: FakeSalesforce | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function session(f: FakeSalesforce) {
  const res = await fetch(`${f.loginUrl}/services/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', client_id: f.state.app.clientId, client_secret: f.state.app.clientSecret, refresh_token: [...f.state.refreshTokens][0]! }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { access_token: string; instance_url: string; id: string };
}

async function query(f: FakeSalesforce, token: string, soql: string) {
  const res = await fetch(`${f.url}/services/data/v62.0/query?q=${encodeURIComponent(soql)}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, limit: res.headers.get('sforce-limit-info'), body: (await res.json()) as any };
}

describe('the fake Salesforce', () => {
  it('answers the token on the login host with an instance_url on another port and the identity URL', async () => {
    fake = await startFakeSalesforce();
    const token = await session(fake);
    expect(token.instance_url).toBe(fake.url);
    expect(fake.loginUrl).not.toBe(fake.url);
    expect(token.id).toMatch(/\/id\/00D5g000004XyZ1EAK\/0055g00000AbCdEFGH$/);
    const refused = await fetch(`${fake.loginUrl}/services/oauth2/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', client_id: 'x', client_secret: 'y', refresh_token: 'z' }) });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ error: 'invalid_client_id', error_description: 'client identifier invalid' });
  });

  it('refuses datetime literals in the returned form or quoted, and AND mixed with OR without parentheses', async () => {
    fake = await startFakeSalesforce();
    const { access_token: token } = await session(fake);
    const pasted = await query(fake, token, 'SELECT Id FROM Contact WHERE SystemModstamp > 2024-03-01T12:00:00.000+0000');
    expect(pasted.status).toBe(400);
    expect(pasted.body[0].errorCode).toBe('MALFORMED_QUERY');
    const quoted = await query(fake, token, "SELECT Id FROM Contact WHERE SystemModstamp > '2024-03-01T12:00:00Z'");
    expect(quoted.body).toEqual([{ errorCode: 'INVALID_FIELD', message: expect.stringContaining("value of filter criterion for field 'SystemModstamp' must be of type dateTime and should not be enclosed in quotes") }]);
    const mixed = await query(fake, token, "SELECT Id FROM Contact WHERE SystemModstamp > 2024-03-01T12:00:00Z OR SystemModstamp = 2024-03-01T12:00:00Z AND Id > '0035g0000000009AAA'");
    expect(mixed.body[0].errorCode).toBe('MALFORMED_QUERY');
    const unknown = await query(fake, token, 'SELECT Id, Phone__c FROM Contact');
    expect(unknown.body[0]).toMatchObject({ errorCode: 'INVALID_FIELD', message: expect.stringContaining("No such column 'Phone__c' on entity 'Contact'") });
    const ok = await query(fake, token, "SELECT Id FROM Contact WHERE SystemModstamp > 2024-03-01T12:00:00Z OR (SystemModstamp = 2024-03-01T12:00:00Z AND Id > '0035g0000000009AAA') ORDER BY SystemModstamp, Id");
    expect(ok.body.records.map((r: { Id: string }) => r.Id)).toEqual(['0035g000000000AAAA', '0035g000000000BAAA', '0035g000000000CAAA']);
    expect(ok.limit).toBe('api-usage=5/100000');
  });

  it('pages with nextRecordsUrl, honours batchSize, nests relationship fields, closes a locator at the end', async () => {
    fake = await startFakeSalesforce();
    const { access_token: token } = await session(fake);
    const first = await fetch(`${fake.url}/services/data/v62.0/query?q=${encodeURIComponent('SELECT Id, Account.Name FROM Contact WHERE AccountId != null ORDER BY Id LIMIT 300')}`, {
      headers: { authorization: `Bearer ${token}`, 'sforce-query-options': 'batchSize=200' },
    });
    const page = (await first.json()) as any;
    // Ten contacts have an account; batchSize under 200 is raised to 200.
    expect(page).toMatchObject({ totalSize: 10, done: true });
    expect(page.records[0]).toEqual({ attributes: { type: 'Contact', url: '/services/data/v62.0/sobjects/Contact/0035g0000000001AAA' }, Id: '0035g0000000001AAA', Account: { attributes: expect.any(Object), Name: 'Acme Corporation' } });
    fake.state.pageSize = 4;
    const paged = await query(fake, token, 'SELECT Id FROM Contact ORDER BY Id');
    expect(paged.body).toMatchObject({ totalSize: 12, done: false, nextRecordsUrl: expect.stringMatching(/^\/services\/data\/v62\.0\/query\/01g\w+-4$/) });
    const next = await fetch(`${fake.url}${paged.body.nextRecordsUrl}`, { headers: { authorization: `Bearer ${token}` } });
    expect(((await next.json()) as any).records).toHaveLength(4);
    // Another session may not follow it.
    const other = await session(fake);
    const foreign = await fetch(`${fake.url}${paged.body.nextRecordsUrl}`, { headers: { authorization: `Bearer ${other.access_token}` } });
    expect(foreign.status).toBe(401);
    fake.state.expireLocators();
    const expired = await fetch(`${fake.url}${paged.body.nextRecordsUrl}`, { headers: { authorization: `Bearer ${token}` } });
    expect(await expired.json()).toEqual([{ message: 'invalid query locator', errorCode: 'INVALID_QUERY_LOCATOR' }]);
  });

  it('counts calls against the daily allocation and refuses past it', async () => {
    fake = await startFakeSalesforce({ usage: { used: 98, max: 100 } });
    const { access_token: token } = await session(fake);
    const limits = await fetch(`${fake.url}/services/data/v62.0/limits`, { headers: { authorization: `Bearer ${token}` } });
    expect(((await limits.json()) as any).DailyApiRequests).toEqual({ Max: 100, Remaining: 1 });
    expect((await query(fake, token, 'SELECT Id FROM Account')).limit).toBe('api-usage=100/100');
    const over = await query(fake, token, 'SELECT Id FROM Account');
    expect(over.status).toBe(403);
    expect(over.body).toEqual([{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }]);
    // The versions list is free and needs no session.
    expect((await fetch(`${fake.url}/services/data/`)).status).toBe(200);
  });
});
