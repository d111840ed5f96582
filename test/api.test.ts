import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../src/db/pool.ts';
import { addAttachments } from '../src/domain/attachments.ts';
import { findOrCreateCustomerByEmail } from '../src/domain/customers.ts';
import { PLAIN_ID } from '../src/domain/ids.ts';
import { createThread, type Thread } from '../src/domain/threads.ts';
import { newId } from '../src/domain/ids.ts';
import { addTimelineEntry, ENTRY_LIMITS, importTimelineEntries } from '../src/domain/timeline-entries.ts';
import type { WorkspaceCredentials } from '../src/domain/workspaces.ts';
import { buildApp } from '../src/http/app.ts';
import { startJobs, type Jobs } from '../src/queue/boss.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { makeWorkspace } from './support/workspaces.ts';

let db: TestDatabase;
let jobs: Jobs;
let app: FastifyInstance;
let a: WorkspaceCredentials;
let b: WorkspaceCredentials;
let threadA: Thread;
let threadB: Thread;

const auth = (c: WorkspaceCredentials) => ({ authorization: `Bearer ${c.apiKey}` });

function expectPlainError(body: unknown, code: string, type: string) {
  expect(body).toEqual({ error: { message: expect.any(String), type, code, fields: expect.any(Array) } });
}

beforeAll(async () => {
  db = await createTestDatabase();
  jobs = await startJobs(db.url, { onError: () => {}, supervise: false, schedule: false });
  app = await buildApp({ pool: db.pool, boss: jobs.boss, inboundDomain: 'in.test' });
  a = await makeWorkspace(db.pool, 'A', 'help@acme.com');
  b = await makeWorkspace(db.pool, 'B', 'support@globex.com');
  const ctxA = { db: db.pool, workspaceId: a.workspace.id, origin: 'email' as const };
  const ctxB = { db: db.pool, workspaceId: b.workspace.id, origin: 'email' as const };
  const jane = (await findOrCreateCustomerByEmail(ctxA, { email: 'jane@nike.com', fullName: 'Jane' })).customer;
  for (const email of ['c1@example.com', 'c2@example.com', 'c3@example.com']) await findOrCreateCustomerByEmail(ctxA, { email });
  const bob = (await findOrCreateCustomerByEmail(ctxB, { email: 'bob@nike.com', fullName: 'Bob' })).customer;
  threadA = await createThread(ctxA, { customerId: jane.id, title: 'Broken invoice', channel: 'EMAIL' });
  await createThread(ctxA, { customerId: jane.id, title: 'Done one', channel: 'EMAIL', status: 'DONE' });
  threadB = await createThread(ctxB, { customerId: bob.id, title: 'B secret', channel: 'EMAIL' });
  const entry = await addTimelineEntry(ctxA, { threadId: threadA.id, kind: 'inbound_email', author: { type: 'customer', customerId: jane.id }, text: 'Hello', messageId: '<m1@nike.com>' });
  await addAttachments(ctxA, entry.id, [
    { fileName: 'invoice.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF-1.4'), status: 'accepted' },
    { fileName: 'run.exe', contentType: 'application/octet-stream', content: Buffer.from('MZ'), status: 'rejected', code: 'attachment_file_type_not_allowed' },
  ]);
});

afterAll(async () => {
  await app.close();
  await jobs.stop();
  await db.close();
});

describe('API authentication', () => {
  it.each([
    ['no key', {}],
    ['a wrong key', { authorization: 'Bearer intake_wrong' }],
    ['a malformed header', { authorization: 'Basic abc' }],
  ])('answers 401 in Plain shape for %s', async (_name, headers) => {
    const res = await app.inject({ method: 'GET', url: '/v1/workspace', headers });
    expect(res.statusCode).toBe(401);
    expectPlainError(res.json(), 'unauthenticated', 'FORBIDDEN');
  });

  it('returns the workspace without secrets', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/workspace', headers: auth(a) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      workspace: { id: a.workspace.id, name: 'A', supportAddress: 'help@acme.com', alternateAddresses: [], forwarderAddresses: [], inboundAddress: `${a.workspace.inboundToken}@in.test` },
    });
    expect(res.body).not.toContain(a.apiKey);
    expect(res.body).not.toContain(a.webhookSecret);
  });
});

