import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_HEADER, INBOUND_DOMAIN, startInboundHarness, type InboundHarness } from './support/inbound-harness.ts';
import { makeWorkspace } from './support/workspaces.ts';

/**
 * Mail as it really arrives, end to end through /inbound/mime and /inbound/postmark with the real
 * worker: mbox separators and preambles, senders without From, bounces from MAILER-DAEMON, raw
 * 8-bit headers in legacy charsets, and Postmark's Check sample, RawEmail, FromFull and odd Dates.
 */

let h: InboundHarness;
let acme: Awaited<ReturnType<typeof makeWorkspace>>;
let inboundAddress: string;

beforeAll(async () => {
  h = await startInboundHarness();
  acme = await makeWorkspace(h.db.pool, 'Acme', 'help@acme.com');
  inboundAddress = `${acme.workspace.inboundToken}@${INBOUND_DOMAIN}`;
}, 120_000);
afterAll(async () => h?.close());

const bytes = (...parts: Array<string | Buffer>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p)));
const hex = (h: string) => Buffer.from(h, 'hex');
const post = (url: string, payload: string | Buffer, contentType: string) =>
  h.app.inject({ method: 'POST', url, payload, headers: { 'content-type': contentType, authorization: AUTH_HEADER } });

let seq = 0;
/** Posts a raw message to /inbound/mime and waits for the worker's outcome. */
async function mime(raw: Buffer) {
  const res = await post('/inbound/mime', raw, 'message/rfc822');
  expect(res.statusCode, res.body).toBe(200);
  return h.settled(res.json().inboundEmailId);
}

async function customer(id: unknown) {
  const { rows } = await h.db.pool.query('SELECT email, full_name FROM customers WHERE id = $1', [id]);
  return rows[0] as { email: string; full_name: string };
}

async function title(threadId: unknown) {
  const { rows } = await h.db.pool.query('SELECT title FROM threads WHERE id = $1', [threadId]);
  return rows[0]?.title as string;
}

const head = (more: string) => `To: help@acme.com\r\nMessage-ID: <real-${++seq}@mail.test>\r\n${more}`;

