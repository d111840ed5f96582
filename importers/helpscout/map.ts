import type { AttachmentRecord, EntryRecord, PersonRecord, ThreadRecord } from '../../src/import/adapter.ts';
import { clip } from '../../src/import/kit/index.ts';
import { bodyText } from './body-text.ts';
import { attachmentDataSchema, customerEmailSchema, type HelpScoutConversation, type HelpScoutCustomer, type HelpScoutThread, type PersonRef } from './schemas.ts';

/** Help Scout records -> the engine's records. Pure functions: no calls, no database. */

/**
 * Customers and users (agents) are numbered separately in Help Scout, so a user's source id
 * carries a prefix: customer 5 and user 5 are two people.
 */
export const userSourceId = (id: number) => `user-${id}`;
export const customerSourceId = (id: number) => String(id);

const fullName = (first: string | null | undefined, last: string | null | undefined) => [first, last].map((s) => s?.trim() ?? '').filter((s) => s !== '').join(' ') || null;

export function mapCustomer(c: HelpScoutCustomer): PersonRecord {
  // Entries of other shapes (an API age, an account's oddity) are not addresses: left out.
  const emails = (c._embedded?.emails ?? []).flatMap((e) => {
    const parsed = customerEmailSchema.safeParse(e);
    return parsed.success && parsed.data.value.trim() !== '' ? [parsed.data.value.trim()] : [];
  });
  return { sourceId: customerSourceId(c.id), role: 'customer', name: fullName(c.firstName, c.lastName), emails, createdAt: c.createdAt ? new Date(c.createdAt) : null };
}

/** A customer as a conversation names them, for one Help Scout no longer lists (deleted since). */
export function mapCustomerRef(ref: PersonRef): PersonRecord {
  return { sourceId: customerSourceId(ref.id), role: 'customer', name: fullName(ref.first, ref.last), emails: ref.email?.trim() ? [ref.email.trim()] : [] };
}

/** A Help Scout user who wrote a reply or a note: an author, not a customer. */
export function mapAgent(ref: PersonRef): PersonRecord {
  return { sourceId: userSourceId(ref.id), role: 'agent', name: fullName(ref.first, ref.last), emails: ref.email?.trim() ? [ref.email.trim()] : [] };
}

const STATUSES: Record<HelpScoutConversation['status'], ThreadRecord['status']> = { active: 'TODO', open: 'TODO', pending: 'SNOOZED', closed: 'DONE', spam: 'DONE' };
const CHANNELS: Record<string, ThreadRecord['channel']> = { email: 'EMAIL', chat: 'CHAT' };

/** A conversation with a primary customer (the caller turns one without into a record error). */
export function mapConversation(c: HelpScoutConversation & { primaryCustomer: PersonRef }): ThreadRecord {
  const tags = (c.tags ?? []).map((t) => t.tag);
  return {
    sourceId: String(c.id),
    title: c.subject?.trim() || (c.preview?.trim() ? clip(c.preview.trim(), 200) : '') || `Help Scout conversation #${c.number ?? c.id}`,
    status: STATUSES[c.status],
    channel: CHANNELS[c.type ?? ''] ?? 'API',
    customerSourceId: customerSourceId(c.primaryCustomer.id),
    customerFallbackName: fullName(c.primaryCustomer.first, c.primaryCustomer.last) ?? `Help Scout customer ${c.primaryCustomer.id}`,
    // Spam keeps its conversation, closed, under a label that says so.
    labels: c.status === 'spam' ? [...tags, 'spam'] : tags,
    createdAt: new Date(c.createdAt),
  };
}

/** Conversations Help Scout holds back from the mailbox: not imported, counted as skipped. */
export const SKIPPED_CONVERSATION_STATES: ReadonlySet<string> = new Set(['draft', 'deleted']);

const MESSAGE_TYPES: ReadonlySet<string> = new Set(['customer', 'message', 'reply', 'chat', 'beaconchat', 'phone', 'forwardparent', 'forwardchild']);
/** Unsent threads: a draft reply, one held by collision detection. */
const UNSENT_STATES: ReadonlySet<string> = new Set(['draft', 'review', 'underreview']);

/** Why a thread is not an entry, or null when it is one. */
export function threadSkipReason(t: HelpScoutThread): string | null {
  if (t.type === 'lineitem') return 'line item (a status change, an assignment, a move)';
  if (t.type !== 'note' && !MESSAGE_TYPES.has(t.type)) return `thread type ${t.type}`;
  if (t.state && UNSENT_STATES.has(t.state)) return `unsent thread (${t.state})`;
  return null;
}

/** The person a thread is by: the customer for customer threads, else whoever created it. */
export function threadAuthor(t: HelpScoutThread): PersonRef | null {
  if (t.type === 'customer') return t.createdBy?.type === 'customer' ? t.createdBy : (t.customer ?? t.createdBy ?? null);
  return t.createdBy ?? null;
}

function authorOf(t: HelpScoutThread): EntryRecord['author'] {
  const by = threadAuthor(t);
  if (!by) return { kind: 'system', name: 'Help Scout' };
  if (by.type === 'user') return { kind: 'person', sourceId: userSourceId(by.id), fallbackName: fullName(by.first, by.last) ?? `Help Scout user ${by.id}` };
  if (by.type === 'customer' || t.type === 'customer') {
    return { kind: 'person', sourceId: customerSourceId(by.id), fallbackName: fullName(by.first, by.last) ?? `Help Scout customer ${by.id}` };
  }
  // A team, a workflow: Help Scout itself.
  return { kind: 'system', name: fullName(by.first, by.last) ?? 'Help Scout' };
}

export const attachmentDataPath = (conversationId: number, attachmentId: number) => `/v2/conversations/${conversationId}/attachments/${attachmentId}/data`;
const selectData = (body: unknown) => {
  const parsed = attachmentDataSchema.safeParse(body);
  return parsed.success ? parsed.data.data : null;
};

export function mapThread(conversationId: number, t: HelpScoutThread): EntryRecord {
  const { text, html } = bodyText(t.body);
  return {
    sourceId: String(t.id),
    threadSourceId: String(conversationId),
    // A note, or a message hidden from customer-facing email since: neither is what the customer saw.
    kind: t.type === 'note' || t.state === 'hidden' ? 'note' : 'message',
    author: authorOf(t),
    text,
    html,
    createdAt: new Date(t.createdAt),
    attachments: (t._embedded?.attachments ?? []).map(
      (a): AttachmentRecord => ({
        sourceId: String(a.id),
        fileName: a.filename?.trim() || `attachment-${a.id}`,
        contentType: a.mimeType?.trim() || 'application/octet-stream',
        // Help Scout does not always say; the bytes are judged after the download either way.
        size: a.size ?? 0,
        inline: false,
        source: { kind: 'base64', path: attachmentDataPath(conversationId, a.id), select: selectData },
      }),
    ),
  };
}
