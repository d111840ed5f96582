import { convert } from 'html-to-text';
import type { Workspace } from '../domain/workspaces.ts';
import type { EmailAddress, EmailAttachment, NormalisedEmail } from './email.ts';
import { hasForwardMarker, parseForwardedText } from './forwarded.ts';
import { normaliseMime } from './normalise-mime.ts';
import { replyText } from './reply-text.ts';
import { cleanSubject, hasForwardPrefix } from './subject.ts';

export type AgentForward = {
  agent: EmailAddress;
  original: { from: EmailAddress; subject: string | null; text: string | null; html: string | null; attachments: EmailAttachment[] };
  /** The agent's own words above the forwarded message, kept as a note. */
  forwarderText: string | null;
};

export function bodyText(email: Pick<NormalisedEmail, 'text' | 'html'>): string | null {
  if (email.text) return email.text;
  return email.html ? convert(email.html, { wordwrap: false }) : null;
}

function isAgent(workspace: Workspace, address: string): boolean {
  const supportDomain = workspace.supportAddress?.split('@')[1];
  return (supportDomain !== undefined && address.endsWith(`@${supportDomain}`)) || workspace.forwarderAddresses.includes(address);
}

/**
 * One of the workspace's own people forwarding a customer's email into the inbox: the customer
 * is the original sender, found in an attached message/rfc822 or the forwarded block of the text.
 * Null when the sender is not an agent, the email is not a forward, or no original sender is found.
 */
export async function detectAgentForward(workspace: Workspace, email: NormalisedEmail, sender: EmailAddress): Promise<AgentForward | null> {
  if (!isAgent(workspace, sender.address)) return null;
  const text = bodyText(email);
  const attached = email.attachments.find((a) => a.contentType === 'message/rfc822');
  // A marker in the text counts only when the subject is not a reply: a quoted Outlook reply
  // history looks just like a forward block.
  const unprefixed = cleanSubject(email.subject) === (email.subject.replace(/\s+/g, ' ').trim() || '(no subject)');
  if (!attached && !hasForwardPrefix(email.subject) && !(unprefixed && text && hasForwardMarker(text))) return null;

  if (attached) {
    const inner = await normaliseMime(attached.content).catch(() => null);
    if (inner?.from && !isAgent(workspace, inner.from.address)) {
      return {
        agent: sender,
        original: { from: inner.from, subject: inner.subject || null, text: bodyText(inner), html: inner.html, attachments: email.attachments },
        forwarderText: replyText(text),
      };
    }
  }
  const parsed = text ? parseForwardedText(text) : null;
  if (!parsed || isAgent(workspace, parsed.original.from.address)) return null;
  return {
    agent: sender,
    original: { from: parsed.original.from, subject: parsed.original.subject, text: parsed.original.text, html: null, attachments: email.attachments },
    forwarderText: parsed.forwarderText,
  };
}
