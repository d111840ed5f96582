import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMPORT_ADAPTERS } from '../importers/index.ts';
import { checkConnectionInput } from '../src/import/connect.ts';
import { openConnection } from '../src/import/connections.ts';
import { executeRun } from '../src/import/execute-run.ts';
import { runCli } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { FAKE_ORG_ID, generateSalesforce, startFakeSalesforce, type FakeSalesforce } from './support/fake-provider/index.ts';
import { connectSalesforce, salesforceCredentials, salesforceDump } from './support/fake-provider/salesforce-connection.ts';
import { executeDeps, runImport, startImportApi } from './support/imports.ts';
import { committedPages, expectKillsToEndEqual, runAndKill } from './support/kill-points.ts';
import { makeWorkspace, TEST_SECRETS_KEY } from './support/workspaces.ts';

/**
 * Salesforce through the generic entry points and real processes: `intake import connect
 * salesforce` (secrets from the environment), `POST /v1/import-connections`, and the command
 * killed with SIGKILL at seeded random points and started again, against the fake Salesforce.
 */

let db: TestDatabase;
let fake: FakeSalesforce;
let dataDir: string;
let reference: Awaited<ReturnType<typeof salesforceDump>>;
let referencePages = 0;
const CONTACTS = 600;

beforeAll(async () => {
  db = await createTestDatabase();
  dataDir = await mkdtemp(path.join(tmpdir(), 'intake-salesforce-'));
  // Pages of 20: 30 of them, bulk-load groups of 50 contacts at one SystemModstamp across their edges.
  fake = await startFakeSalesforce({ data: generateSalesforce({ contacts: CONTACTS, accounts: 40, seed: 3 }), pageSize: 20 });
  const { workspace } = await makeWorkspace(db.pool, 'Reference', 'help@reference.test');
  const connection = await connectSalesforce(db.pool, workspace.id, fake);
  expect((await runImport(db.pool, connection.id)).outcome.status).toBe('succeeded');
  reference = await salesforceDump(db.pool, workspace.id);
  referencePages = (await committedPages(db.pool, workspace.id, 'contacts')).pages;
}, 120_000);

