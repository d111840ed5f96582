/**
 * Plain webhook bodies built from our outbox rows, in the shapes of Plain's published webhook
 * schema, in the version each target chose (see `payloadForVersion` for what differs). Ids are
 * prefix_ULID, date-times ISO 8601 strings.
 *
 * Where Plain requires something we do not record, the value is chosen to be true, not plausible:
 * - actors: `{ actorType: 'system', system: <origin> }` (email, api, import) for what our pipeline
 *   did; `{ actorType: 'customer' }` for a customer's own email and for a thread their email opened.
 *   `updatedBy` repeats `createdBy` (we keep no editor), except the status change's own actor.
 * - customer: `email.isVerified` false with `verifiedAt` null (we never verify ownership); a
 *   Unicode domain is sent in its ASCII form, as Plain's address pattern needs; no spam marks;
 *   `customerGroupMemberships` [] (we have none). A customer without an email cannot be sent:
 *   that is an error. `company` is added (Plain allows extra fields).
 * - thread: `priority` 2 (Plain's "normal"; we have none); `assignee`/`assignedAt` null and
 *   `additionalAssignees` [] (no assignment yet). `statusDetail`: TODO never changed is CREATED,
 *   TODO reopened by an email is NEW_REPLY, other TODO null; DONE is DONE_MANUALLY_SET (nothing
 *   closes threads automatically); SNOOZED is WAITING_FOR_CUSTOMER (we store no snooze end).
 *   Labels are ours; a label's own id repeats its label type's id (we give thread_labels no id);
 *   a label type has no externalId and is not excluded from AI (we have no AI).
 *   Message infos are as of the event; the rest of the thread and its customer as read now.
 *   `channel` is added.
 * - previousThread (status transitions): the status held before; its statusChangedAt is the
 *   thread's previous transition event, else the thread's creation.
 * - email: `id` is the timeline entry's id (we keep no separate email id); `to` is the support
 *   address written to (else the workspace's, else '' with no actor); `replyTo` null,
 *   `additionalRecipients`/`hiddenRecipients` [] (not stored); `subject` the thread title for the
 *   email that opened it, else null (a reply's subject is not stored); `markdownContent` null;
 *   `authenticity` UNKNOWN (not checked); `sentAt` null (Date header not stored), `receivedAt` the
 *   entry's time; attachments the accepted ones; `textContent` the entry's text, which is cut to
 *   ENTRY_LIMITS (the whole email stays in the inbound email's raw payload).
 * - customer updated: `customer` and `previousCustomer` as snapshotted by the updating
 *   transaction; the new one's `updatedBy` is the update's origin.
 * - note: `id` and `timelineEntryId` are the entry's id; `markdown` null (we store text only); never
 *   edited or deleted, so `updatedAt` is its creation and `deletedAt`/`deletedBy` null; `text` cut
 *   to 5,000 characters, the older versions' limit (the API takes no longer note).
 */
import { domainToASCII } from 'node:url';
import { encodeTime } from 'ulid';
import { z } from 'zod';
import type { Queryable } from '../db/pool.ts';
import { EVENT_TYPES } from '../domain/events.ts';
import { PLAIN_ID } from '../domain/ids.ts';
import { clip } from '../domain/text.ts';
import { ENTRY_LIMITS } from '../domain/timeline-entries.ts';
import { isWebhookVersion, WEBHOOK_VERSIONS, type WebhookVersion } from './webhook-versions.ts';
import { prepared } from '../db/prepared.ts';

export type EventRow = { id: string; workspaceId: string; type: string; payload: unknown; createdAt: Date; origin?: string };

/** An event that cannot become a truthful Plain body: thrown rather than sending a wrong one. */
export class PlainPayloadError extends Error {
  override name = 'PlainPayloadError';
}

type Json = Record<string, unknown>;
type Status = 'TODO' | 'SNOOZED' | 'DONE';

