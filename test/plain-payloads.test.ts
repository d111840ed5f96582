import { parsePlainWebhook, PlainWebhookVersionMismatchError } from '@team-plain/typescript-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAttachments } from '../src/domain/attachments.ts';
import { findOrCreateCustomerByEmail } from '../src/domain/customers.ts';
import { EVENT_TYPES } from '../src/domain/events.ts';
import { newId } from '../src/domain/ids.ts';
import { addLabelToThread, findOrCreateLabel } from '../src/domain/labels.ts';
import type { WriteContext } from '../src/domain/origin.ts';
import { createThread, setThreadStatus } from '../src/domain/threads.ts';
import { addTimelineEntry, ENTRY_LIMITS } from '../src/domain/timeline-entries.ts';
import { buildPlainPayload, plainWebhookBody, PlainPayloadError, type EventRow } from '../src/events/plain-payloads.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { makeWorkspace } from './support/workspaces.ts';

// Plain's published versions whose shapes these payloads follow. The installed SDK validates
// exactly one of them (5.12.x: 2026-02-27; up to 5.11: 2024-09-18); the body must parse as that one.
const VERSIONS = ['2024-09-18', '2026-02-27'];

let db: TestDatabase;
let ctx: WriteContext;
let events: EventRow[];

async function readEvents(workspaceId: string): Promise<EventRow[]> {
  const { rows } = await db.pool.query(
    'SELECT id, workspace_id AS "workspaceId", type, payload, created_at AS "createdAt" FROM events WHERE workspace_id = $1 ORDER BY id',
    [workspaceId],
  );
  return rows;
}

function meta(version: string) {
  return { webhookTargetId: newId('webhookTarget'), webhookTargetVersion: version, attemptId: newId('webhookAttempt'), attemptNumber: 1, attemptTimestamp: new Date() };
}

/** The body as the SDK sees it on the wire, for its version; the other version is refused only as a version mismatch. */
async function parsedBody(event: EventRow) {
  const payload = await buildPlainPayload(db.pool, event);
  const results = VERSIONS.map((version) => parsePlainWebhook(JSON.stringify(plainWebhookBody(event, payload, meta(version)))));
  const ok = results.filter((r) => r.data);
  for (const r of results) if (r.error) expect(r.error).toBeInstanceOf(PlainWebhookVersionMismatchError);
  expect(ok.map((r) => r.error?.message), `${event.type} must parse for the SDK's version`).toHaveLength(1);
  return ok[0]!.data! as unknown as { id: string; type: string; workspaceId: string; payload: Record<string, any> };
}

beforeAll(async () => {
  db = await createTestDatabase();
  const { workspace } = await makeWorkspace(db.pool);
  ctx = { db: db.pool, workspaceId: workspace.id, origin: 'email' };
  const { customer: jane } = await findOrCreateCustomerByEmail(ctx, { email: 'jane@nike.com', fullName: 'Jane Doe' });
  const { customer: bob } = await findOrCreateCustomerByEmail(ctx, { email: 'bob@gmail.com' });
  const thread = await createThread(ctx, { customerId: jane.id, title: 'Order 123 is late', channel: 'EMAIL' });
  const first = await addTimelineEntry(ctx, {
    threadId: thread.id, kind: 'inbound_email', author: { type: 'customer', customerId: jane.id }, text: 'Where is my order?',
    html: '<p>Where is my order?</p>', messageId: '<m1@nike.com>', references: [], supportAddress: 'help@acme.com',
  });
  await addAttachments(ctx, first.id, [{ fileName: 'receipt.PDF', contentType: 'application/pdf', content: Buffer.from('%PDF'), status: 'accepted' }]);
  const { label } = await findOrCreateLabel(ctx, 'Shipping');
  await addLabelToThread(ctx, thread.id, label.id);
  await setThreadStatus(ctx, thread.id, 'DONE');
  await setThreadStatus(ctx, thread.id, 'TODO');
  // A colleague (no company: a public mail domain) replies in Jane's thread.
  await addTimelineEntry(ctx, {
    threadId: thread.id, kind: 'inbound_email', author: { type: 'customer', customerId: bob.id }, text: 'Same here',
    messageId: '<m2@gmail.com>', inReplyTo: '<m1@nike.com>', references: ['<m1@nike.com>'], supportAddress: 'help@acme.com',
  });
  events = await readEvents(workspace.id);
});
afterAll(async () => db.close());

