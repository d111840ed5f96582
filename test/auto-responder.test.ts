import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import type { Transporter } from 'nodemailer';
import { startSmtpSink } from './support/smtp-sink.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOrCreateCustomerByEmail } from '../src/domain/customers.ts';
import { createThread, type ThreadStatus } from '../src/domain/threads.ts';
import { addTimelineEntry, listTimelineEntries } from '../src/domain/timeline-entries.ts';
import { updateWorkspace, type WorkspaceCredentials } from '../src/domain/workspaces.ts';
import { createMailTransport, isNoReplySender, sendAutoResponse, type AutoResponderDeps } from '../src/events/auto-responder.ts';
import { createAutoResponse } from '../src/events/auto-responses.ts';
import { registerApiKeyAuth } from '../src/http/auth.ts';
import { registerErrorHandling } from '../src/http/errors.ts';
import { autoResponseRoutes } from '../src/http/routes/auto-responses.ts';
import { registerOpenApi } from '../src/http/openapi.ts';
import { findThreadForEmail } from '../src/inbound/resolve-thread.ts';
import { readThreadToken, threadTokenKey } from '../src/domain/thread-token.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { makeWorkspace } from './support/workspaces.ts';

const INBOUND_DOMAIN = 'inbound.intake.test';
const REPLY_TEXT = 'Thanks for writing in: we will answer within a day.';

let db: TestDatabase;
let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
let transport: Transporter;
let deps: AutoResponderDeps;
let acme: WorkspaceCredentials;
const tokenKey = threadTokenKey(randomBytes(32));
const tempDirs: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  smtp = await startSmtpSink();
  transport = createMailTransport({ smtpUrl: smtp.url, dataDir: os.tmpdir() });
  deps = { pool: db.pool, transport, inboundDomain: INBOUND_DOMAIN, threadTokenKey: tokenKey, perCustomerWindowSeconds: 24 * 60 * 60 };

  acme = await makeWorkspace(db.pool, 'Acme', 'help@acme.com');
  await updateWorkspace(db.pool, acme.workspace.id, { alternateAddresses: ['support@acme.com'], forwarderAddresses: ['boss@gmail.com'] });
  const scope = { db: db.pool, workspaceId: acme.workspace.id };
  // Tried by order: disabled first, then API-only, then the one email uses.
  await createAutoResponse(scope, { messageText: 'disabled', enabled: false, order: 0 });
  await createAutoResponse(scope, { messageText: 'api only', channels: ['API'], order: 1 });
  await createAutoResponse(scope, { messageText: REPLY_TEXT, messageHtml: `<p>${REPLY_TEXT}</p>`, order: 5 });
  await createAutoResponse(scope, { messageText: 'later', order: 9 });
});

afterAll(async () => {
  transport?.close();
  await smtp?.close();
  await db?.close();
  for (const dir of tempDirs) await fs.rm(dir, { recursive: true, force: true });
});

let seq = 0;

/** What the inbound pipeline writes for a customer's first email: customer, thread, entry, ledger row. */
async function emailThread(
  ws: WorkspaceCredentials,
  options: { from?: string; status?: ThreadStatus; classification?: Record<string, unknown>; origin?: 'email' | 'import'; supportAddress?: string } = {},
) {
  const n = ++seq;
  const ctx = { db: db.pool, workspaceId: ws.workspace.id, origin: options.origin ?? ('email' as const) };
  const { customer } = await findOrCreateCustomerByEmail(ctx, { email: options.from ?? `customer${n}@example.org`, fullName: `Customer ${n}` });
  const thread = await createThread(ctx, { customerId: customer.id, title: `Order ${n} is late`, channel: 'EMAIL', ...(options.status ? { status: options.status } : {}) });
  const messageId = `msg-${n}@mail.example.org`;
  const entry = await addTimelineEntry(ctx, {
    threadId: thread.id,
    kind: 'inbound_email',
    author: { type: 'customer', customerId: customer.id },
    text: 'Where is my order?',
    messageId,
    references: [`earlier-${n}@mail.example.org`],
    supportAddress: options.supportAddress ?? ws.workspace.supportAddress,
  });
  const classification = { bounce: false, autoReply: false, bulk: false, forwardedBy: null, ...options.classification };
  await db.pool.query(
    `INSERT INTO inbound_emails (id, workspace_id, source, dedupe_key, message_id, raw, raw_size, status, classification, customer_id, thread_id, timeline_entry_id)
     VALUES ($1, $2, 'mime', $3, $4, '\\x00', 1, 'processed', $5, $6, $7, $8)`,
    [`ie_test${n}`, ws.workspace.id, `test:${n}`, messageId, JSON.stringify(classification), customer.id, thread.id, entry.id],
  );
  return { customer, thread, entry, messageId, job: { workspaceId: ws.workspace.id, threadId: thread.id, entryId: entry.id } };
}

