import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { makeWorkspace, TEST_SECRETS_KEY } from './support/workspaces.ts';

/**
 * `intake parse` and `intake ingest` as the real command on what users feed them: mbox exports
 * (several messages, each after a `From ` separator line), a preamble, senders without From, and
 * raw 8-bit headers.
 */

let db: TestDatabase;
let dir: string;

beforeAll(async () => {
  db = await createTestDatabase();
  dir = await mkdtemp(path.join(tmpdir(), 'intake-inbound-cli-'));
}, 120_000);

afterAll(async () => {
  await db?.close();
  await rm(dir, { recursive: true, force: true });
});

const env = () => ({ DATABASE_URL: db.url, DATA_DIR: dir, SECRETS_KEY: TEST_SECRETS_KEY.toString('hex'), LOG_LEVEL: 'silent' });
const lines = (stdout: string) => stdout.trim().split('\n').map((l) => JSON.parse(l));

// An mbox export as Thunderbird writes it: LF line ends, a `From - date` separator, `>From ` escapes.
const MBOX = Buffer.concat([
  Buffer.from('From - Mon Nov 02 09:00:00 2026\nFrom: Jane Doe <jane@nike.com>\nTo: help@acme.com\nSubject: Printer on fire\nMessage-ID: <mbox-1@nike.com>\nDate: Mon, 2 Nov 2026 09:00:00 +0000\n\nStill burning.\n>From the start.\n\n'),
  Buffer.from('From - Tue Nov 03 10:00:00 2026\nReply-To: Carla <carla@initech.com>\nTo: help@acme.com\nSubject: No From here\nMessage-ID: <mbox-2@initech.com>\n\nHello.\n\n'),
  Buffer.from('From - Wed Nov 04 11:00:00 2026\nFrom: jane@nike.com\nTo: help@acme.com\nContent-Type: text/plain; charset=iso-8859-1\nMessage-ID: <mbox-3@nike.com>\nSubject: =?iso-8859-1?Q?Die_Hasen_und_die_Fr', 'latin1'),
  Buffer.from([0xf6]),
  Buffer.from('sche?=\nDate: Fri, 27 Apr 2018 19:00:00 +0100 (West-Europe (stand\n\nHallo.\n'),
]);

describe('intake parse', () => {
  it('prints one line per message of an mbox export, with the sender header used and raw 8-bit headers decoded', async () => {
    const file = path.join(dir, 'export.mbox');
    await writeFile(file, MBOX);
    const res = await runCli(['parse', file], env());
    expect(res.code, res.stderr).toBe(0);
    const out = lines(res.stdout);
    expect(out.map((o) => [o.message, o.from?.address, o.senderHeader, o.subject])).toEqual([
      [1, 'jane@nike.com', 'From', 'Printer on fire'],
      [2, 'carla@initech.com', 'Reply-To', 'No From here'],
      [3, 'jane@nike.com', 'From', 'Die Hasen und die Frösche'],
    ]);
    expect(out[0].date).toBe('2026-11-02T09:00:00.000Z');
    expect(out[2]).toMatchObject({ date: null, unparsedDate: 'Fri, 27 Apr 2018 19:00:00 +0100 (West-Europe (stand' });
  });

  it('reads a message behind a preamble and a bounce from MAILER-DAEMON', async () => {
    const preamble = path.join(dir, 'gateway.eml');
    await writeFile(preamble, 'Received by the acme gateway\r\nFrom: Jane <jane@nike.com>\r\nTo: help@acme.com\r\nSubject: Behind a banner\r\n\r\nx\r\n');
    const bounce = path.join(dir, 'bounce.eml');
    await writeFile(bounce, 'From: MAILER-DAEMON\r\nReturn-Path: <>\r\nTo: help@acme.com\r\nSubject: Undelivered Mail Returned to Sender\r\n\r\nThe mail system\r\n');
    const res = await runCli(['parse', preamble, bounce], env());
    expect(res.code, res.stderr).toBe(0);
    const [first, second] = lines(res.stdout);
    expect(first).toMatchObject({ from: { address: 'jane@nike.com', name: 'Jane' }, subject: 'Behind a banner' });
    expect(second).toMatchObject({ from: { address: 'mailer-daemon', name: null }, classification: { bounce: true } });
  });
});

describe('intake ingest', () => {
  it('ingests every message of an mbox export into the workspace', async () => {
    const { workspace } = await makeWorkspace(db.pool, 'Acme', 'help@acme.com');
    const file = path.join(dir, 'ingest.mbox');
    await writeFile(file, MBOX);
    const res = await runCli(['ingest', file, '--workspace', workspace.id], env(), 120_000);
    expect(res.code, res.stderr).toBe(0);
    const out = lines(res.stdout);
    expect(out.map((o) => [o.message, o.status, o.classification?.senderHeader])).toEqual([
      [1, 'processed', 'From'],
      [2, 'processed', 'Reply-To'],
      [3, 'processed', 'From'],
    ]);
    const { rows } = await db.pool.query(
      `SELECT t.title, c.email FROM threads t JOIN customers c ON c.id = t.customer_id WHERE t.workspace_id = $1 ORDER BY t.title`,
      [workspace.id],
    );
    expect(rows).toEqual([
      { title: 'Die Hasen und die Frösche', email: 'jane@nike.com' },
      { title: 'No From here', email: 'carla@initech.com' },
      { title: 'Printer on fire', email: 'jane@nike.com' },
    ]);
  });
});
