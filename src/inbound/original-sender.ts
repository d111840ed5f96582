import { emailAddress, parseAddressList } from './addresses.ts';
import { header, type EmailAddress, type NormalisedEmail } from './email.ts';

/**
 * The person who wrote the email. Google Groups and other lists rewrite From to their own address
 * ("'Jane' via Support" <support@group>) to pass DMARC and keep the author in X-Original-From,
 * X-Original-Sender or Reply-To; the customer is that author, not the list.
 */
export function originalSender(email: Pick<NormalisedEmail, 'from' | 'replyTo' | 'headers'>): EmailAddress | null {
  const from = email.from;
  if (!from) return null;
  const viaName = from.name ? /^['"]?(.+?)['"]?\s+via\s+.+$/i.exec(from.name) : null;
  const candidates: Array<EmailAddress | null | undefined> = [
    parseAddressList(header(email, 'X-Original-From'))[0],
    emailAddress(header(email, 'X-Original-Sender')),
  ];
  // Reply-To alone proves nothing (many senders set it); it counts only for a "via" rewrite.
  if (viaName) candidates.push(email.replyTo[0]);
  const original = candidates.find((c): c is EmailAddress => Boolean(c) && c!.address !== from.address);
  if (!original) return from;
  return { address: original.address, name: original.name ?? viaName?.[1]?.trim() ?? null };
}
