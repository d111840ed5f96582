import { domainToUnicode } from 'node:url';
import type { EmailAddress } from './email.ts';

/** Lower-cased, IDN domain in Unicode; null when it is not an address at all. */
export function normaliseAddress(address: string | null | undefined): string | null {
  if (!address) return null;
  const trimmed = address.trim().replace(/^<|>$/g, '').trim();
  const at = trimmed.lastIndexOf('@');
  if (at < 1 || at === trimmed.length - 1 || /[\s\u0000-\u001f\u007f]/u.test(trimmed)) return null;
  const local = trimmed.slice(0, at).toLowerCase();
  const rawDomain = trimmed.slice(at + 1).toLowerCase().replace(/\.$/, '');
  const domain = rawDomain.split('.').some((label) => label.startsWith('xn--')) ? domainToUnicode(rawDomain) || rawDomain : rawDomain;
  return `${local}@${domain}`;
}

export function emailAddress(address: string | null | undefined, name?: string | null): EmailAddress | null {
  const normalised = normaliseAddress(address);
  if (!normalised) return null;
  const cleanName = name?.replace(/\s+/g, ' ').trim().replace(/^(["'])(.*)\1$/, '$2').trim() || null;
  return { address: normalised, name: cleanName && cleanName.toLowerCase() !== normalised ? cleanName : null };
}

// RFC 5322 caps a line at 998 characters; anything longer, or with control characters (Postgres
// refuses NUL), is not a Message-ID we can store or match.
const USABLE_ID = /^[^\u0000-\u001f\u007f]{1,998}$/u;

/** Message-IDs without angle brackets; a header may carry several (References). */
export function messageIds(value: string | string[] | null | undefined): string[] {
  if (!value) return [];
  const text = Array.isArray(value) ? value.join(' ') : value;
  const bracketed = [...text.matchAll(/<([^<>\s]+)>/g)].map((m) => m[1]!);
  const ids = bracketed.length ? bracketed : text.split(/[\s,]+/).filter((t) => t.includes('@'));
  return [...new Set(ids.filter((id) => USABLE_ID.test(id)))];
}

/** Parses an address-list header value such as `"Doe, Jane" <jane@x.com>, bob@y.com`. */
export function parseAddressList(value: string | null | undefined): EmailAddress[] {
  if (!value) return [];
  const out: EmailAddress[] = [];
  // Split on commas outside quotes and angle brackets.
  let depthQuote = false;
  let depthAngle = 0;
  let current = '';
  const parts: string[] = [];
  for (const ch of value) {
    if (ch === '"') depthQuote = !depthQuote;
    else if (ch === '<' && !depthQuote) depthAngle++;
    else if (ch === '>' && !depthQuote) depthAngle = Math.max(0, depthAngle - 1);
    if (ch === ',' && !depthQuote && depthAngle === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  for (const part of parts) {
    const angle = /^(.*)<([^<>]+)>\s*$/.exec(part.trim());
    const parsed = angle ? emailAddress(angle[2], angle[1]) : emailAddress(part.trim());
    if (parsed) out.push(parsed);
  }
  return out;
}
