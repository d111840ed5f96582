import { emailAddress, messageIds, parseAddressList } from './addresses.ts';
import { cleanEmail } from './clean-text.ts';
import { header, type EmailAddress, type NormalisedEmail } from './email.ts';
import { parseMailDate } from './mail-date.ts';
import { normaliseMime } from './normalise-mime.ts';
import type { PostmarkInbound } from './postmark-payload.ts';
import { pickSender } from './sender.ts';

type Full = { Email: string; Name?: string | null | undefined };

function fullList(full: Full[] | null | undefined, plain: string | null | undefined): EmailAddress[] {
  if (full?.length) return full.map((f) => emailAddress(f.Email, f.Name)).filter((a): a is EmailAddress => a !== null);
  return parseAddressList(plain);
}

/** Postmark's fields onto the one email shape: Postmark has already decoded charsets and MIME. */
function fromFields(p: PostmarkInbound): NormalisedEmail {
  const headers = (p.Headers ?? []).map((h) => ({ name: h.Name, value: h.Value }));
  const entries = (value: string | null | undefined) => parseAddressList(value).map((a) => ({ address: a.address, name: a.name }));
  const sender = pickSender([
    // FromFull is Postmark's parse of the From header; the From string can disagree with it (a
    // rewritten envelope, a display name in it): FromFull wins.
    { header: 'From', entries: [{ address: p.FromFull?.Email, name: p.FromFull?.Name || p.FromName }, ...entries(p.From).map((e) => ({ ...e, name: e.name ?? p.FromName })), { address: p.From, name: p.FromName }] },
    { header: 'Reply-To', entries: entries(p.ReplyTo) },
    { header: 'Sender', entries: entries(header({ headers }, 'Sender')) },
    { header: 'Return-Path', entries: entries(header({ headers }, 'Return-Path')) },
  ]);
  const date = parseMailDate(p.Date);
  return {
    from: sender.from,
    senderHeader: sender.header,
    replyTo: parseAddressList(p.ReplyTo),
    to: fullList(p.ToFull, p.To),
    cc: fullList(p.CcFull, p.Cc),
    bcc: fullList(p.BccFull, p.Bcc),
    subject: p.Subject ?? '',
    date,
    unparsedDate: date === null && p.Date?.trim() ? p.Date : null,
    // Postmark's MessageID is its own id; the email's ids are in its headers.
    messageId: messageIds(header({ headers }, 'Message-ID'))[0] ?? null,
    inReplyTo: messageIds(header({ headers }, 'In-Reply-To')),
    references: messageIds(header({ headers }, 'References')),
    headers,
    text: p.TextBody || null,
    html: p.HtmlBody || null,
    attachments: (p.Attachments ?? []).map((a) => ({
      fileName: a.Name?.trim() || null,
      contentType: (a.ContentType ?? 'application/octet-stream').split(';')[0]!.trim().toLowerCase(),
      content: Buffer.from(a.Content ?? a.Data ?? '', 'base64'),
      contentId: a.ContentID?.replace(/^<|>$/g, '') || null,
      inline: Boolean(a.ContentID),
    })),
    contentType: header({ headers }, 'Content-Type'),
    originalRecipient: p.OriginalRecipient?.trim() || null,
    mailboxHash: p.MailboxHash?.trim() || null,
    strippedTextReply: p.StrippedTextReply || null,
  };
}

/** The header section of Postmark's RawEmail, parsed as a raw message is; null when it has none. */
async function rawEmailHeaders(rawEmail: string): Promise<NormalisedEmail | null> {
  const end = /\r?\n\r?\n/.exec(rawEmail);
  const section = Buffer.from(`${end ? rawEmail.slice(0, end.index) : rawEmail}\r\n\r\n`, 'utf8');
  try {
    const parsed = await normaliseMime(section);
    return parsed.headers.length > 0 ? parsed : null;
  } catch {
    return null;
  }
}

/**
 * A Postmark payload as the one email shape. With RawEmail (Postmark's "include raw email"
 * option) the message's own headers are the source of truth for who sent it, to whom, when and
 * with which ids, and Postmark's fields fill only what they lack (Bcc, which no header carries);
 * the bodies and attachments are Postmark's decoded ones.
 */
export async function normalisePostmark(p: PostmarkInbound): Promise<NormalisedEmail> {
  const fields = fromFields(p);
  const raw = p.RawEmail ? await rawEmailHeaders(p.RawEmail) : null;
  if (!raw) return cleanEmail(fields);
  const has = (name: string) => header(raw, name) !== null;
  const pick = <T>(name: string, fromRaw: T, fromPostmark: T) => (has(name) ? fromRaw : fromPostmark);
  return cleanEmail({
    ...fields,
    ...(raw.from ? { from: raw.from, senderHeader: raw.senderHeader ?? null } : {}),
    replyTo: pick('Reply-To', raw.replyTo, fields.replyTo),
    to: pick('To', raw.to, fields.to),
    cc: pick('Cc', raw.cc, fields.cc),
    bcc: pick('Bcc', raw.bcc, fields.bcc),
    subject: pick('Subject', raw.subject, fields.subject),
    date: pick('Date', raw.date, fields.date),
    unparsedDate: pick('Date', raw.unparsedDate ?? null, fields.unparsedDate ?? null),
    messageId: pick('Message-ID', raw.messageId, fields.messageId),
    inReplyTo: pick('In-Reply-To', raw.inReplyTo, fields.inReplyTo),
    references: pick('References', raw.references, fields.references),
    headers: raw.headers,
    contentType: raw.contentType ?? fields.contentType,
  });
}
