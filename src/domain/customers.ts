import { domainToASCII } from 'node:url';
import { inferCompany } from './company-inference.ts';
import { EVENT_TYPES } from './events.ts';
import { newId } from './ids.ts';
import { stripNul } from './text.ts';
import { InputError } from './input-error.ts';
import { assertImport, type ReadContext, type WriteContext } from './origin.ts';
import { prepared } from '../db/prepared.ts';

/** One per registrable domain per workspace, created with the first customer from it. */
export type Company = { id: string; name: string; domain: string };

export type Customer = {
  id: string;
  email: string | null;
  fullName: string;
  shortName: string | null;
  externalId: string | null;
  company: Company | null;
  origin: string;
  createdAt: Date;
  updatedAt: Date;
};

type CustomerRow = {
  id: string;
  email: string | null;
  full_name: string;
  short_name: string | null;
  external_id: string | null;
  origin: string;
  created_at: Date;
  updated_at: Date;
  company_id: string | null;
  company_name: string | null;
  company_domain: string | null;
};

const SELECT = `SELECT c.id, c.email, c.full_name, c.short_name, c.external_id, c.origin, c.created_at, c.updated_at,
                       co.id AS company_id, co.name AS company_name, co.domain AS company_domain
                  FROM customers c LEFT JOIN companies co ON co.id = c.company_id`;

