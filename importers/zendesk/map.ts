import type { AttachmentRecord, EntryRecord, PersonRecord, TenantRecord, ThreadRecord } from '../../src/import/adapter.ts';
import { clip } from '../../src/import/kit/index.ts';
import type { ZendeskComment, ZendeskOrganization, ZendeskTicket, ZendeskUser } from './schemas.ts';

/** Zendesk records -> the engine's records. Pure functions: no calls, no database. */

/** Author id -1 is Zendesk itself (triggers, automations). */
export const ZENDESK_SYSTEM_AUTHOR = -1;

export function mapUser(u: ZendeskUser): PersonRecord {
  return {
    sourceId: String(u.id),
    // end-user -> customer; agents and admins (and custom agent roles) write replies, they are not customers.
    role: u.role === 'end-user' ? 'customer' : 'agent',
    name: u.name?.trim() || null,
    emails: u.email?.trim() ? [u.email.trim()] : [],
    tenantSourceIds: u.organization_id ? [String(u.organization_id)] : [],
    createdAt: new Date(u.created_at),
  };
}

const CHANNELS: Record<string, ThreadRecord['channel']> = { email: 'EMAIL', chat: 'CHAT', native_messaging: 'CHAT', messaging: 'CHAT' };

export function mapTicket(t: ZendeskTicket): ThreadRecord {
  const firstLine = t.description?.split('\n').find((l) => l.trim() !== '')?.trim();
  return {
    sourceId: String(t.id),
    title: t.subject?.trim() || t.raw_subject?.trim() || (firstLine ? clip(firstLine, 200) : '') || `Zendesk ticket #${t.id}`,
    status: t.status === 'solved' || t.status === 'closed' ? 'DONE' : 'TODO',
    channel: CHANNELS[String(t.via?.channel ?? '')] ?? 'API',
    customerSourceId: String(t.requester_id),
    // A requester Zendesk no longer knows (a deleted user) still gets the thread.
    customerFallbackName: `Zendesk user ${t.requester_id}`,
    labels: t.tags,
    createdAt: new Date(t.created_at),
  };
}

export function mapComment(ticketId: number, c: ZendeskComment): EntryRecord {
  return {
    sourceId: String(c.id),
    threadSourceId: String(ticketId),
    kind: c.public ? 'message' : 'note',
    author: c.author_id === ZENDESK_SYSTEM_AUTHOR ? { kind: 'system', name: 'Zendesk' } : { kind: 'person', sourceId: String(c.author_id), fallbackName: `Zendesk user ${c.author_id}` },
    text: c.plain_body ?? c.body ?? null,
    html: c.html_body ?? null,
    createdAt: new Date(c.created_at),
    // content_url answers 302 to Zendesk's file host; the engine fetches what Plain's rules let in.
    attachments: c.attachments.map(
      (a): AttachmentRecord => ({ sourceId: String(a.id), fileName: a.file_name, contentType: a.content_type ?? 'application/octet-stream', size: a.size, inline: a.inline ?? false, source: { kind: 'url', url: a.content_url } }),
    ),
  };
}

/** An organization is a tenant; its own external id when it has one, else one made from its Zendesk id. */
export function mapOrganization(o: ZendeskOrganization): TenantRecord {
  return { sourceId: String(o.id), externalId: o.external_id?.trim() || `zendesk-organization-${o.id}`, name: o.name.trim() || `Organization ${o.id}` };
}