const id = z.string().regex(PLAIN_ID, 'must be prefix_ULID');
const date = z.string().pipe(z.coerce.date());
const status = z.enum(['TODO', 'SNOOZED', 'DONE']);
const customerSnapshot = z.object({
  id, email: z.string().nullable(), fullName: z.string(), shortName: z.string().nullable(), externalId: z.string().nullable(),
  origin: z.string(), createdAt: date, company: z.object({ id, name: z.string(), domain: z.string() }).nullable().default(null),
});
const PAYLOADS = {
  [EVENT_TYPES.customerCreated]: z.object({ customer: customerSnapshot }),
  [EVENT_TYPES.customerUpdated]: z.object({
    customer: customerSnapshot.extend({ updatedAt: date }),
    previousCustomer: customerSnapshot.extend({ updatedAt: date }),
  }),
  [EVENT_TYPES.noteCreated]: z.object({
    note: z.object({ id, threadId: id, text: z.string().nullable(), origin: z.string(), createdAt: date }),
  }),
  [EVENT_TYPES.threadCreated]: z.object({
    thread: z.object({
      id, customerId: id, title: z.string(), status, channel: z.string(), externalId: z.string().nullable(),
      origin: z.string(), statusChangedAt: date, createdAt: date, updatedAt: date,
    }),
  }),
  [EVENT_TYPES.emailReceived]: z.object({
    entry: z.object({
      id, threadId: id, kind: z.literal('inbound_email'), authorType: z.enum(['customer', 'user', 'system']),
      authorCustomerId: id.nullable(), authorName: z.string().nullable(), authorEmail: z.string().nullable(), text: z.string().nullable(),
      inReplyTo: z.string().nullable(), supportAddress: z.string().nullable(), origin: z.string(), createdAt: date,
    }),
  }),
  [EVENT_TYPES.threadStatusTransitioned]: z.object({ threadId: id, previousStatus: status, status }),
} as const;

function parsePayload<T extends keyof typeof PAYLOADS>(event: EventRow, type: T): z.output<(typeof PAYLOADS)[T]> {
  const result = PAYLOADS[type].safeParse(event.payload);
  if (!result.success) throw new PlainPayloadError(`event ${event.id} (${event.type}) has a malformed payload: ${z.prettifyError(result.error)}`);
  return result.data as z.output<(typeof PAYLOADS)[T]>;
}

const iso = (d: Date) => d.toISOString();
const systemActor = (origin: string | null | undefined): Json => (origin ? { actorType: 'system', system: origin } : { actorType: 'UNKNOWN' });
const customerActor = (customerId: string): Json => ({ actorType: 'customer', customerId });

type CustomerData = {
  id: string; email: string | null; fullName: string; shortName: string | null; externalId: string | null; origin: string;
  createdAt: Date; updatedAt: Date; company: { id: string; name: string; domain: string } | null;
};

/** Plain's address pattern wants an ASCII domain; münchen.de is sent as xn--mnchen-3ya.de. */
function asciiDomain(email: string): string {
  const at = email.lastIndexOf('@');
  const domain = email.slice(at + 1);
  return `${email.slice(0, at)}@${domainToASCII(domain) || domain}`;
}

function plainCustomer(c: CustomerData): Json {
  if (!c.email) throw new PlainPayloadError(`customer ${c.id} has no email address, which Plain's customer requires`);
  const by = systemActor(c.origin);
  return {
    id: c.id, email: { email: asciiDomain(c.email), isVerified: false, verifiedAt: null }, externalId: c.externalId, fullName: c.fullName,
    shortName: c.shortName, markedAsSpamAt: null, markedAsSpamBy: null, customerGroupMemberships: [], company: c.company,
    createdAt: iso(c.createdAt), createdBy: by, updatedAt: iso(c.updatedAt), updatedBy: by,
  };
}

