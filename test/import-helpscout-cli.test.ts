import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openConnection } from '../src/import/connections.ts';
import { executeRun } from '../src/import/execute-run.ts';
import { runCli } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { DEFAULT_HELPSCOUT_APP, generateHelpScout, startFakeHelpScout, type FakeHelpScout } from './support/fake-provider/index.ts';
import { connectHelpScout } from './support/helpscout-imports.ts';
import { canonicalDump, eventsOut, executeDeps, runImport, startImportApi } from './support/imports.ts';
import { committedPages, expectKillsToEndEqual, runAndKill } from './support/kill-points.ts';
import { makeWorkspace, TEST_SECRETS_KEY } from './support/workspaces.ts';

/**
 * Help Scout through the generic entry points: `intake import connect helpscout` as the real
 * command (also killed with SIGKILL part-way and restarted), and POST /v1/import-connections.
 */

let db: TestDatabase;
let fake: FakeHelpScout;
let fixtures: FakeHelpScout;
let dataDir: string;
let reference: Awaited<ReturnType<typeof canonicalDump>>;
let referencePages = 0;
const MAILBOXES = ['900', '901'];

beforeAll(async () => {
  db = await createTestDatabase();
  dataDir = await mkdtemp(path.join(tmpdir(), 'intake-helpscout-'));
  fake = await startFakeHelpScout({ rateLimit: false, data: generateHelpScout({ customers: 300, conversations: 240, threadsPerConversation: 3, attachments: 30, seed: 7 }) });
  // Small pages: many of them, so kills land between pages.
  fake.state.pageSizes = { customers: 20, conversations: 10, threads: 25, mailboxes: 50 };
  fixtures = await startFakeHelpScout({ rateLimit: false });
  const { workspace } = await makeWorkspace(db.pool, 'Reference', 'help@reference.test');
  const connection = await connectHelpScout(db.pool, workspace.id, fake.url, { mailboxIds: MAILBOXES.map(Number) });
  expect((await runImport(db.pool, connection.id)).outcome.status).toBe('succeeded');
  reference = await canonicalDump(db.pool, workspace.id);
  referencePages = (await committedPages(db.pool, workspace.id, 'conversations')).pages;
}, 120_000);

afterAll(async () => {
  await fake?.close();
  await fixtures?.close();
  await db?.close();
  await rm(dataDir, { recursive: true, force: true });
});

const env = (extra: Record<string, string> = {}) => ({
  DATABASE_URL: db.url,
  DATA_DIR: dataDir,
  SECRETS_KEY: TEST_SECRETS_KEY.toString('hex'),
  IMPORT_LEASE_SECONDS: '1.5',
  LOG_LEVEL: 'silent',
  HELPSCOUT_APP_SECRET: DEFAULT_HELPSCOUT_APP.appSecret,
  ...extra,
});
const connectArgs = (workspaceId: string, ...more: string[]) => [
  'import', 'connect', 'helpscout', '--workspace', workspaceId, '--app-id', DEFAULT_HELPSCOUT_APP.appId,
  '--mailbox', MAILBOXES[0]!, '--mailbox', MAILBOXES[1]!, '--base-url', fake.url, ...more,
];

describe('intake import connect helpscout', () => {
  it('--once --json imports in the foreground with the secret from the environment; again, it creates nothing', async () => {
    const { workspace } = await makeWorkspace(db.pool, 'Cli', 'help@cli.test');
    const first = await runCli(connectArgs(workspace.id, '--once', '--json'), env(), 120_000);
    expect(first.code, first.stderr).toBe(0);
    const out = JSON.parse(first.stdout);
    expect(out).toMatchObject({ status: 'succeeded', recordErrors: 0, error: null });
    expect(out.streams.conversations.created).toBe(reference.totals.threads);
    expect(await canonicalDump(db.pool, workspace.id)).toEqual(reference);
    // The account is the company users/me reports; both mailboxes kept; the secret sealed with the token.
    const { rows } = await db.pool.query(`SELECT id, account, settings, credentials_encrypted FROM import_connections WHERE workspace_id = $1`, [workspace.id]);
    expect(rows).toEqual([expect.objectContaining({ account: '4242', settings: { baseUrl: fake.url, mailboxIds: [900, 901] } })]);
    expect(rows[0].credentials_encrypted).not.toContain(DEFAULT_HELPSCOUT_APP.appSecret);
    expect((await openConnection(db.pool, TEST_SECRETS_KEY, rows[0].id))!.credentials).toMatchObject({ appId: DEFAULT_HELPSCOUT_APP.appId, appSecret: DEFAULT_HELPSCOUT_APP.appSecret });

    const second = await runCli(connectArgs(workspace.id, '--once', '--json'), env(), 120_000);
    expect(second.code, second.stderr).toBe(0);
    const again = JSON.parse(second.stdout);
    expect(again.connectionId).toBe(out.connectionId);
    for (const c of Object.values(again.streams) as Array<{ created: number; linked: number }>) expect(c.created + c.linked).toBe(0);
    expect(await eventsOut(db.pool)).toEqual({ events: 0, deliveries: 0, auto_responses: 0 });
  }, 180_000);

  it('a missing secret names its variable; a refused one gives Help Scout\'s words; nothing is saved', async () => {
    const { workspace } = await makeWorkspace(db.pool, 'Bad', 'help@bad.test');
    const missing = await runCli(connectArgs(workspace.id), env({ HELPSCOUT_APP_SECRET: '' }));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('Missing Help Scout credentials (credentials: the app secret: set HELPSCOUT_APP_SECRET)\n');
    const refused = await runCli(connectArgs(workspace.id), env({ HELPSCOUT_APP_SECRET: 'not-the-secret' }));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe('helpscout refused these credentials (credentials: invalid_client: Bad client credentials)\n');
    const unknownMailbox = await runCli([...connectArgs(workspace.id), '--mailbox', 'inbox'], env());
    expect(unknownMailbox.code).toBe(2);
    expect(unknownMailbox.stderr).toContain('settings.mailboxIds.2');
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM import_connections WHERE workspace_id = $1', [workspace.id]);
    expect(rows[0].n).toBe(0);
  }, 60_000);

  it("killed with SIGKILL at seeded points and restarted: the final data equals an uninterrupted run's", async () => {
    await expectKillsToEndEqual({
      db: db.pool,
      trials: 3,
      lastStream: 'conversations',
      referencePages,
      reference,
      workspace: async (trial) => (await makeWorkspace(db.pool, `Kill ${trial}`, `help@kill${trial}.test`)).workspace.id,
      run: (workspaceId, killWhen) => runAndKill(connectArgs(workspaceId, '--once', '--json'), env(), killWhen),
      dump: (workspaceId) => canonicalDump(db.pool, workspaceId),
    });
  }, 300_000);
});

