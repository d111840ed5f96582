import { Command } from 'commander';
import { loadConfig, type Config } from '../config.ts';
import { migrateCommand, workspaceCreateCommand } from './commands.ts';
import { exitFor } from './exit-codes.ts';
import { ingestCommand, parseCommand } from './inbound-commands.ts';
import { addImportCommands } from './import-commands.ts';
import { runService } from './start.ts';

function config(): Config {
  return loadConfig(process.env);
}

const program = new Command()
  .name('intake')
  .description('The ingestion backend of a support platform: inbound email and helpdesk imports into PostgreSQL.')
  .showHelpAfterError()
  // Usage errors end in the catch below, so they get the exit code of refused input (exit-codes.ts).
  .exitOverride()
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
  .description('parse emails (.eml raw RFC 822, an mbox export, or Postmark .json) without a database; one JSON line per message')
  .argument('<files...>', 'files to parse')
  .action(async (files: string[]) => {
    process.exitCode = await parseCommand(files);
  });

program
  .command('ingest')
  .description('run the whole inbound pipeline on one email file (every message of an mbox export), into a workspace')
  .argument('<file>', 'a .eml, .mbox or Postmark .json file')
  .requiredOption('--workspace <id>', 'the workspace to ingest into')
  .action(async (file: string, options: { workspace: string }) => {
    process.exitCode = await ingestCommand(config(), file, options.workspace);
  });

addImportCommands(program, config);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  const { code, message } = exitFor(err);
  if (message !== null) console.error(message);
  process.exit(code);
}
