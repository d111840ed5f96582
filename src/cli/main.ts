import fs from 'node:fs';
import { Command } from 'commander';
import { loadConfig, type Config } from '../config.ts';
import { migrateCommand, workspaceCreateCommand } from './commands.ts';
import { EXIT, exitFor } from './exit-codes.ts';
import { ingestCommand, parseCommand } from './inbound-commands.ts';
import { addImportCommands } from './import-commands.ts';
import { demoCommand } from './demo.ts';
import { quietOnClosedPipe } from './pipes.ts';
import { runService } from './start.ts';

// `intake parse *.eml | head -1`: the reader going away ends the command quietly, as for any Unix tool.
quietOnClosedPipe(process.stdout);
quietOnClosedPipe(process.stderr);

const { version } = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function config(): Config {
  return loadConfig(process.env);
}

const program = new Command()
  .name('intake')
  .description('The ingestion backend of a support platform: inbound email and helpdesk imports into PostgreSQL.')
  .version(version, '-V, --version', 'print the version of intake')
  .option('--verbose', 'print the stack trace of a failure, not only its one line')
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

program
  .command('demo')
  .description('start a fake provider (zendesk, helpscout, hubspot or salesforce) with generated data, and print how to import it')
  .argument('[provider]', 'the provider to play', 'zendesk')
  .option('--size <n>', 'how many tickets or conversations (contacts for hubspot and salesforce) to generate', '200')
  .option('--port <n>', 'the port to listen on (0: any free port)', '0')
  .option('--workspace <id>', 'the workspace the printed `intake import connect` line imports into (default: the one in DATA_DIR/credentials.json)')
  .action(async (provider: string, options: { size: string; port: string; workspace?: string }) => demoCommand(config(), provider, options));

try {
  await program.parseAsync(process.argv);
} catch (err) {
  const verbose = program.opts<{ verbose?: boolean }>().verbose === true || process.argv.includes('--verbose');
  const { code, message } = exitFor(err);
  // Expected failures are one line already; an unexpected one (a bug) keeps its stack for --verbose.
  const stack = err instanceof Error && err.stack ? err.stack : '';
  if (verbose && stack && !message?.includes(stack)) console.error(`${message ?? ''}\n${stack}`);
  else if (message !== null && !verbose && code === EXIT.failed && message.includes('\n    at ')) {
    console.error(`intake failed: ${message.split('\n')[0]} (run again with --verbose for the stack trace)`);
  } else if (message !== null) console.error(message);
  process.exit(code);
}