describe('mail as it arrives at /inbound/mime', () => {
  it('takes a message opening with an mbox From line and a preamble', async () => {
    const raw = Buffer.from(`From jane@nike.com Mon Nov  2 09:00:00 2026\r\nScanned by MailGuard: clean\r\nFrom: Jane Doe <jane@nike.com>\r\n${head('Subject: Printer on fire\r\n')}\r\nStill burning.\r\n`);
    const row = await mime(raw);
    expect(row.status).toBe('processed');
    expect(await customer(row.customer_id)).toEqual({ email: 'jane@nike.com', full_name: 'Jane Doe' });
    expect(await title(row.thread_id)).toBe('Printer on fire');
    // Stored as received, separator and preamble included.
    const { rows } = await h.db.pool.query('SELECT raw FROM inbound_emails WHERE id = $1', [row.id]);
    expect(Buffer.compare(rows[0].raw, raw)).toBe(0);
  });

  it.each([
    ['Reply-To', 'Reply-To: Carla <carla@initech.com>\r\n'],
    ['Sender', 'Sender: carla@initech.com\r\n'],
    ['Return-Path', 'Return-Path: <carla@initech.com>\r\n'],
  ])('accepts a message without From and takes the sender from %s, recording which', async (header, lines) => {
    const row = await mime(Buffer.from(`${lines}${head(`Subject: No From, ${header}\r\n`)}\r\nHello.\r\n`));
    expect(row.status).toBe('processed');
    expect((await customer(row.customer_id)).email).toBe('carla@initech.com');
    expect(row.classification).toMatchObject({ sender: 'carla@initech.com', senderHeader: header });
  });

  it('keeps MAILER-DAEMON as the sender of a bounce instead of losing it', async () => {
    const raw = Buffer.from(`From: MAILER-DAEMON\r\nReturn-Path: <>\r\n${head('Subject: Undelivered Mail Returned to Sender\r\n')}\r\nThis is the mail system at host mx.example.com.\r\n`);
    const row = await mime(raw);
    expect(row.status).toBe('processed');
    expect(row.classification).toMatchObject({ bounce: true, sender: 'mailer-daemon', senderHeader: 'From' });
    expect(row.customer_id).toBeNull();
  });

  it('rejects, with the reason, a bare local part that is no bounce', async () => {
    const row = await mime(Buffer.from(`From: root\r\n${head('Subject: cron output\r\n')}\r\nDone.\r\n`));
    expect(row).toMatchObject({ status: 'rejected', error_code: 'no_sender' });
  });

  it('decodes raw 8-bit header bytes: a raw byte in a Q word, a GBK subject and name under gb2312, Shift_JIS under ISO-2022-JP', async () => {
    const q = await mime(bytes('From: jane@nike.com\r\n', head('Subject: =?iso-8859-1?Q?Die_Hasen_und_die_Fr'), hex('f6'), 'sche?=\r\n\r\nHallo.\r\n'));
    expect(await title(q.thread_id)).toBe('Die Hasen und die Frösche');

    const gbk = await mime(bytes('From: ', hex('d6ece946'), ' <zhu@example.cn>\r\n', head('Subject: '), hex('b9d8d3dab7a2c6b1b5c4cecacce2a3a8d5c586b4a3a9'), '\r\nContent-Type: text/plain; charset=gb2312\r\n\r\n', hex('c4e3bac3'), '\r\n'));
    expect(gbk.status).toBe('processed');
    expect(await title(gbk.thread_id)).toBe('关于发票的问题（张喆）');
    expect(await customer(gbk.customer_id)).toEqual({ email: 'zhu@example.cn', full_name: '朱镕' });

    const sjis = await mime(bytes('From: a.yamada@example.jp\r\n', head('Subject: =?ISO-2022-JP?B?'), hex('90bf8b818f9182c982c282a282c482cc82a896e282a28d8782ed82b9').toString('base64'), '?=\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\n\r\nx\r\n'));
    expect(await title(sjis.thread_id)).toBe('請求書についてのお問い合わせ');
  });

  it('lets no lone surrogate or NUL from a display name reach the database or the API', async () => {
    const lone = Buffer.from([0xd8, 0x3d, 0x00, 0x41]).toString('base64');
    const row = await mime(Buffer.from(`From: =?utf-16be?B?${lone}?= =?utf-8?Q?Jane=00Doe?= <jane.surrogate@nike.com>\r\n${head('Subject: =?utf-8?Q?Sub=00ject?=\r\n')}\r\nx\r\n`));
    expect(row.status).toBe('processed');
    expect(await customer(row.customer_id)).toEqual({ email: 'jane.surrogate@nike.com', full_name: 'AJaneDoe' });
    const api = await h.app.inject({ method: 'GET', url: `/v1/threads/${row.thread_id}`, headers: { authorization: `Bearer ${acme.apiKey}` } });
    expect(api.statusCode).toBe(200);
    expect(api.body).not.toMatch(/\\u0000|\\ud[89ab][0-9a-f]{2}/i);
    expect(api.json().thread.title).toBe('Subject');
  });
});

