/**
 * One email, however it arrived (Postmark JSON or raw RFC 822): the only shape the rest of the
 * inbound pipeline sees.
 */

export type EmailAddress = {
  /** Lower-cased, IDN domain as Unicode (münchen.de, not xn--mnchen-3ya.de). */
  address: string;
  /** Display name with RFC 2047 encoded words decoded; null when absent or empty. */
  name: string | null;
};

export type EmailHeader = { name: string; value: string };

/** The header the sender was read from: From, else the first of the fallbacks that names one. */
export type SenderHeader = 'From' | 'Reply-To' | 'Sender' | 'Return-Path';

export type EmailAttachment = {
  /** As the sender named it (RFC 2231 / encoded words decoded); null when the part has no name. */
  fileName: string | null;
  /** Lower-case MIME type without parameters, e.g. `application/pdf`. */
  contentType: string;
  content: Buffer;
  /** Without angle brackets; null when absent. */
  contentId: string | null;
  /** True for inline parts (Content-Disposition inline, or referenced by cid). */
  inline: boolean;
};

export type NormalisedEmail = {
  /**
   * The sender: From's address, else Reply-To's, Sender's or Return-Path's (`senderHeader` says
   * which). A bounce from `MAILER-DAEMON` keeps that bare local part as its address (no domain).
   */
  from: EmailAddress | null;
  senderHeader?: SenderHeader | null;
  replyTo: EmailAddress[];
  to: EmailAddress[];
  cc: EmailAddress[];
  bcc: EmailAddress[];
  subject: string;
  /** The Date header; the time the email was received when it is missing or unparsable and that time is known. */
  date: Date | null;
  /** The Date header as sent, kept when it could not be parsed. */
  unparsedDate?: string | null;
  /** Message-IDs are kept without angle brackets, case preserved. */
  messageId: string | null;
  inReplyTo: string[];
  references: string[];
  /** Every header in order, names as sent; look them up case-insensitively with `header()`. */
  headers: EmailHeader[];
  text: string | null;
  /** UTF-8 size of the whole text when `text` is already cut to what an entry stores (a large email parsed in a worker thread). */
  textSize?: number | null;
  html: string | null;
  attachments: EmailAttachment[];
  /** Top-level MIME type with parameters, e.g. `multipart/report; report-type=delivery-status`. */
  contentType: string | null;
  /** Postmark only: the address the message was delivered to, and the +hash of it. */
  originalRecipient: string | null;
  mailboxHash: string | null;
  /** Postmark only: its own extraction of the reply without quoted history. */
  strippedTextReply: string | null;
};

/** The first header with this name (case-insensitive), or null. */
export function header(email: Pick<NormalisedEmail, 'headers'>, name: string): string | null {
  const lower = name.toLowerCase();
  return email.headers.find((h) => h.name.toLowerCase() === lower)?.value ?? null;
}

/** Every header with this name (case-insensitive), in order. */
export function headers(email: Pick<NormalisedEmail, 'headers'>, name: string): string[] {
  const lower = name.toLowerCase();
  return email.headers.filter((h) => h.name.toLowerCase() === lower).map((h) => h.value);
}
