import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAttachments, addAttachmentsToEntries, readAttachmentContent } from '../src/domain/attachments.ts';
import { findOrCreateCustomerByEmail, type Customer } from '../src/domain/customers.ts';
import { addLabelToThread, findOrCreateLabel } from '../src/domain/labels.ts';
import type { WriteContext } from '../src/domain/origin.ts';
import { addCustomerToTenant, findOrCreateTenant } from '../src/domain/tenants.ts';
import { createThread, getThread, setThreadStatus } from '../src/domain/threads.ts';
import { addTimelineEntry, listTimelineEntries } from '../src/domain/timeline-entries.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { makeWorkspace } from './support/workspaces.ts';

let db: TestDatabase;
let ctx: WriteContext;
let other: WriteContext;
let jane: Customer;
let outsider: Customer;

beforeAll(async () => {
  db = await createTestDatabase();
  ctx = { db: db.pool, workspaceId: (await makeWorkspace(db.pool, 'A')).workspace.id, origin: 'api' };
  other = { db: db.pool, workspaceId: (await makeWorkspace(db.pool, 'B', 'help@b.org')).workspace.id, origin: 'api' };
  jane = (await findOrCreateCustomerByEmail(ctx, { email: 'jane@nike.com', fullName: 'Jane' })).customer;
  outsider = (await findOrCreateCustomerByEmail(other, { email: 'out@b.org' })).customer;
});
afterAll(async () => db.close());

describe('tenants', () => {
  it('is unique by external id and never renamed; membership is idempotent', async () => {
    const first = await findOrCreateTenant(ctx, { externalId: 'acct-1', name: 'Nike EU' });
    const again = await findOrCreateTenant(ctx, { externalId: 'acct-1', name: 'Renamed' });
    expect(first.created).toBe(true);
    expect(again).toEqual({ tenant: first.tenant, created: false });
    expect(first.tenant.id).toMatch(/^te_/);
    expect(await addCustomerToTenant(ctx, first.tenant.id, jane.id)).toBe(true);
    expect(await addCustomerToTenant(ctx, first.tenant.id, jane.id)).toBe(false);
    // A customer of another workspace cannot join.
    expect(await addCustomerToTenant(ctx, first.tenant.id, outsider.id)).toBe(false);
  });
});

describe('labels', () => {
  it('is unique by name whatever the case', async () => {
    const billing = await findOrCreateLabel(ctx, 'Billing');
    const lower = await findOrCreateLabel(ctx, ' billing ');
    expect(lower).toEqual({ label: billing.label, created: false });
    await expect(findOrCreateLabel(ctx, '   ')).rejects.toMatchObject({ fields: [{ field: 'name' }] });
    const thread = await createThread(ctx, { customerId: jane.id, title: 'Labelled', channel: 'EMAIL' });
    expect(await addLabelToThread(ctx, thread.id, billing.label.id)).toBe(true);
    expect(await addLabelToThread(ctx, thread.id, billing.label.id)).toBe(false);
    const foreign = await findOrCreateLabel(other, 'Billing');
    expect(await addLabelToThread(ctx, thread.id, foreign.label.id)).toBe(false);
  });
});

describe('threads and timeline entries', () => {
  it("refuses a thread for another workspace's customer", async () => {
    await expect(createThread(ctx, { customerId: outsider.id, title: 'x', channel: 'EMAIL' })).rejects.toThrow(/not in workspace/);
  });

  it('transitions status and reports the previous one, once', async () => {
    const thread = await createThread(ctx, { customerId: jane.id, title: '  ', channel: 'EMAIL' });
    expect(thread).toMatchObject({ status: 'TODO', title: '(no subject)', origin: 'api' });
    expect(await setThreadStatus(ctx, thread.id, 'DONE')).toBe('TODO');
    expect(await setThreadStatus(ctx, thread.id, 'DONE')).toBeNull();
    expect(await setThreadStatus(other, thread.id, 'TODO')).toBeNull();
    expect((await getThread(ctx, thread.id))?.status).toBe('DONE');
    await expect(setThreadStatus(ctx, thread.id, 'OPEN' as never)).rejects.toMatchObject({ code: '23514' });
  });

  it('keeps an imported time, strips NUL bytes, and orders entries by time', async () => {
    const imported = { ...ctx, origin: 'import' as const };
    const then = new Date('2019-03-04T05:06:07Z');
    const thread = await createThread(imported, { customerId: jane.id, title: 'Old ticket', channel: 'EMAIL', createdAt: then });
    expect(thread.createdAt.toISOString()).toBe(then.toISOString());
    const later = await addTimelineEntry(imported, { threadId: thread.id, kind: 'outbound_message', author: { type: 'user', name: 'Agent\u0000 Smith', email: 'agent@acme.com' }, text: 'Fixed\u0000!', createdAt: new Date('2019-03-05T00:00:00Z') });
    const first = await addTimelineEntry(imported, { threadId: thread.id, kind: 'inbound_message', author: { type: 'customer', customerId: jane.id }, text: 'Broken', createdAt: then });
    expect(later.text).toBe('Fixed!');
    expect(later.authorName).toBe('Agent Smith');
    expect((await listTimelineEntries(ctx, thread.id)).map((e) => e.id)).toEqual([first.id, later.id]);
    expect(later.origin).toBe('import');
    await expect(addTimelineEntry(other, { threadId: thread.id, kind: 'note', author: { type: 'system' }, text: 'x' })).rejects.toThrow(/not in workspace/);
  });
});