type MessageRow = { at: string; kind: string; authorType: string; customerId: string | null } | null;
type LabelRow = { id: string; name: string; origin: string; createdAt: string; linkOrigin: string; linkedAt: string };
type ThreadData = {
  id: string; title: string; status: Status; channel: string; externalId: string | null; origin: string; customerId: string;
  statusChangedAt: Date; createdAt: Date; updatedAt: Date; customer: CustomerData; labels: LabelRow[]; supportAddresses: string[];
  firstIn: MessageRow; lastIn: MessageRow; firstOut: MessageRow; lastOut: MessageRow;
};

const messageInfo = (kinds: string, dir: 'ASC' | 'DESC') => `(SELECT json_build_object('at', e.created_at, 'kind', e.kind,
    'authorType', e.author_type, 'customerId', e.author_customer_id) FROM timeline_entries e
   WHERE e.workspace_id = t.workspace_id AND e.thread_id = t.id AND e.kind IN ${kinds} AND e.created_at <= $3
   ORDER BY e.created_at ${dir}, e.id ${dir} LIMIT 1)`;
const INBOUND = `('inbound_email', 'inbound_message')`;
const OUTBOUND = `('outbound_email', 'outbound_message')`;

const THREAD_SQL = `SELECT t.id, t.title, t.status, t.channel, t.external_id AS "externalId", t.origin, t.customer_id AS "customerId",
    t.status_changed_at AS "statusChangedAt", t.created_at AS "createdAt", t.updated_at AS "updatedAt",
    json_build_object('id', c.id, 'email', c.email, 'fullName', c.full_name, 'shortName', c.short_name, 'externalId', c.external_id,
      'origin', c.origin, 'createdAt', c.created_at, 'updatedAt', c.updated_at,
      'company', CASE WHEN co.id IS NULL THEN NULL ELSE json_build_object('id', co.id, 'name', co.name, 'domain', co.domain) END) AS customer,
    (SELECT coalesce(json_agg(json_build_object('id', l.id, 'name', l.name, 'origin', l.origin, 'createdAt', l.created_at,
        'linkOrigin', tl.origin, 'linkedAt', tl.created_at) ORDER BY tl.created_at, l.id), '[]')
       FROM thread_labels tl JOIN labels l ON l.id = tl.label_id AND l.workspace_id = tl.workspace_id
      WHERE tl.workspace_id = t.workspace_id AND tl.thread_id = t.id) AS labels,
    ARRAY(SELECT DISTINCT support_address FROM timeline_entries
           WHERE workspace_id = t.workspace_id AND thread_id = t.id AND support_address IS NOT NULL ORDER BY 1) AS "supportAddresses",
    ${messageInfo(INBOUND, 'ASC')} AS "firstIn", ${messageInfo(INBOUND, 'DESC')} AS "lastIn",
    ${messageInfo(OUTBOUND, 'ASC')} AS "firstOut", ${messageInfo(OUTBOUND, 'DESC')} AS "lastOut"
  FROM threads t JOIN customers c ON c.id = t.customer_id AND c.workspace_id = t.workspace_id
  LEFT JOIN companies co ON co.id = c.company_id AND co.workspace_id = c.workspace_id
 WHERE t.workspace_id = $1 AND t.id = $2`;

const LOAD_THREAD = prepared('plain-payloads.thread', THREAD_SQL);

async function loadThread(db: Queryable, workspaceId: string, threadId: string, asOf: Date): Promise<ThreadData> {
  const { rows } = await db.query(LOAD_THREAD, [workspaceId, threadId, asOf]);
  const row = rows[0];
  if (!row) throw new PlainPayloadError(`thread ${threadId} is not in workspace ${workspaceId}`);
  const c = row.customer;
  return { ...row, customer: { ...c, createdAt: new Date(c.createdAt), updatedAt: new Date(c.updatedAt) } };
}

const MESSAGE_SOURCES: Record<string, string> = { EMAIL: 'EMAIL', API: 'API', CHAT: 'CHAT', SLACK: 'SLACK', MS_TEAMS: 'MS_TEAMS' };

