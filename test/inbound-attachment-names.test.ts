import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_HEADER, INBOUND_DOMAIN, startInboundHarness, type InboundHarness } from './support/inbound-harness.ts';
import { makeWorkspace } from './support/workspaces.ts';

// Hostile attachment names through both inbound endpoints, read back through the API.
let h: InboundHarness;
let acme: Awaited<ReturnType<typeof makeWorkspace>>;

beforeAll(async () => {
  h = await startInboundHarness();
  acme = await makeWorkspace(h.db.pool, 'Acme', 'help@names-acme.com');
}, 120_000);
afterAll(async () => h.close());

const HOSTILE = [
  { sent: '../../../etc/passwd', stored: 'passwd', status: 'accepted' },
  { sent: '/', stored: 'attachment-2.txt', status: 'accepted' },
  { sent: '%2e%2e%2fx.pdf', stored: 'x.pdf', status: 'accepted' },
  { sent: 'C:\\Users\\me\\report.pdf', stored: 'report.pdf', status: 'accepted' },
  { sent: 'x.exe::$DATA', stored: 'x.exe::$DATA', status: 'rejected' },
  { sent: `${'n'.repeat(5000)}.pdf`, stored: `${'n'.repeat(251)}.pdf`, status: 'accepted' },
];

async function attachmentsOf(inboundEmailId: string) {
  const row = await h.settled(inboundEmailId);
  expect(row.status, String(row.error_message)).toBe('processed');
  const res = await h.app.inject({ method: 'GET', url: `/v1/threads/${row.thread_id}`, headers: { authorization: `Bearer ${acme.apiKey}` } });
  const entry = res.json().thread.entries.find((e: { kind: string }) => e.kind === 'inbound_email');
  return entry.attachments as Array<{ fileName: string; status: string; code: string | null }>;
}

function expectSanitised(attachments: Array<{ fileName: string; status: string; code: string | null }>) {
  expect(attachments.map((a) => a.fileName)).toEqual(HOSTILE.map((x) => x.stored));
  expect(attachments.map((a) => a.status)).toEqual(HOSTILE.map((x) => x.status));
  expect(attachments.find((a) => a.status === 'rejected')?.code).toBe('attachment_file_type_not_allowed');
}

describe('hostile attachment names', () => {
  it('Postmark: base names only, stream suffixes judged, long names capped', async () => {
    const payload = {
      From: 'jane@nike.com',
      FromFull: { Email: 'jane@nike.com', Name: 'Jane', MailboxHash: '' },
      To: 'help@names-acme.com',
      ToFull: [{ Email: 'help@names-acme.com', Name: '', MailboxHash: '' }],
      OriginalRecipient: `${acme.workspace.inboundToken}@${INBOUND_DOMAIN}`,
      Subject: 'Files',
      MessageID: 'b5e0c1de-0000-4000-8000-000000000001',
      TextBody: 'See attached.',
      Headers: [{ Name: 'Message-ID', Value: '<names-1@nike.com>' }],
      Attachments: HOSTILE.map((x) => ({ Name: x.sent, Content: Buffer.from('plain text').toString('base64'), ContentType: 'text/plain', ContentLength: 10 })),
    };
    const res = await h.app.inject({ method: 'POST', url: '/inbound/postmark', payload: JSON.stringify(payload), headers: { 'content-type': 'application/json', authorization: AUTH_HEADER } });
    expect(res.statusCode, res.body).toBe(200);
    expectSanitised(await attachmentsOf(res.json().inboundEmailId));
  });

  it('raw MIME: the same names in Content-Disposition (quoted and RFC 2231)', async () => {
    const boundary = 'b-names';
    const part = (name: string) => {
      const encoded = /^[\x20-\x7e]*$/.test(name) && !name.includes('"') && name.length < 500
        ? `filename="${name.replace(/\\/g, '\\\\')}"`
        : `filename*=UTF-8''${encodeURIComponent(name)}`;
      return [`--${boundary}`, 'Content-Type: text/plain', `Content-Disposition: attachment; ${encoded}`, '', 'plain text'].join('\r\n');
    };
    const raw = [
      'From: Jane <jane@nike.com>',
      `To: help@names-acme.com, ${acme.workspace.inboundToken}@${INBOUND_DOMAIN}`,
      'Subject: Files',
      'Message-ID: <names-2@nike.com>',
      'MIME-Version: 1.0',
      `Content-Type: multipart/mixed; boundary="${boundary}"`,
      '',
      `--${boundary}`,
      'Content-Type: text/plain',
      '',
      'See attached.',
      ...HOSTILE.map((x) => part(x.sent)),
      `--${boundary}--`,
      '',
    ].join('\r\n');
    const res = await h.app.inject({ method: 'POST', url: '/inbound/mime', payload: raw, headers: { 'content-type': 'message/rfc822', authorization: AUTH_HEADER } });
    expect(res.statusCode, res.body).toBe(200);
    expectSanitised(await attachmentsOf(res.json().inboundEmailId));
  });
});
