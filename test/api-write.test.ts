import os from 'node:os';
import { simpleParser } from 'mailparser';
import type { Transporter } from 'nodemailer';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOrCreateCustomerByEmail } from '../src/domain/customers.ts';
import { findOrCreateLabel } from '../src/domain/labels.ts';
import { autoRespondToThread, createMailTransport, type AutoResponderDeps } from '../src/events/auto-responder.ts';
import { createAutoResponse, deleteAutoResponse } from '../src/events/auto-responses.ts';
import { relayEvents } from '../src/events/relay.ts';
import { WEBHOOK_VERSIONS } from '../src/events/webhook-versions.ts';
import { threadTokenKey } from '../src/domain/thread-token.ts';
import { buildApp } from '../src/http/app.ts';
import { startEventsWorker } from '../src/jobs/events-worker.ts';
import { QUEUES } from '../src/queue/catalogue.ts';
import { startJobs, type Jobs } from '../src/queue/boss.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { fieldsOutsideSchema, PLAIN_SDKS } from './support/plain-sdks.ts';
import { startSmtpSink } from './support/smtp-sink.ts';
import { startWebhookReceiver } from './support/webhook-receiver.ts';
import { makeWorkspace, TEST_SECRETS_KEY } from './support/workspaces.ts';
import { until } from './support/until.ts';

const INBOUND_DOMAIN = 'inbound.intake.test';
const NEW_EVENT_TYPES = ['customer.customer_created', 'customer.customer_updated', 'thread.thread_created', 'thread.note_created', 'thread.thread_status_transitioned'];

let db: TestDatabase;
let jobs: Jobs;
let app: Awaited<ReturnType<typeof buildApp>>;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
let worker: Awaited<ReturnType<typeof startEventsWorker>>;
let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
let transport: Transporter;
let a: Awaited<ReturnType<typeof makeWorkspace>>;
let b: Awaited<ReturnType<typeof makeWorkspace>>;

beforeAll(async () => {
  db = await createTestDatabase();
  jobs = await startJobs(db.url, { onError: () => {}, supervise: false, schedule: false });
  receiver = await startWebhookReceiver();
  smtp = await startSmtpSink();
  transport = createMailTransport({ smtpUrl: smtp.url, dataDir: os.tmpdir() });
  a = await makeWorkspace(db.pool, 'Acme', 'help@acme-writes.com');
  b = await makeWorkspace(db.pool, 'Other', 'help@other-writes.com');
  app = await buildApp({ pool: db.pool, boss: jobs.boss, inboundDomain: INBOUND_DOMAIN, secretsKey: TEST_SECRETS_KEY, webhookAllowPrivate: true });
  // A long auto-response delay: the job waits in the queue, where the tests look for it.
  worker = await startEventsWorker(
    jobs.boss,
    { pool: db.pool, boss: jobs.boss, secretsKey: TEST_SECRETS_KEY, allowPrivate: true, timeoutMs: 5000, timeScale: 0.01, userAgent: 'intake-test', autoResponseDelaySeconds: 3600 },
    pino({ level: 'silent' }),
  );
  // One target per Plain webhook version, each subscribed to every event these routes fire.
  for (const version of WEBHOOK_VERSIONS) {
    const res = await call(a, 'POST', '/v1/webhook-targets', { url: `${receiver.url}/ok/${version}`, eventTypes: NEW_EVENT_TYPES, version });
    expect(res.statusCode, res.body).toBe(201);
  }
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await app?.close();
  transport?.close();
  await smtp?.close();
  await receiver?.close();
  await jobs?.stop();
  await db?.close();
});

type Creds = Awaited<ReturnType<typeof makeWorkspace>>;

