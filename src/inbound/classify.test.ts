import { describe, expect, it } from 'vitest';
import { classifyEmail } from './classify.ts';
import type { EmailAttachment, EmailHeader } from './email.ts';

type Mail = Parameters<typeof classifyEmail>[0];

function mail(overrides: Partial<Mail> = {}): Mail {
  return {
    from: { address: 'jane@acme.com', name: 'Jane Doe' },
    headers: [{ name: 'Message-ID', value: '<CAJane-1@mail.acme.com>' }],
    contentType: 'text/plain; charset=utf-8',
    subject: 'Question about my invoice',
    text: 'Hi, could you resend my invoice?\n\nThanks, Jane',
    attachments: [],
    ...overrides,
  };
}

function withHeaders(...pairs: Array<[string, string]>): Mail {
  return mail({ headers: pairs.map(([name, value]): EmailHeader => ({ name, value })) });
}

function part(contentType: string, content: string, fileName: string | null = null): EmailAttachment {
  return { fileName, contentType, content: Buffer.from(content, 'utf8'), contentId: null, inline: false };
}

const NOTHING = { bounce: false, autoReply: false, bulk: false, bouncedMessageIds: [] };

describe('classifyEmail: bounces', () => {
  it('reads a Postfix bounce and the Message-ID of the returned header', () => {
    const result = classifyEmail(mail({
      from: { address: 'MAILER-DAEMON@mx.example.com', name: 'Mail Delivery System' },
      headers: [
        { name: 'Return-Path', value: '<>' },
        { name: 'Message-ID', value: '<20240501.ABC@mx.example.com>' },
        { name: 'Auto-Submitted', value: 'auto-replied' },
        { name: 'Content-Type', value: 'multipart/report; report-type=delivery-status; boundary="B1"' },
      ],
      contentType: 'multipart/report; report-type=delivery-status; boundary="B1"',
      subject: 'Undelivered Mail Returned to Sender',
      text: 'This is the mail system at host mx.example.com.\n\nI\'m sorry to have to inform you that your message could not be delivered.',
      attachments: [
        part('message/delivery-status', 'Reporting-MTA: dns; mx.example.com\n\nFinal-Recipient: rfc822; bob@nowhere.example\nAction: failed\nStatus: 5.1.1\n'),
        part('message/rfc822-headers', 'Return-Path: <support@intake.example>\nFrom: Support <support@intake.example>\nTo: bob@nowhere.example\nMessage-ID: <orig-123@intake.example>\nSubject: Re: your ticket\n'),
      ],
    }));
    expect(result).toEqual({ bounce: true, autoReply: false, bulk: false, bouncedMessageIds: ['orig-123@intake.example'] });
  });

  it('recognises a delivery report by content type alone, any case, quoted or not', () => {
    expect(classifyEmail(mail({ contentType: 'Multipart/Report; Report-Type="Delivery-Status"; boundary=x' })).bounce).toBe(true);
    expect(classifyEmail(mail({ contentType: null, headers: [{ name: 'content-type', value: 'multipart/report;report-type=delivery-status' }] })).bounce).toBe(true);
    // A read receipt is a report but not a bounce.
    expect(classifyEmail(mail({ contentType: 'multipart/report; report-type=disposition-notification' })).bounce).toBe(false);
  });

  it('reads an Exchange NDR from postmaster with X-Failed-Recipients and a returned message', () => {
    const original = [
      'Received: from mail.intake.example',
      'Message-ID:',
      ' <orig-789@intake.example>',
      'Subject: Your ticket',
      '',
      'Body quoting an older mail:',
      'Message-ID: <not-this@elsewhere.example>',
    ].join('\r\n');
    const result = classifyEmail(mail({
      from: { address: 'postmaster@outlook.com', name: 'Microsoft Outlook' },
      headers: [
        { name: 'X-Failed-Recipients', value: 'bob@contoso.com' },
        { name: 'X-MS-Exchange-Message-Is-Ndr', value: '' },
        { name: 'Message-ID', value: '<ndr-1@outlook.com>' },
      ],
      contentType: 'multipart/mixed; boundary="ndr"',
      subject: 'Undeliverable: Your ticket',
      text: 'Delivery has failed to these recipients or groups:\r\nbob@contoso.com',
      attachments: [part('message/rfc822', original, 'Your ticket.eml')],
    }));
    expect(result).toEqual({ bounce: true, autoReply: false, bulk: false, bouncedMessageIds: ['orig-789@intake.example'] });
  });

  it('takes X-Failed-Recipients alone as a bounce', () => {
    expect(classifyEmail(withHeaders(['X-Failed-Recipients', 'bob@contoso.com'])).bounce).toBe(true);
  });

  it('reads a Gmail bounce with the original quoted in the text', () => {
    const result = classifyEmail(mail({
      from: { address: 'mailer-daemon@googlemail.com', name: 'Mail Delivery Subsystem' },
      headers: [{ name: 'Message-ID', value: '<gmail-bounce-1@mx.google.com>' }],
      contentType: 'multipart/alternative; boundary="g"',
      subject: 'Delivery Status Notification (Failure)',
      text: [
        "Address not found\n\nYour message wasn't delivered to bob@nowhere.example.",
        '----- Original message -----',
        '',
        'DKIM-Signature: v=1; a=rsa-sha256',
        'Message-ID: <gmail-bounce-1@mx.google.com>',
        'message-id: <orig-456@intake.example>',
        'In-Reply-To: <older@intake.example>',
        'References: <older@intake.example>',
        '> Message-Id: orig-457@intake.example',
        'Message-ID: <orig-456@intake.example>',
      ].join('\n'),
    }));
    expect(result).toEqual({ bounce: true, autoReply: false, bulk: false, bouncedMessageIds: ['orig-456@intake.example', 'orig-457@intake.example'] });
  });

  it('de-duplicates ids found in parts and text, parts first', () => {
    const result = classifyEmail(mail({
      from: { address: 'MAILER-DAEMON@mx.example.com', name: null },
      text: 'Message-ID: <b@x.example>\nMessage-ID: <a@x.example>',
      attachments: [part('text/rfc822-headers', '\nMessage-ID: <a@x.example>\n'), part('application/pdf', 'Message-ID: <pdf@x.example>')],
    }));
    expect(result.bouncedMessageIds).toEqual(['a@x.example', 'b@x.example']);
  });

  it('takes a null Return-Path as a bounce', () => {
    const result = classifyEmail(mail({ from: { address: 'notifications@acme.com', name: null }, headers: [{ name: 'Return-Path', value: '<>' }] }));
    expect(result).toEqual({ bounce: true, autoReply: false, bulk: false, bouncedMessageIds: [] });
    expect(classifyEmail(withHeaders(['Return-Path', ' < > '])).bounce).toBe(true);
    expect(classifyEmail(withHeaders(['Return-Path', '<jane@acme.com>'])).bounce).toBe(false);
  });

  it('takes a null Return-Path on a declared auto-reply as an auto-reply (RFC 3834 §3.3)', () => {
    expect(classifyEmail(withHeaders(['Return-Path', '<>'], ['Auto-Submitted', 'auto-replied (vacation)']))).toEqual({ ...NOTHING, autoReply: true });
  });
});

