import type { PersonRecord, TenantRecord } from '../../src/import/adapter.ts';
import { parseSalesforceTime, type SalesforceContact } from './schemas.ts';

/** Salesforce records -> the engine's records. Pure functions: no calls, no database. */

/** A contact is a customer; without email a customer without one; without account a customer with no tenant. */
export function mapContact(c: SalesforceContact): PersonRecord {
  const name = [c.FirstName, c.LastName].map((part) => part?.trim() ?? '').filter((part) => part !== '').join(' ');
  const email = c.Email?.trim();
  return {
    sourceId: c.Id,
    role: 'customer',
    name: name || null,
    emails: email ? [email] : [],
    tenantSourceIds: c.AccountId ? [c.AccountId] : [],
    createdAt: parseSalesforceTime(c.CreatedDate),
  };
}

/** An account is a tenant: its Salesforce id is the external id, the domain comes from its Website. */
export function mapAccount(a: { Id: string; Name?: string | null | undefined; Website?: string | null | undefined }): TenantRecord {
  return { sourceId: a.Id, externalId: a.Id, name: a.Name?.trim() || `Salesforce account ${a.Id}`, domain: websiteDomain(a.Website) };
}

/**
 * The domain of a Website field as people type it: `www.Acme.com`, `https://acme.com/about`,
 * `acme.co.uk:8443`, `acme.com, acme.de` (the first). Anything that is not a public-looking host
 * name (`n/a`, an IP address, `localhost`) is no domain.
 */
export function websiteDomain(website: string | null | undefined): string | null {
  const first = website?.trim().split(/[\s,;]+/)[0];
  if (!first) return null;
  const url = URL.parse(/^[a-z][a-z0-9+.-]*:\/\//i.test(first) ? first : `http://${first}`);
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) return null;
  const host = url.hostname.toLowerCase().replace(/\.$/, '').replace(/^www\d*\./, '');
  const labels = host.split('.');
  if (labels.length < 2 || labels.some((l) => !/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(l))) return null;
  // The last label is a TLD: letters (or an IDN's punycode), never digits as in an IP address.
  if (!/^(?:[a-z]{2,63}|xn--[a-z0-9-]+)$/.test(labels.at(-1)!)) return null;
  return host;
}
