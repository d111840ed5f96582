import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeThreadToken } from '../src/domain/thread-token.ts';
import { AUTH_HEADER, INBOUND_DOMAIN, startInboundHarness, type InboundHarness } from './support/inbound-harness.ts';
import { makeWorkspace } from './support/workspaces.ts';

let h: InboundHarness;
let acme: Awaited<ReturnType<typeof makeWorkspace>>;
let inboundAddress: string;

beforeAll(async () => {
  h = await startInboundHarness();
  acme = await makeWorkspace(h.db.pool, 'Acme', 'help@acme.com');
  inboundAddress = `${acme.workspace.inboundToken}@${INBOUND_DOMAIN}`;
});
afterAll(async () => h.close());

let seq = 0;
function postmark(overrides: Record<string, unknown> = {}) {
  seq++;
  return {
    From: 'jane@nike.com',
    FromName: 'Jane Doe',
    FromFull: { Email: 'jane@nike.com', Name: 'Jane Doe', MailboxHash: '' },
    To: 'help@acme.com',
    ToFull: [{ Email: 'help@acme.com', Name: 'Acme Help', MailboxHash: '' }],
    Cc: '',
    CcFull: [],
    Bcc: '',
    BccFull: [],
    OriginalRecipient: inboundAddress,
    ReplyTo: '',
    Subject: `Question ${seq}`,
    MessageID: `7f6d5c4b-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    Date: 'Thu, 5 Nov 2026 10:00:00 +0000',
    MailboxHash: '',
    TextBody: `Hello, question number ${seq}.`,
    HtmlBody: '',
    StrippedTextReply: '',
    Tag: '',
    MessageStream: 'inbound',
    Headers: [{ Name: 'Message-ID', Value: `<q${seq}@mail.nike.com>` }],
    Attachments: [],
    ...overrides,
  };
}

const post = (url: string, payload: string | Buffer, contentType: string, auth = AUTH_HEADER) =>
  h.app.inject({ method: 'POST', url, payload, headers: { 'content-type': contentType, ...(auth ? { authorization: auth } : {}) } });

async function thread(id: string) {
  const res = await h.app.inject({ method: 'GET', url: `/v1/threads/${id}`, headers: { authorization: `Bearer ${acme.apiKey}` } });
  return res.json().thread;
}

async function count(table: string) {
  const { rows } = await h.db.pool.query(`SELECT count(*)::int AS n FROM ${table}`);
  return rows[0].n as number;
}

describe('inbound endpoints', () => {
  it('turns a Postmark payload into customer, thread and entry, visible through the API', async () => {
    const res = await post('/inbound/postmark', JSON.stringify(postmark({ Subject: 'Re: Fwd: Invoice is wrong' })), 'application/json');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toEqual({ inboundEmailId: expect.stringMatching(/^ie_/), status: 'received' });
    const row = await h.settled(body.inboundEmailId);
    expect(row.status).toBe('processed');
    const t = await thread(row.thread_id as string);
    expect(t).toMatchObject({ title: 'Invoice is wrong', status: 'TODO' });
    expect(t.entries[0]).toMatchObject({ kind: 'inbound_email', text: expect.stringContaining('question number') });
    const api = await h.app.inject({ method: 'GET', url: `/v1/inbound-emails/${body.inboundEmailId}`, headers: { authorization: `Bearer ${acme.apiKey}` } });
    expect(api.json().inboundEmail).toMatchObject({ status: 'processed', threadId: t.id, customerId: t.customerId, workspaceId: acme.workspace.id });
  });

  it('threads a raw MIME reply by In-Reply-To and by a signed token, and not by a forged one', async () => {
    const first = await post('/inbound/postmark', JSON.stringify(postmark({ Subject: 'Printer on fire', Headers: [{ Name: 'Message-ID', Value: '<fire-1@mail.nike.com>' }] })), 'application/json');
    const original = await h.settled(first.json().inboundEmailId);
    const mime = (extra: string, id: string, to = 'help@acme.com') =>
      Buffer.from(`From: Jane Doe <jane@nike.com>\r\nTo: ${to}\r\nSubject: Re: Printer on fire\r\nMessage-ID: <${id}@mail.nike.com>\r\n${extra}Content-Type: text/plain; charset=utf-8\r\n\r\nStill burning.\r\n`);
    const reply = await post('/inbound/mime', mime('In-Reply-To: <fire-1@mail.nike.com>\r\n', 'fire-2'), 'message/rfc822');
    expect(reply.statusCode).toBe(200);
    expect((await h.settled(reply.json().inboundEmailId)).thread_id).toBe(original.thread_id);

    const token = makeThreadToken(h.tokenKey, acme.workspace.id, original.thread_id as string);
    const byToken = await post('/inbound/mime', mime('', 'fire-3', `${acme.workspace.inboundToken}+${token}@${INBOUND_DOMAIN}`), 'message/rfc822');
    expect((await h.settled(byToken.json().inboundEmailId)).thread_id).toBe(original.thread_id);

    const forged = token.slice(0, 26) + 'a'.repeat(13);
    const byForged = await post('/inbound/mime', mime('', 'fire-4', `${acme.workspace.inboundToken}+${forged}@${INBOUND_DOMAIN}`), 'message/rfc822');
    const forgedRow = await h.settled(byForged.json().inboundEmailId);
    expect(forgedRow.status).toBe('processed');
    expect(forgedRow.thread_id).not.toBe(original.thread_id);
  });

  it.each([
    ['no credentials', ''],
    ['a wrong password', `Basic ${Buffer.from('postmark:wrong').toString('base64')}`],
    ['a bearer token', 'Bearer whatever'],
  ])('answers 401 (never 403) for %s, and stores nothing', async (_name, auth) => {
    const before = await count('inbound_emails');
    const res = await post('/inbound/postmark', JSON.stringify(postmark()), 'application/json', auth);
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('unauthenticated');
    expect(res.headers['www-authenticate']).toMatch(/^Basic/);
    expect(await count('inbound_emails')).toBe(before);
  });
});

describe('one email, several workspaces', () => {
  it('reaches every workspace whose inbound address it names, once each', async () => {
    const globex = await makeWorkspace(h.db.pool, 'Globex', 'support@globex.com');
    const both = `${inboundAddress}, ${globex.workspace.inboundToken}@${INBOUND_DOMAIN}`;
    const raw = Buffer.from(`From: Pat <pat@initech.com>\r\nTo: ${both}\r\nSubject: Partnership\r\nMessage-ID: <both@initech.com>\r\n\r\nHello both.\r\n`);
    const res = await post('/inbound/mime', raw, 'message/rfc822');
    const first = await h.settled(res.json().inboundEmailId);
    expect(first).toMatchObject({ status: 'processed', workspace_id: acme.workspace.id });
    const { rows } = await h.db.pool.query('SELECT id FROM inbound_emails WHERE forked_from = $1', [first.id]);
    expect(rows).toHaveLength(1);
    const copy = await h.settled(rows[0].id);
    expect(copy).toMatchObject({ status: 'processed', workspace_id: globex.workspace.id });
    expect(copy.thread_id).not.toBe(first.thread_id);
    // Delivered again: nothing new anywhere.
    expect((await post('/inbound/mime', raw, 'message/rfc822')).json().status).toBe('duplicate');
    const total = await h.db.pool.query(`SELECT count(*)::int AS n FROM timeline_entries WHERE message_id = 'both@initech.com'`);
    expect(total.rows[0].n).toBe(2);
  });
});

describe('exactly once', () => {
  it('stores the same payload posted 5 times concurrently once, with one entry', async () => {
    const payload = JSON.stringify(postmark({ Subject: 'Five times' }));
    const entriesBefore = await count('timeline_entries');
    const results = await Promise.all(Array.from({ length: 5 }, () => post('/inbound/postmark', payload, 'application/json')));
    expect(results.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200]);
    const bodies = results.map((r) => r.json());
    expect(new Set(bodies.map((b) => b.inboundEmailId)).size).toBe(1);
    expect(bodies.filter((b) => b.status === 'received')).toHaveLength(1);
    expect(bodies.filter((b) => b.status === 'duplicate')).toHaveLength(4);
    await h.settled(bodies[0].inboundEmailId);
    expect(await count('timeline_entries')).toBe(entriesBefore + 1);
  });

  it('processes one Message-ID once even when it arrives as different bytes', async () => {
    const raw = (hop: string) => Buffer.from(`Received: from ${hop}\r\nFrom: jane@nike.com\r\nTo: help@acme.com\r\nSubject: Twice\r\nMessage-ID: <twice@mail.nike.com>\r\n\r\nbody\r\n`);
    const a = await post('/inbound/mime', raw('mx1'), 'message/rfc822');
    const b = await post('/inbound/mime', raw('mx2'), 'message/rfc822');
    expect(a.json().inboundEmailId).not.toBe(b.json().inboundEmailId);
    const rows = await Promise.all([h.settled(a.json().inboundEmailId), h.settled(b.json().inboundEmailId)]);
    expect(rows.map((r) => r.status).sort()).toEqual(['duplicate', 'processed']);
    const { rows: entries } = await h.db.pool.query(`SELECT count(*)::int AS n FROM timeline_entries WHERE message_id = 'twice@mail.nike.com'`);
    expect(entries[0].n).toBe(1);
  });

  it('processes one Message-ID once when its two deliveries are claimed in one batch', async () => {
    const raw = (hop: string) => Buffer.from(`Received: from ${hop}\r\nFrom: jane@nike.com\r\nTo: help@acme.com\r\nSubject: Twice at once\r\nMessage-ID: <twice-batch@mail.nike.com>\r\n\r\nbody\r\n`);
    // Both wait until one worker claims them together.
    await h.stopWorker();
    const a = await post('/inbound/mime', raw('mx1'), 'message/rfc822');
    const b = await post('/inbound/mime', raw('mx2'), 'message/rfc822');
    await h.startWorker();
    const rows = await Promise.all([h.settled(a.json().inboundEmailId), h.settled(b.json().inboundEmailId)]);
    expect(rows.map((r) => r.status).sort()).toEqual(['duplicate', 'processed']);
    expect(rows.find((r) => r.status === 'duplicate')!.duplicate_of).toBe(rows.find((r) => r.status === 'processed')!.id);
    const { rows: entries } = await h.db.pool.query(`SELECT count(*)::int AS n FROM timeline_entries WHERE message_id = 'twice-batch@mail.nike.com'`);
    expect(entries[0].n).toBe(1);
  });
});

describe('bad input', () => {
  it.each([
    ['malformed JSON', '/inbound/postmark', '{"From": ', 'application/json', 400, 'input_validation'],
    ['wrong types', '/inbound/postmark', JSON.stringify({ ...postmark(), From: 42, Attachments: 'x' }), 'application/json', 400, 'input_validation'],
    ['no sender at all', '/inbound/postmark', JSON.stringify({ ...postmark(), From: '', FromFull: null, ReplyTo: '' }), 'application/json', 400, 'input_validation'],
    ['an empty body', '/inbound/postmark', '', 'application/json', 400, 'input_validation'],
    ['an empty MIME body', '/inbound/mime', '', 'message/rfc822', 400, 'input_validation'],
    ['a non-MIME blob', '/inbound/mime', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0]), 'message/rfc822', 400, 'input_validation'],
    ['MIME without From', '/inbound/mime', 'To: help@acme.com\r\nSubject: x\r\n\r\nbody', 'message/rfc822', 400, 'input_validation'],
    ['a wrong content type', '/inbound/mime', 'hello', 'text/plain', 415, 'unsupported_media_type'],
  ])('refuses %s with the right 4xx and writes nothing', async (_name, url, payload, type, status, code) => {
    const before = await count('inbound_emails');
    const res = await post(url, payload, type);
    expect(res.statusCode).toBe(status);
    expect(res.json().error.code).toBe(code);
    expect(await count('inbound_emails')).toBe(before);
  });

  it('names the bad fields of a Postmark payload', async () => {
    const res = await post('/inbound/postmark', JSON.stringify({ ...postmark(), From: 42, Attachments: [{ Name: 'x', Content: '!!not base64!!' }] }), 'application/json');
    expect(res.json().error.fields.map((f: { field: string }) => f.field).sort()).toEqual(['Attachments.0.Content', 'From']);
  });

  it('answers 413 above 64 MiB on the inbound routes', async () => {
    const before = await count('inbound_emails');
    const big = Buffer.alloc(64 * 1024 * 1024 + 10, 0x61);
    const res = await post('/inbound/mime', big, 'message/rfc822');
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('payload_too_large');
    expect(await count('inbound_emails')).toBe(before);
  });
});

describe('agent forwards from a configured forwarder', () => {
  it('treats a forward from an address in forwarderAddresses as an agent forward', async () => {
    const auth = { authorization: `Bearer ${acme.apiKey}`, 'content-type': 'application/json' };
    const bad = await h.app.inject({ method: 'PATCH', url: '/v1/workspace', headers: auth, payload: JSON.stringify({ forwarderAddresses: ['nope'] }) });
    expect(bad.json().error.fields[0].field).toBe('forwarderAddresses[0]');
    const ok = await h.app.inject({ method: 'PATCH', url: '/v1/workspace', headers: auth, payload: JSON.stringify({ forwarderAddresses: ['Founder@Gmail.com'] }) });
    expect(ok.json().workspace.forwarderAddresses).toEqual(['founder@gmail.com']);
    const raw = Buffer.from(
      [
        'From: The Founder <founder@gmail.com>',
        'To: help@acme.com',
        'Subject: Fwd: Broken login',
        'Message-ID: <fwd-founder@mail.gmail.com>',
        '',
        'Can someone help this customer?',
        '',
        '---------- Forwarded message ---------',
        'From: Carla Customer <carla@initech.com>',
        'Date: Mon, 2 Nov 2026 09:00:00 +0000',
        'Subject: Broken login',
        'To: <founder@gmail.com>',
        '',
        'I cannot log in since yesterday.',
        '',
      ].join('\r\n'),
    );
    const row = await h.settled((await post('/inbound/mime', raw, 'message/rfc822')).json().inboundEmailId);
    expect(row.classification).toMatchObject({ forwardedBy: 'founder@gmail.com' });
    const t = await thread(row.thread_id as string);
    expect(t.title).toBe('Broken login');
    const { rows } = await h.db.pool.query('SELECT email FROM customers WHERE id = $1', [row.customer_id]);
    expect(rows[0].email).toBe('carla@initech.com');
    expect(t.entries.map((e: { kind: string }) => e.kind)).toEqual(['inbound_email', 'note']);
    expect(t.entries[1].text).toContain('Can someone help this customer?');
  });
});

describe('emails the pipeline cannot use', () => {
  it('rejects a stored email with an unusable sender once, with the reason, instead of retrying it', async () => {
    const raw = Buffer.from(`From: Broken <broken@bad..domain>\r\nTo: help@acme.com\r\nSubject: x\r\nMessage-ID: <bad-sender@x>\r\n\r\nbody\r\n`);
    const res = await post('/inbound/mime', raw, 'message/rfc822');
    expect(res.statusCode).toBe(200);
    const row = await h.settled(res.json().inboundEmailId);
    expect(row).toMatchObject({ status: 'rejected', error_code: 'invalid_email', attempts: 1, workspace_id: acme.workspace.id });
    expect(row.error_message).toMatch(/email/);
    // Visible to the workspace, and replayable.
    const list = await h.app.inject({ method: 'GET', url: '/v1/inbound-emails?status=rejected', headers: { authorization: `Bearer ${acme.apiKey}` } });
    expect(list.json().inboundEmails.map((e: { id: string }) => e.id)).toContain(row.id);
  });

  it('accepts the odd but real addresses strict validators refuse', async () => {
    for (const from of ['user=tag@initech.com', 'first&last@initech.com', 'o.k.@docomo.ne.jp']) {
      const raw = Buffer.from(`From: ${from}\r\nTo: help@acme.com\r\nSubject: odd ${from}\r\nMessage-ID: <odd-${from}>\r\n\r\nbody\r\n`);
      const row = await h.settled((await post('/inbound/mime', raw, 'message/rfc822')).json().inboundEmailId);
      expect(row.status, from).toBe('processed');
    }
  });
});

describe('replay', () => {
  it('keeps unroutable mail visible and replays it once the workspace knows the address', async () => {
    const res = await post('/inbound/postmark', JSON.stringify(postmark({ To: 'sales@acme.com', ToFull: [{ Email: 'sales@acme.com', Name: '' }], OriginalRecipient: 'sales@acme.com', Subject: 'Pricing?' })), 'application/json');
    const id = res.json().inboundEmailId;
    expect((await h.settled(id)).status).toBe('unroutable');
    const auth = { authorization: `Bearer ${acme.apiKey}` };
    const list = await h.app.inject({ method: 'GET', url: '/v1/inbound-emails?status=unroutable', headers: auth });
    expect(list.json().inboundEmails.map((e: { id: string }) => e.id)).toContain(id);

    await h.app.inject({ method: 'PATCH', url: '/v1/workspace', headers: { ...auth, 'content-type': 'application/json' }, payload: JSON.stringify({ alternateAddresses: ['sales@acme.com'] }) });
    const replay = await h.app.inject({ method: 'POST', url: `/v1/inbound-emails/${id}/replay`, headers: auth });
    expect(replay.statusCode).toBe(202);
    const row = await h.settled(id);
    expect(row.status).toBe('processed');
    expect((await thread(row.thread_id as string)).title).toBe('Pricing?');

    const again = await h.app.inject({ method: 'POST', url: `/v1/inbound-emails/${id}/replay`, headers: auth });
    expect(again.statusCode).toBe(409);
    const missing = await h.app.inject({ method: 'POST', url: '/v1/inbound-emails/ie_01H14DD1YNMMQ5V4Q3FDBVX2A2/replay', headers: auth });
    expect(missing.statusCode).toBe(404);
  });
});

describe('one batch of mail', () => {
  const from = (address: string, name: string) => ({ From: address, FromName: name, FromFull: { Email: address, Name: name, MailboxHash: '' } });
  const ids = (messageId: string, inReplyTo?: string) => ({
    Headers: [{ Name: 'Message-ID', Value: `<${messageId}>` }, ...(inReplyTo ? [{ Name: 'In-Reply-To', Value: `<${inReplyTo}>` }] : [])],
  });
  /** Posts the payloads while no worker runs, then starts one: they are claimed together, in this order. */
  async function inOneBatch(payloads: Array<Record<string, unknown>>) {
    await h.stopWorker();
    const received: string[] = [];
    for (const p of payloads) received.push((await post('/inbound/postmark', JSON.stringify(postmark(p)), 'application/json')).json().inboundEmailId);
    await h.startWorker();
    return Promise.all(received.map((id) => h.settled(id)));
  }
  const eventCount = async (type: string, path: string, values: unknown[]) =>
    (await h.db.pool.query(`SELECT count(*)::int AS n FROM events WHERE type = $1 AND payload #>> $2 = ANY($3)`, [type, path, values])).rows[0].n as number;

  it('is written as if one by one: a reply to an earlier email of the batch joins its thread, one customer per sender, one company per domain, one event each', async () => {
    const rows = await inOneBatch([
      { ...from('amy@batchco.com', 'Amy'), Subject: 'Batch start', ...ids('b1@batchco.com') },
      { ...from('AMY@batchco.com', 'Amy again'), Subject: 'Re: Batch start', ...ids('b2@batchco.com', 'b1@batchco.com') },
      { ...from('amy@batchco.com', 'Amy'), Subject: 'Another question', ...ids('b3@batchco.com') },
      { ...from('ben@batchco.com', 'Ben'), Subject: 'From a colleague', ...ids('b4@batchco.com') },
    ]);
    expect(rows.map((r) => r.status)).toEqual(['processed', 'processed', 'processed', 'processed']);
    const [first, reply, other, colleague] = rows;
    expect(reply!.thread_id).toBe(first!.thread_id);
    expect(new Set([first!.thread_id, other!.thread_id, colleague!.thread_id]).size).toBe(3);
    expect(new Set([first!.customer_id, reply!.customer_id, other!.customer_id]).size).toBe(1);

    const { rows: customers } = await h.db.pool.query(`SELECT email, full_name, company_id FROM customers WHERE email LIKE '%@batchco.com' ORDER BY email`);
    expect(customers.map((c) => [c.email, c.full_name])).toEqual([['amy@batchco.com', 'Amy'], ['ben@batchco.com', 'Ben']]);
    expect(customers[0].company_id).toBeTruthy();
    expect(customers[1].company_id).toBe(customers[0].company_id);
    expect((await h.db.pool.query(`SELECT count(*)::int AS n FROM companies WHERE domain = 'batchco.com'`)).rows[0].n).toBe(1);

    const threads = [first!.thread_id, other!.thread_id, colleague!.thread_id];
    expect((await thread(first!.thread_id as string)).title).toBe('Batch start');
    expect(await eventCount('customer.customer_created', '{customer,email}', ['amy@batchco.com', 'ben@batchco.com'])).toBe(2);
    expect(await eventCount('thread.thread_created', '{thread,id}', threads)).toBe(3);
    expect(await eventCount('thread.email_received', '{entry,threadId}', threads)).toBe(4);
    // The customer event names the company, as the API shows it.
    const { rows: events } = await h.db.pool.query(`SELECT payload FROM events WHERE type = 'customer.customer_created' AND payload #>> '{customer,email}' = 'ben@batchco.com'`);
    expect(events[0].payload.customer.company).toMatchObject({ id: customers[0].company_id, domain: 'batchco.com' });
  });

  it('reopens a closed thread once for two replies in one batch', async () => {
    const [opened] = await inOneBatch([{ ...from('cat@reopen.com', 'Cat'), Subject: 'Closed soon', ...ids('r1@reopen.com') }]);
    const done = await h.app.inject({ method: 'PATCH', url: `/v1/threads/${opened!.thread_id}`, payload: { status: 'DONE' }, headers: { authorization: `Bearer ${acme.apiKey}` } });
    expect(done.statusCode).toBe(200);
    const rows = await inOneBatch([
      { ...from('cat@reopen.com', 'Cat'), Subject: 'Re: Closed soon', ...ids('r2@reopen.com', 'r1@reopen.com') },
      { ...from('cat@reopen.com', 'Cat'), Subject: 'Re: Closed soon', ...ids('r3@reopen.com', 'r2@reopen.com') },
    ]);
    expect(rows.map((r) => r.thread_id)).toEqual([opened!.thread_id, opened!.thread_id]);
    expect((await thread(opened!.thread_id as string)).status).toBe('TODO');
    // DONE by the API, then TODO by the first reply; the second finds it open.
    expect(await eventCount('thread.thread_status_transitioned', '{threadId}', [opened!.thread_id])).toBe(2);
  });

  it('an email whose sender the domain refuses does not take the rest of its batch with it', async () => {
    const rows = await inOneBatch([
      { ...from('dan@fine.com', 'Dan'), Subject: 'Fine one', ...ids('f1@fine.com') },
      { ...from('broken@bad..domain', 'Broken'), Subject: 'Broken one', ...ids('f2@fine.com') },
      { ...from('eve@fine.com', 'Eve'), Subject: 'Fine two', ...ids('f3@fine.com') },
    ]);
    expect(rows.map((r) => [r.status, r.error_code ?? null])).toEqual([['processed', null], ['rejected', 'invalid_email'], ['processed', null]]);
    expect(rows.map((r) => r.attempts)).toEqual([1, 1, 1]);
    const { rows: entries } = await h.db.pool.query(`SELECT count(*)::int AS n FROM timeline_entries WHERE message_id = ANY($1)`, [['f1@fine.com', 'f2@fine.com', 'f3@fine.com']]);
    expect(entries[0].n).toBe(2);
  });
});
