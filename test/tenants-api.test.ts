import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOrCreateCustomerByEmail, type Customer } from '../src/domain/customers.ts';
import { PLAIN_ID } from '../src/domain/ids.ts';
import type { WriteContext } from '../src/domain/origin.ts';
import { addCustomerToTenant, findOrCreateTenant, importTenantCustomers, importTenants } from '../src/domain/tenants.ts';
import type { WorkspaceCredentials } from '../src/domain/workspaces.ts';
import { buildApp } from '../src/http/app.ts';
import { encodeCursor } from '../src/http/pagination.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { makeWorkspace } from './support/workspaces.ts';

let db: TestDatabase;
let app: FastifyInstance;
let a: WorkspaceCredentials;
let b: WorkspaceCredentials;
// Workspace A: two imported tenants with domains, one without, one made through the API path.
const tenantIds: Record<'eu' | 'us' | 'plain' | 'globex' | 'bOnly', string> = { eu: '', us: '', plain: '', globex: '', bOnly: '' };
let jane: Customer;
let bob: Customer;
let lonely: Customer;
let bCustomer: Customer;

const auth = (c: WorkspaceCredentials) => ({ authorization: `Bearer ${c.apiKey}` });
const importCtx = (c: WorkspaceCredentials): WriteContext => ({ db: db.pool, workspaceId: c.workspace.id, origin: 'import' });
const apiCtx = (c: WorkspaceCredentials): WriteContext => ({ db: db.pool, workspaceId: c.workspace.id, origin: 'api' });

function expectPlainError(body: unknown, code: string, type: string) {
  expect(body).toEqual({ error: { message: expect.any(String), type, code, fields: expect.any(Array) } });
}

async function get(url: string, who: WorkspaceCredentials = a) {
  return app.inject({ method: 'GET', url, headers: auth(who) });
}

beforeAll(async () => {
  db = await createTestDatabase();
  app = await buildApp({ pool: db.pool, inboundDomain: 'in.test' });
  a = await makeWorkspace(db.pool, 'A', 'help@acme.com');
  b = await makeWorkspace(db.pool, 'B', 'support@globex.com');

  jane = (await findOrCreateCustomerByEmail(apiCtx(a), { email: 'jane@acme.eu', fullName: 'Jane' })).customer;
  bob = (await findOrCreateCustomerByEmail(apiCtx(a), { email: 'bob@acme.com', fullName: 'Bob' })).customer;
  lonely = (await findOrCreateCustomerByEmail(apiCtx(a), { email: 'lonely@example.com', fullName: 'Lonely' })).customer;
  bCustomer = (await findOrCreateCustomerByEmail(apiCtx(b), { email: 'b@globex.com' })).customer;

  // The import path, as the page writer calls it; the third tenant carries no domain (Zendesk's shape).
  const imported = await importTenants(importCtx(a), [
    { externalId: 'org-1', name: 'Acme EU', domain: ' Acme.EU ' },
    { externalId: 'org-2', name: 'Acme US', domain: 'acme.com' },
    { externalId: 'org-3', name: 'Plain Org' },
  ]);
  tenantIds.eu = imported.get('org-1')!.tenantId;
  tenantIds.us = imported.get('org-2')!.tenantId;
  tenantIds.plain = imported.get('org-3')!.tenantId;
  await importTenantCustomers(importCtx(a), [
    { tenantId: tenantIds.us, customerId: jane.id },
    { tenantId: tenantIds.eu, customerId: jane.id },
    { tenantId: tenantIds.eu, customerId: bob.id },
  ]);
  // The single-row path.
  const globex = await findOrCreateTenant(apiCtx(a), { externalId: 'hs-9', name: 'Globex', domain: 'globex.com' });
  tenantIds.globex = globex.tenant.id;
  await addCustomerToTenant(apiCtx(a), tenantIds.globex, bob.id);

  // Workspace B has a tenant with the same external id as one of A's, and a member.
  const bImported = await importTenants(importCtx(b), [{ externalId: 'org-1', name: 'B secret tenant', domain: 'secret.example' }]);
  tenantIds.bOnly = bImported.get('org-1')!.tenantId;
  await importTenantCustomers(importCtx(b), [{ tenantId: tenantIds.bOnly, customerId: bCustomer.id }]);
});

afterAll(async () => {
  await app.close();
  await db.close();
});

