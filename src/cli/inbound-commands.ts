import fs from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.ts';
import { InputError } from '../domain/input-error.ts';
import { stripNul } from '../domain/text.ts';
import { getWorkspace } from '../domain/workspaces.ts';
import { openDatabase } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { withTransaction } from '../db/pool.ts';
import { getInbound, recordFailure, dedupeKey, storeInbound } from '../inbound/ledger.ts';
import { parseReport } from '../inbound/parse-report.ts';
import { splitMbox } from '../inbound/mbox.ts';
import { parseStoredEmail } from '../inbound/parse-stored.ts';
import { postmarkDeliveryId } from '../inbound/postmark-payload.ts';
import { processInboundEmail } from '../inbound/process-inbound-email.ts';
import { threadTokenKey } from '../domain/thread-token.ts';
import { resolveLocalSecrets } from '../local-secrets.ts';

const sourceOf = (file: string) => (file.toLowerCase().endsWith('.json') ? 'postmark' : 'mime');

/** A file's messages: an mbox export holds several (mbox.ts), a Postmark JSON file one. */
function messagesOf(file: string, raw: Buffer): Buffer[] {
  return sourceOf(file) === 'postmark' ? [raw] : splitMbox(raw);
}

/**
 * `intake parse FILE...`: one JSON line per message (an mbox file gives one per message, with its
 * `message` number); a message that cannot be parsed prints its error and the rest go on.
 */
export async function parseCommand(files: string[]): Promise<number> {
  let failures = 0;
  for (const file of files) {
    let messages: Buffer[];
    try {
      messages = messagesOf(file, await fs.readFile(file));
    } catch (err) {
      failures++;
      process.stdout.write(`${JSON.stringify({ file, error: err instanceof Error ? err.message : String(err) })}\n`);
      continue;
    }
    for (const [i, raw] of messages.entries()) {
      const at = messages.length > 1 ? { message: i + 1 } : {};
      try {
        const report = await parseReport(file, raw);
        process.stdout.write(`${JSON.stringify({ ...report, ...at })}\n`);
      } catch (err) {
        failures++;
        process.stdout.write(`${JSON.stringify({ file, ...at, error: stripNul(err instanceof Error ? err.message : String(err)) })}\n`);
      }
    }
  }
  return failures === 0 ? 0 : 1;
}

/**
 * `intake ingest FILE --workspace ID`: the whole pipeline, in this process, into that workspace;
 * every message of an mbox file, one JSON line each.
 */
export async function ingestCommand(config: Config, file: string, workspaceId: string): Promise<number> {
  const messages = messagesOf(file, await fs.readFile(file));
  const source = sourceOf(file);
  // One message is parsed before the database opens, so a file that is not mail fails fast; in an
  // mbox, a message that cannot be parsed is stored and rejected with the reason like any other.
  const first = messages.length === 1 ? await parseStoredEmail(source, messages[0]!) : null;
  const secrets = await resolveLocalSecrets(config);
  const db = await openDatabase(config, { poolSize: 2, applicationName: 'intake-cli' });
  try {
    await migrate(db.pool);
    // Before anything is stored: an unknown workspace is the caller's typo, said in one line (exit 2).
    if (!(await getWorkspace(db.pool, workspaceId))) {
      throw new InputError('No such workspace', [{ field: '--workspace', message: `no workspace ${workspaceId} (see \`intake workspace create\`)`, type: 'NOT_FOUND' }]);
    }
    let ok = true;
    for (const [i, raw] of messages.entries()) {
      const providerId = source === 'postmark' ? postmarkDeliveryId(String((JSON.parse(raw.toString('utf8')) as { MessageID?: unknown }).MessageID ?? '')) : null;
      const email = first ?? (await parseStoredEmail(source, raw).catch(() => null));
      const stored = await withTransaction(db.pool, (tx) => storeInbound(tx, { source, raw, dedupeKey: dedupeKey(source, raw, providerId || null), messageId: email?.messageId ?? null }));
      try {
        await processInboundEmail({ pool: db.pool, inboundDomain: config.inboundDomain, threadTokenKey: threadTokenKey(secrets.secretsKey) }, stored.id, { workspaceId });
      } catch (err) {
        await recordFailure(db.pool, stored.id, err instanceof Error ? err.message : String(err), true);
      }
      const { rows } = await db.pool.query('SELECT workspace_id FROM inbound_emails WHERE id = $1', [stored.id]);
      const record = await getInbound(db.pool, rows[0]?.workspace_id ?? workspaceId, stored.id);
      const at = messages.length > 1 ? { message: i + 1 } : {};
      const out = { file: path.basename(file), ...at, inboundEmailId: stored.id, duplicateDelivery: stored.duplicate, ...record, id: undefined };
      process.stdout.write(`${JSON.stringify(out)}\n`);
      if (!record || !['processed', 'duplicate'].includes(record.status)) ok = false;
    }
    return ok ? 0 : 1;
  } finally {
    await db.close();
  }
}