describe('classifyEmail: auto-replies', () => {
  it('reads an Outlook auto-reply', () => {
    const result = classifyEmail(mail({
      headers: [
        { name: 'X-Auto-Response-Suppress', value: 'All' },
        { name: 'X-MS-Exchange-Inbox-Rules-Loop', value: 'jane@acme.com' },
        { name: 'Content-Language', value: 'en-US' },
      ],
      subject: 'Automatic reply: Your ticket',
      text: 'I am out of the office until Monday.',
    }));
    expect(result).toEqual({ ...NOTHING, autoReply: true });
    expect(classifyEmail(withHeaders(['X-Auto-Response-Suppress', ' ']))).toEqual(NOTHING);
  });

  it('reads a Gmail vacation reply', () => {
    expect(classifyEmail(withHeaders(['Auto-Submitted', 'auto-replied']))).toEqual({ ...NOTHING, autoReply: true });
    expect(classifyEmail(withHeaders(['auto-submitted', 'Auto-Replied; owner-email="jane@acme.com"'])).autoReply).toBe(true);
    expect(classifyEmail(withHeaders(['Auto-Submitted', 'auto-generated'])).autoReply).toBe(true);
  });

  it('does not take Auto-Submitted: no as automatic', () => {
    expect(classifyEmail(withHeaders(['Auto-Submitted', 'no']))).toEqual(NOTHING);
    expect(classifyEmail(withHeaders(['Auto-Submitted', ' No (sent by a person) ']))).toEqual(NOTHING);
  });

  it.each(['X-Autoreply', 'X-Autorespond', 'X-Autoresponder', 'x-autoreply'])('takes %s as automatic', (name) => {
    expect(classifyEmail(withHeaders([name, 'yes']))).toEqual({ ...NOTHING, autoReply: true });
  });

  it('takes Precedence: auto_reply and auto-reply as automatic but not bulk', () => {
    expect(classifyEmail(withHeaders(['Precedence', 'Auto_Reply']))).toEqual({ ...NOTHING, autoReply: true });
    expect(classifyEmail(withHeaders(['Precedence', 'auto-reply']))).toEqual({ ...NOTHING, autoReply: true });
  });

  it.each([['X-Autogenerated', 'Reply'], ['X-Autogenerated', 'Forward'], ['X-AutoReply-From', 'jane@acme.com'], ['X-Mail-Autoreply', 'yes']])('takes %s: %s as automatic', (name, value) => {
    expect(classifyEmail(withHeaders([name, value]))).toEqual({ ...NOTHING, autoReply: true });
  });

  it.each([
    'Automatic reply: Question about my invoice', 'AUTOMATIC REPLY:Question', 'Auto-Reply: hi', 'Autoreply: hi', 'Auto Response: hi',
    'Out of Office: Question', 'Out of office reply: x', 'Abwesenheitsnotiz: Frage', 'Automatische Antwort: Frage', 'Réponse automatique : Question',
    'Respuesta automática: Pregunta', 'Risposta automatica: Domanda', 'Automatisch antwoord: Vraag', 'Autosvar: Spørgsmål',
    'Automaattinen vastaus: Kysymys', 'Automatyczna odpowiedź: Pytanie', 'Automatická odpověď: Dotaz', 'Автоматический ответ: Вопрос',
    '自動応答: 質問', '自动回复：问题', '  Automatic reply:   spaced',
  ])('takes the subject "%s" without any header as automatic', (subject) => {
    expect(classifyEmail(mail({ subject, headers: [] }))).toEqual({ ...NOTHING, autoReply: true });
  });

  it.each([
    'Re: Automatic reply: Question', 'Fwd: Out of Office: x', 'Question about automatic reply: settings', 'Automatic replying is broken',
    'Out of office hours support?', 'Autoreply settings', 'My auto-reply: how do I turn it off?',
  ])('does not take the subject "%s" as automatic', (subject) => {
    expect(classifyEmail(mail({ subject, headers: [] })).autoReply).toBe(false);
  });

  it('never marks a bounce as an auto-reply', () => {
    const bounce = mail({ from: { address: 'mailer-daemon@mx.example.com', name: null }, headers: [{ name: 'Auto-Submitted', value: 'auto-replied' }] });
    expect(classifyEmail(bounce)).toMatchObject({ bounce: true, autoReply: false });
  });
});