describe('attachments', () => {
  it('stores accepted bytes once per sha256 and keeps refusals with their code', async () => {
    const thread = await createThread(ctx, { customerId: jane.id, title: 'Files', channel: 'EMAIL' });
    const e1 = await addTimelineEntry(ctx, { threadId: thread.id, kind: 'inbound_email', author: { type: 'customer', customerId: jane.id } });
    const e2 = await addTimelineEntry(ctx, { threadId: thread.id, kind: 'inbound_email', author: { type: 'customer', customerId: jane.id } });
    const bytes = Buffer.from('the same screenshot bytes');
    const [a1, refused] = await addAttachments(ctx, e1.id, [
      { fileName: 'shot.png', contentType: 'image/png', content: bytes, status: 'accepted', contentId: '<img1>', inline: true },
      { fileName: 'x.scr', contentType: 'application/octet-stream', content: Buffer.from('MZ..'), status: 'rejected', code: 'attachment_file_type_not_allowed' },
    ]);
    const [a2] = await addAttachments(ctx, e2.id, [{ fileName: 'copy.png', contentType: 'image/png', content: bytes, status: 'accepted' }]);
    expect(a1).toMatchObject({ status: 'accepted', code: null, inline: true, contentId: '<img1>', size: bytes.length });
    expect(refused).toMatchObject({ status: 'rejected', code: 'attachment_file_type_not_allowed' });
    expect(a2!.sha256).toBe(a1!.sha256);
    const blobs = await db.pool.query('SELECT count(*)::int AS n FROM attachment_blobs WHERE workspace_id = $1 AND sha256 = $2', [ctx.workspaceId, a1!.sha256]);
    expect(blobs.rows[0].n).toBe(1);
    expect(await readAttachmentContent(ctx, a2!.id)).toEqual(bytes);
    expect(await readAttachmentContent(ctx, refused!.id)).toBeNull();
    expect(await readAttachmentContent(other, a1!.id)).toBeNull();
    const refusedBlob = await db.pool.query('SELECT count(*)::int AS n FROM attachment_blobs WHERE sha256 = $1', [refused!.sha256]);
    expect(refusedBlob.rows[0].n).toBe(0);
  });

  it('records several entries\' files in two statements, each entry\'s in order, and refuses them all when one entry is not the workspace\'s', async () => {
    const thread = await createThread(ctx, { customerId: jane.id, title: 'Batch', channel: 'EMAIL' });
    const entries = [];
    for (let i = 0; i < 3; i++) entries.push(await addTimelineEntry(ctx, { threadId: thread.id, kind: 'inbound_email', author: { type: 'customer', customerId: jane.id } }));
    const shared = Buffer.from('one invoice sent twice');
    const file = (fileName: string, content: Buffer) => ({ fileName, contentType: 'application/pdf', content, status: 'accepted' as const });
    const statements: string[] = [];
    const counting: WriteContext = { ...ctx, db: { query: ((text: unknown, values?: unknown[]) => (statements.push(String((text as { text?: string }).text ?? text)), db.pool.query(text as string, values))) as typeof db.pool.query } };
    const stored = await addAttachmentsToEntries(counting, [
      { timelineEntryId: entries[0]!.id, files: [file('a.pdf', shared), file('b "quoted", {braced}\\.pdf', Buffer.from('b'))] },
      { timelineEntryId: entries[1]!.id, files: [] },
      { timelineEntryId: entries[2]!.id, files: [file('c.pdf', shared), { fileName: 'd.exe', contentType: 'application/x-msdownload', content: Buffer.from('MZ'), status: 'rejected', code: 'attachment_file_type_not_allowed' }] },
    ]);
    expect(statements).toHaveLength(2);
    expect(stored.map((files) => files.map((f) => [f.timelineEntryId, f.fileName, f.status]))).toEqual([
      [[entries[0]!.id, 'a.pdf', 'accepted'], [entries[0]!.id, 'b "quoted", {braced}\\.pdf', 'accepted']],
      [],
      [[entries[2]!.id, 'c.pdf', 'accepted'], [entries[2]!.id, 'd.exe', 'rejected']],
    ]);
    const { rows } = await db.pool.query('SELECT timeline_entry_id, position, file_name FROM attachments WHERE timeline_entry_id = ANY($1) ORDER BY timeline_entry_id, position', [entries.map((e) => e.id)]);
    expect(rows.map((r) => [r.timeline_entry_id, r.position, r.file_name])).toEqual([
      [entries[0]!.id, 0, 'a.pdf'],
      [entries[0]!.id, 1, 'b "quoted", {braced}\\.pdf'],
      [entries[2]!.id, 0, 'c.pdf'],
      [entries[2]!.id, 1, 'd.exe'],
    ]);
    expect(await readAttachmentContent(ctx, stored[2]![0]!.id)).toEqual(shared);

    // Another workspace's entry among them: an error, and none of the rows.
    const foreign = await addTimelineEntry(other, { threadId: (await createThread(other, { customerId: outsider.id, title: 'x', channel: 'EMAIL' })).id, kind: 'note', author: { type: 'system' } });
    await expect(
      addAttachmentsToEntries(ctx, [
        { timelineEntryId: entries[1]!.id, files: [file('ok.pdf', Buffer.from('ok'))] },
        { timelineEntryId: foreign.id, files: [file('theirs.pdf', Buffer.from('theirs'))] },
      ]),
    ).rejects.toThrow(`timeline entry ${foreign.id} is not in workspace ${ctx.workspaceId}`);
    const none = await db.pool.query('SELECT count(*)::int AS n FROM attachments WHERE timeline_entry_id = ANY($1)', [[entries[1]!.id, foreign.id]]);
    expect(none.rows[0].n).toBe(0);
  });
});