describe('GET /v1/tenants', () => {
  it("lists the workspace's tenants with domain, member count and creation time, at the default page size", async () => {
    const res = await get('/v1/tenants');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.pageInfo).toEqual({ hasNextPage: false, endCursor: expect.any(String) });
    const byExternalId = Object.fromEntries(body.tenants.map((t: { externalId: string }) => [t.externalId, t]));
    expect(byExternalId).toEqual({
      'org-1': { id: tenantIds.eu, name: 'Acme EU', externalId: 'org-1', domain: 'acme.eu', memberCount: 2, createdAt: expect.any(String) },
      'org-2': { id: tenantIds.us, name: 'Acme US', externalId: 'org-2', domain: 'acme.com', memberCount: 1, createdAt: expect.any(String) },
      'org-3': { id: tenantIds.plain, name: 'Plain Org', externalId: 'org-3', domain: null, memberCount: 0, createdAt: expect.any(String) },
      'hs-9': { id: tenantIds.globex, name: 'Globex', externalId: 'hs-9', domain: 'globex.com', memberCount: 1, createdAt: expect.any(String) },
    });
    for (const t of body.tenants) {
      expect(t.id).toMatch(PLAIN_ID);
      expect(t.id.startsWith('te_')).toBe(true);
      expect(new Date(t.createdAt).toISOString()).toBe(t.createdAt);
    }
    // Stable order: by id, which is creation order.
    const ids = body.tenants.map((t: { id: string }) => t.id);
    expect(ids).toEqual([...ids].sort());
  });

  it('pages with first/after, each tenant exactly once', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const url: string = `/v1/tenants?first=3${after ? `&after=${after}` : ''}`;
      const res = await get(url);
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.tenants.length).toBeLessThanOrEqual(3);
      seen.push(...body.tenants.map((t: { id: string }) => t.id));
      after = body.pageInfo.hasNextPage ? body.pageInfo.endCursor : null;
      pages++;
    } while (after);
    expect(pages).toBe(2);
    expect(seen).toEqual([tenantIds.eu, tenantIds.us, tenantIds.plain, tenantIds.globex].sort());
    // After the last one: an empty page.
    const end = await get(`/v1/tenants?after=${encodeCursor(seen.at(-1)!)}`);
    expect(end.json()).toEqual({ tenants: [], pageInfo: { hasNextPage: false, endCursor: null } });
  });

  it("never shows another workspace's tenants or counts its members", async () => {
    const bBody = (await get('/v1/tenants', b)).json();
    expect(bBody.tenants).toEqual([
      { id: tenantIds.bOnly, name: 'B secret tenant', externalId: 'org-1', domain: 'secret.example', memberCount: 1, createdAt: expect.any(String) },
    ]);
    const aBody = (await get('/v1/tenants?first=100', a)).json();
    expect(aBody.tenants.map((t: { id: string }) => t.id)).not.toContain(tenantIds.bOnly);
    expect(JSON.stringify(aBody)).not.toContain('secret');
    // A's cursor pointing before B's tenant still yields only A's rows.
    const fromStart = (await get(`/v1/tenants?after=${encodeCursor(`te_${'0'.repeat(26)}`)}`, a)).json();
    expect(fromStart.tenants.map((t: { id: string }) => t.id)).not.toContain(tenantIds.bOnly);
  });

  it.each([
    ['first=0', 'query.first'],
    ['first=101', 'query.first'],
    ['first=abc', 'query.first'],
    ['first=', 'query.first'],
    ['first=1&first=2', 'query.first'],
    ['first=%00', 'query.first'],
    ['after=not-a-cursor', 'query.after'],
    ['after=%00', 'query.after'],
    ['after=a&after=b', 'query.after'],
    [`after=${'x'.repeat(201)}`, 'query.after'],
  ])('refuses ?%s with input_validation in Plain shape', async (query, field) => {
    const res = await get(`/v1/tenants?${query}`);
    expect(res.statusCode).toBe(400);
    expectPlainError(res.json(), 'input_validation', 'VALIDATION');
    expect(res.json().error.fields[0].field).toBe(field);
  });

  it.each(['/v1/tenants', '/v1/customers'])('%s refuses a well-formed cursor that carries a NUL (Postgres text cannot hold one) with 400, not 500', async (path) => {
    const res = await get(`${path}?after=${encodeCursor('te_\u0000x')}`);
    expect(res.statusCode).toBe(400);
    expectPlainError(res.json(), 'input_validation', 'VALIDATION');
    expect(res.json().error.fields[0].field).toBe('query.after');
  });

  it('answers 401 in Plain shape without a key', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/tenants' });
    expect(res.statusCode).toBe(401);
    expectPlainError(res.json(), 'unauthenticated', 'FORBIDDEN');
  });
});

