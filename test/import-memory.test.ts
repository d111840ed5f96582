import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliMeasured } from './support/child-peak-rss.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { DEFAULT_ZENDESK_AUTH, generateZendesk, startFakeProvider, type FakeProvider } from './support/fake-provider/index.ts';
import { makeWorkspace, TEST_SECRETS_KEY } from './support/workspaces.ts';

/**
 * The import worker's memory stays bounded by its byte budget, not by what a page holds: a real
 * `intake import zendesk` process imports 120 comments that each carry a 5 MB PDF (two export
 * pages, the first with 500 MB of files) and its peak resident set stays under 300 MB, with every
 * comment and every file stored exactly once.
 */

const MB = 1024 * 1024;
const TICKETS = 120;
const DOCUMENT_BYTES = 5 * MB;
const PEAK_RSS_LIMIT = 300 * MB;

let db: TestDatabase;
let fake: FakeProvider;
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
});

afterAll(async () => {
  await fake?.close();
  await db?.close();
  await rm(dataDir, { recursive: true, force: true });
});

const env = () => ({ DATABASE_URL: db.url, DATA_DIR: dataDir, SECRETS_KEY: TEST_SECRETS_KEY.toString('hex'), LOG_LEVEL: 'silent' });
const importArgs = (workspaceId: string) => [
  'import', 'zendesk', '--workspace', workspaceId, '--subdomain', 'acme', '--email', DEFAULT_ZENDESK_AUTH.email, '--token', DEFAULT_ZENDESK_AUTH.apiToken,
  '--base-url', fake.url, '--once', '--json',
];

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
    const after = await db.pool.query(
      `SELECT (SELECT count(*)::int FROM attachments WHERE workspace_id = $1) AS files, (SELECT count(*)::int FROM attachment_blobs WHERE workspace_id = $1) AS blobs`,
      [workspace.id],
    );
    expect(after.rows[0]).toEqual({ files: comments, blobs: comments });
  }, 300_000);
});
