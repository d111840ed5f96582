import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOrCreateCustomerByEmail } from '../src/domain/customers.ts';
import { checkConnectionInput } from '../src/import/connect.ts';
import { IMPORT_ADAPTERS } from '../importers/index.ts';
import { runCli, startIntake, type RunningIntake } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { DEFAULT_ZENDESK_AUTH, startFakeProvider, type FakeProvider } from './support/fake-provider/index.ts';
import { canonicalDump, eventsOut } from './support/imports.ts';
import { startSmtpSink } from './support/smtp-sink.ts';
import { startWebhookReceiver } from './support/webhook-receiver.ts';
import { makeWorkspace, TEST_SECRETS_KEY } from './support/workspaces.ts';

/** The import through the API of a real `intake start` process: its job worker, scheduler, relay and auto-responder all live. */

let db: TestDatabase;
let fake: FakeProvider;
let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
let smtp: Awaited<ReturnType<typeof startSmtpSink>>;
let dataDir: string;
let intake: RunningIntake;
let other: RunningIntake | undefined;

beforeAll(async () => {
  db = await createTestDatabase();
  fake = await startFakeProvider({ rateLimit: false });
  receiver = await startWebhookReceiver();
  smtp = await startSmtpSink();
  dataDir = await mkdtemp(path.join(tmpdir(), 'intake-import-api-'));
  intake = await startIntake(serviceEnv());
}, 120_000);

afterAll(async () => {
  for (const p of [intake, other]) {
    p?.child.kill('SIGTERM');
    await p?.exited;
  }
  await fake?.close();
  await receiver?.close();
  await smtp?.close();
  await db?.close();
  await rm(dataDir, { recursive: true, force: true });
});

function serviceEnv() {
  return {
    DATABASE_URL: db.url,
    DATA_DIR: dataDir,
    SECRETS_KEY: TEST_SECRETS_KEY.toString('hex'),
    WEBHOOK_ALLOW_PRIVATE: '1',
    IMPORT_ALLOW_PRIVATE: '1',
    SMTP_URL: smtp.url,
    AUTO_RESPONSE_DELAY_SECONDS: '0',
    IMPORT_SCHEDULER_SECONDS: '0.3',
    IMPORT_LEASE_SECONDS: '2',
  };
}