afterAll(async () => {
  await fake?.close();
  await db?.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** No Salesforce secret unless a test puts one there (the developer's own must not leak in). */
const env = (extra: Record<string, string> = {}) => ({
  DATABASE_URL: db.url,
  DATA_DIR: dataDir,
  SECRETS_KEY: TEST_SECRETS_KEY.toString('hex'),
  IMPORT_LEASE_SECONDS: '1.5',
  LOG_LEVEL: 'silent',
  SALESFORCE_CLIENT_SECRET: fake.state.app.clientSecret,
  SALESFORCE_REFRESH_TOKEN: salesforceCredentials(fake).refreshToken,
  ...extra,
});
const connectArgs = (workspaceId: string, ...more: string[]) => [
  'import', 'connect', 'salesforce', '--workspace', workspaceId, '--login-url', fake.loginUrl, '--client-id', fake.state.app.clientId, ...more,
];

describe('intake import connect salesforce', () => {
  it('--help names the Salesforce options and secrets', async () => {
    const help = await runCli(['import', 'connect', 'salesforce', '--help'], env());
    expect(help.code).toBe(0);
    for (const text of ['--login-url <url>', '--login-host <host>', '--client-id <id>', '--api-version <version>', '--max-api-usage <percent>', '--max-calls-per-run <n>', 'SALESFORCE_CLIENT_SECRET', 'SALESFORCE_REFRESH_TOKEN']) {
      expect(help.stdout).toContain(text);
    }
  });

  it('--once --json imports the org with the secrets from the environment; again, nothing new; the org id is the account', async () => {
    const { workspace } = await makeWorkspace(db.pool, 'Cli', 'help@cli.test');
    const first = await runCli(connectArgs(workspace.id, '--api-version', '62.0', '--once', '--json'), env(), 120_000);
    expect(first.code, first.stderr).toBe(0);
    const out = JSON.parse(first.stdout);
    expect(out).toMatchObject({ status: 'succeeded', recordErrors: 0, error: null });
    expect(out.streams.contacts.created + out.streams.contacts.linked).toBe(CONTACTS);
    expect(await salesforceDump(db.pool, workspace.id)).toEqual(reference);
    const { rows } = await db.pool.query('SELECT account, settings FROM import_connections WHERE id = $1', [out.connectionId]);
    expect(rows[0]).toEqual({ account: FAKE_ORG_ID, settings: { loginUrl: fake.loginUrl, apiVersion: 'v62.0' } });
    // The secrets are sealed, never in the settings.
    const opened = await openConnection(db.pool, TEST_SECRETS_KEY, out.connectionId);
    expect(opened!.credentials).toEqual(salesforceCredentials(fake));

    const second = JSON.parse((await runCli(connectArgs(workspace.id, '--once', '--json'), env(), 120_000)).stdout);
    expect(second.connectionId).toBe(out.connectionId);
    // The query resumes after the last contact: nothing is even read again.
    expect(second).toMatchObject({ status: 'succeeded', streams: {} });
  }, 240_000);

  it('a refresh token Salesforce no longer takes: a clear error with its words, nothing saved; a missing secret is named', async () => {
    const { workspace } = await makeWorkspace(db.pool, 'Bad', 'help@bad.test');
    const refused = await runCli(connectArgs(workspace.id, '--once'), env({ SALESFORCE_REFRESH_TOKEN: 'not-a-refresh-token' }));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('salesforce refused these credentials');
    expect(refused.stderr).toContain('expired access/refresh token');
    const missing = await runCli(connectArgs(workspace.id), env({ SALESFORCE_REFRESH_TOKEN: '' }));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('SALESFORCE_REFRESH_TOKEN');
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM import_connections WHERE workspace_id = $1', [workspace.id]);
    expect(rows[0].n).toBe(0);
  });

  it("killed with SIGKILL at seeded random points and restarted: the final data equals an uninterrupted run's", async () => {
    await expectKillsToEndEqual({
      db: db.pool,
      trials: 3,
      lastStream: 'contacts',
      referencePages,
      reference,
      workspace: async (trial) => (await makeWorkspace(db.pool, `Kill ${trial}`, `help@kill${trial}.test`)).workspace.id,
      run: (workspaceId, killWhen) => runAndKill(connectArgs(workspaceId, '--once', '--json'), env(), killWhen),
      dump: (workspaceId) => salesforceDump(db.pool, workspaceId),
    });
  }, 300_000);
});

describe('POST /v1/import-connections with provider salesforce', () => {
  let importApi: Awaited<ReturnType<typeof startImportApi>>;
  let app: FastifyInstance;
  beforeAll(async () => {
    importApi = await startImportApi(db);
    app = importApi.app;
  });
  afterAll(async () => importApi?.close());

  it('checks the credentials with Salesforce, keeps the secrets sealed, and the first run imports the org', async () => {
    const { workspace, apiKey } = await makeWorkspace(db.pool, 'Api', 'help@api.test');
    const post = (body: unknown) => app.inject({ method: 'POST', url: '/v1/import-connections', headers: { authorization: `Bearer ${apiKey}` }, payload: body as object });
    const credentials = salesforceCredentials(fake);

    const refused = await post({ provider: 'salesforce', credentials: { ...credentials, refreshToken: 'revoked-token' }, settings: { loginUrl: fake.loginUrl } });
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toEqual({
      error: { message: 'salesforce refused these credentials', type: 'VALIDATION', code: 'input_validation', fields: [{ field: 'credentials', message: 'invalid_grant: expired access/refresh token', type: 'VALIDATION' }] },
    });
    const badSettings = await post({ provider: 'salesforce', credentials, settings: { loginUrl: 'https://login.salesforce.com/services/oauth2/token?x=1', apiVersion: 'latest' } });
    expect(badSettings.statusCode).toBe(400);
    expect(badSettings.json().error.fields.map((f: { field: string }) => f.field)).toEqual(['settings.loginUrl', 'settings.apiVersion']);
    const noSecret = await post({ provider: 'salesforce', credentials: { clientId: credentials.clientId, refreshToken: credentials.refreshToken }, settings: { loginUrl: fake.loginUrl } });
    expect(noSecret.statusCode).toBe(400);
    expect(noSecret.json().error.fields.map((f: { field: string }) => f.field)).toEqual(['credentials.clientSecret']);

    const created = await post({ provider: 'salesforce', credentials, settings: { loginUrl: fake.loginUrl, maxOrgApiUsagePercent: 50 } });
    expect(created.statusCode).toBe(201);
    expect(created.body).not.toContain(credentials.clientSecret);
    expect(created.body).not.toContain(credentials.refreshToken);
    const conn = created.json().importConnection;
    expect(conn).toMatchObject({ provider: 'salesforce', account: FAKE_ORG_ID, status: 'active', credentials: { type: 'oauth_refresh_token', clientId: credentials.clientId }, settings: { loginUrl: fake.loginUrl, maxOrgApiUsagePercent: 50 } });
    expect(conn.latestRun).toMatchObject({ kind: 'full', status: 'queued' });
    // This process runs no worker: the queued run is executed here as a worker would.
    expect((await executeRun(executeDeps(db.pool), conn.latestRun.id)).status).toBe('succeeded');
    expect(await salesforceDump(db.pool, workspace.id)).toEqual(reference);
    const run = await app.inject({ method: 'GET', url: `/v1/import-runs/${conn.latestRun.id}`, headers: { authorization: `Bearer ${apiKey}` } });
    expect(run.json().importRun.streams.contacts.created).toBeGreaterThan(0);
  });

  it('a login host must be public https unless private addresses are allowed', async () => {
    const refused = checkConnectionInput(IMPORT_ADAPTERS, { provider: 'salesforce', credentials: salesforceCredentials(fake), settings: { loginUrl: fake.loginUrl }, scheduleSeconds: 300 }, { allowPrivate: false, userAgent: 't' });
    await expect(refused).rejects.toMatchObject({ fields: [{ field: 'settings', message: expect.stringContaining('https') }] });
    const metadata = checkConnectionInput(IMPORT_ADAPTERS, { provider: 'salesforce', credentials: salesforceCredentials(fake), settings: { loginUrl: 'https://169.254.169.254' }, scheduleSeconds: 300 }, { allowPrivate: false, userAgent: 't' });
    await expect(metadata).rejects.toMatchObject({ fields: [{ field: 'settings', message: expect.stringContaining('non-public') }] });
  });
});
