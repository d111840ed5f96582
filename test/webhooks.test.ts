import { pino } from 'pino';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOrCreateCustomerByEmail } from '../src/domain/customers.ts';
import { createThread } from '../src/domain/threads.ts';
import { addTimelineEntry } from '../src/domain/timeline-entries.ts';
import { buildApp } from '../src/http/app.ts';
import { relayEvents } from '../src/events/relay.ts';
import { RETRY_OFFSETS_SECONDS } from '../src/events/retry-schedule.ts';
import { newSigningSecret, standardSignature, standardWebhookHeaders } from '../src/events/signing.ts';
import { startEventsWorker } from '../src/jobs/events-worker.ts';
import { sealLegacyUrlPasswords } from '../src/events/webhook-targets.ts';
import { LATEST_WEBHOOK_VERSION, WEBHOOK_VERSIONS } from '../src/events/webhook-versions.ts';
import { decryptSecret } from '../src/secret-box.ts';
import { INBOUND_DOMAIN, startInboundHarness, type InboundHarness } from './support/inbound-harness.ts';
import { startWebhookReceiver } from './support/webhook-receiver.ts';
import { fieldsOutsideSchema, PLAIN_SDKS } from './support/plain-sdks.ts';
import { makeWorkspace } from './support/workspaces.ts';
import { until } from './support/until.ts';

const TIME_SCALE = 0.01; // 10 s -> 100 ms, 30 s -> 300 ms, 5 min -> 3 s

let h: InboundHarness;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
let worker: Awaited<ReturnType<typeof startEventsWorker>>;
let ws: Awaited<ReturnType<typeof makeWorkspace>>;
let app: Awaited<ReturnType<typeof buildApp>>;

beforeAll(async () => {
  h = await startInboundHarness();
  receiver = await startWebhookReceiver();
  ws = await makeWorkspace(h.db.pool, 'Hooks', 'help@hooks-acme.com');
  const secretsKey = (await import('./support/workspaces.ts')).TEST_SECRETS_KEY;
  app = await buildApp({ pool: h.db.pool, boss: h.jobs.boss, inboundDomain: INBOUND_DOMAIN, inboundBasicAuth: 'postmark:correct-horse-battery', secretsKey, webhookAllowPrivate: true });
  worker = await startEventsWorker(
    h.jobs.boss,
    { pool: h.db.pool, boss: h.jobs.boss, secretsKey, allowPrivate: true, timeoutMs: 5000, timeScale: TIME_SCALE, userAgent: 'intake-test', autoResponseDelaySeconds: 3600 },
    pino({ level: 'silent' }),
  );
}, 120_000);
afterAll(async () => {
  await worker.stop();
  await app.close();
  await receiver.close();
  await h.close();
});

