import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliMeasured } from './support/child-peak-rss.ts';
import { runAndKill } from './support/kill-points.ts';
import { attachmentBytesInMemory } from '../src/import/fetch-attachments.ts';
import { executeRun } from '../src/import/execute-run.ts';
import { createRun } from '../src/import/runs.ts';
import { connectZendesk, executeDeps } from './support/imports.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { DEFAULT_ZENDESK_AUTH, generateZendesk, startFakeProvider, type FakeProvider } from './support/fake-provider/index.ts';
import { makeWorkspace, TEST_SECRETS_KEY } from './support/workspaces.ts';

/**
 * The import worker's memory stays bounded by its byte budget, not by what a page holds: a real
 * `intake import zendesk` process imports 100+ comments that each carry a 5 MB PDF (two export
 * pages, the first with 500 MB of files) and its peak resident set stays under 300 MB, with every
 * comment and every file stored exactly once.
 */

const MB = 1024 * 1024;
const TICKETS = 105;
const DOCUMENT_BYTES = 5 * MB;
const PEAK_RSS_LIMIT = 300 * MB;
const SMALL_TICKETS = 30;

let db: TestDatabase;
let fake: FakeProvider;
/** A smaller account of 5 MB files for the crash test: still one page, and far more than the byte budget. */
let small: FakeProvider;
let dataDir: string;
/** Comments to import: one per ticket the export does not list as deleted. */
let comments = 0;

beforeAll(async () => {
  db = await createTestDatabase();
  dataDir = await mkdtemp(path.join(tmpdir(), 'intake-import-memory-'));
  fake = await startFakeProvider({
    rateLimit: false,
    data: generateZendesk({ users: 40, tickets: TICKETS, commentsPerTicket: 1, seed: 3, imageEvery: 0, exeEvery: 0, documentBytes: DOCUMENT_BYTES }),
  });
  for (let i = 0; i < TICKETS; i++) if (fake.state.source.ticketAt(i, fake.url).status !== 'deleted') comments++;
  small = await startFakeProvider({
    rateLimit: false,
    data: generateZendesk({ users: 20, tickets: SMALL_TICKETS, commentsPerTicket: 1, seed: 5, imageEvery: 0, exeEvery: 0, documentBytes: DOCUMENT_BYTES }),
  });
});

afterAll(async () => {
  await fake?.close();
  await small?.close();
  // This file writes most of a gigabyte of files: written out now, so that the server is not still
  // busy with them when the harness checks that every connection has gone.
  await db?.pool.query('CHECKPOINT').catch(() => undefined);
  await db?.close();
  await rm(dataDir, { recursive: true, force: true });
});

// A killed worker's lease lapses in 1.5 s, so its successor takes the run over at once.
const env = () => ({ DATABASE_URL: db.url, DATA_DIR: dataDir, SECRETS_KEY: TEST_SECRETS_KEY.toString('hex'), IMPORT_LEASE_SECONDS: '1.5', LOG_LEVEL: 'silent' });
const importArgs = (workspaceId: string, from: FakeProvider = fake) => [
  'import', 'zendesk', '--workspace', workspaceId, '--subdomain', 'acme', '--email', DEFAULT_ZENDESK_AUTH.email, '--token', DEFAULT_ZENDESK_AUTH.apiToken,
  '--base-url', from.url, '--once', '--json',
];

async function stored(workspaceId: string) {
  const { rows } = await db.pool.query(
    `SELECT (SELECT count(*)::int FROM attachments WHERE workspace_id = $1) AS files,
            (SELECT count(*)::int FROM attachment_blobs WHERE workspace_id = $1) AS blobs,
            (SELECT count(*)::int FROM attachments a WHERE a.workspace_id = $1 AND a.status = 'accepted'
                AND NOT EXISTS (SELECT 1 FROM attachment_blobs b WHERE b.workspace_id = a.workspace_id AND b.sha256 = a.sha256)) AS "filesWithoutBytes",
            (SELECT count(*)::int FROM attachment_blobs b WHERE b.workspace_id = $1
                AND NOT EXISTS (SELECT 1 FROM attachments a WHERE a.workspace_id = b.workspace_id AND a.sha256 = b.sha256)) AS "bytesWithoutFile"`,
    [workspaceId],
  );
  return rows[0] as { files: number; blobs: number; filesWithoutBytes: number; bytesWithoutFile: number };
}

