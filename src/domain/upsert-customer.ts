import { ALREADY_EXISTS_CODES, AlreadyExistsError, violatedConstraint } from './already-exists.ts';
import { inferCompany } from './company-inference.ts';
import { findCustomerByIdentifier, findOrCreateCustomerByEmail, getCustomer, normaliseEmail, type Customer, type CustomerIdentifier } from './customers.ts';
import { EVENT_TYPES, recordEvent } from './events.ts';
import { newId } from './ids.ts';
import { InputError } from './input-error.ts';
import type { WriteContext } from './origin.ts';
import { stripNul } from './text.ts';

export const UPSERT_RESULTS = Object.freeze(['CREATED', 'UPDATED', 'NOOP'] as const);
export type UpsertResult = (typeof UPSERT_RESULTS)[number];

/**
 * Plain's `upsertCustomer`: `onCreate` when no customer matches the identifier, else `onUpdate`,
 * where an absent field is left as it is and `null` clears a short name or external id.
 */
export type CustomerUpsert = {
  identifier: CustomerIdentifier;
  onCreate: { fullName: string; shortName?: string | null | undefined; email: string; externalId?: string | null | undefined };
  onUpdate: { fullName?: string | undefined; shortName?: string | null | undefined; email?: string | undefined; externalId?: string | null | undefined };
};

/** An address the caller sent, normalised, or an InputError naming where it was. */
function emailAt(value: string, field: string): string {
  try {
    return normaliseEmail(value);
  } catch (err) {
    if (err instanceof InputError) throw new InputError(err.message, err.fields.map((f) => ({ ...f, field })));
    throw err;
  }
}

const clean = (value: string) => stripNul(value).trim();
const cleanOrNull = (value: string | null | undefined) => (value == null ? null : clean(value) || null);

/** Maps the unique indexes of customers to Plain's codes; anything else is rethrown. */
function duplicateOf(err: unknown, where: 'onCreate' | 'onUpdate'): never {
  const constraint = violatedConstraint(err);
  if (constraint === 'customers_email') {
    throw new AlreadyExistsError(ALREADY_EXISTS_CODES.customerEmail, `${where}.email.email`, 'A customer with this email already exists in the workspace.');
  }
  if (constraint === 'customers_external_id') {
    throw new AlreadyExistsError(ALREADY_EXISTS_CODES.customerExternalId, where === 'onCreate' ? 'onCreate.externalId' : 'onUpdate.externalId.value', 'A customer with this external id already exists in the workspace.');
  }
  throw err;
}

/** The customer as events carry it (the API's view, company and both times included). */
export const customerSnapshot = (c: Customer) => ({
  id: c.id, email: c.email, fullName: c.fullName, shortName: c.shortName, externalId: c.externalId, origin: c.origin,
  createdAt: c.createdAt, updatedAt: c.updatedAt, company: c.company,
});

/**
 * Creates or updates one customer; run it in a transaction (the matched row is locked until
 * commit). Null when the identifier is a customer id the workspace does not have: an id cannot be
 * created. CREATED records `customer.customer_created`, UPDATED `customer.customer_updated`,
 * NOOP nothing.
 */
