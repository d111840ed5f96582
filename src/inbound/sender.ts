import { emailAddress } from './addresses.ts';
import type { EmailAddress, SenderHeader } from './email.ts';

/** One header's addresses as a parser read them: an address may lack its domain, a name its address. */
export type SenderCandidate = { header: SenderHeader; entries: ReadonlyArray<{ address?: string | null; name?: string | null }> };

// RFC 5322 dot-atom: what a bare local part such as MAILER-DAEMON or postmaster is made of.
const BARE_LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;

/**
 * Who sent the email, and which header said so: the first usable address of From, then Reply-To,
 * then Sender, then Return-Path (the envelope sender). An MTA's own mail may name its sender by a
 * bare local part (`From: MAILER-DAEMON`, `<postmaster>`): with no address anywhere else, that
 * local part is kept (lower-cased, without a domain) so a bounce still has its sender; it can never
 * become a customer.
 */
export function pickSender(candidates: readonly SenderCandidate[]): { from: EmailAddress | null; header: SenderHeader | null } {
  const from = candidates.find((c) => c.header === 'From');
  // `From: Jane Doe` (a name, no address) still names the person a fallback address belongs to.
  const fromName = from?.entries.map((e) => e.name?.trim() ?? '').find((n) => n && !BARE_LOCAL_PART.test(n)) ?? null;
  for (const c of candidates) {
    for (const e of c.entries) {
      const a = emailAddress(e.address, e.name);
      if (a) return { from: a.name === null && c.header !== 'From' ? (emailAddress(e.address, fromName) ?? a) : a, header: c.header };
    }
  }
  for (const e of from?.entries ?? []) {
    // addressparser reads `From: MAILER-DAEMON` as a name without an address.
    const local = (e.address?.trim() || (e.name?.trim() ?? '')).replace(/^<|>$/g, '');
    if (BARE_LOCAL_PART.test(local)) {
      const name = e.address?.trim() && e.name?.trim() ? e.name.trim() : null;
      return { from: { address: local.toLowerCase(), name: name && name.toLowerCase() !== local.toLowerCase() ? name : null }, header: 'From' };
    }
  }
  return { from: null, header: null };
}

/** True for an address with a domain: only those can be a customer. */
export function hasDomain(address: EmailAddress): boolean {
  return address.address.includes('@');
}
