import fs from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.ts';
import { openDatabase } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { withTransaction } from '../db/pool.ts';
import { getInbound, recordFailure, dedupeKey, storeInbound } from '../inbound/ledger.ts';
import { parseReport } from '../inbound/parse-report.ts';
import { parseStoredEmail } from '../inbound/parse-stored.ts';
import { processInboundEmail } from '../inbound/process-inbound-email.ts';
import { threadTokenKey } from '../domain/thread-token.ts';
import { resolveLocalSecrets } from '../local-secrets.ts';

const sourceOf = (file: string) => (file.toLowerCase().endsWith('.json') ? 'postmark' : 'mime');

/** `intake parse FILE...`: one JSON line per file; a file that cannot be parsed prints its error and the rest go on. */
export async function parseCommand(files: string[]): Promise<number> {
  let failures = 0;
  for (const file of files) {
    try {
      const report = await parseReport(file, await fs.readFile(file));
      process.stdout.write(`${JSON.stringify(report)}\n`);
    } catch (err) {
      failures++;
      process.stdout.write(`${JSON.stringify({ file, error: err instanceof Error ? err.message : String(err) })}\n`);
    }
  }
  return failures === 0 ? 0 : 1;
}

/** `intake ingest FILE --workspace ID`: the whole pipeline, in this process, into that workspace. */
export async function ingestCommand(config: Config, file: string, workspaceId: string): Promise<number> {
  const raw = await fs.readFile(file);
  const source = sourceOf(file);
  const email = await parseStoredEmail(source, raw);
  const secrets = await resolveLocalSecrets(config);
  const db = await openDatabase(config, { poolSize: 2, applicationName: 'intake-cli' });
  try {
    await migrate(db.pool);
    const providerId = source === 'postmark' ? (JSON.parse(raw.toString('utf8')) as { MessageID?: string }).MessageID ?? null : null;
    const stored = await withTransaction(db.pool, (tx) => storeInbound(tx, { source, raw, dedupeKey: dedupeKey(source, raw, providerId), messageId: email.messageId }));
    try {
      await processInboundEmail({ pool: db.pool, inboundDomain: config.inboundDomain, threadTokenKey: threadTokenKey(secrets.secretsKey) }, stored.id, { workspaceId });
    } catch (err) {
      await recordFailure(db.pool, stored.id, err instanceof Error ? err.message : String(err), true);
    }
    const { rows } = await db.pool.query('SELECT workspace_id FROM inbound_emails WHERE id = $1', [stored.id]);
    const record = await getInbound(db.pool, rows[0]?.workspace_id ?? workspaceId, stored.id);
    const out = { file: path.basename(file), inboundEmailId: stored.id, duplicateDelivery: stored.duplicate, ...record, id: undefined };
    process.stdout.write(`${JSON.stringify(out)}\n`);
    return record && ['processed', 'duplicate'].includes(record.status) ? 0 : 1;
  } finally {
    await db.close();
  }
}