export async function upsertCustomer(ctx: WriteContext, input: CustomerUpsert): Promise<{ result: UpsertResult; customer: Customer } | null> {
  const existing = await findCustomerByIdentifier(ctx, input.identifier, { lock: true });
  if (existing) return updateCustomer(ctx, existing, input.onUpdate);
  if ('customerId' in input.identifier) return null;

  const email = emailAt(input.onCreate.email, 'onCreate.email.email');
  let externalId = cleanOrNull(input.onCreate.externalId);
  if ('emailAddress' in input.identifier && emailAt(input.identifier.emailAddress, 'identifier.emailAddress') !== email) {
    throw new InputError('The customer to create must have the email it is identified by', [
      { field: 'onCreate.email.email', message: 'must be the same address as identifier.emailAddress', type: 'VALIDATION' },
    ]);
  }
  if ('externalId' in input.identifier) {
    if (externalId !== null && externalId !== input.identifier.externalId) {
      throw new InputError('The customer to create must have the external id it is identified by', [
        { field: 'onCreate.externalId', message: 'must be the same as identifier.externalId (or left out)', type: 'VALIDATION' },
      ]);
    }
    externalId = input.identifier.externalId;
    // By external id, the email may already be another customer's.
    const holder = await findCustomerByIdentifier(ctx, { emailAddress: email });
    if (holder) throw new AlreadyExistsError(ALREADY_EXISTS_CODES.customerEmail, 'onCreate.email.email', `A customer with this email already exists in the workspace: ${holder.id}.`, holder.id);
  }
  if (externalId !== null && 'emailAddress' in input.identifier) {
    const holder = await findCustomerByIdentifier(ctx, { externalId });
    if (holder) throw new AlreadyExistsError(ALREADY_EXISTS_CODES.customerExternalId, 'onCreate.externalId', `A customer with this external id already exists in the workspace: ${holder.id}.`, holder.id);
  }
  const created = await findOrCreateCustomerByEmail(ctx, { email, fullName: input.onCreate.fullName, shortName: input.onCreate.shortName ?? null, externalId }).catch((err) => duplicateOf(err, 'onCreate'));
  if (created.created) return { result: 'CREATED', customer: created.customer };
  // Another transaction created this email since we looked: the same customer when it matches our
  // identifier (two identical upserts at once), else the email is someone else's.
  const winner = created.customer;
  const same = 'emailAddress' in input.identifier || ('externalId' in input.identifier && winner.externalId === input.identifier.externalId);
  if (!same) throw new AlreadyExistsError(ALREADY_EXISTS_CODES.customerEmail, 'onCreate.email.email', `A customer with this email already exists in the workspace: ${winner.id}.`, winner.id);
  const locked = await findCustomerByIdentifier(ctx, { customerId: winner.id }, { lock: true });
  return updateCustomer(ctx, locked ?? winner, input.onUpdate);
}

async function updateCustomer(ctx: WriteContext, before: Customer, onUpdate: CustomerUpsert['onUpdate']): Promise<{ result: UpsertResult; customer: Customer }> {
  const next = {
    fullName: onUpdate.fullName === undefined ? before.fullName : clean(onUpdate.fullName) || before.fullName,
    shortName: onUpdate.shortName === undefined ? before.shortName : cleanOrNull(onUpdate.shortName),
    email: onUpdate.email === undefined ? before.email : emailAt(onUpdate.email, 'onUpdate.email.email'),
    externalId: onUpdate.externalId === undefined ? before.externalId : cleanOrNull(onUpdate.externalId),
  };
  if (next.fullName === before.fullName && next.shortName === before.shortName && next.email === before.email && next.externalId === before.externalId) {
    return { result: 'NOOP', customer: before };
  }
  if (next.email !== before.email && next.email !== null) {
    const holder = await findCustomerByIdentifier(ctx, { emailAddress: next.email });
    if (holder) throw new AlreadyExistsError(ALREADY_EXISTS_CODES.customerEmail, 'onUpdate.email.email', `A customer with this email already exists in the workspace: ${holder.id}.`, holder.id);
  }
  if (next.externalId !== before.externalId && next.externalId !== null) {
    const holder = await findCustomerByIdentifier(ctx, { externalId: next.externalId });
    if (holder) throw new AlreadyExistsError(ALREADY_EXISTS_CODES.customerExternalId, 'onUpdate.externalId.value', `A customer with this external id already exists in the workspace: ${holder.id}.`, holder.id);
  }
  // The company follows the email, as for a new sender: the new address's domain, none for a public one.
  const companyChanges = next.email !== before.email && next.email !== null;
  const inferred = companyChanges ? inferCompany(next.email!) : null;
  if (inferred) {
    await ctx.db.query(`INSERT INTO companies (id, workspace_id, domain, name, origin) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (workspace_id, domain) DO NOTHING`, [
      newId('company'), ctx.workspaceId, inferred.domain, inferred.name, ctx.origin,
    ]);
  }
  await ctx.db
    .query(
      `UPDATE customers SET full_name = $3, short_name = $4, email = $5, external_id = $6, updated_at = clock_timestamp(),
              company_id = CASE WHEN $7 THEN (SELECT id FROM companies WHERE workspace_id = $1 AND domain = $8) ELSE company_id END
        WHERE workspace_id = $1 AND id = $2`,
      [ctx.workspaceId, before.id, next.fullName, next.shortName, next.email, next.externalId, companyChanges, inferred?.domain ?? null],
    )
    .catch((err) => duplicateOf(err, 'onUpdate'));
  const after = (await getCustomer(ctx, before.id))!;
  await recordEvent(ctx, EVENT_TYPES.customerUpdated, { customer: customerSnapshot(after), previousCustomer: customerSnapshot(before) });
  return { result: 'UPDATED', customer: after };
}