function call(ws: Creds, method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown) {
  return app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${ws.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
}

/** Outbox rows of the workspace whose payload names this id anywhere, by type. */
async function eventsAbout(ws: Creds, id: string): Promise<Array<{ id: string; type: string; origin: string; payload: any }>> {
  const { rows } = await db.pool.query(`SELECT id, type, origin, payload FROM events WHERE workspace_id = $1 AND payload::text LIKE '%' || $2 || '%' ORDER BY id`, [ws.workspace.id, id]);
  return rows;
}

/** The body delivered for this event to each version's target, checked by that version's SDK and closed schema. */
async function deliveredInEveryVersion(eventId: string) {
  worker.kick();
  const bodies: Record<string, any> = {};
  for (const version of WEBHOOK_VERSIONS) {
    const got = await until(() => receiver.on(`/ok/${version}`).find((r) => r.headers['plain-event-id'] === eventId));
    const plain = PLAIN_SDKS[version].verifyPlainWebhook(got.body, String(got.headers['plain-request-signature']), a.webhookSecret);
    expect(plain.error, `${version}: ${String(plain.error)}`).toBeUndefined();
    const body = JSON.parse(got.body);
    expect(fieldsOutsideSchema(version, body)).toEqual([]);
    bodies[version] = body;
  }
  return bodies[WEBHOOK_VERSIONS.at(-1)!];
}

const expectPlainError = (res: { statusCode: number; json(): any }, status: number, code: string) => {
  expect(res.statusCode).toBe(status);
  const { error } = res.json();
  expect(error).toMatchObject({ code, message: expect.any(String), type: expect.any(String) });
  expect(Array.isArray(error.fields)).toBe(true);
  return error as { code: string; message: string; fields: Array<{ field: string; type: string; message: string }> };
};

const upsertBody = (email: string, extra: Record<string, unknown> = {}) => ({
  identifier: { emailAddress: email },
  onCreate: { fullName: 'Jane Doe', email: { email, isVerified: true } },
  onUpdate: {},
  ...extra,
});

describe('POST /v1/customers (upsert)', () => {
  it('creates a customer with the company of its domain, then answers NOOP for the same upsert and fires nothing more', async () => {
    const created = await call(a, 'POST', '/v1/customers', upsertBody('jane@nike.com', { onCreate: { fullName: 'Jane Doe', shortName: 'Jane', email: { email: 'Jane@Nike.com', isVerified: true }, externalId: 'u-1' } }));
    expect(created.statusCode, created.body).toBe(201);
    const { result, customer } = created.json();
    expect(result).toBe('CREATED');
    expect(customer).toMatchObject({ email: 'jane@nike.com', fullName: 'Jane Doe', shortName: 'Jane', externalId: 'u-1', company: { name: 'Nike', domain: 'nike.com' }, tenants: [] });
    const events = await eventsAbout(a, customer.id);
    expect(events.map((e) => [e.type, e.origin])).toEqual([['customer.customer_created', 'api']]);
    const delivered = await deliveredInEveryVersion(events[0]!.id);
    expect(delivered.payload.customer).toMatchObject({ id: customer.id, externalId: 'u-1', createdBy: { actorType: 'system', system: 'api' } });

    const again = await call(a, 'POST', '/v1/customers', upsertBody('jane@nike.com', { onUpdate: { fullName: { value: 'Jane Doe' }, externalId: { value: 'u-1' } } }));
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json()).toEqual({ result: 'NOOP', customer });
    expect(await eventsAbout(a, customer.id)).toHaveLength(1);
  });

  it('updates what onUpdate names, fires customer.customer_updated with the customer before and after, and leaves the rest', async () => {
    const { customer } = (await call(a, 'POST', '/v1/customers', upsertBody('bob@initech.com', { onCreate: { fullName: 'Bob', shortName: 'B', email: { email: 'bob@initech.com', isVerified: false } } }))).json();
    const res = await call(a, 'POST', '/v1/customers', upsertBody('bob@initech.com', { onUpdate: { fullName: { value: 'Bob Slydell' }, externalId: { value: 'crm-42' } } }));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ result: 'UPDATED', customer: { id: customer.id, fullName: 'Bob Slydell', shortName: 'B', externalId: 'crm-42', email: 'bob@initech.com', company: { name: 'Initech' } } });
    const updated = (await eventsAbout(a, customer.id)).filter((e) => e.type === 'customer.customer_updated');
    expect(updated.map((e) => e.origin)).toEqual(['api']);
    const body = await deliveredInEveryVersion(updated[0]!.id);
    expect(body.payload.customer).toMatchObject({ fullName: 'Bob Slydell', externalId: 'crm-42', updatedBy: { actorType: 'system', system: 'api' } });
    expect(body.payload.previousCustomer).toMatchObject({ fullName: 'Bob', externalId: null });

    // Now identified by its externalId: a new email moves it to that domain's company; { value: null } clears the short name.
    const moved = await call(a, 'POST', '/v1/customers', {
      identifier: { externalId: 'crm-42' },
      onCreate: { fullName: 'unused', email: { email: 'unused@example.org', isVerified: false } },
      onUpdate: { email: { email: 'bob@initrode.com', isVerified: true }, shortName: { value: null } },
    });
    expect(moved.json()).toMatchObject({ result: 'UPDATED', customer: { id: customer.id, email: 'bob@initrode.com', shortName: null, company: { name: 'Initrode', domain: 'initrode.com' } } });
    const byId = await call(a, 'POST', '/v1/customers', { identifier: { customerId: customer.id }, onCreate: { fullName: 'x', email: { email: 'x@example.org', isVerified: false } }, onUpdate: { fullName: { value: 'Bob Slydell' } } });
    expect(byId.json().result).toBe('NOOP');
  });

  it('creates by externalId, taking it from the identifier', async () => {
    const res = await call(a, 'POST', '/v1/customers', { identifier: { externalId: 'ext-new' }, onCreate: { fullName: 'Nia', email: { email: 'nia@gmail.com', isVerified: true } } });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ result: 'CREATED', customer: { externalId: 'ext-new', email: 'nia@gmail.com', company: null } });
  });

  it('refuses changes that would collide with another customer, with Plain’s codes, changing nothing', async () => {
    const x = (await call(a, 'POST', '/v1/customers', upsertBody('x@collide.com'))).json().customer;
    const y = (await call(a, 'POST', '/v1/customers', upsertBody('y@collide.com', { onCreate: { fullName: 'Y', email: { email: 'y@collide.com', isVerified: true }, externalId: 'ext-y' } }))).json().customer;
    const before = (await eventsAbout(a, x.id)).length;

    let e = expectPlainError(await call(a, 'POST', '/v1/customers', upsertBody('x@collide.com', { onUpdate: { externalId: { value: 'ext-y' } } })), 409, 'customer_already_exists_with_external_id');
    expect(e.fields).toEqual([expect.objectContaining({ field: 'onUpdate.externalId.value' })]);
    expect(e.message).toContain(y.id);
    e = expectPlainError(await call(a, 'POST', '/v1/customers', upsertBody('x@collide.com', { onUpdate: { email: { email: 'Y@collide.com', isVerified: true } } })), 409, 'customer_already_exists_with_email');
    expect(e.fields).toEqual([expect.objectContaining({ field: 'onUpdate.email.email' })]);
    // Creating by externalId with an email another customer has; creating by email with another's externalId.
    e = expectPlainError(await call(a, 'POST', '/v1/customers', { identifier: { externalId: 'ext-z' }, onCreate: { fullName: 'Z', email: { email: 'x@collide.com', isVerified: true } } }), 409, 'customer_already_exists_with_email');
    expect(e.fields[0]!.field).toBe('onCreate.email.email');
    expectPlainError(await call(a, 'POST', '/v1/customers', upsertBody('z@collide.com', { onCreate: { fullName: 'Z', email: { email: 'z@collide.com', isVerified: true }, externalId: 'ext-y' } })), 409, 'customer_already_exists_with_external_id');

    const list = (await call(a, 'GET', '/v1/customers?first=100')).json().customers as Array<{ id: string; email: string; externalId: string | null }>;
    expect(list.find((c) => c.id === x.id)).toMatchObject({ email: 'x@collide.com', externalId: null });
    expect(list.find((c) => c.id === y.id)).toMatchObject({ email: 'y@collide.com', externalId: 'ext-y' });
    expect(list.some((c) => c.email === 'z@collide.com' || c.externalId === 'ext-z')).toBe(false);
    expect(await eventsAbout(a, x.id)).toHaveLength(before);
  });

  it('answers bad input in Plain’s shape, naming each field', async () => {
    let e = expectPlainError(await call(a, 'POST', '/v1/customers', { onCreate: { fullName: '', email: { email: 'a@b.com' } } }), 400, 'input_validation');
    expect(e.fields.map((f) => f.field).sort()).toEqual(['identifier', 'onCreate.email.isVerified', 'onCreate.fullName']);
    expect(e.fields.find((f) => f.field === 'identifier')!.type).toBe('REQUIRED');
    e = expectPlainError(await call(a, 'POST', '/v1/customers', { ...upsertBody('two@ids.com'), identifier: { emailAddress: 'two@ids.com', externalId: 'e' } }), 400, 'input_validation');
    expect(e.fields[0]!.field).toBe('identifier');
    e = expectPlainError(await call(a, 'POST', '/v1/customers', upsertBody('not-an-email')), 400, 'input_validation');
    expect(e.fields[0]!.field).toBe('onCreate.email.email');
    e = expectPlainError(await call(a, 'POST', '/v1/customers', { ...upsertBody('one@ids.com'), onCreate: { fullName: 'O', email: { email: 'other@ids.com', isVerified: true } } }), 400, 'input_validation');
    expect(e.fields[0]!.field).toBe('onCreate.email.email');
    e = expectPlainError(await call(a, 'POST', '/v1/customers', { ...upsertBody('u@ids.com'), tenantIdentifiers: [] }), 400, 'input_validation');
    expect(e.fields[0]!.field).toBe('(body)');
    expect((await call(a, 'GET', '/v1/customers?email=one@ids.com')).json().customers).toEqual([]);
  });

  it('never finds another workspace’s customer: its id is 404, its email is a new customer here', async () => {
    const theirs = (await call(b, 'POST', '/v1/customers', upsertBody('shared@globex.com', { onCreate: { fullName: 'Theirs', email: { email: 'shared@globex.com', isVerified: true }, externalId: 'ext-shared' } }))).json().customer;
    const res = await call(a, 'POST', '/v1/customers', { identifier: { customerId: theirs.id }, onCreate: { fullName: 'x', email: { email: 'x@example.org', isVerified: false } }, onUpdate: { fullName: { value: 'Hijacked' } } });
    const e = expectPlainError(res, 404, 'not_found');
    expect(e.fields[0]).toMatchObject({ field: 'identifier.customerId', type: 'NOT_FOUND' });
    expect(res.body).not.toContain('Theirs');
    const mine = await call(a, 'POST', '/v1/customers', upsertBody('shared@globex.com', { onCreate: { fullName: 'Mine', email: { email: 'shared@globex.com', isVerified: true }, externalId: 'ext-shared' } }));
    expect(mine.json()).toMatchObject({ result: 'CREATED', customer: { fullName: 'Mine' } });
    expect(mine.json().customer.id).not.toBe(theirs.id);
    expect((await call(b, 'GET', '/v1/customers?email=shared@globex.com')).json().customers).toEqual([expect.objectContaining({ id: theirs.id, fullName: 'Theirs' })]);
  });

  it('gives five identical upserts at once one customer: one CREATED, the rest NOOP', async () => {
    const results = await Promise.all(Array.from({ length: 5 }, () => call(a, 'POST', '/v1/customers', upsertBody('race@umbrella-corp.com', { onUpdate: { fullName: { value: 'Jane Doe' } } }))));
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 200, 200, 200, 201]);
    expect(results.map((r) => r.json().result).sort()).toEqual(['CREATED', 'NOOP', 'NOOP', 'NOOP', 'NOOP']);
    expect(new Set(results.map((r) => r.json().customer.id)).size).toBe(1);
    expect(await eventsAbout(a, results[0]!.json().customer.id)).toHaveLength(1);
  });
});

