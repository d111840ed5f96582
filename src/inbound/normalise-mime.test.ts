import { describe, expect, it } from 'vitest';
import { looksLikeMime, readHeaderBlock } from './mime-check.ts';
import { normaliseMime } from './normalise-mime.ts';

/** A raw message from text (one char per byte) and byte runs: 8-bit fixtures stay bytes. */
const bytes = (...parts: Array<string | Buffer | number[]>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
/** Bytes as legacy mailers write them, given in hex so the fixture is the bytes themselves. */
const HEX = {
  gbkZhuRong: 'd6ece946', // 朱镕 (镕 is GBK, not GB2312)
  gbkInvoiceQuestion: 'b9d8d3dab7a2c6b1b5c4cecacce2a3a8d5c586b4a3a9', // 关于发票的问题（张喆）(喆 likewise)
  gbkOrderQuestion: 'b6a9b5a5cecacce2', // 订单问题
  gbkHello: 'c4e3bac3', // 你好
  gbkLongSubject: 'c4fabac3a3acced2b5c4b6a9b5a5bbb9c3bbd3d0cad5b5bda3acc7ebb0efc3a6b2e9d2bbcfc2ceefc1f7d0c5cfa2', // 您好，我的订单还没有收到，请帮忙查一下物流信息
  koi8Subject: 'f0d2c9d7c5d42c20dac1cbc1da20cec520d0d2c9dba3cc', // Привет, заказ не пришёл
  latin1Name: '4afc7267656e2047726fdf', // Jürgen Groß
  latin1Subject: '4772f6df652064657220526563686e756e67', // Größe der Rechnung
  sjisInvoiceQuestion: '90bf8b818f9182c982c282a282c482cc82a896e282a28d8782ed82b9', // 請求書についてのお問い合わせ
  sjisYamada: '8e52936391be9859', // 山田太郎
  sjisOrder: '928d95b682c982c282a282c4', // 注文について
  jisInquiry: '1b2442242a4c6424243967246f243b1b2842', // お問い合わせ in real ISO-2022-JP
};
const hex = (h: string) => Buffer.from(h, 'hex');

const HEADERS = 'From: Jane Doe <jane@nike.com>\r\nTo: help@acme.com\r\nSubject: Printer on fire\r\nMessage-ID: <fire@nike.com>\r\n\r\nIt is still burning.\r\n';

/** No lone surrogate, no NUL, no U+FFFD anywhere in what the parser gives. */
function expectClean(value: unknown) {
  const json = JSON.stringify(value);
  expect(json).not.toMatch(/\\u0000|\\ud[89ab][0-9a-f]{2}(?!\\udc)|\uFFFD/i);
}

describe('mail as it arrives', () => {
  it.each([
    ['an mbox From line', `From jane@nike.com Mon Nov  2 09:00:00 2026\r\n${HEADERS}`],
    ["Thunderbird's mbox From line, LF only", `From - Mon Nov 02 09:00:00 2026\n${HEADERS.replace(/\r\n/g, '\n')}`],
    ['one line of preamble', `Received by the acme gateway\r\n${HEADERS}`],
    ['a few lines of preamble with a blank one', `Scanned by MailGuard 4.2\r\nNo threats found.\r\n\r\n${HEADERS}`],
    ['an mbox From line and a preamble', `From jane@nike.com Mon Nov  2 09:00:00 2026\r\nX\r\n${HEADERS}`],
    ['a UTF-8 byte order mark', `\uFEFF${HEADERS}`],
  ])('reads a message that opens with %s', async (_name, text) => {
    const raw = Buffer.from(text, 'utf8');
    expect(looksLikeMime(raw)).toEqual({ ok: true });
    const email = await normaliseMime(raw);
    expect(email.from).toEqual({ address: 'jane@nike.com', name: 'Jane Doe' });
    expect(email.senderHeader).toBe('From');
    expect(email.subject).toBe('Printer on fire');
    expect(email.messageId).toBe('fire@nike.com');
    expect(email.text).toContain('still burning');
    // The skipped lines are no header of the message.
    expect(email.headers.map((h) => h.name)).toEqual(['From', 'To', 'Subject', 'Message-ID']);
    expect(readHeaderBlock(raw).lines[0]).toBe('From: Jane Doe <jane@nike.com>');
  });

  it('still refuses what is not a message: a long text before any header, a binary blob, no sender at all', () => {
    const essay = Array.from({ length: 8 }, (_, i) => `Line ${i} of a letter.`).join('\r\n');
    expect(looksLikeMime(Buffer.from(`${essay}\r\n${HEADERS}`))).toMatchObject({ ok: false });
    expect(looksLikeMime(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]))).toMatchObject({ ok: false });
    expect(looksLikeMime(Buffer.from('To: help@acme.com\r\nSubject: x\r\n\r\nbody'))).toMatchObject({ ok: false, reason: expect.stringContaining('no From') });
    expect(looksLikeMime(Buffer.from('Return-Path: <>\r\nTo: help@acme.com\r\n\r\nbody'))).toMatchObject({ ok: false });
  });

  it.each([
    ['Reply-To', 'Reply-To: Jane Doe <jane@nike.com>\r\nSender: list@lists.nike.com\r\n', { address: 'jane@nike.com', name: 'Jane Doe' }],
    ['Sender', 'Sender: jane@nike.com\r\nReturn-Path: <bounces@nike.com>\r\n', { address: 'jane@nike.com', name: null }],
    ['Return-Path', 'Return-Path: <jane@nike.com>\r\n', { address: 'jane@nike.com', name: null }],
  ])('without From, takes the sender from %s and says so', async (header, lines, from) => {
    const raw = Buffer.from(`${lines}To: help@acme.com\r\nSubject: x\r\n\r\nbody\r\n`);
    expect(looksLikeMime(raw)).toEqual({ ok: true });
    const email = await normaliseMime(raw);
    expect(email.from).toEqual(from);
    expect(email.senderHeader).toBe(header);
  });

  it('falls back when From has no address, keeping its display name', async () => {
    const email = await normaliseMime(Buffer.from('From: Jane Doe\r\nReply-To: jane@nike.com\r\nSubject: x\r\n\r\nbody\r\n'));
    expect(email.from).toEqual({ address: 'jane@nike.com', name: 'Jane Doe' });
    expect(email.senderHeader).toBe('Reply-To');
  });

  it.each([
    ['From: MAILER-DAEMON', { address: 'mailer-daemon', name: null }],
    ['From: Mail Delivery System <MAILER-DAEMON>', { address: 'mailer-daemon', name: 'Mail Delivery System' }],
    ['From: postmaster', { address: 'postmaster', name: null }],
  ])('keeps a bare local part as the sender of a bounce: %s', async (from, expected) => {
    const raw = Buffer.from(`${from}\r\nReturn-Path: <>\r\nTo: help@acme.com\r\nSubject: Undelivered Mail Returned to Sender\r\n\r\nThis is the mail system.\r\n`);
    expect(looksLikeMime(raw)).toEqual({ ok: true });
    const email = await normaliseMime(raw);
    expect(email.from).toEqual(expected);
    expect(email.senderHeader).toBe('From');
  });

  it('keeps an unreadable Date as sent and leaves the date to the receipt time', async () => {
    const bad = await normaliseMime(Buffer.from('From: a@b.com\r\nDate: Fri, 27 Apr 2018 19:00:00 +0100 (West-Europe (stand\r\n\r\nx\r\n'));
    expect(bad.date).toBeNull();
    expect(bad.unparsedDate).toBe('Fri, 27 Apr 2018 19:00:00 +0100 (West-Europe (stand');
    const good = await normaliseMime(Buffer.from('From: a@b.com\r\nDate: Fri, 27 Apr 2018 19:00:00 +0100 (CET)\r\n\r\nx\r\n'));
    expect(good.date?.toISOString()).toBe('2018-04-27T18:00:00.000Z');
    expect(good.unparsedDate).toBeNull();
  });
});

