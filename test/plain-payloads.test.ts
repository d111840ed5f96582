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
import { WEBHOOK_VERSIONS, type WebhookVersion } from '../src/events/webhook-versions.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { fieldsOutsideSchema, PLAIN_SDKS } from './support/plain-sdks.ts';
import { makeWorkspace } from './support/workspaces.ts';

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

type Body = { id: string; type: string; workspaceId: string; payload: Record<string, any> };

/**
 * The body as a receiver on `version` sees it: it parses with that version's SDK release and names
 * no field that version's schema does not define.
 */
async function parsedBody(event: EventRow, version: WebhookVersion): Promise<Body> {
  const wire = JSON.stringify(plainWebhookBody(event, await buildPlainPayload(db.pool, event), meta(version)));
  const parsed = PLAIN_SDKS[version].parsePlainWebhook(wire);
  expect(parsed.error?.message, `${event.type} must parse with the ${version} SDK`).toBeUndefined();
  expect(fieldsOutsideSchema(version, JSON.parse(wire)), `${event.type} fields outside the ${version} schema`).toEqual([]);
  return parsed.data as unknown as Body;
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
});

describe.each(WEBHOOK_VERSIONS)('Plain webhook payloads in schema version %s', (version) => {
  it('customer.customer_created parses with its version’s SDK, with and without a company', async () => {
    const [jane, bob] = await Promise.all(ofType(EVENT_TYPES.customerCreated).map((e) => parsedBody(e, version)));
    expect(jane!.payload.customer).toMatchObject({ email: { email: 'jane@nike.com', isVerified: false }, fullName: 'Jane Doe', company: { domain: 'nike.com' } });
    expect(jane!.payload.customer.createdBy).toEqual({ actorType: 'system', system: 'email' });
    expect(bob!.payload.customer).toMatchObject({ email: { email: 'bob@gmail.com' }, company: null, customerGroupMemberships: [] });
  });

  it('thread.thread_created parses with its version’s SDK and carries the customer, labels and a CREATED status', async () => {
    const body = await parsedBody(ofType(EVENT_TYPES.threadCreated)[0]!, version);
    const thread = body.payload.thread;
    expect(thread).toMatchObject({ title: 'Order 123 is late', status: 'TODO', priority: 2, statusDetail: { type: 'CREATED' }, supportEmailAddresses: ['help@acme.com'] });
    expect(thread.customer.email.email).toBe('jane@nike.com');
    expect(thread.createdBy).toEqual({ actorType: 'customer', customerId: thread.customer.id });
    expect(thread.labels.map((l: any) => l.labelType.name)).toEqual(['Shipping']);
    // As of its event: the thread had no message yet.
    expect(thread.firstInboundMessageInfo).toBeNull();
    // The SDK check is not vacuous: without a required field the same body is refused.
    const { priority: _, ...withoutPriority } = thread;
    expect(PLAIN_SDKS[version].parsePlainWebhook({ ...body, payload: { ...body.payload, thread: withoutPriority } }).error?.message).toMatch(/priority/);
  });

  it('thread.email_received parses with its version’s SDK: first email and a reply from a company-less customer', async () => {
    const [first, reply] = await Promise.all(ofType(EVENT_TYPES.emailReceived).map((e) => parsedBody(e, version)));
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
    expect((await parsedBody(long, version)).payload.email.textContent).toBe('a'.repeat(ENTRY_LIMITS.textChars));
  });

  it('thread.thread_status_transitioned parses with its version’s SDK for TODO->DONE and DONE->TODO', async () => {
    const [done, reopened] = await Promise.all(ofType(EVENT_TYPES.threadStatusTransitioned).map((e) => parsedBody(e, version)));
    expect(done!.payload.previousThread).toMatchObject({ status: 'TODO', statusDetail: { type: 'CREATED' } });
    expect(done!.payload.thread).toMatchObject({ status: 'DONE', statusDetail: { type: 'DONE_MANUALLY_SET' }, statusChangedBy: { actorType: 'system', system: 'email' } });
    expect(reopened!.payload.previousThread).toMatchObject({ status: 'DONE', statusChangedAt: done!.payload.thread.statusChangedAt });
    expect(reopened!.payload.thread).toMatchObject({ status: 'TODO', statusDetail: { type: 'NEW_REPLY' } });
  });
});