describe('workspace isolation', () => {
  it("never shows workspace B's customers to A's key", async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/customers?email=bob@nike.com', headers: auth(a) });
    expect(res.json()).toEqual({ customers: [], pageInfo: { hasNextPage: false, endCursor: null } });
    const all = await app.inject({ method: 'GET', url: '/v1/customers?first=100', headers: auth(a) });
    expect(all.json().customers.map((c: { email: string }) => c.email)).not.toContain('bob@nike.com');
  });

  it("answers 404 for B's thread and lists none of B's threads", async () => {
    const res = await app.inject({ method: 'GET', url: `/v1/threads/${threadB.id}`, headers: auth(a) });
    expect(res.statusCode).toBe(404);
    expectPlainError(res.json(), 'not_found', 'VALIDATION');
    const list = await app.inject({ method: 'GET', url: '/v1/threads', headers: auth(a) });
    expect(list.json().threads.map((t: { id: string }) => t.id)).not.toContain(threadB.id);
    const own = await app.inject({ method: 'GET', url: `/v1/threads/${threadB.id}`, headers: auth(b) });
    expect(own.statusCode).toBe(200);
  });
});

describe('customers API', () => {
  it('finds a customer by email whatever its case, with its company', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/customers?email=JANE@Nike.com', headers: auth(a) });
    const [jane] = res.json().customers;
    expect(jane).toMatchObject({ email: 'jane@nike.com', fullName: 'Jane', externalId: null, company: { name: 'Nike', domain: 'nike.com' } });
    expect(jane.id).toMatch(PLAIN_ID);
    expect(jane.company.id).toMatch(/^co_/);
    expect(new Date(jane.createdAt).toISOString()).toBe(jane.createdAt);
  });

  it('pages Relay-style with first/after', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const url: string = `/v1/customers?first=2${after ? `&after=${after}` : ''}`;
      const body = (await app.inject({ method: 'GET', url, headers: auth(a) })).json();
      expect(body.customers.length).toBeLessThanOrEqual(2);
      seen.push(...body.customers.map((c: { email: string }) => c.email));
      after = body.pageInfo.hasNextPage ? body.pageInfo.endCursor : null;
      pages++;
    } while (after);
    expect(pages).toBe(2);
    expect(seen).toEqual(['jane@nike.com', 'c1@example.com', 'c2@example.com', 'c3@example.com']);
  });

  it.each([
    ['first=0', 'query.first'],
    ['first=101', 'query.first'],
    ['first=abc', 'query.first'],
    ['after=not-a-cursor', 'query.after'],
  ])('refuses ?%s with a field error', async (query, field) => {
    const res = await app.inject({ method: 'GET', url: `/v1/customers?${query}`, headers: auth(a) });
    expect(res.statusCode).toBe(400);
    expectPlainError(res.json(), 'input_validation', 'VALIDATION');
    expect(res.json().error.fields[0].field).toBe(field);
  });
});

