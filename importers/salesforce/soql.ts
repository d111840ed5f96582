import { salesforceId } from './schemas.ts';

/**
 * The SOQL the importer sends, as pure text builders. A datetime literal is unquoted ISO 8601 to
 * the second (`2026-05-06T10:00:00Z`): the form records come back in (`.000+0000`) or a quoted
 * one is refused by Salesforce as MALFORMED_QUERY or INVALID_FIELD.
 */

/** Where the contacts query resumes: after this (SystemModstamp, Id) pair. `at` is ISO 8601 UTC. */
export type Keyset = { at: string; id: string };

export function soqlDateTime(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function idLiteral(id: string): string {
  // Ids are checked before they get here; a quote or backslash in one would change the query.
  if (!salesforceId.safeParse(id).success) throw new TypeError(`not a Salesforce id: ${JSON.stringify(id)}`);
  return `'${id}'`;
}

/**
 * After the pair (t, id), in ORDER BY SystemModstamp, Id order. Many records share one
 * SystemModstamp (bulk loads), so the time alone would lose or repeat records at page edges.
 * A literal has whole seconds: a time with milliseconds re-reads its whole second (those
 * records are in the ledger and skipped) rather than lose any.
 */
export function keysetCondition(after: Keyset): string {
  const at = new Date(after.at);
  if (Number.isNaN(at.getTime())) throw new TypeError(`not a time: ${after.at}`);
  const t = soqlDateTime(at);
  if (at.getUTCMilliseconds() !== 0) return `SystemModstamp >= ${t}`;
  return `SystemModstamp > ${t} OR (SystemModstamp = ${t} AND Id > ${idLiteral(after.id)})`;
}

/**
 * Contacts in SystemModstamp order, not CreatedDate: records loaded with audit fields can carry an
 * old CreatedDate and would be missed. Their account's name and website come with them as
 * relationship fields, so a page's tenants cost no call of their own.
 */
export function contactsQuery(after: Keyset | null): string {
  const where = after ? ` WHERE ${keysetCondition(after)}` : '';
  return `SELECT Id, FirstName, LastName, Email, AccountId, Account.Name, Account.Website, CreatedDate, SystemModstamp FROM Contact${where} ORDER BY SystemModstamp, Id`;
}

/** Accounts by id, for contacts whose relationship fields did not come back. */
export function accountsQuery(ids: readonly string[]): string {
  return `SELECT Id, Name, Website FROM Account WHERE Id IN (${ids.map(idLiteral).join(', ')})`;
}
