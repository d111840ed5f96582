import { z } from 'zod';

const fullAddress = z.object({ Email: z.string(), Name: z.string().nullish(), MailboxHash: z.string().nullish() }).loose();

/** Postmark's inbound webhook JSON, as Postmark documents it; unknown fields pass through. */
export const postmarkInboundSchema = z
  .object({
    From: z.string().min(1, 'is required'),
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
        z.object({
          Name: z.string().nullish(),
          Content: z.string().regex(/^[A-Za-z0-9+/=\r\n]*$/, 'must be base64'),
          ContentType: z.string().nullish(),
          ContentLength: z.number().int().nonnegative().nullish(),
          ContentID: z.string().nullish(),
        }),
      )
      .nullish(),
    RawEmail: z.string().nullish(),
  })
  .loose();

export type PostmarkInbound = z.infer<typeof postmarkInboundSchema>;
