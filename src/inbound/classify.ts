import { header, headers, type NormalisedEmail } from './email.ts';

/**
 * What kind of machine mail a message is (RFC 3834 and common practice). A bounce is never also
 * an auto-reply; an auto-reply can also be bulk (a list's own auto-responder, a vacation reply
 * to a newsletter).
 */
export type Classification = { bounce: boolean; autoReply: boolean; bulk: boolean; bouncedMessageIds: string[] };

type ClassifiableEmail = Pick<NormalisedEmail, 'from' | 'headers' | 'contentType' | 'subject' | 'text' | 'attachments'>;

/** Local parts MTAs send bounces from (`MAILER-DAEMON@mx.example.com`, `postmaster@outlook.com`). */
const BOUNCE_SENDERS: ReadonlySet<string> = new Set(['mailer-daemon', 'postmaster']);

/** Legacy auto-responder flags: present means automatic, whatever the value. */
const AUTO_REPLY_FLAGS = Object.freeze(['X-Autoreply', 'X-Autorespond', 'X-Autoresponder']);

const BULK_PRECEDENCE: ReadonlySet<string> = new Set(['bulk', 'list', 'junk']);

/**
 * Bounce parts that carry the original message or its header (RFC 6522; the `global` forms are
 * RFC 6533's for internationalised mail).
 */
const ORIGINAL_MESSAGE_TYPES: ReadonlySet<string> = new Set([
  'message/rfc822', 'text/rfc822-headers', 'message/rfc822-headers', 'message/global', 'message/global-headers',
]);

export function classifyEmail(email: ClassifiableEmail): Classification {
  const bounce = isBounce(email);
  return {
    bounce,
    autoReply: !bounce && isAutoReply(email),
    bulk: isBulk(email),
    bouncedMessageIds: bounce ? bouncedMessageIds(email) : [],
  };
}

function isBounce(email: ClassifiableEmail): boolean {
  if (isDeliveryReport(email.contentType ?? header(email, 'Content-Type'))) return true;
  if (BOUNCE_SENDERS.has(localPart(email.from?.address ?? ''))) return true;
  // Exim, Exchange and Gmail name the addresses that failed.
  if (header(email, 'X-Failed-Recipients') !== null) return true;
  // RFC 3834 §3.3 asks auto-responders to send from the null path as well (Sieve vacation does),
  // so a null Return-Path on a message that says it is an auto-reply is not a bounce.
  return isNullPath(header(email, 'Return-Path')) && !isAutoReply(email);
}

/** `multipart/report; report-type=delivery-status`, any case, value quoted or not. */
function isDeliveryReport(contentType: string | null): boolean {
  if (contentType === null) return false;
  const type = contentType.split(';')[0]?.trim().toLowerCase();
  if (type !== 'multipart/report') return false;
  const match = /;\s*report-type\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentType);
  return (match?.[1] ?? match?.[2] ?? '').trim().toLowerCase() === 'delivery-status';
}

function localPart(address: string): string {
  const at = address.lastIndexOf('@');
  return (at === -1 ? address : address.slice(0, at)).trim().toLowerCase();
}

function isNullPath(returnPath: string | null): boolean {
  return returnPath !== null && /^<\s*>$/.test(returnPath.trim());
}

/** A structured header's keyword: comments and parameters dropped, lower-case. */
function keyword(value: string): string {
  return (value.replace(/\([^)]*\)/g, '').split(';')[0] ?? '').trim().toLowerCase();
}

function isAutoReply(email: ClassifiableEmail): boolean {
  // `auto-replied; owner-email="..."`, `auto-generated`, `auto-notified`: anything but `no`.
  if (headers(email, 'Auto-Submitted').some((value) => keyword(value) !== 'no')) return true;
  if (AUTO_REPLY_FLAGS.some((name) => header(email, name) !== null)) return true;
  // Outlook auto-replies carry `X-Auto-Response-Suppress: All`. Exchange also stamps this header
  // on some ordinary mail (meeting requests, mail from some clients and services), so this rule
  // can mark a person's message as automatic; kept because the product asked for it.
  if (headers(email, 'X-Auto-Response-Suppress').some((value) => value.trim() !== '')) return true;
  return headers(email, 'Precedence').some((value) => keyword(value) === 'auto_reply');
}

function isBulk(email: ClassifiableEmail): boolean {
  if (header(email, 'List-Id') !== null || header(email, 'List-Unsubscribe') !== null) return true;
  return headers(email, 'Precedence').some((value) => BULK_PRECEDENCE.has(keyword(value)));
}

/**
 * Message-IDs of the mail that bounced: from the returned original (or its header) first, then
 * from `Message-ID:` lines quoted in the text body. Without brackets, de-duplicated, in order.
 */
function bouncedMessageIds(email: ClassifiableEmail): string[] {
  const found = new Set<string>();
  for (const part of email.attachments) {
    if (!ORIGINAL_MESSAGE_TYPES.has(part.contentType.toLowerCase())) continue;
    // Only the header section: a returned message's own body may quote other messages.
    collectMessageIds(headerSection(part.content.toString('utf8')), found);
  }
  if (email.text !== null) collectMessageIds(email.text, found);
  const own = messageIdIn(header(email, 'Message-ID') ?? '');
  if (own !== null) found.delete(own);
  return [...found];
}

function headerSection(text: string): string {
  const trimmed = text.replace(/^(?:\r?\n)+/, '');
  const end = trimmed.search(/\r?\n\r?\n/);
  return end === -1 ? trimmed : trimmed.slice(0, end);
}

function collectMessageIds(text: string, into: Set<string>): void {
  // Unfold continuation lines; quoted originals may keep their `> ` prefixes.
  const unfolded = text.replace(/\r?\n[ \t]+/g, ' ');
  for (const match of unfolded.matchAll(/^[ \t>]*Message-ID[ \t]*:(.*)$/gim)) {
    const id = messageIdIn(match[1] ?? '');
    if (id !== null) into.add(id);
  }
}

/** `<abc@host>` -> `abc@host`; a bare `abc@host` is taken as is. */
function messageIdIn(value: string): string | null {
  const bracketed = /<([^<>\s]+)>/.exec(value)?.[1];
  if (bracketed !== undefined) return bracketed;
  const bare = value.trim().split(/\s+/)[0] ?? '';
  return bare.includes('@') ? bare : null;
}
