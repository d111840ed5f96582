import { Command, InvalidArgumentError, Option } from 'commander';
import { IMPORT_ADAPTERS } from '../../importers/index.ts';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { InputError } from '../domain/input-error.ts';
import { getWorkspace } from '../domain/workspaces.ts';
import type { ImportAdapter } from '../import/adapter.ts';
import { checkConnectionInput } from '../import/connect.ts';
import { ConnectionExistsError, createConnection, findLiveConnection, replaceCredentials, type ImportConnection } from '../import/connections.ts';
import { IMPORT_USER_AGENT } from '../import/user-agent.ts';
import { resolveLocalSecrets } from '../local-secrets.ts';
import { withDatabase } from './commands.ts';
import { queueRun, runInForeground } from './import-run.ts';
import { readSecrets } from './secrets-file.ts';

/**
 * `intake import connect <provider>`: one subcommand per registered adapter, its flags and
 * environment variables taken from the adapter's `cli` description, so a new provider needs no
 * change here.
 */

export type ConnectRequest = {
  provider: string;
  workspaceId: string;
  credentials: unknown;
  settings: unknown;
  scheduleSeconds: number;
  once: boolean;
  json: boolean;
};

/** The same bounds as the API's `schedule.everyMinutes`. */
export function scheduleMinutes(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 7 * 24 * 60) throw new InvalidArgumentError('a whole number of minutes from 1 to 10080.');
  return n;
}

/**
 * Checks the credentials with the provider, then keeps them on the workspace's live connection to
 * that same account (a re-authorisation) or on a new connection; then queues a run for the
 * service, or with `once` executes it here.
 */
export async function connectAndRun(config: Config, request: ConnectRequest): Promise<number> {
  const secrets = await resolveLocalSecrets(config);
  return withDatabase(
    config,
    async (db) => {
      if (!(await getWorkspace(db.pool, request.workspaceId))) {
        throw new InputError('No such workspace', [{ field: '--workspace', message: `no workspace ${request.workspaceId} (see \`intake workspace create\`)`, type: 'NOT_FOUND' }]);
      }
      const connection = await connectOrReuse(db, secrets.secretsKey, request);
      if (!request.once) return queueRun(db, connection, request.json);
      return runInForeground(config, db, secrets.secretsKey, connection, request.json);
    },
    4,
  );
}

async function connectOrReuse(db: Database, secretsKey: Buffer, request: ConnectRequest): Promise<ImportConnection> {
  const input = { provider: request.provider, credentials: request.credentials, settings: request.settings, scheduleSeconds: request.scheduleSeconds };
  // The operator's own command line may point at a local server (the fake provider, a sandbox).
  const checked = await checkConnectionInput(IMPORT_ADAPTERS, input, { allowPrivate: true, userAgent: IMPORT_USER_AGENT });
  // The account id from verify() namespaces the ledger: the same account again is the same connection.
  const reuse = async (): Promise<ImportConnection | null> => {
    const existing = await findLiveConnection(db.pool, request.workspaceId, request.provider, checked.account);
    if (existing) await replaceCredentials(db.pool, secretsKey, existing.id, checked.credentials);
    return existing;
  };
  const existing = await reuse();
  if (existing) return existing;
  try {
    return await createConnection(db.pool, secretsKey, {
      workspaceId: request.workspaceId,
      provider: request.provider,
      account: checked.account,
      credentials: checked.credentials,
      settings: checked.settings,
      scheduleSeconds: request.scheduleSeconds,
    });
  } catch (err) {
    if (!(err instanceof ConnectionExistsError)) throw err;
    // Another command connected the same account a moment ago: use that one.
    const raced = await reuse();
    if (!raced) throw err;
    return raced;
  }
}

type CommonOptions = { workspace: string; baseUrl?: string; scheduleMinutes?: number; secretsFile?: string; once?: boolean; json?: boolean };

/** `connect`'s help: each provider with its options and environment variables. */
function providersHelp(): string {
  const lines = ['', 'Providers (details: intake import connect <provider> --help):'];
  for (const [name, adapter] of Object.entries(IMPORT_ADAPTERS)) {
    lines.push(`  ${name} (${adapter.displayName})`);
    for (const o of adapter.cli.options) lines.push(`    ${o.flags.padEnd(26)} ${o.description}${o.required ? ' (required)' : ''}`);
    for (const s of adapter.cli.secrets) lines.push(`    ${`$${s.env}`.padEnd(26)} ${s.description}`);
  }
  lines.push(
    '',
    'Every provider also takes --workspace <id> (required), --base-url <url>, --schedule-minutes <n>,',
    '--secrets-file <path>, --once and --json. Secrets ($NAME above) come from the environment or from',
    'a --secrets-file of NAME=value lines, never from argv (ps shows it).',
  );
  return lines.join('\n');
}

function secretsHelp(adapter: ImportAdapter<any, any>): string {
  return [
    '',
    'Secrets, from the environment or from --secrets-file (never from argv, which ps shows):',
    ...adapter.cli.secrets.map((s) => `  ${s.env.padEnd(24)} ${s.description}`),
    '',
    'The secrets file is .env-style: NAME=value lines, # comments, quote a value holding spaces or #;',
    'a name in the file wins over the environment.',
    'Connecting the same account again re-uses its connection with the new credentials (re-authorisation).',
  ].join('\n');
}

/** Adds `connect` and one subcommand per registered provider under `importing`. */
export function addConnectCommand(importing: Command, config: () => Config): void {
  const connect = importing
    .command('connect')
    .description("connect a provider account to a workspace (checked with the provider first) and import it; --once runs the import here")
    .addHelpText('after', providersHelp());
  for (const [name, adapter] of Object.entries(IMPORT_ADAPTERS)) {
    const command = connect
      .command(name)
      .description(`connect a ${adapter.displayName} account to a workspace and import it`)
      .requiredOption('--workspace <id>', 'the workspace to import into');
    for (const o of adapter.cli.options) {
      const option = new Option(o.flags, o.description);
      command.addOption(o.required ? option.makeOptionMandatory() : option);
    }
    command
      .option('--base-url <url>', `another ${adapter.displayName} base URL (a sandbox, or the fake provider for tests and the demo)`)
      .addOption(new Option('--schedule-minutes <n>', 'minutes between incremental runs').argParser(scheduleMinutes).default(5))
      .option('--secrets-file <path>', 'read the secrets below from this file (NAME=value lines) as well as the environment')
      .option('--once', 'run the import now, in this process, with a progress bar, and print a summary')
      .option('--json', 'print only one JSON object: the run (and with --once its counts per stream)')
      .addHelpText('after', secretsHelp(adapter))
      .action(async (options: CommonOptions & Record<string, unknown>) => {
        const secrets = await readSecrets(adapter.cli.secrets, process.env, options.secretsFile);
        const built = adapter.cli.build(options, secrets);
        if (typeof built === 'string') {
          throw new InputError(`Missing ${adapter.displayName} credentials`, [{ field: 'credentials', message: built, type: 'REQUIRED' }]);
        }
        process.exitCode = await connectAndRun(config(), {
          provider: name,
          workspaceId: options.workspace,
          credentials: built.credentials,
          settings: built.settings,
          scheduleSeconds: (options.scheduleMinutes ?? 5) * 60,
          once: options.once === true,
          json: options.json === true,
        });
      });
  }
}
