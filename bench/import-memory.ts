import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Pool } from '../src/db/pool.ts';
import { createWorkspace } from '../src/domain/workspaces.ts';
import { runCliMeasured, type MeasuredRun } from '../test/support/child-peak-rss.ts';
import { DEFAULT_ZENDESK_AUTH, generateZendesk, startFakeProvider } from '../test/support/fake-provider/index.ts';
import { openBenchDatabase } from './support/bench-database.ts';
import { env, mb } from './support/import-bench.ts';

/**
 * Peak memory of a real import worker process (`intake import zendesk --once`) on a Zendesk
 * account where every comment carries a large file (default 200 comments x 5 MB: two export pages
 * of 500 MB of files each), beside a baseline measured in the same run: the same account without
 * the files. The peak is the kernel's high-water mark of the child's resident set (VmHWM).
 * Target: under 300 MB, with every comment and file stored once.
 */

const MB = 1024 * 1024;
const TARGET = 300 * MB;

export async function benchImportMemory(): Promise<void> {
  const tickets = env('BENCH_MEMORY_TICKETS', 200);
  const documentBytes = env('BENCH_MEMORY_FILE_MB', 5) * MB;
  const db = await openBenchDatabase();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'intake-bench-memory-'));
  try {
    const baseline = await importOnce(db.pool, db.url, dataDir, tickets, 0);
    const files = await importOnce(db.pool, db.url, dataDir, tickets, documentBytes);
    console.log(`import-memory (${tickets} tickets x 1 comment, every comment with a ${documentBytes / MB} MB file, pages of 100 tickets, ${db.describe})`);
    console.log(`  baseline, the same account without files: peak RSS ${mb(baseline.run.peakRssBytes)} in ${baseline.run.seconds.toFixed(1)} s`);
    console.log(
      `  with the files (${mb(files.storedBytes)} stored): peak RSS ${mb(files.run.peakRssBytes)} in ${files.run.seconds.toFixed(1)} s` +
        ` (ratio ${(files.run.peakRssBytes / baseline.run.peakRssBytes).toFixed(2)}x of baseline; target < ${mb(TARGET)}: ${files.run.peakRssBytes < TARGET ? 'met' : 'NOT met'})`,
    );
    console.log(`  stored once each: ${files.comments} comments, ${files.attachments} attachments (${files.accepted} accepted), ${files.blobs} blobs; expected ${files.expected} of each`);
    if (files.comments !== files.expected || files.accepted !== files.expected || files.blobs !== files.expected) throw new Error('the import did not store every comment and file exactly once');
  } finally {
    await rm(dataDir, { recursive: true, force: true });
    await db.close();
  }
}

async function importOnce(pool: Pool, url: string, dataDir: string, tickets: number, documentBytes: number) {
  const source = generateZendesk({ users: 50, tickets, commentsPerTicket: 1, seed: 3, imageEvery: 0, exeEvery: 0, documentBytes });
  let live = 0;
  for (let i = 0; i < source.ticketCount; i++) if (source.ticketAt(i, '').status !== 'deleted') live++;
  const fake = await startFakeProvider({ rateLimit: false, data: source });
  try {
    const secretsKey = randomBytes(32);
    const { workspace } = await createWorkspace(pool, secretsKey, { name: 'Memory', supportAddress: `help-${documentBytes}@memory.test` });
    const args = [
      'import', 'zendesk', '--workspace', workspace.id, '--subdomain', 'acme', '--email', DEFAULT_ZENDESK_AUTH.email, '--token', DEFAULT_ZENDESK_AUTH.apiToken,
      '--base-url', fake.url, '--once', '--json',
    ];
    const run: MeasuredRun = await runCliMeasured(args, { DATABASE_URL: url, DATA_DIR: dataDir, SECRETS_KEY: secretsKey.toString('hex'), LOG_LEVEL: 'silent' }, 1_800_000);
    if (run.code !== 0) throw new Error(`intake import exited with ${run.code}:\n${run.stdout}\n${run.stderr}`);
    const { rows } = await pool.query(
      `SELECT (SELECT count(*)::int FROM timeline_entries WHERE workspace_id = $1) AS comments,
              (SELECT count(*)::int FROM attachments WHERE workspace_id = $1) AS attachments,
              (SELECT count(*)::int FROM attachments WHERE workspace_id = $1 AND status = 'accepted') AS accepted,
              (SELECT count(*)::int FROM attachment_blobs WHERE workspace_id = $1) AS blobs,
              (SELECT coalesce(sum(size), 0)::bigint FROM attachment_blobs WHERE workspace_id = $1) AS stored`,
      [workspace.id],
    );
    const r = rows[0];
    return { run, comments: r.comments, attachments: r.attachments, accepted: r.accepted, blobs: r.blobs, storedBytes: Number(r.stored), expected: documentBytes > 0 ? live : 0 };
  } finally {
    await fake.close();
  }
}