describe('threads API', () => {
  it('filters by customer and status', async () => {
    const todo = (await app.inject({ method: 'GET', url: `/v1/threads?status=TODO&customerId=${threadA.customerId}`, headers: auth(a) })).json();
    expect(todo.threads.map((t: { title: string }) => t.title)).toEqual(['Broken invoice']);
    const done = (await app.inject({ method: 'GET', url: '/v1/threads?status=DONE', headers: auth(a) })).json();
    expect(done.threads.map((t: { title: string }) => t.title)).toEqual(['Done one']);
    const bad = await app.inject({ method: 'GET', url: '/v1/threads?status=OPEN', headers: auth(a) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.fields[0].field).toBe('query.status');
  });

  it('shows a thread with its entries and attachments, refusals with their code', async () => {
    const res = await app.inject({ method: 'GET', url: `/v1/threads/${threadA.id}`, headers: auth(a) });
    expect(res.statusCode).toBe(200);
    const { thread } = res.json();
    expect(thread).toMatchObject({ id: threadA.id, title: 'Broken invoice', status: 'TODO', customerId: threadA.customerId });
    expect(thread.entries).toHaveLength(1);
    expect(thread.entries[0]).toMatchObject({ kind: 'inbound_email', text: 'Hello', textTruncated: false, textSize: 5, html: null, htmlTruncated: false, htmlSize: null });
    expect(thread.entries[0].attachments).toEqual([
      { id: expect.stringMatching(/^att_/), fileName: 'invoice.pdf', contentType: 'application/pdf', size: 8, status: 'accepted', code: null },
      { id: expect.stringMatching(/^att_/), fileName: 'run.exe', contentType: 'application/octet-stream', size: 2, status: 'rejected', code: 'attachment_file_type_not_allowed' },
    ]);
  });

  describe('entries longer than the entry limits', () => {
    // Multi-byte characters, so sizes in UTF-8 bytes differ from lengths.
    const longText = `Grüße ${'é'.repeat(ENTRY_LIMITS.textChars)}`;
    const longHtml = `<p>${'€'.repeat(ENTRY_LIMITS.htmlChars)}</p>`;
    const entries = async (threadId: string) => (await app.inject({ method: 'GET', url: `/v1/threads/${threadId}`, headers: auth(a) })).json().thread.entries;

    it('stores them cut, flagged, with the whole size, from any writer', async () => {
      const ctx = { db: db.pool, workspaceId: a.workspace.id, origin: 'email' as const };
      const thread = await createThread(ctx, { customerId: threadA.customerId, title: 'Long one', channel: 'EMAIL' });
      await addTimelineEntry(ctx, { threadId: thread.id, kind: 'inbound_email', author: { type: 'customer', customerId: threadA.customerId }, text: longText, html: longHtml });
      await importTimelineEntries({ ...ctx, origin: 'import' }, [
        { id: newId('timelineEntry'), threadId: thread.id, kind: 'note', author: { type: 'system', name: 'Zendesk' }, text: longText, html: null, createdAt: new Date() },
      ]);
      const [email, imported] = await entries(thread.id);
      expect(email).toMatchObject({
        text: longText.slice(0, ENTRY_LIMITS.textChars), textTruncated: true, textSize: Buffer.byteLength(longText),
        html: longHtml.slice(0, ENTRY_LIMITS.htmlChars), htmlTruncated: true, htmlSize: Buffer.byteLength(longHtml),
      });
      expect(imported).toMatchObject({ text: longText.slice(0, ENTRY_LIMITS.textChars), textTruncated: true, textSize: Buffer.byteLength(longText), html: null });
      // The email's event (which webhooks are built from) carries the cut text and no HTML.
      const { rows } = await db.pool.query(`SELECT payload FROM events WHERE payload->'entry'->>'id' = $1`, [email.id]);
      expect(rows[0].payload.entry.text).toBe(email.text);
      expect(rows[0].payload.entry).not.toHaveProperty('html');
    });

    it('cuts on read an entry stored whole before there were limits', async () => {
      const ctx = { db: db.pool, workspaceId: a.workspace.id, origin: 'email' as const };
      const thread = await createThread(ctx, { customerId: threadA.customerId, title: 'Old long one', channel: 'EMAIL' });
      const entry = await addTimelineEntry(ctx, { threadId: thread.id, kind: 'inbound_email', author: { type: 'customer', customerId: threadA.customerId }, text: 'short' });
      await db.pool.query(`UPDATE timeline_entries SET text = $2, html = $3 WHERE id = $1`, [entry.id, longText, longHtml]);
      const [read] = await entries(thread.id);
      expect(read).toMatchObject({
        text: longText.slice(0, ENTRY_LIMITS.textChars), textTruncated: true, textSize: Buffer.byteLength(longText),
        html: longHtml.slice(0, ENTRY_LIMITS.htmlChars), htmlTruncated: true, htmlSize: Buffer.byteLength(longHtml),
      });
    });
  });
});

describe('workspace updates', () => {
  const patch = (payload: string, creds = a, contentType = 'application/json') =>
    app.inject({ method: 'PATCH', url: '/v1/workspace', headers: { ...auth(creds), 'content-type': contentType }, payload });

  it('sets the support address and alternates on the same domain', async () => {
    const res = await patch(JSON.stringify({ name: 'Acme Support', supportAddress: 'Help@Acme.com', alternateAddresses: ['billing@acme.com', 'sales@acme.com'] }));
    expect(res.statusCode).toBe(200);
    expect(res.json().workspace).toMatchObject({ name: 'Acme Support', supportAddress: 'help@acme.com', alternateAddresses: ['billing@acme.com', 'sales@acme.com'] });
  });

  it('refuses malformed JSON with input_validation', async () => {
    const res = await patch('{"name": ');
    expect(res.statusCode).toBe(400);
    expectPlainError(res.json(), 'input_validation', 'VALIDATION');
  });

  it.each([
    ['an alternate on another domain', { alternateAddresses: ['x@other.com'] }, 'alternateAddresses[0]'],
    ['11 alternates', { alternateAddresses: Array.from({ length: 11 }, (_, i) => `a${i}@acme.com`) }, 'alternateAddresses'],
    ['a duplicate alternate', { alternateAddresses: ['a@acme.com', 'A@acme.com'] }, 'alternateAddresses[1]'],
    ['a bad support address', { supportAddress: 'nope' }, 'supportAddress'],
    ['a wrong type', { name: 42 }, 'name'],
    ['an unknown field', { colour: 'red' }, '(body)'],
  ])('refuses %s with field errors and changes nothing', async (_name, body, field) => {
    const before = (await app.inject({ method: 'GET', url: '/v1/workspace', headers: auth(a) })).json();
    const res = await patch(JSON.stringify(body));
    expect(res.statusCode).toBe(400);
    expectPlainError(res.json(), 'input_validation', 'VALIDATION');
    expect(res.json().error.fields.map((f: { field: string }) => f.field)).toContain(field);
    const after = (await app.inject({ method: 'GET', url: '/v1/workspace', headers: auth(a) })).json();
    expect(after).toEqual(before);
  });

  it('answers 415 for a body that is not JSON and 413 for one over the default limit', async () => {
    const wrongType = await patch('name=x', a, 'application/x-www-form-urlencoded');
    expect(wrongType.statusCode).toBe(415);
    expectPlainError(wrongType.json(), 'unsupported_media_type', 'VALIDATION');
    const huge = await patch(JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) }));
    expect(huge.statusCode).toBe(413);
    expectPlainError(huge.json(), 'payload_too_large', 'VALIDATION');
  });
});

