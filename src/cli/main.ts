import { Command } from 'commander';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { InputError } from '../domain/input-error.ts';
import { migrateCommand, workspaceCreateCommand } from './commands.ts';
import { ingestCommand, parseCommand } from './inbound-commands.ts';
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