/** A customer of the workspace, made through the API. */
async function customerOf(ws: Creds, email: string) {
  const res = await call(ws, 'POST', '/v1/customers', upsertBody(email));
  expect(res.statusCode, res.body).toBeLessThan(300);
  return res.json().customer as { id: string; email: string };
}

const b64 = (data: string | Buffer) => Buffer.from(data).toString('base64');
const file = (fileName: string, content: string | Buffer, contentType = 'application/octet-stream') => ({ fileName, contentType, contentBase64: b64(content) });

/**
 * Every event relayed: this call's relay, or the events worker's running at the same moment (whose
 * locked batch this call skips; its jobs are there once it commits).
 */
async function relayedAll(): Promise<void> {
  await relayEvents({ pool: db.pool, boss: jobs.boss, autoResponseDelaySeconds: 3600 });
  await until(async () => !(await db.pool.query(`SELECT EXISTS (SELECT 1 FROM events WHERE relayed_at IS NULL) AS any`)).rows[0].any, 20_000);
}

const autoResponseJobs = async (threadId: string) =>
  (await db.pool.query(`SELECT data FROM pgboss.job WHERE name = $1 AND data->>'threadId' = $2`, [QUEUES.autoResponse.name, threadId])).rows;

describe('POST /v1/threads', () => {
  it('creates an API thread with its first message, labels and attachments judged by the inbound rules, fires thread.thread_created and queues the API auto-response', async () => {
    const customer = await customerOf(a, 'contact@hooli.com');
    // Jobs are queued only where an auto-response could answer: one on the API channel.
    const rule = await createAutoResponse({ db: db.pool, workspaceId: a.workspace.id }, { messageText: 'Form received', channels: ['API'] });
    const { label: urgent } = await findOrCreateLabel({ db: db.pool, workspaceId: a.workspace.id, origin: 'api' }, 'Urgent');
    const res = await call(a, 'POST', '/v1/threads', {
      customerIdentifier: { emailAddress: 'Contact@Hooli.com' },
      title: 'Contact form: cannot log in',
      message: {
        text: 'The login button does nothing.',
        attachments: [file('screen.png', 'png bytes', 'image/png'), file('setup.EXE', 'harmless'), file('notes.txt', Buffer.from([0x4d, 0x5a, 0x90, 0x00])), file('../../etc/passwd', 'root')],
      },
      labelTypeIds: [urgent.id],
      labelNames: ['Contact form', 'urgent'],
      externalId: 'form-1',
    });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    expect(body.thread).toMatchObject({ title: 'Contact form: cannot log in', status: 'TODO', customerId: customer.id, channel: 'API', externalId: 'form-1' });
    expect(body.message.text).toBe('The login button does nothing.');
    expect(body.message.attachments.map((x: any) => [x.fileName, x.status, x.code])).toEqual([
      ['screen.png', 'accepted', null],
      ['setup.EXE', 'rejected', 'attachment_file_type_not_allowed'],
      ['notes.txt', 'rejected', 'attachment_file_type_not_allowed'],
      ['passwd', 'accepted', null],
    ]);
    expect(body.message.attachments[1].reason).toBe('.exe files are not allowed');
    expect(body.labels.map((l: any) => l.name).sort()).toEqual(['Contact form', 'Urgent']);

    const thread = (await call(a, 'GET', `/v1/threads/${body.thread.id}`)).json().thread;
    expect(thread.entries).toHaveLength(1);
    expect(thread.entries[0]).toMatchObject({ kind: 'inbound_message', author: { type: 'customer', customerId: customer.id }, text: 'The login button does nothing.' });
    expect(thread.entries[0].attachments.map((x: any) => x.status)).toEqual(['accepted', 'rejected', 'rejected', 'accepted']);
    const accepted = thread.entries[0].attachments[0];
    const download = await call(a, 'GET', `/v1/attachments/${accepted.id}/content`);
    expect(download.statusCode).toBe(200);
    expect(download.rawPayload.toString()).toBe('png bytes');

    const events = await eventsAbout(a, body.thread.id);
    expect(events.map((e) => [e.type, e.origin])).toEqual([['thread.thread_created', 'api']]);
    const delivered = await deliveredInEveryVersion(events[0]!.id);
    expect(delivered.payload.thread).toMatchObject({ id: body.thread.id, externalId: 'form-1', channel: 'API', createdBy: { actorType: 'system', system: 'api' } });
    expect(delivered.payload.thread.labels.map((l: any) => l.labelType.name).sort()).toEqual(['Contact form', 'Urgent']);
    // Queued by the relay in the transaction that created the deliveries; it waits out its delay.
    await relayedAll();
    expect(await autoResponseJobs(body.thread.id)).toEqual([{ data: { workspaceId: a.workspace.id, threadId: body.thread.id } }]);
    await deleteAutoResponse({ db: db.pool, workspaceId: a.workspace.id }, rule.id);
  });

  it('answers a new API thread with the workspace’s API-channel auto-response, by email, once', async () => {
    await createAutoResponse({ db: db.pool, workspaceId: a.workspace.id }, { messageText: 'email only', channels: ['EMAIL'], order: 0 });
    await createAutoResponse({ db: db.pool, workspaceId: a.workspace.id }, { messageText: 'We got your form and will answer within a day.', channels: ['API'], order: 1 });
    const customer = await customerOf(a, 'form-sender@pied-piper.com');
    const res = await call(a, 'POST', '/v1/threads', { customerIdentifier: { customerId: customer.id }, title: 'Pricing question', message: { text: 'How much?' } });
    expect(res.statusCode, res.body).toBe(201);
    const threadId = res.json().thread.id;
    const deps: AutoResponderDeps = { pool: db.pool, transport, inboundDomain: INBOUND_DOMAIN, threadTokenKey: threadTokenKey(TEST_SECRETS_KEY), perCustomerWindowSeconds: 0 };
    expect(await autoRespondToThread(deps, { workspaceId: a.workspace.id, threadId })).toBe('sent');
    const mail = await simpleParser(smtp.received.at(-1)!.raw);
    expect(smtp.received.at(-1)!.rcptTo).toEqual(['form-sender@pied-piper.com']);
    expect(mail.subject).toBe('Re: Pricing question');
    expect(mail.text?.trim()).toBe('We got your form and will answer within a day.');
    expect(await autoRespondToThread(deps, { workspaceId: a.workspace.id, threadId })).toBe('skipped: already sent');

    // A workspace whose auto-responses are for email only leaves API threads unanswered.
    await createAutoResponse({ db: db.pool, workspaceId: b.workspace.id }, { messageText: 'email only', channels: ['EMAIL'] });
    const theirs = await customerOf(b, 'someone@pied-piper.com');
    const other = (await call(b, 'POST', '/v1/threads', { customerIdentifier: { customerId: theirs.id }, title: 'Hi', message: { text: 'Hello' } })).json().thread.id;
    expect(await autoRespondToThread(deps, { workspaceId: b.workspace.id, threadId: other })).toBe('skipped: no auto-response');
    // Nor does the relay queue a job for it: only for the thread a rule could answer.
    await relayedAll();
    expect(await autoResponseJobs(other)).toEqual([]);
    expect(await autoResponseJobs(threadId)).toHaveLength(1);
  });

  it('refuses what is over the count and size budgets with their codes, and still creates the thread', async () => {
    const customer = await customerOf(a, 'big@files.example.com');
    const mb = Buffer.alloc(1024 * 1024, 1);
    const sized = await call(a, 'POST', '/v1/threads', { customerIdentifier: { customerId: customer.id }, title: 'Big', message: { text: 'Files', attachments: Array.from({ length: 7 }, (_, i) => file(`part-${i}.bin.pdf`, mb)) } });
    expect(sized.statusCode, sized.body).toBe(201);
    expect(sized.json().message.attachments.map((x: any) => x.code)).toEqual([null, null, null, null, null, null, 'attachment_file_size_too_large']);
    const many = await call(a, 'POST', '/v1/threads', { customerIdentifier: { customerId: customer.id }, title: 'Many', message: { text: 'Files', attachments: Array.from({ length: 26 }, (_, i) => file(`f${i}.txt`, `file ${i}`)) } });
    expect(many.statusCode, many.body).toBe(201);
    const codes = many.json().message.attachments.map((x: any) => x.code);
    expect(codes.slice(0, 25).every((c: unknown) => c === null)).toBe(true);
    expect(codes[25]).toBe('attachment_count_exceeded');
  });

  it('refuses a second thread with the same externalId in the workspace (another workspace may use it)', async () => {
    const customer = await customerOf(a, 'dup@hooli.com');
    const body = { customerIdentifier: { customerId: customer.id }, title: 'Once', message: { text: 'Only once' }, externalId: 'order-77' };
    expect((await call(a, 'POST', '/v1/threads', body)).statusCode).toBe(201);
    const first = (await call(a, 'GET', `/v1/threads?customerId=${customer.id}`)).json().threads[0];
    const e = expectPlainError(await call(a, 'POST', '/v1/threads', body), 409, 'thread_already_exists_with_external_id');
    expect(e.fields[0]!.field).toBe('externalId');
    // The message names the thread, so a caller retrying its create can carry on with it.
    expect(e.message).toContain(first.id);
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM threads WHERE workspace_id = $1 AND external_id = 'order-77'`, [a.workspace.id]);
    expect(rows[0].n).toBe(1);
    const theirs = await customerOf(b, 'dup@hooli.com');
    expect((await call(b, 'POST', '/v1/threads', { ...body, customerIdentifier: { externalId: 'nope' } })).statusCode).toBe(404);
    expect((await call(b, 'POST', '/v1/threads', { ...body, customerIdentifier: { customerId: theirs.id } })).statusCode).toBe(201);
  });

  it('gives one of several concurrent creates with one externalId the thread, the others 409', async () => {
    const customer = await customerOf(a, 'race@hooli.com');
    const body = { customerIdentifier: { customerId: customer.id }, title: 'Racing', message: { text: 'Submitted twice' }, externalId: 'form-race' };
    const results = await Promise.all(Array.from({ length: 4 }, () => call(a, 'POST', '/v1/threads', body)));
    expect(results.map((r) => r.statusCode).sort()).toEqual([201, 409, 409, 409]);
    for (const r of results.filter((x) => x.statusCode === 409)) expect(r.json().error.code).toBe('thread_already_exists_with_external_id');
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM threads WHERE customer_id = $1`, [customer.id]);
    expect(rows[0].n).toBe(1);
  });

  it('takes a body over the API’s usual 1 MiB on this route only, up to its own limit', async () => {
    const customer = await customerOf(a, 'limits@hooli.com');
    const big = (mib: number) => ({ customerIdentifier: { customerId: customer.id }, title: 'Big', message: { text: 'x', attachments: [file('big.pdf', Buffer.alloc(mib * 1024 * 1024, 7))] } });
    expect((await call(a, 'POST', '/v1/threads', big(2))).statusCode).toBe(201);
    expectPlainError(await call(a, 'POST', '/v1/threads', big(10)), 413, 'payload_too_large');
    expectPlainError(await call(a, 'POST', '/v1/customers', { ...upsertBody('huge@hooli.com'), pad: 'x'.repeat(2 * 1024 * 1024) }), 413, 'payload_too_large');
  });

  it('answers bad input in Plain’s shape, naming each field, and creates nothing', async () => {
    const customer = await customerOf(a, 'bad-input@hooli.com');
    const count = async () => (await db.pool.query(`SELECT count(*)::int AS n FROM threads WHERE customer_id = $1`, [customer.id])).rows[0].n;
    let e = expectPlainError(await call(a, 'POST', '/v1/threads', { customerIdentifier: { customerId: customer.id }, message: { text: '' } }), 400, 'input_validation');
    expect(e.fields.map((f) => f.field).sort()).toEqual(['message.text', 'title']);
    e = expectPlainError(await call(a, 'POST', '/v1/threads', { customerIdentifier: { customerId: customer.id }, title: 'T', message: { text: 'x', attachments: [{ fileName: 'a.pdf', contentBase64: 'not base64!' }] } }), 400, 'input_validation');
    expect(e.fields[0]!.field).toBe('message.attachments.0.contentBase64');
    e = expectPlainError(await call(a, 'POST', '/v1/threads', { customerIdentifier: { customerId: customer.id }, title: 'T', message: { text: 'x' }, labelTypeIds: ['l_01JZZZZZZZZZZZZZZZZZZZZZZZ'] }), 400, 'input_validation');
    expect(e.fields).toEqual([expect.objectContaining({ field: 'labelTypeIds.0', type: 'NOT_FOUND' })]);
    e = expectPlainError(await call(a, 'POST', '/v1/threads', { customerIdentifier: { emailAddress: 'nobody@hooli.com' }, title: 'T', message: { text: 'x' } }), 404, 'not_found');
    expect(e.fields[0]).toMatchObject({ field: 'customerIdentifier.emailAddress', type: 'NOT_FOUND' });
    expect(await count()).toBe(0);
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM labels WHERE workspace_id = $1 AND name = 'never'`, [a.workspace.id])).rows[0].n).toBe(0);
  });

  it('never uses another workspace’s customer or label', async () => {
    const theirs = await customerOf(b, 'private@globex.com');
    const { label } = await findOrCreateLabel({ db: db.pool, workspaceId: b.workspace.id, origin: 'api' }, 'Their label');
    const e = expectPlainError(await call(a, 'POST', '/v1/threads', { customerIdentifier: { customerId: theirs.id }, title: 'Steal', message: { text: 'x' } }), 404, 'not_found');
    expect(e.fields[0]!.field).toBe('customerIdentifier.customerId');
    const mine = await customerOf(a, 'mine@globex.com');
    const labelled = expectPlainError(await call(a, 'POST', '/v1/threads', { customerIdentifier: { customerId: mine.id }, title: 'T', message: { text: 'x' }, labelTypeIds: [label.id] }), 400, 'input_validation');
    expect(labelled.fields[0]).toMatchObject({ field: 'labelTypeIds.0', type: 'NOT_FOUND' });
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM threads WHERE customer_id = ANY($1)`, [[theirs.id, mine.id]]);
    expect(rows[0].n).toBe(0);
  });
});