async function api(apiKey: string, method: string, url: string, body?: unknown) {
  const res = await fetch(`${intake.url}${url}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, body: text ? JSON.parse(text) : undefined };
}

const credentials = { email: DEFAULT_ZENDESK_AUTH.email, apiToken: DEFAULT_ZENDESK_AUTH.apiToken };

async function waitForRun(apiKey: string, runId: string, timeoutMs = 30_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await api(apiKey, 'GET', `/v1/import-runs/${runId}`);
    if (['succeeded', 'failed', 'needs_reauth', 'cancelled'].includes(body.importRun.status)) return body.importRun;
    if (Date.now() > until) throw new Error(`run ${runId} still ${body.importRun.status}`);
    await sleep(100);
  }
}

describe('import connections API', () => {
  it('refuses bad input with Plain-shaped errors, saving nothing', async () => {
    const { apiKey } = await makeWorkspace(db.pool, 'Refusals', 'help@refusals.test');
    const wrongToken = await api(apiKey, 'POST', '/v1/import-connections', { provider: 'zendesk', credentials: { ...credentials, apiToken: 'nope' }, settings: { subdomain: 'acme', baseUrl: fake.url } });
    expect(wrongToken.status).toBe(400);
    expect(wrongToken.body).toEqual({
      error: { message: 'zendesk refused these credentials', type: 'VALIDATION', code: 'input_validation', fields: [{ field: 'credentials', message: "Couldn't authenticate you", type: 'VALIDATION' }] },
    });
    const badSubdomain = await api(apiKey, 'POST', '/v1/import-connections', { provider: 'zendesk', credentials, settings: { subdomain: 'evil.com/x?' } });
    expect(badSubdomain.status).toBe(400);
    expect(badSubdomain.body.error.fields.map((f: { field: string }) => f.field)).toEqual(['settings.subdomain']);
    const noEmail = await api(apiKey, 'POST', '/v1/import-connections', { provider: 'zendesk', credentials: { apiToken: 'x' }, settings: { subdomain: 'acme' } });
    expect(noEmail.status).toBe(400);
    expect(noEmail.body.error.code).toBe('input_validation');
    const unknown = await api(apiKey, 'POST', '/v1/import-connections', { provider: 'freshdesk', credentials: {}, settings: {} });
    expect(unknown.body.error.fields).toEqual([{ field: 'provider', message: `must be one of: ${Object.keys(IMPORT_ADAPTERS).join(', ')}`, type: 'VALIDATION' }]);
    expect(unknown.body.error.fields[0].message).toMatch(/\bzendesk\b/);
    const unreachable = await api(apiKey, 'POST', '/v1/import-connections', { provider: 'zendesk', credentials, settings: { subdomain: 'acme', baseUrl: 'http://127.0.0.1:9' } });
    expect(unreachable.status).toBe(503);
    expect(unreachable.body.error.code).toBe('service_unavailable');
    const list = await api(apiKey, 'GET', '/v1/import-connections');
    expect(list.body.importConnections).toEqual([]);
    expect((await api(apiKey, 'GET', '/v1/import-runs/ir_01J0000000000000000000000')).body.error.code).toBe('not_found');
  });

  it('a base URL must be public https unless private addresses are allowed', async () => {
    const refused = checkConnectionInput(IMPORT_ADAPTERS, { provider: 'zendesk', credentials, settings: { subdomain: 'acme', baseUrl: fake.url }, scheduleSeconds: 300 }, { allowPrivate: false, userAgent: 't' });
    await expect(refused).rejects.toMatchObject({ fields: [{ field: 'settings.baseUrl', message: 'must be an https URL', type: 'VALIDATION' }] });
    const metadata = checkConnectionInput(IMPORT_ADAPTERS, { provider: 'zendesk', credentials, settings: { subdomain: 'acme', baseUrl: 'https://169.254.169.254' }, scheduleSeconds: 300 }, { allowPrivate: false, userAgent: 't' });
    await expect(metadata).rejects.toMatchObject({ fields: [{ field: 'settings.baseUrl', message: expect.stringContaining('public addresses') }] });
  });

  it('connects, imports silently (no webhook, no auto-response), runs again on demand and on schedule, disconnects keeping the data', async () => {
    const { workspace, apiKey } = await makeWorkspace(db.pool, 'Acme', 'help@acme.test');
    const target = await api(apiKey, 'POST', '/v1/webhook-targets', { url: `${receiver.url}/ok/acme`, eventTypes: ['customer.customer_created', 'thread.thread_created', 'thread.email_received'] });
    expect(target.status).toBe(201);
    expect((await api(apiKey, 'POST', '/v1/auto-responses', { messageText: 'We got your message.' })).status).toBe(201);

    const created = await api(apiKey, 'POST', '/v1/import-connections', { provider: 'zendesk', credentials, settings: { subdomain: 'acme', baseUrl: fake.url }, schedule: { everyMinutes: 10 } });
    expect(created.status).toBe(201);
    const conn = created.body.importConnection;
    expect(conn).toMatchObject({ provider: 'zendesk', account: 'acme', status: 'active', credentials: { type: 'api_token', email: credentials.email }, schedule: { everyMinutes: 10 } });
    expect(created.text).not.toContain(credentials.apiToken);
    const sealed = await db.pool.query('SELECT credentials_encrypted FROM import_connections WHERE id = $1', [conn.id]);
    expect(sealed.rows[0].credentials_encrypted).not.toContain(credentials.apiToken);

    const first = await waitForRun(apiKey, conn.latestRun.id);
    expect(first).toMatchObject({ kind: 'full', status: 'succeeded', recordErrors: { total: 0, items: [] } });
    expect(first.streams.tickets).toEqual({ created: 8, linked: 0, skipped: 1, failed: 0 });
    expect(first.streams.comments).toEqual({ created: 18, linked: 0, skipped: 0, failed: 0 });
    expect((await api(apiKey, 'GET', `/v1/threads?first=50`)).body.threads).toHaveLength(8);

    const again = await api(apiKey, 'POST', '/v1/import-connections', { provider: 'zendesk', credentials, settings: { subdomain: 'acme', baseUrl: fake.url } });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('conflict');

    // On demand: an incremental run that finds one new comment.
    fake.state.addComment(102, { author_id: 360011, body: 'One more thing about the refund.' });
    const onDemand = await api(apiKey, 'POST', `/v1/import-connections/${conn.id}/runs`);
    expect(onDemand.status).toBe(201);
    const second = await waitForRun(apiKey, onDemand.body.importRun.id);
    expect(second).toMatchObject({ kind: 'incremental', status: 'succeeded' });
    expect(second.streams.comments.created).toBe(1);

    // On schedule: the next run is due in 10 minutes; make it due now and the scheduler starts it.
    const shown = (await api(apiKey, 'GET', `/v1/import-connections/${conn.id}`)).body.importConnection;
    expect(Date.parse(shown.nextRunAt) - Date.now()).toBeGreaterThan(9 * 60_000);
    fake.state.addTicket({ requester_id: 360014, subject: 'Scheduled pick-up' });
    await db.pool.query('UPDATE import_connections SET next_run_at = now() WHERE id = $1', [conn.id]);
    let third;
    for (let i = 0; i < 100; i++) {
      const latest = (await api(apiKey, 'GET', `/v1/import-connections/${conn.id}`)).body.importConnection.latestRun;
      if (latest.id !== second.id) {
        third = await waitForRun(apiKey, latest.id);
        break;
      }
      await sleep(100);
    }
    expect(third).toMatchObject({ kind: 'incremental', status: 'succeeded' });
    expect(third.streams.tickets.created).toBe(1);

    // Silence: imports write no events in the transactions that write their rows, so the outbox,
    // and with it every delivery and auto-response, is empty once the runs have ended...
    expect(await eventsOut(db.pool)).toEqual({ events: 0, deliveries: 0, auto_responses: 0 });
    expect(receiver.received).toHaveLength(0);
    expect(smtp.received).toHaveLength(0);
    // ...while the same workspace's live data does fire: the webhook machinery was listening.
    await findOrCreateCustomerByEmail({ db: db.pool, workspaceId: workspace.id, origin: 'api' }, { email: 'live@customer.test' });
    for (let i = 0; i < 100 && receiver.received.length === 0; i++) await sleep(100);
    expect(receiver.received.map((r) => JSON.parse(r.body).type)).toEqual(['customer.customer_created']);

    const disconnected = await api(apiKey, 'DELETE', `/v1/import-connections/${conn.id}`);
    expect(disconnected.body.importConnection.status).toBe('disconnected');
    expect((await api(apiKey, 'POST', `/v1/import-connections/${conn.id}/runs`)).status).toBe(409);
    expect((await api(apiKey, 'GET', `/v1/threads?first=50`)).body.threads).toHaveLength(9);

    // Another workspace sees none of it.
    const stranger = await makeWorkspace(db.pool, 'Stranger', 'help@stranger.test');
    expect((await api(stranger.apiKey, 'GET', `/v1/import-runs/${first.id}`)).status).toBe(404);
    expect((await api(stranger.apiKey, 'GET', `/v1/import-connections/${conn.id}`)).status).toBe(404);
  }, 120_000);

  it('401 mid-way marks the connection needs_reauth with Zendesk\'s message; new credentials through PATCH make it active again', async () => {
    const { apiKey } = await makeWorkspace(db.pool, 'Reauth', 'help@reauth.test');
    const created = await api(apiKey, 'POST', '/v1/import-connections', { provider: 'zendesk', credentials, settings: { subdomain: 'reauth', baseUrl: fake.url } });
    const conn = created.body.importConnection;
    await waitForRun(apiKey, conn.latestRun.id);
    fake.state.auth = { ...DEFAULT_ZENDESK_AUTH, apiToken: 'rotated-token' };
    try {
      const run = await api(apiKey, 'POST', `/v1/import-connections/${conn.id}/runs`);
      const ended = await waitForRun(apiKey, run.body.importRun.id);
      expect(ended).toMatchObject({ status: 'needs_reauth', error: "Couldn't authenticate you" });
      expect((await api(apiKey, 'GET', `/v1/import-connections/${conn.id}`)).body.importConnection).toMatchObject({ status: 'needs_reauth', lastError: "Couldn't authenticate you" });
      expect((await api(apiKey, 'POST', `/v1/import-connections/${conn.id}/runs`)).status).toBe(409);
      const patched = await api(apiKey, 'PATCH', `/v1/import-connections/${conn.id}`, { credentials: { ...credentials, apiToken: 'rotated-token' } });
      expect(patched.status).toBe(200);
      expect(patched.body.importConnection).toMatchObject({ status: 'active', lastError: null });
      // Scheduled runs resume too.
      expect(patched.body.importConnection.nextRunAt).not.toBeNull();
      const retried = await api(apiKey, 'POST', `/v1/import-connections/${conn.id}/runs`);
      expect((await waitForRun(apiKey, retried.body.importRun.id)).status).toBe('succeeded');
    } finally {
      fake.state.auth = { ...DEFAULT_ZENDESK_AUTH };
    }
  }, 60_000);

  it('intake import zendesk without --once queues the run for the running service', async () => {
    const { workspace, apiKey } = await makeWorkspace(db.pool, 'Queued', 'help@queued.test');
    const args = ['import', 'zendesk', '--workspace', workspace.id, '--subdomain', 'queued', '--email', credentials.email, '--base-url', fake.url, '--json'];
    const queued = await runCli(args, { ...serviceEnv(), ZENDESK_API_TOKEN: credentials.apiToken });
    expect(queued.code, queued.stderr).toBe(0);
    const out = JSON.parse(queued.stdout);
    expect(out).toMatchObject({ connectionId: expect.stringMatching(/^ic_/), runId: expect.stringMatching(/^ir_/), status: 'queued' });
    expect((await waitForRun(apiKey, out.runId)).status).toBe('succeeded');
  }, 60_000);

  it('two service processes share the scheduler: one run at a time per connection, no duplicates', async () => {
    other = await startIntake(serviceEnv());
    const { workspace, apiKey } = await makeWorkspace(db.pool, 'Pair', 'help@pair.test');
    const created = await api(apiKey, 'POST', '/v1/import-connections', { provider: 'zendesk', credentials, settings: { subdomain: 'pair', baseUrl: fake.url } });
    const conn = created.body.importConnection;
    await waitForRun(apiKey, conn.latestRun.id);
    const expected = await canonicalDump(db.pool, workspace.id);
    // Make the connection due again and again: both schedulers see it every 300 ms.
    for (let i = 0; i < 5; i++) {
      await db.pool.query('UPDATE import_connections SET next_run_at = now() WHERE id = $1', [conn.id]);
      await sleep(700);
    }
    for (let i = 0; i < 100; i++) {
      const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM import_runs WHERE connection_id = $1 AND status IN ('queued', 'running', 'waiting')`, [conn.id]);
      if (rows[0].n === 0) break;
      await sleep(100);
    }
    const { rows: runs } = await db.pool.query(`SELECT status, started_at, finished_at FROM import_runs WHERE connection_id = $1 ORDER BY started_at`, [conn.id]);
    expect(runs.length).toBeGreaterThan(2);
    expect(runs.every((r) => r.status === 'succeeded')).toBe(true);
    // Never two at once.
    for (let i = 1; i < runs.length; i++) expect(runs[i].started_at.getTime()).toBeGreaterThanOrEqual(runs[i - 1].finished_at.getTime());
    expect(await canonicalDump(db.pool, workspace.id)).toEqual(expected);
  }, 60_000);
});
