import type { Config } from '../config.ts';
import { openDatabase, type Database } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { createWorkspace } from '../domain/workspaces.ts';
import { startJobs } from '../queue/boss.ts';
import { resolveLocalSecrets } from '../local-secrets.ts';
import { credentialsJson } from './credentials-file.ts';

/** Opens the database (joining a running `intake start`'s embedded server), migrated, for one command. */
export async function withDatabase<T>(config: Config, fn: (db: Database) => Promise<T>, poolSize = 2): Promise<T> {
  const db = await openDatabase(config, { poolSize, applicationName: 'intake-cli' });
  try {
    await migrate(db.pool);
    return await fn(db);
  } finally {
    await db.close();
  }
}

export async function migrateCommand(config: Config): Promise<void> {
  await withDatabase(config, async (db) => {
    // migrate() above ran ours; starting pg-boss once installs or upgrades its schema.
    const jobs = await startJobs(db.url, { onError: (err) => console.error(`job queue error: ${err.message}`), supervise: false, schedule: false });
    await jobs.stop();
    console.log('migrations are up to date');
  });
}

export async function workspaceCreateCommand(config: Config, options: { name: string; supportAddress: string; json?: boolean }): Promise<void> {
  const secrets = await resolveLocalSecrets(config);
  const created = await withDatabase(config, (db) =>
    createWorkspace(db.pool, secrets.secretsKey, { name: options.name, supportAddress: options.supportAddress }),
  );
  const out = credentialsJson(created, config.inboundDomain);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(out)}\n`);
    return;
  }
  console.log(
    [
      `Created workspace "${created.workspace.name}". The API key and webhook secret are shown once.`,
      `  workspaceId:    ${out.workspaceId}`,
      `  apiKey:         ${out.apiKey}`,
      `  inboundAddress: ${out.inboundAddress}`,
      `  webhookSecret:  ${out.webhookSecret}`,
    ].join('\n'),
  );
}
