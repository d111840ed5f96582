import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOrCreateCustomerByEmail } from '../src/domain/customers.ts';
import { createThread } from '../src/domain/threads.ts';
import { addTimelineEntry } from '../src/domain/timeline-entries.ts';
import { makeThreadToken } from '../src/domain/thread-token.ts';
import { AUTH_HEADER, startInboundHarness, type InboundHarness } from './support/inbound-harness.ts';
import { makeWorkspace } from './support/workspaces.ts';

const DIR = fileURLToPath(new URL('./fixtures/inbound/', import.meta.url));

type Expected = {
  status: string;
  workspace: 'acme' | 'globex' | null;
  classification: { bounce: boolean; autoReply: boolean; bulk: boolean; forwardedBy: string | null };
  customer: { email: string; fullName: string; company: string | null } | null;
  thread: { title: string; status: string; sameThreadAs: string | null } | null;
  entry: { kind: string; textIncludes: string[]; textExcludes: string[] } | null;
  note: { textIncludes: string[] } | null;
  attachments: Array<{ fileName: string; status: string; code: string | null }>;
  bounceOf: string | null;
};

let h: InboundHarness;
const workspaces: Record<string, string> = {};
const threadOf = new Map<string, string>();

beforeAll(async () => {
  h = await startInboundHarness();
  const acme = await makeWorkspace(h.db.pool, 'Acme', 'help@acme.com');
  const globex = await makeWorkspace(h.db.pool, 'Globex', 'support@globex.com');
  workspaces.acme = acme.workspace.id;
  workspaces.globex = globex.workspace.id;
  // The corpus addresses these inbound tokens.
  await h.db.pool.query(`UPDATE workspaces SET inbound_token = 'acme7f3a9c', alternate_addresses = '{billing@acme.com}' WHERE id = $1`, [acme.workspace.id]);
  await h.db.pool.query(`UPDATE workspaces SET inbound_token = 'globex42d1e0' WHERE id = $1`, [globex.workspace.id]);
  // Our one earlier outbound email, which the bounces in the corpus refer to.
  const ctx = { db: h.db.pool, workspaceId: acme.workspace.id, origin: 'api' as const };
  const { customer } = await findOrCreateCustomerByEmail(ctx, { email: 'gone@expired-domain.example', fullName: 'Gone' });
  const welcome = await createThread(ctx, { customerId: customer.id, title: 'Welcome to Acme', channel: 'EMAIL' });
  await addTimelineEntry(ctx, { threadId: welcome.id, kind: 'outbound_email', author: { type: 'user', name: 'Acme', email: 'help@acme.com' }, text: 'Welcome!', messageId: 'out-0001@mail.intake.test' });
}, 120_000);
afterAll(async () => h.close());

async function postFixture(name: string, file: string): Promise<string> {
  let raw = await fs.readFile(path.join(DIR, file));
  const text = raw.toString('latin1');
  if (text.includes('{{THREAD_TOKEN:')) {
    raw = Buffer.from(
      text.replace(/\{\{THREAD_TOKEN:([^}]+)\}\}/g, (_m, fixture: string) => {
        const threadId = threadOf.get(fixture);
        if (!threadId) throw new Error(`${name}: no thread from fixture ${fixture} yet`);
        return makeThreadToken(h.tokenKey, workspaces.acme!, threadId);
      }),
      'latin1',
    );
  }
  const isJson = file.endsWith('.json');
  const res = await h.app.inject({
    method: 'POST',
    url: isJson ? '/inbound/postmark' : '/inbound/mime',
    payload: raw,
    headers: { 'content-type': isJson ? 'application/json' : 'message/rfc822', authorization: AUTH_HEADER },
  });
  expect(res.statusCode, `${name}: ${res.body}`).toBe(200);
  return res.json().inboundEmailId;
}

const files = (await fs.readdir(DIR)).filter((f) => /^\d{3}-.*\.(eml|json)$/.test(f) && !f.endsWith('.expected.json')).sort();