async function apiThread(ws: Creds, email: string) {
  const customer = await customerOf(ws, email);
  const res = await call(ws, 'POST', '/v1/threads', { customerIdentifier: { customerId: customer.id }, title: `Thread of ${email}`, message: { text: 'Hello' } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().thread as { id: string; status: string };
}

describe('POST /v1/threads/:id/notes', () => {
  it('adds a note entry and fires thread.note_created', async () => {
    const thread = await apiThread(a, 'noted@hooli.com');
    const res = await call(a, 'POST', `/v1/threads/${thread.id}/notes`, { text: '  Customer is on the enterprise plan.  ' });
    expect(res.statusCode, res.body).toBe(201);
    const { note } = res.json();
    expect(note).toMatchObject({ threadId: thread.id, text: 'Customer is on the enterprise plan.' });
    const entries = (await call(a, 'GET', `/v1/threads/${thread.id}`)).json().thread.entries;
    expect(entries.map((e: any) => [e.kind, e.author.type])).toEqual([['inbound_message', 'customer'], ['note', 'system']]);
    const events = (await eventsAbout(a, note.id)).filter((e) => e.type === 'thread.note_created');
    expect(events.map((e) => e.origin)).toEqual(['api']);
    const body = await deliveredInEveryVersion(events[0]!.id);
    expect(body.payload.note).toMatchObject({ id: note.id, timelineEntryId: note.id, text: 'Customer is on the enterprise plan.', markdown: null, createdBy: { actorType: 'system', system: 'api' } });
    expect(body.payload.thread.id).toBe(thread.id);
  });

  it('refuses an empty or over-long note, and another workspace’s or an unknown thread (404)', async () => {
    const thread = await apiThread(a, 'notes-bad@hooli.com');
    let e = expectPlainError(await call(a, 'POST', `/v1/threads/${thread.id}/notes`, { text: '   ' }), 400, 'input_validation');
    expect(e.fields[0]!.field).toBe('text');
    e = expectPlainError(await call(a, 'POST', `/v1/threads/${thread.id}/notes`, { text: 'x'.repeat(5001) }), 400, 'input_validation');
    expect(e.fields[0]!.field).toBe('text');
    const theirs = await apiThread(b, 'notes-theirs@hooli.com');
    expectPlainError(await call(a, 'POST', `/v1/threads/${theirs.id}/notes`, { text: 'Peeking' }), 404, 'not_found');
    expectPlainError(await call(a, 'POST', '/v1/threads/th_01JZZZZZZZZZZZZZZZZZZZZZZZ/notes', { text: 'Nobody' }), 404, 'not_found');
    const notes = await db.pool.query(`SELECT count(*)::int AS n FROM timeline_entries WHERE thread_id = ANY($1) AND kind = 'note'`, [[thread.id, theirs.id]]);
    expect(notes.rows[0].n).toBe(0);
  });
});

describe('PATCH /v1/threads/:id', () => {
  it('moves the status, fires thread.thread_status_transitioned once per change, nothing for the same status', async () => {
    const thread = await apiThread(a, 'status@hooli.com');
    const done = await call(a, 'PATCH', `/v1/threads/${thread.id}`, { status: 'DONE' });
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json().thread).toMatchObject({ id: thread.id, status: 'DONE' });
    const again = await call(a, 'PATCH', `/v1/threads/${thread.id}`, { status: 'DONE' });
    expect(again.json().thread.status).toBe('DONE');
    const snoozed = await call(a, 'PATCH', `/v1/threads/${thread.id}`, { status: 'SNOOZED' });
    expect(snoozed.json().thread.status).toBe('SNOOZED');
    const transitions = (await eventsAbout(a, thread.id)).filter((e) => e.type === 'thread.thread_status_transitioned');
    expect(transitions.map((e) => [e.origin, e.payload.previousStatus, e.payload.status])).toEqual([['api', 'TODO', 'DONE'], ['api', 'DONE', 'SNOOZED']]);
    const body = await deliveredInEveryVersion(transitions[0]!.id);
    expect(body.payload.previousThread.status).toBe('TODO');
    expect(body.payload.thread).toMatchObject({ status: 'DONE', statusChangedBy: { actorType: 'system', system: 'api' } });
  });

  it('refuses an unknown status and another workspace’s thread, changing nothing', async () => {
    const mine = await apiThread(a, 'status-bad@hooli.com');
    const e = expectPlainError(await call(a, 'PATCH', `/v1/threads/${mine.id}`, { status: 'CLOSED' }), 400, 'input_validation');
    expect(e.fields[0]!.field).toBe('status');
    const theirs = await apiThread(b, 'status-theirs@hooli.com');
    expectPlainError(await call(a, 'PATCH', `/v1/threads/${theirs.id}`, { status: 'DONE' }), 404, 'not_found');
    expect((await call(b, 'GET', `/v1/threads/${theirs.id}`)).json().thread.status).toBe('TODO');
    expect((await eventsAbout(b, theirs.id)).filter((x) => x.type === 'thread.thread_status_transitioned')).toEqual([]);
  });
});