function plainMessageInfo(m: MessageRow, channel: string): Json | null {
  if (!m) return null;
  const source = m.kind.endsWith('_email') ? 'EMAIL' : (MESSAGE_SOURCES[channel] ?? 'UNKNOWN_THREAD_MESSAGE_INFO_MESSAGE_SOURCE');
  return { timestamp: iso(new Date(m.at)), messageSource: source, actorId: m.customerId, actorType: m.authorType };
}

/** Plain's status detail for what we know: see the list at the top. */
function statusDetail(s: Status, createdAt: Date, changedAt: Date, reason: string | null): Json | null {
  if (s === 'DONE') return { type: 'DONE_MANUALLY_SET' };
  if (s === 'SNOOZED') return { type: 'WAITING_FOR_CUSTOMER' };
  if (changedAt.getTime() === createdAt.getTime()) return { type: 'CREATED', createdAt: iso(createdAt) };
  return reason === 'email' ? { type: 'NEW_REPLY' } : null;
}

type StatusView = { status: Status; changedAt: Date; changedBy: Json | null; detail: Json | null };

function threadCreatedBy(t: ThreadData): Json {
  return t.origin === 'email' ? customerActor(t.customerId) : systemActor(t.origin);
}

function currentStatus(t: ThreadData): StatusView {
  const unchanged = t.statusChangedAt.getTime() === t.createdAt.getTime();
  return { status: t.status, changedAt: t.statusChangedAt, changedBy: unchanged ? threadCreatedBy(t) : null, detail: statusDetail(t.status, t.createdAt, t.statusChangedAt, null) };
}

function plainThread(t: ThreadData, s: StatusView = currentStatus(t), updatedBy: Json = threadCreatedBy(t)): Json {
  const labels = t.labels.map((l) => {
    const typeBy = systemActor(l.origin);
    const by = systemActor(l.linkOrigin);
    const labelType = { id: l.id, name: l.name, icon: null, isArchived: false, archivedAt: null, archivedBy: null, externalId: null,
      isExcludedFromAi: false, createdAt: iso(new Date(l.createdAt)), createdBy: typeBy, updatedAt: iso(new Date(l.createdAt)), updatedBy: typeBy };
    return { id: l.id, labelType, createdAt: iso(new Date(l.linkedAt)), createdBy: by, updatedAt: iso(new Date(l.linkedAt)), updatedBy: by };
  });
  return {
    id: t.id, customer: plainCustomer(t.customer), title: t.title.slice(0, 500) || '(no subject)', priority: 2, externalId: t.externalId || null,
    status: s.status, statusChangedAt: iso(s.changedAt), statusChangedBy: s.changedBy, statusDetail: s.detail,
    assignee: null, assignedAt: null, additionalAssignees: [], labels,
    firstInboundMessageInfo: plainMessageInfo(t.firstIn, t.channel), firstOutboundMessageInfo: plainMessageInfo(t.firstOut, t.channel),
    lastInboundMessageInfo: plainMessageInfo(t.lastIn, t.channel), lastOutboundMessageInfo: plainMessageInfo(t.lastOut, t.channel),
    supportEmailAddresses: t.supportAddresses, channel: t.channel,
    createdAt: iso(t.createdAt), createdBy: threadCreatedBy(t), updatedAt: iso(t.updatedAt), updatedBy,
  };
}

type AttachmentRow = { id: string; fileName: string; size: number; contentType: string; createdAt: string; origin: string };
type EmailExtras = { support_address: string | null; author: { email: string | null; fullName: string } | null; attachments: AttachmentRow[]; in_reply_to: string | null; is_start: boolean };

