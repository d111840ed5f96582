import type { NormalisedEmail } from './email.ts';

/**
 * How an email was read, kept in its outcome (the inbound email's classification JSON) so the
 * team can see it: the sender (a bounce's may be a bare `mailer-daemon`) and the header that gave
 * it when From did not, the date used, and a Date header that could not be read, as sent.
 */
export function emailFacts(email: Pick<NormalisedEmail, 'from' | 'senderHeader' | 'date' | 'unparsedDate'>) {
  return {
    sender: email.from?.address ?? null,
    senderHeader: email.senderHeader ?? null,
    date: email.date?.toISOString() ?? null,
    unparsedDate: email.unparsedDate ?? null,
  };
}
