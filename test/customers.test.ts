import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction } from '../src/db/pool.ts';
import { createCustomerWithoutEmail, findOrCreateCustomerByEmail, getCustomer } from '../src/domain/customers.ts';
import { InputError } from '../src/domain/input-error.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { makeWorkspace } from './support/workspaces.ts';

let db: TestDatabase;
let workspaceA: string;
let workspaceB: string;

beforeAll(async () => {
  db = await createTestDatabase();
  workspaceA = (await makeWorkspace(db.pool, 'A')).workspace.id;
  workspaceB = (await makeWorkspace(db.pool, 'B', 'help@b.example.org')).workspace.id;
});
afterAll(async () => db.close());

const ctx = (workspaceId: string) => ({ db: db.pool, workspaceId, origin: 'email' as const });

describe('customers', () => {
  it('treats Jane@Example.com and jane@example.com as one customer', async () => {
    const first = await findOrCreateCustomerByEmail(ctx(workspaceA), { email: 'Jane@Example.com', fullName: 'Jane Doe' });
    const second = await findOrCreateCustomerByEmail(ctx(workspaceA), { email: 'jane@example.com', fullName: 'Someone Else' });
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.customer.id).toBe(first.customer.id);
    expect(second.customer.email).toBe('jane@example.com');
    // An existing customer's name is never changed by a later sighting.
    expect(second.customer.fullName).toBe('Jane Doe');
  });

  it('yields one row when 10 concurrent transactions create the same email', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        withTransaction(db.pool, async (tx) => {
          const r = await findOrCreateCustomerByEmail({ db: tx, workspaceId: workspaceA, origin: 'email' }, { email: i % 2 ? 'RACE@acme-corp.com' : 'race@ACME-corp.com', fullName: `Racer ${i}` });
          // Hold the transaction open a little so the others really overlap.
          await tx.query('SELECT pg_sleep(0.02)');
          return r;
        }),
      ),
    );
    expect(new Set(results.map((r) => r.customer.id)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM customers WHERE workspace_id = $1 AND email = 'race@acme-corp.com'`, [workspaceA]);
    expect(rows[0].n).toBe(1);
    const companies = await db.pool.query(`SELECT name FROM companies WHERE workspace_id = $1 AND domain = 'acme-corp.com'`, [workspaceA]);
    expect(companies.rows).toEqual([{ name: 'Acme Corp' }]);
  });

  it('gives concurrent new customers from one new domain the same company', async () => {
    const customers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        withTransaction(db.pool, async (tx) => {
          const r = await findOrCreateCustomerByEmail({ db: tx, workspaceId: workspaceA, origin: 'email' }, { email: `p${i}@initech.com` });
          await tx.query('SELECT pg_sleep(0.02)');
          return r.customer;
        }),
      ),
    );
    const companyIds = new Set(customers.map((c) => c.company?.id));
    expect(companyIds.size).toBe(1);
    expect([...companyIds][0]).toMatch(/^co_/);
    const stored = await db.pool.query(`SELECT count(DISTINCT company_id)::int AS n, count(*)::int AS c FROM customers WHERE workspace_id = $1 AND email LIKE '%@initech.com'`, [workspaceA]);
    expect(stored.rows[0]).toEqual({ n: 1, c: 10 });
  });

  it('keeps the same email in two workspaces as two customers', async () => {
    const a = await findOrCreateCustomerByEmail(ctx(workspaceA), { email: 'shared@nike.com' });
    const b = await findOrCreateCustomerByEmail(ctx(workspaceB), { email: 'shared@nike.com' });
    expect(a.created && b.created).toBe(true);
    expect(a.customer.id).not.toBe(b.customer.id);
    expect(a.customer.company?.id).not.toBe(b.customer.company?.id);
    expect(await getCustomer({ db: db.pool, workspaceId: workspaceB }, a.customer.id)).toBeNull();
  });

  it('infers the company from the domain, once per domain, none for public providers', async () => {
    const jeff = await findOrCreateCustomerByEmail(ctx(workspaceA), { email: 'jeff@nike.com', fullName: 'Jeff' });
    expect(jeff.customer.company).toMatchObject({ name: 'Nike', domain: 'nike.com' });
    const mia = await findOrCreateCustomerByEmail(ctx(workspaceA), { email: 'mia@nike.com' });
    expect(mia.customer.company?.id).toBe(jeff.customer.company?.id);
    const uk = await findOrCreateCustomerByEmail(ctx(workspaceA), { email: 'a@support.acme.co.uk' });
    expect(uk.customer.company).toMatchObject({ name: 'Acme', domain: 'acme.co.uk' });
    for (const email of ['x@gmail.com', 'x@gmx.de', 'x@yandex.ru', 'x@outlook.com', 'x@qq.com', 'x@proton.me']) {
      expect((await findOrCreateCustomerByEmail(ctx(workspaceA), { email })).customer.company).toBeNull();
    }
  });

  it('names a customer without a display name after the address', async () => {
    const { customer } = await findOrCreateCustomerByEmail(ctx(workspaceA), { email: 'no.name@example.net' });
    expect(customer.fullName).toBe('no.name');
  });

  it('refuses an invalid email with a field error', async () => {
    await expect(findOrCreateCustomerByEmail(ctx(workspaceA), { email: 'not an email' })).rejects.toBeInstanceOf(InputError);
    await expect(findOrCreateCustomerByEmail(ctx(workspaceA), { email: 'not an email' })).rejects.toMatchObject({ fields: [{ field: 'email', type: 'VALIDATION' }] });
  });

  it('creates customers without email only for imports, unique by external id', async () => {
    await expect(createCustomerWithoutEmail(ctx(workspaceA), { externalId: 'zd-1' })).rejects.toBeInstanceOf(InputError);
    const imported = await createCustomerWithoutEmail({ db: db.pool, workspaceId: workspaceA, origin: 'import' }, { externalId: 'zd-1', fullName: 'Phone Caller' });
    expect(imported).toMatchObject({ email: null, externalId: 'zd-1', fullName: 'Phone Caller', origin: 'import' });
    await expect(createCustomerWithoutEmail({ db: db.pool, workspaceId: workspaceA, origin: 'import' }, { externalId: 'zd-1' })).rejects.toMatchObject({ code: '23505' });
    // The database itself refuses an email-less customer from any other origin.
    await expect(
      db.pool.query(`INSERT INTO customers (id, workspace_id, full_name, origin) VALUES ('c_X', $1, 'x', 'email')`, [workspaceA]),
    ).rejects.toMatchObject({ code: '23514' });
  });
});
