import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { normalisePostmark } from './normalise-postmark.ts';
import { postmarkDeliveryId, postmarkInboundSchema } from './postmark-payload.ts';

const CHECK = JSON.parse(readFileSync(new URL('../../test/fixtures/inbound/postmark-webhook-check.json', import.meta.url), 'utf8'));

function payload(overrides: Record<string, unknown> = {}) {
  return {
    From: 'jane@nike.com',
    FromName: 'Jane Doe',
    FromFull: { Email: 'jane@nike.com', Name: 'Jane Doe', MailboxHash: '' },
    To: 'help@acme.com',
    ToFull: [{ Email: 'help@acme.com', Name: '', MailboxHash: '' }],
    Subject: 'Printer on fire',
    MessageID: '7f6d5c4b-0000-4000-8000-000000000001',
    Date: 'Thu, 5 Nov 2026 10:00:00 +0000',
    TextBody: 'It is still burning.',
    Headers: [{ Name: 'Message-ID', Value: '<fire@mail.nike.com>' }],
    Attachments: [],
    ...overrides,
  };
}

const parse = (p: unknown) => normalisePostmark(postmarkInboundSchema.parse(p));

describe("Postmark's webhook Check sample", () => {
  it('is a valid payload: attachments in Data, an all-zero MessageID that keys nothing', async () => {
    const result = postmarkInboundSchema.safeParse(CHECK);
    expect(result.success).toBe(true);
    expect(postmarkDeliveryId(CHECK.MessageID)).toBeNull();
    expect(postmarkDeliveryId('7f6d5c4b-0000-4000-8000-000000000001')).toBe('7f6d5c4b-0000-4000-8000-000000000001');
    const email = await parse(CHECK);
    expect(email.from).toEqual({ address: 'support@postmarkapp.com', name: 'Postmarkapp Support' });
    expect(email.attachments).toEqual([{ fileName: 'test.txt', contentType: 'text/plain', content: Buffer.from('This is attachment contents, base-64 encoded.'), contentId: null, inline: false }]);
    expect(email.date?.toISOString()).toBe('2014-08-01T20:45:32.000Z');
  });

  it('still refuses an attachment with neither Content nor Data, and a payload that names no sender', () => {
    const noBytes = postmarkInboundSchema.safeParse(payload({ Attachments: [{ Name: 'a.txt', ContentType: 'text/plain' }] }));
    expect(noBytes.error?.issues.map((i) => i.path.join('.'))).toEqual(['Attachments.0.Content']);
    const nobody = postmarkInboundSchema.safeParse(payload({ From: '', FromFull: null, Headers: [] }));
    expect(nobody.error?.issues.map((i) => i.path.join('.'))).toEqual(['From']);
  });
});

describe('Postmark payloads as they really come', () => {
  it('takes FromFull over a From that disagrees with it', async () => {
    const email = await parse(payload({ From: 'bounces+123@em.nike.com', FromName: 'Nike', FromFull: { Email: 'Jane.Doe@Nike.com', Name: 'Jane Doe' } }));
    expect(email.from).toEqual({ address: 'jane.doe@nike.com', name: 'Jane Doe' });
    expect(email.senderHeader).toBe('From');
  });

  it('falls back to ReplyTo, then a Sender or Return-Path header, when From is empty', async () => {
    const replyTo = await parse(payload({ From: '', FromFull: { Email: '', Name: 'Jane Doe' }, ReplyTo: 'jane@nike.com' }));
    expect(replyTo.from).toEqual({ address: 'jane@nike.com', name: 'Jane Doe' });
    expect(replyTo.senderHeader).toBe('Reply-To');
    const returnPath = await parse(payload({ From: '', FromFull: null, Headers: [{ Name: 'Return-Path', Value: '<jane@nike.com>' }] }));
    expect(returnPath.from?.address).toBe('jane@nike.com');
    expect(returnPath.senderHeader).toBe('Return-Path');
    const daemon = await parse(payload({ From: 'MAILER-DAEMON', FromName: 'Mail Delivery System', FromFull: { Email: 'MAILER-DAEMON', Name: 'Mail Delivery System' } }));
    expect(daemon.from).toEqual({ address: 'mailer-daemon', name: 'Mail Delivery System' });
  });

  it('keeps a Date it cannot read as sent, for the receipt time to stand in', async () => {
    const email = await parse(payload({ Date: 'Fri, 27 Apr 2018 19:00:00 +0100 (West-Europe (stand' }));
    expect(email.date).toBeNull();
    expect(email.unparsedDate).toBe('Fri, 27 Apr 2018 19:00:00 +0100 (West-Europe (stand');
  });

  it('takes the headers of RawEmail as the source of truth, and Postmark’s bodies and attachments', async () => {
    const rawEmail = [
      'From: "Doe, Jane" <jane@nike.com>',
      'To: Acme Help <help@acme.com>, carla@initech.com',
      'Cc: boss@nike.com',
      'Subject: =?iso-8859-1?Q?Die_Hasen_und_die_Fr=F6sche?=',
      'Date: Fri, 27 Apr 2018 19:00:00 +0100',
      'Message-ID: <raw-1@mail.nike.com>',
      'In-Reply-To: <out-1@mail.acme.com>',
      'References: <out-0@mail.acme.com> <out-1@mail.acme.com>',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'The raw body.',
      '',
    ].join('\r\n');
    const email = await parse(
      payload({
        // What Postmark's own fields said: a rewritten sender, a mangled subject, no ids.
        From: 'bounce@relay.example',
        FromFull: { Email: 'bounce@relay.example', Name: '' },
        Subject: 'Die Hasen und die Fr?sche',
        Date: 'Fri, 27 Apr 2018 19:00:00 +0100 (West-Europe (stand',
        Headers: [],
        BccFull: [{ Email: 'audit@acme.com', Name: '' }],
        TextBody: 'Postmark text body.',
        Attachments: [{ Name: 'a.txt', Content: Buffer.from('A').toString('base64'), ContentType: 'text/plain' }],
        RawEmail: rawEmail,
      }),
    );
    expect(email.from).toEqual({ address: 'jane@nike.com', name: 'Doe, Jane' });
    expect(email.to.map((a) => a.address)).toEqual(['help@acme.com', 'carla@initech.com']);
    expect(email.cc.map((a) => a.address)).toEqual(['boss@nike.com']);
    expect(email.bcc.map((a) => a.address)).toEqual(['audit@acme.com']);
    expect(email.subject).toBe('Die Hasen und die Frösche');
    expect(email.date?.toISOString()).toBe('2018-04-27T18:00:00.000Z');
    expect(email.unparsedDate).toBeNull();
    expect(email.messageId).toBe('raw-1@mail.nike.com');
    expect(email.inReplyTo).toEqual(['out-1@mail.acme.com']);
    expect(email.references).toEqual(['out-0@mail.acme.com', 'out-1@mail.acme.com']);
    expect(email.text).toBe('Postmark text body.');
    expect(email.attachments.map((a) => a.fileName)).toEqual(['a.txt']);
  });

  it('falls back to Postmark’s fields when RawEmail has no headers to read', async () => {
    const email = await parse(payload({ RawEmail: 'not a message at all' }));
    expect(email.from?.address).toBe('jane@nike.com');
    expect(email.subject).toBe('Printer on fire');
  });
});
