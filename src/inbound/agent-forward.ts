import { ENTRY_LIMITS } from '../domain/timeline-entries.ts';
import { capText } from '../domain/text.ts';
import { isWorkspacePerson, type Workspace } from '../domain/workspaces.ts';
import type { EmailAddress, EmailAttachment, NormalisedEmail } from './email.ts';
import { isForwardSubject, parseForwardedText } from './forwarded.ts';
import { htmlToText } from './html-text.ts';
import { parseStoredEmail } from './parse-stored.ts';
import { replyText } from './reply-text.ts';
import { cleanSubject, hasForwardPrefix } from './subject.ts';

export type ForwardedOriginal = {
  original: {
    from: EmailAddress;
    subject: string | null;
    /** As the forward wrote it (`Montag, 3. Juni 2024 10:15`); null when it gave none. */
    date: string | null;
    text: string | null;
    html: string | null;
    attachments: EmailAttachment[];
  };
  /** The forwarder's own words above the forwarded message, kept as a note. */
  forwarderText: string | null;
};
export type AgentForward = ForwardedOriginal & { agent: EmailAddress };

/** An email's words, cut to what an entry stores, so nothing after this works on more. */
export type BodyText = {
  text: string | null;
  /** UTF-8 size of the whole text when `text` is a cut of it; null when whole. */
  fullSize: number | null;
};

/** The text part, else the HTML as text (in a worker thread, with bounded work: html-text.ts). */
export async function bodyText(email: Pick<NormalisedEmail, 'text' | 'html' | 'textSize'>, maxChars: number = ENTRY_LIMITS.textChars): Promise<BodyText> {
  if (email.text) {
    const { value, fullSize } = capText(email.text, maxChars, email.textSize);
    return { text: value, fullSize };
  }
  if (!email.html) return { text: null, fullSize: null };
  const converted = await htmlToText(email.html, { maxChars });
  return { text: converted.text, fullSize: converted.text !== null && converted.size > Buffer.byteLength(converted.text) ? converted.size : null };
}

/**
 * The new words an entry shows: of the forwarded original for a forward; otherwise Postmark's
 * own extraction when it sent one, else ours from the body text.
 */
export function entryReplyText(email: NormalisedEmail, body: BodyText, forward: ForwardedOriginal | null): string | null {
  if (forward) return replyText(forward.original.text);
  return email.strippedTextReply?.trim() || replyText(body.text);
}

/**
 * The original message inside a forward: an attached message/rfc822, or the forwarded block of
 * the body text (any common client and language; an HTML-only body as converted to text by
 * bodyText). Null when the email is not a forward or no original sender can be found.
 */
export async function findForwardedOriginal(email: NormalisedEmail, body: BodyText): Promise<ForwardedOriginal | null> {
  const text = body.text;
  const attached = email.attachments.find((a) => a.contentType === 'message/rfc822');
  const forwardSubject = hasForwardPrefix(email.subject) || isForwardSubject(email.subject);
  // Without a forward subject, the text counts only when the subject is not a reply (and then
  // only a separator or an Outlook header block does): a quoted reply history looks just like a forward.
  const unprefixed = cleanSubject(email.subject) === (email.subject.replace(/\s+/g, ' ').trim() || '(no subject)');
  if (!attached && !forwardSubject && !(unprefixed && text)) return null;

  if (attached) {
    // Parsed like a stored email: a large one in a worker thread.
    const inner = await parseStoredEmail('mime', attached.content).catch(() => null);
    if (inner?.from) {
      return {
        original: {
          from: inner.from,
          subject: inner.subject || null,
          date: inner.date?.toUTCString() ?? null,
          text: (await bodyText(inner)).text,
          html: inner.html,
          attachments: email.attachments,
        },
        forwarderText: replyText(text),
      };
    }
  }
  const parsed = text ? await parseForwardedText(text, { subjectSaysForward: forwardSubject }) : null;
  if (!parsed) return null;
  const { from, subject, date } = parsed.original;
  return {
    original: { from, subject, date, text: parsed.original.text, html: null, attachments: email.attachments },
    forwarderText: parsed.forwarderText,
  };
}

/**
 * One of the workspace's own people (an address on the support domain, or a configured
 * forwarder) forwarding a customer's email into the inbox: the customer is the original sender.
 */
export async function detectAgentForward(workspace: Workspace, email: NormalisedEmail, body: BodyText, sender: EmailAddress): Promise<AgentForward | null> {
  if (!isWorkspacePerson(workspace, sender.address)) return null;
  const found = await findForwardedOriginal(email, body);
  // An agent forwarding a colleague's mail is not a customer conversation to re-attribute.
  if (!found || isWorkspacePerson(workspace, found.original.from.address)) return null;
  return { ...found, agent: sender };
}
