import type { PersonRecord, TenantRecord } from '../../src/import/adapter.ts';
import type { HubSpotCompany, HubSpotContact } from './schemas.ts';

/** HubSpot records -> the engine's records. Pure functions: no calls, no database. */

/**
 * A contact is a customer: its email first, then `hs_additional_emails` (semicolon-separated); none
 * makes a customer without email. Its companies are the associated ones only: the free-text
 * `company` property is not a link and is never read.
 */
export function mapContact(c: HubSpotContact, companyIds: readonly string[]): PersonRecord {
  const p = c.properties;
  const emails = [p.email ?? '', ...(p.hs_additional_emails ?? '').split(';')].map((e) => e.trim()).filter((e) => e !== '');
  const name = [p.firstname, p.lastname].map((s) => s?.trim() ?? '').filter((s) => s !== '').join(' ');
  return {
    sourceId: c.id,
    role: 'customer',
    // Nameless and without email: still someone to recognise in the list.
    name: name || (emails.length === 0 ? `HubSpot contact ${c.id}` : null),
    emails: [...new Set(emails)],
    tenantSourceIds: [...new Set(companyIds)],
    createdAt: new Date(validTime(p.createdate) ?? c.createdAt),
  };
}

/** A company linked to an imported contact is a tenant: its HubSpot id is the external id. */
export function mapCompany(c: HubSpotCompany): TenantRecord {
  const domain = companyDomain(c.properties.domain);
  return { sourceId: c.id, externalId: c.id, name: c.properties.name?.trim() || domain || `HubSpot company ${c.id}`, domain };
}

/** The company ids a listed contact links to: one company under several association types is one link. */
export function listedCompanyIds(c: HubSpotContact): string[] {
  return [...new Set((c.associations?.companies?.results ?? []).map((r) => r.id))];
}

/** When a contact last changed, as HubSpot's search sorts it: `lastmodifieddate`, else `updatedAt`; ISO with milliseconds. */
export function modifiedAt(c: HubSpotContact): string {
  return new Date(validTime(c.properties.lastmodifieddate) ?? c.updatedAt).toISOString();
}

function validTime(v: string | null | undefined): string | null {
  return v && !Number.isNaN(Date.parse(v)) ? v : null;
}

/** HubSpot's `domain` property is a bare host, as users typed it: a scheme, `www.`, a path or a port is dropped. */
export function companyDomain(raw: string | null | undefined): string | null {
  const v = raw?.trim().toLowerCase();
  if (!v) return null;
  const host = v.replace(/^[a-z][a-z0-9+.-]*:\/\//, '').split(/[/?#]/)[0]!.replace(/:\d+$/, '').replace(/\.$/, '').replace(/^www\./, '');
  return host === '' ? null : host;
}
