import { stripNul } from '../domain/text.ts';
import type { EmailAddress, NormalisedEmail } from './email.ts';

/**
 * What decoding can leave in an email that no reader wants and Postgres or jsonb refuses: a NUL
 * (`=?utf-8?Q?Jane=00Doe?=`), a lone UTF-16 surrogate (an encoded word in UTF-16 cut in half).
 */

// C0 controls but tab, and DEL: never part of a name or a subject. A NUL is dropped (`Sub\0ject`
// is a word), a line break or other control reads as a space.
const CONTROLS = /[\u0001-\u0008\u000a-\u001f\u007f]/gu;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/gu;

/** A one-line header text (display name, subject, header value): controls become spaces, lone surrogates go. */
export function cleanHeaderText(value: string): string {
  return value.replaceAll('\u0000', '').replace(CONTROLS, ' ').replace(LONE_SURROGATE, '');
}

function cleanAddress(a: EmailAddress): EmailAddress {
  const name = a.name === null ? null : cleanHeaderText(a.name).replace(/\s+/g, ' ').trim() || null;
  return { address: cleanHeaderText(a.address), name };
}

/** The email with every decoded text safe to store and to print as JSON. */
export function cleanEmail(email: NormalisedEmail): NormalisedEmail {
  return {
    ...email,
    from: email.from && cleanAddress(email.from),
    replyTo: email.replyTo.map(cleanAddress),
    to: email.to.map(cleanAddress),
    cc: email.cc.map(cleanAddress),
    bcc: email.bcc.map(cleanAddress),
    subject: cleanHeaderText(email.subject),
    headers: email.headers.map((h) => ({ name: cleanHeaderText(h.name), value: cleanHeaderText(h.value) })),
    unparsedDate: email.unparsedDate ? cleanHeaderText(email.unparsedDate) : (email.unparsedDate ?? null),
    text: stripNul(email.text),
    html: stripNul(email.html),
    attachments: email.attachments.map((a) => ({ ...a, fileName: a.fileName === null ? null : cleanHeaderText(a.fileName).trim() || null })),
    contentType: email.contentType === null ? null : cleanHeaderText(email.contentType),
  };
}