describe('import memory', () => {
  it('a Zendesk run where every comment carries a 5 MB file peaks under 300 MB RSS; every file is stored once', async () => {
    const { workspace } = await makeWorkspace(db.pool, 'Memory', 'help@memory.test');
    const first = await runCliMeasured(importArgs(workspace.id), env());
    expect(comments).toBeGreaterThan(100);
    console.log(`intake import zendesk: ${comments} comments x ${DOCUMENT_BYTES / MB} MB, peak RSS ${Math.round(first.peakRssBytes / MB)} MB in ${first.seconds.toFixed(1)} s`);
    expect(first.code, first.stderr).toBe(0);
    const out = JSON.parse(first.stdout);
    expect(out).toMatchObject({ status: 'succeeded', recordErrors: 0, error: null });
    expect(out.streams.comments).toMatchObject({ created: comments, failed: 0 });
    expect(out.streams.attachments).toMatchObject({ created: comments, skipped: 0, failed: 0 });

    const { rows: files } = await db.pool.query(
      `SELECT a.file_name, a.status, a.size, a.sha256, length(b.content) AS stored, encode(sha256(b.content), 'hex') AS hashed
         FROM attachments a LEFT JOIN attachment_blobs b ON b.workspace_id = a.workspace_id AND b.sha256 = a.sha256
        WHERE a.workspace_id = $1 ORDER BY a.file_name`,
      [workspace.id],
    );
    expect(files).toHaveLength(comments);
    for (const f of files) expect(f).toMatchObject({ status: 'accepted', size: DOCUMENT_BYTES, stored: DOCUMENT_BYTES, hashed: f.sha256 });
    // The bytes are the provider's, file by file.
    const served = fake.state.source.blob(`g-7-0-2-pdf`)!.body;
    expect(files.find((f) => f.file_name === 'report-7-0.pdf')!.sha256).toBe(createHash('sha256').update(served).digest('hex'));
    const blobs = await db.pool.query('SELECT count(*)::int AS n FROM attachment_blobs WHERE workspace_id = $1', [workspace.id]);
    expect(blobs.rows[0].n).toBe(comments);

    expect(first.peakRssBytes).toBeGreaterThan(0);
    expect(first.peakRssBytes).toBeLessThan(PEAK_RSS_LIMIT);

    // A second run finds everything in the ledger: nothing is created or downloaded again.
    const downloadsBefore = fake.attachmentRequests.length;
    const second = await runCliMeasured(importArgs(workspace.id), env());
    expect(second.code, second.stderr).toBe(0);
    const again = JSON.parse(second.stdout);
    expect(again.status).toBe('succeeded');
    for (const c of Object.values(again.streams) as Array<{ created: number; linked: number }>) expect(c.created + c.linked).toBe(0);
    expect(fake.attachmentRequests.length).toBe(downloadsBefore);
    expect(await stored(workspace.id)).toEqual({ files: comments, blobs: comments, filesWithoutBytes: 0, bytesWithoutFile: 0 });
  }, 300_000);

  it('killed after some of a page\'s files are stored but before the page commits: the restarted run stores each file once', async () => {
    const { workspace } = await makeWorkspace(db.pool, 'Crash', 'help@crash.test');
    let live = 0;
    for (let i = 0; i < SMALL_TICKETS; i++) if (small.state.source.ticketAt(i, small.url).status !== 'deleted') live++;
    // Bytes are stored as they come and the page (its rows, ledger and cursor) commits after its last file.
    const killed = await runAndKill(importArgs(workspace.id, small), env(), async () => (await stored(workspace.id)).blobs >= 5);
    expect(killed.killed, killed.stderr).toBe(true);
    const atKill = await stored(workspace.id);
    expect(atKill.files).toBe(0);
    expect(atKill.blobs).toBeGreaterThanOrEqual(5);
    expect(atKill.blobs).toBeLessThan(live);

    const resumed = await runCliMeasured(importArgs(workspace.id, small), env());
    expect(resumed.code, resumed.stderr).toBe(0);
    const out = JSON.parse(resumed.stdout);
    expect(out).toMatchObject({ status: 'succeeded', recordErrors: 0 });
    expect(out.streams.comments).toMatchObject({ created: live, failed: 0 });
    expect(out.streams.attachments).toMatchObject({ created: live, skipped: 0, failed: 0 });
    // The files stored before the kill were fetched again and stored nothing new.
    expect(await stored(workspace.id)).toEqual({ files: live, blobs: live, filesWithoutBytes: 0, bytesWithoutFile: 0 });
  }, 300_000);

  it('a run stopped while its files download and wait for room gives every byte of the budget back; the next run stores each file once', async () => {
    const { workspace } = await makeWorkspace(db.pool, 'Stopped', 'help@stopped.test');
    let live = 0;
    for (let i = 0; i < SMALL_TICKETS; i++) if (small.state.source.ticketAt(i, small.url).status !== 'deleted') live++;
    const connection = await connectZendesk(db.pool, workspace.id, small.url);
    const run = await createRun(db.pool, connection.id);
    // One file never answers: the page's fetch is held there, with other files in memory or waiting.
    small.setFaults([{ path: '/attachments/token/g-9-0-2-pdf', hang: true }]);
    const hung = () => small.requests.filter((r) => r.path.includes('g-9-0-2-pdf')).length;
    const before = hung();
    const shutdown = new AbortController();
    const executing = executeRun(executeDeps(db.pool, { signal: shutdown.signal }), run!.id);
    for (let i = 0; i < 800 && hung() === before; i++) await new Promise((r) => setTimeout(r, 25));
    expect(hung()).toBe(before + 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(attachmentBytesInMemory().held).toBeGreaterThan(0);
    shutdown.abort(new Error('shutting down'));
    expect(await executing).toEqual({ status: 'continue' });
    expect(attachmentBytesInMemory()).toEqual({ held: 0, waiting: 0 });
    expect((await stored(workspace.id)).files).toBe(0);

    small.setFaults([]);
    // The same run, taken up again as the next job would.
    let outcome = await executeRun(executeDeps(db.pool), run!.id);
    while (outcome.status === 'continue' || outcome.status === 'busy') outcome = await executeRun(executeDeps(db.pool), run!.id);
    expect(outcome.status).toBe('succeeded');
    expect(await stored(workspace.id)).toEqual({ files: live, blobs: live, filesWithoutBytes: 0, bytesWithoutFile: 0 });
    expect(attachmentBytesInMemory()).toEqual({ held: 0, waiting: 0 });
  }, 120_000);
});