const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown) =>
  app.inject({ method, url, headers: { authorization: `Bearer ${ws.apiKey}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { payload: JSON.stringify(body) } : {}) });

async function target(path: string, eventTypes = ['thread.thread_created'], version?: string) {
  const res = await api('POST', '/v1/webhook-targets', { url: `${receiver.url}${path}`, eventTypes, ...(version ? { version } : {}) });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().webhookTarget as { id: string; signingSecret: string; version: string };
}

async function newThread(title: string) {
  const ctx = { db: h.db.pool, workspaceId: ws.workspace.id, origin: 'email' as const };
  const { customer } = await findOrCreateCustomerByEmail(ctx, { email: `${title.replace(/\W/g, '').toLowerCase()}@initech.com`, fullName: title });
  const thread = await createThread(ctx, { customerId: customer.id, title, channel: 'EMAIL' });
  await addTimelineEntry(ctx, { threadId: thread.id, kind: 'inbound_email', author: { type: 'customer', customerId: customer.id }, text: `Hello from ${title}`, messageId: `${thread.id}@initech.com` });
  worker.kick();
  return thread;
}

describe('webhook delivery', () => {
  it('delivers every event type in Plain’s contract, in the latest version by default, verified by its Plain SDK and a Standard Webhooks verifier', async () => {
    const { verifyPlainWebhook, parsePlainWebhook } = PLAIN_SDKS[LATEST_WEBHOOK_VERSION];
    const all = await target('/ok/all', ['customer.customer_created', 'thread.thread_created', 'thread.email_received']);
    const thread = await newThread('All Events');
    const got = await until(() => (receiver.on('/ok/all').length >= 3 ? receiver.on('/ok/all') : undefined));
    const types = got.map((r) => r.headers['plain-event-type']).sort();
    expect(types).toEqual(['customer.customer_created', 'thread.email_received', 'thread.thread_created']);
    for (const r of got) {
      const plain = verifyPlainWebhook(r.body, String(r.headers['plain-request-signature']), ws.webhookSecret);
      expect(plain.error, String(plain.error)).toBeUndefined();
      expect(plain.data?.type).toBe(r.headers['plain-event-type']);
      expect(parsePlainWebhook(JSON.parse(r.body)).error).toBeUndefined();
      expect(() => new Webhook(all.signingSecret).verify(r.body, r.headers as Record<string, string>)).not.toThrow();
      expect(r.headers).toMatchObject({
        'content-type': 'application/json',
        'user-agent': 'intake-test',
        'plain-workspace-id': ws.workspace.id,
        'plain-webhook-target-id': all.id,
        'plain-webhook-target-version': '2026-02-27',
        'plain-webhook-delivery-attempt-number': '1',
      });
      const body = JSON.parse(r.body);
      expect(body).toMatchObject({ id: r.headers['plain-event-id'], workspaceId: ws.workspace.id, webhookMetadata: { webhookTargetId: all.id, webhookDeliveryAttemptNumber: 1 } });
    }
    const created = JSON.parse(got.find((r) => r.headers['plain-event-type'] === 'thread.thread_created')!.body);
    expect(created.payload.thread.id).toBe(thread.id);
    expect(all.version).toBe('2026-02-27');
    // A forged body fails both verifications.
    const forged = got[0]!.body.replace('All Events', 'Forged');
    expect(verifyPlainWebhook(forged, String(got[0]!.headers['plain-request-signature']), ws.webhookSecret).error).toBeDefined();
  });

  it('delivers in the version each target chose, each verified by that version’s SDK release and refused by the others; a changed version applies to the next delivery', async () => {
    const events = ['customer.customer_created', 'thread.thread_created', 'thread.email_received'];
    const targets = await Promise.all(WEBHOOK_VERSIONS.map((version) => target(`/ok/v/${version}`, events, version)));
    expect(targets.map((t) => t.version)).toEqual([...WEBHOOK_VERSIONS]);
    await newThread('Versioned');
    for (const [i, version] of WEBHOOK_VERSIONS.entries()) {
      const path = `/ok/v/${version}`;
      const got = await until(() => (receiver.on(path).length >= 3 ? receiver.on(path) : undefined));
      for (const r of got) {
        expect(r.headers['plain-webhook-target-id']).toBe(targets[i]!.id);
        expect(r.headers['plain-webhook-target-version']).toBe(version);
        const plain = PLAIN_SDKS[version].verifyPlainWebhook(r.body, String(r.headers['plain-request-signature']), ws.webhookSecret);
        expect(plain.error, `${version} ${r.headers['plain-event-type']}: ${String(plain.error)}`).toBeUndefined();
        expect(plain.data?.webhookMetadata.webhookTargetVersion).toBe(version);
        expect(fieldsOutsideSchema(version, JSON.parse(r.body))).toEqual([]);
        for (const other of WEBHOOK_VERSIONS.filter((v) => v !== version)) {
          const refused = PLAIN_SDKS[other].verifyPlainWebhook(r.body, String(r.headers['plain-request-signature']), ws.webhookSecret);
          expect(refused.error).toBeInstanceOf(PLAIN_SDKS[other].PlainWebhookVersionMismatchError);
        }
      }
      const thread = JSON.parse(got.find((r) => r.headers['plain-event-type'] === 'thread.thread_created')!.body).payload.thread;
      expect('additionalAssignees' in thread, version).toBe(version !== '2024-09-18');
    }

    // The 2026-02-27 target moves back to 2024-09-18: its next delivery is in that version.
    const latest = targets[2]!;
    const patched = await api('PATCH', `/v1/webhook-targets/${latest.id}`, { version: '2024-09-18' });
    expect(patched.json().webhookTarget.version).toBe('2024-09-18');
    await newThread('Versioned Again');
    const path = '/ok/v/2026-02-27';
    const again = () => receiver.on(path).filter((r) => r.body.includes('Versioned Again'));
    const later = await until(() => (again().length >= 3 ? again() : undefined));
    for (const r of later) {
      expect(r.headers['plain-webhook-target-version']).toBe('2024-09-18');
      expect(PLAIN_SDKS['2024-09-18'].verifyPlainWebhook(r.body, String(r.headers['plain-request-signature']), ws.webhookSecret).error).toBeUndefined();
      expect(fieldsOutsideSchema('2024-09-18', JSON.parse(r.body))).toEqual([]);
    }
    // The two others stay in their versions.
    for (const version of ['2024-09-18', '2025-08-06']) {
      const mine = () => receiver.on(`/ok/v/${version}`).filter((r) => r.body.includes('Versioned Again'));
      for (const r of await until(() => (mine().length >= 3 ? mine() : undefined))) expect(r.headers['plain-webhook-target-version']).toBe(version);
    }
    // Removed once every delivery is recorded: nine more deliveries per thread would crowd the pool of the crash test below.
    for (const t of targets) {
      for (let i = 0; i < 100; i++) {
        const { deliveries } = (await api('GET', `/v1/webhook-targets/${t.id}/deliveries`)).json();
        if (deliveries.length === 6 && deliveries.every((d: { status: string }) => d.status === 'delivered')) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect((await api('DELETE', `/v1/webhook-targets/${t.id}`)).statusCode).toBe(204);
    }
    // 27 bodies each read by three SDK releases' schemas: 30-45 s on a loaded 2-core machine
    // (before and after the delivery changes alike), and a test left running past its timeout
    // sends its threads to the next test's targets.
  }, 90_000);

  it('retries a receiver that fails 3 times on the schedule, and records attempts 1-4', async () => {
    const flaky = await target('/flaky/3');
    await newThread('Flaky');
    const got = await until(() => (receiver.on('/flaky/3').length >= 4 ? receiver.on('/flaky/3') : undefined), 30_000);
    for (let k = 1; k < 4; k++) {
      const gap = got[k]!.at - got[k - 1]!.at;
      const offset = RETRY_OFFSETS_SECONDS[k - 1]! * 1000 * TIME_SCALE;
      expect(gap, `gap before attempt ${k + 1}`).toBeGreaterThanOrEqual(offset - 5);
      expect(gap, `gap before attempt ${k + 1}`).toBeLessThan(offset + 3000);
      expect(got[k]!.headers['plain-webhook-delivery-attempt-number']).toBe(String(k + 1));
    }
    // The 4th attempt is recorded just after the receiver answered it.
    let delivery;
    for (let i = 0; i < 50; i++) {
      [delivery] = (await api('GET', `/v1/webhook-targets/${flaky.id}/deliveries`)).json().deliveries;
      if (delivery.status === 'delivered') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(delivery.status).toBe('delivered');
    expect(delivery.attempts.map((a: { number: number; statusCode: number }) => [a.number, a.statusCode])).toEqual([[1, 500], [2, 500], [3, 500], [4, 200]]);
  });

  it('counts a 301 as a failure and does not follow it', async () => {
    const redirect = await target('/redirect');
    await newThread('Redirected');
    await until(() => receiver.on('/redirect').length >= 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(receiver.on('/ok').length).toBe(0); // not followed
    const res = await api('GET', `/v1/webhook-targets/${redirect.id}/deliveries`);
    expect(res.json().deliveries[0].attempts[0]).toMatchObject({ number: 1, statusCode: 301, error: 'HTTP 301' });
    expect(res.json().deliveries[0].status).toBe('pending');
  });

  it('does not let a receiver that hangs hold up another target', async () => {
    await target('/hang');
    await target('/ok/fast');
    const t0 = Date.now();
    await newThread('Hanging');
    const got = await until(() => receiver.on('/ok/fast')[0]);
    expect(got.at - t0).toBeLessThan(4000); // before the hanging delivery's 5 s timeout ends
  });

  it('disables a target that answers 410', async () => {
    const gone = await target('/gone');
    await newThread('Gone');
    await until(() => receiver.on('/gone').length >= 1);
    let t;
    for (let i = 0; i < 50; i++) {
      t = (await api('GET', `/v1/webhook-targets/${gone.id}`)).json().webhookTarget;
      if (!t.enabled) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(t).toMatchObject({ enabled: false, disabledReason: expect.stringContaining('410') });
  });

  it('a worker dying between the POST and recording it still ends delivered, with the attempt recorded once', async () => {
    const crash = await target('/ok/crash');
    const blocker = await h.db.pool.connect();
    try {
      // Recording the attempt blocks on this lock; its connection is then killed, as a crash would.
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE webhook_delivery_attempts IN EXCLUSIVE MODE');
      await newThread('Crash');
      await until(() => receiver.on('/ok/crash').length >= 1);
      // Other targets' retries may be recording too: every blocked recorder is killed (each is
      // re-run and recorded once), ours among them once it has had time to reach the lock.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const { rows: victims } = await h.db.pool.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE '%INSERT INTO webhook_delivery_attempts%'`,
      );
      expect(victims.length).toBeGreaterThanOrEqual(1);
      await blocker.query('ROLLBACK');
    } finally {
      blocker.release();
    }
    let delivery;
    for (let i = 0; i < 400; i++) {
      [delivery] = (await api('GET', `/v1/webhook-targets/${crash.id}/deliveries`)).json().deliveries;
      if (delivery?.status === 'delivered') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(delivery.status).toBe('delivered');
    expect(delivery.attempts.map((a: { number: number }) => a.number)).toEqual([1]);
    expect(receiver.on('/ok/crash').length).toBeGreaterThanOrEqual(2); // at least once: it was sent again
  }, 40_000);

  it('sends nothing for import-origin writes', async () => {
    await target('/ok/import', ['customer.customer_created', 'thread.thread_created', 'thread.email_received']);
    const ctx = { db: h.db.pool, workspaceId: ws.workspace.id, origin: 'import' as const };
    const { customer } = await findOrCreateCustomerByEmail(ctx, { email: 'imported@initech.com' });
    const thread = await createThread(ctx, { customerId: customer.id, title: 'Imported', channel: 'EMAIL' });
    await addTimelineEntry(ctx, { threadId: thread.id, kind: 'inbound_email', author: { type: 'customer', customerId: customer.id }, text: 'old' });
    await relayEvents({ pool: h.db.pool, boss: h.jobs.boss, autoResponseDelaySeconds: 60 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(receiver.on('/ok/import')).toEqual([]);
  });
});