describe('events outbox', () => {
  const eventsOf = async (workspaceId: string) =>
    (await db.pool.query('SELECT type, origin, payload FROM events WHERE workspace_id = $1 ORDER BY id', [workspaceId])).rows;

  it('records customer, thread, email and status events for email-origin writes, in the same statements', async () => {
    const ws = (await makeWorkspace(db.pool, 'Events', 'help@events.example')).workspace.id;
    const live: WriteContext = { db: db.pool, workspaceId: ws, origin: 'email' };
    const { customer } = await findOrCreateCustomerByEmail(live, { email: 'Ev@Initrode.com', fullName: 'Eve' });
    const thread = await createThread(live, { customerId: customer.id, title: 'Hello', channel: 'EMAIL' });
    const entry = await addTimelineEntry(live, { threadId: thread.id, kind: 'inbound_email', author: { type: 'customer', customerId: customer.id }, text: 'Hi' });
    await addTimelineEntry(live, { threadId: thread.id, kind: 'note', author: { type: 'user', name: 'Agent' }, text: 'internal' });
    await setThreadStatus(live, thread.id, 'DONE');
    const events = await eventsOf(ws);
    expect(events.map((e) => e.type)).toEqual(['customer.customer_created', 'thread.thread_created', 'thread.email_received', 'thread.thread_status_transitioned']);
    expect(events.every((e) => e.origin === 'email')).toBe(true);
    expect(events[0].payload.customer).toMatchObject({ id: customer.id, email: 'ev@initrode.com', fullName: 'Eve', company: { name: 'Initrode', domain: 'initrode.com' } });
    expect(events[1].payload.thread).toMatchObject({ id: thread.id, title: 'Hello', status: 'TODO', customerId: customer.id });
    expect(events[2].payload.entry).toMatchObject({ id: entry.id, kind: 'inbound_email', text: 'Hi' });
    expect(events[3].payload).toEqual({ threadId: thread.id, previousStatus: 'TODO', status: 'DONE' });
  });

  it('records nothing at all for import-origin writes', async () => {
    const ws = (await makeWorkspace(db.pool, 'Silent', 'help@silent.example')).workspace.id;
    const imported: WriteContext = { db: db.pool, workspaceId: ws, origin: 'import' };
    const { customer } = await findOrCreateCustomerByEmail(imported, { email: 'old@initrode.com' });
    const thread = await createThread(imported, { customerId: customer.id, title: 'Old', channel: 'EMAIL', status: 'DONE' });
    await addTimelineEntry(imported, { threadId: thread.id, kind: 'inbound_email', author: { type: 'customer', customerId: customer.id }, text: 'old mail' });
    await setThreadStatus(imported, thread.id, 'TODO');
    expect(await eventsOf(ws)).toEqual([]);
  });
});
