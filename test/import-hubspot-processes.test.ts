import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openConnection } from '../src/import/connections.ts';
import { executeRun } from '../src/import/execute-run.ts';
import { runCli } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { DEFAULT_HUBSPOT_AUTH, generateHubSpot, HUBSPOT_PORTAL_ID, startFakeHubSpot, type FakeHubSpot } from './support/fake-provider/index.ts';
import { connectHubSpot, HUBSPOT_OAUTH, hubspotDump } from './support/hubspot-imports.ts';
import { expectKillsToEndEqual, runAndKill } from './support/kill-points.ts';
import { eventsOut, executeDeps, runImport, startImportApi } from './support/imports.ts';
import { makeWorkspace, TEST_SECRETS_KEY } from './support/workspaces.ts';

/**
 * HubSpot through the generic entry points (`intake import connect hubspot`, POST
 * /v1/import-connections) and as real worker processes: killed with SIGKILL part-way and restarted.
 */

let db: TestDatabase;
let fake: FakeHubSpot;
let dir: string;
let reference: Awaited<ReturnType<typeof hubspotDump>>;
let referencePages = 0;
const PAGE_SIZE = 25;

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(path.join(tmpdir(), 'intake-hubspot-'));
  fake = await startFakeHubSpot({ data: generateHubSpot({ contacts: 1_500, companies: 200, seed: 11 }) });
  // The uninterrupted run, in this process: what every interrupted one must end up equal to.
  const { workspace } = await makeWorkspace(db.pool, 'Reference', 'help@reference.test');
  const connection = await connectHubSpot(db.pool, workspace.id, fake.url, { settings: { pageSize: PAGE_SIZE } });
  expect((await runImport(db.pool, connection.id)).outcome.status).toBe('succeeded');
  reference = await hubspotDump(db.pool, workspace.id);
  const { rows } = await db.pool.query(`SELECT progress FROM import_runs WHERE connection_id = $1`, [connection.id]);
  referencePages = rows[0].progress.contacts.pages;
}, 120_000);

afterAll(async () => {
  await fake?.close();
  await db?.close();
  await rm(dir, { recursive: true, force: true });
});

/** No HubSpot secret in the environment unless a test puts one there (the developer's own must not leak in). */
const env = (extra: Record<string, string> = {}) => ({
  DATABASE_URL: db.url,
  DATA_DIR: dir,
  SECRETS_KEY: TEST_SECRETS_KEY.toString('hex'),
  IMPORT_LEASE_SECONDS: '1.5',
  LOG_LEVEL: 'silent',
  HUBSPOT_ACCESS_TOKEN: '',
  HUBSPOT_CLIENT_ID: '',
  HUBSPOT_CLIENT_SECRET: '',
  HUBSPOT_REFRESH_TOKEN: '',
  ...extra,
});
const withToken = (token = DEFAULT_HUBSPOT_AUTH.privateAppToken) => env({ HUBSPOT_ACCESS_TOKEN: token });
const connectArgs = (workspaceId: string, ...more: string[]) => connectArgsAt(fake.url, workspaceId, ...more);
const connectArgsAt = (baseUrl: string, workspaceId: string, ...more: string[]) => ['import', 'connect', 'hubspot', '--workspace', workspaceId, '--base-url', baseUrl, '--page-size', String(PAGE_SIZE), ...more];
const STACK = /^\s+at .+:\d+/m;

async function connectionsOf(workspaceId: string) {
  const { rows } = await db.pool.query(`SELECT id, account, status FROM import_connections WHERE workspace_id = $1 ORDER BY created_at`, [workspaceId]);
  return rows as Array<{ id: string; account: string; status: string }>;
}

