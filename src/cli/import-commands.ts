import { Command, Option } from 'commander';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { InputError } from '../domain/input-error.ts';
import { disconnectConnection, getConnectionById, listAllConnections, type ImportConnection } from '../import/connections.ts';
import { latestRuns } from '../import/runs.ts';
import { resolveLocalSecrets } from '../local-secrets.ts';
import { withDatabase } from './commands.ts';
import { EXIT } from './exit-codes.ts';
import { addConnectCommand, connectAndRun, scheduleMinutes } from './import-connect.ts';
import { countLines } from './import-progress.ts';
import { queueRun, runInForeground } from './import-run.ts';

/** `intake import ...`: connect, run, status, disconnect, and `zendesk`, the form from before `connect`. */
export function addImportCommands(program: Command, config: () => Config): void {
  const importing = program.command('import').description('import history from a helpdesk (create-only: never updates what exists)');
  addConnectCommand(importing, config);
  importing
    .command('run')
    .description('start a new run of an existing connection: queued for `intake start`, or with --once here in the foreground')
    .argument('<connectionId>', 'the connection (ic_...), as `intake import status` lists it')
    .option('--once', 'run the import now, in this process, with a progress bar, and print a summary')
    .option('--json', 'print only one JSON object: the run (and with --once its counts per stream)')
    .action(async (connectionId: string, options: { once?: boolean; json?: boolean }) => {
      process.exitCode = await importRunCommand(config(), connectionId, options);
    });
  importing
    .command('status')
    .description('every import connection with its latest run')
    .option('--workspace <id>', 'only this workspace')
    .option('--json', 'print exactly one JSON object')
    .action(async (options: { workspace?: string; json?: boolean }) => {
      process.exitCode = await importStatusCommand(config(), options);
    });
  importing
    .command('disconnect')
    .description('stop future runs of a connection (an active run is cancelled); what was imported stays')
    .argument('<connectionId>', 'the connection (ic_...), as `intake import status` lists it; its workspace is looked up from it')
    .option('--json', 'print exactly one JSON object')
    .action(async (connectionId: string, options: { json?: boolean }) => {
      process.exitCode = await importDisconnectCommand(config(), connectionId, options);
    });
  importing
    .command('zendesk')
    .description('the same as `import connect zendesk`, with the token also accepted as --token (kept for scripts written before `connect`)')
    .requiredOption('--workspace <id>', 'the workspace to import into')
    .requiredOption('--subdomain <name>', 'the Zendesk subdomain (acme for acme.zendesk.com)')
    .option('--email <email>', "an admin's email, with --token")
    .addOption(new Option('--token <token>', 'a Zendesk API token (better: the environment, kept out of ps and shell history)').env('ZENDESK_API_TOKEN'))
    .addOption(new Option('--oauth-token <token>', 'an OAuth access token instead of --email/--token').env('ZENDESK_OAUTH_TOKEN'))
    .option('--base-url <url>', 'another Zendesk base URL (a sandbox, or the fake provider for tests and the demo)')
    .option('--page-size <n>', 'records per export page (1-1000)')
    .addOption(new Option('--schedule-minutes <n>', 'minutes between incremental runs').argParser(scheduleMinutes).default(5))
    .option('--once', 'run the import now, in this process, with a progress bar, and print a summary')
    .option('--json', 'print only one JSON object: the run status and counts per stream')
    .action(async (options: ZendeskImportOptions) => {
      process.exitCode = await importZendeskCommand(config(), options);
    });
}

export type ZendeskImportOptions = {
  workspace: string;
  subdomain: string;
  email?: string;
  token?: string;
  oauthToken?: string;
  baseUrl?: string;
  pageSize?: string;
  scheduleMinutes: number;
  once?: boolean;
  json?: boolean;
};

/** `intake import zendesk ...`: the flags of before `connect`, onto the same path. */
export async function importZendeskCommand(config: Config, o: ZendeskImportOptions): Promise<number> {
  if (!o.oauthToken && (!o.email || !o.token)) {
    throw new InputError('Missing credentials', [{ field: 'credentials', message: 'give --email and --token (API token), or --oauth-token', type: 'REQUIRED' }]);
  }
  const credentials = o.oauthToken ? { oauthToken: o.oauthToken } : { email: o.email, apiToken: o.token };
  const settings: Record<string, unknown> = { subdomain: o.subdomain };
  if (o.baseUrl) settings.baseUrl = o.baseUrl;
  if (o.pageSize) settings.pageSize = Number(o.pageSize);
  return connectAndRun(config, {
    provider: 'zendesk',
    workspaceId: o.workspace,
    credentials,
    settings,
    scheduleSeconds: o.scheduleMinutes * 60,
    once: o.once === true,
    json: o.json === true,
  });
}