const address = (a: AddressObject | AddressObject[] | undefined) => (Array.isArray(a) ? a[0] : a)?.value[0];
const lastMessage = async (): Promise<ParsedMail> => simpleParser(smtp.received.at(-1)!.raw);
const sendRows = async (threadId: string) => (await db.pool.query('SELECT * FROM auto_response_sends WHERE thread_id = $1', [threadId])).rows;

describe('auto-responder over a real SMTP server', () => {
  it('sends one auto-response that threads back, and records it as an outbound entry', async () => {
    const { thread, customer, messageId, job } = await emailThread(acme);
    expect(await sendAutoResponse(deps, job)).toBe('sent');

    expect(smtp.received.at(-1)!.rcptTo).toEqual([customer.email]);
    const mail = await lastMessage();
    expect(address(mail.from)).toEqual({ address: 'help@acme.com', name: 'Acme' });
    expect(address(mail.to)?.address).toBe(customer.email);
    expect(mail.subject).toBe(`Re: ${thread.title}`);
    expect(mail.inReplyTo).toBe(`<${messageId}>`);
    expect([mail.references].flat()).toEqual([`<earlier-${seq}@mail.example.org>`, `<${messageId}>`]);
    expect(mail.headers.get('auto-submitted')).toBe('auto-replied');
    expect(mail.headers.get('x-auto-response-suppress')).toBe('All');
    expect(mail.messageId).toMatch(/^<ar-[0-9A-Z]{26}@acme\.com>$/);
    expect(mail.text?.trim()).toBe(REPLY_TEXT);
    expect(mail.html).toContain(`<p>${REPLY_TEXT}</p>`);
    const replyTo = address(mail.replyTo)!.address!;
    const match = new RegExp(`^${acme.workspace.inboundToken}\\+([0-9a-z]+)@${INBOUND_DOMAIN.replaceAll('.', '\\.')}$`).exec(replyTo);
    expect(match).not.toBeNull();
    expect(readThreadToken(tokenKey, acme.workspace.id, match![1]!)).toBe(thread.id);

    const ctx = { db: db.pool, workspaceId: acme.workspace.id, origin: 'email' as const };
    const outbound = (await listTimelineEntries(ctx, thread.id)).filter((e) => e.kind === 'outbound_email');
    expect(outbound).toHaveLength(1);
    expect(outbound[0]).toMatchObject({ authorType: 'system', origin: 'api', messageId: mail.messageId!.slice(1, -1), inReplyTo: messageId, supportAddress: 'help@acme.com', text: REPLY_TEXT });
    expect(await sendRows(thread.id)).toMatchObject([{ timeline_entry_id: outbound[0]!.id, message_id: mail.messageId!.slice(1, -1), customer_id: customer.id }]);
    // Our own entry is not an event (no webhook fires for it).
    const events = await db.pool.query(`SELECT 1 FROM events WHERE payload->'entry'->>'id' = $1`, [outbound[0]!.id]);
    expect(events.rowCount).toBe(0);
    // The customer's answer finds the thread by In-Reply-To, and by the Reply-To token alone.
    expect((await findThreadForEmail(ctx, { inReplyTo: [mail.messageId!.slice(1, -1)], references: [] }, null, tokenKey))?.id).toBe(thread.id);
    expect((await findThreadForEmail(ctx, { inReplyTo: [], references: [] }, match![1]!, tokenKey))?.id).toBe(thread.id);
  });

  it('sends nothing the second time for the same thread', async () => {
    const { job } = await emailThread(acme);
    expect(await sendAutoResponse(deps, job)).toBe('sent');
    const count = smtp.received.length;
    expect(await sendAutoResponse(deps, job)).toBe('skipped: already sent');
    expect(smtp.received.length).toBe(count);
  });

  it('answers a customer once per window, whatever the number of new threads', async () => {
    const first = await emailThread(acme, { from: 'frequent@example.org' });
    const second = await emailThread(acme, { from: 'frequent@example.org' });
    expect(await sendAutoResponse(deps, first.job)).toBe('sent');
    const count = smtp.received.length;
    expect(await sendAutoResponse(deps, second.job)).toBe('skipped: recently auto-responded');
    expect(smtp.received.length).toBe(count);
    // Once the window has passed, a new thread is answered again.
    await db.pool.query(`UPDATE auto_response_sends SET sent_at = now() - interval '25 hours' WHERE thread_id = $1`, [first.thread.id]);
    const third = await emailThread(acme, { from: 'frequent@example.org' });
    expect(await sendAutoResponse(deps, third.job)).toBe('sent');
  });

  it('sends once when jobs for one thread and one customer run at the same time', async () => {
    const a = await emailThread(acme, { from: 'racer@example.org' });
    const b = await emailThread(acme, { from: 'racer@example.org' });
    const count = smtp.received.length;
    const outcomes = await Promise.all([sendAutoResponse(deps, a.job), sendAutoResponse(deps, a.job), sendAutoResponse(deps, b.job), sendAutoResponse(deps, a.job)]);
    expect(outcomes.filter((o) => o === 'sent')).toHaveLength(1);
    expect(smtp.received.length).toBe(count + 1);
  });

  it('skips a thread that is DONE', async () => {
    const { job } = await emailThread(acme, { status: 'DONE' });
    expect(await sendAutoResponse(deps, job)).toBe('skipped: thread is done');
  });

  it('skips a thread someone already answered', async () => {
    const { thread, job } = await emailThread(acme);
    await addTimelineEntry({ db: db.pool, workspaceId: acme.workspace.id, origin: 'api' }, { threadId: thread.id, kind: 'outbound_email', author: { type: 'user', name: 'Agent' }, text: 'On it' });
    expect(await sendAutoResponse(deps, job)).toBe('skipped: thread has an outbound entry');
  });

  it.each([
    ['autoReply', 'auto-reply'],
    ['bounce', 'bounce'],
    ['bulk', 'bulk'],
  ])('never answers mail classified %s', async (flag, reason) => {
    const count = smtp.received.length;
    const { thread, job } = await emailThread(acme, { classification: { [flag]: true } });
    expect(await sendAutoResponse(deps, job)).toBe(`skipped: ${reason}`);
    expect(smtp.received.length).toBe(count);
    expect(await sendRows(thread.id)).toEqual([]);
  });

  it('does not answer the customer of an email an agent forwarded in', async () => {
    const { job } = await emailThread(acme, { classification: { forwardedBy: 'agent@acme.com' } });
    expect(await sendAutoResponse(deps, job)).toBe('skipped: agent forward');
  });

  it('does not answer an imported email', async () => {
    const { job } = await emailThread(acme, { origin: 'import', from: 'imported@example.org' });
    expect(await sendAutoResponse(deps, job)).toBe('skipped: not an inbound email');
  });

  it.each(['noreply@shop.example.com', 'No-Reply@shop.example.com', 'donotreply@bank.example.com', 'do-not-reply@bank.example.com', 'MAILER-DAEMON@mx.example.com', 'postmaster@mx.example.com', 'bounces+x1@lists.example.com', 'bounce@lists.example.com', 'notifications@code.example.com', 'noreply-billing@saas.example.com'])(
    'never answers the no-reply sender %s',
    async (from) => {
      const { job } = await emailThread(acme, { from });
      expect(await sendAutoResponse(deps, job)).toBe('skipped: no-reply sender');
    },
  );

  it('does not mistake people for no-reply senders', () => {
    for (const email of ['nora@example.org', 'bouncer@club.example', 'replies@example.org', 'notice@example.org']) expect(isNoReplySender(email)).toBe(false);
  });

  it.each(['help@acme.com', 'support@acme.com', 'billing@acme.com', 'boss@gmail.com', `someone@${INBOUND_DOMAIN}`])('never answers our own address %s', async (from) => {
    const { job } = await emailThread(acme, { from });
    expect(await sendAutoResponse(deps, job)).toBe('skipped: own address');
  });

  it('answers customers on a public mail domain the support address also uses', async () => {
    const ws = await makeWorkspace(db.pool, 'Tiny', 'tinyshop@gmail.com');
    await createAutoResponse({ db: db.pool, workspaceId: ws.workspace.id }, { messageText: 'Got it' });
    const { job } = await emailThread(ws, { from: 'jane@gmail.com' });
    expect(await sendAutoResponse(deps, job)).toBe('sent');
    expect(address((await lastMessage()).from)?.address).toBe('tinyshop@gmail.com');
  });

  it('skips when the workspace has no enabled email auto-response', async () => {
    const ws = await makeWorkspace(db.pool, 'Quiet', 'hello@quiet.example.com');
    expect(await sendAutoResponse(deps, (await emailThread(ws)).job)).toBe('skipped: no auto-response');
    const scope = { db: db.pool, workspaceId: ws.workspace.id };
    await createAutoResponse(scope, { messageText: 'off', enabled: false });
    await createAutoResponse(scope, { messageText: 'api', channels: ['API'] });
    expect(await sendAutoResponse(deps, (await emailThread(ws)).job)).toBe('skipped: no auto-response');
  });

  it('releases the reservation when the server refuses, so the retry sends', async () => {
    const { thread, job } = await emailThread(acme);
    smtp.control.refuseRecipients = true;
    try {
      await expect(sendAutoResponse(deps, job)).rejects.toMatchObject({ responseCode: 550 });
    } finally {
      smtp.control.refuseRecipients = false;
    }
    expect(await sendRows(thread.id)).toEqual([]);
    expect(await sendAutoResponse(deps, job)).toBe('sent');
  });

  it('never sends twice after a crash between SMTP and recording (at most once)', async () => {
    const { thread, job } = await emailThread(acme);
    const count = smtp.received.length;
    const crashing = {
      sendMail: async (mail: Parameters<Transporter['sendMail']>[0]) => {
        await transport.sendMail(mail);
        throw new Error('worker killed after the server accepted the message');
      },
    } as unknown as Transporter;
    await expect(sendAutoResponse({ ...deps, transport: crashing }, job)).rejects.toThrow(/worker killed/);
    expect(smtp.received.length).toBe(count + 1);
    expect(await sendRows(thread.id)).toMatchObject([{ timeline_entry_id: null }]);
    expect(await sendAutoResponse(deps, job)).toBe('skipped: already sent');
    expect(smtp.received.length).toBe(count + 1);
  });
});

