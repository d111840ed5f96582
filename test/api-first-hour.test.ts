import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addAttachments, type Attachment } from '../src/domain/attachments.ts';
import { findOrCreateCustomerByEmail } from '../src/domain/customers.ts';
import { createThread } from '../src/domain/threads.ts';
import { addTimelineEntry } from '../src/domain/timeline-entries.ts';
import type { WorkspaceCredentials } from '../src/domain/workspaces.ts';
import { buildApp } from '../src/http/app.ts';
import { contentDisposition } from '../src/http/routes/attachments.ts';
import { withTransaction } from '../src/db/pool.ts';
import { storeInbound } from '../src/inbound/ledger.ts';
import { startJobs, type Jobs } from '../src/queue/boss.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { makeWorkspace } from './support/workspaces.ts';

// The API gaps a newcomer hits: an attachment's bytes, and list order (issue 15, item 5).

let db: TestDatabase;
let jobs: Jobs;
let app: FastifyInstance;
let a: WorkspaceCredentials;
let b: WorkspaceCredentials;
let files: Attachment[];

const auth = (c: WorkspaceCredentials) => ({ authorization: `Bearer ${c.apiKey}` });
const PDF = Buffer.from('%PDF-1.4 \x00\xff binary');
const SVG = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
const HTML = Buffer.from('<html><script>alert(document.cookie)</script></html>');

beforeAll(async () => {
  db = await createTestDatabase();
  jobs = await startJobs(db.url, { onError: () => {}, supervise: false, schedule: false });
  app = await buildApp({ pool: db.pool, boss: jobs.boss, inboundDomain: 'in.test' });
  a = await makeWorkspace(db.pool, 'A', 'help@acme.com');
  b = await makeWorkspace(db.pool, 'B', 'help@globex.com');
  const ctx = { db: db.pool, workspaceId: a.workspace.id, origin: 'email' as const };
  const jane = (await findOrCreateCustomerByEmail(ctx, { email: 'jane@nike.com' })).customer;
  for (const email of ['c1@example.com', 'c2@example.com']) await findOrCreateCustomerByEmail(ctx, { email });
  const thread = await createThread(ctx, { customerId: jane.id, title: 'Invoice', channel: 'EMAIL' });
  const entry = await addTimelineEntry(ctx, { threadId: thread.id, kind: 'inbound_email', author: { type: 'customer', customerId: jane.id }, text: 'Hi', messageId: '<m@nike.com>' });
  files = await addAttachments(ctx, entry.id, [
    { fileName: 'Rechnung "März" 2024.pdf', contentType: 'application/pdf', content: PDF, status: 'accepted' },
    { fileName: 'logo.svg', contentType: 'image/svg+xml', content: SVG, status: 'accepted' },
    { fileName: 'page.html', contentType: 'text/html; charset=utf-8', content: HTML, status: 'accepted' },
    { fileName: 'odd.bin', contentType: 'text/plain\r\nX-Injected: 1', content: Buffer.from('x'), status: 'accepted' },
    { fileName: 'run.exe', contentType: 'application/octet-stream', content: Buffer.from('MZ'), status: 'rejected', code: 'attachment_file_type_not_allowed' },
  ]);
  for (let i = 0; i < 3; i++) {
    await withTransaction(db.pool, (tx) => storeInbound(tx, { source: 'mime', raw: Buffer.from(`Subject: ${i}\r\n\r\nx`), dedupeKey: `k${i}`, messageId: null, workspaceId: a.workspace.id }));
  }
});

afterAll(async () => {
  await app.close();
  await jobs.stop();
  await db.close();
});