describe('charsets of raw 8-bit headers', () => {
  it('decodes raw 8-bit bytes inside an encoded word with that word’s charset', async () => {
    const raw = bytes('From: a@b.com\r\nSubject: =?iso-8859-1?Q?Die_Hasen_und_die_Fr', [0xf6], 'sche?=\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nx\r\n');
    const email = await normaliseMime(raw);
    expect(email.subject).toBe('Die Hasen und die Frösche');
  });

  it('decodes a raw GBK subject and name with the declared charset, GB2312 read as its superset', async () => {
    // 镕 and 喆 are GBK, not GB2312: Foxmail and Outlook label such mail gb2312 all the same.
    const raw = bytes('From: ', hex(HEX.gbkZhuRong), ' <zhu@example.cn>\r\nSubject: ', hex(HEX.gbkInvoiceQuestion), '\r\nContent-Type: text/plain; charset=gb2312\r\n\r\nx\r\n');
    const email = await normaliseMime(raw);
    expect(email.subject).toBe('关于发票的问题（张喆）');
    expect(email.from).toEqual({ address: 'zhu@example.cn', name: '朱镕' });
    expectClean(email);
  });

  it('takes the charset of a multipart message from its first part', async () => {
    const raw = bytes(
      'From: a@b.com\r\nSubject: ', hex(HEX.gbkOrderQuestion), '\r\nContent-Type: multipart/alternative; boundary="b"\r\n\r\n',
      '--b\r\nContent-Type: text/plain;\r\n\tcharset="GBK"\r\nContent-Transfer-Encoding: base64\r\n\r\n', hex(HEX.gbkHello).toString('base64'), '\r\n--b--\r\n',
    );
    const email = await normaliseMime(raw);
    expect(email.subject).toBe('订单问题');
    expect(email.text?.trim()).toBe('你好');
  });

  it('detects the charset of raw 8-bit headers when the message declares none', async () => {
    const raw = bytes('From: a@b.com\r\nSubject: ', hex(HEX.gbkLongSubject), '\r\n\r\nx\r\n');
    expect((await normaliseMime(raw)).subject).toBe('您好，我的订单还没有收到，请帮忙查一下物流信息');
    const cyrillic = bytes('From: a@b.com\r\nSubject: ', hex(HEX.koi8Subject), '\r\n\r\nx\r\n');
    expect((await normaliseMime(cyrillic)).subject).toBe('Привет, заказ не пришёл');
    const latin = bytes('From: ', hex(HEX.latin1Name), ' <j@example.de>\r\nSubject: ', hex(HEX.latin1Subject), '\r\n\r\nx\r\n');
    const email = await normaliseMime(latin);
    expect(email.subject).toBe('Größe der Rechnung');
    expect(email.from?.name).toBe('Jürgen Groß');
  });

  it('reads Shift_JIS bytes under an ISO-2022-JP label as Shift_JIS, in an encoded word and raw', async () => {
    const word = bytes('From: a@b.com\r\nSubject: =?ISO-2022-JP?B?', hex(HEX.sjisInvoiceQuestion).toString('base64'), '?=\r\n\r\nx\r\n');
    expect((await normaliseMime(word)).subject).toBe('請求書についてのお問い合わせ');
    const raw = bytes('From: ', hex(HEX.sjisYamada), ' <yamada@example.jp>\r\nSubject: ', hex(HEX.sjisOrder), '\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\n\r\nx\r\n');
    const email = await normaliseMime(raw);
    expect(email.subject).toBe('注文について');
    expect(email.from?.name).toBe('山田太郎');
  });

  it('keeps real ISO-2022-JP and raw UTF-8 headers as they are', async () => {
    const jis = bytes('From: a@b.com\r\nSubject: =?ISO-2022-JP?B?', hex(HEX.jisInquiry).toString('base64'), '?=\r\n\r\nx\r\n');
    expect((await normaliseMime(jis)).subject).toBe('お問い合わせ');
    const utf8 = bytes('From: ', Buffer.from('Jürgen Groß', 'utf8'), ' <j@example.de>\r\nSubject: ', Buffer.from('Grüße, 你好', 'utf8'), '\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\nx\r\n');
    const email = await normaliseMime(utf8);
    expect(email.subject).toBe('Grüße, 你好');
    expect(email.headers.find((h) => h.name === 'Subject')?.value).toBe('Grüße, 你好');
  });

  it('reads an unknown-8bit encoded word in the detected charset', async () => {
    const email = await normaliseMime(Buffer.from('From: a@b.com\r\nSubject: =?unknown-8bit?Q?Fr=F6sche_und_M=E4use?=\r\n\r\nx\r\n'));
    expect(email.subject).toBe('Frösche und Mäuse');
  });

  it('decodes raw 8-bit file names in the headers of MIME parts, nested ones too', async () => {
    const raw = bytes(
      'From: a@b.com\r\nSubject: Rechnung\r\nContent-Type: multipart/mixed; boundary="outer"\r\n\r\n',
      '--outer\r\nContent-Type: multipart/alternative; boundary="inner"\r\n\r\n',
      '--inner\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\nAnbei die Rechnung f', hex('fc'), 'r M', hex('e4'), 'rz.\r\n--inner--\r\n',
      '--outer\r\nContent-Type: application/pdf; name="Rechnung M', hex('e4'), 'rz.pdf"\r\nContent-Disposition: attachment; filename="Rechnung M', hex('e4'), 'rz.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n',
      '--outer\r\nContent-Type: text/plain; charset=koi8-r; name="', hex(HEX.koi8Subject.slice(0, 12)), '.txt"\r\nContent-Disposition: attachment\r\n\r\nx\r\n--outer--\r\n',
    );
    const email = await normaliseMime(raw);
    expect(email.text?.trim()).toBe('Anbei die Rechnung für März.');
    expect(email.attachments.map((a) => a.fileName)).toEqual(['Rechnung März.pdf', 'Привет.txt']);
    expectClean(email);
  });

  it('lets no lone surrogate or NUL through from a display name or a subject', async () => {
    const lone = Buffer.from([0xd8, 0x3d, 0x00, 0x41]).toString('base64');
    const raw = Buffer.from(`From: =?utf-16be?B?${lone}?= =?utf-8?Q?Jane=00Doe?= <jane@nike.com>\r\nSubject: =?utf-8?Q?Sub=00ject?=\r\n\r\nx\r\n`);
    const email = await normaliseMime(raw);
    expect(email.from).toEqual({ address: 'jane@nike.com', name: 'AJaneDoe' });
    expect(email.subject).toBe('Subject');
    expectClean(email);
  });
});