function toCustomer(row: CustomerRow): Customer {
  return {
    id: row.id,
    email: row.email,
    fullName: row.full_name,
    shortName: row.short_name,
    externalId: row.external_id,
    company: row.company_id ? { id: row.company_id, name: row.company_name!, domain: row.company_domain! } : null,
    origin: row.origin,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

// The event carries the customer as the API shows it, company included (`x`: the statement's input row).
const CUSTOMER_EVENT_PAYLOAD = `to_jsonb(created) - 'companyId' || jsonb_build_object('company',
  CASE WHEN created."companyId" IS NULL THEN NULL ELSE jsonb_build_object('id', created."companyId", 'name', x.company_name, 'domain', x.domain) END)`;

// Lenient on the local part, as real senders are (`user=tag@`, `first&last@`, Japanese carriers'
// `o.k.@`, quoted strings, non-ASCII): the mail reached us, so the address exists. Strict on the
// domain, checked in its ASCII (punycode) form.
const LOCAL_PART = /^(?:"[^"\\\r\n\u0000]{1,62}"|[\p{L}\p{N}!#$%&'*+/=?^_`{|}~.-]{1,64})$/u;
const DOMAIN_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

function isUsableEmail(email: string): boolean {
  const at = email.lastIndexOf('@');
  if (at < 1 || email.length > 320 || !LOCAL_PART.test(email.slice(0, at))) return false;
  const labels = (domainToASCII(email.slice(at + 1)) || '').split('.');
  return labels.length >= 2 && labels.every((l) => DOMAIN_LABEL.test(l)) && /^(?:[a-z]{2,63}|xn--[a-z0-9-]+)$/.test(labels.at(-1)!);
}

/** Emails are one customer whatever their case; IDN domains are kept in Unicode (münchen.de). */
export function normaliseEmail(email: string): string {
  const normalised = email.trim().toLowerCase();
  if (!isUsableEmail(normalised)) {
    throw new InputError('Invalid email address', [{ field: 'email', message: `${JSON.stringify(email)} is not an email address`, type: 'VALIDATION' }]);
  }
  return normalised;
}

/** A name for someone who gave none: the address's local part. */
function fallbackName(email: string | null): string {
  return email ? email.slice(0, email.lastIndexOf('@')) : 'Unknown';
}

export type NewCustomer = {
  email?: string | null;
  fullName?: string | null;
  shortName?: string | null;
  externalId?: string | null;
};

// Companies, customers and their customer.customer_created events in one round trip, for any
// number of new senders: this is on every new sender's path.
const CREATE_WITH_COMPANIES = prepared(
  'customers.create-with-companies',
  `WITH x AS (
     SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[]) WITH ORDINALITY
       AS x(id, email, full_name, short_name, external_id, company_id, domain, company_name, event_id, n)
   ), new_company AS (
     INSERT INTO companies (id, workspace_id, domain, name, origin)
     SELECT DISTINCT ON (domain) company_id, $1, domain, company_name, $11 FROM x WHERE domain IS NOT NULL ORDER BY domain, n
     ON CONFLICT (workspace_id, domain) DO NOTHING RETURNING id, domain),
   company AS (
     SELECT id, domain FROM new_company
     UNION ALL SELECT id, domain FROM companies WHERE workspace_id = $1 AND domain IN (SELECT domain FROM x)),
   created AS (
     INSERT INTO customers (id, workspace_id, email, full_name, short_name, external_id, company_id, origin)
     SELECT x.id, $1, x.email, x.full_name, x.short_name, x.external_id, (SELECT c.id FROM company c WHERE c.domain = x.domain LIMIT 1), $11
       FROM x ORDER BY x.n
     ON CONFLICT (workspace_id, email) WHERE email IS NOT NULL DO NOTHING
     RETURNING id, email, full_name AS "fullName", short_name AS "shortName", external_id AS "externalId", origin,
               created_at AS "createdAt", company_id AS "companyId"),
   created_event AS (
     INSERT INTO events (id, workspace_id, type, origin, payload)
     SELECT x.event_id, $1, '${EVENT_TYPES.customerCreated}', $11, jsonb_build_object('customer', ${CUSTOMER_EVENT_PAYLOAD})
       FROM created JOIN x ON x.id = created.id WHERE $11::text <> 'import')
   SELECT id, "createdAt", "companyId" FROM created`,
);

const FIND_BY_EMAILS = prepared('customers.find-by-emails', `${SELECT} WHERE c.workspace_id = $1 AND c.email = ANY($2)`);

/**
 * The workspace's customer with this email, created if new. Safe under concurrency: of any number
 * of transactions creating the same email, one inserts and the rest read its row. Never changes
 * an existing customer.
 */
export async function findOrCreateCustomerByEmail(ctx: WriteContext, input: NewCustomer & { email: string }): Promise<{ customer: Customer; created: boolean }> {
  return (await findOrCreateCustomersByEmail(ctx, [input]))[0]!;
}

/**
 * findOrCreateCustomerByEmail for several people at once (a batch of inbound mail), answered in the
 * order given: two statements whatever the count (a lookup, then the new ones with their companies
 * and events). The first of several inputs with one email names the customer, as if one by one.
 */
export async function findOrCreateCustomersByEmail(ctx: WriteContext, inputs: Array<NewCustomer & { email: string }>): Promise<Array<{ customer: Customer; created: boolean }>> {
  const emails = inputs.map((input) => normaliseEmail(input.email));
  const found = new Map<string, { customer: Customer; created: boolean }>();
  const { rows: existing } = await ctx.db.query<CustomerRow>(FIND_BY_EMAILS, [ctx.workspaceId, [...new Set(emails)]]);
  for (const row of existing) found.set(row.email!, { customer: toCustomer(row), created: false });

  const fresh = new Map<string, NewCustomer & { email: string }>();
  emails.forEach((email, i) => {
    if (!found.has(email) && !fresh.has(email)) fresh.set(email, { ...inputs[i]!, email });
  });
  if (fresh.size > 0) {
    const rows = [...fresh.values()].map((input) => {
      const company = inferCompany(input.email);
      return {
        input,
        company,
        id: newId('customer'),
        email: input.email,
        fullName: stripNul(input.fullName)?.trim() || fallbackName(input.email),
        shortName: stripNul(input.shortName)?.trim() || null,
        externalId: input.externalId ?? null,
        companyId: company ? newId('company') : null,
        eventId: newId('event'),
      };
    });
    const col = <T>(f: (r: (typeof rows)[number]) => T) => rows.map(f);
    const { rows: created } = await ctx.db.query<{ id: string; createdAt: Date; companyId: string | null }>(CREATE_WITH_COMPANIES, [
      ctx.workspaceId,
      col((r) => r.id), col((r) => r.email), col((r) => r.fullName), col((r) => r.shortName), col((r) => r.externalId),
      col((r) => r.companyId), col((r) => r.company?.domain ?? null), col((r) => r.company?.name ?? null), col((r) => r.eventId),
      ctx.origin,
    ]);
    const byId = new Map(created.map((c) => [c.id, c]));
    for (const r of rows) {
      const row = byId.get(r.id);
      if (!row) continue;
      if (r.company && !row.companyId) {
        // The company was committed by another transaction after this statement's snapshot: link
        // it (our own new row) and correct the event this statement recorded without it.
        await ctx.db.query('UPDATE customers SET company_id = (SELECT id FROM companies WHERE workspace_id = $1 AND domain = $2) WHERE id = $3', [ctx.workspaceId, r.company.domain, row.id]);
        const customer = (await getCustomer(ctx, row.id))!;
        await ctx.db.query(`UPDATE events SET payload = $2 WHERE workspace_id = $1 AND type = $3 AND payload->'customer'->>'id' = $4`, [ctx.workspaceId, JSON.stringify({ customer }), EVENT_TYPES.customerCreated, row.id]);
        found.set(r.email, { customer, created: true });
        continue;
      }
      const customer: Customer = {
        id: row.id,
        email: r.email,
        fullName: r.fullName,
        shortName: r.shortName,
        externalId: r.externalId,
        company: r.company && row.companyId ? { id: row.companyId, ...r.company } : null,
        origin: ctx.origin,
        createdAt: row.createdAt,
        updatedAt: row.createdAt,
      };
      found.set(r.email, { customer, created: true });
    }
    // Lost a race: another transaction committed these customers after our statement's snapshot.
    const lost = rows.filter((r) => !byId.has(r.id)).map((r) => r.email);
    if (lost.length > 0) {
      const { rows: raced } = await ctx.db.query<CustomerRow>(FIND_BY_EMAILS, [ctx.workspaceId, lost]);
      for (const row of raced) found.set(row.email!, { customer: toCustomer(row), created: false });
    }
  }
  // Every input is answered; the first input of an email created it, the rest found it.
  const answered = new Set<string>();
  return emails.map((email) => {
    const result = found.get(email);
    if (!result) throw new Error(`customer ${email} vanished after insert`);
    const first = !answered.has(email);
    answered.add(email);
    return first ? result : { customer: result.customer, created: false };
  });
}

/** A customer the source knows no email for (imports only), keyed by its external id. */
export async function createCustomerWithoutEmail(
  ctx: WriteContext,
  input: { fullName?: string | null; shortName?: string | null; externalId: string },
): Promise<Customer> {
  if (ctx.origin !== 'import') throw new InputError('A customer needs an email address', [{ field: 'email', message: 'is required', type: 'REQUIRED' }]);
  const id = newId('customer');
  await ctx.db.query(
    `INSERT INTO customers (id, workspace_id, email, full_name, short_name, external_id, origin)
     VALUES ($1, $2, NULL, $3, $4, $5, $6)`,
    [id, ctx.workspaceId, input.fullName?.trim() || fallbackName(null), input.shortName?.trim() || null, input.externalId, ctx.origin],
  );
  return (await getCustomer(ctx, id))!;
}

const FIND_BY_EMAIL = prepared('customers.find-by-email', `${SELECT} WHERE c.workspace_id = $1 AND c.email = $2`);

export async function findCustomerByEmail(ctx: ReadContext, email: string): Promise<Customer | null> {
  const { rows } = await ctx.db.query<CustomerRow>(FIND_BY_EMAIL, [ctx.workspaceId, email.trim().toLowerCase()]);
  return rows[0] ? toCustomer(rows[0]) : null;
}

/** How the API names a customer, as Plain's `CustomerIdentifierInput`: exactly one of the three. */
export type CustomerIdentifier = { customerId: string } | { emailAddress: string } | { externalId: string };

/**
 * The workspace's customer the identifier names, or null. `lock` takes the row for the caller's
 * transaction (an upsert changing it), so two writers of one customer take turns.
 */
export async function findCustomerByIdentifier(ctx: ReadContext, identifier: CustomerIdentifier, options: { lock?: boolean } = {}): Promise<Customer | null> {
  const [where, value] =
    'customerId' in identifier ? ['c.id = $2', identifier.customerId]
    : 'emailAddress' in identifier ? ['c.email = $2', identifier.emailAddress.trim().toLowerCase()]
    : ['c.external_id = $2', identifier.externalId];
  const { rows } = await ctx.db.query<CustomerRow>(`${SELECT} WHERE c.workspace_id = $1 AND ${where}${options.lock ? ' FOR UPDATE OF c' : ''}`, [ctx.workspaceId, value]);
  return rows[0] ? toCustomer(rows[0]) : null;
}

export async function getCustomer(ctx: ReadContext, id: string): Promise<Customer | null> {
  const { rows } = await ctx.db.query<CustomerRow>(`${SELECT} WHERE c.workspace_id = $1 AND c.id = $2`, [ctx.workspaceId, id]);
  return rows[0] ? toCustomer(rows[0]) : null;
}

/** A page of the workspace's customers in creation order, after the id `after`. */
export async function listCustomers(
  ctx: ReadContext,
  filter: { email?: string | undefined; after?: string | undefined; limit: number; order?: 'asc' | 'desc' },
): Promise<Customer[]> {
  const desc = filter.order === 'desc';
  const { rows } = await ctx.db.query<CustomerRow>(
    `${SELECT} WHERE c.workspace_id = $1 AND ($2::text IS NULL OR c.email = $2) AND ($3::text IS NULL OR ${desc ? 'c.id < $3' : 'c.id > $3'})
      ORDER BY c.id ${desc ? 'DESC' : 'ASC'} LIMIT $4`,
    [ctx.workspaceId, filter.email?.trim().toLowerCase() ?? null, filter.after ?? null, filter.limit],
  );
  return rows.map(toCustomer);
}

export type ImportedPerson = { key: string; email: string | null; fullName: string | null; createdAt: Date | null };

/**
 * Bulk find-or-create for imported people, two statements whatever the count: companies for
 * their domains, then the customers. A person whose email the workspace already has is linked
 * to that customer, never changed. People without an email always get a new customer.
 * Answers each person's customer id by key, and whether it was created.
 */
export async function importCustomers(ctx: WriteContext, people: ImportedPerson[]): Promise<Map<string, { customerId: string; created: boolean }>> {
  assertImport(ctx);
  const out = new Map<string, { customerId: string; created: boolean }>();
  if (people.length === 0) return out;
  const rows = people.map((p) => {
    const email = p.email === null ? null : normaliseEmail(p.email);
    const company = email ? inferCompany(email) : null;
    return {
      key: p.key,
      id: newId('customer', p.createdAt?.getTime()),
      email,
      full_name: stripNul(p.fullName)?.trim() || fallbackName(email),
      domain: company?.domain ?? null,
      company_id: company ? newId('company') : null,
      company_name: company?.name ?? null,
      created_at: (p.createdAt ?? new Date()).toISOString(),
    };
  });
  if (rows.some((r) => r.domain)) {
    await ctx.db.query(
      `INSERT INTO companies (id, workspace_id, domain, name, origin)
       SELECT DISTINCT ON (domain) company_id, $1, domain, company_name, 'import'
         FROM jsonb_to_recordset($2) AS x(company_id text, domain text, company_name text) WHERE domain IS NOT NULL
        ORDER BY domain
       ON CONFLICT (workspace_id, domain) DO NOTHING`,
      [ctx.workspaceId, JSON.stringify(rows)],
    );
  }
  const inserted = await ctx.db.query<{ id: string }>(
    `INSERT INTO customers (id, workspace_id, email, full_name, company_id, origin, created_at, updated_at)
     SELECT x.id, $1, x.email, x.full_name, co.id, 'import', x.created_at, x.created_at
       FROM jsonb_to_recordset($2) AS x(id text, email text, full_name text, domain text, created_at timestamptz)
       LEFT JOIN companies co ON co.workspace_id = $1 AND co.domain = x.domain
      ORDER BY x.email NULLS LAST
     ON CONFLICT (workspace_id, email) WHERE email IS NOT NULL DO NOTHING
     RETURNING id`,
    [ctx.workspaceId, JSON.stringify(rows)],
  );
  const created = new Set(inserted.rows.map((r) => r.id));
  const missing = rows.filter((r) => !created.has(r.id));
  const existing = new Map<string, string>();
  if (missing.length > 0) {
    const found = await ctx.db.query<{ id: string; email: string }>('SELECT id, email FROM customers WHERE workspace_id = $1 AND email = ANY($2)', [
      ctx.workspaceId,
      missing.map((r) => r.email),
    ]);
    for (const r of found.rows) existing.set(r.email, r.id);
  }
  for (const r of rows) {
    if (created.has(r.id)) out.set(r.key, { customerId: r.id, created: true });
    else {
      const id = r.email ? existing.get(r.email) : undefined;
      if (!id) throw new Error(`imported customer ${r.key} was neither created nor found`);
      out.set(r.key, { customerId: id, created: false });
    }
  }
  return out;
}
