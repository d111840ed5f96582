import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { emailAddress, messageIds } from './addresses.ts';
import { cleanEmail } from './clean-text.ts';
import { header, type EmailAddress, type EmailHeader, type NormalisedEmail } from './email.ts';
import { repairHeaderBytes } from './header-bytes.ts';
import { parseMailDate } from './mail-date.ts';
import { headerStart } from './message-start.ts';
import { pickSender } from './sender.ts';

type AddressEntry = { address?: string; name?: string };

/** Every address of an address header, group members included, as the parser read them. */
function entries(value: AddressObject | AddressObject[] | unknown): AddressEntry[] {
  const objects = (value === undefined || value === null ? [] : Array.isArray(value) ? value : [value]) as AddressObject[];
  const out: AddressEntry[] = [];
  const visit = (list: AddressObject['value'] | undefined) => {
    for (const e of list ?? []) {
      if (e.group) visit(e.group);
      else out.push({ address: e.address, name: e.name });
    }
  };
  for (const o of objects) visit(o?.value);
  return out;
}

function addresses(value: AddressObject | AddressObject[] | undefined): EmailAddress[] {
  return entries(value).flatMap((e) => emailAddress(e.address, e.name) ?? []);
}

function headerLines(parsed: ParsedMail): EmailHeader[] {
  // mailparser gives each line as one char per byte; after repairHeaderBytes any 8-bit is UTF-8.
  return parsed.headerLines
    .filter(({ key }) => key !== '')
    .map(({ line }) => {
      const text = Buffer.from(line, 'latin1').toString('utf8');
      const colon = text.indexOf(':');
      // Unfold: continuation lines join the value with one space.
      return { name: text.slice(0, colon).trim(), value: text.slice(colon + 1).replace(/\r?\n[ \t]+/g, ' ').trim() };
    });
}

function contentTypeHeader(parsed: ParsedMail): string | null {
  const ct = parsed.headers.get('content-type') as { value?: string; params?: Record<string, string> } | undefined;
  if (!ct?.value) return null;
  return [ct.value, ...Object.entries(ct.params ?? {}).map(([k, v]) => `${k}=${v}`)].join('; ');
}

/**
 * A raw RFC 822 message through mailparser: charsets, encoded words, RFC 2231 names, IDN. An mbox
 * `From ` line or a short preamble before the headers is skipped, and raw 8-bit header bytes are
 * repaired first (header-bytes.ts). `text` is the text/plain parts only: mailparser's own
 * HTML-to-text runs unbounded on this thread (deep nesting overflows the stack or blocks for
 * minutes), so HTML becomes text in html-text.ts.
 */
export async function normaliseMime(raw: Buffer): Promise<NormalisedEmail> {
  const start = headerStart(raw);
  const message = repairHeaderBytes(start > 0 ? raw.subarray(start) : raw);
  const parsed = await simpleParser(message, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true });
  const headers = headerLines(parsed);
  const sender = pickSender([
    { header: 'From', entries: entries(parsed.from) },
    { header: 'Reply-To', entries: entries(parsed.replyTo) },
    { header: 'Sender', entries: entries(parsed.headers.get('sender')) },
    { header: 'Return-Path', entries: entries(parsed.headers.get('return-path')) },
  ]);
  const dateHeader = header({ headers }, 'Date');
  const date = parseMailDate(dateHeader);
  return cleanEmail({
    from: sender.from,
    senderHeader: sender.header,
    replyTo: addresses(parsed.replyTo),
    to: addresses(parsed.to),
    cc: addresses(parsed.cc),
    bcc: addresses(parsed.bcc),
    subject: parsed.subject ?? '',
    date,
    unparsedDate: date === null && dateHeader ? dateHeader : null,
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
  });
}