describe('operations endpoints', () => {
  it('answers unknown routes with not_found in Plain shape', async () => {
    const res = await app.inject({ method: 'GET', url: '/nope' });
    expect(res.statusCode).toBe(404);
    expectPlainError(res.json(), 'not_found', 'VALIDATION');
  });

  it('reports health, and 503 when the database is unreachable', async () => {
    expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const deadPool = createPool('postgres://nobody:x@127.0.0.1:1/none', { max: 1 });
    const deadApp = await buildApp({ pool: deadPool, inboundDomain: 'in.test' });
    try {
      const res = await deadApp.inject({ method: 'GET', url: '/healthz' });
      expect(res.statusCode).toBe(503);
      expectPlainError(res.json(), 'service_unavailable', 'INTERNAL');
      // An API request while the database is down is a 503, not a 500.
      const api = await deadApp.inject({ method: 'GET', url: '/v1/workspace', headers: auth(a) });
      expect(api.statusCode).toBe(503);
      expectPlainError(api.json(), 'service_unavailable', 'INTERNAL');
    } finally {
      await deadApp.close();
      await deadPool.end();
    }
  });

  it('exposes Prometheus metrics: requests, errors and job counts', async () => {
    await app.inject({ method: 'GET', url: '/v1/workspace' });
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toMatch(/intake_http_requests_total\{method="GET",route="\/v1\/workspace",status="401"\} \d+/);
    expect(res.body).toMatch(/intake_http_errors_total\{code="unauthenticated"\} \d+/);
    expect(res.body).toMatch(/intake_jobs\{queue="inbound-email",state="queued"\} 0/);
  });
});