/** The operator's commands name a connection by id alone: its workspace comes with it. */
async function connectionOrRefuse(db: Database, id: string): Promise<ImportConnection> {
  const connection = await getConnectionById(db.pool, id);
  if (!connection) throw new InputError('No such import connection', [{ field: 'connectionId', message: `no connection ${id} (see \`intake import status\`)`, type: 'NOT_FOUND' }]);
  return connection;
}

/** `intake import run <id>`: a new run (or the active one) of a connection, queued or here. */
export async function importRunCommand(config: Config, id: string, o: { once?: boolean; json?: boolean }): Promise<number> {
  const secrets = await resolveLocalSecrets(config);
  return withDatabase(
    config,
    async (db) => {
      const connection = await connectionOrRefuse(db, id);
      if (connection.status !== 'active') {
        const why =
          connection.status === 'disconnected'
            ? 'it is disconnected: connect the account again with `intake import connect`'
            : `it needs new credentials (${connection.lastError ?? 'refused'}): give them with \`intake import connect ${connection.provider} ...\``;
        throw new InputError(`Connection ${id} cannot run`, [{ field: 'connectionId', message: why, type: 'VALIDATION' }]);
      }
      if (!o.once) return queueRun(db, connection, o.json === true);
      return runInForeground(config, db, secrets.secretsKey, connection, o.json === true);
    },
    4,
  );
}

/** `intake import disconnect <id>`: no more runs; an active one is cancelled; the imported data stays. */
export async function importDisconnectCommand(config: Config, id: string, o: { json?: boolean }): Promise<number> {
  return withDatabase(config, async (db) => {
    const connection = await connectionOrRefuse(db, id);
    const done = (await disconnectConnection(db.pool, connection.workspaceId, id)) ?? connection;
    if (o.json) process.stdout.write(`${JSON.stringify({ connectionId: done.id, workspaceId: done.workspaceId, status: done.status })}\n`);
    else console.log(`Connection ${done.id} (${done.provider}/${done.account}, workspace ${done.workspaceId}) is disconnected: no more runs; what it imported stays.`);
    return EXIT.ok;
  });
}

/** `intake import status`: every connection with its latest run. */
export async function importStatusCommand(config: Config, o: { workspace?: string; json?: boolean }): Promise<number> {
  return withDatabase(config, async (db) => {
    const rows = await listAllConnections(db.pool, o.workspace ?? null);
    const latest = await latestRuns(db.pool, rows.map((r) => r.id));
    const list = rows.map((c) => {
      const r = latest.get(c.id);
      return {
        connectionId: c.id,
        workspaceId: c.workspaceId,
        provider: c.provider,
        account: c.account,
        status: c.status,
        lastError: c.lastError,
        nextRunAt: c.nextRunAt?.toISOString() ?? null,
        latestRun: r ? { id: r.id, kind: r.kind, status: r.status, streams: r.counts, startedAt: r.startedAt?.toISOString() ?? null, finishedAt: r.finishedAt?.toISOString() ?? null, error: r.error } : null,
      };
    });
    if (o.json) {
      process.stdout.write(`${JSON.stringify({ connections: list })}\n`);
      return EXIT.ok;
    }
    if (list.length === 0) console.log('No import connections.');
    for (const c of list) {
      console.log(`${c.connectionId}  ${c.provider}/${c.account}  workspace ${c.workspaceId}  ${c.status}${c.lastError ? ` (${c.lastError})` : ''}`);
      if (c.latestRun) {
        console.log(`  latest run ${c.latestRun.id} (${c.latestRun.kind}): ${c.latestRun.status}${c.latestRun.error ? ` (${c.latestRun.error})` : ''}`);
        for (const line of countLines(c.latestRun.streams, '    ')) console.log(line);
      }
      if (c.nextRunAt) console.log(`  next run at ${c.nextRunAt}`);
    }
    return EXIT.ok;
  });
}
