import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { DEFAULT_ZENDESK_AUTH, generateZendesk, startFakeProvider, type FakeProvider } from './support/fake-provider/index.ts';
import { canonicalDump, connectZendesk, runImport } from './support/imports.ts';
import { committedPages, expectKillsToEndEqual, runAndKill } from './support/kill-points.ts';
import { makeWorkspace, TEST_SECRETS_KEY } from './support/workspaces.ts';

/**
 * The import as real worker processes run it: the `intake import zendesk --once` command, killed
 * with SIGKILL part-way and restarted, or started twice at once, against the fake Zendesk.
 */

let db: TestDatabase;
let fake: FakeProvider;
let dataDir: string;
let reference: Awaited<ReturnType<typeof canonicalDump>>;
let referencePages = 0;
const PAGE_SIZE = 25;

beforeAll(async () => {
  db = await createTestDatabase();
  dataDir = await mkdtemp(path.join(tmpdir(), 'intake-import-'));
  fake = await startFakeProvider({ rateLimit: false, data: generateZendesk({ users: 300, tickets: 240, commentsPerTicket: 3, seed: 7, imageEvery: 5, exeEvery: 20 }) });
  // The uninterrupted run, in this process: what every interrupted one must end up equal to.
  const { workspace } = await makeWorkspace(db.pool, 'Reference', 'help@reference.test');
  const connection = await connectZendesk(db.pool, workspace.id, fake.url, { pageSize: PAGE_SIZE });
  expect((await runImport(db.pool, connection.id)).outcome.status).toBe('succeeded');
  reference = await canonicalDump(db.pool, workspace.id);
  referencePages = (await committedPages(db.pool, workspace.id, 'tickets')).pages;
}, 120_000);

afterAll(async () => {
  await fake?.close();
  await db?.close();
  await rm(dataDir, { recursive: true, force: true });
});

const env = () => ({ DATABASE_URL: db.url, DATA_DIR: dataDir, SECRETS_KEY: TEST_SECRETS_KEY.toString('hex'), IMPORT_LEASE_SECONDS: '1.5', LOG_LEVEL: 'silent' });
const importArgs = (workspaceId: string) => [
  'import', 'zendesk', '--workspace', workspaceId, '--subdomain', 'acme', '--email', DEFAULT_ZENDESK_AUTH.email, '--token', DEFAULT_ZENDESK_AUTH.apiToken,
  '--base-url', fake.url, '--page-size', String(PAGE_SIZE), '--once', '--json',
];

describe('intake import zendesk', () => {
  it('--once --json imports in the foreground and prints one JSON object; a second run creates nothing; import status lists it', async () => {
    const { workspace } = await makeWorkspace(db.pool, 'Cli', 'help@cli.test');
    const first = await runCli(importArgs(workspace.id), env(), 120_000);
    expect(first.code, first.stderr).toBe(0);
    const out = JSON.parse(first.stdout);
    expect(Object.keys(out).sort()).toEqual(['connectionId', 'error', 'recordErrors', 'runId', 'status', 'streams']);
    expect(out).toMatchObject({ status: 'succeeded', recordErrors: 0, error: null });
    expect(out.streams.tickets.created + out.streams.tickets.skipped).toBe(240);
    expect(out.streams.comments.created).toBe(reference.totals.entries);
    expect(await canonicalDump(db.pool, workspace.id)).toEqual(reference);

    const second = JSON.parse((await runCli(importArgs(workspace.id), env(), 120_000)).stdout);
    expect(second.connectionId).toBe(out.connectionId);
    expect(second.runId).not.toBe(out.runId);
    for (const c of Object.values(second.streams) as Array<{ created: number; linked: number }>) expect(c.created + c.linked).toBe(0);

    const status = await runCli(['import', 'status', '--workspace', workspace.id, '--json'], env());
    expect(JSON.parse(status.stdout).connections).toEqual([
      expect.objectContaining({ connectionId: out.connectionId, provider: 'zendesk', account: 'acme', status: 'active', latestRun: expect.objectContaining({ id: second.runId, kind: 'incremental', status: 'succeeded' }) }),
    ]);
  });

  it('wrong credentials: a clear error, nothing saved', async () => {
    const { workspace } = await makeWorkspace(db.pool, 'Bad', 'help@bad.test');
    const args = importArgs(workspace.id);
    args[args.indexOf('--token') + 1] = 'not-the-token';
    const result = await runCli(args, env());
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("zendesk refused these credentials");
    expect(result.stderr).toContain("Couldn't authenticate you");
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM import_connections WHERE workspace_id = $1', [workspace.id]);
    expect(rows[0].n).toBe(0);
  });

  it('killed with SIGKILL at random points and restarted: the final data equals an uninterrupted run\'s', async () => {
    await expectKillsToEndEqual({
      db: db.pool,
      trials: 3,
      lastStream: 'tickets',
      referencePages,
      reference,
      workspace: async (trial) => (await makeWorkspace(db.pool, `Kill ${trial}`, `help@kill${trial}.test`)).workspace.id,
      run: (workspaceId, killWhen) => runAndKill(importArgs(workspaceId), env(), killWhen),
      dump: (workspaceId) => canonicalDump(db.pool, workspaceId),
    });
  }, 300_000);

  it('two worker processes at once: one run, no duplicates', async () => {
    const { workspace } = await makeWorkspace(db.pool, 'Twins', 'help@twins.test');
    const [a, b] = await Promise.all([runCli(importArgs(workspace.id), env(), 120_000), runCli(importArgs(workspace.id), env(), 120_000)]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const outA = JSON.parse(a.stdout);
    const outB = JSON.parse(b.stdout);
    expect(outB.connectionId).toBe(outA.connectionId);
    expect(outB.runId).toBe(outA.runId);
    expect(await canonicalDump(db.pool, workspace.id)).toEqual(reference);
    const { rows } = await db.pool.query(`SELECT count(*)::int AS runs FROM import_runs r JOIN import_connections c ON c.id = r.connection_id WHERE c.workspace_id = $1`, [workspace.id]);
    expect(rows[0].runs).toBe(1);
  }, 180_000);
});