const ofType = (type: string) => events.filter((e) => e.type === type);

describe('Plain webhook payloads', () => {
  it('records the events the scenario should produce', () => {
    expect(events.map((e) => e.type)).toEqual([
      EVENT_TYPES.customerCreated, EVENT_TYPES.customerCreated, EVENT_TYPES.threadCreated, EVENT_TYPES.emailReceived,
      EVENT_TYPES.threadStatusTransitioned, EVENT_TYPES.threadStatusTransitioned, EVENT_TYPES.emailReceived,
    ]);
  });

  it('customer.customer_created parses with the SDK, with and without a company', async () => {
    const [jane, bob] = await Promise.all(ofType(EVENT_TYPES.customerCreated).map(parsedBody));
    expect(jane!.payload.customer).toMatchObject({ email: { email: 'jane@nike.com', isVerified: false }, fullName: 'Jane Doe', company: { domain: 'nike.com' } });
    expect(jane!.payload.customer.createdBy).toEqual({ actorType: 'system', system: 'email' });
    expect(bob!.payload.customer).toMatchObject({ email: { email: 'bob@gmail.com' }, company: null, customerGroupMemberships: [] });
  });

  it('thread.thread_created parses with the SDK and carries the customer, labels and a CREATED status', async () => {
    const body = await parsedBody(ofType(EVENT_TYPES.threadCreated)[0]!);
    const thread = body.payload.thread;
    expect(thread).toMatchObject({ title: 'Order 123 is late', status: 'TODO', priority: 2, statusDetail: { type: 'CREATED' }, supportEmailAddresses: ['help@acme.com'] });
    expect(thread.customer.email.email).toBe('jane@nike.com');
    expect(thread.createdBy).toEqual({ actorType: 'customer', customerId: thread.customer.id });
    expect(thread.labels.map((l: any) => l.labelType.name)).toEqual(['Shipping']);
    // As of its event: the thread had no message yet.
    expect(thread.firstInboundMessageInfo).toBeNull();
    // The SDK check is not vacuous: without a required field the same body is refused.
    const { priority: _, ...withoutPriority } = thread;
    expect(parsePlainWebhook({ ...body, payload: { ...body.payload, thread: withoutPriority } }).error?.message).toMatch(/priority/);
  });

  it('thread.email_received parses with the SDK: first email and a reply from a company-less customer', async () => {
    const [first, reply] = await Promise.all(ofType(EVENT_TYPES.emailReceived).map(parsedBody));
    expect(first!.payload.email).toMatchObject({
      textContent: 'Where is my order?', isStartOfThread: true, subject: 'Order 123 is late', inReplyToEmailId: null,
      from: { email: 'jane@nike.com', name: 'Jane Doe', emailActor: { actorType: 'customer' } },
      to: { email: 'help@acme.com', emailActor: { actorType: 'supportEmailAddress', supportEmailAddress: 'help@acme.com' } },
      attachments: [{ fileName: 'receipt.PDF', fileExtension: 'pdf', fileMimeType: 'application/pdf', fileSizeBytes: 4 }],
    });
    expect(first!.payload.thread.lastInboundMessageInfo).toMatchObject({ messageSource: 'EMAIL', actorType: 'customer' });
    expect(reply!.payload.email).toMatchObject({ isStartOfThread: false, subject: null, inReplyToEmailId: first!.payload.email.id, from: { email: 'bob@gmail.com' } });
    expect(reply!.payload.thread.customer.email.email).toBe('jane@nike.com');
  });

  it('thread.email_received never carries more text than an entry stores, also from an event recorded before the limits', async () => {
    const [first] = ofType(EVENT_TYPES.emailReceived);
    const payload = first!.payload as { entry: Record<string, unknown> };
    const long = { ...first!, payload: { entry: { ...payload.entry, text: 'a'.repeat(ENTRY_LIMITS.textChars + 1000) } } };
    expect((await parsedBody(long)).payload.email.textContent).toBe('a'.repeat(ENTRY_LIMITS.textChars));
  });

  it('thread.thread_status_transitioned parses with the SDK for TODO->DONE and DONE->TODO', async () => {
    const [done, reopened] = await Promise.all(ofType(EVENT_TYPES.threadStatusTransitioned).map(parsedBody));
    expect(done!.payload.previousThread).toMatchObject({ status: 'TODO', statusDetail: { type: 'CREATED' } });
    expect(done!.payload.thread).toMatchObject({ status: 'DONE', statusDetail: { type: 'DONE_MANUALLY_SET' }, statusChangedBy: { actorType: 'system', system: 'email' } });
    expect(reopened!.payload.previousThread).toMatchObject({ status: 'DONE', statusChangedAt: done!.payload.thread.statusChangedAt });
    expect(reopened!.payload.thread).toMatchObject({ status: 'TODO', statusDetail: { type: 'NEW_REPLY' } });
  });

  it('builds the envelope Plain requires around the payload', async () => {
    const event = ofType(EVENT_TYPES.customerCreated)[0]!;
    const m = meta('2024-09-18');
    const body = plainWebhookBody(event, await buildPlainPayload(db.pool, event), { ...m, attemptNumber: 3 });
    expect(body).toMatchObject({
      id: event.id, type: event.type, timestamp: event.createdAt.toISOString(), workspaceId: ctx.workspaceId,
      webhookMetadata: { webhookTargetId: m.webhookTargetId, webhookTargetVersion: '2024-09-18', webhookDeliveryAttemptId: m.attemptId, webhookDeliveryAttemptNumber: 3, webhookDeliveryAttemptTimestamp: m.attemptTimestamp.toISOString() },
    });
    expect(m.attemptId).toMatch(/^wha_[0-9A-HJKMNP-TV-Z]{26}$/);
  });

  it('refuses a malformed event payload, an unknown type and non-Plain ids with a clear error', async () => {
    const good = ofType(EVENT_TYPES.threadStatusTransitioned)[0]!;
    await expect(buildPlainPayload(db.pool, { ...good, payload: { threadId: 'th_1', previousStatus: 'OPEN', status: 'DONE' } })).rejects.toThrow(
      expect.objectContaining({ name: 'PlainPayloadError', message: expect.stringMatching(/malformed payload[\s\S]*threadId[\s\S]*previousStatus/) }),
    );
    await expect(buildPlainPayload(db.pool, { ...ofType(EVENT_TYPES.customerCreated)[0]!, payload: { customer: null } })).rejects.toBeInstanceOf(PlainPayloadError);
    await expect(buildPlainPayload(db.pool, { ...good, payload: 'garbage' })).rejects.toBeInstanceOf(PlainPayloadError);
    await expect(buildPlainPayload(db.pool, { ...good, type: 'thread.thread_deleted' })).rejects.toThrow(/no Plain payload/);
    // Scoped by workspace: another workspace's id finds nothing.
    await expect(buildPlainPayload(db.pool, { ...good, workspaceId: newId('workspace') })).rejects.toThrow(/is not in workspace/);
    const payload = await buildPlainPayload(db.pool, good);
    expect(() => plainWebhookBody(good, payload, { ...meta('2024-09-18'), attemptId: crypto.randomUUID() })).toThrow(/attemptId .* prefix_ULID/);
    expect(() => plainWebhookBody(good, payload, { ...meta('2024-09-18'), attemptNumber: 0 })).toThrow(PlainPayloadError);
  });
});
