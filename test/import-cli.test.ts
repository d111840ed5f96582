import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openConnection } from '../src/import/connections.ts';
import { runCli } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { DEFAULT_ZENDESK_AUTH, startFakeProvider, type FakeProvider } from './support/fake-provider/index.ts';
import { makeWorkspace, TEST_SECRETS_KEY } from './support/workspaces.ts';

/**
 * `intake import connect <provider> | run | disconnect` as the real command, against the fake
 * Zendesk and a test database: options from the adapter, secrets from the environment or a file,
 * and expected failures as one line on stderr with the documented exit code (src/cli/exit-codes.ts).
 */

let db: TestDatabase;
let fake: FakeProvider;
let dir: string;

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(path.join(tmpdir(), 'intake-import-cli-'));
  fake = await startFakeProvider({ rateLimit: false });
}, 120_000);

afterAll(async () => {
  await fake?.close();
  await db?.close();
  await rm(dir, { recursive: true, force: true });
});

/** No token in the environment unless a test puts one there (the developer's own must not leak in). */
const env = (extra: Record<string, string> = {}) => ({
  DATABASE_URL: db.url,
  DATA_DIR: dir,
  SECRETS_KEY: TEST_SECRETS_KEY.toString('hex'),
  LOG_LEVEL: 'silent',
  ZENDESK_API_TOKEN: '',
  ZENDESK_OAUTH_TOKEN: '',
  ...extra,
});
const connectArgs = (workspaceId: string, ...more: string[]) => [
  'import', 'connect', 'zendesk', '--workspace', workspaceId, '--subdomain', 'acme', '--email', DEFAULT_ZENDESK_AUTH.email, '--base-url', fake.url, ...more,
];
const withToken = (token = DEFAULT_ZENDESK_AUTH.apiToken) => env({ ZENDESK_API_TOKEN: token });

/** A stack trace's frames ("    at fn (file:line)"): expected failures must not print one. */
const STACK = /^\s+at .+:\d+/m;