describe('fixture corpus replayed through the HTTP endpoints', () => {
  it('has at least 40 fixtures, each with an expected result', async () => {
    expect(files.length).toBeGreaterThanOrEqual(40);
    for (const f of files) await expect(fs.access(path.join(DIR, f.replace(/\.(eml|json)$/, '.expected.json')))).resolves.toBeUndefined();
  });

  it.each(files)('%s', async (file) => {
    const name = file.replace(/\.(eml|json)$/, '');
    const expected: Expected = JSON.parse(await fs.readFile(path.join(DIR, `${name}.expected.json`), 'utf8'));
    const id = await postFixture(name, file);
    const row = await h.settled(id);
    if (row.thread_id) threadOf.set(name, row.thread_id as string);

    expect(row.status, `status (${row.error_message ?? ''})`).toBe(expected.status);
    expect(row.workspace_id ?? null).toBe(expected.workspace ? workspaces[expected.workspace] : null);
    if (expected.status === 'processed') {
      const c = row.classification as Record<string, unknown>;
      expect({ bounce: c.bounce, autoReply: c.autoReply, bulk: c.bulk, forwardedBy: c.forwardedBy }).toEqual(expected.classification);
    }

    if (expected.customer === null) expect(row.customer_id).toBeNull();
    else {
      const { rows } = await h.db.pool.query(
        'SELECT c.email, c.full_name, co.name AS company FROM customers c LEFT JOIN companies co ON co.id = c.company_id WHERE c.id = $1',
        [row.customer_id],
      );
      expect({ email: rows[0]?.email, fullName: rows[0]?.full_name, company: rows[0]?.company ?? null }).toEqual(expected.customer);
    }

    if (expected.thread === null) expect(row.thread_id).toBeNull();
    else {
      const { rows } = await h.db.pool.query('SELECT title, status FROM threads WHERE id = $1', [row.thread_id]);
      expect({ title: rows[0]?.title, status: rows[0]?.status }).toEqual({ title: expected.thread.title, status: expected.thread.status });
      if (expected.thread.sameThreadAs) expect(row.thread_id, `same thread as ${expected.thread.sameThreadAs}`).toBe(threadOf.get(expected.thread.sameThreadAs));
      else {
        const earlier = [...threadOf.entries()].filter(([n]) => n !== name).find(([, t]) => t === row.thread_id);
        expect(earlier?.[0], 'a new thread').toBeUndefined();
      }
    }

    if (expected.entry === null) expect(row.timeline_entry_id).toBeNull();
    else {
      const { rows } = await h.db.pool.query('SELECT kind, reply_text, text FROM timeline_entries WHERE id = $1', [row.timeline_entry_id]);
      expect(rows[0]?.kind).toBe(expected.entry.kind);
      const reply = String(rows[0]?.reply_text ?? '');
      for (const phrase of expected.entry.textIncludes) expect(reply, 'reply text').toContain(phrase);
      for (const phrase of expected.entry.textExcludes) expect(reply, 'reply text').not.toContain(phrase);
    }

    if (expected.note) {
      const { rows } = await h.db.pool.query(`SELECT text FROM timeline_entries WHERE thread_id = $1 AND kind = 'note' AND author_type = 'user'`, [row.thread_id]);
      const notes = rows.map((r) => String(r.text)).join('\n---\n');
      for (const phrase of expected.note.textIncludes) expect(notes, 'note').toContain(phrase);
    }

    const { rows: attachments } = await h.db.pool.query('SELECT file_name, status, code FROM attachments WHERE timeline_entry_id = $1 ORDER BY position', [row.timeline_entry_id]);
    expect(attachments.map((a) => ({ fileName: a.file_name, status: a.status, code: a.code }))).toEqual(expected.attachments);

    if (expected.bounceOf) {
      const { rows } = await h.db.pool.query('SELECT message_id FROM timeline_entries WHERE id = $1', [row.bounce_of_entry_id]);
      expect(rows[0]?.message_id).toBe(expected.bounceOf);
    } else expect(row.bounce_of_entry_id).toBeNull();
  });
});

describe('generated cases', () => {
  it('7 MB of attachments: files are taken in order until 6 MB, the rest refused, the email lands', async () => {
    const mb = (n: number, fill: number) => Buffer.alloc(Math.round(n * 1024 * 1024), fill);
    const raw = await new Promise<Buffer>((resolve, reject) =>
      nodemailer.createTransport({ streamTransport: true, buffer: true }).sendMail(
        {
          from: 'Big Sender <big@initech.com>',
          to: 'help@acme.com',
          subject: 'Logs attached',
          text: 'Here are the logs.',
          messageId: '<seven-mb@initech.com>',
          attachments: [
            { filename: 'a.log', content: mb(2.5, 0x61) },
            { filename: 'b.log', content: mb(2.5, 0x62) },
            { filename: 'c.log', content: mb(1.5, 0x63) },
            { filename: 'd.log', content: mb(0.5, 0x64) },
          ],
        },
        (err, info) => (err ? reject(err) : resolve(info.message as Buffer)),
      ),
    );
    const res = await h.app.inject({ method: 'POST', url: '/inbound/mime', payload: raw, headers: { 'content-type': 'message/rfc822', authorization: AUTH_HEADER } });
    expect(res.statusCode).toBe(200);
    const row = await h.settled(res.json().inboundEmailId, 60_000);
    expect(row.status).toBe('processed');
    const { rows } = await h.db.pool.query('SELECT file_name, status, code, size FROM attachments WHERE timeline_entry_id = $1 ORDER BY position', [row.timeline_entry_id]);
    expect(rows.map((r) => [r.file_name, r.status, r.code])).toEqual([
      ['a.log', 'accepted', null],
      ['b.log', 'accepted', null],
      ['c.log', 'rejected', 'attachment_file_size_too_large'],
      ['d.log', 'accepted', null],
    ]);
    // The raw payload keeps the refused bytes.
    const stored = await h.db.pool.query('SELECT raw_size FROM inbound_emails WHERE id = $1', [row.id]);
    expect(stored.rows[0].raw_size).toBe(raw.length);
  });
});
