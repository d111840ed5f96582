import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { emailAddress, messageIds } from './addresses.ts';
import type { EmailAddress, EmailHeader, NormalisedEmail } from './email.ts';

function addresses(value: AddressObject | AddressObject[] | undefined): EmailAddress[] {
  const objects = value === undefined ? [] : Array.isArray(value) ? value : [value];
  const out: EmailAddress[] = [];
  const visit = (entries: AddressObject['value']) => {
    for (const e of entries) {
      if (e.group) visit(e.group);
      else {
        const a = emailAddress(e.address, e.name);
        if (a) out.push(a);
      }
    }
  };
  for (const o of objects) visit(o.value);
  return out;
}

function headerLines(parsed: ParsedMail): EmailHeader[] {
  return parsed.headerLines.map(({ line }) => {
    const colon = line.indexOf(':');
    // Unfold: continuation lines join the value with one space.
    return { name: line.slice(0, colon).trim(), value: line.slice(colon + 1).replace(/\r?\n[ \t]+/g, ' ').trim() };
  });
}

function contentTypeHeader(parsed: ParsedMail): string | null {
  const ct = parsed.headers.get('content-type') as { value?: string; params?: Record<string, string> } | undefined;
  if (!ct?.value) return null;
  return [ct.value, ...Object.entries(ct.params ?? {}).map(([k, v]) => `${k}=${v}`)].join('; ');
}

/**
 * A raw RFC 822 message through mailparser: charsets, encoded words, RFC 2231 names, IDN. `text` is
 * the text/plain parts only: mailparser's own HTML-to-text runs unbounded on this thread (deep
 * nesting overflows the stack or blocks for minutes), so HTML becomes text in html-text.ts.
 */
export async function normaliseMime(raw: Buffer): Promise<NormalisedEmail> {
  const parsed = await simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true });
  const headers = headerLines(parsed);
  const from = addresses(parsed.from)[0] ?? null;
  return {
    from,
    replyTo: addresses(parsed.replyTo),
    to: addresses(parsed.to),
    cc: addresses(parsed.cc),
    bcc: addresses(parsed.bcc),
    subject: parsed.subject ?? '',
    date: parsed.date && !Number.isNaN(parsed.date.getTime()) && headers.some((h) => h.name.toLowerCase() === 'date') ? parsed.date : null,
    messageId: messageIds(parsed.messageId)[0] ?? null,
    inReplyTo: messageIds(parsed.inReplyTo),
    references: messageIds(parsed.references),
    headers,
    // With HTML-to-text skipped, an HTML-only message gives an empty text.
    text: parsed.text && /\S/u.test(parsed.text) ? parsed.text : null,
    html: typeof parsed.html === 'string' && parsed.html ? parsed.html : null,
    attachments: parsed.attachments.map((a) => ({
      fileName: a.filename?.trim() || null,
      contentType: (a.contentType || 'application/octet-stream').toLowerCase(),
      content: a.content,
      contentId: a.contentId?.replace(/^<|>$/g, '') || a.cid || null,
      inline: a.contentDisposition === 'inline' || a.related === true,
    })),
    contentType: contentTypeHeader(parsed),
    originalRecipient: null,
    mailboxHash: null,
    strippedTextReply: null,
  };
}
