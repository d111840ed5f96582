import { Command } from 'commander';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { InputError } from '../domain/input-error.ts';
import { migrateCommand, workspaceCreateCommand } from './commands.ts';
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
