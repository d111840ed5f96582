import { convert } from 'html-to-text';
import { isWorkspacePerson, type Workspace } from '../domain/workspaces.ts';
import type { EmailAddress, EmailAttachment, NormalisedEmail } from './email.ts';
import { hasForwardMarker, parseForwardedText } from './forwarded.ts';
import { normaliseMime } from './normalise-mime.ts';
import { replyText } from './reply-text.ts';
import { cleanSubject, hasForwardPrefix } from './subject.ts';

export type ForwardedOriginal = {
  original: { from: EmailAddress; subject: string | null; text: string | null; html: string | null; attachments: EmailAttachment[] };
  /** The forwarder's own words above the forwarded message, kept as a note. */
  forwarderText: string | null;
};
export type AgentForward = ForwardedOriginal & { agent: EmailAddress };

export function bodyText(email: Pick<NormalisedEmail, 'text' | 'html'>): string | null {
  if (email.text) return email.text;
  return email.html ? convert(email.html, { wordwrap: false }) : null;
}

/**
 * The new words an entry shows: of the forwarded original for a forward; otherwise Postmark's
 * own extraction when it sent one, else ours.
 */
export function entryReplyText(email: NormalisedEmail, forward: ForwardedOriginal | null): string | null {
  if (forward) return replyText(forward.original.text);
  return email.strippedTextReply?.trim() || replyText(bodyText(email));
}

/**
 * The original message inside a forward: an attached message/rfc822, or the forwarded block of
 * the text (Gmail, Outlook, Apple Mail, Thunderbird, localised). Null when the email is not a
 * forward or no original sender can be found.
 */
export async function findForwardedOriginal(email: NormalisedEmail): Promise<ForwardedOriginal | null> {
  const text = bodyText(email);
  const attached = email.attachments.find((a) => a.contentType === 'message/rfc822');
  // A marker in the text counts only when the subject is not a reply: a quoted Outlook reply
  // history looks just like a forward block.
  const unprefixed = cleanSubject(email.subject) === (email.subject.replace(/\s+/g, ' ').trim() || '(no subject)');
  if (!attached && !hasForwardPrefix(email.subject) && !(unprefixed && text && hasForwardMarker(text))) return null;

  if (attached) {
    const inner = await normaliseMime(attached.content).catch(() => null);
    if (inner?.from) {
      return {
        original: { from: inner.from, subject: inner.subject || null, text: bodyText(inner), html: inner.html, attachments: email.attachments },
        forwarderText: replyText(text),
      };
    }
  }
  const parsed = text ? parseForwardedText(text) : null;
  if (!parsed) return null;
  return {
    original: { from: parsed.original.from, subject: parsed.original.subject, text: parsed.original.text, html: null, attachments: email.attachments },
    forwarderText: parsed.forwarderText,
  };
}

/**
 * One of the workspace's own people (an address on the support domain, or a configured
 * forwarder) forwarding a customer's email into the inbox: the customer is the original sender.
 */
export async function detectAgentForward(workspace: Workspace, email: NormalisedEmail, sender: EmailAddress): Promise<AgentForward | null> {
  if (!isWorkspacePerson(workspace, sender.address)) return null;
  const found = await findForwardedOriginal(email);
  // An agent forwarding a colleague's mail is not a customer conversation to re-attribute.
  if (!found || isWorkspacePerson(workspace, found.original.from.address)) return null;
  return { ...found, agent: sender };
}