const EMAIL_EXTRAS = prepared(
  'plain-payloads.email-extras',
  `SELECT w.support_address,
       (SELECT json_build_object('email', email, 'fullName', full_name) FROM customers WHERE workspace_id = $1 AND id = $3) AS author,
       (SELECT coalesce(json_agg(json_build_object('id', id, 'fileName', file_name, 'size', size, 'contentType', content_type,
           'createdAt', created_at, 'origin', origin) ORDER BY position), '[]')
          FROM attachments WHERE workspace_id = $1 AND timeline_entry_id = $2 AND status = 'accepted') AS attachments,
       (SELECT id FROM timeline_entries WHERE workspace_id = $1 AND message_id = $4 AND id <> $2 ORDER BY created_at, id LIMIT 1) AS in_reply_to,
       NOT EXISTS (SELECT 1 FROM timeline_entries WHERE workspace_id = $1 AND thread_id = $5
                     AND kind IN ('inbound_email', 'outbound_email') AND (created_at, id) < ($6, $2)) AS is_start
     FROM workspaces w WHERE w.id = $1`,
);

async function emailReceived(db: Queryable, event: EventRow): Promise<Json> {
  const { entry } = parsePayload(event, EVENT_TYPES.emailReceived);
  const thread = await loadThread(db, event.workspaceId, entry.threadId, entry.createdAt);
  const { rows } = await db.query<EmailExtras>(EMAIL_EXTRAS, [event.workspaceId, entry.id, entry.authorCustomerId, entry.inReplyTo, entry.threadId, entry.createdAt]);
  const x = rows[0];
  if (!x) throw new PlainPayloadError(`workspace ${event.workspaceId} does not exist`);
  if (entry.authorType === 'customer' && !x.author) throw new PlainPayloadError(`author ${entry.authorCustomerId} of entry ${entry.id} is not in workspace ${event.workspaceId}`);
  const by = entry.authorType === 'customer' ? customerActor(entry.authorCustomerId!) : systemActor(entry.origin);
  const from = entry.authorType === 'customer'
    ? { email: x.author!.email ?? '', name: x.author!.fullName, emailActor: by }
    : { email: entry.authorEmail ?? '', name: entry.authorName, emailActor: null };
  const toAddress = entry.supportAddress ?? x.support_address;
  const to = toAddress
    ? { email: toAddress, name: null, emailActor: { actorType: 'supportEmailAddress', supportEmailAddress: toAddress } }
    : { email: '', name: null, emailActor: null };
  const attachments = x.attachments.map((a) => {
    const aBy = systemActor(a.origin);
    return { id: a.id, fileName: a.fileName || 'attachment', fileSizeBytes: a.size, fileMimeType: a.contentType || 'application/octet-stream',
      fileExtension: /\.([a-z0-9]{1,10})$/i.exec(a.fileName)?.[1]?.toLowerCase() ?? null,
      createdAt: iso(new Date(a.createdAt)), createdBy: aBy, updatedAt: iso(new Date(a.createdAt)), updatedBy: aBy };
  });
  const email = {
    timelineEntryId: entry.id, id: entry.id, to, from, replyTo: null, additionalRecipients: [], hiddenRecipients: [],
    subject: x.is_start ? thread.title : null,
    // Entries store at most ENTRY_LIMITS; an event recorded before there were limits is cut here.
    textContent: entry.text === null ? null : clip(entry.text, ENTRY_LIMITS.textChars), markdownContent: null, authenticity: 'UNKNOWN',
    sentAt: null, receivedAt: iso(entry.createdAt), attachments, inReplyToEmailId: x.in_reply_to, isStartOfThread: x.is_start,
    createdAt: iso(entry.createdAt), createdBy: by, updatedAt: iso(entry.createdAt), updatedBy: by,
  };
  return { eventType: event.type, thread: plainThread(thread), email };
}

/** The origin of the write an event records, from the row when the caller did not pass it. */
async function eventOrigin(db: Queryable, event: EventRow): Promise<string | null> {
  if (event.origin) return event.origin;
  const { rows } = await db.query<{ origin: string }>('SELECT origin FROM events WHERE workspace_id = $1 AND id = $2', [event.workspaceId, event.id]);
  return rows[0]?.origin ?? null;
}