describe('POST /v1/import-connections with provider helpscout', () => {
  let importApi: Awaited<ReturnType<typeof startImportApi>>;
  let app: FastifyInstance;
  beforeAll(async () => {
    importApi = await startImportApi(db);
    app = importApi.app;
  }, 60_000);
  afterAll(async () => importApi?.close());
  const api = async (apiKey: string, method: 'GET' | 'POST', url: string, payload?: unknown) => {
    const res = await app.inject({ method, url, headers: { authorization: `Bearer ${apiKey}` }, ...(payload === undefined ? {} : { payload: payload as object }) });
    return { status: res.statusCode, text: res.body, body: res.body ? JSON.parse(res.body) : undefined };
  };

  it('connects (checked with Help Scout, secret sealed, never shown), runs, and shows a connection that needs attention in Help Scout\'s words', async () => {
    const { apiKey } = await makeWorkspace(db.pool, 'Api', 'help@api.test');
    const credentials = { appId: DEFAULT_HELPSCOUT_APP.appId, appSecret: DEFAULT_HELPSCOUT_APP.appSecret };
    const refused = await api(apiKey, 'POST', '/v1/import-connections', { provider: 'helpscout', credentials: { ...credentials, appSecret: 'nope' }, settings: { baseUrl: fixtures.url } });
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({
      error: { message: 'helpscout refused these credentials', type: 'VALIDATION', code: 'input_validation', fields: [{ field: 'credentials', message: 'invalid_client: Bad client credentials', type: 'VALIDATION' }] },
    });
    const badSettings = await api(apiKey, 'POST', '/v1/import-connections', { provider: 'helpscout', credentials, settings: { mailboxIds: [101, 101] } });
    expect(badSettings.status).toBe(400);
    expect(badSettings.body.error.fields).toEqual([{ field: 'settings.mailboxIds', message: 'must not repeat a mailbox', type: 'VALIDATION' }]);

    const created = await api(apiKey, 'POST', '/v1/import-connections', { provider: 'helpscout', credentials, settings: { baseUrl: fixtures.url } });
    expect(created.status).toBe(201);
    const conn = created.body.importConnection;
    expect(conn).toMatchObject({ provider: 'helpscout', account: '777', status: 'active', credentials: { type: 'client_credentials', appId: DEFAULT_HELPSCOUT_APP.appId } });
    expect(created.text).not.toContain(DEFAULT_HELPSCOUT_APP.appSecret);
    expect(created.text).not.toContain('hs-token-');

    // The queued first run, executed here as the job worker would.
    expect(await executeRun(executeDeps(db.pool), conn.latestRun.id)).toEqual({ status: 'succeeded' });
    const run = (await api(apiKey, 'GET', `/v1/import-runs/${conn.latestRun.id}`)).body.importRun;
    expect(run).toMatchObject({ kind: 'full', status: 'succeeded', recordErrors: { total: 2 } });
    expect(run.streams.conversations).toEqual({ created: 8, linked: 0, skipped: 2, failed: 1 });

    // Help Scout stops the API for the account: the next run stops, the connection says why.
    fixtures.state.forbidden = { message: 'API not enabled' };
    try {
      const next = await api(apiKey, 'POST', `/v1/import-connections/${conn.id}/runs`);
      expect(next.status).toBe(201);
      expect(await executeRun(executeDeps(db.pool), next.body.importRun.id)).toMatchObject({ status: 'needs_reauth' });
      const shown = (await api(apiKey, 'GET', `/v1/import-connections/${conn.id}`)).body.importConnection;
      expect(shown).toMatchObject({ status: 'needs_reauth', lastError: expect.stringMatching(/^API not enabled \(logRef [0-9a-f-]+\)$/) });
    } finally {
      fixtures.state.forbidden = null;
    }
  }, 60_000);
});
