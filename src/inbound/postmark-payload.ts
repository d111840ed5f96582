import { z } from 'zod';

const fullAddress = z.object({ Email: z.string(), Name: z.string().nullish(), MailboxHash: z.string().nullish() }).loose();
const base64 = z.string().regex(/^[A-Za-z0-9+/=\r\n]*$/, 'must be base64');

/**
 * Postmark's inbound webhook JSON, as Postmark documents it; unknown fields pass through. The
 * "Check" button of Postmark's webhook settings posts a static sample that differs from real
 * deliveries (attachment bytes in `Data`, not `Content`; an all-zero MessageID): it is taken like
 * any email. A payload is refused only when it names no sender at all.
 */
export const postmarkInboundSchema = z
  .object({
    From: z.string().nullish(),
    FromName: z.string().nullish(),
    FromFull: fullAddress.nullish(),
    To: z.string().nullish(),
    ToFull: z.array(fullAddress).nullish(),
    Cc: z.string().nullish(),
    CcFull: z.array(fullAddress).nullish(),
    Bcc: z.string().nullish(),
    BccFull: z.array(fullAddress).nullish(),
    OriginalRecipient: z.string().nullish(),
    ReplyTo: z.string().nullish(),
    Subject: z.string().nullish(),
    // Postmark's own id; it keys deduplication, so it must be a storable string.
    MessageID: z.string().min(1, 'is required').max(200).regex(/^[^\u0000-\u001f]+$/u, 'must not contain control characters'),
    Date: z.string().nullish(),
    MailboxHash: z.string().nullish(),
    TextBody: z.string().nullish(),
    HtmlBody: z.string().nullish(),
    StrippedTextReply: z.string().nullish(),
    Tag: z.string().nullish(),
    MessageStream: z.string().nullish(),
    Headers: z.array(z.object({ Name: z.string(), Value: z.string() })).nullish(),
    Attachments: z
      .array(
        z
          .object({
            Name: z.string().nullish(),
            Content: base64.nullish(),
            // The webhook "Check" sample's name for Content.
            Data: base64.nullish(),
            ContentType: z.string().nullish(),
            ContentLength: z.number().int().nonnegative().nullish(),
            ContentID: z.string().nullish(),
          })
          .refine((a) => a.Content != null || a.Data != null, { message: 'is required', path: ['Content'] }),
      )
      .nullish(),
    RawEmail: z.string().nullish(),
  })
  .loose()
  .refine((p) => hasSender(p), { message: 'is required: the payload names no sender (From, FromFull, ReplyTo, a Sender or Return-Path header, or RawEmail)', path: ['From'] });

export type PostmarkInbound = z.infer<typeof postmarkInboundSchema>;

const SENDER_HEADER_NAMES: ReadonlySet<string> = new Set(['from', 'reply-to', 'sender', 'return-path']);

function hasSender(p: { From?: string | null; FromFull?: { Email: string } | null; ReplyTo?: string | null; Headers?: Array<{ Name: string; Value: string }> | null; RawEmail?: string | null }): boolean {
  const named = (v: string | null | undefined) => Boolean(v && /\S/.test(v.replace(/<\s*>/g, '')));
  return (
    named(p.From) ||
    named(p.FromFull?.Email) ||
    named(p.ReplyTo) ||
    (p.Headers ?? []).some((h) => SENDER_HEADER_NAMES.has(h.Name.toLowerCase()) && named(h.Value)) ||
    named(p.RawEmail)
  );
}

/** Postmark's id of a delivery, for deduplication; null for the Check sample's all-zero id, which every Check repeats. */
export function postmarkDeliveryId(messageId: string): string | null {
  return /^[0-]+$/.test(messageId) ? null : messageId;
}