/** Plain's note: ours has no markdown and is never edited or deleted; text cut to the older versions' 5,000. */
async function noteCreated(db: Queryable, event: EventRow): Promise<Json> {
  const { note } = parsePayload(event, EVENT_TYPES.noteCreated);
  const thread = await loadThread(db, event.workspaceId, note.threadId, note.createdAt);
  const by = systemActor(note.origin);
  return {
    eventType: event.type,
    thread: plainThread(thread),
    note: {
      timelineEntryId: note.id, id: note.id, text: clip(note.text ?? '', 5000) || '(empty note)', markdown: null,
      createdAt: iso(note.createdAt), createdBy: by, updatedAt: iso(note.createdAt), updatedBy: by, deletedAt: null, deletedBy: null,
    },
  };
}

async function statusTransitioned(db: Queryable, event: EventRow): Promise<Json> {
  const p = parsePayload(event, EVENT_TYPES.threadStatusTransitioned);
  const thread = await loadThread(db, event.workspaceId, p.threadId, event.createdAt);
  // The previous transition of this thread, searched only among events since the thread existed
  // (ids are time-ordered ULIDs; five minutes' margin for clock skew between writers).
  const since = `ev_${encodeTime(Math.max(0, thread.createdAt.getTime() - 300_000))}`;
  const { rows } = await db.query<{ origin: string | null; previous: { at: string; origin: string } | null }>(
    `SELECT (SELECT origin FROM events WHERE workspace_id = $1 AND id = $2) AS origin,
            (SELECT json_build_object('at', created_at, 'origin', origin) FROM events
              WHERE workspace_id = $1 AND id < $2 AND id > $3 AND type = $4 AND payload->>'threadId' = $5
              ORDER BY id DESC LIMIT 1) AS previous`,
    [event.workspaceId, event.id, since, EVENT_TYPES.threadStatusTransitioned, p.threadId],
  );
  const origin = event.origin ?? rows[0]?.origin ?? null;
  const previous = rows[0]?.previous ?? null;
  const before = previous ? new Date(previous.at) : thread.createdAt;
  const changedBy = systemActor(origin);
  return {
    eventType: event.type,
    previousThread: plainThread(thread, {
      status: p.previousStatus, changedAt: before, changedBy: previous ? systemActor(previous.origin) : threadCreatedBy(thread),
      detail: statusDetail(p.previousStatus, thread.createdAt, before, previous?.origin ?? null),
    }),
    thread: plainThread(thread, { status: p.status, changedAt: event.createdAt, changedBy, detail: statusDetail(p.status, thread.createdAt, event.createdAt, origin) }, changedBy),
  };
}

/** The `payload` of Plain's webhook body for one outbox event; reads rows it needs, scoped by workspace. */
export async function buildPlainPayload(db: Queryable, event: EventRow): Promise<Record<string, unknown>> {
  switch (event.type) {
    case EVENT_TYPES.customerCreated: {
      const { customer } = parsePayload(event, EVENT_TYPES.customerCreated);
      // The snapshot is the customer as created, so updatedAt is its creation.
      return { eventType: event.type, customer: plainCustomer({ ...customer, updatedAt: customer.createdAt }) };
    }
    case EVENT_TYPES.threadCreated: {
      const { thread: snapshot } = parsePayload(event, EVENT_TYPES.threadCreated);
      const { customerId, ...fields } = snapshot;
      const thread = await loadThread(db, event.workspaceId, snapshot.id, event.createdAt);
      if (thread.customerId !== customerId) throw new PlainPayloadError(`thread ${snapshot.id} changed customer since event ${event.id}`);
      return { eventType: event.type, thread: plainThread({ ...thread, ...fields }) };
    }
    case EVENT_TYPES.customerUpdated: {
      const { customer, previousCustomer } = parsePayload(event, EVENT_TYPES.customerUpdated);
      // Both as snapshotted in the updating transaction; the update's own actor is its origin.
      return { eventType: event.type, customer: { ...plainCustomer(customer), updatedBy: systemActor(await eventOrigin(db, event)) }, previousCustomer: plainCustomer(previousCustomer) };
    }
    case EVENT_TYPES.noteCreated: return noteCreated(db, event);
    case EVENT_TYPES.emailReceived: return emailReceived(db, event);
    case EVENT_TYPES.threadStatusTransitioned: return statusTransitioned(db, event);
    default:
      throw new PlainPayloadError(`event ${event.id} has type ${JSON.stringify(event.type)}, which has no Plain payload here`);
  }
}

