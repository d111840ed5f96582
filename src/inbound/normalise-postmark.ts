import { emailAddress, messageIds, parseAddressList } from './addresses.ts';
import { header, type EmailAddress, type NormalisedEmail } from './email.ts';
import type { PostmarkInbound } from './postmark-payload.ts';

type Full = { Email: string; Name?: string | null | undefined };

function fullList(full: Full[] | null | undefined, plain: string | null | undefined): EmailAddress[] {
  if (full?.length) return full.map((f) => emailAddress(f.Email, f.Name)).filter((a): a is EmailAddress => a !== null);
  return parseAddressList(plain);
}

/** Postmark has already decoded charsets and MIME; map its fields onto the one email shape. */
export function normalisePostmark(p: PostmarkInbound): NormalisedEmail {
  const headers = (p.Headers ?? []).map((h) => ({ name: h.Name, value: h.Value }));
  const date = p.Date ? new Date(p.Date) : null;
  const from = p.FromFull ? emailAddress(p.FromFull.Email, p.FromFull.Name ?? p.FromName) : (parseAddressList(p.From)[0] ?? null);
  return {
    from: from ?? emailAddress(p.From, p.FromName),
    replyTo: parseAddressList(p.ReplyTo),
    to: fullList(p.ToFull, p.To),
    cc: fullList(p.CcFull, p.Cc),
    bcc: fullList(p.BccFull, p.Bcc),
    subject: p.Subject ?? '',
    date: date && !Number.isNaN(date.getTime()) ? date : null,
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
      content: Buffer.from(a.Content, 'base64'),
      contentId: a.ContentID?.replace(/^<|>$/g, '') || null,
      inline: Boolean(a.ContentID),
    })),
    contentType: header({ headers }, 'Content-Type'),
    originalRecipient: p.OriginalRecipient?.trim() || null,
    mailboxHash: p.MailboxHash?.trim() || null,
    strippedTextReply: p.StrippedTextReply || null,
  };
}