describe('file transport', () => {
  it('writes each message as an .eml file in DATA_DIR/outbox', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'intake-outbox-'));
    tempDirs.push(dataDir);
    const fileTransport = createMailTransport({ dataDir });
    const { thread, job } = await emailThread(acme);
    expect(await sendAutoResponse({ ...deps, transport: fileTransport }, job)).toBe('sent');
    const files = await fs.readdir(path.join(dataDir, 'outbox'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/\.eml$/);
    const raw = await fs.readFile(path.join(dataDir, 'outbox', files[0]!));
    // CRLF line ends, as on the wire.
    expect(raw.toString('latin1')).toMatch(/(?:^|\r\n)Auto-Submitted: auto-replied\r\n/);
    expect(raw.toString('latin1')).not.toMatch(/[^\r]\n/);
    const mail = await simpleParser(raw);
    expect(mail.subject).toBe(`Re: ${thread.title}`);
    expect(mail.headers.get('auto-submitted')).toBe('auto-replied');
    expect(mail.text?.trim()).toBe(REPLY_TEXT);
  });
});

describe('/v1/auto-responses', () => {
  let app: FastifyInstance;
  let owner: WorkspaceCredentials;
  let other: WorkspaceCredentials;
  const auth = (c: WorkspaceCredentials) => ({ authorization: `Bearer ${c.apiKey}` });
  const expectPlainError = (body: unknown, code: string) => expect(body).toEqual({ error: { message: expect.any(String), type: expect.any(String), code, fields: expect.any(Array) } });

  beforeAll(async () => {
    owner = await makeWorkspace(db.pool, 'Owner', 'help@owner.example.com');
    other = await makeWorkspace(db.pool, 'Other', 'help@other.example.com');
    // As src/http/app.ts mounts the API.
    app = Fastify({ logger: false });
    registerErrorHandling(app, () => {});
    await registerOpenApi(app);
    await app.register(async (api) => {
      registerApiKeyAuth(api, db.pool);
      autoResponseRoutes(api, { db: db.pool });
    });
    await app.ready();
  });
  afterAll(async () => app?.close());

  it('creates, lists in order, updates and deletes', async () => {
    const created = await app.inject({ method: 'POST', url: '/v1/auto-responses', headers: auth(owner), payload: { messageText: 'Thanks!', order: 2 } });
    expect(created.statusCode).toBe(201);
    const a = created.json().autoResponse;
    expect(a).toEqual({ id: expect.stringMatching(/^ar_[0-9A-Z]{26}$/), messageText: 'Thanks!', messageHtml: null, enabled: true, channels: ['EMAIL'], order: 2, createdAt: expect.any(String), updatedAt: expect.any(String) });
    const b = (await app.inject({ method: 'POST', url: '/v1/auto-responses', headers: auth(owner), payload: { messageText: 'First', messageHtml: '<b>First</b>', channels: ['API', 'EMAIL', 'API'], order: 1, enabled: false } })).json().autoResponse;
    expect(b).toMatchObject({ messageHtml: '<b>First</b>', channels: ['EMAIL', 'API'], enabled: false });

    const list = await app.inject({ method: 'GET', url: '/v1/auto-responses', headers: auth(owner) });
    expect(list.json().autoResponses.map((r: { id: string }) => r.id)).toEqual([b.id, a.id]);
    expect((await app.inject({ method: 'GET', url: '/v1/auto-responses', headers: auth(other) })).json()).toEqual({ autoResponses: [] });

    const patched = await app.inject({ method: 'PATCH', url: `/v1/auto-responses/${b.id}`, headers: auth(owner), payload: { enabled: true, messageHtml: null, order: 3 } });
    expect(patched.statusCode).toBe(200);
    expect(patched.json().autoResponse).toMatchObject({ id: b.id, messageText: 'First', messageHtml: null, enabled: true, order: 3, channels: ['EMAIL', 'API'] });

    expect((await app.inject({ method: 'DELETE', url: `/v1/auto-responses/${a.id}`, headers: auth(owner) })).statusCode).toBe(204);
    const gone = await app.inject({ method: 'PATCH', url: `/v1/auto-responses/${a.id}`, headers: auth(owner), payload: { enabled: false } });
    expect(gone.statusCode).toBe(404);
    expectPlainError(gone.json(), 'not_found');
  });

  it("answers 404 for another workspace's auto-response", async () => {
    const mine = (await app.inject({ method: 'POST', url: '/v1/auto-responses', headers: auth(owner), payload: { messageText: 'Mine' } })).json().autoResponse;
    for (const method of ['PATCH', 'DELETE'] as const) {
      const res = await app.inject({ method, url: `/v1/auto-responses/${mine.id}`, headers: auth(other), ...(method === 'PATCH' ? { payload: { enabled: false } } : {}) });
      expect(res.statusCode).toBe(404);
      expectPlainError(res.json(), 'not_found');
    }
    expect((await app.inject({ method: 'GET', url: '/v1/auto-responses', headers: auth(owner) })).json().autoResponses.map((r: { id: string }) => r.id)).toContain(mine.id);
  });

  it.each([
    ['no messageText', {}, 'messageText', 'REQUIRED'],
    ['a blank messageText', { messageText: '   ' }, 'messageText', 'VALIDATION'],
    ['an unknown channel', { messageText: 'x', channels: ['SMS'] }, 'channels.0', 'VALIDATION'],
    ['no channels', { messageText: 'x', channels: [] }, 'channels', 'VALIDATION'],
    ['a fractional order', { messageText: 'x', order: 1.5 }, 'order', 'VALIDATION'],
    ['enabled as a string', { messageText: 'x', enabled: 'yes' }, 'enabled', 'VALIDATION'],
    ['an unknown field', { messageText: 'x', subject: 'y' }, '(body)', 'VALIDATION'],
  ])('refuses %s with 400 input_validation in Plain shape', async (_name, payload, field, type) => {
    const res = await app.inject({ method: 'POST', url: '/v1/auto-responses', headers: auth(owner), payload });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expectPlainError(body, 'input_validation');
    expect(body.error.type).toBe('VALIDATION');
    expect(body.error.fields).toContainEqual({ field, message: expect.any(String), type });
  });

  it('refuses a bad update and an unauthenticated request', async () => {
    const mine = (await app.inject({ method: 'POST', url: '/v1/auto-responses', headers: auth(owner), payload: { messageText: 'Mine' } })).json().autoResponse;
    const bad = await app.inject({ method: 'PATCH', url: `/v1/auto-responses/${mine.id}`, headers: auth(owner), payload: { channels: ['FAX'], messageText: '' } });
    expect(bad.statusCode).toBe(400);
    expectPlainError(bad.json(), 'input_validation');
    expect(bad.json().error.fields.map((f: { field: string }) => f.field).sort()).toEqual(['channels.0', 'messageText']);
    const anonymous = await app.inject({ method: 'GET', url: '/v1/auto-responses' });
    expect(anonymous.statusCode).toBe(401);
    expectPlainError(anonymous.json(), 'unauthenticated');
  });
});