describe('tenant domains are create-only', () => {
  it('a later import or find-or-create never changes an existing tenant name or domain', async () => {
    const again = await importTenants(importCtx(a), [
      { externalId: 'org-1', name: 'Renamed', domain: 'other.example' },
      { externalId: 'org-3', name: 'Plain Org 2', domain: 'now-has-one.example' },
    ]);
    expect(again.get('org-1')).toEqual({ tenantId: tenantIds.eu, created: false });
    expect(again.get('org-3')).toEqual({ tenantId: tenantIds.plain, created: false });
    const found = await findOrCreateTenant(apiCtx(a), { externalId: 'hs-9', name: 'Globex 2', domain: 'changed.example' });
    expect(found).toEqual({ tenant: { id: tenantIds.globex, externalId: 'hs-9', name: 'Globex', domain: 'globex.com' }, created: false });

    const { rows } = await db.pool.query('SELECT external_id, name, domain FROM tenants WHERE workspace_id = $1 ORDER BY external_id', [a.workspace.id]);
    expect(rows).toEqual([
      { external_id: 'hs-9', name: 'Globex', domain: 'globex.com' },
      { external_id: 'org-1', name: 'Acme EU', domain: 'acme.eu' },
      { external_id: 'org-2', name: 'Acme US', domain: 'acme.com' },
      { external_id: 'org-3', name: 'Plain Org', domain: null },
    ]);
  });

  it('stores a blank domain as none and drops NUL characters from it', async () => {
    const c = await makeWorkspace(db.pool, 'C', 'help@c.example');
    const made = await importTenants(importCtx(c), [
      { externalId: 'blank', name: 'Blank', domain: '   ' },
      { externalId: 'nul', name: 'Nul', domain: 'nul\u0000.example' },
      { externalId: 'null', name: 'Null', domain: null },
    ]);
    const { rows } = await db.pool.query('SELECT external_id, domain FROM tenants WHERE id = ANY($1) ORDER BY external_id', [[...made.values()].map((m) => m.tenantId)]);
    expect(rows).toEqual([
      { external_id: 'blank', domain: null },
      { external_id: 'nul', domain: 'nul.example' },
      { external_id: 'null', domain: null },
    ]);
  });
});

describe('tenants of each customer in GET /v1/customers', () => {
  type Listed = { id: string; tenants: Array<{ id: string; name: string; externalId: string }> };
  const listAll = async (who: WorkspaceCredentials = a): Promise<Map<string, Listed>> => {
    const body = (await get('/v1/customers?first=100', who)).json();
    return new Map(body.customers.map((c: Listed) => [c.id, c]));
  };

  it('lists a customer in two tenants with both, in tenant id order, and a customer in none with []', async () => {
    const customers = await listAll();
    const eu = { id: tenantIds.eu, name: 'Acme EU', externalId: 'org-1' };
    const us = { id: tenantIds.us, name: 'Acme US', externalId: 'org-2' };
    const globex = { id: tenantIds.globex, name: 'Globex', externalId: 'hs-9' };
    const byId = <T extends { id: string }>(xs: T[]) => [...xs].sort((x, y) => (x.id < y.id ? -1 : 1));
    expect(customers.get(jane.id)!.tenants).toEqual(byId([eu, us]));
    expect(customers.get(bob.id)!.tenants).toEqual(byId([eu, globex]));
    expect(customers.get(lonely.id)!.tenants).toEqual([]);
    // The same answer when each is fetched on its own page (the email filter).
    const janeAlone = (await get('/v1/customers?email=jane@acme.eu')).json().customers;
    expect(janeAlone).toHaveLength(1);
    expect(janeAlone[0].tenants).toEqual(byId([eu, us]));
  });

  it("shows only the workspace's own tenants", async () => {
    const bCustomers = await listAll(b);
    expect(bCustomers.get(bCustomer.id)!.tenants).toEqual([{ id: tenantIds.bOnly, name: 'B secret tenant', externalId: 'org-1' }]);
    for (const c of (await listAll(a)).values()) expect(c.tenants.map((t) => t.id)).not.toContain(tenantIds.bOnly);
  });

  it('reads the tenants of a whole page in one statement, whatever the page size (no query per customer)', async () => {
    // The real pool, every statement recorded on its way through.
    const statements: string[] = [];
    const recording = new Proxy(db.pool, {
      get(target, prop) {
        if (prop === 'query') {
          return (text: string | { text: string }, ...rest: unknown[]) => {
            statements.push(typeof text === 'string' ? text : text.text);
            return (target.query as (...args: unknown[]) => unknown)(text, ...rest);
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as pg.Pool;
    const counted = await buildApp({ pool: recording, inboundDomain: 'in.test' });
    try {
      const countFor = async (first: number) => {
        statements.length = 0;
        const res = await counted.inject({ method: 'GET', url: `/v1/customers?first=${first}`, headers: auth(a) });
        expect(res.statusCode).toBe(200);
        expect(res.json().customers).toHaveLength(Math.min(first, 3));
        return { total: statements.length, tenantReads: statements.filter((s) => s.includes('tenant_customers')).length };
      };
      const one = await countFor(1);
      const all = await countFor(100);
      expect(one.tenantReads).toBe(1);
      expect(all).toEqual(one);
    } finally {
      await counted.close();
    }
  });
});
