import { domainToUnicode } from 'node:url';
import { parse } from 'tldts';
import { isPublicEmailDomain } from './public-email-domains.ts';

export type InferredCompany = { domain: string; name: string };

/**
 * The company an email address belongs to: its registrable domain and a name made from it
 * (`jeff@nike.com` -> Nike, `a@support.acme.co.uk` -> Acme), or null for public mail providers
 * and addresses with no registrable domain (localhost, IP literals).
 */
export function inferCompany(email: string): InferredCompany | null {
  const at = email.lastIndexOf('@');
  if (at < 1) return null;
  const host = email.slice(at + 1).trim().toLowerCase().replace(/\.$/, '');
  const parsed = parse(host, { allowPrivateDomains: false });
  if (parsed.isIp || !parsed.domain || !parsed.domainWithoutSuffix || !parsed.isIcann) return null;
  if (isPublicEmailDomain(parsed.domain, parsed.domainWithoutSuffix)) return null;
  return { domain: parsed.domain, name: companyName(parsed.domainWithoutSuffix) };
}

function companyName(label: string): string {
  const unicode = label.startsWith('xn--') ? domainToUnicode(`${label}.com`).replace(/\.com$/, '') || label : label;
  return unicode
    .split('-')
    .filter(Boolean)
    .map((word) => word.charAt(0).toLocaleUpperCase() + word.slice(1))
    .join(' ');
}