describe('Postmark as it really posts', () => {
  const CHECK = readFileSync(new URL('./fixtures/inbound/postmark-webhook-check.json', import.meta.url), 'utf8');

  function payload(overrides: Record<string, unknown> = {}) {
    seq++;
    return JSON.stringify({
      From: 'jane@nike.com',
      FromName: 'Jane Doe',
      FromFull: { Email: 'jane@nike.com', Name: 'Jane Doe', MailboxHash: '' },
      To: 'help@acme.com',
      ToFull: [{ Email: 'help@acme.com', Name: '', MailboxHash: '' }],
      OriginalRecipient: inboundAddress,
      Subject: `Postmark ${seq}`,
      MessageID: `7f6d5c4b-1111-4000-8000-${String(seq).padStart(12, '0')}`,
      Date: 'Thu, 5 Nov 2026 10:00:00 +0000',
      TextBody: 'Hello.',
      Headers: [{ Name: 'Message-ID', Value: `<pm-${seq}@mail.nike.com>` }],
      Attachments: [],
      ...overrides,
    });
  }

  async function postmark(body: string) {
    const res = await post('/inbound/postmark', body, 'application/json');
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { inboundEmailId: string; status: string };
  }

  it("accepts the webhook settings' Check sample like any email, deduplicated by its bytes, not its all-zero MessageID", async () => {
    const first = await postmark(CHECK);
    expect(first.status).toBe('received');
    // Sent to Postmark's sample address, not ours: kept and visible as unroutable, not refused.
    expect((await h.settled(first.inboundEmailId)).status).toBe('unroutable');
    expect(await postmark(CHECK)).toEqual({ inboundEmailId: first.inboundEmailId, status: 'duplicate' });
    // A later Check from another server or with other sample text is another delivery.
    const other = await postmark(CHECK.replace('Test subject', 'Test subject 2'));
    expect(other).toMatchObject({ status: 'received' });
    expect(other.inboundEmailId).not.toBe(first.inboundEmailId);

    // Sent to our address, the sample lands with its attachment from `Data`.
    const ours = JSON.parse(CHECK);
    ours.OriginalRecipient = inboundAddress;
    ours.Headers.push({ Name: 'Message-ID', Value: '<postmark-check@postmarkapp.com>' });
    const row = await h.settled((await postmark(JSON.stringify(ours))).inboundEmailId);
    expect(row.status).toBe('processed');
    const { rows } = await h.db.pool.query('SELECT file_name, status, size FROM attachments WHERE timeline_entry_id = $1', [row.timeline_entry_id]);
    expect(rows).toEqual([{ file_name: 'test.txt', status: 'accepted', size: 45 }]);
  });

  it('takes the headers of RawEmail as the source of truth', async () => {
    const raw = 'From: "Doe, Jane" <jane.raw@nike.com>\r\nTo: help@acme.com\r\nSubject: =?iso-8859-1?Q?Die_Hasen_und_die_Fr=F6sche?=\r\nMessage-ID: <raw-truth@mail.nike.com>\r\n\r\nHallo.\r\n';
    const row = await h.settled((await postmark(payload({ From: 'relay@bounces.example', FromFull: { Email: 'relay@bounces.example', Name: '' }, Subject: 'Die Hasen und die Fr?sche', RawEmail: raw }))).inboundEmailId);
    expect(row.status).toBe('processed');
    expect(row.message_id).toBe('raw-truth@mail.nike.com');
    expect(await customer(row.customer_id)).toEqual({ email: 'jane.raw@nike.com', full_name: 'Doe, Jane' });
    expect(await title(row.thread_id)).toBe('Die Hasen und die Frösche');
  });

  it('takes FromFull over a From that disagrees with it', async () => {
    const row = await h.settled((await postmark(payload({ From: 'bounces+77@em.nike.com', FromFull: { Email: 'jane.full@nike.com', Name: 'Jane Full' } }))).inboundEmailId);
    expect(await customer(row.customer_id)).toEqual({ email: 'jane.full@nike.com', full_name: 'Jane Full' });
  });

  it('accepts a payload with an empty From that names its sender in FromFull or ReplyTo', async () => {
    const row = await h.settled((await postmark(payload({ From: '', FromFull: { Email: '', Name: '' }, ReplyTo: 'carla.reply@initech.com' }))).inboundEmailId);
    expect(row.status).toBe('processed');
    expect(row.classification).toMatchObject({ senderHeader: 'Reply-To' });
    expect((await customer(row.customer_id)).email).toBe('carla.reply@initech.com');
  });

  it('falls back to the receipt time for a Date it cannot read, keeping the raw value', async () => {
    const date = 'Fri, 27 Apr 2018 19:00:00 +0100 (West-Europe (stand';
    const row = await h.settled((await postmark(payload({ Date: date }))).inboundEmailId);
    expect(row.status).toBe('processed');
    expect(row.classification).toMatchObject({ date: (row.received_at as Date).toISOString(), unparsedDate: date });
  });
});