describe('Standard Webhooks signature', () => {
  it('is what the standardwebhooks package signs and verifies, for any body, and a wrong secret or body fails its verify', () => {
    const secret = newSigningSecret();
    const at = new Date('2026-11-30T08:00:00.999Z');
    for (const body of ['{}', JSON.stringify({ text: 'Grüße 👋 "quoted" \\ \n' }), JSON.stringify({ big: 'x'.repeat(70_000) })]) {
      expect(standardSignature('ev_01JABCDEF', at, body, secret)).toBe(new Webhook(secret).sign('ev_01JABCDEF', at, body));
      const headers = standardWebhookHeaders('ev_01JABCDEF', new Date(), body, [newSigningSecret(), secret]);
      expect(() => new Webhook(secret).verify(body, headers)).not.toThrow();
      expect(() => new Webhook(newSigningSecret()).verify(body, headers)).toThrow();
      expect(() => new Webhook(secret).verify(`${body} `, headers)).toThrow();
    }
  });
});

describe('webhook targets API', () => {
  it('lists Plain’s webhook versions as its webhookVersions query does, to an authenticated caller only', async () => {
    const res = await api('GET', '/v1/webhook-versions');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      webhookVersions: [
        { version: '2026-02-27', isLatest: true, isDeprecated: false },
        { version: '2025-08-06', isLatest: false, isDeprecated: false },
        { version: '2024-09-18', isLatest: false, isDeprecated: false },
      ],
    });
    const anonymous = await app.inject({ method: 'GET', url: '/v1/webhook-versions' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json().error.code).toBe('unauthenticated');
  });

  it('takes a target’s version from Plain’s list, defaults to the latest, and refuses any other with a field error', async () => {
    const url = `${receiver.url}/ok/version-api`;
    const created = await api('POST', '/v1/webhook-targets', { url, eventTypes: ['thread.thread_created'] });
    const t = created.json().webhookTarget;
    expect(t.version).toBe('2026-02-27');
    for (const version of WEBHOOK_VERSIONS) {
      const res = await api('PATCH', `/v1/webhook-targets/${t.id}`, { version });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().webhookTarget.version).toBe(version);
      expect((await api('GET', `/v1/webhook-targets/${t.id}`)).json().webhookTarget.version).toBe(version);
    }
    const old = await api('POST', '/v1/webhook-targets', { url, eventTypes: ['thread.thread_created'], version: '2024-09-18' });
    expect(old.json().webhookTarget.version).toBe('2024-09-18');

    for (const version of ['2023-01-01', '2026-02-28', 'latest', '', 20260227, null]) {
      for (const res of [
        await api('POST', '/v1/webhook-targets', { url, eventTypes: ['thread.thread_created'], version }),
        await api('PATCH', `/v1/webhook-targets/${t.id}`, { version }),
      ]) {
        expect(res.statusCode, `${JSON.stringify(version)}: ${res.body}`).toBe(400);
        expect(res.json()).toEqual({
          error: {
            message: 'Invalid request body.', type: 'VALIDATION', code: 'input_validation',
            fields: [{ field: 'version', message: "must be one of Plain's webhook versions: 2024-09-18, 2025-08-06, 2026-02-27", type: 'VALIDATION' }],
          },
        });
      }
    }
    // Nothing refused was stored: the target keeps the last version it was given.
    expect((await api('GET', `/v1/webhook-targets/${t.id}`)).json().webhookTarget.version).toBe('2026-02-27');
    for (const id of [t.id, old.json().webhookTarget.id]) expect((await api('DELETE', `/v1/webhook-targets/${id}`)).statusCode).toBe(204);
  });

  it('refuses the 26th target with too_many_webhook_targets', async () => {
    const other = await makeWorkspace(h.db.pool, 'Many', 'help@many-acme.com');
    const post = (i: number) =>
      app.inject({ method: 'POST', url: '/v1/webhook-targets', headers: { authorization: `Bearer ${other.apiKey}`, 'content-type': 'application/json' }, payload: JSON.stringify({ url: `${receiver.url}/ok/${i}`, eventTypes: ['thread.thread_created'] }) });
    for (let i = 0; i < 25; i++) expect((await post(i)).statusCode).toBe(201);
    const res = await post(26);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('too_many_webhook_targets');
  });

  it('refuses private and plain-http URLs without WEBHOOK_ALLOW_PRIVATE, naming the field, and accepts public IPv4 and IPv6', async () => {
    const strict = await buildApp({ pool: h.db.pool, boss: h.jobs.boss, inboundDomain: INBOUND_DOMAIN, secretsKey: Buffer.alloc(32, 1), webhookAllowPrivate: false });
    try {
      for (const url of ['http://example.com/hook', 'https://127.0.0.1/hook', 'https://[::1]/hook', 'https://localhost/hook', 'https://169.254.169.254/latest', 'https://10.1.2.3/x', 'https://[::ffff:127.0.0.1]/x', 'https://[::7f00:1]/x', 'https://[::ffff:0:7f00:1]/x', 'https://[64:ff9b:1::a9fe:a9fe]/x', 'https://[2002:a9fe:a9fe::1]/x', 'https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/x']) {
        const res = await strict.inject({ method: 'POST', url: '/v1/webhook-targets', headers: { authorization: `Bearer ${ws.apiKey}`, 'content-type': 'application/json' }, payload: JSON.stringify({ url, eventTypes: ['thread.thread_created'] }) });
        expect(res.statusCode, url).toBe(400);
        expect(res.json().error.fields[0].field, url).toBe('url');
      }
      // The same switch at its default lets public addresses of both families through.
      for (const url of ['https://93.184.216.34/hook', 'https://8.8.8.8/x', 'https://[2606:4700:4700::1111]/hook', 'https://[::ffff:93.184.216.34]/x']) {
        const res = await strict.inject({ method: 'POST', url: '/v1/webhook-targets', headers: { authorization: `Bearer ${ws.apiKey}`, 'content-type': 'application/json' }, payload: JSON.stringify({ url, eventTypes: ['thread.thread_created'] }) });
        expect(res.statusCode, `${url}: ${res.body}`).toBe(201);
        expect((await strict.inject({ method: 'DELETE', url: `/v1/webhook-targets/${res.json().webhookTarget.id}`, headers: { authorization: `Bearer ${ws.apiKey}` } })).statusCode).toBe(204);
      }
    } finally {
      await strict.close();
    }
  });

  it('keeps a URL password sealed at rest and sends it only as Basic auth; seals passwords stored before', async () => {
    const secretsKey = (await import('./support/workspaces.ts')).TEST_SECRETS_KEY;
    const withPassword = receiver.url.replace('http://', 'http://hook%20user:p%40ss%3Aw0rd@');
    const created = await api('POST', '/v1/webhook-targets', { url: `${withPassword}/ok/basic`, eventTypes: ['thread.thread_created'] });
    expect(created.statusCode, created.body).toBe(201);
    const t = created.json().webhookTarget;
    expect(t.url).toBe(`${receiver.url.replace('http://', 'http://hook%20user:***@')}/ok/basic`);
    const row = async () => (await h.db.pool.query('SELECT url, url_password_encrypted FROM webhook_targets WHERE id = $1', [t.id])).rows[0];
    const stored = await row();
    expect(stored.url).toBe(`${receiver.url.replace('http://', 'http://hook%20user@')}/ok/basic`);
    expect(JSON.stringify(stored)).not.toMatch(/p%40ss|p@ss/);
    expect(decryptSecret(secretsKey, stored.url_password_encrypted, t.id)).toBe('p@ss:w0rd');

    await newThread('Basic Auth');
    const [got] = await until(() => (receiver.on('/ok/basic').length ? receiver.on('/ok/basic') : undefined));
    expect(got!.headers.authorization).toBe(`Basic ${Buffer.from('hook user:p@ss:w0rd').toString('base64')}`);

    // A new URL without a password drops the old one; one with a password seals the new one.
    expect((await api('PATCH', `/v1/webhook-targets/${t.id}`, { url: `${receiver.url}/ok/basic` })).json().webhookTarget.url).toBe(`${receiver.url}/ok/basic`);
    expect((await row()).url_password_encrypted).toBeNull();
    await api('PATCH', `/v1/webhook-targets/${t.id}`, { url: `${receiver.url.replace('http://', 'http://u:n3w@')}/ok/basic` });
    expect(decryptSecret(secretsKey, (await row()).url_password_encrypted, t.id)).toBe('n3w');
    expect((await api('PATCH', `/v1/webhook-targets/${t.id}`, { enabled: true })).json().webhookTarget.url).toContain('u:***@');
    expect(decryptSecret(secretsKey, (await row()).url_password_encrypted, t.id)).toBe('n3w');

    // A row from before passwords were sealed: still delivered with its password, then sealed once.
    await h.db.pool.query('UPDATE webhook_targets SET url = $2, url_password_encrypted = NULL WHERE id = $1', [t.id, `${receiver.url.replace('http://', 'http://old:l3gacy@')}/ok/basic`]);
    expect((await api('GET', `/v1/webhook-targets/${t.id}`)).json().webhookTarget.url).toContain('old:***@');
    expect(await sealLegacyUrlPasswords(h.db.pool, secretsKey)).toBe(1);
    expect(await sealLegacyUrlPasswords(h.db.pool, secretsKey)).toBe(0);
    expect((await row()).url).toBe(`${receiver.url.replace('http://', 'http://old@')}/ok/basic`);
    await newThread('Basic Auth Legacy');
    const later = await until(() => (receiver.on('/ok/basic').length >= 2 ? receiver.on('/ok/basic') : undefined));
    expect(later.at(-1)!.headers.authorization).toBe(`Basic ${Buffer.from('old:l3gacy').toString('base64')}`);
    expect((await api('DELETE', `/v1/webhook-targets/${t.id}`)).statusCode).toBe(204);
  });

  it('validates bodies, hides URL passwords, rotates secrets and deletes', async () => {
    const bad = await api('POST', '/v1/webhook-targets', { url: `${receiver.url}/x`, eventTypes: ['thread.nope'] });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('input_validation');
    const created = await api('POST', '/v1/webhook-targets', { url: `http://user:s3cret@127.0.0.1:1/x`, eventTypes: ['thread.thread_created'] });
    const t = created.json().webhookTarget;
    expect(t.url).not.toContain('s3cret');
    expect(t.signingSecret).toMatch(/^whsec_/);
    const list = await api('GET', '/v1/webhook-targets');
    expect(JSON.stringify(list.json())).not.toContain('whsec_');
    const rotated = await api('POST', `/v1/webhook-targets/${t.id}/rotate-secret`);
    expect(rotated.json().webhookTarget.signingSecret).not.toBe(t.signingSecret);
    expect((await api('DELETE', `/v1/webhook-targets/${t.id}`)).statusCode).toBe(204);
    expect((await api('GET', `/v1/webhook-targets/${t.id}`)).statusCode).toBe(404);
  });
});