describe('Plain webhook payloads', () => {
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

  it('carries in each version what that version’s schema adds: additionalAssignees from 2025-08-06, a label type’s externalId and isExcludedFromAi from 2026-02-27', async () => {
    const event = ofType(EVENT_TYPES.threadCreated)[0]!;
    const [v1, v2, v3] = await Promise.all(WEBHOOK_VERSIONS.map((version) => parsedBody(event, version)));
    // Each SDK release reads its own version only: the others refuse the body as a version mismatch.
    for (const [i, body] of [v1, v2, v3].entries()) {
      for (const other of WEBHOOK_VERSIONS.filter((v) => v !== WEBHOOK_VERSIONS[i])) {
        expect(PLAIN_SDKS[other].parsePlainWebhook(body).error, `${WEBHOOK_VERSIONS[i]} body read by the ${other} SDK`).toBeInstanceOf(PLAIN_SDKS[other].PlainWebhookVersionMismatchError);
      }
    }
    expect(v1!.payload.thread).not.toHaveProperty('additionalAssignees');
    expect(v1!.payload.thread.labels[0].labelType).not.toHaveProperty('isExcludedFromAi');
    expect(v1!.payload.thread.labels[0].labelType).not.toHaveProperty('externalId');
    expect(v2!.payload.thread.additionalAssignees).toEqual([]);
    expect(v2!.payload.thread.labels[0].labelType).not.toHaveProperty('isExcludedFromAi');
    expect(v2!.payload.thread.labels[0].labelType).not.toHaveProperty('externalId');
    expect(v3!.payload.thread.additionalAssignees).toEqual([]);
    expect(v3!.payload.thread.labels[0].labelType).toMatchObject({ name: 'Shipping', externalId: null, isExcludedFromAi: false });
    // Apart from those fields and the version, the three bodies are the same.
    const strip = (b: Body) => {
      const { additionalAssignees: _a, labels, ...thread } = b.payload.thread;
      return { ...thread, labels: labels.map(({ labelType: { externalId: _e, isExcludedFromAi: _x, ...labelType }, ...l }: any) => ({ ...l, labelType })) };
    };
    expect(strip(v1!)).toEqual(strip(v3!));
    expect(strip(v2!)).toEqual(strip(v3!));
  });

  it('the schema check is not vacuous: the latest body sent as 2024-09-18 names the fields that version lacks', async () => {
    const event = ofType(EVENT_TYPES.threadStatusTransitioned)[0]!;
    const latest = plainWebhookBody(event, await buildPlainPayload(db.pool, event), meta('2026-02-27'));
    const asOld = { ...latest, webhookMetadata: { ...(latest.webhookMetadata as object), webhookTargetVersion: '2024-09-18' } };
    expect(PLAIN_SDKS['2024-09-18'].parsePlainWebhook(asOld).error).toBeUndefined(); // Plain's schema allows extra fields
    expect(fieldsOutsideSchema('2024-09-18', asOld)).toEqual(expect.arrayContaining([
      '/payload/previousThread/additionalAssignees', '/payload/thread/additionalAssignees',
      '/payload/thread/labels/0/labelType/externalId', '/payload/thread/labels/0/labelType/isExcludedFromAi',
    ]));
    expect(fieldsOutsideSchema('2026-02-27', latest)).toEqual([]);
  });

  it('refuses a version Plain never published, naming it', async () => {
    const event = ofType(EVENT_TYPES.customerCreated)[0]!;
    const payload = await buildPlainPayload(db.pool, event);
    for (const version of ['2023-01-01', '2026-02-28', 'latest', '']) {
      expect(() => plainWebhookBody(event, payload, meta(version)), version).toThrow(PlainPayloadError);
    }
    expect(() => plainWebhookBody(event, payload, meta('2023-01-01'))).toThrow(/2023-01-01.*2024-09-18, 2025-08-06, 2026-02-27/);
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