export type WebhookMeta = { webhookTargetId: string; webhookTargetVersion: string; attemptId: string; attemptNumber: number; attemptTimestamp: Date };

/** Plain's envelope around a payload; every id must be prefix_ULID and every time ISO 8601. */
export function plainWebhookBody(event: EventRow, payload: Record<string, unknown>, meta: WebhookMeta): Record<string, unknown> {
  const ids = { 'event id': event.id, workspaceId: event.workspaceId, webhookTargetId: meta.webhookTargetId, attemptId: meta.attemptId };
  for (const [name, value] of Object.entries(ids)) {
    if (!PLAIN_ID.test(value)) throw new PlainPayloadError(`${name} ${JSON.stringify(value)} is not prefix_ULID, as Plain requires`);
  }
  if (!Number.isInteger(meta.attemptNumber) || meta.attemptNumber < 1) throw new PlainPayloadError(`attempt number ${meta.attemptNumber} must be a positive integer`);
  const version = meta.webhookTargetVersion;
  if (!isWebhookVersion(version)) {
    throw new PlainPayloadError(`webhook target version ${JSON.stringify(version)} is not one of Plain's: ${WEBHOOK_VERSIONS.join(', ')}`);
  }
  if (payload.eventType !== event.type) throw new PlainPayloadError(`payload is for ${String(payload.eventType)}, event ${event.id} is ${event.type}`);
  const webhookMetadata = {
    webhookTargetId: meta.webhookTargetId, webhookTargetVersion: version, webhookDeliveryAttemptId: meta.attemptId,
    webhookDeliveryAttemptNumber: meta.attemptNumber, webhookDeliveryAttemptTimestamp: iso(meta.attemptTimestamp),
  };
  return { id: event.id, type: event.type, webhookMetadata, timestamp: iso(event.createdAt), workspaceId: event.workspaceId, payload: payloadForVersion(payload, version) };
}

const olderThan = (version: WebhookVersion, than: WebhookVersion) => WEBHOOK_VERSIONS.indexOf(version) < WEBHOOK_VERSIONS.indexOf(than);

/**
 * A payload built in the latest schema version, without what the target's older version lacks.
 * For the events we send, the schemas bundled in Plain's SDK 5.10.3 (2024-09-18), 5.11.0
 * (2025-08-06) and 5.12.1 (2026-02-27) differ only in: a thread's `additionalAssignees` (from
 * 2025-08-06) and a label type's `externalId` and `isExcludedFromAi` (from 2026-02-27). Their
 * required fields are the same; the other differences are in events and objects we do not send.
 */
export function payloadForVersion(payload: Record<string, unknown>, version: WebhookVersion): Record<string, unknown> {
  const threadIn = (thread: Json): Json => {
    const t = { ...thread };
    if (olderThan(version, '2025-08-06')) delete t.additionalAssignees;
    if (olderThan(version, '2026-02-27')) {
      t.labels = (t.labels as Json[]).map((label) => {
        const labelType = { ...(label.labelType as Json) };
        delete labelType.externalId;
        delete labelType.isExcludedFromAi;
        return { ...label, labelType };
      });
    }
    return t;
  };
  const out = { ...payload };
  for (const key of ['thread', 'previousThread']) if (out[key]) out[key] = threadIn(out[key] as Json);
  return out;
}