describe('intake import connect hubspot', () => {
  it('--help names its option and environment variables', async () => {
    const help = await runCli(['import', 'connect', 'hubspot', '--help'], env());
    expect(help.code).toBe(0);
    for (const text of ['--workspace <id>', '--page-size <n>', '--base-url <url>', '--secrets-file <path>', 'HUBSPOT_ACCESS_TOKEN', 'HUBSPOT_CLIENT_ID', 'HUBSPOT_CLIENT_SECRET', 'HUBSPOT_REFRESH_TOKEN']) {
      expect(help.stdout).toContain(text);
    }
    expect((await runCli(['import', 'connect', '--help'], env())).stdout).toContain('hubspot (HubSpot)');
  });

  it('a private app token from the environment: --once imports here, the account is the portal id; again creates nothing', async () => {
    const { workspace } = await makeWorkspace(db.pool, 'Cli', 'help@cli.test');
    const first = await runCli(connectArgs(workspace.id, '--once', '--json'), withToken(), 120_000);
    expect(first.code, first.stderr).toBe(0);
    const out = JSON.parse(first.stdout);
    expect(out).toMatchObject({ status: 'succeeded', recordErrors: 0, error: null });
    expect(out.streams.contacts.created).toBe(reference.totals.customers);
    expect(await connectionsOf(workspace.id)).toEqual([{ id: out.connectionId, account: String(HUBSPOT_PORTAL_ID), status: 'active' }]);
    expect(await hubspotDump(db.pool, workspace.id)).toEqual(reference);

    const second = JSON.parse((await runCli(connectArgs(workspace.id, '--once', '--json'), withToken(), 120_000)).stdout);
    expect(second.connectionId).toBe(out.connectionId);
    expect(second.status).toBe('succeeded');
    for (const c of Object.values(second.streams) as Array<{ created: number; linked: number }>) expect(c.created + c.linked).toBe(0);
    expect(await eventsOut(db.pool)).toEqual({ events: 0, deliveries: 0, auto_responses: 0 });
  }, 180_000);

  it('OAuth values from a --secrets-file: the tokens it gets are kept sealed', async () => {
    const { workspace } = await makeWorkspace(db.pool, 'OAuth', 'help@oauth.test');
    const file = path.join(dir, 'hubspot.env');
    await writeFile(file, `HUBSPOT_CLIENT_ID=${HUBSPOT_OAUTH.clientId}\nHUBSPOT_CLIENT_SECRET="${HUBSPOT_OAUTH.clientSecret}"\nHUBSPOT_REFRESH_TOKEN=${HUBSPOT_OAUTH.refreshToken}\n`);
    await chmod(file, 0o600);
    const result = await runCli(connectArgs(workspace.id, '--secrets-file', file, '--once', '--json'), env(), 120_000);
    expect(result.code, result.stderr).toBe(0);
    const out = JSON.parse(result.stdout);
    expect(out.status).toBe('succeeded');
    const opened = (await openConnection(db.pool, TEST_SECRETS_KEY, out.connectionId))!.credentials as Record<string, string>;
    expect(opened).toMatchObject({ ...HUBSPOT_OAUTH, accessToken: expect.stringMatching(/^CJ/), expiresAt: expect.any(String) });
    const sealed = await db.pool.query('SELECT credentials_encrypted FROM import_connections WHERE id = $1', [out.connectionId]);
    expect(sealed.rows[0].credentials_encrypted).not.toContain(HUBSPOT_OAUTH.refreshToken);
  }, 180_000);

  it('missing or refused credentials: one line, exit 2, nothing saved', async () => {
    const { workspace } = await makeWorkspace(db.pool, 'Refused', 'help@refused.test');
    const none = await runCli(connectArgs(workspace.id), env());
    expect(none.code).toBe(2);
    expect(none.stderr).toBe('Missing HubSpot credentials (credentials: a private app token in HUBSPOT_ACCESS_TOKEN, or OAuth: HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET and HUBSPOT_REFRESH_TOKEN)\n');
    const half = await runCli(connectArgs(workspace.id), env({ HUBSPOT_REFRESH_TOKEN: 'r' }));
    expect(half.stderr).toBe('Missing HubSpot credentials (credentials: OAuth needs HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET as well)\n');
    const wrong = await runCli(connectArgs(workspace.id), withToken('pat-na1-not-a-real-token'));
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/^hubspot refused these credentials \(credentials: Authentication credentials not found\./);
    const malformed = await runCli(connectArgs(workspace.id), withToken('pat na1 with spaces'));
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toBe('hubspot refused these credentials (credentials: HubSpot refused the access token as malformed (HTTP 530: Origin DNS error | api.hubapi.com | Cloudflare))\n');
    for (const r of [none, half, wrong, malformed]) expect(r.stderr).not.toMatch(STACK);
    expect(await connectionsOf(workspace.id)).toEqual([]);
  }, 60_000);
});