async function connectionsOf(workspaceId: string) {
  const { rows } = await db.pool.query(`SELECT id, account, status FROM import_connections WHERE workspace_id = $1 ORDER BY created_at`, [workspaceId]);
  return rows as Array<{ id: string; account: string; status: string }>;
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('intake import connect --help', () => {
  it('lists every provider with its options and environment variables', async () => {
    const all = await runCli(['import', 'connect', '--help'], env());
    expect(all.code).toBe(0);
    for (const text of ['zendesk (Zendesk)', '--subdomain <subdomain>', '--email <email>', '--page-size <n>', '$ZENDESK_API_TOKEN', '$ZENDESK_OAUTH_TOKEN', '--secrets-file']) {
      expect(all.stdout).toContain(text);
    }
    const one = await runCli(['import', 'connect', 'zendesk', '--help'], env());
    expect(one.code).toBe(0);
    for (const text of ['--workspace <id>', '--subdomain <subdomain>', '--email <email>', '--base-url <url>', '--schedule-minutes <n>', '--secrets-file <path>', '--once', '--json', 'ZENDESK_API_TOKEN', 'ZENDESK_OAUTH_TOKEN']) {
      expect(one.stdout).toContain(text);
    }
  });
});

describe('intake import connect, run, disconnect', () => {
  it('connects with the token from the environment and queues a run; --once runs it here; `run <id> --once` runs again', async () => {
    const { workspace } = await makeWorkspace(db.pool, 'Env', 'help@env.test');
    const queued = await runCli(connectArgs(workspace.id, '--json'), withToken());
    expect(queued.code, queued.stderr).toBe(0);
    const out = JSON.parse(queued.stdout);
    expect(out).toEqual({ connectionId: expect.stringMatching(/^ic_/), runId: expect.stringMatching(/^ir_/), status: 'queued' });
    expect(await connectionsOf(workspace.id)).toEqual([{ id: out.connectionId, account: 'acme', status: 'active' }]);

    // The queued run (no service is running here) executed in the foreground.
    const first = await runCli(['import', 'run', out.connectionId, '--once', '--json'], env(), 120_000);
    expect(first.code, first.stderr).toBe(0);
    const firstOut = JSON.parse(first.stdout);
    expect(firstOut).toMatchObject({ connectionId: out.connectionId, runId: out.runId, status: 'succeeded', recordErrors: 0, error: null });
    expect(firstOut.streams.tickets.created).toBeGreaterThan(0);

    const second = await runCli(['import', 'run', out.connectionId, '--once', '--json'], env(), 120_000);
    expect(second.code, second.stderr).toBe(0);
    const secondOut = JSON.parse(second.stdout);
    expect(secondOut.runId).not.toBe(out.runId);
    expect(secondOut.status).toBe('succeeded');
    for (const c of Object.values(secondOut.streams) as Array<{ created: number }>) expect(c.created).toBe(0);
    const { rows } = await db.pool.query(`SELECT kind FROM import_runs WHERE id = $1`, [secondOut.runId]);
    expect(rows[0].kind).toBe('incremental');
  }, 180_000);

  it('reads the secrets from --secrets-file (winning over the environment); the same account again re-uses its connection with the new credentials', async () => {
    const { workspace } = await makeWorkspace(db.pool, 'File', 'help@file.test');
    const file = path.join(dir, 'zendesk.env');
    await writeFile(file, `# Zendesk\nZENDESK_API_TOKEN="${DEFAULT_ZENDESK_AUTH.apiToken}"\nOTHER_PROVIDER_SECRET=ignored\n`);
    await chmod(file, 0o600);
    // A wrong token in the environment: the file's wins.
    const first = await runCli(connectArgs(workspace.id, '--secrets-file', file, '--once', '--json'), withToken('stale-token'), 120_000);
    expect(first.code, first.stderr).toBe(0);
    const out = JSON.parse(first.stdout);
    expect(out.status).toBe('succeeded');

    // Zendesk rotates the token; connecting again is a re-authorisation of the same connection.
    fake.state.auth = { ...DEFAULT_ZENDESK_AUTH, apiToken: 'rotated-token' };
    try {
      await writeFile(file, 'ZENDESK_API_TOKEN=rotated-token\n');
      const again = await runCli(connectArgs(workspace.id, '--secrets-file', file, '--once', '--json'), env(), 120_000);
      expect(again.code, again.stderr).toBe(0);
      const againOut = JSON.parse(again.stdout);
      expect(againOut.connectionId).toBe(out.connectionId);
      expect(againOut.runId).not.toBe(out.runId);
      expect(againOut.status).toBe('succeeded');
      expect(await connectionsOf(workspace.id)).toEqual([{ id: out.connectionId, account: 'acme', status: 'active' }]);
      const opened = await openConnection(db.pool, TEST_SECRETS_KEY, out.connectionId);
      expect(opened?.credentials).toEqual({ email: DEFAULT_ZENDESK_AUTH.email, apiToken: 'rotated-token' });
    } finally {
      fake.state.auth = { ...DEFAULT_ZENDESK_AUTH };
    }
  }, 180_000);

  it('disconnect stops future runs (an active one is cancelled); the connection cannot run; connecting again makes a new one', async () => {
    const { workspace } = await makeWorkspace(db.pool, 'Gone', 'help@gone.test');
    const queued = JSON.parse((await runCli(connectArgs(workspace.id, '--json'), withToken())).stdout);
    const gone = await runCli(['import', 'disconnect', queued.connectionId, '--json'], env());
    expect(gone.code, gone.stderr).toBe(0);
    expect(JSON.parse(gone.stdout)).toEqual({ connectionId: queued.connectionId, workspaceId: workspace.id, status: 'disconnected' });
    const { rows } = await db.pool.query(`SELECT r.status, c.next_run_at FROM import_runs r JOIN import_connections c ON c.id = r.connection_id WHERE r.id = $1`, [queued.runId]);
    expect(rows).toEqual([{ status: 'cancelled', next_run_at: null }]);

    const refused = await runCli(['import', 'run', queued.connectionId, '--once'], env());
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim()).toBe(`Connection ${queued.connectionId} cannot run (connectionId: it is disconnected: connect the account again with \`intake import connect\`)`);

    const status = JSON.parse((await runCli(['import', 'status', '--workspace', workspace.id, '--json'], env())).stdout);
    expect(status.connections).toEqual([expect.objectContaining({ connectionId: queued.connectionId, status: 'disconnected', nextRunAt: null })]);

    const anew = await runCli(connectArgs(workspace.id, '--json'), withToken());
    expect(anew.code, anew.stderr).toBe(0);
    expect(JSON.parse(anew.stdout).connectionId).not.toBe(queued.connectionId);
  }, 60_000);

  it('the `zendesk` alias and `connect zendesk` share one connection per account', async () => {
    const { workspace } = await makeWorkspace(db.pool, 'Alias', 'help@alias.test');
    const viaAlias = await runCli(
      ['import', 'zendesk', '--workspace', workspace.id, '--subdomain', 'acme', '--email', DEFAULT_ZENDESK_AUTH.email, '--token', DEFAULT_ZENDESK_AUTH.apiToken, '--base-url', fake.url, '--json'],
      env(),
    );
    expect(viaAlias.code, viaAlias.stderr).toBe(0);
    const viaConnect = await runCli(connectArgs(workspace.id, '--json'), withToken());
    expect(viaConnect.code, viaConnect.stderr).toBe(0);
    expect(JSON.parse(viaConnect.stdout).connectionId).toBe(JSON.parse(viaAlias.stdout).connectionId);
  }, 60_000);
});

