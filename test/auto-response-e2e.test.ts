import { verifyPlainWebhook } from 'plain-sdk-2024-09-18';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMailTransport } from '../src/events/auto-responder.ts';
import { startAutoResponseWorker } from '../src/jobs/auto-response-worker.ts';
import { startEventsWorker } from '../src/jobs/events-worker.ts';
import { AUTH_HEADER, INBOUND_DOMAIN, startInboundHarness, type InboundHarness } from './support/inbound-harness.ts';
import { startSmtpSink } from './support/smtp-sink.ts';
import { startWebhookReceiver } from './support/webhook-receiver.ts';
import { makeWorkspace, TEST_SECRETS_KEY } from './support/workspaces.ts';

let h: InboundHarness;
let sink: Awaited<ReturnType<typeof startSmtpSink>>;
let events: Awaited<ReturnType<typeof startEventsWorker>>;
let transport: ReturnType<typeof createMailTransport>;
let acme: Awaited<ReturnType<typeof makeWorkspace>>;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;

beforeAll(async () => {
  h = await startInboundHarness();
  sink = await startSmtpSink();
  receiver = await startWebhookReceiver();
  acme = await makeWorkspace(h.db.pool, 'Acme', 'help@acme-e2e.com');
  const logger = pino({ level: 'silent' });
  transport = createMailTransport({ smtpUrl: sink.url, dataDir: '/tmp' });
  await startAutoResponseWorker(h.jobs.boss, { pool: h.db.pool, transport, inboundDomain: INBOUND_DOMAIN, threadTokenKey: h.tokenKey, perCustomerWindowSeconds: 86_400 }, logger);
  events = await startEventsWorker(
    h.jobs.boss,
    { pool: h.db.pool, boss: h.jobs.boss, secretsKey: TEST_SECRETS_KEY, allowPrivate: true, timeoutMs: 2000, timeScale: 1, userAgent: 'test', autoResponseDelaySeconds: 0 },
    logger,
  );
  const created = await h.app.inject({
    method: 'POST',
    url: '/v1/auto-responses',
    headers: { authorization: `Bearer ${acme.apiKey}`, 'content-type': 'application/json' },
    payload: JSON.stringify({ messageText: 'Thanks, we got your email and will answer within a day.', channels: ['EMAIL'] }),
  });
  expect(created.statusCode).toBe(201);
  // The harness app mounts no webhook-target routes (no secrets key); create the target directly.
  const { createWebhookTarget } = await import('../src/events/webhook-targets.ts');
  const { withTransaction } = await import('../src/db/pool.ts');
  await withTransaction(h.db.pool, (tx) =>
    createWebhookTarget(tx, TEST_SECRETS_KEY, acme.workspace.id, { url: `${receiver.url}/ok/e2e`, eventTypes: ['customer.customer_created', 'thread.thread_created', 'thread.email_received'], enabled: true, version: '2024-09-18' }),
  );
}, 120_000);
afterAll(async () => {
  await events.stop();
  transport.close();
  await sink.close();
  await receiver.close();
  await h.close();
});

async function send(raw: string) {
  const res = await h.app.inject({ method: 'POST', url: '/inbound/mime', payload: Buffer.from(raw.replace(/\n/g, '\r\n')), headers: { 'content-type': 'message/rfc822', authorization: AUTH_HEADER } });
  expect(res.statusCode).toBe(200);
  return h.settled(res.json().inboundEmailId);
}

async function waitFor(check: () => boolean, ms = 20_000) {
  for (const end = Date.now() + ms; !check(); ) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('auto-response, end to end from inbound email', () => {
  it('answers a new thread once, threads the customer’s reply back, and never answers auto-replies or a second thread within 24 h', async () => {
    const first = await send(`From: Carla <carla@initech.com>
To: help@acme-e2e.com
Delivered-To: ${acme.workspace.inboundToken}@${INBOUND_DOMAIN}
Subject: Printer jammed
Message-ID: <carla-1@initech.com>

The printer is jammed again.
`);
    await waitFor(() => sink.received.length >= 1);
    const [mail] = await sink.parsed();
    expect(mail!.from?.value[0]?.address).toBe('help@acme-e2e.com');
    expect(mail!.to && !Array.isArray(mail!.to) ? mail!.to.value[0]?.address : null).toBe('carla@initech.com');
    expect(mail!.subject).toBe('Re: Printer jammed');
    expect(mail!.inReplyTo).toBe('<carla-1@initech.com>');
    expect(mail!.headers.get('auto-submitted')).toBe('auto-replied');
    const replyTo = mail!.replyTo?.value[0]?.address ?? '';
    expect(replyTo).toMatch(new RegExp(`^${acme.workspace.inboundToken}\\+[0-9a-z]{39}@${INBOUND_DOMAIN.replace(/\./g, '\\.')}$`));

    // The customer answers the auto-response: same thread.
    const reply = await send(`From: Carla <carla@initech.com>
To: ${replyTo}
Subject: Re: Printer jammed
Message-ID: <carla-2@initech.com>
In-Reply-To: ${mail!.messageId}

Any news?
`);
    expect(reply.thread_id).toBe(first.thread_id);

    // Her out-of-office answering the auto-response: same thread, no second auto-response.
    const ooo = await send(`From: Carla <carla@initech.com>
To: ${replyTo}
Subject: Automatic reply: Re: Printer jammed
Auto-Submitted: auto-replied
Message-ID: <carla-ooo@initech.com>
In-Reply-To: ${mail!.messageId}

I am out of office.
`);
    expect(ooo.thread_id).toBe(first.thread_id);

    // A second new thread from her within 24 h: no auto-response either.
    const second = await send(`From: Carla <carla@initech.com>
To: help@acme-e2e.com
Delivered-To: ${acme.workspace.inboundToken}@${INBOUND_DOMAIN}
Subject: Another question
Message-ID: <carla-3@initech.com>

Also, the scanner.
`);
    expect(second.thread_id).not.toBe(first.thread_id);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(sink.received).toHaveLength(1);

    // The same real emails fired Plain-verified webhooks: 1 customer, 2 threads, 4 emails received.
    await waitFor(() => receiver.on('/ok/e2e').length >= 7);
    const types = receiver.on('/ok/e2e').map((r) => String(r.headers['plain-event-type'])).sort();
    expect(types).toEqual(['customer.customer_created', 'thread.email_received', 'thread.email_received', 'thread.email_received', 'thread.email_received', 'thread.thread_created', 'thread.thread_created']);
    for (const r of receiver.on('/ok/e2e')) {
      expect(verifyPlainWebhook(r.body, String(r.headers['plain-request-signature']), acme.webhookSecret).error).toBeUndefined();
    }
    const { rows } = await h.db.pool.query(`SELECT kind FROM timeline_entries WHERE thread_id = $1 ORDER BY created_at, id`, [first.thread_id]);
    expect(rows.map((r) => r.kind)).toEqual(['inbound_email', 'outbound_email', 'inbound_email', 'inbound_email']);
  });
});