describe('POST /v1/import-connections with provider hubspot', () => {
  let importApi: Awaited<ReturnType<typeof startImportApi>>;
  let app: FastifyInstance;
  beforeAll(async () => {
    importApi = await startImportApi(db);
    app = importApi.app;
  });
  afterAll(async () => importApi?.close());

  it('connects (credentials checked with HubSpot, never shown back), and its queued run imports', async () => {
    const { workspace, apiKey } = await makeWorkspace(db.pool, 'Api', 'help@api.test');
    const post = (body: unknown) => app.inject({ method: 'POST', url: '/v1/import-connections', headers: { authorization: `Bearer ${apiKey}` }, payload: body as object });
    const refused = await post({ provider: 'hubspot', credentials: { accessToken: 'pat-na1-revoked-or-never-issued' }, settings: { baseUrl: fake.url } });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error).toMatchObject({ code: 'input_validation', fields: [{ field: 'credentials', message: expect.stringContaining('Authentication credentials not found'), type: 'VALIDATION' }] });
    const invalid = await post({ provider: 'hubspot', credentials: { clientId: 'only-an-id' }, settings: { pageSize: 500 } });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json().error.fields.map((f: { field: string }) => f.field)).toEqual(expect.arrayContaining(['settings.pageSize']));

    const created = await post({ provider: 'hubspot', credentials: HUBSPOT_OAUTH, settings: { baseUrl: fake.url, pageSize: PAGE_SIZE } });
    expect(created.statusCode, created.body).toBe(201);
    const connection = created.json().importConnection;
    expect(connection).toMatchObject({ provider: 'hubspot', account: String(HUBSPOT_PORTAL_ID), status: 'active', credentials: { type: 'oauth', clientId: HUBSPOT_OAUTH.clientId } });
    expect(created.body).not.toContain(HUBSPOT_OAUTH.clientSecret);
    expect(created.body).not.toContain(HUBSPOT_OAUTH.refreshToken);
    expect(await executeRun(executeDeps(db.pool), connection.latestRun.id)).toEqual({ status: 'succeeded' });
    expect(await hubspotDump(db.pool, workspace.id)).toEqual(reference);
  }, 120_000);
});

describe('the HubSpot import killed with SIGKILL', () => {
  it("at seeded random points and restarted: the final data equals an uninterrupted run's", async () => {
    // The same account without HubSpot's rolling limit: every restarted process would otherwise
    // meet the window its killed predecessor spent, and the CLI answers a 429 at connect with exit 69.
    const unlimited = await startFakeHubSpot({ limits: false, data: generateHubSpot({ contacts: 1_500, companies: 200, seed: 11 }) });
    try {
      await expectKillsToEndEqual({
        db: db.pool,
        trials: 2,
        lastStream: 'contacts',
        referencePages,
        reference,
        workspace: async (trial) => (await makeWorkspace(db.pool, `Kill ${trial}`, `help@kill${trial}.test`)).workspace.id,
        run: (workspaceId, killWhen) => runAndKill(connectArgsAt(unlimited.url, workspaceId, '--once', '--json'), withToken(), killWhen),
        dump: (workspaceId) => hubspotDump(db.pool, workspaceId),
      });
    } finally {
      await unlimited.close();
    }
  }, 300_000);
});
