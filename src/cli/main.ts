import { Command, Option } from 'commander';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { InputError } from '../domain/input-error.ts';
import { migrateCommand, workspaceCreateCommand } from './commands.ts';
import { ingestCommand, parseCommand } from './inbound-commands.ts';
import { importStatusCommand, importZendeskCommand, type ZendeskImportOptions } from './import-commands.ts';
import { runService } from './start.ts';

function config(): Config {
  return loadConfig(process.env);
}

const program = new Command()
  .name('intake')
  .description('The ingestion backend of a support platform: inbound email and helpdesk imports into PostgreSQL.')
  .showHelpAfterError()
  .addHelpText('after', '\nSettings come from the environment (DATABASE_URL, DATA_DIR, PORT, HOST, ...): see README.md.');

program
  .command('start')
  .description('migrate, then serve HTTP and run the job workers until SIGINT/SIGTERM')
  .action(async () => runService(config()));

program
  .command('migrate')
  .description("apply intake's migrations and pg-boss's schema, then exit")
  .action(async () => migrateCommand(config()));

const workspace = program.command('workspace').description('manage workspaces');
workspace
  .command('create')
  .description('create a workspace and print its credentials once')
  .requiredOption('--name <name>', 'workspace name')
  .requiredOption('--support-address <email>', 'the address customers write to, e.g. help@acme.com')
  .option('--json', 'print exactly one JSON object on stdout')
  .action(async (options: { name: string; supportAddress: string; json?: boolean }) => workspaceCreateCommand(config(), options));

program
  .command('parse')
  .description('parse emails (.eml raw RFC 822, or Postmark .json) without a database; one JSON line per file')
  .argument('<files...>', 'files to parse')
  .action(async (files: string[]) => {
    process.exitCode = await parseCommand(files);
  });

program
  .command('ingest')
  .description('run the whole inbound pipeline on one email file, into a workspace')
  .argument('<file>', 'a .eml or Postmark .json file')
  .requiredOption('--workspace <id>', 'the workspace to ingest into')
  .action(async (file: string, options: { workspace: string }) => {
    process.exitCode = await ingestCommand(config(), file, options.workspace);
  });

const importing = program.command('import').description('import history from a helpdesk (create-only: never updates what exists)');
importing
  .command('zendesk')
  .description('connect a Zendesk account to a workspace and import it; --once runs the import here in the foreground')
  .requiredOption('--workspace <id>', 'the workspace to import into')
  .requiredOption('--subdomain <name>', 'the Zendesk subdomain (acme for acme.zendesk.com)')
  .option('--email <email>', "an admin's email, with --token")
  .addOption(new Option('--token <token>', 'a Zendesk API token (better: the environment, kept out of ps and shell history)').env('ZENDESK_API_TOKEN'))
  .addOption(new Option('--oauth-token <token>', 'an OAuth access token instead of --email/--token').env('ZENDESK_OAUTH_TOKEN'))
  .option('--base-url <url>', 'another Zendesk base URL (a sandbox, or the fake provider for tests and the demo)')
  .option('--page-size <n>', 'records per export page (1-1000)')
  .option('--schedule-minutes <n>', 'minutes between incremental runs (default 5)')
  .option('--once', 'run the import now, in this process, with a progress bar, and print a summary')
  .option('--json', 'print only one JSON object: the run status and counts per stream')
  .action(async (options: ZendeskImportOptions) => {
    process.exitCode = await importZendeskCommand(config(), options);
  });
importing
  .command('status')
  .description('every import connection with its latest run')
  .option('--workspace <id>', 'only this workspace')
  .option('--json', 'print exactly one JSON object')
  .action(async (options: { workspace?: string; json?: boolean }) => {
    process.exitCode = await importStatusCommand(config(), options);
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(78); // EX_CONFIG
  }
  if (err instanceof InputError) {
    console.error(`${err.message}:\n${err.fields.map((f) => `  - ${f.field}: ${f.message}`).join('\n')}`);
    process.exit(2);
  }
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
}
