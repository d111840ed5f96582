import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliEnv, runCli } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { DEFAULT_ZENDESK_AUTH, generateZendesk, startFakeProvider, type FakeProvider } from './support/fake-provider/index.ts';
import { canonicalDump, connectZendesk, runImport } from './support/imports.ts';
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
  referencePages = (await committedPages(workspace.id)).pages;
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

/** Pages committed so far by every run of the workspace's connections. */
async function committedPages(workspaceId: string): Promise<{ pages: number; ticketsDone: boolean }> {
  const { rows } = await db.pool.query(`SELECT r.progress FROM import_runs r JOIN import_connections c ON c.id = r.connection_id WHERE c.workspace_id = $1`, [workspaceId]);
  const pages = rows.reduce((n, r) => n + Object.values(r.progress as Record<string, { pages: number }>).reduce((m, p) => m + p.pages, 0), 0);
  return { pages, ticketsDone: rows.some((r) => (r.progress as { tickets?: { done: boolean } }).tickets?.done === true) };
}

/**
 * Starts the command and SIGKILLs it once `killWhen` says so (polled every 15 ms), so kill points
 * follow the import's progress rather than the machine's speed; answers whether it was killed.
 */
function runAndKill(args: string[], killWhen: () => Promise<boolean>): Promise<{ killed: boolean; code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', BIN, ...args], { env: cliEnv(env()), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let killed = false;
    let closed = false;
    child.stdout.on('data', (d) => (stdout += d));
    const poll = async () => {
      while (!closed && !killed) {
        if (await killWhen().catch(() => false)) {
          killed = child.exitCode === null;
          child.kill('SIGKILL');
          return;
        }
        await new Promise((r) => setTimeout(r, 15));
      }
    };
    void poll();
    child.on('close', (code) => {
      closed = true;
      resolve({ killed, code, stdout });
    });
  });
}

/** mulberry32: a small seeded generator, so a failing run's kill points can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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
    const seed = Number(process.env.KILL_SEED ?? Math.floor(Math.random() * 2 ** 31));
    console.log(`kill points seeded with KILL_SEED=${seed}`);
    const random = seeded(seed);
    let interruptedMidway = 0;
    for (let trial = 0; trial < 3; trial++) {
      const { workspace } = await makeWorkspace(db.pool, `Kill ${trial}`, `help@kill${trial}.test`);
      let finished = false;
      for (let attempt = 0; !finished; attempt++) {
        const before = (await committedPages(workspace.id)).pages;
        // The first attempt of the first trial dies before any page (during start-up or the first
        // request); the next three after up to a third of the import's pages each, so each attempt
        // moves on; the fifth runs to the end.
        const started = Date.now();
        const early = trial === 0 && attempt === 0 ? 100 + Math.floor(random() * 400) : null;
        const target = attempt >= 4 ? Number.POSITIVE_INFINITY : before + 1 + Math.floor(random() * (referencePages / 3));
        const r = await runAndKill(importArgs(workspace.id), async () => (early !== null ? Date.now() - started >= early : (await committedPages(workspace.id)).pages >= target));
        if (!r.killed) {
          expect(r.code, `KILL_SEED=${seed}`).toBe(0);
          expect(JSON.parse(r.stdout).status).toBe('succeeded');
          finished = true;
        } else {
          const now = await committedPages(workspace.id);
          if (now.pages > 0 && !now.ticketsDone) interruptedMidway += 1;
        }
      }
      expect(finished, `trial ${trial} (KILL_SEED=${seed})`).toBe(true);
      expect(await canonicalDump(db.pool, workspace.id)).toEqual(reference);
      const { rows } = await db.pool.query(`SELECT r.status FROM import_runs r JOIN import_connections c ON c.id = r.connection_id WHERE c.workspace_id = $1`, [workspace.id]);
      // One run, or more when a kill landed after the run had finished (the next command starts an
      // incremental one, which finds nothing new): never one left behind unfinished.
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((r) => r.status === 'succeeded')).toBe(true);
    }
    // Kills landed between committed pages (not only before the first or after the last).
    expect(interruptedMidway, `KILL_SEED=${seed}`).toBeGreaterThan(0);
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