describe('classifyEmail: bulk', () => {
  it('reads a mailing list', () => {
    expect(classifyEmail(withHeaders(['List-Id', 'Product updates <updates.acme.com>']))).toEqual({ ...NOTHING, bulk: true });
    expect(classifyEmail(withHeaders(['List-Unsubscribe', '<https://acme.com/unsubscribe>']))).toEqual({ ...NOTHING, bulk: true });
    // RFC 8058 one-click unsubscribe, alone.
    expect(classifyEmail(withHeaders(['List-Unsubscribe-Post', 'List-Unsubscribe=One-Click']))).toEqual({ ...NOTHING, bulk: true });
  });

  it.each(['bulk', 'list', 'junk', 'BULK', ' Bulk '])('takes Precedence: %s as bulk', (value) => {
    expect(classifyEmail(withHeaders(['Precedence', value]))).toEqual({ ...NOTHING, bulk: true });
  });

  it('can be an auto-reply and bulk at once', () => {
    expect(classifyEmail(withHeaders(['Auto-Submitted', 'auto-generated'], ['List-Unsubscribe', '<mailto:u@acme.com>']))).toEqual({ ...NOTHING, autoReply: true, bulk: true });
  });
});

describe('classifyEmail: person to person', () => {
  it('leaves a normal mail alone', () => {
    expect(classifyEmail(mail())).toEqual(NOTHING);
    expect(classifyEmail(mail({ from: null, contentType: null, text: 'Message-ID: <x@y.example>' }))).toEqual(NOTHING);
    expect(classifyEmail(mail({ from: { address: 'postmaster-team@acme.com', name: null } }))).toEqual(NOTHING);
  });
});