describe('intake import: expected failures are one clear line and an exit code, never a stack trace', () => {
  it('an unreachable provider: exit 69 (EX_UNAVAILABLE), nothing saved', async () => {
    const { workspace } = await makeWorkspace(db.pool, 'Down', 'help@down.test');
    const args = connectArgs(workspace.id, '--once');
    args[args.indexOf('--base-url') + 1] = `http://127.0.0.1:${await closedPort()}`;
    const result = await runCli(args, withToken());
    expect(result.code).toBe(69);
    expect(result.stderr).toMatch(/^zendesk could not be reached to check the credentials: GET \/api\/v2\/users\/me\.json failed: .*nothing was saved, try again when it answers\n$/);
    expect(result.stderr).not.toMatch(STACK);
    expect(result.stdout).toBe('');
    expect(await connectionsOf(workspace.id)).toEqual([]);
  }, 60_000);

  it('a missing secret names the environment variable: exit 2', async () => {
    const { workspace } = await makeWorkspace(db.pool, 'NoToken', 'help@notoken.test');
    const result = await runCli(connectArgs(workspace.id), env());
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('Missing Zendesk credentials (credentials: the API token: set ZENDESK_API_TOKEN)\n');
    expect(await connectionsOf(workspace.id)).toEqual([]);

    const noFile = await runCli(connectArgs(workspace.id, '--secrets-file', path.join(dir, 'nowhere.env')), env());
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toBe(`Cannot read the secrets file (--secrets-file: ${path.join(dir, 'nowhere.env')}: ENOENT)\n`);
  });

  it('refused credentials, an unknown workspace, an unknown connection, a bad option: exit 2', async () => {
    const { workspace } = await makeWorkspace(db.pool, 'Refused', 'help@refused.test');
    const refused = await runCli(connectArgs(workspace.id), withToken('not-the-token'));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe("zendesk refused these credentials (credentials: Couldn't authenticate you)\n");

    const noWorkspace = await runCli(connectArgs('w_nope'), withToken());
    expect(noWorkspace.code).toBe(2);
    expect(noWorkspace.stderr).toBe('No such workspace (--workspace: no workspace w_nope (see `intake workspace create`))\n');

    for (const command of ['run', 'disconnect']) {
      const unknown = await runCli(['import', command, 'ic_nope'], env());
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toBe('No such import connection (connectionId: no connection ic_nope (see `intake import status`))\n');
    }

    const badSchedule = await runCli(connectArgs(workspace.id, '--schedule-minutes', '0'), withToken());
    expect(badSchedule.code).toBe(2);
    expect(badSchedule.stderr).toContain("option '--schedule-minutes <n>' argument '0' is invalid");
    const noWorkspaceFlag = await runCli(['import', 'connect', 'zendesk', '--subdomain', 'acme'], env());
    expect(noWorkspaceFlag.code).toBe(2);
    expect(noWorkspaceFlag.stderr).toContain("required option '--workspace <id>' not specified");

    for (const r of [refused, noWorkspace, badSchedule, noWorkspaceFlag]) expect(r.stderr).not.toMatch(STACK);
    expect(await connectionsOf(workspace.id)).toEqual([]);
  }, 60_000);

  it('an unreachable database: exit 69', async () => {
    const result = await runCli(['import', 'status'], { ...env(), DATABASE_URL: `postgres://intake@127.0.0.1:${await closedPort()}/intake` });
    expect(result.code).toBe(69);
    expect(result.stderr).toMatch(/^The database could not be reached: .*ECONNREFUSED/);
    expect(result.stderr).not.toMatch(STACK);
  }, 60_000);
});
