import { describe, expect, it } from 'vitest';
import { AUTH_HEADER, INBOUND_DOMAIN, inboundHarnessWithAcme } from './support/inbound-harness.ts';

/**
 * What an email leaves in the database is stored without TOAST compression (migration 014): on
 * this PostgreSQL that is pglz, which cost receipt and processing CPU on every email. Bodies that
 * compress well are the case that would otherwise be compressed.
 */

const ctx = inboundHarnessWithAcme();

const paragraph = 'The export job fails with a timeout after about ten minutes since we upgraded. ';

describe('stored bodies', () => {
  it('the raw payload, the entry’s text, HTML and reply text and its event are stored whole and uncompressed, and read back byte for byte', async () => {
    // 3 MB of raw: more than one 1 MiB slice when read back.
    const text = `Hi,\n\n${paragraph.repeat(40_000)}\n\nJane`;
    const raw = Buffer.from(
      `From: Jane Doe <jane@nike.com>\r\nTo: ${ctx.acme.workspace.inboundToken}@${INBOUND_DOMAIN}\r\nSubject: Export failing\r\nMessage-ID: <stored-1@mail.nike.com>\r\n` +
        `MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${text}\r\n` +
        `--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>${text}</p>\r\n--b--\r\n`,
    );
    const res = await ctx.h.app.inject({ method: 'POST', url: '/inbound/mime', payload: raw, headers: { 'content-type': 'message/rfc822', authorization: AUTH_HEADER } });
    expect(res.statusCode).toBe(200);
    const id = res.json().inboundEmailId as string;
    expect((await ctx.h.settled(id)).status).toBe('processed');

    const { rows } = await ctx.h.db.pool.query(
      `SELECT pg_column_compression(i.raw) AS raw, octet_length(i.raw) AS "rawBytes", pg_column_compression(e.text) AS text, pg_column_compression(e.html) AS html,
              pg_column_compression(e.reply_text) AS "replyText", length(e.text) AS "textChars", (SELECT pg_column_compression(v.payload) FROM events v WHERE v.payload->'entry'->>'id' = e.id) AS event
         FROM inbound_emails i JOIN timeline_entries e ON e.id = i.timeline_entry_id WHERE i.id = $1`,
      [id],
    );
    expect(rows[0]).toMatchObject({ raw: null, rawBytes: raw.length, text: null, html: null, replyText: null, event: null });
    expect(rows[0].textChars).toBeGreaterThan(10_000);

    const download = await ctx.h.app.inject({ method: 'GET', url: `/v1/inbound-emails/${id}/raw`, headers: { authorization: `Bearer ${ctx.acme.apiKey}` } });
    expect(download.statusCode).toBe(200);
    expect(download.rawPayload.equals(raw)).toBe(true);
  });

  it('a raw payload an earlier version stored compressed still downloads byte for byte', async () => {
    const raw = Buffer.from(`From: jane@nike.com\r\nTo: ${ctx.acme.workspace.inboundToken}@${INBOUND_DOMAIN}\r\nSubject: Old\r\n\r\n${paragraph.repeat(30_000)}`);
    const client = await ctx.h.db.pool.connect();
    try {
      // As before migration 014, in this test's own database.
      await client.query('ALTER TABLE inbound_emails ALTER COLUMN raw SET STORAGE EXTENDED');
      await client.query(
        `INSERT INTO inbound_emails (id, workspace_id, source, dedupe_key, raw, raw_size, status) VALUES ('ie_old_1', $1, 'mime', 'old-1', $2, $3, 'processed')`,
        [ctx.acme.workspace.id, raw, raw.length],
      );
    } finally {
      await client.query('ALTER TABLE inbound_emails ALTER COLUMN raw SET STORAGE EXTERNAL');
      client.release();
    }
    const { rows } = await ctx.h.db.pool.query(`SELECT pg_column_compression(raw) AS method FROM inbound_emails WHERE id = 'ie_old_1'`);
    expect(rows[0].method).toBe('pglz');
    const download = await ctx.h.app.inject({ method: 'GET', url: '/v1/inbound-emails/ie_old_1/raw', headers: { authorization: `Bearer ${ctx.acme.apiKey}` } });
    expect(download.statusCode).toBe(200);
    expect(download.rawPayload.equals(raw)).toBe(true);
  });
});