describe('GET /v1/attachments/:id/content', () => {
  it("streams an accepted attachment's exact bytes with its content type, as a download", async () => {
    const res = await app.inject({ method: 'GET', url: `/v1/attachments/${files[0]!.id}/content`, headers: auth(a) });
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.equals(PDF)).toBe(true);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.headers['content-length']).toBe(String(PDF.length));
    expect(res.headers['content-disposition']).toBe(`attachment; filename="Rechnung _M_rz_ 2024.pdf"; filename*=UTF-8''Rechnung%20%22M%C3%A4rz%22%202024.pdf`);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it.each([
    ['SVG', 1, 'image/svg+xml'],
    ['HTML', 2, 'text/html; charset=utf-8'],
  ])('never serves %s inline: attachment disposition, nosniff and a sandboxing CSP', async (_, index, type) => {
    const res = await app.inject({ method: 'GET', url: `/v1/attachments/${files[index]!.id}/content`, headers: auth(a) });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe(type);
    expect(String(res.headers['content-disposition'])).toMatch(/^attachment; /);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toContain('sandbox');
  });

  it('serves a stored content type that is not a clean media type as application/octet-stream', async () => {
    const res = await app.inject({ method: 'GET', url: `/v1/attachments/${files[3]!.id}/content`, headers: auth(a) });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    expect(res.headers['x-injected']).toBeUndefined();
  });

  it("answers a refused attachment with 409 and its code, another workspace's or an unknown id with 404, no key with 401", async () => {
    const refused = await app.inject({ method: 'GET', url: `/v1/attachments/${files[4]!.id}/content`, headers: auth(a) });
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toEqual({ error: { message: expect.stringContaining('attachment_file_type_not_allowed'), type: 'VALIDATION', code: 'conflict', fields: [] } });
    const other = await app.inject({ method: 'GET', url: `/v1/attachments/${files[0]!.id}/content`, headers: auth(b) });
    expect(other.statusCode).toBe(404);
    expect(other.json().error.code).toBe('not_found');
    expect((await app.inject({ method: 'GET', url: '/v1/attachments/att_nope/content', headers: auth(a) })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: `/v1/attachments/${files[0]!.id}/content` })).statusCode).toBe(401);
  });

  it('keeps the ASCII fallback name free of quotes, backslashes and control characters', () => {
    expect(contentDisposition('a\\b"c\r\nd.txt')).toBe(`attachment; filename="a_b_c__d.txt"; filename*=UTF-8''a%5Cb%22c%0D%0Ad.txt`);
    expect(contentDisposition('')).toBe(`attachment; filename="attachment"; filename*=UTF-8''`);
  });
});

describe('order=asc|desc on list endpoints', () => {
  it('lists inbound emails newest first by default, oldest first with order=asc, and pages in that order', async () => {
    const list = async (query: string) => (await app.inject({ method: 'GET', url: `/v1/inbound-emails${query}`, headers: auth(a) })).json();
    const newest = await list('');
    const ids = newest.inboundEmails.map((e: { id: string }) => e.id);
    expect(ids).toHaveLength(3);
    expect(ids).toEqual([...ids].sort().reverse());
    expect((await list('?order=asc')).inboundEmails.map((e: { id: string }) => e.id)).toEqual([...ids].reverse());
    const first = await list('?first=2');
    const second = await list(`?first=2&after=${first.pageInfo.endCursor}`);
    expect([...first.inboundEmails, ...second.inboundEmails].map((e: { id: string }) => e.id)).toEqual(ids);
  });

  it.each(['customers', 'threads', 'tenants'])('lists %s oldest first by default and newest first with order=desc', async (resource) => {
    const list = async (query: string) => (await app.inject({ method: 'GET', url: `/v1/${resource}${query}`, headers: auth(a) })).json()[resource] as Array<{ id: string }>;
    const asc = (await list('')).map((x) => x.id);
    expect(asc).toEqual([...asc].sort());
    expect((await list('?order=desc')).map((x) => x.id)).toEqual([...asc].reverse());
  });

  it('refuses another order with the field named', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/customers?order=sideways', headers: auth(a) });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'input_validation', fields: [expect.objectContaining({ field: 'query.order' })] });
  });
});
